"""Window-wide changes lay out to the end before they return, and the window paints once
(issue 10, item 11): a lesson, a resize, the language. Painted between layout passes, a
lesson's map was rasterised three times, at three sizes, before it settled."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from gdviz.core.scene import preset_path
from gdviz.ui.views.raster_item import RasterLines, RasterStroke
from measure_common import flush as _flush  # noqa: E402 (tests/ui/conftest.py: on sys.path)


@pytest.fixture
def renders(monkeypatch):
    """The sizes (w, h) the map's contours were rasterised at, in order (not the fit
    panel's run curves, drawn by the same rasteriser)."""
    sizes: list[tuple[int, int]] = []
    orig = RasterLines._render

    def counted(self, tr, ox, oy, w, h, dpr):
        if not isinstance(self, RasterStroke):
            sizes.append((w, h))
        return orig(self, tr, ox, oy, w, h, dpr)

    monkeypatch.setattr(RasterLines, "_render", counted)
    return sizes


def _geometry(win) -> dict:
    """The sizes of the parts a window-wide change moves."""
    pic = win.picture
    parts = {"map": pic.landscape_view, "fit": pic.fit_view, "caption": pic.caption,
             "splitter": pic.splitter, "controls": win.controls_dock, "loss": win.loss_dock}
    return {k: (w.isVisible(), w.size().toTuple()) for k, w in parts.items()}


@pytest.mark.parametrize("lesson", ["L03", "L13", "L21"])
def test_a_lesson_is_laid_out_when_it_returns_and_its_map_rasterised_once(window, renders, lesson):
    win = window
    _flush()
    assert win.open_scene(preset_path("default_rosenbrock_race"))
    _flush()
    win.session.pause()
    _flush()
    renders.clear()
    assert win.open_scene(preset_path(lesson))
    win.session.pause()
    laid_out = _geometry(win)
    _flush()
    # nothing moved after the open returned: the first paint was at the final geometry
    assert _geometry(win) == laid_out
    # the map shows and was drawn once, at its size (before: 3 times, at 3 sizes)
    assert laid_out["map"][0]
    assert len(renders) == 1, renders
    # and the views follow the model: the caption shows the lesson
    assert win.caption.isVisible() and win._scene.title.get(win.language) in win.caption.text()


def _lesson_action(win, code: str):
    win.lessons_menu.aboutToShow.emit()
    return next(a for a in win.lessons_menu.actions() if a.text().startswith(code + " "))


def test_a_lesson_from_the_menu_settles_in_the_next_event_before_any_other(window, renders):
    """The Lessons menu opens a lesson in two turns of the event loop: the session (and
    the panels that follow it) in the click's, the layout and the views' refreshes in the
    next, a posted event of high priority that comes before any paint, timer or input;
    then the window paints once, at its final geometry. (In one turn, L19 at 261 % text
    on 1920x1080 blocked the window for 60-150 ms.)"""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    from gdviz.ui.main_window import _SETTLE_EVENT
    from gdviz.ui.views import refresh

    win = window
    _flush()
    _lesson_action(win, "L12").trigger()
    _flush()
    win.session.pause()
    _flush()
    renders.clear()
    _lesson_action(win, "L3").trigger()
    # the model now: the session holds the lesson, its panels follow
    assert win._scene.meta.lesson == "L03" and win.session.kind == "regression"
    # the views' refreshes and the layout wait for the settle (before: all in the click)
    assert refresh.pending() and not win.layout_settled() and renders == []

    seen: list[str] = []

    class Watch(QObject):
        def eventFilter(self, obj, ev):  # noqa: N802 - Qt API
            t = ev.type()
            if t == _SETTLE_EVENT:
                seen.append("settle")
            elif t in (QEvent.Type.UpdateRequest, QEvent.Type.Paint, QEvent.Type.Timer,
                       QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress):
                seen.append(t.name)
            return False

    watch = Watch()
    app = QApplication.instance()
    app.installEventFilter(watch)
    try:
        _flush()
    finally:
        app.removeEventFilter(watch)
    assert seen and seen[0] == "settle", seen[:5]
    assert seen.count("settle") == 1
    # settled: laid out, refreshed once, the map drawn once at its final size
    assert not refresh.pending() and win.layout_settled()
    win.session.pause()  # (a change of the model: its refreshes run at once)
    assert not refresh.pending()
    laid_out = _geometry(win)
    _flush()
    assert _geometry(win) == laid_out and laid_out["map"][0]
    assert len(renders) == 1, renders
    assert win._scene.title.get(win.language) in win.caption.text()


