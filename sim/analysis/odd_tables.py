"""Generates docs/ODD.md's parameter, militia and timeline tables from sim.params and the seed scenario.
`python -m sim.docs` rewrites them in place; `python -m sim.docs --check` exits 1 if they are stale."""

from __future__ import annotations

import argparse
import functools
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from sim.analysis import evaluation_tables
from sim.model import priors, rules
from sim.model.params import MILITIA_FIELDS, MILITIAS, PARAM_BY_NAME, PARAMS, Param
from sim.model.scenario import EVENT_FIELDS, load_scenario
from sim.paths import DOCS_DIR

ODD_PATH = DOCS_DIR / "ODD.md"
TIMELINE_SCENARIO = "seed_timeline"

# Display titles for the declaration's groups; a group missing here is shown by its own name.
GROUP_TITLES = {
    "patron": "Patron (IRGC / Quds Force)",
    "militia": "Militia leaders",
    "cells": "Militia cells (Epstein 2002, adapted)",
    "state": "The state (prime minister and security forces)",
    "outcomes": "Attacks and US retaliation",
    "sadr": "Sadr's bloc",
    "clash": "Intra-Shi'ite rivalry, clashes, elections and escalation",
    "structure": "Rival mechanisms: which alternative runs (`structure.<mechanism>=<name>`)",
    "alternatives": "Parameters of the rival alternatives (read only when their alternative runs)",
}

# Column headings for the per-militia fields; a field missing here is shown by its own name.
FIELD_TITLES = {
    "loyalty": "loyalty",
    "independence_offset": "independence offset",
    "discipline": "discipline",
    "hostility_us": "hostility to US",
    "grievance": "baseline grievance",
}


def _cell(value: object) -> str:
    """Text for one Markdown table cell: one line, with ``|`` escaped."""
    text = " ".join(str(value).split())
    return text.replace("|", "\\|")


def _number(value: float | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}"


def _range(p: Param) -> str:
    if p.kind is bool:
        return "true / false"
    return f"[{_number(p.kind(p.low))}, {_number(p.kind(p.high))}]"


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _escalation_rows(esc, sort: bool) -> list[tuple[str, str, str, str]]:
    """(scenario, counterfactual, prior cell, posterior cell) per scenario and counterfactual of a calibration's
    escalation table: the pooled P(escalation) with the 90% interval across parameter sets."""
    rows = []
    for (scenario, cf), g in esc.groupby(["scenario", "counterfactual"], sort=sort):
        cell = {r.distribution: f"{r.p_escalation:.3f} [{r.q05:.2f}, {r.q95:.2f}]" for r in g.itertuples()}
        rows.append((scenario, cf, cell.get("prior", ""), cell.get("posterior", "")))
    return rows


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], align: Sequence[str] | None = None) -> list[str]:
    rule = align if align is not None else ["---"] * len(header)
    return [_row(header), "|" + "|".join(rule) + "|", *(_row(r) for r in rows)]


def _prior_cells(name: str, role: str = "uncertain") -> tuple[str, str]:
    """(prior, basis) cells: the prior over the judged range, or why there is none."""
    j = priors.judgements()[name]
    if j.prior is None:
        judged = f"; judged {_number(j.judged[0])}-{_number(j.judged[1])}" if j.judged else ""
        return f"none: a {role}{judged}", "-"
    return j.prior.describe(), j.prior.basis


def parameter_table() -> str:
    """Markdown: every declared parameter, one sub-heading and table per group, in declaration order,
    with its prior (from the judged range in seeds/evidence.yaml) and that range's basis."""
    groups: dict[str, list[Param]] = {}
    for p in PARAMS:
        groups.setdefault(p.group, []).append(p)
    header = ("parameter", "default", "range", "unit", "meaning", "evidence", "prior", "basis")
    align = ("---", "--:", "---", "---", "---", "---", "---", "---")
    uncertain = sum(p.role == "uncertain" for p in PARAMS)
    alternative = sum(p.role == "alternative" for p in PARAMS)
    lines = [f"{len(PARAMS)} parameters in {len(groups)} groups, generated from `sim/model/params.py` (`PARAMS`) "
             f"and, for the {uncertain} uncertain ones and the {alternative} of the rival alternatives (drawn only "
             "when their alternative runs, section 7.0), their priors from `seeds/evidence.yaml` "
             "(`sim/model/priors.py`). Basis: *judged* (the range is stated in the evidence), *derived* (computed "
             "from a stated judgement), *assumed* (our own range, with its reason in "
             "`seeds/evidence.yaml`)."]  # fmt: skip
    for group, params in groups.items():
        lines += ["", f"#### {_cell(GROUP_TITLES.get(group, group))}: group `{group}`", ""]
        rows = [(f"`{p.name}`", _number(p.default), _range(p), p.unit, p.description, p.evidence,
                 *_prior_cells(p.name, p.role)) for p in params]  # fmt: skip
        lines += _table(header, rows, align)
    return "\n".join(lines)


