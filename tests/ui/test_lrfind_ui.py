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


def _tuned_l18(tmp_path, steps: int = 300, at_step: int = 0):
    """L18 with a tuning of ``steps`` steps (a saved scene can ask for 10⁶: seconds of work)
    and its sweep from step ``at_step``, in a file; (path, the scene)."""
    import dataclasses

    from gdviz.core.scene import load_preset, save_scene

    scene = load_preset("L18")
    scene = dataclasses.replace(scene, lrfind=dataclasses.replace(
        scene.lrfind, tune=True, tune_steps=steps, tune_lrs=6, at_step=at_step))
    path = tmp_path / "tuned.toml"
    save_scene(scene, path)
    return path, scene


def test_a_scenes_long_lr_finder_work_runs_in_the_panel_not_in_the_open(
        window, session, qtbot, tmp_path, monkeypatch):
    """A saved scene's [lrfind] tuning (and sweep) ran inside its open: a tuning of 10⁵
    steps froze the window for 0.4 s, of 10⁶ for seconds. What the open has no time for
    runs in the lr finder's panel, in chunks with its progress; the results are the ones
    the open would have put into the model, and the demo still counts as the scene opened
    (nothing unsaved)."""
    from gdviz.core.scene import apply_scene
    from gdviz.core.session import Session
    from gdviz.ui import main_window

    monkeypatch.setattr(main_window, "SCENE_JOBS_AT_ONCE_S", 0.0)
    path, scene = _tuned_l18(tmp_path, steps=2000, at_step=40)
    assert window.open_scene(path, aside=False)
    panel = window.lrfind.panel
    assert session.lrfind is None and session.tuned is None  # not in the open's turn
    assert panel.job is not None and panel.job.running
    assert window.lrfind.dock.isVisible() and panel.progress.isVisible()
    assert panel.cancel_button.isVisible()
    assert not window.has_unsaved_changes()
    assert panel.message.text() == tr("lrf_running")  # (the re-play, then the sweep)
    job = panel.job
    job.timer.stop()  # (its turns by hand: what the panel shows after each)
    seen = []
    while session.tuned is None:
        job._turn()
        seen.append((panel.message.text(), session.lrfind is not None))
    # then it tunes, and says so, with the sweep's plot in already
    assert (tr("tune_running"), True) in seen
    assert seen.index((tr("tune_running"), True)) > 0 and seen[0] == (tr("lrf_running"), False)
    assert not panel.progress.isVisible() and panel.job is None
    ref = Session()
    apply_scene(scene, ref)  # (the core's: all of it at once)
    np.testing.assert_array_equal(session.lrfind.losses, ref.lrfind.losses)
    assert session.lrfind.t == ref.lrfind.t == 40
    np.testing.assert_array_equal(session.tuned.scores, ref.tuned.scores)
    assert [sp.config.lr for sp in session.specs] == [sp.config.lr for sp in ref.specs]
    assert not window.has_unsaved_changes()  # (the scene's own results)
    assert window._comparable() == window._saved


def test_opening_another_scene_drops_the_last_ones_lr_finder_work(
        window, session, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QApplication

    from gdviz.core.scene import preset_path
    from gdviz.ui import main_window

    monkeypatch.setattr(main_window, "SCENE_JOBS_AT_ONCE_S", 0.0)
    path, _ = _tuned_l18(tmp_path)
    assert window.open_scene(path, aside=False)
    panel = window.lrfind.panel
    assert panel.job is not None
    assert window.open_scene(preset_path("L01"), aside=False)
    assert panel.job is None
    for _ in range(20):
        QApplication.processEvents()
    assert session.lrfind is None and session.tuned is None


def test_the_open_does_the_lr_finder_work_it_has_time_for(window, session, monkeypatch):
    """L18's 100-step sweep within the open (the kernels compiled: ~3 ms): the results in
    the model as the open returns, no job left. (A clock that stands still: all of it fits.)"""
    from gdviz.core.scene import preset_path
    from gdviz.ui.views import refresh

    monkeypatch.setattr(refresh, "now", lambda: 0.0)
    assert window.open_scene(preset_path("L18"), aside=False)
    assert session.lrfind is not None and session.lrfind.n > 0
    panel = window.lrfind.panel
    assert panel is None or panel.job is None


def test_a_chunked_job_starts_each_phase_with_one_step(qtbot):
    """A scene's job re-plays, sweeps, then tunes; a tuning step (L21: 16 networks x 25
    lrs) costs ~100 sweep steps, and the first tuning chunk, of the sweep's size, took
    102 ms. Each phase starts again from one step."""
    from gdviz.ui.panels.lrfind_panel import Chunked

    class Job:
        phase, done, fraction = "sweep", False, 0.0

        def __init__(self):
            self.ks = []

        def advance(self, k):
            self.ks.append((self.phase, k))

    job = Job()
    chunked = Chunked(job, lambda f: None, lambda j, e: None, None)
    chunked.timer.stop()
    for _ in range(5):
        chunked._turn()
    assert job.ks[-1][1] > 1  # (quick steps: the chunk grew)
    job.phase = "tune"
    chunked._turn()
    assert job.ks[-1] == ("tune", 1)


def test_find_lr_at_a_step_scrubbed_back_to_replays_in_its_chunks(window, session, qtbot):
    """Find lr at a step behind the race's front re-played the race to it in the press
    (L21 with 16 networks, 800 steps back: 0.2 s; a 10⁶-step race: seconds). The re-play
    is the job's first part, in chunks with its progress; the sweep is the same."""
    session.step(700)
    session.scrub(600)
    assert window.lrfind.find_lr()
    panel = window.lrfind.panel
    assert panel.job.job.phase == "replay" and panel.progress.isVisible()
    # (the empty plot says what runs, not "No sweep yet: Tools ▸ Find learning rate")
    assert panel.view.empty_label.toPlainText() == tr("lrf_running")
    qtbot.waitUntil(lambda: session.lrfind is not None, timeout=20000)
    assert not panel.view.empty_label.isVisible()
    panel.find_lr()
    panel.cancel()  # (cancelled: the plot keeps the last sweep)
    assert not panel.view.empty_label.isVisible() and panel.view.smooth_curve.isVisible()
    res = session.lrfind
    assert res.t == 600 and session.t == 600 and session.runset.t == 700
    np.testing.assert_array_equal(res.losses, L.session_sweep(session, res.run).run().losses)
