"""Sweeps: parameter points run as one vectorised batch per job, stored per point, resumable.
A point's key and seed come from its content (never from Hydra's job number), so results survive
reordering, re-splitting and restarts; ``aggregate`` stacks whatever finished into tidy tables."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import itertools
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.model.params import (
    MILITIA_FIELD_NAMES,
    PARAM_BY_NAME,
    Militia,
    make_params,
    model_values,
    params_in_use,
    structure_of,
    used_values,
)
from sim.model.scenario import Scenario
from sim.model.structures import DEFAULT, MECHANISM_BY_NAME
from sim.run import claims, provenance, signals
from sim.run.simulate import batch_runner, chunk_size_for, param_columns, progress_bar, thread_pool
from sim.run.storage import (
    SMALL_PARQUET,
    DiskFull,
    atomic_write_bytes,
    atomic_write_parquet,
    atomic_write_text,
    code_version,
    is_disk_full,
    parquet_bytes,
)
from sim.run.summary import wilson_interval
from sim.run.verify import NOT_STARTED, check_point, check_rows, digest

log = logging.getLogger(__name__)
DAILY_VARS = ("hazard", "tension", "violence", "mobilisation")
QUANTILES = {"q05": 0.05, "q25": 0.25, "q50": 0.5, "q75": 0.75, "q95": 0.95}


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
    # Points of one ``pair`` share their random numbers (common random numbers): their seed comes from the sweep's
    # seed and the pair, not from the point (policies across scenarios pair the policies of each scenario).
    pair: str = ""
    name: str = ""  # a label of its own (a policy's name) instead of the values it changes

    def identity(self) -> dict[str, Any]:
        """What the point is (without replicates): the basis of its seed."""
        return {
            "scenario": self.scenario.name,
            "events": [(e.day, e.kind, sorted((k, str(v)) for k, v in e.data.items())) for e in self.scenario.events],
            "start": str(self.scenario.start),
            "end": str(self.scenario.end),
            "drop_events": sorted(self.drop_events),
            "params": model_values(self.params),  # the parameters in use (and a structure that is not the default)
            "militias": [dataclasses.asdict(m) for m in self.militias],
        }

    @functools.cached_property  # a frozen point: computed once (hashing its identity took ~2 ms a time)
    def seed(self) -> int:
        """Derived from the sweep's seed and the point itself (or its pair): 63 bits of SHA-256."""
        if self.pair:
            return digest({"sweep_seed": self.sweep_seed, "pair": self.pair}, bits=63)
        return digest({"sweep_seed": self.sweep_seed, **self.identity()}, bits=63)

    @functools.cached_property
    def key(self) -> str:
        return format(digest({"seed": self.seed, "replicates": self.replicates, **self.identity()}, bits=64), "016x")

    @property
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
        rows = designs.unit_rows(spec).shape[0]
        block = designs.block_rows(rows, int(design.get("blocks", 1)), int(design.get("block", 0)))
        base_militias = OmegaConf.to_container(cfg.militias, resolve=True)
        sets = designs.design_points(spec, block, base, base_militias)
        if root is not None:
            designs.write_design(root, spec, rows)
    else:
        sets = [(p, militias) for p in expand_grid(base, grid)]
    return [
        SweepPoint(str(cfg.study), scenario, tuple(cfg.drop_events), p, m, int(cfg.replicates), int(cfg.seed))
        for p, m in sets
    ]


def point_dir(root: Path, point: SweepPoint) -> Path:
    return Path(root) / "points" / point.key


def is_done(root: Path, point: SweepPoint) -> bool:
    """A point is finished when its point.json (written last) records its files, and they match it."""
    return check_point(point_dir(root, point), point.replicates) is None


