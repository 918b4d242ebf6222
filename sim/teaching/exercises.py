"""Answer keys for the teaching exercises in docs/exercises/, recomputed from the model.

Every number an instructor's key quotes sits between markers, ``<!-- key:NAME -->0.019<!-- /key -->``,
and ``KEYS[NAME]`` computes it from the very command the exercise prints (``python -m sim`` plus the
same overrides, seed 20211107 and 2000 replicates, composed by Hydra as the main job composes them).
A sentence whose truth depends on the numbers (``fewer``, ``below the trigger``, ``in no replicate``)
carries ``<!-- claim:NAME -->``, and ``CLAIMS[NAME]`` checks it on the same runs.

    python -m sim.exercises             # check the Markdown against the model (exit 1 if a key is stale)
    python -m sim.exercises --write     # rewrite the keys after a model change (claims are only checked)
    python -m sim.exercises read attack_and_intervention intervened 2021-11-07
                                        # students: a column's mean in the newest run of a scenario

tests/test_exercises.py runs the same check."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import math
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from scipy.stats import binomtest

from sim.analysis.stats import escalation_probability, wilson_interval
from sim.model import rules
from sim.model.events import mediation_credibility
from sim.model.params import MILITIAS, PARAM_BY_NAME, make_params
from sim.model.scenario import load_scenario
from sim.paths import REPO_ROOT
from sim.run.simulate import simulate

ROOT = REPO_ROOT
EXERCISE_DIR = ROOT / "docs" / "exercises"
MARKER = re.compile(r"<!-- key:(?P<name>[a-z0-9_]+) -->(?P<value>.*?)<!-- /key -->")
CLAIM = re.compile(r"<!-- claim:(?P<name>[a-z0-9_]+) -->")
COMMON = ("seed=20211107", "replicates=2000")  # every exercise command states both
MILITIA = {m.key: m for m in MILITIAS}

# The commands the exercises print (overrides after ``python -m sim``; COMMON is appended).
ATTACK = ("scenario=attack_and_intervention",)
ATTACK_DROPPED = ("scenario=attack_and_intervention", "drop_events=[attack]")
ATTACK_CHEAP = ("scenario=attack_and_intervention", "params.patron_attention_cost=0.2")
TIMELINE = ()
SOLEIMANI = ("counterfactual=soleimani",)
NO_PATRON = ("counterfactual=no_patron",)
NO_VISITS = ("params.patron_intervenes=false",)
INDEPENDENCE = {x: (f"params.militia_independence={x}",) for x in (0.2, 0.8)}  # the default is TIMELINE
INDEPENDENT_SOLEIMANI = ("counterfactual=soleimani", "params.militia_independence=0.8")
NO_VISITS_INDEPENDENCE = {x: ("params.patron_intervenes=false", f"params.militia_independence={x}") for x in (0.2, 0.8)}
BOYCOTT = ("scenario=boycott_mediation",)
BOYCOTT_NO_MEDIATION = ("scenario=boycott_mediation", "counterfactual=no_mediation")
BOYCOTT_SISTANI_ONLY = ("scenario=boycott_mediation", "scenario.events.1.mediators=[sistani]")
BOYCOTT_PATRON_ONLY = ("scenario=boycott_mediation", "scenario.events.1.mediators=[patron]")
TIMELINE_NO_MEDIATION = ("counterfactual=no_mediation",)
ELECTION = ("scenario=election_loss",)
LADDER = ("scenario_file=docs/exercises/scenario/ladder.yaml",)  # a student's file, outside configs/
LADDER_WITHOUT = {kind: (*LADDER, f"drop_events=[{kind}]") for kind in ("attack", "deadline", "coalition")}
ELECTION_INDEPENDENT = ("scenario=election_loss", "counterfactual=high_independence")
LADDER_INDEPENDENT = (*LADDER, "counterfactual=high_independence")
STAND_DOWN = ("scenario=stand_down_orders",)
STAND_DOWN_ALL = ("scenario=stand_down_orders", "scenario.events.3.actor=militias")  # AAH's order to every militia
STAND_DOWN_NONE = ("scenario=stand_down_orders", "drop_events=[order]")
# exercise 8: one actor's lever at a time, at the defaults (the levers of sim.model.params.LEVERS)
STRONG_STATE = ("params.state_capacity=0.6",)
US_NEVER = ("params.us_retaliation_prob=0.0",)
US_HARD = ("params.us_retaliation_prob=0.25",)
SADR_ALWAYS = ("params.sadr_restraint=1.0",)
PATRON_ALL_IN = ("params.patron_trigger=0.3", "params.patron_targets=4", "params.patron_distraction=0.0")
LEVER_RUNS = {"no_visits": NO_VISITS, "strong_state": STRONG_STATE, "us_never": US_NEVER, "us_hard": US_HARD,
              "sadr_always": SADR_ALWAYS, "patron_all_in": PATRON_ALL_IN}  # fmt: skip
# 07: two theories of the patron's leverage (structure.leverage: salehyan, today's, or coercion)
COERCION = ("structure.leverage=coercion",)
COERCION_INDEPENDENCE = {x: ("structure.leverage=coercion", f"params.militia_independence={x}") for x in (0.2, 0.8)}
NO_VISITS_COERCION = ("structure.leverage=coercion", "params.patron_intervenes=false")
NO_VISITS_COERCION_08 = ("structure.leverage=coercion", "params.patron_intervenes=false",
                         "params.militia_independence=0.8")
NO_PATRON_COERCION = ("structure.leverage=coercion", "counterfactual=no_patron")
ATTACK_LOW = ("scenario=attack_and_intervention", "params.militia_independence=0.2")
ATTACK_LOW_COERCION = ("scenario=attack_and_intervention", "structure.leverage=coercion",
                       "params.militia_independence=0.2")
DAILY = {
    ATTACK_LOW,
    ATTACK_LOW_COERCION,
    ATTACK,
    ATTACK_DROPPED,
    ATTACK_CHEAP,
    BOYCOTT,
    TIMELINE,
    TIMELINE_NO_MEDIATION,
    STAND_DOWN,
    STAND_DOWN_ALL,
}  # keys read daily.parquet of these runs


def command(spec: tuple[str, ...]) -> str:
    """The shell command an exercise prints for ``spec``."""
    return " ".join(["python -m sim", *(shlex.quote(o) for o in (*spec, *COMMON))])


@functools.cache
def config(spec: tuple[str, ...]):
    """The composed config of ``python -m sim <spec> seed=20211107 replicates=2000``."""
    from hydra import compose, initialize_config_dir

    from sim.paths import CONFIG_DIR
    from sim.run.config_schema import register

    register()  # the structured schema config.yaml builds on (python -m sim.exercises imports no main job)
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("config", overrides=[*spec, *COMMON])


@functools.cache
def run(spec: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs, daily) of ``python -m sim <spec> seed=20211107 replicates=2000``, as the main job computes them."""
    from sim.run.validate import resolve_inputs

    cfg = config(spec)
    params, militias, scenario = resolve_inputs(cfg)
    return simulate(
        scenario,
        params,
        militias,
        seed=int(cfg.seed),
        replicates=int(cfg.replicates),
        progress=False,
        daily_replicates=int(cfg.daily_replicates) if spec in DAILY else 0,  # runs are the same either way
    )


# ----------------------------------------------------------------------------- what students read


def daily_values(daily: pd.DataFrame, column: str, date: str, among: tuple[str, str] | None = None) -> pd.Series:
    """A daily column on ``date``, one value per replicate kept; with ``among = ("col=value", day)``
    only the replicates whose ``col`` equals ``value`` on ``day`` (``read ... --among``)."""
    on_day = daily.loc[daily["date"] == pd.Timestamp(date)].set_index("replicate")[column]
    if among is None:
        return on_day
    condition, day = among
    col, sep, value = condition.partition("=")
    if not sep:
        raise SystemExit(f"error: --among takes COLUMN=VALUE DATE, not {condition!r}")
    other = daily.loc[daily["date"] == pd.Timestamp(day)].set_index("replicate")[col]
    return on_day[other.astype(float) == float(value)]


def describe(values: pd.Series, unit: str) -> str:
    """'mean 0.996 over 1000 replicates (min 0.000, max 1.000)': what ``read`` prints."""
    if len(values) == 0:
        return f"no {unit}"
    return f"mean {values.mean():.3f} over {len(values)} {unit} (min {values.min():.3f}, max {values.max():.3f})"


def p_escalation(spec) -> str:
    """summary.txt, line 'escalation probability': the estimate."""
    return f"{escalation_probability(run(spec)[0])[0]:.3f}"


