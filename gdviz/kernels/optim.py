"""Optimizer kernels: torch.optim's SGD, RMSprop, Adagrad, Adam and AdamW over many runs.

Every run carries its own optimizer kind, hyperparameters, schedule and state, so one
call advances a heterogeneous set (three SGD learning rates racing Adam) as cheaply as
65,536 identical runs of a basin map.

Array layout (all C-contiguous; ``n`` runs, ``p`` parameters):

* ``kind``: int64 (n,), one of :data:`SGD`, :data:`RMSPROP`, :data:`ADAGRAD`, :data:`ADAM`,
  :data:`ADAMW` (the momentum and nesterov presets are SGD).
* ``hyper``: float64 (n, N_HYPER), columns ``H_*`` below (booleans stored as 0.0/1.0).
* ``sched_kind``: int64 (n,), one of ``SCHED_*``; ``sched_params``: float64 (n, N_SCHED),
  columns ``S_*``; ``total``: the schedule's length in steps (cosine's T_max, one-cycle's span).
* ``state``: float64 (n, 3, p), slot meaning per kind:

  ======== =============================== ========================= ===========
  kind     slot 0                          slot 1                    slot 2
  ======== =============================== ========================= ===========
  SGD      momentum buffer b               1.0 once b exists         --
  RMSPROP  square average v                momentum buffer b         grad average (centered)
  ADAGRAD  sum of squares s                --                        --
  ADAM(W)  first moment m                  second moment v           max v (amsgrad)
  ======== =============================== ========================= ===========

* ``opt_t``: int64 (n,), the optimizer's own step count (torch's ``state["step"]``); it
  restarts when a run switches optimizer kind. The schedule uses the global step ``t``.

The math is torch.optim's documented algorithm, float64, in the same operation order as
``tests/reference_optim.py``. Gradient noise is a counter-based hash of (seed, run, step,
coordinate), so the numba kernel and the numpy twin draw the same numbers, and a run's
noise does not depend on how many other runs share the call.
"""

from __future__ import annotations

import math

import numpy as np

from gdviz.kernels import register
from gdviz.kernels._jit import PARALLEL_WORK, ijit, jit, pjit, prange
from gdviz.kernels.expr import STACK_SIZE, program_vg_buf, program_vg_np
from gdviz.kernels.surfaces import surface_vg, surface_vg_np

# --- optimizer kinds -------------------------------------------------------------------
SGD = 0
RMSPROP = 1
ADAGRAD = 2
ADAM = 3
ADAMW = 4

# --- hyper columns ---------------------------------------------------------------------
H_LR = 0
H_MOMENTUM = 1
H_DAMPENING = 2
H_NESTEROV = 3
H_ALPHA = 4
H_EPS = 5
H_BETA1 = 6
H_BETA2 = 7
H_WEIGHT_DECAY = 8
H_LR_DECAY = 9
H_INITIAL_ACCUMULATOR_VALUE = 10
H_AMSGRAD = 11
H_CENTERED = 12
N_HYPER = 13

# --- schedules -------------------------------------------------------------------------
SCHED_CONSTANT = 0
SCHED_STEP = 1
SCHED_EXPONENTIAL = 2
SCHED_COSINE = 3
SCHED_ONE_CYCLE = 4

S_STEP_SIZE = 0
S_GAMMA = 1
S_PCT_START = 2
S_DIV = 3
S_DIV_FINAL = 4
S_MOM_START = 5
S_MOM_MID = 6
S_MOM_END = 7
N_SCHED = 8

N_SLOTS = 3

# splitmix64 constants (Steele, Lea & Flood 2014)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_ONE = np.uint64(1)
_TWO = np.uint64(2)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53
_TWO_PI = 2.0 * math.pi


# =======================================================================================
# scalar helpers (inlined into the kernels)
# =======================================================================================

@ijit
def _mix(z):
    """splitmix64 finaliser: a bijective, well-mixing uint64 -> uint64 hash."""
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@ijit
def gauss(seed, run, step, coord):
    """Standard normal number for (seed, run, step, coord), all int64 >= 0 (Box-Muller)."""
    h = _mix(_mix(_mix(np.uint64(seed)) ^ np.uint64(run)) ^ np.uint64(step))
    c = np.uint64(coord)
    a = _mix(h ^ (_TWO * c + _ONE))
    b = _mix(h ^ (_TWO * c + _TWO))
    u1 = float((a >> _S11) + _ONE) * _INV53  # (0, 1]: log never sees 0
    u2 = float(b >> _S11) * _INV53  # [0, 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)


@ijit
def _cos_sched(start, end, pos):
    """fast.ai's SchedCos: cosine from ``start`` (pos=0) to ``end`` (pos=1)."""
    return start + (1.0 + math.cos(math.pi * (1.0 - pos))) * (end - start) / 2.0


