"""The model's patterns (docs/ODD.md section 1): emergent quantities with bounds from the evidence.
tests/test_patterns.py runs them (and the wiring checks) on the model; tests/test_mutations.py on broken variants."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sim.engines.vector import BatchResult, run_batch
from sim.model import outcomes, rules
from sim.model.params import MILITIAS, Militia, make_params
from sim.model.scenario import Event, Scenario, load_scenario

SEED = 7
N = 1500  # replicates per run: binomial SE <= 0.013, far inside every bound's margin on the model
MILITIA_KEYS = tuple(m.key for m in MILITIAS)
DAILY = (
    "violence", "mobilisation", "sadr_grievance", "intervened", "hazard", "clash", "attacks_us_today",
    *(f"contests_{j}" for j in range(len(MILITIAS))),
)  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """One pattern's verdict, with the numbers it rests on."""

    passed: bool
    detail: str


@dataclass
class Runner:
    """Runs scenarios for the patterns, on the model or on a variant's militia table (rules are patched
    by the variant itself, in sim.model.rules, which both engines call). Runs are cached by content, so
    the patterns share them: one Runner per model or variant."""

    militias: tuple[Militia, ...] = MILITIAS
    _cache: dict = dataclasses.field(default_factory=dict)

    def run(self, scenario: Scenario | str, **params) -> BatchResult:
        """``N`` replicates of ``scenario`` at the defaults plus ``params`` (common random numbers:
        every run uses SEED and replicates 0..N-1, so counterfactual differences are paired)."""
        sc = load_scenario(scenario) if isinstance(scenario, str) else scenario
        key = (repr(sc), tuple(sorted(params.items())))
        if key not in self._cache:
            self._cache[key] = self._run(sc, params)
        return self._cache[key]

    def _run(self, sc: Scenario, params: dict) -> BatchResult:
        # The run record does not say whom a visit reached; read it where the engine decides it, on the
        # rule that applies the visit (wrapping whatever a variant put there).
        applied, seen = rules.intervene, []

        def recording(grievance, discipline, pressure, lam, targeted, *effects):
            seen.append(np.asarray(targeted)[:, :, 0].copy())
            return applied(grievance, discipline, pressure, lam, targeted, *effects)

        rules.intervene = recording
        try:
            res = run_batch(sc, [make_params(params)], [self.militias], SEED, np.arange(N), daily_columns=DAILY)
        finally:
            rules.intervene = applied
        targeted = np.stack(seen)  # (days, R, M)
        for j in range(targeted.shape[2]):
            res.daily[f"targeted_{j}"] = targeted[:, :, j]
        return res


def with_event(scenario: Scenario, **fields) -> Scenario:
    """``scenario`` plus one event (``day`` given; date derived)."""
    ev = Event(date=scenario.date_of(fields["day"]), **fields)
    return dataclasses.replace(scenario, events=tuple(sorted((*scenario.events, ev), key=lambda e: e.day)))


def with_seats(scenario: Scenario, bloc: str, seats: tuple[int, int]) -> Scenario:
    """``scenario`` with one bloc's seats in its election changed (the other blocs' as they were)."""
    events = tuple(
        dataclasses.replace(e, data={**e.data, "seats": {**e.data["seats"], bloc: list(seats)}})
        if e.kind == "election" else e for e in scenario.events
    )  # fmt: skip
    return dataclasses.replace(scenario, events=events)


def day_of(scenario: Scenario, kind: str, **data) -> int:
    return next(e.day for e in scenario.events if e.kind == kind and all(e.data.get(k) == v for k, v in data.items()))


def within(value: float, low: float, high: float) -> bool:
    return bool(low <= value <= high)


def _b(value: float, low: float, high: float) -> str:
    """A value with its bounds, and whether it is inside them, for a pattern's detail."""
    mark = "ok" if within(value, low, high) else "OUT"
    return f"{value:.3f} in [{low:g}, {high:g}] {mark}"


def mean_of(values: np.ndarray) -> float:
    """The mean, or nan for no values (a variant may leave a condition empty; nan fails every bound)."""
    return float(np.mean(values)) if np.size(values) else float("nan")


def clashed(res: BatchResult) -> np.ndarray:
    return res.runs["first_clash_day"] >= 0


def contests(res: BatchResult) -> np.ndarray:
    """(days, R, M): which leaders refuse the results each day."""
    return np.stack([res.daily[f"contests_{j}"] for j in range(len(MILITIA_KEYS))], axis=-1)


# ----------------------------------------------------------------------------- the record


