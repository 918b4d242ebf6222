"""Each rival alternative does what its theory says (issue 25): Richardson's stability condition, derived for
the linearised pair and checked on the simulated one; Granovetter's tipping; Epstein's peacekeepers; persuasion
against coercion; and the engines running each alternative where it acts. Known values and properties, with
their tolerances; none reads a parameter back."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sim.engines.vector import run_batch
from sim.model import rules
from sim.model.params import MILITIAS, make_militias, make_params
from sim.model.scenario import load_scenario, scenario_from_mapping
from sim.model.state import initial_mobilisation

QUIET = scenario_from_mapping({"name": "quiet", "start": "2022-01-01", "end": "2023-12-31", "events": []})


# ----------------------------------------------------------------------------- (b) Richardson's coupled pair

# The pair as the engines compute it once nothing else moves (no events, no patron, no clashes, Sadr's other
# reaction terms closed): Sadr's mobilisation m answers the militias' mean grievance g, and g answers m.
PAIR = {"patron_present": False, "threat_refusal": 0.0, "threat_violence": 0.0, "attack_rate_state": 0.0,
        "us_retaliation_prob": 0.0, "clash_kappa": 0.0, "sadr_grievance_base": 0.35,
        "richardson_sadr_reaction": 1.0, "structure_reaction": "richardson"}  # fmt: skip
REACTIONS = (0.002, 0.004, 0.006, 0.008, 0.012, 0.02)  # the militias' reaction l: one to three equilibria
G0 = 0.3  # every militia's declared baseline grievance


def pair_step(m: float, g: float, p) -> tuple[float, float]:
    """One day of the pair through the rule functions, in the engines' order (step 6, then 8)."""
    threat = rules.sadr_threat(p.sadr_grievance_base, 0.0, 0.0, p.rivalry_base, p.rivalry_base,
                               p.threat_refusal, p.threat_violence, p.threat_rivalry)  # fmt: skip
    threat = rules.richardson_threat(threat, g - G0, p.richardson_sadr_reaction)
    m = rules.mobilisation_after(m, rules.mobilisation_target(threat, p.mobilisation_threshold, p.mobilisation_tau),
                                 p.mobilisation_rate)  # fmt: skip
    g = rules.relax(rules.militia_reaction(g, m, p.richardson_militia_reaction), G0, p.grievance_half_life)
    return float(m), float(g)


def fixed_points(p) -> list[tuple[float, float]]:
    """The pair's equilibria: g = G0 + d l m / (1 - d) with m = T(threat(g)), found on a fine grid of m."""
    d = float(rules.decay(p.grievance_half_life))
    l, k = p.richardson_militia_reaction, p.richardson_sadr_reaction
    base = p.sadr_grievance_base  # the rivalry term is 0 at its baseline
    ms = np.linspace(0.0, 1.0, 200_001)
    gap = rules.mobilisation_target(base + k * d * l * ms / (1 - d), p.mobilisation_threshold, p.mobilisation_tau) - ms
    out = []
    for i in np.flatnonzero(np.sign(gap[:-1]) != np.sign(gap[1:])):
        lo, hi = ms[i], ms[i + 1]
        for _ in range(60):  # bisection
            mid = (lo + hi) / 2
            val = rules.mobilisation_target(base + k * d * l * mid / (1 - d), p.mobilisation_threshold,
                                            p.mobilisation_tau) - mid  # fmt: skip
            lo, hi = (mid, hi) if np.sign(val) == np.sign(gap[i]) else (lo, mid)
        m = (lo + hi) / 2
        out.append((m, G0 + d * l * m / (1 - d)))
    return out


def richardson_ratio(p, m: float) -> float:
    """Richardson's condition at an equilibrium: the reactions' product l k T'(threat*) over the militias'
    fatigue (1 - d) / d. Below 1 the linearised pair is stable; above 1 it runs away (docs/ODD.md 7.12.1)."""
    d = float(rules.decay(p.grievance_half_life))
    slope = m * (1 - m) / p.mobilisation_tau  # T' of the logistic target at the equilibrium (T = m there)
    return p.richardson_militia_reaction * p.richardson_sadr_reaction * slope / ((1 - d) / d)


