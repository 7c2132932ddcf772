"""The plots of a window-wide repaint painted one per turn of the event loop (issue 10,
item 11: no turn over 100 ms).

A theme, a text size, projector mode or a language repaints the whole window, and Qt paints
a window's dirty widgets in one turn: L21 with 16 networks at 200 % text, its map, loss
curves, network and schedule painted anew in one turn of 95-105 ms. Here the largest plot
paints with the rest of the window, and each other plot in a turn of its own after it,
largest first (L21: 62-73 ms at most). Until its turn a plot shows what it showed before,
for a frame or two.

Only a demo of more than :data:`STAGGER_RUNS` runs is painted so (more runs than any
lesson has): a lighter one paints in one turn well within the limit, as it always did.
:meth:`StaggeredPaints.finish` paints what waits at once (a grab of the window).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer

#: a demo of more runs than this has its plots painted one per turn
STAGGER_RUNS = 6

_FORCED = Qt.WidgetAttribute.WA_ForceUpdatesDisabled


class StaggeredPaints(QObject):
    """Plot viewports whose repaint waits, each for a turn of its own, in order."""

    def __init__(self, window):
        super().__init__(window)
        self._window = window
        self._queue: list = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._next)

    def hold(self, viewports) -> None:
        """Before the window's repaint: these viewports repaint later, one per turn."""
        for vp in viewports:
            if vp in self._queue or vp.testAttribute(_FORCED):
                continue  # (held already, or by someone else)
            vp.setUpdatesEnabled(False)
            self._queue.append(vp)
        if self._queue:
            self._timer.start()

    def pending(self) -> bool:
        return bool(self._queue)

    def finish(self) -> None:
        """Everything that waits repaints with the window's next paint (a grab: now)."""
        self._timer.stop()
        queue, self._queue = self._queue, []
        for vp in queue:
            try:
                vp.setUpdatesEnabled(True)
            except RuntimeError:  # (deleted with its view meanwhile)
                pass

    def _next(self) -> None:
        if not self._window.updatesEnabled():
            self.finish()  # (the window is held again: they repaint with it, once)
            return
        while self._queue:
            vp = self._queue.pop(0)
            try:
                vp.setUpdatesEnabled(True)
                if vp.isVisible() and not vp.visibleRegion().isEmpty():
                    vp.repaint()  # (now, in this turn: not merged into another's paint)
                    break  # (one scrolled out of sight paints nothing: the next one now)
            except RuntimeError:
                continue
        if self._queue:
            self._timer.start()
