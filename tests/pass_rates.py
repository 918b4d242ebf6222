"""``python tests/pass_rates.py [--draws 15] [--runs 100] [--seed 25] [--workers 2] [--write]``: the share of
parameter sets drawn from the priors that pass each observation (tests/patterns.py) and all of them together.

For each structure (today's and each rival alternative alone), each set is a Latin-hypercube draw from its priors
(sim/model/priors.py, every uncertain parameter and militia value it uses), run ``--runs`` times on record_2021
with the observations' own seed and replicates (so every set sees the same keyed random numbers); an observation
passes for a set when the record is not in either tail of that set's runs. Reproducible: the same arguments give
the same table whatever the worker count. ``--write`` publishes results/tables/pattern_pass_rates.csv, which
`python -m sim.docs` shows in docs/ODD.md section 9."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import pandas as pd
from patterns import DAILY, KNOWN_FAILURES, OBSERVATIONS, OBSERVED, TAIL, Runner, run_all, run_with_targets

from sim.analysis import published
from sim.analysis.per_structure import prior_kw, structures
from sim.engines.vector import BatchResult
from sim.model import priors
from sim.model.params import make_militias, make_params
from sim.model.scenario import load_scenario
from sim.run.summary import wilson_interval

TABLE = "pattern_pass_rates"
ALL, ALL_BUT_KNOWN = "(all observations)", "(all but the known failures)"


def passes(draws: list[dict], runs: int, select: dict | None = None) -> list[dict[str, bool]]:
    """For each draw (a {name: value} from priors.sample), whether it passes each observation (at the structure
    ``select`` picks). Every observation reads one scenario (record_2021) at the Runner's own parameters, so the
    draws run as one batch (a replicate depends only on its seed, replicate and parameters: the same bits as a
    batch per draw, tests/test_patterns.py checks it) and each draw's Runner gets its slice."""
    sc = load_scenario(OBSERVED)
    runners = []
    for draw in draws:
        p, m = priors.split_factors(draw)
        runners.append(Runner(militias=make_militias(m), params={**p, **(select or {})}, n=runs))
    res = batch_of(sc, runners)
    out = []
    for i, r in enumerate(runners):
        part = slice(i * runs, (i + 1) * runs)
        r._cache[(repr(sc), tuple(sorted(r.params.items())))] = BatchResult(
            {k: v[part] for k, v in res.runs.items()}, {k: v[:, part] for k, v in res.daily.items()})  # fmt: skip
        out.append({name: o.passed for name, o in run_all(r).items()})
    return out


def batch_of(sc, runners: Sequence[Runner]) -> BatchResult:
    """Runner._run for several Runners with the same ``n`` in one batch (their runs one after another)."""
    n = runners[0].n
    params_rows = [make_params(r.params) for r in runners for _ in range(n)]
    militia_rows = [r.militias for r in runners for _ in range(n)]
    return run_with_targets(sc, params_rows, militia_rows, np.tile(np.arange(n), len(runners)), DAILY)


def _task(task: tuple) -> list:
    """A worker's share: a chunk of draws' pass flags, or (draws None) the observations a structure's defaults
    fail at the observations' own replicates."""
    _, select, draws, runs = task
    if draws is None:
        return [n for n, o in run_all(Runner(params=select)).items() if not o.passed]
    return passes(draws, runs, select)


def table(flags: pd.DataFrame, runs: int, seed: int, structure: str = "default",
          failing: Sequence[str] = tuple(KNOWN_FAILURES)) -> pd.DataFrame:  # fmt: skip
    """The share of draws passing each observation, all of them, and all but those the structure's defaults fail
    (``failing``; Wilson 95% over draws)."""
    n = len(flags)
    cols = {**{name: flags[name] for name in OBSERVATIONS}, ALL: flags[list(OBSERVATIONS)].all(axis=1),
            ALL_BUT_KNOWN: flags[[o for o in OBSERVATIONS if o not in failing]].all(axis=1)}  # fmt: skip
    rows = []
    for name, col in cols.items():
        k = int(col.sum())
        lo, hi = wilson_interval(k, n)
        rows.append({"structure": structure, "observation": name, "known_failure": name in failing,
                     "pass_share": k / n, "low": float(lo), "high": float(hi), "draws": n, "runs": runs,
                     "seed": seed, "tail": TAIL})  # fmt: skip
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=15, help="parameter sets from the priors (15)")
    ap.add_argument("--runs", type=int, default=100, help="runs of record_2021 per set (100)")
    ap.add_argument("--seed", type=int, default=25, help="seed of the Latin hypercube (25)")
    ap.add_argument("--workers", type=int, default=2, help="processes (2)")
    ap.add_argument("--write", action="store_true", help=f"publish results/tables/{TABLE}.csv")
    args = ap.parse_args(argv)
    for name, low, high in (("draws", 1, 100_000), ("runs", 40, 100_000), ("workers", 1, 64)):
        if not low <= getattr(args, name) <= high:
            print(f"error: --{name}={getattr(args, name)} is out of range: allowed [{low}, {high}]", file=sys.stderr)
            return 2
    t0 = time.perf_counter()
    studied = structures()
    tasks = []  # every structure's chunks of draws and its defaults, in one pool (no pool idles between structures)
    for label, select, structure in studied:
        draws = priors.sample(args.draws, seed=args.seed, **prior_kw(structure))
        chunks = [list(c) for c in np.array_split(np.arange(len(draws)), max(1, args.workers)) if len(c)]
        tasks += [(label, select, [draws[i] for i in c], args.runs) for c in chunks]
        tasks.append((label, select, None, args.runs))
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        done = list(pool.map(_task, tasks))
    tables = []
    for label, _, _ in studied:
        flags = pd.DataFrame([f for (lab, _, draws, _), out in zip(tasks, done, strict=True)
                              if lab == label and draws is not None for f in out])  # fmt: skip
        failing = next(out for (lab, _, draws, _), out in zip(tasks, done, strict=True)
                       if lab == label and draws is None)  # fmt: skip
        tables.append(table(flags, args.runs, args.seed, label, failing))
    result = pd.concat(tables, ignore_index=True)
    seconds = time.perf_counter() - t0
    for r in result.itertuples():
        print(f"{r.structure:<18} {r.observation:<36} {r.pass_share:.3f} [{r.low:.3f}, {r.high:.3f}]")
    print(f"{len(tables)} structures x {args.draws} sets x {args.runs} runs of record_2021 in {seconds:.0f} s with "
          f"{args.workers} workers")
    if args.write:
        print(f"wrote {published.write(TABLE, result.assign(seconds=round(seconds), workers=args.workers))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