def run_points(
    points: Sequence[SweepPoint],
    root: Path,
    memory_budget_mb: float = 2048,
    chunk_size: int | None = None,
    progress: bool | None = None,
    workers: int | None = None,
    elsewhere: list[SweepPoint] | None = None,
    engine: str = "vector",
) -> list[SweepPoint]:
    """Run the unfinished ``points`` as vectorised batches and store each one; returns those run.
    A point whose files fail their check is recomputed (and a line says why); a point another live process
    has claimed is left to it (added to ``elsewhere``). ``workers`` threads run the batches' blocks."""
    workers = max(1, workers or len(os.sched_getaffinity(0)))
    todo, held = _claim_unfinished(points, root, elsewhere)
    try:
        groups: dict[tuple, list[SweepPoint]] = {}
        for p in todo:  # one array shape per batch
            groups.setdefault((id(p.scenario), p.params.cells_per_militia), []).append(p)
        total = sum(p.replicates for p in todo)
        with progress_bar(total, progress, "sweep points") as bar, signals.between_blocks():
            for group in groups.values():
                _run_group(group, root, memory_budget_mb, chunk_size, workers, bar, held, engine)
    finally:
        for c in held.values():
            c.release()
    return todo


def _claim_unfinished(
    points: Sequence[SweepPoint], root: Path, elsewhere: list[SweepPoint] | None
) -> tuple[list[SweepPoint], dict[str, claims.Claim]]:
    """The points to compute here, each claimed; finished ones skipped, others' live claims respected."""
    todo, held = [], {}
    for p in {p.key: p for p in points}.values():  # a point listed twice is computed once
        folder = point_dir(root, p)
        if check_point(folder, p.replicates) is None:
            continue
        claim = claims.claim(folder)
        if claim is None:
            log.warning(f"point {p.key}: running elsewhere ({claims.holder(folder) or 'just finished'}); skipped here")
            if elsewhere is not None:
                elsewhere.append(p)
            continue
        problem = check_point(folder, p.replicates)  # looked again under the claim: finished meanwhile?
        if problem is None:
            claim.release()
            continue
        if problem != NOT_STARTED:
            log.warning(f"point {p.key}: {problem}; recomputing")
        (folder / "point.json").unlink(missing_ok=True)  # never a record beside files being rewritten
        todo.append(p)
        held[p.key] = claim
    return todo, held


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


def _run_group(group: list[SweepPoint], root: Path, budget: float, chunk_size: int | None, workers: int, bar,
               held: Mapping[str, claims.Claim], engine: str = "vector") -> None:  # fmt: skip
    scenario = group[0].scenario
    run_batch = batch_runner(engine)
    # compiled: one block at a time on all threads (the pool's other threads store finished points meanwhile)
    threads = {"threads": workers} if engine == "compiled" else {}
    rows_per_block = chunk_size or chunk_size_for(group[0].params, len(group[0].militias), budget / workers)
    runs_parts: list[list[dict]] = [[] for _ in group]
    daily = [{v: np.empty((scenario.days, p.replicates)) for v in DAILY_VARS} for p in group]
    remaining = [p.replicates for p in group]

    def run_block(block: list[tuple[int, int, int]]):
        params_rows, militias_rows, seeds, reps = [], [], [], []
        for i, lo, hi in block:
            params_rows += [group[i].params] * (hi - lo)
            militias_rows += [group[i].militias] * (hi - lo)
            seeds.append(np.full(hi - lo, group[i].seed, dtype=np.uint64))
            reps.append(np.arange(lo, hi))
        return run_batch(
            scenario, params_rows, militias_rows, np.concatenate(seeds), np.concatenate(reps),
            keep_daily=True, daily_columns=DAILY_VARS, **threads,
        )  # fmt: skip

    blocks = _blocks(group, rows_per_block)
    # Blocks run on threads (numpy releases the GIL); results are scattered back in block order,
    # and a point is stored as soon as its last replicate is in.
    with thread_pool(workers) as ex:
        for block, res in zip(blocks, ex.map(run_block, blocks), strict=True):
            at = 0
            for i, lo, hi in block:
                sl = slice(at, at + hi - lo)
                runs_parts[i].append({"replicate": np.arange(lo, hi), **{k: v[sl] for k, v in res.runs.items()}})
                for v in DAILY_VARS:
                    daily[i][v][:, lo:hi] = res.daily[v][:, sl]
                at += hi - lo
                remaining[i] -= hi - lo
                if remaining[i] == 0:
                    _store_point(root, group[i], runs_parts[i], daily[i], workers)
                    runs_parts[i], daily[i] = [], {}
                    held[group[i].key].release()
                else:
                    held[group[i].key].refresh()  # a sign of life for processes that wait on this point
            bar.update(at)
            signals.stop_point()  # a cluster task asked to stop: here, with every finished point stored


