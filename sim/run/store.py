"""The sweep store: each job's points in one Parquet block (a row per point: what it is, its runs and its daily
summary as lists), described by the job's manifest; a point stays the unit of resume and of verification.

A sweep folder holds ``sweep.json`` (the settings its points share), ``jobs/<job>.json`` (each job's manifest:
its points, and for those in its block each one's content and configuration hashes, the block's SHA-256, the
library versions) and ``blocks/<job>.parquet``. While a job runs, its finished points go to
``blocks/<job>.journal`` (an Arrow IPC stream, appended a batch of points at a time, so a job killed part-way
keeps what it finished); when the job ends the journal becomes the block and the manifest says done."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.run import claims, provenance
from sim.run.storage import (
    _publish,
    atomic_write_text,
    code_version,
    is_disk_full,
    remove_stale_tmp,
    tmp_name,
)

if TYPE_CHECKING:
    import pyarrow as pa

VERSION = 2  # 1: one folder per point (points/<key>/runs.parquet, daily.parquet, point.json)
SETTINGS = "sweep.json"
JOBS, BLOCKS = "jobs", "blocks"
HASH_CHARS = 32  # 128 bits of SHA-256: content and configuration hashes
RUNS_PREFIX, DAILY_PREFIX = "runs.", "daily."
DAILY_VARS = ("hazard", "tension", "violence", "mobilisation")
QUANTILES = {"q05": 0.05, "q25": 0.25, "q50": 0.5, "q75": 0.75, "q95": 0.95}
DAILY_COLUMNS = tuple(f"{v}_{s}" for v in DAILY_VARS for s in ("mean", *QUANTILES))
SERIES_PREFIX = "series."
# What a sweep keeps of each point's daily series (``sweep_daily``): the variables the engine must report, and
# whether every replicate's series is kept beside the summary. ``hazard`` is what the analyses and figures read
# (sim.analysis.sweep_figures: the hazard's mean and quantiles) with the share of runs escalated by each day.
DAILY_MODES = {"hazard": ("hazard",), "summary": DAILY_VARS, "full": DAILY_VARS, "none": ()}
# the columns that say what a point is and how it was stored, before its parameters and results
HEAD = ("point_key", "config_hash", "content_hash", "identity", "study", "scenario", "label", "drop_events", "seed",
        "sweep_seed", "replicates", "start", "used", "structure", "daily")  # fmt: skip
CONVERT = "python -m sim.aggregate {root} --convert"
# A block's Parquet options: zstd, and neither dictionaries nor statistics for its lists of results (measured: a
# third less CPU to write than the defaults at about the same size).
ROW_GROUP_POINTS = 1000  # points per row group of a block: a reader holds one group's lists at a time
BLOCK_PARQUET = {"compression": "zstd", "use_dictionary": ["point_key", "study", "scenario", "label", "drop_events"],
                 "write_statistics": False}


class StoreError(Exception):
    """A sweep folder this code cannot use as it is (one line: what, and how to go on)."""


# ----------------------------------------------------------------------------- a finished point


@dataclasses.dataclass
class Finished:
    """A point whose replicates are all computed: its runs (outcome -> (replicates,)) and daily series
    (variable -> (days, replicates)) as the engine gave them, or (a converted point) its daily ``summary``."""

    point: Any  # sim.run.sweep.SweepPoint, or what stands for one (sim.run.legacy)
    runs: dict[str, np.ndarray]
    daily: dict[str, np.ndarray]
    summary: dict[str, np.ndarray] | None = None


def daily_summaries(finished: Sequence[Finished]) -> list[dict[str, np.ndarray]]:
    """Each point's daily summary over its replicates (mean and quantiles per day of each variable), with exactly
    the values ``np.mean`` and ``np.quantile`` (linear) give, from one sort of the points that share a shape
    (np.quantile's own partition costs several times a sort on these sizes)."""
    out: list[dict[str, np.ndarray]] = [{} for _ in finished]
    shapes: dict[tuple, list[int]] = {}
    for i, f in enumerate(finished):
        variables = tuple(v for v in DAILY_VARS if v in f.daily)
        if variables:
            shapes.setdefault((variables, f.daily[variables[0]].shape), []).append(i)
    for (variables, _), idx in shapes.items():
        stacked = np.stack([np.stack([finished[i].daily[v] for v in variables]) for i in idx])  # (p, v, days, r)
        means = stacked.mean(axis=3)
        qs = quantiles(np.sort(stacked, axis=3), np.array(list(QUANTILES.values())))  # (q, p, v, days)
        for n, i in enumerate(idx):
            for k, v in enumerate(variables):
                out[i][f"{v}_mean"] = means[n, k]
                for j, name in enumerate(QUANTILES):
                    out[i][f"{v}_{name}"] = qs[j, n, k]
            days = stacked.shape[2]
            out[i]["p_escalated"] = escalated_by_day(finished[i].runs["escalation_day"], days)
    return out


def escalated_by_day(escalation_day: np.ndarray, days: int) -> np.ndarray:
    """The share of a point's runs escalated by each day (escalation_day -1: never)."""
    d = np.asarray(escalation_day)
    counts = np.bincount(d[(d >= 0) & (d < days)], minlength=days)[:days]
    return np.cumsum(counts) / len(d)


def quantiles(ordered: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.quantile(x, q, axis=-1)`` (linear, no NaN) of ``ordered``, x sorted along its last axis: the same order
    statistics and the same interpolation arithmetic as numpy's, so the same bits (tests/test_store.py)."""
    n = ordered.shape[-1]
    virtual = (n - 1) * q
    below = np.floor(virtual)
    gamma = (virtual - below).reshape(-1, *([1] * (ordered.ndim - 1)))
    lo = np.moveaxis(ordered[..., below.astype(np.intp)], -1, 0)
    hi = np.moveaxis(ordered[..., np.minimum(below + 1, n - 1).astype(np.intp)], -1, 0)
    diff = hi - lo  # numpy's _lerp: from below for t < 0.5, from above for t >= 0.5
    out = lo + diff * gamma
    np.subtract(hi, diff * (1 - gamma), out=out, where=np.broadcast_to(gamma >= 0.5, out.shape))
    return out


def content_hash(runs: Mapping[str, np.ndarray], daily: Mapping[str, np.ndarray]) -> str:
    """SHA-256 (first 128 bits) of a point's stored values, column after column in order: what a reader recomputes
    from the block to tell an intact point from a damaged one."""
    h = hashlib.sha256()
    for values in (*runs.values(), *daily.values()):
        h.update(np.ascontiguousarray(values).view(np.uint8))
    return h.hexdigest()[:HASH_CHARS]


def rows(finished: Sequence[Finished]) -> pa.Table:
    """The block rows of finished points (one row each)."""
    import pyarrow as pa

    from sim.model.params import MILITIA_FIELD_NAMES

    computed = iter(daily_summaries([f for f in finished if f.summary is None]))
    summaries = [f.summary if f.summary is not None else next(computed) for f in finished]
    cols: dict[str, Any] = {k: [] for k in HEAD}
    for f, summary in zip(finished, summaries, strict=True):
        p = f.point
        cols["point_key"].append(p.key)
        cols["config_hash"].append(p.config_hash)
        series = {v: np.ascontiguousarray(f.daily[v].T) for v in DAILY_VARS} if p.daily == "full" else {}
        cols["content_hash"].append(content_hash(f.runs, {**summary, **series}))
        cols["identity"].append(p.identity_text)
        cols["study"].append(p.study)
        cols["scenario"].append(p.scenario.name)
        cols["label"].append(p.label)
        cols["drop_events"].append(",".join(sorted(p.drop_events)))
        cols["seed"].append(p.seed)
        cols["sweep_seed"].append(p.sweep_seed)
        cols["replicates"].append(p.replicates)
        cols["start"].append(p.scenario.start)
        cols["used"].append(json.dumps(p.used_params()))  # the points table's parameters (those in use)
        cols["structure"].append(json.dumps(p.structure_names()))
        cols["daily"].append(p.daily)
    arrays = {k: pa.array(v, type=pa.date32() if k == "start" else None) for k, v in cols.items()}
    constants = [f.point.run_columns() for f in finished]  # the runs table's param.* and structure.* columns
    for name in constants[0]:
        arrays[name] = pa.array([c[name] for c in constants])
    militias = [[_fields(m) for m in f.point.militias] for f in finished]
    for j, m in enumerate(militias[0]):
        for field in MILITIA_FIELD_NAMES:
            arrays[f"militia.{m['key']}.{field}"] = pa.array([float(ms[j][field]) for ms in militias])
    for name in finished[0].runs:
        arrays[RUNS_PREFIX + name] = _lists([f.runs[name] for f in finished])
    for name in summaries[0]:
        arrays[DAILY_PREFIX + name] = _lists([s[name] for s in summaries])
    if finished[0].point.daily == "full":  # every replicate's series, replicate after replicate
        for v in DAILY_VARS:
            arrays[SERIES_PREFIX + v] = _lists([np.ascontiguousarray(f.daily[v].T).reshape(-1) for f in finished])
    return pa.table(arrays)


def _fields(obj: Any) -> dict[str, Any]:
    """A flat dataclass's (or a mapping's) fields: what dataclasses.asdict gives, without its deep copies."""
    if dataclasses.is_dataclass(obj):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    return dict(obj)


def _lists(parts: Sequence[np.ndarray]) -> pa.Array:
    import pyarrow as pa

    offsets = np.zeros(len(parts) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([len(a) for a in parts])
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(np.concatenate(parts)))


def _values(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A list column's flat values and offsets as numpy."""
    import pyarrow as pa

    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    offsets = numpy_of(arr.offsets)
    flat = numpy_of(arr.values)
    return flat[offsets[0] : offsets[-1]], offsets - offsets[0]


def numpy_of(values: pa.Array) -> np.ndarray:
    """A flat Arrow array of numbers or yes/no values as numpy, without pandas (which pyarrow's own conversion
    of a boolean array would load: sim.status stays light)."""
    import pyarrow as pa

    if pa.types.is_boolean(values.type):
        values = values.cast(pa.uint8())
        return np.frombuffer(values.buffers()[1], np.uint8, len(values), values.offset).view(np.bool_)
    if values.null_count == 0 and (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        return values.to_numpy(zero_copy_only=True)  # the other path goes through pandas
    return values.to_numpy(zero_copy_only=False)


def recomputed_hashes(table: pa.Table) -> list[str]:
    """Each row's content hash recomputed from its stored values: equal to the recorded one for an intact point.
    When the points have the same lengths (the usual case), each point's bytes are laid side by side in one
    matrix, a row per point, and hashed once each."""
    cols = [_values(table.column(c)) for c in table.column_names if c.startswith((RUNS_PREFIX, DAILY_PREFIX,
                                                                                    SERIES_PREFIX))]  # fmt: skip
    n = table.num_rows
    if n and all(len(set(np.diff(off).tolist())) == 1 for _, off in cols):
        parts = [np.ascontiguousarray(flat).view(np.uint8).reshape(n, -1) for flat, _ in cols]
        matrix = np.concatenate(parts, axis=1) if parts else np.zeros((n, 0), np.uint8)
        return [hashlib.sha256(row).hexdigest()[:HASH_CHARS] for row in matrix]
    out = []
    for i in range(n):
        h = hashlib.sha256()
        for flat, off in cols:
            h.update(np.ascontiguousarray(flat[off[i] : off[i + 1]]).view(np.uint8))
        out.append(h.hexdigest()[:HASH_CHARS])
    return out


# ----------------------------------------------------------------------------- the sweep's settings


def settings_of(point: Any) -> dict[str, Any]:
    """What every point of one sweep shares and its coordinates do not show: two points that differ only in
    these would be the same coordinates twice in the points table."""
    return {"study": point.study, "seed": int(point.sweep_seed), "replicates": int(point.replicates),
            "daily": point.daily}


def check_settings(root: Path, settings: Mapping[str, Any], write: bool = True) -> None:
    """Refuse (StoreError, one line naming both values) a sweep folder that holds another sweep's points; record
    the settings in a new folder (``write``)."""
    path = Path(root) / SETTINGS
    try:
        recorded = json.loads(path.read_text())
    except FileNotFoundError:
        recorded = None
    except (OSError, ValueError):
        raise StoreError(f"{path} is not readable JSON: this folder's settings cannot be checked") from None
    if recorded is not None:
        theirs = recorded.get("settings", {}) if isinstance(recorded, dict) else {}
        diff = [f"{k}={theirs.get(k)!r} there, {k}={v!r} here" for k, v in settings.items() if theirs.get(k) != v]
        if diff:
            raise StoreError(f"{root} holds another sweep ({'; '.join(diff)}): use a new hydra.sweep.dir, or the "
                             "same settings to resume that one")  # fmt: skip
        return
    if write:
        record = {"store": VERSION, "settings": dict(settings), "created": time.strftime("%Y-%m-%d %H:%M:%S")}
        _create_once(path, json.dumps(record, indent=1))
        check_settings(root, settings, write=False)  # another job may have written it first: the same?


def _create_once(path: Path, text: str) -> None:
    """Write ``path`` if it does not exist yet (atomically; the first of several writers wins)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_name(path)
    tmp.write_text(text)
    try:
        os.link(tmp, path)  # fails if the file exists: never replaces another writer's record
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


# ----------------------------------------------------------------------------- manifests


def manifest_path(root: Path, job: str) -> Path:
    return Path(root) / JOBS / f"{job}.json"


def block_path(root: Path, job: str) -> Path:
    return Path(root) / BLOCKS / f"{job}.parquet"


def journal_path(root: Path, job: str) -> Path:
    return Path(root) / BLOCKS / f"{job}.journal"


def read_manifest(path: Path) -> dict[str, Any]:
    """A job's manifest; raises StoreError saying why it cannot be used."""
    try:
        doc = json.loads(Path(path).read_text())
    except OSError as exc:
        raise StoreError(f"{path.name} is not readable ({exc.strerror or type(exc).__name__})") from None
    except ValueError:
        raise StoreError(f"{path.name} is not readable JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("points"), list):
        raise StoreError(f"{path.name} is not a job manifest")
    if doc.get("store") != VERSION:
        raise StoreError(f"{path.name} was written by the per-point store (version 1): convert the folder with "
                         + CONVERT.format(root=Path(path).parent.parent))  # fmt: skip
    if doc.get("job_key") != Path(path).stem:
        raise StoreError(f"{path.name} is the manifest of job {doc.get('job_key')}, not of this job")
    return doc


def write_manifest(root: Path, doc: Mapping[str, Any]) -> None:
    atomic_write_text(manifest_path(root, doc["job_key"]), json.dumps(doc, separators=(",", ":")))


# ----------------------------------------------------------------------------- checking a block


@dataclasses.dataclass
class BlockCheck:
    """What one job's manifest and block vouch for: ``done`` (point key -> row in the block), ``damaged`` (point
    key -> what is wrong), ``problem`` (the manifest or block as a whole, if it cannot be used at all)."""

    job: str
    manifest: dict[str, Any] | None
    done: dict[str, int] = dataclasses.field(default_factory=dict)
    damaged: dict[str, str] = dataclasses.field(default_factory=dict)
    problem: str | None = None
    table: Any = None  # the block's rows, when read (aggregation)


def sweep_settings(root: Path) -> dict[str, Any] | None:
    """The settings a sweep folder records (sweep.json), or None."""
    try:
        doc = json.loads((Path(root) / SETTINGS).read_text())
    except (OSError, ValueError):
        return None
    return doc.get("settings") if isinstance(doc, dict) and isinstance(doc.get("settings"), dict) else None


def foreign(row_settings: Mapping[str, Any], settings: Mapping[str, Any] | None) -> str | None:
    """Why a point with ``row_settings`` does not belong in a sweep with ``settings`` (None if it does)."""
    if not settings:
        return None
    diff = [f"{k}={row_settings.get(k)!r}, not {v!r}" for k, v in settings.items() if row_settings.get(k) != v]
    return f"it belongs to another sweep ({'; '.join(diff)})" if diff else None


def check_block(root: Path, job: str, manifest: dict[str, Any] | None = None, read: bool = False,
                settings: Mapping[str, Any] | None = None) -> BlockCheck:  # fmt: skip
    """Check job ``job``'s block against its manifest: the file's SHA-256; each point's key against its
    configuration hash and that hash against the identity stored with it; each point's content hash recomputed
    from its values (a damaged block keeps its intact points); each point against the sweep's settings (a point
    copied in from another sweep is foreign). The same check for sim.status, the aggregation and a resuming
    job. ``read``: keep the rows for the caller; ``settings``: the sweep's (default: its sweep.json)."""
    import pyarrow.parquet as pq

    root = Path(root)
    settings = sweep_settings(root) if settings is None else settings
    if manifest is None:
        try:
            manifest = read_manifest(manifest_path(root, job))
        except StoreError as exc:
            return BlockCheck(job, None, problem=str(exc))
    check = BlockCheck(job, manifest)
    block = manifest.get("block")
    entries = manifest.get("entries") or {}
    if not block:
        return check
    path = block_path(root, job)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        check.damaged = dict.fromkeys(entries, f"its block {path.name} is missing")
        return check
    except OSError as exc:
        check.damaged = dict.fromkeys(entries, f"its block {path.name} is not readable ({exc.strerror})")
        return check
    intact = hashlib.sha256(data).hexdigest() == block.get("sha256")
    import pyarrow as pa

    try:
        table = pq.ParquetFile(pa.BufferReader(data)).read()  # (read_table would load pandas, via pyarrow.dataset)
    except (OSError, ValueError, pa.ArrowException) as exc:
        why = "truncated, altered or replaced" if not intact else f"not readable ({type(exc).__name__})"
        check.damaged = dict.fromkeys(entries, f"its block {path.name} is {why}")
        return check
    keys = table.column("point_key").to_pylist()
    recorded = table.column("content_hash").to_pylist()
    configs = table.column("config_hash").to_pylist()
    identities = table.column("identity").to_pylist()
    actual = recomputed_hashes(table)  # always: a block rewritten with its file hash updated still shows
    belongs = [foreign({"study": st, "seed": sd, "replicates": rp, "daily": dm}, settings) for st, sd, rp, dm in
               zip(table.column("study").to_pylist(), table.column("sweep_seed").to_pylist(),
                   table.column("replicates").to_pylist(), table.column("daily").to_pylist(), strict=True)]
    seen: set[str] = set()
    for i, (key, content, conf, ident, now) in enumerate(zip(keys, recorded, configs, identities, actual,
                                                             strict=True)):  # fmt: skip
        entry = entries.get(key)
        if entry is None:
            check.damaged[key] = f"its row in {path.name} is not in the manifest {job}.json (a foreign row)"
        elif key in seen:
            check.damaged[key] = f"{path.name} holds it twice"
        elif hashlib.sha256(ident.encode()).hexdigest()[:HASH_CHARS] != conf or conf[:16] != key:
            check.damaged[key] = "its stored identity does not give its key (edited, or another point's)"
        elif belongs[i]:
            check.damaged[key] = belongs[i]
        elif entry != [content, conf]:
            check.damaged[key] = f"its hashes differ from the manifest {job}.json"
        elif now != content:
            check.damaged[key] = f"its values in {path.name} differ from their record (damaged)"
        else:
            check.done[key] = i
        seen.add(key)
    for key in entries:
        if key not in seen:
            check.damaged[key] = f"it is in the manifest {job}.json but not in {path.name}"
    for key in list(check.damaged):
        check.done.pop(key, None)
    if read:
        check.table = table
    return check


def read_journal(path: Path, skip: set[str] | frozenset[str] = frozenset(),
                 settings: Mapping[str, Any] | None = None) -> tuple[Any, dict[str, str]]:  # fmt: skip
    """The verified rows of a journal (a job running, stopped or killed part-way): each point's content hash
    recomputed and its identity checked, as for a block; a journal cut short by a kill yields the batches before
    the cut. Returns (a table of the good rows or None, point key -> what is wrong with a bad one)."""
    import pyarrow as pa

    batches, damaged = [], {}
    try:
        with pa.OSFile(str(path), "rb") as fh:
            reader = pa.ipc.open_stream(fh)
            while True:
                try:
                    batches.append(reader.read_next_batch())
                except StopIteration:
                    break
    except (OSError, pa.ArrowException):
        pass  # cut short (killed while writing), or being written now: the batches read before count
    good, seen = [], set(skip)
    for batch in batches:
        table = pa.Table.from_batches([batch])
        keep = []
        for i, (key, content, conf, ident, now) in enumerate(zip(
                table.column("point_key").to_pylist(), table.column("content_hash").to_pylist(),
                table.column("config_hash").to_pylist(), table.column("identity").to_pylist(),
                recomputed_hashes(table), strict=True)):  # fmt: skip
            if key in seen:
                continue
            row = {"study": table.column("study")[i].as_py(), "seed": table.column("sweep_seed")[i].as_py(),
                   "replicates": table.column("replicates")[i].as_py(), "daily": table.column("daily")[i].as_py()}
            if (why := foreign(row, settings)) is not None:
                damaged[key] = why
                continue
            if now == content and hashlib.sha256(ident.encode()).hexdigest()[:HASH_CHARS] == conf and conf[:16] == key:
                keep.append(i)
                seen.add(key)
                damaged.pop(key, None)
            else:
                damaged[key] = f"its copy in {Path(path).name} is damaged"
        if keep:
            good.append(table.take(keep))
    if not good:
        return None, damaged
    schema = good[0].schema
    return pa.concat_tables([g.cast(schema) for g in good]), damaged


def job_manifests(root: Path) -> Iterator[tuple[str, dict[str, Any] | None, str | None]]:
    """(job key, manifest or None, why not) for every jobs/*.json of a sweep folder."""
    for path in sorted((Path(root) / JOBS).glob("*.json")):
        try:
            yield path.stem, read_manifest(path), None
        except StoreError as exc:
            yield path.stem, None, str(exc)


def legacy(root: Path) -> bool:
    """Whether ``root`` holds points of the per-point store (version 1)."""
    points = Path(root) / "points"
    return points.is_dir() and any(points.glob("*/point.json"))


def refuse_legacy(root: Path) -> None:
    if legacy(root):
        raise StoreError(f"{root} holds points in the per-point layout of an earlier version (points/<key>/): "
                         f"convert it once with {CONVERT.format(root=root)}, then resume or aggregate it")  # fmt: skip


# ----------------------------------------------------------------------------- a job's store while it runs


class Job:
    """One job's points in the store: which are done (here, in the job's own block or journal, or in another job's
    block), the journal that finished points are appended to, and the manifest. Claimed while open, so that two
    processes running the same job on one folder compute it once."""

    def __init__(self, root: Path, key: str, points: Sequence[Any], overrides: Sequence[str]) -> None:
        self.root, self.key, self.points, self.overrides = Path(root), key, list(points), list(overrides)
        self.claim: claims.Claim | None = None
        self.stored: dict[str, list[str]] = {}  # in this job's block or journal: key -> [content, config]
        self.elsewhere: dict[str, str] = {}  # key -> the job whose block holds it
        self.carried: list[Any] = []  # verified rows of the old block or journal, to go into the new one
        self.writer: Any = None
        self.sink: Any = None
        self.ran = 0
        self.kept_block: dict[str, Any] | None = None  # the job's own block, whole and verified: kept as it is

    # ------------------------------------------------------------- opening: what is done already
    def open(self, log) -> bool:
        """Claim the job and find what is done; False if another live process holds the job."""
        path = self.root / BLOCKS / f"{self.key}.claim"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.claim = claims.claim_file(path)
        if self.claim is None:
            return False
        for folder in (self.root, self.root / JOBS, self.root / BLOCKS):  # a killed writer's leftovers (joblib's)
            remove_stale_tmp(folder)
        wanted = {p.key for p in self.points}
        problems: dict[str, str] = {}
        own = None
        if manifest_path(self.root, self.key).exists():
            own = check_block(self.root, self.key, read=True)
            if own.problem:
                problems.update(dict.fromkeys(wanted, own.problem))
            problems.update(own.damaged)
            if own.done:
                self.carried.append(own.table.take(sorted(own.done.values())))
                self.stored.update({k: own.manifest["entries"][k] for k in own.done})
            entries = (own.manifest or {}).get("entries") or {}
            if own.manifest and own.manifest.get("block") and not own.damaged and set(own.done) == set(entries):
                self.kept_block = own.manifest["block"]
        recovered = self._recover_journal(problems)
        self.stored.update(recovered)
        missing = wanted - set(self.stored)
        if missing:  # computed by another job (a grid extended, a design re-split, a converted folder)?
            for job, manifest, _ in job_manifests(self.root):
                if job == self.key or manifest is None or not missing & set(manifest.get("entries") or {}):
                    continue
                found = check_block(self.root, job, manifest)
                for k in missing & set(found.done):
                    self.elsewhere[k] = job
                missing -= set(found.done)
                if not missing:
                    break
        for k, why in problems.items():
            if k in wanted and k not in self.stored and k not in self.elsewhere:
                log(f"point {k}: {why}; recomputing")
        return True

    def _recover_journal(self, problems: dict[str, str]) -> dict[str, list[str]]:
        """The verified points of a journal left by a run of this job that was stopped or killed."""
        path = journal_path(self.root, self.key)
        if not path.exists():
            return {}
        table, damaged = read_journal(path, skip=set(self.stored), settings=sweep_settings(self.root))
        for key, why in damaged.items():
            problems.setdefault(key, why)
        if table is None:
            return {}
        self.carried.append(table)
        return {k: [c, f] for k, c, f in zip(table.column("point_key").to_pylist(),
                                             table.column("content_hash").to_pylist(),
                                             table.column("config_hash").to_pylist(), strict=True)}  # fmt: skip

    @property
    def todo(self) -> list[Any]:
        done = set(self.stored) | set(self.elsewhere)
        return [p for p in {p.key: p for p in self.points}.values() if p.key not in done]

    # ------------------------------------------------------------- running: the journal and the manifest
    def mark(self, status: str, **extra: Any) -> None:
        doc = {"store": VERSION, "job_key": self.key, "status": status, "points": [p.key for p in self.points],
               "overrides": self.overrides, "time": time.time(), **extra}  # fmt: skip
        old = self._old_manifest()
        for k in ("block", "entries", "started", "elsewhere", "environment", "code_version"):
            if k not in doc and old.get(k) is not None:
                doc[k] = old[k]
        write_manifest(self.root, doc)

    def _old_manifest(self) -> dict[str, Any]:
        try:
            return read_manifest(manifest_path(self.root, self.key))
        except StoreError:
            return {}

    def add(self, finished: Sequence[Finished]) -> None:
        """Append finished points to the journal, flushed to disk: from here a kill does not lose them."""
        if not finished:
            return
        table = rows(finished)
        self._append(table)
        for key, content, conf in zip(table.column("point_key").to_pylist(), table.column("content_hash").to_pylist(),
                                      table.column("config_hash").to_pylist(), strict=True):  # fmt: skip
            self.stored[key] = [content, conf]
        self.ran += len(finished)

    def _append(self, table: pa.Table) -> None:
        import pyarrow as pa

        if self.writer is None:
            path = journal_path(self.root, self.key)
            path.parent.mkdir(parents=True, exist_ok=True)
            # a fresh journal, holding first what the old one (or the old block) vouched for
            tmp = tmp_name(path)
            self.sink = pa.OSFile(str(tmp), "wb")
            self.writer = pa.ipc.new_stream(self.sink, table.schema)
            for part in self.carried:
                self.writer.write_table(part.select(table.schema.names).cast(table.schema))
            self._flush()
            os.replace(tmp, path)
        self.writer.write_table(table)
        self._flush()

    def _flush(self) -> None:
        self.sink.flush()
        os.fsync(self.sink.fileno())

    def finish(self) -> dict[str, Any]:
        """The journal (and what was carried over) as the job's block, then the manifest: done. The block is
        written a row group at a time from the journal, so a job's memory does not grow with its points."""
        block = None
        if self.writer is None and self.kept_block is not None:  # nothing new, nothing damaged: as it was
            block = self.kept_block
        else:
            if self.writer is not None:
                self.writer.close()
                self.sink.close()
                self.writer = None
                sources = self._journal_tables()
            else:
                sources = iter(self.carried)
            block = self._write_block(sources)
        env = provenance.environment()
        self.mark("done", block=block, entries=dict(sorted(self.stored.items())), elsewhere=self.elsewhere,
                  ran=self.ran, finished=time.time(), environment=env, code_version=code_version())  # fmt: skip
        journal_path(self.root, self.key).unlink(missing_ok=True)
        return {"block": block}

    def _journal_tables(self) -> Iterator[Any]:
        import pyarrow as pa

        with pa.memory_map(str(journal_path(self.root, self.key))) as src:
            for batch in pa.ipc.open_stream(src):
                yield pa.Table.from_batches([batch])

    def _write_block(self, tables: Iterator[Any]) -> dict[str, Any] | None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = block_path(self.root, self.key)
        tmp = tmp_name(path)
        writer, schema, buffer, rows = None, None, [], 0

        def flush() -> None:
            nonlocal writer
            if not buffer:
                return
            table = pa.concat_tables(buffer)
            if writer is None:
                writer = pq.ParquetWriter(str(tmp), table.schema, **BLOCK_PARQUET)
            writer.write_table(table, row_group_size=table.num_rows)
            buffer.clear()

        try:
            for table in tables:
                schema = schema or table.schema
                buffer.append(table.select(schema.names).cast(schema))
                rows += table.num_rows
                if sum(t.num_rows for t in buffer) >= ROW_GROUP_POINTS:
                    flush()
            flush()
            if writer is None:
                return None
            writer.close()
            h = hashlib.sha256()
            with open(tmp, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            size = tmp.stat().st_size
            _publish(str(tmp), path)
        except BaseException:
            if writer is not None:
                with contextlib.suppress(Exception):
                    writer.close()
            tmp.unlink(missing_ok=True)
            raise
        return {"file": f"{BLOCKS}/{self.key}.parquet", "sha256": h.hexdigest(), "bytes": size, "rows": rows}

    def abort(self) -> None:
        """Stopped or failed: close the journal (what it holds stays, for the next run)."""
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.writer.close()
            with contextlib.suppress(Exception):
                self.sink.close()
            self.writer = None

    def release(self) -> None:
        if self.claim is not None:
            self.claim.release()
            self.claim = None

    def refresh(self) -> None:
        if self.claim is not None:
            self.claim.refresh()


def disk_full_line(exc: OSError, what: str, where: Path) -> str:
    return (f"error: {os.strerror(exc.errno)} while writing {what} into {where}: the sweep stops here; the points "
            "finished before it are kept: free space, then run the same command again to run only the missing points")


def is_full(exc: BaseException) -> bool:
    return is_disk_full(exc)


def iter_entries(manifests: Iterable[dict[str, Any]]) -> Iterator[str]:
    for m in manifests:
        yield from m.get("points", [])
