"""The hyperparameter map panel (issue 11, Distill's "rate map" generalised).

Over lr (x, log axis) and ``session.hyper_axis`` (y: momentum, beta1, beta2 or the batch
size on a log axis) it colours each cell by the selected run's final loss, or its steps
to converge, from the run's start over the run's step budget (log colour scale; diverged
cells in the theme's diverged colour). The run's own setting is a cross-hair. A click on
a cell sets the run to that setting and the race replays from step 0.

Computed on a worker thread (:class:`~gdviz.ui.views.map_layer.MapWorker`), coarse first
(16x16) and refined to the full grid; an export computes the full grid at once.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetrics

import gdviz.kernels as kernels
from gdviz.core import maps as CM
from gdviz.core.i18n import tr
from gdviz.ui import theme
from gdviz.ui.views.placement import fit_axis_height
from gdviz.ui.views.items import (closes_once, connect_all, delete_later, disconnect_all,
                                  plain_plot)
from gdviz.ui.views.map_layer import MapWorker, data_setup_for, setup_for, special_colors

#: the hyper map's full grid (cells per side) and its first, coarse pass
HYPER_GRID = 64
HYPER_COARSE = 16
#: at most this many steps per cell (the race's budget, capped)
HYPER_STEPS = 2000
#: on data problems (each step evaluates the data for every cell): a smaller map
DATA_HYPER_GRID = 32
DATA_HYPER_STEPS = 1000
#: the y axes a hyper map can have, their label key
AXIS_LABELS = {"momentum": "momentum", "beta1": "beta1", "beta2": "beta2",
               "batch_size": "batch_axis"}


class LogAxis(pg.AxisItem):
    """Ticks of a log10 coordinate written as the numbers themselves (0.001, 0.01, ...):
    a label on every n-th decade, n as small as keeps the labels apart at this text size
    and length (at 200 % text "0.001", "0.01" and "0.1" ran into each other), and unlabelled
    ticks at 2..9 times each decade."""

    #: the spacing given to the unlabelled level (any value below 1 marks it)
    MINOR = 0.1

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 - pyqtgraph API
        lo, hi = sorted((float(minVal), float(maxVal)))
        if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo and size > 0):
            return []
        every = self.decade_step(lo, hi, size)
        first, last = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
        major = [float(d) for d in range(first, last + 1) if d % every == 0]
        minor = []
        if (size / (hi - lo)) >= 40:  # room for the 2..9 marks
            for d in range(math.floor(lo), last + 1):
                minor += [d + math.log10(k) for k in range(2, 10) if lo <= d + math.log10(k) <= hi]
        return [(float(every), major), (self.MINOR, minor)]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        if spacing < 1:
            return ["" for _ in values]
        return [f"{10.0 ** v:.3g}" for v in values]

    def decade_step(self, lo: float, hi: float, length: float) -> int:
        """Label every n-th decade of ``lo``..``hi`` (log10) shown over ``length`` pixels:
        the smallest n that keeps half a digit between neighbouring labels."""
        per_decade = length / (hi - lo)
        fm = QFontMetrics(self.style.get("tickFont") or QFont())
        if self.orientation in ("left", "right"):
            return max(1, math.ceil(fm.height() * 1.3 / per_decade))
        gap = fm.horizontalAdvance("0") / 2
        width = {d: fm.horizontalAdvance(f"{10.0 ** d:.3g}")
                 for d in range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1)}
        # a label that would stick out of the axis is not drawn: it takes no room
        decades = [d for d, w in width.items()
                   if (d - lo) * per_decade >= w / 2 and (hi - d) * per_decade >= w / 2]
        for n in range(1, len(decades) + 1):
            shown = [d for d in decades if d % n == 0]
            if all((width[a] + width[b]) / 2 + gap <= n * per_decade
                   for a, b in zip(shown, shown[1:])):
                return n
        return max(1, len(decades))


class KeyLabel(pg.LabelItem):
    """A line of text under a plot that asks for its height but no width: a long one (a
    key at 200 % text) is cut at the panel's edge instead of pushing the plot out of it."""

    def updateMin(self) -> None:  # noqa: N802 - pyqtgraph API
        super().updateMin()
        self.setMinimumWidth(0)
        w, h = self._sizeHint[Qt.SizeHint.MinimumSize]
        self._sizeHint[Qt.SizeHint.MinimumSize] = (0, h)


