"""``python -m sim.publish``: the studies' small result tables into results/tables/ (committed), from which
docs/ODD.md's sensitivity and evaluation sections are generated. The command only: sim.analysis.published."""

import sys

from sim.analysis.published import publish

if __name__ == "__main__":
    for path in publish():
        print(f"wrote {path}")
    sys.exit(0)
