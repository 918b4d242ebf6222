"""The classroom app: the Mesa engine in the browser, on Mesa's own SolaraViz.

    python -m sim.app [--port 8765] [--all-params]     # http://127.0.0.1:8765 (sim/app.py starts it)
    solara run sim/teaching/app.py                     # the same, with solara's own options

SolaraViz gives the sidebar: play, step and reset, and the model's controls. The controls are
generated from the one parameter declaration (sim.params.PARAMS): a slider per number and a
checkbox per flag, with the declared range and default; the table under the plots gives each
parameter's unit, meaning and evidence. The sidebar shows the groups a class uses most
(TEACHING_GROUPS, among them the rival mechanisms: one slider per mechanism, its label naming each
alternative's number); `--all-params` (or SIM_APP_PARAMS=all) shows every parameter.
Change a control, then press Reset: the model is rebuilt with the new values."""

from __future__ import annotations

import functools
import html
import io
import math
import os
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import matplotlib.dates as mdates
import networkx as nx
import numpy as np
import pandas as pd
import PIL.Image
import solara
from matplotlib import colormaps
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

# Two start-up warnings that are not ours to fix, silenced by their exact text (see README, Teaching):
# - solara's rules-of-hooks check flags Mesa's ComponentsView (an early return before a hook). The page passes
#   no components, so that return is taken on every render and the hooks' order never changes: harmless.
#   It fires when Mesa's module is imported, so the filter goes first.
# - solara asks for https to set its session cookie with SameSite=None (for pages embedded in an iframe) and
#   falls back to SameSite=Lax on plain http; the app is a page of its own, where Lax is what it needs.
warnings.filterwarnings("ignore", message=r".*solara_viz\.py:\d+: ComponentsView: `use_state` found despite early")
warnings.filterwarnings("ignore", message=r"Cookies with samesite=none require https")
# Solara's "This website runs on Solara" banner sits fixed over the page's bottom right, on top of the panel
# there: off (the setting is read when a page is served; SOLARA_THEME_SHOW_BANNER=false does the same).
import solara.server.settings  # noqa: E402

solara.server.settings.theme.show_banner = False
from mesa.visualization import SolaraViz  # noqa: E402
from mesa.visualization.utils import update_counter  # noqa: E402

from sim.analysis.run_figure import event_marks  # noqa: E402
from sim.engines.mesa_model import MilitiaModel  # noqa: E402
from sim.model.params import MILITIAS, PARAMS  # noqa: E402
from sim.model.scenario import list_scenarios  # noqa: E402
from sim.teaching import ensemble  # noqa: E402

SEED = 20211107  # the main job's default seed: replicate r here is replicate r of `python -m sim`
TEACHING_GROUPS = ("patron", "militia", "sadr", "state", "structure")
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
#
# Each plot is built once per model with empty data (axes, limits, event lines, legends: the static parts), and
# an update function sets the data of the artists that change from the model's record. The page keeps the
# figures and redraws only those artists onto a cached image of the static parts (LivePlot): a Step costs a few
# milliseconds per plot instead of a full figure layout and render. The *_figure functions give a whole,
# ordinary figure (for tests, notebooks and screenshots).

DPI = 80  # the page shows the plots at this resolution
Update = Callable[[pd.DataFrame], list[Artist]]


def history(model: MilitiaModel) -> pd.DataFrame:
    """The DataCollector's daily record, indexed by calendar date."""
    df = model.datacollector.get_model_vars_dataframe()
    df.index = pd.date_range(model.scenario.start, periods=len(df), freq="D")
    return df


def new_figure(model: MilitiaModel, title: str, ylabels: list[str]) -> tuple[Figure, list]:
    """A figure with one axes per y label over the whole scenario, its events as numbered dashed lines."""
    fig = Figure(figsize=(6, 1.4 + 1.5 * len(ylabels)), dpi=DPI, layout="constrained")
    fig.suptitle(title, fontsize=11)
    axes = list(fig.subplots(len(ylabels), 1, sharex=True, squeeze=False)[:, 0])
    for ax, ylabel in zip(axes, ylabels, strict=True):
        ax.set_xlim(pd.Timestamp(model.scenario.start), pd.Timestamp(model.scenario.end))
        for ev in model.scenario.events:
            ax.axvline(pd.Timestamp(ev.date), color="0.6", lw=0.8, ls="--", zorder=0)
        for x, text, level in event_marks(model.scenario):  # one label a day, staggered where they crowd
            ax.annotate(text, (x, 1), xycoords=("data", "axes fraction"), fontsize=7,
                        xytext=(2, -9 - 8 * level), textcoords="offset points", color="0.4")  # fmt: skip
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%d %b\n%Y"))
    axes[-1].set_xlabel("date (dashed lines: the scenario's events, numbered)")
    return fig, axes


