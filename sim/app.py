"""``python -m sim.app``: start the classroom app (the page is sim/teaching/app.py) with ``solara run``.
Kept apart from the page so that starting it needs neither solara nor Mesa's viz to import here."""

from __future__ import annotations

if __name__ == "__main__":  # first: from here on Ctrl-C and SIGTERM end it with one line (solara then takes over)
    from sim.run import signals

    signals.start()

import argparse
import os
import subprocess
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parent / "teaching" / "app.py"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.app", description="Start the classroom app (solara run).")
    ap.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    ap.add_argument("--all-params", action="store_true", help="show every parameter, not only the teaching groups")
    ap.add_argument("--production", action="store_true", help="no auto-reload (for a shared classroom server)")
    args = ap.parse_args(argv)
    env = os.environ | {"SOLARA_THEME_SHOW_BANNER": "false"} | ({"SIM_APP_PARAMS": "all"} if args.all_params else {})
    cmd = [sys.executable, "-m", "solara", "run", str(PAGE), "--host", "127.0.0.1",
           "--port", str(args.port), *(["--production"] if args.production else [])]  # fmt: skip
    print(f"starting the app on http://127.0.0.1:{args.port} (Ctrl-C stops it)", flush=True)
    if os.name == "posix":
        # Become the server (same process id): a kill of this process, or Ctrl-C, then stops the server
        # itself; as a child it outlived a `kill -TERM` of its parent and kept answering on the port.
        os.execve(sys.executable, cmd, env)
    return subprocess.call(cmd, env=env)  # Windows: no exec; Ctrl-C reaches the whole console group


if __name__ == "__main__":
    sys.exit(main())
