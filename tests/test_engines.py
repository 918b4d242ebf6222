"""The two engines give the same result, and a replicate's result does not depend on how work is split."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engines.mesa_model import MilitiaModel
from sim.engines.vector import run_batch
from sim.model.params import MILITIAS, make_militias, make_params
from sim.model.scenario import load_scenario
from sim.run.simulate import simulate

SMALL = {"cells_per_militia": 6}


def _mesa(scenario, seed, replicate, shuffle_seed=None, **params):
    m = MilitiaModel(scenario=scenario, seed=seed, replicate=replicate, shuffle_seed=shuffle_seed, **params)
    while m.running:
        m.step()
    return m


@pytest.mark.parametrize("seed", [0, 11, 20211107])
def test_mesa_equals_vector_bit_for_bit(scenario_name, seed):
    """Every replicate's daily series and run outcomes are identical in both engines (exact equality)."""
    sc = load_scenario(scenario_name)
    vec = run_batch(sc, [make_params(SMALL)], [MILITIAS], seed, np.arange(2))
    for rep in range(2):
        m = _mesa(sc, seed, rep, **SMALL)
        runs = m.run_record()
        for k, v in runs.items():
            assert v == vec.runs[k][rep], (k, rep)
        daily = m.datacollector.get_model_vars_dataframe()
        assert set(daily.columns) == set(vec.daily)
        for col in daily.columns:
            np.testing.assert_array_equal(daily[col].to_numpy(), vec.daily[col][:, rep].astype(float), err_msg=col)


def test_equivalence_holds_off_defaults():
    """Equivalence also holds for non-default parameters, militia overrides and a counterfactual."""
    sc = load_scenario("seed_timeline").without("mediation")
    params = {**SMALL, "patron_influence": 0.9, "militia_independence": 0.7, "arrest_k": 1.1}
    militias = make_militias({"kss": {"loyalty": 0.2}})
    vec = run_batch(sc, [make_params(params)], [militias], 5, np.array([3]))
    m = MilitiaModel(scenario=sc, seed=5, replicate=3, militias={"kss": {"loyalty": 0.2}}, **params)
    while m.running:
        m.step()
    for k, v in m.run_record().items():
        assert v == vec.runs[k][0], k


def test_mesa_activation_order_cannot_change_result():
    """Shuffling agents differently inside each phase gives identical runs (staged simultaneous updates)."""
    sc = load_scenario("seed_timeline")
    a = _mesa(sc, 3, 0, shuffle_seed=1, **SMALL)
    b = _mesa(sc, 3, 0, shuffle_seed=999, **SMALL)
    assert a.run_record() == b.run_record()
    da, db = (m.datacollector.get_model_vars_dataframe() for m in (a, b))
    assert da.equals(db)


def test_replicate_independent_of_batch_and_neighbours():
    """A replicate's outcome is the same alone, in a big batch, in chunks, or beside other parameter points."""
    sc = load_scenario("attack_and_intervention")
    p = make_params(SMALL)
    other = make_params({**SMALL, "patron_influence": 0.1, "militia_independence": 0.9})
    big = run_batch(sc, [p], [MILITIAS], 42, np.arange(40))
    alone = run_batch(sc, [p], [MILITIAS], 42, np.array([17]))
    mixed = run_batch(sc, [other, p, other], [MILITIAS] * 3, 42, np.array([5, 17, 17]))
    for k in big.runs:
        assert alone.runs[k][0] == big.runs[k][17], k
        assert mixed.runs[k][1] == big.runs[k][17], k
    np.testing.assert_array_equal(alone.daily["tension"][:, 0], big.daily["tension"][:, 17])
    chunked, _ = simulate(sc, p, MILITIAS, seed=42, replicates=40, chunk_size=7, daily_replicates=0, progress=False)
    whole, _ = simulate(sc, p, MILITIAS, seed=42, replicates=40, chunk_size=40, daily_replicates=0, progress=False)
    assert chunked.equals(whole)
    for k in big.runs:
        np.testing.assert_array_equal(whole[k].to_numpy(), big.runs[k], err_msg=k)