def spectral_radius(p, m: float, g: float, h: float = 1e-7) -> float:
    """Of the simulated pair's one-day map, linearised at (m, g) by central differences."""
    cols = []
    for dm, dg in ((h, 0.0), (0.0, h)):
        a, b = np.array(pair_step(m + dm, g + dg, p)), np.array(pair_step(m - dm, g - dg, p))
        cols.append((a - b) / (2 * h))
    return float(max(abs(np.linalg.eigvals(np.array(cols).T))))


@pytest.mark.parametrize("l", REACTIONS)
def test_richardson_condition_is_the_linearised_pairs_stability(l):
    """At every equilibrium of the pair, the one-day map's spectral radius is below 1 exactly where the derived
    condition l k T' < (1 - d) / d holds (the S-shaped target gives stable low and high equilibria and an
    unstable one between, so both sides are checked)."""
    p = make_params({**PAIR, "richardson_militia_reaction": l})
    seen = set()
    for m, g in fixed_points(p):
        assert abs(pair_step(m, g, p)[0] - m) < 1e-9  # an equilibrium of the simulated pair
        ratio, rho = richardson_ratio(p, m), spectral_radius(p, m, g)
        if abs(ratio - 1) > 0.02:
            assert (ratio < 1) == (rho < 1), (m, ratio, rho)
            seen.add(ratio < 1)
    assert seen  # at least one equilibrium judged


def test_the_simulated_pair_settles_below_the_condition_and_runs_away_above_it():
    """From a small disturbance of an equilibrium: where l k T' is below the fatigue the pair returns to it;
    where it is above, the same disturbance grows until the pair reaches its high state (the wing out, the
    militias' grievance raised: the highest equilibrium)."""
    settles, runs_away = 0, 0
    for l in REACTIONS:
        p = make_params({**PAIR, "richardson_militia_reaction": l})
        for m0, g0 in fixed_points(p):
            ratio = richardson_ratio(p, m0)
            if abs(ratio - 1) < 0.05 or m0 > 0.9:
                continue
            m, g = m0 + 1e-4, g0 + 1e-4
            for _ in range(20_000):
                m, g = pair_step(m, g, p)
            if ratio < 1:
                assert abs(m - m0) < 1e-6 and abs(g - g0) < 1e-6, (l, m0, ratio, m)
                settles += 1
            else:
                # the high state (grievance may sit at its bound 1 there, which the equilibria above ignore)
                assert m > 0.85 and m - m0 > 0.15 and abs(pair_step(m, g, p)[0] - m) < 1e-6, (l, m0, ratio, m)
                runs_away += 1
    assert settles >= 3 and runs_away >= 2


def _critical_reaction(p_kw: dict) -> float:
    """The militias' reaction l at which the pair's low equilibrium meets the condition (bisection)."""
    lo, hi = 0.0, 0.05
    for _ in range(40):
        mid = (lo + hi) / 2
        p = make_params({**p_kw, "richardson_militia_reaction": mid})
        low = [m for m, _ in fixed_points(p) if richardson_ratio(p, m) < 1 and m < 0.5]
        lo, hi = (mid, hi) if low else (lo, mid)
    return (lo + hi) / 2


def test_the_engine_settles_below_the_condition_and_runs_away_above_it():
    """The vector engine, two years with no events and the pair alone: with the militias' reaction a quarter
    below its critical value (where the low equilibrium meets the condition) Sadr's wing stays near rest; half
    as much again above it, it runs away to full mobilisation. Day by day the engine follows the pair computed here from
    the same start. Under the one-sided default nothing moves."""
    crit = _critical_reaction(PAIR)
    assert 0.005 < crit < 0.05
    for name, l in (("below", 0.75 * crit), ("above", 1.5 * crit)):
        p = make_params({**PAIR, "richardson_militia_reaction": l})
        res = run_batch(QUIET, [p], [MILITIAS], 1, np.arange(3), daily_columns=("mobilisation", "grievance_mean"))
        m, g, path = float(initial_mobilisation(p)), G0, []
        for _ in range(QUIET.days):
            m, g = pair_step(m, g, p)
            path.append((m, g))
        want = np.array(path)
        np.testing.assert_allclose(res.daily["mobilisation"], np.repeat(want[:, :1], 3, axis=1), atol=1e-9)
        np.testing.assert_allclose(res.daily["grievance_mean"], np.repeat(want[:, 1:], 3, axis=1), atol=1e-9)
        last = res.daily["mobilisation"][-1]
        assert (last < 0.1).all() if name == "below" else (last > 0.95).all(), (name, last)
    one_sided = run_batch(QUIET, [make_params({**PAIR, "structure_reaction": "one_sided"})], [MILITIAS], 1,
                          np.arange(2), daily_columns=("mobilisation",))  # fmt: skip
    assert np.ptp(one_sided.daily["mobilisation"][30:]) < 1e-9


