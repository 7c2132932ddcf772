"""The contour map with optimizers racing across it: the view the teacher projects.

A thin view of :class:`~gdviz.core.session.Session`. Items are created once and updated
with ``setData`` / ``setImage``; the contour lines come from the marching-squares kernel
(:func:`gdviz.kernels.contour.contour_segments`) and are drawn by one ``PlotDataItem``
with ``connect="pairs"``. After a zoom or pan the 256×256 grid is recomputed for the
visible box, at most once per frame (a single-shot timer).

Mouse: a click sets the start of every run, Shift+click adds a start, dragging a start
marker moves it. Right-click opens the view menu (heatmap on/off, view all).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QAction, QColor, QFontMetrics
from PySide6.QtWidgets import QGraphicsItem

from gdviz.core.i18n import tr
from gdviz.core.session.history import DETAILS_PENDING
from gdviz.kernels.contour import contour_segments, nice_levels
from gdviz.ui import theme
from gdviz.ui.views.items import (BuildPace, GrowingCurve, HistoryFeed, PlayingStrokes, Points,
                                  RecacheBudget, RunsBuild, Spares, cache_axes, closes_once,
                                  connect_all, delete_later, disconnect_all, lesson_menu,
                                  new_rows, plain_plot, steady_axis_title)
from gdviz.ui.views import refresh as refreshes
from gdviz.ui.views.refresh import forget, later
from gdviz.ui.views.placement import (LegendSizes, fit_axis_height, fit_axis_width, legend_score,
                                      place_legend, set_legend_columns, sync_legend, unstack)
from gdviz.ui.views.live_grid import (MAX_CONTOUR_SEGMENTS, FrameInbox, GridPicture,
                                     LiveGridWorker, grid_picture, grid_within, pinned)
from gdviz.ui.views.map_layer import BasinLayer
from gdviz.ui.views.raster_item import RasterBudget, RasterLines
from gdviz.ui.views.ranges import finite_box, zoom_limits
from gdviz.ui.views.turns import Turn

#: the contour levels' scale: "auto" follows the surface (log where it spans decades)
LOG_SCALE = {"log": True, "linear": False}
#: seconds of a turn that re-play the history for the step-by-step arrows of a past step
#: (a jump back: the re-play goes on in the turns after; the step panel shares it)
ARROWS_TURN_S = 0.02
#: the colour bar shows only on a map at least this wide (pixels)
COLORBAR_MIN_WIDTH = 560
#: grid of a live surface (a fit's slice, a mini-batch's surface), recomputed every frame;
#: it shrinks (to LIVE_GRID_MIN) while a recompute takes more than LIVE_BUDGET_MS
LIVE_GRID = 128
LIVE_GRID_MIN = 48
LIVE_BUDGET_MS = 5.0
#: paused, stepped by hand or zoomed, a live slice is computed on the worker too, and the
#: UI thread waits this long for it: a slice that takes longer is drawn when it lands, the
#: last one shown until then (a deep network's slice took 0.2-2 s, and the window froze at
#: each step back). Its cost cannot be told beforehand (a classifier's slice took 1 ms on
#: 12 x 12 cells and 6 ms on 32 x 32 and on 128 x 128 alike)
LIVE_SYNC_MS = 40.0
#: ... and no longer than until the change that sent it has taken this long: a lesson, the
#: language or a resize that took 60 ms of its own waited 40 more beside a busy map worker
LIVE_TURN_MS = 70.0
#: a surface's picture is computed on at most this much work: program instructions x
#: grid cells (~20 ms here). A typed expression near its 2000 characters (~3000
#: instructions) took ~110 ms on the 256 x 256 grid, at every zoom, resize or text size;
#: its picture is computed on a coarser grid instead (an export's too: the same picture)
STATIC_GRID_WORK = 35_000_000
STATIC_GRID_MIN = 96
#: a surface that is not live but whose grid costs more than this (its ``grid_work``, ~3 ns
#: a unit) goes to the worker as a live one's does (:meth:`LandscapeView._send_live`): the
#: map of 100,000 regression points under MAE took ~1 s in the window's turn, at each
#: change and zoom. A mini-batch's own surface (computed at each step) is computed on a
#: grid within it (at least BATCH_GRID_MIN a side)
SLOW_GRID_WORK = 10_000_000
BATCH_GRID_MIN = 16
#: the key of a static surface's job on the worker (a live one's is its ``key()``)
_STATIC = "static"
#: the share of the map's cells, the lowest, that a legend should not cover (the valley)
VALLEY_SHARE = 0.08
#: a point of a run (or a start, a minimum) weighs this many valley cells for a legend
RUN_WEIGHT = 50.0
#: the forms the runs' legend tries, in order, until one covers no run: (columns, text size
#: relative to the plots' labels). The smallest are tried only where their text is no
#: smaller than LEGEND_MIN_K of the labels at 100 % (a narrow map at 200 % text: L19's
#: one-run key at 0.65 was wider than the map, and cut at its left edge)
LEGEND_FORMS = ((1, 1.0), (2, 1.0), (1, 0.8), (2, 0.8), (1, 0.65), (2, 0.65), (1, 0.5),
                (2, 0.5))
LEGEND_MIN_K = 0.65
#: the step arrows' key's text sizes (of the plots' text), tried in turn where it covers
#: a run, an arrow or the minimum (the smallest is the runs' legend's floor, LEGEND_MIN_K)
ARROW_KEY_SIZES = (1.0, 0.8, LEGEND_MIN_K)
#: a legend is re-placed at most this often while the runs move (ms)
LEGEND_MS = 250
#: after a zoom or a pan (a wheel turn, a drag), the grid and contours of the new box are
#: computed once the view has stood still this long (ms); meanwhile each repaint draws the
#: old contours' image moved and scaled (no new raster). A wheel turn paid a raster of the
#: old contours at the new zoom, then a recompute and a raster of the new ones, 0.2-0.4 s
SETTLE_MS = 90
#: ... and at the latest this long after the first change of a continuous move (ms)
SETTLE_MAX_MS = 400


#: a trail's width in pixels at font scale 1 (read from the back of a classroom)
TRAIL_WIDTH = 4.0
HEAD_SIZE = 20
#: a run's marker off the map sits this far inside the edge, with an arrow out to it
PIN_MARGIN_PX = HEAD_SIZE / 2 + 34
START_SIZE = 30
DIVERGED_SIZE = 34
MINIMUM_SIZE = 30
#: step-by-step arrows: the longest one spans this fraction of the visible box
ARROW_FRACTION = 0.22
ARROW_HEAD_PX = 18.0
#: an arrow shorter than this (pixels) at the common scale is drawn this long
ARROW_MIN_PX = 16.0


class LandscapeView(pg.PlotWidget):
    """Contours (+ optional heatmap and colour bar), minima, runs, starts, step arrows."""

    def __init__(self, session, parent=None, *, grid_size: int = 256, adaptive: bool = True,
                 staged: bool = False, frames_only: bool = False):
        super().__init__(parent=parent)
        self.session = session
        self.grid_size = int(grid_size)
        #: adapt a live surface's grid to this machine's frame time (the window); an
        #: export keeps it fixed, so the same scene gives the same frames anywhere
        self.adaptive = bool(adaptive)
        #: an export's: a live slice is computed when a frame is painted (:meth:`flush`),
        #: not at every piece of steps between frames (a 300-step PNG of a 100,000-point
        #: fit computed 100 exact slices, 0.3 s each, and drew one)
        self.frames_only = bool(frames_only)
        self._live_stale = False
        self.heatmap_visible = bool(session.heatmap)
        self.plot_item: pg.PlotItem = self.getPlotItem()
        self.vb: pg.ViewBox = self.plot_item.getViewBox()
        self.plot_item.hideButtons()
        cache_axes(self.plot_item)
        plain_plot(self.plot_item)
        self.vb.disableAutoRange()
        self.plot_item.showGrid(x=False, y=False)
        self._z: np.ndarray | None = None  # last grid, float64 (n, n), for tests/export
        self._box = (0.0, 1.0, 0.0, 1.0)

        # --- static items (created once) -------------------------------------------------
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-100)
        self.plot_item.addItem(self.image)
        #: ``staged``: the rest of the build (the colour bar, legends, arrows, the session's
        #: map, its runs, the words) is left to :meth:`build_steps`, a piece per call, each
        #: a few tens of ms (an export builds its picture over several turns of the event loop)
        steps = self.build_steps()
        if not staged:
            for _ in steps:
                pass
        self._pending_build = steps if staged else None

    def build_steps(self):
        """The end of the build, in pieces (a generator: one piece per ``next``)."""
        session = self.session
        self.colorbar = pg.ColorBarItem(colorMap=theme.colormap(), interactive=False, width=22,
                                        colorMapMenu=False)
        self.colorbar.setImageItem(self.image, insert_in=self.plot_item)
        self.colorbar.axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        steady_axis_title(self.colorbar.axis)
        self.colorbar.axis.geometryChanged.connect(self._on_bar_axis_geometry)
        yield
        # the contours: rasterised by a numba kernel at the painter's resolution and kept
        # while the view stands still (Qt's antialiased stroke took 150-450 ms a change)
        self.contours = RasterLines()
        self.contours.setZValue(-50)
        # the heatmap changes only with the view or the problem: cache its pixels so a
        # frame repaints just the trails drawn over it
        self.image.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.plot_item.addItem(self.contours)
        # the current mini-batch's own loss surface over the full-data map (lesson L6), in
        # its own colour (a dash pattern on cell-long segments read as noise, and Qt's
        # dashed stroke was the slowest paint of the map)
        self.batch_contours = RasterLines()
        self.batch_contours.setZValue(-40)
        self.batch_contours.setVisible(False)
        self.plot_item.addItem(self.batch_contours)
        self._batch_key = None
        self._land_key = None
        #: the worker of a live surface while the race plays (made on first use)
        self._live_worker: LiveGridWorker | None = None
        self._live_shown = 0
        #: (key, n, box) of a slice handed to the worker while paused, until it is shown
        self._live_sent: tuple | None = None
        #: (generation, job, deadline) of that slice until it is collected (:meth:`_collect_live`)
        self._live_due: tuple | None = None
        #: a finished slice waits here for the next step (drawn in that frame's one paint)
        self._live_inbox = FrameInbox(self._on_live_inbox, self)
        self.live_grid = LIVE_GRID  # adapts to what this machine manages per frame
        self.minima = Points(symbol="star", size=MINIMUM_SIZE, pxMode=True)
        self.minima.setZValue(5)
        self.plot_item.addItem(self.minima)
        self.heads = Points(symbol="o", size=HEAD_SIZE, pxMode=True)
        self.heads.setZValue(30)
        self.plot_item.addItem(self.heads)
        self.diverged_marks = Points(symbol="x", size=DIVERGED_SIZE, pxMode=True)
        self.diverged_marks.setZValue(40)
        self.plot_item.addItem(self.diverged_marks)
        self.legend = pg.LegendItem(offset=(-12, -12), labelTextSize="16pt", verSpacing=-4)
        self.legend.setParentItem(self.vb)
        yield

        # step-by-step arrows: −gradient, momentum / first moment, actual update
        self.arrow_names = ("gradient", "momentum", "update")
        self.arrow_halos = {k: pg.PlotDataItem(connect="pairs") for k in self.arrow_names}
        self._arrows_empty: set = set()
        self.arrows = {k: pg.PlotDataItem(connect="pairs") for k in self.arrow_names}
        #: goes on with a re-play for the arrows of a past step (ARROWS_TURN_S a turn)
        self._arrows_more: QTimer | None = None
        # the update on top: for SGD it lies along the −gradient, shorter by the lr
        for z, k in enumerate(("momentum", "gradient", "update")):
            self.arrow_halos[k].setZValue(45 + 2 * z)
            self.arrows[k].setZValue(46 + 2 * z)
            self.plot_item.addItem(self.arrow_halos[k])
            self.plot_item.addItem(self.arrows[k])
        self.arrow_legend = pg.LegendItem(offset=(12, -12), labelTextSize="14pt", verSpacing=-4)
        self._arrow_key_size = 1.0
        self._arrow_shown = self.arrow_names  # the arrows its key lists (those drawn)
        self.arrow_legend.setParentItem(self.vb)
        self._fill_arrow_legend()
        self.arrow_legend.setVisible(False)

        # --- per-run and per-start items (rebuilt when the runs change) ------------------
        self.trails: list[GrowingCurve] = []
        #: how many times the runs' items were (re)styled (:meth:`_on_runs_changed`)
        self.runs_builds = 0
        self._runs_build = RunsBuild()
        self.legend_builds = 0
        self.legend_labels_made = 0  # (labels of the runs' legend made, for tests)
        self.halos: list[GrowingCurve] = []  # twins of the trails (the same points)
        self._trail_feed = HistoryFeed()
        self._recache = RecacheBudget()
        #: the trails' pieces drawn anew in one paint (the window's map: see RasterBudget)
        self.raster_budget = RasterBudget()
        self.diverged_labels: list[pg.TextItem] = []
        self._spares = Spares(self._drop_run_items, self)  # (trail, halo, label) of runs gone
        #: new sets made a few runs a turn (the window's map: see BuildPace); the runs
        #: waiting for theirs are not drawn until they have them
        self.pace = BuildPace(self._on_runs_changed, self)
        self.start_items: list[pg.TargetItem] = []
        self._brushes: list = []

        self._grid_timer = QTimer(self)
        self._grid_timer.setSingleShot(True)
        self._grid_timer.setInterval(16)  # at most one recompute per frame
        self._settle_t0 = 0.0
        self._valley = np.zeros((0, 2))  # the lowest cells of the grid, view coordinates
        self._legend_form = LEGEND_FORMS[0]
        self._legend_label_sizes = LegendSizes()
        self._legend_sizes: dict = {}  # each form's size for the entries there are
        self._legend_refit = False  # the next fit tries LEGEND_FORMS in order
        self._legend_unsized = False  # the legend's box is not its layout's yet
        self.legend_layouts = 0  # (the runs' legend laid out in a form, for tests)
        self._legend_timer = QTimer(self)
        self._legend_timer.setSingleShot(True)
        self._legend_timer.setInterval(LEGEND_MS)
        self._legend_timer.timeout.connect(self.place_legends)

        menu = lesson_menu(self.plot_item)
        self._colorbar_label = None  # i18n key of the colour bar's label
        self.heatmap_action = QAction(tr("show_heatmap"), self)
        self.heatmap_action.setCheckable(True)
        self.heatmap_action.setChecked(self.heatmap_visible)
        if menu is not None:
            menu.addSeparator()
            menu.addAction(self.heatmap_action)
            self.view_all_action = menu.addAction(tr("view_whole_surface"))
        else:  # pragma: no cover - pyqtgraph always builds a menu
            self.view_all_action = QAction(tr("view_whole_surface"), self)

        # --- connections: all in one block ------------------------------------------------
        s = session
        #: its turn while a classification plays in the window (the map and the network
        #: picture on one frame, the plane and the loss curves on the next)
        self.turn = Turn(s, 0, self._on_stepped)
        #: many runs playing in the window: the trails' live pieces stroked aliased
        self.strokes = PlayingStrokes(s)
        self._connections = connect_all([
            (s.problem_changed, self._on_problem_changed),
            (s.runs_changed, self._on_runs_changed),
            (s.stepped, self._on_stepped_turn),
            (s.selection_changed, self._on_selection_changed),
            (s.events.heatmap, self._on_heatmap_changed),
            (s.events.levels, self._on_levels_changed),
            (s.events.scale, self._on_levels_changed),
            (s.playing_changed, self._on_playing_changed),
            (s.playing_changed, self.turn.on_playing_changed),
        ])
        # the map mode (issue 11): basins / steps of the selected run from every start
        self.map_layer = BasinLayer(self, sync=not self.adaptive)
        self._connections += connect_all([
            (sig, self.map_layer.refresh) for sig in (
                s.problem_changed, s.runs_changed, s.selection_changed, s.settings_changed,
                s.events.map_layer)])
        self.vb.sigRangeChanged.connect(self._on_range_changed)
        # the step arrows' common scale is in pixels of the plot: a new plot size, new arrows
        # (connected once the arrows and labels it moves are made)
        self.vb.sigResized.connect(self._on_plot_resized)
        self._grid_timer.timeout.connect(self._on_grid_timer)
        self.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.heatmap_action.toggled.connect(self.set_heatmap_visible)  # writes the model
        self.view_all_action.triggered.connect(self.view_all)
        yield

        self._apply_theme()
        self._apply_fonts()
        self._on_problem_changed()
        yield
        self._on_runs_changed()
        yield
        self.retranslate()
        self._ready = True

    def retranslate(self) -> None:
        """Arrow key, colour-bar label, title, "diverged at step k" and the right-click
        entries in the UI language (surface names and symbols stay)."""
        self._fill_arrow_legend()
        self._rebuild_legend()  # a lesson's run labels are translated
        self.heatmap_action.setText(tr("show_heatmap"))
        if hasattr(self, "map_layer"):
            self.map_layer.retranslate()
        self.view_all_action.setText(tr("view_whole_surface"))
        for item in self.start_items:
            item.setToolTip(tr("tip_start"))
        self._refresh_labels()
        self._refresh()

    def _refresh(self, *_) -> None:
        """:meth:`_on_stepped` once the session's change (or the window's) has settled,
        however many of its signals asked."""
        later(self.session, self._on_stepped)

    def _fill_arrow_legend(self, names: tuple[str, ...] | None = None) -> None:
        """The arrows' key, with the arrows ``names`` (default: those it had, at first all
        three): only the arrows drawn (L15's SGD has no momentum arrow, and its key listed
        "momentum / 1st moment")."""
        if names is not None:
            self._arrow_shown = tuple(names)
        # (its rows written in place, a dropped one deleted by Qt: LegendItem.clear() left
        # them to Python, and one in a cycle waited for the collector)
        sync_legend(self.arrow_legend, [(self.arrows[k], tr(f"arrow_{k}"))
                                        for k in self._arrow_shown])
        self._arrow_note = None
        self._label_arrow_legend(getattr(self, "_arrow_scale", None))  # the scale stays

    # ------------------------------------------------------------------ public
    def set_heatmap_visible(self, flag: bool) -> None:
        """Show or hide the heatmap: writes ``session.heatmap``, which every heatmap
        switch (this menu, View ▸ Heatmap) follows."""
        self.session.set_view_options(heatmap=bool(flag))

    def _on_heatmap_changed(self, flag: bool = True) -> None:
        """Show or hide the heatmap (and its colour bar); the contours stay."""
        self.heatmap_visible = bool(flag)
        self.image.setVisible(self.heatmap_visible)
        self._show_colorbar()
        with QSignalBlocker(self.heatmap_action):
            self.heatmap_action.setChecked(self.heatmap_visible)

    def _show_colorbar(self) -> None:
        # a narrow map (beside the fit panel) gives its width to the contours, not the bar
        wide = self.width() >= COLORBAR_MIN_WIDTH * max(1.0, theme.font_scale())
        mapped = hasattr(self, "map_layer") and self.map_layer.covers
        self.colorbar.setVisible(self.heatmap_visible and wide and not mapped)

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(ev)
        if getattr(self, "_ready", False):
            self._show_colorbar()
            self._refresh_labels()
            self._legend_timer.start()
            # hiding the colour bar or eliding the title shrinks the plot's minimum width
            # only now: lay it out again, or it keeps the old width, wider than the view
            if self.plot_item.geometry().width() > self.viewport().width() + 0.5:
                super().resizeEvent(ev)

    def view_all(self) -> None:
        """Zoom to the surface's own view box."""
        x0, x1, y0, y1 = finite_box(self.session.view_box)
        self.vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def contour_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The contour segments drawn now: x, y float64 (2S,) (for tests and export)."""
        x, y = self.contours.getData()
        if x is None:
            return np.zeros(0), np.zeros(0)
        return np.asarray(x), np.asarray(y)

    # ------------------------------------------------------------------ session -> view
    def _on_problem_changed(self) -> None:
        land = self.session.landscape
        self._refresh_labels()
        mins = np.asarray(land.minima, dtype=np.float64).reshape(-1, 2)
        self.minima.setData(pos=mins)
        x0, x1, y0, y1 = box = finite_box(self.session.view_box)
        # the wheel and a right-drag zoom within bounds of this box (unbounded, a few hard
        # turns reached an infinite range)
        self.vb.setLimits(**zoom_limits(box))
        # not signal-blocked: the axes follow the view box through its signals (blocked,
        # they kept the previous problem's numbers); the grid timer this starts is
        # stopped by the recompute right after
        self.vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self._recompute_grid((x0, x1, y0, y1), new=True)

    def _on_levels_changed(self, *_) -> None:
        # on the grid timer: a scene's new levels arrive just before its new problem, and
        # the problem's recompute then does both at once
        self._grid_timer.start(16)

    def _on_runs_changed(self) -> None:
        s = self.session
        pal = theme.palette(theme.current())
        n = s.n_runs
        if not self._runs_build.due(s, theme.current(), theme.font_scale()) \
                and len(self.trails) == n:
            return  # built for these runs already, earlier in this change
        self.runs_builds += 1
        if len(self.trails) != n:
            # a run added adds its items, a run removed drops one set (the trails read the
            # new history from the start anyway: a new engine, see HistoryFeed), and each
            # keeps the phase of its run index
            while len(self.trails) > n:  # kept hidden for the runs to come (Spares)
                self._spares.put(self.trails.pop(), self.halos.pop(),
                                 self.diverged_labels.pop())
            for r, trail in enumerate(self.trails):
                trail.set_phase(r)
            for r, spare in self.pace.sets(self._spares, len(self.trails), n):
                if spare is None:
                    trail = GrowingCurve(z=11, phase=r, raster=True,
                                         raster_budget=self.raster_budget)
                    trail.set_interim(self.contours.interim)
                    trail.budget = self._recache
                    halo = trail.twin(z=10)  # the same points: decimated once
                    label = pg.TextItem(anchor=(-0.08, 1.2))
                    label.setZValue(41)
                    label.setVisible(False)
                    halo.add_to(self.plot_item)
                    trail.add_to(self.plot_item)
                    self.plot_item.addItem(label)
                else:
                    trail, halo, label = spare
                    trail.set_phase(r)
                    for c in (trail, halo):
                        c.set_interim(self.contours.interim)
                    label.setAnchor((-0.08, 1.2))
                label.fill = pg.mkBrush(theme.qcolor(pal["background"], 210))
                label.setFont(theme.font(theme.BASE_PT, bold=True))
                self.halos.append(halo)
                self.trails.append(trail)
                self.diverged_labels.append(label)
        self._style_runs()
        self._rebuild_legend()
        self._sync_starts()
        self._refresh()

    def _drop_run_items(self, trail: GrowingCurve, halo: GrowingCurve,
                        label: pg.TextItem) -> None:
        trail.remove_from(self.plot_item)
        halo.remove_from(self.plot_item)
        self.plot_item.removeItem(label)

    def _style_runs(self) -> None:
        """Each run's trail, halo and label in its colour and the theme's (no item made)."""
        s = self.session
        pal = theme.palette(theme.current())
        width = TRAIL_WIDTH * max(1.0, theme.font_scale())
        halo_pen = pg.mkPen(theme.qcolor(pal["halo"], 170), width=width + 3.5)
        self._brushes = []
        for r in range(len(self.trails)):  # (the runs with items: see BuildPace)
            color = QColor(s.run_color(r))
            self.trails[r].setPen(pg.mkPen(color, width=width))
            self.halos[r].setPen(halo_pen)
            self._brushes.append(pg.mkBrush(color))
            enabled = s.run_enabled(r)
            self.trails[r].setVisible(enabled)
            self.halos[r].setVisible(enabled)
            self.diverged_labels[r].setColor(color)
            self.diverged_labels[r].fill = pg.mkBrush(theme.qcolor(pal["background"], 215))

    def _rebuild_legend(self) -> None:
        """The runs' legend: one entry per shown spec (its first run's trail), written
        anew only when an entry changed (a run added, removed, renamed, diverged)."""
        s = self.session
        diverged = {r for r, _ in s.diverged()}
        entries = []
        for i in range(s.n_specs):
            if not s.specs[i].enabled:
                continue
            runs = s.runs_of_spec(i)
            text = s.spec_label(i)
            if runs and all(r in diverged for r in runs):
                text += "  ✕"
            if runs[0] >= len(self.trails):
                continue  # (its items are made at a later turn: see BuildPace)
            entries.append((self.trails[runs[0]].prefix, text, s.colors[i]))
        self._legend_diverged = diverged
        key = [(id(item), text, color) for item, text, color in entries]
        old = getattr(self, "_legend_entries", None)
        if key == old and len(self.legend.items) == len(key):
            return
        self._legend_entries = key
        legend = self.legend
        refit = not (old is not None and len(old) == len(key) == len(legend.items)
                     and all(o[0] == k[0] and o[2] == k[2] for o, k in zip(old, key)))
        if refit:
            self.legend_builds += 1  # runs added or removed: fitted from the full form
        self._legend_changed(refit)
        # only the entries that changed are written (a live lr, "✕"), made (a run added)
        # or dropped: 30 runs, one added, wrote 30 labels anew (~60 ms)
        self.legend_labels_made += sync_legend(legend, [(item, text) for item, text, _ in entries])
        for sample, _ in legend.items:
            sample.update()  # (a sample draws its item, whose colour may be new)

    def _sync_starts(self) -> None:
        s = self.session
        pal = theme.palette(theme.current())
        if len(self.start_items) != len(s.starts):
            for item in self.start_items:
                self.plot_item.removeItem(item)
            delete_later(*self.start_items)  # (Qt's to delete, not the collector's)
            self.start_items = []
            for k in range(len(s.starts)):
                item = pg.TargetItem(pos=tuple(s.project(s.starts[k])), size=START_SIZE,
                                     symbol="o", movable=True)
                item.setZValue(35)
                item.sigPositionChanged.connect(lambda it, k=k: self._on_start_dragged(k, it))
                self.plot_item.addItem(item)
                self.start_items.append(item)
        pen = pg.mkPen(pal["start"], width=4)
        hover = pg.mkPen(pal["accent"], width=5)
        for k, item in enumerate(self.start_items):
            with QSignalBlocker(item):
                item.setPos(QPointF(*s.project(s.starts[k])))
            item.setPen(pen)
            item.setBrush(pg.mkBrush(0, 0, 0, 0))
            item.hoverPen = hover
            item.hoverBrush = pg.mkBrush(theme.qcolor(pal["accent"], 60))
            if not item.mouseHovering:
                item.currentPen, item.currentBrush = item.pen, item.brush
            item.setToolTip(tr("tip_start"))

    def _on_stepped_turn(self, *_) -> None:
        """``stepped``: drawn now, unless this playing frame is another view's turn
        (:mod:`gdviz.ui.views.turns`)."""
        if not self.turn.skips():
            later(self.session, self._on_stepped)  # once the change has settled

    def _on_stepped(self) -> None:
        s = self.session
        built = len(self.trails)
        if self.pace.behind(built, s.n_runs):
            self._on_runs_changed()  # runs_changed is on its way: build for it now
            return
        self._apply_strokes()
        pal = theme.palette(theme.current())
        now = self._feed_trails()
        diverged = dict(s.diverged())
        heads, head_brushes = [], []
        marks, mark_brushes = [], []
        for r in range(built):  # (the runs with items: see BuildPace)
            enabled = s.run_enabled(r)
            label = self.diverged_labels[r]
            if not enabled or not np.isfinite(now[r]).all():
                label.setVisible(False)
                continue
            if r in diverged:
                p = self._clamp_to_view(now[r])
                marks.append(p)
                mark_brushes.append(self._brushes[r])
                label.setText(tr("diverged_at", step=diverged[r]))
                label.setPos(float(p[0]), float(p[1]))
                label.mark = (float(p[0]), float(p[1]))  # where the label points
                self._anchor_diverged(label, p)
                label.setVisible(True)
            else:
                label.setVisible(False)
                heads.append(now[r])
                head_brushes.append(self._brushes[r])
        self._last_heads = (np.asarray(heads, dtype=np.float64).reshape(-1, 2), head_brushes,
                            pal["halo"])
        self._move_heads(self._pin_off_map(*self._last_heads[:2]), *self._last_heads[1:])
        if marks:
            self.diverged_marks.setData(pos=np.asarray(marks), brush=mark_brushes,
                                        pen=pg.mkPen(pal["halo"], width=2))
        elif len(self.diverged_marks.data):  # (clearing an empty item each frame costs)
            self.diverged_marks.setData(pos=np.zeros((0, 2)))
        if set(diverged) != getattr(self, "_legend_diverged", set()):
            self._rebuild_legend()
        self._unstack_labels()
        self._update_arrows()
        self._update_live_surfaces()
        if not self._legend_timer.isActive():
            self._legend_timer.start()

    def _pin_off_map(self, pos: np.ndarray, brushes: list) -> np.ndarray:
        """``pos`` (float64 (k, 2)) with each point off the map pinned to its edge, and an
        arrow beside it pointing towards where it really is (fit by hand: a value dragged
        or typed past the map's box stays in sight, with its direction)."""
        arrows = self.__dict__.setdefault("off_map_arrows", [])
        (x0, x1), (y0, y1) = self.vb.viewRange()
        rect = self.vb.sceneBoundingRect()
        sx, sy = rect.width() / max(x1 - x0, 1e-300), rect.height() / max(y1 - y0, 1e-300)
        out, n = pos.copy(), 0
        for k, p in enumerate(pos):
            if x0 <= p[0] <= x1 and y0 <= p[1] <= y1:
                continue
            # inside by a marker and an arrow: the arrow's tip ends at the edge
            mx, my = PIN_MARGIN_PX / max(sx, 1e-300), PIN_MARGIN_PX / max(sy, 1e-300)
            q = out[k] = np.array([min(max(p[0], x0 + mx), x1 - mx),
                                   min(max(p[1], y0 + my), y1 - my)])
            with np.errstate(all="ignore"):
                u = np.array([(p[0] - q[0]) * sx, (q[1] - p[1]) * sy])  # on screen, y down
                u /= np.hypot(*u)
            if not np.isfinite(u).all():
                continue
            if n == len(arrows):
                arrow = pg.ArrowItem(headLen=16, tailLen=12, tailWidth=6, pxMode=True)
                arrow.setZValue(31)
                self.plot_item.addItem(arrow)
                arrows.append(arrow)
            at = self.vb.mapViewToScene(QPointF(float(q[0]), float(q[1])))
            tip = self.vb.mapSceneToView(at + QPointF(*(u * (PIN_MARGIN_PX - 4))))
            # pyqtgraph's arrow points left at angle 0 and turns clockwise on screen
            arrows[n].setStyle(angle=math.degrees(math.atan2(-u[1], -u[0])), brush=brushes[k],
                               pen=pg.mkPen(theme.palette(theme.current())["halo"], width=1.5))
            arrows[n].setPos(tip)
            arrows[n].setVisible(True)
            n += 1
        for arrow in arrows[n:]:
            arrow.setVisible(False)
        return out

    def _move_heads(self, pos: np.ndarray, brushes: list, outline: str) -> None:
        """Markers at ``pos`` (float64 (k, 2)). While the same runs are shown in the same
        colours (every frame of a race) only the positions change: write them into the
        item, so pyqtgraph does not rebuild every spot and look its symbol up again."""
        key = (tuple(id(b) for b in brushes), outline)
        d = self.heads.data
        if key == getattr(self, "_heads_key", None) and len(d) == len(pos) and len(pos):
            d["x"] = pos[:, 0]
            d["y"] = pos[:, 1]
            self.heads.prepareGeometryChange()
            self.heads.informViewBoundsChanged()
            self.heads.bounds = [None, None]
            self.heads.invalidate()
            return
        self._heads_key = key
        if len(pos):
            self.heads.setData(pos=pos, brush=brushes, pen=pg.mkPen(outline, width=2.5))
        else:
            self.heads.setData(pos=np.zeros((0, 2)))

    def _feed_trails(self) -> np.ndarray:
        """Give each trail the rows recorded since the last frame (or cut it back to the
        displayed step) and draw it; returns each run's position on the map now, float64
        (n_runs, 2). O(new rows) a frame: the history is never copied whole."""
        s = self.session
        rs = s.runset
        t = s.t
        self._recache.reset()
        px, py = self.vb.viewPixelSize()
        px = px if px > 0 and math.isfinite(px) else 1.0
        py = py if py > 0 and math.isfinite(py) else 1.0
        # trails are decimated at the pixel size they were built at: zoomed in more than
        # 2x, build them again (once, O(history)) so the path stays sharp
        base = self.trails[0].dec.base if self.trails else (px, py)
        zoomed_in = px < 0.5 * base[0] or py < 0.5 * base[1]
        if self._trail_feed.sync(s, key=(s.n_params, tuple(s.linked))) \
                or zoomed_in:
            for trail in self.trails:
                trail.dec.set_cell((px, py))
                trail.clear()
        now = np.asarray(s.project(s.positions()), dtype=np.float64).reshape(s.n_runs, 2)
        for r, trail in enumerate(self.trails):
            for steps, P, _ in new_rows(rs, r, trail, t):
                xy = s.project(P)
                x, y = xy[:, 0], xy[:, 1]
                ok = np.isfinite(x) & np.isfinite(y)
                if not ok.all():  # not expected (rows are good steps), but never draw nan
                    steps, x, y = steps[ok], x[ok], y[ok]
                trail.extend(steps, x, y)
            # the trail ends at the position now (between recorded rows, or inside the
            # screen cell of the last point kept)
            trail.draw(now[r] if np.isfinite(now[r]).all() else None, settle=not s.playing)
        return now

    def _unstack_labels(self) -> None:
        """Two runs that diverge near the same place would write "diverged at step k" over
        each other: move each label that meets an earlier one below (or above) it."""
        labels = [lab for lab in self.diverged_labels if lab.isVisible()]
        if len(labels) < 2:
            return
        py = self.vb.viewPixelSize()[1]
        if not (py > 0 and math.isfinite(py)):
            return
        for lab in labels:
            lab.updateTransform(force=True)
        rects = [lab.mapRectToScene(lab.boundingRect()) for lab in labels]
        for lab, dy in zip(labels, unstack(rects, self.vb.sceneBoundingRect())):
            if dy:
                p = lab.pos()
                lab.setPos(p.x(), p.y() - dy * py)

    def diverged_label_rects(self) -> list[QRectF]:
        """The scene rectangles of the "diverged" labels shown now (for tests)."""
        return [lab.mapRectToScene(lab.boundingRect()) for lab in self.diverged_labels
                if lab.isVisible()]

    # ------------------------------------------------------------------ legends
    def legend_points(self) -> tuple[np.ndarray, np.ndarray]:
        """What a legend must not cover, view coordinates (k, 2), with weights (k,): the
        runs (trails, heads), the starts, the minima and the step-by-step arrows weigh
        ``RUN_WEIGHT`` each; the
        valley (the lowest cells of the grid, where the runs are going) 1 each."""
        s = self.session
        runs = [np.asarray(s.landscape.minima, dtype=np.float64).reshape(-1, 2)]
        runs += [np.asarray(s.project(st), dtype=np.float64).reshape(-1, 2) for st in s.starts]
        for trail in self.trails:
            if trail.isVisible():
                x, y = trail.get_data()
                if x is not None and len(x):
                    runs.append(np.column_stack([x, y]))
        for k in self.arrow_names:  # step-by-step arrows: points along each stroke
            x, y = self.arrows[k].getData()
            if self.arrows[k].isVisible() and x is not None and len(x) >= 2:
                a = np.column_stack([x, y])
                p0, p1 = a[0::2], a[1::2]
                t = np.linspace(0.0, 1.0, 12)[:, None, None]
                runs.append((p0 + t * (p1 - p0)).reshape(-1, 2))
        runs_xy = np.concatenate(runs)
        pts = np.concatenate([runs_xy, self._valley])
        weights = np.concatenate([np.full(len(runs_xy), RUN_WEIGHT), np.ones(len(self._valley))])
        return pts, weights

    def place_legends(self) -> None:
        """The runs' legend in the corner where it covers the least of what the map shows;
        the arrows' key in another one."""
        self._legend_timer.stop()
        if self.vb.width() <= 0:
            return
        pts, weights = self.legend_points()
        before = [(tuple(leg.opts["offset"]), leg.columnCount)
                  for leg in (self.legend, self.arrow_legend)]
        self._place_legends(pts, weights)
        after = [(tuple(leg.opts["offset"]), leg.columnCount)
                 for leg in (self.legend, self.arrow_legend)]
        if after != before and any(lab.isVisible() for lab in self.diverged_labels):
            self._on_stepped()  # the "diverged" labels keep clear of the legends' new places

    def _place_legends(self, pts: np.ndarray, weights: np.ndarray) -> None:
        taken = []
        if self.legend.items:
            self._fit_legend(pts, weights)
            taken.append(self.legend.mapRectToScene(self.legend.boundingRect()))
        if self.arrow_legend.isVisible():
            # a column; one row (a strip along an edge) when every corner of a column
            # covers a run, an arrow or the minimum; then the same in smaller text (a short
            # map in projector mode: L11's key lay on the minimum's star)
            corners = ("bottom-left", "top-left", "bottom-right", "top-right")
            best = None
            for k in ARROW_KEY_SIZES:
                self._set_arrow_key_size(k)
                for columns in (1, max(1, len(self._arrow_shown))):
                    set_legend_columns(self.arrow_legend, columns)
                    score = place_legend(self.arrow_legend, self.vb, pts, weights=weights,
                                         corners=corners, taken=taken)[1]
                    if best is None or score < best[0]:
                        best = (score, k, columns)
                    if score < RUN_WEIGHT:
                        break
                if best[0] < RUN_WEIGHT:
                    break
            _, k, columns = best
            if (k, columns) != (self._arrow_key_size, self.arrow_legend.columnCount):
                self._set_arrow_key_size(k)
                set_legend_columns(self.arrow_legend, columns)
                place_legend(self.arrow_legend, self.vb, pts, weights=weights,
                             corners=corners, taken=taken)

    def _set_arrow_key_size(self, k: float) -> None:
        """The arrows' key's text at ``k`` times the plots' text."""
        self._arrow_key_size = k
        size = f"{theme.pt(theme.BASE_PT) * k:.0f}pt"
        if self.arrow_legend.opts["labelTextSize"] != size:
            self.arrow_legend.setLabelTextSize(size)
            theme.style_legend(self.arrow_legend)

    def _legend_changed(self, refit: bool) -> None:
        """The runs' legend's entries (or their text size) changed: its forms' sizes are
        computed anew and it is laid out again at the next placement; ``refit``: that
        placement tries the full form first (runs added or removed, a new text size)."""
        self._legend_sizes = {}
        self._legend_unsized = True
        self._legend_refit = self._legend_refit or refit

    def _fit_legend(self, pts: np.ndarray, weights: np.ndarray) -> None:
        """The runs' legend where it covers no run: in its present form if some corner is
        free; else the first form of ``LEGEND_FORMS`` (columns, text size) that finds a free
        corner (big text on a small map), or the one that covers least. After runs were
        added or removed, or the text size changed, the forms are tried from the full
        one (:meth:`_legend_changed`)."""
        best = None
        first = LEGEND_FORMS[0] if self._legend_refit else self._legend_form
        forms = [first] + [f for f in LEGEND_FORMS if f != first]
        # each form's size is computed from its labels' sizes (each text measured once
        # per text size) and kept while the entries stay: the legend is laid out only in
        # the form picked (laid out in each form to measure it, every label was written
        # anew at each text size: 40 runs, 60-160 ms after each run added or removed)
        sizes = self._legend_sizes
        for form in forms:
            if form[0] > 1 and len(self.legend.items) < 3:
                continue
            if (form[1] < LEGEND_MIN_K
                    and theme.pt(theme.LABEL_PT) * form[1] < theme.LABEL_PT * LEGEND_MIN_K):
                continue  # smaller than any key at 100 %: only for big text
            if form not in sizes:
                sizes[form] = self._legend_label_sizes.form(self.legend, form[0],
                                                            self._legend_text_size(form[1]))
            score = legend_score(self.vb, sizes[form], pts, weights=weights)
            if score < RUN_WEIGHT:
                best = (form, score)
                break
            if best is None or score < best[1]:
                best = (form, score)
        self._legend_refit = False
        self._set_legend_form(best[0])
        place_legend(self.legend, self.vb, pts, weights=weights)

    @staticmethod
    def _legend_text_size(k: float) -> str:
        """The runs' legend's label text size at ``k`` times the plots' labels' ("16pt")."""
        return f"{theme.pt(theme.LABEL_PT) * k:.0f}pt"

    def _set_legend_form(self, form: tuple[int, float]) -> None:
        """The runs' legend laid out in ``form`` (columns, text size), its box its layout's
        size; nothing is done when it is laid out so already."""
        size = self._legend_text_size(form[1])
        if (form == self._legend_form and not self._legend_unsized
                and self.legend.opts["labelTextSize"] == size):
            return
        set_legend_columns(self.legend, form[0])
        if self.legend.opts["labelTextSize"] != size:
            self.legend.setLabelTextSize(size)
            theme.style_legend(self.legend)  # writes the labels anew in the new size
        self._legend_form = form
        self._legend_unsized = False
        self.legend_layouts += 1
        # the legend's own updateSize sums its items' geometry, which keeps the old form's
        # widths until the layout runs with room for the new (a smaller text measured, and
        # drew, as wide as the bigger): size it by its layout's preferred size instead
        pref = self.legend.layout.preferredSize()
        self.legend.setGeometry(0, 0, pref.width(), pref.height())
        self.legend.layout.activate()

    def _anchor_diverged(self, label: pg.TextItem, p) -> None:
        """Keep a "diverged" label's text on the map: it grows away from the nearer edges
        (see :meth:`_free_anchor`)."""
        (vx0, vx1), (vy0, vy1) = self.vb.viewRange()
        right = p[0] > 0.5 * (vx0 + vx1)
        top = p[1] > 0.5 * (vy0 + vy1)
        label.setAnchor(self._free_anchor(label, p, right, top))

    def _free_anchor(self, label: pg.TextItem, p: np.ndarray, right: bool,
                     top: bool) -> tuple[float, float]:
        """The anchor of a "diverged" label at ``p`` (view coordinates): away from the
        nearer edges, unless the text would then hide under a legend; then the first
        other way round that keeps it on the map and clear of the legends."""
        ax, ay = (1.08 if right else -0.08), (-0.2 if top else 1.2)
        choices = [(ax, ay), (1.0 - ax, ay), (ax, 1.0 - ay), (1.0 - ax, 1.0 - ay)]
        size = label.textItem.boundingRect()
        w, h = size.width(), size.height()
        at = self.vb.mapViewToScene(QPointF(float(p[0]), float(p[1])))
        box = self.vb.sceneBoundingRect()
        legends = [leg.sceneBoundingRect() for leg in (self.legend, self.arrow_legend)
                   if leg.isVisible() and leg.items]
        for cx, cy in choices:
            rect = QRectF(at.x() - cx * w, at.y() - cy * h, w, h)
            if box.contains(rect) and not any(rect.intersects(r) for r in legends):
                return (cx, cy)
        # wider than the room on either side (big text, a mark near the middle): the text
        # slides along so that it ends at the map's edge, above or below the mark
        left = min(max(at.x() - ax * w, box.left() + 2.0), box.right() - w - 2.0)
        cx = (at.x() - left) / w if w > 0 else ax
        shifted = [(cx, cy) for cy in (ay, 1.0 - ay)]
        for cx, cy in shifted:
            rect = QRectF(at.x() - cx * w, at.y() - cy * h, w, h)
            if box.contains(rect) and not any(rect.intersects(r) for r in legends):
                return (cx, cy)
        for cx, cy in shifted:
            if box.contains(QRectF(at.x() - cx * w, at.y() - cy * h, w, h)):
                return (cx, cy)
        return choices[0]

    def live_kernels_came(self) -> None:
        """The kernels are compiled: a live slice drawn meanwhile was the numpy twin's, on a
        coarse grid (:meth:`gdviz.core.problems.FitSlice.grid`); the exact one
        is computed now, paused as playing."""
        if getattr(self.session.landscape, "live", False):
            self._land_key = self._live_sent = None
            self._update_live_surfaces()

    def _update_live_surfaces(self) -> None:
        """Once per frame: a fit's slice follows its reference run; on regression the
        current mini-batch's own surface is redrawn when the batch changes."""
        s = self.session
        land = s.landscape
        held = self._live_inbox.take()
        if held is not None:  # the slice the worker finished since the last step
            self._show_live(*held)
        if getattr(land, "live", False):
            key = land.key()
            n = self._live_size()
            # (a slice of this step already on its way: a lesson's, sent with its problem and
            # collected at the end of its change, was sent a second time by its first step,
            # and the map drew twice)
            if (key, n) != self._land_key and self._live_sent != (key, n, self._box):
                if self._live_async():
                    self._request_live(land, key)
                elif self.frames_only:
                    self._live_stale = True  # (computed by the frame's flush)
                else:
                    self._recompute_grid(self._box)
        show = bool(s.batch_surface) and s.kind == "regression" and s.batch_size < s.n_train
        if not show:
            self.batch_contours.setVisible(False)
            self._batch_key = None
            return
        idx = s.current_batch()
        key = (idx.tobytes(), self._box)
        if key != self._batch_key:
            self._batch_key = key
            x0, x1, y0, y1 = self._box
            with np.errstate(all="ignore"):
                n = self._batch_n(land, idx.shape[0])
                z = land.grid(x0, x1, y0, y1, n, n, batch_idx=idx)
            if np.isfinite(z).any():
                xy, _ = contour_segments(z, x0, x1, y0, y1,
                                         nice_levels(z, max(2, self.session.levels // 2), True),
                                         max_segments=MAX_CONTOUR_SEGMENTS)
                self.batch_contours.setData(xy[:, 0], xy[:, 1])
        self.batch_contours.setVisible(True)

    def _batch_n(self, land, batch: int) -> int:
        """The grid of a mini-batch's own surface, computed at each step in the window's
        turn: :meth:`_live_n`, less where its work would pass :data:`SLOW_GRID_WORK` (MAE
        on big batches), at least :data:`BATCH_GRID_MIN`."""
        return grid_within(self._live_n(), land, SLOW_GRID_WORK, BATCH_GRID_MIN, batch)

    def _on_selection_changed(self, _r: int = -1) -> None:
        self._update_arrows()

    # ------------------------------------------------------------------ grid & contours
    def _on_range_changed(self, *_) -> None:
        last = getattr(self, "_last_heads", None)
        if last is not None:  # a zoom or pan moves what is off the map
            self._move_heads(self._pin_off_map(*last[:2]), *last[1:])
        # the new box's grid once the view settles (SETTLE_MS); until then the contours
        # repaint their last image, moved and scaled
        now = time.monotonic()
        if not self._grid_timer.isActive():
            self._settle_t0 = now
        if (now - self._settle_t0) * 1000.0 < SETTLE_MAX_MS:
            self._grid_timer.start(SETTLE_MS)
        self._set_interim(True)
        self._legend_timer.start()

    def paintEvent(self, ev) -> None:  # noqa: N802 - Qt name
        self.raster_budget.start()  # (each paint its own time for the trails' pieces)
        if self._legend_unsized and self._legend_timer.isActive():
            # a legend with new entries (a lesson opened, a run added) is placed before its
            # first paint, not LEGEND_MS after the last resize: L18 opened over the default
            # scene at 200 % showed the last scene's two-column form, cut at the map's left
            # edge, for the first ~300 ms
            self.place_legends()
        super().paintEvent(ev)

    def flush(self) -> None:
        """Run a pending grid recompute and legend placement now (export paints right after
        a change)."""
        for _ in self.flush_steps():
            pass

    def flush_steps(self):
        """:meth:`flush` in pieces (a generator), the map mode's map a chunk per piece."""
        if self._grid_timer.isActive():
            self._on_grid_timer()
        if self._live_sent is not None or self._live_stale:  # the exact slice now
            self._recompute_grid(self._box, defer=False)
        if self._legend_timer.isActive():
            self.place_legends()
        yield from self.map_layer.flush_steps()

    def _set_interim(self, on: bool) -> None:
        """While the view moves ahead of its grid: the contours repaint their last image
        moved and scaled, and the heatmap is drawn uncached (zoomed far into the old box,
        its cached pixels would exceed what Qt can allocate); both back when the new
        grid comes."""
        if self.contours.interim == on:
            return
        self.contours.interim = self.batch_contours.interim = on
        for c in (*self.trails, *self.halos):  # (their sealed chunks, as the contours)
            c.set_interim(on)
        self.image.setCacheMode(QGraphicsItem.CacheMode.NoCache if on
                                else QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def _on_grid_timer(self) -> None:
        (x0, x1), (y0, y1) = self.vb.viewRange()
        self._recompute_grid((x0, x1, y0, y1))
        self.map_layer.refresh()
        self._on_stepped()  # diverged marks are clamped to the visible box; arrows in pixels

    def _recompute_grid(self, box, new: bool = False, defer: bool = True) -> None:
        """Evaluate the surface on the visible box; redraw heatmap, colour bar and contours.

        A live slice in the window (:meth:`_live_defer`) goes to the worker, which this waits
        LIVE_SYNC_MS for; a slower one is drawn when it lands, and until then the map keeps
        its last picture (``new``: a new problem's, whose old picture is cleared).
        ``defer=False``: computed here."""
        self._grid_timer.stop()
        self._live_stale = False
        x0, x1, y0, y1 = (float(v) for v in box)
        if not (x1 > x0 and y1 > y0):
            self._set_interim(False)
            return
        self._box = (x0, x1, y0, y1)
        self._batch_key = None
        land = self.session.landscape
        live = getattr(land, "live", False)
        n = self._live_size() if live else self._static_size(land)
        self._live_inbox.drop()
        if defer and self._live_defer() and (live or self._slow_grid(land, n)):
            self._send_live(land, n, new)
            return
        self._set_interim(False)
        if self._live_worker is not None:
            self._live_worker.cancel()  # this picture is newer than the one in flight
        self._live_sent = None
        if live:
            self._land_key = (land.key(), n)
        pic = self._grid_picture(land, self._box, n)
        if live and self._live_async():
            self._adapt_live_grid(pic.ms)
        self._show_grid(pic)

    @staticmethod
    def _slow_grid(land, n: int) -> bool:
        """A surface that is not live whose (n, n) grid is too slow for the window's turn
        (:data:`SLOW_GRID_WORK`)."""
        work = getattr(land, "grid_work", None)
        return work is not None and work(n, n) > SLOW_GRID_WORK

    def _live_defer(self) -> bool:
        """In the window, a new box's or problem's live slice goes through the worker (see
        LIVE_SYNC_MS), paused or playing. (Playing, it was computed here: a fit's slice
        whose data changed took 200-330 ms on the UI thread before the kernels were
        compiled, a deep network's longer with them.)"""
        return self.adaptive

    def _send_live(self, land, n: int, new: bool) -> None:
        """Hand the exact slice (paused: the full live grid) to the worker and wait up to
        LIVE_SYNC_MS for it; a slice already on its way for the same step and box is not
        sent again. Sent during a change (a lesson, a step), the wait comes after the
        change's other refreshes (:meth:`_collect_live`), which ran meanwhile: a lesson's
        turn waited 36 ms for L9's slice on top of 70-100 ms of its own work."""
        live = getattr(land, "live", False)
        # (a static surface's key holds the surface: the same one, the same picture)
        key = land.key() if live else (_STATIC, land)
        sent = (key, n, self._box)
        if new:  # not the last problem's picture while this one's comes
            self.contours.setData([], [])
            self.image.clear()
            self._z = None
        elif self._live_sent == sent:
            return
        self._live_sent = sent
        self._set_interim(True)  # (a zoom's last picture, moved and scaled, until then)
        w = self._ensure_live_worker()
        snap = pinned(land) if live else land  # (a static surface does not change)
        box = self._box
        job = (land, key, box)
        gen = w.submit(job, self._grid_job(snap, box, n))
        deadline = time.monotonic() + LIVE_SYNC_MS / 1000.0 if math.isfinite(LIVE_SYNC_MS) \
            else None
        self._live_due = (gen, job, deadline)
        later(self.session, self._collect_live, last=True)  # (at once outside a change)

    def _collect_live(self) -> None:
        """The slice sent last (:meth:`_send_live`), drawn now if it comes by its deadline;
        else when it lands (:meth:`_on_live_done`)."""
        due, self._live_due = self._live_due, None
        w = self._live_worker
        if due is None or w is None:
            return
        gen, job, deadline = due
        if deadline is not None:
            deadline = min(deadline, refreshes.deadline(LIVE_TURN_MS / 1000.0))
        pic = w.wait(gen, None if deadline is None else max(deadline - time.monotonic(), 0.0))
        land, _, box = job
        if (pic is None or gen <= w.floor or gen <= self._live_shown
                or land is not self.session.landscape or box != self._box):
            return  # drawn when it lands (_on_live_done), or a newer picture came meanwhile
        # in time: drawn now, as if computed here (this box's and step's, the newest job;
        # also while the view is still being built, which _show_live waits out)
        if isinstance(pic, Exception):
            self._live_sent = None
            raise pic
        self._draw_live(gen, job, pic)

    def _grid_picture(self, land, box, n: int) -> GridPicture:
        return self._grid_job(land, box, n)()

    def _grid_job(self, land, box, n: int):
        """:func:`grid_picture` of ``land`` with this view's settings now, as a function of
        nothing: a job for the worker's thread that holds no Qt object (see
        :mod:`gdviz.ui.views.live_grid`)."""
        levels, scale = self.session.levels, LOG_SCALE.get(self.session.scale)
        lowest = self._lowest_cells
        return lambda: grid_picture(land, box, n, levels, scale, lowest, MAX_CONTOUR_SEGMENTS)

    def _show_grid(self, pic: GridPicture) -> None:
        """Draw ``pic`` (see :func:`grid_picture`): heatmap, colour bar and contours."""
        x0, x1, y0, y1 = pic.box
        n = pic.n
        self._z = pic.z
        if pic.xy is None:
            self.contours.setData([], [])
            self.image.clear()
            return
        xy = pic.xy
        self.contours.setData(xy[:, 0], xy[:, 1])
        lo, hi = pic.levels
        self.image.setImage(pic.img32, autoLevels=False, levels=(lo, hi))
        self._valley = pic.valley
        dx, dy = (x1 - x0) / (n - 1), (y1 - y0) / (n - 1)
        # grid values sit at pixel centres
        self.image.setRect(QRectF(x0 - dx / 2, y0 - dy / 2, x1 - x0 + dx, y1 - y0 + dy))
        self.colorbar.setLevels((lo, hi))
        if pic.label != self._colorbar_label:
            self._colorbar_label = pic.label
            self._write_label("bar", tr(pic.label), self._label_style(),
                              lambda _, text, **kw: self.colorbar.axis.setLabel(text, **kw))
        self._fit_colorbar()

    # ------------------------------------------------------------------ live surface, async
    def _live_n(self) -> int:
        """The grid of a live surface now: adapted to the machine (:attr:`live_grid`) while
        the race plays in the window; paused, stepped by hand or exported always
        :data:`LIVE_GRID`, so that a picture that stands still does not depend on how fast
        the frames before it were (the window's and the export's are the same)."""
        return self.live_grid if self._live_async() else LIVE_GRID

    def _static_size(self, land) -> int:
        """The grid a surface that is not live is computed on: :attr:`grid_size`, less for
        a long program (:data:`STATIC_GRID_WORK`)."""
        n = self.grid_size
        work = max(len(getattr(land, "code", ())), 1)
        if work * n * n > STATIC_GRID_WORK:
            n = max(min(STATIC_GRID_MIN, n), int(math.sqrt(STATIC_GRID_WORK / work)))
        return n

    def _live_size(self) -> int:
        """The grid a live surface's picture is computed on now (:meth:`_live_n`, at most
        :attr:`grid_size`)."""
        return min(self.grid_size, self._live_n())

    def _live_async(self) -> bool:
        """A live surface goes to the worker while the race plays in the window (paused,
        stepped by hand or exported, the map shows the exact slice at once)."""
        return self.adaptive and bool(self.session.playing)

    def _request_live(self, land, key: bytes) -> None:
        """Hand the slice through the reference run's parameters now to the worker (one at a
        time: a frame whose step finds it busy shows the last finished one)."""
        w = self._ensure_live_worker()
        if w.busy:
            return
        snap = pinned(land)
        box = self._box
        n = self._live_size()
        w.submit((land, key, box), self._grid_job(snap, box, n))

    def _ensure_live_worker(self) -> LiveGridWorker:
        if self._live_worker is None:
            self._live_worker = LiveGridWorker(self)
            self._live_worker.done.connect(self._on_live_done)
        return self._live_worker

    def _live_current(self, gen: int, job, pic) -> bool:
        """The worker's picture ``pic`` of job ``job`` (generation ``gen``) is of the shown
        surface and box, and newer than the one shown."""
        land, key, box = job
        w = self._live_worker
        if w is None or gen <= w.floor or gen <= self._live_shown:
            return False
        return bool(getattr(self, "_ready", False)) and land is self.session.landscape \
            and box == self._box and not isinstance(pic, Exception)

    def _on_live_done(self, gen: int, job, pic) -> None:
        if not self._live_current(gen, job, pic):
            return
        land, key, _ = job
        if self._live_async():
            # drawn with the next step, in its paint (see FrameInbox), which then asks for
            # the slice of its own step
            self._live_inbox.hold(gen, job, pic)
            return
        self._show_live(gen, job, pic)
        self._update_live_surfaces()  # the race moved on, or stopped: its exact slice now

    def _on_live_inbox(self, gen: int, job, pic) -> None:
        """A held slice that no step came to take (a slow race): drawn now."""
        self._show_live(gen, job, pic)
        self._update_live_surfaces()  # (the slice of the step shown now, if another)

    def _show_live(self, gen: int, job, pic) -> None:
        if self._live_current(gen, job, pic):
            self._draw_live(gen, job, pic)

    def _draw_live(self, gen: int, job, pic) -> None:
        """Draw the worker's picture ``pic`` of ``job`` (generation ``gen``)."""
        land, key, _ = job
        self._live_shown = gen
        self._land_key = (key, pic.n)
        if self._live_sent is not None and self._live_sent[0] == key:
            self._live_sent = None
        if pic.log_levels is not None:
            land.log_levels = pic.log_levels  # as a recompute on this thread leaves it
        if self.session.playing:
            self._adapt_live_grid(pic.ms)
        if not self._grid_timer.isActive():  # (not while a zoom waits for its own grid)
            self._set_interim(False)
        self._show_grid(pic)

    def _apply_strokes(self) -> None:
        """The trails' and halos' live pieces aliased or not (:class:`PlayingStrokes`)."""
        smooth = not self.strokes.aliased
        for c in (*self.trails, *self.halos):
            c.set_smooth(smooth)

    def _on_playing_changed(self, *_) -> None:
        self._apply_strokes()  # paused: antialiased again
        if not self.session.playing:  # paused: the exact slice at the displayed step
            for trail in self.trails:  # (and their halos) from pixels until they change
                trail.settle()
            self._update_live_surfaces()

    @staticmethod
    def _lowest_cells(img: np.ndarray, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
        """Centres of the lowest ``VALLEY_SHARE`` of the grid's cells (at most ~4000 of
        them), view coordinates (k, 2): where a lesson's runs go."""
        n_y, n_x = img.shape
        step = max(1, math.ceil(max(n_x, n_y) / 64))
        sub = img[::step, ::step]
        good = np.isfinite(sub)
        if not good.any():
            return np.zeros((0, 2))
        cut = np.percentile(sub[good], 100 * VALLEY_SHARE)
        iy, ix = np.nonzero(good & (sub <= cut))
        xs = x0 + (ix * step) * (x1 - x0) / max(n_x - 1, 1)
        ys = y0 + (iy * step) * (y1 - y0) / max(n_y - 1, 1)
        return np.column_stack([xs, ys])

    def _adapt_live_grid(self, ms: float) -> None:
        """A live surface is recomputed every frame: keep that within the frame budget."""
        if not self.adaptive:
            return
        if ms > LIVE_BUDGET_MS:
            self.live_grid = max(LIVE_GRID_MIN, int(self.live_grid * 0.75))
        elif ms < 0.3 * LIVE_BUDGET_MS:
            self.live_grid = min(LIVE_GRID, int(self.live_grid * 1.25) + 1)

    def _clamp_to_view(self, p: np.ndarray) -> np.ndarray:
        """``p`` moved just inside the visible box (a run that flew off the map is marked
        at the edge it left by)."""
        (x0, x1), (y0, y1) = self.vb.viewRange()
        mx, my = 0.04 * (x1 - x0), 0.06 * (y1 - y0)
        return np.array([min(max(p[0], x0 + mx), x1 - mx), min(max(p[1], y0 + my), y1 - my)])

    # ------------------------------------------------------------------ step-by-step arrows
    def _arrow_pairs(self, p0: np.ndarray, vec: np.ndarray) -> np.ndarray:
        """Shaft and two head strokes of an arrow from p0 along vec, as pairs (6, 2)."""
        p1 = p0 + vec
        px, py = self.vb.viewPixelSize()
        px, py = (px or 1.0), (py or 1.0)
        d = np.array([vec[0] / px, vec[1] / py])
        norm = math.hypot(d[0], d[1])
        if norm == 0 or not math.isfinite(norm):
            return np.zeros((0, 2))
        d /= norm
        head = min(ARROW_HEAD_PX * max(1.0, theme.font_scale()), 0.6 * norm)
        out = [p0, p1]
        for sign in (1.0, -1.0):
            a = math.radians(152.0) * sign
            rx = d[0] * math.cos(a) - d[1] * math.sin(a)
            ry = d[0] * math.sin(a) + d[1] * math.cos(a)
            out += [p1, p1 + np.array([rx * head * px, ry * head * py])]
        return np.asarray(out, dtype=np.float64)

    def _update_arrows(self) -> None:
        s = self.session
        r = s.selected
        details = None
        if 0 <= r < s.n_runs and s.run_enabled(r):
            # the window's map: a past step's numbers re-played within a share of the turn,
            # the arrows drawn once they are (an export's: at once, in its frame)
            deadline = time.perf_counter() + ARROWS_TURN_S if self.pace.enabled else None
            details = s.details(r, deadline=deadline)
            if details is DETAILS_PENDING:
                details = None
                if self._arrows_more is None:
                    self._arrows_more = QTimer(self)
                    self._arrows_more.setSingleShot(True)
                    self._arrows_more.setInterval(0)
                    self._arrows_more.timeout.connect(self._update_arrows)
                self._arrows_more.start()
        vectors: dict[str, np.ndarray | None] = {k: None for k in self.arrow_names}
        p0 = None
        if details is not None:
            p0 = s.project(s.positions(s.t - 1)[r])
            g = s.project(details.get("g"))
            m = details.get("m")
            m = None if m is None else s.project(m)
            delta = s.project(details.get("delta"))
            if not (np.isfinite(p0).all() and np.isfinite(g).all()):
                details = None
        arrow_scale = None
        if details is not None:
            has_m = m is not None and np.isfinite(m).all() and np.any(m != 0) \
                and self._uses_momentum(r)
            raw = {"gradient": -g, "momentum": -m if has_m else None,
                   "update": delta if np.isfinite(delta).all() else None}
            vectors, arrow_scale = self._arrow_vectors(raw)
        pal = theme.palette(theme.current())
        scale = max(1.0, theme.font_scale())
        widths = {"gradient": 4.0 * scale, "momentum": 7.0 * scale, "update": 5.0 * scale}
        for k in self.arrow_names:
            width = widths[k]
            vec = vectors[k]
            if vec is None or p0 is None:
                if k not in self._arrows_empty:  # (setting an empty item again costs)
                    self.arrows[k].setData([], [])
                    self.arrow_halos[k].setData([], [])
                    self._arrows_empty.add(k)
                continue
            self._arrows_empty.discard(k)
            pairs = self._arrow_pairs(p0, vec)
            self.arrows[k].setPen(pg.mkPen(pal[f"arrow_{k}"], width=width,
                                           capStyle=Qt.PenCapStyle.RoundCap))
            self.arrow_halos[k].setPen(pg.mkPen(theme.qcolor(pal["halo"], 200), width=width + 3,
                                                capStyle=Qt.PenCapStyle.RoundCap))
            self.arrows[k].setData(pairs[:, 0], pairs[:, 1])
            self.arrow_halos[k].setData(pairs[:, 0], pairs[:, 1])
        drawn = () if details is None else tuple(k for k in self.arrow_names
                                                 if vectors[k] is not None)
        # (no arrow drawn, none listed: a step whose every arrow is not finite left an
        # empty key, placed in zero columns, a ZeroDivisionError in the GUI fuzz)
        self.arrow_legend.setVisible(bool(drawn))
        if drawn:
            if drawn != self._arrow_shown:
                self._fill_arrow_legend(drawn)
            self._label_arrow_legend(arrow_scale)
            self._place_arrow_legend()

    def _arrow_vectors(self, raw: dict) -> tuple[dict, float | None]:
        """The arrows as drawn: one scale for all three, so that their lengths compare (the
        SGD update is the −gradient times the lr), the longest spanning ARROW_FRACTION of
        the map; one too short to see is drawn ARROW_MIN_PX long. Returns the vectors and
        the scale (the table states the true values)."""
        px, py = self.vb.viewPixelSize()
        px, py = (px or 1.0), (py or 1.0)
        W, H = float(self.vb.width()) or 1.0, float(self.vb.height()) or 1.0

        def pixels(v):
            with np.errstate(over="ignore"):  # beyond float range in pixels: inf
                return math.hypot(v[0] / px, v[1] / py)

        shown = {k: v for k, v in raw.items()
                 if v is not None and np.isfinite(v).all() and pixels(v) > 0}
        if not shown:
            return {k: None for k in raw}, None
        scale = ARROW_FRACTION * min(W, H) / max(pixels(v) for v in shown.values())
        if not math.isfinite(scale):
            # every vector too small for its pixel length to divide by (1e-320: a scale of
            # inf, and 0 x inf a NaN, found by the GUI fuzz): each its direction alone
            scale = None
        out = {k: None for k in raw}
        for k, v in shown.items():
            n = pixels(v)  # > 0; inf for a vector beyond float range in pixels
            if scale is not None and n * scale >= ARROW_MIN_PX:
                out[k] = v * scale
            elif math.isfinite(n):
                # too short to see at the shared scale (or scaled to 0 beside a huge one:
                # 1e-300 beside 1e300 divided by zero, found by the GUI fuzz): its direction,
                # ARROW_MIN_PX long (from the vector brought to order 1 first: a tiny one's
                # ARROW_MIN_PX / n overflows)
                u = v / float(np.max(np.abs(v)))
                out[k] = u * (ARROW_MIN_PX / pixels(u))
        return out, scale

    def _on_plot_resized(self, *_) -> None:
        if self.arrow_legend.isVisible():
            self._update_arrows()
        # a bigger text or a smaller map: the "diverged" labels find their room again
        moved = False
        for label in self.diverged_labels:
            mark = getattr(label, "mark", None)
            if label.isVisible() and mark is not None:
                label.setPos(*mark)
                self._anchor_diverged(label, mark)
                moved = True
        if moved:
            self._unstack_labels()

    def _label_arrow_legend(self, scale: float | None) -> None:
        """The arrows' key names their common scale ("×0.25"): the arrows show directions
        and relative sizes, the step-by-step table the true values."""
        self._arrow_scale = scale
        note = f"  ×{scale:.3g}" if scale is not None and not 0.95 < scale < 1.05 else ""
        if note == getattr(self, "_arrow_note", None):
            return
        self._arrow_note = note
        # once, on the first entry: the scale is common, and a one-row key has no room
        for i, ((_, label), k) in enumerate(zip(self.arrow_legend.items, self._arrow_shown)):
            label.setText(tr(f"arrow_{k}") + (note if i == 0 else ""))

    def _place_arrow_legend(self) -> None:
        if not self._legend_timer.isActive():
            self._legend_timer.start()

    def _uses_momentum(self, r: int) -> bool:
        cfg = self.session.effective_config(self.session.spec_index(r))
        name = cfg.name
        if name in ("adam", "adamw"):
            return True
        if name in ("momentum", "nesterov", "sgd"):
            return float(getattr(cfg, "momentum", 0.0) or 0.0) > 0
        return False

    # ------------------------------------------------------------------ mouse
    def _on_scene_clicked(self, ev) -> None:
        """Click: every run starts here. Shift+click: add a start here."""
        if ev.button() != Qt.MouseButton.LeftButton or ev.double() or ev.isAccepted():
            return
        pos = ev.scenePos()
        if not self.vb.sceneBoundingRect().contains(pos):
            return
        for item in self.scene().items(pos):
            if not item.isVisible():
                continue
            if item in self.start_items or any(
                    leg.isVisible() and (item is leg or leg.isAncestorOf(item))
                    for leg in (self.legend, self.arrow_legend)):
                return  # a click on a start marker or a legend is not a new start
        p = self.vb.mapSceneToView(pos)
        x, y = float(p.x()), float(p.y())
        if ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.session.add_start(x, y)
        else:
            self.session.set_start(x, y)
        ev.accept()

    def _on_start_dragged(self, k: int, item) -> None:
        p = item.pos()
        s = self.session
        if k < len(s.starts) and (float(p.x()), float(p.y())) != tuple(s.project(s.starts[k])):
            s.move_start(k, float(p.x()), float(p.y()))

    # ------------------------------------------------------------------ theme & fonts
    @closes_once
    def close(self) -> bool:
        """Stop observing the session, then close (pyqtgraph tears the plot item down).
        Closing twice is harmless."""
        self._ready = False
        self._disconnect()
        forget(self)
        self._pending_build = None
        if hasattr(self, "_spares"):  # (a view closed while it was being built)
            self._spares.close()
        for name in ("_grid_timer", "_legend_timer"):  # (a grid due after would draw on
            if hasattr(self, name):                    # items pyqtgraph tore down)
                getattr(self, name).stop()
        if hasattr(self, "colorbar"):  # (its axis resized in the teardown, the bar deleted:
            try:                       # "ColorBarItem already deleted")
                self.colorbar.axis.geometryChanged.disconnect(self._on_bar_axis_geometry)
            except (RuntimeError, TypeError):
                pass
        if hasattr(self, "map_layer"):  # (a staged build stopped before it)
            self.map_layer.close()
        if getattr(self, "_live_worker", None) is not None:
            self._live_worker.stop()
        if hasattr(self, "_live_inbox"):  # (a held live picture drawn after, on torn-down
            self._live_inbox.drop()       # items: "already deleted" in a test's teardown)
        return super().close()

    def _disconnect(self) -> None:
        self._connections = disconnect_all(getattr(self, "_connections", []))

    def changeEvent(self, ev) -> None:
        if not getattr(self, "_ready", False):  # Qt sends events during __init__ and after close
            super().changeEvent(ev)
            return
        t = ev.type()
        if t in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            # a refresh of its own: within a theme's change it runs in the change's budget,
            # the rest of the views' restyles in the turns after (gdviz.ui.views.refresh)
            later(self.session, self._apply_theme)
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
        cb_axis = self.colorbar.axis
        cb_axis.setPen(pg.mkPen(pal["foreground"]))
        cb_axis.setTextPen(pg.mkPen(pal["foreground"]))
        self.colorbar.setColorMap(theme.colormap())
        self.contours.setPen(pg.mkPen(theme.qcolor(pal["contour"], pal["contour_alpha"]),
                                      width=1.6))
        self.batch_contours.setPen(pg.mkPen(theme.qcolor(pal["batch_surface"], 235), width=2.6))
        self.minima.setBrush(pg.mkBrush("#FFD400"))
        self.minima.setPen(pg.mkPen(pal["halo"], width=2))
        for name in self.arrow_names:
            self.arrows[name].setPen(pg.mkPen(pal[f"arrow_{name}"], width=4.5))
        theme.style_legend(self.legend)
        theme.style_legend(self.arrow_legend)
        if hasattr(self, "map_layer"):
            self.map_layer.retheme()
        if self.trails:  # re-colour runs, starts, markers and labels (no item is made)
            self._style_runs()
            self._sync_starts()
            self._on_stepped()
            self._refresh_labels()

    def _refresh_labels(self) -> None:
        """The axes' titles, the plot's title (elided to the width) and the colour bar's, in
        the theme and text size; each written only when it changed (this runs at every
        resize: the same titles written again laid the plot out again, ~15 times per text
        size)."""
        land = self.session.landscape
        fg = theme.palette(theme.current())["foreground"]
        names = getattr(land, "param_names", None) or ("x", "y")
        style = self._label_style()
        self._write_label("bottom", names[0], style, self.plot_item.setLabel)
        self._write_label("left", names[1], style, self.plot_item.setLabel)
        # built-in surfaces say their name; data maps and custom functions their formula
        builtin = getattr(land, "sid", -1) >= 0
        title = (tr("surface_title", name=tr(f"surface_{land.name}", default=land.name),
                    formula=land.label) if builtin else self._data_title(land))
        if getattr(self, "map_layer", None) is not None and self.map_layer.title:
            title = self.map_layer.title  # the map mode says what its colours mean
        # a long title would widen the plot past a narrow map: elide it to the width
        # (the title is HTML in pyqtgraph's own font: leave a generous margin)
        f = theme.font(theme.LABEL_PT)
        room = max(int(0.85 * self.width()) - 40, 120)
        title = QFontMetrics(f).elidedText(title, Qt.TextElideMode.ElideRight, room)
        self._write_label("title", title, {"color": fg, "size": f"{theme.pt(theme.LABEL_PT):.0f}pt"},
                          lambda _, text, **kw: self.plot_item.setTitle(text, **kw))
        if getattr(self, "_colorbar_label", None):
            self._write_label("bar", tr(self._colorbar_label), style,
                              lambda _, text, **kw: self.colorbar.axis.setLabel(text, **kw))

    def _write_label(self, where: str, text: str, style: dict, write) -> None:
        """``write(where, text, **style)`` unless that is what ``where`` shows already."""
        written = self.__dict__.setdefault("_labels_written", {})
        key = (text, tuple(style.items()))
        if written.get(where) != key:
            written[where] = key
            write(where, text, **style)

    def _data_title(self, land) -> str:
        """A data map's title in the UI language (its own label on custom functions)."""
        loss = getattr(land, "loss_kind", None) or getattr(getattr(land, "problem", None),
                                                            "loss_kind", "")
        if not loss:
            return land.label
        names = getattr(land, "param_names", None) or ("x", "y")
        if land.name == "fit-slice":
            return tr("map_title_slice", loss=loss.upper(), a=names[0], b=names[1])
        if land.name == "linear-regression":
            return tr("map_title_regression", loss=loss.upper())
        return land.label

    def _label_style(self) -> dict:
        fg = theme.palette(theme.current())["foreground"]
        return {"color": fg, "font-size": f"{theme.pt(theme.LABEL_PT):.0f}pt"}

    def _apply_fonts(self) -> None:
        tick = theme.font(theme.BASE_PT)
        for name in ("left", "bottom"):
            ax = self.plot_item.getAxis(name)
            ax.setStyle(tickFont=tick, tickTextOffset=8)
        self.colorbar.axis.setStyle(tickFont=tick, tickTextOffset=8)
        self._legend_form = LEGEND_FORMS[0]
        self._legend_changed(refit=True)
        set_legend_columns(self.legend, 1)
        self.legend.setLabelTextSize(self._legend_text_size(1.0))
        self._set_arrow_key_size(1.0)
        theme.style_legend(self.legend)  # writes the labels anew in the new size
        theme.style_legend(self.arrow_legend)
        label_font = theme.font(theme.BASE_PT, bold=True)
        for label in self.diverged_labels:
            label.setFont(label_font)
        self._refresh_labels()
        self._fit_axes()
        self._show_colorbar()  # bigger text needs a wider map for the bar
        self._legend_timer.start()

    def _fit_axes(self) -> None:
        """Axes as wide (tall) as their tick labels and titles at this text size."""
        # the left axis keeps a width set by the font alone: one that followed the ticks
        # would shift the map as the view pans
        left = self.plot_item.getAxis("left")
        want = int(18 + 3.2 * theme.pt(theme.BASE_PT))
        if left.fixedWidth != want:
            left.setWidth(want)
        fit_axis_height(self.plot_item.getAxis("bottom"))
        self._fit_colorbar()

    def _fit_colorbar(self) -> None:
        lo, hi = self.colorbar.levels()
        self._bar_fit_height = self.colorbar.axis.height()
        fit_axis_width(self.colorbar.axis, lo, hi)

    def _on_bar_axis_geometry(self) -> None:
        """The bar's ticks depend on its height: fit its width again once the layout has
        given it a new one (a lesson opened in the window kept the width of ticks laid out
        for the old height, and its map sat 12 px narrower than the export's)."""
        if self.colorbar.isVisible() and \
                self.colorbar.axis.height() != getattr(self, "_bar_fit_height", None):
            self._fit_colorbar()
