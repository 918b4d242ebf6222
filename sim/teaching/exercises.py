"""Answer keys for the teaching exercises in docs/exercises/, recomputed from the model.

Every number an instructor's key quotes sits between markers, ``<!-- key:NAME -->0.019<!-- /key -->``,
and ``KEYS[NAME]`` computes it from the very command the exercise prints (``python -m sim`` plus the
same overrides, seed 20211107 and 2000 replicates, composed by Hydra as the main job composes them).

    python -m sim.exercises             # check the Markdown against the model (exit 1 if a key is stale)
    python -m sim.exercises --write     # rewrite the keys after a model change
    python -m sim.exercises read attack_and_intervention intervened 2021-11-07
                                        # students: a column's mean in the newest run of a scenario

tests/test_exercises.py runs the same check."""

from __future__ import annotations

import argparse
import functools
import glob
import math
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.analysis.stats import escalation_probability
from sim.model import rules
from sim.model.params import MILITIAS, PARAM_BY_NAME
from sim.model.scenario import load_scenario
from sim.paths import REPO_ROOT
from sim.run.simulate import simulate

ROOT = REPO_ROOT
EXERCISE_DIR = ROOT / "docs" / "exercises"
MARKER = re.compile(r"<!-- key:(?P<name>[a-z0-9_]+) -->(?P<value>.*?)<!-- /key -->")
COMMON = ("seed=20211107", "replicates=2000")  # every exercise command states both
MILITIA = {m.key: m for m in MILITIAS}

# The commands the exercises print (overrides after ``python -m sim``; COMMON is appended).
ATTACK = ("scenario=attack_and_intervention",)
ATTACK_DROPPED = ("scenario=attack_and_intervention", "drop_events=[attack]")
ATTACK_CHEAP = ("scenario=attack_and_intervention", "params.patron_attention_cost=0.2")
TIMELINE = ()
SOLEIMANI = ("counterfactual=soleimani",)
NO_PATRON = ("counterfactual=no_patron",)
INDEPENDENCE = {x: (f"params.militia_independence={x}",) for x in (0.2, 0.8)}
INDEPENDENT_SOLEIMANI = ("params.militia_independence=0.8", "params.patron_influence=0.9")
BOYCOTT = ("scenario=boycott_mediation",)
BOYCOTT_NO_MEDIATION = ("scenario=boycott_mediation", "counterfactual=no_mediation")
BOYCOTT_SISTANI_ONLY = ("scenario=boycott_mediation", "counterfactual=no_patron")
BOYCOTT_PATRON_ONLY = ("scenario=boycott_mediation", "scenario.events.1.mediators.sistani=0")
TIMELINE_NO_MEDIATION = ("counterfactual=no_mediation",)
ELECTION = ("scenario=election_loss",)
LADDER = ("scenario_file=docs/exercises/scenario/ladder.yaml",)  # a student's file, outside configs/
LADDER_WITHOUT = {kind: (*LADDER, f"drop_events=[{kind}]") for kind in ("attack", "deadline", "coalition")}
STAND_DOWN = ("scenario=stand_down_orders",)
DAILY = {ATTACK, ATTACK_DROPPED, ATTACK_CHEAP, STAND_DOWN}  # keys read daily.parquet of these runs


def command(spec: tuple[str, ...]) -> str:
    """The shell command an exercise prints for ``spec``."""
    return " ".join(["python -m sim", *(shlex.quote(o) for o in (*spec, *COMMON))])


