"""What a run reports: the daily record and the per-run outcomes, computed from a State.
Both engines call these same functions, so their tables match column for column."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.model import rules
from sim.model.params import Militia
from sim.model.state import State

DAILY_COLUMNS = (
    "tension", "hazard", "violence", "mobilisation", "sadr_grievance", "rivalry", "participating", "attention",
    "intervened", "clash", "attacks_state_today", "attacks_us_today", "cohesion_within", "cohesion_house",
    "grievance_mean", "discipline_mean",
)  # fmt: skip
MILITIA_DAILY = ("grievance", "discipline", "share", "contests")


def daily_record(s: State, attacks_today: np.ndarray) -> dict[str, np.ndarray]:
    """One day's reported quantities, each shaped (R,)."""
    R = s.grievance.shape[0]
    M = s.grievance.shape[1]
    coh = rules.within_cohesion(s.contests, s.share)
    rec = {
        "tension": s.tension,
        "hazard": s.hazard,
        "violence": rules.camp_violence(s.active),
        "mobilisation": s.mobilisation,
        "sadr_grievance": s.sadr_grievance,
        "rivalry": s.rivalry,
        "participating": s.participating,
        "attention": s.attention,
        "intervened": s.intervened,
        "clash": s.clash,
        "attacks_state_today": attacks_today,
        "attacks_us_today": s.attacks_us_today,
        # Explicit left-to-right sums over the few militias: the same order in both engines.
        "cohesion_within": _sum_militias(coh) / M,
        "cohesion_house": 1.0 - s.rivalry,
        "grievance_mean": _sum_militias(s.grievance) / M,
        "discipline_mean": _sum_militias(s.discipline) / M,
    }
    out = {k: np.broadcast_to(np.asarray(v), (R, 1, 1)).reshape(R) for k, v in rec.items()}
    for name in MILITIA_DAILY:
        arr = getattr(s, name)
        for j in range(M):
            out[f"{name}_{j}"] = arr[:, j, 0]
    return out


def _sum_militias(a: np.ndarray) -> np.ndarray:
    total = a[:, 0:1].astype(np.float64)
    for j in range(1, a.shape[1]):
        total = total + a[:, j : j + 1]
    return total


def run_record(s: State, sums: dict[str, np.ndarray], days: int, militias: Sequence[Militia]) -> dict[str, np.ndarray]:
    """Per-run outcomes, each shaped (R,), from the final State and day-summed series."""
    R = s.grievance.shape[0]
    out = {
        "escalated": s.escalated.reshape(R),
        "escalation_day": s.escalation_day.reshape(R),
        "sustained": s.sustained.reshape(R),
        "sustained_day": s.sustained_day.reshape(R),
        "first_clash_day": s.first_clash_day.reshape(R),
        "clashes": s.clashes.reshape(R),
        "interventions": s.interventions.reshape(R),
        "attacks_state": s.attacks_state.sum(axis=(1, 2)),
        "attacks_us": s.attacks_us.sum(axis=(1, 2)),
        "retaliations": s.retaliations.sum(axis=(1, 2)),
        "boycott_days": s.boycott_days.reshape(R),
        "boycott_ended": s.boycott_ended.reshape(R),
        "boycott_clash_days": s.boycott_clash_days.reshape(R),
        "participating_final": s.participating.reshape(R),
        "cohesion_within": sums["cohesion_within"] / days,
        "cohesion_house": sums["cohesion_house"] / days,
        "peak_tension": sums["peak_tension"],
    }
    for j, m in enumerate(militias):
        out[f"attacks_state_{m.key}"] = s.attacks_state[:, j, 0]
        out[f"attacks_us_{m.key}"] = s.attacks_us[:, j, 0]
    return out


def accumulate(sums: dict[str, np.ndarray], rec: dict[str, np.ndarray]) -> None:
    """Add one day's record into the running sums used by run_record."""
    sums["cohesion_within"] = sums["cohesion_within"] + rec["cohesion_within"]
    sums["cohesion_house"] = sums["cohesion_house"] + rec["cohesion_house"]
    sums["peak_tension"] = np.maximum(sums["peak_tension"], rec["tension"])


def empty_sums(R: int) -> dict[str, np.ndarray]:
    return {"cohesion_within": np.zeros(R), "cohesion_house": np.zeros(R), "peak_tension": np.zeros(R)}


def escalated_by(clash: np.ndarray, clashes_needed: int, window: int) -> np.ndarray:
    """Whether each run escalated under another definition, from its daily clash series (days, R): at
    some day, at least ``clashes_needed`` clash-days within the last ``window`` days (today included).
    The definition feeds nothing back into the dynamics, so any threshold can be read off one run."""
    clash = np.asarray(clash, dtype=np.int64)
    counts = np.cumsum(clash, axis=0)
    lagged = np.zeros_like(counts)
    lagged[window:] = counts[:-window]
    return ((counts - lagged) >= clashes_needed).any(axis=0)
