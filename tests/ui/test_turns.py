"""The window's heavy views take turns while a classification plays (gdviz.ui.views.turns):
the map and the network picture on one frame, the plane and the loss curves on the next;
a step by hand draws them all, and when the race stops every view shows the displayed step
exactly. An export's picture never takes turns."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz.core.classifier import ClassifyData
from gdviz.core.session import Session
from gdviz.ui.picture import Picture


@pytest.fixture
def sess() -> Session:
    s = Session()
    assert s.set_classify(ClassifyData("circles", points=120, layers=2, units=3, noise=0.1))
    s.set_speed(60.0)
    return s


def _picture(qtbot, s, export=False) -> Picture:
    pic = Picture(s, ("landscape", "fit", "loss", "network"), export=export)
    qtbot.addWidget(pic)
    pic.resize(1100, 600)
    pic.show()
    qtbot.waitExposed(pic)
    # computed on the spot: what a view shows is then the step it last drew (the workers
    # have tests of their own)
    pic.landscape_view.adaptive = False
    pic.plane_view.live_async = False
    return pic


def _current(pic: Picture, s: Session) -> dict[str, bool]:
    """Which views show the displayed step."""
    ref = s.reference_run()
    p = np.asarray(s.positions()[ref])
    lv, pv = pic.landscape_view, pic.plane_view
    heads = lv._last_heads[0]
    want_heads = np.array([s.project(q) for q in s.positions()])
    x, y = pv.boundaries[ref].getData()
    from gdviz.ui import theme
    from gdviz.ui.views.plane_view import _prob_lut, plane_picture

    want = plane_picture(s.problem, np.array(s.positions()), ref, pv._shown_runs(), pv._box,
                         pv._grid, _prob_lut(theme.current()), pv._data_box, None)
    xy = want.boundaries[ref]
    return {
        "map": heads.shape == want_heads.shape and np.array_equal(heads, want_heads)
        and lv._land_key[0] == s.landscape.key(),
        "loss": pic.loss_view.t_line.value() == s.t,
        "plane": xy is not None and len(x) == len(xy) and np.array_equal(np.column_stack([x, y]), xy),
        "network": np.array_equal(pic.network_view.weights[0].ravel(),
                                  p[:pic.network_view.weights[0].size]),
    }


def test_heavy_views_take_turns_while_playing_and_are_exact_when_paused(qtbot, sess):
    s = sess
    pic = _picture(qtbot, s)
    assert all(_current(pic, s).values())
    s.play()
    groups = []
    for _ in range(6):
        assert s.tick(1 / 60) == 1
        now = _current(pic, s)
        # the map with the network picture, the plane with the loss curves: a pair a frame
        assert now["map"] == now["network"] and now["plane"] == now["loss"], now
        assert now["map"] != now["plane"], now
        groups.append("map" if now["map"] else "plane")
    assert groups in (["map", "plane"] * 3, ["plane", "map"] * 3)
    if groups[-1] == "map":  # end on a frame the map sat out
        assert s.tick(1 / 60) == 1
    assert not _current(pic, s)["map"]
    s.scrub(s.t - 2)  # back, while playing: every view at once
    assert all(_current(pic, s).values())
    for _ in range(3):
        assert s.tick(1 / 60) == 1
    assert not all(_current(pic, s).values())  # taking turns again
    if _current(pic, s)["map"]:
        assert s.tick(1 / 60) == 1
    assert not _current(pic, s)["map"]
    s.pause()
    assert all(_current(pic, s).values())
    s.step(1)  # by hand: every view at once
    assert all(_current(pic, s).values())


def test_views_draw_every_frame_of_an_export_and_of_a_surface_lesson(qtbot, sess):
    s = sess
    pic = _picture(qtbot, s, export=True)
    s.play()
    for _ in range(3):
        assert s.tick(1 / 60) == 1
        # an export paints a frame after its flush (FrameGrabber.frame): the map's live
        # slice is computed there, not at every piece of steps between frames
        pic.landscape_view.flush()
        assert all(_current(pic, s).values())
    s.pause()
    surface = Session()
    surface.set_speed(60.0)
    win = Picture(surface, ("landscape", "loss"))
    qtbot.addWidget(win)
    surface.play()
    for _ in range(3):
        assert surface.tick(1 / 60) == 1
        assert not win.landscape_view.turn.behind and not win.loss_view.turn.behind
        assert win.loss_view.t_line.value() == surface.t
    surface.pause()
