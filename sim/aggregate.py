"""``python -m sim.aggregate <sweep dir>``: stack a sweep's finished points into aggregate/*.parquet.
Works on partial sweeps: it lists unfinished jobs and missing points, refuses corrupt points (one line each)
and exits 1 if there are any; a folder that is not a sweep is one line and exit status 2."""

from __future__ import annotations

if __name__ == "__main__":  # first: from here on Ctrl-C and SIGTERM end it with one line, imports included
    from sim.run import signals

    signals.start()

import sys
from pathlib import Path


def parser():
    import argparse

    ap = argparse.ArgumentParser(prog="python -m sim.aggregate", description=__doc__)
    ap.add_argument("sweep_dir", type=Path, help="a sweep folder (hydra.sweep.dir), e.g. results/sweeps/<study>, or "
                    "its aggregate/ folder")  # fmt: skip
    ap.add_argument("--allow-mixed-versions", action="store_true",
                    help="aggregate points that different library versions computed (refused otherwise)")
    return ap


def main(argv: list[str] | None = None) -> int:
    from sim.run.folders import sweep_root

    args = parser().parse_args(argv)
    folder: Path = sweep_root(args.sweep_dir)
    if not folder.exists():
        return _error(f"{folder} does not exist", 2)
    from sim.run import set_blocks

    gaps = set_blocks.missing(folder)
    if gaps is not None:  # the blocks of a run under uncertainty (set_blocks=N)
        if gaps:
            listed = ", ".join(map(str, gaps[:10]))
            return _error(f"{folder}: {len(gaps)} block(s) of parameter sets missing ({listed}): run the same "
                          "command again to run only those", 1)  # fmt: skip
        from sim.commands.sweep_end import combine_set_blocks

        combine_set_blocks(folder)
        return 0
    if not (folder / "points").is_dir():
        return _error(f"{folder} has no points/ folder: not a sweep folder", 2)
    from sim.run.sweep import aggregate, describe, problems

    try:
        report = aggregate(folder, keep_rows=False, allow_mixed=args.allow_mixed_versions)
    except (OSError, ValueError, KeyError) as exc:  # e.g. a disk error while writing the tables
        return _error(f"{folder}: aggregation failed: {type(exc).__name__}: {' '.join(str(exc).split())}", 1)
    for line in problems(report):
        print(line if line.startswith("warning: ") else f"error: {line}", file=sys.stderr)
    if report.get("mixed_versions") and not report["n_points"]:
        return 1
    if report["n_points"] == 0 and not report["corrupt_points"]:
        return _error(f"{folder} holds no finished point to aggregate", 1)
    print(describe(report))
    if report["n_points"]:
        from sim.run import points_summary

        print(points_summary.text(folder, report.get("tables", {}).get("points")))
        print(f"tables in {folder / 'aggregate'}")
    bad = report["unfinished_jobs"] or report["missing_points"] or report["corrupt_points"] or report["unreadable_jobs"]
    return 1 if bad else 0


def _error(message: str, status: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    signals.run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
