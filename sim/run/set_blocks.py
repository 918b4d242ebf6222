"""A run under parameter uncertainty split into jobs (``-m params_from=... set_blocks=N 'set_block=range(N)'``):
each job runs one block of the sets into <sweep dir>/sets/; the blocks together make the one-process run's tables.
Each block is self-describing: beside block_NNNN.parquet, block_NNNN.json records its SHA-256, rows, the hash of
the run's configuration (sets/blocks.json holds the run's) and the library versions, and is checked before use."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from sim.model.scenario import Scenario
from sim.run import provenance
from sim.run.storage import atomic_write_bytes, atomic_write_text, code_version, parquet_bytes
from sim.run.verify import digest

FOLDER = "sets"


class SetBlocksError(ValueError):
    """The blocks in a folder cannot be used as they are (one line: what, and how to go on)."""


def block_path(root: Path, block: int) -> Path:
    return Path(root) / FOLDER / f"block_{block:04d}.parquet"


def manifest_path(root: Path, block: int) -> Path:
    return Path(root) / FOLDER / f"block_{block:04d}.json"


def run_config(cfg: Any, scenario: Scenario) -> str:
    """A hash of what the run's results depend on (not which block a job runs): two runs with the same hash give
    the same blocks, and a block from any other run is refused."""
    from omegaconf import OmegaConf

    source = str(cfg.params_from)
    data = Path(source)
    what = {
        "params_from": source, "source_sha256": hashlib.sha256(data.read_bytes()).hexdigest() if data.is_file()
        else None, "draws": int(cfg.draws), "seed": int(cfg.seed), "replicates": int(cfg.replicates),
        "set_blocks": int(cfg.set_blocks), "drop_events": sorted(cfg.drop_events),
        "params": OmegaConf.to_container(cfg.params, resolve=True),
        "militias": OmegaConf.to_container(cfg.militias, resolve=True),
        "scenario": [scenario.name, str(scenario.start), str(scenario.end),
                     [(e.day, e.kind, sorted((k, str(v)) for k, v in e.data.items())) for e in scenario.events]],
    }  # fmt: skip
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _record(root: Path, record: dict[str, Any]) -> None:
    """Write sets/blocks.json, or refuse (one line naming both) a folder that holds another run's blocks."""
    path = Path(root) / FOLDER / "blocks.json"
    try:
        old = json.loads(path.read_text())
    except FileNotFoundError:
        old = None
    except (OSError, ValueError):
        raise SetBlocksError(f"{path} is not readable JSON: the blocks there cannot be vouched for") from None
    if old is not None and old.get("config") != record["config"]:
        raise SetBlocksError(f"{path.parent} holds the blocks of another run (params_from={old.get('params_from')}, "
                             f"{old.get('sets')} sets x {old.get('replicates')} replicates, seed {old.get('seed')}; "
                             f"here params_from={record['params_from']}, {record['sets']} sets x "
                             f"{record['replicates']} replicates, seed {record['seed']}): use a new hydra.sweep.dir")
    if old is None:
        atomic_write_text(path, json.dumps(record, indent=1))


def run_block(cfg: Any, scenario: Scenario, root: Path, quiet: bool = False) -> dict[str, Any]:
    """Run parameter sets block ``cfg.set_block`` of ``cfg.set_blocks`` and store its runs (global set numbers)."""
    from sim.run import uncertainty
    from sim.run.designs import block_rows

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
    record = {"store": 2, "set_blocks": blocks, "sets": len(sets.params), "params_from": str(cfg.params_from),
              "replicates": int(cfg.replicates), "seed": int(cfg.seed), "config": run_config(cfg, scenario)}
    try:
        _record(root, record)
    except SetBlocksError as exc:  # one line through Hydra's job runner, before the next job
        raise SystemExit(f"error: {exc}") from None
    data = parquet_bytes(runs)
    atomic_write_bytes(block_path(root, block), data)
    atomic_write_text(manifest_path(root, block), json.dumps({  # last: the block's record vouches for it
        "store": 2, "block": block, "rows": len(runs), "sets": [rows.start, rows.stop],
        "sha256": hashlib.sha256(data).hexdigest(), "config": record["config"], "code_version": code_version(),
        "environment": provenance.environment(cfg.workers)}, indent=1))  # fmt: skip
    seconds = time.perf_counter() - t0
    if not quiet:  # the form experiments/slurm/task_overhead.py reads
        key = format(digest({**record, "block": block}, bits=64), "016x")
        print(f"job {key}: parameter sets {rows.start}-{rows.stop - 1} of {len(sets.params)} x {cfg.replicates} "
              f"replicates, {seconds:.1f} s -> {block_path(root, block)}")  # fmt: skip
    return {"set_block": block, "sets": len(rows), "seconds": seconds}


@dataclasses.dataclass
class BlocksCheck:
    """The blocks of a run under uncertainty as sim.status and sim.aggregate both see them."""

    record: dict[str, Any]
    done: list[int]
    missing: list[int]
    damaged: dict[int, str]

    @property
    def complete(self) -> bool:
        return not self.missing and not self.damaged


def check_blocks(root: Path) -> BlocksCheck | None:
    """Every block checked against its record (SHA-256, rows, the run's configuration); None if ``root`` holds no
    blocks of sets. Raises SetBlocksError when sets/blocks.json itself cannot be read."""
    path = Path(root) / FOLDER / "blocks.json"
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
        n = int(record["set_blocks"])
    except (OSError, ValueError, KeyError, TypeError):
        raise SetBlocksError(f"{path} is not readable: the blocks there cannot be vouched for") from None
    done, missing, damaged = [], [], {}
    for b in range(n):
        problem = _check(root, b, record)
        if problem is None:
            done.append(b)
        elif problem == "missing":
            missing.append(b)
        else:
            damaged[b] = problem
    return BlocksCheck(record, done, missing, damaged)


def _check(root: Path, b: int, record: dict[str, Any]) -> str | None:
    block, manifest = block_path(root, b), manifest_path(root, b)
    if not block.exists() and not manifest.exists():
        return "missing"
    try:
        info = json.loads(manifest.read_text())
    except FileNotFoundError:
        return f"{block.name} has no record ({manifest.name}): written by an older version, or cut short"
    except (OSError, ValueError):
        return f"{manifest.name} is not readable JSON"
    if info.get("block") != b:
        return f"{manifest.name} is the record of block {info.get('block')}, not of block {b}"
    if info.get("config") != record.get("config"):
        return f"{block.name} belongs to another run (its configuration differs from sets/blocks.json)"
    try:
        data = block.read_bytes()
    except OSError:
        return f"{block.name} is missing or not readable"
    if hashlib.sha256(data).hexdigest() != info.get("sha256"):
        return f"{block.name} differs from its record (truncated, altered or replaced)"
    return None


def missing(root: Path) -> list[int] | None:
    """The blocks not stored (or not verified) yet; None if ``root`` holds no blocks of sets."""
    try:
        check = check_blocks(root)
    except SetBlocksError:
        return None
    return None if check is None else sorted([*check.missing, *check.damaged])
