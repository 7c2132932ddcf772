"""Small pyqtgraph building blocks shared by the views."""

from __future__ import annotations

import weakref

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem

from gdviz.ui.views.decimate import PathDecimator, SeriesDecimator

#: points a growing curve's live tail may hold before they join the cached prefix
TAIL_CHUNK = 384


def cache_axes(plot_item: pg.PlotItem) -> None:
    """Keep each axis (ticks, labels, grid lines) as a cached pixmap, redrawn only when the
    axis changes: a frame then repaints the data, not the text (window and export alike)."""
    for ax in plot_item.axes.values():
        ax["item"].setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def connect_all(pairs) -> list:
    """Connect each (signal, slot) pair (a view's handlers, in one block); returns the pairs
    for :func:`disconnect_all`."""
    pairs = list(pairs)
    for signal, slot in pairs:
        signal.connect(slot)
    return pairs


def disconnect_all(pairs) -> list:
    """Undo :func:`connect_all` (pairs already gone are skipped); returns an empty list."""
    for signal, slot in pairs or []:
        try:
            signal.disconnect(slot)
        except (ValueError, RuntimeError):
            pass
    return []


class HistoryFeed:
    """Tells a view when the runs' recorded history was replaced (one per view).

    A view feeds its curves with the rows recorded since the last frame
    (:func:`new_rows`); :meth:`sync` says when that is not enough: a new engine (a restart,
    a replay, another problem), a reset, another number of runs, or another ``key`` (what
    the view derives from the rows, e.g. which parameters a trail shows). Then the view
    clears its curves and they read everything again, once.
    """

    def __init__(self):
        self._runset = None
        self._token = None

    def sync(self, session, key=None) -> bool:
        """True when the curves must start again (the history is not the one they hold)."""
        rs = session.runset
        token = (getattr(rs, "version", 0), session.n_runs, key)
        if self._runset is not None and self._runset() is rs and token == self._token:
            return False
        self._runset = weakref.ref(rs)  # a strong one would keep an old engine's buffers
        self._token = token
        return True


def new_rows(runset, r: int, curve: "GrowingCurve", upto: int):
    """The rows of run ``r`` that ``curve`` does not hold yet, up to step ``upto``: (steps
    int64 (m,), params float64 (m, n_params), loss float64 (m,)), read-only views. When the
    display went back (``upto`` below the curve's last step), the curve is cut back first."""
    upto = min(int(upto), runset.last_step(r))
    after = curve.last_key
    if after > upto:
        after = curve.truncate(upto)
    return runset.recorded(r, after=after, upto=upto)


