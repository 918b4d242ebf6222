"""Writing results: Parquet tables written atomically, with the resolved config, seed and code version.
A half-written file never carries a final name, so an interrupted run can be resumed safely."""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import subprocess
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
    """A full disk or quota: the errno, or (pyarrow's errors carry none) the C library's words in the message."""
    if not isinstance(exc, OSError):
        return False
    return exc.errno in FULL_DISK or any(os.strerror(e) in str(exc) for e in FULL_DISK) or "[errno 28]" in str(exc)


def disk_full_line(exc: OSError, folder: Path | str, kept: str = "nothing partial was kept") -> str:
    """The one line a command ends with on a full disk: what, where, what was kept, how to go on."""
    return (f"error: {os.strerror(errno.ENOSPC) if exc.errno is None else os.strerror(exc.errno)} while writing "
            f"into {folder}: {kept}; free space (or choose another folder), then run the same command again")


def tmp_name(path: Path) -> Path:
    """A temporary file's name beside ``path``: hidden, and saying which host and process wrote it, so that a later
    run can tell a dead writer's leftover (remove_stale_tmp) from a live one's file."""
    path = Path(path)
    return path.with_name(f".{path.name}.{_host()}.{os.getpid()}.{os.urandom(4).hex()}.tmp")


@functools.cache
def _host() -> str:
    import socket

    return socket.gethostname().split(".")[0].replace(".", "-") or "host"


def remove_stale_tmp(folder: Path, stale_s: float = 900.0) -> list[Path]:
    """Remove the temporary files (``.<name>.<host>.<pid>.<random>.tmp``) in ``folder`` whose writer is gone: a
    process of this host that no longer runs, or, from another host, a file untouched for ``stale_s`` seconds
    (a worker killed with its sweep, e.g. joblib's after Ctrl-C). Returns what was removed."""
    import time

    removed = []
    for path in Path(folder).glob(".*.tmp"):
        parts = path.name.rsplit(".", 4)  # [".<name>", host, pid, random, "tmp"]
        try:
            host, pid = parts[1], int(parts[2])
        except (IndexError, ValueError):
            continue
        if host == _host():
            try:
                os.kill(pid, 0)
                continue  # alive
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
        else:
            try:
                if time.time() - path.stat().st_mtime < stale_s:
                    continue
            except OSError:
                continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


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
    tmp = str(tmp_name(path))
    try:
        with open(tmp, "xb") as fh:
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
    tmp = str(tmp_name(path))
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
    atomic_write_parquet puts it; ``empty`` is what a stream that got no rows writes. Use it in a ``with`` block:
    nothing touches the disk before the block is entered, and leaving it by an exception (or a signal, at any
    moment, the rename included) removes the temporary file."""

    def __init__(self, path: Path, metadata: dict[str, Any] | None = None, row_group_rows: int = 0,
                 empty: pd.DataFrame | None = None) -> None:  # fmt: skip
        self.path = Path(path)
        self.metadata, self.row_group_rows, self.empty = metadata, row_group_rows, empty
        # the name is known before the file exists, so that whoever removes it never misses it
        self.tmp = str(tmp_name(self.path))
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
            self.path.parent.mkdir(parents=True, exist_ok=True)
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
            self.path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(_arrow(empty, self.metadata), self.tmp, compression="zstd")
        else:
            self.writer.close()
        _publish(self.tmp, self.path)

    def abort(self) -> None:
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.writer.close()
        Path(self.tmp).unlink(missing_ok=True)

    def __enter__(self) -> ParquetStream:
        return self

    def __exit__(self, kind: Any, *rest: Any) -> None:
        if kind is None:
            try:
                self.close()
            except BaseException:  # a signal or a full disk while closing: no temporary file stays
                self.abort()
                raise
        else:
            self.abort()


class FileSet:
    """Files written as one set: each into a temporary file (``tmp(name)``), then all renamed into place by
    ``commit``, and last a manifest (``manifest``) recording each file's SHA-256 and size with ``record`` (what
    made them, from what, with which versions). Until the commit ends, no manifest vouches for the set: the old
    one is removed first; leaving the ``with`` block without a commit (an error, a full disk, a signal) removes
    every temporary file and every file this set already renamed."""

    def __init__(self, folder: Path, manifest: str, record: dict[str, Any] | None = None) -> None:
        self.folder, self.manifest, self.record = Path(folder), manifest, dict(record or {})
        self.pending: dict[str, Path] = {}
        self.placed: list[Path] = []
        self.committed = False

    def __enter__(self) -> FileSet:
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale_tmp(self.folder)
        (self.folder / self.manifest).unlink(missing_ok=True)
        return self

    def tmp(self, name: str) -> Path:
        path = tmp_name(self.folder / name)
        self.pending[name] = path
        return path

    def commit(self) -> list[Path]:
        import hashlib

        files = {}
        for name, tmp in self.pending.items():
            h = hashlib.sha256()
            with open(tmp, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            files[name] = {"sha256": h.hexdigest(), "bytes": tmp.stat().st_size}
        for name, tmp in self.pending.items():
            _publish(str(tmp), self.folder / name)
            self.placed.append(self.folder / name)
        atomic_write_text(self.folder / self.manifest, json.dumps({**self.record, "files": files}, indent=1,
                                                                  default=str))  # fmt: skip
        self.committed = True
        return list(self.placed)

    def __exit__(self, kind: Any, *rest: Any) -> None:
        if self.committed:
            return
        for tmp in self.pending.values():
            tmp.unlink(missing_ok=True)
        for path in self.placed:
            path.unlink(missing_ok=True)


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
