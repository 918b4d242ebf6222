"""Deliberately broken variants of the model, for the mutation suite (tests/test_mutations.py): each is one plausible
one-line bug, in a rule, an event, the engine's day, the daily or run record, the escalation definition or the table.

A variant is a replacement function patched where the vector engine finds it, or a one-line edit of the code's own
source (``edits``: the line as written and as broken; the edit must match exactly one place, so a variant that no
longer fits the code fails loudly), or a changed militia table. The second group (NEW_MUTANTS) was written for
issue 25 as a stranger would slip: off-by-one in windows and dates, the wrong militia's value, a sign, a swapped
weight, a term applied to the wrong target."""

from __future__ import annotations
import __future__

import dataclasses
import inspect
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from patterns import Runner

from sim.engines import vector
from sim.model import events, outcomes, rules
from sim.model.params import MILITIAS, Militia
from sim.model.scenario import Scenario
from sim.model.structures import make_structure

# Where a patch's name points: "rules.f" (both engines call the rules there), "events.f" (the event effects'
# module), "outcomes.f" (the records), "vector.f" (the engine's day, or a name it imported), "Scenario.f" (a
# method or property of scenarios).
HOMES: dict[str, Any] = {"rules": rules, "events": events, "outcomes": outcomes, "vector": vector,
                         "Scenario": Scenario}  # fmt: skip
FIELDS = ("loyalty", "independence_offset", "discipline", "hostility_us", "grievance")


def edited(where: str, old: str, new: str) -> Any:
    """The function (or property) at ``where`` recompiled from its own source with ``old`` replaced by ``new``, in
    a copy of its module's namespace (so it sees the module's other names as they are)."""
    home, name = where.split(".")
    original = HOMES[home].__dict__[name]
    func = original.fget if isinstance(original, property) else original
    src = textwrap.dedent(inspect.getsource(func))
    if src.count(old) != 1:
        raise ValueError(f"mutant edit of {where}: {old!r} occurs {src.count(old)} times in its source, not once")
    ns = dict(sys.modules[func.__module__].__dict__)
    flags = __future__.annotations.compiler_flag
    exec(compile(src.replace(old, new), f"<mutant of {where}>", "exec", flags=flags, dont_inherit=True), ns)
    return ns[name]


@dataclass(frozen=True)
class Mutant:
    """A named break: ``patches`` ("home.name" -> replacement of the same signature), ``edits`` ((where, old,
    new): a one-line edit of the source), and/or a changed militia table (``militias``: a function of the
    declared table). A replaced function is replaced wherever a module imported it by name (the vector engine
    imports apply_events and the record's functions)."""

    name: str
    description: str
    patches: dict[str, Callable] = field(default_factory=dict)
    militias: Callable[[tuple[Militia, ...]], tuple[Militia, ...]] | None = None
    edits: tuple[tuple[str, str, str], ...] = ()
    structure: tuple[tuple[str, str], ...] = ()  # (mechanism, alternative): where the bug runs (default: today's)

    @property
    def structure_params(self) -> dict:
        """The parameters that select the variant's structure (none for today's)."""
        st = make_structure(dict(self.structure))
        return {} if st.is_default else st.codes()

    @property
    def structure_label(self) -> str:
        return make_structure(dict(self.structure)).label()

    @property
    def where(self) -> str:
        """Where the bug is: the patched or edited names, or the militia table."""
        names = [*self.patches, *(w for w, _, _ in self.edits)]
        return ", ".join(names) if names else "the militia table"

    def replacements(self) -> list[tuple[Any, str, Any]]:
        out = []
        for where, fn in [*self.patches.items(), *((w, edited(w, old, new)) for w, old, new in self.edits)]:
            home, name = where.split(".")
            original = HOMES[home].__dict__[name]
            out.append((HOMES[home], name, fn))
            for module in (rules, events, outcomes, vector):  # aliases imported by name
                if module is not HOMES[home] and module.__dict__.get(name) is original:
                    out.append((module, name, fn))
        return out

    @contextmanager
    def applied(self) -> Iterator[Runner]:
        targets = self.replacements()
        saved = [(home, name, home.__dict__[name]) for home, name, _ in targets]
        try:
            for home, name, fn in targets:
                setattr(home, name, fn)
            yield Runner(militias=self.militias(MILITIAS) if self.militias else MILITIAS,
                         params=self.structure_params)
        finally:
            for home, name, fn in reversed(saved):
                setattr(home, name, fn)


# The originals, captured at import (before any mutant is applied), for mutants that wrap them.
_r = {name: getattr(rules, name) for name in dir(rules) if not name.startswith("_")}
_apply_events = vector.apply_events


def _contest(standing: float = 1.0, hysteresis: float = 1.0, leverage_sign: float = 1.0) -> Callable:
    def contest_probability(grievance, lam, pressure, standing_, contested, threshold, tau, hysteresis_):
        return rules.sigmoid((grievance - leverage_sign * lam * (standing * standing_ + pressure) - threshold
                              + hysteresis * hysteresis_ * contested) / tau)  # fmt: skip

    return contest_probability


def _decides(salient_seen: bool = True, tension_seen: bool = True, below: bool = False) -> Callable:
    def patron_decides(present, intervenes, attention, cooldown, tension, salient, forced, trigger, cost):
        over = (tension < trigger) if below else (tension > trigger)
        wants = ((over & tension_seen) & (cooldown <= 0)) | (salient & salient_seen)
        return present & intervenes & (forced | (wants & (attention >= cost)))

    return patron_decides


