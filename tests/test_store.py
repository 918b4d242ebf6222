"""The sweep store (sim.run.store): a block per job, a point the unit of resume and verification. A job killed
half-way keeps its finished points; a damaged block is named point by point and only its damaged points are
computed again; status and aggregation agree; old per-point folders are refused with one line and convert to the
same tables; a small Sobol study gives the same points table and indices as the per-point store did."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sweeps import copy_sweep, fingerprint, reference_sweep, run_sweep, small_points

import sim.aggregate as agg_cli
from sim.model.params import MILITIAS, make_params
from sim.run import store
from sim.run.status import main_status
from sim.run.sweep import SweepPoint, aggregate, check_sweep, job_key, run_points

DATA = Path(__file__).parent / "data"


def _points(n: int = 4, replicates: int = 30) -> list[SweepPoint]:
    return small_points(n, replicates, step=0.2)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, list[SweepPoint]]:
    """Four finished points in one job's block, never damaged: the tables every repaired sweep must equal."""
    return reference_sweep(tmp_path_factory.mktemp("reference"), _points(), chunk_size=45)


def _tables(root: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    t = aggregate(root, write=False)["tables"]
    runs = t["runs"].sort_values(["point_key", "replicate"]).reset_index(drop=True)
    daily = t["daily"].sort_values(["point_key", "day"]).reset_index(drop=True)
    return t["points"], runs, daily


def _same(a: Path, b: Path) -> None:
    for x, y in zip(_tables(a), _tables(b), strict=True):
        pd.testing.assert_frame_equal(x, y)


def test_one_block_and_one_manifest_per_job(reference):
    root, pts = reference
    job = job_key(pts)
    assert sorted(p.name for p in (root / store.BLOCKS).iterdir()) == [f"{job}.parquet"]
    assert sorted(p.name for p in (root / store.JOBS).iterdir()) == [f"{job}.json"]
    manifest = json.loads((root / store.JOBS / f"{job}.json").read_text())
    assert manifest["status"] == "done" and sorted(manifest["entries"]) == sorted(p.key for p in pts)
    assert manifest["environment"]["versions"]["pyarrow"] == pa.__version__
    assert json.loads((root / store.SETTINGS).read_text())["settings"] == {"study": "t", "seed": 5, "replicates": 30,
                                                                          "daily": "hazard"}
    table = pq.read_table(root / store.BLOCKS / f"{job}.parquet")
    assert table.num_rows == 4 and table.column("replicates").to_pylist() == [30] * 4  # a row per point


# ----------------------------------------------------------------------------- a job killed half-way

KILLED_AFTER = """
import os, sys
sys.path.insert(0, {tests!r})
from test_store import _points
from sim.run import store
from sim.run.sweep import run_points
real, calls = store.Job.add, [0]
def add(self, finished):
    real(self, finished)
    calls[0] += 1
    if calls[0] == 2:  # two batches of points stored: the process dies as kill -9 would leave it
        os._exit(9)
store.Job.add = add
run_points(_points(), sys.argv[1], progress=False, chunk_size=45, workers=1)
"""


def test_a_half_written_block_keeps_its_finished_points_and_a_rerun_does_only_the_rest(reference, tmp_path):
    root = tmp_path / "sweep"
    script = tmp_path / "killed.py"
    script.write_text(KILLED_AFTER.format(tests=str(Path(__file__).parent)))
    res = subprocess.run([sys.executable, str(script), str(root)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 9, res.stderr
    job = job_key(_points())
    assert (root / store.BLOCKS / f"{job}.journal").exists() and not (root / store.BLOCKS / f"{job}.parquet").exists()
    code, text = main_status(root)
    assert code == 1 and "points: " in text  # nothing runs: incomplete
    ran = run_points(_points(), root, progress=False)
    assert 0 < len(ran) < 4  # the points in the journal were kept, only the rest ran
    assert not (root / store.BLOCKS / f"{job}.journal").exists()
    _same(root, reference[0])
    assert run_points(_points(), root, progress=False) == []


def test_the_status_command_reads_a_killed_jobs_journal(tmp_path):
    """sim.status runs without pandas; reading the journal of a job that was started (its manifest says so, as a
    cluster task's does) and killed once gave pyarrow's AttributeError there."""
    root = tmp_path / "sweep"
    script = tmp_path / "killed.py"
    script.write_text(KILLED_AFTER.format(tests=str(Path(__file__).parent)))
    subprocess.run([sys.executable, str(script), str(root)], capture_output=True, timeout=300)
    store.Job(root, job_key(_points()), _points(), []).mark("started", started=0.0)
    res = subprocess.run([sys.executable, "-m", "sim.status", str(root)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    done = int(res.stdout.split(" done,")[0].rsplit(" ", 1)[1])
    assert 0 < done < 4, res.stdout  # the journal's points counted


def test_a_journal_cut_short_keeps_the_batches_before_the_cut(reference, tmp_path):
    root = tmp_path / "sweep"
    script = tmp_path / "killed.py"
    script.write_text(KILLED_AFTER.format(tests=str(Path(__file__).parent)))
    subprocess.run([sys.executable, str(script), str(root)], capture_output=True, timeout=300)
    journal = root / store.BLOCKS / f"{job_key(_points())}.journal"
    data = journal.read_bytes()
    journal.write_bytes(data[: len(data) - 1000])  # the last batch half-written
    ran = run_points(_points(), root, progress=False)
    assert 0 < len(ran) < 4
    _same(root, reference[0])


# ----------------------------------------------------------------------------- damage


def _block(root: Path, pts) -> Path:
    return root / store.BLOCKS / f"{job_key(pts)}.parquet"


def _manifest(root: Path, pts) -> Path:
    return root / store.JOBS / f"{job_key(pts)}.json"


def _rewrite(root: Path, pts, edit) -> None:
    """Rewrite the block with ``edit`` applied to its table, the manifest's block hash made to match (as a careful
    forger would), so that only the per-point checks can find what changed."""
    import hashlib

    table = pq.read_table(_block(root, pts))
    table = edit(table)
    pq.write_table(table, _block(root, pts), compression="zstd")
    manifest = json.loads(_manifest(root, pts).read_text())
    manifest["block"]["sha256"] = hashlib.sha256(_block(root, pts).read_bytes()).hexdigest()
    _manifest(root, pts).write_text(json.dumps(manifest))


def _set(table: pa.Table, column: str, row: int, value) -> pa.Table:
    values = table.column(column).to_pylist()
    values[row] = value
    at = table.schema.get_field_index(column)
    return table.set_column(at, column, pa.array(values, table.schema.field(column).type))


def _truncate(root, pts):
    data = _block(root, pts).read_bytes()
    _block(root, pts).write_bytes(data[: len(data) // 2])


def _flip_value(root, pts):  # one replicate's outcome changed, the file otherwise as written
    def edit(t):
        runs = t.column("runs.escalated").to_pylist()
        runs[1][0] = not runs[1][0]
        return _set(t, "runs.escalated", 1, runs[1])
    _rewrite(root, pts, edit)


def _forged_hash(root, pts):  # the value changed and its content hash recomputed in block and manifest
    def edit(t):
        runs = t.column("runs.clashes").to_pylist()
        runs[1][3] += 1
        t = _set(t, "runs.clashes", 1, runs[1])
        new = store.recomputed_hashes(t)[1]
        return _set(t, "content_hash", 1, new)
    _rewrite(root, pts, edit)


def _edited_identity(root, pts):  # the stored identity claims another parameter value
    def edit(t):
        ident = json.loads(t.column("identity")[1].as_py())
        ident["params"]["patron_influence"] = 0.99
        return _set(t, "identity", 1, json.dumps(ident, sort_keys=True))
    _rewrite(root, pts, edit)


def _foreign_row(root, pts):  # a row of another sweep's block appended
    other = Path(str(root) + "-other")
    run_points([SweepPoint("t", pts[0].scenario, (), make_params(cells_per_militia=4, patron_influence=0.95),
                           MILITIAS, 30, 5)], other, progress=False)  # fmt: skip
    foreign = pq.read_table(next((other / store.BLOCKS).glob("*.parquet")))
    _rewrite(root, pts, lambda t: pa.concat_tables([t, foreign.cast(t.schema)]))


def _missing_block(root, pts):
    _block(root, pts).unlink()


def _garbage_manifest(root, pts):
    _manifest(root, pts).write_text('{"store": ')


def _manifest_of_another_job(root, pts):
    manifest = json.loads(_manifest(root, pts).read_text())
    manifest["job_key"] = "0123456789abcdef"
    _manifest(root, pts).write_text(json.dumps(manifest))


# damage -> (the points it harms, by index into the reference's points; a text the one line holds)
DAMAGE = {
    "truncated": (_truncate, [0, 1, 2, 3], "truncated, altered or replaced"),
    "flipped_value": (_flip_value, [1], "differ from their record"),
    "forged_hash": (_forged_hash, [1], "hashes differ from the manifest"),
    "edited_identity": (_edited_identity, [1], "identity does not give its key"),
    "missing_block": (_missing_block, [0, 1, 2, 3], "is missing"),
}


def _row_order(root, pts) -> list[str]:
    return pq.read_table(_block(root, pts), columns=["point_key"]).column("point_key").to_pylist()


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_block_is_named_point_by_point_and_status_and_aggregation_agree(damage, reference, tmp_path):
    root, pts = copy_sweep(reference, tmp_path)
    order = _row_order(root, pts)
    harm, which, why = DAMAGE[damage]
    harm(root, pts)
    harmed = {order[i] for i in which}
    report = aggregate(root, write=False)
    assert {c["point_key"] for c in report["corrupt_points"]} == harmed
    assert all(why in c["problem"] for c in report["corrupt_points"]), report["corrupt_points"]
    assert report["n_points"] == 4 - len(harmed)
    code, text = main_status(root)
    assert code == 1 and f"{len(harmed)} damaged" in text  # the same points, the same verdict
    assert set(check_sweep(root).damaged) == harmed
    assert sorted(p.key for p in run_points(pts, root, progress=False)) == sorted(harmed)  # only those again
    _same(root, reference[0])
    assert main_status(root)[0] == 0


def test_the_aggregate_command_names_each_damaged_point_in_one_line(reference, tmp_path, capsys):
    root, pts = copy_sweep(reference, tmp_path)
    order = _row_order(root, pts)
    _flip_value(root, pts)
    assert agg_cli.main([str(root)]) == 1
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert err == [f"error: point {order[1]}: its values in {job_key(pts)}.parquet differ from their record "
                   "(damaged); not aggregated (rerun the sweep to recompute it)"], err


@pytest.mark.parametrize("damage", [_foreign_row, _garbage_manifest, _manifest_of_another_job])
def test_a_foreign_or_unreadable_unit_is_named_and_never_counted(damage, reference, tmp_path):
    root, pts = copy_sweep(reference, tmp_path)
    damage(root, pts)
    report = aggregate(root, write=False)
    assert report["n_points"] in (0, 4) and (report["corrupt_points"] or report["unreadable_jobs"])
    if report["n_points"]:
        assert set(report["tables"]["points"]["point_key"]) == {p.key for p in pts}
    code, text = main_status(root)
    assert code == 1, text


# ----------------------------------------------------------------------------- the sweep's settings


def test_a_second_sweep_with_other_settings_is_refused_in_one_line(tmp_path):
    root = tmp_path / "sweep"
    args = ["replicates=6", "params.cells_per_militia=3", "scenario=election_loss", "params.patron_influence=0.2,0.8"]
    run_sweep(*args, f"hydra.sweep.dir={root}", cwd=tmp_path)
    res = subprocess.run([sys.executable, "-m", "sim", "-m", *args[1:], "replicates=8", f"hydra.sweep.dir={root}"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert "replicates=6 there, replicates=8 here" in res.stderr and str(root) in res.stderr
    with pytest.raises(store.StoreError, match="replicates=6 there, replicates=30 here"):
        run_points(_points(1), root, progress=False)


# ----------------------------------------------------------------------------- the per-point layout


@pytest.fixture
def old_sweep(tmp_path) -> Path:
    root = tmp_path / "old"
    shutil.copytree(DATA / "store_v1", root)
    return root


def test_an_old_per_point_folder_is_refused_with_one_line_saying_how_to_convert(old_sweep, tmp_path):
    for cmd in (["sim.aggregate", str(old_sweep)], ["sim.status", str(old_sweep)]):
        res = subprocess.run([sys.executable, "-m", *cmd], capture_output=True, text=True, timeout=120)
        assert res.returncode == 2 and res.stderr.count("\n") == 1 and "Traceback" not in res.stderr, res.stderr
        assert f"python -m sim.aggregate {old_sweep} --convert" in res.stderr
    with pytest.raises(store.StoreError, match="--convert"):
        run_points(_points(1), old_sweep, progress=False)


def test_an_old_folder_converts_to_the_tables_it_gave(old_sweep):
    reference = json.loads((DATA / "store_v1_reference.json").read_text())
    res = subprocess.run([sys.executable, "-m", "sim.aggregate", str(old_sweep), "--convert"], capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "converted 4 points" in res.stdout and not (old_sweep / "points").exists()
    agg = old_sweep / "aggregate"
    assert fingerprint(pd.read_parquet(agg / "points.parquet")) == reference["points"]
    assert fingerprint(pd.read_parquet(agg / "runs.parquet"), ["point_key", "replicate"]) == reference["runs"]
    assert fingerprint(pd.read_parquet(agg / "daily.parquet"), ["point_key", "day"]) == reference["daily"]
    assert main_status(old_sweep)[0] == 0
    # resuming the converted sweep runs nothing: its jobs find their points in the converted block
    res = run_sweep(*shlex.split(reference["command"])[4:], "sweep_daily=summary", f"hydra.sweep.dir={old_sweep}",
                    cwd=old_sweep)  # fmt: skip
    assert res.stdout.count("ran 0,") == 2, res.stdout


# ----------------------------------------------------------------------------- the same study, either store


@pytest.mark.slow
def test_a_small_sobol_study_gives_the_per_point_stores_points_table_and_indices(tmp_path):
    reference = json.loads((DATA / "sobol_small_reference.json").read_text())
    args = shlex.split(reference["command"])[4:]
    run_sweep(*args, f"hydra.sweep.dir={tmp_path / 'sobol'}", cwd=tmp_path, timeout=600)
    agg = tmp_path / "sobol" / "aggregate"
    points = pd.read_parquet(agg / "points.parquet")
    pd.testing.assert_frame_equal(points, pd.read_parquet(DATA / "sobol_small_points.parquet"))
    pd.testing.assert_frame_equal(pd.read_parquet(agg / "sensitivity.parquet"),
                                  pd.read_parquet(DATA / "sobol_small_sensitivity.parquet"))  # fmt: skip
    assert fingerprint(points) == reference["points"]
    assert fingerprint(pd.read_parquet(agg / "runs.parquet"), ["point_key", "replicate"]) == reference["runs"]
    # the daily table keeps what the analyses read (sweep_daily=hazard): those columns as they were, and the share
    # of runs escalated by each day
    daily = fingerprint(pd.read_parquet(agg / "daily.parquet"), ["point_key", "day"])
    kept = [c for c in daily["columns"] if c != "p_escalated"]
    assert daily["rows"] == reference["daily"]["rows"] and "hazard_q95" in kept and "tension_mean" not in kept
    assert {c: daily["columns"][c] for c in kept} == {c: reference["daily"]["columns"][c] for c in kept}


def test_the_daily_quantiles_from_one_sort_are_numpys_own():
    """store.quantiles on sorted series gives np.quantile's bits, ties and all (the daily table stays identical)."""
    import numpy as np

    rng = np.random.default_rng(3)
    x = rng.random((3, 4, 17, 200))
    x[..., :60] = 0.0  # days when nothing happens: ties
    x[..., 60:70] = 0.25
    for n in (1, 2, 7, 200):
        q = np.array(list(store.QUANTILES.values()))
        want = np.quantile(x[..., :n], q, axis=3)
        got = store.quantiles(np.sort(x[..., :n], axis=3), q)
        assert want.shape == got.shape and np.array_equal(want, got), n


def test_a_latin_hypercubes_block_is_scipys_own_rows():
    """A job builds only its block of a Latin hypercube (a million rows of every factor would not fit a task's
    memory), and the rows are SciPy's: the same jitter stream and the same shuffles, replayed."""
    import numpy as np
    from scipy.stats import qmc

    from sim.model import priors
    from sim.run.designs import DesignSpec, lhs_rows, unit_rows

    names = tuple(list(priors.priors())[:5])
    for n, seed in ((1000, 3), (2, 1)):
        spec = DesignSpec("lhs", n, seed, names)
        whole = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(seed)).random(n)
        assert np.array_equal(unit_rows(spec), whole)
        for rows in (range(0, n), range(n // 3, n // 2 + 1), range(n - 1, n)):
            assert np.array_equal(lhs_rows(spec, rows, chunk=97), whole[rows.start : rows.stop]), (n, rows)


def _v1_command() -> list[str]:
    return shlex.split(json.loads((DATA / "store_v1_reference.json").read_text())["command"])[4:]


@pytest.mark.parametrize("mode", ["summary", "full", "none"])
def test_what_a_sweep_keeps_of_its_daily_series(mode, tmp_path):
    """sweep_daily=summary keeps every variable's quantiles (the per-point store's whole daily table); full adds
    every replicate's series (whose quantiles are the summary's); none keeps no daily table."""
    import numpy as np

    reference = json.loads((DATA / "store_v1_reference.json").read_text())
    root = tmp_path / "sweep"
    run_sweep(*_v1_command(), f"sweep_daily={mode}", f"hydra.sweep.dir={root}", cwd=tmp_path)
    agg = root / "aggregate"
    assert fingerprint(pd.read_parquet(agg / "points.parquet")) == reference["points"]
    if mode == "none":
        assert not (agg / "daily.parquet").exists() and not (agg / "series.parquet").exists()
        return
    daily = pd.read_parquet(agg / "daily.parquet")
    got = fingerprint(daily, ["point_key", "day"])["columns"]
    assert {c: got[c] for c in reference["daily"]["columns"]} == reference["daily"]["columns"]
    runs = pd.read_parquet(agg / "runs.parquet")
    for key, d in daily.groupby("point_key"):  # the share escalated by each day, from the runs' escalation days
        e = runs.loc[runs["point_key"] == key, "escalation_day"].to_numpy()
        want = [np.mean((e >= 0) & (e <= day)) for day in d.sort_values("day")["day"]]
        assert np.allclose(d.sort_values("day")["p_escalated"], want)
    if mode == "full":
        series = pd.read_parquet(agg / "series.parquet")
        assert len(series) == len(runs) * daily["day"].nunique()
        q = series.groupby(["point_key", "day"])["tension"].quantile(0.95).sort_index()
        assert np.allclose(q.to_numpy(), daily.set_index(["point_key", "day"])["tension_q95"].sort_index().to_numpy())
    else:
        assert not (agg / "series.parquet").exists()