def ci_escalation(spec) -> str:
    """summary.txt, line 'escalation probability': the Wilson 95% interval."""
    _, lo, hi, _ = escalation_probability(run(spec)[0])
    return f"[{lo:.3f}, {hi:.3f}]"


def p_sustained(spec) -> str:
    """summary.txt, line 'sustained fighting': the estimate (the severity ladder's top rung)."""
    return f"{run(spec)[0]['sustained'].mean():.3f}"


def sustained_interval(spec) -> tuple[float, float]:
    runs = run(spec)[0]
    lo, hi = wilson_interval(int(runs["sustained"].sum()), len(runs))
    return float(lo), float(hi)


def ci_sustained(spec) -> str:
    """summary.txt, line 'sustained fighting': the Wilson 95% interval."""
    lo, hi = sustained_interval(spec)
    return f"[{lo:.3f}, {hi:.3f}]"


def any_clash(spec) -> pd.Series:
    return run(spec)[0]["first_clash_day"] >= 0


def p_any_clash(spec) -> str:
    """summary.txt, line 'any clash': the share of runs with at least one clash."""
    return f"{any_clash(spec).mean():.3f}"


def runs_mean(spec, column: str, digits: int) -> str:
    """summary.txt: a per-run mean ('patron interventions per run', 'boycott ended (share of runs)', ...)."""
    return f"{run(spec)[0][column].mean():.{digits}f}"


def runs_max(spec, column: str) -> str:
    """``read <scenario> <column>`` (no date): the largest value over the runs."""
    return f"{run(spec)[0][column].max():.3f}"


def daily_mean(spec, column: str, date: str, among: tuple[str, str] | None = None) -> float:
    """Mean of a daily column on a date over the replicates kept in daily.parquet (``read`` below)."""
    return float(daily_values(run(spec)[1], column, date, among).mean())


def fmt(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}"


def paired(a, b, column: str) -> int:
    """Replicates whose ``column`` is larger under ``a`` than under ``b`` (same seed: common random
    numbers), as the exercises' ``python -c`` line counts them."""
    ra, rb = run(a)[0][column], run(b)[0][column]
    return int((ra > rb).sum())


def sign_p(a, b, column: str) -> float:
    """Two-sided sign test on the pairs that differ (binomial, p = 1/2)."""
    up, down = paired(a, b, column), paired(b, a, column)
    return 1.0 if up + down == 0 else float(binomtest(up, up + down, 0.5).pvalue)


def sign_test(a, b, column: str) -> str:
    """The sign test's p as the key prints it."""
    p = sign_p(a, b, column)
    if p == 1.0:
        return "1"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def lo_hi_overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def intervals_overlap(a, b) -> bool:
    """The escalation probability's Wilson intervals of two runs overlap."""
    return lo_hi_overlap(escalation_probability(run(a)[0])[1:3], escalation_probability(run(b)[0])[1:3])


def default(name: str) -> float:
    return PARAM_BY_NAME[name].default


def resting_mobilisation() -> float:
    """The share of Sadr's armed wing out at his baseline grievance and no threat from the other camp
    (ODD 7.12): small, never exactly 0."""
    return float(
        rules.mobilisation_target(
            default("sadr_grievance_base"), default("mobilisation_threshold"), default("mobilisation_tau")
        )
    )


def default_text(name: str) -> str:
    return f"{default(name):g}"


def refill_days() -> int:
    """Days the patron needs to earn back one intervention's attention at the default rates."""
    return math.ceil(
        default("patron_attention_cost") / (default("patron_attention_recovery") * (1 - default("patron_distraction")))
    )


def soleimani_influence() -> float:
    """patron_influence under counterfactual=soleimani (configs/counterfactual/soleimani.yaml)."""
    return float(config(SOLEIMANI).params.patron_influence)


def independence_of(key: str, mean_independence: float) -> float:
    return float(rules.independence(mean_independence, MILITIA[key].independence_offset))


def leverage(key: str, independence: float, influence: float) -> float:
    """rules.leverage for a militia at a mean independence (its offset added, clipped to [0, 1])."""
    return float(rules.leverage(True, influence, MILITIA[key].loyalty, independence_of(key, independence)))


LEVELS = {"02": 0.2, "default": None, "08": 0.8}  # militia_independence of exercise 3's table


def leverage_coercion(key: str, independence: float, influence: float) -> float:
    """rules.leverage_persuasion_coercion for a militia at a mean independence (structure.leverage=coercion)."""
    return float(rules.leverage_persuasion_coercion(True, influence, MILITIA[key].loyalty,
                                                    independence_of(key, independence),
                                                    default("coercion_strength")))  # fmt: skip


def coerced(key: str, independence: float) -> bool:
    """Whether the coercive lever is the stronger for a militia (then a visit berates its leader)."""
    return bool(rules.coerces(default("patron_influence"), MILITIA[key].loyalty, independence_of(key, independence),
                              default("coercion_strength")))  # fmt: skip


def visits_effect(no_visits, as_is) -> float:
    """What the patron's visits do to P(escalation): with them minus without them (paired runs)."""
    return _p(as_is) - _p(no_visits)


def level(tag: str) -> float:
    return default("militia_independence") if LEVELS[tag] is None else LEVELS[tag]


def credibility(mediators) -> float:
    """A mediation's credibility with Sadr (ODD 7.1), as sim.model.events computes it at the defaults;
    ``mediators`` as a scenario gives them (a list of names, or a mapping name -> involvement)."""
    from sim.model.scenario import Event

    event = Event(day=0, date=dt.date(2021, 8, 20), kind="mediation", label="", data={"mediators": mediators})
    return float(mediation_credibility(event, make_params()))  # the declared defaults


def relief(mediators) -> float:
    """Grievance a mediation by ``mediators`` removes from Sadr's bloc (rules.mediated)."""
    return default("mediation_effect") * credibility(mediators)


def boycott_mediators():
    """The mediators of boycott_mediation.yaml's mediation event, as the file gives them."""
    event = next(e for e in load_scenario("boycott_mediation").events if e.kind == "mediation")
    return event.data["mediators"]


BOYCOTT_EVE = "2021-08-19"  # the day before the mediation


def return_grievance() -> float:
    """Grievance below which a boycotting Sadr returns at the median of his thresholds."""
    return default("return_threshold") - default("boycott_commitment")


def order_last_day() -> str:
    """The last day the stand-down orders of stand_down_orders.yaml bind (ODD 7.15)."""
    events = [e for e in load_scenario("stand_down_orders").events if e.kind == "order"]
    last = {e.date + dt.timedelta(days=int(e.data.get("days", default("order_days"))) - 1) for e in events}
    assert len(last) == 1, "the exercise reads one end date for both orders"
    return last.pop().isoformat()


ORDER_LAST, ORDER_AFTER = "2021-11-02", "2021-11-03"  # the read dates exercise 6 prints (checked by a claim)


# ----------------------------------------------------------------------------- the app's ensemble view
# The view runs replicates 0..n-1 with the app's seed (the main job's), so with 2000 replicates it shows the
# runs of the exercise's command; these keys read those runs through the view's own functions.


@functools.cache
def view(spec: tuple[str, ...]):
    """The ensemble view's result for ``spec`` with 2000 replicates (sim.teaching.ensemble)."""
    from sim.run.validate import resolve_inputs
    from sim.teaching import ensemble

    params, militias, scenario = resolve_inputs(config(spec))
    runs = run(spec)[0]
    setting = ensemble.Setting(" ".join(spec) or "defaults", scenario, params, tuple(militias))
    return ensemble.Ensemble(setting, int(config(spec).seed), {k: runs[k].to_numpy() for k in ensemble.OUTCOMES})


def long_date(day: pd.Timestamp | None) -> str:
    return "never" if day is None else f"{day:%d %B %Y}".lstrip("0")


def _share_by(spec, date) -> float:
    """Share of the spec's histories escalated by ``date`` (the ensemble view's curve)."""
    from sim.teaching import ensemble

    t = ensemble.escalated_by_date(view(spec))
    return float(t["p"][t["date"] <= date].iloc[-1])


def first_escalation(spec) -> pd.Timestamp | None:
    """The first date on which the view's curve leaves zero."""
    from sim.teaching import ensemble

    t = ensemble.escalated_by_date(view(spec))
    return t["date"][t["p"] > 0].iloc[0] if (t["p"] > 0).any() else None


def bands_apart(low_spec, high_spec) -> pd.Timestamp | None:
    """The first date on which ``high_spec``'s 95% band lies wholly above ``low_spec``'s."""
    from sim.teaching import ensemble

    lo, hi = ensemble.escalated_by_date(view(low_spec)), ensemble.escalated_by_date(view(high_spec))
    apart = lo["date"][hi["low"] > lo["high"]]
    return apart.iloc[0] if len(apart) else None