def test_simulate_mesa_matches_vector_tables():
    """The tidy tables from ``simulate`` match between engines (what the main job writes)."""
    sc = load_scenario("boycott_mediation")
    p = make_params(SMALL)
    rv, dv = simulate(sc, p, MILITIAS, seed=9, replicates=3, engine="vector", progress=False)
    rm, dm = simulate(sc, p, MILITIAS, seed=9, replicates=3, engine="mesa", progress=False)
    assert list(rv.columns) == list(rm.columns)
    for col in rv.columns:
        np.testing.assert_array_equal(rv[col].to_numpy(), rm[col].to_numpy(), err_msg=col)
    assert set(dv.columns) == set(dm.columns)
    for col in dv.columns:
        np.testing.assert_array_equal(dv[col].to_numpy(), dm[col].to_numpy().astype(dv[col].dtype), err_msg=col)


def test_mesa_model_stops_at_the_scenarios_last_day():
    """Steps asked for after the last day (the app's Step and play do) change nothing, not even Mesa's counter."""
    m = _mesa("stand_down_orders", 3, 0, **SMALL)
    days, steps, record, rows = m.day, m.steps, m.run_record(), len(m.datacollector.get_model_vars_dataframe())
    assert days == m.scenario.days and steps == days and not m.running
    for _ in range(5):
        m.step()
    assert (m.day, m.steps, m.running) == (days, steps, False)
    assert m.run_record() == record and len(m.datacollector.get_model_vars_dataframe()) == rows
    assert m.date == m.scenario.end


def test_different_seeds_and_replicates_differ():
    """Guard against a key that ignores the seed or the replicate index."""
    sc = load_scenario("seed_timeline")
    a = run_batch(sc, [make_params(SMALL)], [MILITIAS], 1, np.arange(50)).runs
    b = run_batch(sc, [make_params(SMALL)], [MILITIAS], 2, np.arange(50)).runs
    assert not np.array_equal(a["attacks_us"], b["attacks_us"]) or not np.array_equal(a["clashes"], b["clashes"])
    assert len(set(zip(a["attacks_us"], a["attacks_state"], a["cohesion_within"], strict=True))) > 25


def test_mixed_parameter_batch_equals_mesa_per_row():
    """Rows with different half-lives, influence and rates in one batch each equal their own Mesa run
    (guards transcendental functions taking the same path for arrays and scalars)."""
    sc = load_scenario("seed_timeline")
    rows = [
        {**SMALL, "grievance_half_life": 17.3, "patron_influence": 0.31},
        {**SMALL, "grievance_half_life": 211.0, "pressure_half_life": 3.7, "clash_kappa": 2.2},
        {**SMALL, "rivalry_half_life": 9.1, "discipline_half_life": 77.7, "stance_tau": 0.033},
    ]
    vec = run_batch(sc, [make_params(r) for r in rows], [MILITIAS] * 3, 8, np.array([0, 1, 2]))
    for i, r in enumerate(rows):
        m = _mesa(sc, 8, i, **r)
        for k, v in m.run_record().items():
            assert v == vec.runs[k][i], (i, k)
        daily = m.datacollector.get_model_vars_dataframe()
        np.testing.assert_array_equal(daily["tension"].to_numpy(), vec.daily["tension"][:, i])


def test_mesa_batch_run_over_replicates_matches_vector():
    """mesa.batch_run with a `replicate` axis gives distinct runs, each equal to the vector engine's."""
    import mesa

    out = mesa.batch_run(
        MilitiaModel, {"scenario": "election_loss", "replicate": range(3), **SMALL},
        max_steps=400, display_progress=False,
    )  # fmt: skip
    vec = run_batch(load_scenario("election_loss"), [make_params(SMALL)], [MILITIAS], 0, np.arange(3))
    by_rep = {row["replicate"]: row for row in out}
    assert sorted(by_rep) == [0, 1, 2]
    for rep, row in by_rep.items():
        assert row["tension"] == vec.daily["tension"][-1, rep]
        assert row["grievance_mean"] == vec.daily["grievance_mean"][-1, rep]
    assert len({row["tension"] for row in out}) > 1


