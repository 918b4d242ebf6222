"""``python -m sim.calibrate [--method rejection|smc] [...]``: a posterior over the parameters from the record.
The entry point; sim.commands.calibrate holds both methods' command lines and picks the method."""

from __future__ import annotations

if __name__ == "__main__":  # first: from here on Ctrl-C and SIGTERM end it with one line, imports included
    from sim.run import signals

    signals.start()
    from sim.commands.calibrate import main  # the command lines only: the methods load once they are parsed

    signals.run_command(main)  # Ctrl-C / SIGTERM: one line, status 130 / 143
