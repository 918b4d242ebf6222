"""Figures of the sensitivity, scenario-discovery and uncertainty studies, in plain matplotlib, legible
in grayscale: sorted index bars with intervals, Morris mu*-sigma, PRIM trade-off and box limits, fans."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from sim.analysis.run_figure import STYLE, mark_events, save_figure, title_pad, wrap, wrap_items
from sim.analysis.sensitivity import OUTCOMES
from sim.model.scenario import Scenario

TOP = 15  # factors shown in an index chart


class FigureError(ValueError):
    """A study's tables cannot make this figure (one line)."""


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError):
        raise FigureError(f"{path} is missing or unreadable: run the study and its analysis first") from None


def _first_group(table: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The first group (experiment, scenario, dropped events) of a study's table, and how to name it."""
    cols = [c for c in ("experiment", "scenario", "drop_events") if c in table.columns]
    if not cols:
        return table, ""
    key = table[cols].astype(str).agg("|".join, axis=1)
    first = sorted(key.unique())[0]
    sub = table[key == first]
    return sub, ", ".join(f"{c} {sub[c].iloc[0]}" for c in cols if str(sub[c].iloc[0]))


def sobol_figure(aggregate: Path, out: Path, outcome: str = "p_escalation") -> list[Path]:
    """First-order and total-order Sobol indices of one outcome, sorted by total order, with their 95%
    bootstrap intervals (SALib); one pair of bars per factor."""
    table, where = _first_group(_read(Path(aggregate) / "sensitivity.parquet"))
    st = table[(table["outcome"] == outcome) & (table["index"] == "ST")].set_index("factor")
    s1 = table[(table["outcome"] == outcome) & (table["index"] == "S1")].set_index("factor")
    if st.empty:
        raise FigureError(f"no Sobol total-order indices for {outcome} in {aggregate}: is it a Sobol study?")
    order = st["value"].sort_values(ascending=True).index[-TOP:]
    y = np.arange(len(order))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.0, 0.32 * len(order) + 1.6), constrained_layout=True)
        ax.barh(y + 0.2, st.loc[order, "value"], height=0.38, color="0.25", label="total order (ST)",
                xerr=st.loc[order, "conf"], error_kw={"ecolor": "0.0", "lw": 0.8, "capsize": 2})  # fmt: skip
        ax.barh(y - 0.2, s1.loc[order, "value"], height=0.38, color="0.75", edgecolor="0.25", hatch="//",
                label="first order (S1)", xerr=s1.loc[order, "conf"], error_kw={"ecolor": "0.3", "lw": 0.8,
                                                                                 "capsize": 2})  # fmt: skip
        ax.set_yticks(y, order)
        ax.axvline(0, color="0.3", lw=0.6)
        ax.set_xlabel(f"share of the variance of {OUTCOMES[outcome]} (Sobol index; bars: 95% bootstrap interval)")
        ax.legend(loc="lower right", frameon=False)
        ax.set_title(wrap(f"What drives {OUTCOMES[outcome]} across the judged parameter space: Sobol indices "
                          f"over the priors ({where})", 90))  # fmt: skip
        ax.grid(axis="x", color="0.9", lw=0.6)
        return save_figure(fig, Path(out) / f"sobol_{outcome}")


