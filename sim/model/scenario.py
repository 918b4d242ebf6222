"""Scenarios: a start date, a horizon and a timeline of generic events, loaded from configs/scenario.
Events are validated here and compiled to day indices; their effects live in sim.events."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.model.params import MILITIA_KEYS, PARAM_BY_NAME, ParameterError, suggest
from sim.paths import REPO_ROOT, SCENARIO_DIR

ACTORS = ("patron", "sadr", "pm", "world", *MILITIA_KEYS)
MEDIATORS = ("patron", "sistani")  # who can mediate with Sadr's bloc (their credibility is declared)
TARGETS = ("pm", "state", "us")
MAX_SEATS = 329  # Iraq's Council of Representatives (outside_seed: 329 seats since 2010)

# Which State field an event's (actor, variable) names, and whether it is per militia.
SHOCKABLE = {
    ("patron", "attention"): "attention",
    ("sadr", "grievance"): "sadr_grievance",
    ("sadr", "mobilisation"): "mobilisation",
    ("pm", "capacity"): "capacity",
    ("world", "rivalry"): "rivalry",
    ("militia", "grievance"): "grievance",
    ("militia", "discipline"): "discipline",
    ("militia", "independence"): "independence",
    ("militia", "hostility_us"): "hostility_us",
}


@dataclass(frozen=True)
class EventField:
    """One field an event kind takes: its type and range, and its default when a scenario omits it.
    A magnitude's default is a declared parameter (``param``), so it has evidence and a prior."""

    name: str
    kind: str  # number | whole | seats | militia | actor | bloc | mediators | choice | variable | text
    description: str
    low: float | None = None
    high: float | None = None
    param: str | None = None
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.param is not None:
            spec = PARAM_BY_NAME[self.param]  # a magnitude takes its range from the parameter
            object.__setattr__(self, "low", spec.low)
            object.__setattr__(self, "high", spec.high)


F = EventField
# fmt: off
EVENT_FIELDS: dict[str, tuple[EventField, ...]] = {
    "election": (
        F("seats", "seats", "seats per bloc, [before, after]; a militia bloc's loss angers its militias, Sadr's gain calms him", 0, MAX_SEATS, required=True),
        F("rivalry", "number", "rivalry the election adds", param="election_rivalry"),
        F("sadr_bloc", "bloc", "which bloc in seats is Sadr's", default="sadrist"),
    ),
    "boycott": (),
    "mediation": (
        F("mediators", "mediators", f"who mediates with Sadr ({', '.join(MEDIATORS)}): a list, or a mapping to involvement in [0, 1]", 0, 1, default=MEDIATORS[:1]),
    ),
    "attack": (
        F("target", "choice", "what is attacked: the PM or the state (salient), or US assets", default="pm", choices=TARGETS),
        F("actor", "militia", "the militia that attacks (counted in its attacks); none: unattributed"),
    ),
    "intervention": (),
    "ratification": (
        F("bloc", "bloc", "the bloc whose militias resent it", default="fatah"),
        F("actor", "militia", "one militia instead of a bloc"),
        F("grievance", "number", "grievance added to the bloc's militias", param="ratification_grievance"),
        F("rivalry", "number", "rivalry added", 0, 1, default=0.0),
    ),
    "coalition": (
        F("bloc", "bloc", "the bloc left out", default="fatah"),
        F("actor", "militia", "one militia instead of a bloc"),
        F("grievance", "number", "grievance added to the excluded bloc's militias", param="coalition_grievance"),
        F("rivalry", "number", "rivalry added", param="coalition_rivalry"),
    ),
    "deadline": (
        F("actor", "militia", "the militia that sets the deadline (none: all)", default="militias"),
        F("hostility_us", "number", "hostility to US forces added", param="deadline_hostility"),
        F("grievance", "number", "grievance added", param="deadline_grievance"),
    ),
    "order": (
        F("actor", "actor", "who orders their side to stand down: sadr, a militia or militias", default="sadr"),
        F("days", "whole", "days the order binds", param="order_days"),
        F("discipline", "number", "discipline a militia's order adds", 0, 1, default=0.0),
    ),
    "shock": (
        F("actor", "actor", "whose state variable", required=True),
        F("variable", "variable", "which variable (see SHOCKABLE)", required=True),
        F("delta", "number", "amount added, then clipped to [0, 1]", -1, 1, required=True),
    ),
}
# fmt: on
del F
EVENT_KINDS = tuple(EVENT_FIELDS)
FIELD_BY_KIND = {kind: {f.name: f for f in fields} for kind, fields in EVENT_FIELDS.items()}
COMMON_FIELDS = ("date", "kind", "label", "ref")


