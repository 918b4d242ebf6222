"""Sequential ABC (ABC-SMC / population Monte Carlo: Beaumont et al. 2009; Toni et al. 2009) for a batched
simulator, with distance scales adapted each generation (Prangle 2017), a kernel from the population's
covariance (Filippi et al. 2013), an optional model index (Toni et al. 2009) and a regression adjustment
(Beaumont et al. 2002). Each generation proposes a fixed number of particles at once, so the engine runs all
of them (x replicates) in one batch.

Everything happens in the priors' unit cube: a parameter's value is its prior's quantile function of a
coordinate u in [0, 1), so the prior is uniform on the cube whatever its form (uniform, log-uniform, whole
numbers).

The data: ``simulate`` returns, for every (particle, replicate), the value of each of S statistics, and
whether the run met the hard constraints. The record gives each statistic an interval [low, high] (a point
where low = high, open above where high = inf). A statistic's discrepancy is how far its value falls outside
the interval; the distance is the sum of discrepancies, each divided by its scale, and inf where a hard
constraint failed.

Adaptive scales (Prangle 2017): generation t's scale of statistic k is the median absolute deviation (x
1.4826) of k's values over all of generation t-1's runs, never below the statistic's ``floor``; generation 0
uses the floors. So every statistic speaks with about the same voice whatever its units, and the voices are
re-weighed as the population narrows. Generation t-1's accepted runs are re-measured with the new scales
before its tolerance quantile is taken.

Generation 0 draws from the prior (a Latin hypercube); generation t >= 1 draws from a mixture of kernels around
generation t-1's particles. A particle's weight is

    w = L * prior(m, u) / proposal(m, u),   L = share of its R replicates whose distance is <= eps_t,

(L is an unbiased estimate of the ABC likelihood at tolerance eps_t, so the weighted particles target the ABC
posterior; Beaumont et al. 2009 with R replicates per particle). The tolerance eps_t is fixed before generation t
is simulated: the ``quantile`` of generation t-1's accepted distances (weighted), never below ``floor``.

The kernel ("mvn"): coordinates whose weighted spread is still above ``redraw_above`` of the prior's are drawn
afresh from the prior (with ~90 coordinates, most uninformed, a kernel on every one makes the importance weights
vary by orders of magnitude; a coordinate drawn from its prior contributes a factor 1 to both prior and
proposal). The others move together: in logit space, a multivariate normal with ``kernel_scale`` x the
population's weighted covariance (Filippi et al. 2013's choice for the normal kernel is twice it), so
correlated parameters move along their ridge; logit space has no boundary, so no truncation is needed, and the
Jacobian u (1 - u) enters the density. "diagonal" is the earlier kernel (independent normals truncated to
[0, 1]), kept for comparison.

The model index (``models`` > 1): a particle carries a structure m as well as u, uniform prior over the m;
the kernel keeps a particle's m with probability ``model_stay`` and otherwise moves it to another uniformly.
The posterior probability of structure m is the weight its particles carry.

Random numbers: generation t's proposals come from a generator seeded by (seed, t); the simulator is given
(generation, particle index) and must key its own randomness on them (the engines do: seed and replicate index
per row). So the posterior depends on the seed only, not on batch size or threads.

Each generation is written atomically to disk; on resume every stored generation is checked (settings, size,
its scales and tolerance, and its proposals regenerated from the seed and the previous generation) before it is
reused."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, logit, logsumexp, ndtr
from scipy.stats import truncnorm

# simulate(theta (n, d) values, generation, particle indices (n,), models (n,) ints) ->
#     (values (n, R, S) statistics, ok (n, R) hard constraints met)
Simulator = Callable[[np.ndarray, int, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
KERNELS = ("mvn", "diagonal")
MOVED = ("spread_or_shift", "spread")
MAD_TO_SD = 1.4826  # the MAD of a normal sample times this estimates its standard deviation
EDGE = 1e-9  # coordinates are kept in [EDGE, 1 - EDGE] before logit


@dataclass(frozen=True)
class Settings:
    particles: int = 1000  # proposals per generation (all simulated in one batch)
    replicates: int = 4  # runs per particle
    generations: int = 6  # at most
    quantile: float = 0.5  # eps_t = this weighted quantile of generation t-1's accepted distances
    floor: float = 0.0  # eps never goes below this
    at_floor: int = 2  # generations run at the floor before stopping (the later ones propose better)
    min_acceptance: float = 0.01  # stop after a generation whose acceptance rate is below this
    min_ess: float = 50.0  # a generation with a smaller effective sample size is not used
    kernel_scale: float = 2.0  # kernel covariance = this x the weighted covariance (Filippi et al. 2013)
    redraw_above: float = 0.8  # a coordinate whose spread is above this share of the prior's is drawn afresh
    final_repeats: int = 2  # after a stop for low acceptance: this many more generations at the last tolerance
    pool_final: bool = True  # the posterior pools every generation at the last tolerance (weighted by ESS)
    seed: int = 20211107
    eps0: float = math.inf
    kernel: str = "mvn"  # "mvn" (population covariance, logit space) or "diagonal" (truncated normals)
    adapt_scales: bool = True  # distance scales from the last generation's spread (Prangle 2017)
    models: int = 1  # structures compared (a model index per particle); 1: no model choice
    model_stay: float = 0.7  # the model kernel's probability of keeping a particle's structure
    moved: str = "spread_or_shift"  # coordinates the kernel moves: narrowed or shifted ("spread": narrowed only)


@dataclass(frozen=True)
class Observed:
    """The record: each statistic's interval and the floor of its scale (the units it is counted in)."""

    low: np.ndarray  # (S,)
    high: np.ndarray  # (S,) inf = open above
    floors: np.ndarray  # (S,) > 0

    def __post_init__(self):
        for name in ("low", "high", "floors"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=float).reshape(-1))
        if not (len(self.low) == len(self.high) == len(self.floors)):
            raise ValueError("Observed: low, high and floors must have one entry per statistic")
        if np.any(self.floors <= 0) or np.any(self.low > self.high):
            raise ValueError("Observed: floors must be positive and low <= high")

    def discrepancy(self, values: np.ndarray) -> np.ndarray:
        """How far each value falls outside its interval (0 inside), signed: negative below, positive above."""
        return values - np.clip(values, self.low, self.high)

    def distance(self, values: np.ndarray, ok: np.ndarray, scales: np.ndarray) -> np.ndarray:
        d = np.sum(np.abs(self.discrepancy(values)) / scales, axis=-1)
        return np.where(ok & np.isfinite(d), d, np.inf)


