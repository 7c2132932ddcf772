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

import sys
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QTransform

from gdviz import kernels
from gdviz.kernels.raster import clip_pairs, coverage_pixels, raster_segments

#: largest image drawn (device pixels per side): a map on an 8K screen
MAX_SIDE = 8192
#: an item that waited at a paint draws anew at the next while the paint has spent less
#: than this many times the budget (RasterBudget): each waits one paint, in the common case
DUE_SHARE = 2.0
#: a curve's points further than this from the device's origin (pixels) are clipped to
#: the image in data units before they are mapped (see RasterLines._render)
HUGE_PX = 1.0e7


class RasterBudget:
    """How long a view's rasterised items may spend drawing anew in one paint.

    After a zoom of L12 with six runs at step 1,000 the trails' ~80 pieces (each run's
    trail and halo) were all rasterised in the paint that ended the zoom: 80-95 ms. Past
    :attr:`ms` in a paint (:meth:`start` begins one), an item whose image was only moved or
    scaled (or restyled: a theme, a text size) draws its kept image through the new
    transform, as an interim item does, and asks for a next paint (:meth:`owe`): the map
    is sharp again a piece at a time, each paint bounded.

    New data past :attr:`ms` wait too (the kept image of the item's older data, if any,
    stands in): a step of 20,000 on L15's x^2 + 10 y^2 with ten runs at lr 0.099999, a
    zig-zag decaying too slowly for its segments to repeat, rasterised 400,000 segments of
    370 pixels in one paint, 3.4 s. An item that waited is *due*: at the next paint it
    draws while the paint has spent less than :data:`DUE_SHARE` x :attr:`ms`, before the
    items whose data changed since, so a trail's middle that changes every frame cannot
    keep a later one waiting. Off (:attr:`enabled` False, an export's views) every item is
    drawn anew in the paint that asks."""

    def __init__(self, ms: float = 20.0):
        self.ms = float(ms)
        self.enabled = False
        self._spent = 0.0
        self._owed: list = []

    def start(self) -> None:
        """A paint begins."""
        self._spent = 0.0

    def affords(self, due: bool = False) -> bool:
        """Whether an item may draw anew now (``due``: it waited at an earlier paint)."""
        return not self.enabled or self._spent * 1000.0 < self.ms * (DUE_SHARE if due else 1.0)

    def charge(self, seconds: float) -> None:
        self._spent += float(seconds)

    def owe(self, item) -> None:
        """``item`` drew a stale image: it is repainted once this paint is over."""
        if not self._owed:
            QTimer.singleShot(0, self._pay)
        self._owed.append(item)

    def _pay(self) -> None:
        owed, self._owed = self._owed, []
        for item in owed:
            try:
                item.update()
            except RuntimeError:  # (deleted with its view since)
                pass


