"""docs/ODD.md's generated sections on how the model is judged: the counterfactual outputs, the observations' pass
rates under the priors and the long run, each read from its published table in results/tables/.

sim.analysis.odd_tables registers these generators; the tables are made by their own commands (each section says
which), so `python -m sim.docs` only formats them."""

from __future__ import annotations

import math

from sim.analysis import published

NOT_YET = "Not yet published: run `{command}`, then `python -m sim.docs`."


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


def counterfactual_outputs() -> str:
    """Markdown: every counterfactual output with its Monte Carlo interval (from its published table): the paired
    effects as one row each (baseline, counterfactual, difference, ratio), then the other measures."""
    from sim.analysis.counterfactual_outputs import TABLE

    t = published.read(TABLE)
    if t is None:
        return NOT_YET.format(command="python -m sim.counterfactuals")
    parts = ("baseline", "counterfactual", "difference", "ratio")
    split = t["measure"].str.rsplit(": ", n=1, expand=True)
    paired = t.assign(outcome=split[0], part=split[1])[split[1].isin(parts)]
    effects = []
    for (output, case, outcome), g in paired.groupby(["output", "case", "outcome"], sort=False):
        row = {r.part: r for r in g.itertuples()}
        cells = [f"{_num(row[p].value, p == 'difference')} [{_num(row[p].low, p == 'difference')}, "
                 f"{_num(row[p].high, p == 'difference')}]" for p in parts]
        effects.append((output, case, outcome, *cells))
    others = [(r.output, r.case, r.measure, f"{_num(r.value)} [{_num(r.low)}, {_num(r.high)}]", r.interval)
              for r in t[~t.index.isin(paired.index)].itertuples()]  # fmt: skip
    n = int(t["replicates"].max())
    return "\n".join([
        f"At the defaults, paired runs ({n} per case, seed {int(t['seed'].iloc[0])}; the same keyed random numbers "
        "in every case, so a difference is the change's, not noise between runs); intervals are Monte Carlo "
        "error only (Wilson 95% for a probability, normal 95% for a paired difference, delta method for a ratio, "
        "bootstrap over replicates otherwise). Published by `python -m sim.counterfactuals` "
        f"(`sim/analysis/counterfactual_outputs.py`) into `results/tables/{TABLE}.csv`; generated here by "
        "`python -m sim.docs`. Where the output is an event (the attack, the win), the counterfactual is the "
        "timeline without it, so its effect is the difference with the sign turned.",
        "",
        *_table(("output", "case", "outcome", "baseline", "counterfactual", "difference [95%]", "ratio [95%]"),
                effects),
        "",
        *_table(("output", "case", "measure", "value [95%]", "interval"), others),
    ])


GENERATORS = {"counterfactual_outputs": counterfactual_outputs}
