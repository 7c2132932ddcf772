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
