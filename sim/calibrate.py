"""``python -m sim.calibrate [--draws N --replicates R --seed S --out DIR]``: a posterior over the parameters
from the record. The command only; sim.commands.calibrate picks the method."""

from sim.commands.calibrate import main
from sim.run.signals import run_command

if __name__ == "__main__":
    run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