def pawn_figure(aggregate: Path, out: Path, outcome: str = "p_escalation") -> list[Path]:
    """PAWN's moment-independent index of one outcome over the Latin hypercube, largest first, with 95%
    bootstrap intervals, the dummy factor's noise floor as a band, and each factor's rank in the published
    Sobol study (total order) where it was one of its factors."""
    from sim.analysis import published
    from sim.analysis.sensitivity import DUMMY

    table, _ = _first_group(_read(Path(aggregate) / "sensitivity.parquet"))
    t = table[(table["outcome"] == outcome) & (table["index"] == "pawn")].set_index("factor")
    if t.empty:
        raise FigureError(f"no PAWN indices for {outcome} in {aggregate}: is it a Latin-hypercube study?")
    floor, floor_conf = t.loc[DUMMY, "value"], t.loc[DUMMY, "conf"]
    t = t.drop(index=DUMMY)
    order = t["value"].sort_values(ascending=True).index[-TOP:]
    sobol = published.read("sobol")
    ranked = sobol.sort_values("ST", ascending=False)["factor"] if sobol is not None else []
    st_rank = {f: k + 1 for k, f in enumerate(ranked)}
    y = np.arange(len(order))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(order) + 1.8), constrained_layout=True)
        ax.axvspan(max(0, floor - floor_conf), floor + floor_conf, color="0.88", label="noise floor (a dummy factor)",
                   zorder=0)
        ax.axvline(floor, color="0.5", lw=0.8, zorder=0.5)
        ax.barh(y, t.loc[order, "value"], height=0.6, color="0.3", label="PAWN (median KS distance)", zorder=2,
                xerr=t.loc[order, "conf"], error_kw={"ecolor": "0.0", "lw": 0.8, "capsize": 2})  # fmt: skip
        labels = [f"{f}  (Sobol #{st_rank[f]})" if f in st_rank else f for f in order]
        ax.set_yticks(y, labels)
        ax.set_xlabel(f"PAWN index of {OUTCOMES.get(outcome, outcome)} (0: no effect on its distribution; "
                      "95% bootstrap intervals)")  # fmt: skip
        ax.legend(loc="lower right", frameon=False)
        ax.set_title(wrap("Moment-independent sensitivity (PAWN) over the priors' Latin hypercube; in brackets: "
                          "rank by Sobol total order in the Sobol study", 95))  # fmt: skip
        ax.grid(axis="x", color="0.92", lw=0.6)
        return save_figure(fig, Path(out) / f"pawn_{outcome}")


def morris_figure(aggregate: Path, out: Path, outcome: str = "p_escalation") -> list[Path]:
    """Morris screening: mu* (mean absolute elementary effect) against sigma (their spread: interaction
    or non-linearity), the top factors labelled; factors near the origin can be fixed."""
    table, where = _first_group(_read(Path(aggregate) / "sensitivity.parquet"))
    sub = table[table["outcome"] == outcome].pivot_table(index="factor", columns="index", values="value")
    if "mu_star" not in sub.columns:
        raise FigureError(f"no Morris indices for {outcome} in {aggregate}: is it a Morris study?")
    sub = sub.sort_values("mu_star", ascending=False)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.0, 5.2), constrained_layout=True)
        ax.scatter(sub["mu_star"], sub["sigma"], s=14, color="0.2", zorder=3)
        for name, row in sub.head(10).iterrows():
            ax.annotate(name, (row["mu_star"], row["sigma"]), xytext=(4, 2), textcoords="offset points", fontsize=7)
        lim = max(sub["mu_star"].max(), sub["sigma"].max()) * 1.08 or 1.0
        ax.plot([0, lim], [0, lim], color="0.5", lw=0.8, ls="--", label="sigma = mu*")
        ax.set_xlim(0, lim)
        ax.set_ylim(0, lim)
        ax.set_xlabel(f"mu*: mean absolute elementary effect on {OUTCOMES[outcome]}\n(per full prior range)")
        ax.set_ylabel("sigma: spread of the elementary effects")
        ax.legend(loc="upper left", frameon=False)
        ax.set_title(wrap(f"Morris screening of {len(sub)} uncertain values for {OUTCOMES[outcome]} ({where}); "
                          "the 10 largest mu* labelled", 90))  # fmt: skip
        ax.grid(color="0.92", lw=0.6)
        return save_figure(fig, Path(out) / f"morris_{outcome}")


