"""Calibration on the record's counts and dates (seeds/record.yaml) by ABC-SMC (sim/analysis/abc_smc.py), on
the record_2021 scenario (1 January 2021 to 31 January 2022, day 0 = 1 January 2021).

The statistics are a declared list (STATISTICS below): each names what it counts in a run (a daily series
summed over a period, or a per-run outcome), the record's interval for it and the record.yaml entries that
interval comes from. A run's distance is the sum over statistics of how far its value falls outside the
record's interval, in units of the statistic's scale (0 inside the interval); the five yes/no facts of
seeds/targets.yaml are hard constraints (a run that breaks one has distance inf).

With a cut-off date (``cutoff``) only the statistics the record had closed by then enter, and the model then
forecasts what followed (attacks on US assets per month, a clash between the camps), scored against a naive
baseline with proper scores (ranked probability score = CRPS for counts, Brier for the event)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import abc_smc
from sim.analysis import calibration as cal
from sim.engines.vector import run_batch
from sim.model import priors
from sim.model import record as rec
from sim.model.params import ParameterError
from sim.model.scenario import Scenario, load_scenario
from sim.run import uncertainty
from sim.run.simulate import chunk_size_for, thread_pool
from sim.run.storage import atomic_write_parquet, atomic_write_text

SCENARIO = "record_2021"
SEED_WINDOW = (date(2021, 7, 1), date(2022, 1, 31))  # the article's window, where targets.yaml's facts apply
DAILY = ("attacks_us_today", "intervened", "clash", "participating")
FORECAST_CUTOFF = date(2021, 10, 10)  # the election


@dataclass(frozen=True)
class Statistic:
    """One count of a run against the record. ``source``: 'daily:<column>' (the column summed over
    [start, end]) or 'run:<outcome>' (a per-run outcome over the whole scenario). ``low``/``high``: the
    record's interval (high may be inf). ``scale``: the distance's unit (about one Poisson standard deviation
    of the count, or a week for a duration). ``entries``: the record.yaml ids the interval comes from;
    ``reading``: how the interval is read from them."""

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

    def value(self, runs: Mapping, daily: Mapping, scenario: Scenario) -> np.ndarray:
        kind, col = self.source.split(":")
        if kind == "run":
            return np.asarray(runs[col], dtype=float)
        a, b = _days(scenario, self.start, self.end)
        return np.asarray(daily[col][a : b + 1], dtype=float).sum(axis=0)

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


def _from(entry_id: str) -> tuple[date, date, float, float]:
    e = rec.load_record()[entry_id]
    lo, hi = e.interval
    return e.start, e.end, float(lo), float(hi)


def _stat(name: str, source: str, entry_id: str, scale: float | None = None, reading: str = "",
          more: tuple[str, ...] = (), **kw) -> Statistic:  # fmt: skip
    """A statistic whose period and interval are one record entry's own."""
    start, end, lo, hi = _from(entry_id)
    mid = lo if math.isinf(hi) else (lo + hi) / 2
    return Statistic(name, source, start, end, lo, hi, scale or max(1.0, math.sqrt(mid)), (entry_id, *more),
                     reading or "the entry's interval", **kw)  # fmt: skip


