"""Nothing lost: the autosave, the offer after a crash (tested by killing a real process),
and the question before unsaved changes are closed or replaced."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from gdviz.core.scene import (
    apply_scene,
    load_preset,
    load_scene,
    preset_paths,
    save_scene,
    scene_from_session,
)
from gdviz.core.session import Session
from gdviz.core.i18n import tr
from gdviz.ui import autosave as autosave_mod
from gdviz.ui.autosave import reading_copy
from gdviz.ui.main_window import MainWindow

_REAL_ASK = MainWindow.ask_unsaved  # before tests/ui/conftest.py stands in for it


def _data_dir() -> Path:
    return Path(os.environ["GDVIZ_DATA_DIR"])  # tests/conftest.py: under tmp_path


def _autosave_file() -> Path:
    return _data_dir() / "autosave" / "current.toml"


def _comparable(scene):
    """What a restored demo must bring back: problem, runs, starts, settings, meta."""
    return dataclasses.replace(scene, playback=dataclasses.replace(scene.playback,
                                                                   autoplay=False))


@pytest.fixture
def make_window(qtbot, settings):
    def make(session=None):
        win = MainWindow(session or Session(), settings=settings)
        qtbot.addWidget(win)
        win.resize(1280, 720)
        win.show()
        return win

    return make


# ------------------------------------------------------------------------- the autosave
def test_data_dir_follows_the_env_and_falls_back_to_qt(monkeypatch, tmp_path):
    assert autosave_mod.data_dir() == tmp_path / "gdviz-data"
    assert autosave_mod.autosave_dir() == tmp_path / "gdviz-data" / "autosave"
    monkeypatch.delenv("GDVIZ_DATA_DIR")
    from PySide6.QtCore import QStandardPaths

    loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    assert autosave_mod.data_dir() == Path(loc)


def test_interval_from_the_env(monkeypatch):
    assert autosave_mod.interval_ms() == 5000
    monkeypatch.setenv("GDVIZ_AUTOSAVE_MS", "120")
    assert autosave_mod.interval_ms() == 120
    for bad in ("0", "-5", "soon"):
        monkeypatch.setenv("GDVIZ_AUTOSAVE_MS", bad)
        assert autosave_mod.interval_ms() == 5000


@pytest.mark.parametrize("path", preset_paths(), ids=lambda p: p.stem)
def test_the_worker_threads_copy_reads_as_the_session(path):
    # the scene is built on a worker thread from a copy of the session's fields: the copy
    # must give the same scene, and must not follow later changes to the session
    scene = load_scene(path)
    s = Session()
    apply_scene(scene, s)
    copy = reading_copy(s)
    assert scene_from_session(copy, base=scene) == scene_from_session(s, base=scene)
    before = scene_from_session(copy, base=scene)
    s.add_run(s.specs[0])
    s.set_seed(s.seed + 1)
    assert scene_from_session(copy, base=scene) == before


def test_nothing_is_written_until_the_demo_changes(make_window):
    win = make_window()
    win.autosave.flush()
    assert not _autosave_file().exists()
    win.session.step(30)  # steps and playback are not changes to the demo
    win.session.select(0)
    assert not win.autosave.dirty
    win.autosave.flush()
    assert not _autosave_file().exists()


def test_a_change_is_autosaved_atomically_to_the_data_folder(make_window, qtbot):
    win = make_window()
    s = win.session
    s.set_seed(7)
    s.add_run(s.specs[0])
    assert win.autosave.dirty
    with qtbot.waitSignal(win.autosave.written) as got:
        win.autosave.flush()
    assert got.args == [str(_autosave_file())]
    assert scene_from_session(s) == load_scene(_autosave_file())
    assert [p.name for p in _autosave_file().parent.iterdir()
            if p.name.endswith(".tmp")] == []  # temp + rename: no temp file left
    # the same scene again (a theme change is not in it): not written again
    written = []
    win.autosave.written.connect(written.append)
    win.set_theme("dark")
    win.autosave.flush()
    QApplication.processEvents()
    assert written == []


def test_the_timer_autosaves_without_being_asked(make_window, qtbot, monkeypatch):
    monkeypatch.setenv("GDVIZ_AUTOSAVE_MS", "50")
    win = make_window()
    assert win.autosave.timer.interval() == 50 and win.autosave.timer.isActive()
    with qtbot.waitSignal(win.autosave.written, timeout=20000):
        win.session.set_seed(3)
    assert load_scene(_autosave_file()).seed == 3


def test_the_write_is_off_the_ui_thread(make_window, monkeypatch):
    import gdviz.core.scene as scene_pkg

    threads = []
    real = scene_pkg.save_scene

    def spy(scene, path):
        threads.append(threading.get_ident())
        real(scene, path)

    monkeypatch.setattr(scene_pkg, "save_scene", spy)
    win = make_window()
    win.session.set_seed(5)
    win.autosave.flush()
    assert threads and threads[0] != threading.get_ident()
    assert _autosave_file().exists()


def test_never_over_the_users_own_file(make_window, tmp_path):
    mine = tmp_path / "mine.toml"
    save_scene(load_preset("L10"), mine)
    text = mine.read_text()
    win = make_window()
    assert win.open_scene(mine)
    win.session.set_seed(11)
    win.autosave.flush()
    assert mine.read_text() == text
    assert load_scene(_autosave_file()).seed == 11
    assert load_scene(_autosave_file()).meta == load_scene(mine).meta  # title, caption kept


def test_a_failed_autosave_says_so(make_window, qtbot):
    win = make_window()
    _autosave_file().mkdir()  # a folder where the file goes: the rename fails
    win.session.set_seed(2)
    with qtbot.waitSignal(win.autosave.failed) as got:
        win.autosave.flush()
    assert "current.toml" in got.args[0]
    qtbot.waitUntil(lambda: win.message.text().startswith("Autosave failed: "))


def test_a_clean_quit_removes_the_autosave(make_window):
    win = make_window()
    win.session.set_seed(4)
    win.autosave.flush()
    assert _autosave_file().exists()
    win.close()
    assert not _autosave_file().exists()
    assert not (_autosave_file().parent / "current.lock").exists()


def test_a_second_instance_leaves_the_first_ones_autosave_alone(make_window):
    first = make_window()
    first.session.set_seed(9)
    first.autosave.flush()
    second = make_window()  # the same data folder, while the first runs
    assert not second.autosave.active and second.autosave.error == "another gdviz is running"
    assert second.recovery_bar is None
    assert _autosave_file().exists()
    second.close()
    assert _autosave_file().exists()


# ------------------------------------------------------------------------- the offer after a crash
def _leave_autosave(scene) -> Path:
    """What a crashed run leaves behind."""
    _autosave_file().parent.mkdir(parents=True, exist_ok=True)
    save_scene(scene, _autosave_file())
    return _autosave_file()


def test_after_a_crash_restore_brings_the_demo_back(make_window, qtbot):
    scene = dataclasses.replace(load_preset("L10"), seed=21)
    _leave_autosave(scene)
    win = make_window()
    bar = win.recovery_bar
    assert bar is not None and bar.isVisible()  # inline, nothing waits on it
    assert QApplication.activeModalWidget() is None
    assert scene.title.en in bar.label.text()
    assert bar.restore_button.text() == "Restore" and bar.discard_button.text() == "Discard"
    qtbot.mouseClick(bar.restore_button, Qt.MouseButton.LeftButton)
    assert win.recovery_bar is None
    ref = Session()
    apply_scene(scene, ref)
    assert scene_from_session(win.session, base=win._scene) == scene_from_session(ref, base=scene)
    assert scene.title.en in win.caption.text()
    assert win.has_unsaved_changes()  # restored work is not saved anywhere yet
    # it is this run's autosave now: a second crash still leaves it behind
    assert load_scene(_autosave_file()).seed == 21
    assert not (_autosave_file().parent / "recovered.toml").exists()


def test_after_a_crash_discard_deletes_it(make_window, qtbot):
    _leave_autosave(load_preset("L4"))
    win = make_window()
    before = scene_from_session(win.session)
    qtbot.mouseClick(win.recovery_bar.discard_button, Qt.MouseButton.LeftButton)
    assert win.recovery_bar is None
    assert scene_from_session(win.session) == before
    assert list(_autosave_file().parent.glob("*.toml")) == []
    win.close()
    second = make_window()
    assert second.recovery_bar is None


def test_an_offer_left_open_is_made_again_and_this_runs_autosave_does_not_replace_it(
        make_window):
    _leave_autosave(load_preset("L4"))
    win = make_window()
    assert win.recovery_bar is not None
    win.session.set_seed(13)  # this run's own work, autosaved beside the offer
    win.autosave.flush()
    assert load_scene(_autosave_file()).seed == 13
    win.close()  # a clean quit, the offer neither taken nor refused
    again = make_window()
    assert again.recovery_bar is not None
    again.restore_autosave()
    assert again.session.landscape.name == load_preset("L4").problem.surface


def test_the_offer_speaks_the_ui_language(make_window):
    _leave_autosave(load_preset("L4"))
    win = make_window()
    win.set_language("zh-Hant")
    assert win.recovery_bar.restore_button.text() == "還原"
    assert "自動儲存" in win.recovery_bar.label.text()
    assert load_preset("L4").title.zh_Hant in win.recovery_bar.label.text()


def test_a_broken_autosave_cannot_be_restored_but_can_be_discarded(make_window):
    _autosave_file().parent.mkdir(parents=True, exist_ok=True)
    _autosave_file().write_text("version = 1\n[problem]\nkind = 'nope'\n")
    win = make_window()
    assert win.restore_autosave() is False
    assert win.notice.isVisible() and win.recovery_bar is not None
    win.discard_autosave()
    assert win.recovery_bar is None and list(_autosave_file().parent.glob("*.toml")) == []


def _big_autosave(n: int = 24_000):
    """A demo of ``n`` loaded points left behind (over OPEN_ASIDE_BYTES)."""
    import numpy as np

    from gdviz.ui.main_window import OPEN_ASIDE_BYTES

    s = load_preset("L13")
    rng = np.random.default_rng(5)
    data = tuple(zip(rng.uniform(-3, 3, n).tolist(), rng.normal(0, 1, n).tolist()))
    scene = dataclasses.replace(s, fit=dataclasses.replace(s.fit, data=data), seed=33)
    path = _leave_autosave(scene)
    assert path.stat().st_size > OPEN_ASIDE_BYTES
    return scene


@pytest.mark.parametrize("press_early", [False, True])
def test_a_big_autosave_is_read_on_a_worker_and_restored_from_what_was_read(
        make_window, qtbot, monkeypatch, press_early):
    """A 100,000-point demo's autosave (4.7 MB) was read on the UI thread twice: for the
    bar's title as the window was made (~0.4 s), and again when Restore was pressed. Now
    it is read once, on the worker: the bar shows at once, its title when read; Restore
    applies what was read (pressed before that, it waits for it)."""
    import gdviz.core.scene as scene_mod

    scene = _big_autosave()
    readers = []
    real = scene_mod.load_scene
    monkeypatch.setattr(scene_mod, "load_scene",
                        lambda p: (Path(p).parent == _autosave_file().parent
                                   and readers.append(threading.current_thread())) or real(p))
    win = make_window()
    bar = win.recovery_bar
    assert bar is not None and bar.isVisible()
    if press_early:
        assert win.restore_autosave() is True
        assert not bar.restore_button.isEnabled()  # (waiting for the read)
        qtbot.waitUntil(lambda: win.recovery_bar is None, timeout=20_000)
    else:
        qtbot.waitUntil(lambda: scene.title.en in bar.label.text(), timeout=20_000)
        qtbot.mouseClick(bar.restore_button, Qt.MouseButton.LeftButton)
        assert win.recovery_bar is None
    assert len(readers) == 1 and readers[0] is not threading.main_thread()
    assert win.session.seed == 33 and win.session.data.points_data == scene.fit.data
    assert scene.title.en in win.caption.text() and win.has_unsaved_changes()
    assert load_scene(_autosave_file()).seed == 33  # this run's autosave now


def test_a_big_broken_autosave_read_on_the_worker_says_why_on_restore(make_window, qtbot):
    _big_autosave()
    path = _autosave_file()
    path.write_text(path.read_text().replace("version = 1", "version = 1\nbogus_key = 2", 1))
    win = make_window()
    qtbot.waitUntil(lambda: win._recovery_read.done(), timeout=20_000)
    assert win.restore_autosave() is False
    assert win.notice.isVisible() and "bogus_key" in win.notice.text()
    assert win.recovery_bar is not None  # Discard still works
    win.discard_autosave()
    assert win.recovery_bar is None and list(path.parent.glob("*.toml")) == []


def test_recovery_after_a_real_kill_9(make_window, qtbot, tmp_path):
    """Start the app on a scene, wait for its autosave, SIGKILL it; the next start offers
    the demo back, and Restore brings back the same problem, runs and starts."""
    scene = load_preset("L10")
    runs = tuple(dataclasses.replace(r, opt=dataclasses.replace(r.opt, lr=r.opt.lr * 0.5))
                 for r in scene.runs)
    scene = dataclasses.replace(scene, seed=17, runs=runs, starts=((-1.25, 1.75),))
    path = tmp_path / "lesson.toml"
    save_scene(scene, path)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GDVIZ_AUTOSAVE_MS="100",
               GDVIZ_DATA_DIR=str(_data_dir()), XDG_CONFIG_HOME=str(tmp_path),
               HOME=str(tmp_path))
    log = tmp_path / "gui.log"  # a file, not a pipe: a full pipe would stall the app
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gdviz", "gui", str(path)], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        for _ in range(3000):  # bounded: up to ~150 s on a loaded machine
            if _autosave_file().exists() or proc.poll() is not None:
                break
            try:
                proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass
        assert proc.poll() is None, log.read_text(errors="replace")[-2000:]
        assert _autosave_file().exists(), "the app wrote no autosave"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()  # reaped: its lock file now names a dead process
    assert proc.returncode == -signal.SIGKILL
    assert (_autosave_file().parent / "current.lock").exists()  # left behind by the kill

    win = make_window()
    assert win.autosave.active  # the dead owner's lock was taken over
    bar = win.recovery_bar
    assert bar is not None and bar.isVisible()
    assert scene.title.en in bar.label.text()
    qtbot.mouseClick(bar.restore_button, Qt.MouseButton.LeftButton)
    ref = Session()
    apply_scene(scene, ref)
    got = win.session
    assert got.kind == ref.kind and got.landscape.name == ref.landscape.name
    assert [s.config for s in got.specs] == [s.config for s in ref.specs]
    assert [s.text() for s in got.specs] == [s.text() for s in ref.specs]
    assert got.starts == ref.starts == [(-1.25, 1.75)]
    assert got.seed == 17
    assert _comparable(scene_from_session(got, base=win._scene)) == _comparable(
        scene_from_session(ref, base=scene))
    assert scene.title.en in win.caption.text()


# ------------------------------------------------------------------------- unsaved changes
def test_a_new_window_has_nothing_unsaved_and_playing_does_not_count(make_window):
    win = make_window()
    assert not win.has_unsaved_changes()
    s = win.session
    s.step(40)
    s.step_back()
    s.select(1)
    s.play()
    s.pause()
    s.reset()
    win.set_theme("dark")
    assert not win.has_unsaved_changes()
    assert win.confirm_discard()


def test_settings_runs_and_problem_count_until_changed_back_or_saved(make_window, tmp_path):
    win = make_window()
    s = win.session
    seed = s.seed
    s.set_seed(seed + 1)
    assert win.has_unsaved_changes()
    s.set_seed(seed)
    assert not win.has_unsaved_changes()
    s.add_run(s.specs[0])
    assert win.has_unsaved_changes()
    assert win.save_scene(tmp_path / "saved.toml")
    assert not win.has_unsaved_changes()
    assert win._scene_path == tmp_path / "saved.toml"
    s.set_view_options(heatmap=not s.heatmap)  # view state a scene holds
    assert win.has_unsaved_changes()
    assert win.open_scene(tmp_path / "saved.toml")
    assert not win.has_unsaved_changes()


def test_the_unsaved_test_compares_scenes_without_checking_them(make_window, monkeypatch):
    """The demo made into a scene for "unsaved changes" (when a lesson opens: the baseline,
    and the question before it) is only compared, never written or applied: it is not
    checked (~2 ms a check, two per lesson opened). A saved scene still is."""
    import gdviz.core.scene.schema as schema
    from gdviz.core.scene import preset_path, scene_from_session

    win = make_window()
    s = win.session
    checks = []
    real = schema._validate
    monkeypatch.setattr(schema, "_validate", lambda sc: checks.append(sc) or real(sc))
    s.set_seed(s.seed + 1)
    assert win.has_unsaved_changes()
    assert checks == []
    assert win.open_scene(preset_path("L05_local_minima"))
    assert len(checks) <= 1  # (the file read: its scene, once, if not parsed before)
    checks.clear()
    assert not win.has_unsaved_changes()
    s.set_seed(s.seed + 1)
    assert win.has_unsaved_changes()
    assert checks == []
    scene_from_session(s, base=win._scene)
    assert len(checks) == 1


def test_opening_a_lesson_asks_first_only_with_unsaved_changes(make_window, unsaved_questions,
                                                              monkeypatch):
    win = make_window()
    win._title_lessons()
    lesson = {a.text()[:3]: a for a in win.lessons_menu.actions()}
    lesson["L4 "].trigger()
    assert unsaved_questions == [] and win.session.landscape.name == "ellipse"
    assert win._scene_path is None  # a shipped lesson is not the user's file
    win.session.set_seed(5)
    monkeypatch.setattr(MainWindow, "ask_unsaved", lambda self: "cancel")
    lesson["L5 "].trigger()
    assert win.session.landscape.name == "ellipse" and win.session.seed == 5  # kept
    monkeypatch.setattr(MainWindow, "ask_unsaved", lambda self: "discard")
    lesson["L5 "].trigger()
    assert win._scene.meta.lesson == "L05"


def test_save_in_the_question_saves_then_goes_on(make_window, monkeypatch, tmp_path):
    win = make_window()
    win.session.set_seed(8)
    target = tmp_path / "kept.toml"
    monkeypatch.setattr(MainWindow, "ask_unsaved", lambda self: "save")
    from gdviz.ui import main_window

    proposed = []

    def save_dialog(parent, title, start, filt):
        proposed.append(start)
        return str(target), filt

    monkeypatch.setattr(main_window.QFileDialog, "getSaveFileName", staticmethod(save_dialog))
    assert win.open_scene_asking(preset_paths()[0])
    assert load_scene(target).seed == 8
    assert proposed == ["scene.toml"]
    # the user's own file is proposed next time; a cancelled save dialog cancels
    win.session.set_seed(9)
    monkeypatch.setattr(main_window.QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a: ("", "")))
    win._scene_path = target
    assert not win.confirm_discard()


def test_file_save_writes_on_a_worker_and_the_window_goes_on(
        make_window, monkeypatch, tmp_path, qtbot):
    """File ▸ Save wrote and fsynced on the UI thread: in a fuzz run one save waited
    1.3 s for a busy disk, the window frozen (a USB stick or a network folder is slower).
    Now the demo is made into a scene in the press and written on the worker: the status
    bar says "Saving…", then "Saved"; what is saved is the demo at the press; a change
    made meanwhile stays unsaved; a failed write says why above the map; closing the
    window waits for the user's file."""
    from gdviz.core import scene as scene_mod
    from gdviz.ui import main_window

    win = make_window()
    target = tmp_path / "kept.toml"
    monkeypatch.setattr(main_window.QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a: (str(target), "")))
    gate = threading.Event()
    real = scene_mod.save_scene

    def slow_disk(scene, path):
        gate.wait(5)  # (the disk, busy until the test lets it go)
        real(scene, path)

    monkeypatch.setattr(scene_mod, "save_scene", slow_disk)
    win.session.set_seed(8)
    win.save_action.trigger()
    assert win.saving and not target.exists()  # the press returned, the write waits
    assert "kept.toml" in win.message.text()
    win.session.set_seed(9)  # a change while it is written
    QApplication.processEvents()
    gate.set()
    qtbot.waitUntil(lambda: not win.saving)
    assert load_scene(target).seed == 8  # the demo at the press
    assert win.message.text() == tr("scene_saved", win.language, path=str(target))
    assert win._scene_path == target
    assert win.has_unsaved_changes()  # (seed 9 is not saved)
    win.session.set_seed(8)
    assert not win.has_unsaved_changes()  # (as saved)
    # a write that fails says why, above the map, and nothing is marked saved
    win.session.set_seed(10)
    monkeypatch.setattr(main_window.QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a: (str(tmp_path / "gone" / "x.toml"), "")))
    win.save_action.trigger()
    qtbot.waitUntil(lambda: not win.saving)
    assert "x.toml" in win.notice.text() and win.notice.isVisible()
    assert win.has_unsaved_changes() and win._scene_path == target
    # closed with a write under way (its worker goes with the window): written first
    monkeypatch.setattr(main_window.QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a: (str(target), "")))
    win.save_action.trigger()
    win.close()
    assert load_scene(target).seed == 10


