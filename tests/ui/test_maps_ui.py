"""The landscape's map mode and the hyper-map panel (issue 11), offscreen."""

from __future__ import annotations

import numpy as np
import pytest

import gdviz.kernels as kernels
from gdviz.core import maps as CM
from gdviz.core.optimizers import make_optimizer
from gdviz.core.session import RunSpec, Session
from gdviz.core.surfaces import Landscape
from gdviz.ui.views.landscape_view import LandscapeView


@pytest.fixture
def sess() -> Session:
    kernels.warmup()
    return Session(Landscape.from_surface("himmelblau"),
                   [RunSpec(make_optimizer("sgd", lr=0.01)),
                    RunSpec(make_optimizer("momentum", lr=0.01, momentum=0.9))],
                   max_steps=200)


def _view(qtbot, sess, **kw):
    v = LandscapeView(sess, **kw)
    qtbot.addWidget(v)
    v.resize(900, 700)
    v.show()
    qtbot.waitExposed(v)
    v.flush()
    return v


def test_basin_map_refines_progressively_off_the_ui_thread(qtbot, sess):
    v = _view(qtbot, sess)
    layer = v.map_layer
    assert not layer.image.isVisible()
    sides = []
    layer.worker.done.connect(lambda g, item: sides.append(item[0][0]))
    sess.set_map_options(map_mode="basins")
    qtbot.waitUntil(lambda: layer.result is not None and layer.result.nx == 256, timeout=60000)
    assert sides[0] == 64 and sides[-1] == 256  # coarse first, then refined
    assert layer.image.isVisible() and not v.colorbar.isVisible()
    lab = layer.labels
    assert set(np.unique(lab[lab >= 0])) == {0, 1, 2, 3}  # Himmelblau's four minima
    # the map equals core's basin map of the first run (SGD) over the view box
    setup = CM.MapSetup(make_optimizer("sgd", lr=0.01), steps=200)
    ref = CM.basin_map(sess.landscape, setup, view=v._box, nx=256)
    np.testing.assert_array_equal(layer.result.end, ref.end)
    sess.set_map_options(map_mode="off")
    assert not layer.image.isVisible()


def test_slider_move_cancels_and_recomputes(qtbot, sess):
    v = _view(qtbot, sess)
    layer = v.map_layer
    sess.set_map_options(map_mode="basins")
    g0 = layer.worker.generation
    sess.update_run(0, lr=0.02)  # a slider move
    assert layer.worker.generation > g0
    qtbot.waitUntil(lambda: layer.result is not None and layer.result.nx == 256, timeout=60000)
    ref = CM.basin_map(sess.landscape, CM.MapSetup(make_optimizer("sgd", lr=0.02), steps=200),
                       view=v._box, nx=256)
    np.testing.assert_array_equal(layer.result.end, ref.end)


def test_selected_run_drives_the_map_and_steps_mode(qtbot, sess):
    v = _view(qtbot, sess)
    layer = v.map_layer
    sess.select(1)
    sess.set_map_options(map_mode="steps")
    qtbot.waitUntil(lambda: layer.result is not None and layer.result.nx == 256, timeout=60000)
    setup = CM.MapSetup(make_optimizer("momentum", lr=0.01, momentum=0.9), steps=200,
                        noise_run=1)
    ref = CM.basin_map(sess.landscape, setup, view=v._box, nx=256)
    np.testing.assert_array_equal(layer.result.conv_at, ref.conv_at)


def test_export_view_computes_the_full_map_at_once(qtbot, sess):
    v = _view(qtbot, sess, adaptive=False)
    sess.set_map_options(map_mode="basins")
    v.flush()
    assert v.map_layer.result is not None and v.map_layer.result.nx == 256


def test_data_problem_has_no_map_and_does_not_crash(qtbot):
    s = Session()
    s.set_regression()
    v = _view(qtbot, s)
    s.set_map_options(map_mode="basins")
    assert not v.map_layer.image.isVisible()