def test_a_window_closed_before_its_lesson_settles_leaves_no_refresh_waiting(window):
    from gdviz.ui.views import refresh

    win = window
    _flush()
    _lesson_action(win, "L9").trigger()
    assert refresh.pending()
    win.close()
    assert not refresh.pending() and not win._settle_posted
    _flush()  # (the settle's event, if it comes, finds nothing left)
    assert not refresh.pending()


def test_a_lesson_sends_its_live_slice_to_the_worker_once(window, monkeypatch):
    """A lesson's slice is sent with its problem and collected at the end of its change.
    Its first step, before that, found the map's picture stale and sent the same slice
    again whenever the worker had finished the first (a loaded machine): the map drew
    twice, after the first paint."""
    from gdviz.ui.views import live_grid
    from gdviz.ui.views.landscape_view import LandscapeView

    win = window
    _flush()
    assert win.open_scene(preset_path("default_rosenbrock_race"))
    _flush()
    sent = []
    real_submit = live_grid.LiveGridWorker.submit
    monkeypatch.setattr(live_grid.LiveGridWorker, "submit",
                        lambda w, job, fn: (sent.append(job[1]), real_submit(w, job, fn))[1])
    real_update = LandscapeView._update_live_surfaces

    def update(view):  # the worker done with what it has, as on a loaded machine
        w = view._live_worker
        if w is not None:
            with w._lock:
                w._lock.wait_for(lambda: not w._busy, timeout=10)
        real_update(view)

    monkeypatch.setattr(LandscapeView, "_update_live_surfaces", update)
    assert win.open_scene(preset_path("L13"))
    win.session.pause()
    _flush()
    assert len(sent) == len(set(sent)), len(sent)  # each step's slice once


def test_a_resize_lays_out_the_docks_before_the_first_paint(window, renders):
    win = window
    _flush()
    renders.clear()
    win.resize(1024, 600)
    # laid out in the resize's settle event, the next event the window gets (posted at a
    # high priority: before the resize's layout requests and its paint)
    assert not win.layout_settled()
    QApplication.sendPostedEvents(win._settler)
    laid_out = _geometry(win)
    _flush()
    assert _geometry(win) == laid_out
    assert len(renders) == 1, renders
    # the controls column is within its share of the new width
    from gdviz.ui.main_window import CONTROLS_SHARE

    assert win.controls_dock.width() <= max(int(1024 * CONTROLS_SHARE), 160)


def test_one_paint_nests_and_lays_out_once_at_the_outermost(window, monkeypatch):
    win = window
    _flush()
    calls = []
    orig = win._lay_out_now
    monkeypatch.setattr(win, "_lay_out_now", lambda: (calls.append(1), orig()))
    with win.one_paint():
        win.set_language("zh-Hant")  # itself a window-wide change
        win.set_theme("dark")
        assert calls == []
    assert calls == [1]
    # every view follows: menus and the theme are the new ones
    from gdviz.core.i18n import tr

    assert win.view_menu.title() == tr("view", "zh-Hant")
    assert win.theme_actions["dark"].isChecked() and win.session.theme == "dark"
    win.set_language("en")


def test_a_panel_toggle_that_changes_nothing_repaints_nothing(window, renders):
    """one_paint does not hold and force repaints: a change with nothing to show
    (the fit panel, on a surface) leaves the map's picture as it was."""
    win = window
    _flush()
    renders.clear()
    assert not win.session.is_data
    win.panel_actions["fit"].trigger()
    _flush()
    win.panel_actions["fit"].trigger()
    _flush()
    assert renders == []


def test_a_lesson_on_a_basin_map_is_laid_out_for_the_map_before_its_first_pass(window, renders,
                                                                               qtbot):
    """L16 opens on a basin map, computed on a worker: the plot is laid out as it will be
    with the map (no colour bar, the map's title) when the open returns, not when the
    map's first pass comes (a pass after the first paint: the plot widened and its
    contours were rasterised a second time, at the new width)."""
    win = window
    view = win.picture.landscape_view
    layer = view.map_layer
    _flush()
    assert view.colorbar.isVisible()  # the default race: a heatmap and its bar
    renders.clear()
    assert win.open_scene(preset_path("L16"))
    win.session.pause()
    assert view.heatmap_visible and not view.colorbar.isVisible()
    assert layer.title and layer.title in view.plot_item.titleLabel.text
    plot = view.plot_item.geometry()
    _flush()
    qtbot.waitUntil(lambda: layer.result is not None, timeout=60000)
    _flush()
    assert layer.image.isVisible()
    assert view.plot_item.geometry() == plot
    assert len(renders) == 1, renders
    # without the map (off), the bar comes back at once
    win.session.set_map_options(map_layer="off")
    assert view.colorbar.isVisible()


