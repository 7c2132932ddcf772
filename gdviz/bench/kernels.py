"""Kernel entries of ``gdviz bench``: each numba kernel beside its numpy twin or a library.

No Qt here: the contour entry's pyqtgraph baseline is timed by :mod:`gdviz.bench.ui`,
imported only when that row is made. numba itself is reached through
:mod:`gdviz.kernels` (``kernels.num_threads``), so numba stays inside ``kernels/``.
"""

from __future__ import annotations

import time

import numpy as np

from gdviz import kernels
from gdviz.bench.timing import best_ms


def bench_grid_eval(n: int = 512, repeats: int = 50) -> dict:
    """``grid-eval``: rosenbrock on n×n, the kernel vs vectorised numpy, best of ``repeats``."""
    from gdviz.kernels.surfaces import SURFACE_IDS, grid_eval, grid_eval_np

    sid = SURFACE_IDS["rosenbrock"]
    box = (-2.0, 2.0, -1.0, 3.0)
    ours_out = np.empty((n, n))
    base_out = np.empty((n, n))
    grid_eval(sid, *box, ours_out)  # compile (or load from cache) before timing
    grid_eval_np(sid, *box, base_out)
    ours = best_ms(lambda: grid_eval(sid, *box, ours_out), repeats)
    base = best_ms(lambda: grid_eval_np(sid, *box, base_out), repeats)
    # the serial figure too: a parallel kernel slows down a lot when another process holds
    # a core, and this tells a busy machine apart from a slow kernel
    with kernels.num_threads(1) as threads:
        serial = best_ms(lambda: grid_eval(sid, *box, ours_out), repeats)
    return dict(name="grid-eval", ours_ms=ours, baseline="numpy", baseline_ms=base,
                ratio=base / ours, size=f"{n}x{n}", threads=threads,
                one_thread_ms=round(serial, 4))


def bench_optimizer_step(n_runs: int = 65_536, steps: int = 200, repeats: int = 3) -> dict:
    """``optimizer-step``: Adam on rosenbrock, ``n_runs`` x ``steps``: fused kernel vs numpy twin."""
    from gdviz.core.engine import RunSet
    from gdviz.core.optimizers import make_optimizer
    from gdviz.core.surfaces import Landscape

    land = Landscape.from_surface("rosenbrock")
    rng = np.random.default_rng(0)
    starts = np.column_stack([rng.uniform(-2, 2, n_runs), rng.uniform(-1, 3, n_runs)])
    cfg = make_optimizer("adam", lr=0.01)

    def timed(fast: bool, reps: int) -> float:
        # a fresh RunSet per repeat, built outside the timing: only advance() is measured
        best = float("inf")
        for _ in range(reps):
            rs = RunSet(land, [cfg], starts, total_steps=steps, record=False, fast=fast)
            t0 = time.perf_counter()
            rs.advance(steps)
            best = min(best, time.perf_counter() - t0)
        return best * 1e3

    RunSet(land, [cfg], starts[:4], record=False, fast=True).advance(2)  # warm (compile)
    ours = timed(True, repeats)
    base = timed(False, 1)
    return dict(name="optimizer-step", ours_ms=ours, baseline="numpy", baseline_ms=base,
                ratio=base / ours)


