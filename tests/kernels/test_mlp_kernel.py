"""Network (MLP) kernels against their numpy twins, and the gradient against central differences."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gdviz import kernels
from gdviz.kernels import mlp

ACTS = [mlp.ACT_RELU, mlp.ACT_SIGMOID, mlp.ACT_TANH, mlp.ACT_HARD_SIGMOID, mlp.ACT_LINEAR]
ACT_NAMES = ["relu", "sigmoid", "tanh", "hard-sigmoid", "linear"]
SIZES = [[1, 1], [1, 8, 1], [2, 3, 5, 1], [1, 4, 4, 4, 1], [2, 6, 5, 4, 3, 1]]
LOSSES = [mlp.LOSS_MSE, mlp.LOSS_BCE_LOGITS, mlp.LOSS_MAE]


def setup(sizes, n=29, seed=0, scale=1.0):
    sizes = np.array(sizes, dtype=np.int64)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, (n, int(sizes[0])))
    y = (rng.uniform(size=n) > 0.5).astype(np.float64)
    p = rng.normal(0.0, scale, mlp.n_params(sizes))
    return sizes, p, X, y


def test_n_params_and_layout():
    assert mlp.n_params([1, 1]) == 2
    assert mlp.n_params([2, 8, 8, 1]) == 2 * 8 + 8 + 8 * 8 + 8 + 8 + 1
    assert mlp.param_offsets([2, 3, 1]) == [(0, 6), (9, 12)]
    assert mlp.n_hidden([2, 3, 4, 1]) == 7
    # the layout: W1 row-major (out, in) then b1, then W2, b2
    sizes = np.array([2, 2, 1], dtype=np.int64)
    p = np.array([1.0, 2.0, 3.0, 4.0, 0.5, -0.5, 10.0, 20.0, 1.0])
    X = np.array([[1.0, -1.0]])
    out = np.empty(1)
    mlp.forward(p, sizes, mlp.ACT_LINEAR, X, out)
    h = np.array([1 - 2 + 0.5, 3 - 4 - 0.5])
    assert_allclose(out, [10 * h[0] + 20 * h[1] + 1.0])


@pytest.mark.parametrize("act", ACTS, ids=ACT_NAMES)
@pytest.mark.parametrize("sizes", SIZES, ids=str)
def test_forward_and_hidden_match_twin(act, sizes):
    sizes, p, X, _ = setup(sizes)
    out, ref = np.empty(X.shape[0]), np.empty(X.shape[0])
    mlp.forward(p, sizes, act, X, out)
    mlp.forward_np(p, sizes, act, X, ref)
    assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    H = mlp.n_hidden(sizes)
    h, href = np.empty((X.shape[0], H)), np.empty((X.shape[0], H))
    mlp.hidden_outputs(p, sizes, act, X, h)
    mlp.hidden_outputs_np(p, sizes, act, X, href)
    assert_allclose(h, href, rtol=1e-12, atol=1e-12)


def test_activation_formulas():
    z = np.array([-5.0, -3.0, -1.0, 0.0, 0.5, 3.0, 7.0])
    sizes = np.array([1, 1, 1], dtype=np.int64)
    p = np.array([1.0, 0.0, 1.0, 0.0])  # identity in, identity out
    X = z[:, None]
    expect = {mlp.ACT_RELU: np.maximum(z, 0), mlp.ACT_SIGMOID: 1 / (1 + np.exp(-z)),
              mlp.ACT_TANH: np.tanh(z), mlp.ACT_HARD_SIGMOID: np.clip(z + 3, 0, 6) / 6,
              mlp.ACT_LINEAR: z}
    for act, e in expect.items():
        out = np.empty(z.shape[0])
        mlp.forward(p, sizes, act, X, out)
        assert_allclose(out, e, rtol=1e-15, atol=1e-16)


@pytest.mark.parametrize("act", ACTS, ids=ACT_NAMES)
@pytest.mark.parametrize("sizes", SIZES, ids=str)
@pytest.mark.parametrize("loss", LOSSES, ids=["mse", "bce", "mae"])
def test_loss_grad_matches_twin(act, sizes, loss):
    sizes, p, X, y = setup(sizes, seed=1)
    idx = np.random.default_rng(3).permutation(X.shape[0])[:13].astype(np.int64)
    g, gref = np.empty_like(p), np.empty_like(p)
    lv = mlp.loss_grad(p, sizes, act, X, y, idx, loss, g)
    lref = mlp.loss_grad_np(p, sizes, act, X, y, idx, loss, gref)
    assert_allclose(lv, lref, rtol=1e-12)
    assert_allclose(g, gref, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("act", ACTS, ids=ACT_NAMES)
@pytest.mark.parametrize("sizes", SIZES[1:], ids=str)
@pytest.mark.parametrize("loss", LOSSES, ids=["mse", "bce", "mae"])
@pytest.mark.parametrize("fn", [mlp.loss_grad, mlp.loss_grad_np], ids=["numba", "numpy"])
def test_gradient_matches_central_differences(act, sizes, loss, fn):
    sizes, p, X, y = setup(sizes, seed=2, scale=0.7)
    idx = np.arange(X.shape[0], dtype=np.int64)
    g = np.empty_like(p)
    fn(p, sizes, act, X, y, idx, loss, g)
    h = 1e-6
    num = np.empty_like(p)
    scratch = np.empty_like(p)
    for q in range(p.shape[0]):
        pp, pm = p.copy(), p.copy()
        pp[q] += h
        pm[q] -= h
        num[q] = (fn(pp, sizes, act, X, y, idx, loss, scratch)
                  - fn(pm, sizes, act, X, y, idx, loss, scratch)) / (2 * h)
    # relu / hard-sigmoid kinks: a random start puts no sample within 1e-6 of a kink
    assert_allclose(g, num, rtol=1e-5, atol=1e-7)


def test_kink_derivatives_follow_torch():
    # relu'(0) = 0; hardsigmoid' = torch's 1/6 on (-3, 3) and 0 at +-3 (hardsigmoid_backward)
    sizes = np.array([1, 1, 1], dtype=np.int64)
    y = np.zeros(1)
    idx = np.zeros(1, dtype=np.int64)
    for act, z, dh in [(mlp.ACT_RELU, 0.0, 0.0), (mlp.ACT_HARD_SIGMOID, 3.0, 0.0),
                       (mlp.ACT_HARD_SIGMOID, -3.0, 0.0),
                       (mlp.ACT_HARD_SIGMOID, 2.0, mlp.HARD_SIGMOID_SLOPE)]:
        p = np.array([1.0, 0.0, 1.0, 0.0])
        X = np.array([[z]])
        for fn in (mlp.loss_grad, mlp.loss_grad_np):
            g = np.empty(4)
            fn(p, sizes, act, X, y, idx, mlp.LOSS_MSE, g)
            out = float(mlp._act_np(act, np.array([z]))[0])
            # d/dW1 = 2*out * 1 (W2) * h'(z) * x
            assert g[0] == pytest.approx(2 * out * dh * z, abs=1e-15)


def test_bce_is_stable_for_large_logits():
    sizes = np.array([1, 1], dtype=np.int64)
    X = np.array([[1.0], [1.0], [-1.0], [-1.0]])
    y = np.array([1.0, 0.0, 1.0, 0.0])
    idx = np.arange(4, dtype=np.int64)
    p = np.array([800.0, 0.0])  # logits +-800: exp overflows in a naive form
    for fn in (mlp.loss_grad, mlp.loss_grad_np):
        g = np.empty(2)
        lv = fn(p, sizes, mlp.ACT_RELU, X, y, idx, mlp.LOSS_BCE_LOGITS, g)
        assert np.isfinite(lv) and np.isfinite(g).all()
        assert lv == pytest.approx((0 + 800 + 800 + 0) / 4)
        # dL/dz = sigmoid(z) - y: (0, 1, -1, 0)/4; dW = sum dz*x
        assert_allclose(g, [(1 * 1 + (-1) * (-1)) / 4, 0.0], atol=1e-15)
    # small logits: the textbook formula
    p = np.array([0.3, -0.2])
    g = np.empty(2)
    z = X[:, 0] * 0.3 - 0.2
    s = 1 / (1 + np.exp(-z))
    lv = mlp.loss_grad(p, sizes, mlp.ACT_RELU, X, y, idx, mlp.LOSS_BCE_LOGITS, g)
    assert lv == pytest.approx(np.mean(-(y * np.log(s) + (1 - y) * np.log(1 - s))), rel=1e-13)


@pytest.mark.parametrize("n_runs", [1, 3, 300])  # 300 runs take the prange kernel
def test_runs_match_single_and_twin(n_runs):
    sizes = np.array([2, 8, 8, 1], dtype=np.int64)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 2))
    y = rng.normal(size=40)
    idx = rng.permutation(40)[:25].astype(np.int64)
    P = rng.normal(0, 0.5, (n_runs, mlp.n_params(sizes)))
    L, G = np.empty(n_runs), np.empty_like(P)
    Lr, Gr = np.empty(n_runs), np.empty_like(P)
    mlp.loss_grad_runs(P, sizes, mlp.ACT_TANH, X, y, idx, mlp.LOSS_MSE, L, G)
    mlp.loss_grad_runs_np(P, sizes, mlp.ACT_TANH, X, y, idx, mlp.LOSS_MSE, Lr, Gr)
    assert_allclose(L, Lr, rtol=1e-12)
    assert_allclose(G, Gr, rtol=1e-10, atol=1e-13)
    g = np.empty(P.shape[1])
    assert mlp.loss_grad(P[-1], sizes, mlp.ACT_TANH, X, y, idx, mlp.LOSS_MSE, g) == L[-1]
    assert_allclose(g, G[-1], rtol=0, atol=0)
    F, Fr = np.empty((n_runs, 40)), np.empty((n_runs, 40))
    mlp.forward_runs(P, sizes, mlp.ACT_TANH, X, F)
    mlp.forward_runs_np(P, sizes, mlp.ACT_TANH, X, Fr)
    assert_allclose(F, Fr, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ij", [(0, 1), (5, 30), (40, 41), (3, 40), (43, 39), (41, 43)])
@pytest.mark.parametrize("loss", LOSSES, ids=["mse", "bce", "mae"])
@pytest.mark.parametrize("parallel", [True, False], ids=["parallel", "serial"])
def test_slice_grid_matches_twin_and_loss(ij, loss, parallel):
    sizes = np.array([2, 5, 4, 1], dtype=np.int64)  # 15 + 24 + 5 = 44 params
    sizes, p, X, y = setup(sizes, n=17, seed=7)
    idx = np.arange(2, 15, dtype=np.int64)
    i, j = ij
    out, ref = np.empty((4, 5)), np.empty((4, 5))
    mlp.slice_grid(p, sizes, mlp.ACT_SIGMOID, X, y, idx, loss, i, j, -1.0, 2.0, 0.5, 1.5, out,
                   parallel=parallel)
    mlp.slice_grid_np(p, sizes, mlp.ACT_SIGMOID, X, y, idx, loss, i, j, -1.0, 2.0, 0.5, 1.5, ref)
    assert_allclose(out, ref, rtol=1e-12)
    pp = p.copy()
    pp[i], pp[j] = 2.0, 0.5 + 2 * (1.0 / 3)
    g = np.empty_like(p)
    assert out[2, 4] == pytest.approx(mlp.loss_grad(pp, sizes, mlp.ACT_SIGMOID, X, y, idx, loss, g),
                                      rel=1e-12)


def test_init_is_torch_default_kaiming_uniform():
    sizes = [2, 32, 8, 1]
    p = mlp.init_params(sizes, seed=3)
    assert p.shape == (mlp.n_params(sizes),)
    assert_allclose(p, mlp.init_params(sizes, seed=3))
    assert not np.allclose(p, mlp.init_params(sizes, seed=4))
    for k, (wq, bq) in enumerate(mlp.param_offsets(sizes)):
        bound = 1 / np.sqrt(sizes[k])
        seg = p[wq:bq + sizes[k + 1]]
        assert np.abs(seg).max() <= bound
        if seg.size > 100:
            assert np.abs(seg).max() > 0.9 * bound


def test_registered_and_warm():
    kernels.load_all()
    for name in ("mlp.forward", "mlp.loss_grad", "mlp.hidden_outputs", "mlp.slice_grid"):
        spec = kernels.REGISTRY[name]
        spec.warmup()


@pytest.mark.parametrize("act", ACTS, ids=ACT_NAMES)
def test_many_samples_go_through_in_chunks(act):
    # more samples than mlp.CHUNK: the kernels work chunk by chunk and add up
    n = 2 * mlp.CHUNK + 37
    sizes, p, X, y = setup([2, 5, 4, 1], n=n, seed=11)
    idx = np.random.default_rng(1).permutation(n)[: n - 5].astype(np.int64)
    g, gref = np.empty_like(p), np.empty_like(p)
    for loss in LOSSES:
        lv = mlp.loss_grad(p, sizes, act, X, y, idx, loss, g)
        lref = mlp.loss_grad_np(p, sizes, act, X, y, idx, loss, gref)
        assert_allclose(lv, lref, rtol=1e-12)
        assert_allclose(g, gref, rtol=1e-10, atol=1e-13)
    out, ref = np.empty(n), np.empty(n)
    mlp.forward(p, sizes, act, X, out)
    mlp.forward_np(p, sizes, act, X, ref)
    assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    h, href = np.empty((n, 9)), np.empty((n, 9))
    mlp.hidden_outputs(p, sizes, act, X, h)
    mlp.hidden_outputs_np(p, sizes, act, X, href)
    assert_allclose(h, href, rtol=1e-12, atol=1e-12)
    s, sref = np.empty((3, 3)), np.empty((3, 3))
    mlp.slice_grid(p, sizes, act, X, y, idx, mlp.LOSS_MSE, 12, 20, -1, 1, -1, 1, s)
    mlp.slice_grid_np(p, sizes, act, X, y, idx, mlp.LOSS_MSE, 12, 20, -1, 1, -1, 1, sref)
    assert_allclose(s, sref, rtol=1e-12)
    # the output layer's own weight and bias: the affine path, over every chunk too
    for loss, i, j in ((mlp.LOSS_BCE_LOGITS, 41, 43), (mlp.LOSS_MSE, 3, 20)):
        mlp.slice_grid_np(p, sizes, act, X, y, idx, loss, i, j, -1, 1, -1, 1, sref)
        for parallel in (True, False):
            mlp.slice_grid(p, sizes, act, X, y, idx, loss, i, j, -1, 1, -1, 1, s,
                           parallel=parallel)
            assert_allclose(s, sref, rtol=1e-12)


# torch 2.13.0 (CPU, float64): nn.Sequential(nn.Linear(2, 3), nn.Hardsigmoid(), nn.Linear(3, 1)),
# BCEWithLogitsLoss on 4 points, loss.backward(); the flat gradient in .parameters() order
TORCH_HSIG_PARAMS = [0.5, -1.25, 2.0, 0.75, -0.5, 1.5, 0.25, -0.125, 0.375, 1.5, -0.75, 2.25, 0.1]
TORCH_HSIG_X = [[0.3, -0.7], [1.1, 0.4], [-0.9, 1.6], [2.0, -1.0]]
TORCH_HSIG_Y = [1.0, 0.0, 1.0, 0.0]
TORCH_HSIG_LOSS = 0.8411427338816819
TORCH_HSIG_GRAD = [0.1514391668570383, -0.027905252991422633, -0.029383673716895174,
                   -0.009215328360100672, 0.21922664114401386, -0.027756352124389844,
                   0.08154101732218041, -0.017602553805278223, 0.13112498058498567,
                   0.2504062965139, 0.34039187656074843, 0.10596365600001234, 0.3261640595682752]


def test_hard_sigmoid_gradient_is_torchs_to_rounding():
    # torch's hardsigmoid_backward uses the float32 constant 1.0f / 6.0f even in float64;
    # with an exact 1/6 the first-layer gradient differs from torch's by ~3e-8 relative
    assert mlp.HARD_SIGMOID_SLOPE == 0.1666666716337204
    sizes = np.array([2, 3, 1], dtype=np.int64)
    p = np.array(TORCH_HSIG_PARAMS)
    X, y = np.array(TORCH_HSIG_X), np.array(TORCH_HSIG_Y)
    idx = np.arange(4, dtype=np.int64)
    for fn in (mlp.loss_grad, mlp.loss_grad_np):
        g = np.empty(13)
        loss = fn(p, sizes, mlp.ACT_HARD_SIGMOID, X, y, idx, mlp.LOSS_BCE_LOGITS, g)
        assert loss == pytest.approx(TORCH_HSIG_LOSS, rel=1e-14)
        assert_allclose(g, TORCH_HSIG_GRAD, rtol=1e-13, atol=1e-16)
