"""One validation pass over everything a run is given, before Hydra makes a folder or a log: the command
line, the composed config (every key, the scenario or scenario file, run settings) and every job of a sweep."""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sim import paths
from sim.model.params import ParameterError, make_militias, make_params, structure_of, suggest, unused_values
from sim.model.scenario import EVENT_KINDS, Scenario, load_scenario_file, scenario_from_mapping
from sim.model.structures import MECHANISM_BY_NAME, MECHANISM_NAMES, Structure
from sim.run.config_schema import (
    ENGINES,
    RunConfig,
    base_params,
    check_overrides,
    check_setting,
    one_line,
    register,
)

SETTINGS = tuple(f.name for f in dataclasses.fields(RunConfig))
DESIGN_KEYS = ("method", "size", "seed", "factors", "second_order", "blocks", "block")
# Every job of a sweep is checked when there are at most this many (about 5 ms each once composed); beyond,
# each value of each axis is checked once, with the other axes at their first value.
MAX_JOBS_CHECKED = 2000
# Bytes a single run writes, per replicate (runs.parquet) and per replicate-day kept (daily.parquet): measured
# 15.7 and 17.9 on a 1,000,000-replicate seed_timeline run (zstd), rounded up for other scenarios and parameters.
RUNS_BYTES_PER_ROW = 24
DAILY_BYTES_PER_ROW = 24
# Hydra's flags that print something instead of running a job: nothing to check, nothing is written.
NO_RUN_FLAGS = ("help", "hydra_help", "cfg", "info", "shell_completion")


@dataclass(frozen=True)
class Inputs:
    """What a run starts from, validated: parameters, militia table and scenario."""

    params: Any
    militias: tuple
    scenario: Scenario


# ----------------------------------------------------------------------------- the composed config


def check_config(cfg: DictConfig, overrides: Sequence[str] = (), multirun: bool = False) -> Inputs:
    """Check a composed config whole, the way a job will read it; return its validated inputs.
    ``overrides`` (as typed) only help name where a bad key came from; ``multirun``: a job of a sweep."""
    for key in cfg:
        if key not in SETTINGS and key != "hydra":
            raise ParameterError(f"{_source(str(key), overrides)}{key} is not a setting{suggest(str(key), SETTINGS)}; "
                                 "see configs/config.yaml for the settings")  # fmt: skip
    for key in ("replicates", "daily_replicates", "seed", "memory_budget_mb", "chunk_size", "workers", "draws",
                "max_days", "progress_interval_s"):  # fmt: skip
        check_setting(key, cfg[key])
    if cfg.engine not in ENGINES:
        raise ParameterError(f"engine={cfg.engine!r} is not an engine; allowed: {', '.join(ENGINES)}")
    for key in ("figure", "verbose", "progress", "allow_mixed_versions"):
        if not isinstance(cfg[key], bool) and not (key == "progress" and cfg[key] is None):
            raise ParameterError(f"{key}={cfg[key]!r} is not a switch: use {key}=true or {key}=false")
    _plain(cfg.params, "params")
    base = base_params(cfg)
    params = make_params(base)
    structure = structure_of(params)
    militias_cfg = _plain(cfg.militias, "militias")
    militias = make_militias(militias_cfg)
    drop = cfg.drop_events
    if not OmegaConf.is_list(drop) and not isinstance(drop, list | tuple):
        raise ParameterError(f"drop_events={drop!r} must be a list of event kinds, e.g. drop_events=[mediation]")
    for kind in drop:
        if kind not in EVENT_KINDS:
            raise ParameterError(f"drop_events: {kind!r} is not an event kind{suggest(str(kind), EVENT_KINDS)}; "
                                 f"allowed: {', '.join(EVENT_KINDS)}")  # fmt: skip
    scenario = _scenario(cfg)
    if scenario.days > cfg.max_days:
        raise ParameterError(
            f"scenario {scenario.name} runs {scenario.days} days ({scenario.start} to {scenario.end}), more than "
            f"max_days={cfg.max_days}: if you mean it, raise the limit, e.g. max_days={scenario.days}"
        )
    if not isinstance(cfg.study, str):
        raise ParameterError(f"study={cfg.study!r} must be a name")
    grid_structures = _check_grid(cfg.grid, base)
    _check_unused(params, grid_structures, cfg.grid)
    _check_design(cfg.design, structure)
    _check_policies(cfg.policies, cfg.design, cfg.grid)
    _check_calibration(cfg.calibration)
    if cfg.params_from is not None:
        _check_params_from(cfg, base, militias_cfg)
    _check_set_block(cfg)
    if cfg.engine == "mesa" and (cfg.grid or cfg.design or cfg.policies or cfg.params_from or multirun
                                 or _is_multirun(cfg)):  # fmt: skip
        raise ParameterError("engine=mesa runs single runs only: sweeps, grids, designs and params_from run on "
                             "engine=vector or engine=compiled (same results, bit for bit)")  # fmt: skip
    return Inputs(params, militias, scenario)


