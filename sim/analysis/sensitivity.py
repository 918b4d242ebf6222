"""Global sensitivity of a design sweep with SALib's analysers (Morris screening, Sobol indices, and PAWN's
moment-independent index on a Latin hypercube), with the noise share and a convergence check."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from sim.model.params import ParameterError
from sim.run import designs
from sim.run.designs import DesignSpec
from sim.run.storage import atomic_write_parquet, atomic_write_text

# Outcome columns of aggregate/points.parquet (one value per point) and how to say them.
OUTCOMES = {
    "p_escalation": "P(escalation)",
    "p_any_clash": "P(any clash)",
    "p_sustained": "P(sustained fighting)",
    "mean_clashes": "clash-days per run",
    "mean_attacks_state": "attacks on the state/PM per run",
    "mean_attacks_us": "attacks on US assets per run",
    "mean_interventions": "patron interventions per run",
    "mean_boycott_days": "days Sadr boycotts per run",
}
GROUP_COLUMNS = ("experiment", "scenario", "drop_events")
RESAMPLES, CONF_LEVEL, ANALYSIS_SEED = 1000, 0.95, 12345
TOP_PAIRS = 5  # second-order indices are reported for pairs among the top factors by total order
# PAWN (Pianosi & Wagener 2015; SALib): the Kolmogorov-Smirnov distance between the outcome's distribution and
# its distribution within each of PAWN_SLICES slices of a factor, median over slices. Moment-independent: it sees
# a factor that moves the tails (where escalation lives) as well as one that moves the mean. Its interval comes
# from PAWN_RESAMPLES bootstrap resamples of the points; a dummy factor (uniform noise, no effect) gives the
# index's noise floor at this sample size. SALib's delta would do as well, but costs minutes per outcome here.
PAWN_SLICES, PAWN_RESAMPLES = 10, 20
DUMMY = "(dummy: noise floor)"
KEY_INDEX = {"morris": "mu_star", "sobol": "ST", "lhs": "pawn"}


class SensitivityError(ValueError):
    """A sweep cannot be analysed (one line)."""


def outcome_rows(spec: DesignSpec, points: pd.DataFrame) -> np.ndarray:
    """The aggregated points of one group, in the design's row order: index of the point for each row.
    Rows are matched by their factor values, which the design rebuilds exactly (same quantile maps)."""
    cols = designs.factor_columns(spec.factors)
    missing = [c for c in cols if c not in points.columns]
    if missing:
        raise SensitivityError(
            f"the aggregated points lack the design's factors {missing[:3]}: not this design's sweep"
        )
    lookup = {tuple(row): i for i, row in enumerate(points[cols].itertuples(index=False, name=None))}
    rows = designs.values(spec, designs.unit_rows(spec))
    idx = np.array([lookup.get(tuple(r[n] for n in spec.factors), -1) for r in rows])
    if (idx < 0).any():
        raise SensitivityError(f"{int((idx < 0).sum())} of {len(idx)} design rows have no finished point: "
                               "rerun the sweep to finish it, then analyse")  # fmt: skip
    return idx


def noise_share(points: pd.DataFrame, outcome: str) -> float:
    """Share of the across-point variance of an outcome's point estimates that is Monte Carlo noise:
    mean over points of (within-point variance / replicates), over the variance of the point means."""
    var = points.get(f"var_{outcome}")
    if var is None:
        raise SensitivityError(f"the points table has no var_{outcome}: aggregate again (python -m sim.aggregate)")
    noise = float((var / points["replicates"]).mean())
    total = float(points[outcome].var())
    return noise / total if total > 0 else float("nan")


def _morris(spec: DesignSpec, unit: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    from SALib.analyze import morris

    res = morris.analyze(spec.problem(), unit, y, num_levels=designs.MORRIS_LEVELS, num_resamples=RESAMPLES,
                         conf_level=CONF_LEVEL, seed=ANALYSIS_SEED)  # fmt: skip
    return pd.DataFrame({"factor": spec.factors, "mu": res["mu"], "mu_star": res["mu_star"], "sigma": res["sigma"],
                         "mu_star_conf": res["mu_star_conf"]})  # fmt: skip


def _sobol(spec: DesignSpec, y: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    from SALib.analyze import sobol

    res = sobol.analyze(spec.problem(), y, calc_second_order=spec.second_order, num_resamples=RESAMPLES,
                        conf_level=CONF_LEVEL, seed=ANALYSIS_SEED)  # fmt: skip
    first = pd.DataFrame({"factor": spec.factors, "S1": res["S1"], "S1_conf": res["S1_conf"], "ST": res["ST"],
                          "ST_conf": res["ST_conf"]})  # fmt: skip
    pairs = []
    if spec.second_order:
        top = list(first.sort_values("ST", ascending=False)["factor"][:TOP_PAIRS])
        for a in range(len(spec.factors)):
            for b in range(a + 1, len(spec.factors)):
                if spec.factors[a] in top and spec.factors[b] in top:
                    pairs.append({"factor": spec.factors[a], "other": spec.factors[b], "S2": res["S2"][a, b],
                                  "S2_conf": res["S2_conf"][a, b]})  # fmt: skip
    return first, pd.DataFrame(pairs, columns=["factor", "other", "S2", "S2_conf"])


def pawn_indices(names: Sequence[str], unit: np.ndarray, y: np.ndarray, resamples: int = PAWN_RESAMPLES,
                 seed: int = ANALYSIS_SEED) -> pd.DataFrame:  # fmt: skip
    """PAWN's median index of every factor (on the points in prior-quantile space, ``unit``) with a 95%
    bootstrap half-width (1.96 standard deviations over ``resamples`` resamples of the points, as SALib gives
    its intervals), and the same for a dummy factor of uniform noise (DUMMY): the floor a factor without effect
    reaches at this sample size. Largest first, the dummy among them."""
    from SALib.analyze import pawn

    rng = np.random.default_rng(seed)
    x = np.column_stack([unit, rng.random(len(unit))])
    problem = {"num_vars": x.shape[1], "names": [*names, DUMMY], "bounds": [[0.0, 1.0]] * x.shape[1]}

    def index(rows: np.ndarray) -> np.ndarray:
        return np.asarray(pawn.analyze(problem, x[rows], y[rows], S=PAWN_SLICES, seed=seed)["median"])

    value = index(np.arange(len(y)))
    boot = np.array([index(rng.integers(0, len(y), len(y))) for _ in range(resamples)]) if resamples else None
    conf = 1.96 * boot.std(axis=0, ddof=1) if boot is not None and resamples > 1 else np.full(len(value), np.nan)
    table = pd.DataFrame({"factor": problem["names"], "pawn": value, "pawn_conf": conf})
    return table.sort_values("pawn", ascending=False, ignore_index=True)


def _convergence(spec: DesignSpec, unit: np.ndarray, y: np.ndarray, key: str) -> dict[str, Any]:
    """Indices from the first half of the design against the whole: does the ranking hold when the
    sample size doubles? (Sobol: the first N/2 base samples; Morris: the first r/2 trajectories.)"""
    half_size = spec.size // 2
    if half_size < 2:
        return {}
    if spec.method == "sobol":
        half = DesignSpec(spec.method, half_size, spec.seed, spec.factors, spec.second_order)
        rows = designs.sobol_prefix(spec, half_size)
        small, _ = _sobol(half, y[rows])
        big, _ = _sobol(spec, y)
    elif spec.method == "lhs":  # the first half of the hypercube's rows: a random half of its points
        small = pawn_indices(spec.factors, unit[:half_size], y[:half_size], resamples=0)
        big = pawn_indices(spec.factors, unit, y, resamples=0)
        small, big = (t[t["factor"] != DUMMY] for t in (small, big))
    else:
        rows = slice(0, half_size * (len(spec.factors) + 1))
        small = _morris(spec, unit[rows], y[rows])
        big = _morris(spec, unit, y)
    a, b = small.set_index("factor")[key], big.set_index("factor")[key]
    b = b.loc[a.index]  # the same factor in the same place (PAWN's tables come sorted by value)
    top = 5
    rho = spearmanr(a, b).statistic if len(a) > 2 else float("nan")
    return {"index": key, "size": spec.size, "half": half_size, "spearman": float(rho),
            "top_same": sorted(a.nlargest(top).index) == sorted(b.nlargest(top).index),
            "max_change": float((a - b).abs().max()), "top_half": list(a.nlargest(top).index),
            "top_full": list(b.nlargest(top).index)}  # fmt: skip


def analyse(root: Path, outcomes: Sequence[str] = tuple(OUTCOMES), progress: bool | None = False) -> dict[str, Any]:
    """Indices of every outcome for every group of a design sweep's aggregated points; written to
    aggregate/sensitivity.parquet (tidy) and aggregate/sensitivity.json (ranking, convergence, noise).
    ``progress``: a bar on a terminal and rate lines in logs (None), per outcome analysed."""
    from sim.run.progress import progress_bar

    root = Path(root)
    if not (root / "design.json").exists():
        raise SensitivityError(f"{root} has no design.json: not a design sweep (experiment=morris, sobol or "
                               "discovery)")  # fmt: skip
    spec = designs.read_design(root)
    agg = root / "aggregate"
    try:
        points = pd.read_parquet(agg / "points.parquet")
    except (OSError, ValueError) as exc:
        raise SensitivityError(f"{agg} has no readable points.parquet: aggregate first "
                               f"(python -m sim.aggregate {root}) ({type(exc).__name__})") from None  # fmt: skip
    unit = designs.unit_rows(spec)
    tidy, summary = (
        [],
        {
            "design": {
                "method": spec.method,
                "size": spec.size,
                "seed": spec.seed,
                "factors": len(spec.factors),
                "rows": int(unit.shape[0]),
            },
            "groups": [],
        },
    )
    group_cols = [c for c in GROUP_COLUMNS if c in points.columns]
    groups = points.groupby(group_cols, dropna=False, sort=True)
    bar = progress_bar(groups.ngroups * len(outcomes), progress, f"{spec.method} indices", unit="outcomes")
    for group, pts in groups:
        pts = pts.reset_index(drop=True)
        idx = outcome_rows(spec, pts)
        label = dict(zip(group_cols, group if isinstance(group, tuple) else (group,), strict=True))
        info: dict[str, Any] = {**label, "replicates": int(pts["replicates"].min()), "outcomes": {}}
        for k, outcome in enumerate(outcomes):
            if k:
                bar.update(1)  # the one before is done
            y = pts[outcome].to_numpy(dtype=float)[idx]
            entry = {"noise_share": noise_share(pts, outcome), "variance": float(np.var(y))}
            if np.var(y) == 0:
                entry["constant"] = True
                info["outcomes"][outcome] = entry
                continue
            if spec.method == "morris":
                table = _morris(spec, unit, y)
                key, rank = "mu_star", table.sort_values("mu_star", ascending=False)
                for r in table.itertuples(index=False):
                    tidy += [{**label, "outcome": outcome, "factor": r.factor, "index": i, "value": getattr(r, i),
                              "conf": r.mu_star_conf if i == "mu_star" else np.nan}
                             for i in ("mu", "mu_star", "sigma")]  # fmt: skip
            elif spec.method == "sobol":
                table, pairs = _sobol(spec, y)
                key, rank = "ST", table.sort_values("ST", ascending=False)
                for r in table.itertuples(index=False):
                    tidy += [{**label, "outcome": outcome, "factor": r.factor, "index": "S1", "value": r.S1,
                              "conf": r.S1_conf},
                             {**label, "outcome": outcome, "factor": r.factor, "index": "ST", "value": r.ST,
                              "conf": r.ST_conf}]  # fmt: skip
                for r in pairs.itertuples(index=False):
                    tidy.append({**label, "outcome": outcome, "factor": f"{r.factor} x {r.other}",
                                 "index": "S2", "value": r.S2, "conf": r.S2_conf})  # fmt: skip
            elif spec.method == "lhs":
                table = pawn_indices(spec.factors, unit, y)
                key = "pawn"
                rank = table[table["factor"] != DUMMY]
                entry["noise_floor"] = float(table.loc[table["factor"] == DUMMY, "pawn"].iloc[0])
                tidy += [{**label, "outcome": outcome, "factor": r.factor, "index": "pawn", "value": r.pawn,
                          "conf": r.pawn_conf} for r in table.itertuples(index=False)]  # fmt: skip
            else:
                raise SensitivityError(f"design.method={spec.method} has no sensitivity index here")
            entry["ranking"] = list(rank["factor"])
            entry["convergence"] = _convergence(spec, unit, y, key)
            info["outcomes"][outcome] = entry
        summary["groups"].append(info)
        bar.update(1)
    bar.__exit__(None, None, None)
    table = pd.DataFrame(tidy, columns=[*group_cols, "outcome", "factor", "index", "value", "conf"])
    atomic_write_parquet(table, agg / "sensitivity.parquet", {"design": summary["design"]})
    atomic_write_text(agg / "sensitivity.json", json.dumps(summary, indent=1, default=float))
    return {"table": table, **summary}


def latest_ranking(
    results: Path = Path("results/sweeps"), outcome: str = "p_escalation", top: int = 3
) -> tuple[str, list[tuple[str, float, float]]] | None:
    """The ``top`` factors by Sobol total-order index in the newest analysed Sobol sweep under
    ``results``, as (sweep folder, [(factor, ST, conf)]), or None if there is none."""
    found = sorted(Path(results).glob("*/aggregate/sensitivity.parquet"), key=lambda p: p.stat().st_mtime)
    for path in reversed(found):
        try:
            table = pd.read_parquet(path)
        except (OSError, ValueError):
            continue
        st = table[(table["index"] == "ST") & (table["outcome"] == outcome)]
        if st.empty:
            continue
        first_group = st.groupby([c for c in GROUP_COLUMNS if c in st.columns], dropna=False).ngroup() == 0
        best = st[first_group].nlargest(top, "value")
        return str(path.parent.parent), [(r.factor, float(r.value), float(r.conf)) for r in best.itertuples()]
    return None


def describe(result: dict[str, Any], top: int = 10) -> str:
    """A terminal summary: per group and outcome, the top factors, convergence and the noise share."""
    lines = [f"{result['design']['method']} design, size {result['design']['size']}, "
             f"{result['design']['factors']} factors, {result['design']['rows']} points"]  # fmt: skip
    table = result["table"]
    for info in result["groups"]:
        where = ", ".join(f"{k}={v}" for k, v in info.items() if k in GROUP_COLUMNS)
        lines.append(f"\n[{where}] {info['replicates']} replicates per point")
        for outcome, entry in info["outcomes"].items():
            if entry.get("constant"):
                lines.append(f"  {OUTCOMES[outcome]}: constant over the design (nothing to decompose)")
                continue
            key = KEY_INDEX[result["design"]["method"]]
            sub = table[(table["outcome"] == outcome) & (table["index"] == key)].set_index("factor")
            best = ", ".join(f"{f} {sub.loc[f, 'value']:.3g}±{sub.loc[f, 'conf']:.2g}" for f in entry["ranking"][:top])
            conv = entry.get("convergence") or {}
            lines.append(f"  {OUTCOMES[outcome]}: noise share {entry['noise_share']:.3f}; top by {key}: {best}")
            if "noise_floor" in entry:
                lines.append(f"    a dummy factor without effect reaches {entry['noise_floor']:.3g} (the noise floor)")
            if conv:
                lines.append(f"    size {conv['half']} -> {conv['size']}: Spearman {conv['spearman']:.2f}, "
                             f"top 5 {'unchanged' if conv['top_same'] else 'changed'}, "
                             f"largest change {conv['max_change']:.3g}")  # fmt: skip
    return "\n".join(lines)


def run_args(args: argparse.Namespace) -> int:
    """``python -m sim.sensitivity`` once its arguments are parsed (sim/sensitivity.py)."""
    from sim.run.folders import sweep_root
    from sim.run.progress import log_to_stderr

    args.sweep_dir = sweep_root(args.sweep_dir)
    log_to_stderr()
    try:
        result = analyse(args.sweep_dir, progress=None)
    except (SensitivityError, ParameterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(describe(result, args.top))
    print(f"\nwrote {args.sweep_dir / 'aggregate' / 'sensitivity.parquet'} and sensitivity.json")
    return 0
