"""Policies across scenarios (experiment=policies, python -m sim.policies): robustness and regret on a small case
worked by hand, the levers' declaration and its one-line errors, policies paired by scenario (common random
numbers), a resumed study computing only what is missing, and the analysis and figure end to end."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from sweeps import run_sweep

from sim.analysis import robustness
from sim.model.params import LEVERS, PARAM_BY_NAME, ParameterError, policy_params
from sim.model.priors import priors
from sim.run import policies
from sim.run.config_schema import CONFIG_DIR

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["experiment=policies", "engine=vector", "replicates=20", "params.cells_per_militia=5",
         "policies.scenarios=4", "policies.blocks=2", "policies.block=range(0,2)",
         "~policies.named", "+policies.named.today={}", "+policies.named.sadr_always_restrains.sadr_restraint=1.0",
         "+policies.named.us_never_retaliates.us_retaliation_prob=0.0"]  # fmt: skip


def test_robustness_and_regret_on_a_case_worked_by_hand():
    """Two policies in three scenarios weighted 1, 1, 2 (a posterior's weights), target 0.25, lower better."""
    values = pd.DataFrame({"a": [0.1, 0.3, 0.5], "b": [0.2, 0.2, 0.1]})
    w = np.array([1.0, 1.0, 2.0])
    rob = robustness.robustness(values, 0.25, w).set_index("policy")
    # a meets the target in scenario 0 only (weight 1 of 4); b in all three
    assert rob.loc["a", "share_meeting"] == pytest.approx(0.25) and rob.loc["b", "share_meeting"] == pytest.approx(1)
    # weighted 90th percentile: a's values 0.1, 0.3, 0.5 with cumulative weights 1/4, 1/2, 1 -> 0.5; b's -> 0.2
    assert rob.loc["a", "q90"] == 0.5 and rob.loc["b", "q90"] == 0.2
    assert rob.loc["a", "mean"] == pytest.approx((0.1 + 0.3 + 2 * 0.5) / 4)
    assert rob.loc["b", "mean"] == pytest.approx((0.2 + 0.2 + 2 * 0.1) / 4)
    reg = robustness.regret(values, w).set_index("policy")
    # the best in each scenario: 0.1 (a), 0.2 (b), 0.1 (b); a's regret 0, 0.1, 0.4; b's 0.1, 0, 0
    assert reg.loc["a", "mean_regret"] == pytest.approx((0 + 0.1 + 2 * 0.4) / 4)
    assert reg.loc["b", "mean_regret"] == pytest.approx(0.1 / 4)
    assert reg.loc["a", "max_regret"] == pytest.approx(0.4) and reg.loc["b", "max_regret"] == pytest.approx(0.1)
    assert reg.loc["a", "q90_regret"] == pytest.approx(0.4) and reg.loc["b", "q90_regret"] == pytest.approx(0.1)
    assert reg.loc["a", "best_share"] == pytest.approx(0.25) and reg.loc["b", "best_share"] == pytest.approx(0.75)
    pairs = robustness.paired(values, w, base="a").set_index("policy")
    # b - a: +0.1, -0.1, -0.4 -> mean -0.2; lower in scenarios 1 and 2 (weight 3 of 4)
    assert pairs.loc["b", "mean_difference"] == pytest.approx(-0.2)
    assert pairs.loc["b", "share_better"] == pytest.approx(0.75)
    assert pairs.loc["b", "share_worse"] == pytest.approx(0.25)
    # a tie shares the scenario between the best policies
    tie = robustness.regret(pd.DataFrame({"a": [0.1], "b": [0.1], "c": [0.3]}), np.ones(1)).set_index("policy")
    assert list(tie["best_share"]) == [0.5, 0.5, 0.0] and tie.loc["c", "mean_regret"] == pytest.approx(0.2)


def test_every_lever_is_a_declared_parameter_with_an_actor_and_evidence():
    assert len(LEVERS) >= 5 and {lv.actor for lv in LEVERS} == {"patron", "government", "us", "sadr"}
    for lv in LEVERS:
        p = PARAM_BY_NAME[lv.param]
        assert p.low <= lv.low < lv.high <= p.high and lv.low <= p.default <= lv.high, lv.param  # today's is open
        assert lv.evidence and lv.option
    with pytest.raises(ParameterError, match=r"^x\.us_retaliation_prob=0\.5 is out of range: allowed \[0, 0\.25\]"):
        policy_params({"us_retaliation_prob": 0.5}, prefix="x.")
    with pytest.raises(ParameterError, match=r"x\.patron_influence is not a lever"):
        policy_params({"patron_influence": 0.9}, prefix="x.")  # uncertain, not chosen by anyone


@pytest.mark.parametrize(("override", "message"), [
    ("+policies.named.mine.sadr_restrain=1", "policies.named.mine.sadr_restrain is not a lever (did you mean "
                                             "sadr_restraint?)"),
    ("+policies.named.mine.us_retaliation_prob=0.9", "policies.named.mine.us_retaliation_prob=0.9 is out of range"),
    ("policies.scenarios=0", "policies.scenarios=0 must be a whole number in [1, 1000000]"),
    ("+policies.targets.p_escalaton=0.1", "policies.targets.p_escalaton is not an outcome (did you mean "
                                          "p_escalation?)"),
    ("policies.blocks=500", "policies.blocks=500 is out of range: allowed [1, 300]"),
    ("+policies.sceanrios=5", "policies.sceanrios is not a policies field (did you mean scenarios?)"),
])  # fmt: skip
def test_a_bad_policy_study_is_one_line_before_anything_runs(override, message, tmp_path):
    res = subprocess.run([sys.executable, "-m", "sim", "experiment=policies", override], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and message in res.stderr, res.stderr
    assert not (tmp_path / "results").exists()


def _points(*overrides: str) -> list:
    from sim.model.scenario import load_scenario
    from sim.run.config_schema import register
    from sim.run.sweep import sweep_points

    register()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("config", overrides=["experiment=policies", *overrides])
    return sweep_points(cfg, load_scenario("seed_timeline"), ())  # as a launcher lists a job's points


def test_the_policies_of_a_scenario_share_its_random_numbers_and_nothing_else_does():
    pts = _points("policies.scenarios=6", "policies.blocks=3", "policies.block=1")
    assert len(pts) == 2 * 8  # scenarios 2 and 3 of six in three blocks, each with the eight policies
    by_scenario: dict[str, set] = {}
    for p in pts:
        by_scenario.setdefault(p.pair, set()).add(p.seed)
    assert set(by_scenario) == {"scenario 2", "scenario 3"} and all(len(s) == 1 for s in by_scenario.values())
    assert len({next(iter(s)) for s in by_scenario.values()}) == 2
    assert len({p.key for p in pts}) == len(pts)  # each (policy, scenario) its own point
    # a scenario draws every uncertain value but the levers; a policy sets its levers and no other value
    today = {p.pair: p for p in pts if p.label == "today"}
    for p in pts:
        base = today[p.pair].params
        changed = {n for n in PARAM_BY_NAME if getattr(p.params, n) != getattr(base, n)}
        assert changed <= {lv.param for lv in LEVERS}, (p.label, changed)
    drawn = {n for n, pr in priors().items() if n in PARAM_BY_NAME and pr.dist != "integer"} - {lv.param for lv in
                                                                                              LEVERS}  # fmt: skip
    a, b = (today[f"scenario {s}"].params for s in (2, 3))
    assert all(getattr(a, n) != getattr(b, n) for n in drawn)  # two draws differ in every continuous value
    assert all(getattr(a, lv.param) == PARAM_BY_NAME[lv.param].default for lv in LEVERS)  # today: the defaults


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("policies") / "s"
    run_sweep(*SMALL, f"hydra.sweep.dir={root}", cwd=ROOT)
    return root


def test_paired_runs_differ_only_where_the_policy_acts(study):
    """Common random numbers: in each scenario, replicate r of every policy draws the same numbers. Sadr's
    restraint acts only after a clash day, so the day of the first clash is the same, replicate by replicate,
    under today's restraint and under Sadr always restraining (with other numbers it would differ often)."""
    runs = pd.read_parquet(study / "aggregate" / "runs.parquet")
    _, where = policies.read_record(study)
    runs = runs.assign(policy=[where[k][0] for k in runs["point_key"]],
                       scenario=[where[k][1] for k in runs["point_key"]])  # fmt: skip
    seeds = runs.groupby(["scenario", "policy"])["seed"].first().unstack()
    assert (seeds.nunique(axis=1) == 1).all() and seeds.iloc[:, 0].nunique() == len(seeds)
    first = runs.pivot_table(index=["scenario", "replicate"], columns="policy", values="first_clash_day")
    assert (first["today"] == first["sadr_always_restrains"]).all()
    assert (first["sadr_always_restrains"] >= 0).any()  # some runs clash: the comparison means something
    shifted = first["today"].to_numpy() != np.roll(first["sadr_always_restrains"].to_numpy(), 1)
    assert shifted.mean() > 0.1  # unpaired runs do differ
    clashes = runs.pivot_table(index=["scenario", "replicate"], columns="policy", values="clashes")
    assert clashes["sadr_always_restrains"].mean() <= clashes["today"].mean()  # restraint cuts clashes short


def test_the_study_ends_with_its_analysis_and_figure(study, tmp_path):
    table = pd.read_parquet(study / "aggregate" / "robustness.parquet")
    assert set(table["outcome"]) == set(policies.OUTCOMES) and len(table) == 3 * 3
    assert set(table["policy"]) == {"today", "sadr_always_restrains", "us_never_retaliates"}
    esc = table[table["outcome"] == "p_escalation"].set_index("policy")
    points = pd.read_parquet(study / "aggregate" / "points.parquet")
    _, where = policies.read_record(study)
    today = points[[where[k][0] == "today" for k in points["point_key"]]]
    assert esc.loc["today", "share_meeting"] == pytest.approx((today["p_escalation"] <= 0.2).mean())
    assert esc.loc["today", "mean"] == pytest.approx(today["p_escalation"].mean())
    assert (esc["mean_regret"] >= 0).all() and esc["best_share"].sum() == pytest.approx(1.0)
    res = subprocess.run([sys.executable, "-m", "sim.policies", str(study / "aggregate"), "--target",
                          "p_escalation=0.5"], cwd=ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "P(escalation) (target: at most 0.5)" in res.stdout and "sadr_always_restrains" in res.stdout
    assert "P(sustained fighting) (target: at most 0.05)" in res.stdout  # the study's other targets stay
    res = subprocess.run([sys.executable, "-m", "sim.plot", str(study), "--kind", "policies", "--out",
                          str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0 and (tmp_path / "policies.png").exists(), res.stderr


def test_a_resumed_study_runs_only_what_is_missing(study, tmp_path):
    copy = tmp_path / "s"
    shutil.copytree(study, copy)
    gone = sorted((copy / "points").iterdir())[0]
    shutil.rmtree(gone)
    res = run_sweep(*SMALL, f"hydra.sweep.dir={copy}", cwd=ROOT)
    ran = [json.loads(p.read_text())["ran"] for p in sorted((copy / "jobs").glob("*.json"))]
    assert sorted(ran) == [0, 1], res.stdout
    a = pd.read_parquet(study / "aggregate" / "points.parquet").sort_values("point_key", ignore_index=True)
    b = pd.read_parquet(copy / "aggregate" / "points.parquet").sort_values("point_key", ignore_index=True)
    pd.testing.assert_frame_equal(a, b)  # the same points, the recomputed one bit for bit
    assert (copy / "aggregate" / "robustness.parquet").exists()  # and analysed again when the sweep ended


def test_another_study_in_the_same_folder_is_refused(study, tmp_path):
    copy = tmp_path / "s"
    shutil.copytree(study, copy)
    command = [sys.executable, "-m", "sim", "-m", *SMALL[:-3], "+policies.named.today={}", f"hydra.sweep.dir={copy}"]
    res = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode != 0 and "holds another policy study" in res.stdout + res.stderr