def resolve_inputs(cfg: DictConfig) -> tuple[Any, tuple, Scenario]:
    """Validated (params, militias, scenario) of a composed config: what every run starts from. The same
    check as ``python -m sim`` makes before Hydra starts (sim.run.validate), for configs composed in Python."""
    inputs = check_config(cfg)
    return inputs.params, inputs.militias, inputs.scenario


def _source(key: str, overrides: Sequence[str]) -> str:
    """``+replicate=5: `` when an override typed on the command line set ``key``, else nothing."""
    for o in overrides:
        if o.split("=", 1)[0].lstrip("+~").split(".")[0] == key:
            return f"{o}: "
    return ""


def _plain(node: Any, name: str) -> dict:
    if not OmegaConf.is_dict(node):
        raise ParameterError(f"{name} must be a mapping of names to values, not {node!r}")
    return OmegaConf.to_container(node, resolve=True)


def _scenario(cfg: DictConfig) -> Scenario:
    file = cfg.scenario_file
    if file is not None:
        scenario = load_scenario_file(str(file))
    else:
        if not OmegaConf.is_dict(cfg.get("scenario")):
            raise ParameterError("scenario is not set: give scenario=<name> or scenario_file=<path>")
        scenario = scenario_from_mapping(OmegaConf.to_container(cfg.scenario, resolve=True))
    return scenario.without(*cfg.drop_events) if cfg.drop_events else scenario


def _check_grid(grid: Any, base: Mapping[str, Any]) -> list[Structure]:
    """A grid's axes, each value in its range; returns the structures its points run (one if it has no
    structure axis)."""
    from sim.model.params import PARAM_BY_NAME
    from sim.run.sweep import grid_structures

    if not OmegaConf.is_dict(grid):
        raise ParameterError(f"grid={grid!r} must map parameters to lists of values, e.g. "
                             "+grid.patron_influence=[0.3,0.9]")  # fmt: skip
    spec = OmegaConf.to_container(grid, resolve=True)
    for key, values in spec.items():
        if key == "structure":
            if not isinstance(values, dict):
                raise ParameterError("grid.structure must map mechanisms to lists of alternatives, e.g. "
                                     "+grid.structure.clash=[hazard,epstein_ii]")  # fmt: skip
            for mech, names in values.items():
                if mech not in MECHANISM_BY_NAME:
                    raise ParameterError(f"grid.structure.{mech}: {mech} is not a mechanism"
                                         f"{suggest(str(mech), MECHANISM_NAMES)}; "
                                         f"allowed: {', '.join(MECHANISM_NAMES)}")  # fmt: skip
                items = names if isinstance(names, list) else [names]
                if not items:
                    raise ParameterError(f"grid.structure.{mech}=[] is empty: give at least one alternative")
                for name in items:
                    MECHANISM_BY_NAME[mech].code(name)
            continue
        name = str(key).removeprefix("params.")
        if name not in PARAM_BY_NAME:
            raise ParameterError(f"grid.{key}: {name} is not a parameter{suggest(name, list(PARAM_BY_NAME))}")
        items = values if isinstance(values, list) else [values]
        if not items:
            raise ParameterError(f"grid.{key}=[] is empty: give at least one value")
        for v in items:
            PARAM_BY_NAME[name].check(v, prefix="grid.")
        if PARAM_BY_NAME[name].role == "structure":
            raise ParameterError(f"grid.{key}: give structures by name, +grid.structure."
                                 f"{name.removeprefix('structure_')}=[...]")  # fmt: skip
    return grid_structures(base, spec)