def escalated_by(spec, date: str) -> float:
    from sim.teaching import ensemble

    return ensemble.p_escalated_by(view(spec), date)


def clash_share(spec, label: str) -> float:
    """The clash-days panel: share of runs in the bin ``label`` ("0", "21+", ...)."""
    from sim.teaching import ensemble

    labels, share = ensemble.binned(view(spec).runs["clashes"], ensemble.CLASH_BINS)
    return float(share[labels.index(label)])


def view_paired(a, b) -> tuple[int, int]:
    from sim.teaching import ensemble

    return ensemble.paired(view(a), view(b))


def escalate_given_clash(spec) -> float:
    """Among the histories with any clash, the share that escalate."""
    r = view(spec).runs
    return float(r["escalated"][r["first_clash_day"] >= 0].mean())


def election_day() -> pd.Timestamp:
    """The date of seed_timeline's election."""
    return pd.Timestamp(next(e.date for e in load_scenario("seed_timeline").events if e.kind == "election"))


# ----------------------------------------------------------------------------- the published policy study
# Exercise 8 reads the policy study the README publishes (results/tables/policies_*.csv, python -m sim.publish after
# python -m sim experiment=policies): its keys are that table's numbers, as the README shows them.


def policy_row(policy: str, outcome: str = "p_escalation") -> pd.Series:
    from sim.analysis import published

    table = published.read("policies_robustness")
    if table is None:
        raise SystemExit("error: results/tables/policies_robustness.csv is missing: run python -m sim "
                         "experiment=policies, then python -m sim.publish")  # fmt: skip
    return table[(table["policy"] == policy) & (table["outcome"] == outcome)].iloc[0]


def policy_share(policy: str, outcome: str = "p_escalation") -> str:
    return f"{policy_row(policy, outcome)['share_meeting']:.0%}"


def policy_study(column: str) -> str:
    from sim.analysis import published

    return str(published.read("policies_study")[column].iloc[0])


def failure_box(policy: str, outcome: str = "p_escalation") -> pd.DataFrame:
    from sim.analysis import published

    boxes = published.read("policies_boxes")
    return boxes[(boxes["policy"] == policy) & (boxes["outcome"] == outcome)]


def failure_factors(policy: str) -> str:
    """The values PRIM's box of a policy's failures restricts, as the exercise prints them."""
    return ", ".join(f"`{f}`" for f in failure_box(policy)["factor"])


# ----------------------------------------------------------------------------- the keys

POLICIES_QUOTED = ("today", "patron_stays_out", "patron_all_in", "us_never_retaliates", "us_hard_line",
                   "sadr_always_restrains", "everyone_restrains")  # the policies exercise 8 quotes
QUOTED_DEFAULTS = (
    "patron_trigger",
    "patron_attention_cost",
    "patron_influence",
    "militia_independence",
    "standing_leverage",
    "mobilisation_threshold",
    "state_capacity",
    "grievance_half_life",
    "sadr_grievance_base",
    "boycott_commitment",
    "return_threshold",
    "mediation_effect",
    "patron_credibility_sadr",
    "sistani_credibility",
    "sadr_discipline",
    "order_days",
    "escalation_clashes",
    "escalation_window",
    "sustained_clashes",
    "sustained_window",
    "sadr_restraint",
    "coercion_strength",
    "coercion_backlash",
)
STAND_DOWN_READS = {
    "mobilisation": ("2021-10-24", "2021-10-25", ORDER_LAST, ORDER_AFTER, "2021-11-07"),
    "share_aah": ("2021-10-24", "2021-10-25", "2021-10-26", "2021-10-27", ORDER_LAST, ORDER_AFTER, "2021-11-07"),
    "share_badr": ("2021-10-24", "2021-10-25"),
    "violence": ("2021-10-24", "2021-10-25", "2021-10-26"),
    "sadr_grievance": (ORDER_LAST,),
    "hazard": ("2021-10-24", "2021-10-25"),
}


def mmdd(date: str) -> str:
    return date[5:].replace("-", "")