def _store_point(root: Path, point: SweepPoint, parts: list[dict], daily: dict[str, np.ndarray],
                 workers: int | None = None) -> None:  # fmt: skip
    """Write one point's runs, daily summary and (last) point.json, each atomically."""
    out = point_dir(root, point)
    # The runs table goes straight to Arrow (through pandas, with ~90 constant columns, it cost ~8 ms a point;
    # assigning them one by one ~50 ms); read back it is the same DataFrame, column for column and dtype for dtype.
    import pyarrow as pa

    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    n = len(cols["replicate"])
    constants = {"point_key": point.key, "scenario": point.scenario.name, "seed": point.seed,
                 **param_columns(point.params)}  # fmt: skip
    runs = pa.table({**cols, **{k: pa.array([v] * n) for k, v in constants.items() if k not in cols}})
    days = np.arange(point.scenario.days)
    summary = {"day": days, "date": pd.date_range(point.scenario.start, periods=len(days), freq="D")}
    stacked = np.stack([daily[v] for v in DAILY_VARS])  # (variables, days, replicates)
    qs = np.quantile(stacked, list(QUANTILES.values()), axis=2)  # one call: the same values as one per quantile
    for k, v in enumerate(DAILY_VARS):
        summary[f"{v}_mean"] = daily[v].mean(axis=1)
        for i, name in enumerate(QUANTILES):
            summary[f"{v}_{name}"] = qs[i, k]
    try:
        _write_point(out, point, runs, summary, workers)
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        raise DiskFull(f"error: {os.strerror(exc.errno)} while writing point {point.key} into {out}: the sweep "
                       "stops here; the points finished before it are kept: free space, then run the same command "
                       "again to run only the missing points") from None  # fmt: skip


def _write_point(out: Path, point: SweepPoint, runs: Any, summary: dict, workers: int | None) -> None:
    files = {}
    for name, table in (("runs.parquet", runs), ("daily.parquet", pd.DataFrame({**summary, "point_key": point.key}))):
        data = parquet_bytes(table, **SMALL_PARQUET)
        atomic_write_bytes(out / name, data, sync=False)
        files[name] = hashlib.sha256(data).hexdigest()  # of the bytes written (no second read)
    # The record, written last: rows and content hashes of the files, and what the point is (its key's basis),
    # so resume and aggregation can tell a finished point from a truncated, altered or misplaced one.
    info = {
        "point_key": point.key, "study": point.study, "scenario": point.scenario.name, "label": point.label,
        "drop_events": ",".join(sorted(point.drop_events)), "replicates": point.replicates, "seed": point.seed,
        "sweep_seed": point.sweep_seed, "params": used_values(point.params),
        "structure": structure_of(point.params).as_dict(),
        "militias": [dataclasses.asdict(m) for m in point.militias], "code_version": code_version(),
        "environment": provenance.environment(workers),
        "rows": len(runs), "files": files,
        "identity": json.loads(json.dumps(point.identity(), default=str)),
    }  # fmt: skip
    atomic_write_text(out / "point.json", json.dumps(info, indent=1, default=str))


# ----------------------------------------------------------------------------- jobs


def job_key(points: Sequence[SweepPoint]) -> str:
    return format(digest(sorted(p.key for p in points), bits=64), "016x")


