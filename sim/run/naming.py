"""What a run ran, in words and as a folder name: the scenario, the counterfactual and the overrides of the model.
One label heads the console summary and summary.txt, fills meta.json and names the folder under results/runs/."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Overrides that change what is simulated (parameters, militias, the scenario's events, a grid); the rest
# (seed, replicates, engine, workers, figure, ...) change how many runs or how they run, and the header says those.
MODEL_PREFIXES = ("params.", "militias.", "scenario.", "grid.", "structure.")
MODEL_KEYS = ("drop_events", "params_from", "draws")
SHORT_KEY = {"params.": "", "militias.": ""}  # parameter and militia names are unique without their prefix
MAX_NAME = 120  # a folder name stays far below file systems' 255-byte limit and readable in `ls`
RESOLVER = "sim_run_name"


@dataclass(frozen=True)
class RunLabel:
    """``scenario`` by name, ``counterfactual`` by its configs/counterfactual/ name (None: not recorded, as when
    a config is composed in Python without Hydra's record), ``overrides`` as Hydra recorded them."""

    scenario: str
    counterfactual: str | None = "none"
    overrides: tuple[str, ...] = ()

    @property
    def model_overrides(self) -> list[str]:
        """The overrides that change the model or the scenario, as typed."""
        return [o for o in self.overrides if _is_model_override(o)]

    @property
    def name(self) -> str:
        """``seed_timeline``, ``seed_timeline+soleimani``, ``seed_timeline+militia_independence=0.8+kss.loyalty=0.4``:
        the scenario, then ``+`` the counterfactual (unless none) and ``+`` each model override, shortened."""
        parts = [_safe(self.scenario)]
        if self.counterfactual not in (None, "none"):
            parts.append(_safe(self.counterfactual))
        parts += [_short(o) for o in self.model_overrides]
        name = "+".join(parts)
        if len(name) > MAX_NAME:  # keep it readable and unique: a prefix plus a hash of the whole
            name = f"{name[: MAX_NAME - 9]}~{hashlib.sha1(name.encode()).hexdigest()[:8]}"
        return name

    def describe(self) -> str:
        """One line in words: scenario, counterfactual, overrides of the model."""
        cf = "not recorded" if self.counterfactual is None else self.counterfactual
        return (f"scenario {self.scenario}; counterfactual {cf}; "
                f"overrides: {' '.join(self.model_overrides) or 'none'}")  # fmt: skip


def label_from(scenario: str, choices: Any = None, overrides: list[str] | tuple[str, ...] | None = None) -> RunLabel:
    """The label of a run from Hydra's record (``hydra.runtime.choices`` and ``hydra.overrides.task``); without
    choices, the counterfactual is read from ``overrides`` (default none); with neither, it is not recorded."""
    overrides = tuple(str(o) for o in overrides or ())
    if choices is not None:
        counterfactual = choices.get("counterfactual") or "none"
    elif overrides:
        given = [o.split("=", 1)[1] for o in overrides if o.lstrip("+~").split("=", 1)[0] == "counterfactual"]
        counterfactual = given[-1] if given else "none"
    else:
        counterfactual = None
    return RunLabel(scenario, None if counterfactual == "null" else counterfactual, overrides)


def scenario_name(scenario: Any, scenario_file: Any) -> str:
    """The scenario's name: of ``scenario_file`` when one is given (its ``name``, else the file's stem)."""
    if scenario_file:
        from sim.model.scenario import load_scenario_file

        try:
            return load_scenario_file(str(scenario_file)).name
        except Exception:  # checked before Hydra starts; a folder name must never fail the run
            return Path(str(scenario_file)).stem
    return str(scenario.name)


def _run_name(*, _root_: Any) -> str:
    """OmegaConf resolver ``${sim_run_name:}``: the run folder's name, from the whole config (Hydra's node too)."""
    hydra = _root_.get("hydra")
    choices = hydra.runtime.choices if hydra is not None else None
    overrides = list(hydra.overrides.task) if hydra is not None else []
    return label_from(scenario_name(_root_.scenario, _root_.get("scenario_file")), choices, overrides).name


def register_resolver() -> None:
    from omegaconf import OmegaConf

    OmegaConf.register_new_resolver(RESOLVER, _run_name, replace=True)


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _is_model_override(override: str) -> bool:
    key = _key(override)
    return "=" in override and (key in MODEL_KEYS or key.startswith(MODEL_PREFIXES))


def _short(override: str) -> str:
    key, value = _key(override), override.split("=", 1)[1]
    for prefix, short in SHORT_KEY.items():
        if key.startswith(prefix):
            key = short + key[len(prefix) :]
    return f"{_safe(key)}={_safe(value)}"


def _safe(text: str) -> str:
    """Letters, digits and ``._,-`` only: no slashes, spaces, quotes, brackets or shell globs in folder names."""
    return re.sub(r"[^A-Za-z0-9._,-]+", "_", str(text)).strip("_") or "_"
