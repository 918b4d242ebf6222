"""The calibration on the record's counts in the README and ODD (python -m sim.docs): the headline with both parts
of each interval, the patron's effect against independence, what the record cannot tell, the forecasts' scores and
the recovery checks, all from the published tables in results/tables/ (python -m sim.publish)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from sim.analysis import calibration

NOT_YET = "Not yet published: run `bash experiments/make_figures.sh` (or the study and `python -m sim.publish`)."


def _cell(value: object) -> str:
    """Text for one Markdown table cell: one line, with ``|`` escaped."""
    return " ".join(str(value).split()).replace("|", "\\|")


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], align: Sequence[str] | None = None) -> list[str]:
    """A Markdown table (the same form as sim.analysis.odd_tables'; this module imports nothing of that one, which
    loads this one)."""
    rule = align if align is not None else ["---"] * len(header)
    return ["| " + " | ".join(_cell(c) for c in header) + " |", "|" + "|".join(rule) + "|",
            *("| " + " | ".join(_cell(c) for c in r) + " |" for r in rows)]  # fmt: skip


def _record(lo: float, hi: float) -> str:
    hi_s = "open" if not np.isfinite(hi) else f"{hi:g}"
    return f"{lo:g}" if lo == hi else f"[{lo:g}, {hi_s}]"

COMMAND = "python -m sim.calibrate --method smc"
FORECASTS = (("2021-07-01", "forecast_2021_07_01", "1 July 2021, before the boycott"),
             ("2021-10-10", "forecast_2021_10_10", "10 October 2021, the day of the vote"))  # fmt: skip


def _read(name: str) -> pd.DataFrame | None:
    from sim.analysis import published

    return published.read(name)


def interval(mean: float, low: float, high: float, sign: str = "") -> str:
    """[low, high] to two decimals, or to as many more (up to four) as it takes for the printed interval to hold
    the mean as printed (three decimals): a narrow interval near a small mean (0.005 within [0.004, 0.006]) would
    otherwise print as one that leaves it out ([0.01, 0.01])."""
    shown = round(mean, 3)
    for digits in (2, 3, 4):
        if round(low, digits) <= shown <= round(high, digits):
            break
    return f"[{low:{sign}.{digits}f}, {high:{sign}.{digits}f}]"


def _p(row: pd.Series, name: str, bold: bool = False) -> str:
    """A probability with its parameter-uncertainty interval and its Monte Carlo noise."""
    m = row[f"{name}_mean"]
    mean = f"{m:.3f}"
    return (f"{'**' + mean + '**' if bold else mean} {interval(m, row[f'{name}_param_q05'], row[f'{name}_param_q95'])} "
            f"±{row[f'{name}_mc_sd_pooled']:.3f}")  # fmt: skip


def _effect(row: pd.Series, prefix: str = "") -> str:
    m = row[f"{prefix}mean"]
    return (f"{m:+.3f} {interval(m, row[f'{prefix}param_q05'], row[f'{prefix}param_q95'], '+')} "
            f"±{row[f'{prefix}mc_sd_pooled']:.3f}")  # fmt: skip


AVERAGED = "model-averaged"  # the rows of the whole posterior where the calibration weighed the structures


def _whole(table: pd.DataFrame | None) -> pd.DataFrame | None:
    """The rows of the whole posterior (model-averaged where the calibration weighed structures; otherwise every
    row, labelled ``default``)."""
    if table is None or "structure" not in table.columns or not (table["structure"] == AVERAGED).any():
        return table
    return table[table["structure"] == AVERAGED]


def _per_structure(table: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """Each structure's own rows (``default`` is today's structure), where the calibration weighed them."""
    if table is None or "structure" not in table.columns or not (table["structure"] == AVERAGED).any():
        return {}
    return {s: g for s, g in table.groupby("structure", sort=False) if s != AVERAGED}


def _esc_row(esc: pd.DataFrame, cf: str, which: str) -> pd.Series | None:
    r = esc[(esc["scenario"] == "seed_timeline") & (esc["counterfactual"] == cf) & (esc["distribution"] == which)]
    return r.iloc[0] if len(r) else None


def structure_probabilities() -> str | None:
    """One sentence: each structure's posterior probability with its Monte Carlo standard error."""
    st = _read("calibration_counts_structures")
    if st is None or not len(st):
        return None
    cells = ", ".join(f"`{r.structure}` {r.probability:.2f} ± {r.se:.2f}" for r in st.itertuples())
    return (f"Posterior probability of each structure (uniform prior over the {len(st)}; a model index in the "
            f"ABC-SMC; ± the Monte Carlo standard error at the posterior's effective sample size "
            f"{st['posterior_ess'].iloc[0]:.0f}): {cells}.")


