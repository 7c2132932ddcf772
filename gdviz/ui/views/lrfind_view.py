"""The lr finder's plot and the fair race's table: panels of the one picture.

:class:`LrFindView` draws ``session.lrfind`` (a :class:`gdviz.core.lrfind.LrFindResult`):
the smoothed loss against the learning rate on a log axis (the raw loss faint behind it),
with the two suggestions marked: steepest descent (solid line) and minimum/10 (dashed).
:class:`TunedTable` shows ``session.tuned`` (a :class:`gdviz.core.lrfind.TuneResult`):
each optimizer's lr and loss before and after tuning. Both only read the model; they are
redrawn when its field changes, never per frame.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from gdviz.core.i18n import tr
from gdviz.ui import theme
from gdviz.ui.views.items import (Points, cache_axes, closes_once, connect_all, delete_later,
                                  disconnect_all, plain_plot, style_points)

#: the suggestions' colours (Okabe-Ito vermillion and bluish green: apart from each other
#: and readable on both themes)
STEEP_COLOR = "#D55E00"
MIN_COLOR = "#009E73"


def fmt_lr(v: float | None) -> str:
    """An lr in 3 significant digits with a real minus sign: 0.0123, 3.16e−05, —."""
    if v is None or not math.isfinite(v):
        return "—"
    return f"{v:.3g}".replace("-", "−")


def fmt_loss(v: float | None) -> str:
    """A loss in 2 significant digits (a table column, not a measurement), or "diverged"."""
    if v is None or not math.isfinite(v):
        return tr("lrf_diverged")
    return f"{v:.2g}".replace("-", "−")


def _sup(n: int) -> str:
    return str(n).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def decade_ticks(lo: float, hi: float, most: int = 6) -> list[tuple[float, str]]:
    """Ticks at powers of ten between log10 values ``lo`` and ``hi`` (10⁻⁷ ... 10¹), every
    k-th decade so that at most ``most`` show."""
    a, b = int(math.ceil(lo - 1e-9)), int(math.floor(hi + 1e-9))
    if b < a:
        return [(lo, f"{10 ** lo:.2g}")]
    step = max(1, int(math.ceil((b - a + 1) / most)))
    return [(float(k), f"10{_sup(k)}") for k in range(a, b + 1) if k % step == 0]


def plot_ranges(result) -> tuple[bool, tuple[float, float]]:
    """(log y, (y0, y1)) for a sweep: the smoothed loss from its minimum up to a little
    above the highest loss before the minimum (the blow-up after it leaves the top, as
    the loss leaves the plot), on a log axis when that spans more than two decades."""
    sm = np.asarray(result.smoothed, dtype=np.float64)
    sm = sm[np.isfinite(sm)]
    if sm.size == 0:
        return False, (0.0, 1.0)
    k = int(np.argmin(sm))
    lo = float(sm.min())
    top = float(sm[:k + 1].max())
    log = lo > 0 and top / lo > 100.0
    if log:
        hi = float(min(sm.max(), top * (top / lo) ** 0.15))
        a, b = math.log10(lo), math.log10(hi)
        pad = 0.06 * max(b - a, 1e-6)
        return True, (a - pad, b + pad)
    hi = float(min(sm.max(), top + 0.3 * (top - lo)))
    pad = 0.06 * max(hi - lo, abs(hi) * 1e-6, 1e-12)
    return False, (lo - pad, hi + pad)


class LrFindView(pg.PlotWidget):
    """``session.lrfind`` as fast.ai plots it. Items for tests and export: ``smooth_curve``,
    ``raw_curve``, ``steep_line``, ``min_line``, ``steep_label``, ``min_label``."""

    _styled = False

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("lrFindView")
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.plot_item: pg.PlotItem = self.getPlotItem()
        self.vb = self.plot_item.getViewBox()
        cache_axes(self.plot_item)
        plain_plot(self.plot_item)
        self.plot_item.showGrid(x=True, y=True, alpha=0.25)
        for name in ("left", "bottom"):
            self.plot_item.getAxis(name).enableAutoSIPrefix(False)
        self.raw_curve = pg.PlotDataItem()
        self.raw_curve.setZValue(5)
        self.smooth_curve = pg.PlotDataItem()
        self.smooth_curve.setZValue(10)
        self.addItem(self.raw_curve)
        self.addItem(self.smooth_curve)
        self.steep_line = pg.InfiniteLine(0, angle=90, movable=False)
        self.min_line = pg.InfiniteLine(0, angle=90, movable=False)
        self.steep_dot = Points(symbol="o", pxMode=True)
        self.min_dot = Points(symbol="o", pxMode=True)
        self.steep_label = pg.TextItem(anchor=(0, 0))
        self.min_label = pg.TextItem(anchor=(0, 1))
        for it in (self.steep_line, self.min_line, self.steep_dot, self.min_dot,
                   self.steep_label, self.min_label):
            it.setZValue(20)
            self.addItem(it)
        self.empty_label = pg.TextItem(anchor=(0.5, 0.5))
        self.addItem(self.empty_label)
        self._sweeping = False  # (a sweep runs: the empty plot says so, set_sweeping)
        self._log_y = False
        self._connections = connect_all([(session.events.lrfind, self.follow_session)])
        self._styled = True
        self._restyle()

    # ------------------------------------------------------------------ model -> view
    def set_sweeping(self, on: bool) -> None:
        """A sweep runs (the panel's job): the plot, empty till it ends, says so, not "No
        sweep yet: Tools ▸ Find learning rate" under the panel's "Sweeping…"."""
        if bool(on) != self._sweeping:
            self._sweeping = bool(on)
            self.follow_session()

    def follow_session(self, *_) -> None:
        res = self.session.lrfind
        parts = (self.raw_curve, self.smooth_curve, self.steep_line, self.min_line,
                 self.steep_dot, self.min_dot, self.steep_label, self.min_label)
        if res is None or res.n == 0:
            for it in parts:
                it.setVisible(False)
            self.empty_label.setText(tr("lrf_running") if self._sweeping else tr("lrf_empty"))
            self.empty_label.setVisible(True)
            self.vb.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            self.empty_label.setPos(0.5, 0.5)
            self.plot_item.setTitle(None)
            return
        self.empty_label.setVisible(False)
        x = np.log10(res.lrs)
        self._log_y, (y0, y1) = plot_ranges(res)

        def y_of(v):
            v = np.asarray(v, dtype=np.float64)
            if not self._log_y:
                return v
            with np.errstate(all="ignore"):
                return np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan)

        self.raw_curve.setData(x, y_of(res.losses), connect="finite")
        self.smooth_curve.setData(x, y_of(res.smoothed), connect="finite")
        self.raw_curve.setVisible(True)
        self.smooth_curve.setVisible(True)
        s = res.settings
        x0, x1 = math.log10(s.start_lr), math.log10(s.end_lr)
        # a little room at both ends: the last decade's label is not cut at the edge
        pad = 0.07 * (x1 - x0)
        self.vb.setRange(xRange=(x0 - pad, x1 + pad), yRange=(y0, y1), padding=0.0)
        self.plot_item.getAxis("bottom").setTicks([decade_ticks(x0, x1)])
        if self._log_y:
            self.plot_item.getAxis("left").setTicks([decade_ticks(y0, y1, 4)])
        else:
            self.plot_item.getAxis("left").setTicks(None)
        for lr, line, dot, label, key, anchor_y in (
                (res.steep, self.steep_line, self.steep_dot, self.steep_label, "lrf_steep", y1),
                (res.minimum, self.min_line, self.min_dot, self.min_label, "lrf_minimum", y0)):
            on = lr is not None
            for it in (line, dot, label):
                it.setVisible(on)
            if not on:
                continue
            lx = math.log10(lr)
            line.setValue(lx)
            yv = float(np.interp(lx, x, y_of(res.smoothed)))
            dot.setData([lx], [yv])
            label.setText(tr(key, lr=fmt_lr(lr)))
            # left of the line when it sits in the right half of the plot
            right = lx > (x0 + x1) / 2
            label.setAnchor((1.0 if right else 0.0, 0.0 if anchor_y == y1 else 1.0))
            label.setPos(lx, anchor_y)
        self._set_title()

    def _set_title(self) -> None:
        """Which run and step the sweep is from, elided to the plot's width (pyqtgraph
        gives a title its text's width as its minimum: a long one pushes the axes out)."""
        res = self.session.lrfind
        if res is None or res.n == 0:
            return
        from PySide6.QtGui import QFontMetricsF

        font = self._small_font()
        room = max(0.85 * float(self.width()) - 40.0, 60.0)
        title = QFontMetricsF(font).elidedText(tr("lrf_title", run=res.label, t=res.t),
                                               Qt.TextElideMode.ElideMiddle, room)
        fg = theme.palette(theme.current())["foreground"]
        self.plot_item.setTitle(title, color=fg, size=f"{font.pointSizeF():.0f}pt")

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(ev)
        if self._styled:
            self._set_title()

    # ------------------------------------------------------------------ look
    def _small_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF() * 0.9, 9.0))
        return font

    def _restyle(self) -> None:
        scale = max(1.0, theme.font_scale())
        self.setMinimumHeight(int(150 * scale))
        self.setMinimumWidth(120)
        pal = theme.palette(theme.current())
        self.setBackground(pal["background"])
        font = self._small_font()
        for name in ("left", "bottom"):
            axis = self.plot_item.getAxis(name)
            axis.setPen(pg.mkPen(pal["foreground"]))
            axis.setTextPen(pg.mkPen(pal["foreground"]))
            axis.setStyle(tickFont=font)
            axis.label.setFont(font)
        style = {"color": pal["foreground"], "font-size": f"{font.pointSizeF():.0f}pt"}
        self.plot_item.setLabel("bottom", tr("lrf_axis_lr"), **style)
        self.plot_item.setLabel("left", tr("lrf_axis_loss"), **style)
        fg = QColor(pal["foreground"])
        self.smooth_curve.setPen(pg.mkPen(pal["accent"], width=3 * scale))
        faint = QColor(pal["muted"])
        faint.setAlpha(150)
        self.raw_curve.setPen(pg.mkPen(faint, width=1.2 * scale))
        self.steep_line.setPen(pg.mkPen(STEEP_COLOR, width=2.5 * scale))
        self.min_line.setPen(pg.mkPen(MIN_COLOR, width=2.5 * scale, style=Qt.PenStyle.DashLine))
        for dot, c in ((self.steep_dot, STEEP_COLOR), (self.min_dot, MIN_COLOR)):
            style_points(dot, size=12 * scale, brush=pg.mkBrush(c), pen=pg.mkPen(fg, width=1.5))
        for label, c in ((self.steep_label, STEEP_COLOR), (self.min_label, MIN_COLOR)):
            label.setColor(QColor(c))
            f = QFont(font)
            f.setBold(True)
            label.setFont(f)
        self.empty_label.setColor(QColor(pal["muted"]))
        self.empty_label.setFont(font)
        self.follow_session()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().changeEvent(event)
        if not self._styled:
            return
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange,
                            QEvent.Type.ApplicationFontChange, QEvent.Type.LanguageChange):
            self._restyle()

    @closes_once
    def close(self) -> bool:
        self._styled = False
        disconnect_all(self._connections)
        self._connections = []
        return super().close()


