"""Kernels for small fully connected networks (multi-layer perceptrons), exact backprop.

Contract (the fit panel's "network" model and the classification panel both build on it):

* A network is ``sizes``: int64 array ``[d_in, h1, ..., hL, 1]`` with ``d_in`` in {1, 2},
  0 to 4 hidden layers of 1..32 units and one linear output. One activation code ``act``
  for every hidden layer: ``ACT_RELU, ACT_SIGMOID, ACT_TANH, ACT_HARD_SIGMOID, ACT_LINEAR``
  = 0..4. Hard-sigmoid is torch's ``hardsigmoid``: ``relu6(z + 3) / 6``. Derivatives at
  the kinks follow torch: relu'(0) = 0, hardsigmoid' = 1/6 on the open interval (-3, 3),
  where "1/6" is :data:`HARD_SIGMOID_SLOPE`, torch's own constant (see there).
* Parameters are one flat float64 vector: for each layer l in order, ``W_l`` (n_out x n_in,
  row-major) then ``b_l`` (n_out). That is exactly the order of
  ``nn.Sequential(nn.Linear(d, K), act, ..., nn.Linear(K, 1)).parameters()`` flattened.
  :func:`n_params` gives its length.
* ``forward(params, sizes, act, X, out)``: X float64 (n, d_in) -> out float64 (n,), the
  network's output (the logit, for classification).
* ``loss_grad(params, sizes, act, X, y, idx, loss_kind, grad_out) -> loss``: the mean loss
  over the rows ``idx`` (int64) and its exact gradient written into ``grad_out`` (p,).
  ``loss_kind``: ``LOSS_MSE`` = mean of (f - y)^2 (no 1/2, as the fit panel's MSE) or
  ``LOSS_BCE_LOGITS`` = torch's ``BCEWithLogitsLoss`` (mean), in the stable form
  ``max(z, 0) - z*y + log1p(exp(-|z|))``; ``LOSS_MAE`` = mean |f - y| (subgradient
  sign(f - y), 0 at 0, as torch's L1Loss).
* ``hidden_outputs(params, sizes, act, X, out)``: every hidden neuron's activation per
  sample, out float64 (n, total hidden units), layer after layer.
* Many runs in one call: ``forward_runs(params (R, p), sizes, act, X, out (R, n))`` and
  ``loss_grad_runs(params (R, p), sizes, act, X, y, idx, loss_kind, out_loss (R,),
  out_grad (R, p))`` (serial or ``prange`` by size, as :mod:`gdviz.kernels.models`).
* ``slice_grid(params, sizes, act, X, y, idx, loss_kind, i, j, i0, i1, j0, j1, out)``: the
  mean loss over parameters i (columns) and j (rows), the others fixed (linked views). The
  layers before the first layer that owns i or j are computed once; when both are in the
  output layer the output is affine in them, and a cell costs two multiply-adds a sample.

Every public kernel has a plain-numpy twin ``<name>_np`` with the same signature
(layer-wise matrix products, nothing shared with the kernel but the formulas).
"""

from __future__ import annotations

import numpy as np

from gdviz.kernels import register
from gdviz.kernels._jit import PARALLEL_WORK, TWIN_CHUNK, jit, pjit, prange, rjit

ACT_RELU, ACT_SIGMOID, ACT_TANH, ACT_HARD_SIGMOID, ACT_LINEAR = 0, 1, 2, 3, 4
#: hardsigmoid'(z) on (-3, 3) as torch computes it in float64: its CPU kernel
#: (hardsigmoid_backward) writes the constant as ``scalar_t one_sixth(1.0f / 6.0f)``, a float32
#: quotient, so the slope is 0.1666666716337204, not 1/6 (3e-8 relative). With an exact 1/6 a
#: float64 run drifted from torch by 2e-9 after one RMSprop step; with this constant it
#: matches torch to rounding (tests/core/test_network_model.py).
HARD_SIGMOID_SLOPE = float(np.float32(1.0) / np.float32(6.0))
LOSS_MSE, LOSS_BCE_LOGITS, LOSS_MAE = 0, 1, 2

#: activation names as the UI, the CLI and scenes spell them
ACT_IDS = {"relu": ACT_RELU, "sigmoid": ACT_SIGMOID, "tanh": ACT_TANH,
           "hard-sigmoid": ACT_HARD_SIGMOID, "linear": ACT_LINEAR}


