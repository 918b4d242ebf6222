"""Tables anyone can open: a run's and a sweep's tables exported as CSV and as an Excel workbook read back
equal to the Parquet tables, every column has a unit in the second header row, and bad input is refused in
one line with nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from sweeps import run_sweep

import sim.export as export_cli
from sim.commands.main_job import CONFIG_DIR, run_job
from sim.run import export

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("config", overrides=["replicates=40", "daily_replicates=3", "figure=false"])
    run_job(cfg, out_dir=out, quiet=True)
    return out


def same(read: pd.DataFrame, table: pd.DataFrame) -> None:
    """``read`` (from a CSV or a sheet) holds ``table``'s values (dates as text, flags as 1/0)."""
    assert list(read.columns) == list(table.columns)
    for c in table.columns:
        if pd.api.types.is_datetime64_any_dtype(table[c]):
            assert (pd.to_datetime(read[c]) == table[c]).all(), c
        elif pd.api.types.is_numeric_dtype(table[c]) or pd.api.types.is_bool_dtype(table[c]):
            np.testing.assert_allclose(read[c].astype(float), table[c].astype(float), rtol=1e-12, err_msg=c)
        else:
            assert (read[c].fillna("").astype(str) == table[c].fillna("").astype(str)).all(), c  # "" reads as NaN


def test_run_tables_as_csv_with_units(run_folder, tmp_path):
    written = export.export(run_folder, "csv", tmp_path, "runs,daily")
    assert sorted(p.name for p in written) == ["daily.csv", "runs.csv"]
    for name in ("runs", "daily"):
        table = pd.read_parquet(run_folder / f"{name}.parquet")
        units = pd.read_csv(tmp_path / f"{name}.csv", nrows=1).iloc[0]
        missing = [c for c in table.columns if not isinstance(units[c], str) or not units[c]]
        assert not missing, f"{name}: columns without a unit: {missing}"
        same(pd.read_csv(tmp_path / f"{name}.csv", skiprows=[1]), table)
    assert pd.read_csv(tmp_path / "runs.csv", nrows=1)["param.patron_influence"].iloc[0] == "index 0-1"


def test_run_tables_as_one_workbook(run_folder, tmp_path):
    (path,) = export.export(run_folder, "xlsx", tmp_path, "runs,daily")
    for name in ("runs", "daily"):
        table = pd.read_parquet(run_folder / f"{name}.parquet")
        sheet = pd.read_excel(path, sheet_name=name, skiprows=[1])
        same(sheet, table)
        assert pd.read_excel(path, sheet_name=name, nrows=1)["escalated" if name == "runs" else "clash"].iloc[0] \
            == "1 = yes, 0 = no"


def test_a_sweeps_aggregate_tables_all_have_units(tmp_path):
    run_sweep("params.patron_influence=0.3,0.9", "replicates=10", f"hydra.sweep.dir={tmp_path / 's'}", cwd=ROOT)
    written = export.export(tmp_path / "s", "csv", tmp_path / "out", "all")
    assert {p.stem for p in written} == {"points", "runs", "daily"}
    for path in written:
        units = pd.read_csv(path, nrows=1).iloc[0]
        assert not [c for c, u in units.items() if not isinstance(u, str) or not u], path.name


@pytest.mark.parametrize(("args", "message"), [
    (["{run}", "--to", "xls"], "error: --to=xls is not allowed: csv or xlsx"),
    (["{tmp}/nowhere"], "does not exist"),
    (["{tmp}"], "has no Parquet tables"),
    (["{run}", "--tables", "points"], "--tables=points: points is not a table here; allowed: summary, daily, runs"),
])  # fmt: skip
def test_bad_input_is_one_line_exit_2_and_writes_nothing(run_folder, tmp_path, capsys, args, message):
    argv = [a.format(run=run_folder, tmp=tmp_path) for a in args] + ["--out", str(tmp_path / "out")]
    assert export_cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.startswith("error: ")
    assert not (tmp_path / "out").exists()


def test_a_table_too_long_for_a_sheet_is_refused_before_writing(run_folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(export, "SHEET_ROWS", 10)
    assert export_cli.main([str(run_folder), "--to", "xlsx", "--tables", "runs", "--out", str(tmp_path / "out")]) == 2
    assert "more than a spreadsheet sheet holds" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_by_default_a_run_exports_its_summary_and_a_sweep_its_points(run_folder, tmp_path, capsys):
    """Without --tables: a run's summary table (the rows of summary.txt, P(escalation) as printed), a sweep's
    points table; the sweep's aggregate/ folder works as well as the sweep folder."""
    assert export_cli.main([str(run_folder), "--out", str(tmp_path / "run")]) == 0
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["export.json", "summary.csv"]  # + the set's record
    summary = pd.read_csv(tmp_path / "run" / "summary.csv", skiprows=[1], dtype=str).set_index("outcome")
    printed = " ".join((run_folder / "summary.txt").read_text().split())
    row = summary.loc["escalation probability"]
    assert f"escalation probability {row['estimate']} {row['95% interval / spread']}" in printed
    run_sweep("params.patron_influence=0.3,0.9", "replicates=10", f"hydra.sweep.dir={tmp_path / 's'}", cwd=ROOT)
    for where in (tmp_path / "s", tmp_path / "s" / "aggregate"):
        out = tmp_path / f"out_{where.name}"
        assert export_cli.main([str(where), "--out", str(out)]) == 0
        assert sorted(p.name for p in out.iterdir()) == ["export.json", "points.csv"]
    points = pd.read_csv(tmp_path / "out_s" / "points.csv", skiprows=[1])
    same(points, pd.read_parquet(tmp_path / "s" / "aggregate" / "points.parquet"))


def test_a_large_export_states_its_sizes_before_writing(run_folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(export, "LARGE_MB", 0.0)
    assert export_cli.main([str(run_folder), "--tables", "all", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out.splitlines()
    first_write = next(i for i, line in enumerate(out) if line.startswith("wrote "))
    said = out[:first_write]
    assert said[0].startswith("a large export, about ") and " MB as CSV" in said[0]
    rows = len(pd.read_parquet(run_folder / "runs.parquet"))
    assert any(line.startswith(f"  runs: {rows:,} rows x ") for line in said)
    assert any(line.startswith("  daily: ") for line in said)