def test_escalation_under_another_definition_is_read_off_the_clash_series():
    """outcomes.escalated_by, given the engine's own threshold and window, reproduces `escalated` exactly
    (no patron, so that escalations happen), and a lower threshold never escalates less."""
    from sim.model.outcomes import escalated_by

    res = run_batch(load_scenario("seed_timeline"), [make_params(patron_present=False)], [MILITIAS], 11,
                    np.arange(400), daily_columns=("clash",))  # fmt: skip
    clash = res.daily["clash"]
    assert res.runs["escalated"].sum() > 20
    np.testing.assert_array_equal(escalated_by(clash, 3, 14), res.runs["escalated"])
    assert (escalated_by(clash, 2, 14) >= escalated_by(clash, 3, 14)).all()


def test_equivalence_holds_through_clashes_halts_and_sustained_fighting():
    """The clash side's rules (the threat, the smooth wing, Sadr's halt after a clash, his stake, the
    sustained-fighting rung) are identical in both engines, on runs where they all act: no patron, a high
    clash scale, so that clashes, halts and sustained fighting happen (checked, so the test cannot pass idle)."""
    sc = load_scenario("seed_timeline")
    params = {**SMALL, "patron_present": False, "clash_kappa": 5.0, "sustained_clashes": 4}
    vec = run_batch(sc, [make_params(params)], [MILITIAS], 3, np.arange(4))
    assert vec.runs["clashes"].sum() > 10 and vec.runs["sustained"].any()
    halted = (np.diff(vec.daily["mobilisation"], axis=0) < 0) & vec.daily["clash"][1:].astype(bool)
    assert halted.any()
    for rep in range(4):
        m = _mesa(sc, 3, rep, **params)
        for k, v in m.run_record().items():
            assert v == vec.runs[k][rep], (k, rep)
        daily = m.datacollector.get_model_vars_dataframe()
        for col in ("mobilisation", "sadr_grievance", "hazard", "clash", "participating", "rivalry"):
            np.testing.assert_array_equal(daily[col].to_numpy(), vec.daily[col][:, rep].astype(float), err_msg=col)


# ----------------------------------------------------------------------------- the rival mechanisms (issue 25)

from sim.model.structures import MECHANISM_BY_NAME, every_alternative  # noqa: E402

RIVALS = [(m.name, a.name) for m, a in every_alternative() if a is not m.default]
LIVELY = {"clash_kappa": 5.0, "sustained_clashes": 4, "patron_trigger": 0.3}


def _assert_mesa_equals_vector(sc, params, seed, reps) -> None:
    vec = run_batch(sc, [make_params(params)], [MILITIAS], seed, np.asarray(reps))
    for i, rep in enumerate(reps):
        m = _mesa(sc, seed, rep, **params)
        for k, v in m.run_record().items():
            assert v == vec.runs[k][i], (k, rep)
        daily = m.datacollector.get_model_vars_dataframe()
        for col in daily.columns:
            np.testing.assert_array_equal(daily[col].to_numpy(), vec.daily[col][:, i].astype(float), err_msg=col)


@pytest.mark.parametrize(("mechanism", "alternative"), RIVALS)
def test_every_alternative_mesa_equals_vector_on_every_scenario(scenario_name, mechanism, alternative):
    """Each rival alternative, in the object-per-agent engine, on every scenario: the vector engine's bits (one
    replicate at the defaults, one where clashes, halts and visits happen)."""
    sc = load_scenario(scenario_name)
    choice = {MECHANISM_BY_NAME[mechanism].param: alternative}
    _assert_mesa_equals_vector(sc, {**SMALL, **choice}, 11, [0])
    _assert_mesa_equals_vector(sc, {**SMALL, **choice, **LIVELY}, 11, [1])


def test_sampled_combinations_mesa_equals_vector():
    """A seeded sample of combinations of alternatives (every mechanism's choice drawn), on the article's timeline."""
    from test_compiled import sampled_structures

    sc = load_scenario("seed_timeline")
    for k, spec in enumerate(sampled_structures(4, seed=11)):
        choice = {f"structure_{m}": a for m, a in (part.split("=") for part in spec.split("+"))}
        _assert_mesa_equals_vector(sc, {**SMALL, **choice, **LIVELY}, 5, [k])