def test_quit_asks_and_cancel_keeps_the_window(make_window, monkeypatch):
    win = make_window()
    win.session.set_seed(6)
    win.autosave.flush()
    monkeypatch.setattr(MainWindow, "ask_unsaved", lambda self: "cancel")
    win.quit_action.trigger()
    assert win.isVisible() and _autosave_file().exists()
    monkeypatch.setattr(MainWindow, "ask_unsaved", lambda self: "discard")
    win.quit_action.trigger()
    assert not win.isVisible() and not _autosave_file().exists()


def test_the_users_own_close_asks_and_a_close_from_code_does_not(make_window, monkeypatch,
                                                                 unsaved_questions):
    win = make_window()
    win.session.set_seed(6)
    win.close()  # from code (tests, tools): nobody to ask
    assert unsaved_questions == [] and not win.isVisible()
    win = make_window()
    win.session.set_seed(6)
    monkeypatch.setattr(MainWindow, "_close_asks", lambda self, event: True)  # the ✕
    monkeypatch.setattr(MainWindow, "ask_unsaved", lambda self: "cancel")
    win.close()
    assert win.isVisible()
    monkeypatch.setattr(MainWindow, "ask_unsaved", lambda self: "discard")
    win.close()
    assert not win.isVisible()


@pytest.mark.parametrize("button,answer", [(0, "save"), (1, "discard"), (2, "cancel")])
def test_the_question_box_itself(make_window, monkeypatch, button, answer):
    monkeypatch.setattr(MainWindow, "ask_unsaved", _REAL_ASK)  # the real box
    win = make_window()
    win.set_language("zh-Hans")
    seen = {}

    def click():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, click)  # not up yet (bounded by the box's own exec)
            return
        seen["title"] = box.windowTitle()
        seen["buttons"] = [b.text() for b in box.buttons()]
        order = {"保存…": 0, "丢弃更改": 1, "取消": 2}
        target = next(b for b in box.buttons() if order[b.text()] == button)
        target.click()

    QTimer.singleShot(0, click)
    assert win.ask_unsaved() == answer
    assert seen["title"] == "尚未保存的更改"
    assert sorted(seen["buttons"]) == sorted(["保存…", "丢弃更改", "取消"])


def test_the_offer_is_one_line_at_200_percent_and_the_map_keeps_its_room(make_window, qtbot):
    _leave_autosave(load_preset("L4"))
    win = make_window()
    win.resize(1280, 720)
    win.show()
    qtbot.waitExposed(win)
    win.set_font_scale(2.0)
    qtbot.waitUntil(win.layout_settled, timeout=5000)
    bar = win.recovery_bar
    line = bar.label.fontMetrics().height()
    assert bar.label.height() < 2 * line  # one line (it wrapped to three and took the map)
    shown = bar.label.shown_text()
    assert shown == bar.label.text() or shown.endswith("…")
    assert bar.label.toolTip() == bar.label.text()
    assert win.landscape_view.height() >= 0.5 * win.centralWidget().height()
