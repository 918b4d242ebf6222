"""Progress of long runs: a bar on a terminal; elsewhere (SLURM logs, pipes) one log line at a steady interval
with done/total, rate and ETA, through logging, so it lands in Hydra's log file too. Short runs print nothing."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

log = logging.getLogger("sim.progress")
INTERVAL_S = 30.0  # seconds between log lines; the main job sets it from progress_interval_s


def set_interval(seconds: float) -> None:
    """The interval between progress lines for the rest of this process (the main job's progress_interval_s)."""
    global INTERVAL_S
    INTERVAL_S = float(seconds)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class LogProgress:
    """``update(n)`` as tqdm's; logs ``desc: done/total (pct), rate/s, ETA`` at most every ``interval_s``, and a
    closing line with the total time if it logged at all (a run shorter than the interval stays silent)."""

    def __init__(self, total: int, desc: str, interval_s: float | None = None, unit: str = "replicates",
                 clock=time.monotonic) -> None:  # fmt: skip
        self.total, self.desc, self.unit, self.clock = total, desc, unit, clock
        self.interval = INTERVAL_S if interval_s is None else interval_s
        self.done, self.lines = 0, 0
        self.t0 = clock()
        self.next = self.t0 + self.interval

    def update(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        if now >= self.next and self.done < self.total:
            elapsed = now - self.t0
            rate = self.done / elapsed if elapsed > 0 else 0.0
            eta = _duration((self.total - self.done) / rate) if rate > 0 else "unknown"
            per = f"{rate:,.0f}/s" if rate >= 10 else f"{rate:.2g}/s" if rate >= 0.1 else f"{60 * rate:.2g}/min"
            log.info(f"{self.desc}: {self.done:,}/{self.total:,} {self.unit} ({100 * self.done / self.total:.1f}%), "
                     f"{per}, ETA {eta}")  # fmt: skip
            self.lines += 1
            self.next = now + self.interval

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.lines and exc[0] is None:
            elapsed = self.clock() - self.t0
            log.info(f"{self.desc}: {self.done:,} {self.unit} in {_duration(elapsed)}")


class _Quiet:
    def update(self, n: int = 1) -> None:
        pass

    def __enter__(self) -> _Quiet:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


def progress_bar(total: int, enabled: bool | None, desc: str, unit: str = "replicates"):
    """``enabled``: None shows a bar on a terminal and log lines elsewhere; True a bar; False nothing.
    ``unit``: what is counted, in words (the bar shows its first three letters)."""
    if enabled is False:
        return _Quiet()
    if enabled is None and not sys.stderr.isatty():
        return LogProgress(total, desc, unit=unit)
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit[:3] if unit == "replicates" else unit, leave=False)


def log_to_stderr() -> None:
    """For a command outside Hydra (sim.discovery, sim.sensitivity, ...): progress lines go to stderr with a
    time stamp, as Hydra's jobs log them (Hydra configures logging itself; this leaves a configured root alone)."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("[%(asctime)s][%(levelname)s] %(message)s"))
        root.addHandler(handler)
    log.setLevel(logging.INFO)
