"""The behavioural rules, written once as pure functions of state arrays and parameters.
Inputs broadcast: Mesa agents pass their own scalars, the vector core (replicates, militias, cells) arrays."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

# ----------------------------------------------------------------------------- helpers


def sigmoid(x, out=None):
    """Logistic function (scipy's expit: stable for large |x|, elementwise)."""
    return expit(x, out=out) if out is not None else expit(x)


def clip01(x):
    return np.clip(x, 0.0, 1.0)


def relax(x, base, half_life):
    """One day of exponential return of ``x`` to ``base`` with the given half-life in days."""
    # np.exp2, not Python's **: a ufunc gives the same bits for scalars and arrays (pow does not).
    return base + (x - base) * np.exp2(-1.0 / half_life)


def daily_hazard(rate, exposure):
    """Probability of at least one event today from a Poisson rate times exposure."""
    return -np.expm1(-rate * exposure)


# ----------------------------------------------------------------------------- patron (step 2)


def independence(mean_independence, offset):
    """A militia's independence: the camp's mean plus its own offset, kept in [0, 1]."""
    return clip01(mean_independence + offset)


def leverage(present, influence, loyalty, independence_):
    """Patron's leverage over a militia: influence x loyalty x (1 - independence) (Salehyan's slack)."""
    return present * influence * loyalty * (1.0 - independence_)


def patron_decides(present, intervenes, attention, cooldown, tension, salient, forced, trigger, cost):
    """Intervene today? Forced (replayed) visits always happen while the patron exists and
    intervenes at all; otherwise it needs attention and either tension above trigger with no
    cooldown, or a salient event, which overrides the cooldown (¶2: within hours of the attack)."""
    wants = ((tension > trigger) & (cooldown <= 0)) | salient
    able = attention >= cost
    return present & intervenes & (forced | (wants & able))


def target_mask(score, k, axis: int = 1):
    """True for the ``k`` highest scores along ``axis`` (ties go to the lower militia index)."""
    order = np.argsort(-score, axis=axis, kind="stable")
    rank = np.argsort(order, axis=axis, kind="stable")
    return rank < k


def militia_score(active_share, grievance):
    """How pressing a militia looks to the patron: yesterday's activity plus grievance."""
    return active_share + grievance


def intervene(grievance, discipline, pressure, lam, targeted, grievance_effect, discipline_effect):
    """Effect of an intervention on targeted militias: grievance down, discipline up, pressure reset."""
    g = np.where(targeted, clip01(grievance - lam * grievance_effect), grievance)
    d = np.where(targeted, clip01(discipline + lam * discipline_effect), discipline)
    p = np.where(targeted, 1.0, pressure)
    return g, d, p


def attention_after(attention, intervened, cost, recovery, distraction):
    """Attention spent by an intervention, then refilled at a rate cut by distraction."""
    spent = np.maximum(attention - cost * intervened, 0.0)
    return np.minimum(spent + recovery * (1.0 - distraction), 1.0)


def drift_independence(independence_, rate):
    """Independence creeps towards 1 as militias gain revenue and posts (¶17-18)."""
    return independence_ + rate * (1.0 - independence_)


def cooldown_after(cooldown, intervened, cooldown_days):
    return np.where(intervened, cooldown_days, np.maximum(cooldown - 1, 0))


# ----------------------------------------------------------------------------- leaders (step 3)


def contest_probability(grievance, lam, pressure, threshold, tau):
    """Leader contests with probability sigmoid((g - lambda * pressure - c) / tau)."""
    return sigmoid((grievance - lam * pressure - threshold) / tau)


def leader_contests(u, p_contest, order_days):
    """A leader under a stand-down order restrains whatever its grievance."""
    return (u < p_contest) & (order_days <= 0)


# ----------------------------------------------------------------------------- cells (step 4, Epstein 2002)


def cell_grievance(leader_grievance, offset):
    return clip01(leader_grievance + offset)


def expected_cost(k, capacity, active_share_prev):
    """Epstein's arrest probability P = 1 - exp(-k C / A), with A = 1 + yesterday's active share."""
    return -np.expm1(-k * capacity / (1.0 + active_share_prev))


def restraint(contests, discipline, contest_boost):
    """What the leader adds to a cell's threshold: discipline if restraining, -boost if contesting."""
    return np.where(contests, -contest_boost, discipline)


def activation_probability(g_cell, risk, cost, restraint_, threshold, tau):
    """Smoothed Epstein rule: act with probability sigmoid((G - R P - (restraint + T)) / tau).
    Written so that only one full-size temporary is made (the vector core's hot path)."""
    bias = restraint_ + threshold  # per militia: small
    x = np.multiply(risk, cost)
    if isinstance(x, np.ndarray) and x.shape == np.broadcast_shapes(np.shape(g_cell), x.shape, np.shape(bias)):
        np.subtract(g_cell, x, out=x)
        np.subtract(x, bias, out=x)
        np.divide(x, tau, out=x)
        return sigmoid(x, out=x)
    return sigmoid((g_cell - x - bias) / tau)


def active_share(active, axis: int = -1):
    """Share of cells active, from an exact integer count."""
    n = active.shape[axis]
    return np.count_nonzero(active, axis=axis, keepdims=True) / n


def camp_violence(active):
    """Pro-Iran camp's violence: share of all its cells active today (exact integer count).
    ``active`` is (R, militias, cells)."""
    return np.count_nonzero(active, axis=(1, 2), keepdims=True) / (active.shape[1] * active.shape[2])


def within_cohesion(contests, share):
    """Share of a militia's cells that follow its leader's stance today."""
    return np.where(contests, share, 1.0 - share)


# ----------------------------------------------------------------------------- outcomes (step 5)


def after_retaliation(grievance, hostility, retaliated, grievance_effect, hostility_effect):
    g = np.where(retaliated, clip01(grievance + grievance_effect), grievance)
    h = np.where(retaliated, clip01(hostility + hostility_effect), hostility)
    return g, h


# ----------------------------------------------------------------------------- Sadr's bloc (step 6)


def boycott_probability(grievance, threshold, tau):
    return sigmoid((grievance - threshold) / tau)


def return_probability(grievance, threshold, tau):
    return sigmoid((threshold - grievance) / tau)


def participation_after(participating, u, grievance, boycott_threshold, return_threshold, tau):
    """Participating blocs may walk out when grievance is high; boycotting ones return when it is low."""
    walks_out = u < boycott_probability(grievance, boycott_threshold, tau)
    returns = u < return_probability(grievance, return_threshold, tau)
    return np.where(participating, ~walks_out, returns)


def mobilisation_target(grievance, discipline):
    """Where a bloc's armed wing heads: a disciplined single leader keeps it home until grievance
    passes discipline / 2, then it rises linearly to full mobilisation at grievance 1 (¶38)."""
    floor = discipline / 2.0
    return clip01((grievance - floor) / (1.0 - floor))


def mobilisation_after(mobilisation, grievance, discipline, rate, order_days=0):
    """The armed wing's mobilisation moves towards its target at a daily rate; while the
    leader's stand-down order holds, the target is zero."""
    target = np.where(order_days > 0, 0.0, mobilisation_target(grievance, discipline))
    return mobilisation + rate * (target - mobilisation)


def sadr_baseline(participating, base, commitment):
    """Grievance baseline: ordinary while in politics, the (higher) commitment while boycotting."""
    return np.where(participating, base, np.maximum(base, commitment))


def mediated(grievance, credibility, effect):
    """Mediation lowers grievance by effect x credibility (credibility in [0, 1])."""
    return clip01(grievance - effect * clip01(credibility))


# ----------------------------------------------------------------------------- clash and escalation (step 7)


def clash_hazard(kappa, violence, mobilisation):
    """Daily probability of an intra-Shi'ite clash: 1 - exp(-kappa v m)."""
    return daily_hazard(kappa, violence * mobilisation)


def tension(violence, mobilisation, rivalry):
    """The patron's reading of the house: mean of pro-Iran violence, Sadrist mobilisation, rivalry."""
    return (violence + mobilisation + rivalry) / 3.0


def election_grievance(seats_before, seats_after, shock):
    """Grievance change from an election: + shock x share lost; - shock/2 x share gained."""
    change = (seats_after - seats_before) / max(seats_before, 1)
    return -shock * change if change < 0 else -0.5 * shock * change
