"""Text size (View ▸ Larger/Smaller text) never breaks the window: checked with widget
geometry at the projector's 1280×720 and at 1920×1080, at 100, 150 and 200 %."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel

from gdviz.ui import theme


def _settle(qtbot, win) -> None:
    qtbot.waitUntil(win.layout_settled)
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()


def _clipped_labels(win) -> list[str]:
    """Visible labels of the window whose text does not fit their own rectangle (a label
    in a scroll area that scrolls may be wider than the viewport: it is not cut)."""
    bad = []
    for lab in win.findChildren(QLabel):
        if not lab.isVisible() or not lab.text() or lab.width() <= 1:
            continue
        w, h = lab.width(), lab.height()
        if lab.wordWrap():
            need_h, need_w = lab.heightForWidth(w), 0
        else:
            hint = lab.sizeHint()
            need_h, need_w = hint.height(), hint.width()
        if need_w > w + 1 or need_h > h + 1:
            bad.append(f"{lab.objectName() or lab.text()[:30]!r}: need {need_w}x{need_h}, has {w}x{h}")
    return bad


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
@pytest.mark.parametrize("scale", [1.0, 1.5, 2.0])
def test_text_size_keeps_the_window_whole(window, qtbot, size, scale):
    win = window
    win.resize(*size)
    _settle(qtbot, win)
    win.set_font_scale(scale)
    _settle(qtbot, win)
    # the window keeps its size: it never grows past the screen or its own size
    screen = win.screen().availableGeometry().size()
    assert win.width() <= max(screen.width(), size[0])
    assert win.height() <= max(screen.height(), size[1])
    assert (win.width(), win.height()) == size
    # the map keeps at least half of the window between its menu bar and its status bar
    # (the loss curves sit under the controls, the map has the full height)
    central = win.centralWidget()
    client = size[0] * (size[1] - win.menuBar().height() - win.statusBar().height())
    view = win.landscape_view
    assert view.width() * view.height() >= 0.5 * client
    assert view.height() >= 0.5 * central.height()
    # and the loss curves a readable plot beside it
    assert win.loss_dock.isVisible() and win.loss_view.height() >= 150
    # the plot itself keeps a real area: the axes and legends do not eat it
    vb = view.vb.sceneBoundingRect()
    assert vb.width() >= 0.5 * view.width() and vb.height() >= 0.45 * view.height()
    # every label's text fits
    assert _clipped_labels(win) == []
    # the colour bar's axis is as wide as its widest tick label
    axis = view.colorbar.axis
    if view.colorbar.isVisible():
        from PySide6.QtGui import QFontMetrics

        fm = QFontMetrics(axis.style["tickFont"])
        ticks = [s for level in axis.tickStrings and axis.tickValues(*axis.range, axis.height())
                 for s in axis.tickStrings(level[1], 1.0, level[0])]
        widest = max(fm.horizontalAdvance(t) for t in ticks)
        assert axis.width() >= widest + axis.style["tickTextOffset"][0] + axis.style["tickLength"]


def test_presses_at_big_text_on_a_fit_lesson_leave_the_window_its_size(window, qtbot):
    """L9 at 1280×720, Ctrl+= and Ctrl+- between 200 % and 300 %: the window is 1280 px
    wide after each press settles. (In the press the new text's picture asked for 858 px,
    837 px once laid out: the window grew to its minimum then, could not shrink back
    before the settle, and kept 6-20 px more at each press, 1280 -> 1286 -> 1298 -> 1301,
    past a 1280 px projector's edge, the controls' column reflowing for each width.)"""
    from gdviz.core.scene import preset_path

    win = window
    assert win.open_scene(preset_path("L9"))
    win.session.pause()
    _settle(qtbot, win)
    widths = []
    for scale in (2.0, 2.27, 2.61, 3.0, 2.61, 2.27, 2.0):
        win.set_font_scale(scale)
        _settle(qtbot, win)
        widths.append(win.width())
    assert widths == [1280] * len(widths)


def test_a_press_that_widens_a_small_window_reflows_the_controls_once(window, qtbot, monkeypatch):
    """L21 on an 800 px window, Ctrl+= from 200 % to 300 %: each bigger text needs a
    wider window, which grows to its new minimum. The controls' cap followed the grown
    width, a few px wider, and their rows reflowed twice a press (in the press and again
    at its settle, each a walk over every widget). The cap is the share of the width the
    press began at, until it settles: one reflow a press."""
    from gdviz.core.scene import preset_path
    from gdviz.ui.panels import controls

    win = window
    win.resize(800, 600)  # (at 100 %: a bigger text keeps the window's size)
    _settle(qtbot, win)
    assert win.open_scene(preset_path("L21"))
    win.session.pause()
    win.set_font_scale(2.0)
    _settle(qtbot, win)
    reflows = []
    real = controls.reflow
    monkeypatch.setattr(controls, "reflow", lambda *a, **k: (reflows.append(a[1]), real(*a, **k)))
    grew = []
    for scale in (2.27, 2.61, 3.0):
        before = win.width()
        reflows.clear()
        win.set_font_scale(scale)
        _settle(qtbot, win)
        grew.append(win.width() > before)
        assert len(reflows) == 1, (scale, reflows)
    assert any(grew), "(the case: a press that widens the window)"


def test_the_loss_dock_and_controls_stay_within_their_shares(window, qtbot):
    window.set_font_scale(2.0)
    _settle(qtbot, window)
    from gdviz.ui.main_window import CONTROLS_SHARE, SIDE_LOSS_SHARE

    assert window.controls_dock.width() <= CONTROLS_SHARE * window.width() + 1
    assert window.loss_dock.height() <= SIDE_LOSS_SHARE * window.height() + 1
    # too narrow for its rows side by side at this size: the rows reflow (they scrolled
    # sideways, the Play button cut off), nothing is lost
    assert window.controls.narrowed
    assert window.controls.horizontalScrollBar().maximum() == 0


def _title_ink_height(dock) -> int:
    """Rows of the dock's title bar (its buttons left out) that hold text."""
    import numpy as np
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QImage

    top = dock.widget().geometry().top()  # (the title bar is above the dock's widget)
    img = dock.grab(QRect(0, 0, dock.width() - 60, top)).toImage()
    img = img.convertToFormat(QImage.Format.Format_Grayscale8)
    a = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
    a = a.reshape(img.height(), img.bytesPerLine())[:, :img.width()].astype(int)
    background = np.median(a)
    return int((np.abs(a - background) > 60).any(axis=1).sum())


