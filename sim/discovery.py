"""``python -m sim.discovery <sweep dir>``: PRIM boxes where escalation is likely, from a Latin-hypercube
sweep, with resampling, CART and feature scores beside. The command line; the analysis is sim.analysis.discovery."""

from __future__ import annotations

if __name__ == "__main__":  # first: from here on Ctrl-C and SIGTERM end it with one line, imports included
    from sim.run import signals

    signals.start()

# sim.analysis.discovery's OUTCOME, THRESHOLD and MIN_COVERAGE and sim.analysis.boxes' RESAMPLES (tests/test_startup.py
# checks them), declared here so that --help and bad arguments need none of the analysis's libraries
OUTCOME, THRESHOLD, MIN_COVERAGE, RESAMPLES = "p_escalation", "auto", 0.5, 20


def parser():
    import argparse
    from pathlib import Path

    ap = argparse.ArgumentParser(prog="python -m sim.discovery", description="Scenario discovery: PRIM boxes in "
                                 "the judged parameter space where escalation is likely, from a Latin-hypercube")
    ap.add_argument("sweep_dir", type=Path, help="a Latin-hypercube design sweep (experiment=discovery), or its "
                    "aggregate/ folder")  # fmt: skip
    ap.add_argument("--outcome", default=OUTCOME, help=f"the points table's outcome column ({OUTCOME})")
    how = ap.add_mutually_exclusive_group()
    how.add_argument("--threshold", default=THRESHOLD, help="points with the outcome above this are of interest; "
                     "auto (default): the roundest threshold that puts 10%%-30%% of the points above it")  # fmt: skip
    how.add_argument("--quantile", type=float, default=None, help="the threshold as the outcome's quantile (0.8: "
                     "about the top fifth of the points)")  # fmt: skip
    ap.add_argument("--coverage", type=float, default=MIN_COVERAGE, help=f"least coverage of a box ({MIN_COVERAGE})")
    ap.add_argument("--step", type=int, default=None, help="write the first box at this step of the peeling "
                    "trajectory (see --inspect) as prim_step<N>.json, leaving the default box in place")  # fmt: skip
    ap.add_argument("--inspect", action="store_true", help="list the stored trajectory (step, coverage, density, "
                    "lift, restrictions, stability) and stop; computes nothing")  # fmt: skip
    ap.add_argument("--resamples", type=int, default=RESAMPLES,
                    help=f"half-size resamples for the box's stability ({RESAMPLES}; 0: none)")  # fmt: skip
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from sim.analysis.discovery import run_args

    return run_args(args)


if __name__ == "__main__":
    signals.run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
