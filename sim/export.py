"""``python -m sim.export <folder> [--tables points|summary|runs|daily|all] [--to csv|xlsx]``: a run's, sweep's or
study's tables as CSV files or one Excel workbook with a row of units. The command line; the work is sim.run.export."""

from __future__ import annotations

if __name__ == "__main__":  # first: from here on Ctrl-C and SIGTERM end it with one line, imports included
    from sim.run import signals

    signals.start()


def parser():
    import argparse
    from pathlib import Path

    ap = argparse.ArgumentParser(prog="python -m sim.export", description="Tables anyone can open: a run's, sweep's "
                                 "or study's Parquet tables as CSV files or one Excel workbook, each")  # fmt: skip
    ap.add_argument("folder", type=Path, help="a run folder, a sweep folder or an aggregate/ folder")
    ap.add_argument("--to", default="csv", help="csv (one file per table) or xlsx (one workbook); default csv")
    ap.add_argument("--tables", default=None, help="which tables, comma-separated: points, runs, daily (a sweep), "
                    "summary, runs, daily (a run), a study's (sensitivity, prim_boxes, ...) or all; default: the "
                    "points table of a sweep, the summary table of a run")  # fmt: skip
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: <folder>/export)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from sim.run.export import run_args

    return run_args(args)


if __name__ == "__main__":
    signals.run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
