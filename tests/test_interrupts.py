"""Stopping well: Ctrl-C and SIGTERM end a run with one line, status 130/143 and no temporary file; a full disk
ends a sweep with one line before Hydra's next job; a cluster task's stop signal; thread pools drop queued work."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest
from sweeps import run_sweep, sweep_tables

from sim.run import launchers, signals
from sim.run.simulate import thread_pool

TINY = ["replicates=20", "params.cells_per_militia=5", "scenario=attack_and_intervention",
        "params.patron_influence=0.1,0.5,0.9", "+grid.militia_independence=[0.2,0.8]"]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_long_run_stops_on_a_signal_with_one_line_and_no_temporary_files(tmp_path, signum):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "replicates=400000", "chunk_size=5000", "figure=false",
                             f"hydra.run.dir={out}"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    try:
        deadline = time.time() + 120
        while not list(out.glob(".runs.parquet.*.tmp")) and time.time() < deadline:
            time.sleep(0.05)
        assert list(out.glob(".runs.parquet.*.tmp")), "the run never started writing"
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)  # a hang fails here
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signum, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines == [f"interrupted ({signal.Signals(signum).name}): nothing is kept of this run: its temporary "
                     "files were removed"], err  # fmt: skip
    assert not list(out.glob(".*.tmp")) and not (out / "runs.parquet").exists()


# A sweep whose third point write finds the disk full (a patched write: the same OSError a full disk raises).
FULL_DISK_AFTER = """
import errno, sys
import sim.run.sweep as sweep
real, calls = sweep._write_point, [0]
def write(*args):
    calls[0] += 1
    if calls[0] > 2:
        raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space left on device")
    return real(*args)