def structures_table() -> str:
    """Markdown: every contested mechanism and its alternatives (sim/model/structures.py), each with the rule
    functions that compute it, its own parameters, its evidence and its subsection: one hop from here to a rule."""
    from sim.model.structures import MECHANISMS

    header = ("mechanism", "alternative", "what it says", "rules (`sim/model/rules.py`)", "its parameters",
              "evidence", "section")  # fmt: skip
    rows = []
    for m in MECHANISMS:
        for a in m.alternatives:
            name = f"`{a.name}` (default)" if a is m.default else f"`{a.name}`"
            rule_links = ", ".join(f"[`rules.{r}`](../sim/model/rules.py)" for r in a.rules)
            params = ", ".join(f"`{n}`" for n in a.params) or "none of its own"
            rows.append((f"`{m.name}`", name, a.title, rule_links, params, a.evidence, a.odd))
    n_alt = sum(len(m.alternatives) for m in MECHANISMS)
    lines = [f"{len(MECHANISMS)} contested mechanisms, {n_alt} alternatives, generated from "
             "`sim/model/structures.py`. Choose with `python -m sim structure.<mechanism>=<name>` (sweep with "
             "`-m structure.<mechanism>=a,b` or `+grid.structure.<mechanism>=[a,b]`); the first alternative of "
             "each mechanism is today's model and the default.", "",
             *_table(header, rows)]  # fmt: skip
    return "\n".join(lines)


def militia_table() -> str:
    """Markdown: one row per militia (values from MILITIAS), then the meaning of each field (MILITIA_FIELDS)."""
    mean = PARAM_BY_NAME["militia_independence"].default
    fields = (FIELD_TITLES.get(f.name, f.name) for f in MILITIA_FIELDS)
    header = ("militia", "leader", "bloc", *fields, "independence at default", "evidence")
    align = ("---", "---", "---", *("--:" for _ in MILITIA_FIELDS), "--:", "---")
    rows = []
    for m in MILITIAS:
        values = []
        for f in MILITIA_FIELDS:
            prior = priors.priors()[priors.militia_factor(m.key, f.name)]
            values.append(f"{_number(getattr(m, f.name))} ({_number(prior.low)} to {_number(prior.high)})")
        independence = float(rules.independence(mean, m.independence_offset))
        rows.append((f"{m.name} (`{m.key}`)", m.leader, m.bloc, *values, f"{independence:.2f}", m.evidence))
    lines = [
        f"{len(MILITIAS)} militias, generated from `sim/model/params.py` (`MILITIAS`, `MILITIA_FIELDS`). "
        f"'Independence at default' is `militia_independence` ({_number(mean)}) plus the offset, clipped to [0, 1]. "
        "In brackets, each value's judged range in `seeds/evidence.yaml`: its prior is uniform over it.",
        "",
        *_table(header, rows, align),
        "",
        "Fields:",
        "",
    ]
    for f in MILITIA_FIELDS:
        limits = f"range [{_number(f.low)}, {_number(f.high)}]"
        lines.append(f"- `{f.name}` ({_cell(f.unit)}, {limits}): {_cell(f.description)}")
    return "\n".join(lines)


def _value(value: object) -> str:
    """An event field's value, compactly: mappings as 'key value' pairs, sequences in brackets."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return _number(value)
    if isinstance(value, (int, float)):
        return f"{value:g}"
    return str(value)


def timeline_table(scenario: str = TIMELINE_SCENARIO) -> str:
    """Markdown: the scenario's dated events with their fields, from configs/scenario/<scenario>.yaml."""
    sc = load_scenario(scenario)
    rows = []
    for e in sc.events:
        fields = "; ".join(f"{k}: {_value(v)}" for k, v in e.data.items())
        rows.append((e.date.isoformat(), e.day, e.kind, e.label, fields, e.ref))
    lines = [
        f"Scenario `{sc.name}`: {sc.start.isoformat()} to {sc.end.isoformat()}, {sc.days} days (day 0 is the start), "
        f"generated from `configs/scenario/{scenario}.yaml`. Seats are [before, after].",
        "",
        *_table(("date", "day", "kind", "label", "fields", "ref"), rows, ("---", "--:", "---", "---", "---", "---")),
    ]
    if sc.emergent:
        lines += ["", f"Emergent, not scheduled: {', '.join(sc.emergent)}."]
    return "\n".join(lines)


def departures_table() -> str:
    """Markdown: every default that is not its evidence's centre (point judgement or middle of the judged
    range), with the reason from sim.model.priors.DEPARTURES."""
    rows = [(f"`{j.name}`", _number(j.default), f"{_number(j.judged[0])}-{_number(j.judged[1])}", how, reason)
            for j, how, reason in priors.departures()]  # fmt: skip
    intro = (f"{len(rows)} of {len(priors.judgements())} declared values depart from their evidence, generated from "
             "`sim/model/priors.py` (`departures`, `DEPARTURES`); every other default is its evidence's point "
             "judgement or the centre of its judged range.")  # fmt: skip
    if not rows:
        return intro
    return "\n".join([intro, "", *_table(("value", "default", "judged", "how it departs", "why"), rows)])


