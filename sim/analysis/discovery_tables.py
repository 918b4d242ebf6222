"""The README's generated section on the discovery study's second opinions: PAWN's ranking of every value beside
Sobol's and the feature scores, and where PRIM and CART agree, from the published tables (results/tables/)."""

from __future__ import annotations

from sim.analysis import published
from sim.analysis.boxes import MIN_TRIM
from sim.model import priors

NOT_YET = ("Not yet published: run `python -m sim experiment=discovery`, then `python -m sim.publish` and "
           "`python -m sim.docs`.")  # fmt: skip
DUMMY = "(dummy: noise floor)"


def threshold_text(prim) -> str:
    """'P(escalation) > 0.4 (23% of the points)': the published box's case of interest."""
    if prim is None or "threshold" not in prim.columns:
        return "P(escalation) above a threshold"
    r = prim.iloc[0]
    return f"P(escalation) > {r['threshold']:.3g} ({r['share_of_interest']:.0%} of the points)"


def box_sentence(stats) -> str:
    """Coverage, density, lift and mass of the published box, in words, with a warning when its lift is low."""
    from sim.analysis.discovery import LIFT_MIN

    text = (f"The box holds {stats['coverage']:.0%} of the escalating points (coverage) and {stats['density']:.0%} "
            f"of its points escalate (density); it covers {stats['mass']:.1%} of the prior's space.")  # fmt: skip
    if "lift" in stats.index and stats["lift"] == stats["lift"]:
        text += (f" Its lift (density over the base rate of {stats['share_of_interest']:.0%}) is "
                 f"{stats['lift']:.2f}")  # fmt: skip
        text += (": barely better than the whole space, so it says little." if stats["lift"] < LIFT_MIN else
                 f", {'well' if stats['lift'] >= 2 else 'somewhat'} denser than the whole space.")  # fmt: skip
    return text


def ranking_table(top: int = 10) -> list[str]:
    """PAWN's top values with their intervals, beside their Sobol total order and feature score (with ranks)."""
    pawn, sobol, scores = (published.read(n) for n in ("pawn", "sobol", "feature_scores"))
    if pawn is None:
        return [NOT_YET]
    floor = pawn[pawn["factor"] == DUMMY]
    pawn = pawn[pawn["factor"] != DUMMY].reset_index(drop=True)
    st = {} if sobol is None else {r.factor: (r.ST, k + 1) for k, r in
                                   enumerate(sobol.sort_values("ST", ascending=False).itertuples())}  # fmt: skip
    fs = {} if scores is None else {r.factor: (r.score, k + 1) for k, r in enumerate(scores.itertuples())}
    n_sobol = 0 if sobol is None else len(sobol)
    lines = [f"| value | PAWN (95% interval) | Sobol ST (rank of {n_sobol}) | feature score (rank) |",
             "|---|--:|--:|--:|"]
    for r in pawn.head(top).itertuples():
        s = f"{st[r.factor][0]:.3f} (#{st[r.factor][1]})" if r.factor in st else "not in the Sobol study"
        f = f"{fs[r.factor][0]:.3f} (#{fs[r.factor][1]})" if r.factor in fs else "below the top 20"
        lines.append(f"| `{r.factor}` | {r.pawn:.3f} ± {r.pawn_conf:.3f} | {s} | {f} |")
    if len(floor):
        lines += ["", f"A dummy factor without any effect reaches {floor['pawn'].iloc[0]:.3f} ± "
                      f"{floor['pawn_conf'].iloc[0]:.3f} (PAWN's noise floor with these points); "
                      f"{int((pawn['pawn'] - pawn['pawn_conf'] > floor['pawn'].iloc[0]).sum())} of {len(pawn)} values "
                      "lie above it by more than their interval."]  # fmt: skip
    return lines


def agreement_lines() -> list[str]:
    """The chosen PRIM box's restrictions with their stability, and where CART's leaves agree with it."""
    prim, stab, agree = (published.read(n) for n in ("prim", "prim_resampling", "discovery_agreement"))
    if prim is None or stab is None or agree is None:
        return [NOT_YET]
    a = agree.iloc[0]
    box = prim[prim["box"] == 1]
    head = box_sentence(box.iloc[0]) if "coverage" in box.columns else ""
    share = stab.set_index("factor")
    rows = ["| restriction of PRIM's chosen box | inside the box | share of resamples restricting it | quasi-p |",
            "|---|---|--:|--:|"]  # fmt: skip
    for r in box.itertuples():
        kept = f"{share.loc[r.factor, 'share_of_resamples']:.2f}" if r.factor in share.index else "0.00"
        rows.append(f"| `{r.factor}` | {r.min:.4g} to {r.max:.4g} | {kept} | {r.qp:.2g} |")
    others = stab[~stab["in_chosen_box"].astype(bool)].head(3)
    other = ", ".join(f"`{r.factor}` ({r.share_of_resamples:.2f})" for r in others.itertuples()) or "none"
    only_prim = ", ".join(f"`{f}`" for f in str(a["factors_only_prim"]).split()) if isinstance(
        a["factors_only_prim"], str) else "none"  # fmt: skip
    only_cart = ", ".join(f"`{f}`" for f in str(a["factors_only_cart"]).split()) if isinstance(
        a["factors_only_cart"], str) else "none"  # fmt: skip
    return [*rows, "", *([head, ""] if head else []),
            f"Over {int(a['resamples'])} resamples of half the points, the box at the same coverage has median "
            f"coverage {a['resampled_coverage_median']:.2f} and density {a['resampled_density_median']:.2f} on all "
            f"points; the values restricted most often outside the chosen box: {other}. CART (pruned by "
            f"cross-validation, the rare class weighted up) has {int(a['cart_leaves'])} leaves, "
            f"{int(a['cart_dense_leaves'])} of them denser than the whole space (what it predicts as escalating): "
            f"together coverage {a['cart_coverage']:.2f} and density {a['cart_density']:.2f}, "
            f"against PRIM's {a['prim_coverage']:.2f} and {a['prim_density']:.2f}. Both find "
            f"{int(a['both_find'])} escalating points, only PRIM {int(a['only_prim_finds'])}, only CART "
            f"{int(a['only_cart_finds'])}; values only PRIM restricts: {only_prim}; only CART: "
            f"{only_cart}."]  # fmt: skip


def readme_discovery() -> str:
    lines = ["Generated by `python -m sim.docs` from `results/tables/` (`python -m sim.publish`).", "",
             "**Which values drive escalation, three ways** (P(escalation) of the seed timeline): PAWN over all "
             f"{len(priors.priors())} values from the discovery study's Latin hypercube, beside the Sobol study's "
             "total order (over every value) "
             "and the extra-trees feature scores from the same points:", "", *ranking_table(), "",
             f"**PRIM and CART on the same points** ({threshold_text(published.read('prim'))}; restrictions that "
             f"trim less than {MIN_TRIM:.0%} of a prior's range count as none):", "", *agreement_lines()]  # fmt: skip
    return "\n".join(lines)