# ----------------------------------------------------------------------------- (c) Granovetter's cascade


def final_share(peer_weight: float, threat: float, threshold: float, tau: float, rounds: int = 5000) -> float:
    """Granovetter's process from nobody out: m <- target(m), through the engines' rule."""
    m = 0.0
    for _ in range(rounds):
        m = float(rules.cascade_target(threat, m, peer_weight, threshold, tau))
    return m


def test_granovetter_tipping_a_small_change_in_the_spread_flips_few_to_nearly_all():
    """Granovetter (1978): thresholds with mean 0.25 (in shares of the group) and a spread near 0.12 (standard
    deviation): slightly below it the process stops with few out, slightly above it nearly everyone joins.
    Here thresholds are logistic with scale tau / peer_weight (standard deviation 1.81 x scale)."""
    few = final_share(1.0, 0.40, 0.65, 0.066)  # mean threshold (0.65 - 0.40) / 1 = 0.25, sd 0.120
    nearly_all = final_share(1.0, 0.40, 0.65, 0.074)  # sd 0.134: 12% more spread
    assert few < 0.1 and nearly_all > 0.95
    # and the same flip from a small shift of the mean threshold (a little more threat), at a fixed spread
    assert final_share(1.0, 0.39, 0.65, 0.07) < 0.1 < 0.95 < final_share(1.0, 0.42, 0.65, 0.07)


def test_cascade_without_peers_is_the_dose_response():
    for threat in (0.2, 0.5, 0.65, 0.9):
        assert rules.cascade_target(threat, 0.7, 0.0, 0.65, 0.075) == rules.mobilisation_target(threat, 0.65, 0.075)


def test_the_engines_wing_tips_with_the_spread_of_thresholds():
    """The vector engine, 18 quiet months: Sadr's wing under the cascade ends with few out or nearly all out
    as the spread of its members' thresholds (mobilisation_tau) moves by a small step; its rest state, where
    the run starts, is the process's equilibrium (state.initial_mobilisation)."""
    base = {"patron_present": False, "threat_refusal": 0.0, "threat_violence": 0.0, "attack_rate_state": 0.0,
            "clash_kappa": 0.0, "structure_mobilisation": "cascade", "cascade_peer_weight": 1.0,
            "sadr_grievance_base": 0.40}  # fmt: skip
    end = {}
    for tau in (0.066, 0.074):
        p = make_params({**base, "mobilisation_tau": tau})
        res = run_batch(QUIET, [p], [MILITIAS], 2, np.arange(2), daily_columns=("mobilisation",))
        end[tau] = res.daily["mobilisation"][-1]
        assert abs(float(initial_mobilisation(p)) - final_share(1.0, 0.40, 0.65, tau, 200)) < 1e-12
    assert (end[0.066] < 0.1).all() and (end[0.074] > 0.95).all()


# ----------------------------------------------------------------------------- (d) Epstein's Model II


def test_peacekeepers_deter_and_are_overwhelmed_by_numbers():
    """Model II's peacekeepers: the clash hazard falls as the state's forces grow; without forces it is the
    plain encounter hazard 1 - exp(-rate v m); with forces, doubling both camps' activity more than quadruples
    the hazard (safety in numbers: each active's chance of being stopped falls as actives grow)."""
    v, m, rate, k, n = 0.2, 0.3, 3.16, 2.3, 30
    hz = [float(rules.clash_hazard_interposed(rate, v, m, k, c, n)) for c in (0.0, 0.1, 0.2, 0.35, 0.6)]
    assert all(a > b for a, b in itertools.pairwise(hz))
    assert hz[0] == pytest.approx(1 - np.exp(-rate * v * m), rel=1e-12)
    low = rules.clash_hazard_interposed(rate, v, m, k, 0.35, n)
    high = rules.clash_hazard_interposed(rate, 2 * v, 2 * m, k, 0.35, n)
    assert high > 4 * low