class GrowingCurve:
    """A polyline that grows at its end, drawn as a cached prefix plus a short live tail.

    Thick antialiased paths cost per vertex on every repaint. A race repaints every
    frame, but only the last few points of each trail are new: the prefix (all but the
    newest < ``TAIL_CHUNK`` kept points) is one item whose pixels Qt caches
    (``DeviceCoordinateCache``) and redraws only when it grows by a chunk, changes or the
    view changes; the tail is a tiny item repainted each frame. The two share the joint
    point, so the line looks like one.

    The curve is fed only what is new: :meth:`extend` with the points since the last
    frame, :meth:`truncate` when the display goes back, then :meth:`draw` once per frame.
    It keeps them in a decimator (``"path"``: a trail at screen resolution, see
    :class:`~gdviz.ui.views.decimate.PathDecimator`; ``"series"``: y against the step with
    a min/max envelope, :class:`~gdviz.ui.views.decimate.SeriesDecimator`), so a frame
    costs the same at step 10 and at step 10^6. :meth:`twin` makes a second pair of items
    (a halo) drawn from the same points.
    """

    _instances = 0

    def __init__(self, z: float = 0.0, connect: str = "finite", mode: str = "path"):
        if mode not in ("path", "series"):
            raise ValueError(f"mode must be 'path' or 'series', got {mode!r}")
        self.mode = mode
        self.dec = PathDecimator() if mode == "path" else SeriesDecimator()
        # bare curve items: PlotDataItem's bookkeeping (display datasets, data rects, log
        # and fft modes) cost more per frame than drawing the few new points
        self.prefix = pg.PlotCurveItem(connect=connect)
        self.tail = pg.PlotCurveItem(connect=connect)
        self.prefix.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        for item in (self.prefix, self.tail):
            item.setZValue(z)
        self._twins: list[GrowingCurve] = []
        #: y is drawn as log10(y) on a logarithmic axis (the plot's log mode does not reach
        #: bare curve items); y <= 0 are gaps there
        self.log_y = False
        self._drawn_log = False
        self._head = None
        self._cut = -1   # the prefix holds kept points [0, cut]; -1: not drawn
        self._pen = None
        self._visible = True
        # curves growing in step would all re-cache their prefix on the same frame: give
        # each its own phase so the work spreads over the frames
        GrowingCurve._instances += 1
        self._phase = (GrowingCurve._instances * 97) % TAIL_CHUNK

    def twin(self, z: float) -> "GrowingCurve":
        """A second pair of items at ``z`` that shows this curve's points (its own pen)."""
        other = GrowingCurve(z=z, connect=self.prefix.opts["connect"], mode=self.mode)
        other.dec = self.dec
        self._twins.append(other)
        return other

    @property
    def items(self) -> tuple[pg.PlotCurveItem, pg.PlotCurveItem]:
        return self.prefix, self.tail

    def add_to(self, plot_item) -> None:
        for item in self.items:
            plot_item.addItem(item)

    def remove_from(self, plot_item) -> None:
        for item in self.items:
            plot_item.removeItem(item)

    def set_pen(self, pen) -> None:
        # a new QPen each frame would restyle and repaint both items for nothing
        if self._pen is not None and pen == self._pen:
            return
        self._pen = pg.mkPen(pen)
        for item in self.items:
            item.setPen(pen)

    def set_visible(self, flag: bool) -> None:
        flag = bool(flag)
        if flag == self._visible:
            return
        self._visible = flag
        for item in self.items:
            item.setVisible(flag)

    # ------------------------------------------------------------------ feeding
    def clear(self) -> None:
        """Forget every point (new data follow)."""
        self.dec.clear()
        self._cut = -1

    @property
    def last_key(self) -> int:
        """The last key (step) fed, -1 when empty."""
        return self.dec.last_key

    def extend(self, keys: np.ndarray, x: np.ndarray, y: np.ndarray | None = None) -> None:
        """Feed the points after the last key: int64 ``keys`` (m,) increasing; a path takes
        float64 ``x``, ``y`` (m,), a series its values as ``x`` (drawn against the keys)."""
        if self.mode == "path":
            self.dec.extend(keys, x, y)
        else:
            self.dec.extend(keys, x)

    def truncate(self, key: int) -> int:
        """Forget the points after ``key``; returns the last key still held: feed again
        from the one after it."""
        return self.dec.truncate(int(key))

    def draw(self, head: tuple[float, float] | None = None) -> None:
        """Show the kept points, then the pending ones and ``head`` (a point drawn last,
        e.g. the current position when it falls between recorded rows)."""
        dec = self.dec
        n = dec.n
        dirty = dec.take_dirty()
        m = max(n - 1 - self._phase, 0)
        cut = min((m // TAIL_CHUNK) * TAIL_CHUNK + self._phase, n - 1) if m else 0
        redo = cut != self._cut or dirty <= self._cut or self.log_y != self._drawn_log
        px, py = dec.pending()
        if head is not None:
            hx, hy = float(head[0]), float(head[1])
            if len(px):
                lx, ly = px[-1], py[-1]
            elif n:
                lx, ly = dec.x[n - 1], dec.y[n - 1]
            else:
                lx = ly = None
            if (hx, hy) != (lx, ly):  # the last point already is the head
                px, py = np.append(px, hx), np.append(py, hy)
        self._head = (px, py)
        # new arrays: the items must not hold views of buffers that are written again
        tx = np.concatenate([dec.x[cut:n], px])
        ty = np.concatenate([dec.y[cut:n], py])
        if self.log_y:
            ty = _log10(ty)
        pre = None
        if redo:
            self._cut = cut
            self._drawn_log = self.log_y
            if cut > 0:
                pre = (dec.x[: cut + 1].copy(), dec.y[: cut + 1].copy())
                if self.log_y:
                    pre = (pre[0], _log10(pre[1]))
            else:
                pre = (_EMPTY, _EMPTY)
        for c in (self, *self._twins):
            if pre is not None:
                c.prefix.setData(*pre)
            c.tail.setData(tx, ty)
            c._head = self._head

    def set_data(self, x: np.ndarray, y: np.ndarray) -> None:
        """Show the curve through float64 (m,) ``x``, ``y`` (all of it: small data and
        tests; a series takes ``x`` as integer steps)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        self.clear()
        if self.mode == "path":
            self.extend(np.arange(len(x), dtype=np.int64), x, y)
        else:
            self.extend(x.astype(np.int64), y)
        self.draw()

    def get_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The points drawn at the last :meth:`draw`, in data units (not the log10 a
        logarithmic axis draws): kept, pending, head. For tests and export."""
        dec = self.dec
        px, py = self._head if self._head is not None else (_EMPTY, _EMPTY)
        return (np.concatenate([dec.x[: dec.n], px]), np.concatenate([dec.y[: dec.n], py]))

    # the PlotDataItem-style names, so views and tests treat it like one item
    setPen = set_pen
    setVisible = set_visible
    setData = set_data
    getData = get_data

    @property
    def opts(self) -> dict:
        return self.prefix.opts

    def isVisible(self) -> bool:  # noqa: N802 - Qt style
        return self.prefix.isVisible()


_EMPTY = np.zeros(0)


def _log10(y: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)
