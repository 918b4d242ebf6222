"""``python -m sim.routes``: which door to a clash carries the risk, each closed in turn with common random
numbers, at the defaults and under the priors. The command only; the analysis is sim.analysis.routes."""

import sys

from sim.analysis.routes import main

if __name__ == "__main__":
    sys.exit(main())
