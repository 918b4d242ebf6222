"""Figures of a parameter sweep, from the aggregated tables (``points.parquet``, ``daily.parquet``).

``python -m sim.plot <aggregate_dir> [--out DIR] [--kind heatmap|curve|fan|counterfactual|all] [--x P] [--y P]``

- ``curve``: P(escalation) against one swept parameter, one line per other factor, Wilson 95% bars;
- ``heatmap``: P(escalation) over two swept parameters beside the width of its Wilson 95% interval;
- ``fan``: the daily clash hazard per scenario and counterfactual, bands over replicates, events marked;
- ``counterfactual``: one dot and Wilson 95% interval per (scenario, counterfactual) point.

Every figure is written as PNG and PDF, in plain matplotlib, readable in print and in grayscale
(markers, line styles and hatching carry the distinctions, not colour alone). The shared style,
the fan and the event marks come from :mod:`sim.plots`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on clusters or CI
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from sim.analysis.run_figure import STYLE, event_marks, fan, mark_events, save_figure, title_pad, wrap_items
from sim.analysis.stats import wilson_interval
from sim.model.params import PARAM_BY_NAME, PARAMS, ParameterError, suggest
from sim.model.scenario import EVENT_KINDS, load_scenario

KINDS = ("curve", "heatmap", "fan", "counterfactual")
FILENAMES = {
    "curve": "escalation_curve",
    "heatmap": "escalation_heatmap",
    "fan": "hazard_fan",
    "counterfactual": "counterfactuals",
}
PARAM_PREFIX = "param."
# Columns that name a point rather than set a parameter; those that vary split lines, panels and rows.
FACTORS = ("experiment", "scenario", "label", "drop_events")
FACTOR_TITLES = {
    "experiment": "experiment", "scenario": "scenario", "label": "counterfactual", "drop_events": "dropped",
}  # fmt: skip
BASELINE_LABELS = ("", "none", "baseline")
HAZARD_QUANTILES = ("q05", "q25", "q50", "q75", "q95")

# Okabe-Ito colours (colour-blind safe), black first, grey instead of its yellow (too pale in print);
# markers and line styles repeat the distinction so the figure reads in grayscale too.
COLORS = ("#000000", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#777777")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 2)), (0, (6, 2)), (0, (3, 1, 1, 1)))
MAX_LINES = len(MARKERS)
MAX_PANELS = 12
MAX_ROWS = 60
HEATMAP_CMAP = "cividis"  # monotone in lightness: the order of cells survives grayscale printing
WIDTH_CMAP = "Greys"
MAX_HEATMAP_ROWS = 6


class PlotError(ValueError):
    """The tables cannot support the requested figure (the message is one line)."""


# --------------------------------------------------------------------------------------------------
# tables


POINT_COLUMNS = ("point_key", "scenario", "label", "drop_events", "replicates", "p_escalation", "ci_low", "ci_high")
DAILY_COLUMNS = ("point_key", "date", "hazard_mean", "hazard_q05", "hazard_q95")


def _read_table(path: Path, columns: Sequence[str], what: str) -> pd.DataFrame:
    """A table of the sweep aggregator, or a one-line PlotError: unreadable, empty, or missing its columns."""
    try:
        table = pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow's errors for empty or corrupt files are ValueErrors
        raise PlotError(f"{path} is not a readable Parquet file ({type(exc).__name__}): "
                        "run python -m sim.aggregate on the sweep folder again") from None  # fmt: skip
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise PlotError(f"{path} lacks the columns {', '.join(missing)}: not the sweep aggregator's {what}")
    if table.empty:
        raise PlotError(f"{path} has no rows: the sweep has no finished point yet")
    return table


def load_points(aggregate_dir: str | Path) -> pd.DataFrame:
    path = Path(aggregate_dir) / "points.parquet"
    if not path.exists():
        raise PlotError(f"{path} not found: expected the sweep aggregator's points.parquet")
    return _read_table(path, POINT_COLUMNS, "points.parquet")


def load_daily(aggregate_dir: str | Path) -> pd.DataFrame | None:
    path = Path(aggregate_dir) / "daily.parquet"
    return _read_table(path, DAILY_COLUMNS, "daily.parquet") if path.exists() else None


def _pcol(name: str) -> str:
    return name if name.startswith(PARAM_PREFIX) else PARAM_PREFIX + name


def _pname(col: str) -> str:
    return col[len(PARAM_PREFIX) :] if col.startswith(PARAM_PREFIX) else col


def param_columns(points: pd.DataFrame) -> list[str]:
    return [c for c in points.columns if c.startswith(PARAM_PREFIX)]


def axis_label(name: str) -> str:
    """'patron influence (index 0-1)': the parameter's name in words and its declared unit."""
    name = _pname(name)
    p = PARAM_BY_NAME.get(name)
    text = name.replace("_", " ")
    return f"{text} ({p.unit})" if p is not None and p.unit else text


