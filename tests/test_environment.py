"""Files and environment: a broken seeds/record.yaml (bad YAML, a tab, a missing file) and any YAML a user passes
fail in one line naming the file and the line; an invalid NUMBA_NUM_THREADS is one line; a damaged numba cache is
discarded and compiled again with one line; a cache that cannot be kept anywhere is said once, with where to
point NUMBA_CACHE_DIR; `--out` onto an existing file is refused in one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from sim import paths
from sim.model import record

BROKEN = {
    "bad_yaml": ("cutoff: 2022-01-31\nentries: [\n  - {id: x\n", "line 3"),
    "tab": ("cutoff: 2022-01-31\nentries:\n\t- id: x\n", "a tab: YAML indents with spaces only"),
    "missing": (None, "no such file"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_record_is_one_line_naming_the_file_and_the_line(case, tmp_path):
    text, expect = BROKEN[case]
    path = tmp_path / "record.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(record.RecordError) as exc:
        record.load_record(path)
    message = str(exc.value)
    assert "\n" not in message and str(path) in message and expect in message, message


# the command that reads the record, with the record replaced by a broken one (the repository's is left alone)
WITH_RECORD = """
import sys
from pathlib import Path
import sim.model.record as record
record.RECORD_PATH = Path(sys.argv[1])
from sim.commands.calibrate import main
from sim.run.signals import run_command
run_command(lambda: main(["--method", "smc", "--particles", "50", "--generations", "1", "--out", sys.argv[2]]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BROKEN))
def test_sim_calibrate_on_a_broken_record_says_so_in_one_line(case, tmp_path):
    text, expect = BROKEN[case]
    path = tmp_path / "record.yaml"
    if text is not None:
        path.write_text(text)
    res = subprocess.run([sys.executable, "-c", WITH_RECORD, str(path), str(tmp_path / "out")], capture_output=True,
                         text=True, timeout=600)  # fmt: skip
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 2 and len(lines) == 1 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert lines[0].startswith("error: ") and str(path) in lines[0] and expect in lines[0], lines


def test_a_users_scenario_file_with_a_tab_is_one_line_with_its_line(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text('name: mine\nstart: "2021-10-01"\nend: "2021-10-31"\nevents:\n'
                    '\t- {date: "2021-10-10", kind: attack}\n')
    res = subprocess.run([sys.executable, "-m", "sim", f"scenario_file={path}"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert "line 5, column 1" in res.stderr and "a tab" in res.stderr and not (tmp_path / "results").exists()


@pytest.mark.parametrize(("value", "expect"), [("0", "out of range"), ("abc", "not a whole number"),
                                               ("-2", "out of range"), ("99999", "out of range")])  # fmt: skip
def test_an_invalid_numba_num_threads_is_one_line(value, expect, tmp_path):
    for cmd in (["sim", "engine=compiled", "replicates=5"], ["sim.calibrate", "--method", "smc", "--help"]):
        res = subprocess.run([sys.executable, "-m", *cmd], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                             env={**os.environ, "NUMBA_NUM_THREADS": value})  # fmt: skip
        assert res.returncode == 2 and res.stderr.count("\n") == 1 and "Traceback" not in res.stderr, res.stderr
        assert res.stderr.startswith(f"error: NUMBA_NUM_THREADS={value}") or f"={value!r}" in res.stderr
        assert expect in res.stderr


def test_export_out_onto_an_existing_file_is_refused(tmp_path):
    (tmp_path / "run").mkdir()
    import pandas as pd

    pd.DataFrame({"replicate": [0], "escalated": [True]}).to_parquet(tmp_path / "run" / "runs.parquet")
    (tmp_path / "taken").write_text("a file")
    res = subprocess.run([sys.executable, "-m", "sim.export", str(tmp_path / "run"), "--out", str(tmp_path / "taken")],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "is a file, not a folder" in res.stderr
    assert (tmp_path / "taken").read_text() == "a file"
    for method in ("rejection", "smc"):
        res = subprocess.run([sys.executable, "-m", "sim.calibrate", "--method", method, "--out",
                              str(tmp_path / "taken")], capture_output=True, text=True, timeout=120)  # fmt: skip
        assert res.returncode == 2 and res.stderr.count("\n") == 1 and "is a file, not a folder" in res.stderr


# ----------------------------------------------------------------------------- the compiled engine's cache

COMPILED_RUN = """
import numpy as np
from sim.engines import compiled
from sim.model.params import MILITIAS, make_params
from sim.model.scenario import load_scenario
res = compiled.run_batch(load_scenario("election_loss"), [make_params(cells_per_militia=3)], [MILITIAS], 1,
                         np.arange(4))
print(int(res.runs["clashes"].sum()), int(res.runs["attacks_us"].sum()))
"""


@pytest.mark.slow
def test_a_damaged_numba_cache_is_discarded_and_compiled_again_with_one_line(tmp_path):
    """In a cache of its own (NUMBA_CACHE_DIR): compiled and cached once, then every cache file emptied (what a
    full disk or a killed writer leaves); the next run says so in one line, compiles again, gives the same numbers."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    first = subprocess.run([sys.executable, "-c", COMPILED_RUN], capture_output=True, text=True, timeout=1800, env=env)
    assert first.returncode == 0, first.stderr
    files = [p for p in (tmp_path / "cache").rglob("*") if p.suffix in (".nbi", ".nbc")]
    assert files, "nothing was cached"
    for p in files:
        p.write_bytes(b"")
    again = subprocess.run([sys.executable, "-c", COMPILED_RUN], capture_output=True, text=True, timeout=1800, env=env)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr[-3000:]
    notes = [ln for ln in again.stderr.splitlines() if "cache" in ln]
    assert len(notes) == 1 and "was damaged" in notes[0] and "compiling again" in notes[0], again.stderr
    assert again.stdout == first.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="a read-only mount needs root (CI runs as root)")
def test_a_cache_that_cannot_be_kept_anywhere_is_said_once(tmp_path):
    """A read-only copy of the code, a home without a writable cache and no NUMBA_CACHE_DIR: one note with where
    to point NUMBA_CACHE_DIR (numba itself would fail at import, or compile every run without a word)."""
    ro = tmp_path / "ro"
    ro.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(ro)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        shutil.copytree(paths.REPO_ROOT / "sim", ro / "sim", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(paths.REPO_ROOT / "configs", ro / "configs")
        shutil.copytree(paths.REPO_ROOT / "seeds", ro / "seeds")
        subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True)
        env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
        env |= {"PYTHONPATH": str(ro), "HOME": str(ro / "home"), "XDG_CACHE_HOME": str(ro / "home" / ".cache"),
                "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
        res = subprocess.run([sys.executable, "-c", "import sim.engines.compiled as c; print(c.__file__)"],
                             capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)  # fmt: skip
    finally:
        subprocess.run(["umount", "-l", str(ro)], capture_output=True)
    assert res.returncode == 0 and res.stdout.startswith(str(ro)), res.stderr[-2000:]
    notes = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(notes) == 1 and "NUMBA_CACHE_DIR" in notes[0] and "compiles it again" in notes[0], notes
