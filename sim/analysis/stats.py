"""Summary statistics over replicates: Wilson intervals for probabilities, quantile bands for series.
Used by the main job's summary table and by the figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm


def wilson_interval(successes, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion (good at p near 0 or 1, unlike Wald)."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    z = norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def escalation_probability(runs: pd.DataFrame, level: float = 0.95) -> tuple[float, float, float, int]:
    """(estimate, low, high, n) of P(escalation) over the runs table."""
    n = len(runs)
    k = int(runs["escalated"].sum())
    lo, hi = wilson_interval(k, n, level)
    return k / n if n else float("nan"), float(lo), float(hi), n


def summary_table(runs: pd.DataFrame, militia_keys: tuple[str, ...]) -> pd.DataFrame:
    """The main job's summary: one row per outcome with estimate and 95% interval or spread."""
    rows = []
    p, lo, hi, n = escalation_probability(runs)
    rows.append(("escalation probability", f"{p:.3f}", f"[{lo:.3f}, {hi:.3f}] (Wilson 95%)"))
    clashed = runs["first_clash_day"] >= 0
    pc, lc, hc = clashed.mean(), *wilson_interval(clashed.sum(), n)
    rows.append(("any clash", f"{pc:.3f}", f"[{lc:.3f}, {hc:.3f}] (Wilson 95%)"))
    if clashed.any():
        q = runs.loc[clashed, "first_clash_day"].quantile([0.25, 0.5, 0.75])
        rows.append(("days to first clash (runs with one)", f"{q[0.5]:.0f}", f"IQR {q[0.25]:.0f}-{q[0.75]:.0f}"))
    else:
        rows.append(("days to first clash (runs with one)", "none", ""))
    for col, label in (("clashes", "clash-days per run"), ("attacks_state", "attacks on state/PM per run"),
                       ("attacks_us", "attacks on US assets per run"), ("retaliations", "US retaliations per run"),
                       ("interventions", "patron interventions per run")):  # fmt: skip
        rows.append((label, f"{runs[col].mean():.2f}", _mean_ci(runs[col])))
    for key in militia_keys:
        rows.append(
            (f"  attacks by {key}: state/PM, US", f"{runs[f'attacks_state_{key}'].mean():.2f}, "
             f"{runs[f'attacks_us_{key}'].mean():.2f}", "")
        )  # fmt: skip
    ended = runs["boycott_ended"]
    le, he = wilson_interval(ended.sum(), n)
    rows.append(("boycott ended (share of runs)", f"{ended.mean():.3f}", f"[{le:.3f}, {he:.3f}] (Wilson 95%)"))
    rows.append(("boycott days per run", f"{runs['boycott_days'].mean():.1f}", _mean_ci(runs["boycott_days"])))
    rows.append(("Sadr in politics at the end", f"{runs['participating_final'].mean():.3f}", ""))
    rows.append(
        (
            "cohesion within militias (mean)",
            f"{runs['cohesion_within'].mean():.3f}",
            _mean_ci(runs["cohesion_within"], 3),
        )
    )
    rows.append(
        (
            "cohesion of the Shi'ite house (mean)",
            f"{runs['cohesion_house'].mean():.3f}",
            _mean_ci(runs["cohesion_house"], 3),
        )
    )
    return pd.DataFrame(rows, columns=["outcome", "estimate", "95% interval / spread"])


def _mean_ci(x: pd.Series, digits: int = 2) -> str:
    n = len(x)
    if n < 2:
        return ""
    half = 1.96 * x.std(ddof=1) / np.sqrt(n)
    # every outcome summarised this way is a count or a share: its mean cannot be negative
    low = max(x.mean() - half, 0.0) if x.min() >= 0 else x.mean() - half
    return f"[{low:.{digits}f}, {x.mean() + half:.{digits}f}] (normal 95%)"


def band(daily: pd.DataFrame, column: str, quantiles=(0.05, 0.25, 0.5, 0.75, 0.95)) -> pd.DataFrame:
    """Per-day mean and quantiles of ``column`` across replicates (for fan charts)."""
    g = daily.groupby("date")[column]
    out = g.quantile(list(quantiles)).unstack()
    out.columns = [f"q{int(q * 100):02d}" for q in quantiles]
    out["mean"] = g.mean()
    return out
