"""Per-task overhead of a finished SLURM sweep: each array task's wall time (sacct) beside the time its
job spent on its points (its log's "job <key>: ... s" line); the difference is start-up, imports and Hydra.
Also for the calibration's bank blocks (<out>/bank/jobs) and parameter-set blocks, which log the same line.

    python experiments/slurm/task_overhead.py results/sweeps/patron_vs_independence
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
from datetime import datetime
from pathlib import Path


def task_times(sweep: Path) -> list[dict]:
    """One row per array task: SLURM's start and end, and the job's own compute seconds."""
    rows = []
    for log in sorted(sweep.glob(".submitit/*_*/*_0_log.out")):
        task = log.parent.name
        done = re.findall(r"^job [0-9a-f]{16}: .*, ([0-9.]+) s -> ", log.read_text(), flags=re.M)
        if not done:  # the task did not finish its job
            continue
        out = subprocess.run(["sacct", "-n", "-X", "-P", "-j", task, "-o", "Start,End"], capture_output=True,
                             text=True, check=True).stdout.split()  # fmt: skip
        start, end = (datetime.fromisoformat(t).timestamp() for t in out[0].split("|"))
        rows.append({"task": task, "start": start, "end": end, "wall": end - start,
                     "compute": float(done[-1])})  # fmt: skip
    return rows


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    rows = task_times(Path(argv[0]))
    if not rows:
        print(f"error: no finished SLURM tasks under {argv[0]}/.submitit", file=sys.stderr)
        return 1
    for r in rows:
        print(f"{r['task']:>10}  wall {r['wall']:5.0f} s  compute {r['compute']:6.2f} s")
    med = {k: statistics.median(r[k] for r in rows) for k in ("wall", "compute")}
    over = statistics.mean(r["wall"] - r["compute"] for r in rows)
    span = max(r["end"] for r in rows) - min(r["start"] for r in rows)
    print(f"{len(rows)} tasks: median wall {med['wall']:.0f} s, median compute {med['compute']:.2f} s, "
          f"mean overhead (wall - compute) {over:.1f} s; first start to last end {span:.0f} s "
          "(sacct times are whole seconds)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
