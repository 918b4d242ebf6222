"""The one declaration of every model parameter: default, range, unit and evidence.
Hydra's schema, validation, both engines, the ODD table and the app's controls all read it."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.model.errors import ParameterError, suggest
from sim.model.structures import DEFAULT, MECHANISMS, Structure, from_codes


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
    # uncertain (has a prior) | switch | definition | resolution (no prior) | structure (which alternative of a
    # contested mechanism runs: no prior) | alternative (uncertain, with a prior, used only by its alternative)
    role: str = "uncertain"
    choices: tuple[str, ...] = ()  # a structure's alternatives by name: value i is choices[i]

    def check(self, value: Any, prefix: str = "") -> float | int | bool:
        """Return ``value`` converted to this parameter's kind, or raise a one-line ParameterError. A structure
        parameter also takes its alternatives' names."""
        label = f"{prefix}{self.name}"
        if self.choices and isinstance(value, str):
            if value not in self.choices:
                raise ParameterError(f"{label}={value!r} is not an alternative{suggest(value, self.choices)}; "
                                     f"allowed: {', '.join(self.choices)}")  # fmt: skip
            return self.choices.index(value)
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
    P("patron_present", True, 0, 1, "flag", "patron", "Whether the patron exists and acts at all (false: the no-patron counterfactual).", "counterfactual switch (¶1, ¶12: Iran is the actor whose absence is asked about)", bool, "switch"),
    P("patron_intervenes", True, 0, 1, "flag", "patron", "Whether the patron intervenes with the militias (false: it still mediates with Sadr and keeps its standing leverage).", "counterfactual switch for the intervention_effect study (¶2-8: the visit after the attack)", bool, "switch"),
    P("patron_influence", 0.5, 0.0, 1.0, "index 0-1", "patron", "Commander's personal authority over clients (Ghaani about 0.5, Soleimani about 0.85).", "¶16, ¶18: militia commanders find the successor less commanding and less fluent than Soleimani; ¶26: harder to steer allies"),
    P("standing_leverage", 0.3, 0.0, 1.0, "visit-pressure equivalents", "patron", "Everyday restraint the patron's leverage puts on a leader's stance between visits, as a share of a fresh visit's pressure.", "Salehyan 2010, Berman & Lake 2019: funding and arms steer clients all the time; ¶17: Iran funded and trained the groups"),
    P("patron_attention_initial", 1.0, 0.0, 1.0, "attention", "patron", "The patron's attention at the start of a scenario.", "¶39: the year's two other crisis visits are undated; most of the year leaves attention refilled"),
    P("patron_attention_cost", 0.4, 0.0, 1.0, "attention per intervention", "patron", "Attention an intervention uses up.", "¶15, ¶39: the commander's personal interventions are occasional, about three crisis visits in a year"),
    P("patron_attention_recovery", 0.015, 0.0, 0.2, "attention per day", "patron", "Daily refill of attention before distraction.", "¶33, ¶37, ¶39: about four major interventions a year: a full refill in 60-90 days"),
    P("patron_distraction", 0.2, 0.0, 1.0, "share", "patron", "Share of attention recovery lost to other priorities.", "¶1, ¶14: nuclear talks with Washington compete for Tehran's attention"),
    P("patron_trigger", 0.5, 0.0, 1.0, "tension index 0-1", "patron", "Tension above which the patron intervenes unprompted.", "¶3, ¶5: the election's anger alone brought no top-level visit; ¶33-37: Iran acted before any bloodshed"),
    P("patron_cooldown", 7, 0, 60, "days", "patron", "Days after an intervention during which no unforced one starts (the next comes after cooldown + 1 days at the earliest).", "¶6, ¶29, ¶39: several meetings within one trip, separate trips months apart", int),
    P("patron_targets", 3, 1, 4, "militias", "patron", "How many of the most pressing militias one intervention reaches.", "¶4, ¶6, ¶19: two militia leaders; ¶29: the PMF chief", int),
    P("intervention_grievance_effect", 0.2, 0.0, 1.0, "grievance per unit leverage", "patron", "Grievance removed by an intervention at full leverage.", "¶3-4: the message was to accept the result; ¶22: tensions kept simmering"),
    P("intervention_discipline_effect", 0.3, 0.0, 1.0, "discipline per unit leverage", "patron", "Discipline added by an intervention at full leverage.", "¶6, ¶8, ¶29: every leader met was told to rein in their followers"),
    P("pressure_half_life", 14.0, 1.0, 120.0, "days", "patron", "Half-life of a visit's pressure on a leader's stance.", "¶22; Beardsley 2008 (AJPS 52(4)): mediated calm lasts while leverage is applied"),
    P("tension_weight_violence", 1.0, 0.1, 10.0, "relative weight", "patron", "Weight of the pro-Iran camp's violence in the patron's reading of tension.", "¶7, ¶12: fear of spiralling intra-Shi'ite violence; relative weights assumed"),
    P("tension_weight_mobilisation", 1.0, 0.1, 10.0, "relative weight", "patron", "Weight of Sadr's armed mobilisation in the patron's reading of tension.", "¶7, ¶36: a Sadrist challenge worried Iran; relative weights assumed"),
    P("tension_weight_rivalry", 1.0, 0.1, 10.0, "relative weight", "patron", "Weight of the rivalry between the camps in the patron's reading of tension.", "¶24, ¶28: two camps, tensions flaring; relative weights assumed"),
    P("patron_credibility_sadr", 0.35, 0.0, 1.0, "probability", "patron", "Credibility of the patron's envoys as mediators with Sadr, whom it opposes.", "Kydd 2003 (AJPS 47(4)): a mediator biased against a party is less credible with it; ¶38, ¶40: yet the Iranian mediation is credited"),
    # --- militias ------------------------------------------------------------------------
    P("militia_independence", 0.45, 0.0, 1.0, "index 0-1", "militia", "Mean independence of the militias from the patron (each militia adds its own offset).", "¶17-18, ¶26: own revenue and state posts make them harder to control; Salehyan 2010 agency slack"),
    P("independence_drift", 0.0005, 0.0, 0.01, "share of the remaining dependence per day", "militia", "Slow daily growth of independence towards 1.", "¶16-18: harder to direct since 2020 as their economic power grew"),
    P("grievance_half_life", 60.0, 1.0, 365.0, "days", "militia", "Half-life of a grievance shock (towards each actor's baseline).", "¶22, ¶28: anger kept simmering two months after the vote"),
    P("discipline_half_life", 10.0, 1.0, 365.0, "days", "militia", "Half-life of added discipline (towards the militia's baseline).", "assumed: a visit's boost fades over one to three weeks"),
    P("stance_threshold", 0.5, 0.0, 1.0, "grievance", "militia", "Grievance at which a restraining leader is equally likely to start contesting.", "¶3, ¶6: the losers refused the results after the vote; quiet leaders restrain"),
    P("stance_tau", 0.075, 0.01, 1.0, "grievance", "militia", "Noise (logistic scale) of the leader's stance choice.", "assumed: a fairly sharp switch, rare contests at low grievance"),
    P("stance_hysteresis", 0.1, 0.0, 0.5, "grievance", "militia", "How far below the threshold a contesting leader's grievance must fall before it backs down.", "¶3, ¶22: the refusal of the results was held for weeks"),
    P("contest_boost", 0.10, 0.0, 1.0, "grievance", "militia", "How much a contesting leader eggs its cells on (negative restraint).", "¶2, ¶5-6: the refusal period ended in the drone strike"),
    # --- cells (Epstein 2002, adapted) ------------------------------------------------------
    P("cells_per_militia", 30, 1, 2000, "cells", "cells", "Number of cells (sub-units, supporters) per militia; each cell sees its whole militia.", "¶4, ¶6: leaders answer for many armed followers; a resolution choice (see departures)", int, "resolution"),
    P("cell_grievance_sd", 0.15, 0.0, 0.5, "grievance", "cells", "Spread of cells' grievance around their leader's.", "¶18, ¶20: commanders differ; Staniland 2014: loose ties let sub-units diverge"),
    P("cell_threshold", 0.10, 0.0, 1.0, "grievance", "cells", "Net grievance a cell needs to act (Epstein's T).", "Epstein 2002 (PNAS 99 suppl. 3): T = 0.1"),
    P("arrest_k", 2.3, 0.0, 10.0, "dimensionless", "cells", "Steepness of the expected cost of acting (Epstein's k).", "Epstein 2002: k = 2.3, so P is about 0.9 where forces equal actives"),
    P("cell_tau", 0.05, 0.005, 1.0, "grievance", "cells", "Noise (logistic scale) of a cell's decision to act.", "assumed; a smooth version of Epstein's threshold"),
    P("state_capacity", 0.35, 0.0, 1.0, "state forces per cell", "state", "Deterrence of the state's security forces: their strength per militia cell (Epstein's cops per agent).", "¶2, ¶5: a drone reached the PM's home; ¶17-18, ¶29: the coercive arm is partly the militias' own"),
    # --- outcomes ---------------------------------------------------------------------------
    P("attack_rate_state", 0.0077, 0.0, 1.0, "attacks per day at full activity", "outcomes", "Hazard of an attack on the state or PM by a fully active militia.", "¶2, ¶5: a major attack on the state is a sharp step up, about once in several months"),
    P("attack_rate_us", 0.283, 0.0, 1.0, "attacks per day at full activity", "outcomes", "Hazard of an attack on US assets by a fully active, fully hostile militia.", "¶12, ¶22: militias attack US assets, more often than the state; about 80 attacks in the year to October 2020 (outside_seed)"),
    P("front_activity", 0.4, 0.0, 1.0, "share of capacity", "outcomes", "Share of a militia's capacity to attack US forces held by its standing front groups, which act whatever its mass of cells does.", "outside_seed: front groups (Usbat al-Thaireen, a label for Kataib Hezbollah's cells) claimed a large share of the 2020 attacks"),
    P("truce_compliance", 0.825, 0.0, 1.0, "share of attacks held back", "outcomes", "Share of attacks on US forces that a truce in force holds back (convoys stay exempt).", "outside_seed: the factions' conditional truce of October 2020 and the government's two-stage truce of 2021 both exempted convoys"),
    P("us_retaliation_prob", 0.0387, 0.0, 1.0, "probability", "outcomes", "Chance the US answers an attack on its assets.", "¶22: the US reserves the right to respond to deadly attacks; a few strike rounds a year against dozens of attacks (outside_seed)"),
    P("retaliation_grievance", 0.15, 0.0, 1.0, "grievance", "outcomes", "Grievance a US strike adds to the militia it hits.", "¶16, ¶22: the 2020 strike frames the militias' anti-US posture"),
    P("retaliation_hostility", 0.1, 0.0, 1.0, "hostility", "outcomes", "US hostility a US strike adds to the militia it hits.", "¶22: a struck group calls for confrontation; Richardson-style reaction"),
    # --- Sadr's bloc ------------------------------------------------------------------------
    P("sadr_grievance_base", 0.25, 0.0, 1.0, "grievance", "sadr", "Baseline grievance of Sadr's bloc.", "¶34: perceived enemies plotting against him; ¶3, ¶25: yet first in seats"),
    P("sadr_discipline", 0.85, 0.0, 1.0, "index 0-1", "sadr", "Single-leader control of the armed wing: the share of it that stands down at once on an order.", "¶34-38: one leader decides the boycott and the return; Staniland 2014"),
    P("mobilisation_threshold", 0.65, 0.0, 0.95, "threat", "sadr", "Threat at which half of Sadr's armed wing would mobilise (its members' thresholds centre here).", "¶34-38: a threatened but disciplined movement; no fighting reported during the boycott"),
    P("mobilisation_tau", 0.075, 0.01, 1.0, "threat", "sadr", "Spread (logistic scale) of the armed wing's members' thresholds around mobilisation_threshold.", "Granovetter 1978, Epstein 2002: members' thresholds differ; ¶24: a mass movement's armed wing"),
    P("threat_refusal", 0.05, 0.0, 1.0, "threat at all leaders refusing", "sadr", "Threat Sadr's movement reads from the militia leaders' refusal of the results it won (Richardson's reaction).", "¶3, ¶5, ¶28: the losers refused the results of the vote Sadr won; Richardson 1960"),
    P("threat_violence", 0.1, 0.0, 1.0, "threat at all cells active", "sadr", "Threat Sadr's movement reads from the pro-Iran camp's violence (Richardson's reaction).", "¶2, ¶5, ¶12: the pro-Iran camp's violence reached Sadr's ally; Richardson 1960"),
    P("threat_rivalry", 0.25, 0.0, 2.0, "threat per unit rivalry", "sadr", "Threat Sadr's movement reads from the rivalry between the camps above its baseline.", "¶24, ¶28: two camps, tensions flaring around the vote; Richardson 1960"),
    P("sadr_restraint", 0.5, 0.0, 1.0, "probability", "sadr", "Chance that Sadr orders his armed wing home after a clash day (it stands down by sadr_discipline, for order_days).", "¶38: Sadr came back to avoid an escalation; Staniland 2014: a single leader can halt his fighters"),
    P("election_stake", 0.2, 0.0, 1.0, "grievance", "sadr", "Extra grievance it takes a bloc that gained seats in an election to walk out of politics (what it would forfeit).", "¶3, ¶25: first in seats, Sadr leads the coalition talks"),
    P("boycott_threshold", 0.55, 0.0, 1.0, "grievance", "sadr", "Grievance at which a participating Sadr is equally likely to walk out on a given day.", "¶34: boycott announced over perceived enemies"),
    P("boycott_commitment", 0.225, 0.0, 1.0, "grievance", "sadr", "Public commitment of a walk-out: added to grievance in the decision to return (the cost of climbing down).", "¶34, ¶36: Sadr had always taken part, so a boycott was a costly signal"),
    P("return_threshold", 0.35, 0.0, 1.0, "grievance", "sadr", "Grievance plus commitment below which a boycotting Sadr is more likely than not to return.", "¶38: came back to avoid escalation once mediation worked"),
    P("sadr_tau", 0.05, 0.005, 1.0, "grievance", "sadr", "Noise (logistic scale) of boycott and return decisions.", "assumed: near-deterministic decisions by a single leader"),
    P("mobilisation_rate", 0.125, 0.0, 1.0, "per day", "sadr", "Speed at which the armed wing's mobilisation follows its target.", "¶24: most parties have armed wings; follows grievance over days to weeks (assumed)"),
    P("mediation_effect", 0.3, 0.0, 1.0, "grievance per unit credibility", "sadr", "Grievance a fully credible mediation removes from Sadr's bloc.", "¶37-38, ¶40: Iranian officials and Sistani's advice ended the boycott; Kydd 2003"),
    P("sistani_credibility", 0.75, 0.0, 1.0, "probability", "sadr", "Credibility of Grand Ayatollah Sistani's advice with Sadr.", "¶38: Sadr sought his advice before returning; Kydd 2003"),
    P("attack_sadr_grievance", 0.15, 0.0, 1.0, "grievance per attack", "sadr", "Grievance an attack on the state or PM adds to Sadr's bloc (aligned with the PM).", "¶2, ¶5: the PM, Sadr's ally, was attacked; pro-Iran groups were blamed"),
    # --- intra-Shi'ite clash and escalation ---------------------------------------------------
    P("clash_kappa", 1.0, 0.0, 5.0, "per day", "clash", "Scale of the daily clash hazard 1 - exp(-kappa * v * m).", "¶7, ¶12, ¶22: a feared civil war that did not come; assumed"),
    P("clash_grievance", 0.1, 0.0, 1.0, "grievance per clash", "clash", "Grievance each clash adds to both sides (the spiral).", "¶7, ¶12: spiralling violence; Richardson"),
    P("rivalry_base", 0.3, 0.0, 1.0, "hostility 0-1", "clash", "Baseline hostility between the pro-Iran camp and Sadr's bloc.", "¶24, ¶28: two camps, pro- and anti-Iran"),
    P("rivalry_half_life", 120.0, 1.0, 365.0, "days", "clash", "Half-life of rivalry shocks.", "¶5, ¶22, ¶28: tensions built over months and simmered for weeks"),
    P("clash_rivalry", 0.1, 0.0, 1.0, "hostility per clash", "clash", "Rivalry each clash adds.", "¶7: fear of civil war among Shi'a; assumed"),
    P("attack_rivalry", 0.15, 0.0, 1.0, "hostility per attack", "clash", "Rivalry an attack on the state or PM adds.", "¶2, ¶5: the attack on the PM marked a sharp rise in rivalry"),
    P("election_shock", 0.465, 0.0, 1.0, "grievance per seat share lost", "clash", "Grievance a bloc gains per share of its seats lost.", "¶3, ¶5, ¶28: Fatah lost dozens of seats and its militias refused the results"),
    P("election_gain_relief", 0.44, 0.0, 1.0, "share of the loss effect", "clash", "Grievance a bloc loses per share of seats gained, as a share of election_shock.", "Tversky & Kahneman 1992: losses loom about 2.25 times larger than gains"),
    P("election_rivalry", 0.1, 0.0, 1.0, "hostility", "clash", "Rivalry an election adds (a scenario's election event may set its own).", "¶5, ¶28: tensions were highest around the vote"),
    P("escalation_clashes", 3, 1, 30, "clash-days", "clash", "Clash-days within the window that count as escalation.", "definition (MODEL.md): 3 clash-days within 14 days", int, "definition"),
    P("escalation_window", 14, 1, 90, "days", "clash", "Window for the escalation criterion.", "definition (MODEL.md)", int, "definition"),
    P("sustained_clashes", 10, 1, 90, "clash-days", "clash", "Clash-days within the sustained window that count as sustained fighting (the severity ladder's top rung).", "definition: fighting on most days of a month, as in a civil war's onset rather than an incident", int, "definition"),
    P("sustained_window", 30, 1, 90, "days", "clash", "Window for the sustained-fighting criterion.", "definition: a month", int, "definition"),
    # --- event magnitudes: the defaults of scenario events' fields -----------------------------
    P("ratification_grievance", 0.1, 0.0, 1.0, "grievance", "events", "Grievance the ratification of the results adds to the losing bloc's militias.", "¶22: ratification could fuel resentment"),
    P("deadline_hostility", 0.2, 0.0, 1.0, "hostility", "events", "Hostility to US forces a deadline (a militia's call to confront them) adds.", "¶22: KSS called on opponents of the US presence to prepare for confrontation after 31 December"),
    P("deadline_grievance", 0.05, 0.0, 1.0, "grievance", "events", "Grievance a deadline adds to the militia that set it.", "¶22; assumed small: the call targets US forces, not rivals"),
    P("coalition_grievance", 0.1, 0.0, 1.0, "grievance", "events", "Grievance coalition talks that exclude a bloc add to its militias.", "¶25: Sadr may exclude some Iran-backed groups"),
    P("coalition_rivalry", 0.05, 0.0, 1.0, "hostility", "events", "Rivalry coalition talks add.", "¶25; assumed"),
    P("order_days", 9, 1, 90, "days", "events", "How long a stand-down order binds when an order event does not say.", "assumed: an order holds for days, not months", int),
    # --- parameters of the rival alternatives (sim/model/structures.py): used only when theirs is chosen -------
    P("coercion_strength", 0.6, 0.0, 1.0, "leverage at full dependence", "alternatives", "structure.leverage=coercion: leverage a threat to cut a fully dependent militia's money and arms gives the patron (the coercive lever, scaled down by independence).", "¶6: the commander berated leaders; ¶17: Iran funded and armed the groups; Byman 2005, Berman & Lake 2019", float, "alternative"),
    P("coercion_backlash", 0.15, 0.0, 1.0, "grievance per unit coercion", "alternatives", "structure.leverage=coercion: grievance a coercive visit adds to a berated leader, per unit of the coercive lever used.", "¶6, ¶18: berated leaders emboldened by their own power base; assumed", float, "alternative"),
    P("richardson_militia_reaction", 0.005, 0.0, 0.05, "grievance per day at full mobilisation", "alternatives", "structure.reaction=richardson: grievance Sadr's fully mobilised armed wing adds to each militia every day (Richardson's reaction l).", "¶24, ¶28: both camps have armed wings and read each other's; Richardson 1960", float, "alternative"),
    P("richardson_sadr_reaction", 0.25, 0.0, 2.0, "threat per unit grievance", "alternatives", "structure.reaction=richardson: threat Sadr's movement reads per unit of the militias' mean grievance above its baseline (Richardson's reaction k).", "¶24, ¶28; Richardson 1960; of the size of threat_rivalry", float, "alternative"),
    P("cascade_peer_weight", 0.5, 0.0, 2.0, "threat per share of the wing out", "alternatives", "structure.mobilisation=cascade: threat a member of Sadr's wing reads from the share of the wing already out (Granovetter's peer effect).", "Granovetter 1978; ¶24: a mass movement's armed wing", float, "alternative"),
    P("legitimacy_base", 0.6, 0.0, 0.9, "legitimacy 0-1", "alternatives", "structure.grievance=legitimacy: the legitimacy the militias accord the electoral order and the state at rest (Epstein's L).", "¶17-18, ¶29: the groups sit in parliament and the state; ¶3: yet refuse an unfavourable result", float, "alternative"),
    P("election_legitimacy", 0.6, 0.0, 1.0, "legitimacy per seat share lost", "alternatives", "structure.grievance=legitimacy: legitimacy a bloc's militias withdraw from the result per share of their seats lost (a gain adds election_gain_relief as much).", "¶3, ¶5, ¶28: Fatah's militias called the vote rigged and refused the results", float, "alternative"),
    P("ratification_legitimacy", 0.1, 0.0, 1.0, "legitimacy", "alternatives", "structure.grievance=legitimacy: legitimacy the ratification of the results over a bloc's objections withdraws from its militias.", "¶22: the ratification could fuel resentment", float, "alternative"),
    P("attack_legitimacy", 0.05, -1.0, 1.0, "legitimacy per attack", "alternatives", "structure.grievance=legitimacy: legitimacy an attack on the state or the PM moves in the militias' eyes (positive: the camp rallies to the state it is blamed for attacking).", "¶20: the leaders denounced the strike or pointed at unnamed culprits; the sign is uncertain", float, "alternative"),
    P("intervention_legitimacy", 0.25, 0.0, 1.0, "legitimacy per unit leverage", "alternatives", "structure.grievance=legitimacy: legitimacy a visit adds at full leverage (the message to accept the result), in place of intervention_grievance_effect.", "¶3-4: the commander told the losers to accept the result", float, "alternative"),
    P("relapse_share", 0.75, 0.0, 1.0, "share of a visit's calm", "alternatives", "structure.relapse=beardsley: share of the calm a visit bought (the grievance it removed, or the legitimacy it added) that lapses as the visit's pressure fades (pressure_half_life).", "Beardsley 2008 (AJPS 52(4)): leveraged mediation's agreements relapse when the leverage is withdrawn; ¶22, ¶39", float, "alternative"),
    P("encounter_rate", 3.16, 0.0, 50.0, "encounters per day at full activity", "alternatives", "structure.clash=epstein_ii: daily rate at which the active members of the two camps meet when both are fully out, before the state's forces interdict (Epstein's Model II in the mean field).", "Epstein 2002, Model II; ¶7, ¶12: a feared civil war that did not come; assumed", float, "alternative"),
)
# fmt: on
# One whole-number parameter per contested mechanism says which alternative runs (0: today's, the default). The
# engines read these; users choose by name with structure.<mechanism>=<name> (config) or structure_<mechanism>=<name>.
PARAMS += tuple(
    P(m.param, 0, 0, len(m.alternatives) - 1, "alternative: " + ", ".join(f"{i} {a.name}" for i, a in enumerate(m.alternatives)),
      "structure", f"Which theory of the mechanism '{m.name}' runs: {m.question.lower()} ({', '.join(m.names)}).",
      "sim/model/structures.py; docs/ODD.md section 7 (" + ", ".join(a.odd for a in m.alternatives) + ")", int, "structure", m.names)
    for m in MECHANISMS
)  # fmt: skip
del P

