"""The side panel: problem, runs, training and playback panels stacked in one scroll area.

Every control writes to the :class:`~gdviz.core.session.Session` through its
methods and never to another widget; every control follows the session through its
signals, updating itself with its own signals blocked so that there are no
feedback loops (napari's model/view split).
"""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget

from gdviz.ui.panels.classify_panel import ClassifyPanel
from gdviz.ui.panels.data_panel import DataPanel
from gdviz.ui.panels.playback_panel import PlaybackPanel
from gdviz.ui.panels.problem_panel import ProblemPanel
from gdviz.ui.panels.runs_panel import RunsPanel
from gdviz.ui.panels.training_panel import TrainingPanel
from gdviz.ui.widgets import forget_combo_widths, measure_anew, reflow, unflow


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
        self._flowed_sig = None  # (the rows' needed width and widgets after the last reflow)
        # the rows' width side by side, and the text size, language and widgets it was
        # measured for; the text size the combo boxes last measured at
        self._wide_need = 0
        self._wide_for = None
        self._combo_pt = None
        self._unsized = False  # reflowed, the panel's minimum width not set since
        self._fits_held = 0  # inside fits_held: fits wait for the cap set after it
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

    def set_width_cap(self, cap: int | None, *, resize: bool = True) -> None:
        """The widest the window lets the panel be (None: no limit). The rows reflow for it
        now, if they are not reflowed for it already (nor for the text, language and
        widgets there are now). ``resize=False``: the panel keeps its minimum width (its
        rows reflowed before the window lays out, its width set after)."""
        self._width_cap = cap
        if self._put_away():
            return  # (fitted when shown)
        if self._flow_key() != self._flowed_for or self._fit_timer.isActive():
            self._fit_width(resize=resize)  # (asked for since: new rows, a new row size)
        elif resize and self._unsized:
            self._fit_size()

    def needed_width(self) -> int:
        """The width at which no row has to scroll sideways (as the rows are now)."""
        return self._inner.minimumSizeHint().width() + self._chrome()

    def _chrome(self) -> int:
        return self.verticalScrollBar().sizeHint().width() + 2

    def wide_width(self) -> int:
        """The width the rows need side by side, as wide as they are at the window's
        width (:meth:`needed_width` before they were reflowed for a narrow column).

        Measured once per text size, language and set of widgets: rows reflowed for
        another go back side by side to be measured, and reflow at the cap the window
        sets next (:meth:`set_width_cap`, or the next turn of the event loop at the
        latest), once. (Reflowed here for the old cap and again for the new one, each
        text-size press reflowed the rows twice, each pass a walk over every widget.)"""
        key = self._flow_key()
        if self._put_away():
            return self._wide_need  # (measured when shown)
        if self._wide_for == self._wide_key(key):
            if self._fit_timer.isActive() and key == self._flowed_for:
                self._fit_width()  # (new rows since: as wide as they are now)
        else:
            self._put_back_if_stale(key)
            if not self._undo:
                self._wide_need = self.needed_width()
                self._wide_for = self._wide_key(key)
                self._refit()
        return self._wide_need

    @property
    def narrowed(self) -> bool:
        """Some rows are stacked (or texts broken into lines) to fit the window's cap."""
        return bool(self._undo)

    def _flow_key(self) -> tuple:
        from gdviz.core.i18n import current_language

        return (self.font().pointSizeF(), current_language(), self._width_cap,
                tuple(not w.isHidden() for w in (self.data, self.classify)))

    @staticmethod
    def _wide_key(key: tuple) -> tuple:
        return key[:2] + key[3:]  # (the flow key but the cap)

    def _put_back_if_stale(self, key: tuple) -> None:
        """Rows reflowed for another text size, language, cap or set of widgets go back
        side by side first (reflowed anew, those that do not fit stack again)."""
        if key == self._flowed_for:
            return
        stale = bool(self._undo)
        unflow(self._undo)
        if key[0] != self._combo_pt:
            forget_combo_widths(self._inner)
            self._combo_pt = key[0]
            stale = True
        if stale:
            # every row measured at the new text (not only at the window's next layout
            # pass: a row's nested layouts keep their old sizes until their widget lays
            # out, and the rows grew over three layout passes, each laying out every
            # run card anew)
            measure_anew(self._inner)
        self._flowed_for = None  # (side by side: reflowed for nothing)

    @contextmanager
    def fits_held(self):
        """Inside: the rows are not fitted (a fit asked for waits, as the fit timer's),
        but at the cap the window sets after the block (:meth:`set_width_cap`). For a
        change that shows the panel and resizes the window in steps: projector mode off
        at 261 % text on 800x600 reflowed the rows when their dock showed, and again for
        the window's width restored, ~35 ms each, before the window laid out."""
        self._fits_held += 1
        try:
            yield
        finally:
            self._fits_held -= 1

    def _fit_width(self, resize: bool = True) -> None:
        if self._fits_held:
            self._refit()  # (the cap set after the block fits them: see set_width_cap)
            return
        # the panel is as wide as its widest row, and the map gives way (also after Ctrl+=
        # makes the text bigger), up to the window's cap: beyond it the rows reflow (big
        # text: a row's widgets one under another, a slider's entry beside its label over
        # it, long texts on two lines), so that every control shows whole without
        # scrolling sideways, and the map keeps its room
        self._fit_timer.stop()  # (done now for whatever asked)
        if self._put_away():
            return
        cap = self._width_cap
        key = self._flow_key()
        same = key == self._flowed_for
        self._put_back_if_stale(key)
        if not self._undo:
            self._wide_need = self.needed_width()
            self._wide_for = self._wide_key(key)
        # reflowed for this text, language and cap already, and the rows within the cap or
        # no wider than that reflow left them, with the same widgets: a reflow would narrow
        # nothing more. (A reflow's own layout requests asked for the next one: a text-size
        # press at 300 % with 12 runs, whose rows cannot all fit, reflowed them 7 times,
        # each a walk over ~700 widgets, ~10 ms)
        if cap is not None:
            need = self.needed_width()
            if not (same and (need <= cap or (need, self._n_widgets()) == self._flowed_sig)):
                reflow(self._inner, cap - self._chrome(), self._undo)
                self._flowed_sig = (self.needed_width(), self._n_widgets())
        self._flowed_for = key
        self._unsized = True
        if resize:
            self._fit_size()

    def _n_widgets(self) -> int:
        return len(self._inner.findChildren(QWidget))

    def _fit_size(self) -> None:
        """The panel as wide as its rows, up to the cap (beyond it, it scrolls sideways)."""
        self._unsized = False
        cap = self._width_cap
        need = self.needed_width()
        capped = cap is not None and need > cap
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded if capped
                                          else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(cap if capped else need)

    def _put_away(self) -> bool:
        """Its dock hidden in a shown window (projector mode, or closed by the user): the
        rows are not reflowed for caps nobody sees (the projector's full screen reflowed
        them, ~60 ms with 30 runs), but when the panel shows again."""
        return not self.isVisible() and self.window().isVisible()

    def showEvent(self, ev) -> None:  # noqa: N802 - Qt API
        if self._flow_key() != self._flowed_for or self._unsized:
            self._fit_width()  # (what it did not fit while put away)
        super().showEvent(ev)

    def event(self, ev) -> bool:
        t = ev.type()
        if t in (QEvent.Type.FontChange, QEvent.Type.LayoutRequest):
            self._refit()  # (a timer, child of the panel: not after the panel is gone)
        return super().event(ev)

