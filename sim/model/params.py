"""The one declaration of every model parameter: default, range, unit and evidence.
Hydra's schema, validation, both engines, the ODD table and the app's controls all read it."""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class ParameterError(ValueError):
    """A parameter is unknown or outside its declared range (message is one line)."""


@dataclass(frozen=True)
class Param:
    """One declared parameter. ``evidence`` cites a seed paragraph (¶N), a paper, or 'assumed'."""

    name: str
    default: float | int | bool
    low: float
    high: float
    unit: str
    group: str
    description: str
    evidence: str
    kind: type = float

    def check(self, value: Any, prefix: str = "") -> float | int | bool:
        """Return ``value`` converted to this parameter's kind, or raise a one-line ParameterError."""
        label = f"{prefix}{self.name}"
        if self.kind is bool:
            if isinstance(value, bool) or value in (0, 1):
                return bool(value)
            raise ParameterError(f"{label}={value!r} is not allowed: expected true or false")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ParameterError(
                f"{label}={value!r} is not a number: allowed range [{self.low:g}, {self.high:g}] {self.unit}"
            ) from None
        if not math.isfinite(number):
            raise ParameterError(
                f"{label}={value!r} is not finite: allowed range [{self.low:g}, {self.high:g}] {self.unit}"
            )
        if self.kind is int and number != int(number):
            raise ParameterError(
                f"{label}={value!r} must be a whole number in [{self.low:g}, {self.high:g}] {self.unit}"
            )
        if not (self.low <= number <= self.high):
            raise ParameterError(
                f"{label}={value!r} is out of range: allowed [{self.low:g}, {self.high:g}] {self.unit}"
            )
        return int(number) if self.kind is int else number