def _fmt(v) -> str:
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, float | np.floating):
        return f"{float(v):.3g}"  # grid values like 1/14 stay readable as tick labels
    return str(v)


def is_derived_label(label: str) -> bool:
    """True for labels that only restate a point's parameters and dropped events, as sim.sweep writes them
    ("baseline", "patron_influence=0.9, no mediation"): such labels split nothing beyond the parameters."""
    label = str(label or "")
    if label in ("", "baseline"):
        return True
    for part in label.split(", "):
        name, sep, _ = part.partition("=")
        if sep and name.strip() in PARAM_BY_NAME:
            continue
        if part.startswith("no ") and part[3:] in EVENT_KINDS:
            continue
        return False
    return True


def _custom_labels(points: pd.DataFrame) -> bool:
    return "label" in points.columns and not all(is_derived_label(v) for v in points["label"].fillna(""))


def _factor_cols(points: pd.DataFrame) -> list[str]:
    """The naming columns present; 'label' only where it says more than the parameters do."""
    return [c for c in FACTORS if c in points.columns and (c != "label" or _custom_labels(points))]


def varying_factors(points: pd.DataFrame) -> list[str]:
    """The point-naming columns (scenario, label, ...) that take more than one value."""
    return [c for c in _factor_cols(points) if points[c].fillna("").nunique() > 1]


def swept_params(points: pd.DataFrame) -> list[str]:
    """Parameter names that vary within some (experiment, scenario, label, drop_events) group, most
    values first. A parameter fixed by a counterfactual (patron_present=false for 'no_patron') varies
    only between groups and is named by the label instead."""
    cols = param_columns(points)
    factors = _factor_cols(points)
    if factors:
        counts = points.fillna({f: "" for f in factors}).groupby(factors, dropna=False)[cols].nunique(dropna=False)
        varying = [c for c in cols if (counts[c] > 1).any()]
    else:
        varying = [c for c in cols if points[c].nunique(dropna=False) > 1]
    order = {p.name: i for i, p in enumerate(PARAMS)}
    # most values first; on a tie a number before a flag (a flag reads better as lines or panels)
    varying.sort(key=lambda c: (-points[c].nunique(), points[c].dtype == bool, order.get(_pname(c), len(order)), c))
    return [_pname(c) for c in varying]


def _prepare(points: pd.DataFrame) -> pd.DataFrame:
    """A copy with the factor columns as strings and p, Wilson bounds filled where missing."""
    if len(points) == 0:
        raise PlotError("points table is empty")
    pts = points.copy()
    for f in _factor_cols(pts):
        pts[f] = pts[f].fillna("").astype(str)
    for c in ("replicates", "escalated"):
        if c not in pts.columns:
            raise PlotError(f"points table lacks column {c!r}")
    n = pts["replicates"].to_numpy(float)
    k = pts["escalated"].to_numpy(float)
    if "p_escalation" not in pts.columns:
        pts["p_escalation"] = np.divide(k, n, out=np.full_like(k, np.nan), where=n > 0)
    lo, hi = wilson_interval(k, n)
    for col, fill in (("ci_low", lo), ("ci_high", hi)):
        pts[col] = pts[col].fillna(pd.Series(fill, index=pts.index)) if col in pts.columns else fill
    return pts


def _check_param(points: pd.DataFrame, name: str, role: str) -> str:
    name = _pname(name)
    if _pcol(name) not in points.columns:
        known = [_pname(c) for c in param_columns(points)]
        raise PlotError(f"--{role} {name} is not a parameter column{suggest(name, known)}")
    if points[_pcol(name)].nunique() < 2:
        raise PlotError(f"--{role} {name} takes one value only ({_fmt(points[_pcol(name)].iloc[0])}) in these points")
    return name


def _n_text(points: pd.DataFrame, per: str = "point") -> str:
    n = points["replicates"]
    lo, hi = int(n.min()), int(n.max())
    return f"n = {lo} replicates per {per}" if lo == hi else f"n = {lo}–{hi} replicates per {per}"


def _drop_name(row) -> str:
    drop = str(row.get("drop_events", "") or "")
    return "without " + drop.replace(",", ", ") if drop else "all events"


def point_name(row, swept: Sequence[str] = ()) -> str:
    """A point in words: its own label (e.g. 'soleimani'); else, for a label that only restates parameters,
    the swept parameters' values and any dropped events; else 'baseline'."""
    label = str(row.get("label", "") or "")
    if label and not is_derived_label(label):
        return label
    parts = [f"{s.replace('_', ' ')} = {_fmt(row[_pcol(s)])}" for s in swept if _pcol(s) in row.index]
    if row.get("drop_events", ""):
        parts.append(_drop_name(row))
    if parts:
        return ", ".join(parts)
    return label or "baseline"