def record_without_civil_war(r: Runner) -> Outcome:
    """The record (¶5, ¶7, ¶22, ¶28): over seed_timeline tensions simmered without a Shi'ite civil war,
    yet Iran feared one enough to fly its commander in (¶7: "Do you want a Shi'ite civil war?").

    Bounds: P(escalation) in [0.02, 0.25]: the history must be a typical run (at least three runs in
    four without escalation), and the fear must be real (not a risk below 1 in 50); P(sustained fighting)
    at most 0.02 (nothing like a civil war's onset is reported, and the article's sources would have);
    P(any clash) at most 0.6 (the article reports no clash at all, so a clash-free run may not be the
    exception: at least 2 runs in 5)."""
    runs = r.run("seed_timeline").runs
    esc, sus, anyc = runs["escalated"].mean(), runs["sustained"].mean(), clashed(r.run("seed_timeline")).mean()
    ok = within(esc, 0.02, 0.25) and within(sus, 0.0, 0.02) and within(anyc, 0.0, 0.6)
    return Outcome(ok, f"P(escalation) {_b(esc, 0.02, 0.25)}; P(sustained) {_b(sus, 0, 0.02)}; "
                       f"P(any clash) {_b(anyc, 0, 0.6)}")  # fmt: skip


def clashes_rarely_spiral(r: Runner) -> Outcome:
    """A clash is feared as the first step of a spiral (¶7, ¶12; Richardson) but a single leader can halt
    his side (¶38: Sadr came back "to avoid an escalation"; Staniland 2014): at the defaults, of the runs
    of seed_timeline with a clash, the share that escalate lies in [0.1, 0.6], and without the patron the
    share is higher (spirals unchecked) but not every clash escalates: in [0.35, 0.95]. Of the runs that
    escalate, at most 0.1 go on to sustained fighting, with the patron or without it.

    Bounds: below 0.1 a clash would be an isolated incident the patron had no cause to fear; above 0.6
    escalation would mean any clash (the issue's referee); without the patron, Sadr's own restraint
    (¶38) still stops some spirals, so not all. A leader who halts his wing (¶38) ends most escalations
    within weeks: a month of fighting is the exception even once fighting has begun."""
    base, nop = r.run("seed_timeline"), r.run("seed_timeline", patron_present=False)
    p = mean_of(base.runs["escalated"][clashed(base)])
    q = mean_of(nop.runs["escalated"][clashed(nop)])
    s_base = mean_of(base.runs["sustained"][base.runs["escalated"]])
    s_nop = mean_of(nop.runs["sustained"][nop.runs["escalated"]])
    ok = within(p, 0.1, 0.6) and within(q, 0.35, 0.95) and within(s_base, 0, 0.1) and within(s_nop, 0, 0.1)
    return Outcome(ok, f"P(escalation | clash) {_b(p, 0.1, 0.6)}; without the patron {_b(q, 0.35, 0.95)}; "
                       f"P(sustained | escalation) {_b(s_base, 0, 0.1)}, "
                       f"without the patron {_b(s_nop, 0, 0.1)}")  # fmt: skip


# ----------------------------------------------------------------------------- the counterfactuals


def no_patron_effect(r: Runner) -> Outcome:
    """Without Iran the camps would have fought (¶7, ¶12: Iran intervenes to prevent spiralling violence
    between Shi'ite groups; ¶36: Sadr's absence alone "would have caused more instability"): on
    seed_timeline, paired runs, the risk difference in P(escalation) lies in [0.25, 0.85] and the risk
    ratio of any clash in [1.3, 4].

    Bounds: the article presents the patron as the brake on a civil war its own officials thought close
    (¶7), so removing it must make escalation common, a difference of at least a quarter; but both camps
    have their own reasons for restraint (¶38: Sadr returned to avoid escalation; ¶19-20: Badr denounced
    the attack), so not near-certain (at most 0.85). A clash is already common with the patron (see
    record_without_civil_war), so its ratio is bounded by how far it can rise (at most about 1 / 0.25)."""
    base, nop = r.run("seed_timeline"), r.run("seed_timeline", patron_present=False)
    rd = nop.runs["escalated"].mean() - base.runs["escalated"].mean()
    rr = clashed(nop).mean() / max(clashed(base).mean(), 1e-9)
    ok = within(rd, 0.25, 0.85) and within(rr, 1.3, 4.0)
    return Outcome(ok, f"RD P(escalation) {_b(rd, 0.25, 0.85)}; RR P(any clash) {_b(rr, 1.3, 4)}")


def soleimani_effect(r: Runner) -> Outcome:
    """Iran had "a relatively easier time directing its proxies" under Soleimani (¶16, ¶18): a
    Soleimani-strength patron (patron_influence 0.85) on seed_timeline, paired runs: the risk ratio of any
    clash lies in [0.15, 0.8] and the risk difference in P(escalation) in [-0.2, -0.02].

    Bounds: "relatively easier" is a material but not a total difference: at least a fifth fewer runs with
    a clash, not nine in ten fewer (the rivalry between the camps, ¶24, does not depend on the commander);
    escalation is rare at the defaults (at most 0.25), so its difference is at most 0.2 in size, and at
    least 0.02 so that the commander matters for the outcome the patron fears (¶7)."""
    base, sol = r.run("seed_timeline"), r.run("seed_timeline", patron_influence=0.85)
    rr = clashed(sol).mean() / max(clashed(base).mean(), 1e-9)
    rd = sol.runs["escalated"].mean() - base.runs["escalated"].mean()
    ok = within(rr, 0.15, 0.8) and within(rd, -0.2, -0.02)
    return Outcome(ok, f"RR P(any clash) {_b(rr, 0.15, 0.8)}; RD P(escalation) {_b(rd, -0.2, -0.02)}")


