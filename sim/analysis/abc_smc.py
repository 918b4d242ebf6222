"""Sequential ABC (ABC-SMC / population Monte Carlo, Beaumont et al. 2009; Toni et al. 2009) for a batched
simulator: each generation proposes a fixed number of particles at once, so the engine runs all of them
(x replicates) in one vectorised batch.

Everything happens in the priors' unit cube: a parameter's value is its prior's quantile function of a
coordinate u in [0, 1), so the prior is uniform on the cube whatever its form (uniform, log-uniform, whole
numbers) and the perturbation kernel (a product of normals truncated to [0, 1], scale from the previous
generation's weighted spread) never leaves the priors' supports.

Generation 0 draws from the prior; generation t >= 1 draws from the mixture of kernels around generation
t-1's particles. A particle's weight is

    w = L * prior(u) / proposal(u),   L = share of its R replicates whose distance is <= eps_t,

(L is an unbiased estimate of the ABC likelihood at tolerance eps_t, so the weighted particles target the
ABC posterior; Beaumont et al. 2009 with R replicates per particle). The tolerance eps_t is fixed before
generation t is simulated: the ``quantile`` of generation t-1's accepted distances (weighted), never below
``floor``. Generation 0's tolerance is ``eps0`` (default: infinity, i.e. only the hard constraints, which a
distance expresses as inf).

Random numbers: generation t's proposals come from a generator seeded by (seed, t); the simulator is given
(generation, particle index) and must key its own randomness on them (the vector engine does: seed and
replicate index per row). So the posterior depends on the seed only, not on batch size or threads.

Each generation is written atomically to disk; on resume every stored generation is checked (settings,
size, and its proposals regenerated from the seed and the previous generation) before it is reused."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp, ndtr
from scipy.stats import truncnorm

# simulate(theta (n, d) values, generation, particle indices (n,)) -> distances (n, R); inf = a hard
# constraint failed
Simulator = Callable[[np.ndarray, int, np.ndarray], np.ndarray]


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
    kernel_scale: float = 2.0  # kernel variance = this x the weighted variance (Beaumont et al. 2009)
    redraw_above: float = 0.8  # a coordinate whose spread is above this share of the prior's is drawn afresh
    final_repeats: int = 2  # after a stop for low acceptance: this many more generations at the last tolerance
    pool_final: bool = True  # the posterior pools every generation at the last tolerance (weighted by ESS)
    seed: int = 20211107
    eps0: float = math.inf


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
    distances: np.ndarray  # (n, R)
    sigma: np.ndarray | None = None  # (d,) kernel scale that proposed it (None for generation 0)
    seconds: float = 0.0  # wall time its simulation took (kept when it is stored and reused)

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
                "particles_with_weight": int((self.weight > 0).sum())}  # fmt: skip


@dataclass
class Result:
    generations: list[Generation] = field(default_factory=list)
    stopped: str = ""
    pool_from: int = -1  # index of the first generation pooled into the posterior (-1: the last one only)

    @property
    def final(self) -> Generation:
        return self.generations[-1]

    def pooled(self, pool: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """The posterior sample (u, weights): the last generation, or with ``pool`` and a schedule that ended for
        low acceptance, the generation it ended on and the repeats at its tolerance: each an importance sample of
        the same ABC posterior, pooled with weights in proportion to their effective sample sizes."""
        last = self.generations[self.pool_from :] if pool and self.pool_from >= 0 else [self.final]
        total = sum(g.ess for g in last)
        u = np.concatenate([g.u for g in last])
        w = np.concatenate([g.weight * g.ess / total for g in last])
        return u, w / w.sum()

    def pooled_ess(self, pool: bool = True) -> float:
        _, w = self.pooled(pool)
        return float(1 / np.sum(w**2))

    def schedule(self) -> list[dict[str, Any]]:
        return [g.summary() for g in self.generations]


# ----------------------------------------------------------------------------- the kernel


PRIOR_SD = math.sqrt(1 / 12)  # a coordinate's spread under the prior (uniform on [0, 1])


def kernel_sigma(u: np.ndarray, w: np.ndarray, scale: float, redraw_above: float = math.inf) -> np.ndarray:
    """Per-dimension kernel scale: sqrt(scale x weighted variance), at least 1e-3 of the cube; inf (draw the
    coordinate afresh from its prior) where the spread is still above ``redraw_above`` x the prior's.

    Why redraw: with ~90 coordinates, most of them uninformed, a product of truncated normals over every
    coordinate makes the importance weights prior / proposal vary by orders of magnitude (the effective
    sample size collapses). A coordinate drawn from its prior contributes a factor 1 to both, so only the
    coordinates the record narrows enter the weights. The choice depends on the last generation only, so the
    weights stay exact."""
    mean = np.average(u, axis=0, weights=w)
    var = np.average((u - mean) ** 2, axis=0, weights=w)
    sd = np.sqrt(var)
    return np.where(sd > redraw_above * PRIOR_SD, np.inf, np.maximum(np.sqrt(scale) * sd, 1e-3))


def perturb(centres: np.ndarray, sigma: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw from the normal around each centre, truncated to [0, 1] per dimension (uniform on [0, 1]
    where sigma is inf)."""
    q = rng.random(centres.shape)
    x = q.copy()
    k = np.isfinite(sigma)
    if k.any():
        c, sg = centres[:, k], sigma[k]
        x[:, k] = truncnorm.ppf(q[:, k], -c / sg, (1.0 - c) / sg, loc=c, scale=sg)
    return np.clip(x, 0.0, np.nextafter(1.0, 0.0))


