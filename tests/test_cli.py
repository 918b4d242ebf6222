"""The command line end to end: configs compose, the main job writes its outputs, bad input fails in one line."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from sim.commands.main_job import CONFIG_DIR, run_job
from sim.model.params import PARAM_BY_NAME
from sim.model.scenario import list_scenarios
from sim.run import storage
from sim.run.naming import label_from
from sim.teaching import exercises

COUNTERFACTUALS = sorted(p.stem for p in (Path(CONFIG_DIR) / "counterfactual").glob("*.yaml"))


def _sim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("scenario", list_scenarios())
@pytest.mark.parametrize("counterfactual", COUNTERFACTUALS)
def test_every_config_composes(scenario, counterfactual, tmp_path):
    """Every scenario x counterfactual composes, validates and runs a 2-replicate job."""
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("config", overrides=[f"scenario={scenario}", f"counterfactual={counterfactual}",
                                           "replicates=2", "figure=false", "params.cells_per_militia=4"])  # fmt: skip
    out = run_job(cfg, out_dir=tmp_path, quiet=True)
    assert out["replicates"] == 2
    assert (tmp_path / "runs.parquet").exists()


def test_counterfactuals_change_what_they_say(tmp_path):
    """Each counterfactual file sets the parameter its name promises."""
    expect = {
        "soleimani": ("patron_influence", 0.85),
        "no_patron": ("patron_present", False),
        "high_independence": ("militia_independence", 0.8),
        "distracted_patron": ("patron_distraction", 0.8),
    }
    for name, (key, value) in expect.items():
        with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
            cfg = compose("config", overrides=[f"counterfactual={name}"])
        assert cfg.params[key] == value
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        assert list(compose("config", overrides=["counterfactual=no_mediation"]).drop_events) == ["mediation"]


def test_main_job_end_to_end(tmp_path):
    """`python -m sim` on a tiny run prints the summary and writes Parquet tables, config and figure."""
    res = _sim("replicates=30", "daily_replicates=10", "seed=3", f"hydra.run.dir={tmp_path}/run", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "escalation probability" in res.stdout and "Wilson 95%" in res.stdout
    run = tmp_path / "run"
    for name in ("runs.parquet", "daily.parquet", "config.yaml", "meta.json", "timeline.png", "timeline.pdf"):
        assert (run / name).exists(), name
    runs = pd.read_parquet(run / "runs.parquet")
    daily = pd.read_parquet(run / "daily.parquet")
    assert len(runs) == 30 and runs["replicate"].tolist() == list(range(30))
    assert daily["replicate"].nunique() == 10 and daily.groupby("replicate").size().eq(215).all()
    influence = PARAM_BY_NAME["patron_influence"].default
    assert (runs["seed"] == 3).all() and (runs["param.patron_influence"] == influence).all()
    assert runs["escalated"].isin([True, False]).all()


def test_main_job_mesa_engine_same_tables(tmp_path):
    """engine=mesa writes the same runs table as engine=vector for the same seed and replicates."""
    common = ["replicates=2", "seed=5", "figure=false", "params.cells_per_militia=5", "scenario=election_loss"]
    a = _sim(*common, "engine=mesa", f"hydra.run.dir={tmp_path}/m", cwd=tmp_path)
    b = _sim(*common, "engine=vector", f"hydra.run.dir={tmp_path}/v", cwd=tmp_path)
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    ra = pd.read_parquet(tmp_path / "m/runs.parquet").drop(columns="engine")
    rb = pd.read_parquet(tmp_path / "v/runs.parquet").drop(columns="engine")
    pd.testing.assert_frame_equal(ra, rb)
    # quiet by default: none of Mesa's per-step log lines on the console or in the run's log
    logs = "".join(f.read_text() for f in (tmp_path / "m").glob("*.log"))
    assert "calling model.step" not in a.stdout + a.stderr + logs


@pytest.mark.parametrize("verbose", [False, True])
def test_verbose_switches_mesas_step_log(verbose, tmp_path, caplog):
    """verbose=true lets Mesa's per-step log lines through; the default keeps them out."""
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("config", overrides=["engine=mesa", "replicates=1", "figure=false", f"verbose={verbose}",
                                           "scenario=stand_down_orders", "params.cells_per_militia=2"])  # fmt: skip
    caplog.set_level(logging.INFO)
    run_job(cfg, out_dir=tmp_path, quiet=True)
    steps = [r for r in caplog.records if r.name.startswith("MESA") and "calling model.step" in r.getMessage()]
    assert len(steps) == (61 if verbose else 0)


