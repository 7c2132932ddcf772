"""[classify] scene keys: parsing, errors, the CSV key, and session round trips."""

import dataclasses

import numpy as np
import pytest

from gdviz.core.scene import load_preset
from gdviz.core.scene.bridge import apply_scene, scene_from_session
from gdviz.core.scene.schema import SceneError
from gdviz.core.scene.toml_io import dumps_scene, load_scene, loads_scene
from gdviz.core.session import Session

HEAD = 'version = 1\n[problem]\nkind = "classify"\n[runs.a]\noptimizer = "adam"\nlr = 0.01\n'


def test_minimal_classify_scene_defaults():
    s = loads_scene(HEAD)
    c = s.classify
    assert (c.dataset, c.points, c.layers, c.units, c.activation, c.val_split) == \
        ("circles", 300, 1, 4, "relu", 0.3)


@pytest.mark.parametrize("extra,msg", [
    ('[classify]\ndataset = "moon"\n', r"\[classify\] dataset = 'moon' is invalid"),
    ("[classify]\nlayers = 5\n", r"\[classify\] layers"),
    ("[classify]\nunits = 0\n", r"\[classify\] units"),
    ("[classify]\nnoise = 0.9\n", r"\[classify\] noise"),
    ("[classify]\npoints = 3\n", r"\[classify\] points"),
    ("[classify]\nval_split = 0.8\n", r"\[classify\] val_split"),
    ('[classify]\nactivation = "gelu"\n', r"\[classify\] activation = 'gelu' is invalid"),
    ('[classify]\nlinked = ["W9[1,1]", "b1[1]"]\n', r"linked = 'W9\[1,1\]': unknown parameter; did you mean 'W2\[1,1\]'"),
    ('[classify]\nlinked = ["b1[1]"]\n', r"linked must name two parameters"),
    ("[classify]\ninit = [1.0, 2.0]\n", r"\[classify\] init has 2 values; .* has 17 parameters"),
    ("[classify]\ndata = [[0, 0, 1], [1, 1, 3]]\n", r"data\[1\]: label must be 0 or 1"),
    ("[classify]\ndata = [[0, 0], [1, 1]]\n", r"data\[0\] must be a point \[x1, x2, label\]"),
    ("[classify]\ncolour = 1\n", r"unknown key 'colour' in \[classify\]"),
])
def test_bad_keys_one_line(extra, msg):
    with pytest.raises(SceneError, match=msg) as e:
        loads_scene(HEAD + extra, "s.toml")
    assert str(e.value).startswith("s.toml: ") and "\n" not in str(e.value)


def test_csv_key_is_read_relative_to_the_scene(tmp_path):
    (tmp_path / "pts.csv").write_text("x1,x2,label\n0,0,0\n1,1,1\n2,2,1\n3,0,0\n")
    p = tmp_path / "s.toml"
    p.write_text(HEAD + '[classify]\ncsv = "pts.csv"\nval_split = 0.25\n')
    s = load_scene(p)
    assert s.classify.data == ((0, 0, 0), (1, 1, 1), (2, 2, 1), (3, 0, 0))
    sess = Session(fast=False)
    apply_scene(s, sess)
    assert sess.kind == "classify" and sess.data.source == "pts.csv" and sess.n_train == 3
    (tmp_path / "bad.csv").write_text("1,2,7\n")
    p.write_text(HEAD + '[classify]\ncsv = "bad.csv"\n')
    with pytest.raises(SceneError, match=r"^s\.toml: \[classify\] csv: bad\.csv line 1: label"):
        load_scene(p)
    p.write_text(HEAD + '[classify]\ncsv = "none.csv"\n')
    with pytest.raises(SceneError, match=r"^s\.toml: \[classify\] csv: none\.csv: cannot read"):
        load_scene(p)


def test_lesson_round_trips_through_the_session():
    scene = load_preset("L21_spiral")
    sess = Session(fast=False)
    apply_scene(scene, sess)
    assert sess.kind == "classify" and sess.n_runs == 2 and sess.data.layers == 3
    sess.update_data(noise=0.2, units=6)
    sess.set_linked(0, 5)
    back = scene_from_session(sess, scene)
    text = dumps_scene(back)
    again = loads_scene(text)
    assert again.classify.noise == 0.2 and again.classify.units == 6
    assert again.classify.linked == ("W1[1,1]", "W1[3,2]")
    other = Session(fast=False)
    apply_scene(again, other)
    assert other.data == sess.data and other.linked == (0, 5)
    assert np.array_equal(np.asarray(other.starts[0]), np.asarray(sess.starts[0]))
    assert [sp.config for sp in other.specs] == [sp.config for sp in sess.specs]


def test_loaded_points_are_saved_inline():
    scene = load_preset("L20_circles")
    sess = Session(fast=False)
    apply_scene(scene, sess)
    pts = ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0), (2.0, 0.0, 1.0), (0.0, 2.0, 0.0))
    assert sess.update_data(points_data=pts, source="mine.csv")
    back = loads_scene(dumps_scene(scene_from_session(sess, scene)))
    assert back.classify.data == pts and back.classify.csv == "mine.csv"
    assert dataclasses.replace(back.classify, data=None).csv == "mine.csv"
