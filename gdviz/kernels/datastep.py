"""Fused kernel for data problems: k optimizer steps on a curve fit or a regression per call.

The generic engine path (:func:`advance_generic`, plain numpy around two callables) asks the
problem for a mini-batch gradient, calls :func:`gdviz.kernels.optim.opt_step`, asks the
problem for the full-training-set loss of the new parameters and checks for divergence,
once per step, from Python: about 50 µs a step, whatever the model's size. For the models of
:mod:`gdviz.kernels.models` (linear, quadratic, sums of units; MSE or MAE) :func:`advance_data`
does the same k steps inside one numba call, with the same per-step order and the same
divergence rule, so the two paths give the same history. :func:`advance_generic` is its
numpy twin (with the numpy model and optimizer twins) and also what any other problem
(one with only ``loss_grad`` and ``loss``) runs on.

One step t (1-based), for every live run: g = the gradient on mini-batch t - 1 at the current
parameters; the optimizer update (schedule, state, bias correction exactly as in
:func:`gdviz.kernels.optim.opt_step`); f = the loss on the whole training set at the new
parameters. A step whose new parameters, g or f is non-finite, or whose |parameter| exceeds
``bound``, marks the run diverged at t (its state is not committed; ``bad`` gets the
offending row); otherwise the new values are committed and, if ``record`` and
t % stride == 0, written to row t // stride of the trajectory.

Mini-batches: step i of the call (0-based) uses ``bidx[boff[i]:boff[i + 1]]`` (indices into
x), or ``full`` when ``boff`` is empty (full-batch training). In full-batch training the
gradient of step t + 1 is the one the loss of step t computed at the same parameters on the
same points, so it is reused (the same numbers: the same function of the same inputs).

:func:`advance_net` is the same fused loop for the networks of :mod:`gdviz.kernels.mlp`
(classifiers, BCE on the logit; deeper fits, MSE or MAE): a classifier of 30 runs took
about 1.4 ms a step through :func:`advance_generic` (two calls of the runs' loss and
gradient, Python between). In full-batch training the gradient of step t + 1 is the one
the loss of step t computed at the same parameters on the same points, so it is reused
(the same numbers: the same function of the same inputs), which halves the work.
"""

from __future__ import annotations

import math

import numpy as np

from gdviz.kernels import register
from gdviz.kernels._jit import PARALLEL_WORK, jit, pjit, prange
from gdviz.kernels.mlp import _loss_grad_run as _net_loss_grad_run
from gdviz.kernels.models import _loss_grad_run
from gdviz.kernels.optim import (H_LR, opt_step, opt_step_np, scheduled_hyper,
                                 update_row)


_NO_CONV = np.full(0, -1, dtype=np.int64)


def _conv_args(conv_at, tol):
    """(conv_at, tol) as the kernels take them: an empty array and -1 when not asked."""
    if conv_at is None or tol is None or tol < 0:
        return _NO_CONV, -1.0
    return conv_at, float(tol)


@jit
def _mark_converged(r, t, tol, delta, g, conv_at):
    """conv_at[r] = t if row r's last step and gradient both have norm <= tol."""
    d2 = 0.0
    g2 = 0.0
    for j in range(delta.shape[1]):
        d2 += delta[r, j] * delta[r, j]
        g2 += g[r, j] * g[r, j]
    tol2 = tol * tol
    if d2 <= tol2 and g2 <= tol2:
        conv_at[r] = t


