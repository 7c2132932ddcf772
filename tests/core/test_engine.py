"""RunSet against the torch.optim transcriptions, convergence, divergence, noise, buffers."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import gdviz.kernels as kernels
from gdviz.core import engine
from gdviz.core.engine import RunSet
from gdviz.core.optimizers import OPTIMIZERS, make_optimizer
from gdviz.core.schedules import Schedule
from gdviz.core.surfaces import Landscape
from gdviz.kernels import optim as K

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import reference_optim as R  # noqa: E402

# (name, hyperparameters): each optimizer with a couple of combinations that exercise
# weight decay, amsgrad, centered, nesterov, dampening, lr_decay, initial_accumulator_value
CASES = [
    ("sgd", dict(lr=1e-3)),
    ("sgd", dict(lr=2e-3, weight_decay=0.1)),
    ("momentum", dict(lr=1e-3)),
    ("momentum", dict(lr=1e-3, momentum=0.8, dampening=0.3, weight_decay=0.05)),
    ("nesterov", dict(lr=1e-3)),
    ("nesterov", dict(lr=5e-4, momentum=0.5, weight_decay=0.01)),
    ("rmsprop", dict(lr=1e-3)),
    ("rmsprop", dict(lr=1e-3, alpha=0.9, eps=1e-6, centered=True, momentum=0.5,
                     weight_decay=0.01)),
    ("rmsprop", dict(lr=1e-3, momentum=0.9)),
    ("adagrad", dict(lr=0.1)),
    ("adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.5, weight_decay=0.01,
                     eps=1e-6)),
    ("adam", dict(lr=0.01)),
    ("adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, beta1=0.8, beta2=0.99, eps=1e-6)),
    ("adamw", dict(lr=0.01)),
    ("adamw", dict(lr=0.01, amsgrad=True, weight_decay=0.5)),
]
SURFACES = {"quadratic": ((1.5, -1.0), R.quadratic_vg), "rosenbrock": ((-1.5, 2.0), R.rosenbrock_vg)}


@pytest.fixture(params=[True, False], ids=["numba", "numpy"])
def fast(request):
    return request.param


@pytest.mark.parametrize("surface", list(SURFACES))
def test_matches_torch_transcription_over_200_steps(surface, fast):
    start, vg = SURFACES[surface]
    land = Landscape.from_surface(surface)
    configs = [make_optimizer(n, **hp) for n, hp in CASES]
    rs = RunSet(land, configs, [start], fast=fast, total_steps=200)
    rs.advance(120)
    rs.advance(80)  # two calls: state carries over exactly
    assert (rs.diverged_at == -1).all()
    for r, (name, hp) in enumerate(CASES):
        P_ref, L_ref = R.trajectory(R.make(name, **hp), vg, start, 200)
        P, L = rs.trajectory(r)
        assert P.shape == (201, 2)
        assert_allclose(P, P_ref, rtol=1e-12, atol=1e-15, err_msg=f"{name} {hp}")
        assert_allclose(L, L_ref, rtol=1e-12, atol=1e-15, err_msg=f"{name} {hp}")


CONVERGE = {  # name -> (quadratic hyperparameters, rosenbrock hyperparameters)
    "sgd": (dict(lr=0.1), dict(lr=1e-3)),
    "momentum": (dict(lr=0.05), dict(lr=1e-3)),
    "nesterov": (dict(lr=0.05), dict(lr=1e-3)),
    "rmsprop": (dict(lr=1e-3), dict(lr=3e-4)),
    "adagrad": (dict(lr=0.5), dict(lr=0.5)),
    "adam": (dict(lr=0.05), dict(lr=3e-3)),
    "adamw": (dict(lr=0.05), dict(lr=3e-3)),
}


def test_convergence_table_covers_registry():
    assert set(CONVERGE) == set(OPTIMIZERS)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_converges_on_quadratic_and_rosenbrock(name):
    q, rb = CONVERGE[name]
    rs = RunSet(Landscape.from_surface("quadratic"), [make_optimizer(name, **q)], [[1.5, -1.0]],
                fast=True)
    rs.advance(2000)
    assert np.linalg.norm(rs.params[0]) < 1e-2 and rs.loss[0] < 1e-4
    rs = RunSet(Landscape.from_surface("rosenbrock"), [make_optimizer(name, **rb)], [[-1.5, 2.0]],
                fast=True, record=False)
    rs.advance(20000)
    assert np.linalg.norm(rs.params[0] - 1.0) < 1e-2 and rs.loss[0] < 1e-4


def test_divergence_marked_and_frozen_while_others_continue(fast):
    land = Landscape.from_surface("quadratic")  # view 4 wide: bound 4000
    rs = RunSet(land, [make_optimizer("sgd", lr=1.5), make_optimizer("sgd", lr=0.1)],
                [[1.0, 1.0]], fast=fast)
    assert rs.bound == 4000.0
    rs.advance(30)
    # theta_k = (-2)^k: |theta_12| = 4096 > 4000
    assert rs.diverged_at.tolist() == [12, -1]
    P, L = rs.trajectory(0)
    assert P.shape == (12, 2) and np.isfinite(P).all()
    assert_allclose(P[-1], [(-2.0) ** 11] * 2)
    bad_p, bad_f = rs.diverged_point(0)
    assert_allclose(bad_p, [4096.0, 4096.0]) and bad_f == 2 * 4096.0 ** 2
    assert rs.details(0)["step"] == 11 and rs.details(0)["diverged_at"] == 12
    frozen = rs.params[0].copy()
    rs.advance(10)
    assert_array_equal(rs.params[0], frozen)
    assert rs.trajectory(1)[0].shape == (41, 2) and rs.t == 40
    assert rs.diverged_point(1) is None


def test_nan_divergence_on_expression(fast):
    land = Landscape.from_expr("log(x) + y^2")  # gradient descent walks x below 0
    rs = RunSet(land, [make_optimizer("sgd", lr=0.5)], [[1.0, 1.0]], fast=fast)
    rs.advance(20)
    k = rs.diverged_at[0]
    assert k > 0
    P, L = rs.trajectory(0)
    assert len(P) == k and np.isfinite(P).all() and np.isfinite(L).all()
    assert math.isnan(rs.diverged_point(0)[1])


def test_start_where_loss_is_undefined_is_diverged_at_0():
    rs = RunSet(Landscape.from_expr("log(x)"), [make_optimizer("adam")], [[-1.0, 0.0]], fast=False)
    assert rs.diverged_at[0] == 0
    rs.advance(5)
    assert rs.trajectory(0)[0].shape == (1, 2) and rs.diverged_point(0) is None


def test_noise_deterministic_and_kernel_equals_twin():
    land = Landscape.from_surface("rosenbrock")
    cfgs = [make_optimizer("adam", lr=0.01), make_optimizer("momentum", lr=1e-3)]
    kw = dict(noise=2.0, batch_size=4, seed=42, total_steps=300)
    a = RunSet(land, cfgs, [[-1.0, 1.5]], fast=True, **kw)
    b = RunSet(land, cfgs, [[-1.0, 1.5]], fast=False, **kw)
    c = RunSet(land, cfgs, [[-1.0, 1.5]], fast=True, **kw)
    a.advance(300)
    b.advance(100)
    b.advance(200)
    c.advance(300)
    for r in range(2):
        assert_array_equal(a.trajectory(r)[0], c.trajectory(r)[0])  # same seed, same path
        assert_allclose(a.trajectory(r)[0], b.trajectory(r)[0], rtol=1e-10, atol=1e-12)
    d = RunSet(land, cfgs, [[-1.0, 1.5]], fast=True, **{**kw, "seed": 43})
    d.advance(300)
    assert not np.allclose(a.params, d.params)
    e = RunSet(land, cfgs[:1], [[-1.0, 1.5]], fast=True, **kw)  # run 0 alone: same noise
    e.advance(300)
    assert_array_equal(e.trajectory(0)[0], a.trajectory(0)[0])


def test_noise_std_is_noise_over_sqrt_batch():
    land = Landscape.from_surface("quadratic")
    cfg = make_optimizer("sgd", lr=0.1)
    g = {}
    for b in (1, 4, 16):
        rs = RunSet(land, [cfg], [[1.0, -1.0]], noise=3.0, batch_size=b, seed=5, fast=False)
        rs.advance(1)
        g[b] = rs.details(0)["g"] - np.array([2.0, -2.0])  # minus the exact gradient
    assert_allclose(g[4], g[1] / 2, rtol=1e-12)
    assert_allclose(g[16], g[1] / 4, rtol=1e-12)
    assert_allclose(g[1], 3.0 * K.gauss_np(5, np.array([0, 0]), 1, np.array([0, 1])), rtol=1e-12)
    rs = RunSet(land, [cfg], [[1.0, -1.0]], fast=False)
    rs.set_noise(3.0, 4)
    assert rs.noise_std == 1.5


def test_details(fast):
    land = Landscape.from_surface("rosenbrock")
    cfgs = [make_optimizer("adam", lr=0.01), make_optimizer("sgd", lr=1e-3, weight_decay=0.5),
            make_optimizer("momentum", lr=1e-3), make_optimizer("rmsprop", lr=1e-3),
            make_optimizer("adagrad", lr=0.1), make_optimizer("adam", lr=0.01, amsgrad=True)]
    rs = RunSet(land, cfgs, [[-1.0, 1.5]], fast=fast)
    d0 = rs.details(0)
    assert d0["step"] == 0 and d0["m"] is None and d0["v"] is None and d0["lr"] == 0.01
    rs.advance(9)
    before = rs.params.copy()
    f, gx, gy = R.rosenbrock_vg(*before[1])
    rs.advance(1)
    delta = rs.params - before
    for r in range(len(cfgs)):
        d = rs.details(r)
        assert d["step"] == 10 and d["diverged_at"] is None
        assert_allclose(d["delta"], delta[r], rtol=1e-15)
    a = rs.details(0)
    assert_allclose(-a["step_size"] * a["m"], a["delta"], rtol=1e-12)
    assert a["v"] is not None and a["lr"] == 0.01
    s = rs.details(1)
    assert s["m"] is None and s["v"] is None and np.all(s["step_size"] == 1e-3)
    assert_allclose(s["g"], [gx + 0.5 * before[1, 0], gy + 0.5 * before[1, 1]], rtol=1e-14)
    assert_allclose(s["delta"], -1e-3 * s["g"], rtol=1e-12)
    m = rs.details(2)
    assert_allclose(m["delta"], -1e-3 * m["m"], rtol=1e-12)
    r = rs.details(3)
    assert r["m"] is None and np.all(r["v"] > 0)
    assert_allclose(r["delta"], -r["step_size"] * r["g"], rtol=1e-12)
    ada = rs.details(4)
    assert_allclose(ada["delta"], -ada["step_size"] * ada["g"], rtol=1e-12)
    assert_allclose(ada["step_size"], 0.1 / (np.sqrt(ada["v"]) + 1e-10), rtol=1e-14)
    ams = rs.details(5)
    assert_array_equal(ams["v"], rs.state[5, 2])  # amsgrad shows the running max


def test_set_config_keeps_state(fast):
    land = Landscape.from_surface("rosenbrock")
    start = (-1.5, 2.0)
    rs = RunSet(land, [make_optimizer("adam", lr=0.01), make_optimizer("sgd", lr=1e-3)], [start],
                fast=fast)
    rs.advance(100)
    rs.set_config(0, make_optimizer("adam", lr=0.02, amsgrad=True))  # same kind: state kept
    rs.set_config(1, make_optimizer("adam", lr=0.01))  # new kind: fresh Adam from here
    rs.advance(100)
    ref = R.Adam(lr=0.01)
    theta = np.array(start)
    for t in range(200):
        if t == 100:
            ref.lr, ref.amsgrad = 0.02, True
        _, gx, gy = R.rosenbrock_vg(*theta)
        theta = ref.step(theta, np.array([gx, gy]))
    assert_allclose(rs.params[0], theta, rtol=1e-12)
    P_sgd, _ = R.trajectory(R.SGD(lr=1e-3), R.rosenbrock_vg, start, 100)
    P_adam, _ = R.trajectory(R.Adam(lr=0.01), R.rosenbrock_vg, P_sgd[-1], 100)
    assert_allclose(rs.trajectory(1)[0], np.vstack([P_sgd, P_adam[1:]]), rtol=1e-12)
    assert rs.configs[1].name == "adam" and rs.opt_t[1] == 100


def test_one_cycle_adam_matches_reference_with_scheduled_lr_and_beta1(fast):
    land = Landscape.from_surface("rosenbrock")
    sched = Schedule("one-cycle")
    total = 150
    rs = RunSet(land, [make_optimizer("adam", lr=0.05), make_optimizer("momentum", lr=1e-3),
                       make_optimizer("sgd", lr=1e-3)], [[-1.5, 2.0]], schedules=sched,
                total_steps=total, fast=fast)
    rs.advance(total)
    t = np.arange(1, total + 1)
    lrf = sched.lr_factor(t, total)
    for r, (ref, base_mom) in enumerate([(R.Adam(lr=0.05), 0.9), (R.SGD(lr=1e-3, momentum=0.9), 0.9),
                                         (R.SGD(lr=1e-3), 0.0)]):
        mom = sched.momentum_at(t, total, base_mom)
        theta = np.array([-1.5, 2.0])
        base_lr = ref.lr
        for i in range(total):
            ref.lr = base_lr * lrf[i]
            if isinstance(ref, R.Adam):
                ref.betas = (mom[i], 0.999)
            else:
                ref.momentum = mom[i]
            _, gx, gy = R.rosenbrock_vg(*theta)
            theta = ref.step(theta, np.array([gx, gy]))
        assert_allclose(rs.params[r], theta, rtol=1e-11)
        assert rs.details(r)["lr"] == pytest.approx(base_lr * lrf[-1], rel=1e-14)


def test_set_schedule_and_step_schedule_lr():
    rs = RunSet(Landscape.from_surface("quadratic"), [make_optimizer("sgd", lr=0.1)], [[1.0, 1.0]],
                fast=False)
    rs.set_schedule(0, Schedule("step", step_size=5, gamma=0.5))
    lrs = []
    for _ in range(12):
        rs.advance(1)
        lrs.append(rs.details(0)["lr"])
    assert_allclose(lrs, [0.1] * 5 + [0.05] * 5 + [0.025] * 2)


def test_trajectory_grows_and_decimates(monkeypatch, fast):
    land = Landscape.from_surface("quadratic")
    cfg = make_optimizer("adam", lr=1e-3)
    full = RunSet(land, [cfg], [[1.0, 1.0]], total_steps=10, fast=fast)
    full.advance(1000)  # grows from 64 rows by doubling
    assert full.stride == 1 and full._traj.shape[1] == 1024
    P_full, L_full = full.trajectory(0)
    monkeypatch.setattr(engine, "ROW_CAP", 64)
    dec = RunSet(land, [cfg], [[1.0, 1.0]], total_steps=10, fast=fast)
    for k in (10, 100, 3, 887):
        dec.advance(k)
    assert dec.t == 1000 and dec.stride == 16 and dec._traj.shape[1] == 64
    steps = dec.trajectory_steps(0)
    assert steps[0] == 0 and steps[-1] == 1000 and (np.diff(steps[:-1]) == 16).all()
    P, L = dec.trajectory(0)
    assert_array_equal(P, P_full[steps])
    assert_array_equal(L, L_full[steps])
    assert_array_equal(dec.positions(500), P_full[496][None])  # nearest recorded at or before


@pytest.mark.parametrize("block_rows", [1, 5, 64])
def test_a_full_buffer_is_halved_in_place_block_by_block(monkeypatch, block_rows):
    """Halving a full buffer moves row 2i to row i a block of rows at a time, in place (no
    copy of the whole: new memory's first touch cost ~1 s per 64 MB here); the kept rows
    are the full history's, whatever the block."""
    land = Landscape.from_surface("rosenbrock")
    cfgs = [make_optimizer("adam", lr=1e-2), make_optimizer("momentum", lr=1e-3)]
    full = RunSet(land, cfgs, [[-1.5, 2.0]], total_steps=10, fast=False)
    full.advance(1000)
    monkeypatch.setattr(engine, "ROW_CAP", 64)
    monkeypatch.setattr(engine, "COMPACT_BYTES", block_rows * 8 * (2 + 1) * 2)
    dec = RunSet(land, cfgs, [[-1.5, 2.0]], total_steps=10, fast=False)
    for k in (63, 1, 200, 736):
        dec.advance(k)
    assert dec.stride == 16
    for r in range(2):
        steps = dec.trajectory_steps(r)
        P_full, L_full = full.trajectory(r)
        P, L = dec.trajectory(r)
        assert_array_equal(P, P_full[steps])
        assert_array_equal(L, L_full[steps])


def test_trajectory_grows_into_buffers_made_ready_in_a_thread(monkeypatch, fast):
    """Past half its rows, the next (doubled) buffers are allocated and written once in a
    thread (their pages' first touch was a doubling's cost: 1 s for 44 MB here, a frozen
    frame); the growth takes them, and the history is the same as without."""
    land = Landscape.from_surface("rosenbrock")
    cfgs = [make_optimizer("adam", lr=1e-2), make_optimizer("momentum", lr=1e-3)]
    made = []
    real = engine._SpareRows

    class Spy(real):
        def __init__(self, *a):
            super().__init__(*a)
            made.append(self)

    monkeypatch.setattr(engine, "_SpareRows", Spy)
    rs = RunSet(land, cfgs, [[-1.5, 2.0]], total_steps=10, fast=fast)
    for k in (20, 13, 1, *[50] * 18, 66):
        rs.advance(k)
    assert rs.t == 1000 and rs._traj.shape[1] == 1024 and rs.stride == 1
    # 64 -> 128 -> 256 -> 512 -> 1024, each made ready first; 2048 is ready for the next
    assert [m.shapes[0][1] for m in made] == [128, 256, 512, 1024, 2048]
    assert all(m._out is None and not m._thread.is_alive() for m in made[:4])  # taken
    assert rs._spare is made[4]
    jump = RunSet(land, cfgs, [[-1.5, 2.0]], total_steps=10, fast=fast)
    jump.advance(40)  # (its spare: 128 rows)
    jump.advance(960)  # (1024 needed: the spare does not fit, a new buffer is made)
    monkeypatch.setattr(engine, "SPARE_AT", 2.0)  # (never: every growth allocates)
    ref = RunSet(land, cfgs, [[-1.5, 2.0]], total_steps=10, fast=fast)
    ref.advance(1000)
    for r in range(2):
        P_ref, L_ref = ref.trajectory(r)
        for run in (rs, jump):
            P, L = run.trajectory(r)
            assert_array_equal(P, P_ref)
            assert_array_equal(L, L_ref)
    assert rs.clone_at(500)._spare is None  # (a clone never takes this one's buffers)


def test_steps_without_waiting_stop_at_rows_still_being_made(monkeypatch):
    """A caller that runs many steps a piece at a time (an export) asks how many the
    trajectory's rows take now: all while they fit; up to the rows' end; then none until
    the next buffers are made on their thread (started by the question if need be), then
    up to their end. Advancing by the answers never waits in ``take`` for the thread, and
    the history is the one a single advance makes."""
    import threading

    land = Landscape.from_surface("rosenbrock")
    cfgs = [make_optimizer("adam", lr=1e-2), make_optimizer("momentum", lr=1e-3)]
    gate = threading.Event()
    waited = []
    real = engine._SpareRows

    class Gated(real):
        def _make(self):
            gate.wait(10)
            super()._make()

        def take(self):
            waited.append(self._thread.is_alive())
            return super().take()

    monkeypatch.setattr(engine, "_SpareRows", Gated)
    monkeypatch.setattr(engine, "SPARE_AT", 2.0)  # (only the question starts them)
    rs = RunSet(land, cfgs, [[-1.5, 2.0]], total_steps=10, fast=True)
    rows = rs._traj.shape[1]
    assert rs.steps_without_waiting(10) == 10
    assert rs.steps_without_waiting(5000) == rows - 1  # up to the rows' end
    rs.advance(rows - 1)
    assert rs.steps_without_waiting(5000) == 0 and rs._spare is not None  # being made
    assert rs.steps_without_waiting(5000, wait=0.001) == 0
    gate.set()
    assert rs.steps_without_waiting(5000, wait=10.0) == 2 * rows - 1 - rs.t  # its end
    done = rs.t
    while rs.t < 5000:
        k = rs.steps_without_waiting(5000 - rs.t, wait=10.0)
        assert k > 0
        rs.advance(k)
    assert waited and not any(waited)  # every buffer taken was ready
    assert rs.steps_without_waiting(0) == 0 and done < 5000
    ref = RunSet(land, cfgs, [[-1.5, 2.0]], total_steps=10, fast=True)
    ref.advance(5000)
    for r in range(2):
        assert_array_equal(rs.trajectory(r)[0], ref.trajectory(r)[0])
        assert_array_equal(rs.trajectory(r)[1], ref.trajectory(r)[1])
    off = RunSet(land, cfgs, [[-1.5, 2.0]], record=False, fast=True)
    assert off.steps_without_waiting(10**6) == 10**6


def test_record_false_and_positions():
    land = Landscape.from_surface("himmelblau")
    starts = np.random.default_rng(0).uniform(-5, 5, (256, 2))
    a = RunSet(land, [make_optimizer("adam", lr=0.05)], starts, record=False, fast=True)
    b = RunSet(land, [make_optimizer("adam", lr=0.05)], starts, fast=True)
    a.advance(50)
    b.advance(50)
    assert_array_equal(a.params, b.params)
    with pytest.raises(ValueError, match="record=False"):
        a.trajectory(0)
    assert_array_equal(b.positions(0), starts)
    assert_array_equal(b.positions(20), np.array([b.trajectory(r)[0][20] for r in range(256)]))
    assert_array_equal(b.positions(), b.params)


def test_reset_replays_and_moves():
    land = Landscape.from_surface("beale")
    rs = RunSet(land, [make_optimizer("rmsprop", lr=1e-2)], [[1.0, 1.0]], noise=1.0, seed=3,
                fast=False)
    rs.advance(50)
    p = rs.params.copy()
    rs.reset()
    assert rs.t == 0 and rs.opt_t[0] == 0
    rs.advance(50)
    assert_array_equal(rs.params, p)
    rs.reset(starts=[[2.0, 0.5]])
    assert_array_equal(rs.params, [[2.0, 0.5]]) and rs.trajectory(0)[0].shape == (1, 2)


def test_fast_none_follows_kernel_readiness(monkeypatch):
    def boom(*a):
        raise AssertionError("numba path used")

    land = Landscape.from_surface("quadratic")
    was = kernels.is_ready()
    monkeypatch.setattr(K, "advance_landscape", boom)
    try:
        kernels.mark_ready(False)
        rs = RunSet(land, [make_optimizer("sgd")], [[1.0, 1.0]])
        rs.advance(3)
        kernels.mark_ready(True)
        with pytest.raises(AssertionError, match="numba path used"):
            rs.advance(1)
        with pytest.raises(AssertionError, match="numba path used"):
            RunSet(land, [make_optimizer("sgd")], [[1.0, 1.0]], fast=True).advance(1)
    finally:
        kernels.mark_ready(was)


class LeastSquares:
    """A data problem: mean squared error of a linear model with 3 weights."""

    n_params = 3

    def __init__(self):
        rng = np.random.default_rng(0)
        self.X = rng.normal(size=(20, 3))
        self.y = self.X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=20)
        self.steps = []

    def loss(self, W):
        return np.mean((W @ self.X.T - self.y) ** 2, axis=1)

    def loss_grad(self, W, step):
        self.steps.append(step)
        r = W @ self.X.T - self.y
        return np.mean(r ** 2, axis=1), 2.0 / len(self.y) * r @ self.X


