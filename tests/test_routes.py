"""No value without effect, the route decomposition and counterfactual effects (sim/analysis/routes.py).
Each value acts on the article's timeline or in the scenario the declaration names; effects have true intervals."""

from __future__ import annotations

import numpy as np
import pytest

import sim.routes as routes_cli
from sim.analysis import routes
from sim.model.params import PARAM_BY_NAME, PARAMS
from sim.model.scenario import list_scenarios

UNCERTAIN = [p.name for p in PARAMS if p.role == "uncertain"]


@pytest.fixture(scope="module")
def timeline_reach():
    return routes.reach("seed_timeline").set_index("parameter")["share_changed"]


def test_every_value_acts_on_the_timeline_or_where_declared(timeline_reach):
    """A declared value that changes fewer than 1% of runs of the article's timeline across its judged range
    must say where it acts (ACTS_ONLY_IN), and one that does act there must not be listed."""
    idle = sorted(n for n in UNCERTAIN if timeline_reach[n] < routes.REACH_SHARE)
    assert idle == sorted(routes.ACTS_ONLY_IN), (
        f"values idle on seed_timeline {idle} differ from those declared to act elsewhere {sorted(routes.ACTS_ONLY_IN)}"
    )


@pytest.mark.parametrize("name", sorted(routes.ACTS_ONLY_IN))
def test_a_value_idle_on_the_timeline_acts_in_its_scenario(name):
    scenario, why = routes.ACTS_ONLY_IN[name]
    assert name in PARAM_BY_NAME and scenario in list_scenarios() and why
    share = routes.reach(scenario, [name]).iloc[0]["share_changed"]
    assert share >= 5 * routes.REACH_SHARE, f"{name} changes only {share:.3f} of runs of {scenario}"


def test_routes_name_declared_values_and_closing_all_of_them_quiets_the_house():
    """Every route closes declared uncertain values; with every route closed the camps clash far less
    (the routes are the doors, so closing all of them must shut most of the risk)."""
    off = {}
    for r in (*routes.ROUTES, *routes.BRAKES):
        assert r.off and all(k in UNCERTAIN for k in r.off), r.name
        assert all(PARAM_BY_NAME[k].low <= v for k, v in r.off.items())
    for r in routes.ROUTES:
        off.update(r.off)
    from sim.model.scenario import load_scenario

    sc = load_scenario("seed_timeline")
    open_ = routes._run_sets(sc, [({}, {})], 1000, 3, {})
    shut = routes._run_sets(sc, [({}, {})], 1000, 3, off)
    assert (shut["first_clash_day"] >= 0).mean() < 0.25 * (open_["first_clash_day"] >= 0).mean()


def test_paired_effect_matches_known_values_and_covers_the_truth():
    """Known values: a counterfactual that flips 30 of 100 paired runs from 0 to 1 has difference 0.3 and
    ratio (0.5 / 0.2); over repeated independent samples the 95% intervals cover the true difference and
    ratio at close to the nominal rate (fixed seed; 400 repetitions, binomial tolerance)."""
    base = np.r_[np.ones(20), np.zeros(80)]
    cf = np.r_[np.ones(20), np.ones(30), np.zeros(50)]
    e = routes.paired_effect(base, cf)
    assert e.diff == pytest.approx(0.3) and e.ratio == pytest.approx(2.5)
    assert e.diff_low < 0.3 < e.diff_high and e.ratio_low < 2.5 < e.ratio_high
    rng = np.random.default_rng(11)
    p_a, p_b, n, reps = 0.1, 0.25, 2000, 400
    cover_d = cover_r = 0
    for _ in range(reps):
        u = rng.random(n)  # common random numbers: the same u decides both runs
        e = routes.paired_effect(u < p_a, u < p_b)
        cover_d += e.diff_low <= p_b - p_a <= e.diff_high
        cover_r += e.ratio_low <= p_b / p_a <= e.ratio_high
    tol = 3.5 * np.sqrt(0.95 * 0.05 / reps)
    assert abs(cover_d / reps - 0.95) < tol and abs(cover_r / reps - 0.95) < tol


def test_a_floor_gives_a_one_sided_ratio():
    """A baseline with no events gives an unbounded ratio with a lower bound from the rule of three;
    a counterfactual with none gives a ratio of 0 with an upper bound."""
    none, some = np.zeros(1000), np.r_[np.ones(30), np.zeros(970)]
    up = routes.paired_effect(none, some)
    assert np.isinf(up.ratio) and up.ratio_low == pytest.approx(0.03 / 0.003)
    down = routes.paired_effect(some, none)
    assert down.ratio == 0 and down.ratio_high == pytest.approx(0.003 / 0.03)
    assert "baseline 0" in routes.fmt_ratio(up.__dict__)



def test_the_command_refuses_bad_options_in_one_line(capsys):
    assert routes_cli.main(["--scenario", "nope"]) == 2
    assert routes_cli.main(["--replicates", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith("error: --scenario=nope") and "allowed [1, 1000000]" in err[1]


def test_the_command_prints_every_route(capsys):
    assert routes_cli.main(["--replicates", "20", "--sets", "2", "--set-replicates", "2"]) == 0
    out = capsys.readouterr().out
    assert all(r.name in out for r in (*routes.ROUTES, *routes.BRAKES))
