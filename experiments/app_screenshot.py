"""The README's screenshot of the app (results/figures/app.png): seed_timeline at the defaults, stepped to
10 November 2021, three days after the attack on the PM. Starts `solara run sim/teaching/app.py`, drives it with
Debian's chromium (as tests/test_app_browser.py does) and stops it again.

    python experiments/app_screenshot.py [--out results/figures/app.png]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAY = 132  # 10 November 2021 in seed_timeline (day 0 is 1 July 2021)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "figures" / "app.png")
    args = ap.parse_args(argv)
    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    server = subprocess.Popen([sys.executable, "-m", "solara", "run", "sim/teaching/app.py", "--host", "127.0.0.1",
                               "--port", str(port), "--production"], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.STDOUT, env={**os.environ, "MPLBACKEND": "Agg"})  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    print("error: the app did not start", file=sys.stderr)
                    return 1
                time.sleep(0.3)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
            page = browser.new_page(viewport={"width": 1400, "height": 1050})
            page.set_default_timeout(120_000)
            page.goto(url)
            date = page.locator(".sim-date")
            expect(date).to_contain_text("before the first day", timeout=120_000)
            interval = page.get_by_role("slider", name=re.compile(r"^Render Interval"))
            step = page.get_by_role("button", name="Step")
            done = 0
            while done < DAY + 1:  # day d is shown after d + 1 steps
                n = min(100, DAY + 1 - done)
                interval.press("Home")
                for _ in range(200):  # a key press may move the slider by more than one: read it back
                    now = int(interval.get_attribute("aria-valuenow"))
                    if now == n:
                        break
                    interval.press("ArrowRight" if now < n else "ArrowLeft")
                expect(interval).to_have_attribute("aria-valuenow", str(n))
                step.click()
                done += n
                expect(date).to_contain_text(f"(day {done - 1} of ", timeout=120_000)
            interval.press("Home")  # back to one day a step, as a class starts
            expect(date).to_contain_text("10 November 2021")
            time.sleep(2)  # let the last images decode
            page.screenshot(path=str(args.out))
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