@ijit
def schedule_at(skind, step_size, gamma, pct, div, div_final, m0, m1, m2, t, total):
    """(lr factor, momentum is scheduled, scheduled momentum) for 1-based step ``t``."""
    e = float(t - 1)
    if skind == SCHED_STEP:
        return gamma ** float(math.floor(e / step_size)), False, 0.0
    if skind == SCHED_EXPONENTIAL:
        return gamma ** e, False, 0.0
    if skind == SCHED_COSINE:
        ee = e if e < total else float(total)
        return 0.5 * (1.0 + math.cos(math.pi * ee / total)), False, 0.0
    if skind == SCHED_ONE_CYCLE:
        pos = e / total
        if pos > 1.0:
            pos = 1.0
        if pos < pct:
            q = pos / pct
            return _cos_sched(1.0 / div, 1.0, q), True, _cos_sched(m0, m1, q)
        q = (pos - pct) / (1.0 - pct)
        return _cos_sched(1.0, 1.0 / div_final, q), True, _cos_sched(m1, m2, q)
    return 1.0, False, 0.0


@ijit
def bias_corrections(kind, b1, b2, ot):
    """Adam's (1 - beta1^t, 1 - beta2^t), computed once per run and step (pow is costly)."""
    if kind == ADAM or kind == ADAMW:
        return 1.0 - b1 ** float(ot), 1.0 - b2 ** float(ot)
    return 1.0, 1.0


@ijit
def update(kind, th, g, s0, s1, s2, ot, lr, mom, damp, nest, alpha, eps, b1, b2, wd,
           lr_decay, ams, centered, bc1, bc2):
    """One coordinate of one optimizer step.

    ``ot`` is the optimizer's 1-based step count, ``lr``/``mom``/``b1`` are already
    scheduled, ``bc1``/``bc2`` come from :func:`bias_corrections`. Returns (theta_new, s0, s1, s2, g_used, step_size), where ``g_used``
    includes L2 weight decay and ``step_size`` multiplies the update direction
    (g, the momentum buffer, or Adam's raw first moment m).
    """
    if kind == SGD:
        g = g + wd * th
        d = g
        if mom != 0.0:
            if s1 == 0.0:  # torch creates the buffer from the first gradient
                b = g
                s1 = 1.0
            else:
                b = mom * s0 + (1.0 - damp) * g
            s0 = b
            if nest:
                d = g + mom * b
            else:
                d = b
        return th - lr * d, s0, s1, s2, g, lr
    if kind == RMSPROP:
        g = g + wd * th
        s0 = alpha * s0 + (1.0 - alpha) * g * g
        vt = s0
        if centered:
            s2 = alpha * s2 + (1.0 - alpha) * g
            vt = s0 - s2 * s2
        den = math.sqrt(vt) + eps
        if mom > 0.0:
            s1 = mom * s1 + g / den
            return th - lr * s1, s0, s1, s2, g, lr / den
        return th - lr * (g / den), s0, s1, s2, g, lr / den
    if kind == ADAGRAD:
        clr = lr / (1.0 + float(ot - 1) * lr_decay)
        g = g + wd * th
        s0 = s0 + g * g
        den = math.sqrt(s0) + eps
        return th - clr * (g / den), s0, s1, s2, g, clr / den
    # ADAM, ADAMW
    if kind == ADAMW:
        th = th - lr * wd * th
    else:
        g = g + wd * th
    s0 = b1 * s0 + (1.0 - b1) * g
    s1 = b2 * s1 + (1.0 - b2) * g * g
    mhat = s0 / bc1
    if ams:
        if s1 > s2:
            s2 = s1
        vhat = s2 / bc2
    else:
        vhat = s1 / bc2
    den = math.sqrt(vhat) + eps
    return th - lr * (mhat / den), s0, s1, s2, g, lr / (bc1 * den)


@ijit
def _vg(sid, code, consts, x, y, stack):
    # program_vg would allocate its stack on every call; a run allocates it once.
    # Not for a kernel's step loop: an inlined function that takes arrays increments and
    # decrements their reference counts (atomically, on counts every thread shares) per
    # call, and the pair is not pruned around program_vg_buf's call. A loop branches on
    # sid itself, so a built-in surface's step touches no count (2-3x the map kernel).
    if sid >= 0:
        return surface_vg(sid, x, y)
    return program_vg_buf(code, consts, x, y, stack)


@ijit
def _stack_for(sid):
    """Scratch stack for expression programs (empty for built-in surfaces)."""
    return np.empty((3, STACK_SIZE if sid < 0 else 0))


@ijit
def _sched_run(sched_kind, sched_params, r, t, total):
    # element reads, not a row view: a view is a reference-count increment and decrement
    # (atomic, on a count every thread shares) in every step of every run
    return schedule_at(sched_kind[r], sched_params[r, S_STEP_SIZE], sched_params[r, S_GAMMA],
                       sched_params[r, S_PCT_START], sched_params[r, S_DIV],
                       sched_params[r, S_DIV_FINAL], sched_params[r, S_MOM_START],
                       sched_params[r, S_MOM_MID], sched_params[r, S_MOM_END], t, total)


# =======================================================================================
# generic kernel: any number of parameters, gradients supplied by the caller
# =======================================================================================

