"""Qt objects the views let go are deleted by Qt on the next turn of the event loop, never
by Python's cyclic collector (issue 10: a fuzz run raised ``KeyError: 'justify'`` in
pyqtgraph's LabelItem, whose ``opts`` the collector had emptied before Qt sent the dying
item its last resize event)."""

from __future__ import annotations

import gc

import pytest
import shiboken6
from PySide6.QtWidgets import QWidget

from gdviz.core.problems import FitData
from gdviz.core.session import Session
from gdviz.ui.views import items
from gdviz.ui.views.fit_view import FitView


class _Probe(QWidget):
    """A widget with a Python override that reads its own state, in a reference cycle."""

    def __init__(self):
        super().__init__()
        self.opts = {"justify": "left"}
        self.me = self  # a cycle: only the collector frees it once dropped
        self.read: list[str] = []

    def resizeEvent(self, ev):  # noqa: N802 - Qt API
        self.read.append(self.opts["justify"])


def _watch(obj, gone: list, name: str) -> None:
    obj.destroyed.connect(lambda *_: gone.append(name))


def _fit_view(qtbot) -> FitView:
    """A fit panel (two hard sigmoids) shown at 760x560."""
    s = Session()
    assert s.set_fit(FitData(target="piecewise", model="hard-sigmoid", units=2))
    view = FitView(s)
    view.resize(760, 560)
    view.show()
    qtbot.waitExposed(view)
    return view


