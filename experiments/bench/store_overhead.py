"""What the sweep store costs per point beside the engine: one job's points (a Sobol block of the all-values study
by default: 720 points x 200 replicates of seed_timeline, compiled engine) run bare (the engine only) and as a
sweep job (stored in its block), then aggregated; CPU time per point of each, in one run on one machine.

    python experiments/bench/store_overhead.py                      # 720 points x 200 replicates, compiled
    python experiments/bench/store_overhead.py --points 200 --engine vector
    python experiments/bench/store_overhead.py --write              # and replaces its section of docs/PERFORMANCE.md

Store CPU is the thread time of the thread that stores (building each point's row, its hashes, the journal, the
block and the manifest); aggregation CPU is the process time of sim.run.sweep.aggregate (reading and checking
the block, writing aggregate/runs, daily and points), after the libraries it loads once per command (pyarrow's
Parquet, pandas), whose import is printed apart: a fixed cost, not a cost per point. A script, not a test: the
machine is shared."""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
BEGIN, END = "<!-- BEGIN store_overhead -->", "<!-- END store_overhead -->"


def design_points(n: int, replicates: int):
    """The first ``n`` points of the all-values Sobol design (configs/experiment/sobol_all.yaml), as its first job
    has them."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from sim.paths import CONFIG_DIR
    from sim.run.config_schema import register
    from sim.run.sweep import sweep_points
    from sim.run.validate import resolve_inputs

    register()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("config", overrides=["experiment=sobol_all", f"replicates={replicates}"])
    cfg = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    _, militias, scenario = resolve_inputs(cfg)
    return sweep_points(cfg, scenario, militias)[:n]


def bare(points, engine: str, workers: int, budget: float) -> tuple[float, float]:
    """(wall, CPU) seconds of the engine alone on the same blocks of rows as the sweep job runs."""
    from sim.run import sweep
    from sim.run.simulate import batch_runner, chunk_size_for, thread_pool

    group = list({p.key: p for p in points}.values())
    run_batch = batch_runner(engine)
    threads = {"threads": workers} if engine == "compiled" else {}
    rows = chunk_size_for(group[0].params, len(group[0].militias), budget / workers)

    def one(block):
        params, militias, seeds, reps = [], [], [], []
        for i, lo, hi in block:
            params += [group[i].params] * (hi - lo)
            militias += [group[i].militias] * (hi - lo)
            seeds.append(np.full(hi - lo, group[i].seed, dtype=np.uint64))
            reps.append(np.arange(lo, hi))
        return run_batch(group[0].scenario, params, militias, np.concatenate(seeds), np.concatenate(reps),
                         keep_daily=True, daily_columns=sweep.DAILY_VARS, **threads)  # fmt: skip

    blocks = sweep._blocks(group, rows)
    w, c = time.perf_counter(), time.process_time()
    with thread_pool(workers) as ex:
        for _ in ex.map(one, blocks):
            pass
    return time.perf_counter() - w, time.process_time() - c


def stored(points, root: Path, engine: str, workers: int, budget: float) -> tuple[float, float, float]:
    """(wall, process CPU, store thread CPU) seconds of the sweep job: the same runs, each point stored."""
    from sim.run import store
    from sim.run.sweep import run_points

    spent = [0.0]
    real_add, real_finish = store.Job.add, store.Job.finish

    def add(self, finished):
        t = time.thread_time()
        try:
            return real_add(self, finished)
        finally:
            spent[0] += time.thread_time() - t

    def finish(self):
        t = time.thread_time()
        try:
            return real_finish(self)
        finally:
            spent[0] += time.thread_time() - t

    store.Job.add, store.Job.finish = add, finish
    try:
        w, c = time.perf_counter(), time.process_time()
        run_points(points, root, memory_budget_mb=budget, progress=False, workers=workers, engine=engine)
        return time.perf_counter() - w, time.process_time() - c, spent[0]
    finally:
        store.Job.add, store.Job.finish = real_add, real_finish


def aggregation_imports() -> float:
    """CPU seconds that a fresh process spends importing what the aggregation loads on its first call (once per
    command, whatever the number of points); then loaded here too, so that the per-point figure below is what
    each further point costs."""
    import subprocess

    code = ("import time; c = time.process_time(); import pandas, pyarrow.parquet, sim.run.summary, sim.run.sweep; "
            "print(time.process_time() - c)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    import sim.run.summary
    import sim.run.sweep  # noqa: F401

    return float(out.stdout.strip())


def aggregated(root: Path) -> tuple[float, float]:
    from sim.run.sweep import aggregate

    w, c = time.perf_counter(), time.process_time()
    report = aggregate(root, keep_rows=False)
    assert report["n_points"] and not report["corrupt_points"], report
    return time.perf_counter() - w, time.process_time() - c


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=720)
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--engine", default="compiled", choices=("compiled", "vector"))
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--write", action="store_true", help="replace the store_overhead section of docs/PERFORMANCE.md")
    args = ap.parse_args()
    budget = 2048.0
    load0 = os.getloadavg()[0]
    points = design_points(args.points, args.replicates)
    n = len({p.key for p in points})
    if args.engine == "compiled":  # compile (or load the cache) outside the measurement
        bare(points[:2], args.engine, args.workers, budget)
    eng_wall, eng_cpu = bare(points, args.engine, args.workers, budget)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "sweep"
        job_wall, job_cpu, store_cpu = stored(points, root, args.engine, args.workers, budget)
        imports_cpu = aggregation_imports()
        agg_wall, agg_cpu = aggregated(root)
        block = sum(p.stat().st_size for p in (root / "blocks").glob("*.parquet"))
        files = sum(1 for p in root.rglob("*") if p.is_file())
    per = 1000 / n
    lines = [
        f"- measured: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs, {args.workers} "
        f"threads; load average {load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end",
        f"- command: `python experiments/bench/store_overhead.py --points {args.points} --replicates "
        f"{args.replicates} --engine {args.engine}`: {n} points of the all-values Sobol design x {args.replicates} "
        f"replicates of seed_timeline",
        "",
        "| per point | CPU | wall |",
        "|---|--:|--:|",
        f"| the bare engine (same runs, nothing stored) | {eng_cpu * per:.1f} ms | {eng_wall * per:.1f} ms |",
        f"| storing (its row, hashes, journal, block, manifest) | **{store_cpu * per:.2f} ms** | |",
        f"| the sweep job as a whole | {job_cpu * per:.1f} ms | {job_wall * per:.1f} ms |",
        f"| aggregating (read, check, write runs, daily, points) | **{agg_cpu * per:.2f} ms** "
        f"| {agg_wall * per:.2f} ms |",
        f"| (once a command: the aggregation's imports, {imports_cpu:.2f} s CPU) | ({imports_cpu * per:.2f} ms at "
        f"{n} points) | |",
        f"| store + aggregate | **{(store_cpu + agg_cpu) * per:.2f} ms** ({100 * (store_cpu + agg_cpu) / eng_cpu:.1f}% "
        "of the engine's CPU) | |",
        "",
        f"- the job's folder: {files} files (block, manifest, sweep.json and the aggregate tables); its block "
        f"{block / 1e6:.1f} MB ({block / n / 1e3:.1f} kB a point).",
    ]  # fmt: skip
    text = "\n".join(lines)
    print(text)
    if args.write:
        path = ROOT / "docs" / "PERFORMANCE.md"
        doc = path.read_text()
        section = f"{BEGIN}\n{text}\n{END}"
        doc = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), section, doc, flags=re.S) if BEGIN in doc else \
            doc + f"\n{section}\n"  # fmt: skip
        path.write_text(doc)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
