"""``python -m sim [overrides]``: check the whole input (sim.run.validate), then run the Hydra main job.
Bad input stops here, before Hydra makes a folder or a log, with one line and exit status 2."""

from __future__ import annotations

if __name__ == "__main__":  # first: from here on Ctrl-C and SIGTERM end it with one line, imports included
    from sim.run import signals

    signals.start()

import sys

from sim.model.params import ParameterError


def _fail(exc: BaseException) -> None:
    text = " ".join(str(exc).split())  # one line, whatever the message held
    print(f"error: {text}", file=sys.stderr)
    raise SystemExit(2) from None


def entry() -> None:
    from sim.run import signals

    signals.run_command(_run)


def _run() -> None:
    if {"--help", "-h"} & set(sys.argv[1:]):  # ours, generated from configs/ (Hydra's: --hydra-help)
        from sim.run.help import text

        print(text())
        return
    from sim.run.validate import check_command_line

    try:
        check_command_line(sys.argv[1:])
    except ParameterError as exc:
        _fail(exc)
    from sim.commands.main_job import main

    try:
        main()
    except ParameterError as exc:  # found only by the job (e.g. a file changed since the check)
        _fail(exc)


if __name__ == "__main__":
    entry()