@ijit
def scheduled_hyper(kd, h, sched_kind, sched_params, r, t, total):
    """Run ``r``'s (lr, momentum, beta1) at step t: the schedule's lr factor, and one-cycle's
    momentum where the optimizer has momentum switched on (Adam's beta1)."""
    lrf, has_mom, momv = _sched_run(sched_kind, sched_params, r, t, total)
    return hyper_at(kd, h[H_LR], h[H_MOMENTUM], h[H_BETA1], lrf, has_mom, momv)


@ijit
def hyper_at(kd, lr0, mom0, b10, lrf, has_mom, momv):
    """(lr, momentum, beta1) from a run's own lr0, mom0, b10 and its schedule's
    (lr factor, momentum is scheduled, scheduled momentum) at a step (see
    :func:`scheduled_hyper`; the map kernel computes a schedule once for many runs)."""
    lr = lr0 * lrf
    mom = mom0
    b1 = b10
    if has_mom:  # one-cycle: only momentum that is switched on gets cycled
        if kd == ADAM or kd == ADAMW:
            if b1 > 0.0:
                b1 = momv
        elif mom > 0.0:
            mom = momv
    return lr, mom, b1


@ijit
def update_row(kd, h, lr, mom, b1, ot, theta, g, state, theta_out, state_out, g_out, ss_out):
    """One optimizer step of every coordinate of one run: theta, g (p,) and state (3, p) in;
    theta_out, state_out (may be ``state``), g_out (the gradient used, with L2) and ss_out
    (the step size) out. ``ot`` is the optimizer's step count after this step."""
    bc1, bc2 = bias_corrections(kd, b1, h[H_BETA2], ot)
    for j in range(theta.shape[0]):
        th, s0, s1, s2, gu, ss = update(
            kd, theta[j], g[j], state[0, j], state[1, j], state[2, j],
            ot, lr, mom, h[H_DAMPENING], h[H_NESTEROV] != 0.0, h[H_ALPHA], h[H_EPS], b1,
            h[H_BETA2], h[H_WEIGHT_DECAY], h[H_LR_DECAY], h[H_AMSGRAD] != 0.0,
            h[H_CENTERED] != 0.0, bc1, bc2)
        theta_out[j] = th
        state_out[0, j] = s0
        state_out[1, j] = s1
        state_out[2, j] = s2
        g_out[j] = gu
        ss_out[j] = ss


@jit
def _opt_step_run(r, kind, hyper, sched_kind, sched_params, total, t, params, grads, state, opt_t,
                  active, params_out, g_out, step_size_out, lr_out):
    """One run's optimizer step (row ``r`` of :func:`opt_step`'s arrays)."""
    p = params.shape[1]
    if not active[r]:
        for j in range(p):
            params_out[r, j] = params[r, j]
        return
    h = hyper[r]
    k = kind[r]
    lr, mom, b1 = scheduled_hyper(k, h, sched_kind, sched_params, r, t, total)
    ot = opt_t[r] + 1
    opt_t[r] = ot
    lr_out[r] = lr
    update_row(k, h, lr, mom, b1, ot, params[r], grads[r], state[r], params_out[r], state[r],
               g_out[r], step_size_out[r])


@pjit
def _opt_step_par(kind, hyper, sched_kind, sched_params, total, t, params, grads, state, opt_t,
                  active, params_out, g_out, step_size_out, lr_out):
    for r in prange(params.shape[0]):
        _opt_step_run(r, kind, hyper, sched_kind, sched_params, total, t, params, grads, state,
                      opt_t, active, params_out, g_out, step_size_out, lr_out)


@jit
def _opt_step_ser(kind, hyper, sched_kind, sched_params, total, t, params, grads, state, opt_t,
                  active, params_out, g_out, step_size_out, lr_out):
    for r in range(params.shape[0]):
        _opt_step_run(r, kind, hyper, sched_kind, sched_params, total, t, params, grads, state,
                      opt_t, active, params_out, g_out, step_size_out, lr_out)


def opt_step(kind, hyper, sched_kind, sched_params, total, t, params, grads, state, opt_t,
             active, params_out, g_out, step_size_out, lr_out):
    """Advance every active run by one optimizer step (global 1-based step ``t``).

    kind int64 (n,); hyper float64 (n, N_HYPER); sched_kind int64 (n,); sched_params
    float64 (n, N_SCHED); params, grads float64 (n, p); state float64 (n, 3, p) updated in
    place; opt_t int64 (n,) incremented in place; active bool (n,). Writes params_out
    (n, p) (inactive runs: a copy of params), g_out (n, p) (gradient used, with L2),
    step_size_out (n, p) and lr_out (n,) (scheduled lr).
    """
    n, p = params.shape
    fn = _opt_step_par if n * p >= PARALLEL_WORK else _opt_step_ser
    fn(kind, hyper, sched_kind, sched_params, total, t, params, grads, state, opt_t, active,
       params_out, g_out, step_size_out, lr_out)