def _days(df: pd.DataFrame) -> np.ndarray:
    """The record's dates as matplotlib date numbers (what a date axis plots)."""
    return mdates.date2num(df.index)


def _edges(df: pd.DataFrame) -> np.ndarray:
    """Day boundaries for step patches: each day a full day wide, centred on its date."""
    return np.append(_days(df), _days(df)[-1:] + 1) - 0.5 if len(df) else np.zeros(1)


def _lines(ax, n: int, **kwargs) -> list[Line2D]:
    return [ax.plot([], [], **{k: v[i] if isinstance(v, list) else v for k, v in kwargs.items()})[0] for i in range(n)]


def grievance_plot(model: MilitiaModel) -> tuple[Figure, Update]:
    fig, (ax_g, ax_d) = new_figure(model, "Militia leaders: grievance and discipline",
                                   ["grievance (0-1)", "discipline (0-1)"])  # fmt: skip
    grievance = _lines(ax_g, len(NAMES), color=COLOURS, label=NAMES)
    discipline = _lines(ax_d, len(NAMES), color=COLOURS, label=NAMES)
    ax_g.set_ylim(0, 1)
    ax_d.set_ylim(0, 1)
    ax_g.axhline(model.p.stance_threshold, color="k", lw=0.8, ls=":", label="contest threshold")
    ax_g.legend(fontsize=7, ncol=5, loc="upper left")

    def update(df: pd.DataFrame) -> list[Artist]:
        x = _days(df)
        for j in range(len(NAMES)):
            grievance[j].set_data(x, df[f"grievance_{j}"])
            discipline[j].set_data(x, df[f"discipline_{j}"])
        return [*grievance, *discipline]

    return fig, update


def activity_plot(model: MilitiaModel) -> tuple[Figure, Update]:
    fig, (ax,) = new_figure(model, "Militia cells: share active each day", ["share of cells active"])
    ax.set_ylim(0, 1.05)
    shares = _lines(ax, len(NAMES), color=COLOURS, label=NAMES)
    (camp,) = ax.plot([], [], color="k", lw=1.5, ls="--", label="whole camp")
    ax.legend(fontsize=7, ncol=5, loc="upper left")

    def update(df: pd.DataFrame) -> list[Artist]:
        x = _days(df)
        for j, line in enumerate(shares):
            line.set_data(x, df[f"share_{j}"])
        camp.set_data(x, df["violence"])
        return [*shares, camp]

    return fig, update


def sadr_plot(model: MilitiaModel) -> tuple[Figure, Update]:
    fig, (ax,) = new_figure(model, "Sadr's bloc: mobilisation and boycott", ["mobilisation (0-1)"])
    ax.set_ylim(-0.05, 1.05)
    boycott = ax.stairs([], [0.0], baseline=0, fill=True, color="tab:red", alpha=0.15, label="boycotting")
    (mobilised,) = ax.plot([], [], color="tab:red", label="armed wing mobilised")
    ax.legend(fontsize=7, loc="upper left")

    def update(df: pd.DataFrame) -> list[Artist]:
        boycott.set_data(1 - df["participating"].to_numpy(), _edges(df))
        mobilised.set_data(_days(df), df["mobilisation"])
        return [boycott, mobilised]

    return fig, update


def patron_plot(model: MilitiaModel) -> tuple[Figure, Update]:
    fig, (ax,) = new_figure(model, "The patron: attention, the tension it reads, interventions", ["index (0-1)"])
    ax.set_ylim(-0.05, 1.1)
    ax.axhline(model.p.patron_trigger, color="tab:purple", lw=0.8, ls=":", label="trigger")
    (attention,) = ax.plot([], [], color="tab:blue", label="attention")
    (tension,) = ax.plot([], [], color="tab:purple", label="tension")
    (visits,) = ax.plot([], [], "D", color="tab:blue", label="intervention")
    ax.legend(fontsize=7, ncol=4, loc="lower left")

    def update(df: pd.DataFrame) -> list[Artist]:
        x = _days(df)
        attention.set_data(x, df["attention"])
        tension.set_data(x, df["tension"])
        days = x[df["intervened"].to_numpy().astype(bool)]
        visits.set_data(days, np.full(len(days), 1.03))
        return [attention, tension, visits]

    return fig, update