def _intervene(g_sign: float = -1.0, reset_pressure: bool = True) -> Callable:
    def intervene(grievance, discipline, pressure, lam, targeted, grievance_effect, discipline_effect):
        g = np.where(targeted, rules.clip01(grievance + g_sign * lam * grievance_effect), grievance)
        d = np.where(targeted, rules.clip01(discipline + lam * discipline_effect), discipline)
        p = np.where(targeted, 1.0, pressure) if reset_pressure else pressure
        return g, d, p

    return intervene


def _threat(absolute_rivalry: bool = False, reactions: bool = True) -> Callable:
    def sadr_threat(grievance, refusing, violence, rivalry, rivalry_base, w_refusal, w_violence, w_rivalry):
        if not reactions:
            return grievance + 0.0 * refusing
        above = rivalry if absolute_rivalry else rivalry - rivalry_base
        return grievance + w_refusal * refusing + w_violence * violence + w_rivalry * above

    return sadr_threat


def _participation(stake_sign: float = -1.0, commitment: bool = True) -> Callable:
    def participation_after(participating, u_walk, u_return, grievance, commitment_, stake, boycott_threshold,
                            return_threshold, tau):  # fmt: skip
        walks_out = u_walk < rules.boycott_probability(grievance + stake_sign * stake, boycott_threshold, tau)
        held = commitment_ if commitment else 0.0
        returns = u_return < rules.return_probability(grievance + held, return_threshold, tau)
        return np.where(participating, ~walks_out, returns)

    return participation_after


def _election_grievance(gain_relief: bool = True, gain_angers: bool = False) -> Callable:
    def election_grievance(seats_before, seats_after, shock, relief):
        change = (seats_after - seats_before) / max(seats_before, 1)
        if gain_angers:
            return shock * abs(change)
        return -shock * change if (change < 0 or not gain_relief) else -relief * shock * change

    return election_grievance


def _stake_never_set(state, evs, pt, militias):
    _apply_events(state, evs, pt, militias)
    state.sadr_stake[...] = 0.0


def _truce_never_lapses(state, evs, pt, militias):
    _apply_events(state, tuple(e for e in evs if not (e.kind == "truce" and e.data.get("phase") == "ends")),
                  pt, militias)  # fmt: skip


def _a_day_late(kind: str) -> Callable:
    def events_on(self, day):
        return tuple(e for e in self.events
                     if (e.day == day and e.kind != kind) or (e.day == day - 1 and e.kind == kind))  # fmt: skip

    return events_on


def _swap(a: str, b: str, attr: str) -> Callable:
    """The militia table with ``attr`` of militias ``a`` and ``b`` exchanged (a copy-paste slip)."""
    def table(militias: tuple[Militia, ...]) -> tuple[Militia, ...]:
        by = {m.key: m for m in militias}
        va, vb = getattr(by[a], attr), getattr(by[b], attr)
        return tuple(dataclasses.replace(m, **{attr: vb if m.key == a else va if m.key == b else getattr(m, attr)})
                     for m in militias)  # fmt: skip

    return table


def _alike(militias: tuple[Militia, ...]) -> tuple[Militia, ...]:
    means = {f: float(np.mean([getattr(m, f) for m in militias])) for f in FIELDS}
    return tuple(dataclasses.replace(m, **means) for m in militias)


