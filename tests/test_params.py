"""Tests of sim.model.params and sim.model.priors: declared defaults, ranges and priors from the evidence,
one-line validation errors, frozen Params."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from sim.model import priors
from sim.model.params import (
    MILITIA_FIELDS,
    MILITIA_KEYS,
    MILITIAS,
    PARAM_BY_NAME,
    PARAMS,
    ParameterError,
    Params,
    make_militias,
    make_params,
    params_as_dict,
)

NUMERIC = [p for p in PARAMS if p.kind is not bool]
INTS = [p for p in PARAMS if p.kind is int]
BOOLS = [p for p in PARAMS if p.kind is bool]


def one_line(err: pytest.ExceptionInfo) -> str:
    msg = str(err.value)
    assert "\n" not in msg and "\r" not in msg, msg
    assert msg.strip() == msg and msg
    return msg


# ----------------------------------------------------------------------------- declaration


@pytest.mark.parametrize("p", PARAMS, ids=lambda p: p.name)
def test_defaults_inside_ranges(p):
    """Every default lies inside its declared range, has its declared kind, and passes its own check."""
    assert p.low <= p.high
    assert p.low <= p.default <= p.high
    assert type(p.default) is p.kind
    assert p.check(p.default) == p.default
    assert p.unit and p.group and p.description and p.evidence


def test_declaration_is_complete():
    """Names are unique identifiers; Params has exactly the declared fields, defaulting to the declared defaults."""
    names = [p.name for p in PARAMS]
    assert len(set(names)) == len(names)
    assert all(n.isidentifier() for n in names)
    assert [f.name for f in dataclasses.fields(Params)] == names
    defaults = make_params()
    assert params_as_dict(defaults) == {p.name: p.default for p in PARAMS}
    assert make_params() == Params()


def test_militia_defaults_inside_ranges():
    """Each militia's declared values lie inside the per-militia field ranges."""
    assert len(MILITIA_KEYS) == len(set(MILITIA_KEYS)) == len(MILITIAS)
    for m in MILITIAS:
        for f in MILITIA_FIELDS:
            assert f.low <= getattr(m, f.name) <= f.high, (m.key, f.name)


# ----------------------------------------------------------------------------- make_params


def test_overrides_are_applied_and_converted():
    """Valid overrides (mapping or keywords) are applied; ints become int, floats float, 0/1 flags bool."""
    p = make_params({"patron_influence": 0.9}, patron_cooldown=7.0, patron_present=0, arrest_k=3)
    assert p.patron_influence == 0.9
    assert p.patron_cooldown == 7 and type(p.patron_cooldown) is int
    assert p.patron_present is False
    assert p.arrest_k == 3.0 and type(p.arrest_k) is float
    # keywords win over the mapping
    assert make_params({"patron_influence": 0.1}, patron_influence=0.2).patron_influence == 0.2


@pytest.mark.parametrize("p", NUMERIC, ids=lambda p: p.name)
@pytest.mark.parametrize("where", ["above", "below"])
def test_out_of_range_raises_one_line(p, where):
    """An out-of-range value raises ParameterError whose one-line message names the field, value and range."""
    value = p.high + 1 if where == "above" else p.low - 1
    with pytest.raises(ParameterError) as err:
        make_params(**{p.name: value})
    msg = one_line(err)
    assert p.name in msg
    assert repr(value) in msg
    assert f"[{p.low:g}, {p.high:g}]" in msg


@pytest.mark.parametrize("p", NUMERIC, ids=lambda p: p.name)
def test_range_ends_are_allowed(p):
    """Both ends of every declared range are accepted."""
    assert getattr(make_params(**{p.name: p.low}), p.name) == p.low
    assert getattr(make_params(**{p.name: p.high}), p.name) == p.high


def test_out_of_range_just_outside():
    """A value a hair above the top of the range is rejected too."""
    with pytest.raises(ParameterError, match=r"patron_influence=1\.0001"):
        make_params(patron_influence=1.0001)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_float_rejected(bad):
    """NaN and infinities are rejected for float parameters with a one-line ParameterError."""
    with pytest.raises(ParameterError) as err:
        make_params(patron_influence=bad)
    assert "patron_influence" in one_line(err)