KEYS: dict[str, Callable[[], str]] = {
    # declared defaults an exercise quotes
    **{f"default_{name}": (lambda name=name: default_text(name)) for name in QUOTED_DEFAULTS},
    # 07 levers and robust policies: at the defaults, then across the published study's scenarios
    **{f"lever_{k}_p_escalation": (lambda spec=spec: p_escalation(spec)) for k, spec in LEVER_RUNS.items()},
    **{f"lever_{k}_ci_escalation": (lambda spec=spec: ci_escalation(spec)) for k, spec in LEVER_RUNS.items()},
    "policies_scenarios": lambda: policy_study("scenarios"),
    "policies_replicates": lambda: policy_study("replicates"),
    "policies_target": lambda: f"{policy_row('today')['target']:g}",
    **{f"policy_{p}_meets": (lambda p=p: policy_share(p)) for p in POLICIES_QUOTED},
    **{f"policy_{p}_q90": (lambda p=p: f"{policy_row(p)['q90']:.2f}") for p in POLICIES_QUOTED},
    **{f"policy_{p}_regret": (lambda p=p: f"{policy_row(p)['mean_regret']:.3f}") for p in POLICIES_QUOTED},
    "policy_today_failures": lambda: f"{1 - policy_row('today')['share_meeting']:.0%}",
    "policy_today_box_factors": lambda: failure_factors("today"),
    "policy_today_box_coverage": lambda: f"{failure_box('today')['coverage'].iloc[0]:.0%}",
    "policy_today_box_lift": lambda: f"{failure_box('today')['lift'].iloc[0]:.2f}",
    "policy_sadr_always_restrains_sustained_meets": lambda: policy_share("sadr_always_restrains", "p_sustained"),
    "policy_today_attacks_us_meets": lambda: policy_share("today", "mean_attacks_us"),
    "policy_everyone_restrains_attacks_us_meets": lambda: policy_share("everyone_restrains", "mean_attacks_us"),
    # 01 attack and intervention
    "attack_day_intervened": lambda: fmt(daily_mean(ATTACK, "intervened", "2021-11-07")),
    "attack_day_before_intervened": lambda: fmt(daily_mean(ATTACK, "intervened", "2021-11-06")),
    "attack_day_before_tension": lambda: fmt(daily_mean(ATTACK, "tension", "2021-11-06")),
    "attack_interventions_per_run": lambda: runs_mean(ATTACK, "interventions", 2),
    "attack_dropped_day_intervened": lambda: fmt(daily_mean(ATTACK_DROPPED, "intervened", "2021-11-07")),
    "attack_dropped_interventions_per_run": lambda: runs_mean(ATTACK_DROPPED, "interventions", 2),
    "attack_dropped_peak_tension_max": lambda: runs_max(ATTACK_DROPPED, "peak_tension"),
    "attack_dropped_p_any_clash": lambda: p_any_clash(ATTACK_DROPPED),
    "attack_missed_replicates": lambda: str(
        len(daily_values(run(ATTACK)[1], "attention", "2021-11-06", ("intervened=0", "2021-11-07")))
    ),
    "attack_missed_attention_max": lambda: fmt(
        daily_values(run(ATTACK)[1], "attention", "2021-11-06", ("intervened=0", "2021-11-07")).max()
    ),
    "attack_cheap_day_intervened": lambda: fmt(daily_mean(ATTACK_CHEAP, "intervened", "2021-11-07")),
    "attack_refill_days": lambda: str(refill_days()),
    # 02 Soleimani
    "soleimani_influence": lambda: f"{soleimani_influence():g}",
    "timeline_p_escalation": lambda: p_escalation(TIMELINE),
    "timeline_ci_escalation": lambda: ci_escalation(TIMELINE),
    "timeline_interventions_per_run": lambda: runs_mean(TIMELINE, "interventions", 2),
    "timeline_attacks_state_per_run": lambda: runs_mean(TIMELINE, "attacks_state", 2),
    "soleimani_p_escalation": lambda: p_escalation(SOLEIMANI),
    "soleimani_ci_escalation": lambda: ci_escalation(SOLEIMANI),
    "soleimani_interventions_per_run": lambda: runs_mean(SOLEIMANI, "interventions", 2),
    "soleimani_attacks_state_per_run": lambda: runs_mean(SOLEIMANI, "attacks_state", 2),
    "paired_escalated_ghaani_only": lambda: str(paired(TIMELINE, SOLEIMANI, "escalated")),
    "paired_escalated_soleimani_only": lambda: str(paired(SOLEIMANI, TIMELINE, "escalated")),
    "paired_escalated_sign_p": lambda: sign_test(TIMELINE, SOLEIMANI, "escalated"),
    "paired_attacks_ghaani_more": lambda: str(paired(TIMELINE, SOLEIMANI, "attacks_state")),
    "paired_attacks_soleimani_more": lambda: str(paired(SOLEIMANI, TIMELINE, "attacks_state")),
    "paired_attacks_sign_p": lambda: sign_test(TIMELINE, SOLEIMANI, "attacks_state"),
    "timeline_p_sustained": lambda: p_sustained(TIMELINE),
    "timeline_ci_sustained": lambda: ci_sustained(TIMELINE),
    "soleimani_p_sustained": lambda: p_sustained(SOLEIMANI),
    "soleimani_ci_sustained": lambda: ci_sustained(SOLEIMANI),
    "paired_sustained_ghaani_only": lambda: str(paired(TIMELINE, SOLEIMANI, "sustained")),
    "paired_sustained_soleimani_only": lambda: str(paired(SOLEIMANI, TIMELINE, "sustained")),
    "paired_sustained_sign_p": lambda: sign_test(TIMELINE, SOLEIMANI, "sustained"),
    "independence_08_p_escalation": lambda: p_escalation(INDEPENDENCE[0.8]),
    "independence_08_ci_escalation": lambda: ci_escalation(INDEPENDENCE[0.8]),
    "independence_08_soleimani_p_escalation": lambda: p_escalation(INDEPENDENT_SOLEIMANI),
    "independence_08_soleimani_ci_escalation": lambda: ci_escalation(INDEPENDENT_SOLEIMANI),
    "paired_independent_ghaani_only": lambda: str(paired(INDEPENDENCE[0.8], INDEPENDENT_SOLEIMANI, "escalated")),
    "paired_independent_soleimani_only": lambda: str(paired(INDEPENDENT_SOLEIMANI, INDEPENDENCE[0.8], "escalated")),
    "paired_independent_sign_p": lambda: sign_test(INDEPENDENCE[0.8], INDEPENDENT_SOLEIMANI, "escalated"),
    "no_patron_p_escalation": lambda: p_escalation(NO_PATRON),
    "no_patron_ci_escalation": lambda: ci_escalation(NO_PATRON),
    "no_visits_p_escalation": lambda: p_escalation(NO_VISITS),
    "no_visits_ci_escalation": lambda: ci_escalation(NO_VISITS),
    "no_patron_p_sustained": lambda: p_sustained(NO_PATRON),
    "no_patron_ci_sustained": lambda: ci_sustained(NO_PATRON),
    "ensemble_no_patron_first_escalation": lambda: long_date(first_escalation(NO_PATRON)),
    "ensemble_no_patron_apart": lambda: long_date(bands_apart(TIMELINE, NO_PATRON)),
    "ensemble_no_patron_by_1201": lambda: fmt(escalated_by(NO_PATRON, "2021-12-01"), 2),
    "ensemble_no_patron_by_0101": lambda: fmt(escalated_by(NO_PATRON, "2022-01-01"), 2),
    "ensemble_paired_no_patron_only": lambda: str(view_paired(NO_PATRON, TIMELINE)[0]),
    "ensemble_paired_patron_only": lambda: str(view_paired(NO_PATRON, TIMELINE)[1]),
    "ensemble_independent_apart": lambda: long_date(bands_apart(INDEPENDENT_SOLEIMANI, INDEPENDENCE[0.8])),
    # 03 leverage and independence
    **{
        f"leverage_{m.key}_{tag}": (lambda m=m, tag=tag: fmt(leverage(m.key, level(tag), default("patron_influence"))))
        for m in MILITIAS
        for tag in LEVELS
    },
    **{
        f"leverage_{m.key}_08_soleimani": (lambda m=m: fmt(leverage(m.key, 0.8, soleimani_influence())))
        for m in MILITIAS
    },
    "militia_aah_loyalty": lambda: f"{MILITIA['aah'].loyalty:g}",
    "militia_aah_independence_offset": lambda: f"{MILITIA['aah'].independence_offset:+g}",
    "independence_aah_08": lambda: f"{independence_of('aah', 0.8):.2f}",
    "independence_02_p_escalation": lambda: p_escalation(INDEPENDENCE[0.2]),
    "independence_02_attacks_state_per_run": lambda: runs_mean(INDEPENDENCE[0.2], "attacks_state", 2),
    "independence_08_attacks_state_per_run": lambda: runs_mean(INDEPENDENCE[0.8], "attacks_state", 2),
    "independence_08_interventions_per_run": lambda: runs_mean(INDEPENDENCE[0.8], "interventions", 2),
    "no_visits_independence_02_p_escalation": lambda: p_escalation(NO_VISITS_INDEPENDENCE[0.2]),
    "no_visits_independence_08_p_escalation": lambda: p_escalation(NO_VISITS_INDEPENDENCE[0.8]),
    "ensemble_default_no_clash": lambda: fmt(clash_share(TIMELINE, "0")),
    "ensemble_independent_no_clash": lambda: fmt(clash_share(INDEPENDENCE[0.8], "0")),
    "ensemble_independent_21_plus": lambda: fmt(clash_share(INDEPENDENCE[0.8], "21+")),
    "ensemble_independent_escalate_given_clash": lambda: fmt(escalate_given_clash(INDEPENDENCE[0.8]), 2),
    "ensemble_paired_independent_only": lambda: str(view_paired(INDEPENDENCE[0.8], TIMELINE)[0]),
    "ensemble_paired_default_only": lambda: str(view_paired(INDEPENDENCE[0.8], TIMELINE)[1]),
    # 04 boycott and mediators
    "boycott_ended": lambda: runs_mean(BOYCOTT, "boycott_ended", 3),
    "boycott_days": lambda: runs_mean(BOYCOTT, "boycott_days", 1),
    "no_mediation_boycott_ended": lambda: runs_mean(BOYCOTT_NO_MEDIATION, "boycott_ended", 3),
    "no_mediation_boycott_days": lambda: runs_mean(BOYCOTT_NO_MEDIATION, "boycott_days", 1),
    "credibility_both": lambda: fmt(credibility(boycott_mediators())),
    "credibility_sistani_only": lambda: fmt(credibility(["sistani"])),
    "credibility_patron_only": lambda: fmt(credibility(["patron"])),
    "relief_both": lambda: fmt(relief(boycott_mediators())),
    "relief_sistani_only": lambda: fmt(relief(["sistani"])),
    "relief_patron_only": lambda: fmt(relief(["patron"])),
    "boycott_eve_sadr_grievance": lambda: fmt(daily_mean(BOYCOTT, "sadr_grievance", BOYCOTT_EVE)),
    "return_grievance": lambda: fmt(return_grievance()),
    "boycott_eve_mobilisation": lambda: fmt(daily_mean(BOYCOTT, "mobilisation", BOYCOTT_EVE)),
    "resting_mobilisation": lambda: fmt(resting_mobilisation()),
    "sistani_only_boycott_ended": lambda: runs_mean(BOYCOTT_SISTANI_ONLY, "boycott_ended", 3),
    "patron_only_boycott_ended": lambda: runs_mean(BOYCOTT_PATRON_ONLY, "boycott_ended", 3),
    "boycott_p_any_clash": lambda: p_any_clash(BOYCOTT),
    "no_mediation_p_any_clash": lambda: p_any_clash(BOYCOTT_NO_MEDIATION),
    "timeline_p_any_clash": lambda: p_any_clash(TIMELINE),
    "timeline_no_mediation_p_escalation": lambda: p_escalation(TIMELINE_NO_MEDIATION),
    "timeline_no_mediation_ci_escalation": lambda: ci_escalation(TIMELINE_NO_MEDIATION),
    "timeline_no_mediation_p_any_clash": lambda: p_any_clash(TIMELINE_NO_MEDIATION),
    "paired_mediation_escalated_without_only": lambda: str(paired(TIMELINE_NO_MEDIATION, TIMELINE, "escalated")),
    "paired_mediation_escalated_with_only": lambda: str(paired(TIMELINE, TIMELINE_NO_MEDIATION, "escalated")),
    "paired_mediation_sign_p": lambda: sign_test(TIMELINE_NO_MEDIATION, TIMELINE, "escalated"),
    "timeline_attack_day_sadr_grievance": lambda: fmt(daily_mean(TIMELINE, "sadr_grievance", "2021-11-07")),
    "timeline_no_mediation_attack_day_sadr_grievance": lambda: fmt(
        daily_mean(TIMELINE_NO_MEDIATION, "sadr_grievance", "2021-11-07")
    ),
    # 05 design your own scenario
    "election_p_escalation": lambda: p_escalation(ELECTION),
    "election_ci_escalation": lambda: ci_escalation(ELECTION),
    "election_p_any_clash": lambda: p_any_clash(ELECTION),
    "election_interventions_per_run": lambda: runs_mean(ELECTION, "interventions", 2),
    "election_attacks_state_per_run": lambda: runs_mean(ELECTION, "attacks_state", 2),
    "ladder_p_escalation": lambda: p_escalation(LADDER),
    "ladder_ci_escalation": lambda: ci_escalation(LADDER),
    "ladder_p_any_clash": lambda: p_any_clash(LADDER),
    "ladder_interventions_per_run": lambda: runs_mean(LADDER, "interventions", 2),
    "ladder_attacks_state_per_run": lambda: runs_mean(LADDER, "attacks_state", 2),
    **{
        f"ladder_without_{kind}_p_any_clash": (lambda spec=spec: p_any_clash(spec))
        for kind, spec in LADDER_WITHOUT.items()
    },
    "ladder_without_coalition_attacks_state_per_run": lambda: runs_mean(
        LADDER_WITHOUT["coalition"], "attacks_state", 2
    ),
    "ladder_rise_any_clash": lambda: fmt(any_clash(LADDER).mean() - any_clash(ELECTION).mean()),
    "ladder_drops_any_clash": lambda: fmt(
        sum(any_clash(LADDER).mean() - any_clash(s).mean() for s in LADDER_WITHOUT.values())
    ),
    "election_independent_p_escalation": lambda: p_escalation(ELECTION_INDEPENDENT),
    "election_independent_ci_escalation": lambda: ci_escalation(ELECTION_INDEPENDENT),
    "ladder_independent_p_escalation": lambda: p_escalation(LADDER_INDEPENDENT),
    "ladder_independent_ci_escalation": lambda: ci_escalation(LADDER_INDEPENDENT),
    "ladder_independent_p_any_clash": lambda: p_any_clash(LADDER_INDEPENDENT),
    # 06 stand-down orders: (column, date) pairs read from daily.parquet
    "stand_down_order_last_day": order_last_day,
    "militia_aah_discipline": lambda: f"{MILITIA['aah'].discipline:g}",
    **{
        f"stand_down_{col}_{mmdd(date)}": (lambda col=col, date=date: fmt(daily_mean(STAND_DOWN, col, date)))
        for col, dates in STAND_DOWN_READS.items()
        for date in dates
    },
    "stand_down_all_violence_1025": lambda: fmt(daily_mean(STAND_DOWN_ALL, "violence", "2021-10-25")),
    "stand_down_all_violence_1026": lambda: fmt(daily_mean(STAND_DOWN_ALL, "violence", "2021-10-26")),
    "stand_down_p_escalation": lambda: p_escalation(STAND_DOWN),
    "stand_down_ci_escalation": lambda: ci_escalation(STAND_DOWN),
    "stand_down_all_p_escalation": lambda: p_escalation(STAND_DOWN_ALL),
    "stand_down_all_ci_escalation": lambda: ci_escalation(STAND_DOWN_ALL),
    "stand_down_none_p_escalation": lambda: p_escalation(STAND_DOWN_NONE),
    "stand_down_none_ci_escalation": lambda: ci_escalation(STAND_DOWN_NONE),
    # 07 two theories of leverage
    **{f"lever_coercion_{key}_{tag}": (lambda key=key, x=x: fmt(leverage_coercion(key, x, default("patron_influence"))))
       for key in MILITIA for tag, x in (("02", 0.2), ("default", default("militia_independence")), ("08", 0.8))},
    **{f"lever_salehyan_{key}_{tag}": (lambda key=key, x=x: fmt(leverage(key, x, default("patron_influence"))))
       for key in MILITIA for tag, x in (("02", 0.2), ("08", 0.8))},
    "coercion_p_escalation": lambda: p_escalation(COERCION),
    "coercion_ci_escalation": lambda: ci_escalation(COERCION),
    "coercion_p_any_clash": lambda: p_any_clash(COERCION),
    "coercion_08_p_escalation": lambda: p_escalation(COERCION_INDEPENDENCE[0.8]),
    "coercion_08_ci_escalation": lambda: ci_escalation(COERCION_INDEPENDENCE[0.8]),
    "coercion_02_p_escalation": lambda: p_escalation(COERCION_INDEPENDENCE[0.2]),
    "independence_02_p_escalation_again": lambda: p_escalation(INDEPENDENCE[0.2]),
    "coercion_no_visits_p_escalation": lambda: p_escalation(NO_VISITS_COERCION),
    "coercion_no_visits_08_p_escalation": lambda: p_escalation(NO_VISITS_COERCION_08),
    "visits_effect_salehyan_default": lambda: f"{visits_effect(NO_VISITS, TIMELINE):+.3f}",
    "visits_effect_salehyan_08": lambda: f"{visits_effect(NO_VISITS_INDEPENDENCE[0.8], INDEPENDENCE[0.8]):+.3f}",
    "visits_effect_coercion_default": lambda: f"{visits_effect(NO_VISITS_COERCION, COERCION):+.3f}",
    "visits_effect_coercion_08": lambda: f"{visits_effect(NO_VISITS_COERCION_08, COERCION_INDEPENDENCE[0.8]):+.3f}",
    "coercion_no_patron_p_escalation": lambda: p_escalation(NO_PATRON_COERCION),
    "attack_low_badr_grievance_salehyan": lambda: fmt(daily_mean(ATTACK_LOW, "grievance_badr", "2021-11-07")),
    "attack_low_badr_grievance_coercion": lambda: fmt(daily_mean(ATTACK_LOW_COERCION, "grievance_badr", "2021-11-07")),
    "attack_low_p_escalation_salehyan": lambda: p_escalation(ATTACK_LOW),
    "attack_low_p_escalation_coercion": lambda: p_escalation(ATTACK_LOW_COERCION),
}


