"""Scenario discovery beyond one PRIM box, checked against planted structure: resampling keeps the planted
restrictions and drops the noise, CART finds the planted box, feature scores rank a known function's inputs
in order, a box is chosen by its step on the trajectory, and a bad step is refused in one line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_sensitivity import fake_sweep

import sim.discovery as discovery_cli
from sim.analysis import boxes, discovery
from sim.model import priors
from sim.run import designs
from sim.run.designs import DesignSpec

RNG = np.random.default_rng(3)
N, K = 1500, 8


def planted(noise: float = 0.05) -> tuple[pd.DataFrame, np.ndarray]:
    """Uniform points in [0, 1]^8; those with f0 > 2/3 and f1 < 1/3 escalate (0.9), others not (0), with a
    share ``noise`` of the labels flipped."""
    x = pd.DataFrame(RNG.random((N, K)), columns=[f"f{i}" for i in range(K)])
    inside = (x["f0"] > 2 / 3) & (x["f1"] < 1 / 3)
    flip = RNG.random(N) < noise
    return x, np.where(inside ^ flip, 0.9, 0.0)


def test_resampling_keeps_the_planted_restrictions_and_drops_noise():
    x, y = planted()
    res = boxes.resample(x, y, 0.2, coverage=0.6, n=10)
    table = boxes.stability(res, {"f0": (2 / 3, 1), "f1": (0, 1 / 3)}, {"f0": 0.0, "f1": 0.0}).set_index("factor")
    assert table.loc["f0", "share_of_resamples"] >= 0.9 and table.loc["f1", "share_of_resamples"] >= 0.9
    others = table.drop(index=["f0", "f1"])["share_of_resamples"]
    assert (others <= 0.3).all(), others  # a noise factor is restricted in few resamples, if any
    # each resampled box, judged on all points (half unseen), is close to the planted box's density
    assert res.drop_duplicates("resample")["density"].median() > 0.8


def test_cart_finds_the_planted_box():
    x, y = planted()
    leaves = boxes.cart_leaves(x, y, 0.2)
    best = leaves.iloc[0]
    assert set(best["limits"]) == {"f0", "f1"}, best["limits"]
    assert abs(best["limits"]["f0"][0] - 2 / 3) < 0.05 and abs(best["limits"]["f1"][1] - 1 / 3) < 0.05
    assert best["density"] > 0.85 and best["coverage"] > 0.6  # 5% flips: about 0.95 and 0.70 at best
    assert leaves["mass"].sum() == pytest.approx(1.0) and leaves["mass"].min() >= 0.05 - 1e-9
    agree = boxes.agreement({"f0": (2 / 3, 1.0), "f1": (0.0, 1 / 3)}, leaves, x, y > 0.2)
    assert agree["factors_both"] == ["f0", "f1"] and not agree["factors_only_cart"]
    assert agree["only_prim_finds"] + agree["only_cart_finds"] < 0.1 * agree["both_find"]


def test_feature_scores_rank_a_known_function():
    """y = 4 f0 + 2 f1 + f2 + noise; f3..f7 do nothing: the scores rank f0 > f1 > f2 > every other."""
    x = pd.DataFrame(RNG.random((N, K)), columns=[f"f{i}" for i in range(K)])
    y = 4 * x["f0"] + 2 * x["f1"] + x["f2"] + RNG.normal(0, 0.1, N)
    scores = boxes.feature_scores(x, y.to_numpy())
    assert list(scores.index[:3]) == ["f0", "f1", "f2"]
    assert scores["f2"] > 2 * scores.iloc[3:].max() and scores.sum() == pytest.approx(1.0)


def sweep(tmp_path):
    names = tuple(list(priors.priors())[:6])
    spec = DesignSpec("lhs", 1200, 11, names)
    unit = designs.unit_rows(spec)
    flip = np.random.default_rng(0).random(len(unit)) < 0.05
    y = np.where(((unit[:, 0] > 2 / 3) & (unit[:, 1] < 1 / 3)) ^ flip, 0.9, 0.0)
    return fake_sweep(tmp_path, spec, y), names


def test_discover_writes_the_second_opinions_and_a_box_chosen_by_its_step(tmp_path):
    root, names = sweep(tmp_path)
    result = discovery.discover(root, threshold=0.2, resamples=4)
    g = result["groups"][0]
    assert set(g["resampling"]["restrictions"]) == {names[0], names[1]}
    assert g["cart"]["factors_both"] == sorted([names[0], names[1]])
    assert list(g["feature_scores_top"])[:2] in ([names[0], names[1]], [names[1], names[0]])
    agg = root / "aggregate"
    for name in ("prim_resampling", "cart_leaves", "feature_scores"):
        assert len(pd.read_parquet(agg / f"{name}.parquet")) > 0, name
    leaves = pd.read_parquet(agg / "cart_leaves.parquet")
    assert isinstance(json.loads(leaves["limits"].iloc[0]), dict)
    # another box by its step on the trajectory: its statistics are that row's (less any edge trims), written
    # beside the default box under its own name
    step = 2
    again = discovery.discover(root, step=step, resamples=0)
    box = again["groups"][0]["boxes"][0]
    assert box["from_step"] == step
    t2 = again["trajectory"]
    row = t2[(t2["box"] == 1) & t2["chosen"]].iloc[0]
    assert (box["coverage"], box["density"]) == pytest.approx((row["coverage"], row["density"]))
    assert again["threshold"] == result["threshold"]  # the default box's threshold: the listed trajectory
    assert json.loads((agg / f"prim_step{step}.json").read_text())["step"] == step


def test_a_step_off_the_trajectory_is_refused_in_one_line_and_writes_nothing(tmp_path, capsys):
    root, _ = sweep(tmp_path)
    code = discovery_cli.main([str(root), "--step", "999", "--resamples", "0"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: --step=999 is out of range: allowed [0, ") and err.count("\n") == 1
    assert not (root / "aggregate" / "prim.json").exists()
    assert not list((root / "aggregate").glob("prim_step*"))
    assert discovery_cli.main([str(root), "--resamples", "-1"]) == 2
    assert "--resamples=-1 is out of range" in capsys.readouterr().err


def test_figures_show_trajectory_cart_resampling_and_scores(tmp_path):
    """python -m sim.plot --kind prim draws the trajectory with CART's leaves and the limits (prim.png), and the
    resampling and feature scores (prim_stability.png), with labelled axes."""
    import matplotlib.image

    from sim.plot import main as plot_main

    root, _ = sweep(tmp_path / "s")
    discovery.discover(root, threshold=0.2, resamples=3)
    assert plot_main([str(root / "aggregate"), "--kind", "prim", "--out", str(tmp_path / "f")]) == 0
    for name in ("prim", "prim_stability"):
        image = matplotlib.image.imread(tmp_path / "f" / f"{name}.png")
        assert image.shape[0] > 300 and image.shape[1] > 1000, name


def test_published_tables_and_the_readme_section_from_a_discovery_study(tmp_path, monkeypatch):
    """sim.publish writes PAWN, the resampling, CART's leaves, the feature scores and the agreement from a
    discovery study's folder, and the README's generated section reads them (the planted factors first)."""
    from sim.analysis import discovery_tables, published, sensitivity

    root, names = sweep(tmp_path / "s")
    discovery.discover(root, threshold=0.2, resamples=3)
    sensitivity.analyse(root, outcomes=("p_escalation",))
    monkeypatch.setattr(published, "TABLES", tmp_path / "tables")
    written = {p.stem for p in published._discovery_extras(root / "aggregate")}
    assert written == {"pawn", "prim_resampling", "cart_leaves", "feature_scores", "discovery_agreement"}
    box = f"box,factor,min,max,prior_low,prior_high,qp\n1,{names[0]},0.5,1,0,1,0.001\n"
    (tmp_path / "tables" / "prim.csv").write_text(box)
    text = discovery_tables.readme_discovery()
    assert "Not yet published" not in text
    first_rows = [line for line in text.splitlines() if line.startswith("| `")][:2]
    assert {names[0], names[1]} == {row.split("`")[1] for row in first_rows}
    assert "CART (pruned by cross-validation" in text and "noise floor" in text


def test_every_column_of_the_discovery_tables_has_a_unit_for_export(tmp_path):
    from sim.analysis import sensitivity
    from sim.run import export

    root, _ = sweep(tmp_path / "s")
    discovery.discover(root, threshold=0.2, resamples=2)
    sensitivity.analyse(root, outcomes=("p_escalation",))
    for name, path in export.tables(root).items():
        assert not [c for c in pd.read_parquet(path).columns if not export.unit(c)], name


def test_the_threshold_puts_10_to_30_percent_of_points_of_interest_or_is_a_quantile():
    """By default the roundest threshold with 10-30% of the points above it (nearest 20%); a quantile gives that
    share; a stated threshold is kept, with a warning when it makes half the space of interest."""
    y = np.random.default_rng(1).beta(0.5, 2, 2000)
    auto = discovery.choose_threshold(y)
    assert 0.10 <= auto["share_of_interest"] <= 0.30 and auto["warning"] is None
    assert auto["threshold"] == round(auto["threshold"], 1)  # round: one decimal here
    assert discovery.choose_threshold(y, quantile=0.8)["share_of_interest"] == pytest.approx(0.2, abs=0.001)
    given = discovery.choose_threshold(y, 0.05)
    assert given["threshold"] == 0.05 and given["share_of_interest"] > 0.5 and "aim: 10% to 30%" in given["warning"]
    counts = np.r_[np.zeros(500), 40 * y]  # another outcome's scale: attacks per run
    assert 0.10 <= discovery.choose_threshold(counts)["share_of_interest"] <= 0.30


def test_lift_is_density_over_the_base_rate_and_a_box_barely_better_than_all_is_warned(tmp_path):
    x, y = planted()
    (box,) = discovery.find_boxes(x, y, 0.2, max_boxes=1)
    base = (y > 0.2).mean()
    assert box["stats"]["lift"] == pytest.approx(box["stats"]["density"] / base) and box["stats"]["lift"] > 4
    # a weak effect: a quarter of the points escalate anywhere, a third where f0 > 1/2
    rng = np.random.default_rng(5)
    weak = np.where(rng.random(N) < np.where(x["f0"] > 0.5, 0.33, 0.2), 0.9, 0.0)
    (box,) = discovery.find_boxes(x, weak, 0.2, max_boxes=1)
    assert box["stats"]["lift"] < discovery.LIFT_MIN
    names = tuple(list(priors.priors())[:6])
    spec = DesignSpec("lhs", 1200, 11, names)
    unit = designs.unit_rows(spec)
    y_weak = np.where(rng.random(len(unit)) < np.where(unit[:, 0] > 0.5, 0.33, 0.2), 0.9, 0.0)
    root = fake_sweep(tmp_path, spec, y_weak)
    result = discovery.discover(root, threshold=0.2, resamples=0)
    first = result["groups"][0]["boxes"][0]
    assert "barely denser than the whole space" in first["warning"] and "lift" in discovery.describe(result)


def test_a_restriction_trimming_less_than_a_tenth_of_its_range_is_no_restriction(tmp_path):
    assert boxes.trimmed(0.1013, 0.4801, 0.1, 0.5) == pytest.approx(0.053)  # the edge trim
    kept = boxes.real_restrictions({"a": (0.1013, 0.4801), "b": (0.3, 0.5)}, {"a": (0.1, 0.5), "b": (0.1, 0.5)})
    assert kept == {"b": (0.3, 0.5)}
    root, names = sweep(tmp_path)
    result = discovery.discover(root, threshold=0.2, resamples=0)
    lims = result["limits"][result["limits"]["box"] == 1]
    assert set(lims["factor"]) == {names[0], names[1]} and (lims["trimmed"] >= boxes.MIN_TRIM).all()
    traj = result["trajectory"]
    for restrictions in traj["restrictions"]:  # every step lists only real restrictions
        for f, (lo, hi) in json.loads(restrictions).items():
            p = priors.priors()[f]
            assert boxes.trimmed(lo, hi, p.low, p.high) >= boxes.MIN_TRIM


def test_inspect_lists_the_stored_trajectory_and_computes_nothing(tmp_path, monkeypatch, capsys):
    root, _ = sweep(tmp_path)
    discovery.discover(root, threshold=0.2, resamples=3)
    traj = pd.read_parquet(root / "aggregate" / "prim_trajectory.parquet")
    import prim

    monkeypatch.setattr(prim, "Prim", None)  # inspecting must not run PRIM again
    assert discovery_cli.main([str(root / "aggregate"), "--inspect"]) == 0  # the aggregate folder works too
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line[:6].strip().isdigit() or line.startswith("*")]
    assert len([r for r in rows if r[2:6].strip().isdigit()]) == int((traj["box"] == 1).sum())
    assert "lift" in out and "stability" in out and "restrictions" in out
    chosen = [r for r in rows if r.startswith("* ") and r[2:6].strip().isdigit()]
    assert len(chosen) == 1 and 0 <= float(chosen[0].split()[7]) <= 1  # the chosen step's stability


def test_step_leaves_the_default_box_and_its_files_as_they_were(tmp_path):
    root, _ = sweep(tmp_path)
    assert discovery_cli.main([str(root), "--threshold", "0.2", "--resamples", "2"]) == 0
    agg = root / "aggregate"
    before = {name: (agg / name).read_bytes() for name in discovery.FILES}
    assert discovery_cli.main([str(root), "--step", "3", "--resamples", "0"]) == 0
    assert {name: (agg / name).read_bytes() for name in discovery.FILES} == before
    assert (agg / "prim_step3.json").exists() and (agg / "prim_step3_boxes.parquet").exists()


def test_long_analyses_log_their_rate_and_prim_prints_no_stray_line(tmp_path, caplog):
    """Off a terminal, the resamples log done/total, a rate and an ETA (a slow rate per minute); the PRIM
    package's import line ("mpld3 library not found") is silenced."""
    import logging
    import subprocess
    import sys

    from sim.run import progress

    x, y = planted()
    progress.set_interval(0.0)
    try:
        with caplog.at_level(logging.INFO, logger="sim.progress"):
            boxes.resample_runs(x.iloc[:300], y[:300], 0.2, n=3, progress=None)
    finally:
        progress.set_interval(30.0)
    lines = [r.getMessage() for r in caplog.records if r.name == "sim.progress"]
    assert any(line.startswith("PRIM on resamples: 1/3 resamples (33.3%), ") and "ETA" in line for line in lines)
    code = "import logging; logging.basicConfig(level=logging.INFO); from sim.analysis import boxes; " \
           "boxes.quiet_prim(); import prim"
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stderr
    assert "mpld3" not in err