def test_dock_titles_follow_the_text_size(window, qtbot):
    # Qt paints a dock's title in the font the dock had when it was made: the docks made
    # at 100 % kept their small titles at 200 %, and one made at 200 % (the lr finder's)
    # drew its title twice too big, cut off, back at 100 %
    small = _title_ink_height(window.loss_dock)
    window.set_font_scale(2.0)
    _settle(qtbot, window)
    big = _title_ink_height(window.loss_dock)
    window.lrfind.ensure_panel()
    made_big = window.lrfind.dock
    made_big.show()
    made_big.raise_()
    _settle(qtbot, window)
    assert big >= 1.6 * small, (small, big)
    lr_big = _title_ink_height(made_big)
    window.set_font_scale(1.0)
    _settle(qtbot, window)
    assert _title_ink_height(made_big) <= 0.7 * lr_big, (lr_big, _title_ink_height(made_big))
    assert abs(_title_ink_height(window.loss_dock) - small) <= 1


def test_plots_follow_the_text_size_up_to_a_cap(window, qtbot):
    window.set_font_scale(1.3)
    _settle(qtbot, window)
    assert theme.font_scale() == pytest.approx(1.3)
    window.set_font_scale(2.0)
    _settle(qtbot, window)
    assert theme.text_scale() == pytest.approx(2.0)
    assert theme.font_scale() == pytest.approx(theme.PLOT_SCALE_CAP)


