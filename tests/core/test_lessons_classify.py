"""Lessons L20 and L21: each claim of their captions, checked on the scene's own runs."""

import dataclasses

import numpy as np
import pytest

from gdviz.core.scene import load_preset
from gdviz.core.scene.build import build_runset, classify_data


def _race(scene, steps, **net):
    if net:
        scene = dataclasses.replace(scene, classify=dataclasses.replace(scene.classify, **net))
    rs, runs = build_runset(scene, fast=True, total_steps=steps)
    rs.advance(steps)
    pr = rs.problem
    acc = {r.id: float(pr.accuracy(rs.params[k:k + 1])[0]) for k, r in enumerate(runs)}
    loss = {r.id: float(rs.loss[k]) for k, r in enumerate(runs)}
    assert (rs.diverged_at < 0).all()
    return acc, loss, rs


def test_l20_linear_fails_hidden_layer_of_3_relus_succeeds():
    scene = load_preset("L20_circles")
    assert scene.problem.kind == "classify" and scene.classify.layers == 0
    acc, loss, _ = _race(scene, 500)
    for rid in ("sgd", "adam"):
        assert acc[rid] < 0.7            # "about 50 % accuracy"
        assert abs(loss[rid] - np.log(2)) < 0.02   # "stuck near ln 2"
    acc, loss, rs = _race(scene, 500, layers=1, units=3)
    assert acc["adam"] > 0.95 and acc["sgd"] > 0.95  # "past 95 %"
    val = rs.problem.accuracy(rs.params, "val")
    assert (val > 0.95).all()


@pytest.mark.parametrize("units", [4, 6])
def test_l20_more_units_also_succeed(units):
    acc, _, _ = _race(load_preset("L20_circles"), 500, layers=1, units=units)
    assert min(acc.values()) > 0.9


def test_l21_depth_and_optimizer():
    scene = load_preset("L21_spiral")
    assert scene.classify.layers == 3 and scene.classify.units == 8
    acc, _, _ = _race(scene, 400)
    assert acc["adam"] > 0.97 and acc["sgd"] < 0.8   # Adam within a few hundred steps
    acc, _, rs = _race(scene, 1500)
    assert acc["adam"] == 1.0 and acc["sgd"] > 0.9   # SGD needs well over a thousand
    acc, _, _ = _race(scene, 1500, layers=1)
    assert max(acc.values()) < 0.8                    # one layer of 8 stays below 80 %


def test_lesson_scenes_have_three_languages_and_data():
    for name in ("L20_circles", "L21_spiral"):
        s = load_preset(name)
        for t in (s.meta.title, s.meta.caption):
            assert t.en and t.zh_Hant and t.zh_Hans and t.zh_Hant != t.zh_Hans
        assert classify_data(s).class_dataset().n_val > 0
