"""Kernels for the curve-fit models and the regression error surfaces.

Models (``kind``): 0 linear ``y = w*x + b`` (params [w, b]); 1 quadratic
``y = a*x^2 + b*x + c`` (params [a, b, c]); 2 a sum of ``K`` units
``y = c0 + sum_i c_i * h(b_i + w_i*x)`` (params [c0, w1, b1, c1, w2, b2, c2, ...]).
Units (``unit``): 0 sigmoid, 1 hard sigmoid ``clip(z, 0, 1)``, 2 ReLU.
Losses (``loss_kind``): 0 MSE, 1 MAE (subgradient ``sign(r)``, 0 at 0, as torch's L1).

Every kernel writes into preallocated float64 outputs and has a numpy twin with
the same signature (``<name>_np``). The public names (``predict``, ``loss_grad``,
``unit_contributions``, ``linreg_grid``, ``slice_grid``) pick a serial or a
``prange`` kernel by problem size: a parallel launch costs microseconds, which a
single full-batch step of a small model cannot afford.
"""

from __future__ import annotations

import numpy as np

from gdviz.kernels import register
from gdviz.kernels._jit import PARALLEL_WORK, TWIN_CHUNK, jit, pjit, prange

LINEAR, QUADRATIC, UNITS = 0, 1, 2
SIGMOID, HARD_SIGMOID, RELU = 0, 1, 2
MSE, MAE = 0, 1


# ----------------------------------------------------------------------------- scalar helpers
@jit
def _act(unit, z):
    """h(z) for one unit type."""
    if unit == SIGMOID:
        # exp(-z) overflows to inf for z << 0 and 1/inf == 0: no branch, no NaN
        return 1.0 / (1.0 + np.exp(-z))
    if unit == HARD_SIGMOID:
        return min(max(z, 0.0), 1.0)
    return max(z, 0.0)


@jit
def _group_of(kind, q):
    """Which group (term of the model) parameter ``q`` belongs to."""
    if kind == UNITS:
        return 0 if q == 0 else (q - 1) // 3 + 1
    return q


@jit
def _group_eval(kind, unit, p, g, xv):
    """The contribution of group ``g`` of the model with parameters ``p`` at ``xv``."""
    if kind == UNITS:
        if g == 0:
            return p[0]
        k = 3 * g
        return p[k] * _act(unit, p[k - 1] + p[k - 2] * xv)
    if kind == LINEAR:
        return p[0] * xv if g == 0 else p[1]
    if g == 0:
        return p[0] * xv * xv
    if g == 1:
        return p[1] * xv
    return p[2]


@jit
def _n_groups(kind, K):
    if kind == UNITS:
        return K + 1
    return 2 if kind == LINEAR else 3

# exp() through libm is the cost of a sigmoid model (no SVML here, so it does not
# vectorise). _sigmoid_row computes exp with Cody-Waite range reduction, a degree-12
# Taylor polynomial and a bit-built 2^k: plain arithmetic that LLVM vectorises, within
# ~2 ulp of libm's exp, about 2x faster on a K=10, N=200 model.
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SHIFT = 6755399441055744.0  # 1.5 * 2^52: adding it rounds to an integer in the low bits
_SHIFT_BITS = int(np.array([_SHIFT]).view(np.int64)[0])
_EXP_MAX = 709.782712893384  # exp overflows to inf above this (sigmoid -> exactly 0)
# below -708, exp(z) < 3.3e-308 and 1/(1+exp(z)) rounds to 1 anyway
_INV_FACT = tuple(1.0 / float(np.prod(np.arange(1, k + 1))) for k in range(13))
_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12 = _INV_FACT[2:]


