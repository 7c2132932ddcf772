"""The fit panel's "network" model: the core FitModel, its training against torch.optim's
documented semantics, FitData and scene keys, the linked slice and `gdviz fit` errors.

How the numpy twin (gdviz.kernels.mlp.*_np) was checked against torch: it is a line-by-line
transcription of torch's documented definitions, not of gdviz's kernel:
- ``nn.Linear``: z = x @ W.T + b, W of shape (out_features, in_features), so the flat
  parameter vector is W (row-major) then b, layer after layer, which is the order of
  ``nn.Sequential(...).parameters()`` (checked by name in test_param_order_is_torchs);
- activations: ``nn.ReLU`` (relu'(0) = 0 in autograd), ``nn.Sigmoid``, ``nn.Tanh``,
  ``nn.Hardsigmoid`` = relu6(x + 3) / 6 with gradient 1/6 on the open interval (-3, 3)
  (torch's hardsigmoid_backward, whose "1/6" is the float32 constant 1.0f / 6.0f:
  mlp.HARD_SIGMOID_SLOPE; a gradient recorded from torch is compared in
  tests/kernels/test_mlp_kernel.py), identity for "linear";
- ``nn.MSELoss()`` = mean (f - y)^2 and ``nn.BCEWithLogitsLoss()`` = mean of
  max(z, 0) - z y + log1p(exp(-|z|)) (torch's stable form);
- backprop is the chain rule in matrix form, and its gradient is checked against central
  differences in tests/kernels/test_mlp_kernel.py.
The optimizers are tests/reference_optim.py's transcriptions of torch.optim. Together they
are the oracle the engine's training (numba kernels) must match to 1e-9 here.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

from gdviz.core.engine import RunSet
from gdviz.core.models import FitModel, FitProblem, make_model, slice_grid
from gdviz.core.optimizers import make_optimizer
from gdviz.core.problems import FitData, FitSlice, default_linked
from gdviz.kernels import mlp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import reference_optim as R  # noqa: E402

ACTS = ["relu", "sigmoid", "tanh", "hard-sigmoid", "linear"]
OPTS = [("sgd", dict(lr=0.05)), ("momentum", dict(lr=0.02, weight_decay=0.01)),
        ("nesterov", dict(lr=0.02)), ("rmsprop", dict(lr=0.005)),
        ("adagrad", dict(lr=0.05)), ("adam", dict(lr=0.01, weight_decay=0.001)),
        ("adamw", dict(lr=0.01))]


def test_param_order_is_torchs():
    m = make_model("network", 3, layers=2)
    # nn.Sequential(nn.Linear(1,3), act, nn.Linear(3,3), act, nn.Linear(3,1)).parameters()
    shapes = [(3, 1), (3,), (3, 3), (3,), (1, 3), (1,)]
    assert m.n_params == sum(int(np.prod(s)) for s in shapes) == 22
    names = m.param_names
    assert names[:7] == ["W1[1,1]", "W1[2,1]", "W1[3,1]", "b1[1]", "b1[2]", "b1[3]", "W2[1,1]"]
    assert names[7:10] == ["W2[1,2]", "W2[1,3]", "W2[2,1]"]  # row-major (out, in)
    assert names[-4:] == ["W3[1,1]", "W3[1,2]", "W3[1,3]", "b3[1]"]
    assert m.label == "network 3x3 relu"
    assert list(m.sizes) == [1, 3, 3, 1]


@pytest.mark.parametrize("kw,msg", [
    (dict(layers=0), r"number of layers: 0 \(must be in 1..4\)"),
    (dict(layers=5), r"number of layers: 5"),
    (dict(K=33), r"units per layer: 33 \(must be in 1..32\)"),
    (dict(activation="gelu"), r"unknown activation 'gelu'; choose from relu"),
])
def test_bad_network_is_one_line(kw, msg):
    args = dict(kind="network", unit="", K=4, layers=2, activation="relu") | kw
    with pytest.raises(ValueError, match=msg):
        FitModel(**args)


def test_predict_hidden_and_contributions():
    m = make_model("network", 4, layers=2, activation="tanh")
    p = m.init_params(3, (-2, 2), (-1, 1))
    x = np.linspace(-2, 2, 9)
    f = m.predict(p, x)
    out = np.empty(9)
    mlp.forward_np(p, m.sizes, mlp.ACT_TANH, x[:, None], out)
    np.testing.assert_allclose(f, out, rtol=1e-12, atol=1e-14)
    H = m.hidden_outputs(p, x)
    assert H.shape == (8, 9)
    C = m.unit_contributions(p, x)
    # the last layer's contributions plus the output bias are the output
    np.testing.assert_allclose(C.sum(axis=0) + p[-1], f, rtol=1e-12, atol=1e-13)
    # the neuron a parameter feeds: layer 1 = 1..4, layer 2 = 5..8, output = 0
    assert m.unit_of(0) == 1 and m.unit_of(7) == 4 and m.unit_of(8) == 5 and m.unit_of(27) == 8
    assert m.unit_of(m.n_params - 1) == 0


def _reference_training(model, ds, name, hp, start, steps):
    """Full-batch training with the twin's gradient and torch.optim's transcription."""
    opt = R.make(name, **hp)
    theta = start.copy()
    X = ds.x_train[:, None]
    idx = np.arange(X.shape[0], dtype=np.int64)
    g = np.empty_like(theta)
    for _ in range(steps):
        mlp.loss_grad_np(theta, model.sizes, model.act_id, X, ds.y_train, idx, mlp.LOSS_MSE, g)
        theta = opt.step(theta, g)
    return theta


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("name,hp", OPTS, ids=[o[0] for o in OPTS])
def test_full_batch_training_matches_torch_semantics(act, name, hp):
    data = FitData(target="sine", model="network", units=5, layers=2, activation=act,
                   points=30, noise=0.2, seed=1)
    problem = data.build(fast=True)
    start = data.init_params()
    runs = RunSet(problem, [make_optimizer(name, **hp)], start[None, :], total_steps=60,
                  seed=0, fast=True)
    runs.advance(60)
    ref = _reference_training(problem.model, problem.dataset, name, hp, start, 60)
    np.testing.assert_allclose(runs.params[0], ref, rtol=1e-9, atol=1e-12)


def test_problem_losses_and_twin_agree():
    data = FitData(target="sine", model="network", units=6, layers=3, activation="relu",
                   points=40, noise=0.3, seed=2, val_fraction=0.25)
    fast, slow = data.build(fast=True), data.build(fast=False)
    P = np.stack([data.init_params(), data.init_params() * 0.5])
    lf, gf = fast.loss_grad(P, 0)
    ls, gs = slow.loss_grad(P, 0)
    np.testing.assert_allclose(lf, ls, rtol=1e-12)
    np.testing.assert_allclose(gf, gs, rtol=1e-10, atol=1e-13)
    assert np.isfinite(fast.val_loss(P)).all() and fast.x_val.shape[0] == 10
    mae = FitData(target="sine", model="network", units=6, layers=3, loss="mae").build(fast=True)
    assert mae.loss(P[:1])[0] > 0


def test_fitdata_network_checks():
    with pytest.raises(ValueError, match=r"units per layer: 40 \(must be an integer in 1..32\)"):
        FitData(model="network", units=40)
    with pytest.raises(ValueError, match=r"number of layers: 7"):
        FitData(model="network", layers=7)
    with pytest.raises(ValueError, match=r"unknown activation 'elu'"):
        FitData(model="network", activation="elu")
    with pytest.raises(ValueError, match=r"points x 3265 network parameters"):
        FitData(model="network", units=32, layers=4, points=2000)
    # the units model keeps its own limits (K up to 50)
    assert FitData(model="sigmoid", units=50).fit_model().K == 50


def test_linked_slice_over_network_params():
    data = FitData(target="sine", model="network", units=4, layers=2, points=20)
    problem = data.build(fast=True)
    m = problem.model
    i, j = default_linked(m)
    assert m.param_names[i] == "W3[1,1]" and m.param_names[j] == "W3[1,2]"
    p = data.init_params()
    sl = FitSlice(problem, i, j, lambda: p, FitSlice.view_around(p, i, j))
    g = sl.grid(-1.0, 1.0, -2.0, 2.0, 5, 4)
    pp = p.copy()
    pp[i], pp[j] = 1.0, -2.0 + 4.0 / 3.0
    assert g[1, 4] == pytest.approx(problem.loss(pp[None])[0], rel=1e-12)
    # a slice through the first layer (the cached prefix is empty) agrees with the twin
    a = slice_grid(m, p, 0, 5, (-1, 1), (-1, 1), 4, 3, problem.x, problem.y, fast=True)
    b = slice_grid(m, p, 0, 5, (-1, 1), (-1, 1), 4, 3, problem.x, problem.y, fast=False)
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_network_size_limit_in_problem():
    from gdviz.core.data import make_dataset

    ds = make_dataset("sine", 1000, 0.1, 0, 0.0)
    with pytest.raises(ValueError, match="points x parameters must be at most"):
        FitProblem(make_model("network", 32, layers=4), ds)


def test_scene_keys_round_trip(tmp_path):
    from gdviz.core.scene import dumps_scene, loads_scene, scene_from_session
    from gdviz.core.scene.bridge import scene_state
    from gdviz.core.scene.build import fit_data

    text = """version = 1
