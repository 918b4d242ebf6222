"""Why calibration batches parameter sets: seconds per parameter set (R runs of the seed timeline each)
when thousands of sets run as one vectorised batch, against one model call per set (what a per-particle
ABC library such as pyabc makes), and, if pyabc is installed, pyabc's ABC-SMC itself.

    python experiments/bench/abc_speed.py                  # prints the table
    python experiments/bench/abc_speed.py --write          # and replaces its section of docs/PERFORMANCE.md

A script, not a test: every figure is measured in the same run on the same machine."""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis import calibration as cal
from sim.engines.vector import run_batch
from sim.model import priors
from sim.model.scenario import load_scenario
from sim.run import uncertainty

ROOT = Path(__file__).resolve().parents[2]
BEGIN, END = "<!-- BEGIN abc_speed -->", "<!-- END abc_speed -->"


def batched(n: int, r: int) -> float:
    sets = uncertainty.sets_from_table(pd.DataFrame(priors.sample(n, 1)), {}, {}, "prior")
    t = time.perf_counter()
    cal.simulate_sets(load_scenario(cal.SCENARIO), sets, 7, r, cal.load_targets(), progress=False)
    return (time.perf_counter() - t) / n


def per_call(n: int, r: int) -> float:
    """One model call per parameter set, as a per-particle sampler makes them (on one core)."""
    sets = uncertainty.sets_from_table(pd.DataFrame(priors.sample(n, 2)), {}, {}, "prior")
    sc, targets = load_scenario(cal.SCENARIO), cal.load_targets()
    t = time.perf_counter()
    for k in range(n):
        res = run_batch(sc, [sets.params[k]], [sets.militias[k]], 7, np.arange(r), daily_columns=cal.DAILY)
        cal.statistics(res.runs, res.daily, sc, targets)
    return (time.perf_counter() - t) / n


def pyabc_smc(population: int, r: int, generations: int) -> float | None:
    """Seconds per particle evaluated by pyabc's ABC-SMC (single core) with the same model, if installed."""
    try:
        import pyabc
    except ImportError:
        return None
    import logging
    import tempfile

    logging.getLogger("ABC").setLevel(logging.WARNING)
    names = ["boycott_commitment", "return_threshold", "attack_rate_state", "patron_attention_cost"]
    table = priors.priors()
    prior = pyabc.Distribution(**{n: pyabc.RV("uniform", table[n].low, table[n].high - table[n].low) for n in names})
    sc, targets = load_scenario(cal.SCENARIO), cal.load_targets()
    calls = []

    def model(par):
        sets = uncertainty.sets_from_table(pd.DataFrame([{n: float(par[n]) for n in names}]), {}, {}, "pyabc")
        res = run_batch(sc, sets.params, sets.militias, 7, np.arange(r), daily_columns=cal.DAILY)
        calls.append(1)
        return {"miss": 1.0 - float(cal.statistics(res.runs, res.daily, sc, targets)["met_all"].mean())}

    abc = pyabc.ABCSMC(model, prior, lambda x, y: abs(x["miss"] - y["miss"]), population_size=population,
                       sampler=pyabc.sampler.SingleCoreSampler())  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        abc.new(f"sqlite:///{tmp}/abc.db", {"miss": 0.0})
        t = time.perf_counter()
        abc.run(max_nr_populations=generations)
        return (time.perf_counter() - t) / max(len(calls), 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", type=int, default=2000, help="parameter sets in the batched run")
    ap.add_argument("--calls", type=int, default=100, help="parameter sets run one call each")
    ap.add_argument("--replicates", type=int, default=5)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    b = batched(args.sets, args.replicates)
    c = per_call(args.calls, args.replicates)
    p = pyabc_smc(50, args.replicates, 2)
    rows = [("vectorised batch (sim.calibrate)", f"{args.sets} sets at once", b, 1.0),
            ("one call per set (a per-particle sampler)", f"{args.calls} calls", c, c / b)]  # fmt: skip
    if p is not None:
        rows.append(("pyabc 0.13 ABC-SMC, single core", "2 generations of 50", p, p / b))
    lines = ["| how parameter sets are evaluated | work | seconds per set | relative cost |", "|---|---|--:|--:|"]
    lines += [f"| {a} | {w} | {s:.3f} | {r:.1f}x |" for a, w, s, r in rows]
    lines += ["", f"Each set: {args.replicates} runs of the seed timeline with the calibration's statistics. "
              f"Command: `python experiments/bench/abc_speed.py --sets {args.sets} --calls {args.calls}`."
              + (" pyabc (not a project dependency) was installed beside the project for this run: "
                 "`pip install pyabc==0.13.0`." if p is not None else " pyabc was not installed for this run.")
              + f" At these rates the calibration's 20,000 draws take about {20000 * b / 60:.0f} min batched and "
              f"{20000 * c / 60:.0f} min one call at a time: batching is why `sim.calibrate` does its own vectorised "
              "rejection step instead of using pyabc's ABC-SMC, whose tolerance schedule an exact match on discrete "
              "targets would not use anyway."]  # fmt: skip
    text = "\n".join(lines)
    print(text)
    if args.write:
        path = ROOT / "docs" / "PERFORMANCE.md"
        doc = path.read_text()
        block = f"{BEGIN}\n{text}\n{END}"
        doc = (
            re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, doc, flags=re.S)
            if BEGIN in doc
            else doc.rstrip() + "\n\n## Calibration: batched against per-particle evaluation\n\n" + block + "\n"
        )
        path.write_text(doc)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
