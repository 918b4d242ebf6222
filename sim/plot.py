"""``python -m sim.plot <aggregate dir>``: figures of an aggregated sweep (PNG and PDF).
The command only; the figures are drawn by sim.analysis.sweep_figures."""

from sim.analysis.sweep_figures import main
from sim.run.signals import run_command

if __name__ == "__main__":
    run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
