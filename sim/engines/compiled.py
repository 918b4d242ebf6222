"""The compiled engine: the whole day in numba, one thread per replicate at a time (``prange``), with
exactly the vector engine's results (tested bit for bit, tests/test_compiled.py).

Rules are written once, in sim/model/rules.py: the compiled day calls those very functions, which numba
compiles for scalars. Only the helpers that rules build on get scalar versions here (``sigmoid``: scipy's
expit is 1 / (1 + exp(-x)) with libm's exp, which numba calls too; ``clip01``; ``where``; and
``expm1``/``exp2``, which call scipy's own cephes C functions through their exported addresses). Array
bookkeeping the vector engine does with numpy (which militias the patron targets, counts of active cells
and of clash-days) is written as loops here and tested against the rule it mirrors.

Scenario events (sim/model/events.py) stay Python: the batch runs compiled from one event day to the next,
and ``apply_events`` changes the same State arrays in place between those stretches, so a new event kind
needs no porting. The compiled code does not see monkeypatches of sim.model.rules (the mutation suite
patches them and runs the vector engine); run_batch refuses to run while a rule is patched.

What makes it fast, besides compiling: a replicate's state stays in cache for its whole run; each half-life's
daily decay (rules.decay) is computed once per run; the expected cost and the state-attack hazard, functions of
a militia's count of active cells, are memoised by count; and a cheap bound (above_logistic) settles most idle
cells without the exp. Each gives the same bits (tested).

No fastmath, no SVML, no fused multiply-add (tested on a fresh compile): any would change the last bits.
numba's cache (``cache=True``) checks only this file's date, so the sources compiled in are fingerprinted into
the parameter records' type: a change to the rules or the keyed random numbers compiles afresh."""

from __future__ import annotations

import hashlib
import inspect
import itertools
import threading
from collections import namedtuple
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import llvmlite.binding as llvm
import numba
import numpy as np
from numba import types
from numba.extending import get_cython_function_address, overload, register_jitable

from sim.engines.vector import BatchResult, split_by_structure
from sim.model import keyed_random as kr
from sim.model import rules
from sim.model.events import apply_events
from sim.model.outcomes import DAILY_COLUMNS, MILITIA_DAILY, empty_sums, run_record
from sim.model.params import PARAMS, Militia
from sim.model.scenario import Scenario
from sim.model.state import FAR_PAST, NO_DAY, State, clash_window, initial_state, point_arrays

JIT_OPTIONS = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}

# ----------------------------------------------------------------------------- scalar helpers for the rules

# scipy.special's expm1 and exp2 (cephes) by their C addresses, under names the compiled code links against:
# the cache stores the name, not the address, so it stays valid in a new process.
llvm.add_symbol("militia_sim_expm1", get_cython_function_address("scipy.special.cython_special", "__pyx_fuse_1expm1"))
llvm.add_symbol("militia_sim_exp2", get_cython_function_address("scipy.special.cython_special", "exp2"))
_c_expm1 = types.ExternalFunction("militia_sim_expm1", types.float64(types.float64))
_c_exp2 = types.ExternalFunction("militia_sim_exp2", types.float64(types.float64))


@overload(rules.expm1, jit_options=JIT_OPTIONS)
def _expm1(x):
    return lambda x: _c_expm1(x)


@overload(rules.exp2, jit_options=JIT_OPTIONS)
def _exp2(x):
    return lambda x: _c_exp2(x)


@overload(rules.sigmoid, jit_options=JIT_OPTIONS)
def _sigmoid(x, out=None):
    # scipy's expit for float64: 1 / (1 + std::exp(-x)); numba's np.exp is the same libm exp
    return lambda x, out=None: 1.0 / (1.0 + np.exp(-x))


@overload(rules.clip01, jit_options=JIT_OPTIONS)
def _clip01(x):
    # numpy's clip: max then min, each "a if a > b else b" / "a if a < b else b" (NaN kept)
    def impl(x):
        if x != x:
            return x
        lo = x if x > 0.0 else 0.0
        return lo if lo < 1.0 else 1.0

    return impl


@overload(rules.where, jit_options=JIT_OPTIONS)
def _where(cond, a, b):
    return lambda cond, a, b: a if cond else b


@overload(rules.activation_probability, jit_options=JIT_OPTIONS)
def _activation_probability(g_cell, risk, cost, restraint_, threshold, tau):
    # the rule's scalar path (its array path works in place, which numba cannot type for scalars)
    def impl(g_cell, risk, cost, restraint_, threshold, tau):
        return rules.activation_formula(g_cell, risk * cost, restraint_ + threshold, tau)

    return impl


