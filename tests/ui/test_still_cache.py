"""A curve that stands still is drawn from pixels (issue 10): a growing curve's tail that
did not change is not set again and is cached after STILL_FRAMES frames (a run that
stopped while the others play), and a paused race caches every middle and tail at once
(a pan, a label or a hover then repaints ~50 of a 33-run map's 65 ms less). The picture
is the same."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QGraphicsItem

from gdviz.core.scene import preset_path
from gdviz.ui.views.items import STILL_FRAMES, GrowingCurve

CACHED = QGraphicsItem.CacheMode.DeviceCoordinateCache
UNCACHED = QGraphicsItem.CacheMode.NoCache


def _empty_plot(qtbot) -> pg.PlotWidget:
    """A 400x300 plot of -1.5..1.5 each way, shown."""
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    w.resize(400, 300)
    w.setXRange(-1.5, 1.5, padding=0)
    w.setYRange(-1.5, 1.5, padding=0)
    w.show()
    return w


def _plot(qtbot):
    """The plot with a growing curve (4 px) and its translucent halo (7.5 px)."""
    w = _empty_plot(qtbot)
    curve = GrowingCurve(z=2)
    halo = curve.twin(z=1)
    curve.set_pen(pg.mkPen("#0072B2", width=4))
    halo.set_pen(pg.mkPen((0, 0, 0, 170), width=7.5))
    curve.add_to(w.getPlotItem())
    halo.add_to(w.getPlotItem())
    return w, curve, halo


def _spiral(a: int, b: int):
    t = np.arange(a, b, dtype=np.float64) / 40.0
    return np.arange(a, b, dtype=np.int64), np.cos(3 * t) * (1 - t / 4), np.sin(3 * t) * (1 - t / 4)


def _grab(w) -> np.ndarray:
    QApplication.processEvents()
    img = w.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    return np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).reshape(
        img.height(), -1, 4)[..., :3].astype(int).copy()


def _pixels(w) -> np.ndarray:
    """``w``'s picture once its layout has settled: a plot sizes its axes for their tick
    labels at its first paints (after other tests, with another font, the picture moved
    between the first two grabs); grabbed again until two grabs agree."""
    last = _grab(w)
    for _ in range(5):
        now = _grab(w)
        if np.array_equal(now, last):
            break
        last = now
    return now


def test_a_still_tail_is_not_set_again_and_is_cached_after_still_frames(qtbot, monkeypatch):
    w, curve, halo = _plot(qtbot)
    curve.extend(*_spiral(0, 50))
    curve.draw((0.2, 0.1))
    sets = []
    for item in (curve.tail, halo.tail):
        real = item.setData
        monkeypatch.setattr(item, "setData", lambda x, y, real=real: (sets.append(1), real(x, y)))
    for k in range(STILL_FRAMES):
        assert curve.tail.cacheMode() == UNCACHED  # (not yet: it may still move)
        curve.draw((0.2, 0.1))  # nothing new
    assert not sets  # never set again
    assert curve.tail.cacheMode() == CACHED and halo.tail.cacheMode() == CACHED
    assert curve.middle.cacheMode() == CACHED
    curve.extend(*_spiral(50, 53))  # it moves: drawn live again
    curve.draw((0.1, 0.1))
    assert len(sets) == 2
    assert curve.tail.cacheMode() == UNCACHED and halo.tail.cacheMode() == UNCACHED
    x, _ = curve.tail.getData()
    assert x[-1] == 0.1


def test_settle_caches_the_middle_and_the_tail_at_once_and_the_picture_stays(qtbot):
    w, curve, halo = _plot(qtbot)
    curve.extend(*_spiral(0, 120))
    curve.draw((0.0, 0.0))
    live = _pixels(w)
    assert curve.tail.cacheMode() == UNCACHED and curve.middle.cacheMode() == UNCACHED
    curve.draw((0.0, 0.0), settle=True)
    for c in (curve, halo):
        assert c.tail.cacheMode() == CACHED and c.middle.cacheMode() == CACHED
    still = _pixels(w)
    diff = np.abs(live - still).max(axis=2)
    assert (np.abs(live - _pixels_empty(qtbot)).max(axis=2) > 0).sum() > 1000  # a curve shows
    assert np.mean(diff > 8) < 0.002  # the same picture from pixels


def _pixels_empty(qtbot) -> np.ndarray:
    return _pixels(_empty_plot(qtbot))


def test_a_paused_race_draws_its_curves_from_pixels(window, qtbot):
    """L4 paused after 60 steps: every trail's and halo's middle and tail are cached (the
    diverged run's zig-zag, far larger than the screen, is not: Qt's cache would lose it),
    and so are the loss curves'. Playing again, the moving tails are drawn live."""
    s = window.session
    assert window.open_scene(preset_path("L04"))
    s.pause()
    s.step(60)
    QApplication.processEvents()
    lv, loss = window.landscape_view, window.loss_view
    diverged = [r for r, _ in s.diverged()]
    assert diverged  # (the lr x10 run, at step 12)
    for r, (trail, halo) in enumerate(zip(lv.trails, lv.halos)):
        for c in (trail, halo):
            want = UNCACHED if r in diverged else CACHED
            assert c.tail.cacheMode() == want, (r, c)
    for c in loss.curves:
        assert c.tail.cacheMode() == CACHED
    s.play()
    s.step(2)  # (two frames' worth, whatever the clock)
    QApplication.processEvents()
    moving = [r for r in range(s.n_runs) if r not in diverged]
    assert any(lv.trails[r].tail.cacheMode() == UNCACHED for r in moving)
    s.pause()


