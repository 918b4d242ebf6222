"""``python -m sim.status <sweep dir>``: points done, being computed, missing and damaged, tasks by state, a verdict.
Exit status 0 complete, 1 stopped incomplete or damaged, 2 not a sweep folder, 3 still running."""

from __future__ import annotations

if __name__ == "__main__":  # first: from here on Ctrl-C and SIGTERM end it with one line, imports included
    from sim.run import signals

    signals.start()


def parser():
    import argparse
    from pathlib import Path

    ap = argparse.ArgumentParser(prog="python -m sim.status", description=__doc__.splitlines()[0])
    ap.add_argument("sweep_dir", type=Path, help="a sweep folder (hydra.sweep.dir), or its aggregate/ folder")
    ap.add_argument("--all", action="store_true", help="list every task, not only the first unfinished ones")
    return ap


def main(argv: list[str] | None = None) -> int:
    import sys

    args = parser().parse_args(argv)
    from sim.run.folders import sweep_root
    from sim.run.status import main_status

    code, text = main_status(sweep_root(args.sweep_dir), args.all)
    print(text, file=sys.stderr if code == 2 else sys.stdout)
    return code


if __name__ == "__main__":
    signals.run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
