"""Compile the numba kernels in a QThread while the window is already up.

Until :func:`gdviz.kernels.is_ready` turns True the session's RunSet uses the
numpy twins, so the teacher can start at once; the status bar shows
"Compiling kernels 3/5…" meanwhile.
"""

from __future__ import annotations

import threading
from typing import Callable

from PySide6.QtCore import QObject, QThread, Signal


class _Worker(QObject):
    progress = Signal(int, int, str)
    finished = Signal(bool)
    failed = Signal(str)

    def __init__(self, fn: Callable, cancel: threading.Event):
        super().__init__()
        self._fn, self._cancel = fn, cancel

    def run(self) -> None:
        try:
            ok = bool(self._fn(progress=lambda i, n, name: self.progress.emit(i, n, name),
                               cancelled=self._cancel.is_set))
        except Exception as exc:  # noqa: BLE001 - a failed compile leaves the numpy twins on
            self.failed.emit(f"{type(exc).__name__}: {exc}".splitlines()[0])
            ok = False
        self.finished.emit(ok)


class KernelWarmup(QObject):
    """Runs ``fn(progress, cancelled)`` (default: :func:`gdviz.kernels.warmup_aside`: a
    cold cache is filled by a helper process) in a QThread.

    Signals (delivered on the UI thread): ``progress(i, n, name)``, ``finished(ok)``,
    ``failed(message)``. :meth:`cancel` asks the worker to stop between kernels
    and waits for it, so quitting never destroys a running thread.
    """

    progress = Signal(int, int, str)
    finished = Signal(bool)
    failed = Signal(str)

    def __init__(self, fn: Callable | None = None, parent: QObject | None = None):
        super().__init__(parent)
        if fn is None:
            from gdviz.kernels import warmup_aside as fn
        self._cancel = threading.Event()
        self._thread = QThread()
        self._thread.setObjectName("gdviz-kernel-warmup")
        self._worker = _Worker(fn, self._cancel)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progress.connect(self.progress)
        self._worker.failed.connect(self.failed)
        self._worker.finished.connect(self._on_finished)
        self.done = False
        self.ok = False

    def start(self) -> None:
        self._thread.start(QThread.Priority.LowPriority)

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def _on_finished(self, ok: bool) -> None:
        self.done, self.ok = True, bool(ok)
        self._thread.quit()
        self.finished.emit(self.ok)

    def cancel(self, wait_ms: int | None = None) -> None:
        """Stop between kernels and wait for the thread (all of it unless ``wait_ms``)."""
        self._cancel.set()
        if self._thread.isRunning():
            self._thread.quit()  # leaves the event loop once run() returns
            if wait_ms is None:
                self._thread.wait()
            else:
                self._thread.wait(wait_ms)
