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
    # batch of each part and the rows being written (twice: taken, then in key order)
    assert merged.peak <= max(5 - 1 + 7, 4 * 2 + 2 * 3) < 28


def _point(i: int, leverage: str = "salehyan", daily: str = "hazard") -> SweepPoint:
    params = make_params(cells_per_militia=3, patron_influence=0.05 * i, structure_leverage=leverage)
    return SweepPoint("t", load_scenario("election_loss"), (), params, MILITIAS, 6, 5, daily=daily)


@pytest.mark.parametrize("daily", ["hazard", "full"])
def test_an_aggregation_of_many_blocks_holds_a_few_points_at_a_time(tmp_path, monkeypatch, daily):
    """Five jobs (two of them of the rival leverage structure: other parameter columns) aggregated with parts of
    two points, batches of one and slices of a few rows give the tables of the all-in-memory aggregation."""
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
    monkeypatch.setattr(points_table, "CHUNK", 1)
    monkeypatch.setattr(sweep, "SLICE_BYTES", 7 * 200)
    report = aggregate(tmp_path, keep_rows=False)
    assert report["n_points"] == 10 and "points" not in report["tables"]
    assert len(made[0].parts) == 5 and made[0].peak <= max(2 - 1 + 2, 5 * 1 + 2 * 1) < 10
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
    texts = ["point_key", "scenario", "label", *(c for c in block.column_names if c.startswith("structure."))]
    size = [days * (64 + sum(len(block.column(c)[i].as_py().encode()) for c in texts)) for i in range(5)]
    monkeypatch.setattr(sweep, "SLICE_BYTES", 2 * min(size))
    pieces = list(sweep._slices(block))
    assert len(pieces) == 3, [p.num_rows for p in pieces]
    at = 0
    for piece in pieces:  # each slice starts within a window of SLICE_BYTES: at most one point past it
        n = piece.num_rows
        assert n == 1 or sum(size[at : at + n - 1]) < 2 * min(size)
        at += n
    keys = [k for p in pieces for k in p.column("point_key").to_pylist()]
    assert keys == block.column("point_key").to_pylist()
    monkeypatch.setattr(sweep, "SLICE_BYTES", 1)  # smaller than a point: a point a slice, never none
    assert [p.num_rows for p in sweep._slices(block)] == [1] * 5
    monkeypatch.setattr(sweep, "SLICE_BYTES", 64 << 20)  # a small block: whole
    assert [p.num_rows for p in sweep._slices(block)] == [5]


def test_the_wilson_intervals_95_percent_quantile_is_scipys_to_the_last_bit():
    """The points table's intervals use a stored z (no scipy import in the aggregation): the same bits as
    scipy.stats.norm.ppf(0.975), so the intervals are unchanged; other levels still ask scipy."""
    from scipy.stats import norm

    from sim.run.summary import Z_95, wilson_interval

    assert Z_95 == norm.ppf(0.975)
    k, n = np.array([0, 3, 17, 40]), np.array([40, 40, 40, 40])
    z = norm.ppf(0.975)
    p = k / n
    denom = 1 + z**2 / n
    centre, half = (p + z**2 / (2 * n)) / denom, z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    lo, hi = wilson_interval(k, n)
    assert np.array_equal(lo, np.clip(centre - half, 0, 1)) and np.array_equal(hi, np.clip(centre + half, 0, 1))
    lo90, _ = wilson_interval(k, n, level=0.9)
    assert (lo90 > lo)[1:].all()


@pytest.mark.parametrize("case", ["grid", "design", "named", "one"])
def test_the_printed_points_table_read_a_batch_at_a_time_is_the_one_read_whole(tmp_path, monkeypatch, case):
    """sim.aggregate and the end of a multirun print the points table from disk: what varies is found a batch of
    rows at a time and only the printed columns are read, with the same lines as from the table in memory."""
    from sim.run import points_summary

    rng = np.random.default_rng(3)
    n = 11
    frame = pd.DataFrame({"point_key": [f"{i:016x}" for i in range(n)], "scenario": "election_loss",
                          "label": [f"a={i}" for i in range(n)], "drop_events": ""})  # fmt: skip
    for j in range({"grid": 2, "design": 5, "named": 0, "one": 0}[case]):
        frame[f"param.v{j}"] = rng.integers(0, 3, n) / 2 if case == "grid" else rng.random(n)
    frame["param.fixed"] = 0.5
    if case == "named":
        frame["label"] = ["baseline", "no_patron"] * 5 + ["baseline"]
    if case == "one":
        frame = frame.iloc[:1]
    frame["replicates"], frame["escalated"] = 40, rng.integers(0, 40, len(frame))
    frame["p_escalation"] = frame["escalated"] / 40
    frame["ci_low"], frame["ci_high"] = frame["p_escalation"] * 0.8, frame["p_escalation"] * 1.1
    (tmp_path / "aggregate").mkdir()
    frame.to_parquet(tmp_path / "aggregate" / "points.parquet")
    monkeypatch.setattr(points_summary, "READ_ROWS", 3)
    whole = points_summary.text(tmp_path, pd.read_parquet(tmp_path / "aggregate" / "points.parquet"), shown=4)
    assert points_summary.text(tmp_path, shown=4) == whole != ""
    assert points_summary.varying_in_file(tmp_path / "aggregate" / "points.parquet") == points_summary.varying(frame)


def test_an_aggregation_that_fails_while_merging_leaves_no_part(tmp_path, monkeypatch):
    """A full disk (or a signal) while the points table is merged: the parts and temporary tables all go."""
    for lo in range(0, 6, 2):
        run_points([_point(i) for i in range(lo, lo + 2)], tmp_path, progress=False)
    monkeypatch.setattr(points_table, "PART_POINTS", 2)
    parked = []

    def full(self, path):
        parked.extend(self.parts)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(points_table.PointsTable, "write", full)
    with pytest.raises(OSError):
        aggregate(tmp_path, keep_rows=False)
    assert len(parked) == 3 and not any(p.exists() for p in parked)
    out = tmp_path / "aggregate"
    assert not list(out.glob(".*.tmp")) and not (out / "points.parquet").exists()
