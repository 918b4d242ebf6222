"""Recovery on the real problem (sim/analysis/recovery_counts.py): synthetic records made by record_2021 at known
parameter sets drawn from the priors, every one of the 88 values free and the prior redraw on, calibrated with the
headline calibration's statistics, facts and sampler (at a smaller size); the values the record informs must be
covered by their 90% intervals at the nominal rate, and the record must inform some of them with intervals
narrower than the prior's. experiments/calibration/recovery_real.py is the larger version (its result is in
docs/ODD.md section 11).

Size, chosen for the CI budget: 12 records x (400 particles x 2 runs x at most 6 generations), about 60k runs of
record_2021 with the compiled engine (about a minute on 2 cores). Tolerance: 3 binomial standard errors of the
informed checks at the nominal 0.9 (about 36 checks: +-0.15). Why this wide: the checks are few, and an ABC
posterior at a tolerance above 0 is somewhat wider than the exact one (it covers at least as often), so the check
guards against intervals that are too narrow or centred wrong, as a broken weighting makes them (the toy's test in
tests/test_abc_smc.py shows that one fails)."""

from __future__ import annotations

import math

import pytest

from sim.analysis import abc_smc
from sim.analysis import recovery_counts as rc

TRIALS = 12
SETTINGS = abc_smc.Settings(particles=400, replicates=2, generations=6, min_ess=15, min_acceptance=0.02)


@pytest.mark.slow
def test_the_informed_values_are_covered_at_the_nominal_rate():
    table = rc.recovery(TRIALS, SETTINGS, seed=2026, workers=2)
    s = rc.summary(table)
    n = s["informed_checks"]
    assert n >= TRIALS, s  # the record informs at least one value per record on average
    tolerance = 3 * math.sqrt(rc.LEVEL * (1 - rc.LEVEL) / n)
    assert abs(s["coverage_informed"] - rc.LEVEL) < tolerance, s
    assert s["width_informed"] < 0.85, s  # narrower than the prior's central 90% (0.9 of the unit cube)
    assert "attack_rate_us" in s["factors_informed"], s  # the attack counts inform the attack rate
