"""Many runs added at once get their items a few runs a turn of the event loop (issue 10,
item 11: no action blocks the window for more than 100 ms). A start added on the map with
28 runs added 28 runs: the map and the loss panel made ~17 items a run in the click's
turn, ~130 ms. Paced (gdviz.ui.views.items.BuildPace), each view makes PACE_RUNS sets in
that turn and the rest on the turns after; an export's views make them all at once."""

from __future__ import annotations

import pytest

from gdviz.core.optimizers import make_optimizer
from gdviz.core.scene import preset_path
from gdviz.core.session import RunSpec
from gdviz.ui.picture import Picture
from gdviz.ui.views.items import PACE_RUNS
from measure_common import flush  # noqa: E402 (tests/ui/conftest.py: on sys.path)


def _specs(sess, k: int) -> None:
    while sess.n_specs < k:
        sess.add_run(RunSpec(config=make_optimizer("adam")))
    sess.pause()


def _settle(qtbot, *views) -> None:
    """The turns that make the waiting runs' sets (a 0 ms timer each), until none waits."""
    flush()
    qtbot.waitUntil(lambda: not any(v.pace.waiting for v in views), timeout=10000)
    flush()


def _check_built(win) -> None:
    """Every run has its items, in its colour, shown as its card is; the map's legend
    has one entry per shown card."""
    s = win.session
    land, loss = win.picture.landscape_view, win.loss_view
    assert len(land.trails) == len(land.halos) == len(land.diverged_labels) == s.n_runs
    assert len(loss.curves) == len(loss.val_curves) == len(loss.norm_curves) == s.n_runs
    for r in range(s.n_runs):
        color = s.run_color(r).lower()
        assert land.trails[r]._pen.color().name() == color
        assert loss.curves[r]._pen.color().name() == color
        assert land.trails[r].isVisible() == s.run_enabled(r)
    assert len(land.legend.items) == sum(sp.enabled for sp in s.specs)


def test_a_start_added_with_many_runs_builds_them_over_a_few_turns(window, qtbot):
    win = window
    s = win.session
    land, loss = win.picture.landscape_view, win.loss_view
    assert land.pace.enabled and loss.pace.enabled
    _specs(s, 12)
    _settle(qtbot, land, loss)
    _check_built(win)
    before = s.n_runs
    deferred = land.pace.deferred, loss.pace.deferred
    s.add_start(0.5, 0.5)  # 12 runs more, in this turn
    assert s.n_runs == before + 12
    # the click's turn made PACE_RUNS new sets in each view (the session's own spares:
    # none, every run so far still has its items), and shows those runs
    assert len(land.trails) == before + PACE_RUNS < s.n_runs
    assert len(loss.curves) == before + PACE_RUNS
    assert land.pace.waiting and loss.pace.waiting
    assert (land.pace.deferred, loss.pace.deferred) == (deferred[0] + 1, deferred[1] + 1)
    flush()  # the first turns draw the runs built so far: nothing reads a run's missing set
    _settle(qtbot, land, loss)
    _check_built(win)
    # the runs paced in were fed their history like the others: each has its start point
    s.step()
    flush()
    for trail in land.trails:
        x, _ = trail.get_data()
        assert x is not None and len(x) >= 1


def test_a_lesson_opened_while_runs_wait_leaves_each_view_built_for_it(window, qtbot):
    win = window
    s = win.session
    land, loss = win.picture.landscape_view, win.loss_view
    _specs(s, 12)
    _settle(qtbot, land, loss)
    s.add_start(0.5, 0.5)
    assert land.pace.waiting
    assert win.open_scene(preset_path("L03"))  # fewer runs, before the waiting ones come
    s.pause()
    _settle(qtbot, land, loss)
    _check_built(win)
    # and back to many runs
    _specs(s, 12)
    _settle(qtbot, land, loss)
    _check_built(win)


def test_an_exports_views_make_every_run_at_once(qtbot, session):
    _specs(session, 12)
    session.add_start(0.5, 0.5)
    pic = Picture(session, ("landscape", "loss"), export=True)
    qtbot.addWidget(pic)
    assert not pic.landscape_view.pace.enabled and not pic.loss_view.pace.enabled
    assert len(pic.landscape_view.trails) == len(pic.loss_view.curves) == session.n_runs
    session.add_start(-0.5, -0.5)  # and again, live: no turn waits
    assert len(pic.landscape_view.trails) == len(pic.loss_view.curves) == session.n_runs
    assert not pic.landscape_view.pace.waiting


