"""The environment a command runs in, checked before it starts: settings that would otherwise fail deep inside a
library with a traceback (numba's thread count) get one line naming the variable and what is allowed."""

from __future__ import annotations

import os


def check_environment() -> str | None:
    """One line saying what is wrong with the environment, or None."""
    raw = os.environ.get("NUMBA_NUM_THREADS")
    if raw is not None:
        cpus = os.cpu_count() or 1
        try:
            value = int(raw.strip())
        except ValueError:
            return (f"NUMBA_NUM_THREADS={raw!r} is not a whole number: allowed 1 to {cpus} (this machine's CPUs), "
                    "or unset it")  # fmt: skip
        if not 1 <= value <= cpus:
            return f"NUMBA_NUM_THREADS={value} is out of range: allowed 1 to {cpus} (this machine's CPUs), or unset it"
    return None
