"""docs/ODD.md cannot drift from the code: its generated tables, parameter names and rule names are checked here.
Also checks that sim.docs escapes cell text and that `--check` fails on a stale file."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import sim.docs as docs_cli
from sim.analysis import odd_tables as docs
from sim.model import priors, rules
from sim.model.params import MILITIA_FIELDS, MILITIAS, PARAMS
from sim.model.scenario import EVENT_FIELDS, load_scenario

ODD = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"


@pytest.fixture(scope="module")
def odd_text() -> str:
    return ODD.read_text(encoding="utf-8")


def _prose(text: str) -> str:
    """The ODD without its generated sections: what people wrote."""
    return re.sub(r"<!-- BEGIN GENERATED: (\w+) -->.*?<!-- END GENERATED: \1 -->", "", text, flags=re.DOTALL)


def _submodels(text: str) -> str:
    match = re.search(r"^## 7 Submodels\b(.*?)(?=^## )", text, flags=re.DOTALL | re.MULTILINE)
    assert match, "docs/ODD.md has no '## 7 Submodels' section followed by another '## ' section"
    return match.group(1)


# `rules.name` as written in the ODD; `rules.py` is the file, not a function.
RULE_REF = re.compile(r"(?<![\w/.])rules\.(?!py\b)([A-Za-z_]\w*)")


# ----------------------------------------------------------------------------- (a) generated sections


def test_generated_sections_match_declaration(odd_text):
    """Every generated section equals what its generator makes now (the headline reruns the model, so
    the ODD's numbers cannot drift from it)."""
    sections = docs.generated_sections(odd_text)
    assert set(sections) == set(docs.GENERATORS)
    for name, make in docs.GENERATORS.items():
        assert sections[name] == make(), name


def test_render_is_a_fixed_point_of_the_committed_file(odd_text):
    assert docs.render(odd_text) == odd_text, "docs/ODD.md is stale: run `python -m sim.docs`"


def test_check_passes_on_committed_file():
    assert docs_cli.main(["--check", "--path", str(ODD)]) == 0


def test_check_fails_on_stale_file(tmp_path, odd_text, capsys):
    stale = odd_text.replace("| `patron_influence` |", "| `patron_influense` |", 1)
    assert stale != odd_text
    path = tmp_path / "ODD.md"
    path.write_text(stale, encoding="utf-8")
    assert docs_cli.main(["--check", "--path", str(path)]) == 1
    message = capsys.readouterr().err.strip()
    assert message and "\n" not in message and "out of date" in message
    assert path.read_text(encoding="utf-8") == stale, "--check must not change the file"
    # Without --check the file is repaired.
    assert docs_cli.main(["--path", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == odd_text


def test_render_replaces_only_between_markers():
    rest = "".join(f"<!-- BEGIN GENERATED: {n} -->\n<!-- END GENERATED: {n} -->\n" for n in list(docs.GENERATORS)[2:])
    text = (
        "intro\n<!-- BEGIN GENERATED: parameters -->\nold\n<!-- END GENERATED: parameters -->\nmiddle\n"
        "<!-- BEGIN GENERATED: militias -->\n<!-- END GENERATED: militias -->\nend\n" + rest
    )
    out = docs.render(text)
    assert out.startswith("intro\n<!-- BEGIN GENERATED: parameters -->\n")
    assert "\nold\n" not in out
    assert "\nmiddle\n" in out and "<!-- END GENERATED: militias -->\nend\n" in out
    assert docs.generated_sections(out) == {name: make() for name, make in docs.GENERATORS.items()}
    assert docs.render(out) == out


def test_render_rejects_missing_or_duplicated_markers():
    with pytest.raises(ValueError, match="militias"):
        docs.render("<!-- BEGIN GENERATED: parameters -->\n<!-- END GENERATED: parameters -->\n")
    twice = "<!-- BEGIN GENERATED: parameters -->\n<!-- END GENERATED: parameters -->\n" * 2
    with pytest.raises(ValueError, match="parameters"):
        docs.render(twice + "<!-- BEGIN GENERATED: militias -->\n<!-- END GENERATED: militias -->\n")


def test_tables_have_one_row_per_parameter_and_militia():
    params = docs.parameter_table()
    rows = [line for line in params.splitlines() if line.startswith("| `")]
    assert [re.match(r"\| `(\w+)`", r).group(1) for r in rows] == [p.name for p in PARAMS]
    for p in PARAMS:
        assert f"{p.group}`" in params, p.group
    militias = docs.militia_table()
    mrows = [line for line in militias.splitlines() if line.startswith("| ") and "(`" in line]
    assert len(mrows) == len(MILITIAS)
    for m, row in zip(MILITIAS, mrows, strict=True):
        assert f"(`{m.key}`)" in row and m.evidence in row
    for f in MILITIA_FIELDS:
        assert f"`{f.name}`" in militias


def test_timeline_table_lists_every_event():
    sc = load_scenario(docs.TIMELINE_SCENARIO)
    rows = [line for line in docs.timeline_table().splitlines() if re.match(r"\| \d{4}-\d\d-\d\d \|", line)]
    assert len(rows) == len(sc.events) > 0
    for event, row in zip(sc.events, rows, strict=True):
        assert row.startswith(f"| {event.date.isoformat()} | {event.day} | {event.kind} |")


def test_departures_and_event_fields_tables_are_complete():
    """The departures table has a row for each default off its evidence; the event-field table one per
    declared field (or a '(none)' row for a kind without fields)."""
    table = docs.departures_table()
    for j, _, reason in priors.departures():
        assert f"| `{j.name}` |" in table and reason in table
    fields = docs.event_fields_table()
    for kind, specs in EVENT_FIELDS.items():
        for f in specs or ():
            assert f"| `{kind}` | `{f.name}` |" in fields
        if not specs:
            assert f"| `{kind}` | (none) |" in fields


def test_every_table_row_has_the_header_column_count():
    tables = (docs.parameter_table(), docs.militia_table(), docs.timeline_table(), docs.departures_table(),
              docs.event_fields_table())
    for table in tables:
        counts = set()
        for line in table.splitlines():
            if line.startswith("|"):
                counts.add(len(re.findall(r"(?<!\\)\|", line)))
        assert len(counts) == 1, counts


def test_cell_text_escapes_pipes_and_newlines():
    assert docs._cell("a | b\nc") == "a \\| b c"


# ----------------------------------------------------------------------------- (b) parameter names


def test_every_parameter_is_in_the_odd(odd_text):
    missing = [p.name for p in PARAMS if p.name not in odd_text]
    assert not missing, f"parameters missing from docs/ODD.md: {missing}"


def test_every_parameter_is_named_in_the_written_description(odd_text):
    prose = _prose(odd_text)
    missing = [p.name for p in PARAMS if not re.search(rf"\b{p.name}\b", prose)]
    assert not missing, f"parameters only in the generated table, never described: {missing}"


# ----------------------------------------------------------------------------- (c) rule names


def test_rules_named_in_submodels_exist(odd_text):
    names = set(RULE_REF.findall(_submodels(odd_text)))
    assert len(names) >= 10, f"too few rules.<name> references found: {sorted(names)}"
    missing = sorted(n for n in names if not callable(getattr(rules, n, None)))
    assert not missing, f"docs/ODD.md names rules that sim.rules lacks: {missing}"


def test_every_public_rule_is_described_in_submodels(odd_text):
    named = set(RULE_REF.findall(_submodels(odd_text)))
    public = {
        name
        for name, fn in inspect.getmembers(rules, inspect.isfunction)
        if fn.__module__ == rules.__name__ and not name.startswith("_")
    }
    undocumented = sorted(public - named)
    assert not undocumented, f"sim.rules functions not described in docs/ODD.md section 7: {undocumented}"


def test_rule_reference_pattern():
    assert RULE_REF.findall("`rules.relax(x)` in sim/model/rules.py, rules.py and rules.clip01") == ["relax", "clip01"]


def test_readme_generated_sections_are_current():
    """The README's summary block and headline table are what the model and the published tables give now."""
    text = docs.README_PATH.read_text(encoding="utf-8")
    assert docs.render(text, docs.README_GENERATORS) == text, "README.md is stale: run `python -m sim.docs`"


def test_check_covers_both_files():
    assert docs_cli.main(["--check"]) == 0
