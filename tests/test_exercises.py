"""The exercises' instructor keys stay true: every number quoted between key markers in
docs/exercises/*.md is recomputed from the exercise's own command and must match as printed."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from sim.run.main_job import CONFIG_DIR, run_job
from sim.teaching import exercises

FILES = exercises.exercise_files()
INDEX = exercises.EXERCISE_DIR / "README.md"


def test_there_are_exercises_and_an_index_that_links_each():
    numbered = [f for f in FILES if re.match(r"\d\d_", f.name)]
    assert 5 <= len(numbered) <= 6
    index = INDEX.read_text()
    for f in numbered:
        assert f"]({f.name})" in index, f"{f.name} is not linked from docs/exercises/README.md"


def test_every_key_is_quoted_and_every_quoted_key_is_known():
    quoted = {name for f in FILES for name, _ in exercises.quoted(f)}
    assert quoted - set(exercises.KEYS) == set(), "keys in the Markdown that sim.exercises does not compute"
    assert set(exercises.KEYS) - quoted == set(), "keys sim.exercises computes that no exercise quotes"


@pytest.fixture(scope="module")
def specs_of_key(monkeypatch_module):
    """For each key, the commands (override tuples) whose runs it reads."""
    real, calls = exercises.run, []
    monkeypatch_module.setattr(exercises, "run", lambda spec: calls.append(spec) or real(spec))
    out = {}
    for name in exercises.KEYS:
        calls.clear()
        exercises.KEYS[name]()
        out[name] = set(calls)
    return out


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_keys_match_the_model_and_their_commands_are_printed(path, specs_of_key):
    text = path.read_text()
    commands = " ".join(text.split())  # commands may not wrap, but compare on normalised whitespace
    wrong = []
    for name, printed in exercises.quoted(path):
        value = exercises.KEYS[name]()
        if printed != value:
            wrong.append(f"{name}: prints {printed}, the model gives {value}")
        for spec in specs_of_key[name]:
            assert exercises.command(spec) in commands, f"{path.name}: key {name} needs `{exercises.command(spec)}`"
    assert not wrong, f"{path.name}: stale keys (refresh with python -m sim.exercises --write):\n" + "\n".join(wrong)


def test_every_command_states_seed_and_replicates():
    for path in FILES:
        for line in path.read_text().splitlines():
            if line.startswith("python -m sim ") or line.startswith("python -m sim -m "):
                assert "seed=20211107" in line and "replicates=2000" in line, f"{path.name}: {line}"


def test_the_main_job_and_read_give_the_keys_number(tmp_path):
    """Exercise 1 end to end as a student runs it: the main job's files, read back with `read`."""
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("config", overrides=[*exercises.ATTACK, *exercises.COMMON, "figure=false"])
    run_job(cfg, out_dir=tmp_path, quiet=True)
    line = exercises.read(str(tmp_path), "intervened", "2021-11-07")
    assert line.startswith(f"intervened on 2021-11-07: mean {exercises.KEYS['attack_day_intervened']()} over 1000 ")
    runs = pd.read_parquet(tmp_path / "runs.parquet")
    assert f"{runs['interventions'].mean():.2f}" == exercises.KEYS["attack_interventions_per_run"]()
