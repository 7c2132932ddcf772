"""The landscape's map mode and the hyper-map panel (issue 11), offscreen."""

from __future__ import annotations

import numpy as np
import pytest

import gdviz.kernels as kernels
from gdviz.core import maps as CM
from gdviz.core.optimizers import make_optimizer
from gdviz.core.session import RunSpec, Session
from gdviz.core.surfaces import Landscape
from gdviz.ui.views.landscape_view import LandscapeView


@pytest.fixture
def sess() -> Session:
    kernels.warmup()
    return Session(Landscape.from_surface("himmelblau"),
                   [RunSpec(make_optimizer("sgd", lr=0.01)),
                    RunSpec(make_optimizer("momentum", lr=0.01, momentum=0.9))],
                   max_steps=200)


def _view(qtbot, sess, **kw):
    v = LandscapeView(sess, **kw)
    qtbot.addWidget(v)
    v.resize(900, 700)
    v.show()
    qtbot.waitExposed(v)
    v.flush()
    return v


def test_basin_map_refines_progressively_off_the_ui_thread(qtbot, sess):
    v = _view(qtbot, sess)
    layer = v.map_layer
    assert not layer.image.isVisible()
    sides = []
    layer.worker.done.connect(lambda g, item: sides.append(item[0][0]))
    sess.set_map_options(map_layer="basins")
    qtbot.waitUntil(lambda: bool(sides) and sides[-1] == 256, timeout=60000)
    assert layer.result.nx == 256
    assert sides[:2] == [32, 64] and sides[-1] == 256  # coarse first, then refined
    assert layer.image.isVisible() and not v.colorbar.isVisible()
    lab = layer.labels
    assert set(np.unique(lab[lab >= 0])) == {0, 1, 2, 3}  # Himmelblau's four minima
    # the map equals core's basin map of the first run (SGD) over the view box
    setup = CM.MapSetup(make_optimizer("sgd", lr=0.01), steps=200)
    ref = CM.basin_map(sess.landscape, setup, view=v._box, nx=256)
    np.testing.assert_array_equal(layer.result.end, ref.end)
    sess.set_map_options(map_layer="off")
    assert not layer.image.isVisible()


def test_a_basin_maps_cells_are_told_their_basins_on_the_workers_thread(qtbot, monkeypatch):
    """The greedy clustering of end points that settle apart (a flat surface: every start
    where it began, ~700 clusters) runs where the pass is computed, not on the UI thread
    (a rippled custom surface held the window 1.3 s there); the colours shown are the
    basins the worker found."""
    import threading

    kernels.warmup()
    s = Session(Landscape.from_expr("0*x + 0*y", view=(-1, 1, -1, 1)),
                [RunSpec(make_optimizer("sgd", lr=0.05))], max_steps=20)
    threads = []
    orig = CM.BasinBook.assign

    def assign(book, r):
        threads.append(threading.current_thread())
        return orig(book, r)

    monkeypatch.setattr(CM.BasinBook, "assign", assign)
    v = _view(qtbot, s)
    layer = v.map_layer
    sides = []
    layer.worker.done.connect(lambda g, item: sides.append(item[0][0]))
    s.set_map_options(map_layer="basins")
    qtbot.waitUntil(lambda: bool(sides) and sides[-1] == 256 and layer.result is not None
                    and layer.result.nx == 256, timeout=60000)
    assert threads and all(t is not threading.main_thread() for t in threads)
    lab = layer.labels
    assert lab is not None and lab.shape == (256 * 256,) and (lab >= 0).sum() > 1000
    assert len(np.unique(lab[lab >= 0])) > 20  # (many "basins": the case that was slow)
    # the image shows those labels: a basin's cells in its hue, cycling
    img = layer.image.image.reshape(-1, 4)
    from gdviz.ui.views.map_layer import basin_colors

    cols = basin_colors(len(CM.BASIN_HUES))
    ok = lab >= 0
    assert (img[ok] == cols[lab[ok] % len(cols)]).all()
    # a theme's redraw keeps them, and tells no cell again
    n = len(threads)
    layer.retheme()
    assert len(threads) == n and (layer.labels == lab).all()


