"""The bad-input catalogue: every case stops `python -m sim` before any work with exit status 2, one line on
stderr, no traceback and nothing written; and random scenario files either run or fail in one line."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim.__main__ as cli
from sim.model.params import MILITIAS, ParameterError, make_params
from sim.model.scenario import EVENT_FIELDS, MEDIATORS, SHOCKABLE, load_scenario_file
from sim.run.simulate import simulate

HEAD = 'name: mine\nstart: "2021-10-01"\nend: "2021-10-31"\n'


def _events(*lines: str) -> str:
    return HEAD + "events:\n" + "".join(f"  - {{{line}}}\n" for line in lines)


D = 'date: "2021-10-10"'
# Scenario files, by name: each is wrong in one way (written by the ``inputs`` fixture).
FILES: dict[str, str | bytes] = {
    "nan_delta": _events(f"{D}, kind: shock, actor: sadr, variable: grievance, delta: .nan"),
    "inf_delta": _events(f"{D}, kind: shock, actor: sadr, variable: grievance, delta: .inf"),
    "big_delta": _events(f"{D}, kind: shock, actor: sadr, variable: grievance, delta: 3"),
    "nan_rivalry": _events(f"{D}, kind: election, seats: {{fatah: [48, 17]}}, rivalry: .nan"),
    "nan_seats": _events(f"{D}, kind: election, seats: {{fatah: [.nan, 17]}}"),
    "negative_seats": _events(f"{D}, kind: election, seats: {{fatah: [-48, 17]}}"),
    "huge_seats": _events(f"{D}, kind: election, seats: {{fatah: [48, 1.0e9]}}"),
    "seats_text": _events(f'{D}, kind: election, seats: "lots"'),
    "seats_list": _events(f"{D}, kind: election, seats: [48, 17]"),
    "seats_triple": _events(f"{D}, kind: election, seats: {{fatah: [48, 17, 3]}}"),
    "seats_fraction": _events(f"{D}, kind: election, seats: {{fatah: [48.5, 17]}}"),
    "no_seats": _events(f"{D}, kind: election"),
    "days_word": _events(f"{D}, kind: order, days: week"),
    "days_fraction": _events(f"{D}, kind: order, days: 2.5"),
    "days_zero": _events(f"{D}, kind: order, days: 0"),
    "grievance_5": _events(f"{D}, kind: ratification, grievance: 5"),
    "grievance_text": _events(f'{D}, kind: coalition, grievance: "high"'),
    "grievance_bool": _events(f"{D}, kind: deadline, grievance: true"),
    "unknown_field": _events(f"{D}, kind: attack, targt: pm"),
    "field_of_other_kind": _events(f"{D}, kind: attack, days: 3"),
    "bad_kind": _events(f"{D}, kind: atack"),
    "no_kind": _events(f"{D}, target: pm"),
    "no_date": _events("kind: attack"),
    "date_outside": _events('date: "2022-10-10", kind: attack'),
    "date_before": _events('date: "2021-09-30", kind: attack'),
    "date_text": _events('date: "next tuesday", kind: attack'),
    "date_time": _events("date: 2021-10-10 10:00:00, kind: attack"),
    "date_number": _events("date: 20211010, kind: attack"),
    "duplicate": _events(f"{D}, kind: attack", f"{D}, kind: attack"),
    "duplicate_default": _events(f"{D}, kind: attack", f"{D}, kind: attack, target: pm, label: again"),
    "repeat_word": _events(f"{D}, kind: attack, repeat: maybe"),
    "mediator_unknown": _events(f"{D}, kind: mediation, mediators: [patron, pope]"),
    "mediators_empty": _events(f"{D}, kind: mediation, mediators: []"),
    "mediators_twice": _events(f"{D}, kind: mediation, mediators: [patron, patron]"),
    "mediator_involvement": _events(f"{D}, kind: mediation, mediators: {{sistani: 1.5}}"),
    "mediator_nan": _events(f"{D}, kind: mediation, mediators: {{sistani: .nan}}"),
    "shock_no_variable": _events(f"{D}, kind: shock, actor: sadr, delta: 0.1"),
    "shock_not_shockable": _events(f"{D}, kind: shock, actor: pm, variable: grievance, delta: 0.1"),
    "shock_actor": _events(f"{D}, kind: shock, actor: nato, variable: rivalry, delta: 0.1"),
    "attack_target": _events(f"{D}, kind: attack, target: moon"),
    "attack_actor": _events(f"{D}, kind: attack, actor: kh"),
    "label_list": _events(f"{D}, kind: attack, label: [a, b]"),
    "event_not_mapping": HEAD + "events:\n  - attack\n",
    "events_mapping": HEAD + "events: {attack: 1}\n",
    "top_level_typo": HEAD + "evnts: []\n",
    "emergent_text": HEAD + "emergent: clashes\n",
    "end_before_start": 'start: "2021-10-31"\nend: "2021-10-01"\n',
    "no_start": 'end: "2021-10-01"\n',
    "century": 'start: "2021-01-01"\nend: "2121-01-01"\n',
    "empty": "",
    "blank": "\n\n   \n",
    "list": "- a\n- b\n",
    "scalar": "just words\n",
    "invalid_yaml": 'start: "2021-10-01\nend: [\n',
    "binary": bytes(range(256)) * 4,
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    for name, text in FILES.items():
        path = folder / f"{name}.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    (folder / "a_folder.yaml").mkdir()
    (folder / "posterior.parquet").write_bytes(b"PAR1 not really")
    pd.DataFrame({"weight": [1.0]}).to_csv(folder / "no_factors.csv", index=False)
    pd.DataFrame({"patron_influence": [0.5, 7.0]}).to_csv(folder / "out_of_range.csv", index=False)
    return folder


def _file(name: str, expect: str | None = None) -> pytest.param:
    return pytest.param(["scenario_file={dir}/" + f"{name}.yaml"], expect, id=f"file-{name}")


def _case(args: str, expect: str | None = None, id: str | None = None) -> pytest.param:
    return pytest.param(args.split(), expect, id=id or args[:60])


# (arguments, a text the one line must contain). {dir} is the folder of the files above.
CATALOGUE = [
    # parameters
    _case("params.patron_influence=1.5", "[0, 1]"),
    _case("params.patron_influence=-0.1", "out of range"),
    _case("params.patron_influence=nan", "not finite"),
    _case("params.patron_influence=inf", "not finite"),
    _case("params.patron_influence=-inf", "not finite"),
    _case("params.patron_influence=abc", "not a number"),
    _case("params.patron_influence=[0.1,0.2]", "params.patron_influence"),
    _case("params.patron_cooldown=2.5", "whole number"),
    _case("params.cells_per_militia=0", "[1, 2000]"),
    _case("params.patron_present=maybe", "true or false"),
    _case("params.patron_inflence=0.5", "did you mean patron_influence"),
    _case("params.nonsense=1", "not a parameter"),
    _case("+params.foo=1", "not a parameter"),
    _case("params.patron_influence.x=1", "params.patron_influence.x"),
    _case("params=3", "params"),
    # militias
    _case("militias.kss.loyalty=2", "militias.kss.loyalty"),
    _case("militias.kss.loyalty=nan", "not finite"),
    _case("militias.kss.loyalty=high", "not a number"),
    _case("militias.xyz.loyalty=0.5", "badr"),
    _case("militias.kss.loyality=0.5", "did you mean loyalty"),
    _case("+militias.kss.foo=1", "militias.kss.foo"),
    _case("militias.kss=0.3", "militias.<"),
    _case("militias.aah.independence_offset=-1.5", "[-1, 1]"),
    # keys that are not settings
    _case("+replicate=5", "did you mean replicates"),
    _case("replicate=5", "did you mean replicates"),
    _case("+param.patron_influence=0.9", "did you mean params"),
    _case("+militia.kss.loyalty=0.4", "did you mean militias"),
    _case("+seeds=3", "did you mean seed"),
    _case("+engin=mesa", "did you mean engine"),
    _case("enigne=vector", "did you mean engine"),
    _case("+drop_event=[mediation]", "did you mean drop_events"),
    _case("+scenario.evnts=[]", "did you mean events"),
    _case("+design.methd=sobol", "did you mean method"),
    # run settings
    _case("replicates=0", "replicates=0"),
    _case("replicates=-5", "out of range"),
    _case("replicates=2.5", "whole number"),
    _case("replicates=abc", "not a number"),
    _case("replicates=100000000000", "out of range"),
    _case("replicates=nan", "not finite"),
    _case("seed=-1", "seed"),
    _case("seed=abc", "not a number"),
    _case("daily_replicates=-1", "daily_replicates"),
    _case("chunk_size=-3", "chunk_size=-3"),
    _case("chunk_size=0", "chunk_size"),
    _case("chunk_size=1.5", "whole number"),
    _case("chunk_size=abc", "not a number"),
    _case("workers=abc", "workers"),
    _case("workers=0", "workers"),
    _case("workers=5000", "workers"),
    _case("memory_budget_mb=1", "memory_budget_mb"),
    _case("memory_budget_mb=lots", "not a number"),
    _case("engine=gpu", "vector"),
    _case("figure=maybe", "true"),
    _case("verbose=loud", "verbose"),
    _case("progress=sometimes", "progress"),
    _case("progress_interval_s=0", "progress_interval_s"),
    _case("max_days=0", "max_days"),
    _case("max_days=1e9", "max_days"),
    _case("draws=0", "draws"),
    # config groups and Hydra's own input
    _case("scenario=seed_timelin", "seed_timeline"),
    _case("counterfactual=soleiman", "soleimani"),
    _case("experiment=patron_vs_indep", "patron_vs_independence"),
    _case("launcher=slurm", "submitit_slurm"),
    _case("hydra/launcher=nope", "allowed"),
    _case("--foo", "unrecognized"),
    _case("--cfg wrong", "invalid choice"),
    _case("hydra.run.dir", "hydra.run.dir"),
    _case("params.patron_influence=[", "params.patron_influence"),
    _case("hydra.job.chdir=maybe", "hydra.job.chdir"),
    # drop_events
    _case("drop_events=[nonsense]", "not an event kind"),
    _case("drop_events=[mediaton]", "did you mean mediation"),
    _case("drop_events=mediation", "drop_events=[mediation]"),
    # the scenario through overrides
    _case("scenario.end=2121-01-01", "max_days"),
    _case("scenario.start=abc", "not a date"),
    _case("scenario.end=2021-01-01", "before"),
    _case("scenario.events.0.kind=boom", "not an event kind"),
    _case("scenario.events.0.date=2030-01-01", "outside"),
    _case("scenario.events.1.mediators=[pope]", "pope"),
    # scenario files
    *[_file(name) for name in FILES],
    pytest.param(["scenario_file={dir}/a_folder.yaml"], "folder", id="file-a_folder"),
    pytest.param(["scenario_file={dir}/missing.yaml"], "does not exist", id="file-missing"),
    _case("scenario_file=", "empty", id="file-empty-value"),
    # sweeps
    _case("params.patron_influence=0.1,0.2", "-m"),
    _case("-m params.patron_influence=0.2,7", "7"),
    _case("-m params.patron_influence=range(0,2,0.5)", "1.5"),
    _case("-m params.patron_influence=choice(0.1,1.1)", "1.1"),
    _case("-m params.patron_influence=interval(0,5)", "[0, 1]"),
    _case("-m params.patron_influence=interval(0,0.5)", "interval"),
    _case("-m scenario=election_loss,nope", "nope"),
    _case("-m engine=mesa,vector", "engine=mesa"),
    _case("-m experiment=patron_vs_independence engine=mesa", "engine=mesa"),
    _case("-m replicates=10,0", "replicates=0"),
    _case("-m militias.kss.loyalty=0.1,1.1", "militias.kss.loyalty"),
    _case("experiment=sobol design.blocks=0", "design.blocks"),
    _case("experiment=sobol design.block=99", "design.block"),
    _case("experiment=sobol design.size=100", "power of two"),
    _case("experiment=sobol design.factors=[nothing]", "nothing"),
    _case("+grid.patron_influence=[]", "empty"),
    _case("+grid.patron_inflence=[0.1]", "did you mean patron_influence"),
    _case("+grid.patron_influence=[0.5,2]", "grid.patron_influence"),
    _case("+design.method=foo", "design.method"),
    # parameter sets
    _case("params_from=/nonexistent/posterior.parquet", "not a file"),
    pytest.param(["params_from={dir}/posterior.parquet"], "not a readable", id="params_from-corrupt"),
    pytest.param(["params_from={dir}/no_factors.csv"], "no parameter columns", id="params_from-no-factors"),
    pytest.param(["params_from={dir}/out_of_range.csv"], "set 1", id="params_from-out-of-range"),
    _case("params_from=prior engine=mesa", "engine=vector"),
]


def _run_entry(argv: list[str], cwd: Path, monkeypatch, capsys) -> tuple[int, str, str]:
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["sim", *argv])
    with pytest.raises(SystemExit) as stop:
        cli.entry()
    out = capsys.readouterr()
    return stop.value.code, out.out, out.err


def test_the_catalogue_is_large_enough():
    assert len(CATALOGUE) >= 100


@pytest.mark.parametrize(("args", "expect"), CATALOGUE)
def test_bad_input_stops_in_one_line(args, expect, inputs, tmp_path, monkeypatch, capsys):
    """Exit status 2, exactly one line on stderr (starting with ``error:``), no traceback, nothing written."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    argv = [a.replace("{dir}", str(inputs)) for a in args]
    before = sorted(p.name for p in inputs.iterdir())
    code, out, err = _run_entry(argv, cwd, monkeypatch, capsys)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, (argv, out, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err + out and out == "", out
    if expect:
        assert expect in lines[0], (expect, lines[0])
    assert list(cwd.iterdir()) == [], list(cwd.rglob("*"))  # no folder, no log, no .hydra
    assert sorted(p.name for p in inputs.iterdir()) == before


def test_a_misspelt_file_key_names_the_file_the_event_and_the_field(inputs, tmp_path, monkeypatch, capsys):
    code, _, err = _run_entry([f"scenario_file={inputs}/nan_delta.yaml"], tmp_path, monkeypatch, capsys)
    assert code == 2
    assert err.strip() == (f"error: scenario file {inputs}/nan_delta.yaml: events[0].delta=nan is not finite: "
                           "allowed [-1, 1] (shock on 2021-10-10)")  # fmt: skip


@pytest.mark.parametrize(
    "args",
    [["params.patron_influence=1.5"], ["+replicate=5"], ["scenario_file={dir}/duplicate.yaml"],
     ["-m", "params.patron_influence=interval(0,5)"], ["chunk_size=-3"]],
    ids=["range", "unknown-key", "duplicate-event", "interval", "chunk_size"],
)
def test_bad_input_end_to_end(args, inputs, tmp_path):
    """The same promise through a real `python -m sim` process."""
    argv = [a.replace("{dir}", str(inputs)) for a in args]
    res = subprocess.run([sys.executable, "-m", "sim", *argv], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 2 and len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert list(tmp_path.iterdir()) == []


EXPERIMENTS = sorted(p.stem for p in (Path(__file__).parents[1] / "configs" / "experiment").glob("*.yaml"))
VALID = [
    *[f"experiment={name}" for name in EXPERIMENTS],
    *[f"scenario={name} counterfactual=soleimani" for name in ("election_loss", "boycott_mediation")],
    "counterfactual=no_mediation engine=mesa replicates=5",
    "-m params.patron_influence=range(0,1,0.25) +grid.militia_independence=[0.2,0.8]",
    "-m scenario=glob(elec*) militias.kss.loyalty=0.1,0.9",
    "experiment=patron_vs_independence launcher=joblib",
    "params_from=prior draws=5",
    "scenario_file=configs/scenario/stand_down_orders.yaml drop_events=[order]",
    "scenario.events.1.mediators=[sistani] max_days=215 chunk_size=100 workers=1 progress=false",
    "--cfg job +replicate=5",  # prints the config, runs nothing: not checked
    "--help",
]


@pytest.mark.parametrize("args", VALID)
def test_valid_input_passes_the_check(args, tmp_path, monkeypatch):
    """No false alarms: the studies, counterfactuals and sweep forms the README shows pass, writing nothing."""
    from sim.run.validate import check_command_line

    monkeypatch.chdir(tmp_path)
    check_command_line(args.split())
    assert list(tmp_path.iterdir()) == []


def test_a_run_that_cannot_fit_on_disk_stops_first(tmp_path, monkeypatch, capsys):
    """Estimated from the measured bytes per row: 10 million replicates need about 240 MB of runs.parquet."""
    import shutil

    from sim.run import validate

    usage = shutil._ntuple_diskusage(10**9, 10**9 - 10**8, 10**8)  # 0.1 GB free
    monkeypatch.setattr(validate.shutil, "disk_usage", lambda path: usage)
    code, _, err = _run_entry(["replicates=10000000"], tmp_path, monkeypatch, capsys)
    assert code == 2 and "this run writes about 245.2 MB (runs.parquet 240.0 MB, daily.parquet 5.2 MB)" in err, err
    assert "100.0 MB free" in err and list(tmp_path.iterdir()) == []
    validate.check_command_line(["replicates=1000"])  # what fits passes


def test_a_repeat_marked_duplicate_runs_twice_and_a_far_horizon_can_be_asked_for(tmp_path):
    """The two ways out are real: ``repeat: true`` keeps both copies; max_days raised allows a long horizon."""
    path = tmp_path / "twice.yaml"
    path.write_text(_events(f"{D}, kind: attack", f"{D}, kind: attack, repeat: true"))
    assert [e.kind for e in load_scenario_file(path).events] == ["attack", "attack"]
    from sim.run.validate import check_command_line

    check_command_line([f"scenario_file={path}"])
    long = tmp_path / "long.yaml"
    long.write_text('start: "2021-01-01"\nend: "2025-01-01"\n')
    with pytest.raises(ParameterError, match="max_days=1462"):
        check_command_line([f"scenario_file={long}"])
    check_command_line([f"scenario_file={long}", "max_days=1462"])


# ----------------------------------------------------------------------------- random scenario files

KINDS = list(EVENT_FIELDS)
CORRUPTIONS = ("nan", "inf", "-inf", "text", "list", "huge", "negative", "unknown_field", "drop_required",
               "bad_kind", "bad_date", "date_outside", "duplicate", "none")  # fmt: skip


def _valid_value(draw, kind: str, spec) -> object:
    if spec.kind == "number":
        return draw(st.floats(spec.low, spec.high, allow_nan=False))
    if spec.kind == "whole":
        return draw(st.integers(int(spec.low), int(spec.high)))
    if spec.kind == "seats":
        pair = st.lists(st.integers(0, 329), min_size=2, max_size=2)
        return draw(st.dictionaries(st.sampled_from(["fatah", "sadrist", "other"]), pair, min_size=1))
    if spec.kind == "mediators":
        return draw(st.lists(st.sampled_from(MEDIATORS), min_size=1, max_size=2, unique=True))
    if spec.kind == "militia":
        return draw(st.sampled_from([m.key for m in MILITIAS]))
    if spec.kind == "choice":
        return draw(st.sampled_from(spec.choices))
    if spec.kind == "bloc":
        return draw(st.sampled_from(["fatah", "sadrist"]))
    raise AssertionError(spec.kind)


@st.composite
def scenario_files(draw) -> tuple[dict, str]:
    """A valid scenario (a month, a few events) and one corruption of it, or none."""
    events = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(KINDS))
        ev = {"date": f"2021-10-{draw(st.integers(1, 31)):02d}", "kind": kind}
        if kind == "shock":
            actor, variable = draw(st.sampled_from(sorted(SHOCKABLE)))
            ev.update(actor=draw(st.sampled_from([m.key for m in MILITIAS])) if actor == "militia" else actor,
                      variable=variable, delta=draw(st.floats(-1, 1, allow_nan=False)))  # fmt: skip
        else:
            for spec in EVENT_FIELDS[kind]:
                if spec.kind in ("actor", "variable"):
                    continue
                if spec.required or draw(st.booleans()):
                    ev[spec.name] = _valid_value(draw, kind, spec)
        ev["repeat"] = True  # random events may coincide; a corruption below removes it to test duplicates
        events.append(ev)
    doc = {"name": "random", "start": "2021-10-01", "end": "2021-10-31", "events": events}
    corruption = draw(st.sampled_from(CORRUPTIONS))
    if events and corruption != "none":
        ev = draw(st.sampled_from(events))
        numeric = [k for k, v in ev.items() if isinstance(v, int | float) and not isinstance(v, bool)]
        bad = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "text": "lots", "list": [1, 2],
               "huge": 1e9, "negative": -5}  # fmt: skip
        if corruption in bad:
            ev[draw(st.sampled_from([*numeric, "date", "kind"]))] = bad[corruption]
        elif corruption == "unknown_field":
            ev["mood"] = 1
        elif corruption == "drop_required":
            ev.pop(draw(st.sampled_from([k for k in ev if k != "repeat"])))
        elif corruption == "bad_kind":
            ev["kind"] = "festival"
        elif corruption == "bad_date":
            ev["date"] = "2021-02-30"
        elif corruption == "date_outside":
            ev["date"] = "2022-10-10"
        elif corruption == "duplicate":
            twin = {k: v for k, v in ev.items() if k != "repeat"}
            events.append(twin)
            ev.pop("repeat")
    return doc, corruption if events else "none"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario_files())
def test_random_scenario_files_run_or_fail_in_one_line(tmp_path, case):
    """Each random scenario file, valid or corrupted, either loads and runs with finite outcomes, or fails with
    one line (a ParameterError): never another exception, never a silent NaN."""
    doc, corruption = case
    path = tmp_path / "random.yaml"
    path.write_text(yaml.safe_dump(doc))
    try:
        scenario = load_scenario_file(path)
    except ParameterError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(f"scenario file {path}")
        assert corruption != "none", str(exc)
        return
    assert corruption in ("none", "drop_required"), (corruption, doc)  # dropping an optional field is valid
    runs, daily = simulate(scenario, make_params(cells_per_militia=3), MILITIAS, seed=1, replicates=3,
                           daily_replicates=3, progress=False)  # fmt: skip
    numbers = runs.select_dtypes("number").to_numpy(dtype=float)
    assert np.isfinite(numbers).all()
    assert np.isfinite(daily.select_dtypes("number").to_numpy(dtype=float)).all()
    assert len(runs) == 3 and (daily["hazard"].between(0, 1)).all()
