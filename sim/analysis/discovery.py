"""Scenario discovery: PRIM boxes in the judged parameter space where escalation is likely, from a Latin-hypercube
design sweep (the PRIM package), with resampling, CART and feature scores beside; ``python -m sim.discovery``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import boxes as second
from sim.analysis.sensitivity import GROUP_COLUMNS, SensitivityError, outcome_rows
from sim.model import priors
from sim.run import designs
from sim.run.storage import atomic_write_parquet, atomic_write_text

OUTCOME, THRESHOLD = "p_escalation", 0.2  # a point "escalates" when more than a fifth of its runs do
MIN_COVERAGE = 0.5  # the chosen box covers at least half the cases of interest,
DENSITY_SHARE = 0.95  # is at least 95% as dense as the densest such box, and is the widest of those,
MAX_DIMS = 4  # ... and restricts at most this many parameters: a box people can read (Bryant & Lempert 2010)
MAX_BOXES = 3
QP_MAX = second.QP_MAX  # a restriction whose quasi-p value exceeds this is dropped (Bryant & Lempert 2010)


def find_boxes(
    x: pd.DataFrame,
    y: np.ndarray,
    threshold: float,
    min_coverage: float = MIN_COVERAGE,
    max_dims: int = MAX_DIMS,
    max_boxes: int = MAX_BOXES,
    step: int | None = None,
) -> list[dict[str, Any]]:
    """PRIM (peeling and pasting) for cases with y > threshold: for each box found in turn, its peeling
    trajectory and its limits (with PRIM's quasi-p values) at the chosen step: among the steps that
    cover at least ``min_coverage`` of the cases of interest and restrict at most ``max_dims``
    parameters, the widest whose density is within DENSITY_SHARE of the densest. ``step`` chooses the
    first box by its index on the trajectory instead (its restrictions kept as they are)."""
    from prim import Prim

    logging.getLogger("prim").setLevel(logging.WARNING)
    finder = Prim(x, np.asarray(y, dtype=float), threshold=threshold, threshold_type=">")
    boxes = []
    for number in range(1, max_boxes + 1):
        box = finder.find_box()
        if box is None:
            break
        traj = box.peeling_trajectory.astype(float).reset_index(drop=True)
        if number == 1 and step is not None:
            if not 0 <= step < len(traj):
                raise SensitivityError(f"--step={step} is out of range: allowed [0, {len(traj) - 1}] (the steps of "
                                       "the first box's peeling trajectory)")  # fmt: skip
            box.select(step)
            stats = {k: float(traj.loc[step, k]) for k in ("coverage", "density", "mass", "res dim")}
            boxes.append({"box": number, "trajectory": traj, "chosen": step, "limits": box.limits.astype(float),
                          "stats": stats})  # fmt: skip
            continue
        ok = traj.index[(traj["coverage"] >= min_coverage) & (traj["res dim"] <= max_dims)]
        if len(ok) == 0:
            break
        # Peeling trades coverage for density; take the widest box that is nearly as dense as the densest.
        dense = traj.loc[ok, "density"] >= DENSITY_SHARE * traj.loc[ok, "density"].max()
        chosen = int(traj.loc[ok][dense]["coverage"].idxmax())
        box.select(chosen)
        limits = box.limits.astype(float)
        # Drop restrictions PRIM cannot support (quasi-p above QP_MAX): noise, not structure.
        weak = [name for name, qp in limits["qp values"].items() if qp > QP_MAX]
        if weak and len(weak) < len(limits):
            for name in weak:
                box.drop_restriction(name)
            traj = box.peeling_trajectory.astype(float).reset_index(drop=True)
            chosen = len(traj) - 1
            limits = box.limits.astype(float)
        boxes.append(
            {
                "box": number,
                "trajectory": traj,
                "chosen": chosen,
                "limits": limits,
                "stats": {k: float(traj.loc[chosen, k]) for k in ("coverage", "density", "mass", "res dim")},
            }
        )
        if traj.loc[chosen, "density"] <= (np.asarray(y) > threshold).mean():
            break  # no denser than the whole space: nothing more to find
    return boxes


def discover(
    root: Path,
    outcome: str = OUTCOME,
    threshold: float = THRESHOLD,
    min_coverage: float = MIN_COVERAGE,
    step: int | None = None,
    resamples: int = second.RESAMPLES,
) -> dict[str, Any]:
    """PRIM on every group of a Latin-hypercube sweep, and beside its first box: its restrictions' stability
    over ``resamples`` half-size resamples, CART's leaves and every factor's feature score. Writes, in
    aggregate/: prim_trajectory.parquet, prim_boxes.parquet, prim_resampling.parquet, cart_leaves.parquet,
    feature_scores.parquet and prim.json (nothing if an argument is refused)."""
    root = Path(root)
    if not (root / "design.json").exists():
        raise SensitivityError(f"{root} has no design.json: not a design sweep (experiment=discovery)")
    spec = designs.read_design(root)
    try:
        points = pd.read_parquet(root / "aggregate" / "points.parquet")
    except (OSError, ValueError):
        raise SensitivityError(f"{root / 'aggregate'} has no readable points.parquet: aggregate first "
                               f"(python -m sim.aggregate {root})") from None  # fmt: skip
    table = priors.priors()
    cols = designs.factor_columns(spec.factors)
    trajectories, limits, summary = [], [], {"outcome": outcome, "threshold": threshold, "groups": []}
    stable, leaves, scores = [], [], []
    group_cols = [c for c in GROUP_COLUMNS if c in points.columns]
    for group, pts in points.groupby(group_cols, dropna=False, sort=True):
        pts = pts.reset_index(drop=True)
        outcome_rows(spec, pts)  # every design row finished (raises otherwise)
        label = dict(zip(group_cols, group if isinstance(group, tuple) else (group,), strict=True))
        x = pts[cols].set_axis(list(spec.factors), axis=1).astype(float)
        y = pts[outcome].to_numpy(dtype=float)
        share = float((y > threshold).mean())
        info = {**label, "points": len(pts), "share_of_interest": share, "boxes": []}
        if share == 0 or share == 1:
            summary["groups"].append(
                {**info, "note": f"{outcome} > {threshold} at {'no' if share == 0 else 'every'} point"}
            )
            continue
        found = find_boxes(x, y, threshold, min_coverage, step=step)
        for b in found:
            trajectories.append(b["trajectory"].assign(**label, box=b["box"], step=range(len(b["trajectory"])),
                                                       chosen=lambda t, c=b["chosen"]: t["step"] == c))  # fmt: skip
            for factor, lim in b["limits"].iterrows():
                prior = table[factor]
                limits.append({**label, "box": b["box"], "factor": factor, "min": lim["min"], "max": lim["max"],
                               "qp": lim["qp values"], "prior_low": prior.low, "prior_high": prior.high})  # fmt: skip
            info["boxes"].append(
                {
                    "box": b["box"],
                    **b["stats"],
                    "limits": {f: [float(r["min"]), float(r["max"])] for f, r in b["limits"].iterrows()},
                }
            )
        if found:
            extra = second_opinions(x, y, threshold, found[0], resamples)
            stable.append(extra["stability"].assign(**label))
            leaves.append(extra["leaves"].assign(**label, limits=extra["leaves"]["limits"].map(json.dumps)))
            scores.append(extra["scores"].rename_axis("factor").reset_index().assign(**label))
            info.update(extra["info"])
        summary["groups"].append(info)
    traj = pd.concat(trajectories, ignore_index=True) if trajectories else pd.DataFrame()
    lims = pd.DataFrame(limits)
    agg = root / "aggregate"
    tables = {"prim_trajectory": traj, "prim_boxes": lims, "prim_resampling": stable, "cart_leaves": leaves,
              "feature_scores": scores}  # fmt: skip
    for name, table in tables.items():
        if isinstance(table, list):
            tables[name] = table = pd.concat(table, ignore_index=True) if table else pd.DataFrame()
        atomic_write_parquet(table, agg / f"{name}.parquet")
    atomic_write_text(agg / "prim.json", json.dumps(summary, indent=1, default=float))
    return {"trajectory": traj, "limits": lims, **{k: tables[k] for k in list(tables)[2:]}, **summary}


def second_opinions(x: pd.DataFrame, y: np.ndarray, threshold: float, box: dict[str, Any],
                    resamples: int) -> dict[str, Any]:  # fmt: skip
    """Beside PRIM's first box: its restrictions' stability under resampling (at the box's coverage), CART's
    leaves, where the two agree, and every factor's feature score."""
    chosen = {f: (float(r["min"]), float(r["max"])) for f, r in box["limits"].iterrows()}
    qp = {f: float(r["qp values"]) for f, r in box["limits"].iterrows()}
    runs = second.resample(x, y, threshold, box["stats"]["coverage"], n=resamples) if resamples else pd.DataFrame(
        columns=["resample", "factor", "coverage", "density"])  # fmt: skip
    stability = second.stability(runs, chosen, qp)
    leaves = second.cart_leaves(x, y, threshold)
    scores = second.feature_scores(x, y)
    per_run = runs.drop_duplicates("resample")
    info = {"resampling": {"resamples": resamples, "fraction": second.RESAMPLE_FRACTION,
                           "coverage_median": float(per_run["coverage"].median()) if resamples else None,
                           "density_median": float(per_run["density"].median()) if resamples else None,
                           "restrictions": {r.factor: r.share_of_resamples for r in stability.itertuples()
                                            if r.in_chosen_box}},
            "cart": {"leaves": len(leaves), **second.agreement(chosen, leaves, x, np.asarray(y) > threshold)},
            "feature_scores_top": {f: float(v) for f, v in scores.head(10).items()}}  # fmt: skip
    return {"stability": stability, "leaves": leaves, "scores": scores, "info": info}


def describe(result: dict[str, Any]) -> str:
    lines = [f"PRIM: {result['outcome']} > {result['threshold']}"]
    for g in result["groups"]:
        where = ", ".join(f"{k}={v}" for k, v in g.items() if k in GROUP_COLUMNS)
        lines.append(f"\n[{where}] {g['points']} points, {g['share_of_interest']:.3f} of them of interest")
        if "note" in g:
            lines.append(f"  {g['note']}: no box to find")
        for b in g["boxes"]:
            lines.append(f"  box {b['box']}: coverage {b['coverage']:.2f}, density {b['density']:.2f}, "
                         f"mass {b['mass']:.3f}, {int(b['res dim'])} restricted dimension(s)")  # fmt: skip
            stable = g.get("resampling", {}).get("restrictions", {}) if b["box"] == 1 else {}
            for factor, (lo, hi) in b["limits"].items():
                prior = priors.priors()[factor]
                kept = f"; in {stable[factor]:.0%} of resamples" if factor in stable else ""
                lines.append(f"    {factor}: {lo:.4g} to {hi:.4g}   (prior {prior.low:g} to {prior.high:g}{kept})")
        if "cart" in g:
            c = g["cart"]
            lines.append(f"  CART: {c['leaves']} leaves, {c['cart_dense_leaves']} predicted of interest (denser than "
                         "all): "
                         f"coverage {c['cart']['coverage']:.2f}, density {c['cart']['density']:.2f} together; "
                         f"both find {c['both_find']} cases, only PRIM {c['only_prim_finds']}, only CART "
                         f"{c['only_cart_finds']}; factors both restrict: "
                         f"{', '.join(c['factors_both']) or 'none'}")  # fmt: skip
            top = ", ".join(f"{f} {v:.3f}" for f, v in list(g["feature_scores_top"].items())[:5])
            lines.append(f"  feature scores (extra trees on {result['outcome']}): {top}")
    return "\n".join(lines)


def run_args(args: argparse.Namespace) -> int:
    """``python -m sim.discovery`` once its arguments are parsed (sim/discovery.py)."""
    if not 0 < args.threshold < 1 or not 0 < args.coverage <= 1:
        print("error: --threshold must lie in (0, 1) and --coverage in (0, 1]", file=sys.stderr)
        return 2
    if not 0 <= args.resamples <= 1000:
        print(f"error: --resamples={args.resamples} is out of range: allowed [0, 1000]", file=sys.stderr)
        return 2
    try:
        result = discover(args.sweep_dir, threshold=args.threshold, min_coverage=args.coverage, step=args.step,
                          resamples=args.resamples)  # fmt: skip
    except SensitivityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(describe(result))
    print(f"\nwrote {args.sweep_dir / 'aggregate'}/prim_trajectory.parquet, prim_boxes.parquet, "
          "prim_resampling.parquet, cart_leaves.parquet, feature_scores.parquet, prim.json")
    return 0
