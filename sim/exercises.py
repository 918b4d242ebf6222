"""``python -m sim.exercises [--write | read ...]``: check, refresh or read the exercises' keys.
The command line; the keys are computed by sim.teaching.exercises."""

from __future__ import annotations

if __name__ == "__main__":  # first: from here on Ctrl-C and SIGTERM end it with one line, imports included
    from sim.run import signals

    signals.start()


def parser():
    from sim.run.cli import CommandParser

    ap = CommandParser(prog="python -m sim.exercises", description="Answer keys for the teaching exercises in "
                       "docs/exercises/, recomputed from the model.")  # fmt: skip
    ap.add_argument("--write", action="store_true", help="rewrite the key values in docs/exercises/*.md")
    sub = ap.add_subparsers(dest="cmd")
    rd = sub.add_parser("read", help="a column's mean in the newest run of a scenario (or in a run folder)")
    rd.add_argument("where", help="scenario name (its newest run under results/runs/) or a run folder")
    rd.add_argument("column", help="a column of daily.parquet (with a date) or runs.parquet (without)")
    rd.add_argument("date", nargs="?", help="YYYY-MM-DD: read daily.parquet on this day")
    rd.add_argument("--among", nargs=2, metavar=("COLUMN=VALUE", "DATE"),
                    help="only the replicates whose COLUMN equals VALUE on DATE, e.g. --among intervened=0 2021-11-07")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from sim.teaching.exercises import run_args

    return run_args(args)


if __name__ == "__main__":
    signals.run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