M = Mutant
OLD_MUTANTS: tuple[Mutant, ...] = (
    # --- the patron's leverage and decision
    M("leverage_ignores_influence", "leverage is loyalty x (1 - independence): the commander does not matter",
      {"rules.leverage": lambda present, influence, loyalty, ind: present * loyalty * (1.0 - ind)}),
    M("leverage_grows_with_independence", "leverage uses independence where it should use 1 - independence",
      {"rules.leverage": lambda present, influence, loyalty, ind: present * influence * loyalty * ind}),
    M("leverage_from_disloyalty", "leverage uses 1 - loyalty: the patron holds its least loyal clients best",
      {"rules.leverage": lambda present, influence, loyalty, ind: present * influence * (1 - loyalty) * (1 - ind)}),
    M("patron_ignores_salient_events", "a salient event (the attack on the PM) no longer overrides the cooldown",
      {"rules.patron_decides": _decides(salient_seen=False)}),
    M("trigger_off", "the patron ignores tension and acts only on salient or forced days",
      {"rules.patron_decides": _decides(tension_seen=False)}),
    M("trigger_inverted", "the patron intervenes when tension is below its trigger (< for >)",
      {"rules.patron_decides": _decides(below=True)}),
    M("targets_least_pressing", "the visit reaches the least pressing militias (sort order not reversed)",
      {"rules.target_mask": lambda score, k, axis=1: _r["target_mask"](-score, k, axis)}),
    M("score_ignores_activity", "the patron ranks militias by grievance alone, not yesterday's activity",
      {"rules.militia_score": lambda share, grievance: grievance + 0.0 * share}),
    M("intervention_raises_grievance", "an intervention adds to targeted leaders' grievance (sign flipped)",
      {"rules.intervene": _intervene(g_sign=1.0)}),
    M("intervention_no_pressure", "an intervention does not reset the visit's pressure",
      {"rules.intervene": _intervene(reset_pressure=False)}),
    # --- leaders and cells
    M("leverage_provokes", "leverage raises the chance a leader contests (sign flipped)",
      {"rules.contest_probability": _contest(leverage_sign=-1.0)}),
    M("no_standing_leverage", "leverage restrains leaders only while a visit's pressure lasts",
      {"rules.contest_probability": _contest(standing=0.0)}),
    M("stance_without_memory", "a leader's stance is redrawn each day, with no hysteresis",
      {"rules.contest_probability": _contest(hysteresis=0.0)}),
    M("hysteresis_sign_flipped", "a contesting leader backs down sooner, not later (hysteresis subtracted)",
      {"rules.contest_probability": _contest(hysteresis=-1.0)}),
    M("contest_boost_sign", "a contesting leader restrains its cells by contest_boost instead of urging them",
      {"rules.restraint": lambda contests, d, boost: np.where(contests, boost, d)}),
    M("no_safety_in_numbers", "a cell's expected cost ignores how many acted yesterday",
      {"rules.expected_cost": lambda k, cap, share, n: _r["expected_cost"](k, cap, 0.0 * share, n)}),
    M("militias_alike", "every militia gets the camp's mean loyalty, offset, discipline, hostility, grievance",
      militias=_alike),
    M("hostility_kss_badr_swapped", "Badr's and KSS's hostility to US forces exchanged in the militia table",
      militias=_swap("kss", "badr", "hostility_us")),
    M("discipline_pmf_badr_swapped", "Badr's and the PMF's discipline exchanged in the militia table",
      militias=_swap("pmf", "badr", "discipline")),
    # --- outcomes and Sadr's bloc
    M("attacks_calm_sadr", "an attack on the state lowers Sadr's grievance and the rivalry (sign flipped)",
      {"rules.after_attacks": lambda x, n, per: rules.clip01(x - per * n)}),
    M("attack_a_day_late", "the attack on the PM takes effect the day after its date",
      {"Scenario.events_on": _a_day_late("attack")}),
    M("election_a_day_late", "the election takes effect the day after its date",
      {"Scenario.events_on": _a_day_late("election")}),
    M("election_gain_angers", "a bloc that gains seats is angered as if it had lost them",
      {"rules.election_grievance": _election_grievance(gain_angers=True)}),
    M("no_loss_aversion", "a gain calms as much as a loss angers (gain_relief not applied)",
      {"rules.election_grievance": _election_grievance(gain_relief=False)}),
    M("stake_never_set", "a won election gives Sadr no stake against walking out",
      {"vector.apply_events": _stake_never_set}),
    M("stake_sign_flipped", "the stake is added to grievance in the walk-out decision instead of subtracted",
      {"rules.participation_after": _participation(stake_sign=1.0)}),
    M("return_ignores_commitment", "a boycotting Sadr weighs his grievance without the boycott's commitment",
      {"rules.participation_after": _participation(commitment=False)}),
    M("walkout_inverted", "Sadr walks out when his grievance is below the threshold (sign flipped)",
      {"rules.boycott_probability": lambda g, threshold, tau: rules.sigmoid((threshold - g) / tau)}),
    M("mediation_product", "mediators persuade jointly (product of credibilities) instead of by noisy-or",
      {"rules.mediator_credibility": lambda ws, cs: float(np.prod([rules.clip01(w) * rules.clip01(c)
                                                                    for w, c in zip(ws, cs, strict=True)]))}),
    M("mediation_angers", "mediation adds to Sadr's grievance (sign flipped)",
      {"rules.mediated": lambda g, cred, effect: rules.clip01(g + effect * rules.clip01(cred))}),
    # --- attacks on US forces
    M("no_standing_front", "attacks on US forces need mobilised cells: the standing front is ignored",
      {"rules.us_exposure": lambda share, h, front, truce, c: h * share * (1.0 - c * truce)}),
    M("truce_ignored", "the truce holds no attack back",
      {"rules.us_exposure": lambda share, h, front, truce, c: h * (front + (1.0 - front) * share) + 0.0 * truce * c}),
    M("truce_never_lapses", "the truce's end on 31 December is not applied: it holds to the end of the run",
      {"vector.apply_events": _truce_never_lapses}),
    # --- Sadr's armed wing, the clash and escalation
    M("threat_rivalry_not_centred", "the threat reads the rivalry itself, not its rise above the baseline",
      {"rules.sadr_threat": _threat(absolute_rivalry=True)}),
    M("threat_is_grievance", "the armed wing reads only Sadr's grievance (the reaction terms dropped)",
      {"rules.sadr_threat": _threat(reactions=False)}),
    M("mobilisation_sign_flipped", "the armed wing mobilises as threat falls (threshold - threat)",
      {"rules.mobilisation_target": lambda threat, threshold, tau: rules.sigmoid((threshold - threat) / tau)}),
    M("stood_down_inverted", "an order sends home the undisciplined share (x discipline, not x (1 - discipline))",
      {"rules.stood_down": lambda mobilisation, discipline: mobilisation * discipline}),
    M("sadr_never_halts", "Sadr never orders his wing home after a clash",
      {"rules.sadr_restrains": lambda u, clash, restraint: clash & False}),
    M("sadr_halts_any_day", "Sadr's halt is drawn every day, not only after a clash day",
      {"rules.sadr_restrains": lambda u, clash, restraint: (u < restraint) | (clash & False)}),
    M("hazard_ignores_violence", "the clash hazard depends on Sadr's mobilisation only",
      {"rules.clash_hazard": lambda kappa, violence, mobilisation: rules.daily_hazard(kappa, mobilisation)}),
    M("no_clash_feedback", "a clash raises neither grievance nor rivalry",
      {"rules.after_clash": lambda x, clash, rise: x}),
    M("no_decay", "nothing returns to its baseline (relax returns its input)",
      {"rules.relax": lambda x, base, half_life: x + 0.0 * base}),
)
del M


