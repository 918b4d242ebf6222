"""The model's checks in three kinds (docs/ODD.md sections 1 and 9): OBSERVATIONS of the world (pass/fail, bounds
from their sources), WIRING (true by construction: kept as tests, never counted as evidence); code correctness is
tests/correctness.py. Counterfactual sizes no one observed are reported outputs: sim/analysis/counterfactual_outputs.py.

How an observation's bound is set. Every observation is ONE history: the record of 2021 happened once. So the
model is not asked to reproduce it on average, but not to make it improbable: the observed value (or the
record's interval for it, which carries the source's own uncertainty) must not lie in either TAIL (2.5%) of the
model's predictive distribution over its runs, i.e. P(X <= record's high) >= TAIL and P(X >= record's low) >=
TAIL; for a yes/no fact, P(the history's answer) >= TAIL. The record's interval and TAIL are the only numbers in
a bound; none is the model's own value. With N = 1500 runs a tail share near 0.025 has a Monte Carlo standard
error of 0.004. A correct model fails each check with probability at most 0.05, so one failure is weak evidence;
what the checks catch is a size far from the record (docs/ODD.md section 1). All observations are read on
record_2021 (1 January 2021 to 31 January 2022: the record's window, with the article's events), at the
defaults."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sim.engines.vector import BatchResult, run_batch
from sim.model import record as rec
from sim.model import rules
from sim.model.params import MILITIAS, Militia, make_params
from sim.model.scenario import Event, Scenario, load_scenario

SEED = 7
N = 1500  # replicates per run: a tail share near 0.025 has Monte Carlo SE 0.004
TAIL = 0.025  # the record must not lie in either 2.5% tail of the model's predictive distribution
OBSERVED = "record_2021"  # the scenario every observation is read on
MILITIA_KEYS = tuple(m.key for m in MILITIAS)
DAILY = (
    "violence", "mobilisation", "sadr_grievance", "intervened", "hazard", "clash", "attacks_us_today",
    "attacks_state_today", "participating", *(f"contests_{j}" for j in range(len(MILITIAS))),
)  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """One check's verdict, with the numbers it rests on."""

    passed: bool
    detail: str


@dataclass
class Runner:
    """Runs scenarios for the checks, on the model or on a variant's militia table (rules are patched by the
    variant itself, in sim.model.rules, which the vector engine calls), at the defaults plus ``params`` (a prior
    draw, for the pass rates). Runs are cached by content, so the checks share them: one Runner per model,
    variant or parameter set."""

    militias: tuple[Militia, ...] = MILITIAS
    params: dict = dataclasses.field(default_factory=dict)
    n: int = N
    daily: tuple[str, ...] | None = DAILY  # None: every daily column
    _cache: dict = dataclasses.field(default_factory=dict)

    def run(self, scenario: Scenario | str, **params) -> BatchResult:
        """``n`` replicates of ``scenario`` at the defaults plus ``self.params`` plus ``params`` (common random
        numbers: every run uses SEED and replicates 0..n-1, so counterfactual differences are paired)."""
        sc = load_scenario(scenario) if isinstance(scenario, str) else scenario
        merged = {**self.params, **params}
        key = (repr(sc), tuple(sorted(merged.items())))
        if key not in self._cache:
            self._cache[key] = self._run(sc, merged)
        return self._cache[key]

    def _run(self, sc: Scenario, params: dict) -> BatchResult:
        return run_with_targets(sc, [make_params(params)], [self.militias], np.arange(self.n), self.daily)


def run_with_targets(sc: Scenario, params_rows: Sequence, militia_rows: Sequence, replicates: np.ndarray,
                     daily: Sequence[str] | None) -> BatchResult:  # fmt: skip
    """run_batch at SEED (one row per replicate), plus daily columns ``targeted_j``: whether the day's visit reached
    militia j. The run record does not say whom a visit reached; read it where the engine decides it, on the rule
    that applies the visit (wrapping whatever a variant put there)."""
    applied, seen = rules.intervene, []

    def recording(grievance, discipline, pressure, lam, targeted, *effects):
        seen.append(np.asarray(targeted)[:, :, 0].copy())
        return applied(grievance, discipline, pressure, lam, targeted, *effects)

    rules.intervene = recording
    try:
        res = run_batch(sc, params_rows, militia_rows, SEED, replicates, daily_columns=daily)
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