def run_job_points(
    points: Sequence[SweepPoint], root: Path, overrides: Sequence[str] = (), allow_mixed_versions: bool = False,
    **kw: Any,
) -> dict:
    """One Hydra job: refuse to add to points other library versions computed (unless allowed), mark the job
    started, run what is missing, mark it done."""
    provenance.refuse_mixed(root, [p.key for p in points], allow_mixed_versions)
    key = job_key(points)
    marker = Path(root) / "jobs" / f"{key}.json"
    record = {"job_key": key, "points": [p.key for p in points], "overrides": list(overrides)}
    _mark(marker, {**record, "status": "started", "started": time.time()})
    elsewhere: list[SweepPoint] = []
    unique = {p.key: p for p in points}.values()
    try:
        before = sum(is_done(root, p) for p in unique) if signals.in_task() else 0
        ran = run_points(points, root, elsewhere=elsewhere, **kw)
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, a cluster task's stop signal (sim.run.signals)
        done = sum(is_done(root, p) for p in unique)
        exc.progressed, exc.stored = done > before, f"{done} of {len(unique)} points of this job stored in {root}"
        exc.note = (f"{done} of {len({p.key for p in points})} points of this job are stored in {root} (none "
                    "half-written); run the same command again to run only the missing points")  # fmt: skip
        with contextlib.suppress(OSError):
            _mark(marker, {**record, "status": "stopped", "signal": getattr(exc, "signum", None),
                           "points_done": done, "stopped": time.time()})  # fmt: skip
        raise
    except OSError as exc:  # e.g. no room left for a point's folder or claim
        if not is_disk_full(exc):
            raise
        raise DiskFull(f"error: {os.strerror(exc.errno)} in {root} ({exc.filename or 'a point folder'}): the sweep "
                       "stops here; finished points are kept: free space, then run the same command again") from None
    _mark(marker, {**record, "status": "done", "ran": len(ran), "finished": time.time()})
    n = len({p.key for p in points})
    return {"job_key": key, "points": len(points), "ran": len(ran), "skipped": n - len(ran) - len(elsewhere),
            "elsewhere": len(elsewhere)}  # fmt: skip


def _mark(marker: Path, record: dict) -> None:
    try:
        atomic_write_text(marker, json.dumps(record, indent=1))
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        raise DiskFull(f"error: {os.strerror(exc.errno)} while writing {marker}: the sweep stops here; finished "
                       "points are kept: free space, then run the same command again") from None  # fmt: skip


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


def point_row(info: Mapping[str, Any], r: pd.DataFrame) -> dict[str, Any]:
    """One point's row of aggregate/points.parquet: what it is, P(escalation) with its Wilson interval, and
    the mean (and within-point variance) of each outcome over its runs."""
    k, n = int(r["escalated"].sum()), len(r)
    lo, hi = wilson_interval(k, n)
    values = r.assign(any_clash=r["first_clash_day"] >= 0)
    row = {
        "point_key": info["point_key"], "experiment": info["study"], "scenario": info["scenario"],
        "label": info["label"], "drop_events": info["drop_events"],
        **{f"param.{name}": value for name, value in info["params"].items()},
        **{f"structure.{m}": name for m, name in {**DEFAULT.as_dict(), **info.get("structure", {})}.items()},
        **{f"militia.{m['key']}.{f}": m[f] for m in info["militias"] for f in MILITIA_FIELD_NAMES},
        "replicates": n, "escalated": k, "ci_low": float(lo), "ci_high": float(hi), "seed": info["seed"],
    }  # fmt: skip
    for column, source in POINT_OUTCOMES.items():
        x = values[source].astype(float)
        row[column] = float(x.mean())
        row[f"var_{column}"] = float(x.var(ddof=1)) if n > 1 else float("nan")
    return row


