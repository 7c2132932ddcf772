"""Play/pause, step, step back, reset, speed, max steps and the timeline slider."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gdviz.core.i18n import tr
from gdviz.core.limits import MAX_STEPS
from gdviz.ui.widgets import HyperSlider, SteadyLabel, section


class PlaybackPanel(QWidget):
    """Transport buttons plus a timeline that scrubs through the recorded steps.

    The timeline's range is the recorded steps (``session.runset.t``); its handle
    follows ``session.t``. Dragging it calls ``session.scrub``.
    """

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.play = self._button(QPushButton(), "playButton")
        self.play.setCheckable(True)
        self.back = self._button(QToolButton(), "stepBackButton", "◀|")
        self.step = self._button(QToolButton(), "stepButton", "|▶")
        self.reset = self._button(QToolButton(), "resetButton", "⟲ R")
        self.speed = HyperSlider("speed", tr("steps_per_second"), 1, 2000, log=True, integer=True)
        self.max_steps = QSpinBox()
        self.max_steps.setObjectName("maxSteps")
        self.max_steps.setRange(1, MAX_STEPS)
        self.max_steps.setSingleStep(100)
        self.max_steps.setKeyboardTracking(False)  # apply on Enter, not on every digit
        self.timeline = QSlider(Qt.Orientation.Horizontal)
        self.timeline.setObjectName("timeline")
        self.timeline.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.counter = SteadyLabel()
        self.counter.setObjectName("stepCounter")
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        # the step buttons in a row of their own: a narrow column (big text) puts them
        # under Play, still side by side (:func:`gdviz.ui.widgets.reflow`)
        steps = QHBoxLayout()
        for b in (self.back, self.step, self.reset):
            b.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
            steps.addWidget(b)
        buttons = QHBoxLayout()
        buttons.addWidget(self.play, 1)
        buttons.addLayout(steps)
        self.title = section(tr("playback"))
        self.max_steps_label = QLabel(tr("label_max_steps"))
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.counter)
        ms = QHBoxLayout()
        ms.addWidget(self.max_steps_label)
        ms.addWidget(self.max_steps, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(head)
        lay.addLayout(buttons)
        lay.addWidget(self.timeline)
        lay.addWidget(self.speed)
        lay.addLayout(ms)

        self.play.clicked.connect(self._on_play_clicked)
        self.back.clicked.connect(lambda: self.session.step_back())
        self.step.clicked.connect(lambda: self.session.step())
        self.reset.clicked.connect(lambda: self.session.reset())
        self.speed.valueChanged.connect(lambda v: self.session.set_speed(float(v)))
        self.max_steps.valueChanged.connect(lambda v: self.session.set_max_steps(int(v)))
        self.timeline.valueChanged.connect(self._on_timeline_moved)
        session.playing_changed.connect(self._on_playing_changed)
        session.stepped.connect(self._on_stepped)
        session.settings_changed.connect(self._on_settings_changed)
        session.runs_changed.connect(self._on_stepped)
        session.problem_changed.connect(self._on_stepped)
        self.retranslate()
        self._on_settings_changed()

    def retranslate(self) -> None:
        """Every text in the UI language (:func:`gdviz.core.i18n.tr`)."""
        self.title.setText(tr("playback"))
        self.max_steps_label.setText(tr("label_max_steps"))
        self.play.setToolTip(tr("tip_play"))
        self.back.setToolTip(tr("tip_step_back"))
        self.step.setToolTip(tr("tip_step"))
        self.reset.setToolTip(tr("tip_reset"))
        self.timeline.setToolTip(tr("tip_timeline"))
        self.speed.set_text(tr("steps_per_second"), tr("help_speed"))
        self._on_playing_changed(self.session.playing)
        self._on_stepped()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _button(self, b, name: str, text: str | None = None):
        if text is not None:
            b.setText(text)
        b.setObjectName(name)
        # buttons take no keyboard focus: Space must toggle playback, not "click" a button
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return b

    # -- widget -> session ---------------------------------------------------------------
    def _on_play_clicked(self) -> None:
        self.session.toggle_play()
        # play() is a no-op at max steps: the checkable button must not stay pressed
        self._on_playing_changed(self.session.playing)

    def _on_timeline_moved(self, t: int) -> None:
        self.session.scrub(int(t))

    # -- session -> widget ------------------------------------------------------------------
    def _on_playing_changed(self, playing: bool = False, *_) -> None:
        with QSignalBlocker(self.play):
            self.play.setChecked(bool(playing))
        self.play.setText(f"❚❚  {tr('pause')}" if playing else f"▶  {tr('play')}")

    def _on_stepped(self, *_) -> None:
        s = self.session
        recorded = s.runset.t
        with QSignalBlocker(self.timeline):
            self.timeline.setRange(0, max(recorded, 0))
            self.timeline.setValue(int(s.t))
        self._show_counter()

    def _show_counter(self) -> None:
        # one word per problem, as the status bar says it: iteration on data problems (L6)
        s = self.session
        key = "counter_iteration" if s.is_data else "counter_step"
        self.counter.setText(tr(key, t=s.t, n=s.max_steps))

    def _on_settings_changed(self, *_) -> None:
        s = self.session
        self.speed.setValue(float(s.speed))
        with QSignalBlocker(self.max_steps):
            self.max_steps.setValue(int(s.max_steps))
        self._show_counter()
