"""Map kernel: many 2-D runs stepped to their budget, keeping only where they end.

A basin map or a hyperparameter map is one run per pixel. Each run is exactly the run
:func:`gdviz.kernels.optim.advance_landscape` would step (the same :func:`update`,
:func:`schedule_at`, :func:`bias_corrections` and :func:`gauss`, imported, not copied),
but no trajectory is kept: per run we return the end position and loss, the first step
at which it had converged and the step at which it diverged.

Noise: every pixel draws the noise stream of run index ``noise_run`` (the selected run's
index in its race), so a pixel equals, bit for bit, a :class:`~gdviz.core.engine.RunSet`
run at that index with the same seed. Pixels differ in their start or hyperparameters,
never in their noise (a map is then deterministic, and smooth where the dynamics are).

Arrays (``n`` pixels): kind int64 (n,), hyper float64 (n, N_HYPER), sched_kind int64 (n,),
sched_params float64 (n, N_SCHED) (as in :func:`opt_step`); noise_std float64 (n,)
(per pixel: a batch-size axis changes it); starts float64 (n, 2). Outputs: end float64
(n, 2), end_loss float64 (n,), conv_at int64 (n,) (-1: never), diverged_at int64 (n,)
(-1: alive; 0: the start itself is undefined). A diverged pixel's end is its last good
position. Converged at step t: the exact gradient's norm at step t and the length of step
t are both <= tol (a run that passes a minimum at speed has not converged).
"""

from __future__ import annotations

import math

import numpy as np

from gdviz.kernels import register
from gdviz.kernels._jit import PARALLEL_WORK, ijit, jit, pjit, prange
from gdviz.kernels.expr import program_vg_buf
from gdviz.kernels.optim import (ADAGRAD, H_ALPHA, H_AMSGRAD, H_BETA1, H_BETA2, H_CENTERED,
                                 H_DAMPENING, H_EPS, H_INITIAL_ACCUMULATOR_VALUE, H_LR,
                                 H_LR_DECAY, H_MOMENTUM, H_NESTEROV, H_WEIGHT_DECAY, N_HYPER,
                                 N_SCHED, _sched_run, _scheduled, _stack_for, _vg, _vg_np,
                                 bias_corrections, gauss, gauss_np, hyper_at, update,
                                 update_np)
from gdviz.kernels.surfaces import surface_vg


#: runs per piece of a map call (one prange iteration). A piece's runs are stepped
#: together, step by step, each step over all of them: one run's step is a chain of
#: dependent divisions and square roots, and the runs of a piece are independent chains the
#: CPU overlaps (about 1.8x a run-after-run loop). The schedule, the noise draws and Adam's
#: bias corrections are computed once per step for runs that share them (every pixel of a
#: basin map; a row of an lr x beta map).
PIECE = 64

# rows of a piece's scratch array: position, loss, gradient, optimizer state (3 slots x 2)
_X, _Y, _F, _GX, _GY, _AX, _AY, _BX, _BY, _CX, _CY = range(11)
_N_ROWS = 11


@ijit
def _same_schedule(sched_kind, sched_params, lo, hi):
    """True if runs lo..hi-1 all have run lo's schedule."""
    for r in range(lo + 1, hi):
        if sched_kind[r] != sched_kind[lo]:
            return False
        for j in range(N_SCHED):
            if sched_params[r, j] != sched_params[lo, j]:
                return False
    return True


