"""Calibration: its targets come from the record and name only emergent outcomes; the ABC machinery finds
known truth (a coverage check in the spirit of simulation-based calibration); its command runs, resumes and
reproduces; and a posterior file feeds the main job."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis import calibration as cal
from sim.model import priors
from sim.model.scenario import load_scenario
from sim.run import uncertainty

ROOT = Path(__file__).resolve().parent.parent
FORCED_KINDS = {"boycott", "mediation", "election", "attack", "ratification", "deadline", "coalition", "truce"}


def test_targets_are_sourced_and_emergent():
    targets = cal.load_targets()
    assert len(targets) >= 4
    sc = load_scenario(cal.SCENARIO)
    assert {e.kind for e in sc.events} <= FORCED_KINDS  # every forced event kind, none of them a statistic
    for t in targets:
        assert t.paragraphs and t.claim and t.tolerance and t.statistic in cal.STATISTICS
        assert t.statistic not in FORCED_KINDS


@pytest.fixture(scope="module")
def bank():
    """A small prior bank on the seed timeline: 1500 draws x 4 runs, with every target statistic."""
    draws = pd.DataFrame(priors.sample(1500, 101))
    sets = uncertainty.sets_from_table(draws, {}, {}, "prior")
    runs = cal.simulate_sets(load_scenario(cal.SCENARIO), sets, 5, 4, cal.load_targets(), progress=False)
    return draws, runs


def _truths(n: int):
    """``n`` known parameter sets and one simulated record each (another seed than the bank's)."""
    draws = pd.DataFrame(priors.sample(n, 202))
    sets = uncertainty.sets_from_table(draws, {}, {}, "prior")
    runs = cal.simulate_sets(load_scenario(cal.SCENARIO), sets, 99, 1, cal.load_targets(), progress=False)
    stats = [t.statistic for t in cal.load_targets()]
    return draws, _coarse(runs[stats])


def _coarse(runs: pd.DataFrame) -> pd.DataFrame:
    """Counts capped (interventions at 4, attacks on US assets at 2), as a record would be read."""
    return runs.assign(attacks_us=np.minimum(runs["attacks_us"], 2), interventions=np.minimum(runs["interventions"], 4))


def _posterior(bank, observation: dict, invert: bool = False) -> pd.DataFrame:
    draws, runs = bank
    runs = _coarse(runs)
    shares = cal.met_shares(runs, cal.observed_targets(observation))
    if invert:  # a deliberately broken weighting: favour the draws that do NOT reproduce the record
        shares["met_all"] = 1.0 - shares["met_all"]
    return cal.posterior(pd.concat([draws, shares.reset_index(drop=True)], axis=1))


INFORMED = ("boycott_commitment", "return_threshold", "attack_rate_state", "attack_rate_us", "patron_attention_cost")


def _coverage(bank, truths, level: float = 0.9, invert: bool = False) -> tuple[float, dict]:
    """Share of (trial, parameter) checks whose known value lies in the central ``level`` posterior
    interval, and the posterior means per trial. Records the bank cannot reproduce (effective sample
    size under 20) are skipped: a real calibration would need a bigger bank for them; they must be rare."""
    draws, obs = truths
    hits, means, kept = [], {name: [] for name in INFORMED}, []
    for i in range(len(draws)):
        post = _posterior(bank, obs.iloc[i].to_dict(), invert)
        w = post["weight"].to_numpy()
        if len(w) == 0 or w.sum() ** 2 / np.sum(w**2) < 20:
            continue
        kept.append(i)
        for name in INFORMED:
            lo, hi = (uncertainty.weighted_quantiles(post[name].to_numpy(), post["weight"].to_numpy(), q)[0]
                      for q in ((0.5 - level / 2,), (0.5 + level / 2,)))  # fmt: skip
            hits.append(lo <= draws[name].iloc[i] <= hi)
            means[name].append(float(np.average(post[name], weights=post["weight"])))
    assert len(kept) >= 0.95 * len(draws), f"only {len(kept)} of {len(draws)} records calibrated"
    means["_kept"] = kept
    return float(np.mean(hits)), means


TRIALS = 400


def _correlated(truth: np.ndarray, estimate: np.ndarray) -> tuple[bool, float]:
    """Positive correlation, one-sided at 0.001 (Fisher's z)."""
    r = float(np.corrcoef(truth, estimate)[0, 1])
    return np.arctanh(r) * np.sqrt(len(truth) - 3) > 3.09, r


def test_abc_recovers_known_parameters_at_their_nominal_rate(bank):
    """400 known parameter sets, one simulated record each, calibrated on the prior bank: the known values
    fall inside the 90% posterior intervals at 0.90 within 3.5 binomial standard errors (2000 checks), and
    the posterior moves with the truth: for boycott_commitment, the value one record informs most, the
    posterior means correlate with the known values (so the posterior is not just the prior)."""
    truths = _truths(TRIALS)
    rate, means = _coverage(bank, truths)
    se = np.sqrt(0.9 * 0.1 / (TRIALS * len(INFORMED)))
    assert abs(rate - 0.9) < 3.5 * se, rate
    known = truths[0]["boycott_commitment"].to_numpy()[means["_kept"]]
    ok, r = _correlated(known, np.array(means["boycott_commitment"]))
    assert ok, r


def test_a_broken_weighting_fails_the_coverage_check(bank):
    """The check can fail: weighting the draws that do not reproduce the record pulls the intervals
    away from the truth, and coverage falls below the tolerance."""
    truths = _truths(TRIALS)
    rate, means = _coverage(bank, truths, invert=True)
    known = truths[0]["boycott_commitment"].to_numpy()[means["_kept"]]
    ok, r = _correlated(known, np.array(means["boycott_commitment"]))
    assert rate < 0.9 - 3.5 * np.sqrt(0.9 * 0.1 / (TRIALS * len(INFORMED))) or not ok, (rate, r)


def test_calibrate_command_runs_resumes_and_reproduces(tmp_path):
    """`python -m sim.calibrate` at a small size writes the posterior and its diagnostics; a rerun with the
    same seed gives the same posterior (from the stored bank), and the posterior feeds the main job."""
    args = [sys.executable, "-m", "sim.calibrate", "--draws", "300", "--replicates", "2", "--predictive-sets", "10",
            "--predictive-replicates", "2", "--scenario", "election_loss", "--out", str(tmp_path / "c"),
            "--no-figures"]  # fmt: skip
    first = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    post = pd.read_parquet(tmp_path / "c" / "posterior.parquet")
    assert post["weight"].sum() == pytest.approx(1.0) and (post["weight"] > 0).all()
    again = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0
    pd.testing.assert_frame_equal(post, pd.read_parquet(tmp_path / "c" / "posterior.parquet"))
    elsewhere = subprocess.run([*args[:-3], "--out", str(tmp_path / "d"), "--no-figures"], cwd=ROOT,
                               capture_output=True, text=True, timeout=600)  # fmt: skip
    assert elsewhere.returncode == 0
    pd.testing.assert_frame_equal(post, pd.read_parquet(tmp_path / "d" / "posterior.parquet"))
    run = subprocess.run([sys.executable, "-m", "sim", f"params_from={tmp_path / 'c' / 'posterior.parquet'}",
                          "replicates=5", "scenario=election_loss", "figure=false", f"hydra.run.dir={tmp_path / 'r'}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "P(escalation) across sets: median" in run.stdout
