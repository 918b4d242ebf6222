"""A full disk, for real: small tmpfs file systems (mounting needs root: CI runs as root; elsewhere these tests
are skipped with the reason). sim.calibrate, sim.export and the aggregation at the end of a sweep each end with
one line naming the folder and a non-zero status, and leave nothing partial that looks complete."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sweeps import run_sweep

SWEEP = ["replicates=40", "params.cells_per_militia=3", "scenario=election_loss",
         "params.patron_influence=0.1,0.3,0.5,0.7,0.9", "+grid.militia_independence=[0.2,0.4,0.6,0.8]"]  # fmt: skip

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root (CI runs as root)")]


@pytest.fixture
def small_disk(tmp_path):
    """mount(size): a tmpfs of ``size`` at a fresh folder, unmounted afterwards."""
    mounted = []

    def mount(size: str) -> Path:
        where = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
        where.mkdir()
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True,
                             text=True)  # fmt: skip
        if res.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _fill(disk: Path, leave: int) -> None:
    """Fill ``disk`` but ``leave`` bytes (in whole pages)."""
    st = os.statvfs(disk)
    free = st.f_bavail * st.f_frsize
    if free > leave:
        with open(disk / "filler", "wb") as fh:
            fh.write(b"\0" * (free - leave))


def _one_error_line(res: subprocess.CompletedProcess, folder: Path) -> str:
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode != 0 and "Traceback" not in res.stderr, res.stderr[-3000:]
    assert lines and lines[-1].startswith("error: No space left on device") and str(folder) in lines[-1], lines
    return lines[-1]


def _no_temporary_files(folder: Path) -> None:
    assert not list(folder.rglob(".*.tmp")), list(folder.rglob(".*.tmp"))


def test_sim_export_on_a_full_disk_writes_no_partial_set(small_disk, tmp_path):
    root = tmp_path / "sweep"
    run_sweep(*SWEEP, f"hydra.sweep.dir={root}", cwd=tmp_path)
    disk = small_disk("4m")
    out = disk / "export"
    _fill(disk, 96 * 1024)  # room for a table or two, not for the set
    res = subprocess.run([sys.executable, "-m", "sim.export", str(root), "--tables", "points,runs,daily", "--out",
                          str(out)], capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    line = _one_error_line(res, out)
    assert "no file of this export was kept" in line
    assert not out.exists() or not [p for p in out.iterdir() if not p.name.startswith(".")]  # nothing, not a part
    _no_temporary_files(disk)
    (disk / "filler").unlink()  # with room, the same command writes the whole set and its manifest
    res = subprocess.run([sys.executable, "-m", "sim.export", str(root), "--tables", "points,runs,daily", "--out",
                          str(out)], capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr
    manifest = json.loads((out / "export.json").read_text())
    assert set(manifest["files"]) == {"points.csv", "runs.csv", "daily.csv"} and manifest["environment"]["versions"]


def test_sim_calibrate_on_a_full_disk_ends_in_one_line(small_disk):
    disk = small_disk("1m")
    out = disk / "calibration"
    _fill(disk, 16 * 1024)
    res = subprocess.run([sys.executable, "-m", "sim.calibrate", "--method", "smc", "--particles", "200",
                          "--generations", "2", "--predictive-sets", "10", "--out", str(out)], capture_output=True,
                         text=True, timeout=900)  # fmt: skip
    _one_error_line(res, disk)
    _no_temporary_files(disk)


def test_the_end_of_sweep_aggregation_on_a_full_disk_fails_in_one_line(small_disk, tmp_path):
    """The jobs' blocks fit; the aggregate tables do not: one line, status 1 (Hydra would have warned and exited
    0), the blocks kept, no table and no temporary file; with room, sim.aggregate finishes the job."""
    probe = tmp_path / "probe"  # the same sweep elsewhere: how much its jobs write (the same bytes every time)
    run_sweep(*SWEEP, f"hydra.sweep.dir={probe}", cwd=tmp_path)
    shutil.rmtree(probe / "aggregate")
    used = sum(p.stat().st_size for p in probe.rglob("*") if p.is_file())
    disk = small_disk("8m")
    _fill(disk, used + 200 * 1024)  # the jobs' files and Hydra's logs, with a margin; not the tables
    root = disk / "sweep"
    res = subprocess.run([sys.executable, "-m", "sim", "-m", *SWEEP, f"hydra.sweep.dir={root}"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    if res.returncode == 0:
        pytest.fail(f"the aggregation fitted: the margin is too generous\n{res.stdout[-1000:]}")
    line = _one_error_line(res, root / "aggregate")
    assert "every point is kept" in line
    assert len(list(root.glob("blocks/*.parquet"))) == 5 and not (root / "aggregate" / "report.json").exists()
    _no_temporary_files(disk)
    (disk / "filler").unlink()
    res = subprocess.run([sys.executable, "-m", "sim.aggregate", str(root)], capture_output=True, text=True,
                         timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr
