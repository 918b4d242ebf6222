"""docs/ODD.md's generated sections on how the model is judged: the counterfactual outputs, the observations' pass
rates under the priors and the long run, each read from its published table in results/tables/.

sim.analysis.odd_tables registers these generators; the tables are made by their own commands (each section says
which), so `python -m sim.docs` only formats them."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

from sim.analysis import published

NOT_YET = "Not yet published: run `{command}`, then `python -m sim.docs`."


def _from_table(table: str, command: str) -> Callable[[Callable[..., str]], Callable[[], str]]:
    """A section made from one published table: the decorated function gets the table (results/tables/<table>.csv);
    until the table is published the section says which ``command`` makes it."""

    def wrap(make: Callable[..., str]) -> Callable[[], str]:
        @functools.wraps(make)
        def section() -> str:
            t = published.read(table)
            return NOT_YET.format(command=command) if t is None else make(t)

        section.table = table  # type: ignore[attr-defined]
        return section

    return wrap


def _cell(value: object) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


def _table(header, rows, align=None) -> list[str]:
    rule = align if align is not None else ["---"] * len(header)
    return ["| " + " | ".join(_cell(c) for c in header) + " |", "|" + "|".join(rule) + "|",
            *("| " + " | ".join(_cell(c) for c in r) + " |" for r in rows)]  # fmt: skip


def _num(x: float, signed: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    return f"{x:+.3f}" if signed else f"{x:.3f}"


def _cost(t) -> str:
    """' (engine E, S s of wall time on this shared 2-core machine)' when the table records them, else ''."""
    if "seconds" not in t.columns or "engine" not in t.columns:
        return ""
    return (f" ({t['engine'].iloc[0]} engine; {int(t['seconds'].iloc[0])} s of wall time for every structure on "
            "this shared 2-core machine)")


@_from_table("counterfactual_outputs", "python -m sim.counterfactuals")
def counterfactual_outputs(t) -> str:
    """Markdown: every counterfactual output with its Monte Carlo interval (from its published table): the paired
    effects as one row each (baseline, counterfactual, difference, ratio), then the other measures."""
    parts = ("baseline", "counterfactual", "difference", "ratio")
    if "structure" not in t.columns:
        t = t.assign(structure="default")
    split = t["measure"].str.rsplit(": ", n=1, expand=True)
    paired = t.assign(outcome=split[0], part=split[1])[split[1].isin(parts)]
    effects = []
    for (output, case, outcome, structure), g in paired.groupby(["output", "case", "outcome", "structure"],
                                                                sort=False):  # fmt: skip
        row = {r.part: r for r in g.itertuples()}
        cells = [f"{_num(row[p].value, p == 'difference')} [{_num(row[p].low, p == 'difference')}, "
                 f"{_num(row[p].high, p == 'difference')}]" for p in parts]
        effects.append((output, case, outcome, structure, *cells))
    order = {k: i for i, k in enumerate(dict.fromkeys(e[:3] for e in effects))}
    effects.sort(key=lambda e: order[e[:3]])  # each output's structures together (a stable sort)
    others = [(r.output, r.case, r.measure, r.structure, f"{_num(r.value)} [{_num(r.low)}, {_num(r.high)}]",
               r.interval) for r in t[~t.index.isin(paired.index)].itertuples()]  # fmt: skip
    order = {k: i for i, k in enumerate(dict.fromkeys(e[:3] for e in others))}
    others.sort(key=lambda e: order[e[:3]])
    n = int(t["replicates"].max())
    return "\n".join([
        "For each structure (today's, `default`, and each rival alternative alone), at its defaults, paired runs "
        f"({n} per case, seed {int(t['seed'].iloc[0])}{_cost(t)}; the same keyed random numbers "
        "in every case, so a difference is the change's, not noise between runs); intervals are Monte Carlo "
        "error only (Wilson 95% for a probability, normal 95% for a paired difference, delta method for a ratio, "
        "bootstrap over replicates otherwise). Published by `python -m sim.counterfactuals` "
        "(`sim/analysis/counterfactual_outputs.py`) into `results/tables/counterfactual_outputs.csv`; generated "
        "here by `python -m sim.docs`. Where the output is an event (the attack, the win), the counterfactual is the "
        "timeline without it, so its effect is the difference with the sign turned.",
        "",
        *_table(("output", "case", "outcome", "structure", "baseline", "counterfactual", "difference [95%]",
                 "ratio [95%]"), effects),
        "",
        *_table(("output", "case", "measure", "structure", "value [95%]", "interval"), others),
    ])


@_from_table("pattern_pass_rates", "python tests/pass_rates.py --write")
def pass_rates(t) -> str:
    """Markdown: the share of prior draws passing each observation and all of them (results/tables/
    pattern_pass_rates.csv, from `python tests/pass_rates.py --write`)."""
    first = t.iloc[0]
    structures = list(dict.fromkeys(t["structure"]))
    rows = []
    for name in dict.fromkeys(t["observation"]):
        cells = []
        for st in structures:
            r = t[(t["structure"] == st) & (t["observation"] == name)].iloc[0]
            mark = " (fails at the defaults)" if bool(r["known_failure"]) and not name.startswith("(") else ""
            cells.append(f"{r['pass_share']:.3f} [{r['low']:.3f}, {r['high']:.3f}]{mark}")
        rows.append((name if name.startswith("(") else f"`{name}`", *cells))
    return "\n".join([
        f"For each structure, {int(first['draws'])} parameter sets drawn from its priors (Latin hypercube, seed "
        f"{int(first['seed'])}), "
        f"each run {int(first['runs'])} times on `record_2021` (the observations' own seed and replicates, so every "
        f"set sees the same random numbers); a set passes an observation when the record lies in neither "
        f"{first['tail']:g} tail of its runs (with {int(first['runs'])} runs a tail share near {first['tail']:g} "
        f"has Monte Carlo error {(first['tail'] * (1 - first['tail']) / first['runs']) ** 0.5:.3f}). Share of sets "
        f"that pass, Wilson 95% over sets; *fails at the defaults*: the structure's own defaults fail it (for "
        "today's structure, the known failures of section 1), and the last row leaves those out. "
        f"{int(first['seconds'])} s for the whole table with {int(first['workers'])} workers on this shared 2-core "
        "machine; `python tests/pass_rates.py --write` publishes it, `python -m sim.docs` shows it here.",
        "",
        *_table(("observation", *(f"structure `{s}`" for s in structures)), rows,
                ("---", *("--:" for _ in structures))),
    ])


@_from_table("long_run", "python -m sim.long_run")
def long_run(t) -> str:
    """Markdown: the seed timeline a year past its end, each door closed in turn (results/tables/long_run.csv)."""
    from sim.analysis.long_run import trend

    first = t.iloc[0]
    if "structure" not in t.columns:
        t = t.assign(structure="default")
    rows = []
    for (case, what, closed, structure), g in t.groupby(["case", "what", "closed", "structure"], sort=False,
                                                        dropna=False):  # fmt: skip
        cells = [case, what, "" if not isinstance(closed, str) else ", ".join(f"`{c}`" for c in closed.split()),
                 structure]  # fmt: skip
        for where in ("defaults", "priors"):
            w = g[g["where"] == where].set_index("window")
            early, late, word = trend(t, case, where, structure)
            cells += [f"{w.loc['first 3 months', 'p_clash']:.3f} / {w.loc['last 3 months', 'p_clash']:.3f}",
                      f"{early:.4f} / {late:.4f} ({word})"]  # fmt: skip
        rows.append(cells)
    order = {k: i for i, k in enumerate(dict.fromkeys(r[0] for r in rows))}
    rows.sort(key=lambda r: order[r[0]])  # each door's structures together (a stable sort)
    d = t[t["where"] == "defaults"]
    n_def, n_pri = int(d["runs"].iloc[0]), int(t[t["where"] == "priors"]["runs"].iloc[0])
    return "\n".join([
        f"`{first['scenario']}` run {int(first['extra_days'])} days past its end (31 January 2022) with no new "
        f"event; at the defaults {n_def} runs, under the priors {n_pri} runs (Latin hypercube sets, seed "
        f"{int(first['seed'])}); every case uses the same keyed random numbers. Each cell: P(a clash) in the first "
        "and in the last three months of the extra year, and the mean daily clash hazard over the same months (it "
        "*grows* if the last quarter's exceeds the first's by more than 10%, *settles* if it falls by more). "
        f"Published by `python -m sim.long_run` (`sim/analysis/long_run.py`){_cost(t)}; generated by "
        "`python -m sim.docs`.",
        "",
        *_table(("door closed", "what it carries", "values set to 0", "structure",
                 "defaults: P(clash) first / last quarter", "daily hazard first / last", "priors: P(clash)",
                 "daily hazard"), rows, ("---", "---", "---", "---", "--:", "--:", "--:", "--:")),
    ])


@_from_table("patron_effect", "python -m sim.patron_effect")
def patron_effect(t) -> str:
    """Markdown: the patron's effect against independence, per structure (results/tables/patron_effect.csv), and
    where the structures disagree."""
    first = t.iloc[0]
    rows = []
    for r in t.itertuples():
        rows.append((r.structure, f"{r.independence:.2f}", r.case, f"{r.p_base:.3f}", f"{r.p_cf:.3f}",
                     f"{r.rd:+.3f} [{r.rd_low:+.3f}, {r.rd_high:+.3f}]", f"[{r.rd_q05:+.2f}, {r.rd_q95:+.2f}]",
                     f"{r.sd_parameters:.3f} / {r.sd_mc:.3f}",
                     f"{r.ratio:.2f} [{r.ratio_low:.2f}, {r.ratio_high:.2f}]", f"{r.share_raises:.0%}"))  # fmt: skip
    lines = [
        f"`{first['scenario']}`; for each structure {int(first['sets'])} parameter sets drawn from its priors (Latin "
        f"hypercube, seed {int(first['seed'])}), each run {int(first['runs'])} times at every level of the militias' "
        "mean independence (`militia_independence`, the other values as drawn) three ways with the same keyed random "
        "numbers: as it is, without the patron, and with a patron that never intervenes. The difference is the "
        "mean over sets of each set's paired difference, with its 95% interval; the middle 90% of the sets' "
        "differences is what parameter uncertainty leaves; the law of total variance splits the spread of the sets' "
        "estimates into parameters (the spread of their true effects) and Monte Carlo noise (the mean variance of "
        "one set's estimate, var(paired difference) / runs); the ratio is pooled, with a bootstrap interval over "
        f"sets. Published by `python -m sim.patron_effect`{_cost(t)}; generated by `python -m sim.docs`.",
        "",
        *_table(("structure", "independence", "case", "P(escalation)", "in the case", "difference [95%]",
                 "middle 90% of sets", "SD: parameters / Monte Carlo", "ratio [95%]", "sets where it raises"),
                rows, ("---", "--:", "---", "--:", "--:", "--:", "--:", "--:", "--:", "--:")),
        "",
    ]
    lines.append(_disagreement(t))
    return "\n".join(lines)


def _disagreement(t) -> str:
    """Where each rival alone and today's structure disagree about the patron's effect (their 95% intervals of the
    mean do not overlap), per case and level, and how far each rival moves the effect at most."""
    structures = list(dict.fromkeys(t["structure"]))
    if len(structures) < 2 or "default" not in structures:
        return "One structure so far (today's): nothing to compare yet."
    base = t[t["structure"] == "default"].set_index(["case", "independence"])
    apart, agree = [], []
    for st in structures:
        if st == "default":
            continue
        g = t[t["structure"] == st].set_index(["case", "independence"])
        off = (g["rd_low"] > base["rd_high"]) | (g["rd_high"] < base["rd_low"])
        d = g["rd"] - base["rd"]
        k = d.abs().idxmax()
        if not off.any():
            agree.append(f"`{st}`")
            continue
        where = "; ".join(f"{case} at " + ", ".join(f"{x:.2f}" for x in sorted(levels))
                          for case, levels in off[off].reset_index().groupby("case", sort=False)["independence"])
        apart.append(f"`{st}` ({where}; at most {d[k]:+.3f} from today's, {k[0]} at {k[1]:.2f})")  # fmt: skip
    text = "Where a rival alone disagrees with today's structure about the patron's effect (95% intervals of the mean "
    text += "that do not overlap): " + ("; ".join(apart) if apart else "nowhere") + "."
    if agree:
        text += " Within the intervals of today's at every level and case: " + ", ".join(agree) + "."
    return text


@_from_table("patron_effect", "python -m sim.patron_effect")
def readme_patron_effect(t) -> str:
    """Markdown for the README: the effect of removing the patron, per structure and level (the ODD has the rest)."""
    first = t.iloc[0]
    levels = list(dict.fromkeys(t["independence"]))
    rows = []
    for case in dict.fromkeys(t["case"]):
        for st, g in t[t["case"] == case].groupby("structure", sort=False):
            g = g.set_index("independence")
            rows.append((case, f"`{st}`", *(f"{g.loc[x, 'rd']:+.3f} [{g.loc[x, 'rd_low']:+.3f}, "
                                             f"{g.loc[x, 'rd_high']:+.3f}]" for x in levels)))  # fmt: skip
    return "\n".join([
        f"Change in P(escalation) on `{first['scenario']}` when the patron is removed (*no patron*) or never "
        f"intervenes (*no intervention*), mean over {int(first['sets'])} parameter sets from each structure's priors "
        f"x {int(first['runs'])} paired runs, 95% interval; columns: the militias' mean independence. Parameter "
        "uncertainty and Monte Carlo noise apart, and the ratios: docs/ODD.md section 10.",
        "",
        *_table(("case", "structure", *(f"{x:.2f}" for x in levels)), rows,
                ("---", "---", *("--:" for _ in levels))),
        "",
        _disagreement(t),
    ])


GENERATORS = {"counterfactual_outputs": counterfactual_outputs, "pass_rates": pass_rates, "long_run": long_run,
              "patron_effect": patron_effect}
README_GENERATORS = {"readme_patron_effect": readme_patron_effect}
