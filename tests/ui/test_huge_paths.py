"""A curve far larger than the screen (a run flying off the map) is clipped to the view
before Qt strokes it: Qt's antialiased stroker spent minutes on such a path in the GUI fuzz."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage, QPainter

from gdviz.ui.views.items import MAX_DEVICE_SPAN, LiveCurve, SafeCurve, clip_segments


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
    for cx, cy in drawn:
        for px, py in zip(cx, cy):
            dev = vb.mapViewToDevice(pg.QtCore.QPointF(px, py))  # (the image's pixels)
            m = items.HUGE_MARGIN + 1
            assert -m <= dev.x() <= img.width() + m and -m <= dev.y() <= img.height() + m
    box = vb.sceneBoundingRect()  # (the plot's inside, in the widget's pixels)
    top, bottom = int(box.top()) + 3, int(box.bottom()) - 3
    left, right = int(box.left()) + 3, int(box.right()) - 3
    assert orange[top:top + 4, left:right].any() and orange[bottom - 4:bottom, left:right].any()