def independence_effect(r: Runner) -> Outcome:
    """Militias that grow more independent are harder to control (¶17-18, ¶26-27: "allies who have their own
    interests and who won't be told no"; Salehyan 2010, agency slack): with militia_independence 0.8
    rather than 0.45 on seed_timeline, paired runs, the risk difference in P(escalation) lies in
    [0.1, 0.6] and the risk ratio of any clash in [1.2, 3].

    Bounds: Dodge's remark (¶26) is that control is getting harder, not gone: a material rise (at least
    0.1, and a fifth more clashes), but less than the patron's removal (see no_patron_effect: at most 0.6)."""
    base, ind = r.run("seed_timeline"), r.run("seed_timeline", militia_independence=0.8)
    rd = ind.runs["escalated"].mean() - base.runs["escalated"].mean()
    rr = clashed(ind).mean() / max(clashed(base).mean(), 1e-9)
    ok = within(rd, 0.1, 0.6) and within(rr, 1.2, 3.0)
    return Outcome(ok, f"RD P(escalation) {_b(rd, 0.1, 0.6)}; RR P(any clash) {_b(rr, 1.2, 3)}")


def no_mediation_effect(r: Runner) -> Outcome:
    """Without the mediation (¶37-38, ¶40) the boycott usually stands, and Sadr's absence brings "more
    instability" (¶36): seed_timeline without its mediation event, paired runs: the boycott ends in at
    most 0.4 of runs (difference from the defaults at most -0.4), and the risk difference in
    P(escalation) lies in [0.03, 0.4].

    Bounds: Sadr's office says he came back after the mediation and Sistani's advice (¶38): without them
    a return is the exception; Moussawi's "more instability" (¶36) is a rise in risk, not a civil war
    (the rise is at most 0.4, less than the patron's removal)."""
    base, nom = r.run("seed_timeline"), r.run(load_scenario("seed_timeline").without("mediation"))
    ended = nom.runs["boycott_ended"].mean()
    d_end = ended - base.runs["boycott_ended"].mean()
    rd = nom.runs["escalated"].mean() - base.runs["escalated"].mean()
    ok = within(ended, 0.0, 0.4) and d_end <= -0.4 and within(rd, 0.03, 0.4)
    return Outcome(ok, f"boycott ended {_b(ended, 0, 0.4)} (difference {d_end:+.3f}, at most -0.4); "
                       f"RD P(escalation) {_b(rd, 0.03, 0.4)}")  # fmt: skip


def visit_calms(r: Runner) -> Outcome:
    """The visit after the attack on the PM told the leaders to get their militants under control (¶6-8),
    yet tensions kept simmering (¶22); the same visit moves independent militias less (¶18, ¶26; Salehyan):
    in attack_and_intervention, the visit (against a patron unable to act that day, its attention shocked
    to 0) cuts the militias' violence over the next two weeks by a share in [0.2, 0.9] at the defaults,
    and at militia_independence 0.8 by at most 0.75 of that share.

    Bounds: the message worked enough to be reported as the patron's lever (at least a fifth) but not
    completely (¶22: simmering); "allies who won't be told no" (¶26) must blunt it by a quarter or more."""
    sc = load_scenario("attack_and_intervention")
    a = day_of(sc, "attack")
    blocked = with_event(sc, day=a, kind="shock", label="patron busy",
                         data={"actor": "patron", "variable": "attention", "delta": -1.0})  # fmt: skip
    w = slice(a + 1, a + 15)
    cut = {}
    for ind in (0.45, 0.8):
        acting = r.run(sc, militia_independence=ind).daily["violence"][w].mean()
        unable = r.run(blocked, militia_independence=ind).daily["violence"][w].mean()
        cut[ind] = 1.0 - acting / max(unable, 1e-9)
    ratio = cut[0.8] / cut[0.45] if cut[0.45] > 0 else np.inf
    ok = within(cut[0.45], 0.2, 0.9) and ratio <= 0.75
    return Outcome(ok, f"share of violence cut {_b(cut[0.45], 0.2, 0.9)}; at independence 0.8 {cut[0.8]:.3f}, "
                       f"{ratio:.2f} of it (at most 0.75)")  # fmt: skip


# ----------------------------------------------------------------------------- Sadr's path


def election_win_calms_sadr(r: Runner) -> Outcome:
    """Sadr's bloc came first (54 to 73 seats, ¶3) and leads the coalition talks (¶25): the win calms him
    and gives him a stake in politics. Against the same election with his seats unchanged (paired runs on
    seed_timeline): his grievance the day after the vote is lower by [0.03, 0.15], and he is in politics
    at the end in more runs, by [0.05, 0.5].

    Bounds: a gain calms less than a loss angers (Tversky & Kahneman 1992, losses about 1.5-3.5 times
    gains); Fatah's loss of 31 of 48 seats (¶5) angered its militias into refusing, so a 35% gain is a
    modest relief, 0.03-0.15 on the grievance scale. The win must matter for his staying in (¶25: the
    talks he leads are the stake), but he had returned to politics before it (¶38), so it does not decide
    alone (at most 0.5)."""
    sc = load_scenario("seed_timeline")
    e = day_of(sc, "election")
    base, flat = r.run(sc), r.run(with_seats(sc, "sadrist", (54, 54)))
    drop = float((flat.daily["sadr_grievance"][e] - base.daily["sadr_grievance"][e]).mean())
    stay = base.runs["participating_final"].mean() - flat.runs["participating_final"].mean()
    ok = within(drop, 0.03, 0.15) and within(stay, 0.05, 0.5)
    return Outcome(ok, f"grievance lower by {_b(drop, 0.03, 0.15)}; in politics at the end {_b(stay, 0.05, 0.5)}")


