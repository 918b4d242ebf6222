"""``python -m sim.counterfactuals``: the counterfactual outputs (no patron, Soleimani, independence, the visit's
calming, the mediators' shares, ...) with Monte Carlo intervals. The command only: see
sim.analysis.counterfactual_outputs."""

import sys

from sim.analysis.counterfactual_outputs import main

if __name__ == "__main__":
    sys.exit(main())
