"""Calibration on the record's counts and dates (seeds/record.yaml) by ABC-SMC (sim/analysis/abc_smc.py) on the
record_2021 scenario (1 January 2021 to 31 January 2022, day 0 = 1 January 2021), run with the compiled engine;
what the posterior says, with both parts of each interval; and forecasts from cut-offs that do not peek.

The statistics are a declared list (``statistics`` below): each names what it counts in a run (a daily series
summed over a period, or a per-run outcome), the record's interval for it, the record.yaml entries that interval
comes from and the day it was known (the latest of those entries' publication days). A quantity is read over
disjoint windows; beside the counts, yes/no patterns of the one history (``patterns``: pattern-oriented ABC, the
observations of tests/patterns.py the counts do not read). The distance is the sum over statistics of how far a
run's value falls outside the record's interval, each in units of a scale adapted to the population every
generation; the yes/no facts of seeds/targets.yaml are hard constraints (a run that breaks one has distance inf).

What the headline reports is left out of the calibration behind it: the headline is P(escalation) over the
article's window, so its posterior is calibrated without the record's clash outcome (``no_civil_war`` and the nil
count of clash-days, ``OUTCOME``): the outcome then tests the model instead of being fitted by it. The same
calibration with the outcome in is reported beside it.

With a cut-off only the statistics the record had closed, and whose sources had been published, by then enter;
the model then forecasts what followed, from a scenario holding only what was known at the cut-off (events
scheduled by then, the vote's seats drawn from what was expected) and, declared as such, from the scenario as it
happened; both are scored against naive baselines with proper scores (ranked probability score for counts, Brier
and log scores for a clash and for escalation)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import abc_smc
from sim.analysis import calibration as cal
from sim.model import priors
from sim.model import record as rec
from sim.model.params import MILITIA_KEYS, ParameterError
from sim.model.scenario import Scenario, load_scenario
from sim.model.structures import MECHANISMS
from sim.run import uncertainty
from sim.run.simulate import chunk_size_for
from sim.run.storage import atomic_write_parquet, atomic_write_text

SCENARIO = "record_2021"
SEED_WINDOW = (date(2021, 7, 1), date(2022, 1, 31))  # the article's window, where targets.yaml's facts apply
REFUSING = ("badr", "aah")  # the two leaders the commander told to accept the results (the article's ¶6, ¶19)
DAILY = ("attacks_us_today", "attacks_state_today", "intervened", "clash", "participating",
         *(f"contests_{MILITIA_KEYS.index(k)}" for k in REFUSING))  # fmt: skip
FORECAST_CUTOFF = date(2021, 10, 10)  # the election
CUTOFFS = (date(2021, 7, 1), date(2021, 10, 10))  # the forecasts the one command makes
OUTCOME = ("clash_days", "no_civil_war")  # what the headline reports: left out of the calibration behind it
INDEPENDENCE_LEVELS = (0.1, 0.3, 0.5, 0.7, 0.9)  # the patron's effect against militia independence


@dataclass(frozen=True)
class Statistic:
    """One count of a run against the record. ``source``: 'daily:<column>' (the column summed over
    [start, end]) or 'run:<outcome>' (a per-run outcome over the whole scenario). ``low``/``high``: the
    record's interval (high may be inf). ``scale``: the floor of the distance's unit (about one Poisson
    standard deviation of the count, or a week for a duration); the unit itself adapts each generation.
    ``entries``: the record.yaml ids the interval comes from; ``reading``: how the interval is read from them;
    ``known_from``: the day all those entries had been published. ``dated``: ids of dated events inside the
    window whose count the interval is (a cut-off inside the window shortens it to the events before it)."""

    name: str
    source: str
    start: date
    end: date
    low: float
    high: float
    scale: float
    entries: tuple[str, ...]
    reading: str
    zero_divides: bool = False  # a nil count: it holds for any part of its period (so a cut-off may shorten it)
    known_from: date = date(2021, 1, 1)
    dated: tuple[str, ...] = ()
    pattern: str = ""  # the observation of tests/patterns.py this yes/no statistic carries into the distance

    def value(self, runs: Mapping, daily: Mapping, scenario: Scenario) -> np.ndarray:
        kind, col = self.source.split(":")
        if kind == "run":
            return np.asarray(runs[col], dtype=float)
        a, b = _days(scenario, self.start, self.end)
        if kind == "daily":
            return np.asarray(daily[col][a : b + 1], dtype=float).sum(axis=0)
        # a yes/no pattern: every listed column ("+") holds on some day of the window ("any") or on each ("all")
        held = np.logical_and.reduce([np.asarray(daily[c][a : b + 1]).astype(bool) for c in col.split("+")])
        return (held.any(axis=0) if kind == "any" else held.all(axis=0)).astype(float)

    def distance(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(np.maximum(self.low - x, x - self.high), 0.0) / self.scale

    def describe(self) -> str:
        hi = "" if math.isinf(self.high) else f"{self.high:g}"
        interval = f"{self.low:g}" if self.low == self.high else f"[{self.low:g}, {hi or 'open'}]"
        return f"{self.name} = {interval}"


def _days(scenario: Scenario, start: date, end: date) -> tuple[int, int]:
    s0 = date.fromisoformat(str(scenario.start)[:10])
    a, b = (start - s0).days, (end - s0).days
    if a < 0 or b >= scenario.days:
        raise ParameterError(f"{start}..{end} is outside the scenario {scenario.name} ({s0}, {scenario.days} days)")
    return a, b


def _stat(record: rec.Record, name: str, source: str, entry_id: str, scale: float | None = None, reading: str = "",
          more: tuple[str, ...] = (), dated: tuple[str, ...] = (), **kw) -> Statistic:  # fmt: skip
    """A statistic whose period and interval are one record entry's own."""
    e = record[entry_id]
    lo, hi = e.interval
    mid = lo if math.isinf(hi) else (lo + hi) / 2
    known = rec.known_from([record[i] for i in (entry_id, *more)])
    return Statistic(name, source, e.start, e.end, float(lo), float(hi), scale or max(1.0, math.sqrt(mid)),
                     (entry_id, *more), reading or "the entry's interval", known_from=known, dated=dated,
                     **kw)  # fmt: skip


def statistics(outcome: bool = True) -> list[Statistic]:
    """The declared statistics of the record_2021 scenario (seeds/record.yaml ids in each). Attacks on US
    interests in the record's one definition (sites; convoys are their own kind) on disjoint windows; each other
    count once. ``outcome=False`` leaves out what the headline reports (``OUTCOME``)."""
    record = rec.load_record()
    r = record
    visits_h1 = (r["ghaani_visit_2021_04_05"], r["ghaani_visit_2021_06_09"])
    out = [
        _stat(r, "attacks_us_2021_01_01_to_06_30", "daily:attacks_us_today", "us_sites_2021_h1",
              more=("us_sites_dated_2021_h1", "us_tally_jpost_2021_06_22", "us_tally_anadolu_2021_06_06")),
        _stat(r, "attacks_us_2021_07_05_to_07_08", "daily:attacks_us_today", "us_attacks_wave_2021_07_05_08"),
        _stat(r, "attacks_us_2021_07_09_to_10_30", "daily:attacks_us_today", "us_attacks_2021_07_09_10_30",
              more=("us_attack_harir_2021_07_23", "us_attack_green_zone_2021_07_29", "us_attack_erbil_2021_09_11"),
              dated=("us_attack_harir_2021_07_23", "us_attack_green_zone_2021_07_29", "us_attack_erbil_2021_09_11")),
        _stat(r, "attacks_us_2021_10_31_to_12_31", "daily:attacks_us_today", "us_attacks_2021_10_31_12_31",
              more=("us_attack_green_zone_2021_10_31", "us_attack_green_zone_2021_12_19"),
              dated=("us_attack_green_zone_2021_10_31", "us_attack_green_zone_2021_12_19")),
        _stat(r, "attacks_us_2022_01", "daily:attacks_us_today", "us_attacks_jan_2022", scale=math.sqrt(7),
              more=("us_attack_airport_2022_01_28",)),
        Statistic("attacks_state_2021_01_to_2022_01", "daily:attacks_state_today", date(2021, 1, 1),
                  date(2022, 1, 31), 1, 3, 1.0, ("speaker_home_rockets_2022_01_25", "pm_residence_drone_2021_11_07"),
                  "major attacks on the state and its leaders (7.8) that the scenario does not force: the rockets on "
                  "the speaker's home (25 January 2022); the drone on the PM's home is forced, not counted; we allow 2 "
                  "unreported. The office grenades of January 2022 are below-clash violence, not major attacks.",
                  known_from=r["speaker_home_rockets_2022_01_25"].published),
        _stat(r, "boycott_days", "run:boycott_days", "sadr_boycott_duration_2021", scale=7.0,
              reading="43 days from announcement to reversal; the scale's floor is a week"),
        Statistic("patron_visits_2021_01_to_06", "daily:intervened", date(2021, 1, 1), date(2021, 6, 30), 2, math.inf,
                  math.sqrt(2), tuple(v.id for v in visits_h1),
                  "the two reported trips of the first half (April, June): at least 2, his trips being often "
                  "unannounced", known_from=rec.known_from(visits_h1)),
        _stat(r, "patron_visits_2021_07_to_2022_01", "daily:intervened", "ghaani_visits_in_model_window",
              scale=math.sqrt(3)),
        Statistic("us_strike_rounds", "run:retaliations", date(2021, 1, 1), date(2022, 1, 31), 2, 2, math.sqrt(2),
                  ("us_strike_rounds_2021_h1", "us_strikes_2021_06_27"),
                  "2 rounds to the end of June (the entry) and none in Iraq after (the note of us_strikes_2021_06_27)",
                  known_from=rec.known_from([r["us_strike_rounds_2021_h1"], r["us_strikes_2021_06_27"]])),
        _stat(r, "clash_days", "daily:clash", "intra_shia_clashes_none_2021_01_2022_01", scale=1.0, zero_divides=True,
              reading="none found in the window: every clash-day counts"),
        *patterns(r),
    ]  # fmt: skip
    return [s for s in out if outcome or s.name not in OUTCOME]


