"""``python -m sim.sensitivity <sweep dir>``: Morris or Sobol indices of a design sweep (SALib).
The command only; the analysis is sim.analysis.sensitivity."""

import sys

from sim.analysis.sensitivity import main

if __name__ == "__main__":
    sys.exit(main())