def attack_angers_sadr(r: Runner) -> Outcome:
    """The drone attack on the PM, Sadr's ally (¶5), "marked a dramatic escalation in tensions" (¶5) blamed
    on Iran-backed groups (¶2): against seed_timeline without the attack (paired runs), Sadr's grievance on
    the day is higher by [0.05, 0.3], still higher by at least a third of that a fortnight on, and the
    risk of any clash over the window rises by [0.03, 0.4].

    Bounds: one attack on an ally is a sharp but single step (the election loss moved Fatah's militias by
    about 0.3, ¶5); grievance decays over months, not days (¶22, ¶28: tensions simmered for weeks); the
    attack made clashes likelier (¶5: "dramatic escalation") but was followed by simmering, not fighting
    (¶22), so the rise is bounded above by the record's (at most 0.4)."""
    sc = load_scenario("seed_timeline")
    a = day_of(sc, "attack")
    base, calm = r.run(sc), r.run(sc.without("attack"))
    g, g0 = base.daily["sadr_grievance"], calm.daily["sadr_grievance"]
    jump, later = float((g[a] - g0[a]).mean()), float((g[a + 14] - g0[a + 14]).mean())
    rd = clashed(base).mean() - clashed(calm).mean()
    ok = within(jump, 0.05, 0.3) and later >= jump / 3 and within(rd, 0.03, 0.4)
    return Outcome(ok, f"grievance up {_b(jump, 0.05, 0.3)} on the day, {later:.3f} a fortnight on; "
                       f"RD P(any clash) {_b(rd, 0.03, 0.4)}")  # fmt: skip


def sadr_in_politics_at_end(r: Runner) -> Outcome:
    """At the end of the window Sadr's bloc leads the coalition talks (¶25): on seed_timeline at the
    defaults he is in politics on the last day in at least 0.75 of runs, and in at least 0.85 of the runs
    with no clash (the history had none).

    Bounds: the history is a typical run (three in four); where no clash gave him cause to walk out, his
    staying in is the rule (a walk-out after a won election would forfeit the talks, ¶25)."""
    runs = r.run("seed_timeline").runs
    allp = runs["participating_final"].mean()
    quiet = mean_of(runs["participating_final"][~clashed(r.run("seed_timeline"))])
    ok = within(allp, 0.75, 1.0) and within(quiet, 0.85, 1.0)
    return Outcome(ok, f"in politics at the end {_b(allp, 0.75, 1)}; in runs without a clash {_b(quiet, 0.85, 1)}")


def mediators_share(r: Runner) -> Outcome:
    """Both mediators are credited with ending the boycott (¶37-38: Iranian officials lobbied Sadr's team
    and "the Iranian mediation worked"; he came back "after seeking the advice of ... Sistani"; ¶40): in
    boycott_mediation, each mediator's share of the boycott's end (its Shapley value over the four cases
    both / patron off / Sistani off / no mediation, divided by the effect of the whole mediation, paired
    runs) lies in [0.15, 0.85], and the whole mediation ends the boycott in at least 0.5 more runs.

    Bounds: both are named by Sadr's own office, so neither is negligible (at least 0.15) nor the whole
    story (at most 0.85); the mediation "worked" (¶38), so it is what ends most boycotts. Shapley, not
    leave-one-out: with two channels that each persuade (noisy-or) the leave-one-out shares count their
    overlap for neither."""
    sc = load_scenario("boycott_mediation")
    both = r.run(sc).runs["boycott_ended"].mean()
    no_patron = r.run(sc, patron_present=False).runs["boycott_ended"].mean()
    no_sistani = r.run(sc, sistani_credibility=0.0).runs["boycott_ended"].mean()
    none = r.run(sc.without("mediation")).runs["boycott_ended"].mean()
    total = both - none
    patron = 0.5 * ((no_sistani - none) + (both - no_patron)) / total if total > 0 else np.nan
    sistani = 0.5 * ((no_patron - none) + (both - no_sistani)) / total if total > 0 else np.nan
    ok = total >= 0.5 and within(patron, 0.15, 0.85) and within(sistani, 0.15, 0.85)
    loo_patron, loo_sistani = (both - no_patron) / max(total, 1e-9), (both - no_sistani) / max(total, 1e-9)
    return Outcome(ok, f"mediation's effect {total:.3f} (at least 0.5); patron's share {_b(patron, 0.15, 0.85)}, "
                       f"Sistani's {_b(sistani, 0.15, 0.85)} (leave-one-out: patron {loo_patron:.3f}, "
                       f"Sistani {loo_sistani:.3f})")  # fmt: skip


