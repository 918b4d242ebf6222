"""The sensitivity and scenario-discovery pipeline checked against known truth: Sobol indices of the
Ishigami function, and a PRIM box planted in the design, through the project's own design, matching
and analysis code (sim.run.designs, sim.analysis.sensitivity, sim.analysis.discovery)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sweeps import kill_when_stored

from sim.analysis import discovery, sensitivity
from sim.model import priors
from sim.model.params import ParameterError
from sim.run import designs
from sim.run.designs import DesignSpec

ROOT = Path(__file__).resolve().parent.parent
# Three factors whose priors are uniform (Ishigami is defined on uniform inputs).
UNIFORM = [n for n, p in priors.priors().items() if p.dist == "uniform" and not n.startswith("militias.")][:3]


def ishigami(u: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    x = -np.pi + 2 * np.pi * u
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


# Saltelli et al. (2008), Ishigami with a = 7, b = 0.1
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)


def fake_sweep(tmp_path: Path, spec: DesignSpec, y: np.ndarray, shuffle: bool = True) -> Path:
    """A sweep folder as the sweep machinery leaves it (design.json, aggregate/points.parquet and
    runs.parquet), with the outcome ``y`` per design row, the points in another order than the rows."""
    unit = designs.unit_rows(spec)
    rows = designs.values(spec, unit)
    designs.write_design(tmp_path, spec, unit.shape[0])
    points = pd.DataFrame(
        {
            col: [r[name] for r in rows]
            for col, name in zip(designs.factor_columns(spec.factors), spec.factors, strict=True)
        }
    )
    points = points.assign(point_key=[f"{i:08x}" for i in range(len(rows))], experiment="test", scenario="none",
                           drop_events="", replicates=1, p_escalation=y, var_p_escalation=0.0)  # fmt: skip
    if shuffle:
        points = points.sample(frac=1.0, random_state=1)
    (tmp_path / "aggregate").mkdir()
    points.to_parquet(tmp_path / "aggregate" / "points.parquet")
    runs = points[["point_key"]].assign(escalated=points["p_escalation"], first_clash_day=-1, clashes=0,
                                        attacks_state=0, attacks_us=0, interventions=0, boycott_days=0)  # fmt: skip
    runs.to_parquet(tmp_path / "aggregate" / "runs.parquet")
    return tmp_path


def test_sobol_pipeline_recovers_ishigami_indices(tmp_path):
    """S1 and ST of Ishigami from a 2^12 Saltelli design, mapped through the priors and matched back by
    value: within 0.04 of the analytic indices, and the convergence check agrees on the ranking."""
    spec = DesignSpec("sobol", 4096, 3, tuple(UNIFORM), second_order=True)
    y = ishigami(designs.unit_rows(spec))
    result = sensitivity.analyse(fake_sweep(tmp_path, spec, y), outcomes=("p_escalation",))
    table = result["table"].set_index(["factor", "index"])["value"]
    for name, s1, st in zip(UNIFORM, ISHIGAMI_S1, ISHIGAMI_ST, strict=True):
        assert abs(table[(name, "S1")] - s1) < 0.04, (name, table[(name, "S1")])
        assert abs(table[(name, "ST")] - st) < 0.04, (name, table[(name, "ST")])
    conv = result["groups"][0]["outcomes"]["p_escalation"]["convergence"]
    assert conv["half"] == 2048 and conv["spearman"] == pytest.approx(1.0)


def test_morris_pipeline_ranks_ishigami_factors(tmp_path):
    """Morris mu* on Ishigami ranks x2 (large, additive) and x1 (with the x1 x3 interaction) above x3, and
    gives x3 a sigma above its mu (its effect is only through the interaction)."""
    spec = DesignSpec("morris", 200, 5, tuple(UNIFORM))
    y = ishigami(designs.unit_rows(spec))
    result = sensitivity.analyse(fake_sweep(tmp_path, spec, y), outcomes=("p_escalation",))
    t = result["table"].pivot_table(index="factor", columns="index", values="value")
    x1, x2, x3 = UNIFORM
    assert min(t.loc[x1, "mu_star"], t.loc[x2, "mu_star"]) > t.loc[x3, "mu_star"]
    assert t.loc[x3, "sigma"] > abs(t.loc[x3, "mu"])


def test_analysis_refuses_an_unfinished_design(tmp_path):
    spec = DesignSpec("sobol", 64, 3, tuple(UNIFORM))
    root = fake_sweep(tmp_path, spec, ishigami(designs.unit_rows(spec)))
    points = pd.read_parquet(root / "aggregate" / "points.parquet")
    points.iloc[:-5].to_parquet(root / "aggregate" / "points.parquet")
    with pytest.raises(sensitivity.SensitivityError, match=r"5 of .* design rows have no finished point"):
        sensitivity.analyse(root, outcomes=("p_escalation",))


def test_prim_finds_a_planted_box(tmp_path):
    """Points inside a planted box (two factors' upper and lower thirds) escalate, others do not, with 5%
    label noise: PRIM's chosen box restricts those two factors, within 0.1 of the planted limits in
    prior-quantile units, and no other factor, with density and coverage near what the planted box has."""
    names = tuple(list(priors.priors())[:8])
    spec = DesignSpec("lhs", 3000, 11, names)
    unit = designs.unit_rows(spec)
    inside = (unit[:, 0] > 2 / 3) & (unit[:, 1] < 1 / 3)
    flip = np.random.default_rng(0).random(len(unit)) < 0.05
    y = np.where(inside ^ flip, 0.9, 0.0)
    result = discovery.discover(fake_sweep(tmp_path, spec, y), threshold=0.2)
    box = result["groups"][0]["boxes"][0]
    assert set(box["limits"]) == {names[0], names[1]}
    p0, p1 = priors.priors()[names[0]], priors.priors()[names[1]]
    lo0 = (box["limits"][names[0]][0] - p0.low) / (p0.high - p0.low)
    hi1 = (box["limits"][names[1]][1] - p1.low) / (p1.high - p1.low)
    assert abs(lo0 - 2 / 3) < 0.1 and abs(hi1 - 1 / 3) < 0.1
    # the planted box holds 95% of its points' positives, and 70% of all positives (the flips outside
    # it cannot be covered): density about 0.95 and coverage about 0.70 at best
    assert box["density"] > 0.85 and box["coverage"] > 0.6


@pytest.mark.parametrize(("cfg", "field"), [
    ({"method": "sobel", "size": 8}, "design.method"),
    ({"method": "sobol", "size": 100}, "design.size"),
    ({"method": "morris", "size": 0}, "design.size"),
    ({"method": "lhs", "size": 10, "factors": ["patron_influnce"]}, "design.factors"),
    ({"method": "lhs", "size": 10, "factors": ["escalation_clashes"]}, "design.factors"),
    ({"method": "lhs", "size": 10, "seed": -1}, "design.seed"),
])  # fmt: skip
def test_bad_design_gives_one_line_naming_the_field(cfg, field):
    with pytest.raises(ParameterError) as err:
        DesignSpec.from_config(cfg)
    assert str(err.value).startswith(field) and "\n" not in str(err.value)


def test_block_rows_partition_the_design():
    blocks = [designs.block_rows(1620, 8, b) for b in range(8)]
    assert sum(len(b) for b in blocks) == 1620 and blocks[0].start == 0 and blocks[-1].stop == 1620
    assert all(a.stop == b.start for a, b in itertools.pairwise(blocks))


def test_design_sweep_runs_resumes_and_analyses(tmp_path):
    """A tiny Morris study through Hydra: two jobs, then sim.sensitivity writes its indices; a rerun
    computes nothing new and a second design in the same folder is refused."""
    args = [sys.executable, "-m", "sim", "experiment=morris", "design.size=2", "replicates=10", "design.blocks=2",
            "design.block=range(0,2)", "design.factors=[patron_influence,militia_independence,militias.kss.loyalty]",
            f"hydra.sweep.dir={tmp_path / 'm'}"]  # fmt: skip
    first = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "ran 4" in first.stdout and "aggregated 8 points" in first.stdout
    again = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "ran 0" in again.stdout
    assert (tmp_path / "m" / "aggregate" / "sensitivity.parquet").exists()
    info = json.loads((tmp_path / "m" / "aggregate" / "sensitivity.json").read_text())
    assert info["design"]["rows"] == 8
    other = subprocess.run([*args[:-1], "design.seed=9", args[-1]], cwd=ROOT, capture_output=True, text=True,
                           timeout=300)  # fmt: skip
    assert other.returncode == 2 and "holds another design" in other.stderr


def test_design_sweep_killed_and_resumed_equals_uninterrupted(tmp_path):
    """kill -9 part-way through a Morris sweep; the rerun runs only the missing points, and the points
    and the indices equal an uninterrupted sweep's."""
    args = [sys.executable, "-m", "sim", "experiment=morris", "design.size=4", "replicates=60", "design.blocks=4",
            "design.block=range(0,4)", "params.cells_per_militia=10",
            "design.factors=[patron_influence,militia_independence,stance_threshold]"]  # fmt: skip
    full = subprocess.run([*args, f"hydra.sweep.dir={tmp_path / 'full'}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert full.returncode == 0, full.stderr
    cut = tmp_path / "cut"
    done_before = kill_when_stored([*args, f"hydra.sweep.dir={cut}"], cut, 4, cwd=ROOT, timeout=300)
    assert 4 <= done_before < 16, done_before
    again = subprocess.run([*args, f"hydra.sweep.dir={cut}"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    for name in ("points", "sensitivity"):
        a = pd.read_parquet(tmp_path / "full" / "aggregate" / f"{name}.parquet")
        b = pd.read_parquet(cut / "aggregate" / f"{name}.parquet")
        pd.testing.assert_frame_equal(a, b)


def test_pawn_ranks_a_known_function_and_a_dummy_marks_the_noise_floor(tmp_path):
    """On a Latin hypercube of 1000 points, y = 4 x1 + 2 x2 + x3 + noise, x4 without effect: PAWN ranks
    x1 > x2 > x3, the inert x4 lies within its interval of the dummy's noise floor, x1 and x2 lie clearly above
    it (beyond both intervals) and the weak x3 above it."""
    names = tuple(list(priors.priors())[:4])
    spec = DesignSpec("lhs", 1000, 5, names)
    u = designs.unit_rows(spec)
    y = 4 * u[:, 0] + 2 * u[:, 1] + u[:, 2] + np.random.default_rng(1).normal(0, 0.1, len(u))
    result = sensitivity.analyse(fake_sweep(tmp_path, spec, y), outcomes=("p_escalation",))
    entry = result["groups"][0]["outcomes"]["p_escalation"]
    assert entry["ranking"][:3] == list(names[:3])
    t = result["table"].set_index("factor")
    floor = entry["noise_floor"]
    assert t.loc[sensitivity.DUMMY, "value"] == pytest.approx(floor)
    assert abs(t.loc[names[3], "value"] - floor) < t.loc[names[3], "conf"] + t.loc[sensitivity.DUMMY, "conf"]
    for name in names[:2]:
        assert t.loc[name, "value"] - t.loc[name, "conf"] > floor + t.loc[sensitivity.DUMMY, "conf"], name
    assert t.loc[names[2], "value"] > floor
    assert entry["convergence"]["spearman"] > 0.7
