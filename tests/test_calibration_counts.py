"""The calibration on the record's counts (sim/analysis/calibration_counts.py): its statistics come from
seeds/record.yaml, fit the record_2021 scenario and read each quantity over disjoint windows; the headline's
calibration leaves out the outcome it reports; a cut-off keeps only what the record had closed and published, and
the forecast from it only what was known then; the intervals' two parts are right on known cases; the scores are
proper; and the command runs, resumes and gives the same posterior on one thread or two."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis import calibration_counts as cc
from sim.model import record as rec
from sim.model.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def test_statistics_come_from_the_record_and_fit_the_scenario():
    record, sc = rec.load_record(), load_scenario(cc.SCENARIO)
    stats = cc.statistics()
    assert len({s.name for s in stats}) == len(stats) >= 10
    for s in stats:
        entries = [record[e] for e in s.entries]  # every id exists (KeyError otherwise)
        assert s.scale > 0 and s.low <= s.high and s.reading
        cc._days(sc, s.start, s.end)  # inside the scenario
        first = entries[0]
        if s.reading.startswith("the entry's interval"):  # taken as it stands: period and interval are the entry's
            assert (s.start, s.end) == (first.start, first.end), s.name
            assert (s.low, s.high) == tuple(float(v) for v in first.interval), s.name
    kinds = {record[s.entries[0]].kind for s in stats}
    assert {"attacks_us_period", "boycott", "patron_visit", "us_retaliation", "intra_shia_clash"} <= kinds
    assert not kinds & {"attacks_us_tally", "attacks_us_spread", "attacks_us_convoy"}  # one definition: sites


def test_each_count_has_disjoint_windows():
    """A quantity is read over windows that do not overlap (the record's three nested early-2021 windows
    counted the same attacks up to three times)."""
    by_source: dict[str, list] = {}
    for s in cc.statistics():
        by_source.setdefault(s.source, []).append((s.start, s.end))
    for source, spans in by_source.items():
        spans.sort()
        for (a0, a1), (b0, b1) in itertools.pairwise(spans):
            assert a1 < b0, (source, (a0, a1), (b0, b1))


def test_distance_is_zero_inside_the_record_and_scaled_outside():
    s = cc.Statistic("x", "run:x", date(2021, 1, 1), date(2021, 1, 2), 2, 4, 2.0, ("e",), "r")
    np.testing.assert_allclose(s.distance(np.array([0, 2, 3, 4, 8])), [1, 0, 0, 0, 2])
    open_top = cc.Statistic("y", "run:y", date(2021, 1, 1), date(2021, 1, 2), 6, math.inf, 1.0, ("e",), "r")
    np.testing.assert_allclose(open_top.distance(np.array([5, 6, 100])), [1, 0, 0])


def test_patterns_join_the_distance_as_yes_no_statistics_of_the_observations():
    """Pattern-oriented ABC: each pattern statistic carries an observation of tests/patterns.py into the distance,
    is a yes/no of the one history (1: it happened) missed at one unit, and reads what its kind says: "any" (every
    listed column on some day of its window), "all" (on each day), on known daily series."""
    from tests.patterns import OBSERVATIONS

    stats = [s for s in cc.statistics(outcome=False) if s.pattern]
    assert {s.pattern for s in stats} == {"visit_after_the_vote", "refusing_at_the_visit",
                                          "visit_after_the_coalition_talks", "sadr_in_politics"}  # fmt: skip
    assert all(s.pattern in OBSERVATIONS for s in stats)
    assert all((s.low, s.high, s.scale) == (1, 1, 1.0) for s in stats)
    assert all(s.source.split(":")[0] in ("any", "all") for s in stats)
    sc = cc.load_scenario(cc.SCENARIO)
    by_name = {s.name: s for s in stats}
    # three runs; the eve of the attack (6 November 2021) and the vote's days (10-11 October 2021)
    eve, vote = cc._days(sc, date(2021, 11, 6), date(2021, 11, 6))[0], cc._days(sc, date(2021, 10, 10),
                                                                               date(2021, 10, 11))  # fmt: skip
    zeros = np.zeros((sc.days, 3), dtype=np.int8)
    badr, aah = (f"contests_{cc.MILITIA_KEYS.index(k)}" for k in ("badr", "aah"))
    daily = {"intervened": zeros.copy(), badr: zeros.copy(), aah: zeros.copy(), "participating": zeros.copy()}
    daily["intervened"][vote[1], 0] = 1  # run 0: a visit on 11 October; run 1: on 12 October (too late)
    daily["intervened"][vote[1] + 1, 1] = 1
    daily[badr][eve, [0, 1]] = 1  # both refuse in run 0 only
    daily[aah][eve, [0, 2]] = 1
    daily["participating"][-1, [1, 2]] = 1
    value = {n: s.value({}, daily, sc).tolist() for n, s in by_name.items()}
    assert value["visit_2021_10_10_to_10_11"] == [1, 0, 0]
    assert value["refusing_2021_11_06"] == [1, 0, 0]
    assert value["visit_2022_01_16_to_01_18"] == [0, 0, 0]
    assert value["in_politics_2022_01_31"] == [0, 1, 1]
    np.testing.assert_allclose(by_name["refusing_2021_11_06"].distance(np.array([0.0, 1.0])), [1, 0])
    # none was known before the autumn's events: a forecast from either cut-off calibrates on none of them
    for cut in cc.CUTOFFS:
        assert not [s for s in cc.up_to(cc.statistics(), cut) if s.pattern]


def test_each_structure_gets_the_model_averaged_sets_that_run_it():
    """structure_groups: the whole table, then each structure's rows (enough of them), which partition the
    table; a table without structures is one group."""
    n_struct = len(cc.structure_list())
    models = np.r_[np.repeat(np.arange(n_struct), cc.STRUCTURE_MIN_SETS), [0]]
    groups = cc.structure_groups(pd.DataFrame({"model": models}))
    assert groups[0][0] == "" and groups[0][1].all()
    assert [g for g, _ in groups[1:]] == [s.label() for s in cc.structure_list()]
    assert np.array_equal(np.sum([rows for _, rows in groups[1:]], axis=0), np.ones(len(models)))
    assert groups[1][1].sum() == cc.STRUCTURE_MIN_SETS + 1
    few = cc.structure_groups(pd.DataFrame({"model": models[: 2 * cc.STRUCTURE_MIN_SETS - 1]}))
    assert [g for g, _ in few] == ["", cc.structure_list()[0].label()]  # the second has too few sets
    assert len(cc.structure_groups(pd.DataFrame({"x": [1.0, 2.0]}))) == 1


def test_the_patrons_effect_per_structure_comes_from_the_same_runs_as_the_whole():
    """escalation_study's independence rows: the whole table's and each structure's (enough sets of it), on the
    same runs, so the whole's mean effect is the structures' means weighted by their numbers of sets."""
    names = list(cc.priors.all_priors())
    n = 2 * cc.STRUCTURE_MIN_SETS
    models = np.repeat([0, 1], cc.STRUCTURE_MIN_SETS)  # today's structure and the first rival, 10 sets each
    u = np.random.default_rng(5).random((n, len(names)))
    table = cc.value_table(names, cc.to_values(names)(u), models).assign(model=models)
    settings = cc.Settings(prior_replicates=4, independence_sets=n)
    ind = cc.escalation_study({"prior": table}, settings, [], workers=2, levels=(0.5,))["independence"]
    assert ind["structure"].isna().sum() == 1  # the whole (labelled by calibrate: model-averaged)
    per = ind.dropna(subset=["structure"]).set_index("structure")
    assert list(per.index) == [s.label() for s in cc.structure_list()[:2]]
    assert (per["effect_sets"] == cc.STRUCTURE_MIN_SETS).all()
    whole = ind[ind["structure"].isna()].iloc[0]
    assert whole["effect_sets"] == n
    assert math.isclose(whole["effect_mean"], per["effect_mean"].mean(), abs_tol=1e-12)
    assert math.isclose(whole["p_mean"], per["p_mean"].mean(), abs_tol=1e-12)


def test_a_cutoff_keeps_what_the_record_had_closed_and_published():
    cut = date(2021, 10, 10)
    kept = cc.up_to(cc.statistics(), cut)
    assert kept and all(s.end <= cut and s.known_from <= cut for s in kept)
    names = {s.name for s in kept}
    assert "attacks_us_2022_01" not in names and "boycott_days" in names
    assert "clash_days_to_10_10" in names  # the nil count is shortened, not dropped
    assert [t.id for t in cc.facts(cut)] == ["boycott_over_by_the_vote"]
    assert len(cc.facts()) == 5
    # a count of dated attacks is shortened to those dated and published by the cut-off, keeping its allowance
    by_name = {s.name: s for s in cc.up_to(cc.statistics(), date(2021, 9, 30))}
    window = by_name["attacks_us_2021_07_09_to_10_30_to_09_30"]
    assert (window.low, window.high, window.end) == (3, 5, date(2021, 9, 30))
    early = {s.name: s for s in cc.up_to(cc.statistics(), date(2021, 7, 28))}["attacks_us_2021_07_09_to_10_30_to_07_28"]
    assert (early.low, early.high) == (1, 3) and early.known_from == date(2021, 7, 24)  # 23 July, published next day
    # the first half's count was known by 22 June; the year's count of attacks on bases (January 2022) is not used
    first = {s.name for s in cc.up_to(cc.statistics(), date(2021, 7, 1))}
    assert "attacks_us_2021_01_01_to_06_30" in first and "patron_visits_2021_01_to_06" in first


def test_the_headline_calibration_leaves_out_the_outcome_it_reports():
    names = {s.name for s in cc.statistics(outcome=False)}
    assert "clash_days" not in names and names < {s.name for s in cc.statistics()}
    assert "no_civil_war" not in [t.id for t in cc.facts(outcome=False)] and len(cc.facts(outcome=False)) == 4


def test_a_forecast_knows_only_what_was_known_at_its_cutoff():
    """At 1 July 2021 only the vote was scheduled (seats: no change from 2018, no poll yet); at 10 October the
    events up to it as they happened, the vote with the seats the polls expected (five variants) and the truce's
    end (announced on 26 July); never the attack on the PM, the ratification, KSS's deadline or the talks."""
    july = cc.known_scenarios(date(2021, 7, 1))
    assert len(july) == 1 and [e.kind for e in july[0].events] == ["election"]
    assert dict(july[0].events[0].data["seats"]) == {"sadrist": [54, 54], "fatah": [48, 48]}
    october = cc.known_scenarios(date(2021, 10, 10))
    assert len(october) == 5
    for sc in october:
        kinds = [e.kind for e in sc.events]
        assert {"boycott", "mediation", "election", "truce"} == set(kinds)
        assert not {"attack", "ratification", "deadline", "coalition"} & set(kinds)
        seats = next(e for e in sc.events if e.kind == "election").data["seats"]
        assert 43 <= seats["sadrist"][1] <= 53 and seats["fatah"][1] < 48
    ends = [e for e in october[0].events if e.kind == "truce" and e.data.get("phase") == "ends"]
    assert len(ends) == 1 and ends[0].date == date(2021, 12, 31)


