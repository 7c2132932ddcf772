"""A curve far larger than the screen (a run flying off the map) is clipped to the view
before Qt strokes it: Qt's antialiased stroker spent minutes on such a path in the GUI fuzz."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from gdviz.ui.views.items import (MAX_DEVICE_SPAN, LiveCurve, SafeCurve, clip_segments,
                                  stroke_pairs)


def _reference(x, y, box, samples=2001):
    """Each finite segment sampled densely: the sampled points inside the box."""
    x0, x1, y0, y1 = box
    pts = []
    for i in range(len(x) - 1):
        if not np.isfinite([x[i], y[i], x[i + 1], y[i + 1]]).all():
            continue
        t = np.linspace(0, 1, samples)
        px, py = x[i] + t * (x[i + 1] - x[i]), y[i] + t * (y[i + 1] - y[i])
        inside = (px >= x0) & (px <= x1) & (py >= y0) & (py <= y1)
        pts.append(np.column_stack([px[inside], py[inside]]))
    return np.concatenate(pts) if pts else np.zeros((0, 2))


@pytest.mark.parametrize("seed", range(5))
def test_clip_segments_keeps_exactly_the_parts_inside(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 3, 40)
    y = rng.normal(0, 3, 40)
    x[7] = np.nan
    box = (-1.0, 2.0, -1.5, 1.0)
    cx, cy = clip_segments(x, y, "finite", box)
    assert len(cx) % 2 == 0
    assert (cx >= box[0] - 1e-9).all() and (cx <= box[1] + 1e-9).all()
    assert (cy >= box[2] - 1e-9).all() and (cy <= box[3] + 1e-9).all()
    # every densely sampled inside point of the polyline lies on a clipped segment
    ref = _reference(x, y, box)
    ax, ay, bx, by = cx[0::2], cy[0::2], cx[1::2], cy[1::2]
    for px, py in ref[:: 37]:
        d = np.abs((bx - ax) * (ay - py) - (ax - px) * (by - ay)) / np.maximum(
            np.hypot(bx - ax, by - ay), 1e-300)
        within = (np.minimum(ax, bx) - 1e-9 <= px) & (px <= np.maximum(ax, bx) + 1e-9)
        assert (d[within] < 1e-6).any()


def test_clip_segments_pairs_and_astronomic_points():
    cx, cy = clip_segments(np.array([0.0, 1e150, 5.0, 6.0]), np.array([0.0, 1e150, 5.0, 6.0]),
                           "pairs", (-1.0, 1.0, -1.0, 1.0))
    assert np.allclose(cx, [0.0, 1.0]) and np.allclose(cy, [0.0, 1.0])  # the second pair is outside


def _plot_with(qtbot, cls, x, y) -> pg.PlotWidget:
    """A 400x300 plot of -2..2 each way showing curve ``cls`` (5 px orange) through x, y."""
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    w.resize(400, 300)
    w.setXRange(-2, 2, padding=0)
    w.setYRange(-2, 2, padding=0)
    curve = cls(connect="finite")
    curve.setPen(pg.mkPen("#E69F00", width=5))
    curve.setData(x=x, y=y) if cls is SafeCurve else curve.setData(x, y)
    w.addItem(curve)
    w.show()
    return w


def _render_orange(w: pg.PlotWidget) -> tuple[QImage, np.ndarray]:
    """``w`` rendered into a white 400x300 image, and where that image is the curve's orange."""
    img = QImage(400, 300, QImage.Format.Format_RGB32)
    img.fill(0xFFFFFF)
    p = QPainter(img)
    try:
        w.render(p)
    finally:
        p.end()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).reshape(300, -1, 4)
    orange = (np.abs(buf[..., 2].astype(int) - 0xE6) < 40) & (np.abs(buf[..., 1].astype(int) - 0x9F) < 40) \
        & (buf[..., 0] < 80)
    return img, orange


