"""Tests of sim.model.rules: invariants and monotonicity (hypothesis), anchors from the literature, and
exact scalar/array agreement (what makes the two engines bit-identical). No test restates a formula."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.model import rules
from sim.model.params import PARAM_BY_NAME

PROPERTY = settings(max_examples=200, deadline=None)

UNIT = st.floats(0.0, 1.0, allow_nan=False)
BOOL = st.booleans()
DAYS = st.integers(-3, 60)


def prm(name: str) -> st.SearchStrategy:
    """Values of a declared parameter, anywhere inside its declared range."""
    p = PARAM_BY_NAME[name]
    if p.kind is bool:
        return st.booleans()
    if p.kind is int:
        return st.integers(int(p.low), int(p.high))
    return st.floats(p.low, p.high, allow_nan=False)


# ----------------------------------------------------------------------------- helpers for array-valued cases


def V(elements: st.SearchStrategy = UNIT) -> tuple[str, st.SearchStrategy]:
    """An argument the vector core passes as an array (state or per-militia value)."""
    return ("v", elements)


def S(strategy: st.SearchStrategy) -> tuple[str, st.SearchStrategy]:
    """An argument both engines pass as one scalar (a global parameter)."""
    return ("s", strategy)


def _dtype(elements: st.SearchStrategy) -> type:
    if elements is BOOL:
        return np.bool_
    if elements is DAYS:
        return np.int64
    return np.float64


def draw_args(data, spec) -> tuple[list, set[int], int]:
    n = data.draw(st.integers(1, 5), label="n")
    args, vec = [], set()
    for i, (kind, strategy) in enumerate(spec):
        if kind == "v":
            values = data.draw(st.lists(strategy, min_size=n, max_size=n), label=f"arg{i}")
            args.append(np.array(values, dtype=_dtype(strategy)))
            vec.add(i)
        else:
            args.append(data.draw(strategy, label=f"arg{i}"))
    return args, vec, n


def _scalar(a: np.ndarray, i: int):
    """The i-th element as a Mesa agent holds it: np.float64 / np.int64, or a Python bool."""
    x = a[i]
    return bool(x) if a.dtype == np.bool_ else x


def as_outputs(result) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(r) for r in result) if isinstance(result, tuple) else (np.asarray(result),)


def assert_vectorised_equals_scalar(fn, args: list, vec: set[int], n: int) -> None:
    """Calling ``fn`` on arrays gives exactly the elementwise scalar calls (same bits, same dtype kind)."""
    full = as_outputs(fn(*args))
    for i in range(n):
        scalar_args = [_scalar(a, i) if j in vec else a for j, a in enumerate(args)]
        single = as_outputs(fn(*scalar_args))
        assert len(single) == len(full)
        for f, s in zip(full, single, strict=True):
            assert np.shape(s) == ()
            fi = np.broadcast_to(f, (n,))[i]
            assert fi == s, (fn.__name__, i, scalar_args, fi, s)
            assert np.signbit(fi) == np.signbit(s)
            assert np.asarray(fi).dtype.kind == np.asarray(s).dtype.kind


CELLS = st.integers(1, 2000)
WEIGHT = st.floats(0.1, 10.0)

# Probability-returning rules, with arguments from valid state and declared parameter ranges.
PROBABILITY_RULES = {
    "contest_probability": (
        rules.contest_probability,
        [
            V(),
            V(),
            V(),
            S(prm("standing_leverage")),
            V(BOOL),
            S(prm("stance_threshold")),
            S(prm("stance_tau")),
            S(prm("stance_hysteresis")),
        ],
    ),
    "activation_probability": (
        rules.activation_probability,
        [V(), V(), V(), V(st.floats(-1.0, 1.0)), S(prm("cell_threshold")), S(prm("cell_tau"))],
    ),
    "expected_cost": (rules.expected_cost, [S(prm("arrest_k")), S(prm("state_capacity")), V(), S(CELLS)]),
    "expected_cost_capacity_vec": (rules.expected_cost, [S(prm("arrest_k")), V(), V(), S(CELLS)]),
    "daily_hazard_state": (rules.daily_hazard, [S(prm("attack_rate_state")), V()]),
    "daily_hazard_us": (rules.daily_hazard, [S(prm("attack_rate_us")), V()]),
    "clash_hazard": (rules.clash_hazard, [S(prm("clash_kappa")), V(), V()]),
    "boycott_probability": (rules.boycott_probability, [V(), S(prm("boycott_threshold")), S(prm("sadr_tau"))]),
    "return_probability": (rules.return_probability, [V(), S(prm("return_threshold")), S(prm("sadr_tau"))]),
    "mediator_credibility": (
        lambda w1, c1, w2, c2: rules.mediator_credibility([w1, w2], [c1, c2]),
        [V(), V(), V(), S(UNIT)],
    ),
}

# State-updating rules: every output is a state variable that must stay in [0, 1].
STATE_RULES = {
    "intervene": (
        rules.intervene,
        [
            V(),
            V(),
            V(),
            V(),
            V(BOOL),
            S(prm("intervention_grievance_effect")),
            S(prm("intervention_discipline_effect")),
        ],
    ),
    "after_retaliation": (
        rules.after_retaliation,
        [V(), V(), V(BOOL), S(prm("retaliation_grievance")), S(prm("retaliation_hostility"))],
    ),
    "mediated": (rules.mediated, [V(), V(st.floats(-1.0, 2.0)), S(prm("mediation_effect"))]),
    "mediated_scalar_credibility": (rules.mediated, [V(), S(UNIT), S(prm("mediation_effect"))]),
    "relax_grievance": (rules.relax, [V(), V(), S(prm("grievance_half_life"))]),
    "relax_pressure": (rules.relax, [V(), S(st.just(0.0)), S(prm("pressure_half_life"))]),
    "relax_rivalry": (rules.relax, [V(), S(prm("rivalry_base")), S(prm("rivalry_half_life"))]),
    "mobilisation_after": (rules.mobilisation_after, [V(), V(), S(prm("mobilisation_rate")), V(DAYS)]),
    "mobilisation_target": (
        rules.mobilisation_target,
        [V(st.floats(-1.0, 3.0)), S(prm("mobilisation_threshold")), S(prm("mobilisation_tau"))],
    ),
    "stood_down": (rules.stood_down, [V(), S(prm("sadr_discipline"))]),
    "drift_independence": (rules.drift_independence, [V(), S(prm("independence_drift"))]),
    "attention_after": (
        rules.attention_after,
        [
            V(),
            V(BOOL),
            S(prm("patron_attention_cost")),
            S(prm("patron_attention_recovery")),
            S(prm("patron_distraction")),
        ],
    ),
    "independence": (rules.independence, [S(prm("militia_independence")), V(st.floats(-1.0, 1.0))]),
    "cell_grievance": (rules.cell_grievance, [V(), V(st.floats(-2.0, 2.0))]),
    "leverage": (rules.leverage, [S(prm("patron_present")), S(prm("patron_influence")), V(), V()]),
    "tension": (rules.tension, [V(), V(), V(), S(WEIGHT), S(WEIGHT), S(WEIGHT)]),
    "after_clash": (rules.after_clash, [V(), V(BOOL), S(prm("clash_grievance"))]),
    "after_attacks": (rules.after_attacks, [V(), V(st.integers(0, 4)), S(prm("attack_sadr_grievance"))]),
    "commitment_after": (rules.commitment_after, [V(BOOL), V(BOOL), V(), S(prm("boycott_commitment"))]),
}

# Other rules both engines call: only the scalar/array agreement is checked for these.
OTHER_RULES = {
    "restraint": (rules.restraint, [V(BOOL), V(), S(prm("contest_boost"))]),
    "relayed_restraint": (rules.relayed_restraint, [V(st.floats(-1.0, 1.0)), V(st.floats(-1.0, 1.0)), V()]),
    "leader_contests": (rules.leader_contests, [V(), V(), V(DAYS)]),
    "cooldown_after": (rules.cooldown_after, [V(DAYS), V(BOOL), S(prm("patron_cooldown"))]),
    "patron_decides": (
        rules.patron_decides,
        [
            S(prm("patron_present")),
            S(prm("patron_intervenes")),
            V(),
            V(DAYS),
            V(),
            V(BOOL),
            V(BOOL),
            S(prm("patron_trigger")),
            S(prm("patron_attention_cost")),
        ],
    ),
    "participation_after": (
        rules.participation_after,
        [V(BOOL), V(), V(), V(), V(), V(), S(prm("boycott_threshold")), S(prm("return_threshold")),
         S(prm("sadr_tau"))],
    ),
    "sadr_threat": (
        rules.sadr_threat,
        [V(), V(), V(), V(), S(prm("rivalry_base")), S(prm("threat_refusal")), S(prm("threat_violence")),
         S(prm("threat_rivalry"))],
    ),
    "sadr_restrains": (rules.sadr_restrains, [V(), V(BOOL), S(prm("sadr_restraint"))]),
    "militia_score": (rules.militia_score, [V(), V()]),
    "within_cohesion": (rules.within_cohesion, [V(BOOL), V()]),
}


# ----------------------------------------------------------------------------- bounds and vectorisation (hypothesis)


@pytest.mark.parametrize("name", sorted(PROBABILITY_RULES))
@PROPERTY
@given(data=st.data())
def test_probability_rules_in_unit_interval(name, data):
    """Probability rules return values in [0, 1] with no NaN, and arrays give exactly the scalar results."""
    fn, spec = PROBABILITY_RULES[name]
    args, vec, n = draw_args(data, spec)
    out = np.asarray(fn(*args))
    assert out.shape == (n,)
    assert not np.isnan(out).any()
    assert ((out >= 0.0) & (out <= 1.0)).all(), (args, out)
    assert_vectorised_equals_scalar(fn, args, vec, n)


@pytest.mark.parametrize("name", sorted(STATE_RULES))
@PROPERTY
@given(data=st.data())
def test_state_rules_stay_in_unit_interval(name, data):
    """State-updating rules keep every state variable in [0, 1], and arrays give exactly the scalar results."""
    fn, spec = STATE_RULES[name]
    args, vec, n = draw_args(data, spec)
    for out in as_outputs(fn(*args)):
        out = np.broadcast_to(out, (n,)).astype(np.float64)
        assert not np.isnan(out).any()
        assert ((out >= 0.0) & (out <= 1.0)).all(), (args, out)
    assert_vectorised_equals_scalar(fn, args, vec, n)


@pytest.mark.parametrize("name", sorted(OTHER_RULES))
@PROPERTY
@given(data=st.data())
def test_other_rules_vectorised_equals_scalar(name, data):
    """Stance, cooldown, patron, participation and scoring rules give the same results on arrays and scalars."""
    fn, spec = OTHER_RULES[name]
    args, vec, n = draw_args(data, spec)
    assert_vectorised_equals_scalar(fn, args, vec, n)


@settings(max_examples=60, deadline=None)
@given(
    g=arrays(np.float64, (2, 4, 3), elements=UNIT),
    offset=arrays(np.float64, (2, 4, 3), elements=st.floats(-0.5, 0.5)),
    risk=arrays(np.float64, (2, 4, 3), elements=UNIT),
    share=arrays(np.float64, (2, 4, 1), elements=UNIT),
    restraint=arrays(np.float64, (2, 4, 1), elements=st.floats(-1.0, 1.0)),
)
def test_broadcast_shapes_match_scalars(g, offset, risk, share, restraint):
    """With the vector engine's (R, M, n) broadcasting, each cell's activation probability equals the
    scalar computation a Mesa cell makes."""
    cost = rules.expected_cost(2.3, 0.35, share, 3)
    p = rules.activation_probability(rules.cell_grievance(g, offset), risk, cost, restraint, 0.1, 0.05)
    assert p.shape == (2, 4, 3)
    for r, j, k in np.ndindex(p.shape):
        c = rules.expected_cost(2.3, 0.35, share[r, j, 0], 3)
        gk = rules.cell_grievance(g[r, j, k], offset[r, j, k])
        assert p[r, j, k] == rules.activation_probability(gk, risk[r, j, k], c, restraint[r, j, 0], 0.1, 0.05)


# ----------------------------------------------------------------------------- anchors from the literature


def test_sigmoid_is_the_logistic_function():
    """sigmoid(0) is exactly 0.5, it is symmetric, and it saturates without overflow or NaN."""
    assert rules.sigmoid(0.0) == 0.5
    assert rules.sigmoid(2.0) + rules.sigmoid(-2.0) == pytest.approx(1.0, abs=1e-15)
    big = rules.sigmoid(np.array([-1e6, 1e6]))
    assert big[0] == 0.0 and big[1] == 1.0


@pytest.mark.parametrize("half_life", [1, 2, 7, 45, 120, 365])
@pytest.mark.parametrize(("x", "base"), [(1.0, 0.0), (0.0, 1.0), (0.9, 0.3), (0.2, 0.35)])
def test_relax_halves_distance_after_half_life_steps(half_life, x, base):
    """What a half-life means: after ``half_life`` one-day steps half the distance to base is left."""
    y = x
    for _ in range(half_life):
        y = rules.relax(y, base, float(half_life))
    assert abs((y - base) - 0.5 * (x - base)) < 1e-12
    z = x
    for _ in range(half_life - 1):
        z = rules.relax(z, base, float(half_life))
    assert abs(z - base) > abs(y - base)


@pytest.mark.parametrize("n", [10, 30, 100, 1000])
def test_epstein_arrest_probability_is_about_090_where_forces_equal_actives(n):
    """Epstein (2002) chose k = 2.3 so that the arrest probability is about 0.9 when cops and actives
    (the agent itself included) are equal: capacity x n = 1 + n x share."""
    share = 0.3
    capacity = (1.0 + n * share) / n
    assert rules.expected_cost(2.3, capacity, share, n) == pytest.approx(0.9, abs=0.005)


def test_epstein_safety_in_numbers_spans_most_of_the_range():
    """At the default capacity a lone actor is almost surely caught, a militia all of whose 30 cells acted
    yesterday much less so: the cost spans more than 0.4 (the old capacity / (1 + share) spanned 0.24)."""
    cost = rules.expected_cost(2.3, 0.35, np.array([0.0, 1.0]), 30)
    assert cost[0] > 0.99
    assert cost[0] - cost[1] > 0.4


@PROPERTY
@given(k=prm("arrest_k"), capacity=prm("state_capacity"), s1=UNIT, s2=UNIT, n=CELLS)
def test_expected_cost_falls_with_yesterdays_crowd(k, capacity, s1, s2, n):
    """Safety in numbers: the more of its militia acted yesterday, the lower a cell's expected cost."""
    lo, hi = sorted((s1, s2))
    assert rules.expected_cost(k, capacity, hi, n) <= rules.expected_cost(k, capacity, lo, n)


