"""Small pyqtgraph building blocks shared by the views."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem

#: points a growing curve's live tail may hold before they join the cached prefix
TAIL_CHUNK = 384
#: a cached prefix is drawn with at most this many points (long runs thinned for display)
MAX_PREFIX_POINTS = 1000


def thin(x: np.ndarray, y: np.ndarray, n: int = MAX_PREFIX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``n`` points of (x, y) evenly spread by index, keeping the first and last."""
    if len(x) <= n:
        return x, y
    idx = np.linspace(0, len(x) - 1, n).round().astype(np.int64)
    return x[idx], y[idx]


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


class GrowingCurve:
    """A polyline that grows at its end, drawn as a cached prefix plus a short live tail.

    Thick antialiased paths cost per vertex on every repaint. A race repaints every
    frame, but only the last few points of each trail are new: the prefix (all but the
    newest < ``TAIL_CHUNK`` points) is one item whose pixels Qt caches
    (``DeviceCoordinateCache``) and redraws only when it grows by a chunk or the view
    changes; the tail is a tiny item repainted each frame. The two share the joint point,
    so the line looks like one.
    """

    _instances = 0

    def __init__(self, z: float = 0.0, connect: str = "finite"):
        self.prefix = pg.PlotDataItem(connect=connect)
        self.tail = pg.PlotDataItem(connect=connect)
        self.prefix.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        for item in (self.prefix, self.tail):
            item.setZValue(z)
        self._cut = -1   # points in the prefix
        self._n = 0
        self._first = None  # the first point: a new one means new data (a restart)
        # curves growing in step would all re-cache their prefix on the same frame: give
        # each its own phase so the work spreads over the frames
        GrowingCurve._instances += 1
        self._phase = (GrowingCurve._instances * 97) % TAIL_CHUNK

    @property
    def items(self) -> tuple[pg.PlotDataItem, pg.PlotDataItem]:
        return self.prefix, self.tail

    def add_to(self, plot_item) -> None:
        for item in self.items:
            plot_item.addItem(item)

    def remove_from(self, plot_item) -> None:
        for item in self.items:
            plot_item.removeItem(item)

    def set_pen(self, pen) -> None:
        for item in self.items:
            item.setPen(pen)

    def set_visible(self, flag: bool) -> None:
        for item in self.items:
            item.setVisible(flag)

    def set_data(self, x: np.ndarray, y: np.ndarray) -> None:
        """Show the curve through float64 (m,) ``x``, ``y``."""
        n = len(x)
        m = max(n - 1 - self._phase, 0)
        cut = min((m // TAIL_CHUNK) * TAIL_CHUNK + self._phase, max(n - 1, 0)) if m else 0
        # the prefix changes only when it gains a chunk, the data went back (scrub, reset)
        # or the data are new (another start or problem)
        first = (float(x[0]), float(y[0])) if n else None
        if cut != self._cut or n < self._n or first != self._first:
            self._first = first
            px, py = thin(x[: cut + 1], y[: cut + 1])
            self.prefix.setData(px, py)
            self._cut = cut
        self.tail.setData(x[cut:], y[cut:])
        self._n = n

    def get_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The points shown (prefix then tail, the joint once): for tests."""
        px, py = self.prefix.getData()
        tx, ty = self.tail.getData()
        if px is None or len(px) == 0:
            return (np.zeros(0) if tx is None else tx), (np.zeros(0) if ty is None else ty)
        if tx is None or len(tx) == 0:
            return px, py
        return np.concatenate([px, tx[1:]]), np.concatenate([py, ty[1:]])

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
