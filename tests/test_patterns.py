"""Pattern-oriented tests (MODEL.md): fixed seeds, stated tolerances, each able to fail.
Common random numbers: variants share (seed, replicate) keys, so differences come from the change."""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from conftest import vector_run, with_event
from sim.model.scenario import load_scenario


def _two_proportion_z(k1, n1, k2, n2) -> float:
    p = (k1 + k2) / (n1 + n2)
    se = np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return (k1 / n1 - k2 / n2) / se


def test_election_loss_raises_violence_for_weeks_then_decays():
    """Losing militias' violence: weeks 1-4 after the election > 2x the fortnight before; by days 60-90
    it has fallen back by at least half of the rise (2000 replicates, seed 7)."""
    sc = load_scenario("election_loss")
    e = next(ev.day for ev in sc.events if ev.kind == "election")
    v = vector_run(sc, replicates=2000).daily["violence"].mean(axis=1)
    before, weeks, later = v[e - 14 : e].mean(), v[e + 1 : e + 29].mean(), v[e + 60 : e + 90].mean()
    assert weeks > 2 * before
    assert later < before + 0.5 * (weeks - before)
    # still elevated a week after the election (not a one-day blip)
    assert v[e + 7 : e + 14].mean() > 1.5 * before


def _intervention_effect(independence: float) -> float:
    """Mean violence over the 14 days after the attack: patron unable to act minus patron acting."""
    sc = load_scenario("attack_and_intervention")
    a = next(ev.day for ev in sc.events if ev.kind == "attack")
    blocked = with_event(sc, day=a, kind="shock", label="patron busy",
                         data={"actor": "patron", "variable": "attention", "delta": -1.0})  # fmt: skip
    w = slice(a + 1, a + 15)
    acting = vector_run(sc, replicates=2000, militia_independence=independence).daily
    unable = vector_run(blocked, replicates=2000, militia_independence=independence).daily
    assert acting["intervened"][a].mean() > 0.5  # the visit happens on the day in most runs
    assert unable["intervened"][a].mean() == 0
    return float(unable["violence"][w].mean() - acting["violence"][w].mean())


def test_intervention_lowers_violence_less_so_when_independent():
    """After the attack, an intervention lowers militia violence over the next 14 days (by > 0.03 at
    default independence), and by less when militia independence is 0.8 (2000 replicates, seed 7)."""
    default, independent = _intervention_effect(0.5), _intervention_effect(0.8)
    assert default > 0.03
    assert 0 < independent < default


def test_soleimani_patron_escalates_less_than_ghaani():
    """seed_timeline, 4000 replicates: P(escalation) with influence 0.9 is lower than with 0.55,
    one-sided two-proportion z-test at p < 0.001."""
    n = 4000
    ghaani = vector_run("seed_timeline", replicates=n).runs["escalated"].sum()
    soleimani = vector_run("seed_timeline", replicates=n, patron_influence=0.9).runs["escalated"].sum()
    z = _two_proportion_z(ghaani, n, soleimani, n)
    assert z > norm.ppf(0.999), (ghaani, soleimani)


def test_mediation_usually_ends_boycott_and_without_it_it_stands():
    """boycott_mediation, 1000 replicates: with mediation > 90% of boycotts end before the vote;
    without it < 10% do."""
    sc = load_scenario("boycott_mediation")
    with_m = vector_run(sc, replicates=1000).runs["boycott_ended"].mean()
    without = vector_run(sc.without("mediation"), replicates=1000).runs["boycott_ended"].mean()
    assert with_m > 0.9
    assert without < 0.1


def test_no_patron_escalates_more_than_any_patron():
    """Removing the patron raises P(escalation) in seed_timeline well above Ghaani's (by > 0.3)."""
    ghaani = vector_run("seed_timeline", replicates=1000).runs["escalated"].mean()
    none = vector_run("seed_timeline", replicates=1000, patron_present=False).runs["escalated"].mean()
    assert none - ghaani > 0.3


def test_single_leader_stands_down_within_a_day():
    """stand_down_orders: Sadr's order cuts his armed wing's mobilisation by at least 80% within the
    day (sadr_discipline = 0.85) and keeps it below a fifth of its pre-order level for the order's 7 days."""
    sc = load_scenario("stand_down_orders")
    o = next(ev.day for ev in sc.events if ev.kind == "order" and ev.data.get("actor") == "sadr")
    m = vector_run(sc, replicates=500).daily["mobilisation"].mean(axis=1)
    assert m[o - 1] > 0.1  # there was something to stand down
    assert m[o] <= 0.2 * m[o - 1]
    assert np.all(m[o : o + 7] < 0.2 * m[o - 1])
