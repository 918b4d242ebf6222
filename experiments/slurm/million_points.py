"""A 1,000,000-point design at 10 runs a point on the local SLURM cluster (experiments/slurm/local_cluster.sh): a
Latin hypercube over the Sobol study's ten values, 100 array tasks of 10,000 points, no daily series
(sweep_daily=none: the points and runs tables are what such a screening reads). Reports the wall time, the files the
sweep left (per job and in all), each task's peak memory (sacct MaxRSS), and the submitting and aggregating
processes' (submitted detached, followed with sim.status, aggregated with sim.aggregate).

    python experiments/slurm/million_points.py                          # into results/sweeps/million
    python experiments/slurm/million_points.py --points 20000 --jobs 4  # a small try first
    python experiments/slurm/million_points.py --report-only            # the report of a finished run

A script, not a test (tests/test_slurm.py runs a small version): it takes an hour or more on two CPUs."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FACTORS = ("stance_threshold", "mobilisation_threshold", "election_shock", "militia_independence", "attack_rate_state",
           "clash_kappa", "grievance_half_life", "attack_sadr_grievance", "patron_influence", "mobilisation_tau")


def command(points: int, jobs: int, folder: Path) -> list[str]:
    return [sys.executable, "-m", "sim", "-m", "study=million", "scenario=seed_timeline", "engine=compiled",
            "replicates=10", "figure=false", "sweep_daily=none", "+design.method=lhs", f"+design.size={points}",
            "+design.seed=20211107", f"+design.factors=[{','.join(FACTORS)}]", f"+design.blocks={jobs}",
            f"+design.block=range(0,{jobs})", "launcher=submitit_slurm", "hydra.launcher.partition=local",
            "hydra.launcher.account=null", "hydra.launcher.qos=null", "hydra.launcher.timeout_min=600",
            "hydra.launcher.mem_gb=2", "hydra.launcher.detach=true", f"hydra.sweep.dir={folder}",
            # the tasks at nice 10 (slurmd starts them at its own priority, so the submitter's nice is not enough)
            f"hydra.launcher.python='nice -n 10 {sys.executable}'"]  # fmt: skip


def _bytes(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)([KMGT]?)", text.strip())
    if not m:
        return 0.0
    return float(m[1]) * {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[m[2]]


def report(folder: Path, wall: float | None, rusage: str) -> str:
    files = [p for p in folder.rglob("*") if p.is_file()]
    logs = [p for p in files if ".submitit" in p.parts]
    hydra = [p for p in files if p.parent.name == ".hydra" or p.name.endswith(".log")]
    blocks, manifests = list(folder.glob("blocks/*.parquet")), list(folder.glob("jobs/*.json"))
    store = [p for p in files if p not in logs and p not in hydra]
    doc = json.loads((folder / "manifest.json").read_text())
    arrays = sorted({a for s in doc["submissions"] for a in s["arrays"]})
    out = subprocess.run(["sacct", "-n", "-P", "-j", ",".join(arrays), "-o", "JobID,MaxRSS,Elapsed,State"],
                         capture_output=True, text=True).stdout  # fmt: skip
    rss = [_bytes(line.split("|")[1]) for line in out.splitlines() if line.split("|")[1:2] != [""]]
    points = json.loads((folder / "aggregate" / "report.json").read_text())["n_points"]
    size = sum(p.stat().st_size for p in blocks)
    lines = [
        f"- {points:,} points x 10 runs in {len(blocks)} jobs (array tasks {', '.join(arrays)})",
        f"- wall time, submission to aggregated tables: {wall / 60:.1f} min" if wall else "- wall time: see the log",
        f"- files of the store: {len(blocks)} blocks + {len(manifests)} manifests ({size / 1e9:.2f} GB of blocks, "
        f"{size / max(points, 1):.0f} bytes a point) and {len(store) - len(blocks) - len(manifests)} others "
        f"(sweep.json, manifest.json, design.json, multirun.yaml, the aggregate tables); Hydra's per-job folders "
        f"{len(hydra)} files, submitit's logs {len(logs)}",
        f"- peak memory of a task (sacct MaxRSS): {max(rss) / 2**20:,.0f} MiB" if rss else "- task memory: no sacct",
        f"- the submitting process (plan, waiting, aggregation): {rusage}",
        f"- load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
    ]  # fmt: skip
    return "\n".join(lines)


def _timed(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=ROOT, capture_output=True, text=True)


def _rusage(stderr: str) -> str:
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", stderr)
    user = re.search(r"User time \(seconds\): ([\d.]+)", stderr)
    if not (peak and wall and user):
        return "not measured"
    return f"{wall[1]} wall, {float(user[1]) / 60:.1f} CPU-min, peak {int(peak[1]) / 1024:,.0f} MiB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--jobs", type=int, default=100)
    ap.add_argument("--folder", type=Path, default=ROOT / "results" / "sweeps" / "million")
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args()
    wall, rusage = None, "not measured (--report-only)"
    if not args.report_only:
        args.folder.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.time()
        load0 = os.getloadavg()[0]
        # submitted detached (the way such a sweep is run: submit, walk away, come back), then followed with
        # sim.status and aggregated with sim.aggregate (which, unlike the end of an attached sweep, runs no PRIM
        # or PAWN on a million points)
        steps, log = [], []
        res = _timed([*command(args.points, args.jobs, args.folder)])
        steps.append(("submit (plan of every job's points)", res))
        log.append(res.stdout + res.stderr)
        while res.returncode == 0:
            time.sleep(30)
            status = subprocess.run([sys.executable, "-m", "sim.status", str(args.folder)], cwd=ROOT,
                                    capture_output=True, text=True)  # fmt: skip
            if status.returncode != 3:  # 3: still running
                log.append(status.stdout + status.stderr)
                break
        res = _timed([sys.executable, "-m", "sim.aggregate", str(args.folder)])
        steps.append(("aggregate", res))
        log.append(res.stdout + res.stderr)
        wall = time.time() - t0
        (args.folder / "million_points.log").write_text("\n".join(log))
        if res.returncode != 0:
            print(res.stderr[-3000:], file=sys.stderr)
            return res.returncode
        rusage = "; ".join(f"{what}: {_rusage(r.stderr)}" for what, r in steps)
        rusage += f"; load average {load0:.1f} at the start"
    text = report(args.folder, wall, rusage)
    print(text)
    (args.folder / "million_points.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