# =======================================================================================
# fused 2-D kernel: k steps on a landscape per call
# =======================================================================================

@jit
def _advance_run(r, sid, code, consts, kind, hyper, sched_kind, sched_params, total, t0, k,
                 noise_std, seed, bound, params, state, opt_t, loss, grad, diverged_at,
                 record, stride, traj, traj_loss, last_g, last_step_size, last_delta,
                 last_lr, bad):
    """Run ``r``'s ``k`` steps (row ``r`` of :func:`advance_landscape`'s arrays)."""
    if diverged_at[r] >= 0:
        return
    kd = kind[r]
    h = hyper[r]
    damp = h[H_DAMPENING]
    nest = h[H_NESTEROV] != 0.0
    alpha = h[H_ALPHA]
    eps = h[H_EPS]
    b2 = h[H_BETA2]
    wd = h[H_WEIGHT_DECAY]
    lr_decay = h[H_LR_DECAY]
    ams = h[H_AMSGRAD] != 0.0
    centered = h[H_CENTERED] != 0.0

    x = params[r, 0]
    y = params[r, 1]
    f = loss[r]
    gx = grad[r, 0]
    gy = grad[r, 1]
    ax = state[r, 0, 0]
    bx = state[r, 1, 0]
    cx = state[r, 2, 0]
    ay = state[r, 0, 1]
    by = state[r, 1, 1]
    cy = state[r, 2, 1]
    ot = opt_t[r]
    lgx = last_g[r, 0]
    lgy = last_g[r, 1]
    lsx = last_step_size[r, 0]
    lsy = last_step_size[r, 1]
    ldx = last_delta[r, 0]
    ldy = last_delta[r, 1]
    llr = last_lr[r]
    stack = _stack_for(sid)
    for i in range(k):
        t = t0 + i + 1
        lr, mom, b1 = scheduled_hyper(kd, h, sched_kind, sched_params, r, t, total)
        nx = gx
        ny = gy
        if noise_std != 0.0:
            nx = gx + noise_std * gauss(seed, r, t, 0)
            ny = gy + noise_std * gauss(seed, r, t, 1)
        otn = ot + 1
        bc1, bc2 = bias_corrections(kd, b1, b2, otn)
        xn, axn, bxn, cxn, gux, ssx = update(kd, x, nx, ax, bx, cx, otn, lr, mom, damp,
                                             nest, alpha, eps, b1, b2, wd, lr_decay,
                                             ams, centered, bc1, bc2)
        yn, ayn, byn, cyn, guy, ssy = update(kd, y, ny, ay, by, cy, otn, lr, mom, damp,
                                             nest, alpha, eps, b1, b2, wd, lr_decay,
                                             ams, centered, bc1, bc2)
        if sid >= 0:  # not _vg in a step: see _vg
            fn, gxn, gyn = surface_vg(sid, xn, yn)
        else:
            fn, gxn, gyn = program_vg_buf(code, consts, xn, yn, stack)
        ok = (math.isfinite(xn) and math.isfinite(yn) and math.isfinite(fn)
              and math.isfinite(gxn) and math.isfinite(gyn)
              and abs(xn) <= bound and abs(yn) <= bound)
        if not ok:
            diverged_at[r] = t
            bad[r, 0] = xn
            bad[r, 1] = yn
            bad[r, 2] = fn
            break
        ldx = xn - x
        ldy = yn - y
        x = xn
        y = yn
        f = fn
        gx = gxn
        gy = gyn
        ax = axn
        bx = bxn
        cx = cxn
        ay = ayn
        by = byn
        cy = cyn
        ot = otn
        lgx = gux
        lgy = guy
        lsx = ssx
        lsy = ssy
        llr = lr
        if record and t % stride == 0:
            row = t // stride
            traj[r, row, 0] = x
            traj[r, row, 1] = y
            traj_loss[r, row] = f
    params[r, 0] = x
    params[r, 1] = y
    loss[r] = f
    grad[r, 0] = gx
    grad[r, 1] = gy
    state[r, 0, 0] = ax
    state[r, 1, 0] = bx
    state[r, 2, 0] = cx
    state[r, 0, 1] = ay
    state[r, 1, 1] = by
    state[r, 2, 1] = cy
    opt_t[r] = ot
    last_g[r, 0] = lgx
    last_g[r, 1] = lgy
    last_step_size[r, 0] = lsx
    last_step_size[r, 1] = lsy
    last_delta[r, 0] = ldx
    last_delta[r, 1] = ldy
    last_lr[r] = llr


@pjit
def _advance_par(sid, code, consts, kind, hyper, sched_kind, sched_params, total, t0, k,
                 noise_std, seed, bound, params, state, opt_t, loss, grad, diverged_at,
                 record, stride, traj, traj_loss, last_g, last_step_size, last_delta,
                 last_lr, bad):
    for r in prange(params.shape[0]):
        _advance_run(r, sid, code, consts, kind, hyper, sched_kind, sched_params, total, t0, k,
                     noise_std, seed, bound, params, state, opt_t, loss, grad, diverged_at,
                     record, stride, traj, traj_loss, last_g, last_step_size, last_delta,
                     last_lr, bad)


