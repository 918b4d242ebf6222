"""The mutation suite: every deliberately broken variant of the model (tests/mutants.py) must fail at
least one pattern test, and docs/MUTATIONS.md must show which patterns kill which variant."""

from __future__ import annotations

import pytest
from mutants import MUTANTS
from mutation_report import DOC_PATH, parse_table, row_for
from patterns import PATTERNS, run_all


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_broken_variant_fails_a_pattern(mutant):
    with mutant.applied() as runner:
        outcomes = run_all(runner)
    killers = [name for name, o in outcomes.items() if not o.passed]
    assert killers, f"{mutant.name} ({mutant.description}) passes every pattern test"
    committed = parse_table(DOC_PATH.read_text(encoding="utf-8")).get(mutant.name)
    assert committed == row_for(outcomes), (
        f"docs/MUTATIONS.md is stale for {mutant.name}: run `python tests/mutation_report.py --write`"
    )


def test_mutation_table_lists_every_variant_and_pattern():
    table = parse_table(DOC_PATH.read_text(encoding="utf-8"))
    assert list(table) == [m.name for m in MUTANTS]
    assert all(list(row) == list(PATTERNS) for row in table.values())
