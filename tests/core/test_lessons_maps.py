"""The claims of lessons L16 (basins) and L17 (rate map), checked on the shipped scenes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gdviz.core import maps as CM
from gdviz.core.scene import load_scene
from gdviz.core.scene.bridge import scene_state
from gdviz.core.session import Session

SCENES = Path(__file__).resolve().parents[2] / "resources" / "scenes"


def _session(name: str) -> Session:
    s = Session()
    s.restore(scene_state(load_scene(SCENES / name), s.snapshot()))
    return s


def _setup(s: Session, spec: int) -> CM.MapSetup:
    return CM.MapSetup(s.effective_config(spec), s.specs[spec].schedule, steps=s.max_steps,
                       noise=s.noise, batch_size=s.batch_size, seed=s.seed,
                       noise_run=s.runs_of_spec(spec)[0])


def test_l16_scene_is_a_basin_map_of_sgd_then_momentum():
    s = _session("L16_basins.toml")
    assert s.map_layer == "basins"
    assert s.landscape.name == "six-hump-camel"
    assert [sp.config.name for sp in s.specs] == ["sgd", "momentum"]
    assert s.reference_run() == 0  # SGD's basins first (no run selected: the first)
    assert s.specs[0].config.lr == s.specs[1].config.lr  # the same learning rate


def test_l16_momentum_changes_the_basins():
    s = _session("L16_basins.toml")
    land = s.landscape
    book = CM.BasinBook.for_landscape(land)
    sgd = book.assign(CM.basin_map(land, _setup(s, 0), nx=96))
    mom = book.assign(CM.basin_map(land, _setup(s, 1), nx=96))
    # every basin SGD reaches is one of the surface's six known minima
    assert len(book.centres) == 6 and not (sgd == -1).any() and not (sgd == -2).any()
    assert (sgd != mom).mean() > 0.3  # the basins change shape
    # the two deep (global) valleys' basins grow with momentum, the shallowest ones shrink
    glob = lambda lab: np.isin(lab, [0, 1]).mean()  # noqa: E731
    shallow = lambda lab: np.isin(lab, [4, 5]).mean()  # noqa: E731
    assert glob(mom) > glob(sgd) + 0.1
    assert shallow(mom) < 0.5 * shallow(sgd)
    # and from steep corners momentum overshoots: some starts diverge
    assert (mom == -1).any()


def test_l16_the_marked_start_parts_the_two_runs():
    s = _session("L16_basins.toml")
    s.step(s.max_steps)
    book = CM.BasinBook.for_landscape(s.landscape)
    end = s.runset.params
    r = CM.MapResult(2, 1, end, s.runset.loss, np.full(2, -1), s.runset.diverged_at)
    sgd, mom = book.assign(r)
    assert sgd in (2, 3, 4, 5)  # an outer, shallow valley
    assert mom in (0, 1)  # a deep one


def test_l17_scene_is_a_rate_map_on_the_ellipse():
    s = _session("L17_rate_map.toml")
    assert s.hyper_axis == "momentum" and s.hyper_color == "loss"
    assert s.landscape.name == "ellipse" and s.specs[0].config.name == "momentum"


def test_l17_rate_map_has_a_good_valley_and_divergence_beyond():
    s = _session("L17_rate_map.toml")
    setup = _setup(s, 0)
    r, lrs, ys = CM.hyper_map(s.landscape, setup, s.starts[0], "momentum", nx=64,
                              lr_range=(1e-4, 1.0), y_range=(0.0, 0.99))
    L = r.grid(r.end_loss)
    D = r.grid(r.diverged)
    LR, B = np.meshgrid(lrs, ys)
    # x^2 + 10y^2: heavy-ball momentum is stable iff lr < 2(1 + beta)/lambda_max, lambda_max 20
    edge = 2 * (1 + B) / 20
    assert D[LR > 1.15 * edge].all()  # too large an lr diverges
    assert not D[LR < 0.85 * edge].any()
    # the valley of good settings: a band of cells that end at the minimum
    good = ~D & (L < 1e-12)
    assert good.mean() > 0.1
    # small lr: more momentum helps (momentum ~ multiplies the step by 1/(1 - beta))
    j = int(np.argmin(np.abs(lrs - 3e-3)))
    col = L[:, j]
    assert col[np.argmin(np.abs(ys - 0.9))] < 1e-3 * col[0]
    # momentum near 1 rings: at the lr of the good band, beta 0.99 ends far higher
    k = int(np.argmin(np.abs(lrs - 0.05)))
    assert L[-1, k] > 1e3 * L[np.argmin(np.abs(ys - 0.5)), k]
    # the run the lesson starts with sits in the good band
    cfg = s.specs[0].config
    i0 = int(np.argmin(np.abs(ys - cfg.momentum)))
    j0 = int(np.argmin(np.abs(lrs - cfg.lr)))
    assert not D[i0, j0] and L[i0, j0] < 1e-3


@pytest.mark.parametrize("name", ["L16_basins.toml", "L17_rate_map.toml"])
def test_lesson_captions_in_three_languages(name):
    sc = load_scene(SCENES / name)
    for text in (sc.meta.title, sc.meta.caption):
        assert text.en and text.zh_Hant and text.zh_Hans
        assert text.zh_Hant != text.zh_Hans != text.en
