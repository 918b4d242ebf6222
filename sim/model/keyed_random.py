"""Counter-based random numbers keyed by (seed, replicate, day, agent, purpose).
A draw is a pure hash of its key, so results never depend on batching, chunking, workers or engine."""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from scipy.special import ndtri

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_DAY = np.uint64(0xD1B54A32D192ED03)
_PURPOSE = np.uint64(0x8CB92BA72F3D8DD7)
_AGENT = np.uint64(0xD6E8FEB86659FD93)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))
_TO_UNIT = 2.0**-53


class Purpose(IntEnum):
    """What a draw is for; part of its key so that no two uses share a stream."""

    CELL_OFFSET = 1
    CELL_RISK = 2
    STANCE = 3
    CELL_ACTIVE = 4
    ATTACK_STATE = 5
    ATTACK_US = 6
    RETALIATION = 7
    BOYCOTT = 8  # Sadr's walk-out threshold (day -1: a trait of the run's Sadr)
    CLASH = 9
    RETURN = 10  # Sadr's return threshold (day -1)
    SADR_ORDER = 11  # whether Sadr orders his wing home after a clash


# Agent ids are fixed by role, never by creation order, so both engines key draws alike.
PATRON_UID = 0
PM_UID = 1
SADR_UID = 2
LEADER_UID_BASE = 10
CELL_UID_BASE = 1_000
CELL_UID_STRIDE = 100_000  # cells of militia j: CELL_UID_BASE + j * stride + k


def leader_uid(j):
    return LEADER_UID_BASE + np.asarray(j, dtype=np.uint64)


def cell_uid(j, k):
    return CELL_UID_BASE + np.asarray(j, dtype=np.uint64) * CELL_UID_STRIDE + np.asarray(k, dtype=np.uint64)


def finalise(x):
    """SplitMix64's finaliser on uint64 values (arrays, numpy scalars, or the compiled engine's scalars)."""
    x = x ^ (x >> _S30)
    x = x * _M1
    x = x ^ (x >> _S27)
    x = x * _M2
    return x ^ (x >> _S31)


def mix64(x: np.ndarray, inplace: bool = False) -> np.ndarray:
    """SplitMix64's finaliser: a bijective avalanche hash of uint64 values (wraps on purpose).
    ``inplace=True`` overwrites an array ``x`` (same bits, no temporaries: the vector core's hot path)."""
    with np.errstate(over="ignore"):
        if not (inplace and isinstance(x, np.ndarray) and x.ndim):
            return finalise(x)
        t = np.empty_like(x)
        for shift, mult in ((_S30, _M1), (_S27, _M2), (_S31, None)):
            np.right_shift(x, shift, out=t)
            np.bitwise_xor(x, t, out=x)
            if mult is not None:
                np.multiply(x, mult, out=x)
        return x


def replicate_key(seed, replicate) -> np.ndarray:
    """Key of (seed, replicate); either may be an array (seeds are integers in [0, 2**64))."""
    s = mix64(np.asarray(seed, dtype=np.uint64) + _GOLDEN)
    with np.errstate(over="ignore"):
        return mix64(s ^ (np.asarray(replicate, dtype=np.uint64) * _GOLDEN + _M1))


def step_key(rep_key: np.ndarray, day: int, purpose: int) -> np.ndarray:
    """Key of (seed, replicate, day, purpose); cheap: shaped like ``rep_key``."""
    return mix64(rep_key ^ step_offset(day, purpose))


def step_offset(day: int, purpose: int) -> np.uint64:
    """What (day, purpose) adds to a replicate's key before mixing (the compiled engine tabulates it)."""
    with np.errstate(over="ignore"):
        return np.uint64((int(day) + 2) % 2**64) * _DAY + np.uint64(int(purpose)) * _PURPOSE


def uniform_from_key(key: np.ndarray, agent) -> np.ndarray:
    """Uniform [0, 1) draws for ``agent`` ids (broadcast against ``key``), 53-bit resolution."""
    with np.errstate(over="ignore"):
        bits = mix64(key + np.asarray(agent, dtype=np.uint64) * _AGENT, inplace=True)
    if bits.ndim:
        np.right_shift(bits, _S11, out=bits)
        u = bits.astype(np.float64)
        return np.multiply(u, _TO_UNIT, out=u)
    return (bits >> _S11).astype(np.float64) * _TO_UNIT


def uniform(seed: int, replicate, day: int, agent, purpose: int) -> np.ndarray:
    """One uniform per (seed, replicate, day, agent, purpose): the whole API both engines use."""
    return uniform_from_key(step_key(replicate_key(seed, replicate), day, purpose), agent)


def normal_from_uniform(u: np.ndarray) -> np.ndarray:
    """Standard normal by inversion (elementwise, so identical however draws are grouped)."""
    # Keep away from 0 so ndtri stays finite; 2**-54 is below the grid's resolution.
    return ndtri(np.maximum(u, 2.0**-54))
