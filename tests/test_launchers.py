"""Launchers without a cluster: the SLURM site file composes for submitit_slurm only (local launchers run
unchanged beside it), and a sweep whose jobs fail or vanish ends with one line instead of waiting."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from sim.commands.main_job import CONFIG_DIR
from sim.run import launchers

SITE = """\
partition: sitepart
account: siteacct
timeout_min: 30
mem_gb: 1
cpus_per_task: 1
array_parallelism: 3
"""
TINY = ["replicates=20", "params.cells_per_militia=5", "scenario=attack_and_intervention",
        "params.patron_influence=0.3,0.9", "+grid.militia_independence=[0.2,0.8]"]  # fmt: skip


@pytest.fixture
def configs_with_site_file(tmp_path) -> Path:
    """A copy of configs/ with a SLURM site file in local/slurm.yaml, where a user puts theirs."""
    conf = tmp_path / "configs"
    _copy_configs(conf)
    (conf / "local" / "slurm.yaml").write_text(SITE)
    return conf


def _copy_configs(dest: Path) -> None:
    """configs/ without this machine's own local/ files (tracked ones only)."""
    tracked = {"README.md", "example_slurm.yaml"}
    shutil.copytree(CONFIG_DIR, dest, ignore=lambda d, names: [n for n in names if Path(d).name == "local"
                                                                and n not in tracked])  # fmt: skip


def _launcher_cfg(config_dir: Path, launcher: str):
    with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
        return compose("config", overrides=[f"launcher={launcher}"], return_hydra_config=True).hydra.launcher


def test_site_file_is_read_only_by_the_slurm_launcher(configs_with_site_file):
    """The site file sets the SLURM launcher's partition, account and limits; no other launcher sees it."""
    slurm = _launcher_cfg(configs_with_site_file, "submitit_slurm")
    assert (slurm.partition, slurm.account, slurm.timeout_min, slurm.mem_gb, slurm.array_parallelism) == (
        "sitepart", "siteacct", 30, 1, 3,
    )  # fmt: skip
    assert slurm._target_ == "hydra_plugins.sim_launchers.SlurmLauncher"
    for launcher in ("basic", "joblib", "submitit_local"):
        assert "partition" not in _launcher_cfg(configs_with_site_file, launcher), launcher


def test_slurm_defaults_fit_a_small_node(tmp_path):
    """Without a site file the SLURM launcher asks for 1 CPU and at most 2 GB per task."""
    conf = tmp_path / "configs"
    _copy_configs(conf)
    slurm = _launcher_cfg(conf, "submitit_slurm")
    assert slurm.cpus_per_task == 1 and slurm.mem_gb <= 2 and slurm.partition is None


@pytest.mark.slow
def test_local_launchers_run_with_the_site_file_in_place(configs_with_site_file, tmp_path):
    """basic, joblib and submitit_local sweeps run and agree while configs/local/slurm.yaml exists."""
    tables = {}
    for launcher in ("basic", "joblib", "submitit_local"):
        out = tmp_path / launcher
        res = subprocess.run(
            [sys.executable, "-m", "sim", "--config-dir", str(configs_with_site_file), "-m", *TINY,
             f"launcher={launcher}", f"hydra.sweep.dir={out}"],
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert res.returncode == 0, res.stdout + res.stderr
        tables[launcher] = pd.read_parquet(out / "aggregate/points.parquet").drop(columns=["experiment"])
    assert len(tables["basic"]) == 4
    for launcher in ("joblib", "submitit_local"):
        pd.testing.assert_frame_equal(tables["basic"], tables[launcher])


# ----------------------------------------------------------------------------- failed jobs


class FakeJob:
    """Just what ``collect`` uses of a submitit job."""

    def __init__(self, tmp: Path, job_id: str, outcome: str, state: str = "COMPLETED") -> None:
        self.job_id, self.outcome, self.state, self.polls = job_id, outcome, state, 0
        self.paths = type("Paths", (), {"result_pickle": tmp / f"{job_id}_result.pkl"})()
        if outcome in ("ok", "raised"):
            self.paths.result_pickle.write_text("x")

    def done(self) -> bool:
        self.polls += 1
        assert self.polls < 100, f"still waiting for {self.job_id} after {self.polls} polls"  # a hang fails
        return self.outcome != "vanished"  # a vanished job never looks done to sacct: only squeue tells

    def results(self) -> list:
        if self.outcome == "raised":
            raise RuntimeError(
                "Job (task=0) failed during processing with trace:\n----------------------\n"
                "Traceback (most recent call last):\n  File x\nValueError: boom\n----------------------\n"
                "You can check full logs with 'job.stderr(0)' and 'job.stdout(0)'or at paths:\n  - /a.err\n  - /a.out"
            )
        return [f"result {self.job_id}"]


class FakeClock:
    """Time that passes only when slept through."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def no_waiting(monkeypatch):
    monkeypatch.setattr(launchers, "RESULT_GRACE_S", 0.0)
    monkeypatch.setattr(launchers, "time", FakeClock())


def test_collect_returns_results_in_order(tmp_path, no_waiting):
    jobs = [FakeJob(tmp_path, f"7_{i}", "ok") for i in range(3)]
    assert launchers.collect(jobs, tmp_path, queue=lambda: set()) == ["result 7_0", "result 7_1", "result 7_2"]


def test_collect_names_every_failed_job_in_one_line(tmp_path, no_waiting):
    """A cancelled job, a job that raised and one SLURM lost track of (absent from squeue, sacct still
    says PENDING) end the sweep with one line naming all three and saying how to resume."""
    jobs = [FakeJob(tmp_path, "7_0", "ok"), FakeJob(tmp_path, "7_1", "cancelled", "CANCELLED by 0"),
            FakeJob(tmp_path, "7_2", "raised"), FakeJob(tmp_path, "7_3", "vanished", "PENDING")]  # fmt: skip
    with pytest.raises(SystemExit) as exc:
        launchers.collect(jobs, tmp_path, queue=lambda: {"99_0"})
    msg = str(exc.value.code)
    assert "\n" not in msg and msg.startswith("error: 3 of 4 slurm jobs did not finish: ")
    assert "7_1 (CANCELLED by 0)" in msg and "7_2 (raised ValueError: boom)" in msg
    assert "7_3 (left the queue without a result" in msg and "7_0" not in msg
    assert "run the same command again" in msg and str(tmp_path) in msg


def test_wait_all_trusts_the_queue_only_when_it_answers(tmp_path, no_waiting):
    """A job absent from squeue twice in a row has ended; when squeue cannot answer (None) nothing is
    concluded from it, so the wait goes on (cut short here by a queue that answers later)."""
    answers = iter([None, None, None, set(), set()])
    calls = []

    def queue():
        calls.append(1)
        return next(answers)

    launchers.wait_all([FakeJob(tmp_path, "8_0", "vanished")], queue)
    assert len(calls) == 5
