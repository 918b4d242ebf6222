"""The project's submitit launching: record the submission in the sweep's manifest, then either return at once
(``hydra.launcher.detach=true``: sim.status reports later) or wait for every job and end a failed sweep with one
line naming the jobs that did not finish (finished points stay, see sweep.py). Hydra instantiates launchers only
from the ``hydra_plugins`` package: ``hydra_plugins/sim_launchers`` holds the two concrete classes."""

from __future__ import annotations

import getpass
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, filter_overrides
from hydra_plugins.hydra_submitit_launcher import submitit_launcher
from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
from omegaconf import OmegaConf

from sim.run import manifest, signals

log = logging.getLogger(__name__)

RESULT_GRACE_S = 15.0  # submitit's own wait for a finished job's result on a slow shared filesystem
QUEUE_POLL_MAX_S = 30.0  # the longest pause between two looks at the scheduler's queue
UNFINISHED = {"READY", "PENDING", "RUNNING", "UNKNOWN", "REQUEUED", "COMPLETING", "PREEMPTED"}  # submitit's list


class SweepJobsFailed(SystemExit):
    """Some jobs of a sweep did not finish. A SystemExit, because this is raised inside Hydra's
    ``run_and_report``, which turns any Exception into a traceback (or, for its compact ones, a message
    plus a hint); a SystemExit passes through it and Python prints its message: one line, status 1."""


class CollectingLauncher(submitit_launcher.BaseSubmititLauncher):
    """``launch`` as in hydra-submitit-launcher 1.2.0, except for the end: the stock launcher waits for
    the jobs in order and raises submitit's multi-line error at the first failed one, leaving the rest
    running unobserved. Here every job is waited for, then all failures are reported in one line."""

    def launch(self, job_overrides: Any, initial_job_idx: int) -> list[JobReturn]:
        import submitit

        assert self.config is not None and len(job_overrides) > 0
        init_keys = {"submitit_folder", "max_num_timeout", "detach"}  # not sbatch options
        executor = submitit.AutoExecutor(
            cluster=self._EXECUTOR, folder=self.params["submitit_folder"],
            **{f"{self._EXECUTOR}_max_num_timeout": v for k, v in self.params.items() if k == "max_num_timeout"},
        )  # fmt: skip
        base = set(OmegaConf.structured(BaseQueueConf).keys())
        executor.update_parameters(
            **{k if k in base else f"{self._EXECUTOR}_{k}": v for k, v in self.params.items() if k not in init_keys}
        )
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        if "mode" in self.config.hydra.sweep:
            os.chmod(sweep_dir, mode=int(str(self.config.hydra.sweep.mode), 8))
        log.info(f"Submitit '{self._EXECUTOR}' sweep output dir : {sweep_dir}")
        job_params = []
        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
            job_params.append((list(overrides), "hydra.sweep.dir", idx, f"job_id_for_{idx}", Singleton.get_state()))
        points = [self._job_points(list(o)) for o in job_overrides]  # before submitting: a bad job stops nothing
        jobs = executor.map_array(self, *zip(*job_params, strict=True))
        detach = bool(self.params.get("detach", False))
        sbatch = {k: v for k, v in self.params.items() if k not in ("setup",)}
        manifest.record_submission(sweep_dir, self._EXECUTOR, [str(j.job_id) for j in jobs],
                                   [list(o) for o in job_overrides], points, detach, sbatch)  # fmt: skip
        if detach:
            arrays = ", ".join(sorted({str(j.job_id).split("_")[0] for j in jobs}))
            print(f"submitted {len(jobs)} {self._EXECUTOR} task(s) (job {arrays}) for {sweep_dir}; not waiting "
                  f"(hydra.launcher.detach=true)\n  how it goes:   python -m sim.status {sweep_dir}\n"
                  f"  when done:     python -m sim.aggregate {sweep_dir}", flush=True)  # fmt: skip
            raise SystemExit(0)  # past Hydra's end-of-sweep callback: nothing to aggregate yet
        try:
            return collect(jobs, sweep_dir, self._EXECUTOR, self._queue)
        except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM (sim.run.signals): the tasks are the scheduler's
            arrays = ", ".join(sorted({str(j.job_id).split("_")[0] for j in jobs}))
            stop = f"scancel {arrays}" if self._EXECUTOR == "slurm" else f"kill {arrays}"
            exc.note = (f"stopped waiting; the {len(jobs)} submitted task(s) go on: python -m sim.status {sweep_dir} "
                        f"says how they do ({stop} stops them)")  # fmt: skip
            raise

    def _job_points(self, overrides: list[str]) -> list[str] | None:
        """The keys of the points one job will compute (its grid or design block), for the manifest; None if
        the job is not a sweep of points or its config does not compose here."""
        assert self.hydra_context is not None and self.config is not None
        try:
            from sim.run.sweep import sweep_points
            from sim.run.validate import resolve_inputs

            cfg = self.hydra_context.config_loader.load_sweep_config(self.config, overrides)
            if cfg.params_from or cfg.calibration:  # jobs that store no sweep points
                return None
            _, militias, scenario = resolve_inputs(cfg)
            return [p.key for p in sweep_points(cfg, scenario, militias)]
        except Exception as exc:  # the job itself will say what is wrong, in its log
            log.warning(f"points of job {' '.join(overrides)} not listed in the manifest: {exc}")
            return None

    _queue: Callable[[], set[str] | None] | None = None  # the scheduler's queue, where there is one

    def __call__(self, *args: Any, **kwargs: Any) -> JobReturn:
        """One job, in its task (on the compute node): a stop signal (SLURM's --signal, preemption, scancel) is
        honoured between blocks; after SIGUSR1/SIGUSR2 the task requeues itself if it stored any point."""
        signals.install_task_handlers()
        try:
            return super().__call__(*args, **kwargs)
        except KeyboardInterrupt as exc:
            raise SystemExit(task_stopped(exc)) from None


