"""Frame cost of the real window with many runs (not a test: a measurement script).

    QT_QPA_PLATFORM=offscreen python tests/ui/frames_many_runs.py [L08 L09 ...] [--runs 4,12,25]
        [--frames 120] [--prof] [--views]

For each lesson x run count: the real MainWindow offscreen at 1280x720, the lesson's
preset, runs added as the runs panel's "Add run" does (cycling the optimizers), then
``frames`` frames timed as ``gdviz bench frame`` does (``session.tick(1/60)`` then
``processEvents()``, the window's frame timer stopped). Prints p50/p95 wall and thread
CPU ms, and with ``--views`` the mean ms per frame of each view's paintEvent and
_on_stepped; ``--prof`` prints a cProfile of the frames of each case.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from collections import defaultdict

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PRESETS = {"L08": "L08_more_units", "L09": "L09_overfitting", "L13": "L13_weight_decay",
           "L10": "L10_optimizer_race", "L21": "L21_spiral", "L04": "L04_learning_rate"}


def _wrap(cls, name, acc, label):
    orig = cls.__dict__.get(name)
    if orig is None:
        return None

    def wrapped(self, *a, **k):
        t0 = time.perf_counter()
        try:
            return orig(self, *a, **k)
        finally:
            acc[label] += time.perf_counter() - t0
    wrapped.__name__ = name
    setattr(cls, name, wrapped)
    return (cls, name, orig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("lessons", nargs="*", default=["L08", "L09", "L13", "L10"])
    ap.add_argument("--runs", default="4,12,25")
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--prof", action="store_true")
    ap.add_argument("--views", action="store_true")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)

    import pyqtgraph as pg
    from PySide6.QtCore import QSettings

    from gdviz import kernels
    from gdviz.core.optimizers import OPTIMIZERS
    from gdviz.core.scene import load_preset
    from gdviz.core.scene.bridge import apply_scene
    from gdviz.core.session import Session
    from gdviz.ui.app import ensure_app
    from gdviz.ui.main_window import MainWindow
    from gdviz.ui.views import (fit_view, landscape_view, loss_view, network_view, plane_view,
                                schedule_view)

    kernels.warmup()
    app = ensure_app()
    acc: dict = defaultdict(float)
    undo = []
    if args.views:
        for mod, cname in ((fit_view, "FitView"), (landscape_view, "LandscapeView"),
                           (loss_view, "LossView"), (network_view, "NetworkView"),
                           (plane_view, "PlaneView"), (schedule_view, "ScheduleView")):
            cls = getattr(mod, cname)
            for meth in ("_on_stepped", "paintEvent"):
                u = _wrap(cls, meth, acc, f"{cname}.{meth}")
                if u:
                    undo.append(u)
        # every pyqtgraph GraphicsView's paint (the plot widgets), by the widget's class
        orig_gv = pg.GraphicsView.paintEvent

        def gv_paint(self, ev):
            t0 = time.perf_counter()
            try:
                return orig_gv(self, ev)
            finally:
                acc[f"paint:{type(self).__name__}"] += time.perf_counter() - t0
        pg.GraphicsView.paintEvent = gv_paint

    names = list(OPTIMIZERS)
    tmp = tempfile.mkdtemp()
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
    session = Session()
    win = MainWindow(session)
    win.resize(1280, 720)
    win.show()
    app.processEvents()
    print(f"{'case':10s} {'p50':>7s} {'p95':>7s} {'cpu50':>7s} {'cpu95':>7s}  (ms)")
    for lesson in args.lessons:
        for n in [int(x) for x in args.runs.split(",")]:
            for rep in range(args.repeat):
                apply_scene(load_preset(PRESETS.get(lesson, lesson)), session)
                app.processEvents()
                from gdviz.core.optimizers import make_optimizer
                from gdviz.core.session import RunSpec
                k = 0
                while len(session.specs) < n:
                    session.add_run(RunSpec(config=make_optimizer(names[k % len(names)])))
                    k += 1
                    app.processEvents()
                while len(session.specs) > n:
                    session.remove_run(len(session.specs) - 1)
                app.processEvents()
                session.set_max_steps(max(session.max_steps, 100_000))
                win.frame_timer.stop()
                session.play()
                win.frame_timer.stop()
                times, cpus = [], []
                prof = cProfile.Profile() if args.prof else None
                for f in range(args.frames + 10):
                    if f == 10:
                        acc.clear()
                        if prof:
                            prof.enable()
                    t0 = time.perf_counter()
                    c0 = time.thread_time()
                    session.tick(1.0 / 60.0)
                    app.processEvents()
                    times.append(time.perf_counter() - t0)
                    cpus.append(time.thread_time() - c0)
                if prof:
                    prof.disable()
                session.pause()
                app.processEvents()
                t = np.array(times[10:]) * 1000
                c = np.array(cpus[10:]) * 1000
                print(f"{lesson}x{n:<6d} {np.percentile(t, 50):7.1f} {np.percentile(t, 95):7.1f}"
                      f" {np.percentile(c, 50):7.1f} {np.percentile(c, 95):7.1f}   t={session.t}",
                      flush=True)
                if args.views:
                    for key, v in sorted(acc.items(), key=lambda kv: -kv[1]):
                        print(f"      {key:36s} {v * 1000 / args.frames:7.2f} ms/frame")
                if prof:
                    s = io.StringIO()
                    pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(25)
                    print(s.getvalue())
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
