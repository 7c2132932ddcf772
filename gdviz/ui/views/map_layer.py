"""The landscape's map mode: every point of the view coloured as a start (issue 11).

:class:`BasinLayer` sits on a :class:`~gdviz.ui.views.landscape_view.LandscapeView`
between the heatmap and the contours. While ``session.map_layer`` is "basins" or "steps" it
shows, for the selected run's optimizer, hyperparameters, schedule and step budget, the
minimum each start ends in (a colour per basin, fixed by a
:class:`~gdviz.core.maps.BasinBook`) or its steps to converge (log colour scale).
Diverged starts are the theme's diverged colour, starts still moving at the end grey.
On data problems (regression L(w, b), a fit's slice) the starts vary the two shown
parameters of the run's start and step the race's own problem (its mini-batches), on a
coarser grid (:data:`DATA_GRID`).

Live: a change of the setting (an lr or momentum slider) starts a new computation on a
worker thread (:class:`MapWorker`): a coarse 32x32 pass first (it fits in a frame beside
the race, see :data:`~gdviz.core.maps.COARSE_GRID`), then passes of doubling
side up to the full grid, each in chunks; a newer setting cancels the old one between
chunks. The UI thread only colours finished passes. An export computes the full grid
at once (:meth:`BasinLayer.flush`), so a frame never shows a half-refined map.
"""

from __future__ import annotations

import threading

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, QSignalBlocker, Signal
from PySide6.QtGui import QAction, QActionGroup

import gdviz.kernels as kernels
from gdviz.core import maps as CM
from gdviz.core.i18n import tr
from gdviz.ui import theme
from gdviz.ui.views.live_grid import alive_flag, owned_by

#: full side of a live basin map
FULL_GRID = 256
#: a numpy-twin map (kernels still compiling) stops at this side
TWIN_GRID = 48
#: cells per chunk of a pass (a cancel waits at most one chunk)
CHUNK = 8192
#: cells an export's map computes per piece while it prepares (about 30 ms with the kernels)
SYNC_CHUNK = 2048
#: at most this many steps per start in a live map (the race's budget, capped)
LIVE_STEPS = 2000
#: a data problem's map (each step evaluates the data for every start): a smaller grid
DATA_GRID = 64
DATA_STEPS = 1000
#: a data problem's first pass: a cell of L09's 30-unit fit takes ~10 ms, so 16² cells show
#: in ~2.5 s on one core, where 32² took ~10
DATA_COARSE = 16
#: basin hues (blended with the background: the runs' saturated colours stay readable)
BASIN_HUES = CM.BASIN_HUES


def basin_colors(n: int, name: str | None = None) -> np.ndarray:
    """RGBA uint8 (n, 4) for basins 0..n-1 in theme ``name`` (cycling the hues)."""
    pal = theme.palette(name or theme.current())
    bg = np.array(pg.mkColor(pal["background"]).getRgb()[:3], dtype=float)
    k = 0.55 if pal["name"] == "light" else 0.5
    out = np.empty((max(n, 0), 4), dtype=np.uint8)
    for i in range(n):
        c = np.array(pg.mkColor(BASIN_HUES[i % len(BASIN_HUES)]).getRgb()[:3], dtype=float)
        out[i, :3] = np.round(k * c + (1 - k) * bg)
        out[i, 3] = 255
    return out


