"""The widgets offer exactly the ranges in gdviz.core.limits (no private copies)."""

from __future__ import annotations

from gdviz.core.limits import LR_MAX, LR_MIN, MAX_STEPS
from gdviz.ui.panels.playback_panel import PlaybackPanel
from gdviz.ui.panels.runs_panel import FIELD_RANGES, RunsPanel


def test_lr_sliders_span_the_core_lr_range(qtbot, session):
    assert FIELD_RANGES["lr"][1:3] == (LR_MIN, LR_MAX)
    panel = RunsPanel(session)
    qtbot.addWidget(panel)
    assert (panel.shared_lr.lo, panel.shared_lr.hi) == (LR_MIN, LR_MAX)
    assert panel.cards
    for card in panel.cards:
        lr = card.sliders["lr"]
        assert (lr.lo, lr.hi) == (LR_MIN, LR_MAX)


def test_lr_times_ten_is_clamped_to_lr_max(qtbot, session):
    panel = RunsPanel(session)
    qtbot.addWidget(panel)
    i = panel.duplicate(0, 1e9)
    assert session.specs[i].config.lr == LR_MAX


def test_max_steps_box_spans_the_session_limit(qtbot, session):
    panel = PlaybackPanel(session)
    qtbot.addWidget(panel)
    assert panel.max_steps.maximum() == MAX_STEPS
    panel.max_steps.setValue(MAX_STEPS)
    assert session.max_steps == MAX_STEPS
