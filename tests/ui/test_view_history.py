"""Views take what is new: after many incremental frames the map's trails and the loss
curves show the history (exactly while short, its envelope once decimated), and a frame
reads only the rows recorded since the last one, however long the history."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz.core.engine import RunSet
from gdviz.core.session import Session
from gdviz.ui.views import decimate
from gdviz.ui.views.items import LIVE_CHUNK, TAIL_CHUNK, chunk_size
from gdviz.ui.views.landscape_view import LandscapeView
from gdviz.ui.views.loss_view import LossView


@pytest.fixture
def sess() -> Session:
    s = Session()
    s.set_max_steps(1_000_000)
    return s


@pytest.fixture
def views(qtbot, sess):
    land, loss = LandscapeView(sess, grid_size=64), LossView(sess)
    for v in (land, loss):
        qtbot.addWidget(v)
    land.resize(640, 480)
    loss.resize(640, 240)
    return land, loss


def _frames(sess, sizes):
    for k in sizes:
        sess.step(int(k))


def _drawn(curve):
    """What the items of a growing curve draw, joined: sealed chunks, middle, tail."""
    xs, ys = [], []
    for item in (*curve.chunks, curve.middle, curve.tail):
        x, y = item.getData()
        if x is None or not len(x):
            continue
        if xs:  # each piece starts at the point the one before ended on
            assert (x[0], y[0]) == (xs[-1][-1], ys[-1][-1])
            x, y = x[1:], y[1:]
        xs.append(np.asarray(x))
        ys.append(np.asarray(y))
    return np.concatenate(xs), np.concatenate(ys)


def test_incremental_frames_show_the_whole_short_history(views, sess):
    land, loss = views
    rng = np.random.default_rng(0)
    _frames(sess, rng.integers(1, 8, 50))
    sess.scrub(sess.t // 2)  # back, then forward again through recorded and new steps
    _frames(sess, rng.integers(1, 8, 30))
    assert sess.t < decimate.PATH_EXACT
    trails, losses = sess.trails(), sess.losses()
    for r in range(sess.n_runs):
        x, y = land.trails[r].getData()
        np.testing.assert_array_equal(np.column_stack([x, y]), trails[r])
        np.testing.assert_array_equal(np.column_stack(_drawn(land.trails[r])), trails[r])
        np.testing.assert_array_equal(np.column_stack(_drawn(land.halos[r])), trails[r])
        np.testing.assert_array_equal(land.halos[r].getData()[1], trails[r][:, 1])
        x, y = loss.curves[r].getData()
        np.testing.assert_array_equal(x, np.arange(len(losses[r])))
        np.testing.assert_array_equal(y, losses[r])


def test_decimated_curves_bound_the_history(monkeypatch, views, sess):
    land, loss = views
    monkeypatch.setattr(decimate, "MAX_BUCKETS", 64)
    monkeypatch.setattr(decimate, "PATH_EXACT", 50)
    monkeypatch.setattr(decimate, "PATH_LEVEL", 40)
    sess.reset()  # new curves with the small limits
    for c in land.trails + loss.curves:
        c.dec = type(c.dec)()
        c._cut = -1
    for t, h in zip(land.trails, land.halos):
        h.dec = t.dec
    rng = np.random.default_rng(1)
    _frames(sess, rng.integers(1, 400, 40))
    sess.scrub(3000)
    _frames(sess, rng.integers(1, 400, 20))
    trails, losses = sess.trails(), sess.losses()
    for r in range(sess.n_runs):
        # the items draw exactly the kept points (chunks sealed one a frame, the rest in
        # the middle and the tail)
        for c in (land.trails[r], land.halos[r], loss.curves[r]):
            dx, dy = _drawn(c)
            gx, gy = c.getData()
            np.testing.assert_array_equal(dx, gx)
            np.testing.assert_array_equal(dy, np.log10(gy) if c.log_y else gy)
        # the loss curve: in steps, inside the history, and each bucket's min and max kept
        x, y = loss.curves[r].getData()
        steps = x.astype(np.int64)
        assert len(x) <= 2 * 64 + 2 and x[-1] == sess.t
        np.testing.assert_array_equal(y, losses[r][steps])
        w = loss.curves[r].dec.width
        for b in range(sess.t // w + 1):
            seg = losses[r][b * w:(b + 1) * w]
            inb = (steps // w) == b
            assert y[inb].min() == seg.min() and y[inb].max() == seg.max()
        # the trail: starts exact, ends at the position now, and every step lies in the
        # screen cell of the kept point at or before it
        dec = land.trails[r].dec
        x, y = land.trails[r].getData()
        np.testing.assert_array_equal(np.column_stack([x[:50], y[:50]]), trails[r][:50])
        np.testing.assert_array_equal([x[-1], y[-1]], trails[r][-1])
        keys = dec.keys
        assert len(keys) < len(trails[r]) // 4
        j = np.searchsorted(keys, np.arange(len(trails[r])), side="right") - 1
        for i in range(50, len(trails[r]), 7):
            k = j[i]
            gx, gy = dec.cells(k + 1, np.array([trails[r][i, 0], dec.x[k]]),
                               np.array([trails[r][i, 1], dec.y[k]]))
            assert gx[0] == gx[1] and gy[0] == gy[1]


def test_a_frame_reads_only_what_is_new(monkeypatch, views, sess):
    land, loss = views
    sess.step(30_000)  # one big read, then frames of 7 steps
    read = []
    real = RunSet.recorded

    def counting(self, r, after=-1, upto=None):
        out = real(self, r, after, upto)
        read.append(len(out[0]))
        return out

    def whole(*_a, **_k):
        raise AssertionError("a frame copied the whole history")

    monkeypatch.setattr(RunSet, "recorded", counting)
    for name in ("trails", "losses", "param_trails", "val_losses"):
        monkeypatch.setattr(Session, name, whole)
    monkeypatch.setattr(RunSet, "trajectory", whole)
    drawn = []
    for c in land.trails + land.halos + loss.curves:
        for item in c.items:
            orig = item.setData

            def spy(*a, _orig=orig, **k):
                drawn.append(len(a[0]) if a else 0)
                return _orig(*a, **k)

            monkeypatch.setattr(item, "setData", spy)
    for _ in range(30):
        read.clear()
        drawn.clear()
        sess.step(7)
        # each view reads each run's 7 new rows, nothing older
        assert sum(read) == 2 * sess.n_runs * 7
        # and hands pyqtgraph a tail, a middle and now and then a chunk to seal
        # (a middle holds under 3 chunks)
        assert max(drawn) <= max(3 * chunk_size(len(c.chunks) + 2) + LIVE_CHUNK + 2
                                 for c in land.trails + loss.curves)
        assert sum(drawn) < 20 * TAIL_CHUNK
    sess.scrub(12_345)  # back: the curves are cut, at most one bucket is read again
    assert max(read) <= loss.curves[0].dec.width


def test_step_axis_holds_the_step_in_round_jumps():
    from gdviz.ui.views.loss_view import _step_axis

    cur, ends = None, []
    for t in list(range(0, 30_000)) + [0, 3]:
        new = _step_axis(cur, t, 20_000)
        assert t <= new <= 20_000 or t > 20_000
        if new != cur:
            ends.append(new)
            cur = new
    # 10, 20, 50, ... then max_steps; back at the start it shrinks again
    assert ends == [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 10]


def test_zooming_in_builds_the_trails_again_at_the_finer_pixel(qtbot, views, sess):
    land, _ = views
    sess.step(3000)
    before = land.trails[0].dec.base
    (x0, x1), (y0, y1) = land.vb.viewRange()
    cx, cy = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
    land.vb.setRange(xRange=(cx - (x1 - x0) / 8, cx + (x1 - x0) / 8),
                     yRange=(cy - (y1 - y0) / 8, cy + (y1 - y0) / 8), padding=0)
    land._on_grid_timer()  # what the view does once the range settles
    after = land.trails[0].dec.base
    assert after[0] < 0.5 * before[0] and after[1] < 0.5 * before[1]
    trails = sess.trails()
    for r in range(sess.n_runs):
        x, y = land.trails[r].getData()
        np.testing.assert_array_equal([x[0], y[0]], trails[r][0])
        np.testing.assert_array_equal([x[-1], y[-1]], trails[r][-1])
        np.testing.assert_array_equal(np.column_stack(_drawn(land.trails[r])),
                                      np.column_stack([x, y]))
