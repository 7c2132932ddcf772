"""One picture: an export frame is the window's own drawing.

For every lesson, the window and an export of the same scene at the same step and size
are compared: the panel layout (the map and the fit panel have the same geometry), the
sampled colours of the map (heatmap, contours, trails, markers) and the run heads,
which sit where the runs are and carry the runs' colours. Not a whole-image hash.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication

from gdviz.core.scene import apply_scene, load_scene, preset_paths
from gdviz.core.session import Session
from gdviz.ui.picture import FrameGrabber, Picture, status_texts

PRESETS = preset_paths()
STEPS = 25


def _pixels(qimage) -> np.ndarray:
    """(h, w, 3) int RGB of a QImage/QPixmap grab."""
    from PySide6.QtGui import QImage

    img = qimage.toImage() if hasattr(qimage, "toImage") else qimage
    img = img.convertToFormat(QImage.Format.Format_RGB32)
    w, h = img.width(), img.height()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
    return buf.reshape(h, img.bytesPerLine() // 4, 4)[:, :w, 2::-1].astype(int)


def _head_pixel(view, xy) -> tuple[int, int]:
    """Where data point ``xy`` of ``view`` (a LandscapeView) is, in the view's pixels."""
    scene_pt = view.vb.mapViewToScene(QPointF(float(xy[0]), float(xy[1])))
    p = view.mapFromScene(scene_pt)
    return int(p.x()), int(p.y())


def _settle_layout(win, turns: int = 20) -> None:
    """Turn the event loop until the map's plot stops moving: a dock that moved (the loss
    curves follow the problem) resizes the picture, and pyqtgraph lays its axes out over
    a few posted events; a window on a screen does this within a frame."""
    def geometry():
        view = win.landscape_view
        return (view.size(), view.vb.sceneBoundingRect(), win.splitter.sizes())

    last = None
    for _ in range(turns):
        QApplication.processEvents()
        now = geometry()
        if now == last:
            return
        last = now


@pytest.fixture
def big_window(window):
    return window


@pytest.mark.slow
@pytest.mark.parametrize("path", PRESETS, ids=[p.stem[:3] for p in PRESETS])
def test_export_frame_is_the_windows_picture(big_window, session, path):
    win = big_window
    # a live surface (a fit's slice) gets a coarser grid in the window when this machine
    # falls behind its frame budget; the comparison is of the picture when it keeps up
    from gdviz.ui.views.landscape_view import LIVE_GRID

    win.landscape_view.adaptive = False
    win.landscape_view.live_grid = LIVE_GRID
    assert win.open_scene(path)
    session.pause()
    session.step(STEPS)
    _settle_layout(win)  # the layout after the caption, panels and docks changed
    win.landscape_view.flush()  # the legends' placement, as an export frame does it
    app_map = _pixels(win.landscape_view.grab())

    # the same scene, replayed to the same step in a copy, exported at the window's size
    scene = load_scene(path)
    copy = Session()
    apply_scene(scene, copy)
    copy.pause()
    split = win.splitter
    size = (split.width() + 8, split.height() + 8)
    net = win.picture.network_view
    panels = ("landscape", "fit", "hyper") + (("network",) if net is not None
                                              and net.isVisibleTo(win) else ())
    g = FrameGrabber(copy, size, panels, reference_height=None, status=False)
    try:
        copy.step(STEPS)
        frame = g.rgb(g.frame()).astype(int)
        ev = g.picture.landscape_view
        # the layout: the map (and the fit panel) have the window's geometry
        assert ev.size() == win.landscape_view.size()
        assert g.picture.fit_view.isVisibleTo(g.picture) == win.fit_view.isVisibleTo(win)
        if win.fit_view.isVisibleTo(win):
            assert g.picture.fit_view.size() == win.fit_view.size()
        top_left = ev.mapTo(g.picture, ev.rect().topLeft())
        h, w = app_map.shape[:2]
        ex_map = frame[top_left.y():top_left.y() + h, top_left.x():top_left.x() + w]
        assert ex_map.shape == app_map.shape
        # the colours: heatmap, contours, trails and markers sampled over the whole map
        diff = np.abs(ex_map - app_map).max(axis=2)
        assert diff.mean() < 2.0, (path.stem, diff.mean())
        assert np.percentile(diff, 99) < 40, (path.stem, np.percentile(diff, 99))
        # the run heads: each visible run's colour where that run is, in both
        pos = copy.positions()
        for r in range(copy.n_runs):
            xy = copy.project(pos[r]) if copy.is_data else pos[r][:2]
            if not (copy.run_enabled(r) and np.isfinite(xy).all()):
                continue
            (x0, x1), (y0, y1) = ev.vb.viewRange()
            if not (x0 < xy[0] < x1 and y0 < xy[1] < y1):
                continue
            px, py = _head_pixel(ev, xy)
            if not (2 <= px < w - 2 and 2 <= py < h - 2):
                continue
            a = ex_map[py - 1:py + 2, px - 1:px + 2].reshape(-1, 3)
            b = app_map[py - 1:py + 2, px - 1:px + 2].reshape(-1, 3)
            assert np.abs(a - b).max() < 40, (path.stem, r)
        # the status the export writes is the window's
        assert status_texts(copy) == status_texts(session)
    finally:
        g.close()


