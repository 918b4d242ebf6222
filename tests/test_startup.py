"""Light commands start light: `python -m sim --help`, `python -m sim.status` and every command's argument
errors finish without importing scipy, pandas or matplotlib (measured by `python -X importtime`), and an argument
error is one line; the choices and defaults the entry points declare for that are the ones their analyses use.
Start-up times are measured by experiments/bench/startup.py, not here."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

HEAVY = ("scipy", "pandas", "matplotlib")

LIGHT = [
    ("sim", "--help"),
    ("sim", "params.patron_influence=1.5"),
    ("sim", "+replicate=5"),
    ("sim.status", "{sweep}"),
    ("sim.status", "{blocks}"),
    ("sim.status", "{nowhere}"),
    ("sim.status",),
    ("sim.aggregate",),
    ("sim.aggregate", "{nowhere}"),
    ("sim.aggregate", "--help"),
    ("sim.calibrate", "--help"),
    ("sim.calibrate", "--method", "bogus"),
    ("sim.calibrate", "--draws", "abc"),
    ("sim.calibrate", "--draws", "0"),
    ("sim.calibrate", "--method", "smc", "--help"),
    ("sim.calibrate", "--method", "smc", "--particles", "x"),
    ("sim.export",),
    ("sim.export", "--help"),
    ("sim.plot",),
    ("sim.plot", "x", "--kind", "bogus"),
    ("sim.sensitivity",),
    ("sim.discovery",),
    ("sim.discovery", "--help"),
    ("sim.policies",),
    ("sim.policies", "--help"),
    ("sim.docs", "--bogus"),
    ("sim.exercises", "--bogus"),
    ("sim.routes", "--replicates", "x"),
    ("sim.publish", "--bogus"),
    ("sim.app", "--bogus"),
    ("sim.counterfactuals", "--replicates", "x"),
    ("sim.long_run", "--days", "x"),
    ("sim.patron_effect", "--sets", "x"),
]


# `python -m <command> args` as runpy runs it, reporting at exit which top-level packages were loaded
PROBE = """
import atexit, json, runpy, sys
def report():
    loaded = sorted({k.split(".")[0] for k, v in list(sys.modules.items()) if v is not None})
    sys.stderr.write("LOADED " + json.dumps(loaded) + "\\n")
atexit.register(report)
sys.argv = sys.argv[1:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


def _imported(args: list[str], cwd) -> tuple[set[str], subprocess.CompletedProcess]:
    res = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("LOADED ")]
    assert lines, res.stderr[-2000:]
    res.stderr = "\n".join(ln for ln in res.stderr.splitlines() if not ln.startswith("LOADED "))
    return set(json.loads(lines[-1][len("LOADED ") :])), res


@pytest.fixture(scope="module")
def blocks(tmp_path_factory):
    """A finished sweep of two jobs (blocks to check): sim.status reads them with pyarrow, without pandas."""
    from sweeps import run_sweep

    root = tmp_path_factory.mktemp("blocks") / "sweep"
    run_sweep("replicates=4", "params.cells_per_militia=3", "scenario=election_loss", "params.patron_influence=0.2,0.8",
              f"hydra.sweep.dir={root}", cwd=root.parent)  # fmt: skip
    return root


@pytest.mark.parametrize("command", LIGHT, ids=" ".join)
def test_a_light_command_imports_no_heavy_library(command, tmp_path, request):
    sweep = tmp_path / "sweep"
    (sweep / "points").mkdir(parents=True)
    folder = request.getfixturevalue("blocks") if "{blocks}" in command else None
    args = [a.format(sweep=sweep, nowhere=tmp_path / "nowhere", blocks=folder) for a in command]
    loaded, res = _imported(args, tmp_path)
    assert res.returncode in (0, 1, 2), res.stderr[-2000:]
    assert "Traceback" not in res.stderr, res.stderr[-2000:]
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    if res.returncode == 2:  # refused: one line (sim.run.cli.CommandParser), never argparse's usage block
        assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr[-2000:]
    assert not loaded & set(HEAVY), f"{' '.join(command)} imported {sorted(loaded & set(HEAVY))}"


def test_the_guard_can_fail(tmp_path):
    """A command that does load pandas is seen doing so (so a pass above means something)."""
    loaded, _ = _imported(["sim.export", str(tmp_path)], tmp_path)  # a real export: reads tables with pandas
    assert "pandas" in loaded


def test_the_declared_choices_are_the_analyses_own():
    import sim.discovery as discovery_cli
    import sim.plot as plot_cli
    from sim.analysis import boxes, discovery, sensitivity, sweep_figures

    assert plot_cli.KINDS == sweep_figures.KINDS and plot_cli.STUDY_KINDS == sweep_figures.STUDY_KINDS
    assert plot_cli.OUTCOMES == tuple(sensitivity.OUTCOMES)
    assert (discovery_cli.THRESHOLD, discovery_cli.MIN_COVERAGE) == (discovery.THRESHOLD, discovery.MIN_COVERAGE)
    assert discovery_cli.RESAMPLES == boxes.RESAMPLES
    import sim.policies as policies_cli
    from sim.run import policies

    assert policies_cli.OUTCOMES == tuple(policies.OUTCOMES)


def test_the_declared_defaults_are_the_calibrations_own():
    from sim.analysis import calibration, calibration_counts
    from sim.commands import calibrate

    rejection = dataclasses.asdict(calibration.Settings())
    assert all(rejection[k] == v for k, v in calibrate.REJECTION.items()), (rejection, calibrate.REJECTION)
    smc = dataclasses.asdict(calibration_counts.Settings())
    assert all(smc[k] == v for k, v in calibrate.SMC.items()), (smc, calibrate.SMC)
    assert calibrate.FORECAST_CUTOFF == calibration_counts.FORECAST_CUTOFF


def test_the_declared_defaults_are_the_evaluations_own():
    """The defaults of the issue-25 commands' lines are their analyses' own (the entry points cannot import them)."""
    import sim.counterfactuals as cf_cli
    import sim.long_run as lr_cli
    import sim.patron_effect as pe_cli
    from sim.analysis import counterfactual_outputs, long_run, patron_effect
    from sim.run import cli, simulate

    assert sorted(cli.STUDY_ENGINES) == sorted(simulate.BATCH_ENGINES)
    cf = cf_cli.parser().parse_args([])
    assert (cf.replicates, cf.seed, cf.engine) == (counterfactual_outputs.REPLICATES, counterfactual_outputs.SEED,
                                                   counterfactual_outputs.Settings().engine)
    lr = lr_cli.parser().parse_args([])
    assert (lr.replicates, lr.sets, lr.set_replicates, lr.days, lr.seed, lr.engine) == (
        long_run.REPLICATES, long_run.SETS, long_run.SET_REPLICATES, long_run.EXTRA_DAYS, long_run.SEED,
        long_run.Settings().engine)
    pe = pe_cli.parser().parse_args([])
    s = patron_effect.Settings()
    assert (pe.sets, pe.runs, pe.seed, pe.engine) == (s.sets, s.runs, s.seed, s.engine)