@jit
def _sigmoid_row(w, b, xb, h, dh, tf, ti):
    """h[n] = sigmoid(b + w*xb[n]), dh[n] = h(1-h), for n < len(xb). tf, ti: scratch (B,)."""
    B = xb.shape[0]
    for n in range(B):
        z = -(b + w * xb[n])
        zc = min(max(z, -708.0), _EXP_MAX)
        t = zc * _LOG2E + _SHIFT
        tf[n] = t
        k = t - _SHIFT
        f = (zc - k * _LN2_HI) - k * _LN2_LO
        q = _C12
        q = q * f + _C11
        q = q * f + _C10
        q = q * f + _C9
        q = q * f + _C8
        q = q * f + _C7
        q = q * f + _C6
        q = q * f + _C5
        q = q * f + _C4
        q = q * f + _C3
        q = q * f + _C2
        q = q * f + 1.0
        h[n] = q * f + 1.0
    tbits = tf.view(np.int64)
    for n in range(B):
        ti[n] = (tbits[n] - _SHIFT_BITS + 1022) << 52  # 2^(k-1): k may be 1024
    scale = ti.view(np.float64)
    for n in range(B):
        e = (h[n] * scale[n]) * 2.0
        hv = 1.0 / (1.0 + e)
        if -(b + w * xb[n]) > _EXP_MAX:
            hv = 0.0
        h[n] = hv
        dh[n] = hv * (1.0 - hv)


# ----------------------------------------------------------------------------- forward
@jit
def _predict_run(kind, unit, K, p, x, out):
    N = x.shape[0]
    if kind == LINEAR:
        for n in range(N):
            out[n] = p[0] * x[n] + p[1]
    elif kind == QUADRATIC:
        for n in range(N):
            out[n] = (p[0] * x[n] + p[1]) * x[n] + p[2]
    else:
        for n in range(N):
            out[n] = p[0]
        for u in range(K):
            w = p[3 * u + 1]
            b = p[3 * u + 2]
            c = p[3 * u + 3]
            for n in range(N):
                out[n] += c * _act(unit, b + w * x[n])


@jit
def _predict_serial(kind, unit, K, params, x, out):
    for r in range(params.shape[0]):
        _predict_run(kind, unit, K, params[r], x, out[r])


@pjit
def _predict_parallel(kind, unit, K, params, x, out):
    for r in prange(params.shape[0]):
        _predict_run(kind, unit, K, params[r], x, out[r])


def predict(kind, unit, K, params, x, out):
    """Model outputs. params float64 (n_runs, p), x float64 (N,), out float64 (n_runs, N)."""
    if params.shape[0] > 1 and params.shape[0] * x.shape[0] * max(K, 1) >= PARALLEL_WORK:
        _predict_parallel(kind, unit, K, params, x, out)
    else:
        _predict_serial(kind, unit, K, params, x, out)


def _act_np(unit, z):
    """(h, h') elementwise, numpy."""
    if unit == SIGMOID:
        with np.errstate(over="ignore"):
            h = 1.0 / (1.0 + np.exp(-z))
        return h, h * (1.0 - h)
    if unit == HARD_SIGMOID:
        return np.clip(z, 0.0, 1.0), ((z > 0.0) & (z < 1.0)).astype(np.float64)
    return np.maximum(z, 0.0), (z > 0.0).astype(np.float64)


def _predict_full_np(kind, unit, K, params, x):
    """(pred (n, N), h (n, K, N) or None, h' or None)."""
    if kind == LINEAR:
        return params[:, 0:1] * x + params[:, 1:2], None, None
    if kind == QUADRATIC:
        return (params[:, 0:1] * x + params[:, 1:2]) * x + params[:, 2:3], None, None
    w = params[:, 1::3][:, :K, None]
    b = params[:, 2::3][:, :K, None]
    c = params[:, 3::3][:, :K, None]
    h, dh = _act_np(unit, b + w * x)
    return params[:, 0:1] + (c * h).sum(axis=1), h, dh


def predict_np(kind, unit, K, params, x, out):
    """numpy twin of :func:`predict`."""
    out[...] = _predict_full_np(kind, unit, K, params, x)[0]


@jit
def _contrib_kernel(unit, K, p, x, out):
    for u in range(K):
        w = p[3 * u + 1]
        b = p[3 * u + 2]
        c = p[3 * u + 3]
        for n in range(x.shape[0]):
            out[u, n] = c * _act(unit, b + w * x[n])