@pytest.mark.parametrize("cls", [SafeCurve, LiveCurve])
def test_a_huge_curve_is_painted_clipped(qtbot, cls):
    w = _plot_with(qtbot, cls, np.array([-1.0, 0.0, 1e12, 3e14]), np.array([-1.0, 0.0, 1e12, -4e14]))
    img, orange = _render_orange(w)
    span = max(img.width(), img.height())
    assert 1e12 / 4 * span > MAX_DEVICE_SPAN  # the path really is huge on screen
    assert orange.sum() > 200  # the visible part was drawn


def test_a_huge_curve_is_cut_just_outside_the_device(qtbot, monkeypatch):
    """Clipped to three view widths each way, a diverging run's zig-zag (11 long segments
    per chunk) took ~250 ms to stroke after one wheel zoom in L4. It is cut HUGE_MARGIN px
    outside the device: its ends (and their caps) stay out of sight, and it still reaches
    the edges."""
    import gdviz.ui.views.items as items

    # (two diagonals, each through the view)
    w = _plot_with(qtbot, SafeCurve, np.array([-1e12, 1e12, -1e12, 1e12]),
                   np.array([-1e12, 1e12, 1e12, -1e12]))
    drawn = []
    real = pg.arrayToQPath

    def spy(cx, cy, connect="all", **kw):
        drawn.append((np.array(cx), np.array(cy)))
        return real(cx, cy, connect=connect, **kw)

    monkeypatch.setattr(items.pg, "arrayToQPath", spy)
    img, orange = _render_orange(w)
    assert drawn
    vb = w.getPlotItem().getViewBox()
    m = items.HUGE_MARGIN + 1
    for cx, cy in drawn:  # (stroked in device pixels: the image's)
        assert ((-m <= cx) & (cx <= img.width() + m)).all()
        assert ((-m <= cy) & (cy <= img.height() + m)).all()
    box = vb.sceneBoundingRect()  # (the plot's inside, in the widget's pixels)
    top, bottom = int(box.top()) + 3, int(box.bottom()) - 3
    left, right = int(box.left()) + 3, int(box.right()) - 3
    assert orange[top:top + 4, left:right].any() and orange[bottom - 4:bottom, left:right].any()


def _canvas(fn, size=(240, 160)) -> np.ndarray:
    """What ``fn(painter)`` draws on a mid-grey image: float (h, w, 4) of its bytes."""
    img = QImage(*size, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(QColor(120, 130, 140))
    p = QPainter(img)
    try:
        fn(p)
    finally:
        p.end()
    return np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).reshape(
        size[1], -1, 4)[:, : size[0]].astype(float)


# a zig-zag of long segments (its ends off the image), one segment of zero length, one short
_ZX = np.array([-50.0, 290.0, 290.0, -50.0, -50.0, 200.0, 120.0, 120.0, 30.0, 60.0])
_ZY = np.array([10.0, 60.0, 60.0, 110.0, 110.0, 170.0, 40.0, 40.0, 140.0, 20.0])


@pytest.mark.parametrize("alpha", [255, 170])
@pytest.mark.parametrize("cap", [Qt.PenCapStyle.RoundCap, Qt.PenCapStyle.SquareCap,
                                 Qt.PenCapStyle.FlatCap])
@pytest.mark.parametrize("antialias", [False, True])
def test_stroke_pairs_draws_what_one_stroke_of_the_pen_draws(alpha, cap, antialias):
    """The fast stroke (flat segments, round points for the caps, a translucent pen through
    an opaque layer) draws the shape of Qt's one stroke of the path, in the pen's colour
    laid over with its alpha, once (Qt's own stroke of a translucent pen darkens where two
    segments cross); only antialiased edge pixels may differ a little."""
    pen = QPen(QColor(200, 30, 10, alpha), 7.5)
    pen.setCosmetic(True)
    pen.setCapStyle(cap)
    opaque = QPen(pen)
    opaque.setColor(QColor(200, 30, 10))

    def plain(p):
        p.setRenderHint(QPainter.RenderHint.Antialiasing, antialias)
        p.setPen(opaque)
        p.drawPath(pg.arrayToQPath(_ZX, _ZY, connect="pairs"))

    bg = _canvas(lambda p: None)
    want = bg + alpha / 255 * (_canvas(plain) - bg)
    got = _canvas(lambda p: stroke_pairs(p, _ZX, _ZY, pen, antialias, (240, 160)))
    diff = np.abs(got - want).max(axis=2)
    assert (np.abs(want - bg).max(axis=2) > 0).sum() > 2000  # (a good part of the image)
    assert np.mean(diff > 3) < 0.003  # the same pixels, the same colour
    if not antialias and cap != Qt.PenCapStyle.RoundCap:
        assert diff.max() <= 3  # (aliased, a round point's edge may fall a pixel aside)


