"""``python -m sim.docs [--check]``: regenerate (or check) the generated sections of docs/ODD.md and README.md.
The command line; the tables are made by sim.analysis.odd_tables."""

from __future__ import annotations

if __name__ == "__main__":  # first: from here on Ctrl-C and SIGTERM end it with one line, imports included
    from sim.run import signals

    signals.start()


def parser():
    import argparse
    from pathlib import Path

    ap = argparse.ArgumentParser(prog="python -m sim.docs", description="Generates docs/ODD.md's parameter, militia "
                                 "and timeline tables and README.md's numbers from the model and the published "
                                 "tables; --check exits 1 if they are stale.")  # fmt: skip
    ap.add_argument("--check", action="store_true", help="exit 1 if a file is out of date; change nothing")
    ap.add_argument("--path", type=Path, default=None, help="one ODD file only (default: docs/ODD.md and README.md)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from sim.analysis.odd_tables import run_args

    return run_args(args)


if __name__ == "__main__":
    signals.run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