def test_the_map_worker_leaves_a_core_to_the_ui_thread(qtbot, sess, monkeypatch):
    """The map's passes run on every core but one (numba's count is per thread): on all
    the cores of a two-core machine, the window's own work (a lesson's opening) waited."""
    import threading

    seen = []
    real = kernels.spare_a_core
    monkeypatch.setattr(kernels, "spare_a_core",
                        lambda: seen.append((threading.current_thread().name, real())))
    v = _view(qtbot, sess)
    sess.set_map_options(map_layer="basins")
    qtbot.waitUntil(lambda: v.map_layer.result is not None, timeout=60000)
    assert seen and {name for name, _ in seen} == {"gdviz-map"}
    assert all(n >= 1 for _, n in seen)


def test_the_map_and_live_workers_run_below_the_ui_thread(qtbot, sess):
    """Where the window and a worker want the same core, the OS gives it to the window:
    the map's and the live surface's worker threads lower their own priority (Linux: a
    thread's nice value is its own), the UI thread keeps its. (On one core, a lesson opened
    while a basin map computed took 72 ms of wall time for 36 ms of its CPU time; with the
    worker lowered, 36 ms.) Elsewhere nothing changes."""
    import os
    import sys
    import threading

    from gdviz.ui.views.live_grid import LiveGridWorker

    linux = sys.platform.startswith("linux")

    def nice(thread) -> int:
        return os.getpriority(os.PRIO_PROCESS, thread.native_id) if linux else 0

    ui_before = nice(threading.current_thread())
    v = _view(qtbot, sess)
    live = LiveGridWorker(v)
    workers = (v.map_layer.worker._thread, live._thread)
    if linux:
        qtbot.waitUntil(lambda: all(nice(t) >= kernels.BACKGROUND_NICE for t in workers),
                        timeout=10000)
    else:
        assert kernels.lower_thread_priority() is False
    assert nice(threading.current_thread()) == ui_before
    live.stop()


def test_spare_a_core_sets_the_calling_threads_count_only():
    import threading

    from gdviz.kernels import _jit

    kernels.warmup()
    top = int(_jit.numba.config.NUMBA_NUM_THREADS)
    with kernels.num_threads(top):
        got = []
        t = threading.Thread(target=lambda: got.append(kernels.spare_a_core()))
        t.start()
        t.join()
        with kernels.num_threads(1) as here:  # this thread's count: as it was
            assert here == top
    assert got == [max(1, top - 1)]


def test_slider_move_cancels_and_recomputes(qtbot, sess):
    v = _view(qtbot, sess)
    layer = v.map_layer
    sess.set_map_options(map_layer="basins")
    g0 = layer.worker.generation
    sess.update_run(0, lr=0.02)  # a slider move
    assert layer.worker.generation > g0
    qtbot.waitUntil(lambda: layer.result is not None and layer.result.nx == 256, timeout=60000)
    ref = CM.basin_map(sess.landscape, CM.MapSetup(make_optimizer("sgd", lr=0.02), steps=200),
                       view=v._box, nx=256)
    np.testing.assert_array_equal(layer.result.end, ref.end)


def test_selected_run_drives_the_map_and_steps_mode(qtbot, sess):
    v = _view(qtbot, sess)
    layer = v.map_layer
    sess.select(1)
    sess.set_map_options(map_layer="steps")
    qtbot.waitUntil(lambda: layer.result is not None and layer.result.nx == 256, timeout=60000)
    setup = CM.MapSetup(make_optimizer("momentum", lr=0.01, momentum=0.9), steps=200,
                        noise_run=1)
    ref = CM.basin_map(sess.landscape, setup, view=v._box, nx=256)
    np.testing.assert_array_equal(layer.result.conv_at, ref.conv_at)


def test_export_view_computes_the_full_map_at_once(qtbot, sess):
    v = _view(qtbot, sess, adaptive=False)
    sess.set_map_options(map_layer="basins")
    v.flush()
    assert v.map_layer.result is not None and v.map_layer.result.nx == 256


