"""Benchmark: agent-steps per second of the Mesa, vector (numpy) and compiled (numba) engines on seed_timeline,
on one thread and on every core, their ratios, the compiled engine's compile time on a fresh cache, a
memory-bandwidth reference, the 40,000-replicate runs' times and peak memory, and what each rival mechanism
(sim/model/structures.py) costs in the compiled engine, as a ratio to today's structure in the same run.

    python experiments/bench/bench.py                 # prints the tables and rewrites docs/PERFORMANCE.md
    python experiments/bench/bench.py --no-write --replicates 4000 --mesa-replicates 2
    python experiments/bench/bench.py --structures    # only the rival mechanisms' costs (and their section)

A script, not a test: shared machines are noisy, so every figure is measured in the same run and
compared with a reference measured alongside it."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
# Bytes a cell-day must touch at the least: read its offset and risk (float64), write `active` (bool).
COMPULSORY_BYTES_PER_CELL_DAY = 8 + 8 + 1

VECTOR_CHILD = """
import json, resource, sys, time
from sim.model.params import make_params, MILITIAS
from sim.model.scenario import load_scenario
from sim.run.simulate import simulate
R, workers, engine = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
sc = load_scenario("seed_timeline")
# warm up (the compiled engine loads its machine code from numba's cache here; compile time is measured apart)
simulate(sc, make_params(), MILITIAS, seed=1, replicates=2, progress=False, workers=workers, engine=engine)
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
t, c = time.perf_counter(), cpu()
runs, daily = simulate(sc, make_params(), MILITIAS, seed=20211107, replicates=R, daily_replicates=1000,
                       progress=False, workers=workers, engine=engine)
sec = time.perf_counter() - t
print(json.dumps({"seconds": sec, "cpu_seconds": cpu() - c,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "p": float(runs["escalated"].mean()), "n": len(runs)}))
"""

COMPILE_CHILD = """
import json, sys, time
t = time.perf_counter()
from sim.engines import compiled
from sim.model.params import make_params, MILITIAS
from sim.model.scenario import load_scenario
import numpy as np
t_import = time.perf_counter() - t
sc = load_scenario("seed_timeline")
t = time.perf_counter()
compiled.run_batch(sc, [make_params()], [MILITIAS], 1, np.arange(2))
first = time.perf_counter() - t
t = time.perf_counter()
compiled.run_batch(sc, [make_params()], [MILITIAS], 1, np.arange(2))
print(json.dumps({"import": t_import, "first": first, "second": time.perf_counter() - t}))
"""


STRUCTURE_CHILD = """
import json, sys, time
import numpy as np
from sim.engines import compiled
from sim.model.params import make_params, MILITIAS
from sim.model.scenario import load_scenario
from sim.model.structures import MECHANISMS, make_structure, single_changes
R, repeats = int(sys.argv[1]), int(sys.argv[2])
sc = load_scenario("seed_timeline")
cases = [(s.label(), s) for s in single_changes()]
cases.append(("every rival at once", make_structure({m.name: m.alternatives[1].name for m in MECHANISMS})))
params = {label: make_params(s.codes()) for label, s in cases}
for p in params.values():  # compile (once: every alternative is a branch of one kernel) and warm up
    compiled.run_batch(sc, [p], [MILITIAS], 1, np.arange(64), keep_daily=False)
times = {label: [] for label in params}
p_esc = {}
for _ in range(repeats):  # interleaved, so that a change of machine load falls on every case alike
    for label, p in params.items():
        t = time.perf_counter()
        res = compiled.run_batch(sc, [p], [MILITIAS], 20211107, np.arange(R), keep_daily=False)
        times[label].append(time.perf_counter() - t)
        p_esc[label] = float(res.runs["escalated"].mean())
print(json.dumps({"times": times, "p": p_esc, "days": sc.days}))
"""
STRUCTURES_BEGIN, STRUCTURES_END = "<!-- BEGIN bench structures -->", "<!-- END bench structures -->"
BEGIN, END = "<!-- BEGIN bench -->", "<!-- END bench -->"
NOTES = """
### Where the time goes, and what was (not) done

- Profile (`python -m cProfile` on 4,000 replicates): the keyed random numbers' SplitMix64 hash
  of every cell every day is the largest share (about a quarter), then the logistic (scipy's
  `expit`) and the activation rule, then reductions over cells. The loop over days is Python;
  there is no Python loop over replicates or agents.
