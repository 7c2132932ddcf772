"""Start the app (``gdviz`` / ``gdviz gui``) and the UI benches ``frame`` and ``startup``.

The first window shows before any kernel compiles: the session's RunSet runs on
the numpy twins until :func:`gdviz.kernels.is_ready`, and the kernels compile in a
QThread started after the first paint (:mod:`gdviz.ui.warmup`).

``GDVIZ_QUIT_AFTER_SHOW=1`` makes :func:`main` print ``GDVIZ_SHOWN <unix time>``
once the first window has been shown and painted, then quit (the startup bench).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

QUIT_ENV = "GDVIZ_QUIT_AFTER_SHOW"


def ensure_app(argv: list[str] | None = None):
    """The QApplication (created once), with names for QSettings and pyqtgraph configured."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else [sys.argv[0]])
    app.setOrganizationName("gdviz")
    app.setApplicationName("gdviz")
    app.setApplicationDisplayName("gdviz")
    from gdviz.ui import theme
    from gdviz.ui.main_window import ensure_base_font

    theme.configure_pyqtgraph()

    ensure_base_font(app)
    return app


def main(scene_path: str | None = None, argv: list[str] | None = None) -> int:
    """Open the main window (on ``scene_path`` if given) and run the event loop."""
    from PySide6.QtCore import QTimer

    app = ensure_app(argv)
    from gdviz.ui.main_window import MainWindow

    quit_after_show = bool(os.environ.get(QUIT_ENV))
    win = MainWindow(warmup=not quit_after_show)
    win.show()
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
    return int(app.exec())


# ---------------------------------------------------------------------- benches
def _p95(xs) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(xs, dtype=np.float64), 95))


def bench_frame(frames: int = 300, size=(1280, 720), grid: int = 256) -> dict:
    """p95 frame time (ms) of the real window offscreen: what one timer tick costs.

    4 runs race on a ``grid``×``grid`` surface at 1280×720. Each frame is what the
    window's 60 Hz timer does: ``session.tick(1/60)`` at 600 steps/s (one engine call,
    one ``stepped`` signal, the views' ``setData``), then ``processEvents()``, which
    paints everything those updates dirtied (the offscreen backing store paints like a
    screen). ``grab()`` would paint the whole window a second time, so it is not used.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings

    from gdviz import kernels

    kernels.warmup()  # steady state: numba compiled (from the cache when warm)
    app = ensure_app()
    import tempfile

    from gdviz.core.session import Session
    from gdviz.ui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        session = Session()
        for name in ("set_grid_size", "set_resolution"):
            fn = getattr(session, name, None)
            if callable(fn):
                fn(grid)
        win = MainWindow(session)
        view = win.landscape_view
        for name in ("set_grid_size", "set_resolution"):
            fn = getattr(view, name, None)
            if callable(fn):
                fn(grid)
        win.resize(*size)
        win.show()
        app.processEvents()
        session.set_max_steps(1_000_000)
        session.set_speed(600.0)
        while len(session.specs) < 4:
            session.add_run(session.specs[0])
        win.frame_timer.stop()  # the bench drives the frames itself
        session.play()
        win.frame_timer.stop()
        times = []
        for _ in range(frames + 10):
            t0 = time.perf_counter()
            session.tick(1.0 / 60.0)
            app.processEvents()
            times.append(time.perf_counter() - t0)
        session.pause()
        win.close()
        win.deleteLater()
        app.processEvents()
    p95 = _p95(times[10:]) * 1000.0
    return dict(name="frame", ours_ms=p95, baseline="16.7 ms budget", baseline_ms=16.7,
                ratio=16.7 / p95 if p95 > 0 else float("inf"))


def bench_startup(repeats: int = 3) -> dict:
    """Time from ``python -c`` spawn to the first window shown (ms, best of ``repeats``).

    Runs the real app in a subprocess with ``GDVIZ_QUIT_AFTER_SHOW=1`` (offscreen,
    temporary settings); the child prints the time its first window was shown.
    """
    import tempfile

    code = "import sys; from gdviz.ui.app import main; sys.exit(main())"
    best = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=tmp)
        env[QUIT_ENV] = "1"
        for _ in range(repeats):
            t0 = time.time()
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                 text=True, timeout=120)
            shown = [ln for ln in out.stdout.splitlines() if ln.startswith("GDVIZ_SHOWN ")]
            if out.returncode != 0 or not shown:
                raise RuntimeError(f"startup bench failed: {out.stderr.strip().splitlines()[-1:]}")
            best = min(best, (float(shown[-1].split()[1]) - t0) * 1000.0)
    return dict(name="startup", ours_ms=best, baseline="1.5 s budget", baseline_ms=1500.0,
                ratio=1500.0 / best if best > 0 else float("inf"))


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
