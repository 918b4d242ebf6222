"""The contested mechanisms and their rival alternatives, declared once: theory, rules, parameters, evidence.
The config node ``structure.<mechanism>=<name>``, the engines, the docs and the app all read this declaration."""

from __future__ import annotations

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
    return Structure(tuple(m.alternatives[int(codes.get(m.param, 0))].name for m in MECHANISMS))


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