def aggregate(root: Path, write: bool = True, keep_rows: bool = True, allow_mixed: bool = False) -> dict[str, Any]:
    """Stack every finished, verified point under ``root`` into aggregate/points, runs and daily tables.

    Works with failed or unfinished jobs: it reports them and aggregates what is there. A point whose files
    fail their check (sim.run.verify) is refused, reported in ``corrupt_points`` and never aggregated. The
    runs and daily tables are written point by point as they are read (a design of millions of runs, or of
    thousands of daily series, is never held whole); ``keep_rows`` also returns them in ``report["tables"]``.
    Points computed with different library versions (sim.run.provenance) are refused whole, nothing written,
    unless ``allow_mixed``: ``report["mixed_versions"]`` says which."""
    from sim.run.storage import ParquetStream

    root = Path(root)
    mixed = provenance.mixed(root)
    if mixed and not allow_mixed:
        return {"n_points": 0, "n_jobs": 0, "unfinished_jobs": [], "missing_points": [], "running_elsewhere": {},
                "corrupt_points": [], "unreadable_jobs": [], "mixed_versions": mixed}  # fmt: skip
    infos, corrupt, rows, kept, daily = [], [], [], [], []
    stream = ParquetStream(root / "aggregate" / "runs.parquet", row_group_rows=200_000) if write else None
    daily_stream = ParquetStream(root / "aggregate" / "daily.parquet", row_group_rows=200_000) if write else None
    try:
        for folder in sorted(p for p in (root / "points").glob("*") if p.is_dir()):
            got: dict[str, Any] = {}
            problem = check_point(folder, read=got)
            if problem is not None and problem.startswith((NOT_STARTED, "unfinished")):
                continue  # not finished: reported as missing through its job
            if problem is None:
                info = got["point.json"]  # each file is read once: checked, then parsed from the same bytes
                try:
                    r = pd.read_parquet(io.BytesIO(got["runs.parquet"]))
                    problem = check_rows(r, folder.name, info["rows"])
                except (OSError, ValueError) as exc:
                    problem = f"runs.parquet is not readable ({type(exc).__name__})"
            if problem is not None:
                corrupt.append({"point_key": folder.name, "problem": problem})
                continue
            infos.append(info)
            rows.append(point_row(info, r))
            d = pd.read_parquet(io.BytesIO(got["daily.parquet"])).assign(scenario=info["scenario"], label=info["label"])
            if write:
                stream.write(r)
                daily_stream.write(d)
            if keep_rows or not write:
                kept.append(r)
                daily.append(d)
    except BaseException:
        if write:
            stream.abort()
            daily_stream.abort()
        raise
    jobs, bad_jobs = [], []
    for path in sorted((root / "jobs").glob("*.json")):
        try:
            jobs.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            bad_jobs.append(path.name)
    finished = {i["point_key"] for i in infos}
    refused = {c["point_key"] for c in corrupt}
    unfinished_jobs = [j for j in jobs if j.get("status") != "done"]
    missing = sorted({k for j in jobs for k in j.get("points", [])} - finished - refused)
    report = {
        "n_points": len(infos),
        "n_jobs": len(jobs),
        "unfinished_jobs": unfinished_jobs,
        "missing_points": missing,
        "running_elsewhere": {k: h for k in missing if (h := claims.holder(root / "points" / k))},
        "corrupt_points": corrupt,
        "unreadable_jobs": bad_jobs,
        "mixed_versions": mixed,
    }
    if not infos:
        if write:
            stream.abort()
            daily_stream.abort()
        return report
    out = {"points": pd.DataFrame(rows)}
    if kept:
        out["runs"] = pd.concat(kept, ignore_index=True)
        out["daily"] = pd.concat(daily, ignore_index=True)
    if write:
        stream.close()
        daily_stream.close()
        atomic_write_parquet(out["points"], root / "aggregate" / "points.parquet")
        atomic_write_text(root / "aggregate" / "report.json", json.dumps(report, indent=1, default=str))
    report["tables"] = out
    return report


def problems(report: Mapping[str, Any]) -> list[str]:
    """One line per point that was refused (or job marker that could not be read)."""
    lines = [f"point {c['point_key']}: {c['problem']}; not aggregated (rerun the sweep to recompute it)"
             for c in report.get("corrupt_points", [])]  # fmt: skip
    lines += [f"jobs/{name} is not readable JSON; its points may be missing from the report"
              for name in report.get("unreadable_jobs", [])]  # fmt: skip
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