def test_regression_basin_map_equals_core(qtbot):
    kernels.warmup()
    s = Session(specs=[RunSpec(make_optimizer("sgd", lr=0.05))], max_steps=50)
    s.set_regression()
    v = _view(qtbot, s)
    layer = v.map_layer
    sides = []
    layer.worker.done.connect(lambda g, item: sides.append(item[0][0]))
    s.set_map_options(map_layer="basins")
    qtbot.waitUntil(lambda: bool(sides) and sides[-1] == 64, timeout=60000)
    assert sides == [16, 32, 64]  # a data map's cells are dear: a 16² pass first
    assert layer.image.isVisible() and layer.result.nx == 64
    setup = CM.MapSetup(s.effective_config(0), steps=50, total=50)
    ref = CM.basin_map_problem(s.runset.problem, setup, s.starts[0], v._box, nx=64)
    np.testing.assert_array_equal(layer.result.end, ref.end)
    lab = layer.labels
    assert (lab == 0).any() and (lab <= 0).all()  # one basin: the least-squares minimum


def _ellipse_session():
    kernels.warmup()
    return Session(Landscape.from_surface("ellipse"),
                   [RunSpec(make_optimizer("momentum", lr=0.01, momentum=0.5))],
                   starts=[(-1.5, 1.0)], max_steps=100)


def test_hyper_view_refines_and_equals_core(qtbot):
    from gdviz.ui.views.hyper_view import HyperView

    s = _ellipse_session()
    v = HyperView(s)
    qtbot.addWidget(v)
    v.resize(500, 400)
    v.show()
    sides = []
    v.worker.done.connect(lambda g, item: sides.append(item[0][0]))
    s.set_map_options(hyper_axis="momentum")
    qtbot.waitUntil(lambda: bool(sides) and sides[-1] == 64, timeout=60000)
    assert v.result.nx == 64
    assert sides[0] == 16 and sides[-1] == 64
    setup = CM.MapSetup(make_optimizer("momentum", lr=0.01, momentum=0.5), steps=100)
    ref, lrs, ys = CM.hyper_map(s.landscape, setup, (-1.5, 1.0), "momentum", nx=64,
                                lr_range=(1e-4, 1.0), y_range=(0.0, 0.99))
    np.testing.assert_array_equal(v.result.end, ref.end)
    assert v.result.diverged.any() and not v.result.diverged.all()
    # the cross-hair is the run's setting
    assert v.vline.value() == pytest.approx(np.log10(0.01))
    assert v.hline.value() == pytest.approx(0.5)
    # clicking a cell sets the run and replays the race
    s.step(30)
    assert v.apply_cell(40, 20)
    assert s.t == 0 and s.playing
    cfg = s.specs[0].config
    assert cfg.lr == pytest.approx(v.lrs[20]) and cfg.momentum == pytest.approx(v.ys[40])
    assert v.vline.value() == pytest.approx(np.log10(v.lrs[20]))
    # the map itself does not depend on the run's own lr / momentum: no recompute
    assert v.result.nx == 64
    # the run replays to the cell's result
    s.pause()
    s.step(100)
    np.testing.assert_allclose(s.runset.params[0], v.result.end[40 * 64 + 20], rtol=0, atol=0)
    v.close()


def test_hyper_view_refuses_an_axis_the_optimizer_lacks(qtbot):
    from gdviz.ui.views.hyper_view import HyperView

    s = _ellipse_session()
    v = HyperView(s, sync=True)
    qtbot.addWidget(v)
    s.set_map_options(hyper_axis="beta1")
    assert "has no" in v.message
    s.set_map_options(hyper_axis="batch_size")
    assert v.message == "" and v.result is not None and v.result.nx == 64
    v.close()


def test_window_and_export_pictures_include_the_maps(qtbot):
    from gdviz.ui.picture import FrameGrabber

    s = _ellipse_session()
    s.set_map_options(map_layer="steps", hyper_axis="momentum")
    g = FrameGrabber(s, (1280, 720), ("landscape", "hyper"), status=False)
    try:
        frame = g.frame()
        assert frame.shape == (720, 1280, 4)
        pic = g.picture
        assert pic.hyper_view.isVisibleTo(pic) and pic.hyper_view.result.nx == 64
        assert pic.landscape_view.map_layer.result.nx == 256
        assert "hyper" in pic.shown()
    finally:
        g.close()


