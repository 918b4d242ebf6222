"""``python -m sim.calibrate``: the dispatch between the two calibrations and their command lines: ``--method
rejection`` (the article's yes/no facts, sim.analysis.calibration), ``--method smc`` (the record's counts,
sim.analysis.calibration_counts)."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from sim.model.params import ParameterError
from sim.run.cli import CommandParser

LAUNCHERS = ("basic", "joblib", "submitit_local", "submitit_slurm")
METHODS = ("rejection", "smc")
# Each method's defaults, declared here so that --help and a wrong argument need none of the methods' libraries;
# tests/test_startup.py checks them against sim.analysis.calibration.Settings and calibration_counts.Settings.
REJECTION = {"draws": 20_000, "replicates": 5, "seed": 20211107, "predictive_sets": 300, "predictive_replicates": 20}
SMC = {"particles": 2000, "replicates": 4, "generations": 12, "quantile": 0.5, "seed": 20211107, "predictive_sets": 300,
       "predictive_replicates": 200, "check_replicates": 20, "prior_replicates": 50, "independence_sets": 200,
       "kernel": "mvn"}
KERNELS = ("mvn", "diagonal")  # sim.analysis.abc_smc.KERNELS
FORECAST_CUTOFF = date(2021, 10, 10)  # the election: sim.analysis.calibration_counts.FORECAST_CUTOFF
REJECTION_DOC = ("Calibration to the record: approximate Bayesian computation with the vector engine (thousands of "
                 "parameter sets per batch), posterior-predictive checks and escalation probabilities, prior beside "
                 "posterior.")


def _disk_full(exc: OSError, out: Path) -> int:
    """A full disk: one line naming the folder, status 1 (every table is written atomically: none is half there;
    the stored generations or bank blocks stay for the rerun)."""
    from sim.run.storage import disk_full_line, is_disk_full

    if not is_disk_full(exc):
        raise exc
    print(disk_full_line(exc, out, "no table was half-written; what finished (generations, bank blocks) is kept for "
                         "the rerun"), file=sys.stderr)  # fmt: skip
    return 1


def cutoff_problem(cutoff: date) -> str | None:
    """Why a forecast cut-off makes no sense, or None: it must fall inside the record's window, with record
    before it to calibrate on and record after it to score the forecasts against (sim.model.record)."""
    from sim.model import record

    first, last = record.START + timedelta(days=1), record.CUTOFF - timedelta(days=1)
    if not first <= cutoff <= last:
        return (f"outside the record's window (seeds/record.yaml runs from {record.START} to {record.CUTOFF}): "
                f"allowed {first} to {last}, e.g. {FORECAST_CUTOFF} (the election)")
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """The dispatch: ``--method smc`` to the record's counts, else the yes/no facts (rejection ABC)."""
    pre = CommandParser(prog="python -m sim.calibrate", add_help=False)
    pre.add_argument("--method", choices=METHODS, default="rejection")
    known, rest = pre.parse_known_args(sys.argv[1:] if argv is None else list(argv))
    if known.method == "smc":  # the record's counts, sequentially (sim/analysis/calibration_counts.py)
        return smc_main(rest)
    return rejection_main(rest)