def _scenario_text(points: pd.DataFrame) -> str:
    if "scenario" not in points.columns:
        return ""
    names = list(dict.fromkeys(points["scenario"]))
    return names[0] if len(names) == 1 else ", ".join(names)


def _group_keys(points: pd.DataFrame, exclude: Sequence[str]) -> tuple[list[str], list[str]]:
    """(factor columns, parameter columns) that vary and split the points into lines or panels."""
    factors = varying_factors(points)
    if "label" in factors and "drop_events" in factors:
        factors.remove("drop_events")  # the label names the dropped events already
    params = [_pcol(p) for p in swept_params(points) if p not in exclude]
    return factors, params


def _group_name(row, factors: Sequence[str], params: Sequence[str]) -> str:
    parts = []
    for f in factors:
        parts.append(point_name(row) if f == "label" else _drop_name(row) if f == "drop_events" else str(row[f]))
    parts += [f"{_pname(c).replace('_', ' ')} = {_fmt(row[c])}" for c in params]
    return " · ".join(parts)


def _groups(points: pd.DataFrame, factors: list[str], params: list[str]) -> list[tuple[str, pd.DataFrame]]:
    """(name, rows) per combination of the splitting columns; a lone parameter is named by its value only."""
    keys = factors + params
    if not keys:
        return [("", points)]
    out = []
    for _, sub in points.groupby(keys, sort=True, dropna=False):
        row = sub.iloc[0]
        name = _fmt(row[params[0]]) if not factors and len(params) == 1 else _group_name(row, factors, params)
        out.append((name, sub))
    return out


def _keys_title(factors: Sequence[str], params: Sequence[str]) -> str:
    if not factors and len(params) == 1:
        return axis_label(params[0])
    return " · ".join([FACTOR_TITLES.get(k, k) for k in factors] + [_pname(k).replace("_", " ") for k in params])


def _unclip(container) -> None:
    """Let markers and bars at P = 0 or 1 draw over the axis line instead of being cut in half."""
    for artist in container.get_children():
        artist.set_clip_on(False)


def _ticks(ax, axis: str, values: np.ndarray, raw: Sequence) -> None:
    if len(values) <= 12:
        getattr(ax, f"set_{axis}ticks")(values, labels=[_fmt(v) for v in raw])


# --------------------------------------------------------------------------------------------------
# curve


