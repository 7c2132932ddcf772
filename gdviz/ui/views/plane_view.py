"""The classification panel beside the map: the plane, the decision surface, the points,
the accuracies and each hidden neuron's output (TensorFlow Playground's picture).

A thin view of :class:`~gdviz.core.session.Session` on the "classify" kind:

* **status**: each shown run's training and validation accuracy (and loss), one line a
  run in the run's colour, large enough for the back row;
* **plane**: the reference run's probability sigmoid(logit) over the plane as a heatmap
  (orange for class 0, blue for class 1, pale near 0.5), its 0.5 boundary as a thick
  line in the run's colour, and the other shown runs' boundaries as thinner lines in
  theirs; the points on top: class by colour *and* shape (class 1 blue circles, class 0
  orange triangles: Okabe & Ito's colour-blind-safe pair), training points filled,
  validation points hollow;
* **neurons**: each hidden neuron's output over the plane as a thumbnail, layer by layer
  (the reference run's): a row per hidden layer, at most :data:`THUMBS_PER_ROW` each.

The network is evaluated per frame on a GRID x GRID grid of the plane (one numba call for
the surface of every shown run, one for the neurons), and the boundary is traced by the
app's contour kernel (:func:`gdviz.kernels.contour.contour_segments`) at logit 0. Nothing
is recomputed when the parameters did not move. That picture is one Qt-free function
(:func:`plane_picture`): while the race plays in the window it runs on a worker thread
(:class:`gdviz.ui.views.live_grid.LiveGridWorker`) and is drawn with the view's next step
(:class:`gdviz.ui.views.live_grid.FrameInbox`), a frame or two after its own; paused, stepped by hand or exported, it is computed on the spot.
"""

from __future__ import annotations

import dataclasses
import functools
import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import (QGraphicsItem, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget)

from gdviz.core.classifier import PLANE_GRID, THUMB_GRID, accuracy_text, plane_grid
from gdviz.core.i18n import tr
from gdviz.kernels.contour import contour_segments
from gdviz.ui import theme
from gdviz.ui.views.items import (Points, Spares, cache_axes, connect_all, disconnect_all,
                                  plain_plot, style_points)
from gdviz.ui.views.live_grid import FrameInbox, LiveGridWorker
from gdviz.ui.views.refresh import forget, later
from gdviz.ui.views.turns import Turn
from gdviz.ui.widgets import SteadyWrapBox

#: grid nodes per side of the decision surface (each frame: GRID² forward passes a run)
#: and of a neuron thumbnail (defined with the problem, so the bench needs no Qt)
GRID = PLANE_GRID
#: most neuron thumbnails shown per hidden layer (a row each; TF Playground shows 8)
THUMBS_PER_ROW = 8
#: most lines of runs in the accuracy list (a lesson's two networks, or three); more fold
#: into the first runs and one line "+ N more runs", all of them in its tooltip (16 networks'
#: lines, each wrapped in two at 200 % text, squeezed the plane to a strip, and every run
#: added shrank it again, evaluating every network anew over the moved plane)
ACC_ROWS = 3
#: a thumbnail's side in pixels at font scale 1, at most; the smallest worth showing
THUMB_PX = 46
THUMB_MIN_PX = 18
#: the thumbnails' columns take at most this share of the panel's width
THUMB_SHARE = 0.34
#: class colours (Okabe & Ito): class 1 blue, class 0 orange; per theme (points, heatmap)
CLASS_COLORS = {
    "light": {"c1": "#0072B2", "c0": "#E69F00", "c1_bg": "#a3c7e6", "c0_bg": "#f5d590"},
    "dark": {"c1": "#56B4E9", "c0": "#E69F00", "c1_bg": "#184a70", "c0_bg": "#5e4006"},
}
POINT_SIZE = 11
BOUNDARY_WIDTH = 4.0


@functools.lru_cache(maxsize=4)
def _prob_lut(name: str) -> np.ndarray:
    """256 RGBA rows: class 0's tint at p = 0, the background at 0.5, class 1's at 1
    (read-only, one per theme)."""
    pal = theme.palette(name)
    cols = CLASS_COLORS.get(name, CLASS_COLORS["light"])
    mid = QColor(pal["background"])
    lo, hi = QColor(cols["c0_bg"]), QColor(cols["c1_bg"])
    t = np.linspace(0.0, 1.0, 256)
    out = np.empty((256, 4), dtype=np.ubyte)
    w0 = np.clip(1.0 - 2.0 * t, 0.0, 1.0)  # weight of class 0's tint
    w1 = np.clip(2.0 * t - 1.0, 0.0, 1.0)  # weight of class 1's tint
    for ch, name_ in enumerate(("red", "green", "blue")):
        m = getattr(mid, name_)()
        out[:, ch] = np.round(m + w0 * (getattr(lo, name_)() - m) + w1 * (getattr(hi, name_)() - m))
    out[:, 3] = 255
    out.flags.writeable = False
    return out


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    with np.errstate(over="ignore", invalid="ignore"):
        pos = z >= 0
        out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
        e = np.exp(z[~pos])
        out[~pos] = e / (1.0 + e)
    return out


