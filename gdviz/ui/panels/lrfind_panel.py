"""The lr finder's dock: find the lr, apply a suggestion, tune each optimizer.

"Find lr" sweeps from the selected run (else the first shown one) at the displayed step
(:func:`gdviz.core.lrfind.session_sweep`); "Tune each optimizer" runs the fair race
(:func:`gdviz.core.lrfind.session_tuning`) and sets each run to its best lr. Both run in
chunks on a zero-interval timer, a few milliseconds of engine work per turn of the event
loop, with a progress bar and Cancel, so the window keeps drawing. The results go into the
model (``session.lrfind``, ``session.tuned``); the plot and the table below the buttons are
the picture's own views and read them from there.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, QSize, QTimer, Signal
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QProgressBar, QPushButton,
                               QScrollArea, QVBoxLayout, QWidget)

from gdviz.core import lrfind as L
from gdviz.core.i18n import tr
from gdviz.ui import theme
from gdviz.ui.widgets import ElidedLabel, reflow, unflow
from gdviz.ui.views.items import connect_all, disconnect_all
from gdviz.ui.views.lrfind_view import LrFindView, TunedTable, fmt_lr

#: engine work per turn of the event loop (ms): the frame timer still gets its 16 ms
CHUNK_MS = 8.0


class Chunked:
    """Drive ``job`` (an :class:`LrSweep` or :class:`Tuning`: ``advance(k)``, ``done``,
    ``fraction``) on a zero-interval timer, k steps a turn, k grown or shrunk to take about
    CHUNK_MS. ``finished(job)`` when done; :meth:`cancel` stops it."""

    def __init__(self, job, on_progress, on_finished, parent):
        self.job = job
        self.k = 1
        self._phase = getattr(job, "phase", None)
        self.on_progress, self.on_finished = on_progress, on_finished
        self.timer = QTimer(parent)
        self.timer.setInterval(0)
        self.timer.timeout.connect(self._turn)
        self.timer.start()

    def _turn(self) -> None:
        phase = getattr(self.job, "phase", None)  # (a scene's job: re-play, sweep, tuning)
        if phase != self._phase:
            self._phase, self.k = phase, 1  # (a step of each costs its own)
        t0 = time.perf_counter()
        try:
            self.job.advance(self.k)
        except (ValueError, FloatingPointError, MemoryError) as exc:
            self.cancel()
            self.on_finished(None, str(exc))
            return
        ms = (time.perf_counter() - t0) * 1000.0
        if ms < CHUNK_MS / 2:
            self.k = min(self.k * 2, 1 << 16)
        elif ms > CHUNK_MS * 2 and self.k > 1:
            self.k //= 2
        self.on_progress(self.job.fraction)
        if self.job.done:
            self.cancel()
            self.on_finished(self.job, "")

    def cancel(self) -> None:
        self.timer.stop()

    @property
    def running(self) -> bool:
        return self.timer.isActive()


class LrFindPanel(QWidget):
    """Buttons, progress, the plot (:class:`LrFindView`) and the table (:class:`TunedTable`)."""

    #: a sweep or a tuning finished and went into the model
    finished = Signal(str)

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("lrFindPanel")
        self.find_button = QPushButton(tr("lrf_find"))
        self.find_button.setObjectName("lrFindButton")
        self.find_button.setToolTip(tr("lrf_find_tip"))
        self.find_button.clicked.connect(self.find_lr)
        self.steep_button = QPushButton()
        self.steep_button.clicked.connect(lambda: self.apply("steep"))
        self.min_button = QPushButton()
        self.min_button.clicked.connect(lambda: self.apply("minimum"))
        self.tune_button = QPushButton(tr("tune_button"))
        self.tune_button.setObjectName("tuneButton")
        self.tune_button.setToolTip(tr("tune_tip"))
        self.tune_button.clicked.connect(self.tune)
        self.cancel_button = QPushButton(tr("cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(10)
        # one line, ending in "…" when the dock is narrow, whole in its tooltip (a wrapped
        # label would make the scrolled dock as tall as every size hint)
        self.message = ElidedLabel()
        self.message.setObjectName("lrFindMessage")
        self.view = LrFindView(session)
        self.table = TunedTable(session)
        row1 = QHBoxLayout()
        row1.addWidget(self.find_button)
        row1.addWidget(self.tune_button)
        running = QHBoxLayout()  # (shown while a job runs: see _sync)
        running.addWidget(self.progress, 1)
        running.addWidget(self.cancel_button)
        row2 = QHBoxLayout()
        row2.addWidget(self.steep_button)
        row2.addWidget(self.min_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        # the progress, its Cancel and its line first, where the scrolled dock opens: under
        # the buttons they were below its fold at 200 % on 1280×720 (the buttons reflowed
        # into a column)
        lay.addLayout(running)
        lay.addWidget(self.message)
        lay.addLayout(row1)
        lay.addLayout(row2)
        lay.addWidget(self.view, 3)
        lay.addWidget(self.table, 0)
        self._fit_plot()
        self.job: Chunked | None = None
        self._kind = ""
        self._scene_finish = None  # (run_scene: the results into the model)
        s = session
        self._connections = connect_all([
            (s.events.lrfind, self._sync), (s.events.tuned, self._sync),
            (s.problem_changed, self._on_problem_changed), (s.runs_changed, self._sync),
        ])
        self._sync()

    # ------------------------------------------------------------------ actions
    def find_lr(self) -> bool:
        """Start a sweep from the reference run at the displayed step (chunked)."""
        self.cancel()
        s = self.session
        s.pause()
        try:  # (a step scrubbed back to is re-played in the job's chunks)
            sweep = L.session_sweep_job(s)
        except ValueError as exc:
            self._show_error(str(exc))
            return False
        self._start("sweep", sweep)
        return True

    def tune(self) -> bool:
        """Start the fair race: every run's lr grid in one RunSet (chunked)."""
        self.cancel()
        s = self.session
        s.pause()
        try:
            job = L.session_tuning(s)
        except ValueError as exc:
            self._show_error(str(exc))
            return False
        self._start("tune", job)
        return True

    def run_scene(self, jobs, finish) -> None:
        """The rest of a scene's lr finder work (:class:`gdviz.core.lrfind.SceneJobs`, what
        its open left), chunked with progress as the buttons' jobs; ``finish()`` puts the
        results into the model (the scene's own: the lrs are not changed)."""
        self.cancel()
        self._scene_finish = finish
        self._start("scene", jobs)

    def apply(self, name: str) -> bool:
        res = self.session.lrfind
        if res is None:
            return False
        return L.apply_suggestion(self.session, res, name)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job = None
        self._sync()

    def wait(self) -> None:
        """Run the job in progress to its end now (tests, export)."""
        while self.job is not None and self.job.running:
            self.job._turn()

    # ------------------------------------------------------------------ running
    def _start(self, kind: str, job) -> None:
        self._kind = kind
        self._problem = self.session.problem
        self.message.setText(tr("lrf_running") if self._sweeping(job) else tr("tune_running"))
        self.message.setStyleSheet("")
        self.progress.setValue(0)
        self.job = Chunked(job, self._on_progress, self._on_finished, self)
        self._sync()

    def _sweeping(self, job) -> bool:
        """The job sweeps now (else it tunes): a scene's does one, then the other."""
        return self._kind == "sweep" or (self._kind == "scene" and job.sweeping)

    def _on_progress(self, frac: float) -> None:
        self.progress.setValue(int(1000 * min(max(frac, 0.0), 1.0)))
        if self._kind == "scene" and self.job is not None and not self.job.job.done:
            job = self.job.job
            text = tr("lrf_running") if self._sweeping(job) else tr("tune_running")
            if self.message.text() != text:
                self.message.setText(text)
            if job.land_sweep():  # (its plot shows while the tuning goes on)
                self.view.set_sweeping(False)

    def _on_finished(self, job, error: str) -> None:
        self.job = None
        s = self.session
        if error:
            self._show_error(error)
            self._sync()
            return
        if s.problem is not self._problem:  # the problem changed meanwhile: stale
            self._sync()
            return
        if self._kind == "scene":  # (as the open would have: no message, no lr changed)
            self._scene_finish()
            self.message.setText("")
        elif self._kind == "sweep":
            res = job.result()
            s.set_lrfind(res)
            self.message.setText(tr("lrf_done", n=res.n, steep=fmt_lr(res.steep),
                                    minimum=fmt_lr(res.minimum)))
            self._ensure_panel("lrfind")
        else:
            res = job.result()
            if len(res.labels) == s.n_specs:
                with s._changes():
                    s.set_tuned(res)
                    L.apply_tuned(s, res)
                self.message.setText(tr("tune_done"))
                self._ensure_panel("tuned")
        self.message.setStyleSheet("")
        self.finished.emit(self._kind)
        self._sync()

    def _ensure_panel(self, name: str) -> None:
        if name not in self.session.panels:
            self.session.set_view_options(panels=self.session.panels + (name,))

    def _show_error(self, msg: str) -> None:
        self.message.setText(msg.splitlines()[0] if msg else "")
        self.message.setVisible(bool(msg))
        self.message.setStyleSheet(f"color: {theme.palette(theme.current())['diverged']};")

    def _on_problem_changed(self, *_) -> None:
        self.cancel()
        self.message.setText("")
        self.message.hide()

    def _sync(self, *_) -> None:
        running = self.job is not None and self.job.running
        self.view.set_sweeping(running and self._sweeping(self.job.job))
        res = self.session.lrfind
        self.message.setVisible(bool(self.message.text()))
        self.find_button.setEnabled(not running)
        self.tune_button.setEnabled(not running)
        self.cancel_button.setVisible(running)
        self.progress.setVisible(running)
        steep = res.steep if res is not None else None
        minimum = res.minimum if res is not None else None
        self.steep_button.setText(tr("lrf_use_steep", lr=fmt_lr(steep)))
        self.min_button.setText(tr("lrf_use_minimum", lr=fmt_lr(minimum)))
        self.steep_button.setEnabled(not running and steep is not None)
        self.min_button.setEnabled(not running and minimum is not None)

    def retranslate(self) -> None:
        self.find_button.setText(tr("lrf_find"))
        self.find_button.setToolTip(tr("lrf_find_tip"))
        self.tune_button.setText(tr("tune_button"))
        self.tune_button.setToolTip(tr("tune_tip"))
        self.cancel_button.setText(tr("cancel"))
        if self.job is not None and self.job.running:  # (what it does, in the new language)
            self.message.setText(tr("lrf_running") if self._sweeping(self.job.job)
                                 else tr("tune_running"))
        self._sync()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange and hasattr(self, "_connections"):
            self.retranslate()
        elif event.type() == QEvent.Type.FontChange:
            self._fit_plot()

    def _fit_plot(self) -> None:
        """The plot keeps room for its axes and curve (about seven lines of text): in a
        short dock the panel scrolls instead (at 200 % on 1280×720, squeezed under the
        buttons, it was a 70 px strip with its title over its axis)."""
        self.view.setMinimumHeight(max(120, 7 * self.fontMetrics().height()))

    def close(self) -> bool:
        self.cancel()
        disconnect_all(self._connections)
        self._connections = []
        self.view.close()
        self.table.close()
        return super().close()


