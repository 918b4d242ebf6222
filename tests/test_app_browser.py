"""The classroom app in a real browser: start `solara run sim/teaching/app.py`, drive it with Playwright and
Debian's chromium, change a control, step the model and check that the date and a plot change, then run to
the scenario's end. Every wait is for a condition, with a generous limit: CI machines may be loaded."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sim.model.params import PARAM_BY_NAME
from sim.model.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "results" / "test-artifacts"  # git-ignored
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
# How long to wait for a condition: far above a Step's or a Reset's time on a loaded 2-core machine (seconds
# there), and only reached when something is broken. Playwright's `expect` has its own 5 s default otherwise.
WAIT_MS = 90_000

sync_api = pytest.importorskip("playwright.sync_api", reason='playwright is not installed: pip install -e ".[browser]"')
pytest.importorskip("solara", reason='the app needs the app extra: pip install -e ".[app]"')
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium", allow_module_level=True)
sync_api.expect.set_options(timeout=WAIT_MS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """`solara run sim/teaching/app.py` on a free port; stopped (by its own process id) after the tests."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("app") / "server.log"
    log = open(log_path, "w")
    command = ["solara", "run", "sim/teaching/app.py", "--host", "127.0.0.1", "--port", str(port), "--production"]
    proc = subprocess.Popen([sys.executable, "-m", *command], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "MPLBACKEND": "Agg"})  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 180  # imports solara and Mesa, then renders the page once
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the app did not start (exit status {proc.poll()}):\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def watch_requests(page, url: str) -> list[str]:
    """The addresses the page asks for beyond the app's own server (a CDN, say): filled as the page loads."""
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith((url, "data:", "blob:")) else outside.append(r.url))
    return outside


def test_change_control_step_and_see_date_and_plot_change(app_url, tmp_path):
    url, log_path = app_url
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(WAIT_MS)
        outside = watch_requests(page, url)
        page.goto(url)
        date = page.locator(".sim-date")
        try:
            date.wait_for()
        except sync_api.TimeoutError:
            log = log_path.read_text()
            hint = ""
            if "Could not load URL" in log:  # solara fetches its front end from a CDN unless solara-assets has it
                hint = ("solara could not fetch its front-end assets; offline, the app needs ipyvuetify<3 and "
                        "solara-assets (the app extra in pyproject.toml)\n")  # fmt: skip
            pytest.fail(f"the page did not show the app's date\n{hint}{log[-2000:]}")
        sync_api.expect(date).to_contain_text("Thursday 01 July 2021")  # seed_timeline's first day
        # Solara's banner ("This website runs on Solara") would sit over the page's bottom right: it is off
        sync_api.expect(page.get_by_text("runs on Solara")).to_have_count(0)

        # change two controls: the scenario (a Select) and patron_influence (a slider, by keyboard), then Reset
        page.locator(".v-select").filter(has_text="seed_timeline").click()
        page.get_by_role("option", name="attack_and_intervention").click()
        page.get_by_role("slider", name=re.compile(r"^patron_influence")).press("ArrowRight")
        page.get_by_role("button", name="Reset").click()
        sync_api.expect(date).to_contain_text("Friday 01 October 2021")  # attack_and_intervention starts here
        nudged = PARAM_BY_NAME["patron_influence"].default + 0.01  # one slider step up from the default
        sync_api.expect(page.get_by_text(f"patron_influence = {nudged:g}")).to_be_visible()

        plot = page.locator(".sim-plot-grievance img")
        before, source = plot.screenshot(), plot.get_attribute("src")
        step = page.get_by_role("button", name="Step")
        for day in range(5):
            step.click()
            sync_api.expect(date).to_contain_text(f"(day {day} of ")
        sync_api.expect(date).to_contain_text("Tuesday 05 October 2021")
        sync_api.expect(plot).not_to_have_attribute("src", source)  # a new image arrived
        assert changes(plot, before), "the grievance plot did not change after five steps"
        thumb = page.locator(".v-slider__thumb-label").filter(has_text=re.compile(rf"^{re.escape(f'{nudged:g}')}$"))
        sync_api.expect(thumb).to_be_visible()  # sliders show their values

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for folder in (tmp_path, ARTIFACTS):
            page.screenshot(path=str(folder / "app_after_5_steps.png"))

        # to the end: Step with the render interval at its maximum asks for more days than are left, and so
        # does play; both stop on the scenario's last day, with Step and play disabled
        sc = load_scenario("attack_and_intervention")
        last = f"{sc.end:%A %d %B %Y} (day {sc.days - 1} of {sc.days - 1})"
        interval = page.get_by_role("slider", name=re.compile(r"^Render Interval"))
        interval.press("End")
        sync_api.expect(interval).to_have_attribute("aria-valuenow", "100")  # more than the 71 days left
        step.click()
        sync_api.expect(date).to_have_text(last)
        sync_api.expect(step).to_be_disabled()
        page.get_by_role("button", name="Reset").click()
        sync_api.expect(date).to_contain_text("before the first day")
        page.get_by_role("button", name="▶").click()
        play = page.get_by_role("button", name=re.compile("^(▶|❚❚)$"))  # Mesa's play button shows the pause sign
        sync_api.expect(date).to_have_text(last)
        sync_api.expect(play).to_be_disabled()
        sync_api.expect(step).to_be_disabled()
        browser.close()
    assert not outside, f"the page fetched from outside its server (fails offline): {outside[:5]}"


