"""The aggregation holds a bounded number of points: the points table is merged from sorted parts, the runs and daily
tables are made a slice of points at a time, and the tables are those that stacking everything at once gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.model.params import MILITIAS, make_params
from sim.model.scenario import load_scenario
from sim.run import points_table, sweep
from sim.run.storage import _arrow
from sim.run.sweep import SweepPoint, aggregate, run_points


def _frames(rng: np.random.Generator) -> list[pd.DataFrame]:
    """Blocks' points as the aggregation makes them, with columns that some blocks lack (a parameter only one
    structure uses: an integer, a yes/no, a text) and missing values, in random key order."""
    frames = []
    for b, size in enumerate([1, 7, 3, 6, 2, 5, 4]):
        keys = [f"{rng.integers(16**15):016x}" for _ in range(size)]
        frame = pd.DataFrame({"point_key": keys, "label": [f"p{b}.{i}=" + "x" * 300 for i in range(size)],
                              "param.a": rng.random(size), "var_a": np.where(rng.random(size) < 0.3, np.nan, 1.0)})
        if b % 2:
            frame["param.only_odd"] = rng.integers(0, 9, size)  # an integer here, NaN elsewhere: real numbers
        if b % 3 == 0:
            frame["param.flag"] = rng.random(size) < 0.5  # yes/no here, missing elsewhere
        if b in (2, 5):
            frame["structure.x"] = "rival"
        frame["escalated"] = rng.integers(0, 30, size)
        frames.append(frame)
    return frames


def test_the_points_table_merged_from_parts_is_the_one_stacked_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(points_table, "PART_POINTS", 5)
    monkeypatch.setattr(points_table, "GROUP", 2)
    monkeypatch.setattr(points_table, "CHUNK", 3)
    frames = _frames(np.random.default_rng(7))
    whole, merged = points_table.PointsTable(tmp_path, hold=True), points_table.PointsTable(tmp_path, hold=False)
    for f in frames:
        whole.add(f)
        merged.add(f)
    pq.write_table(_arrow(whole.table(), None), tmp_path / "whole.parquet", compression="zstd")
    assert merged.write(tmp_path / "merged.parquet") == sum(map(len, frames)) == 28
    assert len(merged.parts) == 4  # 1+7, 3+6, 2+5, 4: parked as they reach PART_POINTS, and the rest
    merged.remove_parts()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["merged.parquet", "whole.parquet"]
    want, got = pq.read_table(tmp_path / "whole.parquet"), pq.read_table(tmp_path / "merged.parquet")
    assert got.schema.equals(want.schema, check_metadata=True)  # columns, types and pandas' own metadata
    pd.testing.assert_frame_equal(got.to_pandas(), want.to_pandas())
    assert got.column("point_key").to_pylist() == sorted(got.column("point_key").to_pylist())
    # never more than a part being gathered (PART_POINTS plus the block that crossed it), nor, while merging, a
    # row group of each part and the rows being written
    assert merged.peak <= max(5 - 1 + 7, 4 * 2 + 3) < 28


def _point(i: int, leverage: str = "salehyan", daily: str = "hazard") -> SweepPoint:
    params = make_params(cells_per_militia=3, patron_influence=0.05 * i, structure_leverage=leverage)
    return SweepPoint("t", load_scenario("election_loss"), (), params, MILITIAS, 6, 5, daily=daily)


@pytest.mark.parametrize("daily", ["hazard", "full"])
def test_an_aggregation_of_many_blocks_holds_a_few_points_at_a_time(tmp_path, monkeypatch, daily):
    """Five jobs (two of them of the rival leverage structure: other parameter columns) aggregated with parts of
    two points, row groups of one and slices of a few rows give the tables of the all-in-memory aggregation."""
    points = [_point(i, "coercion" if i >= 6 else "salehyan", daily) for i in range(10)]
    for lo in range(0, 10, 2):
        run_points(points[lo : lo + 2] if lo != 4 else points[4:6][::-1], tmp_path, progress=False)
    kept = aggregate(tmp_path, write=False)["tables"]
    made = []

    class Spy(points_table.PointsTable):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(points_table, "PointsTable", Spy)
    monkeypatch.setattr(points_table, "PART_POINTS", 2)
    monkeypatch.setattr(points_table, "GROUP", 1)
    monkeypatch.setattr(points_table, "CHUNK", 3)
    monkeypatch.setattr(sweep, "SLICE_ROWS", 7)
    report = aggregate(tmp_path, keep_rows=False)
    assert report["n_points"] == 10 and "points" not in report["tables"]
    assert len(made[0].parts) == 5 and made[0].peak <= max(2 - 1 + 2, 5 * 1 + 3) < 10
    for name in ("points", "runs", "daily", *(["series"] if daily == "full" else [])):
        on_disk = pd.read_parquet(tmp_path / "aggregate" / f"{name}.parquet")
        pd.testing.assert_frame_equal(on_disk, kept[name])
    points_on_disk = pd.read_parquet(tmp_path / "aggregate" / "points.parquet")
    assert points_on_disk["param.coercion_strength"].isna().sum() == 6  # the default structure's points
    assert not list((tmp_path / "aggregate").glob(".*.tmp"))  # neither parts nor temporary tables left


def test_the_slices_of_a_block_cover_it_in_order_and_stay_near_the_limit(tmp_path, monkeypatch):
    run_points([_point(i) for i in range(5)], tmp_path, progress=False)
    block = pq.read_table(next((tmp_path / "blocks").glob("*.parquet")))
    days = len(block.column("daily.hazard_mean")[0])
    monkeypatch.setattr(sweep, "SLICE_ROWS", 2 * days)
    pieces = list(sweep._slices(block))
    assert [p.num_rows for p in pieces] == [2, 2, 1]
    assert sum((p.column("point_key").to_pylist() for p in pieces), []) == block.column("point_key").to_pylist()
    monkeypatch.setattr(sweep, "SLICE_ROWS", 1)  # smaller than a point: a point a slice, never none
    assert [p.num_rows for p in sweep._slices(block)] == [1] * 5
