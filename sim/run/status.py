"""How a sweep is doing, from its folder alone: the manifest (what was submitted), the points on disk (done,
claimed, damaged, missing) and the scheduler (each task's state); one table, a verdict and an exit status."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.run import claims, manifest
from sim.run.verify import NOT_STARTED, check_point

# Exit statuses a script can branch on.
COMPLETE, INCOMPLETE, NOT_A_SWEEP, RUNNING = 0, 1, 2, 3
ACTIVE = {"PENDING", "RUNNING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "COMPLETING", "CONFIGURING", "SUSPENDED",
          "RESIZING", "SIGNALING", "STAGE_OUT", "RESV_DEL_HOLD"}  # fmt: skip
SHOWN_TASKS = 20  # task lines printed without --all: the unfinished first


@dataclass
class Task:
    job_id: str
    state: str
    points: list[str] | None
    job: str = "-"  # the job's own marker: started, stopped, done
    done: int = 0


@dataclass
class Status:
    root: Path
    submission: dict[str, Any] | None
    submissions: int
    done: set[str] = field(default_factory=set)
    claimed: dict[str, str] = field(default_factory=dict)
    damaged: dict[str, str] = field(default_factory=dict)
    expected: set[str] = field(default_factory=set)
    tasks: list[Task] = field(default_factory=list)

    @property
    def missing(self) -> set[str]:
        return self.expected - self.done - set(self.claimed) - set(self.damaged)

    @property
    def active_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.state in ACTIVE]


def _digest_keys(keys: list[str]) -> str:
    from sim.run.verify import digest

    return format(digest(sorted(keys), bits=64), "016x")


def _markers(root: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for path in (root / "jobs").glob("*.json"):
        try:
            out[path.stem] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return out


def slurm_states(arrays: list[str]) -> dict[str, str] | None:
    """Task id -> state: squeue for what SLURM still holds (one line per array task), sacct for what has ended;
    None when neither answers (no SLURM here)."""
    states: dict[str, str] = {}
    answered = False
    ids = ",".join(arrays)
    try:
        res = subprocess.run(["sacct", "-n", "-X", "-P", "-j", ids, "-o", "JobID,State"], capture_output=True,
                             text=True, timeout=60)  # fmt: skip
        if res.returncode == 0:
            answered = True
            for line in res.stdout.splitlines():
                job, _, state = line.partition("|")
                if "[" not in job and state:
                    states[job] = state.split()[0]
        res = subprocess.run(["squeue", "-h", "-r", "-j", ids, "-o", "%i %T"], capture_output=True, text=True,
                             timeout=60)  # fmt: skip
        if res.returncode == 0:
            answered = True
            for line in res.stdout.splitlines():
                job, _, state = line.partition(" ")
                states[job] = state.strip()  # the queue is live: it wins over accounting
        elif "Invalid job id" in res.stderr:  # every task has left the queue
            answered = True
    except (OSError, subprocess.TimeoutExpired):
        pass
    return states if answered else None


def local_state(job_id: str, folder: str) -> str:
    """A submitit_local job: RUNNING while its process lives, else what its result file says."""
    import pickle

    pid = int(job_id.split("_")[0]) if job_id.split("_")[0].isdigit() else -1
    try:
        if "submitit" in Path(f"/proc/{pid}/cmdline").read_text():
            return "RUNNING"
    except OSError:
        pass
    result = Path(folder.replace("%j", job_id)) / f"{job_id}_0_result.pkl"
    try:
        with open(result, "rb") as fh:
            outcome = pickle.load(fh)[0]
    except (OSError, EOFError, pickle.UnpicklingError, IndexError, TypeError):
        return "ENDED"  # no result: killed, or ended by a signal
    return "COMPLETED" if outcome == "success" else "FAILED"


def read_status(root: Path) -> Status:
    """Everything sim.status prints, read from ``root`` and the scheduler."""
    root = Path(root)
    doc = manifest.read(root)
    sub = doc["submissions"][-1] if doc else None
    st = Status(root, sub, len(doc["submissions"]) if doc else 0)
    markers = _markers(root)
    for m in markers.values():
        st.expected.update(m.get("points") or [])
    for folder in sorted(p for p in (root / "points").glob("*") if p.is_dir()):
        st.expected.add(folder.name)
        problem = check_point(folder)
        if problem is None:
            st.done.add(folder.name)
        elif (holder := claims.holder(folder)) is not None:
            st.claimed[folder.name] = holder
        elif problem != NOT_STARTED and not problem.startswith("unfinished"):
            st.damaged[folder.name] = problem
    if sub is None:
        return st
    ids = [t["job_id"] for t in sub["tasks"]]
    if sub["executor"] == "slurm":
        states = slurm_states(sub["arrays"])
        state_of = (lambda j: states.get(j, "GONE")) if states is not None else (lambda j: "UNKNOWN")
    else:
        folder = str(sub.get("parameters", {}).get("submitit_folder", str(root / ".submitit/%j")))
        state_of = lambda j: local_state(j, folder)  # noqa: E731
    for t, job_id in zip(sub["tasks"], ids, strict=True):
        pts = t.get("points")
        task = Task(job_id, state_of(job_id), pts)
        if pts is not None:
            st.expected.update(pts)
            task.done = sum(k in st.done for k in pts)
            marker = markers.get(_digest_keys(pts)) or {}
            since = max(float(marker.get(k, 0) or 0) for k in ("started", "finished", "stopped"))
            if since >= float(sub.get("submitted_unix", 0)):  # a marker from an earlier submission says nothing
                task.job = marker.get("status", "-")
        st.tasks.append(task)
    return st


def verdict(st: Status) -> tuple[int, str]:
    """The exit status and one line saying what to do."""
    n, done = len(st.expected), len(st.done)
    command = st.submission["command"] if st.submission else "the sweep's command"
    if st.active_tasks or st.claimed:
        states = Counter(t.state for t in st.active_tasks)
        tasks = ", ".join(f"{c} {s.lower()}" for s, c in sorted(states.items()))
        return RUNNING, (f"running: {done} of {n} points done" + (f"; tasks {tasks}" if tasks else "")
                         + (f"; {len(st.claimed)} point(s) being computed" if st.claimed else "")
                         + "; check again later")  # fmt: skip
    if not n and st.tasks:  # jobs without sweep points: the calibration's bank blocks
        again = ("run the python -m sim.calibrate command again" if "+calibration." in command
                 else f"run the same command again: {command}")  # fmt: skip
        failed = [t for t in st.tasks if t.state != "COMPLETED"]
        if not failed and (st.root / "sets").is_dir():  # a run under uncertainty in blocks (sim.run.set_blocks)
            return COMPLETE, (f"complete: all {len(st.tasks)} tasks completed; python -m sim.aggregate {st.root} "
                              "writes the run's tables")  # fmt: skip
        if not failed:
            return COMPLETE, f"complete: all {len(st.tasks)} tasks completed; {again} to use their results"
        listed = ", ".join(f"{t.job_id} {t.state}" for t in failed[:5]) + (" ..." if len(failed) > 5 else "")
        return INCOMPLETE, f"incomplete: task(s) {listed}; nothing is running: {again} to run only what is missing"
    if n and done == n and not st.damaged:
        if aggregated(st.root, st.done):
            then = _analysis(st.root).removeprefix(", then ")
            return COMPLETE, (f"complete and aggregated: all {n} points done, verified and in {st.root / 'aggregate'}"
                              + (f"; analyse with {then}" if then else ""))  # fmt: skip
        agg = f"python -m sim.aggregate {st.root}"
        return COMPLETE, f"complete: all {n} points done and verified; aggregate with {agg}{_analysis(st.root)}"
    parts = []
    if st.missing:
        parts.append(f"{len(st.missing)} point(s) missing")
    if st.damaged:
        parts.append(f"{len(st.damaged)} damaged (refused by aggregation, recomputed by a rerun)")
    bad = [t for t in st.tasks if t.state != "COMPLETED"]
    if bad:
        more = " ..." if len(bad) > 5 else ""
        parts.append("task(s) " + ", ".join(f"{t.job_id} {t.state}" for t in bad[:5]) + more)
    if not n:
        return INCOMPLETE, "nothing done yet and nothing running: was the sweep submitted? (no points, no tasks)"
    return INCOMPLETE, (f"incomplete: {'; '.join(parts)}; nothing is running: run the same command again to run "
                        f"only the missing points: {command}")  # fmt: skip


def aggregated(root: Path, done: set[str]) -> bool:
    """Whether the sweep's aggregated tables hold exactly the finished points and were written after the last of
    them (sim.run.sweep.aggregate's report, and the points table's keys)."""
    import pandas as pd

    agg = Path(root) / "aggregate"
    try:
        written = min((agg / "report.json").stat().st_mtime, (agg / "points.parquet").stat().st_mtime)
        keys = set(pd.read_parquet(agg / "points.parquet", columns=["point_key"])["point_key"])
    except (OSError, ValueError, KeyError):
        return False
    newest = max(((Path(root) / "points" / k / "point.json").stat().st_mtime for k in done), default=0.0)
    return keys == set(done) and written >= newest


def _analysis(root: Path) -> str:
    """After aggregation, a design sweep's (or a policy study's) own analysis command."""
    if (root / "policies.json").exists():
        return f", then python -m sim.policies {root}"
    try:
        method = json.loads((root / "design.json").read_text()).get("method")
    except (OSError, ValueError):
        return ""
    return f", then python -m sim.{'discovery' if method == 'lhs' else 'sensitivity'} {root}"


def describe(st: Status, all_tasks: bool = False) -> str:
    """The table sim.status prints."""
    lines = []
    sub = st.submission
    if sub:
        arrays = ", ".join(sub["arrays"][:3]) + (" ..." if len(sub["arrays"]) > 3 else "")
        again = f" (submission {st.submissions}; earlier ones are superseded)" if st.submissions > 1 else ""
        lines += [f"sweep {st.root}: {len(sub['tasks'])} {sub['executor']} task(s), job {arrays}, submitted "
                  f"{sub['submitted']} by {sub['user']}@{sub['host']}{' (detached)' if sub['detached'] else ''}{again}",
                  f"  command: {sub['command']}"]  # fmt: skip
    else:
        lines.append(f"sweep {st.root}: no manifest.json (not submitted through a submitit launcher): points only")
    lines.append(f"points: {len(st.expected)} known, {len(st.done)} done, {len(st.claimed)} being computed, "
                 f"{len(st.missing)} missing, {len(st.damaged)} damaged")  # fmt: skip
    if st.tasks:
        counts = Counter(t.state for t in st.tasks)
        lines.append(f"tasks: {len(st.tasks)}: " + ", ".join(f"{c} {s}" for s, c in counts.most_common()))
        order = sorted(st.tasks, key=lambda t: (t.state == "COMPLETED" and t.job == "done", _task_order(t.job_id)))
        shown = order if all_tasks else order[:SHOWN_TASKS]
        lines.append(f"  {'task':<14} {'state':<12} {'job':<8} points done")
        for t in sorted(shown, key=lambda t: _task_order(t.job_id)):
            pts = f"{t.done}/{len(t.points)}" if t.points is not None else "?"
            lines.append(f"  {t.job_id:<14} {t.state:<12} {t.job:<8} {pts}")
        if len(shown) < len(st.tasks):
            lines.append(f"  ... {len(st.tasks) - len(shown)} more finished task(s) (--all lists them)")
        if "GONE" in counts:
            lines.append("  GONE: left SLURM's queue without an accounting record (a task cancelled while pending)")
    for key, problem in list(st.damaged.items())[:10]:
        lines.append(f"  damaged point {key}: {problem}")
    for key, holder in list(st.claimed.items())[:5]:
        lines.append(f"  point {key} being computed by {holder}")
    return "\n".join(lines)


def _task_order(job_id: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in job_id.replace("_", " ").split())


def main_status(root: Path, all_tasks: bool = False) -> tuple[int, str]:
    """(exit status, text) of ``python -m sim.status root``."""
    if not root.is_dir():
        return NOT_A_SWEEP, f"error: {root} is not a folder"
    if not (root / "points").is_dir() and manifest.read(root) is None:
        return NOT_A_SWEEP, f"error: {root} has neither manifest.json nor points/: not a sweep folder"
    st = read_status(root)
    code, line = verdict(st)
    return code, f"{describe(st, all_tasks)}\nverdict: {line}"

