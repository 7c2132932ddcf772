"""The classification problem: BCE on the logit, exact gradients, real mini-batches,
accuracies, the plane's grids and the landscape slice."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gdviz.core.classifier import ClassifyData, ClassifySlice, NetModel, plane_grid
from gdviz.core.engine import RunSet
from gdviz.core.optimizers import OptimizerConfig, make_optimizer


def _bce(z, y):
    # torch.nn.BCEWithLogitsLoss(reduction="mean"), written out (log-sum-exp form)
    return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))


def _relu_net(p, X, sizes):
    h = X
    q = 0
    for k in range(len(sizes) - 1):
        W = p[q:q + sizes[k + 1] * sizes[k]].reshape(sizes[k + 1], sizes[k])
        q += W.size
        b = p[q:q + sizes[k + 1]]
        q += b.size
        h = h @ W.T + b
        if k < len(sizes) - 2:
            h = np.maximum(h, 0)
    return h[:, 0]


@pytest.mark.parametrize("fast", [False, True])
def test_loss_is_bce_with_logits_and_gradient_exact(fast):
    d = ClassifyData("xor", points=60, noise=0.1, layers=2, units=5, seed=3)
    pr = d.build(None, 0, fast=fast)
    p = d.init_params() * 3
    sizes = [2, 5, 5, 1]
    z = _relu_net(p, pr.x, sizes)
    assert_allclose(pr.loss(p[None])[0], _bce(z, pr.y), rtol=1e-12)
    _, g = pr.loss_grad(p[None], 0)
    eps = 1e-6
    for q in range(0, p.size, 7):
        e = np.zeros_like(p)
        e[q] = eps
        num = (_bce(_relu_net(p + e, pr.x, sizes), pr.y)
               - _bce(_relu_net(p - e, pr.x, sizes), pr.y)) / (2 * eps)
        assert g[0, q] == pytest.approx(num, abs=1e-7)


def test_bce_stable_for_huge_logits():
    d = ClassifyData("gauss", points=40, layers=0, units=1)
    pr = d.build(fast=False)
    p = np.array([[1e6, 1e6, 0.0]])
    assert pr.loss(p)[0] == 0.0  # every point right by a huge margin: no log(0)
    L = pr.loss(-p)[0]
    assert np.isfinite(L) and L > 1e6  # every point wrong: each costs |z|, no overflow
    assert np.isfinite(pr.loss_grad(p, 0)[1]).all()


def test_minibatches_real_seeded_and_reshuffled_per_epoch():
    d = ClassifyData("circles", points=100, val_fraction=0.2)
    pr = d.build(batch_size=16, seed=5, fast=False)
    assert pr.x.shape == (80, 2) and pr.batches_per_epoch == 5
    epoch0 = np.concatenate([pr.batch_at(k) for k in range(5)])
    epoch1 = np.concatenate([pr.batch_at(k) for k in range(5, 10)])
    assert_array_equal(np.sort(epoch0), np.arange(80))
    assert not np.array_equal(epoch0, epoch1)
    p = d.init_params()[None]
    l0, g0 = pr.loss_grad(p, 0)
    l1, g1 = pr.loss_grad(p, 1)
    assert l0[0] != l1[0]
    idx = pr.batch_at(0)
    sub = ClassifyData(points_data=tuple((*pr.x[i], pr.y[i]) for i in idx), val_fraction=0.0)
    assert_allclose(l0, sub.build(fast=False).loss(p), rtol=1e-12)
    again = d.build(batch_size=16, seed=5, fast=False)
    assert_array_equal(again.batch_at(7), pr.batch_at(7))


def test_numba_and_numpy_agree():
    d = ClassifyData("spiral", points=80, layers=3, units=6, activation="tanh")
    a, b = d.build(fast=True), d.build(fast=False)
    P = np.stack([d.init_params(), d.model.init_params(9)])
    for f in ("loss", "val_loss"):
        assert_allclose(getattr(a, f)(P), getattr(b, f)(P), rtol=1e-12)
    assert_allclose(a.loss_grad(P, 0)[1], b.loss_grad(P, 0)[1], rtol=1e-10, atol=1e-14)
    box = (-6, 6, -6, 6)
    assert_allclose(a.grid_logits(P[0], box, 9, 7), b.grid_logits(P[0], box, 9, 7), rtol=1e-12)
    assert_allclose(a.grid_hidden(P[0], box, 5, 4), b.grid_hidden(P[0], box, 5, 4), rtol=1e-12)


def test_accuracy_and_grids():
    d = ClassifyData("gauss", points=100, layers=0, units=1)
    pr = d.build(fast=False)
    # logit = x1 + x2: the gauss blobs at (2, 2) / (-2, -2) are split by x1 + x2 = 0
    p = np.array([[1.0, 1.0, 0.0]])
    assert pr.accuracy(p)[0] > 0.95 and pr.accuracy(p, "val")[0] > 0.9
    assert pr.accuracy(-p)[0] < 0.05
    assert np.isnan(pr.accuracy(np.array([[np.nan, 1.0, 0.0]]))[0])
    G = pr.grid_logits(p[0], (-1, 1, -2, 2), 4, 3)
    X = plane_grid((-1, 1, -2, 2), 4, 3)
    assert G.shape == (3, 4)
    assert_allclose(G.ravel(), X.sum(axis=1))
    assert X[0, 0] == -1.0 and X[0, 1] == -2.0 and X[-1, 0] == 1.0 and X[-1, 1] == 2.0
    none = ClassifyData("gauss", points=100, val_fraction=0.0, layers=0).build(fast=False)
    assert np.isnan(none.val_loss(p)[0]) and np.isnan(none.accuracy(p, "val")[0])


def test_hidden_grid_is_each_neuron():
    d = ClassifyData("circles", points=50, layers=2, units=3)
    pr = d.build(fast=False)
    p = d.init_params()
    H = pr.grid_hidden(p, (-6, 6, -6, 6), 6, 5)
    assert H.shape == (6, 5, 6)
    X = plane_grid((-6, 6, -6, 6), 6, 5)
    W1, b1 = p[:6].reshape(3, 2), p[6:9]
    assert_allclose(H[:3].reshape(3, -1).T, np.maximum(X @ W1.T + b1, 0), rtol=1e-12)


@pytest.mark.parametrize("fast", [False, True])
def test_slice_is_the_loss_through_the_reference(fast):
    d = ClassifyData("xor", points=40, layers=1, units=4)
    pr = d.build(fast=fast)
    p = d.init_params()
    i, j = d.model.default_linked()
    assert d.model.param_names[i] == "W2[1,1]" and d.model.param_names[j] == "W2[1,2]"
    sl = ClassifySlice(pr, i, j, lambda: p, ClassifySlice.view_around(p, i, j))
    G = sl.grid(-1, 1, -2, 2, 3, 4)
    q = p.copy()
    q[i], q[j] = 0.0, 2.0
    assert G[3, 1] == pytest.approx(pr.loss(q[None])[0], rel=1e-12)
    assert sl.key() == p.tobytes()


def test_settings_validated_one_line():
    for kw, msg in [(dict(layers=5), r"Invalid number of hidden layers: 5 \(must be an integer in 0\.\.4\)"),
                    (dict(units=0), r"Invalid number of units: 0 \(must be an integer in 1\.\.32\)"),
                    (dict(activation="gelu"), r"unknown activation 'gelu'; choose from relu, sigmoid"),
                    (dict(dataset="moons"), r"unknown dataset 'moons'"),
                    (dict(noise=1.0), r"Invalid noise"),
                    (dict(points_data=((0, 0, 2), (1, 1, 0))), r"labels must be 0 or 1"),
                    (dict(points_data=((0, 0),)), r"triples")]:
        with pytest.raises(ValueError, match=msg):
            ClassifyData(**kw)
    m = NetModel(2, 3)
    assert m.n_params == 9 + 12 + 4 and len(m.param_names) == m.n_params
    assert m.param_names[:3] == ("W1[1,1]", "W1[1,2]", "W1[2,1]")
    with pytest.raises(ValueError, match="expected 25 numbers for a 2-3-3-1 network, got 3"):
        m.check_params([1, 2, 3])


def test_engine_trains_a_classifier():
    d = ClassifyData("circles", points=200, layers=1, units=4)
    pr = d.build(fast=True)
    rs = RunSet(pr, [OptimizerConfig("adam", lr=0.03)], d.init_params()[None], total_steps=300)
    rs.advance(300)
    assert pr.accuracy(rs.params)[0] > 0.97


# ----------------------------------------------------------------------------- torch semantics
# The oracle is the one tests/core/test_network_model.py describes: the numpy twin
# (gdviz.kernels.mlp.*_np) transcribes torch's documented nn.Linear, activations and
# nn.BCEWithLogitsLoss() (mean of max(z, 0) - z y + log1p(exp(-|z|))); its gradient is
# checked against central differences (tests/kernels/test_mlp_kernel.py and
# test_loss_is_bce_with_logits_and_gradient_exact above, which writes the BCE out
# independently); tests/reference_optim.py transcribes torch.optim. Full-batch training
# of the classifier through the engine (numba) must equal it to 1e-9, for every
# activation and optimizer.
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import reference_optim as R  # noqa: E402


from gdviz.kernels import mlp  # noqa: E402

ACTS = ["relu", "sigmoid", "tanh", "hard-sigmoid", "linear"]
OPTS = [("sgd", dict(lr=0.1)), ("momentum", dict(lr=0.05, weight_decay=0.01)),
        ("nesterov", dict(lr=0.05)), ("rmsprop", dict(lr=0.005)),
        ("adagrad", dict(lr=0.05)), ("adam", dict(lr=0.01, weight_decay=0.001)),
        ("adamw", dict(lr=0.01))]


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("name,hp", OPTS, ids=[o[0] for o in OPTS])
def test_full_batch_classifier_training_matches_torch_semantics(act, name, hp):
    data = ClassifyData("xor", points=40, noise=0.1, seed=3, layers=2, units=4, activation=act)
    problem = data.build(fast=True)
    start = data.init_params()
    runs = RunSet(problem, [make_optimizer(name, **hp)], start[None, :], total_steps=50,
                  fast=True)
    runs.advance(50)
    opt = R.make(name, **hp)
    theta = start.copy()
    idx = np.arange(problem.x.shape[0], dtype=np.int64)
    g = np.empty_like(theta)
    for _ in range(50):
        mlp.loss_grad_np(theta, problem.model.sizes, problem.model.act, problem.x, problem.y,
                         idx, mlp.LOSS_BCE_LOGITS, g)
        theta = opt.step(theta, g)
    np.testing.assert_allclose(runs.params[0], theta, rtol=1e-9, atol=1e-12)


def test_deep_slice_stays_within_the_work_budget_and_is_exact_on_its_grid(monkeypatch):
    import gdviz.core.classifier as CL

    d = ClassifyData("spiral", points=100, layers=3, units=8)
    pr = d.build(fast=False)
    p = d.init_params()
    sl = ClassifySlice(pr, 0, 1, lambda: p, ClassifySlice.view_around(p, 0, 1))
    assert sl.work_per_cell() == pr.x.shape[0] * (pr.n_params + CL.BCE_COST)
    monkeypatch.setattr(CL, "NET_SLICE_WORK", sl.work_per_cell() * 9)  # a 3x3 grid
    G = sl.grid(-1, 1, -2, 2, 5, 5)
    assert G.shape == (5, 5)
    q = p.copy()
    q[0], q[1] = 1.0, 2.0  # a corner: a node of the coarse grid too, so exact
    assert G[4, 4] == pytest.approx(pr.loss(q[None])[0], rel=1e-12)