@jit
def _advance_ser(sid, code, consts, kind, hyper, sched_kind, sched_params, total, t0, k,
                 noise_std, seed, bound, params, state, opt_t, loss, grad, diverged_at,
                 record, stride, traj, traj_loss, last_g, last_step_size, last_delta,
                 last_lr, bad):
    for r in range(params.shape[0]):
        _advance_run(r, sid, code, consts, kind, hyper, sched_kind, sched_params, total, t0, k,
                     noise_std, seed, bound, params, state, opt_t, loss, grad, diverged_at,
                     record, stride, traj, traj_loss, last_g, last_step_size, last_delta,
                     last_lr, bad)


def advance_landscape(sid, code, consts, kind, hyper, sched_kind, sched_params, total, t0, k,
                      noise_std, seed, bound, params, state, opt_t, loss, grad, diverged_at,
                      record, stride, traj, traj_loss, last_g, last_step_size, last_delta,
                      last_lr, bad):
    """Advance every live run by ``k`` steps on a 2-D landscape (steps t0+1 .. t0+k).

    sid int64 (-1: use the expression program ``code`` int64 (m,), ``consts`` float64 (c,));
    kind/hyper/sched_kind/sched_params as in :func:`opt_step`; params float64 (n, 2);
    state float64 (n, 3, 2); opt_t int64 (n,); loss float64 (n,) and grad float64 (n, 2):
    loss and exact gradient at params (inputs and outputs); diverged_at int64 (n,), -1
    while alive. Gradient noise N(0, noise_std^2) per coordinate from :func:`gauss`.
    A step whose new position, loss or gradient is non-finite or whose |position| >
    bound marks the run diverged at that step; the run keeps its last good values and
    ``bad`` float64 (n, 3) gets the offending (x, y, loss). If ``record``, row t // stride
    of traj float64 (n, rows, 2) / traj_loss float64 (n, rows) gets step t when
    t % stride == 0. last_g / last_step_size / last_delta float64 (n, 2) and last_lr
    float64 (n,) describe each run's last committed step.
    """
    fn = _advance_par if params.shape[0] * max(k, 1) >= PARALLEL_WORK else _advance_ser
    fn(sid, code, consts, kind, hyper, sched_kind, sched_params, total, t0, k, noise_std, seed,
       bound, params, state, opt_t, loss, grad, diverged_at, record, stride, traj, traj_loss,
       last_g, last_step_size, last_delta, last_lr, bad)


@pjit
def _eval_par(sid, code, consts, params, loss_out, grad_out):
    for r in prange(params.shape[0]):
        f, gx, gy = _vg(sid, code, consts, params[r, 0], params[r, 1], _stack_for(sid))
        loss_out[r] = f
        grad_out[r, 0] = gx
        grad_out[r, 1] = gy


@jit
def _eval_ser(sid, code, consts, params, loss_out, grad_out):
    stack = _stack_for(sid)
    for r in range(params.shape[0]):
        f, gx, gy = _vg(sid, code, consts, params[r, 0], params[r, 1], stack)
        loss_out[r] = f
        grad_out[r, 0] = gx
        grad_out[r, 1] = gy


def eval_landscape(sid, code, consts, params, loss_out, grad_out):
    """loss_out float64 (n,) and grad_out float64 (n, 2) at params float64 (n, 2)."""
    fn = _eval_par if params.shape[0] >= PARALLEL_WORK else _eval_ser
    fn(sid, code, consts, params, loss_out, grad_out)


@jit
def gauss_array(seed, runs, step, coord, out):
    """out float64 (m,) = gauss(seed, runs[i], step, coord) (tests compare with the twin)."""
    for i in range(runs.shape[0]):
        out[i] = gauss(seed, runs[i], step, coord)


@jit
def schedule_array(sched_kind, sched_params, t, total, lr_factor_out, has_mom_out, mom_out):
    """Scalar schedule helper over runs (tests compare it with :func:`schedule_np`)."""
    for r in range(sched_kind.shape[0]):
        a, b, c = _sched_run(sched_kind, sched_params, r, t, total)
        lr_factor_out[r] = a
        has_mom_out[r] = b
        mom_out[r] = c


# =======================================================================================
# numpy twins
# =======================================================================================

def _mix_np(z):
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


def gauss_np(seed: int, runs, step: int, coord: int) -> np.ndarray:
    """Twin of :func:`gauss`, vectorised over ``runs`` (int array) -> float64 array."""
    with np.errstate(over="ignore"):
        r = np.asarray(runs).astype(np.uint64)
        h = _mix_np(_mix_np(_mix_np(np.uint64(seed)) ^ r) ^ np.uint64(step))
        c = np.uint64(coord)
        a = _mix_np(h ^ (_TWO * c + _ONE))
        b = _mix_np(h ^ (_TWO * c + _TWO))
    u1 = ((a >> _S11) + _ONE).astype(np.float64) * _INV53
    u2 = (b >> _S11).astype(np.float64) * _INV53
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(_TWO_PI * u2)