@functools.cache
def run(spec: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs, daily) of ``python -m sim <spec> seed=20211107 replicates=2000``, as the main job computes them."""
    from hydra import compose, initialize_config_dir

    from sim.run.main_job import CONFIG_DIR, resolve_inputs

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("config", overrides=[*spec, *COMMON])
    params, militias, scenario = resolve_inputs(cfg)
    return simulate(
        scenario, params, militias, seed=int(cfg.seed), replicates=int(cfg.replicates), progress=False,
        daily_replicates=int(cfg.daily_replicates) if spec in DAILY else 0,  # runs are the same either way
    )  # fmt: skip


# ----------------------------------------------------------------------------- what students read


def p_escalation(spec) -> str:
    """summary.txt, line 'escalation probability': the estimate."""
    return f"{escalation_probability(run(spec)[0])[0]:.3f}"


def ci_escalation(spec) -> str:
    """summary.txt, line 'escalation probability': the Wilson 95% interval."""
    _, lo, hi, _ = escalation_probability(run(spec)[0])
    return f"[{lo:.3f}, {hi:.3f}]"


def runs_mean(spec, column: str, digits: int) -> str:
    """summary.txt: a per-run mean ('patron interventions per run', 'boycott ended (share of runs)', ...)."""
    return f"{run(spec)[0][column].mean():.{digits}f}"


def daily_mean(spec, column: str, date: str) -> str:
    """Mean of a daily column on a date over the replicates kept in daily.parquet (``read`` below)."""
    daily = run(spec)[1]
    return f"{daily.loc[daily['date'] == pd.Timestamp(date), column].mean():.3f}"


def refill_days() -> int:
    """Days the patron needs to earn back one intervention's attention at the default rates."""
    p = {name: PARAM_BY_NAME[name].default for name in PARAM_BY_NAME}
    return math.ceil(p["patron_attention_cost"] / (p["patron_attention_recovery"] * (1 - p["patron_distraction"])))


def missed_after_recent_visit(spec, date: str) -> str:
    """Of the replicates without an intervention on ``date``, the share with one in the refill days before."""
    daily = run(spec)[1]
    wide = daily.pivot(index="replicate", columns="date", values="intervened")
    day = pd.Timestamp(date)
    before = wide.loc[:, day - pd.Timedelta(days=refill_days()) : day - pd.Timedelta(days=1)].any(axis=1)
    missed = ~wide[day].astype(bool)
    return f"{before[missed].mean():.3f}"


def paired_escalations(a, b) -> str:
    """Replicates that escalate under ``a`` but not under ``b`` (same seed: common random numbers)."""
    ra, rb = run(a)[0], run(b)[0]
    return str(int((ra["escalated"] & ~rb["escalated"]).sum()))


def leverage(key: str, independence: float, influence: float) -> str:
    """rules.leverage for a militia at a mean independence (its offset added, clipped to [0, 1])."""
    m = MILITIA[key]
    ind = rules.independence(independence, m.independence_offset)
    return f"{rules.leverage(True, influence, m.loyalty, ind):.3f}"


def mediators() -> dict[str, float]:
    """The mediators' weights in boycott_mediation.yaml's mediation event."""
    event = next(e for e in load_scenario("boycott_mediation").events if e.kind == "mediation")
    return {name: float(w) for name, w in event.data["mediators"].items()}


def credibility(patron: bool = True, sistani: bool = True) -> float:
    """A mediation's credibility (ODD 7.1): the patron's weight counts times its influence, Sistani's fully."""
    w = mediators()
    return w["patron"] * patron * PARAM_BY_NAME["patron_influence"].default + w["sistani"] * sistani


def relief(cred: float) -> str:
    """Grievance a mediation of this credibility removes from Sadr's bloc (rules.mediated)."""
    return f"{PARAM_BY_NAME['mediation_effect'].default * min(max(cred, 0.0), 1.0):.3f}"


def default(name: str) -> str:
    return f"{PARAM_BY_NAME[name].default:g}"


# ----------------------------------------------------------------------------- the keys

QUOTED_DEFAULTS = ("patron_trigger", "patron_influence", "boycott_commitment",
                   "return_threshold", "mediation_effect", "sadr_discipline", "grievance_half_life")  # fmt: skip
