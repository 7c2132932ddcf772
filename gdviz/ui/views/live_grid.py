"""A landscape's grid picture, and the worker that computes a live one off the UI thread.

:func:`grid_picture` is what the map draws from a surface over a box: the grid of values,
its contour segments at nice levels, the heatmap's float32 image and levels, the lowest
cells. No Qt: it only calls kernels and numpy.

A live surface (a fit's or a classifier's loss slice through the reference run) changes
at every step. While the race plays, the map hands it to :class:`LiveGridWorker`: the
numba slice (it releases the GIL) and the contours run on a worker thread while the UI
thread paints, and the finished picture is drawn with the view's next step (see
:class:`FrameInbox`), a frame or two after the step it slices through. Paused or stepped
by hand, the map hands it to the worker too and waits up to ``LIVE_SYNC_MS`` for it
(:meth:`LiveGridWorker.wait`): the exact slice at the displayed step is drawn at once, and
one that takes longer (a deep network's) when it lands, the window free meanwhile. An
export computes it on the spot. What stands still is always the exact slice. The plane
view of a classification hands its picture (:func:`gdviz.ui.views.plane_view.plane_picture`)
to a worker of its own in the same way.

A finished picture waits in a :class:`FrameInbox` for the view's next step while the race
plays: drawn the moment it landed, it dirtied a view that the frame had just painted,
and the window painted it again (L21: the map and the network twice in most frames, the
slowest frames three passes). Taken at the step, it joins the step's own updates in the
frame's one paint.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import time

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

import gdviz.kernels as kernels
from gdviz.kernels.contour import contour_segments, nice_levels

#: the heatmap's smallest span of levels: pyqtgraph's float32 rescale multiplies by 256 / span
#: (over float32's range below ~1e-36); a smaller one is drawn in one colour, as a flat one
MIN_HEATMAP_SPAN = 1e-30
#: contour segments drawn at most (a rugged surface seen from far crosses every level in
#: every cell; so many lines are a grey wash, not a map); past it, every k-th level is
#: drawn (the map's, its mini-batch surface's and the 3-D view's floor)
MAX_CONTOUR_SEGMENTS = 30_000


@dataclasses.dataclass
class GridPicture:
    """What the map draws of a surface over ``box`` on an ``n`` x ``n`` grid: ``z`` float64
    (n, n); when some of it is finite also ``xy`` float64 (2s, 2) contour segment ends,
    ``img32`` float32 (n, n) heatmap, its ``levels`` (lo, hi), the colour bar's ``label``
    key and ``valley`` float64 (k, 2). ``ms``: time of the surface's grid alone."""

    box: tuple[float, float, float, float]
    n: int
    z: np.ndarray
    ms: float
    xy: np.ndarray | None = None
    img32: np.ndarray | None = None
    levels: tuple[float, float] = (0.0, 1.0)
    label: str = "loss"
    valley: np.ndarray | None = None
    log_levels: bool | None = None


