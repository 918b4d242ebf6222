"""The app's ensemble view, timed: N replicates of one setting (and of a second beside it) as the panel runs
them (sim.teaching.app.run_view: the vector engine on every core, the lines and the figure's PNG); prints the
median and range of the wall time over a few repeats for each N. The target: 1,000 replicates in under 2 s.

    python experiments/bench/ensemble_view.py [--scenario seed_timeline] [--sizes 1000 10000] [--repeats 3]

A script, not a test: speed is measured and reported, never asserted (shared machines are noisy)."""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("MPLBACKEND", "Agg")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="seed_timeline")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--compare", default="no_patron", help="a counterfactual to run beside (or 'nothing')")
    args = ap.parse_args()

    from sim.engines.mesa_model import MilitiaModel
    from sim.teaching import ensemble
    from sim.teaching.app import run_view

    base = ensemble.Setting.of_model(MilitiaModel(scenario=args.scenario, seed=ensemble.SEED), "sidebar")
    settings = [base] if args.compare == "nothing" else [base, ensemble.with_counterfactual(base, args.compare)]
    print(f"{args.scenario}, {len(settings)} setting(s), {len(os.sched_getaffinity(0))} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    for n in args.sizes:
        for label, chosen in (("one setting", settings[:1]), ("two settings", settings)):
            if label == "two settings" and len(settings) == 1:
                continue
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                run_view(chosen, n, lambda d, t: None, cancelled=lambda: False)
                times.append(time.perf_counter() - start)
            print(f"{n:>6} replicates, {label}: median {statistics.median(times):.2f} s "
                  f"(min {min(times):.2f}, max {max(times):.2f}, {args.repeats} runs, figure included)")  # fmt: skip


if __name__ == "__main__":
    main()
