"""The loss plot follows the session: one curve per run, the t line, log y when it helps."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz.core.optimizers import make_optimizer
from gdviz.core.session import RunSpec, Session
from gdviz.ui import theme
from gdviz.ui.loss_view import LossView


@pytest.fixture(autouse=True)
def _pyqtgraph_configured(qapp):
    theme.configure_pyqtgraph()


@pytest.fixture
def sess() -> Session:
    return Session()


@pytest.fixture
def view(qtbot, sess) -> LossView:
    v = LossView(sess)
    qtbot.addWidget(v)
    v.resize(600, 300)
    return v


def test_one_curve_per_run_in_its_colour(view, sess):
    assert len(view.curves) == 4
    assert [c.opts["pen"].color().name().upper() for c in view.curves] == \
        [c.upper() for c in sess.colors]
    assert [lab.text for _, lab in view.legend.items] == [sess.spec_label(i) for i in range(4)]


def test_follows_steps_and_scrubbing(view, sess):
    sess.step(5)
    for r, c in enumerate(view.curves):
        x, y = c.getData()
        assert len(x) == 6
        np.testing.assert_allclose(y, sess.losses()[r])
    assert view.t_line.value() == 5
    sess.scrub(2)
    assert view.t_line.value() == 2 and len(view.curves[0].getData()[0]) == 3


def test_log_scale_when_losses_span_decades(view, sess):
    sess.set_surface("quadratic")
    sess.set_start(1.5, 1.5)
    sess.update_run(3, lr=0.1)
    assert not view.log_y
    sess.step(200)
    assert view.log_y  # 4.5 down to ~1e-6: log
    sess.set_surface("saddle")  # negative losses: linear
    sess.step(20)
    assert not view.log_y


def test_diverged_run_does_not_flatten_the_others(view, sess):
    sess.add_run(RunSpec(config=make_optimizer("sgd", lr=1.0)))
    sess.step(40)
    assert sess.diverged()
    (_, _), (y0, y1) = view.vb.viewRange()
    alive_max = max(np.nanmax(sess.losses()[r]) for r in range(4))
    top = np.log10(alive_max) if view.log_y else alive_max
    assert y1 < top + 2 * abs(top) + 1


def test_disabled_run_hidden(view, sess):
    sess.update_run(0, enabled=False)
    assert not view.curves[0].isVisible() and len(view.legend.items) == 3
