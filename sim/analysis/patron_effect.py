"""The headline question under the priors: how much the patron lowers the risk of escalation as its clients grow
independent, per structure, with the interval split into parameter uncertainty and Monte Carlo noise.

For each structure, parameter sets are drawn from its priors; each set is run at every level of the militias'
mean independence three ways with the same keyed random numbers (as it is, without the patron, with a patron that
never intervenes), so a set's effect is a paired difference. Over sets, the law of total variance splits the
spread of the sets' estimated effects into the spread of their true effects (parameter uncertainty) and the mean
Monte Carlo variance of each estimate (paired runs: var(d) / runs). `python -m sim.patron_effect` writes
results/tables/patron_effect.csv and results/figures/patron_effect.png; `python -m sim.docs` shows them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.per_structure import prior_kw, structures
from sim.model import priors
from sim.model.params import make_militias, make_params
from sim.model.scenario import load_scenario

TABLE, FIGURE = "patron_effect", "patron_effect"
LEVELS = (0.2, 0.35, 0.5, 0.65, 0.8, 0.95)  # militia_independence: the prior's range (0.2-0.7) and beyond it
CASES = (("no patron", {"patron_present": False}), ("no intervention", {"patron_intervenes": False}))
# Sized to finish in minutes on a shared 2-core machine (compiled engine, every structure): docs/ODD.md section 10.
SETS, RUNS, SEED, RESAMPLES = 100, 30, 20211107, 1000


@dataclass(frozen=True)
class Settings:
    sets: int = SETS
    runs: int = RUNS
    seed: int = SEED
    levels: tuple[float, ...] = LEVELS
    engine: str = "compiled"
    scenario: str = "seed_timeline"


def _draws(n: int, seed: int, structure) -> list[tuple[dict, dict]]:
    return [priors.split_factors(d) for d in priors.sample(n, seed=seed, **prior_kw(structure))]


def escalations(s: Settings, select: dict, structure: object) -> np.ndarray:
    """(sets, levels, 1 + cases, runs): whether each run escalated, every set at every level as it is and in each
    case, the same replicates (keyed random numbers) throughout."""
    from sim.run.simulate import batch_runner

    run_batch = batch_runner(s.engine)
    sc = load_scenario(s.scenario)
    draws = _draws(s.sets, s.seed, structure)
    variants = ({}, *(over for _, over in CASES))
    out = np.empty((s.sets, len(s.levels), len(variants), s.runs), dtype=bool)
    per_batch = max(1, 20000 // (len(s.levels) * len(variants) * s.runs))
    for first in range(0, s.sets, per_batch):
        block = range(first, min(first + per_batch, s.sets))
        params_rows, militia_rows = [], []
        for k in block:
            p, m = draws[k]
            mil = make_militias(m)
            for level in s.levels:
                for over in variants:
                    params_rows += [make_params({**p, **select, "militia_independence": level, **over})] * s.runs
                    militia_rows += [mil] * s.runs
        reps = np.tile(np.arange(s.runs), len(params_rows) // s.runs)
        res = run_batch(sc, params_rows, militia_rows, s.seed, reps, keep_daily=False)
        out[block.start : block.stop] = np.asarray(res.runs["escalated"], dtype=bool).reshape(
            len(block), len(s.levels), len(variants), s.runs)  # fmt: skip
    return out


def summarise(esc: np.ndarray, s: Settings, label: str) -> pd.DataFrame:
    """Per level and case: the pooled probabilities, the mean risk difference with its 95% interval, the middle
    90% of the sets' differences, the split of their variance, and the pooled ratio with a bootstrap interval."""
    rng = np.random.default_rng(s.seed)
    n_sets, n_runs = esc.shape[0], esc.shape[3]
    rows = []
    for li, level in enumerate(s.levels):
        base = esc[:, li, 0].astype(float)  # (sets, runs)
        for ci, (case, _) in enumerate(CASES, start=1):
            cf = esc[:, li, ci].astype(float)
            d = cf - base  # paired per run
            rd = d.mean(axis=1)  # each set's estimated effect
            mc_var = d.var(axis=1, ddof=1) / n_runs  # each estimate's Monte Carlo variance
            total = rd.var(ddof=1)
            mc = float(mc_var.mean())
            param = max(total - mc, 0.0)
            pb, pc = base.mean(axis=1), cf.mean(axis=1)
            boot = []
            for _ in range(RESAMPLES):
                i = rng.integers(0, n_sets, n_sets)
                boot.append(pc[i].mean() / pb[i].mean() if pb[i].mean() > 0 else np.nan)
            half = 1.96 * np.sqrt(total / n_sets)
            rows.append({
                "structure": label, "independence": level, "case": case, "p_base": pb.mean(), "p_cf": pc.mean(),
                "rd": rd.mean(), "rd_low": rd.mean() - half, "rd_high": rd.mean() + half,
                "rd_q05": float(np.quantile(rd, 0.05)), "rd_q95": float(np.quantile(rd, 0.95)),
                "sd_total": float(np.sqrt(total)), "sd_parameters": float(np.sqrt(param)), "sd_mc": float(np.sqrt(mc)),
                "share_parameters": param / total if total > 0 else np.nan,
                "ratio": pc.mean() / pb.mean() if pb.mean() > 0 else np.inf,
                "ratio_low": float(np.nanquantile(boot, 0.025)), "ratio_high": float(np.nanquantile(boot, 0.975)),
                "share_raises": float((rd > 0).mean()), "sets": n_sets, "runs": n_runs, "seed": s.seed,
                "scenario": s.scenario,
            })  # fmt: skip
    return pd.DataFrame(rows)