def test_data_problem_generic_path(fast):
    prob = LeastSquares()
    names = ["sgd", "nesterov", "rmsprop", "adagrad", "adam", "adamw"]
    cfgs = [make_optimizer(n, lr=0.05) for n in names] + [make_optimizer("sgd", lr=5.0)]
    rs = RunSet(prob, cfgs, np.zeros((1, 3)), fast=fast)
    assert rs.bound == 1e6
    rs.advance(60)
    # the start's gradient, then updates 1..60 on iterations 0..59
    assert prob.steps[:3] == [0, 0, 1] and prob.steps[-1] == 59
    for r, n in enumerate(names):
        ref = R.make(n, lr=0.05)
        w = np.zeros(3)
        for t in range(60):
            _, g = prob.loss_grad(w[None], t)
            w = ref.step(w, g[0])
        assert_allclose(rs.params[r], w, rtol=1e-12, atol=1e-15, err_msg=n)
        assert_allclose(rs.loss[r], prob.loss(w[None])[0], rtol=1e-12)
    assert rs.diverged_at[-1] > 0 and (rs.diverged_at[:-1] == -1).all()
    P, L = rs.trajectory(0)
    assert P.shape == (61, 3)
    assert rs.trajectory(len(cfgs) - 1)[0].shape == (rs.diverged_at[-1], 3)


