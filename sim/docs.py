"""``python -m sim.docs [--check]``: regenerate (or check) docs/ODD.md's generated tables.
The command only; the tables are made by sim.analysis.odd_tables."""

import sys

from sim.analysis.odd_tables import main

if __name__ == "__main__":
    sys.exit(main())
