"""The behavioural rules, written once as pure functions of state arrays and parameters.
Inputs broadcast: Mesa agents pass their own scalars, the vector core (replicates, militias, cells) arrays."""

from __future__ import annotations

import numpy as np
from scipy import special
from scipy.special import expit

# ----------------------------------------------------------------------------- helpers
# The compiled engine (sim/engines/compiled.py) compiles these same functions with numba for scalars; it
# supplies scalar versions of the helpers below (same bits): sigmoid, clip01, where, expm1 and exp2.


def where(cond, a, b):
    """np.where; a helper so that the compiled engine can give scalars a scalar (numba's np.where makes a 0-d array)."""
    return np.where(cond, a, b)


def expm1(x):
    """exp(x) - 1 from scipy's cephes: one C function on every CPU, which the compiled engine calls too.
    numpy's own np.expm1 picks a SIMD version by CPU (AVX-512 or not), so its last bit differs between machines."""
    return special.expm1(x)


def exp2(x):
    """2**x from scipy's cephes, for the same reason as expm1 (numpy's np.exp2 is CPU-dispatched too)."""
    return special.exp2(x)


def sigmoid(x, out=None):
    """Logistic function (scipy's expit: stable for large |x|, elementwise)."""
    return expit(x, out=out) if out is not None else expit(x)


def clip01(x):
    return np.clip(x, 0.0, 1.0)


def relax(x, base, half_life):
    """One day of exponential return of ``x`` to ``base`` with the given half-life in days."""
    return relax_by(x, base, decay(half_life))


def decay(half_life):
    """The share of a deviation left after one day, for a half-life in days (the compiled engine computes it
    once per run and calls relax_by each day)."""
    # exp2, not Python's **: a ufunc gives the same bits for scalars and arrays (pow does not).
    return exp2(-1.0 / half_life)


def relax_by(x, base, factor):
    return base + (x - base) * factor


def us_exposure(share, hostility, front, truce, compliance):
    """A militia's exposure to attacking US forces today: its hostility times its activity, where a
    standing front (a share ``front`` of its capacity: the named front groups) acts whatever its mass of
    cells does, and a truce in force (``truce`` 1) holds back a share ``compliance`` of it."""
    return hostility * (front + (1.0 - front) * share) * (1.0 - compliance * truce)


def daily_hazard(rate, exposure):
    """Probability of at least one event today from a Poisson rate times exposure."""
    return -expm1(-rate * exposure)


# ----------------------------------------------------------------------------- patron (step 2)


def independence(mean_independence, offset):
    """A militia's independence: the camp's mean plus its own offset, kept in [0, 1]."""
    return clip01(mean_independence + offset)


def leverage(present, influence, loyalty, independence_):
    """Patron's leverage over a militia: influence x loyalty x (1 - independence) (Salehyan's slack)."""
    return present * influence * loyalty * (1.0 - independence_)


def leverage_persuasion_coercion(present, influence, loyalty, independence_, coercion):
    """structure.leverage=coercion: the patron's leverage is the stronger of two levers. Persuasion, the
    commander's authority over a loyal client (influence x loyalty), does not need the client to depend on the
    patron; coercion, the threat to cut money and arms (coercion x (1 - independence)), works only as far as it
    does (Byman 2005; Berman and Lake 2019). Independence thus decides which lever works, not whether one does."""
    persuasion = influence * loyalty
    threat = coercion * (1.0 - independence_)
    return present * where(threat > persuasion, threat, persuasion)


def coerces(influence, loyalty, independence_, coercion):
    """structure.leverage=coercion: whether the coercive lever is the stronger one (then a visit berates)."""
    return coercion * (1.0 - independence_) > influence * loyalty


def berated(grievance, targeted, coerced, independence_, coercion, backlash):
    """structure.leverage=coercion: a leader coerced at a visit resents it (¶6): grievance rises by
    backlash x the coercive lever used."""
    return where(targeted & coerced, clip01(grievance + backlash * coercion * (1.0 - independence_)), grievance)


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
    g = where(targeted, clip01(grievance - lam * grievance_effect), grievance)
    d = where(targeted, clip01(discipline + lam * discipline_effect), discipline)
    p = where(targeted, 1.0, pressure)
    return g, d, p


def calm_bought(store, change, share):
    """structure.relapse=beardsley: the calm a visit bought under pressure (``change``: the grievance it removed
    or the legitimacy it added), of which ``share`` rests on the pressure alone, added to the militia's store."""
    return store + share * change


