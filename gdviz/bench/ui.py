"""Qt entries of ``gdviz bench``: ``frame`` and ``startup``, and the pyqtgraph baseline of
``contour``. The registry imports this module only when one of them runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from gdviz.bench.timing import best_ms, p95


def isocurve_ms(z: np.ndarray, levels: np.ndarray, repeats: int = 1) -> float:
    """ms to trace every level of ``z`` (float64 (ny, nx)) with pyqtgraph's ``isocurve``.

    That is the work ``IsocurveItem`` redoes in Python at every paint, which is why the
    landscape view draws kernel-computed segments instead.
    """
    import pyqtgraph.functions as pgfn

    def trace():
        for lev in levels:
            pgfn.isocurve(z, lev, connected=True, extendToEdge=False)

    return best_ms(trace, repeats)


def bench_frame(frames: int = 300, size=(1280, 720), grid: int = 256) -> dict:
    """``frame``: p95 frame time (ms) of the real window offscreen: what one timer tick costs.

    4 runs race on a ``grid``×``grid`` surface at 1280×720. Each frame is what the
    window's 60 Hz timer does: ``session.tick(1/60)`` at 600 steps/s (one engine call,
    one ``stepped`` signal, the views' ``setData``), then ``processEvents()``, which
    paints everything those updates dirtied (the offscreen backing store paints like a
    screen). ``grab()`` would paint the whole window a second time, so it is not used.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings

    from gdviz import kernels
    from gdviz.core.session import Session
    from gdviz.ui.app import ensure_app
    from gdviz.ui.main_window import MainWindow

    kernels.warmup()  # steady state: numba compiled (from the cache when warm)
    app = ensure_app()
    with tempfile.TemporaryDirectory() as tmp:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        session = Session()
        win = MainWindow(session)
        win.landscape_view.grid_size = int(grid)
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
    ms = p95(times[10:]) * 1000.0
    return dict(name="frame", ours_ms=ms, baseline="16.7 ms budget", baseline_ms=16.7,
                ratio=16.7 / ms if ms > 0 else float("inf"))


def bench_startup(repeats: int = 3) -> dict:
    """``startup``: time from ``python -c`` spawn to the first window shown (ms, best of
    ``repeats``).

    Runs the real app in a subprocess with ``GDVIZ_QUIT_AFTER_SHOW=1`` (offscreen,
    temporary settings); the child prints the time its first window was shown.
    """
    from gdviz.ui.app import QUIT_ENV

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
