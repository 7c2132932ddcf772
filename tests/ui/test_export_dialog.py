"""The export dialog runs off the UI thread, reports progress, and cancels cleanly."""

import os

import imageio.v3 as iio
import pytest

from gdviz.core.session import Session
from gdviz.ui import theme
from gdviz.ui.export_dialog import ExportDialog

pytestmark = pytest.mark.slow


@pytest.fixture
def dialog(qtbot):
    theme.configure_pyqtgraph()
    session = Session()
    dlg = ExportDialog(session)
    qtbot.addWidget(dlg)
    dlg.size.setCurrentIndex(0)
    return dlg


def test_export_gif_in_background(dialog, qtbot, tmp_path):
    dialog.format.setCurrentText("GIF animation")
    dialog.path.setText(str(tmp_path / "demo.gif"))
    dialog.steps.setValue(6)
    dialog.spf.setValue(2)
    live_t = dialog.session.t
    assert dialog.start()
    qtbot.waitUntil(lambda: not dialog.running(), timeout=60_000)
    assert "Saved" in dialog.message.text()
    frames = iio.imread(tmp_path / "demo.gif", index=None)
    assert frames.shape[:3] == (4, 480, 854)
    assert dialog.session.t == live_t  # the live session was not touched


def test_cancel_leaves_no_file(dialog, qtbot, tmp_path):
    dialog.path.setText(str(tmp_path / "long.mp4"))
    dialog.steps.setValue(5000)
    assert dialog.start()
    dialog._cancel_or_close()
    qtbot.waitUntil(lambda: not dialog.running(), timeout=60_000)
    assert "cancelled" in dialog.message.text()
    assert os.listdir(tmp_path) == []


def test_bad_settings_show_inline(dialog, tmp_path):
    dialog.path.setText(str(tmp_path / "x.avi"))
    assert not dialog.start()
    assert "unsupported output" in dialog.message.text()
    for cb in dialog.panels.values():
        cb.setChecked(False)
    dialog.path.setText(str(tmp_path / "x.mp4"))
    assert not dialog.start()
    assert "no panels" in dialog.message.text()
    assert not dialog.running()