def _cos_sched_np(start, end, pos):
    return start + (1.0 + np.cos(np.pi * (1.0 - pos))) * (end - start) / 2.0


def schedule_np(sched_kind, sched_params, t, total):
    """Twin of the kernels' schedule: broadcast over runs and/or steps.

    sched_kind int (...) and sched_params float64 (..., N_SCHED) describe the schedules,
    t int (...) the 1-based steps. Returns (lr_factor float64, has_mom bool, mom float64),
    broadcast together.
    """
    skind = np.asarray(sched_kind)
    sp = np.asarray(sched_params, dtype=np.float64)
    e = np.asarray(t, dtype=np.float64) - 1.0
    total = float(total)
    col = [sp[..., j] for j in range(N_SCHED)]
    shape = np.broadcast_shapes(skind.shape, col[0].shape, e.shape)
    lrf = np.ones(shape)
    has_mom = np.zeros(shape, dtype=bool)
    mom = np.zeros(shape)
    skind = np.broadcast_to(skind, shape)
    e = np.broadcast_to(e, shape)
    col = [np.broadcast_to(c, shape) for c in col]
    with np.errstate(all="ignore"):
        m = skind == SCHED_STEP
        if m.any():
            lrf[m] = col[S_GAMMA][m] ** np.floor(e[m] / col[S_STEP_SIZE][m])
        m = skind == SCHED_EXPONENTIAL
        if m.any():
            lrf[m] = col[S_GAMMA][m] ** e[m]
        m = skind == SCHED_COSINE
        if m.any():
            ee = np.minimum(e[m], total)
            lrf[m] = 0.5 * (1.0 + np.cos(np.pi * ee / total))
        m = skind == SCHED_ONE_CYCLE
        if m.any():
            pos = np.minimum(e[m] / total, 1.0)
            pct, div, divf = col[S_PCT_START][m], col[S_DIV][m], col[S_DIV_FINAL][m]
            m0, m1, m2 = col[S_MOM_START][m], col[S_MOM_MID][m], col[S_MOM_END][m]
            up = pos < pct
            q = np.where(up, pos / pct, (pos - pct) / (1.0 - pct))
            lrf[m] = np.where(up, _cos_sched_np(1.0 / div, 1.0, q),
                              _cos_sched_np(1.0, 1.0 / divf, q))
            mom[m] = np.where(up, _cos_sched_np(m0, m1, q), _cos_sched_np(m1, m2, q))
            has_mom[m] = True
    return lrf, has_mom, mom


def _sel(mask):
    """Index for a boolean mask: a plain slice when it selects everything (no copies)."""
    if mask.all():
        return slice(None)
    return np.nonzero(mask)[0]


def update_np(kind, hyper, th, g, state, ot, lr, mom, b1):
    """Twin of :func:`update`, vectorised over runs and grouped by kind.

    kind int64 (n,); hyper float64 (n, N_HYPER); th, g float64 (n, p); state float64
    (n, 3, p) (not modified); ot int64 (n,) (1-based, already incremented); lr, mom, b1
    float64 (n,) (scheduled). Returns (th_new, state_new, g_used, step_size).
    """
    th_new = np.empty_like(th)
    g_used = np.empty_like(th)
    ss = np.empty_like(th)
    st = state.copy()
    col = lambda ix, j: hyper[ix, j][:, None]  # noqa: E731 - (m, 1) column for broadcasting
    with np.errstate(all="ignore"):
        for kd in np.unique(kind):
            ix = _sel(kind == kd)
            T = th[ix]
            G = g[ix]
            LR = lr[ix][:, None]
            if kd == SGD:
                G = G + col(ix, H_WEIGHT_DECAY) * T
                M = mom[ix][:, None]
                s0, s1 = st[ix, 0], st[ix, 1]
                B = np.where(s1 == 0.0, G, M * s0 + (1.0 - col(ix, H_DAMPENING)) * G)
                D = np.where(col(ix, H_NESTEROV) != 0.0, G + M * B, B)
                has = np.broadcast_to(M != 0.0, G.shape)
                D = np.where(has, D, G)
                st[ix, 0] = np.where(has, B, s0)
                st[ix, 1] = np.where(has, 1.0, s1)
                th_new[ix] = T - LR * D
                ss[ix] = np.broadcast_to(LR, G.shape)
            elif kd == RMSPROP:
                G = G + col(ix, H_WEIGHT_DECAY) * T
                a = col(ix, H_ALPHA)
                v = a * st[ix, 0] + (1.0 - a) * G * G
                cen = col(ix, H_CENTERED) != 0.0
                ga = np.where(cen, a * st[ix, 2] + (1.0 - a) * G, st[ix, 2])
                vt = np.where(cen, v - ga * ga, v)
                den = np.sqrt(vt) + col(ix, H_EPS)
                M = mom[ix][:, None]
                usem = np.broadcast_to(M > 0.0, G.shape)
                B = np.where(usem, M * st[ix, 1] + G / den, st[ix, 1])
                th_new[ix] = np.where(usem, T - LR * B, T - LR * (G / den))
                st[ix, 0] = v
                st[ix, 1] = B
                st[ix, 2] = ga
                ss[ix] = LR / den
            elif kd == ADAGRAD:
                clr = LR / (1.0 + (ot[ix][:, None] - 1).astype(np.float64)
                            * col(ix, H_LR_DECAY))
                G = G + col(ix, H_WEIGHT_DECAY) * T
                s = st[ix, 0] + G * G
                den = np.sqrt(s) + col(ix, H_EPS)
                th_new[ix] = T - clr * (G / den)
                st[ix, 0] = s
                ss[ix] = clr / den
            else:  # ADAM, ADAMW
                wd = col(ix, H_WEIGHT_DECAY)
                if kd == ADAMW:
                    T = T - LR * wd * T
                else:
                    G = G + wd * T
                B1 = b1[ix][:, None]
                B2 = col(ix, H_BETA2)
                m = B1 * st[ix, 0] + (1.0 - B1) * G
                v = B2 * st[ix, 1] + (1.0 - B2) * G * G
                otf = ot[ix][:, None].astype(np.float64)
                bc1 = 1.0 - B1 ** otf
                bc2 = 1.0 - B2 ** otf
                mhat = m / bc1
                ams = col(ix, H_AMSGRAD) != 0.0
                vmax = np.where(ams, np.maximum(st[ix, 2], v), st[ix, 2])
                vhat = np.where(ams, vmax, v) / bc2
                den = np.sqrt(vhat) + col(ix, H_EPS)
                th_new[ix] = T - LR * (mhat / den)
                st[ix, 0] = m
                st[ix, 1] = v
                st[ix, 2] = vmax
                ss[ix] = LR / (bc1 * den)
            g_used[ix] = G
    return th_new, st, g_used, ss


