"""A long re-play (a run added or removed late in a race, a new step budget) goes on in the
background when the session's driver allows it: the action returns at once, the display
follows the re-play, and the result is the one a blocking re-play gives. Any other change
stops it where it is, with the history kept consistent."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import gdviz.core.session.history as history
from gdviz.core.optimizers import OptimizerConfig
from gdviz.core.scene import load_scene, preset_path
from gdviz.core.scene.bridge import apply_scene
from gdviz.core.session import Session
from gdviz.core.session.runs import RunSpec


def _lesson(name, steps, background, budget=None):
    s = Session()
    apply_scene(load_scene(preset_path(name)), s)
    s.set_max_steps(max(s.max_steps, budget or steps))
    s.step(steps // 2)
    s.update_run(0, lr=s.specs[0].config.lr * 0.5)  # a logged change half-way
    s.step(steps - s.t)
    s.background_replay = background
    return s


def _finish(s):
    n = 0
    while s.continue_replay(0.001):
        n += 1
        assert n < 10_000
    return n


@pytest.fixture
def no_budget(monkeypatch):
    monkeypatch.setattr(history, "REPLAY_BUDGET_S", 0.0)


@pytest.mark.parametrize("name", ["L08", "L05"])
def test_background_add_run_ends_where_a_blocking_one_does(name, no_budget):
    sync = _lesson(name, 3000, background=False)
    bg = _lesson(name, 3000, background=True)
    spec = RunSpec(config=OptimizerConfig("adagrad", lr=0.05))
    assert sync.add_run(spec) == bg.add_run(spec)
    assert sync.replaying is None and sync.t == 3000
    reached, to = bg.replaying
    assert to == 3000 and reached < 3000 and bg.t == reached  # the display follows it
    stepped = []
    bg.stepped.connect(lambda *a: stepped.append(bg.t))
    _finish(bg)
    assert bg.replaying is None and bg.t == 3000 and stepped[-1] == 3000
    assert_allclose(bg.positions(), sync.positions())
    for a, b in zip(bg.losses(), sync.losses()):
        assert_allclose(a, b)


def test_headless_sessions_replay_at_once(no_budget):
    s = _lesson("L08", 2000, background=False)
    s.remove_run(0) if s.n_specs > 1 else s.add_run(s.specs[0])
    assert s.replaying is None and s.t == 2000


def test_a_change_stops_the_replay_and_keeps_one_history(no_budget):
    s = _lesson("L08", 4000, background=True)
    s.add_run(RunSpec(config=OptimizerConfig("sgd", lr=0.01, momentum=0.9)))
    assert s.replaying is not None
    s.continue_replay(0.001)
    stop = s.replaying[0]
    assert 0 < stop < 4000
    assert s.update_run(1, lr=0.02)  # a change: the re-play ends at `stop`
    assert s.replaying is None and s.t == stop == s.runset.t
    assert all(step <= stop for step, _, _ in s._events)
    # the history is one story: re-played from scratch, it gives the same runs
    fresh = s._replay(stop)
    assert_allclose(fresh.positions(stop), s.positions())
    s.step(100)
    assert s.t == stop + 100


def test_play_lets_the_replay_go_on_then_plays(no_budget):
    s = _lesson("L05", 3000, background=True, budget=5000)
    s.add_run(RunSpec(config=OptimizerConfig("adam", lr=0.05)))
    assert s.replaying is not None
    s.play()
    assert s.playing and s.replaying is not None  # play did not cancel it
    s.set_speed(60.0)
    for _ in range(10_000):
        if s.replaying is None:
            break
        assert s.tick(1 / 60) == 0
    assert s.replaying is None and s.t == 3000
    assert s.tick(1 / 60) == 1  # then playback goes on from where the race was
    assert s.t == 3001


def test_new_step_budget_replays_in_the_background(no_budget):
    s = _lesson("L05", 3000, background=True)
    s.set_max_steps(10_000)  # schedules span the budget: a re-play to t
    if s.replaying is not None:
        _finish(s)
    assert s.t == 3000 and s.replaying is None
    ref = _lesson("L05", 3000, background=False)
    ref.set_max_steps(10_000)
    assert_allclose(s.positions(), ref.positions())
    assert np.isfinite(s.positions()).all()


class _StepClock:
    """A clock that moves only when the engine steps: ``cost`` seconds a step. With it the
    pieces' sizing is checked by counting steps, whatever the machine's speed."""

    def __init__(self, monkeypatch, cost):
        self.now, self.cost, self.steps = 0.0, cost, 0
        monkeypatch.setattr(history, "_clock", lambda: self.now)
        advance = history.RunSet.advance

        def counted(rs, k=1):
            advance(rs, k)
            self.now += k * self.cost
            self.steps += k

        monkeypatch.setattr(history.RunSet, "advance", counted)


@pytest.mark.parametrize("cost", [2e-5, 3e-4, 2e-3, 0.02])
def test_a_replay_keeps_its_deadline_to_within_one_step(monkeypatch, cost):
    """Each call of a re-play with a deadline moves at least one step, and never starts a
    step the time left cannot cover: it ends past its deadline by less than one step's
    cost (a frame's 55 ms for a 12 ms budget was a piece sized without looking at it)."""
    s = Session()
    s.set_max_steps(5000)
    s.step(2000)
    clock = _StepClock(monkeypatch, cost)
    job = history.ReplayJob(s, 2000)
    budget = 0.012
    calls = 0
    while True:
        before = clock.steps
        done = job.run(deadline=clock.now + budget)
        moved = clock.steps - before
        calls += 1
        assert moved >= 1
        assert moved * cost < budget + cost  # past the deadline by less than one step
        if cost > budget:
            assert moved == 1
        if done:
            break
        assert calls < 10_000
    assert job.rs.t == 2000
    if cost < budget / 10:  # pieces grow to fill the budget: few calls
        assert calls <= 2000 * cost / budget * 1.5 + 12
    assert_allclose(job.rs.positions(2000), s.positions(2000))


def test_adding_a_run_to_a_network_replays_in_budgeted_frames(monkeypatch):
    """Adding a run on L21 (a classifier, 1-3 ms a step with 30 runs) re-plays at most
    REPLAY_BUDGET_S of steps at once and a frame's budget per frame after that; the end
    is the history a blocking re-play gives."""
    sync = _lesson("L21", 240, background=False)
    bg = _lesson("L21", 240, background=True)
    cost = 1e-3
    clock = _StepClock(monkeypatch, cost)
    spec = RunSpec(config=OptimizerConfig("rmsprop", lr=0.01))
    sync.add_run(spec)
    clock.steps = 0
    bg.add_run(spec)
    assert 1 <= clock.steps <= history.REPLAY_BUDGET_S / cost + 1
    assert bg.replaying is not None
    frames = 0
    while bg.replaying is not None:
        clock.steps = 0
        bg.continue_replay(0.012)
        assert 1 <= clock.steps <= 0.012 / cost + 1
        frames += 1
        assert frames < 1000
    assert bg.t == sync.t == 240
    assert_allclose(bg.positions(), sync.positions(), rtol=0, atol=0)
    for a, b in zip(bg.losses(), sync.losses()):
        assert_allclose(a, b, rtol=0, atol=0)


def test_a_replay_starts_with_one_step_and_keeps_its_deadline():
    """A re-play's first piece is one step (its cost is not known yet): its first piece
    was 512 steps, 0.1 s for 30 runs on the numpy twins, past any deadline. A deadline
    already passed lets it do exactly that one step."""
    s = Session()
    s.set_max_steps(5000)
    s.step(2000)
    job = history.ReplayJob(s, 2000)
    assert job.run(deadline=0.0) is False
    assert job.rs.t == 1
    assert job.run(deadline=0.0) is False
    assert job.rs.t == 2  # each call moves, so a re-play always ends
    assert job.run(deadline=None) is True and job.rs.t == 2000
    assert_allclose(job.rs.positions(2000), s.positions(2000))
    assert history.REPLAY_BUDGET_S <= 0.03
