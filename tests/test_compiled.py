"""The compiled engine (numba) gives the vector engine's results bit for bit, and through it Mesa's: every
scenario, every counterfactual, per-row parameter points, any chunking and thread count. Plus the guards
that keep it so: no fastmath, no SVML, no fused multiply-add; a patched rule is refused; NUMBA_DISABLE_JIT
still runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.engines import compiled, vector
from sim.engines.mesa_model import MilitiaModel
from sim.model import rules
from sim.model.params import MILITIAS, make_militias, make_params
from sim.model.scenario import list_scenarios, load_scenario
from sim.run.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
COUNTERFACTUALS = sorted(p.stem for p in (ROOT / "configs" / "counterfactual").glob("*.yaml"))
SMALL = {"cells_per_militia": 6}


def assert_same(a, b) -> None:
    """Two BatchResults are equal exactly: the same columns, dtypes, shapes and values."""
    assert set(a.runs) == set(b.runs)
    for k in b.runs:
        assert a.runs[k].dtype == b.runs[k].dtype, k
        assert np.array_equal(a.runs[k], b.runs[k]), k
    assert (a.daily is None) == (b.daily is None)
    if b.daily is not None:
        assert list(a.daily) == list(b.daily)
        for k in b.daily:
            assert a.daily[k].dtype == b.daily[k].dtype, k
            assert a.daily[k].shape == b.daily[k].shape, k
            assert np.array_equal(a.daily[k], b.daily[k]), k


def counterfactual(name: str, scenario_name: str):
    """(scenario, params, militias) of a counterfactual file: parameter overrides and dropped events."""
    cfg = yaml.safe_load((ROOT / "configs" / "counterfactual" / f"{name}.yaml").read_text()) or {}
    sc = load_scenario(scenario_name)
    if cfg.get("drop_events"):
        sc = sc.without(*cfg["drop_events"])
    return sc, make_params(cfg.get("params") or {}), make_militias(cfg.get("militias") or {})


@pytest.mark.parametrize("cf", COUNTERFACTUALS)
@pytest.mark.parametrize("scenario_name", list_scenarios())
def test_every_scenario_and_counterfactual_equals_vector(scenario_name, cf):
    sc, params, militias = counterfactual(cf, scenario_name)
    reps = np.arange(30)
    a = compiled.run_batch(sc, [params], [militias], 20211107, reps)
    b = vector.run_batch(sc, [params], [militias], 20211107, reps)
    assert_same(a, b)


def test_clashes_halts_and_sustained_fighting_equal_vector():
    """On runs where the clash side acts (checked, so the test cannot pass idle)."""
    sc = load_scenario("seed_timeline")
    params = make_params({"patron_present": False, "clash_kappa": 5.0, "sustained_clashes": 4})
    a = compiled.run_batch(sc, [params], [MILITIAS], 3, np.arange(40))
    assert a.runs["clashes"].sum() > 50 and a.runs["sustained"].any() and a.runs["escalated"].any()
    assert_same(a, vector.run_batch(sc, [params], [MILITIAS], 3, np.arange(40)))


def test_per_row_parameter_points_equal_vector():
    """A batch whose rows differ in parameters (float, whole-number and switch values), militia tables and
    seeds, as sweeps and designs run them."""
    sc = load_scenario("seed_timeline")
    variants = [
        {},
        {"grievance_half_life": 17.3, "patron_influence": 0.31, "patron_targets": 1, "escalation_window": 9},
        {"pressure_half_life": 3.7, "clash_kappa": 4.2, "patron_cooldown": 0, "sustained_clashes": 3},
        {"patron_present": False, "front_activity": 0.9, "truce_compliance": 0.1, "stance_tau": 0.033},
        {"patron_intervenes": False, "rivalry_half_life": 9.1, "order_days": 2, "state_capacity": 0.05},
    ]
    mils = [MILITIAS, make_militias({"kss": {"loyalty": 0.2}}), MILITIAS, make_militias({"badr": {"grievance": 0.7}}),
            MILITIAS]  # fmt: skip
    rows = np.repeat(np.arange(len(variants)), 6)
    params_rows = [make_params(variants[i]) for i in rows]
    militias_rows = [mils[i] for i in rows]
    seeds = np.where(rows % 2 == 0, 5, 20211107).astype(np.uint64)
    reps = np.tile(np.arange(6), len(variants))
    a = compiled.run_batch(sc, params_rows, militias_rows, seeds, reps)
    b = vector.run_batch(sc, params_rows, militias_rows, seeds, reps)
    assert_same(a, b)
    # and each row is its own run: the same as that point alone
    alone = compiled.run_batch(sc, [params_rows[7]], [militias_rows[7]], seeds[7], reps[7:8])
    assert all(np.array_equal(alone.runs[k], a.runs[k][7:8]) for k in a.runs)


def test_daily_columns_and_no_daily():
    sc = load_scenario("election_loss")
    p = make_params()
    cols = ("clash", "tension", "attacks_us_today", "share_2", "contests_0")
    a = compiled.run_batch(sc, [p], [MILITIAS], 9, np.arange(20), daily_columns=cols)
    b = vector.run_batch(sc, [p], [MILITIAS], 9, np.arange(20), daily_columns=cols)
    assert_same(a, b)
    a = compiled.run_batch(sc, [p], [MILITIAS], 9, np.arange(20), keep_daily=False)
    b = vector.run_batch(sc, [p], [MILITIAS], 9, np.arange(20), keep_daily=False)
    assert_same(a, b)


def test_five_militias_equal_vector():
    """Nothing assumes four militias: a fifth (a copy of kss under another key) runs identically."""
    import dataclasses

    fifth = (*MILITIAS, dataclasses.replace(MILITIAS[2], key="extra", loyalty=0.33))
    sc = load_scenario("seed_timeline")
    p = make_params({"patron_targets": 4})
    assert_same(compiled.run_batch(sc, [p], [fifth], 4, np.arange(12)), vector.run_batch(sc, [p], [fifth], 4,
                                                                                          np.arange(12)))  # fmt: skip


@pytest.mark.parametrize(("chunk_size", "workers"), [(7, 1), (None, 2), (64, 2)])
def test_tables_do_not_depend_on_chunks_or_threads(chunk_size, workers):
    sc = load_scenario("seed_timeline")
    kw = {"seed": 11, "replicates": 150, "daily_replicates": 40, "progress": False}
    ra, da = simulate(sc, make_params(), MILITIAS, engine="compiled", chunk_size=chunk_size, workers=workers, **kw)
    rb, db = simulate(sc, make_params(), MILITIAS, engine="vector", **kw)
    pd.testing.assert_frame_equal(ra, rb, check_exact=True)
    pd.testing.assert_frame_equal(da, db, check_exact=True)


def test_mesa_equals_compiled():
    sc = load_scenario("seed_timeline")
    res = compiled.run_batch(sc, [make_params(SMALL)], [MILITIAS], 20211107, np.arange(3))
    for rep in range(3):
        m = MilitiaModel(scenario=sc, seed=20211107, replicate=rep, **SMALL)
        while m.running:
            m.step()
        for k, v in m.run_record().items():
            assert v == res.runs[k][rep], (k, rep)
        daily = m.datacollector.get_model_vars_dataframe()
        assert set(daily.columns) == set(res.daily)
        for col in daily.columns:
            np.testing.assert_array_equal(daily[col].to_numpy(), res.daily[col][:, rep].astype(float), err_msg=col)


def test_scalar_helpers_equal_the_array_ones():
    """The compiled expm1, exp2, logistic and clip give numpy's/scipy's bits on many values."""
    import numba

    @numba.njit
    def each(x):
        out = np.empty((4, x.size))
        for i in range(x.size):
            out[0, i] = rules.expm1(x[i])
            out[1, i] = rules.exp2(x[i])
            out[2, i] = rules.sigmoid(x[i])
            out[3, i] = rules.clip01(x[i])
        return out

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 4, 100_000), rng.uniform(-1e-3, 1e-3, 20_000), -1.0 / rng.uniform(1, 400, 20_000),
                        [0.0, -0.0, 1.0, -1.0, 1e-300, 700.0, -745.0]])  # fmt: skip
    out = each(x)
    for i, f in enumerate((rules.expm1, rules.exp2, rules.sigmoid, rules.clip01)):
        assert np.array_equal(out[i], f(x)), f.__name__


def test_target_mask_row_equals_the_rule():
    rng = np.random.default_rng(1)
    scores = np.round(rng.uniform(0, 1, (500, 5)), 1)  # many ties
    for k in range(1, 6):
        want = rules.target_mask(scores[:, :, None], k, axis=1)[:, :, 0]
        got = np.empty_like(want)
        for i in range(len(scores)):
            compiled.target_mask_row(scores[i], k, got[i])
        assert np.array_equal(got, want), k


def test_the_idle_bound_never_decides_against_the_logistic():
    """above_logistic says "stays idle" only where u >= the sigmoid as computed: on and just around the boundary
    (the next floats, relative steps of 1e-12 and more), and for random draws, over a wide range of arguments."""
    import numba

    @numba.njit
    def idle(u, x):
        out = np.empty(x.size, dtype=np.bool_)
        for i in range(x.size):
            out[i] = compiled.above_logistic(u[i], x[i])
        return out

    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(-10, 10, 200_000), rng.uniform(-60, 0, 100_000), -rng.uniform(0, 1e-6, 10_000),
                        [-0.0, 0.0, -1e-300, -708.0, -709.8, -745.0, -800.0, -1e10, np.nan]])  # fmt: skip
    p = rules.sigmoid(x)
    for u in (p, np.nextafter(p, 1), np.nextafter(np.nextafter(p, 1), 1), np.nextafter(p, 0), p * (1 + 1e-12),
              p * (1 + 3e-12), p * (1 + 1e-9), p * 1.01, rng.random(x.size), np.zeros_like(x)):  # fmt: skip
        said = idle(u, x)
        assert not np.any(said & (u < p))
    assert idle(rng.random(x.size), x).mean() > 0.5  # and it decides often


def test_a_patched_rule_is_refused(monkeypatch):
    """The mutation suite patches rules; compiled code cannot see that, so it refuses instead of ignoring it."""
    monkeypatch.setattr(rules, "relax", lambda x, base, half_life: x)
    with pytest.raises(RuntimeError, match="relax"):
        compiled.run_batch(load_scenario("seed_timeline"), [make_params()], [MILITIAS], 1, np.arange(2))


def test_parameter_records_follow_the_declaration():
    from sim.model.params import PARAMS

    names = [p.name for p in PARAMS]
    assert list(compiled.PARAM_DTYPE.names[: len(names)]) == names
    assert compiled.PARAM_DTYPE.names[-1] == f"src_{compiled.FINGERPRINT}"


FRESH_COMPILE = """
import re, sys, numpy as np
from sim.engines import compiled
from sim.model.params import make_params, MILITIAS
from sim.model.scenario import load_scenario
compiled.run_batch(load_scenario("seed_timeline"), [make_params()], [MILITIAS], 1, np.arange(2))
import numba
bad = []
if numba.config.USING_SVML:
    bad.append("numba uses Intel SVML")
