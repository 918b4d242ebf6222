"""``python -m sim.export <folder> --to csv|xlsx``: a run's, sweep's or study's tables as CSV files or one Excel
workbook with a row of units. The command only; the work is sim.run.export."""

import sys

from sim.run.export import main

if __name__ == "__main__":
    sys.exit(main())