class CompactScroll(QScrollArea):
    """A scroll area that asks for little room: its size hint is not the panel's (a
    hidden dock tabbed with the controls must not make their column wider).

    Its panel never scrolls sideways: where its rows are wider than the column (big
    text: at 200 % on 1280×720 "Find lr" and "Tune each optimizer" side by side needed
    700 px of a 408 px column, and the buttons were cut at its edge), they reflow as the
    controls' rows do (:func:`gdviz.ui.widgets.reflow`: a row too wide becomes a column,
    a long button text breaks into lines), and are put back when the column is wide
    enough again."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._undo: list = []
        self._flowed_width = -1
        # after the event that asked (a resize, a new text size, a new text in a button)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._reflow)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return QSize(200, 200)

    def setWidget(self, w: QWidget) -> None:  # noqa: N802 - Qt name
        super().setWidget(w)
        w.installEventFilter(self)
        self._timer.start()

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(ev)
        if self.viewport().width() != self._flowed_width:
            self._flowed_width = -1  # (all put back, then reflowed for the new width)
            self._timer.start()

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802 - Qt name
        t = ev.type()
        if obj is self.widget():
            if t in (QEvent.Type.FontChange, QEvent.Type.LanguageChange):
                self._flowed_width = -1
                self._timer.start()
            elif t == QEvent.Type.LayoutRequest and not self._timer.isActive():
                self._timer.start()  # (a new text: narrowed further only if it must)
        return False

    def _reflow(self) -> None:
        w = self.widget()
        if w is None:
            return
        width = self.viewport().width()
        if self._flowed_width != width:
            unflow(self._undo, w)
        elif w.minimumSizeHint().width() <= width:
            return
        reflow(w, width, self._undo)
        self._flowed_width = width


class LrFindDock(QObject):
    """The window's part of the lr finder: a dock with :class:`LrFindPanel` (tabbed with
    the controls) and a Tools menu (Find learning rate, Tune each optimizer).

    The dock shows while a job runs, and when the model has a result to show in a panel
    it names (``"lrfind" in session.panels`` with ``session.lrfind``, or ``"tuned"`` with
    ``session.tuned``); its ✕ takes both panels out of ``session.panels``. The panel and
    the dock are made the first time they are needed: until then the window is the one it
    was without the lr finder (its layout, what it saves and restores, its start-up)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = w = window
        s = w.session
        self.panel: LrFindPanel | None = None
        self.dock = self.scroll = None
        self.menu = w.menuBar().addMenu(tr("menu_tools"))
        self.menu.setObjectName("toolsMenu")
        self.find_action = w._action(self.menu, tr("lrf_find_menu"), self.find_lr)
        self.tune_action = w._action(self.menu, tr("tune_menu"), self.tune)
        # the Help menu stays last
        help_menu = getattr(w, "help_menu", None)
        if help_menu is not None:
            w.menuBar().insertMenu(help_menu.menuAction(), self.menu)
        self._connections = connect_all([
            (s.events.panels, self._sync), (s.events.lrfind, self._sync),
            (s.events.tuned, self._sync),
        ])
        w.installEventFilter(self)  # the window's LanguageChange re-labels the menu
        self._sync()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt name
        from PySide6.QtCore import QEvent

        if obj is self.window and event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        return False

    def prebuild(self) -> None:
        """Make the panel ahead of its first use, hidden, as a child of the window (which
        passes its language, text size and theme on to it as to any child); the dock is
        still made only when the panel is first wanted, so the window's layout and what
        it saves stay as they were. The app calls this once its window is up
        (:func:`gdviz.ui.app.after_first_paint`): made in the first L18 open, the panel
        was ~25 ms of an 80-100 ms turn."""
        import shiboken6

        # (the window may have been closed and deleted before the app's timer fired)
        if self.panel is None and shiboken6.isValid(self.window):
            self._make_panel()

    def _make_panel(self) -> None:
        w = self.window
        self.panel = LrFindPanel(w.session, w)
        self.panel.hide()
        self.panel.finished.connect(self._sync)

    def ensure_panel(self) -> LrFindPanel:
        """The panel in its dock (made now if it is not yet)."""
        if self.panel is None:
            self._make_panel()
        if self.dock is None:
            from PySide6.QtCore import Qt

            w = self.window
            # scrolled, so that the panel's buttons and table (wide at a large text size)
            # never widen the controls' column it shares as a tab
            self.scroll = CompactScroll()
            self.scroll.setWidgetResizable(True)
            self.scroll.setFrameShape(QFrame.Shape.NoFrame)
            self.scroll.setWidget(self.panel)
            self.panel.show()  # (hidden while it waited as the window's child)
            self.dock = w._dock(tr("dock_lrfind"), "lrFindDock", self.scroll,
                                Qt.DockWidgetArea.RightDockWidgetArea)
            w.tabifyDockWidget(w.controls_dock, self.dock)
            self.dock.hide()
            self.dock.closed.connect(self._on_closed)
        return self.panel

    def find_lr(self) -> bool:
        ok = self.ensure_panel().find_lr()
        self._sync()
        return ok

    def tune(self) -> bool:
        ok = self.ensure_panel().tune()
        self._sync()
        return ok

    def run_scene_jobs(self, jobs, finish) -> None:
        """A scene's lr finder work left by its open, in the panel (:meth:`LrFindPanel.run_scene`);
        the dock shows it when the scene names the panels it fills."""
        self.ensure_panel().run_scene(jobs, finish)
        self._sync()

    def wait(self) -> None:
        """Run the panel's job to its end now (tests)."""
        if self.panel is not None:
            self.panel.wait()

    def _wanted(self) -> bool:
        s = self.window.session
        p = self.panel
        running = p is not None and p.job is not None and p.job.running
        if running and p._kind == "scene":  # (a scene without the panels: not shown)
            running = "lrfind" in s.panels or "tuned" in s.panels
        return running or ("lrfind" in s.panels and s.lrfind is not None) \
            or ("tuned" in s.panels and s.tuned is not None)

    def _sync(self, *_) -> None:
        on = self._wanted()
        if self.dock is None:
            if not on:
                return
            self.ensure_panel()
        if on != (not self.dock.isHidden()) and not getattr(self.window, "projector", False):
            self.dock.setVisible(on)
            if on:
                self.dock.raise_()

    def _on_closed(self) -> None:
        self.panel.cancel()
        s = self.window.session
        s.set_view_options(panels=tuple(p for p in s.panels if p not in ("lrfind", "tuned")))

    def retranslate(self) -> None:
        if self.dock is not None:
            self.dock.setWindowTitle(tr("dock_lrfind"))
        self.menu.setTitle(tr("menu_tools"))
        self.find_action.setText(tr("lrf_find_menu"))
        self.tune_action.setText(tr("tune_menu"))
