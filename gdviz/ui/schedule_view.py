"""Gradient noise, batch size, seed, and the learning-rate schedule with its curve."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSignalBlocker, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from gdviz.core.i18n import tr
from gdviz.ui import theme
from gdviz.ui.controls import HyperSlider, section, session_signal


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

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("scheduleView")
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setMinimumHeight(110)
        self.setMaximumHeight(160)
        self.getPlotItem().setLabel("left", "lr ×")
        self.getPlotItem().showGrid(x=True, y=True, alpha=0.25)
        self.curve = self.plot([], [], pen=pg.mkPen("#56B4E9", width=3))
        self.marker = pg.InfiniteLine(0, angle=90, pen=pg.mkPen("#E69F00", width=2))
        self.addItem(self.marker)
        self._total = 0
        self._schedule = None
        self._styled = True
        self._restyle()

    def changeEvent(self, event) -> None:
        # the theme and the font scale reach every widget as Palette/FontChange events
        super().changeEvent(event)
        if self._styled and event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange,
                            QEvent.Type.ApplicationFontChange):
            self._restyle()

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


class TrainingPanel(QWidget):
    """Noise, batch size (1…256, log), seed, and the schedule picker for all runs."""

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.noise = HyperSlider("noise", "noise", 0.0, 5.0)
        self.batch = HyperSlider("batch_size", "batch size", 1, 256, log=True, integer=True)
        self.seed = QSpinBox()
        self.seed.setObjectName("seedSpin")
        self.seed.setRange(0, 2**31 - 1)
        self.schedule = QComboBox()
        self.schedule.setObjectName("scheduleCombo")
        self.schedule.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        for name, label in schedule_choices():
            self.schedule.addItem(label, name)
        self.curve = ScheduleView(session)

        self.seed_label = QLabel("seed")
        self.schedule_label = QLabel("schedule")
        self.noise_title = section("Noise and batch")
        self.schedule_title = section("Learning-rate schedule")
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_label, 2)
        seed_row.addWidget(self.seed, 7)
        sched_row = QHBoxLayout()
        sched_row.addWidget(self.schedule_label, 2)
        sched_row.addWidget(self.schedule, 7)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.noise_title)
        lay.addWidget(self.noise)
        lay.addWidget(self.batch)
        lay.addLayout(seed_row)
        lay.addWidget(self.schedule_title)
        lay.addLayout(sched_row)
        lay.addWidget(self.curve)

        self.noise.valueChanged.connect(lambda v: self.session.set_noise(v))
        self.batch.valueChanged.connect(lambda v: self.session.set_batch_size(int(v)))
        self.seed.valueChanged.connect(lambda v: self.session.set_seed(int(v)))
        self.schedule.activated.connect(self._on_schedule_picked)
        session_signal(session, "settings_changed").connect(self._on_settings_changed)
        session_signal(session, "runs_changed").connect(self._on_settings_changed)
        session_signal(session, "problem_changed").connect(self._on_settings_changed)
        session_signal(session, "stepped").connect(self._on_stepped)
        self.retranslate()
        self._on_settings_changed()

    def retranslate(self) -> None:
        """Headings, labels and the schedule names in the UI language."""
        self.noise_title.setText(tr("noise_and_batch"))
        self.schedule_title.setText(tr("lr_schedule"))
        self.seed_label.setText(tr("label_seed"))
        self.schedule_label.setText(tr("label_schedule"))
        self.noise.set_text(tr("noise"))
        self.batch.set_text(tr("batch_size"))
        for i in range(self.schedule.count()):
            name = self.schedule.itemData(i)
            label = dict(schedule_choices()).get(name, name)
            self.schedule.setItemText(i, tr(f"sched_{name}", default=label))
        self._noise_tip()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _noise_tip(self) -> None:
        data = bool(getattr(self.session, "is_data", False))
        self.noise.setToolTip(tr("tip_noise_data") if data else tr("tip_noise"))

    def _on_schedule_picked(self, index: int) -> None:
        sched = make_schedule(self.schedule.itemData(index))
        for i in range(len(self.session.specs)):
            self.session.set_schedule(i, sched)

    def _current_schedule(self):
        specs = self.session.specs
        return specs[0].schedule if specs else None

    def _on_settings_changed(self, *_) -> None:
        s = self.session
        data = bool(getattr(s, "is_data", False))
        # on data problems the batch is real (1..N points) and the noise comes from it
        self.batch.set_range(1, max(s.n_train, 2) if data else 256)
        self.noise.setEnabled(not data)
        self._noise_tip()
        self.noise.setValue(float(s.noise))
        self.batch.setValue(float(s.batch_size))
        with QSignalBlocker(self.seed):
            self.seed.setValue(int(s.seed))
        sched = self._current_schedule()
        if sched is not None:
            idx = self.schedule.findData(getattr(sched, "kind", "constant"))
            if idx >= 0:
                with QSignalBlocker(self.schedule):
                    self.schedule.setCurrentIndex(idx)
            self.curve.set_schedule(sched, s.max_steps)
        self.curve.set_step(s.t)

    def _on_stepped(self, *_) -> None:
        self.curve.set_step(self.session.t)
