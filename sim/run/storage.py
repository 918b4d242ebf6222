"""Writing results: Parquet tables written atomically, with the resolved config, seed and code version.
A half-written file never carries a final name, so an interrupted run can be resumed safely."""

from __future__ import annotations

import errno
import functools
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim import __version__
from sim.paths import REPO_ROOT

if TYPE_CHECKING:  # pandas loads where a table is written: a command that writes none starts without it
    import pandas as pd

FULL_DISK = (errno.ENOSPC, errno.EDQUOT)  # no space left; disk quota exceeded


class DiskFull(SystemExit):
    """The disk (or quota) is full. A SystemExit carrying one line, so that it passes through Hydra's job runner
    and ends a sweep before Hydra's next job starts (Hydra's own next step would be writing that job's config)."""


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in FULL_DISK


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux: /proc/self/status),
    since setting it to read it would race with files being created on other threads."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _publish(tmp: str, path: Path) -> None:
    """Give the temporary file the mode an ordinary file would get (mkstemp makes it 0600, owner-only), then
    rename it into place: results on a shared file system are for colleagues to read, as the umask says."""
    os.chmod(tmp, 0o666 & ~current_umask())
    os.replace(tmp, path)


def atomic_write_bytes(path: Path, data: bytes, sync: bool = True) -> None:
    """Write ``data`` to a temporary file beside ``path`` (flushed to disk if ``sync``), then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if sync:
                os.fsync(fh.fileno())
        _publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def _arrow(df: pd.DataFrame, metadata: dict[str, Any] | None):
    """``df`` (or an Arrow table as it is) as an Arrow table, with ``metadata`` (seed, code version, ...) in its
    schema."""
    import pyarrow as pa

    table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
    if metadata:
        meta = dict(table.schema.metadata or {})
        meta[b"militia_sim"] = json.dumps(metadata, default=str).encode()
        table = table.replace_schema_metadata(meta)
    return table


# Parquet options for the many small files of a sweep's points (a few hundred rows, ~100 columns): measured,
# 1.5 ms a runs table against 6 ms with zstd, dictionaries and statistics, at about the same size.
SMALL_PARQUET = {"compression": "snappy", "use_dictionary": False, "write_statistics": False}


def parquet_bytes(df: pd.DataFrame, metadata: dict[str, Any] | None = None, **options: Any) -> bytes:
    """``df`` as the bytes of a Parquet file (zstd unless ``options`` say otherwise)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(_arrow(df, metadata), sink, **{"compression": "zstd", **options})
    return sink.getvalue().to_pybytes()


def atomic_write_parquet(df: pd.DataFrame, path: Path, metadata: dict[str, Any] | None = None) -> None:
    """Write ``df`` to a temporary file beside ``path``, then rename it into place."""
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = _arrow(df, metadata)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        pq.write_table(table, tmp, compression="zstd")
        _publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ParquetStream:
    """A Parquet file written as its rows come: buffered ``write``s go out as row groups of about
    ``row_group_rows`` rows (0: one per write) to a temporary file, renamed into place by ``close`` (atomic:
    an interrupted run leaves no half file under the final name). ``metadata`` goes in the schema, as
    atomic_write_parquet puts it; ``empty`` is what a stream that got no rows writes."""

    def __init__(self, path: Path, metadata: dict[str, Any] | None = None, row_group_rows: int = 0,
                 empty: pd.DataFrame | None = None) -> None:  # fmt: skip
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.metadata, self.row_group_rows, self.empty = metadata, row_group_rows, empty
        fd, self.tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        os.close(fd)
        self.writer: Any = None
        self.buffer: list[pd.DataFrame] = []
        self.buffered = 0
        self.rows = 0
        self.row_groups = 0

    def write(self, df: pd.DataFrame) -> None:
        self.buffer.append(df)
        self.buffered += len(df)
        if self.buffered >= self.row_group_rows:
            self._flush()

    def _flush(self) -> None:
        import pandas as pd
        import pyarrow.parquet as pq

        if not self.buffer:
            return
        table = _arrow(pd.concat(self.buffer, ignore_index=True), self.metadata)
        if self.writer is None:  # the first rows fix the schema; later ones must match it (pyarrow checks)
            self.writer = pq.ParquetWriter(self.tmp, table.schema, compression="zstd")
        self.writer.write_table(table, row_group_size=len(table))
        self.rows += len(table)
        self.row_groups += 1
        self.buffer, self.buffered = [], 0

    def close(self) -> None:
        import pandas as pd
        import pyarrow.parquet as pq

        self._flush()
        if self.writer is None:  # no rows at all: the empty table, so readers find the columns
            empty = self.empty if self.empty is not None else pd.DataFrame()
            pq.write_table(_arrow(empty, self.metadata), self.tmp, compression="zstd")
        else:
            self.writer.close()
        _publish(self.tmp, self.path)

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.close()
        Path(self.tmp).unlink(missing_ok=True)

    def __enter__(self) -> ParquetStream:
        return self

    def __exit__(self, kind: Any, *rest: Any) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


@functools.cache  # once per process: the code it runs was loaded when it started (git took ~13 ms a call)
def code_version() -> str:
    """Package version plus the git commit (and '-dirty') when run from a checkout."""
    here = REPO_ROOT
    try:
        rev = subprocess.run(
            ["git", "-C", str(here), "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        rev = "unknown"
    return f"{__version__}+{rev}"