@jit
def _advance_data_run(r, mkind, unit, K, loss_kind, x, y, full, bidx, boff, kind, hyper,
                      sched_kind, sched_params, total, t0, k, bound, params, state, opt_t, loss,
                      gcur, diverged_at, record, stride, traj, traj_loss, grad, last_step_size,
                      last_delta, last_lr, bad, conv_at, tol):
    """Run ``r``'s ``k`` steps (row ``r`` of :func:`advance_data`'s arrays)."""
    p = params.shape[1]
    g = np.empty(p)
    g_full = np.empty(p)
    new = np.empty(p)
    ns = np.empty((3, p))
    gu = np.empty(p)
    ss = np.empty(p)
    kd = kind[r]
    h = hyper[r]
    batched = boff.shape[0] > 0
    have_full = False  # g_full: the full-batch gradient at params[r]
    for i in range(k):
        if diverged_at[r] >= 0:
            return
        t = t0 + i + 1
        if batched:
            _loss_grad_run(mkind, unit, K, loss_kind, params[r], x, y, bidx[boff[i]:boff[i + 1]],
                           g)
        elif have_full:
            for j in range(p):
                g[j] = g_full[j]
        else:
            _loss_grad_run(mkind, unit, K, loss_kind, params[r], x, y, full, g)
        lr, mom, b1 = scheduled_hyper(kd, h, sched_kind, sched_params, r, t, total)
        ot = opt_t[r] + 1
        update_row(kd, h, lr, mom, b1, ot, params[r], g, state[r], new, ns, gu, ss)
        f = _loss_grad_run(mkind, unit, K, loss_kind, new, x, y, full, g_full)
        ok = math.isfinite(f)
        for j in range(p):
            if not (math.isfinite(new[j]) and math.isfinite(g[j]) and abs(new[j]) <= bound):
                ok = False
        if not ok:
            diverged_at[r] = t
            for j in range(p):
                bad[r, j] = new[j]
            bad[r, p] = f
            return
        for j in range(p):
            last_delta[r, j] = new[j] - params[r, j]
            params[r, j] = new[j]
            gcur[r, j] = g[j]
            state[r, 0, j] = ns[0, j]
            state[r, 1, j] = ns[1, j]
            state[r, 2, j] = ns[2, j]
            grad[r, j] = gu[j]
            last_step_size[r, j] = ss[j]
        loss[r] = f
        opt_t[r] = ot
        last_lr[r] = lr
        have_full = True
        if tol >= 0.0 and conv_at[r] < 0:
            _mark_converged(r, t, tol, last_delta, gcur, conv_at)
        if record and t % stride == 0:
            row = t // stride
            for j in range(p):
                traj[r, row, j] = new[j]
            traj_loss[r, row] = f


@jit
def _advance_data_ser(mkind, unit, K, loss_kind, x, y, full, bidx, boff, kind, hyper,
                      sched_kind, sched_params, total, t0, k, bound, params, state, opt_t, loss,
                      gcur, diverged_at, record, stride, traj, traj_loss, grad, last_step_size,
                      last_delta, last_lr, bad, conv_at, tol):
    for r in range(params.shape[0]):
        _advance_data_run(r, mkind, unit, K, loss_kind, x, y, full, bidx, boff, kind, hyper,
                          sched_kind, sched_params, total, t0, k, bound, params, state, opt_t,
                          loss, gcur, diverged_at, record, stride, traj, traj_loss, grad,
                          last_step_size, last_delta, last_lr, bad, conv_at, tol)


@pjit
def _advance_data_par(mkind, unit, K, loss_kind, x, y, full, bidx, boff, kind, hyper,
                      sched_kind, sched_params, total, t0, k, bound, params, state, opt_t, loss,
                      gcur, diverged_at, record, stride, traj, traj_loss, grad, last_step_size,
                      last_delta, last_lr, bad, conv_at, tol):
    for r in prange(params.shape[0]):
        _advance_data_run(r, mkind, unit, K, loss_kind, x, y, full, bidx, boff, kind, hyper,
                          sched_kind, sched_params, total, t0, k, bound, params, state, opt_t,
                          loss, gcur, diverged_at, record, stride, traj, traj_loss, grad,
                          last_step_size, last_delta, last_lr, bad, conv_at, tol)