STAND_DOWN_READS = {
    "mobilisation": ("2021-10-24", "2021-10-25", "2021-10-31", "2021-11-07"),
    "share_aah": ("2021-10-24", "2021-10-25", "2021-11-07", "2021-11-08"),
    "share_badr": ("2021-10-24", "2021-10-25"),
    "violence": ("2021-10-24", "2021-10-25"),
}
KEYS: dict[str, Callable[[], str]] = {
    # declared defaults an exercise quotes
    **{f"default_{name}": (lambda name=name: default(name)) for name in QUOTED_DEFAULTS},
    # 01 attack and intervention
    "attack_day_intervened": lambda: daily_mean(ATTACK, "intervened", "2021-11-07"),
    "attack_day_before_intervened": lambda: daily_mean(ATTACK, "intervened", "2021-11-06"),
    "attack_day_before_tension": lambda: daily_mean(ATTACK, "tension", "2021-11-06"),
    "attack_missed_recent_visit": lambda: missed_after_recent_visit(ATTACK, "2021-11-07"),
    "attack_interventions_per_run": lambda: runs_mean(ATTACK, "interventions", 2),
    "attack_dropped_day_intervened": lambda: daily_mean(ATTACK_DROPPED, "intervened", "2021-11-07"),
    "attack_cheap_day_intervened": lambda: daily_mean(ATTACK_CHEAP, "intervened", "2021-11-07"),
    "attack_refill_days": lambda: str(refill_days()),
    # 02 Soleimani
    "timeline_p_escalation": lambda: p_escalation(TIMELINE),
    "timeline_ci_escalation": lambda: ci_escalation(TIMELINE),
    "timeline_interventions_per_run": lambda: runs_mean(TIMELINE, "interventions", 2),
    "soleimani_p_escalation": lambda: p_escalation(SOLEIMANI),
    "soleimani_ci_escalation": lambda: ci_escalation(SOLEIMANI),
    "soleimani_interventions_per_run": lambda: runs_mean(SOLEIMANI, "interventions", 2),
    "soleimani_only_ghaani_escalates": lambda: paired_escalations(TIMELINE, SOLEIMANI),
    "soleimani_only_soleimani_escalates": lambda: paired_escalations(SOLEIMANI, TIMELINE),
    "no_patron_p_escalation": lambda: p_escalation(NO_PATRON),
    "no_patron_ci_escalation": lambda: ci_escalation(NO_PATRON),
    # 03 leverage and independence
    **{
        f"leverage_{m.key}_{int(x * 10):02d}": (lambda m=m, x=x: leverage(m.key, x, 0.55))
        for m in MILITIAS
        for x in (0.2, 0.5, 0.8)
    },
    **{f"leverage_{m.key}_08_soleimani": (lambda m=m: leverage(m.key, 0.8, 0.9)) for m in MILITIAS},
    "militia_aah_loyalty": lambda: f"{MILITIA['aah'].loyalty:g}",
    "militia_aah_independence_offset": lambda: f"{MILITIA['aah'].independence_offset:+g}",
    "independence_aah_08": lambda: f"{rules.independence(0.8, MILITIA['aah'].independence_offset):.2f}",
    "independence_02_p_escalation": lambda: p_escalation(INDEPENDENCE[0.2]),
    "independence_08_p_escalation": lambda: p_escalation(INDEPENDENCE[0.8]),
    "independence_08_ci_escalation": lambda: ci_escalation(INDEPENDENCE[0.8]),
    "independence_08_interventions_per_run": lambda: runs_mean(INDEPENDENCE[0.8], "interventions", 2),
    "independence_08_soleimani_p_escalation": lambda: p_escalation(INDEPENDENT_SOLEIMANI),
    # 04 boycott and mediators
    "boycott_ended": lambda: runs_mean(BOYCOTT, "boycott_ended", 3),
    "boycott_days": lambda: runs_mean(BOYCOTT, "boycott_days", 1),
    "boycott_p_escalation": lambda: p_escalation(BOYCOTT),
    "no_mediation_boycott_ended": lambda: runs_mean(BOYCOTT_NO_MEDIATION, "boycott_ended", 3),
    "no_mediation_boycott_days": lambda: runs_mean(BOYCOTT_NO_MEDIATION, "boycott_days", 1),
    "no_mediation_p_escalation": lambda: p_escalation(BOYCOTT_NO_MEDIATION),
    "boycott_ci_escalation": lambda: ci_escalation(BOYCOTT),
    "no_mediation_ci_escalation": lambda: ci_escalation(BOYCOTT_NO_MEDIATION),
    "timeline_no_mediation_p_escalation": lambda: p_escalation(TIMELINE_NO_MEDIATION),
    "timeline_no_mediation_ci_escalation": lambda: ci_escalation(TIMELINE_NO_MEDIATION),
    "sistani_only_boycott_ended": lambda: runs_mean(BOYCOTT_SISTANI_ONLY, "boycott_ended", 3),
    "patron_only_boycott_ended": lambda: runs_mean(BOYCOTT_PATRON_ONLY, "boycott_ended", 3),
    "mediator_weight_patron": lambda: f"{mediators()['patron']:g}",
    "mediator_weight_sistani": lambda: f"{mediators()['sistani']:g}",
    "credibility_both": lambda: f"{credibility():.2f}",
    "credibility_sistani_only": lambda: f"{credibility(patron=False):.2f}",
    "credibility_patron_only": lambda: f"{credibility(sistani=False):.2f}",
    "relief_both": lambda: relief(credibility()),
    "relief_sistani_only": lambda: relief(credibility(patron=False)),
    "relief_patron_only": lambda: relief(credibility(sistani=False)),
    # 05 design your own scenario
    "election_p_escalation": lambda: p_escalation(ELECTION),
    "election_interventions_per_run": lambda: runs_mean(ELECTION, "interventions", 2),
    "ladder_p_escalation": lambda: p_escalation(LADDER),
    "ladder_ci_escalation": lambda: ci_escalation(LADDER),
    "ladder_interventions_per_run": lambda: runs_mean(LADDER, "interventions", 2),
    "ladder_attacks_us_per_run": lambda: runs_mean(LADDER, "attacks_us", 2),
    "election_attacks_us_per_run": lambda: runs_mean(ELECTION, "attacks_us", 2),
    **{
        f"ladder_without_{kind}_p_escalation": (lambda spec=spec: p_escalation(spec))
        for kind, spec in LADDER_WITHOUT.items()
    },
    # 06 stand-down orders: (column, date) pairs read from daily.parquet
    **{
        f"stand_down_{col}_{date[5:].replace('-', '')}": (lambda col=col, date=date: daily_mean(STAND_DOWN, col, date))
        for col, dates in STAND_DOWN_READS.items()
        for date in dates
    },
}


