"""``gdviz bench`` entries of the network model (:mod:`gdviz.kernels.mlp`)."""

from __future__ import annotations

import numpy as np

from gdviz.bench.timing import best_ms


def bench_mlp_step() -> list[dict]:
    """``mlp-step``: the loss and exact gradient of one full-batch step, numba kernel vs its
    numpy twin: a 2-8-8-1 ReLU network on 500 points (MSE), and L19's deepest network,
    1-8-8-8-8-1, on 21 points. ``runset_ms`` is a whole Adam step of the first through
    the engine (RunSet.advance on a network FitProblem)."""
    from gdviz.core.data import Dataset
    from gdviz.core.engine import RunSet
    from gdviz.core.models import FitProblem, make_model
    from gdviz.core.optimizers import make_optimizer
    from gdviz.kernels import mlp

    rows = []
    for name, sizes, n in (("mlp-step", [2, 8, 8, 1], 500), ("mlp-step", [1, 8, 8, 8, 8, 1], 21)):
        sizes = np.array(sizes, dtype=np.int64)
        rng = np.random.default_rng(0)
        X = rng.normal(size=(n, int(sizes[0])))
        y = rng.normal(size=n)
        idx = np.arange(n, dtype=np.int64)
        p = mlp.init_params(sizes, 0)
        g = np.empty_like(p)
        mlp.loss_grad(p, sizes, mlp.ACT_RELU, X, y, idx, mlp.LOSS_MSE, g)  # compile
        ours = best_ms(lambda: mlp.loss_grad(p, sizes, mlp.ACT_RELU, X, y, idx, mlp.LOSS_MSE, g),
                       5, 500)
        base = best_ms(lambda: mlp.loss_grad_np(p, sizes, mlp.ACT_RELU, X, y, idx, mlp.LOSS_MSE,
                                                g), 3, 100)
        rows.append(dict(name=name, ours_ms=ours, baseline="numpy", baseline_ms=base,
                         ratio=base / ours, network="-".join(map(str, sizes)), points=n))
    # through the engine: 1-8-8-1 on 500 points (the fit panel's x is 1-D)
    x = np.linspace(-2.0, 2.0, 500)
    problem = FitProblem(make_model("network", 8, layers=2), Dataset(x, np.sin(2 * x), 0.0),
                         "mse", fast=True)
    runs = RunSet(problem, [make_optimizer("adam")], problem.init_params(0)[None, :],
                  total_steps=100_000, fast=True)
    runs.advance(10)
    rows[0]["runset_ms"] = best_ms(lambda: runs.advance(500), 1) / 500
    return rows