def log_proposal(u: np.ndarray, centres: np.ndarray, weights: np.ndarray, sigma: np.ndarray,
                 block: int = 2048) -> np.ndarray:  # fmt: skip
    """log of sum_j weights_j K(u_i | centres_j) for the truncated-normal product kernel (coordinates with
    sigma inf are drawn from the prior: density 1)."""
    k = np.isfinite(sigma)
    u, centres, sigma = u[:, k], centres[:, k], sigma[k]
    keep = weights > 0
    c, lw = centres[keep] / sigma, np.log(weights[keep] / weights[keep].sum())
    cz = centres[keep]
    # per centre: the log of its truncation mass and the normal constants, summed over dimensions
    log_mass = np.log(np.maximum(ndtr((1.0 - cz) / sigma) - ndtr(-cz / sigma), 1e-300)).sum(axis=1)
    const = -np.log(sigma).sum() - 0.5 * len(sigma) * math.log(2 * math.pi)
    c2 = np.sum(c**2, axis=1)
    out = np.empty(len(u))
    a = u / sigma
    for lo in range(0, len(u), block):
        ai = a[lo : lo + block]
        sq = np.sum(ai**2, axis=1)[:, None] + c2[None, :] - 2.0 * ai @ c.T
        out[lo : lo + block] = logsumexp(lw[None, :] - 0.5 * np.maximum(sq, 0.0) - log_mass[None, :], axis=1) + const
    return out


def weights(u: np.ndarray, likelihood: np.ndarray, prev: Generation | None, sigma: np.ndarray | None) -> np.ndarray:
    """Importance weights: likelihood x prior / proposal, normalised (the prior is 1 on the cube)."""
    if prev is None:
        w = likelihood.astype(float)
    else:
        lp = log_proposal(u, prev.u, prev.weight, sigma)
        w = np.where(likelihood > 0, likelihood * np.exp(-(lp - lp[likelihood > 0].min(initial=0.0))), 0.0)
    s = w.sum()
    return w / s if s > 0 else w


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cw = np.cumsum(w)
    if cw[-1] <= 0:
        return math.inf
    return float(x[min(np.searchsorted(cw, q * cw[-1]), len(x) - 1)])


def next_tolerance(prev: Generation, settings: Settings) -> float:
    """The ``quantile`` of generation t-1's accepted distances, each particle's weight shared among its
    accepted replicates; never below the floor. Distances on counts take few values, so the quantile can
    equal the last tolerance: then the next smaller accepted distance is taken (the schedule keeps falling
    while there is anything below)."""
    ok = accepted(prev.distances, prev.eps)
    per = np.where(prev.likelihood > 0, prev.weight / np.maximum(ok.sum(axis=1), 1), 0.0)
    w = np.broadcast_to(per[:, None], ok.shape)[ok]
    d = prev.distances[ok]
    eps = weighted_quantile(d, w, settings.quantile)
    if eps >= prev.eps and (below := d[(d < prev.eps) & (w > 0)]).size:
        eps = float(below.max())
    return max(settings.floor, eps)


# ----------------------------------------------------------------------------- the run


def propose(t: int, prev: Generation | None, d: int, settings: Settings) -> tuple[np.ndarray, np.ndarray | None]:
    """Generation t's proposals (n, d) and the kernel scale, from (seed, t) and generation t-1 only."""
    rng = np.random.default_rng([settings.seed, t])
    n = settings.particles
    if prev is None:
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=d, seed=rng).random(n), None
    sigma = kernel_sigma(prev.u, prev.weight, settings.kernel_scale, settings.redraw_above)
    positions = (rng.random() + np.arange(n)) / n  # systematic resampling of the ancestors
    idx = np.minimum(np.searchsorted(np.cumsum(prev.weight), positions), len(prev.weight) - 1)
    return perturb(prev.u[idx], sigma, rng), sigma


STOPPING = ("generations", "min_acceptance", "min_ess", "at_floor", "final_repeats", "pool_final")


def _identity(settings: Settings) -> dict[str, Any]:
    """The settings a generation's content depends on (not the stopping rules: a finished run can be
    continued with more generations)."""
    return {k: v for k, v in asdict(settings).items() if k not in STOPPING}


def _path(store: Path, t: int) -> Path:
    return Path(store) / f"generation_{t:02d}.parquet"