def _check_unused(params: Any, structures: Sequence[Structure], grid: Any) -> None:
    """A value of an alternative's parameter, set on the command line, a grid or an experiment, that no
    structure of the run uses would change nothing: refuse it, naming the structure that would use it."""
    from sim.model.params import PARAM_BY_NAME, owner, params_in_use

    used = {p.name for s in structures for p in params_in_use(s)}
    axes = {str(k).removeprefix("params.") for k in OmegaConf.to_container(grid, resolve=True) if k != "structure"}
    for name in [*unused_values(params), *(a for a in sorted(axes) if PARAM_BY_NAME[a].role == "alternative")]:
        if name not in used:
            raise ParameterError(f"params.{name} is a parameter of {owner(name)}, which this run does not use: add "
                                 f"{owner(name)} (or leave {name} at its default)")  # fmt: skip


def _known_fields(node: Any, name: str, keys: tuple[str, ...], hint: str, what: str) -> dict:
    """``node`` as a plain dict, or a one-line error if it is not a mapping or names a field not in ``keys``."""
    if not OmegaConf.is_dict(node):
        raise ParameterError(f"{name}={node!r} must be a mapping {hint}")
    values = OmegaConf.to_container(node, resolve=True)
    for key in values:
        if key not in keys:
            raise ParameterError(f"{name}.{key} is not {what}{suggest(str(key), keys)}; allowed: {', '.join(keys)}")
    return values


