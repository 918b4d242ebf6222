"""Scenarios: a start date, a horizon and a timeline of generic events, loaded from configs/scenario.
Events are validated here and compiled to day indices; their effects live in sim.events."""

from __future__ import annotations

import datetime as dt
import json
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
    "truce": (
        F("phase", "choice", "the camp's truce on attacks on US forces begins or ends", default="begins", choices=("begins", "ends")),
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
# Fields every event takes. ``repeat: true`` marks an event that deliberately repeats an identical one on the
# same day (both apply); without it such a copy is an error, since a pasted line would double an effect silently.
COMMON_FIELDS = ("date", "kind", "label", "ref", "repeat")
SCENARIO_KEYS = ("name", "description", "start", "end", "events", "emergent")


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
    """A calendar day: YAML's own date or a YYYY-MM-DD string (not a time of day, not a bare number)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ParameterError(f"{where}={value!s} is not a date: use YYYY-MM-DD") from None


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
        if isinstance(value, Mapping) and value:
            return {_name(n, f"{where}.{n}", MEDIATORS): _number(w, f"{where}.{n}", spec.low, spec.high)
                    for n, w in value.items()}  # fmt: skip
        if not isinstance(value, list | tuple) or not value:
            raise ParameterError(f"{where}={value!r} must list mediators ({', '.join(MEDIATORS)}) or map them "
                                 "to their involvement in [0, 1]")  # fmt: skip
        names = tuple(_name(n, where, MEDIATORS) for n in value)
        if len(set(names)) != len(names):
            raise ParameterError(f"{where}={list(value)!r} names a mediator twice")
        return names
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


def _check_event(raw: Any, i: int, start: dt.date, end: dt.date, prefix: str = "scenario.") -> Event:
    """One event checked whole against EVENT_FIELDS: kind, date, every field's type and range."""
    where = f"{prefix}events[{i}]"
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
        label, ref = (_text(raw.get(k, default), f"{where}.{k}") for k, default in (("label", kind), ("ref", "")))
        if not isinstance(raw.get("repeat", False), bool):
            raise ParameterError(f"{where}.repeat={raw['repeat']!r} is not allowed: expected true or false")
    except ParameterError as exc:  # say which event: its kind and date
        raise ParameterError(f"{exc} ({kind} on {date})") from None
    return Event(day=(date - start).days, date=date, kind=kind, label=label, data=data, ref=ref)


def _text(value: Any, where: str) -> str:
    """A label or reference: text (a bare number is taken as text), never a list or mapping."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ParameterError(f"{where}={value!r} must be text")
    return str(value)


def _effect(ev: Event) -> str:
    """What an event does, as a comparable string: its date, kind and every declared field's value (the
    default where the event omits one). Label and reference do not change what it does."""
    fields = {}
    for spec in EVENT_FIELDS[ev.kind]:
        default = f"the parameter {spec.param}" if spec.param else spec.default  # a parameter may be swept
        value = ev.data.get(spec.name, default)
        fields[spec.name] = sorted(value) if isinstance(value, tuple) and spec.kind == "mediators" else value
    return json.dumps([str(ev.date), ev.kind, fields], sort_keys=True, default=str)


def _check_repeats(events: list[Event], raws: list[Any], prefix: str) -> None:
    """Reject an event identical in effect to an earlier one on the same day, unless it says ``repeat: true``."""
    seen: dict[str, int] = {}
    for i, (ev, raw) in enumerate(zip(events, raws, strict=True)):
        key = _effect(ev)
        if key in seen and not raw.get("repeat", False):
            raise ParameterError(
                f"{prefix}events[{i}] repeats {prefix}events[{seen[key]}] ({ev.kind} on {ev.date}, same fields): it "
                "would apply twice; delete one, or add repeat: true to the second if both are meant"
            )
        seen.setdefault(key, i)


def _check_truce_order(events: list[Event], prefix: str) -> None:
    """A truce (not in force when a scenario starts) must begin before it ends, and not begin again while in force:
    otherwise the scenario says something that cannot happen and the state would quietly ignore half of it."""
    since: int | None = None  # the index of the event that began the truce in force
    for i in sorted(range(len(events)), key=lambda k: (events[k].day, k)):
        ev = events[i]
        if ev.kind != "truce":
            continue
        phase = ev.data.get("phase", "begins")
        if phase == "begins" and since is not None:
            raise ParameterError(f"{prefix}events[{i}] (truce begins on {ev.date}) begins the truce twice: it is in "
                                 f"force since {prefix}events[{since}] ({events[since].date}); end it first "
                                 "(phase: ends) or delete one")  # fmt: skip
        if phase == "ends" and since is None:
            raise ParameterError(f"{prefix}events[{i}] (truce ends on {ev.date}) ends a truce before it begins: no "
                                 "truce is in force then; add a truce that begins earlier, or delete this one")
        since = i if phase == "begins" else None


def scenario_from_mapping(cfg: Mapping[str, Any], source: str | None = None) -> Scenario:
    """Build and validate a Scenario from a mapping (a Hydra node or parsed YAML). Errors are one line; with
    ``source`` (a file) they start with it and name fields as in the file (``events[2].delta``)."""
    try:
        return _scenario(cfg, "" if source else "scenario.")
    except ParameterError as exc:
        raise ParameterError(f"scenario file {source}: {exc}" if source else str(exc)) from None


def _scenario(cfg: Any, prefix: str) -> Scenario:
    if not isinstance(cfg, Mapping):
        raise ParameterError(f"a scenario must be a mapping with {', '.join(SCENARIO_KEYS)}, not {type(cfg).__name__}")
    for key in cfg:
        if key not in SCENARIO_KEYS:
            raise ParameterError(f"{prefix}{key} is not a scenario field{suggest(str(key), SCENARIO_KEYS)}; "
                                 f"allowed: {', '.join(SCENARIO_KEYS)}")  # fmt: skip
    for key in ("start", "end"):
        if cfg.get(key) is None:
            raise ParameterError(f"{prefix}{key} is missing: a scenario needs start and end dates (YYYY-MM-DD)")
    start = _date(cfg["start"], f"{prefix}start")
    end = _date(cfg["end"], f"{prefix}end")
    if end < start:
        raise ParameterError(f"{prefix}end={end} is before {prefix}start={start}")
    raws = cfg.get("events") or []
    if not isinstance(raws, list | tuple):
        raise ParameterError(f"{prefix}events must be a list of events (- {{date: ..., kind: ...}}), "
                             f"not {type(raws).__name__}")  # fmt: skip
    events = [_check_event(e, i, start, end, prefix) for i, e in enumerate(raws)]
    _check_repeats(events, list(raws), prefix)
    _check_truce_order(events, prefix)
    emergent = cfg.get("emergent") or ()
    if not isinstance(emergent, list | tuple) or not all(isinstance(x, str) for x in emergent):
        raise ParameterError(f"{prefix}emergent={emergent!r} must be a list of names")
    name, description = (_text(cfg.get(k, d), f"{prefix}{k}") for k, d in (("name", "custom"), ("description", "")))
    return Scenario(
        name=name, description=description, start=start, end=end,
        events=tuple(sorted(events, key=lambda e: e.day)), emergent=tuple(emergent),
    )  # fmt: skip


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load ``configs/scenario/<name>.yaml`` by name, or any scenario YAML file by path."""
    if not Path(name_or_path).suffix and "/" not in str(name_or_path):  # a name: configs/scenario/<name>.yaml
        path = SCENARIO_DIR / f"{name_or_path}.yaml"
        if not path.exists():
            known = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
            raise ParameterError(f"scenario={name_or_path!s} not found{suggest(str(name_or_path), known)}; "
                                 f"allowed: {', '.join(known)}")  # fmt: skip
        return load_scenario_file(path)
    return load_scenario_file(name_or_path)