@PROPERTY
@given(rate=prm("attack_rate_us"), a=UNIT, b=UNIT)
def test_daily_hazard_composes_like_independent_exposures(rate, a, b):
    """Poisson events: surviving exposure a + b is surviving a and then b (so the day's split is immaterial)."""
    whole = 1.0 - rules.daily_hazard(rate, a + b)
    parts = (1.0 - rules.daily_hazard(rate, a)) * (1.0 - rules.daily_hazard(rate, b))
    assert whole == pytest.approx(parts, rel=1e-12, abs=1e-15)


@PROPERTY
@given(kappa=prm("clash_kappa"), v1=UNIT, v2=UNIT, m1=UNIT, m2=UNIT)
def test_clash_needs_both_camps_and_rises_with_each(kappa, v1, v2, m1, m2):
    """No clash without pro-Iran violence or Sadrist mobilisation, and more of either never lowers the hazard."""
    assert rules.clash_hazard(kappa, 0.0, m1) == 0 and rules.clash_hazard(kappa, v1, 0.0) == 0
    (vl, vh), (ml, mh) = sorted((v1, v2)), sorted((m1, m2))
    assert rules.clash_hazard(kappa, vl, ml) <= rules.clash_hazard(kappa, vh, ml) <= rules.clash_hazard(kappa, vh, mh)


