"""With many runs playing in the window, the runs' curves that are redrawn every frame
(fit curves, the live pieces of loss curves and trails) are stroked aliased, QPainter's
fast path (gdviz.ui.views.items.PlayingStrokes); a few runs, a paused race and an export
are antialiased, so the picture a teacher looks at or saves is exact."""

from __future__ import annotations

import pytest

from gdviz.core.optimizers import make_optimizer
from gdviz.core.scene import load_preset
from gdviz.core.scene.bridge import apply_scene
from gdviz.core.session import RunSpec, Session
from gdviz.ui.picture import Picture
from gdviz.ui.views.items import MANY_RUNS, GrowingCurve, set_antialias


def _session(n_runs: int) -> Session:
    s = Session()
    apply_scene(load_preset("L13_weight_decay"), s)
    while s.n_runs < n_runs:
        s.add_run(RunSpec(config=make_optimizer("adam")))
    return s


def _picture(qtbot, s, export=False) -> Picture:
    pic = Picture(s, ("landscape", "fit", "loss"), export=export)
    qtbot.addWidget(pic)
    pic.resize(1100, 600)
    pic.show()
    qtbot.waitExposed(pic)
    return pic


def _aa(item) -> bool:
    return bool(item.opts["antialias"])


def _live_pieces(pic: Picture) -> list:
    """Each run's items stroked anew every frame: its fit curve, the middle and tail of its
    loss curves, the tail of its trail and halo (their middles are rasterised images, kept
    between frames: see _sealed)."""
    out = [c.curve for c in pic.fit_view.run_curves]
    for c in (*pic.loss_view.curves, *pic.landscape_view.trails, *pic.landscape_view.halos):
        assert isinstance(c, GrowingCurve)
        out += [c.tail] if c.raster else [c.middle, c.tail]
    return out


def _sealed(pic: Picture) -> list:
    """The pieces kept as pixels: the sealed chunks, and the map trails' rasterised middles."""
    trails = (*pic.landscape_view.trails, *pic.landscape_view.halos)
    assert all(c.raster for c in trails)
    return [ch for c in (*pic.loss_view.curves, *trails) for ch in c.chunks] + [c.middle for c in trails]


def _play(qtbot, s, frames: int = 6) -> None:
    s.play()
    for _ in range(frames):
        s.tick(1 / 60)
        qtbot.wait(0)  # the fit panel refreshes once the change settled


def test_many_runs_playing_are_aliased_and_antialiased_again_when_paused(qtbot):
    s = _session(MANY_RUNS + 4)
    pic = _picture(qtbot, s)
    live = _live_pieces(pic)
    assert len(live) == s.n_runs * 5 and all(_aa(i) for i in live)
    _play(qtbot, s)
    live = _live_pieces(pic)
    assert not any(_aa(i) for i in live)
    # aliased, pyqtgraph must not fall back to stroking segment by segment
    assert all(i.opts.get("segmentedLineMode") == "off" for i in live if "segmentedLineMode" in i.opts)
    assert all(_aa(ch) for ch in _sealed(pic))  # cached pixels stay antialiased
    s.pause()
    qtbot.wait(0)
    assert all(_aa(i) for i in _live_pieces(pic))


def test_a_few_runs_playing_stay_antialiased(qtbot):
    s = _session(4)
    pic = _picture(qtbot, s)
    _play(qtbot, s)
    assert all(_aa(i) for i in _live_pieces(pic))


def test_an_export_picture_is_antialiased_with_many_runs_playing(qtbot):
    s = _session(MANY_RUNS + 4)
    pic = _picture(qtbot, s, export=True)
    _play(qtbot, s)
    assert all(_aa(i) for i in _live_pieces(pic))


@pytest.mark.parametrize("flag", [False, True])
def test_set_antialias_repaints_only_on_a_change(qtbot, flag):
    import pyqtgraph as pg

    item = pg.PlotDataItem([0, 1, 2], [0, 1, 0])
    item.curve.opts["antialias"] = item.opts["antialias"] = not flag
    assert set_antialias(item, flag)
    assert item.opts["antialias"] == item.curve.opts["antialias"] == flag
    assert not set_antialias(item, flag)


def test_many_runs_playing_take_turns_and_a_few_do_not(qtbot):
    s = _session(MANY_RUNS + 4)
    pic = _picture(qtbot, s)
    lv, ov = pic.landscape_view, pic.loss_view
    s.play()
    behind = []
    for _ in range(4):
        assert s.tick(1 / 60) >= 1
        behind.append((lv.turn.behind, ov.turn.behind))
        # the loss curves sat out this frame, or show the displayed step
        assert ov.turn.behind or ov.t_line.value() == s.t
    # the map and the loss curves on alternate frames: one of them sits out each frame
    assert all(a != b for a, b in behind) and behind[0] != behind[1]
    s.pause()
    assert not lv.turn.behind and not ov.turn.behind and ov.t_line.value() == s.t
    while s.n_runs > 4:
        s.remove_run(s.n_runs - 1)
    s.play()
    for _ in range(3):
        assert s.tick(1 / 60) >= 1
        assert not lv.turn.behind and not ov.turn.behind and ov.t_line.value() == s.t
