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


def bench_net_step(points: int = 500, repeats: int = 5) -> list[dict]:
    """``net-step``: one full-batch Adam training step of a 2-8-8-1 ReLU classifier on
    ``points`` points (binary cross-entropy on the logit, float64): the loss and exact
    gradient (kernels.mlp) and the update (kernels.optim.opt_step), against the same step
    in torch (``nn.Sequential``, ``BCEWithLogitsLoss``, ``torch.optim.Adam``; the row is
    left out when torch is not installed: it is not a dependency) and against the numpy
    twins."""
    from gdviz.core.optimizers import make_optimizer
    from gdviz.kernels import mlp
    from gdviz.kernels import optim as K

    sizes = np.array([2, 8, 8, 1], dtype=np.int64)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(points, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.float64)
    idx = np.arange(points, dtype=np.int64)
    kind, hyper = make_optimizer("adam", lr=0.01).pack()
    kind_a = np.array([kind], dtype=np.int64)
    hyper_a = hyper[None, :]
    sk = np.zeros(1, dtype=np.int64)
    sp = np.zeros((1, K.N_SCHED))
    active = np.ones(1, dtype=bool)

    def stepper(loss_grad, opt_step):
        P = mlp.init_params(sizes, 0)[None, :].copy()
        p = P.shape[1]
        G = np.empty((1, p))
        state = np.zeros((1, K.N_SLOTS, p))
        opt_t = np.zeros(1, dtype=np.int64)
        out, gu, ss, lr = np.empty((1, p)), np.empty((1, p)), np.empty((1, p)), np.empty(1)
        t = [0]

        def step():
            t[0] += 1
            loss_grad(P[0], sizes, mlp.ACT_RELU, X, y, idx, mlp.LOSS_BCE_LOGITS, G[0])
            opt_step(kind_a, hyper_a, sk, sp, 10 ** 9, t[0], P, G, state, opt_t, active, out,
                     gu, ss, lr)
            P[...] = out
        return step

    ours = stepper(mlp.loss_grad, K.opt_step)
    ours()  # compile
    ours_ms = best_ms(ours, repeats, 200)
    rows = []
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(1)
        net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 8),
                                  torch.nn.ReLU(), torch.nn.Linear(8, 1)).double()
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        lossf = torch.nn.BCEWithLogitsLoss()
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)[:, None]

        def torch_step():
            opt.zero_grad()
            lossf(net(Xt), yt).backward()
            opt.step()
        torch_step()
        base = best_ms(torch_step, repeats, 200)
        rows.append(dict(name="net-step", ours_ms=ours_ms, baseline="torch", baseline_ms=base,
                         ratio=base / ours_ms, torch=torch.__version__))
    twin = stepper(mlp.loss_grad_np, K.opt_step_np)
    base = best_ms(twin, 3, 50)
    rows.append(dict(name="net-step", ours_ms=ours_ms, baseline="numpy", baseline_ms=base,
                     ratio=base / ours_ms, network="2-8-8-1", points=points))
    return rows
