"""Tables anyone can open: a run's, sweep's or study's Parquet tables as CSV files or one Excel workbook, each
with a second header row of units; ``python -m sim.export <folder> --to csv|xlsx``."""

from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path

import pandas as pd

from sim.model.params import MILITIA_FIELDS, MILITIAS, PARAMS
from sim.run.storage import atomic_write_bytes, atomic_write_text

FORMATS = ("csv", "xlsx")
SHEET_ROWS = 1_048_576 - 2  # an Excel sheet's rows, less the two header rows
YES_NO = "1 = yes, 0 = no"
INDEX = "index 0-1"
DAY = "day of the scenario (0 = first; -1 = never)"
# Columns of the runs, daily and points tables and of the studies' tables (militia columns end in a key).
UNITS = {
    "replicate": "replicate number", "day": "day of the scenario (0 = first)", "date": "date",
    "escalated": YES_NO, "escalation_day": DAY, "first_clash_day": DAY, "clashes": "clash-days",
    "sustained": YES_NO, "sustained_day": DAY,  # main's severity ladder (sustained fighting)
    "interventions": "patron interventions", "attacks_state": "attacks on the state/PM",
    "attacks_us": "attacks on US assets", "retaliations": "US retaliations", "boycott_days": "days",
    "boycott_ended": YES_NO, "boycott_clash_days": "clash-days", "participating_final": YES_NO,
    "cohesion_within": INDEX, "cohesion_house": INDEX, "peak_tension": INDEX, "scenario": "name", "seed": "seed",
    "engine": "name", "tension": INDEX, "hazard": "probability of a clash that day",
    "violence": "share of cells active",
    "mobilisation": "share of Sadr's armed wing mobilised", "sadr_grievance": INDEX, "rivalry": INDEX,
    "participating": YES_NO, "attention": INDEX, "intervened": YES_NO, "clash": YES_NO,
    "attacks_state_today": "attacks on the state/PM that day",
    "attacks_us_today": "attacks on US assets that day (militias attacking)", "grievance_mean": INDEX,
    "discipline_mean": INDEX,
    "grievance": INDEX, "discipline": INDEX, "share": "share of the militia's cells active",
    "contests": "1 = contests, 0 = restrains",
    # sweeps' points tables
    "point_key": "key", "experiment": "name", "label": "name", "drop_events": "event kinds, comma-separated",
    "replicates": "runs", "ci_low": "probability (Wilson 95% interval)", "ci_high": "probability (Wilson 95% interval)",
    "any_clash": YES_NO,
    # studies' tables (sensitivity, PRIM, CART, feature scores, uncertainty sets)
    "outcome": "name", "factor": "name", "index": "name of the index", "value": "index value",
    "conf": "95% interval half-width", "coverage": "share of the cases of interest inside",
    "density": "share of the box's points of interest", "mass": "share of all points", "res dim": "restrictions",
    "res_dim": "restrictions", "box": "box number", "step": "peeling step", "chosen": YES_NO, "min": "value",
    "max": "value", "qp": "quasi-p value", "prior_low": "value", "prior_high": "value", "leaf": "leaf number",
    "limits": "JSON: factor -> [low, high]", "score": "share of impurity reduction", "resample": "number",
    "share_of_resamples": "share", "in_chosen_box": YES_NO, "weight": "weight", "set": "parameter set number",
    "predicted": "1 = CART predicts of interest", "mean": "mean outcome inside the box",
}  # fmt: skip
KEYS = "|".join(m.key for m in MILITIAS)