def violence_plot(model: MilitiaModel) -> tuple[Figure, Update]:
    fig, (ax,) = new_figure(model, "Attacks on the state and clashes between the camps",
                            ["attacks per day; hazard × 4"])  # fmt: skip
    ax.set_ylim(0, 4.2)
    attacks = ax.stairs([], [0.0], baseline=0, fill=True, color="tab:gray", label="attacks on state/PM")
    (clashes,) = ax.plot([], [], "v", color="tab:red", label="clash")
    (hazard,) = ax.plot([], [], color="tab:red", lw=1, label="clash hazard × 4")
    ax.legend(fontsize=7, ncol=3, loc="upper left")

    def update(df: pd.DataFrame) -> list[Artist]:
        x = _days(df)
        attacks.set_data(df["attacks_state_today"].to_numpy(dtype=float), _edges(df))
        days = x[df["clash"].to_numpy().astype(bool)]
        clashes.set_data(days, np.full(len(days), 0.5))
        hazard.set_data(x, 4 * df["hazard"])
        return [attacks, clashes, hazard]

    return fig, update


def cohesion_plot(model: MilitiaModel) -> tuple[Figure, Update]:
    fig, (ax,) = new_figure(model, "Cohesion: within the militias and of the Shi'ite house", ["cohesion (0-1)"])
    ax.set_ylim(0, 1.05)
    (within,) = ax.plot([], [], color="tab:green", label="within militias")
    (house,) = ax.plot([], [], color="tab:brown", label="house (1 - rivalry)")
    ax.legend(fontsize=7, loc="lower left")

    def update(df: pd.DataFrame) -> list[Artist]:
        within.set_data(_days(df), df["cohesion_within"])
        house.set_data(_days(df), df["cohesion_house"])
        return [within, house]

    return fig, update


POSITIONS = {"patron": (0, 1.0), "sadr": (-1.1, -0.9), "pm": (1.1, -0.9)} | {
    m.key: (-1.2 + 0.8 * j, 0.0) for j, m in enumerate(MILITIAS)
}
EDGE_STYLE = {"leverage": (colormaps["Blues"], 0.5), "hostility": (colormaps["Reds"], 1.0)}  # map, full weight


def actor_graph(model: MilitiaModel) -> nx.Graph:
    """Patron, militias, Sadr's bloc and the PM; edges weighted by leverage or hostility, as of now."""
    g = nx.Graph()
    for ld in model.leaders:
        g.add_edge("patron", ld.key, kind="leverage", weight=float(ld.leverage()))
        g.add_edge(ld.key, "sadr", kind="hostility", weight=float(model.rivalry))
        g.add_edge(ld.key, "pm", kind="hostility", weight=float(ld.share))  # active cells attack the state
    return g


