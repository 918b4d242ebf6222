"""Ambiguous instructions are refused before any work with one line naming both values: a fixed value and a grid
(or design) over the same parameter, an option given twice to any command, a truce that ends before it begins or
begins twice, a forecast cut-off outside the record's window, fewer than one worker; `--method bogus` names
sim.calibrate."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _refused(args: list[str], cwd, *expect: str) -> str:
    res = subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 2 and len(lines) == 1 and "Traceback" not in res.stderr, (args, res.stderr[-2000:])
    assert lines[0].startswith("error: ") and all(e in lines[0] for e in expect), (expect, lines[0])
    assert not (cwd / "results").exists() and not (cwd / "out").exists()  # nothing was written
    return lines[0]


def test_a_fixed_value_and_a_grid_over_it(tmp_path):
    _refused(["sim", "params.patron_influence=0.3", "+grid.patron_influence=[0.5,0.9]"], tmp_path,
             "params.patron_influence=0.3", "grid.patron_influence=[0.5, 0.9]")  # fmt: skip
    _refused(["sim", "-m", "params.patron_influence=0.3,0.4", "+grid.patron_influence=[0.5,0.9]"], tmp_path,
             "params.patron_influence=0.3,0.4", "grid.patron_influence")  # fmt: skip


def test_a_fixed_value_and_a_design_over_it(tmp_path):
    _refused(["sim", "experiment=morris", "militias.kss.loyalty=0.3"], tmp_path, "militias.kss.loyalty=0.3",
             "design.factors")  # fmt: skip


# (command line, the option given twice with its two values)
TWICE = [
    (["sim.calibrate", "--method", "smc", "--particles", "40", "--particles", "30"],
     "--particles is given twice (40 and 30)"),
    (["sim.calibrate", "--draws", "40", "--draws", "30"], "--draws is given twice (40 and 30)"),
    (["sim.calibrate", "--method", "smc", "--method", "rejection"], "--method is given twice (smc and rejection)"),
    (["sim.export", "x", "--to", "csv", "--to", "xlsx"], "--to is given twice (csv and xlsx)"),
    (["sim.plot", "x", "--kind", "fan", "--kind", "curve"], "--kind is given twice (fan and curve)"),
    (["sim.discovery", "x", "--threshold", "0.2", "--threshold", "0.3"], "--threshold is given twice (0.2 and 0.3)"),
    (["sim.sensitivity", "x", "--top", "3", "--top", "5"], "--top is given twice (3 and 5)"),
    (["sim.routes", "--sets", "3", "--sets", "5"], "--sets is given twice (3 and 5)"),
    (["sim.counterfactuals", "--replicates", "10", "--replicates", "20"], "--replicates is given twice (10 and 20)"),
    (["sim.long_run", "--engine", "vector", "--engine", "compiled"], "--engine is given twice (vector and compiled)"),
    (["sim.patron_effect", "--no-write", "--no-write"], "--no-write is given twice"),
    (["sim.docs", "--path", "a", "--path", "b"], "--path is given twice (a and b)"),
    (["sim.status", "x", "--all", "--all"], "--all is given twice"),
    (["sim.aggregate", "x", "--convert", "--convert"], "--convert is given twice"),
    (["sim.app", "--port", "1", "--port", "2"], "--port is given twice (1 and 2)"),
    (["sim.exercises", "read", "x", "y", "--among", "a=1", "2021-11-07", "--among", "b=0", "2021-11-08"],
     "--among is given twice (a=1 2021-11-07 and b=0 2021-11-08)"),
    (["sim", "params.patron_influence=0.5", "params.patron_influence=0.6"], "params.patron_influence is given twice"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "expect"), TWICE, ids=lambda x: x[0] if isinstance(x, list) else None)
def test_an_option_given_twice_to_any_command(args, expect, tmp_path):
    _refused(args, tmp_path, expect)


TRUCES = {
    "ends_before_it_begins": ('  - {date: "2021-08-01", kind: truce, phase: ends}\n'
                              '  - {date: "2021-09-01", kind: truce, phase: begins}\n',
                              "ends a truce before it begins"),
    "ends_without_beginning": ('  - {date: "2021-08-01", kind: truce, phase: ends}\n',
                               "ends a truce before it begins"),
    "begins_twice": ('  - {date: "2021-08-01", kind: truce}\n  - {date: "2021-09-01", kind: truce, phase: begins}\n',
                     "begins the truce twice"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(TRUCES))
def test_a_truce_out_of_order(case, tmp_path):
    events, expect = TRUCES[case]
    path = tmp_path / "mine.yaml"
    path.write_text(f'name: mine\nstart: "2021-07-01"\nend: "2021-12-31"\nevents:\n{events}')
    _refused(["sim", f"scenario_file={path}"], tmp_path, expect, str(path))


def test_a_truce_made_to_begin_twice_by_an_override(tmp_path):
    import yaml

    from sim.paths import SCENARIO_DIR

    events = yaml.safe_load((SCENARIO_DIR / "election_loss.yaml").read_text())["events"]
    ends = next(i for i, e in enumerate(events) if e["kind"] == "truce" and e.get("phase") == "ends")
    _refused(["sim", "scenario=election_loss", f"scenario.events.{ends}.phase=begins"], tmp_path,
             f"scenario.events[{ends}]", "begins the truce twice")  # fmt: skip


@pytest.mark.parametrize("cutoff", ["2030-01-01", "2021-01-01", "2020-06-01", "2022-01-31"])
def test_a_cutoff_outside_the_records_window(cutoff, tmp_path):
    _refused(["sim.calibrate", "--method", "smc", "--cutoff", cutoff, "--out", str(tmp_path / "out")], tmp_path,
             f"--cutoff={cutoff}", "outside the record's window", "2021-01-01", "2022-01-31")  # fmt: skip


@pytest.mark.parametrize("workers", ["0", "-3"])
def test_fewer_than_one_worker(workers, tmp_path):
    _refused(["sim.calibrate", "--method", "smc", "--workers", workers], tmp_path, f"--workers={workers}",
             "allowed [1, 1024]")  # fmt: skip
    _refused(["sim", f"workers={workers}"], tmp_path, f"workers={workers}")


def test_a_bogus_method_names_sim_calibrate(tmp_path):
    line = _refused(["sim.calibrate", "--method", "bogus"], tmp_path, "bogus", "rejection", "smc")
    assert "python -m sim.calibrate" in line and "calibrate.py" not in line
