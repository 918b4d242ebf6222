"""Which route carries the risk of a clash (each switched off in turn, common random numbers), which
declared values act on which scenario, and counterfactual effects as risk differences and ratios."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from sim.engines.vector import run_batch
from sim.model import priors
from sim.model.params import MILITIAS, PARAMS, make_militias, make_params
from sim.model.scenario import load_scenario

LADDER = (("any clash", "any_clash"), ("escalation", "escalated"), ("sustained fighting", "sustained"))


@dataclass(frozen=True)
class Route:
    """One door to a clash between the camps: the declared values that open it (set to 0 to close it)."""

    name: str
    description: str
    off: Mapping[str, float]
    evidence: str


ROUTES: tuple[Route, ...] = (
    Route("refusals", "the militias' refusal of the results raises the threat Sadr's movement reads",
          {"threat_refusal": 0.0}, "¶3, ¶5, ¶28; Richardson 1960"),
    Route("violence", "the pro-Iran camp's violence raises that threat", {"threat_violence": 0.0},
          "¶2, ¶5, ¶12; Richardson 1960"),
    Route("rivalry", "rivalry above its baseline raises that threat", {"threat_rivalry": 0.0}, "¶24, ¶28"),
    Route("attacks on the ally", "attacks on the PM (Sadr's ally) anger his bloc and sharpen the rivalry",
          {"attack_sadr_grievance": 0.0, "attack_rivalry": 0.0}, "¶2, ¶5"),
    Route("exclusion", "coalition talks that exclude the losers anger their militias and sharpen the rivalry",
          {"coalition_grievance": 0.0, "coalition_rivalry": 0.0}, "¶25"),
    Route("the vote's rivalry", "the election sharpens the rivalry", {"election_rivalry": 0.0}, "¶5, ¶28"),
    Route("spiral", "a clash angers both camps and sharpens the rivalry (retaliation)",
          {"clash_grievance": 0.0, "clash_rivalry": 0.0}, "¶7, ¶12; Richardson 1960"),
)  # fmt: skip
BRAKES: tuple[Route, ...] = (
    Route("Sadr's halt", "Sadr orders his wing home after a clash (a brake: switching it off raises the risk)",
          {"sadr_restraint": 0.0}, "¶38; Staniland 2014"),
)  # fmt: skip

# Declared values that change nothing on the article's timeline, each with the scenario where it acts and
# why (no value without effect: tests/test_routes.py checks both halves).
ACTS_ONLY_IN: dict[str, tuple[str, str]] = {
    "patron_attention_initial": (
        "attack_and_intervention",
        "the seed timeline opens three months before the first crisis, when attention has refilled whatever "
        "its start; a scenario that opens days before one (the election, then the attack) depends on it",
    ),
}
REACH_SHARE = 0.01  # a value acts on a scenario if moving it across its judged range changes >= 1% of runs


def _outcome(runs: Mapping[str, np.ndarray], column: str) -> np.ndarray:
    if column == "any_clash":
        return np.asarray(runs["first_clash_day"]) >= 0
    return np.asarray(runs[column], dtype=bool)


def _run_sets(scenario, sets: Sequence[tuple[dict, dict]], replicates: int, seed: int, off: Mapping[str, float]):
    """Every (parameter, militia) set with ``off`` applied, ``replicates`` runs each, as one batch."""
    params_rows, militia_rows = [], []
    for p, m in sets:
        params_rows += [make_params({**p, **off})] * replicates
        militia_rows += [make_militias(m)] * replicates
    reps = np.tile(np.arange(replicates), len(sets))
    return run_batch(scenario, params_rows, militia_rows, seed, reps, keep_daily=False).runs


def decomposition(scenario: str = "seed_timeline", replicates: int = 2000, prior_sets: int = 200,
                  prior_replicates: int = 10, seed: int = 20211107) -> pd.DataFrame:  # fmt: skip
    """P(any clash), P(escalation) and P(sustained fighting) with every route open and with each route (and
    each brake) switched off in turn, at the defaults and pooled over sets drawn from the priors; the same
    keyed random numbers throughout, so a difference is the route's and not noise between runs."""
    sc = load_scenario(scenario)
    draws = [priors.split_factors(d) for d in priors.sample(prior_sets, seed=seed)]
    rows = []
    for route in (Route("none", "every route open", {}, ""), *ROUTES, *BRAKES):
        for where, sets, reps in (("defaults", [({}, {})], replicates), ("priors", draws, prior_replicates)):
            runs = _run_sets(sc, sets, reps, seed, route.off)
            row = {"route": route.name, "where": where, "runs": len(runs["escalated"])}
            for _, col in LADDER:
                row[f"p_{col}"] = float(_outcome(runs, col).mean())
            rows.append(row)
    return pd.DataFrame(rows)