def n_params(sizes) -> int:
    """Length of the flat parameter vector of the network ``sizes``."""
    s = [int(v) for v in sizes]
    return sum(s[k + 1] * s[k] + s[k + 1] for k in range(len(s) - 1))


def n_hidden(sizes) -> int:
    """Total number of hidden units (the columns of :func:`hidden_outputs`)."""
    return int(sum(int(v) for v in list(sizes)[1:-1]))


def param_offsets(sizes) -> list[tuple[int, int]]:
    """(offset of W_l, offset of b_l) in the flat vector, for each layer l."""
    out = []
    q = 0
    s = [int(v) for v in sizes]
    for k in range(len(s) - 1):
        out.append((q, q + s[k + 1] * s[k]))
        q += s[k + 1] * s[k] + s[k + 1]
    return out


def init_params(sizes, seed: int = 0) -> np.ndarray:
    """torch's default ``nn.Linear`` start: W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    seeded (numpy's generator, so not torch's numbers). float64 (p,)."""
    rng = np.random.default_rng([int(seed), 19])
    p = np.empty(n_params(sizes))
    s = [int(v) for v in sizes]
    for k, (wq, bq) in enumerate(param_offsets(s)):
        bound = 1.0 / np.sqrt(s[k])
        n = s[k + 1] * s[k] + s[k + 1]
        p[wq:wq + n] = rng.uniform(-bound, bound, n)
    return p


# ----------------------------------------------------------------------------- building blocks
# Layout: a chunk of up to CHUNK samples at a time, stored unit-major: A[u, m] is unit u's
# activation for sample m of the chunk (units of all layers stacked, the input first), so
# that every inner loop runs over the samples of one unit, contiguous and free of branches
# (the activation is chosen once per row). The sums over the samples (the weight gradients)
# may be added in any order (rjit), so that they vectorise. The buffers are (units, CHUNK)
# whatever the batch size.

#: samples per chunk: the buffers of a 4x32 network stay within the L2 cache
CHUNK = 256


@jit
def _offsets(sizes):
    """(aoff, poff): the first row of each layer's units in A (layer 0 = the input), and
    the offset of each layer's W in the parameter vector."""
    nl = sizes.shape[0]
    aoff = np.empty(nl + 1, dtype=np.int64)
    poff = np.empty(nl, dtype=np.int64)
    aoff[0] = 0
    poff[0] = 0
    for k in range(nl):
        aoff[k + 1] = aoff[k] + sizes[k]
    for k in range(nl - 1):
        poff[k + 1] = poff[k] + sizes[k + 1] * sizes[k] + sizes[k + 1]
    return aoff, poff


@jit
def _act_row(act, row, d, nb, need_d):
    """row[:nb] <- h(row[:nb]) in place; d[:nb] <- h'(z) when need_d (torch's derivatives:
    relu'(0) = 0, hardsigmoid' = HARD_SIGMOID_SLOPE on the open interval (-3, 3))."""
    if act == ACT_RELU:
        if need_d:
            for m in range(nb):
                d[m] = 1.0 if row[m] > 0.0 else 0.0
        for m in range(nb):
            row[m] = row[m] if row[m] > 0.0 else 0.0
    elif act == ACT_SIGMOID:
        for m in range(nb):
            z = row[m]
            if z >= 0.0:
                row[m] = 1.0 / (1.0 + np.exp(-z))
            else:
                e = np.exp(z)
                row[m] = e / (1.0 + e)
        if need_d:
            for m in range(nb):
                d[m] = row[m] * (1.0 - row[m])
    elif act == ACT_TANH:
        for m in range(nb):
            row[m] = np.tanh(row[m])
        if need_d:
            for m in range(nb):
                d[m] = 1.0 - row[m] * row[m]
    elif act == ACT_HARD_SIGMOID:
        if need_d:
            for m in range(nb):
                d[m] = HARD_SIGMOID_SLOPE if (row[m] > -3.0 and row[m] < 3.0) else 0.0
        for m in range(nb):
            row[m] = min(max(row[m] + 3.0, 0.0), 6.0) / 6.0
    elif need_d:
        for m in range(nb):
            d[m] = 1.0


