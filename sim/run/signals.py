"""Signals: Ctrl-C (SIGINT) and SIGTERM stop a command within seconds, removing its temporary files, with one line
and status 130 / 143; in a cluster task SIGTERM, SIGUSR1 and SIGUSR2 stop a sweep between blocks, never mid-write."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
TASK_SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2)  # scancel/preemption, --signal=USR1@..., submitit's
_requested: int | None = None  # the signal a cluster task was asked to stop by, seen between blocks
_deferred = 0  # > 0 while a sweep loop checks ``requested()`` between blocks
_task = False  # the task handlers are installed: this process is a cluster (or submitit) task


class Interrupted(KeyboardInterrupt):
    """A stop by signal. A KeyboardInterrupt, so that the handlers that remove temporary files (``except
    BaseException``) and Hydra (which catches Exception only) let it through to the command's entry point;
    ``note`` says what was kept, set on the way out by whoever knows."""

    def __init__(self, signum: int = signal.SIGINT, note: str = "") -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum, self.note = signum, note


def name(signum: int) -> str:
    return signal.Signals(signum).name


def _raise(signum: int, frame: FrameType | None) -> None:
    # a second signal while the first is being handled ends the process now (the user insists)
    for s in STOP_SIGNALS:
        signal.signal(s, _hard_exit)
    raise Interrupted(signum)


def _hard_exit(signum: int, frame: FrameType | None) -> None:
    os._exit(128 + signum)


def _starting(signum: int, frame: FrameType | None) -> None:
    # before the command's own handlers (run_command): it has opened nothing yet, so it can end here and now
    os.write(2, f"interrupted ({name(signum)}): stopped while starting; nothing was written\n".encode())
    os._exit(128 + signum)


def start() -> None:
    """The first statement of every command's entry point, before any other import: from here on SIGINT and
    SIGTERM end the command with one line and status 130 / 143. It also takes SIGINT back from a shell that
    started the command in the background (which leaves it ignored), so Ctrl-C reaches it at once."""
    for s in STOP_SIGNALS:
        signal.signal(s, _starting)


def install_command_handlers() -> None:
    """SIGINT and SIGTERM raise Interrupted in the main thread (Python's default kills on SIGTERM, leaving
    temporary files behind)."""
    for s in STOP_SIGNALS:
        signal.signal(s, _raise)


def run_command(main: Callable[[], int | None]) -> None:
    """Run a command's ``main`` with the handlers installed; a stop by signal prints one line and exits 128+signal.
    The exit skips waiting for worker threads still computing a block (their results are not wanted; every file
    they would have fed has been removed by the main thread's handlers by now)."""
    before = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    install_command_handlers()
    try:
        status = main()
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        note = getattr(exc, "note", "") or "stopped; its temporary files were removed"
        print(f"interrupted ({name(signum)}): {note}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(128 + signum)
    finally:  # called in-process (tests): leave the caller's handlers as they were
        for s, h in before.items():
            signal.signal(s, h)
    raise SystemExit(status)


# ----------------------------------------------------------------------------- in a cluster task


def _request(signum: int, frame: FrameType | None) -> None:
    global _requested
    first = _requested is None
    _requested = signum
    if not _deferred or not first:  # nothing checks between blocks, or a second signal: stop now
        raise Interrupted(signum)


def install_task_handlers() -> None:
    """In a cluster task: SIGTERM, SIGUSR1 and SIGUSR2 ask the running sweep to stop at its next block boundary
    (``stop_point``); elsewhere (or on a second signal) they raise Interrupted at once. Replaces submitit's
    handlers, which ignore SIGTERM and exit from the middle of whatever runs on SIGUSR2."""
    global _requested, _task
    _requested, _task = None, True
    if threading.current_thread() is threading.main_thread():
        for s in TASK_SIGNALS:
            signal.signal(s, _request)


def in_task() -> bool:
    """Whether this process is a cluster task (its stop signals are handled between blocks)."""
    return _task


def requested() -> int | None:
    """The signal a stop was asked by, if any."""
    return _requested


@contextlib.contextmanager
def between_blocks() -> Iterator[None]:
    """While inside, a task's stop signal only sets ``requested()``; the loop checks it between blocks."""
    global _deferred
    _deferred += 1
    try:
        yield
    finally:
        _deferred -= 1


def stop_point(note: Callable[[], str] | None = None) -> None:
    """Between blocks: raise Interrupted if a stop was asked (every finished point is stored by now)."""
    if _requested is not None:
        raise Interrupted(_requested, note() if note else "")


def reset() -> None:
    """Forget a stop request (tests; a task that handled it)."""
    global _requested
    _requested = None
