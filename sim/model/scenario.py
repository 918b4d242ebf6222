"""Scenarios: a start date, a horizon and a timeline of generic events, loaded from configs/scenario.
Events are validated here and compiled to day indices; their effects live in sim.events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.model.params import MILITIA_KEYS, ParameterError, suggest
from sim.paths import REPO_ROOT, SCENARIO_DIR

EVENT_KINDS = (
    "election", "boycott", "mediation", "attack", "intervention",
    "ratification", "coalition", "deadline", "order", "shock",
)  # fmt: skip
ACTORS = ("patron", "sadr", "pm", "world", *MILITIA_KEYS)

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


def _check_event(raw: Mapping[str, Any], i: int, start: dt.date, end: dt.date) -> Event:
    where = f"scenario.events[{i}]"
    kind = raw.get("kind")
    if kind not in EVENT_KINDS:
        raise ParameterError(f"{where}.kind={kind!r} is not an event kind; allowed: {', '.join(EVENT_KINDS)}")
    date = _date(raw.get("date"), f"{where}.date")
    if not (start <= date <= end):
        raise ParameterError(f"{where}.date={date} is outside the scenario: allowed [{start}, {end}]")
    data = {k: v for k, v in raw.items() if k not in ("date", "kind", "label", "ref")}
    actor = data.get("actor")
    if actor is not None and actor not in ACTORS and actor != "militias":
        raise ParameterError(
            f"{where}.actor={actor!r} is unknown{suggest(str(actor), ACTORS)}; allowed: {', '.join(ACTORS)}, militias"
        )
    if kind == "shock":
        if "variable" not in data or "delta" not in data or actor is None:
            raise ParameterError(f"{where}: a shock needs actor, variable and delta")
        group = actor if actor in ("patron", "sadr", "pm", "world") else "militia"
        if (group, data["variable"]) not in SHOCKABLE:
            allowed = ", ".join(f"{a}.{v}" for a, v in SHOCKABLE)
            raise ParameterError(f"{where}: {actor}.{data['variable']} cannot be shocked; allowed: {allowed}")
    if kind == "mediation":
        for name, weight in dict(data.get("mediators", {})).items():
            if not 0 <= float(weight) <= 1:
                raise ParameterError(f"{where}.mediators.{name}={weight} is out of range: allowed [0, 1]")
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