def day_on(scenario: Scenario, iso: str | dt.date) -> int:
    """The scenario's day number of a calendar date."""
    d = dt.date.fromisoformat(iso) if isinstance(iso, str) else iso
    return (d - scenario.start).days


def within(value: float, low: float, high: float) -> bool:
    return bool(low <= value <= high)


def _b(value: float, low: float, high: float) -> str:
    """A value with its bounds, and whether it is inside them, for a check's detail."""
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


def targeted(res: BatchResult) -> np.ndarray:
    """(days, R, M): which leaders a visit reached each day."""
    return np.stack([res.daily[f"targeted_{j}"] for j in range(len(MILITIA_KEYS))], axis=-1)


# ----------------------------------------------------------------------------- the predictive checks


def record_interval(entry_id: str) -> tuple[dt.date, dt.date, float, float]:
    """(start, end, low, high) of a seeds/record.yaml entry: its period and its count as an interval."""
    e = rec.load_record()[entry_id]
    lo, hi = e.interval
    return e.start, e.end, float(lo), float(hi)


def record_interval_dates(entry_id: str) -> tuple[dt.date, dt.date]:
    """(start, end) of a dated seeds/record.yaml entry."""
    e = rec.load_record()[entry_id]
    return e.start, e.end


def count_check(x: np.ndarray, low: float, high: float, what: str) -> tuple[bool, str]:
    """The record's interval [low, high] for a count against the model's runs ``x``: it holds unless the record
    lies in either TAIL of the model's predictive distribution (P(X <= high) and P(X >= low) both >= TAIL)."""
    x = np.asarray(x, dtype=float)
    below, above = float(np.mean(x <= high)), float(np.mean(x >= low))
    ok = below >= TAIL and above >= TAIL
    q = np.quantile(x, [TAIL, 1 - TAIL]) if x.size else (np.nan, np.nan)
    rec_text = f"{low:g}" if low == high else f"[{low:g}, {'open' if math.isinf(high) else f'{high:g}'}]"
    return ok, (f"{what}: record {rec_text}, model mean {mean_of(x):.2f}, 95% [{q[0]:g}, {q[1]:g}]; "
                f"P(X <= {high:g}) {below:.3f}, P(X >= {low:g}) {above:.3f} (each at least {TAIL}) "
                f"{'ok' if ok else 'OUT'}")  # fmt: skip


def fact_check(happened: np.ndarray, what: str) -> tuple[bool, str]:
    """A yes/no fact of the one history: the model must give it a probability of at least TAIL."""
    p = mean_of(np.asarray(happened, dtype=bool))
    ok = bool(p >= TAIL)
    return ok, f"{what}: P {p:.3f} (at least {TAIL}) {'ok' if ok else 'OUT'}"


def _window_sum(res: BatchResult, sc: Scenario, column: str, first: dt.date | str, last: dt.date | str) -> np.ndarray:
    """Per run: a daily column summed from ``first`` to ``last`` (both included)."""
    a, b = day_on(sc, first), day_on(sc, last)
    return np.asarray(res.daily[column][a : b + 1]).sum(axis=0)


def _counts(r: Runner, column: str, entries: Sequence[str], what: str) -> Outcome:
    """One record entry or several of the same kind, each a count of ``column`` over the entry's period."""
    sc = load_scenario(OBSERVED)
    res = r.run(sc)
    parts = []
    for entry_id in entries:
        first, last, lo, hi = record_interval(entry_id)
        parts.append(count_check(_window_sum(res, sc, column, first, last), lo, hi, f"{what} {first}..{last}"))
    return Outcome(all(ok for ok, _ in parts), "; ".join(d for _, d in parts))


def _outcome(*parts: tuple[bool, str]) -> Outcome:
    return Outcome(all(ok for ok, _ in parts), "; ".join(d for _, d in parts))


# ----------------------------------------------------------------------------- observations: the clash and Sadr


