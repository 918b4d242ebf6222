"""``python -m sim.discovery <sweep dir>``: PRIM boxes where escalation is likely, from a Latin-hypercube
sweep. The command only; the analysis is sim.analysis.discovery."""

import sys

from sim.analysis.discovery import main

if __name__ == "__main__":
    sys.exit(main())