def _neuron_rgba(H: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Thumbnails of the neurons' outputs H (units, ny, nx), bottom row first: RGBA uint8
    (units, ny, nx, 4), top row first, each neuron's own range mapped from orange (low)
    through the background to blue (high), as TF Playground (a flat one is the middle),
    through ``lut`` (:func:`_prob_lut`)."""
    U, ny, nx = H.shape
    flat = H.reshape(U, ny * nx)
    fin = np.isfinite(flat)
    lo = np.where(fin, flat, np.inf).min(axis=1, initial=np.inf)
    hi = np.where(fin, flat, -np.inf).max(axis=1, initial=-np.inf)
    none = ~fin.any(axis=1)
    lo[none], hi[none] = 0.0, 1.0
    span = hi - lo
    level = span <= 1e-12 * np.maximum(1.0, np.abs(hi))
    with np.errstate(invalid="ignore", over="ignore"):
        t = (flat - lo[:, None]) / np.where(level, 1.0, span)[:, None] * 255.0
    t[np.isnan(t) | level[:, None]] = 128.0
    idx = np.clip(t, 0.0, 255.0).astype(np.intp)
    return np.ascontiguousarray(lut[idx].reshape(U, ny, nx, 4)[:, ::-1])


def _rgba_pixmap(rgba: np.ndarray) -> QPixmap:
    """A QPixmap of RGBA uint8 (ny, nx, 4), C-contiguous. The image is copied first: a
    raster pixmap may share a QImage's pixels, and rgba's go with the array."""
    ny, nx = rgba.shape[:2]
    img = QImage(rgba.data, nx, ny, 4 * nx, QImage.Format.Format_RGBA8888).copy()
    return QPixmap.fromImage(img)


@dataclasses.dataclass
class PlanePicture:
    """What the plane draws at one step (see :func:`plane_picture`)."""

    box: tuple[float, float, float, float]
    runs: list[int]
    #: run -> its 0.5 boundary's segment ends float64 (2s, 2), or None (no finite logit)
    boundaries: dict[int, np.ndarray | None]
    #: the reference run's probability as RGBA uint8 (GRID, GRID, 4), or None
    surface: np.ndarray | None
    acc_train: np.ndarray
    acc_val: np.ndarray
    #: the thumbnails' RGBA uint8 (n, THUMB_GRID, THUMB_GRID, 4); None: leave them as they
    #: are; an empty array: clear them (the reference run has no finite parameters)
    thumbs: np.ndarray | None
    #: what each run's parameters gave, for the next picture (see :func:`plane_picture`)
    known: dict = dataclasses.field(default_factory=dict)


def plane_picture(pr, P: np.ndarray, ref: int, runs: list[int], box, grid: np.ndarray,
                  lut: np.ndarray, thumb_box, thumb_units: list[int] | None,
                  known: dict | None = None) -> PlanePicture:
    """The plane's picture of the runs' parameters P float64 (n_runs, p) on the problem
    ``pr``: each shown run's boundary on ``grid`` (the nodes of ``box``, GRID x GRID), the
    reference run's probability coloured through ``lut``, the accuracies of ``runs`` and,
    when ``thumb_units`` is not None, those hidden units' thumbnails over ``thumb_box``. No
    Qt: the window's worker computes it while the race plays.

    ``known``: a former picture's :attr:`PlanePicture.known`, the logits, boundary and
    accuracies of each run's parameters (by their bytes) on its problem and box; a run
    whose parameters it holds is not evaluated again (a run added to 40 paused runs
    evaluates one network over the grid, not 41)."""
    box = tuple(box)
    if not (known and known.get("problem") is pr and known.get("box") == box):
        known = {"z": {}, "acc": {}}
    new = {"problem": pr, "box": box, "z": {}, "acc": {}}
    rows = [P[r].tobytes() for r in range(P.shape[0])]
    fin = [r for r in runs if np.isfinite(P[r]).all()]
    todo = list({rows[r]: r for r in fin if rows[r] not in known["z"]}.values())
    Z = pr.logits(P[todo], grid) if todo else np.zeros((0, GRID * GRID))
    x0, x1, y0, y1 = box
    for k, r in enumerate(todo):
        z = Z[k].reshape(GRID, GRID)
        xy = None
        if np.isfinite(z).any():
            xy, _ = contour_segments(z, x0, x1, y0, y1, np.array([0.0]))
            xy = xy if len(xy) else None
        new["z"][rows[r]] = (z, xy)
    for r in fin:  # (``known`` is read only: the worker and the view may share it)
        new["z"].setdefault(rows[r], known["z"].get(rows[r]))
    zs = {r: new["z"][rows[r]][0] for r in fin}
    bounds: dict[int, np.ndarray | None] = {
        r: (new["z"][rows[r]][1] if r in zs else None) for r in range(P.shape[0])}
    zr = zs.get(ref)
    if zr is None and zs:
        zr = next(iter(zs.values()))
    surface = None
    if zr is not None:
        prob = _sigmoid(zr)
        idx = np.clip(np.nan_to_num(prob, nan=0.5) * 255.0 + 0.5, 0, 255).astype(np.intp)
        surface = np.ascontiguousarray(lut[idx])
    if runs:
        todo = list({rows[r]: r for r in runs if rows[r] not in known["acc"]}.values())
        if todo:
            Q = P[todo]
            for r, t, v in zip(todo, pr.accuracy(Q, "train"), pr.accuracy(Q, "val")):
                new["acc"][rows[r]] = (t, v)
        for r in runs:
            new["acc"].setdefault(rows[r], known["acc"].get(rows[r]))
        acc_t = np.array([new["acc"][rows[r]][0] for r in runs], dtype=np.float64)
        acc_v = np.array([new["acc"][rows[r]][1] for r in runs], dtype=np.float64)
    else:
        acc_t = acc_v = np.zeros(0)
    thumbs = None
    if thumb_units is not None and 0 <= ref < P.shape[0]:
        p = P[ref]
        if not np.isfinite(p).all():
            thumbs = np.zeros((0, THUMB_GRID, THUMB_GRID, 4), dtype=np.ubyte)
        else:
            H = pr.grid_hidden(p, thumb_box, THUMB_GRID, THUMB_GRID)
            thumbs = _neuron_rgba(H[thumb_units], lut)
    return PlanePicture(box=box, runs=list(runs), boundaries=bounds, surface=surface,
                        acc_train=acc_t, acc_val=acc_v, thumbs=thumbs, known=new)


class PlaneView(QWidget):
    """The classification panel (see the module docstring). Items, for tests and export:
    ``status`` (QLabel), ``plot`` (PlotWidget), ``surface`` (ImageItem), ``boundaries``
    (one PlotDataItem a run, connect="pairs"), ``points`` (dict of ScatterPlotItem by
    (class, "train"/"val")), ``thumbs`` (QLabels), ``last_accuracy`` ({run: (train, val)}).

    :attr:`drawn` carries what the plane drew, for the network picture to show without
    computing it again: ``{hidden neuron (0-based over the layers): its thumbnail's RGBA}``
    and the reference run's probability RGBA (or None); :meth:`neuron_images` the same."""

    #: (dict hidden neuron -> RGBA uint8 (THUMB_GRID, THUMB_GRID, 4), surface RGBA or None)
    drawn = Signal(object, object)

    def __init__(self, session, parent=None, *, live_async: bool = True):
        super().__init__(parent)
        self.session = session
        self.setObjectName("planeView")
        self.status = QLabel()
        self.status.setObjectName("planeStatus")
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot_item: pg.PlotItem = self.plot.getPlotItem()
        self.vb: pg.ViewBox = self.plot_item.getViewBox()
        self.plot_item.hideButtons()
        self.plot_item.setMenuEnabled(False)
        self.vb.setMouseEnabled(x=False, y=False)
        self.vb.disableAutoRange()
        self.vb.setAspectLocked(True)
        cache_axes(self.plot_item)
        plain_plot(self.plot_item)
        for name in ("left", "bottom"):
            self.plot_item.getAxis(name).setStyle(maxTickLevel=0)
        self.surface = pg.ImageItem()
        self.surface.setZValue(0)
        self.plot_item.addItem(self.surface)
        self.points: dict[tuple[int, str], pg.ScatterPlotItem] = {}
        for cls, sym in ((1, "o"), (0, "t1")):
            for part, z in (("train", 20), ("val", 21)):
                item = Points(symbol=sym, pxMode=True)
                item.setZValue(z)
                # the points stand still while the surface under them changes every frame:
                # blit them from a cached pixmap (0.6 of the plane's 2.5 ms paint in L21)
                item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
                self.plot_item.addItem(item)
                self.points[(cls, part)] = item
        self.boundaries: list[pg.PlotDataItem] = []
        # the boundaries of runs gone, hidden, for the next runs (a lesson opened over 20
        # leftover runs freed 20 of them in its turn, ~1.3 ms each, and made them again)
        self._spares = Spares(self.plot_item.removeItem, self)
        self.thumb_box = QWidget()
        self.thumb_grid = QGridLayout(self.thumb_box)
        self.thumb_grid.setContentsMargins(0, 0, 0, 0)
        self.thumb_grid.setSpacing(3)
        self.thumb_title = QLabel()
        self.thumbs: list[QLabel] = []
        self._row_labels: list[QLabel] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        #: the label's box: a new text of the same height lays nothing out again
        self.status_box = SteadyWrapBox(self.status)
        lay.addWidget(self.status_box)
        # the plane, and beside it the neurons as TF Playground draws them: a column per
        # hidden layer, its neurons stacked
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.plot, 1)
        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.thumb_title)
        side.addWidget(self.thumb_box)
        side.addStretch(1)
        row.addLayout(side)
        lay.addLayout(row, 1)
        self.plot.setMinimumSize(150, 150)
        self._box = self._data_box = (-6.0, 6.0, -6.0, 6.0)
        self._grid = None
        self._thumb_xy = None
        #: the network picture beside the plane draws the thumbnails (they hide here)
        self.beside_network = False
        self._key = None
        self._thumb_key = None
        #: the last picture's runs' logits and accuracies (PlanePicture.known)
        self._known: dict = {}
        #: while the race plays in the window the picture is computed on a worker thread
        #: (an export's plane computes it on the spot)
        self.live_async = bool(live_async)
        self._worker: LiveGridWorker | None = None
        #: a finished picture waits here for the next step (drawn in that frame's one paint)
        self._inbox = FrameInbox(self._on_inbox, self)
        self._behind = False
        #: the RGBA each thumbnail shows (unchanged ones are not set again)
        self._thumb_rgba: list[np.ndarray] = []
        self._surface_rgba: np.ndarray | None = None
        self.last_accuracy: dict[int, tuple[float, float]] = {}
        self._status_lines = -1
        s = session
        #: its turn while a classification plays in the window (with the loss curves')
        self.turn = Turn(s, 1, self._on_stepped)
        self._connections = connect_all([
            (s.problem_changed, self._on_problem_changed),
            (s.runs_changed, self._on_runs_changed),
            (s.stepped, self._on_stepped_turn),
            (s.selection_changed, self._on_runs_changed),
            (s.playing_changed, self._on_playing_changed),
            (s.playing_changed, self.turn.on_playing_changed),
            (s.settings_changed, self._mark_neuron),
        ])
        self.vb.sigRangeChanged.connect(self._on_range_changed)
        self._apply_theme()
        self._on_problem_changed()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return QSize(520, 420)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return QSize(300, 260)

    # ------------------------------------------------------------------ public
    @property
    def active(self) -> bool:
        return self.session.kind == "classify"

    def close(self) -> bool:
        disconnect_all(self._connections)
        self._connections = []
        forget(self)
        self._spares.close()
        if self._worker is not None:
            self._worker.stop()
        return super().close()

    def retranslate(self) -> None:
        """The status, the thumbnails' titles and tips in the UI language. The picture
        does not change: its accuracies are written again, in place (the plane and every
        neuron's picture were made anew, and the thumbnails too, ~15 ms per language)."""
        self._label_thumbs()
        shown = getattr(self, "_status_shown", None)
        if shown is not None and shown[0] is self.session.problem \
                and max(shown[1], default=-1) < self.session.n_runs:
            self._update_status(*shown[1:])
        else:
            self._key = self._thumb_key = None
            self._refresh_later()

    def _refresh_later(self, *_) -> None:
        """:meth:`_on_stepped` once the session's change (or the window's) has settled:
        a scene's restore asked for the picture on four signals."""
        later(self.session, self._on_stepped)

    # ------------------------------------------------------------------ session -> view
    def _on_problem_changed(self, *_) -> None:
        self._known = {}  # (a problem changed in place evaluates its runs anew)
        if not self.active:
            self._key = self._thumb_key = None
            return
        pr = self.session.problem
        self._data_box = pr.dataset.bounds()
        x0, x1, y0, y1 = self._data_box
        self.vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self._set_box(self._data_box)
        ds = pr.dataset
        for cls in (1, 0):
            for part, idx in (("train", ds.train_idx), ("val", ds.val_idx)):
                sel = idx[ds.y[idx] == cls]
                self.points[(cls, part)].setData(ds.X[sel, 0], ds.X[sel, 1])
        self._build_thumbs()
        self._on_runs_changed()

    def _on_runs_changed(self, *_) -> None:
        if not self.active:
            return
        s = self.session
        while len(self.boundaries) < s.n_runs:
            spare = self._spares.take()
            if spare is not None:
                item = spare[0]
                item.setData([], [])  # (its last run's line: drawn anew for this run)
                item.setVisible(True)
            else:
                item = pg.PlotDataItem(connect="pairs")
                item.setZValue(10)
                self.plot_item.addItem(item)
            self.boundaries.append(item)
        while len(self.boundaries) > s.n_runs:
            self._spares.put(self.boundaries.pop())
        self._style_boundaries()
        self._key = self._thumb_key = None
        self._refresh_later()
        self._size_thumbs()  # the status has a line per run

    def _on_range_changed(self, *_) -> None:
        if self.active and self._grid is not None:
            self._refresh_later()

    def _shown_runs(self) -> list[int]:
        s = self.session
        return [r for r in range(s.n_runs) if s.run_enabled(r)]

    def _on_stepped_turn(self, *_) -> None:
        """``stepped``: drawn now, unless this playing frame is another view's turn
        (:mod:`gdviz.ui.views.turns`)."""
        if not self.turn.skips():
            later(self.session, self._on_stepped)  # once the change has settled

    def _on_stepped(self, *_) -> None:
        if not self.active or self._grid is None or self.isHidden():
            return
        held = self._inbox.take()
        if held is not None:  # the picture the worker finished since the last step
            self._show_held(*held)
        self._refresh()

    def _refresh(self) -> None:
        """Draw the picture of the displayed step, or (playing) hand it to the worker."""
        if not self.active or self._grid is None:
            return  # (a surface's lesson after a classifier's: no model to draw)
        self._follow_view()
        s = self.session
        P = np.array(s.positions(), dtype=np.float64)
        ref = s.reference_run()
        runs = self._shown_runs()
        name = theme.current()
        key = (P.tobytes(), ref, tuple(runs), name, self._box)
        if key == self._key:
            return
        thumb_key = (P[ref].tobytes(), name) if 0 <= ref < len(P) else None
        want_thumbs = bool(self.thumbs) and thumb_key is not None and thumb_key != self._thumb_key
        m = s.problem.model
        units = ([lay * m.units + k for lay, k in self._thumb_layout()] if want_thumbs else None)
        # H's rows are every hidden unit, layer after layer; a thumbnail shows the first
        # THUMBS_PER_ROW of each layer
        args = (s.problem, P, ref, runs, self._box, self._grid, _prob_lut(name),
                self._data_box, units, self._known)
        if self.live_async and s.playing:
            w = self._worker
            if w is None:
                w = self._worker = LiveGridWorker(self)
                w.done.connect(self._on_worker_done)
            if w.busy:  # the frame shows the last finished picture; the next asks again
                self._behind = True
                return
            self._key = key
            if want_thumbs:
                self._thumb_key = thumb_key
            w.submit((s.problem, key), lambda: plane_picture(*args))
            return
        if self._worker is not None:
            self._worker.cancel()  # this picture is newer than the one in flight
        self._inbox.drop()
        self._key = key
        if want_thumbs:
            self._thumb_key = thumb_key
        self._show(plane_picture(*args))

    def _on_worker_done(self, gen: int, job, pic) -> None:
        problem, key = job
        w = self._worker
        if w is None or gen <= w.floor or not self.active or problem is not self.session.problem:
            return
        if isinstance(pic, Exception):
            self._key = self._thumb_key = None  # the next step tries again
            return
        if pic.box != self._box:  # the plot was resized meanwhile: draw it for the new box
            self._key = self._thumb_key = None
            self._behind = True
        elif self.live_async and self.session.playing:
            # drawn with the next step, in its paint (see FrameInbox), which then hands the
            # worker the parameters of its own step
            self._inbox.hold(gen, problem, pic)
            self._behind = False
            return
        else:
            self._show(pic)
        if self._behind or not self.session.playing:
            self._behind = False
            self._on_stepped()

    def _show_held(self, gen: int, problem, pic) -> None:
        w = self._worker
        if w is None or gen <= w.floor or not self.active or problem is not self.session.problem:
            return
        if pic.box != self._box:
            # the plot was resized while the picture waited: computed again for the new box
            # (the caller refreshes; dropped, the plot kept the old picture until a next
            # step, and none came in a slow race)
            self._key = self._thumb_key = None
            return
        self._show(pic)

    def _on_inbox(self, gen: int, problem, pic) -> None:
        """A held picture that no step came to take (a slow race): drawn now."""
        self._show_held(gen, problem, pic)
        if self._key is None and self.active and self._grid is not None:
            self._refresh()

    def _on_playing_changed(self, *_) -> None:
        if self.session.playing:
            return
        held = self._inbox.take()
        if held is not None or (self._worker is not None and self._worker.busy):
            self._key = self._thumb_key = None  # the exact picture of the displayed step now
            self._refresh()

    def _show(self, pic: PlanePicture) -> None:
        """Draw ``pic``: the boundaries, the surface, the status and the thumbnails."""
        for r, item in enumerate(self.boundaries):
            xy = pic.boundaries.get(r)
            if xy is None:
                item.setData([], [])
            else:
                item.setData(xy[:, 0], xy[:, 1])
        if pic.surface is not None:
            self.surface.setImage(pic.surface, autoLevels=False)
            self.surface.setRect(*self._surface_rect(pic.box))
            self.surface.setVisible(True)
        else:
            self.surface.setVisible(False)
        self._update_status(pic.runs, pic.acc_train, pic.acc_val)
        self._status_shown = (self.session.problem, pic.runs, pic.acc_train, pic.acc_val)
        if pic.thumbs is not None and self.thumbs:
            if len(pic.thumbs) == 0:
                for lab in self.thumbs:
                    lab.clear()
                self._thumb_rgba = []
            else:
                # a neuron whose picture did not change (a dead ReLU, a settled one) is
                # neither converted nor repainted
                old = self._thumb_rgba
                for u, lab in enumerate(self.thumbs[:len(pic.thumbs)]):
                    if u < len(old) and np.array_equal(old[u], pic.thumbs[u]) \
                            and not lab.pixmap().isNull():
                        continue
                    lab.setPixmap(_rgba_pixmap(pic.thumbs[u]))
                self._thumb_rgba = list(pic.thumbs)
        self._surface_rgba = pic.surface
        self._known = pic.known
        self.drawn.emit(*self.neuron_images())

    def neuron_images(self) -> tuple[dict[int, np.ndarray], np.ndarray | None]:
        """The thumbnails shown, by hidden neuron (0-based over all hidden layers, as
        ``Session.neuron``), and the reference run's probability surface (or None)."""
        if not self.active or not self._thumb_rgba:
            return {}, self._surface_rgba if self.active else None
        units = self.session.problem.model.units
        return ({lay * units + k: rgba for (lay, k), rgba
                 in zip(self._thumb_layout(), self._thumb_rgba)}, self._surface_rgba)

    def _mark_neuron(self, *_) -> None:
        """Ring the thumbnail of the network picture's highlighted neuron
        (``Session.neuron``, set by a click there)."""
        if not self.active or not self.thumbs:
            return
        sel = int(self.session.neuron)
        units = self.session.problem.model.units
        from gdviz.ui.views.network_view import NEURON_COLORS

        color = NEURON_COLORS["dark" if theme.current() == "dark" else "light"]
        for (lay, k), lab in zip(self._thumb_layout(), self.thumbs):
            on = lay * units + k == sel
            style = f"border: 3px solid {color};" if on else ""
            if lab.styleSheet() != style:
                lab.setStyleSheet(style)

    def _set_box(self, box) -> None:
        """Evaluate the surface over ``box`` (x0, x1, y0, y1) from now on."""
        self._box = tuple(float(v) for v in box)
        self._grid = plane_grid(self._box, GRID, GRID)
        self._key = None

    def _follow_view(self) -> None:
        """The surface covers what the plot shows (the aspect lock widens one side)."""
        (x0, x1), (y0, y1) = self.vb.viewRange()
        if x1 > x0 and y1 > y0 and np.isfinite([x0, x1, y0, y1]).all():
            box = (x0, x1, y0, y1)
            if not np.allclose(box, self._box, rtol=0, atol=1e-9 * max(1.0, abs(x1 - x0))):
                self._set_box(box)

    def _surface_rect(self, box=None):
        x0, x1, y0, y1 = self._box if box is None else box
        dx, dy = (x1 - x0) / (GRID - 1), (y1 - y0) / (GRID - 1)
        return (x0 - dx / 2, y0 - dy / 2, x1 - x0 + dx, y1 - y0 + dy)

    def _update_status(self, runs: list[int], acc_t: np.ndarray, acc_v: np.ndarray) -> None:
        s = self.session
        pr = s.problem
        ref = s.reference_run()
        rows = []
        self.last_accuracy = {}
        if runs:
            for k, r in enumerate(runs):
                self.last_accuracy[r] = (float(acc_t[k]), float(acc_v[k]))
                val = (f" · {accuracy_text(float(acc_v[k]))}" if pr.x_val.shape[0] else "")
                shaded = (f" &nbsp;<i>{html.escape(tr('classify_shaded'))}</i>"
                          if r == ref and len(runs) > 1 else "")
                rows.append(f'<span style="color:{s.run_color(r)}">■</span> '
                            f'{html.escape(s.run_label(r))}&nbsp;&nbsp;'
                            f'<b>{accuracy_text(float(acc_t[k]))}</b>{val}{shaded}')
        head = tr("classify_acc_head" if pr.x_val.shape[0] else "classify_acc_head_train")
        shown = rows
        if len(rows) > ACC_ROWS:
            # the first runs, the shaded one among them, then how many more
            keep = list(range(ACC_ROWS - 1))
            if ref in runs and runs.index(ref) not in keep:
                keep[-1] = runs.index(ref)
            shown = [rows[k] for k in keep] + [
                html.escape(tr("classify_more_runs", n=len(rows) - len(keep)))]
        text = html.escape(head) + "<br>" + "<br>".join(shown)
        lines = len(shown)
        tip = html.escape(head) + "<br>" + "<br>".join(rows) if len(shown) < len(rows) else ""
        if tip != self.status.toolTip():  # (every frame while playing: set when it changes)
            self.status.setToolTip(tip)
        self.status_box.set_text(text)
        if lines != self._status_lines:
            self._status_lines = lines
            self._size_thumbs()

    # ------------------------------------------------------------------ neurons
    def _thumb_layout(self) -> list[tuple[int, int]]:
        """(layer, unit) of each thumbnail: a column per hidden layer, at most
        :data:`THUMBS_PER_ROW` neurons of each."""
        m = self.session.problem.model
        return [(lay, k) for lay in range(m.layers) for k in range(min(m.units, THUMBS_PER_ROW))]

    def _build_thumbs(self) -> None:
        m = self.session.problem.model
        cells = self._thumb_layout()
        if self.thumbs and (m.layers, cells) == getattr(self, "_thumb_cells", None):
            # the same grid (a scene of the same network opened): its labels stay, their
            # pictures are drawn anew (~9 ms of an open's turn, 4 x 32 units, made anew)
            self._thumb_rgba = []
            self._label_thumbs()
            self._size_thumbs()
            self._mark_neuron()
            return
        self._thumb_cells = (m.layers, cells)
        for lab in self.thumbs + self._row_labels:
            self.thumb_grid.removeWidget(lab)
            lab.deleteLater()
        self.thumbs, self._row_labels = [], []
        self._thumb_rgba = []
        if not cells:
            self.thumb_title.setVisible(False)
            self.thumb_box.setVisible(False)
            return
        # shown or hidden by _size_thumbs below: shown here first, they laid the plot out at
        # a width it never kept (beside the network picture they hide), and the picture of
        # the new network was drawn twice, once per width
        for lay in range(m.layers):
            lab = QLabel(f"{lay + 1}")
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.thumb_grid.addWidget(lab, 0, lay)
            self._row_labels.append(lab)
        for lay, k in cells:
            lab = QLabel()
            lab.setScaledContents(True)
            self.thumb_grid.addWidget(lab, k + 1, lay)
            self.thumbs.append(lab)
        self._label_thumbs()
        self._size_thumbs()
        self._mark_neuron()

    def _label_thumbs(self) -> None:
        """The thumbnails' title and tips in the UI language."""
        if not self.thumbs:
            return
        m = self.session.problem.model
        for lay, lab in enumerate(self._row_labels):
            lab.setToolTip(tr("classify_layer_row", layer=lay + 1))
        for (lay, k), lab in zip(self._thumb_layout(), self.thumbs):
            lab.setToolTip(tr("classify_neuron", layer=lay + 1, unit=k + 1))
        shown = len(self.thumbs)
        self.thumb_title.setText(tr("classify_neurons_short"))
        self.thumb_title.setToolTip(tr("classify_neurons", n=shown) if shown == m.n_hidden
                                    else tr("classify_neurons_some", n=shown, total=m.n_hidden))

    def set_beside_network(self, flag: bool) -> None:
        """The network picture shows beside the plane: it draws these thumbnails in its
        neurons, so they hide here (they are still made, for it) and the plane takes
        their room."""
        flag = bool(flag)
        if flag != self.beside_network:
            self.beside_network = flag
            self._size_thumbs()

    def _size_thumbs(self) -> None:
        """Thumbnails as big as THUMB_PX (times the plots' scale) where the panel has the
        room, smaller where it has not: their columns take at most THUMB_SHARE of the
        panel's width and fit its height; below THUMB_MIN_PX they hide (the plane keeps
        its room)."""
        if not self.thumbs or not self.active:  # (a lesson on a surface: no model)
            return
        m = self.session.problem.model
        cols, rows = max(m.layers, 1), min(m.units, THUMBS_PER_ROW)
        gap = self.thumb_grid.spacing()
        head = self.thumb_title.sizeHint().height() + self._row_labels[0].sizeHint().height()
        side = THUMB_PX * max(1.0, theme.font_scale())
        status = (self.status.heightForWidth(max(self.width(), 50)) if self.status.text() else 0)
        room = self.height() - max(status, 0) - self.layout().spacing()
        # the column: its title, the layer numbers, then the rows (and the layouts' spacing)
        side = min(side, (room - head - 16) / rows - gap - 1)
        side = min(side, self.width() * THUMB_SHARE / cols - gap)
        side = int(side)
        show = side >= THUMB_MIN_PX and not self.beside_network
        self.thumb_box.setVisible(show)
        self.thumb_title.setVisible(show)
        for lab in self.thumbs:
            lab.setFixedSize(max(side, 1), max(side, 1))

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(ev)
        self._size_thumbs()

    # ------------------------------------------------------------------ style
    def _style_boundaries(self) -> None:
        s = self.session
        ref = s.reference_run()
        scale = max(1.0, theme.font_scale())
        for r, item in enumerate(self.boundaries):
            w = BOUNDARY_WIDTH * scale * (1.0 if r == ref else 0.6)
            style = Qt.PenStyle.SolidLine if r == ref else Qt.PenStyle.DashLine
            item.setPen(pg.mkPen(QColor(s.run_color(r)), width=w, style=style))

    def _restyle(self) -> None:
        """The theme's and the text size's colours and sizes, then a refresh."""
        if getattr(self, "_connections", None) is None:
            return  # (closed meanwhile)
        self._apply_theme()
        if self.active:
            self._style_boundaries()
        self._refresh_later()

    def _apply_theme(self) -> None:
        name = theme.current()
        pal = theme.palette(name)
        cols = CLASS_COLORS.get(name, CLASS_COLORS["light"])
        bg = pal["background"]
        self.plot.setBackground(bg)
        scale = max(1.0, theme.font_scale())
        for axis in ("left", "bottom"):
            ax = self.plot_item.getAxis(axis)
            ax.setPen(pg.mkPen(pal["foreground"], width=1.5))
            ax.setTextPen(pg.mkPen(pal["foreground"]))
            ax.setTickFont(theme.font(theme.BASE_PT * 0.85))
        size = {"font-size": f"{theme.pt(theme.BASE_PT):.0f}pt", "color": pal["foreground"]}
        self.plot_item.setLabel("bottom", tr("classify_axis_x1"), **size)
        self.plot_item.setLabel("left", tr("classify_axis_x2"), **size)
        edge = pal["foreground"]
        for (cls, part), item in self.points.items():
            c = cols["c1"] if cls == 1 else cols["c0"]
            size = POINT_SIZE * scale * (1.0 if cls == 1 else 1.2)
            if part == "train":
                style_points(item, size=size, brush=pg.mkBrush(c), pen=pg.mkPen(edge, width=1.0))
            else:
                style_points(item, size=size, brush=pg.mkBrush(bg),
                             pen=pg.mkPen(c, width=2.5 * scale))
        self.status.setFont(theme.font(theme.BASE_PT))
        self.thumb_title.setFont(theme.font(theme.BASE_PT))
        self._key = self._thumb_key = None
        self._mark_neuron()

    def changeEvent(self, ev) -> None:  # noqa: N802 - Qt name
        t = ev.type()
        if t == QEvent.Type.PaletteChange:
            if getattr(self, "_connections", None) is not None:
                # a refresh of its own: a theme's restyles within the change's budget, the
                # rest in the turns after (as the map's: LandscapeView.changeEvent)
                later(self.session, self._restyle)
        elif t in (QEvent.Type.FontChange, QEvent.Type.ApplicationFontChange):
            if getattr(self, "_connections", None) is not None:
                self._restyle()
        elif t == QEvent.Type.LanguageChange:
            if self.active:
                self.retranslate()
        super().changeEvent(ev)

    def showEvent(self, ev) -> None:  # noqa: N802 - Qt name
        super().showEvent(ev)
        self._key = None
        self._refresh_later()