def event_fields_table() -> str:
    """Markdown: each event kind's fields, their type and range, and their default (a declared parameter for
    every magnitude), from sim.model.scenario.EVENT_FIELDS."""
    rows = []
    for kind, fields in EVENT_FIELDS.items():
        if not fields:
            rows.append((f"`{kind}`", "(none)", "", "", "", ""))
        for f in fields:
            limits = f"[{_number(f.low)}, {_number(f.high)}]" if f.low is not None else ", ".join(f.choices) or ""
            if f.required:
                default = "required"
            elif f.param:
                default = f"`{f.param}` ({_number(PARAM_BY_NAME[f.param].default)})"
            elif f.default is None:
                default = "none"
            else:
                default = _value(f.default)
            rows.append((f"`{kind}`", f"`{f.name}`", f.kind, limits, default, f.description))
    return "\n".join([
        f"{len(EVENT_FIELDS)} event kinds, generated from `sim/model/scenario.py` (`EVENT_FIELDS`). Every event also "
        "takes `date` (inside the scenario), `kind`, `label`, `ref` and `repeat` (`true`: a deliberate copy of an "
        "event on the same day; an unmarked copy is an error); any other field is an error.",
        "",
        *_table(("kind", "field", "type", "allowed", "default", "meaning"), rows),
    ])  # fmt: skip


HEADLINE_SEED, HEADLINE_REPLICATES = 20211107, 5000
HEADLINE_CASES = (
    ("defaults (Ghaani-strength patron)", {}),
    ("every judged value at the middle of its range", "midpoints"),
    ("Soleimani-strength patron", {"patron_influence": 0.85}),
    ("distracted patron", {"patron_distraction": 0.8}),
    ("more independent militias", {"militia_independence": 0.8}),
    ("patron never intervenes with militias", {"patron_intervenes": False}),
    ("no patron", {"patron_present": False}),
)
THRESHOLDS = (2, 3, 5)


def midpoints() -> tuple[dict, dict]:
    """Every uncertain parameter and militia field at the middle of its judged range (rounded for whole
    numbers), as (parameter overrides, militia overrides)."""
    mids = {}
    for name, prior in priors.priors().items():
        mid = (prior.low + prior.high) / 2
        mids[name] = int(mid + 0.5) if prior.dist == "integer" else mid
    return priors.split_factors(mids)


def _headline_runs(over):
    """The headline's runs of one case (cached: the ODD's and the README's tables read the same runs)."""
    return _headline_runs_cached("midpoints" if over == "midpoints" else tuple(sorted(over.items())))


@functools.lru_cache(maxsize=16)
def _headline_runs_cached(key):
    from sim.model.params import make_militias, make_params
    from sim.run.simulate import simulate

    params, militias = midpoints() if key == "midpoints" else (dict(key), {})
    return simulate(load_scenario("seed_timeline"), make_params(params), make_militias(militias), seed=HEADLINE_SEED,
                    replicates=HEADLINE_REPLICATES, daily_replicates=HEADLINE_REPLICATES, daily_columns=("clash",),
                    progress=False)  # fmt: skip


@functools.lru_cache(maxsize=1)
def headline_table() -> str:
    """Markdown: P(escalation) over seed_timeline at the defaults, at the evidence midpoints and for the
    counterfactuals, and how it moves with the escalation threshold; recomputed by `python -m sim.docs`,
    so the ODD's numbers cannot drift from the model."""
    from sim.analysis.stats import escalation_probability, wilson_interval
    from sim.model.outcomes import escalated_by

    days = load_scenario("seed_timeline").days
    window = PARAM_BY_NAME["escalation_window"].default
    rows, by_threshold = [], []
    for label, over in HEADLINE_CASES:
        runs, daily = _headline_runs(over)
        p, lo, hi, _ = escalation_probability(runs)
        change = "see the text" if over == "midpoints" else ", ".join(f"{k} = {_value(v)}" for k, v in over.items())
        clash = int((runs["first_clash_day"] >= 0).sum())
        sustained = int(runs["sustained"].sum())
        per_year = runs["interventions"].mean() * 365 / days
        rows.append((label, change or "none", _wilson(clash, len(runs)), f"{p:.4f} [{lo:.4f}, {hi:.4f}]",
                     _wilson(sustained, len(runs)), f"{runs['participating_final'].mean():.3f}",
                     f"{per_year:.1f}"))  # fmt: skip
        series = daily.pivot(index="day", columns="replicate", values="clash").to_numpy()
        cells = []
        for k in THRESHOLDS:
            n_esc = int(escalated_by(series, k, window).sum())
            lo_k, hi_k = wilson_interval(n_esc, HEADLINE_REPLICATES)
            cells.append(f"{n_esc / HEADLINE_REPLICATES:.4f} [{float(lo_k):.4f}, {float(hi_k):.4f}]")
        by_threshold.append((label, *cells))
    return "\n".join([
        f"`seed_timeline`, {HEADLINE_REPLICATES} replicates each, seed {HEADLINE_SEED}, vector engine; generated by "
        "`python -m sim.docs`. Intervals are Wilson 95% over replicates (Monte Carlo error only).",
        "",
        *_table(("case", "change from defaults", "P(any clash)", "P(escalation)", "P(sustained fighting)",
                 "Sadr in politics at the end", "interventions a year"),
                rows, ("---", "---", "---", "---", "---", "--:", "--:")),
        "",
        f"How the headline moves with the escalation definition: P(escalation) [Wilson 95%] when escalation needs "
        f"{', '.join(map(str, THRESHOLDS))} clash-days within {window} days (`escalation_clashes`, "
        "`escalation_window`), read off the same runs:",
        "",
        *_table(("case", *(f"{k} clash-days" for k in THRESHOLDS)), by_threshold),
    ])


