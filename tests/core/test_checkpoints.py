"""Engine checkpoints: going back to a past step (a live change after scrubbing back, the
step-by-step numbers of a past step) starts from the latest checkpoint, and gives exactly
what a re-play from step 0 gives."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import gdviz.core.engine as engine
from gdviz.core.engine import RunSet
from gdviz.core.optimizers import OptimizerConfig
from gdviz.core.scene import load_scene, preset_path
from gdviz.core.scene.bridge import apply_scene
from gdviz.core.session import Session
from gdviz.core.surfaces import Landscape


@pytest.fixture
def small_interval(monkeypatch):
    monkeypatch.setattr(engine, "CHECKPOINT_EVERY", 64)
    monkeypatch.setattr(engine, "MAX_CHECKPOINTS", 8)


def _count_replays(s, monkeypatch) -> list:
    """The steps each re-play's engine advances (not the session's own), in a list."""
    advanced = []
    orig = RunSet.advance

    def counting(self, k=1):
        if self is not s.runset:
            advanced.append(int(k))
        return orig(self, k)

    monkeypatch.setattr(RunSet, "advance", counting)
    return advanced


def _lesson(name):
    s = Session()
    apply_scene(load_scene(preset_path(name)), s)
    s.set_max_steps(5000)
    return s


def test_checkpoints_thin_out_and_restore_exactly(small_interval):
    rs = RunSet(Landscape.from_surface("rosenbrock"), [OptimizerConfig("adam", lr=0.01),
                                           OptimizerConfig("sgd", lr=1e-3, momentum=0.9)],
                np.array([[-1.5, 2.0]]), total_steps=5000, noise=0.3, seed=3)
    rs.advance(300)
    ref = rs.positions(200).copy()
    rs.advance(1700)
    assert len(rs._checkpoints) <= 8 and all(t % rs._checkpoint_every == 0
                                              for t in rs._checkpoints)
    assert rs._checkpoint_every > 64  # thinned
    step = rs.restore_checkpoint(200)
    assert step <= 200 and rs.t == step
    rs.advance(200 - step)
    assert_allclose(rs.positions(), ref)


@pytest.mark.parametrize("name", ["L05", "L08", "L06"])
def test_a_change_after_scrubbing_back_equals_a_replay_from_zero(name, small_interval):
    s = _lesson(name)
    s.step(700)
    s.update_run(0, lr=s.specs[0].config.lr * 0.5)  # logged at 700
    s.step(900)
    s.scrub(1000)
    if s.n_specs > 1:
        s.update_run(1, lr=s.specs[1].config.lr * 2)  # after scrubbing back: restore
    else:
        s.update_run(0, lr=s.specs[0].config.lr * 2)
    assert s.t == 1000 == s.runset.t
    s.step(500)
    fresh = s._replay(1500)  # everything from step 0
    assert_allclose(s.positions(), fresh.positions(), rtol=1e-12, atol=1e-12)
    for r in range(s.n_runs):
        assert_allclose(s.runset.trajectory(r)[0], fresh.trajectory(r)[0], rtol=1e-12,
                        atol=1e-12)


@pytest.mark.parametrize("name", ["L11", "L08"])
def test_details_of_a_past_step_from_a_checkpoint(name, small_interval):
    s = _lesson(name)
    s.step(300)
    s.update_run(0, lr=s.specs[0].config.lr * 0.7)
    s.step(400)
    fresh = s._replay(517, events_before=517)
    got = s.details(0, 517)
    want = fresh.details(0)
    for key in ("g", "step_size", "delta"):
        assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-12, err_msg=key)
    assert got["step"] == want["step"] == 517 and got["lr"] == want["lr"]


def test_validation_and_norm_rows_follow_a_restored_history(small_interval):
    s = _lesson("L09")
    s.step(600)
    before = s.val_losses()[0].copy()
    s.scrub(300)
    s.update_run(0, lr=s.specs[0].config.lr * 3)
    s.step(300)
    fresh = s._replay(600)
    P, _ = fresh.trajectory(0)
    assert_allclose(s.val_losses()[0], s.problem.val_loss(P), rtol=1e-12)
    assert not np.allclose(s.val_losses()[0], before)  # the new history, not the cached one


@pytest.mark.parametrize("name", ["L06", "L21"])
def test_walking_back_step_by_step_replays_from_the_marks_exactly(name, monkeypatch):
    """The step-by-step numbers of a past step re-play from the engine's last checkpoint;
    that re-play marks every DETAIL_MARKS steps, so the steps before it (← held) re-play
    at most DETAIL_MARKS steps each, and give what a re-play from step 0 gives."""
    from gdviz.core.session import history

    # (the engine's checkpoints where its estimate puts them, not where a slow machine's
    # measured steps would: see test_the_checkpoint_interval_follows_...)
    monkeypatch.setattr(RunSet, "_fit_checkpoints", lambda self, steps, seconds: None)
    s = _lesson(name)
    s.step(250)
    s.update_run(0, lr=s.specs[0].config.lr * 0.7)  # logged at 250, between two marks
    s.step(100)  # t = 350: the engine's checkpoint at 256
    advanced = _count_replays(s, monkeypatch)
    got = {}
    for t in range(340, 236, -1):  # back across the checkpoint at 256 and the change at 250
        advanced.clear()
        got[t] = [s.details(r, t) for r in range(s.n_runs)]
        if t not in (340, 255):  # the first of each checkpoint's span re-plays all of it
            assert sum(advanced) <= history.DETAIL_MARKS, (t, advanced)
    monkeypatch.undo()
    for t in (340, 337, 288, 257, 256, 255, 251, 250, 249, 240, 237):
        fresh = s._replay(t, events_before=t)
        for r in range(s.n_runs):
            want = fresh.details(r)
            for key in ("g", "step_size", "delta"):
                assert_allclose(got[t][r][key], want[key], rtol=0, atol=0, err_msg=(t, r, key))
            assert got[t][r]["step"] == want["step"] == t and got[t][r]["lr"] == want["lr"]


def test_a_costly_step_is_checkpointed_more_often_so_a_change_after_scrubbing_back_replays_little(monkeypatch):
    """A live change after scrubbing back re-plays, in the change's own turn, from the
    checkpoint before the displayed step. On L21 with 30 networks 255 steps took ~0.2-0.4 s
    (the GUI fuzz); the interval is chosen from the estimated cost of a step so that a
    re-play stays within CHECKPOINT_REPLAY_S, and a landscape keeps CHECKPOINT_EVERY."""
    s = _lesson("L21")
    for _ in range(30 - s.n_runs):
        s.add_run(s.specs[0])
    every = s.runset._checkpoint_every
    assert engine.CHECKPOINT_MIN <= every < engine.CHECKPOINT_EVERY
    assert every * engine.step_seconds(s.runset.problem, s.n_runs) <= engine.CHECKPOINT_REPLAY_S
    assert engine.step_seconds(s.runset.problem, 30) > 4 * engine.step_seconds(s.runset.problem, 7)
    s.step(300)
    s.scrub(255)
    advanced = []
    orig = RunSet.advance
    monkeypatch.setattr(RunSet, "advance", lambda self, k=1: (advanced.append(int(k)), orig(self, k))[1])
    s.update_run(0, lr=s.specs[0].config.lr * 0.5)
    assert 0 < sum(advanced) < every  # from the checkpoint before 255, not from 0
    monkeypatch.setattr(RunSet, "advance", orig)
    s.step(45)
    fresh = s._replay(300)
    assert_allclose(s.positions(), fresh.positions(), rtol=1e-12, atol=1e-12)
    assert _lesson("L05").runset._checkpoint_every == engine.CHECKPOINT_EVERY


@pytest.mark.parametrize("name", ["L06", "L21"])
def test_details_past_a_deadline_go_on_where_they_stopped_and_keep_their_marks(name, monkeypatch):
    """The step-by-step panel's re-play of a past step within a deadline: past it the
    call returns DETAILS_PENDING, each next call goes on from where the last one stopped
    (every call moves at least one step), and the numbers then are exactly those of a
    re-play from step 0; its marks are kept as without a deadline, so that the steps
    before it re-play at most DETAIL_MARKS steps. An edit meanwhile starts it anew."""
    from gdviz.core.session import history

    s = _lesson(name)
    s.step(250)
    s.update_run(0, lr=s.specs[0].config.lr * 0.7)  # logged at 250
    s.step(100)
    advanced = _count_replays(s, monkeypatch)
    calls = 0
    while True:  # a deadline already past: a step or a piece a call
        calls += 1
        got = s.details(1 % s.n_runs, 339, deadline=0.0)
        if got is not history.DETAILS_PENDING:
            break
        assert calls < 400
    assert calls > 2 and sum(advanced) == 339 - s.runset.latest_checkpoint(339)
    advanced.clear()
    s.details(0, 338)  # (no deadline) from the marks the deadline's re-play kept
    assert 0 < sum(advanced) <= history.DETAIL_MARKS
    monkeypatch.undo()
    fresh = s._replay(339, events_before=339)
    want = fresh.details(1 % s.n_runs)
    for key in ("g", "step_size", "delta"):
        assert_allclose(got[key], want[key], rtol=0, atol=0, err_msg=key)
    assert got["step"] == want["step"] == 339 and got["lr"] == want["lr"]
    # an edit between two calls: the re-play starts anew, for the new history
    s.scrub(345)
    assert s.details(0, 330, deadline=0.0) is history.DETAILS_PENDING  # (from the mark at 320)
    s.update_run(0, lr=s.specs[0].config.lr * 0.5)  # logged at 345 (the display's step)
    while (got := s.details(0, 330, deadline=0.0)) is history.DETAILS_PENDING:
        pass
    want = s._replay(330, events_before=330).details(0)
    assert_allclose(got["delta"], want["delta"], rtol=0, atol=0)


def test_the_checkpoint_interval_follows_the_measured_speed_of_a_step(monkeypatch):
    """The interval starts from an estimate of a step's cost; the steps measured slower
    than it (a larger batch set since, a slower machine) halve it, so that an edit after
    scrubbing back re-plays at most that many steps, and the history stays exact."""
    from types import SimpleNamespace

    s = _lesson("L21")
    rs = s.runset
    every = rs._checkpoint_every
    assert every > engine.CHECKPOINT_MIN
    clock = [0.0]
    orig = RunSet._advance

    def slow(self, k):  # 10 ms a step
        clock[0] += 0.01 * k
        return orig(self, k)

    monkeypatch.setattr(engine, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    monkeypatch.setattr(RunSet, "_advance", lambda self, k: orig(self, k))  # (0 s a step)
    s.step(every + 3)
    assert rs._checkpoint_every == every  # (as fast as estimated, or faster: kept)
    monkeypatch.setattr(RunSet, "_advance", slow)
    s.step(every)  # one slow piece (a kernel loaded from numba's cache): kept
    assert rs._checkpoint_every == every
    s.step(2 * every)
    assert rs._checkpoint_every == engine.CHECKPOINT_MIN
    last = s.t - s.t % engine.CHECKPOINT_MIN
    assert rs.latest_checkpoint(s.t) == last  # (taken at the new interval's marks)
    s.scrub(s.t - 5)
    advanced = []
    orig_advance = RunSet.advance

    def counting(self, k=1):
        advanced.append(int(k))
        return orig_advance(self, k)

    monkeypatch.setattr(RunSet, "advance", counting)
    s.update_run(0, lr=s.specs[0].config.lr * 0.5)  # re-plays from the checkpoint before
    assert 0 < sum(advanced) <= engine.CHECKPOINT_MIN
    monkeypatch.undo()
    s.step(40)
    fresh = s._replay(s.t)
    assert_allclose(s.positions(), fresh.positions(), rtol=0, atol=0)
    lsc = RunSet(Landscape.from_surface("rosenbrock"), [OptimizerConfig("adam", lr=0.01)],
                 np.array([[-1.5, 2.0]]), total_steps=5000)
    lsc._fit_checkpoints(100, 100.0)  # (a landscape's steps are microseconds: kept)
    assert lsc._checkpoint_every == engine.CHECKPOINT_EVERY