def test_hyper_view_on_regression_equals_the_race(qtbot):
    """lr x momentum and lr x batch size on L(w, b) with real mini-batches: a cell is the
    race's run with that setting."""
    from gdviz.ui.views.hyper_view import HyperView

    kernels.warmup()
    s = Session(specs=[RunSpec(make_optimizer("momentum", lr=0.01))], max_steps=30)
    s.set_regression()
    v = HyperView(s, sync=True, grid=8)
    qtbot.addWidget(v)
    for axis, (i, j) in (("momentum", (5, 3)), ("batch_size", (6, 2))):
        s.set_map_options(hyper_axis=axis)
        assert v.message == "" and v.result is not None and v.result.nx == 8
        end = v.result.end[i * 8 + j].copy()
        assert v.apply_cell(i, j)
        s.pause()
        s.step(30)
        np.testing.assert_array_equal(s.runset.params[0], end)
    v.close()


def test_fit_slice_basin_map_in_the_window_view(qtbot, monkeypatch):
    kernels.warmup()
    # several kernel calls per map: the export's own computation (on the UI thread, after
    # cancelling the worker's job) must not take that cancel for itself
    monkeypatch.setattr(CM, "STEPS_PER_CALL", 6)
    s = Session(max_steps=20)
    s.set_fit()
    v = _view(qtbot, s)
    layer = v.map_layer
    s.set_map_options(map_layer="steps")
    v.flush()  # the final pass now (what an export draws)
    assert layer.result is not None and layer.result.nx == 64
    assert layer.image.isVisible() and layer.title
    i, j = s.linked
    setup = CM.MapSetup(s.effective_config(0), steps=20, total=20)
    ref = CM.basin_map_problem(s.runset.problem, setup, s.starts[0], v._box, nx=64,
                               dims=(i, j))
    np.testing.assert_array_equal(layer.result.end, ref.end)
    # in 20 steps no start settles: the map is all grey, and its title says why first
    r = layer.result
    assert not (r.conv_at[~r.diverged] >= 0).any()
    assert layer.title.startswith("In 20 steps no start settles")


def test_a_map_where_starts_settle_keeps_its_key_title(qtbot, sess):
    v = _view(qtbot, sess)
    layer = v.map_layer
    sess.set_map_options(map_layer="basins")
    v.flush()
    r = layer.result
    assert (r.conv_at[~r.diverged] >= 0).any()
    assert "where each start ends" in layer.title and "no start" not in layer.title


def test_a_newer_setting_stops_the_running_chunk(qtbot):
    """A data map's chunk takes seconds (4,096 cells of a 30-unit fit: ~40 s): the job a
    newer setting replaced stops inside its chunk (it asks ``stale()``), and only the newer
    job's pass is shown."""
    from PySide6.QtCore import QObject

    from gdviz.ui.views.map_layer import MapWorker

    owner = QObject()  # (a worker is freed with its parent, on this thread)
    w = MapWorker(owner)
    started = []
    polls = []

    def long_chunk(sl):
        started.append(1)
        n = 0
        while not w.stale() and n < 10**9:  # a data map asks between its kernel calls
            n += 1
        polls.append(n)
        return "first"

    got = []
    w.done.connect(lambda gen, item: got.append((gen, item)))
    g1 = w.submit([("a", 1, long_chunk, lambda parts: parts[0])])
    qtbot.waitUntil(lambda: bool(started), timeout=10000)
    assert not w.stale()  # asked off the worker's thread: never stale
    g2 = w.submit([("b", 1, lambda sl: "second", lambda parts: parts[0])])
    qtbot.waitUntil(lambda: bool(got), timeout=10000)
    assert got == [(g2, ("b", "second"))] and g2 > g1
    assert polls and polls[0] < 10**9  # it stopped because it was stale
    w.stop()


def test_a_worker_needs_a_parent_and_ends_with_it(qtbot):
    """A worker's thread holds the worker: one without a parent was freed where its last
    reference went, often on its own thread as it ended, and Qt deleted a UI thread's object
    there while the UI thread delivered its queued signal (a segfault, ~1 run in 12 of a
    test that made a worker alone). A worker needs a parent, which frees it on the UI
    thread; when Qt deletes the parent without the worker's stop(), its thread ends too: a
    running chunk sees it as stale, and nothing is emitted."""
    import threading

    from PySide6.QtCore import QCoreApplication, QObject

    from gdviz.ui.views.live_grid import LiveGridWorker
    from gdviz.ui.views.map_layer import MapWorker

    for cls in (MapWorker, LiveGridWorker):
        with pytest.raises(TypeError, match="parent"):
            cls(None)
    owner = QObject()
    w = MapWorker(owner)
    live = LiveGridWorker(owner)
    started, polls, got = threading.Event(), [], []

    def long_chunk(sl):
        started.set()
        n = 0
        while not w.stale() and n < 10**9:
            n += 1
        polls.append(n)
        return "first"

    w.done.connect(lambda *a: got.append(a))
    w.submit([("a", 1, long_chunk, lambda parts: parts[0]),
              ("b", 1, lambda sl: "second", lambda parts: parts[0])])
    assert started.wait(10)
    threads = (w._thread, live._thread)
    del owner  # Qt deletes it and both workers, here; neither was stopped
    for t in threads:
        t.join(10)
        assert not t.is_alive()
    QCoreApplication.processEvents()  # (a queued signal would be delivered now)
    assert polls and polls[0] < 10**9 and got == []