class _PaintCounter(QObject):
    def __init__(self):
        super().__init__()
        self.n = 0

    def eventFilter(self, obj, ev):  # noqa: N802 - Qt API
        if ev.type() == QEvent.Type.Paint:
            self.n += 1
        return False


def test_a_burst_of_presses_repaints_the_map_once(window, qtbot):
    """Five presses froze repainting for 8 s: each relayout repainted the contours. Now the
    layout settles after the burst, and the map paints once."""
    _settle(qtbot, window)
    counter = _PaintCounter()
    port = window.landscape_view.viewport()
    port.installEventFilter(counter)
    try:
        for _ in range(5):
            window.zoom_in()
            from PySide6.QtWidgets import QApplication

            QApplication.processEvents()
        assert counter.n == 0  # held while the presses come
        _settle(qtbot, window)
        window.repaint()
        assert 1 <= counter.n <= 2
    finally:
        port.removeEventFilter(counter)


@pytest.mark.parametrize("stem", ["L01", "L09", "L10", "L11"])
@pytest.mark.parametrize("lang", ["en", "zh-Hant"])
def test_lessons_at_200_percent_keep_the_map_and_cut_nothing(window, qtbot, stem, lang):
    """With a lesson's caption (and on data problems the fit panel, the longer counters):
    at 132-152 % the map shrank to a strip and the caption's title was clipped."""
    from gdviz.core.scene import preset_paths

    window.set_language(lang)
    assert window.open_scene(next(p for p in preset_paths() if p.stem.startswith(stem)))
    window.session.pause()
    window.session.step(50)
    window.set_font_scale(2.0)
    _settle(qtbot, window)
    # the window keeps its size (L11's step-by-step table under the loss curves grew it
    # to 789 px on a 720 px screen before it scrolled)
    assert window.size().toTuple() == (1280, 720)
    central = window.centralWidget()
    assert window.caption.height() <= 0.3 * central.height()
    assert window.picture.splitter.height() >= 0.5 * central.height()
    assert _clipped_labels(window) == []


def test_the_loss_curves_go_where_the_map_keeps_its_room(window, qtbot):
    """The loss dock sits under the controls (the picture has the full height: below it,
    a data lesson's map and fit panel had a third of the window at 1280×720), with a
    smaller share where fitting by hand is the lesson (the sliders stay above the
    controls' fold); in projector mode below the map; and where the user put it, it stays."""
    from PySide6.QtCore import Qt

    from gdviz.core.scene import preset_paths
    from gdviz.ui.main_window import SIDE_CURVES_WEIGHTS, SIDE_DATA_WEIGHTS, SIDE_SURFACE_WEIGHTS

    right, bottom = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
    lesson = {p.stem[:3]: p for p in preset_paths()}
    assert window.dockWidgetArea(window.loss_dock) == right
    assert window.open_scene(lesson["L01"])
    assert window.dockWidgetArea(window.loss_dock) == right
    assert window._loss_weights == SIDE_DATA_WEIGHTS
    _settle(qtbot, window)
    data_h = window.loss_dock.height()
    assert window.open_scene(lesson["L05"])
    assert window.dockWidgetArea(window.loss_dock) == right
    assert window._loss_weights == SIDE_SURFACE_WEIGHTS
    _settle(qtbot, window)
    assert window.loss_dock.height() > data_h  # a surface gives the curves more
    window.set_projector(True)
    _settle(qtbot, window)
    assert window.dockWidgetArea(window.loss_dock) == bottom
    assert window.open_scene(lesson["L03"])
    window.set_projector(False)
    _settle(qtbot, window)
    assert window.dockWidgetArea(window.loss_dock) == right
    assert window._loss_weights == SIDE_DATA_WEIGHTS  # L03 came in projector mode
    # where the loss curves are the lesson (L9's U, L13's ‖w‖₂), they get more than on a
    # surface (at the surface's share L13's plot was 100 px under its three-row key)
    assert window.open_scene(lesson["L05"])
    _settle(qtbot, window)
    surface_h = window.loss_dock.height()
    for stem in ("L09", "L13"):
        assert window.open_scene(lesson[stem])
        assert window._loss_weights == SIDE_CURVES_WEIGHTS, stem
        _settle(qtbot, window)
        assert window.loss_dock.height() > surface_h, stem
    assert window.open_scene(lesson["L04"])
    assert window.dockWidgetArea(window.loss_dock) == right
    # in the side column it sits below the controls, never as a tab beside them
    # (the controls share a tab group with step-by-step: L11 shows it, L12 hides it)
    for stem in ("L09", "L10", "L11", "L12"):
        assert window.open_scene(lesson[stem])
        assert window.tabifiedDockWidgets(window.loss_dock) == [], stem
        _settle(qtbot, window)
        assert window.loss_dock.geometry().top() >= window.controls_dock.geometry().bottom(), stem
    # the teacher drags it to the top: lessons leave it there
    window.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, window.loss_dock)
    assert window.open_scene(lesson["L01"])
    assert window.open_scene(lesson["L05"])
    assert window.dockWidgetArea(window.loss_dock) == Qt.DockWidgetArea.TopDockWidgetArea