@pytest.mark.parametrize("settle", [False, True])
def test_a_translucent_curve_strokes_opaque_pieces_laid_over_with_its_alpha(qtbot, settle, monkeypatch):
    """A halo's pieces stroke its pen opaque, each laid over with the pen's alpha as its
    opacity (a cached piece's pixels are its layer): the picture of each piece stroked
    translucent, live or cached, and no paint makes an image per piece (stroke_path's
    layer: 150 of them a paint made a zoom with 30 runs 60 ms slower)."""
    from gdviz.ui.views import items

    w, curve, halo = _plot(qtbot)
    curve.extend(*_spiral(0, 700))
    curve.draw((0.0, 0.0), settle=settle)
    assert len(halo.chunks) >= 2 and halo.chunks[0].cacheMode() == CACHED
    assert halo.tail.cacheMode() == (CACHED if settle else UNCACHED)
    pen = halo.opts["pen"]  # the pen as set
    assert (pen.color().alpha(), pen.widthF()) == (170, 7.5)
    layers = []
    real = items._OpaqueLayer.__init__
    monkeypatch.setattr(items._OpaqueLayer, "__init__",
                        lambda self, p, alpha, box, **kw: (layers.append(alpha), real(self, p, alpha, box, **kw))[1])
    w.update()
    now = _pixels(w)
    assert not [a for a in layers if a < 1.0]
    for item in halo.items:  # each piece a translucent stroke of its own (as before)
        assert item.opts["pen"].color().alpha() == 255 and item.opacity() == pytest.approx(170 / 255)
        item.setOpacity(1.0)
        item.setPen(pen)
    w.update()
    before = _pixels(w)
    assert [a for a in layers if a < 1.0]  # (that way made its layers)
    diff = np.abs(now - before).max(axis=2)
    assert (np.abs(now - _pixels_empty(qtbot)).max(axis=2) > 0).sum() > 1000  # a curve shows
    assert diff.max() <= 3, (diff > 3).sum()