def calm_released(store, decay_factor):
    """structure.relapse=beardsley: the part of the stored calm that lapses today, as the pressure fades by the
    same daily factor (rules.decay(pressure_half_life)): store - store x factor. What remains then shrinks with
    the grievance's own drift (rules.relax towards 0 at grievance_half_life), which returns that share anyway,
    so that nothing is returned twice."""
    return store - relax_by(store, 0.0, decay_factor)


def relapsed(x, released):
    """structure.relapse=beardsley: grievance (or, with a negative ``released``, legitimacy) as the calm lapses."""
    return clip01(x + released)


def attention_after(attention, intervened, cost, recovery, distraction):
    """Attention spent by an intervention, then refilled at a rate cut by distraction."""
    spent = np.maximum(attention - cost * intervened, 0.0)
    return np.minimum(spent + recovery * (1.0 - distraction), 1.0)


def drift_independence(independence_, rate):
    """Independence creeps towards 1 as militias gain revenue and posts (¶17-18)."""
    return independence_ + rate * (1.0 - independence_)


def cooldown_after(cooldown, intervened, cooldown_days):
    return where(intervened, cooldown_days, np.maximum(cooldown - 1, 0))


# ----------------------------------------------------------------------------- leaders (step 3)


def contest_probability(grievance, lam, pressure, standing, contested, threshold, tau, hysteresis):
    """Leader contests with probability sigmoid((g - lambda (standing + pressure) - c + h contested) / tau).

    Leverage restrains every day (``standing``: funding, arms, advisers; Salehyan 2010) and more so
    while a visit's ``pressure`` lasts (Beardsley 2008). A leader already refusing the results needs
    its grievance to fall ``hysteresis`` below the threshold to back down: a refusal is a position
    held for days (¶3, ¶22), not a daily coin toss."""
    return sigmoid((grievance - lam * (standing + pressure) - threshold + hysteresis * contested) / tau)


def leader_contests(u, p_contest, order_days):
    """A leader under a stand-down order restrains whatever its grievance."""
    return (u < p_contest) & (order_days <= 0)


# ----------------------------------------------------------------------------- cells (step 4, Epstein 2002)


def cell_grievance(leader_grievance, offset):
    return clip01(leader_grievance + offset)


def expected_cost(k, capacity, active_share_prev, n_cells):
    """Epstein's arrest probability P = 1 - exp(-k C / A) for a cell that sees its whole militia:
    C = capacity x n cells' worth of state forces, A = 1 + the n x yesterday's-share active cells
    (the cell itself included), so C / A = capacity / (1 / n + share). Safety in numbers: the more
    acted yesterday, the lower today's cost (P is about 0.9 where forces equal actives, at k = 2.3)."""
    return -expm1(-k * capacity / (1.0 / n_cells + active_share_prev))


def restraint(contests, discipline, contest_boost):
    """What the leader adds to a cell's threshold: discipline if restraining, -boost if contesting."""
    return where(contests, -contest_boost, discipline)


def relayed_restraint(felt, target, discipline):
    """The restraint a militia's cells feel moves towards what their leader's stance asks by the share
    ``discipline`` each day: the word reaches tightly tied cells first (Staniland 2014, vertical ties),
    so a fragmented militia takes days to stand down or to rise, where Sadr's wing does so at once."""
    return felt + discipline * (target - felt)


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
    return activation_formula(g_cell, x, bias, tau)


def activation_formula(g_cell, risk_cost, bias, tau):
    """activation_probability for scalars, with risk x cost and restraint + threshold already formed (the
    array path above does the same operations in place)."""
    return sigmoid(activation_net(g_cell, risk_cost, bias, tau))


def activation_net(g_cell, risk_cost, bias, tau):
    """The logistic's argument in the activation rule (the compiled engine calls it per cell)."""
    return (g_cell - risk_cost - bias) / tau


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
    return where(contests, share, 1.0 - share)


# ----------------------------------------------------------------------------- outcomes (step 5)


def epstein_grievance(hardship, legitimacy, legitimacy_base):
    """structure.grievance=legitimacy: Epstein's (2002) grievance G = H (1 - L), with hardship measured in units
    of (1 - legitimacy_base), so that at the baseline legitimacy grievance is the hardship itself (and the
    declared baselines keep their meaning): clip01(H x ((1 - L) / (1 - L0)))."""
    return clip01(hardship * ((1.0 - legitimacy) / (1.0 - legitimacy_base)))


