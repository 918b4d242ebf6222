"""Tests of sim.keyed_random: determinism, independence from grouping, distinct streams, statistical quality."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.model import keyed_random as kr
from sim.model.keyed_random import Purpose

SEED = 20211107
N_REP, N_AGENT = 200, 1_000  # 200k draws


@pytest.fixture(scope="module")
def block() -> np.ndarray:
    """200k draws: 200 replicates x 1000 cell ids, one day, one purpose."""
    reps = np.arange(N_REP).reshape(-1, 1)
    agents = kr.cell_uid(0, np.arange(N_AGENT)).reshape(1, -1)
    return kr.uniform(SEED, reps, 17, agents, Purpose.CELL_ACTIVE)


# ----------------------------------------------------------------------------- determinism


def test_same_key_same_value():
    """The same (seed, replicate, day, agent, purpose) always gives the same value, also across calls."""
    a = kr.uniform(SEED, 3, 10, 1_005, Purpose.STANCE)
    b = kr.uniform(SEED, 3, 10, 1_005, Purpose.STANCE)
    assert a == b
    arr1 = kr.uniform(SEED, np.arange(5), 2, 11, Purpose.CLASH)
    _ = kr.uniform(SEED + 1, np.arange(5), 2, 11, Purpose.CLASH)  # no hidden state between calls
    arr2 = kr.uniform(SEED, np.arange(5), 2, 11, Purpose.CLASH)
    np.testing.assert_array_equal(arr1, arr2)


def test_values_in_unit_interval(block):
    """Draws are float64 in [0, 1) (never 1.0)."""
    assert block.dtype == np.float64
    assert block.min() >= 0.0
    assert block.max() < 1.0


def _unmix64(y: int) -> int:
    """Inverse of SplitMix64's finaliser (Python integers), to build keys with chosen hashes."""
    m = 2**64 - 1

    def unshift(v: int, s: int) -> int:
        x = v
        for _ in range(64 // s + 1):
            x = v ^ (x >> s)
        return x

    y = unshift(y, 31)
    y = (y * pow(0x94D049BB133111EB, -1, 2**64)) & m
    y = unshift(y, 27)
    y = (y * pow(0xBF58476D1CE4E5B9, -1, 2**64)) & m
    return unshift(y, 30)


def test_extreme_bits_map_inside_unit_interval():
    """The smallest and largest 64-bit hashes map to 0 and to the largest double below 1 (never 1.0)."""
    assert kr.uniform_from_key(np.uint64(_unmix64(0)), 0) == 0.0
    top = kr.uniform_from_key(np.uint64(_unmix64(2**64 - 1)), 0)
    assert top < 1.0
    assert top == 1.0 - 2.0**-53


def test_mix64_known_value():
    """mix64 is SplitMix64's finaliser: checked against a value computed with Python integers."""

    def ref(x: int) -> int:
        m = 2**64 - 1
        x ^= x >> 30
        x = (x * 0xBF58476D1CE4E5B9) & m
        x ^= x >> 27
        x = (x * 0x94D049BB133111EB) & m
        return x ^ (x >> 31)

    for x in (1, 2, 12345, 0x9E3779B97F4A7C15, 2**64 - 1):
        assert int(kr.mix64(np.uint64(x))) == ref(x)
    xs = np.array([1, 2, 3, 2**63, 2**64 - 2], dtype=np.uint64)
    assert [int(v) for v in kr.mix64(xs)] == [ref(int(x)) for x in xs]


# ----------------------------------------------------------------------------- independence from grouping


def test_array_equals_scalar_calls():
    """uniform over arrays of replicates and agents equals element-by-element scalar calls exactly."""
    reps = np.array([0, 1, 5, 17, 999])
    agents = np.array([kr.PATRON_UID, kr.SADR_UID, 10, 13, 1_000, 1_029, 101_000, 301_999])
    grid = kr.uniform(SEED, reps.reshape(-1, 1), 42, agents.reshape(1, -1), Purpose.CELL_RISK)
    assert grid.shape == (reps.size, agents.size)
    for i, r in enumerate(reps):
        for j, a in enumerate(agents):
            assert grid[i, j] == kr.uniform(SEED, int(r), 42, int(a), Purpose.CELL_RISK)


def test_permutation_and_subset_of_replicates():
    """Any permutation or subset of replicate indices gives the same values for the same indices."""
    reps = np.arange(64)
    agents = kr.cell_uid(np.arange(4).reshape(-1, 1), np.arange(30).reshape(1, -1)).reshape(1, 4, 30)
    full = kr.uniform(SEED, reps.reshape(-1, 1, 1), 5, agents, Purpose.CELL_ACTIVE)
    rng = np.random.default_rng(0)
    perm = rng.permutation(reps)
    np.testing.assert_array_equal(kr.uniform(SEED, perm.reshape(-1, 1, 1), 5, agents, Purpose.CELL_ACTIVE), full[perm])
    subset = np.array([63, 2, 40])
    np.testing.assert_array_equal(
        kr.uniform(SEED, subset.reshape(-1, 1, 1), 5, agents, Purpose.CELL_ACTIVE), full[subset]
    )
    # chunking: two halves equal the whole
    halves = [kr.uniform(SEED, c.reshape(-1, 1, 1), 5, agents, Purpose.CELL_ACTIVE) for c in np.array_split(reps, 2)]
    np.testing.assert_array_equal(np.concatenate(halves), full)


def test_step_key_path_equals_uniform():
    """The core's cached-key path (replicate_key -> step_key -> uniform_from_key) equals uniform()."""
    reps = np.arange(10)
    rep_key = kr.replicate_key(SEED, reps)
    agents = kr.leader_uid(np.arange(4)).reshape(1, -1)
    via_keys = kr.uniform_from_key(kr.step_key(rep_key, 3, Purpose.STANCE).reshape(-1, 1), agents)
    np.testing.assert_array_equal(via_keys, kr.uniform(SEED, reps.reshape(-1, 1), 3, agents, Purpose.STANCE))


def test_agent_ids_do_not_overlap():
    """Role-fixed ids of the patron, PM, Sadr, leaders and cells are all distinct."""
    leaders = [int(kr.leader_uid(j)) for j in range(4)]
    cells = [int(kr.cell_uid(j, k)) for j in range(4) for k in range(2_000)]
    ids = [kr.PATRON_UID, kr.PM_UID, kr.SADR_UID, *leaders, *cells]
    assert len(set(ids)) == len(ids)


# ----------------------------------------------------------------------------- distinct streams


def _no_shared_values(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape
    assert np.intersect1d(a.ravel(), b.ravel()).size == 0


AGENTS_10K = np.arange(10_000) + kr.CELL_UID_BASE


def test_distinct_purposes_give_distinct_streams():
    """Every pair of purposes gives streams with no value in common over 10k draws."""
    streams = {p: kr.uniform(SEED, 0, 7, AGENTS_10K, p) for p in Purpose}
    purposes = list(Purpose)
    for i, p in enumerate(purposes):
        for q in purposes[i + 1 :]:
            _no_shared_values(streams[p], streams[q])


@pytest.mark.parametrize(
    "other",
    [
        dict(seed=SEED + 1),
        dict(seed=0),
        dict(replicate=1),
        dict(replicate=2**32),
        dict(day=8),
        dict(day=-1),
        dict(day=0),
    ],
    ids=lambda d: "-".join(f"{k}={v}" for k, v in d.items()),
)
def test_distinct_keys_give_distinct_streams(other):
    """Changing the seed, replicate or day gives a stream with no value in common over 10k agents."""
    base = dict(seed=SEED, replicate=0, day=7, purpose=Purpose.CELL_ACTIVE)
    a = kr.uniform(base["seed"], base["replicate"], base["day"], AGENTS_10K, base["purpose"])
    k = {**base, **other}
    b = kr.uniform(k["seed"], k["replicate"], k["day"], AGENTS_10K, k["purpose"])
    _no_shared_values(a, b)


def test_distinct_agents_give_distinct_streams():
    """Two agents (adjacent cells, a leader and a cell) have no value in common over 10k replicates."""
    reps = np.arange(10_000)
    a = kr.uniform(SEED, reps, 3, kr.cell_uid(0, 0), Purpose.CELL_ACTIVE)
    b = kr.uniform(SEED, reps, 3, kr.cell_uid(0, 1), Purpose.CELL_ACTIVE)
    c = kr.uniform(SEED, reps, 3, kr.leader_uid(0), Purpose.CELL_ACTIVE)
    _no_shared_values(a, b)
    _no_shared_values(a, c)
    _no_shared_values(b, c)


def test_days_and_replicates_do_not_alias():
    """Shifting day and replicate together, or day and purpose together, never reproduces a stream."""
    a = kr.uniform(SEED, 0, 1, AGENTS_10K, Purpose.STANCE)
    _no_shared_values(a, kr.uniform(SEED, 1, 0, AGENTS_10K, Purpose.STANCE))
    _no_shared_values(a, kr.uniform(SEED, 0, 0, AGENTS_10K, Purpose.CELL_ACTIVE))
    _no_shared_values(a, kr.uniform(SEED, 0, 2, AGENTS_10K, Purpose.CELL_RISK))


def test_all_values_distinct_within_block(block):
    """Within one 200k block no two (replicate, agent) keys share a value."""
    assert np.unique(block).size == block.size


# ----------------------------------------------------------------------------- statistical quality


def test_mean_and_variance(block):
    """200k draws have mean 0.5 +- 0.003 and variance 1/12 +- 0.002."""
    assert abs(block.mean() - 0.5) < 0.003
    assert abs(block.var() - 1.0 / 12.0) < 0.002


def test_chi_square_uniformity(block):
    """A 20-bin chi-square test of 200k draws does not reject uniformity (p > 1e-4)."""
    counts, _ = np.histogram(block, bins=20, range=(0.0, 1.0))
    assert stats.chisquare(counts).pvalue > 1e-4


def test_chi_square_uniformity_over_days():
    """Uniform also along days for one agent set (200 days x 1000 agents), p > 1e-4."""
    days = np.arange(200).reshape(-1, 1)
    u = np.stack([kr.uniform(SEED, 0, int(d), np.arange(1_000) + 10, Purpose.BOYCOTT) for d in days.ravel()])
    counts, _ = np.histogram(u, bins=20, range=(0.0, 1.0))
    assert stats.chisquare(counts).pvalue > 1e-4


def test_adjacent_agents_uncorrelated(block):
    """Draws of adjacent agents (cell k and k+1, same replicate) are uncorrelated: |corr| < 0.01."""
    left, right = block[:, :-1].ravel(), block[:, 1:].ravel()
    assert abs(np.corrcoef(left, right)[0, 1]) < 0.01


def test_adjacent_replicates_and_days_uncorrelated(block):
    """Adjacent replicates, and the same agent on adjacent days, are uncorrelated: |corr| < 0.01."""
    assert abs(np.corrcoef(block[:-1].ravel(), block[1:].ravel())[0, 1]) < 0.01
    reps = np.arange(N_REP).reshape(-1, 1)
    agents = kr.cell_uid(0, np.arange(N_AGENT)).reshape(1, -1)
    next_day = kr.uniform(SEED, reps, 18, agents, Purpose.CELL_ACTIVE)
    assert abs(np.corrcoef(block.ravel(), next_day.ravel())[0, 1]) < 0.01
    other_purpose = kr.uniform(SEED, reps, 17, agents, Purpose.CELL_RISK)
    assert abs(np.corrcoef(block.ravel(), other_purpose.ravel())[0, 1]) < 0.01


def test_normal_from_uniform(block):
    """normal_from_uniform of 200k draws has mean 0 +- 0.01 and sd 1 +- 0.01, and is finite at u = 0."""
    z = kr.normal_from_uniform(block)
    assert np.isfinite(z).all()
    assert abs(z.mean()) < 0.01
    assert abs(z.std() - 1.0) < 0.01
    assert np.isfinite(kr.normal_from_uniform(np.array([0.0]))).all()
    assert kr.normal_from_uniform(np.array([0.5]))[0] == 0.0


def test_normal_from_uniform_elementwise(block):
    """normal_from_uniform gives the same value for a draw whether called on the block or on one element."""
    z = kr.normal_from_uniform(block[:3, :5])
    for i, j in np.ndindex(z.shape):
        assert z[i, j] == kr.normal_from_uniform(block[i, j])
