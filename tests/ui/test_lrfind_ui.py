"""The lr finder in the window: the dock, its buttons, the picture's panels, export."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdviz.core import lrfind as L
from gdviz.core.i18n import tr


def test_find_lr_runs_in_chunks_and_fills_the_model(window, session, qtbot):
    dock = window.lrfind
    assert dock.dock is None  # nothing to show yet: no dock, the window's layout as it was
    session.step(10)
    assert dock.find_lr()
    panel = dock.panel
    assert panel.job is not None and panel.job.running
    assert dock.dock.isVisible() and panel.progress.isVisible()
    assert not panel.find_button.isEnabled()
    qtbot.waitUntil(lambda: session.lrfind is not None, timeout=20000)
    res = session.lrfind
    assert res.t == 10 and session.t == 10
    # the same numbers as the core's sweep from the same state
    ref = L.session_sweep(session, res.run).run()
    np.testing.assert_array_equal(res.losses, ref.losses)
    view = panel.view
    assert view.smooth_curve.isVisible() and view.steep_line.isVisible()
    assert view.steep_line.value() == pytest.approx(math.log10(res.steep))
    assert view.min_line.value() == pytest.approx(math.log10(res.minimum))
    assert "steep" in view.steep_label.toPlainText()
    assert panel.steep_button.isEnabled() and panel.steep_button.text().endswith(
        f"{res.steep:.3g}".replace("-", "−"))
    assert not panel.progress.isVisible()


def test_apply_a_suggestion_sets_the_runs_lr(window, session, qtbot):
    panel = window.lrfind.ensure_panel()
    session.select(3)
    panel.find_lr()
    panel.wait()
    res = session.lrfind
    assert res.spec == 3
    panel.min_button.click()
    assert session.specs[3].config.lr == pytest.approx(res.minimum)


def test_tune_applies_the_best_lrs_and_shows_the_table(window, session, qtbot):
    panel = window.lrfind.ensure_panel()
    session.set_max_steps(200)
    session.step(50)
    assert window.lrfind.tune()
    panel.wait()
    res = session.tuned
    assert res is not None and res.steps == 200
    assert session.t == 0  # the race replays from the start
    for i, lr in enumerate(res.best_lr):
        assert session.specs[i].config.lr == lr
    rows = panel.table.cells
    assert len(rows) == session.n_specs
    assert rows[0][3].text() == f"{res.best_lr[0]:.3g}".replace("-", "−")
    assert window.lrfind.dock.isVisible()


def test_cancel_stops_and_keeps_the_model(window, session, qtbot):
    panel = window.lrfind.ensure_panel()
    panel.find_lr()
    panel.cancel()
    assert panel.job is None and session.lrfind is None
    assert panel.find_button.isEnabled() and not panel.cancel_button.isVisible()


def test_a_diverged_run_is_an_inline_message(window, session):
    session.update_run(0, lr=50.0)
    session.select(0)
    session.step(40)
    assert not window.lrfind.ensure_panel().find_lr()
    assert "diverged" in window.lrfind.panel.message.text()
    assert session.lrfind is None


def test_closing_the_dock_takes_the_panels_out_of_the_model(window, session):
    window.lrfind.ensure_panel().find_lr()
    window.lrfind.panel.wait()
    assert window.lrfind.dock.isVisible()
    window.lrfind.dock.close()
    assert "lrfind" not in session.panels and "tuned" not in session.panels
    window.set_panel("lrfind", True)
    assert window.lrfind.dock.isVisible()


def test_a_new_problem_clears_the_result_and_hides_the_dock(window, session):
    window.lrfind.ensure_panel().find_lr()
    window.lrfind.panel.wait()
    session.set_surface("himmelblau")
    assert session.lrfind is None and not window.lrfind.dock.isVisible()


def test_picture_panels_follow_the_model(qtbot, session):
    from gdviz.ui.picture import Picture

    p = Picture(session, ("landscape", "loss", "lrfind", "tuned"), export=True)
    qtbot.addWidget(p)
    p.resize(1280, 720)
    p.show()
    assert p.shown() == ("landscape", "loss")
    session.set_lrfind(L.session_sweep(session, 0, L.SweepSettings(num_it=30)).run())
    assert "lrfind" in p.shown() and p.lrfind_view.isVisibleTo(p)
    session.set_tuned(L.session_tune(session, n_lrs=4, steps=20))
    assert "tuned" in p.shown() and p.tuned_view.isVisibleTo(p)
    assert p.lrfind_view in p.parts() and p.tuned_view in p.parts()
    p.close()


def test_export_of_l18_draws_the_finder(qtbot, tmp_path):
    from gdviz.core.scene import apply_scene, load_preset
    from gdviz.core.session import Session
    from gdviz.ui.picture import FrameGrabber

    scene = load_preset("L18")
    s = Session()
    apply_scene(scene, s)
    s.pause()
    g = FrameGrabber(s, (1280, 720), scene.export.panels)
    try:
        assert g.picture.lrfind_view.isVisibleTo(g.picture)
        frame = g.rgb(g.frame())
        v = g.picture.lrfind_view
        pos = v.mapTo(g.picture, v.rect().center())
        k = g.scale
        y, x = int(pos.y() * k), int(pos.x() * k)
        assert frame[y - 40:y + 40, x - 80:x + 80].std() > 5  # a plot, not an empty box
    finally:
        g.close()


def test_chinese_labels(window, session):
    window.set_language("zh-Hant")
    try:
        panel = window.lrfind.ensure_panel()
        assert panel.find_button.text() == tr("lrf_find", "zh-Hant") == "尋找學習率"
        assert window.lrfind.menu.title() == "工具"
        panel.find_lr()
        panel.wait()
        assert "最陡" in panel.view.steep_label.toPlainText()
    finally:
        window.set_language("en")


def test_the_app_makes_the_panel_ahead_and_the_first_use_docks_that_one(window, session, qtbot,
                                                                        monkeypatch):
    from PySide6.QtWidgets import QApplication

    from gdviz.ui import app, gl_probe

    monkeypatch.setattr(gl_probe, "probe_in_background", lambda platform: None)
    monkeypatch.setattr(app, "PREBUILD_AFTER_MS", 0)
    state = window.saveState()
    app.after_first_paint(QApplication.instance(), window)
    qtbot.waitUntil(lambda: window.lrfind.panel is not None, timeout=5000)
    made = window.lrfind.panel
    # made, hidden, and no dock yet: the window's layout and what it saves as they were
    assert window.lrfind.dock is None and not made.isVisible()
    assert made.parent() is window and window.saveState() == state
    # a child of the window, it hears the language as the window's other widgets do
    window.set_language("zh-Hant")
    try:
        assert made.find_button.text() == tr("lrf_find", "zh-Hant")
    finally:
        window.set_language("en")
    assert made.find_button.text() == tr("lrf_find", "en")
    # the first use (L18's open, Tools ▸ Find learning rate) docks the panel made ahead
    assert window.lrfind.find_lr()
    assert window.lrfind.panel is made and made.parent() is not window
    assert window.lrfind.dock.isVisible() and made.isVisible()
    made.wait()
    assert session.lrfind is not None and made.view.smooth_curve.isVisible()


def test_a_panel_made_ahead_for_a_closed_window_is_not_made(qtbot, session, settings):
    import shiboken6

    from gdviz.ui.main_window import MainWindow

    win = MainWindow(session, settings=settings)
    dock = win.lrfind
    win.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(win), timeout=5000)
    dock.prebuild()  # (the timer fired after the window went)
    assert dock.panel is None
