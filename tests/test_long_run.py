"""The long run (sim/analysis/long_run.py): the extended timeline, its windows and the trend's reading."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sim.analysis import long_run as lr
from sim.model.scenario import load_scenario


def test_the_extension_adds_days_and_no_events():
    sc, ext = load_scenario("seed_timeline"), lr.extended("seed_timeline", 365)
    assert ext.days == sc.days + 365 and ext.end == dt.date(2023, 1, 31)
    assert ext.events == sc.events


def test_windows_cover_the_extra_year():
    w = lr._windows(214, 365)
    assert w["first 3 months"] == (215, 304) and w["last 3 months"] == (490, 579)
    assert w["month 1"] == (215, 244) and w["month 12"] == (545, 574)


def test_trend_reads_the_quarters():
    def t(early, late):
        return pd.DataFrame({"case": "none", "where": "defaults", "window": ["first 3 months", "last 3 months"],
                             "mean_hazard": [early, late]})  # fmt: skip

    assert lr.trend(t(0.01, 0.02))[2] == "grows"
    assert lr.trend(t(0.02, 0.01))[2] == "settles"
    assert lr.trend(t(0.02, 0.021))[2] == "flat"


@pytest.fixture(scope="module")
def small():
    return lr.compute(lr.Settings(replicates=60, sets=3, set_replicates=5))


def test_every_case_and_window_is_reported(small):
    assert set(small["case"]) == {c.name for c in lr.CASES}
    assert set(small["where"]) == {"defaults", "priors"}
    assert small["p_clash"].between(0, 1).all() and (small["mean_hazard"] >= 0).all()
    assert ((small["p_clash_low"] <= small["p_clash"]) & (small["p_clash"] <= small["p_clash_high"])).all()

