"""Generates docs/ODD.md's parameter, militia and timeline tables from sim.params and the seed scenario.
`python -m sim.docs` rewrites them in place; `python -m sim.docs --check` exits 1 if they are stale."""

from __future__ import annotations

import argparse
import functools
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from sim.model import rules
from sim.model.params import MILITIA_FIELDS, MILITIAS, PARAM_BY_NAME, PARAMS, Param
from sim.model.scenario import load_scenario
from sim.paths import DOCS_DIR

ODD_PATH = DOCS_DIR / "ODD.md"
TIMELINE_SCENARIO = "seed_timeline"

# Display titles for the declaration's groups; a group missing here is shown by its own name.
GROUP_TITLES = {
    "patron": "Patron (IRGC / Quds Force)",
    "militia": "Militia leaders",
    "cells": "Militia cells (Epstein 2002, adapted)",
    "state": "The state (prime minister and security forces)",
    "outcomes": "Attacks and US retaliation",
    "sadr": "Sadr's bloc",
    "clash": "Intra-Shi'ite rivalry, clashes, elections and escalation",
}

# Column headings for the per-militia fields; a field missing here is shown by its own name.
FIELD_TITLES = {
    "loyalty": "loyalty",
    "independence_offset": "independence offset",
    "discipline": "discipline",
    "hostility_us": "hostility to US",
    "grievance": "baseline grievance",
}


def _cell(value: object) -> str:
    """Text for one Markdown table cell: one line, with ``|`` escaped."""
    text = " ".join(str(value).split())
    return text.replace("|", "\\|")


def _number(value: float | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}"


def _range(p: Param) -> str:
    if p.kind is bool:
        return "true / false"
    return f"[{_number(p.kind(p.low))}, {_number(p.kind(p.high))}]"


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], align: Sequence[str] | None = None) -> list[str]:
    rule = align if align is not None else ["---"] * len(header)
    return [_row(header), "|" + "|".join(rule) + "|", *(_row(r) for r in rows)]


def parameter_table() -> str:
    """Markdown: every declared parameter, one sub-heading and table per group, in declaration order."""
    groups: dict[str, list[Param]] = {}
    for p in PARAMS:
        groups.setdefault(p.group, []).append(p)
    header = ("parameter", "default", "range", "unit", "meaning", "evidence")
    align = ("---", "--:", "---", "---", "---", "---")
    lines = [f"{len(PARAMS)} parameters in {len(groups)} groups, generated from `sim/model/params.py` (`PARAMS`)."]
    for group, params in groups.items():
        lines += ["", f"#### {_cell(GROUP_TITLES.get(group, group))}: group `{group}`", ""]
        rows = [(f"`{p.name}`", _number(p.default), _range(p), p.unit, p.description, p.evidence) for p in params]
        lines += _table(header, rows, align)
    return "\n".join(lines)


def militia_table() -> str:
    """Markdown: one row per militia (values from MILITIAS), then the meaning of each field (MILITIA_FIELDS)."""
    mean = PARAM_BY_NAME["militia_independence"].default
    fields = (FIELD_TITLES.get(f.name, f.name) for f in MILITIA_FIELDS)
    header = ("militia", "leader", "bloc", *fields, "independence at default", "evidence")
    align = ("---", "---", "---", *("--:" for _ in MILITIA_FIELDS), "--:", "---")
    rows = []
    for m in MILITIAS:
        values = [_number(getattr(m, f.name)) for f in MILITIA_FIELDS]
        independence = float(rules.independence(mean, m.independence_offset))
        rows.append((f"{m.name} (`{m.key}`)", m.leader, m.bloc, *values, f"{independence:.2f}", m.evidence))
    lines = [
        f"{len(MILITIAS)} militias, generated from `sim/model/params.py` (`MILITIAS`, `MILITIA_FIELDS`). "
        f"'Independence at default' is `militia_independence` ({_number(mean)}) plus the offset, clipped to [0, 1].",
        "",
        *_table(header, rows, align),
        "",
        "Fields:",
        "",
    ]
    for f in MILITIA_FIELDS:
        limits = f"range [{_number(f.low)}, {_number(f.high)}]"
        lines.append(f"- `{f.name}` ({_cell(f.unit)}, {limits}): {_cell(f.description)}")
    return "\n".join(lines)


