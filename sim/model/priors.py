"""Priors over the uncertain parameters, built from the judged ranges in seeds/evidence.yaml.
The one place priors live: the declaration check, the ODD's tables, sampling and calibration read it."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml

from sim.model.params import MILITIA_FIELDS, MILITIAS, PARAM_BY_NAME, PARAMS, params_in_use
from sim.model.structures import DEFAULT, Structure
from sim.paths import SEEDS_DIR

EVIDENCE_PATH = SEEDS_DIR / "evidence.yaml"
DISTRIBUTIONS = ("uniform", "loguniform", "integer")
BASES = ("judged", "derived", "assumed")


@dataclass(frozen=True)
class Prior:
    """A prior over one parameter (``patron_influence``) or militia field (``militias.kss.loyalty``).

    ``low``/``high`` are the evidence's judged range; ``basis`` says whether that range is stated in
    the evidence (judged), computed from a stated judgement (derived, see ``derivation``) or our own
    assumption (assumed). ``point`` is a point judgement where the evidence gives one."""

    name: str
    dist: str
    low: float
    high: float
    basis: str
    point: float | None = None
    derivation: str = ""

    def __post_init__(self) -> None:
        if self.dist not in DISTRIBUTIONS:
            raise ValueError(f"{self.name}: prior {self.dist!r} is not one of {', '.join(DISTRIBUTIONS)}")
        if self.basis not in BASES:
            raise ValueError(f"{self.name}: basis {self.basis!r} is not one of {', '.join(BASES)}")
        if not self.low < self.high or (self.dist == "loguniform" and self.low <= 0):
            raise ValueError(f"{self.name}: judged range [{self.low}, {self.high}] is empty or not positive")
        if self.point is not None and not self.low <= self.point <= self.high:
            raise ValueError(f"{self.name}: point {self.point} lies outside its judged range")

    @property
    def centre(self) -> float:
        """The value the evidence points to: its point judgement, else the middle of the range
        (geometric for a log-uniform prior, rounded half up for a whole number)."""
        if self.point is not None:
            return self.point
        if self.dist == "loguniform":
            return math.sqrt(self.low * self.high)
        mid = (self.low + self.high) / 2
        return math.floor(mid + 0.5) if self.dist == "integer" else mid

    def ppf(self, u: Any) -> np.ndarray:
        """The prior's quantile function: maps uniform [0, 1) draws (Latin hypercube, Sobol) to values."""
        u = np.asarray(u, dtype=float)
        if self.dist == "uniform":
            return self.low + u * (self.high - self.low)
        if self.dist == "loguniform":
            # exp(log) can land an ulp outside the range (0.015 -> 0.014999...): keep the draw inside it
            x = np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
            return np.clip(x, self.low, self.high)
        n = int(self.high) - int(self.low) + 1  # whole numbers low..high, equally likely
        return int(self.low) + np.minimum(np.floor(u * n), n - 1)

    def logpdf(self, x: Any) -> np.ndarray:
        """Log density (log mass for whole numbers); -inf outside the judged range."""
        x = np.asarray(x, dtype=float)
        inside = (x >= self.low) & (x <= self.high)
        if self.dist == "uniform":
            val = np.full(x.shape, -math.log(self.high - self.low))
        elif self.dist == "loguniform":
            with np.errstate(divide="ignore", invalid="ignore"):
                val = -np.log(x) - math.log(math.log(self.high / self.low))
        else:
            inside &= x == np.round(x)
            val = np.full(x.shape, -math.log(int(self.high) - int(self.low) + 1))
        return np.where(inside, val, -np.inf)

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high

    def describe(self) -> str:
        if self.dist == "integer":
            return f"whole numbers {int(self.low)}-{int(self.high)}"
        return f"{self.dist.replace('loguniform', 'log-uniform')} [{self.low:g}, {self.high:g}]"


@dataclass(frozen=True)
class Judgement:
    """What evidence.yaml says about one declared value: its judged range (if any), and its prior."""

    name: str
    default: float
    judged: tuple[float, float] | None
    prior: Prior | None


def militia_factor(key: str, field: str) -> str:
    return f"militias.{key}.{field}"


