"""The cyclic garbage collector's passes on one thread: the one that asks for them.

CPython runs a pass in whichever thread tips its allocation count, a worker's as well
as the UI thread's. Garbage holds Qt wrappers (a closed plot's items), and a Qt object
is to be deleted on its own thread: a cold 1,500-action fuzz run had ~70 passes on the
kernels' warmup thread, 4 of them freeing garbage. Here CPython's automatic passes are
off (``gc.disable``) and the owner's thread runs them, at CPython's own thresholds, when
it calls :meth:`PassesHere.young` (the window's timer: gdviz.ui.app.IdleCollector; an
export: after each frame). Qt-free."""

from __future__ import annotations

import gc


class PassesHere:
    """CPython's automatic passes off while this is open (:meth:`close` puts them back as
    they were); the owner runs them on its thread: :meth:`young`, the young generations'
    pass CPython's thresholds call for. (Full passes are the owner's to time: the window
    runs them when idle; an export runs none, and CPython's come back after it.)"""

    def __init__(self):
        self.thresholds = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()

    def young(self) -> int | None:
        """Run the young generations' pass that is due (0 or 1); returns its generation,
        None when none is."""
        t0, t1, _ = self.thresholds
        count = gc.get_count()
        if count[0] < t0:
            return None
        gen = 1 if count[1] >= t1 else 0
        gc.collect(gen)
        return gen

    def close(self) -> None:
        if self._was_enabled:
            gc.enable()

    def __enter__(self) -> "PassesHere":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