def test_observed_months_come_from_the_record():
    sc = load_scenario(cc.SCENARIO)
    oct10 = cc.observed_months(sc, date(2021, 10, 11))
    assert [v[0] for v in oct10.values()] == [1, 0, 1, 7]  # 31 Oct; none; 19 Dec; January at least 7
    july = cc.observed_months(sc, date(2021, 7, 2))
    assert july["2021-07"][0] == 7 and july["2021-08"][0] == 0 and july["2021-09"][0] == 1


def test_an_interval_splits_into_parameter_uncertainty_and_monte_carlo_noise():
    """Sets whose true probabilities are known (a beta spread): the parameter part's variance and interval come
    back from R runs per set within sampling error, and the noise part is the binomial one; with every set at the
    same probability the parameter part is (nearly) nil and the spread is all noise."""
    rng = np.random.default_rng(3)
    p_true = rng.beta(2, 6, 2000)
    R = 50
    est = rng.binomial(R, p_true) / R
    parts = cc.interval_parts(est, R)
    assert parts["var_param"] == pytest.approx(p_true.var(), rel=0.15)
    lo, hi = np.quantile(p_true, (0.05, 0.95))
    assert parts["param_q05"] == pytest.approx(lo, abs=0.03) and parts["param_q95"] == pytest.approx(hi, abs=0.04)
    assert parts["var_mc"] == pytest.approx(np.mean(p_true * (1 - p_true)) / R, rel=0.1)
    flat = cc.interval_parts(rng.binomial(R, 0.3, 2000) / R, R)
    assert flat["param_share"] < 0.1 and flat["param_q95"] - flat["param_q05"] < 0.05
    # a paired effect: each set's runs differ by +1 with probability d_i; the parameter part recovers d's spread
    d_true = rng.uniform(0.0, 0.4, 500)
    diffs = (rng.random((500, 200)) < d_true[:, None]).astype(float)
    paired = cc.paired_parts(diffs)
    assert paired["var_param"] == pytest.approx(d_true.var(), rel=0.2)
    assert paired["mean"] == pytest.approx(d_true.mean(), abs=0.01) and paired["share_raised"] > 0.9


