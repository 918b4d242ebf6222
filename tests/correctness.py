"""Code correctness checks that run on the model and on every broken variant (tests/test_correctness.py,
tests/test_mutations.py): known values of every rule and event, the calendar, the militia table, and invariants.

Each check takes a Runner (tests/patterns.py) and returns an Outcome. Known values are worked out by hand from the
formulas in docs/ODD.md section 7 (math here, never the code under test). The invariants tie the engine's run
record to its daily record and each day's state to the rules (called through sim.model.rules, so a broken rule is
the rule checks' business and a broken engine line the invariants'), at a PROBE point drawn from the priors, where
no two weights are equal, so that an exchanged pair of values cannot hide behind equal defaults. A check that finds
nothing to check (no clash in the runs, say) passes and says so: it kills nothing it did not see."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence

import numpy as np
from patterns import MILITIA_KEYS, Outcome, Runner, day_of, with_event

from sim.engines import vector
from sim.model import keyed_random as kr
from sim.model import outcomes, priors, rules
from sim.model.params import MILITIA_FIELDS, MILITIAS, make_militias, make_params
from sim.model.scenario import Scenario, load_scenario
from sim.model.state import clash_window, initial_state, point_arrays
from sim.model.structures import Structure, from_codes

PROBE_SEED = 2025  # the prior draw the invariants run at (priors.sample(1, PROBE_SEED))
PROBE_RUNS = 200
TOL = 1e-12


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _close(got, expected, tol: float = 1e-9) -> bool:
    try:
        return bool(np.allclose(np.asarray(got, dtype=float), np.asarray(expected, dtype=float), atol=tol, rtol=0))
    except (TypeError, ValueError):
        return bool(np.array_equal(np.asarray(got, dtype=object), np.asarray(expected, dtype=object)))


def known(*cases: tuple[str, object, object]) -> Outcome:
    """(label, got, expected) cases: passes when every one agrees; the detail names those that do not."""
    bad = [f"{label}: got {np.asarray(got).ravel()[:4]}, expected {np.asarray(expected).ravel()[:4]}"
           for label, got, expected in cases if not _close(got, expected)]  # fmt: skip
    return Outcome(not bad, "; ".join(bad) if bad else f"{len(cases)} known values")


# ----------------------------------------------------------------------------- rules: known values (ODD 7.2-7.16)


def rule_helpers(r: Runner) -> Outcome:
    return known(("sigmoid(0)", rules.sigmoid(0.0), 0.5), ("sigmoid(2)", rules.sigmoid(2.0), sig(2.0)),
                 ("clip01(-1)", rules.clip01(-1.0), 0.0), ("clip01(2)", rules.clip01(2.0), 1.0),
                 ("expm1(0.3)", rules.expm1(0.3), math.expm1(0.3)), ("exp2(-0.5)", rules.exp2(-0.5), 2**-0.5),
                 ("where", rules.where(np.array([True, False]), 1.0, 2.0), [1.0, 2.0]),
                 ("decay(60)", rules.decay(60.0), 2 ** (-1 / 60)),
                 ("relax(0.9, 0.3, 60)", rules.relax(0.9, 0.3, 60.0), 0.3 + 0.6 * 2 ** (-1 / 60)),
                 ("relax(0.1, 0.3, 10)", rules.relax(0.1, 0.3, 10.0), 0.3 - 0.2 * 2 ** (-1 / 10)),
                 ("relax_by", rules.relax_by(0.9, 0.3, 0.5), 0.6))  # fmt: skip


def rule_independence_and_leverage(r: Runner) -> Outcome:
    """7.2: independence = clip01(mean + offset); leverage = influence x loyalty x (1 - independence)."""
    return known(("independence(0.45, 0.15)", rules.independence(0.45, 0.15), 0.6),
                 ("independence(0.45, -0.15)", rules.independence(0.45, -0.15), 0.3),
                 ("independence clipped", rules.independence(0.9, 0.2), 1.0),
                 ("leverage(0.5, 0.8, 0.3)", rules.leverage(True, 0.5, 0.8, 0.3), 0.5 * 0.8 * 0.7),
                 ("leverage(0.7, 0.6, 0.2)", rules.leverage(True, 0.7, 0.6, 0.2), 0.7 * 0.6 * 0.8),
                 ("leverage without a patron", rules.leverage(False, 0.5, 0.8, 0.3), 0.0),
                 ("drift(0.6, 0.01)", rules.drift_independence(0.6, 0.01), 0.604))  # fmt: skip


def rule_leverage_coercion(r: Runner) -> Outcome:
    """7.2.1 (structure.leverage=coercion): leverage is the stronger of persuasion (influence x loyalty) and
    coercion (strength x (1 - independence)); a leader is coerced when the threat is the stronger lever, and a
    coerced leader's grievance rises by backlash x strength x (1 - independence)."""
    return known(("threat stronger", rules.leverage_persuasion_coercion(True, 0.5, 0.8, 0.3, 0.6), 0.6 * 0.7),
                 ("persuasion stronger", rules.leverage_persuasion_coercion(True, 0.5, 0.8, 0.5, 0.6), 0.4),
                 ("no patron", rules.leverage_persuasion_coercion(False, 0.5, 0.8, 0.3, 0.6), 0.0),
                 ("coerced", rules.coerces(0.5, 0.8, 0.3, 0.6), True),
                 ("persuaded", rules.coerces(0.5, 0.8, 0.5, 0.6), False),
                 ("berated", rules.berated(0.5, True, True, 0.3, 0.6, 0.15), 0.5 + 0.15 * 0.6 * 0.7),
                 ("not visited", rules.berated(0.5, False, True, 0.3, 0.6, 0.15), 0.5),
                 ("persuaded, not berated", rules.berated(0.5, True, False, 0.3, 0.6, 0.15), 0.5),
                 ("berated, clipped", rules.berated(0.99, True, True, 0.0, 1.0, 0.5), 1.0))  # fmt: skip


def rule_reaction_richardson(r: Runner) -> Outcome:
    """7.12.1 (structure.reaction=richardson): the militias' excess is their mean grievance above their baselines;
    Sadr's threat adds reaction x excess (Richardson's k y); each militia's grievance adds reaction x Sadr's
    mobilisation (Richardson's l x), clipped to [0, 1]."""
    g = np.array([0.5, 0.3, 0.2, 0.9]).reshape(1, 4, 1)
    base = np.array([0.4, 0.4, 0.1, 0.5]).reshape(1, 4, 1)
    return known(("excess", rules.militia_excess(g, base), (0.1 - 0.1 + 0.1 + 0.4) / 4),
                 ("excess below the baselines", rules.militia_excess(base - 0.2, base), -0.2),
                 ("Sadr's threat", rules.richardson_threat(0.3, 0.1, 0.25), 0.325),
                 ("Sadr's threat, militias calm", rules.richardson_threat(0.3, -0.1, 0.25), 0.275),
                 ("militias' reaction", rules.militia_reaction(0.5, 0.4, 0.05), 0.52),
                 ("reaction clipped", rules.militia_reaction(0.99, 1.0, 0.05), 1.0))  # fmt: skip


def rule_mobilisation_cascade(r: Runner) -> Outcome:
    """7.12.2 (structure.mobilisation=cascade): the share whose threshold is passed by threat + peer_weight x the
    share already out: sigmoid((threat + w m - threshold) / tau); with w = 0 the dose-response."""
    return known(("cascade", rules.cascade_target(0.4, 0.6, 0.5, 0.65, 0.075), sig((0.4 + 0.3 - 0.65) / 0.075)),
                 ("nobody out yet", rules.cascade_target(0.5, 0.0, 2.0, 0.65, 0.1), sig(-1.5)),
                 ("all out", rules.cascade_target(0.1, 1.0, 2.0, 0.65, 0.1), sig((0.1 + 2.0 - 0.65) / 0.1)),
                 ("no peers", rules.cascade_target(0.7, 0.9, 0.0, 0.65, 0.075), sig(0.05 / 0.075)))  # fmt: skip


def rule_clash_epstein_ii(r: Runner) -> Outcome:
    """7.13.1 (structure.clash=epstein_ii): encounters at rate x v x m, each interdicted with Epstein's
    P = 1 - exp(-k C / (1/n + v + m)); hazard 1 - exp(-rate v m (1 - P))."""
    through = math.exp(-2.3 * 0.35 / (0.1 + 0.2 + 0.3))
    return known(("interposed", rules.clash_hazard_interposed(3.0, 0.2, 0.3, 2.3, 0.35, 10),
                  1 - math.exp(-3.0 * 0.2 * 0.3 * through)),
                 ("no state forces", rules.clash_hazard_interposed(3.0, 0.2, 0.3, 2.3, 0.0, 10),
                  1 - math.exp(-3.0 * 0.2 * 0.3)),
                 ("one camp at home", rules.clash_hazard_interposed(3.0, 0.0, 0.3, 2.3, 0.35, 10), 0.0),
                 ("camps meet more", rules.clash_hazard_interposed(5.0, 0.4, 0.5, 1.0, 0.2, 20),
                  1 - math.exp(-5.0 * 0.4 * 0.5 * math.exp(-1.0 * 0.2 / (0.05 + 0.9)))))  # fmt: skip


