"""A lesson opened over many leftover runs (issue 10: 200-600 ms with 20 of them, ~500
plot items removed and made again) keeps the runs' items as hidden spares: the map, the
loss, the fit and the schedule panels remove no run item, and the runs added after it take
the spares back; the picture is the one the same lesson shows when opened without the
leftover runs. A window closed with spares in its panels, and lessons changed before,
tears down without an error."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QTimer

from gdviz.core.scene import preset_path
from gdviz.ui.views import items as items_mod
from measure_common import flush as _flush  # noqa: E402 (tests/ui/conftest.py: on sys.path)

#: the items a run owns in the views (its curves, its "diverged" label)
RUN_ITEMS = (items_mod.SafeCurve, items_mod.LiveCurve, pg.PlotDataItem, pg.TextItem)


def _settle(qtbot, win) -> None:
    """Paused, laid out, and every pending one-shot timer of the window run now (the
    legends' placing, the spares' trimming): two windows compared end in the same state."""
    win.session.pause()
    win.frame_timer.stop()
    for _ in range(50):
        _flush()
        qtbot.waitUntil(win.layout_settled)
        due = [t for t in win.findChildren(QTimer)
               if t.isActive() and t.isSingleShot() and t is not win.frame_timer]
        if not due:
            return
        for t in due:
            t.stop()
            t.timeout.emit()
    raise AssertionError("one-shot timers keep coming")


def _open(qtbot, win, name: str) -> None:
    assert win.open_scene(preset_path(name))
    _settle(qtbot, win)


def _add_runs(qtbot, win, n: int) -> None:
    s = win.session
    for i in range(n):
        s.add_run(s.specs[i % len(s.specs)])
    _settle(qtbot, win)


class SceneCounter:
    """Items added to and removed from the scenes of the window's plots, by type."""

    def __init__(self, win):
        self.added: list[type] = []
        self.removed: list[type] = []
        for view in win.findChildren(pg.GraphicsView):
            view.scene().sigItemAdded.connect(lambda it: self.added.append(type(it)))
            view.scene().sigItemRemoved.connect(lambda it: self.removed.append(type(it)))

    def run_items(self, kinds: list[type]) -> int:
        return sum(issubclass(k, RUN_ITEMS) for k in kinds)


def _spares(win) -> list[int]:
    return [len(v._spares) for v in win.findChildren(pg.GraphicsView) if hasattr(v, "_spares")]


@pytest.mark.parametrize("before, lesson", [("L05", "L06"), ("L08", "L09"), ("L09", "L08")])
def test_a_lesson_over_20_leftover_runs_removes_no_run_item_and_the_runs_take_them_back(
        window, qtbot, monkeypatch, before, lesson):
    win = window
    monkeypatch.setattr(items_mod, "TRIM_AFTER_MS", 10**7)  # (no trimming meanwhile)
    _open(qtbot, win, before)
    # (a surface lesson's fit panel makes no run curves: they come with the data)
    data_before = win.session.is_data
    _add_runs(qtbot, win, 20)
    n_before = win.session.n_runs
    count = SceneCounter(win)
    assert win.open_scene(preset_path(lesson))
    n_lesson = win.session.n_runs
    win.session.pause()
    _flush()
    assert win.session.n_runs < n_before
    # (before: 360 run items removed for L06 over L05 + 20 runs: curves of the map, the loss
    # and the schedule panels, the map's "diverged" labels; made again below; and 83 more
    # for the fit panel's run curves, 23 for L09 over L08 + 20)
    assert count.run_items(count.removed) == 0
    assert max(_spares(win)) == n_before - win.session.n_runs
    s = win.session
    count.added.clear()
    for i in range(20):
        s.add_run(s.specs[i % len(s.specs)])
    _flush()
    assert n_lesson < s.n_runs <= n_before
    assert count.run_items(count.removed) == 0
    fit_made = sum(issubclass(k, items_mod.RasterRunCurve) for k in count.added)
    assert count.run_items(count.added) == fit_made
    assert fit_made == (0 if data_before else s.n_runs - n_lesson)
    assert max(_spares(win)) == n_before - s.n_runs