[problem]
kind = "fit"
[fit]
enabled = true
target = "sine"
model = "network"
units = 6
layers = 3
activation = "tanh"
linked = ["W4[1,1]", "b4[1]"]
"""
    scene = loads_scene(text)
    d = fit_data(scene)
    assert (d.model, d.units, d.layers, d.activation) == ("network", 6, 3, "tanh")
    state = scene_state(scene)
    assert state.data == d and state.linked == (len(d.fit_model().param_names) - 7,
                                                len(d.fit_model().param_names) - 1)
    from gdviz.core.session import Session

    s = Session()
    from gdviz.core.scene import apply_scene

    apply_scene(scene, s)
    out = dumps_scene(scene_from_session(s, scene))
    assert 'layers = 3' in out and 'activation = "tanh"' in out and 'model = "network"' in out
    again = loads_scene(out)
    assert fit_data(again) == d


@pytest.mark.parametrize("body,msg", [
    ('model = "network"\nunits = 40', r"\[fit\] Invalid number of units per layer: 40"),
    ('model = "network"\nlayers = 9', r"layers"),
    ('model = "network"\nactivation = "gelu"', r"activation"),
    ('model = "network"\nunits = 32\nlayers = 4\npoints = 5000', r"network parameters"),
])
def test_scene_errors(body, msg):
    from gdviz.core.scene import SceneError, loads_scene

    text = f'version = 1\n[problem]\nkind = "fit"\n[fit]\nenabled = true\nlinked = ["b1[1]", "b1[2]"]\n{body}\n'
    with pytest.raises(SceneError, match=msg):
        loads_scene(text)


@pytest.mark.parametrize("extra,msg", [
    (["--layers", "5"], r"invalid --layers 5: must be between 1 and 4"),
    (["--layers", "0"], r"invalid --layers 0"),
    (["--units", "33"], r"invalid --units 33: must be between 1 and 32"),
    (["--activation", "gelu"], r"unknown --activation 'gelu'; choose from relu"),
    (["--layers", "4", "--units", "32", "--points", "1000"], r"network parameters"),
])
def test_cli_network_errors(capsys, extra, msg):
    import re

    from gdviz.cli import main

    argv = ["fit", "--target", "sine", "--model", "network", "--optimizer", "adam", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gdviz fit: error: ")
    assert re.search(msg, err[0]), err[0]


@pytest.mark.parametrize("flag", [["--layers", "2"], ["--activation", "tanh"]])
def test_cli_network_flags_on_other_models(capsys, flag):
    from gdviz.cli import main

    assert main(["fit", "--target", "sine", "--model", "relu", "--optimizer", "adam", *flag]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"gdviz fit: error: {flag[0]} applies to --model network only"


def test_cli_network_fit_json(capsys, tmp_path):
    import json

    from gdviz.cli import main

    argv = ["fit", "--target", "sine", "--model", "network", "--layers", "3", "--units", "8",
            "--activation", "relu", "--optimizer", "adam", "--lr", "0.01", "--steps", "200",
            "--points", "40", "--noise", "0.2"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["model"], out["layers"], out["units"], out["activation"]) == ("network", 3, 8, "relu")
    assert len(out["params_final"]) == mlp.n_params([1, 8, 8, 8, 1]) == len(out["param_names"])
    assert out["history"][-1]["train_loss"] < 0.5 * out["history"][0]["train_loss"]
    # --init takes the torch-ordered vector back
    f = tmp_path / "init.json"
    f.write_text(json.dumps({"params": out["params_final"]}))
    assert main(argv[:-6] + ["--steps", "0", "--init", str(f), "--points", "40",
                             "--noise", "0.2"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["params_init"] == out["params_final"]


def test_session_neuron_selection():
    from gdviz.core.session import Session

    s = Session()
    assert not s.set_neuron(0)  # not a network fit
    assert s.set_fit(FitData(target="sine", model="network", units=4, layers=2))
    seen = []
    s.events.neuron.connect(seen.append)
    assert s.set_neuron(7) and s.neuron == 7 and seen == [7]
    assert not s.set_neuron(8)  # 2 x 4 hidden neurons: 0..7
    assert s.neuron == 7
    state = s.snapshot()
    assert state.neuron == 7
    assert s.update_data(layers=1)  # the neuron is gone with its layer
    assert s.neuron == -1
    s.restore(state)
    assert s.neuron == 7
    assert s.set_neuron(-1) and s.neuron == -1


def test_neuron_contribution():
    m = make_model("network", 3, layers=2, activation="relu")
    p = m.init_params(1)
    x = np.linspace(-2, 2, 11)
    H = m.hidden_outputs(p, x)
    # last hidden layer: its output weight times its activation
    for k in range(3, 6):
        np.testing.assert_allclose(m.neuron_contribution(p, k, x), p[-4 + (k - 3)] * H[k],
                                   atol=1e-14)
    # first layer: the output minus the output without it
    off = p.copy()
    off[6 + 0:6 + 9:3] = 0.0  # W2[:, 0]
    np.testing.assert_allclose(m.neuron_contribution(p, 0, x), m.predict(p, x) - m.predict(off, x))
    with pytest.raises(ValueError, match="no hidden neuron 6"):
        m.neuron_contribution(p, 6, x)


def test_live_slice_of_a_deep_slice_stays_within_its_work():
    from gdviz.core import problems as P
    from gdviz.core.models import slice_work

    data = FitData(target="sine", model="network", units=32, layers=4, points=300)
    problem = data.build(fast=True)
    m = problem.model
    n = problem.x.shape[0]
    assert slice_work(m, m.n_params - 2, m.n_params - 1, n) == n * 33  # the output layer
    assert slice_work(m, 0, m.n_params - 1, n) == n * m.n_params  # the whole network
    p = data.init_params()
    sl = FitSlice(problem, 0, 1, lambda: p, FitSlice.view_around(p, 0, 1))
    calls = []
    real = P.M.slice_grid

    def spy(model, params, i, j, ri, rj, nx, ny, *a, **kw):
        calls.append((nx, ny))
        return real(model, params, i, j, ri, rj, nx, ny, *a, **kw)

    P.M.slice_grid = spy
    try:
        z = sl.grid(-1.0, 1.0, -1.0, 1.0, 64, 48)
    finally:
        P.M.slice_grid = real
    assert z.shape == (48, 64) and np.isfinite(z).all()
    (mx, my), = calls
    assert mx * my * slice_work(m, 0, 1, n) <= P.NET_SLICE_WORK and mx >= 2 and my >= 2
    # exact at the coarse grid's corners
    pp = p.copy()
    pp[0], pp[1] = -1.0, -1.0
    assert z[0, 0] == pytest.approx(problem.loss(pp[None])[0], rel=1e-12)
    pp[0], pp[1] = 1.0, 1.0
    assert z[-1, -1] == pytest.approx(problem.loss(pp[None])[0], rel=1e-12)


@pytest.mark.parametrize("shape", [(31, 31, 96, 96), (5, 7, 13, 11), (2, 2, 9, 9), (29, 31, 100, 128)])
def test_slice_resample_is_np_interp_row_then_column(shape):
    # a coarse exact slice is resampled bilinearly in one go; np.interp along the rows and
    # then the columns is the reference, NaN cells (a diverged corner) included
    from gdviz.core.problems import _resample

    my, mx, ny, nx = shape
    rng = np.random.default_rng(my * nx)
    z = rng.normal(size=(my, mx)) * 10.0
    z[rng.uniform(size=z.shape) < 0.1] = np.nan
    tx, ty = np.linspace(0.0, mx - 1.0, nx), np.linspace(0.0, my - 1.0, ny)
    rows = np.array([np.interp(tx, np.arange(mx), r) for r in z])
    ref = np.array([np.interp(ty, np.arange(my), c) for c in rows.T]).T
    out = _resample(z, nx, ny)
    assert out.shape == (ny, nx)
    np.testing.assert_array_equal(out, ref)


def test_slice_resample_of_values_near_overflow_warns_nothing():
    # neighbours of -1e308 and 1e308 differ by more than a float64 holds: the difference
    # overflows to inf quietly (a RuntimeWarning was printed), as np.interp's own does
    import warnings

    from gdviz.core.problems import _resample

    z = np.array([[-1e308, 1e308, -1e308], [1e308, -1e308, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out = _resample(z, 7, 5)
    assert out.shape == (5, 7)
    assert out[0, 0] == -1e308 and out[0, -1] == -1e308 and out[-1, -1] == 0.0
