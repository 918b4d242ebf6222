"""The model's state as arrays shaped (replicates, militias, cells), and its initialisation.
Per-replicate values are (R, 1, 1), per-militia (R, M, 1), per-cell (R, M, n); all broadcast together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from sim.model import keyed_random as kr
from sim.model import rules
from sim.model.params import PARAMS, Militia

NO_DAY = -1  # marks "never happened" in day-valued outcomes
FAR_PAST = -(10**6)


@dataclass
class Point:
    """Parameter values for each row of a batch: every field broadcasts against (R, 1, 1)."""

    values: dict[str, np.ndarray]
    loyalty: np.ndarray  # (R or 1, M, 1)
    independence_offset: np.ndarray
    discipline: np.ndarray
    hostility_us: np.ndarray
    grievance: np.ndarray

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def code(self, mechanism: str) -> int:
        """Which alternative of ``mechanism`` this batch runs (sim/model/structures.py): one for every row, since
        the engines run each structure as its own batch (sim.engines.vector.split_by_structure)."""
        v = np.asarray(self.values[f"structure_{mechanism}"])
        if np.any(v != v.flat[0]):
            raise ValueError(f"rows of one batch run different structures ({mechanism}): split the batch")
        return int(v.flat[0])


def point_arrays(params_rows: Sequence[Any], militias_rows: Sequence[Sequence[Militia]]) -> Point:
    """Stack per-row Params and militia tables into broadcastable arrays (rows = replicates)."""
    values = {}
    for p in PARAMS:
        col = np.array([getattr(r, p.name) for r in params_rows])
        if np.all(col == col[0]):
            col = col[:1]  # a shared value stays a (1, 1, 1) array: cheaper and identical
        values[p.name] = col.reshape(-1, 1, 1)

    def militia_col(attr: str) -> np.ndarray:
        arr = np.array([[getattr(m, attr) for m in ms] for ms in militias_rows], dtype=np.float64)
        if np.all(arr == arr[:1]):
            arr = arr[:1]
        return arr[:, :, None]

    return Point(
        values=values,
        loyalty=militia_col("loyalty"),
        independence_offset=militia_col("independence_offset"),
        discipline=militia_col("discipline"),
        hostility_us=militia_col("hostility_us"),
        grievance=militia_col("grievance"),
    )


@dataclass
class State:
    """Everything that changes during a run, for R replicates at once."""

    # patron
    attention: np.ndarray
    cooldown: np.ndarray
    interventions: np.ndarray
    intervened: np.ndarray
    # militia leaders (R, M, 1)
    grievance: np.ndarray
    discipline: np.ndarray
    independence: np.ndarray
    hostility_us: np.ndarray
    pressure: np.ndarray
    hardship: np.ndarray  # structure.grievance=legitimacy: Epstein's H and L (grievance = H (1 - L) / (1 - L0))
    legitimacy: np.ndarray
    calm: np.ndarray  # structure.relapse=beardsley: the calm a visit bought that rests on its pressure
    contests: np.ndarray
    restraint: np.ndarray
    share: np.ndarray
    order_days: np.ndarray
    attacks_state: np.ndarray
    attacks_us: np.ndarray
    retaliations: np.ndarray
    targeted: np.ndarray
    # cells (R, M, n)
    offset: np.ndarray
    risk: np.ndarray
    active: np.ndarray
    # Sadr's bloc and the PM (R, 1, 1)
    sadr_grievance: np.ndarray
    participating: np.ndarray
    commitment: np.ndarray
    sadr_stake: np.ndarray
    sadr_u_walk: np.ndarray
    sadr_u_return: np.ndarray
    mobilisation: np.ndarray
    boycott_days: np.ndarray
    boycott_ended: np.ndarray
    boycott_clash_days: np.ndarray
    sadr_order_days: np.ndarray
    capacity: np.ndarray
    # the camp and US forces (R, 1, 1): a truce in force (1) or not (0); attacks on US assets today
    truce: np.ndarray
    attacks_us_today: np.ndarray
    # the house
    rivalry: np.ndarray
    tension: np.ndarray
    hazard: np.ndarray
    salient: np.ndarray
    forced_intervention: np.ndarray
    clash: np.ndarray
    clash_ring: np.ndarray
    clashes: np.ndarray
    escalated: np.ndarray
    escalation_day: np.ndarray
    sustained: np.ndarray
    sustained_day: np.ndarray
    first_clash_day: np.ndarray

    def copy(self) -> State:
        return State(**{f.name: getattr(self, f.name).copy() for f in fields(self)})


def cell_traits(seed: int, replicate, militia, cell, sd):
    """A cell's fixed grievance offset and risk aversion, from its own keyed draws."""
    uid = kr.cell_uid(militia, cell)
    rep_key = kr.replicate_key(seed, replicate)
    u_off = kr.uniform_from_key(kr.step_key(rep_key, -1, kr.Purpose.CELL_OFFSET), uid)
    u_risk = kr.uniform_from_key(kr.step_key(rep_key, -1, kr.Purpose.CELL_RISK), uid)
    return sd * kr.normal_from_uniform(u_off), u_risk