def test_picture_hides_what_the_session_cannot_show(qtbot, session):
    p = Picture(session, ("caption", "landscape", "fit", "loss", "step", "schedule"), export=True)
    qtbot.addWidget(p)
    p.resize(1280, 720)
    p.show()
    assert p.shown() == ("caption", "landscape", "loss")  # no data, no selection, no schedule
    session.select(0)
    assert "step" in p.shown() and p.step_view.isVisibleTo(p)
    from gdviz.core.schedules import Schedule

    session.set_schedule(0, Schedule(kind="cosine"))
    assert "schedule" in p.shown() and p.schedule_view.isVisibleTo(p)
    p.close()


def test_exported_labels_follow_the_language(qtbot):
    from gdviz.core import i18n

    i18n.set_language("zh-Hans")
    s = Session()
    g = FrameGrabber(s, (640, 360), ("landscape", "loss"))
    try:
        g.frame()
        assert g.picture.loss_view.plot_item.getAxis("left").labelText == i18n.tr("loss", "zh-Hans")
        assert "步" in g.picture.status.counters.text()
    finally:
        g.close()


def test_window_panels_are_model_state(window, session):
    """View ▸ Panels writes session.panels; the window follows it, and so does a dock's ✕."""
    win = window
    assert win.loss_dock.isVisibleTo(win)
    win.panel_actions["loss"].setChecked(False)
    assert "loss" not in session.panels and not win.loss_dock.isVisibleTo(win)
    session.set_view_options(panels=tuple(session.panels) + ("loss",))
    assert win.panel_actions["loss"].isChecked() and win.loss_dock.isVisibleTo(win)
    win.loss_dock.close()
    assert "loss" not in session.panels and not win.panel_actions["loss"].isChecked()
    # the map hides and shows through the same field
    win.set_panel("landscape", False)
    assert not win.landscape_view.isVisibleTo(win)
    win.set_panel("landscape", True)
    assert win.landscape_view.isVisibleTo(win)
    # the caption follows it too
    win.set_caption("Title", "Text")
    win.set_panel("caption", False)
    assert not win.caption.isVisibleTo(win)
    win.set_panel("caption", True)
    assert win.caption.isVisibleTo(win)
    # the export dialog starts from what the window shows
    from gdviz.ui.export_dialog import default_panels

    assert "loss" not in default_panels(session)


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (854, 480)])
def test_cached_caption_paints_the_same_pixels(qtbot, size):
    """The grabber paints the caption once and copies it into later frames: the frames
    equal a grabber that paints it in place every time, and a new caption is painted."""
    from gdviz import resources_dir
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QWidget

    scene = load_scene(resources_dir() / "scenes" / "default_rosenbrock_race.toml")

    def grabber():
        s = Session()
        apply_scene(scene, s)
        g = FrameGrabber(s, size, tuple(scene.export.panels), (scene.meta.title.en, scene.meta.caption.en))
        return s, g

    s1, cached = grabber()
    s2, direct = grabber()
    direct._draw_caption = lambda p, w: QWidget.render(w, p, w.mapTo(direct.picture, QPoint(0, 0)))
    try:
        for _ in range(3):
            assert np.array_equal(cached.frame(), direct.frame())
            s1.step(3)
            s2.step(3)
        for g in (cached, direct):
            g.picture.set_caption("A new title", "and another paragraph")
            g.flush()
        assert np.array_equal(cached.frame(), direct.frame())
    finally:
        cached.close()
        direct.close()


def test_frames_stay_intact_for_the_encoder(qtbot, session):
    """A frame handed to the encoder uncopied is not painted over while it may still wait
    in the pipe's queue: the grabber cycles through ``stable_frames`` images."""
    from gdviz.export.video import STABLE_FRAMES

    g = FrameGrabber(session, (320, 180), ("landscape",))
    try:
        assert g.stable_frames >= STABLE_FRAMES
        first = g.frame()
        kept = first.copy()
        for _ in range(g.stable_frames - 1):
            session.step(5)
            g.frame()
        assert np.array_equal(first, kept)
    finally:
        g.close()


@pytest.mark.slow
@pytest.mark.parametrize("lesson", ["L16", "L21"])
def test_a_staged_build_paints_the_same_frames(qtbot, lesson):
    """The window's export builds its picture a piece per turn of the event loop (the
    views one by one, the map mode's map a chunk at a time, a first paint of each part),
    with the event loop running between the pieces: its frames are those of a picture
    built at once."""
    from gdviz.core.scene import load_preset

    scene = load_preset(lesson)
    panels = tuple(scene.export.panels)

    def grabber(staged):
        s = Session()
        apply_scene(scene, s)
        s.pause()
        return s, FrameGrabber(s, (854, 480), panels, ("Title", "Caption."), staged=staged)

    s1, whole = grabber(False)
    s2, staged = grabber(True)
    try:
        pieces = 0
        while not staged.prepare():
            pieces += 1
            QApplication.processEvents()
        assert pieces >= 8
        if lesson == "L16":  # the basin map, in chunks
            assert staged.picture.landscape_view.map_layer.result is not None
        for _ in range(3):
            assert np.array_equal(whole.frame(), staged.frame())
            s1.step(4)
            s2.step(4)
    finally:
        whole.close()
        staged.close()
