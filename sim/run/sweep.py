"""Sweeps: parameter points run as one vectorised batch per job, stored a block per job (sim.run.store), resumable
point by point. A point's key and seed come from its content (never from Hydra's job number), so results survive
reordering, re-splitting and restarts; ``aggregate`` streams the blocks into tidy tables."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.model.params import (
    PARAM_BY_NAME,
    Militia,
    make_params,
    model_values,
    params_in_use,
    structure_of,
)
from sim.model.scenario import Scenario
from sim.model.structures import DEFAULT, MECHANISM_BY_NAME
from sim.run import claims, provenance, signals, store
from sim.run.storage import DiskFull, _arrow, atomic_write_text, is_disk_full, remove_stale_tmp, tmp_name
from sim.run.store import DAILY_PREFIX, DAILY_VARS, QUANTILES, RUNS_PREFIX, StoreError
from sim.run.verify import digest

log = logging.getLogger(__name__)
__all__ = ["DAILY_VARS", "QUANTILES", "StoreError", "SweepPoint", "aggregate", "run_job_points", "run_points"]


@dataclasses.dataclass(frozen=True)
class SweepPoint:
    """One parameter point of a sweep: everything that determines its results."""

    study: str
    scenario: Scenario
    drop_events: tuple[str, ...]
    params: Any
    militias: tuple[Militia, ...]
    replicates: int
    sweep_seed: int
    daily: str = "hazard"  # what the store keeps of its daily series (sim.run.store.DAILY_MODES); not its identity
    # Points of one ``pair`` share their random numbers (common random numbers): their seed comes from the sweep's
    # seed and the pair, not from the point (policies across scenarios pair the policies of each scenario).
    pair: str = ""
    name: str = ""  # a label of its own (a policy's name) instead of the values it changes

    def identity(self) -> dict[str, Any]:
        """What the point is (without replicates): the basis of its seed."""
        return dict(self._identity)

    @functools.cached_property
    def _identity(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "events": [(e.day, e.kind, sorted((k, str(v)) for k, v in e.data.items())) for e in self.scenario.events],
            "start": str(self.scenario.start),
            "end": str(self.scenario.end),
            "drop_events": sorted(self.drop_events),
            "params": model_values(self.params),  # the parameters in use (and a structure that is not the default)
            "militias": [store._fields(m) for m in self.militias],  # flat: what dataclasses.asdict gives, faster
        }

    @functools.cached_property  # a frozen point: computed once (hashing its identity took ~2 ms a time)
    def seed(self) -> int:
        """Derived from the sweep's seed and the point itself (or its pair): 63 bits of SHA-256."""
        if self.pair:
            return digest({"sweep_seed": self.sweep_seed, "pair": self.pair}, bits=63)
        return digest({"sweep_seed": self.sweep_seed, **self.identity()}, bits=63)

    @functools.cached_property
    def identity_text(self) -> str:
        """The point's configuration as canonical JSON (seed, replicates and what it is): stored with its results,
        so that a reader can recompute its key from what is on disk."""
        return json.dumps({"seed": self.seed, "replicates": self.replicates, **self.identity()}, sort_keys=True,
                          default=str)  # fmt: skip

    @functools.cached_property
    def config_hash(self) -> str:
        """SHA-256 of ``identity_text`` (128 bits); the key is its first 64."""
        return hashlib.sha256(self.identity_text.encode()).hexdigest()[: store.HASH_CHARS]

    @functools.cached_property
    def key(self) -> str:
        return self.config_hash[:16]

    def run_columns(self) -> dict[str, Any]:
        """The runs table's columns of this point's parameters: param.* and structure.* (sim.run.simulate)."""
        from sim.run.simulate import param_columns

        return param_columns(self.params)

    def used_params(self) -> dict[str, Any]:
        """The points table's parameters: those the point's structure uses."""
        from sim.model.params import used_values

        return used_values(self.params)

    def structure_names(self) -> dict[str, str]:
        return structure_of(self.params).as_dict()

    @functools.cached_property
    def label(self) -> str:
        """Human label: the structure's changed mechanisms, the parameters in use that differ from their declared
        defaults, and dropped events; or the point's own name."""
        if self.name:
            return self.name
        structure = structure_of(self.params)
        parts = [f"{k}={v}" for k, v in structure.changed().items()]
        parts += [f"{p.name}={getattr(self.params, p.name)}" for p in params_in_use(structure)
                  if getattr(self.params, p.name) != p.default]  # fmt: skip
        parts += [f"no {kind}" for kind in sorted(self.drop_events)]
        return ", ".join(parts) or "baseline"


