"""The classroom app's time per Step, server side: the page rendered in-process (as tests/test_app.py does),
its Step button clicked over a whole scenario; prints the median and spread of a click's wall time.

    python experiments/bench/app_step.py [--scenario seed_timeline] [--clicks 60]
    python experiments/bench/app_step.py --page old_app.py     # another version of the page, to compare

A script, not a test: speed is measured here and reported, never asserted (shared machines are noisy).
It measures Python's share of a click (model step, figures, PNG encoding, widget updates), not the
browser's download and paint of the images."""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("MPLBACKEND", "Agg")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="seed_timeline")
    ap.add_argument("--clicks", type=int, default=60, help="Step clicks to time (spread over the scenario)")
    ap.add_argument("--page", help="a page file to time instead of sim/teaching/app.py (e.g. an older version)")
    args = ap.parse_args()

    import importlib.util

    import ipyvuetify as v
    import solara

    if args.page:
        spec = importlib.util.spec_from_file_location("page_under_test", args.page)
        app = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(app)
    else:
        from sim.teaching import app

    _, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    if args.scenario != "seed_timeline":
        rc.find(v.Select, label="scenario").widget.v_model = args.scenario
        rc.find(v.Btn, children=["Reset"]).widget.click()
    step = rc.find(v.Btn, children=["Step"]).widget
    times = []
    for _ in range(args.clicks):
        t = time.perf_counter()
        step.click()
        times.append(time.perf_counter() - t)
    date = rc.find(v.Html, class_="sim-date").widget.children[0]
    rc.close()
    q = statistics.quantiles(times, n=10)
    print(f"{args.scenario}: {len(times)} Step clicks, median {statistics.median(times) * 1000:.0f} ms, "
          f"10-90% {q[0] * 1000:.0f}-{q[-1] * 1000:.0f} ms, max {max(times) * 1000:.0f} ms; now at {date}")


if __name__ == "__main__":
    main()
