"""The calibration on counts, drawn: attacks on US assets per month, the model under the prior and the
posterior (medians and 90% bands) against the public record's spans (seeds/record.yaml), January 2021 on."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd

from sim.analysis.run_figure import STYLE, save_figure  # sets the Agg backend

# The record's spans of attacks on US sites (its one definition) as (first day, last day, low, high) counts
# over the span: seeds/record.yaml's us_sites_2021_h1 (18-35 from 1 January to 30 June 2021), the wave of 5-8
# July (at least 5), 9 July to 30 October (3-5), 31 October to 31 December (2-4) and at least 7 in January 2022
# (open above: drawn to the low end with an arrow).
RECORD_SPANS = (
    (date(2021, 1, 1), date(2021, 6, 30), 18, 35),
    (date(2021, 7, 5), date(2021, 7, 8), 5, None),
    (date(2021, 7, 9), date(2021, 10, 30), 3, 5),
    (date(2021, 10, 31), date(2021, 12, 31), 2, 4),
    (date(2022, 1, 1), date(2022, 1, 31), 7, None),
)


def monthly_attacks_figure(monthly: pd.DataFrame, out_path: str | Path) -> list[Path]:
    """``monthly``: calibration_counts' monthly table (month, distribution, median, q05, q95). Record spans
    are drawn as rates per 30 days, so they sit on the same scale as the model's calendar months: each as a
    hatched box (at least a line's width tall, so that a span of 0-1 attacks shows) labelled with its counts; the
    open-ended January 2022 span with an arrow, which the legend names."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    red = "tab:red"
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.5, 3.9), constrained_layout=True)
        for which, colour, alpha in (("prior", "0.75", 0.5), ("posterior", "0.2", 0.35)):
            t = monthly[monthly["distribution"] == which].sort_values("month")
            x = [date.fromisoformat(f"{m}-15") for m in t["month"]]
            ax.fill_between(x, t["q05"], t["q95"], color=colour, alpha=alpha, lw=0,
                            label=f"model, {which}: 90% of runs")  # fmt: skip
            ax.plot(x, t["median"], color=colour, lw=1.5 if which == "posterior" else 1.0,
                    marker="o", ms=3, label=f"model, {which}: median")  # fmt: skip
        ax.set_ylim(bottom=0)
        top = ax.get_ylim()[1]
        least = 0.012 * top  # a box this tall at least: a span of "0 to 1 attacks" stays visible
        for a, b, lo, hi in RECORD_SPANS:
            per = 30.0 / ((b - a).days + 1)
            y0, y1 = lo * per, (hi if hi is not None else lo) * per
            x0, x1 = mdates.date2num(a), mdates.date2num(b + timedelta(days=1))
            ax.add_patch(Rectangle((x0, y0), x1 - x0, max(y1 - y0, least), facecolor=red, alpha=0.25,
                                   edgecolor=red, lw=1.2, hatch="////", zorder=3))  # fmt: skip
            text = f"{lo}-{hi}" if hi is not None else f"at least {lo}"
            days = (b - a).days + 1
            label = {"ha": "center", "va": "bottom", "fontsize": 7, "color": red, "zorder": 6,
                     "bbox": {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85}}
            if hi is None:  # open above: an arrow up from the floor, the label at its tip
                tip = y0 + 0.12 * top
                ax.annotate("", xy=((x0 + x1) / 2, tip), xytext=((x0 + x1) / 2, y0),
                            arrowprops={"arrowstyle": "->", "color": red, "lw": 1.2}, zorder=4)  # fmt: skip
                ax.annotate(f"record: {text}\nin {days} days", ((x0 + x1) / 2, tip), xytext=(0, 3),
                            textcoords="offset points", **label)  # fmt: skip
            else:
                ax.annotate(f"record: {text} in {days} days", ((x0 + x1) / 2, max(y1, y0 + least)),
                            xytext=(0, 3), textcoords="offset points", **label)  # fmt: skip
        ax.annotate("", xy=(date(2021, 7, 26), 0.95 * top), xytext=(date(2021, 12, 31), 0.95 * top),
                    arrowprops={"arrowstyle": "|-|", "color": "0.3", "lw": 0.8})  # fmt: skip
        ax.text(date(2021, 10, 12), 0.97 * top, "the factions' truce (26 Jul - 31 Dec 2021)", ha="center",
                va="bottom", fontsize=8, color="0.3")  # fmt: skip
        ax.set_ylim(0, 1.05 * top)
        ax.set_xlabel("month")
        ax.set_ylabel("attacks on US assets per month\n(record: its count per 30 days)")
        ax.set_title("Attacks on US assets in Iraq: the model calibrated on the record (record_2021)")
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
        handles, labels = ax.get_legend_handles_labels()
        handles += [Patch(facecolor=red, alpha=0.25, edgecolor=red, hatch="////"),
                    Line2D([], [], color=red, marker=r"$\uparrow$", ms=9, ls="none")]
        labels += ["record (public tallies): its range, per 30 days", "record: at least this many (no upper bound)"]
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.22), frameon=False, ncol=3)
        return save_figure(fig, out_path)
