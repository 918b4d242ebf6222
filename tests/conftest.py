"""Shared helpers for the tests: small runs of either engine on a named scenario."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.engines.vector import run_batch
from sim.model.params import MILITIAS, make_params
from sim.model.scenario import Event, Scenario, list_scenarios, load_scenario

ALL_SCENARIOS = list_scenarios()


def vector_run(scenario: Scenario | str, replicates=200, seed=7, militias=MILITIAS, **params):
    sc = load_scenario(scenario) if isinstance(scenario, str) else scenario
    return run_batch(sc, [make_params(params)], [militias], seed, np.arange(replicates))


def with_event(scenario: Scenario, **fields) -> Scenario:
    """``scenario`` plus one event (``day`` given; date derived)."""
    ev = Event(date=scenario.date_of(fields["day"]), **fields)
    return dataclasses.replace(scenario, events=tuple(sorted((*scenario.events, ev), key=lambda e: e.day)))


@pytest.fixture(params=ALL_SCENARIOS)
def scenario_name(request) -> str:
    return request.param