# Every other rule is compiled as written (register_jitable keeps the Python function as it is).
SCALAR_RULES = (
    "relax", "decay", "relax_by", "us_exposure", "daily_hazard", "leverage", "patron_decides", "militia_score",
    "intervene", "attention_after", "drift_independence", "cooldown_after", "contest_probability",
    "leader_contests", "cell_grievance", "expected_cost", "restraint", "relayed_restraint", "activation_formula",
    "activation_net", "within_cohesion", "after_retaliation", "after_attacks", "boycott_probability",
    "return_probability", "participation_after", "commitment_after", "sadr_threat", "mobilisation_target",
    "mobilisation_after", "stood_down", "sadr_restrains", "clash_hazard", "after_clash", "tension",
    # the rival alternatives (sim/model/structures.py)
    "leverage_persuasion_coercion", "coerces", "berated", "richardson_threat", "militia_reaction", "cascade_target",
    "clash_hazard_interposed", "epstein_grievance", "legitimised", "calm_bought", "calm_released", "relapsed",
)  # fmt: skip
for _name in SCALAR_RULES:
    register_jitable(**JIT_OPTIONS)(getattr(rules, _name))
register_jitable(**JIT_OPTIONS)(kr.finalise)

# The functions compiled in, as they were at import: run_batch refuses to run if any was replaced since.
_HELPERS = ("activation_probability", "sigmoid", "clip01", "where", "expm1", "exp2")
_COMPILED_IN = {name: getattr(rules, name) for name in (*SCALAR_RULES, *_HELPERS)}


def _fingerprint() -> str:
    """A hash of the sources compiled in. numba's cache checks only this file's date, not the rules' or the
    keyed random numbers' files; the hash is a field name of the parameter records (part of the compiled
    function's signature), so a change to any of them compiles afresh instead of loading stale code."""
    h = hashlib.sha256()
    for mod in (rules, kr, inspect.getmodule(_fingerprint)):
        h.update(Path(inspect.getfile(mod)).read_bytes())
    h.update(numba.__version__.encode())
    return h.hexdigest()[:16]


FINGERPRINT = _fingerprint()
_KIND = {float: np.float64, int: np.int64, bool: np.bool_}
PARAM_DTYPE = np.dtype([(p.name, _KIND[p.kind]) for p in PARAMS] + [(f"src_{FINGERPRINT}", np.uint8)], align=True)

# The State's fields, by name, as one argument; built from the dataclass, so a new field is there at once.
StateArrays = namedtuple("StateArrays", [f.name for f in fields(State)])  # type: ignore[misc]
DAILY_SCALARS = DAILY_COLUMNS
DailyArrays = namedtuple("DailyArrays", [*DAILY_SCALARS, *MILITIA_DAILY])  # type: ignore[misc]
DAILY_DTYPES = {"participating": np.bool_, "intervened": np.bool_, "clash": np.bool_,
                "attacks_state_today": np.int64, "attacks_us_today": np.int64, "contests": np.bool_}  # fmt: skip
MIL_FIELDS = ("loyalty", "independence_offset", "discipline", "hostility_us", "grievance")
LOYALTY, DISCIPLINE, HOSTILITY, GRIEVANCE = 0, 2, 3, 4

_P = kr.Purpose
STANCE, CELL_ACTIVE, ATTACK_STATE, ATTACK_US, RETALIATION, CLASH, SADR_ORDER = (
    int(_P.STANCE), int(_P.CELL_ACTIVE), int(_P.ATTACK_STATE), int(_P.ATTACK_US), int(_P.RETALIATION),
    int(_P.CLASH), int(_P.SADR_ORDER),
)  # fmt: skip
N_PURPOSES = max(int(p) for p in _P) + 1
_S11, _TO_UNIT = kr._S11, kr._TO_UNIT


@numba.njit(inline="always", **JIT_OPTIONS)
def _unit(key, agent_mult):
    """kr.uniform_from_key for one agent, with ``agent_mult`` = its uid x the agent multiplier."""
    return np.float64(kr.finalise(key + agent_mult) >> _S11) * _TO_UNIT


@numba.njit(inline="always", **JIT_OPTIONS)
def above_logistic(u, x):
    """True only where ``u >= rules.sigmoid(x)`` for sure, decided without the exp (False: not decided here).

    For x < 0, with y = -x: e^y >= 1 + y + y^2/2 + y^3/6 + y^4/24 (every term is positive), so
    sigmoid(x) = 1 / (1 + e^y) <= 1 / b with b = 2 + y + y^2/2 + y^3/6 + y^4/24. The sigmoid as computed
    (libm's exp, an add and a division) is within about 4 ulps (5e-16) of the exact one, relatively, and b
    and u x b as computed within about 12 ulps; so u x b >= 1 + 1e-12 means u > the computed sigmoid, and the
    cell does not act, exactly as if the sigmoid had been computed. (u = 0 with b = inf gives NaN: not
    decided.) Most cells are far from acting, so most skip the exp; branch-free, so the loop vectorises."""
    y = -x
    b = 2.0 + y * (1.0 + y * (0.5 + y * (1.0 / 6.0 + y * (1.0 / 24.0))))
    return (y > 0.0) & (u * b >= 1.0 + 1e-12)