for disp in (compiled.run_days, compiled._replicate_days):
    if disp.targetoptions.get("fastmath"):
        bad.append(f"{disp.__name__}: fastmath")
    asms, irs = disp.inspect_asm(), disp.inspect_llvm()
    if not asms:
        bad.append(f"{disp.__name__}: nothing compiled to inspect")
    for asm in asms.values():
        if "svml" in asm.lower():
            bad.append(f"{disp.__name__}: calls SVML")
        if re.search(r"vfn?m(add|sub)", asm):
            bad.append(f"{disp.__name__}: fused multiply-add")
    for ir in irs.values():
        if re.search(r"= f(add|sub|mul|div|neg|cmp) (fast|contract|reassoc|nnan|ninf|nsz|arcp|afn)\\b", ir):
            bad.append(f"{disp.__name__}: fast-math flags in the LLVM IR")
print("BAD:" + "; ".join(bad))
"""


@pytest.mark.slow
def test_no_fastmath_svml_or_fma_in_the_compiled_day(tmp_path):
    """Compiled afresh (an empty cache, so that the code can be inspected): no fastmath, no SVML call, no
    fast-math flag in the IR and no fused multiply-add, any of which would change the last bits."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", FRESH_COMPILE], capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("BAD:")][-1]
    assert line == "BAD:", line


