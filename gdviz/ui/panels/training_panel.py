"""Gradient noise, batch size, seed, and the learning-rate schedule picker with its curve."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QEvent, QSignalBlocker, Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from gdviz.core.i18n import tr
from gdviz.ui.views.schedule_view import (ScheduleView, make_schedule, retranslate_schedule_combo,
                                           schedule_choices)
from gdviz.ui.widgets import HyperSlider, section


class TrainingPanel(QWidget):
    """Noise, batch size (1…256, log), seed, and the schedule picker for all runs."""

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.noise = HyperSlider("noise", tr("noise"), 0.0, 5.0)
        self.batch = HyperSlider("batch_size", tr("batch_size"), 1, 256, log=True, integer=True)
        self.seed = QSpinBox()
        self.seed.setObjectName("seedSpin")
        self.seed.setRange(0, 2**31 - 1)
        self.schedule = QComboBox()
        self.schedule.setObjectName("scheduleCombo")
        self.schedule.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        for name, label in schedule_choices():
            self.schedule.addItem(label, name)
        self.curve = ScheduleView(session, follow=True)  # the picture's own schedule view

        self.seed_label = QLabel(tr("label_seed"))
        self.schedule_label = QLabel(tr("label_schedule"))
        self.noise_title = section(tr("noise_and_batch"))
        self.schedule_title = section(tr("lr_schedule"))
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

        #: around an edit's change of the session: the window's MainWindow.two_turns (the
        #: views refresh in the next turn of the event loop); alone, one turn
        self.two_turns = contextlib.nullcontext
        self.noise.valueChanged.connect(lambda v: self._edit(self.session.set_noise, v))
        self.batch.valueChanged.connect(lambda v: self._edit(self.session.set_batch_size, int(v)))
        self.seed.valueChanged.connect(lambda v: self._edit(self.session.set_seed, int(v)))
        self.schedule.activated.connect(self._on_schedule_picked)
        session.settings_changed.connect(self._on_settings_changed)
        session.runs_changed.connect(self._on_settings_changed)
        session.problem_changed.connect(self._on_settings_changed)
        session.selection_changed.connect(self._on_settings_changed)
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
        retranslate_schedule_combo(self.schedule)
        self._noise_tip()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _noise_tip(self) -> None:
        data = self.session.is_data
        self.noise.setToolTip(tr("tip_noise_data") if data else tr("tip_noise"))

    def _selected_spec(self) -> int | None:
        s = self.session
        return s.spec_index(s.selected) if 0 <= s.selected < s.n_runs else None

    def _edit(self, change, value) -> None:
        with self.two_turns():
            change(value)

    def _on_schedule_picked(self, index: int) -> None:
        # the run in step-by-step mode, else every run at once (one restart, one engine
        # build); each run card also has its own picker
        with self.two_turns():
            self.session.set_schedule(self._selected_spec(),
                                      make_schedule(self.schedule.itemData(index)))

    def _current_schedule(self):
        specs = self.session.specs
        i = self._selected_spec()
        return specs[i if i is not None else 0].schedule if specs else None

    def _on_settings_changed(self, *_) -> None:
        s = self.session
        data = s.is_data
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
            idx = self.schedule.findData(sched.kind)
            if idx >= 0:
                with QSignalBlocker(self.schedule):
                    self.schedule.setCurrentIndex(idx)

