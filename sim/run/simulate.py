"""Running many replicates with either engine and turning the results into tidy tables.
The vector engine is split into memory-bounded chunks; the Mesa engine runs one model per replicate."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from sim.engines.vector import run_batch
from sim.model.outcomes import DAILY_COLUMNS
from sim.model.params import PARAMS, Militia
from sim.model.scenario import Scenario

ENGINES = ("vector", "mesa")
BYTES_PER_CELL_DAY = 8 * 12  # float64 temporaries per cell in one day's step (measured, rounded up)
# Chunks of about 2000 replicates keep a day's cell arrays near the CPU caches: measured on
# seed_timeline, 20,000 replicates on one thread took 12.0 s in chunks of 4096, 12.8 s in 1024,
# 15.2 s in one chunk and 18.8 s in chunks of 256 (python experiments/bench/bench.py for the rest).
CACHE_FRIENDLY_CHUNK = 2048


def chunk_size_for(params: Any, n_militias: int, budget_mb: float) -> int:
    """Replicates per chunk: what fits in ``budget_mb``, and no more than is cache-friendly."""
    per_rep = n_militias * params.cells_per_militia * BYTES_PER_CELL_DAY + 4096
    cells_per_rep = n_militias * params.cells_per_militia
    cache_cap = max(1, CACHE_FRIENDLY_CHUNK * 120 // cells_per_rep)  # 120 cells: the default sizes
    return max(1, min(int(budget_mb * 2**20 // per_rep), cache_cap))


def progress_bar(total: int, enabled: bool | None, desc: str):
    from tqdm.auto import tqdm

    # Quiet unless on a terminal: logs of cluster jobs stay clean.
    disable = (not sys.stderr.isatty()) if enabled is None else not enabled
    return tqdm(total=total, desc=desc, unit="rep", disable=disable, leave=False)


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
    ``memory_budget_mb``) on ``workers`` threads (default: the CPUs this process may use)."""
    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r} is not an engine; allowed: {', '.join(ENGINES)}")
    keep = min(daily_replicates, replicates)
    runs_parts: list[dict[str, np.ndarray]] = []
    daily_parts: list[dict[str, np.ndarray]] = []
    if engine == "vector":
        workers = max(1, workers or len(os.sched_getaffinity(0)))  # the CPUs we may use (SLURM, taskset)
        # Each worker holds one chunk, so the budget is shared; chunks never change results.
        size = chunk_size or min(
            chunk_size_for(params, len(militias), memory_budget_mb / workers), -(-replicates // workers)
        )
        starts = list(range(0, replicates, size))

        def one_chunk(lo: int):
            reps = np.arange(lo, min(lo + size, replicates))
            return reps, run_batch(scenario, [params], [militias], seed, reps, keep_daily=lo < keep,
                                   daily_columns=daily_columns)  # fmt: skip

        # numpy releases the GIL inside array operations, so threads use both cores.
        with progress_bar(replicates, progress, f"{scenario.name} (vector)") as bar, ThreadPoolExecutor(workers) as ex:
            for lo, (reps, res) in zip(starts, ex.map(one_chunk, starts), strict=True):
                runs_parts.append({"replicate": reps, **res.runs})
                if res.daily is not None:
                    n_keep = max(0, min(keep - lo, len(reps)))
                    daily_parts.append({"replicate": reps[:n_keep], **{k: v[:, :n_keep] for k, v in res.daily.items()}})
                bar.update(len(reps))
    else:
        from sim.engines.mesa_model import MilitiaModel

        overrides = {m.key: {f: getattr(m, f) for f in ("loyalty", "independence_offset", "discipline",
                                                         "hostility_us", "grievance")} for m in militias}  # fmt: skip
        with progress_bar(replicates, progress, f"{scenario.name} (mesa)") as bar:
            for rep in range(replicates):
                model = MilitiaModel(scenario=scenario, seed=seed, replicate=rep, militias=overrides, **asdict(params))
                while model.running:
                    model.step()
                runs_parts.append(
                    {"replicate": np.array([rep]), **{k: np.array([v]) for k, v in model.run_record().items()}}
                )
                if rep < keep:
                    df = model.datacollector.get_model_vars_dataframe()
                    daily_parts.append(
                        {"replicate": np.array([rep]), **{c: df[c].to_numpy()[:, None] for c in df.columns}}
                    )
                bar.update(1)
    runs = pd.concat([pd.DataFrame(p) for p in runs_parts], ignore_index=True)
    daily = _daily_frame(daily_parts, scenario, militias)
    return runs, daily


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


def param_columns(params: Any) -> dict[str, Any]:
    """Every declared parameter as a column value (runs tables from sweeps stack cleanly)."""
    return {f"param.{p.name}": getattr(params, p.name) for p in PARAMS}