@pytest.mark.parametrize("bad", ["high", None, [0.5], {}])
def test_non_number_rejected(bad):
    """A value that is not a number raises a one-line ParameterError naming the field and the range."""
    with pytest.raises(ParameterError) as err:
        make_params(patron_influence=bad)
    msg = one_line(err)
    assert "patron_influence" in msg and "[0, 1]" in msg


def test_unknown_name_suggests():
    """An unknown parameter name raises a one-line error with a close suggestion."""
    with pytest.raises(ParameterError) as err:
        make_params(patron_influnce=0.5)
    msg = one_line(err)
    assert "patron_influnce" in msg
    assert "did you mean patron_influence?" in msg
    with pytest.raises(ParameterError) as err:
        make_params({"grievance_halflife": 30})
    assert "did you mean grievance_half_life?" in one_line(err)


def test_unknown_name_without_close_match():
    """A name with no close match still raises a one-line error (without a suggestion)."""
    with pytest.raises(ParameterError) as err:
        make_params(zzzzzzzz=1)
    msg = one_line(err)
    assert "zzzzzzzz" in msg and "did you mean" not in msg


@pytest.mark.parametrize("p", BOOLS, ids=lambda p: p.name)
@pytest.mark.parametrize("bad", [2, -1, 0.5, "yes", "true", None])
def test_bool_kind_checked(p, bad):
    """Flags accept only true/false (or 0/1); anything else raises a one-line ParameterError."""
    with pytest.raises(ParameterError) as err:
        make_params(**{p.name: bad})
    assert p.name in one_line(err)


@pytest.mark.parametrize("p", BOOLS, ids=lambda p: p.name)
def test_bool_kind_accepts_flags(p):
    """Flags accept True/False and 0/1 and store a real bool."""
    for value, want in [(True, True), (False, False), (1, True), (0, False)]:
        got = getattr(make_params(**{p.name: value}), p.name)
        assert got is want


@pytest.mark.parametrize("p", INTS, ids=lambda p: p.name)
def test_int_kind_rejects_fractions(p):
    """Integer parameters reject a fractional value inside the range with a one-line error naming the range."""
    value = p.low + 0.5
    with pytest.raises(ParameterError) as err:
        make_params(**{p.name: value})
    msg = one_line(err)
    assert p.name in msg and repr(value) in msg and f"[{p.low:g}, {p.high:g}]" in msg


@pytest.mark.parametrize("p", INTS, ids=lambda p: p.name)
def test_int_kind_accepts_whole_floats(p):
    """Integer parameters accept whole-number floats and store them as int."""
    got = getattr(make_params(**{p.name: float(p.high)}), p.name)
    assert got == p.high and type(got) is int


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_int_kind_rejects_non_finite(bad):
    """Integer parameters reject NaN and infinity with a ParameterError (not a crash in int())."""
    with pytest.raises(ParameterError) as err:
        make_params(patron_cooldown=bad)
    assert "patron_cooldown" in one_line(err)


# ----------------------------------------------------------------------------- make_militias


def test_make_militias_defaults_and_override():
    """make_militias() returns MILITIAS; an override changes only the named field of the named militia."""
    assert make_militias() == MILITIAS
    out = make_militias({"kss": {"loyalty": 0.3}})
    by_key = {m.key: m for m in out}
    assert by_key["kss"].loyalty == 0.3
    assert by_key["kss"].discipline == {m.key: m for m in MILITIAS}["kss"].discipline
    assert [m for m in out if m.key != "kss"] == [m for m in MILITIAS if m.key != "kss"]
    assert {m.key: m for m in MILITIAS}["kss"].loyalty != 0.3  # the declaration is not mutated


def test_make_militias_unknown_key():
    """An unknown militia key raises a one-line error with a suggestion and the allowed keys."""
    with pytest.raises(ParameterError) as err:
        make_militias({"kss2": {"loyalty": 0.3}})
    msg = one_line(err)
    assert "kss2" in msg and "did you mean kss?" in msg
    assert all(k in msg for k in MILITIA_KEYS)


def test_make_militias_unknown_field():
    """An unknown militia field raises a one-line error naming militia and field, with a suggestion."""
    with pytest.raises(ParameterError) as err:
        make_militias({"badr": {"loyality": 0.3}})
    msg = one_line(err)
    assert "militias.badr.loyality" in msg and "did you mean loyalty?" in msg