class HyperView(pg.PlotWidget):
    """lr x (momentum | beta1 | beta2 | batch size) map of the selected run."""

    def __init__(self, session, parent=None, *, sync: bool = False, grid: int = HYPER_GRID):
        self._bottom = LogAxis("bottom")
        self._left_log = LogAxis("left")
        super().__init__(parent=parent, axisItems={"bottom": self._bottom})
        self.session = session
        self.sync = bool(sync)
        self.grid = int(grid)
        self.plot_item = self.getPlotItem()
        #: the left axis of a linear setting (momentum, beta1, beta2); a batch-size map
        #: swaps in ``_left_log``, and the other waits out of the scene
        self._left_lin = self.plot_item.getAxis("left")
        self.vb = self.plot_item.getViewBox()
        self.plot_item.hideButtons()
        plain_plot(self.plot_item)
        self.plot_item.setMenuEnabled(False)  # a fixed picture: no zoom, ranges or export of its own
        for name in ("left", "bottom"):
            self.plot_item.getAxis(name).enableAutoSIPrefix(False)
        self._left_log.enableAutoSIPrefix(False)
        self.vb.setMouseEnabled(False, False)
        self.vb.disableAutoRange()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot_item.addItem(self.image)
        self.vline = pg.InfiniteLine(angle=90, movable=False)
        self.hline = pg.InfiniteLine(angle=0, movable=False)
        for ln in (self.vline, self.hline):
            ln.setZValue(10)
            self.plot_item.addItem(ln)
        # the colours' key, under the map (over it, it hid the top rows of the map)
        self.key = KeyLabel(justify="center")
        self.plot_item.layout.addItem(self.key, 4, 0, 1, 3)
        # a message (no map: why, or when it comes) in the empty plot, whole, wrapped to
        # its width: in the title, at 200 % text in a third of the window, it was cut to
        # its first word
        self.note = pg.TextItem(anchor=(0.5, 0.5))
        self.note.setZValue(20)
        self.note.setVisible(False)
        self.plot_item.addItem(self.note, ignoreBounds=True)
        self.vb.sigResized.connect(self._place_note)
        self.result: CM.MapResult | None = None
        self.lrs = self.ys = None
        self.message = ""
        self.axis = "momentum"
        self._color = None
        #: True while the window's kernels are being compiled: the map waits for them
        #: (see gdviz.ui.views.map_layer.BasinLayer._start)
        self.kernels_due = False
        self._waiting = False
        self._key = None
        self.worker = MapWorker(self)
        self.worker.done.connect(self._on_done)
        s = session
        self._connections = connect_all([
            (sig, self.refresh) for sig in (
                s.problem_changed, s.runs_changed, s.selection_changed, s.settings_changed,
                s.events.hyper_axis, s.events.hyper_color)])
        self.scene().sigMouseClicked.connect(self._on_clicked)
        self._apply_theme()
        self._apply_fonts()
        self.refresh()

    # ------------------------------------------------------------------ model
    def _setup(self):
        got = setup_for(self.session)
        if got is None:
            return None
        land, setup = got
        steps = int(min(self.session.max_steps, HYPER_STEPS))
        return land, dataclasses.replace(setup, steps=steps)

    def _start_point(self):
        s = self.session
        r = s.reference_run()
        return tuple(float(v) for v in s.starts[s.start_index(r)])

    def refresh(self, *_) -> None:
        s = self.session
        axis = s.hyper_axis
        self._crosshair()
        if axis == "off":
            self._key = None
            self.worker.cancel()
            return
        got = self._setup()
        data = None
        if got is None:
            d = data_setup_for(s)
            if d is None:
                self._set_message(tr("hyper_not_for_data"))
                self._key = None
                return
            problem, setup, base, _dims = d
            setup = dataclasses.replace(setup, steps=int(min(s.max_steps, DATA_HYPER_STEPS)),
                                        batch_size=int(s.batch_size))
            land = problem
            data = (base, s.n_train)
            start = base
        else:
            land, setup = got
        name = setup.config.name
        takers = CM.HYPER_TAKERS[axis]
        if takers is not None and name not in takers and not (axis == "momentum"
                                                             and name == "sgd"):
            self._set_message(tr("hyper_no_axis", opt=setup.config.spec.label,
                                 axis=tr(AXIS_LABELS[axis])))
            self._key = None
            self.image.clear()
            return
        if data is None:
            start = self._start_point()
        # the map does not depend on the run's own values of the two swept settings
        cfg = setup.config.replace(lr=1.0)
        if axis in ("momentum", "beta1", "beta2"):
            cfg = cfg.replace(**{axis: 0.5})
        key = (id(land), dataclasses.replace(setup, config=cfg, batch_size=1)
               if axis == "batch_size" else dataclasses.replace(setup, config=cfg), axis, start)
        if key == self._key:
            if self.result is not None and s.hyper_color != self._color:
                self._show((self.result.nx, self.axis, setup.steps),
                           (self.result, self.lrs, self.ys))
            return
        self._waiting = self.kernels_due and not kernels.is_ready() and not self.sync
        if self._waiting:
            self._key = None
            self.worker.cancel()
            self._set_message(tr("hyper_waiting"))
            return
        self._key = key
        self._set_message("")
        grid = self.grid if data is None else min(self.grid, DATA_HYPER_GRID)
        sides = [grid] if self.sync else CM.progressive_grids(grid, min(HYPER_COARSE, grid))
        fast = kernels.is_ready()
        stale = self.worker.stale  # (the passes hold no Qt object but the worker: see map_layer)

        def make(side):
            lr_range, y_range = self._ranges(axis)

            def fn(sl, side=side):
                # a whole (small) grid per call: the pass is one chunk
                if data is not None:
                    return CM.hyper_map_problem(s._problem_for, setup, data[0], axis, nx=side,
                                                lr_range=lr_range, y_range=y_range,
                                                n_train=data[1], fast=fast,
                                                cancelled=stale)
                r, lrs, ys = CM.hyper_map(land, setup, start, axis, nx=side, lr_range=lr_range,
                                          y_range=y_range, fast=fast)
                return (r, lrs, ys)

            def finish(parts, side=side):
                return parts[0]

            return ((side, axis, setup.steps), 1, fn, finish)

        passes = [make(side) for side in sides]
        if self.sync:
            self.worker.cancel()
            tag, _, fn, finish = passes[0]
            try:
                self._show(tag, finish([fn(slice(0, 1))]))
            except ValueError as exc:
                self._set_message(str(exc).splitlines()[0])
            return
        self.worker.submit(passes)

    def wait_for_kernels(self) -> None:
        """The window's kernels are being compiled: the map waits for them (one on its way
        with the numpy twins is dropped)."""
        self.kernels_due = True
        if self._key is not None and not kernels.is_ready():
            self._key = None
            self.refresh()

    def kernels_came(self) -> None:
        """The window's kernels are ready (or failed: the twins compute it then): a map
        that waited for them is computed now."""
        self.kernels_due = False
        if self._waiting and not getattr(self, "_closed", False):
            self._waiting = False
            self.refresh()

    def _ranges(self, axis: str):
        lo, hi, _ = CM.HYPER_RANGES[axis]
        return (1e-4, 1.0), (lo, hi)

    def _on_done(self, gen: int, item) -> None:
        if gen != self.worker.generation or self._key is None or getattr(self, "_closed", False):
            return
        tag, payload = item
        if isinstance(payload, Exception):
            self._set_message(str(payload).splitlines()[0])
            return
        self._show(tag, payload)

    # ------------------------------------------------------------------ drawing
    def _ycoord(self, axis: str, v):
        return np.log10(v) if axis == "batch_size" else np.asarray(v, dtype=float)

    def _show(self, tag, payload) -> None:
        side, axis, steps = tag
        r, lrs, ys = payload
        self.result, self.lrs, self.ys = r, lrs, ys
        self.axis = axis
        color = self.session.hyper_color
        self._color = color
        if color == "loss":
            floor = getattr(self.session.landscape, "min_value", None)
            im = CM.loss_image(r, floor)
            lo, hi = -12.0, None
        else:
            im = CM.steps_image(r, steps)
            lo, hi = 0.0, math.log10(max(steps, 2))
        ok = np.isfinite(im)
        if hi is None:
            hi = float(np.max(im[ok])) if ok.any() else 1.0
            lo = max(lo, float(np.min(im[ok])) if ok.any() else 0.0)
        if not hi > lo:
            hi = lo + 1.0
        lut = pg.colormap.get("viridis").getLookupTable(0.0, 1.0, 256, alpha=True)
        div, grey = special_colors()
        rgba = np.empty((im.size, 4), dtype=np.uint8)
        rgba[:] = grey
        idx = np.clip(np.round((im[ok] - lo) / (hi - lo) * 255), 0, 255).astype(int)
        rgba[ok] = lut[idx]
        rgba[r.diverged] = div
        self.image.setImage(rgba.reshape(r.ny, r.nx, 4), autoLevels=False)
        x0, x1 = math.log10(lrs[0]), math.log10(lrs[-1])
        yc = self._ycoord(axis, ys)
        y0, y1 = float(yc[0]), float(yc[-1])
        dx = (x1 - x0) / max(r.nx - 1, 1)
        dy = (y1 - y0) / max(r.ny - 1, 1)
        self.image.setRect(QRectF(x0 - dx / 2, y0 - dy / 2, x1 - x0 + dx, y1 - y0 + dy))
        want = self._left_log if axis == "batch_size" else self._left_lin
        if self.plot_item.getAxis("left") is not want:
            # before the range, which the axis takes from its box's change (back from a
            # batch-size map, the log axis stayed and labelled momentum 0 .. 1 as decades;
            # the linear axis put back after the range kept the batch sizes' range)
            self.plot_item.setAxisItems({"left": want})
        self.vb.setRange(xRange=(x0 - dx / 2, x1 + dx / 2), yRange=(y0 - dy / 2, y1 + dy / 2),
                         padding=0)
        self._labels(axis, steps, color)
        self._crosshair()

    def _elided(self, text: str, pt: float) -> str:
        """``text`` cut to the panel's width (pyqtgraph's title would widen the panel)."""
        from PySide6.QtGui import QFontMetrics

        # the title spans the map's column only: the left axis takes the rest
        left = self.plot_item.getAxis("left")
        room = max(int(self.width() - left.width()) - 16, 60)
        return QFontMetrics(theme.font(pt)).elidedText(text, Qt.TextElideMode.ElideRight, room)

    def _labels(self, axis: str, steps: int, color: str) -> None:
        s = self.session
        i = s.spec_index(s.reference_run())
        fg = theme.palette(theme.current())["foreground"]
        size = f"{theme.pt(theme.BASE_PT):.0f}pt"
        what = tr("hyper_final_loss" if color == "loss" else "hyper_steps")
        # the run's name only when there is room for it: the colour's meaning comes first
        title = tr("hyper_title", run=s.spec_label(i), what=what, steps=steps)
        if self._elided(title, theme.BASE_PT) != title:
            title = title.split(":", 1)[-1].split("：", 1)[-1].strip()
        self.plot_item.setTitle(self._elided(title, theme.BASE_PT), color=fg, size=size)
        style = {"color": fg, "font-size": size}
        self.plot_item.setLabel("bottom", tr("lr_axis"), **style)
        self.plot_item.setLabel("left", tr(AXIS_LABELS[axis]), **style)
        self.key.setText(self._key_html(), color=fg, size=f"{theme.pt(theme.BASE_PT * 0.85):.0f}pt")
        self.setToolTip(tr("hyper_click_tip"))
        fit_axis_height(self.plot_item.getAxis("bottom"))

    def _apply_fonts(self) -> None:
        """Ticks in the plots' size (capped, like the map's: the app's 200 % font made
        them overlap), axes as wide and tall as their text."""
        tick = theme.font(theme.BASE_PT)
        for ax in (self._left_lin, self.plot_item.getAxis("bottom"), self._left_log):
            ax.setStyle(tickFont=tick, tickTextOffset=6)
        want = int(18 + 3.2 * theme.pt(theme.BASE_PT))
        for ax in (self._left_lin, self._left_log):
            if ax.fixedWidth != want:
                ax.setWidth(want)
        fit_axis_height(self.plot_item.getAxis("bottom"))

    @staticmethod
    def _key_html() -> str:
        """The colours' key: a swatch of the ramp's low and high ends and of the diverged
        colour, each with its word."""
        lut = pg.colormap.get("viridis").getLookupTable(0.0, 1.0, 256, alpha=False)
        div, _grey = special_colors()

        def swatch(rgb) -> str:
            r, g, b = (int(v) for v in rgb[:3])
            return f"<span style='color:#{r:02x}{g:02x}{b:02x}'>■</span>"

        return tr("hyper_key", low=swatch(lut[0]), high=swatch(lut[-1]), div=swatch(div))

    def _set_message(self, text: str) -> None:
        self.message = text
        if text:
            fg = theme.palette(theme.current())["foreground"]
            self.plot_item.setTitle(" ", color=fg, size=f"{theme.pt(theme.BASE_PT):.0f}pt")
            self.image.clear()
            self.result = None
        self._place_note()

    def _place_note(self, *_) -> None:
        """The message in the middle of the plot, wrapped to its width (hidden without)."""
        if not self.message:
            self.note.setVisible(False)
            return
        import html

        fg = theme.palette(theme.current())["foreground"]
        self.note.setHtml(f"<div style='color:{fg}; font-size:{theme.pt(theme.BASE_PT):.0f}pt;"
                          f" text-align:center'>{html.escape(self.message)}</div>")
        self.note.setTextWidth(max(self.vb.width() * 0.9, 40.0))
        (x0, x1), (y0, y1) = self.vb.viewRange()
        self.note.setPos(0.5 * (x0 + x1), 0.5 * (y0 + y1))
        self.note.setVisible(True)
        self.vline.setVisible(False)  # (no map for a crosshair to point into)
        self.hline.setVisible(False)

    def _crosshair(self) -> None:
        s = self.session
        axis = s.hyper_axis
        if axis == "off" or (setup_for(s) is None and not s.is_data):
            self.vline.setVisible(False)
            self.hline.setVisible(False)
            return
        cfg = s.effective_config(s.spec_index(s.reference_run()))
        self.vline.setPos(math.log10(max(float(cfg.lr), 1e-300)))
        if axis == "batch_size":
            y = math.log10(max(s.batch_size, 1))
        else:
            y = float(getattr(cfg, axis) or 0.0)
        self.hline.setPos(float(y))
        self.vline.setVisible(True)
        self.hline.setVisible(True)

    def _apply_theme(self) -> None:
        pal = theme.palette(theme.current())
        self.setBackground(pal["background"])
        for ax in (self._left_lin, self.plot_item.getAxis("bottom"), self._left_log):
            ax.setPen(pg.mkPen(pal["foreground"], width=1.5))
            ax.setTextPen(pg.mkPen(pal["foreground"]))
        pen = pg.mkPen("#ffffff" if pal["name"] == "dark" else "#000000", width=2.5,
                       style=Qt.PenStyle.DashLine)
        self.vline.setPen(pen)
        self.hline.setPen(pen)
        if self.result is not None:
            self._show((self.result.nx, self.axis, self._key[1].steps if self._key else 0),
                       (self.result, self.lrs, self.ys))

    def changeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        t = ev.type()
        if getattr(self, "worker", None) is not None and not getattr(self, "_closed", False):
            if t in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
                self._apply_theme()
            elif t == QEvent.Type.LanguageChange and self.result is not None:
                self._apply_theme()
            elif t in (QEvent.Type.FontChange, QEvent.Type.ApplicationFontChange):
                self._apply_fonts()
        super().changeEvent(ev)

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(ev)
        if getattr(self, "result", None) is not None and self._key is not None \
                and not getattr(self, "_closed", False):
            self._labels(self.axis, self._key[1].steps, self._color or "loss")

    # ------------------------------------------------------------------ mouse
    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """(row, column) of the cell at view coordinates (x, y), or None off the map."""
        if self.result is None:
            return None
        lx = np.log10(self.lrs)
        yc = self._ycoord(self.axis, self.ys)
        j = int(np.argmin(np.abs(lx - x)))
        i = int(np.argmin(np.abs(yc - y)))
        dx = (lx[-1] - lx[0]) / max(len(lx) - 1, 1)
        dy = (yc[-1] - yc[0]) / max(len(yc) - 1, 1)
        if abs(lx[j] - x) > dx or abs(yc[i] - y) > abs(dy):
            return None
        return i, j

    def apply_cell(self, i: int, j: int) -> bool:
        """Set the selected run to cell (i, j)'s setting and replay the race from step 0."""
        s = self.session
        spec_i = s.spec_index(s.reference_run())
        axis = self.axis
        lr = float(self.lrs[j])
        y = float(self.ys[i])
        if axis == "batch_size":
            ok = s.update_run(spec_i, lr=lr) and s.set_batch_size(int(round(y)))
        else:
            ok = s.update_run(spec_i, **{"lr": lr, axis: y})
        if ok:  # the new setting from step 0: the race replays
            s.reset()
            s.play()
        return ok

    def _on_clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or self.result is None:
            return
        pos = ev.scenePos()
        if not self.vb.sceneBoundingRect().contains(pos):
            return
        p = self.vb.mapSceneToView(pos)
        cell = self.cell_at(float(p.x()), float(p.y()))
        if cell is not None:
            self.apply_cell(*cell)
            ev.accept()

    @closes_once
    def close(self) -> bool:
        """Stop the worker and observing the session, then close. Closing twice is
        harmless (pyqtgraph's own close is not: it has no plot item left the second time)."""
        self._connections = disconnect_all(self._connections)
        self.worker.stop()
        # the left axis that waits (see _left_lin) is in no scene: Python's, else left to
        # the collector with a panel in a reference cycle (the shown one goes with the
        # scene's items: closes_once)
        shown = self.plot_item.getAxis("left")
        waiting = self._left_log if shown is self._left_lin else self._left_lin
        closed = super().close()
        delete_later(waiting)
        return closed