def legitimised(legitimacy, lam, targeted, effect):
    """structure.grievance=legitimacy: a visit's message to accept the result (¶3-4) raises a targeted militia's
    legitimacy by leverage x effect (in place of lowering its grievance directly)."""
    return where(targeted, clip01(legitimacy + lam * effect), legitimacy)


def after_retaliation(grievance, hostility, retaliated, grievance_effect, hostility_effect):
    g = where(retaliated, clip01(grievance + grievance_effect), grievance)
    h = where(retaliated, clip01(hostility + hostility_effect), hostility)
    return g, h


def after_attacks(x, n_attacks, per_attack):
    """Sadr's grievance or the rivalry after today's attacks on the state (the PM is Sadr's ally, ¶5)."""
    return clip01(x + per_attack * n_attacks)


# ----------------------------------------------------------------------------- Sadr's bloc (step 6)


def boycott_probability(grievance, threshold, tau):
    return sigmoid((grievance - threshold) / tau)


def return_probability(grievance, threshold, tau):
    return sigmoid((threshold - grievance) / tau)


def participation_after(participating, u_walk, u_return, grievance, commitment, stake, boycott_threshold,
                        return_threshold, tau):
    """Participating blocs walk out when grievance is high; boycotting ones return when grievance
    plus the commitment they made in walking out (the cost of climbing down, ¶34, ¶36) is low.
    ``u_walk`` and ``u_return`` are the run's fixed draws: with them the decision is deterministic
    (u < sigmoid((g - c) / tau) is g > c + tau logit(u): a threshold drawn once per run)."""
    walks_out = u_walk < boycott_probability(grievance - stake, boycott_threshold, tau)
    returns = u_return < return_probability(grievance + commitment, return_threshold, tau)
    return where(participating, ~walks_out, returns)


def commitment_after(participating_before, participating_after, commitment, boycott_commitment):
    """A walk-out commits the bloc publicly (the commitment is set); a return ends the commitment."""
    walked_out = participating_before & ~participating_after
    returned = ~participating_before & participating_after
    return where(walked_out, boycott_commitment, where(returned, 0.0, commitment))


def refusing_share(contests, axis: int = 1):
    """Share of the militia leaders refusing the results today (an exact integer count)."""
    n = np.shape(contests)[axis]
    return np.count_nonzero(contests, axis=axis, keepdims=True) / n


def sadr_threat(grievance, refusing, violence, rivalry, rivalry_base, w_refusal, w_violence, w_rivalry):
    """The threat Sadr's movement reads, on the grievance scale: its own grievance plus Richardson's
    reaction terms to the other camp, the share of militia leaders refusing the results (¶3, ¶22),
    their camp's violence (¶2, ¶5) and the rivalry above its baseline (¶24, ¶28). Additive, so that
    switching one route off (its weight 0) leaves the others as they were."""
    return grievance + w_refusal * refusing + w_violence * violence + w_rivalry * (rivalry - rivalry_base)


def militia_excess(grievance, baseline, axis: int = 1):
    """The militias' mean grievance above their baselines: sum over militias, left to right, then / M (the
    compiled engine sums in the same order). ``grievance``, ``baseline``: (R, M, 1) arrays (or (1, M, 1))."""
    diff = np.asarray(grievance) - np.asarray(baseline)
    n = diff.shape[axis]
    total = np.take(diff, [0], axis=axis)
    for j in range(1, n):
        total = total + np.take(diff, [j], axis=axis)
    return total / n


def richardson_threat(threat, excess, reaction):
    """structure.reaction=richardson: Sadr's threat also reads the militias' standing hostility, their mean
    grievance above its baseline (Richardson's k y: each side arms in answer to the other's arms)."""
    return threat + reaction * excess


def militia_reaction(grievance, mobilisation, reaction):
    """structure.reaction=richardson: each militia's grievance answers Sadr's mobilised wing every day
    (Richardson's l x), before the day's drift (its fatigue)."""
    return clip01(grievance + reaction * mobilisation)


def mobilisation_target(threat, threshold, tau):
    """The share of the armed wing whose own threshold today's threat passes: members' thresholds spread
    logistically around ``threshold`` with scale ``tau`` (Granovetter 1978; Epstein's threshold made
    stochastic), so the wing answers threat smoothly, with no hard floor below which nothing moves.
    A boycott is a political act: its commitment does not arm anyone (¶34-38)."""
    return sigmoid((threat - threshold) / tau)


