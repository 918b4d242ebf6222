"""The default structure's results as main computed them before the rival mechanisms (issue 25), as digests.
``python tests/default_reference.py --write`` rewrites tests/default_reference.json; tests/test_structures.py
recomputes every digest and compares, so a change at the default structure cannot pass unnoticed."""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

PATH = Path(__file__).with_suffix(".json")
SEED = 20211107
REPLICATES = 48
# (scenario, parameter overrides): every scenario at the defaults, and the counterfactuals that move the most
CASES = [
    *[(name, {}) for name in ("attack_and_intervention", "boycott_mediation", "election_loss", "record_2021",
                              "seed_timeline", "stand_down_orders")],
    ("seed_timeline", {"patron_present": False}),
    ("seed_timeline", {"patron_influence": 0.85}),
    ("seed_timeline", {"patron_present": False, "clash_kappa": 5.0, "sustained_clashes": 4}),
]  # fmt: skip


def array_digest(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the named arrays in name order: name, dtype, shape and bytes (bit-exact)."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def case_key(scenario: str, overrides: dict) -> str:
    return scenario + "".join(f"+{k}={v}" for k, v in sorted(overrides.items()))


def engine_digests() -> dict[str, dict[str, str]]:
    """Runs and daily tables of the vector engine for every case (the other engines equal it bit for bit)."""
    from sim.engines.vector import run_batch
    from sim.model.params import MILITIAS, make_params
    from sim.model.scenario import load_scenario

    out = {}
    for scenario, overrides in CASES:
        res = run_batch(load_scenario(scenario), [make_params(overrides)], [MILITIAS], SEED, np.arange(REPLICATES))
        out[case_key(scenario, overrides)] = {"runs": array_digest(res.runs), "daily": array_digest(res.daily)}
    return out


def sweep_identity() -> dict[str, object]:
    """What a sweep derives from a point's content: the seed and key of a default point and of a grid point."""
    from sim.model.params import MILITIAS, make_params
    from sim.model.scenario import load_scenario
    from sim.run.sweep import SweepPoint

    sc = load_scenario("seed_timeline")
    out = {}
    for name, params in (("defaults", make_params()), ("grid", make_params(patron_influence=0.9, arrest_k=3.0))):
        p = SweepPoint("study", sc, ("mediation",), params, MILITIAS, 100, SEED)
        out[name] = {"seed": p.seed, "key": p.key, "label": p.label}
    return out


def prior_draws() -> dict[str, str]:
    """Latin-hypercube draws from the priors and a design's rows: what params_from=prior and designs run."""
    from sim.model import priors
    from sim.run import designs
    from sim.run.designs import DesignSpec

    draws = priors.sample(32, 5)
    names = sorted(draws[0])
    table = np.array([[d[n] for n in names] for d in draws], dtype=float)
    spec = DesignSpec.from_config({"method": "lhs", "size": 16, "seed": 3})
    rows = designs.values(spec, designs.unit_rows(spec))
    dnames = list(spec.factors)
    dtable = np.array([[r[n] for n in dnames] for r in rows], dtype=float)
    return {"prior_names": hashlib.sha256("|".join(names).encode()).hexdigest(),
            "prior_values": array_digest({"v": table}),
            "design_factors": hashlib.sha256("|".join(dnames).encode()).hexdigest(),
            "design_values": array_digest({"v": dtable})}  # fmt: skip


def compute() -> dict[str, object]:
    return {"engines": engine_digests(), "sweep": sweep_identity(), "priors": prior_draws()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--write", action="store_true", help="rewrite tests/default_reference.json")
    args = ap.parse_args()
    ref = compute()
    text = json.dumps(ref, indent=1, sort_keys=True) + "\n"
    if args.write:
        PATH.write_text(text)
        print(f"wrote {PATH}")
    else:
        print(text)


if __name__ == "__main__":
    main()
