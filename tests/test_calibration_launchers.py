"""The calibration's bank as Hydra jobs: one block per job under basic, joblib and submitit_local gives the
blocks (and the bank) that the in-process run gives, bit for bit; a rerun launches only missing blocks."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.analysis import calibration as cal

SMALL = cal.Settings(draws=60, replicates=2, seed=5, block=20)


@pytest.fixture(scope="module")
def local_bank(tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    return out, cal.run_bank(out, SMALL, cal.load_targets(), progress=False)


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["basic", "joblib", "submitit_local"])
def test_bank_blocks_as_jobs_equal_the_local_bank(local_bank, tmp_path, launcher):
    out, bank = local_bank
    via = cal.run_bank(tmp_path, SMALL, cal.load_targets(), progress=False, launcher=launcher)
    pd.testing.assert_frame_equal(bank, via)
    for i in range(3):
        pd.testing.assert_frame_equal(pd.read_parquet(cal.block_path(out, i)),
                                      pd.read_parquet(cal.block_path(tmp_path, i)))  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "bank" / "jobs").iterdir() if p.is_dir() and p.name.isdigit()) == [
        "0", "1", "2"]  # fmt: skip


@pytest.mark.slow
def test_a_rerun_launches_only_the_missing_blocks(local_bank, tmp_path):
    out, bank = local_bank
    for i in (0, 2):  # two blocks already stored (copied from the local run)
        cal.block_path(tmp_path, i).parent.mkdir(parents=True, exist_ok=True)
        cal.block_path(tmp_path, i).write_bytes(cal.block_path(out, i).read_bytes())
    assert cal.missing_blocks(tmp_path, SMALL) == [1]
    via = cal.run_bank(tmp_path, SMALL, cal.load_targets(), progress=False, launcher="basic")
    pd.testing.assert_frame_equal(bank, via)
    assert [p.name for p in (tmp_path / "bank" / "jobs").iterdir() if p.name.isdigit()] == ["0"]  # one job


def test_a_bad_block_job_is_refused_with_one_line(tmp_path):
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "sim", f"+calibration.out={tmp_path}", "+calibration.draws=60",
                          "+calibration.replicates=2", "+calibration.seed=5", "+calibration.block_size=20",
                          "+calibration.block=3"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert res.returncode == 2 and res.stderr == "error: calibration.block=3 is out of range: allowed [0, 2]\n"
