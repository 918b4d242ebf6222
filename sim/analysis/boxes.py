"""Second opinions on a scenario-discovery box: how stable PRIM's restrictions are under resampling, CART's
leaves on the same points (scikit-learn), and feature scores of every value (extra trees)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

Limits = Mapping[str, tuple[float, float]]
RESAMPLES, RESAMPLE_FRACTION, RESAMPLE_SEED = 20, 0.5, 2021
CART_MASS_MIN = 0.05  # a CART leaf holds at least this share of the points (EMA workbench's default)
CART_ALPHAS = 30  # pruning penalties tried by cross-validation (spread over the pruning path)
TREES, TREE_SEED = 250, 7
QP_MAX = 0.05  # a restriction whose quasi-p value exceeds this is noise, not structure (Bryant & Lempert 2010)
# A restriction that trims less than this share of a value's prior range is no restriction: PRIM's first peels
# often shave slivers off the edges (0.1013 to 0.4801 of 0.1 to 0.5: 5%), which say nothing a reader can use.
MIN_TRIM = 0.10
Ranges = Mapping[str, tuple[float, float]]


def quiet_prim() -> None:
    """Silence the PRIM package's INFO lines (its import logs "mpld3 library not found"): before importing it."""
    logging.getLogger("prim").setLevel(logging.WARNING)


def trimmed(lo: float, hi: float, low: float, high: float) -> float:
    """The share of the range [low, high] that the limits [lo, hi] cut off (0: none, 1: all)."""
    span = high - low
    return float((max(lo - low, 0.0) + max(high - hi, 0.0)) / span) if span > 0 else 0.0


def real_restrictions(limits: Limits, ranges: Ranges, min_trim: float = MIN_TRIM) -> dict[str, tuple[float, float]]:
    """The restrictions among ``limits`` that trim at least ``min_trim`` of their value's range (edge trims left
    out); a value without a known range is kept."""
    return {f: (lo, hi) for f, (lo, hi) in limits.items()
            if f not in ranges or trimmed(lo, hi, *ranges[f]) >= min_trim}  # fmt: skip


def step_box(box: Any, step: int) -> dict[str, tuple[float, float]]:
    """Every value's limits at one step of a PRIM trajectory, without PRIM's quasi-p values (cheap: PRIM 1.0 keeps
    each step's limits as a record array, row 0 the lower and row 1 the upper limit)."""
    lims = box._box_lims[step]
    return {name: (float(lims[name][0]), float(lims[name][1])) for name in lims.dtype.names}


def box_stats(inside: np.ndarray, interest: np.ndarray) -> dict[str, float]:
    """Coverage (share of the cases of interest inside), density (share inside that are of interest), mass."""
    inside, interest = np.asarray(inside, bool), np.asarray(interest, bool)
    n_in = int(inside.sum())
    return {"coverage": float((inside & interest).sum() / max(1, interest.sum())),
            "density": float((inside & interest).sum() / n_in) if n_in else float("nan"),
            "mass": float(n_in / len(inside))}  # fmt: skip


def inside(x: pd.DataFrame, limits: Limits) -> np.ndarray:
    """Which points lie in the box (limits inclusive, as PRIM's are)."""
    mask = np.ones(len(x), dtype=bool)
    for factor, (lo, hi) in limits.items():
        mask &= (x[factor].to_numpy() >= lo) & (x[factor].to_numpy() <= hi)
    return mask


def prim_trajectory(x: pd.DataFrame, y: np.ndarray, threshold: float) -> tuple[Any, pd.DataFrame]:
    """PRIM's first box on (x, y > threshold) and its peeling trajectory (one row per step)."""
    quiet_prim()
    from prim import Prim

    box = Prim(x, (np.asarray(y, dtype=float) > threshold).astype(int)).find_box()  # 0/1: see find_boxes
    return box, box.peeling_trajectory.astype(float).reset_index(drop=True)


def step_limits(box: Any, step: int, ranges: Ranges | None = None) -> dict[str, tuple[float, float]]:
    """The restrictions of a PRIM box at one step of its trajectory that PRIM can support (quasi-p at most
    QP_MAX; all of them if none can) and that trim at least MIN_TRIM of their range (with ``ranges``), as
    sim.discovery keeps those of the chosen box."""
    box.select(step)
    limits = box.limits.astype(float)
    strong = limits[limits["qp values"] <= QP_MAX]
    kept = {f: (float(r["min"]), float(r["max"])) for f, r in (strong if len(strong) else limits).iterrows()}
    return real_restrictions(kept, ranges) if ranges is not None else kept


