"""The vectorised engine: one day's rules applied to all replicates and parameter points at once.
It calls the same rule functions as the Mesa agents; only the bookkeeping here is array-shaped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.model import keyed_random as kr
from sim.model import rules
from sim.model.events import apply_events
from sim.model.outcomes import accumulate, daily_record, empty_sums, run_record
from sim.model.params import Militia
from sim.model.scenario import Scenario
from sim.model.state import FAR_PAST, NO_DAY, Point, State, clash_window, initial_state, point_arrays
from sim.model.structures import MECHANISMS


@dataclass
class BatchResult:
    """Per-run outcomes (name -> (R,)) and, if kept, daily series (name -> (days, R))."""

    runs: dict[str, np.ndarray]
    daily: dict[str, np.ndarray] | None


def _weights(pt: Point) -> tuple:
    return pt.tension_weight_violence, pt.tension_weight_mobilisation, pt.tension_weight_rivalry


def step(s: State, t: int, scenario: Scenario, pt: Point, militias: Sequence[Militia], rep_key: np.ndarray) -> dict:
    """Advance every replicate by one day (MODEL.md steps 1-8); returns the day's record."""
    M, n = s.active.shape[1], s.active.shape[2]
    leaders = kr.leader_uid(np.arange(M)).reshape(1, M, 1)

    def draw(purpose: kr.Purpose, agents) -> np.ndarray:
        return kr.uniform_from_key(kr.step_key(rep_key, t, purpose), agents)

    # 1. events
    apply_events(s, scenario.events_on(t), pt, militias)

    # the structure of this batch (sim/model/structures.py): which alternative of each mechanism runs
    leverage, reaction, mobilisation = pt.code("leverage"), pt.code("reaction"), pt.code("mobilisation")
    clash_structure, legit, relapse = pt.code("clash"), pt.code("grievance") == 1, pt.code("relapse") == 1

    # 2. patron (structure.leverage: 0 Salehyan's one lever, 1 persuasion or coercion)
    if leverage == 0:
        lam = rules.leverage(pt.patron_present, pt.patron_influence, pt.loyalty, s.independence)
    else:
        lam = rules.leverage_persuasion_coercion(pt.patron_present, pt.patron_influence, pt.loyalty, s.independence,
                                                 pt.coercion_strength)  # fmt: skip
    intervened = rules.patron_decides(
        pt.patron_present, pt.patron_intervenes, s.attention, s.cooldown, s.tension, s.salient, s.forced_intervention,
        pt.patron_trigger, pt.patron_attention_cost,
    )  # fmt: skip
    targeted = intervened & rules.target_mask(rules.militia_score(s.share, s.grievance), pt.patron_targets, axis=1)
    if legit:  # structure.grievance=legitimacy: the message raises legitimacy, grievance is H (1 - L)
        H, L = s.hardship, rules.legitimised(s.legitimacy, lam, targeted, pt.intervention_legitimacy)
        g = rules.epstein_grievance(H, L, pt.legitimacy_base)
        _, d, p = rules.intervene(g, s.discipline, s.pressure, lam, targeted, 0.0, pt.intervention_discipline_effect)
        if relapse:  # structure.relapse=beardsley: the legitimacy gained rests on the pressure
            calm = rules.calm_bought(s.calm, L - s.legitimacy, pt.relapse_share)
    else:
        g, d, p = rules.intervene(
            s.grievance, s.discipline, s.pressure, lam, targeted,
            pt.intervention_grievance_effect, pt.intervention_discipline_effect,
        )  # fmt: skip
        if relapse:  # structure.relapse=beardsley: the grievance removed rests on the pressure
            calm = rules.calm_bought(s.calm, s.grievance - g, pt.relapse_share)
    if leverage == 1:
        coerced = rules.coerces(pt.patron_influence, pt.loyalty, s.independence, pt.coercion_strength)
        if legit:
            H = rules.berated(H, targeted, coerced, s.independence, pt.coercion_strength, pt.coercion_backlash)
            g = rules.epstein_grievance(H, L, pt.legitimacy_base)
        else:
            g = rules.berated(g, targeted, coerced, s.independence, pt.coercion_strength, pt.coercion_backlash)
    s.attention = rules.attention_after(
        s.attention, intervened, pt.patron_attention_cost, pt.patron_attention_recovery, pt.patron_distraction
    )
    s.cooldown = rules.cooldown_after(s.cooldown, intervened, pt.patron_cooldown)
    s.interventions = s.interventions + intervened
    s.intervened, s.targeted = intervened, targeted

    # 3. leaders choose a stance
    p_contest = rules.contest_probability(
        g, lam, p, pt.standing_leverage, s.contests, pt.stance_threshold, pt.stance_tau, pt.stance_hysteresis
    )
    contests = rules.leader_contests(draw(kr.Purpose.STANCE, leaders), p_contest, s.order_days)

    # 4. cells act (Epstein)
    cost = rules.expected_cost(pt.arrest_k, s.capacity, s.share, n)
    restraint = rules.relayed_restraint(s.restraint, rules.restraint(contests, d, pt.contest_boost), d)
    p_active = rules.activation_probability(
        rules.cell_grievance(g, s.offset), s.risk, cost, restraint, pt.cell_threshold, pt.cell_tau
    )
    cells = kr.cell_uid(np.arange(M).reshape(1, M, 1), np.arange(n).reshape(1, 1, n))
    active = draw(kr.Purpose.CELL_ACTIVE, cells) < p_active
    share = rules.active_share(active)

    # 5. attacks on the state and on US assets, US retaliation
    h = s.hostility_us
    att_state = draw(kr.Purpose.ATTACK_STATE, leaders) < rules.daily_hazard(pt.attack_rate_state, share)
    exposure = rules.us_exposure(share, h, pt.front_activity, s.truce, pt.truce_compliance)
    att_us = draw(kr.Purpose.ATTACK_US, leaders) < rules.daily_hazard(pt.attack_rate_us, exposure)
    retaliated = att_us & (draw(kr.Purpose.RETALIATION, leaders) < pt.us_retaliation_prob)
    if legit:  # a strike is hardship; an attack on the state moves legitimacy
        H, h = rules.after_retaliation(H, h, retaliated, pt.retaliation_grievance, pt.retaliation_hostility)
    else:
        g, h = rules.after_retaliation(g, h, retaliated, pt.retaliation_grievance, pt.retaliation_hostility)
    n_att = np.count_nonzero(att_state, axis=1, keepdims=True)
    if legit:
        L = rules.after_attacks(L, n_att, pt.attack_legitimacy)
        g = rules.epstein_grievance(H, L, pt.legitimacy_base)

    # 6. Sadr's bloc: attacks on its ally anger it; it stays, walks out or returns; its armed wing
    # reads the threat from the other camp (refusals, violence, rivalry) and moves towards it
    gs = rules.after_attacks(s.sadr_grievance, n_att, pt.attack_sadr_grievance)
    rivalry = rules.after_attacks(s.rivalry, n_att, pt.attack_rivalry)
    part = rules.participation_after(
        s.participating, s.sadr_u_walk, s.sadr_u_return, gs, s.commitment, s.sadr_stake,
        pt.boycott_threshold, pt.return_threshold, pt.sadr_tau,
    )  # fmt: skip
    commitment = rules.commitment_after(s.participating, part, s.commitment, pt.boycott_commitment)
    v = rules.camp_violence(active)
    threat = rules.sadr_threat(
        gs, rules.refusing_share(contests), v, rivalry, pt.rivalry_base,
        pt.threat_refusal, pt.threat_violence, pt.threat_rivalry,
    )  # fmt: skip
    if reaction == 1:  # structure.reaction=richardson: his threat also reads the militias' standing grievance
        threat = rules.richardson_threat(threat, rules.militia_excess(g, pt.grievance), pt.richardson_sadr_reaction)
    if mobilisation == 0:
        target = rules.mobilisation_target(threat, pt.mobilisation_threshold, pt.mobilisation_tau)
    else:  # structure.mobilisation=cascade: the share already out counts
        target = rules.cascade_target(threat, s.mobilisation, pt.cascade_peer_weight, pt.mobilisation_threshold,
                                      pt.mobilisation_tau)  # fmt: skip
    m = rules.mobilisation_after(s.mobilisation, target, pt.mobilisation_rate, s.sadr_order_days)

    # 7. intra-Shi'ite clash and the severity ladder (any clash, escalation, sustained fighting)
    if clash_structure == 0:
        hazard = rules.clash_hazard(pt.clash_kappa, v, m)
    else:  # structure.clash=epstein_ii: the camps meet, the state's forces interpose
        hazard = rules.clash_hazard_interposed(pt.encounter_rate, v, m, pt.arrest_k, s.capacity, n)
    clash = draw(kr.Purpose.CLASH, kr.PATRON_UID) < hazard
    if legit:
        H = rules.after_clash(H, clash, pt.clash_grievance)
        g = rules.epstein_grievance(H, L, pt.legitimacy_base)
    else:
        g = rules.after_clash(g, clash, pt.clash_grievance)
    gs = rules.after_clash(gs, clash, pt.clash_grievance)
    rivalry = rules.after_clash(rivalry, clash, pt.clash_rivalry)
    halt = rules.sadr_restrains(draw(kr.Purpose.SADR_ORDER, kr.SADR_UID), clash, pt.sadr_restraint)
    m = np.where(halt, rules.stood_down(m, pt.sadr_discipline), m)
    s.sadr_order_days = np.where(halt, pt.order_days, s.sadr_order_days)
    W = s.clash_ring.shape[2]
    s.clash_ring[:, :, t % W] = np.where(clash, t, FAR_PAST)[:, :, 0]
    ago = t - s.clash_ring
    newly = ~s.escalated & rules.clashes_within(ago, pt.escalation_window, pt.escalation_clashes)
    s.escalation_day = np.where(newly, t, s.escalation_day)
    s.escalated = s.escalated | newly
    newly = ~s.sustained & rules.clashes_within(ago, pt.sustained_window, pt.sustained_clashes)
    s.sustained_day = np.where(newly, t, s.sustained_day)
    s.sustained = s.sustained | newly
    s.first_clash_day = np.where(clash & (s.first_clash_day == NO_DAY), t, s.first_clash_day)
    s.clashes = s.clashes + clash

    # 8. slow drift (structure.reaction=richardson: first the militias' grievance answers Sadr's wing)
    if relapse:  # the calm that rested on the visit's pressure lapses with it
        released = rules.calm_released(calm, rules.decay(pt.pressure_half_life))
        s.calm = rules.relax(calm - released, 0.0, pt.grievance_half_life)  # the drift returns its share too
        if legit:
            L = rules.relapsed(L, -released)
        else:
            g = rules.relapsed(g, released)
    if legit:  # hardship and legitimacy drift back; grievance follows
        if reaction == 1:
            H = rules.militia_reaction(H, m, pt.richardson_militia_reaction)
        s.hardship = rules.relax(H, pt.grievance, pt.grievance_half_life)
        s.legitimacy = rules.relax(L, pt.legitimacy_base, pt.grievance_half_life)
        s.grievance = rules.epstein_grievance(s.hardship, s.legitimacy, pt.legitimacy_base)
    else:
        if reaction == 1:
            g = rules.militia_reaction(g, m, pt.richardson_militia_reaction)
        s.grievance = rules.relax(g, pt.grievance, pt.grievance_half_life)
    s.discipline = rules.relax(d, pt.discipline, pt.discipline_half_life)
    s.hostility_us = rules.relax(h, pt.hostility_us, pt.grievance_half_life)
    s.pressure = rules.relax(p, 0.0, pt.pressure_half_life)
    s.independence = rules.drift_independence(s.independence, pt.independence_drift)
    s.sadr_grievance = rules.relax(gs, pt.sadr_grievance_base, pt.grievance_half_life)
    s.rivalry = rules.relax(rivalry, pt.rivalry_base, pt.rivalry_half_life)
    s.order_days = np.maximum(s.order_days - 1, 0)
    s.sadr_order_days = np.maximum(s.sadr_order_days - 1, 0)

    # bookkeeping for the record and for tomorrow
    s.boycott_ended = s.boycott_ended | (~s.participating & part)
    s.boycott_clash_days = s.boycott_clash_days + (clash & ~part)
    s.participating, s.commitment = part, commitment
    s.boycott_days = s.boycott_days + ~part
    s.mobilisation = m
    s.contests, s.restraint, s.active, s.share = contests, restraint, active, share
    s.attacks_state = s.attacks_state + att_state
    s.attacks_us = s.attacks_us + att_us
    s.attacks_us_today = np.count_nonzero(att_us, axis=1, keepdims=True)
    s.retaliations = s.retaliations + retaliated
    s.hazard, s.clash = hazard, clash
    s.tension = rules.tension(v, m, s.rivalry, *_weights(pt))
    s.salient = n_att > 0
    s.forced_intervention = np.zeros_like(s.forced_intervention)
    return daily_record(s, n_att)


