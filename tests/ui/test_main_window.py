"""The main window: shortcuts, frame clock, divergence, rendering, settings, warmup."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from gdviz.core.optimizers import make_optimizer
from gdviz.core.session import RunSpec, Session
from gdviz.ui.main_window import MainWindow


def key(qtbot, win, k, mod=Qt.KeyboardModifier.NoModifier):
    """Press ``k`` as the user would: to whatever widget has the focus."""
    target = QApplication.focusWidget() or win
    qtbot.keyClick(target, k, mod)


# ------------------------------------------------------------------------- layout
def test_window_has_the_views_docks_and_menus(window):
    from gdviz.ui.views.landscape_view import LandscapeView
    from gdviz.ui.views.loss_view import LossView

    assert isinstance(window.landscape_view, LandscapeView)
    assert isinstance(window.loss_view, LossView)
    assert window.controls_dock.isVisible() and window.loss_dock.isVisible()
    assert not window.step_dock.isVisible()  # step-by-step mode is off
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles == ["File", "View", "Lessons", "Tools", "Help"]
    assert QApplication.font().pointSizeF() >= 14


def test_step_view_shows_in_step_by_step_mode(window, session):
    session.select(1)
    assert window.step_dock.isVisible()
    session.select(-1)
    assert not window.step_dock.isVisible()


def test_caption_strip(window):
    assert not window.caption.isVisible()
    window.set_caption("L4 · Learning rate", "Too small crawls, too large diverges.")
    assert window.caption.isVisible()
    assert "L4 · Learning rate" in window.caption.text()
    assert window.caption.font().pointSizeF() > QApplication.font().pointSizeF()
    window.set_caption("", "")
    assert not window.caption.isVisible()


# ------------------------------------------------------------------------- shortcuts
def test_keyboard_shortcuts(window, session, qtbot):
    window.activateWindow()
    key(qtbot, window, Qt.Key.Key_Space)
    assert session.playing
    key(qtbot, window, Qt.Key.Key_Space)
    assert not session.playing
    key(qtbot, window, Qt.Key.Key_Right)
    key(qtbot, window, Qt.Key.Key_Right)
    assert session.t == 2
    key(qtbot, window, Qt.Key.Key_Left)
    assert session.t == 1
    session.step(5)
    key(qtbot, window, Qt.Key.Key_R)
    assert session.t == 0


def test_zoom_shortcuts_scale_the_whole_ui(window, qtbot):
    before = QApplication.font().pointSizeF()
    axis = window.landscape_view.getPlotItem().getAxis("bottom")
    tick_before = axis.style["tickFont"].pointSizeF()
    key(qtbot, window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    bigger = QApplication.font().pointSizeF()
    assert bigger > before
    assert window.font_scale > 1.0
    # the pyqtgraph axes grow with the app font
    assert axis.style["tickFont"].pointSizeF() > tick_before
    key(qtbot, window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    key(qtbot, window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.font().pointSizeF() < bigger
    assert window.font_scale < 1.0


def test_space_in_a_text_box_types_a_space(window, session, qtbot):
    expr = window.controls.problem.expr
    expr.setFocus()
    qtbot.waitUntil(expr.hasFocus)
    qtbot.keyClicks(expr, "x")
    qtbot.keyClick(expr, Qt.Key.Key_Space)
    qtbot.keyClicks(expr, "+")
    qtbot.keyClick(expr, Qt.Key.Key_Right)
    qtbot.keyClick(expr, Qt.Key.Key_R)
    assert expr.text() == "x +r"
    assert not session.playing and session.t == 0


def test_step_button_click_leaves_space_to_playback(window, session, qtbot):
    # buttons take no focus: after clicking one, Space still toggles playback
    qtbot.mouseClick(window.controls.playback.step, Qt.MouseButton.LeftButton)
    assert session.t == 1
    key(qtbot, window, Qt.Key.Key_Space)
    assert session.playing


def test_space_at_max_steps_says_why(window, session, qtbot):
    session.set_max_steps(5)
    session.step(5)
    key(qtbot, window, Qt.Key.Key_Space)
    assert not session.playing
    assert "max steps" in window.message.text()
    assert not window.controls.playback.play.isChecked()


def test_view_menu_theme_and_heatmap(window, qtbot):
    from gdviz.ui import theme

    view = window.landscape_view
    QApplication.processEvents()
    light = _gray(view.grab().toImage()).mean()
    window.theme_actions["dark"].trigger()
    assert theme.current() == "dark" and window.theme_name == "dark"
    QApplication.processEvents()
    assert _gray(view.grab().toImage()).mean() < light - 40
    window.heatmap_action.trigger()
    assert view.heatmap_visible is False
    window.heatmap_action.trigger()
    assert view.heatmap_visible is True


# ------------------------------------------------------------------------- frame clock
def test_frame_timer_ticks_while_playing(window, session, qtbot):
    session.set_speed(600)
    session.play()
    assert window.frame_timer.isActive()
    qtbot.waitUntil(lambda: session.t >= 20, timeout=5000)
    session.pause()
    assert not window.frame_timer.isActive()
    assert window.controls.playback.timeline.value() == session.t


def test_a_playing_scene_moves_after_its_first_picture(window, session, qtbot, monkeypatch):
    from gdviz.core.scene import preset_paths
    from gdviz.ui.main_window import FIRST_FRAME_MS, FRAME_MS

    ticks = []
    real = session.tick
    monkeypatch.setattr(session, "tick", lambda dt: (ticks.append(dt), real(dt))[1])
    path = next(p for p in preset_paths() if p.stem.startswith("L04_"))  # autoplay = true
    assert window.open_scene(path) and session.playing
    # the first frame is not due in the opening's own turn of the event loop
    assert window.frame_timer.isActive() and window.frame_timer.interval() == FIRST_FRAME_MS
    assert ticks == [] and session.t == 0
    qtbot.waitUntil(lambda: len(ticks) >= 2, timeout=5000)
    assert ticks[0] <= FRAME_MS / 1000  # it steps a frame's worth, not the wait's
    assert window.frame_timer.interval() == FRAME_MS  # then a frame every FRAME_MS
    session.pause()
    session.play()  # played again: frames at once
    assert window.frame_timer.interval() == FRAME_MS
    session.pause()
    assert window.open_scene(path)
    session.pause()  # paused before the first frame: the next play is not delayed
    session.play()
    assert window.frame_timer.interval() == FRAME_MS
    session.pause()


def test_playback_stops_at_max_steps(window, session, qtbot):
    session.set_max_steps(15)
    session.set_speed(2000)
    session.play()
    qtbot.waitUntil(lambda: not session.playing, timeout=5000)
    assert session.t == 15
    assert not window.frame_timer.isActive()
    assert "step 15 / 15" in window.counters.text()


# ------------------------------------------------------------------------- divergence
def test_diverging_run_is_marked_while_others_continue(window, session):
    i = session.add_run(RunSpec(config=make_optimizer("sgd", lr=10.0)))
    session.step(30)
    div = dict(session.diverged())
    assert i in div and div[i] <= 30
    alive = [r for r in range(session.n_runs) if r not in div]
    assert len(alive) == 4
    assert np.isfinite(session.positions()[alive]).all()
    assert "diverged" in window.diverged_label.text()
    assert session.run_label(i) in window.diverged_label.text()
    t_div = div[i]
    session.step(20)
    assert session.t == 50  # the race goes on
    assert dict(session.diverged())[i] == t_div


# ------------------------------------------------------------------------- rendering
def _gray(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_RGB32)
    w, h = img.width(), img.height()
    arr = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.bytesPerLine() * h)
    arr = arr.reshape(h, img.bytesPerLine() // 4, 4)[:, :w, :3]
    return arr.astype(np.int16)


def test_window_renders_contours_and_trails(window, session, qtbot):
    view = window.landscape_view
    QApplication.processEvents()
    before = _gray(window.grab().toImage())
    # the view's rectangle inside the window image
    top_left = view.mapTo(window, QPoint(0, 0))
    x0, y0 = top_left.x(), top_left.y()
    h, w = view.height(), view.width()
    assert w > 500 and h > 300
    region = before[y0:y0 + h, x0:x0 + w]
    # contours (and heatmap) drawn: the map is far from one flat colour
    assert region.std() > 10
    assert len(np.unique(region.reshape(-1, 3), axis=0)) > 50

    session.step(200)
    QApplication.processEvents()
    after = _gray(window.grab().toImage())
    diff = np.abs(after - before).sum(axis=2)
    map_diff = diff[y0:y0 + h, x0:x0 + w]
    assert (map_diff > 30).sum() > 300  # the trails are drawn on the map
    # the changed pixels carry the runs' colours
    changed = after[y0:y0 + h, x0:x0 + w][map_diff > 30]
    for hexcol in session.colors[:2]:
        rgb = np.array([int(hexcol[k:k + 2], 16) for k in (1, 3, 5)])
        # grabbed pixels are BGRA on little-endian
        bgr = rgb[::-1]
        close = (np.abs(changed - bgr).sum(axis=1) < 60).sum()
        assert close > 10, hexcol


# ------------------------------------------------------------------------- settings
def test_settings_restored_across_two_windows(qtbot, settings, private_settings):
    s1 = Session()
    w1 = MainWindow(s1, settings=settings)
    qtbot.addWidget(w1)
    w1.show()
    w1.resize(760, 560)  # fits the offscreen screen (800×600), so no clamping
    w1.set_theme("dark")
    w1.zoom_in()
    w1.zoom_in()
    scale = w1.font_scale
    w1.heatmap_action.setChecked(False)
    w1.close()
    assert (private_settings / "gdviz" / "gdviz.ini").exists()

    from gdviz.ui.main_window import app_settings

    w2 = MainWindow(Session(), settings=app_settings())
    qtbot.addWidget(w2)
    assert w2.theme_name == "dark"
    assert w2.theme_actions["dark"].isChecked()
    assert w2.font_scale == pytest.approx(scale)
    assert not w2.heatmap_action.isChecked()
    assert (w2.width(), w2.height()) == (760, 560)
    w2.close()


def test_settings_use_the_test_path(private_settings):
    from gdviz.ui.main_window import app_settings

    st = app_settings()
    assert st.format() == QSettings.Format.IniFormat
    assert st.fileName().startswith(str(private_settings))


# ------------------------------------------------------------------------- warmup
def test_warmup_runs_in_a_thread_and_reports(window, qtbot):
    import threading

    seen = []

    def fake_warmup(progress, cancelled):
        seen.append(threading.current_thread() is threading.main_thread())
        for i in range(3):
            progress(i + 1, 3, f"k{i}")
        return True

    window.warmup = None
    from gdviz import kernels

    was_ready = kernels.is_ready()
    kernels.mark_ready(False)
    try:
        window.start_warmup(fake_warmup)
        with qtbot.waitSignal(window.warmup.finished, timeout=5000):
            pass
        assert seen == [False]
        # the progress arrived on the UI thread and is shown
        assert window.kernel_status.toolTip() == "compiled k2"
    finally:
        kernels.mark_ready(was_ready)


def test_the_windows_warmup_goes_through_the_helper_process():
    """A cold cache is compiled in a helper process (tests/kernels/test_helper.py)."""
    from gdviz import kernels
    from gdviz.ui.warmup import KernelWarmup

    assert KernelWarmup()._worker._fn is kernels.warmup_aside


def test_warmup_progress_text(window):
    window._on_warmup_progress(3, 5, "contour")
    assert window.kernel_status.text() == "Compiling kernels 3/5…"


def test_warmup_cancel_stops_between_kernels(qtbot):
    import threading

    from gdviz.ui.warmup import KernelWarmup

    gate = threading.Event()
    done = []

    def slow(progress, cancelled):
        for i in range(100):
            gate.wait(5)
            if cancelled():
                done.append(i)
                return False
            progress(i + 1, 100, "k")
        return True

    w = KernelWarmup(slow)
    w.start()
    qtbot.waitUntil(w.is_running, timeout=2000)
    w._cancel.set()
    gate.set()
    w.cancel()
    assert not w.is_running()
    assert done == [0]


# ------------------------------------------------------------------------- scenes hook
def test_open_bad_scene_shows_inline_message_and_keeps_session(window, session, tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text("version = 1\n[problem]\nkind = 'surface'\nsurface = 'nope'\n")
    land = session.landscape
    assert window.open_scene(bad) is False
    assert window.notice.isVisible()
    assert "broken.toml" in window.notice.text()
    assert session.landscape is land


def _big_scene_file(tmp_path, n=12_000):
    import dataclasses

    from gdviz.core.scene import load_preset, save_scene

    s = load_preset("L13")
    rng = np.random.default_rng(3)
    data = tuple(zip(rng.uniform(-3, 3, n).tolist(), rng.normal(0, 1, n).tolist()))
    scene = dataclasses.replace(s, fit=dataclasses.replace(s.fit, data=data, units=10))
    path = tmp_path / "big.toml"
    save_scene(scene, path)
    return path, scene


def test_a_big_scene_file_is_read_on_a_worker_thread_while_the_window_goes_on(
        window, session, tmp_path, qtbot, monkeypatch):
    # issue 10: a 100,000-point scene (4.7 MB) was read on the UI thread: 1.3 s frozen
    import threading

    import gdviz.core.scene as scene_mod
    from gdviz.ui.main_window import OPEN_ASIDE_BYTES

    path, scene = _big_scene_file(tmp_path)
    assert path.stat().st_size > OPEN_ASIDE_BYTES
    readers = []
    real = scene_mod.load_scene
    monkeypatch.setattr(scene_mod, "load_scene",
                        lambda p: readers.append(threading.current_thread()) or real(p)
                        if p == path else real(p))
    land = session.landscape
    assert window.open_scene(path) is True
    assert window.opening == path and session.landscape is land  # not yet
    assert window.notice.isVisible() and window.notice.text() == "Opening big.toml…"
    assert "color" not in window.notice.styleSheet()  # not an error's red
    window.set_language("zh-Hans")
    assert window.notice.text() == "正在打开 big.toml…"
    qtbot.waitUntil(lambda: window.opening is None, timeout=20_000)
    assert readers and all(t is not threading.main_thread() for t in readers)
    assert session.kind == "fit" and session.data.points_data == scene.fit.data
    assert not window.notice.isVisible()
    assert window._scene_path == path  # Save writes it back there


def test_a_newer_open_drops_the_big_file_being_read(window, session, tmp_path, qtbot):
    from gdviz.core.scene import preset_path

    path, _ = _big_scene_file(tmp_path, 2000)
    assert window.open_scene(path, aside=True) is True
    future = window._open_job[1]
    assert window.open_scene(preset_path("L4")) is True  # a lesson: read at once
    assert window.opening is None and window._scene.title.en.startswith("L4")
    qtbot.waitUntil(future.done, timeout=20_000)
    for _ in range(5):
        QApplication.processEvents()
    assert window._scene.title.en.startswith("L4") and session.kind == "surface"
    assert not window.notice.isVisible()


def test_a_bad_file_read_aside_says_why_inline(window, session, tmp_path, qtbot):
    bad = tmp_path / "broken.toml"
    bad.write_text("version = 1\n[problem]\nkind = 'surface'\nsurface = 'nope'\n")
    land = session.landscape
    assert window.open_scene(bad, aside=True) is True
    qtbot.waitUntil(lambda: window.opening is None, timeout=20_000)
    assert window.notice.isVisible() and "Cannot open broken.toml" in window.notice.text()
    assert "color" in window.notice.styleSheet()  # an error: red again
    assert session.landscape is land


def test_closing_the_window_while_a_file_is_read_applies_nothing(qtbot, session, settings,
                                                                  tmp_path):
    path, _ = _big_scene_file(tmp_path, 2000)
    win = MainWindow(session, settings=settings)
    qtbot.addWidget(win)
    win.show()
    assert win.open_scene(path, aside=True)
    future = win._open_job[1]
    win.close()
    if not future.cancelled():
        future.result()
    for _ in range(5):
        QApplication.processEvents()
    assert session.kind != "fit" and win.opening is None


def test_gui_command_shows_window_and_returns(tmp_path):
    # in a process of its own: the app's exec() and quit() would leave this process's
    # QApplication quitting, and every later test's nested event loop would return at once
    import os
    import subprocess
    import sys

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GDVIZ_QUIT_AFTER_SHOW="1",
               XDG_CONFIG_HOME=str(tmp_path), HOME=str(tmp_path))
    r = subprocess.run([sys.executable, "-m", "gdviz", "gui"], capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "GDVIZ_SHOWN" in r.stdout  # printed once the window was shown and painted


def test_gui_command_missing_scene_is_a_usage_error(capsys):
    from gdviz.cli import main

    assert main(["gui", "no-such-scene.toml"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "gdviz gui: error: no such scene file: no-such-scene.toml"


# ------------------------------------------------------------------------- lessons, language
def test_lesson_scene_opens_with_its_caption_in_the_ui_language(window, session):
    from gdviz.core.scene import load_preset, preset_paths

    path = next(p for p in preset_paths() if p.stem.startswith("L06_"))
    window.set_language("en")
    assert window.open_scene(path) is True
    assert not window.notice.isVisible()  # everything in the scene is shown
    assert session.kind == "regression" and session.batch_size == 10
    scene = load_preset("L06")
    assert scene.caption.en[:40] in window.caption.text()
    session.step(13)
    assert "epoch 2 (batch 3 of 10)" in window.counters.text()
    assert "iteration 13" in window.counters.text()
    window.set_language("zh-Hant")
    assert scene.caption.zh_Hant[:20] in window.caption.text()
    assert window.menuBar().actions()[0].text() == "檔案"
    assert "第 2 代" in window.counters.text() and "第 13 次迭代" in window.counters.text()
    window.set_language("zh-Hans")
    assert scene.title.zh_Hans in window.caption.text()
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        window.set_language("fr")


def test_lessons_menu_titles_follow_the_language(window):
    window.set_language("zh-Hans")
    window._title_lessons()
    titles = [a.text() for a in window.lessons_menu.actions()]
    from gdviz.core.scene import preset_paths

    assert len(titles) == len(preset_paths()) and any(t.startswith("L1 · ") for t in titles)
    assert all("_" not in t for t in titles)


def test_lessons_menu_reads_each_preset_once_and_retitles_on_language_change(window, session,
                                                                            monkeypatch):
    import gdviz.core.scene as scene_mod
    from gdviz.core.scene import load_scene, preset_paths

    window._idle_ahead.stop()  # (the idle read-ahead: its own test below)
    window._lesson_titles.clear()
    paths = preset_paths()
    reads = []
    real = scene_mod.load_scene
    monkeypatch.setattr(scene_mod, "load_scene", lambda p, *a, **k: reads.append(p) or real(p, *a, **k))
    acts = window.lessons_menu.actions()
    want = {lang: [load_scene(p).title.get(lang) for p in paths] for lang in ("en", "zh-Hans", "zh-Hant")}
    for lang in ("zh-Hans", "en", "zh-Hant", "zh-Hans", "en"):
        window.set_language(lang)
        window.lessons_menu.aboutToShow.emit()  # the menu opens
        assert [a.text() for a in window.lessons_menu.actions()] == want[lang]
        window.lessons_menu.aboutToShow.emit()  # and again, in the same language
    assert sorted(reads) == sorted(paths)  # each file read once, on the first opening
    assert window.lessons_menu.actions() == acts  # the same entries, retitled
    l4 = next(a for a in acts if a.text().startswith("L4 "))
    l4.trigger()  # an entry still opens its own lesson
    assert window._scene.meta.lesson == "L04"


def test_lesson_titles_are_read_ahead_one_per_idle_turn(window, qtbot, monkeypatch):
    """The menu's first opening read all 22 presets (~35 ms of the first lesson's click):
    idle turns read them ahead, one file each, and the opening then reads none."""
    import gdviz.core.scene as scene_mod
    from gdviz.core.scene import preset_paths

    window._idle_ahead.stop()
    window._lesson_titles.clear()
    reads = []
    real = scene_mod.load_scene
    monkeypatch.setattr(scene_mod, "load_scene", lambda p, *a, **k: reads.append(p) or real(p, *a, **k))
    window._one_ahead()
    assert len(reads) == 1  # one file per turn
    window._idle_ahead.start()
    qtbot.waitUntil(lambda: not window._idle_ahead.isActive(), timeout=10_000)
    assert sorted(reads) == sorted(preset_paths())
    window.lessons_menu.aboutToShow.emit()
    assert len(reads) == len(preset_paths())  # the opening read nothing


def test_nothing_is_read_ahead_while_a_demo_plays(window, monkeypatch):
    """The read-ahead waits while the session plays: its frames come first (a data page
    built between two frames of L21 laid the controls out, up to the window)."""
    import gdviz.core.scene as scene_mod

    window._idle_ahead.stop()
    window._lesson_titles.clear()
    reads = []
    real = scene_mod.load_scene
    monkeypatch.setattr(scene_mod, "load_scene", lambda p, *a, **k: reads.append(p) or real(p, *a, **k))
    window.frame_timer.stop()
    window.session.play()
    try:
        window._one_ahead()
        assert reads == []
    finally:
        window.session.pause()
    window._one_ahead()
    assert len(reads) == 1


def test_modules_a_first_lesson_imports_are_imported_ahead_on_idle_turns(window, qtbot,
                                                                          monkeypatch):
    """The first data lesson's click imported numpy.random (~13 ms of its turn): the idle
    turns import it after the titles, one module per turn."""
    import importlib
    import sys

    from gdviz.ui import main_window as mw

    assert "numpy.random" in mw.AHEAD_MODULES
    window._idle_ahead.stop()
    for p in window._lesson_paths:
        window._lesson_title(p)
    imported = []
    monkeypatch.setattr(mw, "AHEAD_MODULES", ("numpy.random", "gdviz_ahead_a", "gdviz_ahead_b"))
    for name in ("gdviz_ahead_a", "gdviz_ahead_b"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    real = importlib.import_module

    def fake(name, *a):
        imported.append(name)
        if name.startswith("gdviz_ahead_"):
            sys.modules[name] = object()
            return sys.modules[name]
        return real(name, *a)

    monkeypatch.setattr(importlib, "import_module", fake)
    window._one_ahead()
    assert imported == ["gdviz_ahead_a"]  # one per turn (numpy.random: already here)
    window._idle_ahead.start()
    qtbot.waitUntil(lambda: not window._idle_ahead.isActive(), timeout=10_000)
    assert imported == ["gdviz_ahead_a", "gdviz_ahead_b"]
    for name in ("gdviz_ahead_a", "gdviz_ahead_b"):
        del sys.modules[name]


def test_the_data_panels_pages_are_built_ahead_on_idle_turns(window, qtbot):
    """After the titles and the modules, the idle turns build the data panel's fit and
    regression pages, one per turn; the first fit lesson then shows the page built."""
    import importlib

    from gdviz.ui import main_window as mw

    data = window.controls.data
    assert mw.AHEAD_PAGES == ("fit", "regression")
    window._idle_ahead.stop()
    for p in window._lesson_paths:
        window._lesson_title(p)
    for name in mw.AHEAD_MODULES:  # (the turns before: their own test above)
        importlib.import_module(name)
    assert window.session.is_data is False and "fit" not in data._pages
    window._one_ahead()
    assert "fit" in data._pages and "regression" not in data._pages  # one per turn
    window._idle_ahead.start()
    qtbot.waitUntil(lambda: not window._idle_ahead.isActive(), timeout=10_000)
    assert "regression" in data._pages
    page = data._pages["fit"][0]
    l1 = next(p for p in window._lesson_paths if p.stem.startswith("L01"))
    assert window.open_scene(l1) and window.session.kind == "fit"
    assert data._page is page and not page.isHidden()


def test_projector_modes_schedule_plot_is_made_ahead_on_an_idle_turn(window, qtbot):
    """After the data pages, an idle turn makes projector mode's schedule plot (its first
    press made it: ~22 ms of a 60-110 ms turn at 261 % text), hidden and not following
    the session; projector mode then shows that one."""
    import importlib

    from gdviz.ui import main_window as mw

    pic = window.picture
    window._idle_ahead.stop()
    for p in window._lesson_paths:
        window._lesson_title(p)
    for name in mw.AHEAD_MODULES:
        importlib.import_module(name)
    for kind in mw.AHEAD_PAGES:
        window.controls.data.build_ahead(kind)
    assert pic.schedule_view is None and getattr(pic, "_schedule_kept", None) is None
    window._one_ahead()
    kept = pic._schedule_kept
    assert kept is not None and kept.isHidden() and not kept._following
    assert pic._step_kept is None  # (one a turn)
    window._one_ahead()
    box = pic._step_kept
    assert box is not None and box.isHidden() and not box.widget()._following
    window._one_ahead()  # nothing left: the idle turns stop
    assert not window._idle_ahead.isActive()
    for _ in range(2):  # (on and off twice: the same two views each time)
        window.set_projector(True)
        qtbot.waitUntil(window.layout_settled, timeout=10_000)
        assert pic.schedule_view is kept and kept._following
        assert pic._step_box is box and pic.step_view is box.widget() and pic.step_view._following
        window.set_projector(False)
        qtbot.waitUntil(window.layout_settled, timeout=10_000)
        assert pic.schedule_view is None and pic._schedule_kept is kept
        assert pic.step_view is None and pic._step_kept is box and box.isHidden()
        assert not box.widget()._following and not box.widget()._connections


def test_a_playing_demo_builds_projector_modes_side_views_ahead(window, qtbot):
    """A demo that plays from its open never reached the idle turns that build projector
    mode's side views (frames first), so a teacher's first F5 built them in its press (34
    and 20 ms of a 75-98 ms press on L11 at 200 % text). They are built, one a turn,
    while it plays: hidden and parentless, they lay nothing out."""
    pic = window.picture
    window._idle_ahead.stop()
    window.session.play()
    assert window.session.playing
    assert pic._schedule_kept is None and pic._step_kept is None
    window._one_ahead()
    assert pic._schedule_kept is not None and pic._step_kept is None
    window._one_ahead()
    assert pic._step_kept is not None and pic._step_kept.parentWidget() is None
    window.session.pause()


def test_lessons_menu_refilled_by_set_lessons_is_titled_again(window):
    window.set_lessons([("x", lambda: None)])
    window.lessons_menu.aboutToShow.emit()
    from gdviz.core.scene import preset_paths

    titles = [a.text() for a in window.lessons_menu.actions()]
    assert len(titles) == len(preset_paths()) and titles[0].startswith("L1 · ")


def test_language_is_kept_between_launches(qtbot, settings):
    first = MainWindow(Session(), settings=settings)
    qtbot.addWidget(first)
    first.set_language("zh-Hant")
    first.close()
    second = MainWindow(Session(), settings=settings)
    qtbot.addWidget(second)
    assert second.language == "zh-Hant"
    assert second.language_actions["zh-Hant"].isChecked()


def test_export_action_opens_the_dialog_and_the_app_keeps_running(window, session):
    dlg = window.export_animation()
    assert dlg.isVisible() and not dlg.running()
    assert window.export_animation() is not dlg or not dlg.running()
    # its export waits while the window's kernels are being compiled, as the maps do
    assert dlg._kernels_due() is False
    window.picture.set_kernels_due(True)
    assert dlg._kernels_due() is True
    window.picture.set_kernels_due(False)
    assert dlg._kernels_due() is False
    dlg.close()


def test_fit_lesson_opens_fully(window, session):
    from gdviz.core.scene import preset_paths

    path = next(p for p in preset_paths() if p.stem.startswith("L09_"))
    assert window.open_scene(path)
    assert session.kind == "fit" and session.data.units == 30
    assert session.landscape.param_names == ("c1", "c2")
    session.step(20)
    assert session.val_losses() is not None and window.loss_view.legend.isVisible()


def test_fit_panel_and_data_controls_show_on_data_problems_only(window, session):
    from gdviz.core.problems import FitData, RegressionData

    assert not window.fit_view.isVisible() and not window.controls.data.isVisibleTo(window)
    session.set_fit(FitData(target="piecewise", model="hard-sigmoid", units=2))
    assert window.fit_view.isVisible() and window.controls.data.isVisibleTo(window)
    # beside the map, sharing the width
    lw, fw = window.landscape_view.width(), window.fit_view.width()
    assert fw > 200 and lw > 200
    session.set_regression(RegressionData())
    assert window.fit_view.isVisible()
    session.set_surface("beale")
    assert not window.fit_view.isVisible() and not window.controls.data.isVisibleTo(window)


def test_a_closed_window_ends_its_map_threads_and_stops_drawing_the_session(window, session):
    """The window's close closes its views: their map threads end, and a step the session
    takes after no longer reaches them (each window closed left two threads waiting)."""
    lv = window.picture.landscape_view
    threads = [lv.map_layer.worker._thread]
    if getattr(lv, "_live_worker", None) is not None:
        threads.append(lv._live_worker._thread)
    assert all(t.is_alive() for t in threads)
    window.close()
    for t in threads:
        t.join(timeout=10)  # (stopped: each returns from its wait at once)
        assert not t.is_alive()
    draws = lv.runs_builds
    session.add_run(session.specs[0])
    session.step(3)
    assert lv.runs_builds == draws


def test_the_app_keeps_its_long_lived_objects_out_of_the_collectors_passes(monkeypatch):
    """gdviz.ui.app.freeze_long_lived: in the app (main sets it on) every object alive is
    frozen out of the garbage collector's passes, which walked ~180k of them (~100 ms a
    full pass, a frozen window); a test's windows are left to the suite's own policy."""
    import gc

    from gdviz.ui import app

    before = gc.get_freeze_count()
    keep = [[i] for i in range(1000)]  # tracked objects alive now
    app.freeze_long_lived()
    assert gc.get_freeze_count() == before  # (not the app: nothing)
    monkeypatch.setitem(app._FREEZE, "on", True)
    app.freeze_long_lived()
    assert gc.get_freeze_count() >= before + len(keep)
    walked = {id(o) for o in gc.get_objects()}  # (what a pass walks: not the frozen)
    assert not any(id(k) in walked for k in keep)


def test_exports_leave_nothing_behind(window, qtbot, tmp_path):
    """Each File ▸ Export made a dialog the window kept; an export cancelled while its
    picture was being built left that picture's caption and map behind, and every export
    its plots' context menus (kept alive by their own signals, a cycle through Qt): a
    fuzz run's 60 exports left 5,000 widgets, each restyled at every theme and text size.
    Exports cancelled early or late, and finished, leave the window's widgets as they were
    (but for pyqtgraph's own: an empty QWidget each plot item makes for its options form
    and never deletes)."""
    import gc
    from collections import Counter

    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QWidget

    app = QApplication.instance()

    def census() -> Counter:
        for _ in range(2):
            app.processEvents()
            app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()
        return Counter(type(w).__name__ for w in QApplication.allWidgets()
                       if not (type(w) is QWidget and w.parentWidget() is None and not w.children()))

    def export(fmt: str, turns: int) -> None:
        dlg = window.export_animation()
        dlg.size.setCurrentIndex(0)
        dlg.format.setCurrentIndex(dlg.format.findData(fmt))
        dlg.path.setText(str(tmp_path / f"clip.{fmt}"))
        dlg.steps.setValue(2)
        assert dlg.start()
        for _ in range(turns):  # a frame (a piece of the picture's build) a turn
            app.processEvents()
        dlg._cancel_or_close()
        qtbot.waitUntil(lambda: not dlg.running(), timeout=60_000)
        dlg.close()

    export("png", 0)  # (the first makes what stays: the dialog a next export replaces)
    before = census()
    for fmt, turns in (("png", 0), ("png", 1), ("png", 3), ("mp4", 2), ("png", 60)):
        export(fmt, turns)
    after = census()
    assert (tmp_path / "clip.png").is_file()  # (the last one finished)
    grown = {k: after[k] - before.get(k, 0) for k in after if after[k] > before.get(k, 0)}
    assert grown == {}
