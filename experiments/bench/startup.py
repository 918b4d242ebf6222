"""Start-up of the light commands: wall time of `python -m sim --help` and `python -m sim.status <sweep>`, what
each imports (`python -X importtime`: its heaviest modules, and whether scipy, pandas, matplotlib or pyarrow load).

    python experiments/bench/startup.py                 # makes a small sweep to ask sim.status about
    python experiments/bench/startup.py --sweep DIR     # or uses yours
    python experiments/bench/startup.py --repeat 9      # median of 9 starts (default 5)
    python experiments/bench/startup.py --before /tmp/main   # beside another checkout (e.g. `git worktree add
                                                              # /tmp/main main`), same venv, same run

A script, not a test: wall times on a shared machine vary; the load average is printed beside them. The test
that fails when a light command imports a heavy library is tests/test_startup.py."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("scipy", "pandas", "matplotlib", "pyarrow", "numba", "sklearn", "SALib")
SMALL_SWEEP = ["replicates=10", "params.cells_per_militia=3", "scenario=election_loss", "figure=false",
               "params.patron_influence=0.2,0.8", "+grid.militia_independence=[0.2,0.8]"]  # fmt: skip


def wall(cmd: list[str], repeat: int, cwd: Path = ROOT) -> tuple[float, float, int]:
    """Median and minimum wall time of ``cmd`` (run in ``cwd``: `python -m sim` imports the checkout there) over
    ``repeat`` starts, and its exit status."""
    times, code = [], 0
    for _ in range(repeat):
        t = time.perf_counter()
        code = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), code


def import_profile(cmd: list[str], cwd: Path = ROOT) -> tuple[float, list[tuple[float, str]], list[str]]:
    """(total import seconds, the top-level modules by cumulative import time, the heavy libraries imported)."""
    res = subprocess.run([sys.executable, "-X", "importtime", *cmd[1:]], cwd=cwd, capture_output=True, text=True)
    rows = []
    for line in res.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cum_us, name = line.split(":", 1)[1].split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2  # the tree's indentation: 1 space, then 2 per level
        rows.append((int(cum_us) / 1e6, name.strip(), depth))
    total = sum(s for s, _, d in rows if d == 0)
    top = sorted(((s, n) for s, n, d in rows if d == 0), reverse=True)[:6]
    loaded = sorted({n.split(".")[0] for _, n, _ in rows} & set(HEAVY))
    return total, top, loaded


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep", type=Path, help="a sweep folder for sim.status (default: a small one made here)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--before", type=Path, help="another checkout to time beside this one (e.g. main)")
    args = ap.parse_args()
    trees = {"this checkout": ROOT, **({f"{args.before}": args.before.resolve()} if args.before else {})}
    tmp = tempfile.TemporaryDirectory()
    sweeps = {}
    for tree, cwd in trees.items():  # each checkout's own sweep (the store's layout may differ between them)
        sweeps[tree] = args.sweep or Path(tmp.name) / f"sweep{len(sweeps)}"
        if args.sweep is None:
            subprocess.run([sys.executable, "-m", "sim", "-m", *SMALL_SWEEP, f"hydra.sweep.dir={sweeps[tree]}"],
                           cwd=cwd, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    sweep = Path("{sweep}")
    commands = {
        "python -m sim --help": [sys.executable, "-m", "sim", "--help"],
        "python -m sim.status <a sweep of 4 points>":
            [sys.executable, "-m", "sim.status", str(sweep)],
        "python -m sim.aggregate --help": [sys.executable, "-m", "sim.aggregate", "--help"],
        "python -m sim.calibrate --help": [sys.executable, "-m", "sim.calibrate", "--help"],
        "python -m sim.export (argument error)": [sys.executable, "-m", "sim.export"],
        "python -c pass (the interpreter alone)": [sys.executable, "-c", "pass"],
    }  # fmt: skip
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} "
          f"at start; median (min) of {args.repeat} starts")  # fmt: skip
    print("| command | checkout | wall, median (min) | exit | imports | heavy libraries imported |")
    print("|---|---|--:|--:|--:|---|")
    for label, cmd in commands.items():
        for tree, cwd in trees.items():  # interleaved: both checkouts see the same load
            cmd = [str(sweeps[tree]) if c == str(sweep) else c for c in cmd]
            med, low, code = wall(cmd, args.repeat, cwd)
            total, top, loaded = import_profile(cmd, cwd)
            print(f"| `{label}` | {tree} | {med:.2f} s ({low:.2f}) | {code} | {total:.2f} s | "
                  f"{', '.join(loaded) or 'none'} |")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    for label, cmd in list(commands.items())[:2]:
        for tree, cwd in trees.items():
            cmd = [str(sweeps[tree]) if c == str(sweep) else c for c in cmd]
            total, top, _ = import_profile(cmd, cwd)
            print(f"\n{label} ({tree}): heaviest imports (cumulative): "
                  + ", ".join(f"{n} {s:.2f} s" for s, n in top))  # fmt: skip
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
