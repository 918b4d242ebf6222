"""Policies across scenarios, as sweep points: each named policy (lever values, sim.model.params.LEVERS) in each
scenario (a draw of the other uncertain values from the priors or a posterior), paired by scenario so that the
policies of one scenario share their random numbers; resumable and launcher-blind like any sweep."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.model.params import LEVER_BY_NAME, ParameterError, policy_params, suggest

KEYS = ("named", "scenarios", "source", "seed", "targets", "blocks", "block")
TODAY = "today"  # every lever at its declared default: today's behaviour
# What a policy is judged on, lower being better (the points table's columns), and in words.
OUTCOMES = {"p_escalation": "P(escalation)", "p_sustained": "P(sustained fighting)",
            "mean_attacks_us": "attacks on US forces per run"}  # fmt: skip
RECORD = "policies.json"
FOLDER = "policies"  # one file per block: its points' keys, policy and scenario


@dataclass(frozen=True)
class PolicySpec:
    """What a policy study is: its named policies (lever values), how many scenarios and from where (prior or a
    file of parameter sets), the draws' seed, and the targets an outcome must meet (at most)."""

    named: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]
    scenarios: int
    source: str = "prior"
    seed: int = 0
    targets: tuple[tuple[str, float], ...] = (("p_escalation", 0.2),)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> PolicySpec:
        """Validate a ``policies`` node whole: one-line ParameterError naming the field and what is allowed."""
        unknown = [k for k in cfg if k not in KEYS]
        if unknown:
            raise ParameterError(f"policies.{unknown[0]} is not a policies field{suggest(str(unknown[0]), KEYS)}; "
                                 f"allowed: {', '.join(KEYS)}")  # fmt: skip
        named = cfg.get("named") or {}
        if not isinstance(named, Mapping) or not named:
            raise ParameterError("policies.named must map policy names to lever values, e.g. "
                                 "policies.named.us_never_retaliates={us_retaliation_prob: 0}")  # fmt: skip
        policies = []
        for name, levers in named.items():
            if not str(name).replace("_", "").isalnum():
                raise ParameterError(f"policies.named.{name}: a policy's name is letters, digits and _")
            if levers is not None and not isinstance(levers, Mapping):
                raise ParameterError(f"policies.named.{name}={levers!r} must map levers to values")
            checked = policy_params(levers or {}, prefix=f"policies.named.{name}.")
            policies.append((str(name), tuple(sorted(checked.items()))))
        scenarios = cfg.get("scenarios", 100)
        if isinstance(scenarios, bool) or not isinstance(scenarios, int) or not 1 <= scenarios <= 1_000_000:
            raise ParameterError(f"policies.scenarios={scenarios!r} must be a whole number in [1, 1000000]")
        seed = cfg.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            raise ParameterError(f"policies.seed={seed!r} must be a whole number in [0, 4294967295]")
        source = cfg.get("source", "prior")
        if not isinstance(source, str) or not source:
            raise ParameterError(f"policies.source={source!r} must be prior or a Parquet/CSV file of parameter sets")
        targets = cfg.get("targets") or {"p_escalation": 0.2}
        if not isinstance(targets, Mapping):
            raise ParameterError(f"policies.targets={targets!r} must map outcomes to the most each may reach")
        for outcome, value in targets.items():
            if outcome not in OUTCOMES:
                raise ParameterError(f"policies.targets.{outcome} is not an outcome{suggest(str(outcome), OUTCOMES)}"
                                     f"; allowed: {', '.join(OUTCOMES)}")  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ParameterError(f"policies.targets.{outcome}={value!r} must be a number >= 0")
        return cls(tuple(policies), scenarios, source, seed, tuple((k, float(v)) for k, v in targets.items()))

    @property
    def policies(self) -> dict[str, dict[str, Any]]:
        return {name: dict(levers) for name, levers in self.named}

    @property
    def key(self) -> str:
        return hashlib.sha256(json.dumps(dataclasses.asdict(self), sort_keys=True, default=str).encode()).hexdigest()[
            :16
        ]


def drawn_factors(base: Mapping[str, Any], base_militias: Mapping[str, Mapping[str, Any]], structure: Any) -> list[str]:
    """The uncertain values a scenario draws: every prior the structure uses, less the levers (a policy sets them)
    and less the values the run sets away from their defaults (held fixed, as under params_from)."""
    from sim.model import priors
    from sim.run.uncertainty import fixed_values

    fixed = fixed_values(base, base_militias)
    return [n for n in priors.priors(structure) if n not in LEVER_BY_NAME and n not in fixed]


