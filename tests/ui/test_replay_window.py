"""The window drives a long re-play a piece per frame and says so in the status bar."""

import pytest

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


def test_the_frame_after_a_new_problem_steps_a_frame_not_the_change(window, monkeypatch):
    """A change that rebuilds the race while it plays (K, a network's size, the points)
    takes its own time; the next frame steps one frame's worth from when it settled, not
    that time too (the frame after it stepped 5x a frame's steps and made it longer)."""
    from types import SimpleNamespace

    import gdviz.ui.main_window as mw
    from gdviz.core.scene import preset_path

    win = window
    assert win.open_scene(preset_path("L08"))
    s = win.session
    now = [100.0]
    monkeypatch.setattr(mw, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    s.play()
    assert s.playing and win._last_frame is not None
    win._on_frame()
    dts = []
    orig = s.tick
    monkeypatch.setattr(s, "tick", lambda dt: (dts.append(dt), orig(dt))[1])

    def slow_change():  # a change that takes 0.5 s of the clock
        now[0] += 0.5
    s.problem_changed.connect(slow_change)
    try:
        assert s.update_data(units=s.data.units + 1)
    finally:
        s.problem_changed.disconnect(slow_change)
    now[0] += 0.016
    win._on_frame()
    assert s.playing and len(dts) == 1 and abs(dts[0] - 0.016) < 1e-9


def _frames_by_hand(win, monkeypatch):
    """The window's frame clock at a fake time, playing, one frame taken: (the time, a
    list of the steps each later tick moves)."""
    from types import SimpleNamespace

    import gdviz.ui.main_window as mw

    s = win.session
    now = [100.0]
    monkeypatch.setattr(mw, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    s.play()
    win._on_frame()
    moved = []
    orig = s.tick
    monkeypatch.setattr(s, "tick", lambda dt: (moved.append(orig(dt)), moved[-1])[1])
    return now, moved


def test_a_frame_runs_the_steps_its_engine_budget_holds(window, monkeypatch):
    """A race asked to go faster than the machine computes it runs the steps a frame's
    engine budget holds (FRAME_ENGINE_S at the last advance's speed, at least one), so
    that every frame stays short: with the numpy twins a fit lesson at a high speed took
    400 steps a frame, 120-330 ms each, and each slow frame asked for more. A fast engine
    is not held back, and a new engine starts unmeasured."""

    import gdviz.ui.main_window as mw

    win = window
    s = win.session
    s.set_max_steps(100_000)
    s.set_speed(2000.0)
    now, moved = _frames_by_hand(win, monkeypatch)
    s.last_advance = (50, 0.5)  # 10 ms a step: 3 steps fit in 30 ms
    now[0] += 0.1
    win._on_frame()
    assert moved[-1] == round(mw.FRAME_ENGINE_S / 0.01)
    s.last_advance = (1, 1.0)  # a second a step: still one step a frame
    now[0] += 0.1
    win._on_frame()
    assert moved[-1] == 1
    s.last_advance = (1000, 0.001)  # a microsecond a step: the whole 0.1 s, 200 steps
    now[0] += 0.1
    win._on_frame()
    assert moved[-1] in (199, 200)  # (the fraction carried between frames)
    n, secs = s.last_advance
    assert n == moved[-1] and secs > 0.0  # (measured by the advance itself)
    s.reset()
    assert s.last_advance == (0, 0.0)
    now[0] += 0.1
    win._on_frame()
    assert moved[-1] in (199, 200)  # (a surface: its steps are microseconds)


def test_a_frame_whose_views_take_long_leaves_the_engine_less(window, monkeypatch):
    """The views' refresh in a frame (the loss view's feed, the trails) counts against
    the frame: the engine's share is FRAME_TURN_S less what the views took, at least
    FRAME_ENGINE_MIN_S and one step. On L21 with 16 networks at 300 % text the views took
    26-77 ms a frame on top of the engine's 30 ms, and frames reached 100-128 ms. The share
    comes back as the views get quick again."""

    import gdviz.ui.main_window as mw

    win = window
    s = win.session
    s.set_max_steps(100_000)
    s.set_speed(200.0)
    now, moved = _frames_by_hand(win, monkeypatch)
    views = [0.045]
    ticking = s.tick

    def slow_views(dt):
        k = ticking(dt)
        now[0] += views[0]
        return k

    monkeypatch.setattr(s, "tick", slow_views)

    def frame():
        s.last_advance = (50, 0.5)  # 10 ms a step
        now[0] += 0.1
        win._on_frame()
        return moved[-1]

    assert frame() == round(mw.FRAME_ENGINE_S / 0.01)  # (no views measured yet: 3 steps)
    assert win._frame_views_s == pytest.approx(0.045, abs=0.002)
    assert frame() == 1  # (0.05 - 0.045 < 10 ms: the one step a frame always takes)
    views[0] = 0.0
    steps = [frame() for _ in range(12)]
    assert steps[0] == 1 and steps[-1] == round(mw.FRAME_ENGINE_S / 0.01)
    assert win._frame_views_s < 0.005


def test_the_first_frame_of_a_new_engine_on_data_takes_one_step(window, monkeypatch):
    """Unmeasured (a reset, a lesson), an engine on data takes one step in its frame,
    which measures it: a reset of L21 with 12 networks at a high speed took 0.1 s of the
    race, ~900 ms, in its first frame (the GUI fuzz)."""

    from gdviz.core.scene import preset_path

    win = window
    assert win.open_scene(preset_path("L21"))
    s = win.session
    s.set_speed(2000.0)
    s.reset()
    assert s.last_advance == (0, 0.0)
    now, moved = _frames_by_hand(win, monkeypatch)
    now[0] += 0.1
    win._on_frame()
    assert moved == [1] and s.last_advance[0] == 1
