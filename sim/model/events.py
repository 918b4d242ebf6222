"""Effects of scenario events (step 1 of each day), applied in place to a State.
Both engines call apply_events: the vector core on its batch, the Mesa model on its agents' gathered state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sim.model import rules
from sim.model.params import Militia
from sim.model.scenario import FIELD_BY_KIND, MEDIATORS, SHOCKABLE, Event
from sim.model.state import Point, State


def _militia_mask(actor: str | None, militias: Sequence[Militia], bloc: str | None = None) -> np.ndarray:
    """(1, M, 1) mask of the militias an event names: one key, all ('militias'), or a bloc."""
    if bloc is not None:
        sel = [m.bloc == bloc for m in militias]
    elif actor in (None, "militias"):
        sel = [True] * len(militias)
    else:
        sel = [m.key == actor for m in militias]
    return np.array(sel, dtype=bool).reshape(1, -1, 1)


def _add(arr: np.ndarray, delta, mask=True) -> None:
    arr[...] = np.where(mask, rules.clip01(arr + delta), arr)


def _add_grievance(state: State, pt: Point, delta, mask=True) -> None:
    """A militia grievance shock: on grievance itself (structure.grievance=additive), or on hardship, grievance
    following as H (1 - L) (structure.grievance=legitimacy)."""
    if pt.code("grievance") == 0:
        _add(state.grievance, delta, mask)
    else:
        _add(state.hardship, delta, mask)
        _regrieve(state, pt)


def _add_legitimacy(state: State, pt: Point, delta, mask=True) -> None:
    """structure.grievance=legitimacy: legitimacy moved (vote, ratification, attack), grievance following."""
    _add(state.legitimacy, delta, mask)
    _regrieve(state, pt)


def _regrieve(state: State, pt: Point) -> None:
    state.grievance[...] = rules.epstein_grievance(state.hardship, state.legitimacy, pt.legitimacy_base)


def field_value(ev: Event, name: str, pt: Point) -> Any:
    """An event's field: the scenario's value if it gives one, else the declared default, which for
    magnitudes is a declared parameter (so it is swept, sampled and documented like any other)."""
    if name in ev.data:
        return ev.data[name]
    spec = FIELD_BY_KIND[ev.kind][name]
    return getattr(pt, spec.param) if spec.param else spec.default


def mediation_credibility(ev: Event, pt: Point):
    """The mediation's credibility with Sadr: its mediators' involvement and credibility, combined."""
    involvement = field_value(ev, "mediators", pt)
    if not isinstance(involvement, dict):
        involvement = {name: 1.0 for name in involvement}
    credibility = {"patron": pt.patron_present * pt.patron_credibility_sadr, "sistani": pt.sistani_credibility}
    assert set(credibility) == set(MEDIATORS)
    names = list(involvement)
    return rules.mediator_credibility([float(involvement[n]) for n in names], [credibility[n] for n in names])


def apply_events(state: State, events: Sequence[Event], pt: Point, militias: Sequence[Militia]) -> None:
    """Apply today's events in the scenario's order (each event sees the previous one's effects)."""
    legit = pt.code("grievance") == 1 if events else False
    for ev in events:
        def f(name: str, ev: Event = ev) -> Any:
            return field_value(ev, name, pt)

        if ev.kind == "election":
            for bloc, (before, after) in dict(f("seats")).items():
                change = rules.election_grievance(float(before), float(after), 1.0, pt.election_gain_relief)
                delta = pt.election_shock * change
                if bloc == f("sadr_bloc"):
                    _add(state.sadr_grievance, delta)
                    # a gain is a stake that walking out would forfeit (¶25); a loss leaves none
                    state.sadr_stake[...] = pt.election_stake * (float(after) > float(before))
                elif legit:  # the losers withdraw legitimacy from the result (¶3, ¶28), the winners grant it
                    _add_legitimacy(state, pt, -pt.election_legitimacy * change, _militia_mask(None, militias, bloc))
                else:
                    _add(state.grievance, delta, _militia_mask(None, militias, bloc))
            _add(state.rivalry, f("rivalry"))
        elif ev.kind == "boycott":
            # A political act: Sadr withdraws and commits to it publicly; nobody is armed by it.
            state.commitment[...] = np.where(state.participating, pt.boycott_commitment, state.commitment)
            state.participating[...] = False
        elif ev.kind == "mediation":
            state.sadr_grievance[...] = rules.mediated(state.sadr_grievance, mediation_credibility(ev, pt),
                                                       pt.mediation_effect)  # fmt: skip
        elif ev.kind == "attack":
            target, by = f("target"), f("actor")
            if target == "us":
                if by in (m.key for m in militias):
                    state.attacks_us[...] += _militia_mask(by, militias)
            else:
                if by in (m.key for m in militias):
                    state.attacks_state[...] += _militia_mask(by, militias)
                state.salient[...] = True
                if legit:
                    _add_legitimacy(state, pt, pt.attack_legitimacy)
                state.sadr_grievance[...] = rules.after_attacks(state.sadr_grievance, 1, pt.attack_sadr_grievance)
                state.rivalry[...] = rules.after_attacks(state.rivalry, 1, pt.attack_rivalry)
        elif ev.kind == "intervention":
            state.forced_intervention[...] = True
        elif ev.kind in ("ratification", "coalition"):
            # A named militia (actor) wins over a bloc; with neither, the losing Fatah bloc.
            bloc = None if f("actor") else f("bloc")
            mask = _militia_mask(f("actor"), militias, bloc)
            if legit and ev.kind == "ratification":  # a political act: it moves legitimacy; a grievance the
                _add_legitimacy(state, pt, -pt.ratification_legitimacy, mask)  # scenario gives is hardship
                if "grievance" in ev.data:
                    _add_grievance(state, pt, f("grievance"), mask)
            else:
                _add_grievance(state, pt, f("grievance"), mask)
            _add(state.rivalry, f("rivalry"))
        elif ev.kind == "deadline":
            mask = _militia_mask(f("actor"), militias)
            _add(state.hostility_us, f("hostility_us"), mask)
            _add_grievance(state, pt, f("grievance"), mask)
        elif ev.kind == "truce":
            # The camp's truce with US forces begins or ends (a negotiated pause, not a change of heart:
            # hostility stays as it is; the exposure rule reads the truce)
            state.truce[...] = 1.0 if f("phase") == "begins" else 0.0
        elif ev.kind == "order":
            actor, days = f("actor"), f("days")
            if actor == "sadr":
                # A single leader's order: the armed wing stands down in proportion to discipline.
                state.mobilisation[...] = rules.stood_down(state.mobilisation, pt.sadr_discipline)
                state.sadr_order_days[...] = days
            else:
                mask = _militia_mask(actor, militias)
                state.order_days[...] = np.where(mask, days, state.order_days)
                _add(state.discipline, f("discipline"), mask)
        elif ev.kind == "shock":
            actor, variable = f("actor"), f("variable")
            group = "militia" if actor not in ("patron", "sadr", "pm", "world") else actor
            name = SHOCKABLE[(group, variable)]  # checked when the scenario was loaded
            mask = _militia_mask(actor, militias) if group == "militia" else True
            if name == "grievance":
                _add_grievance(state, pt, float(f("delta")), mask)
            else:
                _add(getattr(state, name), float(f("delta")), mask)
