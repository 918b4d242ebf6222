"""Where a sweep's tables are, from whatever folder a user names: the sweep folder (hydra.sweep.dir) or its
aggregate/ folder. Every command that reads a sweep takes either."""

from __future__ import annotations

from pathlib import Path

AGGREGATE = "aggregate"


def sweep_root(folder: str | Path) -> Path:
    """The sweep folder of ``folder``: itself, or its parent when ``folder`` is a sweep's aggregate/ folder."""
    folder = Path(folder)
    if folder.name == AGGREGATE and not (folder / AGGREGATE).is_dir() and (
        (folder.parent / "points").is_dir() or (folder.parent / "design.json").exists()
        or (folder.parent / "manifest.json").exists() or (folder / "points.parquet").exists()
    ):  # fmt: skip
        return folder.parent
    return folder


def tables_dir(folder: str | Path) -> Path:
    """The folder holding the aggregated tables: ``<sweep>/aggregate`` for a sweep folder or its aggregate/
    folder, else ``folder`` itself (a run folder, a study's output)."""
    folder = Path(folder)
    if folder.name != AGGREGATE and (folder / AGGREGATE).is_dir():
        return folder / AGGREGATE
    return folder