def sadr_traits(seed, replicate):
    """Sadr's fixed decision draws for a run: where his walk-out and return thresholds fall in their
    spread (sadr_tau). A single leader decides deterministically given his thresholds; what is
    uncertain is where they lie, so they are drawn once per run, not every day."""
    rep_key = kr.replicate_key(seed, replicate)
    u_walk = kr.uniform_from_key(kr.step_key(rep_key, -1, kr.Purpose.BOYCOTT), kr.SADR_UID)
    u_return = kr.uniform_from_key(kr.step_key(rep_key, -1, kr.Purpose.RETURN), kr.SADR_UID)
    return u_walk, u_return


CASCADE_ROUNDS = 200  # rounds of Granovetter's process that settle the wing at rest (structure.mobilisation=cascade)


def structure_code(pt: Any, mechanism: str) -> int:
    """Which alternative of ``mechanism`` a Point (one structure per batch) or a Params runs."""
    return pt.code(mechanism) if isinstance(pt, Point) else int(getattr(pt, f"structure_{mechanism}"))


def initial_mobilisation(pt: Any):
    """The armed wing at rest: its target at the bloc's baseline grievance, no refusals, no violence
    and the rivalry at its baseline (so the reaction terms add nothing). Under the cascade, the share out at
    rest is the process's lowest equilibrium: CASCADE_ROUNDS rounds from nobody out (a fixed number, so that
    every engine takes the same steps)."""
    threat = rules.sadr_threat(pt.sadr_grievance_base, 0.0, 0.0, pt.rivalry_base, pt.rivalry_base,
                               pt.threat_refusal, pt.threat_violence, pt.threat_rivalry)  # fmt: skip
    if structure_code(pt, "mobilisation") == 0:
        return rules.mobilisation_target(threat, pt.mobilisation_threshold, pt.mobilisation_tau)
    m = 0.0 * threat
    for _ in range(CASCADE_ROUNDS):
        m = rules.cascade_target(threat, m, pt.cascade_peer_weight, pt.mobilisation_threshold, pt.mobilisation_tau)
    return m


def clash_window(pt: Any) -> int:
    """Days of clash history the escalation and sustained-fighting criteria need."""
    return int(max(np.max(pt.escalation_window), np.max(pt.sustained_window)))


def initial_state(pt: Point, seed, replicates: np.ndarray, n_cells: int, window: int) -> State:
    """Day -1: baselines from the declaration, cell traits from keyed draws."""
    R = len(replicates)
    M = pt.loyalty.shape[1]
    reps = np.asarray(replicates, dtype=np.uint64).reshape(R, 1, 1)

    def full(value, shape, dtype=np.float64):
        return np.broadcast_to(np.asarray(value, dtype=dtype), shape).copy()

    r1, rm, rc = (R, 1, 1), (R, M, 1), (R, M, n_cells)
    offset, risk = cell_traits(
        seed, reps, np.arange(M).reshape(1, M, 1), np.arange(n_cells).reshape(1, 1, n_cells), pt.cell_grievance_sd
    )
    u_walk, u_return = sadr_traits(seed, reps)
    return State(
        attention=full(pt.patron_attention_initial, r1),
        cooldown=full(0, r1, np.int64),
        interventions=full(0, r1, np.int64),
        intervened=full(False, r1, bool),
        grievance=full(pt.grievance, rm),
        discipline=full(pt.discipline, rm),
        independence=full(rules.independence(pt.militia_independence, pt.independence_offset), rm),
        hostility_us=full(pt.hostility_us, rm),
        pressure=full(0.0, rm),
        hardship=full(pt.grievance, rm),
        legitimacy=full(pt.legitimacy_base, rm),
        calm=full(0.0, rm),
        contests=full(False, rm, bool),
        restraint=full(pt.discipline, rm),
        share=full(0.0, rm),
        order_days=full(0, rm, np.int64),
        attacks_state=full(0, rm, np.int64),
        attacks_us=full(0, rm, np.int64),
        retaliations=full(0, rm, np.int64),
        targeted=full(False, rm, bool),
        offset=full(offset, rc),
        risk=full(risk, rc),
        active=full(False, rc, bool),
        sadr_grievance=full(pt.sadr_grievance_base, r1),
        participating=full(True, r1, bool),
        commitment=full(0.0, r1),
        sadr_stake=full(0.0, r1),
        sadr_u_walk=full(u_walk, r1),
        sadr_u_return=full(u_return, r1),
        mobilisation=full(initial_mobilisation(pt), r1),
        boycott_days=full(0, r1, np.int64),
        boycott_ended=full(False, r1, bool),
        boycott_clash_days=full(0, r1, np.int64),
        sadr_order_days=full(0, r1, np.int64),
        capacity=full(pt.state_capacity, r1),
        truce=full(0.0, r1),
        attacks_us_today=full(0, r1, np.int64),
        rivalry=full(pt.rivalry_base, r1),
        tension=full(0.0, r1),
        hazard=full(0.0, r1),
        salient=full(False, r1, bool),
        forced_intervention=full(False, r1, bool),
        clash=full(False, r1, bool),
        clash_ring=full(FAR_PAST, (R, 1, window), np.int64),
        clashes=full(0, r1, np.int64),
        escalated=full(False, r1, bool),
        escalation_day=full(NO_DAY, r1, np.int64),
        sustained=full(False, r1, bool),
        sustained_day=full(NO_DAY, r1, np.int64),
        first_clash_day=full(NO_DAY, r1, np.int64),
    )