def _scheduled(kind, hyper, sched_kind, sched_params, t, total):
    """Per-run (lr, mom, b1) at global step t (numpy)."""
    lrf, has_mom, momv = schedule_np(sched_kind, sched_params, t, total)
    lr = hyper[:, H_LR] * lrf
    adam = (kind == ADAM) | (kind == ADAMW)
    mom = np.where(has_mom & ~adam & (hyper[:, H_MOMENTUM] > 0.0), momv, hyper[:, H_MOMENTUM])
    b1 = np.where(has_mom & adam & (hyper[:, H_BETA1] > 0.0), momv, hyper[:, H_BETA1])
    return lr, mom, b1


def opt_step_np(kind, hyper, sched_kind, sched_params, total, t, params, grads, state, opt_t,
                active, params_out, g_out, step_size_out, lr_out):
    """Numpy twin of :func:`opt_step` (same arguments, same in-place outputs)."""
    params_out[...] = params
    ix = _sel(np.asarray(active, dtype=bool))
    if isinstance(ix, np.ndarray) and ix.size == 0:
        return
    kd, hy = kind[ix], hyper[ix]
    lr, mom, b1 = _scheduled(kd, hy, sched_kind[ix], sched_params[ix], t, total)
    ot = opt_t[ix] + 1
    th, st, gu, ss = update_np(kd, hy, params[ix], grads[ix], state[ix], ot, lr, mom, b1)
    opt_t[ix] = ot
    params_out[ix] = th
    state[ix] = st
    g_out[ix] = gu
    step_size_out[ix] = ss
    lr_out[ix] = lr


def _vg_np(sid, code, consts, x, y):
    with np.errstate(all="ignore"):
        if sid >= 0:
            return surface_vg_np(sid, x, y)
        return program_vg_np(code, consts, x, y)


def eval_landscape_np(sid, code, consts, params, loss_out, grad_out):
    """Numpy twin of :func:`eval_landscape`."""
    f, gx, gy = _vg_np(sid, code, consts, params[:, 0], params[:, 1])
    loss_out[:] = f
    grad_out[:, 0] = gx
    grad_out[:, 1] = gy