def _other_workers_ended(*mine) -> None:
    """Wait for the threads of workers but ``mine``: closed views' of earlier tests, which
    finish the chunk under way. tracemalloc's stop (CPython 3.11) races with another thread's
    allocation, and numba's kernels allocate with PyMem_RawMalloc: a segfault in a worker
    left computing an earlier test's map."""
    import threading

    own = {w._thread for w in mine if w is not None}
    for t in threading.enumerate():
        if t.name in ("gdviz-map", "gdviz-live-grid") and t not in own:
            t.join(60)
            assert not t.is_alive(), t


def test_a_cancelled_data_map_stops_between_kernel_calls(monkeypatch):
    from gdviz.core.models import LinearRegressionProblem
    from gdviz.kernels import datastep as DS

    kernels.warmup()
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 3, 20)
    pr = LinearRegressionProblem(x, 2 * x + 1 + rng.normal(0, .2, 20), batch_size=4)
    calls = []
    real = DS.advance_data
    monkeypatch.setattr(DS, "advance_data", lambda *a, **k: (calls.append(a[15]), real(*a, **k)))
    kind, hyper = make_optimizer("sgd", lr=0.01).pack()
    starts = rng.normal(size=(8, 2))
    CM.run_cells_problem(pr, kind, hyper, 0, np.zeros(CM.KM.N_SCHED), starts, total=1000,
                         steps=1000, cancelled=lambda: len(calls) >= 2)
    assert calls == [CM.STEPS_PER_CALL] * 2  # two calls of 256 steps, not four
    calls.clear()
    CM.run_cells_problem(pr, kind, hyper, 0, np.zeros(CM.KM.N_SCHED), starts, total=1000,
                         steps=1000)
    assert sum(calls) == 1000


@pytest.mark.parametrize("lang", ["en", "zh-Hant"])
@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_hyper_map_at_large_text_keeps_its_labels_apart(window, qtbot, scale, lang):
    """L17 at 200 % on 720p: the lr labels ran into each other ("0.0010.010.1"), the axis
    title sat on them, and the note over the map was cut. Now the labels keep apart, the
    ticks use the plots' font, and the colours' key sits under the map, inside the panel."""
    from PySide6.QtGui import QFontMetrics
    from PySide6.QtWidgets import QApplication

    from gdviz.core.i18n import tr
    from gdviz.core.scene import preset_paths
    from gdviz.ui import theme

    window.set_language(lang)
    assert window.open_scene(next(p for p in preset_paths() if p.stem.startswith("L17")))
    window.set_font_scale(scale)
    qtbot.waitUntil(window.layout_settled)
    QApplication.processEvents()
    hv = window.picture.hyper_view
    assert hv is not None and hv.isVisible()
    ax = hv.plot_item.getAxis("bottom")
    assert ax.style["tickFont"].pointSizeF() == pytest.approx(theme.font(theme.BASE_PT).pointSizeF())
    lo, hi = ax.range
    length = ax.width()
    levels = ax.tickValues(lo, hi, length)
    values = levels[0][1]
    labels = ax.tickStrings(values, 1.0, levels[0][0])
    fm = QFontMetrics(ax.style["tickFont"])
    spans = []
    for v, text in zip(values, labels):
        x, w = (v - lo) / (hi - lo) * length, fm.horizontalAdvance(text)
        if x - w / 2 >= 0 and x + w / 2 <= length:  # drawn (a label sticking out is not)
            spans.append((x - w / 2, x + w / 2))
    assert len(spans) >= 1
    assert all(b[0] - a[1] > 0 for a, b in zip(spans, spans[1:])), spans
    # the minor ticks carry no labels
    assert all(s == "" for s in ax.tickStrings(levels[1][1], 1.0, levels[1][0]))
    # the key: translated, under the map, within the panel, the map not pushed out of it
    import re

    shown = re.sub(r"<[^>]+>", "", hv.key.text)
    assert shown == tr("hyper_key", lang, low="■", high="■", div="■")
    panel = hv.plot_item.sceneBoundingRect()
    key = hv.key.sceneBoundingRect()
    assert key.top() >= hv.vb.sceneBoundingRect().bottom()
    assert hv.vb.sceneBoundingRect().right() <= hv.width() + 1
    assert panel.right() <= hv.width() + 1