sweep._write_point = write
sys.argv = ["sim", *sys.argv[1:]]
from sim.__main__ import entry
entry()
"""


@pytest.mark.slow
def test_a_full_disk_ends_the_sweep_with_one_line_before_the_next_job(tmp_path):
    root = tmp_path / "sweep"
    res = subprocess.run([sys.executable, "-c", FULL_DISK_AFTER, "-m", *TINY, f"hydra.sweep.dir={root}"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert res.returncode == 1, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: No space left on device while writing point ") and str(root / "points") in last
    assert "finished before it are kept" in last
    assert len(list(root.glob("points/*/point.json"))) == 2  # the first job's two points
    assert len(list(root.glob("jobs/*.json"))) == 2 and not (root / "2").exists()  # the third job never started
    assert not list(root.rglob(".*.tmp"))
    run_sweep(*TINY, f"hydra.sweep.dir={root}", cwd=tmp_path)
    ran = sorted(json.loads(p.read_text())["ran"] for p in root.glob("jobs/*.json"))
    assert ran == [0, 2, 2]
    run_sweep(*TINY, f"hydra.sweep.dir={tmp_path / 'whole'}", cwd=tmp_path)
    (pa, ra), (pb, rb) = sweep_tables(tmp_path / "whole"), sweep_tables(root)
    pd.testing.assert_frame_equal(pa, pb)
    pd.testing.assert_frame_equal(ra, rb)


def test_thread_pool_drops_queued_blocks_when_interrupted():
    started, release = [], threading.Event()

    def block(i: int) -> int:
        started.append(i)
        release.wait(5)
        return i

    with pytest.raises(KeyboardInterrupt), thread_pool(2) as ex:
        futures = [ex.submit(block, i) for i in range(50)]
        raise KeyboardInterrupt
    release.set()
    time.sleep(0.2)
    assert len(started) <= 2 and sum(f.cancelled() for f in futures) >= 48


def test_a_task_stop_between_blocks_raises_only_at_the_stop_point():
    signals.install_task_handlers()
    try:
        with signals.between_blocks():
            signal.raise_signal(signal.SIGUSR1)  # deferred: only recorded
            assert signals.requested() == signal.SIGUSR1
            with pytest.raises(signals.Interrupted) as exc:
                signals.stop_point()
        assert exc.value.signum == signal.SIGUSR1
    finally:
        signals.reset()
        for s in signals.TASK_SIGNALS:
            signal.signal(s, signal.SIG_DFL)


def test_a_stopped_task_requeues_only_on_slurm_after_progress(monkeypatch):
    calls = []
    monkeypatch.setattr(launchers.subprocess, "run",
                        lambda cmd, **kw: calls.append(cmd) or subprocess.CompletedProcess(cmd, 0, "", ""))
    monkeypatch.setattr(launchers.signal, "signal", lambda *a: None)
    monkeypatch.setenv("SLURM_ARRAY_JOB_ID", "77")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "3")
    exc = signals.Interrupted(signal.SIGUSR1)
    exc.progressed, exc.stored = False, "0 of 4 points of this job stored in /x"
    assert launchers.task_stopped(exc) == 128 + signal.SIGUSR1 and calls == []  # no progress: no loop
    exc.progressed = True
    launchers.task_stopped(exc)
    assert calls == [["scontrol", "requeue", "77_3"]]
    assert launchers.task_stopped(signals.Interrupted(signal.SIGTERM)) == 143 and len(calls) == 1


# ----------------------------------------------------------------------------- provenance, small things


@pytest.mark.slow
def test_points_from_other_library_versions_are_not_mixed_unless_asked(tmp_path):
    root = tmp_path / "sweep"
    run_sweep(*TINY, f"hydra.sweep.dir={root}", cwd=tmp_path)
    info_path = next(root.glob("points/*/point.json"))
    info = json.loads(info_path.read_text())
    env = info["environment"]
    assert {"python", "numpy", "scipy", "pandas", "pyarrow", "mesa"} <= set(env["versions"])
    assert env["cpu"] and env["threads"] >= 1 and env["code_version"]
    info["environment"]["versions"]["numpy"] = "1.0.0"  # as if an older numpy had computed it
    info_path.write_text(json.dumps(info))
    agg = subprocess.run([sys.executable, "-m", "sim.aggregate", str(root)], capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert agg.returncode == 1 and "1.0.0" in agg.stderr and "numpy " in agg.stderr
    assert "--allow-mixed-versions" in agg.stderr
    agg = subprocess.run([sys.executable, "-m", "sim.aggregate", str(root), "--allow-mixed-versions"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert agg.returncode == 0 and "warning: " in agg.stderr
    rerun = subprocess.run([sys.executable, "-m", "sim", "-m", *TINY, f"hydra.sweep.dir={root}"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert rerun.returncode == 2 and rerun.stderr.count("\n") == 1, rerun.stderr  # refused before any job
    assert rerun.stderr.startswith("error: ") and "allow_mixed_versions=true" in rerun.stderr
    from sim.run import provenance  # where a job runs, it checks again (its own points)

    with pytest.raises(provenance.MixedVersions, match="numpy"):
        provenance.refuse_mixed(root, [info_path.parent.name])
    run_sweep(*TINY, f"hydra.sweep.dir={root}", "allow_mixed_versions=true", cwd=tmp_path)


def test_an_override_given_twice_is_refused(tmp_path):
    res = subprocess.run([sys.executable, "-m", "sim", "params.patron_influence=0.5", "params.patron_influence=0.6"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert res.stderr.startswith("error: params.patron_influence is given twice")
    assert not (tmp_path / "results").exists()


def test_status_of_a_folder_without_manifest_and_of_no_sweep(tmp_path):
    from sim.run.status import main_status

    code, text = main_status(tmp_path)
    assert code == 2 and "not a sweep folder" in text
    (tmp_path / "points").mkdir()
    code, text = main_status(tmp_path)
    assert code == 1 and "no manifest.json" in text


def test_params_from_summary_names_the_published_sobol_table_when_no_study_ran(tmp_path, monkeypatch):
    from sim.commands import main_job

    monkeypatch.chdir(tmp_path)  # no results/sweeps here
    assert main_job.published_ranking()[0].startswith("published table")
