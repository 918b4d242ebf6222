"""Tables anyone can open: a run's, sweep's or study's Parquet tables as CSV files or one Excel workbook, each
with a second header row of units; ``python -m sim.export <folder> [--tables points|summary|runs|daily|all]``."""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import pandas as pd

from sim.model.params import MILITIA_FIELDS, MILITIAS, PARAMS
from sim.run import provenance
from sim.run.storage import FileSet, code_version, disk_full_line, is_disk_full

FORMATS = ("csv", "xlsx")
MANIFEST = "export.json"  # beside the exported files: what they are, from what, with which versions
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
    "trimmed": "share of the prior's range cut off", "lift": "density / share of all points of interest",
    "restricted": "restrictions (edge trims excluded)", "restrictions": "JSON: factor -> [low, high]",
    "stability": "mean Jaccard index of restricted values over resamples (0-1)",
    # a run's summary table (python -m sim.export <run>)
    "estimate": "as the outcome says (a share of runs, or a mean per run)",
    "95% interval / spread": "Wilson or normal 95% interval, or the spread it names",
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


SUMMARY = "summary"  # a run's summary table (the main job's), computed from its runs.parquet
LARGE_MB = 20.0  # exports estimated above this state each table's size first


def available(folder: Path) -> dict[str, Path]:
    """The tables ``--tables`` can name in ``folder``: its Parquet tables, and for a run folder its summary."""
    found = tables(folder)
    if "runs" in found and "points" not in found:
        found = {SUMMARY: found["runs"], **found}
    return found


def default_tables(found: dict[str, Path]) -> list[str]:
    """What an export without --tables writes: a sweep's points table, or a run's summary table (the small
    tables a reader wants first; --tables all writes every table, runs and daily series included)."""
    for name in ("points", SUMMARY):
        if name in found:
            return [name]
    return list(found)


def choose(found: dict[str, Path], asked: str | None) -> list[str]:
    """The tables to export: ``asked`` (comma-separated names, or all), else the default; one-line ValueError."""
    if asked is None:
        return default_tables(found)
    if asked == "all":
        return [n for n in found if n != SUMMARY or "points" not in found]
    names = [n.strip() for n in asked.split(",") if n.strip()]
    unknown = [n for n in names if n not in found]
    if unknown or not names:
        raise ValueError(f"--tables={asked}: {', '.join(unknown) or 'nothing'} is not a table here; allowed: "
                         f"{', '.join(found)} or all")  # fmt: skip
    return names


def _summary(runs_path: Path) -> pd.DataFrame:
    """The main job's summary table (outcome, estimate, interval) from a run's runs.parquet, read in batches."""
    import pyarrow.parquet as pq

    from sim.model.params import MILITIA_KEYS
    from sim.run.summary import RunsSummary

    acc = RunsSummary()
    for batch in pq.ParquetFile(runs_path).iter_batches(batch_size=200_000):
        acc.add(batch.to_pandas())
    return acc.table(MILITIA_KEYS)


def sizes(found: dict[str, Path], names: list[str]) -> dict[str, tuple[int, int, float]]:
    """(rows, columns, estimated CSV megabytes) of each table, from its Parquet metadata and its first rows."""
    import pyarrow.parquet as pq

    out = {}
    for name in names:
        if name == SUMMARY:
            out[name] = (0, 3, 0.0)
            continue
        f = pq.ParquetFile(found[name])
        rows, cols = f.metadata.num_rows, f.metadata.num_columns
        first = next(f.iter_batches(batch_size=500), None)
        per_row = len(first.to_pandas().to_csv(index=False)) / max(1, first.num_rows) if first is not None else 0
        out[name] = (rows, cols, rows * per_row / 1e6)
    return out