def prim_figure(aggregate: Path, out: Path) -> list[Path]:
    """PRIM: the peeling trajectory (coverage against density, coloured by the number of restricted dimensions,
    the chosen box circled) with CART's leaves on the same plane; and the chosen box's limits beside those of
    CART's densest leaf, as shares of each parameter's prior range. With the second opinions (resampling,
    feature scores) also prim_stability.png."""
    agg = Path(aggregate)
    traj, lims = _read(agg / "prim_trajectory.parquet"), _read(agg / "prim_boxes.parquet")
    if traj.empty or lims.empty:
        raise FigureError(f"{agg} has no PRIM box (no point, or every point, is of interest)")
    info = json.loads((agg / "prim.json").read_text())
    t1 = traj[traj["box"] == 1]
    box = lims[lims["box"] == 1]
    leaves = _read(agg / "cart_leaves.parquet") if (agg / "cart_leaves.parquet").exists() else pd.DataFrame()
    leaves, _ = _first_group(leaves) if len(leaves) else (leaves, "")
    with plt.rc_context(STYLE):
        fig, (a, b) = plt.subplots(1, 2, figsize=(10.5, 4.6), constrained_layout=True,
                                   gridspec_kw={"width_ratios": [1.15, 1]})  # fmt: skip
        real = "restricted" in t1.columns  # real restrictions (edge trims left out), else PRIM's own count
        dots = a.scatter(t1["coverage"], t1["density"], c=t1["restricted" if real else "res dim"], cmap="viridis",
                         s=18, marker="o", label="PRIM peeling step")  # fmt: skip
        min_trim = f" (trimming at least {info['min_trim']:.0%} of the range)" if "min_trim" in info else ""
        fig.colorbar(dots, ax=a, label=f"restricted values{min_trim}" if real else "restricted dimensions (PRIM)",
                     shrink=0.85)  # fmt: skip
        chosen = t1[t1["chosen"]]
        a.scatter(chosen["coverage"], chosen["density"], s=160, facecolors="none", edgecolors="0.0", lw=1.5,
                  label=f"chosen box (step {int(chosen['step'].iloc[0])})")  # fmt: skip
        if "share_of_interest" in info:  # the base rate: a box on this line is no denser than the whole space
            a.axhline(info["share_of_interest"], color="0.4", lw=0.9, ls=":", label="base rate (lift 1)")
        if len(leaves):
            a.scatter(leaves["coverage"], leaves["density"], marker="x", s=36, color="tab:red", lw=1.2,
                      label="CART leaf")  # fmt: skip
        a.set_xlabel("coverage: share of the escalating points inside the box")
        a.set_ylabel("density: share of the box's points that escalate")
        a.set_xlim(0, 1.02)
        a.set_ylim(0, 1.02)
        a.legend(loc="center left", frameon=False, fontsize=7)
        a.grid(color="0.92", lw=0.6)
        a.set_title("peeling trajectory of the first box, and CART's leaves")
        cart = json.loads(leaves["limits"].iloc[0]) if len(leaves) else {}
        factors = list(box["factor"]) + [f for f in cart if f not in set(box["factor"])]
        prior = priors_table()
        y = np.arange(len(factors))[::-1]
        prim_lims = {r.factor: (r.min, r.max) for r in box.itertuples()}
        for k, f in zip(y, factors, strict=True):
            lo_p, hi_p = prior[f].low, prior[f].high
            b.axhline(k, color="0.6", lw=0.8, ls="--", zorder=0)
            for lims_, offset, style in ((prim_lims, 0.17, {"color": "0.3"}),
                                         (cart, -0.17, {"color": "none", "edgecolor": "tab:red", "hatch": "///"})):
                if f in lims_:
                    lo = (max(lims_[f][0], lo_p) - lo_p) / (hi_p - lo_p)
                    hi = (min(lims_[f][1], hi_p) - lo_p) / (hi_p - lo_p)
                    b.barh(k + offset, hi - lo, left=lo, height=0.3, **style)
        b.legend(handles=[Patch(color="0.3", label="PRIM's chosen box"),
                          Patch(facecolor="none", edgecolor="tab:red", hatch="///", label="CART's densest leaf")],
                 loc="lower right", fontsize=7, frameon=True)  # fmt: skip
        b.set_yticks(y, factors)
        b.set_xlim(0, 1)
        b.set_xlabel("position within the prior's range (dashed: the whole range)")
        b.set_ylim(-0.6, len(factors) - 0.4)
        b.set_title("limits: PRIM's chosen box and CART's densest leaf")
        b1 = info["groups"][0]["boxes"][0] if info["groups"] and info["groups"][0].get("boxes") else {}
        lift = f"; chosen box: coverage {b1['coverage']:.2f}, density {b1['density']:.2f}, lift {b1['lift']:.2f}" \
            if "lift" in b1 else ""  # fmt: skip
        share = f" ({info['share_of_interest']:.0%} of the points)" if "share_of_interest" in info else ""
        fig.suptitle(wrap(f"Where escalation is likely: PRIM and CART on {info['outcome']} > {info['threshold']:.3g}"
                          f"{share} over the priors' Latin hypercube{lift}", 110), fontsize=10)  # fmt: skip
        written = save_figure(fig, Path(out) / "prim")
    if (agg / "prim_resampling.parquet").exists() and (agg / "feature_scores.parquet").exists():
        written += stability_figure(agg, out)
    return written