P = Param
# fmt: off
PARAMS: tuple[Param, ...] = (
    # --- patron: IRGC / Quds Force -------------------------------------------------------
    P("patron_present", True, 0, 1, "flag", "patron", "Whether the patron exists and acts at all (false: the no-patron counterfactual).", "counterfactual switch (¶1, ¶12: Iran is the actor whose absence is asked about)", bool),
    P("patron_intervenes", True, 0, 1, "flag", "patron", "Whether the patron intervenes with the militias (false: it still mediates with Sadr where a scenario says so).", "counterfactual switch for the intervention_effect study (¶2-8: the visit after the attack)", bool),
    P("patron_influence", 0.55, 0.0, 1.0, "index 0-1", "patron", "Commander's personal authority over clients (Ghaani about 0.55, Soleimani about 0.9).", "¶16, ¶18: militia commanders find the successor less commanding and less fluent than Soleimani; steering proxies got harder after 2020"),
    P("patron_attention_cost", 0.35, 0.0, 1.0, "attention per intervention", "patron", "Attention an intervention uses up.", "¶39: about three crisis visits in a year; assumed"),
    P("patron_attention_recovery", 0.03, 0.0, 0.2, "attention per day", "patron", "Daily refill of attention before distraction.", "assumed: about a month to recover fully"),
    P("patron_distraction", 0.2, 0.0, 1.0, "share", "patron", "Share of attention recovery lost to other priorities.", "¶14: nuclear talks with Washington compete for Tehran's attention"),
    P("patron_trigger", 0.30, 0.0, 1.0, "tension index 0-1", "patron", "Tension above which the patron intervenes unprompted.", "¶12, ¶33: Iran steps in to stop spiralling intra-Shi'ite violence; level assumed"),
    P("patron_cooldown", 5, 0, 60, "days", "patron", "Days after an intervention during which no unforced one starts (the next comes after cooldown + 1 days at the earliest).", "assumed; ¶2 visit within hours shows no long lag after a salient event", int),
    P("patron_targets", 3, 1, 4, "militias", "patron", "How many of the most active militias one intervention reaches.", "¶6, ¶19: two militia leaders; ¶29: the PMF chief", int),
    P("intervention_grievance_effect", 0.25, 0.0, 1.0, "grievance per unit leverage", "patron", "Grievance removed by an intervention at full leverage.", "¶3: the message was to accept the result; magnitude assumed"),
    P("intervention_discipline_effect", 0.5, 0.0, 1.0, "discipline per unit leverage", "patron", "Discipline added by an intervention at full leverage.", "¶4, ¶6: the leaders were told to rein in their followers; magnitude assumed"),
    P("pressure_half_life", 10.0, 1.0, 120.0, "days", "patron", "Half-life of the patron's pressure on a leader's stance.", "Beardsley 2008 (AJPS 52(4)): mediated calm lasts while leverage is applied; assumed"),
    # --- militias ------------------------------------------------------------------------
    P("militia_independence", 0.5, 0.0, 1.0, "index 0-1", "militia", "Mean independence of the militias from the patron (each militia adds its own offset).", "¶17-18, ¶26: own revenue and state posts make them harder to control; Salehyan 2010 agency slack"),
    P("independence_drift", 0.0005, 0.0, 0.01, "per day", "militia", "Slow daily growth of independence towards 1.", "¶18: economic control has emboldened leaders over time; assumed rate"),
    P("grievance_half_life", 45.0, 1.0, 365.0, "days", "militia", "Half-life of a grievance shock (towards each actor's baseline).", "pattern: post-election anger lasts weeks to months (¶22, ¶28); assumed"),
    P("discipline_half_life", 20.0, 1.0, 365.0, "days", "militia", "Half-life of added discipline (towards the militia's baseline).", "assumed"),
    P("stance_threshold", 0.5, 0.0, 1.0, "grievance", "militia", "Grievance at which a leader is equally likely to contest or restrain.", "assumed; ¶3 refusal of the results as the contest stance"),
    P("stance_tau", 0.1, 0.01, 1.0, "grievance", "militia", "Noise (logistic scale) of the leader's stance choice.", "assumed"),
    P("contest_boost", 0.10, 0.0, 1.0, "grievance", "militia", "How much a contesting leader eggs its cells on (negative restraint).", "assumed"),
    # --- cells (Epstein 2002, adapted) ------------------------------------------------------
    P("cells_per_militia", 30, 1, 2000, "cells", "cells", "Number of cells (sub-units, supporters) per militia.", "¶4, ¶6: leaders answer for many armed followers; size assumed (tens to thousands)", int),
    P("cell_grievance_sd", 0.15, 0.0, 0.5, "grievance", "cells", "Spread of cells' grievance around their leader's.", "assumed; Staniland 2014: loose ties let sub-units diverge"),
    P("cell_threshold", 0.10, 0.0, 1.0, "grievance", "cells", "Net grievance a cell needs to act (Epstein's T).", "Epstein 2002 (PNAS 99 suppl. 3): T = 0.1"),
    P("arrest_k", 2.3, 0.0, 10.0, "dimensionless", "cells", "Steepness of the expected cost of acting (Epstein's k).", "Epstein 2002: k = 2.3"),
    P("cell_tau", 0.05, 0.005, 1.0, "grievance", "cells", "Noise (logistic scale) of a cell's decision to act.", "assumed; a smooth version of Epstein's threshold"),
    P("state_capacity", 0.5, 0.0, 1.0, "index 0-1", "state", "Deterrence of the state's security forces (Epstein's cop density).", "¶2, ¶5: the state could not prevent a drone attack on the PM; assumed"),
    # --- outcomes ---------------------------------------------------------------------------
    P("attack_rate_state", 0.03, 0.0, 1.0, "attacks per day at full activity", "outcomes", "Hazard of an attack on the state or PM by a fully active militia.", "¶2, ¶5: drone attack on the PM; rate assumed"),
    P("attack_rate_us", 0.06, 0.0, 1.0, "attacks per day at full activity", "outcomes", "Hazard of an attack on US assets by a fully active, fully hostile militia.", "¶12, ¶22: militias have attacked US assets; rate assumed"),
    P("us_retaliation_prob", 0.3, 0.0, 1.0, "probability", "outcomes", "Chance the US answers an attack on its assets.", "¶22: the US reserves the right to respond; assumed"),
    P("retaliation_grievance", 0.15, 0.0, 1.0, "grievance", "outcomes", "Grievance a US strike adds to the militia it hits.", "assumed"),
    P("retaliation_hostility", 0.1, 0.0, 1.0, "hostility", "outcomes", "US hostility a US strike adds to the militia it hits.", "Richardson-style reaction; assumed"),
    # --- Sadr's bloc ------------------------------------------------------------------------
    P("sadr_grievance_base", 0.35, 0.0, 1.0, "grievance", "sadr", "Baseline grievance of Sadr's bloc while it takes part in politics.", "¶3, ¶25: top vote-winner, opposed to Iranian influence; assumed"),
    P("sadr_discipline", 0.85, 0.0, 1.0, "index 0-1", "sadr", "Single-leader control of the armed wing: it stays home until grievance passes discipline/2, and this share of it stands down at once on an order.", "¶34-38: one leader decides the boycott and the return; assumed"),
    P("boycott_threshold", 0.7, 0.0, 1.0, "grievance", "sadr", "Grievance at which a participating Sadr is equally likely to walk out on a given day.", "¶34: boycott announced over perceived enemies; assumed"),
    P("boycott_commitment", 0.6, 0.0, 1.0, "grievance", "sadr", "Grievance baseline while boycotting (the cost of climbing down).", "¶36: Sadr had always taken part; a boycott is a costly public commitment; assumed"),
    P("return_threshold", 0.3, 0.0, 1.0, "grievance", "sadr", "Grievance below which a boycotting Sadr is more likely than not to return.", "¶38: came back to avoid escalation once mediation worked; assumed"),
    P("sadr_tau", 0.03, 0.005, 1.0, "grievance", "sadr", "Noise (logistic scale) of boycott and return decisions.", "assumed"),
    P("mobilisation_rate", 0.2, 0.0, 1.0, "per day", "sadr", "Speed at which the armed wing's mobilisation follows grievance.", "assumed"),
    P("mediation_effect", 0.5, 0.0, 1.0, "grievance per unit credibility", "sadr", "Grievance a fully credible mediation removes from Sadr's bloc.", "¶37-38, ¶40: Iranian officials and Sistani's advice ended the boycott; Kydd 2003"),
    P("attack_sadr_grievance", 0.1, 0.0, 1.0, "grievance per attack", "sadr", "Grievance an attack on the state or PM adds to Sadr's bloc (aligned with the PM).", "¶5: Kadhimi has aligned himself with Sadr"),
    # --- intra-Shi'ite clash and escalation ---------------------------------------------------
    P("clash_kappa", 1.0, 0.0, 5.0, "per day", "clash", "Scale of the daily clash hazard 1 - exp(-kappa * v * m).", "¶7: fear of a Shi'ite civil war; assumed"),
    P("clash_grievance", 0.05, 0.0, 1.0, "grievance per clash", "clash", "Grievance each clash adds to both sides (the spiral).", "¶7, ¶12: spiralling violence; Richardson; assumed"),
    P("rivalry_base", 0.3, 0.0, 1.0, "hostility 0-1", "clash", "Baseline hostility between the pro-Iran camp and Sadr's bloc.", "¶24: two camps, pro- and anti-Iran"),
    P("rivalry_half_life", 60.0, 1.0, 365.0, "days", "clash", "Half-life of rivalry shocks.", "assumed"),
    P("clash_rivalry", 0.1, 0.0, 1.0, "hostility per clash", "clash", "Rivalry each clash adds.", "assumed"),
    P("attack_rivalry", 0.05, 0.0, 1.0, "hostility per attack", "clash", "Rivalry an attack on the state or PM adds.", "¶5: the attack on the PM marked a dramatic escalation between Shi'ite groups"),
    P("election_shock", 0.35, 0.0, 1.0, "grievance per seat share lost", "clash", "Grievance a bloc gains per share of its seats lost (and loses, halved, per share gained).", "¶3, ¶5: Fatah lost dozens of seats and its militias refused the results"),
    P("escalation_clashes", 3, 1, 30, "clash-days", "clash", "Clash-days within the window that count as escalation.", "MODEL.md: 3 clash-days within 14 days", int),
    P("escalation_window", 14, 1, 90, "days", "clash", "Window for the escalation criterion.", "MODEL.md", int),
)
# fmt: on
del P

