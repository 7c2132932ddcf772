"""One refresh per view per change (issue 10, item 11): a scene's restore sends several
signals (problem, runs, settings, selection, stepped) and a window-wide change adds its own
events and layout passes; each view refreshes once, when the change has settled, and shows
the model when the call returns."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QSpinBox

from gdviz.core.scene import preset_path
from gdviz.ui.views import refresh
from measure_common import flush as _flush  # noqa: E402 (tests/ui/conftest.py: on sys.path)


# ---------------------------------------------------------------------------- the mechanism
class _FakeSession:
    """A session's side of :func:`refresh.later`: ``notifying`` and ``settled``."""

    def __init__(self):
        from psygnal import Signal, SignalInstance

        self.notifying = False
        self.settled = SignalInstance(Signal().signature)

    def change(self, body):
        self.notifying = True
        try:
            body()
        finally:
            self.notifying = False
        self.settled.emit()


def test_later_runs_at_once_outside_a_change_and_once_at_its_end_inside():
    s = _FakeSession()
    calls = []
    a = lambda: calls.append("a")  # noqa: E731
    b = lambda: calls.append("b")  # noqa: E731
    refresh.later(s, a)
    assert calls == ["a"]
    calls.clear()

    def body():
        for _ in range(4):
            refresh.later(s, a)
        refresh.later(s, b)
        refresh.later(s, lambda: calls.append("layout"), layout=True)  # goes first
        assert calls == []

    s.change(body)
    assert calls == ["layout", "a", "b"]
    assert not refresh.pending()


def test_a_changes_deadline_counts_from_its_start_and_ends_with_it(monkeypatch):
    """What a change waits for (the map's live slice) waits until the change has taken
    its budget, counted from the change's start, not from the wait: a lesson or the
    language that took 60 ms of its own waited 40 ms more beside a busy map worker."""
    import time

    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    s = _FakeSession()
    seen = []
    assert refresh.deadline(0.07) == pytest.approx(100.07)  # (outside a change: from now)
    with refresh.held():
        now[0] = 100.05
        with refresh.held():  # (nested: the outermost's start)
            now[0] = 100.06
            refresh.later(s, lambda: seen.append(refresh.deadline(0.07)), last=True)
    assert seen == [pytest.approx(100.07)]
    now[0] = 200.0
    assert refresh.deadline(0.07) == pytest.approx(200.07)  # (it ended with the change)

    def body():  # a session's change outside a held block: from its first refresh asked
        refresh.later(s, lambda: None)
        now[0] = 200.04
        refresh.later(s, lambda: seen.append(refresh.deadline(0.07)), last=True)

    s.change(body)
    assert seen[-1] == pytest.approx(200.07)
    now[0] = 300.0
    assert refresh.deadline(0.07) == pytest.approx(300.07)
    # a restyle's refreshes wait across turns (hold): their start ends when they run
    refresh.hold()
    refresh.later(s, lambda: seen.append(refresh.deadline(0.07)))
    now[0] = 300.5
    refresh.release()
    assert seen[-1] == pytest.approx(300.07)
    now[0] = 400.0
    assert refresh.deadline(0.07) == pytest.approx(400.07)


def test_a_last_refresh_runs_after_every_other_even_those_asked_for_after_it():
    """What a view collects from its worker (the map's live slice) waits for the change's
    other refreshes, which overlap the worker: a lesson's turn waited for L9's slice inside
    the signal, then did 70-100 ms of its own work."""
    s = _FakeSession()
    calls = []

    def view_b():
        calls.append("b")
        refresh.later(s, lambda: calls.append("c"))  # asked for during the flush

    def body():
        refresh.later(s, lambda: calls.append("collect"), last=True)
        refresh.later(s, lambda: calls.append("a"))
        refresh.later(s, view_b)
        refresh.later(s, lambda: calls.append("layout"), layout=True)

    s.change(body)
    assert calls == ["layout", "a", "b", "c", "collect"]
    calls.clear()
    refresh.later(s, lambda: calls.append("now"), last=True)  # outside a change: at once
    assert calls == ["now"] and not refresh.pending()