@jit
def _map_piece(c, sid, code, consts, kind, hyper, sched_kind, sched_params, total, steps,
               noise_std, noise_run, seed, bound, tol, starts, end, end_loss, conv_at,
               diverged_at):
    """Runs ``c * PIECE`` .. ``(c + 1) * PIECE - 1``, each exactly as
    :func:`~gdviz.kernels.optim.advance_landscape` steps it (the same functions, the same
    arithmetic, in the same order)."""
    lo = c * PIECE
    hi = min(lo + PIECE, starts.shape[0])
    m = hi - lo
    w = np.empty((_N_ROWS, m))
    alive = np.empty(m, dtype=np.bool_)
    conv = np.full(m, -1, dtype=np.int64)
    stack = _stack_for(sid)
    n_alive = 0
    noisy = False
    for i in range(m):
        r = lo + i
        x = starts[r, 0]
        y = starts[r, 1]
        f, gx, gy = _vg(sid, code, consts, x, y, stack)
        end[r, 0] = x
        end[r, 1] = y
        end_loss[r] = f
        conv_at[r] = -1
        diverged_at[r] = -1
        ok = math.isfinite(f) and math.isfinite(gx) and math.isfinite(gy)
        alive[i] = ok
        if ok:
            n_alive += 1
        else:
            diverged_at[r] = 0
        a0 = hyper[r, H_INITIAL_ACCUMULATOR_VALUE] if kind[r] == ADAGRAD else 0.0
        w[_X, i] = x
        w[_Y, i] = y
        w[_F, i] = f
        w[_GX, i] = gx
        w[_GY, i] = gy
        w[_AX, i] = a0
        w[_AY, i] = a0
        w[_BX, i] = 0.0
        w[_BY, i] = 0.0
        w[_CX, i] = 0.0
        w[_CY, i] = 0.0
        if noise_std[r] != 0.0:
            noisy = True
    one_schedule = _same_schedule(sched_kind, sched_params, lo, hi)
    tol2 = tol * tol
    lrf, has_mom, momv = 1.0, False, 0.0
    z0 = 0.0
    z1 = 0.0
    for t in range(1, steps + 1):
        if n_alive == 0:
            break
        if noisy:  # every pixel draws the noise of run noise_run
            z0 = gauss(seed, noise_run, t, 0)
            z1 = gauss(seed, noise_run, t, 1)
        fresh = True  # the schedule at step t is not computed yet
        pk = -1  # the (kind, beta1, beta2) whose bias corrections bc1, bc2 hold
        pb1 = 0.0
        pb2 = 0.0
        bc1 = 1.0
        bc2 = 1.0
        for i in range(m):
            if not alive[i]:
                continue
            r = lo + i
            kd = kind[r]
            if fresh or not one_schedule:  # one schedule: the first live run's is everyone's
                lrf, has_mom, momv = _sched_run(sched_kind, sched_params, r, t, total)
                fresh = False
            lr, mom, b1 = hyper_at(kd, hyper[r, H_LR], hyper[r, H_MOMENTUM], hyper[r, H_BETA1],
                                   lrf, has_mom, momv)
            b2 = hyper[r, H_BETA2]
            if kd != pk or b1 != pb1 or b2 != pb2:  # a pure function of these: reuse
                bc1, bc2 = bias_corrections(kd, b1, b2, t)
                pk = kd
                pb1 = b1
                pb2 = b2
            damp = hyper[r, H_DAMPENING]
            nest = hyper[r, H_NESTEROV] != 0.0
            alpha = hyper[r, H_ALPHA]
            eps = hyper[r, H_EPS]
            wd = hyper[r, H_WEIGHT_DECAY]
            lr_decay = hyper[r, H_LR_DECAY]
            ams = hyper[r, H_AMSGRAD] != 0.0
            centered = hyper[r, H_CENTERED] != 0.0
            x = w[_X, i]
            y = w[_Y, i]
            gx = w[_GX, i]
            gy = w[_GY, i]
            nx = gx
            ny = gy
            ns = noise_std[r]
            if ns != 0.0:
                nx = gx + ns * z0
                ny = gy + ns * z1
            xn, ax, bx, cx, _gx, _sx = update(kd, x, nx, w[_AX, i], w[_BX, i], w[_CX, i], t,
                                              lr, mom, damp, nest, alpha, eps, b1, b2, wd,
                                              lr_decay, ams, centered, bc1, bc2)
            yn, ay, by, cy, _gy, _sy = update(kd, y, ny, w[_AY, i], w[_BY, i], w[_CY, i], t,
                                              lr, mom, damp, nest, alpha, eps, b1, b2, wd,
                                              lr_decay, ams, centered, bc1, bc2)
            # not _vg: an inlined call that takes arrays costs an atomic reference-count
            # increment and decrement of each (counts all threads share) per step
            if sid >= 0:
                fn, gxn, gyn = surface_vg(sid, xn, yn)
            else:
                fn, gxn, gyn = program_vg_buf(code, consts, xn, yn, stack)
            if not (math.isfinite(xn) and math.isfinite(yn) and math.isfinite(fn)
                    and math.isfinite(gxn) and math.isfinite(gyn)
                    and abs(xn) <= bound and abs(yn) <= bound):
                diverged_at[r] = t  # its end stays its last good position
                alive[i] = False
                n_alive -= 1
                continue
            dx = xn - x
            dy = yn - y
            w[_X, i] = xn
            w[_Y, i] = yn
            w[_F, i] = fn
            w[_GX, i] = gxn
            w[_GY, i] = gyn
            w[_AX, i] = ax
            w[_AY, i] = ay
            w[_BX, i] = bx
            w[_BY, i] = by
            w[_CX, i] = cx
            w[_CY, i] = cy
            if conv[i] < 0 and gxn * gxn + gyn * gyn <= tol2 and dx * dx + dy * dy <= tol2:
                conv[i] = t
    for i in range(m):
        r = lo + i
        if diverged_at[r] != 0:
            end[r, 0] = w[_X, i]
            end[r, 1] = w[_Y, i]
            end_loss[r] = w[_F, i]
            conv_at[r] = conv[i]


