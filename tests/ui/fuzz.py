"""A seeded GUI fuzzer for the real main window.

It drives :class:`gdviz.ui.main_window.MainWindow` as a user would (menus, sliders,
entries typed into key by key, combo boxes, the map's mouse and wheel, the keyboard,
playback, runs, scene files, export and cancel) and counts what went wrong:

- Python exceptions: anything that reaches ``sys.excepthook`` (PySide6 passes exceptions
  raised in slots and Qt virtuals there) and anything an action raises itself;
- Qt warnings: every message of type warning or worse through ``qInstallMessageHandler``,
  less an allow-list (:data:`ALLOWED_WARNINGS`); and Python's RuntimeWarnings (numpy's
  overflow or invalid value: a number the window computed or drew that is not finite),
  every one, through ``warnings.showwarning``;
- blocking: per action, the time from its start until the event loop is free again
  (the action, then ``processEvents``); the report keeps the maximum per action name.

Use::

    fuzz = GuiFuzzer(window, seed=1, tmp=tmp_path)
    report = fuzz.run(300)
    assert report.exceptions == [] and report.warnings == []
    print(report.summary())

``python -m`` is not needed: the test ``tests/ui/test_gui_fuzz.py`` runs it, and
``GDVIZ_FUZZ_ACTIONS=10000`` makes that a long run.
"""

from __future__ import annotations

import cProfile
import faulthandler
import gc
import os
import random
import sys
import time
import traceback
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QPushButton,
    QToolButton,
)

#: Qt messages that are not the app's fault (substrings)
ALLOWED_WARNINGS = (
    "propagateSizeHints",  # the offscreen platform plugin has no window manager
    "This plugin does not support",  # offscreen: raise(), grabbing, requestActivate
)

#: text a user may type into a numeric entry
EXTREME_NUMBERS = ("1e308", "-1e308", "-5", "0", "nan", "inf", "-inf", "abc", "", "1e-320",
                   "3e-4", "0.5", "999999999999", "1,5", "  ", "1e", "--1")

#: expressions for the f(x, y) box: valid, odd and malformed
EXPRESSIONS = (
    "x^2 + 10*y^2", "sin(x)*cos(y)", "(1-x)^2 + 100*(y-x^2)^2", "x*y", "exp(x) + exp(y)",
    "log(x)", "sqrt(x^2 + y^2)", "1/x", "x/0", "exp(1000*x)", "x^1000", "1e308*x*y",
    "abs(x) + abs(y)", "tanh(x) + y^2", "0", "x", "-cos(x)", "x^2 + z", "x +", "((x)",
    "sin(", "__import__('os')", "x..y", "x**y", "3 3", "max(x, y)", "nan", "inf*x",
    "sin(x)" + "+sin(y)" * 400,
)

#: longer text is pasted, not typed key by key
PASTE_OVER = 80
#: an action running longer than this dumps every thread's stack (a hang in a long run)
HANG_S = 60.0
#: GDVIZ_FUZZ_TRACE=1: each action is named on stderr as it starts (what a crash ran last)
TRACE = os.environ.get("GDVIZ_FUZZ_TRACE") == "1"
#: a turn of the event loop longer than this (s) is listed in the report (issue 10's rule)
SLOW_TURN = float(os.environ.get("GDVIZ_FUZZ_SLOW_MS", "100")) / 1000.0
#: GDVIZ_FUZZ_FROM=1: a slow turn's report also names the state the action started from
TURN_FROM = os.environ.get("GDVIZ_FUZZ_FROM") == "1"

#: widgets whose click opens a native file dialog (modal: a fuzzer must not press them)
DIALOG_BUTTONS = ("load_csv", "browse")


@dataclass
class Incident:
    """One exception or warning, with the action that was running."""

    action: str
    text: str