@PROPERTY
@given(before=st.integers(1, 329), lost=st.integers(0, 329), shock=prm("election_shock"),
       relief=prm("election_gain_relief"))  # fmt: skip
def test_election_losses_loom_larger_than_gains(before, lost, shock, relief):
    """A loss angers, a gain calms, no change does nothing; a gain of the same share calms exactly
    ``gain_relief`` times as much as the loss angers (Tversky & Kahneman's loss aversion)."""
    lost = min(lost, before)
    loss = rules.election_grievance(before, before - lost, shock, relief)
    gain = rules.election_grievance(before, before + lost, shock, relief)
    assert loss >= 0 >= gain
    assert rules.election_grievance(before, before, shock, relief) == 0
    assert -gain == pytest.approx(relief * loss, rel=1e-12, abs=1e-15)


def test_election_grievance_from_no_seats_is_finite():
    """A bloc that had no seats gains per seat won (no division by zero)."""
    assert np.isfinite(rules.election_grievance(0, 2, 0.5, 0.5))


# ----------------------------------------------------------------------------- the patron


@PROPERTY
@given(score=arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 6)), elements=st.floats(0, 2)),
       k=st.integers(1, 6))  # fmt: skip
def test_target_mask_picks_the_k_most_pressing(score, k):
    """target_mask picks min(k, M) per row, every picked score is >= every unpicked one, and ties go to
    the militia declared first."""
    mask = rules.target_mask(score, k, axis=1)
    assert (mask.sum(axis=1) == min(k, score.shape[1])).all()
    for row, m in zip(score, mask, strict=True):
        if m.any() and (~m).any():
            assert row[m].min() >= row[~m].max()
            edge = row[m].min()
            picked_edge = np.flatnonzero(m & (row == edge))
            unpicked_edge = np.flatnonzero(~m & (row == edge))
            if unpicked_edge.size:
                assert picked_edge.max() < unpicked_edge.min()