def resample_runs(
    x: pd.DataFrame,
    y: np.ndarray,
    threshold: float,
    n: int = RESAMPLES,
    fraction: float = RESAMPLE_FRACTION,
    seed: int = RESAMPLE_SEED,
    progress: bool | None = None,
) -> list[tuple[Any, pd.DataFrame]]:
    """PRIM's first box and trajectory on each of ``n`` random subsets (``fraction`` of the points each, without
    replacement): the raw material of the box's stability, computed once."""
    from sim.run.progress import progress_bar

    rng = np.random.default_rng(seed)
    out = []
    with progress_bar(n, progress, "PRIM on resamples", unit="resamples") as bar:
        for _ in range(n):
            pick = np.sort(rng.choice(len(x), size=int(fraction * len(x)), replace=False))
            out.append(prim_trajectory(x.iloc[pick].reset_index(drop=True), np.asarray(y)[pick], threshold))
            bar.update(1)
    return out


def at_coverage(traj: pd.DataFrame, coverage: float) -> int:
    """The densest step of a trajectory that still covers ``coverage`` of its cases of interest (0 if none)."""
    ok = traj.index[traj["coverage"] >= coverage]
    return int(traj.loc[ok, "density"].idxmax()) if len(ok) else 0


def step_stability(traj: pd.DataFrame, restricted: Sequence[set[str]], runs: Sequence[tuple[Any, pd.DataFrame]],
                   ranges: Ranges) -> np.ndarray:  # fmt: skip
    """For each step of a trajectory (its restricted values ``restricted[i]``): how alike the resamples' boxes
    at the same coverage restrict, as the mean Jaccard index of the two sets of restricted values (1: every
    resample restricts exactly these values; 0: none of them). NaN without resamples."""
    if not runs:
        return np.full(len(traj), np.nan)
    out = np.empty(len(traj))
    for i, cov in enumerate(traj["coverage"]):
        scores = []
        for box, t in runs:
            other = set(real_restrictions(step_box(box, at_coverage(t, float(cov))), ranges))
            union = restricted[i] | other
            scores.append(len(restricted[i] & other) / len(union) if union else 1.0)
        out[i] = float(np.mean(scores))
    return out


def resample(
    x: pd.DataFrame,
    y: np.ndarray,
    threshold: float,
    coverage: float,
    n: int = RESAMPLES,
    fraction: float = RESAMPLE_FRACTION,
    seed: int = RESAMPLE_SEED,
    ranges: Ranges | None = None,
    runs: Sequence[tuple[Any, pd.DataFrame]] | None = None,
) -> pd.DataFrame:
    """PRIM on ``n`` random subsets (``fraction`` of the points each, without replacement; or the given
    ``runs`` of resample_runs); in each, the box at the same trade-off as the chosen one: the densest step that
    still covers ``coverage`` of the subset's cases of interest, less its restrictions of quasi-p above QP_MAX
    and its edge trims (as the chosen box). One row per (resample, restricted factor), with the box's coverage
    and density on all the points (half unseen)."""
    interest = np.asarray(y) > threshold
    if runs is None:
        runs = resample_runs(x, y, threshold, n, fraction, seed, progress=False)
    rows = []
    for i, (box, traj) in enumerate(runs):
        limits = step_limits(box, at_coverage(traj, coverage), ranges)
        stats = box_stats(inside(x, limits), interest)
        found = [{"resample": i, "factor": f, "min": lo, "max": hi, "res_dim": len(limits), **stats}
                 for f, (lo, hi) in limits.items()]  # fmt: skip
        rows += found or [{"resample": i, "factor": None, "res_dim": 0, **stats}]
    return pd.DataFrame(rows)