def unit_contributions(unit, K, p, x, out):
    """Each unit's own term c_i*h(b_i + w_i*x) (the "blue functions").

    p float64 (1 + 3K,), x float64 (N,), out float64 (K, N)."""
    _contrib_kernel(unit, K, p, x, out)


def unit_contributions_np(unit, K, p, x, out):
    """numpy twin of :func:`unit_contributions`."""
    h, _ = _act_np(unit, p[2::3][:K, None] + p[1::3][:K, None] * x)
    out[...] = p[3::3][:K, None] * h


# ----------------------------------------------------------------------------- loss and gradient
@jit
def _loss_grad_run(kind, unit, K, loss_kind, p, x, y, idx, g):
    """Loss of one run on the batch ``idx``; writes its gradient into g (p,)."""
    B = idx.shape[0]
    xb = np.empty(B)
    r = np.empty(B)
    for n in range(B):
        xb[n] = x[idx[n]]
    if kind == UNITS:
        h = np.empty((K, B))
        dh = np.empty((K, B))
        tf = np.empty(B)
        ti = np.empty(B, dtype=np.int64)
        for n in range(B):
            r[n] = p[0] - y[idx[n]]
        for u in range(K):
            w = p[3 * u + 1]
            b = p[3 * u + 2]
            c = p[3 * u + 3]
            # one loop per unit type so that the inner loop has no branch on it
            if unit == SIGMOID:
                _sigmoid_row(w, b, xb, h[u], dh[u], tf, ti)
                hu = h[u]
                for n in range(B):
                    r[n] += c * hu[n]
            elif unit == HARD_SIGMOID:
                for n in range(B):
                    z = b + w * xb[n]
                    hv = min(max(z, 0.0), 1.0)
                    h[u, n] = hv
                    dh[u, n] = 1.0 if (z > 0.0 and z < 1.0) else 0.0
                    r[n] += c * hv
            else:
                for n in range(B):
                    z = b + w * xb[n]
                    hv = max(z, 0.0)
                    h[u, n] = hv
                    dh[u, n] = 1.0 if z > 0.0 else 0.0
                    r[n] += c * hv
    elif kind == LINEAR:
        for n in range(B):
            r[n] = p[0] * xb[n] + p[1] - y[idx[n]]
    else:
        for n in range(B):
            r[n] = (p[0] * xb[n] + p[1]) * xb[n] + p[2] - y[idx[n]]
    # r becomes dL/dpred
    loss = 0.0
    if loss_kind == MSE:
        for n in range(B):
            loss += r[n] * r[n]
            r[n] = 2.0 * r[n] / B
    else:
        for n in range(B):
            rv = r[n]
            loss += abs(rv)
            r[n] = (1.0 if rv > 0.0 else (-1.0 if rv < 0.0 else 0.0)) / B
    if kind == UNITS:
        s = 0.0
        for n in range(B):
            s += r[n]
        g[0] = s
        for u in range(K):
            c = p[3 * u + 3]
            gw = 0.0
            gb = 0.0
            gc = 0.0
            for n in range(B):
                gc += r[n] * h[u, n]
                t = r[n] * dh[u, n]
                gb += t
                gw += t * xb[n]
            g[3 * u + 1] = c * gw
            g[3 * u + 2] = c * gb
            g[3 * u + 3] = gc
    elif kind == LINEAR:
        gw = 0.0
        gb = 0.0
        for n in range(B):
            gw += r[n] * xb[n]
            gb += r[n]
        g[0] = gw
        g[1] = gb
    else:
        ga = 0.0
        gb = 0.0
        gc = 0.0
        for n in range(B):
            gb += r[n] * xb[n]
            ga += r[n] * xb[n] * xb[n]
            gc += r[n]
        g[0] = ga
        g[1] = gb
        g[2] = gc
    return loss / B