@dataclass(frozen=True)
class Event:
    """One dated event; ``data`` holds the kind's own fields (seats, mediators, actor, ...)."""

    day: int
    date: dt.date
    kind: str
    label: str
    data: Mapping[str, Any] = field(default_factory=dict)
    ref: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    start: dt.date
    end: dt.date
    events: tuple[Event, ...]
    emergent: tuple[str, ...] = ()

    @property
    def days(self) -> int:
        """Number of simulated days, both ends included."""
        return (self.end - self.start).days + 1

    def date_of(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=day)

    def events_on(self, day: int) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.day == day)

    def without(self, *kinds: str) -> Scenario:
        """The same scenario minus all events of the given kinds (a counterfactual)."""
        kept = tuple(e for e in self.events if e.kind not in kinds)
        return Scenario(self.name, self.description, self.start, self.end, kept, self.emergent)


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ParameterError(f"{where}={value!r} is not a date: use YYYY-MM-DD") from None


def _number(value: Any, where: str, low: float, high: float, whole: bool = False) -> float | int:
    """A finite number in [low, high] (a whole one if asked), or a one-line ParameterError."""
    allowed = f"allowed [{low:g}, {high:g}]"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(f"{where}={value!r} is not a number: {allowed}")
    if not math.isfinite(value):
        raise ParameterError(f"{where}={value!r} is not finite: {allowed}")
    if whole and value != int(value):
        raise ParameterError(f"{where}={value!r} must be a whole number: {allowed}")
    if not low <= value <= high:
        raise ParameterError(f"{where}={value!r} is out of range: {allowed}")
    return int(value) if whole else float(value)