@pytest.mark.parametrize("scale", [1.0, 2.0])
@pytest.mark.parametrize("stem,lang", [("L01", "en"), ("L13", "zh-Hant"), ("L21", "en"),
                                       ("L05", "zh-Hant"), ("L19", "zh-Hans")])
def test_every_lesson_kind_keeps_half_the_window_for_its_picture(window, qtbot, stem, lang, scale):
    """The picture (the map, and the fit panel, plane or network beside it) keeps at least
    half of the window's area between the menu bar and the status bar, at 1280×720, at 100
    and 200 % text, with the lesson's caption folded (a Chinese line is taller)."""
    from gdviz.core.scene import preset_paths

    window.set_language(lang)
    assert window.open_scene(next(p for p in preset_paths() if p.stem.startswith(stem)))
    window.set_font_scale(scale)
    _settle(qtbot, window)
    assert window.size().toTuple() == (1280, 720)
    client = 1280 * (720 - window.menuBar().height() - window.statusBar().height())
    sp = window.picture.splitter
    assert sp.width() * sp.height() >= 0.5 * client, (sp.width(), sp.height(), client)
    assert window.loss_dock.isVisible() and window.loss_view.height() >= 120


def test_a_diverged_label_stays_on_the_map_at_200_percent(window, qtbot):
    """L4's ×10 run diverges just left of the middle: at 200 % its "diverged at step 12"
    label, grown rightwards, ran past the map's edge. It slides back onto the map (and
    finds its room again after the text size changes)."""
    from gdviz.core.scene import preset_paths

    assert window.open_scene(next(p for p in preset_paths() if p.stem.startswith("L04")))
    window.session.pause()
    window.session.step(120)
    window.set_font_scale(2.0)
    _settle(qtbot, window)
    view = window.landscape_view
    labels = [lab for lab in view.diverged_labels if lab.isVisible()]
    assert labels
    box = view.vb.sceneBoundingRect()
    for lab in labels:
        rect = lab.mapRectToScene(lab.boundingRect())
        assert box.contains(rect), (rect, box)


def test_the_loss_key_fits_its_plot_at_200_percent(window, qtbot):
    """Under the controls at 200 % text, L9's one-row key ("training loss — validation
    loss") ran past the plot's right edge; it takes a smaller form that fits, and the loss
    curves get half of the side column."""
    from gdviz.core.scene import preset_paths
    from gdviz.ui.main_window import SIDE_BIG_TEXT_WEIGHTS

    assert window.open_scene(next(p for p in preset_paths() if p.stem.startswith("L09")))
    window.session.pause()
    window.session.step(120)
    window.set_font_scale(2.0)
    _settle(qtbot, window)
    assert window._loss_weights == SIDE_BIG_TEXT_WEIGHTS
    view = window.loss_view
    view.place_legend()
    leg = view.legend
    rect = leg.mapRectToScene(leg.boundingRect())
    box = view.vb.sceneBoundingRect()
    assert leg.isVisible() and len(leg.items) == 2
    assert box.contains(rect), (rect, box, view._key_form)
    assert rect.height() <= 0.45 * box.height()


