"""Calibration to the record: approximate Bayesian computation with the vector engine (thousands of
parameter sets per batch), posterior-predictive checks and escalation probabilities, prior beside posterior.

The targets (seeds/targets.yaml) are conditions the observed history meets (no civil war, Sadr back by
the vote, ...). The data are discrete, so the ABC kernel is exact: a parameter set's weight is the share
of its simulated runs that meet every target, an unbiased estimate of the likelihood of the record
(rejection ABC with R trials per draw; tolerance 0 on the discrete summaries, one generation)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.engines.vector import run_batch
from sim.model import priors
from sim.model.params import ParameterError
from sim.model.scenario import Scenario, load_scenario
from sim.paths import CONFIG_DIR, SEEDS_DIR
from sim.run import uncertainty
from sim.run.simulate import chunk_size_for, progress_bar, thread_pool
from sim.run.storage import atomic_write_parquet, atomic_write_text

TARGETS_PATH = SEEDS_DIR / "targets.yaml"
SCENARIO = "seed_timeline"
CONDITIONS = ("equals", "at_least", "between")
DAILY = ("intervened", "participating")
MATERIAL_TV = 0.05  # a posterior that moves at least 5% of its prior's probability mass is "informed"


@dataclass(frozen=True)
class Target:
    """One condition the record meets, with its evidence."""

    id: str
    statistic: str
    condition: str
    value: Any
    paragraphs: tuple[int, ...]
    certainty: str
    claim: str
    tolerance: str

    def met(self, x: np.ndarray) -> np.ndarray:
        if self.condition == "equals":
            return np.asarray(x) == self.value
        if self.condition == "at_least":
            return np.asarray(x) >= self.value
        lo, hi = self.value
        return (np.asarray(x) >= lo) & (np.asarray(x) <= hi)

    def describe(self) -> str:
        if self.condition == "equals":
            return f"{self.statistic} = {str(self.value).lower()}"
        if self.condition == "at_least":
            return f"{self.statistic} >= {self.value}"
        return f"{self.value[0]} <= {self.statistic} <= {self.value[1]}"


def _day(scenario: Scenario, kind: str) -> int:
    return next(e.day for e in scenario.events if e.kind == kind)


# Per-run statistics the targets may name: (runs dict, daily dict of (days, R) arrays, scenario) -> (R,)
STATISTICS: dict[str, Callable[[Mapping, Mapping, Scenario], np.ndarray]] = {
    "escalated": lambda runs, daily, sc: np.asarray(runs["escalated"], dtype=bool),
    "interventions": lambda runs, daily, sc: np.asarray(runs["interventions"]),
    "attacks_us": lambda runs, daily, sc: np.asarray(runs["attacks_us"]),
    "participating_on_election_day": lambda runs, daily, sc: daily["participating"][_day(sc, "election")].astype(bool),
    "intervened_within_a_day_of_attack": lambda runs, daily, sc: (
        daily["intervened"][_day(sc, "attack")] | daily["intervened"][_day(sc, "attack") + 1]).astype(bool),
}  # fmt: skip


def load_targets(path: Path = TARGETS_PATH) -> list[Target]:
    """The targets, checked: known statistic, a condition of a known kind, evidence given."""
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    out = []
    for i, raw in enumerate(doc["targets"]):
        where = f"{Path(path).name}: targets[{i}]"
        if raw.get("statistic") not in STATISTICS:
            raise ParameterError(f"{where}.statistic={raw.get('statistic')!r}; allowed: {', '.join(STATISTICS)}")
        cond = raw.get("condition") or {}
        if len(cond) != 1 or next(iter(cond)) not in CONDITIONS:
            raise ParameterError(f"{where}.condition must be one of {', '.join(CONDITIONS)}")
        kind, value = next(iter(cond.items()))
        if not raw.get("paragraphs") or not raw.get("claim") or not raw.get("tolerance"):
            raise ParameterError(f"{where}: a target needs paragraphs, claim and tolerance")
        out.append(Target(raw["id"], raw["statistic"], kind, tuple(value) if kind == "between" else value,
                          tuple(raw["paragraphs"]), raw.get("certainty", "reported"), " ".join(raw["claim"].split()),
                          " ".join(raw["tolerance"].split())))  # fmt: skip
    return out


def statistics(runs: Mapping, daily: Mapping, scenario: Scenario, targets: Sequence[Target]) -> dict[str, np.ndarray]:
    """Each target's statistic per run, and whether the run meets it."""
    out = {}
    for t in targets:
        x = STATISTICS[t.statistic](runs, daily, scenario)
        out[t.statistic] = x
        out[f"met_{t.id}"] = t.met(x)
    met = [out[f"met_{t.id}"] for t in targets]
    out["met_all"] = np.logical_and.reduce(met) if met else np.ones(len(np.asarray(runs["escalated"])), dtype=bool)
    return out


