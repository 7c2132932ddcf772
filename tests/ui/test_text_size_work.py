"""Text size and projector mode do their window-wide work once per press (issue 10, item 11):
with 26 runs a text-size press blocked the window 111-150 ms, and projector mode's first
toggle ~240 ms. These count the work (layouts, reflows, label alignments, curves built),
never the time."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject
from measure_common import flush as _flush  # noqa: E402 (tests/ui/conftest.py: on sys.path)


def _settle(qtbot, win) -> None:
    qtbot.waitUntil(win.layout_settled)
    _flush()


class _Count(QObject):
    """Counts the events of the given types that reach the widgets it filters."""

    def __init__(self, *types):
        super().__init__()
        self.types = types
        self.n = 0

    def eventFilter(self, obj, ev):  # noqa: N802 - Qt API
        if ev.type() in self.types:
            self.n += 1
        return False


@pytest.fixture
def many_runs(window, qtbot, monkeypatch):
    """The default race with 10 more runs (14 run cards), paused."""
    win = window
    s = win.session
    s.pause()
    for i in range(10):
        s.add_run(s.specs[i % len(s.specs)])
    monkeypatch.setattr(s, "play", lambda *a, **k: None)
    _flush()
    _settle(qtbot, win)
    return win


def _press(qtbot, win, fn) -> None:
    fn()
    _flush()
    _settle(qtbot, win)


def test_a_press_reflows_the_controls_once_and_lays_out_each_run_card_at_most_twice(
        many_runs, qtbot, monkeypatch):
    """The controls' rows were put back side by side and reflowed twice a press (once for
    the old column width, once for the new), and laid out over five layout passes at the
    new text (their nested rows measured one level per pass): each run card was laid out
    five times, its rows walked nine times. Now the rows are measured at the new text and
    reflowed for the column they get before the window lays out."""
    from gdviz.ui.panels import controls

    win = many_runs
    card = win.controls.runs.cards[-1]
    resizes = _Count(QEvent.Type.Resize)
    card.installEventFilter(resizes)
    put_back = []
    real_unflow = controls.unflow

    def unflow(undo, *a, **k):
        if undo:
            put_back.append(len(undo))
        return real_unflow(undo, *a, **k)

    monkeypatch.setattr(controls, "unflow", unflow)
    for press in (win.zoom_in, win.zoom_out, win.zoom_in, win.zoom_in, win.zoom_out):
        resizes.n = 0
        put_back.clear()
        _press(qtbot, win, press)
        assert resizes.n <= 2, (press.__name__, win.font_scale)
        assert len(put_back) <= 1, (press.__name__, win.font_scale)
    # and the rows are as wide as the column lets them (nothing scrolls sideways)
    assert win.controls.horizontalScrollBar().maximum() == 0


def test_a_press_lays_the_window_out_in_its_settle_event_not_in_the_press(
        many_runs, qtbot, monkeypatch):
    """A press at 261 -> 300 % on 800x600 with 8 runs blocked the window 55-103 ms: the
    widgets took the new text (~25 ms), then the window laid out at it (~45 ms), in the
    press. Now the press only restyles; the layout is the next event the window gets (a
    posted event of high priority: before the layout requests the press posted, and
    before any input or paint), and the views refresh at the settle, as before."""
    from PySide6.QtWidgets import QApplication

    win = many_runs
    laid_out = []
    real = win._lay_out_text
    monkeypatch.setattr(win, "_lay_out_text", lambda: (laid_out.append(win.font_scale), real())[1])
    for press in (win.zoom_in, win.zoom_in, win.zoom_out):
        laid_out.clear()
        press()
        assert laid_out == [], press.__name__  # (the press: the new text only)
        assert not win.layout_settled()
        QApplication.sendPostedEvents()  # its settle event, first
        assert laid_out == [win.font_scale], press.__name__
        _settle(qtbot, win)
        assert win.controls.horizontalScrollBar().maximum() == 0
    # a burst: one layout for the presses of one turn
    laid_out.clear()
    win.zoom_in()
    win.zoom_in()
    QApplication.sendPostedEvents()
    assert laid_out == [win.font_scale]
    _settle(qtbot, win)
    # closed before its settle event: nothing left waiting
    win.zoom_out()
    win.close()
    assert not win._lay_out_posted


def test_a_language_from_the_menu_lays_the_window_out_in_its_settle_event(
        many_runs, qtbot, monkeypatch):
    """View ▸ Language with 16 networks of L21 at 200 % text blocked the window 111-115 ms,
    ~40 of them the layout: the menu's press now only relabels; the window lays out in the
    next event, as a text size's press does."""
    from PySide6.QtWidgets import QApplication

    win = many_runs
    laid_out = []
    real = win._lay_out_text
    monkeypatch.setattr(win, "_lay_out_text", lambda: (laid_out.append(1), real())[1])
    try:
        for lang in ("zh-Hant", "en"):
            laid_out.clear()
            win.language_actions[lang].trigger()
            assert laid_out == [] and not win.layout_settled(), lang
            assert win.language == lang  # (the model: now)
            QApplication.sendPostedEvents()  # its settle event, first
            assert laid_out == [1], lang
            _settle(qtbot, win)
            assert win.controls.horizontalScrollBar().maximum() == 0
        # set_language called directly still lays out before it returns
        laid_out.clear()
        win.set_language("zh-Hans")
        assert laid_out == [1]
    finally:
        win.set_language("en")


