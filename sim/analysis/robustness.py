"""Policies judged across scenarios: per policy and outcome, robustness (the share of scenarios meeting a target,
the 90th percentile), regret against the best policy in each scenario, the pairs with today's behaviour, and
scenario discovery (PRIM) on the scenarios where a policy fails; ``python -m sim.policies``.

The EMA workbench's vocabulary (levers, uncertainties, policies, scenarios, satisficing and regret measures) and
its PRIM (the PRIM package, a port of the workbench's); its runner is not used: Hydra's sweeps run the points,
resumable and on SLURM, with common random numbers the workbench's samplers would not give."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.run.policies import OUTCOMES, TODAY, read_record
from sim.run.storage import atomic_write_parquet, atomic_write_text
from sim.run.uncertainty import weighted_quantiles

QUANTILE = 0.9  # the percentile reported beside the share meeting the target (lower is better: a bad case)
MIN_CASES = 10  # PRIM on a policy's failures needs at least this many failures and as many successes


class PolicyError(ValueError):
    """A folder that cannot be analysed as a policy study (one line)."""


def matrix(points: pd.DataFrame, where: Mapping[str, tuple[str, int]], outcome: str, policies: Sequence[str],
           scenarios: int) -> pd.DataFrame:  # fmt: skip
    """One outcome as a table: a row per scenario, a column per policy (in the study's order); a missing point is
    an error naming how many (the study is not finished)."""
    rows = points[points["point_key"].isin(where)]
    tagged = rows.assign(policy=[where[k][0] for k in rows["point_key"]],
                         scenario=[where[k][1] for k in rows["point_key"]])  # fmt: skip
    table = tagged.pivot_table(index="scenario", columns="policy", values=outcome, aggfunc="first")
    table = table.reindex(index=range(scenarios), columns=list(policies))
    missing = int(table.isna().sum().sum())
    if missing:
        raise PolicyError(f"{missing} of {table.size} (policy, scenario) points are not aggregated: finish the sweep "
                          "(run the same command again), then python -m sim.aggregate")  # fmt: skip
    return table


def robustness(values: pd.DataFrame, target: float, weights: np.ndarray, q: float = QUANTILE) -> pd.DataFrame:
    """Per policy (a column of ``values``, lower better): the share of scenarios (weighted) in which it meets the
    target (outcome <= target), its ``q`` quantile across scenarios, and its mean."""
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    out = []
    for policy in values.columns:
        x = values[policy].to_numpy(dtype=float)
        out.append({"policy": policy, "target": target, "share_meeting": float(np.sum(w * (x <= target))),
                    f"q{round(100 * q)}": float(weighted_quantiles(x, w, [q])[0]), "mean": float(np.sum(w * x))})
    return pd.DataFrame(out)


def regret(values: pd.DataFrame, weights: np.ndarray, q: float = QUANTILE) -> pd.DataFrame:
    """Per policy: its regret in each scenario, the outcome less the best (lowest) policy's there (Savage), as its
    mean, ``q`` quantile and largest over scenarios (weighted); and the share of scenarios in which it is best
    (ties shared)."""
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    x = values.to_numpy(dtype=float)
    best = x.min(axis=1, keepdims=True)
    r = x - best
    ties = (x == best).sum(axis=1)
    out = []
    for j, policy in enumerate(values.columns):
        out.append({"policy": policy, "mean_regret": float(np.sum(w * r[:, j])),
                    f"q{round(100 * q)}_regret": float(weighted_quantiles(r[:, j], w, [q])[0]),
                    "max_regret": float(r[:, j].max()),
                    "best_share": float(np.sum(w * (x[:, j] == best[:, 0]) / ties))})  # fmt: skip
    return pd.DataFrame(out)


def paired(values: pd.DataFrame, weights: np.ndarray, base: str = TODAY) -> pd.DataFrame:
    """Each policy against ``base`` in the same scenario (the same random numbers): the mean difference, and the
    shares of scenarios in which it is lower (better) and higher."""
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    if base not in values.columns:
        return pd.DataFrame({"policy": list(values.columns)})
    d = values.to_numpy(dtype=float) - values[[base]].to_numpy(dtype=float)
    return pd.DataFrame({"policy": list(values.columns), "mean_difference": (w[:, None] * d).sum(axis=0),
                         "share_better": (w[:, None] * (d < 0)).sum(axis=0),
                         "share_worse": (w[:, None] * (d > 0)).sum(axis=0)})  # fmt: skip


def failure_box(x: pd.DataFrame, fails: np.ndarray, ranges: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    """Scenario discovery on a policy's failures: PRIM's chosen box (sim.analysis.discovery's rule: edge trims and
    unsupported restrictions dropped) for the scenarios in which it misses its target, with coverage, density and
    lift; or why there is none (too few failures or successes to describe)."""
    from sim.analysis import discovery

    fails = np.asarray(fails, dtype=bool)
    n, k = len(fails), int(fails.sum())
    info: dict[str, Any] = {"failures": k, "scenarios": n, "failure_share": k / n if n else float("nan")}
    if k < MIN_CASES or n - k < MIN_CASES:
        info["note"] = (f"fails in {k} of {n} scenarios: too few {'failures' if k < MIN_CASES else 'successes'} "
                        f"for a box (at least {MIN_CASES} of each)")  # fmt: skip
        return info
    found = discovery.find_boxes(x, fails.astype(float), 0.5, max_boxes=1, ranges=ranges)
    if not found:
        info["note"] = "no box covers half the failures with at most four restrictions"
        return info
    b = found[0]
    info |= {"coverage": b["stats"]["coverage"], "density": b["stats"]["density"], "lift": b["stats"]["lift"],
             "mass": b["stats"]["mass"],
             "limits": {f: [float(r["min"]), float(r["max"])] for f, r in b["limits"].iterrows()}}  # fmt: skip
    if b["stats"]["lift"] < discovery.LIFT_MIN:
        info["warning"] = f"lift {b['stats']['lift']:.2f}: barely better than the whole space"
    return info


def analyse(root: Path, targets: Mapping[str, float] | None = None, progress: bool | None = False) -> dict[str, Any]:
    """The policy study in ``root`` (sim.run.policies' record and the aggregated points): robustness, regret and
    pairs per policy and outcome, and PRIM on each policy's failures of each target (the study's targets, those
    in ``targets`` replaced). Writes aggregate/
    robustness.parquet, policy_boxes.parquet and policies.json (the summary)."""
    from sim.model import priors
    from sim.run.designs import factor_columns
    from sim.run.progress import progress_bar

    root = Path(root)
    try:
        record, where = read_record(root)
    except (OSError, ValueError):
        raise PolicyError(f"{root} has no readable policies.json: not a policy study (experiment=policies)") from None
    try:
        points = pd.read_parquet(root / "aggregate" / "points.parquet")
    except (OSError, ValueError):
        raise PolicyError(f"{root / 'aggregate'} has no readable points.parquet: aggregate first "
                          f"(python -m sim.aggregate {root})") from None  # fmt: skip
    policies = [name for name, _ in record["named"]]
    scenarios = int(record["scenarios"])
    weights = np.asarray(record["weights"], dtype=float)
    targets = {**{k: v for k, v in record["targets"]}, **dict(targets or {})}  # the study's, as the caller amends
    unknown = [k for k in targets if k not in OUTCOMES]
    if unknown:
        raise PolicyError(f"--target {unknown[0]}: not an outcome; allowed: {', '.join(OUTCOMES)}")
    names = list(record["factors"])
    first = matrix(points, where, "point_key", policies, scenarios)[policies[0]]
    x = points.set_index("point_key").loc[first.to_numpy(), factor_columns(names)].set_axis(names, axis=1)
    x = x.reset_index(drop=True).astype(float)
    table = priors.all_priors()
    ranges = {n: (table[n].low, table[n].high) for n in names}
    rows, boxes, summary = [], [], {"policies": record["named"], "scenarios": scenarios, "source": record["source"],
                                    "replicates": int(points["replicates"].min()), "outcomes": {}}  # fmt: skip
    with progress_bar(len(OUTCOMES) * len(policies), progress, "policies' failures", unit="boxes") as bar:
        for outcome in OUTCOMES:
            values = matrix(points, where, outcome, policies, scenarios)
            table_o = regret(values, weights).merge(paired(values, weights), on="policy")
            if outcome in targets:
                table_o = robustness(values, targets[outcome], weights).merge(table_o, on="policy")
            rows.append(table_o.assign(outcome=outcome))
            summary["outcomes"][outcome] = {"target": targets.get(outcome), "boxes": {}}
            for policy in policies:
                bar.update(1)
                if outcome not in targets:
                    continue
                info = failure_box(x, values[policy].to_numpy() > targets[outcome], ranges)
                summary["outcomes"][outcome]["boxes"][policy] = info
                for f, (lo, hi) in info.get("limits", {}).items():
                    boxes.append({"outcome": outcome, "policy": policy, "factor": f, "min": lo, "max": hi,
                                  "prior_low": ranges[f][0], "prior_high": ranges[f][1],
                                  **{k: info[k] for k in ("coverage", "density", "lift", "failures")}})  # fmt: skip
    levers = {name: ", ".join(f"{k}={_value(v)}" for k, v in values) or "today's values" for name, values in
              record["named"]}  # fmt: skip
    result = pd.concat(rows, ignore_index=True)
    result["levers"] = result["policy"].map(levers)
    agg = root / "aggregate"
    atomic_write_parquet(result, agg / "robustness.parquet")
    atomic_write_parquet(pd.DataFrame(boxes, columns=["outcome", "policy", "factor", "min", "max", "prior_low",
                                                      "prior_high", "coverage", "density", "lift", "failures"]),
                         agg / "policy_boxes.parquet")  # fmt: skip
    atomic_write_text(agg / "policies.json", json.dumps(summary, indent=1, default=float))
    return {"table": result, **summary}


def _value(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else f"{v:g}"


def describe(result: Mapping[str, Any]) -> str:
    """The terminal's account: per outcome a table of the policies (target met, 90th percentile, mean, regret,
    against today), then where each policy fails."""
    t = result["table"]
    lines = [f"{len(result['policies'])} policies x {result['scenarios']} scenarios ({result['source']}), "
             f"{result['replicates']} replicates each; each outcome lower is better"]  # fmt: skip
    for outcome, info in result["outcomes"].items():
        sub = t[t["outcome"] == outcome].set_index("policy")
        target = info["target"]
        head = f"\n{OUTCOMES[outcome]}" + (f" (target: at most {target:g})" if target is not None else "")
        lines.append(head)
        lines.append(f"  {'policy':<24}{'meets':>7}{'q90':>9}{'mean':>9}{'regret':>9}{'q90 regr':>9}{'best':>6}"
                     f"{'vs today':>10}")  # fmt: skip
        for policy, r in sub.iterrows():
            meets = f"{r['share_meeting']:.0%}" if "share_meeting" in r and pd.notna(r["share_meeting"]) else "-"
            q90 = f"{r['q90']:.3g}" if "q90" in r and pd.notna(r["q90"]) else "-"
            diff = f"{r['mean_difference']:+.3g}" if pd.notna(r.get("mean_difference")) else "-"
            lines.append(f"  {policy:<24}{meets:>7}{q90:>9}{r['mean']:>9.3g}{r['mean_regret']:>9.3g}"
                         f"{r['q90_regret']:>9.3g}{r['best_share']:>6.0%}{diff:>10}")  # fmt: skip
        for policy, box in info["boxes"].items():
            if "limits" in box:
                lims = "; ".join(f"{f} {lo:.3g} to {hi:.3g}" for f, (lo, hi) in box["limits"].items())
                warn = f" ({box['warning']})" if "warning" in box else ""
                lines.append(f"  {policy} fails in {box['failure_share']:.0%} of scenarios, most where {lims}: "
                             f"coverage {box['coverage']:.2f}, density {box['density']:.2f}, lift "
                             f"{box['lift']:.2f}{warn}")  # fmt: skip
            else:
                lines.append(f"  {policy}: {box['note']}")
    lines.append("\nmeets: share of scenarios at or below the target; q90: the outcome in the worst tenth of "
                 "scenarios; regret: the outcome less the best policy's in the same scenario (mean, 90th percentile); "
                 "best: share of scenarios in which it is best; vs today: mean paired difference")  # fmt: skip
    return "\n".join(lines)


def run_args(args: argparse.Namespace) -> int:
    """``python -m sim.policies`` once its arguments are parsed (sim/policies.py)."""
    from sim.run.folders import sweep_root
    from sim.run.progress import log_to_stderr

    targets = {}
    for item in args.target or []:
        name, sep, value = item.partition("=")
        try:
            targets[name] = float(value)
        except ValueError:
            sep = ""
        if not sep or name not in OUTCOMES or targets[name] < 0:
            print(f"error: --target {item}: give OUTCOME=VALUE (a number >= 0) with OUTCOME one of "
                  f"{', '.join(OUTCOMES)}", file=sys.stderr)  # fmt: skip
            return 2
    log_to_stderr()
    root = sweep_root(args.sweep_dir)
    try:
        result = analyse(root, targets or None, progress=None)
    except PolicyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(describe(result))
    print(f"\nwrote {root / 'aggregate'}/robustness.parquet, policy_boxes.parquet, policies.json")
    return 0
