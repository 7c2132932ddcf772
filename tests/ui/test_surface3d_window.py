"""The window where no OpenGL context can be made (the tests' offscreen platform): the
3-D choices are disabled and say why in one line, and the rest of the app runs."""

from __future__ import annotations


def test_map_menu_without_gl_says_why(window, session):
    from gdviz.ui import gl_probe

    m = window.map_menu
    assert m.gl_ok is None  # not probed at startup
    gl_probe._cache.clear()
    m.aboutToShow.emit()  # the menu opens: the probe runs
    assert m.gl_ok is False
    assert m.mode_actions["2d"].isEnabled() and m.mode_actions["2d"].isChecked()
    assert not m.mode_actions["3d"].isEnabled() and not m.mode_actions["both"].isEnabled()
    reason = m.reason_action.text()
    assert m.reason_action.isVisible() and not m.reason_action.isEnabled()
    assert "OpenGL" in reason and "offscreen" in reason and "\n" not in reason
    assert m.mode_actions["3d"].toolTip() == reason
    assert "surface3d" not in window.panel_actions  # View ▸ Map shows it, not Panels


def test_a_scene_asking_for_3d_keeps_the_map(window, session, qtbot):
    # a scene saved where there was OpenGL opens here: the model keeps its choice, the
    # window shows the contour map, and nothing imports OpenGL
    import sys

    session.set_view3d(map_mode="3d", camera=(10.0, 20.0, 6.0))
    assert window.picture.surface3d_view is None
    assert window.landscape_view.isVisibleTo(window)
    assert "OpenGL" in window.picture.missing_3d
    assert "pyqtgraph.opengl" not in sys.modules or window.picture.surface3d_view is None
    session.step(5)
    assert session.t == 5


def test_export_dialog_disables_the_3d_panel(window, session, qtbot):
    from gdviz.ui.export_dialog import ExportDialog, default_panels

    session.set_view3d(map_mode="both")
    assert "surface3d" not in default_panels(session)  # no OpenGL: not what the window shows
    dlg = ExportDialog(session, parent=window)
    qtbot.addWidget(dlg)
    cb = dlg.panels["surface3d"]
    assert not cb.isEnabled() and not cb.isChecked() and "OpenGL" in cb.toolTip()
