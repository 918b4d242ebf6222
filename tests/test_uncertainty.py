"""The main job under parameter uncertainty (params_from=prior or a file): the sets it runs, the
summary of P(escalation) across them, one-line errors for bad files, and its figure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.model.params import MILITIAS, ParameterError
from sim.model.scenario import load_scenario
from sim.run import uncertainty

ROOT = Path(__file__).resolve().parent.parent


def test_prior_sets_are_valid_and_reproducible():
    a = uncertainty.parameter_sets("prior", 20, 7, {}, {})
    b = uncertainty.parameter_sets("prior", 20, 7, {}, {})
    assert a.params == b.params and len(a.params) == 20 and (a.weights == 1).all()
    assert len({p.patron_influence for p in a.params}) == 20  # every set differs


def test_file_sets_keep_their_weights_and_accept_both_column_styles(tmp_path):
    table = pd.DataFrame({"param.patron_influence": [0.4, 0.6], "militias.kss.loyalty": [0.7, 0.8],
                          "weight": [1.0, 3.0]})  # fmt: skip
    path = tmp_path / "posterior.parquet"
    table.to_parquet(path)
    sets = uncertainty.parameter_sets(str(path), 200, 1, {"patron_trigger": 0.6}, {})
    assert [p.patron_influence for p in sets.params] == [0.4, 0.6]
    assert [p.patron_trigger for p in sets.params] == [0.6, 0.6]  # the run's own overrides stay
    assert [dict((m.key, m.loyalty) for m in ms)["kss"] for ms in sets.militias] == [0.7, 0.8]
    np.testing.assert_array_equal(sets.weights, [1.0, 3.0])


@pytest.mark.parametrize(("table", "message"), [
    (pd.DataFrame({"nothing": [1.0]}), "has no parameter columns"),
    (pd.DataFrame({"patron_influence": [1.5]}), "set 0: params.patron_influence=1.5 is out of range"),
    (pd.DataFrame({"patron_influence": [0.5], "weight": [-1.0]}), "column weight must be finite"),
    (pd.DataFrame({"patron_influence": []}, dtype=float), "has no rows"),
])  # fmt: skip
def test_bad_parameter_file_gives_one_line(tmp_path, table, message):
    path = tmp_path / "sets.parquet"
    table.to_parquet(path)
    with pytest.raises(ParameterError, match=message) as err:
        uncertainty.parameter_sets(str(path), 10, 1, {}, {})
    assert "\n" not in str(err.value)


def test_missing_or_unreadable_file(tmp_path):
    with pytest.raises(ParameterError, match="is not a file"):
        uncertainty.parameter_sets(str(tmp_path / "none.parquet"), 10, 1, {}, {})
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet")
    with pytest.raises(ParameterError, match="not a readable Parquet"):
        uncertainty.parameter_sets(str(junk), 10, 1, {}, {})


def test_sets_run_as_their_own_single_runs():
    """A set's replicates in the batched run equal a plain run at that set's parameters (same seed)."""
    from sim.engines.vector import run_batch

    sets = uncertainty.parameter_sets("prior", 6, 3, {}, {})
    sc = load_scenario("election_loss")
    runs = uncertainty.run_sets(sc, sets, 11, 8, memory_budget_mb=16, workers=2)
    for k in (0, 5):
        alone = run_batch(sc, [sets.params[k]], [sets.militias[k]], 11, np.arange(8), keep_daily=False).runs
        got = runs[runs["set"] == k].sort_values("replicate")
        np.testing.assert_array_equal(got["clashes"], alone["clashes"])
        np.testing.assert_array_equal(got["attacks_us"], alone["attacks_us"])


def test_weighted_quantiles_and_summary():
    """Weighted quantiles of a two-point sample follow the weights; the noise share of a spread made
    only of binomial noise is about 1."""
    assert uncertainty.weighted_quantiles(np.array([0.0, 1.0]), np.array([3.0, 1.0]), (0.5, 0.9)).tolist() == [0, 1]
    rng = np.random.default_rng(0)
    p = rng.binomial(100, 0.3, size=2000) / 100
    table = pd.DataFrame({"weight": 1.0, "p_escalation": p, "replicates": 100})
    assert uncertainty.summary(table)["noise_share"] == pytest.approx(1.0, abs=0.1)


def test_main_job_under_prior_uncertainty(tmp_path):
    """`python -m sim params_from=prior` writes runs, sets and the uncertainty fan, and its summary gives
    the spread across parameter sets beside the Monte Carlo interval."""
    res = subprocess.run([sys.executable, "-m", "sim", "params_from=prior", "draws=12", "replicates=10",
                          "scenario=election_loss", f"hydra.run.dir={tmp_path}/u"], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "P(escalation) across sets: 90% interval" in res.stdout and "Wilson 95%" in res.stdout
    sets = pd.read_parquet(tmp_path / "u" / "sets.parquet")
    assert len(sets) == 12 and (sets["replicates"] == 10).all()
    assert len(pd.read_parquet(tmp_path / "u" / "runs.parquet")) == 120
    assert (tmp_path / "u" / "uncertainty.png").exists() and (tmp_path / "u" / "uncertainty.pdf").exists()
    plot = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim.plot",
            str(tmp_path / "u"),
            "--kind",
            "uncertainty",
            "--out",
            str(tmp_path / "fig"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert plot.returncode == 0, plot.stderr
    assert (tmp_path / "fig" / "uncertainty.png").exists()
    assert MILITIAS  # the militia table is untouched by the sets


def test_a_printed_interval_holds_its_printed_mean():
    """An interval is printed to two decimals, or more where two would leave out the mean as printed (a narrow
    interval near a small probability printed [0.01, 0.01] beside 0.005 before)."""
    from sim.analysis.evidence_tables import interval

    assert interval(0.196, 0.0, 0.69) == "[0.00, 0.69]"
    assert interval(0.413, 0.05, 0.78, "+") == "[+0.05, +0.78]"
    assert interval(0.0052, 0.0051, 0.0054) == "[0.005, 0.005]"
    assert interval(0.0225, 0.0221, 0.0228) == "[0.022, 0.023]"
    for mean, lo, hi in ((0.0052, 0.0051, 0.0054), (0.0225, 0.0221, 0.0228), (0.5, 0.2, 0.8), (0.001, 0.0, 0.002)):
        a, b = (float(x) for x in interval(mean, lo, hi).strip("[]").split(", "))
        assert a <= round(mean, 3) <= b