def build_curve(points: pd.DataFrame, x: str | None = None):
    """P(escalation) against parameter ``x`` with Wilson 95% bars, one line per other factor."""
    pts = _prepare(points)
    swept = swept_params(pts)
    if x is None:
        if not swept:
            raise PlotError("no parameter varies within a scenario and counterfactual: nothing to draw a curve over")
        x = swept[0]
    x = _check_param(pts, x, "x")
    xcol = _pcol(x)
    factors, params = _group_keys(pts, exclude=(x,))
    groups = _groups(pts, factors, params)
    if len(groups) > MAX_LINES:
        raise PlotError(
            f"{len(groups)} lines (one per {', '.join(_pname(k) for k in factors + params)}) are too many for one "
            f"curve (at most {MAX_LINES}): use --kind heatmap or another --x"
        )
    for name, sub in groups:
        if sub[xcol].duplicated().any():
            raise PlotError(f"several points share {x} = {_fmt(sub[xcol].iloc[0])} on line '{name or 'all'}'")

    xs_all = np.sort(pts[xcol].astype(float).unique())
    span = float(xs_all[-1] - xs_all[0]) or 1.0
    dodge = 0.012 * span if len(groups) > 1 else 0.0
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 4.6), layout="constrained")
        for i, (name, sub) in enumerate(groups):
            sub = sub.sort_values(xcol)
            xv = sub[xcol].astype(float).to_numpy() + (i - (len(groups) - 1) / 2) * dodge
            p = sub["p_escalation"].to_numpy(float)
            lo, hi = sub["ci_low"].to_numpy(float), sub["ci_high"].to_numpy(float)
            bars = ax.errorbar(
                xv, p, yerr=np.clip(np.vstack([p - lo, hi - p]), 0, None), label=name or "P(escalation)",
                color=COLORS[i % len(COLORS)], marker=MARKERS[i % len(MARKERS)], ls=LINESTYLES[i % len(LINESTYLES)],
                lw=1.2, ms=4.5, capsize=2.5, elinewidth=0.9, mfc="white" if i % 2 else None,
            )  # fmt: skip
            _unclip(bars)
        raw = sorted(pts[xcol].unique())
        _ticks(ax, "x", xs_all, raw)
        ax.set_xlim(xs_all[0] - 0.05 * span, xs_all[-1] + 0.05 * span)
        ax.set_xlabel(axis_label(x))
        ax.set_ylabel("P(escalation) over the scenario")
        ax.set_ylim(0, min(1.0, max(float(pts["ci_high"].max()) * 1.1, 0.01)))
        ax.grid(axis="y", color="0.9", lw=0.6)
        title = "bars: Wilson 95% interval"
        if groups[0][0]:
            title = _keys_title(factors, params) + "\n(" + title + ")"
        longest = max(len(name) for name, _ in groups)
        ncols = min(len(groups), 4 if longest <= 14 else 2 if longest <= 40 else 1)
        ncols = -(-len(groups) // -(-len(groups) // ncols))  # balanced rows: 5 entries as 3 + 2, not 4 + 1
        fig.legend(title=title, frameon=False, loc="outside lower center", ncols=ncols)
        scen = _scenario_text(pts) if "scenario" not in factors else ""
        note = "; points offset sideways for legibility" if dodge else ""
        ax.set_title(
            f"Escalation probability against {x.replace('_', ' ')}{f' ({scen})' if scen else ''}\n"
            f"{_n_text(pts)}; bars: Wilson 95% intervals{note}",
        )
    return fig


def curve_figure(points: pd.DataFrame, out_path: str | Path, x: str | None = None) -> list[Path]:
    return save_figure(build_curve(points, x), out_path)


# --------------------------------------------------------------------------------------------------
# heatmap


def _pick_xy(swept: list[str], x: str | None, y: str | None) -> tuple[str, str]:
    if x is None and y is None:
        if len(swept) < 2:
            raise PlotError(f"a heatmap needs two swept parameters; these points sweep {len(swept)}"
                            + (f" ({', '.join(swept)})" if swept else ""))  # fmt: skip
        return swept[0], swept[1]
    if x is None or y is None:
        given = x or y
        rest = [s for s in swept if s != _pname(given)]
        if not rest:
            raise PlotError(f"a heatmap needs a second swept parameter besides {_pname(given)}")
        return (_pname(given), rest[0]) if x else (rest[0], _pname(given))
    return _pname(x), _pname(y)


def build_heatmap(points: pd.DataFrame, x: str | None = None, y: str | None = None):
    """P(escalation) over two parameters (left) beside the width of its Wilson 95% interval (right),
    one such pair of panels per other factor (scenario, counterfactual, a third parameter)."""
    pts = _prepare(points)
    x, y = _pick_xy(swept_params(pts), x, y)
    x, y = _check_param(pts, x, "x"), _check_param(pts, y, "y")
    if x == y:
        raise PlotError(f"--x and --y are both {x}")
    xcol, ycol = _pcol(x), _pcol(y)
    factors, params = _group_keys(pts, exclude=(x, y))
    panels = _groups(pts, factors, params)
    if len(panels) > MAX_HEATMAP_ROWS:
        raise PlotError(f"{len(panels)} heatmaps (one per {_keys_title(factors, params)}) are too many for one "
                        f"figure (at most {MAX_HEATMAP_ROWS})")  # fmt: skip
    for name, sub in panels:
        if sub.duplicated([xcol, ycol]).any():
            raise PlotError(f"several points share one ({x}, {y}) cell{f' in {name}' if name else ''}: "
                            "another parameter varies too; name it with --x/--y")  # fmt: skip
    xvals = sorted(pts[xcol].unique())
    yvals = sorted(pts[ycol].unique())
    width = pts["ci_high"] - pts["ci_low"]
    norms = (Normalize(0.0, float(pts["p_escalation"].max()) or 1.0), Normalize(0.0, float(width.max()) or 1.0))
    cmaps = (plt.get_cmap(HEATMAP_CMAP), plt.get_cmap(WIDTH_CMAP))
    cell = 0.62 if max(len(xvals), len(yvals)) <= 8 else 0.4
    w = max(3.8, cell * len(xvals) + 1.2)
    h = max(2.2, cell * len(yvals) + 0.9)
    missing = False
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(len(panels), 2, figsize=(2 * w + 1.6, h * len(panels) + 1.0), layout="constrained",
                                 squeeze=False, sharex=True, sharey=True)  # fmt: skip
        ims = [None, None]
        for row, (name, sub) in zip(axes, panels, strict=True):
            grids = []
            for col in ("p_escalation", "ci_low", "ci_high"):
                pv = sub.pivot(index=ycol, columns=xcol, values=col).reindex(index=yvals, columns=xvals)
                grids.append(pv.to_numpy(float))
            Z, W = grids[0], grids[2] - grids[1]
            missing |= bool(np.isnan(Z).any())
            for k, (ax, data) in enumerate(zip(row, (Z, W), strict=True)):
                # hatching shows through the cells that have no point
                ax.add_patch(Rectangle((-0.5, -0.5), len(xvals), len(yvals), fill=False, hatch="////",
                                       edgecolor="0.6", lw=0, zorder=0))  # fmt: skip
                ims[k] = ax.imshow(np.ma.masked_invalid(data), origin="lower", aspect="auto", cmap=cmaps[k],
                                   norm=norms[k], interpolation="nearest", zorder=1)  # fmt: skip
                if len(xvals) * len(yvals) <= 150:
                    _cell_text(ax, data, cmaps[k], norms[k], fontsize=7 if len(xvals) <= 8 else 5.5)
                ax.set_xticks(range(len(xvals)), labels=[_fmt(v) for v in xvals],
                              rotation=90 if len(xvals) > 8 else 0)  # fmt: skip
                ax.set_yticks(range(len(yvals)), labels=[_fmt(v) for v in yvals])
                ax.set_xlim(-0.5, len(xvals) - 0.5)
                ax.set_ylim(-0.5, len(yvals) - 0.5)
                what = "P(escalation)" if k == 0 else "Wilson 95% interval width"
                ax.set_title(f"{name}: {what}" if name else what, fontsize=9)
            row[0].set_ylabel(axis_label(y))
        for ax in axes[-1, :]:
            ax.set_xlabel(axis_label(x))
        fig.colorbar(ims[0], ax=axes[:, 0], label="P(escalation)", shrink=0.9, aspect=25, pad=0.02)
        fig.colorbar(ims[1], ax=axes[:, 1], label="interval width (high − low)", shrink=0.9, aspect=25, pad=0.02)
        scen = _scenario_text(pts) if "scenario" not in factors else ""
        fig.suptitle(
            f"Escalation probability over {x.replace('_', ' ')} × {y.replace('_', ' ')}"
            f"{f' ({scen})' if scen else ''}\n"
            f"left: estimate; right: width of its Wilson 95% interval; {_n_text(pts, 'cell')}"
            + ("; hatched: no point" if missing else ""),
            fontsize=9,
        )
    return fig


def _cell_text(ax, data: np.ndarray, cmap, norm, fontsize: float) -> None:
    """Each cell's value, in black or white by the lightness of its shade."""
    for (j, i), v in np.ndenumerate(data):
        if np.isfinite(v):
            r, g, b, _ = cmap(norm(v))
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(i, j, f"{v:.2g}" if v < 0.1 else f"{v:.2f}", ha="center", va="center", fontsize=fontsize,
                    color="white" if dark else "black", zorder=3)  # fmt: skip


def heatmap_figure(
    points: pd.DataFrame, out_path: str | Path, x: str | None = None, y: str | None = None
) -> list[Path]:
    return save_figure(build_heatmap(points, x, y), out_path)


# --------------------------------------------------------------------------------------------------
# fan


def _hazard_stats(d: pd.DataFrame) -> pd.DataFrame:
    """The shape sim.plots.fan expects: date index, q05..q95 and mean columns."""
    cols = {f"hazard_{q}": q for q in HAZARD_QUANTILES}
    cols["hazard_mean"] = "mean"
    missing = [c for c in cols if c not in d.columns]
    if missing:
        raise PlotError(f"daily table lacks column(s) {', '.join(missing)}")
    d = d.sort_values("day")
    return d.set_index(pd.to_datetime(d["date"]))[list(cols)].rename(columns=cols)


def build_fan(daily: pd.DataFrame, points: pd.DataFrame | None = None):
    """Daily clash hazard per point: one row of panels per scenario, one panel per counterfactual."""
    if daily is None or len(daily) == 0:
        raise PlotError("no daily table (daily.parquet) to draw the hazard from")
    d = daily.copy()
    for f in ("scenario", "label"):
        d[f] = d[f].fillna("").astype(str) if f in d.columns else ""
    info = d.groupby("point_key", sort=False)[["scenario", "label"]].first()
    pinfo = None
    swept: list[str] = []
    if points is not None and len(points):
        pinfo = _prepare(points).drop_duplicates("point_key").set_index("point_key")
        pinfo = pinfo[pinfo.index.isin(info.index)]
        swept = swept_params(pinfo.reset_index()) if len(pinfo) else []
    pinfo_keys = set(pinfo.index) if pinfo is not None else set()
    if len(info) > MAX_PANELS:
        raise PlotError(
            f"{len(info)} points have daily series: too many panels for one fan chart (at most {MAX_PANELS})"
        )

    def order(key):
        label = info.loc[key, "label"]
        values = tuple(float(pinfo.loc[key, _pcol(s)]) for s in swept) if key in pinfo_keys else ()
        if is_derived_label(label):  # labels restate parameters: order by their values
            return (info.loc[key, "scenario"], False, "", values, key)
        return (info.loc[key, "scenario"], label not in BASELINE_LABELS, label, values, key)

    keys = sorted(info.index, key=order)
    scenarios = list(dict.fromkeys(info.loc[keys, "scenario"]))
    per_row = {s: [k for k in keys if info.loc[k, "scenario"] == s] for s in scenarios}
    ncols = max(len(v) for v in per_row.values())
    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(3.3 * ncols + 0.6, 2.8 * len(scenarios) + 1.2), layout="constrained")
        subfigs = np.atleast_1d(fig.subfigures(len(scenarios), 1))
        handles: tuple[list, list] | None = None
        for sf, scen in zip(subfigs, scenarios, strict=True):
            axes = np.atleast_1d(sf.subplots(1, ncols, sharex=True))
            try:
                scenario = load_scenario(scen)
            except ParameterError:
                scenario = None
            for ax in axes[len(per_row[scen]) :]:
                ax.set_visible(False)
            for j, (ax, key) in enumerate(zip(axes, per_row[scen], strict=False)):
                sub = d[d["point_key"] == key]
                row = pinfo.loc[key] if pinfo is not None and key in pinfo.index else sub.iloc[0]
                fan(ax, _hazard_stats(sub), "hazard")
                if scenario is not None:
                    drop = [k for k in str(row.get("drop_events", "") or "").split(",") if k]
                    _mark_numbered_events(ax, scenario, drop)
                shown = swept if key in pinfo_keys else []
                if is_derived_label(row.get("label", "")):
                    name = point_name(row, shown)
                else:
                    name = point_name(row) + ("\n" + point_name(row.drop("label"), shown) if shown else "")
                n = f" (n = {int(row['replicates'])})" if "replicates" in row.index else ""
                ax.set_title(name + n, fontsize=9, pad=title_pad(scenario) if scenario is not None else 6.0)
                ax.grid(axis="y", color="0.9", lw=0.6)
                ax.set_ylim(bottom=0)
                loc = mdates.AutoDateLocator(minticks=3, maxticks=5)
                ax.xaxis.set_major_locator(loc)
                ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
                if j == 0:
                    ax.set_ylabel("P(intra-Shi'ite clash)\nper day")
                if handles is None:
                    handles = ax.get_legend_handles_labels()
            head = f"scenario {scen}" if scen else "scenario"
            if scenario is None:
                head += " (events unknown: not in configs/scenario)"
            sf.suptitle(head, fontsize=9, fontweight="bold", x=0.01, ha="left")
            if scenario is not None and scenario.events:
                items = [f"{i} {ev.date:%d %b %Y}: {ev.label}" for i, ev in enumerate(scenario.events, start=1)]
                sf.supxlabel(wrap_items(["events (dashed lines):", *items], int(48 * ncols)), fontsize=7, x=0.01,
                             ha="left")  # fmt: skip
        hs, names = handles or ([], [])
        hs = [*hs, Line2D([], [], color="0.35", lw=0.8, ls="--")]
        names = [*names, "scenario event (numbered, key under each row)"]
        fig.legend(hs, names, loc="outside lower center", ncols=4 if ncols > 2 else 2, frameon=False)
        ntext = _n_text(pinfo) if pinfo is not None and len(pinfo) else "all replicates"
        labels = {info.loc[k, "label"] for k in keys if not is_derived_label(info.loc[k, "label"])}
        varies = [axis_label(s) for s in swept] or (["counterfactual"] if len(labels) > 1 else [])
        fig.suptitle(
            f"Daily intra-Shi'ite clash hazard by scenario{' and ' + ', '.join(varies) if varies else ''}\n"
            "line: mean; bands: middle 50% and 90% of replicates (not confidence intervals)\n"
            f"{ntext}; each panel has its own y scale",
            fontsize=10,
        )
    return fig


