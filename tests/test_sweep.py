"""Sweeps: launcher-, split- and order-independent results; resumable after kill -9; aggregation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from sweeps import kill_when_stored, run_sweep, sweep_tables

from sim.commands.main_job import CONFIG_DIR, run_sweep_job
from sim.model.params import MILITIAS, make_militias, make_params
from sim.model.scenario import load_scenario
from sim.run.sweep import SweepPoint, aggregate, run_points

EXPERIMENTS = sorted(p.stem for p in (Path(CONFIG_DIR) / "experiment").glob("*.yaml"))
TINY = ["replicates=40", "params.cells_per_militia=5", "scenario=attack_and_intervention"]


@pytest.mark.slow
def test_aggregate_independent_of_launcher(tmp_path):
    """basic, joblib and submitit_local launchers give identical aggregated tables."""
    args = [*TINY, "params.patron_influence=0.3,0.9", "+grid.militia_independence=[0.2,0.8]"]
    out = {}
    for launcher in ("basic", "joblib", "submitit_local"):
        run_sweep(*args, f"launcher={launcher}", f"hydra.sweep.dir={tmp_path / launcher}", cwd=tmp_path)
        out[launcher] = sweep_tables(tmp_path / launcher)
    for launcher in ("joblib", "submitit_local"):
        pd.testing.assert_frame_equal(out["basic"][0], out[launcher][0])
        pd.testing.assert_frame_equal(out["basic"][1], out[launcher][1])
    assert len(out["basic"][0]) == 4


def test_aggregate_independent_of_how_points_are_split(tmp_path):
    """The same four points split across jobs differently (and chunked differently) give the same tables."""
    run_sweep(*TINY, "params.patron_influence=0.3,0.9", "+grid.militia_independence=[0.2,0.8]",
              f"hydra.sweep.dir={tmp_path / 'a'}", cwd=tmp_path)  # fmt: skip
    run_sweep(*TINY, "params.militia_independence=0.8,0.2", "+grid.patron_influence=[0.9,0.3]", "chunk_size=7",
              f"hydra.sweep.dir={tmp_path / 'b'}", cwd=tmp_path)  # fmt: skip
    a, b = sweep_tables(tmp_path / "a"), sweep_tables(tmp_path / "b")
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])


def _points(n_points: int, replicates: int = 30) -> list[SweepPoint]:
    sc = load_scenario("election_loss")
    return [
        SweepPoint("t", sc, (), make_params(cells_per_militia=4, patron_influence=0.1 * i), MILITIAS, replicates, 5)
        for i in range(n_points)
    ]


def test_point_seed_and_key_depend_on_content_only():
    """A point's seed and key do not change with its position or neighbours; they change with its content."""
    a, b = _points(3), _points(5)
    assert [p.seed for p in a] == [p.seed for p in b[:3]]
    assert len({p.seed for p in b}) == 5
    moved = SweepPoint("other-study", a[0].scenario, (), a[0].params, MILITIAS, 30, 5)
    assert moved.seed == a[0].seed  # the study name is a label, not part of the model
    assert SweepPoint("t", a[0].scenario, (), a[0].params, MILITIAS, 30, 6).seed != a[0].seed
    changed = make_militias({"kss": {"loyalty": 0.1}})
    assert SweepPoint("t", a[0].scenario, (), a[0].params, changed, 30, 5).seed != a[0].seed
    assert SweepPoint("t", a[0].scenario, (), a[0].params, MILITIAS, 60, 5).seed == a[0].seed  # more replicates


def test_finished_points_are_not_recomputed(tmp_path):
    """Running the same points again runs nothing; a point split across blocks equals it run whole."""
    pts = _points(3)
    assert len(run_points(pts, tmp_path / "x", chunk_size=1000, progress=False)) == 3
    (block,) = (tmp_path / "x/blocks").glob("*.parquet")
    stamp = block.stat().st_mtime_ns
    assert run_points(pts, tmp_path / "x", progress=False) == []
    assert block.stat().st_mtime_ns == stamp  # the block is left as it is
    run_points(pts, tmp_path / "y", chunk_size=7, progress=False)  # points split across blocks
    ax, ay = aggregate(tmp_path / "x")["tables"], aggregate(tmp_path / "y")["tables"]
    pd.testing.assert_frame_equal(ax["points"], ay["points"])
    pd.testing.assert_frame_equal(ax["daily"], ay["daily"])


