"""The loss plot follows the session: one curve per run, the t line, log y when it helps."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz.core.optimizers import make_optimizer
from gdviz.core.session import RunSpec, Session
from gdviz.ui.views.loss_view import LossView


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
    # the map's legend names the runs; here a key appears only for validation curves
    assert not view.legend.isVisible() and not any(v.isVisible() for v in view.val_curves)


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
    assert not view.curves[0].isVisible() and view.curves[1].isVisible()


def test_linear_axis_never_goes_below_zero(view, sess):
    sess.step(30)
    (_, _), (y0, y1) = view.vb.viewRange()
    assert not view.log_y and y0 >= 0 and y1 > 0


def test_fit_with_validation_draws_dashed_validation_curves(view, sess):
    from gdviz.core.problems import FitData

    sess.set_fit(FitData(target="sine", model="sigmoid", units=3, points=40, val_fraction=0.25))
    sess.step(12)
    assert view.legend.isVisible()
    assert [lab.text for _, lab in view.legend.items] == ["training loss", "validation loss"]
    x, y = view.val_curves[0].getData()
    np.testing.assert_allclose(y, sess.val_losses()[0])
    from PySide6.QtCore import Qt

    assert view.val_curves[0].opts["pen"].style() == Qt.PenStyle.DashLine
    sess.set_surface("rosenbrock")
    assert not view.legend.isVisible() and not view.val_curves[0].isVisible()
