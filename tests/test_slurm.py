"""launcher=submitit_slurm end to end on the local SLURM cluster (experiments/slurm/local_cluster.sh):
same tables as the basic launcher; a cancelled array task ends the sweep with one line; a rerun resumes."""

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
