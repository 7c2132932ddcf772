"""Clips of the data problems (lesson presets L06, L07, L09): real files read back with
imageio; the fit panel, the live slice, the mini-batch's own surface, validation loss."""

import os

import imageio.v3 as iio
import numpy as np
import pytest

from gdviz.core.scene import apply_scene, load_preset
from gdviz.core.session import Session
from gdviz.export.clip import (
    GRID_N,
    ExportCancelled,
    ExportSettings,
    FrameSource,
    export,
    scene_look,
)
from gdviz.export.render import FrameRenderer

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("qapp")]
SMALL = dict(size=(640, 360), fps=10)


def _session(name):
    scene = load_preset(name)
    s = Session()
    apply_scene(scene, s)
    return scene, s


def _caption(scene):
    return scene.meta.title.en, scene.meta.caption.en


def _rects(session, settings, caption):
    """The plot rectangles (x0, y0, x1, y1, inset by 2 px) the clip's frames use."""
    session.reset()
    look = scene_look(session, settings, caption)
    r = FrameRenderer(look, settings.size, settings.panels, settings.theme)
    return {k: (int(q.left()) + 2, int(q.top()) + 2, int(q.right()) - 2, int(q.bottom()) - 2)
            for k, q in r.plot.items()}


def _count_near(frame, rect, hex_color, tol):
    x0, y0, x1, y1 = rect
    rgb = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)])
    region = frame[y0:y1, x0:x1, :3].astype(int)
    return int((np.abs(region - rgb).max(axis=2) <= tol).sum())


@pytest.mark.parametrize("ext", ["gif", "mp4"])
@pytest.mark.parametrize("name, panels", [
    ("L09", ("fit", "loss", "caption")),
    ("L06", ("landscape", "fit", "loss", "caption")),
])
def test_data_clip_reads_back(tmp_path, name, panels, ext):
    scene, s = _session(name)
    settings = ExportSettings(steps=12, steps_per_frame=3, panels=panels, **SMALL)
    rects = _rects(s, settings, _caption(scene))
    out = tmp_path / f"{name}.{ext}"
    export(s, out, settings, caption=_caption(scene))
    assert os.listdir(tmp_path) == [out.name]
    frames = iio.imread(out, index=None)[..., :3]
    assert frames.shape == (5, 360, 640, 3)  # the start plus 4 frames of 3 steps
    for f in frames:
        assert f.std() > 10  # not blank
    for a, b in zip(frames[:-1], frames[1:]):
        assert np.abs(a.astype(int) - b.astype(int)).max() > 60  # every frame moves
    color = s.run_color(0)
    tol = 45 if ext == "mp4" else 30
    # the fit panel draws the run's model curve in the run's colour, frame after frame
    for f in (frames[0], frames[-1]):
        assert _count_near(f, rects["fit"], color, tol) > 150
    assert _count_near(frames[-1], rects["loss"], color, tol) > 50


def test_fit_panel_content(qapp):
    """Frames carry the model curve of every shown run, and the data are the problem's."""
    scene, s = _session("L09")
    settings = ExportSettings(steps=20, panels=("fit", "loss", "caption"))
    look = scene_look(s, settings)
    assert look.fit is not None and len(look.fit.val) == 3 and len(look.fit.train) == 17
    assert look.fit.target is not None and look.has_validation and not look.show_units
    source = FrameSource(s, look, settings.panels)
    s.step(10)
    frame = source()
    (curve, color), = frame.fit["curves"]
    assert color == s.run_color(0)
    np.testing.assert_allclose(curve[:, 1], s.problem.model.predict(s.positions()[0], curve[:, 0]))
    assert frame.fit["batch"] is None  # full batch: no ring
    assert frame.val_losses is not None and len(frame.val_losses[0]) == 11
    assert frame.counters == dict(iteration=10, epoch=10, batch_in_epoch=1, batches_per_epoch=1)


def test_validation_loss_is_drawn_dashed(tmp_path):
    scene, s = _session("L09")
    settings = ExportSettings(steps=30, panels=("loss",), size=(640, 360))
    look = scene_look(s, settings)
    r = FrameRenderer(look, settings.size, settings.panels)
    s.step(30)
    frame = FrameSource(s, look, settings.panels)()
    with_val = r.render(frame)
    frame.val_losses = None
    without = r.render(frame)
    rect = _rects(s, settings, ("", ""))["loss"]
    color = s.run_color(0)
    assert _count_near(with_val, rect, color, 20) > _count_near(without, rect, color, 20) + 100


def test_units_are_drawn_when_the_scene_shows_them():
    scene, s = _session("L07")
    assert s.show_units
    settings = ExportSettings(steps=10, panels=scene.export.panels)
    look = scene_look(s, settings)
    frame = FrameSource(s, look, settings.panels)()
    units = frame.fit["units"]
    assert len(units) == s.problem.model.K == 2
    x = units[0][:, 0]
    p = s.positions()[s.reference_run()]
    # c0 + each unit's term; their sum minus (K - 1) c0 is the model curve
    total = sum(u[:, 1] for u in units) - (len(units) - 1) * p[0]
    np.testing.assert_allclose(total, s.problem.model.predict(p, x), atol=1e-12)