def rule_grievance_legitimacy(r: Runner) -> Outcome:
    """7.15.1 (structure.grievance=legitimacy): grievance = clip01(H (1 - L) / (1 - L0)); a visit raises a
    targeted militia's legitimacy by leverage x effect, clipped."""
    return known(("H (1 - L)", rules.epstein_grievance(0.3, 0.2, 0.6), 0.3 * 0.8 / 0.4),
                 ("at the baseline legitimacy", rules.epstein_grievance(0.45, 0.6, 0.6), 0.45),
                 ("more legitimate", rules.epstein_grievance(0.5, 0.8, 0.6), 0.5 * 0.2 / 0.4),
                 ("clipped", rules.epstein_grievance(0.9, 0.0, 0.6), 1.0),
                 ("visited", rules.legitimised(0.5, 0.2, True, 0.25), 0.55),
                 ("not visited", rules.legitimised(0.5, 0.2, False, 0.25), 0.5),
                 ("legitimacy clipped", rules.legitimised(0.95, 1.0, True, 0.25), 1.0))  # fmt: skip


def rule_relapse_beardsley(r: Runner) -> Outcome:
    """7.4.1 (structure.relapse=beardsley): a visit adds share x its calm to the store; each day the store's part
    that lapses is store x (1 - 2^(-1/pressure_half_life)), added back to grievance (or taken from legitimacy),
    clipped to [0, 1]."""
    return known(("calm bought", rules.calm_bought(0.1, 0.2, 0.75), 0.25),
                 ("nothing bought", rules.calm_bought(0.1, 0.0, 0.75), 0.1),
                 ("released", rules.calm_released(0.2, rules.decay(10.0)), 0.2 * (1 - 2 ** (-1 / 10))),
                 ("released, long pressure", rules.calm_released(0.2, 2 ** (-1 / 40)), 0.2 * (1 - 2 ** (-1 / 40))),
                 ("relapsed", rules.relapsed(0.5, 0.1), 0.6),
                 ("relapsed, clipped", rules.relapsed(0.95, 0.1), 1.0),
                 ("legitimacy lost, clipped", rules.relapsed(0.3, -0.4), 0.0))  # fmt: skip


def rule_patron_decides(r: Runner) -> Outcome:
    """7.3: forced visits always (while the patron exists and intervenes); otherwise attention >= cost and either
    tension > trigger with no cooldown, or a salient day (which overrides the cooldown)."""
    def d(attention=0.5, cooldown=0, tension=0.6, salient=False, forced=False, present=True, intervenes=True):
        return bool(rules.patron_decides(present, intervenes, attention, cooldown, tension, salient, forced, 0.5, 0.4))

    return known(("tension over the trigger", d(), True), ("tension under it", d(tension=0.4), False),
                 ("tension at it", d(tension=0.5), False), ("in cooldown", d(cooldown=2), False),
                 ("salient in cooldown", d(cooldown=2, salient=True, tension=0.1), True),
                 ("salient without attention", d(attention=0.3, salient=True), False),
                 ("forced without attention", d(attention=0.0, forced=True), True),
                 ("no patron", d(present=False, forced=True), False),
                 ("patron that never intervenes", d(intervenes=False), False),
                 ("attention exactly the cost", d(attention=0.4), True))  # fmt: skip


def rule_targets(r: Runner) -> Outcome:
    """7.3: the k most pressing militias (activity + grievance), ties to the lower index."""
    return known(("k=2", rules.target_mask(np.array([[0.2, 0.9, 0.5, 0.1]]), 2), [[False, True, True, False]]),
                 ("k=3", rules.target_mask(np.array([[0.2, 0.9, 0.5, 0.1]]), 3), [[True, True, True, False]]),
                 ("ties", rules.target_mask(np.array([[0.5, 0.5, 0.5, 0.1]]), 2), [[True, True, False, False]]),
                 ("score", rules.militia_score(0.3, 0.45), 0.75),
                 ("score ranks activity", rules.militia_score(0.6, 0.1) > rules.militia_score(0.1, 0.5), True))


def rule_intervene(r: Runner) -> Outcome:
    """7.4: targeted: grievance - lam x effect, discipline + lam x effect (clipped), pressure 1; others untouched."""
    t = np.array([True, False])
    g, d, p = rules.intervene(np.array([0.6, 0.6]), np.array([0.5, 0.5]), np.array([0.2, 0.2]), 0.5, t, 0.2, 0.3)
    g2, d2, _ = rules.intervene(0.05, 0.9, 0.0, 0.5, True, 0.2, 0.3)
    return known(("grievance", g, [0.5, 0.6]), ("discipline", d, [0.65, 0.5]), ("pressure", p, [1.0, 0.2]),
                 ("grievance clipped", g2, 0.0), ("discipline clipped", d2, 1.0))  # fmt: skip


def rule_attention_and_cooldown(r: Runner) -> Outcome:
    """7.5: attention - cost x intervened (floor 0), + recovery x (1 - distraction) (cap 1); cooldown set, then
    counted down to 0."""
    return known(("spent", rules.attention_after(0.9, True, 0.4, 0.015, 0.2), 0.5 + 0.015 * 0.8),
                 ("floor", rules.attention_after(0.3, True, 0.4, 0.015, 0.2), 0.015 * 0.8),
                 ("refill", rules.attention_after(0.5, False, 0.4, 0.02, 0.5), 0.51),
                 ("cap", rules.attention_after(0.995, False, 0.4, 0.015, 0.2), 1.0),
                 ("cooldown set", rules.cooldown_after(3, True, 7), 7),
                 ("cooldown counts", rules.cooldown_after(3, False, 7), 2),
                 ("cooldown floor", rules.cooldown_after(0, False, 7), 0))  # fmt: skip


def rule_stance(r: Runner) -> Outcome:
    """7.6: sigmoid((g - lam (standing + pressure) - threshold + hysteresis x contested) / tau); under an order a
    leader never contests."""
    def p(contested):
        return rules.contest_probability(0.6, 0.2, 0.5, 0.3, contested, 0.5, 0.1, 0.1)

    return known(("contesting", p(True), sig((0.6 - 0.2 * 0.8 - 0.5 + 0.1) / 0.1)),
                 ("restraining", p(False), sig((0.6 - 0.2 * 0.8 - 0.5) / 0.1)),
                 ("draw under p", rules.leader_contests(0.3, 0.5, 0), True),
                 ("draw over p", rules.leader_contests(0.6, 0.5, 0), False),
                 ("under orders", rules.leader_contests(0.3, 0.5, 1), False))  # fmt: skip


def rule_cells(r: Runner) -> Outcome:
    """7.7: Epstein's cost 1 - exp(-k C / (1/n + share)); restraint (discipline, or -boost when contesting) relayed
    at the rate discipline; act with probability sigmoid((G - R P - restraint - T) / tau)."""
    arr_g = np.full((1, 2, 3), 0.6)
    arr = rules.activation_probability(arr_g, np.full((1, 2, 3), 0.4), np.full((1, 2, 3), 0.5),
                                       np.full((1, 2, 1), 0.2), 0.1, 0.05)  # fmt: skip
    return known(("cost", rules.expected_cost(2.3, 0.35, 0.1, 30), 1 - math.exp(-2.3 * 0.35 / (1 / 30 + 0.1))),
                 ("cost, nobody out", rules.expected_cost(2.3, 0.35, 0.0, 30), 1 - math.exp(-2.3 * 0.35 * 30)),
                 ("cell grievance", rules.cell_grievance(0.5, -0.2), 0.3),
                 ("cell grievance clipped", rules.cell_grievance(0.8, 0.3), 1.0),
                 ("restraint when contesting", rules.restraint(True, 0.6, 0.1), -0.1),
                 ("restraint when restraining", rules.restraint(False, 0.6, 0.1), 0.6),
                 ("relayed", rules.relayed_restraint(0.2, 0.6, 0.5), 0.4),
                 ("activation (scalar)", rules.activation_probability(0.6, 0.4, 0.5, 0.2, 0.1, 0.05),
                  sig((0.6 - 0.2 - 0.3) / 0.05)),
                 ("activation (array)", arr, np.full((1, 2, 3), sig((0.6 - 0.2 - 0.3) / 0.05))),
                 ("activation net", rules.activation_net(0.6, 0.2, 0.3, 0.05), 2.0),
                 ("activation formula", rules.activation_formula(0.6, 0.2, 0.3, 0.05), sig(2.0)))  # fmt: skip