def _save(store: Path, g: Generation, names: Sequence[str], settings: Settings, meta: dict) -> None:
    from sim.run.storage import atomic_write_parquet

    cols = {f"u.{n}": g.u[:, k] for k, n in enumerate(names)}
    cols.update({f"d.{r}": g.distances[:, r] for r in range(g.distances.shape[1])})
    from sim.run import provenance

    df = pd.DataFrame({**cols, "likelihood": g.likelihood, "weight": g.weight})
    info = {"settings": _identity(settings), "names": list(names), "eps": g.eps,
            "sigma": None if g.sigma is None else g.sigma.tolist(), "seconds": g.seconds, **meta,
            "content": _content(df), "versions": provenance.here()}  # self-describing: what, from what, with what
    atomic_write_parquet(df, _path(store, g.t), info)


def _content(df: pd.DataFrame) -> str:
    """SHA-256 of a generation's values, column by column: a stored generation that no longer matches is not used."""
    import hashlib

    h = hashlib.sha256()
    for c in df.columns:
        h.update(c.encode())
        h.update(np.ascontiguousarray(df[c].to_numpy()).view(np.uint8))
    return h.hexdigest()


def _load(store: Path, t: int, names: Sequence[str], settings: Settings, meta: dict,
          prev: Generation | None, eps: float) -> Generation | None:  # fmt: skip
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
    if len(df) != settings.particles:
        return None
    from sim.run import provenance

    if info.get("content") != _content(df) or info.get("versions") != provenance.here():
        return None  # altered since it was stored, or made with other library versions: computed again
    u = np.ascontiguousarray(df[[f"u.{n}" for n in names]].to_numpy())  # C order: the same sums as in memory
    expected, sigma = propose(t, prev, len(names), settings)
    if not np.array_equal(u, expected):  # not this seed's proposals from this previous generation
        return None
    if info.get("eps") != eps:
        return None
    dist = np.ascontiguousarray(df[[c for c in df.columns if c.startswith("d.")]].to_numpy())
    return Generation(
        t, float(info["eps"]), u, df["likelihood"].to_numpy().copy(), df["weight"].to_numpy().copy(), dist, sigma,
        float(info.get("seconds", 0.0)),
    )


def run(names: Sequence[str], to_values: Callable[[np.ndarray], np.ndarray], simulate: Simulator,
        settings: Settings, store: Path | None = None, meta: dict | None = None,
        log: Callable[[str], None] | None = None) -> Result:  # fmt: skip
    """ABC-SMC over the parameters ``names``. ``to_values`` maps unit-cube points (n, d) to parameter values
    (the priors' quantile functions); ``simulate`` returns distances (n, R). With ``store``, each generation
    is written there and a rerun reuses every stored generation that checks out (``meta``: more things a
    stored generation must have been made with, e.g. the statistics' names)."""
    meta = dict(meta or {})
    res = Result()
    prev: Generation | None = None
    d = len(names)

    def step(t: int, eps: float) -> Generation:
        g = _load(store, t, names, settings, meta, prev, eps) if store is not None else None
        if g is None:
            import time

            t0 = time.perf_counter()
            u, sigma = propose(t, prev, d, settings)
            idx = np.arange(settings.particles)
            dist = np.asarray(simulate(to_values(u), t, idx), dtype=float)
            lik = np.mean(accepted(dist, eps), axis=1)
            g = Generation(t, eps, u, lik, weights(u, lik, prev, sigma), dist, sigma, time.perf_counter() - t0)
            if store is not None:
                _save(store, g, names, settings, meta)
        if log:
            s = g.summary()
            log(f"generation {t}: tolerance {s['tolerance']:.4g}, acceptance {s['acceptance_rate']:.3f}, "
                f"ESS {s['effective_sample_size']:.0f}")  # fmt: skip
        return g

    low_acceptance = False
    for t in range(settings.generations):
        if sum(g.eps <= settings.floor for g in res.generations) >= settings.at_floor:
            res.stopped = f"{settings.at_floor} generation(s) at the tolerance's floor {settings.floor:g}"
            break
        g = step(t, settings.eps0 if prev is None else next_tolerance(prev, settings))
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
        # the schedule ends: more generations at the last tolerance (pooled into the posterior)
        t_next = t + 1  # after the last generation tried (a discarded one keeps its number)
        res.pool_from = len(res.generations) - 1 if settings.pool_final else -1
        for k in range(settings.final_repeats):
            g = step(t_next + k, res.final.eps)
            res.generations.append(g)
            prev = g
        if settings.final_repeats:
            res.stopped += f"; then {settings.final_repeats} more at tolerance {res.final.eps:.4g}"
    return res


def posterior_table(res: Result, names: Sequence[str], to_values: Callable[[np.ndarray], np.ndarray],
                    pool: bool = True) -> pd.DataFrame:  # fmt: skip
    """The posterior's particles with positive weight (Result.pooled): parameter values and ``weight``."""
    u, w = res.pooled(pool)
    keep = w > 0
    values = to_values(u[keep])
    return pd.DataFrame(values, columns=list(names)).assign(weight=w[keep] / w[keep].sum())
