"""What a result was computed with: Python, the libraries that can change a bit of the results, CPU and threads.
Recorded in meta.json, point.json and a sweep's manifest; points from other library versions are not mixed silently."""

from __future__ import annotations

import functools
import json
import os
import platform
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

# The libraries whose arithmetic or storage reaches the results (numba only where installed and used).
RESULT_LIBRARIES = ("numpy", "scipy", "pandas", "pyarrow", "mesa", "numba")


class MixedVersions(SystemExit):
    """Points of one sweep computed with different library versions. A SystemExit so that it passes through
    Hydra's job runner as one line (status 1), like the launcher's own failures."""


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what the platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "Model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.lru_cache(maxsize=1)
def _static() -> dict[str, Any]:
    """What does not change while a process runs (asked once: the code version runs git)."""
    from sim.run.storage import code_version

    libs = {name: v for name in RESULT_LIBRARIES if (v := _version(name)) is not None}
    return {"versions": {"python": platform.python_version(), **libs}, "code_version": code_version(),
            "cpu": cpu_model(), "machine": platform.machine(), "host": platform.node()}  # fmt: skip


def environment(threads: int | None = None) -> dict[str, Any]:
    """This process's provenance: ``versions`` (what must match for bit-identical results), the code version,
    the machine and the threads the engine may use (``threads``; default the CPUs this process may use)."""
    static = _static()
    return {**static, "versions": dict(static["versions"]),
            "threads": int(threads or len(os.sched_getaffinity(0)))}  # fmt: skip


def versions_of(record: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The versions a point.json, meta.json or manifest records; None for one written before they were."""
    env = (record or {}).get("environment")
    return dict(env["versions"]) if isinstance(env, Mapping) and isinstance(env.get("versions"), Mapping) else None


def differences(a: Mapping[str, str], b: Mapping[str, str]) -> list[str]:
    """``numpy 2.4.6 vs 2.3.0`` for every library whose versions differ (a missing one reads 'none')."""
    return [f"{k} {a.get(k, 'none')} vs {b.get(k, 'none')}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def point_versions(root: Path, keys: set[str] | None = None) -> Iterable[tuple[str, dict[str, str] | None]]:
    """(point key, versions) of every point under ``root`` (or of those in ``keys``) with a readable point.json."""
    paths = (sorted(Path(root).glob("points/*/point.json")) if keys is None
             else [Path(root) / "points" / k / "point.json" for k in sorted(keys)])  # fmt: skip
    for path in paths:
        try:
            yield path.parent.name, versions_of(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue


def mixed(root: Path, here: Mapping[str, str] | None = None, keys: Iterable[str] | None = None) -> str | None:
    """One line when the points under ``root`` (only those in ``keys``, if given; and ``here``, this process's
    versions, if given) were not all computed with the same versions; None when they were. Points from before
    versions were recorded count as one group of their own ('unrecorded')."""
    groups: dict[str, tuple[str, dict[str, str] | None]] = {}
    wanted = None if keys is None else set(keys)
    for key, v in point_versions(root, wanted):
        groups.setdefault(json.dumps(v, sort_keys=True), (key, v))
    if here is not None:
        groups.setdefault(json.dumps(dict(here), sort_keys=True), ("this process", dict(here)))
    if len(groups) < 2:
        return None
    (ka, va), (kb, vb) = list(groups.values())[:2]
    if va is None or vb is None:
        what = "versions unrecorded (an older version of this code)"
    else:
        what = ", ".join(differences(va, vb))
    where = "point " + ka if ka != "this process" else ka
    other = "point " + kb if kb != "this process" else kb
    return (f"{root}: results from {len(groups)} different software environments: {where} and {other} differ "
            f"({what})")  # fmt: skip


def here() -> dict[str, str]:
    """This process's versions."""
    return dict(_static()["versions"])


def refuse_mixed(root: Path, keys: Iterable[str] | None = None, allow: bool = False) -> None:
    """Raise MixedVersions (one line) if computing here would mix versions among ``root``'s points (``keys``)."""
    problem = mixed(root, here(), keys)
    if problem and not allow:
        raise MixedVersions(f"error: {problem}; running here would mix them in one sweep: use a new "
                            "hydra.sweep.dir, or allow_mixed_versions=true to mix them knowingly")  # fmt: skip
    if problem:
        import logging

        logging.getLogger(__name__).warning(f"{problem}; mixed as asked (allow_mixed_versions=true)")