def task_stopped(exc: BaseException) -> int:
    """Log why a task stops, requeue it on SLURM when the signal asks for a later run (SIGUSR1: time is nearly up;
    SIGUSR2: submitit's) and this run stored a point (else a task too long for its time limit would loop);
    returns the exit status, 128 + the signal."""
    signum = int(getattr(exc, "signum", signal.SIGINT))
    for s in signals.TASK_SIGNALS:  # stopping already: the requeue's own SIGTERM must not interrupt the exit
        signal.signal(s, signal.SIG_IGN)
    progressed = bool(getattr(exc, "progressed", False))  # stopped before its sweep began: no progress
    job = _slurm_job_id()
    line = f"task stopped by {signal.Signals(signum).name}: "
    if signum in (signal.SIGUSR1, signal.SIGUSR2) and job:
        line += getattr(exc, "stored", "before its points") + " (none half-written)"
        if not progressed:
            line += "; not requeued: no point finished in this run (raise timeout_min or give tasks fewer points)"
        else:
            res = subprocess.run(["scontrol", "requeue", job], capture_output=True, text=True, timeout=60)
            line += (f"; requeued {job}: its next run computes only the missing points" if res.returncode == 0
                     else f"; requeue of {job} failed: {res.stderr.strip()}")  # fmt: skip
    else:
        line += getattr(exc, "note", "") or "before any point was computed"
    print(line, file=sys.stderr, flush=True)
    log.warning(line)
    return 128 + signum


def _slurm_job_id() -> str | None:
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    return f"{array}_{task}" if array and task else os.environ.get("SLURM_JOB_ID")


def collect(
    jobs: Sequence[Any], sweep_dir: Path, executor: str = "slurm", queue: Callable[[], set[str] | None] | None = None
) -> list[JobReturn]:
    """Wait for every submitit job, then return their results, or raise SweepJobsFailed naming each job
    that produced no result (with its scheduler state) or raised. ``queue`` lists the job ids the
    scheduler still holds (None when it cannot tell)."""
    wait_all(jobs, queue)
    deadline = time.monotonic() + RESULT_GRACE_S
    while any(not j.paths.result_pickle.exists() for j in jobs) and time.monotonic() < deadline:
        time.sleep(1)  # once for the whole sweep, not per failed job as submitit's results() would
    results, failed = [], []
    for job in jobs:
        if not job.paths.result_pickle.exists():
            failed.append(f"{job.job_id} ({_ended_state(job)})")
            continue
        try:
            results.append(job.results()[0])
        except Exception as exc:  # the job's own exception, re-raised by submitit with its traceback
            failed.append(f"{job.job_id} (raised {_last_line(str(exc))})")
    if failed:
        raise SweepJobsFailed(
            f"error: {len(failed)} of {len(jobs)} {executor} jobs did not finish: {', '.join(failed)}; "
            f"finished points are kept in {sweep_dir}; run the same command again to run only the missing "
            f"points (job logs in {sweep_dir}/.submitit/)"
        )
    return results


def wait_all(jobs: Sequence[Any], queue: Callable[[], set[str] | None] | None = None) -> None:
    """Return when every job has ended: it has a result, its state (sacct) is final, or it has left the
    scheduler's queue without a result. The last case matters: SLURM keeps no accounting record of an
    array task cancelled while pending, so sacct alone would leave such a task "PENDING" forever."""
    pending, absent = list(jobs), dict.fromkeys((j.job_id for j in jobs), 0)
    t0 = next_look = time.monotonic()
    while pending:
        held = None
        if queue is not None and time.monotonic() >= next_look:  # squeue is costly on a big cluster: seldom
            held = queue()
            next_look = time.monotonic() + min(QUEUE_POLL_MAX_S, 2.0 + (time.monotonic() - t0) / 20)
        still = []
        for job in pending:
            if job.done():  # a result file, or a final state from sacct (submitit paces those calls)
                continue
            if held is not None:
                absent[job.job_id] = absent[job.job_id] + 1 if job.job_id not in held else 0
            if absent[job.job_id] < 2:  # gone from two answers in a row: never on one odd answer
                still.append(job)
        pending = still
        if pending:
            time.sleep(1.0)


def _ended_state(job: Any) -> str:
    state = str(job.state)
    if state.split(" ")[0].upper() in UNFINISHED:
        return "left the queue without a result; sacct has no record of why"
    return state


def _last_line(trace: str) -> str:
    """The exception line of a traceback that submitit framed with dashed lines."""
    lines = [ln.strip() for ln in trace.splitlines() if ln.strip() and not ln.startswith("---")]
    tb = [ln for ln in lines if not ln.startswith(("You can check", "or at paths", "- "))]
    return tb[-1] if tb else "an exception"


def slurm_queue() -> set[str] | None:
    """Ids of this user's jobs that SLURM still holds (array tasks one by one); None if squeue fails."""
    try:
        res = subprocess.run(
            ["squeue", "-h", "-r", "-o", "%i", "-u", getpass.getuser()], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return set(res.stdout.split()) if res.returncode == 0 else None