PARAM_BY_NAME: dict[str, Param] = {p.name: p for p in PARAMS}
assert len(PARAM_BY_NAME) == len(PARAMS), "duplicate parameter name"
ROLES = ("uncertain", "switch", "definition", "resolution", "structure", "alternative")
assert all(p.role in ROLES for p in PARAMS), "unknown parameter role"


# --- levers: the options the actors control -----------------------------------------------------------------
# A lever is a declared parameter that an actor chooses rather than one the evidence leaves uncertain: in a policy
# analysis (python -m sim experiment=policies) a policy sets the levers, and the other uncertain values are drawn
# as scenarios. Every other analysis treats a lever as the parameter it is (its prior stays the evidence's judged
# range of what the actor does today; its default is today's behaviour). The range is what the actor could choose.
ACTORS: dict[str, str] = {
    "patron": "Iran: the Quds Force and its commander",
    "government": "the Iraqi government: the prime minister and the security forces",
    "us": "the United States: its forces in Iraq",
    "sadr": "Moqtada al-Sadr",
}


@dataclass(frozen=True)
class Lever:
    """An option an actor controls: the parameter it sets, who holds it, the range of choices open to the actor
    (within the parameter's declared range) and the evidence for that range."""

    param: str
    actor: str
    low: float
    high: float
    option: str
    evidence: str

    def check(self, value: Any, prefix: str = "") -> float | int | bool:
        """``value`` as the parameter's kind, or a one-line ParameterError naming the lever and its range."""
        spec = PARAM_BY_NAME[self.param]
        narrowed = Param(self.param, spec.default, self.low, self.high, spec.unit, spec.group, "", "", spec.kind)
        return narrowed.check(value, prefix=prefix)


