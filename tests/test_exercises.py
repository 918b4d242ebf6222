"""The exercises' instructor keys stay true: every number quoted between key markers in
docs/exercises/*.md is recomputed from the exercise's own command and must match as printed, every
sentence marked as a claim must still hold, and every command an exercise prints must compose."""

from __future__ import annotations

import json
import re
import shlex

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from sim.commands.main_job import CONFIG_DIR, run_job
from sim.run.validate import resolve_inputs
from sim.teaching import exercises

FILES = exercises.exercise_files()
INDEX = exercises.EXERCISE_DIR / "README.md"


def test_there_are_exercises_and_an_index_that_links_each():
    numbered = [f for f in FILES if re.match(r"\d\d_", f.name)]
    assert 5 <= len(numbered) <= 7
    index = INDEX.read_text()
    for f in numbered:
        assert f"]({f.name})" in index, f"{f.name} is not linked from docs/exercises/README.md"


def test_every_key_and_claim_is_quoted_and_every_quoted_one_is_known():
    quoted = {name for f in FILES for name, _ in exercises.quoted(f)}
    assert quoted - set(exercises.KEYS) == set(), "keys in the Markdown that sim.exercises does not compute"
    assert set(exercises.KEYS) - quoted == set(), "keys sim.exercises computes that no exercise quotes"
    claimed = {name for f in FILES for name in exercises.claimed(f)}
    assert claimed - set(exercises.CLAIMS) == set(), "claims in the Markdown that sim.exercises does not check"
    assert set(exercises.CLAIMS) - claimed == set(), "claims sim.exercises checks that no exercise marks"


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def specs_of(monkeypatch_module):
    """For each key and claim, the commands (override tuples) whose runs it reads."""
    real, calls = exercises.run, []
    monkeypatch_module.setattr(exercises, "run", lambda spec: calls.append(spec) or real(spec))
    out = {}
    for kind, table in (("key", exercises.KEYS), ("claim", exercises.CLAIMS)):
        for name, fn in table.items():
            calls.clear()
            fn()
            out[kind, name] = set(calls)
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_keys_match_the_model_claims_hold_and_their_commands_are_printed(path, specs_of):
    text = path.read_text()
    commands = " ".join(text.split())  # commands may not wrap, but compare on normalised whitespace
    wrong = []
    for name, printed in exercises.quoted(path):
        value = exercises.KEYS[name]()
        if printed != value:
            wrong.append(f"{name}: prints {printed}, the model gives {value}")
        for spec in specs_of["key", name]:
            assert exercises.command(spec) in commands, f"{path.name}: key {name} needs `{exercises.command(spec)}`"
    for name in exercises.claimed(path):
        if not exercises.CLAIMS[name]():
            wrong.append(f"claim {name} no longer holds: reword the sentence it marks")
        for spec in specs_of["claim", name]:
            assert exercises.command(spec) in commands, f"{path.name}: claim {name} needs `{exercises.command(spec)}`"
    assert not wrong, f"{path.name}: stale (refresh with python -m sim.exercises --write, re-read):\n" + "\n".join(
        wrong
    )


def printed_commands() -> list[tuple[str, str]]:
    """(file, line) of every `python -m sim ...` command line the exercises print."""
    return [
        (path.name, line.strip())
        for path in FILES
        for line in path.read_text().splitlines()
        if line.startswith("python -m sim ")
    ]


def test_every_command_states_seed_and_replicates():
    for name, line in printed_commands():
        assert "seed=20211107" in line and "replicates=2000" in line, f"{name}: {line}"


@pytest.mark.parametrize(
    "name, line", [pytest.param(n, line, id=f"{n}:{i}") for i, (n, line) in enumerate(printed_commands())]
)
def test_every_printed_command_composes_and_validates(name, line):
    """Each command's overrides compose under Hydra (quoting as the shell reads it) and give a valid
    scenario and parameters; a sweep (-m) is checked at each of its values."""
    overrides = shlex.split(line, comments=True)[3:]
    variants = [overrides]
    if overrides and overrides[0] == "-m":
        swept = [o for o in overrides[1:] if "," in o]
        assert len(swept) == 1, f"{name}: one swept axis expected in {line}"
        key, values = swept[0].split("=", 1)
        rest = [o for o in overrides[1:] if o != swept[0]]
        variants = [[*rest, f"{key}={v}"] for v in values.split(",")]
    for ov in variants:
        with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
            cfg = compose("config", overrides=ov)
        resolve_inputs(cfg)  # raises on an unknown parameter, event field or scenario file


def test_the_main_job_and_read_give_the_keys_number(tmp_path):
    """Exercise 1 end to end as a student runs it: the main job's files, read back with `read`."""
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("config", overrides=[*exercises.ATTACK, *exercises.COMMON, "figure=false"])
    run_job(cfg, out_dir=tmp_path, quiet=True)
    line = exercises.read(str(tmp_path), "intervened", "2021-11-07")
    assert line.startswith(f"intervened on 2021-11-07: mean {exercises.KEYS['attack_day_intervened']()} over 1000 ")
    runs = pd.read_parquet(tmp_path / "runs.parquet")
    assert f"{runs['interventions'].mean():.2f}" == exercises.KEYS["attack_interventions_per_run"]()
    among = exercises.read(str(tmp_path), "attention", "2021-11-06", ("intervened=0", "2021-11-07"))
    missed = exercises.KEYS["attack_missed_replicates"]()
    assert f" over {missed} replicates with intervened=0 on 2021-11-07 " in among
    assert f"max {exercises.KEYS['attack_missed_attention_max']()})" in among


def test_read_finds_a_scenario_by_the_name_its_run_records(tmp_path, monkeypatch):
    """A scenario_file run lands in a folder named after the config's scenario; `read` finds runs by
    the name in their meta.json, so `read ladder` finds it and `read seed_timeline` does not."""
    monkeypatch.setattr(exercises, "ROOT", tmp_path)
    folders = {
        "seed_timeline": tmp_path / "results/runs/seed_timeline/2021-01-01_00-00-00",
        "ladder": tmp_path / "results/runs/seed_timeline/2021-01-02_00-00-00",
    }
    for i, (name, folder) in enumerate(folders.items()):
        folder.mkdir(parents=True)
        (folder / "meta.json").write_text(json.dumps({"scenario": name}))
        pd.DataFrame({"interventions": [i, i]}).to_parquet(folder / "runs.parquet")
    assert exercises.newest_run("ladder") == folders["ladder"]
    assert exercises.newest_run("seed_timeline") == folders["seed_timeline"]
    assert exercises.read("seed_timeline", "interventions").startswith("interventions: mean 0.000 over 2 runs")
    with pytest.raises(SystemExit):
        exercises.newest_run("election_loss")
