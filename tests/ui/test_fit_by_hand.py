"""Fit by hand (L1, issue 9): sliders whose range and steps fit the lesson, above the fold
of the controls, and a map marker that stays in sight when the value leaves the map."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from gdviz.core.scene import preset_paths

L01 = next(p for p in preset_paths() if p.stem.startswith("L01_"))


@pytest.fixture
def l01(window):
    assert window.open_scene(L01)
    return window


def _is_nice(step: float) -> bool:
    m = step / 10.0 ** math.floor(math.log10(step))
    return any(abs(m - n) < 1e-9 for n in (1.0, 2.0, 5.0))


def test_each_slider_range_fits_the_lesson_and_a_pixel_is_a_small_round_step(l01, qtbot):
    s = l01.session
    sliders = l01.controls.data.param_sliders
    assert [hs.label.text() for hs in sliders] == ["a", "b", "c"]
    a, b, _ = sliders
    # a holds the start (1.1), the true 3 with room past it, and the map's a-range
    assert a.lo <= -1.0 and 5.0 <= a.hi and a.hi - a.lo <= 8.0
    box = s.view
    for hs, axis in zip((a, b), (0, 1), strict=True):
        assert hs.lo <= box[2 * axis] and box[2 * axis + 1] <= hs.hi  # slider and map agree
    for hs in sliders:
        assert _is_nice(hs.step) and hs.step <= 0.05
        per_px = (hs.hi - hs.lo) / hs.slider.width()
        assert per_px <= 0.05, (hs.label.text(), per_px)  # 50 px is at most 2.5, not 6
    # dragged (the slider moves to an arbitrary spot): a whole number of steps reaches the model
    a.slider.setValue(2.9387)
    assert s.params_now()[0] == pytest.approx(2.94)
    assert a.entry.text() == "2.94"


@pytest.mark.parametrize("size", [(1280, 720), (1600, 900)])
def test_sliders_are_above_the_fold(window, qtbot, size):
    window.resize(*size)
    qtbot.waitUntil(lambda: window.size().width() == size[0])
    scroll = window.controls
    scroll.verticalScrollBar().setValue(scroll.verticalScrollBar().maximum())  # a last lesson's
    assert window.open_scene(L01)
    l01 = window
    view = scroll.viewport()
    for hs in l01.controls.data.param_sliders:
        top = hs.mapTo(view, QPoint(0, 0)).y()
        assert 0 <= top and top + hs.height() <= view.height(), hs.label.text()


def test_off_map_marker_is_pinned_to_the_edge_with_an_arrow(l01, qtbot):
    s = l01.session
    view = l01.landscape_view
    a = l01.controls.data.param_sliders[0]
    qtbot.mouseClick(a.entry, Qt.MouseButton.LeftButton)
    a.entry.selectAll()
    qtbot.keyClicks(a.entry, "9.3")
    qtbot.keyClick(a.entry, Qt.Key.Key_Return)
    assert s.params_now()[0] == pytest.approx(9.3)
    QApplication.processEvents()  # (the views refresh in the window's settle, the next event)
    (x0, x1), (y0, y1) = view.vb.viewRange()
    assert x1 < 9.3  # the true a is off the map
    head = np.array([view.heads.data["x"][0], view.heads.data["y"][0]])
    assert x0 < head[0] < x1 and y0 < head[1] < y1  # the marker stays on the map …
    assert head[0] > x0 + 0.75 * (x1 - x0)  # … at its right edge
    assert head[1] == pytest.approx(s.params_now()[1])  # b, on the map, is exact
    arrows = [ar for ar in view.off_map_arrows if ar.isVisible()]
    assert len(arrows) == 1
    assert arrows[0].opts["angle"] % 360 == pytest.approx(180, abs=1)  # points right, to a
    assert x0 < arrows[0].pos().x() < x1
    # back on the map: the marker is where the value is, and the arrow goes
    a.entry.setFocus()
    a.entry.selectAll()
    qtbot.keyClicks(a.entry, "2")
    qtbot.keyClick(a.entry, Qt.Key.Key_Return)
    QApplication.processEvents()
    assert view.heads.data["x"][0] == pytest.approx(2.0)
    assert not any(ar.isVisible() for ar in view.off_map_arrows)
    # a zoom that leaves the point out pins it again, without a step
    view.vb.setRange(xRange=(-1.0, 1.0), yRange=(-2.0, 5.0), padding=0)
    qtbot.waitUntil(lambda: any(ar.isVisible() for ar in view.off_map_arrows))


def test_unit_models_keep_k_above_the_loss_group(window):
    """On L8 the lesson's knob is K: the fit-by-hand group (no sliders: 10 parameters)
    goes below the model's controls; back on L1 it comes first again."""
    panel = window.controls.data
    assert window.open_scene(next(p for p in preset_paths() if p.stem.startswith("L08_")))
    group, k = panel.controls["hand_group"], panel.controls["units"]
    assert group.y() > k.y()
    assert window.open_scene(L01)
    group = panel.controls["hand_group"]
    assert group.isVisible() and panel._page.layout().indexOf(group) == 0


def test_the_best_fit_is_least_squares_when_linear_and_asked_cheaply_when_not():
    """The fit-by-hand ranges hold the least-squares fit of a model linear in its
    parameters; a sum of units is found not linear from three predictions, before the
    design matrix's 3K+1 columns are built (50 units on 2,000 points: ~80 ms on the twins)."""
    from gdviz.core.problems import FitData
    from gdviz.core.session import Session
    from gdviz.ui.panels.data_panel import _least_squares

    s = Session()
    assert s.set_fit(FitData(target="quadratic", model="quadratic", points=200, noise=0.1))
    prob = s.problem
    best = _least_squares(s)
    x, y = np.asarray(prob.x), np.asarray(prob.y)
    design = np.stack([prob.model.predict(np.eye(3)[k], x) - prob.model.predict(np.zeros(3), x)
                       for k in range(3)], axis=1)
    want, *_ = np.linalg.lstsq(design, y - prob.model.predict(np.zeros(3), x), rcond=None)
    np.testing.assert_allclose(best, want, rtol=1e-9, atol=1e-12)

    assert s.set_fit(FitData(target="sine", model="sigmoid", units=50, points=2000))
    model = s.problem.model
    calls = []
    real = type(model).predict

    def counted(self, params, x, fast=None):
        calls.append(1)
        return real(self, params, x, fast)

    type(model).predict = counted
    try:
        assert _least_squares(s) is None
    finally:
        type(model).predict = real
    assert len(calls) <= 4, len(calls)
