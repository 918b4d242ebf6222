"""Rival mechanisms (issue 25): the declaration is complete and consistent; the default structure gives main's
results bit for bit; structure.<mechanism>=<name> reaches the engines, run folders, sweeps' keys and prior
draws; bad input is one line. (Identity across engines for every alternative: tests/test_compiled.py and
tests/test_engines.py; each alternative's own theory: tests/test_alternatives.py.)"""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import default_reference
import numpy as np
import pytest

from sim.engines.vector import run_batch
from sim.model import priors, rules
from sim.model.params import (
    MILITIAS,
    PARAM_BY_NAME,
    PARAMS,
    ParameterError,
    make_params,
    model_values,
    params_in_use,
    structure_of,
)
from sim.model.scenario import load_scenario
from sim.model.structures import (
    DEFAULT,
    MECHANISM_BY_NAME,
    MECHANISMS,
    every_alternative,
    make_structure,
    single_changes,
)

ROOT = Path(__file__).resolve().parents[1]
ODD = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
RIVALS = [(m.name, a.name) for m, a in every_alternative() if a is not m.default]


def one_line(err: pytest.ExceptionInfo) -> str:
    msg = str(err.value)
    assert msg and "\n" not in msg, msg
    return msg


# ----------------------------------------------------------------------------- the default is main's model


@pytest.mark.xdist_group("reference")
def test_default_structure_gives_mains_results_bit_for_bit():
    """Engine results on every scenario and three counterfactuals, sweep points' seeds and keys, and the prior
    draws and design rows at the default structure equal what main computed before the alternatives existed
    (tests/default_reference.json, written from main's code; digests of every column's bytes)."""
    stored = json.loads(default_reference.PATH.read_text())
    assert default_reference.compute() == stored


def test_a_rival_changes_the_digest():
    """The reference can fail: the same digests of a rival structure differ."""
    sc = load_scenario("seed_timeline")
    a = run_batch(sc, [make_params()], [MILITIAS], default_reference.SEED, np.arange(default_reference.REPLICATES))
    stored = json.loads(default_reference.PATH.read_text())["engines"]["seed_timeline"]
    assert default_reference.array_digest(a.runs) == stored["runs"]
    for mechanism, alternative in RIVALS:
        p = make_params({MECHANISM_BY_NAME[mechanism].param: alternative})
        b = run_batch(sc, [p], [MILITIAS], default_reference.SEED, np.arange(default_reference.REPLICATES))
        assert default_reference.array_digest(b.daily) != stored["daily"], (mechanism, alternative)


# ----------------------------------------------------------------------------- the declaration


def test_every_mechanism_has_a_default_and_a_rival_and_a_structure_parameter():
    for m in MECHANISMS:
        assert len(m.alternatives) >= 2 and len(set(m.names)) == len(m.names), m.name
        spec = PARAM_BY_NAME[m.param]
        assert spec.role == "structure" and spec.kind is int and spec.default == 0
        assert spec.choices == m.names and (spec.low, spec.high) == (0, len(m.names) - 1)
    assert DEFAULT.names == tuple(m.default.name for m in MECHANISMS) and DEFAULT.is_default


def test_every_alternative_names_its_rules_parameters_evidence_and_odd_subsection():
    public = {n for n, f in inspect.getmembers(rules, inspect.isfunction) if f.__module__ == rules.__name__}
    headings = re.findall(r"^#{3,4} (\d+(?:\.\d+)+) ", ODD, flags=re.M)
    for m, a in every_alternative():
        assert a.rules and set(a.rules) <= public, (m.name, a.name, set(a.rules) - public)
        assert a.theory and a.evidence and a.title, (m.name, a.name)
        assert a.odd in headings, f"docs/ODD.md has no subsection {a.odd} for structure.{m.name}={a.name}"
        for name in a.params:
            assert PARAM_BY_NAME[name].role == "alternative", name
    owners = [name for _, a in every_alternative() for name in a.params]
    alternative_params = [p.name for p in PARAMS if p.role == "alternative"]
    assert sorted(owners) == sorted(alternative_params), "each alternative parameter belongs to exactly one alternative"


def test_odd_has_a_table_linking_every_alternative_to_its_rules():
    """One hop from the ODD to any rule: the mechanisms table names every alternative and its rule functions."""
    for m, a in every_alternative():
        row = next((ln for ln in ODD.splitlines() if ln.startswith(f"| `{m.name}` | `{a.name}`")), None)
        assert row is not None, f"no row for structure.{m.name}={a.name} in docs/ODD.md's table of mechanisms"
        for rule in a.rules:
            assert f"rules.{rule}" in row, (m.name, a.name, rule)