L = Lever
# fmt: off
LEVERS: tuple[Lever, ...] = (
    L("patron_intervenes", "patron", 0, 1, "whether its commander steps in with the militias in a crisis (false: it stays out, keeping its standing leverage and its envoys' mediation with Sadr)", "¶2-8, ¶29: the commander's visit after the attack on the PM was a choice, as were the two other crisis visits of the year (¶39); staying out is the option the article's question weighs"),
    L("patron_trigger", "patron", 0.2, 0.9, "the tension at which it steps in unprompted (lower: sooner)", "¶3, ¶5: no top-level visit for the election's anger alone (today's 0.5, judged 0.4-0.7); ¶33-37: it acted before any bloodshed over the boycott: an earlier trigger is open to it, and so is waiting for violence"),
    L("patron_targets", "patron", 1, 4, "how many of the militias one intervention reaches", "¶4, ¶6, ¶19, ¶29: two leaders in one meeting and the PMF chief apart (today's 3); one envoy to one leader, or all four leaderships, are the least and the most a visit can cover"),
    L("patron_distraction", "patron", 0.0, 0.8, "how much of the attention it could give Iraq other priorities take", "¶1, ¶14: the nuclear talks with Washington compete for Tehran's attention (today's 0.2, judged 0.1-0.3); it can put Iraq first (0) or let the talks absorb it (0.8, the distracted_patron counterfactual)"),
    L("state_capacity", "government", 0.2, 0.6, "its security posture: the deterrence its forces put on each militia cell", "¶2, ¶5: a drone reached the PM's home; ¶17-18, ¶29: the coercive arm is partly the militias' own (judged 0.2-0.6, today's 0.35): a government can lean on its forces or hold them back, within what forces it has"),
    L("us_retaliation_prob", "us", 0.0, 0.25, "the chance it answers an attack on its forces with a strike", "¶22: Washington reserves the right to respond to deadly attacks; two strike rounds in 2021 against dozens of attacks (outside_seed; judged 0.015-0.1): never striking back is a policy it can declare; answering one attack in four is several times the 2019-2020 rate (about three strike rounds against some 80 attacks)"),
    L("sadr_restraint", "sadr", 0.0, 1.0, "the chance he orders his armed wing home after a clash day", "¶38: he came back to the vote to avoid an escalation (judged 0.3-0.7, today's 0.5); Staniland 2014: a single leader can halt his fighters on his word, every time (1) or never (0)"),
)
# fmt: on
del L
LEVER_BY_NAME: dict[str, Lever] = {lv.param: lv for lv in LEVERS}
assert all(lv.param in PARAM_BY_NAME and lv.actor in ACTORS for lv in LEVERS), "a lever names an unknown parameter or actor"
assert all(PARAM_BY_NAME[lv.param].low <= lv.low < lv.high <= PARAM_BY_NAME[lv.param].high for lv in LEVERS), (
    "a lever's range leaves its parameter's declared range"
)