@pytest.mark.parametrize("f", MILITIA_FIELDS, ids=lambda f: f.name)
def test_make_militias_out_of_range(f):
    """A per-militia value outside its field's range raises a one-line error naming field, value and range."""
    value = f.high + 0.5
    with pytest.raises(ParameterError) as err:
        make_militias({"aah": {f.name: value}})
    msg = one_line(err)
    assert f"militias.aah.{f.name}" in msg and repr(value) in msg and f"[{f.low:g}, {f.high:g}]" in msg
    with pytest.raises(ParameterError):
        make_militias({"aah": {f.name: f.low - 0.5}})
    assert getattr(make_militias({"aah": {f.name: f.low}})[1], f.name) == f.low


def test_make_militias_non_finite():
    """NaN is rejected for a militia field."""
    with pytest.raises(ParameterError) as err:
        make_militias({"pmf": {"discipline": math.nan}})
    assert "militias.pmf.discipline" in one_line(err)


# ----------------------------------------------------------------------------- frozen


def test_params_frozen():
    """Params is frozen: assigning a field raises dataclasses.FrozenInstanceError."""
    p = make_params()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.patron_influence = 0.9
    assert p.patron_influence == PARAM_BY_NAME["patron_influence"].default


def test_params_hashable_and_comparable():
    """Equal parameter sets compare equal and hash alike; a change makes them differ."""
    assert make_params(patron_influence=0.9) == make_params(patron_influence=0.9)
    assert hash(make_params(patron_influence=0.9)) == hash(make_params(patron_influence=0.9))
    assert make_params(patron_influence=0.9) != make_params()


def test_militia_frozen():
    """Militia records are frozen too."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        MILITIAS[0].loyalty = 0.1


# ----------------------------------------------------------------------------- priors from the evidence


def test_declaration_agrees_with_its_evidence():
    """Every default is its evidence's point judgement or range centre, or a listed, reasoned departure;
    every uncertain parameter (and no other) has a prior, inside its declared range."""
    assert priors.check_declaration() == []
    uncertain = {p.name for p in PARAMS if p.role == "uncertain"}
    factors = {priors.militia_factor(m.key, f.name) for m in MILITIAS for f in MILITIA_FIELDS}
    assert set(priors.priors()) == uncertain | factors


def test_departures_check_catches_a_tuned_default(monkeypatch):
    """A default moved off its evidence without a reason is reported (the check can fail)."""
    import sim.model.priors as pr

    j = pr.judgements()["patron_trigger"]
    tuned = dict(pr.judgements(), patron_trigger=dataclasses.replace(j, default=0.3))
    monkeypatch.setattr(pr, "judgements", lambda: tuned)
    problems = pr.check_declaration()
    assert any(line.startswith("patron_trigger=0.3 is outside the judged range") for line in problems), problems


@pytest.mark.parametrize("name", list(priors.priors()))
def test_prior_maps_the_unit_interval_onto_its_judged_range(name):
    """The quantile function covers the judged range monotonically; the density is finite inside and
    zero outside; the centre lies inside."""
    prior = priors.priors()[name]
    u = np.linspace(0.0, 0.999999, 101)
    x = prior.ppf(u)
    assert (np.diff(x) >= 0).all() and prior.low <= x[0] and x[-1] <= prior.high
    assert np.isfinite(prior.logpdf(x)).all()
    assert np.isneginf(prior.logpdf(np.array([prior.low - 1.0, prior.high + 1.0]))).all()
    assert prior.contains(prior.centre)


def test_prior_samples_are_reproducible_and_cover_the_ranges():
    a, b = priors.sample(64, seed=3), priors.sample(64, seed=3)
    assert a == b and a != priors.sample(64, seed=4)
    for name, prior in priors.priors().items():
        values = np.array([d[name] for d in a])
        assert prior.low <= values.min() and values.max() <= prior.high
        assert values.max() - values.min() > 0.5 * (prior.high - prior.low), name  # a Latin hypercube spreads out
    params, militias = priors.split_factors(a[0])
    make_params(params), make_militias(militias)  # every draw is a valid parameter set