@jit
def _loss_grad_serial(kind, unit, K, loss_kind, params, x, y, idx, out_loss, out_grad):
    for r in range(params.shape[0]):
        out_loss[r] = _loss_grad_run(kind, unit, K, loss_kind, params[r], x, y, idx, out_grad[r])


@pjit
def _loss_grad_parallel(kind, unit, K, loss_kind, params, x, y, idx, out_loss, out_grad):
    for r in prange(params.shape[0]):
        out_loss[r] = _loss_grad_run(kind, unit, K, loss_kind, params[r], x, y, idx, out_grad[r])


def loss_grad(kind, unit, K, loss_kind, params, x, y, idx, out_loss, out_grad):
    """Loss on the batch ``idx`` and its analytic gradient, for every run.

    params float64 (n_runs, p); x, y float64 (N,); idx int64 (B,) indices into x;
    out_loss float64 (n_runs,); out_grad float64 (n_runs, p). The loss is the mean over
    the batch (MSE or MAE); weight decay is the optimizer's business, not the loss's.
    """
    if params.shape[0] > 1 and params.shape[0] * idx.shape[0] * max(K, 1) >= PARALLEL_WORK:
        _loss_grad_parallel(kind, unit, K, loss_kind, params, x, y, idx, out_loss, out_grad)
    else:
        _loss_grad_serial(kind, unit, K, loss_kind, params, x, y, idx, out_loss, out_grad)


def loss_grad_np(kind, unit, K, loss_kind, params, x, y, idx, out_loss, out_grad):
    """numpy twin of :func:`loss_grad`."""
    xb = x[idx]
    pred, h, dh = _predict_full_np(kind, unit, K, params, xb)
    r = pred - y[idx]
    B = idx.shape[0]
    if loss_kind == MSE:
        out_loss[:] = (r * r).sum(axis=1) / B
        d = 2.0 * r / B
    else:
        out_loss[:] = np.abs(r).sum(axis=1) / B
        d = np.sign(r) / B
    if kind == LINEAR:
        out_grad[:, 0] = (d * xb).sum(axis=1)
        out_grad[:, 1] = d.sum(axis=1)
    elif kind == QUADRATIC:
        out_grad[:, 0] = (d * xb * xb).sum(axis=1)
        out_grad[:, 1] = (d * xb).sum(axis=1)
        out_grad[:, 2] = d.sum(axis=1)
    else:
        c = params[:, 3::3][:, :K]
        t = d[:, None, :] * dh
        out_grad[:, 0] = d.sum(axis=1)
        out_grad[:, 1::3] = c * (t * xb).sum(axis=2)
        out_grad[:, 2::3] = c * t.sum(axis=2)
        out_grad[:, 3::3] = (d[:, None, :] * h).sum(axis=2)


# ----------------------------------------------------------------------------- y = b + w*x surface
@pjit
def _linreg_grid_kernel(loss_kind, x, y, idx, x0, x1, y0, y1, out):
    ny, nx = out.shape
    B = idx.shape[0]
    dw = (x1 - x0) / (nx - 1)
    db = (y1 - y0) / (ny - 1)
    xb = np.empty(B)
    yb = np.empty(B)
    for n in range(B):
        xb[n] = x[idx[n]]
        yb[n] = y[idx[n]]
    if loss_kind == MSE:
        # centred sufficient statistics: L(w, b) = w^2 Sxx - 2w Sxy + Syy + (w xm + b - ym)^2,
        # O(1) per cell whatever the batch size, and well conditioned
        xm = 0.0
        ym = 0.0
        for n in range(B):
            xm += xb[n]
            ym += yb[n]
        xm /= B
        ym /= B
        sxx = 0.0
        sxy = 0.0
        syy = 0.0
        for n in range(B):
            dx = xb[n] - xm
            dy = yb[n] - ym
            sxx += dx * dx
            sxy += dx * dy
            syy += dy * dy
        sxx /= B
        sxy /= B
        syy /= B
        for j in prange(ny):
            b = y0 + j * db
            for i in range(nx):
                w = x0 + i * dw
                m = w * xm + b - ym
                v = w * (w * sxx - 2.0 * sxy) + syy + m * m
                out[j, i] = v if v > 0.0 else 0.0
    else:
        # MAE, for each w: the offsets c = y - w*x sorted, and their prefix sums P; then
        # sum_n |b - c_n| = b*k - P[k] + (P[B] - P[k]) - b*(B - k), k the offsets below b:
        # O(B log B) per column, not O(B) per cell (100,000 points over the window's grid
        # took 2.8 s so, in the window's turn)
        for i in prange(nx):
            w = x0 + i * dw
            c = np.empty(B)
            for n in range(B):
                c[n] = yb[n] - w * xb[n]
            c.sort()
            pre = np.empty(B + 1)
            pre[0] = 0.0
            for n in range(B):
                pre[n + 1] = pre[n] + c[n]
            tot = pre[B]
            for j in range(ny):
                b = y0 + j * db
                k = np.searchsorted(c, b)
                out[j, i] = (b * k - pre[k] + (tot - pre[k]) - b * (B - k)) / B