def special_colors(name: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(diverged, still moving) RGBA uint8 colours of theme ``name``."""
    pal = theme.palette(name or theme.current())
    div = np.array(pg.mkColor(pal["diverged"]).getRgb(), dtype=np.uint8)
    div[3] = 255
    grey = np.array(pg.mkColor(pal["grid"]).getRgb(), dtype=np.uint8)
    grey[3] = 255
    return div, grey


def data_setup_for(session):
    """(problem, setup, base, dims) of the selected run on a data problem (regression
    L(w, b), a fit's slice), or None on a 2-D surface. The map's starts vary the two shown
    parameters ``dims`` of the run's start ``base``; the problem is the race's engine
    problem (its mini-batches), so a pixel is the race's run from that start."""
    if not session.is_data:
        return None
    r = session.reference_run()
    i = session.spec_index(r)
    steps = int(min(session.max_steps, DATA_STEPS))
    setup = CM.MapSetup(session.effective_config(i), session.specs[i].schedule, steps=steps,
                        total=int(session.max_steps))
    base = tuple(float(v) for v in session.starts[session.start_index(r)])
    dims = tuple(int(d) for d in session.linked) if session.kind == "fit" else (0, 1)
    return session.runset.problem, setup, base, dims


def setup_for(session) -> tuple[object, CM.MapSetup] | None:
    """(landscape, setup) of the session's selected (else first shown) run, or None when
    the problem has no 2-D landscape the map kernel can step (data problems)."""
    land = session.landscape
    if getattr(land, "sid", None) is None or not hasattr(land, "code"):
        return None
    r = session.reference_run()
    i = session.spec_index(r)
    cfg = session.effective_config(i)
    steps = int(min(session.max_steps, LIVE_STEPS))
    return land, CM.MapSetup(cfg, session.specs[i].schedule, steps=steps,
                             total=int(session.max_steps), noise=float(session.noise),
                             batch_size=int(session.batch_size), seed=int(session.seed),
                             noise_run=int(r))


class MapWorker(QObject):
    """Computes passes of a map on one worker thread; ``done(generation, payload)`` for
    each finished pass (queued to the UI thread). :meth:`submit` cancels older jobs."""

    done = Signal(int, object)

    def __init__(self, parent):
        super().__init__(owned_by(parent))
        self._lock = threading.Condition()
        self._job = None
        self._gen = 0
        self._running = 0  # the generation of the job being computed
        self._stop = False
        self._alive = alive_flag(self, self._lock)
        self._thread = threading.Thread(target=self._loop, name="gdviz-map", daemon=True)
        self._thread.start()

    def submit(self, passes) -> int:
        """``passes``: a list of (tag, n_cells, fn(slice) -> MapResult, finish(results) ->
        payload). Returns the job's generation."""
        with self._lock:
            self._gen += 1
            self._job = (self._gen, list(passes))
            self._lock.notify()
            return self._gen

    def cancel(self) -> None:
        with self._lock:
            self._gen += 1
            self._job = None

    @property
    def generation(self) -> int:
        return self._gen

    def stale(self) -> bool:
        """True, on the worker's thread, when the job being computed has been replaced or
        cancelled, or its owner deleted: a long chunk (a data map steps for seconds) asks
        this between its steps and stops early. Always False elsewhere (an export computes
        its map on its own thread after cancelling the worker's job)."""
        return threading.current_thread() is self._thread and (self._running != self._gen
                                                                or not self._alive[0])

    def stop(self) -> None:
        with self._lock:
            self._stop = True
            self._gen += 1
            self._job = None
            self._lock.notify()

    def _loop(self) -> None:
        kernels.lower_thread_priority()  # the window first, where both want a core
        while True:
            with self._lock:
                while self._job is None and not self._stop and self._alive[0]:
                    self._lock.wait()
                if self._stop or not self._alive[0]:
                    return  # (stopped, or its owner deleted by Qt: see alive_flag)
                gen, passes = self._job
                self._job = None
                self._running = gen
            kernels.spare_a_core()  # the window keeps a core while the map computes
            for tag, n, fn, finish in passes:
                parts = []
                for sl in CM.chunks(n, CHUNK):
                    if gen != self._gen or not self._alive[0]:
                        break
                    try:
                        parts.append(fn(sl))
                    except Exception as exc:  # a bad setting: the view shows the message
                        parts = exc
                        break
                if gen != self._gen or not self._alive[0]:
                    break
                try:
                    payload = parts if isinstance(parts, Exception) else finish(parts)
                except Exception as exc:
                    payload = exc
                with self._lock:  # (not while Qt deletes it: see alive_flag)
                    if not self._alive[0]:
                        return
                    try:
                        self.done.emit(gen, (tag, payload))
                    except RuntimeError:  # the view is gone (the app quits): nobody to tell
                        return
                if isinstance(payload, Exception):
                    break


def join_results(parts: list[CM.MapResult], nx: int, ny: int) -> CM.MapResult:
    return CM.MapResult(nx, ny, np.concatenate([p.end for p in parts]),
                        np.concatenate([p.end_loss for p in parts]),
                        np.concatenate([p.conv_at for p in parts]),
                        np.concatenate([p.diverged_at for p in parts]))


class BasinLayer(QObject):
    """The basin / steps map of a landscape view (see the module docstring)."""

    def __init__(self, view, *, sync: bool = False, full_grid: int = FULL_GRID):
        super().__init__(view)
        self.view = view
        self.session = view.session
        #: export: compute the full grid at once, on this thread
        self.sync = bool(sync)
        self.full_grid = int(full_grid)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-90)  # over the heatmap, under the contours and the runs
        self.image.setVisible(False)
        view.plot_item.addItem(self.image)
        #: the map's title while it shows ("" otherwise): what its colours mean
        self.title = ""
        self.book: CM.BasinBook | None = None
        self._book_lock = threading.Lock()
        self._book_for = None
        self._setup_key = None
        self._shown = None  # (side, labels or steps image, box)
        self.result: CM.MapResult | None = None
        self.labels: np.ndarray | None = None
        self.error = ""
        self.worker = MapWorker(self)
        self.worker.done.connect(self._on_done)
        self._gen = -1
        self._closed = False
        #: True while the window's kernels are being compiled (see :meth:`_start`)
        self.kernels_due = False
        self._waiting = False  # a map waits for them
        self._data = None
        self._shown_key = None
        self._build_menu()
        s = self.session
        s.events.map_layer.connect(self._sync_menu)
        s.events.hyper_axis.connect(self._sync_menu)
        s.events.hyper_color.connect(self._sync_menu)

    # ------------------------------------------------------------------ menu
    def _build_menu(self) -> None:
        """The map's context menu: the map mode and the hyper panel's axis and colour
        (they write the session; the menu follows it)."""
        menu = self.view.vb.menu
        self.mode_menu = menu.addMenu(tr("map_layer"))
        self.hyper_menu = menu.addMenu(tr("hyper_map"))
        self.actions: dict[tuple[str, str], QAction] = {}
        groups = (("map_layer", ("off", "basins", "steps"), self.mode_menu),
                  ("hyper_axis", ("off", "momentum", "beta1", "beta2", "batch_size"),
                   self.hyper_menu),
                  ("hyper_color", ("loss", "steps"), self.hyper_menu))
        for field, values, sub in groups:
            grp = QActionGroup(self)
            if field == "hyper_color":
                sub.addSeparator()
            for v in values:
                act = QAction(v, self, checkable=True)
                grp.addAction(act)
                sub.addAction(act)
                act.triggered.connect(lambda _=False, f=field, v=v:
                                      self.session.set_map_options(**{f: v}))
                self.actions[(field, v)] = act
        self.retranslate()
        self._sync_menu()

    def _sync_menu(self, *_) -> None:
        s = self.session
        for (field, v), act in self.actions.items():
            with QSignalBlocker(act):
                act.setChecked(getattr(s, field) == v)

    def retranslate(self) -> None:
        if self.title and self.result is not None:
            self.title = ""
            self._fill_key(self.session.map_layer, self._setup_key[2].steps
                           if self._setup_key else 0)
        self.mode_menu.setTitle(tr("map_layer"))
        self.hyper_menu.setTitle(tr("hyper_map"))
        names = {"momentum": "momentum", "beta1": "beta1", "beta2": "beta2",
                 "batch_size": "batch_axis"}
        for (field, v), act in self.actions.items():
            if field == "map_layer":
                act.setText(tr(f"map_layer_{v}"))
            elif field == "hyper_axis":
                act.setText(tr("hyper_axis_off") if v == "off"
                            else tr("lr_axis") + " × " + tr(names[v]))
            else:
                act.setText(tr(f"hyper_color_{v}"))

    # ------------------------------------------------------------------ state
    @property
    def active(self) -> bool:
        s = self.session
        return s.map_layer != "off" and (setup_for(s) is not None or s.is_data)

    def refresh(self, *_) -> None:
        """Follow the session: start a new map if the setting or the box changed."""
        if self._closed:
            return
        s = self.session
        data = data_setup_for(s) if s.map_layer != "off" else None
        if s.map_layer == "off" or (setup_for(s) is None and data is None):
            if self._setup_key is not None:
                self.worker.cancel()
            self._setup_key = None
            self._waiting = False
            self.image.setVisible(False)
            self._colorbar_follows()
            if self.title:
                self.title = ""
                self.view._refresh_labels()
            return
        box = tuple(float(v) for v in self.view._box)
        if data is not None:
            problem, setup, base, dims = data
            land = s.landscape
            key = (id(problem), box, setup, s.map_layer, base, dims)
        else:
            land, setup = setup_for(s)
            key = (id(land), box, setup, s.map_layer)
        if key == self._setup_key:
            return
        self._setup_key = key
        self.error = ""
        if self._book_for is not land:
            self.book = CM.BasinBook.for_landscape(land)
            self._book_for = land
        self._data = data
        self._start(land, setup, box)
        # the plot as it will be with the map, from the start: without the colour bar and
        # with the map's title (set when the first pass came, a pass after the first
        # paint, they laid the plot out again: a lesson's map was painted at two widths,
        # its contours rasterised twice)
        self._colorbar_follows()
        self._fill_key(s.map_layer, setup.steps)

    @property
    def covers(self) -> bool:
        """True while the map shows, or its setting's first pass is on its way (the heatmap's
        colour bar stays hidden meanwhile: see :meth:`refresh`)."""
        return self.image.isVisible() or (self._setup_key is not None and not self.error)

    def _passes(self, land, setup, box, sides):
        fast = kernels.is_ready()
        kind, hyper = setup.config.pack()
        sk, sp = setup.schedule.pack()
        out = []
        data = self._data
        # a basin map's cells are told their basins where the pass is computed (the
        # worker's thread), not on the UI thread where it shows: the greedy clustering
        # of a surface whose starts settle apart (flat, or rippled) took 0.1-1.3 s there.
        # The book (the basins seen so far, their colours) is this setting's: a newer
        # setting's pass is another job, after this one, on the same thread
        book = self.book if self.session.map_layer == "basins" else None
        # the passes run on the worker's thread and hold no Qt object but the worker, which
        # that thread has anyway (see gdviz.ui.views.live_grid: an object dropped there
        # is freed there)
        stale, book_lock = self.worker.stale, self._book_lock
        for side in sides:
            starts = CM.pixel_centres(box, side, side)
            if data is not None:
                problem, _, base, dims = data
                base = np.asarray(base, dtype=np.float64)

                def fn(sl, starts=starts, base=base, problem=problem, dims=dims):
                    # each cell's parameters, a chunk at a time, on the worker (made whole
                    # here, a 4x32 network's passes were ~140 MB, 0.4 s of the
                    # window's turn at each change)
                    st = starts[sl]
                    cells = np.repeat(base[None], st.shape[0], 0)
                    cells[:, dims[0]] = st[:, 0]
                    cells[:, dims[1]] = st[:, 1]
                    return CM.run_cells_problem(problem, kind, hyper, sk, sp, cells,
                                                total=setup.schedule_total, steps=setup.steps,
                                                dims=dims, tol=setup.tol, fast=fast,
                                                cancelled=stale)
            else:
                def fn(sl, starts=starts):
                    return CM.run_cells(land, kind, hyper, sk, sp, starts[sl],
                                        total=setup.schedule_total, steps=setup.steps,
                                        noise_std=setup.noise_std, noise_run=setup.noise_run,
                                        seed=setup.seed, tol=setup.tol, fast=fast)

            def finish(parts, side=side, book=book):
                r = join_results(parts, side, side)
                if book is None:
                    return r, None
                with book_lock:  # (an export's flush, on the UI thread, may meet a
                    return r, book.assign(r)  # cancelled pass still being told its basins)

            out.append(((side, box, setup.steps), side * side, fn, finish))
        return out

    def _start(self, land, setup, box) -> None:
        fast = kernels.is_ready()
        self._waiting = self.kernels_due and not fast and not self.sync
        if self._waiting:
            # while the window's kernels are compiled, a map waits for them, its title
            # saying so: the numpy twins' map on the worker, Python beside the window's
            # own, took its GIL (a lesson's turn took 100-450 ms for 70-180 ms of its own
            # work). From numba's cache they come in a fraction of a second; ~100 s once,
            # after an install
            self.worker.cancel()
            self.image.setVisible(False)  # (not the last setting's map under this title)
            return
        full = self.full_grid if self._data is None else min(self.full_grid, DATA_GRID)
        if self.sync:
            sides = [self._final_side()]
        else:
            top = full if fast else min(full, TWIN_GRID)
            coarse = CM.COARSE_GRID if self._data is None else DATA_COARSE
            sides = CM.progressive_grids(top, min(coarse, top))
        passes = self._passes(land, setup, box, sides)
        if self.sync:
            # an export's map: computed whole by :meth:`flush`, which every frame calls
            # first (in pieces by :meth:`flush_steps` while an export prepares)
            self.worker.cancel()
            return
        self._gen = self.worker.submit(passes)

    def _on_done(self, gen: int, item) -> None:
        if gen != self.worker.generation or self._setup_key is None or self._closed:
            return  # a newer setting is on its way
        self._show(*item)

    def _final_side(self) -> int:
        full = self.full_grid if self._data is None else min(self.full_grid, DATA_GRID)
        return full if kernels.is_ready() else min(full, 2 * TWIN_GRID)

    def flush(self) -> None:
        """Make the map shown the full grid of the current setting now (an export frame, or
        a window that is about to be grabbed): what an export would draw."""
        for _ in self.flush_steps(chunk=0):
            pass

    def flush_steps(self, chunk: int = SYNC_CHUNK):
        """:meth:`flush` as a generator: a piece of ``chunk`` cells per ``next`` (0: all at
        once); the cells are independent, so the map is the same however it is cut."""
        self.refresh()
        key = self._setup_key
        if key is None or self._closed:
            return
        side = self._final_side()
        if self.result is not None and self.result.nx == side and self._shown_key == key:
            return
        self.worker.cancel()
        s = self.session
        data = self._data
        land = s.landscape if data is not None else setup_for(s)[0]
        setup = data[1] if data is not None else setup_for(s)[1]
        tag, n, fn, finish = self._passes(land, setup, key[1], [side])[0]
        parts = []
        try:
            for sl in CM.chunks(n, chunk or n):
                if parts:
                    yield
                    if self._closed or self._setup_key != key:
                        return  # closed, or a newer setting: its own flush computes it
                parts.append(fn(sl))
            payload = finish(parts)
        except ValueError as exc:
            payload = exc
        self._show(tag, payload)

    # ------------------------------------------------------------------ drawing
    def _show(self, tag, payload) -> None:
        if isinstance(payload, Exception):
            self.error = str(payload).splitlines()[0] if str(payload) else "map failed"
            self.session.error.emit(self.error)
            self._colorbar_follows()  # no map coming: the bar again (if no map shows)
            return
        self.error = ""
        self._shown_key = self._setup_key
        side, box, steps = tag
        r, lab = payload  # (the cells' basins: see _passes)
        self.result = r
        self.labels = lab
        mode = self.session.map_layer
        if mode == "basins" and lab is not None:
            rgba = self._basin_rgba(lab)
        else:
            rgba = self._steps_rgba(r, steps)
        img = rgba.reshape(r.ny, r.nx, 4)
        self.image.setImage(img, autoLevels=False)
        x0, x1, y0, y1 = box
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self.image.setVisible(True)
        self._colorbar_follows()
        self._fill_key(mode, steps)

    def _colorbar_follows(self) -> None:
        """The heatmap's colour bar hides under a map (its colours would lie) and returns
        without it; the plot is laid out again now, as if the view had been resized (a bar
        hidden later than the first layout kept its room: the window's map sat narrower
        than the export's)."""
        bar = self.view.colorbar
        before = bar.isVisible()
        self.view._show_colorbar()
        if bar.isVisible() != before:
            lay = self.view.plot_item.layout
            lay.invalidate()
            lay.activate()

    def _basin_rgba(self, lab: np.ndarray) -> np.ndarray:
        # the hues cycle: one colour per hue, each basin's by its index (not a colour per
        # basin seen: the labels may be of a book already replaced by a newer setting's)
        cols = basin_colors(len(CM.BASIN_HUES))
        div, grey = special_colors()
        out = np.empty((lab.size, 4), dtype=np.uint8)
        out[:] = grey
        ok = lab >= 0
        out[ok] = cols[lab[ok] % len(cols)]
        out[lab == -1] = div
        return out

    def _steps_rgba(self, r: CM.MapResult, steps: int) -> np.ndarray:
        im = CM.steps_image(r, steps)
        hi = max(np.log10(max(steps, 2)), 1e-9)
        cmap = pg.colormap.get("viridis")
        lut = cmap.getLookupTable(0.0, 1.0, 256, alpha=True)
        div, grey = special_colors()
        out = np.empty((im.size, 4), dtype=np.uint8)
        out[:] = grey
        ok = np.isfinite(im)
        idx = np.clip(np.round(im[ok] / hi * 255), 0, 255).astype(int)
        out[ok] = lut[idx]
        out[r.diverged] = div
        return out

    def _fill_key(self, mode: str, steps: int) -> None:
        """The map's title says what its colours mean (a legend would cover the map)."""
        s = self.session
        run = s.spec_label(s.spec_index(s.reference_run()))
        key = "map_title_basins" if mode == "basins" else "map_title_steps"
        r = self.result
        if self._waiting:
            key = "map_title_waiting"
        elif (r is not None and self._shown_key == self._setup_key and (~r.diverged).any()
                and not (r.conv_at[~r.diverged] >= 0).any()):
            # every start still moving at the end of the map's budget (L9's fit slice: 91
            # parameters, 1000 steps): the map is all grey, and says why first
            key = "map_title_unsettled"
        title = tr(key, run=run, steps=steps)
        if title != self.title:
            self.title = title
            self.view._refresh_labels()

    def wait_for_kernels(self) -> None:
        """The window's kernels are being compiled: a map waits for them (one on its way
        with the numpy twins is dropped)."""
        self.kernels_due = True
        if self._setup_key is not None and not kernels.is_ready() and not self._closed:
            self._setup_key = None
            self.refresh()

    def kernels_came(self) -> None:
        """The window's kernels are ready (or failed: then the twins compute it): a map
        that waited for them is computed now."""
        self.kernels_due = False
        if self._waiting and not self._closed:
            self._waiting = False
            self._setup_key = None
            self.refresh()

    def retheme(self) -> None:
        """Colours follow the theme: redraw the last pass."""
        if self.result is not None and self._setup_key is not None:
            side = self.result.nx
            box = self._setup_key[1]
            self._show((side, box, self._setup_key[2].steps), (self.result, self.labels))

    def close(self) -> None:
        self._closed = True
        self.worker.stop()