# ----------------------------------------------------------------------------- check and write


def exercise_files() -> list[Path]:
    return sorted(EXERCISE_DIR.glob("*.md"))


def quoted(path: Path) -> list[tuple[str, str]]:
    """(name, printed value) of every key marker in a Markdown file."""
    return [(m["name"], m["value"]) for m in MARKER.finditer(path.read_text())]


def compute(names=None) -> dict[str, str]:
    return {name: KEYS[name]() for name in (names if names is not None else KEYS)}


def stale() -> list[str]:
    """One line per key whose printed value differs from the model's (or that is unknown)."""
    problems = []
    for path in exercise_files():
        for name, printed in quoted(path):
            if name not in KEYS:
                problems.append(f"{path.name}: key {name} is not in sim.exercises.KEYS")
            elif printed != (value := compute([name])[name]):
                problems.append(f"{path.name}: key {name} prints {printed}, the model gives {value}")
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


def read(where: str, column: str, date: str | None = None) -> str:
    """Mean of ``column`` in the newest run of a scenario (or a run folder): daily on ``date``, else per run.
    A scenario's runs are in results/runs/<scenario>/ and, with a counterfactual or overrides, in
    results/runs/<scenario>+<...>/ (sim/run/naming.py); the newest of them all is read, and named."""
    folder = Path(where)
    if not folder.is_dir():
        base = ROOT / "results" / "runs"
        runs = [*(base / where).glob("*/runs.parquet"), *base.glob(f"{glob.escape(where)}+*/*/runs.parquet")]
        if not runs:
            raise SystemExit(f"error: no run of scenario {where} under results/runs/; run python -m sim first")
        folder = max(runs, key=lambda p: (p.parent.name, p.stat().st_mtime)).parent  # folder names are date_time
    if date is None:
        table = pd.read_parquet(folder / "runs.parquet")
        return f"{column}: mean {table[column].mean():.3f} over {len(table)} runs ({folder})"
    table = pd.read_parquet(folder / "daily.parquet")
    day = table.loc[table["date"] == pd.Timestamp(date), column]
    return f"{column} on {date}: mean {day.mean():.3f} over {len(day)} replicates ({folder})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.exercises", description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="rewrite the key values in docs/exercises/*.md")
    sub = ap.add_subparsers(dest="cmd")
    rd = sub.add_parser("read", help="a column's mean in the newest run of a scenario (or in a run folder)")
    rd.add_argument("where", help="scenario name (newest results/runs/<name>/*) or a run folder")
    rd.add_argument("column", help="a column of daily.parquet (with a date) or runs.parquet (without)")
    rd.add_argument("date", nargs="?", help="YYYY-MM-DD: read daily.parquet on this day")
    args = ap.parse_args(argv)
    if args.cmd == "read":
        print(read(args.where, args.column, args.date))
        return 0
    if args.write:
        for path in write():
            print(f"rewrote {path.relative_to(ROOT)}")
        return 0
    problems = stale()
    for line in problems:
        print(line)
    print(f"{len(problems)} stale key(s)" if problems else "all exercise keys agree with the model")
    return 1 if problems else 0

