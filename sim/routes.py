"""``python -m sim.routes``: which door to a clash carries the risk, each closed in turn with common random
numbers, at the defaults and under the priors. The command line; the analysis is sim.analysis.routes."""

from __future__ import annotations

if __name__ == "__main__":  # first: from here on Ctrl-C and SIGTERM end it with one line, imports included
    from sim.run import signals

    signals.start()


def parser():
    from sim.run.cli import CommandParser

    ap = CommandParser(prog="python -m sim.routes", description="Which route carries the risk of a clash, each "
                       "switched off in turn with common random numbers, at the defaults and under the "
                       "priors.")  # fmt: skip
    ap.add_argument("--scenario", default="seed_timeline", help="a scenario in configs/scenario/ (seed_timeline)")
    ap.add_argument("--replicates", type=int, default=2000, help="runs at the defaults per route (2000)")
    ap.add_argument("--sets", type=int, default=200, help="parameter sets drawn from the priors (200)")
    ap.add_argument("--set-replicates", type=int, default=10, help="runs per parameter set (10)")
    ap.add_argument("--seed", type=int, default=20211107)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from sim.analysis.routes import run_args

    return run_args(args)


if __name__ == "__main__":
    signals.run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
