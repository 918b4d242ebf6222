"""``python -m sim.exercises [--write | read ...]``: check, refresh or read the exercises' keys.
The command only; the keys are computed by sim.teaching.exercises."""

from sim.run.signals import run_command
from sim.teaching.exercises import main

if __name__ == "__main__":
    run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
