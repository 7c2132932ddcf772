"""Turn a session into a clip: GIF, MP4, a PNG of one frame, or the trajectories as CSV.

Export drives the session's runs step by step (``steps_per_frame`` per frame) and
never looks at a clock, so the same scene and settings give the same frames on
any machine. Progress and cancellation are callbacks, so the CLI (a terminal bar)
and the GUI (a dialog on a worker thread) share this code.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from gdviz.export.render import PANELS, FrameData, FrameRenderer, SceneLook
from gdviz.export.video import VideoWriter, atomic_write_bytes

OUTPUTS = (".gif", ".mp4", ".png", ".csv")
DEFAULT_PANELS = ("landscape", "loss", "caption")


class ExportCancelled(Exception):
    """The user cancelled; nothing was written."""


@dataclass(frozen=True)
class ExportSettings:
    """How to export. ``steps``/``steps_per_frame`` None mean: from the session / automatic."""

    fps: int = 30
    size: tuple[int, int] = (1280, 720)
    steps: int | None = None
    steps_per_frame: int | None = None
    panels: tuple[str, ...] = DEFAULT_PANELS
    theme: str = "light"

    def __post_init__(self):
        if not 1 <= int(self.fps) <= 120:
            raise ValueError(f"invalid fps {self.fps} (must be 1..120)")
        w, h = self.size
        if not (64 <= w <= 7680 and 64 <= h <= 4320):
            raise ValueError(f"invalid size {w}x{h} (width 64..7680, height 64..4320)")
        if self.steps is not None and not 0 <= self.steps <= 1_000_000:
            raise ValueError(f"invalid steps {self.steps} (must be 0..1000000)")
        if self.steps_per_frame is not None and not 1 <= self.steps_per_frame <= 100_000:
            raise ValueError(f"invalid steps per frame {self.steps_per_frame} (must be 1..100000)")
        for p in self.panels:
            if p not in PANELS:
                raise ValueError(f"unknown panel '{p}' (choose from {', '.join(PANELS)})")
        if not self.panels:
            raise ValueError("no panels to export (choose from landscape, fit, loss, caption)")


def parse_size(text: str) -> tuple[int, int]:
    """'1280x720' -> (1280, 720), with a clear error."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"invalid size '{text}': expected WxH, e.g. 1280x720") from None
    return w, h


