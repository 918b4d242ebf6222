"""``python -m sim --help``: the config groups with what each option is, the run settings with their comments and
the common overrides, generated from configs/ (never typed twice); Hydra's own help stays at --hydra-help."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import yaml

from sim import paths
from sim.model.params import MILITIA_FIELD_NAMES, MILITIA_KEYS, PARAMS

GROUPS = ("scenario", "counterfactual", "experiment", "launcher")
WIDTH = 100


def _first_sentence(path: Path) -> str:
    """What a config file is: a scenario's description, else its first comment (without "Question: ")."""
    text = path.read_text(encoding="utf-8")
    if path.parent.name == "scenario":
        doc = yaml.safe_load(text) or {}
        if doc.get("description"):
            return str(doc["description"])
    lines = []
    for line in text.splitlines():
        if line.startswith("# @package") or not line.startswith("#"):
            if lines:
                break
            continue
        body = line.lstrip("# ").rstrip()
        if not body or body.startswith(("python -m", "python3 -m")):
            break
        lines.append(body)
    words = " ".join(lines).removeprefix("Question: ").replace("e.g.", "e\0g\0").replace("i.e.", "i\0e\0")
    end = re.search(r"(?<=[a-z0-9)?])[.?](\s|$)", words)
    first = (words[: end.end()].strip() if end else words).replace("\0", ".")
    return first[:1].upper() + first[1:]


def groups() -> list[str]:
    lines = []
    for group in GROUPS:
        files = sorted((paths.CONFIG_DIR / group).glob("*.yaml"))
        default = {"scenario": "seed_timeline", "counterfactual": "none", "launcher": "basic"}.get(group)
        lines.append(f"{group}=<name>" + (f"   (default {default})" if default else "   (default none)"))
        for f in files:
            about = textwrap.wrap(_first_sentence(f), WIDTH - 28) or [""]
            lines.append(f"  {f.stem:<24}{about[0]}")
            lines += [f"  {'':<24}{more}" for more in about[1:]]
    return lines


def settings() -> list[str]:
    """The run settings of configs/config.yaml, each with its default and comment."""
    lines = []
    for line in (paths.CONFIG_DIR / "config.yaml").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([a-z_]+):\s*(.*?)\s*#\s*(.*)$", line)
        if m and m[1] not in ("defaults",):
            head = f"  {m[1]}={m[2]}"
            about = textwrap.wrap(m[3], WIDTH - 30) or [""]
            lines.append(f"{head:<30}{about[0]}")
            lines += [f"{'':<30}{more}" for more in about[1:]]
    return lines


def text() -> str:
    n_params = len(PARAMS)
    return "\n".join([
        "python -m sim: militia cohesion and patron intervention (Iraq, 2021): an agent-based model.",
        "Runs a scenario for many replicates and prints a summary (P(escalation) with its interval);",
        "writes runs.parquet, daily.parquet, summary.txt and timeline.png under results/runs/. With -m, a sweep:",
        "points keyed by content, stored as they finish, resumable, aggregated when it ends (results/sweeps/).",
        "",
        "usage: python -m sim [group=name ...] [setting=value ...] [params.<name>=value ...]",
        "       python -m sim -m [sweep overrides]            e.g. params.patron_influence=0.3,0.9",
        "",
        "== Config groups ==",
        *groups(),
        "",
        "== Settings (configs/config.yaml) ==",
        *settings(),
        "",
        "== The model's values ==",
        f"  params.<name>=value           any of the {n_params} declared parameters, checked against its range",
        "                                (docs/ODD.md 2.4 lists them with units and evidence)",
        f"  militias.<{'|'.join(MILITIA_KEYS)}>.<field>=value",
        f"                                fields: {', '.join(MILITIA_FIELD_NAMES)}",
        "  scenario.events.<i>.<field>=value   change one event of the scenario (its index in the file)",
        "",
        "== Examples ==",
        "  python -m sim counterfactual=soleimani replicates=5000",
        "  python -m sim scenario=election_loss params.militia_independence=0.8 seed=1",
        "  python -m sim params_from=prior draws=1000 replicates=100      # under parameter uncertainty",
        "  python -m sim experiment=policies launcher=joblib              # policies across scenarios",
        "  python -m sim experiment=patron_vs_independence launcher=submitit_slurm",
        "",
        "== Other commands (each has --help) ==",
        "  python -m sim.status <sweep>     how a sweep is doing     python -m sim.aggregate <sweep>  its tables",
        "  python -m sim.plot <sweep>       figures                  python -m sim.export <folder>    CSV / Excel",
        "  python -m sim.discovery <sweep>  PRIM boxes               python -m sim.sensitivity <sweep> indices",
        "  python -m sim.policies <sweep>   robustness and regret    python -m sim.calibrate          ABC posterior",
        "  python -m sim.app                the classroom app        python -m sim.exercises          exercise keys",
        "",
        "python -m sim --cfg job [overrides] prints the composed config; python -m sim --hydra-help: Hydra's flags.",
    ])
