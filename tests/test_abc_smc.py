"""The ABC-SMC machinery (sim/analysis/abc_smc.py) on a toy batched simulator with the shape of the record
(counts over periods, a duration, a yes/no fact as a hard constraint): its kernels stay in the priors'
supports and their weights undo the proposal, the distance's scales adapt to the population, its posterior
does not depend on chunking, a stopped run resumes, a model index picks the structure that made the data, the
regression adjustment moves the sample toward the truth, and it recovers known parameters at the nominal rate
while a deliberately broken weighting does not. The same checks on the real model and record are in
tests/test_recovery_real.py.

Runs in a few CPU-seconds: the toy replaces the model so that hundreds of calibrations fit in a test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import pdtr

from sim.analysis import abc_smc
from sim.model.keyed_random import mix64
from sim.model.priors import Prior

PRIORS = [Prior("rate", "uniform", 0.2, 2.0, "assumed"), Prior("share", "loguniform", 0.1, 1.0, "assumed"),
          Prior("delay", "integer", 1, 6, "assumed")]  # fmt: skip
NAMES = [p.name for p in PRIORS]
PERIODS = np.array([1.0, 0.5])  # the toy's two count periods (months)


def poisson_ppf(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Poisson quantile of u (counts up to 40: the toy's means stay below 13)."""
    lam = np.broadcast_to(lam, u.shape)
    return sum((pdtr(k, lam) < u).astype(float) for k in range(40))


def to_values(u: np.ndarray) -> np.ndarray:
    return np.column_stack([p.ppf(u[:, k]) for k, p in enumerate(PRIORS)])


