"""Helpers for the sweep tests: run a sweep as a user does (test_sweep, test_sensitivity, test_slurm), read its
aggregate tables in a comparable order, kill -9 one part-way, and a small sweep of points run in-process to damage
and repair (test_store, test_verified_points)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd


def run_sweep(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    """`python -m sim -m <args>`; fails the test, with the sweep's output, unless it exits 0."""
    res = subprocess.run(
        [sys.executable, "-m", "sim", "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert res.returncode == 0, res.stdout + res.stderr
    return res


def sweep_tables(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A sweep's aggregate points and runs tables, the runs sorted so that any launcher's compare equal."""
    points = pd.read_parquet(root / "aggregate/points.parquet").drop(columns=["experiment"])
    runs = pd.read_parquet(root / "aggregate/runs.parquet")
    return points, runs.sort_values(["point_key", "replicate"]).reset_index(drop=True)


def stored_points(folder: Path) -> set[str]:
    """The keys of the points a sweep folder has stored: in finished jobs' blocks (their manifests' entries) and in
    the journals of jobs still running or killed (sim.run.store), unverified: for waiting on a sweep's progress."""
    import json

    import pyarrow as pa

    keys: set[str] = set()
    for path in folder.glob("jobs/*.json"):
        try:
            keys |= set(json.loads(path.read_text()).get("entries") or {})
        except (OSError, ValueError):
            continue
    for path in folder.glob("blocks/*.journal"):
        try:
            with pa.OSFile(str(path), "rb") as fh:
                for batch in pa.ipc.open_stream(fh):
                    keys |= set(batch.column("point_key").to_pylist())
        except (OSError, pa.ArrowException):
            continue  # being written, or cut short: what was read counts
    return keys


def kill_when_stored(command: Sequence[str], folder: Path, points: int, cwd: Path, timeout: float) -> int:
    """Start ``command`` (a sweep into ``folder``) in its own session, kill -9 its whole process group once
    ``points`` points are stored (or after ``timeout`` seconds), and return how many points were stored."""
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    deadline = time.time() + timeout
    while time.time() < deadline and len(stored_points(folder)) < points:
        time.sleep(0.05)  # a condition, not a fixed wait: load only slows it
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return len(stored_points(folder))


def fingerprint(table: pd.DataFrame, order: Sequence[str] | None = None) -> dict:
    """A table's exact content in a few lines of JSON: its rows, and each column's name, dtype and a SHA-256 of
    its values (rows sorted by ``order`` first), so that a test can pin a large table without committing it."""
    import hashlib

    import numpy as np

    if order:
        table = table.sort_values(list(order), kind="stable").reset_index(drop=True)
    columns = {}
    for name in table.columns:
        col = table[name]
        if col.dtype.kind in "biufcmM":
            data = np.ascontiguousarray(col.to_numpy()).view(np.uint8).tobytes()
        else:  # text: the values joined with a separator no value holds
            data = "\0".join("\1" if v is None or v != v else str(v) for v in col.tolist()).encode()
        columns[name] = [str(col.dtype), hashlib.sha256(data).hexdigest()[:32]]
    return {"rows": len(table), "columns": columns}


def small_points(n: int, replicates: int = 30, step: float = 0.2) -> list:
    """``n`` SweepPoints of a small study: election_loss with 4 cells per militia, patron_influence 0.1, 0.1 + step,
    ... (sweep seed 5), quick enough to run in a test and to damage."""
    from sim.model.params import MILITIAS, make_params
    from sim.model.scenario import load_scenario
    from sim.run.sweep import SweepPoint

    sc = load_scenario("election_loss")
    return [SweepPoint("t", sc, (), make_params(cells_per_militia=4, patron_influence=0.1 + step * i), MILITIAS,
                       replicates, 5) for i in range(n)]  # fmt: skip


def reference_sweep(folder: Path, points: list, **run) -> tuple[Path, list]:
    """``points`` run once into ``folder`` (sim.run.sweep.run_points, ``run`` its options), for a module's fixture:
    never damaged, the tables every repaired sweep must equal."""
    from sim.run.sweep import run_points

    run_points(points, folder, progress=False, **run)
    return folder, points


def copy_sweep(reference: tuple[Path, list], tmp_path: Path) -> tuple[Path, list]:
    """A test's own copy of a reference sweep (to damage), with its points."""
    root, points = reference
    shutil.copytree(root, tmp_path / "sweep")
    return tmp_path / "sweep", points