def actors_plot(model: MilitiaModel) -> tuple[Figure, Callable[[MilitiaModel], list[Artist]]]:
    """The actors as a graph of today's state; its update reads the model itself, not the record."""
    fig = Figure(figsize=(6, 3.6), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    ax.set_axis_off()
    ax.set_title("The actors. Blue: the patron's leverage; red: hostility (rivalry with Sadr; active cells against "
                 "the state).\nDarker and thicker = more. Militia red = contesting, green = restraining; Sadr red = "
                 "boycotting.\nSize: patron's attention, Sadr's mobilisation, militia's active cells.",
                 fontsize=7, loc="left")  # fmt: skip
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.3, 1.45)
    g = actor_graph(model)
    edges = {kind: [(u, v) for u, v, d in g.edges(data=True) if d["kind"] == kind] for kind in EDGE_STYLE}
    drawn = {kind: nx.draw_networkx_edges(g, POSITIONS, edgelist=edges[kind], ax=ax) for kind in EDGE_STYLE}
    nodes = list(POSITIONS)
    circles = nx.draw_networkx_nodes(g, POSITIONS, nodelist=nodes, ax=ax, alpha=0.85)
    labels = {"patron": "patron\n(Quds Force)", "sadr": "Sadr's\nbloc", "pm": "PM /\nstate"}
    labels |= {m.key: name for m, name in zip(MILITIAS, NAMES, strict=True)}
    texts = list(nx.draw_networkx_labels(g, POSITIONS, labels=labels, ax=ax, font_size=8).values())
    visit = ax.text(0, 1.3, "the patron intervened today", ha="center", color="tab:blue", fontsize=9)

    def update(m: MilitiaModel) -> list[Artist]:
        now = actor_graph(m)
        for kind, (cmap, vmax) in EDGE_STYLE.items():
            w = [now.edges[e]["weight"] for e in edges[kind]]
            drawn[kind].set_linewidths([1 + 10 * x for x in w])
            drawn[kind].set_colors([cmap(0.2 + 0.8 * min(x / vmax, 1)) for x in w])
        colour = {"patron": "tab:blue", "pm": "0.75", "sadr": "tab:olive" if m.sadr.participating else "tab:red"}
        colour |= {ld.key: "tab:red" if ld.contests else "tab:green" for ld in m.leaders}
        size = {"patron": 600 + 1400 * float(m.patron.attention), "pm": 900,
                "sadr": 600 + 2000 * float(m.sadr.mobilisation)}  # fmt: skip
        size |= {ld.key: 500 + 2500 * float(ld.share) for ld in m.leaders}
        circles.set_facecolor([colour[n] for n in nodes])
        circles.set_sizes([size[n] for n in nodes])
        visit.set_visible(bool(m.patron.intervened) and m.day > 0)
        return [*drawn.values(), circles, *texts, visit]

    return fig, update


PLOTS = {"grievance": grievance_plot, "activity": activity_plot, "sadr": sadr_plot,
         "patron": patron_plot, "violence": violence_plot, "cohesion": cohesion_plot}  # fmt: skip


def _whole(plot: Callable[[MilitiaModel], tuple[Figure, Update]], model: MilitiaModel) -> Figure:
    fig, update = plot(model)
    update(history(model))
    return fig


def grievance_figure(model: MilitiaModel) -> Figure:
    return _whole(grievance_plot, model)


def activity_figure(model: MilitiaModel) -> Figure:
    return _whole(activity_plot, model)


def sadr_figure(model: MilitiaModel) -> Figure:
    return _whole(sadr_plot, model)


def patron_figure(model: MilitiaModel) -> Figure:
    return _whole(patron_plot, model)


def violence_figure(model: MilitiaModel) -> Figure:
    return _whole(violence_plot, model)


def cohesion_figure(model: MilitiaModel) -> Figure:
    return _whole(cohesion_plot, model)


FIGURES = {"grievance": grievance_figure, "activity": activity_figure, "sadr": sadr_figure,
           "patron": patron_figure, "violence": violence_figure, "cohesion": cohesion_figure}  # fmt: skip


def actors_figure(model: MilitiaModel) -> Figure:
    """The actors' graph of ``model`` today, as a whole figure."""
    fig, update = actors_plot(model)
    update(model)
    return fig


class LivePlot:
    """A figure kept between steps: its static parts are drawn once (the layout too) and kept as an image;
    each ``png`` sets the changing artists' data and draws only them on a copy of that image, then lays the
    legends' pixels, cut from the first full draw, back over them (as a whole figure has its legends on top)."""

    def __init__(self, fig: Figure, update: Callable[[Any], list[Artist]]) -> None:
        self.fig, self.update = fig, update
        self.canvas = FigureCanvasAgg(fig)
        self.background = None
        self.legends: list = []

    def png(self, data: Any) -> bytes:
        artists = self.update(data)
        if self.background is None:
            for artist in artists:
                artist.set_animated(True)  # left out of a full draw
            self.canvas.draw()  # lays out the figure once (constrained layout) and draws the static parts
            self.fig.set_layout_engine("none")  # keep that layout: the changing artists never move the axes
            self.background = self.canvas.copy_from_bbox(self.fig.bbox)
            legends = [ax.get_legend() for ax in self.fig.axes if ax.get_legend() is not None]
            self.legends = [self.canvas.copy_from_bbox(lg.get_window_extent().padded(1)) for lg in legends]
        else:
            self.canvas.restore_region(self.background)
        for artist in artists:
            self.fig.draw_artist(artist)
        for legend in self.legends:  # drawing a legend anew costs more than all the lines
            self.canvas.restore_region(legend)
        rgb = np.asarray(self.canvas.buffer_rgba())[..., :3]
        out = io.BytesIO()
        PIL.Image.fromarray(rgb).save(out, format="png", compress_level=3)
        return out.getvalue()