def _uniforms(seed: int, t: int, idx: np.ndarray, replicates: int, k: int) -> np.ndarray:
    """Keyed uniforms (n, R, k): a hash of (seed, generation, particle, replicate, draw), so any chunking of
    the particles gives the same numbers, as the vector engine's keyed random numbers do."""
    base = np.uint64((seed * 0x9E3779B97F4A7C15 + t * 1_000_003) % 2**64)
    i = idx.astype(np.uint64)[:, None, None]
    r = np.arange(replicates, dtype=np.uint64)[None, :, None]
    j = np.arange(k, dtype=np.uint64)[None, None, :]
    key = mix64(mix64(base + i * np.uint64(7919)) + r * np.uint64(104_729) + j * np.uint64(15_485_863))
    return ((key >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53


def toy_records(theta: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Records (n, R, 4): a count per period (Poisson, rate x share in the second), a duration (delay, one day
    more with probability share), a yes/no fact (true with probability 1 - share / 2)."""
    rate, share, delay = (theta[:, k][:, None] for k in range(3))
    c1 = poisson_ppf(u[..., 0], rate * PERIODS[0])
    c2 = poisson_ppf(u[..., 1], rate * share * PERIODS[1])
    dur = delay + (u[..., 2] < share)
    fact = u[..., 3] > share / 2
    return np.stack([c1, c2, dur, fact.astype(float)], axis=-1)


def observed_for(record: np.ndarray) -> abc_smc.Observed:
    """A point record of the toy's three counts (low = high), scales' floors of 1."""
    return abc_smc.Observed(record[:3], record[:3], np.ones(3))


def toy_simulator(observed: np.ndarray, seed: int, replicates: int, chunk: int | None = None, shift: float = 0.0):
    """The toy as the sampler sees it: statistics (n, R, 3) and whether the yes/no fact matches (n, R).
    ``shift`` adds to the first count's rate under structure 1 (for the model-choice test)."""
    calls = []

    def simulate(theta, t, idx, models):
        calls.append(t)
        parts, oks = [], []
        step = chunk or len(idx)
        for lo in range(0, len(idx), step):  # chunked as an engine would be
            sl = slice(lo, lo + step)
            th = theta[sl].copy()
            th[:, 0] = th[:, 0] + shift * (np.asarray(models)[sl] == 1)
            rec = toy_records(th, _uniforms(seed, t, idx[sl], replicates, 4))
            parts.append(rec[..., :3])
            oks.append(rec[..., 3] == observed[3])
        return np.concatenate(parts), np.concatenate(oks)

    simulate.calls = calls
    return simulate


def run_toy(obs, seed, replicates, settings, chunk=None, store=None, shift=0.0):
    return abc_smc.run(NAMES, to_values, toy_simulator(obs, seed, replicates, chunk, shift), observed_for(obs),
                       settings, store=store)


SMALL = abc_smc.Settings(particles=400, replicates=3, generations=5, quantile=0.5, seed=7, min_ess=20)


def test_diagonal_kernel_stays_in_the_cube_and_its_density_integrates_to_one():
    rng = np.random.default_rng(1)
    centres = np.array([[0.01, 0.5], [0.99, 0.98], [0.3, 0.0]])
    sigma = np.array([0.2, 0.3])
    x = abc_smc.perturb(np.repeat(centres, 5000, axis=0), sigma, rng)
    assert (x >= 0).all() and (x < 1).all()
    prev = abc_smc.Generation(0, np.inf, centres, np.ones(3), np.array([0.2, 0.5, 0.3]), np.zeros((3, 1, 1)),
                              np.ones((3, 1), bool), np.ones(1), np.zeros((3, 1)), np.zeros(3, int))  # fmt: skip
    kernel = {"kind": "diagonal", "moved": np.ones(2, bool), "sigma": sigma}
    g = (np.arange(400) + 0.5) / 400  # midpoint rule on the unit square
    grid = np.array(np.meshgrid(g, g)).reshape(2, -1).T
    total = np.exp(abc_smc.log_proposal(grid, np.zeros(len(grid), int), prev, kernel, abc_smc.Settings())).mean()
    assert total == pytest.approx(1.0, abs=2e-3)


def test_mvn_kernel_moves_along_the_population_and_its_density_integrates_to_one():
    """The covariance kernel: correlated proposals (logit space) stay in the cube, and the mixture density it
    reports, Jacobian included, integrates to one over the cube."""
    rng = np.random.default_rng(3)
    z = rng.multivariate_normal([0.0, 0.5], [[0.5, 0.45], [0.45, 0.5]], 300)
    u = 1 / (1 + np.exp(-z))
    prev = abc_smc.Generation(1, 1.0, u, np.ones(300), np.full(300, 1 / 300), np.zeros((300, 1, 1)),
                              np.ones((300, 1), bool), np.ones(1), np.zeros((300, 1)), np.zeros(300, int))  # fmt: skip
    settings = abc_smc.Settings(particles=4000, redraw_above=1.0)
    x, _, kernel = abc_smc.propose(2, prev, 2, settings)
    assert kernel["kind"] == "mvn" and kernel["moved"].all()
    assert (x > 0).all() and (x < 1).all()
    zx = np.log(x / (1 - x))
    assert np.corrcoef(zx.T)[0, 1] > 0.6  # the ridge is kept
    g = (np.arange(300) + 0.5) / 300
    grid = np.array(np.meshgrid(g, g)).reshape(2, -1).T
    total = np.exp(abc_smc.log_proposal(grid, np.zeros(len(grid), int), prev, kernel, settings)).mean()
    assert total == pytest.approx(1.0, abs=0.02)


def test_values_respect_the_priors_supports():
    res = run_toy(np.array([12, 3, 3, 1.0]), 1, 3, SMALL)
    post = abc_smc.posterior_table(res, NAMES, to_values)
    for p in PRIORS:
        assert (post[p.name] >= p.low).all() and (post[p.name] <= p.high).all()
    assert set(post["delay"].unique()) <= set(range(1, 7))
    assert post["weight"].sum() == pytest.approx(1.0)
    eps = [g["tolerance"] for g in res.schedule()]
    assert eps[0] == np.inf and all(np.isfinite(eps[1:]))


@pytest.mark.parametrize("kernel", abc_smc.KERNELS)
def test_the_weights_undo_the_proposal(kernel):
    """A flat likelihood after a generation concentrated in three of six coordinates: the next generation's
    proposals (kernel-moved in those three, drawn afresh in the others) weighted by prior / proposal are
    uniform on the cube again, and the same proposals unweighted are not."""
    rng = np.random.default_rng(4)
    n, d = 2000, 6
    u = np.column_stack([np.clip(rng.normal(0.3, 0.12, (n, 3)), 0.001, 0.999), rng.random((n, 3))])
    prev = abc_smc.Generation(0, np.inf, u, np.ones(n), np.full(n, 1 / n), np.zeros((n, 1, 1)), np.ones((n, 1), bool),
                              np.ones(1), np.zeros((n, 1)), np.zeros(n, int))  # fmt: skip
    settings = abc_smc.Settings(particles=10000, seed=9, kernel=kernel)
    x, models, k = abc_smc.propose(1, prev, d, settings)
    assert k["moved"][:3].all() and not k["moved"][3:].any()
    w, log_z = abc_smc.weights(x, models, np.ones(len(x)), prev, k, settings)
    assert log_z == pytest.approx(0.0, abs=0.3)  # a likelihood of 1 everywhere: evidence 1 (a noisy estimate)
    mean = np.average(x, axis=0, weights=w)
    sd = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=w))
    ess = 1 / np.sum(w**2)
    assert np.all(np.abs(mean - 0.5) < 4 / np.sqrt(12 * ess)), (mean, ess)
    assert np.all(np.abs(sd - abc_smc.PRIOR_SD) < 0.03), sd
    assert np.all(np.abs(x[:, :3].mean(axis=0) - 0.5) > 0.1)  # unweighted, the proposals are far from it


def test_distance_scales_adapt_to_the_population():
    """Generation t's scales are the MAD (x 1.4826) of generation t-1's statistics, never below the floors;
    runs that broke a hard constraint do not count; without adaptation the floors stay."""
    rng = np.random.default_rng(5)
    values = np.stack([rng.normal(0, 10, (500, 2)), rng.normal(0, 0.1, (500, 2))], axis=-1)  # (500, 2, 2)
    ok = np.ones((500, 2), bool)
    ok[:100] = False
    values[:100] = 1e6  # broken runs: ignored
    obs = abc_smc.Observed([0, 0], [0, 0], [1.0, 1.0])
    prev = abc_smc.Generation(0, np.inf, np.zeros((500, 1)), np.ones(500), np.full(500, 1 / 500), values, ok,
                              np.ones(2), np.zeros((500, 2)), np.zeros(500, int))  # fmt: skip
    s = abc_smc.adapted_scales(prev, obs, abc_smc.Settings())
    assert s[0] == pytest.approx(10, rel=0.1) and s[1] == 1.0  # the second is at its floor
    np.testing.assert_array_equal(abc_smc.adapted_scales(prev, obs, abc_smc.Settings(adapt_scales=False)), [1, 1])
    # the distance: outside the interval, in scale units; inf where a constraint failed
    o = abc_smc.Observed([2, 6], [4, np.inf], [2.0, 1.0])
    np.testing.assert_allclose(o.distance(np.array([[0.0, 5.0], [3.0, 9.0]]), np.array([True, True]),
                                          np.array([2.0, 1.0])), [2.0, 0.0])  # fmt: skip
    assert o.distance(np.array([[3.0, 9.0]]), np.array([False]), np.ones(2))[0] == np.inf


def test_a_schedule_ending_for_low_acceptance_pools_its_last_tolerance():
    obs = np.array([1, 0, 3, 1.0])
    settings = abc_smc.Settings(**{**SMALL.__dict__, "min_acceptance": 0.5, "final_repeats": 2, "min_ess": 5})
    res = run_toy(obs, 3, 3, settings)
    assert "then 2 more" in res.stopped and res.pool_from == len(res.generations) - 3
    assert len({g.eps for g in res.generations[res.pool_from :]}) == 1
    u, w = res.pooled()
    assert len(u) == 3 * SMALL.particles and w.sum() == pytest.approx(1.0)
    assert res.pooled_ess() > max(g.ess for g in res.generations[res.pool_from :])


def test_the_posterior_does_not_depend_on_chunking():
    obs = np.array([12, 3, 3, 1.0])
    a = run_toy(obs, 3, 3, SMALL)
    b = run_toy(obs, 3, 3, SMALL, chunk=37)
    assert len(a.generations) == len(b.generations) >= 3
    np.testing.assert_array_equal(a.final.u, b.final.u)
    np.testing.assert_array_equal(a.final.weight, b.final.weight)


def test_a_stopped_run_resumes_from_its_stored_generations(tmp_path):
    obs = np.array([12, 3, 3, 1.0])
    o = observed_for(obs)
    fresh = run_toy(obs, 3, 3, SMALL)
    two = abc_smc.Settings(**{**SMALL.__dict__, "generations": 2})
    run_toy(obs, 3, 3, two, store=tmp_path / "b")
    sim = toy_simulator(obs, 3, 3)  # more generations: the stored two are checked and reused
    resumed = abc_smc.run(NAMES, to_values, sim, o, SMALL, store=tmp_path / "b")
    assert sim.calls and min(sim.calls) == 2
    np.testing.assert_array_equal(resumed.final.weight, fresh.final.weight)
    sim2 = toy_simulator(obs, 3, 3)
    abc_smc.run(NAMES, to_values, sim2, o, SMALL, store=tmp_path / "b")
    assert sim2.calls == []  # a rerun of a finished run simulates nothing
    # a damaged generation (here: truncated) is recomputed, the earlier ones reused
    path = tmp_path / "b" / "generation_02.parquet"
    pd.read_parquet(path).iloc[:10].to_parquet(path)
    sim3 = toy_simulator(obs, 3, 3)
    again = abc_smc.run(NAMES, to_values, sim3, o, SMALL, store=tmp_path / "b")
    assert sim3.calls and min(sim3.calls) == 2
    np.testing.assert_array_equal(again.final.weight, fresh.final.weight)
    # a stored generation made with other settings (another seed) is not reused
    other = abc_smc.Settings(**{**SMALL.__dict__, "seed": 8})
    sim4 = toy_simulator(obs, 3, 3)
    abc_smc.run(NAMES, to_values, sim4, o, other, store=tmp_path / "b")
    assert sim4.calls[0] == 0


def test_a_model_index_picks_the_structure_that_made_the_data():
    """Two structures that differ only in the first count's rate (structure 1 adds 6 to it): records made under
    either are given most of the posterior weight by the model index, and the evidence of a generation is the
    mean of its unnormalised weights (one number per tolerance)."""
    rng = np.random.default_rng(11)
    settings = abc_smc.Settings(**{**SMALL.__dict__, "models": 2, "generations": 6, "seed": 21})
    for true_model in (0, 1):
        wins = 0
        for trial in range(4):
            theta = to_values(rng.random((1, 3)))
            theta[:, 0] += 6.0 * true_model
            rec = toy_records(theta, rng.random((1, 1, 4)))[0, 0]
            res = run_toy(rec, 100 + trial, 3, abc_smc.Settings(**{**settings.__dict__, "seed": 21 + trial}),
                          shift=6.0)  # fmt: skip
            p = res.model_probabilities(2)
            assert p.sum() == pytest.approx(1.0)
            wins += p[true_model] > 0.5
        assert wins >= 3, true_model
    assert all(np.isfinite(g.log_evidence) for g in res.generations)


def test_regression_adjustment_moves_the_sample_toward_the_truth():
    """At a tolerance above 0 the accepted runs' parameters still depend on how far their counts miss; the
    local-linear adjustment takes that out, so the adjusted posterior's rate sits closer to the one that made
    the record (and is tighter) than the unadjusted one, over several records."""
    rng = np.random.default_rng(12)
    settings = abc_smc.Settings(**{**SMALL.__dict__, "generations": 3, "redraw_above": 1.0})
    err_raw, err_adj, sd_raw, sd_adj = [], [], [], []
    for trial in range(6):
        truth = rng.random((1, 3))
        rec = toy_records(to_values(truth), rng.random((1, 1, 4)))[0, 0]
        res = run_toy(rec, 200 + trial, 3, abc_smc.Settings(**{**settings.__dict__, "seed": 40 + trial}))
        u, w = res.pooled()
        ua, wa = abc_smc.regression_adjusted(res, observed_for(rec))
        for x, ww, err, sd in ((u, w, err_raw, sd_raw), (ua, wa, err_adj, sd_adj)):
            m = np.average(x[:, 0], weights=ww)
            err.append(abs(m - truth[0, 0]))
            sd.append(np.sqrt(np.average((x[:, 0] - m) ** 2, weights=ww)))
    assert np.mean(sd_adj) < np.mean(sd_raw)
    assert np.mean(err_adj) < np.mean(err_raw) + 0.02


# ----------------------------------------------------------------------------- recovery (simulation-based calibration)

TRIALS = 160
LEVEL = 0.9
# redraw_above=1: every coordinate keeps its kernel (the toy's three are all informed); the redraw of uninformed
# coordinates is checked on the real model in tests/test_recovery_real.py
RECOVERY = abc_smc.Settings(
    particles=400, replicates=4, generations=12, quantile=0.5, min_ess=20, at_floor=3, redraw_above=1.0
)


def _coverage(broken: bool, monkeypatch) -> tuple[float, int]:
    """Share of (trial, parameter) checks whose known value lies in the central LEVEL posterior interval:
    TRIALS known parameter sets drawn from the priors, one simulated record each, each calibrated. Checked in
    the priors' unit cube, where every posterior is continuous (a whole-number parameter's interval in its
    own values would cover more than nominal through ties)."""
    if broken:  # importance weights not divided by the proposal density: the likelihood is counted again
        def flat(u, models, lik, prev, kernel, settings):
            return (lik / lik.sum() if lik.sum() > 0 else lik), 0.0

        monkeypatch.setattr(abc_smc, "weights", flat)
    rng = np.random.default_rng(2021)
    truths = rng.random((TRIALS, 3))
    records = toy_records(to_values(truths), rng.random((TRIALS, 1, 4)))[:, 0]
    hits = []
    for i in range(TRIALS):
        settings = abc_smc.Settings(**{**RECOVERY.__dict__, "seed": 1000 + i})
        res = run_toy(records[i], 1000 + i, RECOVERY.replicates, settings)
        u, w = res.pooled()  # the posterior as the calibration reports it
        for k in range(3):
            lo = abc_smc.weighted_quantile(u[:, k], w, (1 - LEVEL) / 2)
            hi = abc_smc.weighted_quantile(u[:, k], w, (1 + LEVEL) / 2)
            hits.append(lo <= truths[i, k] <= hi)
    return float(np.mean(hits)), len(hits)


def _tolerance(n: int) -> float:
    """3 binomial standard errors at the nominal rate (checks treated as independent): 0.041 for 480."""
    return 3.0 * np.sqrt(LEVEL * (1 - LEVEL) / n)


def test_abc_smc_recovers_known_parameters_at_the_nominal_rate(monkeypatch):
    """160 known parameter sets x 3 parameters: the known values fall inside the central 90% posterior
    intervals at 0.90 within 3 binomial standard errors (480 checks: +-0.041). The toy's counts are small, so
    the schedule reaches tolerance 0 (an exact match)."""
    rate, n = _coverage(False, monkeypatch)
    assert abs(rate - LEVEL) < _tolerance(n), rate


def test_a_broken_weighting_fails_the_recovery_check(monkeypatch):
    """The same check with the importance weights not divided by the proposal density (each generation then
    multiplies the likelihood in again): the intervals are too narrow and coverage falls below the bounds."""
    rate, n = _coverage(True, monkeypatch)
    assert rate < LEVEL - _tolerance(n), rate
