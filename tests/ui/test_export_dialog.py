"""The export dialog paints the app's picture a frame per turn of the event loop (the
window keeps answering), reports progress, cancels cleanly, and speaks the UI language."""

import os

import imageio.v3 as iio
import numpy as np
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


def test_an_export_waits_for_the_window_s_kernels_and_then_runs(qtbot, tmp_path):
    """While the window's kernels are being compiled (the first start after an install)
    an export takes no step: it says why, asks again every KERNEL_POLL_MS (the timer does
    not spin), can be cancelled, and runs once they came. (Built and stepped with the
    numpy twins, a fit lesson's frames took 0.7 s of the window's thread each.)"""
    from gdviz.core.i18n import tr
    from gdviz.ui.export_dialog import KERNEL_POLL_MS

    theme.configure_pyqtgraph()
    due = [True]
    dlg = ExportDialog(Session(), kernels_due=lambda: due[0])
    qtbot.addWidget(dlg)
    dlg.size.setCurrentIndex(0)
    dlg.format.setCurrentText("GIF animation")
    dlg.path.setText(str(tmp_path / "demo.gif"))
    dlg.steps.setValue(4)
    dlg.spf.setValue(2)
    assert dlg.start()
    job = dlg._job
    for _ in range(5):
        dlg._next_frame()
    assert job._make_renderer is not None and job.renderer is None  # no step taken
    assert dlg.running() and dlg.message.text() == tr("export_waiting_kernels")
    assert dlg._timer.interval() == KERNEL_POLL_MS
    due[0] = False
    qtbot.waitUntil(lambda: not dlg.running(), timeout=60_000)
    assert "Saved" in dlg.message.text() and dlg._timer.interval() == 0
    assert iio.imread(tmp_path / "demo.gif", index=None).shape[0] == 3
    # cancelled while it waits: nothing written, the dialog free for the next one
    due[0] = True
    dlg.path.setText(str(tmp_path / "again.gif"))
    assert dlg.start()
    dlg._next_frame()
    assert dlg.message.text() == tr("export_waiting_kernels")
    dlg._cancel_or_close()
    qtbot.waitUntil(lambda: not dlg.running(), timeout=10_000)
    assert "cancelled" in dlg.message.text() and dlg._timer.interval() == 0
    assert sorted(os.listdir(tmp_path)) == ["demo.gif"]


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


# ---- a data scene (L09: the fit panel, validation loss, a live slice) -------------------
@pytest.fixture
def fit_dialog(qtbot):
    from gdviz.core.scene import apply_scene, load_preset

    theme.configure_pyqtgraph()
    scene = load_preset("L09")
    session = Session()
    apply_scene(scene, session)
    dlg = ExportDialog(session, scene, caption=(scene.meta.title.en, scene.meta.caption.en))
    qtbot.addWidget(dlg)
    dlg.size.setCurrentIndex(0)
    return dlg


def test_fit_scene_panels_from_its_export_table(fit_dialog):
    ticked = {n for n, cb in fit_dialog.panels.items() if cb.isChecked()}
    assert ticked == {"fit", "loss", "caption"}
    assert set(fit_dialog.settings().panels) == {"fit", "loss", "caption"}


def test_default_panels_without_a_scene():
    from gdviz.core.scene import apply_scene, load_preset
    from gdviz.ui.export_dialog import default_panels

    assert "fit" not in default_panels(Session())
    s = Session()
    apply_scene(load_preset("L06"), s)
    assert "fit" in default_panels(s)
    s.select(0)
    assert "step" in default_panels(s)


def test_the_window_keeps_answering_during_an_export(dialog, qtbot, tmp_path):
    from PySide6.QtCore import QTimer

    dialog.path.setText(str(tmp_path / "r.mp4"))
    dialog.steps.setValue(30)
    ticks = []
    timer = QTimer()
    timer.setInterval(0)
    timer.timeout.connect(lambda: ticks.append(dialog.bar.value()))
    timer.start()
    assert dialog.start()
    qtbot.waitUntil(lambda: not dialog.running(), timeout=60_000)
    timer.stop()
    assert "Saved" in dialog.message.text()
    # other events ran between the frames, not only after the last one
    assert len({v for v in ticks if 0 < v < dialog.bar.maximum()}) >= 5


def test_dialog_speaks_the_ui_language(qtbot):
    from gdviz.core import i18n

    i18n.set_language("zh-Hant")
    dlg = ExportDialog(Session())
    qtbot.addWidget(dlg)
    assert dlg.windowTitle() == "匯出動畫"
    assert dlg.panels["step"].text() == "逐步說明"
    assert dlg.format.itemText(0) == "MP4 影片（H.264）"
    assert dlg.export_button.text() == "匯出"


def test_fit_scene_exports_in_background(fit_dialog, qtbot, tmp_path):
    fit_dialog.format.setCurrentText("GIF animation")
    fit_dialog.path.setText(str(tmp_path / "fit.gif"))
    fit_dialog.steps.setValue(6)
    fit_dialog.spf.setValue(2)
    assert fit_dialog.start()
    qtbot.waitUntil(lambda: not fit_dialog.running(), timeout=60_000)
    assert "Saved" in fit_dialog.message.text(), fit_dialog.message.text()
    assert fit_dialog.bar.maximum() == 4 and fit_dialog.bar.value() == 4  # progress reached it
    frames = iio.imread(tmp_path / "fit.gif", index=None)[..., :3]
    assert frames.shape[:3] == (4, 480, 854)
    # the model curve (the run's orange) is in the frames: the fit panel was drawn
    orange = np.array([0xE6, 0x9F, 0x00])
    assert (np.abs(frames[-1].astype(int) - orange).max(axis=2) < 30).sum() > 300
    assert fit_dialog.session.t == 0  # the live session was not touched


def test_fit_scene_cancel_leaves_no_file(fit_dialog, qtbot, tmp_path):
    fit_dialog.path.setText(str(tmp_path / "long.mp4"))
    fit_dialog.steps.setValue(4000)
    fit_dialog.spf.setValue(1)
    assert fit_dialog.start()
    fit_dialog._cancel_or_close()
    qtbot.waitUntil(lambda: not fit_dialog.running(), timeout=60_000)
    assert "cancelled" in fit_dialog.message.text()
    assert os.listdir(tmp_path) == []


def test_an_exports_copy_takes_the_lr_finders_results_as_shown(monkeypatch):
    """The export's copy of the demo (clone_session, in the Export press) re-applied its
    scene, and with it the [lrfind] sweep and tuning: a tuning of 10⁵ steps took 0.4 s of
    the press. The copy takes the window's results, the same objects the window shows."""
    import dataclasses

    from gdviz.core import lrfind as L
    from gdviz.core.scene import apply_scene, load_preset
    from gdviz.ui.export_dialog import clone_session

    scene = load_preset("L18")
    scene = dataclasses.replace(scene, lrfind=dataclasses.replace(
        scene.lrfind, tune=True, tune_steps=100, tune_lrs=4))
    s = Session()
    apply_scene(scene, s)
    assert s.lrfind is not None and s.tuned is not None

    def no_work(self, k=10):
        raise AssertionError("the export's copy ran the lr finder again")

    monkeypatch.setattr(L.SceneJobs, "advance", no_work)
    copy = clone_session(s, scene)
    assert copy.lrfind is s.lrfind and copy.tuned is s.tuned
    assert [sp.config.lr for sp in copy.specs] == [sp.config.lr for sp in s.specs]
