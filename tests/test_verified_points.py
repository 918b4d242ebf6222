"""Verified sweep results: concurrent sweeps on one folder compute each point once (a job is claimed by one
process, a dead process's claim taken over); the command lines fail in one line. The store's own checks are in
tests/test_store.py."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sweeps import copy_sweep, reference_sweep, small_points

import sim.aggregate as agg_cli
import sim.plot as plot_cli
from sim.run import claims, store
from sim.run.sweep import SweepPoint, aggregate, check_sweep, job_key, run_points


def _points(n: int = 2, replicates: int = 30) -> list[SweepPoint]:
    return small_points(n, replicates, step=0.15)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, list[SweepPoint]]:
    """Two finished points, never damaged: the tables every repaired sweep must equal."""
    return reference_sweep(tmp_path_factory.mktemp("reference"), _points())


def _tables(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    t = aggregate(root, write=False)["tables"]
    return t["points"], t["runs"]


# The damage a stored point can come to (truncated, altered, forged, foreign, misplaced, half-written) is tested on
# the block store in tests/test_store.py; here: claims, concurrency and the command lines.


# ----------------------------------------------------------------------------- claims and concurrency


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _write_claim(path: Path, host: str, pid: int, age_s: float = 0.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"host": host, "pid": pid, "time": time.time() - age_s, "token": "theirs"}))
    then = time.time() - age_s
    os.utime(path, (then, then))


@pytest.mark.parametrize(
    ("host", "pid", "age_s", "taken_over"),
    [
        ("here", "live", 0.0, False),  # a live process on this host holds it
        ("here", "dead", 0.0, True),  # killed: its pid is gone
        ("elsewhere", 1, 60.0, False),  # another host, alive a minute ago
        ("elsewhere", 1, claims.STALE_S + 60, True),  # another host, silent past the staleness timeout
    ],
)
def test_a_claim_is_respected_while_alive_and_taken_over_when_stale(host, pid, age_s, taken_over, tmp_path, caplog):
    (pt,) = _points(1)
    claim = tmp_path / store.BLOCKS / f"{job_key([pt])}.claim"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pid = {"live": sleeper.pid, "dead": _dead_pid()}.get(pid, pid)
        _write_claim(claim, socket.gethostname() if host == "here" else "other-host", pid, age_s)
        caplog.set_level(logging.WARNING)
        elsewhere: list = []
        ran = run_points([pt], tmp_path, progress=False, elsewhere=elsewhere)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert (ran == [pt]) is taken_over and (elsewhere == [pt]) is (not taken_over)
    assert (pt.key in check_sweep(tmp_path).done) is taken_over
    assert not claim.exists() or not taken_over  # released after the run
    if not taken_over:
        assert any("running elsewhere" in r.getMessage() for r in caplog.records)


def test_a_claim_left_empty_by_a_killed_writer_goes_stale(tmp_path):
    path = tmp_path / claims.CLAIM
    path.write_text("")
    assert not claims.is_stale(path, None)
    old = time.time() - claims.WRITING_S - 1
    os.utime(path, (old, old))
    assert claims.is_stale(path, None)
    got = claims.claim(tmp_path)
    assert got is not None and claims.read(path)["pid"] == os.getpid()
    got.release()
    assert not path.exists()


WORKER = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_verified_points import _points
from sim.run.sweep import run_points
root, me = Path(sys.argv[1]), sys.argv[2]
(root.parent / f"ready-{{me}}").touch()
while not (root.parent / "go").exists():
    time.sleep(0.01)
ran = run_points(_points(6, replicates=200), root, progress=False, workers=1)
print(json.dumps([p.key for p in ran]))
"""


def test_two_sweeps_on_one_folder_compute_each_point_once(tmp_path):
    """Two processes start the same sweep at the same moment on one folder: every point is computed by exactly
    one of them, and the tables equal one process's."""
    script = tmp_path / "worker.py"
    script.write_text(WORKER.format(tests=str(Path(__file__).parent)))
    root = tmp_path / "shared" / "sweep"
    root.parent.mkdir()
    procs = [subprocess.Popen([sys.executable, str(script), str(root), name], stdout=subprocess.PIPE, text=True)
             for name in ("a", "b")]  # fmt: skip
    deadline = time.time() + 120
    while len(list(root.parent.glob("ready-*"))) < 2 and time.time() < deadline:
        time.sleep(0.02)
    (root.parent / "go").touch()
    ran = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    keys = [p.key for p in _points(6, replicates=200)]
    assert sorted(ran[0] + ran[1]) == sorted(keys), ran  # each point once, none twice
    alone = tmp_path / "alone"
    run_points(_points(6, replicates=200), alone, progress=False)
    a, b = _tables(root), _tables(alone)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    assert not list(root.glob("blocks/*.claim"))  # no claim left behind


# ----------------------------------------------------------------------------- the command lines


def _one_error(capsys) -> str:
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0], err
    return err[0]


def test_aggregate_cli_on_missing_empty_and_corrupt_input(reference, tmp_path, capsys):
    assert agg_cli.main([str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in _one_error(capsys)
    (tmp_path / "file").write_text("x")
    assert agg_cli.main([str(tmp_path / "file")]) == 2
    assert "not a sweep folder" in _one_error(capsys)
    (tmp_path / "empty" / "jobs").mkdir(parents=True)
    assert agg_cli.main([str(tmp_path / "empty")]) == 1
    assert "no finished point" in _one_error(capsys)
    root, _ = copy_sweep(reference, tmp_path)
    (root / "jobs").mkdir(exist_ok=True)
    (root / "jobs" / "broken.json").write_text("{")
    assert agg_cli.main([str(root)]) == 1
    assert "jobs/broken.json (broken.json is not readable JSON)" in _one_error(capsys)


def test_aggregate_cli_end_to_end_reports_corrupt_points(reference, tmp_path):
    root, pts = copy_sweep(reference, tmp_path)
    (block,) = root.glob("blocks/*.parquet")
    block.write_bytes(block.read_bytes()[:-100])
    res = subprocess.run([sys.executable, "-m", "sim.aggregate", str(root)], capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert res.returncode == 1 and "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 2 and {ln.split(": its")[0] for ln in lines} == {f"error: point {p.key}" for p in pts}, lines
    assert all(f"its block {block.name} is truncated, altered or replaced; not aggregated" in ln for ln in lines)


@pytest.mark.parametrize(
    ("content", "expect"),
    [(None, "not found"), (b"", "not a readable Parquet"), (b"PAR1garbagePAR1", "not a readable Parquet"),
     ("no_columns", "lacks the columns"), ("no_rows", "has no rows"), ("bad_daily", "daily.parquet")],
)
def test_plot_cli_on_missing_empty_and_corrupt_tables(content, expect, reference, tmp_path, capsys):
    folder = tmp_path / "aggregate"
    folder.mkdir()
    if content == "no_columns":
        pd.DataFrame({"x": [1]}).to_parquet(folder / "points.parquet")
    elif content == "no_rows":
        aggregate(reference[0], write=False)["tables"]["points"].iloc[:0].to_parquet(folder / "points.parquet")
    elif content == "bad_daily":
        aggregate(reference[0], write=False)["tables"]["points"].to_parquet(folder / "points.parquet")
        (folder / "daily.parquet").write_bytes(b"")
    elif content is not None:
        (folder / "points.parquet").write_bytes(content)
    assert plot_cli.main([str(folder), "--kind", "all"]) == 2
    assert expect in _one_error(capsys)