def test_live_slice_is_recomputed_only_when_it_changes():
    scene, s = _session("L07")
    land = s.landscape
    assert land.live
    calls = []
    grid = land.grid
    land.grid = lambda *a, **k: calls.append(1) or grid(*a, **k)
    settings = ExportSettings(steps=10, panels=scene.export.panels, size=(640, 360))
    look = scene_look(s, settings)
    assert look.live and look.grid.shape[0] < GRID_N  # a coarser grid, re-made per frame
    r = FrameRenderer(look, settings.size, settings.panels)
    source = FrameSource(s, look, settings.panels)
    calls.clear()
    a = source()
    b = source()  # nothing moved: the same layer, no new grid
    assert len(calls) == 1 and b.surface is a.surface
    s.step(40)
    c = source()
    assert len(calls) == 2 and c.surface.key != a.surface.key
    # the map itself changes between the two frames, not only the trail
    for f in (a, c):
        f.trails = [t[:0] for t in f.trails]
    x0, y0, x1, y1 = _rects(s, settings, ("", ""))["landscape"]
    img_a, img_c = r.render(a), r.render(c)
    diff = np.abs(img_a.astype(int) - img_c.astype(int))[y0:y1, x0:x1].max(axis=2)
    assert (diff > 20).mean() > 0.05


def test_minibatch_surface_and_ring(tmp_path):
    scene, s = _session("L06")
    assert s.batch_surface and s.batch_size == 10 and s.n_train == 100
    panels = ("landscape", "fit", "loss")
    settings = ExportSettings(steps=10, panels=panels)
    look = scene_look(s, settings)
    assert look.batch_surface and look.batches_per_epoch == 10
    source = FrameSource(s, look, panels)
    s.step(3)
    f3 = source()
    s.step(1)
    f4 = source()
    assert len(f3.batch_segments) and len(f4.batch_segments)
    assert not np.array_equal(f3.batch_segments, f4.batch_segments)  # each batch its own surface
    idx = s.current_batch()
    np.testing.assert_array_equal(f4.fit["batch"], look.fit.train[idx])
    # drawn: the batch's contours add the mini-batch colour over the map
    r = FrameRenderer(look, settings.size, panels)
    with_batch = r.render(f4)
    f4.batch_segments = None
    rect = _rects(s, settings, ("", ""))["landscape"]
    purple = r.t["batch"]
    assert _count_near(with_batch, rect, purple, 40) > _count_near(r.render(f4), rect, purple, 40) + 500
    assert f4.counters == dict(iteration=4, epoch=1, batch_in_epoch=4, batches_per_epoch=10)
    # the full batch has no surface of its own and no ring
    s.set_batch_size(100)
    s.reset()
    look = scene_look(s, settings)
    frame = FrameSource(s, look, panels)()
    assert not look.batch_surface and frame.batch_segments is None and frame.fit["batch"] is None


def test_surfaces_keep_the_static_path(tmp_path):
    """The analytic race (the export benchmark) paints its map once: one grid per clip."""
    s = Session()
    calls = []
    grid = s.landscape.grid
    s.landscape.grid = lambda *a, **k: calls.append(a) or grid(*a, **k)
    export(s, tmp_path / "race.mp4", ExportSettings(steps=6, steps_per_frame=1, **SMALL))
    assert len(calls) == 1 and calls[0][4:6] == (GRID_N, GRID_N)


@pytest.mark.parametrize("name, ext", [("L07", "mp4"), ("L09", "gif")])
def test_cancelled_data_export_leaves_nothing(tmp_path, name, ext):
    scene, s = _session(name)
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(ExportCancelled):
        export(s, tmp_path / f"c.{ext}", ExportSettings(steps=200, steps_per_frame=2, **SMALL),
               caption=_caption(scene), cancelled=cancelled)
    assert os.listdir(tmp_path) == []


def test_dark_png_of_a_fit(tmp_path):
    scene, s = _session("L09")
    settings = ExportSettings(steps=40, panels=scene.export.panels, theme="dark", **SMALL)
    rects = _rects(s, settings, _caption(scene))
    out = tmp_path / "l9.png"
    export(s, out, settings, caption=_caption(scene))
    img = iio.imread(out)[..., :3]
    assert np.median(img) < 60  # a dark frame
    assert _count_near(img, rects["fit"], s.run_color(0), 20) > 150


def test_csv_of_a_fit_has_every_parameter_and_the_validation_loss(tmp_path):
    scene, s = _session("L09")
    out = tmp_path / "fit.csv"
    export(s, out, ExportSettings(steps=5))
    lines = out.read_text().splitlines()
    names = s.all_param_names
    assert lines[0] == "run,label,step," + ",".join(names) + ",loss,val_loss"
    assert len(lines) == 1 + 6
    last = lines[-1].split(",")
    assert last[2] == "5" and len(last) == 3 + len(names) + 2
    np.testing.assert_allclose([float(v) for v in last[3:3 + len(names)]], s.positions()[0])