@numba.njit(**JIT_OPTIONS)
def target_mask_row(score, k, out):
    """rules.target_mask along one row: rank by score, highest first, ties to the lower index."""
    M = score.shape[0]
    for j in range(M):
        rank = 0
        for i in range(M):
            if score[i] > score[j] or (score[i] == score[j] and i < j):
                rank += 1
        out[j] = rank < k


# ----------------------------------------------------------------------------- the day


@numba.njit(**JIT_OPTIONS)
def _replicate_days(r, t0, t1, s, prm, mil, rep_key, offs, leader_mult, cell_mult, patron_mult, sadr_mult, d, sums):
    """Days t0..t1-1 of replicate r (events of day t0 already applied): vector.step, one replicate at a time."""
    pt = prm[min(r, prm.shape[0] - 1)]  # one row: shared by all replicates
    mr = min(r, mil.shape[0] - 1)
    M = s.grievance.shape[1]
    n = s.active.shape[2]
    W = s.clash_ring.shape[2]
    lam = np.empty(M)
    g = np.empty(M)
    dis = np.empty(M)
    prs = np.empty(M)
    h = np.empty(M)
    hard = np.empty(M)  # structure.grievance=legitimacy: hardship and legitimacy of the day
    legit = np.empty(M)
    calm = np.empty(M)  # structure.relapse=beardsley: the calm resting on a visit's pressure
    score = np.empty(M)
    targeted = np.empty(M, dtype=np.bool_)
    contests = np.empty(M, dtype=np.bool_)
    share = np.empty(M)
    att_state = np.empty(M, dtype=np.bool_)
    att_us = np.empty(M, dtype=np.bool_)
    retaliated = np.empty(M, dtype=np.bool_)
    key = rep_key[r, 0, 0]
    # what does not change from day to day, computed once: the daily decay of each half-life, and the two
    # functions of a militia's count of active cells (its share is count / n: at most n + 1 values), by count
    decay_grievance = rules.decay(pt.grievance_half_life)
    decay_discipline = rules.decay(pt.discipline_half_life)
    decay_pressure = rules.decay(pt.pressure_half_life)
    decay_rivalry = rules.decay(pt.rivalry_half_life)
    cost_by_count = np.full(n + 1, np.nan)  # rules.expected_cost: capacity changes only on event days
    hazard_by_count = np.full(n + 1, np.nan)  # rules.daily_hazard of the attacks on the state
    prev_count = np.full(M, -1)
    u_cell = np.empty(n)
    x_cell = np.empty(n)
    idle = np.empty(n, dtype=np.bool_)  # yesterday's count (-1: before this stretch, read the share itself)
    for t in range(t0, t1):
        # 2. patron (structure.leverage: 0 Salehyan's one lever, 1 persuasion or coercion)
        for j in range(M):
            if pt.structure_leverage == 0:
                lam[j] = rules.leverage(
                    pt.patron_present, pt.patron_influence, mil[mr, LOYALTY, j], s.independence[r, j, 0]
                )
            else:
                lam[j] = rules.leverage_persuasion_coercion(
                    pt.patron_present, pt.patron_influence, mil[mr, LOYALTY, j], s.independence[r, j, 0],
                    pt.coercion_strength,
                )  # fmt: skip
            score[j] = rules.militia_score(s.share[r, j, 0], s.grievance[r, j, 0])
        intervened = rules.patron_decides(
            pt.patron_present, pt.patron_intervenes, s.attention[r, 0, 0], s.cooldown[r, 0, 0], s.tension[r, 0, 0],
            s.salient[r, 0, 0], s.forced_intervention[r, 0, 0], pt.patron_trigger, pt.patron_attention_cost,
        )  # fmt: skip
        target_mask_row(score, pt.patron_targets, targeted)
        for j in range(M):
            targeted[j] = intervened and targeted[j]
            if pt.structure_grievance == 1:  # the message raises legitimacy; grievance is H (1 - L)
                hard[j] = s.hardship[r, j, 0]
                legit[j] = rules.legitimised(s.legitimacy[r, j, 0], lam[j], targeted[j], pt.intervention_legitimacy)
                g[j] = rules.epstein_grievance(hard[j], legit[j], pt.legitimacy_base)
                _, dis[j], prs[j] = rules.intervene(
                    g[j], s.discipline[r, j, 0], s.pressure[r, j, 0], lam[j], targeted[j], 0.0,
                    pt.intervention_discipline_effect,
                )  # fmt: skip
                if pt.structure_relapse == 1:
                    calm[j] = rules.calm_bought(s.calm[r, j, 0], legit[j] - s.legitimacy[r, j, 0], pt.relapse_share)
            else:
                g[j], dis[j], prs[j] = rules.intervene(
                    s.grievance[r, j, 0], s.discipline[r, j, 0], s.pressure[r, j, 0], lam[j], targeted[j],
                    pt.intervention_grievance_effect, pt.intervention_discipline_effect,
                )  # fmt: skip
                if pt.structure_relapse == 1:
                    calm[j] = rules.calm_bought(s.calm[r, j, 0], s.grievance[r, j, 0] - g[j], pt.relapse_share)
            if pt.structure_leverage == 1:
                coerced = rules.coerces(pt.patron_influence, mil[mr, LOYALTY, j], s.independence[r, j, 0],
                                        pt.coercion_strength)  # fmt: skip
                if pt.structure_grievance == 1:
                    hard[j] = rules.berated(hard[j], targeted[j], coerced, s.independence[r, j, 0],
                                            pt.coercion_strength, pt.coercion_backlash)  # fmt: skip
                    g[j] = rules.epstein_grievance(hard[j], legit[j], pt.legitimacy_base)
                else:
                    g[j] = rules.berated(g[j], targeted[j], coerced, s.independence[r, j, 0], pt.coercion_strength,
                                         pt.coercion_backlash)  # fmt: skip
        s.attention[r, 0, 0] = rules.attention_after(
            s.attention[r, 0, 0], intervened, pt.patron_attention_cost, pt.patron_attention_recovery,
            pt.patron_distraction,
        )  # fmt: skip
        s.cooldown[r, 0, 0] = rules.cooldown_after(s.cooldown[r, 0, 0], intervened, pt.patron_cooldown)
        s.interventions[r, 0, 0] += intervened
        s.intervened[r, 0, 0] = intervened
        for j in range(M):
            s.targeted[r, j, 0] = targeted[j]

        # 3. leaders choose a stance
        k_stance = kr.finalise(key ^ offs[t, STANCE])
        n_contest = 0
        for j in range(M):
            p_contest = rules.contest_probability(
                g[j], lam[j], prs[j], pt.standing_leverage, s.contests[r, j, 0], pt.stance_threshold, pt.stance_tau,
                pt.stance_hysteresis,
            )  # fmt: skip
            contests[j] = rules.leader_contests(_unit(k_stance, leader_mult[j]), p_contest, s.order_days[r, j, 0])
            n_contest += contests[j]

        # 4. cells act (Epstein)
        k_cell = kr.finalise(key ^ offs[t, CELL_ACTIVE])
        n_active = 0
        for j in range(M):
            pc = prev_count[j]
            if pc < 0:
                cost = rules.expected_cost(pt.arrest_k, s.capacity[r, 0, 0], s.share[r, j, 0], n)
            else:
                if cost_by_count[pc] != cost_by_count[pc]:
                    cost_by_count[pc] = rules.expected_cost(pt.arrest_k, s.capacity[r, 0, 0], pc / n, n)
                cost = cost_by_count[pc]
            restraint = rules.relayed_restraint(
                s.restraint[r, j, 0], rules.restraint(contests[j], dis[j], pt.contest_boost), dis[j]
            )
            s.restraint[r, j, 0] = restraint
            # rules.activation_probability per cell, in passes: the draws and the logistic's arguments, then
            # the cells a bound shows to stay idle (both loops the compiler vectorises), then the logistic
            # itself for the others (libm's exp, one at a time)
            bias = restraint + pt.cell_threshold
            for c in range(n):
                u_cell[c] = _unit(k_cell, cell_mult[j, c])
                x_cell[c] = rules.activation_net(
                    rules.cell_grievance(g[j], s.offset[r, j, c]), s.risk[r, j, c] * cost, bias, pt.cell_tau
                )
            for c in range(n):
                idle[c] = above_logistic(u_cell[c], x_cell[c])
            count = 0
            for c in range(n):
                act = False if idle[c] else u_cell[c] < rules.sigmoid(x_cell[c])
                s.active[r, j, c] = act
                count += act
            share[j] = count / n
            prev_count[j] = count
            n_active += count

        # 5. attacks on the state and on US assets, US retaliation
        k_state = kr.finalise(key ^ offs[t, ATTACK_STATE])
        k_us = kr.finalise(key ^ offs[t, ATTACK_US])
        k_ret = kr.finalise(key ^ offs[t, RETALIATION])
        n_att = 0
        n_att_us = 0
        for j in range(M):
            h[j] = s.hostility_us[r, j, 0]
            c = prev_count[j]  # today's count
            if hazard_by_count[c] != hazard_by_count[c]:
                hazard_by_count[c] = rules.daily_hazard(pt.attack_rate_state, share[j])
            att_state[j] = _unit(k_state, leader_mult[j]) < hazard_by_count[c]
            exposure = rules.us_exposure(share[j], h[j], pt.front_activity, s.truce[r, 0, 0], pt.truce_compliance)
            att_us[j] = _unit(k_us, leader_mult[j]) < rules.daily_hazard(pt.attack_rate_us, exposure)
            n_att_us += att_us[j]
            retaliated[j] = att_us[j] and _unit(k_ret, leader_mult[j]) < pt.us_retaliation_prob
            if pt.structure_grievance == 1:
                hard[j], h[j] = rules.after_retaliation(
                    hard[j], h[j], retaliated[j], pt.retaliation_grievance, pt.retaliation_hostility
                )
            else:
                g[j], h[j] = rules.after_retaliation(
                    g[j], h[j], retaliated[j], pt.retaliation_grievance, pt.retaliation_hostility
                )
            n_att += att_state[j]
        if pt.structure_grievance == 1:  # an attack on the state moves legitimacy
            for j in range(M):
                legit[j] = rules.after_attacks(legit[j], n_att, pt.attack_legitimacy)
                g[j] = rules.epstein_grievance(hard[j], legit[j], pt.legitimacy_base)

        # 6. Sadr's bloc
        gs = rules.after_attacks(s.sadr_grievance[r, 0, 0], n_att, pt.attack_sadr_grievance)
        rivalry = rules.after_attacks(s.rivalry[r, 0, 0], n_att, pt.attack_rivalry)
        participating = s.participating[r, 0, 0]
        part = rules.participation_after(
            participating, s.sadr_u_walk[r, 0, 0], s.sadr_u_return[r, 0, 0], gs, s.commitment[r, 0, 0],
            s.sadr_stake[r, 0, 0], pt.boycott_threshold, pt.return_threshold, pt.sadr_tau,
        )  # fmt: skip
        commitment = rules.commitment_after(participating, part, s.commitment[r, 0, 0], pt.boycott_commitment)
        v = n_active / (M * n)
        threat = rules.sadr_threat(
            gs, n_contest / M, v, rivalry, pt.rivalry_base, pt.threat_refusal, pt.threat_violence, pt.threat_rivalry
        )
        if pt.structure_reaction == 1:  # rules.militia_excess, summed left to right as it does
            excess = g[0] - mil[mr, GRIEVANCE, 0]
            for j in range(1, M):
                excess = excess + (g[j] - mil[mr, GRIEVANCE, j])
            threat = rules.richardson_threat(threat, excess / M, pt.richardson_sadr_reaction)
        if pt.structure_mobilisation == 0:
            target = rules.mobilisation_target(threat, pt.mobilisation_threshold, pt.mobilisation_tau)
        else:
            target = rules.cascade_target(threat, s.mobilisation[r, 0, 0], pt.cascade_peer_weight,
                                          pt.mobilisation_threshold, pt.mobilisation_tau)  # fmt: skip
        m = rules.mobilisation_after(s.mobilisation[r, 0, 0], target, pt.mobilisation_rate, s.sadr_order_days[r, 0, 0])

        # 7. intra-Shi'ite clash and the severity ladder
        if pt.structure_clash == 0:
            hazard = rules.clash_hazard(pt.clash_kappa, v, m)
        else:
            hazard = rules.clash_hazard_interposed(pt.encounter_rate, v, m, pt.arrest_k, s.capacity[r, 0, 0], n)
        clash = _unit(kr.finalise(key ^ offs[t, CLASH]), patron_mult) < hazard
        for j in range(M):
            if pt.structure_grievance == 1:
                hard[j] = rules.after_clash(hard[j], clash, pt.clash_grievance)
                g[j] = rules.epstein_grievance(hard[j], legit[j], pt.legitimacy_base)
            else:
                g[j] = rules.after_clash(g[j], clash, pt.clash_grievance)
        gs = rules.after_clash(gs, clash, pt.clash_grievance)
        rivalry = rules.after_clash(rivalry, clash, pt.clash_rivalry)
        halt = rules.sadr_restrains(_unit(kr.finalise(key ^ offs[t, SADR_ORDER]), sadr_mult), clash, pt.sadr_restraint)
        if halt:
            m = rules.stood_down(m, pt.sadr_discipline)
            s.sadr_order_days[r, 0, 0] = pt.order_days
        s.clash_ring[r, 0, t % W] = t if clash else FAR_PAST
        n_esc = 0
        n_sus = 0
        for i in range(W):
            ago = t - s.clash_ring[r, 0, i]
            n_esc += ago < pt.escalation_window
            n_sus += ago < pt.sustained_window
        if not s.escalated[r, 0, 0] and n_esc >= pt.escalation_clashes:
            s.escalation_day[r, 0, 0] = t
            s.escalated[r, 0, 0] = True
        if not s.sustained[r, 0, 0] and n_sus >= pt.sustained_clashes:
            s.sustained_day[r, 0, 0] = t
            s.sustained[r, 0, 0] = True
        if clash and s.first_clash_day[r, 0, 0] == NO_DAY:
            s.first_clash_day[r, 0, 0] = t
        s.clashes[r, 0, 0] += clash

        # 8. slow drift (structure.reaction=richardson: first the militias' grievance answers Sadr's wing)
        for j in range(M):
            if pt.structure_relapse == 1:  # the calm that rested on the visit's pressure lapses with it
                released = rules.calm_released(calm[j], decay_pressure)
                s.calm[r, j, 0] = rules.relax_by(calm[j] - released, 0.0, decay_grievance)
                if pt.structure_grievance == 1:
                    legit[j] = rules.relapsed(legit[j], -released)
                else:
                    g[j] = rules.relapsed(g[j], released)
            if pt.structure_grievance == 1:  # hardship and legitimacy drift back; grievance follows
                if pt.structure_reaction == 1:
                    hard[j] = rules.militia_reaction(hard[j], m, pt.richardson_militia_reaction)
                s.hardship[r, j, 0] = rules.relax_by(hard[j], mil[mr, GRIEVANCE, j], decay_grievance)
                s.legitimacy[r, j, 0] = rules.relax_by(legit[j], pt.legitimacy_base, decay_grievance)
                s.grievance[r, j, 0] = rules.epstein_grievance(s.hardship[r, j, 0], s.legitimacy[r, j, 0],
                                                               pt.legitimacy_base)  # fmt: skip
            else:
                if pt.structure_reaction == 1:
                    g[j] = rules.militia_reaction(g[j], m, pt.richardson_militia_reaction)
                s.grievance[r, j, 0] = rules.relax_by(g[j], mil[mr, GRIEVANCE, j], decay_grievance)
            s.discipline[r, j, 0] = rules.relax_by(dis[j], mil[mr, DISCIPLINE, j], decay_discipline)
            s.hostility_us[r, j, 0] = rules.relax_by(h[j], mil[mr, HOSTILITY, j], decay_grievance)
            s.pressure[r, j, 0] = rules.relax_by(prs[j], 0.0, decay_pressure)
            s.independence[r, j, 0] = rules.drift_independence(s.independence[r, j, 0], pt.independence_drift)
            s.order_days[r, j, 0] = max(s.order_days[r, j, 0] - 1, 0)
        s.sadr_grievance[r, 0, 0] = rules.relax_by(gs, pt.sadr_grievance_base, decay_grievance)
        s.rivalry[r, 0, 0] = rules.relax_by(rivalry, pt.rivalry_base, decay_rivalry)
        s.sadr_order_days[r, 0, 0] = max(s.sadr_order_days[r, 0, 0] - 1, 0)

        # bookkeeping for the record and for tomorrow
        s.boycott_ended[r, 0, 0] = s.boycott_ended[r, 0, 0] or (not participating and part)
        s.boycott_clash_days[r, 0, 0] += clash and not part
        s.participating[r, 0, 0] = part
        s.commitment[r, 0, 0] = commitment
        s.boycott_days[r, 0, 0] += not part
        s.mobilisation[r, 0, 0] = m
        for j in range(M):
            s.contests[r, j, 0] = contests[j]
            s.share[r, j, 0] = share[j]
            s.attacks_state[r, j, 0] += att_state[j]
            s.attacks_us[r, j, 0] += att_us[j]
            s.retaliations[r, j, 0] += retaliated[j]
        s.attacks_us_today[r, 0, 0] = n_att_us
        s.hazard[r, 0, 0] = hazard
        s.clash[r, 0, 0] = clash
        tension = rules.tension(v, m, s.rivalry[r, 0, 0], pt.tension_weight_violence,
                                pt.tension_weight_mobilisation, pt.tension_weight_rivalry)  # fmt: skip
        s.tension[r, 0, 0] = tension
        s.salient[r, 0, 0] = n_att > 0
        s.forced_intervention[r, 0, 0] = False

        # the day's record (outcomes.daily_record) and the run's sums (outcomes.accumulate)
        coh = rules.within_cohesion(contests[0], share[0]) * 1.0
        gsum = s.grievance[r, 0, 0] * 1.0
        dsum = s.discipline[r, 0, 0] * 1.0
        for j in range(1, M):
            coh = coh + rules.within_cohesion(contests[j], share[j])
            gsum = gsum + s.grievance[r, j, 0]
            dsum = dsum + s.discipline[r, j, 0]
        cohesion_within = coh / M
        cohesion_house = 1.0 - s.rivalry[r, 0, 0]
        sums[0, r] = sums[0, r] + cohesion_within
        sums[1, r] = sums[1, r] + cohesion_house
        sums[2, r] = np.maximum(sums[2, r], tension)
        if d.tension.size:
            d.tension[r, t] = tension
        if d.hazard.size:
            d.hazard[r, t] = hazard
        if d.violence.size:
            d.violence[r, t] = v
        if d.mobilisation.size:
            d.mobilisation[r, t] = m
        if d.sadr_grievance.size:
            d.sadr_grievance[r, t] = s.sadr_grievance[r, 0, 0]
        if d.rivalry.size:
            d.rivalry[r, t] = s.rivalry[r, 0, 0]
        if d.participating.size:
            d.participating[r, t] = part
        if d.attention.size:
            d.attention[r, t] = s.attention[r, 0, 0]
        if d.intervened.size:
            d.intervened[r, t] = intervened
        if d.clash.size:
            d.clash[r, t] = clash
        if d.attacks_state_today.size:
            d.attacks_state_today[r, t] = n_att
        if d.attacks_us_today.size:
            d.attacks_us_today[r, t] = n_att_us
        if d.cohesion_within.size:
            d.cohesion_within[r, t] = cohesion_within
        if d.cohesion_house.size:
            d.cohesion_house[r, t] = cohesion_house
        if d.grievance_mean.size:
            d.grievance_mean[r, t] = gsum / M
        if d.discipline_mean.size:
            d.discipline_mean[r, t] = dsum / M
        for j in range(M):
            if d.grievance.size:
                d.grievance[r, j, t] = s.grievance[r, j, 0]
            if d.discipline.size:
                d.discipline[r, j, t] = s.discipline[r, j, 0]
            if d.share.size:
                d.share[r, j, t] = share[j]
            if d.contests.size:
                d.contests[r, j, t] = contests[j]