def _check_design(design: Any, structure: Structure | None = None) -> None:
    from sim.run.designs import DesignSpec, block_rows

    spec = _known_fields(design, "design", DESIGN_KEYS, "(method, size, seed, factors, ...)", "a design field")
    if not spec:
        return
    d = DesignSpec.from_config(spec, structure)
    blocks, block = spec.get("blocks", 1), spec.get("block", 0)
    for key, value in (("blocks", blocks), ("block", block)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterError(f"design.{key}={value!r} must be a whole number")
    rows = design_rows(d)
    if not 1 <= blocks <= rows:
        raise ParameterError(f"design.blocks={blocks} is out of range: allowed [1, {rows}] (the design's rows)")
    block_rows(rows, blocks, block)


def _check_policies(node: Any, design: Any, grid: Any) -> None:
    """A policy study (sim.run.policies): its policies, levers and values, scenarios, source, targets, blocks."""
    from sim.run.designs import block_rows
    from sim.run.policies import KEYS, PolicySpec

    values = _known_fields(node, "policies", KEYS, "(named, scenarios, source, seed, targets, blocks, block)",
                           "a policies field")  # fmt: skip
    if not values:
        return
    if design or grid:
        raise ParameterError("policies runs its own points: give it without design or grid")
    spec = PolicySpec.from_config(values)
    if spec.source != "prior":
        from sim.run import uncertainty

        uncertainty.from_file(spec.source)  # a one-line error if it is not a table of parameter sets
    blocks, block = values.get("blocks", 1), values.get("block", 0)
    for key, value in (("blocks", blocks), ("block", block)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterError(f"policies.{key}={value!r} must be a whole number")
    if not 1 <= blocks <= spec.scenarios:
        raise ParameterError(f"policies.blocks={blocks} is out of range: allowed [1, {spec.scenarios}] (the "
                             "scenarios)")  # fmt: skip
    try:
        block_rows(spec.scenarios, blocks, block)
    except ParameterError:
        raise ParameterError(f"policies.block={block} is out of range: allowed [0, {blocks - 1}]") from None


CALIBRATION_KEYS = ("out", "draws", "replicates", "seed", "block_size", "block")


def _check_calibration(spec: Any) -> None:
    """A calibration bank block job (written by python -m sim.calibrate --launcher): every field, in range."""
    values = _known_fields(spec, "calibration", CALIBRATION_KEYS, "(set by python -m sim.calibrate --launcher)",
                           "a field")  # fmt: skip
    if not values:
        return
    missing = [k for k in CALIBRATION_KEYS if k not in values]
    if missing:
        raise ParameterError(f"calibration needs {', '.join(missing)} (python -m sim.calibrate --launcher sets them)")
    limits = {"draws": (1, 10_000_000), "replicates": (1, 10_000_000), "seed": (0, 2**63 - 1),
              "block_size": (1, 10_000_000)}  # fmt: skip
    for key, (lo, hi) in limits.items():
        v = values[key]
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ParameterError(f"calibration.{key}={v!r} is out of range: allowed [{lo}, {hi}], a whole number")
    blocks = -(-values["draws"] // values["block_size"])
    b = values["block"]
    if isinstance(b, bool) or not isinstance(b, int) or not 0 <= b < blocks:
        raise ParameterError(f"calibration.block={b!r} is out of range: allowed [0, {blocks - 1}]")


def design_rows(spec: Any) -> int:
    """The number of rows a design has, without building it (SALib's sizes)."""
    n = len(spec.factors)
    if spec.method == "morris":
        return spec.size * (n + 1)
    if spec.method == "sobol":
        return spec.size * (2 * n + 2 if spec.second_order else n + 2)
    return spec.size


def _check_params_from(cfg: DictConfig, base: Mapping[str, Any], militias: Mapping[str, Any]) -> None:
    from sim.run import uncertainty

    source = cfg.params_from
    if not isinstance(source, str) or not source:
        raise ParameterError(f"params_from={source!r} must be prior or a Parquet/CSV file of parameter sets")
    if source != "prior":
        uncertainty.parameter_sets(source, int(cfg.draws), int(cfg.seed), base, militias)
    if cfg.engine not in ("vector", "compiled"):
        raise ParameterError("params_from needs engine=vector or engine=compiled (thousands of runs)")


def _check_set_block(cfg: DictConfig) -> None:
    """set_blocks / set_block: whole numbers, the block among the blocks, and only with params_from."""
    blocks, block = cfg.set_blocks, cfg.set_block
    if isinstance(blocks, bool) or not isinstance(blocks, int) or not 1 <= blocks <= 1_000_000:
        raise ParameterError(f"set_blocks={blocks!r} is out of range: allowed [1, 1000000], a whole number")
    if block is None:
        return
    if isinstance(block, bool) or not isinstance(block, int) or not 0 <= block < blocks:
        raise ParameterError(f"set_block={block!r} is out of range: allowed [0, {blocks - 1}] (set_blocks={blocks})")
    if not cfg.params_from:
        raise ParameterError("set_block needs params_from (it picks a block of the parameter sets)")
    if blocks > int(cfg.draws) and cfg.params_from == "prior":
        raise ParameterError(f"set_blocks={blocks} is more than the {cfg.draws} parameter sets (draws)")


def _is_multirun(cfg: DictConfig) -> bool:
    hydra = cfg.get("hydra")
    return hydra is not None and str(OmegaConf.select(hydra, "mode", default=None)) == "RunMode.MULTIRUN"


# ----------------------------------------------------------------------------- the command line


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Hydra's own command-line parser, with its usage-and-error exit turned into one line."""
    from hydra._internal.utils import get_args_parser

    parser = get_args_parser()

    def error(message: str) -> None:
        raise ParameterError(f"{message} (python -m sim --help lists the flags)")

    parser.error = error  # type: ignore[method-assign]
    return parser.parse_args(list(argv))


def check_command_line(argv: Sequence[str]) -> None:
    """Check ``python -m sim`` arguments whole: raise a one-line ParameterError for the first problem.
    Nothing is created: composing a config with Hydra's compose API writes no folder and no log."""
    args = parse_args(argv)
    if any(getattr(args, flag, None) for flag in NO_RUN_FLAGS) or args.experimental_rerun:
        return
    check_overrides(args.overrides)  # one override at a time: the clearest message for a typo or a bad value
    _check_twice(args.overrides)
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    register()  # the structured schema the configs build on
    config_dir = _config_dir(args.config_path)
    extra = [f"hydra.searchpath=[file://{Path(args.config_dir).resolve()}]"] if args.config_dir else []
    with initialize_config_dir(config_dir=config_dir, version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        parser = OverridesParser.create(config_loader=loader)
        try:
            parsed = parser.parse_overrides(list(args.overrides))
        except Exception as exc:  # Hydra's grammar errors: one line
            raise ParameterError(one_line(exc)) from None
        fixed = [o.input_line for o in parsed if not o.is_sweep_override()]
        cfg = _compose(compose, args.config_name or "config", [*fixed, *extra])  # the config without the sweeps
        multirun = args.multirun or _is_multirun(cfg)
        sweeps = [o for o in parsed if o.is_sweep_override()]
        if sweeps and not multirun:
            raise ParameterError(f"{sweeps[0].input_line} is a sweep: add -m (--multirun) to run one job per value, "
                                 "or write a list as key=[a,b]")  # fmt: skip
        if not multirun:
            inputs = check_config(cfg, fixed)
            check_disk(cfg, inputs.scenario)
            return
        _check_sweep_folder(cfg)
        _check_versions(cfg)
        jobs, swept = _jobs(cfg, list(args.overrides), parser)
        composed: dict[tuple[str, ...], DictConfig] = {}
        for job in jobs:  # compose once per choice of config groups; apply each job's values to a copy
            is_group = [loader.repository.group_exists(o.key_or_group.lstrip("+~")) for o in job]
            groups = tuple(o.input_line for o, g in zip(job, is_group, strict=True) if g)
            if groups not in composed:
                full = _compose(compose, args.config_name or "config", [*groups, *extra])
                # Hydra's own node is checked by composing; copying it for every job would cost most of the time
                composed[groups] = OmegaConf.masked_copy(full, [k for k in full if k != "hydra"])
            job_cfg = composed[groups].copy()
            _apply(job_cfg, [o for o, g in zip(job, is_group, strict=True) if not g and not o.is_hydra_override()])
            try:
                check_config(job_cfg, fixed, multirun=True)
            except ParameterError as exc:
                where = " ".join(o.input_line for o in job if o.get_key_element() in swept)
                raise ParameterError(f"{exc} (in the sweep's job {where})" if where else str(exc)) from None


def _check_twice(overrides: Sequence[str]) -> None:
    """The same key set twice on the command line: Hydra would silently keep one of them."""
    seen: dict[str, str] = {}
    for o in overrides:
        if "=" not in o or o.startswith("-"):
            continue
        key = o.split("=", 1)[0].lstrip("+~")
        if key in seen:
            raise ParameterError(f"{key} is given twice ({seen[key]} and {o}): give it once (a sweep over both "
                                 f"values is {key}=a,b with -m)")  # fmt: skip
        seen[key] = o


def check_disk(cfg: DictConfig, scenario: Scenario) -> None:
    """A single run's tables against the free space where its folder will be: a run that cannot fit stops now,
    not hours later on a full disk."""
    if cfg.params_from or cfg.grid or cfg.design or cfg.policies:
        return
    runs = int(cfg.replicates) * RUNS_BYTES_PER_ROW
    daily = min(int(cfg.daily_replicates), int(cfg.replicates)) * scenario.days * DAILY_BYTES_PER_ROW
    try:
        folder = Path(str(OmegaConf.select(cfg, "hydra.run.dir"))).absolute()
    except Exception:  # an unresolvable folder name: the current folder is where results go by default
        folder = Path.cwd()
    while not folder.exists():
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if runs + daily > free:
        raise ParameterError(
            f"this run writes about {_size(runs + daily)} (runs.parquet {_size(runs)}, daily.parquet {_size(daily)}) "
            f"but {folder} has {_size(free)} free: lower replicates or daily_replicates, or set hydra.run.dir"
        )


def _size(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def _check_sweep_folder(cfg: DictConfig) -> None:
    """A design sweep resumed in a folder that holds another design would fail in its first job: say so now."""
    import json

    from sim.run.designs import DesignSpec

    if not cfg.design:
        return
    try:
        folder = Path(str(OmegaConf.select(cfg, "hydra.sweep.dir")))
        record = json.loads((folder / "design.json").read_text())
    except Exception:  # no folder yet, no design.json, or an unresolvable name: nothing to compare with
        return
    spec = DesignSpec.from_config(OmegaConf.to_container(cfg.design, resolve=True),
                                  structure_of(make_params(base_params(cfg))))  # fmt: skip
    if record.get("key") != spec.key:
        raise ParameterError(f"{folder} holds another design ({record.get('method')}, size {record.get('size')}): "
                             "use a new hydra.sweep.dir for a new design")  # fmt: skip


def _check_versions(cfg: DictConfig) -> None:
    """Resuming a sweep whose points other library versions computed would mix them: say so before submitting
    (every job checks again where it runs, sim.run.sweep.run_job_points)."""
    from sim.run import provenance

    if cfg.allow_mixed_versions:
        return
    try:
        folder = Path(str(OmegaConf.select(cfg, "hydra.sweep.dir")))
    except Exception:  # an unresolvable name: nothing to compare with yet
        return
    if (folder / "points").is_dir() and (problem := provenance.mixed(folder, provenance.here())):
        raise ParameterError(f"{problem}; resuming here would mix them in one sweep: use a new hydra.sweep.dir, "
                             "or allow_mixed_versions=true to mix them knowingly")  # fmt: skip


def _config_dir(config_path: str | None) -> str:
    if config_path is None:
        return str(paths.CONFIG_DIR)
    path = Path(config_path)
    return str(path if path.is_absolute() else (Path(__file__).parent / path).resolve())


def _compose(compose, name: str, overrides: list[str]) -> DictConfig:
    try:
        return compose(name, overrides=overrides, return_hydra_config=True)
    except ParameterError:
        raise
    except Exception as exc:  # Hydra's and OmegaConf's multi-line messages: one line
        raise ParameterError(_unknown_key(exc, overrides) or one_line(exc)) from None


def _apply(cfg: DictConfig, overrides: list[Any]) -> None:
    """A job's value overrides applied as Hydra applies them (add, force-add, delete, change)."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    try:
        ConfigLoaderImpl._apply_overrides_to_config(overrides, cfg)
    except Exception as exc:
        raise ParameterError(_unknown_key(exc, [o.input_line for o in overrides]) or one_line(exc)) from None


def _unknown_key(exc: BaseException, overrides: Sequence[str]) -> str | None:
    """Hydra's "Could not override 'replicate'" (a key that is not in the config) with a did-you-mean."""
    text = str(exc)
    if not text.startswith("Could not override '"):
        return None
    key = text.split("'")[1]
    head, _, rest = key.partition(".")
    source = _source(head, overrides)
    if head in SETTINGS and rest:
        return f"{source}{key} is not in the config; to add a key to {head}, use +{key}=..."
    if head in SETTINGS or head == "hydra":
        return None
    return f"{source}{head} is not a setting{suggest(head, SETTINGS)}; see configs/config.yaml for the settings"


def _jobs(cfg: DictConfig, args: list[str], parser: Any) -> tuple[list[list[Any]], set[str]]:
    """The overrides of every job the basic sweeper would launch: the experiment's ``hydra.sweeper.params``
    then the command line (the later wins for a key), as a product of the sweep axes; and the swept keys."""
    sweeper = OmegaConf.select(cfg, "hydra.sweeper", default=None)
    target = str(OmegaConf.select(sweeper, "_target_", default="")) if sweeper is not None else ""
    params = sweeper.get("params") if sweeper is not None else None
    params = OmegaConf.to_container(params, resolve=False) if params else {}
    lines = [f"{k}={v}" for k, v in params.items()] + args
    try:
        parsed = parser.parse_overrides(lines)
    except Exception as exc:
        raise ParameterError(f"hydra.sweeper.params: {one_line(exc)}") from None
    axes: dict[str, list[Any]] = {}
    for o in parsed:
        key = o.get_key_element()
        if o.is_interval_sweep():
            _check_interval(o)
            if target.endswith("BasicSweeper"):
                raise ParameterError(f"{o.input_line}: interval() needs an optimising sweeper (Optuna, Nevergrad); "
                                     "the basic sweeper takes lists (a,b,c), range() and choice()")  # fmt: skip
            continue
        if o.is_sweep_override():
            try:
                lines_ = [f"{key}={v}" for v in o.sweep_string_iterator()]
            except Exception as exc:  # e.g. glob() over a group that does not exist
                raise ParameterError(f"{o.input_line}: {one_line(exc)}") from None
            if not lines_:
                raise ParameterError(f"{o.input_line} sweeps over no values")
        else:
            lines_ = [f"{key}={o.get_value_element_as_str()}"]
        axes[key] = [parser.parse_override(line) for line in lines_]
    swept = {o.get_key_element() for o in parsed if o.is_sweep_override()}
    total = 1
    for values in axes.values():
        total *= len(values)
    if total <= MAX_JOBS_CHECKED:
        return [list(job) for job in itertools.product(*axes.values())], swept
    first = [v[0] for v in axes.values()]
    return [[*first[:i], v, *first[i + 1 :]] for i, values in enumerate(axes.values()) for v in values], swept


def _check_interval(o: Any) -> None:
    """An interval sweep's bounds against the swept value's declared range."""
    from sim.model.params import PARAM_BY_NAME

    key = o.key_or_group.lstrip("+~")
    interval = o.value()
    parts = key.split(".")
    for bound in (interval.start, interval.end):
        if parts[0] == "params" and len(parts) == 2 and parts[1] in PARAM_BY_NAME:
            PARAM_BY_NAME[parts[1]].check(bound, prefix="params.")
        elif parts[0] == "militias" and len(parts) == 3:
            make_militias({parts[1]: {parts[2]: bound}})