def advance_data(mkind, unit, K, loss_kind, x, y, full, bidx, boff, kind, hyper, sched_kind,
                 sched_params, total, t0, k, bound, params, state, opt_t, loss, gcur,
                 diverged_at, record, stride, traj, traj_loss, grad, last_step_size,
                 last_delta, last_lr, bad, conv_at=None, tol=-1.0):
    """Advance every live run by ``k`` steps (t0+1 .. t0+k) on a model of
    :mod:`gdviz.kernels.models` (``mkind``, ``unit``, ``K``, ``loss_kind``) fitted to x, y
    (float64 (N,)); ``full`` int64 the training indices; mini-batches ``bidx``/``boff`` as
    the module says. The optimizer arrays are :func:`gdviz.kernels.optim.opt_step`'s;
    loss (n,) is the full loss at params, gcur (n, p) the mini-batch gradient of the last
    step, grad (n, p) the gradient the optimizer used (with L2), bad (n, p + 1).

    A map (:func:`gdviz.core.maps.run_cells_problem`) also passes ``conv_at`` int64 (n,)
    and ``tol`` >= 0: a run's first step t whose step and mini-batch gradient both have
    norm <= tol is written there (if it holds -1). The race passes neither."""
    conv_at, tol = _conv_args(conv_at, tol)
    work = params.shape[0] * max(k, 1) * max(full.shape[0], 1)
    fn = _advance_data_par if params.shape[0] > 1 and work >= PARALLEL_WORK * 50 \
        else _advance_data_ser
    fn(mkind, unit, K, loss_kind, x, y, full, bidx, boff, kind, hyper, sched_kind, sched_params,
       total, t0, k, bound, params, state, opt_t, loss, gcur, diverged_at, record, stride, traj,
       traj_loss, grad, last_step_size, last_delta, last_lr, bad, conv_at, tol)


# ----------------------------------------------------------------------------- networks
@jit
def _advance_net_run(r, sizes, act, loss_kind, X, y, full, bidx, boff, kind, hyper,
                     sched_kind, sched_params, total, t0, k, bound, params, state, opt_t, loss,
                     gcur, diverged_at, record, stride, traj, traj_loss, grad, last_step_size,
                     last_delta, last_lr, bad, conv_at, tol):
    """Run ``r``'s ``k`` steps (row ``r`` of :func:`advance_net`'s arrays)."""
    p = params.shape[1]
    g = np.empty(p)
    g_full = np.empty(p)
    new = np.empty(p)
    ns = np.empty((3, p))
    gu = np.empty(p)
    ss = np.empty(p)
    kd = kind[r]
    h = hyper[r]
    batched = boff.shape[0] > 0
    have_full = False  # g_full: the full-batch gradient at params[r]
    for i in range(k):
        if diverged_at[r] >= 0:
            return
        t = t0 + i + 1
        if batched:
            _net_loss_grad_run(params[r], sizes, act, X, y, bidx[boff[i]:boff[i + 1]],
                               loss_kind, g)
        elif have_full:
            for j in range(p):
                g[j] = g_full[j]
        else:
            _net_loss_grad_run(params[r], sizes, act, X, y, full, loss_kind, g)
        lr, mom, b1 = scheduled_hyper(kd, h, sched_kind, sched_params, r, t, total)
        ot = opt_t[r] + 1
        update_row(kd, h, lr, mom, b1, ot, params[r], g, state[r], new, ns, gu, ss)
        f = _net_loss_grad_run(new, sizes, act, X, y, full, loss_kind, g_full)
        ok = math.isfinite(f)
        for j in range(p):
            if not (math.isfinite(new[j]) and math.isfinite(g[j]) and abs(new[j]) <= bound):
                ok = False
        if not ok:
            diverged_at[r] = t
            for j in range(p):
                bad[r, j] = new[j]
            bad[r, p] = f
            return
        for j in range(p):
            last_delta[r, j] = new[j] - params[r, j]
            params[r, j] = new[j]
            gcur[r, j] = g[j]
            state[r, 0, j] = ns[0, j]
            state[r, 1, j] = ns[1, j]
            state[r, 2, j] = ns[2, j]
            grad[r, j] = gu[j]
            last_step_size[r, j] = ss[j]
        loss[r] = f
        opt_t[r] = ot
        last_lr[r] = lr
        if tol >= 0.0 and conv_at[r] < 0:
            _mark_converged(r, t, tol, last_delta, gcur, conv_at)
        have_full = True
        if record and t % stride == 0:
            row = t // stride
            for j in range(p):
                traj[r, row, j] = new[j]
            traj_loss[r, row] = f


