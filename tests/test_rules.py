"""Tests of sim.rules: known values, bounds and scalar/vector agreement (hypothesis), monotonicity."""

from __future__ import annotations

import math

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


# Probability-returning rules, with arguments from valid state and declared parameter ranges.
PROBABILITY_RULES = {
    "contest_probability": (
        rules.contest_probability,
        [V(), V(), V(), S(prm("stance_threshold")), S(prm("stance_tau"))],
    ),
    "activation_probability": (
        rules.activation_probability,
        [V(), V(), V(), V(st.floats(-1.0, 1.0)), S(prm("cell_threshold")), S(prm("cell_tau"))],
    ),
    "expected_cost": (rules.expected_cost, [S(prm("arrest_k")), S(prm("state_capacity")), V()]),
    "expected_cost_capacity_vec": (rules.expected_cost, [S(prm("arrest_k")), V(), V()]),
    "daily_hazard_state": (rules.daily_hazard, [S(prm("attack_rate_state")), V()]),
    "daily_hazard_us": (rules.daily_hazard, [S(prm("attack_rate_us")), V()]),
    "clash_hazard": (rules.clash_hazard, [S(prm("clash_kappa")), V(), V()]),
    "boycott_probability": (rules.boycott_probability, [V(), S(prm("boycott_threshold")), S(prm("sadr_tau"))]),
    "return_probability": (rules.return_probability, [V(), S(prm("return_threshold")), S(prm("sadr_tau"))]),
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
    "mobilisation_after": (
        rules.mobilisation_after,
        [V(), V(), S(prm("sadr_discipline")), S(prm("mobilisation_rate"))],
    ),
    "mobilisation_target": (rules.mobilisation_target, [V(), S(prm("sadr_discipline"))]),
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
    "leverage": (
        rules.leverage,
        [S(prm("patron_present")), S(prm("patron_influence")), V(), V()],
    ),
    "tension": (rules.tension, [V(), V(), V()]),
    "sadr_baseline": (rules.sadr_baseline, [V(BOOL), S(prm("sadr_grievance_base")), S(prm("boycott_commitment"))]),
}

# Other rules both engines call: only the scalar/vector agreement is checked for these.
OTHER_RULES = {
    "restraint": (rules.restraint, [V(BOOL), V(), S(prm("contest_boost"))]),
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
        [V(BOOL), V(), V(), S(prm("boycott_threshold")), S(prm("return_threshold")), S(prm("sadr_tau"))],
    ),
    "militia_score": (rules.militia_score, [V(), V()]),
    "within_cohesion": (rules.within_cohesion, [V(BOOL), V()]),
}


# ----------------------------------------------------------------------------- known values


def test_sigmoid_known_values():
    """sigmoid(0) is exactly 0.5, is symmetric, and saturates without overflow or NaN."""
    assert rules.sigmoid(0.0) == 0.5
    assert rules.sigmoid(2.0) + rules.sigmoid(-2.0) == pytest.approx(1.0, abs=1e-15)
    assert rules.sigmoid(1.0) == pytest.approx(1.0 / (1.0 + math.e**-1), abs=1e-15)
    big = rules.sigmoid(np.array([-1e6, 1e6]))
    assert big[0] == 0.0 and big[1] == 1.0


@pytest.mark.parametrize("half_life", [1, 2, 7, 45, 120, 365])
@pytest.mark.parametrize(("x", "base"), [(1.0, 0.0), (0.0, 1.0), (0.9, 0.3), (0.2, 0.35)])
def test_relax_halves_distance_after_half_life_steps(half_life, x, base):
    """relax halves the distance to base after ``half_life`` one-day steps (within 1e-12)."""
    y = x
    for _ in range(half_life):
        y = rules.relax(y, base, float(half_life))
    assert abs((y - base) - 0.5 * (x - base)) < 1e-12
    # and it does not get there earlier: one step short is still further away
    z = x
    for _ in range(half_life - 1):
        z = rules.relax(z, base, float(half_life))
    assert abs(z - base) > abs(y - base)


def test_relax_at_base_stays():
    """A variable already at its baseline does not move."""
    assert rules.relax(0.4, 0.4, 10.0) == 0.4


