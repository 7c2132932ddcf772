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
from gdviz.ui.widgets import forget_combo_widths, reflow, unflow


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
        # new rows (a lesson's run cards, data page) reflow too (:meth:`_fit_width`)
        session.runs_changed.connect(self._refit)
        self._on_problem_changed()
        lay.addStretch(1)
        self.setWidget(inner)
        self._inner = inner
        self._width_cap: int | None = None
        # rows reflowed to fit the cap (:func:`gdviz.ui.widgets.reflow`): how to put them
        # back, and the text size, language, widgets and cap they were reflowed for
        self._undo: list = []
        self._flowed_for = None
        self._wide_need = 0
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
        self._refit()

    def fit_settled(self) -> bool:
        """No fit (and reflow) of the rows is pending (for tests)."""
        return not self._fit_timer.isActive()

    def _refit(self, *_) -> None:
        timer = getattr(self, "_fit_timer", None)  # (during __init__ there is none yet)
        if timer is not None and not timer.isActive():
            timer.start()

    def set_width_cap(self, cap: int | None) -> None:
        """The widest the window lets the panel be (None: no limit)."""
        if cap != self._width_cap:
            self._width_cap = cap
            self._fit_width()

    def needed_width(self) -> int:
        """The width at which no row has to scroll sideways (as the rows are now)."""
        return self._inner.minimumSizeHint().width() + self._chrome()

    def _chrome(self) -> int:
        return self.verticalScrollBar().sizeHint().width() + 2

    def wide_width(self) -> int:
        """The width the rows need side by side, as wide as they are at the window's
        width (:meth:`needed_width` before they were reflowed for a narrow column)."""
        self._fit_width()  # (reflowed now if stale: never left side by side in between)
        return self._wide_need

    @property
    def narrowed(self) -> bool:
        """Some rows are stacked (or texts broken into lines) to fit the window's cap."""
        return bool(self._undo)

    def _flow_key(self) -> tuple:
        from gdviz.core.i18n import current_language

        return (self.font().pointSizeF(), current_language(), self._width_cap,
                tuple(not w.isHidden() for w in (self.data, self.classify)))

    def _unflow_if_stale(self) -> None:
        """Rows reflowed for another text size, language, cap or set of widgets go back
        side by side first (reflowed anew, those that do not fit stack again)."""
        key = self._flow_key()
        if key != self._flowed_for:
            unflow(self._undo, self._inner)
            if self._flowed_for is None or key[0] != self._flowed_for[0]:
                forget_combo_widths(self._inner)
            self._flowed_for = key

    def _fit_width(self) -> None:
        # the panel is as wide as its widest row, and the map gives way (also after Ctrl+=
        # makes the text bigger), up to the window's cap: beyond it the rows reflow (big
        # text: a row's widgets one under another, a slider's entry beside its label over
        # it, long texts on two lines), so that every control shows whole without
        # scrolling sideways, and the map keeps its room
        cap = self._width_cap
        self._unflow_if_stale()
        if not self._undo:
            self._wide_need = self.needed_width()
        if cap is not None:
            reflow(self._inner, cap - self._chrome(), self._undo)
            self._flowed_for = self._flow_key()
        need = self.needed_width()
        capped = cap is not None and need > cap
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded if capped
                                          else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(cap if capped else need)

    def event(self, ev) -> bool:
        t = ev.type()
        if t in (QEvent.Type.FontChange, QEvent.Type.LayoutRequest):
            self._refit()  # (a timer, child of the panel: not after the panel is gone)
        return super().event(ev)