def _wilson(k: int, n: int) -> str:
    from sim.analysis.stats import wilson_interval

    lo, hi = wilson_interval(k, n)
    return f"{k / n:.4f} [{float(lo):.4f}, {float(hi):.4f}]"


ROUTE_REPLICATES, ROUTE_SETS, ROUTE_SET_REPLICATES = 5000, 300, 10


@functools.lru_cache(maxsize=1)
def routes_table() -> str:
    """Markdown: which route carries the risk, each switched off in turn (sim.analysis.routes)."""
    from sim.analysis import routes

    t = routes.decomposition(replicates=ROUTE_REPLICATES, prior_sets=ROUTE_SETS, prior_replicates=ROUTE_SET_REPLICATES,
                             seed=HEADLINE_SEED)  # fmt: skip
    every = t[t["route"] == "none"].set_index("where")
    rows = []
    for r in (*routes.ROUTES, *routes.BRAKES):
        cells = [r.name, r.description, ", ".join(f"`{k}`" for k in r.off)]
        for where in ("defaults", "priors"):
            row = t[(t["route"] == r.name) & (t["where"] == where)].iloc[0]
            cells += [f"{row[f'p_{c}']:.3f} ({row[f'p_{c}'] - every.loc[where, f'p_{c}']:+.3f})"
                      for c in ("any_clash", "escalated", "sustained")]  # fmt: skip
        rows.append(cells)
    head = [f"{every.loc[w, f'p_{c}']:.3f}" for w in ("defaults", "priors") for c in ("any_clash", "escalated",
                                                                                      "sustained")]  # fmt: skip
    return "\n".join([
        f"`seed_timeline`; at the defaults {ROUTE_REPLICATES} runs, under the priors {ROUTE_SETS} parameter sets x "
        f"{ROUTE_SET_REPLICATES} runs (Latin hypercube, seed {HEADLINE_SEED}); every case uses the same keyed random "
        "numbers, so a difference is the route's, not noise between runs. Each cell: the probability with the "
        "route closed (its values set to 0), and in brackets the change from every route open. Generated by "
        "`python -m sim.docs` from `sim/analysis/routes.py`.",
        "",
        f"Every route open: P(any clash) {head[0]}, P(escalation) {head[1]}, P(sustained fighting) {head[2]} at the "
        f"defaults; {head[3]}, {head[4]} and {head[5]} pooled under the priors.",
        "",
        *_table(("route closed", "what it carries", "values set to 0", "defaults: any clash", "escalation",
                 "sustained", "priors: any clash", "escalation", "sustained"), rows,
                ("---", "---", "---", "--:", "--:", "--:", "--:", "--:", "--:")),
    ])


@functools.lru_cache(maxsize=1)
def reach_table() -> str:
    """Markdown: the declared values that act only in some scenarios, with the share of runs each changes
    there and on the article's timeline (sim.analysis.routes.reach)."""
    from sim.analysis import routes

    names = list(routes.ACTS_ONLY_IN)
    rows = []
    for name, (scenario, why) in routes.ACTS_ONLY_IN.items():
        home = routes.reach("seed_timeline", [name]).iloc[0]["share_changed"]
        there = routes.reach(scenario, [name]).iloc[0]["share_changed"]
        rows.append((f"`{name}`", f"{home:.3f}", f"`{scenario}`", f"{there:.3f}", why))
    return "\n".join([
        f"{len(names)} of the declared uncertain values {'changes' if len(names) == 1 else 'change'} fewer than "
        f"{routes.REACH_SHARE:.0%} of runs of "
        "`seed_timeline` when moved from one end of their judged range to the other (300 runs, the same random "
        "numbers, everything else at the defaults); each acts in another scenario, named here and tested there "
        "(`tests/test_routes.py`, which also checks that every other value acts on the article's timeline):",
        "",
        *_table(("value", "share of runs changed on seed_timeline", "acts in", "share changed there", "why"), rows),
    ])


def _fmt(x: float) -> str:
    return f"{x:.3f}" if abs(x) >= 0.001 or x == 0 else f"{x:.1e}"


NOT_YET = "Not yet published: run `bash experiments/make_figures.sh` (or the study and `python -m sim.publish`)."