def scenario_table(spec: PolicySpec, names: list[str], structure: Any) -> Any:
    """The scenarios: ``spec.scenarios`` Latin-hypercube draws of ``names`` from their priors (equal weights), or
    the first rows of the source file (its weights), as a table with a ``weight`` column."""
    import pandas as pd

    from sim.model import priors
    from sim.run.uncertainty import from_file

    if spec.source == "prior":
        return pd.DataFrame(priors.sample(spec.scenarios, spec.seed, names=names, structure=structure)).assign(
            weight=1.0)
    table = from_file(spec.source)
    if len(table) < spec.scenarios:
        raise ParameterError(f"policies.source={spec.source} holds {len(table)} parameter sets, fewer than "
                             f"policies.scenarios={spec.scenarios}")  # fmt: skip
    keep = [n for n in names if n in table.columns]
    return table.iloc[: spec.scenarios][[*keep, "weight"]].reset_index(drop=True)


def sweep_points(cfg: Any, scenario: Any, root: Path | None = None, point: Any = None) -> list[Any]:
    """One job's points: for each scenario of its block (``policies.blocks``, ``policies.block``), every named
    policy on top of the job's parameters, paired by scenario (``point``: sim.run.sweep.SweepPoint, whose ``pair``
    seeds them). ``root``: the sweep folder, where the study and the block's points are recorded (None: only list
    them, as a launcher does)."""
    from omegaconf import OmegaConf

    from sim.model import priors
    from sim.model.params import make_militias, make_params, structure_of
    from sim.run.config_schema import base_params
    from sim.run.designs import block_rows

    node = OmegaConf.to_container(cfg.policies, resolve=True)
    spec = PolicySpec.from_config(node)
    base = base_params(cfg)
    base_militias = OmegaConf.to_container(cfg.militias, resolve=True)
    structure = structure_of(make_params(base))
    names = drawn_factors(base, base_militias, structure)
    table = scenario_table(spec, names, structure)
    block = block_rows(spec.scenarios, int(node.get("blocks", 1)), int(node.get("block", 0)))
    points, where = [], {}
    for s in block:
        row = table.iloc[s].drop("weight").to_dict()
        params, militias = priors.split_factors({k: _plain(v) for k, v in row.items()})
        merged = {k: {**dict(base_militias.get(k, {})), **v} for k, v in militias.items()}
        mil = make_militias({**base_militias, **merged})
        for name, levers in spec.named:
            p = make_params({**base, **params, **dict(levers)})
            pt = point(str(cfg.study), scenario, tuple(cfg.drop_events), p, mil, int(cfg.replicates), int(cfg.seed),
                       pair=f"scenario {s}", name=name)  # fmt: skip
            points.append(pt)
            where[pt.key] = [name, s]
    if root is not None:
        write_record(Path(root), spec, names, table["weight"].tolist(), int(node.get("block", 0)), where)
    return points


def _plain(v: Any) -> Any:
    """A table's value as make_params takes it (numpy scalars as Python numbers)."""
    return v.item() if hasattr(v, "item") else v


def write_record(root: Path, spec: PolicySpec, names: list[str], weights: list[float], block: int,
                 where: Mapping[str, list]) -> None:  # fmt: skip
    """The study beside its points (policies.json: the spec, the drawn values' names, the scenarios' weights;
    every job writes the same, another study in the folder is refused) and this block's points (which policy in
    which scenario), so that the analysis needs no more than the folder."""
    from sim.run.storage import atomic_write_text

    path = root / RECORD
    record = {**dataclasses.asdict(spec), "key": spec.key, "factors": names, "weights": weights}
    if path.exists():
        old = json.loads(path.read_text())
        if old.get("key") != spec.key:
            raise ParameterError(f"{path} holds another policy study ({len(old.get('named', []))} policies, "
                                 f"{old.get('scenarios')} scenarios): use a new hydra.sweep.dir for a new one")
    else:
        atomic_write_text(path, json.dumps(record, indent=1, default=float))
    atomic_write_text(root / FOLDER / f"block_{block:04d}.json", json.dumps(where, indent=0))


def read_record(root: Path) -> tuple[dict[str, Any], dict[str, tuple[str, int]]]:
    """The study recorded in a sweep folder, and every recorded point's (policy, scenario)."""
    root = Path(root)
    record = json.loads((root / RECORD).read_text())
    where: dict[str, tuple[str, int]] = {}
    for path in sorted((root / FOLDER).glob("block_*.json")):
        where |= {k: (v[0], int(v[1])) for k, v in json.loads(path.read_text()).items()}
    return record, where