@pytest.mark.parametrize(
    ("arg", "must_contain"),
    [
        ("params.patron_influence=1.5", ["params.patron_influence", "1.5", "[0, 1]"]),
        ("params.cells_per_militia=0", ["params.cells_per_militia", "[1, 2000]"]),
        ("params.patron_influence=0.2,7", ["params.patron_influence", "7", "[0, 1]"]),
        ("params.patron_inflence=0.5", ["params.patron_inflence", "patron_influence"]),
        ("params.stance_tau=abc", ["params.stance_tau", "abc"]),
        ("militias.kss.loyalty=2", ["militias.kss.loyalty", "[0, 1]"]),
        ("militias.xyz.loyalty=0.5", ["militias.xyz", "badr"]),
        ("engine=gpu", ["engine", "vector", "mesa"]),
        ("replicates=0", ["replicates", "0"]),
        ("verbose=loud", ["verbose", "loud", "true", "false"]),
        ("scenario=seed_timelin", ["scenario", "seed_timeline"]),
        ("counterfactual=soleiman", ["counterfactual", "soleimani"]),
        ("experiment=patron_vs_indep", ["experiment", "patron_vs_independence"]),
        ("launcher=slurm", ["launcher", "submitit_slurm"]),
        ("scenario_file=/nonexistent/mine.yaml", ["/nonexistent/mine.yaml", "does not exist"]),
    ],
)
def test_bad_input_fails_with_one_line(arg, must_contain, tmp_path):
    """Bad overrides exit with status 2 and one stderr line naming the field and the allowed values."""
    res = _sim(arg, f"hydra.run.dir={tmp_path}/run", cwd=tmp_path)
    assert res.returncode == 2
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    for text in must_contain:
        assert text in lines[0], (text, lines[0])
    assert not (tmp_path / "run").exists()  # no work started


def test_scenario_file_runs_and_bad_one_fails_in_one_line(tmp_path):
    """scenario_file= runs a student's own YAML; a malformed event in it fails with one line and status 2."""
    good = tmp_path / "mine.yaml"
    event = '  - {date: "2021-10-10", kind: shock, actor: sadr, variable: grievance, delta: 0.3}\n'
    good.write_text('name: mine\nstart: "2021-10-01"\nend: "2021-10-31"\nevents:\n' + event)
    res = _sim(f"scenario_file={good}", "replicates=5", "figure=false", f"hydra.run.dir={tmp_path}/g", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "mine: 5 replicates" in res.stdout
    assert len(pd.read_parquet(tmp_path / "g/daily.parquet").query("replicate == 0")) == 31
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("grievance", "mood"))
    res = _sim(f"scenario_file={bad}", f"hydra.run.dir={tmp_path}/b", cwd=tmp_path)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 2 and len(lines) == 1 and "variable='mood'" in lines[0], res.stderr


# --- runs say what they ran -------------------------------------------------------------------------