def simulate_sets(
    scenario: Scenario,
    sets: uncertainty.ParameterSets,
    seed: int,
    replicates: int,
    targets: Sequence[Target],
    workers: int | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Runs of every set (replicates 0..R-1, one seed: common random numbers across sets), batched, with
    the target statistics per run: one row per run (set, replicate, escalated, ..., met_*)."""
    workers = max(1, workers or len(os.sched_getaffinity(0)))
    n = len(sets.params)
    per_block = max(1, chunk_size_for(sets.params[0], len(sets.militias[0]), 1024 / workers) // replicates)
    blocks = [range(lo, min(lo + per_block, n)) for lo in range(0, n, per_block)]

    def one(block: range) -> pd.DataFrame:
        reps = np.tile(np.arange(replicates), len(block))
        res = run_batch(scenario, [sets.params[k] for k in block for _ in range(replicates)],
                        [sets.militias[k] for k in block for _ in range(replicates)], seed, reps,
                        daily_columns=DAILY)  # fmt: skip
        stats = statistics(res.runs, res.daily, scenario, targets)
        keep = {k: res.runs[k] for k in ("escalated", "sustained", "first_clash_day", "clashes", "interventions",
                                         "attacks_us", "attacks_state")}
        return pd.DataFrame({"set": np.repeat(np.asarray(block), replicates), "replicate": reps, **keep, **stats})

    parts = []
    with (
        progress_bar(n * replicates, progress, f"{scenario.name} ({n} sets)") as bar,
        thread_pool(workers) as ex,
    ):
        for part in ex.map(one, blocks):
            parts.append(part)
            bar.update(len(part))
    return pd.concat(parts, ignore_index=True)


# ----------------------------------------------------------------------------- the bank and the posterior


@dataclass(frozen=True)
class Settings:
    draws: int = 20_000
    replicates: int = 5
    seed: int = 20211107
    block: int = 2000  # draws per stored block (a crash loses at most one block)
    predictive_sets: int = 300
    predictive_replicates: int = 20


def prior_draws(settings: Settings) -> pd.DataFrame:
    """The prior draws of the bank: a Latin hypercube over every prior, fixed by the seed."""
    return pd.DataFrame(priors.sample(settings.draws, settings.seed))


def _block_range(settings: Settings, i: int) -> range:
    return range(i * settings.block, min((i + 1) * settings.block, settings.draws))


def block_path(out: Path, i: int) -> Path:
    return Path(out) / "bank" / f"block_{i:04d}.parquet"


def compute_block(out: Path, settings: Settings, targets: Sequence[Target], i: int,
                  progress: bool | None = None, workers: int | None = None) -> pd.DataFrame:  # fmt: skip
    """Bank block ``i`` (draws i*block .. (i+1)*block-1 of the prior's Latin hypercube), simulated and stored
    atomically: the same rows whichever process or launcher computes it."""
    rows = _block_range(settings, i)
    sets = uncertainty.sets_from_table(prior_draws(settings).iloc[rows.start : rows.stop], {}, {}, "prior")
    part = simulate_sets(load_scenario(SCENARIO), sets, settings.seed, settings.replicates, targets,
                         workers=workers, progress=progress)  # fmt: skip
    part["set"] += rows.start
    atomic_write_parquet(part, block_path(out, i))
    return part


def missing_blocks(out: Path, settings: Settings) -> list[int]:
    """The bank blocks not (or not wholly) stored under ``out``."""
    n = -(-settings.draws // settings.block)
    return [i for i in range(n) if _read_block(block_path(out, i), len(_block_range(settings, i)) * settings.replicates)
            is None]  # fmt: skip


def _bank_record(out: Path, settings: Settings, targets: Sequence[Target]) -> None:
    record = {"draws": settings.draws, "replicates": settings.replicates, "seed": settings.seed,
              "block": settings.block, "targets": [t.id for t in targets]}  # fmt: skip
    spec_path = Path(out) / "bank" / "settings.json"
    if spec_path.exists() and json.loads(spec_path.read_text()) != record:
        raise ParameterError(f"{out} holds a bank made with other settings: use another --out")
    atomic_write_text(spec_path, json.dumps(record, indent=1))


def run_bank(out: Path, settings: Settings, targets: Sequence[Target], progress: bool | None = None,
             launcher: str | None = None, overrides: Sequence[str] = ()) -> pd.DataFrame | None:  # fmt: skip
    """Simulate the prior bank in blocks of draws, each stored atomically under out/bank; a rerun
    recomputes only the missing or incomplete blocks. Returns one row per draw: factor values and the
    share of its runs meeting each target. ``launcher`` (basic, joblib, submitit_local, submitit_slurm): the
    missing blocks run as Hydra jobs under it, one block per job (``overrides``: more Hydra overrides, e.g.
    hydra.launcher.partition=short); None if they were submitted detached (hydra.launcher.detach=true)."""
    out = Path(out)
    _bank_record(out, settings, targets)
    if launcher is not None and (todo := missing_blocks(out, settings)):
        if not launch_blocks(out, settings, todo, launcher, overrides):
            return None
    draws = prior_draws(settings)
    shares = []
    for i in range(-(-settings.draws // settings.block)):
        rows = _block_range(settings, i)
        part = _read_block(block_path(out, i), len(rows) * settings.replicates)
        if part is None:
            part = compute_block(out, settings, targets, i, progress)
        shares.append(met_shares(part, targets))
    met = pd.concat(shares).sort_index()
    return pd.concat([draws, met.reset_index(drop=True)], axis=1)


def launch_blocks(out: Path, settings: Settings, blocks: Sequence[int], launcher: str,
                  overrides: Sequence[str] = ()) -> bool:  # fmt: skip
    """Run bank ``blocks`` as one Hydra multirun (``python -m sim -m``) under ``launcher``, one block per job;
    False if it was submitted detached (the blocks are not there yet). A failed launch raises ParameterError."""
    import subprocess
    import sys

    out = Path(out).resolve()
    cmd = [sys.executable, "-m", "sim", "-m", f"launcher={launcher}", f"+calibration.out={out}",
           f"+calibration.draws={settings.draws}", f"+calibration.replicates={settings.replicates}",
           f"+calibration.seed={settings.seed}", f"+calibration.block_size={settings.block}",
           f"+calibration.block={','.join(map(str, blocks))}", f"hydra.sweep.dir={out / 'bank' / 'jobs'}",
           *overrides]  # fmt: skip
    res = subprocess.run(cmd)  # its output is the user's: job lines, the launcher's one-line errors
    if res.returncode != 0:  # SystemExit: one line, status 1 (the jobs' own lines came just before)
        raise SystemExit(f"error: the calibration's bank jobs under launcher={launcher} did not all finish (status "
                         f"{res.returncode}); run the same command again to compute only the missing blocks")
    return "hydra.launcher.detach=true" not in overrides


def run_block_job(spec: Mapping[str, Any], workers: int | None = None, progress: bool | None = None,
                  quiet: bool = False) -> dict[str, Any]:  # fmt: skip
    """A Hydra job (``+calibration.block=i`` and the bank's settings): compute and store bank block i."""
    import time

    from sim.run.verify import digest

    settings = Settings(int(spec["draws"]), int(spec["replicates"]), int(spec["seed"]), int(spec["block_size"]))
    i, out = int(spec["block"]), Path(str(spec["out"]))
    targets = load_targets()
    _bank_record(out, settings, targets)
    t0 = time.perf_counter()
    rows = _block_range(settings, i)
    done = _read_block(block_path(out, i), len(rows) * settings.replicates) is not None
    if not done:
        compute_block(out, settings, targets, i, progress, workers)
    seconds = time.perf_counter() - t0
    key = format(digest({**settings.__dict__, "block": i}, bits=64), "016x")
    if not quiet:  # the form experiments/slurm/task_overhead.py reads
        print(f"job {key}: calibration block {i}, draws {rows.start}-{rows.stop - 1} x {settings.replicates} runs"
              f"{' (already stored)' if done else ''}, {seconds:.1f} s -> {block_path(out, i)}")  # fmt: skip
    return {"block": i, "ran": int(not done), "seconds": seconds}


def met_shares(runs: pd.DataFrame, targets: Sequence[Target]) -> pd.DataFrame:
    """Per set, the share of its runs meeting each target and all of them (from the runs' statistics, so
    one bank serves any set of targets on the same statistics)."""
    met = {f"met_{t.id}": t.met(runs[t.statistic].to_numpy()) for t in targets}
    met["met_all"] = np.logical_and.reduce(list(met.values()))
    return pd.DataFrame(met).assign(set=runs["set"].to_numpy()).groupby("set").mean()


def observed_targets(observation: Mapping[str, Any]) -> list[Target]:
    """Targets that a simulated "observed" run meets exactly (for recovery tests): each statistic equal
    to its observed value."""
    return [Target(f"observed_{name}", name, "equals", value, (), "simulated", "a simulated record", "exact")
            for name, value in observation.items()]  # fmt: skip


def _read_block(path: Path, rows: int) -> pd.DataFrame | None:
    """A stored block if it is whole and readable; None means: compute it (again)."""
    if not path.exists():
        return None
    try:
        part = pd.read_parquet(path)
    except (OSError, ValueError):
        return None
    return part if len(part) == rows else None


def diagnostics(bank: pd.DataFrame, settings: Settings) -> dict[str, Any]:
    w = bank["met_all"].to_numpy()
    ess = float(w.sum() ** 2 / np.sum(w**2)) if w.sum() > 0 else 0.0
    per_target = {c[4:]: float(bank[c].mean()) for c in bank.columns if c.startswith("met_") and c != "met_all"}
    return {"method": "rejection ABC, exact match on discrete summaries, R trials per draw (importance weights)",
            "generations": [{"generation": 0, "threshold": 0.0, "draws": settings.draws,
                             "replicates": settings.replicates, "acceptance_rate": float(w.mean()),
                             "effective_sample_size": ess}],
            "prior_share_meeting": per_target}  # fmt: skip


def posterior(bank: pd.DataFrame) -> pd.DataFrame:
    """The posterior: every prior draw with weight = share of its runs meeting every target (zero-weight
    draws dropped), normalised to sum 1."""
    post = bank[bank["met_all"] > 0]
    factors = [c for c in post.columns if not c.startswith("met_")]
    return post[factors].assign(weight=post["met_all"] / post["met_all"].sum()).reset_index(drop=True)


def informed(post: pd.DataFrame, bins: int = 10, permutations: int = 200, seed: int = 1) -> pd.DataFrame:
    """Which parameters the record informs: the total-variation distance between each factor's
    posterior and its prior, in prior-quantile space (the prior is uniform there), against the same
    distance under weights shuffled across draws (what weight noise alone gives). Informed: above the
    99th percentile of that null (a real change) and at least MATERIAL_TV (a change worth reporting:
    with tens of thousands of draws, shifts of a percent or two are detectable but immaterial)."""
    table = priors.priors()
    rng = np.random.default_rng(seed)
    w = post["weight"].to_numpy()
    rows = []
    for name in [c for c in post.columns if c in table]:
        p = table[name]
        u = _quantile(p, post[name].to_numpy())
        # bins in prior-quantile space, where the prior is flat; a whole number's bins are its values
        k = int(p.high) - int(p.low) + 1 if p.dist == "integer" else bins
        idx = (
            (post[name].to_numpy() - p.low).astype(int)
            if p.dist == "integer"
            else np.minimum((u * k).astype(int), k - 1)
        )

        def tv(weights: np.ndarray, idx=idx, k=k) -> float:
            h = np.bincount(idx, weights=weights, minlength=k) / weights.sum()
            return 0.5 * float(np.abs(h - 1 / k).sum())

        observed = tv(w)
        null = np.array([tv(rng.permutation(w)) for _ in range(permutations)])
        mean_u = float(np.average(u, weights=w))
        cut = float(np.quantile(null, 0.99))
        rows.append({"factor": name, "tv_distance": observed, "null_99": cut,
                     "informed": observed > cut and observed >= MATERIAL_TV,
                     "posterior_mean": float(np.average(post[name], weights=w)), "prior_mean": _prior_mean(p),
                     "posterior_quantile_mean": mean_u})  # fmt: skip
    return pd.DataFrame(rows).sort_values("tv_distance", ascending=False).reset_index(drop=True)


def _prior_mean(p: priors.Prior) -> float:
    if p.dist == "loguniform":
        return (p.high - p.low) / np.log(p.high / p.low)
    return (p.low + p.high) / 2


def _quantile(prior: priors.Prior, x: np.ndarray) -> np.ndarray:
    """The prior's CDF (the inverse of ppf)."""
    x = np.asarray(x, dtype=float)
    if prior.dist == "loguniform":
        return (np.log(x) - np.log(prior.low)) / (np.log(prior.high) - np.log(prior.low))
    if prior.dist == "integer":
        n = int(prior.high) - int(prior.low) + 1
        return (x - prior.low + 0.5) / n
    return (x - prior.low) / (prior.high - prior.low)


def resample(post: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` parameter sets drawn from the posterior by weight (systematic resampling: low variance)."""
    w = post["weight"].to_numpy()
    positions = (np.random.default_rng(seed).random() + np.arange(n)) / n
    idx = np.minimum(np.searchsorted(np.cumsum(w), positions), len(w) - 1)
    return post.iloc[idx].drop(columns="weight").reset_index(drop=True)


# ----------------------------------------------------------------------------- what the posterior says


def counterfactuals() -> dict[str, tuple[dict, tuple[str, ...]]]:
    """configs/counterfactual/*.yaml as {name: (parameter overrides, dropped event kinds)}."""
    out = {}
    for path in sorted((CONFIG_DIR / "counterfactual").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text()) or {}
        out[path.stem] = (dict(doc.get("params") or {}), tuple(doc.get("drop_events") or ()))
    return out


def predictive(
    post: pd.DataFrame,
    settings: Settings,
    targets: Sequence[Target],
    scenarios: Sequence[str] | None = None,
    progress: bool | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Prior and posterior side by side: (checks, escalation). Checks: how often each target is met on
    the seed timeline by runs of parameter sets drawn from each. Escalation: P(escalation) for every
    scenario and counterfactual, pooled and across sets (median, 90% interval)."""
    from sim.model.scenario import list_scenarios

    n, r = settings.predictive_sets, settings.predictive_replicates
    draws = {
        "prior": pd.DataFrame(priors.sample(n, settings.seed + 1)),
        "posterior": resample(post, n, settings.seed + 2),
    }
    checks, esc = [], []
    for which, table in draws.items():  # the checks: the targets re-simulated on their own scenario
        sets = uncertainty.sets_from_table(table, {}, {}, which)
        runs = simulate_sets(load_scenario(SCENARIO), sets, settings.seed, r, targets, progress=progress)
        for t in targets:
            checks.append({"target": t.id, "condition": t.describe(), "distribution": which,
                           "share_met": float(runs[f"met_{t.id}"].mean())})  # fmt: skip
        checks.append({"target": "all", "condition": "every target", "distribution": which,
                       "share_met": float(runs["met_all"].mean())})  # fmt: skip
    for scenario_name in scenarios or list_scenarios():
        base = load_scenario(scenario_name)
        for cf, (over, drop) in counterfactuals().items():
            sc = base.without(*drop) if drop else base
            for which, table in draws.items():
                sets = uncertainty.sets_from_table(table, {}, {}, which, fixed=over)
                runs = simulate_sets(sc, sets, settings.seed, r, [], progress=progress)
                g = runs.assign(any_clash=runs["first_clash_day"] >= 0).groupby("set")
                per_set = g["escalated"].mean().to_numpy()
                q05, q50, q95 = np.quantile(per_set, (0.05, 0.5, 0.95))
                esc.append({"scenario": scenario_name, "counterfactual": cf, "distribution": which,
                            "p_escalation": float(runs["escalated"].mean()), "median": float(q50),
                            "q05": float(q05), "q95": float(q95), "sets": n, "replicates": r,
                            "p_any_clash": float(g["any_clash"].mean().mean()),
                            "p_sustained": float(g["sustained"].mean().mean()),
                            "per_set": per_set})  # fmt: skip
    esc = pd.DataFrame(esc)
    return pd.DataFrame(checks), esc.drop(columns="per_set"), effects_across_sets(esc)


def effects_across_sets(esc: pd.DataFrame) -> pd.DataFrame:
    """Each counterfactual's effect on P(escalation) against the history, per parameter set: the same sets
    and keyed random numbers run both ways, so a set's difference is the counterfactual's. Pooled
    difference and ratio, the middle 90% of the sets' differences, and the share of sets it raises."""
    rows = []
    for (scenario, which), g in esc.groupby(["scenario", "distribution"], sort=False):
        base = g[g["counterfactual"] == "none"]
        if base.empty:
            continue
        b = base["per_set"].iloc[0]
        for row in g[g["counterfactual"] != "none"].itertuples():
            d = row.per_set - b
            q05, q95 = np.quantile(d, (0.05, 0.95))
            rows.append({"scenario": scenario, "counterfactual": row.counterfactual, "distribution": which,
                         "p_base": float(b.mean()), "p_cf": float(row.per_set.mean()), "diff": float(d.mean()),
                         "diff_q05": float(q05), "diff_q95": float(q95),
                         "ratio": float(row.per_set.mean() / b.mean()) if b.mean() > 0 else float("inf"),
                         "share_raised": float((d > 0).mean()), "share_lowered": float((d < 0).mean())})  # fmt: skip
    return pd.DataFrame(rows)


def calibrate(
    out: Path, settings: Settings, progress: bool | None = None, scenarios: Sequence[str] | None = None,
    launcher: str | None = None, overrides: Sequence[str] = (),
) -> dict[str, Any] | None:
    """The whole calibration, each stage stored atomically in ``out`` (a rerun resumes): the prior bank,
    the posterior and its diagnostics, which parameters the record informs, and the predictive tables.
    ``launcher``: the bank's blocks as Hydra jobs under it (run_bank); None returned when they were submitted
    detached (run the same command again once they are done)."""
    out = Path(out)
    targets = load_targets()
    bank = run_bank(out, settings, targets, progress, launcher, overrides)
    if bank is None:
        return None
    post = posterior(bank)
    if post.empty:
        raise ParameterError("no prior draw meets every target: more draws or replicates needed")
    diag = diagnostics(bank, settings)
    info = informed(post)
    from sim.model.scenario import list_scenarios

    meta = {"settings": settings.__dict__, "targets": [t.id for t in targets],
            "scenarios": list(scenarios or list_scenarios())}  # fmt: skip
    atomic_write_parquet(post, out / "posterior.parquet", meta)
    atomic_write_parquet(info, out / "informed.parquet", meta)
    atomic_write_text(out / "diagnostics.json", json.dumps({**diag, **meta}, indent=1))
    checks_path, esc_path, eff_path = out / "checks.parquet", out / "escalation.parquet", out / "effects.parquet"
    if not (checks_path.exists() and esc_path.exists() and eff_path.exists()) or json.loads(
            (out / "predictive.json").read_text() if (out / "predictive.json").exists() else "{}") != meta:  # fmt: skip
        checks, esc, eff = predictive(post, settings, targets, scenarios, progress)
        atomic_write_parquet(checks, checks_path, meta)
        atomic_write_parquet(esc, esc_path, meta)
        atomic_write_parquet(eff, eff_path, meta)
        atomic_write_text(out / "predictive.json", json.dumps(meta, indent=1))
    return {
        "posterior": post,
        "diagnostics": diag,
        "informed": info,
        "checks": pd.read_parquet(checks_path),
        "escalation": pd.read_parquet(esc_path),
        "targets": targets,
    }


# ----------------------------------------------------------------------------- command line


def describe(res: dict[str, Any]) -> str:
    d = res["diagnostics"]["generations"][0]
    info = res["informed"]
    lines = [f"targets ({len(res['targets'])}, seeds/targets.yaml):"]
    lines += [f"  {t.id}: {t.describe()}  (¶{', ¶'.join(map(str, t.paragraphs))})" for t in res["targets"]]
    lines += ["", f"rejection ABC: {d['draws']} prior draws x {d['replicates']} runs, tolerance {d['threshold']:g} "
              f"(exact match); acceptance {d['acceptance_rate']:.3f}, "
              f"effective sample size {d['effective_sample_size']:.0f}",
              "", "posterior-predictive checks (share of runs meeting each target, seed timeline):"]  # fmt: skip
    checks = res["checks"].pivot(index="target", columns="distribution", values="share_met")
    for target, row in checks.iterrows():
        lines.append(f"  {target:34s} prior {row['prior']:.3f}   posterior {row['posterior']:.3f}")
    esc = res["escalation"]
    lines += ["", "P(escalation), pooled [90% interval across parameter sets]:"]
    for (scenario, cf), g in esc.groupby(["scenario", "counterfactual"], sort=False):
        cells = {r.distribution: f"{r.p_escalation:.3f} [{r.q05:.2f}, {r.q95:.2f}]" for r in g.itertuples()}
        lines.append(f"  {scenario:24s} {cf:18s} prior {cells['prior']:22s} posterior {cells['posterior']}")
    told = info[info["informed"]]
    lines += ["", f"the record informs {len(told)} of {len(info)} values: "
              + (", ".join(f"{r.factor} (mean {r.prior_mean:.3g} -> {r.posterior_mean:.3g})"
                           for r in told.itertuples()) or "none")]  # fmt: skip
    lines.append("the others: posterior equal to the prior, or within a few percent of it")
    return "\n".join(lines)