def test_parameters_in_use_and_priors_follow_the_structure():
    assert [p.name for p in params_in_use(DEFAULT)] == [p.name for p in PARAMS
                                                         if p.role not in ("structure", "alternative")]  # fmt: skip
    assert set(priors.priors()) == set(priors.priors(DEFAULT))
    for s in single_changes()[1:]:
        extra = {name for a in s.alternatives() for name in a.params}
        assert {p.name for p in params_in_use(s)} - {p.name for p in params_in_use(DEFAULT)} == extra
        assert set(priors.priors(s)) - set(priors.priors()) == {n for n in extra if n in priors.all_priors()}
        draws = priors.sample(16, 1, structure=s)
        assert set(draws[0]) == set(priors.priors(s))
        for name in extra & set(draws[0]):
            assert len({d[name] for d in draws}) > 8  # drawn, not fixed
    assert priors.check_declaration() == []


def test_structure_parameters_take_names_and_refuse_unknown_ones():
    for m, a in every_alternative():
        assert getattr(make_params({m.param: a.name}), m.param) == m.code(a.name)
    with pytest.raises(ParameterError) as err:
        make_params(structure_leverage="salehian")
    assert "salehyan" in one_line(err)
    with pytest.raises(ParameterError) as err:
        make_structure({"leverag": "coercion"})
    assert "leverage" in one_line(err) and "mechanism" in one_line(err)
    with pytest.raises(ParameterError) as err:
        make_structure({"leverage": "nope"})
    msg = one_line(err)
    assert all(name in msg for name in MECHANISM_BY_NAME["leverage"].names)


def test_model_values_are_the_old_parameter_set_at_the_default_structure():
    """What sweeps key and seed points on: at the default exactly the parameters before the alternatives."""
    p = make_params()
    assert model_values(p) == {q.name: q.default for q in PARAMS if q.role not in ("structure", "alternative")}
    for s in single_changes()[1:]:
        q = make_params(s.codes())
        v = model_values(q)
        assert v["structure"] == s.changed() and structure_of(q) == s
        assert set(v) - set(model_values(p)) - {"structure"} == {n for a in s.alternatives() for n in a.params}


# ----------------------------------------------------------------------------- runs, sweeps and bad input


def sim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=600)  # fmt: skip


@pytest.mark.parametrize("args", [
    ["structure.leverage=nope"], ["structure.leverag=coercion"], ["structure.leverage=salehyan,coercion"],
    ["params.structure_leverage=1"], ["params.coercion_strength=0.3"], ["+grid.structure.leverage=[x]"],
    ["-m", "structure.leverage=salehyan,nope"],
])  # fmt: skip
def test_bad_structure_is_one_line_and_writes_nothing(tmp_path, args):
    out = sim(*args, "replicates=5", f"hydra.run.dir={tmp_path}/run", f"hydra.sweep.dir={tmp_path}/sweep",
              cwd=tmp_path)  # fmt: skip
    assert out.returncode == 2, out.stderr[-2000:]
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert not any(tmp_path.iterdir()), list(tmp_path.iterdir())


@pytest.mark.slow
def test_a_structure_run_names_its_folder_and_records_its_structure(tmp_path):
    out = sim("structure.leverage=coercion", "params.coercion_strength=0.8", "replicates=20", "daily_replicates=2",
              "figure=false", f"hydra.run.dir={tmp_path}/runs/${{sim_run_name:}}", cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name == "seed_timeline+structure.leverage=coercion+coercion_strength=0.8"
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["structure"]["leverage"] == "coercion"
    import pandas as pd

    runs = pd.read_parquet(folder / "runs.parquet")
    assert (runs["structure.leverage"] == "coercion").all() and (runs["param.coercion_strength"] == 0.8).all()
    assert runs["param.coercion_backlash"].notna().all()


def test_sweep_points_of_a_structure_have_their_own_seed_and_label():
    from sim.run.sweep import SweepPoint, expand_grid, grid_structures

    sc = load_scenario("seed_timeline")
    points = expand_grid({}, {"structure": {"leverage": ["salehyan", "coercion"]}, "patron_influence": [0.4]})
    assert [structure_of(p)["leverage"] for p in points] == ["salehyan", "coercion"]
    a, b = (SweepPoint("s", sc, (), p, MILITIAS, 10, 1) for p in points)
    assert a.seed != b.seed and a.key != b.key
    assert a.label == "patron_influence=0.4" and b.label.startswith("leverage=coercion")
    assert grid_structures({}, {"structure": {"leverage": ["salehyan", "coercion"]}}) == [
        DEFAULT, make_structure({"leverage": "coercion"})]


def test_param_columns_stack_across_structures():
    from sim.run.simulate import param_columns

    default, rival = param_columns(make_params()), param_columns(make_params(structure_leverage="coercion"))
    assert list(default) == list(rival)
    assert default["structure.leverage"] == "salehyan" and rival["structure.leverage"] == "coercion"
    assert np.isnan(default["param.coercion_strength"]) and rival["param.coercion_strength"] == 0.6