PATRON = dict(attention=UNIT, cooldown=DAYS, tension=UNIT, salient=BOOL, forced=BOOL, trigger=UNIT, cost=UNIT)


@PROPERTY
@given(**PATRON)
def test_patron_acts_only_when_it_exists_and_intervenes(attention, cooldown, tension, salient, forced, trigger, cost):
    """No patron, or a patron that does not intervene, never acts; a forced visit always happens otherwise."""
    args = (attention, cooldown, tension, salient, forced, trigger, cost)
    assert not rules.patron_decides(False, True, *args)
    assert not rules.patron_decides(True, False, *args)
    assert rules.patron_decides(True, True, *args) or not forced


@PROPERTY
@given(**PATRON, more=UNIT)
def test_patron_is_monotone_in_tension_and_needs_attention(attention, cooldown, tension, salient, forced, trigger,
                                                          cost, more):  # fmt: skip
    """If the patron acts at some tension it acts at any higher one; unforced, it never acts without the
    attention an intervention costs, and below its trigger only a salient day moves it."""
    acts = bool(rules.patron_decides(True, True, attention, cooldown, tension, salient, forced, trigger, cost))
    higher = bool(rules.patron_decides(True, True, attention, cooldown, max(tension, more), salient, forced, trigger,
                                       cost))  # fmt: skip
    assert higher or not acts
    unforced = bool(rules.patron_decides(True, True, attention, cooldown, tension, salient, False, trigger, cost))
    assert not unforced or attention >= cost
    if tension <= trigger and not salient:
        assert not unforced