def _load() -> dict[str, Any]:
    with open(EVIDENCE_PATH, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _prior(name: str, entry: dict[str, Any], where: str) -> Prior | None:
    if "prior" not in entry:
        return None
    try:
        low, high = (float(v) for v in entry["judged"])
        point = entry.get("point")
        derivation = " ".join(str(entry.get("derivation", "")).split())
        point = None if point is None else float(point)
        return Prior(name, entry["prior"], low, high, entry["basis"], point, derivation)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: a prior needs judged: [low, high], prior and basis ({exc})") from None


@functools.cache
def judgements() -> dict[str, Judgement]:
    """Every declared parameter and militia field, with what the evidence judges of it."""
    doc = _load()
    out: dict[str, Judgement] = {}
    for p in PARAMS:
        entry = doc["parameters"].get(p.name)
        if entry is None:
            raise ValueError(f"{EVIDENCE_PATH.name}: parameter {p.name} has no evidence entry")
        judged = tuple(float(v) for v in entry["judged"]) if "judged" in entry else None
        prior = _prior(p.name, entry, f"{EVIDENCE_PATH.name}: parameters.{p.name}")
        if (prior is None) != (p.role not in ("uncertain", "alternative")):
            has = "has no" if prior is None else "has a"
            raise ValueError(f"{p.name}: role {p.role!r} but the evidence {has} prior")
        out[p.name] = Judgement(p.name, p.default, judged, prior)
    for m in MILITIAS:
        for f in MILITIA_FIELDS:
            name = militia_factor(m.key, f.name)
            entry = doc["militias"].get(m.key, {}).get(f.name)
            if entry is None:
                raise ValueError(f"{EVIDENCE_PATH.name}: {name} has no evidence entry")
            prior = _prior(name, entry, f"{EVIDENCE_PATH.name}: {name}")
            if prior is None:
                raise ValueError(f"{EVIDENCE_PATH.name}: {name} needs a prior")
            out[name] = Judgement(name, getattr(m, f.name), (prior.low, prior.high), prior)
    return out


@functools.cache
def priors(structure: Structure | None = None) -> dict[str, Prior]:
    """The prior of every uncertain value a structure uses (default: today's), in declaration order: its
    parameters in use and every militia field. The parameters of alternatives not chosen are left out, so that
    draws, designs and calibrations at the default structure are what they were before the alternatives."""
    used = {p.name for p in params_in_use(structure or DEFAULT)}
    return {name: j.prior for name, j in judgements().items()
            if j.prior is not None and (name in used or name not in PARAM_BY_NAME)}  # fmt: skip


@functools.cache
def all_priors() -> dict[str, Prior]:
    """The prior of every uncertain parameter (of every alternative too) and militia field, in declaration order."""
    return {name: j.prior for name, j in judgements().items() if j.prior is not None}


# Defaults that depart from what their evidence points to, each with the reason. A check keeps this
# list honest: every default off its evidence's centre must be here, and nothing else may be.
DEPARTURES: dict[str, str] = {
    "cells_per_militia": (
        "A resolution, not a belief: 30 cells already give smooth active shares, and P(escalation) and the "
        "mean outcomes at 30, 50 and 100 cells agree within Monte Carlo error (tests/test_patterns.py, "
        "test_results_do_not_depend_on_the_number_of_cells), while 50-200 cells cost 2-7 times the time."
    ),
}


def departures() -> Iterator[tuple[Judgement, str, str]]:
    """(judgement, how it departs, reason) for each default that is not its evidence's centre."""
    for name, j in judgements().items():
        if j.judged is None:
            continue
        low, high = j.judged
        if not low <= j.default <= high:
            how = "outside the judged range"
        elif j.prior is not None and not math.isclose(j.default, j.prior.centre, rel_tol=0.01):  # 2-3 digits
            how = f"inside the range, off its centre {j.prior.centre:g}"
        else:
            continue
        yield j, how, DEPARTURES.get(name, "")


def check_declaration() -> list[str]:
    """Problems between the declaration and its evidence (empty when consistent)."""
    problems = []
    for j, how, reason in departures():
        if not reason:
            problems.append(f"{j.name}={j.default:g} is {how} {list(j.judged)} and has no reason in DEPARTURES")
    flagged = {j.name for j, _, _ in departures()}
    for name in DEPARTURES:
        if name not in flagged:
            problems.append(f"DEPARTURES lists {name}, whose default follows its evidence: remove the entry")
    for name, prior in all_priors().items():
        spec = PARAM_BY_NAME.get(name)
        if spec is not None and not (spec.low <= prior.low and prior.high <= spec.high):
            problems.append(f"{name}: prior {prior.describe()} reaches outside the declared range")
    return problems


def sample(n: int, seed: int, names: list[str] | None = None,
           structure: Structure | None = None) -> list[dict[str, float]]:  # fmt: skip
    """``n`` Latin-hypercube draws from the priors of ``names`` (default: every uncertain value ``structure``
    uses, by default today's), as {name: value}; the same (n, seed, names) always gives the same draws."""
    from scipy.stats import qmc

    table = all_priors()
    names = list(priors(structure)) if names is None else list(names)
    u = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(seed)).random(n)
    columns = {name: table[name].ppf(u[:, i]) for i, name in enumerate(names)}
    return [{name: _plain(columns[name][k], table[name]) for name in names} for k in range(n)]


def _plain(x: Any, prior: Prior) -> float | int:
    return int(x) if prior.dist == "integer" else float(x)


def split_factors(draw: dict[str, float]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """A draw as (parameter overrides, militia overrides), the form make_params/make_militias take."""
    params: dict[str, float] = {}
    militias: dict[str, dict[str, float]] = {}
    for name, value in draw.items():
        if name.startswith("militias."):
            _, key, field = name.split(".")
            militias.setdefault(key, {})[field] = value
        else:
            params[name] = value
    return params, militias