def _mean(spec, column: str) -> float:
    return float(run(spec)[0][column].mean())


def _sd(col: str, date: str, spec=STAND_DOWN) -> float:
    return daily_mean(spec, col, date)


def salient_share(spec) -> float:
    """Share of the interventions (in the replicates kept daily) made on a salient day: the day of a
    scheduled attack on the state or PM, or the day after an emergent one (ODD 7.3, 7.16)."""
    daily = run(spec)[1].sort_values(["replicate", "day"])
    scenario = load_scenario(str(config(spec).scenario_file or config(spec).scenario.name))
    attack_days = {e.day for e in scenario.events if e.kind == "attack" and e.data.get("target", "pm") != "us"}
    after_attack = daily.groupby("replicate")["attacks_state_today"].shift(1).fillna(0) > 0
    salient = after_attack | daily["day"].isin(attack_days)
    visits = daily["intervened"].astype(bool)
    return float((visits & salient).sum() / visits.sum())


def visits_unexplained(spec) -> int:
    """Interventions (in the replicates kept daily) made neither on a salient day nor after a day whose
    tension passed the trigger (ODD 7.3: the patron reads yesterday's tension)."""
    daily = run(spec)[1].sort_values(["replicate", "day"])
    scenario = load_scenario(str(config(spec).scenario_file or config(spec).scenario.name))
    attack_days = {e.day for e in scenario.events if e.kind == "attack" and e.data.get("target", "pm") != "us"}
    by_replicate = daily.groupby("replicate")
    salient = (by_replicate["attacks_state_today"].shift(1).fillna(0) > 0) | daily["day"].isin(attack_days)
    tense = by_replicate["tension"].shift(1).fillna(0) > default("patron_trigger")
    return int((daily["intervened"].astype(bool) & ~salient & ~tense).sum())


def _ladder_sharper_than_defaults() -> bool:
    """ladder.yaml's deadline and coalition events set larger magnitudes than the declared defaults."""
    from sim.model.scenario import FIELD_BY_KIND

    events = {e.kind: e for e in load_scenario(LADDER[0].split("=", 1)[1]).events}
    return all(
        events[kind].data[name] > default(FIELD_BY_KIND[kind][name].param)
        for kind, names in (("deadline", ("hostility_us", "grievance")), ("coalition", ("grievance", "rivalry")))
        for name in names
    )


def boycott_mobilisation() -> pd.Series:
    """Mean mobilisation of Sadr's armed wing on each day of the boycott before the mediation (15 July
    to 19 August), over the replicates kept daily."""
    daily = run(BOYCOTT)[1]
    days = daily.loc[(daily["date"] >= pd.Timestamp("2021-07-15")) & (daily["date"] <= pd.Timestamp(BOYCOTT_EVE))]
    return days.groupby("date")["mobilisation"].mean()


