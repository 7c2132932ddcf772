"""Draw export frames with QPainter on a QImage: no widgets, no live timer.

The static part of each panel (heatmap, contours, axes, minima, the fit panel's data
points and target) is painted once into a background image; each frame copies it and
draws only what moves (trails, markers, loss curves, model curves, counters). That keeps
a 1280x720 frame at a few milliseconds, so export is bounded by the encoder, and the
same scene always gives the same pixels.

Two things move on data problems and are drawn per frame instead: a *live* landscape
(a curve fit's slice through the reference run's current parameters, handed in as
:class:`SurfaceLayer` and re-painted only when its key changes) and the current
mini-batch's own contours over a regression map.

Frames come out as ``uint8 (h, w, 3)`` C-contiguous arrays, ready for ffmpeg.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

PANELS = ("landscape", "fit", "loss", "caption")

# batch: the app's colour for the mini-batch's own surface (gdviz.ui.theme), reused for
# the mini-batch's points in the fit panel, so "purple = this mini-batch" everywhere;
# val and units: the fit panel's (gdviz.ui.views.fit_view VAL_COLORS, UNIT_COLORS), so a clip
# looks like the app: vermillion validation diamonds, blue units
THEMES = {
    "light": dict(bg="#ffffff", fg="#111111", axis="#333333", grid="#d0d0d0",
                  contour="#1f1f1f", panel="#f4f4f4", heat_alpha=0.55, batch="#7b1fa2",
                  train="#3a3a3a", val="#D55E00", target="#111111", units="#0072B2"),
    "dark": dict(bg="#111418", fg="#f0f0f0", axis="#c8c8c8", grid="#3a3f45",
                 contour="#f5f5f5", panel="#1b1f24", heat_alpha=0.65, batch="#c9a8ff",
                 train="#d6d6d6", val="#FF6A3D", target="#f0f0f0", units="#56B4E9"),
}

#: the caption strip: its usual share of the frame height, the most it may take when a
#: long caption needs room, and the smallest body font (x the frame's base font) before
#: the text is shortened with a visible "…"
CAPTION_SHARE = 0.17
CAPTION_MAX_SHARE = 0.30
CAPTION_BODY_SCALES = (0.85, 0.8, 0.75, 0.7, 0.65)
CAPTION_MIN_PX = 10
#: the key over each panel's plot: font scales to try, most lines, line spacing (x px)
KEY_SCALES = (0.85, 0.8, 0.75, 0.7, 0.65)
KEY_MAX_LINES = 2
KEY_LINE = 1.2


def _qt():
    """Import QtGui lazily and make sure a QGuiApplication exists (fonts need one)."""
    import os

    from PySide6 import QtCore, QtGui

    if QtGui.QGuiApplication.instance() is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _qt.app = QtGui.QGuiApplication([])  # kept alive for the process
    return QtCore, QtGui


def base_px(height: int) -> int:
    """The frame's base font size in pixels for a frame ``height`` px tall (legible on a slide)."""
    return max(11, round(height / 38))


@dataclass
class SurfaceLayer:
    """A landscape computed for one frame (live problems): ``grid`` float64 (ny, nx) over
    the look's view, contour ``segments`` float64 (2S, 2), ``log_scale`` for the colours.
    ``key`` changes exactly when the surface does (the renderer caches by it)."""

    key: object
    grid: np.ndarray
    segments: np.ndarray
    log_scale: bool = True


@dataclass
class FrameData:
    """What one frame shows, independent of where it came from (session or file).

    ``trails[r]``: float64 (m, 2) positions of run r up to the shown step.
    ``losses[r]``: float64 (m,) its loss history. ``diverged_at[r]``: -1 or the step.
    ``val_losses[r]``: float64 (m,) validation loss history, or None without a validation set.
    ``counters``: dict(iteration, epoch, batch_in_epoch, batches_per_epoch) on data problems.
    ``surface``: the live landscape at this step (None: the look's static one).
    ``batch_segments``: float64 (2S, 2) contours of the current mini-batch's own surface.
    ``fit``: the fit panel's moving part: ``curves`` [(xy float64 (k, 2), colour)], one per
    run; ``units`` [xy (k, 2)]: c0 + each unit's term for the reference run (the sum of the
    units' terms is the curve minus c0); ``batch`` float64 (B, 2), the points of
    the current mini-batch (None when every point is in it).
    """

    step: int
    trails: list[np.ndarray]
    losses: list[np.ndarray]
    diverged_at: Sequence[int]
    fit: dict | None = None
    val_losses: list[np.ndarray] | None = None
    counters: dict | None = None
    surface: SurfaceLayer | None = None
    batch_segments: np.ndarray | None = None


@dataclass
class FitLook:
    """The fit panel's unchanging part: ``train`` and ``val`` points float64 (n, 2),
    the noise-free ``target`` float64 (k, 2) or None, and the data ``box`` (x0, x1, y0, y1)."""

    box: tuple[float, float, float, float]
    train: np.ndarray
    val: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    target: np.ndarray | None = None


@dataclass
class SceneLook:
    """The unchanging part of a clip: the landscape, labels, colours and caption.

    ``live``: the landscape changes as the runs move (each frame brings a
    :class:`SurfaceLayer`); ``grid``/``segments`` are then only the first frame's.
    """

    grid: np.ndarray            # float64 (ny, nx) surface values over view
    view: tuple[float, float, float, float]
    segments: np.ndarray        # float64 (2S, 2) contour segment endpoints
    minima: np.ndarray          # float64 (k, 2)
    labels: list[str]
    colors: list[str]
    log_scale: bool = True
    title: str = ""
    caption: str = ""
    axis_names: tuple[str, str] = ("x", "y")
    max_steps: int = 100
    starts: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    live: bool = False
    subtitle: str = ""          # one line over the map (what it shows)
    batch_surface: bool = False  # frames bring the mini-batch's own contours
    fit: FitLook | None = None
    # what later frames will show, so that the layout leaves room for their keys
    batches_per_epoch: int = 0   # > 0 on data problems: frames carry counters
    has_validation: bool = False
    show_units: bool = False
    batch_points: bool = False   # the fit panel rings the current mini-batch


