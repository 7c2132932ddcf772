"""RasterLines: the map's contours drawn by the numba rasteriser at the painter's resolution."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QWidget

from gdviz.ui.views.raster_item import RasterLines


@pytest.fixture
def plot(qtbot):
    w = pg.PlotWidget()
    w.setBackground("w")
    w.hideAxis("left")
    w.hideAxis("bottom")
    w.setRange(xRange=(0, 10), yRange=(0, 10), padding=0)
    w.resize(200, 200)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def _dark(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return a[:, : img.width(), 2] < 128  # red channel of a black line on white


def _render(widget, scale: float) -> QImage:
    img = QImage(round(widget.width() * scale), round(widget.height() * scale), QImage.Format.Format_ARGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    p.scale(scale, scale)
    QWidget.render(widget, p, QPoint())  # as the export's FrameGrabber paints a panel
    p.end()
    return img


def test_a_segment_is_drawn_where_it_is_at_the_pens_width(plot):
    item = RasterLines(pg.mkPen("k", width=3))
    item.setData([1.0, 9.0], [5.0, 5.0])  # a horizontal line across the middle
    plot.addItem(item)
    dark = _dark(plot.grab().toImage())
    rows = np.flatnonzero(dark.any(axis=1))
    cols = np.flatnonzero(dark.any(axis=0))
    h, w = dark.shape
    assert rows.size in (2, 3, 4) and abs(rows.mean() - h / 2) <= 2
    assert cols.min() == pytest.approx(0.1 * w, abs=3) and cols.max() == pytest.approx(0.9 * w, abs=3)


def test_an_export_at_twice_the_size_is_rasterised_at_twice_the_resolution(plot):
    item = RasterLines(pg.mkPen("k", width=2))
    item.setData([1.0, 9.0, 5.0, 5.0], [5.0, 5.0, 1.0, 9.0])
    plot.addItem(item)
    one, two = _dark(_render(plot, 1.0)), _dark(_render(plot, 2.0))
    # sharp, not an upscaled copy: the line is twice as thick and covers 4x the pixels
    assert two.sum() == pytest.approx(4 * one.sum(), rel=0.2)
    assert np.flatnonzero(two.any(axis=1)).size > 1.6 * np.flatnonzero(one.any(axis=1)).size


def test_the_image_is_kept_until_the_data_the_pen_or_the_view_change(plot, monkeypatch):
    item = RasterLines(pg.mkPen("k", width=2))
    item.setData([1.0, 9.0], [2.0, 8.0])
    plot.addItem(item)
    calls = []
    real = item._render
    monkeypatch.setattr(item, "_render", lambda *a: calls.append(1) or real(*a))
    plot.grab()
    plot.grab()
    assert len(calls) == 1
    item.setPen(pg.mkPen("r", width=2))
    plot.grab()
    item.setData([1.0, 9.0], [8.0, 2.0])
    plot.grab()
    plot.setRange(xRange=(0, 5), yRange=(0, 5), padding=0)
    plot.grab()
    assert len(calls) == 4


def test_bad_data_is_refused_and_non_finite_segments_are_skipped(plot):
    item = RasterLines()
    with pytest.raises(ValueError, match="even length"):
        item.setData([0.0, 1.0, 2.0], [0.0, 1.0, 2.0])
    item.setData([np.nan, 1.0, 1.0, 9.0], [0.0, np.inf, 5.0, 5.0])
    plot.addItem(item)
    assert _dark(plot.grab().toImage()).any()
    item.setData([], [])
    assert not _dark(plot.grab().toImage()).any()


def test_an_interim_view_change_moves_the_kept_image(plot, monkeypatch):
    """While the view moves ahead of its lines (``interim``), a new transform draws the
    kept image moved and scaled, with no new raster: the line is where it is."""
    item = RasterLines(pg.mkPen("k", width=3))
    item.setData([1.0, 9.0], [5.0, 5.0])
    plot.addItem(item)
    plot.grab()
    calls = []
    real = item._render
    monkeypatch.setattr(item, "_render", lambda *a: calls.append(1) or real(*a))
    item.interim = True
    plot.setRange(xRange=(0, 10), yRange=(2.5, 12.5), padding=0)  # the line moves up a quarter
    dark = _dark(plot.grab().toImage())
    assert calls == []  # no raster
    h, w = dark.shape
    rows = np.flatnonzero(dark.any(axis=1))
    assert rows.size >= 2 and abs(rows.mean() - 0.75 * h) <= 3
    item.setData([1.0, 9.0], [5.0, 5.0])  # the new lines: rasterised at the new view
    item.interim = False
    dark = _dark(plot.grab().toImage())
    assert calls == [1]
    assert abs(np.flatnonzero(dark.any(axis=1)).mean() - 0.75 * h) <= 3


@pytest.mark.parametrize("ready", [True, False])
def test_a_raster_curve_draws_its_polyline_as_the_segments_between_its_points(plot, ready, monkeypatch):
    """A trail's sealed piece: the polyline (x, y) as its consecutive segments, the same
    pixels as RasterLines given the pairs (until numba has compiled, stroked by Qt: about
    the same pixels); ``getData`` gives the points back; a non-finite point is a gap."""
    from gdviz import kernels
    from gdviz.ui.views.raster_item import RasterCurve

    monkeypatch.setattr(kernels, "is_ready", lambda: ready)

    x, y = np.array([1.0, 9.0, 9.0, 1.0]), np.array([2.0, 2.0, 8.0, 8.0])
    curve = RasterCurve()
    curve.setPen(pg.mkPen("k", width=3))
    curve.setData(x, y)
    assert [a.tolist() for a in curve.getData()] == [x.tolist(), y.tolist()]
    assert curve.opts["pen"].widthF() == 3
    plot.addItem(curve)
    mine = _dark(plot.grab().toImage())
    plot.removeItem(curve)
    pairs = RasterLines(pg.mkPen("k", width=3))
    pairs.setData([1.0, 9.0, 9.0, 9.0, 9.0, 1.0], [2.0, 2.0, 2.0, 8.0, 8.0, 8.0])
    plot.addItem(pairs)
    theirs = _dark(plot.grab().toImage())
    if ready:
        assert mine.any() and (mine == theirs).all()
    else:  # (Qt's antialiasing is not the rasteriser's, pixel for pixel)
        assert (mine & theirs).sum() >= 0.8 * max(mine.sum(), theirs.sum())
    plot.removeItem(pairs)
    curve.setData([1.0, 9.0, np.nan, 9.0, 1.0], [2.0, 2.0, np.nan, 8.0, 8.0])
    plot.addItem(curve)
    gap = _dark(plot.grab().toImage())
    h, w = gap.shape
    assert gap[: h // 2].any() and gap[h // 2:].any()  # the top and bottom lines
    assert not gap[h // 2 - 3: h // 2 + 3, :].any()  # no right side across the middle


@pytest.mark.parametrize("ready", [True, False])
def test_a_raster_curve_to_a_far_point_is_drawn_to_the_edge(plot, ready, monkeypatch):
    """A diverging run's last segment goes to ~1e308: clipped in data units before it is
    mapped to pixels (mapped first, it overflowed to inf and vanished)."""
    from gdviz import kernels
    from gdviz.ui.views.raster_item import RasterCurve

    monkeypatch.setattr(kernels, "is_ready", lambda: ready)

    curve = RasterCurve()
    curve.setPen(pg.mkPen("k", width=3))
    curve.setData([1.0, 1e308], [5.0, 5.0])
    plot.addItem(curve)
    dark = _dark(plot.grab().toImage())
    h, w = dark.shape
    cols = np.flatnonzero(dark[h // 2 - 2: h // 2 + 3].any(axis=0))
    assert cols.size and cols.min() <= 0.1 * w + 3 and cols.max() >= w - 3


def _budgeted_curves(plot, budget) -> list:
    """Three horizontal RasterCurves on ``plot`` drawn within ``budget``, which each of the
    plot's paints starts anew (as the map's paint does)."""
    from gdviz.ui.views.raster_item import RasterCurve

    curves = []
    for k in range(3):
        c = RasterCurve()
        c.budget = budget
        c.setPen(pg.mkPen("k", width=2))
        c.setData([1.0, 9.0], [2.0 + 3 * k, 3.0 + 3 * k])
        plot.addItem(c)
        curves.append(c)
    real = plot.paintEvent

    def paint(ev):
        budget.start()
        real(ev)

    plot.paintEvent = paint
    return curves


def test_a_paint_draws_anew_within_its_budget_and_the_rest_in_the_next_paints(plot, qtbot):
    """With a view's RasterBudget spent, a piece whose view moved draws its kept image moved
    and scaled, and asks for another paint: each paint rasterises a bounded share, and the
    picture ends exactly as one drawn all at once; so does a new pen. New data are drawn
    at the next paint, the image of the older ones standing in."""
    from gdviz.ui.views.raster_item import RasterBudget

    budget = RasterBudget(ms=1e-9)  # one piece a paint: the first
    budget.enabled = True
    curves = _budgeted_curves(plot, budget)
    plot.grab()
    assert [c.renders for c in curves] == [1, 0, 0]  # no image yet: the first drawn,
    assert budget._owed == curves[1:]  # the others (nothing in their place) next
    qtbot.waitUntil(lambda: [c.renders for c in curves] == [1, 1, 1] and not budget._owed)
    plot.setRange(xRange=(0, 12), yRange=(0, 12), padding=0)
    plot.grab()
    assert sum(c.renders for c in curves) == 4 and len(budget._owed) == 2
    qtbot.waitUntil(lambda: [c.renders for c in curves] == [2, 2, 2] and not budget._owed)
    budget.enabled = False
    exact = _dark(plot.grab().toImage())
    budget.enabled = True
    assert [c.renders for c in curves] == [2, 2, 2]  # nothing was left stale
    assert (_dark(plot.grab().toImage()) == exact).all()
    curves[0].setData([1.0, 9.0], [9.0, 9.0])
    curves[1].setData([1.0, 9.0], [1.0, 1.0])
    plot.grab()
    # new data wait too, past the budget: the first is drawn, the second at the next paint
    assert [c.renders for c in curves] == [3, 2, 2] and budget._owed == [curves[1]]
    assert curves[1]._due
    qtbot.waitUntil(lambda: [c.renders for c in curves] == [3, 3, 2] and not budget._owed)
    assert not curves[1]._due
    budget.enabled = False
    exact = _dark(plot.grab().toImage())
    budget.enabled = True
    assert [c.renders for c in curves] == [3, 3, 2]
    assert (_dark(plot.grab().toImage()) == exact).all()
    for c in curves:  # a theme or text size restyles them: the same lines, a share a paint
        c.setPen(pg.mkPen("r", width=3))
    plot.grab()
    assert sum(c.renders for c in curves) == 9 and len(budget._owed) == 2
    qtbot.waitUntil(lambda: [c.renders for c in curves] == [4, 4, 3] and not budget._owed)


def test_an_item_that_waited_draws_past_the_budget_at_the_next_paint(plot, qtbot):
    """An item that waited at a paint is due: at the next it draws while the paint has spent
    less than DUE_SHARE x the budget, so items whose data change every frame, painted
    before it, cannot keep it waiting (a trail's middle as the runs play)."""
    from gdviz.ui.views.raster_item import DUE_SHARE, RasterBudget

    assert DUE_SHARE == 2.0  # (the figures below)
    budget = RasterBudget(ms=1.0)
    budget.enabled = True
    budget.charge = lambda seconds: RasterBudget.charge(budget, 0.0012)  # each render 1.2 ms
    curves = _budgeted_curves(plot, budget)
    budget.enabled = False
    plot.grab()
    budget.enabled = True
    assert [c.renders for c in curves] == [1, 1, 1]
    for k, c in enumerate(curves):
        c.setData([1.0, 9.0], [3.0 + 3 * k, 2.0 + 3 * k])
    plot.grab()  # 1.2 ms for the first: the others wait, due
    assert [c.renders for c in curves] == [2, 1, 1] and [c._due for c in curves] == [False, True, True]
    curves[0].setData([1.0, 9.0], [2.5, 2.5])  # changed again before the next paint
    plot.grab()  # the first (not due) within 1 ms, the second (due) within 2 ms, then none
    assert [c.renders for c in curves] == [3, 2, 1] and [c._due for c in curves] == [False, False, True]
    qtbot.waitUntil(lambda: [c.renders for c in curves] == [3, 2, 2] and not budget._owed)


def test_a_fit_run_curve_is_rasterised_kept_and_covers_what_qt_strokes(plot, monkeypatch):
    """A fit run's curve (:class:`RasterRunCurve`): rasterised once the kernels are ready,
    its image kept while nothing changes, drawn anew for new data or a new pen; the same
    pixels, about, as Qt's stroke of it. A dashed pen (a diverged run) and the first
    seconds before numba has compiled are stroked by Qt."""
    from PySide6.QtCore import Qt

    from gdviz import kernels
    from gdviz.ui.views.items import RasterRunCurve, set_pen

    ready = [True]
    monkeypatch.setattr(kernels, "is_ready", lambda: ready[0])
    x = np.linspace(0.5, 9.5, 300)
    y = 5.0 + 3.0 * np.sin(4.0 * x)  # a wiggly fit
    pen = pg.mkPen("k", width=4.5, capStyle=Qt.PenCapStyle.RoundCap)
    curve = RasterRunCurve(connect="finite")
    curve.setPen(pen)
    curve.setData(x, y)
    plot.addItem(curve)
    mine = _dark(plot.grab().toImage())
    stroke = curve.curve._stroke
    assert stroke is not None and stroke.renders == 1 and mine.any()
    plot.grab()
    assert stroke.renders == 1  # nothing changed: the kept image
    plot.removeItem(curve)
    qt = pg.PlotDataItem(x, y, pen=pen, connect="finite")
    plot.addItem(qt)
    theirs = _dark(plot.grab().toImage())
    plot.removeItem(qt)
    assert (mine & theirs).sum() >= 0.9 * max(mine.sum(), theirs.sum())
    plot.addItem(curve)
    curve.setData(x, y - 1.0)
    moved = _dark(plot.grab().toImage())
    assert stroke.renders == 2 and (moved != mine).any()
    set_pen(curve, pg.mkPen("k", width=9, capStyle=Qt.PenCapStyle.RoundCap))
    thick = _dark(plot.grab().toImage())
    assert stroke.renders == 3 and thick.sum() > 1.5 * moved.sum()
    set_pen(curve, pg.mkPen("k", width=4.5, style=Qt.PenStyle.DashLine))
    dashed = _dark(plot.grab().toImage())
    assert stroke.renders == 3 and 0 < dashed.sum() < moved.sum()  # Qt's dashes
    set_pen(curve, pen)
    ready[0] = False
    assert (_dark(plot.grab().toImage()) & moved).sum() >= 0.9 * moved.sum()
    assert stroke.renders == 3  # stroked by Qt, the same line


def test_a_fit_run_curve_stroked_aliased_is_stroked_by_qt(plot, monkeypatch):
    """Many runs playing stroke their curves aliased (PlayingStrokes): Qt's aliased stroke
    is the faster there, and the rasteriser (always antialiased) leaves them to it."""
    from gdviz import kernels
    from gdviz.ui.views.items import RasterRunCurve, set_antialias

    monkeypatch.setattr(kernels, "is_ready", lambda: True)
    curve = RasterRunCurve(connect="finite")
    curve.setPen(pg.mkPen("k", width=4.5))
    curve.setData(np.linspace(1, 9, 50), np.linspace(2, 8, 50))
    plot.addItem(curve)
    set_antialias(curve, False)
    assert _dark(plot.grab().toImage()).any()
    assert curve.curve._stroke is None
    set_antialias(curve, True)
    plot.grab()
    assert curve.curve._stroke.renders == 1


def test_a_map_trails_tail_is_rasterised_within_the_views_budget(plot, qtbot, monkeypatch):
    """A map trail's tail (a raster GrowingCurve's LiveCurve) is drawn by the rasteriser,
    about where Qt strokes it, a share a paint within the view's RasterBudget, the rest at
    the next paints (the tail repaints: its stroke is in no scene), ending as one paint
    drawn all at once; a tail shorter than RASTER_TAIL_PX on the device is Qt's. Paused, each step changes every tail: 16 runs zig-zagging across
    Rastrigin took Qt 380-440 ms a paint. A tail not of a map (no raster) is Qt's."""
    from PySide6.QtCore import Qt

    from gdviz import kernels
    from gdviz.ui.views.items import GrowingCurve
    from gdviz.ui.views.raster_item import RasterBudget

    from gdviz.ui.views import items as items_mod

    monkeypatch.setattr(kernels, "is_ready", lambda: True)
    budget = RasterBudget(ms=1e-9)  # one tail a paint: the first
    budget.enabled = True
    real = plot.paintEvent

    def paint(ev):
        budget.start()
        real(ev)

    plot.paintEvent = paint
    pen = pg.mkPen("k", width=4, capStyle=Qt.PenCapStyle.RoundCap)
    zig = np.array([1.0, 9.0, 1.5, 8.5, 2.0])  # long segments across the plot, as SGD's
    curves = []
    for k in range(3):
        c = GrowingCurve(raster=True, raster_budget=budget)
        c.set_pen(pen)
        c.add_to(plot.getPlotItem())
        keys = np.arange(5, dtype=np.int64)
        c.extend(keys, zig, np.array([1.0, 3.0, 5.0, 7.0, 9.0]) + 0.3 * k)
        c.draw(None)
        curves.append(c)
    assert all(len(c.tail.getData()[0]) == 5 for c in curves)  # all in the tail
    plot.grab()  # ~640 px a tail here: short, Qt's stroke
    assert all(c.tail._stroke is None for c in curves)
    monkeypatch.setattr(items_mod, "RASTER_TAIL_PX", 300.0)  # long now
    for c in curves:
        c.tail.update()
    plot.grab()
    strokes = [c.tail._stroke for c in curves]
    assert [s.renders if s is not None else 0 for s in strokes] == [1, 0, 0]
    qtbot.waitUntil(lambda: all(c.tail._stroke is not None and c.tail._stroke.renders == 1
                                for c in curves) and not budget._owed)
    budget.enabled = False
    mine = _dark(plot.grab().toImage())
    assert [c.tail._stroke.renders for c in curves] == [1, 1, 1]  # nothing was left stale
    for c in curves:
        c.remove_from(plot.getPlotItem())
    for k in range(3):  # Qt's stroke of the same tails
        c = GrowingCurve(raster=False)
        c.set_pen(pen)
        c.add_to(plot.getPlotItem())
        c.extend(np.arange(5, dtype=np.int64), zig, np.array([1.0, 3.0, 5.0, 7.0, 9.0]) + 0.3 * k)
        c.draw(None)
        curves.append(c)
    theirs = _dark(plot.grab().toImage())
    assert all(c.tail._stroke is None for c in curves[3:])
    # still, a tail asks for Qt's device cache: a rasterised one keeps none (painted into
    # it unclipped, Qt re-stroked it at each step), a short one gets it
    from PySide6.QtWidgets import QGraphicsItem

    cache, none = QGraphicsItem.CacheMode.DeviceCoordinateCache, QGraphicsItem.CacheMode.NoCache
    curves[0].add_to(plot.getPlotItem())  # (back in its view: ~640 px, over the 300 set)
    tail = curves[0].tail
    tail.setCacheMode(cache)
    assert tail.cacheMode() == none
    monkeypatch.setattr(items_mod, "RASTER_TAIL_PX", 1e9)  # short now
    tail.setCacheMode(cache)
    assert tail.cacheMode() == cache
    assert curves[3].tail.setCacheMode(cache) is None and curves[3].tail.cacheMode() == cache
    assert mine.sum() > 0 and (mine & theirs).sum() >= 0.9 * max(mine.sum(), theirs.sum())