def tension_over_trigger_with_clash(spec) -> tuple[float, float]:
    """(share of runs whose tension ever passes the trigger, share of those runs with a clash)."""
    runs = run(spec)[0]
    over = runs["peak_tension"] > default("patron_trigger")
    return float(over.mean()), float((runs.loc[over, "first_clash_day"] >= 0).mean()) if over.any() else 0.0


def _p(spec, column: str = "escalated") -> float:
    return float(run(spec)[0][column].mean())


def visits_prevent(independence: float | None) -> float:
    """Share of the escalation without visits that the visits prevent, at militia_independence 0.2 or 0.8
    (None: the default)."""
    with_visits = TIMELINE if independence is None else INDEPENDENCE[independence]
    without = NO_VISITS if independence is None else NO_VISITS_INDEPENDENCE[independence]
    return 1 - _p(with_visits) / _p(without)


def _leverage_lower_everywhere() -> bool:
    """Asa'ib Ahl al-Haq has the least leverage and Badr the most at every level of the table."""
    for tag in LEVELS:
        lev = {m.key: leverage(m.key, level(tag), default("patron_influence")) for m in MILITIAS}
        if min(lev, key=lev.get) != "aah" or max(lev, key=lev.get) != "badr":
            return False
    return True


# Sentences whose truth depends on the numbers: each marked <!-- claim:NAME --> in the Markdown.
def _published_meets(policy: str, outcome: str = "p_escalation") -> float:
    return float(policy_row(policy, outcome)["share_meeting"])


