"""``python -m sim.sensitivity <sweep dir>``: Morris or Sobol indices of a design sweep (SALib).
The command only; the analysis is sim.analysis.sensitivity."""

from sim.analysis.sensitivity import main
from sim.run.signals import run_command

if __name__ == "__main__":
    run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
