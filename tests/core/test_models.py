"""Fit models, the data problems and the linked-view slice."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gdviz.core.data import linear_regression_data, make_dataset
from gdviz.core.models import (MODELS, FitModel, FitProblem, LinearRegressionProblem,
                               make_model, slice_grid)

ALL = list(MODELS)


# ----------------------------------------------------------------------------- FitModel
def test_registry_and_names():
    assert ALL == ["linear", "quadratic", "sigmoid", "hard-sigmoid", "relu", "network"]
    assert make_model("linear").param_names == ["w", "b"]
    assert make_model("quadratic").param_names == ["a", "b", "c"]
    m = make_model("relu", 3)
    assert m.param_names == ["c0", "w1", "b1", "c1", "w2", "b2", "c2", "w3", "b3", "c3"]
    assert m.n_params == 10 and m.K == 3 and m.kind == "units" and m.unit == "relu"
    assert make_model("units", 2) == FitModel("units", "sigmoid", 2)
    assert make_model("linear", 7).K == 0
    assert m.unit_of(0) == 0 and m.unit_of(1) == 1 and m.unit_of(3) == 1 and m.unit_of(4) == 2


@pytest.mark.parametrize("K", [0, 51, -1, 2.5])
def test_bad_units(K):
    with pytest.raises(ValueError, match=r"Invalid number of units: .* \(must be in 1\.\.50\)"):
        make_model("sigmoid", K)


def test_bad_names():
    with pytest.raises(ValueError, match="unknown model 'sigmoidd'; did you mean 'sigmoid'"):
        make_model("sigmoidd")
    with pytest.raises(ValueError, match="unknown unit 'tanh'"):
        FitModel("units", "tanh", 2)


def test_check_params_message():
    m = make_model("sigmoid", 3)
    with pytest.raises(ValueError, match=r"^expected 10 params for sigmoid units K=3, got 4$"):
        m.check_params([1, 2, 3, 4])
    with pytest.raises(ValueError, match="expected 2 params for linear, got 3"):
        make_model("linear").check_params([1, 2, 3])


@pytest.mark.parametrize("name", ALL)
def test_init_params(name):
    m = make_model(name, 8)
    p = m.init_params(1, (-2.0, 2.0), (0.0, 10.0))
    assert p.shape == (m.n_params,) and p.dtype == np.float64 and np.isfinite(p).all()
    assert_array_equal(p, m.init_params(1, (-2.0, 2.0), (0.0, 10.0)))
    if m.kind == "units":
        w, b = p[1::3], p[2::3]
        # breakpoints (where z = 0.5 for hard sigmoid, else z = 0) spread over the x range
        z_mid = 0.5 if m.unit == "hard-sigmoid" else 0.0
        t = np.sort((z_mid - b) / w)
        assert t.min() > -2.0 and t.max() < 2.0
        assert np.all(np.diff(t) > 0.05)
        assert t.min() < -1.0 and t.max() > 1.0


def test_piecewise_target_is_two_hard_sigmoids():
    m = make_model("hard-sigmoid", 2)
    ds = make_dataset("piecewise", 50, 0.0, 0, 0.0)
    p = np.array([0.5, 1.0, 1.0, 1.5, 1.0, 0.0, -1.0])
    assert_allclose(m.predict(p, ds.x, fast=True), ds.y, atol=1e-12)
    assert m.loss(p, ds.x, ds.y, fast=True) < 1e-24


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("fast", [True, False])
def test_predict_and_contributions(name, fast):
    m = make_model(name, 4)
    p = m.init_params(2, (-2, 2), (-1, 1))
    x = np.linspace(-2, 2, 33)
    pred = m.predict(p, x, fast=fast)
    assert pred.shape == (33,)
    assert m.predict(np.stack([p, p]), x, fast=fast).shape == (2, 33)
    contrib = m.unit_contributions(p, x, fast=fast)
    assert contrib.shape == (m.K, 33)
    if m.kind == "units":
        assert_allclose(p[0] + contrib.sum(axis=0), pred, atol=1e-12)


# ----------------------------------------------------------------------------- FitProblem
def make_problem(loss="mse", batch_size=None, fast=None, name="sigmoid", K=5):
    ds = make_dataset("sine", 40, 0.2, 1)
    return FitProblem(make_model(name, K), ds, loss, batch_size, seed=2, fast=fast)


def test_fit_problem_protocol():
    pr = make_problem(batch_size=8)
    assert pr.n_params == 16 and pr.batch_size == 8
    P = np.stack([pr.init_params(s) for s in range(3)])
    loss, grad = pr.loss_grad(P, 0, fast=True)
    assert loss.shape == (3,) and grad.shape == (3, 16)
    l2, g2 = pr.loss_grad(P, 0, fast=False)
    assert_allclose(loss, l2, rtol=1e-12)
    assert_allclose(grad, g2, rtol=1e-10, atol=1e-14)
    # deterministic in step, and the batch changes with the step
    assert_array_equal(pr.loss_grad(P, 5)[1], pr.loss_grad(P, 5)[1])
    assert not np.array_equal(pr.loss_grad(P, 5)[0], pr.loss_grad(P, 6)[0])
    assert pr.loss(P, fast=True).shape == (3,)
    assert_allclose(pr.loss(P, fast=True), pr.loss(P, fast=False), rtol=1e-12)
    assert_allclose(pr.val_loss(P, fast=True), pr.val_loss(P, fast=False), rtol=1e-12)
    full = pr.model.loss(P, pr.dataset.x_train, pr.dataset.y_train)
    assert_allclose(pr.loss(P), full, rtol=1e-12)


def test_fit_problem_batch_is_the_samplers():
    pr = make_problem(batch_size=8)
    P = pr.init_params(0)[None, :]
    idx = pr.batch_at(7)
    x, y = pr.dataset.x_train[idx], pr.dataset.y_train[idx]
    assert_allclose(pr.loss_grad(P, 7)[0], pr.model.loss(P, x, y), rtol=1e-12)


def test_counters():
    pr = make_problem(batch_size=8)  # 34 training points: 5 batches per epoch
    assert pr.batches_per_epoch == 5
    # after 12 updates of 5 per epoch: the 12th update was batch 2 of epoch 3
    assert pr.counters(12) == dict(iteration=12, epoch=3, batch_in_epoch=2, batches_per_epoch=5)
    assert pr.counters(10) == dict(iteration=10, epoch=2, batch_in_epoch=5, batches_per_epoch=5)
    assert pr.counters(0) == dict(iteration=0, epoch=0, batch_in_epoch=0, batches_per_epoch=5)
    assert pr.epoch(4) == 0 and pr.epoch(5) == 1 and pr.iteration(5) == 5


def test_rebatched_keeps_the_past_and_starts_a_fresh_epoch():
    pr = make_problem(batch_size=8)  # 34 training points: 5 batches per epoch
    new = pr.rebatched(17, from_step=7)
    for it in range(7):
        assert_array_equal(new.batch_at(it), pr.batch_at(it))
    # from update index 7 on: batches of 17, a fresh permutation, two per epoch
    seen = np.concatenate([new.batch_at(7), new.batch_at(8)])
    assert len(new.batch_at(7)) == 17 and sorted(seen) == list(range(34))
    # update 7 (index 6) was in epoch 2; the 8th update opens epoch 3
    assert new.counters(7)["epoch"] == 2
    assert new.counters(8) == dict(iteration=8, epoch=3, batch_in_epoch=1, batches_per_epoch=2)
    assert new.batch_size == 17 and new.batches_per_epoch == 2
    assert pr.batch_size == 8  # the original is untouched
    # a later change replaces only what comes after it
    again = new.rebatched(34, from_step=9)
    assert_array_equal(again.batch_at(8), new.batch_at(8))
    assert len(again.batch_at(9)) == 34
    with pytest.raises(ValueError, match="before step 9"):
        again.rebatched(4, from_step=3)


def test_fit_problem_bad_batch_and_loss():
    with pytest.raises(ValueError, match=r"Invalid batch size: 35 \(must be in 1\.\.34"):
        make_problem(batch_size=35)
    with pytest.raises(ValueError, match="unknown loss 'l3'"):
        make_problem(loss="l3")


def test_val_loss_without_validation_set():
    ds = make_dataset("sine", 10, 0.1, 0, 0.0)
    pr = FitProblem(make_model("linear"), ds)
    assert np.isnan(pr.val_loss(np.zeros((2, 2)))).all()


# ----------------------------------------------------------------------------- linear regression
@pytest.mark.parametrize("loss", ["mse", "mae"])
def test_linear_regression_grid(loss):
    x, y = linear_regression_data(60, 2.0, 1.0, 0.5, 3)
    pr = LinearRegressionProblem(x, y, loss, batch_size=16, seed=1)
    x0, x1, y0, y1 = pr.view
    full = pr.grid(x0, x1, y0, y1, 64, 48, fast=True)
    assert full.shape == (48, 64)
    assert_allclose(full, pr.grid(x0, x1, y0, y1, 64, 48, fast=False), rtol=1e-9, atol=1e-10)
    idx = pr.batch_at(2)
    part = pr.grid(x0, x1, y0, y1, 64, 48, idx, fast=True)
    assert_allclose(part, pr.grid(x0, x1, y0, y1, 64, 48, idx, fast=False), rtol=1e-9, atol=1e-10)
    # a cell is the problem's loss at (w_i, b_j), on the whole set and on the batch
    w = x0 + 10 * (x1 - x0) / 63
    b = y0 + 30 * (y1 - y0) / 47
    assert_allclose(full[30, 10], pr.loss(np.array([[w, b]]))[0], rtol=1e-9)
    m = pr.model
    assert_allclose(part[30, 10], m.loss([w, b], x[idx], y[idx], loss), rtol=1e-9)
    # the known minimum is the lowest point of the surface (up to the grid spacing)
    (wm, bm), = pr.minima
    assert x0 < wm < x1 and y0 < bm < y1
    assert pr.loss(pr.minima)[0] <= full.min() + 1e-12


def test_linear_regression_minimum_mse_is_least_squares():
    x, y = linear_regression_data(40, -1.0, 2.0, 0.3, 0)
    pr = LinearRegressionProblem(x, y)
    assert_allclose(pr.minima[0], np.polyfit(x, y, 1), rtol=1e-10)
    _, g = pr.loss_grad(pr.minima, 0)
    assert_allclose(g, 0.0, atol=1e-10)


def test_linear_regression_grid_validation():
    x, y = linear_regression_data(10, 1, 0, 0.1, 0)
    pr = LinearRegressionProblem(x, y)
    with pytest.raises(ValueError, match="Invalid grid size: 1x5"):
        pr.grid(0, 1, 0, 1, 1, 5)
    with pytest.raises(ValueError, match="batch_idx"):
        pr.grid(0, 1, 0, 1, 5, 5, batch_idx=[0, 10])


# ----------------------------------------------------------------------------- slices
def brute_slice(model, p, i, j, ri, rj, nx, ny, x, y, loss):
    out = np.empty((ny, nx))
    for r, vj in enumerate(np.linspace(*rj, ny)):
        for c, vi in enumerate(np.linspace(*ri, nx)):
            q = p.copy()
            q[i], q[j] = vi, vj
            out[r, c] = model.loss(q, x, y, loss, fast=False)
    return out


@pytest.mark.parametrize("name,K", [("linear", 0), ("quadratic", 0), ("sigmoid", 1),
                                    ("sigmoid", 50), ("hard-sigmoid", 6), ("relu", 6)])
@pytest.mark.parametrize("loss", ["mse", "mae"])
def test_slice_grid_equals_brute_force(name, K, loss):
    m = make_model(name, K)
    ds = make_dataset("sine", 30, 0.1, 4)
    p = m.init_params(3, ds.x_range, ds.y_range)
    n = m.n_params
    pairs = [(0, n - 1), (n - 1, 0)]
    if m.kind == "units":
        pairs += [(1, 2), (1, 3), (2, n - 2 if K > 1 else 3)]
    for i, j in pairs:
        ref = brute_slice(m, p, i, j, (-2, 2), (-1, 3), 8, 6, ds.x_train, ds.y_train, loss)
        for fast in (True, False):
            out = slice_grid(m, p, i, j, (-2, 2), (-1, 3), 8, 6, ds.x_train, ds.y_train, loss,
                             fast=fast)
            assert_allclose(out, ref, rtol=1e-10, atol=1e-12, err_msg=f"{i},{j} fast={fast}")


def test_slice_passes_through_current_params():
    m = make_model("sigmoid", 10)
    ds = make_dataset("abs", 30, 0.1, 0)
    p = m.init_params(0, ds.x_range, ds.y_range)
    i, j = 4, 8
    out = slice_grid(m, p, i, j, (p[i] - 1, p[i] + 1), (p[j] - 1, p[j] + 1), 5, 5,
                     ds.x_train, ds.y_train, fast=True)
    assert_allclose(out[2, 2], m.loss(p, ds.x_train, ds.y_train), rtol=1e-12)


def test_slice_validation():
    m = make_model("sigmoid", 2)
    p = np.zeros(7)
    x = np.linspace(0, 1, 5)
    with pytest.raises(ValueError, match="two different parameters"):
        slice_grid(m, p, 1, 1, (0, 1), (0, 1), 4, 4, x, x)
    with pytest.raises(ValueError, match="out of range"):
        slice_grid(m, p, 1, 7, (0, 1), (0, 1), 4, 4, x, x)
    with pytest.raises(ValueError, match="expected 7 params"):
        slice_grid(m, np.zeros(4), 1, 2, (0, 1), (0, 1), 4, 4, x, x)


# ----------------------------------------------------------------------------- with the engine
def _runset(problem, config, start, fast):
    from gdviz.core.engine import RunSet

    return RunSet(problem, [config], start[None, :], total_steps=1000, fast=fast)


@pytest.mark.parametrize("name,opt", [("sigmoid", "adam"), ("relu", "momentum"),
                                      ("quadratic", "sgd"), ("hard-sigmoid", "rmsprop")])
@pytest.mark.parametrize("loss", ["mse", "mae"])
def test_full_batch_trajectories_equal_numpy_twin(name, opt, loss):
    from gdviz.core.optimizers import make_optimizer

    ds = make_dataset("sine", 25, 0.1, 0)
    m = make_model(name, 4)
    config = make_optimizer(opt, lr=0.01)
    start = m.init_params(0, ds.x_range, ds.y_range)
    fast = _runset(FitProblem(m, ds, loss, fast=True), config, start, True)
    slow = _runset(FitProblem(m, ds, loss, fast=False), config, start, False)
    for _ in range(5):
        fast.advance(10)
        slow.advance(10)
        assert_allclose(fast.params, slow.params, rtol=1e-9, atol=1e-12)
    tf, lf = fast.trajectory(0)
    ts, ls = slow.trajectory(0)
    assert tf.shape == (51, m.n_params)
    assert_allclose(tf, ts, rtol=1e-9, atol=1e-12)
    assert_allclose(lf, ls, rtol=1e-9, atol=1e-12)


def test_mini_batch_runs_are_reproducible():
    from gdviz.core.optimizers import make_optimizer

    ds = make_dataset("sine", 40, 0.1, 0)
    m = make_model("sigmoid", 3)
    start = m.init_params(0, ds.x_range, ds.y_range)
    cfg = make_optimizer("sgd", lr=0.05)
    a = _runset(FitProblem(m, ds, batch_size=5, seed=1, fast=True), cfg, start, True)
    b = _runset(FitProblem(m, ds, batch_size=5, seed=1, fast=False), cfg, start, False)
    a.advance(30)
    b.advance(30)
    assert_allclose(a.params, b.params, rtol=1e-9, atol=1e-12)


def test_overfitting_shows_up():
    """K = 30 sigmoids on 15 noisy training points: training loss keeps falling while the
    validation loss, after its minimum, rises well above it."""
    from gdviz.core.optimizers import make_optimizer

    ds = make_dataset("sine", 30, 0.3, seed=2, val_fraction=0.5)
    assert ds.n_train == 15
    m = make_model("sigmoid", 30)
    pr = FitProblem(m, ds, "mse", fast=True)
    runs = _runset(pr, make_optimizer("adam", lr=0.01), pr.init_params(2), True)
    runs.advance(3000)
    traj, _ = runs.trajectory(0)
    train = pr.loss(traj)
    val = pr.val_loss(traj)
    k = int(np.argmin(val))
    assert 0 < k < 1500
    assert val[-1] > 1.5 * val[k]
    assert train[-1] < 0.05 * train[k]
    # over the second half: train down, validation up
    assert train[-1] < train[1500] and val[-1] > val[1500]


@pytest.mark.parametrize("first,k", [(0, 1), (0, 40), (3, 1), (4, 9), (6, 23), (9, 0), (0, 200)])
def test_batch_indices_are_the_batches_one_by_one(first, k):
    """The engine's and the maps' flat mini-batches (drawn per epoch, at once) are the
    batches of batch_at, step by step: within a segment, across epochs (a last batch
    smaller), across batch-size changes (a full-batch segment among them)."""
    pr = make_problem(batch_size=8)  # 34 points: batches of 8, 8, 8, 8, 2
    problems = [pr, pr.rebatched(17, from_step=7), pr.rebatched(34, from_step=5),
                pr.rebatched(3, from_step=5).rebatched(34, from_step=11).rebatched(5, 14)]
    for p in problems:
        flat, off = p.batch_indices(first, k)
        assert off.dtype == np.int64 and flat.dtype == np.int64 and len(off) == k + 1
        assert flat.flags.writeable  # (numba types a read-only array apart)
        one_by_one = [p.batch_at(first + i) for i in range(k)]
        assert [list(flat[off[i]:off[i + 1]]) for i in range(k)] == [list(b) for b in one_by_one]
        assert off[-1] == len(flat) == sum(len(b) for b in one_by_one)


def test_epoch_permutations_are_shared_and_bounded(monkeypatch):
    from gdviz.core import data as D

    a = D.MiniBatchSampler(50, 5, seed=3)
    b = D.MiniBatchSampler(50, 7, seed=3)
    assert a.batch_at(0).base is b.batch_at(0).base  # one permutation per (n, seed, epoch)
    assert_array_equal(D.epoch_permutation(50, 3, 0),
                       np.random.default_rng([3, 3, 0]).permutation(50))
    monkeypatch.setattr(D, "PERM_CACHE_BYTES", 50 * 8 * 3)
    monkeypatch.setattr(D, "_perm_cache", {})
    monkeypatch.setattr(D, "_perm_cache_bytes", [0])
    for e in range(10):
        D.epoch_permutation(50, 4, e)
    assert len(D._perm_cache) == 3 and D._perm_cache_bytes[0] == 50 * 8 * 3
    assert set(D._perm_cache) == {(50, 4, 7), (50, 4, 8), (50, 4, 9)}


def test_linear_regression_mae_on_many_points_is_viewed_around_its_valley():
    """MAE's minimum is searched on up to 300 points only; on more the view was centred on
    w = 0 (100,000 points of y = 1 + 2x: w = 2, the valley floor, was off the map). It is
    centred on the least-squares line now, near which MAE's lies."""
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 4, 2000)
    y = 1.0 + 2.0 * x + rng.normal(0, 2.0, 2000)
    p = LinearRegressionProblem(x, y, loss="mae")
    assert p.minima.size == 0
    w0, w1, b0, b1 = p.view
    assert w0 < 2.0 < w1 and b0 < 1.0 < b1
    assert (w0 + w1) / 2 == pytest.approx(2.0, abs=0.3)
