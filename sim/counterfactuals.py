"""``python -m sim.counterfactuals``: the counterfactual outputs (no patron, Soleimani, independence, the visit's
calming, the mediators' shares, ...) with Monte Carlo intervals. The command line; the analysis is
sim.analysis.counterfactual_outputs."""

from __future__ import annotations

if __name__ == "__main__":  # first: from here on Ctrl-C and SIGTERM end it with one line, imports included
    from sim.run import signals

    signals.start()


def parser():
    from sim.run.cli import CommandParser, add_study_options

    ap = CommandParser(prog="python -m sim.counterfactuals", description="Counterfactual sizes no one observed, "
                       "reported with Monte Carlo intervals rather than tested.")  # fmt: skip
    ap.add_argument("--replicates", type=int, default=2000, help="paired runs per case (2000)")
    add_study_options(ap, writes="results/tables/counterfactual_outputs.csv")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from sim.analysis.counterfactual_outputs import run_args

    return run_args(args)


if __name__ == "__main__":
    signals.run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
