"""Small pyqtgraph building blocks shared by the views."""

from __future__ import annotations

import bisect
import functools
import math
import time
import weakref

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import _DEFAULT_STYLE as DEFAULT_STYLE
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import (QColor, QFontMetrics, QImage, QPainter, QPainterPath, QPen,
                           QPolygonF, QTransform)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsWidget

from gdviz import kernels
from gdviz.kernels.raster import clip_pairs
from gdviz.ui.views.decimate import PathDecimator, SeriesDecimator
from gdviz.ui.views.raster_item import RasterCurve, RasterStroke
from gdviz.ui.views.turns import MANY_RUNS

#: kept points in the first sealed (cached) chunks of a growing curve; every 8 chunks the
#: size doubles (up to 4096): a short curve seals small chunks, cheap to cache, and a
#: long one (a noisy run circling its minimum) does not end up with hundreds of items
TAIL_CHUNK = 128
MAX_CHUNK = 4096


def chunk_size(j: int) -> int:
    """Kept points in chunk ``j`` of a growing curve."""
    return min(TAIL_CHUNK << (j // 8), MAX_CHUNK)


def _chunk_bounds(count: int = 512) -> list[int]:
    out = [0]
    for j in range(count):
        out.append(out[-1] + chunk_size(j))
    return out


#: chunk j of a growing curve holds kept points [_BOUNDS[j], _BOUNDS[j + 1]]
_BOUNDS = _chunk_bounds()
#: kept points its live tail (set again every frame) may hold before they join the middle
LIVE_CHUNK = 32
#: frames without a change after which a middle is cached (a converged run, a long race)
STILL_FRAMES = 8


def cache_axes(plot_item: pg.PlotItem) -> None:
    """Keep each axis (ticks, labels, grid lines) as a cached pixmap, redrawn only when the
    axis changes: a frame then repaints the data, not the text (window and export alike).
    Each axis writes its title only when the title changes (:func:`steady_axis_title`)."""
    for ax in plot_item.axes.values():
        ax["item"].setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        steady_axis_title(ax["item"])


def steady_axis_title(axis: pg.AxisItem) -> None:
    """Let ``axis`` write its title (and size itself for it) only when the title's text
    changes. pyqtgraph writes it anew at every change of the axis's range, for its
    automatic SI prefix ("(x1e6)"), the same text almost always: a text size or a
    language resized the plots ~15 times each, and their axes wrote ~300 titles (HTML
    laid out again, ~10 % of the change). The range still redraws the ticks."""
    if getattr(axis, "_steady_title", False):
        return
    write = axis._updateLabel
    shown = [None]

    def update_label() -> None:
        html = axis.labelString()
        if html != shown[0]:
            shown[0] = html
            write()
            # a fixed-size axis is not resized by a new title, and pyqtgraph places the
            # title only in resizeEvent: it stayed where the old text's centre was (L07
            # after L19: "c2" sat on the tick labels, placed for a longer title)
            axis.resizeEvent(None)
        else:  # (what a new range needs: the ticks drawn again)
            axis.picture = None
            axis.update()

    axis._updateLabel = update_label
    axis._steady_title = True


class SpacedAxis(pg.AxisItem):
    """An axis whose numbered ticks leave a gap between their labels.

    pyqtgraph spaces the major ticks by the axis's length alone (at least 2.25 intervals,
    whatever the font): at 200 % text on the loss dock's narrow plot "500 1000 1500" and
    "20406080" ran together; in projector mode on a 1280×720 screen the loss plot's short
    log axis wrote "1", "0.01" and "0.0001" over one another. The spacing grows (1, 2, 5,
    10, ...; decades on a log axis) until the labels that fit on the axis (pyqtgraph drops
    one that would stick out at an end) are a space apart across (a tenth of a line
    apart up the side), as words and lines are."""

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph's API
        levels = super().tickSpacing(minVal, maxVal, size)
        if not levels or self._tickSpacing is not None or size <= 0 or maxVal <= minVal:
            return levels
        fm = QFontMetrics(self.style["tickFont"] or self.font())
        major = levels[0][0]
        for _ in range(12):  # the first spacing whose labels are apart
            shown, apart = self._labels(fm, minVal, maxVal, size, major)
            if apart and shown:
                break
            digit = round(major / 10 ** np.floor(np.log10(major)))
            major *= 2.5 if digit == 2 else 2.0  # 1 → 2 → 5 → 10
        else:
            return levels
        if major == levels[0][0]:
            return levels
        digit = round(major / 10 ** np.floor(np.log10(major)))
        return [(major, 0), (major / (2 if digit == 2 else 5), 0)]

    def _labels(self, fm, lo: float, hi: float, size: float, spacing: float) -> tuple[int, bool]:
        """(how many labels fit on the axis at ``spacing``, whether they are a gap apart)."""
        values = np.arange(np.ceil(lo / spacing), np.floor(hi / spacing) + 1) * spacing
        across = self.orientation in ("top", "bottom")
        gap = fm.horizontalAdvance(" ") if across else 0.1 * fm.height()
        spans = []
        for v, text in zip(values, self.tickStrings(list(values), self.scale, spacing)):
            x = (v - lo) / (hi - lo) * size
            half = (fm.horizontalAdvance(text) if across else fm.height()) / 2
            if x - half >= 0 and x + half <= size:
                spans.append((x - half, x + half))
        apart = all(b[0] - a[1] >= gap for a, b in zip(spans, spans[1:]))
        return len(spans), apart


def _nothing(*_a, **_k) -> None:
    return None


def plain_plot(plot_item: pg.PlotItem) -> None:
    """A plot without pyqtgraph's "Plot Options" menu (log axes, FFT, averaging: not a
    lesson's, and a stray right click in class could turn the map into its FFT) and without
    that menu's bookkeeping: pyqtgraph lists every curve's parameters anew at each item
    added or removed, quadratic in the items (small in practice: a lesson replacing 20 runs
    timed the same). A view's own menu (the ViewBox's) stays."""
    plot_item.setMenuEnabled(False, enableViewBoxMenu=None)
    plot_item.updateParamList = _nothing


def lesson_menu(plot_item: pg.PlotItem):
    """The view's right-click menu, emptied of pyqtgraph's own entries for the view to add
    a lesson's: "View All", the X and Y axis panels (manual ranges, inversion, links),
    "Mouse Mode" and the scene's "Export..." were English in every UI language, and that
    Export wrote the plot alone, unlike the app's export. Qt hides the leading separator."""
    menu = plot_item.getViewBox().menu
    for action in menu.actions():
        action.setVisible(False)
    scene = plot_item.scene()
    if scene is not None:
        scene.contextMenu = []
    return menu


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


#: Qt objects let go (an old legend, a view put away, an export's picture): held here, their
#: Python state whole, until Qt has deleted them (:func:`delete_later`)
_DYING: list = []
#: how often the held objects are looked at again while some wait for their deletion (ms)
_RECHECK_MS = 50


def delete_later(*objs) -> None:
    """Let ``objs`` go: Python-owned Qt objects (no parent widget, or taken out of their
    scene) that the caller drops. Qt deletes them from its event loop (``deleteLater``),
    while every Python object they call into is whole: they are held here until then.

    (Dropped in a reference cycle, such an object waited for Python's cyclic collector,
    which deletes it whenever a collection runs, mid-event, after it has emptied the dicts
    of the objects it frees: Qt then sent the dying plot's items their last resize events,
    and a pyqtgraph ``LabelItem``, its ``opts`` emptied, raised ``KeyError: 'justify'``
    (once in seven 10,000-action fuzz runs). Qt's own deferred deletion, not
    ``shiboken6.delete`` from Python: the path every other widget takes, and one that
    never deletes an object while an event of its own is being handled.)"""
    import shiboken6

    objs = [o for o in objs if o is not None and shiboken6.isValid(o)]
    if not objs:
        return
    if not _DYING:
        QTimer.singleShot(0, _forget_deleted)
    for obj in objs:
        if isinstance(obj, QObject):
            obj.deleteLater()
        else:  # a plain graphics item (no QObject): deleted with a parent that is one
            grave = QGraphicsWidget()
            obj.setParentItem(grave)
            grave.deleteLater()
            _DYING.append(grave)
    _DYING.extend(objs)


def _forget_deleted() -> None:
    """Drop the held objects that Qt has deleted; look again later while some remain."""
    import shiboken6

    _DYING[:] = [o for o in _DYING if shiboken6.isValid(o)]
    if _DYING:
        QTimer.singleShot(_RECHECK_MS, _forget_deleted)


def dying() -> int:
    """How many let-go objects wait for their deletion (for tests)."""
    import shiboken6

    return sum(shiboken6.isValid(o) for o in _DYING)


def closes_once(close):
    """A view's ``close`` that runs once: again, it returns True and does nothing
    (pyqtgraph's own close is not harmless twice: it has no plot item left the second
    time). ``_closed`` is set before the body runs: Qt sends resize and palette events
    while pyqtgraph tears the plot down, and the view's handlers skip them.

    pyqtgraph's close takes the view box and the axes out of the scene and drops them:
    Python's then, with the box's items (the fit panel's legend and its labels), in
    reference cycles that only the cyclic collector frees. They are deleted by Qt on the
    next turn instead (:func:`delete_later`)."""
    @functools.wraps(close)
    def once(self) -> bool:
        if getattr(self, "_closed", False):
            return True
        self._closed = True
        items = _scene_items(self)
        try:
            return close(self)
        finally:
            import shiboken6

            delete_later(*[i for i in items if shiboken6.isValid(i)
                           and i.scene() is None and i.parentItem() is None])

    return once


def _scene_items(widget) -> list:
    """Every item in the scenes of ``widget`` and of the graphics views under it."""
    from PySide6.QtWidgets import QGraphicsView

    views = widget.findChildren(QGraphicsView)
    if isinstance(widget, QGraphicsView):
        views.insert(0, widget)
    out, seen = [], set()
    for view in views:
        scene = view.scene()
        if scene is not None and id(scene) not in seen:
            seen.add(id(scene))
            out.extend(scene.items())
    return out


#: hidden item sets a view keeps for the runs to come (see :class:`Spares`): at most
#: ``MAX_SPARES``; above ``KEEP_SPARES`` the rest is dropped once the view is idle,
#: ``TRIM_BATCH`` sets (~2 ms each) a turn of the event loop
MAX_SPARES = 256
KEEP_SPARES = 16
TRIM_BATCH = 4
TRIM_AFTER_MS = 400
#: the spares' curves put away in a change are emptied on later turns, this long a turn
RESET_TURN_MS = 8.0


class Spares:
    """The item sets of runs that left a view (a run's curves, its label), hidden, for
    the next runs to take before a view makes new ones.

    Removing an item from a plot and freeing it cost ~0.3 ms (pyqtgraph's bookkeeping and
    signals, Qt's scene index, the wrapper), making one about as much: a lesson opened over
    20 leftover runs removed ~420 items (200-600 ms), to make them again as runs came back.
    A hidden item draws nothing and takes no part in its view's auto range; it stays in
    its box (moved out to a hidden parent, each item cost ~0.1 ms out and back). Sets are
    taken last in, first out: runs coming back take their own items, in their order.

    A spare is still told of each pan and zoom (83 spare sets tripled the cost of a pan of
    the map), so above ``KEEP_SPARES`` sets the oldest are dropped (``drop(*items)``
    removes a set for good) a few at a time once the view has been idle for
    ``TRIM_AFTER_MS``; at once beyond ``cap``. ``drop`` is a method of the view
    ``parent``; both are held weakly.

    An item here is a :class:`GrowingCurve` (emptied: :meth:`GrowingCurve.reset`) or any
    graphics item (hidden); each set is a tuple of them.
    """

    def __init__(self, drop, parent, cap: int = MAX_SPARES, keep: int = KEEP_SPARES):
        self._sets: list[tuple] = []
        # both weak: a cycle through the view kept a closed export's view alive until a
        # garbage collection freed it at a random time, with its legend's labels
        self._parent = weakref.ref(parent)  # (the view: the trimming timer goes with it)
        self._drop_ref = weakref.WeakMethod(drop)
        self.cap = int(cap)
        self.keep = int(keep)
        self._timer: QTimer | None = None
        #: curves put here hidden, not yet emptied (see :meth:`put`)
        self._unreset: list = []
        self._reset_timer: QTimer | None = None

    def __len__(self) -> int:
        return len(self._sets)

    def _drop(self, *items) -> None:
        """The view's ``drop`` (out of its plot), then the items to Qt's deferred deletion:
        left to Python, one caught in a reference cycle waited for the collector."""
        drop = self._drop_ref()
        if drop is not None:
            drop(*items)
            delete_later(*[part for item in items
                           for part in (item.items if isinstance(item, GrowingCurve)
                                        else (item,))
                           if isinstance(part, QGraphicsItem) and part.scene() is None])

    def put(self, *items) -> None:
        """Keep ``items`` (one run's set, in its view) hidden. A curve is emptied
        (:meth:`GrowingCurve.reset`) on a later turn of the event loop, or when taken:
        a lesson opened over 20 leftover runs emptied ~90 curves in its own turn (~13 ms
        of ~110 at 300 % text)."""
        if len(self._sets) >= self.cap:
            self._drop(*items)
            return
        for item in items:
            if isinstance(item, GrowingCurve):
                item.set_visible(False)
                self._unreset.append(item)
            else:  # (its data stay: a view gives a set taken back its own, as to a new one)
                item.setVisible(False)
        self._sets.append(items)
        self._trim_later()
        if self._unreset:
            self._reset_later()

    def take(self) -> tuple | None:
        """The set put here last (hidden: the caller gives it what it gives a new set: its
        phase, pen, data, visibility), or None when there is none."""
        if not self._sets:
            return None
        self._trim_later()
        items = self._sets.pop()
        self._reset(items)
        return items

    def _reset(self, items) -> None:
        """Empty the curves among ``items`` that are not yet."""
        for curve in self._forget(items):
            curve.reset()

    def reset_pending(self, budget_ms: float = RESET_TURN_MS) -> None:
        """Empty the curves put here since, one at least and then for about ``budget_ms``;
        again on a later turn while some are left."""
        t_end = time.perf_counter() + budget_ms / 1e3
        while self._unreset:  # (one at least: each turn makes progress)
            self._unreset.pop().reset()
            if time.perf_counter() >= t_end:
                break
        if self._unreset:
            self._reset_later()

    def _reset_later(self) -> None:
        parent = self._parent()
        if parent is None:
            return
        if self._reset_timer is None:
            self._reset_timer = QTimer(parent)
            self._reset_timer.setSingleShot(True)
            self._reset_timer.timeout.connect(self.reset_pending)
        if not self._reset_timer.isActive():
            self._reset_timer.start(0)

    def trim(self, batch: int = TRIM_BATCH) -> None:
        """Drop up to ``batch`` of the oldest sets above ``keep``; again on a later turn
        while more are left."""
        n = min(max(len(self._sets) - self.keep, 0), int(batch))
        gone, self._sets = self._sets[:n], self._sets[n:]
        for items in gone:
            self._forget(items)
            self._drop(*items)
        if len(self._sets) > self.keep:
            self._timer.start(0)

    def _forget(self, items) -> list:
        """Take the curves among ``items`` off the list still to empty; returns them."""
        taken = [item for item in items
                 if isinstance(item, GrowingCurve) and item in self._unreset]
        for curve in taken:
            self._unreset.remove(curve)
        return taken

    def close(self) -> None:
        """No trimming after this (the view closes: pyqtgraph tears its plot down)."""
        for timer in (self._timer, self._reset_timer):
            if timer is not None:
                timer.stop()
        self._sets = []
        self._unreset = []

    def _trim_later(self) -> None:
        if self._timer is None:
            self._timer = QTimer(self._parent())
            self._timer.setSingleShot(True)
            self._timer.timeout.connect(self.trim)
        if len(self._sets) > self.keep:
            self._timer.start(TRIM_AFTER_MS)
        else:
            self._timer.stop()


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


class RunsBuild:
    """Tells a view whether its build for the session's runs (items, pens, legend, then a
    frame) is due: one change of the session sends several signals (a scene's: problem,
    runs, settings, stepped), and a view that built for the runs on the first of them has
    nothing left to do on the next. Due when the runs (specs, colours, starts, labels),
    the problem, the history or the step shown, or ``extra`` (the theme, the text size)
    differ from the last build."""

    def __init__(self):
        self._key = None
        self._runset = None

    def due(self, session, *extra) -> bool:
        s = session
        rs = s.runset
        key = (s.n_runs, tuple(s.specs), tuple(s.colors), tuple(tuple(p) for p in s.starts),
               tuple(s.spec_label(i) for i in range(len(s.specs))), s.kind,
               id(s.problem), id(s.landscape), tuple(s.linked), int(s.t),
               getattr(rs, "version", 0), *extra)
        if self._runset is not None and self._runset() is rs and key == self._key:
            return False
        self._key = key
        self._runset = weakref.ref(rs)
        return True

    def forget(self) -> None:
        """The next :meth:`due` is True (the view changed its items itself)."""
        self._key = None


#: a window's view makes at most this many runs' new item sets in one turn of the event
#: loop (:class:`BuildPace`)
PACE_RUNS = 8


class BuildPace:
    """How many runs' new item sets (curves, labels: not a :class:`Spares` set taken back)
    a view makes in one turn of the event loop; the rest on the turns after.

    A set costs ~2.5 ms on the map (a trail, its halo, a label: 8 items made and added to
    the plot) and ~3 ms in the loss panel (three curves). A start added on the map with 28
    runs adds 28 runs (one per card): made at once, the click's turn took ~130 ms. Paced,
    a view makes :attr:`per_turn` sets, draws the runs it has items for, and goes on at
    the next turn (``again``, a method of the view ``parent``, on a 0 ms timer) until every
    run has its set. Off (:attr:`enabled` False: an export's views, and any view made
    outside a window) every set is made at once."""

    def __init__(self, again, parent, per_turn: int = PACE_RUNS):
        self.enabled = False
        self.per_turn = int(per_turn)
        self._again = weakref.WeakMethod(again)
        self._timer = QTimer(parent)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._go)
        #: turns that left runs for a later one (for tests)
        self.deferred = 0

    def room(self) -> int:
        """How many new sets the view may make now."""
        return self.per_turn if self.enabled else 1 << 30

    def sets(self, spares: "Spares", start: int, n: int):
        """(r, a set taken from ``spares`` or None: make one) for the runs ``start``..n-1
        that get their sets in this turn: a spare for each while any is left, new ones
        for at most :meth:`room`; the rest at the next turn (:meth:`defer`)."""
        room = self.room()
        for r in range(start, n):
            spare = spares.take()
            if spare is None:
                if room <= 0:
                    self.defer()
                    return
                room -= 1
            yield r, spare

    def defer(self) -> None:
        """Some runs have no set yet: the view goes on at the next turn."""
        self.deferred += 1
        self._timer.start(0)

    @property
    def waiting(self) -> bool:
        """Runs wait for their sets (the view shows the others meanwhile)."""
        return self._timer.isActive()

    def behind(self, built: int, n: int) -> bool:
        """A view holding ``built`` runs' sets must build for the session's ``n`` runs
        now, in this turn: runs went, or runs came and no turn of this pace is on its way
        (runs_changed has not reached the view yet)."""
        return built > n or (built < n and not self.waiting)

    def _go(self) -> None:
        again = self._again()
        if again is not None:
            again()


#: rows read at once when a long history is fed (a jump, a rebuild): bounded temporaries
READ_CHUNK = 1 << 16


def new_rows(runset, r: int, curve: "GrowingCurve", upto: int):
    """Yield the rows of run ``r`` that ``curve`` does not hold yet, up to step ``upto``,
    in pieces of at most ``READ_CHUNK`` rows: (steps int64 (m,), params float64
    (m, n_params), loss float64 (m,)), read-only views. When the display went back
    (``upto`` below the curve's last step), the curve is cut back first."""
    upto = min(int(upto), runset.last_step(r))
    after = curve.last_key
    if after > upto:
        after = curve.truncate(upto)
    span = READ_CHUNK * runset.stride
    while after < upto:
        end = min(upto, after + span)
        rows = runset.recorded(r, after=after, upto=end)
        if len(rows[0]):
            yield rows
        after = end


#: a curve whose bounds span more device pixels than this is clipped before it is stroked:
#: Qt's antialiased stroker spent minutes on a path with coordinates of ~1e9 px (a run
#: flying off the map, dragged in view); a normal frame never takes this path
MAX_DEVICE_SPAN = 1.0e5
#: how far past the device's edges (px) such a curve is kept (see :func:`paint_huge`)
HUGE_MARGIN = 64.0


def clip_segments(x: np.ndarray, y: np.ndarray, connect: str,
                  box: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The segments of polyline ``x``, ``y`` (float64 (m,); ``connect`` "pairs" joins points
    2k and 2k+1, anything else each point to the next, non-finite points being gaps)
    clipped to ``box`` = (x0, x1, y0, y1) by Liang-Barsky: float64 (2s,) endpoints of the
    s segments that cross the box, to draw with ``connect="pairs"``."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    if len(x) < 2:
        return np.zeros(0), np.zeros(0)
    if connect == "pairs":
        n = len(x) // 2 * 2
        xa, ya, xb, yb = x[0:n:2], y[0:n:2], x[1:n:2], y[1:n:2]
    else:
        xa, ya, xb, yb = x[:-1], y[:-1], x[1:], y[1:]
    ax, ay, bx, by = clip_pairs(xa, ya, xb, yb, box)
    out_x = np.empty(2 * len(ax))
    out_y = np.empty_like(out_x)
    out_x[0::2], out_x[1::2] = ax, bx
    out_y[0::2], out_y[1::2] = ay, by
    return out_x, out_y


def paint_huge(p, rect: QRectF | None, x, y, connect: str, pen, antialias: bool) -> bool:
    """Stroke ``x``, ``y`` clipped to the device (grown by HUGE_MARGIN px) when ``rect``
    (the curve's bounds in item coordinates) spans more than MAX_DEVICE_SPAN device
    pixels; False (nothing done) otherwise, and the caller draws its own path as usual.
    The cut segments are stroked in device pixels (:func:`stroke_pairs`)."""
    if rect is None or x is None or len(x) < 2:
        return False
    t = p.transform()
    dev = t.mapRect(rect)
    if not (dev.width() > MAX_DEVICE_SPAN or dev.height() > MAX_DEVICE_SPAN):
        return False
    inv, ok = t.inverted()
    if not ok:
        return True  # a degenerate view shows nothing
    d = p.device()
    # the device grown by HUGE_MARGIN px, so that the cut ends (and their caps) lie outside
    # it (three view widths each way made a diverging run's zig-zag, 45 long segments,
    # take ~250 ms to stroke after a wheel zoom in L4)
    m = HUGE_MARGIN
    vis = inv.mapRect(QRectF(-m, -m, d.width() + 2 * m, d.height() + 2 * m))
    box = (vis.left(), vis.right(), vis.top(), vis.bottom())
    cx, cy = clip_segments(x, y, connect, box)
    if not len(cx):
        return True
    if not t.isAffine() or not pen.isCosmetic():  # (never in a view: pyqtgraph's pens are)
        p.setRenderHint(p.RenderHint.Antialiasing, antialias)
        p.setPen(pen)
        p.drawPath(pg.arrayToQPath(cx, cy, connect="pairs"))
        return True
    # the cut ends in device pixels (an affine map takes a segment to a segment)
    px = t.m11() * cx + t.m21() * cy + t.dx()
    py = t.m12() * cx + t.m22() * cy + t.dy()
    p.save()
    try:
        p.resetTransform()
        stroke_pairs(p, px, py, pen, antialias, (d.width(), d.height()))
    finally:
        p.restore()
    return True


def stroke_pairs(p, x, y, pen, antialias: bool, size: tuple[float, float]) -> None:
    """Stroke the segments (x[2k], y[2k]) -> (x[2k+1], y[2k+1]) (float64, device pixels,
    ``p`` without a transform) with cosmetic ``pen`` on a device of ``size`` (w, h), as
    one stroke of the pen would, the fast way.

    Qt strokes a long segment fast only in device pixels, with an opaque pen and no round
    cap (its line rasterizer); otherwise it fills the stroke's outline scanline by
    scanline, and a diverging run's zig-zag (11 segments across the map) took 3 ms aliased
    and 28 ms antialiased for its translucent halo, 17-22 ms for its line (one paint of
    the map; 11 such runs made a step ~200 ms). So the segments are drawn with flat caps
    and the round caps as round points on top (the same shape), and a translucent pen
    draws opaque into a layer laid over with the pen's alpha (overlaps blended once, as
    in one stroke): 0.5-0.8 ms each."""
    alpha = pen.color().alphaF()
    if alpha <= 0.0 or len(x) < 2:
        return
    w = max(pen.widthF(), 1.0)
    line = opaque(pen)
    round_cap = pen.capStyle() == Qt.PenCapStyle.RoundCap
    if round_cap:
        line.setCapStyle(Qt.PenCapStyle.FlatCap)
    r = w / 2 + 2
    x0, y0 = float(np.min(x)) - r, float(np.min(y)) - r
    # (round caps are points drawn over the segments: under an item's opacity too, they
    # go through a layer, or each end would be blended twice)
    layer = _OpaqueLayer(p, alpha, QRectF(x0, y0, float(np.max(x)) + r - x0,
                                          float(np.max(y)) + r - y0), always=round_cap)
    q = layer.painter
    if q is None:
        return
    try:
        q.setRenderHint(QPainter.RenderHint.Antialiasing, antialias)
        q.setPen(line)
        q.drawPath(pg.arrayToQPath(x, y, connect="pairs"))
        if round_cap:
            # the ends on (or near) the device; the others lie outside it
            r = w / 2 + 1
            near = (x >= -r) & (x <= size[0] + r) & (y >= -r) & (y <= size[1] + r)
            if near.any():
                dot = QPen(line)
                dot.setCapStyle(Qt.PenCapStyle.RoundCap)
                q.setPen(dot)
                q.drawPoints(QPolygonF([QPointF(a, b) for a, b in zip(x[near], y[near])]))
    finally:
        layer.finish()


class _OpaqueLayer:
    """Where a translucent pen is stroked opaque, to be laid over with its alpha (see
    :func:`stroke_pairs`): ``painter`` is ``p`` itself for an opaque pen, else a painter
    on a transparent image over ``box`` (a QRectF in device pixels, cut to the device),
    with ``p``'s transform. :meth:`finish` lays the image over ``p``."""

    def __init__(self, p, alpha: float, box: QRectF, always: bool = False):
        self.p = p
        self.alpha = float(alpha)
        self.painter = p
        self.image = None
        self.origin = None
        # ``always``: a layer also for an opaque pen under a translucent painter (an item
        # with an opacity: strokes that overlap each other blend once, as one stroke)
        if self.alpha >= 1.0 and not (always and p.opacity() < 1.0):
            return
        d = p.device()
        box = box.intersected(QRectF(0, 0, d.width(), d.height()))
        if box.isEmpty():
            self.painter = None  # nothing on the device
            return
        dpr = d.devicePixelRatioF() or 1.0
        x0, y0 = math.floor(box.left()), math.floor(box.top())
        w, h = math.ceil(box.right()) - x0, math.ceil(box.bottom()) - y0
        self.origin = QPointF(x0, y0)
        self.image = QImage(max(int(math.ceil(w * dpr)), 1), max(int(math.ceil(h * dpr)), 1),
                            QImage.Format.Format_ARGB32_Premultiplied)
        self.image.setDevicePixelRatio(dpr)
        self.image.fill(0)
        self.painter = QPainter(self.image)
        self.painter.setTransform(p.transform() * QTransform.fromTranslate(-x0, -y0))

    def finish(self) -> None:
        if self.image is None:
            return
        self.painter.end()
        p = self.p
        p.save()
        try:
            p.resetTransform()
            p.setOpacity(p.opacity() * self.alpha)
            p.drawImage(self.origin, self.image)
        finally:
            p.restore()


def opaque(pen) -> QPen:
    """``pen`` with its colour's alpha 1."""
    out = QPen(pen)
    c = QColor(pen.color())
    c.setAlphaF(1.0)
    out.setColor(c)
    return out


def stroke_path(p, path: QPainterPath, pen, antialias: bool) -> None:
    """Stroke ``path`` (item coordinates) with cosmetic ``pen``; a translucent pen through
    an opaque layer (:class:`_OpaqueLayer`): Qt fills a translucent stroke's outline
    scanline by scanline, ~4x the time of the same stroke opaque (a run's halo)."""
    alpha = pen.color().alphaF()
    if alpha <= 0.0 or path.isEmpty():
        return
    w = max(pen.widthF(), 1.0) / 2 + 2
    box = p.transform().mapRect(path.controlPointRect()).adjusted(-w, -w, w, w)
    layer = _OpaqueLayer(p, alpha, box)
    q = layer.painter
    if q is None:
        return
    try:
        q.setRenderHint(QPainter.RenderHint.Antialiasing, antialias)
        q.setPen(opaque(pen) if alpha < 1.0 else pen)
        q.drawPath(path)
    finally:
        layer.finish()


class _FitCache:
    """An item's device cache, never for a curve far larger than the screen: Qt's device
    cache rounds the item's device box to int pixels, and a box of ~1e12 px came out
    empty, so a cached chunk of a diverging run vanished from the map (window and
    export). The cache asked for is kept and given back once the curve fits (checked at
    each change of the data or of the view: :meth:`_fit_cache`)."""

    _wanted_cache = QGraphicsItem.CacheMode.NoCache

    def setCacheMode(self, mode, *args) -> None:  # noqa: N802 - Qt name
        self._wanted_cache = mode
        self._fit_cache()

    def _fit_cache(self) -> None:
        mode = self._wanted_cache
        if mode != QGraphicsItem.CacheMode.NoCache and self._is_huge():
            mode = QGraphicsItem.CacheMode.NoCache
        if mode != self.cacheMode():
            QGraphicsItem.setCacheMode(self, mode)

    #: the data's width and height (item units), kept until the data change (``None``)
    _span: tuple[float, float] | None = None

    def _data_span(self) -> tuple[float, float]:
        x, y = self.getData()
        if x is None or len(x) < 2:
            return (0.0, 0.0)
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(x) & np.isfinite(y)
            if not ok.any():
                return (0.0, 0.0)
            xs, ys = x[ok], y[ok]
            return (float(xs.max() - xs.min()), float(ys.max() - ys.min()))

    def _is_huge(self) -> bool:
        # (the data's span, not pyqtgraph's bounding rect: that one asks for the pen's
        # pixel padding, and 500 cached curves told of a new range of the loss plot
        # took 0.12 s to measure)
        if self._span is None:
            self._span = self._data_span()
        w, h = self._span
        if w <= 0.0 and h <= 0.0:
            return False
        view = self.getViewWidget()
        if view is None:
            return False
        t = self.deviceTransform(view.viewportTransform())
        return (w * math.hypot(t.m11(), t.m12()) > MAX_DEVICE_SPAN
                or h * math.hypot(t.m21(), t.m22()) > MAX_DEVICE_SPAN)


def pixel_lengths(item) -> tuple[float, float]:
    """How long one device pixel is along ``item``'s x and along its y (item units): the
    lengths of pyqtgraph's ``item.pixelVectors()``, read off the device transform's scale
    when the view is not rotated (every plot here), without its vector algebra (~65 us an
    item, at each change of the view). (0, 0) where pyqtgraph gives none or overflows."""
    # (None while the view is not shown; pyqtgraph before 0.14 named it deviceTransform)
    dt = (item.deviceTransform_() if hasattr(item, "deviceTransform_")
          else pg.GraphicsItem.deviceTransform(item))
    if dt is None:
        return (0.0, 0.0)
    if dt.m12() != 0.0 or dt.m21() != 0.0:
        px, py = item.pixelVectors()
        try:
            return (0.0 if px is None else px.length(), 0.0 if py is None else py.length())
        except OverflowError:
            return (0.0, 0.0)
    sx, sy = abs(dt.m11()), abs(dt.m22())
    if sx == 0.0 or sy == 0.0:
        return (0.0, 0.0)
    px, py = 1.0 / sx, 1.0 / sy
    return (px if math.isfinite(px) else 0.0, py if math.isfinite(py) else 0.0)


class Curve(pg.PlotDataItem):
    """pyqtgraph's data curve, which does not follow the view while it is hidden.

    pyqtgraph redoes a curve's display data at each change of its view's range (its
    ``dynamicRangeLimit``), shown or not: the hidden curves of a view (a run's spares, a
    hidden panel's runs) did it too, ~150 of them per lesson opened, ~4 ms. A hidden curve
    notes that its view moved and catches up when it shows again."""

    _range_missed = False

    def viewRangeChanged(self, vb=None, ranges=None, changed=None) -> None:  # noqa: N802
        if not self.isVisible():
            self._range_missed = True
            return
        super().viewRangeChanged(vb, ranges, changed)

    def itemChange(self, change, value):  # noqa: N802 - Qt name
        ret = super().itemChange(change, value)
        if (change == QGraphicsItem.GraphicsItemChange.ItemVisibleHasChanged and value
                and self._range_missed):
            self._range_missed = False
            super().viewRangeChanged()  # (both axes: what it missed)
        return ret


class SafeCurve(_FitCache, pg.PlotCurveItem):
    """pyqtgraph's curve, clipped to the view first when its bounds are astronomically
    larger than the screen (see :func:`paint_huge`); then never cached (:class:`_FitCache`)."""

    def setData(self, *args, **kwargs) -> None:  # noqa: N802 - pyqtgraph's name
        super().setData(*args, **kwargs)
        self._span = None
        if self._wanted_cache != QGraphicsItem.CacheMode.NoCache:
            self._fit_cache()

    #: the data's bounds ((xmin, xmax), (ymin, ymax)) for the bounding rect, until the data
    #: or the pen change (pyqtgraph's invalidateBounds)
    _data_box = None

    def invalidateBounds(self) -> None:  # noqa: N802 - pyqtgraph's name
        super().invalidateBounds()
        self._data_box = None

    def viewTransformChanged(self) -> None:  # noqa: N802 - pyqtgraph hook
        # pyqtgraph forgets the data's bounds too (invalidateBounds) and measures them
        # again (nanmin, nanmax) at the next boundingRect; they do not depend on the view:
        # only the pen's padding in pixels does. A zoom with 30 runs' trails (~280 curves)
        # measured every curve's data at each of its paints.
        self._boundingRect = None
        self.prepareGeometryChange()
        if self._wanted_cache != QGraphicsItem.CacheMode.NoCache:
            self._fit_cache()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt name
        # an empty curve (a growing curve's unsealed chunks, an empty middle) has no
        # cached bounds in pyqtgraph: it asked dataBounds twice at each of the scene's
        # many calls (a third of a many-run frame's boundingRect time)
        x = self.xData
        if x is None or len(x) == 0:
            return QRectF()
        if self._boundingRect is None:
            # pyqtgraph's rect (PlotCurveItem.boundingRect), its pixel from the device
            # transform's scale (pixel_lengths) rather than pixelVectors' vector algebra;
            # the data's bounds kept here (pyqtgraph's cache holds one query an axis, and a
            # view's autorange asks with its own range)
            if self._data_box is None:
                self._data_box = (self.dataBounds(ax=0), self.dataBounds(ax=1))
            (xmn, xmx), (ymn, ymx) = self._data_box
            if xmn is None or xmx is None or ymn is None or ymx is None:
                return QRectF()
            pad = self.pixelPadding()
            px, py = pixel_lengths(self) if pad > 0 else (0.0, 0.0)
            px, py = px * pad, py * pad
            self._boundingRect = QRectF(xmn - px, ymn - py, 2 * px + xmx - xmn, 2 * py + ymx - ymn)
        return self._boundingRect

    def paint(self, p, opt, widget) -> None:
        x, y = self.xData, self.yData
        if x is not None and len(x) > 1 and paint_huge(
                p, self.boundingRect(), x, y, self.opts.get("connect", "all")
                if isinstance(self.opts.get("connect"), str) else "all",
                self.opts["pen"], bool(self.opts.get("antialias", True))):
            return
        o = self.opts
        pen = o["pen"]
        if (x is not None and len(x) > 1 and pen.color().alphaF() < 1.0 and pen.isCosmetic()
                and o["fillLevel"] is None and o["shadowPen"] is None
                and o["compositionMode"] is None and self._exportOpts is False
                and pen.style() == Qt.PenStyle.SolidLine
                and not self._shouldUseDrawLineSegments(pen)):
            stroke_path(p, self.getPath(), pen, bool(o.get("antialias", True)))
            return
        super().paint(p, opt, widget)


def fed_stroke(owner, x, y, pen) -> RasterStroke:
    """``owner``'s :class:`~gdviz.ui.views.raster_item.RasterStroke` (``owner._stroke``,
    made at its first use), given ``x``, ``y`` and ``pen`` only when they changed (the
    same arrays: its kept image stays)."""
    st = owner._stroke
    if st is None:
        st = owner._stroke = RasterStroke(owner)
        # in no scene, Python's: Qt deletes it after its owner, not Python's collector
        # (the two hold each other: the stroke and its kept image waited for a collection)
        owner.destroyed.connect(st.deleteLater)
    if st.xData is not x or st.yData is not y:
        st.setData(x, y)
        st.xData, st.yData = x, y
    if st.pen() != (QColor(pen.color()), max(float(pen.widthF()), 0.5)):
        st.setPen(pen)
    return st


class RasterPlotCurve(SafeCurve):
    """A curve stroked by the numba rasteriser (:class:`~gdviz.ui.views.raster_item.
    RasterStroke`) when its pen is a solid cosmetic line and the kernels are compiled;
    otherwise as :class:`SafeCurve` (a dashed diverged run, the first seconds of a first
    start, and aliased: many runs playing). The image is kept while the view, the data
    and the pen stay.

    Qt fills a wide antialiased stroke's outline scanline by scanline, its round joins and
    caps included: a fit run's curve (300 points, 4.5 px) took ~1 ms to stroke, and a
    wiggly one (L9's overfit, a run with a large rate) 3-8 ms. Rasterised, ~1 ms each,
    smooth or wiggly: a plot of twelve wiggly runs rendered in 17 ms against Qt's 98 ms,
    of twelve smooth ones in 8.4 against 12 ms (axes included, in the same process). The
    rasteriser's round ends are the pen's round caps and joins, and the segments overlap
    without darkening, as in one stroke."""

    _stroke: RasterStroke | None = None

    def paint(self, p, opt, widget) -> None:
        x, y = self.xData, self.yData
        o = self.opts
        pen = o["pen"]
        if (x is None or len(x) < 2 or not kernels.is_ready() or o.get("connect") != "finite"
                or not o.get("antialias", True)  # (many runs playing: Qt's aliased stroke
                # is faster, 0.5 ms a curve; see PlayingStrokes)
                or pen.style() != Qt.PenStyle.SolidLine or not pen.isCosmetic()
                or o["fillLevel"] is not None or o["shadowPen"] is not None
                or o["compositionMode"] is not None or self._exportOpts is not False):
            super().paint(p, opt, widget)
            return
        fed_stroke(self, x, y, pen).paint(p)


class RasterRunCurve(Curve):
    """:class:`Curve` whose line is a :class:`RasterPlotCurve` (a fit run's curve)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        plain, self.curve = self.curve, RasterPlotCurve()
        plain.setParentItem(None)
        self.curve.setParentItem(self)
        self.curve.sigClicked.connect(self.sigClicked)
        self.updateItems(styleUpdate=True)  # (its connect, pen and data, as the first had)


#: a map trail's tail longer than this on the device (pixels) is rasterised (LiveCurve):
#: Qt strokes a 4 px antialiased segment of 1,000 px in ~0.5 ms, a race's short tail in
#: less than the rasteriser's image costs (the frame bench, every tail rasterised: 9.7-9.9
#: ms; with this threshold 8.9-9.0, as Qt's strokes alone)
RASTER_TAIL_PX = 1500.0


class LiveCurve(_FitCache, pg.GraphicsObject):
    """A short polyline given new points every frame (a growing curve's tail).

    PlotCurveItem recomputes its bounds with warning-guarded nanmin/nanmax, asks for its
    pixel vectors and rebuilds its path on every setData and paint; for a few dozen
    points that bookkeeping costs more than the drawing. This item builds its path and
    bounds once per :meth:`setData` and pads the bounds by the pen only when the view
    changes. Same pen, connect and getData conventions as PlotCurveItem.
    """

    def __init__(self, connect: str = "finite"):
        super().__init__()
        self.opts = {"pen": pg.mkPen(), "connect": connect,
                     "antialias": bool(pg.getConfigOption("antialias"))}
        self._x = self._y = _EMPTY
        self._path = QPainterPath()
        self._data_rect: QRectF | None = None
        self._rect: QRectF | None = None
        self._pad: tuple[float, float] | None = None

    def setPen(self, *args, **kwargs) -> None:  # noqa: N802 - Qt style
        self.opts["pen"] = pg.mkPen(*args, **kwargs)
        self._invalidate()

    def setData(self, x: np.ndarray, y: np.ndarray) -> None:  # noqa: N802
        """Draw through float64 (m,) ``x``, ``y``; non-finite points are gaps."""
        self._x, self._y = x, y
        self._path = QPainterPath()
        self._data_rect = None
        if len(x):
            ok = np.isfinite(x) & np.isfinite(y)
            if ok.any():
                xs, ys = x[ok], y[ok]
                x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
                self._data_rect = QRectF(x0, y0, x1 - x0, y1 - y0)
                if len(x) > 1:
                    self._path = pg.arrayToQPath(x, y, connect=self.opts["connect"])
        self._rect = None
        self._span = None
        self.prepareGeometryChange()
        self.update()
        if self._wanted_cache != QGraphicsItem.CacheMode.NoCache:
            self._fit_cache()

    def getData(self) -> tuple[np.ndarray, np.ndarray]:  # noqa: N802
        return self._x, self._y

    def _invalidate(self) -> None:
        self._pad = None
        self._rect = None
        self.prepareGeometryChange()
        self.update()

    def viewTransformChanged(self) -> None:  # noqa: N802 - pyqtgraph hook
        self._invalidate()
        if self._wanted_cache != QGraphicsItem.CacheMode.NoCache:
            self._fit_cache()

    def boundingRect(self) -> QRectF:  # noqa: N802
        if self._rect is None:
            r = self._data_rect
            if r is None:
                self._rect = QRectF()
                return self._rect
            if self._pad is None:
                pen = self.opts["pen"]
                w = pen.widthF() * 0.7072 + 1.0 if pen.isCosmetic() else 0.0
                px, py = pixel_lengths(self)
                self._pad = (px * w, py * w)
            dx, dy = self._pad
            self._rect = r.adjusted(-dx, -dy, dx, dy)
        return self._rect

    def _device_length(self, tr) -> float:
        """The polyline's length in device pixels through ``tr`` (its finite segments)."""
        with np.errstate(all="ignore"):
            px = tr.m11() * self._x + tr.m21() * self._y
            py = tr.m12() * self._x + tr.m22() * self._y
            d = np.hypot(np.diff(px), np.diff(py))
        return float(d[np.isfinite(d)].sum())

    #: a map trail's tail (GrowingCurve ``raster``) longer than RASTER_TAIL_PX on the
    #: device (a zig-zag; a shorter one costs Qt less than an image): antialiased, stroked
    #: by the numba rasteriser (:func:`fed_stroke`) within the view's ``raster_budget``,
    #: as its sealed chunks are. Paused, every step changes every tail:
    #: 16 runs zig-zagging across Rastrigin (L21's SGD at lr 0.3), each tail 21 segments of
    #: ~1,000 px, took Qt 380-440 ms a paint (heavy GUI fuzz: 82-105 ms turns). Only
    #: painted into its view, clipped to it: into Qt's item cache (unclipped) the image
    #: was as large as the tail's whole reach, up to MAX_SIDE square (a 900 ms paint).
    #: Such a tail keeps no device cache (its image is its cache, as a RasterCurve's).
    raster = False
    raster_budget = None
    _stroke: RasterStroke | None = None

    def _rasterised(self, tr) -> bool:
        """Whether the numba rasteriser draws it through the device transform ``tr``."""
        pen = self.opts["pen"]
        return (self.raster and self.opts["antialias"] and kernels.is_ready()
                and self.opts["connect"] == "finite" and pen.style() == Qt.PenStyle.SolidLine
                and pen.isCosmetic() and self._device_length(tr) > RASTER_TAIL_PX)

    def _fit_cache(self) -> None:
        # a still tail asks for Qt's device cache; a rasterised one is painted into it
        # unclipped and re-stroked by Qt there at each step (paused, 16 zig-zagging runs:
        # 240 ms a step at 200 % text), so it keeps none
        if self.raster and self._wanted_cache != QGraphicsItem.CacheMode.NoCache:
            view = self.getViewWidget()
            if view is not None and self._rasterised(
                    self.deviceTransform(view.viewportTransform())):
                if self.cacheMode() != QGraphicsItem.CacheMode.NoCache:
                    QGraphicsItem.setCacheMode(self, QGraphicsItem.CacheMode.NoCache)
                return
        super()._fit_cache()

    def paint(self, p, *args) -> None:
        if self._path.isEmpty():
            return
        if paint_huge(p, self._data_rect, self._x, self._y, self.opts["connect"],
                      self.opts["pen"], self.opts["antialias"]):
            return
        pen = self.opts["pen"]
        if p.hasClipping() and self._rasterised(p.transform()):
            st = fed_stroke(self, self._x, self._y, pen)
            st.budget = self.raster_budget
            st.paint(p)
            if st._due and self.raster_budget is not None:
                self.raster_budget.owe(self)  # (the stroke is in no scene: this item repaints)
            return
        stroke_path(p, self._path, pen, self.opts["antialias"])


#: above this many runs a view's run curves are stroked aliased while the race plays in the
#: window: QPainter strokes an aliased wide line 4.5-7x faster than an antialiased one
#: (0.5 against 3.2 ms for a wiggly 300-point 4.5 px fit curve here). A teacher's race
#: (4-8 runs) stays antialiased; paused, and in an export, every curve is.
#: (MANY_RUNS, from gdviz.ui.views.turns: the same threshold makes the views take turns)


def set_pen(item, pen) -> None:
    """Give ``item`` (a PlotDataItem) the line pen ``pen`` (a QPen) without feeding its
    curve its data again: pyqtgraph's ``setPen`` re-runs the item's whole update (the
    data re-checked and set again), and a theme or text size restyles every run's curve
    (60 curves of a 30-run schedule, twice per projector toggle). A curve shown or hidden
    by the change (a pen to or from None) takes pyqtgraph's path."""
    old = item.opts.get("pen")
    if old is None or pen is None or not isinstance(item, pg.PlotDataItem):
        item.setPen(pen)
        return
    item.opts["pen"] = pen
    item.curve.setPen(pen)  # (its bounds, which follow the pen's width, and a repaint)


#: the symbols a scatter keeps rendered beyond its points' own styles (see :class:`Points`)
SYMBOLS_KEPT = 64
#: from this many points, points of the scatter's own style find their symbol at once
ONE_STYLE_POINTS = 256


class Points(pg.ScatterPlotItem):
    """A ScatterPlotItem that forgets the symbols of styles it no longer has.

    pyqtgraph renders each (symbol, size, pen, brush) it meets into one atlas image, keyed
    on the pen's and brush's objects, and rebuilds the atlas only once it holds more than
    1000 symbols and 4 a point. A theme, a text size, projector mode or a step that gives
    a few points new pens or brushes added symbols that were never drawn again, and each
    addition copied the growing atlas (the loss view's run-end stars, 22 px at 300 %: one
    Ctrl+= spent 63 ms in it after 9,000 fuzz actions; the schedule view's dots, a brush a
    run at every step, 237 symbols for 3 dots after 5,000). Here the atlas starts again
    once it holds more than :data:`SYMBOLS_KEPT` symbols and 4 a point: a few points'
    symbols are rendered anew, and a scatter of many points (one or two styles) is
    rebuilt only past 4 symbols a point, as pyqtgraph would (a rebuild looks up every
    point's symbol again)."""

    def addPoints(self, *args, **kargs):  # noqa: N802 - pyqtgraph's name
        """pyqtgraph's, but the record array of a scatter given only positions (``setData(x,
        y)``: every scatter here) is made as ``np.zeros`` and its object fields set to None,
        the records ``np.empty`` makes: numpy filled each object field of each record one
        by one (31 ms of a 100,000-point fit's load, 5.5 ms so)."""
        if len(args) == 2 and not ({"x", "y"} & set(kargs)):
            kargs = dict(kargs, x=args[0], y=args[1])  # (setData(x, y), as pyqtgraph reads it)
            args = ()
        y = kargs.get("y")
        if args or len(self.data) or y is None or not set(kargs) <= {"x", "y"}:
            return super().addPoints(*args, **kargs)
        data = np.zeros(len(y), dtype=self.data.dtype)
        for name, (kind, *_) in data.dtype.fields.items():
            if kind.hasobject:
                data[name] = None
        data["size"] = -1  # (the scatter's own size: as pyqtgraph marks new points)
        data["visible"] = True
        data["x"] = kargs["x"]
        data["y"] = y
        self.data = data
        # the rest of pyqtgraph's addPoints for new points without styles of their own
        self.prepareGeometryChange()
        self.informViewBoundsChanged()
        self.bounds = [None, None]
        self.invalidate()
        self.updateSpots(data)
        self.sigPlotChanged.emit(self)

    def updateSpots(self, dataSet=None):  # noqa: N802, N803 - pyqtgraph's names
        atlas = self.fragmentAtlas
        if len(atlas) > max(SYMBOLS_KEPT, 4 * len(self.data)):
            atlas.clear()
            self.data["sourceRect"] = 0  # (every point's symbol is looked up again)
            dataSet = None
        if not self._one_style(self.data if dataSet is None else dataSet):
            super().updateSpots(dataSet)

    def _one_style(self, data) -> bool:
        """Points that all take the scatter's own style (none given one of its own): their
        one symbol is looked up once for all of them, where pyqtgraph looks it up point by
        point (a key made and hashed for each: 190 ms of a 100,000-row CSV's load).
        False, having done nothing, for any other points (pyqtgraph's path)."""
        opts = self.opts
        if len(data) < ONE_STYLE_POINTS or not (opts["pxMode"] and opts["useCache"]) \
                or opts["hoverable"]:
            return False
        todo = data["sourceRect"]["w"] == 0
        if not todo.any():
            return False
        names = ("symbol", "size", "pen", "brush")
        if not all(np.equal(data[k][todo], DEFAULT_STYLE[k]).all() for k in names):
            return False
        data["sourceRect"][todo] = self.fragmentAtlas[[tuple(opts[k] for k in names)]][0]
        self._maybeRebuildAtlas()
        self._updateMaxSpotSizes(data=data)
        self.invalidate()
        return True


def style_points(item: pg.ScatterPlotItem, *, size=None, brush=None, pen=None) -> None:
    """Give scattered points their default size, fill and outline, laid out once:
    pyqtgraph's ``setSize``, ``setBrush`` and ``setPen`` each render every point's symbol
    again (a text-size press restyled the classifier's, the fit's, the lr finder's points
    three times each, ~6 ms of the press). Nothing is redone when the style is the one
    they have."""
    style = (size, None if brush is None else pg.mkBrush(brush),
             None if pen is None else pg.mkPen(pen))
    if getattr(item, "_gdviz_style", None) == style:
        return
    item._gdviz_style = style
    size, brush, pen = style
    if size is not None:
        item.setSize(size, update=False)
    if brush is not None:
        item.setBrush(brush, update=False)
    if pen is not None:
        item.setPen(pen, update=False)
    item.updateSpots(item.data)  # (as the last setter would)


def set_antialias(item, flag: bool) -> bool:
    """Stroke ``item`` (a PlotCurveItem, LiveCurve or PlotDataItem) antialiased or not;
    repaints it (and drops its cached pixels) only when that changes. True if it did."""
    flag = bool(flag)
    targets = (item, item.curve) if isinstance(item, pg.PlotDataItem) else (item,)
    if all(bool(t.opts.get("antialias", True)) == flag for t in targets):
        return False
    for t in targets:
        t.opts["antialias"] = flag
        # aliased, pyqtgraph would stroke an opaque wide pen segment by segment
        # (``drawLines``: a cap per segment, slower than the path it replaces)
        t.opts["segmentedLineMode"] = "off"
    item.update()
    if item is not targets[-1]:
        targets[-1].update()
    return True


class PlayingStrokes:
    """Whether a view strokes its runs' curves aliased now: in the window (``enabled``,
    as the picture sets it; an export's views never are), while the race plays, with
    more than :data:`MANY_RUNS` runs (see there). Only the pieces redrawn every frame go
    aliased; cached pieces keep their antialiased pixels."""

    def __init__(self, session):
        self.session = session
        self.enabled = False

    @property
    def aliased(self) -> bool:
        s = self.session
        return self.enabled and bool(s.playing) and s.n_runs > MANY_RUNS


class RecacheBudget:
    """How many chunks the growing curves of a view may seal (cache) in this frame."""

    def __init__(self, per_frame: int = 1):
        self.per_frame = int(per_frame)
        self.left = self.per_frame

    def reset(self) -> None:
        """A new frame."""
        self.left = self.per_frame

    def take(self) -> bool:
        if self.left > 0:
            self.left -= 1
            return True
        return False


class GrowingCurve:
    """A polyline that grows at its end: sealed cached chunks, a middle and a live tail.

    Thick antialiased paths cost per vertex whenever they are drawn, and re-caching an
    item repaints everything under it. A race repaints every frame, but only the last few
    points of each trail are new. So the kept points are cut into chunks (``TAIL_CHUNK``
    points, doubling every 8 chunks, see :func:`chunk_size`): a full chunk is sealed into
    an item whose pixels Qt caches
    (``DeviceCoordinateCache``) and that never changes again (until the view or the data
    change): sealing costs one chunk, however long the curve. The middle holds the chunk
    that is filling (set every ``LIVE_CHUNK`` points; not cached while it changes every few
    frames: stroking a few hundred points where the frame's small dirty region crosses it
    is cheaper than re-caching it; cached once it has not changed for ``STILL_FRAMES``);
    the tail (< ``LIVE_CHUNK`` points, then the pending points and the head) changes every
    frame. They share their joint points, so the line looks like one.

    Curves that grow in step (the runs of a race) would all move their middles on the
    same frame: a view gives each its own ``phase`` (the run index), the same in every
    window and export, so that a scene always draws the same pieces.

    The curve is fed only what is new: :meth:`extend` with the points since the last
    frame, :meth:`truncate` when the display goes back, then :meth:`draw` once per frame.
    It keeps them in a decimator (``"path"``: a trail at screen resolution, see
    :class:`~gdviz.ui.views.decimate.PathDecimator`; ``"series"``: y against the step with
    a min/max envelope, :class:`~gdviz.ui.views.decimate.SeriesDecimator`), so a frame
    costs the same at step 10 and at step 10^6. :meth:`twin` makes a second set of items
    (a halo) drawn from the same points.

    ``raster`` (the map's trails): the sealed chunks and the middle are
    :class:`~gdviz.ui.views.raster_item.RasterCurve` items, rasterised by numba and kept as
    their own images (the view's ``raster_budget`` bounds how many are drawn anew in one
    paint), not stroked by Qt into its device cache: a zig-zagging trail's long segments
    made each zoom re-stroke them all, 270 ms with six runs on L12.
    """

    def __init__(self, z: float = 0.0, connect: str = "finite", mode: str = "path",
                 phase: int = 0, raster: bool = False, raster_budget=None):
        if mode not in ("path", "series"):
            raise ValueError(f"mode must be 'path' or 'series', got {mode!r}")
        self.mode = mode
        #: sealed chunks drawn by the rasteriser (:class:`~gdviz.ui.views.raster_item.RasterCurve`,
        #: the map's trails), not stroked by Qt into its device cache
        self.raster = bool(raster)
        self.raster_budget = raster_budget  # (a RasterBudget shared by the view's curves)
        self._interim = False
        self.dec = PathDecimator() if mode == "path" else SeriesDecimator()
        self._z = z
        self._connect = connect
        self._plot = None
        self._pen = None
        self._item_pen = None  # what the items stroke: the pen, opaque (see set_pen)
        self._alpha = 1.0
        self._visible = True
        # bare curve items: PlotDataItem's bookkeeping (display datasets, data rects, log
        # and fft modes) cost more per frame than drawing the few new points
        self.chunks: list[pg.PlotCurveItem] = []
        self.prefix = self._chunk(0)  # the first chunk: what a legend shows
        self.middle = self._item(self._raster_curve() if self.raster else SafeCurve(connect=connect))
        tail = LiveCurve(connect=connect)
        if self.raster:  # (a map trail's: rasterised within the view's budget, as its chunks)
            tail.raster, tail.raster_budget = True, raster_budget
        self.tail = self._item(tail)
        #: shared by a view's curves: how many chunks may be sealed (cached) this frame
        self.budget: RecacheBudget | None = None
        self._twins: list[GrowingCurve] = []
        #: y is drawn as log10(y) on a logarithmic axis (the plot's log mode does not reach
        #: bare curve items); y <= 0 are gaps there
        self.log_y = False
        self._drawn_log = False
        self._head = None
        self._phase = (int(phase) * 11) % LIVE_CHUNK
        self._sealed = 0  # chunks sealed: kept points [0, _BOUNDS[sealed]]
        self._still = 0   # frames since the middle last changed
        self._tail_still = 0  # frames since the tail last changed
        self._tail_xy = (_EMPTY, _EMPTY)  # what the tail shows
        self._mid = -1    # the middle holds [sealed * TAIL_CHUNK, mid]; -1: not drawn

    def _item(self, item):
        item.setZValue(self._z)
        if self._pen is not None:
            item.setPen(self._item_pen)
            item.setOpacity(self._alpha)
        item.setVisible(self._visible)
        if self._plot is not None:
            self._plot.addItem(item)
        return item

    def _chunk(self, j: int) -> pg.PlotCurveItem:
        while len(self.chunks) <= j:
            if self.raster:
                item = self._raster_curve()
            else:
                item = SafeCurve(connect=self._connect)
                item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self.chunks.append(self._item(item))
        return self.chunks[j]

    def _raster_curve(self) -> RasterCurve:
        item = RasterCurve(connect=self._connect)
        item.interim = self._interim
        item.budget = self.raster_budget
        return item

    def set_interim(self, on: bool) -> None:
        """While its view moves ahead of its map (a zoom, a pan: see
        :class:`~gdviz.ui.views.raster_item.RasterLines`), rasterised chunks draw their
        kept images moved and scaled; off again, they are drawn anew at the view's scale."""
        on = bool(on)
        if on == self._interim:
            return
        self._interim = on
        if self.raster:
            for item in (*self.chunks, self.middle):
                item.interim = on
                if not on:
                    item.update()

    def set_phase(self, phase: int) -> None:
        """Give the curve the phase of run ``phase`` (its run index moved: a run before it
        was removed); the middle is drawn again at the next :meth:`draw`."""
        p = (int(phase) * 11) % LIVE_CHUNK
        if p != self._phase:
            self._phase = p
            self._mid = -1

    def twin(self, z: float) -> "GrowingCurve":
        """A second set of items at ``z`` that shows this curve's points (its own pen)."""
        other = GrowingCurve(z=z, connect=self._connect, mode=self.mode, phase=self._phase,
                             raster=self.raster, raster_budget=self.raster_budget)
        other.set_interim(self._interim)
        other.dec = self.dec
        self._twins.append(other)
        return other

    @property
    def items(self) -> tuple:
        return (*self.chunks, self.middle, self.tail)

    def add_to(self, plot_item) -> None:
        self._plot = plot_item
        for item in self.items:
            plot_item.addItem(item)

    def remove_from(self, plot_item) -> None:
        for item in self.items:
            plot_item.removeItem(item)
        self._plot = None

    def reset(self) -> None:
        """Hidden, and back to a new curve's state (its twins too): no points, its items
        emptied; its items themselves, their depth and pen stay (see :class:`Spares`)."""
        self.set_visible(False)
        self.dec = PathDecimator() if self.mode == "path" else SeriesDecimator()
        for c in (self, *self._twins):
            c.dec = self.dec
            c._visible = False
            c.log_y = c._drawn_log = False
            c._head = None
            c._sealed = c._still = c._tail_still = 0
            c._tail_xy = (_EMPTY, _EMPTY)
            c._mid = -1
            for item in (*c.chunks, c.middle):
                if item.xData is not None and len(item.xData):
                    item.setData(_EMPTY, _EMPTY)
            c.middle.setCacheMode(QGraphicsItem.CacheMode.NoCache)
            c.tail.setCacheMode(QGraphicsItem.CacheMode.NoCache)
            c.tail.setData(_EMPTY, _EMPTY)
            for item in c.items:
                item.setVisible(False)

    def set_pen(self, pen) -> None:
        # a new QPen each frame would restyle and repaint every item for nothing
        if self._pen is not None and pen == self._pen:
            return
        self._pen = pg.mkPen(pen)
        # a translucent pen: each item strokes it opaque and is laid over with its alpha
        # as the item's opacity. A sealed chunk's cached pixels are then its layer: laid
        # over translucent (stroke_path made an image of its own for each item at each
        # paint: 150 halo pieces of 30 runs were 60 of a zoom's 130 ms a paint)
        self._alpha = self._pen.color().alphaF()
        self._item_pen = opaque(self._pen) if self._alpha < 1.0 else self._pen
        for item in self.items:
            item.setPen(self._item_pen)
            item.setOpacity(self._alpha)

    def set_smooth(self, flag: bool) -> None:
        """Stroke the pieces redrawn every frame (the middle and the tail) antialiased or
        not (:class:`PlayingStrokes`); the sealed chunks, cached, always are, and so is a
        rasterised middle (its cost does not depend on it)."""
        for item in ((self.tail,) if self.raster else (self.middle, self.tail)):
            set_antialias(item, flag)

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
        self._mid = -1

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

    def _points(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Kept points [a, b] as new arrays (log10 on a log axis)."""
        x, y = self.dec.x[a: b + 1].copy(), self.dec.y[a: b + 1].copy()
        return x, (_log10(y) if self.log_y else y)

    def draw(self, head: tuple[float, float] | None = None, settle: bool = False) -> None:
        """Show the kept points, then the pending ones and ``head`` (a point drawn last,
        e.g. the current position). ``settle``: nothing changes after this frame (the race
        does not play), so the middle and the tail are cached now; otherwise each is once
        it has not changed for ``STILL_FRAMES`` frames (a run that stopped: diverged,
        at its last step) and no longer when it changes. A tail that did not change is
        not set again."""
        dec = self.dec
        n = dec.n
        dirty = dec.take_dirty()
        B = _BOUNDS
        # chunks holding a changed point (a cut back, new data, another scale) are unsealed
        sealed = self._sealed
        if self.log_y != self._drawn_log or self._mid < 0:
            sealed = 0
        elif dirty <= B[sealed]:
            sealed = min(bisect.bisect_left(B, dirty) - 1, sealed)  # chunks all below it
            sealed = max(sealed, 0)
        unsealed = range(sealed, self._sealed)
        # seal the next full chunk when the view's budget allows (one a frame), and all
        # but two at once after a jump (a rebuild, a long step): the middle stays short
        seal = []
        while n - 1 >= B[sealed + 1] and (
                n - 1 >= B[sealed + 3] or self.budget is None or self.budget.take()):
            seal.append(sealed)
            sealed += 1
        start = B[sealed] if n else 0
        # curves that grow in step would all move their middle on one frame: a phase each
        k = n - 1 - start - self._phase
        mid = start + self._phase + (k // LIVE_CHUNK) * LIVE_CHUNK if k >= 0 else start
        redo_mid = (mid != self._mid or dirty <= self._mid or bool(seal)
                    or self.log_y != self._drawn_log or len(unsealed))
        self._sealed = sealed
        self._drawn_log = self.log_y
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
        tx = np.concatenate([dec.x[mid:n], px])
        ty = np.concatenate([dec.y[mid:n], py])
        if self.log_y:
            ty = _log10(ty)
        sealed_data = [(j, self._points(B[j], B[j + 1])) for j in seal]
        middle = None
        cached, uncached = QGraphicsItem.CacheMode.DeviceCoordinateCache, \
            QGraphicsItem.CacheMode.NoCache
        cache = None  # a middle that stopped changing is cached; one that changes is not
        if redo_mid:
            self._mid = mid
            middle = self._points(start, mid) if mid > start else (_EMPTY, _EMPTY)
            if self._still >= STILL_FRAMES:
                cache = uncached
            self._still = 0
        else:
            self._still += 1
            if self._still == STILL_FRAMES:
                cache = cached
        old_x, old_y = self._tail_xy
        new_tail = redo_mid or not (np.array_equal(tx, old_x) and np.array_equal(ty, old_y))
        tail_cache = None
        if new_tail:
            self._tail_xy = (tx, ty)
            if self._tail_still >= STILL_FRAMES:
                tail_cache = uncached
            self._tail_still = 0
        else:
            self._tail_still += 1
            if self._tail_still == STILL_FRAMES:
                tail_cache = cached
        for c in (self, *self._twins):
            for j in unsealed:
                if j not in seal:
                    c._chunk(j).setData(_EMPTY, _EMPTY)
            for j, data in sealed_data:
                c._chunk(j).setData(*data)
            if middle is not None:
                c.middle.setData(*middle)
            if cache is not None:
                c.middle.setCacheMode(cache)
            if new_tail:
                c.tail.setData(tx, ty)
            if tail_cache is not None:
                c.tail.setCacheMode(tail_cache)
            c._head = self._head
        if settle:
            self.settle()

    def settle(self) -> None:
        """Nothing changes for now (the race paused, a step shown): the middle and the
        tail are cached at once (their twins' too); a pan of the map, a label or a
        hover then repaints them from pixels (33 runs: ~50 of a paused map's 65 ms)."""
        cached = QGraphicsItem.CacheMode.DeviceCoordinateCache
        middle, tail = self._still < STILL_FRAMES, self._tail_still < STILL_FRAMES
        self._still = max(self._still, STILL_FRAMES)
        self._tail_still = max(self._tail_still, STILL_FRAMES)
        for c in (self, *self._twins):
            if middle:
                c.middle.setCacheMode(cached)
            if tail:
                c.tail.setCacheMode(cached)

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
        """The first chunk's options, with the pen as set (the items stroke it opaque and
        lay it over with its alpha, :meth:`set_pen`)."""
        if self._pen is None:
            return self.prefix.opts
        return {**self.prefix.opts, "pen": self._pen}

    def isVisible(self) -> bool:  # noqa: N802 - Qt style
        return self._visible


_EMPTY = np.zeros(0)


def _log10(y: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)
