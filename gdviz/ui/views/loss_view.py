"""Loss against step, one curve per run in its colour, with a line at the displayed step.

The y axis turns logarithmic by itself when every loss shown is positive and they span
more than two decades (Rosenbrock's race does; a saddle's negative losses do not). The
y range follows the runs still alive, so that a run blowing up does not flatten the
others: its curve leaves through the top, and the map marks it diverged.

With a validation set, a star marks each run's lowest validation loss so far, and once the
run has gone past it a line and a label say "stop here" (early stopping, lesson L9). Where
weight decay is in play (lesson L13) a right axis shows the size of the weights ‖w‖₂ of
each run, dotted, in the run's colour.
"""

from __future__ import annotations

import math
import weakref

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QGraphicsItem

from gdviz.core.i18n import current_language, tr
from gdviz.core.session.history import param_norms  # the rows of Session.weight_norms
from gdviz.ui import theme
from gdviz.ui.views.items import (BuildPace, GrowingCurve, HistoryFeed, PlayingStrokes, Points,
                                  RecacheBudget, RunsBuild, SpacedAxis, Spares, cache_axes,
                                  closes_once, connect_all, delete_later, disconnect_all,
                                  new_rows, plain_plot, style_points)
from gdviz.ui.views.placement import (MARGIN, no_layout, place_legend, set_legend_columns,
                                      sync_legend)
from gdviz.ui.views.ranges import finite_range
from gdviz.ui.views.refresh import forget, later, soon
from gdviz.ui.views.turns import Turn
from gdviz.ui.widgets import break_lines

#: the validation rows a refresh of the window's loss view computes, at most, in units of
#: (validation point x parameter) (~1 ns each with numba): a classifier of 4 x 32 units
#: whose history was read anew computed 1,356 rows in one turn, 200-260 ms (the GUI fuzz);
#: the rest come in the turns after (BuildPace on: an export computes every row)
VAL_WORK = 2.5e7
#: the stop label measures how much of the curves it covers in cells this big (px)
OCC_CELL = 4.0
#: decades of spread above which the loss axis turns logarithmic
LOG_DECADES = 2.0
#: with validation curves, above this many: the gap between training and validation loss
#: and the validation loss's turn upwards are the lesson, and they happen near the bottom
#: (L9: from 2.5 down to 0.05-0.4, on a linear axis the bottom 7 % of the plot)
LOG_DECADES_VAL = 1.0
#: the loss axis keeps room for the longest number it may write ("0.0001") where that
#: takes at most this share of the panel's width; a narrower panel (200 % text, beside
#: L13's ‖w‖₂ axis: a 170 px plot) gives it the room of the numbers written since the
#: problem came (it grows with them, never shrinks: the plot moves only in those jumps)
LEFT_AXIS_SHARE = 0.25
#: where the step line's label sits: its height along the line (0: the plot's bottom, 1: its
#: top) and its side (-1: left of the line, 1: right). The first, else the first that leaves
#: the "stop here" label a clear place, itself clear of the key and inside the plot
T_LABEL_PLACES = ((0.04, -1), (0.04, 1), (0.5, -1), (0.5, 1), (0.96, -1), (0.96, 1))
#: the share of the step line's label that may lie on the curves' cells (OCC_CELL px) and
#: still count as clear: its box's padding touching a curve, not its words
T_LABEL_ON_CURVES = 0.05
#: the "stop here" label shows once the run is this far past its lowest validation loss
#: (steps, or this share of the steps shown, whichever is more): not on every new low
STOP_AFTER = 3
STOP_AFTER_SHARE = 0.02
#: the stop label's forms, the first with a clear place (else the least covered): its
#: text (an i18n key), its size (of the plots' text) and whether it breaks into lines as
#: wide as the plot. The two-line label; the short one where the plot has no free room;
#: smaller, or on lines, where the plot is narrower than it (200 % text, L13's ‖w‖₂);
#: smaller still where the plot is short as well (L19 at 200 %: the two-row key and the
#: step's label left no clear place for it at 0.8, and it was written over the key)
STOP_FORMS = (("val_min_stop", 1.0, False), ("val_min_stop_short", 1.0, False),
              ("val_min_stop_short", 0.8, False), ("val_min_stop_short", 0.8, True),
              ("val_min_stop_short", 0.65, False))
#: while the race plays, the lowest-validation star, its line and label move at most
#: every this many of the view's frames (each move: ~1.7 ms, about every frame early in a
#: run, when each step is a new low); paused, and when the race stops, at once
STOP_EVERY = 4


def lowest_point(dec, head: tuple[float, float] | None = None) -> tuple[int, float] | None:
    """(step, value) of the lowest finite value a series decimator was fed (the earliest
    on a tie), or ``head`` (step, value) when that is lower; None when there is none.
    O(buckets): each bucket keeps its lowest point, so the kept minima hold the lowest."""
    nb = dec.nb
    vals = dec.by_min[: nb + 1]
    best = None
    if np.isfinite(vals).any():
        b = int(np.nanargmin(vals))
        best = (int(dec.bk_min[b]), float(vals[b]))
    if head is not None and math.isfinite(head[1]) and (best is None or head[1] < best[1]):
        best = (int(head[0]), float(head[1]))
    return best
#: the key is re-placed at most this often while the curves grow (ms)
LEGEND_MS = 250
#: the key's forms, tried in order until one fits the plot: (columns, 0 for one row;
#: text size relative to the ticks'). A narrow loss panel (under the controls at 200 %
#: text) had its one-row key sticking out past the plot's right edge
KEY_FORMS = ((0, 1.0), (0, 0.8), (1, 0.8), (1, 0.65), (0, 0.65), (1, 0.5))
#: a form smaller than this share of the plots' text is used only where its text is no
#: smaller than that share of the text at 100 % (at 200 %: L13's key beside its log axis)
KEY_MIN_K = 0.65
#: the most of the plot's height the key may take (the curves get the band above them;
#: ``_with_key_room`` gives the key at most half of the plot)
KEY_MAX_SHARE = 0.5


def _hysteresis(cur, lo: float, hi: float, grow: float) -> tuple[float, float]:
    """A range that contains [lo, hi] and changes only when it must.

    Kept while the data fill at least a third of it; otherwise (or when the data leave
    it) replaced by a padded one: for ``grow`` > 1, [lo, lo + span * grow] (a step axis
    growing to the right); else [lo - 2 * grow * span, hi + grow * span], with more room
    below because losses fall.
    """
    if cur is not None:
        a, b = cur
        if a <= lo and hi <= b and (hi - lo) >= (b - a) / 3:
            return cur
    span = hi - lo
    if grow > 1:
        return (lo, lo + span * grow)
    return (lo - 2 * grow * span, hi + grow * span)


def _area(r: QRectF) -> float:
    return max(r.width(), 0.0) * max(r.height(), 0.0)


def _label_cover(rect: QRectF, box: QRectF, key: QRectF | None) -> float:
    """How much of the step line's label at ``rect`` (scene) is cut off at the plot's edge
    ``box`` or lies on the key ``key`` (px²; 0: its place is clear)."""
    cover = _area(rect) - _area(rect.intersected(box))
    if key is not None and rect.intersects(key):
        cover += _area(rect.intersected(key))
    return cover


def _step_axis(cur: float | None, t: int, max_steps: int | None) -> float:
    """The end of the step axis: kept until the step shown nears it, then the next round
    number (1, 2 or 5 x 10^k) with room for half as many steps again, and never past
    ``max_steps``. Every change repaints the plot, its axes and its curves' caches:
    round numbers make half as many jumps as growing by 1.5x, and read better."""
    t = max(float(t), 0.0)
    cap = float(max_steps) if max_steps else math.inf
    if cur is not None and (t >= 0.2 * cur or cur <= 10.0) and (t <= 0.96 * cur or cur >= cap):
        return cur  # (a reset or a scrub far back shrinks it again)
    need = max(1.5 * t, 10.0)
    k = 10.0 ** math.floor(math.log10(need))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * k >= need:
            return min(m * k, cap) if cap >= 10.0 else m * k
    return min(10.0 * k, cap)


class _Rows:
    """Values by stored row, grown by doubling (a row or a few a frame)."""

    def __init__(self):
        self._a = np.zeros(0)
        self.n = 0

    def values(self) -> np.ndarray:
        return self._a[:self.n]

    def append(self, v: np.ndarray) -> None:
        end = self.n + len(v)
        if end > len(self._a):
            grown = np.empty(max(end, 2 * len(self._a), 64))
            grown[:self.n] = self._a[:self.n]
            self._a = grown
        self._a[self.n:end] = v
        self.n = end

    def cut(self, n: int) -> None:
        self.n = min(self.n, max(int(n), 0))