def sensitivity_section() -> str:
    """Markdown: the Morris screening, the Sobol indices with their convergence, the PRIM box and the
    headline under prior uncertainty, from the published tables in results/tables/."""
    from sim.analysis import published

    lines = ["Generated by `python -m sim.docs` from `results/tables/` (`python -m sim.publish`)."]
    morris, sobol, prim, unc = (published.read(n) for n in ("morris", "sobol", "prim", "uncertainty"))
    lines += [
        "",
        "**Morris screening** (`experiment=morris`): the ten largest mu* for P(escalation) over the seed "
        f"timeline, of {len(priors.priors())} uncertain values (mu*: mean absolute change of P(escalation) per full "
        "prior range):",
        "",
    ]
    if morris is None:
        lines.append(NOT_YET)
    else:
        rows = [
            (f"`{r.factor}`", _fmt(r.mu_star), _fmt(r.mu_star_conf), _fmt(r.sigma))
            for r in morris.head(10).itertuples()
        ]
        lines += _table(("value", "mu*", "95% interval half-width", "sigma"), rows, ("---", "--:", "--:", "--:"))
        conv = published.read("morris_convergence")
        if conv is not None:
            c = conv[conv["outcome"] == "p_escalation"].iloc[0]
            lines += [
                "",
                f"From {int(c['half'])} to {int(c['size'])} trajectories the ranking's Spearman correlation "
                f"is {c['spearman']:.2f} (top five {'unchanged' if c['top5_same'] else 'reordered or changed'}); "
                f"Monte Carlo noise is {c['noise_share']:.3f} of the variance across points.",
            ]
    lines += [
        "",
        "**Sobol indices** (`experiment=sobol_all`, over every uncertain value, N = 512 base samples): first "
        "order S1 and total order ST of P(escalation), with 95% bootstrap half-widths; the fifteen largest ST:",
        "",
    ]
    if sobol is None:
        lines.append(NOT_YET)
    else:
        rows = [(f"`{r.factor}`", f"{r.S1:.3f} ± {r.S1_conf:.3f}", f"{r.ST:.3f} ± {r.ST_conf:.3f}")
                for r in sobol.head(15).itertuples()]  # fmt: skip
        lines += _table(("value", "S1", "ST"), rows, ("---", "--:", "--:"))
        small = sobol[sobol["ST"] < 0.01]
        lines += ["", f"Of the {len(sobol)} values, {len(small)} have ST under 0.01 (each alone and with all its "
                  f"interactions explains less than 1% of the variance). The total orders sum to "
                  f"{sobol['ST'].sum():.2f} (above 1: values act together); the first orders' estimates sum to "
                  f"{sobol['S1'].sum():.2f}, which a true sum cannot exceed: over {len(sobol)} values the first-order "
                  f"estimator's errors add up, so S1's sum is not read as a measure of interaction here."]  # fmt: skip
        conv = published.read("sobol_convergence")
        if conv is not None:
            c = conv[conv["outcome"] == "p_escalation"].iloc[0]
            lines += [
                "",
                f"Convergence: from N = {int(c['half'])} to {int(c['size'])} base samples the ST ranking's "
                f"Spearman correlation is {c['spearman']:.2f} "
                f"(top five {'unchanged' if c['top5_same'] else 'changed'}); "
                f"Monte Carlo noise is {c['noise_share']:.3f} of the variance across points.",
            ]
    from sim.analysis.discovery_tables import box_sentence, threshold_text

    lines += [
        "",
        f"**Scenario discovery** (`experiment=discovery`, PRIM on {threshold_text(prim)} over a Latin hypercube "
        "of the priors): the first box's limits:",
        "",
    ]
    if prim is None:
        lines.append(NOT_YET)
    else:
        box = prim[prim["box"] == 1]
        stats = box.iloc[0]
        rows = [
            (f"`{r.factor}`", f"{r.min:.4g} to {r.max:.4g}", f"{r.prior_low:g} to {r.prior_high:g}")
            for r in box.itertuples()
        ]
        lines += _table(("value", "inside the box", "prior range"), rows)
        if "coverage" in box.columns:
            lines += ["", box_sentence(stats)]
    lines += ["", "**The headline under parameter uncertainty** (`python -m sim params_from=prior`):", ""]
    if unc is None:
        lines.append(NOT_YET)
    else:
        u = unc.iloc[0]
        lines.append(f"Over {int(u['sets'])} parameter sets drawn from the priors, "
                     f"{int(u['replicates'])} replicates each, "
                     f"P(escalation) of the seed timeline has median {u['median']:.3f} and 90% interval "
                     f"[{u['q05']:.3f}, {u['q95']:.3f}] across sets; pooled it is {u['pooled']:.3f}. "
                     "Monte Carlo noise is "
                     f"{u['noise_share']:.3f} of that spread: the width is the parameters' uncertainty, not the "
                     "replicates'.")  # fmt: skip
    return "\n".join(lines)


