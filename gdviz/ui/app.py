"""Start the app (``gdviz`` / ``gdviz gui``); also the offscreen README screenshot.

The first window shows before any kernel compiles: the session's RunSet runs on
the numpy twins until :func:`gdviz.kernels.is_ready`, and the kernels compile in a
QThread started after the first paint (:mod:`gdviz.ui.warmup`).

``GDVIZ_QUIT_AFTER_SHOW=1`` makes :func:`main` print ``GDVIZ_SHOWN <unix time>``
once the first window has been shown and painted, then quit (the ``startup`` entry of
:mod:`gdviz.bench.ui`).
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time

QUIT_ENV = "GDVIZ_QUIT_AFTER_SHOW"


#: seconds a thread holding the GIL may keep it while the UI thread waits for it
UI_SWITCH_INTERVAL = 0.001

#: ms after the first paint that the panels made on first use are made (a turn of their
#: own, after the startup's own turns: the scene given on the command line, the kernels)
PREBUILD_AFTER_MS = 1500

#: whether this process is the app (:func:`main`), which keeps its long-lived objects out
#: of the garbage collector's passes (:func:`freeze_long_lived`); not a test's windows
_FREEZE = {"on": False}


def freeze_long_lived() -> None:
    """Move every object alive now out of the garbage collector's passes (``gc.freeze``):
    the window's, Qt's wrappers', numpy's, numba's, ~180k objects that live as long as the
    app. Each automatic full pass walked them all, ~100 ms (a frozen window in the middle of
    whatever the class was doing, twice in a walk through the lessons); now ~2 ms. Called
    once the first window is shown and again when the kernels have compiled. Reference
    counting still frees them; only a cycle among them that becomes garbage is kept (a
    walk through every lesson twice left none)."""
    if _FREEZE["on"]:
        gc.freeze()


#: a full pass of the collector waits for an idle turn until this many passes of the
#: middle generation have run since the last (CPython's own: 10); a playing race waits up
#: to :data:`FULL_PASS_FORCE` (IdleCollector)
FULL_PASS_AFTER = 10
FULL_PASS_FORCE = 100
IDLE_CHECK_MS = 1000
#: the young generations' passes are looked for this often (ms), on the UI thread
YOUNG_CHECK_MS = 50


class IdleCollector:
    """Every pass of the cyclic garbage collector on the UI thread, on timers of its own,
    not in whatever turn (or thread) made the allocation that tipped the count.

    - **The UI thread only.** CPython runs a pass in whichever thread tips its count: a
      map's or the kernels' worker thread, ~70 passes in a 1,500-action fuzz run, some of
      them freeing garbage. Garbage holds Qt wrappers (a closed plot's items, a let-go
      card's layouts), and Qt objects are to be deleted on their own thread. CPython's automatic passes are off (:class:`gdviz.core.collect.PassesHere`); a timer
      every :data:`YOUNG_CHECK_MS` runs the young generations' passes when CPython would
      have (its own thresholds), in a turn of their own.
    - **Full passes when idle.** Even with the app's objects frozen
      (:func:`freeze_long_lived`), a full pass walks everything made since: 20-55 ms in a
      long session. A timer every :data:`IDLE_CHECK_MS` runs one once
      :data:`FULL_PASS_AFTER` middle passes have run since the last, while no race plays
      (``playing()``); during a race only after :data:`FULL_PASS_FORCE` (a dropped frame or
      two, as CPython's own pass made)."""

    def __init__(self, playing, parent=None):
        from PySide6.QtCore import QTimer

        from gdviz.core.collect import PassesHere

        self._playing = playing
        self._here = PassesHere()
        self._saved = self._here.thresholds
        self.passes = 0  # full passes run (for tests)
        self.timer = QTimer(parent)
        self.timer.setInterval(IDLE_CHECK_MS)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self.young_timer = QTimer(parent)
        self.young_timer.setInterval(YOUNG_CHECK_MS)
        self.young_timer.timeout.connect(self.tick_young)
        self.young_timer.start()

    def tick_young(self) -> int | None:
        """Run the young generations' pass that CPython's thresholds call for now (0 or 1);
        returns the generation, None when none was due."""
        return self._here.young()

    def tick(self) -> bool:
        """Run a full pass if one is due; True when it ran."""
        due = gc.get_count()[2]
        if due < FULL_PASS_AFTER:
            return False
        try:
            busy = bool(self._playing())
        except RuntimeError:  # (the window is gone: nothing plays)
            busy = False
        if busy and due < FULL_PASS_FORCE:
            return False
        gc.collect(2)
        self.passes += 1
        return True

    def stop(self) -> None:
        """CPython's own passes back, as they were."""
        self.timer.stop()
        self.young_timer.stop()
        self._here.close()


def ensure_app(argv: list[str] | None = None, app_class=None):
    """The QApplication (created once, of ``app_class`` if given: a measuring harness's
    subclass), with names for QSettings and pyqtgraph configured."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        from PySide6.QtCore import QCoreApplication, Qt

        # the 3-D views (window and export) share one GL context group: pyqtgraph.opengl
        # keeps its shader programs per process, not per context
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        app = (app_class or QApplication)(list(argv) if argv is not None else [sys.argv[0]])
    app.setOrganizationName("gdviz")
    app.setApplicationName("gdviz")
    app.setApplicationDisplayName("gdviz")
    from gdviz.ui import theme
    from gdviz.ui.main_window import ensure_base_font

    theme.configure_pyqtgraph()

    ensure_base_font(app)
    # the live views' workers (gdviz.ui.views.live_grid) run Python between their kernels:
    # the UI thread waits at most this long for the GIL (CPython's default, 5 ms, is a third
    # of a frame; frame-classify p95 on a quiet machine: 22.7 -> 19.4 ms)
    sys.setswitchinterval(min(sys.getswitchinterval(), UI_SWITCH_INTERVAL))
    return app


def spread_refreshes(window) -> None:
    """The window's model changes (a scrub, a step back, an edit) refresh their views
    within :data:`gdviz.ui.views.refresh.TURN_BUDGET_S` a turn of the event loop, the rest
    in the turns after (:func:`gdviz.ui.views.refresh.set_budget`)."""
    from gdviz.ui.views import refresh

    refresh.set_budget(window.session, refresh.TURN_BUDGET_S)


def after_first_paint(app, window=None) -> None:
    """What the app starts once its window is up, so that no click waits for it: OpenGL's
    probe, in a process of its own (:func:`gdviz.ui.gl_probe.probe_in_background`), the
    UI's Chinese glyphs drawn on a thread (:func:`warm_fonts`), and,
    :data:`PREBUILD_AFTER_MS` later, the window's panels made on first use
    (``window.lrfind.prebuild``: the lr finder's, ~25 ms, in a turn of its own rather
    than in the first L18 open)."""
    from PySide6.QtCore import QTimer

    from gdviz.ui import gl_probe

    gl_probe.probe_in_background(app.platformName())
    _FONTS["thread"] = warm_fonts(app.font())
    lrfind = getattr(window, "lrfind", None)
    if lrfind is not None:
        QTimer.singleShot(PREBUILD_AFTER_MS, lrfind.prebuild)


#: the thread of :func:`warm_fonts` the app started (joined before the app is torn down)
_FONTS: dict = {}


def ui_glyphs() -> str:
    """Every character of the UI's text beyond Latin in each language (the Chinese
    catalogs' ~660 characters), once each, in order."""
    from gdviz.core.i18n import TERMS

    chars = {c for lang, table in TERMS.items() if lang != "en"
             for text in table.values() for c in text if ord(c) > 0x2E7F}
    return "".join(sorted(chars))


def warm_fonts(font) -> threading.Thread:
    """Draw :func:`ui_glyphs` in ``font`` (the app's), regular and bold, into an image on
    a thread of its own: the fonts that hold them (Noto CJK, ~20 MB a file) are found
    and read from disk there, not in the window's first switch to Chinese. (A fresh
    process on a busy disk, the numba cache being written: that switch's layout blocked
    the window 0.7 s waiting for the font file, with 15 ms of CPU. A QPainter may draw
    on a QImage off the UI thread.) Returns the thread (a daemon)."""
    family, size = font.family(), font.pointSizeF()
    text = ui_glyphs()

    def run() -> None:
        from PySide6.QtGui import QFont, QImage, QPainter

        img = QImage(512, 64, QImage.Format.Format_ARGB32_Premultiplied)
        p = QPainter(img)
        try:
            for bold in (False, True):
                f = QFont(family)
                if size > 0:
                    f.setPointSizeF(size)
                f.setBold(bold)
                p.setFont(f)
                for i in range(0, len(text), 40):  # (the UI thread takes the GIL between)
                    p.drawText(0, 40, text[i:i + 40])
        finally:
            p.end()

    thread = threading.Thread(target=run, name="gdviz-fonts", daemon=True)
    thread.start()
    return thread


def main(scene_path: str | None = None, argv: list[str] | None = None) -> int:
    """Open the main window (on ``scene_path`` if given) and run the event loop."""
    from PySide6.QtCore import QTimer

    app = ensure_app(argv)
    from gdviz.ui.main_window import MainWindow

    quit_after_show = bool(os.environ.get(QUIT_ENV))
    # before the window: its kernels' warmup thread starts with it (see IdleCollector)
    playing = [lambda: False]
    collector = IdleCollector(lambda: playing[0]())
    win = MainWindow(warmup=not quit_after_show)
    spread_refreshes(win)
    playing[0] = lambda: win.session.playing
    win.idle_collector = collector
    win.show()
    _FREEZE["on"] = True
    QTimer.singleShot(0, freeze_long_lived)  # (after the first paint's objects are made)
    if not quit_after_show:  # (a child would outlive a window that quits at once)
        QTimer.singleShot(0, lambda: after_first_paint(app, win))
    if scene_path:
        QTimer.singleShot(0, lambda: win.open_scene(scene_path))
    if quit_after_show:
        def _report():
            try:
                print(f"GDVIZ_SHOWN {time.time():.6f}", flush=True)
            finally:  # a closed stdout must not leave the window open
                win.close()
                app.quit()

        # a zero timer fires after the pending show/expose/paint events are handled
        QTimer.singleShot(0, _report)
    code = int(app.exec())
    fonts = _FONTS.pop("thread", None)
    if fonts is not None:
        fonts.join(5.0)  # (not torn down under its painter: it draws for ~0.1 s)
    return code


def screenshot(path, theme: str = "light", size=(1280, 720), steps: int = 250,
               select: int = -1, font_scale: float = 1.0) -> str:
    """Render the real main window offscreen to ``path`` (PNG) after ``steps`` steps.

    For the README and for looking at the UI without a display. Uses temporary
    settings, so the user's are neither read nor written.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import tempfile

    from PySide6.QtCore import QSettings

    app = ensure_app()
    from gdviz.core.session import Session
    from gdviz.ui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        session = Session()
        win = MainWindow(session)
        win.set_theme(theme)
        win.set_font_scale(font_scale, announce=False)
        win.resize(*size)
        win.show()
        app.processEvents()
        if select >= 0:
            session.select(select)
        session.step(steps)
        for _ in range(3):  # layouts settle over a few passes (dock widths after a font change)
            app.processEvents()
        ok = win.grab().save(str(path))
        win.close()
        win.deleteLater()
        app.processEvents()
    if not ok:
        raise OSError(f"could not write {path}")
    return str(path)
