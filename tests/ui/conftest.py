"""Fixtures for the UI tests: offscreen Qt, pyqtgraph configured, private settings, the
app-wide theme and font put back after each test, a fresh session."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# the helpers beside the tests (measure_common's flush, the fuzzer) are importable
sys.path.insert(0, os.path.dirname(__file__))

import pytest
from PySide6.QtCore import QSettings


def _hold_added_widgets() -> list:
    """qtbot.addWidget also holds the widget (strongly) until the test's teardown, when
    :func:`collect_between_tests` lets it go. pytest-qt holds it weakly: a widget whose
    wrapper was left in a reference cycle when the test returned was collected by the next
    collection, which could fall in pytest-qt's events right after the call, in the middle
    of that widget's own event (the first test of test_classify_ui.py, run with two more
    files: its PlaneView's axes deleted under the plot's running resizeEvent, a segfault).
    Closed first, it is deleted between tests, outside any event."""
    from pytestqt.qtbot import QtBot

    held: list = []
    real = QtBot.addWidget

    def add_widget(self, widget, **kwargs):
        held.append(widget)
        return real(self, widget, **kwargs)

    QtBot.addWidget = QtBot.add_widget = add_widget
    return held


_HELD_WIDGETS = _hold_added_widgets()


@pytest.fixture(autouse=True)
def collect_between_tests(qapp):
    """Collect a test's garbage after its widgets are closed, between tests: a cyclic
    collection that fell in the middle of a later test's event (a dead PlaneView's axis
    label in a pyqtgraph resizeEvent) crashed the process. Set up first, torn down last.

    What survives is then frozen (``gc.freeze``): later collections leave it alone. The
    earlier tests' windows stay alive in the suite (thousands of widgets by the end), and
    every collection walked them all: 0.4 s per collection early in tests/ui, 1.0-1.2 s by
    test_picture.py, 181 s in all before test_plane_worker.py (a ``gc.callbacks`` probe).
    A frozen cycle that dies later is never collected: a test process's leak, and no
    collection of an earlier test's object falls in a later test's event."""
    yield
    import gc

    qapp.processEvents()  # deleteLater()s first
    _HELD_WIDGETS.clear()  # (closed by pytest-qt by now)
    gc.collect()
    gc.freeze()


@pytest.fixture
def earlier_windows_deleted(qapp):
    """The widgets that earlier tests closed are deleted now, before the test. pytest-qt
    closes a test's widgets and asks for their deletion (``deleteLater``), which happens at
    the next test's first event loop: a test that times a worker (the live slice, the plane
    view's picture) then waited, in the full suite, for seconds of other windows' teardown
    (2.2 s here after test_picture.py: the worker's finished picture stayed queued behind
    it; past 10 s in CI)."""
    from PySide6.QtCore import QEvent

    qapp.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qapp.processEvents()


@pytest.fixture(autouse=True)
def private_settings(tmp_path, qapp):
    """Redirect every QSettings (INI, user scope) to tmp_path: tests never touch the user's."""
    from gdviz.ui import theme

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "cfg"))
    qapp.setOrganizationName("gdviz-test")
    qapp.setApplicationName("gdviz-test")
    theme.configure_pyqtgraph()
    font, style, palette = qapp.font(), qapp.styleSheet(), qapp.palette()
    state = dict(theme._state)
    yield tmp_path / "cfg"
    # the font scale and the theme are app-wide: put them back for the next test
    theme._state.update(theme=state["theme"], scale=state["scale"], text=state["text"],
                        projector=state["projector"])
    qapp.setStyleSheet(style)
    qapp.setPalette(palette)
    qapp.setFont(font)


@pytest.fixture(autouse=True)
def live_slices_on_the_spot(request, monkeypatch):
    """Paused, the map waits up to ``LIVE_SYNC_MS`` for a live slice from its worker and
    draws a slower one when it lands, which would make what a test sees right after a step
    depend on the machine's speed: every test but the fuzz and those marked ``live_defer``
    (which set it themselves) waits until the slice is there (an infinite wait)."""
    if request.node.get_closest_marker("live_defer") is None and "fuzz" not in request.node.name:
        from gdviz.ui.views import landscape_view

        monkeypatch.setattr(landscape_view, "LIVE_SYNC_MS", float("inf"))


@pytest.fixture(autouse=True)
def unsaved_questions(monkeypatch):
    """No modal box in tests: "Save changes?" is answered "discard" and counted here (a
    test that needs another answer patches ``MainWindow.ask_unsaved`` itself)."""
    from gdviz.ui.main_window import MainWindow

    asked: list = []

    def answer(self):
        asked.append(self)
        return "discard"

    monkeypatch.setattr(MainWindow, "ask_unsaved", answer)
    return asked


@pytest.fixture
def settings(private_settings):
    """A settings store under tmp_path, as MainWindow uses it."""
    from gdviz.ui.main_window import app_settings

    return app_settings()


@pytest.fixture
def session():
    """The default scene: Rosenbrock, SGD/Momentum/RMSProp/Adam from one start (numpy twins)."""
    from gdviz.core.session import Session

    return Session()


@pytest.fixture
def window(qtbot, session, settings):
    """The real main window at 1280×720, shown offscreen."""
    from gdviz.ui.main_window import MainWindow

    win = MainWindow(session, settings=settings)
    qtbot.addWidget(win)
    win.resize(1280, 720)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.frame_timer.stop()
    session.pause()