# ----------------------------------------------------------------------------- the militias and the patron


def refusals_after_the_vote(r: Runner) -> Outcome:
    """Fatah's militias refused the results (¶3, ¶5, ¶28) and were still refusing four weeks on, when the
    commander came to tell them to accept them (¶3-6); afterwards tensions simmered (¶22). On
    seed_timeline at the defaults: the share of leaders refusing in the week after the vote lies in
    [0.5, 1]; on the eve of the attack in [0.25, 0.9]; in weeks 2-6 after the visit (before the
    ratification) in [0.03, 0.4]; and the median number of days from the vote to the first day on which
    no leader refuses lies in [21, 78].

    Bounds: "the militias refusing" (¶3) is most of them at first; still a position four weeks on (¶3) but
    not all (Badr's Amiri condemned the attack, ¶20); after "Accept the result" (¶3) refusal is the
    exception but the simmer (¶22) is not nothing; the camp was still refusing when the commander came, 28
    days after the vote (¶3), so in a typical run its refusal lasts three weeks at least, and it ended no
    later than the ratification of the results, 78 days after the vote (¶22). (Each single leader's
    refusal held for weeks too: see DISCREPANCIES.)"""
    sc = load_scenario("seed_timeline")
    e, a = day_of(sc, "election"), day_of(sc, "attack")
    res = r.run(sc)
    c = contests(res)
    share = c.mean(axis=(1, 2))
    week1, eve, after = share[e + 1 : e + 8].mean(), share[a - 1], share[a + 8 : a + 43].mean()
    quiet = ~c.any(axis=2)[e + 1 :]
    first_quiet = np.where(quiet.any(axis=0), np.argmax(quiet, axis=0) + 1, len(quiet))
    med = float(np.median(first_quiet))
    ok = within(week1, 0.5, 1) and within(eve, 0.25, 0.9) and within(after, 0.03, 0.4) and within(med, 21, 78)
    return Outcome(ok, f"refusing: week 1 {_b(week1, 0.5, 1)}, eve of the attack {_b(eve, 0.25, 0.9)}, "
                       f"weeks 2-6 after the visit {_b(after, 0.03, 0.4)}; median days to the first day without "
                       f"a refusal {_b(med, 21, 78)}")  # fmt: skip


def patron_reaches_named_leaders(r: Runner) -> Outcome:
    """At the visit after the attack Ghaani met Khazali of Asa'ib Ahl al-Haq (¶4, ¶6, ¶19) and the PMF chief
    Mohammedawi (¶29): on seed_timeline at the defaults, of the runs with a visit on the attack's day,
    Asa'ib Ahl al-Haq and the PMF command are each reached in at least 0.75, and the visit reaches between
    2 and 3.5 leaders on average (¶4: two militia leaders, ¶29: the PMF chief besides).

    Bounds: both meetings are reported by several sources (¶19, ¶29): a typical visit includes them.
    (Badr's Amiri, also met, ¶19: see DISCREPANCIES.)"""
    sc = load_scenario("seed_timeline")
    a = day_of(sc, "attack")
    res = r.run(sc)
    visit = res.daily["intervened"][a]
    reached = {k: mean_of(res.daily[f"targeted_{j}"][a][visit]) for j, k in enumerate(MILITIA_KEYS)}
    size = mean_of(sum(res.daily[f"targeted_{j}"][a][visit] for j in range(len(MILITIA_KEYS))))
    ok = reached["aah"] >= 0.75 and reached["pmf"] >= 0.75 and within(size, 2, 3.5)
    return Outcome(ok, "reached at the attack-day visit: " + ", ".join(f"{k} {v:.3f}" for k, v in reached.items())
                   + f" (aah, pmf at least 0.75); leaders per visit {_b(size, 2, 3.5)}")  # fmt: skip


def patron_answers_clashes(r: Runner) -> Outcome:
    """Iran's interventions aim at "preventing spiralling violence between competing Shi'ite groups" (¶12; ¶7,
    ¶33): on seed_timeline at the defaults, of the runs with a clash, the share in which the patron
    intervenes within a week of the first clash (that day included) lies in [0.4, 0.95], and is at least
    twice the share of all weeks after the vote with an intervention.

    Bounds: answering spirals is what the article says the interventions are for, so a clash is answered
    in a typical case, and far more often than a week at random; but the commander's visits are few (¶15,
    ¶39: about three crisis visits a year), so not every clash is answered (at most 0.95)."""
    sc = load_scenario("seed_timeline")
    res = r.run(sc)
    iv, first = res.daily["intervened"], res.runs["first_clash_day"]
    runs = np.flatnonzero(first >= 0)
    after = mean_of(np.array([iv[first[i] : first[i] + 8, i].any() for i in runs]))
    weeks = np.lib.stride_tricks.sliding_window_view(iv[day_of(sc, "election") :], 8, axis=0).any(axis=-1).mean()
    ok = within(after, 0.4, 0.95) and after >= 2 * weeks
    return Outcome(ok, f"intervention within a week of the first clash {_b(after, 0.4, 0.95)} ({len(runs)} runs); "
                       f"in any week after the vote {weeks:.3f} (at most half)")  # fmt: skip


