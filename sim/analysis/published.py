"""The studies' published results: small CSV tables in results/tables/ (committed) made from the sweep,
run and calibration folders, which the ODD's sensitivity and evaluation sections are generated from."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sim.paths import RESULTS_DIR
from sim.run.storage import atomic_write_text

TABLES = RESULTS_DIR / "tables"
SOURCES = {
    "morris": RESULTS_DIR / "sweeps" / "morris" / "aggregate",
    # the published ranking: first and total order over every uncertain value (experiment=sobol_all); the
    # top-ten study with second order (experiment=sobol) is a follow-up, published only as its pairs
    "sobol": RESULTS_DIR / "sweeps" / "sobol_all" / "aggregate",
    "sobol_pairs": RESULTS_DIR / "sweeps" / "sobol" / "aggregate",
    "discovery": RESULTS_DIR / "sweeps" / "discovery" / "aggregate",
    "uncertainty": RESULTS_DIR / "runs" / "uncertainty",
    "calibration": RESULTS_DIR / "calibration",
    "calibration_counts": RESULTS_DIR / "calibration_counts",  # python -m sim.calibrate --method smc
    "calibration_counts_with_outcome": RESULTS_DIR / "calibration_counts" / "with_outcome",  # the same command
    "forecast_2021_07_01": RESULTS_DIR / "calibration_counts" / "forecast_2021-07-01",  # the same command
    "forecast_2021_10_10": RESULTS_DIR / "calibration_counts" / "forecast_2021-10-10",  # the same command
    "patron_vs_independence": RESULTS_DIR / "sweeps" / "patron_vs_independence" / "aggregate",
    "policies": RESULTS_DIR / "sweeps" / "policies" / "aggregate",  # python -m sim experiment=policies
}
DIGITS = 4


def _write(name: str, table: pd.DataFrame) -> Path:
    path = TABLES / f"{name}.csv"
    atomic_write_text(path, table.round(DIGITS).to_csv(index=False))
    return path


def write(name: str, table: pd.DataFrame) -> Path:
    """Publish a table computed by a command of its own (not from a study's folder): results/tables/<name>.csv,
    rounded to DIGITS, written atomically."""
    return _write(name, table)


def publish() -> list[Path]:
    """Write every table whose study has been run; return the paths written."""
    written = []
    s = SOURCES
    if (s["morris"] / "sensitivity.parquet").exists():
        t = pd.read_parquet(s["morris"] / "sensitivity.parquet")
        t = t[t["outcome"] == "p_escalation"].pivot_table(index="factor", columns="index", values="value")
        conf = pd.read_parquet(s["morris"] / "sensitivity.parquet").query(
            "index == 'mu_star' and outcome == 'p_escalation'"
        )
        t = t.join(conf.set_index("factor")["conf"].rename("mu_star_conf")).sort_values("mu_star", ascending=False)
        written.append(_write("morris", t.reset_index()[["factor", "mu_star", "mu_star_conf", "sigma"]]))
        info = json.loads((s["morris"] / "sensitivity.json").read_text())
        written.append(_write("morris_convergence", _convergence(info)))
    if (s["sobol"] / "sensitivity.parquet").exists():
        t = pd.read_parquet(s["sobol"] / "sensitivity.parquet").query("outcome == 'p_escalation'")
        first = t[t["index"].isin(["S1", "ST"])].pivot_table(index="factor", columns="index", values=["value", "conf"])
        first.columns = [f"{i}{'_conf' if v == 'conf' else ''}" for v, i in first.columns]
        first = first.sort_values("ST", ascending=False).reset_index()[["factor", "S1", "S1_conf", "ST", "ST_conf"]]
        written.append(_write("sobol", first))
        info = json.loads((s["sobol"] / "sensitivity.json").read_text())
        written.append(_write("sobol_convergence", _convergence(info)))
    if (s["sobol_pairs"] / "sensitivity.parquet").exists():
        t = pd.read_parquet(s["sobol_pairs"] / "sensitivity.parquet").query("outcome == 'p_escalation'")
        pairs = t[t["index"] == "S2"][["factor", "value", "conf"]].rename(columns={"factor": "pair", "value": "S2",
                                                                                   "conf": "S2_conf"})  # fmt: skip
        written.append(_write("sobol_pairs", pairs.sort_values("S2", ascending=False)))
    if (s["discovery"] / "prim_boxes.parquet").exists():
        boxes = pd.read_parquet(s["discovery"] / "prim_boxes.parquet")
        info = json.loads((s["discovery"] / "prim.json").read_text())
        stats = pd.DataFrame([{"box": b["box"], "coverage": b["coverage"], "density": b["density"], "mass": b["mass"],
                               "lift": b.get("lift"), "threshold": info["threshold"],
                               "share_of_interest": g["share_of_interest"]}
                              for g in info["groups"][:1] for b in g["boxes"]])  # fmt: skip
        cols = ["box", "factor", "min", "max", "prior_low", "prior_high", "qp"]
        written.append(_write("prim", boxes[cols].merge(stats, on="box") if len(stats) else boxes[cols]))
    written += _discovery_extras(s["discovery"])
    if (s["uncertainty"] / "meta.json").exists():
        meta = json.loads((s["uncertainty"] / "meta.json").read_text())
        row = {k.removeprefix("uncertainty_"): v for k, v in meta.items() if k.startswith("uncertainty_")}
        written.append(_write("uncertainty", pd.DataFrame([{**row, "replicates": meta["replicates"],
                                                            "source": meta["params_from"]}])))  # fmt: skip
    if (s["calibration"] / "diagnostics.json").exists():
        c = s["calibration"]
        diag = json.loads((c / "diagnostics.json").read_text())
        written.append(_write("calibration_diagnostics", pd.DataFrame(diag["generations"])))
        checks = pd.read_parquet(c / "checks.parquet").pivot(index=["target", "condition"], columns="distribution",
                                                             values="share_met").reset_index()  # fmt: skip
        written.append(_write("calibration_checks", checks))
        esc = pd.read_parquet(c / "escalation.parquet")
        written.append(_write("calibration_escalation", esc))
        if (c / "effects.parquet").exists():
            written.append(_write("calibration_effects", pd.read_parquet(c / "effects.parquet")))
        informed = pd.read_parquet(c / "informed.parquet")
        written.append(_write("calibration_informed", informed))
    for name in ("calibration_counts", "calibration_counts_with_outcome", "forecast_2021_07_01", "forecast_2021_10_10"):
        written += _counts(s[name], name)
    written += _policies(s["policies"])
    if (s["patron_vs_independence"] / "points.parquet").exists():
        pts = pd.read_parquet(s["patron_vs_independence"] / "points.parquet")
        cols = ["param.patron_influence", "param.militia_independence", "p_escalation", "ci_low", "ci_high"]
        written.append(_write("patron_vs_independence", pts[cols].sort_values(cols[:2])))
    return written


def _policies(agg: Path) -> list[Path]:
    """The policy study (sim.analysis.robustness): robustness, regret and pairs per policy and outcome, each
    policy's failure boxes, and the study's size (scenarios, source, replicates)."""
    if not (agg / "robustness.parquet").exists():
        return []
    info = json.loads((agg / "policies.json").read_text())
    study = pd.DataFrame([{"scenarios": info["scenarios"], "source": info["source"], "replicates": info["replicates"]}])
    boxes = pd.read_parquet(agg / "policy_boxes.parquet")
    notes = pd.DataFrame([{"outcome": o, "policy": p, "failures": b["failures"], "scenarios": b["scenarios"],
                           "note": b.get("note", ""), "warning": b.get("warning", "")}
                          for o, entry in info["outcomes"].items() for p, b in entry["boxes"].items()])  # fmt: skip
    return [_write("policies_robustness", pd.read_parquet(agg / "robustness.parquet")),
            _write("policies_boxes", boxes), _write("policies_failures", notes), _write("policies_study", study)]


def _counts(c: Path, name: str) -> list[Path]:
    """The calibration on the record's counts (sim/analysis/calibration_counts.py): its generations (tolerance,
    acceptance, ESS), predictive checks, monthly attacks, P(escalation), informed values and, with a cut-off,
    the forecasts' scores."""
    if not (c / "diagnostics.json").exists():
        return []
    diag = json.loads((c / "diagnostics.json").read_text())
    gens = pd.DataFrame(diag["generations"]).assign(
        pooled=lambda t: t["generation"] >= diag["pooled_from_generation"], posterior_ess=diag["posterior_ess"],
        smc_seconds=diag["smc_seconds"], stopped=diag["stopped"], cutoff=diag.get("cutoff") or "")
    written = [_write(f"{name}_generations", gens)]
    for table in ("checks", "monthly", "escalation", "effects", "independence", "informed", "scores", "structures"):
        if (c / f"{table}.parquet").exists():
            written.append(_write(f"{name}_{table}", pd.read_parquet(c / f"{table}.parquet")))
    return written


