"""A sweep a newcomer can read: the multirun ends with its points table (P(escalation) and its Wilson interval
per point, capped with a pointer to the file), every command takes the sweep folder or its aggregate/ folder,
sim.status says when the tables are written, and `python -m sim --help` lists the groups and settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sweeps import run_sweep

from sim.run import points_summary
from sim.run.folders import sweep_root, tables_dir

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("sweep") / "s"
    res = run_sweep("params.patron_influence=0.2,0.8", "+grid.militia_independence=[0.3,0.6]", "replicates=30",
                    "params.cells_per_militia=5", f"hydra.sweep.dir={root}", cwd=ROOT)  # fmt: skip
    return root, res.stdout


def test_a_multirun_ends_with_its_points_table(sweep):
    """One line per point: the swept values, runs, P(escalation) and its Wilson interval as the points table
    holds them."""
    root, stdout = sweep
    points = pd.read_parquet(root / "aggregate" / "points.parquet")
    assert "4 point(s)" in stdout and "P(escalation)" in stdout and "Wilson 95%" in stdout
    lines = stdout.splitlines()
    for _, r in points.iterrows():
        head = [f"{r['param.patron_influence']:.4g}", f"{r['param.militia_independence']:.4g}"]
        found = [ln for ln in lines if ln.split()[:2] == head]
        assert len(found) == 1, (head, stdout)
        assert f"{r['p_escalation']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]" in found[0]


def test_a_long_points_table_is_capped_with_a_pointer_to_the_file(sweep):
    root, _ = sweep
    text = points_summary.text(root, shown=2)
    assert text.count("\n") == 4  # heading, column names, two points, the pointer
    assert f"... 2 more point(s) in {root / 'aggregate' / 'points.parquet'} (python -m sim.export {root}" in text


def test_every_command_takes_the_sweep_folder_or_its_aggregate_folder(sweep, tmp_path):
    root, _ = sweep
    assert sweep_root(root / "aggregate") == root and sweep_root(root) == root
    assert tables_dir(root) == root / "aggregate" and tables_dir(root / "aggregate") == root / "aggregate"
    for where in (root, root / "aggregate"):
        for command in (["sim.plot", str(where), "--kind", "heatmap", "--out", str(tmp_path / where.name)],
                        ["sim.aggregate", str(where)], ["sim.status", str(where)],
                        ["sim.export", str(where), "--out", str(tmp_path / f"x_{where.name}")]):  # fmt: skip
            res = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True,
                                 timeout=300)  # fmt: skip
            assert res.returncode == 0, (command, res.stdout, res.stderr)
    assert (tmp_path / "s" / "escalation_heatmap.png").exists()
    assert (tmp_path / "aggregate" / "escalation_heatmap.png").exists()


def test_status_knows_when_a_sweep_is_aggregated(sweep, tmp_path):
    import shutil

    from sim.run.status import COMPLETE, main_status

    root, _ = sweep
    code, text = main_status(root)
    assert code == COMPLETE and "verdict: complete and aggregated: all 4 points done, verified and in " in text
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    (copy / "aggregate" / "report.json").unlink()  # tables not written (or written by an older run)
    code, text = main_status(copy)
    assert code == COMPLETE and f"aggregate with python -m sim.aggregate {copy}" in text


def test_help_lists_the_config_groups_settings_and_commands():
    res = subprocess.run([sys.executable, "-m", "sim", "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert res.returncode == 0 and not res.stderr
    out = res.stdout
    for group in ("scenario", "counterfactual", "experiment", "launcher"):
        assert f"{group}=<name>" in out
        for f in (ROOT / "configs" / group).glob("*.yaml"):
            assert f"  {f.stem} " in out, f.stem
    assert "  replicates=2000 " in out and "params.<name>=value" in out and "python -m sim.status" in out
    assert "is powered by Hydra" not in out  # Hydra's stock text stays at --hydra-help