@pjit
def _map_par(sid, code, consts, kind, hyper, sched_kind, sched_params, total, steps,
             noise_std, noise_run, seed, bound, tol, starts, end, end_loss, conv_at,
             diverged_at):
    for c in prange((starts.shape[0] + PIECE - 1) // PIECE):
        _map_piece(c, sid, code, consts, kind, hyper, sched_kind, sched_params, total, steps,
                   noise_std, noise_run, seed, bound, tol, starts, end, end_loss, conv_at,
                   diverged_at)


@jit
def _map_ser(sid, code, consts, kind, hyper, sched_kind, sched_params, total, steps,
             noise_std, noise_run, seed, bound, tol, starts, end, end_loss, conv_at,
             diverged_at):
    for c in range((starts.shape[0] + PIECE - 1) // PIECE):
        _map_piece(c, sid, code, consts, kind, hyper, sched_kind, sched_params, total, steps,
                   noise_std, noise_run, seed, bound, tol, starts, end, end_loss, conv_at,
                   diverged_at)


def map_landscape(sid, code, consts, kind, hyper, sched_kind, sched_params, total, steps,
                  noise_std, noise_run, seed, bound, tol, starts, end, end_loss, conv_at,
                  diverged_at):
    """Step every pixel's run ``steps`` times from ``starts`` (see the module docstring)."""
    n = starts.shape[0]
    fn = _map_par if n * max(steps, 1) >= PARALLEL_WORK and n > 1 else _map_ser
    fn(sid, code, consts, kind, hyper, sched_kind, sched_params, total, steps, noise_std,
       noise_run, seed, bound, tol, starts, end, end_loss, conv_at, diverged_at)


def map_landscape_np(sid, code, consts, kind, hyper, sched_kind, sched_params, total, steps,
                     noise_std, noise_run, seed, bound, tol, starts, end, end_loss, conv_at,
                     diverged_at):
    """Numpy twin of :func:`map_landscape`: vectorised over pixels, a loop over steps."""
    n = starts.shape[0]
    P = np.array(starts, dtype=np.float64)
    f, gx, gy = _vg_np(sid, code, consts, P[:, 0], P[:, 1])
    F = np.array(f, dtype=np.float64).reshape(n)
    G = np.stack([np.broadcast_to(gx, (n,)), np.broadcast_to(gy, (n,))], axis=1).astype(
        np.float64)
    end[...] = P
    end_loss[...] = F
    conv_at[...] = -1
    diverged_at[...] = -1
    ok0 = np.isfinite(F) & np.isfinite(G).all(axis=1)
    diverged_at[~ok0] = 0
    runs = np.nonzero(ok0)[0]
    P, F, G = P[runs], F[runs], G[runs]
    KD, HY, SK, SP, NS = kind[runs], hyper[runs], sched_kind[runs], sched_params[runs], \
        noise_std[runs]
    S = np.zeros((runs.size, 3, 2))
    ada = KD == ADAGRAD
    S[ada, 0, :] = HY[ada, H_INITIAL_ACCUMULATOR_VALUE][:, None]
    conv = np.full(runs.size, -1, dtype=np.int64)
    for t in range(1, steps + 1):
        if runs.size == 0:
            break
        lr, mom, b1 = _scheduled(KD, HY, SK, SP, t, total)
        g = G
        if np.any(NS != 0.0):
            z = np.array([noise_run], dtype=np.int64)
            g = G.copy()
            g[:, 0] = G[:, 0] + NS * gauss_np(seed, z, t, 0)[0]
            g[:, 1] = G[:, 1] + NS * gauss_np(seed, z, t, 1)[0]
            g = np.where((NS != 0.0)[:, None], g, G)
        ot = np.full(runs.size, t, dtype=np.int64)
        Pn, S, _gu, _ss = update_np(KD, HY, P, g, S, ot, lr, mom, b1)
        fn, gxn, gyn = _vg_np(sid, code, consts, Pn[:, 0], Pn[:, 1])
        with np.errstate(invalid="ignore"):
            ok = (np.isfinite(Pn).all(axis=1) & np.isfinite(fn) & np.isfinite(gxn)
                  & np.isfinite(gyn) & (np.abs(Pn) <= bound).all(axis=1))
        if not ok.all():
            bad = ~ok
            rows = runs[bad]
            diverged_at[rows] = t
            end[rows] = P[bad]
            end_loss[rows] = F[bad]
            conv_at[rows] = conv[bad]
            keep = ok
            runs = runs[keep]
            P, F, S, conv = P[keep], F[keep], S[keep], conv[keep]
            KD, HY, SK, SP, NS = KD[keep], HY[keep], SK[keep], SP[keep], NS[keep]
            Pn, fn, gxn, gyn = Pn[keep], fn[keep], gxn[keep], gyn[keep]
        D = Pn - P
        P = Pn
        F = fn
        G = np.stack([gxn, gyn], axis=1)
        with np.errstate(over="ignore", invalid="ignore"):
            now = (conv < 0) & ((G * G).sum(axis=1) <= tol * tol) & \
                ((D * D).sum(axis=1) <= tol * tol)
        conv[now] = t
    end[runs] = P
    end_loss[runs] = F
    conv_at[runs] = conv


def _warm():
    n = 2
    kind = np.array([0, 3], dtype=np.int64)
    hyper = np.zeros((n, N_HYPER))
    hyper[:, H_LR] = 1e-2
    hyper[:, H_EPS] = 1e-8
    hyper[:, H_BETA1] = 0.9
    hyper[:, H_BETA2] = 0.999
    hyper[:, H_ALPHA] = 0.99
    sk = np.zeros(n, dtype=np.int64)
    sp = np.ones((n, N_SCHED))
    code = np.zeros(0, dtype=np.int64)
    consts = np.zeros(0)
    for fn in (_map_ser, _map_par):
        fn(0, code, consts, kind, hyper, sk, sp, 10, 3, np.full(n, 0.1), 0, 0, 1e6, 1e-6,
           np.ones((n, 2)), np.empty((n, 2)), np.empty(n), np.empty(n, dtype=np.int64),
           np.empty(n, dtype=np.int64))


register("map_landscape", map_landscape, map_landscape_np, _warm)


# ---------------------------------------------------------------------- basins' clusters
# A basin map's end points grouped into basins (gdviz.core.maps.cluster_greedy): the
# points by grid cell, a cell a hair wider than the radius (gdviz.core.maps._CellGrid:
# ``order`` sorts the points by cell number, ``skey`` is their sorted cell numbers,
# ``around`` the steps to the 3x3 cells around a cell). Greedy, in the points' order: the
# first point left seeds a cluster of the points left within ``r2`` (squared radius) of
# it; fewer than ``min_members`` are stragglers, dropped; else the cluster is the points
# left within the radius of their mean. Out: ``labels`` (m,) the cluster of each point
# (-1: a straggler), ``centres`` (k, 2) in the order found. In the map's worker thread: a
# flat surface's 256² map has ~700 clusters, and the loop in Python held the GIL for
# ~100 ms at a time beside the UI thread.


@ijit
def _cell_of(qx, qy, cell, x0, y0, span):
    return np.int64(math.floor(qx / cell) - x0) * span + np.int64(math.floor(qy / cell) - y0)


@ijit
def _first_at_least(skey, key):
    lo, hi = 0, skey.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if skey[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


@ijit
def _near_left(P, qx, qy, cell, x0, y0, span, order, skey, around, r2, left, buf):
    """The points left within the radius of (qx, qy) into ``buf``, ascending; how many."""
    key = _cell_of(qx, qy, cell, x0, y0, span)
    cnt = 0
    for s in range(around.shape[0]):
        k = key + around[s]
        j = _first_at_least(skey, k)
        while j < skey.shape[0] and skey[j] == k:
            p = order[j]
            if left[p]:
                dx = P[p, 0] - qx
                dy = P[p, 1] - qy
                if dx * dx + dy * dy <= r2:
                    buf[cnt] = p
                    cnt += 1
            j += 1
    buf[:cnt].sort()
    return cnt


@jit
def _cluster_cells(P, cell, x0, y0, span, order, skey, around, r2, min_members, labels,
                   centres):
    m = P.shape[0]
    left = np.ones(m, dtype=np.bool_)
    buf = np.empty(m, dtype=np.int64)
    nc = 0
    first = 0
    while True:
        while first < m and not left[first]:
            first += 1
        if first >= m:
            return nc
        cnt = _near_left(P, P[first, 0], P[first, 1], cell, x0, y0, span, order, skey,
                         around, r2, left, buf)
        if cnt < min_members:  # stragglers, not a basin
            for i in range(cnt):
                left[buf[i]] = False
            left[first] = False  # (itself among them: on any grid, the loop moves on)
            continue
        sx = 0.0
        sy = 0.0
        for i in range(cnt):  # (in the points' order, as numpy's mean over axis 0 adds)
            sx += P[buf[i], 0]
            sy += P[buf[i], 1]
        cx = sx / cnt
        cy = sy / cnt
        # re-gathered around the mean, so that the basin is not cut by the seed's position
        got = _near_left(P, cx, cy, cell, x0, y0, span, order, skey, around, r2, left, buf)
        for i in range(got):
            left[buf[i]] = False
            labels[buf[i]] = nc
        centres[nc, 0] = cx
        centres[nc, 1] = cy
        nc += 1


def cluster_cells(P, cell, x0, y0, span, order, skey, around, r2, min_members):
    """The greedy clusters of ``P`` (m, 2) by grid cells (see above): (labels, centres)."""
    P = np.ascontiguousarray(P, dtype=np.float64)
    m = P.shape[0]
    labels = np.full(m, -1, dtype=np.int64)
    centres = np.empty((m, 2))
    nc = _cluster_cells(P, float(cell), float(x0), float(y0), np.int64(span),
                        np.ascontiguousarray(order, dtype=np.int64),
                        np.ascontiguousarray(skey, dtype=np.int64),
                        np.ascontiguousarray(around, dtype=np.int64), float(r2),
                        np.int64(min_members), labels, centres)
    return labels, centres[:nc].copy()


def cluster_cells_np(P, cell, x0, y0, span, order, skey, around, r2, min_members):
    """Numpy twin of :func:`cluster_cells`: the cells' points gathered with searchsorted,
    a Python loop over the seeds."""
    P = np.asarray(P, dtype=np.float64).reshape(-1, 2)
    m = len(P)
    labels = np.full(m, -1, dtype=np.int64)
    centres = []
    left = np.ones(m, dtype=bool)

    def near(q) -> np.ndarray:
        """Positions (ascending) of the points left within the radius of ``q``."""
        k = np.floor(np.asarray(q, dtype=np.float64) / cell)
        keys = np.int64(k[0] - x0) * span + np.int64(k[1] - y0) + around
        lo = np.searchsorted(skey, keys, "left")
        hi = np.searchsorted(skey, keys, "right")
        cand = np.concatenate([order[a:b] for a, b in zip(lo, hi) if b > a] or
                              [np.zeros(0, dtype=np.int64)])
        cand = np.sort(cand[left[cand]])
        return cand[((P[cand] - q) ** 2).sum(axis=1) <= r2]

    first = 0
    while True:
        while first < m and not left[first]:
            first += 1
        if first >= m:
            break
        members = near(P[first])
        if members.size < min_members:  # a straggler, not a basin
            left[members] = False
            left[first] = False
            continue
        centre = P[members].mean(axis=0)
        got = near(centre)
        left[got] = False
        labels[got] = len(centres)
        centres.append(centre)
    return labels, np.array(centres, dtype=np.float64).reshape(-1, 2)


def _warm_clusters():
    P = np.array([[0.0, 0.0], [0.01, 0.0], [1.0, 1.0]])
    # (a cell of 0.1: the points in cells (0, 0), (0, 0), (10, 10); 13 cells a column)
    cluster_cells(P, 0.1, 0.0, 0.0, 13, np.array([0, 1, 2]), np.array([0, 0, 140]),
                  np.array([-14, -13, -12, -1, 0, 1, 12, 13, 14]), 0.01, 2)


register("cluster_basins", cluster_cells, cluster_cells_np, _warm_clusters)