def run_batch(
    scenario: Scenario,
    params_rows: Sequence[Any],
    militias_rows: Sequence[Sequence[Militia]],
    seed: int | np.ndarray,
    replicates: np.ndarray,
    keep_daily: bool = True,
    daily_columns: Sequence[str] | None = None,
) -> BatchResult:
    """Run rows (replicate index + parameter point each) through the whole scenario at once.

    ``params_rows``/``militias_rows`` have one entry per row, or one shared by all rows; ``seed``
    is one seed or one per row. A row's result depends only on (its seed, its replicate index,
    its parameters). ``daily_columns`` limits the daily series kept (default: all)."""
    split = split_by_structure(run_batch, scenario, params_rows, militias_rows, seed, replicates,
                              keep_daily=keep_daily, daily_columns=daily_columns)  # fmt: skip
    if split is not None:
        return split
    replicates = np.asarray(replicates, dtype=np.int64)
    R = len(replicates)
    seed = np.broadcast_to(np.asarray(seed, dtype=np.uint64), (R,)).reshape(R, 1, 1)
    pt = point_arrays(params_rows, militias_rows)
    n_cells = int(np.max(pt.cells_per_militia))
    if np.any(pt.cells_per_militia != n_cells):
        raise ValueError("cells_per_militia must be equal within one batch (array shape); split the batch")
    s = initial_state(pt, seed, replicates, n_cells, clash_window(pt))
    s.tension = rules.tension(0.0, s.mobilisation, s.rivalry, *_weights(pt))
    rep_key = kr.replicate_key(seed, replicates.astype(np.uint64).reshape(R, 1, 1))
    sums = empty_sums(R)
    daily: dict[str, np.ndarray] | None = None
    for t in range(scenario.days):
        rec = step(s, t, scenario, pt, militias_rows[0], rep_key)
        accumulate(sums, rec)
        if keep_daily:
            if daily_columns is not None:
                rec = {k: rec[k] for k in daily_columns}
            if daily is None:
                daily = {k: np.empty((scenario.days, R), dtype=np.asarray(v).dtype) for k, v in rec.items()}
            for k, v in rec.items():
                daily[k][t] = v
    return BatchResult(runs=run_record(s, sums, scenario.days, militias_rows[0]), daily=daily)


