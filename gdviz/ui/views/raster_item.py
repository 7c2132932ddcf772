"""Line segments drawn as a numba-rasterised image at the painter's own resolution.

The map's contours are 10,000-30,000 short segments. Stroked antialiased by Qt they took
150-450 ms to paint after each change of theme, text size, lesson or zoom, and a drag of
the map repainted them every frame. :class:`RasterLines` maps the segments through the
painter's transform to device pixels, rasterises them with
:func:`gdviz.kernels.raster.raster_segments` (a few ms) and draws one image, pixel for
pixel. It is drawn at whatever resolution it is painted at, so a 1080p export is as sharp
as the window. The image is kept while the transform, the clip, the data and the pen stay
the same (a frame that moves only the runs reuses it).

The interface is the part of ``PlotDataItem`` the map used: ``setData(x, y)`` with
segments as pairs of points, ``getData()``, ``setPen(pen)``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QTransform

from gdviz.kernels.raster import raster_segments

#: largest image drawn (device pixels per side): a map on an 8K screen
MAX_SIDE = 8192


class RasterLines(pg.GraphicsObject):
    """Segments (x[2s], y[2s]) -> (x[2s+1], y[2s+1]) in data coordinates, one colour and
    width (a cosmetic pen: the width is in device pixels)."""

    def __init__(self, pen=None):
        super().__init__()
        self._x = np.zeros(0)
        self._y = np.zeros(0)
        self._bounds = QRectF()
        self._color = QColor(0, 0, 0)
        self._width = 1.0
        self._image: QImage | None = None
        self._key = None
        self._tr: QTransform | None = None  # the transform the image was drawn for
        self._version = 0
        #: while a view moves (a zoom, a pan) and the lines for its new box are not yet
        #: computed: a new transform draws the kept image moved and scaled, not rasterised
        #: again (the owner turns it off when the new lines come)
        self.interim = False
        #: how many times the lines were rasterised (tests)
        self.renders = 0
        if pen is not None:
            self.setPen(pen)

    # ------------------------------------------------------------------ data
    def setData(self, x, y) -> None:  # noqa: N802 - pyqtgraph's API
        x = np.asarray(x, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        if x.shape != y.shape or x.size % 2:
            raise ValueError(f"x and y must be the same even length, got {x.size} and {y.size}")
        self.prepareGeometryChange()
        self._x, self._y = x, y
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.any():
            x0, x1 = float(x[ok].min()), float(x[ok].max())
            y0, y1 = float(y[ok].min()), float(y[ok].max())
            self._bounds = QRectF(x0, y0, x1 - x0, y1 - y0)
        else:
            self._bounds = QRectF()
        self._version += 1
        self.update()

    def getData(self) -> tuple[np.ndarray, np.ndarray]:  # noqa: N802
        return self._x, self._y

    def setPen(self, *args, **kwargs) -> None:  # noqa: N802
        pen = pg.mkPen(*args, **kwargs)
        self._color = QColor(pen.color())
        self._width = max(float(pen.widthF()), 0.5)
        self.update()

    def pen(self) -> tuple[QColor, float]:
        return QColor(self._color), self._width

    # ------------------------------------------------------------------ paint
    def boundingRect(self) -> QRectF:  # noqa: N802
        """The segments' box grown by the pen's width in pixels (a horizontal contour has
        no height, and Qt would not paint an item with an empty box)."""
        r = QRectF(self._bounds)
        if self._x.size == 0:
            return r
        pad = self._width + 1.0
        pw, ph = self.pixelWidth() or 0.0, self.pixelHeight() or 0.0
        return r.adjusted(-pad * pw, -pad * ph, pad * pw, pad * ph)

    def viewTransformChanged(self) -> None:  # noqa: N802 - the padding is in pixels
        self.prepareGeometryChange()

    def dataBounds(self, ax, frac=1.0, orthoRange=None):  # noqa: N802, N803 - autoRange
        if self._x.size == 0:
            return (None, None)
        r = self._bounds
        return (r.left(), r.right()) if ax == 0 else (r.top(), r.bottom())

    def paint(self, p, *args) -> None:
        if self._x.size == 0:
            return
        tr = p.transform()  # item -> device (logical pixels of the paint device)
        area = self.boundingRect()
        if p.hasClipping():  # the view box clips its children: only the visible part
            area = area.intersected(p.clipBoundingRect())
        if area.width() < 0 or area.height() < 0 or (area.width() == 0 and area.height() == 0):
            return  # nothing of it is visible
        dev = tr.mapRect(area).adjusted(-2, -2, 2, 2).toAlignedRect()
        dpr = float(p.device().devicePixelRatioF()) if p.device() is not None else 1.0
        w = min(int(np.ceil(dev.width() * dpr)), MAX_SIDE)
        h = min(int(np.ceil(dev.height() * dpr)), MAX_SIDE)
        if w <= 0 or h <= 0:
            return
        key = (tr.m11(), tr.m12(), tr.m21(), tr.m22(), tr.dx(), tr.dy(), dev.x(), dev.y(), w, h,
               dpr, self._version, self._color.rgba(), self._width)
        if key != self._key or self._image is None:
            if self.interim and self._image is not None and self._key[10:] == key[10:]:
                inv, ok = self._tr.inverted()
                if ok:  # the same lines, seen through another transform
                    p.save()
                    p.setTransform(inv * tr)  # old device pixels -> the item -> new ones
                    p.drawImage(QPointF(self._key[6], self._key[7]), self._image)
                    p.restore()
                    return
            self._image = self._render(tr, dev.x(), dev.y(), w, h, dpr)
            self._key = key
            self._tr = QTransform(tr)
            self.renders += 1
        p.save()
        p.resetTransform()
        p.drawImage(QPointF(dev.x(), dev.y()), self._image)
        p.restore()

    def _render(self, tr, ox: float, oy: float, w: int, h: int, dpr: float) -> QImage:
        x, y = self._x, self._y
        with np.errstate(all="ignore"):
            px = (tr.m11() * x + tr.m21() * y + tr.dx() - ox) * dpr
            py = (tr.m12() * x + tr.m22() * y + tr.dy() - oy) * dpr
        cover = np.zeros((h, w), np.float32)
        raster_segments(px, py, 0.5 * self._width * dpr, cover)
        # coverage (256 steps) -> premultiplied ARGB32 pixel, through a 256-entry table
        k = np.arange(256) / 255.0 * self._color.alphaF()
        c = self._color
        lut = ((np.round(k * 255.0).astype(np.uint32) << 24)
               | (np.round(k * c.red()).astype(np.uint32) << 16)
               | (np.round(k * c.green()).astype(np.uint32) << 8)
               | np.round(k * c.blue()).astype(np.uint32))
        rgba = lut[(cover * 255.0 + 0.5).astype(np.uint8)]
        img = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied).copy()  # owns its pixels
        img.setDevicePixelRatio(dpr)
        return img
