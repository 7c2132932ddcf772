"""Projector mode (View ▸ Projector mode, F5): the docks hide, the map takes the room,
the plots grow, and a second press puts the window back exactly as it was."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gdviz.ui import theme


def _settle(qtbot, win) -> None:
    qtbot.waitUntil(win.layout_settled)
    QApplication.processEvents()


def _window_state(win):
    return (bytes(win.saveGeometry()), bytes(win.saveState()), win.isFullScreen(),
            win.font_scale, win.controls_dock.isVisible(), win.loss_dock.isVisible(),
            win.controls_dock.width(), win.loss_dock.height(), win.caption.expanded)


def test_f5_and_the_menu_item_toggle_projector_mode(window, qtbot):
    assert window.projector_action.shortcut().toString() == "F5"
    assert window.projector_action in window.view_menu.actions()
    before_map = window.landscape_view.width() * window.landscape_view.height()
    marks = theme.font_scale()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    _settle(qtbot, window)
    assert window.projector and window.projector_action.isChecked()
    assert not window.controls_dock.isVisible() and not window.loss_dock.isVisible()
    assert window.isFullScreen()
    # plots' text, markers and lines grow; the map does not shrink
    assert theme.font_scale() > marks
    assert window.landscape_view.width() * window.landscape_view.height() >= before_map
    qtbot.keyClick(window, Qt.Key.Key_F5)
    _settle(qtbot, window)
    assert not window.projector and not window.projector_action.isChecked()
    assert theme.font_scale() == pytest.approx(marks)


@pytest.mark.parametrize("full_screen", [False, True])
@pytest.mark.parametrize("scale", [1.0, 1.5])
def test_a_second_press_restores_the_window_exactly(window, qtbot, full_screen, scale):
    window.set_font_scale(scale)
    window.resizeDocks([window.controls_dock], [380], Qt.Orientation.Horizontal)
    window.caption.set_expanded(False)
    if full_screen:
        window.showFullScreen()
    _settle(qtbot, window)
    from gdviz.ui.main_window import CONTROLS_SHARE

    qtbot.waitUntil(lambda: window.controls_dock.width() <= CONTROLS_SHARE * window.width() + 1)
    before = _window_state(window)
    window.set_projector(True)
    _settle(qtbot, window)
    assert _window_state(window) != before
    window.set_projector(False)
    _settle(qtbot, window)
    assert _window_state(window) == before


def test_the_playback_keys_work_in_projector_mode(window, qtbot, session):
    window.set_projector(True)
    _settle(qtbot, window)
    window.activateWindow()
    t = session.t
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert session.t == t + 1
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert session.playing
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not session.playing


def test_docks_stay_hidden_while_the_model_changes(window, qtbot, session):
    window.set_projector(True)
    _settle(qtbot, window)
    session.set_view_options(panels=tuple(session.panels))  # same panels: an event anyway
    window._on_panels_changed()
    session.select(0)
    assert not window.loss_dock.isVisible() and not window.step_dock.isVisible()
    window.set_projector(False)
    _settle(qtbot, window)
    assert window.loss_dock.isVisible()


def test_the_caption_unfolds_whole_in_projector_mode(window, qtbot):
    window.set_caption("A title", " ".join(["A long caption that needs many lines."] * 6))
    _settle(qtbot, window)
    assert not window.caption.expanded
    window.set_projector(True)
    _settle(qtbot, window)
    body = window.caption.body
    assert window.caption.expanded
    assert window.caption.scroll.height() >= body.heightForWidth(body.width())