@dataclass
class FuzzReport:
    """What a run found. ``blocks`` maps an action name to its longest block (s), ``cpu``
    to the UI thread's CPU time in that block (on a busy machine the wall time is mostly
    waiting for a core)."""

    seed: int
    actions: int = 0
    exceptions: list[Incident] = field(default_factory=list)
    warnings: list[Incident] = field(default_factory=list)
    blocks: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    #: under a turn-timing application (``measure_common.TurnApp``, see
    #: ``measure_fuzz.py``): each label's longest single turn of the event loop (s), the
    #: time the UI thread was blocked at once, and what that turn was
    turns: dict[str, float] = field(default_factory=dict)
    turn_what: dict[str, str] = field(default_factory=dict)
    #: every turn over :data:`SLOW_TURN` s: (label, seconds, what)
    slow: list[tuple[str, float, str]] = field(default_factory=list)

    def longest(self, n: int = 10) -> list[tuple[str, float]]:
        return sorted(self.blocks.items(), key=lambda kv: -kv[1])[:n]

    def longest_turns(self, n: int = 10) -> list[tuple[str, float]]:
        return sorted(self.turns.items(), key=lambda kv: -kv[1])[:n]

    def summary(self) -> str:
        lines = [f"seed {self.seed}: {self.actions} actions, {len(self.exceptions)} exceptions, "
                 f"{len(self.warnings)} warnings (Qt's, RuntimeWarnings)"]
        for name, s in self.longest():
            lines.append(f"  {s * 1000:8.1f} ms  (cpu {self.cpu.get(name, 0.0) * 1000:6.1f})  "
                         f"{name} (x{self.counts.get(name, 0)})")
        if self.turns:
            lines.append("  longest single turns of the event loop:")
            for name, s in self.longest_turns():
                lines.append(f"  {s * 1000:8.1f} ms  {name}: {self.turn_what.get(name, '')}")
            by: dict[str, int] = {}
            for name, _s, _what in self.slow:
                kind = name.split(" ")[0]
                by[kind] = by.get(kind, 0) + 1
            lines.append(f"  turns over {SLOW_TURN * 1000:.0f} ms: {len(self.slow)} in "
                         f"{self.actions} actions ("
                         + ", ".join(f"{k} {n}" for k, n in sorted(by.items(), key=lambda kv: -kv[1]))
                         + ")")
        for inc in self.exceptions[:5]:
            lines.append(f"  EXCEPTION in {inc.action}:\n{inc.text}")
        for inc in self.warnings[:5]:
            lines.append(f"  WARNING in {inc.action}: {inc.text}")
        return "\n".join(lines)


def _describe_freed(obj, garbage: list) -> str:
    """What a Qt item the collector freed was: its text (a label's, a text item's) and what
    held it in its cycle (the garbage that refers to it, a dict by its owner's type): the
    view that dropped it, without a rerun."""
    import gc

    text = getattr(obj, "text", None)
    if callable(text):
        text = None
    if text is None and hasattr(obj, "toPlainText"):
        text = obj.toPlainText()
    ids = {id(o) for o in garbage}
    holders = []
    for ref in gc.get_referrers(obj):
        if id(ref) not in ids:
            continue
        if isinstance(ref, dict):
            owners = [type(o).__qualname__ for o in gc.get_referrers(ref)
                      if id(o) in ids and getattr(o, "__dict__", None) is ref]
            keys = [k for k, v in ref.items() if v is obj][:2]
            holders.append(f"{'/'.join(owners) or 'dict'}.{'/'.join(map(str, keys))}")
        else:
            holders.append(type(ref).__qualname__)
    said = "" if text is None else f" {str(text)[:60]!r}"
    return (f"{type(obj).__qualname__}{said}, held by "
            f"{', '.join(sorted(set(holders))[:6]) or 'nothing in its cycle'}")


