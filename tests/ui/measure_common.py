"""What the measuring scripts (tests/ui/measure_*.py) share: the flush that ends a timed
block as tests/ui/fuzz.py ends one, their arguments, and the real window they time.

    [repeats] [filter] [--profile LABEL]; WARM=1 compiles the numba kernels first.
"""

from __future__ import annotations

import os
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QSettings  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def flush() -> None:
    """processEvents, the deferred deletes, processEvents again (as the fuzzer times)."""
    app = QApplication.instance()
    app.processEvents()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()


def parse_args(argv: list[str]) -> tuple[int, str, str | None]:
    """(repeats, filter, the label to profile) from ``[repeats] [filter] [--profile LABEL]``."""
    repeats = int(argv[0]) if argv and argv[0].isdigit() else 3
    args = [a for a in argv if not a.isdigit()]
    prof_label = None
    if "--profile" in args:
        i = args.index("--profile")
        prof_label = args[i + 1]
        del args[i:i + 2]
    return repeats, (args[0] if args else ""), prof_label


def cpu_note(c0: float, p0: float) -> str:
    """"cpu N ms" of the UI thread since ``c0`` (time.thread_time), and ", others M ms":
    the process's other threads' (a worker's) CPU time since ``p0`` (time.process_time),
    when 1 ms or more. A turn whose wall time is far above its CPU time beside busy others
    waited for the GIL (or for a worker's result)."""
    import time

    cpu = time.thread_time() - c0
    others = time.process_time() - p0 - cpu
    return f"cpu {cpu * 1e3:.0f} ms" + (f", others {others * 1e3:.0f} ms" if others >= 1e-3 else "")


class TurnApp(QApplication):
    """A QApplication that times each turn of the event loop: each event it dispatches at the
    top (not one sent from inside another's handler). ``longest`` is the longest since
    :meth:`arm`. A turn is what blocks the UI thread: between two turns the loop takes the
    user's input (a paint, a timer's tick and the click before them are three turns)."""

    def __init__(self, argv):
        super().__init__(argv)
        self.depth = 0
        #: when the turn under way began (perf_counter), None between turns
        self.turn_t0 = None
        self.longest = 0.0
        self.longest_what = ""
        #: seconds the garbage collector has run so far (a turn's share is named with it)
        self.gc_total = 0.0
        import gc
        import time

        start = [0.0]

        def on_gc(phase, _info):
            if phase == "start":
                start[0] = time.perf_counter()
            else:
                self.gc_total += time.perf_counter() - start[0]

        gc.callbacks.append(on_gc)

    def arm(self) -> None:
        self.longest = 0.0
        self.longest_what = ""

    def _pass_on(self, obj, ev) -> bool:
        # an exception is handed to sys.excepthook here, as PySide does for any handler, and
        # never leaves this override: one raised through two nested Python notify overrides
        # (an event sent from inside a handler) crashed PySide 6.11's error store
        # (PepException_GetArgs on no exception: a segfault in 2 of 10 cold fuzz runs)
        try:
            return super().notify(obj, ev)
        except Exception:  # noqa: BLE001 - reported as the app would
            sys.excepthook(*sys.exc_info())
            return False

    def notify(self, obj, ev):  # noqa: N802 - Qt name
        if self.depth:
            return self._pass_on(obj, ev)
        import time

        self.depth += 1
        t0 = time.perf_counter()
        c0 = time.thread_time()
        p0 = time.process_time()
        g0 = self.gc_total
        self.turn_t0 = t0
        try:
            return self._pass_on(obj, ev)
        finally:
            self.turn_t0 = None
            dt = time.perf_counter() - t0
            self.depth -= 1
            if dt > self.longest:
                self.longest = dt
                # (its CPU time: far below the wall time, the machine was busy elsewhere)
                self.longest_what = (f"{ev.type().name} to {type(obj).__name__}, "
                                     + cpu_note(c0, p0) + self.gc_note(g0))

    def gc_note(self, g0: float) -> str:
        """", gc N ms" when the collector ran for a millisecond or more since ``g0``."""
        g = (self.gc_total - g0) * 1e3
        return f", gc {g:.0f} ms" if g >= 1 else ""


