"""launcher=submitit_slurm end to end on the local SLURM cluster (experiments/slurm/local_cluster.sh):
same tables as the basic launcher; a cancelled array task ends the sweep with one line; a rerun resumes;
a detached submission returns at once and sim.status follows it; stop signals end a task cleanly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest
from sweeps import run_sweep, sweep_tables

from sim import paths

CLUSTER = paths.REPO_ROOT / "experiments" / "slurm" / "local_cluster.sh"
STUDY = ["replicates=20", "params.cells_per_militia=5", "scenario=attack_and_intervention",
         "params.patron_influence=0.1,0.5,0.9", "+grid.militia_independence=[0.2,0.8]"]  # fmt: skip
# The local cluster's partition, whatever a site file in configs/local says (command line wins).
ON_LOCAL_CLUSTER = ["launcher=submitit_slurm", "hydra.launcher.partition=local", "hydra.launcher.account=null",
                    "hydra.launcher.qos=null", "hydra.launcher.timeout_min=10", "hydra.launcher.mem_gb=1"]  # fmt: skip
TIMEOUT_S = 600  # a hang becomes a failure

# one xdist worker runs both (--dist loadgroup in .ci/run): the local cluster has two CPUs, and the cancel
# test times its scancel against a queue that another sweep would fill
pytestmark = [pytest.mark.slow, pytest.mark.slurm, pytest.mark.xdist_group("slurm")]


@pytest.fixture(scope="module")
def slurm() -> None:
    """The local cluster must be running. CI as root starts it and sets SIM_REQUIRE_SLURM=1, so that a
    cluster that failed to start fails these tests instead of skipping them."""
    res = subprocess.run(["bash", str(CLUSTER), "status"], capture_output=True, text=True, timeout=60)
    if res.returncode == 0:
        return
    if os.environ.get("SIM_REQUIRE_SLURM") == "1":
        pytest.fail(f"SIM_REQUIRE_SLURM=1 but the local SLURM cluster is not running:\n{res.stdout}{res.stderr}")
    pytest.skip("no local SLURM cluster: start one with `experiments/slurm/local_cluster.sh start` (root, Debian)")


def _assert_same_tables(a: Path, b: Path) -> None:
    (pa, ra), (pb, rb) = sweep_tables(a), sweep_tables(b)
    assert len(pa) == 6
    pd.testing.assert_frame_equal(pa, pb)
    pd.testing.assert_frame_equal(ra, rb)


def test_slurm_sweep_equals_basic_launcher(slurm, tmp_path):
    """A 3-task array on SLURM aggregates to exactly the basic launcher's tables."""
    run_sweep(*STUDY, f"hydra.sweep.dir={tmp_path / 'basic'}", cwd=tmp_path, timeout=TIMEOUT_S)
    run_sweep(*STUDY, *ON_LOCAL_CLUSTER, f"hydra.sweep.dir={tmp_path / 'slurm'}", cwd=tmp_path, timeout=TIMEOUT_S)
    scripts = list((tmp_path / "slurm/.submitit").glob("*/*_submission.sh"))
    assert len(scripts) == 1 and "#SBATCH --array=0-2" in scripts[0].read_text()  # it did go through sbatch
    _assert_same_tables(tmp_path / "basic", tmp_path / "slurm")


def _squeue(*args: str) -> list[str]:
    return subprocess.run(["squeue", "-h", *args], capture_output=True, text=True, timeout=60).stdout.split()


