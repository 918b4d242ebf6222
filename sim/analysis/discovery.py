"""Scenario discovery: PRIM boxes in the judged parameter space where escalation is likely, from a
Latin-hypercube design sweep (the PRIM package); ``python -m sim.discovery <sweep dir>``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.sensitivity import GROUP_COLUMNS, SensitivityError, outcome_rows
from sim.model import priors
from sim.run import designs
from sim.run.storage import atomic_write_parquet, atomic_write_text

OUTCOME, THRESHOLD = "p_escalation", 0.2  # a point "escalates" when more than a fifth of its runs do
MIN_COVERAGE = 0.5  # the chosen box covers at least half the cases of interest,
DENSITY_SHARE = 0.95  # is at least 95% as dense as the densest such box, and is the widest of those,
MAX_DIMS = 4  # ... and restricts at most this many parameters: a box people can read (Bryant & Lempert 2010)
MAX_BOXES = 3
QP_MAX = 0.05  # a restriction whose quasi-p value exceeds this is dropped (Bryant & Lempert 2010)


def find_boxes(
    x: pd.DataFrame,
    y: np.ndarray,
    threshold: float,
    min_coverage: float = MIN_COVERAGE,
    max_dims: int = MAX_DIMS,
    max_boxes: int = MAX_BOXES,
) -> list[dict[str, Any]]:
    """PRIM (peeling and pasting) for cases with y > threshold: for each box found in turn, its peeling
    trajectory and its limits (with PRIM's quasi-p values) at the chosen step: among the steps that
    cover at least ``min_coverage`` of the cases of interest and restrict at most ``max_dims``
    parameters, the widest whose density is within DENSITY_SHARE of the densest."""
    from prim import Prim

    logging.getLogger("prim").setLevel(logging.WARNING)
    finder = Prim(x, np.asarray(y, dtype=float), threshold=threshold, threshold_type=">")
    boxes = []
    for number in range(1, max_boxes + 1):
        box = finder.find_box()
        if box is None:
            break
        traj = box.peeling_trajectory.astype(float).reset_index(drop=True)
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
    root: Path, outcome: str = OUTCOME, threshold: float = THRESHOLD, min_coverage: float = MIN_COVERAGE
) -> dict[str, Any]:
    """PRIM on every group of a Latin-hypercube sweep; writes aggregate/prim_trajectory.parquet,
    aggregate/prim_boxes.parquet and aggregate/prim.json."""
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
        for b in find_boxes(x, y, threshold, min_coverage):
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
        summary["groups"].append(info)
    traj = pd.concat(trajectories, ignore_index=True) if trajectories else pd.DataFrame()
    lims = pd.DataFrame(limits)
    agg = root / "aggregate"
    atomic_write_parquet(traj, agg / "prim_trajectory.parquet")
    atomic_write_parquet(lims, agg / "prim_boxes.parquet")
    atomic_write_text(agg / "prim.json", json.dumps(summary, indent=1, default=float))
    return {"trajectory": traj, "limits": lims, **summary}


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
            for factor, (lo, hi) in b["limits"].items():
                prior = priors.priors()[factor]
                lines.append(f"    {factor}: {lo:.4g} to {hi:.4g}   (prior {prior.low:g} to {prior.high:g})")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.discovery", description=__doc__.splitlines()[0])
    ap.add_argument("sweep_dir", type=Path, help="a Latin-hypercube design sweep (experiment=discovery)")
    ap.add_argument("--threshold", type=float, default=THRESHOLD, help=f"escalation share of interest ({THRESHOLD})")
    ap.add_argument("--coverage", type=float, default=MIN_COVERAGE, help=f"least coverage of a box ({MIN_COVERAGE})")
    args = ap.parse_args(argv)
    if not 0 < args.threshold < 1 or not 0 < args.coverage <= 1:
        print("error: --threshold must lie in (0, 1) and --coverage in (0, 1]", file=sys.stderr)
        return 2
    try:
        result = discover(args.sweep_dir, threshold=args.threshold, min_coverage=args.coverage)
    except SensitivityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(describe(result))
    print(f"\nwrote {args.sweep_dir / 'aggregate'}/prim_trajectory.parquet, prim_boxes.parquet, prim.json")
    return 0