def open_window(collector: bool = False):
    """The real MainWindow on a fresh Session, offscreen at 1280x720, with its settings and
    data in a new temporary folder (never asking about unsaved changes). Returns (app,
    window, the folder). COLD=1: numba's cache empty (in the folder), and the window
    compiles its kernels as after an install. ``collector``: the app's collector
    (gdviz.ui.app.IdleCollector) installed before the window, as the app does, at
    ``window.idle_collector``, and what the app starts once its window is up
    (gdviz.ui.app.after_first_paint: OpenGL's probe in a child, the lr finder's panel made ahead)."""
    from gdviz.ui.app import ensure_app

    # set up as the app sets itself up (its GIL switch interval, its base font): measured
    # with CPython's 5 ms interval, a turn beside a busy worker waited up to twice its CPU time
    app = ensure_app([], app_class=TurnApp if os.environ.get("TURNS") == "1" else None)
    tmp = tempfile.mkdtemp()
    os.environ["GDVIZ_DATA_DIR"] = os.path.join(tmp, "data")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, os.path.join(tmp, "cfg"))
    app.setOrganizationName("gdviz-measure")
    app.setApplicationName("gdviz-measure")
    from gdviz.core.session import Session
    from gdviz.ui import theme
    from gdviz.ui.main_window import MainWindow, app_settings

    theme.configure_pyqtgraph()
    cold = os.environ.get("COLD") == "1"
    if cold:  # the first start after an install: the window compiles its kernels
        os.environ["NUMBA_CACHE_DIR"] = os.path.join(tmp, "numba")
    if os.environ.get("WARM") == "1":
        from gdviz import kernels

        kernels.warmup()
    MainWindow.ask_unsaved = lambda self: "discard"
    playing = [lambda: False]
    if collector:
        from gdviz.ui.app import IdleCollector

        idle = IdleCollector(lambda: playing[0]())
    win = MainWindow(Session(), settings=app_settings(), warmup=cold)
    from gdviz.ui.app import spread_refreshes

    spread_refreshes(win)  # (as the app's window: a change's refreshes within a budget a turn)
    if collector:
        playing[0] = lambda: win.session.playing
        win.idle_collector = idle
    win.resize(1280, 720)
    win.show()
    QTest.qWaitForWindowExposed(win)
    if collector:  # (the app as it runs: what it starts once its window is up)
        from gdviz.ui.app import after_first_paint

        after_first_paint(app, win)
    flush()
    return app, win, tmp


class Timings:
    """Each label's wall and CPU times, and a cProfile of the slowest block whose label holds
    ``prof_label``."""

    def __init__(self, prof_label: str | None):
        self.prof_label = prof_label
        self.times: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}
        self.worst_prof: dict[str, tuple[float, object]] = {}
        #: with TURNS=1 (a :class:`TurnApp`): each label's longest turn of the event loop
        self.turns: dict[str, list[float]] = {}
        self.turn_what: dict[str, str] = {}
        #: each label's action alone (the direct call: one turn, as a click's handler is),
        #: without the events it left for the loop (its paint, its timers)
        self.actions: dict[str, list[float]] = {}

    def block(self, label: str, fn) -> float:
        """Time ``fn`` then :func:`flush` as one block; returns its wall time (s)."""
        import cProfile
        import time

        # PROF_SKIP=n: the first n instances of the label are not profiled (the first lesson
        # load builds what later ones reuse)
        skip = int(os.environ.get("PROF_SKIP", "0"))
        prof = (cProfile.Profile() if self.prof_label and self.prof_label in label
                and len(self.times.get(label, ())) >= skip else None)
        t0 = time.perf_counter()
        c0 = time.thread_time()
        if prof:
            prof.enable()
        app = QApplication.instance()
        turns = isinstance(app, TurnApp)
        if turns:
            app.arm()
            app.depth += 1  # the action itself is one turn (a click's, a key's)
        try:
            fn()
        finally:
            if turns:
                app.depth -= 1
        t_action = time.perf_counter() - t0
        self.actions.setdefault(label, []).append(t_action)
        flush()
        if turns:
            longest, what = max((t_action, "the action"), (app.longest, app.longest_what))
            self.turns.setdefault(label, []).append(longest)
            if longest >= max(self.turns[label]):
                self.turn_what[label] = what
        if prof:
            prof.disable()
        dt = time.perf_counter() - t0
        self.cpu.setdefault(label, []).append(time.thread_time() - c0)
        self.times.setdefault(label, []).append(dt)
        if prof and dt > self.worst_prof.get(label, (-1, None))[0]:
            self.worst_prof[label] = (dt, prof)
        return dt