def rule_counts(r: Runner) -> Outcome:
    """7.7, 7.12, 7.18: exact shares by count; cohesion follows the leader's stance."""
    active = np.array([[[True, False, True, False], [False, False, False, True]]])
    return known(("active share", rules.active_share(active), [[[0.5], [0.25]]]),
                 ("camp violence", rules.camp_violence(active), [[[3 / 8]]]),
                 ("refusing share", rules.refusing_share(np.array([[[True], [True], [False], [True]]])), [[[0.75]]]),
                 ("cohesion, contesting", rules.within_cohesion(True, 0.3), 0.3),
                 ("cohesion, restraining", rules.within_cohesion(False, 0.3), 0.7))  # fmt: skip


def rule_attacks(r: Runner) -> Outcome:
    """7.8-7.10: exposure = hostility x (front + (1 - front) share) x (1 - compliance x truce); P = 1 - exp(-rate x
    exposure); a US strike adds to grievance and hostility; attacks on the state add per attack."""
    g, h = rules.after_retaliation(0.5, 0.6, True, 0.15, 0.1)
    g0, h0 = rules.after_retaliation(0.5, 0.6, False, 0.15, 0.1)
    return known(("exposure in the truce", rules.us_exposure(0.5, 0.8, 0.4, 1.0, 0.825), 0.8 * 0.7 * 0.175),
                 ("exposure without it", rules.us_exposure(0.5, 0.8, 0.4, 0.0, 0.825), 0.8 * 0.7),
                 ("exposure of the front alone", rules.us_exposure(0.0, 0.5, 0.3, 0.0, 0.9), 0.15),
                 ("daily hazard", rules.daily_hazard(0.5, 0.4), 1 - math.exp(-0.2)),
                 ("strike: grievance", g, 0.65), ("strike: hostility", h, 0.7),
                 ("no strike", (g0, h0), (0.5, 0.6)),
                 ("after two attacks", rules.after_attacks(0.5, 2, 0.12), 0.74),
                 ("after attacks, clipped", rules.after_attacks(0.9, 1, 0.15), 1.0))  # fmt: skip


def rule_sadr_politics(r: Runner) -> Outcome:
    """7.11: walk out if u < sigmoid((g - stake - bt) / tau); return if u < sigmoid((rt - g - commitment) / tau);
    a walk-out sets the commitment, a return clears it."""
    def part(participating, u, g, commitment, stake):
        return bool(rules.participation_after(participating, u, u, g, commitment, stake, 0.55, 0.35, 0.05))

    return known(("boycott probability", rules.boycott_probability(0.6, 0.55, 0.05), sig(1.0)),
                 ("return probability", rules.return_probability(0.3, 0.35, 0.05), sig(1.0)),
                 ("the stake holds him", part(True, 0.3, 0.7, 0.0, 0.2), True),  # p = sig(-1) = 0.27
                 ("without it he walks", part(True, 0.3, 0.7, 0.0, 0.0), False),  # p = sig(3) = 0.95
                 ("the commitment holds him out", part(False, 0.4, 0.2, 0.225, 0.0), False),  # p = sig(-1.5)
                 ("without it he returns", part(False, 0.4, 0.2, 0.0, 0.0), True),  # p = sig(3)
                 ("walk-out commits", rules.commitment_after(True, False, 0.0, 0.225), 0.225),
                 ("return clears", rules.commitment_after(False, True, 0.225, 0.225), 0.0),
                 ("staying out keeps it", rules.commitment_after(False, False, 0.225, 0.3), 0.225))  # fmt: skip


def rule_mediation(r: Runner) -> Outcome:
    """7.1: noisy-or credibility 1 - prod(1 - involvement x credibility); grievance - effect x credibility."""
    return known(("two mediators", rules.mediator_credibility([1.0, 0.5], [0.35, 0.75]), 1 - 0.65 * 0.625),
                 ("one", rules.mediator_credibility([1.0], [0.35]), 0.35),
                 ("mediated", rules.mediated(0.6, 0.5, 0.3), 0.45),
                 ("mediated, clipped", rules.mediated(0.1, 1.0, 0.3), 0.0))  # fmt: skip


def rule_sadr_wing(r: Runner) -> Outcome:
    """7.12: threat = g + w_ref refusing + w_viol violence + w_riv (rivalry - base); target sigmoid((threat - T) /
    tau); moves at rate towards it (0 under an order); an order keeps 1 - discipline; a halt after a clash day."""
    threat = rules.sadr_threat(0.3, 0.5, 0.25, 0.45, 0.3, 0.05, 0.2, 0.4)
    return known(("threat", threat, 0.3 + 0.025 + 0.05 + 0.06),
                 ("threat below the rivalry's base", rules.sadr_threat(0.3, 0.0, 0.0, 0.2, 0.3, 0.05, 0.2, 0.4), 0.26),
                 ("target", rules.mobilisation_target(0.7, 0.65, 0.05), sig(1.0)),
                 ("moves", rules.mobilisation_after(0.2, 0.6, 0.25, 0), 0.3),
                 ("under an order", rules.mobilisation_after(0.2, 0.6, 0.25, 1), 0.15),
                 ("stood down", rules.stood_down(0.4, 0.85), 0.06),
                 ("halt drawn", rules.sadr_restrains(0.3, True, 0.5), True),
                 ("halt not drawn", rules.sadr_restrains(0.7, True, 0.5), False),
                 ("no halt without a clash", rules.sadr_restrains(0.3, False, 0.5), False))  # fmt: skip


def rule_clash(r: Runner) -> Outcome:
    """7.13-7.16: hazard 1 - exp(-kappa v m); clash-days within the window (today included); a clash adds; the
    patron's tension is the weighted mean."""
    ago = np.array([0, 5, 13, 14, 20])
    return known(("hazard", rules.clash_hazard(1.2, 0.4, 0.5), 1 - math.exp(-0.24)),
                 ("3 within 14", rules.clashes_within(ago, 14, 3), True),
                 ("4 within 14", rules.clashes_within(ago, 14, 4), False),
                 ("day 14 is outside", rules.clashes_within(np.array([0, 5, 14]), 14, 3), False),
                 ("after a clash", rules.after_clash(0.5, True, 0.1), 0.6),
                 ("no clash", rules.after_clash(0.5, False, 0.1), 0.5),
                 ("after a clash, clipped", rules.after_clash(0.95, True, 0.1), 1.0),
                 ("tension", rules.tension(0.2, 0.4, 0.6, 1.0, 2.0, 3.0), (0.2 + 0.8 + 1.8) / 6))  # fmt: skip


def rule_election(r: Runner) -> Outcome:
    """7.1: + shock x share of seats lost; a gain removes relief x shock x share gained."""
    return known(("Fatah's loss", rules.election_grievance(48.0, 17.0, 0.465, 0.44), 0.465 * 31 / 48),
                 ("Sadr's gain", rules.election_grievance(54.0, 73.0, 0.465, 0.44), -0.44 * 0.465 * 19 / 54),
                 ("no change", rules.election_grievance(20.0, 20.0, 0.5, 0.4), 0.0),
                 ("from no seats", rules.election_grievance(0.0, 5.0, 0.5, 0.4), -0.4 * 0.5 * 5))  # fmt: skip


def escalation_definition(r: Runner) -> Outcome:
    """7.14: escalated_by reads the definition off a clash series: 3 clash-days within 14 days (today included)."""
    def series(days, length=40):
        s = np.zeros((length, 1), dtype=bool)
        s[list(days), 0] = True
        return s

    return known(("days 0, 6, 13", outcomes.escalated_by(series([0, 6, 13]), 3, 14), [True]),
                 ("days 0, 7, 14", outcomes.escalated_by(series([0, 7, 14]), 3, 14), [False]),
                 ("two days", outcomes.escalated_by(series([3, 4]), 3, 14), [False]),
                 ("10 in 30", outcomes.escalated_by(series(range(0, 30, 3)), 10, 30), [True]),
                 ("10 in 31", outcomes.escalated_by(series([0, *range(6, 31, 3)]), 10, 30), [False]))  # fmt: skip


# ----------------------------------------------------------------------------- events, calendar, militia table


EVENT_POINT = {  # every magnitude distinct, so an exchanged pair shows
    "election_shock": 0.5, "election_gain_relief": 0.4, "election_rivalry": 0.08, "election_stake": 0.22,
    "attack_sadr_grievance": 0.17, "attack_rivalry": 0.12, "mediation_effect": 0.3, "patron_credibility_sadr": 0.35,
    "sistani_credibility": 0.75, "ratification_grievance": 0.11, "deadline_hostility": 0.21,
    "deadline_grievance": 0.06, "coalition_grievance": 0.09, "coalition_rivalry": 0.04, "boycott_commitment": 0.23,
    "sadr_discipline": 0.85, "order_days": 9, "sadr_grievance_base": 0.26, "rivalry_base": 0.31,
}  # fmt: skip


def _fresh(params: dict):
    pt = point_arrays([make_params(params)], [MILITIAS])
    s = initial_state(pt, np.uint64(1), np.arange(2), int(pt.cells_per_militia.max()), clash_window(pt))
    return pt, s


def _apply(ev, params: dict = EVENT_POINT):
    pt, s = _fresh(params)
    before = s.copy()
    vector.apply_events(s, (ev,), pt, MILITIAS)
    return before, s