def stability(resamples: pd.DataFrame, chosen: Limits, qp: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Per factor restricted in the chosen box or in any resample: the share of resamples that restrict it,
    whether the chosen box does, and the chosen restriction's quasi-p value; most stable first."""
    n = resamples["resample"].nunique()
    share = resamples.dropna(subset=["factor"]).groupby("factor")["resample"].nunique() / n
    factors = sorted(set(share.index) | set(chosen))
    table = pd.DataFrame({"factor": factors, "share_of_resamples": [float(share.get(f, 0.0)) for f in factors],
                          "in_chosen_box": [f in chosen for f in factors],
                          "qp": [float((qp or {}).get(f, np.nan)) for f in factors]})  # fmt: skip
    return table.sort_values(["share_of_resamples", "in_chosen_box"], ascending=False, ignore_index=True)


def cart_leaves(
    x: pd.DataFrame, y: np.ndarray, threshold: float, mass_min: float = CART_MASS_MIN, seed: int = 0
) -> pd.DataFrame:
    """A classification tree (CART) for y > threshold, each leaf holding at least ``mass_min`` of the points,
    the two classes weighted equally (cases of interest are rare: unweighted, "never" is the most accurate
    tree), pruned by cost complexity with the penalty chosen by 5-fold cross-validation of balanced accuracy
    (the one-standard-error rule, Breiman et al. 1984: the simplest tree within one standard error of the best),
    so that leaves do not split on noise. One row per leaf: coverage, density, mass, whether the tree predicts
    "of interest" there (with equal weights: the leaf is denser than the whole space), its number of
    restrictions and its limits (a box, as PRIM's), densest first. A leaf's limits are the splits on its path;
    unsplit factors are unrestricted."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.tree import DecisionTreeClassifier

    interest = np.asarray(y) > threshold
    leaf = max(1, int(mass_min * len(x)))
    data = x.to_numpy()
    kw = {"min_samples_leaf": leaf, "class_weight": "balanced", "random_state": seed}
    path = DecisionTreeClassifier(**kw).cost_complexity_pruning_path(data, interest)
    alphas = np.unique(path.ccp_alphas)
    alphas = alphas[np.linspace(0, len(alphas) - 1, min(len(alphas), CART_ALPHAS)).round().astype(int)]
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    scores = np.array([cross_val_score(DecisionTreeClassifier(ccp_alpha=a, **kw), data, interest, cv=folds,
                                       scoring="balanced_accuracy") for a in alphas])  # fmt: skip
    mean, se = scores.mean(axis=1), scores.std(axis=1, ddof=1) / np.sqrt(scores.shape[1])
    best = int(mean.argmax())
    alpha = alphas[mean >= mean[best] - se[best]].max()  # the largest penalty (simplest tree) within one SE
    tree = DecisionTreeClassifier(ccp_alpha=alpha, **kw).fit(data, interest)
    t, names = tree.tree_, list(x.columns)
    leaf_of = tree.apply(x.to_numpy())
    rows = []

    def walk(node: int, limits: dict[str, tuple[float, float]]) -> None:
        if t.children_left[node] == -1:
            stats = box_stats(leaf_of == node, interest)
            predicted = bool(np.argmax(t.value[node][0]) == list(tree.classes_).index(True)) if True in tree.classes_ \
                else False  # fmt: skip
            rows.append({"leaf": node, **stats, "predicted": predicted, "res_dim": len(limits), "limits": dict(limits)})
            return
        f, cut = names[t.feature[node]], float(t.threshold[node])
        lo, hi = limits.get(f, (-np.inf, np.inf))
        walk(t.children_left[node], {**limits, f: (lo, min(hi, cut))})  # sklearn: left is x <= cut
        walk(t.children_right[node], {**limits, f: (max(lo, cut), hi)})

    walk(0, {})
    return pd.DataFrame(rows).sort_values(["density", "coverage"], ascending=False, ignore_index=True)


def feature_scores(x: pd.DataFrame, y: np.ndarray, seed: int = TREE_SEED, trees: int = TREES) -> pd.Series:
    """Every factor's share of the extra-trees regression's impurity reduction on the outcome itself (not
    the thresholded one): a ranking of all values from the same points, largest first, summing to 1."""
    from sklearn.ensemble import ExtraTreesRegressor

    # max_features 0.6 and leaves of at least 5 points: the EMA workbench's feature-scoring defaults in spirit
    # (decorrelated trees; no leaf fits one noisy point)
    model = ExtraTreesRegressor(n_estimators=trees, max_features=0.6, min_samples_leaf=5, random_state=seed)
    model.fit(x.to_numpy(), np.asarray(y, dtype=float))
    return pd.Series(model.feature_importances_, index=x.columns, name="score").sort_values(ascending=False)


def agreement(prim_limits: Limits, leaves: pd.DataFrame, x: pd.DataFrame, interest: np.ndarray) -> dict[str, Any]:
    """Where PRIM's box and CART's leaves agree: CART's leaves that it predicts as of interest, taken together,
    beside the PRIM box; the factors each restricts; and how many of the cases of interest each one finds that
    the other misses."""
    dense = leaves[leaves["predicted"].astype(bool)]
    in_cart = np.zeros(len(x), dtype=bool)
    for limits in dense["limits"]:
        in_cart |= inside(x, limits)
    in_prim = inside(x, prim_limits)
    cart_factors = sorted({f for limits in dense["limits"] for f in limits})
    interest = np.asarray(interest, bool)
    return {"cart_dense_leaves": len(dense), "cart": box_stats(in_cart, interest), "prim": box_stats(in_prim, interest),
            "both_find": int((in_cart & in_prim & interest).sum()),
            "only_prim_finds": int((in_prim & ~in_cart & interest).sum()),
            "only_cart_finds": int((in_cart & ~in_prim & interest).sum()),
            "factors_both": sorted(set(prim_limits) & set(cart_factors)),
            "factors_only_prim": sorted(set(prim_limits) - set(cart_factors)),
            "factors_only_cart": sorted(set(cart_factors) - set(prim_limits))}  # fmt: skip
