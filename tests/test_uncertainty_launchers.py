"""A run under parameter uncertainty split into jobs (set_blocks=N, set_block=range(N)) under basic, joblib and
submitit_local: its runs and sets tables equal the one-process run's; a missing block is named, not guessed."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from sweeps import run_sweep

RUN = ["params_from=prior", "draws=12", "replicates=5", "scenario=election_loss", "figure=false"]


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    out = tmp_path_factory.mktemp("one")
    res = subprocess.run([sys.executable, "-m", "sim", *RUN, f"hydra.run.dir={out}"], cwd=out, capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr
    return out


def _same(a, b) -> None:
    for table in ("runs", "sets"):
        pd.testing.assert_frame_equal(pd.read_parquet(a / f"{table}.parquet"), pd.read_parquet(b / f"{table}.parquet"))


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["basic", "joblib", "submitit_local"])
def test_set_blocks_as_jobs_equal_the_one_process_run(one_process, tmp_path, launcher):
    root = tmp_path / "blocks"
    run_sweep(*RUN, "set_blocks=3", "set_block=range(3)", f"launcher={launcher}", f"hydra.sweep.dir={root}",
              cwd=tmp_path)  # fmt: skip
    blocks = sorted(p.name for p in (root / "sets").glob("block_*.parquet"))
    assert blocks == [f"block_000{i}.parquet" for i in range(3)]
    _same(one_process, root)


@pytest.mark.slow
def test_a_missing_block_is_named_and_a_rerun_completes(one_process, tmp_path):
    root = tmp_path / "blocks"
    run_sweep(*RUN, "set_blocks=3", "set_block=0,2", f"hydra.sweep.dir={root}", cwd=tmp_path)
    assert not (root / "runs.parquet").exists()
    agg = subprocess.run([sys.executable, "-m", "sim.aggregate", str(root)], capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert agg.returncode == 1 and "1 block(s) of parameter sets missing (1)" in agg.stderr
    run_sweep(*RUN, "set_blocks=3", "set_block=1", f"hydra.sweep.dir={root}", cwd=tmp_path)
    _same(one_process, root)


def test_set_block_out_of_range_is_refused_in_one_line(tmp_path):
    res = subprocess.run([sys.executable, "-m", "sim", *RUN, "set_blocks=3", "set_block=3"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert res.returncode == 2 and res.stderr == "error: set_block=3 is out of range: allowed [0, 2] (set_blocks=3)\n"