def events_known_effects(r: Runner) -> Outcome:
    """7.1: each event kind's effect on a fresh state, at a point where every magnitude differs."""
    sc = load_scenario("seed_timeline")
    ev = {e.kind: e for e in sc.events if e.kind != "truce"}
    p = EVENT_POINT
    cases = []
    b, s = _apply(ev["election"])
    cases += [("election: Fatah's militias", s.grievance[0, :, 0], np.clip(0.3 + 0.5 * 31 / 48, 0, 1)),
              ("election: Sadr", s.sadr_grievance[0, 0, 0], 0.26 - 0.4 * 0.5 * 19 / 54),
              ("election: stake", s.sadr_stake[0, 0, 0], 0.22),
              ("election: rivalry", s.rivalry[0, 0, 0], 0.31 + 0.08)]
    b, s = _apply(ev["attack"])
    cases += [("attack: salient", bool(s.salient.all()), True), ("attack: Sadr", s.sadr_grievance[0, 0, 0], 0.43),
              ("attack: rivalry", s.rivalry[0, 0, 0], 0.43), ("attack: militias", s.grievance, b.grievance)]
    b, s = _apply(ev["boycott"])
    cases += [("boycott: out", bool(s.participating.any()), False), ("boycott: commits", s.commitment[0, 0, 0], 0.23)]
    b, s = _apply(ev["mediation"])
    cases += [("mediation", s.sadr_grievance[0, 0, 0], 0.26 - 0.3 * (1 - (1 - 0.35) * (1 - 0.75)))]
    b, s = _apply(ev["ratification"])
    cases += [("ratification: Fatah", s.grievance[0, :, 0], 0.41), ("ratification: rivalry", s.rivalry[0, 0, 0], 0.31)]
    b, s = _apply(ev["deadline"])
    hostility = [mm.hostility_us for mm in MILITIAS]
    cases += [("deadline: KSS's hostility", s.hostility_us[0, :, 0],
               [min(h + 0.21 * (k == "kss"), 1.0) for h, k in zip(hostility, MILITIA_KEYS, strict=True)]),
              ("deadline: KSS's grievance", s.grievance[0, :, 0], [0.3 + 0.06 * (k == "kss") for k in MILITIA_KEYS])]
    b, s = _apply(ev["coalition"])
    cases += [("coalition: Fatah", s.grievance[0, :, 0], 0.39), ("coalition: rivalry", s.rivalry[0, 0, 0], 0.35)]
    for e in sc.events:
        if e.kind == "truce":  # from the other state: a truce in force ends, none begins
            begins = e.data["phase"] == "begins"
            pt, s = _fresh(p)
            s.truce[...] = 0.0 if begins else 1.0
            vector.apply_events(s, (e,), pt, MILITIAS)
            cases.append((f"truce {e.data['phase']}", s.truce[0, 0, 0], 1.0 if begins else 0.0))
    orders = load_scenario("stand_down_orders")
    for e in orders.events:
        if e.kind == "order":
            pt, s = _fresh(p)
            s.mobilisation[...] = 0.4
            vector.apply_events(s, (e,), pt, MILITIAS)
            if e.data.get("actor", "sadr") == "sadr":
                cases += [("Sadr's order: wing", s.mobilisation[0, 0, 0], 0.4 * 0.15),
                          ("Sadr's order: days", s.sadr_order_days[0, 0, 0], 9),
                          ("Sadr's order: militias", s.order_days[0, :, 0], 0)]
            else:
                days = [9 * (k == e.data["actor"]) for k in MILITIA_KEYS]
                cases += [("militia's order: days", s.order_days[0, :, 0], days),
                          ("militia's order: Sadr", s.sadr_order_days[0, 0, 0], 0)]
    shocked = with_event(load_scenario("boycott_mediation"), day=3, kind="shock", label="busy",
                         data={"actor": "patron", "variable": "attention", "delta": -0.6})  # fmt: skip
    b, s = _apply(next(e for e in shocked.events if e.kind == "shock"))
    cases.append(("shock: attention", s.attention[0, 0, 0], 0.4))
    grieved = with_event(load_scenario("boycott_mediation"), day=3, kind="shock", label="angry",
                         data={"actor": "aah", "variable": "grievance", "delta": 0.2})  # fmt: skip
    b, s = _apply(next(e for e in grieved.events if e.kind == "shock"))
    cases.append(("shock: AAH's grievance", s.grievance[0, :, 0], [0.3 + 0.2 * (k == "aah") for k in MILITIA_KEYS]))
    return known(*cases)


def calendar(r: Runner) -> Outcome:
    """The scenarios' calendar: days counted from the start, both ends included, and each day's events those
    dated on it (record_2021: 1 January 2021 is day 0, the election on 10 October is day 282, 396 days in all)."""
    cases = []
    for name, days in (("seed_timeline", 215), ("record_2021", 396)):
        sc = load_scenario(name)
        cases.append((f"{name}: days", sc.days, days))
        for e in sc.events:
            cases.append((f"{name}: {e.kind} on day {e.day}", e.day, (e.date - sc.start).days))
        listed = [sorted(i for i, e in enumerate(sc.events) if e in sc.events_on(t)) for t in range(sc.days)]
        dated = [sorted(i for i, e in enumerate(sc.events) if e.day == t) for t in range(sc.days)]
        cases.append((f"{name}: events on each day", [len(x) for x in listed] == [len(x) for x in dated]
                      and listed == dated, True))  # fmt: skip
    rec = load_scenario("record_2021")
    cases += [("election's day", day_of(rec, "election"), 282), ("attack's day", day_of(rec, "attack"), 310),
              ("date of day 282", rec.date_of(282) == dt.date(2021, 10, 10), True)]
    return known(*cases)


def militia_table_follows_the_evidence(r: Runner) -> Outcome:
    """The militia table a run uses is the declared one, whose every value is its evidence's point judgement
    (seeds/evidence.yaml, sim/model/priors.py: no militia value departs from its evidence)."""
    judged = priors.judgements()
    cases = [("keys", [m.key for m in r.militias], list(MILITIA_KEYS))]
    for m in r.militias:
        for f in MILITIA_FIELDS:
            centre = judged[priors.militia_factor(m.key, f.name)].prior.centre
            cases.append((f"{m.key}.{f.name}", getattr(m, f.name), centre))
    return known(*cases)


# ----------------------------------------------------------------------------- engine invariants at a probe point


def structure_params(r: Runner) -> dict:
    """The structure a runner runs, as its ``structure_<mechanism>`` parameters (empty: today's)."""
    return {k: v for k, v in r.params.items() if k.startswith("structure_")}


def probe(structure: Structure | None = None) -> tuple[dict, dict]:
    """(parameter overrides, militia overrides): one draw from the priors of ``structure`` (default: today's), the
    same every time."""
    kw = {} if structure is None or structure.is_default else {"structure": structure}
    return priors.split_factors(priors.sample(1, seed=PROBE_SEED, **kw)[0])


def _probe_runner(r: Runner, **params) -> Runner:
    """A small runner at the probe point of r's structure, keeping every daily column, shared by the invariant
    checks (cached on r)."""
    codes = structure_params(r)
    key = ("probe", tuple(sorted({**codes, **params}.items())))
    if key not in r._cache:
        p, m = probe(from_codes(codes))
        r._cache[key] = Runner(militias=make_militias(m), params={**p, **codes, **params}, n=PROBE_RUNS, daily=None)
    return r._cache[key]


def _code(p, mechanism: str) -> int:
    """Which alternative of ``mechanism`` the parameters ``p`` run (0: today's; sim/model/structures.py)."""
    return int(getattr(p, f"structure_{mechanism}"))


def _hazard(p, violence, mobilisation):
    """The day's clash hazard under the structure ``p`` runs (structure.clash: 0 aggregate, 1 Epstein's Model II
    with the state's forces at their declared capacity, which no event of these scenarios moves)."""
    if _code(p, "clash") == 1:
        return rules.clash_hazard_interposed(p.encounter_rate, violence, mobilisation, p.arrest_k, p.state_capacity,
                                             p.cells_per_militia)  # fmt: skip
    return rules.clash_hazard(p.clash_kappa, violence, mobilisation)


def _lever(p, loyalty, ind):
    """The patron's leverage under the structure ``p`` runs (structure.leverage: 0 Salehyan, 1 coercion)."""
    if int(p.structure_leverage) == 1:
        return rules.leverage_persuasion_coercion(p.patron_present, p.patron_influence, loyalty, ind,
                                                  p.coercion_strength)  # fmt: skip
    return rules.leverage(p.patron_present, p.patron_influence, loyalty, ind)


def _visited(g, tgt, p, loyalty, ind):
    """Grievance after a visit's backlash: a coerced leader resents it (structure.leverage=coercion, 7.2.1)."""
    if int(p.structure_leverage) == 1:
        coerced = rules.coerces(p.patron_influence, loyalty, ind, p.coercion_strength)
        return rules.berated(g, tgt, coerced, ind, p.coercion_strength, p.coercion_backlash)
    return g


