"""The main window a teacher projects: the map, the controls beside it, the loss below.

Layout::

    ┌ menu: File  View  Lessons ───────────────────────────┬──────────────┐
    │ caption strip (lesson title + paragraph, big font)    │  Controls    │
    │                                                       │  (playback,  │
    │          LandscapeView (contours + runs)              │   problem,   │
    │                                                       │   runs, ...) │
    ├───────────────────────────────────────────────────────┤  [Controls | │
    │          LossView                                     │  Step by step]│
    └ status: step · epoch · diverged · kernels ────────────┴──────────────┘

The window owns the frame clock: a ~60 Hz QTimer calls ``session.tick(dt)`` with
the measured elapsed time while playing. The session advances every run in one
kernel call and emits ``stepped`` once, so the UI thread never blocks on a loop of
optimizer steps.
"""

from __future__ import annotations

import functools
import importlib
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QRect, QSettings, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QFont, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QGraphicsView,
    QStyle,
    QStyleOptionDockWidget,
    QStylePainter,
    QWidget,
)

from gdviz.ui import staggered, theme
from gdviz.ui.panels.controls import ControlsPanel
from gdviz.core.i18n import tr
from gdviz.core.panels import PANELS
from gdviz.ui.picture import Picture, status_texts
from gdviz.ui.views.loss_view import LossView
from gdviz.ui.views.refresh import later
from gdviz.ui.views.step_view import StepScroll, StepView
from gdviz.ui.widgets import SteadyLabel

ORG = APP = "gdviz"
THEMES = ("dark", "light")
DEFAULT_THEME = "light"  # projectors wash out dark themes; light is the safe default
FONT_STEP = 1.15
FONT_SCALE_RANGE = (0.6, 3.0)
FRAME_MS = 16
#: the part of a frame a background re-play may take (see Session.continue_replay)
REPLAY_FRAME_S = 0.012
#: the most of the window's width the controls (and step-by-step) column may take, and of
#: its height the loss dock: the plots (the picture and the loss panel) keep at least half
#: of the window between its menu bar and status bar, and the loss panel stays readable.
#: Controls too wide for their share scroll sideways, and then take the smaller share
#: (scrolling, a few more pixels show little more)
CONTROLS_SHARE = 0.37
CONTROLS_SCROLL_SHARE = 0.33
PROJECTOR_LOSS_SHARE = 0.24
LOSS_SHARE = 0.26
#: ms between two preset files read ahead for the Lessons menu's titles (idle turns)
LESSON_TITLE_IDLE_MS = 40
#: modules a first lesson would import on its click, imported ahead on idle turns after
#: the titles, one per turn (numpy.random: ~13 ms of the first data lesson's load)
AHEAD_MODULES = ("numpy.random",)
#: the data panel's pages built ahead, after the modules, one per idle turn (the fit's
#: ~30 controls: ~25 ms of the first fit lesson's click)
AHEAD_PAGES = ("fit", "regression")
#: the loss dock's cap in the side column, under the controls (its default place)
SIDE_LOSS_SHARE = 0.45
#: the side column's split between the controls and the loss curves (see
#: ``MainWindow._side_loss_weights``)
SIDE_SURFACE_WEIGHTS = (62, 38)
SIDE_DATA_WEIGHTS = (75, 25)
SIDE_DATA_MAX_SCALE = 1.2
#: above that text size: the controls scroll anyway, the curves need the room for their
#: bigger ticks (L9's U was a 90 px strip at 200 %); the dock stays within SIDE_LOSS_SHARE
SIDE_BIG_TEXT_WEIGHTS = (50, 50)
#: ... and on a data problem whose loss curves are the lesson (a units model or a network,
#: not fitted by hand: L9's overfitting, L13's ‖w‖₂): at 62:38, L13's plot was 100 px
#: high under its three-row key, and the step's label lay on the curves
SIDE_CURVES_WEIGHTS = (50, 50)
#: a scene file bigger than this is read on a worker thread while the window goes on
#: (:meth:`MainWindow.open_scene`): the biggest, 100,000 points (4.7 MB), takes ~250 ms;
#: a saved L21 of 16 networks of 4 x 32 units (88 KB) took 22-60 ms (with the replay
#: thread running), and its apply 45-65 ms more in the same turn; the presets are < 4 KB
OPEN_ASIDE_BYTES = 32 * 1024
#: how often the window looks whether such a read is done
OPEN_POLL_MS = 15
#: seconds of a scene's lr finder work (its sweep, its tuning) done in its open; the rest
#: runs in the lr finder's panel, in chunks with progress (:meth:`MainWindow._scene_jobs_later`)
SCENE_JOBS_AT_ONCE_S = 0.01
#: "Opening NAME…" in the text's colour (the notice's other lines, errors, are red)
OPENING_SHEET = "font-weight: bold;"
#: the docks' layout in saved window states: a state saved with another layout (the loss
#: dock below the map, before version 2) is not restored, the window starts with today's
DOCK_LAYOUT_VERSION = 2
#: after a text-size change the window lays out once, this long after the last key press,
#: with repainting held meanwhile (each relayout repainted the antialiased contours)
SETTLE_MS = 40
#: layout passes a window-wide change gets before its one repaint (:meth:`MainWindow.one_paint`):
#: a lesson's caption, the map's splitter and the controls each settle one pass after the
#: size they depend on
LAYOUT_PASSES = 4
#: the modules whose widgets draw at the plots' scale (:func:`gdviz.ui.theme.pt`), which
#: projector mode changes without the app's font
PLOT_SCALE_MODULES = ("gdviz.ui.views.", "gdviz.ui.panels.data_panel")
#: projector mode's key: what slideshow programs (and a presenter's clicker) use to start
#: a presentation; F11 stays plain full screen
PROJECTOR_KEY = "F5"
MAX_FRAME_DT = 0.1  # after a stall, do not jump more than 0.1 s worth of steps
#: the engine's share of a frame (s): a frame runs the steps that fit in it, at the speed of
#: the last advance (see MainWindow._frame_dt)
FRAME_ENGINE_S = 0.03
#: a frame's whole turn (s): the engine's share shrinks, down to FRAME_ENGINE_MIN_S (and at
#: least one step), by what the views' refresh in the frames before took over the rest (on
#: L21 with 16 networks at 300 % text, full screen, the loss view's feed of 32 curves and
#: their sealed chunks took 26-77 ms a frame, on top of the engine's 30)
FRAME_TURN_S = 0.05
FRAME_ENGINE_MIN_S = 0.005
#: a scene that plays once opened shows its first picture, then moves: its first frame comes
#: this long after the opening, not in the opening's own turn of the event loop (the opening,
#: its layout and its first paint are already one block of the UI thread: a frame stepping
#: 40 runs made that block 30 ms longer)
FIRST_FRAME_MS = 100


def app_settings() -> QSettings:
    """The app's settings store (INI, user scope, organization and app "gdviz").

    Tests redirect it with ``QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, tmp)``.
    """
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORG, APP)


def ensure_base_font(app) -> None:
    """Give the app a projector-sized base font (theme.BASE_PT, 14 pt) before any scaling.

    ``theme.set_font_scale`` scales relative to the app's font at its first call, so
    this runs before it; it never shrinks a font that is already bigger.
    """
    f = app.font()
    if f.pointSizeF() < theme.BASE_PT:
        f.setPointSizeF(theme.BASE_PT)
        app.setFont(f)


_SETTLE_EVENT = QEvent.Type(QEvent.registerEventType())


class _Settler(QObject):
    """Receives the window's settle event (:meth:`MainWindow._post_settle`): a child of
    its own, so that the window's other events pass no Python handler."""

    def __init__(self, settle, parent):
        super().__init__(parent)
        self._settle = settle

    def event(self, ev) -> bool:  # noqa: D102 - Qt API
        if ev.type() == _SETTLE_EVENT:
            self._settle()
            return True
        return super().event(ev)


