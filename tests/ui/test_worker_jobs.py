"""What a view hands to a worker's thread holds no Qt object (issue 10).

A worker keeps its last job until the next one comes, and drops it on its own thread. A
job that held its view (``lambda: self._grid_picture(...)``) could be the view's last
reference once the view was closed (an export's picture), and the view, its items and
their Python-owned spares were then freed on the worker's thread. Qt objects are to be
deleted on their own thread. The one
Qt object a map's passes may hold is the worker itself (its ``stale``), which its thread
holds anyway."""

from __future__ import annotations

import gc
import types

import numpy as np
import shiboken6
import test_maps_ui

import gdviz.kernels as kernels
from gdviz.core.optimizers import make_optimizer
from gdviz.core.session import RunSpec, Session
from gdviz.core.surfaces import Landscape
from gdviz.ui.views.landscape_view import LandscapeView
from gdviz.ui.views.map_layer import MapWorker

# the maps' tests' session (Himmelblau, SGD and momentum) and view (tests/ui is on sys.path)
sess, _view = test_maps_ui.sess, test_maps_ui._view


def qt_objects_in(root, allow=()) -> list[str]:
    """The Qt objects reachable from ``root`` through closures, defaults, bound methods,
    containers and instance dicts (not through modules, classes or a function's globals),
    but for those in ``allow``: their class names."""
    allowed = {id(a) for a in allow}
    seen, found, stack = set(), [], [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, shiboken6.Shiboken.Object):
            if id(obj) not in allowed:
                found.append(type(obj).__name__)
            continue
        if isinstance(obj, (types.ModuleType, type, np.ndarray)):
            continue
        if isinstance(obj, types.FunctionType):
            stack.extend(c.cell_contents for c in obj.__closure__ or ())
            stack.extend(obj.__defaults__ or ())
            stack.extend((obj.__kwdefaults__ or {}).values())
            continue
        if isinstance(obj, types.MethodType):
            stack.extend((obj.__self__, obj.__func__))
            continue
        stack.extend(gc.get_referents(obj))
    return found


def test_the_walk_finds_a_view_in_a_closure(qtbot):
    """(The check can fail: a job as it was, a lambda over its view.)"""
    v = LandscapeView(Session(Landscape.from_surface("himmelblau")))
    qtbot.addWidget(v)
    assert "LandscapeView" in qt_objects_in(lambda: v._grid_picture(None, None, 8))
    assert qt_objects_in(({"a": [1, (2.0, "x")]}, np.zeros(3))) == []


def test_a_live_surfaces_job_holds_no_qt_object(qtbot, sess):
    v = _view(qtbot, sess)
    job = v._grid_job(sess.landscape, v._box, 16)
    assert qt_objects_in(job) == []
    pic = job()
    assert pic.n == 16 and pic.box == v._box


def test_a_basin_maps_passes_hold_no_qt_object_but_their_worker(qtbot, sess, monkeypatch):
    sent = []
    submit = MapWorker.submit
    monkeypatch.setattr(MapWorker, "submit",
                        lambda self, passes: sent.append((self, passes)) or submit(self, passes))
    v = _view(qtbot, sess)
    sess.set_map_options(map_layer="basins")
    qtbot.waitUntil(lambda: bool(sent), timeout=10_000)
    worker, passes = sent[-1]
    assert worker is v.map_layer.worker
    assert qt_objects_in(passes, allow=(worker,)) == []


def test_a_hyper_maps_passes_hold_no_qt_object_but_their_worker(qtbot, monkeypatch):
    from gdviz.ui.views.hyper_view import HyperView

    kernels.warmup()
    s = Session(Landscape.from_surface("ellipse"),
                [RunSpec(make_optimizer("momentum", lr=0.01, momentum=0.5))],
                starts=[(-1.5, 1.0)], max_steps=100)
    sent = []
    submit = MapWorker.submit
    monkeypatch.setattr(MapWorker, "submit",
                        lambda self, passes: sent.append((self, passes)) or submit(self, passes))
    v = HyperView(s)
    qtbot.addWidget(v)
    v.resize(500, 400)
    v.show()
    s.set_map_options(hyper_axis="momentum")
    qtbot.waitUntil(lambda: bool(sent), timeout=10_000)
    worker, passes = sent[-1]
    assert worker is v.worker
    assert qt_objects_in(passes, allow=(worker,)) == []
