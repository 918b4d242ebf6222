"""``python -m sim.publish``: the studies' small result tables into results/tables/ (committed), from which
docs/ODD.md's sensitivity and evaluation sections are generated. The command only: sim.analysis.published."""

from __future__ import annotations

if __name__ == "__main__":  # first: from here on Ctrl-C and SIGTERM end it with one line, imports included
    from sim.run import signals

    signals.start()


def main(argv: list[str] | None = None) -> int:
    import argparse

    argparse.ArgumentParser(prog="python -m sim.publish", description=__doc__.splitlines()[0]).parse_args(argv)
    from sim.analysis.published import publish

    for path in publish():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    signals.run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
