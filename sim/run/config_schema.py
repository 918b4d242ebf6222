"""Hydra's structured-config schema, generated from the parameter declaration (never typed twice),
and the one-line validation of command-line overrides before any work starts."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, BooleanNode, ValidationError

from sim import paths
from sim.model.params import (
    MILITIA_FIELDS,
    MILITIA_KEYS,
    MILITIAS,
    PARAM_BY_NAME,
    PARAMS,
    ParameterError,
    make_militias,
    suggest,
)
from sim.model.scenario import load_scenario_file
from sim.model.structures import MECHANISM_BY_NAME, MECHANISM_NAMES, MECHANISMS, make_structure
from sim.run.naming import register_resolver

# The structure parameters are chosen by name under `structure.` (StructureSchema), not under `params.`.
ParamsSchema = dataclasses.make_dataclass(
    "ParamsSchema", [(p.name, p.kind, field(default=p.default)) for p in PARAMS if p.role != "structure"]
)
StructureSchema = dataclasses.make_dataclass(
    "StructureSchema", [(m.name, str, field(default=m.default.name)) for m in MECHANISMS]
)


def _militia_schema(m) -> type:
    return dataclasses.make_dataclass(
        f"Militia_{m.key}", [(f.name, float, field(default=getattr(m, f.name))) for f in MILITIA_FIELDS]
    )


MilitiasSchema = dataclasses.make_dataclass(
    "MilitiasSchema", [(m.key, (cls := _militia_schema(m)), field(default_factory=cls)) for m in MILITIAS]
)

ENGINES = ("vector", "compiled", "mesa")
CONFIG_DIR = paths.CONFIG_DIR
CONFIG_GROUPS = ("scenario", "counterfactual", "experiment", "launcher")
# Run settings: allowed ranges. A horizon beyond max_days (3 years by default) must be asked for explicitly.
RUN_LIMITS = {"replicates": (1, 10_000_000), "daily_replicates": (0, 10_000_000), "seed": (0, 2**63 - 1),
              "memory_budget_mb": (16, 1_000_000), "chunk_size": (1, 10_000_000), "workers": (1, 1024),
              "draws": (1, 1_000_000), "max_days": (1, 36_525), "progress_interval_s": (1, 86_400)}  # fmt: skip
WHOLE_SETTINGS = ("replicates", "daily_replicates", "seed", "chunk_size", "workers", "draws", "max_days")
NULLABLE_SETTINGS = ("chunk_size", "workers")  # null: derived (from the memory budget, from the CPUs)
BOOL_KEYS = ("figure", "verbose", "progress")


@dataclass
class RunConfig:
    """One run (or one sweep job): engine, replicates, seed, scenario, parameters."""

    engine: str = "vector"
    replicates: int = 2000
    seed: int = 20211107
    daily_replicates: int = 1000
    memory_budget_mb: float = 2048.0
    chunk_size: int | None = None
    workers: int | None = None
    progress: bool | None = None
    progress_interval_s: float = 30.0
    max_days: int = 1096
    figure: bool = True
    verbose: bool = False
    drop_events: list[str] = field(default_factory=list)
    scenario_file: Any = None
    study: str = ""
    grid: dict[str, Any] = field(default_factory=dict)
    design: dict[str, Any] = field(default_factory=dict)
    policies: dict[str, Any] = field(default_factory=dict)
    params_from: Any = None
    draws: int = 200
    set_blocks: int = 1
    set_block: int | None = None
    calibration: dict[str, Any] = field(default_factory=dict)
    allow_mixed_versions: bool = False
    scenario: Any = MISSING
    params: Any = field(default_factory=ParamsSchema)
    militias: Any = field(default_factory=MilitiasSchema)
    structure: Any = field(default_factory=StructureSchema)


def register() -> None:
    ConfigStore.instance().store(name="run_schema", node=RunConfig)
    register_resolver()  # ${sim_run_name:} in configs/hydra/default.yaml names the run folders


def one_line(exc: BaseException) -> str:
    """Hydra's and OmegaConf's multi-line messages as one line: the first meaningful line, the cause's
    first line when Hydra only says where it failed, and the options Hydra lists for a config group."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = lines[0] if lines else type(exc).__name__
    cause = exc.__cause__
    if cause is not None and text.startswith(("Error merging override", "Error merging")):
        text = f"{text}: {one_line(cause)}"
    if text.startswith("Error parsing override") and len(lines) > 1:  # the grammar's complaint is on line 2
        text = f"{text}: {lines[1]}"
    if "Available options in" in str(exc):  # Hydra's MissingConfigException lists them one per line
        options = [ln for ln in lines if not ln.startswith(("Available options", "Config search path", "provider="))]
        text = f"{text}; allowed: {', '.join(options[1:])}"
    for where in (getattr(exc, "full_key", None), getattr(exc, "override", None)):  # OmegaConf's key, Hydra's input
        if where and str(where) not in text:
            text = f"{where}: {text}"
    return text


