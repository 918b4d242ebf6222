"""``python -m sim.exercises [--write | read ...]``: check, refresh or read the exercises' keys.
The command only; the keys are computed by sim.teaching.exercises."""

import sys

from sim.teaching.exercises import main

if __name__ == "__main__":
    sys.exit(main())