def test_a_key_that_fits_no_form_whole_is_kept_inside_the_plot_width(window, qtbot):
    """L13 at 1280x720: three entries (training, validation, ‖w‖₂) on a short loss plot.
    No form fits both its width and its height share; the key was left in the last form,
    one row wider than the plot, and cut at its left edge. It takes the first form as
    wide as the plot (taller than the share)."""
    from gdviz.core.scene import preset_path

    assert window.open_scene(preset_path("L13"))
    window.session.pause()
    window.session.step(50)
    _settle(qtbot, window)
    view = window.loss_view
    view.place_legend()
    leg = view.legend
    rect = leg.mapRectToScene(leg.boundingRect())
    box = view.vb.sceneBoundingRect()
    assert leg.isVisible() and len(leg.items) == 3
    assert box.left() <= rect.left() and rect.right() <= box.right(), (rect, box, view._key_form)


def test_the_loss_key_takes_the_form_it_found_before_for_the_same_plot(window, qtbot,
                                                                       monkeypatch):
    """L13 at 200 %: its key tries its forms once for each size its plot takes (the load
    lays the plot out at its final size in steps); opened again from the same lesson, with
    the same entries, it takes the forms found then at once (each form tried wrote every
    label anew), and the key is the same as it was."""
    from gdviz.core.scene import preset_path
    from gdviz.ui.views import loss_view

    window.set_font_scale(2.0)
    _settle(qtbot, window)
    for _ in range(2):  # (the first loads settle the window's docks: other plot sizes)
        assert window.open_scene(preset_path("L09"))
        assert window.open_scene(preset_path("L13"))
        window.session.pause()
        _settle(qtbot, window)
    view = window.loss_view
    view.place_legend()
    first = (view._key_form, len(view.legend.items),
             view.legend.mapRectToScene(view.legend.boundingRect()))
    assert first[0] != (3, 1.0)  # (a smaller form than the first: several were tried)
    tried = []
    real = loss_view.LossView._try_key_forms
    monkeypatch.setattr(loss_view.LossView, "_try_key_forms",
                        lambda self, *a: tried.append(a) or real(self, *a))
    assert window.open_scene(preset_path("L09"))
    assert window.open_scene(preset_path("L13"))
    window.session.pause()
    _settle(qtbot, window)
    view.place_legend()
    again = (view._key_form, len(view.legend.items),
             view.legend.mapRectToScene(view.legend.boundingRect()))
    assert again == first
    assert not [a for a in tried if a[1] == 3]  # (L09's two entries are another key)
    # another plot size tries the forms for it
    window.resize(window.width() - 160, window.height())
    _settle(qtbot, window)
    view.place_legend()
    assert [a for a in tried if a[1] == 3]


def test_the_fit_panels_title_does_not_push_its_plot_out_of_the_panel(window, qtbot):
    """Opened once the refreshes waited for the change to settle, L13's fit panel chose
    its title while its left axis had just been shown (width 0): the long title, whose
    minimum width pyqtgraph set again on the next resize, made the plot 40 px wider than
    the panel (cut at the right). The title fits, and the plot is the panel's width."""
    from gdviz.core.scene import preset_path

    assert window.open_scene(preset_path("L13"))
    window.session.pause()
    _settle(qtbot, window)
    fv = window.fit_view
    assert fv.plot_item.geometry().width() <= fv.viewport().width()
    title = fv.plot_item.titleLabel
    assert title.itemRect().width() <= fv.plot_item.geometry().width()


