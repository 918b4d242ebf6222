"""``python -m sim.sensitivity <sweep dir>``: Morris or Sobol indices of a design sweep (SALib), PAWN for a
Latin hypercube. The command line; the analysis is sim.analysis.sensitivity."""

from __future__ import annotations

if __name__ == "__main__":  # first: from here on Ctrl-C and SIGTERM end it with one line, imports included
    from sim.run import signals

    signals.start()


def parser():
    import argparse
    from pathlib import Path

    ap = argparse.ArgumentParser(prog="python -m sim.sensitivity", description="Global sensitivity of a design "
                                 "sweep with SALib's analysers (Morris screening, Sobol indices, and PAWN's")
    ap.add_argument("sweep_dir", type=Path, help="a design sweep folder (experiment=morris, sobol or discovery), "
                    "or its aggregate/ folder")
    ap.add_argument("--top", type=int, default=10, help="factors to list per outcome (default 10)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from sim.analysis.sensitivity import run_args

    return run_args(args)


if __name__ == "__main__":
    signals.run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