@jit
def _advance_net_ser(sizes, act, loss_kind, X, y, full, bidx, boff, kind, hyper, sched_kind,
                     sched_params, total, t0, k, bound, params, state, opt_t, loss, gcur,
                     diverged_at, record, stride, traj, traj_loss, grad, last_step_size,
                     last_delta, last_lr, bad, conv_at, tol):
    for r in range(params.shape[0]):
        _advance_net_run(r, sizes, act, loss_kind, X, y, full, bidx, boff, kind, hyper,
                         sched_kind, sched_params, total, t0, k, bound, params, state, opt_t,
                         loss, gcur, diverged_at, record, stride, traj, traj_loss, grad,
                         last_step_size, last_delta, last_lr, bad, conv_at, tol)


@pjit
def _advance_net_par(sizes, act, loss_kind, X, y, full, bidx, boff, kind, hyper, sched_kind,
                     sched_params, total, t0, k, bound, params, state, opt_t, loss, gcur,
                     diverged_at, record, stride, traj, traj_loss, grad, last_step_size,
                     last_delta, last_lr, bad, conv_at, tol):
    for r in prange(params.shape[0]):
        _advance_net_run(r, sizes, act, loss_kind, X, y, full, bidx, boff, kind, hyper,
                         sched_kind, sched_params, total, t0, k, bound, params, state, opt_t,
                         loss, gcur, diverged_at, record, stride, traj, traj_loss, grad,
                         last_step_size, last_delta, last_lr, bad, conv_at, tol)


def advance_net(sizes, act, loss_kind, X, y, full, bidx, boff, kind, hyper, sched_kind,
                sched_params, total, t0, k, bound, params, state, opt_t, loss, gcur,
                diverged_at, record, stride, traj, traj_loss, grad, last_step_size,
                last_delta, last_lr, bad, conv_at=None, tol=-1.0):
    """:func:`advance_data` for a network of :mod:`gdviz.kernels.mlp` (layer ``sizes``
    int64, activation ``act``, ``loss_kind`` an mlp loss) on inputs X float64 (N, d) and
    targets y (N,); the other arguments as :func:`advance_data`'s."""
    conv_at, tol = _conv_args(conv_at, tol)
    p = params.shape[1]
    work = params.shape[0] * max(k, 1) * max(full.shape[0], 1) * p
    fn = _advance_net_par if params.shape[0] > 1 and work >= PARALLEL_WORK * 8 \
        else _advance_net_ser
    fn(sizes, act, loss_kind, X, y, full, bidx, boff, kind, hyper, sched_kind, sched_params,
       total, t0, k, bound, params, state, opt_t, loss, gcur, diverged_at, record, stride, traj,
       traj_loss, grad, last_step_size, last_delta, last_lr, bad, conv_at, tol)