def priors_table() -> dict:
    from sim.model import priors

    return priors.priors()


def stability_figure(aggregate: Path, out: Path) -> list[Path]:
    """How far to trust the chosen box: the share of half-size resamples in which PRIM restricts each factor
    (dark: the chosen box's restrictions, with their quasi-p values), and every factor's feature score."""
    agg = Path(aggregate)
    stab, _ = _first_group(_read(agg / "prim_resampling.parquet"))
    scores, _ = _first_group(_read(agg / "feature_scores.parquet"))
    info = json.loads((agg / "prim.json").read_text())["groups"][0].get("resampling", {})
    stab = stab.head(TOP)[::-1]
    scores = scores.sort_values("score").tail(TOP)
    with plt.rc_context(STYLE):
        fig, (a, b) = plt.subplots(1, 2, figsize=(11.0, 0.3 * max(len(stab), len(scores)) + 1.8),
                                   constrained_layout=True)  # fmt: skip
        y = np.arange(len(stab))
        colours = ["0.25" if c else "0.8" for c in stab["in_chosen_box"]]
        a.barh(y, stab["share_of_resamples"], color=colours, edgecolor="0.25", height=0.6)
        for k, row in zip(y, stab.itertuples(), strict=True):
            if row.in_chosen_box:
                a.annotate(f"quasi-p {row.qp:.2g}", (min(row.share_of_resamples, 1) + 0.02, k), va="center",
                           fontsize=7)  # fmt: skip
        a.set_yticks(y, stab["factor"])
        a.set_xlim(0, 1.3)
        a.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
        a.set_xlabel(f"share of {info.get('resamples', '?')} resamples (each half the points) restricting it")
        a.set_title("stability of PRIM's box (dark: the chosen box's restrictions)")
        a.grid(axis="x", color="0.92", lw=0.6)
        y = np.arange(len(scores))
        b.barh(y, scores["score"], color="0.45", height=0.6)
        b.set_yticks(y, scores["factor"])
        b.set_xlabel("feature score (share of the extra trees' impurity reduction; all values sum to 1)")
        b.set_title(f"feature scores of every value (top {len(scores)})")
        b.grid(axis="x", color="0.92", lw=0.6)
        return save_figure(fig, Path(out) / "prim_stability")