def test_scores_on_known_cases():
    assert cc.rps(np.full(100, 3), 3) == 0.0
    assert cc.rps(np.full(100, 3), 5) == pytest.approx(2.0)  # F = 1 at k = 3, 4 where the outcome's step is 0
    rng = np.random.default_rng(1)
    for lam, y in ((0.5, 0), (2.0, 1), (6.0, 6)):
        assert cc.rps(rng.poisson(lam, 200_000), y) == pytest.approx(cc.rps_poisson(lam, y), abs=5e-3)
    # proper: the expected score is lowest for the true distribution
    truth = rng.poisson(2.0, 4000)
    own = np.mean([cc.rps_poisson(2.0, y) for y in truth[:400]])
    other = np.mean([cc.rps_poisson(4.0, y) for y in truth[:400]])
    assert own < other
    assert cc.log_score_samples(np.array([0, 0, 1]), 0) < cc.log_score_samples(np.array([0, 0, 1]), 1)


SMALL = ["--particles", "60", "--replicates", "2", "--generations", "3", "--predictive-sets", "6",
         "--predictive-replicates", "4", "--check-replicates", "2", "--single", "headline"]  # fmt: skip


def test_the_command_runs_resumes_and_gives_the_same_posterior_on_one_or_two_threads(tmp_path):
    """`python -m sim.calibrate --method smc` at a tiny size: it writes the posterior and the diagnostics (the
    tolerance schedule, acceptance and ESS per generation); a rerun reuses every stored generation; the same
    seed on two threads (other blocks) gives the same posterior."""
    out = tmp_path / "a"
    args = [sys.executable, "-m", "sim.calibrate", "--method", "smc", *SMALL, "--out", str(out), "--workers", "1"]
    first = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    assert "tolerance" in first.stdout and "the record informs" in first.stdout
    schedule = pd.read_parquet(out / "generations.parquet")
    assert {"tolerance", "acceptance_rate", "effective_sample_size"} <= set(schedule.columns)
    post = pd.read_parquet(out / "posterior.parquet")
    assert post["weight"].sum() == pytest.approx(1.0) and (post["weight"] > 0).all()
    gens = sorted((out / "smc").glob("generation_*.parquet"))
    stamps = [p.stat().st_mtime_ns for p in gens]
    assert len(gens) >= 2
    again = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert [p.stat().st_mtime_ns for p in gens] == stamps  # nothing simulated again
    pd.testing.assert_frame_equal(post, pd.read_parquet(out / "posterior.parquet"))
    settings = cc.Settings(60, 2, 3, predictive_sets=6, predictive_replicates=4, check_replicates=2)
    two = cc.calibrate(tmp_path / "b", settings, workers=2, log=None)
    pd.testing.assert_frame_equal(post, two["posterior"])
    esc = pd.read_parquet(out / "escalation.parquet")
    assert {"escalated_mean", "escalated_param_q05", "escalated_param_q95", "escalated_mc_sd_pooled"} <= set(esc)
    ind = pd.read_parquet(out / "independence.parquet")
    assert sorted(ind["militia_independence"].unique()) == list(cc.INDEPENDENCE_LEVELS)