def _at(rs, r: int, t: int) -> tuple[int, np.ndarray, float]:
    """(step, params float64 (n_params,), loss) of run ``r`` at the step shown ``t`` (its
    last good step when it diverged before; the row at or before it when rows are
    decimated)."""
    last = min(int(t), rs.last_step(r))
    if last == rs.last_step(r):
        return last, rs.params[r], float(rs.loss[r])
    steps, P, L = rs.recorded(r, after=last - last % rs.stride - 1, upto=last)
    return int(steps[-1]), P[-1], float(L[-1])


class LossView(pg.PlotWidget):
    """Loss vs step for every run; a vertical line marks the displayed step ``t``.

    Runs keep their colours (the map's legend names them). On a fit with a validation
    set, each run also gets its validation loss, dashed, and a small key says which is
    which: training loss falling while validation loss rises is overfitting (lesson L9).
    The step axis says "iteration" on data problems (one update on one mini-batch).
    """

    def __init__(self, session, parent=None):
        # the step axis keeps its numbers apart on a narrow plot (200 % text), the loss
        # axis on a short one (projector mode on 1280×720)
        super().__init__(parent=parent, axisItems={"bottom": SpacedAxis("bottom"),
                                                   "left": SpacedAxis("left")})
        self.session = session
        self.plot_item: pg.PlotItem = self.getPlotItem()
        self.vb: pg.ViewBox = self.plot_item.getViewBox()
        self.plot_item.hideButtons()
        cache_axes(self.plot_item)
        plain_plot(self.plot_item)
        self.plot_item.setMenuEnabled(False)
        self.vb.setMouseEnabled(x=False, y=False)
        self.vb.disableAutoRange()
        self.plot_item.showGrid(x=True, y=True, alpha=0.25)
        # the grid lines belong to the axes and span the plot, so every new curve point
        # would replay them: cache their pixels (they change only with the range)
        for name in ("left", "bottom"):
            self.plot_item.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            # "loss (x0.001)" puzzles a class: the ticks carry the numbers themselves
            self.plot_item.getAxis(name).enableAutoSIPrefix(False)
        self.log_y = False

        self.curves: list[GrowingCurve] = []
        #: how many times the runs' curves were (re)styled (:meth:`_on_runs_changed`)
        self.runs_builds = 0
        self._runs_build = RunsBuild()
        self.val_curves: list[GrowingCurve] = []
        self._spares = Spares(self._drop_run_curves, self)  # curves of runs gone
        #: new curves made a few runs a turn (the window's panel: see BuildPace); the runs
        #: waiting for theirs are not drawn until they have them
        self.pace = BuildPace(self._on_runs_changed, self)
        self._val_more_queued = False  # (a refresh left validation rows: _val_more)
        self._history = HistoryFeed()
        self._recache = RecacheBudget()
        self._heads: list = []
        self._val_heads: list = []
        #: each run's validation loss by stored row, and the history they are of (runset,
        #: version, stride): rows fed again (the display went back, the history replaced
        #: after a step) are not computed again (see :meth:`_val_memo`)
        self._val_rows: list[np.ndarray] = []
        self._val_rows_of = None
        self.t_line = pg.InfiniteLine(pos=0, angle=90, movable=False,
                                      label="step {value:.0f}",
                                      labelOpts={"position": T_LABEL_PLACES[0][0],
                                                 "anchors": [(1, 1), (1, 1)]})
        self.t_line.setZValue(20)
        self.plot_item.addItem(self.t_line)
        # the key of the line styles (shown only with validation curves), in one row: the
        # dock is short, and a two-row key covered the step line's label
        self.legend = pg.LegendItem(offset=(-10, 10), labelTextSize="14pt", verSpacing=-6,
                                    colCount=2)
        self.legend.setParentItem(self.vb)
        self._key_train = pg.PlotDataItem()
        self._key_val = pg.PlotDataItem()
        self._init_stop_marker()
        self._init_norm_axis()
        # the key moves to the corner the curves leave free (a rising validation curve
        # ran under it), checked a few times a second, not every frame
        self._key_form = (1, 1.0)  # (columns, text size) the key is in now
        #: the key's labels were written anew (a new text size): its box is sized again
        #: even when its form stays
        self._key_unsized = False
        self._key_fit = None  # what the key's form was fitted to
        #: the form (its index among the forms) found for a plot size, entries and text
        self._key_forms: dict[tuple, int] = {}
        self._key_built = None  # the _key_state the key was built in
        self._legend_timer = QTimer(self)
        self._legend_timer.setSingleShot(True)
        self._legend_timer.setInterval(LEGEND_MS)
        self._legend_timer.timeout.connect(self.place_legend)

        s = session
        #: its turn while a classification plays in the window (with the plane's)
        self.turn = Turn(s, 1, self._on_stepped)
        #: many runs playing in the window: the curves' live pieces stroked aliased
        self.strokes = PlayingStrokes(s)
        self._connections = connect_all([
            (s.runs_changed, self._on_runs_changed),
            (s.stepped, self._on_stepped_turn),
            (s.problem_changed, self._on_problem_changed),
            (s.playing_changed, self.turn.on_playing_changed),
            (s.playing_changed, self._on_playing_changed),
        ])

        self._apply_theme()
        self._apply_fonts()
        self._on_runs_changed()
        self._ready = True

    def retranslate(self) -> None:
        """Axis labels, the step line and the key in the UI language."""
        self._apply_labels()
        self._rebuild_key()

    # ------------------------------------------------------------------ session -> view
    def _on_problem_changed(self) -> None:
        self._norm_sticky = False  # ‖w‖ shows again only where weight decay is in play
        self._left_numbers = 0.0  # (see LEFT_AXIS_SHARE)
        if self._axis_key() != getattr(self, "_axis_shown", None):
            self._apply_labels()  # step on surfaces, iteration on data
        self._refresh()

    def _refresh(self, *_) -> None:
        """:meth:`_on_stepped` once the session's change has settled (a scene's restore
        asked for it on three signals: the curves were fed and re-ranged three times)."""
        later(self.session, self._on_stepped)

    def _axis_key(self) -> str:
        return "iteration" if self.session.is_data else "step"

    def _on_runs_changed(self) -> None:
        s = self.session
        n = s.n_runs
        if not self._runs_build.due(s, theme.current(), theme.font_scale()) \
                and len(self.curves) == n:
            return  # built for these runs already, earlier in this change
        self.runs_builds += 1
        if len(self.curves) != n:
            # a run added adds its curves, a run removed drops one set; they all read the
            # new history from the start (a new engine, see HistoryFeed) in their run's phase
            while len(self.curves) > n:  # kept hidden for the runs to come (Spares)
                self._spares.put(self.curves.pop(), self.val_curves.pop(),
                                 self.norm_curves.pop())
            for r, (c, v) in enumerate(zip(self.curves, self.val_curves)):
                c.set_phase(r)
                v.set_phase(r)
            for r, c in enumerate(self.norm_curves):
                c.set_phase(r)
                c.clear()  # (its history is read again, as the loss curves' is)
            for r, spare in self.pace.sets(self._spares, len(self.curves), n):
                c, v, w = spare or self._new_run_curves(r)
                for curve in (c, v, w):
                    curve.set_phase(r)
                c.setVisible(True)
                v.setVisible(True)
                w.setVisible(self.norm_on)
                self.curves.append(c)
                self.val_curves.append(v)
                self.norm_curves.append(w)
        width = 3.0 * max(1.0, theme.font_scale())
        for r, c in enumerate(self.curves):
            color = QColor(s.run_color(r))
            c.setPen(pg.mkPen(color, width=width))
            c.setVisible(s.run_enabled(r))
            self.val_curves[r].setPen(pg.mkPen(color, width=width,
                                               style=Qt.PenStyle.DashLine))
        self._style_norms()
        if self._norm_wanted() != self.norm_on:
            # ‖w‖₂ comes or goes with these runs (a weight-decay lesson): its key too, in
            # the one key built here (built first without it, the key was built again by
            # the refresh's step, ~4 ms a lesson)
            self._set_norm_on(not self.norm_on)  # (builds the key)
        elif self._key_built != self._key_state():
            # (a run added or removed leaves the key as it is: rebuilt, it made its labels
            # and fitted its form again, ~10 ms a run)
            self._rebuild_key()
        self._refresh()

    def _style_key(self) -> None:
        pal = theme.palette(theme.current())
        width = 3.0 * max(1.0, theme.font_scale())
        self._key_train.setPen(pg.mkPen(pal["foreground"], width=width))
        dashed = pg.mkPen(pal["foreground"], width=width)
        # dashes short enough for the key's 20 px sample: Qt's DashLine (4 widths on, 2
        # off) drew one unbroken 24 px dash at 200 % text, a validation sample that looked
        # like the training one (L20, L21)
        dashed.setDashPattern([1.5, 1.0])
        # with flat ends: the pen's own (square at 100 %, round at 200 %) reach half a
        # width past each dash, and closed the one-width gaps (a solid sample, the
        # training one's look, in every export and window)
        dashed.setCapStyle(Qt.PenCapStyle.FlatCap)
        self._key_val.setPen(dashed)

    def _key_state(self) -> tuple:
        """What the key's entries and their style follow."""
        return (self.session.has_validation, self.norm_on, current_language(),
                theme.current(), theme.font_scale(), theme.pt(theme.BASE_PT))

    def _rebuild_key(self) -> None:
        self._key_built = self._key_state()
        self._style_key()
        # the entries come in the base form (one row, full size: _reset_key_form says so),
        # not in the last form's smaller text
        self.legend.setLabelTextSize(f"{theme.pt(theme.BASE_PT):.0f}pt")
        entries = []
        if self.session.has_validation:
            entries += [(self._key_train, tr("train_loss")), (self._key_val, tr("val_loss"))]
        if getattr(self, "norm_on", False):
            entries.append((self._key_norm, tr("weight_norm_key")))
        # the labels it has kept for the entries it keeps, written in place, laid out once
        # (made anew, one at a time, ~10 ms of a lesson that brings or drops ‖w‖₂: L13
        # after L21)
        self.legend.updateSize = no_layout
        try:
            sync_legend(self.legend, entries)
        finally:
            del self.legend.updateSize
        size = self.legend.opts["labelTextSize"]
        for _, label in self.legend.items:  # (each label in the base form's size)
            if label.opts.get("size") != size:
                label.setText(label.text, size=size)
        self._reset_key_form()
        self.legend.updateSize()
        self.legend.setVisible(bool(self.legend.items))
        theme.style_legend(self.legend)
        self._yr = None  # the band for the key comes or goes
        if self.legend.items and self.vb.width() > 0:
            self._fit_key()  # a form that fits now, not at the placing timer's end

    def _on_stepped_turn(self, *_) -> None:
        """``stepped``: drawn now, unless this playing frame is another view's turn
        (:mod:`gdviz.ui.views.turns`)."""
        if not self.turn.skips():
            later(self.session, self._on_stepped)  # once the change has settled

    def _on_stepped(self) -> None:
        s = self.session
        built = len(self.curves)
        if self.pace.behind(built, s.n_runs):
            self._on_runs_changed()  # runs_changed is on its way: build for it now
            return
        self._apply_strokes()
        has_val = s.has_validation
        if self._norm_wanted() != self.norm_on:
            self._set_norm_on(not self.norm_on)
        if len(self.legend.items) != 2 * has_val + self.norm_on:
            self._rebuild_key()
        lo, hi = self._feed(has_val)
        finite = math.isfinite(lo) and math.isfinite(hi)
        log = finite and lo > 0 and math.log10(hi / lo) > (LOG_DECADES_VAL if has_val
                                                            else LOG_DECADES)
        if log != self.log_y:
            self.log_y = log
            self._yr = None  # the old range is in the other scale
            self.plot_item.setLogMode(x=False, y=log)
            self.plot_item.getAxis("right").setLogMode(x=False, y=False)  # ‖w‖₂: linear
            # setLogMode turns auto-range back on, which would move the axes every frame
            self.vb.disableAutoRange()
            self._xmax = None
        for c in self.curves + self.val_curves:
            c.log_y = log  # drawn as log10; a diverged run's nan/0 are gaps
        settle = not s.playing
        for c, head in zip(self.curves, self._heads):
            c.draw(head, settle=settle)
        for r, vc in enumerate(self.val_curves):
            if not has_val:
                vc.setVisible(False)
                continue
            vc.draw(self._val_heads[r], settle=settle)
            vc.setVisible(s.run_enabled(r))
        t = s.t
        self.t_line.setValue(t)
        if self.legend.isVisible() and not self._legend_timer.isActive():
            self._legend_timer.start()
        # ranges move in jumps, not every frame: a moving range repaints axes and grid
        xmax = _step_axis(getattr(self, "_xmax", None), t, getattr(s, "max_steps", None))
        if xmax != getattr(self, "_xmax", None):
            self._xmax = xmax
            self.vb.setXRange(0, xmax, padding=0.02)
        if finite:
            if log:
                a, b = math.log10(lo), math.log10(hi)
            else:
                a, b = lo, hi
            if not b > a:
                a, b = a - 0.5, b + 0.5
            nonneg = not log and a >= 0
            if nonneg:
                a = 0.0  # a linear loss axis starts at zero, so it moves only when the top does
            # a falling loss crosses decades quickly: more room below on a log axis
            yr = _hysteresis(getattr(self, "_yr", None), a, b, grow=0.35 if log else 0.15)
            if nonneg:
                yr = (0.0, yr[1])  # losses are >= 0: no negative axis below them
            if yr != getattr(self, "_yr", None):
                self._yr = yr
                # (through finite_range: a loss near -1e308 grew to -inf with the room
                # below it, and pyqtgraph raised "Cannot set range")
                self.vb.setYRange(*finite_range(*self._with_key_room(yr)), padding=0.0 if nonneg else 0.05)
                self._fit_left_axis()  # (in a narrow panel: the new numbers' room)
        # ‖w‖₂ first: the labels placed next keep off its curves, as drawn this frame
        self._update_norms()
        self._update_stop_marker(has_val)

    def _with_key_room(self, yr: tuple[float, float]) -> tuple[float, float]:
        """``yr`` grown at the top by a band as tall as the key (shown with validation
        curves only), so that the key covers no curve: a rising validation curve ran under
        it. At most half of the plot."""
        if not (self.legend.isVisible() and self.legend.items):
            return yr
        H, h = float(self.vb.height()), float(self.legend.boundingRect().height())
        if H <= 40 or h <= 0:
            return yr
        frac = min((h + 12.0) / H, 0.5)
        a, b = yr
        return (a, b + (b - a) * frac / (1.0 - frac))

    def curve_points(self) -> np.ndarray:
        """The shown curves' points as plotted (log10 of the loss on a log axis), (k, 2),
        with the step line's label: what the key must not cover."""
        parts = []
        for c in self.curves + self.val_curves:
            if c.isVisible():
                x, y = c.get_data()
                if len(x):
                    with np.errstate(all="ignore"):
                        parts.append(np.column_stack([x, np.log10(y) if self.log_y else y]))
        return np.concatenate(parts) if parts else np.zeros((0, 2))

    def _fit_key(self) -> None:
        """The key in the first of ``KEY_FORMS`` that fits the plot: as wide as the plot
        less its margins, at most ``KEY_MAX_SHARE`` of its height."""
        leg = self.legend
        n = len(leg.items)
        w, h = float(self.vb.width()) - 2 * MARGIN, float(self.vb.height())
        key = (round(w), round(h), n, theme.pt(theme.BASE_PT))
        if key == self._key_fit:
            return
        self._key_fit = key
        forms = [f for f in KEY_FORMS
                 if f[1] >= KEY_MIN_K or theme.pt(theme.BASE_PT) * f[1] >= theme.BASE_PT * KEY_MIN_K]
        # the form found for this plot, these entries and this text before: taken at once
        # (each form tried writes every label anew in its size: L13's key at 300 % tried
        # four, ~8 ms of its lesson's load, at each load)
        seen = key + (tuple(label.text for _, label in leg.items),)
        i = self._key_forms.get(seen)
        if i is None:
            i = self._try_key_forms(forms, n, w, h)
            if len(self._key_forms) >= 64:
                self._key_forms.clear()
            self._key_forms[seen] = i
        columns, k = forms[i]
        self._set_key_form(n if columns == 0 else 1, k)

    def _try_key_forms(self, forms: list, n: int, w: float, h: float) -> int:
        """The index in ``forms`` of the key's form for a plot ``w`` by ``h``: the first
        that fits (see :meth:`_fit_key`), tried in turn."""
        sizes = []
        for i, (columns, k) in enumerate(forms):
            self._set_key_form(n if columns == 0 else 1, k)
            size = self.legend.layout.preferredSize()
            if size.width() <= w and size.height() <= KEY_MAX_SHARE * h:
                return i
            sizes.append((size.width(), size.height()))
        # none fits a short plot: the first as wide as the plot, taller than the share
        # (it covers more of the curves, and is read whole); else the narrowest (a key
        # wider than the plot was cut at its left edge: L13 at 1280x720)
        fits = [i for i, (sw, _) in enumerate(sizes) if sw <= w]
        return fits[0] if fits else min(range(len(sizes)), key=lambda j: sizes[j][0])

    def _set_key_form(self, columns: int, k: float) -> None:
        if (columns, k) == self._key_form and not self._key_unsized:
            return
        self._key_unsized = False
        set_legend_columns(self.legend, columns)
        if k != self._key_form[1]:
            self.legend.setLabelTextSize(f"{theme.pt(theme.BASE_PT) * k:.0f}pt")
            theme.style_legend(self.legend)  # writes the labels anew in the new size
        self._key_form = (columns, k)
        # sized by its layout's preferred size (the items keep the old form's widths
        # until the layout runs: pyqtgraph's updateSize would measure those)
        size = self.legend.layout.preferredSize()
        self.legend.setGeometry(0, 0, size.width(), size.height())
        self.legend.layout.activate()
        self._yr = None  # the band for the key follows its height

    def place_legend(self) -> str | None:
        """The key in the corner where it covers the fewest curve points (and not the step
        line's label); returns the corner (None: no key shown)."""
        self._legend_timer.stop()
        if not (self.legend.isVisible() and self.legend.items) or self.vb.width() <= 0:
            return None
        self._fit_key()
        label = self.t_line.label
        taken = [label.mapRectToScene(label.boundingRect())] if label.isVisible() else []
        corner = place_legend(self.legend, self.vb, self.curve_points(), taken=taken,
                              corners=("top-right", "top-left"))[0]
        if self.stop_label.isVisible() and self._stop_at is not None:
            # the key's new form and corner: the stop label clear of it again (placed
            # before the key took its form at a new text size, the label stayed where the
            # key came to cover it: L19 at 200 %)
            self._lay_stop_label(*self._stop_at)
        return corner

    def _feed(self, has_val: bool) -> tuple[float, float]:
        """Give each curve the rows recorded since the last frame (cut back when the display
        went back); returns the finite min and max loss of the shown runs that are alive
        (all shown runs when every one diverged), nan when there is none. O(new rows)."""
        s = self.session
        rs = s.runset
        t = s.t
        self._recache.reset()
        if self._history.sync(s, key=has_val):
            # about one bucket (a min and a max) per pixel: the curve at screen resolution
            px = max(int(self.vb.width()), 1)
            buckets = 1 << max(9, min(11, px.bit_length() - 1))
            for c in self.curves + self.val_curves + self.norm_curves:
                c.dec.max_buckets = buckets
                c.clear()
        self._heads = [None] * len(self.curves)
        self._val_heads = [None] * len(self.curves)
        diverged = {r for r, _ in s.diverged()}
        shown = [r for r in range(s.n_runs) if s.run_enabled(r)]
        alive = set([r for r in shown if r not in diverged] or shown)
        lo, hi = math.inf, -math.inf
        for r, c in enumerate(self.curves):
            for steps, _, L in new_rows(rs, r, c, t):
                c.extend(steps, L)
            # the curve ends at the loss of the step shown (a bucket keeps only its extremes;
            # decimated rows may not hold that step)
            last, p_now, l_now = _at(rs, r, t)
            self._heads[r] = (float(last), l_now)
        if has_val:
            self._feed_val(rs, t)
        for r, c in enumerate(self.curves):
            if r not in alive:
                continue
            curves = [(c, self._heads[r])]
            if has_val:
                curves.append((self.val_curves[r], self._val_heads[r]))
            for curve, head in curves:
                for v in (curve.dec.lo, curve.dec.hi, head[1] if head else math.nan):
                    if math.isfinite(v):
                        lo, hi = min(lo, v), max(hi, v)
        if lo > hi:
            return math.nan, math.nan
        return lo, hi

    def _val_rows_budget(self, problem) -> int:
        """How many validation rows a refresh computes: all of them in an export's view;
        in the window's (:attr:`pace` on), those :data:`VAL_WORK` affords (one at least)."""
        if not self.pace.enabled:
            return 1 << 62
        x_val = getattr(problem, "x_val", None)
        cost = (0 if x_val is None else len(x_val)) * int(getattr(problem, "n_params", 1) or 1)
        return max(1, int(VAL_WORK // max(cost, 1)))

    def _val_more(self) -> None:
        """Validation rows were left for a later refresh: one comes on the next turn."""
        if not self._val_more_queued:
            self._val_more_queued = True
            QTimer.singleShot(0, self, self._on_val_more)

    def _on_val_more(self) -> None:
        self._val_more_queued = False
        later(self.session, self._on_stepped)

    def _val_memo(self, rs) -> list[np.ndarray]:
        """Each run's validation losses of the stored rows computed so far (row k: step
        k x stride), for the history now: kept while it is the same, cut back to the rows a
        replaced history kept (:meth:`RunSet.unchanged_through`), else empty. (Fed again
        from the start, L13's curve computed every row's loss again on the UI thread: 1.1 s
        with the numpy twins at step 488, L21's 18 ms a 4,000 rows with numba.)"""
        n = len(self.val_curves)
        of = self._val_rows_of
        memo = self._val_rows
        if (of is None or of[0]() is not rs or of[2] != rs.stride or len(memo) != n):
            memo = [_Rows() for _ in range(n)]
        elif of[1] != rs.version:
            kept = rs.unchanged_through(of[1])
            for m in memo:
                m.cut(kept // rs.stride + 1 if kept >= 0 else 0)
        self._val_rows, self._val_rows_of = memo, (weakref.ref(rs), rs.version, rs.stride)
        return memo

    def _feed_val(self, rs, t: int) -> None:
        """The validation curves' new rows and heads, every run's in one call of the
        problem's ``val_loss`` (it was two calls per run and frame: 40 calls, 56 ms with
        many runs of a classifier), rows computed before taken from :meth:`_val_memo`.
        The same numbers: each row's loss is its own, and the head (the step shown) is
        that step's parameters' loss, as its row would give."""
        s = self.session
        memo = self._val_memo(rs)
        parts, where = [], []  # the params rows to evaluate, the (run, steps, known) they feed
        left = self._val_rows_budget(s.problem)  # (rows to compute in this refresh)
        more = False
        for r, vc in enumerate(self.val_curves):
            for steps, P, _ in new_rows(rs, r, vc, t):
                first = int(steps[0]) // rs.stride
                known = memo[r].values()[first:first + len(steps)]  # (rows are consecutive)
                todo = len(steps) - len(known)
                cut = todo > left
                if cut:  # the rows this refresh affords; the rest at the next (_val_more)
                    more = True
                    steps, P = steps[:len(known) + left], P[:len(known) + left]
                    todo = left
                left -= todo
                if len(steps):
                    parts.append(np.array(P[len(known):]))
                    where.append((r, steps, known, first))
                if cut:
                    break
        if more:
            self._val_more()
        n_rows = len(parts)
        for r in range(len(self.val_curves)):  # the step shown: each run's head row
            parts.append(_at(rs, r, t)[1][None, :].copy())
        vals = np.asarray(s.problem.val_loss(np.concatenate(parts)), dtype=np.float64) \
            if parts else np.empty(0)
        i = 0
        for (r, steps, known, first), part in zip(where, parts[:n_rows]):
            new = vals[i:i + len(part)]
            i += len(part)
            if len(new) and first + len(known) == memo[r].n:  # (rows 0.. on, no gap)
                memo[r].append(new)
            self.val_curves[r].extend(steps, np.concatenate([known, new]) if len(known) else new)
        for r in range(len(self.val_curves)):
            self._val_heads[r] = (float(self._heads[r][0]), float(vals[i + r]))

    # ------------------------------------------------------------------ stopping point (L9)
    def _init_stop_marker(self) -> None:
        #: a star at each shown run's lowest validation loss so far
        self.stop_points = Points(symbol="star", pxMode=True)
        self.stop_points.setZValue(25)
        #: the reference run's stopping point: a line and "lowest validation loss: stop
        #: here (iteration k)" once the run went past it
        self.stop_line = pg.InfiniteLine(angle=90, movable=False)
        self.stop_line.setZValue(18)
        self.stop_label = pg.TextItem(anchor=(0.0, 1.0))
        self.stop_label.setZValue(26)
        for item in (self.stop_points, self.stop_line, self.stop_label):
            item.setVisible(False)
            self.plot_item.addItem(item)
        #: (step, value) of each run's lowest validation loss (None: none yet)
        self.stops: list[tuple[int, float] | None] = []
        self._stop_text = None
        self._stop_key = None
        self._stop_size = 1.0  # its text's size (a share of the plots' text size)
        self._stop_hits = 0.0  # how much of it the last place left covered or cut off
        self._t_memo = self._stop_memo = None  # (measured places, within one search)
        self._stop_at: tuple[int, float] | None = None  # its step and height, as last laid
        #: the view's frames since the star last moved while playing (see STOP_EVERY),
        #: and whether it waits to move
        self._stop_frames = 0
        self._stop_behind = False
        #: the curves' cells (see _curve_occupancy) and the frames since the step's label
        #: last measured them
        self._occ = None
        self._t_occ_age = 0

    def _style_stop_marker(self) -> None:
        pal = theme.palette(theme.current())
        scale = max(1.0, theme.font_scale())
        style_points(self.stop_points, size=22 * scale,
                     pen=pg.mkPen(pal["foreground"], width=1.5 * scale))
        self.stop_line.setPen(pg.mkPen(pal["foreground"], width=2 * scale,
                                       style=Qt.PenStyle.DotLine))
        self.stop_label.setColor(pal["foreground"])
        self.stop_label.fill = pg.mkBrush(theme.qcolor(pal["background"], 215))
        self.stop_label.setFont(theme.font(theme.BASE_PT))
        self._stop_text = self._stop_key = None
        self._stop_size = 1.0

    def _update_stop_marker(self, has_val: bool) -> None:
        """Each shown run's lowest validation loss so far (from its curve's buckets: O(1)
        in the steps), and the reference run's "stop here" once it is behind."""
        s = self.session
        self.stops = [None] * len(self.val_curves)
        if has_val:
            for r, vc in enumerate(self.val_curves):
                if s.run_enabled(r) and self._heads[r] and self._heads[r][0] > 0:
                    self.stops[r] = lowest_point(vc.dec, self._val_heads[r])
        shown = [(r, p) for r, p in enumerate(self.stops) if p is not None]
        if not shown:
            for item in (self.stop_points, self.stop_line, self.stop_label):
                item.setVisible(False)
            self._place_t_label()
            return
        def y(v: float) -> float:
            return math.log10(v) if self.log_y and v > 0 else v
        key = (tuple(shown), self.log_y, tuple(s.run_color(r) for r, _ in shown))
        if s.playing and self.stop_points.isVisible() and self._stop_frames + 1 < STOP_EVERY:
            # (the same lows too: the label's place is looked for anew as the step line
            # and the curves move, ~5-15 ms with the curves to keep clear of)
            self._stop_frames += 1
            self._stop_behind = True
            return
        self._stop_frames = 0
        self._stop_behind = False
        if key != self._stop_key:  # a new low, not every frame
            self._stop_key = key
            self.stop_points.setData(x=[float(p[0]) for _, p in shown],
                                     y=[y(p[1]) for _, p in shown],
                                     brush=[pg.mkBrush(s.run_color(r)) for r, _ in shown])
        self.stop_points.setVisible(True)
        ref = s.reference_run()
        stop = self.stops[ref] if ref < len(self.stops) else None
        head = self._heads[ref][0] if ref < len(self._heads) and self._heads[ref] else 0.0
        past = stop is not None and head - stop[0] >= max(STOP_AFTER, STOP_AFTER_SHARE * head)
        self.stop_line.setVisible(past)
        self.stop_label.setVisible(past)
        if not past:
            self._place_t_label()  # (back at its own place, if it is clear)
            return
        k, v = stop
        self.stop_line.setValue(k)
        self._lay_stop_label(k, y(v))

    def _lay_stop_label(self, k: int, yv: float) -> None:
        """The stop label for step ``k`` at the star's height ``yv`` (in the plot's units):
        the first of STOP_FORMS with a clear place, else the least covered."""
        self._stop_at = (k, yv)
        self.vb.updateMatrix()  # (as in _place_t_label)
        fmt = tr(f"line_{self._axis_key()}")  # (the step's label in full: see _place_t_label)
        if self.t_line.label.format != fmt:
            self.t_line.label.setFormat(fmt)
        self._occ = self._curve_occupancy()
        least = None
        # the step's label at each of its places, and the stop label's places in each form,
        # are measured once for the whole search below (they were measured anew for each
        # form and place, the label moved each time: 130 times, 0.6 s with 30 runs)
        self._t_memo, self._stop_memo = {}, {}
        try:
            # a smaller form with the step's label shown comes before a bigger one that
            # hides it (L13 in Chinese: the two-line label took the room and the step's went)
            for hide in (False, True):
                for form in STOP_FORMS:
                    self._set_stop_form(form, k)
                    self.stop_label.setPos(k, yv)
                    if self._place_stop_label(hide):
                        return
                    if least is None or self._stop_hits < least[0]:
                        least = (self._stop_hits, form)
            self._set_stop_form(least[1], k)
            self.stop_label.setPos(k, yv)
            self._place_stop_label()
        finally:
            self._t_memo = self._stop_memo = None

    def _set_stop_form(self, form: tuple[str, float, bool], k: int) -> None:
        """The stop label in ``form`` (see ``STOP_FORMS``) for step ``k``."""
        key, size, lines = form
        font = theme.font(theme.BASE_PT * size)
        if size != self._stop_size:
            self._stop_size = size
            self.stop_label.setFont(font)
        text = tr(key, k=k)
        if lines:
            width = int(self.vb.sceneBoundingRect().width()) - 4
            text = break_lines(text, QFontMetrics(font), width)
        if text != self._stop_text:
            self._stop_text = text
            self.stop_label.setText(text)

    def _apply_strokes(self) -> None:
        """The curves' live pieces aliased or not (:class:`PlayingStrokes`)."""
        smooth = not self.strokes.aliased
        for c in (*self.curves, *self.val_curves, *self.norm_curves):
            c.set_smooth(smooth)

    def _on_playing_changed(self, *_) -> None:
        """The race stopped: the star, its line and label at the lows of the step shown
        (once the change has settled: a scene's restore stops the race before its runs
        reach this view); the curves antialiased again."""
        self._apply_strokes()
        if not self.session.playing:  # the curves from pixels until they change
            for c in (*self.curves, *self.val_curves, *self.norm_curves):
                c.settle()
        if not self.session.playing and self._stop_behind:
            later(self.session, self._stop_catch_up)

    def _on_box_resized(self, *_) -> None:
        """The plot's box has a new size: the panel's (a text size, a dock moved), or the
        loss axis's width with the panel's the same ("10²" wider than "1"). The key's band
        (a share of the box's height) and the labels' places are looked for anew, once the
        change has settled. (Placed in the box of the step before, 18 px wider, L9's step
        label at 200 % text was cut at the plot's right edge: "iteration 20".)"""
        if not getattr(self, "_ready", False):
            return
        if self.legend.isVisible():
            self._yr = None
        soon(self.session, self._on_stepped)  # (a resize's: in the next turn, in the app)

    def _stop_catch_up(self) -> None:
        s = self.session
        if s.playing or not self._stop_behind:
            return
        if len(self.curves) != s.n_runs or len(self._heads) != s.n_runs:
            return  # runs_changed rebuilds this view, star and all
        self._update_stop_marker(s.has_validation)

    def _place_stop_label(self, hide: bool = True) -> bool:
        """Beside the stop line, inside the plot: the free place nearest the star, clear of
        the key and of the step line's label (the plot may be short: the label may sit
        above or below the star, or at the plot's top, middle or bottom). Where no place is
        clear, the step line's label moves up its line (its middle, its top) to make one: in
        the short loss dock the two labels ran together ("iteratio stop here (742)").
        Returns True when the place is clear (else it is the least covered one)."""
        box = self.vb.sceneBoundingRect()
        key = self.legend.sceneBoundingRect() if self.legend.isVisible() else None
        label = self.t_line.label
        full, short = tr(f"line_{self._axis_key()}"), "{value:.0f}"
        # the step's label on the curves counts after the rest (L13: "iteration 1020" lay
        # across the curves and the star while the plot had room above them). In order: a
        # place clear of everything in words, then as the number alone (L13 in Chinese:
        # the words fitted beside the line only on the curves and the star); else the
        # stop label clear with the words on a curve, then with the number on one; else
        # the step's label hidden, only where that clears the stop label; else the least
        # covered in words. Each: (hits, on the curves, place, rectangle, form)
        best = best_short = None
        for fmt in (full, short):
            for place in T_LABEL_PLACES:
                t_rect, cover, soft = self._t_label_at(fmt, place, box, key)
                hits, rect = self._stop_place(t_rect)
                hits += cover
                here = (hits, soft, place, rect, fmt)
                if hits == 0 and soft <= T_LABEL_ON_CURVES * _area(t_rect):
                    best = here
                    break
                if fmt == full and (best is None or (hits, soft) < best[:2]):
                    best = here
                elif fmt == short and hits == 0 and (best_short is None or soft < best_short[1]):
                    best_short = here
            else:
                continue
            break
        if best[0] > 0:
            if best_short is not None:
                best = best_short
            elif hide:
                hits, rect = self._stop_place(QRectF())  # (the step's label hidden)
                if hits < best[0]:
                    best = (hits, 0.0, None, rect, full)
        hits, _, place, rect, fmt = best
        if label.format != fmt:
            label.setFormat(fmt)
        self._stop_hits = hits
        self._set_t_label(place)
        self.stop_label.setAnchor((0.0, 0.0))
        self.stop_label.setPos(self.vb.mapSceneToView(rect.topLeft()))
        return hits == 0

    def _place_t_label(self) -> None:
        """The step line's label at its own place (left of the line, low) when that is
        inside the plot and off the key; else at the first of T_LABEL_PLACES that is, else
        where least of it is cut or covered. (Left of a line early in the plot, at 200 %
        text, it was cut at the plot's left edge: "eration 260", L21.)"""
        # the box's view transform as the new ranges make it (pyqtgraph sets it at the next
        # paint): the places measured where the label will be drawn
        self.vb.updateMatrix()
        box = self.vb.sceneBoundingRect()
        key = self.legend.sceneBoundingRect() if self.legend.isVisible() else None
        label = self.t_line.label
        # the curves' cells: while playing, measured every STOP_EVERY frames (they grow by
        # a few pixels a frame; measured each frame, ~0.5 ms)
        if self.session.playing and self._t_occ_age < STOP_EVERY and self._occ is not None:
            self._t_occ_age += 1
        else:
            self._occ, self._t_occ_age = self._curve_occupancy(), 0
        # its text in full ("iteration 243"), else the number alone: where neither side of
        # the line has room for the words (a narrow plot, the line mid-way), or where the
        # words lie on the curves and the number finds a place off them (L13 in Chinese:
        # the words fitted beside the line only on the curves and the star). A place clear
        # of the key and the edges comes first, then one off the curves. Its own place
        # first; while playing, where it is comes first, in its form (it stays there while
        # that is clear, instead of being moved to each place every frame, ~0.2 ms a move,
        # and hopping)
        full, short = tr(f"line_{self._axis_key()}"), "{value:.0f}"
        here = label.orthoPos, (-1 if label.anchors[0] == (1, 1) else 1)

        def measure(fmt: str, place) -> tuple[float, float, bool]:
            if label.format != fmt:
                label.setFormat(fmt)
            rect = self._set_t_label(place)
            bad = self._t_label_cover(rect, box, key)
            soft = self._curves_under_rect(rect, box) if bad <= 0 else 0.0
            return bad, soft, bad <= 0 and soft <= T_LABEL_ON_CURVES * _area(rect)

        if (self.session.playing and label.isVisible() and here in T_LABEL_PLACES
                and label.format in (full, short)):
            form = label.format
            bad, _, clean = measure(form, here)
            if (clean and form == full) or (bad <= 0 and self._t_occ_age):
                return  # (other places and forms are tried when the curves are measured anew)
        best = None  # the least covered place in full words, else of either form
        for fmt in (full, short):
            for place in T_LABEL_PLACES:
                bad, soft, clean = measure(fmt, place)
                if clean:
                    return
                if fmt == full or best[0] > 0:
                    if best is None or (bad, soft) < best[:2]:
                        best = (bad, soft, fmt, place)
        if label.format != best[2]:
            label.setFormat(best[2])
        self._set_t_label(best[3])

    def _set_t_label(self, place: tuple[float, int] | None) -> QRectF:
        """Put the step line's label at ``place`` (its height along the line, and the side
        of the line: -1 left, 1 right), or hide it (None: no place is clear in a short dock;
        the step is written in the controls and the status line); returns its scene
        rectangle."""
        label = self.t_line.label
        label.setVisible(place is not None)
        if place is None:
            return QRectF()
        p, side = place
        anchor = (1, 1) if side < 0 else (0, 1)
        if label.orthoPos != p or label.anchors[0] != anchor:
            label.anchors = [anchor, anchor]
            label.orthoPos = p
            label.updatePosition()
        return label.sceneBoundingRect()

    def _t_label_at(self, fmt: str, place, box: QRectF, key: QRectF | None):
        """The step line's label in format ``fmt`` at ``place``: (its scene rectangle, how
        much of it is cut off or on the key, the area of the curves under it). The label is
        moved there to measure it; within a stop label's search (``_t_memo``) once."""
        memo = self._t_memo
        if memo is not None and (fmt, place) in memo:
            return memo[(fmt, place)]
        label = self.t_line.label
        if label.format != fmt:
            label.setFormat(fmt)
        rect = QRectF(self._set_t_label(place))
        out = (rect, self._t_label_cover(rect, box, key), self._curves_under_rect(rect, box))
        if memo is not None:
            memo[(fmt, place)] = out
        return out

    def _t_label_cover(self, rect: QRectF, box: QRectF, key: QRectF | None) -> float:
        """How much of the step line's label at ``rect`` is cut off, on the key or on the
        stars (px²; 0: its place is clear), wherever its places are measured."""
        return _label_cover(rect, box, key) + self._stars_under(rect)

    def _stars_under(self, rect: QRectF) -> float:
        """How much of the scene rectangle ``rect`` lies on the stars (each shown run's
        lowest validation loss), px²: the step line's label keeps off them as off the key
        (at step 200 of L9 the star sat on the line, where the label's own place began:
        "★iteration 200" read as one, the star's point under the "i")."""
        if not self.stop_points.isVisible():
            return 0.0
        d = self.stop_points.data
        half = 0.5 * float(self.stop_points.opts["size"])
        out = 0.0
        for x, y in zip(d["x"], d["y"]):
            c = self.vb.mapViewToScene(QPointF(float(x), float(y)))
            star = QRectF(c.x() - half, c.y() - half, 2 * half, 2 * half)
            if rect.intersects(star):
                out += _area(rect.intersected(star))
        return out

    def _stop_place(self, t_rect: QRectF | None = None) -> tuple[float, QRectF]:
        """The stop label's best place now: (the area of it that is covered, by the key,
        the step line's label and the curves, or cut off at the plot's edge; its scene
        rectangle). Beside the star first, else against the plot's left or right edge (a
        narrow plot: 200 % text). The places are scored together, in arrays (one at a time,
        with the curves to keep clear of, a re-lay took ~15 ms of a playing frame).
        ``t_rect``: the step line's label's rectangle (empty: hidden; None: where it is)."""
        if t_rect is None:
            label = self.t_line.label
            t_rect = label.sceneBoundingRect() if label.isVisible() else QRectF()
        L, T, R, B, edge, hits, w, h, sy = self._stop_candidates()
        hits = hits.copy()
        if not t_rect.isEmpty():
            hits += (np.clip(np.minimum(R, t_rect.right()) - np.maximum(L, t_rect.left()), 0.0, None)
                     * np.clip(np.minimum(B, t_rect.bottom()) - np.maximum(T, t_rect.top()), 0.0, None))
        k = int(np.lexsort((np.abs(T + h / 2 - sy), np.asarray(edge), hits))[0])
        return float(hits[k]), QRectF(float(L[k]), float(T[k]), w, h)

    def _stop_candidates(self):
        """The stop label's candidate places (scene arrays L, T, R, B, whether at the plot's
        edge) and what covers each but the step line's label (the key, the curves, the
        plot's edge), with its size and the star's height; within a search (``_stop_memo``)
        once per form and place of the star."""
        box = self.vb.sceneBoundingRect()
        star = self.vb.mapViewToScene(self.stop_label.pos())
        br = self.stop_label.textItem.boundingRect()
        w, h = br.width(), br.height()
        memo = self._stop_memo
        mkey = (star.x(), star.y(), w, h)
        if memo is not None and mkey in memo:
            return memo[mkey]
        avoid = [self.legend.sceneBoundingRect()] if self.legend.isVisible() else []
        pad = 8.0
        sx, sy = star.x(), star.y()
        tops = [sy - pad - h, sy + pad, box.top() + 2, box.bottom() - 2 - h,
                box.center().y() - h / 2]
        lefts = (sx + pad, sx - pad - w, box.left() + 2, box.right() - 2 - w)
        L, T, edge = [], [], []
        for i, left in enumerate(lefts):
            over = self._above_curves(left, w, box)  # (just above the curves there)
            for top in tops if over is None else (*tops, over - pad / 2 - h):
                L.append(left)
                T.append(top)
                edge.append(i >= 2)
        L, T = np.asarray(L), np.asarray(T)
        R, B = L + w, T + h

        def overlap(r: QRectF) -> np.ndarray:
            return (np.clip(np.minimum(R, r.right()) - np.maximum(L, r.left()), 0.0, None)
                    * np.clip(np.minimum(B, r.bottom()) - np.maximum(T, r.top()), 0.0, None))

        hits = w * h - overlap(box)  # (cut off at the plot's edge)
        hits[np.abs(hits) < 1e-9] = 0.0
        for r in avoid:
            hits += overlap(r)
        hits += self._curves_under(L, T, R, B, box)
        out = (L, T, R, B, edge, hits, w, h, sy)
        if memo is not None:
            memo[mkey] = out
        return out

    def _curve_occupancy(self) -> np.ndarray | None:
        """Which OCC_CELL-px cells of the plot the curves pass through, as an integral
        image ((ny + 1, nx + 1) counts; None without curves): the stop label keeps off the
        curves where it can (in L9 it sat on the validation curve's turn upwards after the
        stop, the lesson's point)."""
        box = self.vb.sceneBoundingRect()
        pts = self.curve_points()
        (x0, x1), (y0, y1) = self.vb.viewRange()
        if not len(pts) or box.width() < 1 or box.height() < 1 or x1 <= x0 or y1 <= y0:
            return None
        norms = self._norm_points(y0, y1)  # (‖w‖₂ on its own axis: the labels keep off it too)
        if len(norms):
            pts = np.concatenate([pts, norms])
        pts = pts[np.isfinite(pts).all(axis=1)]
        nx, ny = int(math.ceil(box.width() / OCC_CELL)), int(math.ceil(box.height() / OCC_CELL))
        with np.errstate(all="ignore"):  # (a diverging run's 1e308 is far outside: dropped)
            fx = np.floor((pts[:, 0] - x0) / (x1 - x0) * box.width() / OCC_CELL)
            fy = np.floor((y1 - pts[:, 1]) / (y1 - y0) * box.height() / OCC_CELL)
        keep = (fx >= 0) & (fx < nx) & (fy >= 0) & (fy < ny)  # (False for inf and nan)
        occ = np.zeros((ny, nx), dtype=np.int64)
        occ[fy[keep].astype(np.int64), fx[keep].astype(np.int64)] = 1
        integral = np.zeros((ny + 1, nx + 1), dtype=np.int64)
        integral[1:, 1:] = occ.cumsum(axis=0).cumsum(axis=1)
        #: each column's highest cell with a curve in it (ny: none)
        self._occ_top = np.where(occ.any(axis=0), occ.argmax(axis=0), ny)
        return integral

    def _norm_points(self, y0: float, y1: float) -> np.ndarray:
        """The ‖w‖₂ curves' points in the loss box's units ((k, 2); its range is ``y0``,
        ``y1``): the right axis's box has the same rectangle, its own scale."""
        if not self.norm_on or not self.norm_vb.isVisible():
            return np.zeros((0, 2))
        n0, n1 = self.norm_vb.viewRange()[1]
        if not n1 > n0:
            return np.zeros((0, 2))
        parts = []
        for c in self.norm_curves:
            if c.isVisible():
                x, w = c.get_data()
                if len(x):
                    with np.errstate(all="ignore"):
                        parts.append(np.column_stack([x, y0 + (w - n0) / (n1 - n0) * (y1 - y0)]))
        return np.concatenate(parts) if parts else np.zeros((0, 2))

    def _above_curves(self, left: float, w: float, box: QRectF) -> float | None:
        """The scene y just above the curves between ``left`` and ``left + w`` (None: no
        curve there)."""
        occ = self._occ
        if occ is None:
            return None
        top = self._occ_top
        c0 = min(max(int((left - box.left()) // OCC_CELL), 0), len(top))
        c1 = min(max(int((left + w - box.left()) // OCC_CELL) + 1, 0), len(top))
        if c1 <= c0 or top[c0:c1].min() >= occ.shape[0] - 1:
            return None
        return box.top() + float(top[c0:c1].min()) * OCC_CELL

    def _curves_under_rect(self, rect: QRectF, box: QRectF) -> float:
        """The area (px²) of the curves' cells under ``rect`` (scene)."""
        if rect.isEmpty():
            return 0.0
        a = np.array
        return float(self._curves_under(a([rect.left()]), a([rect.top()]), a([rect.right()]),
                                        a([rect.bottom()]), box)[0])

    def _curves_under(self, L, T, R, B, box: QRectF) -> np.ndarray:
        """The area (px²) of the curves' cells that each rectangle (L, T, R, B) covers
        (scene coordinates; arrays)."""
        occ = self._occ
        if occ is None:
            return np.zeros(len(L))
        ny, nx = occ.shape[0] - 1, occ.shape[1] - 1

        def cells(v, n):
            return np.clip(np.floor(v / OCC_CELL), 0, n).astype(np.int64)

        c0, c1 = cells(L - box.left(), nx), cells(R - box.left() + OCC_CELL - 1, nx)
        r0, r1 = cells(T - box.top(), ny), cells(B - box.top() + OCC_CELL - 1, ny)
        n = occ[r1, c1] - occ[r0, c1] - occ[r1, c0] + occ[r0, c0]
        return n.astype(np.float64) * OCC_CELL * OCC_CELL

    def _init_norm_axis(self) -> None:
        #: the right axis's own box: ‖w‖₂ has its own scale, the steps are the loss's
        self.norm_vb = pg.ViewBox(enableMouse=False, enableMenu=False)
        self.norm_vb.setMouseEnabled(x=False, y=False)
        self.plot_item.scene().addItem(self.norm_vb)
        right = self.plot_item.getAxis("right")
        right.linkToView(self.norm_vb)
        right.enableAutoSIPrefix(False)
        self.norm_vb.setXLink(self.vb)
        self.norm_vb.setZValue(self.vb.zValue() - 1)  # under the loss curves and the key
        self.norm_vb.disableAutoRange()
        self.vb.sigResized.connect(self._sync_norm_box)
        self.vb.sigResized.connect(self._on_box_resized)
        self.norm_curves: list[GrowingCurve] = []
        self._norm_heads: list = []
        self._key_norm = pg.PlotDataItem()
        self.norm_on = False
        self._norm_sticky = False
        self._norm_top = None
        self.plot_item.showAxis("right", False)
        self.norm_vb.setVisible(False)

    def _sync_norm_box(self, *_) -> None:
        self.norm_vb.setGeometry(self.vb.sceneBoundingRect())

    def _norm_wanted(self) -> bool:
        """‖w‖₂ shows on a fit where a run has weight decay (and stays until the problem
        changes, so that a slider pulled back to 0 does not take it away)."""
        s = self.session
        if s.kind != "fit":
            return False
        wd = any(float(s.effective_config(i).weight_decay) > 0 for i in range(s.n_specs))
        self._norm_sticky = self._norm_sticky or wd
        return self._norm_sticky

    def _set_norm_on(self, on: bool) -> None:
        self.norm_on = on
        self.plot_item.showAxis("right", on)
        self.norm_vb.setVisible(on)
        for c in self.norm_curves:
            c.clear()  # fed from the start when shown again
            c.setVisible(on)
        self._norm_top = None
        self._sync_norm_box()
        self._rebuild_key()

    def _new_run_curves(self, r: int) -> tuple[GrowingCurve, GrowingCurve, GrowingCurve]:
        """Run ``r``'s loss, validation loss and ‖w‖₂ curves, made (see Spares)."""
        out = []
        for z, box in ((10, self.plot_item), (9, self.plot_item), (8, self.norm_vb)):
            c = GrowingCurve(z=z, mode="series", phase=r)
            c.budget = self._recache
            c.add_to(box)
            out.append(c)
        return tuple(out)

    def _drop_run_curves(self, c: GrowingCurve, v: GrowingCurve, w: GrowingCurve) -> None:
        c.remove_from(self.plot_item)
        v.remove_from(self.plot_item)
        w.remove_from(self.norm_vb)

    def _style_norms(self) -> None:
        s = self.session
        width = 2.5 * max(1.0, theme.font_scale())
        for r, c in enumerate(self.norm_curves):
            c.setPen(pg.mkPen(QColor(s.run_color(r)), width=width, style=Qt.PenStyle.DotLine))
            c.setVisible(self.norm_on and s.run_enabled(r))
        pal = theme.palette(theme.current())
        self._key_norm.setPen(pg.mkPen(pal["foreground"], width=width, style=Qt.PenStyle.DotLine))

    def _reset_key_form(self) -> None:
        """The key's base form for its entries (one row, full size), fitted anew."""
        self.legend.setColumnCount(len(self.legend.items) or 1)
        self._key_form = (len(self.legend.items) or 1, 1.0)
        self._key_unsized = True
        self._key_fit = None

    def _apply_norm_label(self, style: dict) -> None:
        self.plot_item.setLabel("right", tr("weight_norm_axis"), **style)
        self.plot_item.showAxis("right", self.norm_on)  # setLabel shows it
        right = self.plot_item.getAxis("right")
        right.setStyle(tickFont=theme.font(theme.BASE_PT), tickTextOffset=6)
        ticks = QFontMetrics(theme.font(theme.BASE_PT)).horizontalAdvance("00.0")
        right.setWidth(int(ticks + 6 + 0.8 * right.label.boundingRect().height() + 4))
        pal = theme.palette(theme.current())
        right.setPen(pg.mkPen(pal["foreground"], width=1.5))
        right.setTextPen(pg.mkPen(pal["foreground"]))

    def _update_norms(self) -> None:
        """Feed each run's ‖w‖₂ with the rows since the last frame (O(new rows)) and keep
        the right axis from 0 to a little above the largest, in jumps."""
        if not self.norm_on:
            return
        s = self.session
        rs = s.runset
        hi = 0.0
        for r, c in enumerate(self.norm_curves):
            for steps, P, _ in new_rows(rs, r, c, s.t):
                c.extend(steps, param_norms(P))
            last, p_now, _ = _at(rs, r, s.t)
            head = (float(last), float(param_norms(p_now[None, :])[0]))
            c.draw(head, settle=not s.playing)
            if s.run_enabled(r):
                for v in (c.dec.hi, head[1]):
                    if math.isfinite(v):
                        hi = max(hi, v)
        if hi > 0:
            top = self._norm_top
            if top is None or hi > top or hi < top / 3:
                self._norm_top = hi * 1.25
                self.norm_vb.setYRange(*finite_range(0.0, self._norm_top), padding=0.0)
        self._sync_norm_box()

    # ------------------------------------------------------------------ theme & fonts
    @closes_once
    def close(self) -> bool:
        """Stop observing the session, then close (pyqtgraph tears the plot item down).
        Closing twice is harmless."""
        self._ready = False
        self._disconnect()
        forget(self)
        self._legend_timer.stop()  # (a legend placed after would meet torn-down items)
        if hasattr(self, "_spares"):  # (a view closed while it was being built)
            self._spares.close()
        closed = super().close()
        # the key's line-style samples are in no scene (the key's entries only read their
        # pens): Python's, and a picture closed in a reference cycle (an export's) left
        # them and their curves to the collector
        delete_later(*(getattr(self, name, None)
                       for name in ("_key_train", "_key_val", "_key_norm")))
        return closed

    def _disconnect(self) -> None:
        self._connections = disconnect_all(getattr(self, "_connections", []))
        for slot in (self._sync_norm_box, self._on_box_resized):
            try:
                self.vb.sigResized.disconnect(slot)
            except (TypeError, RuntimeError):
                pass

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(ev)
        if getattr(self, "_ready", False):
            self._fit_left_axis()  # (the panel's share of it)
        # (the box's new size: _on_box_resized, once the change has settled: a window-wide
        # change resizes the panel several times over, a text size the font's layout, then
        # the docks' new shares)

    def changeEvent(self, ev) -> None:
        if not getattr(self, "_ready", False):  # Qt sends events during __init__ and after close
            super().changeEvent(ev)
            return
        t = ev.type()
        if t in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            later(self.session, self._apply_theme)  # (as the map's: LandscapeView.changeEvent)
        elif t in (QEvent.Type.FontChange, QEvent.Type.ApplicationFontChange):
            self._apply_fonts()
        elif t == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(ev)

    def _apply_theme(self) -> None:
        pal = theme.palette(theme.current())
        self.setBackground(pal["background"])
        for name in ("left", "bottom"):
            ax = self.plot_item.getAxis(name)
            ax.setPen(pg.mkPen(pal["foreground"], width=1.5))
            ax.setTextPen(pg.mkPen(pal["foreground"]))
        self.t_line.setPen(pg.mkPen(pal["muted"], width=2, style=Qt.PenStyle.DashLine))
        self.t_line.label.setColor(pal["foreground"])
        theme.style_legend(self.legend)
        self._style_stop_marker()
        self._apply_labels()
        if self.curves:  # the runs keep their colours: the key's lines follow the theme
            self._style_key()
            self._style_norms()
            self.legend.update()

    def _apply_labels(self) -> None:
        pal = theme.palette(theme.current())
        style = {"color": pal["foreground"], "font-size": f"{theme.pt(theme.BASE_PT):.0f}pt"}
        axis = self._axis_key()
        self._axis_shown = axis
        self.plot_item.setLabel("bottom", tr(f"axis_{axis}"), **style)
        self.plot_item.setLabel("left", tr("loss"), **style)
        self._left_numbers = 0.0
        self._fit_left_axis()
        # a pattern pyqtgraph fills with the line's position: "step {value:.0f}"
        self.t_line.label.setFormat(tr(f"line_{axis}"))
        self._apply_norm_label(style)
        self._stop_text = None  # written again in the new language

    def _fit_left_axis(self) -> None:
        """The loss axis's width: a fixed one (the plot must not jump as the ticks change)
        with room for the longest tick pyqtgraph writes, "0.0001", beside the label (a CJK
        label lying on its side is taller than "loss"); where that takes more than
        ``LEFT_AXIS_SHARE`` of the panel, room for the numbers written so far."""
        left = self.plot_item.getAxis("left")
        fm = QFontMetrics(theme.font(theme.BASE_PT))
        label = 6 + 0.8 * left.label.boundingRect().height() + 4
        numbers = fm.horizontalAdvance("0.0001")
        if numbers + label > LEFT_AXIS_SHARE * self.width():
            lo, hi = left.range
            shown = [fm.horizontalAdvance(text)
                     for spacing, values in left.tickValues(lo, hi, max(left.height(), 1.0))
                     for text in left.tickStrings(values, left.scale, spacing)]
            self._left_numbers = max(self._left_numbers, fm.horizontalAdvance("0.0"), *shown)
            numbers = self._left_numbers
        if int(numbers + label) != left.fixedWidth:  # (only a new width lays out)
            left.setWidth(int(numbers + label))

    def _apply_fonts(self) -> None:
        tick = theme.font(theme.BASE_PT)
        for name in ("left", "bottom"):
            self.plot_item.getAxis(name).setStyle(tickFont=tick, tickTextOffset=6)
        self.plot_item.getAxis("bottom").setHeight(int(12 + 3.2 * theme.pt(theme.BASE_PT)))
        self.legend.setLabelTextSize(f"{theme.pt(theme.BASE_PT):.0f}pt")
        theme.style_legend(self.legend)  # writes the key's labels anew in the new size
        self._key_form = (self.legend.columnCount, 1.0)
        self._key_unsized = True  # (its box kept the old text's size: projector off, the
        self._key_fit = None      # key was as wide as at 150 %, cut at the plot's left)
        self.t_line.label.setFont(theme.font(theme.BASE_PT))
        self._style_stop_marker()
        self._apply_labels()