def statistics() -> list[Statistic]:
    """The declared statistics of the record_2021 scenario (seeds/record.yaml ids in each). Attacks on US
    interests in the record's one definition (sites; convoys are their own kind) on disjoint windows; each
    other count once."""
    record = rec.load_record()
    v1, v2 = record["ghaani_visit_2021_04_05"], record["ghaani_visit_2021_06_09"]
    return [
        _stat("attacks_us_2021_01_01_to_06_30", "daily:attacks_us_today", "us_sites_2021_h1",
              more=("us_sites_dated_2021_h1", "us_tally_jpost_2021_06_22", "us_tally_anadolu_2021_06_06")),
        _stat("attacks_us_2021_07_05_to_07_08", "daily:attacks_us_today", "us_attacks_wave_2021_07_05_08"),
        _stat("attacks_us_2021_07_09_to_10_30", "daily:attacks_us_today", "us_attacks_2021_07_09_10_30",
              more=("us_attack_harir_2021_07_23", "us_attack_green_zone_2021_07_29", "us_attack_erbil_2021_09_11")),
        _stat("attacks_us_2021_10_31_to_12_31", "daily:attacks_us_today", "us_attacks_2021_10_31_12_31",
              more=("us_attack_green_zone_2021_10_31", "us_attack_green_zone_2021_12_19")),
        _stat("attacks_us_2022_01", "daily:attacks_us_today", "us_attacks_jan_2022", scale=math.sqrt(7),
              more=("us_attack_airport_2022_01_28",)),
        _stat("boycott_days", "run:boycott_days", "sadr_boycott_duration_2021", scale=7.0,
              reading="43 days from announcement to reversal; the scale is a week"),
        Statistic("patron_visits_2021_01_to_06", "daily:intervened", date(2021, 1, 1), date(2021, 6, 30), 2, math.inf,
                  math.sqrt(2), (v1.id, v2.id, "ghaani_visits_2021"),
                  "the two reported trips of the first half (April, June): at least 2, his trips being often "
                  "unannounced"),
        _stat("patron_visits_2021_07_to_2022_01", "daily:intervened", "ghaani_visits_in_model_window",
              scale=math.sqrt(3)),
        Statistic("us_strike_rounds", "run:retaliations", date(2021, 1, 1), date(2022, 1, 31), 2, 2, math.sqrt(2),
                  ("us_strike_rounds_2021_h1", "us_strikes_2021_06_27"),
                  "2 rounds to the end of June (the entry) and none in Iraq after (the note of us_strikes_2021_06_27)"),
        _stat("clash_days", "daily:clash", "intra_shia_clashes_none_2021_01_2022_01", scale=1.0, zero_divides=True,
              reading="none found in the window: every clash-day counts"),
    ]  # fmt: skip


def up_to(stats: Sequence[Statistic], cutoff: date | None) -> list[Statistic]:
    """The statistics the record had closed by ``cutoff`` (a nil count is shortened to it)."""
    if cutoff is None:
        return list(stats)
    out = []
    for s in stats:
        if s.end <= cutoff:
            out.append(s)
        elif s.zero_divides and s.start <= cutoff:
            out.append(replace(s, name=f"{s.name}_to_{cutoff:%m_%d}", end=cutoff))
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


def facts(cutoff: date | None = None) -> list[cal.Target]:
    """targets.yaml's yes/no facts settled by ``cutoff`` (all of them without one)."""
    return [t for t in cal.load_targets() if cutoff is None or FACT_END[t.id] <= cutoff]


def run_table(runs: Mapping, daily: Mapping, scenario: Scenario, stats: Sequence[Statistic],
              targets: Sequence[cal.Target]) -> dict[str, np.ndarray]:  # fmt: skip
    """Per run: each statistic's value, whether each fact holds, and the distance (inf if a fact fails)."""
    out: dict[str, np.ndarray] = {s.name: s.value(runs, daily, scenario) for s in stats}
    dist = sum((s.distance(out[s.name]) for s in stats), np.zeros(len(np.asarray(runs["escalated"]))))
    ok = np.ones(len(dist), dtype=bool)
    for t in targets:
        met = t.met(FACT_STATISTICS[t.statistic](runs, daily, scenario))
        out[f"met_{t.id}"] = met
        ok &= met
    out["distance"] = np.where(ok, dist, np.inf)
    return out


# ----------------------------------------------------------------------------- simulation of particles


def value_table(names: Sequence[str], values: np.ndarray) -> pd.DataFrame:
    """Parameter values (n, d) as a factor table, whole-number priors as ints."""
    table = priors.priors()
    return pd.DataFrame({n: (values[:, k].astype(int) if table[n].dist == "integer" else values[:, k])
                         for k, n in enumerate(names)})  # fmt: skip


def to_values(names: Sequence[str]) -> Callable[[np.ndarray], np.ndarray]:
    table = priors.priors()
    return lambda u: np.column_stack([table[n].ppf(u[:, k]) for k, n in enumerate(names)])