def test_leverage_known_values():
    """leverage(1,1,1,0)=1; it is 0 with full independence or an absent patron, and multiplies its terms."""
    assert rules.leverage(1, 1.0, 1.0, 0.0) == 1.0
    assert rules.leverage(True, 1.0, 1.0, 0.0) == 1.0
    assert rules.leverage(1, 1.0, 1.0, 1.0) == 0.0
    assert rules.leverage(False, 0.9, 0.85, 0.2) == 0.0
    assert rules.leverage(0, 0.9, 0.85, 0.2) == 0.0
    assert rules.leverage(True, 0.5, 0.8, 0.25) == pytest.approx(0.5 * 0.8 * 0.75, abs=1e-15)


@PROPERTY
@given(capacity=UNIT, share=UNIT)
def test_expected_cost_matches_epstein(capacity, share):
    """expected_cost equals Epstein's 1 - exp(-k C / (1 + a)) with k = 2.3."""
    k = 2.3
    want = 1.0 - math.exp(-k * capacity / (1.0 + share))
    assert rules.expected_cost(k, capacity, share) == pytest.approx(want, abs=1e-12)


def test_expected_cost_known_values():
    """No capacity means no cost; more activity (a larger crowd) lowers the cost."""
    assert rules.expected_cost(2.3, 0.0, 0.5) == 0.0
    assert rules.expected_cost(2.3, 0.5, 0.0) == pytest.approx(1.0 - math.exp(-1.15), abs=1e-15)
    assert rules.expected_cost(2.3, 0.5, 1.0) < rules.expected_cost(2.3, 0.5, 0.0)


@PROPERTY
@given(kappa=prm("clash_kappa"), mobilisation=UNIT)
def test_clash_hazard_zero_without_violence(kappa, mobilisation):
    """clash_hazard(kappa, 0, m) == 0: no pro-Iran violence, no clash."""
    assert rules.clash_hazard(kappa, 0.0, mobilisation) == 0
    assert rules.clash_hazard(kappa, mobilisation, 0.0) == 0


def test_clash_hazard_known_value():
    """clash_hazard is 1 - exp(-kappa v m)."""
    assert rules.clash_hazard(0.6, 0.5, 0.8) == pytest.approx(1.0 - math.exp(-0.6 * 0.5 * 0.8), abs=1e-15)


def test_daily_hazard_known_value():
    """daily_hazard is the Poisson probability of at least one event, 1 - exp(-rate x exposure)."""
    assert rules.daily_hazard(0.05, 1.0) == pytest.approx(1.0 - math.exp(-0.05), abs=1e-15)
    assert rules.daily_hazard(0.05, 0.0) == 0


def test_election_grievance_loss_and_gain():
    """A loss of 31 of 48 seats adds shock x 31/48; a gain of the same share subtracts half as much."""
    assert rules.election_grievance(48, 17, 0.5) == pytest.approx(0.5 * 31 / 48, abs=1e-15)
    loss = rules.election_grievance(40, 30, 0.5)
    gain = rules.election_grievance(40, 50, 0.5)
    assert loss == pytest.approx(0.5 * 0.25, abs=1e-15)
    assert gain < 0
    assert gain == pytest.approx(-0.5 * loss, abs=1e-15)
    assert rules.election_grievance(54, 73, 0.5) == pytest.approx(-0.25 * 19 / 54, abs=1e-15)
    assert rules.election_grievance(30, 30, 0.5) == 0


def test_election_grievance_from_no_seats():
    """A bloc that had no seats gains by its new seat count per one seat (no division by zero)."""
    assert rules.election_grievance(0, 2, 0.5) == pytest.approx(-0.25 * 2, abs=1e-15)


def test_target_mask_picks_k_largest():
    """target_mask marks the k highest scores along the militia axis."""
    score = np.array([[0.1, 0.9, 0.5, 0.7], [0.8, 0.2, 0.3, 0.1]])
    got = rules.target_mask(score, 2, axis=1)
    np.testing.assert_array_equal(got, [[False, True, False, True], [True, False, True, False]])
    np.testing.assert_array_equal(rules.target_mask(np.array([0.3, 0.1, 0.2]), 1, axis=0), [True, False, False])
    assert rules.target_mask(score, 4, axis=1).all()
    assert rules.target_mask(np.array([0.3, 0.1, 0.2]), 3, axis=0).sum() == 3


def test_target_mask_ties_go_to_lower_index():
    """Among equal scores, the lower militia index is targeted first."""
    np.testing.assert_array_equal(rules.target_mask(np.zeros(4), 2, axis=0), [True, True, False, False])
    np.testing.assert_array_equal(
        rules.target_mask(np.array([0.2, 0.5, 0.5, 0.5]), 2, axis=0), [False, True, True, False]
    )
    np.testing.assert_array_equal(
        rules.target_mask(np.array([[0.5, 0.1, 0.5, 0.5]]), 2, axis=1), [[True, False, True, False]]
    )


