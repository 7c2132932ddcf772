"""The map kernel against its numpy twin, and a map pixel against a real run."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gdviz.core import maps as CM
from gdviz.core.engine import RunSet
from gdviz.core.optimizers import make_optimizer
from gdviz.core.schedules import make_schedule
from gdviz.core.surfaces import Landscape
from gdviz.kernels import maps as KM

CONFIGS = [make_optimizer("sgd", lr=0.01), make_optimizer("momentum", lr=0.01),
           make_optimizer("nesterov", lr=0.005), make_optimizer("rmsprop", lr=0.01, momentum=0.5),
           make_optimizer("adagrad", lr=0.3), make_optimizer("adam", lr=0.1),
           make_optimizer("adamw", lr=0.1, amsgrad=True)]


def _land(name):
    if name == "expr":
        return Landscape.from_expr("sin(x)*cos(y) + 0.1*(x^2+y^2) + x*y^3")
    return Landscape.from_surface(name)


@pytest.mark.parametrize("surface", ["himmelblau", "rosenbrock", "expr"])
@pytest.mark.parametrize("noise", [0.0, 0.7])
def test_map_kernel_equals_twin(surface, noise):
    land = _land(surface)
    rng = np.random.default_rng(3)
    n = 70
    packs = [c.pack() for c in CONFIGS]
    pick = rng.integers(0, len(packs), n)
    kind = np.array([packs[i][0] for i in pick], dtype=np.int64)
    hyper = np.array([packs[i][1] for i in pick])
    hyper[:5, KM.H_LR] = 0.5  # some blow up
    kind[:5] = 0
    sk, sp = make_schedule("cosine").pack()
    skind = np.full(n, sk, dtype=np.int64)
    spar = np.broadcast_to(sp, (n, KM.N_SCHED)).copy()
    x0, x1, y0, y1 = land.view
    starts = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
    starts[5] = (0.0, 0.0)
    ns = np.full(n, noise)
    ns[::3] = 0.0
    outs = []
    for fn in (KM._map_ser, KM._map_par, KM.map_landscape_np):
        end, loss = np.empty((n, 2)), np.empty(n)
        conv, div = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
        fn(land.sid, land.code, land.consts, kind, hyper, skind, spar, 60, 80, ns, 4, 9,
           50.0, 1e-3, starts, end, loss, conv, div)
        outs.append((end, loss, conv, div))
    for other in outs[1:]:
        assert_allclose(other[0], outs[0][0], rtol=1e-11, atol=1e-13)
        assert_allclose(other[1], outs[0][1], rtol=1e-11, atol=1e-13)
        assert_array_equal(other[2], outs[0][2])
        assert_array_equal(other[3], outs[0][3])
    div = outs[0][3]
    assert (div > 0).any() and (div < 0).any()


@pytest.mark.parametrize("fn", ["_map_ser", "_map_par"])
def test_a_batch_equals_each_run_alone(fn):
    """The kernel steps a piece of runs together and computes a schedule, a noise draw and
    Adam's bias corrections once for the runs that share them: every run still equals,
    bit for bit, the same run in a call of its own (where nothing is shared)."""
    land = Landscape.from_surface("himmelblau")
    rng = np.random.default_rng(11)
    n = 150  # pieces of 64, 64 and 22 runs
    packs = [c.pack() for c in CONFIGS]
    pick = rng.integers(0, len(packs), n)
    pick[20:90] = 5  # a stretch of Adam runs: shared bias corrections ...
    kind = np.array([packs[i][0] for i in pick], dtype=np.int64)
    hyper = np.array([packs[i][1] for i in pick])
    hyper[40:50, KM.H_BETA1] = 0.8  # ... then other betas amid them (a beta map's rows)
    hyper[60:62, KM.H_BETA2] = 0.99
    hyper[:, KM.H_LR] *= rng.uniform(0.5, 2.0, n)
    hyper[:4, KM.H_LR] = 5.0  # some blow up
    scheds = [make_schedule(name).pack() for name in ("constant", "one-cycle", "cosine")]
    which = np.where(np.arange(n) < 100, 0, rng.integers(0, 3, n))
    which[70:75] = 1  # one-cycle cycles Adam's beta1: other bias corrections
    skind = np.array([scheds[i][0] for i in which], dtype=np.int64)
    spar = np.array([scheds[i][1] for i in which])
    x0, x1, y0, y1 = land.view
    starts = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
    ns = np.where(rng.uniform(size=n) < 0.5, 0.6, 0.0)

    def call(f, sl):
        m = len(range(n)[sl])
        out = (np.empty((m, 2)), np.empty(m), np.empty(m, dtype=np.int64),
               np.empty(m, dtype=np.int64))
        f(land.sid, land.code, land.consts, kind[sl], hyper[sl], skind[sl], spar[sl], 90, 120,
          ns[sl], 3, 7, 40.0, 1e-4, np.ascontiguousarray(starts[sl]), *out)
        return out

    batch = call(getattr(KM, fn), slice(None))
    alone = [call(KM._map_ser, slice(i, i + 1)) for i in range(n)]
    for k in range(4):
        assert_array_equal(batch[k], np.concatenate([a[k] for a in alone]))
    assert (batch[3] > 0).any() and (batch[3] < 0).any() and (batch[2] > 0).any()


def test_undefined_start_is_diverged_at_zero():
    land = Landscape.from_expr("log(x) + y^2")
    setup = CM.MapSetup(make_optimizer("sgd", lr=0.1), steps=5)
    for fast in (True, False):
        r = CM.run_cells(land, *setup.config.pack(), *setup.schedule.pack(),
                         np.array([[-1.0, 0.0], [1.0, 1.0]]), total=5, steps=5,
                         noise_std=0.0, fast=fast)
        assert list(r.diverged_at) == [0, -1]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.name)
@pytest.mark.parametrize("fast", [True, False])
def test_pixel_equals_a_real_run(config, fast):
    """A pixel is, bit for bit, the RunSet run from its start (noise, schedule included)."""
    land = Landscape.from_surface("himmelblau")
    sched = make_schedule("one-cycle") if config.name != "adagrad" else make_schedule("step")
    setup = CM.MapSetup(config, sched, steps=120, total=150, noise=0.8, batch_size=4,
                        seed=5, noise_run=2)
    m = CM.basin_map(land, setup, nx=6, ny=5, fast=fast)
    starts = CM.pixel_centres(land.view, 6, 5)
    for i in (0, 7, 29):
        # the selected run is run 2 of a race of three: its noise stream is (seed, 2)
        rs = RunSet(land, [config] * 3, np.array([[0.0, 0.0], [1.0, 1.0], starts[i]]),
                    schedules=sched, total_steps=150, noise=0.8, batch_size=4, seed=5,
                    record=False, fast=fast)
        rs.advance(120)
        if rs.diverged_at[2] >= 0:
            assert m.diverged_at[i] == rs.diverged_at[2]
        else:
            assert m.diverged_at[i] == -1
        assert_array_equal(m.end[i], rs.params[2])
        assert m.end_loss[i] == rs.loss[2]


def test_hyper_cell_equals_a_real_run():
    land = Landscape.from_surface("ellipse")
    setup = CM.MapSetup(make_optimizer("sgd", lr=0.01), steps=60, noise=0.3, seed=1)
    r, lrs, ys = CM.hyper_map(land, setup, (1.5, 1.0), "momentum", nx=5, ny=4)
    for i, j in ((0, 0), (3, 4), (2, 1)):
        cfg, bs = CM.config_at(setup.config, "momentum", lrs[j], ys[i])
        rs = RunSet(land, cfg, np.array([[1.5, 1.0]]), total_steps=60, noise=0.3, seed=1,
                    record=False)
        rs.advance(60)
        assert_array_equal(r.end[i * 5 + j], rs.params[0])
    r, lrs, ys = CM.hyper_map(land, setup, (1.5, 1.0), "batch_size", nx=3, ny=3)
    cfg, bs = CM.config_at(setup.config, "batch_size", lrs[2], ys[1])
    rs = RunSet(land, cfg, np.array([[1.5, 1.0]]), total_steps=60, noise=0.3, seed=1,
                batch_size=bs, record=False)
    rs.advance(60)
    assert_array_equal(r.end[1 * 3 + 2], rs.params[0])


def test_the_twin_says_nothing_of_a_gradient_too_big_to_square():
    """A finite gradient over 1e154 squares to inf in the convergence test: no RuntimeWarning
    (the GUI fuzz, on the twin before the kernels were ready: 2,000 "overflow encountered in
    multiply" on a map of a steep custom surface), and the twin still equals the kernel."""
    import warnings

    land = Landscape.from_expr("1e200*x^2 + y^2")
    n = 4
    kind, hyper = (np.tile(np.asarray(v), (n,) + (1,) * np.ndim(v))
                   for v in make_optimizer("sgd", lr=1e-203).pack())
    kind = np.asarray(kind, dtype=np.int64).reshape(n)
    sk, sp = make_schedule("constant").pack()
    skind = np.full(n, sk, dtype=np.int64)
    spar = np.broadcast_to(sp, (n, KM.N_SCHED)).copy()
    starts = np.array([[1.0, 1.0], [0.5, -1.0], [0.0, 1e-3], [-1.0, 0.0]])
    outs = []
    for fn in (KM._map_ser, KM.map_landscape_np):
        end, loss = np.empty((n, 2)), np.empty(n)
        conv, div = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            fn(land.sid, land.code, land.consts, kind, hyper, skind, spar, 20, 20,
               np.zeros(n), 0, 0, 1e6, 1e-3, starts, end, loss, conv, div)
        outs.append((end, loss, conv, div))
    assert_allclose(outs[1][0], outs[0][0], rtol=1e-12)
    assert_array_equal(outs[1][2], outs[0][2])
    assert_array_equal(outs[1][3], outs[0][3])
    assert (outs[0][3] < 0).all()  # none diverged: the steps stay small
