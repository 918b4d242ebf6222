"""A sweep's result in the terminal: one line per point with what varies and P(escalation) with its Wilson
interval (the main job's summary, for a sweep), capped with a pointer to the full table when long."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SHOWN = 20  # points printed; the rest are in the table
READ_ROWS = 8192  # rows of a points table on disk read at a time to find what varies
MAX_COLUMNS = 3  # varying values shown as columns; a design varying more is named by its point key


def _fmt(v: object) -> str:
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, float | np.floating):
        return f"{float(v):.4g}"
    return str(v)


def varying(points: pd.DataFrame) -> list[str]:
    """The columns that tell the points apart: scenario, label (when not a restatement of parameters), dropped
    events, then the parameters and militia values that take more than one value."""
    cols = []
    for c in ("scenario", "drop_events"):
        if c in points.columns and points[c].fillna("").nunique() > 1:
            cols.append(c)
    values = [c for c in points.columns if c.startswith(("param.", "militia.")) and points[c].nunique() > 1]
    labels = points["label"].fillna("").astype(str) if "label" in points.columns else None
    # a label of its own (a counterfactual's, a policy's) tells points apart; one that restates values does not
    named = labels is not None and labels.nunique() > 1 and not labels.str.contains("=").any()
    if labels is not None and labels.nunique() > 1 and (named or not values):
        cols.append("label")
    return cols + values


def varying_in_file(path: Path) -> list[str]:
    """``varying`` of a points table on disk, read a batch of rows at a time (a million points' labels would
    not fit in memory at once): the same columns in the same order."""
    import pyarrow.parquet as pq

    file = pq.ParquetFile(str(path))
    names = [c for c in file.schema_arrow.names if c in ("scenario", "drop_events", "label")
             or c.startswith(("param.", "militia."))]  # fmt: skip
    seen: dict[str, set] = {c: set() for c in names}  # up to two distinct values of each column
    equals = False  # a label that restates values
    for batch in file.iter_batches(batch_size=READ_ROWS, columns=names):
        frame = batch.to_pandas()
        for c in names:
            col = frame[c].fillna("").astype(str) if c in ("scenario", "drop_events", "label") else frame[c]
            if len(seen[c]) < 2:
                seen[c].update(col.dropna().unique()[:2].tolist())
            if c == "label":
                equals = equals or bool(col.str.contains("=").any())
    cols = [c for c in ("scenario", "drop_events") if c in seen and len(seen[c]) > 1]
    values = [c for c in names if c.startswith(("param.", "militia.")) and len(seen[c]) > 1]
    several = "label" in seen and len(seen["label"]) > 1
    if several and (not equals or not values):
        cols.append("label")
    return cols + values


def table(points: pd.DataFrame, shown: int = SHOWN, cols: list[str] | None = None) -> tuple[pd.DataFrame, int]:
    """The rows printed (at most ``shown``, ordered by what varies: ``cols``, or found in ``points``) and how many
    more there are."""
    cols = varying(points) if cols is None else cols
    params = [c for c in cols if c.startswith(("param.", "militia."))]
    keep = cols if len(params) <= MAX_COLUMNS else [c for c in cols if c not in params] + ["point_key"]
    pts = points.sort_values(keep or ["point_key"], kind="stable")
    p = pts["p_escalation"].to_numpy(float)
    rows = pd.DataFrame({c.removeprefix("param.").removeprefix("militia."): pts[c].map(_fmt) for c in keep})
    rows["runs"] = pts["replicates"].astype(int).to_numpy()
    rows["P(escalation)"] = [f"{x:.3f}" for x in p]
    rows["Wilson 95%"] = [f"[{lo:.3f}, {hi:.3f}]" for lo, hi in zip(pts["ci_low"], pts["ci_high"], strict=True)]
    for col, name in (("p_any_clash", "P(any clash)"), ("p_sustained", "P(sustained)")):
        if col in pts.columns:
            rows[name] = [f"{x:.3f}" for x in pts[col]]
    return rows.head(shown).reset_index(drop=True), max(0, len(rows) - shown)


def text(root: Path, points: pd.DataFrame | None = None, shown: int = SHOWN) -> str:
    """The points table of a sweep (read from its aggregate/points.parquet unless given), as printed when a
    multirun ends and by sim.aggregate; '' when there is none."""
    root = Path(root)
    path = root / "aggregate" / "points.parquet"
    cols = None
    if points is None:  # what varies, a batch at a time, then only the columns printed
        try:
            cols = varying_in_file(path)
            params = [c for c in cols if c.startswith(("param.", "militia."))]
            keep = cols if len(params) <= MAX_COLUMNS else [c for c in cols if c not in params]
            wanted = {"point_key", "p_escalation", "replicates", "ci_low", "ci_high", "p_any_clash", "p_sustained",
                      *keep}  # fmt: skip
            import pyarrow.parquet as pq

            names = [c for c in pq.read_schema(str(path)).names if c in wanted]
            points = pd.read_parquet(path, columns=names)
        except (OSError, ValueError):
            return ""
    if points.empty:
        return ""
    cols = varying(points) if cols is None else cols
    rows, more = table(points, shown, cols)
    params = [c for c in cols if c.startswith(("param.", "militia."))]
    head = f"{len(points)} point(s)"
    if len(params) > MAX_COLUMNS:
        head += f"; {len(params)} values vary (a design): each point by its key"
    lines = [head, rows.to_string(index=False)]
    if more:
        lines.append(f"... {more} more point(s) in {path} (python -m sim.export {root} writes it as CSV)")
    return "\n".join(lines)