def linreg_grid(loss_kind, x, y, idx, x0, x1, y0, y1, out):
    """Loss of y = b + w*x over a (w, b) grid: out[j, i] = L(w_i, b_j) on the batch idx.

    x, y float64 (N,); idx int64 (B,); out float64 (ny, nx) with w_i = x0 + i*(x1-x0)/(nx-1),
    b_j = y0 + j*(y1-y0)/(ny-1)."""
    _linreg_grid_kernel(loss_kind, x, y, idx, x0, x1, y0, y1, out)


def linreg_grid_np(loss_kind, x, y, idx, x0, x1, y0, y1, out):
    """numpy twin of :func:`linreg_grid`. It draws the window's map while the kernels
    compile, so it does not go over the batch for every cell: MSE from the batch's centred
    sufficient statistics, as the kernel does; MAE, for each w, from the sorted residual
    offsets c = y - w*x and their prefix sums (sum |b - c| is piecewise linear in b), as
    the kernel does. (A brute-force pass took ~0.45 s for 2,000 points in the window's
    turn.)"""
    ny, nx = out.shape
    w = x0 + np.arange(nx) * ((x1 - x0) / (nx - 1))
    b = y0 + np.arange(ny) * ((y1 - y0) / (ny - 1))
    xb = x[idx]
    yb = y[idx]
    B = xb.shape[0]
    if loss_kind == MSE:
        xm, ym = xb.mean(), yb.mean()
        dx, dy = xb - xm, yb - ym
        sxx, sxy, syy = (dx * dx).mean(), (dx * dy).mean(), (dy * dy).mean()
        m = w[None, :] * xm + b[:, None] - ym
        v = (w * (w * sxx - 2.0 * sxy) + syy)[None, :] + m * m
        np.maximum(v, 0.0, out=out)
        return
    for i in range(nx):
        c = np.sort(yb - w[i] * xb)
        pre = np.concatenate(([0.0], np.cumsum(c)))
        k = np.searchsorted(c, b)  # how many offsets lie below each b
        out[:, i] = (b * k - pre[k] + (pre[B] - pre[k]) - b * (B - k)) / B


# ----------------------------------------------------------------------------- 2-parameter slices
@jit
def _slice_base(kind, unit, K, params, gi, gj, x, base):
    """The model without the groups gi and gj, at every x: computed once per slice."""
    G = _n_groups(kind, K)
    for n in range(x.shape[0]):
        s = 0.0
        for g in range(G):
            if g != gi and g != gj:
                s += _group_eval(kind, unit, params, g, x[n])
        base[n] = s


