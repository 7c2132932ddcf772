"""The plane view's picture while the race plays: computed on a worker thread, drawn as it
arrives, and the exact picture of the displayed step once paused. (In a file of its own:
the GC's timing in test_classify_ui.py is left as it was; see the report of branch
classperf: a view collected by the cyclic GC mid-event can crash pyqtgraph.)"""

from __future__ import annotations

import numpy as np
import pytest

from gdviz.core.classifier import ClassifyData
from gdviz.core.session import Session
from gdviz.ui.views.plane_view import PlaneView


@pytest.fixture
def sess() -> Session:
    s = Session()
    assert s.set_classify(ClassifyData("circles", points=120, layers=2, units=3, noise=0.1))
    return s



def test_plane_picture_comes_from_the_worker_while_playing_and_is_exact_when_paused(qtbot, sess):
    from gdviz.ui import theme
    from gdviz.ui.views.plane_view import _prob_lut, plane_picture

    v = PlaneView(sess)
    qtbot.addWidget(v)
    v.resize(600, 500)
    v.show()
    sess.set_speed(60.0)

    def exact_boundary():
        r = sess.reference_run()
        P = np.array(sess.positions())
        pic = plane_picture(sess.problem, P, r, v._shown_runs(), v._box, v._grid,
                            _prob_lut(theme.current()), v._data_box, None)
        return pic.boundaries[r], pic.acc_train

    def shown():
        x, y = v.boundaries[sess.reference_run()].getData()
        return np.column_stack([x, y])

    sess.play()
    for _ in range(3):
        before = shown()
        assert sess.tick(1 / 60) == 1
        assert v._worker is not None
        np.testing.assert_array_equal(shown(), before)  # on its way, not drawn yet

        def drawn():  # the exact picture of the displayed step (for the box the plot has now)
            want = exact_boundary()[0]
            return not v._worker.busy and shown().shape == want.shape \
                and np.array_equal(shown(), want)

        qtbot.waitUntil(drawn, timeout=10_000)
        acc = exact_boundary()[1]
        assert [v.last_accuracy[r][0] for r in v._shown_runs()] == list(acc)
    sess.tick(1 / 60)
    sess.pause()
    want, _ = exact_boundary()
    np.testing.assert_array_equal(shown(), want)  # at once


def test_a_finished_picture_waits_for_the_next_step_and_joins_its_paint(qtbot, sess):
    # a picture that lands between two steps is held (drawing it then dirtied a view the
    # frame had just painted: a second paint) and drawn by the next step's handler
    from gdviz.ui import theme
    from gdviz.ui.views.plane_view import _prob_lut, plane_picture

    v = PlaneView(sess)
    qtbot.addWidget(v)
    v.setFixedSize(600, 500)  # a new size is a new range, which draws at once
    v.show()
    sess.set_speed(60.0)
    v._inbox._timer.setInterval(600_000)  # no slow-race fallback in this test
    qtbot.waitExposed(v)
    ranges = []

    def settled():  # the plot's first resizes are done: its range stays
        ranges.append(v.vb.viewRange())
        qtbot.wait(30)
        return len(ranges) >= 3 and ranges[-1] == ranges[-2] == ranges[-3]

    qtbot.waitUntil(settled, timeout=10_000)

    def exact_boundary():
        r = sess.reference_run()
        P = np.array(sess.positions())
        pic = plane_picture(sess.problem, P, r, v._shown_runs(), v._box, v._grid,
                            _prob_lut(theme.current()), v._data_box, None)
        return pic.boundaries[r]

    def shown():
        x, y = v.boundaries[sess.reference_run()].getData()
        return np.column_stack([x, y])

    sess.play()
    for _ in range(3):
        before = shown()
        assert sess.tick(1 / 60) == 1
        want = exact_boundary()  # the step just taken: what the worker computes now
        qtbot.waitUntil(lambda: v._inbox.pending, timeout=10_000)
        qtbot.wait(20)
        np.testing.assert_array_equal(shown(), before)  # held, not drawn
        assert sess.tick(1 / 60) == 1
        assert not v._inbox.pending
        np.testing.assert_array_equal(shown(), want)  # drawn by the next step
        qtbot.waitUntil(lambda: not v._worker.busy, timeout=10_000)
        v._inbox.drop()
    sess.tick(1 / 60)
    sess.pause()
    assert not v._inbox.pending
    np.testing.assert_array_equal(shown(), exact_boundary())  # at once
