"""Scattered points forget the symbols of styles they no longer have (items.Points).

pyqtgraph renders each (symbol, size, pen, brush) a ScatterPlotItem meets into one atlas,
keyed on the pen's and brush's objects, and rebuilds it only past 1000 symbols. A theme, a
text size or a step that gave a few points new brushes made the atlas grow for the whole
session, and each addition copied it: after 9,000 fuzz actions one Ctrl+= spent 63 ms
adding the loss view's run-end stars to theirs (issue 10: no turn over 100 ms)."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtGui import QColor

from gdviz.core.scene import load_preset
from gdviz.core.scene.bridge import apply_scene
from gdviz.core.session import Session
from gdviz.ui.picture import Picture
from gdviz.ui.views.items import SYMBOLS_KEPT, Points, style_points

XS, YS = [0.0, 1.0, 2.0], [0.0, 1.0, 0.5]


def _brushes(k: int) -> list:
    # new brush objects each time, as a restyle or a step makes them
    return [pg.mkBrush(QColor.fromHsv((k * 37 + j * 90) % 360, 200, 220)) for j in range(3)]


def _restyle(item, times: int) -> None:
    for k in range(times):
        item.setData(x=XS, y=YS, brush=_brushes(k), size=12 + k % 5)


def test_pyqtgraphs_scatter_keeps_every_style_it_met():
    """What Points is for: pyqtgraph's own scatter grows by a symbol per new brush."""
    item = pg.ScatterPlotItem(symbol="star", pxMode=True)
    _restyle(item, 300)
    assert len(item.fragmentAtlas) > 600


def test_points_keep_a_bounded_atlas_through_restyles_and_steps():
    item = Points(symbol="star", pxMode=True)
    sizes = []
    for k in range(300):
        item.setData(x=XS, y=YS, brush=_brushes(k), size=12 + k % 5)
        sizes.append(len(item.fragmentAtlas))
    assert max(sizes) <= SYMBOLS_KEPT + 3
    # through style_points too (a theme, a text size: new pen and brush objects)
    for k in range(200):
        style_points(item, size=10 + k % 7, brush=pg.mkBrush(QColor.fromHsv(k % 360, 180, 200)),
                     pen=pg.mkPen(QColor.fromHsv((k * 7) % 360, 90, 90), width=1.5))
    assert len(item.fragmentAtlas) <= SYMBOLS_KEPT + 1


def test_a_scatter_of_many_points_keeps_pyqtgraphs_rule():
    """Many points of one style: the atlas is not rebuilt (each rebuild would look up every
    point's symbol again); it holds one symbol per style met."""
    n = 5000
    item = Points(symbol="o", pxMode=True, size=6)
    item.setData(x=[float(i) for i in range(n)], y=[0.0] * n)
    rebuilt = []
    item.fragmentAtlas.clear = lambda orig=item.fragmentAtlas.clear: rebuilt.append(1) or orig()
    for k in range(100):
        style_points(item, size=6 + k % 3, brush=pg.mkBrush(QColor.fromHsv(k, 200, 200)))
    assert rebuilt == [] and len(item.fragmentAtlas) == 101


def test_many_points_of_the_scatter_s_own_style_find_their_symbol_once(qtbot):
    """Points that all take the scatter's own style are given their one symbol at once
    (pyqtgraph made and hashed a key for each: 190 ms of a 100,000-row CSV's load): the
    same atlas places as pyqtgraph's own path gives, the same pixels; points with styles
    of their own, and a scatter restyled, go through pyqtgraph's path as before."""
    from gdviz.ui.views import items

    n = 3000
    xs = [0.5 + 1.5 * ((i * 7919) % n) / n for i in range(n)]
    ys = [0.5 + 0.8 * ((i * 104729) % n) / n for i in range(n)]
    looked_up = []

    def count(item):
        real = item.fragmentAtlas.__class__.__getitem__
        item.fragmentAtlas.__class__ = type("Counted", (item.fragmentAtlas.__class__,), {
            "__getitem__": lambda atlas, styles: (looked_up.append(len(styles)),
                                                  real(atlas, styles))[1]})

    ours = Points(symbol="o", pxMode=True, size=7, brush=pg.mkBrush("#3070c0"), pen=None)
    count(ours)
    ours.setData(x=xs, y=ys)
    assert looked_up == [1]  # one style looked up, not n
    theirs = pg.ScatterPlotItem(symbol="o", pxMode=True, size=7, brush=pg.mkBrush("#3070c0"),
                                pen=None)
    theirs.setData(x=xs, y=ys)
    rects = ours.data["sourceRect"]
    assert (rects["w"] > 0).all() and (rects == rects[0]).all()
    assert (rects == theirs.data["sourceRect"]).all()
    a, b = _grab(qtbot, ours), _grab(qtbot, theirs)
    assert a.size() == b.size() and a == b
    # a restyle: every point's symbol anew, still once
    looked_up.clear()
    style_points(ours, size=9, brush=pg.mkBrush("#c03030"))
    assert looked_up == [1] and (ours.data["sourceRect"]["w"] > 0).all()
    # points with brushes of their own: pyqtgraph's path (a style for each point)
    looked_up.clear()
    ours.setData(x=xs, y=ys, brush=[pg.mkBrush("#30c030") if i % 2 else pg.mkBrush("#3030c0")
                                    for i in range(n)])
    assert looked_up == [n]
    # a few points: pyqtgraph's path
    few = Points(symbol="o", pxMode=True, size=7)
    count(few)
    looked_up.clear()
    few.setData(x=XS, y=YS)
    assert looked_up == [len(XS)] and items.ONE_STYLE_POINTS > len(XS)


