"""Draw export frames with QPainter on a QImage: no widgets, no live timer.

The static part of each panel (heatmap, contours, axes, minima) is painted once into
a background image; each frame copies it and draws only what moves (trails, markers,
loss curves, counters). That keeps a 1280x720 frame at a few milliseconds, so export
is bounded by the encoder, and the same scene always gives the same pixels.

Frames come out as ``uint8 (h, w, 3)`` C-contiguous arrays, ready for ffmpeg.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

PANELS = ("landscape", "fit", "loss", "caption")

THEMES = {
    "light": dict(bg="#ffffff", fg="#111111", axis="#333333", grid="#d0d0d0",
                  contour="#1f1f1f", panel="#f4f4f4", heat_alpha=0.55),
    "dark": dict(bg="#111418", fg="#f0f0f0", axis="#c8c8c8", grid="#3a3f45",
                 contour="#f5f5f5", panel="#1b1f24", heat_alpha=0.65),
}


def _qt():
    """Import QtGui lazily and make sure a QGuiApplication exists (fonts need one)."""
    import os

    from PySide6 import QtCore, QtGui

    if QtGui.QGuiApplication.instance() is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _qt.app = QtGui.QGuiApplication([])  # kept alive for the process
    return QtCore, QtGui


@dataclass
class FrameData:
    """What one frame shows, independent of where it came from (session or file).

    ``trails[r]``: float64 (m, 2) positions of run r up to the shown step.
    ``losses[r]``: float64 (m,) its loss history. ``diverged_at[r]``: -1 or the step.
    """

    step: int
    trails: list[np.ndarray]
    losses: list[np.ndarray]
    diverged_at: Sequence[int]
    epoch: float | None = None
    fit: dict | None = None  # optional fit-panel content: x, y, curves (see _draw_fit)


@dataclass
class SceneLook:
    """The unchanging part of a clip: the landscape, labels, colours and caption."""

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


def colormap_lut(name: str = "viridis") -> np.ndarray:
    """uint8 (256, 3) lookup table of a pyqtgraph colormap."""
    import pyqtgraph as pg

    return np.ascontiguousarray(pg.colormap.get(name).getLookupTable(nPts=256)[:, :3], np.uint8)


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
        self.px = max(11, round(h / 38))  # base font size in pixels: legible on a slide
        self._layout()
        self._background = self._paint_background()

    # ---- layout -----------------------------------------------------------------------
    def _layout(self):
        QRectF = self.QtCore.QRectF
        w, h = self.size
        pad = round(h * 0.02)
        cap_h = 0
        if "caption" in self.panels and (self.look.title or self.look.caption):
            cap_h = round(h * 0.17)
        body = QRectF(pad, pad, w - 2 * pad, h - 2 * pad - cap_h)
        self.caption_rect = QRectF(pad, h - cap_h - pad * 0.5, w - 2 * pad, cap_h) if cap_h else None
        side = [p for p in ("fit", "loss") if p in self.panels]
        self.rects = {}
        if "landscape" in self.panels:
            lw = body.width() if not side else min(body.width() * 0.62, body.height() * 1.35)
            self.rects["landscape"] = QRectF(body.left(), body.top(), lw, body.height())
            rest = QRectF(body.left() + lw + pad, body.top(), body.width() - lw - pad, body.height())
        else:
            rest = body
        for i, name in enumerate(side):
            hh = rest.height() / len(side)
            self.rects[name] = QRectF(rest.left(), rest.top() + i * hh, rest.width(), hh - (pad if i < len(side) - 1 else 0))
        # plot areas inside panels leave room for tick labels
        self.plot = {}
        for name, r in self.rects.items():
            left = self.px * 4.2
            bottom = self.px * 2.6
            top = self.px * 1.9
            self.plot[name] = QRectF(r.left() + left, r.top() + top, r.width() - left - self.px * 0.8,
                                     r.height() - top - bottom)

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
        f = self.QtGui.QFont()
        f.setPixelSize(max(8, round(self.px * scale)))
        f.setBold(bold)
        return f

    def _color(self, c, alpha=None):
        col = self.QtGui.QColor(c)
        if alpha is not None:
            col.setAlphaF(alpha)
        return col

    # ---- static background ----------------------------------------------------------------
    def _paint_background(self):
        QtGui, QtCore = self.QtGui, self.QtCore
        w, h = self.size
        img = QtGui.QImage(w, h, QtGui.QImage.Format.Format_RGB888)
        img.fill(self._color(self.t["bg"]))
        p = QtGui.QPainter(img)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing, True)
        if "landscape" in self.rects:
            self._paint_landscape_static(p)
        for name in ("loss", "fit"):
            if name in self.rects:
                p.fillRect(self.rects[name], self._color(self.t["panel"]))
        if self.caption_rect is not None:
            self._paint_caption(p)
        p.end()
        return img

    def _heat_image(self, rect):
        """The surface as a colour image, log-normalised where the range is huge."""
        QtGui = self.QtGui
        z = np.asarray(self.look.grid, np.float64)
        finite = np.isfinite(z)
        if not finite.any():
            return None
        lo, hi = float(z[finite].min()), float(z[finite].max())
        zz = np.where(finite, z, hi)
        if self.look.log_scale and hi - lo > 0:
            u = np.log10(1.0 + (zz - lo) / ((hi - lo) * 1e-4)) / np.log10(1.0 + 1e4)
        else:
            u = (zz - lo) / (hi - lo) if hi > lo else np.zeros_like(zz)
        lut = colormap_lut("viridis").astype(np.float64)
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

    def _paint_landscape_static(self, p):
        QtCore, QtGui = self.QtCore, self.QtGui
        rect, look = self.plot["landscape"], self.look
        heat = self._heat_image(rect)
        if heat is not None:
            p.drawImage(rect, heat)
        seg = np.asarray(look.segments, np.float64)
        if len(seg):
            px, py = self._to_px(rect, look.view, seg)
            p.setPen(QtGui.QPen(self._color(self.t["contour"], 0.55), max(1.0, self.px / 14)))
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
        self._paint_axes(p, rect, look.view, look.axis_names[0], look.axis_names[1])

    def _paint_caption(self, p):
        QtCore, QtGui = self.QtCore, self.QtGui
        r = self.caption_rect
        p.fillRect(r, self._color(self.t["panel"]))
        p.setPen(self._color(self.t["fg"]))
        inner = r.adjusted(self.px * 0.6, self.px * 0.3, -self.px * 0.6, -self.px * 0.2)
        p.setFont(self._font(1.1, bold=True))
        fm = QtGui.QFontMetricsF(p.font())
        p.drawText(inner, int(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop), self.look.title)
        body = inner.adjusted(0, fm.height() * 1.1, 0, 0)
        p.setFont(self._font(0.85))
        p.drawText(body, int(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop
                             | QtCore.Qt.TextFlag.TextWordWrap), self.look.caption)

    # ---- per frame ------------------------------------------------------------------------
    def render(self, frame: FrameData) -> np.ndarray:
        """Paint one frame; returns uint8 (h, w, 3)."""
        QtGui = self.QtGui
        img = self._background.copy()
        p = QtGui.QPainter(img)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing, True)
        if "landscape" in self.rects:
            self._paint_runs(p, frame)
        if "loss" in self.rects:
            self._paint_loss(p, frame)
        if "fit" in self.rects:
            self._paint_fit(p, frame)
        p.end()
        return self.to_array(img)

    def to_array(self, img) -> np.ndarray:
        w, h = self.size
        ptr = img.constBits()
        arr = np.frombuffer(ptr, np.uint8, count=img.bytesPerLine() * h).reshape(h, img.bytesPerLine())
        # copy: the array must not outlive the QImage's buffer
        return arr[:, : w * 3].reshape(h, w, 3).copy()

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
        if getattr(self, "_corner", None) is None:
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

    def _paint_legend(self, p, rect, frame):
        QtCore, QtGui = self.QtCore, self.QtGui
        font = self._font(0.85)
        p.setFont(font)
        fm = QtGui.QFontMetricsF(font)
        lines = []
        for r, label in enumerate(self.look.labels):
            d = frame.diverged_at[r] if r < len(frame.diverged_at) else -1
            lines.append((label + (f"  ✕ diverged at step {d}" if d >= 0 else ""), self.look.colors[r % len(self.look.colors)]))
        head = f"step {frame.step}" + (f" · epoch {frame.epoch:.2f}" if frame.epoch is not None else "")
        wmax = max([fm.horizontalAdvance(s) for s, _ in lines] + [fm.horizontalAdvance(head)]) + self.px * 2.2
        hbox = fm.height() * (len(lines) + 1) + self.px * 0.6
        corner = self._legend_corner(rect, frame, wmax, hbox)
        box = QtCore.QRectF(corner.x(), corner.y(), wmax, hbox)
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.setBrush(self._color(self.t["bg"], 0.82))
        p.drawRoundedRect(box, self.px * 0.3, self.px * 0.3)
        y = box.top() + self.px * 0.3 + fm.ascent()
        p.setPen(self._color(self.t["fg"]))
        p.setFont(self._font(0.85, bold=True))
        p.drawText(QtCore.QPointF(box.left() + self.px * 0.4, y), head)
        p.setFont(font)
        for s, col in lines:
            y += fm.height()
            p.fillRect(QtCore.QRectF(box.left() + self.px * 0.4, y - fm.ascent() * 0.75, self.px * 1.1, self.px * 0.55),
                       self._color(col))
            p.setPen(self._color(self.t["fg"]))
            p.drawText(QtCore.QPointF(box.left() + self.px * 1.8, y), s)

    def _paint_loss(self, p, frame: FrameData):
        QtCore, QtGui = self.QtCore, self.QtGui
        rect = self.plot["loss"]
        vals = [l[np.isfinite(l)] for l in frame.losses]
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
        for r, l in enumerate(frame.losses):
            if len(l) == 0:
                continue
            steps = np.arange(len(l), dtype=np.float64)
            ok = np.isfinite(l) & ((l > 0) if logy else True)
            yv = np.log10(l[ok]) if logy else l[ok]
            px, py = self._to_px(rect, box, np.column_stack([steps[ok], yv]))
            p.setPen(QtGui.QPen(self._color(self.look.colors[r % len(self.look.colors)]), lw))
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            if len(px) > 1:
                p.drawPath(self._path(px, np.clip(py, -1e5, 1e5)))
        p.restore()
        self._paint_axes(p, rect, box, "step (iteration)", "loss (log)" if logy else "loss", yt, yl)

    def _paint_fit(self, p, frame: FrameData):
        """Fit panel: data points and the model curve(s); ``frame.fit`` holds arrays."""
        QtCore, QtGui = self.QtCore, self.QtGui
        rect = self.plot["fit"]
        fit = frame.fit
        if not fit:
            p.setPen(self._color(self.t["fg"]))
            p.setFont(self._font(0.9))
            p.drawText(rect, int(QtCore.Qt.AlignmentFlag.AlignCenter), "no fit panel in this scene")
            return
        box = fit["box"]
        for key, col in (("train", fit.get("train_color", "#0072B2")), ("val", fit.get("val_color", "#D55E00"))):
            pts = fit.get(key)
            if pts is None or len(pts) == 0:
                continue
            px, py = self._to_px(rect, box, pts)
            p.setPen(QtGui.QPen(self._color(self.t["bg"]), 1))
            p.setBrush(self._color(col))
            for a, b in zip(px, py):
                p.drawEllipse(QtCore.QPointF(a, b), self.px * 0.28, self.px * 0.28)
        p.save()
        p.setClipRect(rect)
        for curve in fit.get("units", []):
            px, py = self._to_px(rect, box, curve)
            p.setPen(QtGui.QPen(self._color("#56B4E9", 0.5), max(1.0, self.px / 10)))
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.drawPath(self._path(px, np.clip(py, -1e5, 1e5)))
        for curve, col in fit.get("curves", []):
            px, py = self._to_px(rect, box, curve)
            p.setPen(QtGui.QPen(self._color(col), max(2.0, self.px / 5)))
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.drawPath(self._path(px, np.clip(py, -1e5, 1e5)))
        p.restore()
        self._paint_axes(p, rect, box, "x", "y")