class LivePlots:
    """The page's seven plots for one scenario and its drawn thresholds; kept across Reset when those stay."""

    def __init__(self, model: MilitiaModel) -> None:
        self.plots = {"actors": LivePlot(*actors_plot(model))} | {
            name: LivePlot(*plot(model)) for name, plot in PLOTS.items()
        }
        self.lock = threading.Lock()  # one page's renders may come from the play thread and a click
        self.last: tuple[Any, int, dict[str, bytes]] | None = None

    @staticmethod
    def key(model: MilitiaModel) -> tuple:
        """What the static parts show: the scenario's dates and events, and the drawn thresholds."""
        sc = model.scenario
        return sc.name, sc.start, sc.end, tuple(sc.events), model.p.stance_threshold, model.p.patron_trigger

    def images(self, model: MilitiaModel) -> dict[str, bytes]:
        """PNG bytes of every plot of ``model`` as it is now (the same bytes again if it has not moved)."""
        with self.lock:
            if self.last is not None and self.last[0] is model and self.last[1] == model.day:
                return self.last[2]
            df = history(model)
            images = {name: live.png(model if name == "actors" else df) for name, live in self.plots.items()}
            self.last = (model, model.day, images)
            return images


# ----------------------------------------------------------------------------- the page


def show(png: bytes, name: str):
    """A plot's PNG, in a box the browser test finds by its class (sim-plot-<name>)."""
    with solara.Column(classes=[f"sim-plot-{name}"]) as box:
        solara.Image(png, format="png")
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


@functools.cache
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
    plots = solara.use_memo(lambda: LivePlots(m), [LivePlots.key(m)])  # new figures only for a new scenario
    images = plots.images(m)
    heading, events = today(m)
    with solara.Column(style={"padding": "12px"}):
        solara.Text(f"{m.scenario.name}: {m.scenario.description} (replicate {m.replicate}, seed {m.seed_value})")
        solara.Text(heading, classes=["sim-date"], style={"font-size": "1.3em", "font-weight": "bold"})
        solara.Text(events)
        solara.Text(changed_parameters(m), style={"font-size": "0.9em"})
        for left, right in (("actors", "grievance"), ("activity", "sadr"), ("patron", "violence")):
            with solara.Columns([1, 1]):
                show(images[left], left)
                show(images[right], right)
        with solara.Columns([1, 1]):
            show(images["cohesion"], "cohesion")
        EnsemblePanel(m)
        with solara.Details("Parameters: range, default, unit, meaning and evidence"):
            solara.HTML(tag="div", unsafe_innerHTML=parameter_table())


NOTHING, PINNED = "nothing", "the pinned settings"


def comparison_choices(pinned: bool) -> list[str]:
    """What the ensemble view can compare the sidebar's settings with."""
    return [NOTHING, *(f"counterfactual: {c}" for c in ensemble.counterfactuals()), *([PINNED] if pinned else [])]


def comparison(setting: ensemble.Setting, choice: str, pinned: ensemble.Setting | None) -> ensemble.Setting | None:
    """The second setting of the view: a counterfactual on top of the sidebar's settings, or the pinned ones."""
    if choice == PINNED:
        return pinned
    if choice.startswith("counterfactual: "):
        return ensemble.with_counterfactual(setting, choice.removeprefix("counterfactual: "))
    return None


def run_view(settings: list[ensemble.Setting], replicates: int, progress, cancelled) -> dict | None:
    """The ensemble view's work, off the page's thread: each setting's runs, its lines and the figure's PNG.
    ``progress(done, total)`` counts histories; None if cancelled."""
    start, results = time.perf_counter(), []
    total = replicates * len(settings)
    for i, setting in enumerate(settings):
        e = ensemble.run_ensemble(setting, replicates, progress=lambda d, i=i: progress(i * replicates + d, total),
                                  cancelled=cancelled)  # fmt: skip
        if e is None:
            return None
        results.append(e)
    lines = [ensemble.describe(e) for e in results]
    if len(results) == 2:
        lines.append(ensemble.describe_pair(*results))
    seconds = time.perf_counter() - start
    fig = ensemble.figure(results, dpi=DPI)
    out = io.BytesIO()
    FigureCanvasAgg(fig).print_png(out)
    return {"lines": lines, "png": out.getvalue(), "seconds": seconds, "total": total, "replicates": replicates,
            "settings": len(settings)}  # fmt: skip