def split_by_structure(run: Any, scenario: Scenario, params_rows: Sequence[Any],
                       militias_rows: Sequence[Sequence[Militia]], seed: Any, replicates: Any,
                       **kw: Any) -> BatchResult | None:  # fmt: skip
    """A batch whose rows run different structures, run as one batch per structure and put back in row order
    (a row's result depends only on its own seed, replicate and parameters, so this changes no bit); None when
    every row runs the same structure (run it as it is)."""
    if len(params_rows) <= 1:
        return None
    first = params_rows[0]
    keys = [tuple(getattr(p, m.param) for m in MECHANISMS) for p in params_rows]
    if all(k == keys[0] for k in keys) or all(p is first for p in params_rows):
        return None
    replicates = np.asarray(replicates, dtype=np.int64)
    R = len(replicates)
    seed = np.broadcast_to(np.asarray(seed, dtype=np.uint64), (R,))
    militias_rows = list(militias_rows) if len(militias_rows) == R else [militias_rows[0]] * R
    groups: dict[tuple, list[int]] = {}
    for i, k in enumerate(keys):
        groups.setdefault(k, []).append(i)
    runs: dict[str, np.ndarray] = {}
    daily: dict[str, np.ndarray] | None = None
    for rows in groups.values():
        idx = np.asarray(rows)
        res = run(scenario, [params_rows[i] for i in rows], [militias_rows[i] for i in rows], seed[idx],
                  replicates[idx], **kw)  # fmt: skip
        for k, v in res.runs.items():
            runs.setdefault(k, np.empty(R, dtype=v.dtype))[idx] = v
        if res.daily is not None:
            daily = {} if daily is None else daily
            for k, v in res.daily.items():
                daily.setdefault(k, np.empty((v.shape[0], R), dtype=v.dtype))[:, idx] = v
    return BatchResult(runs={k: runs[k] for k in res.runs}, daily=None if daily is None else
                       {k: daily[k] for k in res.daily})  # fmt: skip
