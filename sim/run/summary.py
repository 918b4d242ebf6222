"""What the running layer reports over replicates: Wilson intervals, P(escalation), and the streamed summary
table the main job prints. Below the analysis layer, which re-exports it (sim.analysis.stats)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

# The normal quantile of a 95% interval, scipy.stats.norm.ppf(0.975) to the last bit (tests/test_store.py checks
# it): the sweep's points table needs no scipy (1.3 s of CPU to import, more than aggregating 700 points).
Z_95 = 1.959963984540054


def wilson_interval(successes, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion (good at p near 0 or 1, unlike Wald)."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    if level == 0.95:
        z = Z_95
    else:
        from scipy.stats import norm

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
    return RunsSummary().add(runs).table(militia_keys)


class RunsSummary:
    """The summary table's statistics from running sums, one chunk of runs at a time, so a run of millions of
    replicates never holds its runs table: integer and boolean outcomes keep exact sums and sums of squares,
    the real-valued ones merge means and squared deviations (Chan, Golub and LeVeque 1979), and the days to
    the first clash are counted per day, which makes their quartiles exact. ``add`` the chunks, then ``table``."""

    REAL = ("cohesion_within", "cohesion_house")

    def __init__(self) -> None:
        self.n = 0
        self.sums: dict[str, int] = {}
        self.squares: dict[str, int] = {}
        self.moments: dict[str, tuple[int, float, float]] = {}  # column -> (n, mean, sum of squared deviations)
        self.first_clash = np.zeros(0, dtype=np.int64)  # runs by day of their first clash

    def add(self, runs: pd.DataFrame) -> RunsSummary:
        if len(runs) == 0:
            return self
        self.n += len(runs)
        for col in runs.columns:
            x = runs[col].to_numpy()
            if col in self.REAL:
                self._merge(col, x.astype(float))
            elif x.dtype.kind in "biu":
                v = x.astype(np.int64)
                self.sums[col] = self.sums.get(col, 0) + int(v.sum())
                self.squares[col] = self.squares.get(col, 0) + int((v * v).sum())
        days = runs["first_clash_day"].to_numpy()
        counts = np.bincount(days[days >= 0])
        if len(counts) > len(self.first_clash):
            self.first_clash = np.pad(self.first_clash, (0, len(counts) - len(self.first_clash)))
        self.first_clash[: len(counts)] += counts
        return self

    def _merge(self, col: str, x: np.ndarray) -> None:
        n_b, mean_b = len(x), float(x.mean())
        m2_b = float(((x - mean_b) ** 2).sum())
        n_a, mean_a, m2_a = self.moments.get(col, (0, 0.0, 0.0))
        n = n_a + n_b
        delta = mean_b - mean_a
        self.moments[col] = (n, mean_a + delta * n_b / n, m2_a + m2_b + delta * delta * n_a * n_b / n)

    def mean(self, col: str) -> float:
        return self.moments[col][1] if col in self.moments else self.sums[col] / self.n

    def sd(self, col: str) -> float:
        """Standard deviation over runs (ddof=1)."""
        if col in self.moments:
            n, _, m2 = self.moments[col]
            return float(np.sqrt(m2 / (n - 1)))
        s, ss, n = self.sums[col], self.squares[col], self.n
        return float(np.sqrt((ss - s * s / n) / (n - 1)))  # exact sums: no cancellation beyond the last step

    def escalation(self, level: float = 0.95) -> tuple[float, float, float, int]:
        """(estimate, low, high, n) of P(escalation), as escalation_probability."""
        k, n = self.sums["escalated"], self.n
        lo, hi = wilson_interval(k, n, level)
        return k / n if n else float("nan"), float(lo), float(hi), n

    def first_clash_quantile(self, q: float) -> float:
        """The q-quantile of the day of first clash among runs with one (linear interpolation, as pandas)."""
        cum = np.cumsum(self.first_clash)
        h = (cum[-1] - 1) * q
        lo = int(np.floor(h))

        def at(i: int) -> int:  # the i-th smallest day (0-based)
            return int(np.searchsorted(cum, i, side="right"))

        return at(lo) + (h - lo) * (at(min(lo + 1, int(cum[-1]) - 1)) - at(lo))

    def _mean_ci(self, col: str, digits: int = 2) -> str:
        if self.n < 2:
            return ""
        mean, half = self.mean(col), 1.96 * self.sd(col) / np.sqrt(self.n)
        # every outcome summarised this way is a count or a share: its mean cannot be negative
        return f"[{max(mean - half, 0.0):.{digits}f}, {mean + half:.{digits}f}] (normal 95%)"

    def table(self, militia_keys: tuple[str, ...]) -> pd.DataFrame:
        """The main job's summary: one row per outcome with estimate and 95% interval or spread."""
        n, rows = self.n, []
        # the severity ladder, mildest rung first: any clash, escalation (the headline), sustained fighting
        clashed = int(self.first_clash.sum())
        lc, hc = wilson_interval(clashed, n)
        rows.append(("any clash", f"{clashed / n:.3f}", f"[{lc:.3f}, {hc:.3f}] (Wilson 95%)"))
        p, lo, hi, _ = self.escalation()
        rows.append(("escalation probability", f"{p:.3f}", f"[{lo:.3f}, {hi:.3f}] (Wilson 95%)"))
        if "sustained" in self.sums:
            k = int(self.sums["sustained"])
            ls, hs = wilson_interval(k, n)
            rows.append(("sustained fighting", f"{k / n:.3f}", f"[{ls:.3f}, {hs:.3f}] (Wilson 95%)"))
        if clashed:
            q25, q50, q75 = (self.first_clash_quantile(q) for q in (0.25, 0.5, 0.75))
            rows.append(("days to first clash (runs with one)", f"{q50:.0f}", f"IQR {q25:.0f}-{q75:.0f}"))
        else:
            rows.append(("days to first clash (runs with one)", "none", ""))
        for col, label in (("clashes", "clash-days per run"), ("attacks_state", "attacks on state/PM per run"),
                           ("attacks_us", "attacks on US assets per run"), ("retaliations", "US retaliations per run"),
                           ("interventions", "patron interventions per run")):  # fmt: skip
            rows.append((label, f"{self.mean(col):.2f}", self._mean_ci(col)))
        for key in militia_keys:
            state, us = self.mean(f"attacks_state_{key}"), self.mean(f"attacks_us_{key}")
            rows.append((f"  attacks by {key}: state/PM, US", f"{state:.2f}, {us:.2f}", ""))
        ended = self.sums["boycott_ended"]
        le, he = wilson_interval(ended, n)
        rows.append(("boycott ended (share of runs)", f"{ended / n:.3f}", f"[{le:.3f}, {he:.3f}] (Wilson 95%)"))
        rows.append(("boycott days per run", f"{self.mean('boycott_days'):.1f}", self._mean_ci("boycott_days")))
        rows.append(("Sadr in politics at the end", f"{self.mean('participating_final'):.3f}", ""))
        rows.append(("cohesion within militias (mean)", f"{self.mean('cohesion_within'):.3f}",
                     self._mean_ci("cohesion_within", 3)))  # fmt: skip
        rows.append(("cohesion of the Shi'ite house (mean)", f"{self.mean('cohesion_house'):.3f}",
                     self._mean_ci("cohesion_house", 3)))  # fmt: skip
        import pandas as pd

        return pd.DataFrame(rows, columns=["outcome", "estimate", "95% interval / spread"])