@jit
def _forward_chunk(p, sizes, act, aoff, poff, l0, A, D, nb, need_d):
    """Layers l0.. of the chunk's nb samples; layer l0's input rows of A are filled.
    Afterwards the output is row aoff[L] of A; D holds h'(z) of the hidden units."""
    L = sizes.shape[0] - 1
    for k in range(l0, L):
        n_in = sizes[k]
        n_out = sizes[k + 1]
        wq = poff[k]
        bq = wq + n_out * n_in
        ai = aoff[k]
        ao = aoff[k + 1]
        for o in range(n_out):
            row = A[ao + o]
            bv = p[bq + o]
            for m in range(nb):
                row[m] = bv
            for i in range(n_in):
                w = p[wq + o * n_in + i]
                src = A[ai + i]
                for m in range(nb):
                    row[m] += w * src[m]
            if k < L - 1:
                _act_row(act, row, D[ao + o], nb, need_d)


@rjit
def _dot(a, b, nb):
    """sum_m a[m]*b[m] over the chunk (in any order: vectorised)."""
    s = 0.0
    for m in range(nb):
        s += a[m] * b[m]
    return s


@rjit
def _total(a, nb):
    """sum_m a[m] over the chunk (in any order: vectorised)."""
    s = 0.0
    for m in range(nb):
        s += a[m]
    return s


@jit
def _backward_chunk(p, sizes, aoff, poff, A, D, G, nb, g):
    """Add the chunk's gradient into g; G's output row holds dL/doutput per sample (G is
    overwritten with dL/dz of every unit on the way back)."""
    L = sizes.shape[0] - 1
    for k in range(L - 1, -1, -1):
        n_in = sizes[k]
        n_out = sizes[k + 1]
        wq = poff[k]
        bq = wq + n_out * n_in
        ai = aoff[k]
        ao = aoff[k + 1]
        for o in range(n_out):
            dl = G[ao + o]
            g[bq + o] += _total(dl, nb)
            for i in range(n_in):
                g[wq + o * n_in + i] += _dot(dl, A[ai + i], nb)
        if k > 0:
            for i in range(n_in):
                row = G[ai + i]
                for m in range(nb):
                    row[m] = 0.0
                for o in range(n_out):
                    w = p[wq + o * n_in + i]
                    src = G[ao + o]
                    for m in range(nb):
                        row[m] += w * src[m]
                dr = D[ai + i]
                for m in range(nb):
                    row[m] *= dr[m]


@jit
def _point_loss(loss_kind, f, yv):
    """(loss, dloss/df) of one sample."""
    if loss_kind == LOSS_MSE:
        r = f - yv
        return r * r, 2.0 * r
    if loss_kind == LOSS_MAE:
        r = f - yv
        return abs(r), (1.0 if r > 0.0 else (-1.0 if r < 0.0 else 0.0))
    # BCE with logits, stable: max(f, 0) - f*y + log1p(exp(-|f|)); d/df = sigmoid(f) - y
    if f >= 0.0:
        e = np.exp(-f)
        loss = f - f * yv + np.log1p(e)
        s = 1.0 / (1.0 + e)
    else:
        e = np.exp(f)
        loss = -f * yv + np.log1p(e)
        s = e / (1.0 + e)
    return loss, s - yv


@jit
def _point_loss_value(loss_kind, f, yv):
    """The loss of one sample alone (as :func:`_point_loss`, without the derivative)."""
    if loss_kind == LOSS_MSE:
        r = f - yv
        return r * r
    if loss_kind == LOSS_MAE:
        return abs(f - yv)
    if f >= 0.0:
        return f - f * yv + np.log1p(np.exp(-f))
    return -f * yv + np.log1p(np.exp(f))


@jit
def _buffers(sizes, n):
    aoff, poff = _offsets(sizes)
    T = aoff[sizes.shape[0]]
    ch = max(1, min(n, CHUNK))
    return aoff, poff, np.empty((T, ch)), np.empty((T, ch)), ch