class RasterLines(pg.GraphicsObject):
    """Segments (x[2s], y[2s]) -> (x[2s+1], y[2s+1]) in data coordinates, one colour and
    width (a cosmetic pen: the width is in device pixels)."""

    #: repeated segments are drawn once (raster_segments' ``unique``: a trail's)
    unique = False

    def __init__(self, pen=None):
        super().__init__()
        self._x = np.zeros(0)
        self._y = np.zeros(0)
        self._bounds = QRectF()
        self._rect: QRectF | None = None  # the bounding rect, padded (see boundingRect)
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
        #: the view's time for drawing anew in one paint (:class:`RasterBudget`), or None
        self.budget: RasterBudget | None = None
        self._due = False  # it waited at a paint past the budget (RasterBudget)
        self._lut_for: int | None = None  # the colour (rgba) _lut_table is for
        self._lut_table = np.zeros(256, np.uint32)
        if pen is not None:
            self.setPen(pen)

    # ------------------------------------------------------------------ data
    def setData(self, x, y) -> None:  # noqa: N802 - pyqtgraph's API
        x = np.asarray(x, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        if x.shape != y.shape or x.size % 2:
            raise ValueError(f"x and y must be the same even length, got {x.size} and {y.size}")
        self.prepareGeometryChange()
        self._rect = None
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
        width = max(float(pen.widthF()), 0.5)
        if width != self._width:
            self.prepareGeometryChange()
            self._rect = None
            self._width = width
        self.update()

    def pen(self) -> tuple[QColor, float]:
        return QColor(self._color), self._width

    # ------------------------------------------------------------------ paint
    def boundingRect(self) -> QRectF:  # noqa: N802
        """The segments' box grown by the pen's width in pixels (a horizontal contour has
        no height, and Qt would not paint an item with an empty box)."""
        if self._rect is not None:
            return QRectF(self._rect)
        r = QRectF(self._bounds)
        if self._x.size == 0:
            return r
        pad = self._width + 1.0
        pw, ph = self.pixelWidth() or 0.0, self.pixelHeight() or 0.0
        r = r.adjusted(-pad * pw, -pad * ph, pad * pw, pad * ph)
        if pw > 0.0 and ph > 0.0:
            # kept until the data, the pen or the view change: Qt asks many times a paint,
            # and pyqtgraph's pixel sizes cost ~40 us each (a zoom of L12's 22 trail
            # chunks: 12 ms)
            self._rect = QRectF(r)
        return r

    def viewTransformChanged(self) -> None:  # noqa: N802 - the padding is in pixels
        self._rect = None
        self.prepareGeometryChange()

    def dataBounds(self, ax, frac=1.0, orthoRange=None):  # noqa: N802, N803 - autoRange
        if self._x.size == 0:
            return (None, None)
        r = self._bounds
        return (r.left(), r.right()) if ax == 0 else (r.top(), r.bottom())

    def paint(self, p, *args) -> None:
        try:
            self._paint(p)
        except Exception:  # noqa: BLE001 - reported, never out of the Qt virtual:
            # PySide segfaulted reporting an exception raised out of a paint (a bug of this
            # item's, made in this change and caught by the tests as a crash)
            sys.excepthook(*sys.exc_info())

    def _paint(self, p) -> None:
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
            budget = self.budget
            late = budget is not None and not budget.affords(self._due)
            # the same lines (data, resolution), seen through another transform: while the
            # view moves ahead of them (interim, in the same pen), or past the paint's
            # budget (in the old pen too: a theme or text size restyles every trail; and
            # past it, new data wait too, the image of the older ones standing in)
            same = self._image is not None and self._key[10:12] == key[10:12]
            waits = same and self.interim and self._key[12:] == key[12:]
            if waits or late:
                ok = False
                if self._image is not None and self._key[10] == key[10]:  # (its resolution)
                    inv, ok = self._tr.inverted()
                    if ok:
                        p.save()
                        p.setTransform(inv * tr)  # old device pixels -> the item -> new ones
                        p.drawImage(QPointF(self._key[6], self._key[7]), self._image)
                        p.restore()
                if late:
                    self._due = True
                    budget.owe(self)  # drawn anew at a next paint
                    return
                if ok:
                    return
            t0 = time.perf_counter()
            self._image = self._render(tr, dev.x(), dev.y(), w, h, dpr)
            self._key = key
            self._tr = QTransform(tr)
            self._due = False
            self.renders += 1
            if budget is not None:
                budget.charge(time.perf_counter() - t0)
        p.save()
        p.resetTransform()
        p.drawImage(QPointF(dev.x(), dev.y()), self._image)
        p.restore()

    def _render(self, tr, ox: float, oy: float, w: int, h: int, dpr: float) -> QImage:
        # the segments clipped to the image in data units first when they reach far off it:
        # a diverging run's points (~1e300) would overflow to inf in device pixels, and
        # their segments vanish
        x, y = self._x, self._y
        b = tr.mapRect(self._bounds)
        if not max(abs(b.left()), abs(b.right()), abs(b.top()), abs(b.bottom())) < HUGE_PX:
            inv, ok = tr.inverted()
            if ok and x.size:
                pad = self._width + 2.0
                r = inv.mapRect(QRectF(ox - pad, oy - pad, w / dpr + 2 * pad, h / dpr + 2 * pad))
                ax, ay, bx, by = clip_pairs(x[0::2], y[0::2], x[1::2], y[1::2],
                                            (r.left(), r.right(), r.top(), r.bottom()))
                x, y = np.empty(2 * ax.size), np.empty(2 * ax.size)
                x[0::2], x[1::2], y[0::2], y[1::2] = ax, bx, ay, by
        return self._paint_segments(x, y, tr, ox, oy, w, h, dpr)

    def _paint_segments(self, x, y, tr, ox: float, oy: float, w: int, h: int,
                        dpr: float) -> QImage:
        with np.errstate(all="ignore"):
            px = (tr.m11() * x + tr.m21() * y + tr.dx() - ox) * dpr
            py = (tr.m12() * x + tr.m22() * y + tr.dy() - oy) * dpr
        cover = np.zeros((h, w), np.float32)
        raster_segments(px, py, 0.5 * self._width * dpr, cover, unique=self.unique)
        # coverage (256 steps) -> premultiplied ARGB32 pixel, through a 256-entry table,
        # written straight into the image's own pixels
        img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
        pixels = np.frombuffer(img.bits(), np.uint32).reshape(h, img.bytesPerLine() // 4)[:, :w]
        coverage_pixels(cover, self._lut(), pixels)
        img.setDevicePixelRatio(dpr)
        return img

    def _lut(self) -> np.ndarray:
        """The 256 premultiplied ARGB32 pixels of the pen's colour at coverage k/255 (kept
        while the colour stays)."""
        rgba = self._color.rgba()
        if self._lut_for != rgba:
            k = np.arange(256) / 255.0 * self._color.alphaF()
            c = self._color
            self._lut_table = ((np.round(k * 255.0).astype(np.uint32) << 24)
                               | (np.round(k * c.red()).astype(np.uint32) << 16)
                               | (np.round(k * c.green()).astype(np.uint32) << 8)
                               | np.round(k * c.blue()).astype(np.uint32))
            self._lut_for = rgba
        return self._lut_table


class RasterCurve(RasterLines):
    """A polyline through (x, y), drawn as :class:`RasterLines` draws its segments: a sealed
    chunk of a map trail or halo (:class:`~gdviz.ui.views.items.GrowingCurve` made with
    ``raster=True``). A segment the run retraces (a zig-zag between the same two points)
    is drawn once.

    A trail that zig-zags (L12's Momentum at batch size 1) is a thousand segments tens to
    hundreds of pixels long, stroked twice (the trail and its halo). Qt stroked a zoom's
    sealed chunks anew at ~3.5 ms each: 100-115 ms a zoom at step 1,000 with two runs,
    270-300 ms with six (470 ms in the GUI fuzz). The rasteriser draws the two runs' in
    ~11 ms; and while the map moves ahead of its grid (``interim``, as the contours) a zoom
    or a pan draws the kept images moved and scaled: what the old view did not show comes
    with the new grid, as the contours' does.

    The interface is the part of a curve item the growing curve uses: ``setData(x, y)``
    (non-finite points are gaps), ``getData()``, ``xData``, ``setPen``, ``opts``."""

    unique = True

    def __init__(self, connect: str = "finite"):
        super().__init__()
        self.opts = {"pen": pg.mkPen(), "antialias": True, "connect": connect}
        self.xData = self.yData = np.zeros(0)

    def setData(self, x, y) -> None:  # noqa: N802 - pyqtgraph's API
        x = np.asarray(x, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError(f"x and y must be the same length, got {x.size} and {y.size}")
        self.xData, self.yData = x, y
        m = max(x.size - 1, 0)
        sx, sy = np.empty(2 * m), np.empty(2 * m)
        sx[0::2], sx[1::2] = x[:m], x[1:]
        sy[0::2], sy[1::2] = y[:m], y[1:]
        super().setData(sx, sy)

    def getData(self) -> tuple[np.ndarray, np.ndarray]:  # noqa: N802
        return self.xData, self.yData

    def setPen(self, *args, **kwargs) -> None:  # noqa: N802
        pen = pg.mkPen(*args, **kwargs)
        self.opts["pen"] = pen
        super().setPen(pen)

    def setCacheMode(self, mode, *args) -> None:  # noqa: N802 - Qt's name
        """Its image is its cache (kept while the view and the data stay): Qt's is not used."""

    def _paint_segments(self, x, y, tr, ox: float, oy: float, w: int, h: int,
                        dpr: float) -> QImage:
        if not kernels.is_ready():
            # until numba has compiled (a first start): stroked by Qt into the image, as
            # Qt's device cache did (~3.5 ms a zig-zag chunk); the numpy twin took 20-50 ms
            return self._stroke_segments(x, y, tr, ox, oy, w, h, dpr)
        return super()._paint_segments(x, y, tr, ox, oy, w, h, dpr)

    def _stroke_segments(self, x, y, tr, ox: float, oy: float, w: int, h: int,
                         dpr: float) -> QImage:
        img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(0)
        img.setDevicePixelRatio(dpr)
        with np.errstate(invalid="ignore"):
            ok = np.repeat((np.isfinite(x) & np.isfinite(y)).reshape(-1, 2).all(axis=1), 2)
        x, y = x[ok], y[ok]  # (a gap: a pair with a non-finite end)
        if x.size:
            p = QPainter(img)
            try:
                p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                p.setTransform(tr * QTransform.fromTranslate(-ox, -oy))
                pen = QPen(self._color, self._width)
                pen.setCosmetic(True)
                pen.setCapStyle(Qt.PenCapStyle.RoundCap)  # (the rasteriser's ends)
                pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
                p.setPen(pen)
                p.drawPath(pg.arrayToQPath(x, y, connect="pairs"))
            finally:
                p.end()
        return img


class RasterStroke(RasterCurve):
    """A :class:`RasterCurve` that paints for another item, ``owner`` (a curve of
    pyqtgraph's: :class:`~gdviz.ui.views.items.RasterPlotCurve`), inside the owner's
    paint: in no scene, with the owner's bounds (its pen's padding included)."""

    def __init__(self, owner):
        super().__init__()
        self._owner = owner

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._owner.boundingRect()