def _first(table: pd.DataFrame) -> pd.DataFrame:
    """The first group (experiment, scenario, dropped events) of a study's table, as the other tables take it."""
    cols = [c for c in ("experiment", "scenario", "drop_events") if c in table.columns]
    if not cols or table.empty:
        return table
    key = table[cols].astype(str).agg("|".join, axis=1)
    return table[key == sorted(key.unique())[0]].drop(columns=cols)


def _discovery_extras(agg: Path) -> list[Path]:
    """PAWN's indices, the PRIM box's resampling stability, CART's leaves, the feature scores and where PRIM
    and CART agree, from the discovery study's aggregate folder (each if its analysis wrote it)."""
    written = []
    if (agg / "sensitivity.parquet").exists():
        t = _first(pd.read_parquet(agg / "sensitivity.parquet")).query("outcome == 'p_escalation' and index == 'pawn'")
        t = t.rename(columns={"value": "pawn", "conf": "pawn_conf"}).sort_values("pawn", ascending=False)
        written.append(_write("pawn", t[["factor", "pawn", "pawn_conf"]]))
    if (agg / "prim_resampling.parquet").exists():
        t = _first(pd.read_parquet(agg / "prim_resampling.parquet"))
        written.append(_write("prim_resampling", t[["factor", "share_of_resamples", "in_chosen_box", "qp"]].head(20)))
    if (agg / "cart_leaves.parquet").exists():
        t = _first(pd.read_parquet(agg / "cart_leaves.parquet"))
        written.append(_write("cart_leaves", t[["coverage", "density", "mass", "res_dim", "limits"]]))
    if (agg / "feature_scores.parquet").exists():
        t = _first(pd.read_parquet(agg / "feature_scores.parquet")).sort_values("score", ascending=False)
        written.append(_write("feature_scores", t[["factor", "score"]].head(20)))
    if (agg / "prim.json").exists():
        g = json.loads((agg / "prim.json").read_text())["groups"][:1]
        if g and "cart" in g[0]:
            c, r = g[0]["cart"], g[0]["resampling"]
            row = {"cart_leaves": c["leaves"], "cart_dense_leaves": c["cart_dense_leaves"],
                   **{f"cart_{k}": v for k, v in c["cart"].items()}, **{f"prim_{k}": v for k, v in c["prim"].items()},
                   "both_find": c["both_find"], "only_prim_finds": c["only_prim_finds"],
                   "only_cart_finds": c["only_cart_finds"], "factors_both": " ".join(c["factors_both"]),
                   "factors_only_prim": " ".join(c["factors_only_prim"]),
                   "factors_only_cart": " ".join(c["factors_only_cart"]), "resamples": r["resamples"],
                   "resampled_coverage_median": r["coverage_median"],
                   "resampled_density_median": r["density_median"]}  # fmt: skip
            written.append(_write("discovery_agreement", pd.DataFrame([row])))
    return written


def _convergence(info: dict) -> pd.DataFrame:
    rows = []
    for g in info["groups"][:1]:
        for outcome, entry in g["outcomes"].items():
            conv = entry.get("convergence") or {}
            if conv:
                rows.append({"outcome": outcome, "index": conv["index"], "size": conv["size"], "half": conv["half"],
                             "spearman": conv["spearman"], "top5_same": conv["top_same"],
                             "noise_share": entry["noise_share"]})  # fmt: skip
    return pd.DataFrame(rows)


def read(name: str) -> pd.DataFrame | None:
    """A published table, or None if its study has not been published."""
    path = TABLES / f"{name}.csv"
    return pd.read_csv(path) if path.exists() else None