def changes(locator, before: bytes) -> bool:
    """Whether the element's pixels differ from ``before`` within WAIT_MS (a new image may still be decoding)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        if locator.screenshot() != before:
            return True
        time.sleep(0.5)
    return False


def test_ensemble_view_runs_compares_and_cancels(app_url, tmp_path):
    """The ensemble view: 1000 replicates of the defaults beside no patron show the probabilities that
    simulate() gives for the same seed and settings (the command line's numbers), with a figure; a run of
    10,000 replicates shows its progress and stops on Cancel."""
    from sim.analysis.stats import escalation_probability
    from sim.model.params import MILITIAS, make_params
    from sim.run.simulate import simulate

    url, _ = app_url
    sc = load_scenario("seed_timeline")
    expected = []
    for params in (make_params(), make_params(patron_present=False)):
        runs, _ = simulate(sc, params, MILITIAS, seed=20211107, replicates=1000, daily_replicates=0, progress=False)
        p, lo, hi, _ = escalation_probability(runs)
        expected.append(f"P(escalation by {sc.end:%d %b %Y}) {p:.3f} [{lo:.3f}, {hi:.3f}]")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(WAIT_MS)
        outside = watch_requests(page, url)
        page.goto(url)
        panel = page.locator(".sim-ensemble")
        panel.scroll_into_view_if_needed()
        sync_api.expect(panel.locator(".v-select").filter(has_text="counterfactual: no_patron")).to_be_visible()
        run = panel.get_by_role("button", name="Run ensemble")
        run.click()
        status = panel.locator(".sim-ensemble-status")
        sync_api.expect(status).to_contain_text("done: 1,000 histories per setting, 2 settings")  # not "2,000"
        sync_api.expect(panel.get_by_text("runs on Solara")).to_have_count(0)
        box = panel.bounding_box()  # nothing fixed over the panel's bottom right (where the banner was)
        probe = "([x, y]) => document.elementFromPoint(x, y)?.closest('.sim-ensemble') !== null"
        corner = page.evaluate(probe, [box["x"] + box["width"] - 20, box["y"] + box["height"] - 20]) if box else None
        assert corner in (True, None), "something covers the ensemble panel's bottom right corner"
        result = panel.locator(".sim-ensemble-result")
        sync_api.expect(result).to_contain_text(f"sidebar: {expected[0]}")
        sync_api.expect(result).to_contain_text(f"sidebar + no_patron: {expected[1]}")
        sync_api.expect(result).to_contain_text("Paired")
        sync_api.expect(panel.locator(".sim-plot-ensemble img")).to_be_visible()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for folder in (tmp_path, ARTIFACTS):
            panel.screenshot(path=str(folder / "app_ensemble.png"))

        # 10,000 replicates with no comparison: progress shows, Cancel stops it with no result
        panel.locator(".v-select").filter(has_text="1000").click()
        page.get_by_role("option", name="10000", exact=True).click()
        panel.locator(".v-select").filter(has_text="counterfactual: no_patron").click()
        page.get_by_role("option", name="nothing", exact=True).click()
        run.click()
        sync_api.expect(status).to_contain_text("running: ")
        sync_api.expect(status).to_contain_text(" of 10,000 histories")
        panel.get_by_role("button", name="Cancel").click()
        sync_api.expect(status).to_contain_text("cancelled after ")
        sync_api.expect(result).to_have_count(0)
        sync_api.expect(run).to_be_enabled()
        browser.close()
    assert not outside, f"the page fetched from outside its server (fails offline): {outside[:5]}"