def _probe_run(r: Runner, scenario: str = "seed_timeline", **params):
    sub = _probe_runner(r, **params)
    return sub, load_scenario(scenario), sub.run(scenario)


def _event_days(sc: Scenario) -> np.ndarray:
    days = np.zeros(sc.days, dtype=bool)
    for e in sc.events:
        days[e.day] = True
    return days


def _militia(daily, name: str) -> np.ndarray:
    return np.stack([daily[f"{name}_{j}"] for j in range(len(MILITIA_KEYS))], axis=-1)  # (days, R, M)


def _mismatches(label: str, got: np.ndarray, expected: np.ndarray, where: np.ndarray | None = None) -> list[str]:
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    mask = np.ones(np.broadcast_shapes(got.shape, expected.shape), dtype=bool) if where is None else np.broadcast_to(
        where, np.broadcast_shapes(got.shape, expected.shape))  # fmt: skip
    bad = mask & ~np.isclose(got, expected, atol=TOL, rtol=0)
    return [f"{label}: {int(bad.sum())} of {int(mask.sum())} differ"] if bad.any() else []


def run_record_matches_daily_record(r: Runner) -> Outcome:
    """The run record is the daily record summed (counts, first days, the escalation and sustained-fighting flags
    and days read off the clash series, Sadr's days out, the cohesion means) at the probe point, with and
    without the patron."""
    bad, n_clash = [], 0
    for over in ({}, {"patron_present": False}):
        sub, sc, res = _probe_run(r, **over)
        d, runs = res.daily, res.runs
        p = make_params(sub.params)
        clash = d["clash"].astype(bool)
        n_clash += int(clash.sum())
        part = d["participating"].astype(bool)
        forced_state = sum(1 for e in sc.events if e.kind == "attack" and e.data.get("target", "pm") != "us"
                           and e.data.get("actor") in MILITIA_KEYS)  # fmt: skip
        first = np.where(clash.any(axis=0), np.argmax(clash, axis=0), -1)
        before = np.vstack([np.ones((1, part.shape[1]), dtype=bool), part[:-1]])
        for e in sc.events:
            if e.kind == "boycott":  # the event takes him out before the day's decision
                before[e.day] = False

        def first_reached(needed, window, clash=clash):
            c = np.cumsum(clash, axis=0)
            lagged = np.zeros_like(c)
            lagged[window:] = c[:-window]
            hit = (c - lagged) >= needed
            return np.where(hit.any(axis=0), np.argmax(hit, axis=0), -1)

        tag = "no patron: " if over else ""
        checks = [
            ("clashes", runs["clashes"], clash.sum(axis=0)),
            ("first clash day", runs["first_clash_day"], first),
            ("interventions", runs["interventions"], d["intervened"].sum(axis=0)),
            ("attacks on US", runs["attacks_us"], d["attacks_us_today"].sum(axis=0)),
            ("attacks on the state", runs["attacks_state"], d["attacks_state_today"].sum(axis=0) + forced_state),
            ("attacks on US by militia", sum(runs[f"attacks_us_{k}"] for k in MILITIA_KEYS), runs["attacks_us"]),
            ("attacks on the state by militia", sum(runs[f"attacks_state_{k}"] for k in MILITIA_KEYS),
             runs["attacks_state"]),
            ("days out of politics", runs["boycott_days"], (~part).sum(axis=0)),
            ("in politics at the end", runs["participating_final"], part[-1]),
            ("boycott ended", runs["boycott_ended"], (~before & part).any(axis=0)),
            ("clash-days in the boycott", runs["boycott_clash_days"], (clash & ~part).sum(axis=0)),
            ("escalated", runs["escalated"], outcomes.escalated_by(clash, p.escalation_clashes, p.escalation_window)),
            ("escalation day", runs["escalation_day"], first_reached(p.escalation_clashes, p.escalation_window)),
            ("sustained", runs["sustained"], outcomes.escalated_by(clash, p.sustained_clashes, p.sustained_window)),
            ("sustained day", runs["sustained_day"], first_reached(p.sustained_clashes, p.sustained_window)),
            ("cohesion within (mean)", runs["cohesion_within"], d["cohesion_within"].mean(axis=0)),
            ("cohesion of the house (mean)", runs["cohesion_house"], d["cohesion_house"].mean(axis=0)),
            ("peak tension", runs["peak_tension"], d["tension"].max(axis=0)),
        ]
        for label, got, expected in checks:
            bad += _mismatches(tag + label, got, expected)
    return Outcome(not bad, "; ".join(bad) or f"every total agrees ({n_clash} clash-days seen)")


def daily_record_is_consistent(r: Runner) -> Outcome:
    """Each day's record agrees with itself: violence is the militias' mean share, the house's cohesion 1 - rivalry,
    the means are means, the patron's tension the rule's weighted mean of the day's violence, mobilisation and
    rivalry, and on a day without a clash the hazard is the rule's of that day's violence and mobilisation."""
    bad = []
    for over in ({}, {"patron_present": False}):
        sub, _sc, res = _probe_run(r, **over)
        d, p = res.daily, make_params(sub.params)
        share, contests = _militia(d, "share"), _militia(d, "contests").astype(bool)
        clash = d["clash"].astype(bool)
        tag = "no patron: " if over else ""
        bad += _mismatches(tag + "violence", d["violence"], share.mean(axis=-1))
        bad += _mismatches(tag + "cohesion of the house", d["cohesion_house"], 1.0 - d["rivalry"])
        bad += _mismatches(tag + "grievance mean", d["grievance_mean"], _militia(d, "grievance").mean(axis=-1))
        bad += _mismatches(tag + "discipline mean", d["discipline_mean"], _militia(d, "discipline").mean(axis=-1))
        bad += _mismatches(tag + "cohesion within", d["cohesion_within"],
                           np.where(contests, share, 1.0 - share).mean(axis=-1))  # fmt: skip
        bad += _mismatches(tag + "tension", d["tension"], rules.tension(d["violence"], d["mobilisation"], d["rivalry"],
                           p.tension_weight_violence, p.tension_weight_mobilisation, p.tension_weight_rivalry))
        bad += _mismatches(tag + "hazard", d["hazard"], _hazard(p, d["violence"], d["mobilisation"]), ~clash)
    return Outcome(not bad, "; ".join(bad) or "the daily record agrees with itself")


def sadr_and_rivalry_follow_their_rules(r: Runner) -> Outcome:
    """7.10, 7.13, 7.15: on a day without events, Sadr's grievance and the rivalry are yesterday's plus the day's
    attacks on the state, plus a clash, relaxed one day towards their baselines."""
    bad, n = [], 0
    for over in ({}, {"patron_present": False}):
        sub, sc, res = _probe_run(r, **over)
        d, p = res.daily, make_params(sub.params)
        quiet = ~_event_days(sc)[1:, None]
        n_att, clash = d["attacks_state_today"][1:], d["clash"][1:].astype(bool)
        for name, per, rise, base, half in (
            ("sadr_grievance", p.attack_sadr_grievance, p.clash_grievance, p.sadr_grievance_base,
             p.grievance_half_life),
            ("rivalry", p.attack_rivalry, p.clash_rivalry, p.rivalry_base, p.rivalry_half_life),
        ):  # fmt: skip
            x = d[name]
            expected = rules.relax(rules.after_clash(rules.after_attacks(x[:-1], n_att, per), clash, rise), base, half)
            bad += _mismatches(f"{'no patron: ' if over else ''}{name}", x[1:], expected, quiet)
        n += int((clash & quiet).sum())
    return Outcome(not bad, "; ".join(bad) or f"both follow their rules ({n} clash-days among the days checked)")


