"""Verified sweep results: a point's record (rows, content hashes, key) is checked on resume and on
aggregation; concurrent sweeps on one folder compute each point once; the command lines fail in one line."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import sim.aggregate as agg_cli
import sim.plot as plot_cli
from sim.model.params import MILITIAS, make_params
from sim.model.scenario import load_scenario
from sim.run import claims
from sim.run.sweep import SweepPoint, aggregate, point_dir, run_points
from sim.run.verify import check_point, key_of, sha256


def _points(n: int = 2, replicates: int = 30) -> list[SweepPoint]:
    sc = load_scenario("election_loss")
    return [SweepPoint("t", sc, (), make_params(cells_per_militia=4, patron_influence=0.1 + 0.15 * i), MILITIAS,
                       replicates, 5) for i in range(n)]  # fmt: skip


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, list[SweepPoint]]:
    """Two finished points, never damaged: the tables every repaired sweep must equal."""
    root = tmp_path_factory.mktemp("reference")
    pts = _points()
    run_points(pts, root, progress=False)
    return root, pts


def _copy(reference, tmp_path) -> tuple[Path, list[SweepPoint]]:
    root, pts = reference
    shutil.copytree(root, tmp_path / "sweep")
    return tmp_path / "sweep", pts


def _tables(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    t = aggregate(root, write=False)["tables"]
    return t["points"], t["runs"]


def test_point_json_records_rows_hashes_and_key(reference):
    root, pts = reference
    folder = point_dir(root, pts[0])
    info = json.loads((folder / "point.json").read_text())
    assert info["rows"] == 30 and info["point_key"] == pts[0].key == folder.name
    assert info["files"] == {name: sha256(folder / name) for name in ("runs.parquet", "daily.parquet")}
    assert key_of(info["identity"], info["seed"], info["replicates"]) == pts[0].key
    assert check_point(folder, 30) is None
    assert "holds 30 rows for 40" in check_point(folder, 40)


def _truncate(folder: Path, other: Path) -> None:
    data = (folder / "runs.parquet").read_bytes()
    (folder / "runs.parquet").write_bytes(data[: len(data) // 2])


def _alter(folder: Path, other: Path) -> None:
    runs = pd.read_parquet(folder / "runs.parquet")
    runs.loc[0, "escalated"] = not runs.loc[0, "escalated"]
    runs.to_parquet(folder / "runs.parquet")


def _half_rows(folder: Path, other: Path) -> None:
    runs = pd.read_parquet(folder / "runs.parquet")
    runs.iloc[: len(runs) // 2].to_parquet(folder / "runs.parquet")


def _other_points_file(folder: Path, other: Path) -> None:
    shutil.copy(other / "runs.parquet", folder / "runs.parquet")


def _missing_daily(folder: Path, other: Path) -> None:
    (folder / "daily.parquet").unlink()


def _wrong_key(folder: Path, other: Path) -> None:  # another point's whole folder copied over this one
    shutil.rmtree(folder)
    shutil.copytree(other, folder)


def _forged_record(folder: Path, other: Path) -> None:  # half the rows, and a record edited to match
    _half_rows(folder, other)
    info = json.loads((folder / "point.json").read_text())
    info.update(rows=15, files={**info["files"], "runs.parquet": sha256(folder / "runs.parquet")})
    (folder / "point.json").write_text(json.dumps(info))


def _edited_identity(folder: Path, other: Path) -> None:  # the record claims another parameter value
    info = json.loads((folder / "point.json").read_text())
    info["identity"]["params"]["patron_influence"] = 0.99
    (folder / "point.json").write_text(json.dumps(info))


def _old_record(folder: Path, other: Path) -> None:
    info = json.loads((folder / "point.json").read_text())
    for k in ("rows", "files", "identity"):
        info.pop(k)
    (folder / "point.json").write_text(json.dumps(info))


def _garbage_record(folder: Path, other: Path) -> None:
    (folder / "point.json").write_text('{"point_key": ')


def _no_record(folder: Path, other: Path) -> None:  # killed between the tables and point.json
    (folder / "point.json").unlink()


DAMAGE = {
    "truncated": (_truncate, "runs.parquet differs from its record"),
    "altered": (_alter, "runs.parquet differs from its record"),
    "half_rows": (_half_rows, "runs.parquet differs from its record"),
    "other_points_file": (_other_points_file, "runs.parquet differs from its record"),
    "missing_daily": (_missing_daily, "daily.parquet is missing"),
    "wrong_key": (_wrong_key, "point.json belongs to point"),
    "forged_record": (_forged_record, "holds 15 rows for 30 replicates"),
    "edited_identity": (_edited_identity, "describes another point"),
    "old_record": (_old_record, "no row count or content hashes"),
    "garbage_record": (_garbage_record, "not readable JSON"),
    "no_record": (_no_record, "unfinished"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_resume_recomputes_a_damaged_point_and_says_why(damage, reference, tmp_path, caplog):
    root, pts = _copy(reference, tmp_path)
    harm, why = DAMAGE[damage]
    harm(point_dir(root, pts[0]), point_dir(root, pts[1]))
    caplog.set_level(logging.WARNING)
    assert run_points(pts, root, progress=False) == [pts[0]]  # only the damaged point runs again
    lines = [r.getMessage() for r in caplog.records if pts[0].key in r.getMessage()]
    assert len(lines) == 1 and why in lines[0] and lines[0].endswith("recomputing"), lines
    a, b = _tables(root), _tables(reference[0])
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])


@pytest.mark.parametrize("damage", [d for d in DAMAGE if d != "no_record"])
def test_aggregation_refuses_a_corrupt_point(damage, reference, tmp_path, capsys):
    """Never a wrong row: the damaged point is left out and reported in one line; the CLI exits 1."""
    root, pts = _copy(reference, tmp_path)
    harm, why = DAMAGE[damage]
    harm(point_dir(root, pts[0]), point_dir(root, pts[1]))
    report = aggregate(root, write=False)
    assert [c["point_key"] for c in report["corrupt_points"]] == [pts[0].key]
    assert why in report["corrupt_points"][0]["problem"]
    runs = report["tables"]["runs"]
    assert set(runs["point_key"]) == {pts[1].key} and len(runs) == 30
    assert agg_cli.main([str(root)]) == 1
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and err[0].startswith(f"error: point {pts[0].key}: ") and why in err[0], err


def test_a_copied_folder_under_a_new_name_is_refused(reference, tmp_path):
    root, pts = _copy(reference, tmp_path)
    shutil.copytree(point_dir(root, pts[0]), root / "points" / "0123456789abcdef")
    report = aggregate(root, write=False)
    assert report["n_points"] == 2 and report["corrupt_points"][0]["point_key"] == "0123456789abcdef"
    assert "belongs to point" in report["corrupt_points"][0]["problem"]


# ----------------------------------------------------------------------------- claims and concurrency


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _write_claim(folder: Path, host: str, pid: int, age_s: float = 0.0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / claims.CLAIM).write_text(json.dumps({"host": host, "pid": pid, "time": time.time() - age_s,
                                                   "token": "theirs"}))  # fmt: skip
    then = time.time() - age_s
    os.utime(folder / claims.CLAIM, (then, then))


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
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pid = {"live": sleeper.pid, "dead": _dead_pid()}.get(pid, pid)
        _write_claim(point_dir(tmp_path, pt), socket.gethostname() if host == "here" else "other-host", pid, age_s)
        caplog.set_level(logging.WARNING)
        elsewhere: list = []
        ran = run_points([pt], tmp_path, progress=False, elsewhere=elsewhere)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert (ran == [pt]) is taken_over and (elsewhere == [pt]) is (not taken_over)
    assert check_point(point_dir(tmp_path, pt)) is None if taken_over else "not computed"
    assert not (point_dir(tmp_path, pt) / claims.CLAIM).exists() or not taken_over  # released after the run
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
    assert not list(root.glob("points/*/claim.json"))  # no claim left behind


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
    (tmp_path / "empty" / "points").mkdir(parents=True)
    assert agg_cli.main([str(tmp_path / "empty")]) == 1
    assert "no finished point" in _one_error(capsys)
    root, _ = _copy(reference, tmp_path)
    (root / "jobs").mkdir(exist_ok=True)
    (root / "jobs" / "broken.json").write_text("{")
    assert agg_cli.main([str(root)]) == 1
    assert "jobs/broken.json is not readable JSON" in _one_error(capsys)


def test_aggregate_cli_end_to_end_reports_corrupt_points(reference, tmp_path):
    root, pts = _copy(reference, tmp_path)
    _truncate(point_dir(root, pts[1]), point_dir(root, pts[0]))
    res = subprocess.run([sys.executable, "-m", "sim.aggregate", str(root)], capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.strip() == (f"error: point {pts[1].key}: runs.parquet differs from its record (truncated, "
                                  "altered or replaced); not aggregated (rerun the sweep to recompute it)")
    assert "aggregated 1 points" in res.stdout


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