def parse_panels(text: str) -> tuple[str, ...]:
    names = tuple(p.strip() for p in text.split(",") if p.strip())
    for p in names:
        if p not in PANELS:
            import difflib

            close = difflib.get_close_matches(p, PANELS, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f" (choose from {', '.join(PANELS)})"
            raise ValueError(f"unknown panel '{p}'{hint}")
    return names


def output_kind(path: str | os.PathLike) -> str:
    ext = Path(path).suffix.lower()
    if ext not in OUTPUTS:
        raise ValueError(f"unsupported output '{Path(path).name}' (use .gif, .mp4, .png or .csv)")
    return ext[1:]


# ---- reading a session --------------------------------------------------------------------
def scene_look(session, settings: ExportSettings, caption: tuple[str, str] = ("", ""),
               grid_n: int = 400, n_levels: int = 24) -> SceneLook:
    """The static content of the clip from the session's landscape and runs."""
    from gdviz.kernels.contour import contour_segments, nice_levels

    land = session.landscape
    x0, x1, y0, y1 = getattr(session, "view", None) or land.view
    z = land.grid(x0, x1, y0, y1, grid_n, grid_n)
    levels = nice_levels(z, n_levels, log=bool(land.log_levels))
    seg, _ = contour_segments(z, x0, x1, y0, y1, levels)
    runs = _shown_runs(session)
    return SceneLook(
        grid=z, view=(x0, x1, y0, y1), segments=seg, minima=np.asarray(land.minima, np.float64).reshape(-1, 2),
        labels=[session.run_label(r) for r in runs], colors=[session.run_color(r) for r in runs],
        log_scale=bool(land.log_levels), title=caption[0], caption=caption[1],
        axis_names=tuple(getattr(land, "axis_names", ("x", "y"))),
        max_steps=settings.steps if settings.steps is not None else session.max_steps,
    )


def _shown_runs(session) -> list[int]:
    """Runs the clip shows: the enabled ones (all of them if none is)."""
    runs = [r for r in range(session.n_runs) if session.run_enabled(r)]
    return runs or list(range(session.n_runs))


def frame_data(session) -> FrameData:
    """The moving content at the session's displayed step."""
    runs = _shown_runs(session)
    trails, losses = session.trails(), session.losses()
    div = dict(session.diverged())
    return FrameData(step=int(session.t), trails=[np.asarray(trails[r], np.float64)[:, :2] for r in runs],
                     losses=[np.asarray(losses[r], np.float64) for r in runs],
                     diverged_at=[div.get(r, -1) for r in runs])


def plan(session, settings: ExportSettings) -> tuple[int, int, int]:
    """(total steps, steps per frame, frame count) for a clip of this session."""
    steps = settings.steps if settings.steps is not None else int(session.max_steps)
    spf = settings.steps_per_frame or max(1, math.ceil(steps / (settings.fps * 12)))
    frames = math.ceil(steps / spf) + 1  # frame 0 shows the start
    return steps, spf, frames


# ---- the export itself -------------------------------------------------------------------
def export(session, out: str | os.PathLike, settings: ExportSettings = ExportSettings(),
           caption: tuple[str, str] = ("", ""),
           progress: Callable[[int, int], None] | None = None,
           cancelled: Callable[[], bool] | None = None) -> Path:
    """Write ``out`` (.gif, .mp4, .png or .csv) from ``session``, restarted from its starts.

    ``progress(done, total)`` is called after each frame; if ``cancelled()`` turns
    True, :class:`ExportCancelled` is raised and no file is left behind.
    """
    out = Path(out)
    kind = output_kind(out)
    session.pause()
    steps, spf, n_frames = plan(session, settings)
    if steps > session.max_steps:
        session.set_max_steps(steps)
    session.reset()
    if kind == "csv":
        _advance(session, steps)
        atomic_write_bytes(out, trajectories_csv(session).encode())
        if progress:
            progress(1, 1)
        return out
    look = scene_look(session, settings, caption)
    renderer = FrameRenderer(look, settings.size, settings.panels, settings.theme)
    if kind == "png":
        _advance(session, steps)
        atomic_write_bytes(out, png_bytes(renderer.render(frame_data(session))))
        if progress:
            progress(1, 1)
        return out
    first = renderer.render(frame_data(session))
    with VideoWriter(out, settings.size, settings.fps, palette_sample=_palette_sample(first, look)) as writer:
        writer.write(first)
        done = 0
        for i in range(1, n_frames):
            if cancelled is not None and cancelled():
                raise ExportCancelled("export cancelled; nothing was written")
            k = min(spf, steps - done)
            _advance(session, k)
            done += k
            writer.write(renderer.render(frame_data(session)))
            if progress:
                progress(i + 1, n_frames)
    return out


def _advance(session, k: int) -> None:
    if k > 0:
        session.step(int(k))


def _palette_sample(first: np.ndarray, look: SceneLook) -> np.ndarray:
    """The first frame plus swatches of every run colour, so the GIF palette has them."""
    sample = first.copy()
    h = sample.shape[0]
    band = max(4, h // 30)
    for i, c in enumerate(look.colors):
        c = c.lstrip("#")
        rgb = [int(c[j: j + 2], 16) for j in (0, 2, 4)]
        sample[i * band:(i + 1) * band, :band * 4] = rgb
    return sample


def png_bytes(frame: np.ndarray) -> bytes:
    import imageio.v3 as iio

    buf = io.BytesIO()
    iio.imwrite(buf, frame, extension=".png")
    return buf.getvalue()


def trajectories_csv(session) -> str:
    """All shown runs' trajectories: ``run,label,step,x,y,loss``, full-precision floats."""
    lines = ["run,label,step,x,y,loss"]
    trails, losses = session.trails(), session.losses()
    for r in _shown_runs(session):
        label = session.run_label(r).replace('"', "'")
        p, l = trails[r], losses[r]
        for s in range(len(l)):
            lines.append(f'{r},"{label}",{s},{float(p[s, 0])!r},{float(p[s, 1])!r},{float(l[s])!r}')
    return "\n".join(lines) + "\n"