def test_projector_mode_off_fits_the_controls_rows_once_in_its_settle_event(
        many_runs, qtbot, monkeypatch):
    """Projector mode off at 261 % text on 800x600 blocked the window 103-130 ms: the rows
    were reflowed when their dock showed again and again for the window's restored width
    (~35 ms each), then the window laid out, all in the press. Now F5 restores the docks
    and the geometry with the rows' fits held; the window lays out in the next event, and
    the rows are fitted there, once, for the width they get."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from gdviz.ui.panels import controls

    win = many_runs
    win.resize(700, 500)
    win.set_font_scale(2.61)
    _settle(qtbot, win)
    reflows = []
    real = controls.reflow
    monkeypatch.setattr(controls, "reflow", lambda *a, **k: (reflows.append(a[1]), real(*a, **k))[1])
    for on in (True, False, True, False):
        if not on:  # (a text size meanwhile: the hidden rows were not fitted for it)
            win.zoom_in() if win.font_scale < 2.8 else win.zoom_out()
            _flush()
            _settle(qtbot, win)
        reflows.clear()
        qtbot.keyClick(win, Qt.Key.Key_F5)
        assert win.projector is on
        assert reflows == [] and not win.layout_settled()  # (the press: no layout yet)
        QApplication.sendPostedEvents()  # its settle event, first
        assert len(reflows) <= 1, (on, reflows)
        _settle(qtbot, win)
        if not on:
            assert win.controls.isVisible()
            assert win.controls.width() <= win.controls_dock.width()


def test_rows_that_cannot_fit_are_not_reflowed_again_by_their_own_layout_requests(
        many_runs, qtbot, monkeypatch):
    """At 300 % some rows stay wider than the column whatever the reflow does (the panel
    scrolls sideways). Each reflow's layout requests asked for a refit, which found the rows
    still too wide and reflowed them again: 4-7 walks over ~700 widgets a press, ~10 ms
    each. A refit that finds the rows as the last reflow left them, for the same text,
    language and cap, leaves them."""
    from gdviz.ui.panels import controls

    win = many_runs
    win.set_font_scale(3.0)
    _settle(qtbot, win)
    walks = []
    real = controls.reflow
    monkeypatch.setattr(controls, "reflow", lambda *a, **k: (walks.append(a[1]), real(*a, **k))[1])
    for press in (win.zoom_out, win.zoom_in, win.zoom_out, win.zoom_in):
        walks.clear()
        _press(qtbot, win, press)
        assert win.controls.narrowed
        # one per cap the press met (the window's width may change once while it lays out)
        assert len(walks) == len(set(walks)) <= 2, (press.__name__, walks)
    assert win.controls.horizontalScrollBar().maximum() > 0  # (too wide for the column)


def test_projector_mode_draws_no_hidden_schedule_and_reflows_no_hidden_controls(
        many_runs, qtbot, monkeypatch):
    """Projector mode's first toggle took ~240 ms with 26 runs: it drew a schedule panel
    for the side column (two curves per run) on a race without schedules, where the panel
    does not show, and reflowed the hidden controls' rows for the full screen's width.
    Now the panel draws when it shows, and the controls fit when their dock shows again."""
    from gdviz.core.schedules import make_schedule
    from gdviz.ui.panels import controls

    win = many_runs
    reflows = []
    real = controls.reflow
    monkeypatch.setattr(controls, "reflow", lambda *a, **k: (reflows.append(1), real(*a, **k))[1])
    pic = win.picture
    _press(qtbot, win, lambda: win.set_projector(True))
    view = pic.schedule_view
    assert view is not None and not view.isVisible()
    assert (view.redraws, len(view.curves)) == (0, 0)
    assert reflows == []
    # a schedule given meanwhile: the panel shows, drawn once, every run's curve
    win.session.set_schedule(None, make_schedule("one-cycle"))
    _flush()
    _settle(qtbot, win)
    assert view.isVisible()
    assert (view.redraws, len(view.curves)) == (1, len(win.session.specs))
    # back: the controls fit their column again (nothing scrolls sideways)
    _press(qtbot, win, lambda: win.set_projector(False))
    assert reflows
    assert win.controls.horizontalScrollBar().maximum() == 0
    assert win.controls.minimumWidth() <= win.controls_dock.maximumWidth()


def test_a_press_resizes_no_widget_before_its_settle_event(window, qtbot):
    """The press only restyles: no widget is laid out (resized) before its settle event.
    (Its status-bar note, shown in the press, laid the whole window out there: Qt lays out
    a shown widget's ancestors at once, ~25 ms of a Ctrl+- on L21 with 16 networks.)"""
    from PySide6.QtWidgets import QApplication, QDockWidget

    from gdviz.core.scene import preset_path

    win = window
    assert win.open_scene(preset_path("L21"))
    s = win.session
    s.pause()
    for i in range(6):
        s.add_run(s.specs[i % len(s.specs)])
    s.pause()
    win.resize(1067, 600)
    win.set_font_scale(1.1, announce=False)
    _settle(qtbot, win)
    watched = [win.picture, win.loss_view, win.landscape_view, win.controls,
               *win.findChildren(QDockWidget)]
    for press in (win.zoom_out, win.zoom_in, win.zoom_out, win.zoom_in):
        counts = [_Count(QEvent.Type.Resize) for _ in watched]
        for w, c in zip(watched, counts):
            w.installEventFilter(c)
        press()
        assert [c.n for c in counts] == [0] * len(watched), press.__name__
        QApplication.sendPostedEvents()  # its settle event: the layout
        for w, c in zip(watched, counts):
            w.removeEventFilter(c)
        _settle(qtbot, win)