def test_salient_day_overrides_the_cooldown_but_not_attention():
    """¶2: the commander came within hours of the attack although Iran had intervened weeks before."""
    assert rules.patron_decides(True, True, 1.0, 5, 0.0, True, False, 0.5, 0.4)
    assert not rules.patron_decides(True, True, 1.0, 5, 0.9, False, False, 0.5, 0.4)
    assert not rules.patron_decides(True, True, 0.3, 0, 0.0, True, False, 0.5, 0.4)


@PROPERTY
@given(days=st.integers(0, 30), steps=st.integers(1, 40))
def test_cooldown_counts_down_and_stays_at_zero(days, steps):
    """After an intervention the cooldown is set, then falls by one a day to zero and stays there."""
    c = rules.cooldown_after(np.int64(0), True, days)
    for _ in range(steps):
        c = rules.cooldown_after(c, False, days)
    assert c == max(days - steps, 0)


@PROPERTY
@given(attention=UNIT, cost=prm("patron_attention_cost"), recovery=prm("patron_attention_recovery"),
       distraction=prm("patron_distraction"))  # fmt: skip
def test_attention_is_spent_by_interventions_and_cut_by_distraction(attention, cost, recovery, distraction):
    """An intervention never leaves more attention than none; full distraction stops the refill."""
    spent = rules.attention_after(attention, True, cost, recovery, distraction)
    kept = rules.attention_after(attention, False, cost, recovery, distraction)
    assert spent <= kept
    assert rules.attention_after(attention, False, cost, recovery, 1.0) == attention


@PROPERTY
@given(g=UNIT, d=UNIT, p=UNIT, lam1=UNIT, lam2=UNIT, eg=prm("intervention_grievance_effect"),
       ed=prm("intervention_discipline_effect"))  # fmt: skip
def test_intervention_calms_targets_only_and_more_with_leverage(g, d, p, lam1, lam2, eg, ed):
    """An intervention never raises a target's grievance or lowers its discipline, does more with more
    leverage, resets the pressure, and leaves untargeted militias alone."""
    lo, hi = sorted((lam1, lam2))
    g_lo, d_lo, p_lo = rules.intervene(g, d, p, lo, True, eg, ed)
    g_hi, d_hi, _ = rules.intervene(g, d, p, hi, True, eg, ed)
    assert g_hi <= g_lo <= g and d <= d_lo <= d_hi and p_lo == 1.0
    assert rules.intervene(g, d, p, hi, False, eg, ed) == (g, d, p)


# ----------------------------------------------------------------------------- leaders and cells


STANCE = dict(lam=UNIT, pressure=UNIT, standing=prm("standing_leverage"), threshold=prm("stance_threshold"),
              tau=prm("stance_tau"), hysteresis=prm("stance_hysteresis"))  # fmt: skip


@PROPERTY
@given(g1=UNIT, g2=UNIT, contested=BOOL, **STANCE)
def test_contest_rises_with_grievance(g1, g2, contested, lam, pressure, standing, threshold, tau, hysteresis):
    """More grievance never lowers the chance that a leader contests."""
    lo, hi = sorted((g1, g2))
    args = (contested, threshold, tau, hysteresis)
    assert rules.contest_probability(lo, lam, pressure, standing, *args) <= rules.contest_probability(
        hi, lam, pressure, standing, *args
    )