def militias_follow_their_rules(r: Runner) -> Outcome:
    """7.2, 7.4, 7.9, 7.13, 7.15: on a day without events or attacks on US assets, each militia's grievance is
    yesterday's less the visit's cut (leverage from its loyalty and its drifted independence), plus a clash,
    relaxed towards its own baseline; its discipline yesterday's plus the visit's, relaxed towards its own.
    Under structure.reaction=richardson the grievance first adds the reaction to the day's mobilisation (7.12.1);
    under structure.relapse=beardsley the calm each visit bought is carried day by day and its lapsed part added
    back (7.4.1; carried exactly until an event day brings a visit, whose cut starts from a grievance the event
    moved, so from then on that militia is not compared). Under structure.grievance=legitimacy hardship and
    legitimacy are not recorded, so only discipline is compared here (one_quiet_day and one_day_of_visits check
    that structure's grievance)."""
    bad, visits = [], 0
    sub, sc, res = _probe_run(r)
    d, p = res.daily, make_params(sub.params)
    mil = sub.militias
    reaction, relapse, legit = _code(p, "reaction") == 1, _code(p, "relapse") == 1, _code(p, "grievance") == 1
    loyalty = np.array([m.loyalty for m in mil])
    ind = rules.independence(p.militia_independence, np.array([m.independence_offset for m in mil]))
    g, disc = _militia(d, "grievance"), _militia(d, "discipline")
    tgt = np.stack([d[f"targeted_{j}"] for j in range(len(mil))], axis=-1)
    event = _event_days(sc)
    quiet = (~event)[:, None, None] & (d["attacks_us_today"] == 0)[:, :, None]
    exp_g, exp_d = np.empty_like(g), np.empty_like(disc)
    calm, carried = np.zeros_like(g[0]), np.ones(g.shape, dtype=bool)
    ind_t = ind
    for t in range(1, sc.days):
        ind_t = rules.drift_independence(ind_t, p.independence_drift)  # independence at the start of day t
        lam = _lever(p, loyalty, ind_t)
        gi, di, _ = rules.intervene(g[t - 1], disc[t - 1], 0.0, lam, tgt[t], p.intervention_grievance_effect,
                                    p.intervention_discipline_effect)  # fmt: skip
        if relapse:
            calm = rules.calm_bought(calm, g[t - 1] - gi, p.relapse_share)
            carried[t:] &= ~(event[t] & tgt[t].astype(bool))
        gi = _visited(gi, tgt[t], p, loyalty, ind_t)
        gi = rules.after_clash(gi, d["clash"][t].astype(bool)[:, None], p.clash_grievance)
        if relapse:
            released = rules.calm_released(calm, rules.decay(p.pressure_half_life))
            calm = rules.relax(calm - released, 0.0, p.grievance_half_life)
            gi = rules.relapsed(gi, released)
        if reaction:
            gi = rules.militia_reaction(gi, d["mobilisation"][t][:, None], p.richardson_militia_reaction)
        exp_g[t] = rules.relax(gi, np.array([m.grievance for m in mil]), p.grievance_half_life)
        exp_d[t] = rules.relax(di, np.array([m.discipline for m in mil]), p.discipline_half_life)
    visits = int(tgt[1:][quiet[1:, :, 0]].sum())
    if not legit:
        bad += _mismatches("grievance", g[1:], exp_g[1:], quiet[1:] & carried[1:])
    bad += _mismatches("discipline", disc[1:], exp_d[1:], quiet[1:])
    what = "discipline only: grievance=legitimacy" if legit else "grievance and discipline"
    return Outcome(not bad, "; ".join(bad) or f"every militia follows its rules ({visits} leaders visited; {what})")


def leaders_and_cells_follow_their_rules(r: Runner) -> Outcome:
    """7.6-7.7: each day's stances and active cells are the rules' answers to that day's keyed draws (sim/model/
    keyed_random.py), from the grievance, discipline and pressure after the day's visit (leverage from loyalty and
    drifted independence), the restraint relayed from yesterday, and Epstein's cost from yesterday's share; read
    from the daily record at the probe point (the restraint and the pressure, not recorded, carried day by day)."""
    from sim.model.state import cell_traits

    sub, sc, res = _probe_run(r)
    d, p = res.daily, make_params(sub.params)
    mil = sub.militias
    R, M, n = PROBE_RUNS, len(mil), int(p.cells_per_militia)
    seed = np.full((R, 1, 1), 7, dtype=np.uint64)  # the runner's seed (patterns.SEED) and replicates 0..R-1
    reps = np.arange(R, dtype=np.uint64).reshape(R, 1, 1)
    rep_key = kr.replicate_key(seed, reps)
    leaders = kr.leader_uid(np.arange(M)).reshape(1, M, 1)
    cells = kr.cell_uid(np.arange(M).reshape(1, M, 1), np.arange(n).reshape(1, 1, n))
    offset, risk = cell_traits(seed, reps, np.arange(M).reshape(1, M, 1), np.arange(n).reshape(1, 1, n),
                               p.cell_grievance_sd)  # fmt: skip
    col = {name: np.array([getattr(m, name) for m in mil]).reshape(1, M, 1) for name in
           ("loyalty", "independence_offset", "discipline", "grievance")}  # fmt: skip
    g_rec, d_rec = _militia(d, "grievance")[..., None], _militia(d, "discipline")[..., None]  # (days, R, M, 1)
    share_rec, contests_rec = _militia(d, "share")[..., None], _militia(d, "contests").astype(bool)[..., None]
    tgt = np.stack([d[f"targeted_{j}"] for j in range(M)], axis=-1)[..., None].astype(bool)
    ind = rules.independence(p.militia_independence, col["independence_offset"])
    pressure, felt = np.zeros((R, M, 1)), np.broadcast_to(col["discipline"], (R, M, 1)).copy()
    g_prev, d_prev = np.broadcast_to(col["grievance"], (R, M, 1)), np.broadcast_to(col["discipline"], (R, M, 1))
    share_prev, contest_prev = np.zeros((R, M, 1)), np.zeros((R, M, 1), dtype=bool)
    event = _event_days(sc)
    # structure.grievance=legitimacy: a visit raises legitimacy, and the grievance after it is H (1 - L) of values
    # the record does not keep; a visited militia's day is not compared there (one_day_of_visits checks it)
    keep = ~tgt if _code(p, "grievance") == 1 else np.ones_like(tgt)
    bad_stance = bad_cells = checked = 0
    for t in range(sc.days):
        lam = _lever(p, col["loyalty"], ind)
        g1, d1, p1 = rules.intervene(g_prev, d_prev, pressure, lam, tgt[t], p.intervention_grievance_effect,
                                     p.intervention_discipline_effect)  # fmt: skip
        g1 = _visited(g1, tgt[t], p, col["loyalty"], ind)
        pc = rules.contest_probability(g1, lam, p1, p.standing_leverage, contest_prev, p.stance_threshold,
                                       p.stance_tau, p.stance_hysteresis)  # fmt: skip
        u = kr.uniform_from_key(kr.step_key(rep_key, t, kr.Purpose.STANCE), leaders)
        contests = rules.leader_contests(u, pc, 0)
        cost = rules.expected_cost(p.arrest_k, p.state_capacity, share_prev, n)
        felt = rules.relayed_restraint(felt, rules.restraint(contests_rec[t], d1, p.contest_boost), d1)
        pa = rules.activation_probability(rules.cell_grievance(g1, offset), risk, cost, felt, p.cell_threshold,
                                          p.cell_tau)  # fmt: skip
        active = kr.uniform_from_key(kr.step_key(rep_key, t, kr.Purpose.CELL_ACTIVE), cells) < pa
        if not event[t]:
            checked += 1
            bad_stance += int(((contests != contests_rec[t]) & keep[t]).sum())
            bad_cells += int((~np.isclose(rules.active_share(active), share_rec[t], atol=TOL, rtol=0) & keep[t]).sum())
        # tomorrow starts from the record (what the engine kept), the pressure relaxed, independence drifted
        pressure = rules.relax(p1, 0.0, p.pressure_half_life)
        ind = rules.drift_independence(ind, p.independence_drift)
        g_prev, d_prev, share_prev, contest_prev = g_rec[t], d_rec[t], share_rec[t], contests_rec[t]
    bad = [f"{x} {what} differ" for x, what in ((bad_stance, "stances"), (bad_cells, "militias' active shares"))
           if x]  # fmt: skip
    return Outcome(not bad, "; ".join(bad) or f"stances and active cells agree on {checked} days")


def sadr_wing_follows_its_rule(r: Runner) -> Outcome:
    """7.12: on a day without events and with no clash in the order's span before it, the wing moves at its rate
    towards the target its threat gives (the day's refusals, violence, and Sadr's grievance and the rivalry after
    the day's attacks on the state); on a clash day it does so and, if Sadr halts it, keeps 1 - sadr_discipline."""
    bad, halts = [], 0
    for over in ({}, {"patron_present": False}):
        sub, sc, res = _probe_run(r, **over)
        d, p = res.daily, make_params(sub.params)
        clash = d["clash"].astype(bool)
        n_att = d["attacks_state_today"]
        gs = rules.after_attacks(d["sadr_grievance"][:-1], n_att[1:], p.attack_sadr_grievance)
        riv = rules.after_attacks(d["rivalry"][:-1], n_att[1:], p.attack_rivalry)
        refusing = _militia(d, "contests").astype(bool)[1:].mean(axis=-1)
        threat = rules.sadr_threat(gs, refusing, d["violence"][1:], riv, p.rivalry_base, p.threat_refusal,
                                   p.threat_violence, p.threat_rivalry)  # fmt: skip
        ok_days = np.ones_like(clash[1:])
        if _code(p, "reaction") == 1:  # 7.12.1: he also reads the militias' grievance above their baselines, as it
            # stands when he decides: yesterday's, on a day without a visit or a strike (checked on those days)
            g = _militia(d, "grievance")
            base = np.array([m.grievance for m in sub.militias])
            excess = rules.militia_excess(g[:-1], base, axis=2)[..., 0]
            threat = rules.richardson_threat(threat, excess, p.richardson_sadr_reaction)
            visited = np.stack([d[f"targeted_{j}"] for j in range(len(MILITIA_KEYS))], axis=-1).astype(bool)
            ok_days &= ~visited[1:].any(axis=-1) & (d["attacks_us_today"][1:] == 0)
        if _code(p, "mobilisation") == 1:  # 7.12.2: the share already out counts
            target = rules.cascade_target(threat, d["mobilisation"][:-1], p.cascade_peer_weight,
                                          p.mobilisation_threshold, p.mobilisation_tau)  # fmt: skip
        else:
            target = rules.mobilisation_target(threat, p.mobilisation_threshold, p.mobilisation_tau)
        moved = rules.mobilisation_after(d["mobilisation"][:-1], target, p.mobilisation_rate, 0)
        recent = np.zeros_like(clash)
        span = int(p.order_days) + 1
        for k in range(1, span + 1):
            recent[k:] |= clash[:-k]
        ok_days &= (~_event_days(sc))[1:, None] & ~recent[1:]
        m = d["mobilisation"][1:]
        tag = "no patron: " if over else ""
        bad += _mismatches(tag + "mobilisation", m, moved, ok_days & ~clash[1:])
        on_clash = ok_days & clash[1:]
        halted = np.isclose(m, rules.stood_down(moved, p.sadr_discipline), atol=TOL, rtol=0)
        either = np.isclose(m, moved, atol=TOL, rtol=0) | halted
        if (on_clash & ~either).any():
            bad.append(f"{tag}mobilisation on clash days: {int((on_clash & ~either).sum())} neither moved nor halted")
        halts += int((on_clash & halted & ~np.isclose(m, moved, atol=TOL, rtol=0)).sum())
    return Outcome(not bad, "; ".join(bad) or f"the wing follows its rule ({halts} halts seen)")