def test_l19_at_200_percent_keeps_its_narrow_panels_readable(window, qtbot):
    """L19 at 200 % text on 1280×720 (four panels side by side, a short loss dock), paused
    past its lowest validation loss: the "stop here" label is clear of the loss key (it was
    laid before the key took its two-row form at the new size, and stayed under it); the
    fit panel's title fits its panel (it was cut at the edge: "Network, 1 × 8 Re"); the
    map's run key is inside the map (at the smallest form it stuck out of the left edge)."""
    from PySide6.QtGui import QFontMetricsF
    from PySide6.QtWidgets import QApplication

    from gdviz.core.scene import preset_path

    win = window
    assert win.open_scene(preset_path("L19"))
    s = win.session
    s.play()  # as a class sees it: played, then paused
    # the test's frames only: the window's frame timer stepped too, as often as the
    # machine let it (on a loaded one the race stopped at a new validation low, with no
    # "stop here" behind it: steps 84-342 at 200 steps a second)
    win.frame_timer.stop()
    for _ in range(120):
        s.tick(1 / 60)
        QApplication.processEvents()
    s.pause()
    assert s.t == 400
    _settle(qtbot, win)
    win.set_font_scale(2.0)
    _settle(qtbot, win)
    loss = win.loss_view
    # the keys as their placing timers leave them
    qtbot.waitUntil(lambda: not (loss._legend_timer.isActive()
                                 or win.landscape_view._legend_timer.isActive()))
    QApplication.processEvents()
    assert loss.stop_label.isVisible() and loss.legend.isVisible()
    stop = loss.stop_label.sceneBoundingRect()
    assert not stop.intersects(loss.legend.sceneBoundingRect()), (stop, loss.legend.sceneBoundingRect())
    fit = win.fit_view
    title = fit.plot_item.titleLabel
    text = title.text
    assert text and fit.isVisible()
    width = QFontMetricsF(theme.font(theme.BASE_PT)).horizontalAdvance(text)
    assert width <= fit.width(), (text, width, fit.width())
    land = win.landscape_view
    box = land.vb.sceneBoundingRect().adjusted(-1, -1, 1, 1)
    assert box.contains(land.legend.sceneBoundingRect()), (land.legend.sceneBoundingRect(), box)


@pytest.mark.parametrize("lang", ["en", "zh-Hant"])
def test_the_lr_finders_buttons_fit_its_column_at_200_percent(window, qtbot, lang):
    """L18 at 200 % on 1280×720: the lr finder's rows ("Find lr" beside "Tune each
    optimizer", the two "Use …" buttons) needed 700 px of a 408 px column, and the panel
    scrolled sideways with its buttons cut at the edge ("Tune", "Use"). They reflow into
    the column; the plot keeps room for its axes (the panel scrolls down to it, where it was
    a 70 px strip); back at 100 % the rows are put back side by side."""
    from PySide6.QtWidgets import QPushButton

    from gdviz.core.scene import preset_path

    win = window
    win.set_language(lang)
    assert win.open_scene(preset_path("L18"))
    win.lrfind.wait()  # (the sweep, when the open left it to the panel: the numpy twins)
    win.session.pause()
    win.set_font_scale(2.0)
    _settle(qtbot, win)
    panel = win.lrfind.panel
    scroll = win.lrfind.scroll
    assert win.lrfind.dock.isVisible()
    qtbot.waitUntil(lambda: not scroll._timer.isActive())
    _settle(qtbot, win)
    room = scroll.viewport().width()
    assert panel.width() <= room, (panel.width(), room)
    for b in panel.findChildren(QPushButton):
        if b.isVisible():
            assert b.geometry().right() < panel.width(), (b.text(), b.geometry(), panel.width())
            assert b.width() >= b.minimumSizeHint().width()
    assert panel.view.height() >= 7 * panel.fontMetrics().height()
    # a sweep's progress and its line show where the dock opens (they were under the
    # reflowed buttons, below the fold)
    assert win.lrfind.find_lr()
    qtbot.waitUntil(lambda: not scroll._timer.isActive())
    _settle(qtbot, win)
    assert panel.progress.isVisible() and panel.message.isVisible()
    port = scroll.viewport().rect()
    for w in (panel.progress, panel.message, panel.cancel_button):
        rect = w.rect().translated(w.mapTo(scroll.viewport(), w.rect().topLeft()))
        assert port.contains(rect), (w.objectName(), rect, port)
    panel.cancel()
    win.set_font_scale(1.0)
    _settle(qtbot, win)
    qtbot.waitUntil(lambda: not scroll._timer.isActive())
    _settle(qtbot, win)
    assert panel.find_button.y() == panel.tune_button.y()  # side by side again