def no_clash_between_the_camps(r: Runner) -> Outcome:
    """OBSERVATION. The record (seeds/record.yaml intra_shia_clashes_none_2021_01_2022_01, inferred from Reuters
    and IranWire reporting; the article's ¶5, ¶7, ¶22, ¶28 and seeds/targets.yaml no_civil_war): no armed clash
    between the Sadrist and pro-Iran camps from 1 January 2021 to 31 January 2022, so no escalation either.

    Bound: the record's count, 0 clash-days over record_2021; the model must give a clash-free year a
    probability of at least TAIL. Source's uncertainty: "none found" is an absence in the sources; an unreported
    small incident would make the true count 1 or 2, which the tail rule does not need (a model for which a
    clash-free year is that rare would also make a near-clash-free one rare)."""
    sc = load_scenario(OBSERVED)
    first, last, lo, hi = record_interval("intra_shia_clashes_none_2021_01_2022_01")
    days = _window_sum(r.run(sc), sc, "clash", first, last)
    return _outcome(count_check(days, lo, hi, "clash-days"))


def sadr_in_politics(r: Runner) -> Outcome:
    """OBSERVATION. Sadr's bloc took part in the 10 October vote and came first (¶3; the boycott was over by then,
    ¶38, seeds/targets.yaml boycott_over_by_the_vote) and at the end of the window it was leading the coalition
    talks (¶25): in the one history he was in politics on election day and on 31 January 2022.

    Bound: the model must give that history (both, in one run) a probability of at least TAIL; no number from the
    article besides."""
    sc = load_scenario(OBSERVED)
    res = r.run(sc)
    part = res.daily["participating"].astype(bool)
    both = part[day_of(sc, "election")] & part[-1]
    return _outcome(fact_check(both, "in politics on election day and on the last day"))


def boycott_length(r: Runner) -> Outcome:
    """OBSERVATION. Sadr announced his boycott on 15 July 2021 and reversed it on 27 August (seeds/record.yaml
    sadr_boycott_duration_2021: 43 days, from two dated Reuters reports; announcement and reversal are
    reported, the length inferred from them), and did not walk out again in the window (¶25: he leads the talks).

    Bound: the model's days out of politics over record_2021 (the boycott is forced on 15 July, its end emergent)
    must not put 43 in either tail: P(X <= 43) and P(X >= 43) at least TAIL. A day either way from the dating is
    inside what the tails allow."""
    sc = load_scenario(OBSERVED)
    *_, lo, hi = record_interval("sadr_boycott_duration_2021")
    return _outcome(count_check(r.run(sc).runs["boycott_days"], lo, hi, "days out of politics"))


# ------------------------------------------------------------------------- observations: the militias and the patron


def refusing_at_the_visit(r: Runner) -> Outcome:
    """OBSERVATION. When the Quds Force commander came after the attack of 7 November, the pro-Iran militias were
    still refusing the results of the 10 October vote (¶3), and the two leaders he met and told to accept them were
    Badr's Amiri and Asa'ib Ahl al-Haq's Khazali (¶6, ¶19): both were refusing on the eve of the attack.

    Bound: P(Badr and AAH both refuse on 6 November) at least TAIL; no other number."""
    sc = load_scenario(OBSERVED)
    c = contests(r.run(sc))[day_of(sc, "attack") - 1]
    both = c[:, MILITIA_KEYS.index("badr")] & c[:, MILITIA_KEYS.index("aah")]
    return _outcome(fact_check(both, "Badr and AAH refusing on the eve of the attack"))


