"""``python -m sim [overrides]``: check the overrides (one-line errors), then run the Hydra main job.
Bad input stops here, before any work, with exit status 2."""

from __future__ import annotations

import sys

from sim.model.params import ParameterError


def entry() -> None:
    from sim.run.config_schema import check_overrides

    try:
        check_overrides(sys.argv[1:])
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    from sim.run.main_job import main

    try:
        main()
    except ParameterError as exc:  # from config files (e.g. an experiment) rather than the command line
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    entry()