def grid_axes(grid: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """A grid's axes as (parameter names, values): keys 'name' or 'params.name', and 'structure' mapping
    mechanisms to alternatives' names (an axis of the ``structure_<mechanism>`` parameter)."""
    names, values = [], []
    for key, v in grid.items():
        if key == "structure":
            for mech, alts in dict(v).items():
                if mech not in MECHANISM_BY_NAME:
                    raise ValueError(f"grid.structure.{mech} is not a mechanism")
                names.append(MECHANISM_BY_NAME[mech].param)
                values.append(list(alts) if isinstance(alts, list | tuple) else [alts])
            continue
        name = key.removeprefix("params.")
        if name not in PARAM_BY_NAME:
            raise ValueError(f"grid.{key} is not a parameter")
        names.append(name)
        values.append(list(v) if isinstance(v, list | tuple) else [v])
    return names, values


def expand_grid(base: Mapping[str, Any], grid: Mapping[str, Any]) -> list[Any]:
    """Params for every combination of ``grid`` values (keys 'name' or 'params.name', or 'structure' with
    {mechanism: [alternatives]}) on top of ``base``."""
    names, values = grid_axes(grid)
    return [make_params({**base, **dict(zip(names, combo, strict=True))}) for combo in itertools.product(*values)]


def grid_structures(base: Mapping[str, Any], grid: Mapping[str, Any]) -> list[Any]:
    """The structures a grid's points run (the base's alone if the grid has no structure axis)."""
    axes = dict(grid.get("structure") or {})
    names = [MECHANISM_BY_NAME[m].param for m in axes]
    values = [list(v) if isinstance(v, list | tuple) else [v] for v in axes.values()]
    return list({structure_of(make_params({**base, **dict(zip(names, combo, strict=True))})): None
                 for combo in itertools.product(*values)})  # fmt: skip


def sweep_points(cfg: Any, scenario: Scenario, militias: tuple, root: Path | None = None) -> list[SweepPoint]:
    """A sweep job's points: its grid, or its block of a design's rows, on top of its params. ``root``: the sweep
    folder, where a design records itself (None: only list the points, as a launcher does for its manifest)."""
    from omegaconf import OmegaConf

    from sim.run import designs
    from sim.run.config_schema import base_params

    base = base_params(cfg)
    grid = OmegaConf.to_container(cfg.grid, resolve=True) or {}
    design = OmegaConf.to_container(cfg.design, resolve=True) or {}
    if cfg.get("policies"):  # policies across scenarios: their points, paired by scenario (sim.run.policies)
        from sim.run import policies

        return policies.sweep_points(cfg, scenario, root, point=SweepPoint)
    if design:
        spec = designs.DesignSpec.from_config(design, structure_of(make_params(base)))
        rows = designs.design_rows(spec)  # counted, not built: the job builds only its own block
        block = designs.block_rows(rows, int(design.get("blocks", 1)), int(design.get("block", 0)))
        base_militias = OmegaConf.to_container(cfg.militias, resolve=True)
        sets = designs.design_points(spec, block, base, base_militias)
        if root is not None:
            designs.write_design(root, spec, rows)
    else:
        sets = [(p, militias) for p in expand_grid(base, grid)]
    # the config's fields read once, not per point (OmegaConf's access was a quarter of planning a large design)
    shared = (str(cfg.study), scenario, tuple(cfg.drop_events))
    replicates, seed, daily = int(cfg.replicates), int(cfg.seed), str(cfg.get("sweep_daily", "hazard"))
    return [SweepPoint(*shared, p, m, replicates, seed, daily) for p, m in sets]


def job_key(points: Sequence[SweepPoint]) -> str:
    return format(digest(sorted(p.key for p in points), bits=64), "016x")


# ----------------------------------------------------------------------------- running a job's points


def run_points(
    points: Sequence[SweepPoint],
    root: Path,
    memory_budget_mb: float = 2048,
    chunk_size: int | None = None,
    progress: bool | None = None,
    workers: int | None = None,
    elsewhere: list[SweepPoint] | None = None,
    engine: str = "vector",
    overrides: Sequence[str] = (),
    job: store.Job | None = None,
) -> list[SweepPoint]:
    """Run the unfinished ``points`` (one job's: its block in the store) as vectorised batches; returns those run.
    Points already stored (in this job's block or journal, or in another job's block) are not run again; a point
    whose stored copy fails its check is recomputed (a line says why); a job another live process holds is left
    to it (its points added to ``elsewhere``). ``workers`` threads run the batches' blocks."""
    from sim.run.simulate import progress_bar

    workers = max(1, workers or len(os.sched_getaffinity(0)))
    root = Path(root)
    store.refuse_legacy(root)
    if points:
        store.check_settings(root, store.settings_of(points[0]))
    own = job is None
    if own:
        job = store.Job(root, job_key(points), points, overrides)
        if not job.open(log.warning):
            holder = claims.holder_file(root / store.BLOCKS / f"{job.key}.claim") or "just finished"
            log.warning(f"job {job.key} ({len(points)} points): running elsewhere ({holder}); skipped here")
            if elsewhere is not None:
                elsewhere.extend({p.key: p for p in points}.values())
            return []
    try:
        todo = job.todo
        if elsewhere is not None:
            elsewhere.extend([])
        groups: dict[tuple, list[SweepPoint]] = {}
        for p in todo:  # one array shape per batch
            groups.setdefault((id(p.scenario), p.params.cells_per_militia, p.daily), []).append(p)
        total = sum(p.replicates for p in todo)
        with progress_bar(total, progress, "sweep points") as bar, signals.between_blocks():
            for group in groups.values():
                _run_group(group, job, memory_budget_mb, chunk_size, workers, bar, engine)
        if own:
            job.finish()
    except BaseException:
        job.abort()
        raise
    finally:
        if own:
            job.release()
    return todo


def _blocks(group: list[SweepPoint], rows_per_block: int) -> list[list[tuple[int, int, int]]]:
    """Pack (point index, first replicate, end replicate) items into blocks of at most ``rows_per_block`` rows."""
    blocks: list[list[tuple[int, int, int]]] = [[]]
    rows = 0
    for i, p in enumerate(group):
        for lo in range(0, p.replicates, rows_per_block):
            hi = min(lo + rows_per_block, p.replicates)
            if rows + hi - lo > rows_per_block and blocks[-1]:
                blocks.append([])
                rows = 0
            blocks[-1].append((i, lo, hi))
            rows += hi - lo
    return [b for b in blocks if b]


def _run_group(group: list[SweepPoint], job: store.Job, budget: float, chunk_size: int | None, workers: int, bar,
               engine: str = "vector") -> None:  # fmt: skip
    from sim.run.simulate import batch_runner, chunk_size_for, thread_pool

    scenario = group[0].scenario
    run_batch = batch_runner(engine)
    # compiled: one block at a time on all threads (the pool's other threads store finished points meanwhile)
    threads = {"threads": workers} if engine == "compiled" else {}
    rows_per_block = chunk_size or chunk_size_for(group[0].params, len(group[0].militias), budget / workers)
    runs_parts: list[list[dict]] = [[] for _ in group]
    daily: list[dict[str, np.ndarray]] = [{} for _ in group]  # a point's series exist only while it is computed
    remaining = [p.replicates for p in group]
    variables = store.DAILY_MODES[group[0].daily]  # the daily series the store keeps (or summarises)

    def run_block(block: list[tuple[int, int, int]]):
        params_rows, militias_rows, seeds, reps = [], [], [], []
        for i, lo, hi in block:
            params_rows += [group[i].params] * (hi - lo)
            militias_rows += [group[i].militias] * (hi - lo)
            seeds.append(np.full(hi - lo, group[i].seed, dtype=np.uint64))
            reps.append(np.arange(lo, hi))
        return run_batch(
            scenario, params_rows, militias_rows, np.concatenate(seeds), np.concatenate(reps),
            keep_daily=bool(variables), daily_columns=variables or None, **threads,
        )  # fmt: skip

    blocks = _blocks(group, rows_per_block)
    # Blocks run on threads (numpy releases the GIL); results are scattered back in block order, and the points
    # that a block completes go to the store together, before the next stop point.
    with thread_pool(workers) as ex:
        for block, res in zip(blocks, ex.map(run_block, blocks), strict=True):
            at = 0
            finished = []
            for i, lo, hi in block:
                sl = slice(at, at + hi - lo)
                runs_parts[i].append({k: v[sl] for k, v in res.runs.items()})
                if not daily[i]:
                    daily[i] = {v: np.empty((scenario.days, group[i].replicates)) for v in variables}
                for v in variables:
                    daily[i][v][:, lo:hi] = res.daily[v][:, sl]
                at += hi - lo
                remaining[i] -= hi - lo
                if remaining[i] == 0:
                    cols = {k: np.concatenate([p[k] for p in runs_parts[i]]) for k in runs_parts[i][0]}
                    finished.append(store.Finished(group[i], cols, daily[i]))
                    runs_parts[i], daily[i] = [], {}
            _store(job, finished)
            job.refresh()  # a sign of life for processes that wait on this job
            bar.update(at)
            signals.stop_point()  # a cluster task asked to stop: here, with every finished point stored


def _store(job: store.Job, finished: list[store.Finished]) -> None:
    try:
        job.add(finished)
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        what = f"point {finished[0].point.key}" if len(finished) == 1 else f"{len(finished)} points"
        raise DiskFull(store.disk_full_line(exc, what, job.root / store.BLOCKS)) from None


# ----------------------------------------------------------------------------- jobs


def run_job_points(
    points: Sequence[SweepPoint], root: Path, overrides: Sequence[str] = (), allow_mixed_versions: bool = False,
    **kw: Any,
) -> dict:
    """One Hydra job: refuse to add to points other library versions computed (unless allowed), mark the job
    started, run what is missing, mark it done."""
    root = Path(root)
    try:
        store.refuse_legacy(root)
        if points:
            store.check_settings(root, store.settings_of(points[0]))
    except StoreError as exc:
        raise StoreRefused(f"error: {exc}") from None
    refuse_mixed(root, allow_mixed_versions)
    key = job_key(points)
    unique = list({p.key: p for p in points}.values())
    elsewhere: list[SweepPoint] = []
    job = store.Job(root, key, points, overrides)
    try:
        if not job.open(log.warning):
            holder = claims.holder_file(root / store.BLOCKS / f"{key}.claim") or "just finished"
            log.warning(f"job {key} ({len(unique)} points): running elsewhere ({holder}); skipped here")
            return {"job_key": key, "points": len(points), "ran": 0, "skipped": 0, "elsewhere": len(unique)}
        before = len(unique) - len(job.todo)
        job.mark("started", started=time.time())
        try:
            ran = run_points(points, root, elsewhere=elsewhere, job=job, **kw)
            job.finish()
        except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, a cluster task's stop signal (sim.run.signals)
            job.abort()
            done = len(unique) - len(job.todo)
            exc.progressed, exc.stored = done > before, f"{done} of {len(unique)} points of this job stored in {root}"
            exc.note = (f"{done} of {len(unique)} points of this job are stored in {root} (none half-written); run "
                        "the same command again to run only the missing points")  # fmt: skip
            try:
                job.mark("stopped", signal=getattr(exc, "signum", None), points_done=done, stopped=time.time())
            except OSError:
                pass
            raise
    except OSError as exc:  # e.g. no room left for the journal, the block or the manifest
        if not is_disk_full(exc):
            raise
        raise DiskFull(store.disk_full_line(exc, f"job {key}", Path(exc.filename or root).parent)) from None
    finally:
        job.release()
    return {"job_key": key, "points": len(points), "ran": len(ran), "skipped": len(unique) - len(ran),
            "elsewhere": 0}  # fmt: skip


class StoreRefused(SystemExit):
    """A sweep folder the job must not write into (another sweep's, or the earlier per-point layout). A SystemExit
    carrying one line, so that it passes through Hydra's job runner and ends the sweep before its next job."""


def refuse_mixed(root: Path, allow: bool = False) -> None:
    """Raise MixedVersions (one line) if computing here would add points of this environment to a sweep whose
    stored points other library versions computed."""
    problem = mixed_versions(root, provenance.here())
    if problem and not allow:
        raise provenance.MixedVersions(f"error: {problem}; running here would mix them in one sweep: use a new "
                                       "hydra.sweep.dir, or allow_mixed_versions=true to mix them knowingly")
    if problem:
        log.warning(f"{problem}; mixed as asked (allow_mixed_versions=true)")


def mixed_versions(root: Path, here: Mapping[str, str] | None = None) -> str | None:
    """One line when the sweep's blocks (and ``here``, this process's versions, if given) were not all computed
    with the same library versions; None when they were."""
    groups: dict[str, tuple[str, dict[str, str] | None]] = {}
    for job, manifest, _ in store.job_manifests(root):
        if manifest is None or not manifest.get("block"):
            continue
        v = provenance.versions_of(manifest)
        groups.setdefault(json.dumps(v, sort_keys=True), (f"job {job}", v))
    if here is not None:
        groups.setdefault(json.dumps(dict(here), sort_keys=True), ("this process", dict(here)))
    if len(groups) < 2:
        return None
    (ka, va), (kb, vb) = list(groups.values())[:2]
    what = ("versions unrecorded" if va is None or vb is None else ", ".join(provenance.differences(va, vb)))
    return f"{root}: results from {len(groups)} different software environments: {ka} and {kb} differ ({what})"


# ----------------------------------------------------------------------------- aggregation


# Per-point outcomes of the points table: column -> (runs column, how a run counts). Each gets its
# within-point variance too (``var_<column>``), so an analysis can weigh Monte Carlo noise from the points alone.
POINT_OUTCOMES = {
    "p_escalation": "escalated", "p_any_clash": "any_clash", "p_sustained": "sustained", "mean_clashes": "clashes",
    "p_politics_end": "participating_final",
    "mean_interventions": "interventions", "mean_attacks_state": "attacks_state", "mean_attacks_us": "attacks_us",
    "p_boycott_ended": "boycott_ended", "mean_boycott_days": "boycott_days",
    "mean_cohesion_within": "cohesion_within", "mean_cohesion_house": "cohesion_house",
}  # fmt: skip


@dataclasses.dataclass
class SweepCheck:
    """A sweep folder as sim.status and the aggregation see it, from the same checks (sim.run.store.check_block):
    the points each job should store, those stored and verified (and where), those refused (and why)."""

    root: Path
    manifests: dict[str, dict[str, Any]]
    unreadable: dict[str, str]
    done: dict[str, str]  # point key -> the job whose block holds it
    damaged: dict[str, str]  # point key -> what is wrong
    checks: dict[str, store.BlockCheck]

    @property
    def expected(self) -> set[str]:
        return {k for m in self.manifests.values() for k in m.get("points", [])} | set(self.done) | set(self.damaged)


def check_sweep(root: Path, read: bool = False) -> SweepCheck:
    """Every job's manifest and block checked (StoreError for a folder in the per-point layout)."""
    root = Path(root)
    store.refuse_legacy(root)
    manifests, unreadable, done, damaged, checks = {}, {}, {}, {}, {}
    settings = store.sweep_settings(root) or {}
    for job, manifest, why in store.job_manifests(root):
        if manifest is None:
            unreadable[job] = why
            continue
        manifests[job] = manifest
        if manifest.get("block"):
            check = store.check_block(root, job, manifest, read=read, settings=settings)
            checks[job] = check
            for key in check.done:
                done.setdefault(key, job)
            for key, why in check.damaged.items():
                damaged.setdefault(key, why)
        journal = store.journal_path(root, job)
        if manifest.get("status") != "done" and journal.exists():  # a job running, stopped or killed part-way
            table, bad = store.read_journal(journal, skip=set(done), settings=settings)
            for key in [] if table is None else table.column("point_key").to_pylist():
                done.setdefault(key, job)
            for key, why in bad.items():
                damaged.setdefault(key, why)
    for key in done:
        damaged.pop(key, None)  # another block holds it whole
    return SweepCheck(root, manifests, unreadable, done, damaged, checks)


def aggregate(root: Path, write: bool = True, keep_rows: bool = True, allow_mixed: bool = False) -> dict[str, Any]:
    """Stack every finished, verified point under ``root`` into aggregate/points, runs and daily tables.

    Works with failed or unfinished jobs: it reports them and aggregates what is there. A point that fails its
    check (sim.run.store) is refused, reported in ``corrupt_points`` and never aggregated. The runs and daily
    tables are written a slice of a block at a time as they are read, and the points table is merged from sorted
    parts (sim.run.points_table): a design of millions of points is never held whole; ``keep_rows`` holds them
    all and returns them in ``report["tables"]``. Blocks computed with different library versions are
    refused whole, nothing written, unless ``allow_mixed``: ``report["mixed_versions"]`` says which."""
    from sim.run.points_table import PointsTable

    points_table = PointsTable(Path(root) / "aggregate", hold=keep_rows or not write)  # else written by blocks
    try:
        return _aggregate(Path(root), write, keep_rows, allow_mixed, points_table)
    finally:
        points_table.remove_parts()  # whatever happens (a full disk, a late signal): no part stays


def _aggregate(root: Path, write: bool, keep_rows: bool, allow_mixed: bool, points_table: Any) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = Path(root)
    mixed = mixed_versions(root)
    empty = {"n_points": 0, "n_jobs": 0, "unfinished_jobs": [], "missing_points": [], "running_elsewhere": {},
             "corrupt_points": [], "unreadable_jobs": [], "mixed_versions": mixed}  # fmt: skip
    if mixed and not allow_mixed:
        return empty
    store.refuse_legacy(root)
    settings = store.sweep_settings(root) or {}
    manifests, unreadable = {}, {}
    for job, manifest, why in store.job_manifests(root):
        if manifest is None:
            unreadable[job] = why
        else:
            manifests[job] = manifest
    out_dir = root / "aggregate"
    if out_dir.is_dir():
        remove_stale_tmp(out_dir)  # an aggregation killed part-way: its temporary tables
    writers: dict[str, Any] = {}
    tmp: dict[str, Path] = {}
    kept: dict[str, list[pa.Table]] = {"runs": [], "daily": [], "series": []}
    used: set[str] = set()
    damaged: dict[str, str] = {}

    schemas: dict[str, pa.Schema] = {}

    def emit(name: str, table: pa.Table) -> None:
        table = table.cast(schemas.setdefault(name, table.schema))  # a journal's lists and a block's: one schema
        if write:
            if name not in writers:
                out_dir.mkdir(parents=True, exist_ok=True)
                tmp[name] = tmp_name(out_dir / f"{name}.parquet")
                writers[name] = pq.ParquetWriter(tmp[name], table.schema, **AGGREGATE_PARQUET)
            writers[name].write_table(table, row_group_size=200_000)
        if keep_rows or not write:
            kept[name].append(table)

    try:
        for job in sorted(manifests):  # a block at a time: read once, checked, then stacked
            parts = check = table = piece = None  # the last block's tables go before the next is read
            parts = []
            if manifests[job].get("block"):
                check = store.check_block(root, job, manifests[job], read=True, settings=settings)
                for key, why in check.damaged.items():
                    damaged.setdefault(key, why)
                rows = sorted(i for k, i in check.done.items() if k not in used)
                if rows:
                    parts.append(check.table if len(rows) == check.table.num_rows else check.table.take(rows))
                    used.update(parts[-1].column("point_key").to_pylist())
            journal = store.journal_path(root, job)
            if manifests[job].get("status") != "done" and journal.exists():  # stopped or killed part-way
                table, bad = store.read_journal(journal, skip=used, settings=settings)
                for key, why in bad.items():
                    damaged.setdefault(key, why)
                if table is not None:
                    parts.append(table)
                    used.update(table.column("point_key").to_pylist())
            for table in parts:
                for piece in _slices(table):
                    runs, daily, series = _tables(piece)
                    emit("runs", runs)
                    if daily is not None:
                        emit("daily", daily)
                    if series is not None:
                        emit("series", series)
                for start in range(0, table.num_rows, POINT_SLICE):  # a row's dict of 135 values: ~20 kB
                    points_table.add(_point_rows(table.slice(start, POINT_SLICE)))
        for w in writers.values():
            w.close()
        writers.clear()
    except BaseException:
        for w in writers.values():
            try:
                w.close()
            except Exception:
                pass
        for path in tmp.values():
            path.unlink(missing_ok=True)
        raise
    for key in used:
        damaged.pop(key, None)  # another block holds it whole
    state = SweepCheck(root, manifests, unreadable, {}, damaged, {})
    unfinished = [{"job_key": j, "overrides": m.get("overrides", []), "status": m.get("status")}
                  for j, m in sorted(state.manifests.items()) if m.get("status") != "done"]  # fmt: skip
    refused = sorted(state.damaged)
    missing = sorted(state.expected - set(used) - set(refused))
    holders = {}
    for j, m in state.manifests.items():
        if m.get("status") != "done" and (h := claims.holder_file(root / store.BLOCKS / f"{j}.claim")):
            holders.update({k: h for k in m.get("points", []) if k in set(missing)})
    report = {
        "n_points": len(used),
        "n_jobs": len(state.manifests) + len(state.unreadable),
        "unfinished_jobs": unfinished,
        "missing_points": missing,
        "running_elsewhere": holders,
        "corrupt_points": [{"point_key": k, "problem": state.damaged[k]} for k in refused],
        "unreadable_jobs": [f"{j}.json ({why})" for j, why in sorted(state.unreadable.items())],
        "mixed_versions": mixed,
    }
    if not used:
        for path in tmp.values():
            path.unlink(missing_ok=True)
        return report
    out = {"points": points_table.table()} if points_table.hold else {}
    for name, tables in kept.items():
        if tables:
            out[name] = pa.concat_tables(tables).to_pandas()
    if write:  # the tables change together: report.json, the set's seal, goes first and comes back last
        try:
            (out_dir / "report.json").unlink(missing_ok=True)
            tmp["points"] = tmp_name(out_dir / "points.parquet")
            if points_table.hold:
                pq.write_table(_arrow(out["points"], None), tmp["points"], compression="zstd")
            else:
                points_table.write(tmp["points"])
            for name in ("daily", "series"):  # a table this sweep no longer keeps would be a stale one
                if name not in tmp:
                    (out_dir / f"{name}.parquet").unlink(missing_ok=True)
            for name in tmp:
                os.replace(tmp[name], out_dir / f"{name}.parquet")
            atomic_write_text(out_dir / "report.json", json.dumps(report, indent=1, default=str))
        except BaseException:  # a full disk or a signal: no temporary table stays, and no seal on a mixed set
            for path in tmp.values():
                path.unlink(missing_ok=True)
            raise
    report["tables"] = out
    return report


# The aggregate runs, daily and series tables' Parquet options: zstd, no statistics, and a dictionary page that
# holds a table's distinct texts whole (a design point's label is ~2.5 kB, on each of its 215 days: past the 1 MB
# default the writer falls back to plain pages, which cost a quarter more CPU and five times the bytes; measured
# in /work/wt/notes/store2.md). Readers see plain text either way. (An Arrow dictionary column instead of the
# repeated text was tried: pyarrow 26 writes it densely, slower still.)
AGGREGATE_PARQUET = {"compression": "zstd", "write_statistics": False, "dictionary_pagesize_limit": 16 << 20}


SLICE_BYTES = 64 << 20  # text repeated onto the runs/daily/series rows of the points made at once (see _slices)
POINT_SLICE = 1000  # points of a block made into points-table rows at once (as Python dicts, then a frame)


def _slices(block) -> Iterator[Any]:
    """A block's points a few at a time, so that the text repeated onto each of their rows (a design point's 2.5 kB
    label on each of its 215 days: 5 GB for a block of 10,000) stays near SLICE_BYTES whatever the block's size:
    memory stays bounded, and the Arrow pool reuses the same pages instead of touching fresh ones."""
    import pyarrow as pa

    rows = np.zeros(block.num_rows, dtype=np.int64)
    for prefix in (RUNS_PREFIX, DAILY_PREFIX, store.SERIES_PREFIX):
        first = next((c for c in block.column_names if c.startswith(prefix)), None)
        if first is not None:
            rows = np.maximum(rows, np.diff(store._values(block.column(first))[1]))
    text = np.full(block.num_rows, 64, dtype=np.int64)  # and a row's numbers, roughly
    for c in ("point_key", "scenario", "label", *(c for c in block.column_names if c.startswith("structure."))):
        column = block.column(c).combine_chunks() if c in block.column_names else None
        if column is not None and (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            width = np.int64 if pa.types.is_large_string(column.type) else np.int32
            offsets = np.frombuffer(column.buffers()[1], width)[column.offset : column.offset + len(column) + 1]
            text += np.diff(offsets)  # each value's bytes
    size = rows * text
    group = (np.cumsum(size) - size) // SLICE_BYTES  # points starting in the same window of bytes
    bounds = np.flatnonzero(np.diff(group)) + 1
    if not len(bounds):
        yield block
        return
    for start, stop in zip([0, *bounds.tolist()], [*bounds.tolist(), block.num_rows], strict=True):
        yield block.slice(start, stop - start)


def _tables(block):
    """A block's rows as the aggregate runs table (a row per replicate) and daily table (a row per day)."""
    import pyarrow as pa

    def spread(prefix: str) -> tuple[np.ndarray, np.ndarray]:  # the block row of each list item, its index
        first = block.column(next(c for c in block.column_names if c.startswith(prefix))).combine_chunks()
        offsets = store.numpy_of(first.offsets) - store.numpy_of(first.offsets)[0]
        lengths = np.diff(offsets)
        owner = np.repeat(np.arange(block.num_rows), lengths)
        return owner, np.arange(len(owner)) - np.repeat(offsets[:-1], lengths)

    def repeat(name: str, owner: np.ndarray) -> pa.Array:  # a point's value on each of its rows
        column = block.column(name).combine_chunks()
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            return column.take(pa.array(owner))
        return pa.array(column.to_numpy(zero_copy_only=False)[owner], type=column.type)

    owner, replicate = spread(RUNS_PREFIX)
    runs = {"replicate": pa.array(replicate)}
    for c in (c for c in block.column_names if c.startswith(RUNS_PREFIX)):
        runs[c[len(RUNS_PREFIX) :]] = store._values(block.column(c))[0]
    constants = [c for c in block.column_names if c.startswith(("param.", "structure."))]  # param_columns' order
    for c in ("point_key", "scenario", "seed", *constants):
        runs[c] = repeat(c, owner)
    daily_cols = [c for c in block.column_names if c.startswith(DAILY_PREFIX)]
    if not daily_cols:  # sweep_daily=none
        return pa.table(runs), None, None
    owner, day = spread(DAILY_PREFIX)
    start = block.column("start").combine_chunks().cast(pa.int32()).to_numpy()  # days since 1970-01-01
    date = (start[owner] + day).astype("datetime64[D]").astype("datetime64[ms]")
    daily = {"day": pa.array(day), "date": pa.array(date)}
    for c in daily_cols:
        daily[c[len(DAILY_PREFIX) :]] = store._values(block.column(c))[0]
    for c in ("point_key", "scenario", "label"):
        daily[c] = repeat(c, owner)
    series_cols = [c for c in block.column_names if c.startswith(store.SERIES_PREFIX)]
    if not series_cols:
        return pa.table(runs), pa.table(daily), None
    owner, item = spread(store.SERIES_PREFIX)  # replicate-major: (replicate, day) of each point
    days = np.repeat(np.diff(store.numpy_of(block.column(daily_cols[0]).combine_chunks().offsets)), np.diff(
        store.numpy_of(block.column(series_cols[0]).combine_chunks().offsets)))  # fmt: skip
    series = {"replicate": pa.array(item // days), "day": pa.array(item % days)}
    for c in series_cols:
        series[c[len(store.SERIES_PREFIX) :]] = store._values(block.column(c))[0]
    for c in ("point_key", "scenario"):
        series[c] = repeat(c, owner)
    return pa.table(runs), pa.table(daily), pa.table(series)


def _point_rows(block) -> Any:
    """A block's points as rows of the points table (a frame of one row per point, whichever
    parameters each point's structure uses): what each point is, P(escalation) with its Wilson interval, and the
    mean and within-point variance of each outcome, computed as pandas computes them."""
    from sim.run.summary import wilson_interval

    n_rows = block.num_rows
    first = block.column(RUNS_PREFIX + "escalated").combine_chunks()
    offsets = store.numpy_of(first.offsets) - store.numpy_of(first.offsets)[0]
    values = {c[len(RUNS_PREFIX) :]: store._values(block.column(c))[0] for c in block.column_names
              if c.startswith(RUNS_PREFIX)}  # fmt: skip
    values["any_clash"] = values["first_clash_day"] >= 0
    n = np.diff(offsets)
    k = np.array([int(values["escalated"][offsets[i] : offsets[i + 1]].sum()) for i in range(n_rows)])
    lo, hi = wilson_interval(k, n)
    stats: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    equal = len(set(n.tolist())) == 1
    for column, source in POINT_OUTCOMES.items():
        x = values[source].astype(float)
        if equal:  # one row per point: numpy sums each row as it sums a point's own array (pairwise)
            parts = x.reshape(n_rows, -1)
            count = parts.shape[1]
            means = parts.sum(axis=1) / count  # what pandas' mean computes
            if count > 1:  # pandas' var(ddof=1): squared deviations from the mean, summed, over n - 1
                variances = ((means[:, None] - parts) ** 2).sum(axis=1) / (count - 1)
            else:
                variances = np.full(n_rows, np.nan)
        else:
            means, variances = np.empty(n_rows), np.full(n_rows, np.nan)
            for i in range(n_rows):
                part = x[offsets[i] : offsets[i + 1]]
                means[i] = part.sum() / len(part)
                if len(part) > 1:
                    variances[i] = ((means[i] - part) ** 2).sum() / (len(part) - 1)
        stats[column] = (means, variances)
    text = {c: block.column(c).to_pylist() for c in ("point_key", "study", "scenario", "label", "drop_events",
                                                      "used", "structure", "seed")}  # fmt: skip
    militia_cols = [c for c in block.column_names if c.startswith("militia.")]
    militia = {c: block.column(c).to_pylist() for c in militia_cols}
    rows = []
    for i in range(n_rows):
        row = {
            "point_key": text["point_key"][i], "experiment": text["study"][i], "scenario": text["scenario"][i],
            "label": text["label"][i], "drop_events": text["drop_events"][i],
            **{f"param.{name}": value for name, value in json.loads(text["used"][i]).items()},
            **{f"structure.{m}": name for m, name in {**DEFAULT.as_dict(), **json.loads(text["structure"][i])}.items()},
            **{c: militia[c][i] for c in militia_cols},
            "replicates": int(n[i]), "escalated": int(k[i]), "ci_low": float(lo[i]), "ci_high": float(hi[i]),
            "seed": text["seed"][i],
        }  # fmt: skip
        for column, (means, variances) in stats.items():
            row[column] = float(means[i])
            row[f"var_{column}"] = float(variances[i])
        rows.append(row)
    import pandas as pd

    return pd.DataFrame(rows)  # a block's rows as a frame: a million points' dicts would not fit


def problems(report: Mapping[str, Any]) -> list[str]:
    """One line per point that was refused (or job manifest that could not be read)."""
    lines = [f"point {c['point_key']}: {c['problem']}; not aggregated (rerun the sweep to recompute it)"
             for c in report.get("corrupt_points", [])]  # fmt: skip
    lines += [f"jobs/{what}: its points may be missing from the report"
              for what in report.get("unreadable_jobs", [])]  # fmt: skip
    if report.get("mixed_versions") and not report.get("n_points"):
        lines.append(f"{report['mixed_versions']}; nothing aggregated (rerun the missing points in one environment, "
                     "or aggregate anyway with --allow-mixed-versions / allow_mixed_versions=true)")
    elif report.get("mixed_versions"):
        lines.append(f"warning: {report['mixed_versions']}; aggregated together as asked")
    return lines


def describe(report: Mapping[str, Any]) -> str:
    """One short paragraph for the terminal: what was aggregated and what is missing."""
    lines = [f"aggregated {report['n_points']} points from {report['n_jobs']} jobs"]
    if report["unfinished_jobs"]:
        lines.append(f"{len(report['unfinished_jobs'])} job(s) did not finish (rerun the same sweep to resume):")
        for j in report["unfinished_jobs"]:
            lines.append(f"  job {j['job_key']}: {' '.join(j.get('overrides', [])) or '(no overrides)'}")
    if report["missing_points"]:
        lines.append(f"{len(report['missing_points'])} point(s) missing: {', '.join(report['missing_points'][:5])}")
    elsewhere = report.get("running_elsewhere") or {}
    if elsewhere:
        key, who = next(iter(elsewhere.items()))
        lines.append(f"{len(elsewhere)} of them running elsewhere (e.g. {key} on {who})")
    if report.get("corrupt_points"):
        lines.append(f"{len(report['corrupt_points'])} corrupt point(s) refused (see the lines above)")
    return "\n".join(lines)
