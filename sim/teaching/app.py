"""The classroom app: the Mesa engine in the browser, on Mesa's own SolaraViz.

    python -m sim.app [--port 8765] [--all-params]     # http://127.0.0.1:8765 (sim/app.py starts it)
    solara run sim/teaching/app.py                     # the same, with solara's own options

SolaraViz gives the sidebar: play, step and reset, and the model's controls. The controls are
generated from the one parameter declaration (sim.params.PARAMS): a slider per number and a
checkbox per flag, with the declared range and default; the table under the plots gives each
parameter's unit, meaning and evidence. The sidebar shows the groups a class uses most
(TEACHING_GROUPS); `--all-params` (or SIM_APP_PARAMS=all) shows every parameter.
Change a control, then press Reset: the model is rebuilt with the new values."""

from __future__ import annotations

import html
import math
import os

import matplotlib.dates as mdates
import networkx as nx
import pandas as pd
import solara
from matplotlib import colormaps
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.engines.mesa_model import MilitiaModel
from sim.model.params import MILITIAS, PARAMS
from sim.model.scenario import list_scenarios

SEED = 20211107  # the main job's default seed: replicate r here is replicate r of `python -m sim`
TEACHING_GROUPS = ("patron", "militia", "sadr", "state")
NAMES = ["Badr", "AAH", "KSS", "PMF"]  # short labels, in the order of MILITIAS
COLOURS = ["tab:blue", "tab:orange", "tab:green", "tab:purple"]


# ----------------------------------------------------------------------------- controls


def _step(low: float, high: float, default: float) -> float:
    """A slider step of about a hundredth of the range, rounded down to a power of ten, and finer if
    the declared default would otherwise fall between two steps."""
    step = 10.0 ** math.floor(math.log10((high - low) / 100))
    while step > 1e-6 and not math.isclose((default - low) / step, round((default - low) / step), abs_tol=1e-6):
        step /= 10
    return step


def model_params_from_declaration(groups: tuple[str, ...] | None = None) -> dict:
    """SolaraViz's ``model_params``: a scenario chooser, a replicate slider, then one control per
    declared parameter (of ``groups`` only, if given), in the declaration's order."""
    controls: dict = {
        "scenario": {"type": "Select", "value": "seed_timeline", "values": list_scenarios(), "label": "scenario"},
        "replicate": {"type": "SliderInt", "value": 0, "min": 0, "max": 999, "step": 1,
                      "label": "replicate (another random history)"},
        "seed": SEED,  # a fixed value, not a control
    }  # fmt: skip
    for p in PARAMS:
        if groups is not None and p.group not in groups:
            continue
        if p.kind is bool:
            controls[p.name] = {"type": "Checkbox", "value": p.default, "label": p.name}
        elif p.kind is int:
            controls[p.name] = {"type": "SliderInt", "value": p.default, "label": f"{p.name} ({p.unit})",
                                "min": int(p.low), "max": int(p.high), "step": 1}  # fmt: skip
        else:
            controls[p.name] = {"type": "SliderFloat", "value": p.default, "label": f"{p.name} ({p.unit})",
                                "min": p.low, "max": p.high, "step": _step(p.low, p.high, p.default)}  # fmt: skip
    return controls


def shown_groups() -> tuple[str, ...] | None:
    return None if os.environ.get("SIM_APP_PARAMS") == "all" else TEACHING_GROUPS


# ----------------------------------------------------------------------------- figures


def history(model: MilitiaModel) -> pd.DataFrame:
    """The DataCollector's daily record, indexed by calendar date."""
    df = model.datacollector.get_model_vars_dataframe()
    df.index = pd.date_range(model.scenario.start, periods=len(df), freq="D")
    return df


