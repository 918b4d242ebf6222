"""Deliberately broken variants of the model, for the mutation suite (tests/test_mutations.py).
Each replaces rules in sim.model.rules (both engines call them there) or the militia table."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from patterns import MILITIA_ATTRS, Runner

from sim.model import rules
from sim.model.params import MILITIAS, Militia


@dataclass(frozen=True)
class Mutant:
    """A named break: rules replaced by ``patches`` (name -> function of the same signature), and
    optionally every militia made alike (the camp's mean values)."""

    name: str
    description: str
    patches: dict[str, Callable] = field(default_factory=dict)
    militias_alike: bool = False

    @contextmanager
    def applied(self) -> Iterator[Runner]:
        saved = {name: getattr(rules, name) for name in self.patches}
        try:
            for name, fn in self.patches.items():
                setattr(rules, name, fn)
            yield Runner(militias=_alike(MILITIAS) if self.militias_alike else MILITIAS)
        finally:
            for name, fn in saved.items():
                setattr(rules, name, fn)


def _alike(militias: tuple[Militia, ...]) -> tuple[Militia, ...]:
    means = {f: float(np.mean([getattr(m, f) for m in militias])) for f in MILITIA_ATTRS}
    return tuple(dataclasses.replace(m, **means) for m in militias)


_original = {name: getattr(rules, name) for name in ("contest_probability", "patron_decides")}


def _contest_without(standing: bool = True, hysteresis: bool = True) -> Callable:
    def contest_probability(grievance, lam, pressure, standing_, contested, threshold, tau, hysteresis_):
        return _original["contest_probability"](grievance, lam, pressure, standing_ if standing else 0.0, contested,
                                                threshold, tau, hysteresis_ if hysteresis else 0.0)  # fmt: skip

    return contest_probability


def _patron_ignores_tension(present, intervenes, attention, cooldown, tension, salient, forced, trigger, cost):
    return _original["patron_decides"](present, intervenes, attention, cooldown, 0.0 * tension, salient, forced,
                                       trigger, cost)  # fmt: skip


def _orders_ignored_contests(u, p_contest, order_days):
    return u < p_contest


def _mobilisation_ignores_orders(mobilisation, grievance, threshold, rate, order_days=0):
    return mobilisation + rate * (rules.mobilisation_target(grievance, threshold) - mobilisation)


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "no_clash_feedback", "a clash raises neither grievance nor rivalry", {"after_clash": lambda x, clash, rise: x}
    ),
    Mutant(
        "leverage_ignores_influence",
        "leverage is loyalty x (1 - independence): the commander does not matter",
        {"leverage": lambda present, influence, loyalty, ind: present * loyalty * (1.0 - ind)},
    ),
    Mutant(
        "hazard_ignores_violence",
        "the clash hazard depends on Sadr's mobilisation only",
        {"clash_hazard": lambda kappa, violence, mobilisation: rules.daily_hazard(kappa, mobilisation)},
    ),
    Mutant(
        "trigger_off",
        "the patron ignores tension and acts only on salient or forced days",
        {"patron_decides": _patron_ignores_tension},
    ),
    Mutant(
        "interventions_without_effect",
        "an intervention changes no grievance, discipline or pressure",
        {"intervene": lambda g, d, p, lam, targeted, ge, de: (g, d, p)},
    ),
    Mutant(
        "mediation_without_effect",
        "mediation leaves Sadr's grievance as it was",
        {"mediated": lambda grievance, credibility, effect: grievance},
    ),
    Mutant(
        "militias_alike",
        "every militia gets the camp's mean loyalty, offset, discipline, hostility, grievance",
        militias_alike=True,
    ),
    Mutant(
        "orders_ignored",
        "stand-down orders neither bind leaders nor send Sadr's wing home",
        {
            "leader_contests": _orders_ignored_contests,
            "mobilisation_after": _mobilisation_ignores_orders,
            "stood_down": lambda mobilisation, discipline: mobilisation,
        },
    ),
    Mutant(
        "retaliation_off",
        "a US strike changes neither grievance nor hostility",
        {"after_retaliation": lambda g, h, retaliated, ge, he: (g, h)},
    ),
    Mutant(
        "election_shock_off",
        "an election changes no grievance",
        {"election_grievance": lambda before, after, shock, relief: 0.0},
    ),
    Mutant(
        "no_standing_leverage",
        "leverage restrains leaders only while a visit's pressure lasts",
        {"contest_probability": _contest_without(standing=False)},
    ),
    Mutant(
        "stance_without_memory",
        "a leader's stance is redrawn each day, with no hysteresis",
        {"contest_probability": _contest_without(hysteresis=False)},
    ),
    Mutant(
        "restraint_instant",
        "a leader's stance reaches all its cells at once, whatever its discipline",
        {"relayed_restraint": lambda felt, target, discipline: target},
    ),
)
