"""``python -m sim.plot <aggregate dir>``: figures of an aggregated sweep, a study's analysis or a run under
parameter uncertainty (PNG and PDF). The command line; the figures are drawn by sim.analysis.sweep_figures."""

from __future__ import annotations

if __name__ == "__main__":  # first: from here on Ctrl-C and SIGTERM end it with one line, imports included
    from sim.run import signals

    signals.start()

# The choices, declared here so that a wrong one is refused before matplotlib loads (tests/test_startup.py checks
# them against sim.analysis.sweep_figures.KINDS and STUDY_KINDS and sim.analysis.sensitivity.OUTCOMES).
KINDS = ("curve", "heatmap", "fan", "counterfactual")
STUDY_KINDS = ("sobol", "morris", "pawn", "prim", "uncertainty", "policies")
OUTCOMES = ("p_escalation", "p_any_clash", "p_sustained", "mean_clashes", "mean_attacks_state", "mean_attacks_us",
            "mean_interventions", "mean_boycott_days")  # fmt: skip


def parser():
    import argparse
    from pathlib import Path

    ap = argparse.ArgumentParser(prog="python -m sim.plot", description="Figures of a sweep's aggregated tables, "
                                 "a study's analysis, or a run under parameter uncertainty (PNG and PDF).")  # fmt: skip
    ap.add_argument("aggregate_dir", type=Path, help="a sweep folder or its aggregate/ folder (points.parquet, "
                    "and for studies sensitivity.parquet or prim_*.parquet), or a run folder with sets.parquet")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: <sweep>/aggregate/figures)")
    ap.add_argument("--kind", choices=(*KINDS, *STUDY_KINDS, "all"), default="all")
    ap.add_argument("--x", default=None, help="parameter on the x axis (curve, heatmap)")
    ap.add_argument("--y", default=None, help="parameter on the y axis (heatmap)")
    ap.add_argument("--outcome", choices=OUTCOMES, default="p_escalation", help="outcome (sobol, morris, pawn)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from sim.analysis.sweep_figures import run_args

    return run_args(args)


if __name__ == "__main__":
    signals.run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
