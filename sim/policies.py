"""``python -m sim.policies <sweep dir>``: named policies judged across scenarios (experiment=policies): robustness,
regret and where each policy fails. The command line; the analysis is sim.analysis.robustness."""

from __future__ import annotations

if __name__ == "__main__":  # first: from here on Ctrl-C and SIGTERM end it with one line, imports included
    from sim.run import signals

    signals.start()

# sim.run.policies.OUTCOMES (tests/test_startup.py checks them), declared here so that --help needs no pandas
OUTCOMES = ("p_escalation", "p_sustained", "mean_attacks_us")


def parser():
    from pathlib import Path

    from sim.run.cli import CommandParser

    ap = CommandParser(prog="python -m sim.policies", description="Named policies judged across scenarios: "
                       "robustness, regret, and scenario discovery on each policy's failures.")  # fmt: skip
    ap.add_argument("sweep_dir", type=Path, help="a policy study's sweep folder (experiment=policies), or its "
                    "aggregate/ folder")  # fmt: skip
    ap.add_argument("--target", action="append", metavar="OUTCOME=VALUE", help="the most an outcome may reach "
                    f"(repeatable; outcomes: {', '.join(OUTCOMES)}); default: the study's policies.targets")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from sim.analysis.robustness import run_args

    return run_args(args)


if __name__ == "__main__":
    signals.run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
