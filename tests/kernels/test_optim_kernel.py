"""Optimizer kernels against their numpy twins on seeded inputs."""

from gdviz.kernels._jit import same_kernel
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import gdviz.kernels as kernels
from gdviz.core.optimizers import make_optimizer
from gdviz.core.schedules import Schedule
from gdviz.core.surfaces import Landscape
from gdviz.kernels import optim as K

CONFIGS = [
    make_optimizer("sgd", lr=0.01, weight_decay=0.1),
    make_optimizer("momentum", lr=0.01, dampening=0.2),
    make_optimizer("nesterov", lr=0.005),
    make_optimizer("rmsprop", lr=0.01),
    make_optimizer("rmsprop", lr=0.01, momentum=0.5, centered=True, weight_decay=0.01),
    make_optimizer("adagrad", lr=0.1, lr_decay=0.01, initial_accumulator_value=0.2),
    make_optimizer("adam", lr=0.01),
    make_optimizer("adam", lr=0.01, amsgrad=True, weight_decay=0.1),
    make_optimizer("adamw", lr=0.01),
]
SCHEDS = [Schedule(), Schedule("step", step_size=3), Schedule("exponential", gamma=0.95),
          Schedule("cosine"), Schedule("one-cycle")]


def _pack(n, rng):
    idx = rng.integers(0, len(CONFIGS), n)
    sidx = rng.integers(0, len(SCHEDS), n)
    kind = np.empty(n, dtype=np.int64)
    hyper = np.empty((n, K.N_HYPER))
    sk = np.empty(n, dtype=np.int64)
    sp = np.empty((n, K.N_SCHED))
    for r in range(n):
        kind[r], hyper[r] = CONFIGS[idx[r]].pack()
        sk[r], sp[r] = SCHEDS[sidx[r]].pack()
    hyper[:, K.H_LR] *= rng.uniform(0.5, 2.0, n)  # every run its own lr
    return kind, hyper, sk, sp


def test_registered():
    for name in ("opt_step", "advance_landscape", "eval_landscape"):
        spec = kernels.REGISTRY[name]
        assert same_kernel(spec.fast, getattr(K, name)) and spec.twin is getattr(K, name + "_np")
        spec.warmup()


#: every kernel has a serial and a parallel build (picked by size); both must equal the twin
OPT_STEPS = {"serial": K._opt_step_ser, "parallel": K._opt_step_par}
ADVANCES = {"serial": K._advance_ser, "parallel": K._advance_par}
EVALS = {"serial": K._eval_ser, "parallel": K._eval_par}


def test_size_picks_serial_or_parallel(monkeypatch):
    calls = []
    monkeypatch.setattr(K, "_opt_step_ser", lambda *a: calls.append("serial"))
    monkeypatch.setattr(K, "_opt_step_par", lambda *a: calls.append("parallel"))
    for n in (4, K.PARALLEL_WORK):
        P = np.zeros((n, 1))
        K.opt_step(None, None, None, None, 1, 1, P, P, None, None, None, P, P, P, None)
    assert calls == ["serial", "parallel"]


@pytest.mark.parametrize("build", list(OPT_STEPS))
@pytest.mark.parametrize("p", [1, 2, 5])
def test_opt_step_equals_twin(p, build):
    rng = np.random.default_rng(p)
    n = 64
    kind, hyper, sk, sp = _pack(n, rng)
    params = rng.normal(size=(n, p))
    state = np.zeros((n, 3, p))
    opt_t = np.zeros(n, dtype=np.int64)
    active = rng.random(n) > 0.1
    a = dict(params=params.copy(), state=state.copy(), opt_t=opt_t.copy())
    b = dict(params=params.copy(), state=state.copy(), opt_t=opt_t.copy())
    for t in range(1, 31):
        grads = rng.normal(size=(n, p)) * 3
        for fn, s in ((OPT_STEPS[build], a), (K.opt_step_np, b)):
            out = [np.zeros((n, p)), np.zeros((n, p)), np.zeros((n, p)), np.zeros(n)]
            fn(kind, hyper, sk, sp, 30, t, s["params"], grads, s["state"], s["opt_t"], active,
               *out)
            s["params"], s["out"] = out[0], out
        assert_allclose(a["params"], b["params"], rtol=1e-12, atol=1e-15)
        assert_allclose(a["state"], b["state"], rtol=1e-12, atol=1e-15)
        for x, y in zip(a["out"][1:], b["out"][1:]):
            assert_allclose(x[active], y[active], rtol=1e-12, atol=1e-15)
    assert_array_equal(a["opt_t"], np.where(active, 30, 0))
    assert_array_equal(a["params"][~active], params[~active])  # inactive runs untouched