def test_held_waits_for_the_outermost_and_a_failing_refresh_does_not_stop_the_others():
    s = _FakeSession()
    calls = []

    def bad():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        with refresh.held():
            with refresh.held():
                refresh.later(s, bad)
                refresh.later(s, lambda: calls.append(1))
            s.change(lambda: None)  # a change settles inside: still held
            assert calls == []
    assert calls == [1]
    assert not refresh.pending()


def _turns(until, most: int = 30) -> int:
    """Turns of the event loop until ``until()``; how many it took."""
    from PySide6.QtWidgets import QApplication

    for k in range(most):
        if until():
            return k
        QApplication.processEvents()
    waiting = [getattr(fn, "__qualname__", repr(fn))
               for d in (refresh._layout, refresh._views, refresh._last) for fn in d]
    raise AssertionError(f"still waiting after {most} turns; refreshes waiting: {waiting}, "
                         f"spread: {refresh._spread_left}")


def test_a_budget_spreads_a_changes_refreshes_over_turns_of_the_event_loop(qapp, monkeypatch):
    """A change of a session with a budget (the app's window) runs its refreshes until
    the change has taken the budget, then one turn after another: at least one view a
    turn, the layout's never left; a refresh asked for meanwhile waits its turn; another
    session's change (an export's frame) runs everything at once."""
    import time

    now = [10.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    s, other = _FakeSession(), _FakeSession()
    refresh.set_budget(s, 0.03)
    calls = []

    def view(name, ms):
        def fn():
            calls.append(name)
            now[0] += ms / 1e3
        fn.__name__ = name
        return fn

    a, b, c, d = view("a", 20), view("b", 20), view("c", 50), view("d", 1)
    try:
        def body():
            for fn in (a, b, c, d):
                refresh.later(s, fn)
            refresh.later(s, view("layout", 40), layout=True)

        s.change(body)
        # the layout's (40 ms, over the budget) and one view at least; then the budget's
        assert calls == ["layout", "a"] and refresh.pending()
        refresh.later(s, view("e", 1))  # outside a change: waits its turn (after d)
        assert calls == ["layout", "a"]
        # the next turn: b (20 ms, within the budget), then c (50 ms: past it)
        assert _turns(lambda: calls[-1:] == ["c"]) == 1
        assert calls == ["layout", "a", "b", "c"] and refresh.pending()
        assert _turns(lambda: not refresh.pending()) == 1  # d and e: 1 ms each
        assert calls == ["layout", "a", "b", "c", "d", "e"]
        calls.clear()
        # another session (no budget) runs what waits, and its own, in its change's turn
        s.change(lambda: [refresh.later(s, fn) for fn in (a, b, c)])
        assert calls == ["a", "b"]
        other.change(lambda: refresh.later(other, view("x", 90)))
        assert calls == ["a", "b", "c", "x"] and not refresh.pending()
        # a grab of the window: what waits runs at once
        calls.clear()
        s.change(lambda: [refresh.later(s, fn) for fn in (a, b, c)])
        refresh.finish()
        assert calls == ["a", "b", "c"] and not refresh.pending()
        _turns(lambda: True)  # (the timer's turn finds nothing to do)
        assert calls == ["a", "b", "c"]
    finally:
        refresh.set_budget(s, None)
    calls.clear()
    s.change(lambda: [refresh.later(s, fn) for fn in (a, b, c, d)])
    assert calls == ["a", "b", "c", "d"]  # (no budget: all in the change's turn)


# ---------------------------------------------------------------------------- the window
@pytest.fixture
def classifier_window(window):
    """The window on L21 (a classifier: plane, network) with extra runs, paused."""
    win = window
    _flush()
    assert win.open_scene(preset_path("L21"))
    s = win.session
    s.pause()
    for i in range(4):
        s.add_run(s.specs[i % len(s.specs)])
    s.pause()
    _flush()
    return win


def test_a_restore_computes_the_plane_once_and_every_view_shows_the_model(
        classifier_window, monkeypatch):
    win = classifier_window
    s = win.session
    from gdviz.ui.views import loss_view, plane_view

    pictures, feeds = [], []
    orig_pic, orig_feed = plane_view.plane_picture, loss_view.LossView._feed
    monkeypatch.setattr(plane_view, "plane_picture",
                        lambda *a, **k: (pictures.append(1), orig_pic(*a, **k))[1])
    monkeypatch.setattr(loss_view.LossView, "_feed",
                        lambda self, *a: (feeds.append(self), orig_feed(self, *a))[1])
    state = s.snapshot()
    s.step(5)
    _flush()
    pictures.clear()
    feeds.clear()
    s.restore(state)  # one change: problem, runs, settings, selection, stepped
    # (before: the plane computed its picture 3-4 times, the loss curves were fed 3 times)
    assert len(pictures) == 1
    assert feeds.count(win.loss_view) == 1
    _assert_current(win)


def test_a_step_after_a_window_wide_change_is_drawn(classifier_window):
    """A view marked stale and not refreshed would keep the old picture: each step, each
    language and each scene shows the model when the call returns. (A language's restyle
    refreshes wait for its settle, a turn later; a step meanwhile runs them.)"""
    win = classifier_window
    s = win.session
    for name, act in (("step", lambda: s.step(3)), ("language", lambda: win.set_language("zh-Hant")),
                      ("step", lambda: s.step(2)), ("theme", lambda: win.set_theme("dark")),
                      ("step", lambda: s.step_back()), ("resize", lambda: win.resize(1024, 600)),
                      ("step", lambda: s.step(4)), ("language", lambda: win.set_language("en")),
                      ("step", lambda: s.step(1))):
        act()
        if name == "language":  # (its restyle's refreshes wait for the settle)
            assert refresh.holding()
        elif name == "step":  # (a change of the model runs what waited)
            assert not refresh.pending() and not refresh.holding()
        else:
            assert not refresh.pending() or refresh.holding()
        _assert_current(win)
        _flush()


def _assert_current(win):
    """The plane, the loss curves and the map show the session's step ``t``."""
    s = win.session
    pv = win.picture.plane_view
    assert pv.isVisible()
    P = np.array(s.positions(), dtype=np.float64)
    runs = [r for r in range(s.n_runs) if s.run_enabled(r)]
    acc = s.problem.accuracy(P[runs], "train")
    assert [pv.last_accuracy[r][0] for r in runs] == pytest.approx(list(acc))
    assert pv._key is not None and pv._key[0] == P.tobytes()
    lv = win.loss_view
    assert lv.t_line.value() == s.t
    for r in range(s.n_runs):
        if s.run_enabled(r):
            x, _ = lv.curves[r].get_data()
            assert len(x) and x[-1] == pytest.approx(min(s.t, s.runset.last_step(r)))
    # the map's heads are the runs' positions now
    heads = win.landscape_view._last_heads[0]
    alive = [r for r in runs if np.isfinite(P[r]).all() and r not in dict(s.diverged())]
    assert len(heads) == len(alive)


def test_a_refresh_asked_during_a_flush_runs_once_in_that_flush():
    """A layout's refresh that resizes a view (the picture shows the fit panel) marks it
    stale; the view refreshes once, later in the same flush, not at once inside the
    layout's refresh and again for the change."""
    s = _FakeSession()
    calls = []

    def view():
        calls.append("view")

    def layout():
        calls.append("layout")
        refresh.later(s, view)  # (a resize of the view)
        assert calls == ["layout"]

    def body():
        refresh.later(s, layout, layout=True)
        refresh.later(s, view)

    s.change(body)
    assert calls == ["layout", "view"]
    assert not refresh.pending()


def test_flush_of_the_layout_alone_leaves_the_views_waiting():
    s = _FakeSession()
    calls = []
    with refresh.held():
        refresh.later(s, lambda: calls.append("view"))
        refresh.later(s, lambda: calls.append("layout"), layout=True)
        refresh.flush(views=False)
        assert calls == ["layout"]
    assert calls == ["layout", "view"]


@pytest.mark.parametrize("lesson", ["L13", "L8", "L19"])
def test_a_lesson_draws_the_fit_panel_and_the_schedule_once(window, monkeypatch, lesson):
    """A lesson's restore reached the fit panel through five signals and the panel's
    resizes while the window laid out: it redrew its curves and rebuilt its legend about
    seven times, the schedule drew three times. Now: one refresh each, and the picture is
    the model's."""
    from gdviz.ui.views import fit_view, schedule_view

    win = window
    assert win.open_scene(preset_path("L4"))
    win.session.pause()
    _flush()
    counts = {"fit": 0, "legend": 0, "schedule": 0}
    orig_step = fit_view.FitView._on_stepped
    orig_legend = fit_view.FitView._build_legend
    orig_follow = schedule_view.ScheduleView.follow_session

    def count(name, fn):
        def wrapped(self, *a):
            counts[name] += 1
            return fn(self, *a)
        return wrapped

    monkeypatch.setattr(fit_view.FitView, "_on_stepped", count("fit", orig_step))

    def build_legend(self):
        before = self._legend_built
        orig_legend(self)
        counts["legend"] += self._legend_built is not before  # (built, not the same again)

    monkeypatch.setattr(fit_view.FitView, "_build_legend", build_legend)
    monkeypatch.setattr(schedule_view.ScheduleView, "follow_session",
                        count("schedule", orig_follow))
    monkeypatch.setattr(win.session, "play", lambda *a, **k: None)  # no frames to count
    assert win.open_scene(preset_path(lesson))
    assert counts["fit"] == 1
    # (the legend: for the new entries, and once more if the panel's size settles after
    # its refresh, at most)
    assert counts["legend"] <= 2
    assert counts["schedule"] <= 1
    assert not refresh.pending()
    fv = win.fit_view
    s = win.session
    assert fv.isVisible() and len(fv.run_curves) == s.n_runs
    assert [c.isVisible() for c in fv.run_curves] == [s.run_enabled(r)
                                                      for r in range(s.n_runs)]


@pytest.mark.parametrize("before,lesson,norm", [("L4", "L13", True), ("L13", "L9", False)])
def test_a_lesson_builds_the_loss_key_once(window, monkeypatch, before, lesson, norm):
    """Into or out of a weight-decay lesson the loss panel's ‖w‖₂ comes or goes: its key
    was built for the new runs without (or with) it, then again by the step that
    switched ‖w‖₂. Now once, with what the lesson shows."""
    from gdviz.ui.views import loss_view

    win = window
    assert win.open_scene(preset_path(before))
    win.session.pause()
    _flush()
    built = []
    orig = loss_view.LossView._rebuild_key
    monkeypatch.setattr(loss_view.LossView, "_rebuild_key",
                        lambda self: (built.append(1), orig(self)))
    monkeypatch.setattr(win.session, "play", lambda *a, **k: None)
    assert win.open_scene(preset_path(lesson))
    _flush()
    lv = win.loss_view
    assert lv.norm_on is norm
    assert len(built) == 1
    assert len(lv.legend.items) == 2 * win.session.has_validation + norm


def test_a_new_network_size_computes_the_plane_once_after_its_layout(classifier_window,
                                                                     monkeypatch):
    """The spin box's units on L21: the thumbnails' column (hidden beside the network
    picture) is not shown first, so the plot keeps its width and the plane is drawn once,
    also through the layout pass that follows (it was drawn twice: once per width)."""
    win = classifier_window
    s = win.session
    from gdviz.ui.views import plane_view

    pictures = []
    orig = plane_view.plane_picture
    monkeypatch.setattr(plane_view, "plane_picture",
                        lambda *a, **k: (pictures.append(1), orig(*a, **k))[1])
    units = s.data.units
    spin = win.controls.findChild(QSpinBox, "unitsSpin")
    for value in (units + 3, units):
        pictures.clear()
        spin.setValue(value)
        _flush()
        assert s.data.units == value
        assert len(pictures) == 1
    _assert_current(win)


def test_a_new_fit_draws_the_fit_panel_once(window, monkeypatch):
    """K on L8 (a new problem: problem, runs, settings and stepped go out): every run's
    curve, the fit-by-hand loss and the legend are drawn once (four, three and two times
    before)."""
    from gdviz.ui.panels import data_panel
    from gdviz.ui.views import fit_view

    win = window
    assert win.open_scene(preset_path("L08"))
    s = win.session
    s.pause()
    for i in range(3):
        s.add_run(s.specs[i % len(s.specs)])
    _flush()
    calls = {"curves": 0, "loss": 0}
    orig_stepped, orig_params = fit_view.FitView._on_stepped, data_panel.DataPanel._sync_params

    def stepped(self):
        calls["curves"] += 1
        orig_stepped(self)

    def params(self):
        calls["loss"] += 1
        orig_params(self)

    monkeypatch.setattr(fit_view.FitView, "_on_stepped", stepped)
    monkeypatch.setattr(data_panel.DataPanel, "_sync_params", params)
    fv = win.fit_view
    for k in (s.data.units + 2, s.data.units):
        calls.update(curves=0, loss=0)
        legends = fv.legend_builds
        assert s.update_data(units=k)
        assert calls == {"curves": 1, "loss": 1}
        # a new set of entries measures its forms once (at most the three of a text size
        # and the one kept); the texts-keyed cache of the fitctl3 branch is not kept (its
        # panels were torn down in an order that asked a dead label for its size)
        assert fv.legend_builds - legends <= 4
        P = s.positions()
        want = s.problem.model.predict(P[0], fv.xs)
        assert np.allclose(fv.run_curves[0].getData()[1], want, equal_nan=True)
    _flush()


def test_a_scrub_of_a_window_with_a_budget_shows_the_model_turn_by_turn(classifier_window):
    """The app's window (a budget: :func:`gdviz.ui.app.spread_refreshes`), here of 0 s:
    a scrub refreshes one view in its own turn, the others in the turns after, and its
    plots paint one per turn; once they have run, every view shows the step, as without
    a budget. A grab shows the step at once."""
    win = classifier_window
    s = win.session
    s.step(6)
    _flush()
    refresh.set_budget(s, 0.0)
    try:
        s.scrub(2)
        assert refresh.pending()  # (the views after the first one: in later turns)
        assert win.staggered.pending()  # (the plots' paints: one per turn)
        turns = _turns(lambda: not refresh.pending() and not win.staggered.pending())
        assert turns >= 2
        _assert_current(win)
        s.step_back()
        assert refresh.pending()
        win.grab()  # (a grab: everything now)
        assert not refresh.pending() and not win.staggered.pending()
        _assert_current(win)
    finally:
        refresh.set_budget(s, None)
    s.scrub(5)  # (without a budget: every view when the call returns)
    assert not refresh.pending()
    _assert_current(win)


def test_a_window_wide_change_with_a_budget_spreads_its_views_after_its_layout(
        classifier_window, monkeypatch):
    """A problem switched in the controls (two turns: the session, then the layout and the
    views' refreshes in the window's settle) with a budget: the settle lays out, then
    refreshes the views within the budget counted from its start, the rest in the turns
    after; then every view shows the model, as without a budget."""
    win = classifier_window
    s = win.session
    panel = win.controls.problem
    combo = panel.combo
    panel._on_combo_activated(combo.findData("@fit"))
    _turns(lambda: not refresh.pending() and win.layout_settled())
    spreads = []
    orig = refresh._spread
    monkeypatch.setattr(refresh, "_spread", lambda budget: (spreads.append(budget), orig(budget)))
    refresh.set_budget(s, 0.0)
    try:
        panel._on_combo_activated(combo.findData("@classify"))
        assert s.kind == "classify" and refresh.pending()  # (the views: in the settle)
        _turns(lambda: not refresh.pending() and not win.staggered.pending()
               and win.layout_settled())
        assert spreads  # (the settle's views: over turns)
        _assert_current(win)
    finally:
        refresh.set_budget(s, None)


def test_a_theme_with_a_budget_restyles_its_views_over_turns(classifier_window):
    """View ▸ Theme in the app's window (a budget, here of 0 s): the palette reaches every
    widget in the press, and the plots' restyles are refreshes of their own, within the
    change's budget, the rest in the turns after (L21 with 16 networks at 300 % text: the
    map's 25 ms, the loss curves', the plane's, the schedule's, all in the press, 55-88 ms);
    then every plot has the new theme's background, and shows the model."""
    from PySide6.QtGui import QColor

    from gdviz.ui import theme

    win = classifier_window
    s = win.session
    s.step(4)
    _flush()
    views = (win.landscape_view, win.loss_view, win.picture.plane_view.plot)
    refresh.set_budget(s, 0.0)
    try:
        for name in ("dark", "light"):
            win.set_theme(name)
            assert refresh.pending()  # (the views after the first: in later turns)
            # (a view a turn, each plot's paint a turn: well within 200)
            _turns(lambda: not refresh.pending() and not win.staggered.pending(), 200)
            want = QColor(theme.palette(name)["background"])
            for v in views:
                assert v.backgroundBrush().color() == want, (name, type(v).__name__)
            _assert_current(win)
    finally:
        refresh.set_budget(s, None)
        win.set_theme("light")


def test_a_resize_with_a_budget_spreads_its_views_after_its_layout(
        classifier_window, monkeypatch):
    """The window resized (full screen, a teacher's drag) in the app's window (a budget,
    here of 0 s): the layout in the resize's settle, then the views' refreshes within
    the budget, the rest in the turns after; then every view shows the model."""
    win = classifier_window
    s = win.session
    s.step(3)
    _flush()
    spreads = []
    orig = refresh._spread
    monkeypatch.setattr(refresh, "_spread", lambda budget: (spreads.append(budget), orig(budget)))
    refresh.set_budget(s, 0.0)
    try:
        for dw, dh in ((-160, -80), (160, 80)):
            spreads.clear()
            win.resize(win.width() + dw, win.height() + dh)
            _turns(lambda: not refresh.pending() and not win.staggered.pending()
                   and win.layout_settled(), 200)
            assert spreads  # (the views: over turns)
            _assert_current(win)
    finally:
        refresh.set_budget(s, None)


def test_a_scene_of_the_same_network_keeps_the_planes_thumbnails(classifier_window, tmp_path):
    """A scene of the same network opened again (the fuzz's saved L21): the plane's
    neuron thumbnails keep their labels, and show the opened runs' neurons."""
    win = classifier_window
    s = win.session
    pv = win.picture.plane_view
    s.step(5)
    _flush()
    path = tmp_path / "same.toml"
    assert win.save_scene(path)
    labels = list(pv.thumbs)
    assert labels
    assert win.open_scene(path)
    _flush()
    assert pv.thumbs == labels  # (the same QLabel objects)
    s.pause()  # (the scene plays on open: paused, the plane draws the step at once)
    _flush()
    assert len(pv._thumb_rgba) == len(labels)
    assert all(not lab.pixmap().isNull() for lab in labels)


def test_a_view_behind_at_a_race_stop_inside_a_change_draws_once_it_settles(session):
    """A view that sat out the race's last frame (its turn) draws the displayed step when
    the race stops: once the change has settled (a scene opened over a playing race),
    with the change's other refreshes, not in the middle of its signals."""
    from gdviz.ui.views.turns import Turn

    s = session
    seen = []
    turn = Turn(s, 0, lambda: seen.append((s.notifying, s.playing)))
    s.playing_changed.connect(turn.on_playing_changed)
    s.play()
    turn.behind = True  # (it sat out the last playing frame)
    s.pause()
    assert seen == [(False, False)]  # once, after the change's signals went out
    assert not turn.behind