# ----------------------------------------------------------------------------- numpy twin
def advance_generic(grad_fn, loss_fn, kind, hyper, sched_kind, sched_params, total, t0, k,
                    bound, params, state, opt_t, loss, gcur, diverged_at, record, stride, traj,
                    traj_loss, grad, last_step_size, last_delta, last_lr, bad, fast=False,
                    conv_at=None, tol=-1.0):
    """The same k steps from Python: ``grad_fn(params (n, p), iteration) -> g (n, p)`` (the
    mini-batch gradient of update ``iteration``, 0-based) and ``loss_fn(params) -> (n,)``
    (the full loss). With the numpy model functions this is :func:`advance_data`'s twin; any
    data problem runs on it. ``fast`` picks the numba optimizer step (the gradients are the
    callables' business). ``conv_at``, ``tol``: as :func:`advance_data`'s."""
    conv_at, tol = _conv_args(conv_at, tol)
    n, p = params.shape
    step_fn = opt_step if fast else opt_step_np
    for i in range(k):
        t = t0 + i + 1
        active = diverged_at < 0
        if not active.any():
            continue
        g = np.ascontiguousarray(grad_fn(params.copy(), t - 1), dtype=np.float64).reshape(n, p)
        new = np.empty((n, p))
        g_out = grad.copy()
        ss = last_step_size.copy()
        lr = last_lr.copy()
        st = state.copy()
        ot = opt_t.copy()
        step_fn(kind, hyper, sched_kind, sched_params, total, t, params, g, st, ot, active, new,
                g_out, ss, lr)
        f = np.asarray(loss_fn(new.copy()), dtype=np.float64)
        with np.errstate(invalid="ignore"):
            ok = (np.isfinite(new).all(axis=1) & np.isfinite(g).all(axis=1) & np.isfinite(f)
                  & (np.abs(new) <= bound).all(axis=1))
        bad_rows = active & ~ok
        if bad_rows.any():
            diverged_at[bad_rows] = t
            bad[bad_rows, :p] = new[bad_rows]
            bad[bad_rows, p] = f[bad_rows]
        good = active & ok
        last_delta[good] = new[good] - params[good]
        params[good] = new[good]
        loss[good] = f[good]
        gcur[good] = g[good]
        state[good] = st[good]
        opt_t[good] = ot[good]
        grad[good] = g_out[good]
        last_step_size[good] = ss[good]
        last_lr[good] = lr[good]
        if tol >= 0:
            with np.errstate(invalid="ignore", over="ignore"):
                small = ((last_delta * last_delta).sum(axis=1) <= tol * tol) \
                    & ((g * g).sum(axis=1) <= tol * tol)
            conv_at[good & small & (conv_at < 0)] = t
        if record and t % stride == 0:
            traj[good, t // stride] = params[good]
            traj_loss[good, t // stride] = loss[good]


def advance_data_np(mkind, unit, K, loss_kind, x, y, full, bidx, boff, kind, hyper, sched_kind,
                    sched_params, total, t0, k, bound, params, state, opt_t, loss, gcur,
                    diverged_at, record, stride, traj, traj_loss, grad, last_step_size,
                    last_delta, last_lr, bad, conv_at=None, tol=-1.0):
    """numpy twin of :func:`advance_data` (same signature), through :func:`advance_generic`
    with the numpy model and optimizer twins."""
    from gdviz.kernels.models import loss_grad_np

    n, p = params.shape

    def _eval(P, idx):
        out_l = np.empty(P.shape[0])
        out_g = np.empty_like(P)
        loss_grad_np(mkind, unit, K, loss_kind, P, x, y, idx, out_l, out_g)
        return out_l, out_g

    def grad_fn(P, it):
        i = it - t0
        idx = full if boff.shape[0] == 0 else bidx[boff[i]:boff[i + 1]]
        return _eval(P, idx)[1]

    advance_generic(grad_fn, lambda P: _eval(P, full)[0], kind, hyper, sched_kind,
                    sched_params, total, t0, k, bound, params, state, opt_t, loss, gcur,
                    diverged_at, record, stride, traj, traj_loss, grad, last_step_size,
                    last_delta, last_lr, bad, conv_at=conv_at, tol=tol)


def advance_net_np(sizes, act, loss_kind, X, y, full, bidx, boff, kind, hyper, sched_kind,
                   sched_params, total, t0, k, bound, params, state, opt_t, loss, gcur,
                   diverged_at, record, stride, traj, traj_loss, grad, last_step_size,
                   last_delta, last_lr, bad, conv_at=None, tol=-1.0):
    """numpy twin of :func:`advance_net` (same signature), through :func:`advance_generic`
    with the numpy network and optimizer twins."""
    from gdviz.kernels.mlp import loss_grad_runs_np

    def _eval(P, idx):
        out_l = np.empty(P.shape[0])
        out_g = np.empty_like(P)
        loss_grad_runs_np(P, sizes, act, X, y, idx, loss_kind, out_l, out_g)
        return out_l, out_g

    def grad_fn(P, it):
        i = it - t0
        idx = full if boff.shape[0] == 0 else bidx[boff[i]:boff[i + 1]]
        return _eval(P, idx)[1]

    advance_generic(grad_fn, lambda P: _eval(P, full)[0], kind, hyper, sched_kind,
                    sched_params, total, t0, k, bound, params, state, opt_t, loss, gcur,
                    diverged_at, record, stride, traj, traj_loss, grad, last_step_size,
                    last_delta, last_lr, bad, conv_at=conv_at, tol=tol)


# ----------------------------------------------------------------------------- warmup / registry
def _warm_args(n=2):
    from gdviz.kernels.optim import N_HYPER, N_SCHED, SGD

    rng = np.random.default_rng(0)
    x = rng.normal(size=5)
    y = rng.normal(size=5)
    full = np.arange(5, dtype=np.int64)
    p = 4
    hyper = np.zeros((n, N_HYPER))
    hyper[:, H_LR] = 0.01
    return (2, 0, 1, 0, x, y, full, np.arange(4, dtype=np.int64),
            np.array([0, 2, 4], dtype=np.int64), np.full(n, SGD, dtype=np.int64), hyper,
            np.zeros(n, dtype=np.int64), np.zeros((n, N_SCHED)), 10, 0, 2, 1e6,
            np.zeros((n, p)), np.zeros((n, 3, p)), np.zeros(n, dtype=np.int64), np.zeros(n),
            np.zeros((n, p)), np.full(n, -1, dtype=np.int64), True, 1, np.zeros((n, 4, p)),
            np.zeros((n, 4)), np.zeros((n, p)), np.zeros((n, p)), np.zeros((n, p)), np.zeros(n),
            np.zeros((n, p + 1)), np.full(n, -1, dtype=np.int64), 1e-8)


def _readonly(a):
    a = a.copy()
    a.flags.writeable = False
    return a


def _typed_as_used(args, i_full):
    """The argument lists the engine passes: the training indices (``full``) are the
    sampler's read-only array, and so are the batch indices in full-batch training, but
    not a mini-batch's (numba compiles each of these separately: warm every one, so that
    none is compiled on the first step)."""
    full_ro = _readonly(args[i_full])
    a = list(args)
    a[i_full], a[i_full + 1] = full_ro, full_ro
    a[i_full + 2] = np.empty(0, dtype=np.int64)
    b = list(args)
    b[i_full] = full_ro
    return [a, b]


def _warm():
    for args in _typed_as_used(_warm_args(), 6):
        _advance_data_ser(*args)
        _advance_data_par(*args)


def _warm_net_args(n=2):
    a = _warm_args(n)
    sizes = np.array([2, 3, 1], dtype=np.int64)
    p = 13
    X = np.random.default_rng(1).normal(size=(5, 2))
    y = (X[:, 0] > 0).astype(np.float64)
    return ((sizes, 0, 1, X, y) + a[6:17] + (np.zeros((n, p)), np.zeros((n, 3, p))) + a[19:21]
            + (np.zeros((n, p)),) + a[22:25] + (np.zeros((n, 4, p)),) + a[26:27]
            + (np.zeros((n, p)), np.zeros((n, p)), np.zeros((n, p)), np.zeros(n),
               np.zeros((n, p + 1))) + a[-2:])


def _warm_net():
    for args in _typed_as_used(_warm_net_args(), 5):
        _advance_net_ser(*args)
        _advance_net_par(*args)


register("datastep.advance_data", advance_data, advance_data_np, _warm)
register("datastep.advance_net", advance_net, advance_net_np, _warm_net)