def rejection_main(argv: Sequence[str]) -> int:
    """``python -m sim.calibrate [--method rejection] [...]``: rejection ABC on the article's yes/no facts."""
    defaults = REJECTION
    ap = CommandParser(prog="python -m sim.calibrate", description=REJECTION_DOC,
                                 epilog="--method smc: ABC-SMC on the record's counts (seeds/record.yaml); "
                                        "python -m sim.calibrate --method smc --help for its options")  # fmt: skip
    ap.add_argument("--method", choices=METHODS, default="rejection",
                    help="rejection (default): the yes/no targets, one generation; smc: the record's counts")
    ap.add_argument(
        "--out", type=Path, default=Path("results/calibration"), help="folder (default results/calibration)"
    )
    ap.add_argument("--draws", type=int, default=defaults["draws"], help=f"prior draws ({defaults['draws']})")
    ap.add_argument("--replicates", type=int, default=defaults["replicates"],
                    help=f"runs per draw ({defaults['replicates']})")  # fmt: skip
    ap.add_argument("--seed", type=int, default=defaults["seed"], help=f"seed ({defaults['seed']})")
    ap.add_argument("--predictive-sets", type=int, default=defaults["predictive_sets"],
                    help=f"parameter sets per predictive run ({defaults['predictive_sets']})")  # fmt: skip
    ap.add_argument("--predictive-replicates", type=int, default=defaults["predictive_replicates"],
                    help=f"runs per predictive set ({defaults['predictive_replicates']})")  # fmt: skip
    ap.add_argument("--scenario", action="append", default=None, help="predictive scenarios (default: every one)")
    ap.add_argument("--no-figures", action="store_true")
    ap.add_argument("--launcher", choices=LAUNCHERS, default=None,
                    help="run the bank's blocks as Hydra jobs under this launcher (default: here, on threads)")
    ap.add_argument("--detach", action="store_true",
                    help="with a submitit launcher: submit the blocks and return; run the same command again later")
    ap.add_argument("overrides", nargs="*",
                    help="Hydra overrides for the blocks' jobs, e.g. hydra.launcher.partition=short")  # fmt: skip
    args = ap.parse_args(argv)
    if args.detach and args.launcher not in ("submitit_local", "submitit_slurm"):
        print("error: --detach needs --launcher submitit_slurm (or submitit_local)", file=sys.stderr)
        return 2
    if args.overrides and args.launcher is None:
        print(f"error: {args.overrides[0]}: Hydra overrides need --launcher", file=sys.stderr)
        return 2
    for name in ("draws", "replicates", "predictive_sets", "predictive_replicates"):
        value = getattr(args, name)
        if not 1 <= value <= 10_000_000:
            print(f"error: --{name.replace('_', '-')}={value} is out of range: allowed [1, 10000000]", file=sys.stderr)
            return 2
    if not 0 <= args.seed < 2**63:
        print(f"error: --seed={args.seed} is out of range: allowed [0, 2**63)", file=sys.stderr)
        return 2
    if args.out.exists() and not args.out.is_dir():
        print(f"error: --out={args.out} is a file, not a folder: give a folder for the calibration's tables",
              file=sys.stderr)  # fmt: skip
        return 2
    from sim.analysis.calibration import Settings, calibrate, describe

    settings = Settings(args.draws, args.replicates, args.seed, min(Settings.block, args.draws), args.predictive_sets,
                        args.predictive_replicates)  # fmt: skip
    t0 = time.perf_counter()
    try:
        overrides = [*args.overrides, *(["hydra.launcher.detach=true"] if args.detach else [])]
        res = calibrate(args.out, settings, scenarios=args.scenario, launcher=args.launcher, overrides=overrides)
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        return _disk_full(exc, args.out)
    if res is None:
        print(f"the bank's missing blocks are submitted; python -m sim.status {args.out}/bank/jobs says how they "
              "do; when it says complete, run this command again (without --detach) to finish the calibration")
        return 0
    print(describe(res))
    print(f"\n{time.perf_counter() - t0:.0f} s; wrote {args.out}/posterior.parquet (parameter sets with weights), "
          "diagnostics.json, informed.parquet, checks.parquet, escalation.parquet")  # fmt: skip
    if not args.no_figures:
        from sim.analysis import study_figures

        for path in study_figures.calibration_figures(args.out, args.out / "figures"):
            print(f"wrote {path}")
    print(f"use it: python -m sim params_from={args.out}/posterior.parquet")
    return 0