PARAM_BY_NAME: dict[str, Param] = {p.name: p for p in PARAMS}
assert len(PARAM_BY_NAME) == len(PARAMS), "duplicate parameter name"


@dataclass(frozen=True)
class MilitiaField:
    """A per-militia attribute: range, unit and meaning (values live in MILITIAS)."""

    name: str
    low: float
    high: float
    unit: str
    description: str

    def check(self, militia: str, value: Any) -> float:
        return Param(self.name, 0.0, self.low, self.high, self.unit, "militia", "", "").check(
            value, prefix=f"militias.{militia}."
        )


MILITIA_FIELDS: tuple[MilitiaField, ...] = (
    MilitiaField("loyalty", 0.0, 1.0, "index 0-1", "Loyalty to the patron (multiplies leverage)."),
    MilitiaField("independence_offset", -1.0, 1.0, "index", "Added to militia_independence, then clipped to [0, 1]."),
    MilitiaField("discipline", 0.0, 1.0, "index 0-1", "Baseline restraint the leader imposes on its cells."),
    MilitiaField("hostility_us", 0.0, 1.0, "index 0-1", "Baseline hostility to US forces."),
    MilitiaField("grievance", 0.0, 1.0, "grievance", "Baseline (and initial) grievance."),
)
MILITIA_FIELD_NAMES = tuple(f.name for f in MILITIA_FIELDS)