# ----------------------------------------------------------------------------- one run
@jit
def _forward_run(p, sizes, act, X, out):
    N = X.shape[0]
    aoff, poff, A, D, ch = _buffers(sizes, N)
    d = sizes[0]
    fo = aoff[sizes.shape[0] - 1]
    for start in range(0, N, ch):
        nb = min(ch, N - start)
        for k in range(d):
            for m in range(nb):
                A[k, m] = X[start + m, k]
        _forward_chunk(p, sizes, act, aoff, poff, 0, A, D, nb, False)
        for m in range(nb):
            out[start + m] = A[fo, m]


@jit
def _loss_grad_run(p, sizes, act, X, y, idx, loss_kind, g):
    B = idx.shape[0]
    aoff, poff, A, D, ch = _buffers(sizes, B)
    G = np.empty_like(A)
    d = sizes[0]
    fo = aoff[sizes.shape[0] - 1]
    for q in range(g.shape[0]):
        g[q] = 0.0
    loss = 0.0
    for start in range(0, B, ch):
        nb = min(ch, B - start)
        for k in range(d):
            for m in range(nb):
                A[k, m] = X[idx[start + m], k]
        _forward_chunk(p, sizes, act, aoff, poff, 0, A, D, nb, True)
        for m in range(nb):
            lv, dv = _point_loss(loss_kind, A[fo, m], y[idx[start + m]])
            loss += lv
            G[fo, m] = dv / B
        _backward_chunk(p, sizes, aoff, poff, A, D, G, nb, g)
    return loss / B


@jit
def _hidden_run(p, sizes, act, X, out):
    N = X.shape[0]
    aoff, poff, A, D, ch = _buffers(sizes, N)
    d = sizes[0]
    H = aoff[sizes.shape[0] - 1] - d
    for start in range(0, N, ch):
        nb = min(ch, N - start)
        for k in range(d):
            for m in range(nb):
                A[k, m] = X[start + m, k]
        _forward_chunk(p, sizes, act, aoff, poff, 0, A, D, nb, False)
        for u in range(H):
            for m in range(nb):
                out[start + m, u] = A[d + u, m]


def forward(params, sizes, act, X, out):
    """Network output for every row of X. params (p,), X (n, d_in), out (n,) float64."""
    _forward_run(params, sizes, act, X, out)


def loss_grad(params, sizes, act, X, y, idx, loss_kind, grad_out):
    """Mean loss over rows ``idx`` and its exact gradient (into grad_out (p,)); returns the loss."""
    return _loss_grad_run(params, sizes, act, X, y, idx, loss_kind, grad_out)


def hidden_outputs(params, sizes, act, X, out):
    """Every hidden unit's activation: out float64 (n, total hidden units)."""
    _hidden_run(params, sizes, act, X, out)


# ----------------------------------------------------------------------------- many runs
@jit
def _forward_serial(P, sizes, act, X, out):
    for r in range(P.shape[0]):
        _forward_run(P[r], sizes, act, X, out[r])


@pjit
def _forward_parallel(P, sizes, act, X, out):
    for r in prange(P.shape[0]):
        _forward_run(P[r], sizes, act, X, out[r])


@jit
def _loss_grad_serial(P, sizes, act, X, y, idx, loss_kind, out_loss, out_grad):
    for r in range(P.shape[0]):
        out_loss[r] = _loss_grad_run(P[r], sizes, act, X, y, idx, loss_kind, out_grad[r])


@pjit
def _loss_grad_parallel(P, sizes, act, X, y, idx, loss_kind, out_loss, out_grad):
    for r in prange(P.shape[0]):
        out_loss[r] = _loss_grad_run(P[r], sizes, act, X, y, idx, loss_kind, out_grad[r])


def _parallel(n_runs, n_points, p):
    return n_runs > 1 and n_runs * n_points * p >= PARALLEL_WORK * 8


def forward_runs(params, sizes, act, X, out):
    """:func:`forward` for every run: params (R, p), out (R, n)."""
    if _parallel(params.shape[0], X.shape[0], params.shape[1]):
        _forward_parallel(params, sizes, act, X, out)
    else:
        _forward_serial(params, sizes, act, X, out)


def loss_grad_runs(params, sizes, act, X, y, idx, loss_kind, out_loss, out_grad):
    """:func:`loss_grad` for every run: params (R, p), out_loss (R,), out_grad (R, p)."""
    if _parallel(params.shape[0], idx.shape[0], params.shape[1]):
        _loss_grad_parallel(params, sizes, act, X, y, idx, loss_kind, out_loss, out_grad)
    else:
        _loss_grad_serial(params, sizes, act, X, y, idx, loss_kind, out_loss, out_grad)