def test_streamed_aggregate_tables_equal_the_in_memory_ones(tmp_path):
    """The runs and daily tables written point by point (keep_rows=False) hold exactly the rows that the
    in-memory aggregation returns, and the report says the same either way."""
    run_points(_points(3), tmp_path, chunk_size=7, progress=False)
    kept = aggregate(tmp_path, write=False)
    streamed = aggregate(tmp_path, keep_rows=False)
    assert set(streamed["tables"]) == set()  # no table is held in memory: each is written a block at a time
    assert streamed["n_points"] == kept["n_points"] == 3
    for name in ("points", "runs", "daily"):
        on_disk = pd.read_parquet(tmp_path / "aggregate" / f"{name}.parquet")
        assert len(on_disk) == len(kept["tables"][name]) > 0
        pd.testing.assert_frame_equal(on_disk, kept["tables"][name])
    assert not list((tmp_path / "aggregate").glob(".*.tmp"))  # no temporary file left behind


def test_aggregate_reports_unfinished_jobs(tmp_path):
    """A job that started but never finished is reported, its points listed missing, and the CLI exits 1."""
    pts = _points(2)
    run_points(pts[:1], tmp_path, progress=False)
    (tmp_path / "jobs").mkdir(exist_ok=True)
    marker = {"store": 2, "job_key": "deadbeef", "points": [p.key for p in pts], "overrides": ["x=1"],
              "status": "started"}
    (tmp_path / "jobs/deadbeef.json").write_text(json.dumps(marker))
    report = aggregate(tmp_path)
    assert report["n_points"] == 1 and report["missing_points"] == [pts[1].key]
    assert [j["job_key"] for j in report["unfinished_jobs"]] == ["deadbeef"]
    res = subprocess.run([sys.executable, "-m", "sim.aggregate", str(tmp_path)], capture_output=True, text=True)
    assert res.returncode == 1 and "did not finish" in res.stdout and "x=1" in res.stdout


@pytest.mark.slow
def test_kill_minus_nine_then_resume_equals_uninterrupted(tmp_path):
    """kill -9 part-way through a sweep; starting it again runs only the missing points, and the final
    tables equal an uninterrupted sweep's."""
    args = ["replicates=400", "params.cells_per_militia=10", "scenario=seed_timeline",
            "params.patron_influence=0.1,0.25,0.4,0.55,0.7,0.85"]  # fmt: skip
    full = tmp_path / "full"
    run_sweep(*args, f"hydra.sweep.dir={full}", cwd=tmp_path)
    cut = tmp_path / "cut"
    done_before = kill_when_stored([sys.executable, "-m", "sim", "-m", *args, f"hydra.sweep.dir={cut}"], cut, 2,
                                   cwd=tmp_path, timeout=120)  # fmt: skip
    assert 2 <= done_before < 6, done_before
    assert aggregate(cut)["n_points"] == done_before  # the partial sweep aggregates
    res = run_sweep(*args, f"hydra.sweep.dir={cut}", cwd=tmp_path)
    assert res.stdout.count("ran 0,") == done_before  # finished points are not recomputed
    assert res.stdout.count("ran 1,") == 6 - done_before
    a, b = sweep_tables(full), sweep_tables(cut)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_composes_and_runs_a_job(name, tmp_path):
    """Each study composes as a multirun with a documented question, a grid and a sweep; one tiny job runs."""
    text = (Path(CONFIG_DIR) / "experiment" / f"{name}.yaml").read_text()
    assert text.startswith("# @package _global_") and "Question:" in text
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("config", overrides=[f"experiment={name}"], return_hydra_config=True)
    assert cfg.study == name and (cfg.grid or cfg.design or cfg.get("policies")) and cfg.hydra.sweeper.params
    assert str(cfg.hydra.mode) == "RunMode.MULTIRUN"
    cfg.replicates = 3
    cfg.params.cells_per_militia = 3
    if cfg.design:  # a design's job: two of its rows
        from sim.run.designs import DesignSpec
        from sim.run.validate import design_rows

        cfg.design.blocks = design_rows(DesignSpec.from_config(cfg.design)) // 2
    if cfg.get("policies"):  # a policy study's job: two scenarios x its named policies, in one block
        cfg.policies.scenarios, cfg.policies.blocks = 2, 1
    from omegaconf import OmegaConf

    scenario = load_scenario(cfg.scenario.name)
    militias = make_militias(OmegaConf.to_container(cfg.militias))
    res = run_sweep_job(cfg, scenario, militias, tmp_path, [], quiet=True)
    assert res["ran"] == res["points"] >= 2
    assert aggregate(tmp_path)["n_points"] == res["points"]
