"""The plots have no pyqtgraph "Plot Options" menu (log axes, FFT, averaging: a stray right
click in class could turn the map into its FFT) and none of its bookkeeping: pyqtgraph listed
every curve's parameters anew at each item added or removed, quadratic in the items (a lesson
replacing 20 runs removed ~1,200 items)."""

from __future__ import annotations

import pyqtgraph as pg

from gdviz.core.optimizers import make_optimizer
from gdviz.core.scene import load_preset
from gdviz.core.scene.bridge import apply_scene
from gdviz.core.session import RunSpec, Session
from gdviz.ui.picture import Picture


def _plots(pic: Picture) -> dict:
    names = ("landscape_view", "fit_view", "loss_view", "schedule_view", "hyper_view",
             "lrfind_view", "plane_view")
    return {n: getattr(pic, n).plot_item for n in names if getattr(pic, n, None) is not None}


def test_no_plot_options_menu_and_no_parameter_lists_when_runs_change(qtbot, monkeypatch):
    s = Session()
    apply_scene(load_preset("L13_weight_decay"), s)
    pic = Picture(s, ("landscape", "fit", "loss", "schedule"))
    qtbot.addWidget(pic)
    pic.resize(1100, 600)
    pic.show()
    qtbot.waitExposed(pic)
    plots = _plots(pic)
    assert {"landscape_view", "fit_view", "loss_view", "schedule_view"} <= set(plots)
    for p in plots.values():
        assert p.getContextMenus(None) is None  # no "Plot Options"
    # the map keeps its own menu (heatmap, view all)
    lv = pic.landscape_view
    assert lv.vb.menuEnabled() and lv.heatmap_action in lv.vb.menu.actions()
    listed = []
    monkeypatch.setattr(pg.QtWidgets.QListWidget, "clear",
                        lambda self: listed.append(self) or None)
    for _ in range(20):
        s.add_run(RunSpec(config=make_optimizer("adam")))
    qtbot.wait(0)
    apply_scene(load_preset("L06_minibatch_epoch"), s)
    qtbot.wait(0)
    avg_lists = {id(p.ctrl.avgParamList) for p in plots.values()}
    assert not [w for w in listed if id(w) in avg_lists]


def _shown(menu) -> list[str]:
    return [a.text() for a in menu.actions() if a.isVisible() and not a.isSeparator()]


def test_the_maps_menu_holds_the_lessons_entries_only(qtbot):
    """pyqtgraph's View All, X/Y axis panels, Mouse Mode and the scene's Export... were
    English in every language, and that Export wrote the map alone; the hyperparameter map
    (a fixed picture) has no menu."""
    s = Session()
    apply_scene(load_preset("L13_weight_decay"), s)
    pic = Picture(s, ("landscape", "fit", "loss"))
    qtbot.addWidget(pic)
    lv = pic.landscape_view
    menu = lv.scene().addParentContextMenus(lv.vb, lv.vb.getMenu(None),
                                            type("Click", (), {"acceptedItem": lv.vb})())
    shown = _shown(menu)
    assert lv.heatmap_action.text() in shown and lv.view_all_action.text() in shown
    for foreign in ("View All", "X axis", "Y axis", "Mouse Mode", "Export..."):
        assert foreign not in shown
    from gdviz.ui.views.hyper_view import HyperView
    hv = HyperView(s)
    qtbot.addWidget(hv)
    assert not hv.vb.menuEnabled()


def test_scattered_points_are_restyled_once_and_look_as_pyqtgraphs_setters_make_them(
        qtbot, monkeypatch):
    """style_points sets the points' size, fill and outline with one pass over their
    symbols (pyqtgraph's setSize, setBrush and setPen each render every symbol again: a
    text-size press restyled the fit's, the classifier's and the lr finder's points three
    times each), and none when the style is the one they have; the picture is the one the
    three setters make."""
    import numpy as np
    from PySide6.QtGui import QImage

    from gdviz.ui.views.items import style_points

    x = np.linspace(-1.0, 1.0, 25)
    pictures = []
    for way in ("setters", "helper"):
        w = pg.PlotWidget()
        qtbot.addWidget(w)
        w.resize(300, 200)
        w.setXRange(-1.2, 1.2, padding=0)
        w.setYRange(-1.2, 1.2, padding=0)
        pts = pg.ScatterPlotItem(x=x, y=x ** 2)
        w.addItem(pts)
        w.show()
        qtbot.waitExposed(w)
        updates = []
        real = pg.ScatterPlotItem.updateSpots
        monkeypatch.setattr(pg.ScatterPlotItem, "updateSpots",
                            lambda self, *a: updates.append(1) or real(self, *a))
        for size, colour in ((9.0, "#0072B2"), (14.0, "#D55E00")):
            brush, pen = pg.mkBrush(colour), pg.mkPen("#202020", width=2.5)
            updates.clear()
            if way == "setters":
                pts.setSize(size)
                pts.setBrush(brush)
                pts.setPen(pen)
                assert len(updates) == 3
            else:
                style_points(pts, size=size, brush=brush, pen=pen)
                assert len(updates) == 1
                style_points(pts, size=size, brush=pg.mkBrush(colour),
                             pen=pg.mkPen("#202020", width=2.5))
                assert len(updates) == 1  # the same style: nothing redone
        monkeypatch.undo()
        img = w.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        pictures.append(np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).copy())
    assert np.array_equal(pictures[0], pictures[1])


def test_a_hidden_curve_does_not_follow_the_view_and_catches_up_when_shown(qtbot):
    """Curve (the schedule's and the fit panel's run curves, and their spares): pyqtgraph
    redid every curve's display data at each change of the view's range, hidden or not
    (~150 hidden curves per lesson opened). Hidden, it waits; shown, it shows the data
    clipped to the view it has then, as pyqtgraph's own curve does."""
    import numpy as np

    from gdviz.ui.views.items import Curve

    pw = pg.PlotWidget()
    qtbot.addWidget(pw)
    pw.resize(300, 200)
    pw.show()
    qtbot.waitExposed(pw)
    x = np.linspace(0.0, 10.0, 201)
    y = np.where(x > 5.0, 1e12, x)  # beyond pyqtgraph's dynamic range limit off screen
    ours, theirs = Curve(x, y), pg.PlotDataItem(x, y)
    for c in (ours, theirs):
        pw.addItem(c)
    updates = []
    orig = ours.updateItems
    ours.updateItems = lambda *a, **k: (updates.append(1), orig(*a, **k))[1]
    pw.getPlotItem().vb.setRange(xRange=(0, 4), yRange=(0, 4), padding=0)
    assert updates  # shown: it follows the view
    ours.setVisible(False)
    theirs.setVisible(False)
    updates.clear()
    pw.getPlotItem().vb.setRange(xRange=(0, 10), yRange=(-1e6, 2e6), padding=0)
    assert updates == []  # hidden: nothing redone
    ours.setVisible(True)
    theirs.setVisible(True)
    assert len(updates) == 1  # shown: once, for the view it missed
    a = ours.curve.getData()
    b = theirs.curve.getData()
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