def test_a_scenario_file_run_goes_to_a_folder_named_after_its_scenario(tmp_path):
    """Not under the default scenario's folder: the file's ``name`` (else its stem) names the run folder."""
    (tmp_path / "mine.yaml").write_text('name: my_crisis\nstart: "2021-10-01"\nend: "2021-10-10"\n')
    (tmp_path / "unnamed.yaml").write_text('start: "2021-10-01"\nend: "2021-10-10"\n')
    for file, folder in (("mine.yaml", "my_crisis"), ("unnamed.yaml", "unnamed")):
        res = _sim(f"scenario_file={tmp_path / file}", "replicates=2", "figure=false", cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert [p.name for p in (tmp_path / "results" / "runs").iterdir() if p.name == folder] == [folder]
    assert not (tmp_path / "results" / "runs" / "seed_timeline").exists()


def test_run_names_say_scenario_counterfactual_and_overrides():
    assert label_from("seed_timeline", {"counterfactual": "none"}, ["replicates=20", "seed=1"]).name == "seed_timeline"
    label = label_from("seed_timeline", {"counterfactual": "soleimani"},
                       ["counterfactual=soleimani", "params.militia_independence=0.8", "militias.kss.loyalty=0.4",
                        "replicates=20", "drop_events=[mediation]", "engine=mesa"])  # fmt: skip
    assert label.name == "seed_timeline+soleimani+militia_independence=0.8+kss.loyalty=0.4+drop_events=mediation"
    assert label.describe() == ("scenario seed_timeline; counterfactual soleimani; overrides: "
                                "params.militia_independence=0.8 militias.kss.loyalty=0.4 drop_events=[mediation]")
    # composed in Python: the counterfactual from the overrides given, or "not recorded" without any
    assert label_from("x", None, ["counterfactual=no_patron"]).counterfactual == "no_patron"
    assert label_from("x", None, None).counterfactual is None and "not recorded" in label_from("x").describe()
    # no path separators or shell globs in a folder name; long ones shortened, still unique
    assert label_from("x", None, ["scenario.events.1.label='a/b c*'"]).name == "x+scenario.events.1.label=a_b_c"
    many = [f"params.patron_influence={v / 1000}" for v in range(40)]
    a, b = label_from("x", None, many).name, label_from("x", None, [*many[:-1], "params.patron_influence=1"]).name
    assert len(a) <= 120 and len(b) <= 120 and a != b


def test_a_counterfactual_run_says_so_in_folder_header_summary_and_meta(tmp_path):
    """`python -m sim counterfactual=soleimani params...`: its own folder, and every record names what ran."""
    res = _sim("counterfactual=soleimani", "params.militia_independence=0.8", "replicates=4", "daily_replicates=2",
               "figure=false", "scenario=stand_down_orders", cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr
    name = "stand_down_orders+soleimani+militia_independence=0.8"
    (run,) = (tmp_path / "results" / "runs" / name).iterdir()
    described = "scenario stand_down_orders; counterfactual soleimani; overrides: params.militia_independence=0.8"
    assert f"{name}: 4 replicates, engine=vector" in res.stdout and described in res.stdout
    summary = (run / "summary.txt").read_text().splitlines()
    assert summary[0].startswith(f"{name}: 4 replicates") and summary[1] == described
    meta = json.loads((run / "meta.json").read_text())
    assert meta["counterfactual"] == "soleimani" and meta["run_name"] == name
    assert "counterfactual=soleimani" in meta["overrides"] and "params.militia_independence=0.8" in meta["overrides"]
    assert meta["drop_events"] == [] and meta["scenario_file"] is None


def test_read_takes_the_newest_run_of_a_scenario_in_any_variant(tmp_path, monkeypatch):
    monkeypatch.setattr(exercises, "ROOT", tmp_path)
    runs = tmp_path / "results" / "runs"
    for folder, value in (("a/2021-01-01_00-00-00", 1.0), ("a+soleimani/2021-01-02_00-00-00", 2.0),
                          ("a/2021-01-01_12-00-00", 3.0), ("ab/2021-01-03_00-00-00", 4.0)):  # fmt: skip
        (runs / folder).mkdir(parents=True)
        pd.DataFrame({"x": [value]}).to_parquet(runs / folder / "runs.parquet")
        name = folder.split("/")[0]
        (runs / folder / "meta.json").write_text(json.dumps({"scenario": name.split("+")[0], "run_name": name}))
    assert exercises.read("a", "x").startswith("x: mean 2.000 over 1 runs")  # not ab, another scenario
    assert exercises.read("a+soleimani", "x").startswith("x: mean 2.000")


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_result_files_are_as_readable_as_the_umask_allows(umask, mode, tmp_path):
    """Atomic writes (a 0600 temporary file renamed into place) end with the mode of an ordinary new file."""
    old = os.umask(umask)
    try:
        assert storage.current_umask() == umask
        storage.atomic_write_text(tmp_path / "summary.txt", "x\n")
        storage.atomic_write_parquet(pd.DataFrame({"a": [1]}), tmp_path / "runs.parquet", {"seed": 1})
        (tmp_path / "ordinary.txt").write_text("x\n")
    finally:
        os.umask(old)
    for name in ("summary.txt", "runs.parquet", "ordinary.txt"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name
