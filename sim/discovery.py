"""``python -m sim.discovery <sweep dir>``: PRIM boxes where escalation is likely, from a Latin-hypercube
sweep, with resampling, CART and feature scores beside. The command line; the analysis is sim.analysis.discovery."""

from __future__ import annotations

if __name__ == "__main__":  # first: from here on Ctrl-C and SIGTERM end it with one line, imports included
    from sim.run import signals

    signals.start()

# sim.analysis.discovery's THRESHOLD and MIN_COVERAGE and sim.analysis.boxes' RESAMPLES (tests/test_startup.py
# checks them), declared here so that --help and bad arguments need none of the analysis's libraries
THRESHOLD, MIN_COVERAGE, RESAMPLES = 0.2, 0.5, 20


def parser():
    import argparse
    from pathlib import Path

    ap = argparse.ArgumentParser(prog="python -m sim.discovery", description="Scenario discovery: PRIM boxes in "
                                 "the judged parameter space where escalation is likely, from a Latin-hypercube")
    ap.add_argument("sweep_dir", type=Path, help="a Latin-hypercube design sweep (experiment=discovery)")
    ap.add_argument("--threshold", type=float, default=THRESHOLD, help=f"escalation share of interest ({THRESHOLD})")
    ap.add_argument("--coverage", type=float, default=MIN_COVERAGE, help=f"least coverage of a box ({MIN_COVERAGE})")
    ap.add_argument("--step", type=int, default=None, help="choose the first box by its index on the peeling "
                    "trajectory (prim_trajectory.parquet, column step) instead of by the coverage rule")  # fmt: skip
    ap.add_argument("--resamples", type=int, default=RESAMPLES,
                    help=f"half-size resamples for the box's stability ({RESAMPLES}; 0: none)")  # fmt: skip
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from sim.analysis.discovery import run_args

    return run_args(args)


if __name__ == "__main__":
    signals.run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