@dataclass(frozen=True)
class CaptionLayout:
    """How a caption fits its strip: ``height`` px, fonts in px, the text as drawn.

    ``shortened`` is True only when even the smallest font in the tallest strip could not
    hold the body; it then ends with "…" at a word boundary (never a silent cut).
    """

    height: float
    title_px: int
    body_px: int
    title: str
    body: str
    shortened: bool
    title_height: float
    body_height: float


def _font(px: float, bold: bool = False):
    _, QtGui = _qt()
    f = QtGui.QFont()
    f.setPixelSize(max(6, round(px)))
    f.setBold(bold)
    return f


def _wrap_flags() -> int:
    QtCore, _ = _qt()
    return int(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop
               | QtCore.Qt.TextFlag.TextWordWrap)


def text_height(text: str, font, width: float) -> float:
    """Height in px of ``text`` word-wrapped to ``width`` in ``font`` (as drawText lays it out)."""
    QtCore, QtGui = _qt()
    if not text:
        return 0.0
    fm = QtGui.QFontMetricsF(font)
    return fm.boundingRect(QtCore.QRectF(0, 0, width, 1e7), _wrap_flags(), text).height()


def _shorten(text: str, font, width: float, height: float) -> str:
    """The longest prefix of ``text`` ending at a word (or CJK character) boundary, plus
    "…", that fits ``width`` x ``height`` when wrapped."""
    lo, hi = 0, len(text)
    while lo < hi:  # binary search on the cut position
        mid = (lo + hi + 1) // 2
        if text_height(text[:mid].rstrip() + "…", font, width) <= height:
            lo = mid
        else:
            hi = mid - 1
    cut = text[:lo]
    # back up to a space unless the cut sits between CJK characters (no spaces there)
    if lo < len(text) and cut and not (_is_cjk(cut[-1]) or text[lo].isspace()):
        space = cut.rfind(" ")
        if space > 0:
            cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


def _is_cjk(ch: str) -> bool:
    return "\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\uff00" <= ch <= "\uffef"


def caption_margins(px: int) -> tuple[float, float, float, float]:
    """Inner margins of the caption strip (left, top, right, bottom) in px."""
    return px * 0.6, px * 0.3, px * 0.6, px * 0.3


def layout_caption(title: str, caption: str, size: tuple[int, int]) -> CaptionLayout:
    """Fit ``title`` and ``caption`` into the bottom strip of a frame of ``size`` (w, h).

    The strip is :data:`CAPTION_SHARE` of the height, or taller (up to
    :data:`CAPTION_MAX_SHARE`) when the wrapped text needs it; if even that is not enough
    the font shrinks step by step (:data:`CAPTION_BODY_SCALES`, never below
    :data:`CAPTION_MIN_PX`), and only then is the body shortened with a visible "…".
    """
    w, h = size
    px = base_px(h)
    pad = round(h * 0.02)
    ml, mt, mr, mb = caption_margins(px)
    inner_w = w - 2 * pad - ml - mr
    base_h = round(h * CAPTION_SHARE)
    max_h = round(h * CAPTION_MAX_SHARE)
    chosen = None
    for scale in CAPTION_BODY_SCALES:
        body_px = max(CAPTION_MIN_PX, round(px * scale))
        title_px = max(body_px + 1, round(body_px * 1.3))
        tf, bf = _font(title_px, bold=True), _font(body_px)
        th = text_height(title, tf, inner_w)
        gap = title_px * 0.25 if title and caption else 0.0
        bh = text_height(caption, bf, inner_w)
        need = mt + th + gap + bh + mb
        chosen = (title_px, body_px, th, gap, bh, need)
        if need <= max_h:
            return CaptionLayout(max(base_h, math.ceil(need)), title_px, body_px, title, caption,
                                 False, th, bh)
        if body_px == CAPTION_MIN_PX:
            break
    title_px, body_px, th, gap, bh, need = chosen
    room = max_h - mt - th - gap - mb
    body = _shorten(caption, _font(body_px), inner_w, room) if room > body_px else "…"
    return CaptionLayout(max_h, title_px, body_px, title, body, True, th,
                         text_height(body, _font(body_px), inner_w))


def _nice_ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return np.array([lo])
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=raw)
    start = math.ceil(lo / step) * step
    ticks = np.arange(start, hi + step * 1e-9, step)
    return ticks[(ticks >= lo - 1e-12) & (ticks <= hi + 1e-12)]


def _log_ticks(lo: float, hi: float) -> np.ndarray:
    """log10 positions of 1-2-5 ticks between 10**lo and 10**hi (at most ~7)."""
    for mult in ((1.0,), (1.0, 3.0), (1.0, 2.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)):
        ticks = np.array([math.log10(m) + k for k in range(math.floor(lo), math.ceil(hi) + 1) for m in mult])
        ticks = ticks[(ticks >= lo) & (ticks <= hi)]
        if len(ticks) >= 3:
            break
    if len(ticks) > 7:
        ticks = ticks[:: math.ceil(len(ticks) / 6)]
    return ticks


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-2:
        return f"{v:.0e}".replace("e+0", "e").replace("e-0", "e-")
    return f"{v:g}"


def counters_text(c: dict | None, step: int) -> str:
    """The counter line: "iteration 23 · epoch 3 (batch 3/10)" on data problems (the batch
    part only when an epoch has several batches), else "step 23"."""
    if not c:
        return f"step {step}"
    text = f"iteration {int(c['iteration'])} · epoch {int(c['epoch'])}"
    if int(c.get("batches_per_epoch", 1)) > 1:
        text += f" (batch {int(c['batch_in_epoch'])}/{int(c['batches_per_epoch'])})"
    return text