@pytest.mark.parametrize("n", [0, 1, 3, 300, 3000])
def test_points_given_positions_hold_the_records_pyqtgraph_makes(qtbot, n):
    """A scatter given only positions makes its records with np.zeros, its object fields
    set to None (np.empty filled each object field of each record one by one: 31 ms of a
    100,000-point fit's load): the same records as pyqtgraph's own, the same pixels; a
    second setData replaces them, points added to some go pyqtgraph's way."""
    xs = [0.5 + 1.5 * ((i * 7919) % max(n, 1)) / max(n, 1) for i in range(n)]
    ys = [0.5 + 0.8 * ((i * 104729) % max(n, 1)) / max(n, 1) for i in range(n)]
    style = dict(symbol="o", pxMode=True, size=7, brush=pg.mkBrush("#3070c0"), pen=None)
    ours, theirs = Points(**style), pg.ScatterPlotItem(**style)
    for item in (ours, theirs):
        item.setData(x=[9.0], y=[9.0])  # (replaced)
        item.setData(x=xs, y=ys)
    again = Points(**style)
    again.setData(xs, ys)  # (positions as pyqtgraph reads two arguments)
    assert again.getData()[0].tolist() == xs and (again.data == ours.data).all()
    a, b = ours.data, theirs.data
    assert a.dtype == b.dtype and len(a) == len(b) == n
    for name in a.dtype.names:
        if a.dtype[name].hasobject:  # None where pyqtgraph has None, the same objects else
            assert [v is None for v in a[name]] == [v is None for v in b[name]], name
        else:
            assert (a[name] == b[name]).all(), name
    assert (a["size"] == -1).all() and a["visible"].all()
    if n:
        assert ours.getData()[0].tolist() == xs
        assert _grab(qtbot, ours) == _grab(qtbot, theirs)
    # points added to others: pyqtgraph's path, their records after the first ones
    ours.addPoints(x=[0.1, 0.2], y=[0.3, 0.4])
    theirs.addPoints(x=[0.1, 0.2], y=[0.3, 0.4])
    assert ours.getData()[1].tolist() == theirs.getData()[1].tolist() == ys + [0.3, 0.4]


def _grab(qtbot, item) -> "pg.QtGui.QImage":
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    w.resize(240, 160)
    w.getPlotItem().hideAxis("left")
    w.getPlotItem().hideAxis("bottom")
    w.addItem(item)
    w.setRange(xRange=(-0.5, 2.5), yRange=(-0.5, 1.5), padding=0)
    w.show()
    qtbot.waitExposed(w)
    return w.grab().toImage()


def test_points_restyled_many_times_paint_as_fresh_ones(qtbot):
    churned = Points(symbol="star", pxMode=True)
    _restyle(churned, 250)
    last = 249
    fresh = pg.ScatterPlotItem(symbol="star", pxMode=True)
    fresh.setData(x=XS, y=YS, brush=_brushes(last), size=12 + last % 5)
    a, b = _grab(qtbot, churned), _grab(qtbot, fresh)
    assert a.size() == b.size() and a == b


@pytest.mark.parametrize("preset, panels", [
    ("L13_weight_decay", ("landscape", "fit", "loss", "schedule")),
    ("L18_lr_find", ("landscape", "loss", "lrfind")),
    ("L20_circles", ("landscape", "fit", "network")),
])
def test_every_scatter_in_the_picture_is_points(qtbot, preset, panels):
    s = Session()
    apply_scene(load_preset(preset), s)
    pic = Picture(s, panels)
    qtbot.addWidget(pic)
    pic.resize(1100, 600)
    pic.show()
    qtbot.waitExposed(pic)
    scatters = [it for v in pic.findChildren(pg.GraphicsView) for it in v.scene().items()
                if isinstance(it, pg.ScatterPlotItem)]
    # (a curve's own scatter, pyqtgraph's, draws no symbols: none of ours has any)
    inner = [it for it in scatters if isinstance(it.parentItem(), pg.PlotDataItem)]
    assert all(len(it.data) == 0 for it in inner)
    ours = [it for it in scatters if it not in inner]
    assert ours and all(isinstance(it, Points) for it in ours), \
        [type(it).__name__ for it in ours if not isinstance(it, Points)]