@jit
def _err_sum(a, b, N, mse):
    """sum_n loss(a[n] + b[n]) with four running sums, so that the adds do not wait on
    one another (without fastmath the compiler keeps a single sum strictly in order)."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    n = 0
    if mse:
        while n + 4 <= N:
            e0 = a[n] + b[n]
            e1 = a[n + 1] + b[n + 1]
            e2 = a[n + 2] + b[n + 2]
            e3 = a[n + 3] + b[n + 3]
            s0 += e0 * e0
            s1 += e1 * e1
            s2 += e2 * e2
            s3 += e3 * e3
            n += 4
        while n < N:
            e0 = a[n] + b[n]
            s0 += e0 * e0
            n += 1
    else:
        while n + 4 <= N:
            s0 += abs(a[n] + b[n])
            s1 += abs(a[n + 1] + b[n + 1])
            s2 += abs(a[n + 2] + b[n + 2])
            s3 += abs(a[n + 3] + b[n + 3])
            n += 4
        while n < N:
            s0 += abs(a[n] + b[n])
            n += 1
    return (s0 + s1) + (s2 + s3)


@pjit
def _slice_grid_kernel(kind, unit, K, loss_kind, params, i, j, i0, i1, j0, j1, x, y, out):
    ny, nx = out.shape
    N = x.shape[0]
    gi = _group_of(kind, i)
    gj = _group_of(kind, j)
    base = np.empty(N)
    _slice_base(kind, unit, K, params, gi, gj, x, base)
    di = (i1 - i0) / (nx - 1)
    dj = (j1 - j0) / (ny - 1)
    mse = loss_kind == MSE
    if gi == gj:
        # both parameters in one unit: that unit is evaluated per cell, nothing else
        for r in prange(ny):
            pp = params.copy()
            pp[j] = j0 + r * dj
            rest = np.empty(N)
            unit_v = np.empty(N)
            for n in range(N):
                rest[n] = base[n] - y[n]
            for c in range(nx):
                pp[i] = i0 + c * di
                for n in range(N):
                    unit_v[n] = _group_eval(kind, unit, pp, gi, x[n])
                out[r, c] = _err_sum(rest, unit_v, N, mse) / N
    else:
        # separable: the varying unit of each axis depends on that axis only
        colc = np.empty((nx, N))
        rowc = np.empty((ny, N))
        for c in prange(nx):
            pp = params.copy()
            pp[i] = i0 + c * di
            for n in range(N):
                colc[c, n] = _group_eval(kind, unit, pp, gi, x[n])
        for r in prange(ny):
            pp = params.copy()
            pp[j] = j0 + r * dj
            for n in range(N):
                rowc[r, n] = _group_eval(kind, unit, pp, gj, x[n]) + base[n] - y[n]
        for r in prange(ny):
            for c in range(nx):
                out[r, c] = _err_sum(rowc[r], colc[c], N, mse) / N


def slice_grid(kind, unit, K, loss_kind, params, i, j, i0, i1, j0, j1, x, y, out):
    """Loss over params i (columns) and j (rows), the others fixed at ``params``.

    params float64 (p,); x, y float64 (N,); out float64 (ny, nx) with
    out[r, c] = L(params with p_i = i0 + c*(i1-i0)/(nx-1), p_j = j0 + r*(j1-j0)/(ny-1)).
    The rest of the model is summed once, so the cost does not grow with K."""
    _slice_grid_kernel(kind, unit, K, loss_kind, params, i, j, i0, i1, j0, j1, x, y, out)


def slice_grid_np(kind, unit, K, loss_kind, params, i, j, i0, i1, j0, j1, x, y, out):
    """numpy twin of :func:`slice_grid` (same idea: the other units once, then broadcast)."""
    ny, nx = out.shape
    gi = _group_of_py(kind, i)
    gj = _group_of_py(kind, j)
    G = K + 1 if kind == UNITS else (2 if kind == LINEAR else 3)
    base = np.zeros_like(x)
    for g in range(G):
        if g != gi and g != gj:
            base += _group_eval_np(kind, unit, params[None, :], g, x)[0]
    vi = np.linspace(i0, i1, nx)
    vj = np.linspace(j0, j1, ny)
    flat = np.empty(nx * ny)
    # grid points in chunks, so the (points of the chunk, N) temporaries stay about 16 MB
    # however many data points (all at once: 16384 x 10^5 floats, 13 GB)
    step = max(1, TWIN_CHUNK // max(1, x.shape[0]))
    for a in range(0, nx * ny, step):
        rows = np.arange(a, min(a + step, nx * ny))
        P = np.repeat(params[None, :], rows.shape[0], axis=0)
        P[:, i] = vi[rows % nx]
        P[:, j] = vj[rows // nx]
        pred = base + _group_eval_np(kind, unit, P, gi, x)
        if gj != gi:
            pred = pred + _group_eval_np(kind, unit, P, gj, x)
        e = pred - y
        flat[a:a + rows.shape[0]] = ((e * e) if loss_kind == MSE else np.abs(e)).mean(axis=1)
    out[...] = flat.reshape(ny, nx)


def _group_of_py(kind, q):
    if kind == UNITS:
        return 0 if q == 0 else (q - 1) // 3 + 1
    return q


def _group_eval_np(kind, unit, P, g, x):
    """Group g's contribution for every row of P (m, p) at x (N,) -> (m, N)."""
    if kind == UNITS:
        if g == 0:
            return np.broadcast_to(P[:, 0:1], (P.shape[0], x.shape[0]))
        k = 3 * g
        return P[:, k:k + 1] * _act_np(unit, P[:, k - 1:k] + P[:, k - 2:k - 1] * x)[0]
    powers = (1, 0) if kind == LINEAR else (2, 1, 0)
    return P[:, g:g + 1] * x ** powers[g]