# ----------------------------------------------------------------------------- 2-parameter slice
@jit
def _layer_of(poff, q):
    k = 0
    while k + 1 < poff.shape[0] and poff[k + 1] <= q:
        k += 1
    return k


@jit
def _slice_prep(params, sizes, act, X, y, idx, i, j):
    """What every cell of a slice shares: l0 (the first layer that owns p_i or p_j), its
    input per sample pre (sizes[l0], B) (it does not depend on p_i or p_j), the labels yb
    (B,), and when both are in the output layer (l0 = L-1; the output is then affine in
    them: f = base + p_i * ca + p_j * cb per sample) base, ca and cb (B,)."""
    B = idx.shape[0]
    aoff, poff, A, D, ch = _buffers(sizes, B)
    l0 = min(_layer_of(poff, i), _layer_of(poff, j))
    d = sizes[0]
    w0 = sizes[l0]
    a0 = aoff[l0]
    pre = np.empty((w0, B))
    for start in range(0, B, ch):
        nb = min(ch, B - start)
        for k in range(d):
            for m in range(nb):
                A[k, m] = X[idx[start + m], k]
        if l0 > 0:
            _forward_chunk(params, sizes, act, aoff, poff, 0, A, D, nb, False)
        for u in range(w0):
            for m in range(nb):
                pre[u, start + m] = A[a0 + u, m]
    base = np.zeros(B)
    ca = np.zeros(B)
    cb = np.zeros(B)
    yb = np.empty(B)
    for m in range(B):
        yb[m] = y[idx[m]]
    if l0 == sizes.shape[0] - 2:
        wq = poff[l0]
        bq = wq + w0
        for m in range(B):
            f = 0.0 if (bq == i or bq == j) else params[bq]
            for u in range(w0):
                if wq + u != i and wq + u != j:
                    f += params[wq + u] * pre[u, m]
            base[m] = f
            ca[m] = 1.0 if i == bq else pre[i - wq, m]
            cb[m] = 1.0 if j == bq else pre[j - wq, m]
    return l0, pre, base, ca, cb, yb


@jit
def _slice_row(params, sizes, act, loss_kind, i, j, i0, di, pj, l0, pre, base, ca, cb, yb,
               out_row):
    """One row of the slice (p_j = pj), columns p_i = i0 + c*di, from _slice_prep's arrays."""
    nx = out_row.shape[0]
    B = yb.shape[0]
    if l0 == sizes.shape[0] - 2:
        # affine in p_i and p_j: two multiply-adds and the loss a sample (not the output
        # layer's n_in + 1 and copying its input)
        for c in range(nx):
            pi = i0 + c * di
            s = 0.0
            for m in range(B):
                s += _point_loss_value(loss_kind, base[m] + pi * ca[m] + pj * cb[m], yb[m])
            out_row[c] = s / B
        return
    aoff, poff, A, D, ch = _buffers(sizes, B)
    w0 = sizes[l0]
    a0 = aoff[l0]
    fo = aoff[sizes.shape[0] - 1]
    pp = params.copy()
    pp[j] = pj
    for c in range(nx):
        pp[i] = i0 + c * di
        s = 0.0
        for start in range(0, B, ch):
            nb = min(ch, B - start)
            for u in range(w0):
                for m in range(nb):
                    A[a0 + u, m] = pre[u, start + m]
            _forward_chunk(pp, sizes, act, aoff, poff, l0, A, D, nb, False)
            for m in range(nb):
                s += _point_loss(loss_kind, A[fo, m], yb[start + m])[0]
        out_row[c] = s / B


@pjit
def _slice_kernel(params, sizes, act, X, y, idx, loss_kind, i, j, i0, i1, j0, j1, out):
    ny, nx = out.shape
    l0, pre, base, ca, cb, yb = _slice_prep(params, sizes, act, X, y, idx, i, j)
    di = (i1 - i0) / (nx - 1)
    dj = (j1 - j0) / (ny - 1)
    for r in prange(ny):
        _slice_row(params, sizes, act, loss_kind, i, j, i0, di, j0 + r * dj, l0, pre, base,
                   ca, cb, yb, out[r])