def test_while_the_kernels_compile_the_maps_wait_for_them_saying_so(qtbot, sess):
    """The numpy twins' maps, computed on their worker beside the compile, took the GIL
    from the window (a lesson's turn: 100-450 ms for 70-180 ms of its own work): while the
    window's kernels are being compiled, the map's layer and the hyper map wait for them,
    their titles saying so, and are computed once they come."""
    from gdviz.core.i18n import tr
    from gdviz.ui.views.hyper_view import HyperView

    v = _view(qtbot, sess)
    layer = v.map_layer
    hv = HyperView(sess)
    qtbot.addWidget(hv)
    sess.set_map_options(map_layer="basins")  # a map on its way with the kernels
    kernels.mark_ready(False)
    try:
        jobs = []
        layer.worker.submit = lambda passes, real=layer.worker.submit: jobs.append(1) or real(passes)
        hv.worker.submit = lambda passes, real=hv.worker.submit: jobs.append(2) or real(passes)
        layer.wait_for_kernels()
        hv.wait_for_kernels()
        sess.set_map_options(hyper_axis="momentum")
        sess.update_run(0, lr=0.02)  # a slider move while they wait
        hv.refresh()
        assert jobs == []  # nothing computed with the twins
        assert not layer.image.isVisible()  # (not the last setting's map)
        run = sess.spec_label(sess.spec_index(sess.reference_run()))
        assert layer.title == tr("map_title_waiting", run=run, steps=200)
        assert hv.message == tr("hyper_waiting")
        # whole, in the empty plot, wrapped to its width (the title cut it to a word)
        assert hv.note.isVisible() and hv.note.textItem.toPlainText() == tr("hyper_waiting")
        assert hv.note.textItem.textWidth() <= hv.vb.width()
    finally:
        kernels.mark_ready(True)
    layer.kernels_came()
    hv.kernels_came()
    assert sorted(jobs) == [1, 2]
    qtbot.waitUntil(lambda: layer.result is not None and layer.result.nx == 256, timeout=60000)
    qtbot.waitUntil(lambda: hv.result is not None, timeout=60000)
    assert layer.image.isVisible() and layer.title != tr("map_title_waiting", run=run, steps=200)
    assert hv.message == "" and not hv.note.isVisible()
    ref = CM.basin_map(sess.landscape, CM.MapSetup(make_optimizer("sgd", lr=0.02), steps=200),
                       view=v._box, nx=256)
    np.testing.assert_array_equal(layer.result.end, ref.end)


def test_a_map_waits_only_while_kernels_are_due(qtbot, sess):
    """Without a compile under way (a test, or kernels that failed: the twins serve for
    good), a map is computed with the twins at once, as before."""
    v = _view(qtbot, sess)
    layer = v.map_layer
    kernels.mark_ready(False)
    try:
        sess.set_map_options(map_layer="steps")
        assert not layer._waiting
        qtbot.waitUntil(lambda: layer.result is not None, timeout=60000)
    finally:
        kernels.mark_ready(True)


def test_the_window_holds_its_maps_until_its_warmup_finishes(qtbot, session, settings):
    from gdviz.ui.main_window import MainWindow

    kernels.warmup()
    kernels.mark_ready(False)
    try:
        win = MainWindow(session, settings=settings, warmup=True)
        qtbot.addWidget(win)
        layer = win.landscape_view.map_layer
        assert layer.kernels_due and win.picture.hyper_view.kernels_due
        session.set_map_options(map_layer="basins")
        assert layer._waiting
    finally:
        kernels.mark_ready(True)
    win._on_warmup_finished(True)
    assert not layer.kernels_due and not win.picture.hyper_view.kernels_due
    assert not layer._waiting
    qtbot.waitUntil(lambda: layer.result is not None, timeout=60000)