def patterns(record: rec.Record) -> list[Statistic]:
    """Pattern-oriented ABC: the observations of tests/patterns.py that the counts above do not already read, each
    a yes/no of the one history (1: it happened), missed at a cost of one unit (the scale's floor: a yes/no is
    counted in ones). Each reads a quantity of its own (when, not how many), so it may share days with a count.
    Left out: the attack's visit (a hard constraint already), its named leaders (the compiled engine does not
    record whom a visit reached), the tallies of early 2021 (nested windows of the sites count) and the week of
    office attacks (the count of attacks on the state reads them as below-clash violence, not major attacks)."""
    attack = record["pm_residence_drone_2021_11_07"].start
    eve = attack - timedelta(days=1)
    talks = record["ghaani_visit_2022_01_16"]
    refusing = "+".join(f"contests_{MILITIA_KEYS.index(k)}" for k in REFUSING)
    return [
        Statistic("visit_2021_10_10_to_10_11", "any:intervened", date(2021, 10, 10), date(2021, 10, 11), 1, 1, 1.0,
                  ("ghaani_visit_2021_10_11",), "a visit on the vote's day or the next (the commander was in Baghdad "
                  "on 11 October)", known_from=rec.known_from([record["ghaani_visit_2021_10_11"]]),
                  pattern="visit_after_the_vote"),
        Statistic(f"refusing_{eve:%Y_%m_%d}", f"all:{refusing}", eve, eve, 1, 1, 1.0,
                  ("green_zone_clash_2021_11_05", "ghaani_visit_2021_11_07"),
                  "Badr and AAH both refusing the results on the eve of the attack: their supporters' sit-in against "
                  "the results clashed with the security forces on 5 November, and the commander came to tell their "
                  "leaders to accept them (the article's ¶3, ¶6, ¶19)",
                  known_from=rec.known_from([record["green_zone_clash_2021_11_05"],
                                             record["ghaani_visit_2021_11_07"]]),
                  pattern="refusing_at_the_visit"),
        Statistic("visit_2022_01_16_to_01_18", "any:intervened", talks.start, talks.end, 1, 1, 1.0, (talks.id,),
                  "a visit in the days the commander was back in Iraq after the coalition talks",
                  known_from=rec.known_from([talks]), pattern="visit_after_the_coalition_talks"),
        Statistic("in_politics_2022_01_31", "all:participating", date(2022, 1, 31), date(2022, 1, 31), 1, 1, 1.0,
                  ("party_office_attacks_2022_01_13_19",),
                  "Sadr's bloc in politics on the record's last day (it led the coalition talks, the article's ¶25, "
                  "and its allies' offices were attacked after the new parliament's first session)",
                  known_from=date(2022, 1, 31), pattern="sadr_in_politics"),
    ]  # fmt: skip


def up_to(stats: Sequence[Statistic], cutoff: date | None) -> list[Statistic]:
    """The statistics the record had closed, with sources published, by ``cutoff``. A nil count is shortened to
    the cut-off (with the known-from day of what was published by then); a count of dated events is shortened to
    the events dated and published by then, keeping its allowance for unreported ones."""
    if cutoff is None:
        return list(stats)
    record = rec.load_record()
    out = []
    for s in stats:
        if s.end <= cutoff and s.known_from <= cutoff:
            out.append(s)
        elif s.zero_divides and s.start <= cutoff:
            # what was published by the cut-off said the same (no clash found): the nil holds for the days before
            out.append(replace(s, name=f"{s.name}_to_{cutoff:%m_%d}", end=cutoff, known_from=cutoff,
                               reading=s.reading + f"; shortened to {cutoff}"))  # fmt: skip
        elif s.dated and s.start <= cutoff:
            seen = [record[i] for i in s.dated if record[i].on <= cutoff and record[i].published <= cutoff]
            allowance = s.high - len(s.dated)
            n = float(len(seen))
            out.append(replace(s, name=f"{s.name}_to_{cutoff:%m_%d}", end=cutoff, low=n, high=n + allowance,
                               entries=tuple(e.id for e in seen) or s.entries[:1],
                               known_from=max([e.published for e in seen], default=s.start),
                               reading=f"the {len(seen)} dated attacks published by {cutoff}, up to "
                                       f"{allowance:g} unreported"))  # fmt: skip
    return out


# ----------------------------------------------------------------------------- the yes/no facts on record_2021


def _window_sum(daily: Mapping, col: str, scenario: Scenario, start: date, end: date) -> np.ndarray:
    a, b = _days(scenario, start, end)
    return np.asarray(daily[col][a : b + 1]).sum(axis=0)


FACT_STATISTICS: dict[str, Callable[[Mapping, Mapping, Scenario], np.ndarray]] = {
    **cal.STATISTICS,
    # the facts' counts are over the article's window (July 2021 to January 2022), not the whole scenario
    "interventions": lambda runs, daily, sc: _window_sum(daily, "intervened", sc, *SEED_WINDOW),
    "attacks_us": lambda runs, daily, sc: _window_sum(daily, "attacks_us_today", sc, *SEED_WINDOW),
}
FACT_END = {  # the day by which each fact is settled (for a cut-off)
    "no_civil_war": SEED_WINDOW[1], "boycott_over_by_the_vote": date(2021, 10, 10),
    "visit_after_the_attack": date(2021, 11, 8), "occasional_crisis_interventions": SEED_WINDOW[1],
    "attacks_on_us_assets": SEED_WINDOW[1],
}  # fmt: skip


def facts(cutoff: date | None = None, outcome: bool = True) -> list[cal.Target]:
    """targets.yaml's yes/no facts settled by ``cutoff`` (all of them without one); ``outcome=False`` leaves out
    the one the headline reports (no civil war)."""
    return [t for t in cal.load_targets()
            if (cutoff is None or FACT_END[t.id] <= cutoff) and (outcome or t.id not in OUTCOME)]  # fmt: skip


def observed(stats: Sequence[Statistic]) -> abc_smc.Observed:
    return abc_smc.Observed([s.low for s in stats], [s.high for s in stats], [s.scale for s in stats])


def run_table(runs: Mapping, daily: Mapping, scenario: Scenario, stats: Sequence[Statistic],
              targets: Sequence[cal.Target]) -> dict[str, np.ndarray]:  # fmt: skip
    """Per run: each statistic's value, whether each fact holds, and ``ok`` (every fact held)."""
    out: dict[str, np.ndarray] = {s.name: s.value(runs, daily, scenario) for s in stats}
    ok = np.ones(len(np.asarray(runs["escalated"])), dtype=bool)
    for t in targets:
        met = t.met(FACT_STATISTICS[t.statistic](runs, daily, scenario))
        out[f"met_{t.id}"] = met
        ok &= met
    out["ok"] = ok
    return out


# ----------------------------------------------------------------------------- simulation with the compiled engine


