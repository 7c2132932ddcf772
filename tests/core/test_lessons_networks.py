"""Lesson L19's caption, checked numerically the way the class sees it: the lesson opens
with 1 hidden layer, and the teacher sets Hidden layers to 2, 3 and 4, training each to
the end (the session's own update_data path, as the data panel's slider calls it)."""

from __future__ import annotations

import numpy as np

from gdviz.core.scene import apply_scene, load_scene, preset_paths
from gdviz.core.session import Session


def lesson(name: str):
    for p in preset_paths():
        if p.stem.startswith(name):
            return load_scene(p)
    raise AssertionError(f"no preset {name}")


def depth_table():
    scene = lesson("L19")
    s = Session()
    apply_scene(scene, s)
    assert s.data.model == "network" and s.data.layers == 1 and s.data.activation == "relu"
    rows = []
    for layers in (1, 2, 3, 4):
        if layers > 1:
            assert s.update_data(layers=layers)
        assert s.t == 0
        s.step(scene.playback.max_steps)
        p = s.positions()[0][None, :]
        rows.append((float(s.problem.loss(p)[0]), float(s.problem.val_loss(p)[0])))
        assert not s.diverged()
    return np.array(rows)


def test_l19_deeper_fits_training_better_then_overfits():
    table = depth_table()
    train, val = table[:, 0], table[:, 1]
    # "It starts with 1 hidden layer ... 30 noisy points, 9 of them held out"
    scene = lesson("L19")
    s = Session()
    apply_scene(scene, s)
    assert s.problem.x_val.shape[0] == 9 and s.problem.x.shape[0] == 21
    # "The training loss falls with every layer."
    assert np.all(np.diff(train) < 0), train
    # "The validation loss falls up to 3 layers ..."
    assert val[0] > val[1] > val[2], val
    # "... and then, at 4, turns up" (clearly: not a wobble)
    assert val[3] > 1.5 * val[2] and val[3] > val[0], val
    # "the deeper network fits the training points better and the unseen points worse"
    assert train[3] < train[2] and val[3] > val[2]


def test_l19_scene_shows_the_network_picture():
    scene = lesson("L19")
    assert "network" in scene.export.panels and "fit" in scene.export.panels
    assert scene.fit.linked == ("W2[1,1]", "W2[1,2]")  # the output layer's weights
