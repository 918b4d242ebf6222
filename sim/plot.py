"""``python -m sim.plot <aggregate dir>``: figures of an aggregated sweep (PNG and PDF).
The command only; the figures are drawn by sim.analysis.sweep_figures."""

import sys

from sim.analysis.sweep_figures import main

if __name__ == "__main__":
    sys.exit(main())