def reach(scenario: str, names: Sequence[str] | None = None, replicates: int = 300, seed: int = 1) -> pd.DataFrame:
    """For each uncertain value: the share of runs (common random numbers) whose outcomes change when it
    moves from the low to the high end of its judged range, everything else at the defaults."""
    table = priors.priors()
    names = [p.name for p in PARAMS if p.role == "uncertain"] if names is None else list(names)
    rows = []
    for name in names:
        pr = table[name]
        lo, hi = (int(pr.low), int(pr.high)) if pr.dist == "integer" else (pr.low, pr.high)
        rows += [make_params({name: lo}), make_params({name: hi})]
    per_row = [p for p in rows for _ in range(replicates)]
    reps = np.tile(np.arange(replicates), len(rows))
    runs = run_batch(load_scenario(scenario), per_row, [MILITIAS], seed, reps, keep_daily=False).runs
    out = []
    for i, name in enumerate(names):
        a = slice(2 * i * replicates, (2 * i + 1) * replicates)
        b = slice((2 * i + 1) * replicates, (2 * i + 2) * replicates)
        changed = np.zeros(replicates, dtype=bool)
        for _col, values in runs.items():
            changed |= np.asarray(values[a]) != np.asarray(values[b])
        out.append({"parameter": name, "scenario": scenario, "share_changed": float(changed.mean())})
    return pd.DataFrame(out)


# ----------------------------------------------------------------------------- counterfactual effects


@dataclass(frozen=True)
class Effect:
    """A counterfactual's effect on one outcome against a baseline: risk difference and ratio, with intervals."""

    p_base: float
    p_cf: float
    diff: float
    diff_low: float
    diff_high: float
    ratio: float
    ratio_low: float
    ratio_high: float


def paired_effect(base: np.ndarray, cf: np.ndarray, level: float = 0.95) -> Effect:
    """Effect of a counterfactual on a yes/no outcome from paired runs (same keyed random numbers): the risk
    difference with a normal interval on the paired differences, and the risk ratio with a delta-method
    interval on its log that keeps the pairs' covariance. A ratio over a baseline of 0 is infinite, with
    its lower bound still given (the interval of a baseline on the floor says how far it may reach)."""
    a, b = np.asarray(base, dtype=float), np.asarray(cf, dtype=float)
    n, z = len(a), float(norm.ppf(0.5 + level / 2))
    pa, pb = a.mean(), b.mean()
    d = b - a
    half = z * d.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
    if pa > 0 and pb > 0:
        cov = np.cov(a, b, ddof=1)
        var = cov[1, 1] / (n * pb**2) + cov[0, 0] / (n * pa**2) - 2 * cov[0, 1] / (n * pa * pb)
        r, h = pb / pa, z * np.sqrt(max(var, 0.0))
        r_lo, r_hi = r * np.exp(-h), r * np.exp(h)
    elif pb > 0:  # baseline on the floor: bound it above by its one-sided 95% (rule of three), ratio unbounded
        r, r_lo, r_hi = np.inf, pb / (3.0 / n), np.inf
    elif pa > 0:  # counterfactual on the floor: the ratio is 0, bounded above by the rule of three
        r, r_lo, r_hi = 0.0, 0.0, (3.0 / n) / pa
    else:
        r, r_lo, r_hi = np.nan, np.nan, np.nan
    return Effect(float(pa), float(pb), float(d.mean()), float(d.mean() - half), float(d.mean() + half),
                  float(r), float(r_lo), float(r_hi))  # fmt: skip