def E(name: str, description: str, where: str, old: str, new: str) -> Mutant:
    """A one-line edit of the source at ``where``."""
    return Mutant(name, description, edits=((where, old, new),))


NEW_MUTANTS: tuple[Mutant, ...] = (
    # --- rules: a sign, a swapped weight, an off-by-one, a term on the wrong target
    E("contest_threshold_added", "the stance threshold is added to the leader's pull, not subtracted",
      "rules.contest_probability", "- threshold + hysteresis * contested", "+ threshold + hysteresis * contested"),
    E("hysteresis_holds_restraint", "hysteresis keeps a restraining leader restraining, not a refusing one refusing",
      "rules.contest_probability", "hysteresis * contested", "hysteresis * (1 - contested)"),
    E("mobilisation_moves_by_target", "the wing moves by rate x target, not towards the target",
      "rules.mobilisation_after", "mobilisation + rate * (target - mobilisation)", "mobilisation + rate * target"),
    E("safety_in_numbers_inverted", "Epstein's cost rises with the crowd: C x A instead of C / A",
      "rules.expected_cost", "-k * capacity / (1.0 / n_cells + active_share_prev)",
      "-k * capacity * (1.0 / n_cells + active_share_prev)"),
    E("restraint_lowers_the_bar", "a leader's restraint is subtracted from the cells' threshold",
      "rules.activation_probability", "bias = restraint_ + threshold", "bias = threshold - restraint_"),
    E("attention_uncapped", "the patron's attention refills past 1",
      "rules.attention_after", "np.minimum(spent + recovery * (1.0 - distraction), 1.0)",
      "spent + recovery * (1.0 - distraction)"),
    E("cooldown_one_day_short", "a visit starts a cooldown one day shorter than declared",
      "rules.cooldown_after", "where(intervened, cooldown_days,", "where(intervened, cooldown_days - 1,"),
    E("cooldown_never_ends", "the patron's cooldown test is < 0 instead of <= 0 (tension never triggers a visit)",
      "rules.patron_decides", "(cooldown <= 0)", "(cooldown < 0)"),
    E("intervention_lowers_discipline", "a visit takes discipline away (sign flipped)",
      "rules.intervene", "clip01(discipline + lam * discipline_effect)",
      "clip01(discipline - lam * discipline_effect)"),
    E("visit_pressure_is_leverage", "a visit sets the pressure to the leverage instead of 1",
      "rules.intervene", "p = where(targeted, 1.0, pressure)", "p = where(targeted, lam, pressure)"),
    E("front_not_scaled", "the standing front is added to the whole mass of cells, not the rest of it",
      "rules.us_exposure", "front + (1.0 - front) * share", "front + share"),
    E("truce_holds_the_rest", "the truce holds back 1 - compliance of the attacks instead of compliance",
      "rules.us_exposure", "(1.0 - compliance * truce)", "(1.0 - (1.0 - compliance) * truce)"),
    E("strike_grievance_is_hostility_step", "a US strike adds the hostility step to grievance",
      "rules.after_retaliation", "clip01(grievance + grievance_effect)", "clip01(grievance + hostility_effect)"),
    E("return_uses_walkout_threshold", "Sadr's return is weighed against the walk-out threshold",
      "rules.participation_after", "grievance + commitment, return_threshold, tau",
      "grievance + commitment, boycott_threshold, tau"),
    E("commitment_never_cleared", "a return leaves the boycott's commitment in place",
      "rules.commitment_after", "where(returned, 0.0, commitment)", "where(returned, commitment, commitment)"),
    E("threat_weights_swapped", "the refusal and violence weights exchanged in Sadr's threat",
      "rules.sadr_threat", "w_refusal * refusing + w_violence * violence",
      "w_violence * refusing + w_refusal * violence"),
    E("order_ends_a_day_early", "Sadr's order holds his wing only while more than one day is left",
      "rules.mobilisation_after", "where(order_days > 0, 0.0, target)", "where(order_days > 1, 0.0, target)"),
    E("halt_when_draw_above", "Sadr halts his wing when the draw is above the restraint (< for >)",
      "rules.sadr_restrains", "clash & (u < restraint)", "clash & (u > restraint)"),
    E("tension_weights_swapped", "the patron's tension weighs violence by the mobilisation weight and vice versa",
      "rules.tension", "w_violence * violence + w_mobilisation * mobilisation",
      "w_mobilisation * violence + w_violence * mobilisation"),
    E("seat_change_over_seats_after", "the share of seats lost is taken over the seats after the vote",
      "rules.election_grievance", "/ max(seats_before, 1)", "/ max(seats_after, 1)"),
    E("relax_moves_the_wrong_part", "one day's relaxation keeps the share of the distance already covered",
      "rules.relax_by", "base + (x - base) * factor", "x + (base - x) * factor"),
    E("offset_subtracted", "a militia's independence offset is subtracted from the camp's mean",
      "rules.independence", "mean_independence + offset", "mean_independence - offset"),
    E("orders_bind_a_day_less", "a leader under an order may refuse on its last day (<= 1 for <= 0)",
      "rules.leader_contests", "(order_days <= 0)", "(order_days <= 1)"),
    E("escalation_window_inclusive", "a clash-day exactly escalation_window days ago still counts (<= for <)",
      "rules.clashes_within", "np.asarray(ago) < window", "np.asarray(ago) <= window"),
    E("drift_away_from_one", "independence drifts by rate x independence, not by rate x (1 - independence)",
      "rules.drift_independence", "rate * (1.0 - independence_)", "rate * independence_"),
    E("attacks_counted_as_days", "Sadr's grievance rises once per day with attacks, not once per attack",
      "rules.after_attacks", "per_attack * n_attacks", "per_attack * (n_attacks > 0)"),
    E("hazard_sum", "the clash hazard reads violence plus mobilisation instead of their product",
      "rules.clash_hazard", "violence * mobilisation", "violence + mobilisation"),
    # --- the engine's day (sim/engines/vector.py): order, targets, windows, dates
    E("escalation_window_one_longer", "escalation counts clash-days within escalation_window + 1 days",
      "vector.step", "rules.clashes_within(ago, pt.escalation_window, pt.escalation_clashes)",
      "rules.clashes_within(ago, pt.escalation_window + 1, pt.escalation_clashes)"),
    E("escalation_needs_one_more", "escalation needs escalation_clashes + 1 clash-days (> for >=)",
      "vector.step", "rules.clashes_within(ago, pt.escalation_window, pt.escalation_clashes)",
      "rules.clashes_within(ago, pt.escalation_window, pt.escalation_clashes + 1)"),
    E("sustained_reads_escalation_window", "sustained fighting is counted over the escalation window",
      "vector.step", "rules.clashes_within(ago, pt.sustained_window, pt.sustained_clashes)",
      "rules.clashes_within(ago, pt.escalation_window, pt.sustained_clashes)"),
    E("escalation_dated_a_day_late", "the escalation day is recorded as the day after",
      "vector.step", "s.escalation_day = np.where(newly, t, s.escalation_day)",
      "s.escalation_day = np.where(newly, t + 1, s.escalation_day)"),
    E("first_clash_dated_a_day_early", "the first clash is recorded on the day before",
      "vector.step", "(s.first_clash_day == NO_DAY), t, s.first_clash_day)",
      "(s.first_clash_day == NO_DAY), t - 1, s.first_clash_day)"),
    E("sadr_clash_rise_is_rivalrys", "a clash raises Sadr's grievance by the rivalry's step",
      "vector.step", "gs = rules.after_clash(gs, clash, pt.clash_grievance)",
      "gs = rules.after_clash(gs, clash, pt.clash_rivalry)"),
    E("rivalry_clash_rise_is_grievances", "a clash raises the rivalry by the grievance's step",
      "vector.step", "rivalry = rules.after_clash(rivalry, clash, pt.clash_rivalry)",
      "rivalry = rules.after_clash(rivalry, clash, pt.clash_grievance)"),
    E("sadr_grievance_to_rivalry_base", "Sadr's grievance relaxes towards the rivalry's baseline",
      "vector.step", "rules.relax(gs, pt.sadr_grievance_base, pt.grievance_half_life)",
      "rules.relax(gs, pt.rivalry_base, pt.grievance_half_life)"),
    E("hostility_at_rivalry_half_life", "hostility to US forces relaxes at the rivalry's half-life",
      "vector.step", "rules.relax(h, pt.hostility_us, pt.grievance_half_life)",
      "rules.relax(h, pt.hostility_us, pt.rivalry_half_life)"),
    E("grievance_at_discipline_half_life", "the militias' grievance relaxes at the discipline's half-life",
      "vector.step", "rules.relax(g, pt.grievance, pt.grievance_half_life)",
      "rules.relax(g, pt.grievance, pt.discipline_half_life)"),
    E("militia_orders_never_expire", "a militia's stand-down order is never counted down",
      "vector.step", "s.order_days = np.maximum(s.order_days - 1, 0)", "s.order_days = np.maximum(s.order_days, 0)"),
    E("halt_keeps_restraint_share", "Sadr's halt keeps the share sadr_restraint instead of 1 - sadr_discipline",
      "vector.step", "rules.stood_down(m, pt.sadr_discipline)", "rules.stood_down(m, pt.sadr_restraint)"),
    E("threat_reads_yesterdays_grievance", "the wing reads Sadr's grievance from before today's events and attacks",
      "vector.step", "gs, rules.refusing_share(contests), v, rivalry, pt.rivalry_base,",
      "s.sadr_grievance, rules.refusing_share(contests), v, rivalry, pt.rivalry_base,"),
    E("violence_is_yesterdays", "the camp's violence is read off yesterday's active cells",
      "vector.step", "v = rules.camp_violence(active)", "v = rules.camp_violence(s.active)"),
    E("hazard_reads_yesterdays_mobilisation", "the clash hazard uses yesterday's mobilisation",
      "vector.step", "rules.clash_hazard(pt.clash_kappa, v, m)",
      "rules.clash_hazard(pt.clash_kappa, v, s.mobilisation)"),
    E("tension_reads_unrelaxed_rivalry", "the patron's tension reads the rivalry before the day's relaxation",
      "vector.step", "rules.tension(v, m, s.rivalry, *_weights(pt))", "rules.tension(v, m, rivalry, *_weights(pt))"),
    E("weights_misordered", "the tension's weights are passed as violence, rivalry, mobilisation",
      "vector._weights", "pt.tension_weight_violence, pt.tension_weight_mobilisation, pt.tension_weight_rivalry",
      "pt.tension_weight_violence, pt.tension_weight_rivalry, pt.tension_weight_mobilisation"),
    E("state_attacks_at_us_rate", "attacks on the state are drawn at the rate for attacks on US assets",
      "vector.step", "rules.daily_hazard(pt.attack_rate_state, share)", "rules.daily_hazard(pt.attack_rate_us, share)"),
    E("retaliation_answers_state_attacks", "US strikes answer attacks on the state, not on US assets",
      "vector.step", "retaliated = att_us & (draw(", "retaliated = att_state & (draw("),
    E("sadr_counts_us_attacks", "Sadr's bloc is angered by the day's attacks on US assets, not on the state",
      "vector.step", "n_att = np.count_nonzero(att_state, axis=1, keepdims=True)",
      "n_att = np.count_nonzero(att_us, axis=1, keepdims=True)"),
    E("one_leader_too_many", "a visit reaches patron_targets + 1 leaders",
      "vector.step", "pt.patron_targets, axis=1)", "pt.patron_targets + 1, axis=1)"),
    E("boycott_ended_on_walkout", "the boycott's end is recorded when Sadr walks out",
      "vector.step", "(~s.participating & part)", "(s.participating & ~part)"),
    E("interventions_count_leaders", "each leader reached counts as an intervention",
      "vector.step", "s.interventions = s.interventions + intervened",
      "s.interventions = s.interventions + targeted.sum(axis=1, keepdims=True)"),
    E("cells_ignore_the_visit", "cells read their leader's grievance from before the day's visit",
      "vector.step", "rules.cell_grievance(g, s.offset)", "rules.cell_grievance(s.grievance, s.offset)"),
    E("leaders_ignore_the_visit", "leaders choose their stance on their grievance from before the day's visit",
      "vector.step", "g, lam, p, pt.standing_leverage", "s.grievance, lam, p, pt.standing_leverage"),
    E("restraint_relayed_at_baseline", "restraint reaches cells at the militia's baseline discipline, not today's",
      "vector.step", "rules.restraint(contests, d, pt.contest_boost), d)",
      "rules.restraint(contests, d, pt.contest_boost), pt.discipline)"),
    E("intervention_effects_swapped", "the visit's grievance and discipline effects passed in the wrong order",
      "vector.step", "pt.intervention_grievance_effect, pt.intervention_discipline_effect,",
      "pt.intervention_discipline_effect, pt.intervention_grievance_effect,"),
    # --- tried for the first suite and left out then (no pattern saw them); the correctness checks do
    E("cooldown_never_set", "a visit does not start the cooldown",
      "vector.step", "rules.cooldown_after(s.cooldown, intervened, pt.patron_cooldown)",
      "rules.cooldown_after(s.cooldown, False, pt.patron_cooldown)"),
    E("attention_not_spent", "a visit uses up no attention",
      "rules.attention_after", "np.maximum(attention - cost * intervened, 0.0)", "np.maximum(attention, 0.0)"),
    E("distraction_inverted", "attention refills at recovery x distraction",
      "rules.attention_after", "recovery * (1.0 - distraction)", "recovery * distraction"),
    E("restraint_instant", "a leader's stance reaches all its cells at once (no relay)",
      "vector.step", "rules.relayed_restraint(s.restraint, rules.restraint(contests, d, pt.contest_boost), d)",
      "rules.restraint(contests, d, pt.contest_boost)"),
    E("retaliation_off", "a US strike changes neither grievance nor hostility",
      "vector.step", "rules.after_retaliation(g, h, retaliated,", "rules.after_retaliation(g, h, retaliated & False,"),
    # --- events (sim/model/events.py)
    E("stake_on_a_loss", "Sadr gets the stake when his bloc loses seats, not when it gains",
      "events.apply_events", "(float(after) > float(before))", "(float(after) < float(before))"),
    E("attack_rivalry_from_sadr_value", "the attack on the PM raises the rivalry by Sadr's grievance step",
      "events.apply_events", "rules.after_attacks(state.rivalry, 1, pt.attack_rivalry)",
      "rules.after_attacks(state.rivalry, 1, pt.attack_sadr_grievance)"),
    E("sistani_has_the_patrons_credibility", "Sistani's credibility with Sadr is read from the patron's",
      "events.mediation_credibility", '"sistani": pt.sistani_credibility}', '"sistani": pt.patron_credibility_sadr}'),
    E("deadline_for_every_militia", "KSS's deadline raises every militia's hostility and grievance",
      "events.apply_events", 'mask = _militia_mask(f("actor"), militias)\n', "mask = _militia_mask(None, militias)\n"),
    E("truce_begins_at_its_end", "the truce is in force from its 'ends' event, off from its 'begins'",
      "events.apply_events", 'f("phase") == "begins"', 'f("phase") == "ends"'),
    E("sadr_order_binds_the_militias", "Sadr's order sets the militias' order days instead of his wing's",
      "events.apply_events", "state.sadr_order_days[...] = days", "state.order_days[...] = days"),
    E("shock_sign_dropped", "a shock adds the size of its delta, whatever its sign",
      "events.apply_events", '_add(getattr(state, name), float(f("delta")), mask)',
      '_add(getattr(state, name), abs(float(f("delta"))), mask)'),
    E("boycott_commits_nothing", "the boycott event sets no commitment",
      "events.apply_events", "np.where(state.participating, pt.boycott_commitment, state.commitment)",
      "np.where(state.participating, 0.0, state.commitment)"),
    # --- the daily record, the run record and the escalation definition (sim/model/outcomes.py)
    E("record_rivalry_is_sadrs_grievance", "the daily record's rivalry column holds Sadr's grievance",
      "outcomes.daily_record", '"rivalry": s.rivalry,', '"rivalry": s.sadr_grievance,'),
    E("record_house_cohesion_from_tension", "the house's cohesion is recorded as 1 - tension",
      "outcomes.daily_record", '"cohesion_house": 1.0 - s.rivalry,', '"cohesion_house": 1.0 - s.tension,'),
    E("record_state_attacks_are_us", "the daily record's attacks on the state hold the attacks on US assets",
      "outcomes.daily_record", '"attacks_state_today": attacks_today,', '"attacks_state_today": s.attacks_us_today,'),
    E("record_militia_columns_shifted", "each militia's daily columns hold the previous militia's values",
      "outcomes.daily_record", "arr[:, j, 0]", "arr[:, j - 1, 0]"),
    E("run_us_attacks_by_militia_from_state", "the run's attacks on US by militia hold its attacks on the state",
      "outcomes.run_record", 'out[f"attacks_us_{m.key}"] = s.attacks_us[:, j, 0]',
      'out[f"attacks_us_{m.key}"] = s.attacks_state[:, j, 0]'),
    E("run_in_politics_is_boycott_ended", "'in politics at the end' holds whether the boycott ended",
      "outcomes.run_record", '"participating_final": s.participating.reshape(R),',
      '"participating_final": s.boycott_ended.reshape(R),'),
    E("run_sustained_day_is_escalation_day", "the sustained-fighting day holds the escalation day",
      "outcomes.run_record", '"sustained_day": s.sustained_day.reshape(R),',
      '"sustained_day": s.escalation_day.reshape(R),'),
    E("escalated_by_window_one_short", "the definition read off a clash series looks back one day less",
      "outcomes.escalated_by", "lagged[window:] = counts[:-window]", "lagged[window - 1 :] = counts[: -window + 1]"),
    E("peak_tension_is_the_last", "the run's peak tension is the last day's",
      "outcomes.accumulate", 'np.maximum(sums["peak_tension"], rec["tension"])', 'rec["tension"]'),
    # --- the calendar (sim/model/scenario.py)
    E("scenario_days_exclude_the_end", "a scenario's days leave out its last date",
      "Scenario.days", "(self.end - self.start).days + 1", "(self.end - self.start).days"),
    E("events_a_day_early", "every event takes effect the day before its date",
      "Scenario.events_on", "e.day == day", "e.day == day + 1"),
)


