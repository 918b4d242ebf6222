"""Nothing on disk is trusted without a check, and sim.status and sim.aggregate apply the same checks and agree:
points copied in from a sweep with other settings, two sweeps at once on one folder, a manifest whose library
versions were edited, parameter-set blocks that are truncated or from another run; exports, bank blocks and ABC
generations carry their own hashes, configuration and versions."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sweeps import run_sweep

from sim.run.status import main_status

SWEEP = ["params.cells_per_militia=3", "scenario=election_loss", "params.patron_influence=0.2,0.8",
         "+grid.militia_independence=[0.3,0.7]"]  # fmt: skip


def _aggregate(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim.aggregate", str(root)], capture_output=True, text=True,
                          timeout=300)  # fmt: skip


@pytest.fixture(scope="module")
def two_sweeps(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("trust")
    run_sweep("replicates=6", *SWEEP, f"hydra.sweep.dir={base / 'six'}", cwd=base)
    run_sweep("replicates=8", *SWEEP, f"hydra.sweep.dir={base / 'eight'}", cwd=base)
    return base / "six", base / "eight"


def test_points_copied_in_from_a_sweep_with_other_settings_are_refused_by_both(two_sweeps, tmp_path):
    six, eight = two_sweeps
    root = tmp_path / "sweep"
    shutil.copytree(six, root)
    for path in [*eight.glob("jobs/*.json"), *eight.glob("blocks/*.parquet")]:
        shutil.copy(path, root / path.parent.name / f"foreign-{path.name}")
        if path.suffix == ".json":  # the manifest renamed with its block: a careful copy
            doc = json.loads(path.read_text())
            doc["job_key"] = f"foreign-{doc['job_key']}"
            (root / "jobs" / f"foreign-{path.name}").write_text(json.dumps(doc))
    code, text = main_status(root)
    assert code == 1 and "4 done" in text and "4 damaged" in text and "belongs to another sweep" in text, text
    res = _aggregate(root)
    assert res.returncode == 1 and res.stderr.count("belongs to another sweep (replicates=8, not 6)") == 4, res.stderr
    assert len(pd.read_parquet(root / "aggregate" / "points.parquet")) == 4  # never counted


def test_two_sweeps_at_once_on_one_folder_one_is_refused(tmp_path):
    root = tmp_path / "shared"
    procs = [subprocess.Popen([sys.executable, "-m", "sim", "-m", f"replicates={r}", *SWEEP, f"hydra.sweep.dir={root}"],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for r in (6, 8)]  # fmt: skip
    results = [(p.wait(timeout=600), p.communicate()[1]) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes[0] == 0 and codes[1] in (1, 2), results
    err = next(e for c, e in results if c)
    last = err.strip().splitlines()[-1]
    assert "holds another sweep" in last and "replicates=" in last and "Traceback" not in err, err
    settings = json.loads((root / "sweep.json").read_text())["settings"]
    assert main_status(root)[0] == 0 and len(pd.read_parquet(root / "aggregate/points.parquet")) == 4
    replicates = pd.read_parquet(root / "aggregate/points.parquet")["replicates"]
    assert {int(r) for r in replicates} == {settings["replicates"]}


def test_edited_library_versions_are_refused_by_status_and_aggregate_alike(two_sweeps, tmp_path):
    root = tmp_path / "sweep"
    shutil.copytree(two_sweeps[0], root)
    manifest = next(root.glob("jobs/*.json"))
    doc = json.loads(manifest.read_text())
    doc["environment"]["versions"]["numpy"] = "1.0.0"
    manifest.write_text(json.dumps(doc))
    code, text = main_status(root)
    assert code == 1 and "refused" in text.splitlines()[-1] and "numpy" in text.splitlines()[-1], text
    res = _aggregate(root)
    assert res.returncode == 1 and "numpy 1.0.0" in res.stderr.replace("numpy 2", "numpy 1.0.0 vs 2"), res.stderr


# ----------------------------------------------------------------------------- parameter-set blocks

SETS = ["params_from=prior", "draws=9", "replicates=3", "scenario=election_loss", "params.cells_per_militia=3",
        "figure=false", "set_blocks=3", "set_block=range(3)"]  # fmt: skip


@pytest.fixture(scope="module")
def set_sweep(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("sets")
    run_sweep(*SETS, f"hydra.sweep.dir={base / 'sets'}", cwd=base)
    return base / "sets"


def test_set_blocks_are_a_sweep_to_status(set_sweep):
    code, text = main_status(set_sweep)
    assert code == 0 and "3 stored and verified" in text and "complete" in text.splitlines()[-1], text
    assert json.loads((set_sweep / "sets" / "block_0001.json").read_text())["environment"]["versions"]


def test_a_truncated_set_block_is_named_in_one_line_without_a_traceback(set_sweep, tmp_path):
    root = tmp_path / "sets"
    shutil.copytree(set_sweep, root)
    block = root / "sets" / "block_0001.parquet"
    block.write_bytes(block.read_bytes()[:100])
    res = _aggregate(root)
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert res.stderr.strip() == ("error: block 1 of the parameter sets: block_0001.parquet differs from its record "
                                  "(truncated, altered or replaced); not used (rerun the sweep to recompute it)")
    code, text = main_status(root)
    assert code == 1 and "damaged block 1" in text, text


def test_a_set_block_from_another_run_is_refused(set_sweep, tmp_path):
    other = tmp_path / "other"
    run_sweep(*[a for a in SETS if not a.startswith("replicates")], "replicates=4", f"hydra.sweep.dir={other}",
              cwd=tmp_path)  # fmt: skip
    root = tmp_path / "sets"
    shutil.copytree(set_sweep, root)
    for name in ("block_0002.parquet", "block_0002.json"):
        shutil.copy(other / "sets" / name, root / "sets" / name)
    res = _aggregate(root)
    assert res.returncode == 1, res.stderr
    assert "block 2 of the parameter sets: block_0002.parquet belongs to another run" in res.stderr
    assert main_status(root)[0] == 1
    before = (root / "runs.parquet").read_bytes() if (root / "runs.parquet").exists() else None
    assert before is None or len(pd.read_parquet(root / "runs.parquet")) == 27  # never 9 sets x 3 + foreign rows


# ----------------------------------------------------------------------------- exports, bank blocks, generations


def test_an_export_records_what_it_holds(two_sweeps, tmp_path):
    import hashlib

    out = tmp_path / "export"
    res = subprocess.run([sys.executable, "-m", "sim.export", str(two_sweeps[0]), "--out", str(out)],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr
    manifest = json.loads((out / "export.json").read_text())
    for name, info in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == info["sha256"]
    assert set(manifest["source"]) == {"points", "runs", "daily"} and manifest["environment"]["versions"]["pandas"]


def test_an_altered_bank_block_is_computed_again(tmp_path):
    from sim.analysis import calibration as cal

    small = cal.Settings(draws=40, replicates=2, seed=5, block=20)
    targets = cal.load_targets()
    first = cal.run_bank(tmp_path, small, targets, progress=False)
    path = cal.block_path(tmp_path, 1)
    table = pd.read_parquet(path)
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata
    table.loc[0, table.columns[-1]] = not table.loc[0, table.columns[-1]] if table[table.columns[-1]].dtype == bool \
        else table.loc[0, table.columns[-1]] + 1  # fmt: skip
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False).replace_schema_metadata(meta), path)
    assert cal.missing_blocks(tmp_path, small) == [1]
    again = cal.run_bank(tmp_path, small, targets, progress=False)
    pd.testing.assert_frame_equal(first, again)


def test_an_altered_abc_generation_is_computed_again(tmp_path):
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.analysis import abc_smc

    calls = []

    def simulate(values, t, idx, models):  # statistics (n, R, S) and the yes/no constraint (n, R)
        calls.append(t)
        stats = np.abs(values[:, :1] - 0.3)[:, None, :] + np.zeros((len(idx), 2, 1))
        return stats, np.ones((len(idx), 2), dtype=bool)

    observed = abc_smc.Observed(low=[0.0], high=[0.05], floors=[0.05])
    settings = abc_smc.Settings(particles=40, replicates=2, generations=2, seed=3, min_ess=1.0)
    abc_smc.run(["a", "b"], lambda u: u, simulate, observed, settings, store=tmp_path)
    n = len(calls)
    abc_smc.run(["a", "b"], lambda u: u, simulate, observed, settings, store=tmp_path)
    assert len(calls) == n  # stored and whole: reused
    path = next(tmp_path.glob("generation_01.parquet"))
    table = pq.read_table(path)
    df = table.to_pandas()
    df.loc[0, "weight"] += 1.0
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(table.schema.metadata), path)
    time.sleep(0.01)
    abc_smc.run(["a", "b"], lambda u: u, simulate, observed, settings, store=tmp_path)
    assert len(calls) > n  # the altered generation was not trusted