def accepted(distances: np.ndarray, eps: float) -> np.ndarray:
    """Replicates within the tolerance; an infinite distance (a hard constraint broken) never is."""
    return (distances <= eps) & np.isfinite(distances)


@dataclass
class Generation:
    t: int
    eps: float
    u: np.ndarray  # (n, d) proposals
    likelihood: np.ndarray  # (n,) share of replicates within eps
    weight: np.ndarray  # (n,) normalised
    values: np.ndarray  # (n, R, S) statistics
    ok: np.ndarray  # (n, R) hard constraints met
    scales: np.ndarray  # (S,) the distance's scales this generation
    distances: np.ndarray  # (n, R) under those scales
    models: np.ndarray  # (n,) structure index (0 when there is one)
    kernel: dict | None = None  # how it was proposed (None for generation 0)
    seconds: float = 0.0  # wall time its simulation took (kept when it is stored and reused)
    log_evidence: float = -math.inf  # log of the mean unnormalised weight: log P(distance <= eps) under the prior

    @property
    def ess(self) -> float:
        w = self.weight
        return float(1.0 / np.sum(w**2)) if w.sum() > 0 else 0.0

    @property
    def acceptance(self) -> float:
        return float(np.mean(accepted(self.distances, self.eps)))

    def summary(self) -> dict[str, Any]:
        return {"generation": self.t, "tolerance": self.eps, "acceptance_rate": self.acceptance,
                "effective_sample_size": self.ess, "particles": len(self.u),
                "replicates": int(self.distances.shape[1]), "seconds": self.seconds,
                "particles_with_weight": int((self.weight > 0).sum()), "log_evidence": self.log_evidence,
                "informed_coordinates": None if self.kernel is None else int(np.sum(self.kernel["moved"]))}  # fmt: skip


