"""Qt entries of ``gdviz bench``: ``frame``, ``frame-long``, ``startup`` and
``contour-paint``, and the pyqtgraph baseline of ``contour``. The registry imports this module only when one of them runs.
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


def bench_frame_long(frames: int = 300, size=(1280, 720), steps: int = 1_000_000) -> dict:
    """``frame-long``: a frame's cost must not grow with the history.

    The window of :func:`bench_frame` (4 runs, 1280×720, 600 steps/s): ``baseline_ms`` is
    the frame p95 from step 0, ``ours_ms`` the frame p95 just before step ``steps`` (the
    race jumps there in one engine call; the first frames after the jump, which read the
    whole history once, are not counted). ``ratio`` near 1 means the cost stays flat;
    ``rss_mb`` is the process's resident memory at the end.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings

    from gdviz import kernels
    from gdviz.core.session import Session
    from gdviz.ui.app import ensure_app
    from gdviz.ui.main_window import MainWindow

    kernels.warmup()
    app = ensure_app()

    def measure(session, win) -> float:
        session.play()
        win.frame_timer.stop()  # the bench drives the frames itself
        times = []
        for _ in range(frames + 10):
            t0 = time.perf_counter()
            session.tick(1.0 / 60.0)
            app.processEvents()
            times.append(time.perf_counter() - t0)
        session.pause()
        return p95(times[10:]) * 1000.0

    with tempfile.TemporaryDirectory() as tmp:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        session = Session()
        win = MainWindow(session)
        win.resize(*size)
        win.show()
        app.processEvents()
        session.set_max_steps(steps)
        session.set_speed(600.0)
        while len(session.specs) < 4:
            session.add_run(session.specs[0])
        win.frame_timer.stop()
        first = measure(session, win)
        # jump to where the measured frames end at ``steps`` (10 steps a frame)
        session.step(max(steps - (frames + 10) * 10 - session.t - 100, 1))
        app.processEvents()
        at = session.t
        last = measure(session, win)
        rss = _rss_mb()
        win.close()
        win.deleteLater()
        app.processEvents()
    return dict(name="frame-long", ours_ms=last, baseline="frame p95 at step 0", baseline_ms=first,
                ratio=first / last if last > 0 else float("inf"), from_step=at,
                rss_mb=round(rss, 1))


def _rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc; else the peak)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0)


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
    return dict(name="startup", ours_ms=best, baseline="1.0 s budget (issue 8)", baseline_ms=1000.0,
                ratio=1000.0 / best if best > 0 else float("inf"))


def _box_painter(img, box, items, drawn=None):
    """(scene, paint): a scene holding ``items``, and a ``paint()`` that clears ``img`` and
    paints ``drawn`` (default: ``items``) antialiased, the data box ``box`` (x0, x1, y0, y1)
    filling the image, y up (the paint rows of ``contour-paint`` and ``curve-paint``)."""
    from PySide6.QtGui import QPainter
    from PySide6.QtWidgets import QGraphicsScene, QStyleOptionGraphicsItem

    x0, x1, y0, y1 = box
    w, h = img.width(), img.height()
    sx, sy = w / (x1 - x0), -h / (y1 - y0)
    opt = QStyleOptionGraphicsItem()
    scene = QGraphicsScene()
    for item in items:
        scene.addItem(item)
    drawn = list(items if drawn is None else drawn)

    def paint():
        img.fill(0)
        p = QPainter(img)
        p.translate(-x0 * sx, h - y0 * sy)
        p.scale(sx, sy)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for item in drawn:
            item.paint(p, opt, None)
        p.end()
    return scene, paint