@PROPERTY
@given(score=arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 6)), elements=st.floats(0, 2)),
       k=st.integers(1, 6))  # fmt: skip
def test_target_mask_property(score, k):
    """target_mask picks min(k, M) per row, and every picked score is >= every unpicked one."""
    mask = rules.target_mask(score, k, axis=1)
    assert (mask.sum(axis=1) == min(k, score.shape[1])).all()
    for row, m in zip(score, mask, strict=True):
        if m.any() and (~m).any():
            assert row[m].min() >= row[~m].max()
            # ties at the boundary: an unpicked equal score must have a higher index than every picked equal one
            edge = row[m].min()
            picked_edge = np.flatnonzero(m & (row == edge))
            unpicked_edge = np.flatnonzero(~m & (row == edge))
            if unpicked_edge.size:
                assert picked_edge.max() < unpicked_edge.min()


BASE = dict(
    present=True,
    intervenes=True,
    attention=1.0,
    cooldown=0,
    tension=0.5,
    salient=False,
    forced=False,
    trigger=0.3,
    cost=0.35,
)


def decides(**kw) -> bool:
    args = {**BASE, **kw}
    return bool(rules.patron_decides(**args))


def test_patron_decides_rules():
    """The patron acts on high tension (not in cooldown) or a salient event (cooldown or not), with attention."""
    assert decides()  # tension above trigger, able
    assert not decides(tension=0.2)  # below trigger
    assert not decides(tension=0.3)  # at trigger: must be above
    assert decides(tension=0.0, salient=True)  # salient event suffices
    assert not decides(cooldown=1)  # cooling down
    assert decides(cooldown=3, salient=True)  # a salient event overrides the cooldown
    assert not decides(attention=0.2)  # not enough attention
    assert decides(attention=0.35)  # exactly the cost is enough
    assert not decides(attention=0.1, salient=True)
    assert decides(forced=True, tension=0.0, attention=0.0, cooldown=10)  # forced always happens
    assert not decides(present=False)
    assert not decides(present=False, forced=True)
    assert not decides(present=False, salient=True)
    assert not decides(intervenes=False)
    assert not decides(intervenes=False, forced=True, salient=True)


@PROPERTY
@given(attention=UNIT, cooldown=DAYS, tension=UNIT, salient=BOOL, forced=BOOL, trigger=UNIT, cost=UNIT)
def test_patron_never_acts_when_absent(attention, cooldown, tension, salient, forced, trigger, cost):
    """With present=False, patron_decides is False whatever the other inputs."""
    assert not rules.patron_decides(False, True, attention, cooldown, tension, salient, forced, trigger, cost)


@PROPERTY
@given(attention=UNIT, cooldown=DAYS, tension=UNIT, salient=BOOL, trigger=UNIT, cost=UNIT)
def test_patron_decides_matches_spec(attention, cooldown, tension, salient, trigger, cost):
    """Unforced, the patron acts iff ((tension > trigger and cooldown <= 0) or salient) and attention >= cost."""
    want = ((tension > trigger and cooldown <= 0) or salient) and attention >= cost
    assert bool(rules.patron_decides(True, True, attention, cooldown, tension, salient, False, trigger, cost)) == want
    assert bool(rules.patron_decides(True, True, attention, cooldown, tension, salient, True, trigger, cost))


def test_cooldown_after():
    """An intervention starts the cooldown; otherwise it counts down to zero and stays there."""
    np.testing.assert_array_equal(
        rules.cooldown_after(np.array([0, 3, 1, 0]), np.array([True, False, False, False]), 5), [5, 2, 0, 0]
    )


def test_attention_after_known_values():
    """Attention drops by the cost (not below 0), then refills by recovery x (1 - distraction), capped at 1."""
    assert rules.attention_after(1.0, True, 0.35, 0.03, 0.2) == pytest.approx(0.65 + 0.024, abs=1e-15)
    assert rules.attention_after(0.1, True, 0.35, 0.03, 0.0) == pytest.approx(0.03, abs=1e-15)
    assert rules.attention_after(0.99, False, 0.35, 0.03, 0.0) == 1.0
    assert rules.attention_after(0.5, False, 0.35, 0.03, 1.0) == 0.5


