"""Running many replicates with any engine and turning the results into tidy tables.
The vector and compiled engines split the work into memory-bounded chunks; the Mesa engine runs one model per
replicate."""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.engines.vector import run_batch
from sim.model.outcomes import DAILY_COLUMNS
from sim.model.params import PARAMS, Militia, params_in_use, structure_of
from sim.model.scenario import Scenario
from sim.run.progress import progress_bar  # also imported from here by the sweeps and calibration

ENGINES = ("vector", "compiled", "mesa")
BATCH_ENGINES = ("vector", "compiled")  # the engines that run many rows at once (run_batch)
BYTES_PER_CELL_DAY = 8 * 12  # float64 temporaries per cell in one day's step (measured, rounded up)
# Chunks of about 2000 replicates keep a day's cell arrays near the CPU caches: measured on
# seed_timeline, 20,000 replicates on one thread took 12.0 s in chunks of 4096, 12.8 s in 1024,
# 15.2 s in one chunk and 18.8 s in chunks of 256 (python experiments/bench/bench.py for the rest).
CACHE_FRIENDLY_CHUNK = 2048


def batch_runner(engine: str):
    """The run_batch of a batch engine: ``vector`` (numpy) or ``compiled`` (numba; imported only when asked for)."""
    if engine == "compiled":
        from sim.engines import compiled

        return compiled.run_batch
    if engine == "vector":
        return run_batch
    raise ValueError(f"engine={engine!r} does not run batches; allowed: {', '.join(BATCH_ENGINES)}")


# The compiled engine keeps no per-cell temporaries (a replicate's state is a few kB); its chunks are as large as
# the memory budget allows, up to this many replicates (fewer kernel calls; progress still moves).
COMPILED_CHUNK = 8192