def value_table(names: Sequence[str], values: np.ndarray, models: np.ndarray | None = None) -> pd.DataFrame:
    """Parameter values (n, d) as a factor table, whole-number priors as ints; with ``models`` (indices into
    structure_list()) the rows also carry their structure's ``structure_<mechanism>`` codes, and the values a
    row's structure does not use are left empty (NaN)."""
    table = priors.all_priors()
    cols = {n: (values[:, k].astype(int) if table[n].dist == "integer" else values[:, k]) for k, n in enumerate(names)}
    out = pd.DataFrame(cols)
    if models is None:
        return out
    structs = structure_list()
    for mech in MECHANISMS:
        out[mech.param] = [structs[int(m)].codes()[mech.param] for m in models]
    for k, s in enumerate(structs):
        unused = [n for n in names if n not in priors.priors(s)]
        rows = np.asarray(models) == k
        if unused and rows.any():
            out.loc[rows, unused] = np.nan
    return out


def to_values(names: Sequence[str]) -> Callable[[np.ndarray], np.ndarray]:
    table = priors.all_priors()
    return lambda u: np.column_stack([table[n].ppf(u[:, k]) for k, n in enumerate(names)])


def structure_list() -> list[Any]:
    """The structures the model choice weighs: today's (the default, first) and, for every rival alternative of
    sim/model/structures.py, today's with only that mechanism changed. Not every combination: with six mechanisms
    that would be 64 structures, too many for the record's few counts to tell apart at 2,000 particles, and a
    rival's probability then reads as the evidence for that one mechanism's theory against today's."""
    from sim.model.structures import single_changes

    return single_changes()


def row_sets(table: pd.DataFrame, fixed: Mapping[str, Any] | None = None) -> uncertainty.ParameterSets:
    """ParameterSets from a factor table whose rows may run different structures: each row's empty values (those
    its structure does not use) are left at their defaults; ``fixed`` values win over the table's."""
    from sim.model.params import make_militias, make_params

    values = table.drop(columns=[c for c in ("weight", "model") if c in table.columns])
    params, militias = [], []
    for i, row in enumerate(values.to_dict("records")):
        row = {k: v for k, v in row.items() if not (isinstance(v, float) and math.isnan(v))}
        whole = {k for k, pr in priors.all_priors().items() if pr.dist == "integer"}
        for k, v in row.items():  # whole numbers read back from a table with empty cells come as floats
            if k.startswith("structure_") or k in whole:
                row[k] = int(v)
        p, m = priors.split_factors({**row, **dict(fixed or {})})
        try:
            params.append(make_params(p))
            militias.append(make_militias(m))
        except ParameterError as exc:
            raise ParameterError(f"set {i}: {exc}") from None
    weights = table["weight"].to_numpy(dtype=float) if "weight" in table.columns else np.ones(len(table))
    return uncertainty.ParameterSets(params, militias, weights, values.reset_index(drop=True), "calibration")