def test_intervene_known_values():
    """Targeted militias lose lam*e_g grievance, gain lam*e_d discipline, get pressure 1; others unchanged."""
    g, d, p = rules.intervene(
        np.array([0.5, 0.5]), np.array([0.4, 0.4]), np.array([0.1, 0.1]), np.array([0.5, 0.5]),
        np.array([True, False]), 0.6, 0.5,
    )  # fmt: skip
    np.testing.assert_allclose(g, [0.2, 0.5], atol=1e-15)
    np.testing.assert_allclose(d, [0.65, 0.4], atol=1e-15)
    np.testing.assert_array_equal(p, [1.0, 0.1])


def test_leader_contests_order_overrides():
    """A leader contests iff u < p, except under a stand-down order, when it never contests."""
    assert rules.leader_contests(0.2, 0.5, 0)
    assert not rules.leader_contests(0.6, 0.5, 0)
    assert not rules.leader_contests(0.0, 1.0, 3)


def test_restraint_and_cohesion():
    """Restraint is discipline when restraining, -boost when contesting; cohesion follows the stance."""
    np.testing.assert_array_equal(rules.restraint(np.array([True, False]), np.array([0.6, 0.6]), 0.1), [-0.1, 0.6])
    np.testing.assert_allclose(rules.within_cohesion(np.array([True, False]), np.array([0.7, 0.7])), [0.7, 0.3])


def test_active_share_and_camp_violence():
    """Shares are exact counts over cells (per militia) and over the whole camp."""
    active = np.array([[[True, False, True, True], [False, False, False, False]]])
    np.testing.assert_array_equal(rules.active_share(active), [[[0.75], [0.0]]])
    np.testing.assert_array_equal(rules.camp_violence(active), [[[3 / 8]]])


@pytest.mark.parametrize("u", [0.05, 0.2, 0.5, 0.8, 0.95])
def test_participation_hysteresis(u):
    """Between the return and boycott thresholds the bloc keeps whatever it is doing (for u in the middle)."""
    bt, rt, tau = 0.7, 0.3, 0.03
    # a participating bloc with low grievance stays in
    assert rules.participation_after(True, u, 0.1, bt, rt, tau)
    assert rules.participation_after(True, u, 0.5, bt, rt, tau)
    # a boycotting bloc with grievance far above the return threshold stays out
    assert not rules.participation_after(False, u, 0.6, bt, rt, tau)
    assert not rules.participation_after(False, u, 0.5, bt, rt, tau)
    # and the rule does switch at the extremes: high grievance walks out, low grievance returns
    assert not rules.participation_after(True, u, 0.95, bt, rt, tau)
    assert rules.participation_after(False, u, 0.05, bt, rt, tau)


def test_mobilisation_known_values():
    """Mobilisation moves rate x (target - mobilisation); the target is 0 up to discipline/2, then linear to 1."""
    assert rules.mobilisation_target(0.8, 0.0) == pytest.approx(0.8, abs=1e-15)
    assert rules.mobilisation_target(0.4, 0.85) == 0.0
    assert rules.mobilisation_target(0.425, 0.85) == 0.0
    assert rules.mobilisation_target(1.0, 0.85) == pytest.approx(1.0, abs=1e-15)
    assert rules.mobilisation_target(0.8, 0.85) == pytest.approx((0.8 - 0.425) / 0.575, abs=1e-15)
    assert rules.mobilisation_after(0.2, 0.8, 0.0, 0.25) == pytest.approx(0.35, abs=1e-15)
    assert rules.mobilisation_after(0.3, 0.2, 0.85, 0.5) == pytest.approx(0.15, abs=1e-15)
    assert rules.mobilisation_after(0.3, 0.9, 0.5, 0.0) == 0.3


