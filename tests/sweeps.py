"""Helpers for the end-to-end sweep tests (test_sweep, test_sensitivity, test_slurm): run a sweep as a
user does, read its aggregate tables in a comparable order, and kill -9 one part-way."""

from __future__ import annotations

import os
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


def kill_when_stored(command: Sequence[str], folder: Path, points: int, cwd: Path, timeout: float) -> int:
    """Start ``command`` (a sweep into ``folder``) in its own session, kill -9 its whole process group once
    ``points`` points are stored (or after ``timeout`` seconds), and return how many points were stored."""
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    deadline = time.time() + timeout
    while time.time() < deadline and len(list(folder.glob("points/*/point.json"))) < points:
        time.sleep(0.05)  # a condition, not a fixed wait: load only slows it
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return len(list(folder.glob("points/*/point.json")))
