"""The curve-fit panel beside the map: the data, the target, and every run's model curve.

A thin view of :class:`~gdviz.core.session.Session` on data problems:

* **fit**: training points (filled circles) and validation points (diamonds, another
  colour), the noise-free target curve (dashed, faint; none for loaded data), each shown
  run's model curve at the displayed step in the run's colour, and with
  ``session.show_units`` each unit's own term cᵢ·h(bᵢ + wᵢ·x) of the reference run plus
  the constant c0 ("blue functions", lesson L7).
* **regression**: the points and each run's line y = b + w·x (lesson L3).
* surfaces: only a centred hint.

The points of the current mini-batch get a ring when the batch is smaller than the
training set (lesson L6). Items are created once and updated with ``setData``, once per
frame on ``stepped``. The box is set from the data when the problem changes, never per
frame: a model curve may leave it. Only the units' curves (which start at 0, away from
the data) may make it grow, in jumps and within bounds. The legend is a strip across the
top and the box leaves room for it, so that it never hides a point.

Lessons L8 and L13 compare settings: when K or the weight decay changes, the fit shown
just before (the reference run's curve at the displayed step) stays as a faint *ghost*
labelled with its setting ("K = 3 (before)"), until the data or the lesson change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QFontMetricsF
from PySide6.QtWidgets import QGraphicsItem

from gdviz.core.i18n import current_language, tr
from gdviz.ui import theme
from gdviz.ui.views.items import (PlayingStrokes, Points, RasterPlotCurve, RasterRunCurve,
                                  Spares, cache_axes, closes_once, connect_all, delete_later,
                                  disconnect_all, plain_plot, set_antialias, set_pen,
                                  style_points)
from gdviz.ui.views.placement import LegendSizes, no_layout, set_legend_columns, sync_legend
from gdviz.ui.views.ranges import finite_box
from gdviz.ui.views.refresh import forget, later, soon

#: x samples of every model curve (a curve on 300 samples per run is cheap per frame)
N_SAMPLES = 300
#: the data's x range is padded by this fraction on each side, y by Y_PAD
X_PAD = 0.04
Y_PAD = 0.10
#: a run's curve width in pixels at font scale 1 (read from the back of a classroom)
CURVE_WIDTH = 4.5
TRAIN_SIZE = 12
VAL_SIZE = 17
#: past this many points the data are drawn without an outline, and smaller: the
#: background-coloured outline that keeps a few overlapping points apart painted the middle
#: of 100,000 points' band in the background colour (the data looked like two bands)
DENSE_POINTS = 5000
DENSE_SIZE = 0.5
RING_SIZE = 26
GRID_ALPHA = 0.16
#: what a refresh redoes (FitView._refresh): the problem (data, box, then the runs), the
#: runs (curves, styles, then a step), the selection (the legend's reference run), a step
#: (the curves), the panel's size (the legend's form, the ghost's label)
STALE_PROBLEM, STALE_RUNS, STALE_SELECTION, STALE_STEP, STALE_SIZE = 16, 8, 4, 2, 1
#: a new theme or text size: the items are restyled in place; what follows the style
#: (the legend's text size, the highlighted neuron's pen) waits for the refresh
STALE_STYLE = 32
LEGEND_VSPACE = 0  # pyqtgraph sums row heights without spacing: negative grows rows
LEGEND_HSPACE = 12
LEGEND_OFFSET = 8
#: the most of the plot's height the legend may take before it is set in smaller text
LEGEND_MAX_SHARE = 0.3
#: how many legends' measured sizes are kept (by their texts and the text size)
LEGEND_SIZES_KEPT = 32
#: below this plot width the legend lists only the data (runs and units are named elsewhere)
COMPACT_WIDTH = 560
#: how far the box may grow to show the units' curves: this many data heights each way
UNIT_GROWTH = 1.5
#: the hint on surfaces, in English (shown in the UI language: key fit_hint)
HINT = tr("fit_hint", "en")

#: validation points: Okabe & Ito's vermillion (a lighter one on the dark background),
#: a diamond where the training points are circles, so colour and shape both tell them apart
VAL_COLORS = {"dark": "#FF6A3D", "light": "#D55E00"}
#: each unit's own curve: blue, as the lecture's "blue functions" (colour, alpha)
UNIT_COLORS = {"dark": ("#56B4E9", 175), "light": ("#0072B2", 150)}


#: the ghost's opacity (0..255; dashed, so that it reads as "not now" beside the runs'
#: solid curves and the blue units) and its label's background opacity
GHOST_ALPHA = 170
GHOST_LABEL_ALPHA = 215


@dataclass(frozen=True, eq=False)
class FitGhost:
    """A fit kept for comparison after K, a network's depth or the weight decay changed.

    ``xs``, ``y``: float64 (N,), the reference run's curve when the setting changed;
    ``setting``: "units", "layers" or "weight_decay", with its old ``value``; ``color``:
    the run's. For "layers", ``losses`` are that fit's (train, validation) losses and
    ``rows`` every depth trained since the data last changed, (depth, train, validation)
    sorted by depth: the lecture's table, built as the class steps through the depths (L19).
    """

    xs: np.ndarray
    y: np.ndarray
    setting: str
    value: float
    color: str

    #: the losses of that fit (train, validation; NaN when unknown), for the label
    losses: tuple[float, float] = (float("nan"), float("nan"))
    rows: tuple[tuple[int, float, float], ...] = ()

    def text(self, lang: str | None = None) -> str:
        """The label, in ``lang`` (default: the UI language)."""
        if self.setting == "layers":
            text = tr("ghost_layers", lang, n=int(self.value))

            def num(v):
                return f"{v:.2g}" if np.isfinite(v) else "–"

            if len(self.rows) > 1:  # a narrow table: the fit panel is a third of the width
                text = tr("ghost_depth_head", lang)
                for n, tl, vl in self.rows:
                    text += "\n" + tr("ghost_depth_row", lang, n=n, train=num(tl), val=num(vl))
            elif np.isfinite(self.losses[0]):
                text += "\n" + tr("ghost_losses", lang, train=num(self.losses[0]),
                                   val=num(self.losses[1]))
            return text
        if self.setting == "units":
            return tr("ghost_units", lang, k=int(self.value))
        return tr("ghost_weight_decay", lang, wd=f"{self.value:.3g}")


def _clip_curve(y: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``y`` (float64 (N,)) as a new array with non-finite values as NaN (a gap) and huge
    ones clipped far outside [lo, hi]: Qt cannot draw 1e300, and that part is off screen."""
    out = np.array(y, dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    span = max(hi - lo, 1e-12)
    with np.errstate(invalid="ignore"):
        np.clip(out, lo - 50 * span, hi + 50 * span, out=out)
    return out


def _text_size(k: float) -> str:
    """The fit legend's label text size at ``k`` times the plots' text ("14pt")."""
    return f"{theme.pt(theme.BASE_PT) * k:.0f}pt"


def _legend_key(entries: list[tuple]) -> tuple:
    """What a legend's measured sizes follow: its texts and the text size."""
    return tuple(text for _, text in entries), theme.font_scale()


class _Sample(pg.ItemSample):
    """A legend sample that ignores clicks: a stray click must not hide the data."""

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - Qt name
        ev.ignore()


class FitView(pg.PlotWidget):
    """The fit panel of a data problem: points, target, run curves, units, mini-batch.

    Public: :attr:`xs` (float64 (N_SAMPLES,), the x samples of every curve),
    :meth:`data_box`, :meth:`reset_range`, :meth:`close`. Items, for tests and export:
    ``train_points``, ``val_points``, ``batch_ring`` (ScatterPlotItem), ``target_curve``,
    ``c0_line`` (PlotDataItem), ``run_curves`` (one per run), ``unit_curves`` (PlotCurveItem,
    one per unit of a units model), ``legend``, ``hint``.
    """

    def __init__(self, session, parent=None):
        super().__init__(parent=parent)
        self.session = session
        self.plot_item: pg.PlotItem = self.getPlotItem()
        self.vb: pg.ViewBox = self.plot_item.getViewBox()
        self.plot_item.hideButtons()
        cache_axes(self.plot_item)
        plain_plot(self.plot_item)
        self.plot_item.setMenuEnabled(False)
        self.vb.setMouseEnabled(x=False, y=False)
        self.vb.disableAutoRange()
        for name in ("left", "bottom"):  # major grid lines only: minor ones read as noise
            self.plot_item.getAxis(name).setStyle(maxTickLevel=0)
        self.xs = np.linspace(-1.0, 1.0, N_SAMPLES)
        #: the data's box (padded) x0, x1, y0, y1; _box may be taller to show the units
        self._data_box = (-1.0, 1.0, -1.0, 1.0)
        self._box = self._data_box
        self._units_on = False
        self._range_key = None
        self._neuron_pen_key = None

        # --- static items (created once) --------------------------------------------------
        self.target_curve = pg.PlotDataItem(connect="finite")
        self.target_curve.setZValue(2)
        self.c0_line = pg.PlotDataItem(connect="finite")
        self.c0_line.setZValue(3)
        #: a network's highlighted hidden neuron's contribution (Session.neuron)
        self.neuron_curve = pg.PlotDataItem(connect="finite")
        self.neuron_curve.setZValue(12)
        self.neuron_curve.setVisible(False)
        self.plot_item.addItem(self.neuron_curve)
        # the points lie above the curves: the residuals stay visible as the fit gets close
        self._n_points = 0  # the data's, drawn (see _style_data_points)
        self.train_points = Points(symbol="o", pxMode=True)
        self.train_points.setZValue(20)
        self.val_points = Points(symbol="d", pxMode=True)
        self.val_points.setZValue(21)
        self.batch_ring = Points(symbol="o", pxMode=True)
        self.batch_ring.setZValue(22)
        # the data stand still while the curves over them change every step: blit them
        # from a cached pixmap (100,000 points took 18 ms of every frame to draw again)
        for item in (self.train_points, self.val_points):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        for item in (self.target_curve, self.c0_line, self.train_points, self.val_points,
                     self.batch_ring):
            self.plot_item.addItem(item)
        self._init_ghost()
        self.hint = pg.TextItem(tr("fit_hint"), anchor=(0.5, 0.5))
        self.hint.setZValue(50)
        self.plot_item.addItem(self.hint)
        # the legend's ring (the real one is a point's highlight, too big for a legend row)
        self._ring_sample = Points(symbol="o", pxMode=True)
        self.legend = self._new_legend(2)
        self._legend_entries: list[tuple] = []
        #: each legend's sizes by form (text size, columns), kept by its texts and the text
        #: size; the form shown, and how many legends were made (see _build_legend)
        self._legend_sizes: dict = {}
        self._label_sizes = LegendSizes()  # (each label's text measured once per text size)
        self._legend_form = None
        self._legend_style = None  # (theme, plot text scale) the legend was made in
        self.legend_builds = 0
        self.legend_labels_made = 0  # (labels made for the legend, for tests)
        #: the entries and the box size the legend was last built for
        self._legend_built = None
        self._legend_key = None

        # --- per-run and per-unit items (rebuilt when their number changes) ------------------
        self.run_curves: list[pg.PlotDataItem] = []
        self._spares = Spares(self.plot_item.removeItem, self)  # run curves of runs gone
        self.unit_curves: list[pg.PlotCurveItem] = []
        self._unit_spares = Spares(self.plot_item.removeItem, self)  # unit curves not shown
        self._diverged: set[int] = set()
        #: many runs playing in the window: the run curves stroked aliased
        self.strokes = PlayingStrokes(session)

        # --- connections: all in one block ------------------------------------------------
        s = session
        #: what changed since the last refresh (STALE_* bits; see _refresh)
        self._stale = 0
        self._connections = connect_all([
            (s.problem_changed, self._on_problem_changed_later),
            (s.runs_changed, self._on_runs_changed_later),
            (s.stepped, self._on_stepped_later),
            (s.settings_changed, self._on_stepped_later),
            (s.selection_changed, self._on_selection_changed_later),
            (s.playing_changed, self._on_playing_changed),
        ])
        self.vb.sigResized.connect(self._on_resized_later)

        self._apply_theme()
        self._apply_fonts()
        self._on_problem_changed()
        self.retranslate()
        self._ready = True

    def retranslate(self) -> None:
        """The hint, the legend and the title in the UI language."""
        self.hint.setText(tr("fit_hint"))
        self._show_ghost()
        if self.showing_data:
            self._legend_key = None  # rebuilt with the new texts
            self._refresh_legend()
            self._apply_title()

    # ------------------------------------------------------------------ public
    @property
    def showing_data(self) -> bool:
        """True on data problems (regression, fit); False shows only the hint (a
        classification shows the plane view instead)."""
        return bool(self.session.is_data) and self.session.kind != "classify"

    def data_box(self) -> tuple[float, float, float, float]:
        """The box around the data and target (x0, x1, y0, y1), padded."""
        return self._data_box

    def reset_range(self) -> None:
        """Show the box (the data's, grown for the units when they are shown), with room
        at the top for the legend. Does nothing when the box has not changed."""
        x0, x1, y0, y1 = self._box
        H = float(self.vb.height())
        h = float(self.legend.height()) if self.legend.isVisible() and self.legend.items else 0.0
        if H > 60 and h > 0:
            frac = min((h + 10.0) / H, 0.5)
            y1 = y1 + (y1 - y0) * frac / (1.0 - frac)
        key = (x0, x1, y0, y1)
        if key != self._range_key:
            self._range_key = key
            x0, x1, y0, y1 = finite_box((x0, x1, y0, y1))
            self.vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    # ------------------------------------------------------------------ session -> view
    def _data_items(self) -> list:
        return [self.target_curve, self.c0_line, self.train_points, self.val_points,
                self.batch_ring, self.neuron_curve, *self.run_curves, *self.unit_curves]

    def _on_problem_changed(self) -> None:
        s = self.session
        self._ghost_on_problem_changed()
        data_on = self.showing_data
        for name in ("left", "bottom"):
            self.plot_item.showAxis(name, data_on)
        self.plot_item.showGrid(x=data_on, y=data_on, alpha=GRID_ALPHA)
        self.hint.setVisible(not data_on)
        if not data_on:
            for item in self._data_items():
                item.setVisible(False)
            self.plot_item.setTitle(None)
            self._data_box = self._box = (0.0, 1.0, 0.0, 1.0)
            self.hint.setPos(0.5, 0.5)
            self._legend_entries = []
            self._legend_key = None
            self._build_legend()
            return
        problem = s.problem
        if s.kind == "fit":
            ds = problem.dataset
            x_tr, y_tr, x_va, y_va = ds.x_train, ds.y_train, ds.x_val, ds.y_val
        else:
            x_tr, y_tr = problem.x, problem.y
            x_va = y_va = np.zeros(0)
        x_all = np.concatenate([x_tr, x_va])
        y_all = np.concatenate([y_tr, y_va])
        x0, x1 = float(x_all.min()), float(x_all.max())
        if s.kind == "regression":  # b is the line's height at x = 0: keep x = 0 in view
            x0, x1 = min(x0, 0.0), max(x1, 0.0)
        elif s.data.points_data is None:  # generated: the whole x range of the target
            tx0, tx1 = self._target_x_range()
            x0, x1 = min(x0, tx0), max(x1, tx1)
        if not x1 > x0:
            x0, x1 = x0 - 1.0, x1 + 1.0
        dx = X_PAD * (x1 - x0)
        self.xs = np.linspace(x0 - dx, x1 + dx, N_SAMPLES)
        target = s.data.target_curve(self.xs) if s.kind == "fit" else None
        ys = [y_all]
        if target is not None and np.isfinite(target).any():
            ys.append(target[np.isfinite(target)])
            self.target_curve.setData(self.xs, _clip_curve(target, y_all.min(), y_all.max()))
            self.target_curve.setVisible(True)
        else:
            self.target_curve.setData([], [])
            self.target_curve.setVisible(False)
        yv = np.concatenate(ys)
        y0, y1 = float(yv.min()), float(yv.max())
        if not y1 > y0:
            y0, y1 = y0 - 1.0, y1 + 1.0
        dy = Y_PAD * (y1 - y0)
        self._data_box = self._box = (x0 - dx, x1 + dx, y0 - dy, y1 + dy)
        self._units_on = False
        self._n_points = len(x_tr) + len(x_va)
        self._style_data_points()
        self.train_points.setData(x=x_tr, y=y_tr)
        self.val_points.setData(x=x_va, y=y_va)
        self.train_points.setVisible(True)
        self.val_points.setVisible(len(x_va) > 0)
        self._sync_units()
        self._apply_title()
        # the box at its size with the axes and the title (just shown when a lesson without
        # them came before: laid out only at the lesson's last layout pass, the box shrank
        # after its legend and curves were made, and they were made again: L8 after L21)
        layout = self.plot_item.layout
        if not layout.isActivated():
            layout.activate()
        self._legend_key = None
        self._on_runs_changed()

    def _target_x_range(self) -> tuple[float, float]:
        from gdviz.core.data import TARGETS

        data = self.session.data
        target = None if data.target_expr.strip() else TARGETS.get(data.target)
        return tuple(map(float, target.x_range)) if target is not None else (-2.0, 2.0)

    def _new_curves(self, n: int, z: float, plain: bool = False) -> list:
        """``n`` new hidden curves at depth ``z``; ``plain``: lines alone (a units model's
        faint curves: a PlotCurveItem is made in a third of a PlotDataItem's time, which
        also makes a scatter for symbols; L9's first load made 30, ~45 ms), rasterised as
        the runs' lines are (Qt stroked L8's three wide faint units in ~6 ms at 261 % text)."""
        out = []
        for _ in range(n):
            c = RasterPlotCurve(connect="finite") if plain else RasterRunCurve(connect="finite")
            c.setZValue(z)
            c.setVisible(False)
            self.plot_item.addItem(c)
            out.append(c)
        return out

    def _resize(self, curves: list, n: int, z: float, spares: Spares, plain: bool = False) -> list:
        """``curves`` made ``n`` long: the first ones kept, the extra hidden in ``spares``,
        hidden spares or new hidden curves at depth ``z`` appended (a run added adds one
        curve, not all of them; a lesson replacing 20 runs removes none)."""
        while len(curves) > n:
            spares.put(curves.pop())
        while len(curves) < n and len(spares):
            curves.append(*spares.take())
        if len(curves) < n:
            curves += self._new_curves(n - len(curves), z, plain)
        return curves

    def _sync_units(self) -> None:
        """One faint curve per unit of a units model (kept, added or hidden to match K)."""
        s = self.session
        K = int(s.problem.model.K) if s.kind == "fit" else 0
        if len(self.unit_curves) != K:
            self.unit_curves = self._resize(self.unit_curves, K, 4, self._unit_spares, plain=True)
            self._style_units()

    def _on_runs_changed(self) -> None:
        s = self.session
        self._ghost_on_runs_changed()
        n = s.n_runs
        if not self.showing_data:
            # (a surface draws no run here: the curves come with a data problem, whose
            # change calls this again; a start added on the map with 24 runs made 24
            # curves nobody sees, ~25 ms of the click)
            n = min(n, len(self.run_curves))
        if len(self.run_curves) != n:
            self.run_curves = self._resize(self.run_curves, n, 10, self._spares)
        self._diverged = {r for r, _ in s.diverged()}
        self._style_runs()
        self._legend_key = None
        self._on_stepped()

    def _on_settings_changed(self) -> None:
        self._on_stepped()  # show_units, batch size

    def _on_selection_changed(self, _r: int = -1) -> None:
        self._legend_key = None  # "units of <run>" names the reference run
        self._on_stepped()

    # one refresh per change (gdviz.ui.views.refresh): a lesson's restore sends the
    # problem, the runs, the settings, the selection and a step, and the panel resizes
    # several times while the window lays out; each redrew the curves and rebuilt the
    # legend (7 legends of every entry, ~30 ms, for one lesson)
    def _mark_stale(self, what: int) -> None:
        self._stale |= what
        later(self.session, self._refresh)

    def _on_problem_changed_later(self, *_) -> None:
        self._mark_stale(STALE_PROBLEM)

    def _on_runs_changed_later(self, *_) -> None:
        self._mark_stale(STALE_RUNS)

    def _on_selection_changed_later(self, *_) -> None:
        self._mark_stale(STALE_SELECTION)

    def _on_stepped_later(self, *_) -> None:
        self._mark_stale(STALE_STEP)

    def _refresh(self) -> None:
        """What changed since the last refresh, once: the problem's refresh redraws the
        runs, the runs' redraws the curves."""
        stale, self._stale = self._stale, 0
        if not getattr(self, "_ready", False):
            return
        if stale & STALE_PROBLEM:
            self._on_problem_changed()
        elif stale & STALE_RUNS:
            self._on_runs_changed()
        elif stale & (STALE_SELECTION | STALE_STEP):
            if stale & STALE_SELECTION:
                self._legend_key = None  # "units of <run>" names the reference run
            self._on_stepped()
        elif stale & STALE_STYLE and self.showing_data:
            # the curves keep their data (a new theme or text size changes no prediction:
            # each run's model was evaluated and fed again, 30 runs ~15 ms)
            self._style_neuron()
            self._refresh_legend()
        if stale & STALE_SIZE:
            self._on_resized()

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(ev)
        if getattr(self, "_ready", False) and self.showing_data:
            self._apply_title()  # the longest title that fits

    def _on_playing_changed(self, *_) -> None:
        """Paused: the run curves antialiased again (:class:`PlayingStrokes`)."""
        smooth = not self.strokes.aliased
        for c in self.run_curves:
            set_antialias(c, smooth)

    def _on_resized_later(self, *_) -> None:
        self._stale |= STALE_SIZE
        soon(self.session, self._refresh)  # (a resize's: in the next turn, in the app)

    def _on_resized(self, *_) -> None:
        if getattr(self, "_ready", False) and self.showing_data:
            built = self._legend_built
            self._refresh_legend()  # compact on a narrow panel
            if self._legend_built is built:  # (not built anew, at this size, just now)
                self._build_legend()  # as many columns as fit, and the room above the data
            self._place_ghost_label()

    def _on_stepped(self) -> None:
        s = self.session
        if not self.showing_data or len(self.run_curves) != s.n_runs:
            return
        model = s.problem.model
        xs = self.xs
        _, _, y0, y1 = self._data_box
        P = s.positions()
        with np.errstate(all="ignore"):
            Y = model.predict(P, xs) if np.isfinite(P).all() else self._predict_rows(model, P, xs)
        diverged = {r for r, _ in s.diverged()}
        if diverged != self._diverged:
            self._diverged = diverged
            self._style_runs()
        smooth = not self.strokes.aliased
        for r, c in enumerate(self.run_curves):
            set_antialias(c, smooth)
            y = _clip_curve(Y[r], y0, y1)
            c.setData(xs, y)
            c.setVisible(s.run_enabled(r) and bool(np.isfinite(y).any()))
        self._update_units(model, P)
        self._update_neuron(model, P)
        self._update_batch()
        self._remember_fit(Y)
        self._refresh_legend()

    @staticmethod
    def _predict_rows(model, P: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """model.predict row by row: float64 (n_runs, N), NaN rows where P is not finite."""
        out = np.full((P.shape[0], xs.shape[0]), np.nan)
        for r in range(P.shape[0]):
            if np.isfinite(P[r]).all():
                out[r] = model.predict(P[r], xs)
        return out

    def _units_shown(self) -> bool:
        s = self.session
        return bool(s.show_units) and s.kind == "fit" and s.problem.model.kind in ("units",
                                                                                  "network")

    def _update_neuron(self, model, P: np.ndarray) -> None:
        """The highlighted neuron's contribution to the reference run's output, drawn
        thick in the network picture's highlight colour (a click on one of its neurons)."""
        s = self.session
        k = int(getattr(s, "neuron", -1))
        p = P[s.reference_run()] if k >= 0 and model.kind == "network" else None
        if p is None or not np.isfinite(p).all() or k >= model.K * model.layers:
            self.neuron_curve.setVisible(False)
            return
        _, _, y0, y1 = self._data_box
        with np.errstate(all="ignore"):
            y = model.neuron_contribution(p, k, self.xs)
        self._style_neuron()
        self.neuron_curve.setData(self.xs, _clip_curve(y, y0, y1))
        self.neuron_curve.setVisible(True)

    def _style_neuron(self) -> None:
        """The highlighted neuron's pen, in the theme's highlight colour, at the plots' scale
        (set when either changed: a pen set feeds the curve its data again)."""
        from gdviz.ui.views.network_view import NEURON_COLORS

        color = NEURON_COLORS["dark" if theme.current() == "dark" else "light"]
        width = CURVE_WIDTH * max(1.0, theme.font_scale())
        if self.neuron_curve.opts.get("pen") is None or self._neuron_pen_key != (color, width):
            self._neuron_pen_key = (color, width)
            self.neuron_curve.setPen(pg.mkPen(theme.qcolor(color, 235), width=width))

    def _update_units(self, model, P: np.ndarray) -> None:
        show = self._units_shown()
        p = P[self.session.reference_run()] if show else None
        if show and not np.isfinite(p).all():
            show = False
        if show != self._units_on:
            # the box grows to show the units, and goes back to the data's when they go
            self._units_on = show
            if not show and self._box != self._data_box:
                self._box = self._data_box
                self.reset_range()
        if not show:
            for c in self.unit_curves:
                c.setVisible(False)
            self.c0_line.setVisible(False)
            return
        _, _, y0, y1 = self._data_box
        with np.errstate(all="ignore"):
            C = model.unit_contributions(p, self.xs)
        for k, c in enumerate(self.unit_curves):
            c.setData(self.xs, _clip_curve(C[k], y0, y1))
            c.setVisible(True)
        c0 = float(p[-1] if model.kind == "network" else p[0])
        self.c0_line.setData(self.xs[[0, -1]], np.array([c0, c0]))
        self.c0_line.setVisible(True)
        finite = C[np.isfinite(C)]
        if finite.size:
            self._grow_box(min(float(finite.min()), c0), max(float(finite.max()), c0))

    def _grow_box(self, lo: float, hi: float) -> None:
        """Let the box grow to [lo, hi] (never shrink; in jumps; at most UNIT_GROWTH data
        heights beyond the data), so that the units' curves stay in view."""
        x0, x1, y0, y1 = self._box
        d0, d1 = self._data_box[2:]
        reach = UNIT_GROWTH * (d1 - d0)
        lo, hi = max(lo, d0 - reach), min(hi, d1 + reach)
        if lo >= y0 and hi <= y1:
            return
        pad = Y_PAD * (max(hi, y1) - min(lo, y0))
        new0 = y0 if lo >= y0 else max(lo - pad, d0 - reach)
        new1 = y1 if hi <= y1 else min(hi + pad, d1 + reach)
        if (new0, new1) != (y0, y1):
            self._box = (x0, x1, new0, new1)
            self.reset_range()

    def _update_batch(self) -> None:
        s = self.session
        idx = s.current_batch() if s.batch_size < s.n_train else None
        if idx is None or len(idx) == 0:
            self.batch_ring.setData(x=[], y=[])
            self.batch_ring.setVisible(False)
            return
        x, y = s.problem.x, s.problem.y  # the training set
        self.batch_ring.setData(x=x[idx], y=y[idx])
        self.batch_ring.setVisible(True)

    # ------------------------------------------------------------------ ghost (L8, L13)
    def _init_ghost(self) -> None:
        #: the fit before the last change of K or weight decay (None: no ghost)
        self.ghost: FitGhost | None = None
        self.ghost_curve = pg.PlotDataItem(connect="finite")
        self.ghost_curve.setZValue(6)  # over the units, under the runs and the points
        self.ghost_curve.setVisible(False)
        self.plot_item.addItem(self.ghost_curve)
        self.ghost_label = pg.TextItem(anchor=(0.5, 1.0))
        self.ghost_label.setZValue(30)  # over the points: a label under them is unreadable
        self.ghost_label.setVisible(False)
        self.plot_item.addItem(self.ghost_label)
        self.vb.sigRangeChanged.connect(self._place_ghost_label)
        # what the reference run showed at the last frame: (xs, y, K, weight decay, data,
        # t, colour); a change of K or weight decay turns it into the ghost
        self._shown = None
        # a new ghost replaces the old one only once the run has moved since (dragging a
        # slider through several values keeps the ghost of the result before the drag)
        self._moved_since_ghost = True
        self._ghost_t = 0

    def set_ghost(self, ghost: FitGhost | None) -> None:
        """Show ``ghost`` (None: none), e.g. the window's in an export of the same fit."""
        self.ghost = ghost
        self._moved_since_ghost = False
        self._ghost_t = self.session.t
        self._show_ghost()

    def clear_ghost(self) -> None:
        """Drop the ghost (a lesson or scene was opened), and the fit remembered from the
        frame before: the lesson before is no setting to compare with (L9 opened after
        L13, the same fit with another weight decay, showed L13's fit as its ghost)."""
        self._shown = None
        self.set_ghost(None)

    def _setting_now(self) -> tuple[int | None, float]:
        """(K of a units model or None, the reference run's weight decay)."""
        s = self.session
        model = s.problem.model
        k = int(model.K) if model.kind in ("units", "network") else None
        wd = float(s.effective_config(s.spec_index(s.reference_run())).weight_decay)
        return k, wd

    def _remember_fit(self, Y: np.ndarray) -> None:
        """Keep the reference run's curve of this frame (``Y``: float64 (n_runs, N))."""
        s = self.session
        if s.kind != "fit":
            self._shown = None
            return
        ref = s.reference_run()
        k, wd = self._setting_now()
        self._shown = (self.xs, np.array(Y[ref], dtype=np.float64), k, wd, s.data, s.t,
                       s.run_color(ref), s.problem, np.array(s.positions()[ref]))
        if s.t != self._ghost_t:
            self._moved_since_ghost = True

    def _take_ghost(self, setting: str, value: float) -> None:
        """The last frame's fit becomes the ghost, if there was a result (t > 0) and the
        run moved since the last ghost was taken."""
        xs, y, *_, t, color, problem, p = self._shown
        if t > 0 and np.isfinite(y).any() and (self.ghost is None or self._moved_since_ghost):
            losses = (float("nan"), float("nan"))
            rows = ()
            if setting == "layers":  # L19: the table of the lecture, one depth at a time
                with np.errstate(all="ignore"):
                    losses = (float(problem.loss(p[None])[0]), float(problem.val_loss(p[None])[0]))
                old = self.ghost.rows if self.ghost is not None and self.ghost.setting == "layers" else ()
                keep = {r[0]: r for r in old}
                keep[int(value)] = (int(value), *losses)
                rows = tuple(keep[k] for k in sorted(keep))
            self.ghost = FitGhost(xs, y, setting, value, color, losses, rows)
        self._moved_since_ghost = False
        self._ghost_t = self.session.t

    def _ghost_on_problem_changed(self) -> None:
        """K changed (same data otherwise): ghost of the old K; other data: no ghost."""
        s, shown = self.session, self._shown
        if shown is None or s.kind != "fit":
            if self.ghost is not None:
                self.set_ghost(None)
            return
        old = shown[4]
        if s.data == old:
            return
        if (old.units != s.data.units and shown[2] is not None
                and dataclasses.replace(old, units=s.data.units) == s.data):
            self._take_ghost("units", old.units)
        elif (old.model == "network" and old.layers != s.data.layers
              and dataclasses.replace(old, layers=s.data.layers) == s.data):
            self._take_ghost("layers", old.layers)
        else:
            self.ghost = None
        self._shown = None
        self._show_ghost()

    def _ghost_on_runs_changed(self) -> None:
        """The reference run's weight decay changed: ghost of the old value."""
        s, shown = self.session, self._shown
        if shown is None or s.kind != "fit" or s.data != shown[4]:
            return
        _, wd = self._setting_now()
        if wd != shown[3]:
            self._take_ghost("weight_decay", shown[3])
            self._shown = None
            self._show_ghost()

    def _show_ghost(self) -> None:
        g = self.ghost
        on = g is not None and self.session.kind == "fit"
        self.ghost_curve.setVisible(on)
        self.ghost_label.setVisible(on)
        if not on:
            self.ghost_curve.setData([], [])
            return
        _, _, y0, y1 = self._data_box
        self.ghost_curve.setData(g.xs, _clip_curve(g.y, y0, y1))
        self.ghost_label.setText(g.text())
        self._style_ghost()
        self._place_ghost_label()

    def _style_ghost(self) -> None:
        g = self.ghost
        if g is None:
            return
        pal = theme.palette(theme.current())
        width = CURVE_WIDTH * max(1.0, theme.font_scale())
        self.ghost_curve.setPen(pg.mkPen(theme.qcolor(g.color, GHOST_ALPHA), width=0.8 * width,
                                         style=Qt.PenStyle.DashLine,
                                         capStyle=Qt.PenCapStyle.FlatCap))
        self.ghost_label.setColor(pal["foreground"])
        self.ghost_label.fill = pg.mkBrush(theme.qcolor(pal["background"], GHOST_LABEL_ALPHA))
        self.ghost_label.border = pg.mkPen(theme.qcolor(g.color, 230), width=2)
        self.ghost_label.setFont(theme.font(theme.BASE_PT))
        self.ghost_label.update()

    def _place_ghost_label(self, *_) -> None:
        """Put the label on the ghost curve where it covers the fewest points (and stays
        inside the data's box, under the legend's room)."""
        g = self.ghost
        if g is None or not self.ghost_label.isVisible():
            return
        x0, x1, y0, y1 = self._data_box
        px = self.vb.viewPixelSize()
        br = self.ghost_label.textItem.boundingRect()
        if not (px[0] > 0 and px[1] > 0):
            return
        w, h = (br.width() + 8) * px[0], (br.height() + 8) * px[1]
        pts = [it.getData() for it in (self.train_points, self.val_points)]
        X = np.concatenate([np.asarray(p[0] if p[0] is not None else [], float) for p in pts])
        Yp = np.concatenate([np.asarray(p[1] if p[1] is not None else [], float) for p in pts])
        # centred on x: the whole label stays inside the box (a narrow panel: the middle)
        lo, hi = x0 + w / 2, x1 - w / 2
        if hi < lo:
            lo = hi = 0.5 * (x0 + x1)
        best = None
        for x in np.linspace(lo, hi, 13):
            q = (x - x0) / (x1 - x0)
            y = float(np.interp(x, g.xs, g.y))
            if not np.isfinite(y):
                continue
            for above in (True, False):
                lo, hi = (y, y + h) if above else (y - h, y)
                if lo < y0 or hi > y1:
                    continue
                covered = int(np.count_nonzero((abs(X - x) <= w / 2) & (Yp >= lo) & (Yp <= hi)))
                score = (covered, abs(q - 0.7))
                if best is None or score < best[0]:
                    best = (score, x, y, above)
        if best is None:
            best = (None, x0 + 0.7 * (x1 - x0), 0.5 * (y0 + y1), True)
        _, x, y, above = best
        self.ghost_label.setAnchor((0.5, 1.0) if above else (0.5, 0.0))
        self.ghost_label.setPos(x, y)

    # ------------------------------------------------------------------ legend & title
    def _refresh_legend(self) -> None:
        """Rebuild the legend when what it lists changed (not every frame)."""
        s = self.session
        fit = s.kind == "fit"
        n_val = len(s.problem.x_val) if fit else 0
        target = self.target_curve.isVisible()
        batch = self.batch_ring.isVisible()
        units = self._units_shown() and self._units_on
        ref = s.reference_run()
        runs = tuple((i, s.spec_label(i), all(r in self._diverged for r in s.runs_of_spec(i)))
                     for i in range(s.n_specs) if s.specs[i].enabled)
        # a narrow panel keeps the legend to the data (the map's legend names the runs,
        # the caption explains the units), so that it never covers the points
        compact = 0 < float(self.vb.width()) < COMPACT_WIDTH
        neuron = int(getattr(s, "neuron", -1)) if self.neuron_curve.isVisible() else -1
        # (not the theme: a new theme re-colours the legend's labels in place,
        # :meth:`_apply_theme`; rebuilt, every form of it was measured again)
        key = (s.kind, s.n_train, n_val, target, batch, s.batch_size, units, ref, runs,
               theme.font_scale(), compact, current_language(), neuron)
        if key == self._legend_key:
            return
        self._legend_key = key
        if fit:
            first = tr("legend_training" if compact else "legend_training_points", n=s.n_train)
        else:
            first = tr("legend_data_points", n=s.n_train)
        entries = [(self.train_points, first)]
        if n_val:
            entries.append((self.val_points, tr("legend_validation" if compact
                                                else "legend_validation_points", n=n_val)))
        if target:
            entries.append((self.target_curve, tr("target") if compact
                            else tr("legend_target_no_noise")))
        if batch:
            entries.append((self._ring_sample, tr("legend_mini_batch", b=s.batch_size)))
        if compact:
            self._legend_entries = entries
            self._build_legend()
            return
        for i, label, dead in runs:
            entries.append((self.run_curves[s.runs_of_spec(i)[0]],
                            label + ("  " + tr("legend_diverged") if dead else "")))
        if units and self.unit_curves:
            text = (tr("legend_each_unit") if s.n_runs == 1
                    else tr("legend_units_of", run=s.run_label(ref)))
            entries.append((self.unit_curves[0], text))
            network = s.problem.model.kind == "network"
            entries.append((self.c0_line, tr("legend_out_bias" if network else "legend_c0")))
        if neuron >= 0:
            layer, o = divmod(neuron, s.problem.model.K)
            entries.append((self.neuron_curve, tr("legend_neuron", layer=layer + 1, k=o + 1)))
        self._legend_entries = entries
        self._build_legend()

    def _new_legend(self, columns: int, k: float = 1.0) -> pg.LegendItem:
        # placed by hand, not anchored: an anchor ties the item to the box's signals, and
        # the legend is replaced whenever its entries change (a grid layout never shrinks)
        legend = pg.LegendItem(verSpacing=LEGEND_VSPACE, horSpacing=LEGEND_HSPACE,
                               colCount=columns, sampleType=_Sample, labelTextSize=_text_size(k))
        legend.setParentItem(self.vb)
        legend.setPos(LEGEND_OFFSET, LEGEND_OFFSET)
        legend.setZValue(100)
        return legend

    def _build_legend(self) -> None:
        """A fresh legend in three columns, or two, or one: the most that fit across the
        box (fewer rows leave more room for the data; in smaller text when not even one
        column fits); then the box leaves room for it.
        A legend that would take more than ``LEGEND_MAX_SHARE`` of the plot's height (big
        text on a small panel: the band above the data is capped, and it covered the top
        left points) is tried again in smaller text.

        The size of each form (text size, columns) is measured once per set of entries:
        the panel resizes several times while a lesson opens, and a resize that keeps
        the form keeps the legend (each form tried was a new legend of every entry)."""
        height = float(self.vb.height())
        width = float(self.vb.width())
        entries = self._legend_entries
        built = self._legend_built
        if built is not None and built[0] is entries and built[1:] == (width, height):
            return  # (a resize to the same size: these entries were just built for it)
        self._legend_built = (entries, width, height)
        # the forms' sizes follow the texts (and the text size), not the items: a new
        # problem with the same legend (K, the points, the model), or a lesson met again,
        # measures nothing again (each form measured is a legend of every entry: L9's
        # load measured three, ~20 ms, each time it was opened)
        texts = _legend_key(entries)
        sizes = self._legend_sizes.get(texts)
        if sizes is None:
            if len(self._legend_sizes) >= LEGEND_SIZES_KEPT:
                del self._legend_sizes[next(iter(self._legend_sizes))]
            sizes = self._legend_sizes[texts] = {}
        def fits(form) -> bool:
            if form not in sizes:
                if self.legend.items and entries:
                    # summed from its labels' sizes, as Qt lays the grid out (a legend made
                    # in each form to measure it: 35 labels made, ~25 ms of L9's first load
                    # at a text size)
                    size = self._label_sizes.form(self.legend, form[1], _text_size(form[0]),
                                                  texts=[text for _, text in entries])
                    sizes[form] = (size.width(), size.height())
                else:  # (no legend to take the samples and font from yet)
                    self._make_legend(form)
                    sizes[form] = (self.legend.width(), self.legend.height())
            return width <= 0 or sizes[form][0] <= width - 2 * LEGEND_OFFSET

        form = None
        for k in (1.0, 0.8, 0.65):
            # the most columns that fit across. After a text size whose one column was too
            # wide, one column first: if it is too wide again, more columns are wider still
            # and are not measured (at 300 % on L9 all nine forms were measured, a new
            # legend each, ~45 ms of a lesson load)
            narrow = form is not None and form[1] == 1 and width > 0
            if narrow and not fits((k, 1)):
                form = (k, 1)
            else:
                form = next(((k, c) for c in (3, 2, 1) if fits((k, c))), (k, 1))
            # a smaller text when even one column is wider than the panel (a narrow panel
            # with room in height kept the big text sticking out of its box)
            wide = width > 0 and sizes[form][0] > width - 2 * LEGEND_OFFSET
            if not wide and (height <= 0 or sizes[form][1] <= LEGEND_MAX_SHARE * height):
                break
        if self._legend_form != (entries, form):
            self._make_legend(form)
        self.legend.setVisible(bool(entries))
        self._range_key = None
        self.reset_range()

    def legend_form_sizes(self) -> dict:
        """The present legend's forms' measured sizes ((text size, columns) -> (w, h))."""
        return self._legend_sizes.get(_legend_key(self._legend_entries), {})

    def _make_legend(self, form: tuple[float, int]) -> None:
        """The legend of every entry in ``form`` (text size, columns): the present one
        when it has that text size in today's theme, its changed entries written (a run added
        makes one label, not one per entry: 40 runs took ~35 ms), else a new one."""
        k, columns = form
        old = self.legend
        style = (theme.current(), theme.font_scale())
        if (self._legend_form is not None and self._legend_form[1] == form
                and self._legend_style == style and old.scene() is not None):
            # the same text size and columns: the labels are kept. (Another number of
            # columns makes a new legend: laying a fit legend out on a new grid and then
            # retiring it left a freed item in a scene, a segfault on the next paint.)
            self.legend_labels_made += sync_legend(old, self._legend_entries)
            set_legend_columns(old, columns)
            self._legend_form = (self._legend_entries, form)
            return
        if old.scene() is not None:
            old.scene().removeItem(old)
        self._retire(old)
        self.legend = legend = self._new_legend(columns, k)
        # in the theme's colours before the labels are made in them (written again after,
        # each label was made twice); laid out once, after the last entry (pyqtgraph lays
        # the legend out after each one: quadratic)
        theme.style_legend(legend, 225)
        legend.updateSize = no_layout
        try:
            for item, text in self._legend_entries:
                legend.addItem(item, text)
        finally:
            del legend.updateSize
        legend.updateSize()
        self.legend_labels_made += len(self._legend_entries)
        self._legend_form = (self._legend_entries, form)
        self._legend_style = style
        self.legend_builds += 1

    def _retire(self, legend: pg.LegendItem) -> None:
        # an old legend is freed on the next turn of the event loop, not now: it takes a
        # hidden top-level QWidget with it, and the caller may be walking the top-level
        # widgets (the window sends LanguageChange to each, and we rebuild on it); by Qt,
        # not by Python's collector (see delete_later)
        delete_later(legend)

    def legend_texts(self) -> list[str]:
        """The legend's entries, top to bottom (for tests)."""
        return [label.text for _, label in self.legend.items]

    def _title_variants(self) -> list[str]:
        """The plot's title, longest first: the formula, then shorter forms for narrow
        panels and big fonts."""
        s = self.session
        if s.kind == "fit":
            from gdviz.core.models import MODELS

            model = s.problem.model
            spec = MODELS[model.name]
            label = tr(f"model_{model.name}", default=spec.label)
            k = f"K = {model.K}, " if model.kind == "units" else ""
            if model.kind == "network":
                act = tr("act_" + model.activation.replace("-", "_"))
                k = tr("net_shape", layers=model.layers, k=model.K, act=act) + ", "
            params = tr("n_parameters", n=model.n_params)
            loaded = s.data.points_data is not None
            out = [f"{spec.formula}  ({k}{params})", f"{label}  ({k}{params})",
                   f"{label}, {k.rstrip(', ') or params}"]
            if k:
                out.append(k.rstrip(", "))  # the shape alone ("1 × 8 ReLU"): 200 % text
        else:
            loaded = s.data.points is not None
            out = ["y = b + w·x"]
        source = getattr(s.data, "source", "")
        if loaded and source:
            data = tr("data_source", source=source)
            out = [f"{t}  ·  {data}" for t in out] + out
        return out

    def _apply_title(self) -> None:
        if not self.showing_data:
            self.plot_item.setTitle(None)
            return
        font = theme.font(theme.BASE_PT)
        metrics = QFontMetricsF(font)
        # the title is centred over the box, right of the left axis
        axis = self.plot_item.getAxis("left")
        # (the width the axis takes: just shown, it is not laid out yet and its geometry is 0)
        axis_w = max(axis.width(), axis.minimumWidth()) if axis.isVisible() else 0.0
        room = max(float(self.width()) - axis_w - 16.0, 50.0)
        variants = self._title_variants()
        text = next((t for t in variants if metrics.horizontalAdvance(t) <= room), None)
        if text is None:
            # none fits (a narrow panel at 200 % text): the shortest, elided to the room
            # (unelided, "Network, 1 × 8 ReLU" was cut at the panel's edge: "… 8 Re")
            text = metrics.elidedText(variants[-1], Qt.TextElideMode.ElideRight, room)
        fg = theme.palette(theme.current())["foreground"]
        self.plot_item.setTitle(text, color=fg, size=f"{theme.pt(theme.BASE_PT):.0f}pt")
        title = self.plot_item.titleLabel
        title.setToolTip(variants[0])
        # a title wider than the panel must not push the plot out of it (pyqtgraph sets the
        # label's minimum width to its text's again on every resize: kept at 0 here)
        title.setMinimumWidth(0)
        if not getattr(title, "_min_kept", False):
            text_min = title.updateMin

            def update_min() -> None:
                text_min()
                title.setMinimumWidth(0)

            title.updateMin = update_min
            title._min_kept = True
        height = int(metrics.height() * 1.35) + 4
        title.setMaximumHeight(height)
        self.plot_item.layout.setRowFixedHeight(0, height)

    # ------------------------------------------------------------------ theme & fonts
    @closes_once
    def close(self) -> bool:
        """Stop observing the session, then close (pyqtgraph tears the plot item down).
        Closing twice is harmless."""
        self._ready = False
        self._disconnect()
        forget(self)
        for name in ("_spares", "_unit_spares"):  # (a view closed while it was being built)
            if hasattr(self, name):
                getattr(self, name).close()
        closed = super().close()
        # the key's mini-batch ring sample is in no scene (its entry only reads its
        # symbol): Python's, else left to the collector with a panel in a reference cycle
        delete_later(getattr(self, "_ring_sample", None))
        return closed

    def _disconnect(self) -> None:
        self._connections = disconnect_all(getattr(self, "_connections", []))
        try:
            self.vb.sigResized.disconnect(self._on_resized_later)
            self.vb.sigRangeChanged.disconnect(self._place_ghost_label)
        except (TypeError, RuntimeError):
            pass

    def changeEvent(self, ev) -> None:  # noqa: N802 - Qt name
        if not getattr(self, "_ready", False):  # Qt sends events during __init__ and after close
            super().changeEvent(ev)
            return
        t = ev.type()
        if t in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._apply_theme()
            self._mark_stale(STALE_STYLE)
        elif t in (QEvent.Type.FontChange, QEvent.Type.ApplicationFontChange):
            self._apply_fonts()
            self._mark_stale(STALE_STYLE)
        elif t == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(ev)

    def _style_runs(self) -> None:
        s = self.session
        width = CURVE_WIDTH * max(1.0, theme.font_scale())
        for r, c in enumerate(self.run_curves):
            # a diverged run keeps its last finite curve, dashed
            style = Qt.PenStyle.DashLine if r in self._diverged else Qt.PenStyle.SolidLine
            set_pen(c, pg.mkPen(QColor(s.run_color(r)), width=width, style=style,
                                capStyle=Qt.PenCapStyle.RoundCap))

    def _style_units(self) -> None:
        color, alpha = UNIT_COLORS.get(theme.current(), UNIT_COLORS["dark"])
        width = 2.5 * max(1.0, theme.font_scale())
        pen = pg.mkPen(theme.qcolor(color, alpha), width=width)
        for c in self.unit_curves:
            c.setPen(pen)
        self.c0_line.setPen(pg.mkPen(theme.qcolor(color, alpha), width=width,
                                     style=Qt.PenStyle.DashDotLine))

    def _style_data_points(self) -> None:
        """The data's points in the theme: outlined in the background colour, or, past
        :data:`DENSE_POINTS`, smaller and without an outline."""
        name = theme.current()
        pal = theme.palette(name)
        scale = max(1.0, theme.font_scale())
        dense = self._n_points > DENSE_POINTS
        pen = pg.mkPen(None) if dense else pg.mkPen(pal["background"], width=1.5)
        k = DENSE_SIZE if dense else 1.0
        style_points(self.train_points, size=TRAIN_SIZE * scale * k,
                     brush=pg.mkBrush(pal["foreground"]), pen=pen)
        style_points(self.val_points, size=VAL_SIZE * scale * k,
                     brush=pg.mkBrush(VAL_COLORS.get(name, VAL_COLORS["dark"])), pen=pen)

    def _apply_theme(self) -> None:
        name = theme.current()
        pal = theme.palette(name)
        scale = max(1.0, theme.font_scale())
        bg = pal["background"]
        self.setBackground(bg)
        for axis in ("left", "bottom"):
            ax = self.plot_item.getAxis(axis)
            ax.setPen(pg.mkPen(pal["foreground"], width=1.5))
            ax.setTextPen(pg.mkPen(pal["foreground"]))
        self._style_data_points()
        style_points(self.batch_ring, size=RING_SIZE * scale, brush=pg.mkBrush(0, 0, 0, 0),
                     pen=pg.mkPen(pal["foreground"], width=3.0 * scale))
        style_points(self._ring_sample, size=0.65 * RING_SIZE * scale,
                     brush=pg.mkBrush(0, 0, 0, 0),
                     pen=pg.mkPen(pal["foreground"], width=2.5 * scale))
        self.target_curve.setPen(pg.mkPen(theme.qcolor(pal["muted"], 230), width=2.5 * scale,
                                          style=Qt.PenStyle.DashLine))
        self.hint.setColor(pal["muted"])
        self._style_units()
        self._style_runs()
        self._style_ghost()
        if self._legend_style is None or self._legend_style[1] == theme.font_scale():
            theme.style_legend(self.legend, 225)  # its labels in the new colour, in place
        # (else a new text size: the refresh makes the legend anew, in the new style; its
        # labels written here first were written for nothing)
        self._apply_title()

    def _apply_fonts(self) -> None:
        tick = theme.font(theme.BASE_PT)
        for name in ("left", "bottom"):
            self.plot_item.getAxis(name).setStyle(tickFont=tick, tickTextOffset=6)
        self.plot_item.getAxis("left").setWidth(int(16 + 3.2 * theme.pt(theme.BASE_PT)))
        self.plot_item.getAxis("bottom").setHeight(int(10 + 2.2 * theme.pt(theme.BASE_PT)))
        self.hint.setFont(theme.font(theme.LABEL_PT))
        self.ghost_label.setFont(theme.font(theme.BASE_PT))
        # symbol sizes, pen widths and the legend follow the font scale too
        self._apply_theme()