def interventions_a_year(r: Runner) -> Outcome:
    """Ghaani went to Baghdad during two other crises in the past year besides November's (¶39), his activity
    rarely visible (¶15): on seed_timeline (215 days) at the defaults the patron intervenes between 1 and 3
    times per run on average (seeds/targets.yaml: the November visit, plus at most the two other trips,
    whose dates may fall outside the window), that is 1.7-5.1 a year, and in at least half of the runs
    between 1 and 3 times.

    Bounds: as seeds/targets.yaml (occasional_crisis_interventions)."""
    res = r.run("seed_timeline")
    n = res.runs["interventions"]
    mean, typical = float(n.mean()), float(((n >= 1) & (n <= 3)).mean())
    ok = within(mean, 1, 3) and typical >= 0.5
    return Outcome(ok, f"interventions per run {_b(mean, 1, 3)} ({mean * 365 / 215:.1f} a year); runs with 1-3 "
                       f"{typical:.3f} (at least 0.5)")  # fmt: skip


def election_violence(r: Runner) -> Outcome:
    """After its electoral loss (¶3, ¶5) the losing camp's violence rises sharply within weeks and is still
    simmering two months on (¶22, ¶28): in election_loss at the defaults, the share of cells active in
    weeks 1-4 after the vote is at least 5 times that of the fortnight before, and over days 60-90 a
    share in [0.1, 0.75] of that rise remains.

    Bounds: from a quiet September to refusal and street anger is a change of kind (at least 5-fold). The
    remainder follows the grievance half-life the evidence allows (30-120 days, ¶22, ¶28): about two
    months on, 2^(-60/30) = 0.25 to 2^(-60/120) = 0.71, widened for the non-linear response of cells."""
    sc = load_scenario("election_loss")
    e = day_of(sc, "election")
    v = r.run(sc).daily["violence"].mean(axis=1)
    before, weeks, later = v[e - 14 : e].mean(), v[e + 1 : e + 29].mean(), v[e + 60 : e + 90].mean()
    rise = weeks / max(before, 1e-9)
    remains = (later - before) / (weeks - before) if weeks > before else np.nan
    ok = rise >= 5 and within(remains, 0.1, 0.75)
    return Outcome(ok, f"violence {before:.4f} before, {weeks:.3f} in weeks 1-4 ({rise:.0f}-fold, at least 5), "
                       f"rise remaining at days 60-90 {_b(remains, 0.1, 0.75)}")  # fmt: skip


def kss_leads_attacks_on_us(r: Runner) -> Outcome:
    """Kataib Sayyid al-Shuhada called on opponents of the US presence to prepare for confrontation (¶22),
    while the militias as a whole attack US assets (¶12, ¶22): on seed_timeline at the defaults KSS's share
    of the attacks on US assets lies in [0.3, 0.6], and at least one attack on US assets happens in at
    least 0.6 of runs (seeds/targets.yaml: attacks_on_us_assets, reported).

    Bounds: the one group named as calling for confrontation carries more than an equal share (0.25) of
    four, but "Iran's militia allies" (¶12) attack too, so not most of them (at most 0.6)."""
    runs = r.run("seed_timeline").runs
    total = runs["attacks_us"].sum()
    share = runs["attacks_us_kss"].sum() / max(total, 1)
    some = float((runs["attacks_us"] >= 1).mean())
    ok = within(share, 0.3, 0.6) and some >= 0.6
    return Outcome(ok, f"KSS's share of attacks on US assets {_b(share, 0.3, 0.6)}; runs with one {some:.3f} "
                       f"(at least 0.6)")  # fmt: skip


def _us_rate(sc: Scenario, res: BatchResult, first: str, last: str) -> float:
    """Mean attacks on US assets per 30 days from ``first`` to ``last`` (ISO dates, both included)."""
    a, b = ((dt.date.fromisoformat(d) - sc.start).days for d in (first, last))
    return float(res.daily["attacks_us_today"][a : b + 1].sum(axis=0).mean() * 30 / (b - a + 1))


def attack_tempo_before_truce(r: Runner) -> Outcome:
    """The public tallies (seeds/record.yaml: us_spread_early_july_2021, several outlets) count 47 to 55
    attacks on US interests from 1 January to 8 July 2021, 7.5 to 8.7 per 30 days, at a time when few of the
    militias' fighters were mobilised. On record_2021 at the defaults the model's rate over those days lies
    in [4, 16] per 30 days: within a factor of two of the record, since the defaults come from the 2020
    campaign's rate, not from these tallies (a rule that tied the attacks to mobilised cells alone made
    about 0.3)."""
    sc = load_scenario("record_2021")
    rate = _us_rate(sc, r.run(sc), "2021-01-01", "2021-07-08")
    return Outcome(within(rate, 4, 16), f"attacks on US assets per 30 days, 1 Jan - 8 Jul 2021: {_b(rate, 4, 16)}")


