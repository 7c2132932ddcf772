"""Each lesson's caption, checked numerically over the lesson's full length.

Every test loads a shipped preset headless (scene + Session, no Qt), plays it to its
``max_steps`` and checks what its caption claims; each assertion cites the caption
sentence it checks. A preset edit that breaks a lesson fails here.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gdviz.core.scene import apply_scene, load_scene, preset_paths
from gdviz.core.session import Session


def lesson(name: str):
    """The shipped preset whose file name starts with ``name`` (L04, default_...)."""
    for p in preset_paths():
        if p.stem.startswith(name):
            return load_scene(p)
    raise AssertionError(f"no preset {name}")


def play(scene, steps: int | None = None) -> Session:
    """A session with ``scene`` applied, played to ``steps`` (default: its max_steps)."""
    s = Session()
    apply_scene(scene, s)
    s.step(scene.playback.max_steps if steps is None else steps)
    return s


def run_index(scene, run_id: str) -> int:
    return [r.id for r in scene.runs].index(run_id)


def path_length(p: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum())


def with_fit(scene, **changes):
    return dataclasses.replace(scene, fit=dataclasses.replace(scene.fit, **changes))


def roughness(s: Session) -> float:
    """RMS second derivative of the fitted curve on [-2, 2]: how sharply it bends."""
    x = np.linspace(-2.0, 2.0, 401)
    y = np.asarray(s.problem.model.predict(s.positions()[0], x)).reshape(-1)
    return float(np.sqrt(np.mean(np.diff(y, 2) ** 2)) / (x[1] - x[0]) ** 2)


# ----------------------------------------------------------------------------- L1-L3: fitting


def test_l01_fit_by_hand():
    scene = lesson("L01")
    # "These 20 noisy points were drawn from 3x² + 2x + 1."
    assert (scene.fit.points, scene.fit.target, scene.fit.model) == (20, "quadratic", "quadratic")
    # "Playback is paused." ... "the loss, the mean absolute error (MAE)"
    assert not scene.playback.autoplay and scene.fit.loss == "mae"
    # "Press Play to let SGD with learning rate 0.01 do the nudging"
    assert (scene.fit.run.optimizer, scene.fit.run.lr) == ("sgd", 0.01)
    s = play(scene)
    loss = s.losses()[0]
    assert loss[-1] < 0.5 * loss[0]
    start, end = np.array(scene.fit.init), s.positions()[0]
    assert np.linalg.norm(end - [3, 2, 1]) < 0.5 * np.linalg.norm(start - [3, 2, 1])


def _grad_norm(s: Session, params) -> float:
    _, g = s.problem.loss_grad(np.atleast_2d(params), 0)
    return float(np.linalg.norm(g))


def test_l02_mse_gradient_shrinks_mae_does_not():
    scene = lesson("L02")
    assert scene.fit.loss == "mse"
    mse = play(scene)
    mae = play(with_fit(scene, loss="mae"))
    start = np.array(scene.fit.init)
    # "MSE makes a smooth bowl ... the gradient is big when the fit is bad and shrinks as
    # the fit gets close."
    assert _grad_norm(mse, mse.positions()[0]) < 0.1 * _grad_norm(mse, start)
    # "MAE makes a bowl with creases and straight walls: its gradient is about the same
    # size everywhere."
    g0, g1 = _grad_norm(mae, start), _grad_norm(mae, mae.positions()[0])
    assert 0.2 * g0 < g1 < 5 * g0


def test_l02_switching_the_loss_keeps_the_start():
    # "Switch the loss between MSE and MAE in the fit panel: the race starts again from the
    # same start, a = b = c = 1.1"
    scene = lesson("L02")
    s = play(scene, 100)
    assert s.update_data(loss="mae")
    assert s.t == 0 and s.data.loss == "mae"
    np.testing.assert_array_equal(s.starts[0], scene.fit.init)
    assert scene.fit.init == (1.1, 1.1, 1.1)


def test_l03_descends_to_the_minimum():
    scene = lesson("L03")
    s = play(scene)
    w_star = s.problem._minimum()
    p = s.param_trails()[0]
    # "follow the valley floor to the minimum w*, b*, where the slope is zero and the
    # parameters stop moving"
    assert np.linalg.norm(p[-1] - w_star) < 0.05 * np.linalg.norm(p[0] - w_star)
    assert np.linalg.norm(p[-1] - p[-2]) < 1e-3 * np.linalg.norm(p[1] - p[0])


# ----------------------------------------------------------------------------- L4-L6: steps


def test_l04_small_right_large():
    scene = lesson("L04")
    lrs = [r.opt.lr for r in scene.runs]
    # "identical except for the learning rate: ×0.1, ×1 and ×10"
    assert lrs[0] == pytest.approx(0.1 * lrs[1]) and lrs[2] == pytest.approx(10 * lrs[1])
    s = play(scene)
    small, right = s.losses()[0], s.losses()[1]
    # "Too large (×10): ... the run flies off the map and is marked diverged ✕"
    assert [r for r, _ in s.diverged()] == [2]
    # "About right (×1): it reaches the bottom in a couple of hundred steps."
    assert right[300] < 1e-3 * right[0]
    # "Too small (×0.1): ... still far from the bottom when time runs out."
    assert small[-1] > 100 * right[-1] and small[-1] > 0.01 * small[0]


def test_l05_each_start_ends_in_a_different_minimum():
    from gdviz.core.surfaces import SURFACES

    scene = lesson("L05")
    s = play(scene)
    minima = np.array(SURFACES["himmelblau"].minima)
    ends = s.positions()
    d = np.linalg.norm(ends[:, None, :] - minima[None], axis=2)
    # "starts from four points around the central peak, and each run ends in a different minimum"
    assert len(scene.starts) == 4 and sorted(np.argmin(d, axis=1)) == [0, 1, 2, 3]
    assert d.min(axis=1).max() < 1e-2
    # "On this surface the four valleys happen to be equally deep."
    assert np.allclose(s.losses()[0][-1], [L[-1] for L in s.losses()], atol=1e-6)


def test_l06_iterations_epochs_and_noisier_paths():
    scene = lesson("L06")
    s = play(scene)
    # "here 100 ÷ 10 = 10 iterations per epoch"
    c = s.counters()
    assert c["iteration"] == scene.playback.max_steps
    assert c["epoch"] == scene.playback.max_steps // 10
    # "a batch of 1 gives a very noisy path, a batch of 100 (the full batch) a smooth one"
    wobble = {}
    for bs in (1, 10, 100):
        p = play(dataclasses.replace(scene, batch_size=bs)).param_trails()[0]
        wobble[bs] = path_length(p[300:])  # moving around the minimum, once there
    assert wobble[1] > 2 * wobble[10] > 4 * wobble[100]


# ----------------------------------------------------------------------------- L7-L9, L13: fit


def test_l07_two_hard_sigmoids_fit_the_red_curve():
    scene = lesson("L07")
    assert (scene.fit.model, scene.fit.units) == ("hard-sigmoid", 2)
    s = play(scene)
    loss = s.losses()[0]
    # "until the sum lies on the data": down to the noise level
    assert loss[-1] < 2 * scene.fit.noise ** 2 and loss[-1] < 0.02 * loss[0]
    # "two ReLUs, max(0, z) − max(0, z − 1), make one hard sigmoid"
    from gdviz.core.models import make_model

    x = np.linspace(-3, 3, 61)
    relu = make_model("relu", 2).predict([0.0, 1.0, 0.0, 1.0, 1.0, -1.0, -1.0], x)
    hard = make_model("hard-sigmoid", 1).predict([0.0, 1.0, 0.0, 1.0], x)
    np.testing.assert_allclose(relu, hard, atol=1e-12)


def test_l08_more_units_fit_lower():
    scene = lesson("L08")
    assert scene.fit.units == 3
    k3 = play(scene).losses()[0]
    k10 = play(with_fit(scene, units=10)).losses()[0]
    # "however long it runs, three S-shaped pieces cannot follow two full waves, so the
    # curve stays too simple and the loss stops falling"
    assert k3[-1] > 3 * scene.fit.noise ** 2
    assert k3[-1] > 0.8 * k3[len(k3) // 2]
    # "with more blue functions the model is more flexible and the training loss can go
    # much lower"
    assert k10[-1] < 0.5 * k3[-1]


def test_l09_validation_loss_turns_up_while_training_loss_falls():
    scene = lesson("L09")
    s = play(scene)
    train, val = s.losses()[0], s.val_losses()[0]
    # "15% ... the validation set" is now 30%, 15 points: enough for a clear curve
    assert s.problem.x_val.shape[0] >= 15
    best = int(np.argmin(val))
    # "At first both fall."
    assert val[best] < 0.2 * val[0] and train[best] < 0.2 * train[0]
    # "Then the training loss keeps falling ... while the validation loss turns and climbs"
    assert best < len(val) // 4
    assert train[-1] < 0.7 * train[best]
    assert val[-1] > 4 * val[best]
    assert np.all(np.diff(val[len(val) // 2:]) > -1e-3 * val[best])  # it climbs, it does not dip back
    # "With too few units (try K = 1) you get underfitting instead: both losses stay high,
    # far above that lowest validation loss."
    k1 = play(with_fit(scene, units=1, linked=("c1", "w1")))
    assert k1.val_losses()[0].min() > 2 * val[best]
    assert k1.losses()[0][-1] > 5 * train[-1]


def test_l13_weight_decay_keeps_weights_small_and_the_fit_smooth():
    l9, l13 = lesson("L09"), lesson("L13")
    # "Same data and model as L9 (50 points, 30 sigmoid units)"
    assert with_fit(l13, weight_decay=0.0).fit == l9.fit
    assert l13.fit.weight_decay > 0 and l13.fit.run.optimizer == "adam"
    s9, s13 = play(l9), play(l13)
    # "Adam adds weight_decay × w to the gradient of every parameter w" (torch's Adam)
    cfg = s13.specs[0].config
    assert (cfg.name, cfg.weight_decay) == ("adam", l13.fit.weight_decay)
    # "the weights stay small, ‖w‖ ends far below L9's, and the curve stays smooth"
    assert s13.weight_norms()[0][-1] < 0.5 * s9.weight_norms()[0][-1]
    assert roughness(s13) < 0.2 * roughness(s9)
    # "Watch the validation loss: it no longer climbs the way it did in L9."
    v9, v13 = s9.val_losses()[0], s13.val_losses()[0]
    assert v13[-1] < 1.5 * v13.min()
    assert v13[-1] < 0.5 * v9[-1]


# ----------------------------------------------------------------------------- L10-L12: optimizers


def test_l10_ranking():
    scene = lesson("L10")
    s = play(scene)
    losses = {r.id: s.losses()[i] for i, r in enumerate(scene.runs)}
    trails = {r.id: s.param_trails()[i] for i, r in enumerate(scene.runs)}

    def reach(run_id, level=1e-3):
        return int(np.argmax(losses[run_id] < level * losses[run_id][0]))

    assert all(L[-1] < 1e-3 * L[0] for L in losses.values())
    # "Plain SGD ... crawls along the gentle floor": the last to get there
    assert reach("sgd") > max(reach(k) for k in ("momentum", "rmsprop", "adam"))
    # "Momentum ... overshoots, swinging past the minimum before it settles"
    x = trails["momentum"][:, 0]
    assert scene.starts[0][0] < 0 and x.max() > 0.1 * abs(scene.starts[0][0])
    # "RMSProp ... heads almost straight for the minimum"
    straight = np.linalg.norm(trails["rmsprop"][0])
    assert path_length(trails["rmsprop"]) < 1.3 * straight
    assert path_length(trails["rmsprop"]) < path_length(trails["momentum"])


def test_l11_momentum_averages_the_news():
    scene = lesson("L11")
    mom = scene.runs[run_index(scene, "momentum")].opt
    # "m ← 0.9·m + 0.1·g": torch's momentum 0.9 with dampening 0.9
    assert (mom.momentum, mom.dampening) == (0.9, 0.9)
    assert scene.noise > 0 and scene.playback.step_mode_run == "momentum"
    s = play(scene)
    d = s.details(run_index(scene, "momentum"))
    prev = s.details(run_index(scene, "momentum"), s.t - 1)
    np.testing.assert_allclose(d["m"], 0.9 * prev["m"] + 0.1 * d["g"], rtol=1e-9, atol=1e-12)
    trails = s.param_trails()
    # "Momentum's path is calm and much shorter"
    assert path_length(trails[run_index(scene, "momentum")]) < 0.5 * path_length(
        trails[run_index(scene, "sgd")])


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_l12_one_cycle_settles_nearer_the_minimum(seed):
    scene = dataclasses.replace(lesson("L12"), seed=seed)
    const, cycle = run_index(scene, "constant"), run_index(scene, "onecycle")
    # "one keeps a constant learning rate of 0.08, the other follows one-cycle up to the
    # same peak"
    assert scene.runs[const].opt.lr == scene.runs[cycle].opt.lr == 0.08
    assert [r.opt.schedule.kind for r in scene.runs] == ["constant", "one-cycle"]
    s = play(scene)
    assert not s.diverged()
    # "so it settles at the bottom while the constant-lr run keeps rattling around it.
    # Compare the two loss curves near the end."
    end = np.linalg.norm(s.positions(), axis=1)  # the minimum is (0, 0)
    assert end[cycle] < end[const]
    L = s.losses()
    assert L[cycle][-1] < 0.5 * L[const][-1]
    tail = len(L[const]) // 10
    assert np.mean(L[cycle][-tail:]) < 0.5 * np.mean(L[const][-tail:])


# ----------------------------------------------------------------------------- L14, L15, default


def test_l14_sgd_lingers_momentum_escapes():
    scene = lesson("L14")
    # "Both runs start almost exactly on the ridge line, at y = 0.001."
    assert scene.starts[0][1] == pytest.approx(1e-3)
    s = play(scene)
    sgd, mom = (s.param_trails()[run_index(scene, k)] for k in ("sgd", "momentum"))

    def escape(p):
        out = np.nonzero(np.abs(p[:, 1]) > 1.0)[0]
        return int(out[0]) if out.size else None

    # "Momentum ... escapes much sooner"; "Plain SGD slides along x towards the saddle and
    # then stalls"
    assert escape(mom) is not None and escape(sgd) is None
    assert np.abs(sgd[-1]).max() < 0.1
    assert abs(sgd[-1][0]) < 0.05 * abs(sgd[0][0])


def test_l15_each_step_covers_twenty_percent():
    scene = lesson("L15")
    assert scene.runs[0].opt.lr == 0.1
    s = play(scene)
    p = s.param_trails()[0]
    # "with η = 0.1 every step covers exactly 20% of the remaining way to the minimum at (0, 0)"
    np.testing.assert_allclose(p[1:], 0.8 * p[:-1], rtol=1e-12, atol=1e-300)
    # "∂L/∂x = 2x and ∂L/∂y = 2y"
    d = s.details(0, 5)
    np.testing.assert_allclose(d["g"], 2 * p[4], rtol=1e-12)


def test_default_race_sgd_creeps_adaptive_runs_keep_moving():
    scene = lesson("default_rosenbrock_race")
    s = play(scene)
    dist = {r.id: float(np.linalg.norm(s.positions()[i] - [1, 1])) for i, r in
            enumerate(scene.runs)}
    L = {r.id: s.losses()[i] for i, r in enumerate(scene.runs)}
    # "SGD drops into the valley quickly, then creeps along the nearly flat floor"
    sgd = L["sgd"]
    assert sgd[10] < 0.5 * sgd[0]  # into the valley: (1 - x)² is nearly all that is left
    assert sgd[300] > 0.8 * sgd[10]  # then 300 steps gain less than a fifth of it
    assert dist["sgd"] == max(dist.values())
    # "RMSProp and Adam ... keep moving briskly even where the slope is small"
    assert max(dist["rmsprop"], dist["adam"]) < 0.5 * dist["sgd"]