def new_figure(model: MilitiaModel, title: str, ylabels: list[str]) -> tuple[Figure, list]:
    """A figure with one axes per y label over the whole scenario, its events as numbered dashed lines."""
    fig = Figure(figsize=(6, 1.4 + 1.5 * len(ylabels)), layout="constrained")
    fig.suptitle(title, fontsize=11)
    axes = list(fig.subplots(len(ylabels), 1, sharex=True, squeeze=False)[:, 0])
    for ax, ylabel in zip(axes, ylabels, strict=True):
        ax.set_xlim(pd.Timestamp(model.scenario.start), pd.Timestamp(model.scenario.end))
        for i, ev in enumerate(model.scenario.events, start=1):
            ax.axvline(pd.Timestamp(ev.date), color="0.6", lw=0.8, ls="--", zorder=0)
            ax.annotate(str(i), (pd.Timestamp(ev.date), 1), xycoords=("data", "axes fraction"), fontsize=7,
                        xytext=(2, -9), textcoords="offset points", color="0.4")  # fmt: skip
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%d %b\n%Y"))
    axes[-1].set_xlabel("date (dashed lines: the scenario's events, numbered)")
    return fig, axes


def grievance_figure(model: MilitiaModel) -> Figure:
    fig, (ax_g, ax_d) = new_figure(model, "Militia leaders: grievance and discipline",
                                   ["grievance (0-1)", "discipline (0-1)"])  # fmt: skip
    df = history(model)
    for j, (name, colour) in enumerate(zip(NAMES, COLOURS, strict=True)):
        if len(df):
            ax_g.plot(df.index, df[f"grievance_{j}"], color=colour, label=name)
            ax_d.plot(df.index, df[f"discipline_{j}"], color=colour, label=name)
    ax_g.set_ylim(0, 1)
    ax_d.set_ylim(0, 1)
    ax_g.axhline(model.p.stance_threshold, color="k", lw=0.8, ls=":", label="contest threshold")
    ax_g.legend(fontsize=7, ncol=5, loc="upper left")
    return fig


def activity_figure(model: MilitiaModel) -> Figure:
    fig, (ax,) = new_figure(model, "Militia cells: share active each day", ["share of cells active"])
    ax.set_ylim(0, 1.05)
    df = history(model)
    if len(df):
        for j, (name, colour) in enumerate(zip(NAMES, COLOURS, strict=True)):
            ax.plot(df.index, df[f"share_{j}"], color=colour, label=name)
        ax.plot(df.index, df["violence"], color="k", lw=1.5, ls="--", label="whole camp")
        ax.legend(fontsize=7, ncol=5, loc="upper left")
    return fig


def sadr_figure(model: MilitiaModel) -> Figure:
    fig, (ax,) = new_figure(model, "Sadr's bloc: mobilisation and boycott", ["mobilisation (0-1)"])
    ax.set_ylim(-0.05, 1.05)
    df = history(model)
    if len(df):
        ax.fill_between(df.index, 0, 1 - df["participating"], step="post", color="tab:red", alpha=0.15,
                        label="boycotting")  # fmt: skip
        ax.plot(df.index, df["mobilisation"], color="tab:red", label="armed wing mobilised")
        ax.legend(fontsize=7, loc="upper left")
    return fig


def patron_figure(model: MilitiaModel) -> Figure:
    fig, (ax,) = new_figure(model, "The patron: attention, the tension it reads, interventions", ["index (0-1)"])
    ax.set_ylim(-0.05, 1.1)
    ax.axhline(model.p.patron_trigger, color="tab:purple", lw=0.8, ls=":", label="trigger")
    df = history(model)
    if len(df):
        ax.plot(df.index, df["attention"], color="tab:blue", label="attention")
        ax.plot(df.index, df["tension"], color="tab:purple", label="tension")
        days = df.index[df["intervened"].astype(bool)]
        ax.plot(days, [1.03] * len(days), "D", color="tab:blue", label="intervention")
    ax.legend(fontsize=7, ncol=4, loc="lower left")
    return fig


def violence_figure(model: MilitiaModel) -> Figure:
    fig, (ax,) = new_figure(model, "Attacks on the state and clashes between the camps",
                            ["attacks per day; hazard × 4"])  # fmt: skip
    ax.set_ylim(0, 4.2)
    df = history(model)
    if len(df):
        ax.bar(df.index, df["attacks_state_today"], width=1.0, color="tab:gray", label="attacks on state/PM")
        clash_days = df.index[df["clash"].astype(bool)]
        ax.plot(clash_days, [0.5] * len(clash_days), "v", color="tab:red", label="clash")
        ax.plot(df.index, 4 * df["hazard"], color="tab:red", lw=1, label="clash hazard × 4")
        ax.legend(fontsize=7, ncol=3, loc="upper left")
    return fig