def test_stroke_pairs_blends_a_translucent_pen_once_where_segments_cross():
    """Two crossing segments of a translucent halo are one stroke: their crossing is not
    darker than either segment (drawn segment by segment it would be)."""
    pen = QPen(QColor(0, 0, 0, 128), 9.0)
    pen.setCosmetic(True)
    x = np.array([20.0, 220.0, 20.0, 220.0])
    y = np.array([20.0, 140.0, 140.0, 20.0])
    img = _canvas(lambda p: stroke_pairs(p, x, y, pen, False, (240, 160)))
    crossing = img[80, 120, :3]
    on_one = img[44, 60, :3]  # (on the first segment only)
    assert np.abs(crossing - on_one).max() <= 2
    assert np.abs(on_one - np.array([140, 130, 120]) / 2).max() <= 3  # half of the grey


def test_stroke_pairs_keeps_the_clip_and_the_painters_opacity():
    pen = QPen(QColor(0, 0, 0, 255 // 2), 9.0)
    pen.setCosmetic(True)
    x, y = np.array([0.0, 240.0]), np.array([80.0, 80.0])

    def draw(p):
        p.setClipRect(0, 0, 120, 160)
        p.setOpacity(0.5)
        stroke_pairs(p, x, y, pen, False, (240, 160))

    img = _canvas(draw)
    grey = np.array([140, 130, 120])
    assert np.abs(img[80, 200, :3] - grey).max() == 0  # clipped away
    assert np.abs(img[80, 60, :3] - grey * 0.75).max() <= 3  # a quarter black


@pytest.mark.parametrize("antialias", [False, True])
def test_stroke_path_of_a_translucent_pen_is_qts_stroke(antialias):
    """A translucent pen (a run's halo) is stroked opaque into a layer laid over with its
    alpha: the picture of Qt's own stroke of the path (which blends a self-crossing
    polyline once), in a fraction of its time. The item's transform is kept."""
    from PySide6.QtGui import QTransform

    from gdviz.ui.views.items import stroke_path

    t = np.linspace(0, 5 * np.pi, 300)
    x, y = np.cos(t) * (1 + 0.2 * t), np.sin(1.5 * t) * (1 + 0.1 * t)  # (it crosses itself)
    path = pg.arrayToQPath(x, y)
    pen = QPen(QColor(10, 20, 30, 170), 7.5)
    pen.setCosmetic(True)
    transform = QTransform(23.0, 0.0, 0.0, -14.0, 120.0, 80.0)

    def qt(p):
        p.setTransform(transform)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, antialias)
        p.setPen(pen)
        p.drawPath(path)

    def ours(p):
        p.setTransform(transform)
        stroke_path(p, path, pen, antialias)

    want, got = _canvas(qt), _canvas(ours)
    assert (np.abs(want - _canvas(lambda p: None)).max(axis=2) > 0).sum() > 3000
    diff = np.abs(got - want).max(axis=2)
    assert np.mean(diff > 3) < 0.002
    assert diff.max() <= (3 if not antialias else 60)


def test_a_huge_cached_curve_is_not_lost(qtbot):
    """Qt's device cache rounds an item's device box to int pixels: a box of ~1e12 px came
    out empty and a sealed (cached) chunk of a diverging run vanished. A huge curve is not
    cached; the cache comes back once the curve fits the view again."""
    from PySide6.QtWidgets import QGraphicsItem

    cached = QGraphicsItem.CacheMode.DeviceCoordinateCache
    w = _plot_with(qtbot, SafeCurve, np.array([-1.0, 0.0, 1e12, 3e14]),
                   np.array([-1.0, 0.0, 1e12, -4e14]))
    curve = next(i for i in w.getPlotItem().items if isinstance(i, SafeCurve))
    curve.setCacheMode(cached)
    img = w.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).reshape(
        img.height(), -1, 4)
    orange = (np.abs(buf[..., 2].astype(int) - 0xE6) < 40) & (
        np.abs(buf[..., 1].astype(int) - 0x9F) < 40) & (buf[..., 0] < 80)
    assert orange.sum() > 200
    assert curve.cacheMode() == QGraphicsItem.CacheMode.NoCache
    curve.setData(x=np.array([-1.0, 0.0, 1.0]), y=np.array([-1.0, 0.0, 0.5]))
    assert curve.cacheMode() == cached  # (it fits: cached again)
    curve.setData(x=np.array([-1.0, 0.0, 1e12]), y=np.array([-1.0, 0.0, 1e12]))
    assert curve.cacheMode() == QGraphicsItem.CacheMode.NoCache
    w.setXRange(-1e13, 1e13, padding=0)  # (a view that holds it)
    w.setYRange(-1e13, 1e13, padding=0)
    pg.QtWidgets.QApplication.processEvents()
    assert curve.cacheMode() == cached


