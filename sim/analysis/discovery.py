"""Scenario discovery: PRIM boxes in the judged parameter space where escalation is likely, from a Latin-hypercube
design sweep (the PRIM package), with resampling, CART and feature scores beside; ``python -m sim.discovery``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import boxes as second
from sim.analysis.sensitivity import GROUP_COLUMNS, SensitivityError, outcome_rows
from sim.model import priors
from sim.run import designs
from sim.run.storage import atomic_write_parquet, atomic_write_text

OUTCOME, THRESHOLD = "p_escalation", "auto"  # sim/discovery.py declares the same for its --help
# Which points are "of interest": a threshold on the outcome. A case of interest should be a minority the analysis
# can describe, neither rare nor half the space (Bryant & Lempert 2010 use about 10-30%): by default ("auto")
# the roundest threshold that puts between 10% and 30% of the points above it, nearest 20%.
SHARE_RANGE, SHARE_AIM, AUTO_QUANTILE = (0.10, 0.30), 0.20, 0.80
MIN_COVERAGE = 0.5  # the chosen box covers at least half the cases of interest,
DENSITY_SHARE = 0.95  # is at least 95% as dense as the densest such box, and is the widest of those,
MAX_DIMS = 4  # ... and restricts at most this many parameters: a box people can read (Bryant & Lempert 2010)
MAX_BOXES = 3
QP_MAX = second.QP_MAX  # a restriction whose quasi-p value exceeds this is dropped (Bryant & Lempert 2010)
MIN_TRIM = second.MIN_TRIM  # a restriction trimming less of its prior's range than this is no restriction
# Lift = density / base rate. A box less than half again as dense as the whole space is barely better than
# saying "anywhere": it is reported with a warning.
LIFT_MIN = 1.5
FILES = ("prim_trajectory.parquet", "prim_boxes.parquet", "prim_resampling.parquet", "cart_leaves.parquet",
         "feature_scores.parquet", "prim.json")  # fmt: skip


def share_above(y: np.ndarray, threshold: float) -> float:
    return float((np.asarray(y) > threshold).mean())


def _round_candidates(lo: float, hi: float) -> list[tuple[float, int]]:
    """Numbers in [lo, hi] with their roundness (0 roundest: the fewest significant decimals), each once."""
    top = int(np.floor(np.log10(max(abs(lo), abs(hi), 1e-12)))) + 1
    out: dict[float, int] = {}
    for level, exp in enumerate(range(top, top - 5, -1)):
        step = 10.0**exp
        for v in np.arange(np.ceil(lo / step) * step, hi + step / 2, step):
            if lo <= v <= hi:
                out.setdefault(float(round(v, 12)), level)
    return sorted(out.items(), key=lambda kv: kv[1])


def choose_threshold(y: np.ndarray, threshold: float | str | None = "auto",
                     quantile: float | None = None) -> dict[str, Any]:  # fmt: skip
    """The threshold that marks the points of interest (outcome above it), how it was chosen, the share of
    points above it, and a warning when that share lies outside SHARE_RANGE.

    ``quantile``: the outcome's quantile (0.8: about the top fifth); ``threshold``: a number, or "auto": the
    roundest number that puts SHARE_RANGE of the points above it, nearest SHARE_AIM (else the AUTO_QUANTILE)."""
    y = np.asarray(y, dtype=float)
    if quantile is not None:
        t = float(np.quantile(y, quantile))
        rule = f"the {quantile:g} quantile of the outcome"
    elif threshold in (None, "auto"):
        lo_q, hi_q = np.quantile(y, [1 - SHARE_RANGE[1], 1 - SHARE_RANGE[0]])
        found = [(c, level) for c, level in _round_candidates(float(lo_q), float(hi_q))
                 if SHARE_RANGE[0] <= share_above(y, c) <= SHARE_RANGE[1]]  # fmt: skip
        if found:  # the roundest; among equally round ones the nearest to the aim
            ties = [c for c, level in found if level == found[0][1]]
            t = min(ties, key=lambda c: abs(share_above(y, c) - SHARE_AIM))
            rule = f"auto: the roundest threshold with {SHARE_RANGE[0]:.0%}-{SHARE_RANGE[1]:.0%} of the points above it"
        else:
            t = float(np.quantile(y, AUTO_QUANTILE))
            rule = f"auto: no round threshold fits, the {AUTO_QUANTILE:g} quantile of the outcome"
    else:
        t = float(threshold)
        rule = "given"
    share = share_above(y, t)
    warning = None
    if not SHARE_RANGE[0] <= share <= SHARE_RANGE[1]:
        why = ("for so common a case describes most of the space" if share > 0.5 else
               "of so rare a case rests on few points" if share < SHARE_RANGE[0] else "says less than it could")
        warning = (f"{share:.0%} of the points lie above the threshold {t:.4g} (aim: {SHARE_RANGE[0]:.0%} to "
                   f"{SHARE_RANGE[1]:.0%}): a box {why}; try --threshold auto or --quantile 0.8")  # fmt: skip
    return {"threshold": t, "rule": rule, "share_of_interest": share, "warning": warning}


def _restricted(box: Any, steps: int, ranges: second.Ranges) -> list[dict[str, tuple[float, float]]]:
    return [second.real_restrictions(second.step_box(box, i), ranges) for i in range(steps)]


def find_boxes(
    x: pd.DataFrame,
    y: np.ndarray,
    threshold: float,
    min_coverage: float = MIN_COVERAGE,
    max_dims: int = MAX_DIMS,
    max_boxes: int = MAX_BOXES,
    step: int | None = None,
    ranges: second.Ranges | None = None,
) -> list[dict[str, Any]]:
    """PRIM (peeling and pasting) for cases with y > threshold: for each box found in turn, its peeling
    trajectory (with each step's lift and its real restrictions: those trimming at least MIN_TRIM of their
    ``ranges``, default the data's) and its limits (with PRIM's quasi-p values) at the chosen step: among the
    steps that cover at least ``min_coverage`` of the cases of interest and really restrict at most ``max_dims``
    values, the widest whose density is within DENSITY_SHARE of the densest. Restrictions PRIM cannot support
    (quasi-p above QP_MAX) and edge trims are then dropped. ``step`` chooses the first box by its index on the
    trajectory instead (its edge trims dropped, the rest kept as they are)."""
    second.quiet_prim()
    from prim import Prim

    ranges = dict(ranges or {c: (float(x[c].min()), float(x[c].max())) for c in x.columns})
    base = share_above(y, threshold)
    # PRIM is given the cases of interest as 0/1 (its own threshold argument ignores a threshold of 0)
    finder = Prim(x, (np.asarray(y, dtype=float) > threshold).astype(int))
    found = []
    for number in range(1, max_boxes + 1):
        box = finder.find_box()
        if box is None:
            break
        traj = box.peeling_trajectory.astype(float).reset_index(drop=True)
        real = _restricted(box, len(traj), ranges)
        if number == 1 and step is not None:
            if not 0 <= step < len(traj):
                raise SensitivityError(f"--step={step} is out of range: allowed [0, {len(traj) - 1}] (the steps of "
                                       "the first box's peeling trajectory)")  # fmt: skip
            chosen = step
        else:
            ok = traj.index[(traj["coverage"] >= min_coverage) & (np.array([len(r) for r in real]) <= max_dims)]
            if len(ok) == 0:
                break
            # Peeling trades coverage for density; take the widest box that is nearly as dense as the densest.
            dense = traj.loc[ok, "density"] >= DENSITY_SHARE * traj.loc[ok, "density"].max()
            chosen = int(traj.loc[ok][dense]["coverage"].idxmax())
        box.select(chosen)
        picked = chosen
        limits = box.limits.astype(float)
        # Drop what says nothing: edge trims always; restrictions PRIM cannot support (quasi-p above QP_MAX)
        # for a box chosen by the rule. Dropping appends the wider box to the trajectory.
        drop = [f for f in limits.index if f not in real[chosen]]
        if step is None or number > 1:
            drop += [f for f, qp in limits["qp values"].items() if qp > QP_MAX and f not in drop]
        if drop and len(drop) < len(limits):
            for name in drop:
                box.drop_restriction(name)
            traj = box.peeling_trajectory.astype(float).reset_index(drop=True)
            real = _restricted(box, len(traj), ranges)
            chosen = len(traj) - 1
            limits = box.limits.astype(float)
        limits = limits[[f in real[chosen] for f in limits.index]]  # an edge trim left (all were): none
        traj = traj.assign(lift=traj["density"] / base if base > 0 else np.nan,
                           restricted=[len(r) for r in real],
                           restrictions=[json.dumps({f: [lo, hi] for f, (lo, hi) in r.items()}) for r in real])
        stats = {k: float(traj.loc[chosen, k]) for k in ("coverage", "density", "mass", "res dim", "lift")}
        found.append({"box": number, "trajectory": traj, "chosen": chosen, "from_step": picked, "limits": limits,
                      "stats": stats, "real": real})  # fmt: skip
        if traj.loc[chosen, "density"] <= base:
            break  # no denser than the whole space: nothing more to find
    return found


def _points(root: Path) -> tuple[designs.DesignSpec, pd.DataFrame]:
    root = Path(root)
    if not (root / "design.json").exists():
        raise SensitivityError(f"{root} has no design.json: not a design sweep (experiment=discovery)")
    spec = designs.read_design(root)
    try:
        points = pd.read_parquet(root / "aggregate" / "points.parquet")
    except (OSError, ValueError):
        raise SensitivityError(f"{root / 'aggregate'} has no readable points.parquet: aggregate first "
                               f"(python -m sim.aggregate {root})") from None  # fmt: skip
    return spec, points


def discover(
    root: Path,
    outcome: str = OUTCOME,
    threshold: float | str | None = THRESHOLD,
    min_coverage: float = MIN_COVERAGE,
    step: int | None = None,
    resamples: int = second.RESAMPLES,
    quantile: float | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """PRIM on every group of a Latin-hypercube sweep, and beside its first box: the stability of each step of its
    trajectory and of the chosen box's restrictions over ``resamples`` half-size resamples, CART's leaves and every
    factor's feature score. Writes, in aggregate/: prim_trajectory.parquet, prim_boxes.parquet,
    prim_resampling.parquet, cart_leaves.parquet, feature_scores.parquet and prim.json (nothing if an argument is
    refused). With ``step``: only that box of the first trajectory, into prim_step<N>.json and
    prim_step<N>_boxes.parquet, leaving the default box's files as they are (at the default box's threshold)."""
    root = Path(root)
    spec, points = _points(root)
    agg = root / "aggregate"
    if step is not None and threshold in (None, "auto") and quantile is None and (agg / "prim.json").exists():
        threshold = json.loads((agg / "prim.json").read_text())["threshold"]  # the listed trajectory's own
    if outcome not in points.columns:
        raise SensitivityError(f"--outcome {outcome} is not a column of the points table")
    table = priors.priors()
    cols = designs.factor_columns(spec.factors)
    ranges = {f: (table[f].low, table[f].high) for f in spec.factors}
    chosen_t = choose_threshold(points[outcome].to_numpy(dtype=float), threshold, quantile)
    t = chosen_t["threshold"]
    trajectories, limits = [], []
    summary = {"outcome": outcome, **chosen_t, "min_trim": MIN_TRIM, "lift_min": LIFT_MIN, "groups": []}
    stable, leaves, scores = [], [], []
    group_cols = [c for c in GROUP_COLUMNS if c in points.columns]
    for group, pts in points.groupby(group_cols, dropna=False, sort=True):
        pts = pts.reset_index(drop=True)
        outcome_rows(spec, pts)  # every design row finished (raises otherwise)
        label = dict(zip(group_cols, group if isinstance(group, tuple) else (group,), strict=True))
        x = pts[cols].set_axis(list(spec.factors), axis=1).astype(float)
        y = pts[outcome].to_numpy(dtype=float)
        share = share_above(y, t)
        info = {**label, "points": len(pts), "share_of_interest": share, "boxes": []}
        if share == 0 or share == 1:
            where = "no" if share == 0 else "every"
            summary["groups"].append({**info, "note": f"{outcome} > {t:.4g} at {where} point"})
            continue
        found = find_boxes(x, y, t, min_coverage, step=step, ranges=ranges)
        runs = second.resample_runs(x, y, t, n=resamples, progress=progress) if found and resamples else []
        for b in found:
            traj = b["trajectory"]
            if b["box"] == 1:
                traj = traj.assign(stability=second.step_stability(traj, [set(r) for r in b["real"]], runs, ranges))
            trajectories.append(traj.assign(**label, box=b["box"], step=range(len(traj)),
                                            chosen=lambda d, c=b["chosen"]: d["step"] == c))  # fmt: skip
            for factor, lim in b["limits"].iterrows():
                prior = table[factor]
                limits.append({**label, "box": b["box"], "factor": factor, "min": lim["min"], "max": lim["max"],
                               "qp": lim["qp values"], "prior_low": prior.low, "prior_high": prior.high,
                               "trimmed": second.trimmed(lim["min"], lim["max"], prior.low, prior.high)})  # fmt: skip
            entry = {"box": b["box"], "step": b["chosen"], "from_step": b["from_step"], **b["stats"],
                     "limits": {f: [float(r["min"]), float(r["max"])] for f, r in b["limits"].iterrows()}}
            if b["stats"]["lift"] < LIFT_MIN:
                entry["warning"] = (f"lift {b['stats']['lift']:.2f}: the box is barely denser than the whole space "
                                    f"(density {b['stats']['density']:.2f} against {share:.2f}); it says little")
            info["boxes"].append(entry)
        if found and step is None:
            extra = second_opinions(x, y, t, found[0], runs, ranges)
            stable.append(extra["stability"].assign(**label))
            leaves.append(extra["leaves"].assign(**label, limits=extra["leaves"]["limits"].map(json.dumps)))
            scores.append(extra["scores"].rename_axis("factor").reset_index().assign(**label))
            info.update(extra["info"])
            box1 = info["boxes"][0]
            top = list(extra["scores"].index[:5])
            box1["leaders_not_restricted"] = [f for f in top if f not in box1["limits"]]
        summary["groups"].append(info)
    traj = pd.concat(trajectories, ignore_index=True) if trajectories else pd.DataFrame()
    lims = pd.DataFrame(limits)
    if step is not None:
        stem = f"prim_step{step}"
        first = lims[lims["box"] == 1] if len(lims) else lims
        atomic_write_parquet(first, agg / f"{stem}_boxes.parquet")
        for g in summary["groups"]:
            g["boxes"] = g["boxes"][:1]
        atomic_write_text(agg / f"{stem}.json", json.dumps({**summary, "step": step}, indent=1, default=float))
        return {"trajectory": traj, "limits": lims, "files": [f"{stem}.json", f"{stem}_boxes.parquet"], **summary}
    tables = {"prim_trajectory": traj, "prim_boxes": lims, "prim_resampling": stable, "cart_leaves": leaves,
              "feature_scores": scores}  # fmt: skip
    for name, frame in tables.items():
        if isinstance(frame, list):
            tables[name] = frame = pd.concat(frame, ignore_index=True) if frame else pd.DataFrame()
        atomic_write_parquet(frame, agg / f"{name}.parquet")
    atomic_write_text(agg / "prim.json", json.dumps(summary, indent=1, default=float))
    return {"trajectory": traj, "limits": lims, **{k: tables[k] for k in list(tables)[2:]}, "files": list(FILES),
            **summary}  # fmt: skip


def second_opinions(x: pd.DataFrame, y: np.ndarray, threshold: float, box: dict[str, Any],
                    runs: Sequence[tuple[Any, pd.DataFrame]], ranges: second.Ranges) -> dict[str, Any]:  # fmt: skip
    """Beside PRIM's first box: its restrictions' stability under resampling (at the box's coverage), CART's
    leaves, where the two agree, and every factor's feature score."""
    chosen = {f: (float(r["min"]), float(r["max"])) for f, r in box["limits"].iterrows()}
    qp = {f: float(r["qp values"]) for f, r in box["limits"].iterrows()}
    resampled = second.resample(x, y, threshold, box["stats"]["coverage"], ranges=ranges, runs=runs) if runs else \
        pd.DataFrame(columns=["resample", "factor", "coverage", "density"])  # fmt: skip
    stability = second.stability(resampled, chosen, qp)
    leaves = second.cart_leaves(x, y, threshold)
    scores = second.feature_scores(x, y)
    per_run = resampled.drop_duplicates("resample")
    info = {"resampling": {"resamples": len(runs), "fraction": second.RESAMPLE_FRACTION,
                           "coverage_median": float(per_run["coverage"].median()) if runs else None,
                           "density_median": float(per_run["density"].median()) if runs else None,
                           "restrictions": {r.factor: r.share_of_resamples for r in stability.itertuples()
                                            if r.in_chosen_box}},
            "cart": {"leaves": len(leaves), **second.agreement(chosen, leaves, x, np.asarray(y) > threshold)},
            "feature_scores_top": {f: float(v) for f, v in scores.head(10).items()}}  # fmt: skip
    return {"stability": stability, "leaves": leaves, "scores": scores, "info": info}


def _box_lines(b: Mapping[str, Any], stable: Mapping[str, float]) -> list[str]:
    lines = [f"  box {b['box']} (step {b.get('step', '?')}): coverage {b['coverage']:.2f}, density "
             f"{b['density']:.2f}, lift {b['lift']:.2f}, mass {b['mass']:.3f}, {len(b['limits'])} restriction(s)"]
    for factor, (lo, hi) in b["limits"].items():
        prior = priors.priors()[factor]
        kept = f"; in {stable[factor]:.0%} of resamples" if factor in stable else ""
        lines.append(f"    {factor}: {lo:.4g} to {hi:.4g}   (prior {prior.low:g} to {prior.high:g}{kept})")
    if b.get("warning"):
        lines.append(f"  warning: {b['warning']}")
    return lines


def describe(result: dict[str, Any]) -> str:
    lines = [f"PRIM: {result['outcome']} > {result['threshold']:.4g} ({result['rule']}); restrictions trimming less "
             f"than {result['min_trim']:.0%} of a prior's range are no restriction"]  # fmt: skip
    if result.get("warning"):
        lines.append(f"warning: {result['warning']}")
    for g in result["groups"]:
        where = ", ".join(f"{k}={v}" for k, v in g.items() if k in GROUP_COLUMNS)
        lines.append(f"\n[{where}] {g['points']} points, {g['share_of_interest']:.3f} of them of interest (the base "
                     "rate a box's density is compared with)")  # fmt: skip
        if "note" in g:
            lines.append(f"  {g['note']}: no box to find")
        for b in g["boxes"]:
            lines += _box_lines(b, g.get("resampling", {}).get("restrictions", {}) if b["box"] == 1 else {})
            if b.get("leaders_not_restricted"):
                lines.append(f"  leading feature scores the box does not restrict: "
                             f"{', '.join(b['leaders_not_restricted'])} (they move {result['outcome']} over their "
                             "range, but no interval of one alone concentrates the cases of interest)")  # fmt: skip
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


def _short(restrictions: str) -> str:
    """A step's restrictions in a few characters each: 'stance_threshold <= 0.571, grievance_half_life >= 43.2'
    (a side is open where it cuts less than 1% of the prior's range)."""
    parts = []
    for f, (lo, hi) in json.loads(restrictions).items():
        prior = priors.priors().get(f)
        low, high = (prior.low, prior.high) if prior is not None else (lo, hi)
        cut_lo, cut_hi = second.trimmed(lo, high, low, high) >= 0.01, second.trimmed(low, hi, low, high) >= 0.01
        parts.append(f"{f} {lo:.3g}-{hi:.3g}" if cut_lo and cut_hi else f"{f} >= {lo:.3g}" if cut_lo
                     else f"{f} <= {hi:.3g}")  # fmt: skip
    return ", ".join(parts) or "(whole space)"


def inspect(root: Path, width: int | None = None) -> str:
    """The first box's peeling trajectory as discover() stored it, one line per step: coverage, density, lift,
    the number of real restrictions and their stability under resampling, then the restrictions themselves (cut to
    ``width`` characters, default the terminal's); nothing is computed anew (EMA's inspect_tradeoff, as text)."""
    import shutil

    path = Path(root) / "aggregate" / "prim_trajectory.parquet"
    try:
        traj = pd.read_parquet(path)
        info = json.loads((Path(root) / "aggregate" / "prim.json").read_text())
    except (OSError, ValueError):
        raise SensitivityError(f"{path} or prim.json is missing: run python -m sim.discovery {root} first") from None
    if traj.empty or "lift" not in traj.columns:
        raise SensitivityError(f"{path} has no trajectory with lift (no box, or written by an older version): run "
                               f"python -m sim.discovery {root} again")  # fmt: skip
    width = width or max(shutil.get_terminal_size((160, 24)).columns, 100)
    lines = [f"PRIM trajectory of the first box: {info['outcome']} > {info['threshold']:.4g} ({info['rule']}); "
             f"{info['share_of_interest']:.3f} of the points are of interest (lift = density / that share)",
             "n: restrictions trimming at least "
             f"{info['min_trim']:.0%} of the prior's range; stability: mean Jaccard index of the restricted values "
             "between this box and the resamples' boxes at the same coverage (1: the same values every time)",
             f"{'':2}{'step':>4} {'coverage':>8} {'density':>7} {'lift':>5} {'mass':>5} {'n':>2} {'stability':>9}  "
             "restrictions"]  # fmt: skip
    group_cols = [c for c in GROUP_COLUMNS if c in traj.columns]
    notes = []
    for group, t in traj[traj["box"] == 1].groupby(group_cols, dropna=False, sort=True):
        if traj[group_cols].drop_duplicates().shape[0] > 1:
            lines.append(f"[{', '.join(f'{k}={v}' for k, v in zip(group_cols, group, strict=True))}]")
        for r in t.itertuples():
            mark = "*" if r.chosen else " "
            stab = f"{r.stability:.2f}" if pd.notna(getattr(r, "stability", np.nan)) else "-"
            line = (f"{mark} {int(r.step):>4} {r.coverage:>8.3f} {r.density:>7.3f} {r.lift:>5.2f} {r.mass:>5.3f} "
                    f"{int(r.restricted):>2} {stab:>9}  {_short(r.restrictions)}")  # fmt: skip
            lines.append(line if len(line) <= width else line[: width - 1] + "…")
        boxes = [b for g in info["groups"] for b in g.get("boxes", []) if b["box"] == 1]
        if boxes and boxes[0].get("from_step") is not None and boxes[0]["from_step"] != boxes[0]["step"]:
            notes.append(f"step {boxes[0]['step']} is step {boxes[0]['from_step']} less its edge trims and the "
                         f"restrictions PRIM cannot support (quasi-p above {QP_MAX})")  # fmt: skip
    lines.append("* the chosen box" + (f"; {'; '.join(notes)}" if notes else "")
                 + ". python -m sim.discovery <sweep> --step N writes another box as prim_stepN.json")
    return "\n".join(lines)


def run_args(args: argparse.Namespace) -> int:
    """``python -m sim.discovery`` once its arguments are parsed (sim/discovery.py)."""
    from sim.run.folders import sweep_root
    from sim.run.progress import log_to_stderr

    root = sweep_root(args.sweep_dir)
    if args.inspect:
        try:
            print(inspect(root))
        except SensitivityError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    threshold: float | str = args.threshold
    if threshold != "auto":
        try:
            threshold = float(threshold)
        except ValueError:
            print(f"error: --threshold={args.threshold} is not a number or auto", file=sys.stderr)
            return 2
    if args.quantile is not None and not 0 < args.quantile < 1:
        print(f"error: --quantile={args.quantile} is out of range: allowed (0, 1)", file=sys.stderr)
        return 2
    if not 0 < args.coverage <= 1:
        print(f"error: --coverage={args.coverage} is out of range: allowed (0, 1]", file=sys.stderr)
        return 2
    if not 0 <= args.resamples <= 1000:
        print(f"error: --resamples={args.resamples} is out of range: allowed [0, 1000]", file=sys.stderr)
        return 2
    log_to_stderr()
    try:
        result = discover(root, outcome=args.outcome, threshold=threshold, min_coverage=args.coverage,
                          step=args.step, resamples=args.resamples, quantile=args.quantile)  # fmt: skip
    except SensitivityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(describe(result))
    print(f"\nwrote {root / 'aggregate'}/{', '.join(result['files'])}")
    return 0
