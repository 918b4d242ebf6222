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


RIVALS = [("leverage", "coercion"), ("reaction", "richardson"), ("mobilisation", "cascade"), ("clash", "epstein_ii"),
          ("grievance", "legitimacy"), ("relapse", "beardsley")]  # fmt: skip


@pytest.mark.parametrize("mechanism,alternative", RIVALS, ids=[f"{m}={a}" for m, a in RIVALS])
def test_every_check_holds_at_each_rival_structure(mechanism, alternative):
    """The invariants read the structure a runner runs (its lapsing calm, its reaction, its cascade, its
    interposed clash, its hardship and legitimacy), so the unbroken model passes every check there too, and the
    mutation suite can break the rivals' code (docs/MUTATIONS.md)."""
    from sim.model.structures import make_structure

    runner = Runner(params=make_structure({mechanism: alternative}).codes())
    failed = {n: o.detail for n, o in ((n, CHECKS[n](runner)) for n in CHECKS) if not o.passed}
    assert not failed


@pytest.mark.parametrize("mechanism,alternative", RIVALS, ids=[f"{m}={a}" for m, a in RIVALS])
def test_the_probe_separates_the_rivals_weights(mechanism, alternative):
    """At each rival's probe point the values its variants might exchange differ."""
    from sim.model.structures import make_structure

    p, _ = probe(make_structure({mechanism: alternative}))
    pairs = [("pressure_half_life", "grievance_half_life"), ("mobilisation_tau", "mobilisation_threshold"),
             ("intervention_grievance_effect", "intervention_discipline_effect")]  # fmt: skip
    extra = {"reaction": [("richardson_militia_reaction", "richardson_sadr_reaction")],
             "mobilisation": [("cascade_peer_weight", "mobilisation_rate")],
             "clash": [("encounter_rate", "clash_kappa")],
             "grievance": [("intervention_legitimacy", "intervention_grievance_effect"),
                           ("legitimacy_base", "intervention_legitimacy")],
             "leverage": [("coercion_strength", "coercion_backlash")]}  # fmt: skip
    pairs += extra.get(mechanism, [])
    assert all(p[a] != p[b] for a, b in pairs), [(a, b) for a, b in pairs if p[a] == p[b]]