def bench_contour() -> list[dict]:
    """``contour``: 20 log-spaced levels on a 512x512 Rosenbrock grid, ours vs contourpy and
    vs pyqtgraph's ``isocurve`` (what ``IsocurveItem`` runs at paint time).

    Returns one row per baseline. contourpy is a test-only dependency: without it only
    the pyqtgraph row is returned.
    """
    from gdviz.kernels.contour import contour_segments, nice_levels

    n, n_levels = 512, 20
    x0, x1, y0, y1 = -2.0, 2.0, -1.0, 3.0
    x = np.linspace(x0, x1, n)
    y = np.linspace(y0, y1, n)
    X, Y = np.meshgrid(x, y)
    z = np.ascontiguousarray((1 - X) ** 2 + 100 * (Y - X ** 2) ** 2)
    levels = nice_levels(z, n_levels, log=True)

    def ours():
        contour_segments(z, x0, x1, y0, y1, levels, fast=True)

    ours()  # compile or load from cache
    ours_ms = best_ms(ours, 30)
    rows = []
    try:
        import contourpy
    except ImportError:
        contourpy = None
    if contourpy is not None:
        def cpy():
            gen = contourpy.contour_generator(x, y, z, name="serial", corner_mask=False,
                                              line_type=contourpy.LineType.SeparateCode)
            for lev in levels:
                gen.lines(lev)

        ms = best_ms(cpy, 10)
        rows.append(dict(name="contour", ours_ms=ours_ms, baseline="contourpy",
                         baseline_ms=ms, ratio=ms / ours_ms))

    from gdviz.bench.ui import isocurve_ms  # Qt: only for this baseline

    ms = isocurve_ms(z, levels, repeats=1)
    rows.append(dict(name="contour", ours_ms=ours_ms, baseline="pyqtgraph-isocurve",
                     baseline_ms=ms, ratio=ms / ours_ms))
    return rows


def _adam_step_loop(K: int = 10, N: int = 200, fast: bool = True):
    """A closure doing one full-batch Adam step per call (loss_grad kernel + opt_step)."""
    from gdviz.core.models import FitModel
    from gdviz.kernels import models as km
    from gdviz.kernels import optim as ko

    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-2.0, 2.0, N))
    y = np.sin(np.pi * x) + 0.1 * rng.normal(size=N)
    model = FitModel("units", "sigmoid", K)
    p = model.n_params
    params = model.init_params(0, (-2.0, 2.0), (-1.0, 1.0))[None, :].copy()
    out = np.empty_like(params)
    idx = np.arange(N, dtype=np.int64)
    kind = np.array([ko.ADAM], dtype=np.int64)
    hyper = np.zeros((1, ko.N_HYPER))
    hyper[0, ko.H_LR] = 1e-3
    hyper[0, ko.H_BETA1] = 0.9
    hyper[0, ko.H_BETA2] = 0.999
    hyper[0, ko.H_EPS] = 1e-8
    sk = np.zeros(1, dtype=np.int64)
    sp = np.ones((1, ko.N_SCHED))
    state = np.zeros((1, 3, p))
    opt_t = np.zeros(1, dtype=np.int64)
    active = np.ones(1, dtype=np.bool_)
    L, G = np.empty(1), np.empty((1, p))
    g_out, ss_out, lr_out = np.empty((1, p)), np.empty((1, p)), np.empty(1)
    lg = km.loss_grad if fast else km.loss_grad_np
    step = ko.opt_step if fast else ko.opt_step_np
    t = [0]
    bufs = [params, out]

    def one():
        t[0] += 1
        cur, nxt = bufs
        lg(km.UNITS, km.SIGMOID, K, km.MSE, cur, x, y, idx, L, G)
        step(kind, hyper, sk, sp, 1_000_000, t[0], cur, G, state, opt_t, active, nxt, g_out,
             ss_out, lr_out)
        bufs.reverse()

    return one, model, x, y


