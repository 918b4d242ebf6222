"""``python -m sim.calibrate [--draws N --replicates R --seed S --out DIR]``: a posterior over the parameters
from the record of July 2021 to January 2022. The command only; the method is sim.analysis.calibration."""

import sys

from sim.analysis.calibration import main

if __name__ == "__main__":
    sys.exit(main())
