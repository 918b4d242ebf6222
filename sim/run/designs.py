"""Experimental designs over the priors (Morris, Sobol/Saltelli, Latin hypercube) from SALib and SciPy.
A design is rebuilt from its spec alone; its rows become sweep points, one block of rows per Hydra job."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.model import priors
from sim.model.params import ParameterError, suggest
from sim.model.structures import Structure

METHODS = ("morris", "sobol", "lhs")
MORRIS_LEVELS = 4  # the grid Morris trajectories move on (Campolongo et al. 2007 use 4 with delta = 2/3)


@dataclass(frozen=True)
class DesignSpec:
    """What a design is: its method, size, seed and factors (names of priors). Everything that decides
    its rows, so rows and points can be rebuilt from it alone."""

    method: str
    size: int
    seed: int
    factors: tuple[str, ...]
    second_order: bool = True

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], structure: Structure | None = None) -> DesignSpec:
        """Validate a Hydra ``design`` node: one-line ParameterError naming the field and what is allowed.
        ``factors: all`` means every uncertain value ``structure`` uses (default: today's structure)."""
        method = cfg.get("method")
        if method not in METHODS:
            raise ParameterError(f"design.method={method!r} is not a design{suggest(str(method), METHODS)}; "
                                 f"allowed: {', '.join(METHODS)}")  # fmt: skip
        size = cfg.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 1_000_000:
            raise ParameterError(f"design.size={size!r} must be a whole number in [1, 1000000]")
        if method == "sobol" and size & (size - 1):
            raise ParameterError(f"design.size={size} must be a power of two for a Sobol design (e.g. 256, 512)")
        seed = cfg.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            raise ParameterError(f"design.seed={seed!r} must be a whole number in [0, 4294967295]")
        factors = cfg.get("factors", "all")
        table = priors.priors(structure)
        names = tuple(table) if factors == "all" else tuple(factors or ())
        if not names:
            raise ParameterError("design.factors is empty: give 'all' or a list of parameter names")
        for name in names:
            if name not in table:
                raise ParameterError(f"design.factors: {name} has no prior{suggest(name, list(table))}; "
                                     "allowed: uncertain parameters (of the structure that runs) and "
                                     "militias.<key>.<field>")  # fmt: skip
        if len(set(names)) != len(names):
            raise ParameterError("design.factors lists a factor twice")
        return cls(method, size, seed, names, bool(cfg.get("second_order", True)))

    def problem(self) -> dict[str, Any]:
        """SALib's problem: every factor on [0, 1], the quantile of its prior (mapped by ``values``)."""
        return {"num_vars": len(self.factors), "names": list(self.factors), "bounds": [[0.0, 1.0]] * len(self.factors)}

    @property
    def key(self) -> str:
        return hashlib.sha256(json.dumps(dataclasses.asdict(self), sort_keys=True).encode()).hexdigest()[:16]


def design_rows(spec: Any) -> int:
    """The number of rows a design has, without building it (SALib's sizes)."""
    n = len(spec.factors)
    if spec.method == "morris":
        return spec.size * (n + 1)
    if spec.method == "sobol":
        return spec.size * (2 * n + 2 if spec.second_order else n + 2)
    return spec.size


def unit_rows(spec: DesignSpec, rows: range | None = None) -> np.ndarray:
    """The design in prior-quantile space, shape (rows, factors), exactly as SALib (or SciPy's Latin
    hypercube) makes it for this spec; ``rows``: only those (a job's block). A Latin hypercube's block is made
    without the whole design in memory (a million rows of 88 factors would take 1.4 GB in every job)."""
    if spec.method == "lhs":
        return lhs_rows(spec, rows if rows is not None else range(spec.size))
    full = _full_rows(spec)
    return full if rows is None else full[rows.start : rows.stop]


@functools.lru_cache(maxsize=2)  # a launcher lists every job's points: the same design for each
def _full_rows(spec: DesignSpec) -> np.ndarray:
    if spec.method == "morris":
        from SALib.sample import morris

        return morris.sample(spec.problem(), spec.size, num_levels=MORRIS_LEVELS, seed=spec.seed)
    from SALib.sample import sobol

    return sobol.sample(spec.problem(), spec.size, calc_second_order=spec.second_order, seed=spec.seed)


def lhs_rows(spec: DesignSpec, rows: range, chunk: int = 1 << 16) -> np.ndarray:
    """Rows ``rows`` of ``qmc.LatinHypercube(d, seed=np.random.default_rng(seed)).random(size)`` (SciPy's
    algorithm, replayed: the uniform jitter drawn row-major, then one shuffled permutation per factor), holding
    one factor's permutation at a time instead of the whole design (tests/test_sensitivity.py compares them)."""
    n, d = spec.size, len(spec.factors)
    parent = np.random.default_rng(spec.seed).bit_generator  # SciPy draws from a child spawned off the seed's
    rng = np.random.Generator(type(parent)(parent.seed_seq.spawn(1)[0]))
    jitter = np.empty((len(rows), d))
    for lo in range(0, n, chunk):  # the same stream as one (n, d) draw, kept only where it falls in ``rows``
        hi = min(lo + chunk, n)
        part = rng.uniform(size=(hi - lo, d))
        a, b = max(lo, rows.start), min(hi, rows.stop)
        if a < b:
            jitter[a - rows.start : b - rows.start] = part[a - lo : b - lo]
    out = np.empty((len(rows), d))
    perm = np.empty(n, dtype=np.int64)
    for i in range(d):
        perm[:] = np.arange(1, n + 1)
        rng.shuffle(perm)
        out[:, i] = (perm[rows.start : rows.stop] - jitter[:, i]) / n
    return out


def values(spec: DesignSpec, unit: np.ndarray) -> list[dict[str, float]]:
    """Design rows mapped through each factor's prior quantile function: {factor: value} per row."""
    table = priors.all_priors()
    cols = {name: table[name].ppf(unit[:, i]) for i, name in enumerate(spec.factors)}
    whole = {name for name in spec.factors if table[name].dist == "integer"}
    return [{n: (int(cols[n][k]) if n in whole else float(cols[n][k])) for n in spec.factors}
            for k in range(unit.shape[0])]  # fmt: skip


def block_rows(n_rows: int, blocks: int, block: int) -> range:
    """Rows of one block when ``n_rows`` are split into ``blocks`` nearly equal, contiguous blocks."""
    if not 0 <= block < blocks:
        raise ParameterError(f"design.block={block} is out of range: allowed [0, {blocks - 1}]")
    edges = np.linspace(0, n_rows, blocks + 1).round().astype(int)
    return range(int(edges[block]), int(edges[block + 1]))


def sobol_prefix(spec: DesignSpec, base: int) -> slice:
    """Rows of the Sobol design that form the same design with ``base`` base samples (``base`` a power of
    two not above spec.size): Saltelli rows come in groups of (2D + 2) per base sample, and a Sobol
    sequence's first ``base`` points are its own design. Used for the convergence check."""
    per = 2 * len(spec.factors) + 2 if spec.second_order else len(spec.factors) + 2
    return slice(0, base * per)


def design_points(
    spec: DesignSpec, block: range, base_params: Mapping[str, Any], base_militias: Mapping[str, Mapping[str, Any]]
) -> list[tuple[Any, tuple]]:
    """(Params, militia table) for the design rows in ``block``: each row's factor values on top of the
    job's own parameters and militia values."""
    from sim.model.params import make_militias, make_params

    rows = values(spec, unit_rows(spec, block))
    out = []
    unchanged = None  # the job's own militia table, built once for the rows that vary no militia value
    for row in rows:
        params, militias = priors.split_factors(row)
        if militias:
            merged = {k: {**dict(base_militias.get(k, {})), **v} for k, v in militias.items()}
            table = make_militias({**base_militias, **merged})
        else:
            table = unchanged = unchanged or make_militias(dict(base_militias))
        out.append((make_params({**base_params, **params}), table))
    return out


def write_design(root: Path, spec: DesignSpec, rows: int) -> None:
    """Record the design beside its points (``design.json``), so analysis rebuilds the same rows. Every
    job writes the same content; a different design in the same folder is refused."""
    from sim.run.storage import atomic_write_text

    path = Path(root) / "design.json"
    record = {**dataclasses.asdict(spec), "key": spec.key, "rows": rows}
    if path.exists():
        old = json.loads(path.read_text())
        if old.get("key") != spec.key:
            raise ParameterError(f"{path} holds another design ({old.get('method')}, size {old.get('size')}): "
                                 "use a new hydra.sweep.dir for a new design")  # fmt: skip
        return
    atomic_write_text(path, json.dumps(record, indent=1))


def read_design(root: Path) -> DesignSpec:
    """The design recorded in a sweep folder."""
    record = json.loads((Path(root) / "design.json").read_text())
    return DesignSpec(record["method"], record["size"], record["seed"], tuple(record["factors"]),
                      record.get("second_order", True))  # fmt: skip


def factor_columns(names: Sequence[str]) -> list[str]:
    """Aggregated tables' column of each factor: ``param.<name>`` or ``militia.<key>.<field>``."""
    return [f"militia.{n.split('.', 1)[1]}" if n.startswith("militias.") else f"param.{n}" for n in names]
