"""Stopping any command at any moment: Ctrl-C (SIGINT) or SIGTERM while it is still importing, or while it works,
ends it with one line and status 130 / 143, and no temporary file survives; a command started in the background
(SIGINT ignored by the shell) can still be stopped; a joblib sweep stopped by Ctrl-C leaves no leaked-semaphore
warning, and its workers' leftovers are removed by the next run, which finishes the sweep."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sweeps import run_sweep, stored_points, sweep_tables

HEAVY = ("numpy", "pandas", "pyarrow", "scipy", "matplotlib", "hydra")
SWEEP = ["replicates=6", "params.cells_per_militia=3", "scenario=election_loss", "params.patron_influence=0.2,0.8",
         "+grid.militia_independence=[0.3,0.7]"]  # fmt: skip

# command -> its arguments ({sweep}: a finished sweep; {out}: a fresh folder it may write into)
COMMANDS = {
    "sim": ["sim", "replicates=400000", "chunk_size=5000", "figure=false", "hydra.run.dir={out}"],
    "sim -m": ["sim", "-m", "replicates=3000", "chunk_size=500", "params.cells_per_militia=5",
               "params.patron_influence=0.1,0.3,0.5,0.7", "+grid.militia_independence=[0.2,0.8]",
               "hydra.sweep.dir={out}"],
    "sim.aggregate": ["sim.aggregate", "{sweep}"],
    "sim.status": ["sim.status", "{sweep}"],
    "sim.calibrate": ["sim.calibrate", "--draws", "4000", "--replicates", "2", "--predictive-sets", "20",
                      "--predictive-replicates", "2", "--no-figures", "--out", "{out}"],
    "sim.calibrate --method smc": ["sim.calibrate", "--method", "smc", "--particles", "400", "--generations", "3",
                                   "--predictive-sets", "20", "--out", "{out}"],
    "sim.export": ["sim.export", "{sweep}", "--out", "{out}"],
    "sim.plot": ["sim.plot", "{sweep}/aggregate", "--out", "{out}"],
    "sim.sensitivity": ["sim.sensitivity", "{sweep}"],
    "sim.discovery": ["sim.discovery", "{sweep}"],
    "sim.docs": ["sim.docs", "--check"],
    "sim.exercises": ["sim.exercises", "read", "election_loss", "escalated"],
    "sim.routes": ["sim.routes", "--replicates", "200", "--sets", "20", "--set-replicates", "2"],
}
# commands that work long enough to be stopped part-way, and what shows that they are writing
BUSY = {"sim": "**/.runs.parquet.*.tmp", "sim -m": "blocks/*.journal", "sim.calibrate --method smc": "smc/*"}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("stopping") / "sweep"
    run_sweep(*SWEEP, f"hydra.sweep.dir={root}", cwd=root.parent)
    return root


def _start(command: str, sweep: Path, out: Path, background: bool = False, log: Path | None = None) -> subprocess.Popen:
    """Start ``command``; with ``log``, its errors go to that file and its output nowhere (not to pipes nobody
    reads while it works: a full pipe blocks the command), and without -X importtime."""
    args = [a.format(sweep=sweep, out=out) for a in COMMANDS[command]]
    preexec = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if background else None  # a shell's `cmd &`
    if log is not None:
        with open(log, "w") as fh:
            return subprocess.Popen([sys.executable, "-m", *args], cwd=out.parent, text=True,
                                    stdout=subprocess.DEVNULL, stderr=fh, preexec_fn=preexec)  # fmt: skip
    return subprocess.Popen([sys.executable, "-X", "importtime", "-m", *args], cwd=out.parent, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=preexec)  # fmt: skip


def _wait_for_heavy_import(proc: subprocess.Popen) -> list[str]:
    """Read stderr until the command reports finishing the import of a heavy library's first module: it is then
    in the middle of its imports (-X importtime writes a line as each module finishes)."""
    seen = []
    deadline = time.time() + 120
    while time.time() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        name = line.rsplit("|", 1)[-1].strip() if line.startswith("import time:") else ""
        if name.split(".")[0] in HEAVY and "." in name:  # a submodule: the package itself is still importing
            return seen
    pytest.fail("the command never imported a heavy library:\n" + "".join(seen[-20:]))


def _finish(proc: subprocess.Popen, signum: int, seen: list[str], log: Path | None = None) -> list[str]:
    proc.send_signal(signum)
    try:
        _, err = proc.communicate(timeout=120)  # a hang fails here
    finally:
        if proc.poll() is None:
            proc.kill()
    if log is not None:
        err = log.read_text()
    lines = [ln for ln in [*seen, *err.splitlines()] if ln.strip() and not ln.startswith("import time:")]
    assert proc.returncode == 128 + signum, (proc.returncode, lines[-20:])
    return lines


def _no_temporary_files(*folders: Path) -> None:
    for folder in folders:
        left = [p for p in folder.rglob(".*.tmp")] if folder.exists() else []
        assert not left, left


@pytest.mark.slow
@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_the_imports_gives_one_line(command, signum, sweep, tmp_path):
    if signum == signal.SIGTERM and command not in ("sim", "sim.aggregate", "sim.calibrate", "sim.export"):
        pytest.skip("SIGTERM during the imports: a handful of commands is enough (the same code path)")
    out = tmp_path / "out"
    proc = _start(command, sweep, out)
    lines = _finish(proc, signum, _wait_for_heavy_import(proc))
    assert len(lines) == 1 and lines[0].startswith(f"interrupted ({signal.Signals(signum).name}): "), lines
    _no_temporary_files(out, sweep)


@pytest.mark.slow
@pytest.mark.parametrize("command", list(BUSY))
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_working_gives_one_line_and_leaves_no_temporary_file(command, signum, sweep, tmp_path):
    out, log = tmp_path / "out", tmp_path / "output.txt"
    proc = _start(command, sweep, out, log=log)
    deadline = time.time() + 300
    while not list(out.glob(BUSY[command])) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert list(out.glob(BUSY[command])), f"{command} never started writing:\n{log.read_text()[-2000:]}"
    lines = _finish(proc, signum, [], log)
    assert len(lines) == 1 and lines[0].startswith(f"interrupted ({signal.Signals(signum).name}): "), lines
    _no_temporary_files(out)


@pytest.mark.slow
def test_a_command_started_in_the_background_can_still_be_stopped(sweep, tmp_path):
    """A shell starts `cmd &` with SIGINT ignored; the command takes it back at once, before its imports."""
    proc = _start("sim.export", sweep, tmp_path / "out", background=True)
    lines = _finish(proc, signal.SIGINT, _wait_for_heavy_import(proc))
    assert len(lines) == 1 and lines[0].startswith("interrupted (SIGINT): "), lines


@pytest.mark.slow
def test_a_joblib_sweep_stopped_by_ctrl_c_leaves_one_line_and_resumes_to_the_same_tables(tmp_path):
    """Ctrl-C reaches the whole process group (the sweep and its loky workers): one line, status 130, no
    leaked-semaphore warning; a worker's temporary file that a kill left behind is removed by the next run, which
    runs only the missing points and ends with the tables of an uninterrupted sweep."""
    root = tmp_path / "sweep"
    args = [*COMMANDS["sim -m"][2:-1], "launcher=joblib", f"hydra.sweep.dir={root}"]
    proc = subprocess.Popen([sys.executable, "-m", "sim", "-m", *args], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
    deadline = time.time() + 300
    while not stored_points(root) and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _, err = proc.communicate(timeout=120)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert proc.returncode == 130 and len(lines) == 1 and lines[0].startswith("interrupted (SIGINT): "), err
    assert "leaked" not in err
    # what a worker killed mid-write leaves: a temporary manifest of a process that no longer runs
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    from sim.run.storage import _host

    leftover = root / "jobs" / f".x.json.{_host()}.{int(dead.stdout)}.dead.tmp"
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_text("{")
    run_sweep(*args, cwd=tmp_path, timeout=600)
    assert not leftover.exists() and not list(root.rglob(".*.tmp"))
    whole = tmp_path / "whole"
    run_sweep(*[a for a in args if not a.startswith("hydra.sweep.dir")], f"hydra.sweep.dir={whole}", cwd=tmp_path,
              timeout=600)  # fmt: skip
    (pa, ra), (pb, rb) = sweep_tables(whole), sweep_tables(root)
    pd.testing.assert_frame_equal(pa, pb)
    pd.testing.assert_frame_equal(ra, rb)
    shutil.rmtree(whole)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_late_signal_to_the_aggregation_leaves_no_temporary_table(signum, tmp_path):
    """Stopped while it writes aggregate/ (its temporary tables exist): one line, and none of them survives; the
    tables it had before are not half replaced (report.json, the set's seal, goes last)."""
    root = tmp_path / "sweep"
    run_sweep("replicates=1500", "params.cells_per_militia=3", "scenario=election_loss", "sweep_daily=full",
              "params.patron_influence=0.1,0.3,0.5,0.7", "+grid.militia_independence=[0.2,0.4,0.6,0.8]",
              f"hydra.sweep.dir={root}", cwd=tmp_path)  # fmt: skip
    (root / "aggregate" / "report.json").unlink()
    proc = subprocess.Popen([sys.executable, "-m", "sim.aggregate", str(root)], text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.time() + 300
    while not list((root / "aggregate").glob(".*.tmp")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    if proc.poll() is not None:
        pytest.skip("the aggregation ended before a temporary table was seen (a fast machine): nothing to stop")
    lines = _finish(proc, signum, [])
    assert len(lines) == 1 and lines[0].startswith(f"interrupted ({signal.Signals(signum).name}): "), lines
    _no_temporary_files(root)
    assert not (root / "aggregate" / "report.json").exists()


@pytest.mark.slow
def test_status_after_kill_minus_nine_counts_the_missing_points_right(tmp_path):
    """A basic sweep of three jobs killed (-9) in its second: the jobs that never started are in the plan the
    launcher recorded, so sim.status counts all their points as missing (it knew only the started jobs' before)."""
    from sweeps import kill_when_stored

    from sim.run.status import main_status

    root = tmp_path / "sweep"
    args = ["replicates=2000", "chunk_size=500", "params.cells_per_militia=5", "scenario=attack_and_intervention",
            "params.patron_influence=0.1,0.5,0.9", "+grid.militia_independence=[0.2,0.8]"]  # fmt: skip
    done = kill_when_stored([sys.executable, "-m", "sim", "-m", *args, f"hydra.sweep.dir={root}"], root, 3,
                            cwd=tmp_path, timeout=300)  # fmt: skip
    assert 3 <= done < 6, done
    code, text = main_status(root)
    assert code == 1, text
    assert f"points: 6 known, {done} done, 0 being computed, {6 - done} missing, 0 damaged" in text, text
    assert f"{6 - done} point(s) missing" in text.splitlines()[-1]