@PROPERTY
@given(g=UNIT, x1=UNIT, x2=UNIT, contested=BOOL, **STANCE)
def test_leverage_restrains_between_and_during_visits(g, x1, x2, contested, lam, pressure, standing, threshold, tau,
                                                      hysteresis):  # fmt: skip
    """More leverage, standing leverage or visit pressure never raises the chance that a leader contests,
    and with any leverage the standing term restrains even with no visit's pressure left (Salehyan)."""
    lo, hi = sorted((x1, x2))
    rest = (contested, threshold, tau, hysteresis)
    assert rules.contest_probability(g, hi, pressure, standing, *rest) <= rules.contest_probability(
        g, lo, pressure, standing, *rest)  # fmt: skip
    assert rules.contest_probability(g, lam, hi, standing, *rest) <= rules.contest_probability(
        g, lam, lo, standing, *rest)  # fmt: skip
    assert rules.contest_probability(g, lam, 0.0, standing, *rest) <= rules.contest_probability(
        g, lam, 0.0, 0.0, *rest)  # fmt: skip


@PROPERTY
@given(g=UNIT, **STANCE)
def test_a_refusal_is_held(g, lam, pressure, standing, threshold, tau, hysteresis):
    """Hysteresis: a leader already contesting is at least as likely to go on contesting as a
    restraining one is to start, at the same grievance and leverage."""
    start = rules.contest_probability(g, lam, pressure, standing, False, threshold, tau, hysteresis)
    go_on = rules.contest_probability(g, lam, pressure, standing, True, threshold, tau, hysteresis)
    assert go_on >= start


def test_stance_hysteresis_makes_a_band_where_either_stance_persists():
    """Between threshold - hysteresis and threshold, a restraining leader rarely starts and a contesting
    one rarely stops (tau small): the position held depends on yesterday's."""
    g = 0.45
    start = rules.contest_probability(g, 0.0, 0.0, 0.0, False, 0.5, 0.01, 0.1)
    go_on = rules.contest_probability(g, 0.0, 0.0, 0.0, True, 0.5, 0.01, 0.1)
    assert start < 0.01 and go_on > 0.99


@PROPERTY
@given(u=UNIT, p=UNIT, days=st.integers(1, 60))
def test_a_leader_under_orders_never_contests(u, p, days):
    assert not rules.leader_contests(u, p, days)
    assert bool(rules.leader_contests(u, p, 0)) == (u < p)


@PROPERTY
@given(felt=st.floats(-1, 1), target=st.floats(-1, 1), discipline=UNIT)
def test_restraint_reaches_cells_gradually_and_never_overshoots(felt, target, discipline):
    """The restraint cells feel moves from what they felt towards what the leader asks, never past it;
    a perfectly disciplined militia gets there at once, one with no discipline never."""
    new = rules.relayed_restraint(felt, target, discipline)
    assert min(felt, target) - 1e-12 <= new <= max(felt, target) + 1e-12
    assert rules.relayed_restraint(felt, target, 1.0) == pytest.approx(target, abs=1e-15)
    assert rules.relayed_restraint(felt, target, 0.0) == felt


def test_restraint_and_cohesion():
    """Restraint is discipline when restraining, -boost when contesting; cohesion follows the stance."""
    np.testing.assert_array_equal(rules.restraint(np.array([True, False]), np.array([0.6, 0.6]), 0.1), [-0.1, 0.6])
    np.testing.assert_allclose(rules.within_cohesion(np.array([True, False]), np.array([0.7, 0.7])), [0.7, 0.3])


def test_active_share_and_camp_violence_are_exact_counts():
    active = np.array([[[True, False, True, True], [False, False, False, False]]])
    np.testing.assert_array_equal(rules.active_share(active), [[[0.75], [0.0]]])
    np.testing.assert_array_equal(rules.camp_violence(active), [[[3 / 8]]])


@PROPERTY
@given(g=UNIT, risk1=UNIT, risk2=UNIT, cost=UNIT, r1=st.floats(-1, 1), r2=st.floats(-1, 1),
       threshold=prm("cell_threshold"), tau=prm("cell_tau"))  # fmt: skip
def test_cells_act_less_with_restraint_and_risk_aversion(g, risk1, risk2, cost, r1, r2, threshold, tau):
    """More restraint from the leader, or more risk aversion, never raises a cell's chance to act."""
    (lo, hi), (rlo, rhi) = sorted((r1, r2)), sorted((risk1, risk2))
    assert rules.activation_probability(g, risk1, cost, hi, threshold, tau) <= rules.activation_probability(
        g, risk1, cost, lo, threshold, tau)  # fmt: skip
    assert rules.activation_probability(g, rhi, cost, r1, threshold, tau) <= rules.activation_probability(
        g, rlo, cost, r1, threshold, tau)  # fmt: skip