def evaluation_section() -> str:
    """Markdown: the calibration's targets, diagnostics, predictive checks, posterior escalation
    probabilities and informed parameters, from the published tables in results/tables/."""
    from sim.analysis import calibration, published

    lines = [
        "Generated by `python -m sim.docs` from `seeds/targets.yaml` and `results/tables/` "
        "(`python -m sim.calibrate`, then `python -m sim.publish`).",
        "",
        "Targets (emergent outcomes only):",
        "",
    ]
    rows = [(f"`{t.id}`", t.describe(), ", ".join(f"¶{p}" for p in t.paragraphs), t.certainty, t.tolerance)
            for t in calibration.load_targets()]  # fmt: skip
    lines += _table(("target", "condition on a run", "source", "certainty", "tolerance"), rows)
    diag, checks = published.read("calibration_diagnostics"), published.read("calibration_checks")
    esc, informed = published.read("calibration_escalation"), published.read("calibration_informed")
    if diag is None or checks is None or esc is None or informed is None:
        return "\n".join([*lines, "", NOT_YET])
    d = diag.iloc[0]
    lines += [
        "",
        f"Method: rejection ABC with an exact match on these discrete targets, {int(d['draws'])} prior draws x "
        f"{int(d['replicates'])} runs each; a draw's weight is the share of its runs meeting every target. "
        f"Acceptance rate {d['acceptance_rate']:.3f}, effective sample size {d['effective_sample_size']:.0f}, "
        "one generation at tolerance 0.",
        "",
        "Posterior-predictive checks (share of runs meeting each target):",
        "",
    ]
    rows = [(f"`{r.target}`", _fmt(r.prior), _fmt(r.posterior)) for r in checks.itertuples()]
    lines += _table(("target", "prior", "posterior"), rows, ("---", "--:", "--:"))
    lines += ["", "P(escalation), pooled over parameter sets, with the 90% interval across sets:", ""]
    lines += _table(("scenario", "counterfactual", "prior", "posterior"), _escalation_rows(esc, sort=True))
    told = informed[informed["informed"]]
    lines += ["", f"The record informs {len(told)} of {len(informed)} values "
              "(posterior marginal further from the prior than weight noise allows and by at least "
              f"{calibration.MATERIAL_TV:.0%} of its mass, total-variation test at 1%): "
              + (", ".join(f"`{r.factor}` (mean {r.prior_mean:.3g} -> {r.posterior_mean:.3g})"
                           for r in told.itertuples())
                 or "none") + ". For every other value the posterior is the prior, or within a few percent of "
              "it."]  # fmt: skip
    return "\n".join(lines)


def _open(hi: float) -> str:
    return "open" if not np.isfinite(hi) else f"{hi:g}"


def _record(lo: float, hi: float) -> str:
    return f"{lo:g}" if lo == hi else f"[{lo:g}, {_open(hi)}]"


def _defaults_row() -> tuple[str, ...]:
    """The README headline's row at the defaults: label, P(any clash), P(escalation), P(sustained) with their
    Monte Carlo intervals, from the runs this module caches."""
    from sim.analysis.stats import escalation_probability

    runs, _ = _headline_runs({})
    p, lo, hi, _ = escalation_probability(runs)
    return (f"at the defaults (Wilson 95%, {len(runs)} runs)",
            _wilson(int((runs["first_clash_day"] >= 0).sum()), len(runs)), f"{p:.3f} [{lo:.3f}, {hi:.3f}]",
            _wilson(int(runs["sustained"].sum()), len(runs)))  # fmt: skip


def _evidence(name: str) -> Callable[[], str]:
    """A generator of sim/analysis/evidence_tables.py (the calibration on the record's counts), loaded when run."""

    def make() -> str:
        from sim.analysis import evidence_tables

        if name == "readme_headline":
            return evidence_tables.readme_headline(_defaults_row)
        return getattr(evidence_tables, name)()

    make.__name__ = name
    return make


def lever_table() -> str:
    """The levers (sim.model.params.LEVERS): who holds each, the parameter, today's value, the range of choices
    and its evidence, and the policies of experiment=policies that set it."""
    from sim.model.params import ACTORS, LEVERS

    lines = [f"{len(LEVERS)} levers, generated from `sim/model/params.py` (`LEVERS`); today's value is the parameter's "
             "declared default.", ""]  # fmt: skip
    rows = []
    for lv in LEVERS:
        p = PARAM_BY_NAME[lv.param]
        low, high = (("false", "true") if p.kind is bool else (_number(p.kind(lv.low)), _number(p.kind(lv.high))))
        rows.append((ACTORS[lv.actor].split(":")[0], f"`{lv.param}`", lv.option, _number(p.default),
                     f"{low} to {high}", _cell(lv.evidence)))  # fmt: skip
    lines += _table(("actor", "lever", "the choice", "today", "open to the actor", "evidence for the range"), rows)
    return "\n".join(lines)


GENERATORS: dict[str, Callable[[], str]] = {
    "parameters": parameter_table,
    "militias": militia_table,
    "levers": lever_table,
    "policies": lambda: readme_policies(),
    "timeline": timeline_table,
    "departures": departures_table,
    "event_fields": event_fields_table,
    "headline": headline_table,
    "routes": routes_table,
    "reach": reach_table,
    "sensitivity": sensitivity_section,
    "evaluation": evaluation_section,
    "evaluation_counts": _evidence("counts_section"),
    "structures": structures_table,
}
GENERATORS.update(evaluation_tables.GENERATORS)  # how the model is judged: sim/analysis/evaluation_tables.py


README_PATH = DOCS_DIR.parent / "README.md"