def test_cancelled_task_ends_the_sweep_and_a_rerun_runs_only_its_points(slurm, tmp_path):
    """scancel of one array task (pending: SLURM then keeps no accounting record of it) ends the sweep
    with one error line naming it, not a hang; finished points stay; the same command again runs only
    the cancelled task's points, and the tables equal the basic launcher's."""
    name = f"simtest-{uuid.uuid4().hex[:8]}"
    cmd = [*STUDY, *ON_LOCAL_CLUSTER, "hydra.launcher.array_parallelism=1", f"hydra.launcher.name={name}",
           f"hydra.sweep.dir={tmp_path / 'slurm'}"]  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "sim", "-m", *cmd], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.time() + 120
        while not (array := _squeue("-n", name, "-o", "%F")) and time.time() < deadline:
            time.sleep(0.2)
        assert array, "the sweep's array never reached the queue"
        task = f"{array[0]}_2"
        # one task at a time, a few seconds each: the last one is still waiting
        assert _squeue("-r", "-t", "PD", "-o", "%i", "-j", task) == [task]
        subprocess.run(["scancel", task], check=True, timeout=60)
        out, err = proc.communicate(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:  # hung: fail, and leave nothing behind
            proc.kill()
            subprocess.run(["scancel", "-n", name], timeout=60)
    assert proc.returncode == 1, out + err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err and lines[-1].startswith(f"error: 1 of 3 slurm jobs did not finish: {task} ")
    assert "run the same command again" in lines[-1]

    root = tmp_path / "slurm"
    kept = {p: p.stat().st_mtime_ns for p in root.glob("points/*/runs.parquet")}
    assert len(kept) == 4  # the two finished tasks' points
    run_sweep(*cmd, cwd=tmp_path, timeout=TIMEOUT_S)
    ran = sorted(json.loads(p.read_text())["ran"] for p in root.glob("jobs/*.json"))
    assert ran == [0, 0, 2]  # the rerun ran only the cancelled task's two points
    assert {p: p.stat().st_mtime_ns for p in kept} == kept
    run_sweep(*STUDY, f"hydra.sweep.dir={tmp_path / 'basic'}", cwd=tmp_path, timeout=TIMEOUT_S)
    _assert_same_tables(tmp_path / "basic", root)


# ----------------------------------------------------------------------------- submit and return, status


def _status(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim.status", str(root)], capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def _wait_gone(name: str) -> None:
    deadline = time.time() + TIMEOUT_S
    while _squeue("-n", name) and time.time() < deadline:
        time.sleep(0.5)
    assert not _squeue("-n", name), f"tasks of {name} still queued after {TIMEOUT_S} s"


def test_detached_sweep_status_follows_it_through_a_cancel_a_damage_and_a_resume(slurm, tmp_path):
    """hydra.launcher.detach=true submits, writes the manifest and returns 0 at once; with the submitter gone,
    sim.status says running (3), then, after a pending task is cancelled, incomplete (1) naming it, then names a
    damaged point; the same command again (attached) completes the sweep; status says complete (0); the tables
    equal the basic launcher's."""
    name = f"simtest-{uuid.uuid4().hex[:8]}"
    root = tmp_path / "slurm"
    cmd = [*STUDY, *ON_LOCAL_CLUSTER, "hydra.launcher.array_parallelism=1", f"hydra.launcher.name={name}",
           f"hydra.sweep.dir={root}"]  # fmt: skip
    try:
        res = run_sweep(*cmd, "hydra.launcher.detach=true", cwd=tmp_path, timeout=120)
        assert "python -m sim.status" in res.stdout and not (root / "aggregate").exists()
        sub = json.loads((root / "manifest.json").read_text())["submissions"][-1]
        assert sub["detached"] and [len(t["points"]) for t in sub["tasks"]] == [2, 2, 2]
        assert sub["environment"]["versions"]["numpy"] and "hydra.launcher.detach=true" in sub["command"]
        running = _status(root)
        assert running.returncode == 3, running.stdout + running.stderr
        assert "verdict: running: " in running.stdout
        task = sub["tasks"][2]["job_id"]
        assert _squeue("-r", "-t", "PD", "-o", "%i", "-j", task) == [task]  # one task at a time: the last waits
        subprocess.run(["scancel", task], check=True, timeout=60)
        _wait_gone(name)
    finally:
        subprocess.run(["scancel", "-n", name], timeout=60)
    stopped = _status(root)
    assert stopped.returncode == 1, stopped.stdout + stopped.stderr
    assert "points: 6 known, 4 done, 0 being computed, 2 missing, 0 damaged" in stopped.stdout
    assert f"{task}  " in stopped.stdout and "GONE" in stopped.stdout
    assert stopped.stdout.splitlines()[-1].startswith("verdict: incomplete: 2 point(s) missing; task(s) ")

    damaged = next(root.glob("points/*/runs.parquet"))
    damaged.write_bytes(damaged.read_bytes()[:-100])
    out = _status(root)
    assert out.returncode == 1 and f"damaged point {damaged.parent.name}: runs.parquet differs" in out.stdout

    run_sweep(*cmd, cwd=tmp_path, timeout=TIMEOUT_S)  # the same command, attached this time
    done = _status(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verdict: complete and aggregated: all 6 points done, verified and in " in done.stdout
    assert len(json.loads((root / "manifest.json").read_text())["submissions"]) == 2
    run_sweep(*STUDY, f"hydra.sweep.dir={tmp_path / 'basic'}", cwd=tmp_path, timeout=TIMEOUT_S)
    _assert_same_tables(tmp_path / "basic", root)


# ----------------------------------------------------------------------------- stop signals

# One task of eight points, each stored after several blocks: long enough to be signalled part-way.
LONG_TASK = ["replicates=3000", "chunk_size=500", "params.cells_per_militia=5", "scenario=attack_and_intervention",
             "+grid.patron_influence=[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]"]  # fmt: skip


def _signal_part_way(root: Path, tmp_path: Path, name: str, signal_name: str) -> str:
    """Submit LONG_TASK detached, send ``signal_name`` to its task once a point is stored; returns the task's id."""
    run_sweep(*LONG_TASK, *ON_LOCAL_CLUSTER, f"hydra.launcher.name={name}", "hydra.launcher.detach=true",
              f"hydra.sweep.dir={root}", cwd=tmp_path, timeout=120)  # fmt: skip
    job = json.loads((root / "manifest.json").read_text())["submissions"][-1]["tasks"][0]["job_id"]
    deadline = time.time() + TIMEOUT_S
    while not list(root.glob("points/*/point.json")) and time.time() < deadline:
        time.sleep(0.05)
    subprocess.run(["scancel", f"--signal={signal_name}", job], check=True, timeout=60)
    return job


def _sacct_states(job: str) -> list[str]:
    out = subprocess.run(["sacct", "-n", "-X", "-D", "-P", "-j", job, "-o", "State"], capture_output=True,
                         text=True, timeout=60).stdout  # fmt: skip
    return [s.split()[0] for s in out.split()]


def _log(root: Path) -> str:
    return "".join(p.read_text() for p in root.glob(".submitit/*/*_log.err"))


def _no_half_points(root: Path) -> None:
    """Every point folder holds a whole, verified point or no result file at all; no temporary file anywhere."""
    from sim.run.verify import NOT_STARTED, check_point

    for folder in root.glob("points/*"):
        assert check_point(folder) in (None, NOT_STARTED), folder
    assert not list(root.rglob(".*.tmp")), list(root.rglob(".*.tmp"))


def test_usr1_requeues_the_task_which_resumes_and_sigterm_stops_it_cleanly(slurm, tmp_path):
    """scancel --signal=USR1 (what --signal=USR1@120 sends before the time limit): the task stops between blocks,
    keeps its stored points, requeues itself and its next run computes only the rest; the tables equal the basic
    launcher's. scancel --signal=TERM: the task stops cleanly (status 143), is not requeued, and leaves no
    half-written point; sim.status says what is missing."""
    name = f"simtest-{uuid.uuid4().hex[:8]}"
    root = tmp_path / "usr1"
    try:
        job = _signal_part_way(root, tmp_path, name, "USR1")
        deadline = time.time() + TIMEOUT_S
        while "REQUEUED" not in _sacct_states(job) and time.time() < deadline:
            time.sleep(0.2)
        assert "REQUEUED" in _sacct_states(job), _log(root)
        kept = {p: p.stat().st_mtime_ns for p in root.glob("points/*/runs.parquet")}
        assert 1 <= len(kept) < 8
        _no_half_points(root)
        # SLURM holds a requeued job for about two minutes (reason BeginTime); the test does not wait for that
        deadline = time.time() + TIMEOUT_S
        while (state := _squeue("-j", job, "-o", "%T_%r")) and time.time() < deadline:
            if state == ["PENDING_BeginTime"]:
                subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now"], check=True, timeout=60)
            time.sleep(0.5)
        _wait_gone(name)
        assert "task stopped by SIGUSR1: " in _log(root) and f"requeued {job}" in _log(root)
        assert _sacct_states(job)[-1] == "COMPLETED"
        assert {p: p.stat().st_mtime_ns for p in kept} == kept  # the second run did not recompute them
        assert _status(root).returncode == 0

        term = tmp_path / "term"
        job = _signal_part_way(term, tmp_path, name, "TERM")
        _wait_gone(name)
    finally:
        subprocess.run(["scancel", "-n", name], timeout=60)
    assert "task stopped by SIGTERM: " in _log(term) and "requeued" not in _log(term)
    assert "REQUEUED" not in _sacct_states(job)
    _no_half_points(term)
    status = _status(term)
    assert status.returncode == 1 and "missing" in status.stdout.splitlines()[-1], status.stdout

    run_sweep(*LONG_TASK, f"hydra.sweep.dir={tmp_path / 'basic'}", cwd=tmp_path, timeout=TIMEOUT_S)
    agg = subprocess.run([sys.executable, "-m", "sim.aggregate", str(root)], capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert agg.returncode == 0, agg.stdout + agg.stderr
    (pa, ra), (pb, rb) = sweep_tables(tmp_path / "basic"), sweep_tables(root)
    pd.testing.assert_frame_equal(pa, pb)
    pd.testing.assert_frame_equal(ra, rb)


# ----------------------------------------------------------------------------- calibration blocks as array tasks


def test_calibration_bank_blocks_as_slurm_array_tasks_equal_the_local_bank(slurm, tmp_path):
    """python -m sim.calibrate --launcher submitit_slurm: each block of the ABC bank is one array task; the
    blocks equal those computed here on threads, bit for bit."""
    from sim.analysis import calibration as cal

    small = cal.Settings(draws=60, replicates=2, seed=5, block=20)
    targets = cal.load_targets()
    local = cal.run_bank(tmp_path / "local", small, targets, progress=False)
    name = f"simtest-{uuid.uuid4().hex[:8]}"
    try:
        via = cal.run_bank(tmp_path / "slurm", small, targets, progress=False, launcher="submitit_slurm",
                           overrides=[*ON_LOCAL_CLUSTER[1:], f"hydra.launcher.name={name}"])  # fmt: skip
    finally:
        subprocess.run(["scancel", "-n", name], timeout=60)
    pd.testing.assert_frame_equal(local, via)
    for i in range(3):
        pd.testing.assert_frame_equal(pd.read_parquet(cal.block_path(tmp_path / "local", i)),
                                      pd.read_parquet(cal.block_path(tmp_path / "slurm", i)))  # fmt: skip
    scripts = list((tmp_path / "slurm/bank/jobs/.submitit").glob("*/*_submission.sh"))
    assert len(scripts) == 1 and "#SBATCH --array=0-2" in scripts[0].read_text()
    status = _status(tmp_path / "slurm" / "bank" / "jobs")
    assert status.returncode == 0 and "complete: all 3 tasks completed" in status.stdout, status.stdout


def test_parameter_set_blocks_as_slurm_array_tasks_equal_the_one_process_run(slurm, tmp_path):
    """params_from=prior split into 3 array tasks (set_blocks=3, set_block=range(3)): the same runs and sets
    tables as one process."""
    run = ["params_from=prior", "draws=12", "replicates=5", "scenario=election_loss", "figure=false"]
    one = tmp_path / "one"
    res = subprocess.run([sys.executable, "-m", "sim", *run, f"hydra.run.dir={one}"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=TIMEOUT_S)  # fmt: skip
    assert res.returncode == 0, res.stderr
    run_sweep(*run, "set_blocks=3", "set_block=range(3)", *ON_LOCAL_CLUSTER, f"hydra.sweep.dir={tmp_path / 'slurm'}",
              cwd=tmp_path, timeout=TIMEOUT_S)  # fmt: skip
    for table in ("runs", "sets"):
        pd.testing.assert_frame_equal(pd.read_parquet(one / f"{table}.parquet"),
                                      pd.read_parquet(tmp_path / "slurm" / f"{table}.parquet"))  # fmt: skip