def readme_headline(defaults_row: Callable[[], tuple[str, ...]] | None = None) -> str:
    """The README's first numbers: the severity ladder on the seed timeline under the posterior calibrated on the
    record's counts without the outcome it reports, each probability with its parameter-uncertainty interval and
    Monte Carlo noise; the same with the outcome in, without the patron, under the priors and at the defaults;
    then the patron's effect against militia independence. ``defaults_row``: the defaults' row (label and three
    cells), computed by sim.analysis.odd_tables from the runs it caches for its own tables."""
    esc_all, eff_all = _read("calibration_counts_escalation"), _read("calibration_counts_effects")
    ind_all = _read("calibration_counts_independence")
    esc, withc = _whole(esc_all), _whole(_read("calibration_counts_with_outcome_escalation"))
    eff, ind = _whole(eff_all), _whole(ind_all)
    if esc is None or "escalated_param_q05" not in esc.columns:
        return (f"The calibrated headline is not yet published: run `{COMMAND}`, then `python -m sim.publish` and "
                "`python -m sim.docs`.")  # fmt: skip
    rows = []
    for label, table, cf, which, bold in (
            ("**calibrated on the 2021 record**, the outcome left out (the headline)", esc, "none", "posterior", True),
            ("calibrated, without the patron", esc, "no_patron", "posterior", False),
            ("calibrated on the record with the outcome in (no civil war, no clash-day)", withc, "none", "posterior",
             False),
            ("under the priors (before the record)", esc, "none", "prior", False)):  # fmt: skip
        r = None if table is None else _esc_row(table, cf, which)
        if r is not None:
            rows.append((label, _p(r, "any_clash"), _p(r, "escalated", bold), _p(r, "sustained")))
    probs = _read("calibration_counts_structures")
    p_of = {} if probs is None else dict(zip(probs["structure"], probs["probability"], strict=True))
    for s, g in _per_structure(esc_all).items():
        r = _esc_row(g, "none", "posterior")
        if r is not None:
            rows.append((f"calibrated, structure `{s}` alone (posterior probability {p_of.get(s, float('nan')):.2f})",
                         _p(r, "any_clash"), _p(r, "escalated"), _p(r, "sustained")))  # fmt: skip
    if defaults_row is not None:
        rows.append(defaults_row())
    b = _esc_row(esc, "none", "posterior")
    lines = _table(("`seed_timeline`, July 2021 to January 2022", "P(any clash)", "P(escalation)",
                    "P(sustained fighting)"), rows)  # fmt: skip
    lines += ["", f"Calibrated and prior rows: {int(b['escalated_sets'])} parameter sets drawn from the posterior "
              f"(or the prior) x {int(b['escalated_replicates'])} runs each (`{COMMAND}`). Each cell is the pooled "
              "probability, then [the 90% interval of the sets' own probabilities: parameter uncertainty, the sets' "
              "spread less its binomial noise], then ± the Monte Carlo standard deviation of the pooled value; the "
              f"parameter part carries {b['escalated_param_share']:.0%} of the sets' variance for P(escalation). The "
              "headline's posterior is ABC-SMC on the public record's counts and dates of January 2021 to January "
              "2022 (`seeds/record.yaml`: attacks on US sites, major attacks on the state, the boycott, the patron's "
              "visits, US strikes) with the article's yes/no facts as constraints, leaving out the outcome this "
              "table reports (no civil war, no clash-day), so the outcome tests it instead of being fitted; "
              "`docs/ODD.md` section 11 shows what it fits and what it misses. The defaults row is the evidence's "
              "centres, not calibrated."]  # fmt: skip
    sentence = structure_probabilities()
    if sentence and _per_structure(esc_all):
        lines += ["", sentence + " The headline's rows average over the structures by these probabilities (its sets "
                  "are drawn from the joint posterior); each structure's own row uses sets drawn from its part of "
                  "it."]  # fmt: skip
    elif sentence:
        lines += ["", sentence + " The rows above are from the calibration of today's structure alone (published "
                  "before the model index was added); rerun `" + COMMAND + "` for the model-averaged and "
                  "per-structure rows."]  # fmt: skip
    if eff is not None:
        e = eff[(eff["scenario"] == "seed_timeline") & (eff["counterfactual"] == "no_patron")
                & (eff["distribution"] == "posterior")]  # fmt: skip
        if len(e):
            x = e.iloc[0]
            picked = {s: g[(g["counterfactual"] == "no_patron") & (g["distribution"] == "posterior")]
                      for s, g in _per_structure(eff_all).items()}  # fmt: skip
            per = "; ".join(f"`{s}` {_effect(g.iloc[0])}" for s, g in picked.items() if len(g))
            lines += ["", f"Calibrated, removing the patron raises P(escalation) by {_effect(x)} (paired runs; "
                      f"ratio x{x['ratio']:.2f}; it raises it in {x['share_raised']:.0%} of the sets)"
                      + (f"; per structure: {per}." if per else ".")]  # fmt: skip
    if ind is not None and len(ind):
        post = ind[ind["distribution"] == "posterior"].sort_values("militia_independence")
        prior = ind[ind["distribution"] == "prior"].set_index("militia_independence")
        per = {s: g[g["distribution"] == "posterior"].set_index("militia_independence")
               for s, g in _per_structure(ind_all).items()}  # fmt: skip
        rows = []
        for r in post.itertuples():
            row = (f"{r.militia_independence:.1f}", f"{r.p_mean:.3f}", _effect(pd.Series(r._asdict()), "effect_"))
            row += tuple(_effect(g.loc[r.militia_independence], "effect_") if r.militia_independence in g.index
                         else "" for g in per.values())  # fmt: skip
            if r.militia_independence in prior.index:
                row += (_effect(prior.loc[r.militia_independence], "effect_"),)
            rows.append(row)
        head = ("militia independence (all four militias)", "P(escalation), calibrated",
                "patron's effect, calibrated" + (" (model-averaged)" if per else ""),
                *(f"patron's effect, `{s}`" for s in per),
                "patron's effect, under the priors")[: len(rows[0])]  # fmt: skip
        lines += ["", "**The patron's effect against militia independence** (the question the model asks): "
                  "P(escalation) on the seed timeline and the rise in it when the patron is removed, with "
                  "`militia_independence` set to each level in every posterior (or prior) set, paired runs; "
                  "[parameter-uncertainty 90% interval] ± Monte Carlo sd:", "", *_table(head, rows)]  # fmt: skip
        if per:
            sizes = [int(g["effect_sets"].iloc[0]) for g in per.values()]
            lines += ["", f"Each structure's column: the sets of the model-averaged column that run that structure "
                      f"({min(sizes)} to {max(sizes)} of its {int(post['effect_sets'].iloc[0])} sets, in proportion "
                      "to the structures' posterior probabilities), on the same runs; its interval is wider for "
                      "having fewer sets."]  # fmt: skip
    return "\n".join(lines)


