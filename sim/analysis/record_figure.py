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
    are drawn as rates per 30 days, so they sit on the same scale as the model's calendar months."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.5, 3.6), constrained_layout=True)
        for which, colour, alpha in (("prior", "0.75", 0.5), ("posterior", "0.2", 0.35)):
            t = monthly[monthly["distribution"] == which].sort_values("month")
            x = [date.fromisoformat(f"{m}-15") for m in t["month"]]
            ax.fill_between(x, t["q05"], t["q95"], color=colour, alpha=alpha, lw=0,
                            label=f"model, {which}: 90% of runs")  # fmt: skip
            ax.plot(x, t["median"], color=colour, lw=1.5 if which == "posterior" else 1.0,
                    marker="o", ms=3, label=f"model, {which}: median")  # fmt: skip
        for k, (a, b, lo, hi) in enumerate(RECORD_SPANS):
            per = 30.0 / ((b - a).days + 1)
            top = (hi if hi is not None else lo) * per
            ax.fill_between([a, b + timedelta(days=1)], lo * per, top, color="tab:red", alpha=0.3, lw=0,
                            step="pre", label="record (public tallies), per 30 days" if k == 0 else None)  # fmt: skip
            ax.hlines([lo * per, top], a, b + timedelta(days=1), color="tab:red", lw=1.2)
            if hi is None:
                mid = a + (b - a) / 2
                ax.annotate("", xy=(mid, lo * per + 4), xytext=(mid, lo * per),
                            arrowprops={"arrowstyle": "->", "color": "tab:red"})  # fmt: skip
        ax.set_ylim(bottom=0)
        top = ax.get_ylim()[1]
        ax.annotate("", xy=(date(2021, 7, 26), 0.95 * top), xytext=(date(2021, 12, 31), 0.95 * top),
                    arrowprops={"arrowstyle": "|-|", "color": "0.3", "lw": 0.8})  # fmt: skip
        ax.text(date(2021, 10, 12), 0.97 * top, "the factions' truce (26 Jul - 31 Dec 2021)", ha="center",
                va="bottom", fontsize=8, color="0.3")  # fmt: skip
        ax.set_ylim(0, 1.05 * top)
        ax.set_xlabel("month")
        ax.set_ylabel("attacks on US assets per month")
        ax.set_title("Attacks on US assets in Iraq: the model calibrated on the record (record_2021)")
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), frameon=False, ncol=3)
        return save_figure(fig, out_path)
