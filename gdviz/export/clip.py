"""Turn a session into a clip: GIF, MP4, a PNG of one frame, or the trajectories as CSV.

Export drives the session's runs step by step (``steps_per_frame`` per frame) and
never looks at a clock, so the same scene and settings give the same frames on
any machine. Progress and cancellation are callbacks, so the CLI (a terminal bar)
and the GUI (a dialog on a worker thread) share this code.

On data problems a :class:`FrameSource` adds what moves besides the runs: the fit panel
(data, target, each run's model curve, the units, the current mini-batch), a curve fit's
live slice (re-computed only when ``landscape.key()`` changes), the mini-batch's own
contours on a regression map, validation losses and the iteration/epoch counters.
Analytic surfaces keep the static path: their map is computed and painted once.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from gdviz.export.render import PANELS, FitLook, FrameData, FrameRenderer, SceneLook, SurfaceLayer
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
#: grid sizes: the static map (painted once) and a live one (re-computed per frame: a fit's
#: slice, a mini-batch's own surface), which is smoothed when drawn
GRID_N = 400
LIVE_GRID_N = 140
N_LEVELS = 24
BATCH_LEVELS = 12
#: where the fit panel samples each model curve
FIT_SAMPLES = 300


def _view_box(session) -> tuple[float, float, float, float]:
    box = getattr(session, "view_box", None)
    if box is None:  # an older session: its view, else the landscape's
        box = getattr(session, "view", None) or session.landscape.view
    return tuple(float(v) for v in box)


def surface_layer(land, view, n: int, n_levels: int = N_LEVELS, batch_idx=None) -> SurfaceLayer:
    """The landscape (or, with ``batch_idx``, one mini-batch's loss surface) over ``view``:
    an ``n`` x ``n`` grid and its contour segments."""
    from gdviz.kernels.contour import contour_segments, nice_levels

    x0, x1, y0, y1 = view
    if batch_idx is None:
        z = land.grid(x0, x1, y0, y1, n, n)
    else:
        z = land.grid(x0, x1, y0, y1, n, n, batch_idx=batch_idx)
    log = bool(getattr(land, "log_levels", True))  # a fit's slice decides it in grid()
    seg, _ = contour_segments(z, x0, x1, y0, y1, nice_levels(z, n_levels, log=log))
    key = land.key() if hasattr(land, "key") else None
    return SurfaceLayer(key=key, grid=z, segments=seg, log_scale=log)


def fit_look(session) -> FitLook | None:
    """The fit panel's data on a data problem (None on analytic surfaces): training and
    validation points, the noise-free target where it is known, and a box around them."""
    if not getattr(session, "is_data", False):
        return None
    pr = session.problem
    train = np.column_stack([pr.x, pr.y]).astype(np.float64)
    xv, yv = getattr(pr, "x_val", np.zeros(0)), getattr(pr, "y_val", np.zeros(0))
    val = np.column_stack([xv, yv]).astype(np.float64).reshape(-1, 2)
    pts = np.concatenate([train, val])
    x0, x1 = float(pts[:, 0].min()), float(pts[:, 0].max())
    if x1 - x0 < 1e-12:
        x0, x1 = x0 - 1.0, x1 + 1.0
    xs = np.linspace(x0, x1, FIT_SAMPLES)
    ty = _target_curve(session, xs)
    target = None if ty is None else np.column_stack([xs, ty])
    ys = pts[:, 1] if target is None else np.concatenate([pts[:, 1], ty[np.isfinite(ty)]])
    y0, y1 = float(ys.min()), float(ys.max())
    if y1 - y0 < 1e-12:
        y0, y1 = y0 - 1.0, y1 + 1.0
    dx, dy = 0.04 * (x1 - x0), 0.12 * (y1 - y0)
    return FitLook(box=(x0 - dx, x1 + dx, y0 - dy, y1 + dy), train=train, val=val, target=target)


def _target_curve(session, xs: np.ndarray) -> np.ndarray | None:
    data = session.data
    if session.kind == "fit" and hasattr(data, "target_curve"):
        return data.target_curve(xs)
    if session.kind == "regression" and getattr(data, "points", None) is None:
        return data.b + data.w * xs  # the line the points were drawn around
    return None


def _subtitle(session) -> str:
    """One line over a data problem's map: what it shows (nothing on analytic surfaces)."""
    land = session.landscape
    if session.kind == "fit":
        # the slice moves as the run does: say what it holds fixed
        rest = [n for k, n in enumerate(session.all_param_names) if k not in session.linked]
        if not rest:
            return land.label
        if len(rest) == 1:
            return f"{land.label} · {rest[0]} at the run's current value"
        return f"{land.label} · the other {len(rest)} parameters at the run's current values"
    if session.kind == "regression":
        return str(getattr(land, "label", ""))
    return ""


def scene_look(session, settings: ExportSettings, caption: tuple[str, str] = ("", ""),
               grid_n: int = GRID_N, n_levels: int = N_LEVELS) -> SceneLook:
    """The static content of the clip from the session's landscape and runs."""
    land = session.landscape
    view = _view_box(session)
    live = bool(getattr(land, "live", False))
    layer = surface_layer(land, view, LIVE_GRID_N if live else grid_n, n_levels)
    runs = _shown_runs(session)
    return SceneLook(
        grid=layer.grid, view=view, segments=layer.segments,
        minima=np.asarray(land.minima, np.float64).reshape(-1, 2),
        labels=[session.run_label(r) for r in runs], colors=[session.run_color(r) for r in runs],
        log_scale=layer.log_scale, title=caption[0], caption=caption[1],
        axis_names=tuple(getattr(session, "param_names", None) or ("x", "y")),
        max_steps=settings.steps if settings.steps is not None else session.max_steps,
        live=live, subtitle=_subtitle(session),
        batch_surface=_batch_surface_on(session),
        fit=fit_look(session),
        batches_per_epoch=_batches_per_epoch(session),
        has_validation=bool(getattr(session, "has_validation", False)),
        show_units=bool(getattr(session, "show_units", False)) and _n_units(session) > 0,
        batch_points=bool(getattr(session, "is_data", False)) and session.batch_size < session.n_train,
    )


def _batches_per_epoch(session) -> int:
    """Mini-batches per epoch on a data problem; 0 on analytic surfaces (no counters)."""
    c = session.counters() if getattr(session, "is_data", False) else None
    return int(c["batches_per_epoch"]) if c else 0


def _n_units(session) -> int:
    model = getattr(session.problem, "model", None)
    return int(getattr(model, "K", 0)) if model is not None else 0


def _batch_surface_on(session) -> bool:
    return (getattr(session, "kind", "") == "regression" and bool(getattr(session, "batch_surface", False))
            and session.batch_size < session.n_train)


def _shown_runs(session) -> list[int]:
    """Runs the clip shows: the enabled ones (all of them if none is)."""
    runs = [r for r in range(session.n_runs) if session.run_enabled(r)]
    return runs or list(range(session.n_runs))


def frame_data(session) -> FrameData:
    """The moving content at the session's displayed step (trails, losses, counters)."""
    runs = _shown_runs(session)
    trails, losses = session.trails(), session.losses()
    div = dict(session.diverged())
    val = session.val_losses() if getattr(session, "is_data", False) else None
    return FrameData(step=int(session.t), trails=[np.asarray(trails[r], np.float64)[:, :2] for r in runs],
                     losses=[np.asarray(losses[r], np.float64) for r in runs],
                     diverged_at=[div.get(r, -1) for r in runs],
                     val_losses=None if val is None else [np.asarray(val[r], np.float64) for r in runs],
                     counters=session.counters() if getattr(session, "is_data", False) else None)


class FrameSource:
    """Each frame's content for a clip of ``session`` with ``look`` and ``panels``.

    Beyond :func:`frame_data` it computes what moves on data problems, and only what the
    clip shows: a live landscape (a fit's slice: re-computed when ``landscape.key()``
    changes), the current mini-batch's own contours (regression with ``batch_surface``),
    and the fit panel (each run's model curve, the reference run's units, the mini-batch).
    On analytic surfaces it is :func:`frame_data` and nothing more.
    """

    def __init__(self, session, look: SceneLook, panels):
        self.session, self.look = session, look
        self.runs = _shown_runs(session)
        on_map = "landscape" in panels
        self.live = on_map and look.live
        self.batch_surface = on_map and look.batch_surface
        self.fit = "fit" in panels and look.fit is not None
        self._layer: SurfaceLayer | None = None
        self._batch: tuple[bytes, np.ndarray] | None = None
        if self.fit:
            self.xs = np.linspace(look.fit.box[0], look.fit.box[1], FIT_SAMPLES)

    def __call__(self) -> FrameData:
        s = self.session
        frame = frame_data(s)
        if self.live:
            key = s.landscape.key()
            if self._layer is None or key != self._layer.key:
                self._layer = surface_layer(s.landscape, self.look.view, LIVE_GRID_N)
            frame.surface = self._layer
        if self.batch_surface:
            frame.batch_segments = self._batch_segments()
        if self.fit:
            frame.fit = self._fit()
        return frame

    def _current_batch(self):
        """The current mini-batch's training indices, or None when it holds every point."""
        idx = self.session.current_batch()
        if idx is None or len(idx) >= self.session.n_train:
            return None
        return np.asarray(idx, np.int64)

    def _batch_segments(self) -> np.ndarray | None:
        idx = self._current_batch()
        if idx is None:
            return None
        key = idx.tobytes()
        if self._batch is None or self._batch[0] != key:
            layer = surface_layer(self.session.landscape, self.look.view, LIVE_GRID_N, BATCH_LEVELS,
                                  batch_idx=idx)
            self._batch = (key, layer.segments)
        return self._batch[1]

    def _fit(self) -> dict:
        s, xs = self.session, self.xs
        model = s.problem.model
        P = np.asarray(s.positions(), np.float64)
        curves = []
        for i, r in enumerate(self.runs):
            if np.isfinite(P[r]).all():
                y = model.predict(P[r], xs)
                curves.append((np.column_stack([xs, y]), self.look.colors[i % len(self.look.colors)]))
        units = []
        ref = s.reference_run()
        if getattr(s, "show_units", False) and model.K > 0 and np.isfinite(P[ref]).all():
            # each unit's term on top of the constant c0: the curve is c0 + their sum, and
            # drawn this way every "blue function" sits where it bends the curve
            U = model.unit_contributions(P[ref], xs) + P[ref][0]
            units = [np.column_stack([xs, u]) for u in U]
        idx = self._current_batch()
        batch = None if idx is None else self.look.fit.train[idx]
        return dict(curves=curves, units=units, batch=batch)


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
    source = FrameSource(session, look, settings.panels)
    if kind == "png":
        _advance(session, steps)
        atomic_write_bytes(out, png_bytes(renderer.render(source())))
        if progress:
            progress(1, 1)
        return out
    first = renderer.render(source())
    sample = _palette_sample(first, look.colors + _data_colors(look, renderer))
    with VideoWriter(out, settings.size, settings.fps, palette_sample=sample) as writer:
        writer.write(first)
        done = 0
        for i in range(1, n_frames):
            if cancelled is not None and cancelled():
                raise ExportCancelled("export cancelled; nothing was written")
            k = min(spf, steps - done)
            _advance(session, k)
            done += k
            writer.write(renderer.render(source(), copy=False))  # written before the next frame
            if progress:
                progress(i + 1, n_frames)
    return out


def _advance(session, k: int) -> None:
    if k > 0:
        session.step(int(k))


def _data_colors(look: SceneLook, renderer: FrameRenderer) -> list[str]:
    """Colours that appear only in later frames of a data clip (the mini-batch, the units)."""
    if look.fit is None and not look.batch_surface:
        return []
    t = renderer.t
    return [t["batch"], t["units"], t["val"], t["train"]]


def _palette_sample(first: np.ndarray, colors: list[str]) -> np.ndarray:
    """The first frame plus swatches of ``colors`` (every run's and the data's), so the
    GIF palette has them."""
    sample = first.copy()
    h = sample.shape[0]
    band = max(4, h // 30)
    for i, c in enumerate(colors):
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
    """All shown runs' trajectories, full-precision floats: ``run,label,step,x,y,loss`` on
    analytic surfaces; on data problems every parameter by name (``w,b`` / ``c0,w1,...``)
    and, with a validation set, ``val_loss`` after ``loss``."""
    data = getattr(session, "is_data", False)
    if data:
        names = list(session.all_param_names)
        trails = session.param_trails()
        val = session.val_losses()
    else:
        names, trails, val = ["x", "y"], session.trails(), None
    lines = ["run,label,step," + ",".join(names) + ",loss" + (",val_loss" if val is not None else "")]
    losses = session.losses()
    for r in _shown_runs(session):
        label = session.run_label(r).replace('"', "'")
        p, l = trails[r], losses[r]
        for s in range(len(l)):
            row = ",".join(repr(float(v)) for v in p[s, : len(names)])
            tail = f",{float(val[r][s])!r}" if val is not None else ""
            lines.append(f'{r},"{label}",{s},{row},{float(l[s])!r}{tail}')
    return "\n".join(lines) + "\n"