def readme_overlap() -> str:
    """What the record cannot tell: the values it informs, and how much of each one's prior the posterior keeps."""
    info = _read("calibration_counts_informed")
    if info is None or "overlap" not in info.columns:
        return f"Not yet published: run `{COMMAND}`, then `python -m sim.publish` and `python -m sim.docs`."
    told = info[info["informed"]].sort_values("overlap")
    rest = info[~info["informed"]]
    rows = [(f"`{r.factor}`", f"{r.overlap:.2f}", f"{r.prior_low:g} to {r.prior_high:g}",
             f"{r.posterior_mean:.3g} [{r.posterior_q05:.3g}, {r.posterior_q95:.3g}]") for r in told.itertuples()]
    lines = [f"The record informs {len(told)} of {len(info)} values (posterior further from the prior than "
             f"sampling noise allows, by at least {calibration.MATERIAL_TV:.0%} of its mass). Overlap = the share of "
             "the prior's probability the posterior keeps in place (1 = the record says nothing):", ""]  # fmt: skip
    if rows:
        lines += _table(("value", "overlap with the prior", "prior range", "posterior mean [90%]"), rows)
    lines += ["", f"For the other {len(rest)} values the record cannot tell: their overlap is at least "
              f"{rest['overlap'].min():.2f} (median {rest['overlap'].median():.2f}); `docs/ODD.md` section 11 lists "
              "every value."]  # fmt: skip
    return "\n".join(lines)