def advance_landscape_np(sid, code, consts, kind, hyper, sched_kind, sched_params, total, t0,
                         k, noise_std, seed, bound, params, state, opt_t, loss, grad,
                         diverged_at, record, stride, traj, traj_loss, last_g, last_step_size,
                         last_delta, last_lr, bad):
    """Numpy twin of :func:`advance_landscape`: vectorised over runs, a loop over steps."""
    a = np.nonzero(diverged_at < 0)[0]
    if a.size == 0:
        return
    whole = a.size == params.shape[0]
    ix = slice(None) if whole else a
    P = params[ix].copy()
    S = state[ix].copy()
    OT = opt_t[ix].copy()
    F = loss[ix].copy()
    G = grad[ix].copy()
    LG = last_g[ix].copy()
    LS = last_step_size[ix].copy()
    LD = last_delta[ix].copy()
    LLR = last_lr[ix].copy()
    KD, HY, SK, SP = kind[ix], hyper[ix], sched_kind[ix], sched_params[ix]
    runs = a.astype(np.int64)

    def write_back(sel, rows):
        # sel indexes the working set, rows the full arrays
        params[rows] = P[sel]
        state[rows] = S[sel]
        opt_t[rows] = OT[sel]
        loss[rows] = F[sel]
        grad[rows] = G[sel]
        last_g[rows] = LG[sel]
        last_step_size[rows] = LS[sel]
        last_delta[rows] = LD[sel]
        last_lr[rows] = LLR[sel]

    for i in range(k):
        t = t0 + i + 1
        lr, mom, b1 = _scheduled(KD, HY, SK, SP, t, total)
        g = G
        if noise_std != 0.0:
            g = np.empty_like(G)
            g[:, 0] = G[:, 0] + noise_std * gauss_np(seed, runs, t, 0)
            g[:, 1] = G[:, 1] + noise_std * gauss_np(seed, runs, t, 1)
        otn = OT + 1
        Pn, Sn, gu, ss = update_np(KD, HY, P, g, S, otn, lr, mom, b1)
        fn, gxn, gyn = _vg_np(sid, code, consts, Pn[:, 0], Pn[:, 1])
        with np.errstate(invalid="ignore"):
            ok = (np.isfinite(Pn).all(axis=1) & np.isfinite(fn) & np.isfinite(gxn)
                  & np.isfinite(gyn) & (np.abs(Pn) <= bound).all(axis=1))
        if not ok.all():
            badi = np.nonzero(~ok)[0]
            rows = runs[badi]
            diverged_at[rows] = t
            bad[rows, 0] = Pn[badi, 0]
            bad[rows, 1] = Pn[badi, 1]
            bad[rows, 2] = fn[badi]
            write_back(badi, rows)
            keep = np.nonzero(ok)[0]
            runs = runs[keep]
            P, S, OT, F, G = P[keep], S[keep], OT[keep], F[keep], G[keep]
            LG, LS, LD, LLR = LG[keep], LS[keep], LD[keep], LLR[keep]
            KD, HY, SK, SP = KD[keep], HY[keep], SK[keep], SP[keep]
            Pn, Sn, gu, ss = Pn[keep], Sn[keep], gu[keep], ss[keep]
            otn, lr, fn, gxn, gyn = otn[keep], lr[keep], fn[keep], gxn[keep], gyn[keep]
            if runs.size == 0:
                return
        LD = Pn - P
        P = Pn
        S = Sn
        OT = otn
        F = fn
        G = np.stack([gxn, gyn], axis=1)
        LG, LS, LLR = gu, ss, lr
        if record and t % stride == 0:
            row = t // stride
            traj[runs, row] = P
            traj_loss[runs, row] = F
    write_back(slice(None), runs if runs.size != params.shape[0] else slice(None))


# =======================================================================================
# registry
# =======================================================================================

def _tiny_problem(n=2):
    kind = np.array([SGD, ADAM][:n], dtype=np.int64)
    hyper = np.zeros((n, N_HYPER))
    hyper[:, H_LR] = 1e-2
    hyper[:, H_EPS] = 1e-8
    hyper[:, H_BETA1] = 0.9
    hyper[:, H_BETA2] = 0.999
    hyper[:, H_ALPHA] = 0.99
    sk = np.zeros(n, dtype=np.int64)
    sp = np.ones((n, N_SCHED))
    return kind, hyper, sk, sp


def _warm_opt_step():
    kind, hyper, sk, sp = _tiny_problem()
    n, p = 2, 3
    params = np.ones((n, p))
    for fn in (_opt_step_ser, _opt_step_par):  # both: a big call must not compile mid-demo
        fn(kind, hyper, sk, sp, 10, 1, params, params.copy(), np.zeros((n, 3, p)),
           np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.bool_), np.empty((n, p)),
           np.empty((n, p)), np.empty((n, p)), np.empty(n))


def _warm_advance():
    kind, hyper, sk, sp = _tiny_problem()
    n = 2
    params = np.ones((n, 2))
    code = np.zeros(0, dtype=np.int64)
    consts = np.zeros(0)
    loss, grad = np.empty(n), np.empty((n, 2))
    for ev in (_eval_ser, _eval_par):
        ev(0, code, consts, params, loss, grad)
    for fn in (_advance_ser, _advance_par):
        fn(0, code, consts, kind, hyper, sk, sp, 10, 0, 2, 0.1, 0, 1e6, params.copy(),
           np.zeros((n, 3, 2)), np.zeros(n, dtype=np.int64), loss, grad,
           np.full(n, -1, dtype=np.int64), True, 1, np.zeros((n, 4, 2)),
           np.zeros((n, 4)), np.zeros((n, 2)), np.zeros((n, 2)), np.zeros((n, 2)),
           np.zeros(n), np.zeros((n, 3)))


register("opt_step", opt_step, opt_step_np, _warm_opt_step)
register("advance_landscape", advance_landscape, advance_landscape_np, _warm_advance)
register("eval_landscape", eval_landscape, eval_landscape_np, _warm_advance)