NO_JIT = """
import numpy as np
from sim.engines import compiled, vector
from sim.model.params import make_params, MILITIAS
from sim.model.scenario import load_scenario
sc = load_scenario("election_loss")
p = make_params({"cells_per_militia": 3})
a = compiled.run_batch(sc, [p], [MILITIAS], 2, np.arange(2))
b = vector.run_batch(sc, [p], [MILITIAS], 2, np.arange(2))
ok = all(np.array_equal(a.runs[k], b.runs[k]) for k in b.runs) and all(
    np.array_equal(a.daily[k], b.daily[k]) for k in b.daily)
print("SAME" if ok else "DIFFERENT")
"""


def test_runs_with_numba_jit_disabled():
    """NUMBA_DISABLE_JIT=1 runs the same Python functions uncompiled (slowly) and gives the same result."""
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", NO_JIT], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=600)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "SAME"


def test_engine_is_selectable_in_the_config():
    from sim.run.config_schema import ENGINES

    assert "compiled" in ENGINES
    assert re.search(r"^engine: \w+", (ROOT / "configs" / "config.yaml").read_text(), re.M)


# ----------------------------------------------------------------------------- the rival mechanisms (issue 25)

from sim.model.structures import MECHANISMS, every_alternative  # noqa: E402

RIVALS = [f"{m.name}={a.name}" for m, a in every_alternative() if a is not m.default]
LIVELY = {"clash_kappa": 5.0, "sustained_clashes": 4, "patron_trigger": 0.3}  # clashes, halts, visits happen