- Done: the hash runs in place on the cell array (`mix64(..., inplace=True)`), the activation
  rule makes one full-size temporary, reductions run over the contiguous last (cell) axis,
  chunks are about 2,000 replicates (cache-sized; measured: 12.0 s per 20,000 replicates on one
  thread against 15.2 s in one chunk), and chunks run on one thread per core (numpy releases
  the GIL inside array operations).
- Not done, on purpose: **float32**. The Mesa engine and the vector engine must give the same
  bits, and both call the same rules; float32 would be possible for the cell arrays in both,
  but the hot spots are the 64-bit hash (integer work float32 does not shrink) and `expit`, and
  the gain did not justify a second precision regime in the rules. Everything is float64.
- Done: **a compiled engine** (`engine=compiled`, `sim/engines/compiled.py`). The whole day runs in numba,
  one replicate at a time per thread (`prange`), from one event day to the next; the events stay Python
  (`apply_events` on the same arrays between stretches). It calls the rules of `sim/model/rules.py`
  themselves, compiled for scalars, and gives the vector engine's results bit for bit (tests/test_compiled.py).
  What that took: the logistic is scipy's `1 / (1 + exp(-x))` with libm's `exp`, which numba calls too;
  numpy's own `np.expm1` and `np.exp2` pick a SIMD version by CPU (on this AVX-512 machine 23% and 11% of
  values differ in the last bit from the scalar C functions, and from numpy without AVX-512), so the rules now
  call scipy's cephes `expm1`/`exp2` (one C function everywhere), which the compiled code calls by address.
  No fastmath, no SVML, no fused multiply-add (tested on a fresh compile).
"""


def copy_bandwidth(mb: int = 512, repeats: int = 5) -> float:
    """Best-of-n GB/s of a numpy copy (read + write counted), the machine's practical ceiling."""
    a = np.ones(mb * 2**20 // 8)
    b = np.empty_like(a)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t)
    return 2 * a.nbytes / best / 1e9


def mesa_rate(n: int) -> tuple[float, int, int]:
    """(seconds per replicate, agents, days) of the Mesa engine on seed_timeline at default sizes."""
    from sim.engines.mesa_model import MilitiaModel

    t = time.perf_counter()
    for rep in range(n):
        m = MilitiaModel(scenario="seed_timeline", seed=20211107, replicate=rep)
        while m.running:
            m.step()
    sec = (time.perf_counter() - t) / n
    return sec, len(m.agents), m.scenario.days