def _mark_numbered_events(ax, scenario, drop: Sequence[str] = ()) -> None:
    """The scenario's events as dashed lines (sim.plots.mark_events), numbered as in the full scenario's key
    (events of the dropped kinds are left out), one label per day and staggered where they crowd together."""
    kept = scenario.without(*drop) if drop else scenario
    mark_events(ax, kept, label=False)
    for x, text, level in event_marks(scenario, skip=tuple(drop)):
        ax.annotate(text, (x, 1.0), xycoords=("data", "axes fraction"), xytext=(2, 1 + 8 * level), va="bottom",
                    textcoords="offset points", fontsize=7, color="0.2")  # fmt: skip


def fan_figure(daily: pd.DataFrame, out_path: str | Path, points: pd.DataFrame | None = None) -> list[Path]:
    return save_figure(build_fan(daily, points), out_path)


# --------------------------------------------------------------------------------------------------
# counterfactual


def build_counterfactual(points: pd.DataFrame):
    """One row per point: dot = P(escalation), line = Wilson 95% interval, rows grouped by scenario."""
    pts = _prepare(points)
    if len(pts) > MAX_ROWS:
        raise PlotError(f"{len(pts)} points are too many rows for one dot chart (at most {MAX_ROWS})")
    swept = swept_params(pts)
    if "scenario" not in pts.columns:
        pts["scenario"] = ""
    names = []
    for _, r in pts.iterrows():
        if is_derived_label(r.get("label", "")):
            names.append(point_name(r, swept))
        else:
            names.append(point_name(r) + (f" ({point_name(r.drop('label'), swept)})" if swept else ""))
    pts["_name"] = names
    pts["_custom"] = ["" if is_derived_label(r.get("label", "")) else r["label"] for _, r in pts.iterrows()]
    pts["_base"] = [(r.get("label", "") in BASELINE_LABELS) and not r.get("drop_events", "") for _, r in pts.iterrows()]
    scenarios = list(dict.fromkeys(sorted(pts["scenario"])))
    rows: list[tuple[str, object]] = []  # ("head", scenario) or ("point", row)
    for scen in scenarios:
        sub = pts[pts["scenario"] == scen]
        sub = sub.assign(_o=~sub["_base"]).sort_values(["_o", "_custom", *(_pcol(p) for p in swept), "_name"])
        rows.append(("head", scen))
        rows += [("point", r) for _, r in sub.iterrows()]
    ys = np.arange(len(rows))[::-1].astype(float)
    xmax = min(1.0, max(float(pts["ci_high"].max()) * 1.08, 0.01))
    vary_n = pts["replicates"].nunique() > 1
    with plt.rc_context(STYLE):
        width = 5.0 + 0.06 * max(len(n) for n in names)  # room for the row labels beside a readable axis
        fig, ax = plt.subplots(figsize=(width, 0.27 * len(rows) + 1.4), layout="constrained")
        labels = []
        first = True
        for y, (kind, item) in zip(ys, rows, strict=True):
            if kind == "head":
                labels.append(f"scenario {item}" if item else "scenario")
                base = pts[(pts["scenario"] == item) & pts["_base"]]
                if len(base) == 1:
                    n_rows = int((pts["scenario"] == item).sum())
                    ax.vlines(float(base["p_escalation"].iloc[0]), y - n_rows - 0.4, y - 0.6, color="0.45", lw=0.9,
                              ls=(0, (2, 2)), zorder=1, label="baseline estimate" if first else None)  # fmt: skip
                continue
            r = item
            p, lo, hi = float(r["p_escalation"]), float(r["ci_low"]), float(r["ci_high"])
            bars = ax.errorbar(p, y, xerr=[[max(p - lo, 0.0)], [max(hi - p, 0.0)]], fmt="o", color="black", ms=4.5,
                        capsize=2.5, elinewidth=1.2, mfc="white" if r["_base"] else "black", zorder=3,
                        label=("estimate and Wilson 95% interval" if first else None))  # fmt: skip
            _unclip(bars)
            first = False
            text = f"{p:.3f} [{lo:.3f}, {hi:.3f}]" + (f"  n={int(r['replicates'])}" if vary_n else "")
            ax.annotate(text, (1.01, y), xycoords=("axes fraction", "data"), va="center", fontsize=7)
            labels.append("   " + r["_name"])
        ax.set_yticks(ys, labels=labels)
        for t, (kind, _) in zip(ax.get_yticklabels(), rows, strict=True):
            if kind == "head":
                t.set_fontweight("bold")
        ax.tick_params(axis="y", length=0, pad=6)
        ax.set_ylim(ys.min() - 0.7, ys.max() + 0.7)
        ax.set_xlim(0, xmax)
        ax.set_xlabel("P(escalation) over the scenario")
        ax.grid(axis="x", color="0.9", lw=0.6)
        fig.legend(loc="outside lower center", ncols=2, frameon=False)
        ax.set_title(
            "Escalation probability by scenario and counterfactual\n"
            f"dot: estimate (open: baseline); line: Wilson 95% interval; {_n_text(pts)}",
        )
    return fig