def test_smoothed_rule_tends_to_epsteins_hard_threshold():
    """As cell_tau goes to 0 the smoothed rule becomes Epstein's: act iff G - R P > T (+ restraint)."""
    net = np.array([-0.05, -0.01, 0.01, 0.05])  # G - R P - restraint - T
    p = rules.activation_probability(0.5 + net, 0.0, 0.0, 0.0, 0.5, 1e-4)
    np.testing.assert_array_equal(p > 0.5, net > 0)
    assert (np.abs(p - (net > 0)) < 1e-6).all()


# ----------------------------------------------------------------------------- Sadr's bloc, mediation, the house


@PROPERTY
@given(part=BOOL, uw=UNIT, ur=UNIT, g1=UNIT, g2=UNIT, k=prm("boycott_commitment"), bt=prm("boycott_threshold"),
       rt=prm("return_threshold"), tau=prm("sadr_tau"), stake=prm("election_stake"))  # fmt: skip
def test_sadr_decides_by_thresholds_fixed_for_the_run(part, uw, ur, g1, g2, k, bt, rt, tau, stake):
    """With the run's draws fixed, more grievance never brings Sadr in and less never takes him out, the
    commitment of a walk-out makes returning harder than staying, and a stake won at the polls makes
    walking out harder (¶25)."""
    lo, hi = sorted((g1, g2))
    assert rules.participation_after(part, uw, ur, hi, k, stake, bt, rt, tau) <= rules.participation_after(
        part, uw, ur, lo, k, stake, bt, rt, tau)  # fmt: skip
    assert rules.participation_after(False, uw, ur, lo, k, stake, bt, rt, tau) <= rules.participation_after(
        False, uw, ur, lo, 0.0, stake, bt, rt, tau)  # fmt: skip
    assert rules.participation_after(True, uw, ur, hi, k, 0.0, bt, rt, tau) <= rules.participation_after(
        True, uw, ur, hi, k, stake, bt, rt, tau)  # fmt: skip


@PROPERTY
@given(before=BOOL, after=BOOL, k=UNIT, c=prm("boycott_commitment"))
def test_commitment_is_made_by_walking_out_and_ended_by_returning(before, after, k, c):
    new = rules.commitment_after(before, after, k, c)
    want = c if (before and not after) else 0.0 if (after and not before) else k
    assert new == want


@PROPERTY
@given(g1=UNIT, g2=UNIT, threshold=prm("mobilisation_threshold"), tau=prm("mobilisation_tau"), m=UNIT,
       rate=prm("mobilisation_rate"), days=DAYS)  # fmt: skip
def test_mobilisation_follows_threat_without_overshooting(g1, g2, threshold, tau, m, rate, days):
    """The armed wing's target rises with threat, smoothly and with no floor (half the wing at the
    threshold, a twentieth three scales below it: Granovetter's spread thresholds), and mobilisation
    moves towards it (towards 0 under an order) without passing it."""
    lo, hi = sorted((g1, g2))
    assert rules.mobilisation_target(lo, threshold, tau) <= rules.mobilisation_target(hi, threshold, tau)
    assert rules.mobilisation_target(threshold, threshold, tau) == pytest.approx(0.5)
    assert rules.mobilisation_target(threshold - 3 * tau, threshold, tau) == pytest.approx(0.047, abs=0.001)
    assert 0 < rules.mobilisation_target(threshold - 0.3, threshold, tau)  # no hard floor
    target = rules.mobilisation_target(g1, threshold, tau)
    goal = 0.0 if days > 0 else target
    new = rules.mobilisation_after(m, target, rate, days)
    assert min(m, goal) - 1e-12 <= new <= max(m, goal) + 1e-12


@PROPERTY
@given(g=UNIT, refusing=UNIT, v=UNIT, r=UNIT, base=prm("rivalry_base"), wr=prm("threat_refusal"),
       wv=prm("threat_violence"), wh=prm("threat_rivalry"), extra=st.floats(0.0, 0.5))  # fmt: skip
def test_more_of_the_other_camp_never_lowers_sadrs_threat(g, refusing, v, r, base, wr, wv, wh, extra):
    """Richardson's reaction terms: more refusals, violence or rivalry never lower the threat Sadr's
    movement reads; with every reaction weight 0 the threat is its own grievance; at rest (no refusal, no
    violence, rivalry at its base) the threat is the grievance whatever the weights."""
    t = rules.sadr_threat(g, refusing, v, r, base, wr, wv, wh)
    assert rules.sadr_threat(g, refusing + extra, v, r, base, wr, wv, wh) >= t
    assert rules.sadr_threat(g, refusing, v + extra, r, base, wr, wv, wh) >= t
    assert rules.sadr_threat(g, refusing, v, r + extra, base, wr, wv, wh) >= t
    assert rules.sadr_threat(g, refusing, v, r, base, 0.0, 0.0, 0.0) == g
    assert rules.sadr_threat(g, 0.0, 0.0, base, base, wr, wv, wh) == g