def test_under_model_ii_the_states_capacity_lowers_clashes_through_interposition():
    """In the engine, more capacity lowers clashes under both structures (it deters the militias' cells), but
    under Model II it also interposes: its effect on clash-days is larger relative to the default's."""
    sc = load_scenario("seed_timeline")
    ratios = {}
    for name in ("hazard", "epstein_ii"):
        clashes = []
        for cap in (0.25, 0.45):
            p = make_params(patron_present=False, state_capacity=cap, structure_clash=name)
            clashes.append(run_batch(sc, [p], [MILITIAS], 4, np.arange(300), keep_daily=False).runs["clashes"].mean())
        assert clashes[1] < clashes[0], name
        ratios[name] = clashes[1] / clashes[0]
    assert ratios["epstein_ii"] < ratios["hazard"]


# ----------------------------------------------------------------------------- (a) persuasion or coercion


def test_independence_decides_which_lever_works():
    """Persuasion does not fade with independence, coercion does: the lever switches where
    coercion (1 - i) = influence x loyalty, and the leverage never falls below the persuasive floor, where
    Salehyan's product falls to zero."""
    influence, loyalty, coercion = 0.5, 0.8, 0.6
    i = np.linspace(0, 1, 101)
    lam = rules.leverage_persuasion_coercion(True, influence, loyalty, i, coercion)
    salehyan = rules.leverage(True, influence, loyalty, i)
    switch = 1 - influence * loyalty / coercion
    assert np.all(rules.coerces(influence, loyalty, i, coercion) == (i < switch - 1e-12))
    assert np.all(lam >= influence * loyalty) and lam[-1] == influence * loyalty and salehyan[-1] == 0
    assert np.allclose(lam[i < switch], coercion * (1 - i[i < switch]))
    assert rules.leverage_persuasion_coercion(False, influence, loyalty, 0.2, coercion) == 0


def test_under_coercion_the_patrons_effect_survives_independence():
    """Paired runs (the same random numbers) with and without the patron's interventions at full independence:
    under Salehyan's product the interventions change nothing (no leverage is left); under persuasion or
    coercion they still lower the militias' grievance."""
    sc = load_scenario("seed_timeline")
    independent = make_militias({m.key: {"independence_offset": 0.0} for m in MILITIAS})  # all at independence 1
    effect = {}
    for name in ("salehyan", "coercion"):
        means = []
        for intervenes in (True, False):
            p = make_params(militia_independence=1.0, patron_intervenes=intervenes, structure_leverage=name)
            res = run_batch(sc, [p], [independent], 6, np.arange(100), daily_columns=("grievance_mean",))
            means.append(res.daily["grievance_mean"].mean())
        effect[name] = means[1] - means[0]
    assert effect["salehyan"] == 0.0
    assert effect["coercion"] > 0.005


# ----------------------------------------------------------------------------- (e) Epstein's grievance


def test_epstein_grievance_is_hardship_times_illegitimacy():
    """G = H (1 - L) in units where G = H at the baseline legitimacy (exactly, so the baselines keep their
    meaning); a fall in legitimacy multiplies what a hardship shock does (the interaction the additive
    structure lacks)."""
    H = np.array([0.0, 0.3, 0.45, 0.9])
    assert np.array_equal(rules.epstein_grievance(H, 0.6, 0.6), H)
    assert rules.epstein_grievance(0.5, 0.2, 0.6) == pytest.approx(0.5 * 0.8 / 0.4)
    shock = 0.1
    at_rest = rules.epstein_grievance(0.4 + shock, 0.6, 0.6) - rules.epstein_grievance(0.4, 0.6, 0.6)
    illegitimate = rules.epstein_grievance(0.4 + shock, 0.4, 0.6) - rules.epstein_grievance(0.4, 0.4, 0.6)
    assert illegitimate == pytest.approx(1.5 * at_rest)
    assert rules.epstein_grievance(0.9, 0.0, 0.6) == 1.0  # bounded
    assert rules.legitimised(0.5, 0.2, False, 0.25) == 0.5 and rules.legitimised(0.5, 0.2, True, 0.25) == 0.55