def test_a_curves_bounds_are_pyqtgraphs_and_a_zoom_does_not_measure_its_data_again(qtbot, monkeypatch):
    """SafeCurve's bounding rect is pyqtgraph's (the data's bounds padded by the pen's
    half width in pixels) at every zoom, LiveCurve's holds it (a pixel more); a zoom pads
    them again but does not measure the data again (30 runs' 280 trail pieces measured theirs at each
    paint of a zoom: a third of its time)."""
    rng = np.random.default_rng(3)
    x, y = np.cumsum(rng.normal(size=300)), np.cumsum(rng.normal(size=300))
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    w.resize(400, 300)
    ours, live, ref = SafeCurve(), LiveCurve(connect="all"), pg.PlotCurveItem()
    for c in (ours, live, ref):
        c.setPen(pg.mkPen("#0072B2", width=4.5))
        w.addItem(c)
        c.setData(x, y)
    w.show()
    qtbot.waitExposed(w)
    measured = []
    real = np.nanmin
    monkeypatch.setattr(np, "nanmin", lambda *a, **k: (measured.append(1), real(*a, **k))[1])
    for box in ((-5, 5, -5, 5), (-50, 80, -1, 1), (0, 1e-3, -1e3, 1e3), (-1e6, 1e6, -30, 30)):
        w.setRange(xRange=box[:2], yRange=box[2:], padding=0)
        pg.QtWidgets.QApplication.processEvents()
        want, got = ref.boundingRect(), ours.boundingRect()
        for a, b in ((got.left(), want.left()), (got.right(), want.right()),
                     (got.top(), want.top()), (got.bottom(), want.bottom())):
            assert a == pytest.approx(b, rel=1e-9, abs=1e-12 * (1 + abs(b)))
        px = w.getPlotItem().vb.viewPixelSize()
        got = live.boundingRect()
        assert got.contains(want) and got.width() <= want.width() + 3 * px[0]
    n_ref = len(measured)
    measured.clear()
    w.removeItem(ref)  # (pyqtgraph's measures its data at each zoom)
    for box in ((-5, 5, -5, 5), (-50, 80, -1, 1)):
        w.setRange(xRange=box[:2], yRange=box[2:], padding=0)
        pg.QtWidgets.QApplication.processEvents()
        ours.boundingRect()
    assert n_ref > 0 and measured == []
    ours.setData(x + 100.0, y)  # new data: measured again
    assert x.min() + 100.0 - 2.0 < ours.boundingRect().left() < x.min() + 100.0
    assert measured