def bench_fit_step() -> dict:
    """``fit-step``: one full-batch Adam step, K = 10 sigmoid units, N = 200 points, numba vs
    numpy twin.

    ``ours_ms`` times a tight Python loop of two kernel calls per step (the loss_grad kernel
    and kernels.optim.opt_step); ``runset_ms`` the same step through RunSet.advance (the
    engine's generic data-problem path)."""
    from gdviz.core.data import Dataset
    from gdviz.core.engine import RunSet
    from gdviz.core.models import FitProblem
    from gdviz.core.optimizers import make_optimizer

    ours, model, x, y = _adam_step_loop(fast=True)
    ours()  # compile
    base, _, _, _ = _adam_step_loop(fast=False)
    ours_ms = best_ms(ours, 5, 2000)
    base_ms = best_ms(base, 3, 200)
    res = dict(name="fit-step", ours_ms=ours_ms, baseline="numpy", baseline_ms=base_ms,
               ratio=base_ms / ours_ms, steps_per_s=1e3 / ours_ms)
    problem = FitProblem(model, Dataset(x, y, 0.0), "mse", fast=True)
    runs = RunSet(problem, [make_optimizer("adam")], problem.init_params(0)[None, :],
                  total_steps=100_000, fast=True)
    runs.advance(10)
    res["runset_ms"] = best_ms(lambda: runs.advance(2000), 1) / 2000
    res["runset_steps_per_s"] = 1e3 / res["runset_ms"]
    return res


def bench_batch_surface() -> dict:
    """``batch-surface``: the mini-batch loss surface of y = b + w·x, 256x256, batch 32, numba
    vs numpy twin (the MSE row; the MAE figures as extra keys)."""
    from gdviz.core.data import linear_regression_data
    from gdviz.core.models import LinearRegressionProblem

    x, y = linear_regression_data(200, 2.0, 1.0, 0.5, 0)
    res = {}
    for loss in ("mse", "mae"):
        prob = LinearRegressionProblem(x, y, loss, batch_size=32, seed=0)
        idx = prob.batch_at(3)
        v = prob.view
        prob.grid(*v, 256, 256, idx, fast=True)  # compile
        res[loss] = (best_ms(lambda: prob.grid(*v, 256, 256, idx, fast=True), 5, 20),
                     best_ms(lambda: prob.grid(*v, 256, 256, idx, fast=False), 3, 3))
    ours_ms, base_ms = res["mse"]
    return dict(name="batch-surface", ours_ms=ours_ms, baseline="numpy", baseline_ms=base_ms,
                ratio=base_ms / ours_ms, mae_ms=res["mae"][0], mae_baseline_ms=res["mae"][1])


def bench_data_advance(steps: int = 2000) -> dict:
    """``data-advance``: 2,000 steps of a race of 4 runs on a curve fit (K = 10 ReLU units,
    N = 200 points, mini-batches of 32), through RunSet.advance: the fused kernel
    (kernels.datastep.advance_data) vs the step-at-a-time path it replaced (numba model and
    optimizer kernels called from Python once per step; ``numpy_ms``: all numpy twins)."""
    from gdviz.core.data import make_dataset
    from gdviz.core.engine import RunSet
    from gdviz.core.models import FitProblem, make_model
    from gdviz.core.optimizers import make_optimizer

    problem = FitProblem(make_model("relu", K=10), make_dataset("sine", 250, 0.1, 0),
                         batch_size=32, seed=0)

    class Unfused:  # the same problem without the fused hook
        def __getattr__(self, name):
            if name == "fused_model":
                raise AttributeError(name)
            return getattr(problem, name)

    configs = [make_optimizer(n) for n in ("sgd", "rmsprop", "adam", "adamw")]
    start = problem.init_params(0)[None, :]

    def timer(prob, fast, k):
        def run():
            rs = RunSet(prob, configs, start, total_steps=100_000, fast=fast, record=True)
            rs.advance(k)
        return run

    timer(problem, True, 10)()  # compile
    ours_ms = best_ms(timer(problem, True, steps), 5)
    base_ms = best_ms(timer(Unfused(), True, steps), 3)
    np_ms = best_ms(timer(Unfused(), False, steps // 10), 1) * 10
    return dict(name="data-advance", ours_ms=ours_ms, baseline="step-at-a-time",
                baseline_ms=base_ms, ratio=base_ms / ours_ms, numpy_ms=np_ms,
                steps_per_s=4 * steps / ours_ms * 1e3)
