"""The window where no OpenGL context can be made (the tests' offscreen platform): the
3-D choices are disabled and say why in one line, and the rest of the app runs."""

from __future__ import annotations

import pytest


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
    qtbot.waitUntil(lambda: "OpenGL" in cb.toolTip())  # (probed a turn after it opens)
    assert not cb.isEnabled() and not cb.isChecked()


@pytest.mark.parametrize("first", ["turn", "start"])
def test_the_export_dialog_probes_opengl_after_it_opens(window, session, qtbot, monkeypatch,
                                                        tmp_path, first):
    """OpenGL's probe (~55 ms, and the GL libraries read from disk the first time: the
    dialog's first opening took 120-180 ms) is made a turn after the dialog opens, or
    when the export starts before that; the 3-D box follows it."""
    from gdviz.ui import gl_probe
    from gdviz.ui.export_dialog import ExportDialog, default_panels

    probes = []
    monkeypatch.setattr(gl_probe, "_cache", {})
    monkeypatch.setattr(gl_probe, "gl_probe", lambda: (probes.append(1), (True, "", "x"))[1])
    assert session.map_mode == "2d"  # (a 3-D view shown would have probed already)
    dlg = ExportDialog(session, parent=window)
    qtbot.addWidget(dlg)
    cb = dlg.panels["surface3d"]
    assert probes == [] and not cb.isEnabled()  # not while it opens
    if first == "turn":
        qtbot.waitUntil(cb.isEnabled)
    else:
        dlg.path.setText(str(tmp_path / "clip.csv"))
        dlg.steps.setValue(1)
        dlg.start()
        assert cb.isEnabled()
        dlg._cancel_or_close()
    assert probes == [1]
    assert not cb.isChecked() and "surface3d" not in default_panels(session, None)
    dlg.retranslate()
    assert probes == [1]  # (once)