def load_scenario_file(name: str | Path) -> Scenario:
    """Load a scenario YAML file (a path, tried relative to the repository too). Anything that is not a
    readable scenario (missing, a folder, a binary or empty file, YAML that is not a mapping) is one line."""
    if not str(name).strip():
        raise ParameterError("scenario_file is empty: give the path of a scenario YAML file")
    path = Path(name).expanduser()
    if not path.is_absolute() and not path.exists() and (REPO_ROOT / path).exists():
        path = REPO_ROOT / path  # relative to the repository, wherever we run from
    if not path.exists():
        raise ParameterError(f"scenario file {name} does not exist")
    if path.is_dir():
        raise ParameterError(f"scenario file {path} is a folder: give a scenario YAML file")
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ParameterError(f"scenario file {path} cannot be read ({exc.strerror or type(exc).__name__})") from None
    except UnicodeDecodeError:
        raise ParameterError(f"scenario file {path} is not a text file (not UTF-8): give a scenario YAML file") from None
    if not text.strip():
        raise ParameterError(f"scenario file {path} is empty: it needs at least start, end and events")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        from sim.model.yaml_files import yaml_problem

        raise ParameterError(f"scenario file {path}: {yaml_problem(exc, text)}") from None
    if not isinstance(raw, dict):
        raise ParameterError(f"scenario file {path} must be a mapping with start, end and events, "
                             f"not {type(raw).__name__}")  # fmt: skip
    if "name" not in raw:  # a file without a name is named by its stem (the run folder's name, the summary's)
        raw = {"name": path.stem, **raw}
    return scenario_from_mapping(raw, source=str(path))


def list_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
