"""Headless work on a terminal: the numba kernels loaded first, and a one-line progress.

Progress goes to stderr and only when stderr is a terminal, so pipes and files get
exactly the output (a CSV, a JSON document) and nothing else.
"""

from __future__ import annotations

import sys
import time


class TerminalProgress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, label: str, stream=None, unit: str = "frames"):
        self.label, self.unit = label, unit
        self.stream = sys.stderr if stream is None else stream
        try:
            self.tty = self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self._last = -1.0
        self._t0 = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        if not self.tty:
            return
        frac = done / max(total, 1)
        if done < total and frac - self._last < 0.01:
            return
        self._last = frac
        width = 30
        bar = "#" * int(frac * width)
        elapsed = time.perf_counter() - self._t0
        count = f"{round(100 * frac)}%" if self.unit == "%" else f"{done}/{total} {self.unit}"
        self.stream.write(f"\r{self.label} [{bar:<{width}}] {count}  "
                          f"{elapsed:5.1f}s")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def load_kernels(stream=None) -> bool:
    """Compile every numba kernel, or load it from numba's cache (about a second), before
    headless work, so that the session and the picture run the kernels rather than their
    numpy twins (about 15x slower a step). Shows progress on a terminal. Returns
    :func:`gdviz.kernels.is_ready`; if numba fails, the twins are used and that is said
    on a terminal."""
    from gdviz import kernels

    if kernels.is_ready():
        return True
    bar = TerminalProgress("loading kernels", stream, unit="kernels")
    try:
        kernels.warmup(lambda i, n, name: bar(i, n))
    except Exception as exc:  # noqa: BLE001 - numba broken: the numpy twins still work
        if bar.tty:
            bar.stream.write(f"\nkernels unavailable ({type(exc).__name__}); using numpy\n")
    return kernels.is_ready()


def advance_with_progress(runs, steps: int, label: str, stream=None, chunk: int = 10_000) -> None:
    """``runs.advance(steps)`` in chunks, with a progress line on a terminal (the same
    steps: the engine's state depends only on the step count)."""
    bar = TerminalProgress(label, stream, unit="steps")
    if not bar.tty or steps <= chunk:
        runs.advance(steps)
        return
    done = 0
    while done < steps:
        k = min(chunk, steps - done)
        runs.advance(k)
        done += k
        bar(done, steps)


#: seconds of the scene's lr finder work between two updates of its progress line
SCENE_CHUNK_S = 0.05


def apply_scene_shown(scene, session, stream=None, label: str = "lr finder") -> None:
    """:func:`gdviz.core.scene.apply_scene`, with the scene's lr finder work (its
    ``[lrfind]`` sweep and tuning: a tuning of 10⁶ steps takes seconds) in chunks, its
    progress shown on a terminal. Raises SceneError as apply_scene does."""
    from gdviz.core.scene import SceneError, apply_scene

    jobs = apply_scene(scene, session, defer_lrfind=True)
    if jobs is None:
        return
    bar = TerminalProgress(label, stream, unit="%")
    try:
        if not bar.tty:  # (no terminal: all of it in one go)
            jobs.advance(None)
        else:
            while not jobs.run_for(SCENE_CHUNK_S):
                bar(min(int(1000 * jobs.fraction), 999), 1000)
            bar(1000, 1000)
        jobs.finish()
    except (ValueError, MemoryError) as exc:
        why = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise SceneError(f"cannot apply scene: {why}") from None