def _sampler_rows(gens: pd.DataFrame) -> list[tuple]:
    return [(int(r.generation), "inf" if not np.isfinite(r.tolerance) else f"{r.tolerance:.2f}",
             f"{r.acceptance_rate:.4f}", f"{r.effective_sample_size:.0f}",
             "" if pd.isna(getattr(r, "informed_coordinates", np.nan)) else f"{int(r.informed_coordinates)}",
             "yes" if r.pooled else "") for r in gens.itertuples()]  # fmt: skip


def _scores_rows(scores: pd.DataFrame) -> list[tuple]:
    rows = []
    for r in scores.itertuples():
        q05 = getattr(r, "model_q05", np.nan)
        band = "" if pd.isna(q05) else f" [{q05:g}, {r.model_q95:g}]"
        rows.append((r.version, r.target, f"{r.observed:g}", f"{r.model_mean:.2f}{band}", f"{r.model_score:.3f}",
                     f"{r.ytd_score:.3f}", f"{r.recent_score:.3f}", f"{r.model_log:.2f}",
                     f"{min(r.ytd_log, r.recent_log):.2f}"))  # fmt: skip
    return rows


def forecast_verdicts(scores: pd.DataFrame) -> list[str]:
    """Per version: the summed RPS of the monthly counts, model against each baseline, and the events' Brier."""
    out = []
    for version, g in scores.groupby("version", sort=False):
        counts, events = g[g["kind"] == "count"], g[g["kind"] == "event"]
        m, y, r = (counts[c].sum() for c in ("model_score", "ytd_score", "recent_score"))
        wins = "wins against both baselines" if m < min(y, r) else (
            "loses to both baselines" if m > max(y, r) else "beats one baseline and loses to the other")  # fmt: skip
        ev = "; ".join(f"{e.target.split(',')[0]}: Brier {e.model_score:.3f} against {e.ytd_score:.3f} "
                       f"({'better' if e.model_score < e.ytd_score else 'worse'})"
                       for e in events.itertuples())  # fmt: skip
        out.append(f"{version}: summed RPS over the months {m:.2f} (since-January baseline {y:.2f}, last quarter "
                   f"{r:.2f}): the model {wins}; {ev}")  # fmt: skip
    return out