def policy_params(policy: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A policy ({lever: value}) checked whole: every name a lever, every value in its lever's range; a one-line
    ParameterError naming the first that is not (``prefix`` says where it came from, e.g. policies.named.x.)."""
    out = {}
    for name, value in dict(policy or {}).items():
        if name not in LEVER_BY_NAME:
            raise ParameterError(f"{prefix}{name} is not a lever{suggest(name, list(LEVER_BY_NAME))}; levers: "
                                 f"{', '.join(LEVER_BY_NAME)}")  # fmt: skip
        out[name] = LEVER_BY_NAME[name].check(value, prefix=prefix)
    return out


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
    Militia("aah", "Asa'ib Ahl al-Haq", "Qais al-Khazali", "fatah", 0.675, 0.15, 0.55, 0.55, 0.30, "¶18: leaders emboldened by their own power base; ¶20: pointed at unnamed culprits"),
    Militia("kss", "Kataib Sayyid al-Shuhada", "(leadership)", "fatah", 0.775, 0.00, 0.55, 0.85, 0.30, "¶22: urged its followers to ready for a fight with US forces after 31 Dec"),
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


# ----------------------------------------------------------------------------- structures and the parameters in use


def structure_of(params: Any) -> Structure:
    """The structure a parameter set runs (its ``structure_<mechanism>`` values, by name)."""
    return from_codes({m.param: getattr(params, m.param) for m in MECHANISMS})


@functools.lru_cache(maxsize=1024)  # a frozen Structure: asked once per point of a large design
def params_in_use(structure: Structure = DEFAULT) -> tuple[Param, ...]:
    """The declared parameters a structure's rules read, in declaration order: every ordinary parameter and the
    parameters of its chosen alternatives (not the structure parameters themselves)."""
    chosen = {name for a in structure.alternatives() for name in a.params}
    return tuple(p for p in PARAMS if (p.role not in ("structure", "alternative")) or p.name in chosen)


def model_values(params: Any) -> dict[str, Any]:
    """What a parameter set is, for keys, seeds and records: the values of the parameters in use and, unless
    the structure is the default, the structure's changed mechanisms under ``structure``. At the default
    structure this is exactly the parameter set as it was before the rival mechanisms (so sweep seeds stay)."""
    structure = structure_of(params)
    out: dict[str, Any] = {p.name: getattr(params, p.name) for p in params_in_use(structure)}
    if not structure.is_default:
        out["structure"] = structure.changed()
    return out


def used_values(params: Any) -> dict[str, Any]:
    """The values of the parameters a parameter set's structure uses (structure parameters left out)."""
    return {p.name: getattr(params, p.name) for p in params_in_use(structure_of(params))}


def unused_values(params: Any) -> list[str]:
    """Parameters of alternatives that are set away from their defaults while their alternative is not chosen
    (such a value would change nothing: a mistake to report, not to accept silently)."""
    used = {p.name for p in params_in_use(structure_of(params))}
    return [p.name for p in PARAMS if p.role == "alternative" and p.name not in used
            and getattr(params, p.name) != p.default]  # fmt: skip


def owner(name: str) -> str:
    """``structure.leverage=coercion``: the alternative whose parameter ``name`` is ('' for an ordinary one)."""
    for m in MECHANISMS:
        for a in m.alternatives:
            if name in a.params:
                return f"structure.{m.name}={a.name}"
    return ""