@dataclass
class Result:
    generations: list[Generation] = field(default_factory=list)
    stopped: str = ""
    pool_from: int = -1  # index of the first generation pooled into the posterior (-1: the last one only)

    @property
    def final(self) -> Generation:
        return self.generations[-1]

    def _pooled_generations(self, pool: bool) -> list[Generation]:
        return self.generations[self.pool_from :] if pool and self.pool_from >= 0 else [self.final]

    def pooled(self, pool: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """The posterior sample (u, weights): the last generation, or with ``pool`` and a schedule that ended for
        low acceptance, the generation it ended on and the repeats at its tolerance: each an importance sample of
        the same ABC posterior, pooled with weights in proportion to their effective sample sizes."""
        last = self._pooled_generations(pool)
        total = sum(g.ess for g in last)
        u = np.concatenate([g.u for g in last])
        w = np.concatenate([g.weight * g.ess / total for g in last])
        return u, w / w.sum()

    def pooled_models(self, pool: bool = True) -> np.ndarray:
        return np.concatenate([g.models for g in self._pooled_generations(pool)])

    def pooled_ess(self, pool: bool = True) -> float:
        _, w = self.pooled(pool)
        return float(1 / np.sum(w**2))

    def model_probabilities(self, models: int, pool: bool = True) -> np.ndarray:
        """Posterior probability of each structure: the weight its particles carry."""
        _, w = self.pooled(pool)
        return np.bincount(self.pooled_models(pool), weights=w, minlength=models)[:models]

    def schedule(self) -> list[dict[str, Any]]:
        return [g.summary() for g in self.generations]


# ----------------------------------------------------------------------------- distance scales


def adapted_scales(prev: Generation | None, observed: Observed, settings: Settings) -> np.ndarray:
    """Generation t's scales: the MAD (x 1.4826) of each statistic over generation t-1's runs, at least its
    floor; the floors for generation 0 or without adaptation. Runs that broke a hard constraint are left out
    (they are never accepted, whatever the scales)."""
    if prev is None or not settings.adapt_scales:
        return observed.floors.copy()
    x = prev.values[prev.ok]  # (runs, S)
    if len(x) < 2:
        return prev.scales.copy()
    med = np.median(x, axis=0)
    mad = np.median(np.abs(x - med), axis=0) * MAD_TO_SD
    return np.maximum(mad, observed.floors)


# ----------------------------------------------------------------------------- the kernels


PRIOR_SD = math.sqrt(1 / 12)  # a coordinate's spread under the prior (uniform on [0, 1])


def weighted_cov(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    w = w / w.sum()
    mean = w @ x
    xc = x - mean
    return (xc * w[:, None]).T @ xc / max(1e-12, 1.0 - np.sum(w**2))


SHIFT_BINS, SHIFT_MIN = 10, 0.05  # a coordinate whose histogram moved this far from the prior's is informed


def informed_coordinates(u: np.ndarray, w: np.ndarray, redraw_above: float,
                         rule: str = "spread_or_shift") -> np.ndarray:  # fmt: skip
    """Coordinates the kernel moves (the others are drawn afresh from the prior): those whose weighted spread is at
    most ``redraw_above`` of the prior's, and those whose weighted histogram (10 bins of the cube) has moved from
    the prior's flat one by more than a prior sample of the population's effective size would (its 99th
    percentile, from a fixed draw) and by at least 5% of the mass: a record can shift a value without narrowing
    it. Both depend on the last generation only, so the weights stay exact."""
    mean = np.average(u, axis=0, weights=w)
    sd = np.sqrt(np.average((u - mean) ** 2, axis=0, weights=w))
    if redraw_above >= 1.0:  # no redraw: the kernel moves every coordinate
        return np.ones(u.shape[1], dtype=bool)
    narrowed = sd <= redraw_above * PRIOR_SD
    if rule == "spread":  # the first version's rule
        return narrowed
    ess = max(2, round(float(w.sum() ** 2 / np.sum(w**2))))
    bins = np.minimum((u * SHIFT_BINS).astype(int), SHIFT_BINS - 1)
    ww = w / w.sum()
    hist = np.stack([np.bincount(bins[:, k], weights=ww, minlength=SHIFT_BINS) for k in range(u.shape[1])])
    tv = 0.5 * np.abs(hist - 1 / SHIFT_BINS).sum(axis=1)
    null = np.random.default_rng(0).multinomial(ess, np.full(SHIFT_BINS, 1 / SHIFT_BINS), size=400) / ess
    cut = max(float(np.quantile(0.5 * np.abs(null - 1 / SHIFT_BINS).sum(axis=1), 0.99)), SHIFT_MIN)
    return narrowed | (tv > cut)


def make_kernel(prev: Generation, settings: Settings) -> dict:
    """The kernel that proposes generation t from generation t-1 (a function of generation t-1 only, so the
    weights stay exact): which coordinates it moves and how."""
    keep = prev.weight > 0
    u, w = prev.u[keep], prev.weight[keep]
    moved = informed_coordinates(u, w, settings.redraw_above, settings.moved)
    if settings.kernel == "diagonal":
        mean = np.average(u, axis=0, weights=w)
        sd = np.sqrt(np.average((u - mean) ** 2, axis=0, weights=w))
        sigma = np.where(moved, np.maximum(np.sqrt(settings.kernel_scale) * sd, 1e-3), np.inf)
        return {"kind": "diagonal", "moved": moved, "sigma": sigma}
    k = int(moved.sum())
    chol = np.zeros((k, k))
    if k:
        z = logit(np.clip(u[:, moved], EDGE, 1 - EDGE))
        cov = settings.kernel_scale * weighted_cov(z, w)
        cov = 0.5 * (cov + cov.T) + 1e-9 * np.eye(k) * max(1.0, float(np.trace(cov)) / k)
        chol = np.linalg.cholesky(cov)
    return {"kind": "mvn", "moved": moved, "chol": chol}


def perturb(centres: np.ndarray, sigma: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The diagonal kernel: one draw from the normal around each centre, truncated to [0, 1] per dimension (uniform
    on [0, 1] where sigma is inf)."""
    q = rng.random(centres.shape)
    x = q.copy()
    k = np.isfinite(sigma)
    if k.any():
        c, sg = centres[:, k], sigma[k]
        x[:, k] = truncnorm.ppf(q[:, k], -c / sg, (1.0 - c) / sg, loc=c, scale=sg)
    return np.clip(x, 0.0, np.nextafter(1.0, 0.0))


def _perturb_mvn(centres: np.ndarray, kernel: dict, rng: np.random.Generator) -> np.ndarray:
    n, d = centres.shape
    x = rng.random((n, d))  # uninformed coordinates: afresh from the prior
    moved = kernel["moved"]
    eps = rng.standard_normal((n, int(moved.sum())))
    if moved.any():
        z = logit(np.clip(centres[:, moved], EDGE, 1 - EDGE)) + eps @ kernel["chol"].T
        x[:, moved] = np.clip(expit(z), EDGE, 1 - EDGE)
    return np.clip(x, 0.0, np.nextafter(1.0, 0.0))


def _log_mix_diagonal(u, centres, lw, sigma, block=2048):
    k = np.isfinite(sigma)
    u, centres, sigma = u[:, k], centres[:, k], sigma[k]
    c = centres / sigma
    log_mass = np.log(np.maximum(ndtr((1.0 - centres) / sigma) - ndtr(-centres / sigma), 1e-300)).sum(axis=1)
    const = -np.log(sigma).sum() - 0.5 * len(sigma) * math.log(2 * math.pi)
    return _log_mix(u / sigma, c, lw - log_mass, const, block)


def _log_mix(a: np.ndarray, c: np.ndarray, lw: np.ndarray, const: float, block: int = 2048) -> np.ndarray:
    """log sum_j exp(lw_j - |a_i - c_j|^2 / 2) + const, in blocks of rows."""
    c2 = np.sum(c**2, axis=1)
    out = np.empty(len(a))
    for lo in range(0, len(a), block):
        ai = a[lo : lo + block]
        sq = np.sum(ai**2, axis=1)[:, None] + c2[None, :] - 2.0 * ai @ c.T
        out[lo : lo + block] = logsumexp(lw[None, :] - 0.5 * np.maximum(sq, 0.0), axis=1) + const
    return out


def log_proposal(u: np.ndarray, models: np.ndarray, prev: Generation, kernel: dict, settings: Settings) -> np.ndarray:
    """log of the proposal density at (m_i, u_i): sum_j w_j K_m(m_i | m_j) K_u(u_i | u_j), in the unit cube
    (coordinates drawn from the prior contribute density 1)."""
    keep = prev.weight > 0
    centres, cw, cm = prev.u[keep], prev.weight[keep] / prev.weight[keep].sum(), prev.models[keep]
    moved = kernel["moved"]
    out = np.full(len(u), -np.inf)
    for m in np.unique(models):
        rows = models == m
        lk = _log_model_kernel(m, cm, settings)
        ok = np.isfinite(lk)
        lw = np.log(cw[ok]) + lk[ok]
        if not ok.any():
            continue
        if not moved.any():
            out[rows] = logsumexp(lw)
            continue
        if kernel["kind"] == "diagonal":
            out[rows] = _log_mix_diagonal(u[rows], centres[ok], lw, kernel["sigma"])
            continue
        ui = np.clip(u[rows][:, moved], EDGE, 1 - EDGE)
        chol = kernel["chol"]
        # whitened logit coordinates: the normal's density is exp(-|a - c|^2 / 2) / ((2 pi)^(k/2) |L|)
        from scipy.linalg import solve_triangular

        a = solve_triangular(chol, logit(ui).T, lower=True).T
        c = solve_triangular(chol, logit(np.clip(centres[ok][:, moved], EDGE, 1 - EDGE)).T, lower=True).T
        const = -np.log(np.diag(chol)).sum() - 0.5 * int(moved.sum()) * math.log(2 * math.pi)
        jac = -np.sum(np.log(ui * (1 - ui)), axis=1)  # dz/du = 1 / (u (1 - u))
        out[rows] = _log_mix(a, c, lw, const) + jac
    return out


def _log_model_kernel(m: int, from_models: np.ndarray, settings: Settings) -> np.ndarray:
    if settings.models == 1:
        return np.zeros(len(from_models))
    move = (1.0 - settings.model_stay) / (settings.models - 1)
    return np.log(np.where(from_models == m, settings.model_stay, move))


def weights(u: np.ndarray, models: np.ndarray, likelihood: np.ndarray, prev: Generation | None,
            kernel: dict | None, settings: Settings) -> tuple[np.ndarray, float]:  # fmt: skip
    """Importance weights: likelihood x prior / proposal, normalised (the prior is 1 on the cube, 1 / models over
    the structures); and the log of their mean before normalising (the ABC evidence at this tolerance)."""
    n = len(likelihood)
    if prev is None:
        w = likelihood.astype(float)
        return (w / w.sum() if w.sum() > 0 else w), (math.log(w.mean()) if w.sum() > 0 else -math.inf)
    lp = log_proposal(u, models, prev, kernel, settings) + math.log(settings.models)
    pos = likelihood > 0
    logw = np.where(pos, np.log(np.where(pos, likelihood, 1.0)) - lp, -np.inf)
    top = logw[pos].max(initial=-np.inf)
    if not np.isfinite(top):
        return np.zeros(n), -math.inf
    w = np.exp(logw - top)
    s = w.sum()
    return w / s, float(top + math.log(s / n))


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cw = np.cumsum(w)
    if cw[-1] <= 0:
        return math.inf
    return float(x[min(np.searchsorted(cw, q * cw[-1]), len(x) - 1)])


def next_tolerance(prev: Generation, observed: Observed, scales: np.ndarray, settings: Settings) -> float:
    """The ``quantile`` of generation t-1's accepted runs' distances re-measured with generation t's scales, each
    particle's weight shared among its accepted replicates; never below the floor. Distances on counts take few
    values, so a plain quantile can sit on a tie that holds most of the mass and stop the schedule: the tolerance
    is the largest distance whose share (the runs at or below it) is at most ``quantile``, or the smallest distance
    when even that one holds more."""
    ok = accepted(prev.distances, prev.eps)
    per = np.where(prev.likelihood > 0, prev.weight / np.maximum(ok.sum(axis=1), 1), 0.0)
    w = np.broadcast_to(per[:, None], ok.shape)[ok]
    d = observed.distance(prev.values, prev.ok, scales)[ok]
    keep = w > 0
    d, w = d[keep], w[keep]
    if not len(d):
        return max(settings.floor, prev.eps)
    values, inverse = np.unique(d, return_inverse=True)
    share = np.cumsum(np.bincount(inverse, weights=w)) / w.sum()
    below = np.nonzero(share <= settings.quantile + 1e-12)[0]
    eps = float(values[below[-1]] if len(below) else values[0])
    return max(settings.floor, eps)


# ----------------------------------------------------------------------------- the run


def propose(t: int, prev: Generation | None, d: int, settings: Settings) -> tuple[np.ndarray, np.ndarray, dict | None]:
    """Generation t's proposals (n, d), their structures (n,) and the kernel, from (seed, t) and generation t-1
    only."""
    rng = np.random.default_rng([settings.seed, t])
    n = settings.particles
    if prev is None:
        from scipy.stats import qmc

        u = qmc.LatinHypercube(d=d, seed=rng).random(n)
        models = (np.arange(n) * settings.models // n).astype(np.int64) if settings.models > 1 else np.zeros(n, int)
        if settings.models > 1:
            models = rng.permutation(models)
        return u, models, None
    kernel = make_kernel(prev, settings)
    positions = (rng.random() + np.arange(n)) / n  # systematic resampling of the ancestors
    idx = np.minimum(np.searchsorted(np.cumsum(prev.weight), positions), len(prev.weight) - 1)
    models = prev.models[idx].copy()
    if settings.models > 1:
        move = rng.random(n) >= settings.model_stay
        shift = rng.integers(1, settings.models, n)
        models = np.where(move, (models + shift) % settings.models, models)
    if kernel["kind"] == "diagonal":
        u = perturb(prev.u[idx], kernel["sigma"], rng)
    else:
        u = _perturb_mvn(prev.u[idx], kernel, rng)
    return u, models, kernel


STOPPING = ("generations", "min_acceptance", "min_ess", "at_floor", "final_repeats", "pool_final")


def _identity(settings: Settings) -> dict[str, Any]:
    """The settings a generation's content depends on (not the stopping rules: a finished run can be
    continued with more generations)."""
    return {k: v for k, v in asdict(settings).items() if k not in STOPPING}


def _path(store: Path, t: int) -> Path:
    return Path(store) / f"generation_{t:02d}.parquet"


def _save(store: Path, g: Generation, names: Sequence[str], settings: Settings, meta: dict) -> None:
    from sim.run import provenance
    from sim.run.storage import atomic_write_parquet

    _, R, S = g.values.shape
    cols = {f"u.{n_}": g.u[:, k] for k, n_ in enumerate(names)}
    cols.update({f"x.{k}.{r}": g.values[:, r, k] for k in range(S) for r in range(R)})
    cols.update({f"ok.{r}": g.ok[:, r] for r in range(R)})
    df = pd.DataFrame({**cols, "model": g.models, "likelihood": g.likelihood, "weight": g.weight})
    info = {"settings": _identity(settings), "names": list(names), "eps": g.eps, "scales": g.scales.tolist(),
            "seconds": g.seconds, "log_evidence": g.log_evidence, "replicates": R, "n_statistics": S,
            **meta, "content": _content(df), "versions": provenance.here()}  # fmt: skip; self-describing
    atomic_write_parquet(df, _path(store, g.t), info)


def _content(df: pd.DataFrame) -> str:
    """SHA-256 of a generation's values, column by column: a stored generation that no longer matches is not used."""
    import hashlib

    h = hashlib.sha256()
    for c in df.columns:
        h.update(c.encode())
        h.update(np.ascontiguousarray(df[c].to_numpy()).view(np.uint8))
    return h.hexdigest()


def _load(store: Path, t: int, names: Sequence[str], settings: Settings, meta: dict, prev: Generation | None,
          eps: float, scales: np.ndarray, observed: Observed) -> Generation | None:  # fmt: skip
    """Generation t from disk if it is whole and was made by these settings from this previous generation;
    None (recompute) otherwise."""
    import pyarrow.parquet as pq

    path = _path(store, t)
    if not path.exists():
        return None
    try:
        table = pq.read_table(path)
        info = json.loads(table.schema.metadata[b"militia_sim"])
        df = table.to_pandas()
    except (OSError, ValueError, KeyError, TypeError):
        return None
    same = json.loads(json.dumps(_identity(settings), default=str))
    if info.get("settings") != same or info.get("names") != list(names):
        return None
    if any(info.get(k) != v for k, v in json.loads(json.dumps(meta, default=str)).items()):
        return None
    if len(df) != settings.particles or info.get("eps") != eps or info.get("scales") != scales.tolist():
        return None
    from sim.run import provenance

    if info.get("content") != _content(df) or info.get("versions") != provenance.here():
        return None  # altered since it was stored, or made with other library versions: computed again
    u = np.ascontiguousarray(df[[f"u.{n}" for n in names]].to_numpy())  # C order: the same sums as in memory
    expected, models, kernel = propose(t, prev, len(names), settings)
    if not np.array_equal(u, expected) or not np.array_equal(df["model"].to_numpy(), models):
        return None  # not this seed's proposals from this previous generation
    R, S = int(info["replicates"]), int(info["n_statistics"])
    values = np.stack([np.stack([df[f"x.{k}.{r}"].to_numpy() for k in range(S)], axis=-1) for r in range(R)], axis=1)
    ok = np.stack([df[f"ok.{r}"].to_numpy() for r in range(R)], axis=1).astype(bool)
    return Generation(t, float(info["eps"]), u, df["likelihood"].to_numpy().copy(), df["weight"].to_numpy().copy(),
                      np.ascontiguousarray(values), ok, scales, observed.distance(values, ok, scales), models, kernel,
                      float(info.get("seconds", 0.0)), float(info.get("log_evidence", -math.inf)))  # fmt: skip


def run(names: Sequence[str], to_values: Callable[[np.ndarray], np.ndarray], simulate: Simulator,
        observed: Observed, settings: Settings, store: Path | None = None, meta: dict | None = None,
        log: Callable[[str], None] | None = None) -> Result:  # fmt: skip
    """ABC-SMC over the parameters ``names``. ``to_values`` maps unit-cube points (n, d) to parameter values
    (the priors' quantile functions); ``simulate`` returns the statistics (n, R, S) and the hard constraints
    (n, R); ``observed`` holds the record's intervals and the scales' floors. With ``store``, each generation is
    written there and a rerun reuses every stored generation that checks out (``meta``: more things a stored
    generation must have been made with, e.g. the statistics' names)."""
    if settings.kernel not in KERNELS:
        raise ValueError(f"kernel={settings.kernel!r}; allowed: {', '.join(KERNELS)}")
    if settings.moved not in MOVED:
        raise ValueError(f"moved={settings.moved!r}; allowed: {', '.join(MOVED)}")
    if settings.models < 1 or not 0 <= settings.model_stay < 1 or (settings.models == 1 and settings.model_stay == 0):
        raise ValueError("models must be at least 1 and model_stay in [0, 1)")
    meta = dict(meta or {})
    res = Result()
    prev: Generation | None = None
    d = len(names)

    def step(t: int, eps: float, scales: np.ndarray) -> Generation:
        g = _load(store, t, names, settings, meta, prev, eps, scales, observed) if store is not None else None
        if g is None:
            import time

            t0 = time.perf_counter()
            u, models, kernel = propose(t, prev, d, settings)
            idx = np.arange(settings.particles)
            values, ok = simulate(to_values(u), t, idx, models)
            values, ok = np.asarray(values, dtype=float), np.asarray(ok, dtype=bool)
            if values.shape[:2] != ok.shape or values.shape[2] != len(observed.low):
                raise ValueError(f"simulate returned values {values.shape} and ok {ok.shape}; expected (n, R, "
                                 f"{len(observed.low)}) and (n, R)")  # fmt: skip
            dist = observed.distance(values, ok, scales)
            lik = np.mean(accepted(dist, eps), axis=1)
            w, log_z = weights(u, models, lik, prev, kernel, settings)
            g = Generation(t, eps, u, lik, w, values, ok, scales, dist, models, kernel, time.perf_counter() - t0,
                           log_z)  # fmt: skip
            if store is not None:
                _save(store, g, names, settings, meta)
        if log:
            s = g.summary()
            log(f"generation {t}: tolerance {s['tolerance']:.4g}, acceptance {s['acceptance_rate']:.3f}, "
                f"ESS {s['effective_sample_size']:.0f}")  # fmt: skip
        return g

    low_acceptance = False
    t = 0
    for t in range(settings.generations):
        if sum(g.eps <= settings.floor for g in res.generations) >= settings.at_floor:
            res.stopped = f"{settings.at_floor} generation(s) at the tolerance's floor {settings.floor:g}"
            break
        scales = adapted_scales(prev, observed, settings)
        eps = settings.eps0 if prev is None else next_tolerance(prev, observed, scales, settings)
        g = step(t, eps, scales)
        if g.ess < settings.min_ess and prev is not None:
            res.stopped = f"generation {t}'s effective sample size {g.ess:.0f} < {settings.min_ess:g}: kept {t - 1}"
            low_acceptance = True
            break
        res.generations.append(g)
        prev = g
        if g.acceptance < settings.min_acceptance:
            res.stopped = f"acceptance {g.acceptance:.4f} < {settings.min_acceptance:g}"
            low_acceptance = True
            break
    else:
        res.stopped = f"{settings.generations} generations"
    if not res.generations:
        raise ValueError("ABC-SMC: generation 0 accepted nothing; more particles or replicates needed")
    if low_acceptance and prev is not None and prev.t > 0:
        # the schedule ends: more generations at the last tolerance and scales (pooled into the posterior)
        t_next = t + 1  # after the last generation tried (a discarded one keeps its number)
        res.pool_from = len(res.generations) - 1 if settings.pool_final else -1
        for k in range(settings.final_repeats):
            g = step(t_next + k, res.final.eps, res.final.scales)
            res.generations.append(g)
            prev = g
        if settings.final_repeats:
            res.stopped += f"; then {settings.final_repeats} more at tolerance {res.final.eps:.4g}"
    return res


def posterior_table(res: Result, names: Sequence[str], to_values: Callable[[np.ndarray], np.ndarray],
                    pool: bool = True) -> pd.DataFrame:  # fmt: skip
    """The posterior's particles with positive weight (Result.pooled): parameter values, ``weight`` and, with
    several structures, ``model``."""
    u, w = res.pooled(pool)
    keep = w > 0
    values = to_values(u[keep])
    table = pd.DataFrame(values, columns=list(names))
    if res.final.models.max(initial=0) > 0 or len(np.unique(res.pooled_models(pool))) > 1:
        table["model"] = res.pooled_models(pool)[keep]
    return table.assign(weight=w[keep] / w[keep].sum())


# ----------------------------------------------------------------------------- regression adjustment


def regression_adjusted(res: Result, observed: Observed, pool: bool = True,
                        coordinates: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Beaumont et al. (2002)'s local-linear adjustment of the pooled posterior, for an interval-valued record:
    each accepted run's parameters (logit of the informed coordinates) are regressed on its signed
    discrepancies (how far each statistic fell outside the record's interval, in scale units), with
    Epanechnikov weights in the run's distance over the tolerance times its particle's weight; each run's
    parameters are then moved by -beta x its discrepancies, to where the regression puts a run that met the
    record exactly. Returns (u of the accepted runs, adjusted; their weights). Coordinates not in
    ``coordinates`` (default: those the final kernel moved) are left as they are."""
    gens = res._pooled_generations(pool)
    total = sum(g.ess for g in gens)
    us, es, ws = [], [], []
    for g in gens:
        ok = accepted(g.distances, g.eps)
        if not ok.any():
            continue
        eps = g.eps if math.isfinite(g.eps) else float(np.max(g.distances[ok]))
        kern = np.where(ok, 1.0 - (g.distances / max(eps, 1e-12)) ** 2, 0.0) if eps > 0 else ok.astype(float)
        per = g.weight * g.ess / total / np.maximum(g.likelihood * g.distances.shape[1], 1)
        wr = (kern * per[:, None])[ok]
        i, _ = np.nonzero(ok)
        us.append(g.u[i])
        es.append((observed.discrepancy(g.values) / g.scales)[ok])
        ws.append(wr)
    u, e, w = np.concatenate(us), np.concatenate(es), np.concatenate(ws)
    keep = w > 0
    u, e, w = u[keep], e[keep], w[keep] / w[keep].sum()
    if coordinates is None:
        coordinates = res.final.kernel["moved"] if res.final.kernel is not None else np.ones(u.shape[1], bool)
    cols = np.nonzero(coordinates)[0]
    used = np.nonzero(np.any(e != 0, axis=0))[0]  # statistics that vary among the accepted runs
    if not len(cols) or not len(used):
        return u, w
    z = logit(np.clip(u[:, cols], EDGE, 1 - EDGE))
    X = np.column_stack([np.ones(len(e)), e[:, used]])
    sw = np.sqrt(w)[:, None]
    beta, *_ = np.linalg.lstsq(X * sw, z * sw, rcond=None)
    z_adj = z - e[:, used] @ beta[1:]
    out = u.copy()
    out[:, cols] = np.clip(expit(z_adj), 0.0, np.nextafter(1.0, 0.0))
    return out, w