def cohesion_figure(model: MilitiaModel) -> Figure:
    fig, (ax,) = new_figure(model, "Cohesion: within the militias and of the Shi'ite house", ["cohesion (0-1)"])
    ax.set_ylim(0, 1.05)
    df = history(model)
    if len(df):
        ax.plot(df.index, df["cohesion_within"], color="tab:green", label="within militias")
        ax.plot(df.index, df["cohesion_house"], color="tab:brown", label="house (1 - rivalry)")
        ax.legend(fontsize=7, loc="lower left")
    return fig


POSITIONS = {"patron": (0, 1.0), "sadr": (-1.1, -0.9), "pm": (1.1, -0.9)} | {
    m.key: (-1.2 + 0.8 * j, 0.0) for j, m in enumerate(MILITIAS)
}


def actor_graph(model: MilitiaModel) -> nx.Graph:
    """Patron, militias, Sadr's bloc and the PM; edges weighted by leverage or hostility, as of now."""
    g = nx.Graph()
    for ld in model.leaders:
        g.add_edge("patron", ld.key, kind="leverage", weight=float(ld.leverage()))
        g.add_edge(ld.key, "sadr", kind="hostility", weight=float(model.rivalry))
        g.add_edge(ld.key, "pm", kind="hostility", weight=float(ld.share))  # active cells attack the state
    return g


def actors_figure(model: MilitiaModel) -> Figure:
    g = actor_graph(model)
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.set_axis_off()
    for kind, cmap, vmax in (("leverage", colormaps["Blues"], 0.5), ("hostility", colormaps["Reds"], 1.0)):
        edges = [(u, v) for u, v, d in g.edges(data=True) if d["kind"] == kind]
        w = [g.edges[e]["weight"] for e in edges]
        nx.draw_networkx_edges(g, POSITIONS, edgelist=edges, ax=ax, width=[1 + 10 * x for x in w],
                               edge_color=[cmap(0.2 + 0.8 * min(x / vmax, 1)) for x in w])  # fmt: skip
    colour = {"patron": "tab:blue", "pm": "0.75", "sadr": "tab:olive" if model.sadr.participating else "tab:red"}
    colour |= {ld.key: "tab:red" if ld.contests else "tab:green" for ld in model.leaders}
    size = {"patron": 600 + 1400 * float(model.patron.attention), "pm": 900,
            "sadr": 600 + 2000 * float(model.sadr.mobilisation)}  # fmt: skip
    size |= {ld.key: 500 + 2500 * float(ld.share) for ld in model.leaders}
    nodes = list(POSITIONS)
    nx.draw_networkx_nodes(g, POSITIONS, nodelist=nodes, ax=ax, alpha=0.85,
                           node_color=[colour[n] for n in nodes], node_size=[size[n] for n in nodes])  # fmt: skip
    labels = {"patron": "patron\n(Quds Force)", "sadr": "Sadr's\nbloc", "pm": "PM /\nstate"}
    labels |= {m.key: name for m, name in zip(MILITIAS, NAMES, strict=True)}
    nx.draw_networkx_labels(g, POSITIONS, labels=labels, ax=ax, font_size=8)
    ax.set_title("The actors. Blue: the patron's leverage; red: hostility (rivalry with Sadr; active cells against "
                 "the state).\nDarker and thicker = more. Militia red = contesting, green = restraining; Sadr red = "
                 "boycotting.\nSize: patron's attention, Sadr's mobilisation, militia's active cells.",
                 fontsize=7, loc="left")  # fmt: skip
    if model.patron.intervened and model.day > 0:
        ax.text(0, 1.3, "the patron intervened today", ha="center", color="tab:blue", fontsize=9)
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.3, 1.45)
    return fig


FIGURES = {"grievance": grievance_figure, "activity": activity_figure, "sadr": sadr_figure,
           "patron": patron_figure, "violence": violence_figure, "cohesion": cohesion_figure}  # fmt: skip


# ----------------------------------------------------------------------------- the page


def show(fig: Figure, name: str):
    """The figure as a PNG, in a box the browser test finds by its class (sim-plot-<name>)."""
    with solara.Column(classes=[f"sim-plot-{name}"]) as box:
        solara.FigureMatplotlib(fig, format="png", dpi=80)
    return box


