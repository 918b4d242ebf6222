"""The app's ensemble view without the app: many replicates of one setting on the vector engine, read as
probabilities with Wilson intervals, a second setting side by side, and the figure the panel shows.

Replicate r here is replicate r of ``python -m sim`` with the same seed and settings (the same keyed random
numbers), so the view with 2000 replicates shows the command line's numbers, and two settings are paired."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure

from sim.analysis.stats import wilson_interval
from sim.model.params import Militia, make_params
from sim.model.scenario import Scenario
from sim.paths import CONFIG_DIR
from sim.run.simulate import iter_chunks

SEED = 20211107  # the main job's default seed (as the app's)
REPLICATE_CHOICES = (100, 500, 1000, 2000, 5000, 10_000)
LOW, HIGH = REPLICATE_CHOICES[0], REPLICATE_CHOICES[-1]
OUTCOMES = ("escalated", "escalation_day", "sustained", "first_clash_day", "clashes", "attacks_state", "interventions")


class EnsembleError(ValueError):
    """A setting or a size the view cannot run (one line)."""


@dataclass(frozen=True)
class Setting:
    """What one column of the view runs: a scenario, the parameters and the militias, and its name."""

    label: str
    scenario: Scenario
    params: Any
    militias: tuple[Militia, ...]

    @classmethod
    def of_model(cls, model: Any, label: str = "the sidebar's settings") -> Setting:
        """The settings the app's model was built with (the sidebar, as of the last Reset)."""
        return cls(label, model.scenario, model.p, tuple(model.militia_table))


def counterfactuals() -> list[str]:
    """The counterfactuals of configs/counterfactual/ (without ``none``), by file name."""
    return sorted(p.stem for p in (CONFIG_DIR / "counterfactual").glob("*.yaml") if p.stem != "none")


def with_counterfactual(setting: Setting, name: str) -> Setting:
    """``setting`` with a counterfactual applied on top, as ``python -m sim counterfactual=<name>`` with the
    same overrides applies it: its ``params`` replace those values, its ``drop_events`` remove those events."""
    path = CONFIG_DIR / "counterfactual" / f"{name}.yaml"
    if name not in counterfactuals():
        raise EnsembleError(f"counterfactual={name} is not one of {', '.join(counterfactuals())}")
    spec = yaml.safe_load(path.read_text()) or {}
    unknown = set(spec) - {"params", "drop_events"}
    if unknown:
        raise EnsembleError(f"counterfactual {name} sets {sorted(unknown)}: the view applies params and drop_events")
    params = make_params({**dataclasses.asdict(setting.params), **(spec.get("params") or {})})
    scenario = setting.scenario.without(*spec.get("drop_events", []))
    return Setting(f"{setting.label} + {name}", scenario, params, setting.militias)


@dataclass(frozen=True)
class Ensemble:
    """Per-run outcomes of replicates 0..n-1 of one setting (OUTCOMES, one array each)."""

    setting: Setting
    seed: int
    runs: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return len(self.runs["escalated"])