@functools.lru_cache(maxsize=1)
def readme_summary() -> str:
    """The main job's summary table at the defaults, as `python -m sim` prints it (a fenced block)."""
    from sim.analysis.stats import summary_table
    from sim.model.params import MILITIA_KEYS, make_params
    from sim.run.simulate import simulate

    runs, _ = simulate(load_scenario("seed_timeline"), make_params(), MILITIAS, seed=HEADLINE_SEED, replicates=2000,
                       daily_replicates=0, progress=False)  # fmt: skip
    return "```\n" + summary_table(runs, MILITIA_KEYS).to_string(index=False) + "\n```"


def _calibrated_tables():
    """(escalation, effects, command): the calibration on the record's counts where it is published (the
    headline's source), else the calibration on the article's yes/no facts."""
    from sim.analysis import published
    from sim.analysis.evidence_tables import _whole

    esc = published.read("calibration_counts_escalation")
    if esc is not None and "p_any_clash" in esc.columns:  # the whole posterior's rows (model-averaged)
        return _whole(esc), _whole(published.read("calibration_counts_effects")), "python -m sim.calibrate --method smc"
    return published.read("calibration_escalation"), published.read("calibration_effects"), "python -m sim.calibrate"


def readme_numbers() -> str:
    """The headline three ways (at the defaults with Monte Carlo intervals, under the priors and under the
    calibrated posterior with intervals across parameter sets), the severity ladder, and the counterfactuals'
    effects as risk differences and ratios."""
    from sim.analysis import published, routes
    from sim.analysis.stats import escalation_probability

    esc, eff, command = _calibrated_tables()
    unc = published.read("uncertainty")
    rows, values = [], []
    defaults = {label: over for label, over in HEADLINE_CASES}
    for cf, label in (("none", "defaults (Ghaani-strength patron)"), ("soleimani", "Soleimani-strength patron"),
                      ("no_patron", "no patron")):  # fmt: skip
        runs, _ = _headline_runs(defaults[label])
        p, lo, hi, _ = escalation_probability(runs)
        cells = [_wilson(int((runs["first_clash_day"] >= 0).sum()), len(runs)), f"{p:.4f} [{lo:.4f}, {hi:.4f}]",
                 _wilson(int(runs["sustained"].sum()), len(runs))]  # fmt: skip
        row_values = [p]
        for which in ("prior", "posterior"):
            r = None if esc is None else esc[(esc["scenario"] == "seed_timeline") & (esc["counterfactual"] == cf)
                                             & (esc["distribution"] == which)]  # fmt: skip
            if r is None or not len(r):
                cells.append("not yet published")
                row_values.append(float("nan"))
                continue
            cells.append(f"{r['p_escalation'].iloc[0]:.3f} [{r['q05'].iloc[0]:.2f}, {r['q95'].iloc[0]:.2f}]")
            row_values.append(float(r["p_escalation"].iloc[0]))
        rows.append((label, *cells))
        values.append(row_values)
    lines = _table(
        ("seed_timeline", f"P(any clash), defaults [Wilson 95%, {HEADLINE_REPLICATES} runs]",
         "P(escalation), defaults", "P(sustained fighting), defaults",
         "P(escalation) under the priors [90% of parameter sets]", "P(escalation) calibrated [90% of sets]"),
        rows,
    )  # fmt: skip
    if esc is not None:
        n_sets, n_runs = int(esc["sets"].iloc[0]), int(esc["replicates"].iloc[0])
        ghaani, soleimani, none = values
        ordered = all(s <= g <= n for s, g, n in zip(soleimani, ghaani, none, strict=True))
        lines += ["", f"Prior and posterior columns: {n_sets} parameter sets x {n_runs} runs each "
                  f"(`{command}`); pooled probability, and in brackets the range of the middle 90% of "
                  "sets. " + ("In every column a Soleimani-strength patron gives the lowest probability and no "
                              "patron the highest." if ordered else "The counterfactuals do not order the same way "
                              "in every column.")]  # fmt: skip
    table = routes.effects_at_defaults("seed_timeline", HEADLINE_REPLICATES, HEADLINE_SEED)
    eff_rows = []
    for label, cf, _ in routes.COUNTERFACTUAL_CASES:
        e = table[(table["counterfactual"] == label) & (table["outcome"] == "escalation")].iloc[0]
        cells = [label, f"{e['diff']:+.3f} [{e['diff_low']:+.3f}, {e['diff_high']:+.3f}]", routes.fmt_ratio(e)]
        for which in ("prior", "posterior"):
            r = None if eff is None else eff[(eff["scenario"] == "seed_timeline") & (eff["counterfactual"] == cf)
                                             & (eff["distribution"] == which)]  # fmt: skip
            if r is None or not len(r):
                cells.append("not yet published")
                continue
            x = r.iloc[0]
            cells.append(f"{x['diff']:+.3f} [{x['diff_q05']:+.2f}, {x['diff_q95']:+.2f}]; x{x['ratio']:.2f}; "
                         f"raises it in {x['share_raised']:.0%} of sets")  # fmt: skip
        eff_rows.append(cells)
    lines += ["", "Each counterfactual's effect on P(escalation) over `seed_timeline`, against the history, as a "
              "difference and a ratio: at the defaults from paired runs (the same keyed random numbers; normal 95% "
              "interval of the paired differences, delta-method interval of the log ratio), and across parameter "
              "sets (each set run both ways; the pooled difference, the middle 90% of the sets' differences, the "
              "pooled ratio and the share of sets in which the counterfactual raises the risk):", "",
              *_table(("counterfactual", "difference at the defaults [95%]", "ratio at the defaults [95%]",
                       "under the priors", "calibrated"), eff_rows)]  # fmt: skip
    if unc is not None:
        u = unc.iloc[0]
        lines += ["", f"Under the priors the main job's own study (`params_from=prior`, {int(u['sets'])} sets x "
                  f"{int(u['replicates'])} replicates) gives median {u['median']:.3f}, 90% interval "
                  f"[{u['q05']:.3f}, {u['q95']:.3f}], pooled {u['pooled']:.3f}."]  # fmt: skip
    return "\n".join(lines)


