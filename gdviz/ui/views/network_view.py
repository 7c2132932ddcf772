"""The network picture: a network's layers as columns of neurons, live as the run steps.

A thin view of :class:`~gdviz.core.session.Session` when the fit's model is a network
(:class:`gdviz.core.models.FitModel` kind "network"), or on a classification (the
classifier :class:`gdviz.core.classifier.NetModel`, inputs x1 and x2, one logit out):

* the input x, each hidden layer and the output ŷ as columns of neurons;
* an edge for every weight of the reference run at the displayed step, blue when
  positive and vermillion when negative (Okabe & Ito: told apart without colour vision
  too, and dashed when negative), as thick as |w| relative to the largest |w| (in
  :data:`EDGE_WIDTHS` levels; while the race plays a level holds within
  :data:`LEVEL_HYSTERESIS`, so that an edge near a level's edge does not redraw them all);
* in each neuron, its output over the fit panel's x range as a small curve (the input
  shows x itself, the output the network's prediction);
  on a classification, each neuron's picture over the plane instead, as TF Playground
  draws it: the inputs x1 and x2 as ramps, the hidden neurons the plane view's thumbnails
  (:meth:`set_plane_images`, fed by the plane's ``drawn`` signal: nothing is computed
  twice; a neuron without a thumbnail is an empty box), the output the probability;
* a click on a hidden neuron sets ``session.neuron`` (a second click clears it): the fit
  panel then draws that neuron's contribution (a classification: the plane rings its
  thumbnail), and here it is ringed.

Painted with QPainter from arrays computed on ``stepped`` (one small kernel call: every
hidden neuron's output at :data:`N_SAMPLES` x values); nothing is rebuilt per frame.
Part of the one picture (:mod:`gdviz.ui.picture`), so an export draws it the same.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QLineF, QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFontInfo, QFontMetricsF, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from gdviz.core.i18n import current_language, tr
from gdviz.ui import theme
from gdviz.ui.views.items import connect_all, disconnect_all
from gdviz.ui.views.turns import Turn

#: x samples of each neuron's small curve
N_SAMPLES = 48
#: edge colours by sign (Okabe & Ito blue and vermillion; lighter on the dark background)
POSITIVE = {"light": "#0072B2", "dark": "#56B4E9"}
NEGATIVE = {"light": "#D55E00", "dark": "#FF8A50"}
#: the highlighted neuron: its ring here and its contribution in the fit panel (a purple
#: no run and no edge uses)
NEURON_COLORS = {"light": "#7B1FA2", "dark": "#C9A8FF"}
#: widths an edge can take (px at scale 1): edges are drawn in buckets, one pen each
EDGE_WIDTHS = (0.6, 1.2, 2.0, 3.0, 4.2, 5.5)
#: above this many edges they are drawn aliased while the race plays (antialiased wide
#: lines cost ~0.1 ms each; paused, and in an export, they are always antialiased)
MANY_EDGES = 120
#: the most edges drawn: the strongest ones (QPainter's wide lines cost ~30 µs each)
MAX_EDGES = 500
#: the neurons' largest half-size in px at scale 1
MAX_HALF = 30.0
#: while the race plays an edge keeps the width level it was drawn with until its
#: sqrt(|w| / max |w|) leaves that band by this share of a band (paused: exact levels)
LEVEL_HYSTERESIS = 0.3
#: paused, in the window, how long (ms) one paint may stroke weight layers whose edges
#: changed (:attr:`NetworkView.edge_budget_ms`)
EDGE_BUDGET_MS = 20.0


class EdgeLayer:
    """One weight layer's edges as last stroked: the image of the strip between its two
    columns (``x0``: its left edge), what it shows (``key``: the edges' ends and signs,
    width levels and selection), the levels (for the hysteresis) and when it was stroked
    (the view's count of strokes)."""

    __slots__ = ("img", "x0", "key", "levels", "stroked", "cost", "interim")

    def __init__(self):
        self.img: QImage | None = None
        self.x0 = 0
        self.key = None
        self.levels: tuple[bytes, np.ndarray] | None = None
        self.stroked = -1
        #: how long its last stroke took (s)
        self.cost = 0.0
        #: its picture at the view's size before (a resize), drawn scaled into its strip
        #: until it is stroked at the new size (paused, in the window's picture)
        self.interim: QImage | None = None


class NetworkView(QWidget):
    """The network picture of ``session`` (empty with a hint when the fit is no network).

    Public for tests and export: :meth:`layout_neurons` (the neurons' centres and
    half-size), :meth:`neuron_at`, :attr:`weights` (list of W arrays of the reference
    run), :attr:`curves` (float64 (total hidden, N_SAMPLES), the hidden outputs).
    """

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("networkView")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)
        self.model = None
        self.weights: list[np.ndarray] = []
        #: each weight layer's edges as last drawn (see :meth:`_paint_edges`), and what
        #: they were drawn for (size, theme, text size, selection, antialiasing)
        self._edge_layers: list[EdgeLayer] = []
        self._edge_frame = None
        self._edge_strokes = 0
        #: a layer left stale while the race played is stroked at the latest this late
        self._edge_timer = QTimer(self, singleShot=True, interval=60)
        self._edge_timer.timeout.connect(self.update)
        #: paused, how long (ms) a paint may stroke stale layers, or None: all of them (an
        #: export's; the window's picture sets it). The layers left keep their picture of
        #: before, and are stroked at the next paints, a turn later each (:meth:`_paint_edges`)
        self.edge_budget_ms: float | None = None
        self._edge_soon = QTimer(self, singleShot=True, interval=0)
        self._edge_soon.timeout.connect(self.update)
        #: how many times a weight layer's edges were stroked (not copied), for tests
        self.edge_draws = 0
        #: the still parts (under and over the edges) as last drawn, and for what
        self._still: tuple[QImage, QImage] | None = None
        self._still_key = None
        #: how many times the still parts were drawn (not copied), for tests
        self.still_draws = 0
        self.curves = np.zeros((0, N_SAMPLES))
        self.out_curve = np.zeros(N_SAMPLES)
        self.xs = np.linspace(-1.0, 1.0, N_SAMPLES)
        #: a classification's neuron pictures: {hidden neuron: RGBA}, and the output's
        self.plane_images: dict[int, np.ndarray] = {}
        self.output_image: np.ndarray | None = None
        self._input_images: tuple[str, list[np.ndarray]] | None = None
        s = session
        #: its turn while a classification plays in the window (with the map's; the
        #: plane's thumbnails it shows are drawn at its turn, not when the plane draws them)
        self.turn = Turn(s, 0, self._on_stepped)
        self._connections = connect_all([
            (s.problem_changed, self._on_problem_changed),
            (s.runs_changed, self._on_stepped),
            (s.stepped, self._on_stepped_turn),
            (s.settings_changed, self._on_settings_changed),
            (s.selection_changed, self._on_stepped),
            (s.playing_changed, self._on_settings_changed),  # paused: antialiased again
            (s.playing_changed, self.turn.on_playing_changed),
        ])
        self._on_problem_changed()

    def _on_settings_changed(self, *_) -> None:
        self.update()  # the highlighted neuron

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return QSize(420, 320)

    # ------------------------------------------------------------------ session -> view
    @property
    def showing(self) -> bool:
        s = self.session
        return s.kind in ("fit", "classify") and getattr(s.problem, "model", None) is not None \
            and s.problem.model.kind == "network"

    @property
    def classify(self) -> bool:
        """The network is a classifier (inputs x1, x2; the neurons drawn over the plane)."""
        return self.model is not None and self.session.kind == "classify"

    def set_plane_images(self, hidden: dict, output=None) -> None:
        """A classification's neuron pictures, as the plane view drew them: ``hidden``
        {hidden neuron (0-based over the layers): RGBA uint8 (ny, nx, 4), top row first},
        ``output`` the reference run's probability RGBA (or None)."""
        self.plane_images = dict(hidden) if self.classify else {}
        self.output_image = output if self.classify else None
        if not self.turn.taking:  # else the next turn paints them (gdviz.ui.views.turns)
            self.update()

    def _on_problem_changed(self, *_) -> None:
        s = self.session
        self.model = s.problem.model if self.showing else None
        self.plane_images, self.output_image = {}, None
        if self.model is not None and not self.classify:
            ds = s.problem.dataset
            x = np.concatenate([ds.x_train, ds.x_val])
            x0, x1 = float(x.min()), float(x.max())
            if not x1 > x0:
                x0, x1 = x0 - 1.0, x1 + 1.0
            self.xs = np.linspace(x0, x1, N_SAMPLES)
        self._on_stepped()

    def _on_stepped_turn(self, *_) -> None:
        """``stepped``: drawn now, unless this playing frame is another view's turn
        (:mod:`gdviz.ui.views.turns`)."""
        if not self.turn.skips():
            self._on_stepped()

    def _on_stepped(self, *_) -> None:
        m = self.model
        if m is None:
            self.weights = []
            self.update()
            return
        s = self.session
        p = np.asarray(s.positions()[s.reference_run()], dtype=np.float64)
        if p.shape[0] != m.n_params:
            return  # the problem changes next
        from gdviz.kernels.mlp import param_offsets

        sizes = [int(v) for v in m.sizes]
        self.weights = [p[wq:bq].reshape(sizes[k + 1], sizes[k])
                        for k, (wq, bq) in enumerate(param_offsets(sizes))]
        if self.classify:
            pass  # the neurons' pictures come from the plane view (set_plane_images)
        elif np.isfinite(p).all():
            with np.errstate(all="ignore"):
                self.curves = m.hidden_outputs(p, self.xs)
                self.out_curve = m.predict(p, self.xs)
        else:
            self.curves = np.full((m.K * m.layers, N_SAMPLES), np.nan)
            self.out_curve = np.full(N_SAMPLES, np.nan)
        self.update()

    # ------------------------------------------------------------------ geometry
    def layout_neurons(self) -> tuple[list[list[QPointF]], float]:
        """The neurons' centres, column by column (input, hidden layers, output), and their
        half-size in px."""
        m = self.model
        if m is None:
            return [], 0.0
        sizes = [int(v) for v in m.sizes]
        scale = max(1.0, theme.font_scale())
        top = theme.pt(theme.BASE_PT) * 2.2  # the title
        bottom = theme.pt(theme.BASE_PT) * 2.0  # the layer names
        w, h = float(self.width()), float(self.height())
        cols = len(sizes)
        dx = (w - 24.0) / cols
        rows = max(sizes)
        dy = (h - top - bottom) / rows
        half = max(5.0, min(MAX_HALF * scale, 0.30 * dx, 0.42 * dy))
        out = []
        for c, n in enumerate(sizes):
            x = 12.0 + dx * (c + 0.5)
            y0 = top + 0.5 * (h - top - bottom) - 0.5 * dy * n
            out.append([QPointF(x, y0 + dy * (r + 0.5)) for r in range(n)])
        return out, half

    def neuron_at(self, pos: QPointF) -> int:
        """The hidden neuron (0-based over all hidden layers) under ``pos``, or -1."""
        cols, half = self.layout_neurons()
        k = 0
        for c in range(1, len(cols) - 1):
            for pt in cols[c]:
                if abs(pos.x() - pt.x()) <= half + 3 and abs(pos.y() - pt.y()) <= half + 3:
                    return k
                k += 1
        return -1

    def mousePressEvent(self, ev) -> None:  # noqa: N802 - Qt name
        k = self.neuron_at(ev.position())
        if k < 0:
            return super().mousePressEvent(ev)
        s = self.session
        s.set_neuron(-1 if s.neuron == k else k)
        ev.accept()

    # ------------------------------------------------------------------ painting
    def paintEvent(self, ev) -> None:  # noqa: N802 - Qt name
        pal = theme.palette(theme.current())
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(pal["background"]))
        m = self.model
        if m is None or not self.weights:
            p.setPen(QColor(pal["muted"]))
            p.setFont(theme.font(theme.BASE_PT))
            p.drawText(QRectF(self.rect()), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       tr("network_hint"))
            p.end()
            return
        cols, half = self.layout_neurons()
        # what stands still while the race plays (the title, the neurons' boxes and rings,
        # the layers' names: ~1 ms of rounded rects and text) is drawn once into two
        # images, under and over the edges, and copied; the edges and the neurons'
        # pictures are drawn each paint
        ratio = max(abs(p.deviceTransform().m11()), 1e-6)
        key = (self.width(), self.height(), ratio, theme.current(), theme.font_scale(),
               current_language(), int(self.session.neuron), tuple(int(v) for v in m.sizes),
               m.activation, self.classify, QFontInfo(self.font()).family())
        if key != self._still_key or self._still is None:
            self._still_key = key
            self._still = (self._still_image(ratio, lambda q: self._paint_title(q, pal)),
                           self._still_image(ratio, lambda q: (
                               self._paint_neurons(q, pal, cols, half, boxes=True),
                               self._paint_layer_names(q, pal, cols))))
            self.still_draws += 1
        p.drawImage(QPointF(0, 0), self._still[0])
        self._paint_edges(p, pal, cols, half)
        p.drawImage(QPointF(0, 0), self._still[1])
        self._paint_neurons(p, pal, cols, half, boxes=False)
        p.end()

    def _still_image(self, ratio: float, draw) -> QImage:
        img = QImage(max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio)),
                     QImage.Format.Format_ARGB32_Premultiplied)
        img.setDevicePixelRatio(ratio)
        img.fill(Qt.GlobalColor.transparent)
        q = QPainter(img)
        try:
            q.setRenderHint(QPainter.RenderHint.Antialiasing)
            draw(q)
        finally:
            q.end()
        return img

    def title_text(self) -> str:
        """The title that fits the width: with the colour key, else the shape alone."""
        m = self.model
        act = tr("act_" + m.activation.replace("-", "_"))
        shape = "–".join(str(int(v)) for v in m.sizes)
        fm = QFontMetricsF(theme.font(theme.BASE_PT, bold=True))
        for text in (tr("network_title", shape=shape, act=act),
                     tr("network_title_short", shape=shape, act=act), f"{shape} {act}"):
            if fm.horizontalAdvance(text) <= self.width() - 12:
                return text
        return shape

    def _paint_title(self, p: QPainter, pal: dict) -> None:
        p.setPen(QColor(pal["foreground"]))
        p.setFont(theme.font(theme.BASE_PT, bold=True))
        p.drawText(QRectF(6, 2, self.width() - 12, theme.pt(theme.BASE_PT) * 2.0),
                   Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter,
                   self.title_text())

    def _paint_edges(self, p: QPainter, pal: dict, cols, half: float) -> None:
        name = "dark" if theme.current() == "dark" else "light"
        big = max((float(np.nanmax(np.abs(W))) for W in self.weights if W.size
                   and np.isfinite(W).any()), default=0.0)
        if not big > 0 or not math.isfinite(big):
            return
        scale = max(1.0, theme.font_scale())
        nb = len(EDGE_WIDTHS)
        sel = int(self.session.neuron)
        playing = bool(self.session.playing)
        K, L = _units(self.model), len(self.weights) - 1
        # every edge's ends, sign, width level, weight layer and whether it touches the
        # selected neuron, as arrays (a 4x32 network has 3,300 edges: no Python loop)
        segs, signs, levels, chosen, layer, mags = [], [], [], [], [], []
        for k, W in enumerate(self.weights):
            ax = cols[k][0].x() + half
            bx = cols[k + 1][0].x() - half
            ay = np.array([q.y() for q in cols[k]])
            by = np.array([q.y() for q in cols[k + 1]])
            o, i = np.nonzero(np.isfinite(W) & (np.abs(W) >= 0.02 * big))
            w = W[o, i]
            seg = np.empty((o.shape[0], 4))
            seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 3] = ax, ay[i], bx, by[o]
            src = (k - 1) * K + i if k > 0 else np.full(o.shape, -2)
            dst = k * K + o if k < L else np.full(o.shape, -3)
            segs.append(seg)
            signs.append(w > 0)
            levels.append(np.sqrt(np.abs(w) / big) * nb)  # the level, unrounded
            chosen.append((src == sel) | (dst == sel) if sel >= 0 else np.zeros(o.shape, bool))
            layer.append(np.full(o.shape, k))
            mags.append(np.abs(w))
        seg, pos, raw, on, layer, mags = (np.concatenate(v) for v in
                                          (segs, signs, levels, chosen, layer, mags))
        if seg.shape[0] > MAX_EDGES:
            # a 4x32 network has 3,300 edges: the strongest MAX_EDGES of them (and every
            # edge of the selected neuron) say as much, and a frame can afford them
            keep = on.copy()
            keep[np.argsort(-mags)[:MAX_EDGES]] = True
            seg, pos, raw, on, layer = seg[keep], pos[keep], raw[keep], on[keep], layer[keep]
        dim = sel >= 0
        # many edges while playing: aliased, which QPainter draws five times faster
        smooth = int((~on).sum()) <= MANY_EDGES or not playing
        dev = p.deviceTransform()
        ratio = max(abs(dev.m11()), 1e-6)
        frame = (self.width(), self.height(), ratio, name, scale, dim, smooth, len(self.weights))
        if self._edge_frame != frame:
            old_frame, old_layers = self._edge_frame, self._edge_layers
            self._edge_frame = frame
            self._edge_layers = [EdgeLayer() for _ in self.weights]
            if (self.edge_budget_ms is not None and old_frame is not None
                    and old_frame[3:] == frame[3:] and len(old_layers) == len(self._edge_layers)):
                # a new size alone (a panel shown or hidden beside it): the pictures of
                # before stand in, scaled into their strips, until stroked within the
                # budget (all at once, a 3x24 network's took the fit panel's toggle to 95 ms)
                for new, old in zip(self._edge_layers, old_layers):
                    new.interim, new.cost, new.stroked = old.img, old.cost, old.stroked
        # the edges as drawn depend on their ends, signs and width levels, not on the exact
        # weights: while those stay (most steps: a level is a band of |w|), a weight layer's
        # image drawn last time is the same pixels, copied instead of stroked again (thick
        # lines: ~4 ms a frame for L21's 2-8-8-8-1 network). Each weight layer has its own
        # image, so a level that changes strokes its layer alone; and while the race plays,
        # one layer at most is stroked a paint (the one waiting longest; the others keep
        # their picture of a frame or two before, and are stroked at their next paints)
        stale = []
        for k, el in enumerate(self._edge_layers):
            m = layer == k
            lk_seg, lk_pos, lk_raw, lk_on = seg[m], pos[m], raw[m], on[m]
            lev = np.minimum(lk_raw.astype(int), nb - 1)
            ident = lk_seg.tobytes() + lk_pos.tobytes()
            if playing and el.levels is not None and el.levels[0] == ident:
                # a weight near a band's edge would flip its level back and forth (and max
                # |w| moves every band a little each step): each flip stroked the layer
                # again. Playing, an edge keeps its drawn level within the hysteresis
                was = el.levels[1]
                stay = (lk_raw >= was - LEVEL_HYSTERESIS) & (lk_raw < was + 1 + LEVEL_HYSTERESIS)
                lev = np.where(stay, was, lev)
            key = (ident, lev.tobytes(), lk_on.tobytes())
            if el.img is None or key != el.key:
                stale.append((el.stroked, k, key, ident, lk_seg, lk_pos, lev, lk_on))
        todo = stale
        els = self._edge_layers
        if playing:
            todo = ([t for t in stale if els[t[1]].img is None]
                    or sorted(stale, key=lambda t: t[0])[:1])
        budget = self.edge_budget_ms
        # (a layer with a picture of before to stand in, of this size or scaled, can wait)
        shown = [els[t[1]].img is not None or els[t[1]].interim is not None for t in stale]
        if not playing and budget is not None and any(shown):
            # paused, a change of every weight (a restart, a scrub) stroked all the layers
            # in one paint: a 4x32 network at 300 % text, ~55 ms of antialiased wide lines.
            # The layers with nothing to show are stroked now, then the others, oldest
            # first, while the paint has time by their last strokes' costs (one at least)
            todo = [t for t, has in zip(stale, shown) if not has]
            spent = sum(els[t[1]].cost for t in todo)
            for t in sorted((t for t, has in zip(stale, shown) if has), key=lambda t: t[0]):
                cost = els[t[1]].cost
                if todo and (spent + cost) * 1000.0 > budget:
                    break
                todo.append(t)
                spent += cost
        for _, k, key, ident, lk_seg, lk_pos, lev, lk_on in todo:
            el = self._edge_layers[k]
            t0 = time.perf_counter()
            el.img = self._stroke_layer(cols, k, half, ratio, lk_seg, lk_pos, lev, lk_on,
                                        name, scale, dim, smooth)
            el.cost = time.perf_counter() - t0
            el.interim = None
            el.key, el.levels = key, (ident, lev)
            self._edge_strokes += 1
            el.stroked = self._edge_strokes
            self.edge_draws += 1
        for k, el in enumerate(self._edge_layers):
            if el.img is not None:
                p.drawImage(QPointF(el.x0, 0), el.img)
            elif el.interim is not None:
                x0, x1 = self._strip(cols, k, half, scale)
                p.drawImage(QRectF(x0, 0, x1 - x0, self.height()), el.interim)
        if len(todo) < len(stale):
            if not playing:
                self._edge_soon.start()  # the layers left: in the next turn
            elif not self._edge_timer.isActive():
                self._edge_timer.start()  # the layers left: at the next paint, or this timer's

    def _stroke_layer(self, cols, k: int, half: float, ratio: float, seg, pos, lev, on,
                      name: str, scale: float, dim: bool, smooth: bool) -> QImage:
        """Weight layer ``k``'s edges stroked into an image of the strip between its two
        columns of neurons (its left edge is :attr:`EdgeLayer.x0` of the layer)."""
        nb = len(EDGE_WIDTHS)
        x0, x1 = self._strip(cols, k, half, scale)
        w = max(1, x1 - x0)
        self._edge_layers[k].x0 = x0
        img = QImage(max(1, round(w * ratio)), max(1, round(self.height() * ratio)),
                     QImage.Format.Format_ARGB32_Premultiplied)
        img.setDevicePixelRatio(ratio)
        img.fill(Qt.GlobalColor.transparent)
        q = QPainter(img)
        try:
            q.translate(-x0, 0)
            for top in (False, True):
                q.setRenderHint(QPainter.RenderHint.Antialiasing, smooth or top)
                for lv in range(nb):
                    for sign in (False, True):
                        m = (on == top) & (lev == lv) & (pos == sign)
                        if not m.any():
                            continue
                        alpha = 255 if top else (90 if dim else 110 + 25 * lv)
                        q.setPen(self._edge_pen(sign, lv, name, scale, alpha,
                                                boost=1.5 if top else 1.0))
                        q.drawLines([QLineF(*r) for r in seg[m].tolist()])
        finally:
            q.end()
        return img

    @staticmethod
    def _strip(cols, k: int, half: float, scale: float) -> tuple[int, int]:
        """The x range of weight layer ``k``'s strip (between its columns, padded for the
        widest pen)."""
        pad = EDGE_WIDTHS[-1] * scale * 1.5
        return (math.floor(cols[k][0].x() + half - pad),
                math.ceil(cols[k + 1][0].x() - half + pad))

    @staticmethod
    def _edge_pen(pos: bool, lv: int, name: str, scale: float, alpha: int,
                  boost: float = 1.0) -> QPen:
        color = QColor(POSITIVE[name] if pos else NEGATIVE[name])
        color.setAlpha(min(255, int(alpha)))
        pen = QPen(color, EDGE_WIDTHS[lv] * scale * boost)
        # flat ends, at the neurons' borders: round caps on thick antialiased lines cost
        # QPainter three times as much (L21's network: 16 ms against 5 ms a repaint)
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        if not pos:
            pen.setStyle(Qt.PenStyle.DashLine)
        return pen

    def _paint_neurons(self, p: QPainter, pal: dict, cols, half: float, boxes: bool) -> None:
        """The neurons' boxes and the selected one's rings (``boxes``), or what is drawn in
        them: a curve, or a classification's picture."""
        m = self.model
        ring = QColor(NEURON_COLORS["dark" if theme.current() == "dark" else "light"])
        box_bg = QColor(pal["panel"])
        scale = max(1.0, theme.font_scale())
        sel = int(self.session.neuron)
        ref = self.session.reference_run()
        curve_color = QColor(self.session.run_color(ref))
        k = 0
        for c, col in enumerate(cols):
            for r, pt in enumerate(col):
                rect = QRectF(pt.x() - half, pt.y() - half, 2 * half, 2 * half)
                chosen = 0 < c < len(cols) - 1 and k == sel
                if boxes:
                    p.setPen(QPen(ring if chosen else QColor(pal["grid"]), (3.0 if chosen else 1.2) * scale))
                    p.setBrush(box_bg)
                    p.drawRoundedRect(rect, 0.18 * half, 0.18 * half)
                    if chosen:
                        p.setPen(QPen(ring, 3.5 * scale))
                        p.setBrush(Qt.BrushStyle.NoBrush)
                        p.drawRoundedRect(rect.adjusted(-4, -4, 4, 4), 0.25 * half, 0.25 * half)
                    if 0 < c < len(cols) - 1:
                        k += 1
                    continue
                if self.classify:
                    if half >= 7:
                        self._paint_image(p, rect.adjusted(2, 2, -2, -2), self._neuron_image(c, r, k, len(cols)))
                    if 0 < c < len(cols) - 1:
                        k += 1
                elif c == 0:
                    y = self.xs
                    lo, hi = float(self.xs[0]), float(self.xs[-1])
                elif c == len(cols) - 1:
                    y = self.out_curve
                    lo, hi = _range(y)
                else:
                    y = self.curves[k] if k < self.curves.shape[0] else np.zeros(N_SAMPLES)
                    lo, hi = _act_range(m.activation, y)
                    k += 1
                if half >= 7 and not self.classify:
                    self._paint_curve(p, rect.adjusted(3, 3, -3, -3), y, lo, hi, curve_color, scale)

    def _neuron_image(self, c: int, r: int, k: int, n_cols: int) -> np.ndarray | None:
        """A classification's picture of neuron ``r`` of column ``c`` (``k``: its index
        over the hidden neurons): x1 or x2 as a ramp, a hidden neuron's thumbnail, the
        output's probability."""
        if c == 0:
            return self._inputs()[r] if r < 2 else None
        if c == n_cols - 1:
            return self.output_image
        return self.plane_images.get(k)

    def _inputs(self) -> list[np.ndarray]:
        """x1 (left to right) and x2 (bottom to top) as the plane colours a neuron, once
        per theme."""
        name = theme.current()
        if self._input_images is None or self._input_images[0] != name:
            from gdviz.ui.views.plane_view import _neuron_rgba, _prob_lut

            t = np.linspace(0.0, 1.0, 16)
            gx, gy = np.meshgrid(t, t)  # bottom row first
            self._input_images = (name, list(_neuron_rgba(np.stack([gx, gy]), _prob_lut(name))))
        return self._input_images[1]

    @staticmethod
    def _paint_image(p: QPainter, rect: QRectF, rgba: np.ndarray | None) -> None:
        if rgba is None or rgba.ndim != 3:
            return
        a = np.ascontiguousarray(rgba, dtype=np.ubyte)
        ny, nx = a.shape[:2]
        img = QImage(a.data, nx, ny, 4 * nx, QImage.Format.Format_RGBA8888)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        p.drawImage(rect, img)  # drawn before ``a`` goes: no copy needed

    @staticmethod
    def _paint_curve(p: QPainter, rect: QRectF, y: np.ndarray, lo: float, hi: float,
                     color: QColor, scale: float) -> None:
        y = np.asarray(y, dtype=np.float64)
        if not np.isfinite(y).any():
            return
        span = hi - lo if hi > lo else 1.0
        t = np.clip((y - lo) / span, -0.05, 1.05)
        xs = rect.left() + rect.width() * np.linspace(0.0, 1.0, y.shape[0])
        ys = rect.bottom() - rect.height() * t
        path = pg.arrayToQPath(xs, ys, connect="finite")
        p.setPen(QPen(color, 2.0 * scale))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)

    def _paint_layer_names(self, p: QPainter, pal: dict, cols) -> None:
        p.setPen(QColor(pal["muted"]))
        font = theme.font(theme.BASE_PT * 0.9)
        p.setFont(font)
        fm = QFontMetricsF(font)
        h = float(self.height())
        line = theme.pt(theme.BASE_PT) * 1.8
        n = len(cols)
        dx = (self.width() - 24.0) / max(n, 1)
        full = [tr("net_input")] + [tr("net_layer", k=c) for c in range(1, n - 1)] + [tr("net_output")]
        # one style for the whole row: the long names when every one fits its column
        short = any(fm.horizontalAdvance(t) > dx - 4 for t in full)
        for c, col in enumerate(cols):
            text = full[c]
            if short:
                text = "x" if c == 0 else ("ŷ" if c == n - 1 else str(c))
            x = col[0].x()
            p.drawText(QRectF(x - dx / 2, h - line, dx, line),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, text)

    # ------------------------------------------------------------------ lifecycle
    def changeEvent(self, ev) -> None:  # noqa: N802 - Qt name
        if ev.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange,
                         QEvent.Type.LanguageChange, QEvent.Type.FontChange,
                         QEvent.Type.ApplicationFontChange):
            self.update()
        super().changeEvent(ev)

    def close(self) -> bool:
        self._connections = disconnect_all(self._connections)
        return super().close()


def _units(m) -> int:
    """Units per hidden layer of a fit's network (``K``) or a classifier (``units``)."""
    k = getattr(m, "K", None)
    return int(m.units if k is None else k)


def _range(y: np.ndarray) -> tuple[float, float]:
    f = y[np.isfinite(y)]
    if not f.size:
        return 0.0, 1.0
    lo, hi = float(f.min()), float(f.max())
    return (lo, hi) if hi > lo else (lo - 1.0, hi + 1.0)


def _act_range(act: str, y: np.ndarray) -> tuple[float, float]:
    """The box of a neuron's curve: the activation's own range where it has one, so that
    a saturated sigmoid looks flat at the top; else 0 (or the curve's low) to its high."""
    if act in ("sigmoid", "hard-sigmoid"):
        return 0.0, 1.0
    if act == "tanh":
        return -1.0, 1.0
    f = y[np.isfinite(y)]
    if not f.size:
        return 0.0, 1.0
    lo, hi = min(0.0, float(f.min())), float(f.max())
    return (lo, hi) if hi > lo else (lo, lo + 1.0)