CLAIMS: dict[str, Callable[[], bool]] = {
    # 07: at the defaults the patron all in and Sadr always restraining cannot be told apart, and each beats every
    # other single actor's lever; the US hard line and the patron staying out raise the risk
    "lever_best_two_indistinguishable_at_defaults": lambda: (
        intervals_overlap(PATRON_ALL_IN, SADR_ALWAYS)
        and max(_p(PATRON_ALL_IN), _p(SADR_ALWAYS)) < min(_p(s) for s in (STRONG_STATE, US_NEVER, US_HARD, NO_VISITS))
    ),
    "lever_hard_line_and_staying_out_raise_risk": lambda: min(_p(US_HARD), _p(NO_VISITS)) > _p(TIMELINE),
    # across scenarios Sadr always restraining is more robust than the patron all in (more scenarios meet the
    # target, a lower 90th percentile), and combining every restraint is the most robust of all
    "policy_sadr_more_robust_than_patron_all_in": lambda: (
        _published_meets("sadr_always_restrains") > _published_meets("patron_all_in")
        and policy_row("sadr_always_restrains")["q90"] < policy_row("patron_all_in")["q90"]
    ),
    "policy_everyone_most_robust_patron_out_least": lambda: (
        max(POLICIES_QUOTED, key=_published_meets) == "everyone_restrains"
        and min(POLICIES_QUOTED, key=_published_meets) == "patron_stays_out"
    ),
    "policy_today_box_says_little": lambda: float(failure_box("today")["lift"].iloc[0]) < 1.5,
    "policy_attacks_us_barely_move": lambda: (
        abs(_published_meets("everyone_restrains", "mean_attacks_us") - _published_meets("today", "mean_attacks_us"))
        < 0.1
    ),
    # 01: tension on the eve is below the trigger; without the attack tension passes it in a minority of
    # runs, nearly all of them runs where the camps clash (tension counts Sadr's mobilisation), and most
    # visits still answer a salient day; every missed replicate lacked the attention
    "attack_eve_tension_below_trigger": lambda: daily_mean(ATTACK, "tension", "2021-11-06") < default("patron_trigger"),
    "attack_dropped_tension_passes_trigger_only_with_clash": lambda: (
        0.05 < tension_over_trigger_with_clash(ATTACK_DROPPED)[0] < 0.2
        and tension_over_trigger_with_clash(ATTACK_DROPPED)[1] > 0.9
    ),
    # most visits (over half, not all) answer a salient day; every other one answers tension over the trigger
    "attack_dropped_visits_mostly_salient": lambda: (
        0.5 < salient_share(ATTACK_DROPPED) < 0.95 and visits_unexplained(ATTACK_DROPPED) == 0
    ),
    "attack_missed_all_lacked_attention": lambda: bool(
        (
            daily_values(run(ATTACK)[1], "attention", "2021-11-06", ("intervened=0", "2021-11-07"))
            < default("patron_attention_cost")
        ).all()
    ),
    "attack_some_missed": lambda: (
        0 < len(daily_values(run(ATTACK)[1], "attention", "2021-11-06", ("intervened=0", "2021-11-07")))
    ),
    # 02
    # README: at the defaults the seed timeline climbs the severity ladder's rungs ever more rarely: about
    # half the runs clash, about one in eight escalates (under half the runs that clash), sustained
    # fighting almost never
    "timeline_ladder_at_defaults": lambda: (
        0.3 < any_clash(TIMELINE).mean() < 0.6
        and 0.05 < _p(TIMELINE) < min(0.25, any_clash(TIMELINE).mean() / 2)
        and _p(TIMELINE, "sustained") < 0.01
    ),
    # 02: escalation now separates the patrons (intervals apart, most escalation prevented); about three
    # visits in four answer a salient day
    "soleimani_intervals_apart": lambda: not intervals_overlap(TIMELINE, SOLEIMANI),
    # about one in eight (0.09-0.16) escalates with Ghaani, and Soleimani prevents most of it (over two thirds)
    "soleimani_prevents_most_escalation": lambda: 0.09 < _p(TIMELINE) < 0.16 and _p(SOLEIMANI) < _p(TIMELINE) / 3,
    "timeline_visits_mostly_salient": lambda: (
        0.65 < salient_share(TIMELINE) < 0.85 and visits_unexplained(TIMELINE) == 0
    ),
    "soleimani_fewer_attacks_and_visits": lambda: (
        _mean(SOLEIMANI, "attacks_state") < _mean(TIMELINE, "attacks_state")
        and _mean(SOLEIMANI, "interventions") < _mean(TIMELINE, "interventions")
    ),
    "paired_escalated_one_sided": lambda: (
        paired(TIMELINE, SOLEIMANI, "escalated") > 10 * paired(SOLEIMANI, TIMELINE, "escalated")
    ),
    # sustained fighting is too rare for either view: the two Wilson intervals overlap, and the discordant
    # pairs are a handful (at most ten), too few for their split to reach p < 0.05 in a sign test
    "paired_sustained_too_few_pairs": lambda: (
        sustained_interval(TIMELINE)[0] < sustained_interval(SOLEIMANI)[1]
        and paired(TIMELINE, SOLEIMANI, "sustained") + paired(SOLEIMANI, TIMELINE, "sustained") <= 10
        and sign_p(TIMELINE, SOLEIMANI, "sustained") > 0.05
    ),
    "paired_attacks_one_sided": lambda: (
        paired(TIMELINE, SOLEIMANI, "attacks_state") > 10 * paired(SOLEIMANI, TIMELINE, "attacks_state")
    ),
    "soleimani_mostly_better_when_independent": lambda: (
        paired(INDEPENDENCE[0.8], INDEPENDENT_SOLEIMANI, "escalated")
        > 10 * paired(INDEPENDENT_SOLEIMANI, INDEPENDENCE[0.8], "escalated")
    ),
    # the share of escalation the stronger patron prevents: nearly nine tenths (over 0.8) at the default
    # independence, about a third (0.2-0.45) at 0.8
    "soleimani_helps_less_when_independent": lambda: (
        1 - _p(SOLEIMANI) / _p(TIMELINE) > 0.8 and 0.2 < 1 - _p(INDEPENDENT_SOLEIMANI) / _p(INDEPENDENCE[0.8]) < 0.45
    ),
    "no_patron_worse_than_no_visits_worse_than_defaults": lambda: (
        escalation_probability(run(NO_PATRON)[0])[1] > escalation_probability(run(NO_VISITS)[0])[2]
        and escalation_probability(run(NO_VISITS)[0])[1] > escalation_probability(run(TIMELINE)[0])[2]
    ),
    # without a patron most runs escalate, yet sustained fighting stays the exception (Sadr's halt)
    "no_patron_mostly_escalates_rarely_sustained": lambda: _p(NO_PATRON) > 0.5 and _p(NO_PATRON, "sustained") < 0.15,
    # worded to hold whatever the model's numbers: the order of events and of magnitudes, not the values
    # with a patron of either strength over independent militias nothing escalates before the vote; without
    # a patron a few histories do (under one in a hundred by election day)
    "ensemble_little_before_the_election": lambda: (
        all(first_escalation(spec) is not None and first_escalation(spec) > election_day()
            for spec in (INDEPENDENCE[0.8], INDEPENDENT_SOLEIMANI))
        and _share_by(NO_PATRON, election_day()) < 0.01
    ),
    "ensemble_no_patron_inflames_far_more_than_calms": lambda: (
        10 * view_paired(NO_PATRON, TIMELINE)[1] < view_paired(NO_PATRON, TIMELINE)[0]
    ),
    "ensemble_independent_apart_later": lambda: (
        bands_apart(INDEPENDENT_SOLEIMANI, INDEPENDENCE[0.8]) is not None
        and bands_apart(TIMELINE, NO_PATRON) is not None
        and bands_apart(INDEPENDENT_SOLEIMANI, INDEPENDENCE[0.8]) > bands_apart(TIMELINE, NO_PATRON)
    ),
    # 03
    "aah_least_badr_most_leverage": _leverage_lower_everywhere,
    # both rise with independence, attacks about threefold (2-4x) from 0.2 to 0.8, escalation some twentyfold
    # (12-30x), at least three times the attacks' factor
    "escalation_multiplies_faster_than_attacks": lambda: (
        _mean(INDEPENDENCE[0.2], "attacks_state")
        < _mean(TIMELINE, "attacks_state")
        < _mean(INDEPENDENCE[0.8], "attacks_state")
        and _p(INDEPENDENCE[0.2]) < _p(TIMELINE) < _p(INDEPENDENCE[0.8])
        and 2 < _mean(INDEPENDENCE[0.8], "attacks_state") / _mean(INDEPENDENCE[0.2], "attacks_state") < 4
        and 12 < _p(INDEPENDENCE[0.8]) / _p(INDEPENDENCE[0.2]) < 30
        and _p(INDEPENDENCE[0.8]) / _p(INDEPENDENCE[0.2])
        > 3 * _mean(INDEPENDENCE[0.8], "attacks_state") / _mean(INDEPENDENCE[0.2], "attacks_state")
    ),
    "independent_patron_busier": lambda: _mean(INDEPENDENCE[0.8], "interventions") > _mean(TIMELINE, "interventions"),
    "soleimani_cannot_make_up": lambda: (
        escalation_probability(run(INDEPENDENT_SOLEIMANI)[0])[1] > escalation_probability(run(TIMELINE)[0])[2]
    ),
    "soleimani_leverage_below_ghaani_default": lambda: all(
        leverage(m.key, 0.8, soleimani_influence()) < leverage(m.key, level("default"), default("patron_influence"))
        for m in MILITIAS
    ),
    "independence_matters_without_visits": lambda: (
        _mean(NO_VISITS_INDEPENDENCE[0.2], "escalated")
        < _mean(NO_VISITS, "escalated")
        < _mean(NO_VISITS_INDEPENDENCE[0.8], "escalated")
    ),
    # the share of the no-visit escalation that the visits prevent falls as independence rises, from nearly
    # all of it (over 0.8) at 0.2 to about a quarter (0.1-0.4) at 0.8
    "visits_matter_most_when_dependent": lambda: (
        visits_prevent(0.2) > max(0.8, visits_prevent(None))
        and visits_prevent(None) > visits_prevent(0.8)
        and 0.1 < visits_prevent(0.8) < 0.4
    ),
    "visits_lower_risk_at_every_level": lambda: all(
        _mean(with_visits, "escalated") < _mean(without, "escalated")
        for with_visits, without in (
            (INDEPENDENCE[0.2], NO_VISITS_INDEPENDENCE[0.2]),
            (TIMELINE, NO_VISITS),
            (INDEPENDENCE[0.8], NO_VISITS_INDEPENDENCE[0.8]),
        )
    ),
    "ensemble_independence_inflames_far_more_than_calms": lambda: (
        10 * view_paired(INDEPENDENCE[0.8], TIMELINE)[1] < view_paired(INDEPENDENCE[0.8], TIMELINE)[0]
    ),
    "ensemble_clashes_mostly_escalate": lambda: escalate_given_clash(INDEPENDENCE[0.8]) > 0.5,
    # 04
    "boycott_arms_no_one": lambda: (
        daily_mean(BOYCOTT, "sadr_grievance", BOYCOTT_EVE) < default("sadr_grievance_base") + 0.01
    ),
    "sistani_enough_patron_not": lambda: (
        daily_mean(BOYCOTT, "sadr_grievance", BOYCOTT_EVE) - relief(["sistani"])
        < return_grievance()
        < daily_mean(BOYCOTT, "sadr_grievance", BOYCOTT_EVE) - relief(["patron"])
        and _mean(BOYCOTT_SISTANI_ONLY, "boycott_ended") > _mean(BOYCOTT_PATRON_ONLY, "boycott_ended")
    ),
    "boycott_mostly_ends_at_mediation": lambda: (
        (run(BOYCOTT)[0]["boycott_days"] == (dt.date(2021, 8, 20) - dt.date(2021, 7, 15)).days).mean() > 0.5
    ),
    # the boycott arms no one: on every boycott day the wing's mean mobilisation is above 0 (no hard
    # floor) but below 1%, within a factor of two of its resting level
    "boycott_wing_stays_at_rest": lambda: (
        boycott_mobilisation().min() > 0 and boycott_mobilisation().max() < min(0.01, 2 * resting_mobilisation())
    ),
    "both_mediators_beat_either": lambda: relief(boycott_mediators()) > max(relief(["sistani"]), relief(["patron"])),
    "clashes_rare_before_election": lambda: (
        max(any_clash(BOYCOTT).mean(), any_clash(BOYCOTT_NO_MEDIATION).mean()) < 0.01
    ),
    # the mediation more than halves P(escalation), and the pairs run one way at least ten to one
    "mediation_rarely_worse_over_timeline": lambda: (
        10 * paired(TIMELINE, TIMELINE_NO_MEDIATION, "escalated") < paired(TIMELINE_NO_MEDIATION, TIMELINE, "escalated")
        and _p(TIMELINE) < _p(TIMELINE_NO_MEDIATION) / 2
    ),
    "mediation_lowers_grievance_at_attack": lambda: (
        daily_mean(TIMELINE, "sadr_grievance", "2021-11-07")
        < daily_mean(TIMELINE_NO_MEDIATION, "sadr_grievance", "2021-11-07")
        < default("mobilisation_threshold")
    ),
    # 05
    "ladder_sharper_than_defaults": _ladder_sharper_than_defaults,
    "election_alone_clashes_sometimes": lambda: 0.15 < any_clash(ELECTION).mean() < 0.3,  # about one in five
    "ladder_more_than_election": lambda: (
        all(_mean(LADDER, c) > _mean(ELECTION, c) for c in ("interventions", "attacks_state"))
        and any_clash(LADDER).mean() > any_clash(ELECTION).mean()
    ),
    # the drops, one event at a time, do not sum to the whole rise (by more than 0.05 either way)
    "ladder_events_not_additive": lambda: abs(
        sum(any_clash(LADDER).mean() - any_clash(s).mean() for s in LADDER_WITHOUT.values())
        - (any_clash(LADDER).mean() - any_clash(ELECTION).mean())
    ) > 0.05,
    "ladder_deadline_matters_least": lambda: (
        any_clash(LADDER_WITHOUT["deadline"]).mean()
        > max(any_clash(LADDER_WITHOUT[k]).mean() for k in ("attack", "coalition"))
    ),
    # without the coalition exclusion any clash falls by more than a third, and by more than without the
    # attack; the exclusion's anger brings fewer attacks on the state (Sadr's ally) without it
    "ladder_coalition_matters_most": lambda: (
        any_clash(LADDER_WITHOUT["coalition"]).mean() < any_clash(LADDER).mean() * 2 / 3
        and any_clash(LADDER_WITHOUT["coalition"]).mean() < any_clash(LADDER_WITHOUT["attack"]).mean()
        and _mean(LADDER_WITHOUT["coalition"], "attacks_state") < _mean(LADDER, "attacks_state")
    ),
    "ladder_escalation_common_election_not": lambda: _p(ELECTION) < 0.15 and _p(LADDER) > 0.3,
    # at independence 0.8 the ladder's lead in escalation shrinks as a ratio, and its any clash nears 1
    "ladder_ratio_shrinks_any_clash_saturates": lambda: (
        _p(LADDER_INDEPENDENT) / _p(ELECTION_INDEPENDENT) < _p(LADDER) / _p(ELECTION)
        and any_clash(LADDER_INDEPENDENT).mean() > 0.95
    ),
    "ladder_order_holds_where_common": lambda: (
        escalation_probability(run(LADDER_INDEPENDENT)[0])[1] > escalation_probability(run(ELECTION_INDEPENDENT)[0])[2]
    ),
    # 06
    "order_read_dates": lambda: (
        order_last_day() == ORDER_LAST
        and dt.date.fromisoformat(ORDER_AFTER) - dt.date.fromisoformat(ORDER_LAST) == dt.timedelta(days=1)
    ),
    "sadr_stands_down_at_once": lambda: (
        _sd("mobilisation", "2021-10-25") <= (1 - default("sadr_discipline")) * _sd("mobilisation", "2021-10-24")
    ),
    "aah_stands_down_over_days": lambda: (
        _sd("share_aah", "2021-10-25") / _sd("share_aah", "2021-10-24")
        > _sd("mobilisation", "2021-10-25") / _sd("mobilisation", "2021-10-24")
        and _sd("share_aah", "2021-10-27") < 0.5 * _sd("share_aah", "2021-10-25")
    ),
    "both_rise_again_after_orders": lambda: (
        _sd("mobilisation", ORDER_LAST) < _sd("mobilisation", ORDER_AFTER) < _sd("mobilisation", "2021-11-07")
        and _sd("share_aah", ORDER_LAST) < _sd("share_aah", ORDER_AFTER) < _sd("share_aah", "2021-11-07")
    ),
    "badr_barely_moves": lambda: all(
        _sd(f"share_{key}", "2021-10-25") > 0.9 * _sd(f"share_{key}", "2021-10-24") for key in ("badr", "kss", "pmf")
    ),
    "orders_expire_before_grievance": lambda: (
        min(_sd("sadr_grievance", "2021-10-24"), _sd("sadr_grievance", ORDER_LAST)) > default("mobilisation_threshold")
    ),
    "all_militias_adds_little": lambda: (
        _mean(STAND_DOWN, "escalated") - _mean(STAND_DOWN_ALL, "escalated")
        < 0.5 * (_mean(STAND_DOWN_NONE, "escalated") - _mean(STAND_DOWN, "escalated"))
    ),
    "hazard_falls_more_than_violence": lambda: (
        _sd("hazard", "2021-10-25") / _sd("hazard", "2021-10-24")
        < 0.5 * _sd("violence", "2021-10-25") / _sd("violence", "2021-10-24")
    ),
    "all_militias_order_calms_camp": lambda: (
        _sd("violence", "2021-10-26", STAND_DOWN_ALL) < 0.5 * _sd("violence", "2021-10-26")
    ),
    # 07 two theories of leverage
    "coercion_nobody_coerced_at_default": lambda: not any(coerced(k, default("militia_independence")) for k in MILITIA),
    "coercion_everyone_coerced_at_02": lambda: all(coerced(k, 0.2) for k in MILITIA),
    "coercion_keeps_leverage_at_08": lambda: all(
        leverage_coercion(k, 0.8, default("patron_influence")) > leverage(k, 0.8, default("patron_influence"))
        for k in MILITIA),
    "no_patron_same_under_both": lambda: run(NO_PATRON)[0].equals(run(NO_PATRON_COERCION)[0]),
    "structures_disagree_at_08": lambda: not intervals_overlap(INDEPENDENCE[0.8], COERCION_INDEPENDENCE[0.8]),
    "visits_matter_more_under_coercion_at_08": lambda: (
        visits_effect(NO_VISITS_COERCION_08, COERCION_INDEPENDENCE[0.8])
        < visits_effect(NO_VISITS_INDEPENDENCE[0.8], INDEPENDENCE[0.8])),
    "berated_badr_resents": lambda: (daily_mean(ATTACK_LOW_COERCION, "grievance_badr", "2021-11-07")
                                     > daily_mean(ATTACK_LOW, "grievance_badr", "2021-11-07")),
    "orders_lower_risk_but_not_remove": lambda: (
        escalation_probability(run(STAND_DOWN)[0])[2] < escalation_probability(run(STAND_DOWN_NONE)[0])[1]
        and escalation_probability(run(STAND_DOWN_ALL)[0])[0] > 0.1
    ),
}