def at(mechanism: str, alternative: str) -> Callable[..., Mutant]:
    """A maker of one-line edits in the rival alternative structure.<mechanism>=<alternative> (run there)."""

    def make(name: str, description: str, where: str, old: str, new: str) -> Mutant:
        return Mutant(name, description, edits=((where, old, new),), structure=((mechanism, alternative),))

    make.__doc__ = f"A one-line edit in structure.{mechanism}={alternative} (run at that structure)."
    return make


C, Rr, Gc = at("leverage", "coercion"), at("reaction", "richardson"), at("mobilisation", "cascade")
Ec, Lg, Bs = at("clash", "epstein_ii"), at("grievance", "legitimacy"), at("relapse", "beardsley")


ALTERNATIVE_MUTANTS: tuple[Mutant, ...] = (
    # --- structure.leverage=coercion (7.2.1)
    C("coercion_weaker_lever", "leverage is the weaker of persuasion and coercion, not the stronger",
      "rules.leverage_persuasion_coercion", "where(threat > persuasion, threat, persuasion)",
      "where(threat > persuasion, persuasion, threat)"),
    C("coercion_grows_with_independence", "the coercive lever is strength x independence, not x (1 - independence)",
      "rules.leverage_persuasion_coercion", "threat = coercion * (1.0 - independence_)",
      "threat = coercion * independence_"),
    C("coerced_when_persuasion_wins", "a leader counts as coerced when persuasion is the stronger lever (> for <)",
      "rules.coerces", "coercion * (1.0 - independence_) > influence * loyalty",
      "coercion * (1.0 - independence_) < influence * loyalty"),
    C("backlash_ignores_the_lever", "a berated leader's resentment is backlash x strength, whatever his independence",
      "rules.berated", "backlash * coercion * (1.0 - independence_)", "backlash * coercion"),
    C("berated_unvisited", "every coerced leader is berated, visited or not (| for &)",
      "rules.berated", "targeted & coerced", "targeted | coerced"),
    C("coercion_strength_is_backlash", "the engine passes the backlash where the coercive lever's strength goes",
      "vector.step", "s.independence,\n                                                 pt.coercion_strength)",
      "s.independence,\n                                                 pt.coercion_backlash)"),
    C("coerced_by_the_backlash", "whether a leader is coerced is judged with the backlash as the lever's strength",
      "vector.step", "s.independence, pt.coercion_strength)\n", "s.independence, pt.coercion_backlash)\n"),
    C("berated_before_the_visit", "the backlash is added to the grievance from before the visit's calming",
      "vector.step", "g = rules.berated(g, targeted,", "g = rules.berated(s.grievance, targeted,"),
    # --- structure.reaction=richardson (7.12.1)
    Rr("richardson_threat_sign", "Sadr's threat falls as the militias' grievance rises (- for +)",
       "rules.richardson_threat", "threat + reaction * excess", "threat - reaction * excess"),
    Rr("richardson_excess_summed", "the militias' excess is their summed grievance above baseline, not the mean",
       "rules.militia_excess", "return total / n", "return total"),
    Rr("richardson_reaction_swapped", "the militias react to Sadr's wing with Sadr's reaction coefficient",
       "vector.step", "g = rules.militia_reaction(g, m, pt.richardson_militia_reaction)",
       "g = rules.militia_reaction(g, m, pt.richardson_sadr_reaction)"),
    Rr("richardson_yesterdays_wing", "the militias react to Sadr's wing as it stood yesterday, not today",
       "vector.step", "g = rules.militia_reaction(g, m, pt.richardson_militia_reaction)",
       "g = rules.militia_reaction(g, s.mobilisation, pt.richardson_militia_reaction)"),
    Rr("richardson_excess_over_discipline", "Sadr reads the militias' grievance above their discipline, not their "
       "baseline grievance", "vector.step", "rules.militia_excess(g, pt.grievance)",
       "rules.militia_excess(g, pt.discipline)"),
    # --- structure.mobilisation=cascade (7.12.2)
    Gc("cascade_peers_deter", "the share already out deters members instead of drawing them (- for +)",
       "rules.cascade_target", "threat + peer_weight * share_out - threshold",
       "threat - peer_weight * share_out - threshold"),
    Gc("cascade_without_scale", "the members' thresholds are not spread by tau (the division dropped)",
       "rules.cascade_target", "sigmoid((threat + peer_weight * share_out - threshold) / tau)",
       "sigmoid(threat + peer_weight * share_out - threshold)"),
    Gc("cascade_weight_is_rate", "the engine passes the wing's daily rate where the peer weight goes",
       "vector.step", "s.mobilisation, pt.cascade_peer_weight,", "s.mobilisation, pt.mobilisation_rate,"),
    Gc("cascade_threshold_is_tau", "the engine passes the thresholds' scale where their centre goes",
       "vector.step", "pt.cascade_peer_weight, pt.mobilisation_threshold,",
       "pt.cascade_peer_weight, pt.mobilisation_tau,"),
    # --- structure.clash=epstein_ii (7.13.1)
    Ec("interposition_helps", "the state's forces let through the encounters they interdict (P for 1 - P)",
       "rules.clash_hazard_interposed", "violence * mobilisation * (1.0 - interdicted)",
       "violence * mobilisation * interdicted"),
    Ec("interposition_sees_one_camp", "the state's arrest probability counts only the militias' actives",
       "rules.clash_hazard_interposed", "capacity, violence + mobilisation, n_cells", "capacity, violence, n_cells"),
    Ec("encounters_at_kappa", "the engine passes the aggregate clash_kappa as the encounter rate",
       "vector.step", "rules.clash_hazard_interposed(pt.encounter_rate,",
       "rules.clash_hazard_interposed(pt.clash_kappa,"),
    Ec("encounters_with_yesterdays_wing", "the camps meet with Sadr's wing as it stood yesterday",
       "vector.step", "pt.encounter_rate, v, m, pt.arrest_k", "pt.encounter_rate, v, s.mobilisation, pt.arrest_k"),
    # --- structure.grievance=legitimacy (7.15.1)
    Lg("grievance_from_legitimacy", "grievance grows with legitimacy (L / L0 for (1 - L) / (1 - L0))",
       "rules.epstein_grievance", "(1.0 - legitimacy) / (1.0 - legitimacy_base)", "legitimacy / legitimacy_base"),
    Lg("visit_lowers_legitimacy", "a visit lowers the legitimacy it should raise (- for +)",
       "rules.legitimised", "clip01(legitimacy + lam * effect)", "clip01(legitimacy - lam * effect)"),
    Lg("visit_legitimacy_is_grievance_effect",
       "the engine passes the grievance effect where the legitimacy effect goes",
       "vector.step", "targeted, pt.intervention_legitimacy)", "targeted, pt.intervention_grievance_effect)"),
    Lg("legitimacy_drifts_to_grievance", "legitimacy drifts back to the militias' baseline grievance, not its own",
       "vector.step", "s.legitimacy = rules.relax(L, pt.legitimacy_base,",
       "s.legitimacy = rules.relax(L, pt.grievance,"),
    Lg("hardship_never_drifts", "hardship keeps the day's value: the drift's result is thrown away",
       "vector.step", "s.hardship = rules.relax(H, pt.grievance, pt.grievance_half_life)", "s.hardship = H"),
    # --- structure.relapse=beardsley (7.4.1)
    Bs("calm_bought_whole", "the whole calm a visit bought rests on its pressure (relapse_share ignored)",
       "rules.calm_bought", "store + share * change", "store + change"),
    Bs("calm_release_inverted", "what lapses each day is the part of the store that stays",
       "rules.calm_released", "store - relax_by(store, 0.0, decay_factor)", "relax_by(store, 0.0, decay_factor)"),
    Bs("calm_lapses_at_grievance_pace", "the calm lapses at the grievance's half-life, not the pressure's",
       "vector.step", "rules.calm_released(calm, rules.decay(pt.pressure_half_life))",
       "rules.calm_released(calm, rules.decay(pt.grievance_half_life))"),
    Bs("calm_store_kept", "the lapsed calm is returned but never taken out of the store",
       "vector.step", "s.calm = rules.relax(calm - released,", "s.calm = rules.relax(calm,"),
    Bs("calm_bought_is_the_grievance", "the store gains the grievance left after the visit, not the grievance removed",
       "vector.step", "rules.calm_bought(s.calm, s.grievance - g,", "rules.calm_bought(s.calm, g,"),
)
del E, C, Rr, Gc, Ec, Lg, Bs

MUTANTS: tuple[Mutant, ...] = (*OLD_MUTANTS, *NEW_MUTANTS, *ALTERNATIVE_MUTANTS)
