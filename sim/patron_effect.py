"""``python -m sim.patron_effect``: the patron's effect on P(escalation) against the militias' independence, per
structure, under its priors, with parameter uncertainty and Monte Carlo noise apart. The command line; the analysis
is sim.analysis.patron_effect."""

from __future__ import annotations

if __name__ == "__main__":  # first: from here on Ctrl-C and SIGTERM end it with one line, imports included
    from sim.run import signals

    signals.start()


def parser():
    from sim.run.cli import CommandParser, add_study_options

    ap = CommandParser(prog="python -m sim.patron_effect", description="The patron's effect on P(escalation) "
                       "against the militias' independence, per structure.")  # fmt: skip
    ap.add_argument("--sets", type=int, default=100, help="parameter sets drawn from each structure's priors (100)")
    ap.add_argument("--runs", type=int, default=30, help="paired runs per set, level and case (30)")
    add_study_options(ap, writes="results/tables/patron_effect.csv and its figure")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from sim.analysis.patron_effect import run_args

    return run_args(args)


if __name__ == "__main__":
    signals.run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