def export(folder: Path, to: str, out: Path | None = None, names: str | None = None,
           say=print) -> list[Path]:  # fmt: skip
    """Write the tables ``names`` of ``folder`` (comma-separated, or all; default the points or summary table)
    as ``to`` (csv: one file per table; xlsx: one workbook, a sheet per table) into ``out`` (default
    <folder>/export/); every check comes before the first file is written, and a large export (above LARGE_MB)
    states each table's size first, through ``say``."""
    folder = Path(folder)
    if to not in FORMATS:
        raise ValueError(f"--to={to} is not allowed: {' or '.join(FORMATS)}")
    if not folder.is_dir():
        raise ValueError(f"{folder} {'is not a folder' if folder.exists() else 'does not exist'}")
    out = Path(out) if out is not None else folder / "export"
    if out.exists() and not out.is_dir():  # checked before any table is read
        raise ValueError(f"--out={out} is a file, not a folder: give a folder for the exported tables")
    found = available(folder)
    if not found:
        raise ValueError(f"{folder} has no Parquet tables (a run folder, a sweep folder or its aggregate/)")
    chosen = choose(found, names)
    size = sizes(found, chosen)
    for name, (rows, _, _) in size.items():
        if to == "xlsx" and rows > SHEET_ROWS:
            raise ValueError(f"{name} has {rows:,} rows, more than a spreadsheet sheet holds "
                             f"({SHEET_ROWS:,} below the header rows): export it with --to csv")  # fmt: skip
    total = sum(mb for _, _, mb in size.values())
    if total > LARGE_MB:
        say(f"a large export, about {total:,.0f} MB as CSV{' (more as xlsx)' if to == 'xlsx' else ''}:")
        for name, (rows, cols, mb) in size.items():
            say(f"  {name}: {rows:,} rows x {cols} columns, about {mb:,.1f} MB")
        say(f"  (--tables {default_tables(found)[0]} writes only the {default_tables(found)[0]} table)")
    loaded = {}
    for name in chosen:
        try:
            loaded[name] = _summary(found[name]) if name == SUMMARY else pd.read_parquet(found[name])
        except (OSError, ValueError) as exc:
            raise ValueError(f"{found[name]} is not a readable table ({type(exc).__name__})") from None
        except KeyError as exc:  # a runs table without a column the summary reads
            raise ValueError(f"{found[name]} lacks the column {exc.args[0]!r} the {name} table needs") from None
    # The set is written whole or not at all: every file to a temporary one, all renamed, then export.json (each
    # file's SHA-256, the source tables' hashes, the library versions); an error, a full disk or a signal part-way
    # leaves no file of this export and no manifest vouching for an older one.
    record = {"what": f"tables of {folder.resolve()} as {to}", "format": to, "units_row": 2,
              "source": {name: {"file": str(path), "sha256": _sha256(path)} for name, path in found.items()},
              "code_version": code_version(), "environment": provenance.environment(),
              "written": time.strftime("%Y-%m-%d %H:%M:%S")}  # fmt: skip
    with FileSet(out, MANIFEST, record) as files:
        if to == "csv":
            for name, table in loaded.items():
                with_units(table).to_csv(files.tmp(f"{name}.csv"), index=False)
        else:
            with pd.ExcelWriter(files.tmp(f"{folder.resolve().name}.xlsx"), engine="openpyxl") as xl:
                for name, table in loaded.items():
                    with_units(table).to_excel(xl, sheet_name=name[:31], index=False)
                    xl.sheets[name[:31]].freeze_panes = "A3"  # names and units stay in view
        return files.commit()


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run_args(args: argparse.Namespace) -> int:
    """``python -m sim.export`` once its arguments are parsed (sim/export.py)."""
    from sim.run.folders import sweep_root

    try:
        written = export(sweep_root(args.folder), args.to, args.out, args.tables)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        out = args.out if args.out is not None else args.folder / "export"
        print(disk_full_line(exc, out, "no file of this export was kept"), file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    print("the second row of every table gives each column's unit (pandas: pd.read_csv(path, skiprows=[1]))")
    return 0
