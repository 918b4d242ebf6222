"""Effects of scenario events (step 1 of each day), applied in place to a State.
Both engines call apply_events: the vector core on its batch, the Mesa model on its agents' gathered state."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.model import rules
from sim.model.params import Militia
from sim.model.scenario import SHOCKABLE, Event
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


def apply_events(state: State, events: Sequence[Event], pt: Point, militias: Sequence[Militia]) -> None:
    """Apply today's events in the scenario's order (each event sees the previous one's effects)."""
    for ev in events:
        d = ev.data
        if ev.kind == "election":
            for bloc, (before, after) in dict(d["seats"]).items():
                delta = pt.election_shock * rules.election_grievance(float(before), float(after), 1.0)
                if bloc == d.get("sadr_bloc", "sadrist"):
                    _add(state.sadr_grievance, delta)
                else:
                    _add(state.grievance, delta, _militia_mask(None, militias, bloc))
            _add(state.rivalry, float(d.get("rivalry", 0.0)))
        elif ev.kind == "boycott":
            state.participating[...] = False
            state.sadr_grievance[...] = np.maximum(state.sadr_grievance, pt.boycott_commitment)
        elif ev.kind == "mediation":
            weights = dict(d.get("mediators", {"patron": 1.0}))
            credibility = sum(
                float(w) * (pt.patron_present * pt.patron_influence if name == "patron" else 1.0)
                for name, w in weights.items()
            )
            state.sadr_grievance[...] = rules.mediated(state.sadr_grievance, credibility, pt.mediation_effect)
        elif ev.kind == "attack":
            target = d.get("target", "pm")
            by = d.get("actor")
            if target == "us":
                if by in (m.key for m in militias):
                    state.attacks_us[...] += _militia_mask(by, militias)
            else:
                if by in (m.key for m in militias):
                    state.attacks_state[...] += _militia_mask(by, militias)
                state.salient[...] = True
                _add(state.sadr_grievance, pt.attack_sadr_grievance)
                _add(state.rivalry, pt.attack_rivalry)
        elif ev.kind == "intervention":
            state.forced_intervention[...] = True
        elif ev.kind in ("ratification", "coalition"):
            # A named militia (actor) wins over a bloc; with neither, the losing Fatah bloc.
            bloc = None if d.get("actor") else d.get("bloc", "fatah")
            mask = _militia_mask(d.get("actor"), militias, bloc)
            _add(state.grievance, float(d.get("grievance", 0.1)), mask)
            _add(state.rivalry, float(d.get("rivalry", 0.0)))
        elif ev.kind == "deadline":
            mask = _militia_mask(d.get("actor"), militias)
            _add(state.hostility_us, float(d.get("hostility_us", 0.2)), mask)
            _add(state.grievance, float(d.get("grievance", 0.0)), mask)
        elif ev.kind == "order":
            actor = d.get("actor", "sadr")
            if actor == "sadr":
                # A single leader's order: the armed wing stands down in proportion to discipline.
                state.mobilisation[...] = state.mobilisation * (1.0 - pt.sadr_discipline)
                state.sadr_order_days[...] = int(d.get("days", 7))
            else:
                mask = _militia_mask(actor, militias)
                state.order_days[...] = np.where(mask, int(d.get("days", 7)), state.order_days)
                _add(state.discipline, float(d.get("discipline", 0.0)), mask)
        elif ev.kind == "shock":
            actor, variable = d["actor"], d["variable"]
            group = "militia" if actor not in ("patron", "sadr", "pm", "world") else actor
            name = SHOCKABLE.get((group, variable))
            if name is None:
                allowed = ", ".join(f"{a}.{v}" for a, v in SHOCKABLE)
                raise ValueError(f"shock {actor}.{variable} is not shockable; allowed: {allowed}")
            mask = _militia_mask(actor, militias) if group == "militia" else True
            _add(getattr(state, name), float(d["delta"]), mask)
