"""The headline under parameter uncertainty: many parameter sets (drawn from the priors, or read from a
file such as a calibration's posterior), each run for R replicates, as vectorised batches."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.model import priors
from sim.model.params import PARAM_BY_NAME, Militia, ParameterError, make_militias, make_params, structure_of
from sim.model.scenario import Scenario
from sim.model.structures import Structure
from sim.run.simulate import batch_runner, chunk_size_for, param_columns, progress_bar, thread_pool


@dataclass(frozen=True)
class ParameterSets:
    """Parameter sets with weights (equal for prior draws, a posterior's own for a file), and the factor
    values that define them, one row per set (``values``: factor name -> value)."""

    params: list[Any]
    militias: list[tuple[Militia, ...]]
    weights: np.ndarray
    values: pd.DataFrame
    source: str


def _factor_name(column: str) -> str | None:
    """A file's column as a factor name: ``patron_influence``, ``param.patron_influence``,
    ``militias.kss.loyalty`` or ``militia.kss.loyalty``; None for other columns."""
    if column.startswith("param."):
        column = column[len("param.") :]
    if column.startswith("militia."):
        column = "militias." + column[len("militia.") :]
    if column in PARAM_BY_NAME or column.startswith("militias."):
        return column
    return None


def from_prior(draws: int, seed: int, structure: Structure | None = None) -> pd.DataFrame:
    """``draws`` Latin-hypercube draws from every prior a structure uses (sim.model.priors; default: today's
    structure), equal weights."""
    return pd.DataFrame(priors.sample(draws, seed, structure=structure)).assign(weight=1.0)


def from_file(path: str | Path) -> pd.DataFrame:
    """Parameter sets from a Parquet or CSV file: one row per set, factor columns and an optional
    ``weight`` column (a calibration's posterior is such a file)."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"params_from={path} is not a file: give 'prior' or a Parquet/CSV file of parameter sets")
    try:
        table = pd.read_parquet(path) if path.suffix != ".csv" else pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ParameterError(
            f"params_from={path} is not a readable Parquet or CSV file ({type(exc).__name__})"
        ) from None
    names = {c: _factor_name(c) for c in table.columns}
    factors = {c: n for c, n in names.items() if n is not None}
    if not factors:
        raise ParameterError(f"params_from={path} has no parameter columns (e.g. patron_influence or "
                             "param.patron_influence, militias.kss.loyalty)")  # fmt: skip
    if len(table) == 0:
        raise ParameterError(f"params_from={path} has no rows")
    out = table[list(factors)].rename(columns=factors)
    weight = table["weight"] if "weight" in table.columns else pd.Series(1.0, index=table.index)
    if not np.all(np.isfinite(weight)) or (weight < 0).any() or weight.sum() <= 0:
        raise ParameterError(f"params_from={path}: column weight must be finite, >= 0 and not all 0")
    return out.assign(weight=weight.to_numpy(dtype=float))


def parameter_sets(
    source: str, draws: int, seed: int, base_params: Mapping[str, Any], base_militias: Mapping[str, Mapping[str, Any]]
) -> ParameterSets:
    """The sets a run under uncertainty uses: each row's values on top of the run's own parameters, except
    that a value the run sets away from its declared default (an override, a counterfactual) stays fixed;
    every value validated like an override (one-line error naming the set and the field)."""
    structure = structure_of(make_params({k: v for k, v in base_params.items() if k in PARAM_BY_NAME}))
    table = from_prior(draws, seed, structure) if source == "prior" else from_file(source)
    if source != "prior" and draws < len(table):
        table = table.iloc[:draws]
    return sets_from_table(table, base_params, base_militias, source, fixed=fixed_values(base_params, base_militias))


def uncertainty_sets(cfg: Any) -> ParameterSets:
    """The parameter sets of a run under uncertainty (all of them, whichever block a job runs), from its config."""
    from omegaconf import OmegaConf

    from sim.run.config_schema import base_params

    if str(cfg.engine) not in ("vector", "compiled"):
        raise ParameterError("params_from needs engine=vector or engine=compiled (thousands of runs)")
    base = base_params(cfg)
    base_militias = OmegaConf.to_container(cfg.militias, resolve=True)
    return parameter_sets(str(cfg.params_from), int(cfg.draws), int(cfg.seed), base, base_militias)


def fixed_values(params: Mapping[str, Any], militias: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The values a run sets away from their declared defaults, as factor names: these are held fixed
    rather than drawn (a counterfactual under parameter uncertainty keeps its counterfactual value)."""
    from sim.model.params import MILITIAS

    out = {k: v for k, v in params.items() if k in PARAM_BY_NAME and v != PARAM_BY_NAME[k].default}
    for m in MILITIAS:
        for f, v in dict(militias.get(m.key, {})).items():
            if v != getattr(m, f):
                out[priors.militia_factor(m.key, f)] = v
    return out


def sets_from_table(
    table: pd.DataFrame,
    base_params: Mapping[str, Any],
    base_militias: Mapping[str, Mapping[str, Any]],
    source: str,
    fixed: Mapping[str, Any] | None = None,
) -> ParameterSets:
    """ParameterSets from a table of factor values (and an optional ``weight`` column); ``fixed`` factor
    values win over the table's."""
    weights = table["weight"].to_numpy(dtype=float) if "weight" in table.columns else np.ones(len(table))
    values = table.drop(columns=[c for c in ("weight",) if c in table.columns])
    params, militias = [], []
    for i, row in enumerate(values.to_dict("records")):
        p, m = priors.split_factors({**row, **dict(fixed or {})})
        try:
            merged = {k: {**dict(base_militias.get(k, {})), **v} for k, v in m.items()}
            params.append(make_params({**base_params, **p}))
            militias.append(make_militias({**base_militias, **merged}))
        except ParameterError as exc:
            raise ParameterError(f"params_from={source}, set {i}: {exc}") from None
    return ParameterSets(params, militias, weights, values.reset_index(drop=True), source)


def run_sets(
    scenario: Scenario,
    sets: ParameterSets,
    seed: int,
    replicates: int,
    *,
    memory_budget_mb: float = 2048,
    workers: int | None = None,
    progress: bool | None = None,
    engine: str = "vector",
) -> pd.DataFrame:
    """Every set for replicates 0..R-1 (the same seed for all sets: common random numbers across sets),
    whole sets per block, blocks on threads. Returns the runs table with a ``set`` column."""
    workers = max(1, workers or len(os.sched_getaffinity(0)))
    n = len(sets.params)
    cells = {p.cells_per_militia for p in sets.params}
    if len(cells) > 1:
        raise ParameterError("params_from: every parameter set must have the same cells_per_militia")
    rows_per_block = chunk_size_for(sets.params[0], len(sets.militias[0]), memory_budget_mb / workers)
    per_block = max(1, rows_per_block // replicates)
    blocks = [range(lo, min(lo + per_block, n)) for lo in range(0, n, per_block)]
    run_batch = batch_runner(engine)
    threads = {"threads": workers} if engine == "compiled" else {}  # compiled: a block at a time on all threads

    def one(block: range) -> pd.DataFrame:
        params_rows = [sets.params[k] for k in block for _ in range(replicates)]
        militia_rows = [sets.militias[k] for k in block for _ in range(replicates)]
        reps = np.tile(np.arange(replicates), len(block))
        res = run_batch(scenario, params_rows, militia_rows, seed, reps, keep_daily=False, **threads)
        return pd.DataFrame({"set": np.repeat(np.asarray(block), replicates), "replicate": reps, **res.runs})

    parts = []
    with progress_bar(n * replicates, progress, f"{scenario.name} ({n} parameter sets)") as bar, \
            thread_pool(workers) as ex:  # fmt: skip
        for part in ex.map(one, blocks):
            parts.append(part)
            bar.update(len(part))
    return pd.concat(parts, ignore_index=True)


def set_table(runs: pd.DataFrame, sets: ParameterSets) -> pd.DataFrame:
    """One row per parameter set: its weight, factor values and outcomes over its replicates."""
    g = runs.groupby("set")
    out = pd.DataFrame({
        "set": np.arange(len(sets.params)), "weight": sets.weights, "replicates": g.size().to_numpy(),
        "p_escalation": g["escalated"].mean().to_numpy(), "p_any_clash": g["first_clash_day"].apply(
            lambda d: (d >= 0).mean()).to_numpy(), "p_sustained": g["sustained"].mean().to_numpy(),
        "mean_clashes": g["clashes"].mean().to_numpy(), "mean_interventions": g["interventions"].mean().to_numpy(),
    })  # fmt: skip
    return pd.concat([out, sets.values.reset_index(drop=True)], axis=1)


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles of a weighted sample (the inverse of its weighted empirical distribution)."""
    order = np.argsort(values)
    v, w = np.asarray(values, dtype=float)[order], np.asarray(weights, dtype=float)[order]
    cum = np.cumsum(w) / w.sum()
    return np.array([v[min(int(np.searchsorted(cum, q)), len(v) - 1)] for q in qs])


def summary(table: pd.DataFrame) -> dict[str, Any]:
    """The headline under uncertainty: pooled P(escalation), its spread across parameter sets (median
    and 90% interval, weighted) and the share of that spread that is Monte Carlo noise."""
    w, p, r = table["weight"].to_numpy(), table["p_escalation"].to_numpy(), table["replicates"].to_numpy()
    pooled = float(np.sum(w * p) / np.sum(w))
    q05, q50, q95 = weighted_quantiles(p, w, (0.05, 0.5, 0.95))
    var = float(np.average((p - pooled) ** 2, weights=w))
    noise = float(np.average(p * (1 - p) / np.maximum(r - 1, 1), weights=w))
    return {"sets": len(table), "pooled": pooled, "median": float(q50), "q05": float(q05), "q95": float(q95),
            "noise_share": noise / var if var > 0 else float("nan"),
            "effective_sets": float(w.sum() ** 2 / np.sum(w**2))}  # fmt: skip


def set_columns(sets: ParameterSets, runs: pd.DataFrame) -> pd.DataFrame:
    """Every declared parameter as a ``param.*`` column of the runs table, per set."""
    cols = pd.DataFrame([param_columns(p) for p in sets.params])
    return runs.join(cols, on="set")