@dataclass(frozen=True)
class Militia:
    """One militia's leadership, with evidence for its values (see seeds/evidence.yaml)."""

    key: str
    name: str
    leader: str
    bloc: str
    loyalty: float
    independence_offset: float
    discipline: float
    hostility_us: float
    grievance: float
    evidence: str


# fmt: off
MILITIAS: tuple[Militia, ...] = (
    # Values are the midpoints of the judged ranges in seeds/evidence.yaml (militias: <key>).
    Militia("badr", "Badr Organisation", "Hadi al-Amiri", "fatah", 0.90, -0.15, 0.65, 0.40, 0.30, "¶19: Iran's oldest paramilitary partner among them; ¶20: denounced the strike"),
    Militia("aah", "Asa'ib Ahl al-Haq", "Qais al-Khazali", "fatah", 0.65, 0.15, 0.55, 0.55, 0.30, "¶18: leaders emboldened by their own power base; ¶20: pointed at unnamed culprits"),
    Militia("kss", "Kataib Sayyid al-Shuhada", "(leadership)", "fatah", 0.75, 0.00, 0.55, 0.85, 0.30, "¶22: urged its followers to ready for a fight with US forces after 31 Dec"),
    Militia("pmf", "PMF command", "Abdul Aziz al-Mohammedawi", "fatah", 0.80, 0.05, 0.45, 0.50, 0.30, "¶29: umbrella body dominated by proxy groups; its chief is Iran's man of long standing"),
)
# fmt: on
MILITIA_KEYS = tuple(m.key for m in MILITIAS)


def _make_params_class() -> type:
    fields = [(p.name, p.kind, field(default=p.default)) for p in PARAMS]
    cls = dataclasses.make_dataclass("Params", fields, frozen=True)
    cls.__doc__ = "Validated parameter values (fields generated from PARAMS)."
    cls.__module__ = __name__
    return cls


Params = _make_params_class()


def suggest(name: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def make_params(values: Mapping[str, Any] | None = None, **overrides: Any) -> Any:
    """Validate ``values`` and ``overrides`` against PARAMS and return a frozen Params."""
    merged = {**(dict(values) if values else {}), **overrides}
    checked = {}
    for key, value in merged.items():
        if key not in PARAM_BY_NAME:
            raise ParameterError(
                f"params.{key} is not a parameter{suggest(key, list(PARAM_BY_NAME))}; "
                f"see docs/ODD.md for the {len(PARAMS)} declared parameters"
            )
        checked[key] = PARAM_BY_NAME[key].check(value, prefix="params.")
    return Params(**checked)


def make_militias(overrides: Mapping[str, Mapping[str, Any]] | None = None) -> tuple[Militia, ...]:
    """Return MILITIAS with validated per-militia overrides applied (e.g. {'kss': {'loyalty': 0.3}})."""
    overrides = dict(overrides or {})
    out = []
    fields_by_name = {f.name: f for f in MILITIA_FIELDS}
    for key in overrides:
        if key not in MILITIA_KEYS:
            raise ParameterError(
                f"militias.{key} is not a militia{suggest(key, MILITIA_KEYS)}; allowed: {', '.join(MILITIA_KEYS)}"
            )
    for m in MILITIAS:
        changes = {}
        for fname, value in dict(overrides.get(m.key, {})).items():
            if fname not in fields_by_name:
                raise ParameterError(
                    f"militias.{m.key}.{fname} is not a militia field{suggest(fname, MILITIA_FIELD_NAMES)}; "
                    f"allowed: {', '.join(MILITIA_FIELD_NAMES)}"
                )
            changes[fname] = fields_by_name[fname].check(m.key, value)
        out.append(dataclasses.replace(m, **changes))
    return tuple(out)


def params_as_dict(params: Any) -> dict[str, Any]:
    return dataclasses.asdict(params)