def cascade_target(threat, share_out, peer_weight, threshold, tau):
    """structure.mobilisation=cascade: Granovetter's (1978) threshold model. A member goes out when the share of
    the wing already out, plus the threat he reads, passes his own threshold: members' thresholds spread
    logistically around ``threshold`` with scale ``tau`` on the threat scale, and each share of the wing out
    counts as ``peer_weight`` of threat (safety and pressure in numbers). In the share-out units of
    Granovetter, member i's threshold is (T_i - threat) / peer_weight: logistic, mean
    (threshold - threat) / peer_weight, scale tau / peer_weight. Its fixed points m = target(m) are the
    cascade's equilibria; with peer_weight 0 this is the dose-response of mobilisation_target."""
    return sigmoid((threat + peer_weight * share_out - threshold) / tau)


def mobilisation_after(mobilisation, target, rate, order_days=0):
    """The armed wing's mobilisation moves towards its target at a daily rate; while the
    leader's stand-down order holds, the target is zero."""
    target = where(order_days > 0, 0.0, target)
    return mobilisation + rate * (target - mobilisation)


def stood_down(mobilisation, discipline):
    """A single leader's stand-down order: the disciplined share of the armed wing goes home at once."""
    return mobilisation * (1.0 - discipline)


def sadr_restrains(u, clash, restraint):
    """After a clash day Sadr orders his armed wing home with probability ``restraint``: a single
    leader who returned to politics "to avoid an escalation" (¶38) can halt his own side (Staniland
    2014: an integrated organisation's leader controls its fighters)."""
    return clash & (u < restraint)


def mediator_credibility(involvements, credibilities):
    """How credible a mediation is with its addressee: each mediator persuades independently with
    probability involvement x credibility ("noisy or"), so two channels beat one and the result
    stays in [0, 1]. Kydd (2003): a mediator biased against the addressee has low credibility."""
    doubt = 1.0
    for w, c in zip(involvements, credibilities, strict=True):
        doubt = doubt * (1.0 - clip01(w) * clip01(c))
    return 1.0 - doubt


def mediated(grievance, credibility, effect):
    """Mediation lowers grievance by effect x credibility (credibility in [0, 1])."""
    return clip01(grievance - effect * clip01(credibility))


# ----------------------------------------------------------------------------- clash and escalation (step 7)


def clash_hazard(kappa, violence, mobilisation):
    """Daily probability of an intra-Shi'ite clash: 1 - exp(-kappa v m)."""
    return daily_hazard(kappa, violence * mobilisation)


def clash_hazard_interposed(encounter_rate, violence, mobilisation, arrest_k, capacity, n_cells):
    """structure.clash=epstein_ii: Epstein's (2002) Model II in the mean field. Active members of the two camps
    (the share ``violence`` of the militias' cells, the share ``mobilisation`` of Sadr's wing) meet at rate
    encounter_rate x v x m (mass action: random movement on the lattice); the state's forces stand between
    them as Model II's peacekeepers and interdict an encounter with Epstein's arrest probability, computed with
    both camps' actives in view: P = 1 - exp(-k C / A), C / A = capacity / (1 / n + v + m). An encounter that
    gets through is a clash: hazard = 1 - exp(-encounter_rate v m (1 - P))."""
    interdicted = expected_cost(arrest_k, capacity, violence + mobilisation, n_cells)
    return daily_hazard(encounter_rate, violence * mobilisation * (1.0 - interdicted))


def clashes_within(ago, window, needed, axis: int = -1):
    """Whether at least ``needed`` clash-days fall within the last ``window`` days (today included),
    given how many days ago each remembered clash-day was."""
    return np.count_nonzero(np.asarray(ago) < window, axis=axis, keepdims=True) >= needed


def after_clash(x, clash, rise):
    """A clash feeds the spiral (¶7, ¶12; Richardson): grievance or rivalry rises on a clash day."""
    return where(clash, clip01(x + rise), x)


def tension(violence, mobilisation, rivalry, w_violence, w_mobilisation, w_rivalry):
    """The patron's reading of the house: a weighted mean of pro-Iran violence, Sadrist mobilisation
    and rivalry, each something the patron is said to fear (¶7, ¶12, ¶24, ¶36)."""
    total = w_violence + w_mobilisation + w_rivalry
    return (w_violence * violence + w_mobilisation * mobilisation + w_rivalry * rivalry) / total


def election_grievance(seats_before, seats_after, shock, gain_relief):
    """Grievance change from an election: + shock x share of seats lost; a gain removes only
    ``gain_relief`` as much per share gained (losses loom larger than gains: loss aversion)."""
    change = (seats_after - seats_before) / max(seats_before, 1)
    return -shock * change if change < 0 else -gain_relief * shock * change