def counterfactual_figure(points: pd.DataFrame, out_path: str | Path) -> list[Path]:
    return save_figure(build_counterfactual(points), out_path)


# --------------------------------------------------------------------------------------------------
# command line


def _fits(kind: str, points: pd.DataFrame, daily: pd.DataFrame | None) -> None:
    """For --kind all: raise PlotError when the data do not call for this kind of figure."""
    if kind == "counterfactual" and swept_params(points):
        raise PlotError(f"parameters vary within a scenario and counterfactual ({', '.join(swept_params(points))}): "
                        "see the curve and heatmap, or ask for --kind counterfactual")  # fmt: skip
    if kind == "fan" and daily is None:
        raise PlotError("no daily.parquet in the aggregate folder")


def make_figure(kind: str, points, daily, out: Path, x=None, y=None) -> list[Path]:
    path = out / FILENAMES[kind]
    if kind == "curve":
        return curve_figure(points, path, x=x)
    if kind == "heatmap":
        return heatmap_figure(points, path, x=x, y=y)
    if kind == "fan":
        return fan_figure(daily, path, points=points)
    return counterfactual_figure(points, path)


STUDY_KINDS = ("sobol", "morris", "pawn", "prim", "uncertainty", "policies")


def study_kinds(folder: Path) -> list[str]:
    """The study figures a folder's tables support (for --kind all)."""
    kinds = []
    if (folder / "sensitivity.parquet").exists():
        kinds += ["sobol", "morris", "pawn"]
    if (folder / "prim_boxes.parquet").exists():
        kinds.append("prim")
    if (folder / "sets.parquet").exists():
        kinds.append("uncertainty")
    if (folder / "robustness.parquet").exists() or (folder.parent / "policies.json").exists():
        kinds.append("policies")
    return kinds