class TunedTable(QWidget):
    """``session.tuned``: per optimizer, in its colour, its lr and loss after N steps, and
    its tuned lr and loss (the best of each column in bold). Labels for tests: ``cells``
    (row -> list of QLabel), ``title``."""

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("tunedTable")
        self.title = QLabel()
        self.title.setObjectName("tunedTitle")
        # no word wrap anywhere here (the text has its own line breaks): a wrapped label
        # makes a scrolled dock as tall as every size hint; the columns set the width
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setMinimumWidth(60)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(8)
        self.grid.setVerticalSpacing(3)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.addWidget(self.title)
        lay.addLayout(self.grid)
        lay.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.cells: list[list[QLabel]] = []
        self._labels: list[QLabel] = []
        self._connections = connect_all([(session.events.tuned, self.follow_session),
                                         (session.runs_changed, self.follow_session)])
        self.follow_session()

    def follow_session(self, *_) -> None:
        for w in self._labels:
            self.grid.removeWidget(w)
            w.hide()  # gone from this frame, not only when Qt deletes it later
            w.setParent(None)
            delete_later(w)
        self._labels, self.cells = [], []
        res = self.session.tuned
        pal = theme.palette(theme.current())
        if res is None:
            self.title.setText(tr("tune_empty"))
            return
        self.title.setText(tr("tune_title", n=res.steps))
        heads = [tr("tune_col_run"), tr("tune_col_lr"), tr("tune_col_loss"),
                 tr("tune_col_tuned_lr"), tr("tune_col_tuned_loss")]
        for c, h in enumerate(heads):
            lab = QLabel(h)  # "tuned\nloss": two lines (the .po text), a number wide
            lab.setStyleSheet(f"color: {pal['muted']}; font-weight: bold;")
            lab.setAlignment(Qt.AlignmentFlag.AlignLeft if c == 0 else Qt.AlignmentFlag.AlignRight)
            self.grid.addWidget(lab, 0, c)
            self._labels.append(lab)
        finite = [v for v in res.best_score if math.isfinite(v)]
        best = min(finite) if finite else None
        s = self.session
        # a long run label is cut (whole in its tooltip): the table fits the side column
        metrics = self.fontMetrics()
        room = max(90, int(9.5 * metrics.averageCharWidth()))
        for i, row in enumerate(res.rows()):
            color = s.colors[i] if i < len(s.colors) else pal["foreground"]
            name = metrics.elidedText(row["label"], Qt.TextElideMode.ElideRight, room)
            texts = [name, fmt_lr(row["lr"]), fmt_loss(row["loss"]),
                     fmt_lr(row["tuned_lr"]), fmt_loss(row["tuned_loss"])]
            labs = []
            for c, t in enumerate(texts):
                lab = QLabel(t)
                lab.setAlignment(Qt.AlignmentFlag.AlignLeft if c == 0 else Qt.AlignmentFlag.AlignRight)
                style = f"color: {color};" if c == 0 else ""
                if c == 4 and best is not None and row["tuned_loss"] == best:
                    style += " font-weight: bold;"
                lab.setStyleSheet(style)
                if c == 0:
                    lab.setToolTip(row["label"])
                self.grid.addWidget(lab, i + 1, c)
                labs.append(lab)
            self.cells.append(labs)
            self._labels += labs

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.LanguageChange) \
                and hasattr(self, "_connections"):
            self.follow_session()

    def close(self) -> bool:
        disconnect_all(getattr(self, "_connections", []))
        self._connections = []
        return super().close()