class GuiFuzzer:
    """Seeded random actions against a shown :class:`MainWindow` (see the module doc).

    ``tmp``: a folder for saved scenes and exports. Each action is a method ``a_<name>``;
    :data:`WEIGHTS` says how often each is picked.
    """

    WEIGHTS = {
        "lesson": 4, "language": 2, "theme": 2, "panel": 3, "heatmap": 2, "text_size": 3,
        "slider": 10, "entry": 8, "spin": 3, "combo": 6, "add_run": 3, "remove_run": 3,
        "run_card": 4, "expression": 5, "map_click": 4, "map_drag": 4, "map_wheel": 4,
        "key": 8, "playback": 6, "scrub": 4, "frames": 6, "button": 4, "scroll": 3,
        "save_open": 2, "bad_file": 1, "export": 1, "full_screen": 1, "dock": 1,
        "resize": 2, "projector": 1, "map_menu": 2,
    }

    def __init__(self, window, seed: int = 0, tmp: Path | None = None):
        self.win = window
        self.seed = seed
        self.rng = random.Random(seed)
        self.tmp = Path(tmp) if tmp is not None else Path.cwd()
        self.report = FuzzReport(seed=seed)
        self._action = "setup"
        self._names = list(self.WEIGHTS)
        self._weights = [self.WEIGHTS[n] for n in self._names]
        self._saved: list[Path] = []
        if hasattr(window, "ask_unsaved"):
            # "unsaved changes?" is a modal box: the fuzzer answers it (never "save", which
            # opens a file dialog), as a user picks an answer, and counts the questions
            def answer() -> str:
                self.report.counts["(asked: unsaved)"] = self.report.counts.get("(asked: unsaved)", 0) + 1
                return self.rng.choice(("discard", "discard", "cancel"))

            window.ask_unsaved = answer
        #: ``profile=True``: keep a cProfile of the slowest instance of each action label
        self.profile = False
        self.profiles: dict[str, cProfile.Profile] = {}
        #: ``watch_collector=True``: a widget or graphics item freed by Python's cyclic
        #: collector counts as an exception (the collector empties the dicts of what it
        #: frees before Qt deletes it, and the dying item's last events meet that: see
        #: gdviz.ui.views.items.delete_later). The collector then keeps what it would free
        #: (gc.DEBUG_SAVEALL): for short runs.
        self.watch_collector = False
        self._garbage_seen = 0

    # ------------------------------------------------------------------ harness
    def _excepthook(self, etype, value, tb) -> None:
        text = "".join(traceback.format_exception(etype, value, tb))
        # where it was raised, in the window's words (a lifetime bug needs the object)
        last = tb
        while last is not None and last.tb_next is not None:
            last = last.tb_next
        obj = last.tb_frame.f_locals.get("self") if last is not None else None
        if obj is not None:
            opts = getattr(obj, "__dict__", {}).get("opts")
            text += (f"  raised in a {type(obj).__module__}.{type(obj).__qualname__}"
                     + (f", opts keys {sorted(opts)}" if isinstance(opts, dict) else "") + "\n")
        text += f"  action {self.report.actions} ({self._label}); {self._state()}\n"
        self.report.exceptions.append(Incident(self._action, text))

    def _message_handler(self, mode, context, message) -> None:
        if mode in (QtMsgType.QtDebugMsg, QtMsgType.QtInfoMsg):
            return
        if any(a in message for a in ALLOWED_WARNINGS):
            return
        self.report.warnings.append(Incident(self._action, message))

    def _showwarning(self, message, category, filename, lineno, file=None, line=None) -> None:
        if not issubclass(category, RuntimeWarning):
            self._other_warning(message, category, filename, lineno, file, line)
            return
        text = warnings.formatwarning(message, category, filename, lineno, line).strip()
        self.report.warnings.append(Incident(self._action, text))

    @contextmanager
    def hooked(self):
        """Count exceptions (``sys.excepthook``), Qt warnings (a message handler) and
        RuntimeWarnings (each, not once per place) while inside; the previous hook, handler
        and warning filters are back afterwards."""
        old_hook = sys.excepthook
        sys.excepthook = self._excepthook
        old_handler = qInstallMessageHandler(self._message_handler)
        old_debug = gc.get_debug()
        if self.watch_collector:
            gc.set_debug(old_debug | gc.DEBUG_SAVEALL)
            self._garbage_seen = len(gc.garbage)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always", RuntimeWarning)
                self._other_warning = warnings.showwarning
                warnings.showwarning = self._showwarning
                yield self.report
        finally:
            if self.watch_collector:
                gc.set_debug(old_debug)
                self._check_collected()
                del gc.garbage[:]
            qInstallMessageHandler(old_handler)
            sys.excepthook = old_hook

    def _check_collected(self) -> None:
        """Each widget or graphics item the collector has freed (kept, with
        ``watch_collector``) since the last check, counted as an exception."""
        if not self.watch_collector:
            return
        import shiboken6
        from PySide6.QtWidgets import QGraphicsItem, QWidget

        new = gc.garbage[self._garbage_seen:]
        self._garbage_seen = len(gc.garbage)
        freed, which = {}, []
        for obj in new:
            if isinstance(obj, (QWidget, QGraphicsItem)) and shiboken6.isValid(obj):
                name = f"{type(obj).__module__}.{type(obj).__qualname__}"
                freed[name] = freed.get(name, 0) + 1
                which.append(_describe_freed(obj, new))
        if freed:
            what = ", ".join(f"{n} x{k}" for n, k in sorted(freed.items()))
            self.report.exceptions.append(Incident(
                self._action, f"freed by Python's cyclic collector, not deleted by Qt: {what}"
                + "".join(f"\n    {w}" for w in which)))

    def _close_modals(self) -> None:
        """A modal box the fuzzer did not expect would wait for a click forever: count it
        as an exception and close it."""
        w = QApplication.activeModalWidget()
        if w is not None and w is not self.win:
            self.report.exceptions.append(Incident(self._label, f"unexpected modal {type(w).__name__}: "
                                                   f"{w.windowTitle()!r}"))
            w.close()

    def run(self, n: int) -> FuzzReport:
        """``n`` seeded actions; returns the report (also at ``self.report``)."""
        watchdog = QTimer()
        watchdog.setInterval(200)
        watchdog.timeout.connect(self._close_modals)
        watchdog.start()
        with self.hooked():
            for _ in range(n):
                name = self.rng.choices(self._names, self._weights)[0]
                self.do(name)
            self._action = "teardown"
            self.win.session.pause()
            self._flush()
        watchdog.stop()
        return self.report

    def do(self, name: str) -> None:
        """Run action ``name`` once, timed (its label may be refined by the action)."""
        self._action = name
        self._label = name
        self._split = False
        self._before = self._state() if TURN_FROM else ""
        prof = cProfile.Profile() if self.profile else None
        # a hang in a long run leaves the stacks of every thread on stderr (pytest -s)
        faulthandler.dump_traceback_later(HANG_S, repeat=True)
        t0 = time.perf_counter()
        c0 = time.thread_time()
        self._arm()
        if TRACE:  # GDVIZ_FUZZ_TRACE=1: each action's name on stderr as it starts (a crash's last)
            sys.stderr.write(f"fuzz action {self.report.actions}: {name}\n")
            sys.stderr.flush()
        try:
            if prof is not None:
                prof.enable()
            with self._one_turn():
                getattr(self, f"a_{name}")()
            self._flush()
            self._check_collected()
        except Exception:  # noqa: BLE001 - counted, the run goes on
            self.report.exceptions.append(Incident(self._label, traceback.format_exc()))
        finally:
            faulthandler.cancel_dump_traceback_later()
            if prof is not None:
                prof.disable()
        dt = time.perf_counter() - t0
        cpu = time.thread_time() - c0
        if prof is not None and dt > self.report.blocks.get(self._label, -1.0):
            self.profiles[self._label] = prof
        self._record(self._label, dt, cpu)

    def _record(self, label: str, dt: float, cpu: float = 0.0) -> None:
        r = self.report
        r.actions += 1
        r.counts[label] = r.counts.get(label, 0) + 1
        if self._split:
            return  # made of events timed one by one (typing, a drag, wheel turns)
        self._record_turn(label)
        if dt > r.blocks.get(label, -1.0):
            r.blocks[label] = dt
            r.cpu[label] = cpu

    # ---- single turns (under a TurnApp only) -------------------------------------------
    @property
    def _turn_app(self):
        app = QApplication.instance()
        return app if hasattr(app, "longest") and hasattr(app, "arm") else None

    def _arm(self) -> None:
        app = self._turn_app
        if app is not None:
            app.arm()

    @contextmanager
    def _one_turn(self):
        """The calls inside are one turn of the event loop, as the handler of the click,
        key or drag event they stand for is (a split action's parts each are one); the
        events they leave queued are turns of their own (see TurnApp)."""
        app = self._turn_app
        if app is None:
            yield
            return
        app.depth += 1
        t0 = time.perf_counter()
        c0 = time.thread_time()
        p0 = time.process_time()
        g0 = getattr(app, "gc_total", 0.0)
        app.turn_t0 = t0  # (measure_fuzz's WATCH samples the stack of a long turn)
        try:
            yield
        finally:
            app.turn_t0 = None
            app.depth -= 1
            dt = time.perf_counter() - t0
            if dt > app.longest:
                # (its CPU time: far below the wall time, the machine was busy elsewhere)
                app.longest = dt
                from measure_common import cpu_note

                app.longest_what = ("the action, " + cpu_note(c0, p0)
                                    + (app.gc_note(g0) if hasattr(app, "gc_note") else ""))

    @contextmanager
    def _own_turns(self):
        """Inside an action: the part inside and the events it leaves are turns of their
        own (a split action: each key, each move of a drag is an event of the loop)."""
        app = self._turn_app
        depth = app.depth if app is not None else 0
        if app is not None:
            app.depth = 0
            app.arm()
        try:
            yield
        finally:
            if app is not None:
                app.depth = depth

    def _record_turn(self, label: str) -> None:
        app = self._turn_app
        if app is not None and app.longest > SLOW_TURN:
            came = f" from ({self._before})" if self._before else ""
            self.report.slow.append((label, app.longest, f"{app.longest_what} ({self._state()}){came}"))
        if app is not None and app.longest > self.report.turns.get(label, -1.0):
            self.report.turns[label] = app.longest
            self.report.turn_what[label] = f"{app.longest_what} ({self._state()})"

    def _state(self) -> str:
        """What the window shows, in a few words (where a long turn happened)."""
        s = self.win.session
        scene = getattr(self.win, "_scene", None)
        title = scene.title.get("en")[:24] if scene is not None else "no lesson"
        w = self.win
        return (f"{title}; {s.kind}, {s.n_runs} runs, step {s.t}, "
                f"text x{getattr(w, 'font_scale', 1.0):.2f}, {w.width()}x{w.height()}, "
                f"map {s.map_layer}/{s.map_mode}/{s.hyper_axis}, action {self.report.actions}")

    @staticmethod
    def _flush() -> None:
        app = QApplication.instance()
        app.processEvents()
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        app.processEvents()

    def _timed(self, label: str, fn) -> None:
        """Time ``fn`` + processEvents as one block of its own (inside a longer action,
        such as typing, where each key is its own event)."""
        self._split = True
        with self._own_turns():
            t0 = time.perf_counter()
            c0 = time.thread_time()
            with self._one_turn():
                fn()
            self._flush()
            dt = time.perf_counter() - t0
            self._record_turn(label)
        if dt > self.report.blocks.get(label, -1.0):
            self.report.blocks[label] = dt
            self.report.cpu[label] = time.thread_time() - c0

    def _visible(self, widgets):
        return [w for w in widgets if w.isVisible() and w.isEnabled()]

    def _sliders(self):
        from gdviz.ui.widgets import HyperSlider

        return self._visible(self.win.controls.findChildren(HyperSlider))

    def _type(self, widget, text: str, label: str) -> None:
        """Focus ``widget``, select all, type ``text`` key by key, then Enter; each key and
        the Enter are timed as blocks of their own (``label``/key, ``label``/enter)."""
        if not widget.isVisible():
            return
        self._split = True
        widget.setFocus(Qt.FocusReason.MouseFocusReason)
        QTest.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        QTest.keyClick(widget, Qt.Key.Key_Delete)
        if len(text) > PASTE_OVER:
            # nobody types 5 KB: it is pasted (Ctrl+V), one event
            QApplication.clipboard().setText(text)
            self._timed(f"{label}/paste", lambda: QTest.keyClick(
                widget, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier))
        else:
            worst = 0.0
            key_label = f"{label}/key"
            for ch in text:
                with self._own_turns():
                    t0 = time.perf_counter()
                    with self._one_turn():
                        QTest.keyClick(widget, ch)
                    worst = max(worst, time.perf_counter() - t0)
                    self._record_turn(key_label)
            if worst > self.report.blocks.get(key_label, -1.0):
                self.report.blocks[key_label] = worst
        self._timed(f"{label}/enter", lambda: QTest.keyClick(widget, Qt.Key.Key_Return))
        # leave the box, as the user clicks elsewhere next (editingFinished on focus out)
        self._timed(f"{label}/leave", lambda: widget.clearFocus())

    def _extreme_text(self) -> str:
        r = self.rng.random()
        if r < 0.08:
            return "9" * 5000  # a 5 KB string
        if r < 0.12:
            return "".join(self.rng.choice("0123456789e.-+x ") for _ in range(self.rng.randint(1, 40)))
        return self.rng.choice(EXTREME_NUMBERS)

    # ------------------------------------------------------------------ menus
    def a_lesson(self) -> None:
        menu = self.win.lessons_menu
        menu.aboutToShow.emit()  # the titles are read when the menu opens
        acts = [a for a in menu.actions() if a.isEnabled() and not a.isSeparator()]
        if acts:
            act = self.rng.choice(acts)
            self._label = f"lesson {act.text()[:24]}"
            act.trigger()

    def a_language(self) -> None:
        lang = self.rng.choice(list(self.win.language_actions))
        self._label = f"language {lang}"
        self.win.language_actions[lang].trigger()

    def a_theme(self) -> None:
        name = self.rng.choice(list(self.win.theme_actions))
        self._label = f"theme {name}"
        self.win.theme_actions[name].trigger()

    def a_panel(self) -> None:
        name = self.rng.choice(list(self.win.panel_actions))
        self._label = f"panel {name}"
        self.win.panel_actions[name].trigger()

    def a_heatmap(self) -> None:
        self.win.heatmap_action.trigger()

    def a_text_size(self) -> None:
        """Ctrl+= or Ctrl+- (sometimes to the extreme), through the shortcut."""
        bigger = self.rng.random() < 0.5
        k = Qt.Key.Key_Equal if bigger else Qt.Key.Key_Minus
        times = self.rng.choice((1, 1, 1, 12))  # 12 presses reach either end
        self._label = f"text size {'Ctrl+=' if bigger else 'Ctrl+-'}"
        self.win.activateWindow()
        target = self.win.landscape_view
        for _ in range(times):
            self._timed(self._label, lambda: QTest.keyClick(target, k, Qt.KeyboardModifier.ControlModifier))

    def a_full_screen(self) -> None:
        self.win.fullscreen_action.trigger()

    def a_resize(self) -> None:
        """The window to a projector's, a laptop's or a small size (every view is resized,
        hidden ones too: a hidden plane view once sized itself from a model it had not)."""
        size = self.rng.choice(((1280, 720), (1920, 1080), (1024, 600), (800, 600), (1600, 900)))
        self._label = f"resize {size[0]}x{size[1]}"
        self.win.resize(*size)

    def a_projector(self) -> None:
        self.win.projector_action.trigger()

    def a_dock(self) -> None:
        """A dock's ✕ (loss or step), or the controls' View menu toggle."""
        w = self.win
        choice = self.rng.choice(("loss", "step", "controls"))
        self._label = f"dock {choice}"
        if choice == "controls":
            w.controls_dock.toggleViewAction().trigger()
        else:
            dock = w.loss_dock if choice == "loss" else w.step_dock
            if dock.isVisible():
                dock.close()

    # ------------------------------------------------------------------ controls
    def a_slider(self) -> None:
        sliders = self._sliders()
        if not sliders:
            return
        hs = self.rng.choice(sliders)
        s = hs.slider
        where = self.rng.choice(("min", "max", "random"))
        self._label = f"slider {hs.name} {where}"
        lo, hi = s.minimum(), s.maximum()
        v = lo if where == "min" else hi if where == "max" else self.rng.uniform(lo, hi)
        s.setValue(v)

    def a_entry(self) -> None:
        sliders = self._sliders()
        if not sliders:
            return
        hs = self.rng.choice(sliders)
        text = self._extreme_text()
        self._label = f"entry {hs.name}"
        self._type(hs.entry, text, self._label)

    def a_spin(self) -> None:
        spins = self._visible(self.win.controls.findChildren(QAbstractSpinBox))
        if not spins:
            return
        sp = self.rng.choice(spins)
        self._label = f"spin {sp.objectName() or type(sp).__name__}"
        if self.rng.random() < 0.5:
            self._type(sp, self._extreme_text()[:200], self._label)
        else:
            sp.setValue(self.rng.choice((sp.minimum(), sp.maximum())))

    def a_combo(self) -> None:
        combos = self._visible(self.win.controls.findChildren(QComboBox))
        if not combos:
            return
        c = self.rng.choice(combos)
        model = c.model()
        picks = [i for i in range(c.count())
                 if model.flags(model.index(i, 0)) & Qt.ItemFlag.ItemIsEnabled
                 and not c.itemData(i, Qt.ItemDataRole.AccessibleDescriptionRole) == "separator"]
        if not picks:
            return
        i = self.rng.choice(picks)
        self._label = f"combo {c.objectName() or '?'} {str(c.itemData(i))[:20]}"
        c.setCurrentIndex(i)
        c.activated.emit(i)

    def a_add_run(self) -> None:
        acts = self.win.controls.runs.add_menu.actions()
        act = self.rng.choice(acts)
        self._label = f"add run {act.data()}"
        act.trigger()

    def a_remove_run(self) -> None:
        cards = self.win.controls.runs.cards
        if cards:
            card = self.rng.choice(cards)
            if card.remove.isEnabled():
                card.remove.click()

    def a_run_card(self) -> None:
        cards = self.win.controls.runs.cards
        if not cards:
            return
        card = self.rng.choice(cards)
        what = self.rng.choice(("enabled", "select", "dup_small", "dup_big", "more"))
        self._label = f"run card {what}"
        getattr(card, what).click()

    def a_expression(self) -> None:
        prob = self.win.controls.problem
        if not prob.expr.isVisible():
            i = prob.combo.findData(None)  # "Custom…"

            def pick() -> None:
                prob.combo.setCurrentIndex(i)
                prob.combo.activated.emit(i)

            # the pick is the handler of one click, and what it leaves queued are turns of
            # their own (flushed inside the action's own turn, the pick and the map's first
            # refresh and paint after it were timed as one turn)
            self._timed("expression/custom", pick)
        r = self.rng.random()
        if r < 0.75:
            text = self.rng.choice(EXPRESSIONS)
        elif r < 0.9:
            text = "".join(self.rng.choice("xy+-*/^()0123456789.e sincoxpl,")
                           for _ in range(self.rng.randint(0, 60)))
        else:
            text = "x^2 + " + "+".join(["y"] * 2500)  # a very long expression
        self._type(prob.expr, text, "expression")

    def a_button(self) -> None:
        """Any visible push or tool button in the controls (not the file dialogs')."""
        c = self.win.controls
        buttons = [b for b in self._visible(c.findChildren(QPushButton) + c.findChildren(QToolButton))
                   if not any(d in b.objectName().lower() for d in DIALOG_BUTTONS)
                   and b.menu() is None]
        checks = self._visible(self.win.controls.findChildren(QCheckBox))
        pool = buttons + checks
        if pool:
            b = self.rng.choice(pool)
            self._label = f"button {b.objectName() or b.text()[:16]}"
            b.click()

    def a_scroll(self) -> None:
        """Drag the controls' scroll bar (a few steps, as a drag moves it)."""
        bar = self.win.controls.verticalScrollBar()
        self._label = "scroll controls"
        for _ in range(self.rng.randint(1, 6)):
            v = self.rng.randint(bar.minimum(), max(bar.maximum(), bar.minimum()))
            self._timed(self._label, lambda v=v: bar.setValue(v))

    # ------------------------------------------------------------------ the map
    def _map_point(self) -> QPointF:
        vp = self.win.landscape_view.viewport()
        return QPointF(self.rng.uniform(0, max(vp.width() - 1, 1)),
                       self.rng.uniform(0, max(vp.height() - 1, 1)))

    def _mouse(self, kind, pos: QPointF, button, buttons, mods=Qt.KeyboardModifier.NoModifier) -> None:
        vp = self.win.landscape_view.viewport()
        ev = QMouseEvent(kind, pos, vp.mapToGlobal(pos), button, buttons, mods)
        QApplication.sendEvent(vp, ev)

    def a_map_click(self) -> None:
        vp = self.win.landscape_view.viewport()
        p = self._map_point()
        mods = self.rng.choice((Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier))
        double = self.rng.random() < 0.1
        self._label = "map double-click" if double else "map click"
        if double:
            QTest.mouseDClick(vp, Qt.MouseButton.LeftButton, mods, p.toPoint())
        else:
            QTest.mouseClick(vp, Qt.MouseButton.LeftButton, mods, p.toPoint())

    def a_map_drag(self) -> None:
        L, R, N = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton, Qt.MouseButton.NoButton
        button = self.rng.choice((L, L, R))
        self._label = f"map drag {'left' if button == L else 'right'}"
        p = self._map_point()
        self._timed(self._label, lambda: self._mouse(QEvent.Type.MouseButtonPress, p, button, button))
        for _ in range(self.rng.randint(2, 8)):
            p = self._map_point() if self.rng.random() < 0.3 else p + QPointF(
                self.rng.uniform(-80, 80), self.rng.uniform(-80, 80))
            self._timed(self._label, lambda p=p: self._mouse(QEvent.Type.MouseMove, p, N, button))
        self._timed(self._label, lambda: self._mouse(QEvent.Type.MouseButtonRelease, p, button, N))

    def a_map_wheel(self) -> None:
        vp = self.win.landscape_view.viewport()
        p = self._map_point()
        delta = self.rng.choice((120, -120, 1200, -1200, 12000, -12000))
        self._label = "map wheel"
        for _ in range(self.rng.choice((1, 1, 5, 30))):
            ev = QWheelEvent(p, vp.mapToGlobal(p), QPoint(0, 0), QPoint(0, delta),
                             Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                             Qt.ScrollPhase.NoScrollPhase, False)
            self._timed(self._label, lambda ev=ev: QApplication.sendEvent(vp, ev))

    def a_map_menu(self) -> None:
        """An entry of the map's right-click menu (its submenus' too), as shown: heatmap,
        whole surface, map mode, hyperparameter map."""
        def shown(menu):
            for a in menu.actions():
                if not a.isVisible() or not a.isEnabled() or a.isSeparator():
                    continue
                if a.menu() is not None:
                    yield from shown(a.menu())
                else:
                    yield a

        acts = list(shown(self.win.landscape_view.vb.menu))
        if acts:
            act = self.rng.choice(acts)
            self._label = f"map menu {act.text()[:24]}"
            act.trigger()

    # ------------------------------------------------------------------ playback
    def a_key(self) -> None:
        """Space, →, ←, R (window shortcuts), H, pressed to whatever has the focus."""
        k = self.rng.choice((Qt.Key.Key_Space, Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_R,
                             Qt.Key.Key_Right, Qt.Key.Key_H))
        self._label = f"key {QTestKeyName.get(k, str(k))}"
        self.win.activateWindow()
        target = QApplication.focusWidget() or self.win
        if not target.isVisible():
            target = self.win
        QTest.keyClick(target, k)

    def a_playback(self) -> None:
        pb = self.win.controls.playback
        b = self.rng.choice((pb.play, pb.step, pb.back, pb.reset, pb.step))
        self._label = f"playback {b.objectName()}"
        b.click()

    def a_scrub(self) -> None:
        tl = self.win.controls.playback.timeline
        self._label = "scrub"
        for _ in range(self.rng.randint(1, 5)):
            v = self.rng.randint(tl.minimum(), max(tl.maximum(), tl.minimum()))
            self._timed(self._label, lambda v=v: tl.setValue(v))

    def a_frames(self) -> None:
        """Let the clock run a few frames (what the frame timer does while playing)."""
        w = self.win
        if not w.session.playing and self.rng.random() < 0.5:
            w.session.play()
        self._label = "frames"
        for _ in range(self.rng.randint(1, 10)):
            if not w.session.playing:
                break
            self._timed(self._label, w._on_frame)

    # ------------------------------------------------------------------ files
    def a_save_open(self) -> None:
        w = self.win
        if self._saved and self.rng.random() < 0.5:
            path = self.rng.choice(self._saved)
            self._label = "open saved scene"
            w.open_scene_asking(path)  # (File ▸ Open)
        else:
            path = self.tmp / f"fuzz_{len(self._saved) % 8}.toml"
            self._label = "save scene"
            # (File ▸ Save: written on the worker; waited for, untimed, as a user would)
            started = []
            self._timed(self._label, lambda: started.append(w.save_scene_aside(path)))
            if started[0] and w._finish_saves() and path not in self._saved:
                self._saved.append(path)

    def a_bad_file(self) -> None:
        w = self.win
        kind = self.rng.choice(("missing", "garbage", "binary", "empty", "folder", "truncated"))
        self._label = f"open bad file ({kind})"
        path = self.tmp / f"bad_{kind}.toml"
        if kind == "missing":
            path = self.tmp / "no_such_scene.toml"
        elif kind == "garbage":
            path.write_text("[[[ this is not toml = \n" * 3)
        elif kind == "binary":
            path.write_bytes(bytes(self.rng.randrange(256) for _ in range(2048)))
        elif kind == "empty":
            path.write_text("")
        elif kind == "folder":
            path = self.tmp
        elif kind == "truncated" and self._saved:
            text = self.rng.choice(self._saved).read_text()
            path.write_text(text[: self.rng.randrange(max(len(text), 1))])
        # (File ▸ Open; the file written above is the fuzz's own work, not timed)
        self._timed(self._label, lambda: w.open_scene_asking(path))

    def a_export(self) -> None:
        """File ▸ Export: a tiny clip, started, a few frames, cancelled, closed."""
        w = self.win
        self._label = "export"
        box = []
        self._timed("export open", lambda: box.append(w.export_animation()))
        dlg = box[0]
        dlg.size.setCurrentIndex(0)
        fmt = self.rng.choice(("gif", "mp4", "png", "csv"))
        i = dlg.format.findData(fmt)
        dlg.format.setCurrentIndex(i)
        dlg.path.setText(str((self.tmp / "fuzz_export").with_suffix("." + fmt)))
        dlg.steps.setValue(self.rng.choice((0, 1, 3, 8)))
        dlg.spf.setValue(self.rng.choice((1, 2)))
        self._timed("export start", dlg.start)
        for _ in range(self.rng.randint(0, 3)):
            if not dlg.running():
                break
            self._timed("export frame", lambda: None)  # the dialog's 0 ms timer runs a frame
        self._timed("export cancel", dlg._cancel_or_close)
        for _ in range(50):
            if not dlg.running():
                break
            self._flush()
        self._timed("export close", dlg.close)


QTestKeyName = {Qt.Key.Key_Space: "Space", Qt.Key.Key_Right: "Right", Qt.Key.Key_Left: "Left",
                Qt.Key.Key_R: "R", Qt.Key.Key_H: "H"}


def env_actions(default: int) -> int:
    """``GDVIZ_FUZZ_ACTIONS`` (a long run on demand), else ``default``."""
    import os

    try:
        return max(int(os.environ.get("GDVIZ_FUZZ_ACTIONS", default)), 1)
    except ValueError:
        return default


