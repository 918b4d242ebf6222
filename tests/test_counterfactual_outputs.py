"""The counterfactual outputs (sim/analysis/counterfactual_outputs.py): reported, not tested against bounds, but their
arithmetic is checked here, and the published table must be what the model gives now."""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis import counterfactual_outputs as co
from sim.analysis import published


@pytest.fixture(scope="module")
def small():
    return co.compute(co.Settings(replicates=200, resamples=200))


def test_every_output_is_reported_with_an_interval_around_it(small):
    assert set(small["output"]) == {"no patron", "no intervention", "Soleimani-strength patron",
                                    "more independent militias", "no mediation", "the attack on the PM",
                                    "the election win", "the spiral", "the visit's calming",
                                    "the mediators' shares"}  # fmt: skip
    finite = small[np.isfinite(small["value"]) & np.isfinite(small["low"]) & np.isfinite(small["high"])]
    assert len(finite) >= len(small) - 2  # a ratio over a zero baseline may be unbounded
    assert (finite["low"] <= finite["value"] + 1e-12).all() and (finite["value"] <= finite["high"] + 1e-12).all()


def test_paired_rows_agree_with_each_other(small):
    """difference = counterfactual - baseline; ratio = counterfactual / baseline; the baselines of seed_timeline's
    cases are one run."""
    for (output, _outcome, _st), g in small.assign(outcome=small["measure"].str.rsplit(": ", n=1).str[0]).groupby(
            ["output", "outcome", "structure"]):  # fmt: skip
        parts = {m.rsplit(": ", 1)[1]: v for m, v in zip(g["measure"], g["value"], strict=True) if ": " in m}
        if set(parts) != {"baseline", "counterfactual", "difference", "ratio"}:
            continue
        assert parts["difference"] == pytest.approx(parts["counterfactual"] - parts["baseline"], abs=1e-12), output
        if parts["baseline"] > 0:
            assert parts["ratio"] == pytest.approx(parts["counterfactual"] / parts["baseline"]), output
    esc = small[small["measure"] == "P(escalation): baseline"]
    assert (esc.groupby("structure")["value"].nunique() == 1).all()


def test_shapley_shares_add_up(small):
    for _, g in small[small["output"] == "the mediators' shares"].groupby("structure"):
        shares = g.set_index("measure")["value"]
        assert shares.iloc[1] + shares.iloc[2] == pytest.approx(1.0)


def test_every_structure_is_reported(small):
    from sim.analysis.per_structure import structures

    assert list(dict.fromkeys(small["structure"])) == [label for label, _, _ in structures()]


def test_published_table_is_what_the_model_gives_now():
    """The default structure's no-patron rows of results/tables/counterfactual_outputs.csv, recomputed at the
    published replicates and seed (the rest of the table comes from the same code and runs): rerun
    `python -m sim.counterfactuals` after a model change."""
    table = published.read(co.TABLE)
    assert table is not None, "results/tables/counterfactual_outputs.csv is missing: run python -m sim.counterfactuals"
    n, seed = int(table["replicates"].max()), int(table["seed"].iloc[0])
    runs = co._Runs(co.Settings(replicates=n, seed=seed))
    rows = co._effect_rows("no patron", "", "seed_timeline", runs("seed_timeline"),
                           runs("seed_timeline", patron_present=False), co.LADDER)  # fmt: skip
    pub = table[(table["output"] == "no patron") & (table["structure"] == "default")].set_index("measure")
    for r in rows:
        for col in ("value", "low", "high"):
            assert pub.loc[r["measure"], col] == pytest.approx(round(r[col], published.DIGITS), abs=1e-9), (
                f"{r['measure']} {col}: rerun python -m sim.counterfactuals")