def bench_contour_paint(size=(800, 500), grid: int = 256, levels: int = 18) -> dict:
    """``contour-paint``: ms to paint the Rosenbrock map's contours into a ``size`` image,
    rasterised by the numba kernel (:class:`RasterLines`) against Qt's antialiased stroke
    of the same segments (``PlotDataItem(connect="pairs")``, how the map drew them before)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    from PySide6.QtGui import QColor, QImage
    from PySide6.QtWidgets import QApplication

    from gdviz import kernels
    from gdviz.core.surfaces import Landscape
    from gdviz.kernels.contour import contour_segments, nice_levels
    from gdviz.ui.views.raster_item import RasterLines

    QApplication.instance() or QApplication([])
    kernels.warmup()
    land = Landscape.from_surface("rosenbrock")
    x0, x1, y0, y1 = land.view
    z = land.grid(x0, x1, y0, y1, grid, grid)
    xy, _ = contour_segments(z, x0, x1, y0, y1, nice_levels(z, levels, True))
    pen = pg.mkPen(QColor(40, 40, 40, 200), width=1.6)
    w, h = size
    img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    ours = RasterLines(pen)
    ours.setData(xy[:, 0], xy[:, 1])
    scene_a, paint_ours = _box_painter(img, (x0, x1, y0, y1), [ours])

    def ours_fresh():
        # every paint after a change: the image is made again (its key alone forgotten, the
        # paint took the kept image for a moved one, read the forgotten key and raised: the
        # error went to the excepthook and the row timed the traceback, 700-800x)
        ours._key = None
        ours._image = None
        drawn = ours.renders
        paint_ours()
        if ours.renders != drawn + 1:
            raise RuntimeError("contour-paint: the lines were not rasterised")

    qt = pg.PlotCurveItem(connect="pairs", antialias=True, pen=pen)
    qt.setData(xy[:, 0], xy[:, 1])
    scene_b, paint_qt = _box_painter(img, (x0, x1, y0, y1), [qt])
    ours_ms = best_ms(ours_fresh, 10)
    base_ms = best_ms(paint_qt, 3)
    return {"name": "contour-paint", "ours_ms": ours_ms, "baseline": "Qt antialiased stroke",
            "baseline_ms": base_ms, "ratio": base_ms / ours_ms, "segments": len(xy) // 2,
            "size": f"{w}x{h}", "renders": ours.renders}


def bench_curve_paint(size=(800, 500), runs: int = 12, points: int = 300) -> dict:
    """``curve-paint``: ms to paint ``runs`` fit curves (``points`` points each, 4.5 px,
    round caps: a run's pen in the fit panel) that overfit as L9's do (wiggly), into a
    ``size`` image: rasterised by the numba kernel (:class:`RasterRunCurve`, how the fit
    panel draws them) against Qt's antialiased stroke of the same curves (how it did)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np
    import pyqtgraph as pg
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QImage
    from PySide6.QtWidgets import QApplication

    from gdviz import kernels
    from gdviz.ui.views.items import RasterRunCurve

    QApplication.instance() or QApplication([])
    kernels.warmup()
    x = np.linspace(-2.0, 2.0, points)
    rng = np.random.default_rng(0)
    ys = [np.sin(3.0 * x) + 0.4 * np.sin((25.0 + 5.0 * rng.random()) * x + r) for r in range(runs)]
    w, h = size
    img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    box = (-2.0, 2.0, -2.0, 2.0)

    def pen(r):
        return pg.mkPen(QColor.fromHsv(int(360 * r / runs) % 360, 200, 200), width=4.5,
                        capStyle=Qt.PenCapStyle.RoundCap)

    runs_items = []
    for r, y in enumerate(ys):
        c = RasterRunCurve(connect="finite", pen=pen(r), antialias=True)
        c.setData(x, y)
        runs_items.append(c)
    ours = [c.curve for c in runs_items]  # (each run's line: its data item draws nothing)
    scene_a, paint_ours = _box_painter(img, box, runs_items, ours)

    def ours_fresh():
        # each curve drawn anew (its kept image forgotten), as after a new step or size
        before = 0
        for c in ours:
            if c._stroke is not None:
                before += c._stroke.renders
                c._stroke._key = None
                c._stroke._image = None
        paint_ours()
        if sum(c._stroke.renders for c in ours) != before + runs:
            raise RuntimeError("curve-paint: the curves were not rasterised")

    qt = [pg.PlotCurveItem(x, y, pen=pen(r), antialias=True, connect="finite")
          for r, y in enumerate(ys)]
    scene_b, paint_qt = _box_painter(img, box, qt)
    ours_ms = best_ms(ours_fresh, 10)
    base_ms = best_ms(paint_qt, 3)
    return {"name": "curve-paint", "ours_ms": ours_ms, "baseline": "Qt antialiased stroke",
            "baseline_ms": base_ms, "ratio": base_ms / ours_ms, "curves": runs,
            "size": f"{w}x{h}", "renders": sum(c._stroke.renders for c in ours)}


def bench_frame_classify(frames: int = 120, size=(1280, 720)) -> dict:
    """``frame-classify``: p95 frame time (ms) of the real window offscreen on lesson L21
    (a 2-8-8-8-1 network, two runs at 60 steps/s): the engine's steps, the map's live loss
    slice, the plane view (surface, two boundaries, 24 neuron thumbnails) and the loss
    curves, then the paint, as the window's 60 Hz timer does (see ``frame``)."""
    import os
    import tempfile
    import time

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings

    from gdviz import kernels
    from gdviz.bench.timing import p95
    from gdviz.core.scene import load_preset
    from gdviz.core.scene.bridge import apply_scene
    from gdviz.core.session import Session
    from gdviz.ui.app import ensure_app
    from gdviz.ui.main_window import MainWindow

    kernels.warmup()
    app = ensure_app()
    with tempfile.TemporaryDirectory() as tmp:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        session = Session()
        win = MainWindow(session)
        win.resize(*size)
        win.show()
        apply_scene(load_preset("L21_spiral"), session)
        app.processEvents()
        win.frame_timer.stop()
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
    return dict(name="frame-classify", ours_ms=ms, baseline="16.7 ms budget", baseline_ms=16.7,
                ratio=16.7 / ms if ms > 0 else float("inf"))