def done_text(result: dict) -> str:
    """The status line of a finished view: histories per setting, not their sum (1,000 each, not 2,000)."""
    n, k = result["replicates"], result["settings"]
    per = f"{n:,} histories" + (f" per setting, {k} settings" if k > 1 else "")
    return f"done: {per} in {result['seconds']:.1f} s"


@solara.component
def EnsemblePanel(model: MilitiaModel):
    """Many histories at once: N replicates of the sidebar's settings (as of the last Reset) on the vector
    engine, and of a second setting beside them, in a background thread with progress and a Cancel button."""
    replicates = solara.use_reactive("1000")
    choice = solara.use_reactive("counterfactual: no_patron")
    pinned = solara.use_reactive(None)
    done = solara.use_reactive((0, 0))
    setting = ensemble.Setting.of_model(model, "sidebar")

    def work():
        other = comparison(setting, choice.value, pinned.value)
        settings = [setting] if other is None else [setting, other]
        return run_view(settings, int(replicates.value), lambda d, t: done.set((d, t)),
                        cancelled=lambda: not task.is_current())  # fmt: skip

    task = solara.lab.use_task(work, dependencies=None, raise_error=False)
    with solara.Card("Many histories: how often does it escalate?", classes=["sim-ensemble"]):
        # HTML, not solara.Markdown: Markdown fetches katex (for maths) from a CDN, which fails offline
        solara.HTML(tag="p", unsafe_innerHTML="Runs many replicates of the sidebar's settings (as of the last "
                    "<em>Reset</em>) on the vector engine, and of a second setting beside them. Replicate <em>r</em> "
                    "is replicate <em>r</em> of <code>python -m sim</code> with the same seed, so two settings are "
                    "paired.")  # fmt: skip
        with solara.Row():
            solara.Select("replicates", values=[str(n) for n in ensemble.REPLICATE_CHOICES], value=replicates)
            solara.Select("compare with", values=comparison_choices(pinned.value is not None), value=choice)
            solara.Button("Pin these settings", on_click=lambda: pinned.set(ensemble.Setting.of_model(
                model, f"pinned ({model.scenario.name}; {changed_parameters(model).split(': ', 1)[1].rstrip('.')})")),
                disabled=task.pending)  # fmt: skip
            solara.Button("Run ensemble", on_click=lambda: (done.set((0, int(replicates.value))), task()),
                          disabled=task.pending, color="primary")  # fmt: skip
            solara.Button("Cancel", on_click=task.cancel, disabled=not task.pending)
        d, t = done.value
        if task.pending:
            solara.ProgressLinear(value=100 * d / t if t else True)
            solara.Text(f"running: {d:,} of {t:,} histories", classes=["sim-ensemble-status"])
        elif task.cancelled:
            solara.Text(f"cancelled after {d:,} of {t:,} histories: no result", classes=["sim-ensemble-status"])
        elif task.error:
            solara.Error(f"the ensemble failed: {task.exception}")
        elif task.finished and task.value is not None:
            r = task.value
            solara.Text(done_text(r), classes=["sim-ensemble-status"])
            with solara.Column(classes=["sim-ensemble-result"]):
                for line in r["lines"]:
                    solara.Text(line)
            show(r["png"], "ensemble")


# Mesa's sidebar labels sit left of the slider and squeeze it; put each label on its own line. Mesa builds its
# sliders without a value readout, but Vuetify renders each one's thumb label, hidden until dragged: show it
# always, with room above the track, so that every slider shows its value.
SIDEBAR_CSS = """
.v-input__slider .v-input__slot { flex-wrap: wrap; }
.v-input__slider .v-input__slot > .v-label { width: 100%; height: auto; line-height: 1.25; white-space: normal; }
.v-input__slider .v-slider { min-width: 100%; margin-top: 34px; }
.v-input__slider .v-slider__thumb-label-container { display: block !important; }
.v-input__slider .v-slider__thumb-label { font-size: 11px; }
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
