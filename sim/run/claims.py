"""Claims on sweep points, so that several processes running one sweep on one folder compute each point once.
A claim is a file created exclusively; a killed process's claim is taken over, never left stuck."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLAIM = "claim.json"
# A claim from another host is stale when it shows no sign of life for this long: its holder touches it as
# each block of replicates finishes (seconds to a minute each), so 15 minutes of silence means it is gone.
# On the same host a claim is stale as soon as its process has ended (its pid is gone or was reused).
STALE_S = 900.0
WRITING_S = 10.0  # a claim file still empty this long after its creation was left by a killed writer


@dataclass
class Claim:
    """A claim this process holds on one point's folder."""

    path: Path
    token: str

    def refresh(self) -> None:
        """A sign of life: the claim's modification time is now."""
        try:
            os.utime(self.path)
        except OSError:
            pass

    def release(self) -> None:
        """Remove the claim, if it is still ours (a claim taken over as stale belongs to its new holder)."""
        info = read(self.path)
        if info is not None and info.get("token") == self.token:
            self.path.unlink(missing_ok=True)


def _start_time(pid: int) -> str | None:
    """When a process started (clock ticks since boot, from /proc), to tell a reused pid from its first owner."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def read(path: Path) -> dict[str, Any] | None:
    """A claim's content, or None if it is missing or not (yet) valid JSON."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def is_stale(path: Path, info: dict[str, Any] | None, now: float | None = None) -> bool:
    """Whether a claim may be taken over: its process ended (same host), or it shows no life for STALE_S."""
    try:
        age = (now or time.time()) - Path(path).stat().st_mtime
    except OSError:
        return True  # gone already
    if info is None:
        return age > WRITING_S
    if info.get("host") == socket.gethostname():
        pid = int(info.get("pid", -1))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # alive, another user's
        started = _start_time(pid)
        return started is not None and info.get("started") not in (None, started)
    return age > STALE_S


def claim(folder: Path) -> Claim | None:
    """Claim ``folder`` for this process (its claim.json); None if a live claim holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    return claim_file(folder / CLAIM)


def claim_file(path: Path) -> Claim | None:
    """Claim what the file ``path`` stands for (a sweep job: blocks/<job>.claim); None if a live claim holds it."""
    path = Path(path)
    token = uuid.uuid4().hex
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            if not is_stale(path, read(path)):
                return None
            try:  # rename is atomic: of several processes taking over one stale claim, one wins
                aside = path.with_name(f".{path.name}.{token}")
                os.rename(path, aside)
                aside.unlink(missing_ok=True)
            except FileNotFoundError:
                pass
            continue
        record = {"host": socket.gethostname(), "pid": os.getpid(), "started": _start_time(os.getpid()),
                  "time": time.time(), "token": token}  # fmt: skip
        with os.fdopen(fd, "w") as fh:
            json.dump(record, fh)
        return Claim(path, token)
    return None


def holder(folder: Path) -> str | None:
    """``host pid N since HH:MM:SS`` of a live claim on ``folder``, or None."""
    return holder_file(Path(folder) / CLAIM)


def holder_file(path: Path) -> str | None:
    """``host pid N since HH:MM:SS`` of a live claim in the file ``path``, or None."""
    path = Path(path)
    if not path.exists():
        return None
    info = read(path)
    if is_stale(path, info):
        return None
    if info is None:
        return "a process starting now"
    return f"{info.get('host')} pid {info.get('pid')} since {time.strftime('%H:%M:%S', time.localtime(info['time']))}"
