"""A stored sweep point checked against its record: point.json holds the row count, a SHA-256 of each file and
what the point is, so a missing, truncated, altered or misplaced file is found before it is trusted."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

POINT_FILES = ("runs.parquet", "daily.parquet")
NOT_STARTED = "not computed"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def digest(obj: Any, bits: int) -> int:
    """The first ``bits`` bits of the SHA-256 of ``obj`` as canonical JSON: points' keys and seeds, jobs' keys."""
    h = hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).digest()
    return int.from_bytes(h[:8], "big") >> (64 - bits)


def key_of(identity: dict[str, Any], seed: int, replicates: int) -> str:
    """A point's key from what it is (sim.run.sweep.SweepPoint.key, recomputed from a point.json)."""
    return format(digest({"seed": seed, "replicates": replicates, **identity}, bits=64), "016x")


def check_point(folder: Path, replicates: int | None = None, read: dict[str, Any] | None = None) -> str | None:
    """None when the point in ``folder`` is complete and every file matches its record; otherwise what is
    wrong, in a few words (NOT_STARTED when nothing finished there). ``replicates``: what the point must hold.
    ``read``, if given, receives what was read: "point.json" (the record) and each file's bytes, so that a
    reader (the aggregation) parses the very bytes that were checked and reads each file once."""
    folder = Path(folder)
    info_path = folder / "point.json"
    if not info_path.exists():
        leftovers = [p.name for p in folder.glob("*.parquet")] if folder.is_dir() else []
        return f"unfinished ({', '.join(sorted(leftovers))} without point.json)" if leftovers else NOT_STARTED
    try:
        info = json.loads(info_path.read_text())
    except (OSError, ValueError):
        return "point.json is not readable JSON"
    if not isinstance(info, dict):
        return "point.json is not a point record"
    if info.get("point_key") != folder.name:
        return f"point.json belongs to point {info.get('point_key')}, not to this folder"
    if not isinstance(info.get("files"), dict) or not isinstance(info.get("rows"), int) or "identity" not in info:
        return "point.json has no row count or content hashes (written by an older version)"
    try:
        key = key_of(info["identity"], info["seed"], info["replicates"])
    except (KeyError, TypeError):
        return "point.json does not say what the point is"
    if key != folder.name:
        return "point.json describes another point (its content does not give this key)"
    if info["rows"] != info["replicates"] or (replicates is not None and info["rows"] != replicates):
        return f"it holds {info['rows']} rows for {replicates or info['replicates']} replicates"
    for name in POINT_FILES:
        path = folder / name
        if name not in info["files"]:
            return f"point.json has no hash of {name}"
        if not path.is_file():
            return f"{name} is missing"
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != info["files"][name]:
            return f"{name} differs from its record (truncated, altered or replaced)"
        if read is not None:
            read[name] = data
    if read is not None:
        read["point.json"] = info
    return None


def check_rows(runs: Any, key: str, rows: int) -> str | None:
    """The runs table of a point whose files matched their hashes, read back: the recorded number of rows,
    all of this point, replicates 0..rows-1 once each. None if so."""
    if len(runs) != rows:
        return f"runs.parquet holds {len(runs)} rows, its record {rows}"
    if "point_key" not in runs.columns or (runs["point_key"] != key).any():
        return "runs.parquet holds rows of another point"
    if sorted(runs["replicate"].tolist()) != list(range(rows)):
        return "runs.parquet's replicates are not 0..n-1 once each"
    return None