def chunk_size_for(params: Any, n_militias: int, budget_mb: float) -> int:
    """Replicates per chunk: what fits in ``budget_mb``, and no more than is cache-friendly."""
    per_rep = n_militias * params.cells_per_militia * BYTES_PER_CELL_DAY + 4096
    cells_per_rep = n_militias * params.cells_per_militia
    cache_cap = max(1, CACHE_FRIENDLY_CHUNK * 120 // cells_per_rep)  # 120 cells: the default sizes
    return max(1, min(int(budget_mb * 2**20 // per_rep), cache_cap))


@dataclass(frozen=True)
class Chunk:
    """Consecutive replicates' results: per-run outcomes (name -> (n,)) and, for replicates below
    ``daily_replicates``, their daily series (name -> (days, k)) with the replicate indices they belong to."""

    replicates: np.ndarray
    runs: dict[str, np.ndarray]
    daily_replicates: np.ndarray
    daily: dict[str, np.ndarray] | None


@contextlib.contextmanager
def thread_pool(workers: int) -> Iterator[ThreadPoolExecutor]:
    """A ThreadPoolExecutor that, when its block is left by an exception (Ctrl-C, SIGTERM, an error), drops the
    blocks not yet started instead of computing them all first as ``with ThreadPoolExecutor`` would."""
    ex = ThreadPoolExecutor(workers)
    try:
        yield ex
    except BaseException:
        ex.shutdown(wait=False, cancel_futures=True)
        raise
    ex.shutdown(wait=True)


def _in_order(ex: ThreadPoolExecutor, fn, items: Sequence[Any], ahead: int) -> Iterator[Any]:
    """``ex.map(fn, items)`` with at most ``ahead`` results computed ahead of the consumer: memory stays
    bounded however many chunks a run has (ex.map would queue them all)."""
    pending: deque = deque()
    it = iter(items)
    for item in it:
        pending.append(ex.submit(fn, item))
        if len(pending) >= ahead:
            break
    while pending:
        result = pending.popleft().result()
        for item in it:
            pending.append(ex.submit(fn, item))
            break
        yield result


def iter_chunks(
    scenario: Scenario,
    params: Any,
    militias: Sequence[Militia],
    *,
    seed: int,
    replicates: int,
    engine: str = "vector",
    daily_replicates: int = 1000,
    daily_columns: Sequence[str] | None = None,
    chunk_size: int | None = None,
    memory_budget_mb: float = 2048,
    progress: bool | None = None,
    workers: int | None = None,
) -> Iterator[Chunk]:
    """The replicates 0..n-1 as Chunks, in order, computed on ``workers`` threads a few chunks ahead: what
    simulate() collects, and what the main job writes to disk as it comes. Arguments as simulate()'s."""
    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r} is not an engine; allowed: {', '.join(ENGINES)}")
    keep = min(daily_replicates, replicates)
    if engine == "compiled":
        threads = max(1, workers or len(os.sched_getaffinity(0)))
        batch = batch_runner("compiled")
        per_rep = _compiled_bytes(len(militias), scenario.days)
        size = chunk_size or max(1, min(COMPILED_CHUNK, int(memory_budget_mb * 2**20 // per_rep)))
        # chunks end where the kept daily series end, so that no chunk holds daily series it does not keep
        starts = sorted({*range(0, keep, size), *range(keep, replicates, size)})
        ends = [*starts[1:], replicates]

        def one_compiled(bounds: tuple[int, int]):
            reps = np.arange(*bounds)
            return reps, batch(scenario, [params], [militias], seed, reps, keep_daily=bounds[0] < keep,
                               daily_columns=daily_columns, threads=threads)  # fmt: skip

        # one chunk at a time on all the threads (numba's prange); the next is computed while this one is used
        with progress_bar(replicates, progress, f"{scenario.name} (compiled)") as bar, thread_pool(1) as ex:
            for reps, res in _in_order(ex, one_compiled, list(zip(starts, ends, strict=True)), 2):
                n_keep = max(0, min(keep - int(reps[0]), len(reps)))
                daily = None if res.daily is None else {k: v[:, :n_keep] for k, v in res.daily.items()}
                yield Chunk(reps, res.runs, reps[:n_keep], daily)
                bar.update(len(reps))
        return
    if engine == "vector":
        workers = max(1, workers or len(os.sched_getaffinity(0)))  # the CPUs we may use (SLURM, taskset)
        # Each worker holds one chunk, so the budget is shared; chunks never change results.
        size = chunk_size or min(
            chunk_size_for(params, len(militias), memory_budget_mb / workers), -(-replicates // workers)
        )
        starts = range(0, replicates, size)

        def one_chunk(lo: int):
            reps = np.arange(lo, min(lo + size, replicates))
            return reps, run_batch(scenario, [params], [militias], seed, reps, keep_daily=lo < keep,
                                   daily_columns=daily_columns)  # fmt: skip

        # numpy releases the GIL inside array operations, so threads use both cores.
        with progress_bar(replicates, progress, f"{scenario.name} (vector)") as bar, thread_pool(workers) as ex:
            for reps, res in _in_order(ex, one_chunk, starts, 2 * workers):
                n_keep = max(0, min(keep - int(reps[0]), len(reps)))
                daily = None if res.daily is None else {k: v[:, :n_keep] for k, v in res.daily.items()}
                yield Chunk(reps, res.runs, reps[:n_keep], daily)
                bar.update(len(reps))
        return
    from sim.engines.mesa_model import MilitiaModel

    overrides = {m.key: {f: getattr(m, f) for f in ("loyalty", "independence_offset", "discipline",
                                                     "hostility_us", "grievance")} for m in militias}  # fmt: skip
    with progress_bar(replicates, progress, f"{scenario.name} (mesa)") as bar:
        for rep in range(replicates):
            model = MilitiaModel(scenario=scenario, seed=seed, replicate=rep, militias=overrides, **asdict(params))
            while model.running:
                model.step()
            runs = {k: np.array([v]) for k, v in model.run_record().items()}
            daily = None
            if rep < keep:
                df = model.datacollector.get_model_vars_dataframe()
                daily = {c: df[c].to_numpy()[:, None] for c in df.columns}
            yield Chunk(np.array([rep]), runs, np.array([rep] if rep < keep else [], dtype=np.int64), daily)
            bar.update(1)


def simulate(
    scenario: Scenario,
    params: Any,
    militias: Sequence[Militia],
    *,
    seed: int,
    replicates: int,
    engine: str = "vector",
    daily_replicates: int = 1000,
    daily_columns: Sequence[str] | None = None,
    chunk_size: int | None = None,
    memory_budget_mb: float = 2048,
    progress: bool | None = None,
    workers: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run ``replicates`` replicates (indices 0..n-1) and return (runs, daily) DataFrames.

    ``daily`` keeps the series of replicates 0..daily_replicates-1 only (the runs table has all), and
    only ``daily_columns`` of them if given (e.g. ("clash",) to recount escalation cheaply).
    The vector engine runs chunks of at most ``chunk_size`` replicates (default: what fits in
    ``memory_budget_mb``) on ``workers`` threads (default: the CPUs this process may use).
    Everything is held in memory; the main job streams the same chunks to disk instead (sim.run.stream)."""
    runs_parts: list[pd.DataFrame] = []
    daily_parts: list[pd.DataFrame] = []
    for chunk in iter_chunks(scenario, params, militias, seed=seed, replicates=replicates, engine=engine,
                             daily_replicates=daily_replicates, daily_columns=daily_columns, chunk_size=chunk_size,
                             memory_budget_mb=memory_budget_mb, progress=progress, workers=workers):  # fmt: skip
        runs_parts.append(runs_frame(chunk))
        if chunk.daily is not None and len(chunk.daily_replicates):
            daily_parts.append(daily_frame(chunk, scenario, militias))
    runs = pd.concat(runs_parts, ignore_index=True)
    if not daily_parts:
        return runs, pd.DataFrame(columns=["replicate", "day", "date", *DAILY_COLUMNS])
    return runs, pd.concat(daily_parts, ignore_index=True)


def runs_frame(chunk: Chunk) -> pd.DataFrame:
    """A chunk's runs table: one row per replicate."""
    return pd.DataFrame({"replicate": chunk.replicates, **chunk.runs})


def daily_frame(chunk: Chunk, scenario: Scenario, militias: Sequence[Militia]) -> pd.DataFrame:
    """A chunk's long daily table (its kept replicates): one row per (replicate, day), militias named by key."""
    return _daily_frame([{"replicate": chunk.daily_replicates, **(chunk.daily or {})}], scenario, militias)


def _daily_frame(parts: list[dict[str, np.ndarray]], scenario: Scenario, militias: Sequence[Militia]) -> pd.DataFrame:
    """Long daily table: one row per (replicate, day), militia columns named by key."""
    frames = []
    dates = pd.date_range(scenario.start, periods=scenario.days, freq="D")
    for part in parts:
        reps = part["replicate"]
        if len(reps) == 0:
            continue
        T = scenario.days
        cols = {"replicate": np.repeat(reps, T), "day": np.tile(np.arange(T), len(reps)),
                "date": np.tile(dates.values, len(reps))}  # fmt: skip
        for k, v in part.items():
            if k == "replicate":
                continue
            name = k
            if k.rsplit("_", 1)[-1].isdigit():
                base, j = k.rsplit("_", 1)
                name = f"{base}_{militias[int(j)].key}"
            cols[name] = np.asarray(v, dtype=None).T.reshape(-1)
        frames.append(pd.DataFrame(cols))
    if not frames:
        return pd.DataFrame(columns=["replicate", "day", "date", *DAILY_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def _compiled_bytes(n_militias: int, days: int) -> int:
    """Bytes per replicate of a compiled chunk that keeps daily series: 15 + 4 x militias columns x days, 8 bytes."""
    return 8 * days * (len(DAILY_COLUMNS) + 4 * n_militias) + 4096


def param_columns(params: Any) -> dict[str, Any]:
    """Every declared parameter as a column value (runs tables from sweeps stack cleanly): the ordinary parameters,
    the structure (``structure.<mechanism>``: the alternative's name) and the alternatives' parameters, NaN where
    the structure does not use them (so that tables of different structures stack, and an unused value is not
    mistaken for one that acted)."""
    structure = structure_of(params)
    used = {p.name for p in params_in_use(structure)}
    out: dict[str, Any] = {f"param.{p.name}": getattr(params, p.name) for p in PARAMS
                           if p.role not in ("structure", "alternative")}  # fmt: skip
    out |= {f"structure.{m}": name for m, name in structure.items()}
    out |= {f"param.{p.name}": float(getattr(params, p.name)) if p.name in used else float("nan")
            for p in PARAMS if p.role == "alternative"}  # fmt: skip
    return out