def run_ensemble(
    setting: Setting,
    replicates: int,
    *,
    seed: int = SEED,
    progress: Callable[[int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    workers: int | None = None,
) -> Ensemble | None:
    """Replicates 0..n-1 of ``setting`` on the vector engine, in chunks on every core; ``progress(done)`` after
    each chunk; returns None as soon as ``cancelled()`` is true (checked between chunks)."""
    if not LOW <= replicates <= HIGH:
        raise EnsembleError(f"replicates={replicates} is out of range: allowed [{LOW}, {HIGH}]")
    # About 10 chunks: progress moves, and a cancel waits for at most a few chunks in flight. Smaller chunks
    # cost more per replicate (the engine's per-day overhead: 1000 replicates took 1.4 s in chunks of 100,
    # 0.8 s in chunks of 250 and 0.7 s in 500 on 2 cores), so not below 250.
    chunk = max(250, -(-replicates // 10))
    parts: dict[str, list[np.ndarray]] = {k: [] for k in OUTCOMES}
    done = 0
    chunks = iter_chunks(setting.scenario, setting.params, setting.militias, seed=seed, replicates=replicates,
                         daily_replicates=0, chunk_size=chunk, progress=False, workers=workers)  # fmt: skip
    try:
        for c in chunks:
            if cancelled is not None and cancelled():
                return None
            for k in OUTCOMES:
                parts[k].append(np.asarray(c.runs[k]))
            done += len(c.replicates)
            if progress is not None:
                progress(done)
    finally:
        chunks.close()  # a cancel stops the chunks not yet started
    return Ensemble(setting, seed, {k: np.concatenate(v) for k, v in parts.items()})


# ----------------------------------------------------------------------------- what the view reads


def escalated_by_date(e: Ensemble, level: float = 0.95) -> pd.DataFrame:
    """P(having escalated by each date) with its Wilson interval: one row per day of the scenario."""
    sc = e.setting.scenario
    day = np.where(e.runs["escalated"].astype(bool), e.runs["escalation_day"], sc.days)
    k = np.searchsorted(np.sort(day), np.arange(sc.days), side="right")  # runs escalated on or before each day
    lo, hi = wilson_interval(k, e.n, level)
    dates = pd.date_range(sc.start, periods=sc.days, freq="D")
    return pd.DataFrame({"date": dates, "p": k / e.n, "low": lo, "high": hi})


def p_escalated_by(e: Ensemble, date: dt.date | str) -> float:
    """P(having escalated by ``date``): what the view's curve reads on that day."""
    table = escalated_by_date(e)
    return float(table.loc[table["date"] == pd.Timestamp(date), "p"].iloc[0])


def summary(e: Ensemble) -> dict[str, float]:
    """The view's numbers for one setting."""
    r = e.runs
    k = int(r["escalated"].sum())
    lo, hi = wilson_interval(k, e.n)
    clash = (r["first_clash_day"] >= 0).mean()
    return {"replicates": e.n, "p_escalation": k / e.n, "low": float(lo), "high": float(hi),
            "p_any_clash": float(clash), "p_sustained": float(r["sustained"].mean()),
            "mean_clashes": float(r["clashes"].mean()),
            "mean_attacks_state": float(r["attacks_state"].mean()),
            "mean_interventions": float(r["interventions"].mean())}  # fmt: skip


def paired(a: Ensemble, b: Ensemble) -> tuple[int, int]:
    """Replicates that escalate under ``a`` but not ``b``, and the other way round (common random numbers)."""
    n = min(a.n, b.n)
    ea, eb = a.runs["escalated"][:n].astype(bool), b.runs["escalated"][:n].astype(bool)
    return int((ea & ~eb).sum()), int((eb & ~ea).sum())


def describe(e: Ensemble) -> str:
    """One line of the view: 'P(escalation by 31 Jan 2022) 0.001 [0.000, 0.004] ...'."""
    s = summary(e)
    end = e.setting.scenario.end
    return (f"{e.setting.label}: P(escalation by {end:%d %b %Y}) {s['p_escalation']:.3f} "
            f"[{s['low']:.3f}, {s['high']:.3f}]; any clash {s['p_any_clash']:.3f}; "
            f"sustained fighting {s['p_sustained']:.3f}; "
            f"clash-days per run {s['mean_clashes']:.2f}; attacks on the state per run "
            f"{s['mean_attacks_state']:.2f}; {e.n} histories")  # fmt: skip


def describe_pair(a: Ensemble, b: Ensemble) -> str:
    ab, ba = paired(a, b)
    return (f"Paired (replicate r of both shares its random numbers): {ab} histories escalate with the first "
            f"setting and not the second, {ba} the other way round.")  # fmt: skip


# ----------------------------------------------------------------------------- the figure

STYLES = ({"color": "tab:blue", "hatch": None, "ls": "-"}, {"color": "tab:red", "hatch": "//", "ls": "--"})
# Bins of the two distributions: every count up to a few, then wider bins (the last one open-ended).
CLASH_BINS = (0, 1, 2, 3, 6, 11, 21)
ATTACK_BINS = (0, 1, 2, 3, 4, 5, 6, 8)


def binned(values: np.ndarray, lower_edges: Sequence[int]) -> tuple[list[str], np.ndarray]:
    """Share of runs in each bin [edge, next edge), the last bin open; and the bins' labels."""
    edges = [*lower_edges, np.inf]
    labels = [str(a) if b == a + 1 else (f"{a}+" if b == np.inf else f"{a}-{int(b) - 1}")
              for a, b in itertools.pairwise(edges)]  # fmt: skip
    return labels, np.histogram(values, bins=edges)[0] / len(values)


def figure(ensembles: Sequence[Ensemble], dpi: int = 80) -> Figure:
    """Three panels for one or two settings: P(escalated by date) with 95% bands, and the share of runs by
    clash-days and by attacks on the state."""
    fig = Figure(figsize=(12, 3.6), dpi=dpi, layout="constrained")
    ax_p, ax_c, ax_a = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.5, 1.1, 1.1]})
    width = 0.8 / len(ensembles)
    for i, (e, st) in enumerate(zip(ensembles, STYLES, strict=False)):
        t = escalated_by_date(e)
        ax_p.fill_between(t["date"], t["low"], t["high"], color=st["color"], alpha=0.2, lw=0)
        ax_p.plot(t["date"], t["p"], color=st["color"], ls=st["ls"], label=f"{e.setting.label} (n = {e.n})")
        for ax, col, bins in ((ax_c, "clashes", CLASH_BINS), (ax_a, "attacks_state", ATTACK_BINS)):
            labels, share = binned(e.runs[col], bins)
            x = np.arange(len(labels)) + (i - (len(ensembles) - 1) / 2) * width
            ax.bar(x, share, width=width, color=st["color"], alpha=0.8, hatch=st["hatch"], edgecolor="white",
                   label=e.setting.label)  # fmt: skip
            ax.set_xticks(np.arange(len(labels)), labels, fontsize=7)  # "6-10" beside "11-20" fits at 7 pt
    ax_p.set_title("Probability of having escalated by each date (band: Wilson 95%)", fontsize=10)
    ax_p.set_ylabel("P(escalated by date)")
    ax_p.set_xlabel("date")
    ax_p.set_ylim(bottom=0)
    ax_p.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
    ax_p.legend(fontsize=8, loc="upper left")
    ax_c.set_title("Clash-days per run", fontsize=10)
    ax_c.set_xlabel("clash-days in the run")
    ax_a.set_title("Attacks on the state/PM per run", fontsize=10)
    ax_a.set_xlabel("attacks in the run")
    for ax in (ax_c, ax_a):
        ax.set_ylabel("share of runs (log scale below 0.01)")
        ax.set_yscale("symlog", linthresh=0.01)  # rare outcomes stay visible beside the common zero
        ax.set_ylim(0, 1.05)
    for ax in (ax_p, ax_c, ax_a):
        ax.grid(alpha=0.3)
    return fig
