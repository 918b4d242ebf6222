"""The main job: a thin @hydra.main around ``run_job``, a plain function that does the work.
``python -m sim`` runs the default scenario; see README.md for overrides and sweeps."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim import paths
from sim.model.params import MILITIA_KEYS, ParameterError, structure_of
from sim.model.scenario import Scenario
from sim.run import progress, provenance
from sim.run.config_schema import register
from sim.run.naming import label_from
from sim.run.storage import DiskFull, atomic_write_parquet, atomic_write_text, code_version, is_disk_full
from sim.run.validate import resolve_inputs

if TYPE_CHECKING:  # the engines, pandas and scipy load in the job that uses them: `python -m sim --help` needs none
    from sim.run import uncertainty

CONFIG_DIR = str(paths.CONFIG_DIR)
MESA_LOGGER = "MESA"  # mesa.mesa_logging.LOGGER_NAME: the parent of all of Mesa's loggers
register()


def run_job(
    cfg: DictConfig, out_dir: Path | None = None, quiet: bool = False, overrides: list[str] | None = None
) -> dict[str, Any]:
    """Validate, simulate, write runs.parquet, daily.parquet, config and figure; return the headline numbers.
    What the run ran (counterfactual, overrides) comes from Hydra's record; a config composed in Python has
    none, so pass its ``overrides`` to have them recorded."""
    params, militias, scenario = resolve_inputs(cfg)
    # Mesa logs one INFO line per model step; Hydra's logging sends INFO to the console and the run's log
    logging.getLogger(MESA_LOGGER).setLevel(logging.INFO if cfg.verbose else logging.WARNING)
    progress.set_interval(float(cfg.progress_interval_s))  # log lines of long runs when not on a terminal
    hc = HydraConfig.get() if HydraConfig.initialized() else None
    if out_dir is None:
        out_dir = Path(hc.runtime.output_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if cfg.calibration:  # one block of the calibration's bank (python -m sim.calibrate --launcher)
        from sim.analysis.calibration import run_block_job

        return run_block_job(OmegaConf.to_container(cfg.calibration, resolve=True), cfg.workers, cfg.progress, quiet)
    if cfg.params_from and cfg.set_block is not None:  # one block of the parameter sets, as a job of a sweep
        from sim.run.set_blocks import run_block

        multirun = hc is not None and hc.mode == RunMode.MULTIRUN
        return run_block(cfg, scenario, Path(hc.sweep.dir) if multirun else out_dir, quiet)
    if (hc is not None and hc.mode == RunMode.MULTIRUN) or cfg.grid or cfg.design or cfg.policies:
        root = Path(hc.sweep.dir) if hc is not None and hc.mode == RunMode.MULTIRUN else out_dir
        return run_sweep_job(cfg, scenario, militias, root, list(hc.overrides.task) if hc else [], quiet)
    if cfg.params_from:
        label = label_from(scenario.name, hc.runtime.choices if hc else None,
                           list(hc.overrides.task) if hc else overrides)  # fmt: skip
        return run_uncertainty_job(cfg, scenario, out_dir, quiet, label)

    label = label_from(scenario.name, hc.runtime.choices if hc else None, list(hc.overrides.task) if hc else overrides)
    meta = {
        "scenario": scenario.name,
        "counterfactual": label.counterfactual,
        "overrides": list(label.overrides),
        "drop_events": list(cfg.drop_events),
        "scenario_file": str(cfg.scenario_file) if cfg.scenario_file else None,
        "structure": structure_of(params).as_dict(),
        "run_name": label.name,
        "seed": int(cfg.seed),
        "engine": str(cfg.engine),
        "replicates": int(cfg.replicates),
        "code_version": code_version(),
        "environment": provenance.environment(cfg.workers),
    }
    from sim.run.stream import stream_run

    t0 = time.perf_counter()
    # Written as computed (row groups; renamed into place at the end), summarised from running sums: a run of
    # millions of replicates never holds its runs table in memory (sim.run.stream).
    streamed = stream_run(
        scenario, params, militias, out_dir, seed=int(cfg.seed), replicates=int(cfg.replicates),
        engine=str(cfg.engine), metadata=meta, daily_replicates=int(cfg.daily_replicates),
        chunk_size=cfg.chunk_size, memory_budget_mb=float(cfg.memory_budget_mb), progress=cfg.progress,
        workers=cfg.workers,
    )  # fmt: skip
    elapsed = time.perf_counter() - t0
    meta["seconds"] = round(elapsed, 3)
    atomic_write_text(out_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    atomic_write_text(out_dir / "meta.json", json.dumps(meta, indent=2))

    p, lo, hi, n = streamed.summary.escalation()
    table = streamed.summary.table(MILITIA_KEYS)
    heading = f"{label.name}: {n} replicates, engine={cfg.engine}, seed={cfg.seed}{_structure_note(params)}"
    atomic_write_text(out_dir / "summary.txt", f"{heading}\n{label.describe()}\n\n{table.to_string(index=False)}\n")
    figures = []
    daily = streamed.figure_daily
    if cfg.figure and len(daily):
        from sim.analysis.run_figure import timeline_figure

        figures = timeline_figure(daily, scenario, out_dir / "timeline", n_replicates=daily["replicate"].nunique(),
                                  total_replicates=n, title=label.name)  # fmt: skip
    if not quiet:
        print(f"\n{heading}, {elapsed:.1f} s")
        print(f"  {label.describe()}")
        print(f"  {scenario.description}")
        print(table.to_string(index=False))
        print(f"\nwrote {out_dir}/runs.parquet, daily.parquet, config.yaml, meta.json, summary.txt")
        for f in figures:
            print(f"wrote {f}")
    return {"escalation_probability": p, "ci_low": lo, "ci_high": hi, "replicates": n, "seconds": elapsed,
            "out_dir": str(out_dir)}  # fmt: skip


def _structure_note(params: Any) -> str:
    """``, structure leverage=coercion+...`` when a run's structure is not today's (it may come from an
    experiment's file rather than the command line, so the run name alone need not show it)."""
    structure = structure_of(params)
    return "" if structure.is_default else f", structure {structure.label()}"


def run_uncertainty_job(cfg: DictConfig, scenario: Scenario, out_dir: Path, quiet: bool, label: Any) -> dict[str, Any]:
    """The main job under parameter uncertainty (params_from=prior or a file of parameter sets): every set
    for `replicates` replicates; the summary adds the spread of P(escalation) across sets."""
    from sim.run import uncertainty

    sets = uncertainty.uncertainty_sets(cfg)
    t0 = time.perf_counter()
    runs = uncertainty.run_sets(scenario, sets, int(cfg.seed), int(cfg.replicates),
                                memory_budget_mb=float(cfg.memory_budget_mb), workers=cfg.workers,
                                progress=cfg.progress, engine=str(cfg.engine))  # fmt: skip
    return write_uncertainty(cfg, scenario, sets, runs, out_dir, quiet, label, time.perf_counter() - t0)


def write_uncertainty(cfg: DictConfig, scenario: Scenario, sets: uncertainty.ParameterSets, runs: Any, out_dir: Path,
                      quiet: bool, label: Any, elapsed: float) -> dict[str, Any]:  # fmt: skip
    """The tables, summary and figure of a run under uncertainty from its runs (one per set and replicate)."""
    from sim.run import uncertainty
    from sim.run.summary import escalation_probability

    table = uncertainty.set_table(runs, sets)
    spread = uncertainty.summary(table)
    meta = {"scenario": scenario.name, "seed": int(cfg.seed), "engine": str(cfg.engine),
            "replicates": int(cfg.replicates),
            "params_from": str(cfg.params_from), "parameter_sets": len(table), "code_version": code_version(),
            "environment": provenance.environment(cfg.workers),
            "counterfactual": label.counterfactual, "overrides": list(label.overrides), "run_name": label.name,
            "drop_events": list(cfg.drop_events), "scenario_file": cfg.scenario_file,
            "structure": structure_of(sets.params[0]).as_dict(),
            "seconds": round(elapsed, 3), **{f"uncertainty_{k}": v for k, v in spread.items()}}  # fmt: skip
    runs = uncertainty.set_columns(sets, runs).assign(scenario=scenario.name, seed=int(cfg.seed))
    atomic_write_parquet(runs, out_dir / "runs.parquet", meta)
    atomic_write_parquet(table, out_dir / "sets.parquet", meta)
    atomic_write_text(out_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    atomic_write_text(out_dir / "meta.json", json.dumps(meta, indent=2))
    text = uncertainty_summary(runs, spread, str(cfg.params_from))
    heading = (f"{label.name}: {len(table)} parameter sets x {cfg.replicates} replicates, seed={cfg.seed}"
               f"{_structure_note(sets.params[0])}")  # fmt: skip
    atomic_write_text(out_dir / "summary.txt", f"{heading}\n{label.describe()}\n\n{text}\n")
    figures = []
    if cfg.figure:
        from sim.analysis.study_figures import uncertainty_fan

        figures = uncertainty_fan(runs, table, scenario, out_dir / "uncertainty")
    if not quiet:
        print(f"\n{heading}, {elapsed:.1f} s")
        print(f"  {label.describe()}")
        print(text)
        print(f"\nwrote {out_dir}/runs.parquet, sets.parquet, config.yaml, meta.json, summary.txt")
        for f in figures:
            print(f"wrote {f}")
    _, lo, hi, n = escalation_probability(runs)
    return {"escalation_probability": spread["pooled"], "ci_low": lo, "ci_high": hi, "replicates": n,
            "seconds": elapsed, "out_dir": str(out_dir), **spread}  # fmt: skip


def uncertainty_summary(runs, spread: dict, source: str) -> str:
    """The summary table over all runs, then the headline's spread across parameter sets and, if a
    Sobol study has been analysed, the three parameters that explain most of its variance."""
    from sim.analysis.sensitivity import latest_ranking
    from sim.run.summary import summary_table

    lines = [summary_table(runs, MILITIA_KEYS).to_string(index=False), "",
             f"under parameter uncertainty ({spread['sets']} parameter sets from {source}; "
             f"effective number {spread['effective_sets']:.0f}):",
             f"  P(escalation) pooled over sets           {spread['pooled']:.4f}",
             f"  P(escalation) across sets: median        {spread['median']:.4f}",
             f"  P(escalation) across sets: 90% interval  [{spread['q05']:.4f}, {spread['q95']:.4f}]",
             f"  share of that spread from Monte Carlo noise  {spread['noise_share']:.3f}"]  # fmt: skip
    ranking = latest_ranking() or published_ranking()
    if ranking:
        where, top = ranking
        lines.append(f"  most influential (Sobol total order, {where}): "
                     + ", ".join(f"{f} {st:.2f}±{c:.2f}" for f, st, c in top))  # fmt: skip
    else:
        lines.append("  most influential: no Sobol study yet (python -m sim experiment=sobol)")
    return "\n".join(lines)


def published_ranking(top: int = 3) -> tuple[str, list[tuple[str, float, float]]] | None:
    """The ``top`` factors of the published Sobol table (results/tables/sobol.csv, in the repository), for a
    machine that has not run its own Sobol study; None if the table is missing or unreadable."""
    import pandas as pd

    from sim.analysis.published import TABLES

    try:
        table = pd.read_csv(TABLES / "sobol.csv").nlargest(top, "ST")
        return "published table results/tables/sobol.csv", [
            (str(r.factor), float(r.ST), float(r.ST_conf)) for r in table.itertuples()
        ]
    except (OSError, ValueError, KeyError, AttributeError):
        return None


def run_sweep_job(cfg: DictConfig, scenario, militias, root: Path, overrides: list[str], quiet: bool) -> dict:
    """A sweep job: the grid's points, or one block of a design's rows (on top of this job's params), as
    one vectorised batch."""
    from sim.run.sweep import aggregate, describe, problems, run_job_points, sweep_points

    points = sweep_points(cfg, scenario, militias, root)
    t0 = time.perf_counter()
    res = run_job_points(
        points, root, overrides, memory_budget_mb=float(cfg.memory_budget_mb), chunk_size=cfg.chunk_size,
        progress=cfg.progress, workers=cfg.workers, allow_mixed_versions=bool(cfg.allow_mixed_versions),
        engine=str(cfg.engine),
    )  # fmt: skip
    res["seconds"] = time.perf_counter() - t0
    if not quiet:
        elsewhere = f", running elsewhere {res['elsewhere']}" if res["elsewhere"] else ""
        print(f"job {res['job_key']}: {res['points']} points, ran {res['ran']}, already done {res['skipped']}"
              f"{elsewhere}, {res['seconds']:.1f} s -> {root}")  # fmt: skip
    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        return res
    report = aggregate(root, keep_rows=False, allow_mixed=bool(cfg.allow_mixed_versions))  # a single-run grid
    if not quiet:
        for line in problems(report):
            print(line if line.startswith("warning: ") else f"error: {line}", file=sys.stderr)
        print(describe(report))
    return res


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def main(cfg: DictConfig) -> float:
    """Hydra entry point: returns the escalation probability of a single run (for optimisers).
    Bad input found only now (a scenario file, an experiment) still gives one line and status 2."""
    try:
        return run_job(cfg).get("escalation_probability", float("nan"))
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None  # SystemExit passes through Hydra's traceback printer
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        where = HydraConfig.get().runtime.output_dir if HydraConfig.initialized() else "the run's folder"
        raise DiskFull(f"error: {os.strerror(exc.errno)} while writing into {where}: nothing is kept of this run "
                       "(its temporary files were removed): free space, or set hydra.run.dir") from None
    except KeyboardInterrupt as exc:
        if not getattr(exc, "note", ""):
            exc.note = "nothing is kept of this run: its temporary files were removed"
        raise
