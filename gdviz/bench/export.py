"""The ``export`` entry of ``gdviz bench``: 300 frames at 1280x720 to MP4 from the
Rosenbrock race scene, painted by the app's own picture (the scene's panels: the
caption, the map and the loss curves), exactly as ``gdviz export`` makes it.

The baseline is a figure, not a run: matplotlib is not a dependency. The same clip
(Rosenbrock contours and four trails) made with matplotlib's FuncAnimation and
FFMpegWriter took 23.5 s on the reference machine (from the issue).
"""

from __future__ import annotations

import os
import resource
import tempfile
import time

MATPLOTLIB_S = 23.5


def bench_export() -> dict:
    """``export``: the Rosenbrock race scene, 300 steps at 30 fps, 1280x720, to MP4 (ms)."""
    from gdviz import resources_dir
    from gdviz.core.scene import apply_scene, load_scene
    from gdviz.core.session import Session
    from gdviz import kernels
    from gdviz.export.clip import ExportSettings, export
    from gdviz.ui.picture import clip_renderer

    kernels.warmup()  # steady state: numba compiled (from the cache when warm)
    scene = load_scene(resources_dir() / "scenes" / "default_rosenbrock_race.toml")
    session = Session()
    apply_scene(scene, session)
    settings = ExportSettings(fps=30, size=(1280, 720), steps=300, steps_per_frame=1,
                              panels=tuple(scene.export.panels), lang="en")
    caption = (scene.meta.title.en, scene.meta.caption.en)

    def renderer():
        return clip_renderer(session, settings, caption)

    # warm Qt's font caches so the figure is the export itself
    with tempfile.TemporaryDirectory() as d:
        export(session, os.path.join(d, "warm.png"), ExportSettings(steps=5, panels=settings.panels),
               renderer=renderer)
        t0 = time.perf_counter()
        out = export(session, os.path.join(d, "race.mp4"), settings, renderer=renderer)
        dt = time.perf_counter() - t0
        size_mb = out.stat().st_size / 1e6
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return dict(name="export", ours_ms=dt * 1000, baseline="matplotlib (23.5 s, issue)",
                baseline_ms=MATPLOTLIB_S * 1000, ratio=MATPLOTLIB_S / dt,
                frames=301, realtime_x=round(301 / 30 / dt, 2), mp4_mb=round(size_mb, 2),
                peak_rss_mb=round(self_mb, 1))