@numba.njit(parallel=True, **JIT_OPTIONS)
def run_days(t0, t1, s, prm, mil, rep_key, offs, leader_mult, cell_mult, patron_mult, sadr_mult, d, sums):
    """Days t0..t1-1 of every replicate, replicates spread over numba's threads."""
    for i in numba.prange(rep_key.shape[0]):
        _replicate_days(
            np.int64(i), t0, t1, s, prm, mil, rep_key, offs, leader_mult, cell_mult, patron_mult, sadr_mult, d, sums
        )


# ----------------------------------------------------------------------------- the batch

_LOCK = threading.Lock()  # one compiled call at a time: each uses all its threads (and not every layer is threadsafe)


def param_records(params_rows: Sequence[Any]) -> np.ndarray:
    """The rows' parameters as records (one row if all rows share them), fields from the declaration."""
    first = params_rows[0]
    rows = params_rows if any(r is not first and r != first for r in params_rows) else params_rows[:1]
    rec = np.zeros(len(rows), dtype=PARAM_DTYPE)
    for p in PARAMS:
        rec[p.name] = [getattr(r, p.name) for r in rows]
    return rec


def militia_table(pt: Any) -> np.ndarray:
    """(rows, field, militia) float64: the militia table's per-row values (one row if shared)."""
    cols = [getattr(pt, f)[:, :, 0] for f in MIL_FIELDS]
    rows = max(c.shape[0] for c in cols)
    return np.ascontiguousarray(np.stack([np.broadcast_to(c, (rows, c.shape[1])) for c in cols], axis=1))


