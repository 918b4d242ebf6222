"""The contested mechanisms and their rival alternatives, declared once: theory, rules, parameters, evidence.
The config node ``structure.<mechanism>=<name>``, the engines, the docs and the app all read this declaration."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sim.model.errors import ParameterError, suggest


@dataclass(frozen=True)
class Alternative:
    """One theory of a mechanism: what it says, the rule functions (sim/model/rules.py) that compute it, the
    declared parameters it adds (sim/model/params.py, role ``alternative``), its evidence and its ODD subsection."""

    name: str
    title: str
    theory: str
    rules: tuple[str, ...]
    params: tuple[str, ...]
    evidence: str
    odd: str


@dataclass(frozen=True)
class Mechanism:
    """A part of the model where theories disagree. The first alternative is today's structure (the default)."""

    name: str
    question: str
    alternatives: tuple[Alternative, ...]

    @property
    def default(self) -> Alternative:
        return self.alternatives[0]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.alternatives)

    @property
    def param(self) -> str:
        """The declared parameter that holds this mechanism's choice as a whole number (the engines read it)."""
        return f"structure_{self.name}"

    def alternative(self, name: str) -> Alternative:
        return self.alternatives[self.code(name)]

    def code(self, name: str) -> int:
        """The alternative's index (0: the default), or a one-line error listing the choices."""
        if name not in self.names:
            raise ParameterError(f"structure.{self.name}={name!r} is not an alternative{suggest(str(name), self.names)}"
                                 f"; allowed: {', '.join(self.names)}")  # fmt: skip
        return self.names.index(name)


A = Alternative
# fmt: off
MECHANISMS: tuple[Mechanism, ...] = (
    Mechanism("leverage", "How the patron's leverage over a militia depends on its loyalty and independence", (
        A("salehyan", "Agency slack: one lever, weakened by independence",
          "Salehyan 2010 (J. Conflict Resolution 54(3)): a sponsor's control over a delegated rebel group falls with "
          "the group's own resources; leverage = influence x loyalty x (1 - independence)",
          ("leverage",), (), "¶16-18, ¶26", "7.2"),
        A("coercion", "Persuasion or coercion: independence decides which lever works",
          "Berman and Lake 2019 (Proxy Wars): principals steer local agents by rewards and punishments fitted to the "
          "agent's dependence; Byman 2005: a sponsor's threat to cut money and arms bites only on a dependent client. "
          "Persuasion (the commander's authority over loyal clients) does not need dependence; coercion does",
          ("leverage_persuasion_coercion", "coerces", "berated"), ("coercion_strength", "coercion_backlash"),
          "¶6: the commander berated leaders; ¶17-18: own revenue and state posts; ¶26", "7.2.1"),
    )),
    Mechanism("reaction", "Whether the militias react to Sadr's armed wing as it reacts to them", (
        A("one_sided", "One-sided reaction: Sadr's wing reads the militias' acts; they do not read his",
          "Richardson 1960 (Arms and Insecurity), one side only: Sadr's threat adds reaction terms to the militias' "
          "refusals, violence and the rivalry; the militias answer his wing only through clashes",
          ("sadr_threat",), (), "¶3, ¶5, ¶24, ¶28", "7.12"),
        A("richardson", "A coupled Richardson pair: each side's arming answers the other's",
          "Richardson 1960: dx/dt = k y - a x + g, dy/dt = l x - b y + h, stable while the product of the "
          "fatigues exceeds the product of the reactions; here the militias' grievance answers Sadr's "
          "mobilisation and his threat answers their grievance",
          ("richardson_threat", "militia_reaction", "militia_excess"),
          ("richardson_militia_reaction", "richardson_sadr_reaction"),
          "¶24, ¶28: two camps with armed wings, tensions flaring around the vote", "7.12.1"),
    )),
    Mechanism("mobilisation", "How the share of Sadr's armed wing that is out follows the threat", (
        A("dose_response", "Dose-response: the share out is the share whose threshold the threat passes",
          "Epstein 2002's threshold made stochastic: members' thresholds spread logistically around "
          "mobilisation_threshold; the share out does not depend on the share already out",
          ("mobilisation_target",), (), "¶24, ¶34-38", "7.12"),
        A("cascade", "Granovetter's cascade: members go out when enough others already are",
          "Granovetter 1978 (AJS 83(6)): each member joins when the share already out passes his threshold; the "
          "distribution of thresholds decides between few and nearly all, and a small change in it can flip one "
          "to the other (tipping)",
          ("cascade_target",), ("cascade_peer_weight",),
          "¶24: a mass movement's armed wing; ¶34-38: it stood down and rose as one", "7.12.2"),
    )),
    Mechanism("clash", "How the two camps' active members come to clash", (
        A("hazard", "An aggregate hazard of the two camps' activity",
          "A mass-action hazard 1 - exp(-kappa v m) of the militias' active share and Sadr's mobilisation",
          ("clash_hazard",), (), "¶7, ¶12, ¶22", "7.13"),
        A("epstein_ii", "Epstein's Model II: the camps meet and the state's forces interpose",
          "Epstein 2002 (PNAS 99 suppl. 3), Model II (inter-group violence): active members of two groups attack "
          "the other group's members in view; evenhanded peacekeepers arrest actives of both with probability "
          "1 - exp(-k C/A); here in the mean field (well-mixed lattice)",
          ("clash_hazard_interposed",), ("encounter_rate",),
          "¶2, ¶5, ¶7: the state's forces between the camps; ¶29: partly the militias' own", "7.13.1"),
    )),
    Mechanism("grievance", "What the militias' grievance is made of", (
        A("additive", "Additive shocks: events, strikes, clashes and visits add to or take from grievance",
          "Grievance as a state that shocks move and that relaxes to its baseline (a reduced form of Epstein's "
          "grievance driven by events, docs/ODD.md departure 1)",
          ("after_clash", "after_retaliation", "intervene"), (), "¶3, ¶5, ¶22, ¶28", "7.1"),
        A("legitimacy", "Epstein's grievance: hardship x (1 - legitimacy)",
          "Epstein 2002 (PNAS 99 suppl. 3): grievance G = H (1 - L), perceived hardship times the illegitimacy of "
          "the order; here legitimacy is the militias' acceptance of the vote's result and the state that "
          "ratifies it, moved by the vote, the ratification, attacks on the state and the patron's message",
          ("epstein_grievance", "legitimised"),
          ("legitimacy_base", "election_legitimacy", "ratification_legitimacy", "attack_legitimacy",
           "intervention_legitimacy"),
          "¶3, ¶5, ¶28: the losers refused the results; ¶22: ratification; ¶20: leaders distanced themselves from "
          "the attack; ¶3-4: the message was to accept the result", "7.15.1"),
    )),
    Mechanism("relapse", "Whether the calm a visit buys outlasts the visit's pressure", (
        A("durable", "A visit's effect on grievance is durable: it fades only with the ordinary drift",
          "The intervention lowers grievance once; grievance returns to its baseline at its own half-life",
          ("intervene",), (), "¶3-4, ¶22", "7.4"),
        A("beardsley", "Beardsley's relapse: the calm bought by leverage lapses as the pressure fades",
          "Beardsley 2008 (AJPS 52(4)), 'Agreement without peace?': settlements reached under a mediator's "
          "leverage rest on incentives that leave with the mediator, so they relapse when the pressure is "
          "withdrawn (the time-inconsistency problem)",
          ("calm_bought", "calm_released", "relapsed"), ("relapse_share",),
          "¶22: tensions kept simmering after the visit; ¶39: visits had to be repeated", "7.4.1"),
    )),
)
# fmt: on
del A