def uncertainty_fan(runs: pd.DataFrame, sets: pd.DataFrame, scenario: Scenario, path: Path) -> list[Path]:
    """The probability of having escalated by each date, per parameter set (bands across sets: middle 50%
    and 90%; weighted for a posterior) beside the pooled probability; the headline under uncertainty."""
    days = scenario.days
    esc = runs[["set", "escalation_day"]].assign(day=lambda d: d["escalation_day"].where(d["escalation_day"] >= 0))
    counts = np.zeros((len(sets), days))
    for k, group in esc.groupby("set"):
        hit = group["day"].dropna().astype(int).to_numpy()
        counts[k] = np.cumsum(np.bincount(hit, minlength=days)[:days]) / len(group)
    w = sets["weight"].to_numpy(dtype=float)
    from sim.run.uncertainty import weighted_quantiles

    qs = np.array([weighted_quantiles(counts[:, t], w, (0.05, 0.25, 0.5, 0.75, 0.95)) for t in range(days)])
    pooled = (counts * w[:, None]).sum(axis=0) / w.sum()
    dates = pd.date_range(scenario.start, periods=days, freq="D")
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.5, 3.8), constrained_layout=True)
        reps = int(sets["replicates"].min())
        # A set's probability is a share of its R runs: it moves in steps of 1/R, and so do the bands and the median
        ax.fill_between(dates, qs[:, 0], qs[:, 4], color="0.15", alpha=0.15, lw=0, step="post",
                        label="90% of parameter sets")  # fmt: skip
        ax.fill_between(dates, qs[:, 1], qs[:, 3], color="0.15", alpha=0.30, lw=0, step="post",
                        label="50% of parameter sets")  # fmt: skip
        # the median set: dotted and blue, apart from the events' grey dashes; the axis starts a little below 0
        # so that a median still at 0 shows above the axis line
        ax.plot(dates, qs[:, 2], color="tab:blue", lw=1.6, ls=(0, (1, 1.5)), drawstyle="steps-post",
                label="median set")  # fmt: skip
        ax.plot(dates, pooled, color="0.0", lw=1.6, label="pooled over sets")
        ax.axhline(0, color="0.6", lw=0.6, zorder=0)
        mark_events(ax, scenario)
        ax.set_ylabel("P(escalated by this date)")
        top = max(0.05, float(qs[:, 4].max()) * 1.1)
        ax.set_ylim(-0.02 * top, top)
        ax.xaxis.set_major_locator(mdates.MonthLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
        ax.set_xlabel("date (one model step = one day)")
        ax.legend(loc="upper left", frameon=False)
        items = [f"{i} {ev.date:%d %b}: {ev.label}" for i, ev in enumerate(scenario.events, start=1)]
        if items:
            fig.text(0.01, -0.01, wrap_items(items, 130), fontsize=7, va="top", ha="left")
        ax.grid(axis="y", color="0.9", lw=0.6)
        ax.set_title(
            wrap(
                f"{scenario.name}: escalation under parameter uncertainty, {len(sets)} parameter sets x "
                f"{reps} replicates (dashed lines: scenario events; a set's probability moves in steps of "
                f"1/{reps} = {1 / reps:.2g}, and so do the bands)",
                95,
            ),
            pad=title_pad(scenario),
        )
        return save_figure(fig, path)


def uncertainty_figure_from_run(folder: Path, out: Path) -> list[Path]:
    """The uncertainty fan of a main-job run made with params_from (runs.parquet, sets.parquet)."""
    from sim.model.scenario import scenario_from_mapping

    folder = Path(folder)
    runs, sets = _read(folder / "runs.parquet"), _read(folder / "sets.parquet")
    try:
        import yaml

        cfg = yaml.safe_load((folder / "config.yaml").read_text())
        scenario = scenario_from_mapping(cfg["scenario"]) if not cfg.get("scenario_file") else None
    except (OSError, KeyError, ValueError):
        raise FigureError(f"{folder}/config.yaml is missing or unreadable: not a main-job run folder") from None
    if scenario is None:
        from sim.model.scenario import load_scenario

        scenario = load_scenario(cfg["scenario_file"])
    return uncertainty_fan(runs, sets, scenario, Path(out) / "uncertainty")


def calibration_figures(folder: Path, out: Path) -> list[Path]:
    """The calibration's figures: P(escalation) by scenario and counterfactual (prior beside posterior),
    and the posterior marginals and pairs of the parameters the record informs."""
    folder = Path(folder)
    esc, info, post = (_read(folder / f) for f in ("escalation.parquet", "informed.parquet", "posterior.parquet"))
    return [*escalation_dots(esc, Path(out) / "calibration_escalation"),
            *posterior_marginals(post, info, Path(out) / "calibration_marginals"),
            *posterior_pairs(post, info, Path(out) / "calibration_pairs")]  # fmt: skip


def escalation_dots(esc: pd.DataFrame, path: Path) -> list[Path]:
    """Dot-interval chart: pooled P(escalation) (dot) and the 90% interval across parameter sets (line),
    prior (open) beside posterior (filled), one row per scenario and counterfactual."""
    rows = list(esc.groupby(["scenario", "counterfactual"], sort=True).groups)
    y = np.arange(len(rows))[::-1]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.5, 0.26 * len(rows) + 1.8), constrained_layout=True)
        for offset, which, face in ((0.17, "prior", "white"), (-0.17, "posterior", "0.1")):
            sub = esc[esc["distribution"] == which].set_index(["scenario", "counterfactual"]).loc[rows]
            ax.hlines(y + offset, sub["q05"], sub["q95"], color="0.45" if which == "prior" else "0.1", lw=1.2)
            ax.scatter(sub["p_escalation"], y + offset, s=22, facecolors=face, edgecolors="0.1", zorder=3,
                       label=f"{which}: pooled (dot), 90% of parameter sets (line)")  # fmt: skip
        ax.set_yticks(y, [f"{s}, {c}" for s, c in rows], fontsize=7)
        ax.set_xlabel("P(escalation) over the scenario")
        ax.set_xlim(-0.01, 1.0)
        ax.grid(axis="x", color="0.9", lw=0.6)
        ax.legend(loc="lower right", frameon=False, fontsize=7)
        ax.set_title(wrap("Escalation probability before and after calibrating to the record of July 2021 to "
                          "January 2022 (prior: open; posterior: filled)", 95))  # fmt: skip
        return save_figure(fig, path)


