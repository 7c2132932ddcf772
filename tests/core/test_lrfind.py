"""The lr finder and the fair race (gdviz.core.lrfind): smoothing, suggestions, the sweep
against a real RunSet, numba against the numpy twins, and the tuning."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gdviz.core import lrfind as L
from gdviz.core.engine import RunSet
from gdviz.core.optimizers import make_optimizer
from gdviz.core.problems import FitData, RegressionData
from gdviz.core.schedules import Schedule
from gdviz.core.session import RunSpec, Session
from gdviz.core.surfaces import Landscape


# ------------------------------------------------------------------ smoothing, suggestions
def test_smoothing_is_fastais_debiased_ema_by_hand():
    # avg1 = 0.02 * 1 = 0.02 -> 0.02 / 0.02 = 1
    # avg2 = 0.98 * 0.02 + 0.02 * 2 = 0.0596 -> 0.0596 / (1 - 0.98^2) = 0.0596 / 0.0396
    # avg3 = 0.98 * 0.0596 + 0.02 * 3 = 0.118408 -> / (1 - 0.98^3) = / 0.058808
    out = L.smooth([1.0, 2.0, 3.0])
    assert_allclose(out, [1.0, 0.0596 / 0.0396, 0.118408 / 0.058808], rtol=1e-12)


def test_suggestions_by_hand():
    # num_it = 10: points 1 .. n-5 are used (fast.ai's [num_it//10:-5])
    lrs = 1e-6 * 10.0 ** np.arange(12)
    sm = np.array([9.0, 8.0, 7.0, 3.0, 2.0, 2.5, 4.0, 1.0, 0.5, 0.1, 0.0, 0.0])
    # used: lrs[1:7], sm = [8, 7, 3, 2, 2.5, 4]; slopes per ln(10): [-1, -4, -1, .5, 1.5]
    # steepest: pair (7 -> 3), fast.ai takes its left lr = lrs[2]; minimum 2 at lrs[4]
    steep, minimum = L.suggestions(lrs, sm, 10)
    assert steep == lrs[2]
    assert minimum == lrs[4] / 10
    # too few points: none
    assert L.suggestions(lrs[:6], sm[:6], 10) == (None, None)
    # a non-finite loss cuts the range there
    sm2 = sm.copy()
    sm2[4] = np.inf
    steep, minimum = L.suggestions(lrs, sm2, 10)
    assert steep == lrs[2] and minimum == lrs[3] / 10


def test_settings_lrs_and_validation():
    s = L.SweepSettings()
    lrs = s.lrs()
    assert lrs.shape == (100,) and lrs[0] == 1e-7
    assert_allclose(lrs[50], 1e-7 * 1e8 ** 0.5)  # fast.ai's SchedExp at pos = i / num_it
    for bad in (dict(start_lr=0), dict(start_lr=1, end_lr=0.1), dict(num_it=1),
                dict(num_it=10**9), dict(end_lr=float("nan")), dict(beta=1.0)):
        with pytest.raises(ValueError, match="Invalid"):
            L.SweepSettings(**bad)


# ------------------------------------------------------------------ the sweep = a RunSet
def _reference(problem, cfg, params, lrs, **kw):
    rs = RunSet(problem, cfg, np.asarray(params)[None, :], record=False, **kw)
    out = []
    for lr in lrs:
        rs.set_config(0, cfg.replace(lr=float(lr)))
        rs.advance(1)
        if rs.diverged_at[0] >= 0:
            break
        out.append(float(rs.loss[0]))
    return np.array(out)


@pytest.mark.parametrize("opt", ["sgd", "momentum", "rmsprop", "adagrad", "adam", "adamw"])
def test_sweep_equals_runset_with_the_same_lr_per_step_on_a_surface(opt):
    land = Landscape.from_surface("rosenbrock")
    cfg = make_optimizer(opt)
    st = L.SweepSettings(num_it=60, stop_div=False)
    res = L.LrSweep(land, cfg, [-1.5, 2.0], settings=st, noise=0.3, seed=5).run()
    ref = _reference(land, cfg, [-1.5, 2.0], st.lrs(), noise=0.3, seed=5)
    assert res.n == len(ref) > 10
    assert_array_equal(res.losses, ref)
    assert_array_equal(res.smoothed, L.smooth(ref))


def test_sweep_on_regression_uses_the_real_minibatches():
    p = RegressionData(n=40, noise=0.8, seed=3).build(8, seed=2, fast=False)
    cfg = make_optimizer("sgd")
    st = L.SweepSettings(num_it=50, end_lr=1.0, stop_div=False)
    res = L.LrSweep(p, cfg, [0.0, 0.0], settings=st, fast=False).run()
    ref = _reference(p, cfg, [0.0, 0.0], st.lrs(), fast=False)
    assert_array_equal(res.losses, ref[:res.n])


def test_sweep_from_a_session_midrace_continues_that_run_exactly():
    """The sweep from run r at step t = the race's own engine from t with those lrs:
    same optimizer state, same noise draws (keyed by r), same step counter."""
    s = Session(specs=[RunSpec(make_optimizer("momentum", lr=1e-3)),
                       RunSpec(make_optimizer("adam", lr=0.02))], noise=0.5, seed=7, fast=False)
    s.step(30)
    st = L.SweepSettings(num_it=40, start_lr=1e-5, end_lr=1.0, stop_div=False)
    before = s.positions().copy()
    res = L.session_sweep(s, 1, st).run()
    assert_array_equal(s.positions(), before) and s.t == 30  # the run is untouched
    assert (res.run, res.spec, res.t, res.optimizer) == (1, 1, 30, "adam")
    rs = s._replay(30)
    ref = []
    for lr in st.lrs()[:res.n]:
        rs.set_config(1, rs.configs[1].replace(lr=float(lr)))
        rs.advance(1)
        ref.append(float(rs.loss[1]))
    assert_array_equal(res.losses, ref)


def test_sweep_on_a_fit_from_midrace():
    s = Session(specs=[RunSpec(make_optimizer("adam", lr=0.05))], fast=False)
    assert s.set_fit(FitData(model="sigmoid", units=3, seed=1))
    s.set_batch_size(8)
    s.step(12)
    st = L.SweepSettings(num_it=30, stop_div=False)
    res = L.session_sweep(s, 0, st).run()
    rs = s._replay(12)
    ref = []
    for lr in st.lrs()[:res.n]:
        rs.set_config(0, rs.configs[0].replace(lr=float(lr)))
        rs.advance(1)
        ref.append(float(rs.loss[0]))
    assert res.n > 0
    assert_array_equal(res.losses, ref)


def test_sweep_numba_matches_numpy_twin():
    land = Landscape.from_expr("x^2 + 10*y^2")
    cfg = make_optimizer("rmsprop")
    fast = L.LrSweep(land, cfg, [1.0, 1.0], fast=True, noise=0.2, index=3).run()
    slow = L.LrSweep(land, cfg, [1.0, 1.0], fast=False, noise=0.2, index=3).run()
    assert fast.n == slow.n
    assert_allclose(fast.losses, slow.losses, rtol=1e-12, atol=1e-300)
    assert fast.steep == pytest.approx(slow.steep) and fast.minimum == pytest.approx(slow.minimum)


def test_sweep_stops_when_the_loss_blows_up():
    land = Landscape.from_expr("x^2 + 10*y^2")
    res = L.LrSweep(land, make_optimizer("sgd"), [1.0, 1.0]).run()
    assert res.stopped_early and res.n < 100
    # the last point kept is above 4x the best smoothed loss, or the run diverged
    assert res.diverged or res.smoothed[-1] > 4 * res.smoothed.min()
    # SGD on a bowl with curvature 20 diverges above lr 0.1: steep lies below that
    assert res.steep is not None and res.steep < 0.1
    assert res.minimum is not None and res.minimum < 0.1
    d = res.to_dict()
    assert d["suggestions"]["steep"] == res.steep and len(d["lrs"]) == res.n


def test_a_diverged_run_cannot_be_swept():
    s = Session(landscape=Landscape.from_expr("x^2 + y^2"),
                specs=[RunSpec(make_optimizer("sgd", lr=5.0))], starts=[(1.0, 1.0)], fast=False)
    s.step(50)
    with pytest.raises(ValueError, match="diverged"):
        L.session_sweep(s, 0)
    with pytest.raises(ValueError, match="no run"):
        L.session_sweep(s, 3)


def test_apply_suggestion_sets_the_lr_through_the_session():
    s = Session(fast=False)
    s.step(10)
    res = L.session_sweep(s, 2).run()
    events = []
    s.events.specs.connect(events.append)
    assert L.apply_suggestion(s, res, "steep")
    assert s.specs[2].config.lr == pytest.approx(res.steep) and events
    assert s.t == 10  # live from the displayed step
    with pytest.raises(ValueError, match="unknown suggestion"):
        res.suggestion("valley")


# ------------------------------------------------------------------ the fair race
def test_tune_scores_equal_separate_runs_and_divergence_is_inf():
    land = Landscape.from_surface("rosenbrock")
    cfgs = [make_optimizer("sgd", lr=1e-3), make_optimizer("adam", lr=0.05)]
    sch = [Schedule(), Schedule("one-cycle")]
    starts = [(-1.5, 2.0), (1.5, -0.5)]
    res = L.tune(land, cfgs, sch, starts, steps=200, n_lrs=12, fast=False)
    assert res.scores.shape == (2, 12)
    for i in (0, 1):
        for j in (0, 5, 11):
            rs = RunSet(land, cfgs[i].replace(lr=float(res.grid[j])), np.array(starts),
                        schedules=sch[i], total_steps=200, record=False, fast=False)
            rs.advance(200)
            f = np.where(rs.diverged_at < 0, rs.loss, np.inf).mean()
            assert res.scores[i, j] == f or (math.isinf(f) and math.isinf(res.scores[i, j]))
    assert math.isinf(res.scores[0, -1])  # SGD at lr 1000 diverges on Rosenbrock
    for i in (0, 1):
        j = int(np.argmin(res.scores[i]))
        if res.scores[i, j] < res.current_score[i]:
            assert res.best_lr[i] == res.grid[j] and res.best_score[i] == res.scores[i, j]
        else:  # the run's own lr is kept
            assert res.best_lr[i] == cfgs[i].lr and res.best_score[i] == res.current_score[i]
        assert res.best_score[i] <= res.current_score[i]
    assert res.grid[0] == pytest.approx(1e-6) and res.grid[-1] == pytest.approx(1e3)


def test_tune_is_one_engine_call(monkeypatch):
    calls = []
    orig = RunSet.advance
    monkeypatch.setattr(RunSet, "advance", lambda self, k=1: (calls.append(k), orig(self, k)))
    s = Session(fast=False)
    res = L.session_tune(s, n_lrs=8, steps=50)
    assert calls == [50] and len(res.rows()) == s.n_specs


def test_tune_all_divergent_keeps_none():
    land = Landscape.from_expr("x^2 + y^2")
    res = L.tune(land, [make_optimizer("sgd", lr=0.1)], [Schedule()], [(1.0, 1.0)],
                 steps=10, n_lrs=4, fast=False)
    assert res.best_lr[0] is not None  # lr 1e-6 converges slowly but stays finite
    with pytest.raises(ValueError, match="too many tuning runs"):
        L.tune(land, [make_optimizer("sgd")] * 200, [Schedule()] * 200,
               np.zeros((2, 2)), steps=1, n_lrs=200, fast=False)


def test_apply_tuned_sets_every_lr_and_replays_from_zero():
    s = Session(fast=False)
    s.set_same_lr(True, 0.01)
    s.step(40)
    res = L.session_tune(s, n_lrs=10, steps=100)
    assert s.set_tuned(res) and s.tuned is res
    assert L.apply_tuned(s, res)
    assert s.t == 0 and not s.same_lr
    for i, lr in enumerate(res.best_lr):
        assert s.specs[i].config.lr == lr
    s.step(100)
    assert_allclose([s.runset.loss[i] for i in range(s.n_specs)], res.best_score, rtol=1e-9)


# ------------------------------------------------------------------ session state
def test_session_holds_the_results_and_a_new_problem_clears_them():
    s = Session(fast=False)
    seen = []
    s.events.lrfind.connect(seen.append)
    res = L.session_sweep(s, 0, L.SweepSettings(num_it=20)).run()
    assert s.set_lrfind(res) and s.lrfind is res and seen == [res]
    assert not s.set_lrfind("nope") and s.lrfind is res
    assert not s.set_tuned(3)
    s.set_surface("himmelblau")
    assert s.lrfind is None and s.tuned is None and seen[-1] is None
    assert s.set_regression(RegressionData())
    assert s.lrfind is None


def test_tuning_in_chunks_equals_one_call():
    land = Landscape.from_surface("himmelblau")
    cfgs = [make_optimizer("momentum"), make_optimizer("rmsprop")]
    kw = dict(steps=120, n_lrs=6, noise=0.4, seed=3, fast=False)
    one = L.tune(land, cfgs, [Schedule()] * 2, [(0.0, 0.0)], **kw)
    t = L.Tuning(land, cfgs, [Schedule()] * 2, [(0.0, 0.0)], **kw)
    with pytest.raises(ValueError, match="not finished"):
        t.result()
    while not t.advance(7):
        assert 0 < t.fraction < 1
    two = t.result()
    assert_array_equal(one.scores, two.scores) and one.best_lr == two.best_lr


def test_tuning_numba_matches_numpy_twin():
    land = Landscape.from_expr("0.1*x^2 + 10*y^2")
    cfgs = [make_optimizer("sgd"), make_optimizer("adam")]
    a = L.tune(land, cfgs, [Schedule()] * 2, [(-4.5, 1.0)], steps=100, n_lrs=10, fast=True)
    b = L.tune(land, cfgs, [Schedule()] * 2, [(-4.5, 1.0)], steps=100, n_lrs=10, fast=False)
    assert_allclose(a.scores, b.scores, rtol=1e-10)
    assert a.best_lr == b.best_lr


def test_a_scene_reopens_the_sweep_and_the_tuning(tmp_path):
    from gdviz.core.scene import (apply_scene, dumps_scene, load_scene, save_scene,
                                  scene_from_session)

    s = Session(fast=False)
    s.step(20)
    s.select(2)
    res = L.session_sweep(s, None, L.SweepSettings(num_it=40, end_lr=1.0)).run()
    s.set_lrfind(res)
    s.set_tuned(L.session_tune(s, n_lrs=6, steps=50))
    path = tmp_path / "x.toml"
    save_scene(scene_from_session(s), path)
    scene = load_scene(path)
    assert scene.lrfind.show and scene.lrfind.run and scene.lrfind.at_step == 20
    assert scene.lrfind.tune and scene.lrfind.tune_lrs == 6 and scene.lrfind.tune_steps == 50
    t = Session(fast=False)
    apply_scene(scene, t)
    assert t.t == 0  # the race starts over; the sweep is from step 20, as it was
    assert (t.lrfind.run, t.lrfind.t, t.lrfind.settings) == (2, 20, res.settings)
    assert_array_equal(t.lrfind.losses, res.losses)
    assert_array_equal(t.tuned.scores, s.tuned.scores)
    # without them the table is left out of the file
    s.set_lrfind(None)
    s.set_tuned(None)
    assert "[lrfind]" not in dumps_scene(scene_from_session(s))


def test_scene_lrfind_errors_name_the_key():
    from gdviz.core.scene import SceneError, loads_scene, preset_path

    base = preset_path("L18").read_text(encoding="utf-8")
    for old, new in (('run = "found"', 'run = "nope"'),
                     ("show = true", "show = true\nstart_lr = 5.0\nend_lr = 1.0"),
                     ("show = true", "show = true\nat_step = 9999"),
                     ("show = true", "show = true\nnum_it = 1")):
        with pytest.raises(SceneError, match="lrfind"):
            loads_scene(base.replace(old, new, 1))


def test_a_tuning_never_makes_a_run_worse():
    # SGD at 0.09 on L10's valley beats every lr of a coarse grid: it keeps its own lr
    land = Landscape.from_expr("0.1*x^2 + 10*y^2")
    res = L.tune(land, [make_optimizer("sgd", lr=0.09)], [Schedule()], [(-4.5, 1.0)],
                 steps=600, n_lrs=6, fast=False)
    assert res.best_lr == (0.09,) and res.best_score[0] == res.current_score[0]
    assert res.scores.min() > res.current_score[0]


def test_a_sweep_past_a_shortened_race_still_saves():
    from gdviz.core.scene import scene_from_session

    s = Session(fast=False)
    s.step(50)
    s.set_lrfind(L.session_sweep(s, 0, L.SweepSettings(num_it=20)).run())
    assert s.set_max_steps(30)
    scene = scene_from_session(s)
    assert scene.lrfind.show and scene.lrfind.at_step == 30


def test_a_scenes_lr_finder_work_in_chunks_gives_what_the_open_at_once_gives():
    """apply_scene(defer_lrfind=True): the re-play to the sweep's step, the sweep and the
    tuning left for the caller (the window runs them in chunks); chunk by chunk, they put
    into the model exactly what the open at once does, and nothing before."""
    import dataclasses

    from gdviz.core.scene import apply_scene, load_preset
    from gdviz.core.session import Session

    scene = load_preset("L18")
    scene = dataclasses.replace(scene, lrfind=dataclasses.replace(
        scene.lrfind, tune=True, tune_steps=150, tune_lrs=5, at_step=30))
    ref = Session()
    assert apply_scene(scene, ref) is None  # (at once: nothing left)
    s = Session()
    jobs = apply_scene(scene, s, defer_lrfind=True)
    assert jobs is not None and not jobs.done
    assert s.lrfind is None and s.tuned is None and s.t == 0
    fractions = []
    while not jobs.advance(3):
        fractions.append(jobs.fraction)
    assert fractions == sorted(fractions) and 0.0 <= fractions[0] and fractions[-1] < 1.0
    assert jobs.fraction == 1.0
    assert s.lrfind is None  # (until finish, or land_sweep)
    assert jobs.land_sweep() and not jobs.land_sweep()  # (once)
    assert s.lrfind is not None and s.tuned is None
    jobs.finish()
    np.testing.assert_array_equal(s.lrfind.losses, ref.lrfind.losses)
    np.testing.assert_array_equal(s.lrfind.lrs, ref.lrfind.lrs)
    assert s.lrfind.t == 30 and s.lrfind.steep == ref.lrfind.steep
    # (both re-played from the engine's checkpoint; the same as re-played from step 0)
    from0 = L.sweep_from(ref, ref._replay(30), ref.lrfind.run, ref.lrfind.settings).run()
    np.testing.assert_array_equal(s.lrfind.losses, from0.losses)
    np.testing.assert_array_equal(s.tuned.scores, ref.tuned.scores)
    assert s.tuned.best_lr == ref.tuned.best_lr
    assert s.t == 0  # (the re-play was the job's own: the session stays at its step)


def test_a_sweep_job_replays_from_the_engines_checkpoint_in_pieces():
    """Find lr at a step scrubbed back to re-played the race from step 0 in the press (L21
    with 16 networks, 800 steps back: 0.2 s). SweepJob re-plays from the engine's last
    checkpoint before the step, in pieces, and sweeps what session_sweep sweeps; a run that
    has diverged by then is an error found at the re-play's end."""
    from gdviz.core.session import Session

    s = Session()
    s.step(700)
    s.scrub(600)
    job = L.session_sweep_job(s, 2)
    assert job.phase == "replay" and not job.done
    start = job._replay.rs.t
    assert 0 < start <= 600  # (a checkpoint, not step 0)
    pieces = 0
    while not job.advance(7):
        pieces += 1
    assert pieces > 1 and job.phase == "sweep"
    ref = L.sweep_from(s, s._replay(600), 2, None).run()  # (from step 0)
    got = job.result()
    np.testing.assert_array_equal(got.losses, ref.losses)
    assert got.t == ref.t == 600 and s.runset.t == 700 and s.t == 600
    with pytest.raises(ValueError, match="no run"):
        L.session_sweep_job(s, 99)


def test_scene_work_in_a_time_budget_starts_each_phase_from_one_step():
    """SceneJobs.run_for (the window's open, the CLI's progress): chunks double while time
    is left and start from one step again at each phase; the window's open carried the
    sweep's chunk into the tuning (a tuning step of L21's networks costs ~100 sweep
    steps). A clock that stands still: everything in one call."""

    class Fake:
        phase = "sweep"

        def __init__(self):
            self.ks = []

        def advance(self, k):
            self.ks.append((self.phase, k))
            if len(self.ks) == 4:
                self.phase = "tune"
            return len(self.ks) == 7

    fake = Fake()
    assert L.SceneJobs.run_for(fake, 1.0, clock=lambda: 0.0)
    assert fake.ks == [("sweep", 1), ("sweep", 2), ("sweep", 4), ("sweep", 8),
                       ("tune", 1), ("tune", 2), ("tune", 4)]
    ticks = iter(range(100))
    fake = Fake()
    assert not L.SceneJobs.run_for(fake, 2.0, clock=lambda: float(next(ticks)))
    assert len(fake.ks) == 2  # (the budget spent: what is left waits)