def patron_follows_its_rules(r: Runner) -> Outcome:
    """7.3, 7.5: attention is spent by each visit and refilled at the recovery rate cut by distraction; a visit
    needs attention for its cost (nothing is forced here) and reaches patron_targets leaders, no visit none."""
    sub, sc, res = _probe_run(r)
    d, p = res.daily, make_params(sub.params)
    iv = d["intervened"].astype(bool)
    att = d["attention"]
    prev = np.vstack([np.full((1, att.shape[1]), p.patron_attention_initial), att[:-1]])
    bad = _mismatches("attention", att, rules.attention_after(prev, iv, p.patron_attention_cost,
                                                              p.patron_attention_recovery, p.patron_distraction),
                      (~_event_days(sc))[:, None])  # fmt: skip
    reached = sum(d[f"targeted_{j}"].astype(int) for j in range(len(MILITIA_KEYS)))
    bad += _mismatches("leaders reached per visit", reached, np.where(iv, min(int(p.patron_targets), 4), 0))
    if (iv & (prev < p.patron_attention_cost - TOL)).any():
        bad.append("a visit without the attention for it")
    # the cooldown: within patron_cooldown days after a visit only a salient day (an attack on the state, by
    # event that day or emergent the day before) brings another
    salient = np.zeros_like(iv)
    salient[1:] = d["attacks_state_today"][:-1] > 0
    for e in sc.events:
        if e.kind == "attack" and e.data.get("target", "pm") != "us":
            salient[e.day] = True
    cooling = np.zeros_like(iv)
    for k in range(1, int(p.patron_cooldown) + 1):
        cooling[k:] |= iv[:-k]
    if (iv & cooling & ~salient).any():
        bad.append(f"{int((iv & cooling & ~salient).sum())} visits in a cooldown without a salient day")
    return Outcome(not bad, "; ".join(bad) or f"{int(iv.sum())} visits follow the rules")


def _column(mil, name: str) -> np.ndarray:
    return np.array([getattr(x, name) for x in mil]).reshape(1, -1, 1)


def _drifted(p, mil, g, H, L, calm, m) -> dict:
    """Step 8 for the militias' grievance under the structure ``p`` runs, from the day's values before the drift
    (g: grievance; H, L: hardship and legitimacy; calm: the store; m: the day's mobilisation of Sadr's wing):
    7.4.1 the lapsed calm goes back, 7.12.1 the reaction to Sadr's wing, 7.15/7.15.1 the drift to the baselines."""
    base = _column(mil, "grievance")
    out = {}
    if _code(p, "relapse") == 1:
        released = rules.calm_released(calm, rules.decay(p.pressure_half_life))
        out["calm"] = rules.relax(calm - released, 0.0, p.grievance_half_life)
        if _code(p, "grievance") == 1:
            L = rules.relapsed(L, -released)
        else:
            g = rules.relapsed(g, released)
    react = _code(p, "reaction") == 1
    if _code(p, "grievance") == 1:
        H = rules.militia_reaction(H, m, p.richardson_militia_reaction) if react else H
        out["hardship"] = rules.relax(H, base, p.grievance_half_life)
        out["legitimacy"] = rules.relax(L, p.legitimacy_base, p.grievance_half_life)
        out["grievance"] = rules.epstein_grievance(out["hardship"], out["legitimacy"], p.legitimacy_base)
    else:
        g = rules.militia_reaction(g, m, p.richardson_militia_reaction) if react else g
        out["grievance"] = rules.relax(g, base, p.grievance_half_life)
    return out


def _compare_drifted(s, expected: dict) -> tuple:
    """(label, got, expected) cases for what _drifted expects."""
    return tuple((name, getattr(s, name), value) for name, value in expected.items())


def _day_state(r: Runner, seed: int, R: int, **overrides):
    """A one-day engine set-up at the probe point of r's structure with ``overrides``: (params, militias, state,
    point arrays, replicate keys)."""
    codes = structure_params(r)
    p, m = probe(from_codes(codes))
    mil = make_militias(m)
    prm = make_params({**p, **codes, **overrides})
    pt = point_arrays([prm], [mil])
    s = initial_state(pt, np.uint64(seed), np.arange(R), int(pt.cells_per_militia.max()), clash_window(pt))
    rep_key = kr.replicate_key(np.full((R, 1, 1), seed, dtype=np.uint64),
                               np.arange(R, dtype=np.uint64).reshape(R, 1, 1))  # fmt: skip
    return prm, mil, s, pt, rep_key


# nothing random can happen: no attacks, no clash under either clash structure
CALM_DAY = {"attack_rate_state": 0.0, "attack_rate_us": 0.0, "clash_kappa": 0.0, "encounter_rate": 0.0}


def one_quiet_day(r: Runner) -> Outcome:
    """Steps 2-8 on a day where nothing random can happen (no patron, no attacks, no clash, no events): every slow
    variable moves exactly one day towards its baseline at its own half-life, the counters count down by one, the
    wing moves towards zero under Sadr's order, and nothing is counted. Under the rival structures the day's
    drift is theirs (_drifted): the lapsing calm (7.4.1), the militias' reaction to the wing (7.12.1), hardship and
    legitimacy (7.15.1)."""
    prm, mil, s, pt, rep_key = _day_state(r, 3, 2, patron_present=False, **CALM_DAY)
    s.grievance[...], s.discipline[...], s.hostility_us[...] = 0.8, 0.2, 0.9
    s.hardship[...], s.legitimacy[...], s.calm[...] = 0.7, 0.5, 0.1
    s.pressure[...], s.sadr_grievance[...], s.rivalry[...] = 0.6, 0.7, 0.8
    s.order_days[...], s.sadr_order_days[...], s.cooldown[...], s.attention[...] = 3, 2, 4, 0.3
    s.independence[...] = 0.5
    m0 = s.mobilisation.copy()
    quiet = Scenario("quiet", "", dt.date(2021, 1, 1), dt.date(2021, 1, 5), ())
    vector.step(s, 0, quiet, pt, mil, rep_key)
    m1 = m0 * (1 - prm.mobilisation_rate)
    return known(*_compare_drifted(s, _drifted(prm, mil, 0.8, 0.7, 0.5, 0.1, m1)),
                 ("discipline", s.discipline, rules.relax(0.2, _column(mil, "discipline"), prm.discipline_half_life)),
                 ("hostility", s.hostility_us, rules.relax(0.9, _column(mil, "hostility_us"), prm.grievance_half_life)),
                 ("pressure", s.pressure, rules.relax(0.6, 0.0, prm.pressure_half_life)),
                 ("independence", s.independence, rules.drift_independence(0.5, prm.independence_drift)),
                 ("Sadr's grievance", s.sadr_grievance,
                  rules.relax(0.7, prm.sadr_grievance_base, prm.grievance_half_life)),
                 ("rivalry", s.rivalry, rules.relax(0.8, prm.rivalry_base, prm.rivalry_half_life)),
                 ("militias' orders", s.order_days, 2), ("Sadr's order", s.sadr_order_days, 1),
                 ("cooldown", s.cooldown, 3),
                 ("attention", s.attention, rules.attention_after(0.3, False, prm.patron_attention_cost,
                                                                  prm.patron_attention_recovery,
                                                                  prm.patron_distraction)),
                 ("wing under the order", s.mobilisation, m1),
                 ("nothing counted", (s.interventions.sum(), s.attacks_us.sum(), s.attacks_state.sum(),
                                      s.clashes.sum(), s.retaliations.sum()), (0, 0, 0, 0, 0)),
                 ("nobody refuses under orders", s.contests.any(), False))  # fmt: skip