def _weighted_hist(ax, x, w, bins, **kw):
    h, edges = np.histogram(x, bins=bins, weights=w)
    h = h / h.sum()
    ax.stairs(h, edges, **kw)


def posterior_marginals(post: pd.DataFrame, info: pd.DataFrame, path: Path, top: int = 9) -> list[Path]:
    """Posterior marginals (weighted histograms) of the values the record informs, over their flat or
    log-flat prior (dashed), in the parameters' own units."""
    from sim.model import priors as pr

    names = list(info[info["informed"]]["factor"])[:top] or list(info["factor"])[:3]
    cols = min(3, len(names))
    rows_ = -(-len(names) // cols)
    w = post["weight"].to_numpy()
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows_, cols, figsize=(3.0 * cols, 2.3 * rows_), constrained_layout=True, squeeze=False)
        for ax, name in zip(axes.flat, names, strict=False):
            p = pr.priors()[name]
            edges = p.ppf(np.linspace(0, 1, 13)) if p.dist != "integer" else np.arange(p.low, p.high + 2) - 0.5
            _weighted_hist(ax, post[name], w, edges, color="0.1", lw=1.4, label="posterior")
            prior_mass = np.full(len(edges) - 1, 1 / (len(edges) - 1))
            ax.stairs(prior_mass, edges, color="0.5", ls="--", lw=1.0, label="prior")
            ax.set_xlabel(name, fontsize=8)
            ax.set_ylabel("probability per bin", fontsize=7)
        for ax in list(axes.flat)[len(names) :]:
            ax.set_visible(False)
        axes.flat[0].legend(frameon=False, fontsize=7)
        fig.suptitle("What the record says about the parameters it informs: posterior (solid) against prior (dashed)",
                     fontsize=10)  # fmt: skip
        return save_figure(fig, path)