@jit
def _slice_kernel_serial(params, sizes, act, X, y, idx, loss_kind, i, j, i0, i1, j0, j1, out):
    ny, nx = out.shape
    l0, pre, base, ca, cb, yb = _slice_prep(params, sizes, act, X, y, idx, i, j)
    di = (i1 - i0) / (nx - 1)
    dj = (j1 - j0) / (ny - 1)
    for r in range(ny):
        _slice_row(params, sizes, act, loss_kind, i, j, i0, di, j0 + r * dj, l0, pre, base,
                   ca, cb, yb, out[r])


def slice_grid(params, sizes, act, X, y, idx, loss_kind, i, j, i0, i1, j0, j1, out,
               parallel=True):
    """Mean loss over rows idx with p_i = i0 + c*(i1-i0)/(nx-1) along columns and
    p_j = j0 + r*(j1-j0)/(ny-1) along rows; out float64 (ny, nx). ``parallel``: rows on
    numba's threads (False: on the calling thread alone, as a background worker wants)."""
    fn = _slice_kernel if parallel else _slice_kernel_serial
    fn(params, sizes, act, X, y, idx, loss_kind, int(i), int(j),
       float(i0), float(i1), float(j0), float(j1), out)


# ----------------------------------------------------------------------------- numpy twins
def _act_np(act, z):
    if act == ACT_RELU:
        return np.maximum(z, 0.0)
    if act == ACT_SIGMOID:
        e = np.exp(-np.abs(z))
        return np.where(z >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
    if act == ACT_TANH:
        return np.tanh(z)
    if act == ACT_HARD_SIGMOID:
        return np.clip(z + 3.0, 0.0, 6.0) / 6.0
    return z.copy()


def _dact_np(act, z, h):
    if act == ACT_RELU:
        return (z > 0.0).astype(np.float64)
    if act == ACT_SIGMOID:
        return h * (1.0 - h)
    if act == ACT_TANH:
        return 1.0 - h * h
    if act == ACT_HARD_SIGMOID:
        return np.where((z > -3.0) & (z < 3.0), HARD_SIGMOID_SLOPE, 0.0)
    return np.ones_like(z)


def _layers_np(p, sizes):
    s = [int(v) for v in sizes]
    out = []
    for k, (wq, bq) in enumerate(param_offsets(s)):
        out.append((p[wq:bq].reshape(s[k + 1], s[k]), p[bq:bq + s[k + 1]]))
    return out


def _forward_full_np(p, sizes, act, X):
    """(output (n,), activations [X, h1, ..., hL], pre-activations [z1, ..., zL, zout]):
    one run of :func:`_forward_runs_full_np`."""
    A, Z = _forward_runs_full_np(np.asarray(p, dtype=np.float64)[None, :], sizes, act, X)
    A, Z = [a[0] for a in A], [z[0] for z in Z]
    return A[-1][:, 0], A, Z


def _point_loss_np(loss_kind, f, yv):
    if loss_kind == LOSS_MSE:
        r = f - yv
        return r * r, 2.0 * r
    if loss_kind == LOSS_MAE:
        r = f - yv
        return np.abs(r), np.sign(r)
    e = np.exp(-np.abs(f))
    loss = np.maximum(f, 0.0) - f * yv + np.log1p(e)
    s = np.where(f >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
    return loss, s - yv


def forward_np(params, sizes, act, X, out):
    """numpy twin of :func:`forward`."""
    out[...] = _forward_full_np(params, sizes, act, X)[0]


def loss_grad_np(params, sizes, act, X, y, idx, loss_kind, grad_out):
    """numpy twin of :func:`loss_grad` (layer-wise matrix backprop)."""
    Xb = np.asarray(X)[idx]
    f, A, Z = _forward_full_np(params, sizes, act, Xb)
    lv, dv = _point_loss_np(loss_kind, f, np.asarray(y)[idx])
    B = idx.shape[0]
    layers = _layers_np(params, sizes)
    delta = (dv / B)[:, None]
    for k in range(len(layers) - 1, -1, -1):
        W, _ = layers[k]
        wq, bq = param_offsets(sizes)[k]
        grad_out[wq:bq] = (delta.T @ A[k]).reshape(-1)
        grad_out[bq:bq + W.shape[0]] = delta.sum(axis=0)
        if k > 0:
            delta = (delta @ W) * _dact_np(act, Z[k - 1], A[k])
    return float(lv.sum() / B)


def hidden_outputs_np(params, sizes, act, X, out):
    """numpy twin of :func:`hidden_outputs`."""
    A = _forward_full_np(params, sizes, act, X)[1]
    hidden = A[1:-1]
    out[...] = np.concatenate(hidden, axis=1) if hidden else np.empty((X.shape[0], 0))


def _forward_runs_full_np(params, sizes, act, X):
    """Every run at once (batched matrix products): activations [X, h1, ..., out] and
    pre-activations [z1, ..., zout], each (R, n, width)."""
    s = [int(v) for v in sizes]
    R = params.shape[0]
    h = np.asarray(X, dtype=np.float64)[None, :, :]
    A, Z = [h], []
    offsets = param_offsets(s)
    for k, (wq, bq) in enumerate(offsets):
        W = params[:, wq:bq].reshape(R, s[k + 1], s[k])
        z = np.matmul(h, W.transpose(0, 2, 1)) + params[:, None, bq:bq + s[k + 1]]
        Z.append(z)
        h = z if k == len(offsets) - 1 else _act_np(act, z)
        A.append(h)
    return A, Z


def forward_runs_np(params, sizes, act, X, out):
    """numpy twin of :func:`forward_runs` (the runs together)."""
    out[...] = _forward_runs_full_np(params, sizes, act, X)[0][-1][:, :, 0]


def loss_grad_runs_np(params, sizes, act, X, y, idx, loss_kind, out_loss, out_grad):
    """numpy twin of :func:`loss_grad_runs`: :func:`loss_grad_np` for the runs together
    (batched matrix products; one run at a time cost ~1 ms of Python per run and step,
    the frames before the kernels compiled)."""
    s = [int(v) for v in sizes]
    R = params.shape[0]
    B = idx.shape[0]
    A, Z = _forward_runs_full_np(params, sizes, act, np.asarray(X)[idx])
    lv, dv = _point_loss_np(loss_kind, A[-1][:, :, 0], np.asarray(y)[idx][None, :])
    offsets = param_offsets(s)
    delta = (dv / B)[:, :, None]  # (R, B, 1)
    for k in range(len(offsets) - 1, -1, -1):
        wq, bq = offsets[k]
        a = A[k] if A[k].shape[0] == R else np.broadcast_to(A[k], (R,) + A[k].shape[1:])
        out_grad[:, wq:bq] = np.matmul(delta.transpose(0, 2, 1), a).reshape(R, -1)
        out_grad[:, bq:bq + s[k + 1]] = delta.sum(axis=1)
        if k > 0:
            W = params[:, wq:bq].reshape(R, s[k + 1], s[k])
            delta = np.matmul(delta, W) * _dact_np(act, Z[k - 1], A[k])
    out_loss[...] = lv.sum(axis=1) / B


def _param_place(sizes, q):
    """Where parameter ``q`` sits: (layer k, row u, column v) of W_k, or (k, u, -1) for
    the bias b_k[u]."""
    for k, (wq, bq) in enumerate(param_offsets(sizes)):
        if wq <= q < bq:
            return k, (q - wq) // sizes[k], (q - wq) % sizes[k]
        if bq <= q < bq + sizes[k + 1]:
            return k, q - bq, -1
    raise IndexError(f"no parameter {q}")


def slice_grid_np(params, sizes, act, X, y, idx, loss_kind, i, j, i0, i1, j0, j1, out,
                  parallel=True):
    """numpy twin of :func:`slice_grid`. The layers before the first one holding p_i or
    p_j are the same for every cell: once. From there the cells of a chunk go together,
    each layer one matrix product for all of them with p_i and p_j left out (zero), and
    their own values added as a column term (``parallel`` is the kernel's and changes
    nothing here)."""
    ny, nx = out.shape
    Xb = np.asarray(X, dtype=np.float64)[idx]
    yb = np.asarray(y, dtype=np.float64)[idx]
    s = [int(v) for v in sizes]
    base = np.array(params, dtype=np.float64)
    vi = i0 + np.arange(nx) * ((i1 - i0) / (nx - 1)) if nx > 1 else np.full(1, float(i0))
    vj = j0 + np.arange(ny) * ((j1 - j0) / (ny - 1)) if ny > 1 else np.full(1, float(j0))
    moved = [(j, _param_place(s, j)), (i, _param_place(s, i))] if i != j else [(i, _param_place(s, i))]
    base[[q for q, _ in moved]] = 0.0  # (their values come per cell)
    layers = _layers_np(base, s)
    l0 = min(place[0] for _, place in moved)
    h = Xb
    for k in range(l0):
        W, b = layers[k]
        h = _act_np(act, h @ W.T + b)
    last = len(layers) - 1
    n = Xb.shape[0]
    flat = np.empty(nx * ny)
    # grid cells in chunks, so the (cells, points, width) temporaries stay about 16 MB
    step = max(1, TWIN_CHUNK // max(1, n * max(s)))
    for a in range(0, nx * ny, step):
        cells = np.arange(a, min(a + step, nx * ny))
        value = {j: vj[cells // nx], i: vi[cells % nx]}  # (i last: it wins where i == j)
        H = h  # (n, w) the same for every cell, then (cells, n, w)
        for k in range(l0, len(layers)):
            W, b = layers[k]
            if H.ndim == 2:
                z = np.broadcast_to(H @ W.T + b, (cells.shape[0], n, W.shape[0])).copy()
            else:
                z = (H.reshape(-1, W.shape[1]) @ W.T).reshape(cells.shape[0], n, W.shape[0]) + b
            for q, (kq, u, v) in moved:
                if kq != k:
                    continue
                col = 1.0 if v < 0 else (H[:, v] if H.ndim == 2 else H[:, :, v])
                z[:, :, u] += value[q][:, None] * col
            H = z if k == last else _act_np(act, z)
        flat[a:a + cells.shape[0]] = _point_loss_np(loss_kind, H[:, :, 0], yb[None, :])[0].mean(axis=1)
    out[...] = flat.reshape(ny, nx)


# ----------------------------------------------------------------------------- warmup / registry
def _warm_inputs():
    sizes = np.array([2, 3, 2, 1], dtype=np.int64)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 2))
    y = (rng.uniform(size=5) > 0.5).astype(np.float64)
    idx = np.arange(5, dtype=np.int64)
    return sizes, rng.normal(size=(2, n_params(sizes))), X, y, idx


def _idx_as_used(idx):
    """The batch indices as the callers pass them: the sampler's read-only arrays (training
    batches, the full set: the network lessons' grids and first losses) and writable ones
    (the validation set's ``arange``). numba compiles each separately: warm both, so that
    neither is compiled (or loaded from the disk cache) in the UI thread when a lesson opens."""
    ro = idx.copy()
    ro.flags.writeable = False
    return idx, ro


def _warm_forward():
    sizes, P, X, _, _ = _warm_inputs()
    out = np.empty((2, 5))
    _forward_serial(P, sizes, ACT_RELU, X, out)
    _forward_parallel(P, sizes, ACT_RELU, X, out)
    _hidden_run(P[0], sizes, ACT_RELU, X, np.empty((5, 5)))


def _warm_loss_grad():
    sizes, P, X, y, idx = _warm_inputs()
    L = np.empty(2)
    G = np.empty_like(P)
    for i in _idx_as_used(idx):
        _loss_grad_serial(P, sizes, ACT_RELU, X, y, i, LOSS_MSE, L, G)
        _loss_grad_parallel(P, sizes, ACT_RELU, X, y, i, LOSS_MSE, L, G)


def _warm_slice():
    sizes, P, X, y, idx = _warm_inputs()
    for fn in (_slice_kernel, _slice_kernel_serial):
        for i in _idx_as_used(idx):
            fn(P[0], sizes, ACT_RELU, X, y, i, LOSS_MSE, 0, 1, -1.0, 1.0, -1.0, 1.0,
               np.empty((3, 3)))


register("mlp.forward", forward_runs, forward_runs_np, _warm_forward)
register("mlp.loss_grad", loss_grad_runs, loss_grad_runs_np, _warm_loss_grad)
register("mlp.hidden_outputs", hidden_outputs, hidden_outputs_np, _warm_forward)
register("mlp.slice_grid", slice_grid, slice_grid_np, _warm_slice)