def test_a_panel_toggle_paints_each_plot_it_resizes_once(window):
    """A plot that a panel shown or hidden resizes takes its scene's changes before the
    toggle returns, and is painted once. Left to its paint, pyqtgraph moved the plot's
    items then and asked for a second paint: the fit panel and the map were painted twice
    per toggle (L9 with 12 runs at 1920x1080: ~100 ms of one turn)."""
    from PySide6.QtCore import QEvent, QObject

    win = window
    assert win.open_scene(preset_path("L09"))
    win.session.pause()
    _flush()
    pic = win.picture
    plots = {"map": pic.landscape_view, "fit": pic.fit_view}
    counts: dict[str, int] = {}

    class Paints(QObject):
        def eventFilter(self, obj, ev):  # noqa: N802 - Qt name
            if ev.type() == QEvent.Type.Paint:
                for name, view in plots.items():
                    if obj is view.viewport():
                        counts[name] = counts.get(name, 0) + 1
            return False

    paints = Paints()
    for view in plots.values():
        view.viewport().installEventFilter(paints)
    for on in (False, True):  # the caption hidden, then shown again
        counts.clear()
        sizes = {k: v.viewport().size() for k, v in plots.items()}
        win.panel_actions["caption"].setChecked(on)
        _flush()
        assert all(v.viewport().size() != sizes[k] for k, v in plots.items())
        assert counts == {"map": 1, "fit": 1}


@pytest.mark.parametrize("scale", [1.0, 2.61])
def test_a_fit_lesson_after_one_without_axes_makes_its_legend_once(window, monkeypatch, scale):
    """L21 shows the fit panel without axes or title; L8 shows them again. Its plot's own
    layout (axes, title) came only at the lesson's last layout pass, after the legend and
    the curves were made for the bigger box: the box shrank, and they were made again (at
    261 % text the legend in another form)."""
    from gdviz.ui.views.fit_view import FitView

    win = window
    win.set_font_scale(scale)
    _flush()
    assert win.open_scene(preset_path("L21"))
    win.session.pause()
    _flush()
    fit = win.picture.fit_view
    assert not fit.plot_item.getAxis("left").isVisible()
    made = []
    real = FitView._make_legend
    monkeypatch.setattr(FitView, "_make_legend",
                        lambda v, form: (made.append((form, v.vb.size().toTuple())), real(v, form)))
    assert win.open_scene(preset_path("L08"))
    win.session.pause()
    box = fit.vb.size().toTuple()
    _flush()
    assert fit.plot_item.getAxis("left").isVisible()
    # every legend made (a form measured, the one kept) was made for the box as it stays,
    # the one kept once
    assert box == fit.vb.size().toTuple() and fit._legend_built[1:] == box
    assert made and all(size == box for _, size in made), made
    assert [form for form, _ in made].count(fit._legend_form[1]) == 1, made


def test_a_lesson_that_needs_a_wider_window_widens_it_once(window, monkeypatch, qtbot):
    """L21's controls at 261 % text need more room than L6's: on an 800 px window the
    window grows to its new minimum width. The controls' cap was a share of each new width,
    so each growth raised the cap, the minimum and the width again (805 -> 815 -> 818 ->
    819 -> 820 px), the rows reflowed at each step: ~95 ms against ~48. It grows once, the
    rows reflow once, and the cap is the share of the width the lesson found."""
    from PySide6.QtCore import QEvent, QObject

    from gdviz.ui import main_window
    from gdviz.ui.panels import controls

    win = window
    win.resize(800, 600)  # (at 100 %: a bigger text keeps the window's size)
    _flush()
    win.set_font_scale(2.61)
    qtbot.waitUntil(win.layout_settled)
    assert win.open_scene(preset_path("L06"))
    win.session.pause()
    _flush()
    before = win.width()
    widths, reflows = [], []

    class Resizes(QObject):
        def eventFilter(self, obj, ev):  # noqa: N802 - Qt API
            if ev.type() == QEvent.Type.Resize:
                widths.append(ev.size().width())
            return False

    resizes = Resizes()
    win.installEventFilter(resizes)
    real_reflow = controls.reflow
    monkeypatch.setattr(controls, "reflow", lambda *a, **k: (reflows.append(a[1]), real_reflow(*a, **k)))
    assert win.open_scene(preset_path("L21"))
    win.session.pause()
    win.removeEventFilter(resizes)
    assert win.width() > before, "(the case: L21 needs a wider window)"
    assert len(widths) == 1, widths
    assert len(reflows) == 1, reflows
    cap = max(int(before * main_window.CONTROLS_SCROLL_SHARE), 160)
    assert win.controls._width_cap in (cap, max(int(before * main_window.CONTROLS_SHARE), 160))
    _flush()
    assert win.controls.isVisible()


