"""``python -m sim.long_run``: the article's timeline a year past its end with no new events; does the clash risk
settle or grow, and which door drives the drift. The command line; the analysis is sim.analysis.long_run."""

from __future__ import annotations

if __name__ == "__main__":  # first: from here on Ctrl-C and SIGTERM end it with one line, imports included
    from sim.run import signals

    signals.start()


def parser():
    from sim.run.cli import CommandParser, add_study_options

    ap = CommandParser(prog="python -m sim.long_run", description="The seed timeline a year past its end with no "
                       "new events, each door closed in turn.")  # fmt: skip
    ap.add_argument("--replicates", type=int, default=1000, help="runs at the defaults per case (1000)")
    ap.add_argument("--sets", type=int, default=50, help="parameter sets from the priors (50)")
    ap.add_argument("--set-replicates", type=int, default=10, help="runs per set (10)")
    ap.add_argument("--days", type=int, default=365, help="days past the timeline's end (365)")
    add_study_options(ap, writes="results/tables/long_run.csv")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from sim.analysis.long_run import run_args

    return run_args(args)


if __name__ == "__main__":
    signals.run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
