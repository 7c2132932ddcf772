"""``frame-3d``: the 3-D view's frame time under Mesa's software renderer (llvmpipe).

The view (:class:`gdviz.ui.views.surface3d_view.Surface3DView`) at 1280×720 with a
256×256 mesh and 4 runs racing at 600 steps/s: each frame is ``session.tick(1/60)``
(the engine, the ``stepped`` signal, the balls' and trails' small buffers) and the
view's paint into its framebuffer, finished on the GPU (``glFinish``); Qt's
composition of the window (a copy to the screen) is not counted. The view draws the
surface, floor and minima into a framebuffer of their own only when they or the camera
change, and a frame copies it and draws the runs. The baseline is the naive frame: the
mesh uploaded and the whole scene drawn every frame.

It needs an OpenGL context, which the offscreen platform has not: the measurement runs
in a process of its own on the X display of ``DISPLAY``, or on a private Xvfb (started
and stopped here) when there is none.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time


def _measure(frames: int, size: tuple[int, int], mesh: int) -> dict:
    import numpy as np
    from OpenGL import GL

    from gdviz.bench.timing import p95
    from gdviz import kernels
    from gdviz.core.session import Session
    from gdviz.ui.app import ensure_app
    from gdviz.ui.gl_probe import gl_available, gl_reason

    kernels.warmup()
    app = ensure_app()
    if not gl_available():
        raise ValueError(f"frame-3d: {gl_reason('en')}")
    from gdviz.ui.views.surface3d_view import Surface3DView

    session = Session()
    while len(session.specs) < 4:
        session.add_run(session.specs[0])
    view = Surface3DView(session, mesh=mesh)
    view.resize(*size)
    view.show()
    app.processEvents()
    session.set_max_steps(1_000_000)
    session.set_speed(600.0)
    session.play()

    def frame(reupload: bool) -> float:
        t0 = time.perf_counter()
        session.tick(1.0 / 60.0)
        if reupload:  # the naive frame: the mesh uploaded and drawn again
            view.surface.meshDataChanged()
            view._static_version += 1
        view.makeCurrent()  # the widget's framebuffer: what its paintGL draws into
        GL.glViewport(0, 0, view.deviceWidth(), view.deviceHeight())
        view.paintGL()
        GL.glFinish()
        view.doneCurrent()
        return time.perf_counter() - t0

    for _ in range(10):
        frame(False)
    up0, st0 = view.surface.uploads, view.static_renders
    ours = [frame(False) for _ in range(frames)]
    uploads = view.surface.uploads - up0
    static = view.static_renders - st0
    base = [frame(True) for _ in range(max(frames // 3, 5))]
    session.pause()
    view.makeCurrent()
    renderer = GL.glGetString(GL.GL_RENDERER)
    view.doneCurrent()
    view.close()
    o, b = p95(ours) * 1e3, p95(base) * 1e3
    return dict(name="frame-3d", ours_ms=o, baseline="mesh uploaded+drawn per frame",
                baseline_ms=b, ratio=b / o if o > 0 else float("inf"),
                p50_ms=round(float(np.median(ours)) * 1e3, 2),
                budget_ms=33.0, mesh=f"{mesh}x{mesh}", runs=session.n_runs,
                size=f"{size[0]}x{size[1]}", mesh_uploads_in_frames=uploads,
                draw_stride=view.stride, static_redraws_in_frames=static,
                renderer=renderer.decode() if isinstance(renderer, bytes) else str(renderer))


def bench_frame_3d(frames: int = 200, size=(1280, 720), mesh: int = 256) -> dict:
    """``frame-3d``: p95 frame time of the 3-D view (ms), in a process of its own."""
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    env["QT_QPA_PLATFORM"] = "xcb"
    env.setdefault("LIBGL_ALWAYS_SOFTWARE", "1")  # Mesa's llvmpipe, as the issue asks
    xvfb = None
    if not env.get("DISPLAY"):
        exe = shutil.which("Xvfb")
        if exe is None:
            raise ValueError("frame-3d needs an X display or Xvfb (apt-get install xvfb)")
        r, w = os.pipe()
        xvfb = subprocess.Popen([exe, "-displayfd", str(w), "-screen", "0", "1920x1080x24",
                                 "-nolisten", "tcp"], pass_fds=(w,),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(w)
        with os.fdopen(r) as f:
            env["DISPLAY"] = ":" + f.readline().strip()
    try:
        code = (f"import json; from gdviz.bench.frame3d import _measure; "
                f"print('ROW' + json.dumps(_measure({int(frames)}, {tuple(size)!r}, {int(mesh)})))")
        res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, timeout=900)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(timeout=10)
    rows = [ln[3:] for ln in res.stdout.splitlines() if ln.startswith("ROW")]
    if res.returncode != 0 or not rows:
        last = (res.stderr.strip().splitlines() or ["no output"])[-1]
        raise ValueError(f"frame-3d failed: {last}")
    return json.loads(rows[-1])
