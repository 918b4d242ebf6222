"""A sweep's manifest: what each submission sent to the scheduler (job ids, each task's overrides and points,
the command, the environment), kept in the sweep folder so that sim.status can report after the submitter left."""

from __future__ import annotations

import getpass
import json
import os
import shlex
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.run import provenance
from sim.run.claims import _start_time
from sim.run.storage import atomic_write_text

NAME = "manifest.json"


def command_line() -> str:
    """The command as the user typed it (``python -m sim ...``): running it again resumes the sweep."""
    head = ["python", "-m", "sim"] if Path(sys.argv[0]).name == "__main__.py" else ["python", sys.argv[0]]
    return shlex.join([*head, *sys.argv[1:]])


def read(sweep_dir: Path) -> dict[str, Any] | None:
    """The manifest, or None if the folder has none (or it is not readable JSON)."""
    try:
        doc = json.loads((Path(sweep_dir) / NAME).read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("submissions"), list) else None


def record_submission(
    sweep_dir: Path,
    executor: str,
    job_ids: Sequence[str],
    job_overrides: Sequence[Sequence[str]],
    points: Sequence[list[str] | None],
    detached: bool,
    parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Append one submission (its tasks, in Hydra's job order) to the manifest, atomically; returns it."""
    sweep_dir = Path(sweep_dir)
    doc = read(sweep_dir) or {"sweep_dir": str(sweep_dir.resolve()), "submissions": []}
    arrays = sorted({j.split("_")[0] for j in job_ids})
    submission = {
        "submitted": time.strftime("%Y-%m-%d %H:%M:%S"), "submitted_unix": time.time(), "executor": executor,
        "arrays": arrays, "detached": detached, "user": getpass.getuser(), "host": socket.gethostname(),
        "pid": os.getpid(), "pid_started": _start_time(os.getpid()), "cwd": os.getcwd(), "command": command_line(),
        "parameters": parameters or {},
        "environment": provenance.environment(),
        "tasks": [{"job_id": str(j), "job_num": i, "overrides": list(o), "points": p}
                  for i, (j, o, p) in enumerate(zip(job_ids, job_overrides, points, strict=True))],
    }  # fmt: skip
    doc["submissions"].append(submission)
    atomic_write_text(sweep_dir / NAME, json.dumps(doc, indent=1, default=str))
    return submission
