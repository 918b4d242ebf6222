"""The headline per structure (sim/analysis/patron_effect.py) and the structures every issue-25 study loops over
(sim/analysis/per_structure.py): every alternative is covered, the runs are paired, the variance split adds up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis import evaluation_tables as et
from sim.analysis import patron_effect as pe
from sim.analysis.per_structure import prior_kw, structures
from sim.model.structures import MECHANISMS, every_alternative, from_codes


def test_every_alternative_is_studied_alone_and_today_s_first():
    """Today's structure, then each rival alternative in sim/model/structures.py alone (the others at their
    defaults): a new alternative is picked up without editing the studies."""
    got = structures()
    label, select, structure = got[0]
    assert (label, select, structure.is_default, prior_kw(structure)) == ("default", {}, True, {})
    rivals = {(m.name, a.name) for m, a in every_alternative() if a.name != m.default.name}
    seen = set()
    for label, select, structure in got[1:]:
        changed = structure.changed()
        assert len(changed) == 1 and label == structure.label()
        assert from_codes(select) == structure and prior_kw(structure) == {"structure": structure}
        seen |= set(changed.items())
    assert seen == rivals and len(got) == 1 + len(rivals)
    assert len(rivals) >= len(MECHANISMS)  # at least one rival per mechanism


@pytest.fixture(scope="module")
def tiny():
    s = pe.Settings(sets=3, runs=6, levels=(0.2, 0.8))
    label, select, structure = structures()[1]
    return s, label, pe.escalations(s, select, structure)


def test_escalations_are_paired_and_shaped(tiny):
    _, _, esc = tiny
    assert esc.shape == (3, 2, 1 + len(pe.CASES), 6) and esc.dtype == bool
    # the same keyed random numbers: a batch split differently gives the same runs
    again = pe.escalations(pe.Settings(sets=3, runs=6, levels=(0.8,)), structures()[1][1], structures()[1][2])
    np.testing.assert_array_equal(again[:, 0], esc[:, 1])


def test_summary_splits_the_variance_and_agrees_with_its_parts(tiny):
    s, label, esc = tiny
    t = pe.summarise(esc, s, label)
    assert len(t) == len(s.levels) * len(pe.CASES) and set(t["structure"]) == {label}
    for r in t.itertuples():
        assert r.rd == pytest.approx(r.p_cf - r.p_base)
        assert r.rd_low <= r.rd <= r.rd_high
        assert r.sd_parameters**2 + r.sd_mc**2 == pytest.approx(max(r.sd_total**2, r.sd_mc**2))
        assert 0 <= r.share_raises <= 1


@pytest.mark.filterwarnings("ignore:All-NaN slice")  # the ratio over a zero baseline has no bootstrap
def test_a_known_split():
    """Two sets: one whose removal always adds an escalation, one where it never changes anything; the
    difference in every run is exact, so Monte Carlo variance is 0 and all spread is the parameters'."""
    esc = np.zeros((2, 1, 1 + len(pe.CASES), 4), dtype=bool)
    esc[0, 0, 1:] = True
    t = pe.summarise(esc, pe.Settings(sets=2, runs=4, levels=(0.5,)), "x")
    r = t.iloc[0]
    assert (r.p_base, r.p_cf, r.rd, r.sd_mc, r.share_raises) == (0.0, 0.5, 0.5, 0.0, 0.5)
    assert r.sd_parameters == pytest.approx(np.sqrt(0.5)) and r.share_parameters == pytest.approx(1.0)


def _table(rd_by_structure: dict[str, float]) -> pd.DataFrame:
    rows = []
    for st, rd in rd_by_structure.items():
        for level in (0.2, 0.8):
            for case, _ in pe.CASES:
                rows.append({"structure": st, "independence": level, "case": case, "p_base": 0.1, "p_cf": 0.1 + rd,
                             "rd": rd, "rd_low": rd - 0.01, "rd_high": rd + 0.01, "rd_q05": rd - 0.1,
                             "rd_q95": rd + 0.1, "sd_total": 0.1, "sd_parameters": 0.09, "sd_mc": 0.04,
                             "share_parameters": 0.8, "ratio": 1.5, "ratio_low": 1.2, "ratio_high": 1.8,
                             "share_raises": 0.9, "sets": 10, "runs": 5, "seed": 1, "scenario": "seed_timeline",
                             "engine": "compiled", "seconds": 7})  # fmt: skip
    return pd.DataFrame(rows)


def test_the_docs_say_where_structures_disagree(monkeypatch):
    t = _table({"default": 0.30, "clash=epstein_ii": 0.10, "relapse=beardsley": 0.295})
    monkeypatch.setattr(et.published, "read", lambda name: t)
    readme = et.readme_patron_effect()
    assert "| no patron | `clash=epstein_ii` | +0.100 [+0.090, +0.110] |" in readme
    assert "`clash=epstein_ii` (no patron at 0.20, 0.80; no intervention at 0.20, 0.80; at most -0.200" in readme
    assert "Within the intervals of today's at every level and case: `relapse=beardsley`." in readme
    odd = et.patron_effect()
    assert "compiled engine; 7 s of wall time" in odd and "10 parameter sets" in odd


def test_no_table_says_how_to_make_it(monkeypatch):
    monkeypatch.setattr(et.published, "read", lambda name: None)
    assert "python -m sim.patron_effect" in et.readme_patron_effect()


def test_each_evaluation_section_reads_the_table_its_command_publishes(monkeypatch):
    """sim.analysis.evaluation_tables: each generated section reads the table its command writes, and says that
    command while the table is missing."""
    from pass_rates import TABLE as PASS_RATES

    from sim.analysis import counterfactual_outputs, long_run, patron_effect

    made_by = {
        "counterfactual_outputs": (counterfactual_outputs.TABLE, "python -m sim.counterfactuals"),
        "pass_rates": (PASS_RATES, "python tests/pass_rates.py --write"),
        "long_run": (long_run.TABLE, "python -m sim.long_run"),
        "patron_effect": (patron_effect.TABLE, "python -m sim.patron_effect"),
        "readme_patron_effect": (patron_effect.TABLE, "python -m sim.patron_effect"),
    }
    read: list[str] = []
    monkeypatch.setattr(et.published, "read", lambda name: read.append(name))
    sections = {**et.GENERATORS, **et.README_GENERATORS}
    assert set(sections) == set(made_by)
    for name, make in sections.items():
        table, command = made_by[name]
        assert make() == et.NOT_YET.format(command=command), name
        assert read[-1] == table, name