def structure_params(spec: str, **extra) -> object:
    """Params for ``mechanism=name+mechanism=name`` (a structure) and extra parameter values."""
    choices = dict(part.split("=") for part in spec.split("+") if part)
    return make_params({**{f"structure_{m}": a for m, a in choices.items()}, **extra})


def sampled_structures(n: int, seed: int = 25) -> list[str]:
    """A seeded sample of combinations of alternatives (each mechanism's choice drawn independently)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        out.append("+".join(f"{m.name}={m.names[rng.integers(len(m.names))]}" for m in MECHANISMS))
    return out


@pytest.mark.parametrize("structure", RIVALS)
@pytest.mark.parametrize("scenario_name", list_scenarios())
def test_every_alternative_on_every_scenario_equals_vector(scenario_name, structure):
    """Each rival alternative, on every scenario, at the defaults and where the clash side and the patron act."""
    sc = load_scenario(scenario_name)
    for extra in ({}, LIVELY):
        p = structure_params(structure, **extra)
        reps = np.arange(24)
        assert_same(compiled.run_batch(sc, [p], [MILITIAS], 20211107, reps),
                    vector.run_batch(sc, [p], [MILITIAS], 20211107, reps))  # fmt: skip


@pytest.mark.parametrize("structure", sampled_structures(8))
def test_sampled_combinations_of_alternatives_equal_vector(structure):
    for scenario_name in ("seed_timeline", "record_2021"):
        sc = load_scenario(scenario_name)
        p = structure_params(structure, **LIVELY)
        reps = np.arange(16)
        assert_same(compiled.run_batch(sc, [p], [MILITIAS], 3, reps), vector.run_batch(sc, [p], [MILITIAS], 3, reps))


def test_rows_of_different_structures_in_one_batch_equal_their_own_runs():
    """A batch mixing structures (a sweep over structures, a model-choice bank) is split by structure and put
    back in row order: every row equals its structure run alone, in both batch engines."""
    sc = load_scenario("seed_timeline")
    structures = ["", *RIVALS[:3], *sampled_structures(2, seed=7)]
    rows = np.repeat(np.arange(len(structures)), 5)
    rng = np.random.default_rng(3)
    rng.shuffle(rows)
    params_rows = [structure_params(structures[i], **LIVELY) for i in rows]
    reps = np.arange(len(rows)) % 5
    for engine in (compiled, vector):
        mixed = engine.run_batch(sc, params_rows, [MILITIAS] * len(rows), 9, reps)
        for i in (0, 7, len(rows) - 1):
            alone = vector.run_batch(sc, [params_rows[i]], [MILITIAS], 9, reps[i : i + 1])
            for k in alone.runs:
                assert np.array_equal(alone.runs[k], mixed.runs[k][i : i + 1]), (engine.__name__, k)
            for k in alone.daily:
                assert np.array_equal(alone.daily[k][:, 0], mixed.daily[k][:, i]), (engine.__name__, k)