def test_a_forecast_calibration_scores_both_ways(tmp_path):
    """From the 10 October cut-off at a tiny size: a score for every month after it and for a clash and an
    escalation, from the scenario as known then and, declared, from the one that happened."""
    settings = cc.Settings(40, 2, 2, predictive_sets=4, predictive_replicates=2, check_replicates=5,
                           cutoff="2021-10-10")  # fmt: skip
    res = cc.calibrate(tmp_path / "f", settings, workers=1, log=None)
    sc = res["scores"]
    assert set(sc["version"]) == {"unconditional", "conditional"}
    for _, g in sc.groupby("version"):
        assert len(g) == 4 + 2 and g["model_score"].notna().all() and g["ytd_score"].notna().all()
    assert "clash_days" not in res["diagnostics"]["statistics"]  # only the nil count shortened to the cut-off


def test_the_study_is_every_calibration_in_one_call(tmp_path, monkeypatch):
    """study() runs the headline's calibration (outcome left out), the same with the outcome in, and a forecast
    from each cut-off, each in its own folder."""
    seen = []

    def fake(folder, settings, workers=None, log=None, scenarios=None, levels=(), prior=True):
        seen.append((folder.name, settings.outcome, settings.cutoff))
        return {}

    monkeypatch.setattr(cc, "calibrate", fake)
    cc.study(tmp_path / "s", cc.Settings(), log=None)
    assert seen == [("s", False, None), ("with_outcome", True, None), ("forecast_2021-07-01", False, "2021-07-01"),
                    ("forecast_2021-10-10", False, "2021-10-10")]  # fmt: skip


def test_monthly_attacks_figure_draws_the_model_against_the_record(tmp_path):
    """The counts calibration's figure: PNG and PDF from a monthly table of both distributions."""
    from sim.analysis.record_figure import monthly_attacks_figure

    months = [f"2021-{m:02d}" for m in range(1, 13)] + ["2022-01"]
    rows = [{"month": m, "distribution": d, "mean": 5.0, "median": 5.0, "q05": 1.0, "q95": 9.0}
            for m in months for d in ("prior", "posterior")]  # fmt: skip
    paths = monthly_attacks_figure(pd.DataFrame(rows), tmp_path / "monthly")
    assert [p.suffix for p in paths] == [".png", ".pdf"] and all(p.stat().st_size > 1000 for p in paths)