# ----------------------------------------------------------------------------- warmup / registry
def _warm_inputs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=5)
    y = rng.normal(size=5)
    idx = np.arange(5, dtype=np.int64)
    return x, y, idx


def _idx_as_used(idx):
    """The batch indices as the callers pass them: the sampler's read-only arrays (training
    batches, the full set) and writable ones (the validation set's ``arange``). numba
    compiles each separately: warm both, so that neither is compiled (or loaded from the
    disk cache, ~12 ms) in the UI thread when a lesson opens."""
    ro = idx.copy()
    ro.flags.writeable = False
    return idx, ro


def _warm_predict():
    x, _, _ = _warm_inputs()
    P = np.zeros((2, 4))
    out = np.empty((2, 5))
    for kind in (LINEAR, QUADRATIC, UNITS):
        _predict_serial(kind, SIGMOID, 1, P, x, out)
        _predict_parallel(kind, SIGMOID, 1, P, x, out)
    _contrib_kernel(SIGMOID, 1, P[0], x, np.empty((1, 5)))


def _warm_loss_grad():
    x, y, idx = _warm_inputs()
    P = np.zeros((2, 4))
    L = np.empty(2)
    G = np.empty((2, 4))
    for i in _idx_as_used(idx):
        _loss_grad_serial(UNITS, SIGMOID, 1, MSE, P, x, y, i, L, G)
        _loss_grad_parallel(UNITS, SIGMOID, 1, MSE, P, x, y, i, L, G)


def _warm_linreg_grid():
    x, y, idx = _warm_inputs()
    for i in _idx_as_used(idx):
        _linreg_grid_kernel(MSE, x, y, i, -1.0, 1.0, -1.0, 1.0, np.empty((3, 3)))


def _warm_slice_grid():
    x, y, _ = _warm_inputs()
    _slice_grid_kernel(UNITS, SIGMOID, 1, MSE, np.zeros(4), 1, 2, -1.0, 1.0, -1.0, 1.0, x, y,
                       np.empty((3, 3)))


register("models.predict", predict, predict_np, _warm_predict)
register("models.loss_grad", loss_grad, loss_grad_np, _warm_loss_grad)
register("models.unit_contributions", unit_contributions, unit_contributions_np, _warm_predict)
register("models.linreg_grid", linreg_grid, linreg_grid_np, _warm_linreg_grid)
register("models.slice_grid", slice_grid, slice_grid_np, _warm_slice_grid)