def test_gauss_equals_twin_and_is_standard_normal():
    runs = np.arange(20000, dtype=np.int64)
    out = np.empty(runs.size)
    K.gauss_array(7, runs, 3, 1, out)
    twin = K.gauss_np(7, runs, 3, 1)
    assert_allclose(out, twin, rtol=1e-13, atol=1e-13)
    assert abs(out.mean()) < 0.03 and abs(out.std() - 1) < 0.03
    assert np.isfinite(out).all()
    # counter-based: another seed, step or coordinate gives other numbers
    for args in ((8, runs, 3, 1), (7, runs, 4, 1), (7, runs, 3, 0)):
        assert np.corrcoef(out, K.gauss_np(*args))[0, 1] < 0.05


def _advance_args(land, n, rng, noise, rows=64):
    kind, hyper, sk, sp = _pack(n, rng)
    params = np.column_stack([rng.uniform(-2, 2, n), rng.uniform(-1, 3, n)])
    loss, grad = np.empty(n), np.empty((n, 2))
    K.eval_landscape_np(land.sid, land.code, land.consts, params, loss, grad)
    state = np.zeros((n, 3, 2))
    state[kind == K.ADAGRAD, 0] = hyper[kind == K.ADAGRAD, K.H_INITIAL_ACCUMULATOR_VALUE][:, None]
    return dict(kind=kind, hyper=hyper, sk=sk, sp=sp, params=params, state=state,
                opt_t=np.zeros(n, dtype=np.int64), loss=loss, grad=grad,
                div=np.full(n, -1, dtype=np.int64), traj=np.zeros((n, rows, 2)),
                traj_loss=np.zeros((n, rows)), lg=np.zeros((n, 2)), ls=np.zeros((n, 2)),
                ld=np.zeros((n, 2)), llr=np.zeros(n), bad=np.zeros((n, 3)))


def _call(fn, land, a, t0, k, noise, seed, bound, stride):
    fn(land.sid, land.code, land.consts, a["kind"], a["hyper"], a["sk"], a["sp"], 40, t0, k,
       noise, seed, bound, a["params"], a["state"], a["opt_t"], a["loss"], a["grad"], a["div"],
       True, stride, a["traj"], a["traj_loss"], a["lg"], a["ls"], a["ld"], a["llr"], a["bad"])


@pytest.mark.parametrize("build", list(ADVANCES))
@pytest.mark.parametrize("surface", ["rosenbrock", "himmelblau", "expr"])
@pytest.mark.parametrize("stride", [1, 2])
def test_advance_landscape_equals_twin(surface, stride, build):
    land = (Landscape.from_expr("sin(x)*cos(y) + 0.1*(x^2+y^2) + x*y^3")
            if surface == "expr" else Landscape.from_surface(surface))
    rng = np.random.default_rng(1)
    n = 50
    a = _advance_args(land, n, rng, 0.3)
    a["kind"][:4], a["hyper"][:4] = make_optimizer("sgd", lr=0.4).pack()  # these blow up
    a["state"][:4] = 0.0
    b = {k: v.copy() for k, v in a.items()}
    # a tight bound so that some runs diverge part-way
    for t0, k in ((0, 7), (7, 1), (8, 32)):
        _call(ADVANCES[build], land, a, t0, k, 0.3, 11, 30.0, stride)
        _call(K.advance_landscape_np, land, b, t0, k, 0.3, 11, 30.0, stride)
        for key in a:
            assert_allclose(a[key], b[key], rtol=1e-11, atol=1e-13, err_msg=key)
    assert (a["div"] > 0).any() and (a["div"] < 0).any()


@pytest.mark.parametrize("build", list(EVALS))
def test_eval_landscape_equals_twin(build):
    land = Landscape.from_expr("log(x) + y^2")
    P = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, 0.0]])
    f1, g1 = np.empty(3), np.empty((3, 2))
    f2, g2 = np.empty(3), np.empty((3, 2))
    EVALS[build](land.sid, land.code, land.consts, P, f1, g1)
    K.eval_landscape_np(land.sid, land.code, land.consts, P, f2, g2)
    assert_allclose(f1, f2)
    assert_allclose(g1, g2)
    assert np.isnan(f1[1])  # log(-1): NaN, not an exception