def grid_picture(land, box, n: int, n_levels: int, log_scale: bool | None, lowest,
                 max_segments: int) -> GridPicture:
    """Evaluate ``land`` on an n x n grid over ``box`` (x0, x1, y0, y1) and derive what the
    map draws. ``log_scale``: None lets the surface choose (``land.log_levels``);
    ``lowest(img32, x0, x1, y0, y1)`` gives the valley cells; past ``max_segments``
    contour segments every k-th level is drawn."""
    x0, x1, y0, y1 = box
    t0 = time.perf_counter()
    with np.errstate(all="ignore"):
        z = np.ascontiguousarray(land.grid(x0, x1, y0, y1, n, n), dtype=np.float64)
    pic = GridPicture(box=box, n=n, z=z, ms=(time.perf_counter() - t0) * 1e3,
                      log_levels=getattr(land, "log_levels", None))
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        return pic
    log = bool(land.log_levels) if log_scale is None else bool(log_scale)
    levels = nice_levels(z, n_levels, log)
    # a rugged surface seen from far (Rastrigin zoomed out) crosses every level in every
    # cell: a million segments took tens of seconds to stroke. Fewer levels, counted first
    pic.xy, _ = contour_segments(z, x0, x1, y0, y1, levels, max_segments=max_segments)
    # heatmap: log10 of the height above the minimum where the levels are log-spaced
    zmin = float(finite.min())
    min_value = getattr(land, "min_value", None)
    base = float(min_value) if (log and min_value is not None and min_value <= zmin) else zmin
    with np.errstate(all="ignore"):
        if log:
            span = max(float(finite.max()) - base, 1e-300)
            img = np.log10(z - base + span * 1e-6)
            pic.label = "log_loss" if base == 0.0 else "log_loss_above_min"
        else:
            img = z
            pic.label = "loss"
    # beyond float32 (a linear map of a steep surface zoomed out) is the top colour,
    # not inf (and no overflow warning); within half its range, so that the heatmap's
    # rescale (value - low level, in float32) cannot overflow either (x³ zoomed far out
    # spans both signs: "overflow encountered in subtract" from pyqtgraph in the 10k fuzz)
    f32 = float(np.finfo(np.float32).max) / 2
    img32 = np.ascontiguousarray(np.clip(img, -f32, f32), dtype=np.float32)
    good = img32[np.isfinite(img32)]
    lo, hi = (float(np.percentile(good, 1)), float(good.max())) if good.size else (0.0, 1.0)
    # pyqtgraph rescales the heatmap in float32, (value - lo) * 256 / (hi - lo): a span
    # under ~1e-36 (a flat stretch of a linear map zoomed in) overflowed there, and so did
    # a few cells far below the 1st percentile (a pit of -1e36 beside a span of 1e-3):
    # "overflow encountered in multiply" from pyqtgraph, twice in a 10k fuzz run, on a
    # scrub. Such a span is one colour, as a flat one is (its top level 1 above, or a
    # millionth of the value above where 1 is below float32's step), and the image is
    # clipped to its levels (below them is the bottom colour either way); the valley is
    # looked for in the values themselves
    lo32, hi32 = np.float32(lo), np.float32(hi)
    if not float(hi32) - float(lo32) > MIN_HEATMAP_SPAN:
        hi32 = np.float32(float(lo32) + max(1.0, abs(float(lo32)) * 1e-6))
    pic.levels = (float(lo32), float(hi32))
    pic.valley = lowest(img32, x0, x1, y0, y1)
    pic.img32 = np.clip(img32, lo32, hi32, out=img32)
    return pic


def grid_within(n: int, land, budget: float, least: int, batch: int | None = None) -> int:
    """The side of a grid of ``land`` computed in the window's turn: ``n``, or less where
    its ``grid_work`` (a surface that has one: MAE over many points) passes ``budget``;
    not below ``least``. ``batch``: on that many points (a mini-batch), not all."""
    work = getattr(land, "grid_work", None)
    if work is None:
        return n
    while n > least and work(n, n, batch) > budget:
        n = max(least, int(n * 0.8))
    return n


def pinned(land):
    """A copy of the live surface ``land`` whose reference parameters are the ones it has
    now: a worker can slice through them while the race steps on. It computes on the
    worker's thread alone (``parallel``), leaving the other cores to the UI thread."""
    p = np.array(land.reference(), dtype=np.float64)
    snap = copy.copy(land)
    snap.reference = lambda: p
    snap.parallel = False
    return snap


def owned_by(parent) -> object:
    """``parent``, which a worker's QObject needs: the worker's thread runs its bound
    ``_loop``, so a worker without a parent was freed where its last Python reference went,
    and that was often its own thread as it ended (the test had returned): Qt deleted an
    object of the UI thread on another thread, racing the UI thread's delivery of the
    signal it had just queued (a segfault in the suite, ~1 run in 12 of a test that made a
    worker alone). With a parent, Qt deletes it on the UI thread, with the parent."""
    if parent is None:
        raise TypeError("a worker needs a parent QObject, which frees it on the UI thread")
    return parent


def alive_flag(obj, lock: threading.Condition) -> list:
    """``[True]``, set False under ``lock`` as the QObject ``obj`` is destroyed: a worker
    thread that emits ``obj``'s signals does so under ``lock`` while the flag is True.
    Its owner (a view) can be deleted by Qt without the worker's stop(), and the worker
    then emitted on a freed object (a segfault in the suite, once in six runs of the
    map's tests); the destructor now waits for an emit under way, and none follows. The
    worker's thread ends as if stopped (``lock`` is its Condition, notified).

    Such an ``obj`` needs a parent (see :func:`owned_by`): its thread holds it, and a
    parentless one was freed where its last reference went, often that thread."""
    alive = [True]

    def dying(*_):
        with lock:
            alive[0] = False
            lock.notify_all()  # (its thread, idle or between chunks, ends: nobody to tell)

    obj.destroyed.connect(dying)
    return alive