def posterior_pairs(post: pd.DataFrame, info: pd.DataFrame, path: Path, top: int = 4) -> list[Path]:
    """Weighted 2-d histograms of the posterior for pairs of the most informed values."""
    names = list(info[info["informed"]]["factor"])[:top] or list(info["factor"])[:2]
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]] or [(names[0], names[0])]
    cols = min(3, len(pairs))
    rows_ = -(-len(pairs) // cols)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows_, cols, figsize=(3.0 * cols, 2.7 * rows_), constrained_layout=True, squeeze=False)
        for ax, (a, b) in zip(axes.flat, pairs, strict=False):
            ax.hist2d(post[a], post[b], bins=12, weights=post["weight"], cmap="Greys")
            ax.set_xlabel(a, fontsize=8)
            ax.set_ylabel(b, fontsize=8)
        for ax in list(axes.flat)[len(pairs) :]:
            ax.set_visible(False)
        fig.suptitle("Posterior pairs of the most informed values (darker: more posterior weight)", fontsize=10)
        return save_figure(fig, path)


def policies_figure(aggregate: Path, out: Path) -> list[Path]:
    """A policy study (experiment=policies): for each judged outcome, each policy's spread across scenarios
    (box: middle half; whiskers: 5% to 95%; dot: mean) against the target (dashed), with the share of scenarios
    meeting it; the policies in the study's order, today's first."""
    from sim.analysis import robustness
    from sim.run.policies import OUTCOMES, read_record

    agg = Path(aggregate)
    root = agg.parent
    try:
        record, where = read_record(root)
        points = pd.read_parquet(agg / "points.parquet")
    except (OSError, ValueError):
        raise FigureError(f"{root} has no policy study (policies.json, aggregate/points.parquet)") from None
    policies = [name for name, _ in record["named"]]
    targets = dict(record["targets"])
    outcomes = [o for o in OUTCOMES if o in targets] or list(OUTCOMES)
    w = np.asarray(record["weights"], dtype=float)
    from sim.run.uncertainty import weighted_quantiles

    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(outcomes), figsize=(3.6 * len(outcomes) + 2.2, 0.42 * len(policies) + 1.9),
                                 constrained_layout=True, sharey=True, squeeze=False)  # fmt: skip
        y = np.arange(len(policies))[::-1]
        for ax, outcome in zip(axes[0], outcomes, strict=True):
            try:
                values = robustness.matrix(points, where, outcome, policies, int(record["scenarios"]))
            except robustness.PolicyError as exc:
                raise FigureError(str(exc)) from None
            for k, policy in zip(y, policies, strict=True):
                x = values[policy].to_numpy(dtype=float)
                q05, q25, q50, q75, q95 = weighted_quantiles(x, w, (0.05, 0.25, 0.5, 0.75, 0.95))
                shade = "0.35" if policy == "today" else "0.65"
                ax.hlines(k, q05, q95, color="0.2", lw=1.0)
                ax.add_patch(plt.Rectangle((q25, k - 0.3), q75 - q25, 0.6, facecolor=shade, edgecolor="0.1", lw=0.8))
                ax.vlines(q50, k - 0.3, k + 0.3, color="white", lw=1.4)
                ax.plot(np.average(x, weights=w), k, "o", color="black", ms=4, zorder=3)
                if outcome in targets:
                    meets = float(np.sum(w * (x <= targets[outcome])) / np.sum(w))
                    ax.annotate(f"{meets:.0%}", (1.0, k), xycoords=("axes fraction", "data"), xytext=(3, 0),
                                textcoords="offset points", va="center", fontsize=7)  # fmt: skip
            if outcome in targets:
                ax.axvline(targets[outcome], color="tab:red", ls="--", lw=1.0, label="target")
            ax.set_xlim(left=0)
            ax.set_axisbelow(True)  # the grid behind the boxes: the only white line in a box is its median
            ax.set_xlabel(OUTCOMES[outcome] + (f"\n(target: at most {targets[outcome]:g}; right: share meeting it)"
                                               if outcome in targets else ""))  # fmt: skip
            ax.grid(axis="x", color="0.92", lw=0.6)
        axes[0][0].set_yticks(y, [p.replace("_", " ") for p in policies])
        axes[0][0].set_ylim(-0.7, len(policies) - 0.3)
        fig.suptitle(wrap(f"Policies across {record['scenarios']} scenarios drawn from the "
                          f"{'priors' if record['source'] == 'prior' else record['source']} (box: middle half of the "
                          "scenarios; line: 5% to 95%; dot: mean; white: median)", 110), fontsize=10)  # fmt: skip
        return save_figure(fig, Path(out) / "policies")
