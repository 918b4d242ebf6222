"""Summary statistics over replicates: Wilson intervals for probabilities, quantile bands for series.
The per-run summary lives in the running layer (sim.run.summary) and is re-exported here."""

from __future__ import annotations

import pandas as pd

from sim.run.summary import RunsSummary, escalation_probability, summary_table, wilson_interval

__all__ = ["RunsSummary", "band", "escalation_probability", "summary_table", "wilson_interval"]


def band(daily: pd.DataFrame, column: str, quantiles=(0.05, 0.25, 0.5, 0.75, 0.95)) -> pd.DataFrame:
    """Per-day mean and quantiles of ``column`` across replicates (for fan charts)."""
    g = daily.groupby("date")[column]
    out = g.quantile(list(quantiles)).unstack()
    out.columns = [f"q{int(q * 100):02d}" for q in quantiles]
    out["mean"] = g.mean()
    return out