def _step_panel_at_200(win, qtbot, lesson: str, select: int = -1):
    """``lesson`` a few steps in, its step panel shown (run ``select`` picked), at 200 %
    on 1280×720: (the step view, its column's width); nothing in it wider than that."""
    from PySide6.QtWidgets import QScrollArea

    from gdviz.core.scene import preset_path

    assert win.open_scene(preset_path(lesson))
    s = win.session
    s.pause()
    if select >= 0:
        s.set_view_options(panels=tuple(set(s.panels) | {"step"}))
        s.select(select)
    s.step(3)
    win.set_font_scale(2.0)
    _settle(qtbot, win)
    view = win.step_view
    scroll = win.findChild(QScrollArea, "stepScroll")
    assert win.step_dock.isVisible()
    room = scroll.viewport().width()
    assert view.width() <= room and view.minimumSizeHint().width() <= room, (view.width(), room)
    return view, room


def test_the_step_table_and_rule_fit_their_column_at_200_percent(window, qtbot):
    """L11 at 200 % on 1280×720, a few steps in: the step-by-step table (x and y side by
    side needed 472 px) and its worked rule (586 px) scrolled sideways in a 408 px column,
    their y numbers and the ends of the rule's lines cut. Each row's y now goes under its x,
    and the rule's vectors take two lines; nothing is wider than the column. At 100 % the
    table is side by side and the rule as written."""
    win = window
    view, room = _step_panel_at_200(win, qtbot, "L11")
    assert view.stacked == 1
    _, y = view.cells["theta1"][1:]
    x = view.cells["theta1"][1]
    assert y.isVisible() and y.y() > x.y()  # y under x
    assert not view.rule.wordWrap()  # the vectors' two-line form fits: no break mid-line
    fm = view.rule.fontMetrics()
    widest = max(fm.horizontalAdvance(line) for line in view.rule.text().splitlines())
    assert view.rule.geometry().left() + widest <= room
    assert x.text() in view.rule.text()  # the worked result, its first number
    win.set_font_scale(1.0)
    _settle(qtbot, win)
    assert not view.stacked and x.y() == y.y()
    assert "\n" not in view.rule.text().split("= (")[-1]  # "= (x, y)" on one line


def test_the_step_table_of_long_parameter_names_fits_its_column_at_200_percent(window, qtbot):
    """L21 at 200 % on 1280×720: stacked, its rows ("W4[1,1]" before each number) were still
    wider than the column, the numbers cut at the dock's edge behind a scroll bar. Each
    parameter's name now goes over its number; nothing scrolls sideways; back at 100 % the
    table is side by side."""
    win = window
    view, room = _step_panel_at_200(win, qtbot, "L21", select=1)
    assert view.stacked == 2
    tx, ty = view.tags["theta1"]
    _, x, y = view.cells["theta1"]
    assert tx.isVisible() and tx.y() < x.y() < ty.y() < y.y()  # name over number, x over y
    assert x.geometry().right() <= room and x.text() != "—"
    win.set_font_scale(1.0)
    _settle(qtbot, win)
    assert not view.stacked and x.y() == y.y()
