"""The long run: the article's timeline run a year past its end with no new events, to see whether the clash risk
settles or grows without new shocks, and which mechanism drives any drift (each door closed in turn, as in
docs/ODD.md section 8, plus the drifts that act with no events: independence and the relaxation of grievance).

`python -m sim.long_run` writes results/tables/long_run.csv; `python -m sim.docs` shows it in docs/ODD.md section 8.
Every case runs the same keyed random numbers (the same seed and replicates), so a difference between cases is the
door's, not noise between runs; intervals are Wilson 95% over runs (Monte Carlo error only)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.routes import BRAKES, ROUTES, Route
from sim.model import priors
from sim.model.params import make_militias, make_params
from sim.model.scenario import Scenario, load_scenario
from sim.run.summary import wilson_interval

TABLE = "long_run"
EXTRA_DAYS, MONTH = 365, 30
# Sized to finish in minutes on a shared 2-core machine (compiled engine, every structure): docs/ODD.md section 8.
REPLICATES, SETS, SET_REPLICATES, SEED = 1000, 50, 10, 20211107
# Doors that act with no events at all: closing one shows whether it drives a drift in the extra year.
DRIFTS: tuple[Route, ...] = (
    Route("independence drift", "the militias' independence creeps towards 1 (leverage falls)",
          {"independence_drift": 0.0}, "¶17-18"),
    Route("US strikes", "US retaliation for attacks on its forces (the truce lapsed on 31 December)",
          {"us_retaliation_prob": 0.0}, "record: us_strikes_2021_06_27"),
)  # fmt: skip
CASES: tuple[Route, ...] = (Route("none", "every door open", {}, ""), *DRIFTS, *ROUTES, *BRAKES)


def extended(scenario: str = "seed_timeline", days: int = EXTRA_DAYS) -> Scenario:
    """``scenario`` with ``days`` more days after its end and no event in them."""
    sc = load_scenario(scenario)
    return dataclasses.replace(sc, name=f"{sc.name}+{days}d", end=sc.end + dt.timedelta(days=days))


@dataclass(frozen=True)
class Settings:
    replicates: int = REPLICATES
    sets: int = SETS
    set_replicates: int = SET_REPLICATES
    seed: int = SEED
    engine: str = "compiled"  # the same bits as "vector" (tests/test_compiled.py), several times faster


def _windows(end_day: int, days: int) -> dict[str, tuple[int, int]]:
    """Day ranges (inclusive) of the extra year: its first and last three months, and each month."""
    first, last = end_day + 1, end_day + days
    out = {"first 3 months": (first, first + 3 * MONTH - 1), "last 3 months": (last - 3 * MONTH + 1, last)}
    for k in range(days // MONTH):
        out[f"month {k + 1}"] = (first + k * MONTH, first + (k + 1) * MONTH - 1)
    return out


def _run(sc: Scenario, sets: Sequence[tuple[dict, dict]], reps: int, seed: int, off: Mapping[str, float],
         engine: str = "compiled"):
    params_rows, militia_rows = [], []
    for p, m in sets:
        params_rows += [make_params({**p, **off})] * reps
        militia_rows += [make_militias(m)] * reps
    from sim.run.simulate import batch_runner

    return batch_runner(engine)(sc, params_rows, militia_rows, seed, np.tile(np.arange(reps), len(sets)),
                     daily_columns=("hazard", "clash"))  # fmt: skip


def compute(settings: Settings | None = None, scenario: str = "seed_timeline", days: int = EXTRA_DAYS) -> pd.DataFrame:
    """For each structure (today's and each rival alone) and each case (every door open, then each closed in turn),
    at the structure's defaults and pooled under its priors: P(a clash) and the mean daily hazard in each window of
    the extra year."""
    from sim.analysis.per_structure import prior_kw, structures

    s = settings or Settings()
    sc = extended(scenario, days)
    end_day = load_scenario(scenario).days - 1
    windows = _windows(end_day, days)
    rows = []
    for label, select, structure in structures():
        draws = [priors.split_factors(d) for d in priors.sample(s.sets, seed=s.seed, **prior_kw(structure))]
        for case in CASES:
            for where, sets, reps in (("defaults", [({}, {})], s.replicates), ("priors", draws, s.set_replicates)):
                res = _run(sc, [({**p, **select}, m) for p, m in sets], reps, s.seed, case.off, s.engine)
                clash, hazard = res.daily["clash"].astype(bool), res.daily["hazard"]
                n = clash.shape[1]
                base = {"structure": label, "case": case.name, "what": case.description, "closed": " ".join(case.off),
                        "where": where, "runs": n}  # fmt: skip
                for w, (a, b) in windows.items():
                    k = int(clash[a : b + 1].any(axis=0).sum())
                    lo, hi = wilson_interval(k, n)
                    rows.append({**base, "window": w, "p_clash": k / n, "p_clash_low": float(lo),
                                 "p_clash_high": float(hi),
                                 "mean_hazard": float(hazard[a : b + 1].mean())})  # fmt: skip
    return pd.DataFrame(rows).assign(seed=s.seed, extra_days=days, scenario=scenario)


def trend(table: pd.DataFrame, case: str = "none", where: str = "defaults",
          structure: str = "default") -> tuple[float, float, str]:  # fmt: skip
    """(hazard in the first 3 months, in the last 3 months, 'settles' | 'grows' | 'flat') of one case: it grows if
    the last quarter's mean daily hazard exceeds the first's by more than 10%, settles if it falls by more."""
    t = table[(table["case"] == case) & (table["where"] == where)]
    if "structure" in t.columns:
        t = t[t["structure"] == structure]
    t = t.set_index("window")
    early, late = float(t.loc["first 3 months", "mean_hazard"]), float(t.loc["last 3 months", "mean_hazard"])
    word = "grows" if late > 1.1 * early else "settles" if late < early / 1.1 else "flat"
    return early, late, word


def describe(table: pd.DataFrame) -> str:
    lines = [f"{'structure':<18} {'case':<22} {'where':<9} {'P(clash) first 3 mo':>20} {'last 3 mo':>10} "
             f"{'hazard first':>13} {'last':>10}  trend"]  # fmt: skip
    for (structure, case, where), g in table.groupby(["structure", "case", "where"], sort=False):
        w = g.set_index("window")
        early, late, word = trend(table, case, where, structure)
        lines.append(f"{structure:<18} {case:<22} {where:<9} {w.loc['first 3 months', 'p_clash']:>20.3f} "
                     f"{w.loc['last 3 months', 'p_clash']:>10.3f} {early:>13.5f} {late:>10.5f}  {word}")
    return "\n".join(lines)


def run_args(args) -> int:
    """The command (sim/long_run.py parses its line): compute, print, and publish unless --no-write."""
    from sim.analysis import published

    for name, low, high in (("replicates", 10, 10**6), ("sets", 1, 10**5), ("set_replicates", 1, 10**5),
                            ("days", 3 * MONTH, 3650)):  # fmt: skip
        if not low <= getattr(args, name) <= high:
            print(f"error: --{name.replace('_', '-')}={getattr(args, name)} is out of range: allowed [{low}, {high}]",
                  file=sys.stderr)  # fmt: skip
            return 2
    import time

    t0 = time.perf_counter()
    table = compute(Settings(args.replicates, args.sets, args.set_replicates, args.seed, args.engine), days=args.days)
    seconds = time.perf_counter() - t0
    print(describe(table))
    print(f"engine {args.engine}: {seconds:.0f} s")
    if not args.no_write:
        print(f"wrote {published.write(TABLE, table.assign(engine=args.engine, seconds=round(seconds)))}")
    return 0
