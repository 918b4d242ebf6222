"""The code correctness checks (tests/correctness.py) hold on the model: known values of every rule and event, the
calendar, the militia table, and the invariants between the records and the rules at a point drawn from the priors.
The same checks run on every broken variant in tests/test_mutations.py."""

from __future__ import annotations

import pytest
from correctness import CHECKS, probe
from patterns import Runner

from sim.model import rules


@pytest.fixture(scope="module")
def runner() -> Runner:
    return Runner()


@pytest.mark.parametrize("name", list(CHECKS))
def test_check_holds_on_the_model(runner, name):
    outcome = CHECKS[name](runner)
    assert outcome.passed, f"{name}: {outcome.detail}"


def test_the_probe_point_separates_the_weights():
    """The invariants run where no two of the weights a variant might exchange are equal."""
    p, m = probe()
    pairs = [("clash_grievance", "clash_rivalry"), ("attack_sadr_grievance", "attack_rivalry"),
             ("tension_weight_violence", "tension_weight_mobilisation"),
             ("tension_weight_mobilisation", "tension_weight_rivalry"), ("threat_refusal", "threat_violence"),
             ("grievance_half_life", "rivalry_half_life"), ("grievance_half_life", "discipline_half_life"),
             ("intervention_grievance_effect", "intervention_discipline_effect"),
             ("sadr_grievance_base", "rivalry_base"), ("sadr_discipline", "sadr_restraint")]  # fmt: skip
    assert all(p[a] != p[b] for a, b in pairs)
    assert len({m[k]["discipline"] for k in m}) == len(m)


def test_a_check_fails_on_a_wrong_rule(runner, monkeypatch):
    """A check can fail: leverage without the (1 - independence) term fails its known values."""
    monkeypatch.setattr(rules, "leverage", lambda present, influence, loyalty, ind: present * influence * loyalty)
    assert not CHECKS["rule_independence_and_leverage"](runner).passed
