"""Figures in plain matplotlib, readable in print and in grayscale: labelled axes with units,
uncertainty as bands, events marked on a calendar axis."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on clusters or CI
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd

from sim.analysis.stats import band
from sim.model.scenario import Scenario

STYLE = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8, "figure.dpi": 150}


def event_marks(scenario: Scenario, skip: tuple[str, ...] = ()) -> list[tuple[pd.Timestamp, str, int]]:
    """(date, label, level) of each day with events (numbered as in the scenario, events of the kinds in ``skip``
    left out): events on one day share one label ("7,8"), and a label within a few days of the one before it
    steps down a level, so that no two numbers print over each other."""
    days: dict = {}
    for i, ev in enumerate(scenario.events, start=1):
        if ev.kind not in skip:
            days.setdefault(ev.day, (ev.date, []))[1].append(str(i))
    gap = max(3, scenario.days // 25)  # about the width of a label on the axis, in days
    out, last, level = [], None, 0
    for day, (date, numbers) in sorted(days.items()):
        level = level + 1 if last is not None and day - last < gap and level < 3 else 0
        last = day
        out.append((pd.Timestamp(date), ",".join(numbers), level))
    return out


def title_pad(scenario: Scenario) -> float:
    """Points between an axes and its title that clear the event numbers printed above it (see mark_events)."""
    return 14.0 + 8.0 * max((level for _, _, level in event_marks(scenario)), default=0)


def mark_events(ax, scenario: Scenario, label: bool = True) -> None:
    """Dashed vertical lines at the scenario's events, numbered (see event_marks), with a key below the axes."""
    for ev in scenario.events:
        ax.axvline(pd.Timestamp(ev.date), color="0.35", lw=0.8, ls="--", zorder=1)
    if label:
        for x, text, level in event_marks(scenario):
            ax.annotate(text, (x, 1.0), xycoords=("data", "axes fraction"), xytext=(2, 1 + 8 * level), va="bottom",
                        textcoords="offset points", fontsize=7, color="0.2")  # fmt: skip


def fan(ax, stats: pd.DataFrame, label: str, color: str = "0.15") -> None:
    x = stats.index
    ax.fill_between(x, stats["q05"], stats["q95"], color=color, alpha=0.15, lw=0, label="90% of replicates")
    ax.fill_between(x, stats["q25"], stats["q75"], color=color, alpha=0.30, lw=0, label="50% of replicates")
    ax.plot(x, stats["mean"], color=color, lw=1.4, label=f"mean {label}")


def timeline_figure(
    daily: pd.DataFrame,
    scenario: Scenario,
    path: Path,
    n_replicates: int | None = None,
    total_replicates: int | None = None,
    title: str | None = None,
) -> list[Path]:
    """Daily escalation hazard and tension with uncertainty bands, events marked; writes PNG and PDF.
    ``n_replicates``: the replicates in ``daily`` (the bands); ``total_replicates``: the run's, when more;
    ``title``: what ran (default: the scenario's name)."""
    n = n_replicates or daily["replicate"].nunique()
    # daily.parquet keeps replicates 0..N-1 only: say so when the run had more
    over = f"bands over the first {n} of {total_replicates} replicates" if (total_replicates or 0) > n else (
        f"across {n} replicates")  # fmt: skip
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, 1, figsize=(7.5, 5.6), sharex=True, constrained_layout=True)
        hz = band(daily, "hazard")
        fan(axes[0], hz, "hazard")
        axes[0].set_ylabel("P(intra-Shi'ite clash)\nper day")
        axes[0].set_ylim(bottom=0)
        fan(axes[1], band(daily, "tension"), "tension", color="0.15")
        axes[1].plot(hz.index, band(daily, "rivalry")["mean"], color="0.45", lw=1.0, ls=":", label="mean rivalry")
        axes[1].set_ylabel("tension index (0-1)")
        axes[1].set_ylim(0, 1)
        for ax in axes:
            mark_events(ax, scenario)
            ax.grid(axis="y", color="0.9", lw=0.6)
        axes[0].legend(loc="upper left", frameon=False)
        axes[1].legend(loc="upper left", frameon=False, ncol=2)
        axes[1].xaxis.set_major_locator(mdates.MonthLocator())
        axes[1].xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
        axes[1].set_xlabel("date (one model step = one day)")
        key = [f"{i} {ev.date:%d %b}: {ev.label}" for i, ev in enumerate(scenario.events, start=1)]
        fig.suptitle(
            f"{title or scenario.name}: daily clash hazard and tension, {over}\n"
            "(line: mean; bands: middle 50% and 90% of replicates; dashed lines: scenario events)",
            fontsize=10,
        )
        if key:
            fig.text(0.01, -0.01, wrap_items(key, 130), fontsize=7, va="top", ha="left")
        return save_figure(fig, path)


# The same figure gives the same bytes on every run, so regenerating the committed figures leaves git clean:
# no creation date in the PDF (matplotlib stamps the time, or SOURCE_DATE_EPOCH's). What remains is fixed by the
# pinned versions (matplotlib's name and version as Creator/Producer/Software); PNGs carry no date.
METADATA = {".png": {}, ".pdf": {"CreationDate": None}}


def save_figure(fig, out_path: str | Path) -> list[Path]:
    """Write ``fig`` as PNG and PDF beside each other (byte-stable: fixed metadata), close it, return the paths."""
    path = Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix in (".png", ".pdf"):
        out = path.with_suffix(suffix)
        fig.savefig(out, bbox_inches="tight", metadata=METADATA[suffix])
        written.append(out)
    plt.close(fig)
    return written


def wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False))


def wrap_items(items: list[str], width: int, sep: str = "   ") -> str:
    """``items`` joined by ``sep`` in lines of at most ``width`` characters, broken only between items
    (an item longer than a line gets lines of its own)."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + len(sep) + len(item) <= width:
            lines[-1] += sep + item
        else:
            lines += wrap(item, width).splitlines() or [""]
    return "\n".join(lines)
