"""The session on data problems: regression L(w, b) with real mini-batches, and the curve fit
with its live slice (no Qt)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gdviz.core.data import MiniBatchSampler
from gdviz.core.engine import RunSet
from gdviz.core.optimizers import make_optimizer
from gdviz.core.problems import FitData, FitSlice, RegressionData
from gdviz.core.session import RunSpec, Session


def regression_session(batch: int = 10) -> Session:
    s = Session(specs=[RunSpec(make_optimizer("sgd", lr=0.05))], fast=False)
    assert s.set_regression(RegressionData(n=40, noise=0.8, seed=3), batch_size=batch)
    return s


def fit_session(**kw) -> Session:
    s = Session(specs=[RunSpec(make_optimizer("adam", lr=0.05))], fast=False)
    assert s.set_fit(FitData(**kw))
    return s


# ----------------------------------------------------------------------------- regression
def test_regression_is_a_map_over_w_and_b():
    s = regression_session()
    assert s.kind == "regression" and s.is_data
    assert s.landscape is s.problem and s.n_params == 2
    assert s.param_names == ("w", "b") and s.all_param_names == ["w", "b"]
    assert s.batch_size == 10 and s.n_train == 40
    z = s.landscape.grid(*s.view_box, 16, 16)
    assert z.shape == (16, 16) and np.isfinite(z).all()


def test_regression_steps_on_real_minibatches_and_counts_epochs():
    s = regression_session(batch=10)
    s.step(13)
    assert s.counters() == dict(iteration=13, epoch=4, batch_in_epoch=1, batches_per_epoch=4)
    assert s.epoch() == 4
    # the path is plain SGD on the batches the sampler draws, without replacement
    sampler = MiniBatchSampler(40, 10, seed=s.seed)
    x, y = s.problem.x, s.problem.y
    w = np.asarray(s.starts[0], dtype=np.float64)
    for it in range(13):
        idx = sampler.batch_at(it)
        r = w[1] + w[0] * x[idx] - y[idx]
        g = np.array([2 * np.mean(r * x[idx]), 2 * np.mean(r)])
        w = w - 0.05 * g
    assert_allclose(s.positions()[0], w, rtol=1e-12)
    assert_array_equal(s.current_batch(), sampler.batch_at(12))
    assert_array_equal(s.current_batch(0), sampler.batch_at(0))
    # every point exactly once per epoch
    seen = np.concatenate([s.runset.problem.batch_at(k) for k in range(4)])
    assert sorted(seen) == list(range(40))


def test_regression_batch_size_changes_live_and_replays_exactly():
    s = regression_session(batch=10)
    s.step(6)
    before = s.trails()[0].copy()
    assert s.set_batch_size(40)  # full batch from step 6 on, no reset
    assert s.t == 6
    s.step(4)
    assert_array_equal(s.trails()[0][:7], before)
    assert s.counters()["batches_per_epoch"] == 1
    assert len(s.current_batch()) == 40
    # scrub back and forward: the same history
    path = s.trails()[0].copy()
    s.scrub(3)
    s.step(7)
    assert_array_equal(s.trails()[0], path)
    # a replay from scratch (a run added) reproduces it too
    s.add_run(RunSpec(make_optimizer("adam", lr=0.1)))
    assert_array_equal(s.trails()[0], path)


def test_regression_batch_size_is_checked_against_the_data():
    s = regression_session()
    errors = []
    s.error.connect(errors.append)
    assert not s.set_batch_size(41)
    assert errors[-1] == "Invalid batch size: 41 (must be an integer in 1..40)"
    assert s.batch_size == 10


def test_new_regression_data_keeps_the_race_settings():
    s = regression_session()
    start = s.starts
    assert s.set_regression(dataclasses.replace(s.data, seed=9))
    assert s.starts == start and s.batch_size == 10 and s.t == 0


def test_loaded_points_replace_the_generated_data():
    s = regression_session()
    pts = ((0.0, 1.0), (1.0, 3.0), (2.0, 5.0), (3.0, 7.0))
    assert s.set_regression(RegressionData(points=pts, source="line.csv"))
    assert s.n_train == 4 and s.batch_size == 4  # clamped to the data
    assert_array_equal(s.problem.x, [0, 1, 2, 3])
    assert_allclose(s.landscape.minima, [[2.0, 1.0]], atol=1e-12)


def test_bad_regression_data_is_refused():
    with pytest.raises(ValueError, match=r"Invalid number of points: 1 \(must be an integer in 2\.\.100000\)"):
        RegressionData(n=1)
    with pytest.raises(ValueError, match="need at least 2 data points"):
        RegressionData(points=((1.0, 2.0),))
    with pytest.raises(ValueError, match="unknown loss 'l1'"):
        RegressionData(loss="l1")


def test_switching_back_to_a_surface():
    s = regression_session()
    assert s.set_surface("himmelblau")
    assert s.kind == "surface" and s.data is None and s.batch_size == 1
    assert s.counters() is None and s.current_batch() is None and s.val_losses() is None


# ----------------------------------------------------------------------------- fit
def test_fit_map_is_a_slice_through_the_reference_run():
    s = fit_session(target="sine", model="sigmoid", units=3, points=40, val_fraction=0.25)
    assert s.kind == "fit" and s.n_params == 10
    assert isinstance(s.landscape, FitSlice) and s.landscape.live
    assert s.param_names == ("c1", "c2") and s.linked == (3, 6)
    assert s.positions().shape == (1, 10)
    s.step(20)
    p = s.positions()[0]
    assert_array_equal(s.trails()[0][-1], p[[3, 6]])
    assert s.param_trails()[0].shape == (21, 10)
    # the slice passes through the current parameters: its value there is the training loss
    x0, y0 = p[3], p[6]
    z = s.landscape.grid(x0 - 1, x0 + 1, y0 - 1, y0 + 1, 3, 3)
    assert z[1, 1] == pytest.approx(s.losses()[0][-1], rel=1e-12)
    key = s.landscape.key()
    s.step(1)
    assert s.landscape.key() != key  # the surface moves with the fit
    s.scrub(5)
    assert_array_equal(np.frombuffer(s.landscape.key()), s.positions(5)[0])


def test_the_twins_slice_of_much_data_is_coarse_and_exact_at_its_nodes(monkeypatch):
    # issue 10: before the kernels were compiled, the numpy twin computed a 128x128 slice
    # of 70,000 points for minutes, and the map stayed empty; now past NET_SLICE_WORK it is
    # computed on a coarser grid (exact at its nodes) and resampled, as a network's is
    import gdviz.core.models as M
    from gdviz.core.limits import NET_SLICE_WORK

    s = fit_session(target="sine", model="sigmoid", units=3, points=2000, val_fraction=0.0)
    land = s.landscape
    calls = []
    real = M.slice_grid
    monkeypatch.setattr(M, "slice_grid", lambda *a, **k: calls.append((a[6], a[7], k)) or
                        real(*a, **k))
    box = (-2.0, 2.0, -1.0, 3.0)
    z = land.grid(*box, 128, 128, fast=False)
    (mx, my, kw), = calls
    assert z.shape == (128, 128) and mx * my <= NET_SLICE_WORK // 2000 < 128 * 128
    assert kw["fast"] is False
    coarse = real(land.problem.model, land.reference(), land.i, land.j, box[:2], box[2:],
                  mx, my, land.problem.x, land.problem.y, land.problem.loss_kind, fast=False)
    assert z[0, 0] == coarse[0, 0] and z[-1, -1] == coarse[-1, -1]
    calls.clear()
    small = fit_session(target="sine", model="sigmoid", units=3, points=40).landscape
    assert small.grid(*box, 128, 128, fast=False).shape == (128, 128)
    assert calls[0][:2] == (128, 128)  # little data: the whole grid, as before


def test_fit_reports_validation_loss_from_the_recorded_parameters():
    s = fit_session(target="sine", model="sigmoid", units=3, points=40, val_fraction=0.25)
    s.step(15)
    assert s.has_validation
    val = s.val_losses()[0]
    assert val.shape == (16,)
    P = s.param_trails()[0]
    assert_allclose(val, s.problem.val_loss(P), rtol=1e-12)
    s.step(5)
    assert s.val_losses()[0].shape == (21,)
    assert s.val_losses(3)[0].shape == (4,)
    assert not fit_session(val_fraction=0.0).has_validation


def test_fit_full_batch_equals_the_engine():
    s = fit_session(target="piecewise", model="hard-sigmoid", units=2, points=30)
    s.step(40)
    rs = RunSet(s.problem, [make_optimizer("adam", lr=0.05)], np.asarray(s.starts), fast=False)
    rs.advance(40)
    assert_array_equal(s.positions(), rs.params)
    assert s.batch_size == s.n_train == 25  # 85/15 of 30 points, half rounding up


def test_fit_by_hand_restarts_from_the_dragged_value():
    s = fit_session(model="quadratic", loss="mae", points=20)
    s.step(10)
    p = s.params_now()
    assert s.set_param(1, 4.5)
    assert s.t == 0 and not s.playing
    assert s.starts == [(p[0], 4.5, p[2])]
    assert s.losses()[0][0] == pytest.approx(
        s.problem.model.loss([p[0], 4.5, p[2]], s.problem.x, s.problem.y, "mae"))


def test_clicking_the_slice_sets_the_two_shown_parameters():
    s = fit_session(model="quadratic")
    s.step(5)
    p = s.params_now()
    assert s.set_start(1.5, -2.0)  # on the (a, b) map
    assert s.starts == [(1.5, -2.0, p[2])]
    errors = []
    s.error.connect(errors.append)
    assert not s.add_start(0.0, 0.0)
    assert "one point" in errors[-1]
    assert s.move_start(0, 0.25, 0.5)
    assert s.starts == [(0.25, 0.5, p[2])]


def test_linked_parameters():
    s = fit_session(model="relu", units=3)
    assert s.set_linked("w2", "b2")
    assert s.param_names == ("w2", "b2") and s.linked == (4, 5)
    errors = []
    s.error.connect(errors.append)
    assert not s.set_linked("w2", "w2")
    assert not s.set_linked("nope", "b2")
    assert s.linked == (4, 5) and len(errors) == 2


def test_changing_the_model_restarts_from_its_initialisation():
    s = fit_session(model="sigmoid", units=3, seed=2)
    s.step(10)
    assert s.set_fit(dataclasses.replace(s.data, units=5))
    assert s.n_params == 16 and s.t == 0
    assert_array_equal(s.starts[0], FitData(model="sigmoid", units=5, seed=2).init_params())
    # same model, new noise: the start is kept
    start = s.starts
    assert s.set_fit(dataclasses.replace(s.data, noise=0.3))
    assert s.starts == start


def test_bad_fit_settings_keep_the_old_fit():
    s = fit_session(model="sigmoid", units=3)
    errors = []
    s.error.connect(errors.append)
    with pytest.raises(ValueError, match=r"unknown name 'z' at column 5"):
        FitData(target_expr="x + z")
    with pytest.raises(ValueError, match=r"Invalid number of units: 51 \(must be an integer in 1\.\.50\)"):
        FitData(model="sigmoid", units=51)
    with pytest.raises(ValueError, match=r"Invalid validation fraction: 0\.6 \(must be in 0\.\.0\.5\)"):
        FitData(val_fraction=0.6)
    assert not s.set_fit(FitData(model="sigmoid", units=3), start=[1.0, 2.0])
    assert "expected 10 start parameters" in errors[-1]
    assert s.data.model == "sigmoid" and s.n_params == 10


def test_fit_with_minibatches_counts_epochs():
    s = fit_session(target="sine", model="sigmoid", units=2, points=40, val_fraction=0.0)
    assert s.set_batch_size(8)
    s.step(12)
    assert s.counters() == dict(iteration=12, epoch=3, batch_in_epoch=2, batches_per_epoch=5)


def test_update_data_and_update_runs_are_one_change_each():
    s = fit_session(model="sigmoid", units=3)
    s.add_run(RunSpec(make_optimizer("sgd", lr=0.1)))
    calls = []
    s.runs_changed.connect(lambda: calls.append("runs"))
    s.step(5)
    assert s.update_runs(weight_decay=0.01)
    assert calls == ["runs"] and s.t == 5
    assert [sp.config.weight_decay for sp in s.specs] == [0.01, 0.01]
    errors = []
    s.error.connect(errors.append)
    assert not s.update_runs(weight_decay=-1.0)
    assert "weight_decay" in errors[-1] or "weight decay" in errors[-1]
    assert [sp.config.weight_decay for sp in s.specs] == [0.01, 0.01]
    assert s.update_data(units=5) and s.n_params == 16
    assert not s.update_data(units=0)
    assert "Invalid number of units: 0" in errors[-1] and s.data.units == 5
    assert not s.update_data(unitz=3)
    assert errors[-1] == "unknown data setting 'unitz'"
    s.set_surface("quadratic")
    assert not s.update_data(units=2)
    assert "pick a data problem" in errors[-1]


def _norms_twin(P: np.ndarray) -> np.ndarray:
    return np.array([float(np.sqrt(sum(v * v for v in row))) for row in P])


def test_weight_norms_are_the_norm_of_every_recorded_row():
    s = fit_session(target="sine", model="sigmoid", units=3, points=40, val_fraction=0.25)
    s.step(15)
    norms = s.weight_norms()
    assert len(norms) == s.n_runs and norms[0].shape == (16,)
    assert_allclose(norms[0], _norms_twin(s.param_trails()[0]), rtol=1e-12)
    assert s.weight_norms(3)[0].shape == (4,)
    # on a surface too: ‖(x, y)‖
    surf = Session(fast=False)
    surf.step(4)
    for r, P in enumerate(surf.param_trails()):
        assert_allclose(surf.weight_norms()[r], _norms_twin(P), rtol=1e-12)


def test_per_row_values_follow_decimation_and_the_live_row(monkeypatch):
    # 64 rows at most: the stride doubles, and between stored rows the trail ends with
    # the live position, which must not be kept once the next row replaces it
    monkeypatch.setattr("gdviz.core.engine.ROW_CAP", 64)
    s = fit_session(target="sine", model="sigmoid", units=3, points=40, val_fraction=0.25)
    for k in (1, 70, 1, 1, 60, 1, 1, 3):
        s.step(k)
        P = s.param_trails()[0]
        assert_allclose(s.weight_norms()[0], _norms_twin(P), rtol=1e-12)
        assert_allclose(s.val_losses()[0], s.problem.val_loss(P), rtol=1e-12)
    assert s.runset.stride > 1


def test_a_fits_dataset_is_made_once_and_cannot_be_changed():
    # a scene being opened asked for it three times, from two FitData (5-10 ms each at
    # 100,000 points); it is immutable, so the last fit's is kept and given to a FitData
    # of the same data: its arrays, the split's too, are read-only
    data = FitData(target="sine", model="sigmoid", units=3, points=40, val_fraction=0.25)
    ds = data.dataset()
    assert data.dataset() is ds
    # the same data (the scene's FitData and the session's; another model): the same
    assert dataclasses.replace(data, model="relu", units=5).dataset() is ds
    for a in (ds.x, ds.y, ds.train_idx, ds.val_idx):
        with pytest.raises(ValueError):
            a[0] = 0
    # other data: its own
    assert dataclasses.replace(data, val_fraction=0.2).dataset() is not ds
    other = dataclasses.replace(data, seed=1)
    assert other.dataset() is not ds
    assert data.dataset() is not ds  # (one kept: made again, the same)
    for name in ("x", "y", "train_idx", "val_idx"):
        assert (getattr(data.dataset(), name) == getattr(ds, name)).all()
    # loaded points: kept for the same points object, made again for an equal other one
    pts = FitData(model="sigmoid", units=3,
                  points_data=tuple((float(i), float(i % 3)) for i in range(30))).points_data
    a = FitData(model="sigmoid", units=3, points_data=pts)
    ds_a = a.dataset()
    assert a.dataset() is ds_a and ds_a.n == 30
    assert dataclasses.replace(a, units=4).dataset() is ds_a
    b = FitData(model="sigmoid", units=3, points_data=tuple(tuple(p) for p in pts))
    assert b.points_data is not pts
    ds_b = b.dataset()
    assert ds_b is not ds_a
    for name in ("x", "y", "train_idx", "val_idx"):
        assert (getattr(ds_b, name) == getattr(ds_a, name)).all()
    # the fit set up from it sees the same points
    assert (data.build().dataset.x == ds.x).all()
