"""Recovery on the real problem: synthetic records made by record_2021 itself at known parameter sets (drawn
from the priors, every value free as in the real calibration, the prior redraw on), each calibrated with the same
statistics, facts and sampler as the headline's calibration; do the informed values' 90% intervals cover the
known values 90% of the time? (Simulation-based calibration, Talts et al. 2018, read off central intervals.)

A synthetic record has the real record's form: a statistic the record gives as an interval [low, high] gets an
interval of the same width around the synthetic run's value (clipped at 0); an open one ("at least N") becomes
"at least" the synthetic value; a point stays a point. The yes/no facts become what the synthetic run did (a
boolean fact met or not; the counts are read by the statistics already)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from sim.analysis import abc_smc
from sim.analysis import calibration as cal
from sim.analysis import calibration_counts as cc
from sim.model import priors
from sim.model.scenario import load_scenario

LEVEL = 0.9
BOOLEAN_FACTS = ("boycott_over_by_the_vote", "visit_after_the_attack", "no_civil_war")


def synthetic_observed(stats: Sequence[cc.Statistic], x: np.ndarray) -> abc_smc.Observed:
    """The record's form around a synthetic run's statistics ``x`` (S,)."""
    lows, highs = [], []
    for s, v in zip(stats, x, strict=True):
        if math.isinf(s.high):
            lows.append(v)
            highs.append(math.inf)
        else:
            below, above = (s.high - s.low) / 2, (s.high - s.low) / 2
            lows.append(max(0.0, v - below))
            highs.append(v + above)
    return abc_smc.Observed(lows, highs, [s.scale for s in stats])


def recovery(trials: int, settings: abc_smc.Settings, seed: int = 7, workers: int | None = None,
             outcome: bool = False, weights: Callable | None = None,
             log: Callable[[str], None] | None = None) -> pd.DataFrame:  # fmt: skip
    """``trials`` known parameter sets from the priors, one synthetic record each, each calibrated with
    ``settings`` (the calibration's sampler at a smaller size). One row per (trial, value): the known value's
    coordinate in the priors' unit cube, the posterior's central LEVEL interval there, whether it covers, and
    whether the record informs the value in that trial (calibration_counts.informed). ``weights``: replace the
    sampler's importance weights (a deliberately broken sampler must fail the check)."""
    scenario = load_scenario(cc.SCENARIO)
    stats = cc.statistics(outcome)
    targets = [t for t in cc.facts(None, outcome) if t.id in BOOLEAN_FACTS]
    names = list(priors.priors())
    fn = cc.to_values(names)
    rng = np.random.default_rng([seed, 26])
    truths_u = rng.random((trials, len(names)))
    truth_table = cc.value_table(names, fn(truths_u))
    made = cc.simulate_rows(scenario, truth_table, cc.generation_seed(seed, 999), 1, 0, stats, targets, workers)
    rows = []
    original = abc_smc.weights
    if weights is not None:
        abc_smc.weights = weights
    try:
        for i in range(trials):
            run = made.iloc[i]
            x = np.array([run[s.name] for s in stats], dtype=float)
            obs = synthetic_observed(stats, x)
            facts_i = [replace(t, value=_fact_value(run, t)) for t in targets]
            s_i = replace(settings, seed=settings.seed + i)

            def simulate(values, t, idx, models, facts_i=facts_i, s_i=s_i):
                runs = cc.simulate_rows(scenario, cc.value_table(names, values), cc.generation_seed(s_i.seed, t),
                                        s_i.replicates, 0, stats, facts_i, workers)  # fmt: skip
                n, R = len(idx), s_i.replicates
                vals = np.stack([runs[s.name].to_numpy(dtype=float).reshape(n, R) for s in stats], axis=-1)
                return vals, runs["ok"].to_numpy().reshape(n, R)

            res = abc_smc.run(names, fn, simulate, obs, s_i)
            u, w = res.pooled()
            ua, wa = abc_smc.regression_adjusted(res, obs)
            info = cc.informed(u, w, names).set_index("factor")
            for k, name in enumerate(names):
                lo = abc_smc.weighted_quantile(u[:, k], w, (1 - LEVEL) / 2)
                hi = abc_smc.weighted_quantile(u[:, k], w, (1 + LEVEL) / 2)
                lo_r = abc_smc.weighted_quantile(ua[:, k], wa, (1 - LEVEL) / 2)
                hi_r = abc_smc.weighted_quantile(ua[:, k], wa, (1 + LEVEL) / 2)
                rows.append({"trial": i, "factor": name, "truth_u": truths_u[i, k], "q_low": lo, "q_high": hi,
                             "covered": bool(lo <= truths_u[i, k] <= hi), "width": hi - lo,
                             "covered_regression": bool(lo_r <= truths_u[i, k] <= hi_r),
                             "width_regression": hi_r - lo_r,
                             "informed": bool(info.loc[name, "informed"]),
                             "tv": float(info.loc[name, "tv_distance"]), "tolerance": res.final.eps,
                             "ess": res.pooled_ess(), "generations": len(res.generations)})  # fmt: skip
            if log:
                done = pd.DataFrame(rows)
                told = done[done["informed"]]
                rate = told["covered"].mean() if len(told) else float("nan")
                log(f"trial {i + 1}/{trials}: {int(info['informed'].sum())} informed; coverage so far {rate:.3f} over "
                    f"{len(told)} informed checks")  # fmt: skip
    finally:
        abc_smc.weights = original
    return pd.DataFrame(rows)


def _fact_value(run: pd.Series, target: cal.Target) -> bool:
    """The synthetic run's own value of a boolean fact's statistic (the record says what the run did)."""
    met = bool(run[f"met_{target.id}"])
    return target.value if met else (not target.value)


def summary(table: pd.DataFrame) -> dict[str, float]:
    """Coverage of the informed values' intervals (and of every value's), their mean width in the unit cube, the
    same after the regression adjustment, and the binomial standard error of the informed coverage."""
    told = table[table["informed"]]
    n = len(told)
    nan = float("nan")
    se = math.sqrt(LEVEL * (1 - LEVEL) / n) if n else nan
    per_trial = table.groupby("trial")[["tolerance", "ess", "generations"]].first()
    return {"trials": int(table["trial"].nunique()), "informed_checks": n,
            "coverage_informed": float(told["covered"].mean()) if n else nan, "binomial_se": se,
            "coverage_all": float(table["covered"].mean()),
            "width_informed": float(told["width"].mean()) if n else nan,
            "coverage_informed_regression": float(told["covered_regression"].mean()) if n else nan,
            "width_informed_regression": float(told["width_regression"].mean()) if n else nan,
            "coverage_all_regression": float(table["covered_regression"].mean()),
            "informed_per_trial": n / max(1, table["trial"].nunique()),
            "median_final_tolerance": float(per_trial["tolerance"].median()),
            "median_posterior_ess": float(per_trial["ess"].median()),
            "factors_informed": ", ".join(sorted(told["factor"].unique()))}  # fmt: skip


def structure_recovery(per_structure: int, settings: abc_smc.Settings, seed: int = 11, workers: int | None = None,
                       outcome: bool = False, structures: Sequence[str] | None = None,
                       log: Callable[[str], None] | None = None) -> pd.DataFrame:  # fmt: skip
    """Records simulated under each structure (``structures``: labels from calibration_counts.structure_list(),
    default all of them) at parameter sets drawn from the priors, ``per_structure`` records each, each calibrated
    with a model index over the same structures (uniform prior; ``settings.models`` is set to their number): one
    row per record with the structure that made it, the posterior probability of each, and the one chosen (the
    most probable)."""
    scenario = load_scenario(cc.SCENARIO)
    stats = cc.statistics(outcome)
    targets = [t for t in cc.facts(None, outcome) if t.id in BOOLEAN_FACTS]
    every = cc.structure_list()
    labels = [s.label() for s in every]
    chosen = list(range(len(every))) if structures is None else [labels.index(x) for x in structures]
    to_global = np.asarray(chosen)
    K = len(chosen)
    names = list(priors.all_priors())
    fn = cc.to_values(names)
    rng = np.random.default_rng([seed, 25])
    truth_models = np.repeat(np.arange(K), per_structure)
    truths_u = rng.random((len(truth_models), len(names)))
    made = cc.simulate_rows(scenario, cc.value_table(names, fn(truths_u), to_global[truth_models]),
                            cc.generation_seed(seed, 998), 1, 0, stats, targets, workers)  # fmt: skip
    s_all = replace(settings, models=K)
    rows = []
    for i, true_k in enumerate(truth_models):
        run = made.iloc[i]
        obs = synthetic_observed(stats, np.array([run[s.name] for s in stats], dtype=float))
        facts_i = [replace(t, value=_fact_value(run, t)) for t in targets]
        s_i = replace(s_all, seed=s_all.seed + i)

        def simulate(values, t, idx, models, facts_i=facts_i, s_i=s_i):
            runs = cc.simulate_rows(scenario, cc.value_table(names, values, to_global[models]),
                                    cc.generation_seed(s_i.seed, t), s_i.replicates, 0, stats, facts_i,
                                    workers)  # fmt: skip
            n, R = len(idx), s_i.replicates
            vals = np.stack([runs[s.name].to_numpy(dtype=float).reshape(n, R) for s in stats], axis=-1)
            return vals, runs["ok"].to_numpy().reshape(n, R)

        res = abc_smc.run(names, fn, simulate, obs, s_i)
        p = res.model_probabilities(K)
        rows.append({"record": i, "true_structure": labels[chosen[true_k]], "true_model": int(true_k),
                     "p_true": float(p[true_k]), "chosen": int(np.argmax(p)), "right": bool(np.argmax(p) == true_k),
                     "ess": res.pooled_ess(),
                     **{f"p_{labels[g]}": float(p[k]) for k, g in enumerate(chosen)}})  # fmt: skip
        if log:
            done = pd.DataFrame(rows)
            log(f"record {i + 1}/{len(truth_models)} (made by {labels[chosen[true_k]]}): P(true) {p[true_k]:.3f}; "
                f"mean P(true) so far {done['p_true'].mean():.3f}, chosen right "
                f"{done['right'].mean():.2f}")  # fmt: skip
    return pd.DataFrame(rows)