def _first_visit(res: BatchResult, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """Per run: whether the patron visits on some day in [first, last], and whom the first such visit reached."""
    iv = res.daily["intervened"][first : last + 1].astype(bool)
    any_visit = iv.any(axis=0)
    day = first + np.argmax(iv, axis=0)
    reached = targeted(res)[day, np.arange(iv.shape[1])]  # (R, M)
    return any_visit, reached & any_visit[:, None]


def visit_after_the_attack(r: Runner) -> Outcome:
    """OBSERVATION. Hours after the drone attack on the prime minister (7 November 2021) the commander flew to
    Baghdad (¶2, ¶3; seeds/record.yaml ghaani_visit_2021_11_07; seeds/targets.yaml visit_after_the_attack).

    Bound: a visit on the attack's day or the next (the model's day is its finest unit; "hours after" may cross
    midnight), P at least TAIL. It holds nearly by construction (a salient event overrides the cooldown: the
    wiring check visit_on_attack_day), so it is weak evidence: the rule was written from this paragraph."""
    sc = load_scenario(OBSERVED)
    a = day_of(sc, "attack")
    visit, _ = _first_visit(r.run(sc), a, a + 1)
    return _outcome(fact_check(visit, "a visit within a day of the attack"))


def visit_reaches_named_leaders(r: Runner) -> Outcome:
    """OBSERVATION. On that visit the commander met the leaders of two militias (¶4, ¶6), Badr's Amiri and
    Asa'ib Ahl al-Haq's Khazali (¶19), and the chief of the PMF, Mohammedawi (¶29); KSS is not named among them.

    Bound: P(a visit within a day of the attack whose first day reaches Badr, AAH and the PMF command) at least
    TAIL. Not named is not "not met", so KSS's presence is not tested."""
    sc = load_scenario(OBSERVED)
    a = day_of(sc, "attack")
    visit, reached = _first_visit(r.run(sc), a, a + 1)
    named = reached[:, [MILITIA_KEYS.index(k) for k in ("badr", "aah", "pmf")]].all(axis=1)
    share = {k: mean_of(reached[visit, j]) for j, k in enumerate(MILITIA_KEYS)}
    ok, detail = fact_check(visit & named, "the attack's visit reaches Badr, AAH and the PMF")
    return Outcome(ok, detail + " (reached on a visit: " + ", ".join(f"{k} {v:.2f}" for k, v in share.items()) + ")")


def visit_after_the_vote(r: Runner) -> Outcome:
    """OBSERVATION. The commander was in Baghdad on 11 October 2021, the day after the vote, as the first results
    came in (seeds/record.yaml ghaani_visit_2021_10_11: IFMAT's copy of IranWire, Track Persia; both governments
    denied it, Iraqi and Iranian sources confirmed it).

    Bound: a visit on 10 or 11 October (the vote's day or the next, the same tolerance as the attack's visit),
    P at least TAIL. In the model the vote is not a salient event: a visit then must come from the tension it
    raises."""
    sc = load_scenario(OBSERVED)
    e = day_of(sc, "election")
    visit, _ = _first_visit(r.run(sc), e, day_on(sc, "2021-10-11"))
    return _outcome(fact_check(visit, "a visit on 10-11 October"))


def visit_after_the_coalition_talks(r: Runner) -> Outcome:
    """OBSERVATION. The commander was back in Iraq on 16-18 January 2022 to narrow the gap between the Sadrists and
    the pro-Iran Coordination Framework over the next government (seeds/record.yaml ghaani_visit_2022_01_16:
    IranWire, Stratfor citing Shafaq News), a week after the coalition talks that excluded the pro-Iran groups
    (9 January, a forced event, ¶25).

    Bound: a visit on some day from 16 to 18 January 2022 (the record's period), P at least TAIL."""
    sc = load_scenario(OBSERVED)
    first, last = record_interval_dates("ghaani_visit_2022_01_16")
    visit, _ = _first_visit(r.run(sc), day_on(sc, first), day_on(sc, last))
    return _outcome(fact_check(visit, f"a visit on {first}..{last}"))


def patron_visits(r: Runner) -> Outcome:
    """OBSERVATION. Reported trips of the commander to Iraq: 3 from 1 July 2021 to 31 January 2022 (11 October,
    7 November, 16 January; seeds/record.yaml ghaani_visits_in_model_window) and at least 4 in calendar 2021
    (April, June, October, November; ghaani_visits_2021); the article's "two other crises in the past year"
    besides November (¶39) agrees.

    Bound: the model's interventions over each period against the record's count (3, and [4, open)), neither in
    a tail. Source's uncertainty: his trips are often unannounced, so the reported 3 may undercount; the tail rule
    lets the model have more as long as 3 is not in its lower 2.5%."""
    return _counts(r, "intervened", ("ghaani_visits_in_model_window", "ghaani_visits_2021"), "visits")


# ----------------------------------------------------------------------------- observations: attacks and strikes


def attack_tempo_first_half(r: Runner) -> Outcome:
    """OBSERVATION. Running tallies of attacks on US interests in Iraq (seeds/record.yaml): 18-23 from 20 January
    to 22 April 2021 (us_spread_mid_april_2021: AFP), 27-33 from 20 January to 8 May (us_spread_early_may_2021:
    AP and wire copy), 47-55 from 1 January to 8 July (us_spread_early_july_2021: AFP, Al Jazeera, Region Press,
    The Jerusalem Post). Each interval is the spread between outlets: the source's uncertainty.

    Bound: the model's attacks on US assets over each period (record_2021, days summed) against the interval,
    not in either tail. The tallies count every attacker, the model the four modelled militias with their
    standing fronts (record.yaml not_covered: attribution); like the calibration on counts, the model's count
    is read as the camp's."""
    return _counts(r, "attacks_us_today", ("us_spread_mid_april_2021", "us_spread_early_may_2021",
                                           "us_spread_early_july_2021"), "attacks on US")  # fmt: skip


def attack_wave_july(r: Runner) -> Outcome:
    """OBSERVATION. At least 5 separate attacks on US interests on 5-8 July 2021, after the US strikes of 27 June
    (seeds/record.yaml us_attacks_wave_2021_07_05_08: Al Jazeera, The National). Bound: [5, open), not in the
    model's upper tail."""
    return _counts(r, "attacks_us_today", ("us_attacks_wave_2021_07_05_08",), "attacks on US")


def attack_lull(r: Runner) -> Outcome:
    """OBSERVATION. The slower tempo after the July wave: 3 to 5 attacks on US sites (bases, embassy, airports)
    from 9 July to 30 October 2021 (seeds/record.yaml us_attacks_2021_07_09_10_30: dated 23 July Harir, 29 July
    Green Zone, 11 September Erbil, with up to two unreported). It replaces the contradicted "0 or 1 attack from
    9 July to 10 September" entry (us_attacks_lull_2021_07_09_09_10, removed in the rechecked record: two of the
    dated attacks fall inside it). Bound: [3, 5], not in either tail."""
    return _counts(r, "attacks_us_today", ("us_attacks_2021_07_09_10_30",), "attacks on US")


def attacks_in_the_autumn(r: Runner) -> Outcome:
    """OBSERVATION. From 11 September to 31 December 2021 the record dates two attacks on US interests (Erbil,
    11 September; the Green Zone, 19 December: seeds/record.yaml us_attack_erbil_2021_09_11,
    us_attack_green_zone_2021_12_19), AP says such attacks had slowed and Al-Monitor (us_attacks_jan_2022) that
    rocket fire resumed in January after a hiatus of months. Bound: [2, 4], the calibration's reading of these
    entries (sim/analysis/calibration_counts.py: at least the two dated, up to two unreported)."""
    sc = load_scenario(OBSERVED)
    first = rec.load_record()["us_attack_erbil_2021_09_11"].start
    x = _window_sum(r.run(sc), sc, "attacks_us_today", first, dt.date(2021, 12, 31))
    return _outcome(count_check(x, 2, 4, f"attacks on US {first}..2021-12-31"))


def attacks_resume_january(r: Runner) -> Outcome:
    """OBSERVATION. At least 7 attacks on US interests in January 2022, after the US combat mission ended (31
    December) and KSS's deadline fell due (¶22) (seeds/record.yaml us_attacks_jan_2022: Reuters, AP, Al-Monitor,
    The Reference; the rechecked record adds the airport rockets of 28 January). Bound: [7, open)."""
    return _counts(r, "attacks_us_today", ("us_attacks_jan_2022",), "attacks on US")


def us_strike_rounds(r: Runner) -> Outcome:
    """OBSERVATION. Two rounds of US strikes on Iran-backed militias from January to June 2021 (late February in
    Syria, 27 June; seeds/record.yaml us_strike_rounds_2021_h1) and none in Iraq from July 2021 to January 2022
    (the note of us_strikes_2021_06_27). Bound: 2 over record_2021 (the model's retaliations), not in either
    tail."""
    sc = load_scenario(OBSERVED)
    return _outcome(count_check(r.run(sc).runs["retaliations"], 2, 2, "US strike rounds"))


def attacks_on_sadrs_allies(r: Runner) -> Outcome:
    """OBSERVATION. At least 5 grenade or bomb attacks on offices of parties allied with Sadr from 13 to 19 January
    2022, after the new parliament's first session (seeds/record.yaml party_office_attacks_2022_01_13_19: The
    National, The New Arab, Rudaw). The record's own mapping: attacks on parties allied with Sadr act in the model
    as attacks on the state (they anger his bloc and raise the rivalry). Bound: [5, open) emergent attacks on the
    state over those days."""
    return _counts(r, "attacks_state_today", ("party_office_attacks_2022_01_13_19",), "attacks on the state")


OBSERVATIONS: dict[str, Callable[[Runner], Outcome]] = {
    "no_clash_between_the_camps": no_clash_between_the_camps,
    "sadr_in_politics": sadr_in_politics,
    "boycott_length": boycott_length,
    "refusing_at_the_visit": refusing_at_the_visit,
    "visit_after_the_attack": visit_after_the_attack,
    "visit_reaches_named_leaders": visit_reaches_named_leaders,
    "visit_after_the_vote": visit_after_the_vote,
    "visit_after_the_coalition_talks": visit_after_the_coalition_talks,
    "patron_visits": patron_visits,
    "attack_tempo_first_half": attack_tempo_first_half,
    "attack_wave_july": attack_wave_july,
    "attack_lull": attack_lull,
    "attacks_in_the_autumn": attacks_in_the_autumn,
    "attacks_resume_january": attacks_resume_january,
    "us_strike_rounds": us_strike_rounds,
    "attacks_on_sadrs_allies": attacks_on_sadrs_allies,
}

# Observations the defaults fail: discrepancies between the model and the record, reported (docs/ODD.md section
# 11), not retuned. tests/test_patterns.py marks each xfail(strict=True), so a change that makes one hold shows;
# they kill no mutant (they fail on the model too). Filled in after the bounds above were committed and run
# (commit 01a74dc); the defaults' numbers are in docs/ODD.md section 11.
KNOWN_FAILURES: dict[str, str] = {
    "visit_after_the_vote": (
        "the vote is not a salient event in the model (only attacks on the state are): the patron comes after it "
        "only when the tension it raises crosses the trigger with attention to spare, about 1 run in 100 within "
        "a day, where the record has the commander in Baghdad the day after"
    ),
    "attack_wave_july": (
        "the model's attacks on US forces come at a steady daily rate, and a US strike raises only the struck "
        "militia's hostility by one step: no rule makes a four-day surge like the one after the strikes of 27 June"
    ),
    "attacks_on_sadrs_allies": (
        "the model's attacks on the state are rare and one at a time (attack_rate_state), and no event marks the "
        "new parliament's first session: the record's week of at least 5 attacks on the offices of Sadr's allies "
        "(13-19 January 2022) has no counterpart"
    ),
}


# ----------------------------------------------------------------------------- wiring: true by construction


def visit_on_attack_day(r: Runner) -> Outcome:
    """WIRING, not evidence: the patron visits on the day of the attack on the PM (¶2) in at least 0.95 of
    runs of seed_timeline. By construction: a salient event overrides the cooldown, and attention is
    refilled by November in nearly every run; this checks that the attack event marks the day salient."""
    sc = load_scenario("seed_timeline")
    share = r.run(sc).daily["intervened"][day_of(sc, "attack")].mean()
    return Outcome(share >= 0.95, f"visit on the attack's day in {share:.3f} of runs")


def quiet_boycott(r: Runner) -> Outcome:
    """WIRING, not evidence: the boycott is a political act (¶34-38): Sadr's armed wing mobilises no more
    during it than in the fortnight before (by 0.01 at most). By construction: the boycott's commitment
    does not enter the threat the wing reads; this checks that it stays out."""
    sc = load_scenario("boycott_mediation")
    b, m = day_of(sc, "boycott"), day_of(sc, "mediation")
    mob = r.run(sc).daily["mobilisation"]
    before, during = mob[b - 14 : b].mean(), mob[b + 7 : m].mean()
    return Outcome(during <= before + 0.01, f"mobilisation {before:.4f} before, {during:.4f} during")


def sadr_order_sends_wing_home(r: Runner) -> Outcome:
    """WIRING, not evidence: on Sadr's order in stand_down_orders his wing's mobilisation falls by at least
    80% on the day (sadr_discipline 0.85: deterministic arithmetic) and stays below a third of its level
    while the order binds; this checks that the order event reaches the wing and its days are counted."""
    sc = load_scenario("stand_down_orders")
    o = day_of(sc, "order", actor="sadr")
    m = r.run(sc).daily["mobilisation"].mean(axis=1)
    ok = m[o - 1] > 0.05 and m[o] <= 0.2 * m[o - 1] and m[o : o + 8].max() <= m[o - 1] / 3
    return Outcome(ok, f"mobilisation {m[o - 1]:.3f} the day before, {m[o]:.3f} on the day, "
                       f"at most {m[o : o + 8].max():.3f} in the next week")  # fmt: skip


def election_win_calms_sadr(r: Runner) -> Outcome:
    """WIRING, not evidence (it was the pattern election_win_calms_sadr, which read election_shock and
    election_gain_relief back): against the same election with his seats unchanged (paired runs on
    seed_timeline), Sadr's grievance at the end of election day is lower by election_shock x election_gain_relief
    x 19/54 (his 54 seats became 73) after one day's relaxation, within 10% (clashes that day differ between the
    runs). What the win does to his staying in politics is a reported output
    (sim/analysis/counterfactual_outputs.py)."""
    p = make_params({})
    sc = load_scenario("seed_timeline")
    e = day_of(sc, "election")
    base, flat = r.run(sc), r.run(with_seats(sc, "sadrist", (54, 54)))
    drop = float((flat.daily["sadr_grievance"][e] - base.daily["sadr_grievance"][e]).mean())
    expected = p.election_shock * p.election_gain_relief * 19 / 54 * float(rules.decay(p.grievance_half_life))
    return Outcome(within(drop, 0.9 * expected, 1.1 * expected),
                   f"grievance lower by {drop:.4f}; declared arithmetic {expected:.4f} (within 10%)")


def attack_angers_sadr(r: Runner) -> Outcome:
    """WIRING, not evidence (it was part of the pattern attack_angers_sadr, which read attack_sadr_grievance and
    grievance_half_life back): against seed_timeline without the attack (paired runs), Sadr's grievance at the
    end of the attack's day is higher by attack_sadr_grievance after one day's relaxation (within 10%), and a
    fortnight on by at least 0.9 x that x 2^(-14 / grievance_half_life) (the attack's later effects through the
    rivalry and clashes add to it; clipping at 1 in runs already near the top takes a little off, hence 0.9).
    The attack's effect on the clash risk is a reported output."""
    p = make_params({})
    sc = load_scenario("seed_timeline")
    a = day_of(sc, "attack")
    g, g0 = r.run(sc).daily["sadr_grievance"], r.run(sc.without("attack")).daily["sadr_grievance"]
    jump, later = float((g[a] - g0[a]).mean()), float((g[a + 14] - g0[a + 14]).mean())
    expected = p.attack_sadr_grievance * float(rules.decay(p.grievance_half_life))
    floor = 0.9 * expected * 2.0 ** (-14 / p.grievance_half_life)
    ok = within(jump, 0.9 * expected, 1.1 * expected) and later >= floor
    return Outcome(ok, f"grievance up {jump:.4f} on the day (declared {expected:.4f}, within 10%), {later:.4f} a "
                       f"fortnight on (at least {floor:.4f})")  # fmt: skip


def election_loss_rouses_the_militias(r: Runner) -> Outcome:
    """WIRING, not evidence (it was the pattern election_violence, whose decay bound read grievance_half_life
    back): in election_loss the losing camp's violence over weeks 1-4 after the vote exceeds the fortnight before.
    By construction: the loss adds election_shock x 31/48 to its grievance."""
    sc = load_scenario("election_loss")
    e = day_of(sc, "election")
    v = r.run(sc).daily["violence"].mean(axis=1)
    before, weeks = v[e - 14 : e].mean(), v[e + 1 : e + 29].mean()
    return Outcome(weeks > before, f"violence {before:.4f} before, {weeks:.4f} in weeks 1-4")


def visit_calms_less_when_independent(r: Runner) -> Outcome:
    """WIRING, not evidence (the sign of the old pattern visit_calms, whose size read the leverage formula back:
    (1 - 0.8) / (1 - 0.45)): in attack_and_intervention the visit (against a patron unable to act that day, its
    attention shocked to 0) lowers the militias' violence over the next two weeks, and lowers it less at
    militia_independence 0.8 than at 0.45. By construction: leverage is influence x loyalty x (1 - independence).
    The sizes are a reported output."""
    cut = {ind: visit_cut(r, ind) for ind in (0.45, 0.8)}
    return Outcome(cut[0.45] > 0 and cut[0.8] < cut[0.45],
                   f"share of violence cut {cut[0.45]:.3f} at independence 0.45, {cut[0.8]:.3f} at 0.8")


def visit_cut(r: Runner, independence: float) -> float:
    """The share of the militias' violence over the two weeks after the attack that the visit removes, in
    attack_and_intervention at ``independence``, against a patron unable to act that day."""
    sc = load_scenario("attack_and_intervention")
    a = day_of(sc, "attack")
    blocked = with_event(sc, day=a, kind="shock", label="patron busy",
                         data={"actor": "patron", "variable": "attention", "delta": -1.0})  # fmt: skip
    w = slice(a + 1, a + 15)
    acting = r.run(sc, militia_independence=independence).daily["violence"][w].mean()
    unable = r.run(blocked, militia_independence=independence).daily["violence"][w].mean()
    return 1.0 - acting / max(unable, 1e-9)


def kss_leads_attacks_on_us(r: Runner) -> Outcome:
    """WIRING, not evidence (it was a pattern whose bounds read KSS's hostility_us back: no source attributes the
    attacks, seeds/record.yaml not_covered): on seed_timeline KSS, given the highest hostility to US forces in
    the militia table (¶22), carries the largest share of the attacks on US assets."""
    runs = r.run("seed_timeline").runs
    shares = {k: float(runs[f"attacks_us_{k}"].sum()) for k in MILITIA_KEYS}
    return Outcome(max(shares, key=shares.get) == "kss", "attacks on US by militia: " + ", ".join(
        f"{k} {v:.0f}" for k, v in shares.items()))  # fmt: skip


def patron_answers_clashes(r: Runner) -> Outcome:
    """WIRING, not evidence (the pattern's bounds were a judgement: the record has no clash to see an answer to):
    on seed_timeline, of the runs with a clash, the patron intervenes within a week of the first clash (that day
    included) more often than in a week after the vote taken at random. By construction: a clash raises the
    rivalry and Sadr's mobilisation, both in the tension the patron reads."""
    sc = load_scenario("seed_timeline")
    res = r.run(sc)
    iv, first = res.daily["intervened"], res.runs["first_clash_day"]
    runs = np.flatnonzero(first >= 0)
    after = mean_of(np.array([iv[first[i] : first[i] + 8, i].any() for i in runs]))
    weeks = np.lib.stride_tricks.sliding_window_view(iv[day_of(sc, "election") :], 8, axis=0).any(axis=-1).mean()
    return Outcome(after > weeks, f"intervention within a week of the first clash {after:.3f} ({len(runs)} runs); "
                                  f"in any week after the vote {weeks:.3f}")  # fmt: skip


WIRING: dict[str, Callable[[Runner], Outcome]] = {
    "visit_on_attack_day": visit_on_attack_day,
    "quiet_boycott": quiet_boycott,
    "sadr_order_sends_wing_home": sadr_order_sends_wing_home,
    "election_win_calms_sadr": election_win_calms_sadr,
    "attack_angers_sadr": attack_angers_sadr,
    "election_loss_rouses_the_militias": election_loss_rouses_the_militias,
    "visit_calms_less_when_independent": visit_calms_less_when_independent,
    "kss_leads_attacks_on_us": kss_leads_attacks_on_us,
    "patron_answers_clashes": patron_answers_clashes,
}


def run_all(runner: Runner, names: Sequence[str] | None = None) -> dict[str, Outcome]:
    """Every observation (or those named) on one runner."""
    return {name: OBSERVATIONS[name](runner) for name in (names or OBSERVATIONS)}