@pytest.mark.parametrize("kwargs, msg", [
    (dict(configs=[make_optimizer("sgd")] * 2, starts=[[0, 0]] * 3),
     r"configs has 2 entries; expected 1 or 3 \(one per run\)"),
    (dict(starts=[[0, 0, 0]]), r"starts must have shape \(n_runs, 2\), got \(1, 3\)"),
    (dict(starts=[[0, np.nan]]), "starts must be finite numbers"),
    (dict(noise=-1.0), r"Invalid noise: -1\.0 \(must be a finite number >= 0\)"),
    (dict(batch_size=0), r"Invalid batch size: 0 \(must be an integer >= 1\)"),
    (dict(seed=-3), r"Invalid seed: -3 \(must be an integer in \[0, 2\*\*63\)\)"),
    (dict(total_steps=0), r"Invalid total steps: 0 \(must be an integer >= 1\)"),
    (dict(configs=["adam"]), "configs must be OptimizerConfig objects, got str"),
    (dict(schedules=["cosine"]), "schedules must be Schedule objects, got str"),
    (dict(bound=-1.0), r"Invalid bound: -1\.0 \(must be > 0\)"),
])
def test_runset_validation(kwargs, msg):
    kw = dict(configs=[make_optimizer("sgd")], starts=[[0.0, 0.0]])
    kw.update(kwargs)
    problem = Landscape.from_surface("quadratic")
    configs, starts = kw.pop("configs"), kw.pop("starts")
    with pytest.raises(ValueError, match=msg):
        RunSet(problem, configs, starts, fast=False, **kw)


def test_runset_method_validation():
    rs = RunSet(Landscape.from_surface("quadratic"), [make_optimizer("sgd")], [[0.0, 0.0]],
                fast=False)
    with pytest.raises(ValueError, match=r"Invalid number of steps: -1 \(must be an integer >= 0\)"):
        rs.advance(-1)
    with pytest.raises(ValueError, match=r"no run 5 \(there are 1\)"):
        rs.set_config(5, make_optimizer("adam"))
    with pytest.raises(ValueError, match="config must be an OptimizerConfig"):
        rs.set_config(0, "adam")
    rs.advance(0)
    assert rs.t == 0
