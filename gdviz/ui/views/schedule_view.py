"""Gradient noise, batch size, seed, and the learning-rate schedule with its curve."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

from gdviz.core.i18n import tr
from gdviz.ui import theme
from gdviz.ui.views.items import cache_axes, connect_all, disconnect_all


def schedule_choices() -> list[tuple[str, str]]:
    """(name, label) of every schedule in the registry."""
    from gdviz.core.schedules import SCHEDULES

    return [(name, getattr(spec, "label", name)) for name, spec in SCHEDULES.items()]


def make_schedule(name: str):
    """The default ``Schedule`` of kind ``name``."""
    from gdviz.core.schedules import make_schedule as make

    return make(name)


class ScheduleView(pg.PlotWidget):
    """lr factor over ``max_steps`` for the global schedule, with a marker at the current step."""

    _styled = False  # PlotWidget sends change events before its items exist

    def __init__(self, session, parent: QWidget | None = None, *, follow: bool = False):
        super().__init__(parent)
        self.session = session
        self.setObjectName("scheduleView")
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        cache_axes(self.getPlotItem())
        self.setMinimumHeight(110)
        self.setMaximumHeight(160)
        self.getPlotItem().setLabel("left", tr("schedule_axis"))
        self.getPlotItem().showGrid(x=True, y=True, alpha=0.25)
        self.curve = self.plot([], [], pen=pg.mkPen("#56B4E9", width=3))
        self.marker = pg.InfiniteLine(0, angle=90, pen=pg.mkPen("#E69F00", width=2))
        self.addItem(self.marker)
        self._total = 0
        self._schedule = None
        self._styled = True
        self._restyle()
        self._connections = []
        self._following = bool(follow)
        if follow:  # a picture panel of its own (export): follow the session itself
            s = session
            self._connections = connect_all([
                (s.settings_changed, self.follow_session), (s.runs_changed, self.follow_session),
                (s.problem_changed, self.follow_session), (s.stepped, self._on_stepped),
            ])
            self.follow_session()

    def follow_session(self, *_) -> None:
        """Draw the schedule of the selected run (else the first run with a schedule that
        is not constant, else the first run) and mark the step."""
        s = self.session
        if s.specs:
            if 0 <= s.selected < s.n_runs:
                i = s.spec_index(s.selected)
            else:
                i = next((k for k, sp in enumerate(s.specs) if sp.schedule.kind != "constant"), 0)
            self.set_schedule(s.specs[i].schedule, s.max_steps)
            self.curve.setPen(pg.mkPen(s.colors[i], width=3))
        self.set_step(s.t)

    def _on_stepped(self, *_) -> None:
        self.set_step(self.session.t)

    def close(self) -> bool:
        disconnect_all(self._connections)
        self._connections = []
        return super().close()

    def changeEvent(self, event) -> None:
        # the theme and the font scale reach every widget as Palette/FontChange events
        super().changeEvent(event)
        if self._styled and event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange,
                            QEvent.Type.ApplicationFontChange):
            self._restyle()
        elif event.type() == QEvent.Type.LanguageChange:
            self.getPlotItem().setLabel("left", tr("schedule_axis"))

    def _restyle(self) -> None:
        pal = theme.palette(theme.current())
        self.setBackground(pal["background"])
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF() * 0.85, 9.0))
        for name in ("left", "bottom"):
            axis = self.getPlotItem().getAxis(name)
            axis.setPen(pg.mkPen(pal["foreground"]))
            axis.setTextPen(pg.mkPen(pal["foreground"]))
            axis.setStyle(tickFont=font)
            axis.label.setFont(font)
        self.curve.setPen(pg.mkPen(pal["accent"], width=3))
        self.marker.setPen(pg.mkPen(pal["runs"][0], width=2))
        if getattr(self, "_following", False):
            self.follow_session()

    def set_schedule(self, schedule, total: int) -> None:
        total = max(int(total), 1)
        if schedule == self._schedule and total == self._total:
            return
        self._schedule, self._total = schedule, total
        # lr_factor takes 1-based integer steps; 400 samples are plenty for the curve
        t = np.unique(np.linspace(1, total, min(total, 400)).astype(np.int64))
        y = np.asarray(schedule.lr_factor(t, total), dtype=np.float64)
        self.curve.setData(t, y)
        self.setXRange(0, total, padding=0.02)
        top = float(np.nanmax(y)) if y.size else 1.0
        self.setYRange(0, max(top, 1e-9) * 1.05, padding=0.0)

    def set_step(self, t: int) -> None:
        self.marker.setValue(t)