def counts_section() -> str:
    """Markdown: the calibration on the record's counts (ABC-SMC), what it tells and cannot tell, the forecasts
    from two cut-offs and the recovery checks, from seeds/record.yaml, sim/analysis/calibration_counts.py and the
    published tables in results/tables/."""
    from sim.analysis import calibration_counts as cc

    lines = [
        "Generated by `python -m sim.docs` from `seeds/record.yaml`, `sim/analysis/calibration_counts.py` and "
        f"`results/tables/` (`{COMMAND}`, then `python -m sim.publish`).",
        "",
        f"Statistics of a run of `{cc.SCENARIO}` (distance: the sum over them of how far the run's value falls "
        "outside the record's interval, in units of a scale adapted to the population each generation, never below "
        "the floor shown; known from: the day the entries behind it had all been published):",
        "",
    ]
    rows = [(f"`{st.name}`", f"{st.source.split(':')[1]} {st.start} to {st.end}" if st.source.startswith("daily")
             else f"{st.source.split(':')[1]} (whole run)", _record(st.low, st.high), f"{st.scale:.2f}",
             str(st.known_from), ", ".join(f"`{e}`" for e in st.entries), st.reading)
            for st in cc.statistics()]  # fmt: skip
    lines += _table(("statistic", "counted in a run", "record", "scale floor", "known from", "record.yaml",
                     "reading"), rows)  # fmt: skip
    lines += ["", "Hard constraints (a run that breaks one is never accepted): the targets of `seeds/targets.yaml` "
              "above, counted over the article's window (1 July 2021 to 31 January 2022) of the same run: "
              + ", ".join(f"`{t.id}`" for t in cc.facts()) + ". The headline's calibration leaves out "
              + ", ".join(f"`{o}`" for o in cc.OUTCOME) + ": the outcome it reports."]  # fmt: skip
    gens, checks = _read("calibration_counts_generations"), _read("calibration_counts_checks")
    monthly, info = _read("calibration_counts_monthly"), _read("calibration_counts_informed")
    if gens is None or checks is None or monthly is None or info is None or "overlap" not in info.columns:
        return "\n".join([*lines, "", NOT_YET])
    g0 = gens.iloc[-1]
    lines += ["", f"Tolerance schedule of the headline's calibration ({int(g0['particles'])} particles x "
              f"{int(g0['replicates'])} runs a generation; stopped: {g0['stopped']}; {g0['smc_seconds']:.0f} s of "
              "ABC-SMC; informed coordinates: those the kernel moves, the others drawn afresh from their priors; the "
              f"posterior pools the marked generations, effective sample size {g0['posterior_ess']:.0f}):",
              ""]  # fmt: skip
    lines += _table(("generation", "tolerance", "acceptance", "effective sample size", "informed coordinates",
                     "in the posterior"), _sampler_rows(gens), ("--:", "--:", "--:", "--:", "--:", "---"))  # fmt: skip
    lines += ["", "Predictive checks: each statistic's 90% interval over runs from parameter sets drawn from the "
              "prior and from the posterior, and the share of runs inside the record's interval (* the record's "
              "interval lies outside the 90% interval):", ""]  # fmt: skip
    rows = []
    for name, g in checks.groupby("statistic", sort=False):
        cell = {r.distribution: f"[{r.q05:g}, {r.q95:g}]{'' if r.inside else ' *'} ({r.share_in_record:.2f})"
                for r in g.itertuples()}  # fmt: skip
        r0 = g.iloc[0]
        rows.append((f"`{name}`", _record(r0.record_low, r0.record_high), cell.get("prior", ""),
                     cell.get("posterior", "")))  # fmt: skip
    lines += _table(("statistic", "record", "prior", "posterior"), rows)
    missed = sorted(set(checks[(checks["distribution"] == "posterior") & ~checks["inside"]]["statistic"]))
    lines += ["", "Every statistic's record meets its posterior-predictive interval." if not missed else
              "The record lies outside the posterior-predictive interval for: "
              + ", ".join(f"`{m}`" for m in missed) + "."]  # fmt: skip
    post = monthly[monthly["distribution"] == "posterior"]
    lines += ["", "Attacks on US sites per month, posterior-predictive mean and 90% interval:", ""]
    lines += _table(("month", "mean", "90% interval"),
                    [(r.month, f"{r.mean:.1f}", f"[{r.q05:g}, {r.q95:g}]") for r in post.itertuples()],
                    ("---", "--:", "--:"))  # fmt: skip
    esc_all = _read("calibration_counts_escalation")
    esc = _whole(esc_all)
    st = _read("calibration_counts_structures")
    if st is not None and len(st):
        lines += ["", "**Model choice across the rival structures** (`sim/model/structures.py`): one ABC-SMC with a "
                  "model index (Toni et al. 2009): a particle carries a structure as well as the values (every "
                  "structure's; a structure ignores those it does not use), the structures have a uniform prior, "
                  "the kernel keeps a particle's structure with probability 0.7 and otherwise moves it, and a "
                  "structure's posterior probability is the weight its particles carry. Why one joint run rather "
                  "than a calibration per structure with evidence estimates: every structure then meets the record "
                  "at the same tolerances and adapted scales, which a ratio of separately estimated evidences at "
                  "different tolerances would not.", ""]  # fmt: skip
        lines += _table(("structure", "posterior probability", "± Monte Carlo se", "prior", "Bayes factor against the "
                         "default"), [(f"`{r.structure}`", f"{r.probability:.3f}", f"{r.se:.3f}", f"{r.prior:.3f}",
                                       f"{r.bayes_factor_vs_default:.2f}") for r in st.itertuples()])  # fmt: skip
        per = _per_structure(esc_all)
        if per:
            rows = []
            for s, g in per.items():
                a, b = _esc_row(g, "none", "posterior"), _esc_row(g, "no_patron", "posterior")
                if a is not None and b is not None:
                    rows.append((f"`{s}`", _p(a, "escalated"), _p(b, "escalated")))
            lines += ["", "Per structure (its own posterior sets): P(escalation) with and without the patron:", "",
                      *_table(("structure", "P(escalation)", "without the patron"), rows)]  # fmt: skip
        else:
            lines += ["", "The P(escalation) rows below are from the calibration of today's structure alone (published "
                      f"before the model index was added); rerun `{COMMAND}` for the model-averaged and per-structure "
                      "rows."]  # fmt: skip
    if esc is not None and "escalated_param_q05" in esc.columns:
        lines += ["", "P(escalation) of the seed timeline under every counterfactual: pooled [parameter-uncertainty "
                  "90% interval] ± Monte Carlo sd of the pooled value; the parameter part's share of the sets' "
                  "variance:", ""]  # fmt: skip
        rows = []
        for (scenario, cf), g in esc.groupby(["scenario", "counterfactual"], sort=False):
            cell = {r["distribution"]: (_p(r, "escalated"), f"{r['escalated_param_share']:.0%}")
                    for _, r in g.iterrows()}  # fmt: skip
            rows.append((scenario, cf, *cell.get("prior", ("", "")), *cell.get("posterior", ("", ""))))
        lines += _table(("scenario", "counterfactual", "prior", "parameter share", "posterior", "parameter share"),
                        rows)  # fmt: skip
    lines += ["", "What the record tells and cannot tell, value by value: the overlap of each value's posterior with "
              "its prior in the priors' unit cube (1 - total-variation distance; 1 = the record says nothing), "
              "sorted from the most informed; * = informed (beyond the sampling noise of a posterior of this "
              "effective size, and by at least 5% of the mass):", ""]  # fmt: skip
    rows = [(f"`{r.factor}`{' *' if r.informed else ''}", f"{r.overlap:.2f}", f"{r.prior_low:g} to {r.prior_high:g}",
             f"{r.prior_mean:.3g}", f"{r.posterior_mean:.3g} [{r.posterior_q05:.3g}, {r.posterior_q95:.3g}]")
            for r in info.sort_values("overlap").itertuples()]  # fmt: skip
    lines += _table(("value", "overlap", "prior range", "prior mean", "posterior mean [90%]"), rows,
                    ("---", "--:", "--:", "--:", "--:"))  # fmt: skip
    for cutoff, name, label in FORECASTS:
        scores, fg = _read(f"{name}_scores"), _read(f"{name}_generations")
        lines += ["", f"**Forecast from {label}** (`{cutoff}`). Calibrated only on the statistics the record had "
                  "closed, and whose sources had been published, by then; the *unconditional* forecast runs the "
                  "scenario as it was known then (events up to the cut-off, the vote where scheduled with its seats "
                  "drawn from what was expected, the truce's end once announced; not the attack on the PM, the "
                  "ratification, KSS's deadline or the coalition talks); the *conditional* one, declared as such, "
                  "runs the scenario as it happened. Scores (lower is better): ranked probability score (RPS) for "
                  "the monthly counts, Brier for the events; baselines: Poisson at the record's rate of attacks on "
                  "sites since 1 January and over the last quarter, as known at the cut-off; Laplace's rule over the "
                  "clash-free months for the events.", ""]  # fmt: skip
        if scores is None or fg is None:
            lines += [NOT_YET]
            continue
        lines += _table(("version", "target", "observed", "model: mean [90%]", "model", "since January",
                         "last quarter", "model log", "best baseline log"), _scores_rows(scores),
                        ("---", "---", "--:", "--:", "--:", "--:", "--:", "--:", "--:"))  # fmt: skip
        f0 = fg.iloc[-1]
        lines += ["", *[f"- {v}." for v in forecast_verdicts(scores)],
                  f"- The cut-off's calibration: {len(fg)} generations, last tolerance {f0['tolerance']:.2f}, "
                  f"posterior effective sample size {f0['posterior_ess']:.0f}."]  # fmt: skip
    rec = _read("recovery_real")
    lines += ["", "**Recovery on the real problem** (`python experiments/calibration/recovery_real.py`): synthetic "
              "records made by `record_2021` at known parameter sets drawn from the priors (every value free, the "
              "prior redraw on), calibrated with the same statistics and facts; share of the informed values' "
              "central 90% intervals that hold the known value:", ""]  # fmt: skip
    if rec is None:
        lines += [NOT_YET]
    else:
        rows = [(r.sampler, int(r.trials), int(r.informed_checks), f"{r.coverage_informed:.3f} ± "
                 f"{r.binomial_se:.3f}", f"{r.coverage_informed_regression:.3f}", f"{r.width_informed:.2f}",
                 f"{r.width_informed_regression:.2f}", f"{r.coverage_all:.3f}", f"{r.seconds / 60:.0f} min")
                for r in rec.itertuples()]  # fmt: skip
        lines += _table(("sampler", "trials", "informed checks", "coverage [± 1 se]", "with regression",
                         "width (cube)", "width with regression", "coverage, every value", "wall time"),
                        rows)  # fmt: skip
    srec = _read("structure_recovery")
    lines += ["", "**Structure recovery** (`tests/test_structure_recovery.py`; larger: `python "
              "experiments/calibration/structure_recovery.py`): synthetic records made by `record_2021` under a known "
              "structure at prior draws, each calibrated with the model index over the same structures; the true "
              "structure must be the most probable more often than chance. The CI test (today's structure against "
              "`mobilisation=cascade`, 10 records each, the patterns in the distance) chose right in 13 of 20 "
              "records with a mean posterior probability of the true structure of 0.51 (chance 0.5). Against "
              "`leverage=coercion`, the rival whose prior-predictive counts differ most from today's, recovery is "
              "at chance at that size: 11 of 20 right, mean P(true) 0.50, with the patterns or without (the 7 of 10 "
              "an earlier version of the test found at 5 records each was luck). With every value free, what sets "
              "a structure's counts apart is absorbed by its values: the record's counts and patterns tell the "
              "structures apart only weakly, as the model choice above shows."]  # fmt: skip
    if srec is not None:
        lines += ["", *_table(("true structure", "records", "chosen right", "mean P(true)", "chance"),
                              [(r.true_structure, int(r.records), f"{r.chosen_right:.2f}", f"{r.mean_p_true:.3f}",
                                f"{r.chance:.3f}") for r in srec.itertuples()])]  # fmt: skip
    return "\n".join(lines)