def test_sadr_halts_only_after_a_clash_and_by_his_restraint():
    """Sadr's order after a clash (¶38): never on a day without a clash; with restraint p, on a share p
    of clash days (u uniform)."""
    u = (np.arange(10_000) + 0.5) / 10_000
    assert not rules.sadr_restrains(u, False, 1.0).any()
    assert rules.sadr_restrains(u, True, 0.3).mean() == pytest.approx(0.3, abs=1e-4)


@PROPERTY
@given(m=UNIT, d1=UNIT, d2=UNIT)
def test_more_discipline_stands_more_of_the_wing_down(m, d1, d2):
    lo, hi = sorted((d1, d2))
    assert rules.stood_down(m, hi) <= rules.stood_down(m, lo) <= m
    assert rules.stood_down(m, 1.0) == 0 and rules.stood_down(m, 0.0) == m


@PROPERTY
@given(w=st.lists(UNIT, min_size=1, max_size=4), c=st.lists(UNIT, min_size=4, max_size=4), extra=UNIT)
def test_two_mediators_persuade_at_least_as_well_as_one(w, c, extra):
    """Kydd: credibility is per mediator. Adding a mediator never lowers the combined credibility; a
    mediator not involved adds nothing; one mediator alone counts involvement x credibility."""
    c = c[: len(w)]
    one = rules.mediator_credibility(w, c)
    more = rules.mediator_credibility([*w, extra], [*c, 0.5])
    assert more >= one - 1e-15
    assert rules.mediator_credibility([*w, 0.0], [*c, 1.0]) == pytest.approx(one, abs=1e-15)
    assert rules.mediator_credibility(w[:1], c[:1]) == pytest.approx(w[0] * c[0], abs=1e-15)


@PROPERTY
@given(g=UNIT, c1=UNIT, c2=UNIT, effect=prm("mediation_effect"))
def test_mediation_never_angers_and_credibility_helps(g, c1, c2, effect):
    lo, hi = sorted((c1, c2))
    assert rules.mediated(g, hi, effect) <= rules.mediated(g, lo, effect) <= g


@PROPERTY
@given(x=UNIT, rise=UNIT, clash=BOOL, n=st.integers(0, 4))
def test_clashes_and_attacks_only_ever_raise_hostility(x, rise, clash, n):
    assert rules.after_clash(x, clash, rise) >= x and (clash or rules.after_clash(x, clash, rise) == x)
    assert rules.after_attacks(x, n, rise) >= x


@PROPERTY
@given(v=UNIT, m=UNIT, r=UNIT, wv=WEIGHT, wm=WEIGHT, wr=WEIGHT, scale=st.floats(0.1, 10))
def test_tension_is_a_weighted_mean(v, m, r, wv, wm, wr, scale):
    """Tension lies between the smallest and largest of its parts, does not depend on the weights' scale,
    and with equal weights is the plain mean."""
    t = rules.tension(v, m, r, wv, wm, wr)
    assert min(v, m, r) - 1e-12 <= t <= max(v, m, r) + 1e-12
    assert rules.tension(v, m, r, wv * scale, wm * scale, wr * scale) == pytest.approx(t, abs=1e-12)
    assert rules.tension(v, m, r, 1.0, 1.0, 1.0) == pytest.approx((v + m + r) / 3, abs=1e-15)


@PROPERTY
@given(ind=UNIT, rate=prm("independence_drift"))
def test_independence_creeps_up_but_never_past_one(ind, rate):
    new = rules.drift_independence(ind, rate)
    assert ind <= new <= 1.0


@PROPERTY
@given(present=BOOL, influence=UNIT, loyalty=UNIT, i1=UNIT, i2=UNIT)
def test_leverage_is_agency_slack(present, influence, loyalty, i1, i2):
    """Salehyan: leverage falls as the client's independence rises, vanishes without a patron or with
    full independence, and never exceeds the patron's influence."""
    lo, hi = sorted((i1, i2))
    assert rules.leverage(present, influence, loyalty, hi) <= rules.leverage(present, influence, loyalty, lo)
    assert rules.leverage(False, influence, loyalty, lo) == 0 and rules.leverage(present, influence, loyalty, 1.0) == 0
    assert rules.leverage(present, influence, loyalty, lo) <= influence