def test_spares_above_the_kept_number_are_dropped_once_idle(window, qtbot):
    win = window
    _open(qtbot, win, "L05")
    _add_runs(qtbot, win, 20)
    count = SceneCounter(win)
    _open(qtbot, win, "L06")  # (runs the trimming timers too)
    assert max(_spares(win)) == items_mod.KEEP_SPARES
    assert count.run_items(count.removed) > 0


def _pixels(view) -> np.ndarray:
    img = view.grab().toImage()
    return np.frombuffer(img.constBits(), np.uint8).reshape(img.height(),
                                                           img.bytesPerLine()).copy()


@pytest.mark.parametrize("before, lesson", [("L05", "L06"), ("L08", "L09"), ("L13", "L13"),
                                            ("L09", "L08"), ("L13", "L07"), ("L08", "L19")])
def test_a_lesson_over_20_leftover_runs_draws_what_it_draws_without_them(
        window, qtbot, settings, before, lesson):
    from gdviz.core.session import Session
    from gdviz.ui.main_window import MainWindow

    other = MainWindow(Session(), settings=settings)
    qtbot.addWidget(other)
    other.resize(1280, 720)
    other.show()
    qtbot.waitExposed(other)
    _open(qtbot, window, before)
    _add_runs(qtbot, window, 20)
    _open(qtbot, window, lesson)
    _open(qtbot, other, before)
    _open(qtbot, other, lesson)
    try:
        views = [sorted((v for v in w.findChildren(pg.GraphicsView) if v.isVisible()),
                        key=lambda v: type(v).__name__) for w in (window, other)]
        assert [type(v) for v in views[0]] == [type(v) for v in views[1]]
        # (the window's own layout may differ by a pixel or two after 20 runs, the base
        # code's too: the loss dock was 188 px high against 190 after L8 + 20 runs)
        same = [(a, b) for a, b in zip(*views) if a.size() == b.size()]
        assert len(same) >= 3  # the map, the fit or loss panels, the schedule
        for a, b in same:
            assert np.array_equal(_pixels(a), _pixels(b)), type(a).__name__
    finally:
        other.frame_timer.stop()
        other.session.pause()


def test_a_window_closed_with_fit_spares_after_lesson_changes_tears_down_cleanly(
        window, qtbot, monkeypatch):
    """The fit panel's run and unit curves kept as spares, taken back and trimmed over a
    few lesson changes, then the window closed: no exception in Qt's callbacks or in a
    garbage collection (a legend label whose Python state was gone raised in sizeHint),
    no Qt warning (an item used after pyqtgraph deleted it)."""
    import gc
    import sys

    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    from gdviz.ui.views.fit_view import FitView

    win = window
    problems: list[str] = []

    def on_message(kind, _ctx, text):
        if kind != QtMsgType.QtDebugMsg and "propagateSizeHints" not in text:
            problems.append(text)

    monkeypatch.setattr(sys, "unraisablehook", lambda u: problems.append(repr(u.exc_value)))
    old = qInstallMessageHandler(on_message)
    try:
        _open(qtbot, win, "L09")
        _add_runs(qtbot, win, 20)
        fit = next(v for v in win.findChildren(FitView) if v.isVisible())
        count = SceneCounter(win)
        _open(qtbot, win, "L08")  # 30 unit curves -> 3: 27 unit spares, the runs' too
        assert len(fit._unit_spares) > 0 and len(fit._spares) > 0
        _add_runs(qtbot, win, 5)  # run curves taken back
        _open(qtbot, win, "L19")  # (the trimming timers ran in _settle)
        _open(qtbot, win, "L07")
        assert count.run_items(count.removed) > 0  # (some spares dropped for good)
        win.close()
        _flush()
        gc.collect()
        _flush()
    finally:
        qInstallMessageHandler(old)
    assert problems == []