def engine_run(replicates: int, workers: int, engine: str = "vector") -> dict:
    """Run a batch engine in a fresh process, so its peak memory is its own."""
    out = subprocess.run(
        [sys.executable, "-c", VECTOR_CHILD, str(replicates), str(workers), engine],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def compile_time() -> dict:
    """The compiled engine's first batch on an empty numba cache (compiling) and its second (compiled)."""
    with tempfile.TemporaryDirectory() as cache:
        out = subprocess.run(
            [sys.executable, "-c", COMPILE_CHILD], capture_output=True, text=True, check=True, cwd=ROOT,
            env={**os.environ, "NUMBA_CACHE_DIR": cache},
        )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def structure_costs(replicates: int, repeats: int) -> dict:
    """Seconds of the compiled engine (all threads, no daily series) per structure, in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", STRUCTURE_CHILD, str(replicates), str(repeats)], capture_output=True, text=True,
        check=True, cwd=ROOT,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def structure_table(replicates: int, repeats: int) -> str:
    """Markdown: each rival alternative's cost in the compiled engine as a ratio to today's structure, measured
    in the same run (the median of interleaved repeats), with the machine's load."""
    cores = os.cpu_count() or 1
    load_before = os.getloadavg()[0]
    res = structure_costs(replicates, repeats)
    load_after = os.getloadavg()[0]
    med = {k: float(np.median(v)) for k, v in res["times"].items()}
    base = med["default"]
    agents = 4 * 30 + 7
    rows = [f"| {'today' + chr(39) + 's structure' if k == 'default' else f'`structure.{k}`' if '=' in k else k} | "
            f"{med[k]:.2f} s ({min(res['times'][k]):.2f}-{max(res['times'][k]):.2f}) | "
            f"{agents * res['days'] * replicates / med[k]:,.0f} | **{med[k] / base:.2f}** | {res['p'][k]:.3f} |"
            for k in med]  # fmt: skip
    return "\n".join([
        f"{replicates:,} replicates of seed_timeline on the compiled engine ({cores} threads, no daily series), "
        f"each structure timed {repeats} times, interleaved; median (range). The ratio is to today's structure in "
        "the same run. An alternative's cost includes what it does to the dynamics (more active cells or clashes "
        "mean more logistic evaluations), not only its own arithmetic.",
        "",
        "| structure | time | agent-steps per second | ratio to today's | P(escalation) |",
        "|---|--:|--:|--:|--:|",
        *rows,
        "",
        f"- Load average (1 min) when the run began and ended: {load_before:.1f} and {load_after:.1f} on {cores} cores"
        + (": above the core count, other work shared the cores, so the times are upper bounds; the ratios, "
           "measured interleaved, are less affected." if max(load_before, load_after) > cores else "."),
    ])  # fmt: skip


def write_section(begin: str, end: str, block: str, title: str) -> None:
    """Replace (or append) one marked section of docs/PERFORMANCE.md, keeping the others as they are."""
    path = ROOT / "docs" / "PERFORMANCE.md"
    old = path.read_text() if path.exists() else "# Performance\n"
    text = f"{begin}\n{block}\n{end}"
    if begin in old and end in old:
        new = old[: old.index(begin)] + text + old[old.index(end) + len(end) :]
    else:
        new = old.rstrip("\n") + f"\n\n## {title}\n\n" + text + "\n"
    path.write_text(new)


def structures_block(args: argparse.Namespace) -> str:
    return (f"Written by `python experiments/bench/bench.py` (or `--structures` alone); measured "
            f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine()}; command: `python "
            f"experiments/bench/bench.py --structures --structure-replicates {args.structure_replicates} "
            f"--structure-repeats {args.structure_repeats}`.\n\n"
            + structure_table(args.structure_replicates, args.structure_repeats))  # fmt: skip


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicates", type=int, default=40_000)
    ap.add_argument("--mesa-replicates", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="print only; do not rewrite docs/PERFORMANCE.md")
    ap.add_argument("--structures", action="store_true", help="only the rival mechanisms' costs (compiled engine)")
    ap.add_argument("--structure-replicates", type=int, default=20_000)
    ap.add_argument("--structure-repeats", type=int, default=5)
    args = ap.parse_args()
    if args.structures:
        block = structures_block(args)
        print(block)
        if not args.no_write:
            write_section(STRUCTURES_BEGIN, STRUCTURES_END, block, "What each rival mechanism costs")
            print("\nwrote docs/PERFORMANCE.md")
        return
    import mesa
    import numba
    import scipy

    cores = os.cpu_count() or 1
    load_before = os.getloadavg()[0]
    bw = copy_bandwidth()
    comp = compile_time()
    mesa_sec, agents, days = mesa_rate(args.mesa_replicates)
    one = engine_run(args.replicates, 1)
    par = engine_run(args.replicates, cores)
    c_one = engine_run(args.replicates, 1, "compiled")
    c_par = engine_run(args.replicates, cores, "compiled")
    assert c_par["p"] == par["p"] and c_one["p"] == one["p"], "the engines disagree"
    cells = agents - 7  # patron, PM, Sadr's bloc, four leaders
    rows = []
    mesa_steps = agents * days / mesa_sec
    rows.append(
        (
            "Mesa engine",
            f"{args.mesa_replicates} replicates",
            f"{mesa_sec:.2f} s / replicate",
            f"{mesa_steps:,.0f}",
            "1x",
            "",
        )
    )
    rate = {}
    for label, r in (("vector engine, 1 thread", one), (f"vector engine, {cores} threads", par),
                     ("compiled engine, 1 thread", c_one), (f"compiled engine, {cores} threads", c_par)):  # fmt: skip
        steps = rate[label] = agents * days * r["n"] / r["seconds"]
        per_cpu = agents * days * r["n"] / r["cpu_seconds"]
        rows.append((label, f"{r['n']:,} replicates", f"{r['seconds']:.1f} s", f"{steps:,.0f}",
                     f"{steps / mesa_steps:,.0f}x", f"{per_cpu:,.0f}"))  # fmt: skip
    speed_one = rate["compiled engine, 1 thread"] / rate["vector engine, 1 thread"]
    speed_par = rate[f"compiled engine, {cores} threads"] / rate[f"vector engine, {cores} threads"]
    eff = COMPULSORY_BYTES_PER_CELL_DAY * cells * days * par["n"] / par["seconds"] / 1e9
    lo, hi = _wilson(par["p"], par["n"])
    load_after = os.getloadavg()[0]
    text = "\n".join(
        [
            "| engine | work | time | agent-steps per second | ratio to Mesa | agent-steps per CPU-second |",
            "|---|---|---|---|---|---|",
            *[f"| {' | '.join(r)} |" for r in rows],
            "",
            f"- {args.replicates:,} replicates of seed_timeline ({days} days, {agents} agents each): "
            f"**{par['seconds']:.1f} s** with {os.cpu_count()} threads, {one['seconds']:.1f} s with one; "
            f"peak memory {par['peak_rss_mb']:,.0f} MiB ({one['peak_rss_mb']:,.0f} MiB with one thread).",
            f"- The compiled engine on the same runs: **{c_par['seconds']:.1f} s** with {cores} threads, "
            f"{c_one['seconds']:.1f} s with one: **{speed_par:.1f}x** the vector engine on {cores} threads, "
            f"{speed_one:.1f}x on one; peak memory {c_par['peak_rss_mb']:,.0f} MiB. Same escalation probability "
            "(checked in the run; the tables are equal bit for bit, tests/test_compiled.py).",
            f"- Compiling the compiled engine on an empty cache: **{comp['first'] - comp['second']:.1f} s** (its first "
            f"2-replicate batch {comp['first']:.1f} s, the second {comp['second']:.2f} s; import "
            f"{comp['import']:.1f} s). "
            "numba caches the machine code beside the source (`cache=True`), so later processes load it in well "
            "under a second; editing `sim/model/rules.py`, `sim/model/keyed_random.py` or the engine compiles afresh.",
            f"- Load average (1 min) when the run began and ended: {load_before:.1f} and {load_after:.1f} on {cores} "
            + ("cores: above the core count, other work shared the cores and wall-clock rates fall (2 threads can be "
               "no faster than one); the last column (agent-steps per CPU-second, all threads' CPU time) is less "
               "affected." if max(load_before, load_after) > cores else
               "cores: below the core count, so the machine was quiet enough for the wall-clock rates to stand."),
            f"- Escalation probability from that run: {par['p']:.4f} (Wilson 95% [{lo:.4f}, {hi:.4f}]).",
            f"- Memory-bandwidth reference (numpy copy of 512 MiB, read + write): {bw:.1f} GB/s.",
            f"- Compulsory traffic of the vector core ({COMPULSORY_BYTES_PER_CELL_DAY} B per cell-day: offset and "
            f"risk read, activity written): {eff:.2f} GB/s, **{100 * eff / bw:.1f}%** of the reference. The core is "
            "compute-bound (hashing the keyed random numbers and the logistic), not bandwidth-bound.",
        ]
    )
    print(text)
    structures = structures_block(args)
    print(f"\n{structures}")
    if args.no_write:
        return
    header = (
        "## The engines\n\nWritten by `python experiments/bench/bench.py` (rerun it to refresh; numbers are from\n"
        "one run"
        " on a shared machine, so compare rows with each other, not with another machine's).\n\n"
        f"- measured: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine()}\n"
        f"- Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"mesa {mesa.__version__}, numba {numba.__version__}\n"
        f"- command: `python experiments/bench/bench.py --replicates {args.replicates} "
        f"--mesa-replicates {args.mesa_replicates}`\n\n"
    )
    path = ROOT / "docs" / "PERFORMANCE.md"
    block = f"{BEGIN}\n{header}{text}\n{NOTES}{END}"
    old = path.read_text() if path.exists() else ""
    if BEGIN in old and END in old:  # keep the other sections (studies, calibration) as they are
        new = old[: old.index(BEGIN)] + block + old[old.index(END) + len(END) :]
    else:
        new = "# Performance\n\n" + block + "\n"
    path.write_text(new)
    write_section(STRUCTURES_BEGIN, STRUCTURES_END, structures, "What each rival mechanism costs")
    print("\nwrote docs/PERFORMANCE.md")


def _wilson(p: float, n: int) -> tuple[float, float]:
    from sim.analysis.stats import wilson_interval

    lo, hi = wilson_interval(round(p * n), n)
    return float(lo), float(hi)


if __name__ == "__main__":
    main()