def truce_holds_attacks_down(r: Runner) -> Outcome:
    """The factions' truce from the end of July 2021 (seeds/events.yaml) held most attacks back: the record
    has 0 or 1 attack from 9 July to 10 September and one each on 11 September and 19 December. On
    record_2021 at the defaults, the rate from 26 July to 31 December is at most 0.35 of the rate from 1
    January to 8 July, though the vote mobilises the militias in between (the judged compliance, 0.7 to
    0.95, holds back most attacks, not all; the record's own ratio, under 0.1, is a discrepancy below)."""
    sc = load_scenario("record_2021")
    res = r.run(sc)
    ratio = _us_rate(sc, res, "2021-07-26", "2021-12-31") / _us_rate(sc, res, "2021-01-01", "2021-07-08")
    return Outcome(within(ratio, 0, 0.35), f"rate in the truce / rate before it {_b(ratio, 0, 0.35)}")


def attacks_resume_after_truce(r: Runner) -> Outcome:
    """When the US combat mission ended on 31 December 2021 with US advisers still in Iraq, the truce lapsed
    and KSS's call to confront US forces fell due (¶22): the record counts at least 6 attacks on US
    interests in January 2022 (us_attacks_jan_2022). On seed_timeline at the defaults, January 2022 has
    at least 6 attacks on US assets on average and at least three times the truce's monthly rate (upper
    bound 30: the first half-year's tempo, doubled by the deadline and the vote's mobilisation)."""
    sc = load_scenario("seed_timeline")
    res = r.run(sc)
    jan = _us_rate(sc, res, "2022-01-01", "2022-01-30")
    truce = _us_rate(sc, res, "2021-07-26", "2021-12-31")
    ok = within(jan, 6, 30) and jan >= 3 * truce
    return Outcome(ok, f"January 2022 per 30 days {_b(jan, 6, 30)}; truce rate {truce:.2f} (January at least 3x)")


PATTERNS: dict[str, Callable[[Runner], Outcome]] = {
    "record_without_civil_war": record_without_civil_war,
    "clashes_rarely_spiral": clashes_rarely_spiral,
    "no_patron_effect": no_patron_effect,
    "soleimani_effect": soleimani_effect,
    "independence_effect": independence_effect,
    "no_mediation_effect": no_mediation_effect,
    "visit_calms": visit_calms,
    "election_win_calms_sadr": election_win_calms_sadr,
    "attack_angers_sadr": attack_angers_sadr,
    "sadr_in_politics_at_end": sadr_in_politics_at_end,
    "mediators_share": mediators_share,
    "refusals_after_the_vote": refusals_after_the_vote,
    "patron_reaches_named_leaders": patron_reaches_named_leaders,
    "patron_answers_clashes": patron_answers_clashes,
    "interventions_a_year": interventions_a_year,
    "election_violence": election_violence,
    "kss_leads_attacks_on_us": kss_leads_attacks_on_us,
    "attack_tempo_before_truce": attack_tempo_before_truce,
    "truce_holds_attacks_down": truce_holds_attacks_down,
    "attacks_resume_after_truce": attacks_resume_after_truce,
}


# ----------------------------------------------------------------------------- evidence the model misses


def badr_reached_kss_spared(r: Runner) -> Outcome:
    """Ghaani's meeting after the attack was with Hadi al-Amiri of Badr and Qais al-Khazali (¶4, ¶6, ¶19),
    then the PMF chief (¶29); Kataib Sayyid al-Shuhada is not named among those met. On seed_timeline at
    the defaults, of the runs with a visit on the attack's day, Badr is reached in at least 0.75 and KSS in
    at most 0.5. The model targets the militias that look most pressing (activity plus grievance), and
    Badr, the most disciplined, looks least pressing: it FAILS this (Badr about 0.54, KSS about 0.74)."""
    sc = load_scenario("seed_timeline")
    a = day_of(sc, "attack")
    res = r.run(sc)
    visit = res.daily["intervened"][a]
    badr = mean_of(res.daily[f"targeted_{MILITIA_KEYS.index('badr')}"][a][visit])
    kss = mean_of(res.daily[f"targeted_{MILITIA_KEYS.index('kss')}"][a][visit])
    return Outcome(badr >= 0.75 and kss <= 0.5, f"Badr reached {_b(badr, 0.75, 1)}; KSS {_b(kss, 0, 0.5)}")


def each_refusal_held_for_weeks(r: Runner) -> Outcome:
    """Fatah's militias were refusing the results when the commander came four weeks after the vote (¶3), and
    the refusal was a position, held until the ratification (¶22): in the 60 days after the vote on
    seed_timeline, a leader's refusal, once begun, lasts 7 days or more on average. The model's camp
    holds its refusal for weeks (refusals_after_the_vote), but each leader's stance flickers: it FAILS
    this (mean spell about 3 days; P(refusing tomorrow | refusing today) about 0.7)."""
    sc = load_scenario("seed_timeline")
    e = day_of(sc, "election")
    c = contests(r.run(sc))[e : e + 60]
    starts = np.count_nonzero(c[1:] & ~c[:-1]) + np.count_nonzero(c[0])
    spell = np.count_nonzero(c) / max(starts, 1)
    return Outcome(spell >= 7, f"mean refusal spell {_b(spell, 7, 60)} days")