def unit(column: str) -> str:
    """The unit of a column of the project's tables ("" if it has none declared)."""
    if column in UNITS:
        return UNITS[column]
    if column.startswith("structure."):
        return "alternative (name; docs/ODD.md section 7)"
    params = {p.name: p.unit for p in PARAMS}
    if column.startswith("param.") and column[6:] in params:
        return params[column[6:]]
    fields = {f.name: f.unit for f in MILITIA_FIELDS}
    m = re.fullmatch(rf"militias?\.(?:{KEYS})\.(\w+)", column)
    if m and m[1] in fields:
        return fields[m[1]]
    m = re.fullmatch(rf"(\w+?)_(?:{KEYS})", column)  # a militia's column: attacks_state_badr, share_aah
    if m and m[1] in UNITS:
        return UNITS[m[1]]
    m = re.fullmatch(r"(p|mean|var)_(\w+)", column)  # a point's outcome over its runs
    if m:
        base = {"p": "probability (share of runs)", "mean": f"{unit(m[2]) or m[2]} per run (mean)",
                "var": f"variance over runs of {m[2]}"}  # fmt: skip
        return base[m[1]]
    m = re.fullmatch(r"(\w+)_(mean|q\d\d)", column)  # a sweep's daily summary over runs
    if m and unit(m[1]):
        what = "mean" if m[2] == "mean" else f"{int(m[2][1:])}% quantile"
        return f"{unit(m[1])} ({what} over runs)"
    return ""


def tables(folder: Path) -> dict[str, Path]:
    """The Parquet tables of a run folder, a sweep folder (its aggregate/ tables) or an aggregate folder."""
    found = {p.stem: p for p in sorted(folder.glob("*.parquet"))}
    found |= {p.stem: p for p in sorted((folder / "aggregate").glob("*.parquet"))}
    return found


def with_units(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with a first row of units (every column as text in that row)."""
    units = pd.DataFrame([[unit(c) for c in table.columns]], columns=table.columns)
    flags = table.select_dtypes(bool).columns  # yes/no as 1/0, as their unit says (and as a spreadsheet sums)
    return pd.concat([units, table.astype({c: int for c in flags}).astype(object)], ignore_index=True)


def export(folder: Path, to: str, out: Path | None = None) -> list[Path]:
    """Write every table of ``folder`` as ``to`` (csv: one file per table; xlsx: one workbook, a sheet per
    table) into ``out`` (default <folder>/export/); every check comes before the first file is written."""
    folder = Path(folder)
    if to not in FORMATS:
        raise ValueError(f"--to={to} is not allowed: {' or '.join(FORMATS)}")
    if not folder.is_dir():
        raise ValueError(f"{folder} {'is not a folder' if folder.exists() else 'does not exist'}")
    found = tables(folder)
    if not found:
        raise ValueError(f"{folder} has no Parquet tables (a run folder, a sweep folder or its aggregate/)")
    loaded = {}
    for name, path in found.items():
        try:
            loaded[name] = pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path} is not a readable table ({type(exc).__name__})") from None
        if to == "xlsx" and len(loaded[name]) > SHEET_ROWS:
            raise ValueError(f"{name} has {len(loaded[name]):,} rows, more than a spreadsheet sheet holds "
                             f"({SHEET_ROWS:,} below the header rows): export it with --to csv")  # fmt: skip
    out = Path(out) if out is not None else folder / "export"
    if to == "csv":
        written = []
        for name, table in loaded.items():
            atomic_write_text(out / f"{name}.csv", with_units(table).to_csv(index=False))
            written.append(out / f"{name}.csv")
        return written
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as xl:
        for name, table in loaded.items():
            with_units(table).to_excel(xl, sheet_name=name[:31], index=False)
            xl.sheets[name[:31]].freeze_panes = "A3"  # names and units stay in view
    path = out / f"{folder.resolve().name}.xlsx"
    atomic_write_bytes(path, buffer.getvalue())
    return [path]


def run_args(args: argparse.Namespace) -> int:
    """``python -m sim.export`` once its arguments are parsed (sim/export.py)."""
    try:
        written = export(args.folder, args.to, args.out)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    print("the second row of every table gives each column's unit (pandas: pd.read_csv(path, skiprows=[1]))")
    return 0