def test_under_legitimacy_the_vote_acts_through_legitimacy():
    """The election alone: under Epstein's grievance the losers' grievance rises because their legitimacy falls
    (with election_legitimacy 0 the vote leaves it where it was), the winner's is untouched by the structure,
    and before the vote nothing differs from the additive structure."""
    sc = load_scenario("election_loss")
    vote = next(e.day for e in sc.events if e.kind == "election")
    base = {"patron_present": False, "attack_rate_state": 0.0, "structure_grievance": "legitimacy"}
    cols = ("grievance_mean", "sadr_grievance")
    res = run_batch(sc, [make_params(base)], [MILITIAS], 3, np.arange(20), daily_columns=cols)
    flat = run_batch(sc, [make_params({**base, "election_legitimacy": 0.0})], [MILITIAS], 3, np.arange(20),
                     daily_columns=cols)  # fmt: skip
    additive = run_batch(sc, [make_params(patron_present=False, attack_rate_state=0.0)], [MILITIAS], 3, np.arange(20),
                         daily_columns=cols)  # fmt: skip
    assert (res.daily["grievance_mean"][vote] - res.daily["grievance_mean"][vote - 1] > 0.2).all()
    assert (np.abs(flat.daily["grievance_mean"][vote] - flat.daily["grievance_mean"][vote - 1]) < 0.01).all()
    np.testing.assert_array_equal(res.daily["grievance_mean"][:vote], additive.daily["grievance_mean"][:vote])
    np.testing.assert_array_equal(res.daily["sadr_grievance"][: vote + 1], additive.daily["sadr_grievance"][: vote + 1])


# ----------------------------------------------------------------------------- (f) Beardsley's relapse


def _visit_effect(relapse: str, share: float = 1.0) -> np.ndarray:
    """Mean grievance with a forced visit minus without it, day by day, on a quiet year (paired runs)."""
    visit = scenario_from_mapping({"name": "visit", "start": "2022-01-01", "end": "2022-12-31", "events": [
        {"date": "2022-01-10", "kind": "shock", "actor": "militias", "variable": "grievance", "delta": 0.3},
        {"date": "2022-01-20", "kind": "intervention"}]})  # fmt: skip
    quiet = visit.without("intervention")
    p = make_params(patron_trigger=1.0, attack_rate_state=0.0, us_retaliation_prob=0.0, clash_kappa=0.0,
                    structure_relapse=relapse, relapse_share=share)  # fmt: skip
    a = run_batch(visit, [p], [MILITIAS], 8, np.arange(40), daily_columns=("grievance_mean",))
    b = run_batch(quiet, [p], [MILITIAS], 8, np.arange(40), daily_columns=("grievance_mean",))
    return (a.daily["grievance_mean"] - b.daily["grievance_mean"]).mean(axis=1)


def test_beardsleys_relapse_the_calm_lapses_with_the_pressure():
    """A forced visit lowers grievance. Where its effect is durable, two months later most of it remains (it
    fades at the grievance half-life, 60 days); under Beardsley's relapse with the whole calm resting on the
    pressure, the militias are back to where they would have been within a few pressure half-lives (14 days),
    the rest of the difference being what the visit did to their stance and cells. (The record is the day's end,
    so the calm has begun to lapse on the visit's own day.)"""
    durable, relapse = _visit_effect("durable"), _visit_effect("beardsley")
    day = 19  # the visit
    assert durable[day] < -0.03 and durable[day] < relapse[day] < 0.9 * durable[day]
    assert durable[day + 60] < 0.4 * durable[day]
    assert abs(relapse[day + 60]) < 0.1 * abs(durable[day + 60])
    assert relapse[day + 7] > durable[day + 7]  # lapsing already in the first week
