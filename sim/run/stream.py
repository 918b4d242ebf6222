"""The main job's tables written as they are computed: runs.parquet in row groups, daily.parquet for the first
daily_replicates, the summary from running sums. Memory and what a crash costs stay bounded at any size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.model.outcomes import DAILY_COLUMNS
from sim.model.params import Militia
from sim.model.scenario import Scenario
from sim.run.simulate import daily_frame, iter_chunks, param_columns, runs_frame
from sim.run.storage import ParquetStream
from sim.run.summary import RunsSummary

# Runs per row group of runs.parquet: about 60 MB of buffer (about 90 columns), and a footer that stays small
# (10 million runs are 153 row groups; a row group per chunk of ~2000 would make a footer of tens of MB).
ROW_GROUP_ROWS = 65_536
DAILY_ROW_GROUP_ROWS = 131_072  # a row per replicate and day: about 600 replicates of a 215-day scenario
# The timeline figure's bands: at most this many replicates' series are held in memory (daily.parquet keeps all
# daily_replicates); the figure says "bands over the first N of M replicates" when it uses fewer.
FIGURE_REPLICATES = 10_000
FIGURE_COLUMNS = ("replicate", "date", "hazard", "tension", "rivalry")


@dataclass
class Streamed:
    """What a streamed run leaves in memory: the summary's running sums and the figure's daily series."""

    summary: RunsSummary
    figure_daily: pd.DataFrame
    runs_row_groups: int


def stream_run(
    scenario: Scenario,
    params: Any,
    militias: Sequence[Militia],
    out_dir: Path,
    *,
    seed: int,
    replicates: int,
    engine: str,
    metadata: dict[str, Any],
    daily_replicates: int = 1000,
    **kw: Any,
) -> Streamed:
    """Simulate and write ``out_dir``/runs.parquet and daily.parquet chunk by chunk (each renamed into place
    when complete). The runs table has the same columns as before streaming: outcomes, then scenario, seed,
    engine and every parameter (constant columns cost almost nothing in Parquet). ``kw``: iter_chunks's."""
    constants = {"scenario": scenario.name, "seed": seed, "engine": engine, **param_columns(params)}
    summary, figure, kept = RunsSummary(), [], 0
    empty_daily = pd.DataFrame(columns=["replicate", "day", "date", *DAILY_COLUMNS])
    runs_out = ParquetStream(out_dir / "runs.parquet", metadata, ROW_GROUP_ROWS)
    daily_out = ParquetStream(out_dir / "daily.parquet", metadata, DAILY_ROW_GROUP_ROWS, empty=empty_daily)
    with runs_out, daily_out:
        for chunk in iter_chunks(scenario, params, militias, seed=seed, replicates=replicates, engine=engine,
                                 daily_replicates=daily_replicates, **kw):  # fmt: skip
            runs = runs_frame(chunk)
            summary.add(runs)
            runs_out.write(runs.assign(**constants))
            if chunk.daily is None or not len(chunk.daily_replicates):
                continue
            daily = daily_frame(chunk, scenario, militias)
            daily_out.write(daily)
            if kept < FIGURE_REPLICATES:
                part = daily.loc[daily["replicate"] < FIGURE_REPLICATES, list(FIGURE_COLUMNS)]
                figure.append(part)
                kept = int(part["replicate"].max()) + 1 if len(part) else kept
    figure_daily = pd.concat(figure, ignore_index=True) if figure else empty_daily[list(FIGURE_COLUMNS)]
    return Streamed(summary, figure_daily, runs_out.row_groups)
