"""The classroom app without a browser: its controls are the parameter declaration, its model runs,
its figures are labelled, and the page steps and resets when its buttons are pressed."""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

from sim.engines.mesa_model import MilitiaModel
from sim.model import rules
from sim.model.params import PARAMS
from sim.model.scenario import list_scenarios

pytest.importorskip("solara", reason='the app needs the app extra: pip install -e ".[app]"')
app = pytest.importorskip("sim.teaching.app")


def defaults(controls: dict) -> dict:
    return {k: v["value"] if isinstance(v, dict) else v for k, v in controls.items()}


def test_controls_are_the_declaration():
    """Every declared parameter has a control with its range and default, and nothing else does."""
    controls = app.model_params_from_declaration()
    assert set(controls) == {p.name for p in PARAMS} | {"scenario", "replicate", "seed"}
    assert controls["scenario"]["type"] == "Select" and controls["scenario"]["values"] == list_scenarios()
    assert controls["seed"] == 20211107  # fixed, the main job's default seed
    for p in PARAMS:
        c = controls[p.name]
        assert c["value"] == p.default and p.name in c["label"], p.name
        if p.kind is bool:
            assert c["type"] == "Checkbox", p.name
            continue
        assert c["type"] == ("SliderInt" if p.kind is int else "SliderFloat"), p.name
        assert (c["min"], c["max"]) == (p.low, p.high) and p.unit in c["label"], p.name
        assert c["step"] == 1 if p.kind is int else 0 < c["step"] <= (p.high - p.low) / 10, p.name
        ticks = (p.default - p.low) / c["step"]
        assert math.isclose(ticks, round(ticks), abs_tol=1e-6), f"{p.name}: default is not on the slider's grid"


def test_teaching_groups_select_whole_groups():
    groups = {p.group for p in PARAMS}
    assert set(app.TEACHING_GROUPS) <= groups
    shown = app.model_params_from_declaration(app.TEACHING_GROUPS)
    assert {p.name for p in PARAMS if p.group in app.TEACHING_GROUPS} == set(shown) - {"scenario", "replicate", "seed"}


def test_mesa_accepts_the_controls():
    """SolaraViz checks the controls against the model's signature (MilitiaModel takes **kwargs for it)."""
    from mesa.visualization.solara_viz import _check_model_params

    _check_model_params(MilitiaModel.__init__, app.model_params_from_declaration())


def test_model_from_default_controls_runs_and_draws():
    model = MilitiaModel(**defaults(app.model_params_from_declaration()))
    start = model.date
    for _ in range(5):
        model.step()
    assert model.day == 5 and model.date != start
    assert len(app.history(model)) == 5 and app.history(model).index[0].date() == model.scenario.start
    g = app.actor_graph(model)
    assert g.number_of_edges() == 12
    for ld in model.leaders:
        lam = rules.leverage(True, model.p.patron_influence, ld.spec.loyalty, ld.independence)
        assert np.isclose(g.edges["patron", ld.key]["weight"], lam)
        assert g.edges[ld.key, "sadr"]["weight"] == model.rivalry
    for name, make in {**app.FIGURES, "actors": app.actors_figure}.items():
        fig = make(model)
        for ax in fig.axes:
            if name != "actors":
                assert ax.get_ylabel(), name
        assert fig.axes[-1].get_xlabel() or name == "actors", name


def test_live_plots_draw_the_record_and_redraw_only_when_the_model_moves():
    """The page's kept figures hold the model's record after each step; a render without a step reuses the
    images; after the last day nothing changes."""
    import io

    import PIL.Image

    model = MilitiaModel(scenario="stand_down_orders", seed=1, cells_per_militia=4)
    plots = app.LivePlots(model)
    first = plots.images(model)
    assert set(first) == {"actors", *app.FIGURES}
    for _ in range(10):
        model.step()
    images = plots.images(model)
    assert plots.images(model) is images  # the model has not moved: no redraw
    for name, png in images.items():
        assert png != first[name], name
        fig = plots.plots[name].fig
        assert PIL.Image.open(io.BytesIO(png)).size == tuple(round(x) for x in fig.bbox.size), name
    df = app.history(model)
    lines = {line.get_label(): line for line in plots.plots["grievance"].fig.axes[0].get_lines()}
    for j, name in enumerate(app.NAMES):
        np.testing.assert_array_equal(lines[name].get_ydata(), df[f"grievance_{j}"])
    while model.running:
        model.step()
    end = plots.images(model)
    model.step()
    assert plots.images(model) is end and model.day == model.scenario.days
    # a new model of the same scenario and thresholds keeps the figures; the images follow the new model
    again = MilitiaModel(scenario="stand_down_orders", seed=1, cells_per_militia=4)
    assert app.LivePlots.key(again) == app.LivePlots.key(model)
    assert plots.images(again) == first


def test_page_steps_and_resets_with_a_changed_control():
    """The page, rendered in-process: Step moves the date, Reset rebuilds the model from the controls."""
    import ipyvuetify as v
    import solara

    _, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)

    def date():
        return rc.find(v.Html, class_="sim-date").widget.children[0]

    assert date().startswith("Thursday 01 July 2021")
    step = rc.find(v.Btn, children=["Step"])
    for _ in range(3):
        step.widget.click()
    assert date() == "Saturday 03 July 2021 (day 2 of 214)"
    rc.find(v.Slider, label="patron_influence (index 0-1)").widget.v_model = 0.9
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert date().startswith("Thursday 01 July 2021")
    texts = [w.children[0] for w in rc.find(v.Html, tag="span").widgets if w.children]
    assert any("patron_influence = 0.9" in t for t in texts)
    rc.close()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


def test_stopping_the_app_stops_its_server(tmp_path):
    """`kill -TERM` on `python -m sim.app` stops the server: the port stops answering and the process ends."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    log = tmp_path / "app.log"
    with open(log, "w") as out:
        # its own session, so that the finally clause can end whatever it started, even a stray server
        proc = subprocess.Popen([sys.executable, "-m", "sim.app", "--port", str(port), "--production"], stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 180  # generous: the first start imports solara and Mesa on a loaded machine
        while not _answers(url):
            assert proc.poll() is None and time.monotonic() < deadline, f"the app did not start:\n{log.read_text()}"
            time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 60
        while _answers(url) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _answers(url), "the server still answers after SIGTERM to python -m sim.app"
        assert proc.wait(timeout=60) is not None
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
