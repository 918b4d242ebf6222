"""A run under parameter uncertainty split into jobs (``-m params_from=... set_blocks=N 'set_block=range(N)'``):
each job runs one block of the sets into <sweep dir>/sets/; the blocks together make the one-process run's tables."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from sim.model.scenario import Scenario
from sim.run import uncertainty
from sim.run.designs import block_rows
from sim.run.storage import atomic_write_parquet, atomic_write_text
from sim.run.verify import digest

FOLDER = "sets"


def block_path(root: Path, block: int) -> Path:
    return Path(root) / FOLDER / f"block_{block:04d}.parquet"


def run_block(cfg: Any, scenario: Scenario, root: Path, quiet: bool = False) -> dict[str, Any]:
    """Run parameter sets block ``cfg.set_block`` of ``cfg.set_blocks`` and store its runs (global set numbers)."""
    sets = uncertainty.uncertainty_sets(cfg)
    blocks, block = int(cfg.set_blocks), int(cfg.set_block)
    rows = block_rows(len(sets.params), blocks, block)
    sl = slice(rows.start, rows.stop)
    part = uncertainty.ParameterSets(sets.params[sl], sets.militias[sl], sets.weights[sl],
                                     sets.values.iloc[sl].reset_index(drop=True), sets.source)  # fmt: skip
    t0 = time.perf_counter()
    runs = uncertainty.run_sets(scenario, part, int(cfg.seed), int(cfg.replicates),
                                memory_budget_mb=float(cfg.memory_budget_mb), workers=cfg.workers,
                                progress=cfg.progress, engine=str(cfg.engine))  # fmt: skip
    runs["set"] += rows.start  # the sets' numbers in the whole run: common random numbers need no other change
    record = {"set_blocks": blocks, "sets": len(sets.params), "params_from": str(cfg.params_from),
              "replicates": int(cfg.replicates), "seed": int(cfg.seed)}  # fmt: skip
    atomic_write_text(Path(root) / FOLDER / "blocks.json", json.dumps(record, indent=1))
    atomic_write_parquet(runs, block_path(root, block))
    seconds = time.perf_counter() - t0
    if not quiet:  # the form experiments/slurm/task_overhead.py reads
        key = format(digest({**record, "block": block}, bits=64), "016x")
        print(f"job {key}: parameter sets {rows.start}-{rows.stop - 1} of {len(sets.params)} x {cfg.replicates} "
              f"replicates, {seconds:.1f} s -> {block_path(root, block)}")  # fmt: skip
    return {"set_block": block, "sets": len(rows), "seconds": seconds}


def missing(root: Path) -> list[int] | None:
    """The blocks not stored yet; None if ``root`` holds no blocks of sets."""
    try:
        record = json.loads((Path(root) / FOLDER / "blocks.json").read_text())
    except (OSError, ValueError):
        return None
    return [b for b in range(int(record["set_blocks"])) if not block_path(root, b).is_file()]
