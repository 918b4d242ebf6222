"""``python -m sim.calibrate [--draws N --replicates R --seed S --out DIR]``: a posterior over the parameters
from the record of July 2021 to January 2022. The command only; the method is sim.analysis.calibration."""

from sim.analysis.calibration import main
from sim.run.signals import run_command

if __name__ == "__main__":
    run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
