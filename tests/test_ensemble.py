"""The app's ensemble view without a browser: its replicates are the command line's (same seed, same
numbers), a counterfactual is applied as Hydra applies it, its curve ends at P(escalation), it pairs two
settings, it stops when cancelled, and it refuses a size outside its range."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from sim.commands.main_job import CONFIG_DIR
from sim.model.params import MILITIAS, make_params
from sim.model.scenario import load_scenario
from sim.run.simulate import simulate
from sim.run.validate import resolve_inputs
from sim.teaching import ensemble

N = 300


def setting(scenario: str = "seed_timeline", **params) -> ensemble.Setting:
    return ensemble.Setting("test", load_scenario(scenario), make_params(**params), tuple(MILITIAS))


def composed(*overrides: str) -> tuple:
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return resolve_inputs(compose("config", overrides=list(overrides)))


def test_replicates_are_the_command_lines():
    s = setting("election_loss", militia_independence=0.8)
    e = ensemble.run_ensemble(s, N, seed=7, workers=2)
    runs, _ = simulate(s.scenario, s.params, s.militias, seed=7, replicates=N, daily_replicates=0, progress=False)
    for k in ensemble.OUTCOMES:
        np.testing.assert_array_equal(e.runs[k], runs[k].to_numpy(), err_msg=k)


@pytest.mark.parametrize("name", ["soleimani", "no_patron", "no_mediation", "high_independence"])
def test_counterfactual_is_applied_as_the_main_job_applies_it(name):
    """On top of an override from the sidebar, as `python -m sim counterfactual=<name> <override>` does."""
    base = setting(state_capacity=0.5)
    got = ensemble.with_counterfactual(base, name)
    params, _, scenario = composed(f"counterfactual={name}", "params.state_capacity=0.5")
    assert got.params == params
    assert got.scenario.events == scenario.events


def test_unknown_counterfactual_is_refused_in_one_line():
    with pytest.raises(ensemble.EnsembleError, match=r"^counterfactual=nope is not one of .*no_patron"):
        ensemble.with_counterfactual(setting(), "nope")


def test_curve_rises_to_the_escalation_probability_and_pairs_count_discordant_runs():
    a = ensemble.run_ensemble(setting(militia_independence=0.9), N)
    b = ensemble.run_ensemble(ensemble.with_counterfactual(a.setting, "no_patron"), N)
    for e in (a, b):
        t = ensemble.escalated_by_date(e)
        assert len(t) == e.setting.scenario.days and (np.diff(t["p"]) >= 0).all()
        assert t["p"].iloc[-1] == pytest.approx(e.runs["escalated"].mean())
        assert (t["low"] <= t["p"] + 1e-12).all() and (t["p"] <= t["high"] + 1e-12).all()  # Wilson rounds
        day = int(np.min(e.runs["escalation_day"][e.runs["escalated"].astype(bool)], initial=10**6))
        if day < e.setting.scenario.days:  # nothing before the first escalation, something on its day
            assert t["p"].iloc[day] > 0 and (day == 0 or t["p"].iloc[day - 1] == 0)
    assert b.runs["escalated"].mean() > a.runs["escalated"].mean()  # planted: no patron is worse here
    ab, ba = ensemble.paired(a, b)
    assert ba - ab == int(b.runs["escalated"].sum() - a.runs["escalated"].sum())
    assert "P(escalation by 31 Jan 2022)" in ensemble.describe(a)
    # the severity ladder, mildest rung first, as everywhere the headline appears
    s = ensemble.summary(b)
    assert s["p_any_clash"] >= s["p_escalation"] >= s["p_sustained"] == b.runs["sustained"].mean()
    assert "sustained fighting" in ensemble.describe(b)
    fig = ensemble.figure([a, b])
    assert [ax.get_xlabel() for ax in fig.axes] == ["date", "clash-days in the run", "attacks in the run"]
    assert all(ax.get_ylabel() for ax in fig.axes)


def test_binned_shares_sum_to_one_with_an_open_last_bin():
    labels, share = ensemble.binned(np.array([0, 0, 1, 4, 5, 30]), (0, 1, 2, 3, 6, 11, 21))
    assert labels == ["0", "1", "2", "3-5", "6-10", "11-20", "21+"]
    np.testing.assert_allclose(share, [2 / 6, 1 / 6, 0, 2 / 6, 0, 0, 1 / 6])


def test_cancel_stops_between_chunks_and_progress_counts_up():
    seen: list[int] = []
    out = ensemble.run_ensemble(setting(), 5000, progress=seen.append, cancelled=lambda: len(seen) >= 2)
    assert out is None and len(seen) == 2 and seen[0] < seen[1] < 5000
    seen.clear()
    ensemble.run_ensemble(setting(), 1000, progress=seen.append)
    assert seen[-1] == 1000 and seen == sorted(seen)


@pytest.mark.parametrize("n", [99, 10_001])
def test_size_out_of_range_is_refused_in_one_line(n):
    with pytest.raises(ensemble.EnsembleError, match=rf"^replicates={n} is out of range: allowed \[100, 10000\]$"):
        ensemble.run_ensemble(setting(), n)


def test_the_app_steps_of_exercise_2_give_the_runs_its_keys_read():
    """Exercise 2 tells students: militia_independence 0.8 in the sidebar, Reset, compare with
    counterfactual: soleimani, 2000 replicates. The view then runs exactly the runs its keys read."""
    from sim.engines.mesa_model import MilitiaModel
    from sim.teaching import exercises

    model = MilitiaModel(scenario="seed_timeline", seed=ensemble.SEED, militia_independence=0.8)
    other = ensemble.with_counterfactual(ensemble.Setting.of_model(model), "soleimani")
    got = ensemble.run_ensemble(other, 2000)
    key = exercises.view(exercises.INDEPENDENT_SOLEIMANI)
    for k in ensemble.OUTCOMES:
        np.testing.assert_array_equal(got.runs[k], key.runs[k], err_msg=k)


def test_the_panels_comparison_choices():
    """The view compares with nothing, a counterfactual on top of the sidebar's settings, or pinned settings."""
    pytest.importorskip("solara", reason='the app needs the app extra: pip install -e ".[app]"')
    from sim.teaching import app

    base, pinned = setting(), setting("election_loss", patron_influence=0.2)
    assert app.comparison_choices(False)[0] == app.NOTHING and app.PINNED not in app.comparison_choices(False)
    assert app.comparison_choices(True)[-1] == app.PINNED
    assert "counterfactual: no_patron" in app.comparison_choices(False)
    assert app.comparison(base, app.NOTHING, pinned) is None
    assert app.comparison(base, app.PINNED, pinned) is pinned
    assert app.comparison(base, "counterfactual: soleimani", None).params.patron_influence == 0.85
    seen = []
    out = app.run_view([base, pinned], 200, lambda d, t: seen.append((d, t)), cancelled=lambda: False)
    assert seen[-1] == (400, 400) and len(out["lines"]) == 3 and out["png"].startswith(b"\x89PNG")
    assert app.run_view([base], 5000, lambda d, t: None, cancelled=lambda: True) is None


def test_the_histograms_tick_labels_do_not_collide():
    """The clash-days panel's labels ("3-5", "6-10", "11-20", "21+") sit side by side without touching."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    runs = {k: np.arange(40) % 25 for k in ensemble.OUTCOMES}
    e = ensemble.Ensemble(setting(), ensemble.SEED, runs)
    fig = ensemble.figure([e, e], dpi=80)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    for ax in fig.axes[1:]:
        boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
        assert len(boxes) >= 7
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert all(a.x1 < b.x0 for a, b in itertools.pairwise(boxes)), labels


def test_the_status_line_counts_histories_per_setting():
    pytest.importorskip("solara")
    from sim.teaching.app import done_text

    assert done_text({"replicates": 1000, "settings": 2, "seconds": 2.5}) == \
        "done: 1,000 histories per setting, 2 settings in 2.5 s"
    assert done_text({"replicates": 500, "settings": 1, "seconds": 1.0}) == "done: 500 histories in 1.0 s"