def _value(value: object) -> str:
    """An event field's value, compactly: mappings as 'key value' pairs, sequences in brackets."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return _number(value)
    if isinstance(value, (int, float)):
        return f"{value:g}"
    return str(value)


def timeline_table(scenario: str = TIMELINE_SCENARIO) -> str:
    """Markdown: the scenario's dated events with their fields, from configs/scenario/<scenario>.yaml."""
    sc = load_scenario(scenario)
    rows = []
    for e in sc.events:
        fields = "; ".join(f"{k}: {_value(v)}" for k, v in e.data.items())
        rows.append((e.date.isoformat(), e.day, e.kind, e.label, fields, e.ref))
    lines = [
        f"Scenario `{sc.name}`: {sc.start.isoformat()} to {sc.end.isoformat()}, {sc.days} days (day 0 is the start), "
        f"generated from `configs/scenario/{scenario}.yaml`. Seats are [before, after].",
        "",
        *_table(("date", "day", "kind", "label", "fields", "ref"), rows, ("---", "--:", "---", "---", "---", "---")),
    ]
    if sc.emergent:
        lines += ["", f"Emergent, not scheduled: {', '.join(sc.emergent)}."]
    return "\n".join(lines)


CALIBRATION_SEED, CALIBRATION_REPLICATES = 20211107, 2000
CALIBRATION_CASES = (
    ("Ghaani-strength patron (defaults)", {}),
    ("Soleimani-strength patron", {"patron_influence": 0.9}),
    ("distracted patron", {"patron_distraction": 0.8}),
    ("more independent militias", {"militia_independence": 0.8}),
    ("patron never intervenes with militias", {"patron_intervenes": False}),
    ("no patron", {"patron_present": False}),
)


@functools.lru_cache(maxsize=1)
def calibration_table() -> str:
    """Markdown: P(escalation) over seed_timeline for the defaults and the counterfactuals, recomputed
    with the vector engine (so the ODD's numbers cannot drift from the model)."""
    from sim.analysis.stats import escalation_probability
    from sim.model.params import MILITIAS, make_params
    from sim.run.simulate import simulate

    sc = load_scenario("seed_timeline")
    rows = []
    for label, over in CALIBRATION_CASES:
        runs, _ = simulate(sc, make_params(over), MILITIAS, seed=CALIBRATION_SEED, replicates=CALIBRATION_REPLICATES,
                           daily_replicates=0, progress=False)  # fmt: skip
        p, lo, hi, _ = escalation_probability(runs)
        change = ", ".join(f"{k} = {_value(v)}" for k, v in over.items()) or "none"
        rows.append((label, change, f"{p:.3f}", f"[{lo:.3f}, {hi:.3f}]"))
    return "\n".join(
        [
            f"`seed_timeline`, {CALIBRATION_REPLICATES} replicates, seed {CALIBRATION_SEED}, vector engine; "
            "generated by `python -m sim.docs`.",
            "",
            *_table(
                ("case", "change from defaults", "P(escalation)", "Wilson 95%"), rows, ("---", "---", "--:", "---")
            ),
        ]
    )


GENERATORS: dict[str, Callable[[], str]] = {
    "parameters": parameter_table,
    "militias": militia_table,
    "timeline": timeline_table,
    "calibration": calibration_table,
}


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- BEGIN GENERATED: {re.escape(name)} -->)(.*?)(<!-- END GENERATED: {re.escape(name)} -->)", re.DOTALL
    )


def generated_sections(text: str) -> dict[str, str]:
    """The current content between each pair of markers in ``text`` (stripped), by section name."""
    out = {}
    for name in GENERATORS:
        found = _pattern(name).findall(text)
        if len(found) != 1:
            raise ValueError(f"expected exactly one '{name}' generated section, found {len(found)}")
        out[name] = found[0][1].strip()
    return out


def render(text: str) -> str:
    """``text`` with each generated section (between its BEGIN and END markers) replaced by a fresh table."""
    generated_sections(text)  # checks that every section is present exactly once
    for name, make in GENERATORS.items():
        table = make()
        # A function replacement, so backslashes in the table (escaped pipes) are kept literally.
        text = _pattern(name).sub(lambda m, table=table: f"{m.group(1)}\n{table}\n{m.group(3)}", text)
    return text


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it (shorter messages)."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite the ODD's generated tables, or with ``--check`` report (exit 1) that they are stale."""
    parser = argparse.ArgumentParser(prog="python -m sim.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date; change nothing")
    parser.add_argument("--path", type=Path, default=ODD_PATH, help="the ODD file (default: docs/ODD.md)")
    args = parser.parse_args(argv)
    path: Path = args.path
    shown = _shown(path)
    try:
        text = path.read_text(encoding="utf-8")
        fresh = render(text)
    except (OSError, ValueError) as err:
        print(f"sim.docs: {shown}: {err}", file=sys.stderr)
        return 2
    if args.check:
        if fresh != text:
            print(f"{shown} is out of date: run `python -m sim.docs` to regenerate its tables", file=sys.stderr)
            return 1
        return 0
    if fresh != text:
        path.write_text(fresh, encoding="utf-8")
        print(f"{shown}: generated tables rewritten")
    else:
        print(f"{shown}: already up to date")
    return 0