# Patterns the evidence supports that the model does not reproduce: not counted as patterns (no mutant
# may be "killed" by them); tests/test_patterns.py marks them as expected failures, so a model change that
# makes one hold shows up.
def truce_as_quiet_as_the_record(r: Runner) -> Outcome:
    """The record's truce was quieter than the model's (seeds/record.yaml): 2 to 4 attacks on US interests
    from 9 July to 31 December 2021 against 47 to 55 in the 189 days before, a ratio of rates under 0.1. On
    record_2021 at the defaults the model's ratio (26 July to 31 December against 1 January to 8 July) is
    about 0.2: the judged compliance's centre (0.825) and the vote's mobilisation let more through. It
    FAILS this at the defaults; the calibration on counts is where the record can move it."""
    sc = load_scenario("record_2021")
    res = r.run(sc)
    ratio = _us_rate(sc, res, "2021-07-26", "2021-12-31") / _us_rate(sc, res, "2021-01-01", "2021-07-08")
    return Outcome(within(ratio, 0, 0.1), f"rate in the truce / rate before it {_b(ratio, 0, 0.1)}")


DISCREPANCIES: dict[str, Callable[[Runner], Outcome]] = {
    "badr_reached_kss_spared": badr_reached_kss_spared,
    "each_refusal_held_for_weeks": each_refusal_held_for_weeks,
    "truce_as_quiet_as_the_record": truce_as_quiet_as_the_record,
}


# ----------------------------------------------------------------------------- wiring: true by construction


def visit_on_attack_day(r: Runner) -> Outcome:
    """Wiring, not a pattern: the patron visits on the day of the attack on the PM (¶2) in at least 0.95 of
    runs of seed_timeline. By construction: a salient event overrides the cooldown, and attention is
    refilled by November in nearly every run; this checks that the attack event marks the day salient."""
    sc = load_scenario("seed_timeline")
    share = r.run(sc).daily["intervened"][day_of(sc, "attack")].mean()
    return Outcome(share >= 0.95, f"visit on the attack's day in {share:.3f} of runs")


def quiet_boycott(r: Runner) -> Outcome:
    """Wiring, not a pattern: the boycott is a political act (¶34-38): Sadr's armed wing mobilises no more
    during it than in the fortnight before (by 0.01 at most). By construction: the boycott's commitment
    does not enter the threat the wing reads; this checks that it stays out."""
    sc = load_scenario("boycott_mediation")
    b, m = day_of(sc, "boycott"), day_of(sc, "mediation")
    mob = r.run(sc).daily["mobilisation"]
    before, during = mob[b - 14 : b].mean(), mob[b + 7 : m].mean()
    return Outcome(during <= before + 0.01, f"mobilisation {before:.4f} before, {during:.4f} during")


def sadr_order_sends_wing_home(r: Runner) -> Outcome:
    """Wiring, not a pattern: on Sadr's order in stand_down_orders his wing's mobilisation falls by at least
    80% on the day (sadr_discipline 0.85: deterministic arithmetic) and stays below a third of its level
    while the order binds; this checks that the order event reaches the wing and its days are counted."""
    sc = load_scenario("stand_down_orders")
    o = day_of(sc, "order", actor="sadr")
    m = r.run(sc).daily["mobilisation"].mean(axis=1)
    ok = m[o - 1] > 0.05 and m[o] <= 0.2 * m[o - 1] and m[o : o + 8].max() <= m[o - 1] / 3
    return Outcome(ok, f"mobilisation {m[o - 1]:.3f} the day before, {m[o]:.3f} on the day, "
                       f"at most {m[o : o + 8].max():.3f} in the next week")  # fmt: skip


def escalation_as_defined(r: Runner) -> Outcome:
    """Wiring, not a pattern: a run counts as escalated (sustained) exactly when its daily clash series has
    escalation_clashes in escalation_window days (sustained_clashes in sustained_window): the engine's ring
    of clash days agrees with sim.model.outcomes.escalated_by on the same runs (no patron: many clashes)."""
    p = make_params({})
    res = r.run("seed_timeline", patron_present=False)
    esc = outcomes.escalated_by(res.daily["clash"], p.escalation_clashes, p.escalation_window)
    sus = outcomes.escalated_by(res.daily["clash"], p.sustained_clashes, p.sustained_window)
    ok = bool(np.array_equal(esc, res.runs["escalated"]) and np.array_equal(sus, res.runs["sustained"]))
    return Outcome(ok, f"escalated {res.runs['escalated'].mean():.3f} (series {esc.mean():.3f}), sustained "
                       f"{res.runs['sustained'].mean():.3f} (series {sus.mean():.3f})")  # fmt: skip


WIRING: dict[str, Callable[[Runner], Outcome]] = {
    "escalation_as_defined": escalation_as_defined,
    "visit_on_attack_day": visit_on_attack_day,
    "quiet_boycott": quiet_boycott,
    "sadr_order_sends_wing_home": sadr_order_sends_wing_home,
}


def run_all(runner: Runner, names: Sequence[str] | None = None) -> dict[str, Outcome]:
    return {name: PATTERNS[name](runner) for name in (names or PATTERNS)}