@pytest.mark.parametrize("click", ["copy", "add", "remove"])
def test_a_run_added_copied_or_removed_by_a_click_refreshes_the_views_in_the_next_event(window, click):
    """The runs panel's + lr×10, Add run and ✕ change the session (and the panels that
    follow it) in the click's turn, and the layout and the views' refreshes in the next,
    the window's settle, as a lesson from the menu does. (In one turn, a copy of a run with
    five starts at 55 runs took 94 ms: ~40 of them the views'.)"""
    from gdviz.ui.views import refresh

    win = window
    s = win.session
    _lesson_action(win, "L10").trigger()
    _flush()
    s.pause()
    _flush()
    panel = win.controls.runs
    n = s.n_runs
    assert n >= 2
    if click == "copy":
        panel.cards[0].dup_big.click()
    elif click == "add":
        next(a for a in panel.add_menu.actions() if a.data() == "adam").trigger()
    else:
        panel.cards[-1].remove.click()
    assert s.n_runs == n + (-1 if click == "remove" else 1) * len(s.starts)  # the model: now
    assert len(panel.cards) == s.n_specs  # (its panel follows)
    assert refresh.pending() and not win.layout_settled()  # the views: in the settle
    _flush()
    assert not refresh.pending() and win.layout_settled()
    lv = win.picture.landscape_view
    assert len(lv.legend.items) == s.n_specs and len(win.loss_view.curves) == s.n_runs


@pytest.mark.parametrize("edit", ["lr", "enabled", "noise", "seed"])
def test_an_edit_after_scrubbing_back_refreshes_the_views_in_the_next_event(window, edit):
    """A run card's slider or switch, and the noise and seed, change the session in the
    edit's turn, and the views' refreshes come in the next, the window's settle. Scrubbed
    back, an edit replaces the history from that step and every view re-feeds its runs (L21
    with 30 networks: 66-122 ms in one turn)."""
    from gdviz.ui.views import refresh

    win = window
    s = win.session
    _lesson_action(win, "L10").trigger()
    _flush()
    s.pause()
    s.step(60)
    _flush()
    s.scrub(30)
    _flush()
    card = win.controls.runs.cards[0]
    before = (s.specs[0], s.noise, s.seed)
    if edit == "lr":
        card.sliders["lr"].valueChanged.emit(s.specs[0].config.lr * 0.5)
    elif edit == "enabled":
        card.enabled.toggle()
    elif edit == "noise":
        win.controls.training.noise.valueChanged.emit(0.3)
    else:
        win.controls.training.seed.setValue(win.controls.training.seed.value() + 1)
    assert s.t <= 30 and (s.specs[0], s.noise, s.seed) != before  # the model: now (a seed: from 0)
    assert refresh.pending() and not win.layout_settled()  # the views: in the settle
    _flush()
    assert not refresh.pending() and win.layout_settled()
    shown = [c for c in win.loss_view.curves if c.isVisible()]
    assert shown and all(len(c.getData()[0]) <= 31 for c in shown)


def test_a_run_or_copy_past_the_limits_is_refused_with_a_line_and_the_demo_kept(window):
    """Add run and a card's copy past the limits (optimizers, starts x optimizers): the
    window says why in one line and keeps the demo as it was (a scene of 4,096 starts
    froze it 1.45 s)."""
    from gdviz.core.limits import MAX_RUNS

    win = window
    s = win.session
    s.pause()
    while s.add_run(s.specs[0]) >= 0:
        pass
    assert s.n_runs <= MAX_RUNS
    _flush()
    panel = win.controls.runs
    n, cards = s.n_runs, len(panel.cards)
    assert panel.add_run("adam") == -1
    panel.cards[0].dup_big.click()
    _flush()
    assert s.n_runs == n and len(panel.cards) == cards
    assert "at most" in win.message.text() and "remove a run" in win.message.text()
    s.step(5)
    _flush()
    assert s.t == 5