def make_study_figure(kind: str, folder: Path, out: Path, outcome: str) -> list[Path]:
    from sim.analysis import study_figures as sf

    if kind == "sobol":
        return sf.sobol_figure(folder, out, outcome)
    if kind == "morris":
        return sf.morris_figure(folder, out, outcome)
    if kind == "pawn":
        return sf.pawn_figure(folder, out, outcome)
    if kind == "prim":
        return sf.prim_figure(folder, out)
    if kind == "policies":
        return sf.policies_figure(folder, out)
    return sf.uncertainty_figure_from_run(folder, out)


def run_args(args: argparse.Namespace) -> int:
    """``python -m sim.plot`` once its arguments are parsed (sim/plot.py): draw, or say in one line why not."""
    from sim.analysis.study_figures import FigureError
    from sim.run.folders import tables_dir

    folder: Path = tables_dir(args.aggregate_dir)  # a sweep folder means its aggregate/ folder
    if not folder.is_dir():
        print(f"error: {folder} {'is not a folder' if folder.exists() else 'does not exist'}", file=sys.stderr)
        return 2
    try:
        return _plot(args, folder)
    except (PlotError, FigureError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except (OSError, ValueError, KeyError) as exc:  # tables that load but do not fit: one line, not a traceback
        print(f"error: {folder}: the tables do not fit this figure ({type(exc).__name__}: "
              f"{' '.join(str(exc).split())[:200]})", file=sys.stderr)  # fmt: skip
        return 2


def _draw_each(kinds: Sequence[str], draw: Callable[[str], list[Path]], errors: type[Exception],
               every: bool) -> list[Path] | None:  # fmt: skip
    """Draw each kind and print what was written. With --kind all (``every``) a kind that does not fit is
    skipped with a line; a single kind's error is printed and ends the command (None)."""
    written: list[Path] = []
    for kind in kinds:
        try:
            written += draw(kind)
        except errors as exc:
            if not every:
                print(f"error: {kind}: {exc}", file=sys.stderr)
                return None
            print(f"skipped {kind}: {exc}")
    for path in written:
        print(f"wrote {path}")
    return written


def _plot(args: argparse.Namespace, folder: Path) -> int:
    from sim.analysis.study_figures import FigureError
    out = args.out or folder / "figures"
    every = args.kind == "all"
    studies = study_kinds(folder)
    if args.kind in STUDY_KINDS or (every and studies):
        kinds = studies if every else [args.kind]
        written = _draw_each(kinds, lambda kind: make_study_figure(kind, folder, out, args.outcome), FigureError, every)
        return 0 if written else 2
    try:
        points = load_points(folder)
        daily = load_daily(folder)
    except PlotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)

    def draw(kind: str) -> list[Path]:
        if every:
            _fits(kind, points, daily)
        return make_figure(kind, points, daily, out, x=args.x, y=args.y)

    written = _draw_each(KINDS if every else (args.kind,), draw, PlotError, every)
    if written is None:
        return 2
    if not written:
        print("error: no figure fits these tables", file=sys.stderr)
        return 2
    return 0
