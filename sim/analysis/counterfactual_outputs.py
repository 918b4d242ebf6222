"""Counterfactual sizes no one observed, reported with Monte Carlo intervals rather than tested: no patron, no
intervention, Soleimani, independence, no mediation, the visit's calming, the mediators' shares, the attack and the win.

These were pattern tests with bounds on counterfactuals (issue 25); a judgement about a world that did not happen
cannot fail the model, so they are outputs: `python -m sim.counterfactuals` writes
results/tables/counterfactual_outputs.csv and `python -m sim.docs` shows it in docs/ODD.md section 1. Every
comparison is paired (the same seed and replicates, so the same keyed random numbers); intervals are Monte Carlo
error at the defaults only (parameter uncertainty is the headline's business: docs/ODD.md sections 10-11)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.routes import paired_effect
from sim.engines.vector import BatchResult
from sim.model.params import MILITIAS, make_params
from sim.model.scenario import Event, Scenario, load_scenario
from sim.run.summary import wilson_interval

TABLE = "counterfactual_outputs"
# Sized to finish in minutes on a shared 2-core machine (compiled engine, every structure): docs/ODD.md section 1.
REPLICATES, SEED, RESAMPLES = 2000, 20211107, 1000
COLUMNS = ("output", "case", "scenario", "measure", "value", "low", "high", "replicates", "seed", "interval")
PAIRED, RATIO = "paired differences, normal 95%", "delta method on the log ratio, 95%"
BOOT = f"bootstrap over replicates ({RESAMPLES} resamples), 95%"


@dataclass(frozen=True)
class Settings:
    replicates: int = REPLICATES
    seed: int = SEED
    resamples: int = RESAMPLES
    engine: str = "compiled"  # the same bits as "vector" (tests/test_compiled.py), several times faster
    params: Mapping[str, object] = dataclasses.field(default_factory=dict)  # the point the outputs are read at


class _Runs:
    """Paired runs of scenarios at one parameter point plus overrides, cached by content."""

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self._cache: dict = {}

    def __call__(self, sc: Scenario | str, daily: Sequence[str] | None = None, **over) -> BatchResult:
        sc = load_scenario(sc) if isinstance(sc, str) else sc
        key = (repr(sc), tuple(sorted(over.items())), tuple(daily or ()))
        if key not in self._cache:
            from sim.run.simulate import batch_runner

            p = make_params({**self.s.params, **over})
            run_batch = batch_runner(self.s.engine)
            self._cache[key] = run_batch(sc, [p], [MILITIAS], self.s.seed, np.arange(self.s.replicates),
                                         keep_daily=bool(daily), daily_columns=daily)  # fmt: skip
        return self._cache[key]


def _any_clash(res: BatchResult) -> np.ndarray:
    return np.asarray(res.runs["first_clash_day"]) >= 0


def _effect_rows(output: str, case: str, scenario: str, base: BatchResult, cf: BatchResult,
                 outcomes: Sequence[tuple[str, Callable[[BatchResult], np.ndarray]]]) -> list[dict]:  # fmt: skip
    rows = []
    for label, get in outcomes:
        e = paired_effect(get(base), get(cf))
        n = len(get(base))
        rows += [
            {"output": output, "case": case, "scenario": scenario, "measure": f"{label}: baseline",
             "value": e.p_base, **_wilson(get(base)), "replicates": n, "interval": "Wilson 95%"},
            {"output": output, "case": case, "scenario": scenario, "measure": f"{label}: counterfactual",
             "value": e.p_cf, **_wilson(get(cf)), "replicates": n, "interval": "Wilson 95%"},
            {"output": output, "case": case, "scenario": scenario, "measure": f"{label}: difference",
             "value": e.diff, "low": e.diff_low, "high": e.diff_high, "replicates": n, "interval": PAIRED},
            {"output": output, "case": case, "scenario": scenario, "measure": f"{label}: ratio",
             "value": e.ratio, "low": e.ratio_low, "high": e.ratio_high, "replicates": n, "interval": RATIO},
        ]  # fmt: skip
    return rows


def _wilson(flags: np.ndarray) -> dict:
    lo, hi = wilson_interval(int(np.count_nonzero(flags)), len(flags))
    return {"low": float(lo), "high": float(hi)}


def _bootstrap(stat: Callable[[np.ndarray], float], n: int, settings: Settings) -> tuple[float, float, float]:
    """``stat`` of all replicates, and the 2.5% and 97.5% quantiles of it over resamples of the replicates (the
    same resample in every arm, so pairing is kept)."""
    rng = np.random.default_rng(settings.seed)
    values = [stat(rng.integers(0, n, n)) for _ in range(settings.resamples)]
    lo, hi = np.nanquantile(values, [0.025, 0.975])
    return stat(np.arange(n)), float(lo), float(hi)


def _row(output: str, case: str, scenario: str, measure: str, vlh: tuple[float, float, float], n: int,
         interval: str = BOOT) -> dict:  # fmt: skip
    return {"output": output, "case": case, "scenario": scenario, "measure": measure, "value": vlh[0],
            "low": vlh[1], "high": vlh[2], "replicates": n, "interval": interval}  # fmt: skip


LADDER = (("P(escalation)", lambda r: np.asarray(r.runs["escalated"], dtype=bool)), ("P(any clash)", _any_clash))
# (output, what is changed, parameter overrides) on seed_timeline against the defaults
PARAMETER_CASES = (
    ("no patron", "patron_present = false", {"patron_present": False}),
    ("no intervention", "patron_intervenes = false (the patron exists but never visits)", {"patron_intervenes": False}),
    ("Soleimani-strength patron", "patron_influence = 0.85", {"patron_influence": 0.85}),
    ("more independent militias", "militia_independence = 0.8", {"militia_independence": 0.8}),
)


def visit_scenarios() -> tuple[Scenario, Scenario, int]:
    """attack_and_intervention, the same with the patron unable to act on the attack's day (its attention
    shocked to 0), and that day."""
    sc = load_scenario("attack_and_intervention")
    a = next(e.day for e in sc.events if e.kind == "attack")
    busy = Event(day=a, date=sc.date_of(a), kind="shock", label="patron busy",
                 data={"actor": "patron", "variable": "attention", "delta": -1.0})  # fmt: skip
    blocked = dataclasses.replace(sc, events=tuple(sorted((*sc.events, busy), key=lambda e: e.day)))
    return sc, blocked, a


def with_seats(sc: Scenario, bloc: str, seats: tuple[int, int]) -> Scenario:
    events = tuple(dataclasses.replace(e, data={**e.data, "seats": {**e.data["seats"], bloc: list(seats)}})
                   if e.kind == "election" else e for e in sc.events)  # fmt: skip
    return dataclasses.replace(sc, events=events)


def compute(settings: Settings | None = None) -> pd.DataFrame:
    """Every counterfactual output for each structure (today's and each rival alone), at its defaults."""
    from sim.analysis.per_structure import structures

    s = settings or Settings()
    tables = []
    for label, select, _ in structures():
        t = compute_at(dataclasses.replace(s, params={**s.params, **select}))
        tables.append(t.assign(structure=label))
    return pd.concat(tables, ignore_index=True)[["structure", *COLUMNS]]


def compute_at(settings: Settings | None = None) -> pd.DataFrame:
    """Every counterfactual output at one parameter point (the defaults unless ``settings.params``)."""
    s = settings or Settings()
    runs, n = _Runs(s), s.replicates
    rows: list[dict] = []
    base = runs("seed_timeline")
    for output, case, over in PARAMETER_CASES:
        rows += _effect_rows(output, case, "seed_timeline", base, runs("seed_timeline", **over), LADDER)

    sc = load_scenario("seed_timeline")
    nomed = runs(sc.without("mediation"))
    ended = (("P(boycott ended)", lambda r: np.asarray(r.runs["boycott_ended"], dtype=bool)), LADDER[0])
    rows += _effect_rows("no mediation", "the mediation event dropped", "seed_timeline", base, nomed, ended)
    no_attack = runs(sc.without("attack"))
    rows += _effect_rows("the attack on the PM", "the timeline without the attack", "seed_timeline", base, no_attack,
                         LADDER)
    part = (("P(in politics at the end)", lambda r: np.asarray(r.runs["participating_final"], dtype=bool)),)
    flat = runs(with_seats(sc, "sadrist", (54, 54)))
    rows += _effect_rows("the election win", "Sadr's seats unchanged at 54", "seed_timeline", base, flat, part)

    # the spiral: how often a clash escalates, and an escalation becomes sustained fighting
    nop = runs("seed_timeline", patron_present=False)
    for case, r in (("with the patron", base), ("without the patron", nop)):
        c, e = _any_clash(r), np.asarray(r.runs["escalated"], dtype=bool)
        sus = np.asarray(r.runs["sustained"], dtype=bool)
        for measure, num, den in (("P(escalation | a clash)", e & c, c), ("P(sustained | escalation)", sus & e, e)):
            k, m = int(num.sum()), int(den.sum())
            lo, hi = wilson_interval(k, m) if m else (np.nan, np.nan)
            rows.append(_row("the spiral", case, "seed_timeline", measure, (k / m if m else np.nan, float(lo),
                             float(hi)), m, "Wilson 95% (runs in the condition)"))  # fmt: skip

    # the visit's calming, at two levels of independence
    acting_sc, blocked_sc, a = visit_scenarios()
    w = slice(a + 1, a + 15)
    cuts = {}
    for ind in (0.45, 0.8):
        acting = runs(acting_sc, ("violence",), militia_independence=ind).daily["violence"][w].mean(axis=0)
        unable = runs(blocked_sc, ("violence",), militia_independence=ind).daily["violence"][w].mean(axis=0)
        cuts[ind] = (acting, unable)

        def cut(i, acting=acting, unable=unable):
            return 1.0 - acting[i].mean() / max(unable[i].mean(), 1e-12)

        rows.append(_row("the visit's calming", f"militia_independence = {ind:g}", "attack_and_intervention",
                         "share of violence cut over the two weeks after the visit", _bootstrap(cut, n, s), n))

    def ratio(i):
        c = [1.0 - cuts[x][0][i].mean() / max(cuts[x][1][i].mean(), 1e-12) for x in (0.45, 0.8)]
        return c[1] / c[0] if c[0] > 0 else np.nan

    rows.append(_row("the visit's calming", "independence 0.8 against 0.45", "attack_and_intervention",
                     "ratio of the shares cut", _bootstrap(ratio, n, s), n))

    # the mediators' shares of the boycott's end (Shapley over the four cases)
    bm = load_scenario("boycott_mediation")
    arms = {name: np.asarray(r.runs["boycott_ended"], dtype=float) for name, r in (
        ("both", runs(bm)), ("no_patron", runs(bm, patron_present=False)),
        ("no_sistani", runs(bm, sistani_credibility=0.0)), ("none", runs(bm.without("mediation"))))}  # fmt: skip

    def shapley(i, who):
        m = {k: v[i].mean() for k, v in arms.items()}
        total = m["both"] - m["none"]
        if total <= 0:
            return np.nan
        if who == "total":
            return total
        if who == "patron":
            return 0.5 * ((m["no_sistani"] - m["none"]) + (m["both"] - m["no_patron"])) / total
        return 0.5 * ((m["no_patron"] - m["none"]) + (m["both"] - m["no_sistani"])) / total

    for who, measure in (("total", "P(boycott ended), with the mediation minus without"),
                         ("patron", "the patron's Shapley share of that"), ("sistani", "Sistani's Shapley share")):
        rows.append(_row("the mediators' shares", "patron off by patron_present, Sistani by sistani_credibility 0",
                         "boycott_mediation", measure, _bootstrap(lambda i, w=who: shapley(i, w), n, s), n))
    return pd.DataFrame(rows, columns=list(COLUMNS)).assign(seed=s.seed)


def describe(table: pd.DataFrame) -> str:
    lines = []
    for r in table.itertuples():
        lines.append(f"{r.output:<28} {r.case[:44]:<44} {r.measure[:52]:<52} {r.value:8.3f} [{r.low:.3f}, "
                     f"{r.high:.3f}]")  # fmt: skip
    return "\n".join(lines)


def run_args(args) -> int:
    """The command (sim/counterfactuals.py parses its line): compute, print, and publish unless --no-write."""
    from sim.analysis import published

    if not 10 <= args.replicates <= 1_000_000:
        print(f"error: --replicates={args.replicates} is out of range: allowed [10, 1000000]", file=sys.stderr)
        return 2
    import time

    t0 = time.perf_counter()
    table = compute(Settings(replicates=args.replicates, seed=args.seed, engine=args.engine))
    seconds = time.perf_counter() - t0
    print(describe(table))
    print(f"{table['structure'].nunique()} structures, {args.replicates} replicates per case, engine {args.engine}: "
          f"{seconds:.0f} s")
    if not args.no_write:
        print(f"wrote {published.write(TABLE, table.assign(engine=args.engine, seconds=round(seconds)))}")
    return 0