def _name(value: Any, where: str, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        hint = suggest(str(value), allowed)
        raise ParameterError(f"{where}={value!r} is not allowed{hint}; allowed: {', '.join(allowed)}")
    return value


def _check_field(spec: EventField, value: Any, where: str, kind: str) -> Any:
    """``value`` checked against its field's declaration (type, range, names)."""
    if spec.kind == "number":
        return _number(value, where, spec.low, spec.high)
    if spec.kind == "whole":
        return _number(value, where, spec.low, spec.high, whole=True)
    if spec.kind == "militia":
        return _name(value, where, MILITIA_KEYS)
    if spec.kind == "actor":
        return _name(value, where, (*ACTORS, "militias"))
    if spec.kind == "choice":
        return _name(value, where, spec.choices)
    if spec.kind == "variable":
        return _name(value, where, tuple(sorted({v for _, v in SHOCKABLE})))
    if spec.kind in ("bloc", "text"):
        if not isinstance(value, str) or not value:
            raise ParameterError(f"{where}={value!r} must be a name")
        return value
    if spec.kind == "seats":
        if not isinstance(value, Mapping) or not value:
            raise ParameterError(f"{where} must map each bloc to [seats before, seats after]")
        out = {}
        for bloc, pair in value.items():
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise ParameterError(f"{where}.{bloc}={pair!r} must be [seats before, seats after]")
            out[str(bloc)] = tuple(_number(s, f"{where}.{bloc}", spec.low, spec.high, whole=True) for s in pair)
        return out
    if spec.kind == "mediators":
        if isinstance(value, str):
            value = [value]
        if isinstance(value, Mapping):
            return {_name(n, f"{where}.{n}", MEDIATORS): _number(w, f"{where}.{n}", spec.low, spec.high)
                    for n, w in value.items()}  # fmt: skip
        if not isinstance(value, list | tuple) or not value:
            raise ParameterError(f"{where} must list mediators ({', '.join(MEDIATORS)})")
        return tuple(_name(n, where, MEDIATORS) for n in value)
    raise AssertionError(f"undeclared field kind {spec.kind} ({kind})")


def _check_fields(raw: Mapping[str, Any], kind: str, where: str) -> dict[str, Any]:
    """The kind's own fields of one event: none unknown, none required missing, each valid."""
    fields = FIELD_BY_KIND[kind]
    data = {}
    for key, value in raw.items():
        if key in COMMON_FIELDS:
            continue
        if key not in fields:
            allowed = ", ".join((*COMMON_FIELDS, *fields))
            hint = suggest(str(key), list(fields))
            raise ParameterError(f"{where}.{key} is not a field of a {kind} event{hint}; allowed: {allowed}")
        data[key] = _check_field(fields[key], value, f"{where}.{key}", kind)
    for spec in fields.values():
        if spec.required and spec.name not in data:
            raise ParameterError(f"{where}: a {kind} event needs {spec.name} ({spec.description})")
    if kind == "shock":
        actor = data["actor"]
        group = actor if actor in ("patron", "sadr", "pm", "world") else "militia"
        if (group, data["variable"]) not in SHOCKABLE:
            allowed = ", ".join(f"{a}.{v}" for a, v in SHOCKABLE)
            raise ParameterError(f"{where}: {actor}.{data['variable']} cannot be shocked; allowed: {allowed}")
    return data


def _check_event(raw: Any, i: int, start: dt.date, end: dt.date) -> Event:
    """One event checked whole against EVENT_FIELDS: kind, date, every field's type and range."""
    where = f"scenario.events[{i}]"
    if not isinstance(raw, Mapping):
        raise ParameterError(f"{where} must be a mapping with date, kind and the kind's fields")
    kind = raw.get("kind")
    if kind not in EVENT_KINDS:
        hint = suggest(str(kind), EVENT_KINDS)
        raise ParameterError(f"{where}.kind={kind!r} is not an event kind{hint}; allowed: {', '.join(EVENT_KINDS)}")
    date = _date(raw.get("date"), f"{where}.date")
    if not (start <= date <= end):
        raise ParameterError(f"{where}.date={date} is outside the scenario: allowed [{start}, {end}]")
    try:
        data = _check_fields(raw, kind, where)
    except ParameterError as exc:  # say which event: its kind and date
        raise ParameterError(f"{exc} ({kind} on {date})") from None
    return Event(
        day=(date - start).days, date=date, kind=kind,
        label=str(raw.get("label", kind)), data=data, ref=str(raw.get("ref", "")),
    )  # fmt: skip


def scenario_from_mapping(cfg: Mapping[str, Any]) -> Scenario:
    """Build and validate a Scenario from a mapping (a Hydra node or parsed YAML)."""
    start = _date(cfg["start"], "scenario.start")
    end = _date(cfg["end"], "scenario.end")
    if end < start:
        raise ParameterError(f"scenario.end={end} is before scenario.start={start}")
    events = tuple(
        sorted((_check_event(e, i, start, end) for i, e in enumerate(cfg.get("events") or [])), key=lambda e: e.day)
    )
    return Scenario(
        name=str(cfg.get("name", "custom")), description=str(cfg.get("description", "")),
        start=start, end=end, events=events, emergent=tuple(cfg.get("emergent") or ()),
    )  # fmt: skip


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load ``configs/scenario/<name>.yaml`` or any scenario YAML file by path."""
    path = Path(name_or_path).expanduser()
    if path.suffix and not path.is_absolute() and not path.exists():
        path = REPO_ROOT / path  # relative to the repository, wherever we run from
    if not path.suffix:
        path = SCENARIO_DIR / f"{name_or_path}.yaml"
    if not path.exists() and Path(name_or_path).suffix:
        raise ParameterError(f"scenario file {name_or_path} does not exist")
    if not path.exists():
        known = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
        raise ParameterError(f"scenario={name_or_path!s} not found; allowed: {', '.join(known)}")
    with open(path) as fh:
        try:
            raw = yaml.safe_load(fh)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            raise ParameterError(f"scenario file {path}{where} is not valid YAML") from None
    if not isinstance(raw, dict) or "start" not in raw or "end" not in raw:
        raise ParameterError(f"scenario file {path} needs at least start, end and events")
    return scenario_from_mapping(raw)


def list_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
