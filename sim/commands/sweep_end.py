"""The end of a sweep, above both layers it joins: the stored points aggregated (sim.run.sweep), a design's
analysis (sim.analysis), a run under uncertainty's blocks made whole; the Hydra callback that runs them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import OmegaConf

from sim.run import set_blocks, uncertainty
from sim.run.designs import read_design
from sim.run.naming import label_from
from sim.run.sweep import aggregate, describe, problems
from sim.run.validate import resolve_inputs


def combine_set_blocks(root: Path, quiet: bool = False) -> dict[str, Any]:
    """Once every block is stored: the tables, summary and figure of the whole run, written into ``root`` as a
    one-process run writes them (the same runs and sets tables). Raises FileNotFoundError naming missing blocks."""
    import pandas as pd

    from sim.commands.main_job import write_uncertainty

    root = Path(root)
    gaps = set_blocks.missing(root)
    if gaps:
        raise FileNotFoundError(f"{len(gaps)} block(s) of parameter sets not stored yet: {gaps[:10]}")
    cfg = OmegaConf.load(root / "multirun.yaml")  # the sweep's own config: what every block job started from
    cfg = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    _, _, scenario = resolve_inputs(cfg)
    sets = uncertainty.uncertainty_sets(cfg)
    blocks = int(json.loads((root / set_blocks.FOLDER / "blocks.json").read_text())["set_blocks"])
    runs = pd.concat([pd.read_parquet(set_blocks.block_path(root, b)) for b in range(blocks)], ignore_index=True)
    label = label_from(scenario.name, None, [])
    return write_uncertainty(cfg, scenario, sets, runs, root, quiet, label, elapsed=0.0)


def analyse_design(root: Path) -> None:
    """After a complete design sweep: its indices (Morris, Sobol), or for a Latin hypercube PRIM's boxes (with
    their second opinions) and PAWN's moment-independent indices."""
    from sim.analysis import discovery, sensitivity

    try:
        if read_design(root).method == "lhs":
            print(discovery.describe(discovery.discover(root)))
            print(sensitivity.describe(sensitivity.analyse(root)))
        else:
            print(sensitivity.describe(sensitivity.analyse(root)))
    except sensitivity.SensitivityError as exc:
        print(f"not analysed: {exc}")


def analyse_policies(root: Path) -> None:
    """After a complete policy study: robustness, regret and the failures' boxes (sim.analysis.robustness)."""
    from sim.analysis import robustness

    try:
        print(robustness.describe(robustness.analyse(root, progress=None)))
    except robustness.PolicyError as exc:
        print(f"not analysed: {exc}")


class AggregateCallback(Callback):
    """Hydra callback: aggregate the sweep folder when a multirun ends."""

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        root = Path(str(config.hydra.sweep.dir))
        if set_blocks.missing(root) == []:  # a run under uncertainty split into jobs: its tables, now whole
            combine_set_blocks(root)
        if (root / "points").exists():
            report = aggregate(root, keep_rows=False, allow_mixed=bool(config.get("allow_mixed_versions", False)))
            for line in problems(report):
                print(line if line.startswith("warning: ") else f"error: {line}", file=sys.stderr)
            print(describe(report))
            from sim.run import points_summary  # the sweep's result: a line per point

            print(points_summary.text(root) or f"tables in {root / 'aggregate'}")
            complete = not (report["missing_points"] or report["unfinished_jobs"] or report["corrupt_points"]
                            or (report.get("mixed_versions") and not report["n_points"]))  # fmt: skip
            if (root / "design.json").exists() and complete:
                analyse_design(root)
            if (root / "policies.json").exists() and complete:
                analyse_policies(root)