def _agent_mult(uid) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.asarray(uid, dtype=np.uint64) * kr._AGENT


def _check_rules() -> None:
    patched = [name for name, fn in _COMPILED_IN.items() if getattr(rules, name) is not fn]
    if patched:
        raise RuntimeError(f"sim.model.rules.{patched[0]} was replaced after the compiled engine was built; it runs "
                           "the rules as written (use engine=vector for patched rules)")  # fmt: skip


def run_batch(
    scenario: Scenario,
    params_rows: Sequence[Any],
    militias_rows: Sequence[Sequence[Militia]],
    seed: int | np.ndarray,
    replicates: np.ndarray,
    keep_daily: bool = True,
    daily_columns: Sequence[str] | None = None,
    threads: int | None = None,
) -> BatchResult:
    """sim.engines.vector.run_batch's contract and results, compiled; ``threads``: numba threads (default all)."""
    _check_rules()
    split = split_by_structure(run_batch, scenario, params_rows, militias_rows, seed, replicates,
                              keep_daily=keep_daily, daily_columns=daily_columns, threads=threads)  # fmt: skip
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
    s.tension = rules.tension(0.0, s.mobilisation, s.rivalry, pt.tension_weight_violence,
                              pt.tension_weight_mobilisation, pt.tension_weight_rivalry)  # fmt: skip
    s.tension = np.array(np.broadcast_to(s.tension, (R, 1, 1)), dtype=np.float64)  # own, writable
    rep_key = kr.replicate_key(seed, replicates.astype(np.uint64).reshape(R, 1, 1))
    M = pt.loyalty.shape[1]
    T = scenario.days
    offs = np.array([[kr.step_offset(t, p) for p in range(N_PURPOSES)] for t in range(T)], dtype=np.uint64)
    leader_mult = _agent_mult(kr.leader_uid(np.arange(M)))
    cell_mult = _agent_mult(kr.cell_uid(np.arange(M).reshape(M, 1), np.arange(n_cells).reshape(1, n_cells)))
    patron_mult, sadr_mult = _agent_mult(kr.PATRON_UID)[()], _agent_mult(kr.SADR_UID)[()]
    if daily_columns is not None:
        unknown = set(daily_columns) - set(DAILY_COLUMNS) - {f"{k}_{j}" for k in MILITIA_DAILY for j in range(M)}
        if unknown:
            raise KeyError(sorted(unknown)[0])
    # Daily columns are written replicate-major, (R, days) and (R, militias, days), only those asked for
    # (the others are empty); the result holds their transposes, (days, R), as the vector engine's do.
    def wanted(name: str, per_militia: bool) -> bool:
        if not keep_daily:
            return False
        if daily_columns is None:
            return True
        return any(f"{name}_{j}" in daily_columns for j in range(M)) if per_militia else name in daily_columns

    d = DailyArrays(*[np.empty((R, T) if wanted(k, False) else (0, 0), DAILY_DTYPES.get(k, np.float64))
                      for k in DAILY_SCALARS],
                    *[np.empty((R, M, T) if wanted(k, True) else (0, 0, 0), DAILY_DTYPES.get(k, np.float64))
                      for k in MILITIA_DAILY])  # fmt: skip
    sums = np.zeros((3, R))
    prm = param_records(params_rows)
    if numba.config.DISABLE_JIT:  # plain Python reads a record's fields as attributes from a recarray only
        prm = prm.view(np.recarray)
    mil = militia_table(pt)
    arrays = StateArrays(**{f.name: getattr(s, f.name) for f in fields(State)})
    for name, a in arrays._asdict().items():
        if not (isinstance(a, np.ndarray) and a.flags.c_contiguous and a.flags.writeable and a.shape[0] == R):
            raise TypeError(f"state.{name} must be a writable C-contiguous array with one row per replicate")
    event_days = sorted({e.day for e in scenario.events if 0 <= e.day < T})
    bounds = sorted({0, *event_days, T})
    with _LOCK, np.errstate(over="ignore"):  # numpy's uint64 overflow warnings, if NUMBA_DISABLE_JIT is set
        numba.set_num_threads(min(threads or numba.config.NUMBA_NUM_THREADS, numba.config.NUMBA_NUM_THREADS))
        for t0, t1 in itertools.pairwise(bounds):
            apply_events(s, scenario.events_on(t0), pt, militias_rows[0])
            for name, a in arrays._asdict().items():
                if getattr(s, name) is not a:
                    raise RuntimeError(f"an event replaced state.{name} instead of changing it in place")
            run_days(t0, t1, arrays, prm, mil, rep_key, offs, leader_mult, cell_mult, patron_mult, sadr_mult, d, sums)
    daily = None
    if keep_daily:
        out: dict[str, np.ndarray] = {k: getattr(d, k).T for k in DAILY_SCALARS if getattr(d, k).size}
        for k in MILITIA_DAILY:
            if getattr(d, k).size:
                for j in range(M):
                    out[f"{k}_{j}"] = getattr(d, k)[:, j, :].T
        daily = out if daily_columns is None else {k: out[k] for k in daily_columns}
    sums_d = {"cohesion_within": sums[0], "cohesion_house": sums[1], "peak_tension": sums[2]}
    assert set(sums_d) == set(empty_sums(0))
    return BatchResult(runs=run_record(s, sums_d, T, militias_rows[0]), daily=daily)