def compute(settings: Settings | None = None) -> pd.DataFrame:
    s = settings or Settings()
    return pd.concat([summarise(escalations(s, select, structure), s, label)
                      for label, select, structure in structures()], ignore_index=True)  # fmt: skip


def figure(table: pd.DataFrame, path_stem) -> list:
    """RD in P(escalation) against independence, one panel per case, one line per structure: the pooled effect
    with its 95% interval (dark band) and the middle 90% of parameter sets (light band)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    fig, axes = plt.subplots(1, len(CASES), figsize=(10, 5), sharey=True)
    handles = {}
    for ax, (case, _) in zip(np.atleast_1d(axes), CASES, strict=True):
        for i, (label, g) in enumerate(table[table["case"] == case].groupby("structure", sort=False)):
            color = f"C{i}"
            ax.fill_between(g["independence"], g["rd_q05"], g["rd_q95"], color=color, alpha=0.12, linewidth=0)
            ax.fill_between(g["independence"], g["rd_low"], g["rd_high"], color=color, alpha=0.4, linewidth=0)
            (handles[label],) = ax.plot(g["independence"], g["rd"], color=color, marker="o", label=label)
        ax.axhline(0, color="0.5", linewidth=0.8)
        ax.set_title(f"{case} against the patron as it is")
        ax.set_xlabel("militias' mean independence (0-1, militia_independence)")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("change in P(escalation) (probability)")
    bands = [Patch(color="0.3", alpha=0.4, label="95% interval of the mean over sets"),
             Patch(color="0.3", alpha=0.12, label="middle 90% of parameter sets")]  # fmt: skip
    fig.legend(handles=[*handles.values(), *bands], loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.05 + 0.045 * ((len(handles) + 2 + 2) // 3), 1, 1))
    written = []
    for ext in ("png", "pdf"):
        path = path_stem.with_suffix(f".{ext}")
        fig.savefig(path, dpi=150, metadata={"CreationDate": None} if ext == "pdf" else None)
        written.append(path)
    plt.close(fig)
    return written


def run_args(args) -> int:
    """The command (sim/patron_effect.py parses its line): compute, print, publish the table and the figure."""
    import sys

    from sim.analysis import published
    from sim.paths import RESULTS_DIR

    for name, low, high in (("sets", 2, 100_000), ("runs", 2, 100_000)):
        if not low <= getattr(args, name) <= high:
            print(f"error: --{name}={getattr(args, name)} is out of range: allowed [{low}, {high}]", file=sys.stderr)
            return 2
    import time

    t0 = time.perf_counter()
    table = compute(Settings(sets=args.sets, runs=args.runs, seed=args.seed, engine=args.engine))
    seconds = time.perf_counter() - t0
    print(f"engine {args.engine}: {seconds:.0f} s")
    table = table.assign(engine=args.engine, seconds=round(seconds))
    for r in table.itertuples():
        print(f"{r.structure:<12} {r.independence:4.2f} {r.case:<16} RD {r.rd:+.3f} [{r.rd_low:+.3f}, {r.rd_high:+.3f}]"
              f" sets 90% [{r.rd_q05:+.2f}, {r.rd_q95:+.2f}] parameters' share {r.share_parameters:.2f}"
              f" ratio {r.ratio:.2f}")  # fmt: skip
    if not args.no_write:
        print(f"wrote {published.write(TABLE, table)}")
        for path in figure(table, RESULTS_DIR / "figures" / FIGURE):
            print(f"wrote {path}")
    return 0
