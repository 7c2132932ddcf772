"""Fit-model kernels against their numpy twins and against central differences."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gdviz import kernels
from gdviz.kernels import models as km

KINDS = [(km.LINEAR, km.SIGMOID, 0), (km.QUADRATIC, km.SIGMOID, 0),
         (km.UNITS, km.SIGMOID, 4), (km.UNITS, km.HARD_SIGMOID, 4), (km.UNITS, km.RELU, 4)]
IDS = ["linear", "quadratic", "sigmoid", "hard-sigmoid", "relu"]
LOSSES = [km.MSE, km.MAE]


def n_params(kind, K):
    return {km.LINEAR: 2, km.QUADRATIC: 3}.get(kind, 1 + 3 * K)


def inputs(kind, K, n_runs=3, N=23, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, N)
    y = np.sin(2.0 * x) + 0.1 * rng.normal(size=N)
    P = rng.normal(0.0, 1.0, (n_runs, n_params(kind, K)))
    return P, x, y


@pytest.mark.parametrize("kind,unit,K", KINDS, ids=IDS)
@pytest.mark.parametrize("n_runs", [1, 4, 400])  # 400 runs take the prange kernel
def test_predict_matches_twin(kind, unit, K, n_runs):
    P, x, _ = inputs(kind, K, n_runs, N=37)
    out = np.empty((n_runs, 37))
    ref = np.empty((n_runs, 37))
    km.predict(kind, unit, K, P, x, out)
    km.predict_np(kind, unit, K, P, x, ref)
    assert_allclose(out, ref, rtol=1e-13, atol=1e-13)


def test_predict_formulas():
    x = np.array([-1.0, 0.0, 2.0])
    out = np.empty((1, 3))
    km.predict(km.LINEAR, 0, 0, np.array([[2.0, 1.0]]), x, out)
    assert_allclose(out[0], 2.0 * x + 1.0)
    km.predict(km.QUADRATIC, 0, 0, np.array([[3.0, 2.0, 1.0]]), x, out)
    assert_allclose(out[0], 3 * x**2 + 2 * x + 1)
    p = np.array([[0.5, 2.0, -1.0, 3.0]])  # c0, w1, b1, c1
    z = -1.0 + 2.0 * x
    for unit, h in [(km.SIGMOID, 1 / (1 + np.exp(-z))), (km.HARD_SIGMOID, np.clip(z, 0, 1)),
                    (km.RELU, np.maximum(z, 0))]:
        km.predict(km.UNITS, unit, 1, p, x, out)
        assert_allclose(out[0], 0.5 + 3.0 * h)


@pytest.mark.parametrize("kind,unit,K", KINDS, ids=IDS)
@pytest.mark.parametrize("loss", LOSSES, ids=["mse", "mae"])
@pytest.mark.parametrize("n_runs", [1, 5, 600])
def test_loss_grad_matches_twin(kind, unit, K, loss, n_runs):
    P, x, y = inputs(kind, K, n_runs, N=40, seed=1)
    idx = np.random.default_rng(2).permutation(40)[:17].astype(np.int64)
    L, G = np.empty(n_runs), np.empty_like(P)
    L2, G2 = np.empty(n_runs), np.empty_like(P)
    km.loss_grad(kind, unit, K, loss, P, x, y, idx, L, G)
    km.loss_grad_np(kind, unit, K, loss, P, x, y, idx, L2, G2)
    assert_allclose(L, L2, rtol=1e-12)
    assert_allclose(G, G2, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("kind,unit,K", KINDS, ids=IDS)
@pytest.mark.parametrize("loss", LOSSES, ids=["mse", "mae"])
@pytest.mark.parametrize("fn", [km.loss_grad, km.loss_grad_np], ids=["numba", "numpy"])
def test_gradient_matches_central_differences(kind, unit, K, loss, fn):
    P, x, y = inputs(kind, K, 2, N=30, seed=3)
    idx = np.arange(30, dtype=np.int64)
    L, G = np.empty(2), np.empty_like(P)
    fn(kind, unit, K, loss, P, x, y, idx, L, G)
    h = 1e-6
    num = np.empty_like(P)
    Lp, Lm, scratch = np.empty(2), np.empty(2), np.empty_like(P)
    for q in range(P.shape[1]):
        Pp, Pm = P.copy(), P.copy()
        Pp[:, q] += h
        Pm[:, q] -= h
        fn(kind, unit, K, loss, Pp, x, y, idx, Lp, scratch)
        fn(kind, unit, K, loss, Pm, x, y, idx, Lm, scratch)
        num[:, q] = (Lp - Lm) / (2 * h)
    # seeded inputs keep every residual and every unit input z away from the kinks
    assert_allclose(G, num, rtol=1e-5, atol=1e-7)


def test_mae_subgradient_is_zero_at_zero_residual():
    x = np.array([0.0, 1.0])
    y = np.array([1.0, 3.0])  # exactly y = 2x + 1
    L, G = np.empty(1), np.empty((1, 2))
    for fn in (km.loss_grad, km.loss_grad_np):
        fn(km.LINEAR, 0, 0, km.MAE, np.array([[2.0, 1.0]]), x, y, np.arange(2), L, G)
        assert L[0] == 0.0
        assert_allclose(G, 0.0)


def test_piecewise_derivatives_at_kinks():
    # hard sigmoid: slope 1 strictly inside (0, 1), 0 at and outside the ends; relu: 1 for z > 0
    x = np.array([0.0, 0.5, 1.0, 2.0, -1.0])
    y = np.zeros(5)
    P = np.array([[0.0, 1.0, 0.0, 1.0]])  # z = x, c = 1
    idx = np.arange(5)
    for unit, dh in [(km.HARD_SIGMOID, [0, 1, 0, 0, 0]), (km.RELU, [0, 1, 1, 1, 0])]:
        for fn in (km.loss_grad, km.loss_grad_np):
            L, G = np.empty(1), np.empty((1, 4))
            fn(km.UNITS, unit, 1, km.MSE, P, x, y, idx, L, G)
            pred = np.clip(x, 0, 1) if unit == km.HARD_SIGMOID else np.maximum(x, 0)
            r = 2 * pred / 5
            assert_allclose(G[0, 2], np.sum(r * np.array(dh, float)))


def test_sigmoid_saturates_without_nan():
    P = np.array([[0.0, 1e4, 0.0, 1.0]])
    x = np.array([-1.0, 1.0, 0.0])
    out = np.empty((1, 3))
    km.predict(km.UNITS, km.SIGMOID, 1, P, x, out)
    assert_allclose(out[0], [0.0, 1.0, 0.5])
    L, G = np.empty(1), np.empty((1, 4))
    km.loss_grad(km.UNITS, km.SIGMOID, 1, km.MSE, P, x, np.zeros(3), np.arange(3), L, G)
    assert np.isfinite(G).all() and np.isfinite(L).all()


@pytest.mark.parametrize("unit", [km.SIGMOID, km.HARD_SIGMOID, km.RELU])
def test_unit_contributions(unit):
    P, x, _ = inputs(km.UNITS, 5, 1, N=31, seed=4)
    out = np.empty((5, 31))
    ref = np.empty((5, 31))
    km.unit_contributions(unit, 5, P[0], x, out)
    km.unit_contributions_np(unit, 5, P[0], x, ref)
    assert_allclose(out, ref, rtol=1e-13, atol=1e-15)
    pred = np.empty((1, 31))
    km.predict(km.UNITS, unit, 5, P, x, pred)
    assert_allclose(P[0, 0] + out.sum(axis=0), pred[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("loss", LOSSES, ids=["mse", "mae"])
def test_linreg_grid_matches_twin_and_brute_force(loss):
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 4, 80)
    y = 1.0 + 2.0 * x + rng.normal(0, 0.5, 80)
    idx = rng.permutation(80)[:32].astype(np.int64)
    out = np.empty((41, 53))
    ref = np.empty((41, 53))
    km.linreg_grid(loss, x, y, idx, -1.0, 5.0, -4.0, 6.0, out)
    km.linreg_grid_np(loss, x, y, idx, -1.0, 5.0, -4.0, 6.0, ref)
    assert_allclose(out, ref, rtol=1e-10, atol=1e-10)
    # both against brute force over the batch, every cell (the twin takes shortcuts: the
    # sufficient statistics for MSE, sorted offsets for MAE)
    W = -1.0 + np.arange(53) * (6.0 / 52)
    Bs = -4.0 + np.arange(41) * (10.0 / 40)
    R = W[None, :, None] * x[idx] + Bs[:, None, None] - y[idx]
    brute = (R**2).mean(axis=2) if loss == km.MSE else np.abs(R).mean(axis=2)
    assert_allclose(out, brute, rtol=1e-10, atol=1e-10)
    assert_allclose(ref, brute, rtol=1e-10, atol=1e-10)
    # one cell by hand: out[j, i] = L(w_i, b_j)
    w = -1.0 + 7 * 6.0 / 52
    b = -4.0 + 11 * 10.0 / 40
    r = w * x[idx] + b - y[idx]
    assert_allclose(out[11, 7], np.mean(r**2) if loss == km.MSE else np.mean(np.abs(r)), rtol=1e-10)


def _brute_slice(kind, unit, K, loss, p, i, j, ri, rj, nx, ny, x, y):
    out = np.empty((ny, nx))
    L, G = np.empty(1), np.empty((1, p.shape[0]))
    idx = np.arange(x.shape[0])
    for r, vj in enumerate(np.linspace(*rj, ny)):
        for c, vi in enumerate(np.linspace(*ri, nx)):
            q = p.copy()
            q[i], q[j] = vi, vj
            km.loss_grad_np(kind, unit, K, loss, q[None], x, y, idx, L, G)
            out[r, c] = L[0]
    return out


@pytest.mark.parametrize("kind,unit,K", KINDS, ids=IDS)
@pytest.mark.parametrize("loss", LOSSES, ids=["mse", "mae"])
def test_slice_grid_matches_brute_force(kind, unit, K, loss):
    P, x, y = inputs(kind, K, 1, N=25, seed=6)
    p = P[0]
    n = p.shape[0]
    pairs = [(0, 1), (n - 1, 0)]
    if kind == km.UNITS:
        pairs += [(1, 2), (3, 1), (2, 5), (6, 12), (0, 9)]  # same unit, c with w, two units, c0
    for i, j in pairs:
        ref = _brute_slice(kind, unit, K, loss, p, i, j, (-1.5, 2.0), (-0.5, 1.0), 9, 7, x, y)
        for fn in (km.slice_grid, km.slice_grid_np):
            out = np.empty((7, 9))
            fn(kind, unit, K, loss, p, i, j, -1.5, 2.0, -0.5, 1.0, x, y, out)
            assert_allclose(out, ref, rtol=1e-11, atol=1e-12, err_msg=f"{fn.__name__} {i},{j}")


def test_registered_and_warm():
    for name in ("models.predict", "models.loss_grad", "models.unit_contributions",
                 "models.linreg_grid", "models.slice_grid"):
        spec = kernels.REGISTRY[name]
        spec.warmup()
        assert callable(spec.fast) and callable(spec.twin)


def test_vectorised_sigmoid_matches_libm():
    # the loss-gradient kernel's own exp: within a few ulp of numpy's everywhere
    z = np.concatenate([np.linspace(-800, 800, 20001), [-709.79, -709.78, -708.0, 708.0, 0.0]])
    B = z.shape[0]
    h, dh = np.empty(B), np.empty(B)
    km._sigmoid_row(1.0, 0.0, z, h, dh, np.empty(B), np.empty(B, dtype=np.int64))
    with np.errstate(over="ignore"):
        ref = 1.0 / (1.0 + np.exp(-z))
    assert_allclose(h, ref, rtol=1e-14, atol=0)
    assert_allclose(dh, ref * (1 - ref), rtol=1e-13, atol=0)


@pytest.mark.parametrize("B", [1, 2, 7])
@pytest.mark.parametrize("loss", LOSSES, ids=["mse", "mae"])
def test_linreg_grid_twin_on_tiny_batches_and_ties(loss, B):
    """The shortcuts (the kernel's and the twin's) on a batch of one or two points and on
    repeated values (equal offsets, a b exactly on one): as brute force over the batch."""
    x = np.array([0.5, 0.5, 2.0, -1.0, 2.0, 0.0, 3.0])[:B]
    y = np.array([1.0, 1.0, 0.0, 2.0, 0.0, 1.0, -2.0])[:B]
    idx = np.arange(B, dtype=np.int64)
    W = -2.0 + np.arange(17) * (4.0 / 16)
    Bs = -2.0 + np.arange(21) * (5.0 / 20)
    R = W[None, :, None] * x + Bs[:, None, None] - y
    brute = (R**2).mean(axis=2) if loss == km.MSE else np.abs(R).mean(axis=2)
    for fn in (km.linreg_grid, km.linreg_grid_np):
        ref = np.empty((21, 17))
        fn(loss, x, y, idx, -2.0, 2.0, -2.0, 3.0, ref)
        assert_allclose(ref, brute, rtol=1e-12, atol=1e-12, err_msg=fn.__name__)


@pytest.mark.parametrize("loss", LOSSES, ids=["mse", "mae"])
def test_linreg_grid_on_many_points_and_a_box_upside_down(loss):
    """20,000 points (the kernel's MAE sorts each column's offsets: it went over every
    point for every cell, 2.8 s for 100,000 points on the window's grid), and a box whose
    b runs downwards: as brute force, kernel and twin."""
    rng = np.random.default_rng(11)
    x = rng.uniform(-3, 3, 20_000)
    y = 0.5 - 1.5 * x + rng.standard_t(2, 20_000)
    idx = rng.permutation(20_000)[:15_000].astype(np.int64)
    for b0, b1 in ((-3.0, 4.0), (4.0, -3.0)):
        W = -4.0 + np.arange(13) * (6.0 / 12)
        Bs = b0 + np.arange(9) * ((b1 - b0) / 8)
        R = W[None, :, None] * x[idx] + Bs[:, None, None] - y[idx]
        brute = (R**2).mean(axis=2) if loss == km.MSE else np.abs(R).mean(axis=2)
        for fn in (km.linreg_grid, km.linreg_grid_np):
            out = np.empty((9, 13))
            fn(loss, x, y, idx, -4.0, 2.0, b0, b1, out)
            assert_allclose(out, brute, rtol=1e-10, atol=1e-10, err_msg=f"{fn.__name__} {b0}")