def painted_once(method):
    """A window-wide change, run inside :meth:`MainWindow.one_paint` (one layout, one paint)."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.one_paint():
            return method(self, *args, **kwargs)

    return wrapper


def _end_hold(flag: list, *_args, run: bool = False) -> None:
    """End a window's hold of the views' refreshes (``flag[0]``: it holds them), if any."""
    if flag[0]:
        from gdviz.ui.views import refresh

        flag[0] = False
        refresh.release(run=run)


class PanelDock(QDockWidget):
    """A dock that says when the user closes it (its ✕), so the model hears it, and whose
    title follows the text size."""

    closed = Signal()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().closeEvent(event)
        self.closed.emit()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        """The title in the dock's font of now. Qt's own paints it in the font the dock had
        when it was made (QDockWidgetPrivate keeps a copy), while the title bar's height
        follows the font of now: the docks made at 100 % kept small titles at 200 %, and
        the lr finder's, made at 200 %, drew its title twice too big, cut off, at 100 %.
        A floating dock (its title may be the window system's) is left to Qt."""
        if self.isFloating() or self.titleBarWidget() is not None:
            super().paintEvent(event)
            return
        p = QStylePainter(self)
        opt = QStyleOptionDockWidget()
        self.initStyleOption(opt)
        opt.fontMetrics = self.fontMetrics()
        p.setFont(self.font())
        p.drawControl(QStyle.ControlElement.CE_DockWidgetTitle, opt)


class MainWindow(QMainWindow):
    """The app's window around one :class:`~gdviz.core.session.Session`.

    ``settings``: a QSettings to restore from and save to (default :func:`app_settings`).
    ``warmup``: start compiling the numba kernels in a QThread once the window is up.
    """

    #: the width the controls' cap is a share of, inside :meth:`_caps_at_width` (else None)
    _cap_width: int | None = None
    #: the window's width before a text size settles (the controls' cap is its share)
    _text_width: int | None = None

    def __init__(self, session=None, *, settings: QSettings | None = None,
                 warmup: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        #: the plots a window-wide repaint left for later turns (:meth:`_repaint_once`)
        self.staggered = staggered.StaggeredPaints(self)
        from gdviz.ui.views import refresh

        refresh.when_spread(self._stagger_plots)
        self._in_one_paint = False  # inside one_paint (a window-wide change)
        #: one_paint leaves the layout and the views' refreshes to the settle event
        #: (:meth:`open_scene_asking`), and that event is posted (not yet received)
        self._settle_next = False
        self._settle_posted = False
        #: a text-size or projector press leaves its layout to the settle event
        #: (:meth:`_press_text`), and that layout waits; the settle event is posted, not
        #: yet received
        self._lay_out_next = False
        self._lay_out_posted = False
        self._resized_posted = False  # a resize's layout and plots' paint wait likewise
        self._settle_queued = False
        self._settler = _Settler(self._settle_open, self)
        self._settling = False  # inside _settled_later (a text size, projector mode)
        if session is None:
            from gdviz.core.session import Session

            session = Session()
        self.session = session
        self.settings = settings if settings is not None else app_settings()
        self.theme_name = DEFAULT_THEME
        self.font_scale = 1.0
        self.warmup = None
        from gdviz.core.i18n import detect_language

        self.language = detect_language()  # the OS locale until the user picks one
        self._scene = None  # the last scene opened (its meta/view survive a save)
        self._want_warmup = warmup
        self._last_frame = None
        self.frame_times: list[float] = []  # dt of recent frames, for the status and bench
        self.setObjectName("gdvizMainWindow")
        self.setWindowTitle(tr("window_title"))
        self.setDockNestingEnabled(True)

        self._build_central()
        self._projector_saved = None  # the window before projector mode (None: not in it)
        self._loss_saved = None  # where the loss dock was before projector mode
        self._build_docks()
        self._build_status()
        self._build_menus()
        self._build_shortcuts()
        self._build_lesson_follow()
        from gdviz.ui.panels.lrfind_panel import LrFindDock

        self.lrfind = LrFindDock(self)  # the lr finder's dock and Tools menu

        self._size_before = None  # the window's size before a text-size change settles
        self._hold_flag = [False]  # the views' refreshes wait for that settle
        # (a window deleted before its settle still ends the hold: the other windows, and
        # the tests' next ones, refresh)
        self.destroyed.connect(functools.partial(_end_hold, self._hold_flag))
        self._settle_timer = QTimer(self)
        self._settle_timer.setSingleShot(True)
        self._settle_timer.setInterval(SETTLE_MS)
        self._settle_timer.timeout.connect(self._settle_layout)

        self._open_job = None  # (path, future): a big scene file being read (open_scene)
        self._open_pool = None
        #: scene files being written on the worker (:meth:`save_scene_aside`), oldest first:
        #: (path, future, the demo as saved)
        self._save_jobs: list = []
        self._save_timer = QTimer(self)
        self._save_timer.setInterval(OPEN_POLL_MS)
        self._save_timer.timeout.connect(self._poll_saves)
        self._open_timer = QTimer(self)
        self._open_timer.setInterval(OPEN_POLL_MS)
        self._open_timer.timeout.connect(self._poll_open)

        self.frame_timer = QTimer(self)
        self.frame_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.frame_timer.setInterval(FRAME_MS)
        self.frame_timer.timeout.connect(self._on_frame)

        s = session
        s.background_replay = True  # this window drives long re-plays (see _on_frame)
        s.playing_changed.connect(self._on_playing_changed)
        s.stepped.connect(self._on_stepped)
        s.runs_changed.connect(self._on_stepped)
        s.problem_changed.connect(self._on_stepped)
        s.settings_changed.connect(self._on_stepped)
        s.selection_changed.connect(self._on_selection_changed)
        s.error.connect(self._on_error)
        s.events.heatmap.connect(self._on_heatmap_changed)
        s.events.theme.connect(self._on_theme_changed)
        s.events.panels.connect(self._on_panels_changed)
        s.problem_changed.connect(self._place_loss_dock)
        s.problem_changed.connect(self._on_race_rebuilt)
        s.runs_changed.connect(self._on_race_rebuilt)
        # a dock's ✕ writes the model too: the loss panel off, step-by-step off (no run selected)
        self.loss_dock.closed.connect(lambda: self.set_panel("loss", False))
        self.step_dock.closed.connect(lambda: self.session.select(-1))

        self.restore_settings()
        self._on_stepped()
        self._on_panels_changed()
        self._on_playing_changed(s.playing)
        self._build_autosave()

    # ------------------------------------------------------------------ layout
    def _build_central(self) -> None:
        # the app's one picture (an export draws another of the same class): the caption,
        # the map and, on data problems, the fit panel beside it
        self.picture = Picture(self.session, ("caption", "landscape", "fit", "hyper", "network"),
                               follow=True)
        self.caption = self.picture.caption
        self.notice = self.picture.notice
        self.landscape_view = self.picture.landscape_view
        self.fit_view = self.picture.fit_view
        self.splitter = self.picture.splitter
        self.setCentralWidget(self.picture)
        from gdviz import kernels

        if self._want_warmup and not kernels.is_ready():
            self.picture.set_kernels_due(True)  # (until _on_warmup_finished)

    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        d = PanelDock(title, self)
        d.setObjectName(name)
        d.setWidget(widget)
        d.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                      | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                      | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, d)
        return d

    def _build_docks(self) -> None:
        self.controls = c = ControlsPanel(self.session)
        # the panels' changes in two turns: a run added, copied, removed or edited; the
        # noise, batch, seed, schedule; the problem, its data and its network (a switch of
        # L21 with 15 networks to the regression took 137 ms in one turn)
        for panel in (c.runs, c.training, c.problem, c.data, c.classify):
            panel.two_turns = self.two_turns
        self.controls_dock = self._dock(tr("dock_controls"), "controlsDock", self.controls,
                                        Qt.DockWidgetArea.RightDockWidgetArea)
        self.loss_view = LossView(self.session)
        self.loss_view.turn.enabled = True  # (gdviz.ui.views.turns)
        self.loss_view.strokes.enabled = True  # (gdviz.ui.views.items.PlayingStrokes)
        self.loss_view.pace.enabled = True  # (gdviz.ui.views.items.BuildPace)
        # the loss curves' place follows the problem (see :meth:`_place_loss_dock`)
        self.loss_dock = self._dock(tr("dock_loss"), "lossDock", self.loss_view,
                                    Qt.DockWidgetArea.RightDockWidgetArea)
        self.splitDockWidget(self.controls_dock, self.loss_dock, Qt.Orientation.Vertical)
        #: where :meth:`_place_loss_dock` last put the loss dock (None: the user moved it)
        self._loss_area = Qt.DockWidgetArea.RightDockWidgetArea
        self._loss_weights: tuple[int, int] | None = None  # the side column's, as last set
        self.step_view = StepView(self.session)
        # in a scroll area: its table needs ~480 px at 200 % text, which with the loss
        # curves below it grew the window past a 720 px screen
        step_scroll = StepScroll(self.step_view, "stepScroll")
        self.step_dock = self._dock(tr("dock_step"), "stepDock", step_scroll,
                                    Qt.DockWidgetArea.RightDockWidgetArea)
        # step-by-step shares the controls' place as a tab: at 1280×720 there is no room
        # for both, and in step mode the teacher looks at the numbers
        self.tabifyDockWidget(self.controls_dock, self.step_dock)
        # moved below the map (projector mode, or by hand), the loss dock spans only the
        # map's width: the controls keep the full height
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks([self.controls_dock], [430], Qt.Orientation.Horizontal)
        self._place_loss_dock()

    def _wanted_loss_area(self) -> Qt.DockWidgetArea:
        """Where the loss curves go: under the controls, in the side column, so that the
        picture keeps the window's full height and at least half of its area (below the
        picture, at 1280×720, they left a data lesson's map and fit panel a third of the
        window, and at 200 % text a 3:1 strip). In projector mode (no side column) they are
        below the map."""
        if self.projector:
            return Qt.DockWidgetArea.BottomDockWidgetArea
        return Qt.DockWidgetArea.RightDockWidgetArea

    def _side_loss_weights(self) -> tuple[int, int]:
        """The controls' and the loss curves' shares of the side column. Where fitting by
        hand is the lesson the controls keep more (the sliders, L1 and L3, stay above their
        fold at 1280×720); elsewhere, or with big text (the sliders are below the fold anyway,
        and the curves need the room for their bigger ticks), the loss curves get more."""
        if self.font_scale > SIDE_DATA_MAX_SCALE:
            return SIDE_BIG_TEXT_WEIGHTS
        if self._hand_lesson():
            return SIDE_DATA_WEIGHTS
        if self.session.is_data:
            return SIDE_CURVES_WEIGHTS
        return SIDE_SURFACE_WEIGHTS

    def _hand_lesson(self) -> bool:
        """A data problem whose few parameters have fit-by-hand sliders at the top of the
        controls (L1, L2, L3, L6; see ``DataPanel._place_hand``): not units, a network or
        a classifier, whose loss curves (L9's U) are the lesson."""
        s = self.session
        if not s.is_data or s.kind == "classify":
            return False
        model = getattr(s.problem, "model", None)
        return getattr(model, "kind", None) not in ("units", "network")

    def _place_loss_dock(self, *_) -> None:
        """Put the loss dock where :meth:`_wanted_loss_area` says, with the side column's
        shares of :meth:`_side_loss_weights`, unless the user moved it (floated it, or
        docked it elsewhere): then it stays where they put it."""
        dock = self.loss_dock
        if self._loss_area is None or dock.isFloating() or self.dockWidgetArea(dock) != self._loss_area:
            self._loss_area = None
            return
        want = self._wanted_loss_area()
        right = Qt.DockWidgetArea.RightDockWidgetArea
        weights = self._side_loss_weights() if want == right else None
        if want == self._loss_area and weights == self._loss_weights:
            return
        if want == right:
            if self._loss_area != right:
                # below the controls' tab group (splitDockWidget would add it to the group
                # as a tab, because the controls share their place with step-by-step)
                self.addDockWidget(want, dock, Qt.Orientation.Vertical)
            self.resizeDocks([self.controls_dock, dock], list(weights), Qt.Orientation.Vertical)
        else:
            self.addDockWidget(want, dock)
            self.resizeDocks([dock], [190], Qt.Orientation.Vertical)
        self._loss_area, self._loss_weights = want, weights
        self._fit_docks()

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.counters = SteadyLabel()
        self.counters.setObjectName("counters")
        self.diverged_label = QLabel()
        self.diverged_label.setObjectName("divergedStatus")
        self.diverged_label.setStyleSheet("color: #e0523f; font-weight: bold;")
        self.kernel_status = QLabel()
        self.kernel_status.setObjectName("kernelStatus")
        self.message = QLabel()  # short-lived notes; showMessage would hide the counters
        self.message.setObjectName("statusMessage")
        # room between a note and the kernels' state beside it (they ran together: "…the
        # normal window kernels: numba ✓")
        self.message.setContentsMargins(0, 0, 16, 0)
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(self._clear_message)
        sb.addWidget(self.counters)
        sb.addWidget(self.diverged_label, 1)
        sb.addPermanentWidget(self.message)
        sb.addPermanentWidget(self.kernel_status)
        from gdviz import kernels

        self._set_kernel_status("kernels_numba" if kernels.is_ready() else "kernels_later")

    def _action(self, menu, text: str, slot, shortcut=None, checkable=False) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                act.setShortcuts([QKeySequence(k) for k in shortcut])
            else:
                act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.setCheckable(checkable)
        if checkable:
            act.toggled.connect(slot)
        else:
            act.triggered.connect(lambda _=False: slot())
        menu.addAction(act)
        self.addAction(act)  # shortcuts keep working in full screen, where the menu bar hides
        return act

    def _build_menus(self) -> None:
        mb = self.menuBar()
        self.file_menu = f = mb.addMenu(tr("file"))
        self.open_action = self._action(f, tr("open"), self._on_open, QKeySequence.StandardKey.Open)
        self.save_action = self._action(f, tr("save_as"), lambda: self._on_save(aside=True),
                                        QKeySequence.StandardKey.Save)
        f.addSeparator()
        self.export_action = self._action(f, tr("export"), self.export_animation, "Ctrl+E")
        f.addSeparator()
        self.quit_action = self._action(f, tr("quit"), self.request_quit,
                                        QKeySequence.StandardKey.Quit)

        self.view_menu = v = mb.addMenu(tr("view"))
        group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for name in THEMES:
            act = QAction(tr(f"theme_{name}"), self, checkable=True)
            act.setData(name)
            act.triggered.connect(lambda _=False, n=name: self.set_theme(n))
            group.addAction(act)
            v.addAction(act)
            self.theme_actions[name] = act
        v.addSeparator()
        self.zoom_in_action = self._action(v, tr("zoom_in"), self.zoom_in,
                                           ["Ctrl+=", "Ctrl++"])
        self.zoom_out_action = self._action(v, tr("zoom_out"), self.zoom_out,
                                            ["Ctrl+-"])
        self.zoom_reset_action = self._action(v, tr("zoom_reset"), lambda: self.set_font_scale(1.0),
                                              "Ctrl+0")
        v.addSeparator()
        self.fullscreen_action = self._action(v, tr("full_screen"), self.toggle_full_screen, "F11")
        self.projector_action = self._action(v, tr("projector_mode"), self._press_projector,
                                             PROJECTOR_KEY, checkable=True)
        self.heatmap_action = self._action(v, tr("heatmap"), self.set_heatmap, "H", checkable=True)
        self.heatmap_action.setChecked(self.session.heatmap)
        self._heatmap_pref = True  # the user's own choice (QSettings); a scene's is not saved
        self._opening = False
        from gdviz.ui.map3d_menu import MapMenu  # View ▸ Map: 2-D / 3-D / both

        self.map_menu = MapMenu(self.session, self)
        v.addMenu(self.map_menu)
        v.addSeparator()
        self.language_menu = v.addMenu(tr("language"))
        lang_group = QActionGroup(self)
        self.language_actions: dict[str, QAction] = {}
        from gdviz.core.i18n import LANGUAGE_NAMES, LANGUAGES

        for lang in LANGUAGES:
            act = QAction(LANGUAGE_NAMES[lang], self, checkable=True)
            act.triggered.connect(lambda _=False, code=lang: self._press_language(code))
            lang_group.addAction(act)
            self.language_menu.addAction(act)
            self.language_actions[lang] = act
        v.addSeparator()
        v.addAction(self.controls_dock.toggleViewAction())
        # the picture's panels are model state (session.panels): the menu writes it, and the
        # window (and an export's defaults) follow it
        self.panels_menu = v.addMenu(tr("export_panels"))
        self.panel_actions: dict[str, QAction] = {}
        for name in PANELS:
            if name == "surface3d":  # shown by View ▸ Map (session.map_mode)
                continue
            act = QAction(name, self, checkable=True)
            act.setChecked(name in self.session.panels)
            act.toggled.connect(lambda on, n=name: self.set_panel(n, on))
            self.panels_menu.addAction(act)
            self.panel_actions[name] = act

        self.lessons_menu = mb.addMenu(tr("lessons"))
        self.lessons_menu.setObjectName("lessonsMenu")
        self._no_lessons = QAction(tr("no_lessons"), self)
        self._no_lessons.setEnabled(False)
        self._populate_lessons()

    def _retranslate(self) -> None:
        """Menu titles and actions in the UI language (the lessons' vocabulary is in i18n)."""
        from gdviz.core.i18n import tr

        lang = self.language
        self.setWindowTitle(tr("window_title", lang))
        if self.opening is not None:  # "Opening NAME…" in the new language
            self.notice.setText(tr("opening_scene", lang, name=Path(self.opening).name))
        self.file_menu.setTitle(tr("file", lang))
        self.open_action.setText(tr("open", lang))
        self.save_action.setText(tr("save_as", lang))
        self.export_action.setText(tr("export", lang))
        self.quit_action.setText(tr("quit", lang))
        self.view_menu.setTitle(tr("view", lang))
        for name, act in self.theme_actions.items():
            act.setText(tr(f"theme_{name}", lang))
        self.zoom_in_action.setText(tr("zoom_in", lang))
        self.zoom_out_action.setText(tr("zoom_out", lang))
        self.fullscreen_action.setText(tr("full_screen", lang))
        self.projector_action.setText(tr("projector_mode", lang))
        self.heatmap_action.setText(tr("heatmap", lang))
        self.map_menu.retranslate(lang)
        self.language_menu.setTitle(tr("language", lang))
        self.lessons_menu.setTitle(tr("lessons", lang))
        self.zoom_reset_action.setText(tr("zoom_reset", lang))
        self.panels_menu.setTitle(tr("export_panels", lang))
        for name, act in self.panel_actions.items():
            act.setText(tr(f"panel_{name}", lang))
        for dock, key in ((self.controls_dock, "dock_controls"), (self.loss_dock, "dock_loss"),
                          (self.step_dock, "dock_step")):
            dock.setWindowTitle(tr(key, lang))
        self._no_lessons.setText(tr("no_lessons", lang))
        key, fmt = self._kernel_text
        self._set_kernel_status(key, **fmt)
        if getattr(self, "recovery_bar", None) is not None:
            self.recovery_bar.retranslate(lang)
        self._retranslate_keys(lang)

    def _lesson_title(self, path: Path) -> str:
        """A preset's title in the UI language (its file name if it cannot be read).

        Each file is read once per window (its titles in every language are kept): the
        Lessons menu opening again, or in another language, reads nothing."""
        if path not in self._lesson_titles:
            try:
                from gdviz.core.scene import load_scene

                self._lesson_titles[path] = load_scene(path).title
            except (ValueError, OSError):
                self._lesson_titles[path] = None
        text = self._lesson_titles[path]
        title = text.get(self.language) if text is not None else ""
        return title or path.stem.replace("_", " ")

    def _populate_lessons(self) -> None:
        """One entry per shipped preset (resources/scenes/*.toml), titled in the UI language.

        The titles are read when the menu first opens, not at startup."""
        try:
            from gdviz.core.scene import preset_paths

            paths = preset_paths()
        except (ImportError, OSError):
            paths = []
        self._lesson_paths = paths
        self._lesson_titles: dict[Path, object] = {}
        self._lessons_titled = None
        self.set_lessons([(p.stem.replace("_", " "), lambda p=p: self.open_scene_asking(p))
                          for p in paths])
        self._lesson_actions = self.lessons_menu.actions()
        self.lessons_menu.aboutToShow.connect(self._title_lessons)
        # work a first click would do, done ahead once the window is up, a piece per tick
        # (:meth:`_one_ahead`): the titles (all 22 at the menu's first opening took ~35 ms
        # of the first lesson's click), a module, the data panel's pages
        self._idle_ahead = QTimer(self)
        self._idle_ahead.setInterval(LESSON_TITLE_IDLE_MS)
        self._idle_ahead.timeout.connect(self._one_ahead)
        self._idle_ahead.start()

    def _one_ahead(self) -> None:
        """Read the next unread preset's titles (one per turn), then import the next of
        :data:`AHEAD_MODULES` not yet imported, then build the data panel's next page of
        :data:`AHEAD_PAGES` (one per turn), then projector mode's side views
        (:meth:`Picture.build_ahead`, one per turn); stop when all are done. Not while a demo
        plays: its frames come first (a page built between two frames of L21 laid the
        controls out, up to the window, in a frame's turn)."""
        if self.session.playing:
            # (frames first; but projector mode's side views, made hidden and parentless,
            # lay nothing out: a demo playing from its open is when a teacher presses F5)
            self.picture.build_ahead()
            return
        for p in self._lesson_paths:
            if p not in self._lesson_titles:
                self._lesson_title(p)
                return
        for name in AHEAD_MODULES:
            if name not in sys.modules:
                importlib.import_module(name)
                return
        for kind in AHEAD_PAGES:
            if self.controls.data.build_ahead(kind):
                return
        if self.picture.build_ahead():  # (projector mode's schedule plot, step table)
            return
        self._idle_ahead.stop()

    def _title_lessons(self) -> None:
        """The menu's entries titled in the UI language (their texts only: the entries,
        and what they open, stay)."""
        if self._lessons_titled == self.language or not self._lesson_paths:
            return
        self._lessons_titled = self.language
        titles = [self._lesson_title(p) for p in self._lesson_paths]
        if self.lessons_menu.actions() != self._lesson_actions:  # refilled by set_lessons
            self.set_lessons([(t, lambda p=p: self.open_scene_asking(p))
                              for t, p in zip(titles, self._lesson_paths)])
            self._lesson_actions = self.lessons_menu.actions()
            return
        for act, title in zip(self._lesson_actions, titles):
            act.setText(title)

    def _build_shortcuts(self) -> None:
        """Space, →, ←, R, and the shortcut sheet (F1, ?) in a Help menu.

        The playback keys are window actions (so the sheet lists them); the application
        event filter :class:`~gdviz.ui.keyboard.WindowKeys` makes them answer whatever has
        the focus, except while a box is being typed in (see :mod:`gdviz.ui.keyboard`).
        """
        from gdviz.ui.keyboard import WindowKeys

        s = self.session
        self.shortcuts = {}
        for key, slot in (("Space", self.toggle_play), ("Right", lambda: s.step()),
                          ("Left", s.step_back), ("R", s.reset)):
            act = QAction(self)
            act.setShortcut(QKeySequence(key))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(lambda _=False, f=slot: f())
            self.addAction(act)
            self.shortcuts[key] = act
        from gdviz.core.i18n import tr

        if self.quit_action.shortcut().isEmpty():  # StandardKey.Quit is empty off KDE/GNOME
            self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.help_menu = self.menuBar().addMenu(tr("help", "en"))
        self.shortcut_sheet_action = self._action(self.help_menu, tr("key_sheet", "en"),
                                                  self.show_shortcut_sheet, ["F1", "?"])
        # a click on the caption or the map leaves a box: the picture takes the focus
        self.picture.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.keys = WindowKeys(self, home=lambda: self.picture.setFocus(
            Qt.FocusReason.OtherFocusReason))
        # (it filters the focus widget, whichever it is; a child: it dies with us)

    def _retranslate_keys(self, lang: str) -> None:
        from gdviz.core.i18n import tr

        for key, name in (("Space", "key_play_pause"), ("Right", "step"),
                          ("Left", "step_back"), ("R", "reset")):
            self.shortcuts[key].setText(tr(name, lang))
        self.help_menu.setTitle(tr("help", lang))
        self.shortcut_sheet_action.setText(tr("key_sheet", lang))

    def _fresh_scene(self) -> None:
        """A scene just opened: no old error stays up (status bar, panels), no box keeps
        or gets the focus (the picture takes it), so Space plays at once, and the controls
        show their top (L1's sliders), wherever the last lesson left them scrolled."""
        from gdviz.ui.keyboard import leave_boxes

        self.controls.verticalScrollBar().setValue(0)
        self._message_timer.stop()
        self._clear_message()
        self.controls.problem.show_error("")
        self.controls.data.show_error("")
        leave_boxes(self.keys)

    def show_shortcut_sheet(self):
        """Help ▸ Keyboard shortcuts (F1, ?): every key of the window, read from its
        live actions, in a sheet that closes on Esc or the same key."""
        from gdviz.ui.shortcut_sheet import ShortcutSheet

        sheet = getattr(self, "shortcut_sheet", None)
        if sheet is not None and sheet.isVisible():
            sheet.close()
            return sheet
        self.shortcut_sheet = sheet = ShortcutSheet(self, self.language)
        sheet.open()
        sheet.activateWindow()  # its own keys (Esc, F1, ?) reach it at once
        return sheet

    def toggle_play(self) -> None:
        """Space: play/pause; at the end it says why nothing moves instead of doing nothing."""
        s = self.session
        was = s.playing
        s.toggle_play()
        if not was and not s.playing:
            from gdviz.core.i18n import tr

            why = (tr("flash_max_steps", self.language, n=s.max_steps)
                   if s.t >= s.max_steps else tr("flash_all_diverged", self.language))
            self.flash(why, 6000)

    def flash(self, msg: str, ms: int = 5000) -> None:
        """A short note in the status bar that clears itself after ``ms`` (the kernels'
        state steps aside while a note needs its room: a refusal at 200 % text was cut
        mid-word beside it)."""
        self.message.setText(str(msg))
        self._message_timer.start(ms)
        self._fit_status()

    def _clear_message(self) -> None:
        self.message.clear()
        self._fit_status()

    # ------------------------------------------------------------------ hooks
    def set_caption(self, title: str = "", text: str = "") -> None:
        """Show a lesson's title and paragraph above the map (both empty: hide the strip);
        the paragraph is folded to a few lines so that the map keeps its room."""
        self.picture.set_caption(title, text)

    def _show_scene_caption(self) -> None:
        scene = self._scene
        if scene is None:
            self.set_caption()
        elif self._lesson_left:
            from gdviz.core.i18n import tr

            self.set_caption(tr("caption_lesson_left", self.language,
                                title=scene.title.get(self.language)), "")
        else:
            self.set_caption(scene.title.get(self.language), scene.caption.get(self.language))

    def _build_lesson_follow(self) -> None:
        """The caption follows the problem: once the user's own function (or surface,
        target, data file) replaces the lesson's, the lesson's paragraph, whose claims are
        about the lesson's problem, goes; its title stays, marked as left, so the teacher
        sees where the class came from. Going back to the lesson's problem brings it back."""
        self._lesson_key = None
        self._lesson_left = False
        s = self.session
        s.problem_changed.connect(self._on_lesson_problem)
        s.settings_changed.connect(self._on_lesson_problem)

    def _problem_key(self) -> tuple:
        """What makes the problem the lesson's: its kind, function, target and data source
        (not K, noise, the lr or the view, which a lesson invites the class to change)."""
        s = self.session
        if s.kind in ("surface", "expr"):
            return (s.kind, s.landscape.name, s.landscape.label)
        data = s.data
        if s.kind == "classify":  # its data set (the network is the lesson's to change)
            return (s.kind, data.dataset, data.points_data is not None and data.source)
        loaded = getattr(data, "points_data" if s.kind == "fit" else "points", None)
        return (s.kind, getattr(data, "target", ""), getattr(data, "target_expr", "").strip(),
                loaded is not None and getattr(data, "source", ""))

    def _on_lesson_problem(self, *_) -> None:
        if self._opening or self._scene is None or self._lesson_key is None:
            return
        left = self._problem_key() != self._lesson_key
        if left != self._lesson_left:
            self._lesson_left = left
            self._show_scene_caption()

    def set_language(self, lang: str) -> None:
        """The UI language (en, zh-Hant, zh-Hans): menus, lesson titles and the caption."""
        from gdviz.core import i18n
        from gdviz.core.i18n import LANGUAGES

        code = lang
        if code not in LANGUAGES:
            raise ValueError(f"unknown language '{lang}' (choose from {', '.join(LANGUAGES)})")
        changed = i18n.current_language() != code or i18n._current["lang"] is None
        # a new language re-labels every widget and every plot: laid out now, refreshed and
        # repainted once, whole, a turn later
        with self._settled_later() if changed else self.one_paint():
            self.language = code
            i18n.set_language(code)
            if changed:
                # every widget hears it (Qt passes LanguageChange on to the children) and
                # re-labels itself with i18n.tr: this window and, through it, everything it owns (its docks, dialogs and
                # sheets are all its children). Not QApplication.topLevelWidgets(): wrapping
                # every top-level widget for Python segfaulted in the tests when one was
                # being torn down
                QApplication.sendEvent(self, QEvent(QEvent.Type.LanguageChange))
            for name, act in self.language_actions.items():
                with QSignalBlocker(act):
                    act.setChecked(name == code)
            self._retranslate()
            self._show_scene_caption()
            self._on_stepped()

    def show_notice(self, msg: str) -> None:
        """One inline line above the map (empty hides it); also echoed in the status bar."""
        if self.notice.styleSheet() == OPENING_SHEET:
            self._style_caption()  # (red again after an "Opening…")
        self.notice.setText(msg)
        self.notice.setVisible(bool(msg))
        if msg:
            self.flash(msg, 8000)

    def open_scene(self, path, *, aside: bool | None = None) -> bool:
        """Load a scene file (pure, validated) and push it into the session.

        A bad file leaves the session as it was and shows one line above the map. A file
        over OPEN_ASIDE_BYTES (``aside`` None), or any (``aside`` True), is read on a worker
        thread: "Opening NAME…" shows above the map, the window goes on, and the scene
        is applied once read (True is returned at once; :attr:`opening` is the path until
        then). A newer open, or closing the window, drops a read under way.
        """
        from gdviz.core.scene import load_scene

        self._finish_saves()  # (a file being saved is read as saved)
        self._drop_open()
        if aside is None:
            try:
                aside = Path(path).stat().st_size > OPEN_ASIDE_BYTES
            except OSError:
                aside = False  # load_scene says why
        if aside:
            self._open_job = (path, self._open_worker().submit(load_scene, path))
            # inline only (show_notice also flashes it in the status bar for 8 s), and in
            # the text's colour: red is for what went wrong
            self.notice.setText(tr("opening_scene", self.language, name=Path(path).name))
            self._style_caption()
            self.notice.setVisible(True)
            self._open_timer.start()
            return True
        try:
            scene = load_scene(path)
        except (ValueError, OSError) as exc:
            return self._apply_opened(path, None, exc)
        return self._apply_opened(path, scene)

    def _open_worker(self):
        """The thread that reads big scene files and writes saved ones, in order (made
        when first needed)."""
        if self._open_pool is None:
            import concurrent.futures

            self._open_pool = concurrent.futures.ThreadPoolExecutor(1, "gdviz-files")
        return self._open_pool

    @property
    def opening(self):
        """The path of a scene file being read on the worker thread, or None."""
        return None if self._open_job is None else self._open_job[0]

    def _drop_open(self) -> None:
        """Forget a scene file being read (its read ends on the worker, unused)."""
        if self._open_job is not None:
            self._open_job[1].cancel()
            self._open_job = None
            self._open_timer.stop()
            self.show_notice("")

    def _poll_open(self) -> None:
        job = self._open_job
        if job is None:
            self._open_timer.stop()
            return
        path, future = job
        if not future.done():
            return
        self._open_job = None
        self._open_timer.stop()
        try:
            scene = future.result()
        except (ValueError, OSError, MemoryError, RecursionError) as exc:
            self._apply_opened(path, None, exc)
            return
        # in two turns, as an open read at once (:meth:`open_scene_asking`): in one, a
        # saved L21 of 16 networks of 4 x 32 units took 69-119 ms here
        with self.two_turns():
            self._apply_opened(path, scene)

    @painted_once
    def _apply_opened(self, path, scene, error: BaseException | None = None) -> bool:
        """A scene read from ``path`` into the session (or ``error``, why it could not be
        read, shown above the map)."""
        from gdviz.core.scene import apply_scene

        name = Path(path).name
        try:
            if error is not None:
                raise error
            # the scene's view state (heatmap, levels, scale) wins, but is not the user's
            # preference: that one stays as it was for the next launch
            self._opening = True
            try:
                with self.session._changes():  # (the lr finder's results in the same change)
                    jobs = self._scene_jobs_at_once(apply_scene(scene, self.session,
                                                                defer_lrfind=True))
            finally:
                self._opening = False
        except (ValueError, OSError, MemoryError, RecursionError) as exc:
            self.show_notice(tr("cannot_open", self.language, name=name,
                                error=(str(exc).splitlines() or [type(exc).__name__])[0]))
            return False
        self._scene = scene
        self.fit_view.clear_ghost()  # a ghost compares settings within one lesson
        self._mark_saved(path)
        if jobs is not None:
            self._scene_jobs_later(jobs)
        self._lesson_key, self._lesson_left = self._problem_key(), False
        self._show_scene_caption()
        self.show_notice("")
        self._fresh_scene()
        if scene.playback.autoplay:
            self.session.play()
            if self.frame_timer.isActive():
                self.frame_timer.start(FIRST_FRAME_MS)  # see FIRST_FRAME_MS
        return True

    def _scene_jobs_at_once(self, jobs):
        """A scene's lr finder work (:class:`gdviz.core.lrfind.SceneJobs`: the sweep, the
        tuning) done in the open while it takes under :data:`SCENE_JOBS_AT_ONCE_S` (L18's
        100-step sweep with the kernels compiled: ~3 ms); returns what is left (None: the
        results are in the session)."""
        if jobs is None:
            return None
        from gdviz.ui.views import refresh

        if not jobs.run_for(SCENE_JOBS_AT_ONCE_S, refresh.now):
            return jobs
        jobs.finish()
        return None

    def _scene_jobs_later(self, jobs) -> None:
        """The rest of a scene's lr finder work in the lr finder's panel, in chunks with its
        progress (a saved scene's tuning of 10⁶ steps: seconds, in one turn before). The
        results go into the model as the open would have put them: the demo still counts
        as the scene opened."""
        scene = self._scene

        def finish() -> None:
            clean = self._scene is scene and not self.has_unsaved_changes()
            jobs.finish()
            if clean:
                self._saved, self._edited = self._comparable(), False

        self.lrfind.run_scene_jobs(jobs, finish)

    def save_scene(self, path) -> bool:
        """Write the session's current state to a scene file (keeps the open scene's meta),
        now: True once written. (File ▸ Save writes on the worker: :meth:`save_scene_aside`.)"""
        if not self.save_scene_aside(path):
            return False
        return self._finish_saves()

    def save_scene_aside(self, path) -> bool:
        """File ▸ Save scene…: the demo made into a scene now (what is saved is the demo
        as it is at the press), written on the worker thread, after any earlier save: the
        status bar says "Saving NAME…", then "Saved PATH"; a failure shows above the map.
        (Written on the UI thread, a save's fsync waited 1.3 s for a busy disk in a fuzz
        run; a USB stick or a network folder can take longer.) True if the write started."""
        from gdviz.core.scene import save_scene, scene_from_session

        try:
            scene = scene_from_session(self.session, base=self._scene)
        except (ValueError, OSError) as exc:
            self._save_failed(path, exc)
            return False
        job = self._open_worker().submit(save_scene, scene, path)
        self._save_jobs.append((path, job, self._comparable_of(scene)))
        self.flash(tr("saving_scene", self.language, name=Path(path).name), 60000)
        self._save_timer.start()
        return True

    @property
    def saving(self) -> bool:
        """A scene file is being written (:meth:`save_scene_aside`)."""
        return bool(self._save_jobs)

    def _poll_saves(self) -> None:
        self._take_saves(wait=False)

    def _finish_saves(self) -> bool:
        """Wait for the saves under way (before a scene is opened, or the window closes):
        True if the last of them wrote its file (also when there were none)."""
        return self._take_saves(wait=True)

    def _take_saves(self, *, wait: bool) -> bool:
        ok = True
        while self._save_jobs and (wait or self._save_jobs[0][1].done()):
            path, job, saved = self._save_jobs.pop(0)
            try:
                job.result()
            except (ValueError, OSError) as exc:
                self._save_failed(path, exc)
                ok = False
                continue
            ok = True
            self._mark_saved(path, saved)
            self.flash(tr("scene_saved", self.language, path=path), 5000)
        if not self._save_jobs:
            self._save_timer.stop()
        return ok

    def _save_failed(self, path, exc: BaseException) -> None:
        self.show_notice(tr("cannot_save", self.language, name=Path(path).name,
                            error=(str(exc).splitlines() or [type(exc).__name__])[0]))

    def export_animation(self):
        """File ▸ Export animation…: the dialog (GIF, MP4, PNG, CSV) exports a copy of this
        demo as the window draws it, a frame per turn of the event loop, with progress and
        Cancel; the window keeps running."""
        from gdviz.ui.export_dialog import ExportDialog

        dlg = getattr(self, "export_dialog", None)
        if dlg is not None and dlg.running():
            dlg.raise_()
            return dlg
        if dlg is not None:
            # the last one, closed: the window's child until the window goes (each export
            # of a lesson kept its dialog, and every theme or text size restyled them all)
            dlg.close()
            dlg.deleteLater()
            self.export_dialog = None
        scene = self._scene
        caption = ((scene.title.get(self.language), scene.caption.get(self.language))
                   if scene is not None else ("", ""))
        dlg = ExportDialog(self.session, scene=scene, caption=caption, parent=self,
                           ghost=self.fit_view.ghost,
                           kernels_due=lambda: getattr(self.picture, "kernels_due", False))
        self.export_dialog = dlg
        dlg.show()
        return dlg

    def _on_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("open_scene_title", self.language), "",
                                              tr("scene_filter", self.language))
        if path:
            self.open_scene_asking(path)

    def _on_save(self, *, aside: bool = False) -> bool:
        """File ▸ Save scene…: True once the demo is saved (False: cancelled or failed);
        ``aside``: once its write has started (:meth:`save_scene_aside`)."""
        start = str(self._scene_path) if self._scene_path is not None else "scene.toml"
        path, _ = QFileDialog.getSaveFileName(self, tr("save_scene_title", self.language), start,
                                              tr("scene_filter", self.language))
        if not path:
            return False
        return self.save_scene_aside(path) if aside else self.save_scene(path)

    def set_lessons(self, items) -> None:
        """Fill the Lessons menu with ``(title, callback)`` pairs (the scenes issue)."""
        self.lessons_menu.clear()
        for title, cb in items:
            act = self.lessons_menu.addAction(title)
            act.triggered.connect(lambda _=False, c=cb: c())
        if not items:
            self.lessons_menu.addAction(self._no_lessons)

    # ------------------------------------------------------------------ view
    def set_theme(self, name: str) -> None:
        """The theme: into the model (``session.theme``), which the window follows."""
        if name not in THEMES:
            raise ValueError(f"unknown theme '{name}' (choose from {', '.join(THEMES)})")
        # a new theme re-colours the whole window: one paint of all of it
        with self.one_paint(whole=name != getattr(self, "theme_name", None)):
            if self.session.theme != name:
                self.session.set_view_options(theme=name)  # the event applies it
            else:
                self._on_theme_changed(name)

    def _on_theme_changed(self, name: str) -> None:
        self.theme_name = name
        app = QApplication.instance()
        if app is not None:
            theme.apply(app, name)
            # the widgets hear of the new palette from posted events: delivered now, inside
            # the change (one_paint), the views restyle before their one refresh; left to
            # the event loop, each view restyled and refreshed a second time after it
            # (the fit panel rebuilt its legend twice per theme change)
            for t in (QEvent.Type.ApplicationPaletteChange, QEvent.Type.PaletteChange):
                QApplication.sendPostedEvents(None, t)
        for n, act in self.theme_actions.items():
            with QSignalBlocker(act):
                act.setChecked(n == name)
        self._style_caption()

    def _style_caption(self) -> None:
        red = theme.palette(self.theme_name)["diverged"]
        self.caption.restyle()  # the strip styles itself (the export's too)
        sheet = f"color: {red}; font-weight: bold;"
        for lab in (self.notice, self.diverged_label, self.controls.problem.error):
            own = OPENING_SHEET if lab is self.notice and self.opening else sheet
            if lab.styleSheet() != own:  # (a sheet set again re-polishes the label)
                lab.setStyleSheet(own)

    def _scale_caption_font(self) -> None:
        self.caption.restyle()

    def set_font_scale(self, factor: float, announce: bool = True) -> None:
        """Scale the whole UI's text (app font + pyqtgraph axes) by ``factor`` (0.6…3).

        The window lays out in the press, and its views refresh and it repaints once,
        after the last of a burst of presses (:meth:`_settled_later`)."""
        lo, hi = FONT_SCALE_RANGE
        self.font_scale = min(max(float(factor), lo), hi)
        app = QApplication.instance()
        # the views restyle for the new text, the window lays out at it, and then each
        # view refreshes once, at its final size (refreshed on the font's event, then on
        # each resize of the layout and of the docks' new shares, the fit panel drew its
        # curves and legend three or four times per press)
        if self._text_width is None and self.isVisible():
            self._text_width = self.width()  # (until the settle: see _fit_controls)
        with self._settled_later():
            if app is not None:
                ensure_base_font(app)
                theme.set_font_scale(app, self.font_scale)
                # the status line follows the text up to the plots' cap: at 200 % on 720p
                # the counters alone were wider than the window
                # (so does the step counter in the controls' playback header, the same
                # number: at 200 % it alone was wider than the controls' column)
                sb = QFont(app.font())
                sb.setPointSizeF(theme.BASE_PT * min(self.font_scale, theme.PLOT_SCALE_CAP))
                self.statusBar().setFont(sb)
                self.controls.playback.counter.setFont(sb)
                self._tell_fonts()
            self._scale_caption_font()
        if announce:
            self.flash(tr("flash_text_size", self.language, pct=round(self.font_scale * 100)),
                       2000)

    def _tell_fonts(self) -> None:
        # Qt passes an app font change on to the widgets only once exec() runs; say it
        # ourselves so that a change before the loop (or in tests) reaches them too
        QApplication.sendEvent(self, QEvent(QEvent.Type.ApplicationFontChange))

    def _tell_plot_scale(self) -> None:
        """The plots' scale changed and the app's font did not (projector mode): the views
        that draw at that scale (:func:`gdviz.ui.theme.pt`) restyle, on a ``FontChange``.
        (An ``ApplicationFontChange`` only makes a widget resolve its font again, and one
        that stays the same reaches no ``changeEvent``: in projector mode the map, the fit
        panel and the loss curves kept their small text.)"""
        ev = QEvent.Type.FontChange
        for w in self.findChildren(QWidget):
            if type(w).__module__.startswith(PLOT_SCALE_MODULES):
                QApplication.sendEvent(w, QEvent(ev))

    # ------------------------------------------------------------------ room for the map
    @contextmanager
    def _settled_later(self):
        """Around a change of the whole window's text or room (a text size, projector mode,
        the language): the widgets restyle and the window lays out (:meth:`_lay_out_text`)
        when the block ends; the views refresh once, at their final size, and the window
        repaints once, whole, a turn of the event loop later (:meth:`_settle_layout`, after
        the last of a burst of presses). Split so, no turn does it all: done in one, a press
        on a fit lesson at 200 % blocked the window for up to 200 ms."""
        from gdviz.ui.views import refresh

        self._hold_repaint()
        outer = not self._settling
        with refresh.held():
            self._settling = True
            try:
                yield
            finally:
                if outer:
                    self._settling = False
            if self.isVisible() and outer and self._lay_out_next:
                # a press of Ctrl+=, Ctrl+- or F5: the window lays out in the next event,
                # ahead of any input, timer or paint (:meth:`_settle_open`). (In the press,
                # at 261 -> 300 % on 800x600 with 8 runs: 55-103 ms, ~45 of it the layout)
                self._post_settle(lay_out=True)
            elif self.isVisible():
                # laid out now, in order (left to the event loop, the controls' rows were
                # laid out at the new text side by side, then reflowed: every run card
                # five times a press)
                self._lay_out_text()

    def _hold_repaint(self) -> None:
        """No repaint until the layout settles: a text-size change resizes the docks and
        the plots several times over, and each repaint of the map strokes every contour."""
        if self.isVisible() and self.updatesEnabled():
            self.setUpdatesEnabled(False)
        if self._size_before is None and self.isVisible():
            # (a window not shown yet has no size to keep: it is laid out when shown, and
            # a size recorded now shrank a window resized before the settle)
            self._size_before = self.size()
        if self.isVisible() and not self._hold_flag[0]:
            # the views refresh once, at the settle, at their final size (a press restyles
            # them; its layout passes and the refreshes wait for a later turn: laid out and
            # refreshed in the press, one at 200 % on a fit lesson blocked the window for
            # up to 200 ms)
            from gdviz.ui.views import refresh

            refresh.hold()
            self._hold_flag[0] = True
        self._settle_timer.start()

    def _settle_layout(self) -> None:
        """Once the text has its new size: docks within their shares, the window within
        the screen, every pending layout done, the views refreshed once, then one repaint
        (as :meth:`one_paint` ends, a turn of the event loop after the change)."""
        try:
            with self._refreshed_once(self._lay_out_text):
                self._release_refresh()  # (they run at the block's end)
            if self._size_before is not None and self.width() > self._size_before.width():
                # the plots at the new text ask for less than in the press (L9 at 261 %: a
                # picture of 868 px, 838 once its axes and keys are made): the window goes
                # back to its size now that it can
                self._fit_screen()
        finally:
            self._size_before = None  # (the change has settled: see _fit_screen)
            self._text_width = None
            self._repaint_once()

    @contextmanager
    def _refreshed_once(self, lay_out):
        """The views' refreshes held through the block, then: the layout's refreshes
        (which views show), ``lay_out()``, the views' refreshes, once each, at their final
        size, and a layout of what those changed (a status's lines)."""
        from gdviz.ui.views import refresh

        # the app's window: the views' refreshes within the change's budget, counted from
        # its start, the rest in the turns after (gdviz.ui.views.refresh.set_budget; a
        # problem switched on L21 with 16 networks at 261 % text: 105-150 ms in one turn
        # on a quiet machine, ~45 of it the layout, ~30 the views)
        budget = refresh.budget_of(self.session)
        began = refresh.now()
        with refresh.held(run=budget is None):
            try:
                yield
            finally:
                # which views show first (a lesson's fit panel, the plane): the layout
                # passes then size only the views that stay
                refresh.flush(views=False)
                lay_out()
                stale = refresh.pending()
        if budget is not None:
            refresh.settle(budget, began)
        if stale:
            # (what the layout asks for within the budget as well: a theme's restyles of
            # L21 with 16 networks, spread by the settle, all ran here, 55-80 ms a press)
            with refresh.held(run=budget is None):
                QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            if budget is not None:
                refresh.settle(budget, began)

    def _release_refresh(self, *, run: bool = True) -> None:
        """End the refreshes' hold of :meth:`_hold_repaint` (if any)."""
        _end_hold(self._hold_flag, run=run)

    def _lay_out_text(self) -> None:
        """The window at a new text size: the docks' shares, every pending layout, the
        window within the screen. Done at the end of the change (:meth:`_settled_later`)
        and at its settle (what a later turn left), inside held refreshes, so that each
        view refreshes once, at its final size; not left to the event loop."""
        # the new text's sizes first (the picture's minimum width at the old text, 837 px
        # at 200 %, beside the controls' new one grew the window past 1280 px going back
        # to 100 %), then the side column's shares, which follow the text size. The
        # controls' rows reflow first, for the column they get (the window's width sets
        # it; laid out at the new text side by side, then reflowed, every run card was laid
        # out five times a press). The panel's and its dock's widths follow after that
        # pass, as they did (a dock narrower than its cap keeps its width)
        self._lay_out_posted = False  # (a press's layout left for its settle event: done)
        with self._caps_at_width():  # (the window grows once for a new minimum)
            self._fit_controls(resize=False)
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            self._place_loss_dock()
            for _ in range(3):  # a dock's new limit asks for one more
                QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
                self._fit_docks()
        self._fit_screen()
        self._fit_status()

    @contextmanager
    def one_paint(self, *, whole: bool = False, plots: bool = False, resized: bool = False):
        """Around a window-wide change (a lesson, the language, the theme, a panel): every
        layout it caused, and the layouts those caused, are done before it returns, so that
        the window's next paint is at its final geometry, once. (Laid out over several turns
        of the event loop with a paint between them, a lesson's map was rasterised and
        painted three times, at three sizes: the caption, the splitter's handle and the
        controls each settle a pass later.) Repaints are not held: what did not change is
        not repainted. Nested, the outermost lays out.

        ``whole``: the change repaints the whole window (a theme: every widget's colours);
        repaints are held, and the window paints once, all of it (:meth:`_repaint_once`).
        ``plots``: the change repaints every plot (a language): their scenes take their
        changes before it returns, and each plot is painted once
        (:meth:`_paint_plots_once`); the other widgets repaint what changed.
        ``resized``: each plot the change resized (or showed) is painted once, the same way
        (a panel shown or hidden: left to its paint, pyqtgraph moved the plot's items then
        and asked for a second paint; the fit panel and the map were painted twice per
        toggle, L9 with 12 runs at 1920x1080 ~100 ms). Not for a lesson: its scenes' changes,
        taken in its own turn, made that turn the longer (its paint comes a turn later
        anyway)."""
        from gdviz.ui.views import refresh

        if self._in_one_paint or not self.isVisible():
            with refresh.held():  # (the views still refresh once, at the end)
                yield
            return
        self._in_one_paint = True
        if self._settle_next and not (whole or plots or resized):
            # the session and its panels now; the layout and the views' refreshes in the
            # next turn (:meth:`open_scene_asking`)
            try:
                with refresh.held(run=False):
                    yield
            finally:
                self._in_one_paint = False
                self._post_settle()
            return
        self._settle_posted = False  # (done at this change's end: the settle has nothing left)
        # (not when a text size holds them already: its settle repaints)
        hold = whole and self.updatesEnabled()
        if hold:
            self.setUpdatesEnabled(False)
        sizes = self._plot_sizes() if resized and not (hold or plots) else None
        try:
            # the views refresh once, for the final state and at their final size: the
            # change's signals, events and layout passes only mark them stale
            with self._refreshed_once(self._lay_out_now):
                yield
        finally:
            self._in_one_paint = False
            if hold:
                self._repaint_once()
            elif plots:
                self._paint_plots_once()
            elif sizes is not None:
                # a plot the change resized (or showed) repaints whole anyway
                changed = [v for v, size in self._plot_sizes().items() if sizes.get(v) != size]
                if changed:
                    self._paint_plots_once(changed)

    def _plot_sizes(self) -> dict:
        """Each shown plot's viewport size, by plot."""
        return {v: v.viewport().size() for v in self.findChildren(QGraphicsView)
                if v.isVisible() and v.scene() is not None}

    def _paint_plots_once(self, views=None) -> None:
        """Each shown plot painted once, after its scene has taken the change. (A scene
        takes its changed items on a later turn of the event loop, and then paints the
        window's dirty parts at once: the first scene painted every plot, each other scene
        its own plot a second time; the fit panel and the map were painted twice per theme
        or language.) The scenes take their changes now, their plots' repaints held (a
        plot the change touched repaints whole anyway: a new size, a new background); then
        each plot is marked for one repaint. A pyqtgraph scene first moves what its boxes'
        new sizes move, as it would when painted (and painted the plot again)."""
        if views is None:
            views = self.findChildren(QGraphicsView)
        views = [v for v in views
                 if v.isVisible() and v.scene() is not None and v.viewport().updatesEnabled()]
        for view in views:
            view.viewport().setUpdatesEnabled(False)
        try:
            for view in views:
                prepare = getattr(view.scene(), "prepareForPaint", None)
                if prepare is not None:
                    prepare()
                QApplication.sendPostedEvents(view.scene(), QEvent.Type.MetaCall)
        finally:
            for view in views:
                view.viewport().setUpdatesEnabled(True)  # (one repaint of the plot)

    def _repaint_once(self) -> None:
        """Repaints held (a theme, a text size, projector mode, a language): the views'
        scenes take their changed items now, then the whole window repaints, once (see
        :meth:`_paint_plots_once`). A demo of many runs paints its plots other than the
        largest one per turn after it (:mod:`gdviz.ui.staggered`)."""
        shown = []
        for view in self.findChildren(QGraphicsView):
            scene = view.scene()
            if scene is None:
                continue
            prepare = getattr(scene, "prepareForPaint", None)
            if prepare is not None and view.isVisible():
                prepare()
                shown.append(view)
            QApplication.sendPostedEvents(scene, QEvent.Type.MetaCall)
        if self.session.n_runs > staggered.STAGGER_RUNS and len(shown) > 1:
            shown.sort(key=lambda v: -v.viewport().width() * v.viewport().height())
            self.staggered.hold([v.viewport() for v in shown[1:]])
        self.setUpdatesEnabled(True)  # (one update of the whole window)

    def _stagger_plots(self) -> None:
        """A change whose refreshes spread over turns (a scrub of L21 with 16 networks,
        :func:`gdviz.ui.views.refresh.set_budget`) paints its plots one per turn as well,
        the largest with the window (their paints in one turn: 45-70 ms at 300 % text on
        1920x1080 on a quiet machine, the loss curves, the map and the network)."""
        if not self.isVisible() or not self.updatesEnabled():
            return
        shown = [v for v in self.findChildren(QGraphicsView)
                 if v.isVisible() and v.scene() is not None]
        if len(shown) > 1:
            shown.sort(key=lambda v: -v.viewport().width() * v.viewport().height())
            self.staggered.hold([v.viewport() for v in shown[1:]])

    def grab(self, *args):  # noqa: D102 - QWidget's
        from gdviz.ui.views import refresh

        # (nor a view whose refresh waits for its turn, nor one the grab's layout resizes)
        with refresh.at_once():
            self.staggered.finish()  # (a plot whose repaint waits is not drawn by a grab)
            return super().grab(*args)

    def _lay_out_now(self) -> None:
        """Every pending layout, to the end of its chain (a new size asks for another).

        The controls' cap is a share of the window's width as the chain begins: a window
        that grows in the chain to take a new minimum width grows once. (A share of each
        new width raised the cap, hence the minimum, and the window grew again: L6 -> L21
        at 261 % text on 800x600 went 805 -> 815 -> 818 -> 819 -> 820 px, the controls'
        rows reflowed at each step, ~95 ms against ~48 without the growth)"""
        with self._caps_at_width():
            for _ in range(LAYOUT_PASSES):
                QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
                self._fit_docks()

    @contextmanager
    def _caps_at_width(self):
        """Inside: the controls' cap is a share of the window's width as the block began
        (:meth:`_fit_controls`), however the window grows in it (see :meth:`_lay_out_now`).
        Nested, the outermost's width."""
        if self._cap_width is not None:
            yield
            return
        self._cap_width = self.width()
        try:
            yield
        finally:
            self._cap_width = None

    def layout_settled(self) -> bool:
        """True when no text-size or projector relayout is pending, nor a reflow of the
        controls' rows (for tests)."""
        return (not self._settle_timer.isActive() and self.updatesEnabled()
                and self.controls.fit_settled() and not self._settle_posted
                and not self._lay_out_posted and not self._resized_posted)

    def _fit_docks(self) -> None:
        """Cap the docks so that the plots keep most of the window: the controls column at
        ``CONTROLS_SHARE`` of the width (it scrolls sideways beyond), the loss dock at
        ``LOSS_SHARE`` of the height."""
        if not hasattr(self, "loss_dock"):
            return  # a resize while the window is being built
        cap_w = self._fit_controls()
        for dock in (self.controls_dock, self.step_dock):
            dock.setMaximumWidth(cap_w)
        # a dock wider than its new cap keeps its width until the window's layout next
        # moves its separator (1280 -> 1024 px: the controls stayed 468 px, over their
        # 337 px cap, once their rows could reflow narrower than it): it is resized now
        wide = [d for d in (self.controls_dock, self.step_dock)
                if d.isVisible() and not d.isFloating() and d.width() > cap_w]
        if wide:
            self.resizeDocks(wide, [cap_w] * len(wide), Qt.Orientation.Horizontal)
            lay = self.layout()  # applied now (the first paint at the new size shows it),
            lay.setGeometry(lay.geometry())  # not at the next turn of the event loop
        area = self._loss_area if self._loss_area is not None else self.dockWidgetArea(self.loss_dock)
        if area == Qt.DockWidgetArea.BottomDockWidgetArea:
            share = PROJECTOR_LOSS_SHARE if self.projector else LOSS_SHARE
        else:  # in the side column, under the controls
            share = SIDE_LOSS_SHARE
        self.loss_dock.setMaximumHeight(max(int(self.height() * share), 90))

    def _fit_controls(self, *, resize: bool = True) -> int:
        """The controls column's cap (``CONTROLS_SHARE`` of the window's width, less where
        its rows would not fit side by side), its rows reflowed for it; returns the cap.
        (The docks take it in :meth:`_fit_docks`.) ``resize=False``: the panel keeps its
        minimum width until the next fit."""
        width = self.width()
        if self._cap_width is not None:  # (inside a layout chain: see _caps_at_width)
            width = min(width, self._cap_width)
        if self._text_width is not None:
            # a text size settling: the share of the width before it (a window grown for the
            # new text's minimum kept it; the settle reflowed the rows a second time, for a
            # cap a few px wider)
            width = min(width, self._text_width)
        cap_w = max(int(width * CONTROLS_SHARE), 160)
        if self.controls.wide_width() > cap_w:
            cap_w = max(int(width * CONTROLS_SCROLL_SHARE), 160)
        self.controls.set_width_cap(cap_w, resize=resize)
        return cap_w

    def _fit_screen(self) -> None:
        """The window never grows past the screen's available area, nor past its size before
        the change (a bigger text asks for a bigger minimum size; Qt grants it by growing
        the window). The size before is kept until the change settles
        (:meth:`_settle_layout`): in the press the new text's views can still need more room
        than they will (L9 at 227 %: the picture's minimum 858 px, 837 px once laid out), the
        window could not shrink back then, and it kept 6-20 px more at each press (1280 ->
        1286 -> 1298 -> 1301 px, the controls' column and its reflow following)."""
        before = self._size_before
        screen = self.screen()
        if screen is None or before is None or self.isFullScreen() or self.isMaximized():
            return
        avail = screen.availableGeometry().size()
        w = min(self.width(), max(avail.width(), before.width()))
        h = min(self.height(), max(avail.height(), before.height()))
        if (w, h) != (self.width(), self.height()):
            self.resize(w, h)

    def _fit_status(self) -> None:
        """Big text on a small window: the counters and the diverged note come first, the
        kernels' note hides when the status bar has no room for it (it was cut mid-word);
        a short-lived note (:meth:`flash`) comes before the counters. Not in a press whose
        layout waits for its settle (a text size, projector mode, the language), which fits
        the status bar at its end (:meth:`_lay_out_text`): a note shown or hidden in the
        press laid the whole window out there, at once (Qt lays out a shown widget's
        ancestors), ~25 ms of a Ctrl+- on L21 with 16 networks."""
        if not hasattr(self, "kernel_status") or self._lay_out_next or self._lay_out_posted:
            return
        width = self.statusBar().width()
        parts = (self.counters, self.diverged_label, self.message)
        need = sum(w.sizeHint().width() for w in parts if w.text()) + 48
        self.kernel_status.setVisible(need + self.kernel_status.sizeHint().width() <= width)
        # a note with no room even so (L21's counters and a refusal at 200 % text in
        # Chinese were drawn over each other): the counters step aside until it clears
        # (the step stays on the loss curves)
        self.counters.setVisible(not self.message.text() or need <= width)

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(ev)
        self._fit_docks()
        self._fit_status()
        if self.isVisible() and not self._in_one_paint and not self._settling:
            # the docks' new caps lay out in the next event, ahead of any input, timer or
            # paint (:meth:`_settle_open`), not after a first paint at the old shares; the
            # views resized meanwhile refresh once, at the end. (Not inside a text size or
            # projector change: it lays the window out once, at its end, and repaints at
            # its settle. Projector mode off at 300 % text on 1024x600 went through five
            # resizes, each laid out and its plots painted: ~75 ms. Laid out in the
            # resize's own turn, 1600x900 -> 1024x600 at 300 % with 28 runs took 90-133 ms.
            # Now, inside a layout chain or while a text size settles (which shrinks the
            # window back to its size before, :meth:`_settle_layout`: laid out after that,
            # the window grew again to the press's minimum, 1280 -> 1285 px on L9 at 261 %)
            if self._size_before is None and self._cap_width is None:
                self._post_settle(resized=True)
            else:
                self._settle_resize()

    def _settle_resize(self) -> None:
        """A resize's layout (:meth:`resizeEvent`), in its settle event."""
        from gdviz.ui.views import refresh

        # the views' refreshes within the app's budget, counted from the settle's start,
        # the rest in the turns after (gdviz.ui.views.refresh.set_budget; a full-screen
        # resize of L21 with 16 networks at 300 % text: 57-96 ms in one turn)
        budget = refresh.budget_of(self.session)
        began = refresh.now()
        with refresh.held(run=budget is None):
            self._lay_out_now()
        if budget is not None:
            refresh.settle(budget, began)
        # each plot painted once at its new size (each scene took its moved items on a
        # turn of its own and painted the window's dirty parts: L8 at 1920x1080 with 7
        # runs painted the fit panel and the map twice in one turn, ~100 ms)
        self._paint_plots_once()

    # ------------------------------------------------------------------ projector mode
    @property
    def projector(self) -> bool:
        """In projector mode (the window owns this view option: a scene never carries it)."""
        return self._projector_saved is not None

    def set_projector(self, on: bool) -> None:
        """View ▸ Projector mode (F5): the side docks hide (the loss curves stay below, a
        smaller share), the window goes full screen, the map (and the fit panel) take the
        room, the caption shows whole lines (folded: "more" unfolds it), the plots' text,
        markers, lines and arrows grow (:func:`gdviz.ui.theme.font_scale`). Off again, the
        window comes back as it was: geometry, docks and their sizes, full screen."""
        on = bool(on)
        if on == self.projector:
            self._sync_projector_action()
            return
        # as a text size (:meth:`set_font_scale`): the views restyle, the window lays out
        # at its new size and text, then each view refreshes once, at its final size
        with self._settled_later():
            # (the controls' rows are fitted once, as the window lays out at its end)
            with self.controls.fits_held():
                self._switch_projector(on)
        self._sync_projector_action()

    def _switch_projector(self, on: bool) -> None:
        if on:
            self._projector_saved = (QRect(self.normalGeometry()), self.saveState(),
                                     self.isFullScreen(), self.isMaximized())
            # the side docks; the loss curves stay below the map (lessons L4, L9 and L12
            # are about them)
            for dock in (self.controls_dock, self.step_dock):
                dock.hide()
            self._loss_saved = (self._loss_area, self._loss_weights)
            self._place_loss_dock()  # below the map, across its width
            # the plots' scale first: the side column's views made now are made at it
            theme.set_projector_mode(True)
            self.picture.set_side_inline(True)  # step-by-step and the schedule, beside the map
            self._tell_plot_scale()
            if not self.isFullScreen():
                self.showFullScreen()
            from gdviz.core.i18n import tr

            self.flash(tr("projector_on", self.language), 4000)
        else:
            geometry, state, full, maxed = self._projector_saved
            self._projector_saved = None
            self.picture.set_side_inline(False)
            self._loss_area, self._loss_weights = self._loss_saved  # where restoreState puts it
            self._fit_docks()  # the normal caps before the docks get their old sizes back
            theme.set_projector_mode(False)
            self._tell_plot_scale()
            if not full:
                self.showMaximized() if maxed else self.showNormal()
                # not restoreGeometry: it moves a window that overhangs the screen, and the
                # teacher's window comes back where it was
                self.setGeometry(geometry)
                self._size_before = geometry.size()
            self.restoreState(state)
            self._place_loss_dock()  # the problem may have changed meanwhile
            self._on_panels_changed()  # what the model asked for meanwhile (a run picked)

    def _sync_projector_action(self) -> None:
        with QSignalBlocker(self.projector_action):
            self.projector_action.setChecked(self.projector)

    def zoom_in(self) -> None:
        self._press_text(self.font_scale * FONT_STEP)

    def zoom_out(self) -> None:
        self._press_text(self.font_scale / FONT_STEP)

    def _press_text(self, factor: float) -> None:
        """View ▸ Larger / Smaller text (Ctrl+= / Ctrl+-): :meth:`set_font_scale` in two
        events. The widgets take the new text in the press; the window lays out at it in
        the next event (:meth:`_settle_open`), before any input, timer or paint; the views
        refresh and the window repaints once, after the last of a burst of presses, as
        before."""
        with self._laid_out_next():
            self.set_font_scale(factor)

    def _press_projector(self, on: bool) -> None:
        """View ▸ Projector mode (F5): :meth:`set_projector` in two events, as a text size
        (:meth:`_press_text`)."""
        with self._laid_out_next():
            self.set_projector(on)

    def _press_language(self, lang: str) -> None:
        """View ▸ Language: :meth:`set_language` in two events, as a text size
        (:meth:`_press_text`). (In one, L21 with 16 networks at 200 % text: 111-115 ms, ~40
        of them the layout.)"""
        with self._laid_out_next():
            self.set_language(lang)

    @contextmanager
    def _laid_out_next(self):
        self._lay_out_next = True
        try:
            yield
        finally:
            self._lay_out_next = False

    @painted_once
    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    @painted_once
    def set_heatmap(self, on: bool) -> None:
        """View ▸ Heatmap: into the model (``session.heatmap``); the map's own menu
        writes the same field, and both follow it."""
        self.session.set_view_options(heatmap=bool(on))

    def _on_heatmap_changed(self, on: bool) -> None:
        with QSignalBlocker(self.heatmap_action):
            self.heatmap_action.setChecked(bool(on))
        if not self._opening:
            self._heatmap_pref = bool(on)

    # ------------------------------------------------------------------ settings
    def restore_settings(self) -> None:
        st = self.settings
        geom = st.value("window/geometry")
        if geom is not None:
            self.restoreGeometry(geom)
        else:
            self.resize(1280, 720)
        state = st.value("window/state")
        if state is not None:
            self.restoreState(state, DOCK_LAYOUT_VERSION)
        name = str(st.value("view/theme", DEFAULT_THEME))
        self.set_theme(name if name in THEMES else DEFAULT_THEME)
        try:
            scale = float(st.value("view/font_scale", 1.0))
        except (TypeError, ValueError):
            scale = 1.0
        self.set_font_scale(scale, announce=False)
        heat = st.value("view/heatmap", True)
        self.set_heatmap(heat not in (False, "false", "0", 0))
        from gdviz.core.i18n import LANGUAGES

        lang = str(st.value("view/language", self.language))
        self.set_language(lang if lang in LANGUAGES else self.language)

    def save_settings(self) -> None:
        st = self.settings
        st.setValue("window/geometry", self.saveGeometry())
        st.setValue("window/state", self.saveState(DOCK_LAYOUT_VERSION))
        st.setValue("view/theme", self.theme_name)
        st.setValue("view/font_scale", self.font_scale)
        st.setValue("view/heatmap", self._heatmap_pref)
        st.setValue("view/language", self.language)
        st.sync()

    # ------------------------------------------------------------------ warmup
    def start_warmup(self, fn=None) -> None:
        """Compile the kernels in a QThread; the numpy twins serve meanwhile."""
        from gdviz import kernels
        from gdviz.ui.warmup import KernelWarmup

        if kernels.is_ready() or self.warmup is not None:
            return
        self.warmup = KernelWarmup(fn, parent=self)
        self.warmup.progress.connect(self._on_warmup_progress)
        self.warmup.finished.connect(self._on_warmup_finished)
        self.warmup.failed.connect(lambda msg: self._set_kernel_status("kernels_failed", error=msg))
        self._set_kernel_status("compiling")
        self.warmup.start()

    def _on_warmup_progress(self, i: int, n: int, name: str) -> None:
        self._set_kernel_status("compiling_n", i=i, n=n)
        self.kernel_status.setToolTip(tr("tip_compiled", self.language, name=name))

    def _on_warmup_finished(self, ok: bool) -> None:
        from gdviz import kernels
        from gdviz.ui.app import freeze_long_lived

        freeze_long_lived()  # (numba's compiled kernels and types live as long as the app)
        self.picture.set_kernels_due(False)  # the maps that waited (the twins' if it failed)
        if ok and kernels.is_ready():
            self._set_kernel_status("kernels_numba")
        elif self._kernel_text[0] != "kernels_failed":
            self._set_kernel_status("kernels_numpy")

    def _set_kernel_status(self, key: str, **fmt) -> None:
        """The kernels' state in the status bar, kept as key and values so that a language
        switch re-words it."""
        self._kernel_text = (key, fmt)
        self.kernel_status.setText(tr(key, self.language, **fmt))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._want_warmup:
            self._want_warmup = False
            # after the first paint: the window is up before any compile starts
            QTimer.singleShot(0, self.start_warmup)

    def closeEvent(self, event) -> None:
        # the user's own close (the title bar's ✕, Alt+F4) asks first, as File ▸ Quit does;
        # a close from code (tests, the screenshot and bench tools) never opens a dialog
        if self._close_asks(event) and not self.confirm_discard():
            event.ignore()
            return
        self._settle_open()  # (an open's settle not received yet: the views as the session)
        self._finish_saves()  # (the user's file is written before its worker goes)
        self._save_timer.stop()
        self._drop_open()
        if self._open_pool is not None:
            self._open_pool.shutdown(wait=False, cancel_futures=True)
            self._open_pool = None
        self.frame_timer.stop()
        self._settle_timer.stop()
        self._release_refresh(run=False)  # (a change that had not settled: nothing to show)
        self.autosave.close(remove=True)  # a clean quit leaves no autosave behind
        self.save_settings()
        if self.warmup is not None:
            self.warmup.cancel()
        super().closeEvent(event)
        # the views stop observing the session and their map threads end (a window
        # closed left two threads waiting each, and its views drawing the session)
        self.picture.close()

    # ------------------------------------------------------------------ nothing lost
    def _build_autosave(self) -> None:
        """The autosave (every few seconds while something changed: :mod:`gdviz.ui.autosave`),
        the offer of a demo a crashed run left behind, and the baseline that 'unsaved
        changes' compares with (the demo as the window starts)."""
        from gdviz.ui.autosave import Autosave

        self._scene_path: Path | None = None  # the user's own file last opened or saved
        self._saved = self._comparable()  # the demo as last opened or saved
        self._edited = False  # problem, runs or settings changed since then
        s = self.session
        for sig in (s.problem_changed, s.runs_changed, s.settings_changed):
            sig.connect(self._on_demo_edited)
        self.recovery_bar = None
        self._recovery_read = None  # the future of a big autosave's read (_offer_recovery)
        self._restore_when_read = False
        self.autosave = Autosave(s, base=lambda: self._scene, parent=self)
        self.autosave.failed.connect(self._on_autosave_failed)
        recovered = self.autosave.take_recovery()
        if recovered is not None:
            self._offer_recovery(recovered)

    def _on_demo_edited(self, *_) -> None:
        self._edited = True

    def _on_autosave_failed(self, msg: str) -> None:
        from gdviz.core.i18n import tr

        self.flash(tr("autosave_failed", self.language, error=msg), 8000)

    def _comparable(self):
        """The demo as a scene, without what 'unsaved' ignores (the run picked for step by
        step); None when it cannot be made into one. Not checked: it is only compared (a
        demo that is not a valid scene differs from any that was opened or saved)."""
        from gdviz.core.scene import scene_from_session

        try:
            scene = scene_from_session(self.session, base=self._scene, validate=False)
        except (ValueError, OSError):
            return None
        return self._comparable_of(scene)

    @staticmethod
    def _comparable_of(scene):
        import dataclasses

        return dataclasses.replace(
            scene, playback=dataclasses.replace(scene.playback, step_mode_run=""))

    def _mark_saved(self, path, saved=None) -> None:
        """The demo now matches the file at ``path`` (just opened or saved); ``saved``:
        the demo as it was written (:meth:`save_scene_aside`: the demo may have changed
        since), else the demo as it is."""
        from gdviz import resources_dir

        p = Path(path)
        try:  # a shipped lesson is not the user's file: Save proposes a new one
            preset = p.resolve().is_relative_to(Path(resources_dir()).resolve())
        except (OSError, ValueError):
            preset = False
        self._scene_path = None if preset else p
        self._saved = self._comparable() if saved is None else saved
        # (a change since the save is compared: see has_unsaved_changes)
        self._edited = saved is not None

    def has_unsaved_changes(self) -> bool:
        """True when the problem, the runs or the settings differ from the scene last opened
        or saved (before any: from the demo the window started with). Playing, stepping,
        scrubbing and the run picked for step by step do not count; nor does the theme."""
        if not self._edited:
            return False
        now = self._comparable()
        if now is not None and now == self._saved:
            self._edited = False  # changed and changed back
            return False
        return True

    def confirm_discard(self) -> bool:
        """May the demo be closed or replaced? True at once when nothing is unsaved; else
        :meth:`ask_unsaved`: Save… saves first (True once saved), Discard changes gives
        them up, Cancel keeps the demo (False)."""
        self._finish_saves()  # (a save under way counts as saved once written)
        if not self.has_unsaved_changes():
            return True
        choice = self.ask_unsaved()
        if choice == "save":
            return self._on_save()
        return choice == "discard"

    def ask_unsaved(self) -> str:
        """The question, in a modal box: "save", "discard" or "cancel" (tests replace this
        method: tests/ui/conftest.py answers "discard" and counts the questions)."""
        from gdviz.core.i18n import tr

        lang = self.language
        box = QMessageBox(QMessageBox.Icon.Question, tr("unsaved_title", lang),
                          tr("unsaved_text", lang), parent=self)
        box.setObjectName("unsavedBox")
        save = box.addButton(tr("unsaved_save", lang), QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton(tr("unsaved_discard", lang),
                                QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(tr("unsaved_cancel", lang), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(save)
        box.setEscapeButton(cancel)
        box.exec()
        clicked = box.clickedButton()
        box.deleteLater()
        return "save" if clicked is save else "discard" if clicked is discard else "cancel"

    @contextmanager
    def two_turns(self):
        """Around a click's or an edit's change of the runs (a run added, copied, removed
        or edited in the runs panel; the noise, batch size, seed or schedule; the problem,
        its data or its network picked in the controls; a scene read on the worker, or an
        autosave restored, going into the session): the session
        and its panels in this turn of the event loop; the layout and the views' refreshes
        in the next, before anything else, as a lesson opened (:meth:`open_scene_asking`).
        (In one turn, a copy of a run with five starts at 55 runs took 94 ms: ~40 of them
        the views' refreshes; an edit after scrubbing back, L21 with 30 networks, 66-122 ms:
        the history re-played from that step, then every view re-fed its 30 runs.)"""
        if self._settle_next or self._in_one_paint:
            yield
            return
        self._settle_next = True
        try:
            with self.one_paint():
                yield
        finally:
            self._settle_next = False

    def open_scene_asking(self, path) -> bool:
        """File ▸ Open and the Lessons menu: :meth:`open_scene`, once unsaved changes are
        saved or given up (:meth:`confirm_discard`).

        In two turns of the event loop: the scene goes into the session (and the panels
        that follow it) in this one; the window lays out and the views refresh, once, at
        their final size, in the next, before anything else (:meth:`_settle_open`, a
        posted event of high priority: no input, timer or paint comes between), then the
        window paints once. (In one turn, L19 at 261 % text on 1920x1080 blocked the
        window for 60-150 ms: ~30 ms of it the session, ~45 the layout and the views.)"""
        if not self.confirm_discard():
            return False
        self._settle_next = True
        try:
            return self.open_scene(path)
        finally:
            self._settle_next = False

    def _post_settle(self, *, lay_out: bool = False, resized: bool = False) -> None:
        """The settle of a change whose layout and refreshes wait (:meth:`one_paint`), or
        of a text-size or projector press whose layout waits (``lay_out``,
        :meth:`_press_text`): the next event the window gets, ahead of any input, timer or
        paint."""
        if lay_out:
            self._lay_out_posted = True
        elif resized:
            self._resized_posted = True
        else:
            self._settle_posted = True
        if not self._settle_queued:
            QApplication.postEvent(self._settler, QEvent(_SETTLE_EVENT),
                                   Qt.EventPriority.HighEventPriority.value)
            self._settle_queued = True

    def _settle_open(self) -> None:
        """The layout and the views' refreshes a change left for the next turn (if no
        window-wide change has done them since): a text size's or projector mode's layout
        (its views refresh and the window repaints at its own settle,
        :meth:`_settle_layout`), a resize's layout, an open's layout and refreshes."""
        self._settle_queued = False
        if self._lay_out_posted:
            if self.isVisible():
                from gdviz.ui.views import refresh

                with refresh.held():  # (they wait for its own settle: see _hold_repaint)
                    self._lay_out_text()
            self._lay_out_posted = False
        if self._resized_posted:
            self._resized_posted = False
            if self.isVisible():
                self._settle_resize()
        if self._settle_posted:
            self._settle_posted = False
            with self.one_paint():
                pass

    def request_quit(self) -> None:
        """File ▸ Quit: close the window once unsaved changes are saved or given up."""
        if self.confirm_discard():
            self.close()

    def _close_asks(self, event) -> bool:
        """Whether a close asks about unsaved changes: the user's own (a spontaneous
        event, from the window system) does; a close from code has asked already
        (:meth:`request_quit`) or has nobody to ask."""
        return event.spontaneous()

    def _offer_recovery(self, path: Path) -> None:
        """The inline Restore / Discard bar for a crashed run's autosave (never a dialog)."""
        from gdviz.core.scene import load_scene
        from gdviz.ui.autosave import RecoveryBar

        try:
            st = path.stat()
        except OSError:
            return
        mtime = st.st_mtime
        same_day = time.localtime(mtime)[:3] == time.localtime()[:3]
        when = time.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M", time.localtime(mtime))
        title = None  # (none read: Restore will say why it cannot; Discard still works)
        if st.st_size > OPEN_ASIDE_BYTES:
            # read on the worker, as a big open is (a 100,000-point demo's autosave: ~0.4 s
            # before the window showed, and again on the UI thread when Restore was
            # pressed): the bar shows at once, its title once read, and Restore applies
            # what was read
            self._recovery_read = self._open_worker().submit(load_scene, path)
            self._recovery_timer = QTimer(self)
            self._recovery_timer.setInterval(OPEN_POLL_MS)
            self._recovery_timer.timeout.connect(self._poll_recovery)
            self._recovery_timer.start()
        else:
            try:
                title = load_scene(path).title
            except (ValueError, OSError, MemoryError, RecursionError):
                pass
        bar = RecoveryBar(when, title, self.language, parent=self)
        bar.restore_button.clicked.connect(self.restore_autosave)
        bar.discard_button.clicked.connect(self.discard_autosave)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.recovery_bar = bar

    def restore_autosave(self) -> bool:
        """Recovery bar ▸ Restore: the autosaved demo comes back (its title and caption
        from its meta) as unsaved work, and becomes this run's autosave."""
        path = self.autosave.recovery_path
        if path is None:
            return False
        read = self._recovery_read
        if read is not None and not read.done():
            # still being read (a big autosave): restored once read, the button waits
            self._restore_when_read = True
            if self.recovery_bar is not None:
                self.recovery_bar.restore_button.setEnabled(False)
            return True
        with self.two_turns():  # (as an open: the layout and the views in the next turn)
            if read is not None:
                try:
                    ok = self._apply_opened(path, read.result())
                except (ValueError, OSError, MemoryError, RecursionError) as exc:
                    ok = self._apply_opened(path, None, exc)
            else:
                ok = self.open_scene(path, aside=False)
            if not ok:
                return False  # it says why above the map; the bar stays for Discard
            self._scene_path = None  # not the user's file: Save asks where
            self._saved = None
            self._edited = True
            self.autosave.adopt_recovery()
            self._close_recovery_bar()
        return True

    def _poll_recovery(self) -> None:
        """A big autosave read on the worker (:meth:`_offer_recovery`): its title in the
        bar, and the restore asked for meanwhile."""
        read = self._recovery_read
        if read is not None and not read.done():
            return
        self._recovery_timer.stop()
        if read is None:
            return  # (the bar was closed meanwhile)
        bar = self.recovery_bar
        try:
            title = read.result().title
        except (ValueError, OSError, MemoryError, RecursionError):
            title = None
        if bar is not None and title is not None:
            bar.title = title
            bar.retranslate(self.language)
        if self._restore_when_read:
            self._restore_when_read = False
            if bar is not None:
                bar.restore_button.setEnabled(True)
            self.restore_autosave()

    def discard_autosave(self) -> None:
        """Recovery bar ▸ Discard: the autosaved demo is deleted."""
        self.autosave.discard_recovery()
        self._close_recovery_bar()

    def _close_recovery_bar(self) -> None:
        self._recovery_read = None  # (a read under way ends on the worker, unused)
        self._restore_when_read = False
        bar, self.recovery_bar = self.recovery_bar, None
        if bar is not None:
            self.removeToolBar(bar)
            bar.deleteLater()

    # ------------------------------------------------------------------ frame clock
    def _on_playing_changed(self, playing: bool = False, *_) -> None:
        if playing:
            self._last_frame = time.perf_counter()
            self.frame_timer.start(FRAME_MS)
        else:
            self.frame_timer.stop()
            self._last_frame = None

    def _on_race_rebuilt(self, *_) -> None:
        """A new problem or new runs while playing: the next frame steps a frame's worth
        from when the change has settled, not the change's own time too (after an 80 ms
        change on L21 the next frame took 5x a frame's steps, 45 ms of network steps, and
        made the change's block longer still)."""
        if self._last_frame is not None:
            later(self.session, self._restart_frame_clock)

    def _restart_frame_clock(self) -> None:
        if self._last_frame is not None:
            self._last_frame = time.perf_counter()

    def _on_frame(self) -> None:
        now = time.perf_counter()
        dt = 0.0 if self._last_frame is None else now - self._last_frame
        if self.frame_timer.interval() != FRAME_MS:  # a scene's first frame (FIRST_FRAME_MS)
            self.frame_timer.setInterval(FRAME_MS)
            dt = min(dt, FRAME_MS / 1000)  # it steps a frame's worth, not the wait's
        self._last_frame = now
        if self.session.replaying is not None:  # a long re-play goes on, a piece a frame
            self.session.continue_replay(REPLAY_FRAME_S)
            if self.session.replaying is None and not self.session.playing:
                self.frame_timer.stop()
            return
        if not self.session.playing:
            self.frame_timer.stop()
            return
        before = self.session.last_advance
        self.session.tick(self._frame_dt(min(dt, MAX_FRAME_DT)))
        after = self.session.last_advance
        engine = after[1] if after is not before else 0.0  # (a frame within the record: none)
        self._note_frame_views(time.perf_counter() - now - engine)

    #: what the views' refresh took in the frames before (s): the last one's when it took
    #: longer, else easing down to it (:meth:`_note_frame_views`)
    _frame_views_s = 0.0

    def _note_frame_views(self, secs: float) -> None:
        """A frame's turn less its engine's advance: the views' refresh, kept for the
        next frames' engine share (:meth:`_frame_dt`). It rises at once and falls by a
        quarter of the way a frame, so that one quick frame does not give the next the whole
        share back."""
        secs = max(float(secs), 0.0)
        old = self._frame_views_s
        self._frame_views_s = secs if secs >= old else old + (secs - old) * 0.25

    def _frame_dt(self, dt: float) -> float:
        """The race time a frame advances: ``dt``, less when its steps would take the engine
        more than its share at the speed the last advance ran (at least one step's
        worth). The share is FRAME_ENGINE_S, less what the views took over the rest of
        FRAME_TURN_S (:meth:`_note_frame_views`), at least FRAME_ENGINE_MIN_S. A race
        asked to go faster than the machine computes it goes as fast as it can, and each
        frame stays short: with the numpy twins (the first minute after an
        install) a fit lesson at a high speed took 400 steps a frame, 120-330 ms each,
        and the slower frames asked for more steps still."""
        n, secs = self.session.last_advance
        speed = float(self.session.speed)
        if speed <= 0.0:
            return dt
        if n <= 0 or secs <= 0.0:
            # a new engine (a reset, a lesson) on data: one step, which measures it (a
            # reset of L21 with 12 networks at a high speed took 0.1 s of race, 900 ms, in
            # its first frame); a surface's steps are microseconds
            from gdviz.core.engine import step_seconds

            return min(dt, 1.0 / speed) if step_seconds(self.session.problem, 1) > 0 else dt
        share = min(FRAME_ENGINE_S, max(FRAME_ENGINE_MIN_S, FRAME_TURN_S - self._frame_views_s))
        most = max(share * n / secs, 1.0) / speed
        return min(dt, most)

    # ------------------------------------------------------------------ session -> window
    def _on_stepped(self, *_) -> None:
        if self.session.replaying is not None and not self.frame_timer.isActive():
            self.frame_timer.start(FRAME_MS)
        counters, diverged = status_texts(self.session, self.language)
        if (counters, diverged) != (self.counters.text(), self.diverged_label.text()):
            self.counters.setText(counters)
            self.diverged_label.setText(diverged)
            self._fit_status()

    def _on_selection_changed(self, i: int = -1, *_) -> None:
        on = int(i) >= 0 and "step" in self.session.panels and not self.projector
        self.step_dock.setVisible(on)
        if on:
            self.step_dock.raise_()

    def set_panel(self, name: str, on: bool) -> None:
        """View ▸ Panels: show or hide one panel of the picture (into ``session.panels``)."""
        with self.one_paint(resized=True):
            panels = set(self.session.panels)
            panels.add(name) if on else panels.discard(name)
            self.session.set_view_options(panels=tuple(panels))

    def _on_panels_changed(self, panels=None, *_) -> None:
        panels = self.session.panels
        for name, act in self.panel_actions.items():
            with QSignalBlocker(act):
                act.setChecked(name in panels)
        self.loss_dock.setVisible("loss" in panels)
        self.controls.training.curve.setVisible("schedule" in panels)
        self._on_selection_changed(self.session.selected)

    def _on_error(self, msg: str) -> None:
        from gdviz.core.i18n import Said

        self.flash(msg.in_language(self.language) if isinstance(msg, Said) else str(msg), 6000)