# (label, configs/counterfactual/ name, its parameter overrides)
COUNTERFACTUAL_CASES = (
    ("no patron", "no_patron", {"patron_present": False}),
    ("Soleimani-strength patron", "soleimani", {"patron_influence": 0.85}),
    ("more independent militias", "high_independence", {"militia_independence": 0.8}),
    ("distracted patron", "distracted_patron", {"patron_distraction": 0.8}),
)


@functools.lru_cache(maxsize=4)
def effects_at_defaults(scenario: str = "seed_timeline", replicates: int = 5000, seed: int = 20211107) -> pd.DataFrame:
    """Each counterfactual's effect on every rung of the severity ladder at the defaults, paired runs."""
    sc = load_scenario(scenario)
    base = _run_sets(sc, [({}, {})], replicates, seed, {})
    rows = []
    for label, _, over in COUNTERFACTUAL_CASES:
        cf = _run_sets(sc, [({}, {})], replicates, seed, over)
        for rung, col in LADDER:
            e = paired_effect(_outcome(base, col), _outcome(cf, col))
            rows.append({"counterfactual": label, "outcome": rung, **e.__dict__})
    return pd.DataFrame(rows)


def fmt_ratio(e: Mapping[str, float]) -> str:
    """A ratio with its interval, in words where it is unbounded."""
    if np.isnan(e["ratio"]):
        return "undefined (0 / 0)"
    if np.isinf(e["ratio"]):
        return f"> {e['ratio_low']:.0f} (baseline 0)"
    return f"{e['ratio']:.2f} [{e['ratio_low']:.2f}, {e['ratio_high']:.2f}]"


# ----------------------------------------------------------------------------- command line


def describe(table: pd.DataFrame) -> str:
    """The decomposition as a plain-text table: each route closed, its probabilities and the change."""
    every = table[table["route"] == "none"].set_index("where")
    lines = [f"{'route closed':<22} {'where':<9} {'any clash':>16} {'escalation':>16} {'sustained':>16}"]
    for r in table.itertuples():
        cells = []
        for col in ("any_clash", "escalated", "sustained"):
            p = getattr(r, f"p_{col}")
            cells.append(f"{p:.3f} ({p - every.loc[r.where, f'p_{col}']:+.3f})")
        lines.append(f"{r.route:<22} {r.where:<9} " + " ".join(f"{c:>16}" for c in cells))
    return "\n".join(lines)


def run_args(args: argparse.Namespace) -> int:
    """``python -m sim.routes`` once its arguments are parsed (sim/routes.py)."""
    import sys

    from sim.model.scenario import list_scenarios

    for name in ("replicates", "sets", "set_replicates"):
        if not 1 <= getattr(args, name) <= 1_000_000:
            print(f"error: --{name.replace('_', '-')}={getattr(args, name)} is out of range: allowed [1, 1000000]",
                  file=sys.stderr)  # fmt: skip
            return 2
    if args.scenario not in list_scenarios():
        print(f"error: --scenario={args.scenario} is not a scenario: allowed {', '.join(list_scenarios())}",
              file=sys.stderr)  # fmt: skip
        return 2
    table = decomposition(args.scenario, args.replicates, args.sets, args.set_replicates, args.seed)
    print(f"{args.scenario}: each route closed in turn (its values set to 0), common random numbers; "
          f"defaults {args.replicates} runs, priors {args.sets} sets x {args.set_replicates} runs\n")  # fmt: skip
    print(describe(table))
    return 0