# ----------------------------------------------------------------------------- check and write


def exercise_files() -> list[Path]:
    return sorted(EXERCISE_DIR.glob("*.md"))


def quoted(path: Path) -> list[tuple[str, str]]:
    """(name, printed value) of every key marker in a Markdown file."""
    return [(m["name"], m["value"]) for m in MARKER.finditer(path.read_text())]


def claimed(path: Path) -> list[str]:
    """The name of every claim marker in a Markdown file."""
    return [m["name"] for m in CLAIM.finditer(path.read_text())]


def compute(names=None) -> dict[str, str]:
    return {name: KEYS[name]() for name in (names if names is not None else KEYS)}


def false_claims(path: Path) -> list[str]:
    """One line per claim marker in ``path`` that is unknown or no longer holds."""
    problems = []
    for name in claimed(path):
        if name not in CLAIMS:
            problems.append(f"{path.name}: claim {name} is not in sim.exercises.CLAIMS")
        elif not CLAIMS[name]():
            problems.append(f"{path.name}: claim {name} no longer holds: reword the sentence it marks")
    return problems


def stale() -> list[str]:
    """One line per key whose printed value differs from the model's (or that is unknown), and per
    claim that no longer holds."""
    problems = []
    for path in exercise_files():
        for name, printed in quoted(path):
            if name not in KEYS:
                problems.append(f"{path.name}: key {name} is not in sim.exercises.KEYS")
            elif printed != (value := compute([name])[name]):
                problems.append(f"{path.name}: key {name} prints {printed}, the model gives {value}")
        problems += false_claims(path)
    return problems


def write() -> list[Path]:
    """Rewrite every key value in docs/exercises/*.md from the model; return the files changed."""
    changed = []
    for path in exercise_files():
        text = path.read_text()
        new = MARKER.sub(lambda m: f"<!-- key:{m['name']} -->{KEYS[m['name']]()}<!-- /key -->", text)
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


def newest_run(where: str) -> Path:
    """The newest run folder of a scenario, in any variant (a counterfactual, overrides), or of one variant
    by its run name (``seed_timeline+soleimani``): by the names in its meta.json, so that a scenario_file
    run is found by its own name; or ``where`` itself if it is a folder."""
    folder = Path(where)
    if folder.is_dir():
        return folder
    runs = []
    for meta in (ROOT / "results" / "runs").glob("*/*/meta.json"):
        try:
            info = json.loads(meta.read_text())
        except (OSError, ValueError):
            continue
        if where in (info.get("scenario"), info.get("run_name")) and (meta.parent / "runs.parquet").exists():
            runs.append(meta.parent)
    if not runs:
        raise SystemExit(f"error: no run of scenario {where} under results/runs/; run python -m sim first")
    return max(runs, key=lambda f: (f.name, f.stat().st_mtime))  # folders are named by date and time


def read(where: str, column: str, date: str | None = None, among: tuple[str, str] | None = None) -> str:
    """Mean (min, max) of ``column`` in the newest run of a scenario (or a run folder): daily on
    ``date``, else per run; ``among = ("col=value", day)`` keeps the replicates with col == value on day."""
    folder = newest_run(where)
    if date is None:
        if among is not None:
            raise SystemExit("error: --among needs a date: it selects replicates of daily.parquet")
        table = pd.read_parquet(folder / "runs.parquet")
        return f"{column}: {describe(table[column].astype(float), 'runs')} ({folder})"
    values = daily_values(pd.read_parquet(folder / "daily.parquet"), column, date, among).astype(float)
    which = f" with {among[0]} on {among[1]}" if among else ""
    return f"{column} on {date}: {describe(values, 'replicates' + which)} ({folder})"


def run_args(args: argparse.Namespace) -> int:
    """``python -m sim.exercises`` once its arguments are parsed (sim/exercises.py)."""
    if args.cmd == "read":
        print(read(args.where, args.column, args.date, tuple(args.among) if args.among else None))
        return 0
    if args.write:
        for path in write():
            print(f"rewrote {path.relative_to(ROOT)}")
        problems = [line for path in exercise_files() for line in false_claims(path)]
        for line in problems:
            print(line)
        return 1 if problems else 0
    problems = stale()
    for line in problems:
        print(line)
    print(
        f"{len(problems)} stale key(s) or claim(s)" if problems else "all exercise keys and claims agree with the model"
    )
    return 1 if problems else 0
