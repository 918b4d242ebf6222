"""A sweep's points table (aggregate/points.parquet) built a block at a time: the rows are parked in temporary
Arrow files (parts), each sorted by point key, then merged by key into the table: memory does not grow with points.

The table is the one that stacking every block's rows (pandas.concat) and sorting them by key gives, column
order, dtypes and pandas metadata included (tests/test_store.py pins it): the columns and their types come from
a few rows of each part, those holding each column's first value, stacked the same way."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np

from sim.run.storage import tmp_name

PART_POINTS = 10_000  # points gathered before they are sorted and parked as one part (~5 kB each in memory)
GROUP = 128  # points per record batch of a part: what the merge reads of each part at a time
CHUNK = 4096  # points of the table merged and written at a time
# Held at once: the points being gathered (PART_POINTS and the block that crossed it), or while merging a batch
# of each part and a chunk twice (a million points: 100 parts x 128 + 2 x 4,096 rows), never the whole table.


class PointsTable:
    """Collects each block's points (a pandas frame per block); ``hold`` keeps them all in memory (the caller
    wants the table back, or nothing is written), otherwise they go to parts beside ``out_dir``'s table.
    ``peak`` is the most point rows held at once (a test checks it stays bounded)."""

    def __init__(self, out_dir: Path, hold: bool) -> None:
        self.out_dir, self.hold = Path(out_dir), hold
        self.frames: list[Any] = []
        self.pending = 0
        self.parts: list[Path] = []
        self.samples: list[Any] = []  # per part: the rows holding each column's first value
        self.keys: list[np.ndarray] = []
        self.peak = 0

    def add(self, frame: Any) -> None:
        self.frames.append(frame)
        self.pending += len(frame)
        self.peak = max(self.peak, self.pending)
        if not self.hold and self.pending >= PART_POINTS:
            self._park()

    def table(self) -> Any:
        """The whole table in memory (``hold``): every block's rows stacked, sorted by key."""
        import pandas as pd

        frames = self.frames
        table = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        return table.sort_values("point_key", kind="stable").reset_index(drop=True)

    def _park(self) -> None:
        import pyarrow as pa

        if not self.frames:
            return
        frame = self.table()
        path = tmp_name(self.out_dir / f"points.part{len(self.parts)}.arrow")
        self.parts.append(path)  # listed first: removed whatever happens next
        self.out_dir.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        options = pa.ipc.IpcWriteOptions(compression="lz4")  # an Arrow file: no Parquet encoding to undo
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema, options=options) as writer:
            writer.write_table(table, max_chunksize=GROUP)
        first = {0} | {int(np.argmax(frame[c].notna().to_numpy())) for c in frame.columns}
        self.samples.append(frame.iloc[sorted(first)])
        self.keys.append(frame["point_key"].to_numpy(dtype=str))
        self.frames, self.pending = [], 0

    def write(self, path: Path) -> int:
        """Merge the parts by key into the Parquet table ``path``; returns its rows."""
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self.parts:  # it all fits in one part: written as it is, no part to merge
            table = pa.Table.from_pandas(self.table(), preserve_index=False)
            pq.write_table(table, str(path), compression="zstd")
            return table.num_rows
        self._park()
        sample = pd.concat(self.samples, ignore_index=True) if len(self.samples) > 1 else self.samples[0]
        schema = pa.Schema.from_pandas(sample, preserve_index=False)
        part_of = np.repeat(np.arange(len(self.keys)), [len(k) for k in self.keys])
        order = np.argsort(np.concatenate(self.keys), kind="stable")  # each part is sorted: read in order
        cursors = [_Cursor(p, schema) for p in self.parts]
        try:
            with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
                for lo in range(0, len(order), CHUNK):
                    source = part_of[order[lo : lo + CHUNK]]
                    pieces, where = [], []
                    for p in np.unique(source):
                        rows = np.flatnonzero(source == p)
                        pieces.append(cursors[p].take(len(rows)))
                        where.append(rows)
                    held = sum(c.buffered for c in cursors) + 2 * len(source)  # what is left of each read, the
                    # rows taken and their copy in key order
                    self.peak = max(self.peak, held)
                    perm = np.empty(len(source), dtype=np.int64)
                    perm[np.concatenate(where)] = np.arange(len(source))
                    writer.write_table(pa.concat_tables(pieces).take(pa.array(perm)))
        finally:
            for c in cursors:
                c.file.close()
        return len(order)

    def remove_parts(self) -> None:
        for path in self.parts:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)


class _Cursor:
    """A part read GROUP rows at a time, its rows given in order, as columns of the table's ``schema`` (a column
    the part lacks is empty; an integer column the table holds as real numbers is cast, as pandas.concat does)."""

    def __init__(self, path: Path, schema: Any) -> None:
        import pyarrow as pa

        self.file = pa.OSFile(str(path), "rb")
        reader = pa.ipc.open_file(self.file)
        self.batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
        self.schema = schema
        self.buffer: list[Any] = []
        self.buffered = 0

    def take(self, n: int) -> Any:
        import pyarrow as pa

        while self.buffered < n:
            batch = next(self.batches)  # read from the file now: one batch of GROUP rows in memory
            self.buffer.append(self._conform(batch))
            self.buffered += batch.num_rows
        table = pa.concat_tables(self.buffer)
        self.buffer = [table.slice(n)] if table.num_rows > n else []
        self.buffered -= n
        return table.slice(0, n)

    def _conform(self, batch: Any) -> Any:
        import pyarrow as pa

        columns = []
        for field in self.schema:
            i = batch.schema.get_field_index(field.name)
            if i < 0:
                columns.append(pa.nulls(batch.num_rows, field.type))
            else:
                column = batch.column(i)
                columns.append(column if column.type == field.type else column.cast(field.type))
        return pa.Table.from_arrays(columns, schema=self.schema)