def test_a_data_maps_cells_are_made_a_chunk_at_a_time_where_they_are_computed(qtbot, monkeypatch):
    """A deep network's basin map (4 layers of 32 units, ~3,300 parameters) made every
    cell's parameters at once, for each pass, in the window's turn: ~140 MB and ~0.4 s at
    each change of the network (a fuzz run: a units slider at its end, 315 ms). The passes
    now hold the base parameters; each chunk's cells are made where it is computed (the
    worker's thread), as the whole grid would have made them."""
    import tracemalloc

    from gdviz.core.problems import FitData
    from gdviz.ui.views import map_layer

    kernels.warmup()
    s = Session(max_steps=10)
    assert s.set_fit(FitData(model="network", layers=4, units=32, points=40))
    v = _view(qtbot, s)
    layer = v.map_layer
    seen = []
    real = CM.run_cells_problem
    monkeypatch.setattr(CM, "run_cells_problem",
                        lambda problem, kind, hyper, sk, sp, cells, **kw: (
                            seen.append(cells.copy()), real(problem, kind, hyper, sk, sp, cells,
                                                            **kw))[1])
    monkeypatch.setattr(map_layer, "CHUNK", 1000)
    # the passes made as the window makes them, measured with the map off (no worker
    # computing meanwhile: tracemalloc counts every thread's allocations)
    setup_data = map_layer.data_setup_for(s)
    assert setup_data is not None
    layer._data = setup_data
    _other_workers_ended(layer.worker, getattr(v, "_live_worker", None))
    tracemalloc.start()
    try:
        layer._passes(s.landscape, setup_data[1], v._box, [16, 32, 64])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    n_params = s.runset.problem.model.n_params
    assert n_params > 3000
    assert peak < 8 * n_params * 64  # (not a row per cell: 64x64 rows were ~100 MB)
    s.set_map_options(map_layer="steps")
    # the worker's passes, the last (64x64) computed
    qtbot.waitUntil(lambda: layer.result is not None and layer.result.nx == 64, timeout=60_000)
    # the cells computed: the base parameters but for the map's two, a chunk at a time
    problem, setup, base, dims = map_layer.data_setup_for(s)
    last, rows = [], 0
    while rows < 64 * 64:
        last.insert(0, seen.pop())
        rows += len(last[0])
    cells = np.concatenate(last)
    starts = CM.pixel_centres(v._box, 64, 64)
    want = np.repeat(np.asarray(base, dtype=np.float64)[None], 64 * 64, 0)
    want[:, dims[0]], want[:, dims[1]] = starts[:, 0], starts[:, 1]
    np.testing.assert_array_equal(cells, want)
    assert max(len(c) for c in last) <= 1000


def test_hyper_view_left_axis_follows_the_setting(qtbot):
    """A batch-size map has a log left axis (sizes as numbers); back to beta1 or beta2 (or
    momentum), the axis is linear again, over the map's range (the log axis stayed, and
    labelled beta1's 0 .. 1 as decades: "1" and "10")."""
    from gdviz.ui.views.hyper_view import LogAxis, HyperView

    s = Session(specs=[RunSpec(make_optimizer("adam", lr=0.01))], max_steps=30)
    s.set_regression()
    v = HyperView(s, sync=True, grid=8)
    qtbot.addWidget(v)
    for axis, log in (("beta1", False), ("batch_size", True), ("beta2", False),
                      ("batch_size", True), ("beta1", False)):
        assert s.set_map_options(hyper_axis=axis)
        assert v.message == "" and v.result is not None, axis
        left = v.plot_item.getAxis("left")
        assert isinstance(left, LogAxis) == log, axis
        lo, hi = v.vb.viewRange()[1]
        # the axis shows the box's range (put back after the range was set, the linear
        # axis kept the batch sizes' 0 .. 1.7 beside a 0 .. 1 box)
        np.testing.assert_allclose(sorted(left.range), [lo, hi], rtol=0, atol=1e-9)
        ticks = [t for _, level in left.tickValues(lo, hi, 300) for t in level]
        if not log:  # the setting's own values, 0 .. 1
            assert ticks and all(-0.1 <= t <= 1.1 for t in ticks), (axis, ticks)
    v.close()