def readme_heatmap() -> str:
    """What the patron_vs_independence heatmap shows, in numbers read off its published table."""
    from sim.analysis import published

    grid = published.read("patron_vs_independence")
    if grid is None:
        return NOT_YET
    inf, ind = "param.patron_influence", "param.militia_independence"

    def at(influence: float, independence: float):
        near = grid.iloc[((grid[inf] - influence).abs() + (grid[ind] - independence).abs()).idxmin()]
        return near

    ghaani = PARAM_BY_NAME["patron_influence"].default
    default_ind = PARAM_BY_NAME["militia_independence"].default
    cells = []
    for independence in (default_ind, 0.71, 0.86, 1.0):
        r = at(ghaani, independence)
        cells.append(f"{r['p_escalation']:.3f} at independence {r[ind]:.2f}")
    top = at(1.0, 1.0)
    none = grid[grid[inf] == grid[inf].min()]
    return (f"At Ghaani-strength influence (grid column {at(ghaani, default_ind)[inf]:.2f}) P(escalation) is "
            f"{'; '.join(cells)}. Even full influence leaves {top['p_escalation']:.3f} at full independence, and "
            f"with no influence at all it ranges from {none['p_escalation'].min():.3f} to "
            f"{none['p_escalation'].max():.3f} across independence (a patron without leverage restrains no "
            "one).")  # fmt: skip


def readme_discovery() -> str:
    from sim.analysis.discovery_tables import readme_discovery as make

    return make()


def readme_policies() -> str:
    from sim.analysis.policy_tables import readme_policies as make

    return make()


README_GENERATORS: dict[str, Callable[[], str]] = {"readme_headline": _evidence("readme_headline"),
                                                   "readme_overlap": _evidence("readme_overlap"),
                                                   "readme_summary": readme_summary, "readme_numbers": readme_numbers,
                                                   "readme_heatmap": readme_heatmap,
                                                   "readme_discovery": readme_discovery,
                                                   "readme_policies": readme_policies}  # fmt: skip
README_GENERATORS.update(evaluation_tables.README_GENERATORS)
FILES = {"odd": (ODD_PATH, GENERATORS), "readme": (README_PATH, README_GENERATORS)}


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- BEGIN GENERATED: {re.escape(name)} -->)(.*?)(<!-- END GENERATED: {re.escape(name)} -->)", re.DOTALL
    )


def generated_sections(text: str, generators: Mapping[str, Callable[[], str]] | None = None) -> dict[str, str]:
    """The current content between each pair of markers in ``text`` (stripped), by section name."""
    out = {}
    for name in generators or GENERATORS:
        found = _pattern(name).findall(text)
        if len(found) != 1:
            raise ValueError(f"expected exactly one '{name}' generated section, found {len(found)}")
        out[name] = found[0][1].strip()
    return out


def render(text: str, generators: Mapping[str, Callable[[], str]] | None = None) -> str:
    """``text`` with each generated section (between its BEGIN and END markers) replaced by a fresh table."""
    generators = generators or GENERATORS
    generated_sections(text, generators)  # checks that every section is present exactly once
    for name, make in generators.items():
        table = make()
        # A function replacement, so backslashes in the table (escaped pipes) are kept literally.
        text = _pattern(name).sub(lambda m, table=table: f"{m.group(1)}\n{table}\n{m.group(3)}", text)
    return text


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it (shorter messages)."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def run_args(args: argparse.Namespace) -> int:
    """``python -m sim.docs`` once its arguments are parsed (sim/docs.py): rewrite the generated sections of
    docs/ODD.md and README.md, or with ``--check`` report (exit 1) the files that are stale."""
    targets = [(args.path, GENERATORS)] if args.path else list(FILES.values())
    status = 0
    for path, generators in targets:
        shown = _shown(path)
        try:
            text = path.read_text(encoding="utf-8")
            fresh = render(text, generators)
        except (OSError, ValueError) as err:
            print(f"sim.docs: {shown}: {err}", file=sys.stderr)
            return 2
        if args.check:
            if fresh != text:
                print(f"{shown} is out of date: run `python -m sim.docs` to regenerate its tables", file=sys.stderr)
                status = 1
            continue
        if fresh != text:
            path.write_text(fresh, encoding="utf-8")
            print(f"{shown}: generated tables rewritten")
        else:
            print(f"{shown}: already up to date")
    return status
