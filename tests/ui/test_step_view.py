"""Step-by-step table and update rule: follows the selected run and the displayed step."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz.core.session import Session
from gdviz.ui import theme
from gdviz.ui.views.step_view import StepView, fmt


@pytest.fixture
def sess() -> Session:
    return Session()


@pytest.fixture
def view(qtbot, sess) -> StepView:
    v = StepView(sess)
    qtbot.addWidget(v)
    v.resize(500, 600)
    v.show()
    qtbot.waitExposed(v)
    return v


def test_hint_without_a_selection(view):
    assert view.hint.isVisible() and not view.table.isVisible()


def test_adam_numbers_and_rule(view, sess):
    sess.select(3)
    assert view.table.isVisible()
    assert "no update yet" in view.hint.text()
    sess.step(3)
    d = sess.details(3)
    g = np.asarray(d["g"], dtype=float)
    assert view.cells["g"][1].text() == fmt(g[0]) and view.cells["g"][2].text() == fmt(g[1])
    delta = np.asarray(d["delta"], dtype=float)
    assert view.cells["delta"][1].text() == fmt(delta[0])
    assert view.cells["m"][1].isVisible() and view.cells["v"][1].isVisible()
    rule = view.rule.text()
    assert "θ ← θ − η·m̂/(√v̂+ε)" in rule
    assert "m ← β₁·m + (1−β₁)·g" in rule
    theta1 = sess.positions()[3]
    assert f"= ({fmt(theta1[0])}, {fmt(theta1[1])})" in rule
    assert "step 3" in view.title.text() and "Adam" in view.title.text()


def test_follows_step_back_and_selection(view, sess):
    sess.select(0)
    sess.step(2)
    text2 = view.cells["g"][1].text()
    sess.step_back()
    assert "step 1" in view.title.text()
    assert view.cells["g"][1].text() == fmt(np.asarray(sess.details(0)["g"])[0])
    assert view.cells["g"][1].text() != text2
    assert "θ ← θ − η·g" in view.rule.text()
    assert not view.cells["v"][1].isVisible()  # plain SGD has no second moment
    sess.select(1)
    assert "m ← 0.9·m + 1·g" in view.rule.text() and "Momentum" in view.title.text()
    assert "θ ← θ − η·m" in view.rule.text() and "b ←" not in view.rule.text()
    sess.select(-1)
    assert not view.table.isVisible()


def test_big_monospace_numbers(view, sess):
    sess.select(2)
    f = view.cells["g"][1].font()
    assert f.pointSizeF() >= 14 and f.styleHint() == f.StyleHint.Monospace
    assert view.rule.font().pointSizeF() >= 14
    assert theme.font_scale() == 1.0


def test_l11_rule_in_the_lesson_notation_with_torch_in_the_tooltip(qtbot):
    from gdviz.core.scene import apply_scene, load_preset

    sess = Session()
    apply_scene(load_preset("L11_momentum_explained"), sess)
    v = StepView(sess)
    qtbot.addWidget(v)
    sess.step(2)
    rule = v.rule.text()
    # the caption's "m ← 0.9·m + 0.1·g", not torch's b and dampening τ
    assert rule.splitlines()[0] == "m ← 0.9·m + 0.1·g" and "θ ← θ − η·m" in rule
    assert "b ←" not in rule and "τ" not in rule
    tip = v.rule.toolTip()
    assert "b ← μ·b + (1−τ)·g" in tip and "dampening" in tip
    sess.select(0)  # plain SGD: no momentum, no torch note
    assert v.rule.toolTip() == ""


def test_data_problems_say_iteration(qtbot):
    from gdviz.core.scene import apply_scene, load_preset

    sess = Session()
    apply_scene(load_preset("L06_minibatch_epoch"), sess)
    v = StepView(sess)
    qtbot.addWidget(v)
    sess.select(0)
    assert v.hint.text().startswith("Iteration 0: no update yet")
    sess.step(3)
    assert "iteration 3" in v.title.text() and "step" not in v.title.text()


def test_a_long_replay_for_the_step_shown_goes_on_in_later_turns(view, sess, monkeypatch, qapp):
    """A jump back re-plays the history from the engine's checkpoint for the step's numbers
    (L21 with 16 networks: up to 255 steps, 100-200 ms in one turn). Within its share of a
    turn (here none: a step a turn) the panel says it is re-playing, shows θ_new (known)
    and dashes; the re-play goes on in the turns after, and then the numbers are exactly
    those of the step."""
    from gdviz.ui.views import step_view

    monkeypatch.setattr(step_view, "DETAILS_TURN_S", 0.0)
    sess.select(1)
    sess.step(600)
    sess.scrub(500)  # the engine's checkpoint before it: 256 (244 steps to re-play)
    assert "Re-playing the history to step 500" in view.hint.text() and view.hint.isVisible()
    assert view.cells["g"][1].text() == "—"
    theta1 = sess.positions()[1]
    assert view.cells["theta1"][1].text() == fmt(theta1[0])
    turns = 0
    while view.cells["g"][1].text() == "—":
        qapp.processEvents()
        turns += 1
        assert turns < 2000
    assert turns > 10
    assert not view.hint.isVisible()
    want = sess.details(1)  # (now cached: the re-play's)
    assert view.cells["g"][1].text() == fmt(np.asarray(want["g"])[0])
    assert view.cells["delta"][2].text() == fmt(np.asarray(want["delta"])[1])
    assert "step 500" in view.title.text()
