"""``python -m sim.discovery <sweep dir>``: PRIM boxes where escalation is likely, from a Latin-hypercube
sweep. The command only; the analysis is sim.analysis.discovery."""

from sim.analysis.discovery import main
from sim.run.signals import run_command

if __name__ == "__main__":
    run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