def one_day_of_strikes(r: Runner) -> Outcome:
    """Step 5 on a day of attacks on US assets where every attack is answered (the highest attack rate, hostile
    militias with a full front, certain retaliation; no patron, no clash, no attack on the state, no truce): each
    militia that attacks has its grievance (hardship under structure.grievance=legitimacy) and hostility raised by
    the strike's steps before the day's drift, the others only drift; every attack and strike is counted once, and
    the day's record counts the attacks."""
    prm, mil, s, pt, rep_key = _day_state(r, 5, 50, patron_present=False, **{**CALM_DAY, "attack_rate_us": 1.0},
                                          us_retaliation_prob=1.0, front_activity=1.0)  # fmt: skip
    s.grievance[...], s.hostility_us[...] = 0.3, 0.8
    s.hardship[...], s.legitimacy[...], s.calm[...] = 0.3, 0.5, 0.05
    quiet = Scenario("strikes", "", dt.date(2021, 1, 1), dt.date(2021, 1, 5), ())
    rec = vector.step(s, 0, quiet, pt, mil, rep_key)
    att = s.attacks_us.astype(float)
    struck = np.minimum(0.3 + prm.retaliation_grievance * att, 1.0)
    exp_h = rules.relax(np.minimum(0.8 + prm.retaliation_hostility * att, 1.0), _column(mil, "hostility_us"),
                        prm.grievance_half_life)  # fmt: skip
    return known(("some attack, some not", 0 < att.mean() < 1, True),
                 *_compare_drifted(s, _drifted(prm, mil, struck, struck, 0.5, 0.05, s.mobilisation)),
                 ("hostility", s.hostility_us, exp_h),
                 ("strikes", s.retaliations, s.attacks_us), ("attacks on the state", s.attacks_state, 0),
                 ("the day's record", rec["attacks_us_today"], s.attacks_us.sum(axis=(1, 2))),
                 ("the day's attacks on the state", rec["attacks_state_today"], 0))  # fmt: skip


def one_day_of_visits(r: Runner) -> Outcome:
    """Step 2 on a day the patron must visit (forced; no attacks, no clash, Sadr's wing under his order): the
    visited leaders' grievance falls by leverage x effect (under structure.grievance=legitimacy their legitimacy
    rises by leverage x effect and grievance is H (1 - L), 7.15.1), their discipline rises and their pressure is
    full; a coerced leader resents it (7.2.1); the calm the visit bought is stored (7.4.1); then the day's drift.
    The leverage reads each militia's loyalty and its independence before the day's drift."""
    prm, mil, s, pt, rep_key = _day_state(r, 11, 4, patron_present=True, patron_intervenes=True, **CALM_DAY)
    M = len(mil)
    g0 = np.linspace(0.35, 0.8, M).reshape(1, M, 1)  # distinct, so that the visit's targets are those named
    s.grievance[...], s.hardship[...], s.legitimacy[...], s.calm[...] = g0, g0, 0.5, 0.05
    s.discipline[...], s.pressure[...], s.independence[...] = 0.2, 0.1, 0.5
    s.forced_intervention[...], s.attention[...] = True, 1.0
    s.order_days[...], s.sadr_order_days[...] = 3, 2
    m1 = s.mobilisation * (1 - prm.mobilisation_rate)
    quiet = Scenario("visit", "", dt.date(2021, 1, 1), dt.date(2021, 1, 5), ())
    vector.step(s, 0, quiet, pt, mil, rep_key)
    tgt = s.targeted
    loyalty = _column(mil, "loyalty")
    lam = _lever(prm, loyalty, 0.5)
    H, L, c = g0, 0.5, 0.05
    if _code(prm, "grievance") == 1:
        L = rules.legitimised(0.5, lam, tgt, prm.intervention_legitimacy)
        g1, d1, p1 = rules.intervene(rules.epstein_grievance(H, L, prm.legitimacy_base), 0.2, 0.1, lam, tgt, 0.0,
                                     prm.intervention_discipline_effect)  # fmt: skip
        c = rules.calm_bought(c, L - 0.5, prm.relapse_share)
        H = _visited(H, tgt, prm, loyalty, 0.5)
    else:
        g1, d1, p1 = rules.intervene(g0, 0.2, 0.1, lam, tgt, prm.intervention_grievance_effect,
                                     prm.intervention_discipline_effect)  # fmt: skip
        c = rules.calm_bought(c, g0 - g1, prm.relapse_share)
        g1 = _visited(g1, tgt, prm, loyalty, 0.5)
    n_tgt = min(int(prm.patron_targets), M)
    return known(("a visit", s.interventions, 1),
                 ("leaders reached", tgt.sum(axis=(1, 2)), n_tgt),
                 ("the most aggrieved reached", tgt[:, M - n_tgt:].all(), True),
                 *_compare_drifted(s, _drifted(prm, mil, g1, H, L, c, m1)),
                 ("discipline", s.discipline, rules.relax(d1, _column(mil, "discipline"), prm.discipline_half_life)),
                 ("pressure", s.pressure, rules.relax(p1, 0.0, prm.pressure_half_life)))  # fmt: skip


def escalation_as_defined(r: Runner) -> Outcome:
    """The engine's escalation and sustained-fighting flags are the definition read off its clash series (at the
    defaults without the patron, where clashes are many; 500 runs): the engine's ring of clash days agrees with
    sim.model.outcomes.escalated_by on the same runs."""
    p = make_params({})
    key = ("escalation_as_defined",)
    if key not in r._cache:
        r._cache[key] = Runner(militias=r.militias, n=500)
    res = r._cache[key].run("seed_timeline", patron_present=False)
    esc = outcomes.escalated_by(res.daily["clash"], p.escalation_clashes, p.escalation_window)
    sus = outcomes.escalated_by(res.daily["clash"], p.sustained_clashes, p.sustained_window)
    ok = bool(np.array_equal(esc, res.runs["escalated"]) and np.array_equal(sus, res.runs["sustained"]))
    return Outcome(ok, f"escalated {res.runs['escalated'].mean():.3f} (series {esc.mean():.3f}), sustained "
                       f"{res.runs['sustained'].mean():.3f} (series {sus.mean():.3f})")  # fmt: skip


CHECKS: dict[str, Callable[[Runner], Outcome]] = {
    "rule_helpers": rule_helpers,
    "rule_independence_and_leverage": rule_independence_and_leverage,
    "rule_leverage_coercion": rule_leverage_coercion,
    "rule_reaction_richardson": rule_reaction_richardson,
    "rule_mobilisation_cascade": rule_mobilisation_cascade,
    "rule_clash_epstein_ii": rule_clash_epstein_ii,
    "rule_grievance_legitimacy": rule_grievance_legitimacy,
    "rule_relapse_beardsley": rule_relapse_beardsley,
    "rule_patron_decides": rule_patron_decides,
    "rule_targets": rule_targets,
    "rule_intervene": rule_intervene,
    "rule_attention_and_cooldown": rule_attention_and_cooldown,
    "rule_stance": rule_stance,
    "rule_cells": rule_cells,
    "rule_counts": rule_counts,
    "rule_attacks": rule_attacks,
    "rule_sadr_politics": rule_sadr_politics,
    "rule_mediation": rule_mediation,
    "rule_sadr_wing": rule_sadr_wing,
    "rule_clash": rule_clash,
    "rule_election": rule_election,
    "escalation_definition": escalation_definition,
    "events_known_effects": events_known_effects,
    "calendar": calendar,
    "militia_table_follows_the_evidence": militia_table_follows_the_evidence,
    "run_record_matches_daily_record": run_record_matches_daily_record,
    "daily_record_is_consistent": daily_record_is_consistent,
    "sadr_and_rivalry_follow_their_rules": sadr_and_rivalry_follow_their_rules,
    "militias_follow_their_rules": militias_follow_their_rules,
    "leaders_and_cells_follow_their_rules": leaders_and_cells_follow_their_rules,
    "sadr_wing_follows_its_rule": sadr_wing_follows_its_rule,
    "patron_follows_its_rules": patron_follows_its_rules,
    "one_quiet_day": one_quiet_day,
    "one_day_of_strikes": one_day_of_strikes,
    "one_day_of_visits": one_day_of_visits,
    "escalation_as_defined": escalation_as_defined,
}


def run_checks(runner: Runner, names: Sequence[str] | None = None) -> dict[str, Outcome]:
    """Every correctness check (or those named) on one runner; a check that raises fails, with the error."""
    out = {}
    for name in names or CHECKS:
        try:
            out[name] = CHECKS[name](runner)
        except Exception as exc:
            out[name] = Outcome(False, f"raised {type(exc).__name__}: {str(exc)[:120]}")
    return out