def generation_seed(seed: int, t: int) -> int:
    return int(np.random.SeedSequence([seed, t, 18]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def simulate_rows(scenario: Scenario, table: pd.DataFrame, seed: int, replicates: int, first: int,
                  stats: Sequence[Statistic], targets: Sequence[cal.Target], workers: int | None = None,
                  fixed: Mapping[str, Any] | None = None, cutoff: date | None = None) -> pd.DataFrame:  # fmt: skip
    """Every row of ``table`` (a factor table) for R replicates: row i's replicates are (first + i) * R + r
    under ``seed``, so a row's runs depend on its values, the seed and its index only (not on blocks or
    threads). One row per run: particle, replicate, statistics, facts, distance, attacks on US assets per
    calendar month (us_<YYYY-MM>) and, with a cut-off, per month after it (after_<YYYY-MM>, the first one
    partial) and whether the camps clash between it and the end of the article's window."""
    workers = max(1, workers or len(os.sched_getaffinity(0)))
    sets = uncertainty.sets_from_table(table, {}, {}, "abc-smc", fixed=fixed)
    n = len(sets.params)
    per_block = max(1, chunk_size_for(sets.params[0], len(sets.militias[0]), 1024 / workers) // replicates)
    blocks = [range(lo, min(lo + per_block, n)) for lo in range(0, n, per_block)]

    def one(block: range) -> pd.DataFrame:
        idx = np.repeat(np.asarray(block), replicates)
        reps = (first + idx) * replicates + np.tile(np.arange(replicates), len(block))
        res = run_batch(scenario, [sets.params[k] for k in idx], [sets.militias[k] for k in idx], seed, reps,
                        daily_columns=DAILY)  # fmt: skip
        cols = run_table(res.runs, res.daily, scenario, stats, targets)
        keep = {k: res.runs[k] for k in ("escalated", "sustained", "first_clash_day", "clashes", "attacks_us")}
        monthly = monthly_attacks(res.daily["attacks_us_today"], scenario)
        if cutoff is not None:
            monthly |= monthly_attacks(res.daily["attacks_us_today"], scenario, cutoff + timedelta(days=1), "after")
            monthly["clash_after_cutoff"] = _window_sum(res.daily, "clash", scenario, cutoff + timedelta(days=1),
                                                        SEED_WINDOW[1]) > 0  # fmt: skip
        return pd.DataFrame({"particle": idx, "replicate": reps, **keep, **cols, **monthly})

    with thread_pool(workers) as ex:
        parts = list(ex.map(one, blocks))
    return pd.concat(parts, ignore_index=True)


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


# ----------------------------------------------------------------------------- the calibration


@dataclass(frozen=True)
class Settings:
    particles: int = 2000
    replicates: int = 4
    generations: int = 8
    quantile: float = 0.5
    seed: int = 20211107
    predictive_sets: int = 300
    predictive_replicates: int = 10
    cutoff: str | None = None  # ISO date: calibrate on the record up to it and forecast what followed

    def smc(self) -> abc_smc.Settings:
        return abc_smc.Settings(particles=self.particles, replicates=self.replicates, generations=self.generations,
                                quantile=self.quantile, seed=self.seed, min_acceptance=0.02,
                                min_ess=max(20.0, self.particles / 40))  # fmt: skip


def headline_cases() -> tuple[tuple[str, str], ...]:
    """The seed timeline under every counterfactual (configs/counterfactual/), "none" first: the README's
    calibrated headline and each counterfactual's calibrated effect."""
    return tuple(("seed_timeline", cf) for cf in sorted(cal.counterfactuals(), key=lambda c: c != "none"))


def calibrate(out: Path, settings: Settings, workers: int | None = None, log: Callable[[str], None] | None = print,
              scenarios: Sequence[tuple[str, str]] | None = None) -> dict[str, Any]:
    """ABC-SMC on the record's counts, each generation stored under out/smc (a rerun resumes); then the
    posterior, its diagnostics, which values the record informs, posterior-predictive checks of every statistic
    and the monthly attacks, P(escalation) of ``scenarios`` (scenario, counterfactual) under prior and posterior,
    and with a cut-off the forecasts and their scores."""
    out = Path(out)
    scenarios = headline_cases() if scenarios is None else tuple(scenarios)
    cutoff = date.fromisoformat(settings.cutoff) if settings.cutoff else None
    scenario = load_scenario(SCENARIO)
    stats, targets = up_to(statistics(), cutoff), facts(cutoff)
    names = list(priors.priors())
    fn = to_values(names)
    meta = {"scenario": SCENARIO, "statistics": [asdict(s) for s in stats], "facts": [t.id for t in targets],
            "cutoff": settings.cutoff, "model": model_digest()}  # fmt: skip
    meta = json.loads(json.dumps(meta, default=str))

    def simulate(values: np.ndarray, t: int, idx: np.ndarray) -> np.ndarray:
        runs = simulate_rows(scenario, value_table(names, values), generation_seed(settings.seed, t),
                             settings.replicates, 0, stats, targets, workers)  # fmt: skip
        return runs["distance"].to_numpy().reshape(len(idx), settings.replicates)

    res = abc_smc.run(names, fn, simulate, settings.smc(), store=out / "smc", meta=meta, log=log)
    seconds = sum(g.seconds for g in res.generations)  # as computed, also when reused from disk
    post = abc_smc.posterior_table(res, names, fn)
    post = pd.concat([value_table(names, post[names].to_numpy()), post[["weight"]]], axis=1)
    info = informed(res, names)
    diag = {"method": "ABC-SMC (population Monte Carlo, Beaumont et al. 2009) on the record's counts, "
                      "tolerance = quantile of the last generation's accepted distances; the yes/no facts as "
                      "hard constraints",
            "generations": res.schedule(), "stopped": res.stopped, "smc_seconds": seconds,
            "pooled_from_generation": res.generations[res.pool_from].t if res.pool_from >= 0 else res.final.t,
            "posterior_ess": res.pooled_ess(),
            "settings": asdict(settings), **meta}  # fmt: skip
    atomic_write_parquet(post, out / "posterior.parquet", {"settings": asdict(settings)})
    atomic_write_parquet(info, out / "informed.parquet")
    atomic_write_text(out / "diagnostics.json", json.dumps(diag, indent=1, default=str))
    atomic_write_parquet(pd.DataFrame(res.schedule()), out / "generations.parquet", {"stopped": res.stopped})
    pred_path = out / "predictive.parquet"
    pred_meta = {**meta, "settings": asdict(settings), "scenarios": [list(s) for s in scenarios]}
    if _stale(out / "predictive.json", pred_meta):
        runs, esc = predictive(post, settings, stats, targets, scenarios, workers)
        atomic_write_parquet(runs, pred_path)
        # each set runs every counterfactual with the same keyed random numbers: its differences are paired
        atomic_write_parquet(cal.effects_across_sets(esc), out / "effects.parquet")
        atomic_write_parquet(esc.drop(columns="per_set"), out / "escalation.parquet")
        atomic_write_text(out / "predictive.json", json.dumps(pred_meta, indent=1, default=str))
    runs = pd.read_parquet(pred_path)
    checks = predictive_checks(runs, statistics(), scenario)
    atomic_write_parquet(checks, out / "checks.parquet")
    result = {"posterior": post, "diagnostics": diag, "informed": info, "checks": checks,
              "escalation": pd.read_parquet(out / "escalation.parquet"),
              "effects": pd.read_parquet(out / "effects.parquet"), "statistics": stats, "facts": targets,
              "monthly": monthly_table(runs, scenario)}  # fmt: skip
    atomic_write_parquet(result["monthly"], out / "monthly.parquet")
    if cutoff is not None:
        scores = forecast_scores(runs, scenario, cutoff)
        atomic_write_parquet(scores, out / "scores.parquet")
        result["scores"] = scores
    return result


def model_digest() -> str:
    """A digest of what a run's distances depend on (the model's code, the vector engine, the scenarios, the
    evidence, the record and the targets): a stored generation made before a change is not reused."""
    import hashlib

    from sim.paths import CONFIG_DIR, SEEDS_DIR

    code = Path(__file__).resolve().parent.parent
    files = sorted([*(code / "model").glob("*.py"), code / "engines" / "vector.py",
                    *(CONFIG_DIR / "scenario").glob("*.yaml"), *(CONFIG_DIR / "counterfactual").glob("*.yaml"),
                    SEEDS_DIR / "evidence.yaml", SEEDS_DIR / "record.yaml", SEEDS_DIR / "targets.yaml"])  # fmt: skip
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def _stale(path: Path, meta: Mapping) -> bool:
    if not path.exists():
        return True
    return json.loads(path.read_text()) != json.loads(json.dumps(meta, default=str))


def informed(
    res: abc_smc.Result, names: Sequence[str], bins: int = 10, draws: int = 400, seed: int = 1
) -> pd.DataFrame:
    """Which values the record informs: each factor's total-variation distance between its posterior and its
    prior in the unit cube (where the prior is flat), against the distance a sample of the posterior's
    effective size drawn from the prior gives (the null: no information, only sampling noise). Informed:
    above the null's 99th percentile and at least calibration.MATERIAL_TV."""
    u, w = res.pooled()
    table = priors.priors()
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
        rows.append({"factor": name, "tv_distance": tv, "null_99": cut,
                     "informed": bool(tv > cut and tv >= cal.MATERIAL_TV), "prior_mean": cal._prior_mean(p),
                     "posterior_mean": float(np.average(values, weights=w)), "posterior_q05": lo,
                     "posterior_q95": hi, "prior_low": p.low, "prior_high": p.high})  # fmt: skip
    return pd.DataFrame(rows).sort_values("tv_distance", ascending=False).reset_index(drop=True)


# ----------------------------------------------------------------------------- predictive checks and forecasts


def predictive(post: pd.DataFrame, settings: Settings, stats: Sequence[Statistic], targets: Sequence[cal.Target],
               scenarios: Sequence[tuple[str, str]],
               workers: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Runs of the record's scenario from parameter sets drawn from the prior and the posterior (every
    statistic, monthly attacks; one row per run), and P(escalation) of ``scenarios`` for each."""
    n, r = settings.predictive_sets, settings.predictive_replicates
    draws = {"prior": pd.DataFrame(priors.sample(n, settings.seed + 1)),
             "posterior": cal.resample(post, n, settings.seed + 2)}  # fmt: skip
    sc = load_scenario(SCENARIO)
    parts, esc = [], []
    for which, table in draws.items():
        cutoff = date.fromisoformat(settings.cutoff) if settings.cutoff else None
        every = statistics()
        every += [st for st in stats if st.name not in {e.name for e in every}]  # a cut-off's shortened ones
        runs = simulate_rows(sc, table, settings.seed + 3, r, 0, every, facts(), workers, cutoff=cutoff)
        parts.append(runs.assign(distribution=which, fitted=_fitted_distance(runs, stats, targets)))
        for scenario_name, cf in scenarios:
            over, drop = cal.counterfactuals()[cf] if cf != "none" else ({}, ())
            base = load_scenario(scenario_name)
            sets = uncertainty.sets_from_table(table, {}, {}, which, fixed=over)
            er = cal.simulate_sets(base.without(*drop) if drop else base, sets, settings.seed, r, [],
                                   workers=workers, progress=False)  # fmt: skip
            g = er.assign(any_clash=er["first_clash_day"] >= 0).groupby("set")
            per_set = g["escalated"].mean().to_numpy()
            q05, q50, q95 = np.quantile(per_set, (0.05, 0.5, 0.95))
            ladder = {}
            for name in ("any_clash", "sustained"):  # the severity ladder's other rungs, pooled and across sets
                v = g[name].mean().to_numpy()
                ladder |= {f"p_{name}": float(v.mean()), f"{name}_q05": float(np.quantile(v, 0.05)),
                           f"{name}_q95": float(np.quantile(v, 0.95))}  # fmt: skip
            esc.append({"scenario": scenario_name, "counterfactual": cf, "distribution": which,
                        "p_escalation": float(er["escalated"].mean()), "median": float(q50), "q05": float(q05),
                        "q95": float(q95), "sets": n, "replicates": r, **ladder, "per_set": per_set})  # fmt: skip
    return pd.concat(parts, ignore_index=True), pd.DataFrame(esc)


def _fitted_distance(runs: pd.DataFrame, stats: Sequence[Statistic], targets: Sequence[cal.Target]) -> np.ndarray:
    d = sum((s.distance(runs[s.name].to_numpy()) for s in stats), np.zeros(len(runs)))
    ok = np.logical_and.reduce([runs[f"met_{t.id}"].to_numpy() for t in targets]) if targets else True
    return np.where(ok, d, np.inf)


def predictive_checks(runs: pd.DataFrame, stats: Sequence[Statistic], scenario: Scenario) -> pd.DataFrame:
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


OBSERVED_MONTHS = {  # attacks on US sites per month after the election, as the record has them
    "2021-10": (1, "us_attack_green_zone_2021_10_31 (the 11-31 October part)"),
    "2021-11": (0, "none dated in the record (us_attacks_2021_10_31_12_31)"),
    "2021-12": (1, "us_attack_green_zone_2021_12_19"),
    "2022-01": (7, "us_attacks_jan_2022: at least 7 (a lower bound, scored as 7)"),
}


def monthly_table(runs: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Posterior- and prior-predictive attacks on US assets per calendar month: mean, median, 90% interval."""
    rows = []
    for label, _, _ in month_spans(scenario):
        for which, g in runs.groupby("distribution", sort=False):
            x = g[f"us_{label}"].to_numpy()
            q05, q50, q95 = np.quantile(x, (0.05, 0.5, 0.95))
            rows.append({"month": label, "distribution": which, "mean": float(x.mean()), "median": q50,
                         "q05": q05, "q95": q95})  # fmt: skip
    return pd.DataFrame(rows)


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


def forecast_scores(runs: pd.DataFrame, scenario: Scenario, cutoff: date) -> pd.DataFrame:
    """The calibrated model's forecasts after ``cutoff`` against two naive baselines: attacks on US assets per
    month (ranked probability score = CRPS, and log score; Poisson baselines at the record's rate of the last
    three months before the cut-off and at its rate since 1 January) and a clash between the camps from the
    cut-off to the end of the record (Brier; baseline: Laplace's rule over the clash-free months before)."""
    from scipy.stats import poisson

    post = runs[runs["distribution"] == "posterior"]
    s0 = date.fromisoformat(str(scenario.start)[:10])
    # naive rates from the record before the cut-off
    recent = (cutoff - timedelta(days=92), cutoff)  # about three months: 10 Jul - 10 Oct 2021
    recent_count = 3  # 23 July, 29 July, 11 September (us_attacks_2021_07_09_10_30)
    recent_rate = recent_count / (recent[1] - recent[0]).days
    ytd_count = 26.5 + 5 + recent_count  # the first half's middle (18-35), the July wave, then the same
    ytd_rate = ytd_count / ((cutoff - s0).days + 1)
    rows = []
    for label, a, b in month_spans(scenario, cutoff + timedelta(days=1)):
        if label not in OBSERVED_MONTHS:
            continue
        y, note = OBSERVED_MONTHS[label]
        days = (b - a).days + 1
        x = post[f"after_{label}"].to_numpy()
        row = {"target": f"attacks on US, {a:%d %b} - {b:%d %b %Y}", "observed": y, "note": note,
               "model_mean": float(x.mean()),
               "model_q05": float(np.quantile(x, 0.05)), "model_q95": float(np.quantile(x, 0.95)),
               "model_crps": rps(x, y), "model_log": log_score_samples(x, y)}  # fmt: skip
        for name, rate in (("recent", recent_rate), ("ytd", ytd_rate)):
            lam = rate * days
            row[f"{name}_rate_per_month"] = rate * 30.4
            row[f"{name}_crps"] = rps_poisson(lam, y)
            row[f"{name}_log"] = float(-poisson.logpmf(y, lam))
        rows.append(row)
    months_before = ((cutoff - s0).days + 1) / 30.4
    p_base = 1 - (1 - 1 / (months_before + 2)) ** (((SEED_WINDOW[1] - cutoff).days) / 30.4)
    if "clash_after_cutoff" in post:
        p = float(post["clash_after_cutoff"].mean())
        rows.append({"target": f"any clash between the camps, {cutoff + timedelta(days=1)} to {SEED_WINDOW[1]}",
                     "observed": 0, "note": "intra_shia_clashes_none_2021_01_2022_01", "model_mean": p,
                     "model_crps": p**2, "recent_crps": p_base**2, "ytd_crps": p_base**2,
                     "recent_rate_per_month": float("nan")})  # fmt: skip
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- command line


def _interval(lo: float, hi: float) -> str:
    if lo == hi:
        return f"{lo:g}"
    return f"[{lo:g}, {'open' if math.isinf(hi) else f'{hi:g}'}]"


def describe(res: Mapping[str, Any]) -> str:
    """The calibration in words and tables: statistics, tolerance schedule, checks, forecasts."""
    d = res["diagnostics"]
    lines = [f"statistics ({len(res['statistics'])}, seeds/record.yaml, scenario {SCENARIO}); distance = sum of "
             "|outside the record's interval| / scale:"]  # fmt: skip
    lines += [f"  {s.name:36s} record {_interval(s.low, s.high):11s} scale {s.scale:4.2f}  ({', '.join(s.entries)})"
              for s in res["statistics"]]  # fmt: skip
    lines += [f"hard constraints (seeds/targets.yaml): {', '.join(t.id for t in res['facts']) or 'none'}"]
    if d.get("cutoff"):
        lines += [f"record up to the cut-off {d['cutoff']} only"]
    lines += ["", f"ABC-SMC: {d['settings']['particles']} particles x {d['settings']['replicates']} runs per "
              f"generation; stopped: {d['stopped']}; {d['smc_seconds']:.0f} s; posterior: generations "
              f"{d['pooled_from_generation']}-{d['generations'][-1]['generation']} pooled, effective sample size "
              f"{d['posterior_ess']:.0f}",
              "  generation  tolerance  acceptance  effective sample size"]  # fmt: skip
    for g in d["generations"]:
        lines.append(f"  {g['generation']:10d} {g['tolerance']:10.3f} {g['acceptance_rate']:11.4f} "
                     f"{g['effective_sample_size']:22.0f}")  # fmt: skip
    checks = res["checks"]
    lines += ["", "predictive checks, record_2021 (90% interval of runs; * = the record's interval misses it):"]
    for s, g in checks.groupby("statistic", sort=False):
        cells = {r.distribution: f"[{r.q05:g}, {r.q95:g}]{'' if r.inside else '*'}" for r in g.itertuples()}
        r0 = g.iloc[0]
        lines.append(f"  {s:36s} record {_interval(r0.record_low, r0.record_high):11s} prior {cells['prior']:14s} "
                     f"posterior {cells['posterior']}")  # fmt: skip
    m = res["monthly"]
    m = m[m["distribution"] == "posterior"]
    lines += ["", "attacks on US assets per month, posterior-predictive mean [90% interval]:"]
    lines.append("  " + "  ".join(f"{r.month}: {r.mean:.1f} [{r.q05:g}, {r.q95:g}]" for r in m.itertuples()))
    esc = res["escalation"]
    lines += ["", "P(escalation), pooled [90% interval across parameter sets]:"]
    for (scenario, cf), g in esc.groupby(["scenario", "counterfactual"], sort=False):
        cells = {r.distribution: f"{r.p_escalation:.3f} [{r.q05:.2f}, {r.q95:.2f}]" for r in g.itertuples()}
        lines.append(f"  {scenario:16s} {cf:12s} prior {cells.get('prior', ''):22s} posterior {cells.get('posterior')}")
    info = res["informed"]
    told = info[info["informed"]]
    lines += ["", f"the record informs {len(told)} of {len(info)} values:"]
    lines += [f"  {r.factor:34s} prior mean {r.prior_mean:.3g} -> posterior mean {r.posterior_mean:.3g} "
              f"[90%: {r.posterior_q05:.3g}, {r.posterior_q95:.3g}]" for r in told.itertuples()]  # fmt: skip
    if "scores" in res:
        sc = res["scores"]
        lines += ["", "forecasts after the cut-off against what followed (lower is better; CRPS = ranked "
                  "probability score, Brier for the event; baselines: Poisson at the record's rate of the last "
                  "3 months / since 1 January):"]  # fmt: skip
        for r in sc.itertuples():
            lines.append(f"  {r.target:44s} observed {r.observed:g}  model {r.model_crps:.3f}  "
                         f"last-3-months {r.recent_crps:.3f}  since-January {r.ytd_crps:.3f}")  # fmt: skip
        lines.append(f"  {'total':44s}             model {sc['model_crps'].sum():.3f}  last-3-months "
                     f"{sc['recent_crps'].sum():.3f}  since-January {sc['ytd_crps'].sum():.3f}")  # fmt: skip
    return "\n".join(lines)
