"""Bench entries of classification on the plane (issue 12 part 2)."""

from __future__ import annotations

import numpy as np

from gdviz.bench.timing import best_ms


def bench_decision_surface() -> dict:
    """``decision-surface``: a 2-8-8-1 ReLU network's logit over a 128x128 grid of the plane,
    numba vs the numpy twin (the budget is 2 ms). Extra keys: ``frame_ms``, what the plane
    view computes per frame for one run (its 72x72 surface, the 0.5 contour and 16 neuron
    thumbnails of 28x28)."""
    from gdviz.core.classifier import PLANE_GRID as GRID
    from gdviz.core.classifier import THUMB_GRID, ClassifyData, plane_grid
    from gdviz.kernels.contour import contour_segments

    data = ClassifyData("spiral", points=500, layers=2, units=8)
    pr = data.build(fast=True)
    p = data.init_params()
    box = (-6.0, 6.0, -6.0, 6.0)
    pr.grid_logits(p, box, 128, 128, fast=True)  # compile
    pr.grid_hidden(p, box, 8, 8, fast=True)
    ours_ms = best_ms(lambda: pr.grid_logits(p, box, 128, 128, fast=True), 5, 20)
    base_ms = best_ms(lambda: pr.grid_logits(p, box, 128, 128, fast=False), 3, 5)
    grid = plane_grid(box, GRID, GRID)
    lev = np.array([0.0])

    def frame():
        z = pr.logits(p[None], grid, fast=True)[0].reshape(GRID, GRID)
        contour_segments(z, *box, lev, fast=True)
        pr.grid_hidden(p, box, THUMB_GRID, THUMB_GRID, fast=True)

    frame()
    return dict(name="decision-surface", ours_ms=ours_ms, baseline="numpy",
                baseline_ms=base_ms, ratio=base_ms / ours_ms,
                frame_ms=best_ms(frame, 5, 20), budget_ms=2.0)


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
