"""Lesson L18's claims (lr_find, then one-cycle), checked on the shipped scene."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdviz.core import lrfind as L
from gdviz.core.scene import apply_scene, load_preset, preset_path
from gdviz.core.session import Session


@pytest.fixture(scope="module")
def l18():
    s = Session(fast=False)
    apply_scene(load_preset("L18"), s)
    s.pause()
    return s


def test_l18_opens_with_the_sweep_from_the_found_run(l18):
    res = l18.lrfind
    assert res is not None and res.run == 0 and res.t == 0 and res.optimizer == "sgd"
    assert res.stopped_early  # the loss blew up before 10: the sweep stopped itself
    # the caption's "about 0.03": the run's lr is min/10 to two significant digits
    assert float(f"{res.minimum:.1g}") == 0.03 == l18.specs[0].config.lr
    assert res.steep is not None and res.steep < res.minimum
    # the big and small runs are ten times and a tenth of it
    assert l18.specs[1].config.lr == pytest.approx(10 * l18.specs[0].config.lr)
    assert l18.specs[2].config.lr == pytest.approx(0.1 * l18.specs[0].config.lr)
    assert all(sp.schedule.kind == "one-cycle" for sp in l18.specs)


def test_l18_found_lr_beats_ten_times_and_a_tenth(l18):
    l18.reset()
    l18.step(l18.max_steps)
    loss = l18.runset.loss
    div = l18.runset.diverged_at
    assert div[0] < 0 and div[2] < 0
    assert div[1] > 0  # ×10 diverges (its one-cycle peak is 3x SGD's limit 2/20 = 0.1)
    assert loss[0] < 0.1 and loss[2] > 10 * loss[0]
    # a tenth is still far from the bottom: it "crawls along the floor"
    assert loss[2] > 1.0


def test_l18_caption_in_three_languages():
    from gdviz.core.scene import load_scene

    scene = load_scene(preset_path("L18"))
    for lang in ("en", "zh-Hant", "zh-Hans"):
        assert scene.meta.caption.get(lang) and scene.meta.title.get(lang)
    assert "lrfind" in scene.export.panels
    assert scene.meta.caption.zh_Hant != scene.meta.caption.zh_Hans


def test_l18_the_fair_race_lands_between_the_found_lr_and_ten_times_it(l18):
    res = L.session_tune(l18, n_lrs=24, steps=l18.max_steps, fast=False)
    # every run is SGD one-cycle: one best lr. lr_find's min/10 is on the careful side:
    # the grid's best is above it (one-cycle spends few steps at the peak) but below x10
    best = res.best_lr[0]
    assert res.best_lr == (best,) * 3 and 0.03 < best < 0.3
    assert math.isinf(res.current_score[1])  # ×10 diverges
    assert np.isfinite(res.best_score).all()
