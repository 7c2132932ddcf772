"""The window drives a long re-play a piece per frame and says so in the status bar."""

import gdviz.core.session.history as history
from gdviz.core.optimizers import OptimizerConfig
from gdviz.core.session.runs import RunSpec


def test_window_drives_a_background_replay(window, qtbot, monkeypatch):
    s = window.session
    assert s.background_replay  # the window is a driver
    s.set_max_steps(4_000)
    s.step(4_000)
    monkeypatch.setattr(history, "REPLAY_BUDGET_S", 0.0)
    s.add_run(RunSpec(config=OptimizerConfig("adagrad", lr=0.05)))
    assert s.replaying is not None and not s.playing
    assert window.frame_timer.isActive()
    assert "re-playing" in window.counters.text()
    # a bound for a hang, not a speed: a re-play goes in pieces of a frame each, and on a
    # loaded machine (numpy twins, views redrawn each frame) it takes a few seconds
    qtbot.waitUntil(lambda: s.replaying is None, timeout=30_000)
    assert s.t == 4_000 and not window.frame_timer.isActive()
    assert "re-playing" not in window.counters.text()
