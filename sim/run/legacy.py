"""Sweep folders of the per-point store (version 1: points/<key>/runs.parquet, daily.parquet, point.json) converted
once into the block store (sim.run.store): every point that passes its old check becomes a row of one block, the
old job markers become manifests, and the per-point folders go. ``python -m sim.aggregate <dir> --convert``."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sim.run import provenance, store
from sim.run.storage import code_version
from sim.run.verify import NOT_STARTED, check_point, check_rows, digest

CONVERTED = "converted"  # the block of converted points: blocks/converted-<hash>.parquet


@dataclass
class _Scenario:
    name: str
    start: date


@dataclass
class _Point:
    """What stands for a SweepPoint in a converted point's row (sim.run.store.rows reads these)."""

    key: str
    config_hash: str
    identity_text: str
    study: str
    scenario: _Scenario
    label: str
    drop_events: tuple[str, ...]
    seed: int
    sweep_seed: int
    replicates: int
    params: dict[str, Any]
    militias: list[dict[str, Any]] = field(default_factory=list)
    columns: dict[str, Any] = field(default_factory=dict)  # the runs table's param.* and structure.* values
    structure: dict[str, str] = field(default_factory=dict)
    daily: str = "summary"  # the per-point store kept every variable's daily summary

    def run_columns(self) -> dict[str, Any]:
        return dict(self.columns)

    def used_params(self) -> dict[str, Any]:
        return dict(self.params)

    def structure_names(self) -> dict[str, str]:
        return dict(self.structure)


def _finished(folder: Path, got: dict[str, Any]) -> store.Finished:
    import io

    import pandas as pd

    info = got["point.json"]
    text = json.dumps({"seed": info["seed"], "replicates": info["replicates"], **info["identity"]}, sort_keys=True,
                      default=str)  # fmt: skip
    config = hashlib.sha256(text.encode()).hexdigest()[: store.HASH_CHARS]
    point = _Point(info["point_key"], config, text, info["study"],
                   _Scenario(info["scenario"], date.fromisoformat(info["identity"]["start"])), info["label"],
                   tuple(k for k in info["drop_events"].split(",") if k), int(info["seed"]), int(info["sweep_seed"]),
                   int(info["replicates"]), dict(info["params"]), list(info["militias"]))  # fmt: skip
    runs = pd.read_parquet(io.BytesIO(got["runs.parquet"])).sort_values("replicate", kind="stable")
    outcomes = list(runs.columns[1 : list(runs.columns).index("point_key")])  # between replicate and point_key
    constants = list(runs.columns[list(runs.columns).index("seed") + 1 :])  # param.* (and structure.*) after seed
    point.columns = {c: runs[c].iloc[0].item() if hasattr(runs[c].iloc[0], "item") else runs[c].iloc[0]
                     for c in constants}  # fmt: skip
    point.structure = dict(info.get("structure", {}))
    daily = pd.read_parquet(io.BytesIO(got["daily.parquet"])).sort_values("day", kind="stable")
    return store.Finished(point, {c: runs[c].to_numpy() for c in outcomes}, {},
                          summary={c: daily[c].to_numpy(dtype=float) for c in store.DAILY_COLUMNS})  # fmt: skip


def convert(root: Path, log=print) -> tuple[int, dict[str, str]]:
    """Convert ``root`` in place; returns (points converted, point key -> why it was left out). Points that fail
    their check are left out (a resumed sweep computes them again); nothing is removed before the block and its
    manifests are written."""
    import io

    import pandas as pd

    root = Path(root)
    finished, refused = [], {}
    folders = sorted(p for p in (root / "points").glob("*") if p.is_dir())
    for folder in folders:
        got: dict[str, Any] = {}
        problem = check_point(folder, read=got)
        if problem is None:
            try:
                problem = check_rows(pd.read_parquet(io.BytesIO(got["runs.parquet"])), folder.name,
                                     got["point.json"]["rows"])  # fmt: skip
            except (OSError, ValueError) as exc:
                problem = f"runs.parquet is not readable ({type(exc).__name__})"
        if problem is None:
            finished.append(_finished(folder, got))
        elif problem != NOT_STARTED:
            refused[folder.name] = problem
    markers = []
    for path in sorted((root / store.JOBS).glob("*.json")):
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("store") != store.VERSION and isinstance(doc.get("points"), list):
            markers.append((path, doc))
    keys = sorted(f.point.key for f in finished)
    job = f"{CONVERTED}-{format(digest(keys, bits=64), '016x')}"
    versions = {json.dumps(provenance.versions_of(got_env), sort_keys=True) for got_env in
                (json.loads((root / 'points' / k / 'point.json').read_text()) for k in keys)}  # fmt: skip
    env = provenance.environment()
    if len(versions) == 1 and (only := json.loads(next(iter(versions)))):
        env = {**env, "versions": only}  # the versions that computed the points, not this process's
    if finished:
        stand_in = store.Job(root, job, [f.point for f in finished], ["(converted from the per-point store)"])
        stand_in.add(finished)
        stand_in.finish()
        doc = json.loads(store.manifest_path(root, job).read_text())
        doc["environment"], doc["converted"] = env, {"from": "per-point store (version 1)", "time": time.time(),
                                                      "code_version": code_version()}  # fmt: skip
        store.write_manifest(root, doc)
    converted = set(keys)
    for path, old in markers:  # each old job: a manifest whose finished points are in the converted block
        pts = [k for k in old["points"] if isinstance(k, str)]
        doc = {"store": store.VERSION, "job_key": path.stem, "status": old.get("status", "started"),
               "points": pts, "overrides": old.get("overrides", []), "time": time.time(), "block": None,
               "entries": {}, "elsewhere": {k: job for k in pts if k in converted}}  # fmt: skip
        store.write_manifest(root, doc)
    if not (root / store.SETTINGS).exists() and finished:
        f = finished[0].point
        store.check_settings(root, store.settings_of(f))
    shutil.rmtree(root / "points")
    log(f"converted {len(finished)} points of {root} into {store.block_path(root, job)}"
        + (f"; left out {len(refused)} that failed their check (a resumed sweep computes them)" if refused else "")
        + "; they keep every variable's daily summary: resume the sweep with sweep_daily=summary")
    return len(finished), refused