def test_a_scene_of_many_runs_gets_its_cards_a_few_a_turn(window, qtbot, tmp_path):
    """A scene of 12 runs opened over a lesson of one: the runs panel makes PACE_CARDS
    cards in the open's turn (each ~4-7 ms at big text) and the others on the turns after;
    each card stands at its own run, in order, all along."""
    from gdviz.ui.panels.runs_panel import PACE_CARDS

    win = window
    s = win.session
    panel = win.controls.runs
    for name in ("sgd", "momentum", "rmsprop", "adam", "adagrad", "nesterov", "adamw", "sgd"):
        s.add_run(RunSpec(config=make_optimizer(name)))
    s.pause()
    flush()
    path = tmp_path / "many.toml"
    assert win.save_scene(path)
    names = [sp.config.name for sp in s.specs]
    assert len(names) == 12
    assert win.open_scene(preset_path("L03"))
    s.pause()
    flush()
    one = [sp.config.name for sp in s.specs]
    assert len(one) < PACE_CARDS
    panel._spares.clear()  # (no card kept from the runs gone: every card is made anew)
    made = panel.cards_deferred
    assert win.open_scene(path)
    s.pause()

    def in_order() -> None:
        assert [c.opt_name for c in panel.cards] == names[:len(panel.cards)]
        assert [c.i for c in panel.cards] == list(range(len(panel.cards)))
        assert all(panel.select_group.id(c.select) == c.i for c in panel.cards)

    assert len(panel.cards) < len(names)  # (the first run's card may have stayed)
    assert panel.cards_deferred == made + 1
    in_order()
    flush()
    in_order()
    qtbot.waitUntil(lambda: len(panel.cards) == len(names), timeout=10000)
    flush()
    in_order()
    assert all(c.isVisible() for c in panel.cards) or not panel.isVisible()


@pytest.fixture
def one_card_a_turn(monkeypatch):
    """The runs panel makes one new card a turn (from the window's first cards on)."""
    from gdviz.ui.panels import runs_panel

    monkeypatch.setattr(runs_panel, "PACE_CARDS", 1)


@pytest.mark.parametrize("lesson", ["L02", "L05", "L10"])
def test_cards_put_away_in_their_first_turn_never_show_as_windows(one_card_a_turn, window,
                                                                   qtbot, lesson):
    """The window's first cards made one a turn, then a lesson opened with the keyboard
    focus in a box: cards put away by the open before the show their layout had queued
    for them ran were each shown as a window of their own, and one took the focus from
    the map: Space then typed into its lr box instead of playing (with 2 cards a turn, 20
    of the 21 lessons did so). No card shows outside the panel; the focus stays out of
    the boxes."""
    from PySide6.QtCore import QEvent, QObject, QPoint, Qt
    from PySide6.QtWidgets import QApplication

    from gdviz.ui.keyboard import box_kind
    from gdviz.ui.panels.runs_panel import RunCard

    win = window
    s = win.session
    assert win.controls.runs.pace_cards == 1

    class Windows(QObject):
        shown = []

        def eventFilter(self, obj, ev):  # noqa: N802 - Qt API
            if ev.type() == QEvent.Type.Show and isinstance(obj, RunCard) and obj.isWindow():
                self.shown.append(obj.objectName())
            return False

    spy = Windows()
    QApplication.instance().installEventFilter(spy)
    try:
        box = win.controls.playback.max_steps
        win.activateWindow()
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(box.width() // 2, box.height() // 2))
        assert box_kind(QApplication.focusWidget()) is not None
        assert win.open_scene(preset_path(lesson))
        QApplication.processEvents()
        assert box_kind(QApplication.focusWidget()) is None
        qtbot.waitUntil(lambda: len(win.controls.runs.cards) == s.n_specs, timeout=10000)
        flush()
    finally:
        QApplication.instance().removeEventFilter(spy)
    assert spy.shown == []
    assert box_kind(QApplication.focusWidget()) is None
    assert all(c.isVisible() and c.parentWidget() is not None for c in win.controls.runs.cards)
    was = s.playing
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)
    assert s.playing != was


def test_a_view_builds_now_for_runs_gone_or_runs_no_turn_is_coming_for(qtbot):
    from PySide6.QtCore import QObject

    from gdviz.ui.views.items import BuildPace

    class View(QObject):
        def again(self):
            pass

    view = View()
    pace = BuildPace(view.again, view)
    assert not pace.behind(3, 3)
    assert pace.behind(4, 3)  # runs went: always now
    assert pace.behind(2, 3)  # runs came, none on its way
    pace.defer()
    assert pace.waiting and not pace.behind(2, 3)  # a turn of the pace brings them
    assert pace.behind(4, 3)
