"""The fused data-problem kernel against its numpy twin, and the engine's fused path
against the generic one (a problem stepped through ``loss_grad`` once per step)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gdviz import kernels
from gdviz.core.classifier import ClassifyData
from gdviz.core.data import make_dataset
from gdviz.core.engine import RunSet
from gdviz.core.models import FitProblem, LinearRegressionProblem, make_model
from gdviz.core.optimizers import OptimizerConfig
from gdviz.core.schedules import Schedule
from gdviz.kernels import datastep as ds
from gdviz.kernels import models as km
from gdviz.kernels import optim as ko

from tests.kernels.test_models_kernel import IDS, KINDS, inputs

CONFIGS = [OptimizerConfig("sgd", lr=0.05), OptimizerConfig("sgd", lr=0.02, momentum=0.9,
                                                              nesterov=True),
           OptimizerConfig("rmsprop", lr=0.01, centered=True, momentum=0.5),
           OptimizerConfig("adagrad", lr=0.1, initial_accumulator_value=0.1),
           OptimizerConfig("adam", lr=0.02, amsgrad=True, weight_decay=0.01),
           OptimizerConfig("adamw", lr=0.02, weight_decay=0.1)]


def _arrays(P, configs, schedule, k):
    n, p = P.shape
    kind = np.empty(n, dtype=np.int64)
    hyper = np.empty((n, ko.N_HYPER))
    for r in range(n):
        kind[r], hyper[r] = configs[r % len(configs)].pack()
    sk, sp = schedule.pack()
    state = np.zeros((n, 3, p))
    ada = kind == ko.ADAGRAD
    state[ada, 0, :] = hyper[ada, ko.H_INITIAL_ACCUMULATOR_VALUE][:, None]
    return dict(kind=kind, hyper=hyper, sched_kind=np.full(n, sk, dtype=np.int64),
                sched_params=np.tile(sp, (n, 1)), params=P.copy(), state=state,
                opt_t=np.zeros(n, dtype=np.int64), loss=np.zeros(n), gcur=np.zeros((n, p)),
                diverged_at=np.full(n, -1, dtype=np.int64), traj=np.full((n, k + 1, p), np.nan),
                traj_loss=np.full((n, k + 1), np.nan), grad=np.zeros((n, p)),
                last_step_size=np.zeros((n, p)), last_delta=np.zeros((n, p)),
                last_lr=np.zeros(n), bad=np.full((n, p + 1), np.nan))


def _call(fn, mk, unit, K, loss_kind, x, y, full, bidx, boff, a, k, bound, total):
    fn(mk, unit, K, loss_kind, x, y, full, bidx, boff, a["kind"], a["hyper"], a["sched_kind"],
       a["sched_params"], total, 0, k, bound, a["params"], a["state"], a["opt_t"], a["loss"],
       a["gcur"], a["diverged_at"], True, 1, a["traj"], a["traj_loss"], a["grad"],
       a["last_step_size"], a["last_delta"], a["last_lr"], a["bad"])


@pytest.mark.parametrize("kind,unit,K", KINDS, ids=IDS)
@pytest.mark.parametrize("loss_kind", [km.MSE, km.MAE], ids=["mse", "mae"])
@pytest.mark.parametrize("batched", [False, True], ids=["full", "minibatch"])
@pytest.mark.parametrize("schedule", [Schedule(), Schedule("one-cycle")], ids=["const", "1cycle"])
def test_advance_data_matches_twin(kind, unit, K, loss_kind, batched, schedule):
    kernels.load_all()
    n = len(CONFIGS)
    P, x, y = inputs(kind, K, n_runs=n, N=30, seed=3)
    P *= 0.3
    k = 40
    full = np.arange(30, dtype=np.int64)
    if batched:
        rng = np.random.default_rng(4)
        parts = [rng.permutation(30)[:7 + (i % 3)].astype(np.int64) for i in range(k)]
        boff = np.zeros(k + 1, dtype=np.int64)
        np.cumsum([len(b) for b in parts], out=boff[1:])
        bidx = np.concatenate(parts)
    else:
        bidx, boff = full, np.empty(0, dtype=np.int64)
    a = _arrays(P, CONFIGS, schedule, k)
    b = _arrays(P, CONFIGS, schedule, k)
    _call(ds.advance_data, kind, unit, K, loss_kind, x, y, full, bidx, boff, a, k, 1e6, 60)
    _call(ds.advance_data_np, kind, unit, K, loss_kind, x, y, full, bidx, boff, b, k, 1e6, 60)
    assert (a["diverged_at"] < 0).all()
    for key in a:
        assert_allclose(a[key], b[key], rtol=1e-9, atol=1e-11, err_msg=key)
    # the optimizer really moved every run, and the recorded loss is the full loss
    assert (a["opt_t"] == k).all()
    L = np.empty(n)
    G = np.empty_like(P)
    km.loss_grad_np(kind, unit, K, loss_kind, a["params"], x, y, full, L, G)
    assert_allclose(a["loss"], L, rtol=1e-12)


def test_advance_data_divergence_matches_twin():
    """A huge lr diverges: same step, same frozen row, same offending values on both paths."""
    kernels.load_all()
    P, x, y = inputs(km.QUADRATIC, 0, n_runs=3, N=20, seed=5)
    cfgs = [OptimizerConfig("sgd", lr=5.0), OptimizerConfig("sgd", lr=1e-3),
            OptimizerConfig("sgd", lr=40.0)]
    full = np.arange(20, dtype=np.int64)
    a = _arrays(P, cfgs, Schedule(), 30)
    b = _arrays(P, cfgs, Schedule(), 30)
    empty = np.empty(0, dtype=np.int64)
    _call(ds.advance_data, km.QUADRATIC, 0, 0, km.MSE, x, y, full, full, empty, a, 30, 1e6, 30)
    _call(ds.advance_data_np, km.QUADRATIC, 0, 0, km.MSE, x, y, full, full, empty, b, 30, 1e6,
          30)
    assert a["diverged_at"][0] > 0 and a["diverged_at"][1] == -1 and a["diverged_at"][2] > 0
    assert_array_equal(a["diverged_at"], b["diverged_at"])
    for key in ("params", "state", "opt_t", "loss", "traj", "traj_loss"):
        assert_allclose(a[key], b[key], rtol=1e-9, equal_nan=True, err_msg=key)
    d = a["diverged_at"][0]
    assert_allclose(a["traj"][0, d - 1], a["params"][0])  # frozen at its last good step


class _Unfused:
    """A data problem without ``fused_model`` / ``fused_net``: the engine steps it through
    loss_grad."""

    def __init__(self, problem):
        self._p = problem

    def __getattr__(self, name):
        if name in ("fused_model", "fused_net", "batch_indices"):
            raise AttributeError(name)
        return getattr(self._p, name)


def _problems():
    ds_ = make_dataset("sine", n_points=40, noise=0.2, seed=1)
    yield "fit-relu-b8", FitProblem(make_model("relu", K=5), ds_, batch_size=8, seed=2)
    yield "fit-sigmoid-full", FitProblem(make_model("sigmoid", K=3), ds_, seed=0)
    rng = np.random.default_rng(0)
    xr = rng.uniform(0, 3, 25)
    yield "linreg-mae-b5", LinearRegressionProblem(xr, 2 * xr + 1 + rng.normal(0, .3, 25),
                                                   loss="mae", batch_size=5, seed=1)
    # networks: datastep.advance_net
    yield "fit-net-full", FitProblem(make_model("network", K=4, layers=2), ds_, seed=0)
    yield "fit-net-mae-b8", FitProblem(make_model("network", K=3, layers=2, activation="tanh"),
                                       ds_, loss="mae", batch_size=8, seed=3)
    cd = ClassifyData(dataset="spiral", points=80, layers=2, units=5)
    yield "classify-full", cd.build()
    yield "classify-b16", cd.build(batch_size=16, seed=4)


@pytest.mark.parametrize("name,problem", list(_problems()), ids=lambda v: v if isinstance(v, str) else "")
def test_engine_fused_path_equals_generic_path(name, problem):
    """The engine (and the maps: both step through engine.data_stepper) takes a fused
    model's or a network's steps in one call of its kernel: the numbers of the generic
    path, step by step, to the step a run diverges at."""
    kernels.load_all()
    kernels.warmup()
    starts = problem.init_params(0) if hasattr(problem, "init_params") else np.zeros(2)
    kw = dict(schedules=Schedule("cosine"), total_steps=700, fast=True)
    a = RunSet(problem, CONFIGS, starts, **kw)
    b = RunSet(_Unfused(problem), CONFIGS, starts, **kw)
    if "net" in name or "classify" in name:
        # a network steps in one call too, the full-batch gradient reused from the loss
        # of the step before: the very numbers the generic path computes again
        calls = []
        real = ds.advance_net
        monkey = lambda *args, **kw: (calls.append(args[14]), real(*args, **kw))  # noqa: E731
        ds.advance_net = monkey
        try:
            a.advance(3)
        finally:
            ds.advance_net = real
        assert calls == [3]
        b.advance(3)
        assert_array_equal(a.params, b.params)
        assert_array_equal(a.loss, b.loss)
        assert_array_equal(a.state, b.state)
    for k in (1, 5, 300, 5000):  # 5000 > DATA_CHUNK: two chunks, then the schedule's end
        a.advance(k)
        b.advance(k)
        assert a.t == b.t
        assert_array_equal(a.diverged_at, b.diverged_at)
        assert_allclose(a.params, b.params, rtol=1e-9, atol=1e-12)
        assert_allclose(a.loss, b.loss, rtol=1e-9, atol=1e-12)
    for r in range(a.n_runs):
        assert_allclose(a.trajectory(r)[0], b.trajectory(r)[0], rtol=1e-9, atol=1e-12)
        da, db = a.details(r), b.details(r)
        for key in da:
            assert_allclose(np.asarray(da[key], dtype=float), np.asarray(db[key], dtype=float),
                            rtol=1e-9, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("batched", [False, True], ids=["full", "minibatch"])
@pytest.mark.parametrize("classify", [False, True], ids=["fit", "classify"])
def test_advance_net_matches_twin(batched, classify):
    kernels.load_all()
    from gdviz.kernels import mlp

    rng = np.random.default_rng(7)
    N, k = 40, 30
    if classify:
        sizes, act, loss_kind = np.array([2, 5, 4, 1], dtype=np.int64), 0, mlp.LOSS_BCE_LOGITS
        X = rng.normal(size=(N, 2))
        y = (X[:, 0] * X[:, 1] > 0).astype(np.float64)
    else:
        sizes, act, loss_kind = np.array([1, 6, 6, 1], dtype=np.int64), 1, mlp.LOSS_MSE
        X = rng.uniform(-2, 2, size=(N, 1))
        y = np.sin(2 * X[:, 0])
    n = len(CONFIGS)
    P = np.stack([mlp.init_params(sizes, seed=r) for r in range(n)])
    full = np.arange(N, dtype=np.int64)
    if batched:
        parts = [rng.permutation(N)[:9 + (i % 4)].astype(np.int64) for i in range(k)]
        boff = np.zeros(k + 1, dtype=np.int64)
        np.cumsum([len(b) for b in parts], out=boff[1:])
        bidx = np.concatenate(parts)
    else:
        bidx, boff = full, np.empty(0, dtype=np.int64)
    out = []
    for fn in (ds.advance_net, ds.advance_net_np):
        a = _arrays(P, CONFIGS, Schedule("one-cycle"), k)
        fn(sizes, act, loss_kind, X, y, full, bidx, boff, a["kind"], a["hyper"],
           a["sched_kind"], a["sched_params"], 60, 0, k, 1e6, a["params"], a["state"],
           a["opt_t"], a["loss"], a["gcur"], a["diverged_at"], True, 1, a["traj"],
           a["traj_loss"], a["grad"], a["last_step_size"], a["last_delta"], a["last_lr"],
           a["bad"])
        out.append(a)
    a, b = out
    assert (a["diverged_at"] < 0).all() and (a["opt_t"] == k).all()
    for key in a:
        assert_allclose(a[key], b[key], rtol=1e-9, atol=1e-11, err_msg=key)
    L = np.empty(n)
    G = np.empty_like(P)
    mlp.loss_grad_runs_np(a["params"], sizes, act, X, y, full, loss_kind, L, G)
    assert_allclose(a["loss"], L, rtol=1e-12)  # the recorded loss is the full loss


@pytest.mark.parametrize("net", [False, True], ids=["model", "network"])
@pytest.mark.parametrize("batched", [False, True], ids=["full", "minibatch"])
def test_convergence_step_matches_twin_and_its_definition(net, batched):
    """A map's ``conv_at``: the first step t whose step and mini-batch gradient both have
    norm <= tol, on the kernel and its twin, and as stepping one step at a time sees it."""
    kernels.load_all()
    from gdviz.kernels import mlp

    rng = np.random.default_rng(11)
    N, k, tol = 30, 120, 2e-3
    full = np.arange(N, dtype=np.int64)
    if net:
        sizes, act, loss_kind = np.array([1, 3, 1], dtype=np.int64), 0, mlp.LOSS_MSE
        X = rng.uniform(-1, 1, size=(N, 1))
        y = 0.5 * X[:, 0]
        P = np.stack([0.3 * mlp.init_params(sizes, seed=r) for r in range(4)])
        head = (sizes, act, loss_kind, X, y, full)
        fns = (ds.advance_net, ds.advance_net_np)
    else:
        P, x, y = inputs(km.LINEAR, 0, n_runs=4, N=N, seed=2)
        y = 0.7 * x + 0.1
        head = (km.LINEAR, 0, 0, km.MSE, x, y, full)
        fns = (ds.advance_data, ds.advance_data_np)
    cfgs = [OptimizerConfig("sgd", lr=0.3), OptimizerConfig("sgd", lr=0.1, momentum=0.8),
            OptimizerConfig("adam", lr=0.05), OptimizerConfig("sgd", lr=1e-4)]
    if batched:  # a batch of all points, shuffled: the gradient still vanishes at the minimum
        parts = [rng.permutation(N).astype(np.int64) for _ in range(k)]
        bidx, boff = np.concatenate(parts), np.arange(k + 1, dtype=np.int64) * N
    else:
        bidx, boff = full, np.empty(0, dtype=np.int64)

    def args(a, t0, kk, bi, bo):
        return (*head, bi, bo, a["kind"], a["hyper"], a["sched_kind"], a["sched_params"], k,
                t0, kk, 1e6, a["params"], a["state"], a["opt_t"], a["loss"], a["gcur"],
                a["diverged_at"], False, 1, a["traj"], a["traj_loss"], a["grad"],
                a["last_step_size"], a["last_delta"], a["last_lr"], a["bad"])

    convs = []
    for fn in fns:
        a = _arrays(P, cfgs, Schedule(), k)
        conv = np.full(len(cfgs), -1, dtype=np.int64)
        fn(*args(a, 0, k, bidx, boff), conv_at=conv, tol=tol)
        convs.append(conv)
    assert_array_equal(convs[0], convs[1])
    # one step per call, the condition checked from Python
    a = _arrays(P, cfgs, Schedule(), k)
    want = np.full(len(cfgs), -1, dtype=np.int64)
    for t in range(1, k + 1):
        bi, bo = (bidx[boff[t - 1]:boff[t]], np.array([0, N], dtype=np.int64)) if batched \
            else (bidx, boff)
        fns[1](*args(a, t - 1, 1, bi, bo))
        small = (np.linalg.norm(a["last_delta"], axis=1) <= tol) \
            & (np.linalg.norm(a["gcur"], axis=1) <= tol)
        want[(want < 0) & small] = t
    assert_array_equal(convs[0], want)
    assert (want > 0).any() and want[3] == -1  # some converge, the tiny lr does not
