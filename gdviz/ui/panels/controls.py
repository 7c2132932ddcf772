"""The side panel: problem, runs, training and playback panels stacked in one scroll area.

Every control writes to the :class:`~gdviz.core.session.Session` through its
methods and never to another widget; every control follows the session through its
signals, updating itself with its own signals blocked so that there are no
feedback loops (napari's model/view split).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget

from gdviz.ui.panels.classify_panel import ClassifyPanel
from gdviz.ui.panels.data_panel import DataPanel
from gdviz.ui.panels.playback_panel import PlaybackPanel
from gdviz.ui.panels.problem_panel import ProblemPanel
from gdviz.ui.panels.runs_panel import RunsPanel
from gdviz.ui.panels.training_panel import TrainingPanel


class ControlsPanel(QScrollArea):
    """Problem, runs, noise/batch/schedule and playback panels stacked in one scroll area."""

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)

        self.session = session
        self.setObjectName("controlsPanel")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        inner = QWidget()
        lay = QVBoxLayout(inner)
        lay.setContentsMargins(8, 4, 8, 4)
        self.playback = PlaybackPanel(session)
        self.problem = ProblemPanel(session)
        self.data = DataPanel(session)
        self.classify = ClassifyPanel(session)
        self.runs = RunsPanel(session)
        self.training = TrainingPanel(session)
        # playback first: the buttons the teacher presses most sit at the top; the data and
        # model (data problems only) right under the problem they belong to
        for w in (self.playback, self.problem, self.data, self.classify, self.runs,
                  self.training):
            lay.addWidget(w)
        session.problem_changed.connect(self._on_problem_changed)
        self._on_problem_changed()
        lay.addStretch(1)
        self.setWidget(inner)
        self._inner = inner
        self._width_cap: int | None = None
        # one fit per turn of the event loop, however many font and layout events asked
        # (a text-size press sent ~20, each queued its own fit)
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self._fit_width)
        self._fit_width()

    def _on_problem_changed(self, *_) -> None:
        self.data.setVisible(self.session.is_data and self.session.kind != "classify")
        self.classify.setVisible(self.session.kind == "classify")

    def set_width_cap(self, cap: int | None) -> None:
        """The widest the window lets the panel be (None: no limit)."""
        if cap != self._width_cap:
            self._width_cap = cap
            self._fit_width()

    def needed_width(self) -> int:
        """The width at which no row has to scroll sideways."""
        return self._inner.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() + 2

    def _fit_width(self) -> None:
        # the panel is as wide as its widest row, and the map gives way (also after Ctrl+=
        # makes the text bigger), up to the window's cap: beyond it the panel scrolls
        # sideways, and the map keeps its room
        need = self.needed_width()
        cap = self._width_cap
        capped = cap is not None and need > cap
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded if capped
                                          else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(cap if capped else need)

    def event(self, ev) -> bool:
        t = ev.type()
        if t in (QEvent.Type.FontChange, QEvent.Type.LayoutRequest):
            timer = getattr(self, "_fit_timer", None)  # (events come during __init__)
            if timer is not None and not timer.isActive():
                timer.start()  # a child of the panel: not after the panel is gone
        return super().event(ev)