def today(model: MilitiaModel) -> tuple[str, str]:
    """The last simulated day's date, and its events and the next one, in words."""
    sc, day = model.scenario, model.day - 1
    if day < 0:
        return f"{sc.start:%A %d %B %Y}: before the first day (press Step)", ""
    upcoming = next((e for e in sc.events if e.day > day), None)
    events = "; ".join(e.label for e in sc.events_on(day)) or "no scheduled event"
    nxt = f" Next: {upcoming.label}, {upcoming.date:%d %B %Y}." if upcoming else ""
    return f"{sc.date_of(day):%A %d %B %Y} (day {day} of {sc.days - 1})", f"Today: {events}.{nxt}"


def changed_parameters(model: MilitiaModel) -> str:
    """The parameters this model runs with that differ from the declared defaults."""
    changed = [f"{p.name} = {getattr(model.p, p.name):g} {p.unit}" for p in PARAMS
               if getattr(model.p, p.name) != p.default]  # fmt: skip
    return "Parameters changed from the defaults: " + ("; ".join(changed) if changed else "none") + "."


def parameter_table() -> str:
    """Every declared parameter: range, default, unit, meaning, evidence (HTML, generated)."""
    rows = "".join(
        f"<tr><td><code>{p.name}</code></td><td>{p.group}</td><td>[{p.low:g}, {p.high:g}]</td><td>{p.default}</td>"
        f"<td>{html.escape(p.unit)}</td><td>{html.escape(p.description)}</td><td>{html.escape(p.evidence)}</td></tr>"
        for p in PARAMS
    )
    head = "".join(f"<th>{h}</th>" for h in ("parameter", "group", "range", "default", "unit", "meaning", "evidence"))
    return f'<table style="font-size: 0.85em"><tr>{head}</tr>{rows}</table>'


@solara.component
def Dashboard(model: solara.Reactive):
    """Date, actors and plots; re-drawn whenever SolaraViz steps or resets the model."""
    update_counter.get()  # SolaraViz bumps this counter after every step
    m = model.value
    heading, events = today(m)
    with solara.Column(style={"padding": "12px"}):
        solara.Text(f"{m.scenario.name}: {m.scenario.description} (replicate {m.replicate}, seed {m.seed_value})")
        solara.Text(heading, classes=["sim-date"], style={"font-size": "1.3em", "font-weight": "bold"})
        solara.Text(events)
        solara.Text(changed_parameters(m), style={"font-size": "0.9em"})
        with solara.Columns([1, 1]):
            show(actors_figure(m), "actors")
            show(grievance_figure(m), "grievance")
        for left, right in (("activity", "sadr"), ("patron", "violence")):
            with solara.Columns([1, 1]):
                show(FIGURES[left](m), left)
                show(FIGURES[right](m), right)
        with solara.Columns([1, 1]):
            show(cohesion_figure(m), "cohesion")
        with solara.Details("Parameters: range, default, unit, meaning and evidence"):
            solara.HTML(tag="div", unsafe_innerHTML=parameter_table())


# Mesa's sidebar labels sit left of the slider and squeeze it; put each label on its own line.
SIDEBAR_CSS = """
.v-input__slider .v-input__slot { flex-wrap: wrap; }
.v-input__slider .v-input__slot > .v-label { width: 100%; height: auto; line-height: 1.25; white-space: normal; }
.v-input__slider .v-slider { min-width: 100%; }
"""


@solara.component
def Page():
    """One model per browser session, built from the controls' defaults."""
    params = model_params_from_declaration(shown_groups())
    first = solara.use_memo(lambda: MilitiaModel(**{k: v["value"] if isinstance(v, dict) else v
                                                for k, v in params.items()}), [])  # fmt: skip
    model = solara.use_reactive(first)
    solara.Style(SIDEBAR_CSS)
    # SolaraViz draws the sidebar (play, step, reset, controls); the plots are the Dashboard below, not
    # Mesa's draggable grid, which crops the figures and needs ipyvuetify < 3 for its tabs.
    SolaraViz(model, components=[], model_params=params, name="Militia cohesion and patron intervention")
    Dashboard(model)
