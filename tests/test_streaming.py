"""Large runs stream: runs.parquet goes out in row groups, the summary comes from running sums and equals the
whole table's, and progress reaches the log at a steady interval when stderr is not a terminal."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hydra import compose, initialize_config_dir

from sim.analysis.stats import RunsSummary, summary_table
from sim.commands.main_job import CONFIG_DIR, run_job
from sim.model.params import MILITIA_KEYS, MILITIAS, make_params
from sim.model.scenario import load_scenario
from sim.run import progress, stream
from sim.run.simulate import param_columns, simulate
from sim.run.storage import ParquetStream


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    """Runs with clashes, escalations and boycotts in them, so every row of the summary is exercised."""
    params = make_params(cells_per_militia=6, militia_independence=0.9, clash_kappa=3.0)
    return simulate(load_scenario("seed_timeline"), params, MILITIAS, seed=11, replicates=1500, daily_replicates=0,
                    progress=False)[0]  # fmt: skip


@pytest.mark.parametrize("chunk", [1, 7, 64, 1000, 1500])
def test_summary_from_running_sums_equals_the_whole_tables(runs, chunk):
    acc = RunsSummary()
    for lo in range(0, len(runs), chunk):
        acc.add(runs.iloc[lo : lo + chunk])
    whole = summary_table(runs, MILITIA_KEYS)
    assert runs["escalated"].any() and (runs["first_clash_day"] >= 0).any()
    pd.testing.assert_frame_equal(acc.table(MILITIA_KEYS), whole)
    clashed = runs.loc[runs["first_clash_day"] >= 0, "first_clash_day"]
    for q in (0.1, 0.25, 0.5, 0.75, 0.9):
        assert acc.first_clash_quantile(q) == pytest.approx(clashed.quantile(q), abs=1e-12)
    assert acc.sd("cohesion_house") == pytest.approx(runs["cohesion_house"].std(), rel=1e-9)
    assert acc.sd("clashes") == pytest.approx(runs["clashes"].std(), rel=1e-12)


def _cfg(*overrides: str):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose("config", overrides=["scenario=election_loss", "params.cells_per_militia=4", "figure=false",
                                            "progress=false", *overrides])  # fmt: skip


def test_runs_are_written_in_row_groups_and_equal_the_in_memory_tables(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "ROW_GROUP_ROWS", 250)
    monkeypatch.setattr(stream, "DAILY_ROW_GROUP_ROWS", 1)
    run_job(_cfg("replicates=1000", "daily_replicates=30", "chunk_size=100", "seed=4"), out_dir=tmp_path, quiet=True)
    assert pq.ParquetFile(tmp_path / "runs.parquet").metadata.num_row_groups == 4
    assert pq.ParquetFile(tmp_path / "daily.parquet").metadata.num_row_groups == 1  # chunks of 100 kept 30
    params = make_params(cells_per_militia=4)
    runs, daily = simulate(load_scenario("election_loss"), params, MILITIAS, seed=4, replicates=1000,
                           daily_replicates=30, progress=False)  # fmt: skip
    want = runs.assign(scenario="election_loss", seed=4, engine="vector", **param_columns(params))
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "runs.parquet"), want)
    daily.to_parquet(tmp_path / "whole_daily.parquet")  # as one table written at once (Parquet stores dates in ms)
    whole = pd.read_parquet(tmp_path / "whole_daily.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "daily.parquet"), whole)
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary files were renamed into place


def test_the_figure_holds_a_bounded_number_of_replicates(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "FIGURE_REPLICATES", 25)
    out = stream.stream_run(load_scenario("election_loss"), make_params(cells_per_militia=4), MILITIAS, tmp_path,
                            seed=1, replicates=200, engine="vector", metadata={}, daily_replicates=120,
                            chunk_size=40, progress=False)  # fmt: skip
    assert out.figure_daily["replicate"].nunique() == 25
    assert list(out.figure_daily.columns) == list(stream.FIGURE_COLUMNS)
    assert pd.read_parquet(tmp_path / "daily.parquet")["replicate"].nunique() == 120
    assert out.summary.n == 200


def test_an_interrupted_stream_leaves_no_file(tmp_path):
    with pytest.raises(RuntimeError), ParquetStream(tmp_path / "runs.parquet", row_group_rows=1) as out:
        out.write(pd.DataFrame({"a": [1, 2]}))
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_progress_lines_at_a_steady_interval_with_rate_and_eta(caplog):
    now = [0.0]
    caplog.set_level(logging.INFO, logger="sim.progress")
    with progress.LogProgress(1000, "seed_timeline (vector)", interval_s=30, clock=lambda: now[0]) as bar:
        for _ in range(10):
            now[0] += 10.0
            bar.update(100)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "seed_timeline (vector): 300/1,000 replicates (30.0%), 10/s, ETA 1:10"
    assert lines[1].startswith("seed_timeline (vector): 600/1,000")
    assert lines[2].startswith("seed_timeline (vector): 900/1,000")
    assert lines[-1] == "seed_timeline (vector): 1,000 replicates in 1:40" and len(lines) == 4


def test_a_short_run_logs_nothing_and_a_terminal_gets_the_bar(caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="sim.progress")
    with progress.LogProgress(10, "x", interval_s=30) as bar:
        bar.update(10)
    assert caplog.records == []
    assert isinstance(progress.progress_bar(10, None, "x"), progress.LogProgress)  # pytest's stderr: no terminal
    assert isinstance(progress.progress_bar(10, False, "x"), progress._Quiet)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert not isinstance(progress.progress_bar(10, None, "x"), progress.LogProgress | progress._Quiet)


def test_progress_reaches_the_console_and_the_runs_log_end_to_end(tmp_path):
    """`python -m sim` with stderr not a terminal (as under SLURM): progress lines in stdout and the run's log."""
    res = subprocess.run([sys.executable, "-m", "sim", "replicates=30000", "params.cells_per_militia=2",
                          "scenario=election_loss", "figure=false", "progress_interval_s=1", "chunk_size=500",
                          "workers=1", f"hydra.run.dir={tmp_path}/run"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr
    lines = [ln for ln in res.stdout.splitlines() if "election_loss (vector):" in ln]
    assert lines and "/30,000 replicates (" in lines[0] and "/s, ETA " in lines[0], res.stdout
    log = Path(tmp_path / "run").glob("*.log")
    assert any("/30,000 replicates (" in f.read_text() for f in log)
