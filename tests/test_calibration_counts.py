"""The calibration on the record's counts (sim/analysis/calibration_counts.py): its statistics come from
seeds/record.yaml and fit the record_2021 scenario, a cut-off keeps only what the record had closed, the
scores are proper and right on known cases, and the command runs, resumes and gives the same posterior on one
thread or two."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis import calibration_counts as cc
from sim.model import record as rec
from sim.model.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def test_statistics_come_from_the_record_and_fit_the_scenario():
    record, sc = rec.load_record(), load_scenario(cc.SCENARIO)
    stats = cc.statistics()
    assert len({s.name for s in stats}) == len(stats) >= 10
    for s in stats:
        entries = [record[e] for e in s.entries]  # every id exists (KeyError otherwise)
        assert s.scale > 0 and s.low <= s.high and s.reading
        cc._days(sc, s.start, s.end)  # inside the scenario
        first = entries[0]
        if s.reading.startswith("the entry's interval"):  # taken as it stands: period and interval are the entry's
            assert (s.start, s.end) == (first.start, first.end), s.name
            assert (s.low, s.high) == tuple(float(v) for v in first.interval), s.name
    kinds = {record[s.entries[0]].kind for s in stats}
    assert {"attacks_us_period", "boycott", "patron_visit", "us_retaliation", "intra_shia_clash"} <= kinds
    assert not kinds & {"attacks_us_tally", "attacks_us_spread", "attacks_us_convoy"}  # one definition: sites


def test_each_count_has_disjoint_windows():
    """A quantity is read over windows that do not overlap (the record's three nested early-2021 windows
    counted the same attacks up to three times)."""
    by_source: dict[str, list] = {}
    for s in cc.statistics():
        by_source.setdefault(s.source, []).append((s.start, s.end))
    for source, spans in by_source.items():
        spans.sort()
        for (a0, a1), (b0, b1) in itertools.pairwise(spans):
            assert a1 < b0, (source, (a0, a1), (b0, b1))


def test_distance_is_zero_inside_the_record_and_scaled_outside():
    s = cc.Statistic("x", "run:x", date(2021, 1, 1), date(2021, 1, 2), 2, 4, 2.0, ("e",), "r")
    np.testing.assert_allclose(s.distance(np.array([0, 2, 3, 4, 8])), [1, 0, 0, 0, 2])
    open_top = cc.Statistic("y", "run:y", date(2021, 1, 1), date(2021, 1, 2), 6, math.inf, 1.0, ("e",), "r")
    np.testing.assert_allclose(open_top.distance(np.array([5, 6, 100])), [1, 0, 0])


def test_a_cutoff_keeps_what_the_record_had_closed():
    cut = date(2021, 10, 10)
    kept = cc.up_to(cc.statistics(), cut)
    assert kept and all(s.end <= cut for s in kept)
    names = {s.name for s in kept}
    assert "attacks_us_2022_01" not in names and "boycott_days" in names
    assert "clash_days_to_10_10" in names  # the nil count is shortened, not dropped
    assert [t.id for t in cc.facts(cut)] == ["boycott_over_by_the_vote"]
    assert len(cc.facts()) == 5


def test_scores_on_known_cases():
    assert cc.rps(np.full(100, 3), 3) == 0.0
    assert cc.rps(np.full(100, 3), 5) == pytest.approx(2.0)  # F = 1 at k = 3, 4 where the outcome's step is 0
    rng = np.random.default_rng(1)
    for lam, y in ((0.5, 0), (2.0, 1), (6.0, 6)):
        assert cc.rps(rng.poisson(lam, 200_000), y) == pytest.approx(cc.rps_poisson(lam, y), abs=5e-3)
    # proper: the expected score is lowest for the true distribution
    truth = rng.poisson(2.0, 4000)
    own = np.mean([cc.rps_poisson(2.0, y) for y in truth[:400]])
    other = np.mean([cc.rps_poisson(4.0, y) for y in truth[:400]])
    assert own < other
    assert cc.log_score_samples(np.array([0, 0, 1]), 0) < cc.log_score_samples(np.array([0, 0, 1]), 1)


SMALL = ["--particles", "60", "--replicates", "2", "--generations", "3", "--predictive-sets", "6",
         "--predictive-replicates", "2"]  # fmt: skip


def test_the_command_runs_resumes_and_gives_the_same_posterior_on_one_or_two_threads(tmp_path):
    """`python -m sim.calibrate --method smc` at a tiny size: it writes the posterior and the diagnostics (the
    tolerance schedule, acceptance and ESS per generation); a rerun reuses every stored generation; the same
    seed on two threads (other blocks) gives the same posterior."""
    out = tmp_path / "a"
    args = [sys.executable, "-m", "sim.calibrate", "--method", "smc", *SMALL, "--out", str(out), "--workers", "1"]
    first = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    assert "tolerance" in first.stdout and "the record informs" in first.stdout
    schedule = pd.read_parquet(out / "generations.parquet")
    assert {"tolerance", "acceptance_rate", "effective_sample_size"} <= set(schedule.columns)
    post = pd.read_parquet(out / "posterior.parquet")
    assert post["weight"].sum() == pytest.approx(1.0) and (post["weight"] > 0).all()
    gens = sorted((out / "smc").glob("generation_*.parquet"))
    stamps = [p.stat().st_mtime_ns for p in gens]
    assert len(gens) >= 2
    again = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert [p.stat().st_mtime_ns for p in gens] == stamps  # nothing simulated again
    pd.testing.assert_frame_equal(post, pd.read_parquet(out / "posterior.parquet"))
    settings = cc.Settings(60, 2, 3, predictive_sets=6, predictive_replicates=2)
    two = cc.calibrate(tmp_path / "b", settings, workers=2, log=None)
    pd.testing.assert_frame_equal(post, two["posterior"])


def test_monthly_attacks_figure_draws_the_model_against_the_record(tmp_path):
    """The counts calibration's figure: PNG and PDF from a monthly table of both distributions."""
    from sim.analysis.record_figure import monthly_attacks_figure

    months = [f"2021-{m:02d}" for m in range(1, 13)] + ["2022-01"]
    rows = [{"month": m, "distribution": d, "mean": 5.0, "median": 5.0, "q05": 1.0, "q95": 9.0}
            for m in months for d in ("prior", "posterior")]  # fmt: skip
    paths = monthly_attacks_figure(pd.DataFrame(rows), tmp_path / "monthly")
    assert [p.suffix for p in paths] == [".png", ".pdf"] and all(p.stat().st_size > 1000 for p in paths)