@functools.lru_cache(maxsize=8)
def _lut(name: str) -> np.ndarray:
    import pyqtgraph as pg

    lut = np.ascontiguousarray(pg.colormap.get(name).getLookupTable(nPts=256)[:, :3], np.uint8)
    lut.flags.writeable = False  # shared by every caller
    return lut


def colormap_lut(name: str = "viridis") -> np.ndarray:
    """uint8 (256, 3) lookup table of a pyqtgraph colormap (a copy)."""
    return _lut(name).copy()


class FrameRenderer:
    """Paints frames of ``size`` (w, h) with the chosen ``panels`` and ``theme``."""

    def __init__(self, look: SceneLook, size: tuple[int, int] = (1280, 720),
                 panels: Sequence[str] = ("landscape", "loss", "caption"), theme: str = "light"):
        bad = [p for p in panels if p not in PANELS]
        if bad:
            raise ValueError(f"unknown panel '{bad[0]}' (choose from {', '.join(PANELS)})")
        if "landscape" not in panels and "loss" not in panels and "fit" not in panels:
            raise ValueError("--panels needs at least one of landscape, fit, loss")
        if theme not in THEMES:
            raise ValueError(f"unknown theme '{theme}' (choose from light, dark)")
        w, h = size
        if w < 64 or h < 64 or w > 7680 or h > 4320:
            raise ValueError(f"invalid size {w}x{h} (each side must be 64..7680 x 64..4320)")
        self.QtCore, self.QtGui = _qt()
        self.look, self.size, self.panels, self.t = look, (int(w), int(h)), tuple(panels), THEMES[theme]
        self.px = base_px(h)  # base font size in pixels: legible on a slide
        self._corner = None
        self._legend_w = 0.0
        self._layer_key = self._layer = None
        #: legend texts that had to be shortened with "…" (tests check presets have none)
        self.elided: set[str] = set()
        self.caption_drawn = None
        self._layout()
        self._background = self._paint_background()
        # its own pixels (not shared with the background), written in place every frame
        self._canvas = self.QtGui.QImage(self.size[0], self.size[1], self._background.format())
        self._canvas_px = self._pixels(self._canvas, writeable=True)
        self._background_px = self._pixels(self._background)

    # ---- layout -----------------------------------------------------------------------
    def _layout(self):
        QRectF = self.QtCore.QRectF
        w, h = self.size
        pad = round(h * 0.02)
        cap_h = 0
        self.caption = None
        if "caption" in self.panels and (self.look.title or self.look.caption):
            self.caption = layout_caption(self.look.title, self.look.caption, self.size)
            cap_h = self.caption.height
        body = QRectF(pad, pad, w - 2 * pad, h - 2 * pad - cap_h)
        self.caption_rect = QRectF(pad, h - cap_h - pad * 0.5, w - 2 * pad, cap_h) if cap_h else None
        side = [p for p in ("fit", "loss") if p in self.panels]
        self.rects = {}
        if "landscape" in self.panels:
            lw = body.width() if not side else min(body.width() * 0.62, body.height() * 1.35)
            self.rects["landscape"] = QRectF(body.left(), body.top(), lw, body.height())
            rest = QRectF(body.left() + lw + pad, body.top(), body.width() - lw - pad, body.height())
            # stacked beside the map; the fit panel (the lesson's subject) a little taller
            shares = [0.56, 0.44] if side == ["fit", "loss"] else [1.0 / max(len(side), 1)] * len(side)
            top = rest.top()
            for i, name in enumerate(side):
                hh = rest.height() * shares[i]
                self.rects[name] = QRectF(rest.left(), top, rest.width(), hh - (pad if i < len(side) - 1 else 0))
                top += hh
        else:
            for i, name in enumerate(side):  # side by side: wide short plots read badly
                ww = (body.width() - pad * (len(side) - 1)) / len(side)
                self.rects[name] = QRectF(body.left() + i * (ww + pad), body.top(), ww, body.height())
        # plot areas inside panels leave room for tick labels and the key over the plot:
        # one line, or two when the widest key this clip will show needs them
        self.plot = {}
        template = self._template_frame()
        left, bottom = self.px * 4.2, self.px * 2.6
        lines = {}
        for name, r in self.rects.items():
            x0, x1 = self._key_span(name, r.left() + left)
            lines[name] = max(1, len(self._flow(*self._key_items(name, template), x1 - x0)[2]))
        if "landscape" not in self.rects:  # side by side: keep the plots' tops aligned
            lines = dict.fromkeys(lines, max(lines.values(), default=1))
        for name, r in self.rects.items():
            top = self.px * (1.9 + KEY_LINE * (lines[name] - 1))
            self.plot[name] = QRectF(r.left() + left, r.top() + top, r.width() - left - self.px * 0.8,
                                     r.height() - top - bottom)

    def _template_frame(self) -> FrameData:
        """A frame with the widest key content this clip can show (counters at the last
        step, every key entry the look says will appear)."""
        look, n = self.look, self.look.max_steps
        counters = None
        if look.batches_per_epoch > 0:
            bpe = look.batches_per_epoch
            counters = dict(iteration=n, epoch=max(1, math.ceil(n / bpe)), batch_in_epoch=bpe,
                            batches_per_epoch=bpe)
        fit = dict(batch=np.zeros((1, 2)) if look.batch_points else None,
                   units=[np.zeros((1, 2))] if look.show_units else [])
        return FrameData(step=n, trails=[], losses=[], diverged_at=[-1] * len(look.labels),
                         val_losses=[] if look.has_validation else None, counters=counters, fit=fit)

    # ---- coordinate maps ----------------------------------------------------------------
    def _to_px(self, rect, box, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x0, x1, y0, y1 = box
        px = rect.left() + (xy[:, 0] - x0) / (x1 - x0) * rect.width()
        py = rect.bottom() - (xy[:, 1] - y0) / (y1 - y0) * rect.height()
        return px, py

    def _path(self, px: np.ndarray, py: np.ndarray, connect="all"):
        import pyqtgraph as pg

        return pg.arrayToQPath(np.ascontiguousarray(px, np.float64),
                               np.ascontiguousarray(py, np.float64), connect=connect)

    def _font(self, scale=1.0, bold=False):
        return _font(max(8, round(self.px * scale)), bold)

    def _color(self, c, alpha=None):
        col = self.QtGui.QColor(c)
        if alpha is not None:
            col.setAlphaF(alpha)
        return col

    def _painter(self, img):
        QtGui = self.QtGui
        p = QtGui.QPainter(img)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing, True)
        return p

    # ---- static background ----------------------------------------------------------------
    def _paint_background(self):
        QtGui = self.QtGui
        w, h = self.size
        img = QtGui.QImage(w, h, QtGui.QImage.Format.Format_RGB888)
        img.fill(self._color(self.t["bg"]))
        p = self._painter(img)
        if "landscape" in self.rects:
            self._paint_landscape_static(p)
        for name in ("loss", "fit"):
            if name in self.rects:
                p.fillRect(self.rects[name], self._color(self.t["panel"]))
        if "fit" in self.rects:
            self._paint_fit_static(p)
        if self.caption_rect is not None:
            self._paint_caption(p)
        p.end()
        return img

    def _heat_image(self, grid, log_scale):
        """The surface as a colour image, log-normalised where the range is huge."""
        QtGui = self.QtGui
        z = np.asarray(grid, np.float64)
        finite = np.isfinite(z)
        if not finite.any():
            return None
        lo, hi = float(z[finite].min()), float(z[finite].max())
        zz = np.where(finite, z, hi)
        if log_scale and hi - lo > 0:
            u = np.log10(1.0 + (zz - lo) / ((hi - lo) * 1e-4)) / np.log10(1.0 + 1e4)
        else:
            u = (zz - lo) / (hi - lo) if hi > lo else np.zeros_like(zz)
        lut = _lut("viridis").astype(np.float64)
        rgb = lut[np.clip((u * 255).astype(np.int64), 0, 255)]
        a = self.t["heat_alpha"]
        bg = np.array(self._color(self.t["bg"]).getRgb()[:3], np.float64)
        rgb = (a * rgb + (1 - a) * bg).astype(np.uint8)[::-1]  # row 0 of z is the bottom
        rgb = np.ascontiguousarray(rgb)
        qimg = QtGui.QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0],
                            QtGui.QImage.Format.Format_RGB888).copy()
        return qimg

    def _paint_axes(self, p, rect, box, xlabel, ylabel, yticks=None, ylabels=None):
        QtCore, QtGui = self.QtCore, self.QtGui
        x0, x1, y0, y1 = box
        p.setPen(QtGui.QPen(self._color(self.t["axis"]), max(1.0, self.px / 12)))
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        p.drawRect(rect)
        p.setFont(self._font(0.8))
        fm = QtGui.QFontMetricsF(p.font())
        for v in _nice_ticks(x0, x1):
            xp = rect.left() + (v - x0) / (x1 - x0) * rect.width()
            p.drawLine(QtCore.QPointF(xp, rect.bottom()), QtCore.QPointF(xp, rect.bottom() + self.px * 0.3))
            s = _fmt(v)
            p.drawText(QtCore.QPointF(xp - fm.horizontalAdvance(s) / 2, rect.bottom() + self.px * 1.2), s)
        if yticks is None:
            yticks = _nice_ticks(y0, y1)
            ylabels = [_fmt(v) for v in yticks]
        for v, s in zip(yticks, ylabels):
            yp = rect.bottom() - (v - y0) / (y1 - y0) * rect.height()
            p.drawLine(QtCore.QPointF(rect.left() - self.px * 0.3, yp), QtCore.QPointF(rect.left(), yp))
            p.drawText(QtCore.QPointF(rect.left() - self.px * 0.45 - fm.horizontalAdvance(s), yp + fm.ascent() / 2.8), s)
        p.setFont(self._font(0.95, bold=True))
        fm = QtGui.QFontMetricsF(p.font())
        p.drawText(QtCore.QPointF(rect.center().x() - fm.horizontalAdvance(xlabel) / 2,
                                  rect.bottom() + self.px * 2.3), xlabel)
        p.save()
        p.translate(rect.left() - self.px * 3.5, rect.center().y() + fm.horizontalAdvance(ylabel) / 2)
        p.rotate(-90)
        p.drawText(QtCore.QPointF(0, 0), ylabel)
        p.restore()

    def _paint_surface(self, p, grid, segments, log_scale):
        """Heatmap, contours and minima of a surface over the map's plot area."""
        QtCore, QtGui = self.QtCore, self.QtGui
        rect, look = self.plot["landscape"], self.look
        heat = self._heat_image(grid, log_scale)
        if heat is not None:
            p.save()
            if look.live:  # a coarser live grid: smooth it rather than show its cells
                p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, True)
            p.drawImage(rect, heat)
            p.restore()
        seg = np.asarray(segments, np.float64)
        if len(seg):
            px, py = self._to_px(rect, look.view, seg)
            # flat caps: the short segments must not overlap, or translucent lines look beaded
            p.setPen(QtGui.QPen(self._color(self.t["contour"], 0.55), max(1.0, self.px / 14),
                                QtCore.Qt.PenStyle.SolidLine, QtCore.Qt.PenCapStyle.FlatCap))
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.drawPath(self._path(px, py, connect="pairs"))
        if len(look.minima):
            px, py = self._to_px(rect, look.view, np.asarray(look.minima, np.float64))
            p.setFont(self._font(1.3, bold=True))
            fm = QtGui.QFontMetricsF(p.font())
            for a, b in zip(px, py):
                if rect.contains(QtCore.QPointF(a, b)):
                    p.setPen(self._color("#ffffff"))
                    p.drawText(QtCore.QPointF(a - fm.horizontalAdvance("★") / 2 + 1, b + fm.ascent() / 2.6 + 1), "★")
                    p.setPen(self._color("#d62728"))
                    p.drawText(QtCore.QPointF(a - fm.horizontalAdvance("★") / 2, b + fm.ascent() / 2.6), "★")

    def _paint_landscape_static(self, p):
        rect, look = self.plot["landscape"], self.look
        if not look.live:
            self._paint_surface(p, look.grid, look.segments, look.log_scale)
        self._paint_axes(p, rect, look.view, look.axis_names[0], look.axis_names[1])
        self._paint_key_row(p, "landscape", None)

    def _paint_caption(self, p):
        QtCore = self.QtCore
        r, lay = self.caption_rect, self.caption
        p.fillRect(r, self._color(self.t["panel"]))
        p.setPen(self._color(self.t["fg"]))
        ml, mt, mr, mb = caption_margins(self.px)
        inner = r.adjusted(ml, mt, -mr, -mb)
        flags = _wrap_flags()
        p.setFont(_font(lay.title_px, bold=True))
        t = p.drawText(QtCore.QRectF(inner.left(), inner.top(), inner.width(), lay.title_height + 1), flags, lay.title)
        top = inner.top() + lay.title_height + (lay.title_px * 0.25 if lay.title and lay.body else 0.0)
        p.setFont(_font(lay.body_px))
        b = p.drawText(QtCore.QRectF(inner.left(), top, inner.width(), r.bottom() - top), flags, lay.body)
        #: where the title and the body text really went (drawText's bounding rects): tests
        #: check they lie inside the strip
        self.caption_drawn = (t, b)

    # ---- key rows: one line of legend over a panel's plot ---------------------------------
    def _key_span(self, panel, plot_left=None):
        """Horizontal extent (x0, x1) of the key over ``panel``'s plot."""
        left = self.plot[panel].left() if plot_left is None else plot_left
        return left - self.px * 0.3, self.rects[panel].right() - self.px * 0.5

    def _key_items(self, panel, frame):
        """(entries, right_text, left_text) of the key over ``panel`` for ``frame``."""
        if panel == "landscape":
            entries = [("line", self.t["batch"], "this mini-batch's own surface")] if self.look.batch_surface else []
            return entries, "", self.look.subtitle
        if panel == "loss":
            right = counters_text(frame.counters, frame.step) if self._legend_panel() == "loss" else ""
            return self._loss_entries(frame), right, ""
        if panel == "fit" and self.look.fit is not None:
            right = counters_text(frame.counters, frame.step) if self._legend_panel() == "fit" else ""
            return self._fit_entries(frame), right, ""
        return [], "", ""

    def _flow(self, entries, right_text, left_text, width, max_lines=KEY_MAX_LINES):
        """Lay a key out in lines of ``width`` px: ``left_text`` first, then the entries
        (swatch + text), then ``right_text`` (bold) flush right on the last line. The font
        shrinks until it fits ``max_lines``; at the smallest, texts are elided.

        Returns (font, bold font, lines): each line a list of (x offset, item) with item
        (kind, colour, text, width); kind "text" for the plain left text, "right" for the
        right text."""
        QtGui = self.QtGui
        sw = self.px * 1.3
        for scale in KEY_SCALES:
            font, bold = self._font(scale), self._font(scale, bold=True)
            fm, fmb = QtGui.QFontMetricsF(font), QtGui.QFontMetricsF(bold)
            gap = fm.horizontalAdvance("   ")
            items = [("text", None, left_text, fm.horizontalAdvance(left_text))] if left_text else []
            items += [(k, c, t, sw + fm.horizontalAdvance(t)) for k, c, t in entries]
            if right_text:
                items.append(("right", None, right_text, fmb.horizontalAdvance(right_text)))
            lines, x = [[]], 0.0
            for it in items:
                if lines[-1] and x + gap + it[3] > width:
                    lines.append([])
                    x = 0.0
                start = x + gap if lines[-1] else 0.0
                lines[-1].append((start, it))
                x = start + it[3]
            if len(lines) <= max_lines and all(it[3] <= width for it in items):
                break
        lines = [line for line in lines if line]
        if len(lines) > max_lines:  # even the smallest font needs more: the rest goes on the
            rest = [it for line in lines[max_lines - 1:] for _, it in line]  # last line, elided
            last, x = [], 0.0
            for it in rest:
                start = x + gap if last else 0.0
                last.append((start, it))
                x = start + it[3]
            lines = lines[: max_lines - 1] + [last]
        return font, bold, lines

    def _paint_key_row(self, p, panel, frame):
        """The key over ``panel``'s plot for ``frame`` (see :meth:`_flow`); what does not
        fit in the room the layout left is elided with "…" (and noted in ``elided``)."""
        QtCore, QtGui = self.QtCore, self.QtGui
        entries, right_text, left_text = self._key_items(panel, frame)
        if not (entries or right_text or left_text):
            return
        x0, x1 = self._key_span(panel)
        width = x1 - x0
        room = round((self.plot[panel].top() - self.rects[panel].top() - self.px * 1.9) / (self.px * KEY_LINE)) + 1
        font, bold, lines = self._flow(entries, right_text, left_text, width, max_lines=room)
        fm, fmb = QtGui.QFontMetricsF(font), QtGui.QFontMetricsF(bold)
        sw = self.px * 1.3
        fg = self._color(self.t["fg"])
        elide = QtCore.Qt.TextElideMode.ElideRight
        y = self.plot[panel].top() - self.px * 0.55 - (room - 1) * self.px * KEY_LINE
        for line in lines:
            for off, (kind, col, text, _) in line:
                x = x0 + off
                if kind == "right":
                    shown = fmb.elidedText(text, elide, max(x1 - x, 0.0))
                    p.setFont(bold)
                    p.setPen(fg)
                    p.drawText(QtCore.QPointF(max(x, x1 - fmb.horizontalAdvance(shown)), y), shown)
                else:
                    tx = x if kind == "text" else x + sw
                    if kind != "text":
                        self._swatch(p, kind, col, x, y - fm.ascent() * 0.35, sw)
                    shown = fm.elidedText(text, elide, max(x1 - tx, 0.0))
                    p.setFont(font)
                    p.setPen(fg)
                    p.drawText(QtCore.QPointF(tx, y), shown)
                if shown != text:
                    self.elided.add(text)
            y += self.px * KEY_LINE

    def _swatch(self, p, kind, col, x, ymid, sw):
        QtCore, QtGui = self.QtCore, self.QtGui
        c = self._color(col)
        lw = max(2.0, self.px / 6)
        if kind in ("line", "dash", "faint"):
            style = QtCore.Qt.PenStyle.DashLine if kind == "dash" else QtCore.Qt.PenStyle.SolidLine
            pen = QtGui.QPen(self._color(col, 0.8) if kind == "faint" else c,
                             lw * (0.6 if kind == "faint" else 1.0), style)
            if kind == "dash":
                pen.setDashPattern([3.0, 1.6])
            p.setPen(pen)
            p.drawLine(QtCore.QPointF(x, ymid), QtCore.QPointF(x + sw * 0.75, ymid))
        else:
            self._marker(p, kind, col, x + sw * 0.45, ymid)

    def _marker(self, p, kind, col, x, y, r=None):
        """One data-point marker: dot (training), diamond (validation), ring (mini-batch)."""
        QtCore, QtGui = self.QtCore, self.QtGui
        r = self.px * 0.34 if r is None else r
        if kind == "ring":
            p.setPen(QtGui.QPen(self._color(col), max(2.0, self.px / 7)))
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.drawEllipse(QtCore.QPointF(x, y), r * 1.75, r * 1.75)
            return
        p.setPen(QtGui.QPen(self._color(self.t["bg"]), max(1.0, self.px / 16)))
        p.setBrush(self._color(col))
        if kind == "diamond":
            d = r * 1.55
            p.drawPolygon(QtGui.QPolygonF([QtCore.QPointF(x, y - d), QtCore.QPointF(x + d, y),
                                           QtCore.QPointF(x, y + d), QtCore.QPointF(x - d, y)]))
        else:
            p.drawEllipse(QtCore.QPointF(x, y), r, r)

    # ---- per frame ------------------------------------------------------------------------
    def render(self, frame: FrameData, copy: bool = True) -> np.ndarray:
        """Paint one frame; returns uint8 (h, w, 3): a new array, or with ``copy=False`` a
        view of the renderer's canvas that the next call overwrites (for a writer that
        consumes it at once)."""
        # one canvas per renderer, refilled from the background: a fresh 2.7 MB QImage per
        # frame costs page faults (glibc maps and unmaps blocks that size) at 720p
        img = self._canvas
        np.copyto(self._canvas_px, self._background_px)
        p = self._painter(img)
        if "landscape" in self.rects:
            if self.look.live:
                self._paint_live_surface(p, frame)
            if frame.batch_segments is not None and len(frame.batch_segments):
                self._paint_batch_surface(p, frame.batch_segments)
            self._paint_runs(p, frame)
        if "loss" in self.rects:
            self._paint_loss(p, frame)
        if "fit" in self.rects:
            self._paint_fit(p, frame)
        p.end()
        if not copy:
            w, h = self.size
            return self._canvas_px[:, : w * 3].reshape(h, w, 3)
        return self.to_array(img)

    def _pixels(self, img, writeable=False) -> np.ndarray:
        """The QImage's own bytes as uint8 (h, bytesPerLine) (a view: keep the image alive)."""
        h = img.height()
        ptr = img.bits() if writeable else img.constBits()
        return np.frombuffer(ptr, np.uint8, count=img.bytesPerLine() * h).reshape(h, img.bytesPerLine())

    def to_array(self, img) -> np.ndarray:
        w, h = self.size
        arr = self._pixels(img)
        # copy: the array must not outlive the QImage's buffer
        return arr[:, : w * 3].reshape(h, w, 3).copy()

    def _paint_live_surface(self, p, frame: FrameData):
        """The live landscape: painted into a layer once per surface key, then copied."""
        QtCore, QtGui = self.QtCore, self.QtGui
        rect, look = self.plot["landscape"], self.look
        layer = frame.surface or SurfaceLayer(None, look.grid, look.segments, look.log_scale)
        if self._layer is None or layer.key is None or layer.key != self._layer_key:
            x, y = math.floor(rect.left()), math.floor(rect.top())
            img = QtGui.QImage(math.ceil(rect.right()) - x + 1, math.ceil(rect.bottom()) - y + 1,
                               QtGui.QImage.Format.Format_RGB888)
            img.fill(self._color(self.t["bg"]))
            lp = self._painter(img)
            lp.translate(-x, -y)
            self._paint_surface(lp, layer.grid, layer.segments, layer.log_scale)
            lp.end()
            self._layer, self._layer_key = (img, QtCore.QPointF(x, y)), layer.key
        img, at = self._layer
        p.drawImage(at, img)
        p.setPen(QtGui.QPen(self._color(self.t["axis"]), max(1.0, self.px / 12)))
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        p.drawRect(rect)

    def _paint_batch_surface(self, p, segments):
        QtCore, QtGui = self.QtCore, self.QtGui
        rect = self.plot["landscape"]
        px, py = self._to_px(rect, self.look.view, np.asarray(segments, np.float64))
        p.save()
        p.setClipRect(rect)
        p.setPen(QtGui.QPen(self._color(self.t["batch"], 0.85), max(1.5, self.px / 10),
                            QtCore.Qt.PenStyle.SolidLine, QtCore.Qt.PenCapStyle.FlatCap))
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        p.drawPath(self._path(px, py, connect="pairs"))
        p.restore()

    def _paint_runs(self, p, frame: FrameData):
        QtCore, QtGui = self.QtCore, self.QtGui
        rect, look = self.plot["landscape"], self.look
        p.save()
        p.setClipRect(rect)
        lw = max(2.0, self.px / 5.5)
        for r, trail in enumerate(frame.trails):
            col = look.colors[r % len(look.colors)]
            ok = np.all(np.isfinite(trail), axis=1)
            tr = trail[ok]
            if len(tr) == 0:
                continue
            px, py = self._to_px(rect, look.view, tr)
            # clamp far-away points so a diverging run still draws a line off the map
            px = np.clip(px, -1e5, 1e5)
            py = np.clip(py, -1e5, 1e5)
            p.setPen(QtGui.QPen(self._color(col), lw, QtCore.Qt.PenStyle.SolidLine,
                                QtCore.Qt.PenCapStyle.RoundCap, QtCore.Qt.PenJoinStyle.RoundJoin))
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            if len(tr) > 1:
                p.drawPath(self._path(px, py))
            cx, cy = px[-1], py[-1]
            rad = self.px * 0.45
            if frame.diverged_at[r] >= 0:
                p.setPen(QtGui.QPen(self._color(col), lw * 1.6))
                p.drawLine(QtCore.QPointF(cx - rad, cy - rad), QtCore.QPointF(cx + rad, cy + rad))
                p.drawLine(QtCore.QPointF(cx - rad, cy + rad), QtCore.QPointF(cx + rad, cy - rad))
            else:
                p.setPen(QtGui.QPen(self._color(self.t["bg"]), lw * 0.8))
                p.setBrush(self._color(col))
                p.drawEllipse(QtCore.QPointF(cx, cy), rad, rad)
        p.restore()
        # legend and step counter, over the plot's top-left corner
        self._paint_legend(p, rect, frame)

    def _legend_corner(self, rect, frame, w, h):
        """The plot corner farthest from the starts and the minima (chosen once per clip)."""
        if self._corner is None:
            QtCore = self.QtCore
            pts = [t[:1] for t in frame.trails if len(t)] + [np.asarray(self.look.minima).reshape(-1, 2)]
            pts = np.concatenate(pts) if pts else np.zeros((0, 2))
            pts = pts[np.all(np.isfinite(pts), axis=1)]
            px, py = self._to_px(rect, self.look.view, pts) if len(pts) else (np.zeros(0), np.zeros(0))
            m = self.px * 0.4
            corners = [QtCore.QPointF(rect.left() + m, rect.top() + m),
                       QtCore.QPointF(rect.right() - m - w, rect.top() + m),
                       QtCore.QPointF(rect.left() + m, rect.bottom() - m - h),
                       QtCore.QPointF(rect.right() - m - w, rect.bottom() - m - h)]

            def clearance(c):
                if not len(px):
                    return 0.0
                dx = np.maximum(0, np.maximum(c.x() - px, px - (c.x() + w)))
                dy = np.maximum(0, np.maximum(c.y() - py, py - (c.y() + h)))
                return float(np.min(np.hypot(dx, dy)))

            self._corner = max(corners, key=clearance)
        return self._corner

    def _run_lines(self, frame):
        lines = []
        for r, label in enumerate(self.look.labels):
            d = frame.diverged_at[r] if r < len(frame.diverged_at) else -1
            lines.append((label + (f"  ✕ diverged at step {d}" if d >= 0 else ""),
                          self.look.colors[r % len(self.look.colors)]))
        return lines

    def _paint_legend(self, p, rect, frame):
        QtCore, QtGui = self.QtCore, self.QtGui
        font = self._font(0.85)
        bold = self._font(0.85, bold=True)
        p.setFont(font)
        fm, fmb = QtGui.QFontMetricsF(font), QtGui.QFontMetricsF(bold)
        lines = self._run_lines(frame)
        head = counters_text(frame.counters, frame.step)
        if not self._legend_w:
            # as wide as the counters will ever get, so the box neither jumps nor spills
            t = self._template_frame()
            self._legend_w = fmb.horizontalAdvance(counters_text(t.counters, t.step))
        wmax = max([fm.horizontalAdvance(s) + self.px * 1.4 for s, _ in lines]
                   + [fmb.horizontalAdvance(head), self._legend_w]) + self.px * 0.8
        wmax = min(wmax, rect.width() - self.px * 0.8)
        hbox = fm.height() * (len(lines) + 1) + self.px * 0.6
        corner = self._legend_corner(rect, frame, wmax, hbox)
        box = QtCore.QRectF(corner.x(), corner.y(), wmax, hbox)
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.setBrush(self._color(self.t["bg"], 0.82))
        p.drawRoundedRect(box, self.px * 0.3, self.px * 0.3)
        y = box.top() + self.px * 0.3 + fm.ascent()
        p.setPen(self._color(self.t["fg"]))
        p.setFont(bold)
        p.drawText(QtCore.QPointF(box.left() + self.px * 0.4, y), head)
        p.setFont(font)
        for s, col in lines:
            y += fm.height()
            p.fillRect(QtCore.QRectF(box.left() + self.px * 0.4, y - fm.ascent() * 0.75, self.px * 1.1, self.px * 0.55),
                       self._color(col))
            p.setPen(self._color(self.t["fg"]))
            s = fm.elidedText(s, QtCore.Qt.TextElideMode.ElideRight, box.right() - box.left() - self.px * 2.0)
            p.drawText(QtCore.QPointF(box.left() + self.px * 1.8, y), s)

    def _legend_panel(self) -> str | None:
        """Where the run legend and the counters go when there is no map (None: on the map):
        the loss panel's key row, else the fit panel's."""
        return None if "landscape" in self.rects else ("loss" if "loss" in self.rects else "fit")

    def _loss_entries(self, frame: FrameData):
        """The loss panel's key: the runs (when there is no map) and the line styles (when
        there is a validation loss); one run with validation reads "— Adam · training"."""
        runs = self._run_lines(frame) if self._legend_panel() == "loss" else []
        if frame.val_losses is None:
            return [("line", c, s) for s, c in runs]
        if len(runs) == 1:
            (s, c), = runs
            return [("line", c, f"{s} · training"), ("dash", c, "validation (dashed)")]
        return ([("line", c, s) for s, c in runs]
                + [("line", self.t["fg"], "training"), ("dash", self.t["fg"], "validation (dashed)")])

    def _paint_loss(self, p, frame: FrameData):
        QtCore, QtGui = self.QtCore, self.QtGui
        rect = self.plot["loss"]
        val = frame.val_losses
        series = list(frame.losses) + (list(val) if val is not None else [])
        vals = [l[np.isfinite(l)] for l in series]
        allv = np.concatenate(vals) if vals else np.zeros(0)
        logy = bool(len(allv)) and bool(np.all(allv > 0))
        if len(allv):
            lo, hi = float(allv.min()), float(allv.max())
        else:
            lo, hi = 0.0, 1.0
        if logy:
            lo, hi = math.log10(lo), math.log10(hi)
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        span = hi - lo
        lo, hi = lo - 0.05 * span, hi + 0.05 * span
        xmax = max(self.look.max_steps, frame.step, 1)
        box = (0.0, float(xmax), lo, hi)
        if logy:
            yt = _log_ticks(lo, hi)
            yl = [_fmt(10.0 ** v) for v in yt]
        else:
            yt, yl = None, None
        p.save()
        p.setClipRect(rect)
        lw = max(2.0, self.px / 6)
        groups = [(frame.losses, QtCore.Qt.PenStyle.SolidLine)]
        if val is not None:
            groups.append((val, QtCore.Qt.PenStyle.DashLine))
        for curves, style in groups:
            for r, l in enumerate(curves):
                if len(l) == 0:
                    continue
                steps = np.arange(len(l), dtype=np.float64)
                ok = np.isfinite(l) & ((l > 0) if logy else True)
                yv = np.log10(l[ok]) if logy else l[ok]
                px, py = self._to_px(rect, box, np.column_stack([steps[ok], yv]))
                pen = QtGui.QPen(self._color(self.look.colors[r % len(self.look.colors)]), lw, style)
                if style == QtCore.Qt.PenStyle.DashLine:
                    pen.setDashPattern([3.0, 1.6])
                p.setPen(pen)
                p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
                if len(px) > 1:
                    p.drawPath(self._path(px, np.clip(py, -1e5, 1e5)))
        p.restore()
        self._paint_axes(p, rect, box, "step (iteration)", "loss (log)" if logy else "loss", yt, yl)
        self._paint_key_row(p, "loss", frame)

    # ---- fit panel ------------------------------------------------------------------------
    def _paint_fit_static(self, p):
        """The fit panel's data points, the noise-free target, axes and key."""
        QtCore, QtGui = self.QtCore, self.QtGui
        fit, rect = self.look.fit, self.plot["fit"]
        if fit is None:
            p.setPen(self._color(self.t["fg"]))
            p.setFont(self._font(0.9))
            p.drawText(rect, int(QtCore.Qt.AlignmentFlag.AlignCenter), "no fit panel in this scene")
            return
        p.save()
        p.setClipRect(rect)
        if fit.target is not None and len(fit.target):
            px, py = self._to_px(rect, fit.box, fit.target)
            pen = QtGui.QPen(self._color(self.t["target"], 0.45), max(1.5, self.px / 8),
                             QtCore.Qt.PenStyle.DashLine)
            pen.setDashPattern([3.0, 2.0])
            p.setPen(pen)
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.drawPath(self._path(px, np.clip(py, -1e5, 1e5), connect="finite"))
        for key, kind, col in (("train", "dot", self.t["train"]), ("val", "diamond", self.t["val"])):
            pts = np.asarray(getattr(fit, key), np.float64).reshape(-1, 2)
            if len(pts):
                px, py = self._to_px(rect, fit.box, pts)
                for a, b in zip(px, py):
                    self._marker(p, kind, col, a, b)
        p.restore()
        self._paint_axes(p, rect, fit.box, "x", "y")

    def _fit_entries(self, frame: FrameData):
        fit = self.look.fit
        entries = [("dot", self.t["train"], "training" if len(fit.val) else "data")]
        if len(fit.val):
            entries.append(("diamond", self.t["val"], "validation"))
        if fit.target is not None:
            entries.append(("dash", self.t["target"], "target"))
        if frame.fit and frame.fit.get("batch") is not None:
            entries.append(("ring", self.t["batch"], "mini-batch"))
        if frame.fit and frame.fit.get("units"):
            entries.append(("faint", self.t["units"], "each unit + c0"))
        if self._legend_panel() == "fit":
            entries += [("line", c, s) for s, c in self._run_lines(frame)]
        return entries

    def _paint_fit(self, p, frame: FrameData):
        """Fit panel: the moving part (model curves, units, mini-batch) over the static data."""
        QtCore, QtGui = self.QtCore, self.QtGui
        rect, look = self.plot["fit"], self.look
        if look.fit is None:
            return
        box = look.fit.box
        fit = frame.fit or {}
        p.save()
        p.setClipRect(rect.adjusted(-self.px, -self.px, self.px, self.px))
        batch = fit.get("batch")
        if batch is not None and len(batch):
            px, py = self._to_px(rect, box, np.asarray(batch, np.float64))
            for a, b in zip(px, py):
                if rect.contains(QtCore.QPointF(a, b)):
                    self._marker(p, "ring", self.t["batch"], a, b)
        p.setClipRect(rect)
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        for curve in fit.get("units", []):
            px, py = self._to_px(rect, box, curve)
            p.setPen(QtGui.QPen(self._color(self.t["units"], 0.8), max(1.5, self.px / 9)))
            p.drawPath(self._path(px, np.clip(py, -1e5, 1e5), connect="finite"))
        for curve, col in fit.get("curves", []):
            px, py = self._to_px(rect, box, curve)
            p.setPen(QtGui.QPen(self._color(col), max(2.5, self.px / 4.5), QtCore.Qt.PenStyle.SolidLine,
                                QtCore.Qt.PenCapStyle.RoundCap, QtCore.Qt.PenJoinStyle.RoundJoin))
            p.drawPath(self._path(px, np.clip(py, -1e5, 1e5), connect="finite"))
        p.restore()
        self._paint_key_row(p, "fit", frame)
