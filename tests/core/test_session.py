"""The evented session model: runs, playback, scrubbing, live settings (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz.core.optimizers import make_optimizer
from gdviz.core.schedules import Schedule
from gdviz.core.session import OKABE_ITO, RunSpec, Session


class Recorder:
    """Counts every signal a session emits (and keeps their arguments)."""

    NAMES = ("problem_changed", "runs_changed", "stepped", "playing_changed",
             "settings_changed", "error", "selection_changed")

    def __init__(self, session: Session):
        self.calls: dict[str, list] = {n: [] for n in self.NAMES}
        for n in self.NAMES:
            getattr(session, n).connect(lambda *a, n=n: self.calls[n].append(a))

    def count(self, name: str) -> int:
        return len(self.calls[name])

    def clear(self) -> None:
        for v in self.calls.values():
            v.clear()


@pytest.fixture
def session() -> Session:
    return Session()


@pytest.fixture
def rec(session) -> Recorder:
    return Recorder(session)


# ------------------------------------------------------------------ default scene
def test_default_scene(session):
    assert session.landscape.name == "rosenbrock"
    assert [s.config.name for s in session.specs] == ["sgd", "momentum", "rmsprop", "adam"]
    assert session.starts == [(-1.5, 2.0)]
    assert session.n_runs == 4 and session.runset.n_runs == 4
    assert session.t == 0 and session.runset.t == 0 and not session.playing
    assert session.selected == -1
    assert len(set(session.colors)) == 4 and set(session.colors) <= set(OKABE_ITO)
    assert session.run_label(3).startswith("Adam lr=")
    np.testing.assert_array_equal(session.positions(), np.tile([-1.5, 2.0], (4, 1)))


def test_default_race_makes_visible_progress():
    """All four travel along the valley toward (1, 1) within 300 steps; none diverges."""
    s = Session()
    s.step(300)
    assert s.diverged() == []
    loss0 = s.losses(0)
    pos = s.positions()
    for r in range(4):
        path = s.trails()[r]
        travelled = np.sum(np.hypot(*np.diff(path, axis=0).T))
        assert travelled > 0.5, (s.run_label(r), travelled)
        assert s.losses()[r][-1] < 0.6 * loss0[r][0], s.run_label(r)
        assert pos[r, 0] > -1.45, s.run_label(r)  # moved down the valley toward x = 1


# ------------------------------------------------------------------ stepping and reading
def test_step_emits_once_and_records_trails(session, rec):
    assert session.step(5) == 5
    assert rec.count("stepped") == 1
    assert session.t == session.runset.t == 5
    trails = session.trails()
    assert len(trails) == 4 and all(t.shape == (6, 2) and t.dtype == np.float64 for t in trails)
    assert all(len(l) == 6 for l in session.losses())
    assert session.positions().shape == (4, 2)
    np.testing.assert_array_equal(session.positions(), np.array([t[-1] for t in trails]))


def test_tick_accumulates_fractional_steps(session, rec):
    assert session.tick(1.0) == 0  # not playing
    session.set_speed(30)
    session.play()
    assert rec.calls["playing_changed"] == [(True,)]
    assert session.tick(0.05) == 1  # 1.5 steps: one now, half carried
    assert session.tick(0.05) == 2
    assert session.tick(0.01) == 0  # 0.3 steps: nothing yet, no signal
    assert session.t == 3 and rec.count("stepped") == 2


def test_tick_stops_at_max_steps(session, rec):
    session.set_max_steps(10)
    session.set_speed(1000)
    session.play()
    moved = sum(session.tick(0.1) for _ in range(5))
    assert moved == 10 and session.t == 10
    assert not session.playing
    assert rec.calls["playing_changed"] == [(True,), (False,)]
    session.play()  # at the end: nothing to play
    assert not session.playing


def test_scrub_back_then_forward_walks_the_recording(session, rec):
    session.step(20)
    recorded = [t.copy() for t in session.trails()]
    session.scrub(5)
    assert session.t == 5 and session.runset.t == 20
    np.testing.assert_array_equal(session.positions(), np.array([t[5] for t in recorded]))
    assert all(len(t) == 6 for t in session.trails())
    session.step(10)  # through recorded steps only
    assert session.t == 15 and session.runset.t == 20
    session.step(10)  # then new ones
    assert session.t == 25 and session.runset.t == 25
    for r in range(4):
        np.testing.assert_array_equal(session.trails()[r][:21], recorded[r])
    session.scrub(-3)
    assert session.t == 0
    session.scrub(10**6)
    assert session.t == 25


def test_step_back_pauses(session):
    session.step(3)
    session.play()
    assert session.step_back() == 1
    assert session.t == 2 and not session.playing
    session.scrub(0)
    assert session.step_back() == 0


def test_reset(session, rec):
    session.step(7)
    session.reset()
    assert session.t == 0 and session.runset.t == 0
    assert rec.count("stepped") == 2


# ------------------------------------------------------------------ live settings
def test_update_run_applies_live_without_reset(session, rec):
    session.step(20)
    before = session.trails()[0].copy()
    assert session.update_run(0, lr=5e-3)
    assert session.t == 20 and session.runset.t == 20
    assert session.specs[0].config.lr == 5e-3
    assert session.run_label(0) == "SGD lr=0.005"
    assert rec.count("runs_changed") == 1
    session.step(5)
    np.testing.assert_array_equal(session.trails()[0][:21], before)
    ref = Session()
    ref.step(25)
    assert not np.allclose(ref.trails()[0][21:], session.trails()[0][21:])
    np.testing.assert_array_equal(ref.trails()[1], session.trails()[1])  # others untouched


def test_update_after_scrub_truncates_the_future(session):
    session.step(30)
    recorded = [t.copy() for t in session.trails()]
    session.scrub(10)
    session.update_run(3, lr=0.2)
    assert session.t == 10 and session.runset.t == 10  # the old future is gone
    for r in range(4):
        np.testing.assert_allclose(session.trails()[r], recorded[r][:11])
    session.step(5)
    assert session.runset.t == 15
    np.testing.assert_allclose(session.trails()[0], recorded[0][:16])  # unchanged run
    assert not np.allclose(session.trails()[3][11:], recorded[3][11:16])


def test_live_change_history_replays_exactly_with_noise():
    s = Session(noise=2.0, seed=3)
    s.step(10)
    s.update_run(2, lr=3e-2)
    s.set_batch_size(4)
    s.step(10)
    full = [t.copy() for t in s.trails()]
    s.scrub(15)
    s.set_speed(99)  # not a history change: the recording stays
    assert s.runset.t == 20
    s.update_run(0, lr=2e-3)  # truncates to 15 by re-playing the logged changes
    for r in range(4):
        np.testing.assert_array_equal(s.trails()[r], full[r][:16])


def test_update_run_rejects_bad_values(session, rec):
    assert not session.update_run(1, lr=-0.1)
    assert rec.count("error") == 1 and "learning rate" in rec.calls["error"][0][0]
    assert session.specs[1].config.lr > 0
    assert not session.update_run(9, lr=0.1)


def test_enable_and_label(session, rec):
    session.step(4)
    assert session.update_run(2, enabled=False, label="slow one")
    assert not session.run_enabled(2) and session.run_label(2) == "slow one"
    assert session.t == 4 and rec.count("runs_changed") == 1 and rec.count("stepped") == 1


def test_same_lr(session, rec):
    session.step(5)
    assert session.set_same_lr(True, 0.01)
    assert all(session.effective_lr(r) == 0.01 for r in range(4))
    assert all("lr=0.01" in session.run_label(r) for r in range(4))
    assert session.t == 5
    assert rec.count("settings_changed") == 1
    session.set_same_lr(False)
    assert session.effective_lr(0) == 1e-3
    assert not session.set_same_lr(True, -1.0)


def test_noise_batch_speed_seed_validation(session, rec):
    assert not session.set_noise(-1)
    assert not session.set_batch_size(0)
    assert not session.set_batch_size(2.5)
    assert not session.set_speed(0)
    assert not session.set_max_steps(0)
    assert not session.set_seed(-2)
    assert rec.count("error") == 6
    assert session.set_noise(0.5) and session.set_batch_size(8) and session.set_speed(200)
    assert (session.noise, session.batch_size, session.speed) == (0.5, 8, 200)
    session.step(3)
    assert session.set_seed(5) and session.t == 0  # a new seed is a new experiment


def test_set_max_steps_below_t_truncates(session):
    session.step(30)
    session.set_max_steps(12)
    assert session.t == 12 and session.runset.t == 12
    assert session.step(5) == 0


def test_set_schedule_restarts(session, rec):
    session.step(5)
    assert session.set_schedule(3, Schedule(kind="cosine"))
    assert session.specs[3].schedule.kind == "cosine"
    assert session.t == 0 and rec.count("runs_changed") == 1


# ------------------------------------------------------------------ runs and starts
def test_add_and_remove_run_keep_the_race(session, rec):
    session.step(10)
    before = [t.copy() for t in session.trails()]
    i = session.add_run(RunSpec(config=make_optimizer("sgd", lr=1e-4)))
    assert i == 4 and session.n_runs == 5 and session.t == 10
    assert len(set(session.colors)) == 5
    for r in range(4):
        np.testing.assert_array_equal(session.trails()[r], before[r])
    assert session.trails()[4].shape == (11, 2)
    assert session.remove_run(0)
    assert session.n_runs == 4 and [s.config.name for s in session.specs][0] == "momentum"
    np.testing.assert_array_equal(session.trails()[0], before[1])
    assert rec.count("runs_changed") == 2


def test_remove_keeps_logged_changes_of_other_runs(session):
    session.step(5)
    session.update_run(3, lr=0.01)
    session.step(5)
    adam = session.trails()[3].copy()
    session.remove_run(0)
    np.testing.assert_array_equal(session.trails()[2], adam)


def test_cannot_remove_the_last_run():
    s = Session(specs=[RunSpec(config=make_optimizer("adam", lr=0.05))])
    rec = Recorder(s)
    assert not s.remove_run(0)
    assert rec.count("error") == 1 and s.n_specs == 1


def test_starts(session, rec):
    session.step(5)
    assert session.set_start(0.5, -0.5)
    assert session.starts == [(0.5, -0.5)] and session.t == 0
    assert session.add_start(-1.0, 1.0)
    assert session.n_runs == 8 and session.runset.n_runs == 8
    assert session.start_index(5) == 1 and session.spec_index(5) == 1
    assert "start 2" in session.run_label(5)
    np.testing.assert_array_equal(session.positions()[4:], np.tile([-1.0, 1.0], (4, 1)))
    assert session.move_start(1, 0.0, 2.0)
    np.testing.assert_array_equal(session.positions()[7], [0.0, 2.0])
    assert rec.count("runs_changed") == 3
    assert not session.move_start(5, 0, 0)
    assert not session.set_start(float("nan"), 0)
    assert session.remove_start(0) and session.n_runs == 4


def test_selection(session, rec):
    assert session.select(2)
    assert session.selected == 2 and rec.calls["selection_changed"] == [(2,)]
    assert not session.select(9)
    session.add_start(0.0, 0.0)  # runs 0..7: the selection survives
    assert session.selected == 2
    session.remove_start(1)
    session.select(3)
    session.remove_run(3)  # the selected run's spec is gone
    assert session.selected == -1 and rec.calls["selection_changed"][-1] == (-1,)


# ------------------------------------------------------------------ problem
def test_set_surface(session, rec):
    session.step(5)
    assert session.set_surface("himmelblau")
    assert session.landscape.name == "himmelblau" and session.t == 0
    assert rec.count("problem_changed") == 1
    assert not session.set_surface("rosenbrok")
    assert "did you mean 'rosenbrock'" in rec.calls["error"][-1][0]
    assert session.landscape.name == "himmelblau"


def test_bad_expression_keeps_old_landscape(session, rec):
    old = session.landscape
    assert not session.set_expression("x^2 + z")
    assert session.landscape is old
    assert rec.count("error") == 1 and rec.count("problem_changed") == 0
    msg = rec.calls["error"][0][0]
    assert "z" in msg and "\n" not in msg
    assert session.set_expression("x^2 + 10*y^2")
    assert session.landscape.sid == -1 and rec.count("problem_changed") == 1
    session.step(3)
    assert np.isfinite(session.positions()).all()


# ------------------------------------------------------------------ divergence
def test_diverged_run_is_frozen_and_others_continue(session):
    session.add_run(RunSpec(config=make_optimizer("sgd", lr=1.0)))
    session.step(40)
    div = session.diverged()
    assert [r for r, _ in div] == [4]
    k = div[0][1]
    assert 1 <= k <= 40
    frozen = session.positions()[4].copy()
    session.step(10)
    np.testing.assert_array_equal(session.positions()[4], frozen)
    assert session.t == 50 and session.diverged() == div
    assert session.diverged(t=k - 1) == []  # not yet diverged earlier in the timeline
    assert len(session.trails()[4]) <= k + 1


def test_everything_diverged_stops_playback():
    s = Session(specs=[RunSpec(config=make_optimizer("sgd", lr=1.0))])
    s.set_speed(1000)
    s.play()
    for _ in range(10):
        s.tick(0.1)
    assert not s.playing and s.diverged()


# ------------------------------------------------------------------ step-by-step
def test_details_now_and_in_the_past(session):
    assert session.details(0) is None  # no update at t = 0
    session.step(3)
    live = session.details(3)
    assert live is not None
    for key in ("g", "delta", "lr"):
        assert key in live
    np.testing.assert_allclose(np.asarray(live["delta"]),
                               session.positions(3)[3] - session.positions(2)[3])
    session.step(4)
    past = session.details(3, t=3)  # re-played
    np.testing.assert_allclose(np.asarray(past["g"]), np.asarray(live["g"]))
    np.testing.assert_allclose(np.asarray(past["delta"]), np.asarray(live["delta"]))
    session.scrub(3)
    np.testing.assert_allclose(np.asarray(session.details(3)["delta"]), np.asarray(live["delta"]))
