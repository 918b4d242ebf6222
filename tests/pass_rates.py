"""``python tests/pass_rates.py [--draws 20] [--runs 100] [--seed 25] [--workers 2] [--write]``: the share of
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
from patterns import KNOWN_FAILURES, OBSERVATIONS, TAIL, Runner, run_all

from sim.analysis import published
from sim.analysis.per_structure import prior_kw, structures
from sim.model import priors
from sim.model.params import make_militias
from sim.run.summary import wilson_interval

TABLE = "pattern_pass_rates"
ALL, ALL_BUT_KNOWN = "(all observations)", "(all but the known failures)"


def passes(draws: list[dict], runs: int, select: dict | None = None) -> list[dict[str, bool]]:
    """For each draw (a {name: value} from priors.sample), whether it passes each observation (at the structure
    ``select`` picks)."""
    out = []
    for draw in draws:
        p, m = priors.split_factors(draw)
        r = Runner(militias=make_militias(m), params={**p, **(select or {})}, n=runs)
        out.append({name: o.passed for name, o in run_all(r).items()})
    return out


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
    ap.add_argument("--draws", type=int, default=20, help="parameter sets from the priors (20)")
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
    tables = []
    for label, select, structure in structures():
        draws = priors.sample(args.draws, seed=args.seed, **prior_kw(structure))
        chunks = [list(c) for c in np.array_split(np.arange(len(draws)), max(1, args.workers * 4)) if len(c)]
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            parts = list(pool.map(passes, [[draws[i] for i in c] for c in chunks], [args.runs] * len(chunks),
                                  [select] * len(chunks)))  # fmt: skip
        flags = pd.DataFrame([f for part in parts for f in part])
        failing = [n for n, o in run_all(Runner(params=select)).items() if not o.passed]  # at its defaults
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