MECHANISM_BY_NAME: dict[str, Mechanism] = {m.name: m for m in MECHANISMS}
assert len(MECHANISM_BY_NAME) == len(MECHANISMS), "duplicate mechanism"
MECHANISM_NAMES = tuple(MECHANISM_BY_NAME)


@dataclass(frozen=True)
class Structure:
    """A choice of one alternative per mechanism (names in MECHANISMS order); the default is today's model."""

    names: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.names) != len(MECHANISMS):
            raise ValueError(f"a structure names {len(MECHANISMS)} alternatives, one per mechanism")
        for m, name in zip(MECHANISMS, self.names, strict=True):
            m.code(name)

    def __getitem__(self, mechanism: str) -> str:
        return self.names[MECHANISM_NAMES.index(mechanism)]

    def items(self) -> Iterator[tuple[str, str]]:
        return zip(MECHANISM_NAMES, self.names, strict=True)

    def as_dict(self) -> dict[str, str]:
        return dict(self.items())

    def alternatives(self) -> Iterator[Alternative]:
        for m, name in zip(MECHANISMS, self.names, strict=True):
            yield m.alternative(name)

    def changed(self) -> dict[str, str]:
        """The mechanisms whose alternative is not the default, with their names."""
        return {m.name: name for m, name in zip(MECHANISMS, self.names, strict=True) if name != m.default.name}

    @property
    def is_default(self) -> bool:
        return not self.changed()

    def codes(self) -> dict[str, int]:
        """The declared parameters that carry this structure (``structure_<mechanism>``: the alternative's index)."""
        return {m.param: m.code(name) for m, name in zip(MECHANISMS, self.names, strict=True)}

    def label(self) -> str:
        """``leverage=coercion+clash=epstein_ii`` (the changed mechanisms), or ``default``."""
        return "+".join(f"{k}={v}" for k, v in self.changed().items()) or "default"


DEFAULT = Structure(tuple(m.default.name for m in MECHANISMS))


def make_structure(choices: Mapping[str, Any] | None = None) -> Structure:
    """A validated Structure from {mechanism: alternative name} (missing mechanisms keep the default); a
    one-line ParameterError names an unknown mechanism or alternative and lists the choices."""
    choices = dict(choices or {})
    for key in choices:
        if key not in MECHANISM_BY_NAME:
            raise ParameterError(f"structure.{key} is not a mechanism{suggest(str(key), MECHANISM_NAMES)}; "
                                 f"allowed: {', '.join(MECHANISM_NAMES)}")  # fmt: skip
    names = []
    for m in MECHANISMS:
        name = choices.get(m.name, m.default.name)
        m.code(name)
        names.append(name)
    return Structure(tuple(names))


def from_codes(codes: Mapping[str, int]) -> Structure:
    """The Structure whose ``structure_<mechanism>`` parameters hold ``codes`` (missing: the default)."""
    return _from_code_tuple(tuple(int(codes.get(m.param, 0)) for m in MECHANISMS))


@functools.lru_cache(maxsize=1024)  # a large design builds one per point: the structures repeat, their checks need not
def _from_code_tuple(codes: tuple[int, ...]) -> Structure:
    return Structure(tuple(m.alternatives[c].name for m, c in zip(MECHANISMS, codes, strict=True)))


def every_alternative() -> Iterator[tuple[Mechanism, Alternative]]:
    """(mechanism, alternative) for every alternative of every mechanism, defaults included."""
    for m in MECHANISMS:
        for a in m.alternatives:
            yield m, a


def single_changes() -> list[Structure]:
    """The default and, for every rival alternative, the default with only that mechanism changed."""
    out = [DEFAULT]
    for m, a in every_alternative():
        if a is not m.default:
            out.append(make_structure({m.name: a.name}))
    return out
