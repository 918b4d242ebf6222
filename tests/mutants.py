"""Deliberately broken variants of the model, for the mutation suite (tests/test_mutations.py): each is one
plausible bug in one rule, patched where the vector engine calls it (sim.model.rules, an event or the table)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from patterns import Runner

from sim.engines import vector
from sim.model import events, rules
from sim.model.params import MILITIAS, Militia
from sim.model.scenario import Scenario

# Where a patch's name points: "rules.f" (both engines call the rules there), "events.f" (the event
# effects' module), "vector.f" (a name the vector engine imported), "Scenario.f" (a method).
HOMES: dict[str, Any] = {"rules": rules, "events": events, "vector": vector, "Scenario": Scenario}
FIELDS = ("loyalty", "independence_offset", "discipline", "hostility_us", "grievance")


@dataclass(frozen=True)
class Mutant:
    """A named break: ``patches`` ("home.name" -> replacement of the same signature), and/or a changed
    militia table (``militias``: a function of the declared table)."""

    name: str
    description: str
    patches: dict[str, Callable] = field(default_factory=dict)
    militias: Callable[[tuple[Militia, ...]], tuple[Militia, ...]] | None = None

    @contextmanager
    def applied(self) -> Iterator[Runner]:
        targets = [(HOMES[where.split(".")[0]], where.split(".")[1], fn) for where, fn in self.patches.items()]
        saved = [(home, name, home.__dict__[name]) for home, name, _ in targets]
        try:
            for home, name, fn in targets:
                setattr(home, name, fn)
            yield Runner(militias=self.militias(MILITIAS) if self.militias else MILITIAS)
        finally:
            for home, name, fn in saved:
                setattr(home, name, fn)


# The originals, captured at import (before any mutant is applied), for mutants that wrap them.
_r = {name: getattr(rules, name) for name in dir(rules) if not name.startswith("_")}
_apply_events = vector.apply_events


def _contest(standing: float = 1.0, hysteresis: float = 1.0, leverage_sign: float = 1.0) -> Callable:
    def contest_probability(grievance, lam, pressure, standing_, contested, threshold, tau, hysteresis_):
        return rules.sigmoid((grievance - leverage_sign * lam * (standing * standing_ + pressure) - threshold
                              + hysteresis * hysteresis_ * contested) / tau)  # fmt: skip

    return contest_probability


def _decides(salient_seen: bool = True, tension_seen: bool = True, below: bool = False) -> Callable:
    def patron_decides(present, intervenes, attention, cooldown, tension, salient, forced, trigger, cost):
        over = (tension < trigger) if below else (tension > trigger)
        wants = ((over & tension_seen) & (cooldown <= 0)) | (salient & salient_seen)
        return present & intervenes & (forced | (wants & (attention >= cost)))

    return patron_decides


def _intervene(g_sign: float = -1.0, reset_pressure: bool = True) -> Callable:
    def intervene(grievance, discipline, pressure, lam, targeted, grievance_effect, discipline_effect):
        g = np.where(targeted, rules.clip01(grievance + g_sign * lam * grievance_effect), grievance)
        d = np.where(targeted, rules.clip01(discipline + lam * discipline_effect), discipline)
        p = np.where(targeted, 1.0, pressure) if reset_pressure else pressure
        return g, d, p

    return intervene


def _threat(absolute_rivalry: bool = False, reactions: bool = True) -> Callable:
    def sadr_threat(grievance, refusing, violence, rivalry, rivalry_base, w_refusal, w_violence, w_rivalry):
        if not reactions:
            return grievance + 0.0 * refusing
        above = rivalry if absolute_rivalry else rivalry - rivalry_base
        return grievance + w_refusal * refusing + w_violence * violence + w_rivalry * above

    return sadr_threat


def _participation(stake_sign: float = -1.0, commitment: bool = True) -> Callable:
    def participation_after(participating, u_walk, u_return, grievance, commitment_, stake, boycott_threshold,
                            return_threshold, tau):  # fmt: skip
        walks_out = u_walk < rules.boycott_probability(grievance + stake_sign * stake, boycott_threshold, tau)
        held = commitment_ if commitment else 0.0
        returns = u_return < rules.return_probability(grievance + held, return_threshold, tau)
        return np.where(participating, ~walks_out, returns)

    return participation_after


def _election_grievance(gain_relief: bool = True, gain_angers: bool = False) -> Callable:
    def election_grievance(seats_before, seats_after, shock, relief):
        change = (seats_after - seats_before) / max(seats_before, 1)
        if gain_angers:
            return shock * abs(change)
        return -shock * change if (change < 0 or not gain_relief) else -relief * shock * change

    return election_grievance


def _stake_never_set(state, evs, pt, militias):
    _apply_events(state, evs, pt, militias)
    state.sadr_stake[...] = 0.0


def _truce_never_lapses(state, evs, pt, militias):
    _apply_events(state, tuple(e for e in evs if not (e.kind == "truce" and e.data.get("phase") == "ends")),
                  pt, militias)  # fmt: skip


def _a_day_late(kind: str) -> Callable:
    def events_on(self, day):
        return tuple(e for e in self.events
                     if (e.day == day and e.kind != kind) or (e.day == day - 1 and e.kind == kind))  # fmt: skip

    return events_on


def _swap(a: str, b: str, attr: str) -> Callable:
    """The militia table with ``attr`` of militias ``a`` and ``b`` exchanged (a copy-paste slip)."""
    def table(militias: tuple[Militia, ...]) -> tuple[Militia, ...]:
        by = {m.key: m for m in militias}
        va, vb = getattr(by[a], attr), getattr(by[b], attr)
        return tuple(dataclasses.replace(m, **{attr: vb if m.key == a else va if m.key == b else getattr(m, attr)})
                     for m in militias)  # fmt: skip

    return table


def _alike(militias: tuple[Militia, ...]) -> tuple[Militia, ...]:
    means = {f: float(np.mean([getattr(m, f) for m in militias])) for f in FIELDS}
    return tuple(dataclasses.replace(m, **means) for m in militias)


M = Mutant
MUTANTS: tuple[Mutant, ...] = (
    # --- the patron's leverage and decision
    M("leverage_ignores_influence", "leverage is loyalty x (1 - independence): the commander does not matter",
      {"rules.leverage": lambda present, influence, loyalty, ind: present * loyalty * (1.0 - ind)}),
    M("leverage_grows_with_independence", "leverage uses independence where it should use 1 - independence",
      {"rules.leverage": lambda present, influence, loyalty, ind: present * influence * loyalty * ind}),
    M("leverage_from_disloyalty", "leverage uses 1 - loyalty: the patron holds its least loyal clients best",
      {"rules.leverage": lambda present, influence, loyalty, ind: present * influence * (1 - loyalty) * (1 - ind)}),
    M("patron_ignores_salient_events", "a salient event (the attack on the PM) no longer overrides the cooldown",
      {"rules.patron_decides": _decides(salient_seen=False)}),
    M("trigger_off", "the patron ignores tension and acts only on salient or forced days",
      {"rules.patron_decides": _decides(tension_seen=False)}),
    M("trigger_inverted", "the patron intervenes when tension is below its trigger (< for >)",
      {"rules.patron_decides": _decides(below=True)}),
    M("targets_least_pressing", "the visit reaches the least pressing militias (sort order not reversed)",
      {"rules.target_mask": lambda score, k, axis=1: _r["target_mask"](-score, k, axis)}),
    M("score_ignores_activity", "the patron ranks militias by grievance alone, not yesterday's activity",
      {"rules.militia_score": lambda share, grievance: grievance + 0.0 * share}),
    M("intervention_raises_grievance", "an intervention adds to targeted leaders' grievance (sign flipped)",
      {"rules.intervene": _intervene(g_sign=1.0)}),
    M("intervention_no_pressure", "an intervention does not reset the visit's pressure",
      {"rules.intervene": _intervene(reset_pressure=False)}),
    # --- leaders and cells
    M("leverage_provokes", "leverage raises the chance a leader contests (sign flipped)",
      {"rules.contest_probability": _contest(leverage_sign=-1.0)}),
    M("no_standing_leverage", "leverage restrains leaders only while a visit's pressure lasts",
      {"rules.contest_probability": _contest(standing=0.0)}),
    M("stance_without_memory", "a leader's stance is redrawn each day, with no hysteresis",
      {"rules.contest_probability": _contest(hysteresis=0.0)}),
    M("hysteresis_sign_flipped", "a contesting leader backs down sooner, not later (hysteresis subtracted)",
      {"rules.contest_probability": _contest(hysteresis=-1.0)}),
    M("contest_boost_sign", "a contesting leader restrains its cells by contest_boost instead of urging them",
      {"rules.restraint": lambda contests, d, boost: np.where(contests, boost, d)}),
    M("no_safety_in_numbers", "a cell's expected cost ignores how many acted yesterday",
      {"rules.expected_cost": lambda k, cap, share, n: _r["expected_cost"](k, cap, 0.0 * share, n)}),
    M("militias_alike", "every militia gets the camp's mean loyalty, offset, discipline, hostility, grievance",
      militias=_alike),
    M("hostility_kss_badr_swapped", "Badr's and KSS's hostility to US forces exchanged in the militia table",
      militias=_swap("kss", "badr", "hostility_us")),
    M("discipline_pmf_badr_swapped", "Badr's and the PMF's discipline exchanged in the militia table",
      militias=_swap("pmf", "badr", "discipline")),
    # --- outcomes and Sadr's bloc
    M("attacks_calm_sadr", "an attack on the state lowers Sadr's grievance and the rivalry (sign flipped)",
      {"rules.after_attacks": lambda x, n, per: rules.clip01(x - per * n)}),
    M("attack_a_day_late", "the attack on the PM takes effect the day after its date",
      {"Scenario.events_on": _a_day_late("attack")}),
    M("election_a_day_late", "the election takes effect the day after its date",
      {"Scenario.events_on": _a_day_late("election")}),
    M("election_gain_angers", "a bloc that gains seats is angered as if it had lost them",
      {"rules.election_grievance": _election_grievance(gain_angers=True)}),
    M("no_loss_aversion", "a gain calms as much as a loss angers (gain_relief not applied)",
      {"rules.election_grievance": _election_grievance(gain_relief=False)}),
    M("stake_never_set", "a won election gives Sadr no stake against walking out",
      {"vector.apply_events": _stake_never_set}),
    M("stake_sign_flipped", "the stake is added to grievance in the walk-out decision instead of subtracted",
      {"rules.participation_after": _participation(stake_sign=1.0)}),
    M("return_ignores_commitment", "a boycotting Sadr weighs his grievance without the boycott's commitment",
      {"rules.participation_after": _participation(commitment=False)}),
    M("walkout_inverted", "Sadr walks out when his grievance is below the threshold (sign flipped)",
      {"rules.boycott_probability": lambda g, threshold, tau: rules.sigmoid((threshold - g) / tau)}),
    M("mediation_product", "mediators persuade jointly (product of credibilities) instead of by noisy-or",
      {"rules.mediator_credibility": lambda ws, cs: float(np.prod([rules.clip01(w) * rules.clip01(c)
                                                                    for w, c in zip(ws, cs, strict=True)]))}),
    M("mediation_angers", "mediation adds to Sadr's grievance (sign flipped)",
      {"rules.mediated": lambda g, cred, effect: rules.clip01(g + effect * rules.clip01(cred))}),
    # --- attacks on US forces
    M("no_standing_front", "attacks on US forces need mobilised cells: the standing front is ignored",
      {"rules.us_exposure": lambda share, h, front, truce, c: h * share * (1.0 - c * truce)}),
    M("truce_ignored", "the truce holds no attack back",
      {"rules.us_exposure": lambda share, h, front, truce, c: h * (front + (1.0 - front) * share) + 0.0 * truce * c}),
    M("truce_never_lapses", "the truce's end on 31 December is not applied: it holds to the end of the run",
      {"vector.apply_events": _truce_never_lapses}),
    # --- Sadr's armed wing, the clash and escalation
    M("threat_rivalry_not_centred", "the threat reads the rivalry itself, not its rise above the baseline",
      {"rules.sadr_threat": _threat(absolute_rivalry=True)}),
    M("threat_is_grievance", "the armed wing reads only Sadr's grievance (the reaction terms dropped)",
      {"rules.sadr_threat": _threat(reactions=False)}),
    M("mobilisation_sign_flipped", "the armed wing mobilises as threat falls (threshold - threat)",
      {"rules.mobilisation_target": lambda threat, threshold, tau: rules.sigmoid((threshold - threat) / tau)}),
    M("stood_down_inverted", "an order sends home the undisciplined share (x discipline, not x (1 - discipline))",
      {"rules.stood_down": lambda mobilisation, discipline: mobilisation * discipline}),
    M("sadr_never_halts", "Sadr never orders his wing home after a clash",
      {"rules.sadr_restrains": lambda u, clash, restraint: clash & False}),
    M("sadr_halts_any_day", "Sadr's halt is drawn every day, not only after a clash day",
      {"rules.sadr_restrains": lambda u, clash, restraint: (u < restraint) | (clash & False)}),
    M("hazard_ignores_violence", "the clash hazard depends on Sadr's mobilisation only",
      {"rules.clash_hazard": lambda kappa, violence, mobilisation: rules.daily_hazard(kappa, mobilisation)}),
    M("no_clash_feedback", "a clash raises neither grievance nor rivalry",
      {"rules.after_clash": lambda x, clash, rise: x}),
    M("no_decay", "nothing returns to its baseline (relax returns its input)",
      {"rules.relax": lambda x, base, half_life: x + 0.0 * base}),
)
del M