def test_a_theme_with_many_runs_paints_the_plots_one_per_turn_largest_first(window):
    """Painted in one turn, L21's plots with 16 networks at 200 % text blocked the window
    95-105 ms at a theme, text size or language; the largest plot paints with the window,
    then each other one in a turn of its own (62-73 ms at most)."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QGraphicsView

    from gdviz.ui import staggered

    win = window
    s = win.session
    _lesson_action(win, "L13").trigger()
    _flush()
    s.pause()
    while s.n_runs <= staggered.STAGGER_RUNS:
        s.add_run(s.specs[0])
    _flush()
    views = [v for v in win.findChildren(QGraphicsView) if v.isVisible() and v.scene()
             and not v.viewport().visibleRegion().isEmpty()]  # (not scrolled out of sight)
    assert len(views) >= 3
    views.sort(key=lambda v: -v.viewport().width() * v.viewport().height())
    painted = []

    class Seen(QObject):
        def eventFilter(self, obj, ev):  # noqa: N802 - Qt name
            if ev.type() == QEvent.Type.Paint:
                painted.append(obj)
            return False

    seen = Seen()
    for v in views:
        v.viewport().installEventFilter(seen)
    win.set_theme("dark")
    try:
        assert win.staggered.pending()
        win.repaint()  # (the window's paint: the largest plot and the rest of the window)
        assert views[0].viewport() in painted
        assert not any(v.viewport() in painted for v in views[1:])
        for v in views[1:]:
            before = set(painted)
            win.staggered._next()  # (its own turn: the timer's)
            assert v.viewport() in painted and not (set(painted) - before - {v.viewport()})
        while win.staggered.pending():  # (a plot scrolled out of sight: nothing to paint)
            win.staggered._next()
        assert not win.staggered.pending() and all(v.viewport().updatesEnabled() for v in views)
        # a grab draws every plot, also while some still wait
        win.set_theme("light")
        assert win.staggered.pending()
        win.grab()
        assert not win.staggered.pending() and all(v.viewport().updatesEnabled() for v in views)
        # a demo of a lesson's size paints in one turn, as before
        while s.n_runs > staggered.STAGGER_RUNS:
            s.remove_run(s.n_specs - 1)
        _flush()
        win.set_theme("dark")
        assert not win.staggered.pending()
    finally:
        for v in views:
            v.viewport().removeEventFilter(seen)
        win.set_theme("light")


def test_a_scene_read_aside_goes_in_and_refreshes_the_views_in_the_next_event(window, tmp_path):
    """A scene file read on the worker (over OPEN_ASIDE_BYTES) goes into the session in
    the turn that finds it read, and the window's layout and the views' refreshes come in
    the next, its settle, as an open read at once does. (In one turn, a saved L21 of 16
    networks of 4 x 32 units took 69-119 ms.)"""
    import dataclasses

    from gdviz.core.scene import preset_path
    from gdviz.ui.views import refresh

    win = window
    s = win.session
    assert win.open_scene(preset_path("L21"))
    _flush()
    s.pause()
    s.set_classify(dataclasses.replace(s.data, layers=3, units=16))
    s.step(3)
    _flush()
    path = tmp_path / "big.toml"
    assert win.save_scene(path)
    assert win.open_scene(preset_path("L4"))
    _flush()
    assert win.open_scene(path, aside=True) and win.opening == path
    win._open_job[1].result(timeout=20)
    win._poll_open()
    assert win.opening is None and s.kind == "classify" and s.data.units == 16  # now
    assert refresh.pending() and not win.layout_settled()  # the views: in the settle
    _flush()
    assert not refresh.pending() and win.layout_settled()
    assert win.picture.network_view.isVisible()


@pytest.mark.parametrize("pick", ["surface", "regression", "expression", "layers"])
def test_a_problem_picked_in_the_controls_refreshes_the_views_in_the_next_event(window, pick):
    """The problem's combo, an expression's Enter and the network's controls change the
    session in their own turn, and the views' refreshes come in the next, the window's
    settle. (In one turn, L21 with 15 networks switched to the regression in 137 ms, and
    an expression at 32 runs took 107 ms.)"""
    from gdviz.ui.views import refresh

    win = window
    s = win.session
    _lesson_action(win, "L21").trigger()
    _flush()
    s.pause()
    s.step(5)
    _flush()
    problem = win.controls.problem
    if pick == "layers":
        layers = s.data.layers
        win.controls.classify.controls["layers"].setValue(layers + 1)
        assert s.data.layers == layers + 1
    elif pick == "expression":
        problem.expr.setText("x**2 + 3*y**2")
        problem.apply_expression()
        assert s.kind == "expr"
    else:
        i = problem.combo.findData("rosenbrock" if pick == "surface" else "@regression")
        problem.combo.setCurrentIndex(i)
        problem.combo.activated.emit(i)
        assert s.kind == ("surface" if pick == "surface" else "regression")
    assert refresh.pending() and not win.layout_settled()  # the views: in the settle
    _flush()
    assert not refresh.pending() and win.layout_settled()