def check_setting(key: str, value: Any) -> Any:
    """A run setting (``replicates``, ``chunk_size``, ...) checked against RUN_LIMITS: one-line ParameterError."""
    lo, hi = RUN_LIMITS[key]
    if value is None and key in NULLABLE_SETTINGS:
        return value
    allowed = f"allowed [{lo}, {hi}]" + (" or null" if key in NULLABLE_SETTINGS else "")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(f"{key}={value!r} is not a number: {allowed}")
    if value != value or value in (float("inf"), float("-inf")):
        raise ParameterError(f"{key}={value!r} is not finite: {allowed}")
    if key in WHOLE_SETTINGS and value != int(value):
        raise ParameterError(f"{key}={value!r} must be a whole number: {allowed}")
    if not lo <= value <= hi:
        raise ParameterError(f"{key}={value!r} is out of range: {allowed}")
    return value


def _values(override) -> list[Any]:
    if override.is_interval_sweep():  # an optimiser's interval: its bounds must lie in the range
        return [override.value().start, override.value().end]
    if override.is_sweep_override():
        try:
            return list(override.sweep_iterator())
        except Exception:  # glob() over a group needs the config repository: checked with the composed config
            return []
    return [override.value()]


def check_overrides(args: list[str]) -> None:
    """Raise a one-line ParameterError for an unknown or out-of-range override in ``args``."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    overrides = [a for a in args if "=" in a and not a.startswith("-")]
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as exc:  # Hydra's own message is multi-line
        raise ParameterError(one_line(exc)) from None
    for o in parsed:
        try:
            _check_override(o)
        except ParameterError as exc:  # a sweep's bad value: say which sweep it came from
            sweep = f" (in the sweep {o.input_line})" if o.is_sweep_override() else ""
            raise ParameterError(f"{exc}{sweep}") from None


def _check_override(o) -> None:
    """One parsed override: its key known, each of its values (every value of a sweep) allowed."""
    key = o.key_or_group.lstrip("+~")
    if key.startswith("hydra") or o.is_delete():
        return
    parts = key.split(".")
    vals = _values(o)
    if parts[0] == "params":
        if len(parts) != 2 or parts[1] not in PARAM_BY_NAME:
            name = parts[1] if len(parts) > 1 else ""
            raise ParameterError(f"{key} is not a parameter{suggest(name, list(PARAM_BY_NAME))}; see docs/ODD.md")
        spec = PARAM_BY_NAME[parts[1]]
        if spec.role == "structure":
            m = spec.name.removeprefix("structure_")
            raise ParameterError(f"{key}: choose the structure by name, structure.{m}=<name>; allowed: "
                                 f"{', '.join(spec.choices)}")  # fmt: skip
        for v in vals:
            spec.check(v, prefix="params.")
    elif parts[0] == "structure":
        if len(parts) != 2 or parts[1] not in MECHANISM_BY_NAME:
            name = parts[1] if len(parts) > 1 else ""
            raise ParameterError(f"{key} is not a mechanism{suggest(name, MECHANISM_NAMES)}; use "
                                 f"structure.<mechanism>=<name>, mechanisms: {', '.join(MECHANISM_NAMES)}")  # fmt: skip
        for v in vals:
            MECHANISM_BY_NAME[parts[1]].code(v)
    elif parts[0] == "grid" and len(parts) == 3 and parts[1] == "structure":
        if parts[2] not in MECHANISM_BY_NAME:
            raise ParameterError(f"{key}: {parts[2]} is not a mechanism{suggest(parts[2], MECHANISM_NAMES)}; "
                                 f"allowed: {', '.join(MECHANISM_NAMES)}")  # fmt: skip
        for v in vals:
            for item in v if isinstance(v, list) else [v]:
                MECHANISM_BY_NAME[parts[2]].code(item)
    elif parts[0] == "grid" and len(parts) >= 2:
        name = parts[-1]
        if name not in PARAM_BY_NAME:
            raise ParameterError(f"{key}: {name} is not a parameter{suggest(name, list(PARAM_BY_NAME))}")
        for v in vals:
            for item in v if isinstance(v, list) else [v]:
                PARAM_BY_NAME[name].check(item, prefix="grid.")
    elif parts[0] == "militias":
        if len(parts) != 3:
            raise ParameterError(f"{key}: use militias.<{'|'.join(MILITIA_KEYS)}>.<field>=value")
        for v in vals:
            make_militias({parts[1]: {parts[2]: v}})
    elif key == "engine":
        for v in vals:
            if v not in ENGINES:
                raise ParameterError(f"engine={v!r} is not an engine; allowed: {', '.join(ENGINES)}")
    elif key in CONFIG_GROUPS and o.value_type is not None:
        known = sorted(p.stem for p in (CONFIG_DIR / key).glob("*.yaml"))
        for v in vals:
            if v is not None and v not in known:
                hint = suggest(str(v), known)
                raise ParameterError(f"{key}={v} is not a known {key}{hint}; allowed: {', '.join(known)}")
    elif key == "drop_events":
        for v in vals:
            if not isinstance(v, list):
                raise ParameterError(f"drop_events={v!r} must be a list of event kinds: drop_events=[{v}]")
    elif key == "scenario_file":
        for v in vals:
            if v is not None:
                load_scenario_file(str(v))  # raises a one-line ParameterError if missing or malformed
    elif key in BOOL_KEYS:
        for v in vals:
            if v is None and key == "progress":
                continue
            try:
                BooleanNode(v)  # accepts exactly what Hydra's merge accepts (true, false, yes, no, 1, 0, ...)
            except ValidationError:
                raise ParameterError(f"{key}={v!r} is not a switch: use {key}=true or {key}=false") from None
    elif key in RUN_LIMITS:
        for v in vals:
            check_setting(key, v)


def structure_node(cfg: Any) -> dict[str, Any]:
    """A composed config's ``structure`` node as {mechanism: name} ({} if it has none: a config built by hand)."""
    from omegaconf import OmegaConf

    node = cfg.get("structure") if hasattr(cfg, "get") else None
    if node is None:
        return {}
    if not OmegaConf.is_dict(node):
        raise ParameterError(f"structure={node!r} must map mechanisms to alternatives, e.g. structure.clash=<name>; "
                             f"mechanisms: {', '.join(MECHANISM_NAMES)}")  # fmt: skip
    return dict(OmegaConf.to_container(node, resolve=True))


def base_params(cfg: Any) -> dict[str, Any]:
    """The parameters a composed config asks for, as make_params takes them: ``params`` plus the structure chosen
    under ``structure`` (as the ``structure_<mechanism>`` parameters that carry it to the engines)."""
    from omegaconf import OmegaConf

    params = dict(OmegaConf.to_container(cfg.params, resolve=True))
    return {**params, **make_structure(structure_node(cfg)).codes()}