def smc_main(argv: Sequence[str]) -> int:
    """``python -m sim.calibrate --method smc [...]``: every result of the calibration on the record's counts (the
    headline's calibration, the same with the outcome in, the forecasts from each cut-off), or one calibration."""
    defaults = SMC
    ap = CommandParser(prog="python -m sim.calibrate --method smc",
                          description="ABC-SMC on the record's counts (seeds/record.yaml): the headline's "
                                      "posterior, the same with the outcome in, and forecasts from the "
                                      "cut-offs 2021-07-01 and 2021-10-10, in one command")  # fmt: skip
    ap.add_argument("--out", type=Path, default=None,
                    help="folder (default results/calibration_counts, or ..._<cutoff> with --cutoff)")  # fmt: skip
    ap.add_argument("--particles", type=int, default=defaults["particles"])
    ap.add_argument("--replicates", type=int, default=defaults["replicates"])
    ap.add_argument("--generations", type=int, default=defaults["generations"])
    ap.add_argument("--quantile", type=float, default=defaults["quantile"])
    ap.add_argument("--seed", type=int, default=defaults["seed"])
    ap.add_argument("--predictive-sets", type=int, default=defaults["predictive_sets"])
    ap.add_argument("--predictive-replicates", type=int, default=defaults["predictive_replicates"],
                    help="runs per posterior set for P(escalation) and the effects (default 200)")  # fmt: skip
    ap.add_argument("--check-replicates", type=int, default=defaults["check_replicates"],
                    help="runs per set for the predictive checks and the forecasts (default 20)")  # fmt: skip
    ap.add_argument("--kernel", choices=KERNELS, default=defaults["kernel"],
                    help="mvn (default): the population's covariance on the informed values; diagonal: the "
                         "earlier independent truncated normals")  # fmt: skip
    ap.add_argument("--fixed-scales", action="store_true", help="do not adapt the distance's scales")
    ap.add_argument("--regression", action="store_true", help="report the regression-adjusted posterior")
    ap.add_argument("--default-structure", action="store_true",
                    help="calibrate today's structure only (default: weigh every rival structure of "
                         "sim/model/structures.py with a model index)")  # fmt: skip
    ap.add_argument("--cutoff", default=None,
                    help=f"only one calibration: on the record up to this date, scoring forecasts of what followed "
                         f"(e.g. {FORECAST_CUTOFF})")  # fmt: skip
    ap.add_argument("--single", choices=("headline", "with-outcome"), default=None,
                    help="only one calibration: the headline's (the outcome left out) or with the outcome in")
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args(argv)
    for name in ("particles", "replicates", "generations", "predictive_sets", "predictive_replicates",
                 "check_replicates"):  # fmt: skip
        if not 1 <= getattr(args, name) <= 10_000_000:
            print(f"error: --{name.replace('_', '-')}={getattr(args, name)} is out of range: allowed [1, 10000000]",
                  file=sys.stderr)  # fmt: skip
            return 2
    if not 0 < args.quantile < 1:
        print(f"error: --quantile={args.quantile} must lie in (0, 1)", file=sys.stderr)
        return 2
    if args.workers is not None and not 1 <= args.workers <= 1024:
        print(f"error: --workers={args.workers} is out of range: allowed [1, 1024] (default: the CPUs this process "
              "may use)", file=sys.stderr)  # fmt: skip
        return 2
    try:
        cutoff = None if args.cutoff is None else date.fromisoformat(args.cutoff)
    except ValueError:
        print(f"error: --cutoff={args.cutoff!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
        return 2
    if cutoff is not None and (problem := cutoff_problem(cutoff)):
        print(f"error: --cutoff={cutoff}: {problem}", file=sys.stderr)
        return 2
    out = args.out or Path("results/calibration_counts" + (f"_{cutoff}" if cutoff else ""))
    if out.exists() and not out.is_dir():
        print(f"error: --out={out} is a file, not a folder: give a folder for the calibration's tables",
              file=sys.stderr)  # fmt: skip
        return 2
    from sim.analysis.calibration_counts import Settings, calibrate, describe, study

    settings = Settings(particles=args.particles, replicates=args.replicates, generations=args.generations,
                        quantile=args.quantile, seed=args.seed, predictive_sets=args.predictive_sets,
                        predictive_replicates=args.predictive_replicates, check_replicates=args.check_replicates,
                        cutoff=None if cutoff is None else str(cutoff), outcome=args.single == "with-outcome",
                        kernel=args.kernel, adapt_scales=not args.fixed_scales, regression=args.regression,
                        structures=not args.default_structure)  # fmt: skip
    t0 = time.perf_counter()
    try:
        if cutoff is not None or args.single:
            results = {"calibration": calibrate(out, settings, workers=args.workers)}
        else:
            results = study(out, settings, workers=args.workers)
    except (ParameterError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        return _disk_full(exc, out)
    from sim.analysis.record_figure import monthly_attacks_figure

    for name, res in results.items():
        print(f"\n=== {name}\n{describe(res)}")
    first = next(iter(results.values()))
    figure = monthly_attacks_figure(first["monthly"], out / "figures" / "calibration_counts_monthly")[0]
    print(f"\nfigure: {figure}")
    print(f"\n{time.perf_counter() - t0:.0f} s; wrote {out}/ (posterior.parquet: parameter sets with weights; "
          "diagnostics.json, generations.parquet, informed.parquet, checks.parquet, monthly.parquet, and for the "
          "headline escalation.parquet, effects.parquet, independence.parquet; forecasts: scores.parquet)")  # fmt: skip
    print(f"use it: python -m sim params_from={out}/posterior.parquet")
    return 0
