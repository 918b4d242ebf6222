"""``python -m sim.aggregate <sweep dir>``: stack a sweep's finished points into aggregate/*.parquet.
Works on partial sweeps: it lists unfinished jobs and missing points, and exits 1 if there are any."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.run.sweep import aggregate, describe


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.aggregate", description=__doc__)
    ap.add_argument("sweep_dir", type=Path, help="a sweep folder (hydra.sweep.dir), e.g. results/sweeps/<study>")
    args = ap.parse_args(argv)
    if not (args.sweep_dir / "points").is_dir():
        print(f"error: {args.sweep_dir} has no points/ folder: not a sweep folder", file=sys.stderr)
        return 2
    report = aggregate(args.sweep_dir)
    print(describe(report))
    print(f"tables in {args.sweep_dir / 'aggregate'}")
    return 1 if report["unfinished_jobs"] or report["missing_points"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