def test_a_translucent_curve_far_larger_than_the_screen_blends_each_stroke_once(qtbot):
    """A diverging run's halo (a zig-zag ~1e7 wide, clipped and stroked as segments with
    its round caps drawn as points over them, see paint_huge): under the piece's opacity
    the caps go through a layer too, or each end was blended twice (darker dots at every
    corner of L4's diverged run, up to 36 levels). The picture of each piece stroked with
    the translucent pen."""
    w, curve, halo = _plot(qtbot)
    k = np.arange(40)
    x = np.where(k % 2 == 0, -1.0, 1.0) * (1.3 ** k) * 0.05
    y = np.linspace(-1.2, 1.2, len(k))
    curve.extend(k.astype(np.int64), x, y)
    curve.draw((0.0, 0.0), settle=False)
    assert np.abs(x).max() > 1e3  # (the clipped path: far larger than the screen)
    now = _pixels(w)
    pen = halo.opts["pen"]
    for item in (*halo.items, *curve.items):  # the trail off: the halo alone is compared
        if item in curve.items:
            item.setVisible(False)
    only_halo = _pixels(w)
    for item in halo.items:
        item.setOpacity(1.0)
        item.setPen(pen)
    before = _pixels(w)
    assert (np.abs(now - only_halo).max(axis=2) > 0).sum() > 100  # the trail showed
    diff = np.abs(only_halo - before).max(axis=2)
    assert (np.abs(before - _pixels_empty(qtbot)).max(axis=2) > 0).sum() > 1000  # a halo shows
    assert diff.max() <= 3, (diff > 3).sum()


def test_a_spare_curve_is_hidden_at_once_and_emptied_on_a_later_turn_or_when_taken(qtbot):
    """Spares.put hides a run's curves in the change's own turn and empties them on a later
    turn of the event loop (a lesson over 20 leftover runs emptied ~90 curves in its
    turn); a set taken back before that is emptied as it is taken: a new run never shows
    the points of the run that left."""
    from gdviz.ui.views.items import Spares

    w, curve, halo = _plot(qtbot)
    keys, x, y = _spiral(0, 400)
    dropped = []

    class Owner:
        def drop(self, *items):
            dropped.append(items)

    owner = Owner()
    for way in ("later", "taken", "budget"):
        spares = Spares(owner.drop, w)
        curve.extend(keys, x, y)
        curve.set_visible(True)
        curve.draw(None)
        assert curve.last_key == 399 and any(len(i.xData) for i in curve.chunks + [curve.middle]
                                             if i.xData is not None)
        spares.put(curve, halo)
        assert not any(i.isVisible() for i in curve.items + halo.items)  # hidden now
        assert curve.last_key == 399  # not emptied in the change's turn
        if way == "taken":
            assert spares.take() == (curve, halo)
            assert curve.last_key == -1 and halo.last_key == -1
        elif way == "budget":  # a turn's budget spent: one curve, the rest on later turns
            spares.reset_pending(0.0)
            assert halo.last_key == -1 and curve.last_key == 399
        if way != "taken":
            qtbot.waitUntil(lambda: curve.last_key == -1, timeout=2000)  # a later turn
        assert not any(i.xData is not None and len(i.xData) for i in curve.chunks + [curve.middle])
        assert dropped == []
        spares.close()


def test_a_dropped_spare_set_goes_to_qts_deferred_deletion(qtbot, monkeypatch):
    """A set dropped (over the cap, or trimmed) leaves its view by the view's ``drop`` and
    then goes to Qt's deferred deletion (delete_later), its curves' items and its plain
    items alike: left to Python, an item caught in a reference cycle waited for the
    collector (the GUI fuzz counted a LabelItem it freed)."""
    import pyqtgraph as pg

    from gdviz.ui.views import items as items_mod
    from gdviz.ui.views.items import Spares

    w, curve, halo = _plot(qtbot)
    label = pg.TextItem("run 1")
    w.getPlotItem().addItem(label)
    let_go = []
    monkeypatch.setattr(items_mod, "delete_later", lambda *objs: let_go.extend(objs))

    class Owner:
        def drop(self, *items):
            for item in items:
                if isinstance(item, items_mod.GrowingCurve):
                    item.remove_from(w.getPlotItem())
                else:
                    w.getPlotItem().removeItem(item)

    owner = Owner()
    spares = Spares(owner.drop, w, cap=0)
    spares.put(curve, halo, label)  # over the cap: dropped at once
    assert len(spares) == 0
    want = [*curve.items, *halo.items, label]
    assert len(let_go) == len(want) and all(any(a is b for b in let_go) for a in want)
    spares.close()