def generation_seed(seed: int, t: int) -> int:
    return int(np.random.SeedSequence([seed, t, 18]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def run_blocks(scenario: Scenario, table: pd.DataFrame, seed: int, replicates: int, first: int,
               each: Callable[[np.ndarray, np.ndarray, Any], dict[str, np.ndarray]], workers: int | None = None,
               fixed: Mapping[str, Any] | None = None, budget_mb: float = 1024,
               keys: np.ndarray | None = None) -> pd.DataFrame:  # fmt: skip
    """Every row of ``table`` (a factor table) for R replicates with the compiled engine: row i's replicates are
    (first + i) * R + r under ``seed``, so a row's runs depend on its values, the seed and its index only (not
    on blocks or threads; ``keys``: each row's own index instead of first + i). ``each(rows, replicates, result)``
    turns a block's result into columns."""
    from sim.engines.compiled import run_batch

    workers = max(1, workers or len(os.sched_getaffinity(0)))
    sets = row_sets(table, fixed)
    keys = np.arange(first, first + len(table)) if keys is None else np.asarray(keys)
    n = len(sets.params)
    per_block = max(1, chunk_size_for(sets.params[0], len(sets.militias[0]), budget_mb) // replicates)
    parts = []
    for lo in range(0, n, per_block):
        block = np.arange(lo, min(lo + per_block, n))
        idx = np.repeat(block, replicates)
        reps = keys[idx] * replicates + np.tile(np.arange(replicates), len(block))
        res = run_batch(scenario, [sets.params[k] for k in idx], [sets.militias[k] for k in idx], seed, reps,
                        daily_columns=DAILY, threads=workers)  # fmt: skip
        parts.append(pd.DataFrame({"row": idx, "replicate": reps, **each(idx, reps, res)}))
    return pd.concat(parts, ignore_index=True)


def simulate_rows(scenario: Scenario, table: pd.DataFrame, seed: int, replicates: int, first: int,
                  stats: Sequence[Statistic], targets: Sequence[cal.Target], workers: int | None = None,
                  fixed: Mapping[str, Any] | None = None, cutoff: date | None = None) -> pd.DataFrame:  # fmt: skip
    """Runs of ``table``'s rows (run_blocks): per run the statistics, facts and ``ok``, attacks on US sites per
    calendar month (us_<YYYY-MM>), the severity ladder, and with a cut-off the months after it (after_<YYYY-MM>,
    the first one partial) and whether the camps clash or escalate between it and the end of the record."""

    def each(idx, reps, res):
        cols = run_table(res.runs, res.daily, scenario, stats, targets)
        keep = {k: res.runs[k] for k in ("escalated", "sustained", "first_clash_day", "clashes", "attacks_us")}
        monthly = monthly_attacks(res.daily["attacks_us_today"], scenario)
        if cutoff is not None:
            nxt = cutoff + timedelta(days=1)
            monthly |= monthly_attacks(res.daily["attacks_us_today"], scenario, nxt, "after")
            clash = np.asarray(res.daily["clash"])
            a, b = _days(scenario, nxt, SEED_WINDOW[1])
            monthly["clash_after_cutoff"] = clash[a : b + 1].sum(axis=0) > 0
            esc_day = np.asarray(res.runs["escalation_day"])
            monthly["escalated_after_cutoff"] = (esc_day >= a) & (esc_day <= b)
        return {**keep, **cols, **monthly}

    out = run_blocks(scenario, table, seed, replicates, first, each, workers, fixed)
    return out.rename(columns={"row": "particle"})


def month_spans(scenario: Scenario, start: date = date(2021, 1, 1)) -> list[tuple[str, date, date]]:
    """(label, first day, last day) of each calendar month of the scenario from ``start``."""
    s0 = date.fromisoformat(str(scenario.start)[:10])
    last = s0 + timedelta(days=scenario.days - 1)
    out, d = [], max(start, s0)
    while d <= last:
        nxt = date(d.year + d.month // 12, d.month % 12 + 1, 1)
        out.append((f"{d:%Y-%m}", d, min(nxt - timedelta(days=1), last)))
        d = nxt
    return out


def monthly_attacks(daily_us: np.ndarray, scenario: Scenario, start: date = date(2021, 1, 1),
                    prefix: str = "us") -> dict[str, np.ndarray]:  # fmt: skip
    out = {}
    for label, a, b in month_spans(scenario, start):
        i, j = _days(scenario, a, b)
        out[f"{prefix}_{label}"] = np.asarray(daily_us[i : j + 1]).sum(axis=0)
    return out


# ----------------------------------------------------------------------------- one calibration


@dataclass(frozen=True)
class Settings:
    particles: int = 2000
    replicates: int = 4
    generations: int = 12
    quantile: float = 0.5
    seed: int = 20211107
    predictive_sets: int = 300
    predictive_replicates: int = 200  # runs per set: the Monte Carlo part of an interval stays small
    check_replicates: int = 20  # runs per set for the predictive checks of the record's counts and the forecasts
    prior_replicates: int = 50  # runs per prior set (the prior rows are context, not the headline)
    independence_sets: int = 200  # posterior sets per level of militia independence
    cutoff: str | None = None  # ISO date: calibrate on the record up to it and forecast what followed
    outcome: bool = False  # calibrate on the outcome the headline reports too (no civil war, no clash-day)
    kernel: str = "mvn"
    adapt_scales: bool = True
    regression: bool = False  # report the regression-adjusted posterior as the posterior
    structures: bool = True  # weigh the rival structures (a model index) when sim/model/structures.py has any
    structure_sets: int = 100  # posterior sets per structure for the per-structure results

    def smc(self) -> abc_smc.Settings:
        return abc_smc.Settings(particles=self.particles, replicates=self.replicates, generations=self.generations,
                                quantile=self.quantile, seed=self.seed, min_acceptance=0.02,
                                min_ess=max(20.0, self.particles / 40), kernel=self.kernel,
                                adapt_scales=self.adapt_scales,
                                models=len(structure_list()) if self.structures else 1)  # fmt: skip


def model_digest() -> str:
    """A digest of what a run's statistics depend on (the model's code, the compiled engine, the scenarios, the
    evidence, the record and the targets): a stored generation made before a change is not reused."""
    import hashlib

    from sim.paths import CONFIG_DIR, SEEDS_DIR

    code = Path(__file__).resolve().parent.parent
    files = sorted([*(code / "model").glob("*.py"), code / "engines" / "compiled.py",
                    *(CONFIG_DIR / "scenario").glob("*.yaml"), *(CONFIG_DIR / "counterfactual").glob("*.yaml"),
                    SEEDS_DIR / "evidence.yaml", SEEDS_DIR / "record.yaml", SEEDS_DIR / "targets.yaml"])  # fmt: skip
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def run_smc(out: Path, settings: Settings, stats: Sequence[Statistic], targets: Sequence[cal.Target],
            workers: int | None = None, log: Callable[[str], None] | None = print,
            scenario: Scenario | None = None) -> tuple[abc_smc.Result, list[str]]:  # fmt: skip
    """ABC-SMC on ``stats`` and ``targets`` over every prior, each generation stored under out/smc (a rerun
    resumes). With ``settings.structures`` and rival mechanisms declared, a particle also carries a structure (a
    model index over structure_list(), uniform prior) and the values are every structure's (a structure ignores
    the ones it does not use). Returns the result and the values' names."""
    scenario = scenario or load_scenario(SCENARIO)
    choice = model_choice(settings)
    names = list(priors.all_priors() if choice else priors.priors())
    fn = to_values(names)
    meta = {"scenario": SCENARIO, "statistics": [asdict(s) for s in stats], "facts": [t.id for t in targets],
            "model": model_digest(), "structures": [s.label() for s in structure_list()] if choice else []}  # fmt: skip
    meta = json.loads(json.dumps(meta, default=str))

    def simulate(values: np.ndarray, t: int, idx: np.ndarray, models: np.ndarray):
        table = value_table(names, values, models if choice else None)
        runs = simulate_rows(scenario, table, generation_seed(settings.seed, t), settings.replicates, 0, stats,
                             targets, workers)  # fmt: skip
        n, R = len(idx), settings.replicates
        x = np.stack([runs[s.name].to_numpy(dtype=float).reshape(n, R) for s in stats], axis=-1)
        return x, runs["ok"].to_numpy().reshape(n, R)

    res = abc_smc.run(names, fn, simulate, observed(stats), settings.smc(), store=Path(out) / "smc", meta=meta,
                      log=log)  # fmt: skip
    return res, names


STRUCTURE_MIN = 0.05  # a structure with less posterior probability gets no results of its own


def prior_draws(names: Sequence[str], n: int, seed: int, choice: bool) -> pd.DataFrame:
    """``n`` sets from the prior (a Latin hypercube over ``names``); with model choice, the structures in turn (a
    uniform prior over them)."""
    if not choice:
        return pd.DataFrame(priors.sample(n, seed))
    from scipy.stats import qmc

    u = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(seed)).random(n)
    models = np.arange(n) % len(structure_list())
    return value_table(names, to_values(names)(u), models).assign(model=models)


def model_choice(settings: Settings) -> bool:
    """Whether the calibration weighs the rival structures: asked for, and some mechanism has an alternative."""
    return settings.structures and len(structure_list()) > 1


def posterior_sample(res: abc_smc.Result, names: Sequence[str], stats: Sequence[Statistic],
                     regression: bool = False) -> pd.DataFrame:  # fmt: skip
    """The posterior as a factor table with weights (and, with model choice, each set's structure: ``model`` and
    the ``structure_<mechanism>`` codes): the pooled particles, or the regression-adjusted runs."""
    fn = to_values(names)
    if regression:
        u, w = abc_smc.regression_adjusted(res, observed(stats))
        post = pd.DataFrame(fn(u), columns=list(names)).assign(weight=w)
        models = None  # the adjusted runs are not tied to particles' structures here
    else:
        post = abc_smc.posterior_table(res, names, fn)
        models = post["model"].to_numpy() if "model" in post.columns else None
    table = value_table(names, post[names].to_numpy(), models)
    if models is not None:
        table["model"] = models
    return pd.concat([table, post[["weight"]]], axis=1)


def structure_table(res: abc_smc.Result, settings: Settings) -> pd.DataFrame:
    """Each structure's posterior probability (the weight its particles carry), its Monte Carlo standard error
    (binomial at the posterior's effective sample size) and the Bayes factor against the default."""
    structs = structure_list()
    p = res.model_probabilities(len(structs))
    ess = res.pooled_ess()
    return pd.DataFrame({"structure": [s.label() for s in structs], "model": range(len(structs)),
                         **{m.name: [s[m.name] for s in structs] for m in MECHANISMS},
                         "probability": p, "prior": 1 / len(structs), "se": np.sqrt(p * (1 - p) / ess),
                         "bayes_factor_vs_default": p / p[0] if p[0] > 0 else np.inf,
                         "posterior_ess": ess})  # fmt: skip


def informed(u: np.ndarray, w: np.ndarray, names: Sequence[str], bins: int = 10, draws: int = 400,
             seed: int = 1) -> pd.DataFrame:  # fmt: skip
    """What the record tells about each value: its posterior's total-variation distance from the prior in the unit
    cube (where the prior is flat) and the overlap 1 - TV ("what the record cannot tell": 1 = the posterior is
    the prior), against the distance a sample of the posterior's effective size drawn from the prior gives (the
    null: no information, only sampling noise). Informed: above the null's 99th percentile and at least
    calibration.MATERIAL_TV."""
    table = priors.all_priors()
    ess = max(2, round(1 / np.sum(w**2)))
    rng = np.random.default_rng(seed)
    rows = []
    for k, name in enumerate(names):
        p = table[name]
        nb = int(p.high) - int(p.low) + 1 if p.dist == "integer" else bins
        hist = np.bincount(np.minimum((u[:, k] * nb).astype(int), nb - 1), weights=w, minlength=nb) / w.sum()
        tv = 0.5 * float(np.abs(hist - 1 / nb).sum())
        null = 0.5 * np.abs(rng.multinomial(ess, np.full(nb, 1 / nb), size=draws) / ess - 1 / nb).sum(axis=1)
        cut = float(np.quantile(null, 0.99))
        values = p.ppf(u[:, k])
        lo, hi = (abc_smc.weighted_quantile(values, w, q) for q in (0.05, 0.95))
        rows.append({"factor": name, "tv_distance": tv, "overlap": 1.0 - tv, "null_99": cut,
                     "informed": bool(tv > cut and tv >= cal.MATERIAL_TV), "prior_mean": cal._prior_mean(p),
                     "posterior_mean": float(np.average(values, weights=w)), "posterior_q05": lo,
                     "posterior_q95": hi, "prior_low": p.low, "prior_high": p.high})  # fmt: skip
    return pd.DataFrame(rows).sort_values("tv_distance", ascending=False).reset_index(drop=True)


def _pooled_u(res: abc_smc.Result) -> tuple[np.ndarray, np.ndarray]:
    return res.pooled()


# ----------------------------------------------------------------------------- intervals with both parts


def interval_parts(per_set: np.ndarray, replicates: int, level: float = 0.9) -> dict[str, float]:
    """A probability estimated per parameter set from R runs each, split by the law of total variance: the
    variance of the per-set estimates is the variance of the sets' true probabilities (parameter uncertainty)
    plus the mean binomial variance p (1 - p) / R (Monte Carlo noise). The parameter part's interval is that of a
    beta distribution with the sets' mean and their variance less the noise (method of moments); the noise part
    is the binomial standard deviation of one set's estimate and of the pooled mean."""
    from scipy.stats import beta

    p = np.asarray(per_set, dtype=float)
    m = float(p.mean())
    total = float(p.var(ddof=1)) if len(p) > 1 else 0.0
    noise = float(np.mean(p * (1 - p)) / max(replicates - 1, 1))  # unbiased for p (1 - p) / R
    param = max(total - noise, 0.0)
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    if param <= 1e-12 or m <= 0 or m >= 1:
        lo, hi = m, m
    else:
        k = m * (1 - m) / param - 1
        if k <= 0:  # as wide as a probability can be: the sets are 0 or 1
            lo, hi = float(np.quantile(p, lo_q)), float(np.quantile(p, hi_q))
        else:
            lo, hi = (float(x) for x in beta.ppf([lo_q, hi_q], m * k, (1 - m) * k))
    return {"mean": m, "param_q05": lo, "param_q95": hi, "var_total": total, "var_param": param, "var_mc": noise,
            "param_share": param / total if total > 0 else 0.0,
            "mc_sd_per_set": math.sqrt(noise * max(replicates - 1, 1) / replicates),
            "mc_sd_pooled": math.sqrt(max(m * (1 - m), 0.0) / (len(p) * replicates)),
            "raw_q05": float(np.quantile(p, lo_q)), "raw_q95": float(np.quantile(p, hi_q)),
            "sets": len(p), "replicates": replicates}  # fmt: skip


def paired_parts(diff_runs: np.ndarray, level: float = 0.9) -> dict[str, float]:
    """A paired effect (each set's runs under two counterfactuals, the same keyed random numbers): ``diff_runs``
    (sets, R) of per-run differences (-1, 0, 1). The sets' mean differences vary by parameter uncertainty plus
    Monte Carlo noise (each set's noise: the variance of its run differences / R); the parameter part's interval
    is a normal one with the sets' variance less the noise; the noise part is one set's and the pooled mean's."""
    from scipy.stats import norm

    d = np.asarray(diff_runs, dtype=float)
    sets, R = d.shape
    per = d.mean(axis=1)
    m = float(per.mean())
    total = float(per.var(ddof=1)) if sets > 1 else 0.0
    noise = float(np.mean(d.var(axis=1, ddof=1)) / R) if R > 1 else 0.0
    param = max(total - noise, 0.0)
    z = norm.ppf((1 + level) / 2)
    return {"mean": m, "param_q05": m - z * math.sqrt(param), "param_q95": m + z * math.sqrt(param),
            "var_total": total, "var_param": param, "var_mc": noise,
            "param_share": param / total if total > 0 else 0.0, "mc_sd_per_set": math.sqrt(noise),
            "mc_sd_pooled": math.sqrt(noise / sets), "raw_q05": float(np.quantile(per, (1 - level) / 2)),
            "raw_q95": float(np.quantile(per, (1 + level) / 2)), "sets": sets, "replicates": R,
            "share_raised": float(np.mean(per > 0)), "share_lowered": float(np.mean(per < 0))}  # fmt: skip


def ladder(scenario: Scenario, table: pd.DataFrame, seed: int, replicates: int, workers: int | None,
           fixed: Mapping[str, Any] | None = None) -> pd.DataFrame:  # fmt: skip
    """Per (set, replicate): escalated, sustained, any clash; every set on the same keyed random numbers."""

    def each(idx, reps, res):
        r = res.runs
        return {"escalated": np.asarray(r["escalated"], bool), "sustained": np.asarray(r["sustained"], bool),
                "any_clash": np.asarray(r["first_clash_day"]) >= 0}  # fmt: skip

    # replicates 0..R-1 for every set (common random numbers across sets and counterfactuals)
    from sim.engines.compiled import run_batch

    sets = row_sets(table, fixed)
    n = len(sets.params)
    per_block = max(1, chunk_size_for(sets.params[0], len(sets.militias[0]), 1024) // replicates)
    parts = []
    for lo in range(0, n, per_block):
        block = np.arange(lo, min(lo + per_block, n))
        idx = np.repeat(block, replicates)
        reps = np.tile(np.arange(replicates), len(block))
        res = run_batch(scenario, [sets.params[k] for k in idx], [sets.militias[k] for k in idx], seed, reps,
                        keep_daily=False, threads=max(1, workers or len(os.sched_getaffinity(0))))  # fmt: skip
        parts.append(pd.DataFrame({"set": idx, "replicate": reps, **each(idx, reps, res)}))
    return pd.concat(parts, ignore_index=True)


# ----------------------------------------------------------------------------- what the posterior says


def headline_cases() -> tuple[tuple[str, str], ...]:
    """The seed timeline under every counterfactual (configs/counterfactual/), "none" first: the README's
    calibrated headline and each counterfactual's calibrated effect."""
    return tuple(("seed_timeline", cf) for cf in sorted(cal.counterfactuals(), key=lambda c: c != "none"))


def escalation_study(draws: Mapping[str, pd.DataFrame], settings: Settings, scenarios: Sequence[tuple[str, str]],
                     workers: int | None = None,
                     levels: Sequence[float] = INDEPENDENCE_LEVELS) -> dict[str, pd.DataFrame]:  # fmt: skip
    """P(escalation) and the severity ladder of each (scenario, counterfactual) for each distribution's sets,
    each set run ``predictive_replicates`` times on the same keyed random numbers; every interval split into
    parameter uncertainty and Monte Carlo noise (interval_parts); each counterfactual's paired effect
    (paired_parts); and the patron's effect (no patron against the history) with militia independence fixed at
    each of ``levels``."""
    esc_rows, eff_rows, ind_rows = [], [], []
    for which, table in draws.items():
        R = settings.predictive_replicates if which == "posterior" else settings.prior_replicates
        runs: dict[tuple[str, str], np.ndarray] = {}
        for scenario_name, cf in scenarios:
            over, drop = cal.counterfactuals()[cf] if cf != "none" else ({}, ())
            base = load_scenario(scenario_name)
            lad = ladder(base.without(*drop) if drop else base, table, settings.seed + 3, R, workers, over)
            lad = lad.sort_values(["set", "replicate"])
            n = lad["set"].nunique()
            row = {"scenario": scenario_name, "counterfactual": cf, "distribution": which}
            for name in ("escalated", "any_clash", "sustained"):
                parts = interval_parts(lad[name].to_numpy().reshape(n, R).mean(axis=1), R)
                row |= {f"{name}_{k}": v for k, v in parts.items()}
            # the columns the other calibration's tables have (the raw middle 90% of the sets' estimates)
            row |= {"p_escalation": row["escalated_mean"], "q05": row["escalated_raw_q05"],
                    "q95": row["escalated_raw_q95"], "median": float(np.median(lad["escalated"].to_numpy()
                                                                              .reshape(n, R).mean(axis=1))),
                    "sets": n, "replicates": R, "p_any_clash": row["any_clash_mean"],
                    "any_clash_q05": row["any_clash_raw_q05"], "any_clash_q95": row["any_clash_raw_q95"],
                    "p_sustained": row["sustained_mean"], "sustained_q05": row["sustained_raw_q05"],
                    "sustained_q95": row["sustained_raw_q95"]}  # fmt: skip
            esc_rows.append(row)
            runs[(scenario_name, cf)] = lad["escalated"].to_numpy().reshape(n, R).astype(float)
        for (scenario_name, cf), x in runs.items():
            base = runs.get((scenario_name, "none"))
            if cf == "none" or base is None:
                continue
            parts = paired_parts(x - base)
            p_base, p_cf = float(base.mean()), float(x.mean())
            eff_rows.append({"scenario": scenario_name, "counterfactual": cf, "distribution": which, **parts,
                             "p_base": p_base, "p_cf": p_cf, "diff": parts["mean"], "diff_q05": parts["raw_q05"],
                             "diff_q95": parts["raw_q95"],
                             "ratio": p_cf / p_base if p_base > 0 else math.inf})  # fmt: skip
        over_np, _ = cal.counterfactuals()["no_patron"]
        sc = load_scenario("seed_timeline")
        table = table.iloc[: settings.independence_sets]
        for level in levels:
            fixed = {"militia_independence": level}
            with_patron = ladder(sc, table, settings.seed + 3, R, workers, fixed).sort_values(["set", "replicate"])
            without = ladder(sc, table, settings.seed + 3, R, workers, {**fixed, **over_np})
            without = without.sort_values(["set", "replicate"])
            n = with_patron["set"].nunique()
            a = with_patron["escalated"].to_numpy().reshape(n, R).astype(float)
            b = without["escalated"].to_numpy().reshape(n, R).astype(float)
            for label, rows in structure_groups(table):
                p = interval_parts(a[rows].mean(axis=1), R)
                ind_rows.append({"distribution": which, "militia_independence": level,
                                 **({"structure": label} if label else {}),
                                 **{f"p_{k}": v for k, v in p.items() if k in ("mean", "param_q05", "param_q95",
                                                                              "mc_sd_pooled")},
                                 **{f"effect_{k}": v for k, v in paired_parts(b[rows] - a[rows]).items()}})  # fmt: skip
    return {"escalation": pd.DataFrame(esc_rows), "effects": pd.DataFrame(eff_rows),
            "independence": pd.DataFrame(ind_rows)}  # fmt: skip


STRUCTURE_MIN_SETS = 10  # fewer sets of a structure among a study's draws: no row of its own


def structure_groups(table: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    """The rows of a table of draws as a whole (label "") and, where the draws carry structures (``model``), each
    structure's own rows: the draws of a joint posterior with structure k are draws of its part for k, so each
    structure's result comes from the same runs as the whole, at no extra cost (a structure with fewer than
    STRUCTURE_MIN_SETS sets gets none)."""
    everything = np.ones(len(table), dtype=bool)
    if "model" not in table.columns:
        return [("", everything)]
    models = table["model"].to_numpy()
    groups = [("", everything)]
    for k, s in enumerate(structure_list()):
        rows = models == k
        if rows.sum() >= STRUCTURE_MIN_SETS:
            groups.append((s.label(), rows))
    return groups


def predictive_checks(runs: pd.DataFrame, stats: Sequence[Statistic]) -> pd.DataFrame:
    """Each statistic's 90% predictive interval under prior and posterior, and whether the record's interval
    meets it (inside: the two intervals overlap)."""
    rows = []
    for s in stats:
        for which, g in runs.groupby("distribution", sort=False):
            x = g[s.name].to_numpy()
            q05, q50, q95 = np.quantile(x, (0.05, 0.5, 0.95))
            rows.append({"statistic": s.name, "distribution": which, "record_low": s.low, "record_high": s.high,
                         "q05": q05, "median": q50, "q95": q95, "mean": float(x.mean()),
                         "share_in_record": float(np.mean((x >= s.low) & (x <= s.high))),
                         "inside": bool(q05 <= s.high and q95 >= s.low), "entries": ", ".join(s.entries)})  # fmt: skip
    return pd.DataFrame(rows)


def monthly_table(runs: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Posterior- and prior-predictive attacks on US sites per calendar month: mean, median, 90% interval."""
    rows = []
    for label, _, _ in month_spans(scenario):
        for which, g in runs.groupby("distribution", sort=False):
            x = g[f"us_{label}"].to_numpy()
            q05, q50, q95 = np.quantile(x, (0.05, 0.5, 0.95))
            rows.append({"month": label, "distribution": which, "mean": float(x.mean()), "median": q50,
                         "q05": q05, "q95": q95})  # fmt: skip
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- forecasts that do not peek


# Events of record_2021 known, at a cut-off, to be coming: the vote (its date set by parliament in January 2021)
# and, once the US-Iraq agreement of 26 July 2021 was public, the end of the US combat mission and with it the
# truce (31 December). Everything else after a cut-off (the boycott, the mediation, the attack on the PM, the
# ratification's day, KSS's deadline, the coalition talks) was not known and is left out of the forecast that
# does not peek; the conditional forecast keeps them as they happened.
SCHEDULED = {"election": date(2021, 1, 19), "truce_ends": date(2021, 7, 26)}
# The vote's seats as expected before it (seeds/record.yaml election_expected_seats_2021): the Sadrists 43-53,
# Fatah second after a clear fall from 48. Our reading: five equally likely outcomes, the Sadrists' gain and
# Fatah's loss going together. Before any poll (a July cut-off): no change from 2018.
EXPECTED_SEATS = {
    date(2021, 10, 5): [{"sadrist": [54, s], "fatah": [48, f]} for s, f in ((43, 38), (45, 34), (47, 30), (50, 26),
                                                                         (53, 22))],
    date(2021, 1, 1): [{"sadrist": [54, 54], "fatah": [48, 48]}],
}  # fmt: skip


def expected_seats(cutoff: date) -> list[dict]:
    known = max(d for d in EXPECTED_SEATS if d <= cutoff)
    return EXPECTED_SEATS[known]


def known_scenarios(cutoff: date) -> list[Scenario]:
    """record_2021 as it could be forecast at ``cutoff``: the events up to it as they happened, the scheduled ones
    after it (SCHEDULED, if announced by then), one variant per expected seat outcome of a vote whose result
    was not out (the result came the day after the vote)."""
    sc = load_scenario(SCENARIO)
    kept = []
    for e in sc.events:
        if e.date <= cutoff and not (e.kind == "election" and e.date >= cutoff):
            kept.append(e)
        elif e.kind == "election" and SCHEDULED["election"] <= cutoff:
            kept.append(e)
        elif e.kind == "truce" and e.data.get("phase") == "ends" and SCHEDULED["truce_ends"] <= cutoff:
            kept.append(e)
    out = []
    for seats in expected_seats(cutoff):
        events = tuple(dataclasses.replace(e, data={**e.data, "seats": seats})
                       if e.kind == "election" and e.date >= cutoff else e for e in kept)  # fmt: skip
        out.append(Scenario(sc.name, sc.description + f" (as known on {cutoff})", sc.start, sc.end, events,
                            sc.emergent))  # fmt: skip
    return out


# attacks on US sites in the record that are not dated one by one: their counts (the wave of 5-8 July, January 2022)
UNDATED_COUNTS = ("us_attacks_wave_2021_07_05_08", "us_attacks_jan_2022")


def observed_months(scenario: Scenario, start: date) -> dict[str, tuple[int, str]]:
    """Attacks on US sites per calendar month from ``start`` as the record has them: the dated attacks plus the
    counts of UNDATED_COUNTS (January 2022's count holds its one dated attack, 28 January)."""
    record = rec.load_record()
    dated = [e for e in record.kind("attacks_us_period") if e.on is not None]
    out = {}
    for label, a, b in month_spans(scenario, start):
        inside = [e for e in dated if a <= e.on <= b]
        n, why = len(inside), [e.id for e in inside]
        for cid in UNDATED_COUNTS:
            e = record[cid]
            if a <= e.start and e.end <= b:
                holds = sum(e.start <= d.on <= e.end for d in inside)
                n += max(0, int(e.low) - holds)
                why.append(f"{cid} (at least {int(e.low)})")
        out[label] = (n, ", ".join(why) or "none dated in the record")
    return out


BASELINE_RATES = {  # attacks on US sites per day as known at each cut-off: (since 1 January, the last quarter)
    date(2021, 7, 1): ((26.5, 181, "us_sites_2021_h1, its middle"),
                       (14, 91, "us_sites_dated_2021_h1: 14 dated from 1 April")),
    date(2021, 10, 10): ((26.5 + 5 + 3, 283, "us_sites_2021_h1's middle, the July wave, 3 dated since"),
                         (3, 93, "us_attacks_2021_07_09_10_30: 23 July, 29 July, 11 September")),
}  # fmt: skip


def rps(samples: np.ndarray, y: float, kmax: int | None = None) -> float:
    """Ranked probability score of an integer forecast given by samples (= CRPS for integer outcomes):
    sum over k of (F(k) - 1{y <= k})^2."""
    samples = np.asarray(samples)
    kmax = int(max(samples.max(initial=0), y)) + 1 if kmax is None else kmax
    k = np.arange(kmax + 1)
    F = np.searchsorted(np.sort(samples), k, side="right") / len(samples)
    return float(np.sum((F - (y <= k)) ** 2))


def rps_poisson(rate: float, y: float) -> float:
    from scipy.stats import poisson

    k = np.arange(int(max(y, poisson.ppf(1 - 1e-12, rate))) + 2)
    return float(np.sum((poisson.cdf(k, rate) - (y <= k)) ** 2))


def log_score_samples(samples: np.ndarray, y: int) -> float:
    """Negative log of the forecast probability of y, from samples with add-one smoothing over 0..max+1."""
    samples = np.asarray(samples, dtype=int)
    support = int(max(samples.max(initial=0), y)) + 2
    counts = np.bincount(samples, minlength=support)[:support] + 1.0
    return float(-np.log(counts[y] / counts.sum()))


def event_scores(p: float, y: int) -> tuple[float, float]:
    """Brier and log score (negative log probability of what happened) of a probability ``p`` for an event."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return (p - y) ** 2, -math.log(p if y else 1 - p)


def forecast_scores(runs: pd.DataFrame, scenario: Scenario, cutoff: date, version: str) -> pd.DataFrame:
    """The calibrated model's forecasts after ``cutoff`` against naive baselines: attacks on US sites per month
    (ranked probability score and log score; Poisson baselines at the record's rate since 1 January and over the
    last quarter, both as known at the cut-off) and any clash or escalation between the camps from the cut-off to
    the end of the record (Brier and log score; baseline: Laplace's rule over the clash-free months before)."""
    from scipy.stats import poisson

    s0 = date.fromisoformat(str(scenario.start)[:10])
    nxt = cutoff + timedelta(days=1)
    (ytd_n, ytd_d, _), (rec_n, rec_d, _) = BASELINE_RATES[cutoff]
    rows = []
    for label, (y, note) in observed_months(scenario, nxt).items():
        a, b = next((a, b) for lab, a, b in month_spans(scenario, nxt) if lab == label)
        days = (b - a).days + 1
        x = runs[f"after_{label}"].to_numpy()
        row = {"cutoff": str(cutoff), "version": version, "target": f"attacks on US sites, {a:%d %b} - {b:%d %b %Y}",
               "kind": "count", "observed": y, "note": note, "model_mean": float(x.mean()),
               "model_q05": float(np.quantile(x, 0.05)), "model_q95": float(np.quantile(x, 0.95)),
               "model_score": rps(x, y), "model_log": log_score_samples(x, y)}  # fmt: skip
        for name, (cnt, span) in (("ytd", (ytd_n, ytd_d)), ("recent", (rec_n, rec_d))):
            lam = cnt / span * days
            row[f"{name}_score"] = rps_poisson(lam, y)
            row[f"{name}_log"] = float(-poisson.logpmf(y, lam))
        rows.append(row)
    months_before = ((cutoff - s0).days + 1) / 30.4
    months_after = (SEED_WINDOW[1] - cutoff).days / 30.4
    p_base = 1 - (1 - 1 / (months_before + 2)) ** months_after
    for col, what in (("clash_after_cutoff", "any clash between the camps"),
                      ("escalated_after_cutoff", "escalation (3 clash-days in 14)")):  # fmt: skip
        n = len(runs)
        p = (float(runs[col].sum()) + 1) / (n + 2)
        brier, logs = event_scores(p, 0)
        b_brier, b_log = event_scores(p_base, 0)
        rows.append({"cutoff": str(cutoff), "version": version, "target": f"{what}, {nxt} to {SEED_WINDOW[1]}",
                     "kind": "event", "observed": 0, "note": "intra_shia_clashes_none_2021_01_2022_01",
                     "model_mean": float(runs[col].mean()), "model_score": brier, "model_log": logs,
                     "ytd_score": b_brier, "ytd_log": b_log, "recent_score": b_brier, "recent_log": b_log})  # fmt: skip
    return pd.DataFrame(rows)


def forecast_runs(post: pd.DataFrame, settings: Settings, cutoff: date, workers: int | None) -> dict[str, pd.DataFrame]:
    """Posterior-predictive runs from ``cutoff`` on: ``unconditional`` from the scenario as known then
    (known_scenarios; the runs split evenly over its seat variants), ``conditional`` from record_2021 as it
    happened (declared: it knows the later events)."""
    table = cal.resample(post, settings.predictive_sets, settings.seed + 2)
    R = settings.check_replicates
    stats, targets = [], []
    out = {}
    variants = known_scenarios(cutoff)
    parts = []
    for v, sc in enumerate(variants):
        per = max(1, R // len(variants))
        part = simulate_rows(sc, table, settings.seed + 5, per, v * settings.predictive_sets, stats, targets,
                             workers, cutoff=cutoff)  # fmt: skip
        parts.append(part.assign(variant=v))
    out["unconditional"] = pd.concat(parts, ignore_index=True)
    out["conditional"] = simulate_rows(load_scenario(SCENARIO), table, settings.seed + 5, R, 0, stats, targets,
                                       workers, cutoff=cutoff)  # fmt: skip
    return out


# ----------------------------------------------------------------------------- the calibration and the study


def _stale(path: Path, meta: Mapping) -> bool:
    if not path.exists():
        return True
    return json.loads(path.read_text()) != json.loads(json.dumps(meta, default=str))


def calibrate(out: Path, settings: Settings, workers: int | None = None, log: Callable[[str], None] | None = print,
              scenarios: Sequence[tuple[str, str]] | None = None, levels: Sequence[float] = INDEPENDENCE_LEVELS,
              prior: bool = True) -> dict[str, Any]:
    """One calibration, each generation stored under out/smc (a rerun resumes): the posterior, its diagnostics,
    what the record tells about each value, posterior-predictive checks of every statistic and the monthly
    attacks; without a cut-off P(escalation) of ``scenarios`` (scenario, counterfactual) under prior and
    posterior (``prior``: the prior's too), every counterfactual's paired effect and the patron's effect against
    independence at ``levels``; with one the forecasts (unconditional and conditional) and their scores."""
    out = Path(out)
    scenarios = headline_cases() if scenarios is None else tuple(scenarios)
    cutoff = date.fromisoformat(settings.cutoff) if settings.cutoff else None
    scenario = load_scenario(SCENARIO)
    outcome = settings.outcome or cutoff is not None  # a forecast's calibration stops before the outcome anyway
    stats, targets = up_to(statistics(outcome), cutoff), facts(cutoff, outcome)
    res, names = run_smc(out, settings, stats, targets, workers, log, scenario)
    seconds = sum(g.seconds for g in res.generations)  # as computed, also when reused from disk
    post = posterior_sample(res, names, stats, settings.regression)
    u, w = res.pooled()
    info = informed(u, w, names)
    diag = {"method": "ABC-SMC (population Monte Carlo) on the record's counts, distance scales adapted each "
                      "generation (Prangle 2017), a kernel from the population's covariance in logit space on the "
                      "informed values and the prior on the others; the yes/no facts as hard constraints",
            "generations": res.schedule(), "stopped": res.stopped, "smc_seconds": seconds,
            "pooled_from_generation": res.generations[res.pool_from].t if res.pool_from >= 0 else res.final.t,
            "posterior_ess": res.pooled_ess(), "final_scales": dict(zip([s.name for s in stats],
                                                                         res.final.scales.tolist(), strict=True)),
            "settings": asdict(settings), "statistics": [s.name for s in stats], "facts": [t.id for t in targets],
            "cutoff": settings.cutoff, "outcome_in_calibration": outcome, "model": model_digest()}  # fmt: skip
    atomic_write_parquet(post, out / "posterior.parquet", {"settings": asdict(settings)})
    atomic_write_parquet(info, out / "informed.parquet")
    choice = model_choice(settings)
    if choice:
        atomic_write_parquet(structure_table(res, settings), out / "structures.parquet")
        for k, s in enumerate(structure_list()):  # one file per structure, for python -m sim params_from=...
            sub = post[post["model"] == k].drop(columns=["model"]).dropna(axis=1, how="all")
            if len(sub):
                atomic_write_parquet(sub.assign(weight=sub["weight"] / sub["weight"].sum()),
                                     out / f"posterior_{s.label().replace('=', '-')}.parquet")  # fmt: skip
    atomic_write_text(out / "diagnostics.json", json.dumps(diag, indent=1, default=str))
    atomic_write_parquet(pd.DataFrame(res.schedule()), out / "generations.parquet", {"stopped": res.stopped})
    every = statistics()
    every += [st for st in stats if st.name not in {e.name for e in every}]  # a cut-off's shortened ones
    pred_meta = {"settings": asdict(settings), "scenarios": [list(s) for s in scenarios], "model": model_digest(),
                 "statistics": [s.name for s in stats], "levels": list(levels), "prior": prior}  # fmt: skip
    result: dict[str, Any] = {"posterior": post, "diagnostics": diag, "informed": info, "statistics": stats,
                              "facts": targets}  # fmt: skip
    if _stale(out / "predictive.json", pred_meta):
        n, R = settings.predictive_sets, settings.check_replicates
        draws = {"prior": prior_draws(names, n, settings.seed + 1, choice),
                 "posterior": cal.resample(post, n, settings.seed + 2)}  # fmt: skip
        runs = pd.concat([simulate_rows(scenario, table, settings.seed + 3, R, 0, every, facts(), workers)
                          .assign(distribution=which) for which, table in draws.items()],
                         ignore_index=True)  # fmt: skip
        atomic_write_parquet(predictive_checks(runs, every), out / "checks.parquet")
        atomic_write_parquet(monthly_table(runs, scenario), out / "monthly.parquet")
        if cutoff is None:
            study = escalation_study({k: v for k, v in draws.items() if prior or k != "prior"}, settings, scenarios,
                                     workers, levels)  # fmt: skip
            whole = "model-averaged" if choice else "default"
            # the independence table holds each structure's rows beside the whole's (structure_groups)
            study = {k: v.assign(structure=v["structure"].fillna(whole) if "structure" in v.columns else whole)
                     for k, v in study.items()}  # fmt: skip
            # per structure: the headline and the patron's effect, from sets drawn from each structure's part of the
            # posterior (against independence, above: the model-averaged sets of each structure)
            if choice and prior:
                probs = structure_table(res, settings)
                for k, s in enumerate(structure_list()):
                    sub = post[post["model"] == k]
                    if probs["probability"].iloc[k] < STRUCTURE_MIN or len(sub) < 5:
                        continue
                    part = escalation_study({"posterior": cal.resample(sub, settings.structure_sets,
                                                                       settings.seed + 4 + k)}, settings,
                                            [("seed_timeline", "none"), ("seed_timeline", "no_patron")], workers,
                                            ())  # fmt: skip
                    for key, table in part.items():
                        study[key] = pd.concat([study[key], table.assign(structure=s.label())], ignore_index=True)
            for name, table in study.items():
                atomic_write_parquet(table, out / f"{name}.parquet")
        else:
            fruns = forecast_runs(post, settings, cutoff, workers)
            scores = pd.concat([forecast_scores(r, scenario, cutoff, v) for v, r in fruns.items()], ignore_index=True)
            atomic_write_parquet(scores, out / "scores.parquet")
        atomic_write_text(out / "predictive.json", json.dumps(pred_meta, indent=1, default=str))
    for name in ("checks", "monthly", "escalation", "effects", "independence", "scores", "structures"):
        if (out / f"{name}.parquet").exists():
            result[name] = pd.read_parquet(out / f"{name}.parquet")
    return result


def study(out: Path, settings: Settings, workers: int | None = None,
          log: Callable[[str], None] | None = print) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Every result of the calibration on counts in one call: the headline's calibration (the record without the
    outcome the headline reports) in out/, the same with the outcome in out/with_outcome, and a forecast from each
    of CUTOFFS in out/forecast_<cutoff>; each resumes from what is stored."""
    out = Path(out)
    t0 = time.perf_counter()
    runs = {"headline": (out, replace(settings, outcome=False, cutoff=None)),
            "with_outcome": (out / "with_outcome", replace(settings, outcome=True, cutoff=None))}
    for c in CUTOFFS:
        runs[f"forecast_{c}"] = (out / f"forecast_{c}", replace(settings, cutoff=str(c)))
    results = {}
    for name, (folder, s) in runs.items():
        if log:
            log(f"== {name} ({folder})")
        started = time.perf_counter()
        if name == "headline":
            results[name] = calibrate(folder, s, workers, log)
        elif name == "with_outcome":  # beside the headline: its row and the patron's effect, under this posterior
            results[name] = calibrate(folder, s, workers, log, scenarios=[("seed_timeline", "none"),
                                      ("seed_timeline", "no_patron")], levels=(), prior=False)  # fmt: skip
        else:
            results[name] = calibrate(folder, s, workers, log)
        results[name]["seconds"] = time.perf_counter() - started
    summary = {name: {"folder": str(folder), "seconds": results[name]["seconds"]} for name, (folder, _) in runs.items()}
    summary["total_seconds"] = time.perf_counter() - t0
    atomic_write_text(out / "study.json", json.dumps(summary, indent=1))
    return results


# ----------------------------------------------------------------------------- in words


def _interval(lo: float, hi: float) -> str:
    if lo == hi:
        return f"{lo:g}"
    return f"[{lo:g}, {'open' if math.isinf(hi) else f'{hi:g}'}]"


def describe(res: Mapping[str, Any]) -> str:
    """One calibration in words and tables: statistics, tolerance schedule, checks, the headline or forecasts."""
    d = res["diagnostics"]
    lines = [f"statistics ({len(res['statistics'])}, seeds/record.yaml, scenario {SCENARIO}); distance = sum of "
             "|outside the record's interval| / scale (scales adapted each generation; final scales "
             "shown):"]  # fmt: skip
    lines += [f"  {s.name:36s} record {_interval(s.low, s.high):11s} scale {d['final_scales'][s.name]:6.2f}  "
              f"({', '.join(s.entries)})" for s in res["statistics"]]  # fmt: skip
    lines += [f"hard constraints (seeds/targets.yaml): {', '.join(t.id for t in res['facts']) or 'none'}"]
    if d.get("cutoff"):
        lines += [f"record up to the cut-off {d['cutoff']} only (statistics closed and published by then)"]
    elif not d.get("outcome_in_calibration"):
        lines += ["the outcome the headline reports (no civil war, no clash-day) is left out of this calibration"]
    lines += ["", f"ABC-SMC: {d['settings']['particles']} particles x {d['settings']['replicates']} runs per "
              f"generation; stopped: {d['stopped']}; {d['smc_seconds']:.0f} s; posterior: generations "
              f"{d['pooled_from_generation']}-{d['generations'][-1]['generation']} pooled, effective sample size "
              f"{d['posterior_ess']:.0f}",
              "  generation  tolerance  acceptance  effective sample size  informed coordinates"]  # fmt: skip
    for g in d["generations"]:
        k = "" if g["informed_coordinates"] is None else f"{g['informed_coordinates']:21d}"
        lines.append(f"  {g['generation']:10d} {g['tolerance']:10.3f} {g['acceptance_rate']:11.4f} "
                     f"{g['effective_sample_size']:22.0f} {k}")  # fmt: skip
    if "checks" in res:
        lines += ["", "predictive checks, record_2021 (90% interval of runs; * = the record's interval misses it):"]
        for s, g in res["checks"].groupby("statistic", sort=False):
            cells = {r.distribution: f"[{r.q05:g}, {r.q95:g}]{'' if r.inside else '*'}" for r in g.itertuples()}
            r0 = g.iloc[0]
            lines.append(f"  {s:36s} record {_interval(r0.record_low, r0.record_high):11s} prior "
                         f"{cells['prior']:14s} posterior {cells['posterior']}")  # fmt: skip
    if "structures" in res and len(res["structures"]):
        lines += ["", "posterior probability of each structure (uniform prior; +- Monte Carlo se):"]
        lines += [f"  {r.structure:24s} {r.probability:.3f} +-{r.se:.3f}" for r in res["structures"].itertuples()]
    if "escalation" in res and len(res["escalation"]):
        lines += ["", "P(escalation), pooled; parameter uncertainty 90% [..] (sets' spread less binomial noise); "
                  "Monte Carlo sd of the pooled value and of one set:"]  # fmt: skip
        for r in res["escalation"].itertuples():
            where = getattr(r, "structure", "")
            lines.append(f"  {where:22s} {r.scenario:14s} {r.counterfactual:18s} {r.distribution:9s} "
                         f"{r.escalated_mean:.3f} "
                         f"[{r.escalated_param_q05:.2f}, {r.escalated_param_q95:.2f}] +-{r.escalated_mc_sd_pooled:.3f}"
                         f" (one set +-{r.escalated_mc_sd_per_set:.3f})")  # fmt: skip
    if "independence" in res and len(res["independence"]):
        lines += ["", "the patron's effect (no patron minus history) on P(escalation) against militia independence:"]
        for r in res["independence"].itertuples():
            where = getattr(r, "structure", "")
            lines.append(f"  {where:22s} {r.distribution:9s} independence {r.militia_independence:.1f}: "
                         f"P {r.p_mean:.3f}, effect {r.effect_mean:+.3f} [{r.effect_param_q05:+.2f}, "
                         f"{r.effect_param_q95:+.2f}] +-{r.effect_mc_sd_pooled:.3f}")  # fmt: skip
    info = res["informed"]
    told = info[info["informed"]]
    lines += ["", f"the record informs {len(told)} of {len(info)} values:"]
    lines += [f"  {r.factor:34s} overlap with the prior {r.overlap:.2f}; prior mean {r.prior_mean:.3g} -> "
              f"posterior mean {r.posterior_mean:.3g} [90%: {r.posterior_q05:.3g}, {r.posterior_q95:.3g}]"
              for r in told.itertuples()]  # fmt: skip
    if "scores" in res:
        sc = res["scores"]
        lines += ["", "forecasts after the cut-off against what followed (lower is better; RPS for counts, Brier for "
                  "events; baselines: Poisson at the record's rate since January / over the last quarter, Laplace's "
                  "rule for the events):"]  # fmt: skip
        for r in sc.itertuples():
            lines.append(f"  {r.version:13s} {r.target:52s} observed {r.observed:g}  model {r.model_score:.3f}  "
                         f"since-January {r.ytd_score:.3f}  last-quarter {r.recent_score:.3f}")  # fmt: skip
    return "\n".join(lines)