def test_mediation_and_drift_known_values():
    """Mediation removes effect x credibility (clipped); independence moves rate x (1 - independence)."""
    assert rules.mediated(0.5, 0.5, 0.4) == pytest.approx(0.3, abs=1e-15)
    assert rules.mediated(0.5, 2.0, 0.4) == pytest.approx(0.1, abs=1e-15)  # credibility clipped to 1
    assert rules.mediated(0.1, 1.0, 0.4) == 0.0
    assert rules.drift_independence(0.5, 0.01) == pytest.approx(0.505, abs=1e-15)


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
    discipline=arrays(np.float64, (1, 4, 1), elements=UNIT),
    contests=arrays(np.bool_, (2, 4, 1)),
)
def test_broadcast_shapes_match_scalars(g, offset, risk, share, discipline, contests):
    """With the core's (R, M, n) broadcasting, each cell's activation probability equals the scalar computation."""
    cost = rules.expected_cost(2.3, 0.5, share)
    restr = rules.restraint(contests, discipline, 0.1)
    p = rules.activation_probability(rules.cell_grievance(g, offset), risk, cost, restr, 0.1, 0.05)
    assert p.shape == (2, 4, 3)
    for r, j, k in np.ndindex(p.shape):
        c = rules.expected_cost(2.3, 0.5, share[r, j, 0])
        rs = rules.restraint(bool(contests[r, j, 0]), discipline[0, j, 0], 0.1)
        gk = rules.cell_grievance(g[r, j, k], offset[r, j, k])
        want = rules.activation_probability(gk, risk[r, j, k], c, rs, 0.1, 0.05)
        assert p[r, j, k] == want


# ----------------------------------------------------------------------------- monotonicity


@PROPERTY
@given(g1=UNIT, g2=UNIT, lam=UNIT, pressure=UNIT, threshold=prm("stance_threshold"), tau=prm("stance_tau"))
def test_contest_probability_increases_with_grievance(g1, g2, lam, pressure, threshold, tau):
    """More grievance never lowers the chance that a leader contests."""
    lo, hi = sorted((g1, g2))
    assert rules.contest_probability(lo, lam, pressure, threshold, tau) <= rules.contest_probability(
        hi, lam, pressure, threshold, tau
    )


@PROPERTY
@given(g=UNIT, lp1=UNIT, lp2=UNIT, threshold=prm("stance_threshold"), tau=prm("stance_tau"))
def test_contest_probability_decreases_with_leverage_pressure(g, lp1, lp2, threshold, tau):
    """More pressure x leverage never raises the chance that a leader contests."""
    lo, hi = sorted((lp1, lp2))
    assert rules.contest_probability(g, hi, 1.0, threshold, tau) <= rules.contest_probability(
        g, lo, 1.0, threshold, tau
    )
    assert rules.contest_probability(g, 1.0, hi, threshold, tau) <= rules.contest_probability(
        g, 1.0, lo, threshold, tau
    )


def test_contest_probability_strictly_monotone_near_threshold():
    """Near the stance threshold the dependence is strict in both directions."""
    g = np.linspace(0.3, 0.6, 31)
    p = rules.contest_probability(g, 0.5, 0.2, 0.45, 0.08)
    assert (np.diff(p) > 0).all()
    lam = np.linspace(0.0, 1.0, 21)
    q = rules.contest_probability(0.5, lam, 0.5, 0.45, 0.08)
    assert (np.diff(q) < 0).all()


@PROPERTY
@given(g=UNIT, risk=UNIT, cost=UNIT, r1=st.floats(-1, 1), r2=st.floats(-1, 1),
       threshold=prm("cell_threshold"), tau=prm("cell_tau"))  # fmt: skip
def test_activation_probability_decreases_with_restraint(g, risk, cost, r1, r2, threshold, tau):
    """More restraint from the leader never raises a cell's chance to act."""
    lo, hi = sorted((r1, r2))
    assert rules.activation_probability(g, risk, cost, hi, threshold, tau) <= rules.activation_probability(
        g, risk, cost, lo, threshold, tau
    )


@PROPERTY
@given(g=UNIT, risk1=UNIT, risk2=UNIT, cost=UNIT, restraint=st.floats(-1, 1),
       threshold=prm("cell_threshold"), tau=prm("cell_tau"))  # fmt: skip
def test_activation_probability_decreases_with_risk(g, risk1, risk2, cost, restraint, threshold, tau):
    """More risk aversion never raises a cell's chance to act (cost >= 0)."""
    lo, hi = sorted((risk1, risk2))
    assert rules.activation_probability(g, hi, cost, restraint, threshold, tau) <= rules.activation_probability(
        g, lo, cost, restraint, threshold, tau
    )


def test_activation_probability_strictly_monotone_in_the_middle():
    """Away from saturation, restraint and risk strictly lower the activation probability."""
    r = np.linspace(-0.1, 0.3, 21)
    assert (np.diff(rules.activation_probability(0.5, 0.5, 0.5, r, 0.1, 0.05)) < 0).all()
    risk = np.linspace(0.0, 1.0, 21)
    assert (np.diff(rules.activation_probability(0.5, risk, 0.5, 0.1, 0.1, 0.05)) < 0).all()
