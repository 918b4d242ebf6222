"""``python -m sim.docs [--check]``: regenerate (or check) docs/ODD.md's generated tables.
The command only; the tables are made by sim.analysis.odd_tables."""

from sim.analysis.odd_tables import main
from sim.run.signals import run_command

if __name__ == "__main__":
    run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