def _left_to_collector() -> list[str]:
    """The widgets and graphics items a collection now would free (Python's, in reference
    cycles, never deleted by Qt): their type names, sorted; nothing is freed."""
    from PySide6.QtWidgets import QGraphicsItem

    old = gc.get_debug()
    gc.set_debug(old | gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        return sorted(type(o).__qualname__ for o in gc.garbage
                      if isinstance(o, (QWidget, QGraphicsItem)) and shiboken6.isValid(o))
    finally:
        gc.set_debug(old)
        del gc.garbage[:]


@pytest.fixture
def no_collector():
    """The cyclic collector runs only when a test asks (gc.collect())."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def test_a_let_go_object_is_deleted_by_qt_on_the_next_turn(qapp, qtbot, no_collector):
    # what earlier tests let go, deleted first (run after the window's tests without a
    # turn between, 1488 objects still waited)
    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert items.dying() == 0
    gone: list = []
    w = _Probe()
    w.resize(50, 50)
    _watch(w, gone, "probe")
    items.delete_later(w)
    assert items.dying() == 1
    del w
    gc.collect()  # a collection before the turn: held, not freed, its state whole
    assert gone == []
    qtbot.waitUntil(lambda: gone == ["probe"], timeout=5_000)
    assert items.dying() == 0
    items.delete_later(None)  # nothing, and an object Qt already deleted is skipped
    assert items.dying() == 0


def test_a_retired_fit_legend_is_deleted_on_the_next_turn(qapp, qtbot, no_collector):
    """The fit panel's legend, replaced at a new size: the old one (its labels are
    pyqtgraph LabelItems) is deleted by Qt a turn later, even when something keeps it in a
    reference cycle, and not left for the collector."""
    view = _fit_view(qtbot)
    qtbot.addWidget(view)
    old = view.legend
    gone: list = []
    _watch(old, gone, "legend")
    _watch(old.items[0][1], gone, "label")
    old._cycle = old
    was = id(old)
    del old
    view.resize(300, 900)  # another form: a new legend
    qtbot.waitUntil(lambda: id(view.legend) != was, timeout=5_000)
    gc.collect()
    qtbot.waitUntil(lambda: "legend" in gone, timeout=5_000)
    assert "label" in gone
    assert shiboken6.isValid(view.legend)


def test_a_closed_plot_leaves_nothing_to_the_collector(qapp, qtbot, no_collector):
    """pyqtgraph's close takes a plot's view box and axes out of its scene and drops them:
    a closed view's items (the fit panel's box, its legend and labels) are deleted by Qt on
    the next turn, none left for the collector to free mid-event."""
    view = _fit_view(qtbot)
    gone: list = []
    _watch(view.vb, gone, "box")
    _watch(view.legend, gone, "legend")
    _watch(view.plot_item.getAxis("left"), gone, "axis")
    view.vb._cycle = view.vb
    view.legend._cycle = view.legend
    view.close()
    view.deleteLater()
    del view
    qtbot.waitUntil(lambda: {"box", "legend", "axis"} <= set(gone), timeout=5_000)
    assert items.dying() == 0


def test_a_gone_fit_panels_label_sizes_leave_nothing_to_the_collector(qapp, qtbot, no_collector):
    """The fit panel's legend measures its labels on a text document, not on a label item
    of its own: once the panel is gone, what it kept in a reference cycle holds no widget
    or graphics item for the collector to free (the GUI fuzz, seed 7103: a probe
    ``LabelItem`` 'Adam lr=0.001', held by LegendSizes, freed by the collector)."""
    view = _fit_view(qtbot)
    sizes = view._label_sizes
    assert sizes.measured > 0  # (the legend's forms were measured with it)
    sizes._cycle = sizes  # kept by a cycle only, as a gone view's state is
    gone: list = []
    _watch(view, gone, "view")
    view.close()
    view.deleteLater()
    del view, sizes
    qtbot.waitUntil(lambda: "view" in gone, timeout=5_000)
    assert _left_to_collector() == []


@pytest.mark.parametrize("kind", ["surface", "fit"])
def test_a_closed_picture_leaves_nothing_to_the_collector(qapp, qtbot, no_collector, kind):
    """An export's picture with every panel, each view held in a reference cycle, closed:
    every widget and graphics item it made is deleted by Qt, none left for the collector.
    (The items in no scene were Python's: the loss key's line-style samples, the fit key's
    mini-batch ring, the hyper map's waiting log axis; the collector freed them, found with
    the closed views' cycles.)"""
    from PySide6.QtCore import QCoreApplication, QEvent

    from gdviz.core.session.model import DEFAULT_SESSION_PANELS
    from gdviz.ui.picture import _VIEWS, FrameGrabber

    # what earlier tests let go, gone first (only this picture's leftovers are counted)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    items._forget_deleted()
    gc.collect()
    s = Session()
    if kind == "fit":
        assert s.set_fit(FitData(target="piecewise", model="hard-sigmoid", units=2))
    grabber = FrameGrabber(s, (640, 360), DEFAULT_SESSION_PANELS)
    grabber.frame()  # (a frame drawn: the views laid out and painted once)
    pic = grabber.picture
    views = [getattr(pic, name) for name in _VIEWS if getattr(pic, name, None) is not None]
    assert {"LossView", "HyperView"} <= {type(v).__name__ for v in views}
    assert kind != "fit" or "FitView" in {type(v).__name__ for v in views}
    for v in views:
        v._cycle = v  # (a view's bound slots and lambdas often make one)
    gone: list = []
    for k, v in enumerate(views):
        _watch(v, gone, k)
    n = len(views)
    grabber.close()
    del grabber, pic, views, v
    qtbot.waitUntil(lambda: len(gone) == n and items.dying() == 0, timeout=5_000)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    items._forget_deleted()  # (the let-go wrappers Qt deleted, no longer held: garbage now)
    assert _left_to_collector() == []


def test_a_rasterised_curves_stroke_is_deleted_by_qt_with_its_curve(qapp, qtbot, no_collector):
    """A curve's raster stroke is in no scene (it paints inside its curve's paint), and the
    two hold each other: when Qt deletes the curve, the stroke is deleted by Qt too, on
    the next turn, not left, with its kept image, for the collector."""
    import numpy as np
    import pyqtgraph as pg

    from gdviz.ui.views.items import RasterPlotCurve, fed_stroke

    scene = pg.GraphicsScene()
    curve = RasterPlotCurve()
    scene.addItem(curve)
    x = np.linspace(0.0, 1.0, 50)
    stroke = fed_stroke(curve, x, x * x, pg.mkPen("r", width=3))
    assert stroke.scene() is None and stroke is curve._stroke
    gone: list = []
    _watch(stroke, gone, "stroke")
    scene.clear()  # (Qt deletes the curve, as a closed plot's)
    assert not shiboken6.isValid(curve)
    del curve, stroke
    qtbot.waitUntil(lambda: gone == ["stroke"], timeout=5_000)
    shiboken6.delete(scene)