class LiveGridWorker(QObject):
    """Computes one grid picture at a time on a worker thread. ``done(generation, job,
    picture or exception)`` is queued to the UI thread. :meth:`cancel` makes every job
    submitted so far stale: the caller drops results of generations up to :attr:`floor`."""

    done = Signal(int, object, object)

    def __init__(self, parent):
        super().__init__(owned_by(parent))
        self._lock = threading.Condition()
        self._job = None
        self._gen = 0
        self.floor = 0
        self._busy = False
        self._stop = False
        self._finished: tuple = (0, None)  # (generation, result) of the last job run
        self._alive = alive_flag(self, self._lock)
        self._thread = threading.Thread(target=self._loop, name="gdviz-live-grid", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        """A job is waiting or running."""
        with self._lock:
            return self._busy

    def submit(self, job, fn) -> int:
        """Run ``fn()`` (-> GridPicture) for ``job`` (whatever the caller wants back with it).
        Returns the job's generation."""
        with self._lock:
            self._gen += 1
            self._job = (self._gen, job, fn)
            self._busy = True
            self._lock.notify_all()  # (the worker, and a UI thread in wait())
            return self._gen

    def wait(self, gen: int, timeout: float | None):
        """Wait up to ``timeout`` s (None: until it is done) for job ``gen``'s result; None
        if it is not there by then, or was dropped (a newer job replaced it before it
        started), or the worker stopped. Its ``done`` signal still comes, later."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while self._finished[0] < gen:
                if self._stop or (self._job is not None and self._job[0] > gen):
                    return None
                if not self._busy:  # (dropped: cancelled before it started)
                    return None
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._lock.wait(left)
            return self._finished[1] if self._finished[0] == gen else None

    def cancel(self) -> None:
        with self._lock:
            self.floor = self._gen
            self._job = None

    def stop(self) -> None:
        with self._lock:
            self._stop = True
            self.floor = self._gen
            self._job = None
            self._lock.notify_all()  # (the worker, and a UI thread in wait())

    def _loop(self) -> None:
        kernels.lower_thread_priority()  # the window first, where both want a core
        while True:
            with self._lock:
                while self._job is None and not self._stop and self._alive[0]:
                    if self._busy:
                        self._busy = False
                        self._lock.notify_all()  # (a wait() for a job cancelled unstarted)
                    self._lock.wait()
                if self._stop or not self._alive[0]:
                    return
                gen, job, fn = self._job
                self._job = None
            try:
                out = fn()
            except Exception as exc:  # the map keeps the picture it has
                out = exc
            with self._lock:
                self._busy = self._job is not None
                stale = gen <= self.floor or self._stop
                self._finished = (gen, out)
                self._lock.notify_all()
                if not self._alive[0]:
                    return  # (deleted by Qt: nobody to tell, nothing to emit on)
                if not stale:
                    try:  # (queued to the view's thread: posting holds the lock briefly)
                        self.done.emit(gen, job, out)
                    except RuntimeError:  # the view is gone (the app quits): nobody to tell
                        return


#: a picture held for the next step is drawn after this long without one (a slow race;
#: more than two frames: a view that takes turns draws every other frame)
INBOX_MS = 50


class FrameInbox(QObject):
    """The latest finished worker picture, held until the view's next frame: the view
    :meth:`take` s it at the top of its ``stepped`` handler and draws it there (so the
    picture joins that step's updates and the frame paints once). Without a step within
    :data:`INBOX_MS` (a race slower than the frame rate) ``show(*item)`` draws it then."""

    def __init__(self, show, parent=None, ms: int = INBOX_MS):
        super().__init__(parent)
        self._show = show
        self._item = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(int(ms))
        self._timer.timeout.connect(self.flush)

    @property
    def pending(self) -> bool:
        return self._item is not None

    def hold(self, *item) -> None:
        """Keep ``item`` (replacing an older one) for the next :meth:`flush`."""
        self._item = item
        if not self._timer.isActive():
            self._timer.start()

    def drop(self) -> None:
        self._item = None
        self._timer.stop()

    def take(self):
        """The held item (a tuple), or None; nothing is held after."""
        item, self._item = self._item, None
        self._timer.stop()
        return item

    def flush(self) -> None:
        """Draw the held item now, if any."""
        item = self.take()
        if item is not None:
            self._show(*item)
