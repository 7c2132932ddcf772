"""Analytic test surfaces: value and exact gradient, per point and on grids.

``surface_vg(sid, x, y)`` is the one scalar definition of every surface (value and
analytic gradient, an if/elif on ``sid``). It is inlined into the point and grid
kernels here and into the optimizer kernels elsewhere. ``SURFACE_IDS`` maps a
surface's name to its ``sid``; :mod:`gdviz.core.surfaces` holds the rest of each
entry (formula, view box, minima).

The numpy twins compute the same expressions in the same order, so the kernels and
their twins agree to rounding (transcendental functions may differ by an ulp).
"""

from __future__ import annotations

import math

import numpy as np

from gdviz.kernels import register
from gdviz.kernels._jit import ijit, pjit, prange

SURFACE_IDS: dict[str, int] = {
    "quadratic": 0,
    "ellipse": 1,
    "saddle": 2,
    "rosenbrock": 3,
    "beale": 4,
    "himmelblau": 5,
    "booth": 6,
    "matyas": 7,
    "six-hump-camel": 8,
    "rastrigin": 9,
    "ackley": 10,
    "goldstein-price": 11,
}

_PI = math.pi
_TWO_PI = 2.0 * math.pi
_E = math.e
_SQRT_HALF = math.sqrt(0.5)


@ijit
def surface_vg(sid, x, y):
    """Value and gradient of surface ``sid`` at one point: ``(f, df/dx, df/dy)``, float64.

    An unknown ``sid`` gives ``(nan, nan, nan)`` (kernels cannot raise usefully).
    """
    if sid == 0:  # quadratic
        return x * x + y * y, 2.0 * x, 2.0 * y
    elif sid == 1:  # ellipse
        return x * x + 10.0 * y * y, 2.0 * x, 20.0 * y
    elif sid == 2:  # saddle
        return x * x - y * y, 2.0 * x, -2.0 * y
    elif sid == 3:  # rosenbrock
        a = 1.0 - x
        b = y - x * x
        return a * a + 100.0 * b * b, -2.0 * a - 400.0 * x * b, 200.0 * b
    elif sid == 4:  # beale
        y2 = y * y
        y3 = y2 * y
        t1 = 1.5 - x + x * y
        t2 = 2.25 - x + x * y2
        t3 = 2.625 - x + x * y3
        f = t1 * t1 + t2 * t2 + t3 * t3
        gx = 2.0 * (t1 * (y - 1.0) + t2 * (y2 - 1.0) + t3 * (y3 - 1.0))
        gy = 2.0 * x * (t1 + 2.0 * y * t2 + 3.0 * y2 * t3)
        return f, gx, gy
    elif sid == 5:  # himmelblau
        a = x * x + y - 11.0
        b = x + y * y - 7.0
        return a * a + b * b, 4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b
    elif sid == 6:  # booth
        a = x + 2.0 * y - 7.0
        b = 2.0 * x + y - 5.0
        return a * a + b * b, 2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b
    elif sid == 7:  # matyas
        return (0.26 * (x * x + y * y) - 0.48 * x * y,
                0.52 * x - 0.48 * y, 0.52 * y - 0.48 * x)
    elif sid == 8:  # six-hump camel
        x2 = x * x
        y2 = y * y
        f = (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (-4.0 + 4.0 * y2) * y2
        gx = 8.0 * x - 8.4 * x2 * x + 2.0 * x2 * x2 * x + y
        gy = x - 8.0 * y + 16.0 * y2 * y
        return f, gx, gy
    elif sid == 9:  # rastrigin
        f = (20.0 + x * x - 10.0 * math.cos(_TWO_PI * x)
             + y * y - 10.0 * math.cos(_TWO_PI * y))
        gx = 2.0 * x + 10.0 * _TWO_PI * math.sin(_TWO_PI * x)
        gy = 2.0 * y + 10.0 * _TWO_PI * math.sin(_TWO_PI * y)
        return f, gx, gy
    elif sid == 10:  # ackley (a=20, b=0.2, c=2π)
        # hypot, not sqrt(x*x + y*y): x*x underflows for |x| < 1e-154 and r would be 0
        r = _SQRT_HALF * math.hypot(x, y)
        e1 = math.exp(-0.2 * r)
        e2 = math.exp(0.5 * (math.cos(_TWO_PI * x) + math.cos(_TWO_PI * y)))
        f = -20.0 * e1 - e2 + _E + 20.0
        # d/dx of -20 exp(-0.2 r) is 2 exp(-0.2 r) x / r: a cone's tip, undefined at the
        # origin; we return its subgradient 0 there rather than 0/0 = nan
        k = 2.0 * e1 / r if r > 0.0 else 0.0
        gx = k * x + _PI * math.sin(_TWO_PI * x) * e2
        gy = k * y + _PI * math.sin(_TWO_PI * y) * e2
        return f, gx, gy
    elif sid == 11:  # goldstein-price
        s = x + y + 1.0
        p = 19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y
        dp = -14.0 + 6.0 * x + 6.0 * y  # dp/dx and dp/dy are equal
        a = 1.0 + s * s * p
        da = 2.0 * s * p + s * s * dp  # da/dx == da/dy likewise
        u = 2.0 * x - 3.0 * y
        q = 18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y
        b = 30.0 + u * u * q
        dbx = 4.0 * u * q + u * u * (-32.0 + 24.0 * x - 36.0 * y)
        dby = -6.0 * u * q + u * u * (48.0 - 36.0 * x + 54.0 * y)
        return a * b, da * b + a * dbx, da * b + a * dby
    return np.nan, np.nan, np.nan


@pjit
def eval_points(sid, xs, ys, f, gx, gy):
    """Value and gradient of surface ``sid`` at n points.

    xs, ys: float64 (n,); writes f, gx, gy: float64 (n,).
    """
    for i in prange(xs.shape[0]):
        fi, gxi, gyi = surface_vg(sid, xs[i], ys[i])
        f[i] = fi
        gx[i] = gxi
        gy[i] = gyi


@pjit
def grid_eval(sid, x0, x1, y0, y1, out):
    """Values of surface ``sid`` on a grid: ``out[j, i] = f(x_i, y_j)``.

    out: float64 (ny, nx), C-contiguous; x_i = x0 + i*(x1-x0)/(nx-1), y_j likewise
    (a single row or column sits at x0 or y0).
    """
    ny, nx = out.shape
    # i*(x1-x0)/(nx-1) as written, not i*dx: the last node then lands on x1 itself
    sx = x1 - x0 if nx > 1 else 0.0
    sy = y1 - y0 if ny > 1 else 0.0
    mx = max(nx - 1, 1)
    my = max(ny - 1, 1)
    xs = np.empty(nx)  # once, not per row: the division is a quarter of the work
    for i in range(nx):
        xs[i] = x0 + i * sx / mx
    for j in prange(ny):
        y = y0 + j * sy / my
        for i in range(nx):
            # only f is kept; after inlining, LLVM drops the gradient arithmetic
            out[j, i] = surface_vg(sid, xs[i], y)[0]


# ---------------------------------------------------------------- numpy twins


def surface_f_np(sid: int, x, y) -> np.ndarray:
    """Value only of surface ``sid``, elementwise over broadcastable float64 arrays.

    This is the vectorised-numpy baseline of the ``grid-eval`` bench, so it computes
    no gradient and lets broadcasting do the x-only and y-only parts once.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if sid == 0:
        return x * x + y * y
    if sid == 1:
        return x * x + 10.0 * y * y
    if sid == 2:
        return x * x - y * y
    if sid == 3:
        a = 1.0 - x
        b = y - x * x
        return a * a + 100.0 * b * b
    if sid == 4:
        y2 = y * y
        y3 = y2 * y
        t1 = 1.5 - x + x * y
        t2 = 2.25 - x + x * y2
        t3 = 2.625 - x + x * y3
        return t1 * t1 + t2 * t2 + t3 * t3
    if sid == 5:
        a = x * x + y - 11.0
        b = x + y * y - 7.0
        return a * a + b * b
    if sid == 6:
        a = x + 2.0 * y - 7.0
        b = 2.0 * x + y - 5.0
        return a * a + b * b
    if sid == 7:
        return 0.26 * (x * x + y * y) - 0.48 * x * y
    if sid == 8:
        x2 = x * x
        y2 = y * y
        return (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (-4.0 + 4.0 * y2) * y2
    if sid == 9:
        return (20.0 + x * x - 10.0 * np.cos(_TWO_PI * x)
                + y * y - 10.0 * np.cos(_TWO_PI * y))
    if sid == 10:
        r = _SQRT_HALF * np.hypot(x, y)
        e2 = np.exp(0.5 * (np.cos(_TWO_PI * x) + np.cos(_TWO_PI * y)))
        return -20.0 * np.exp(-0.2 * r) - e2 + _E + 20.0
    if sid == 11:
        s = x + y + 1.0
        p = 19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y
        u = 2.0 * x - 3.0 * y
        q = 18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y
        return (1.0 + s * s * p) * (30.0 + u * u * q)
    return np.full(np.broadcast_shapes(x.shape, y.shape), np.nan)


def surface_vg_np(sid: int, x, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numpy twin of :func:`surface_vg`, elementwise.

    x, y: broadcastable float64 arrays; returns (f, df/dx, df/dy), each float64 of the
    broadcast shape.
    """
    x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    if sid == 0:
        f, gx, gy = x * x + y * y, 2.0 * x, 2.0 * y
    elif sid == 1:
        f, gx, gy = x * x + 10.0 * y * y, 2.0 * x, 20.0 * y
    elif sid == 2:
        f, gx, gy = x * x - y * y, 2.0 * x, -2.0 * y
    elif sid == 3:
        a = 1.0 - x
        b = y - x * x
        f, gx, gy = a * a + 100.0 * b * b, -2.0 * a - 400.0 * x * b, 200.0 * b
    elif sid == 4:
        y2 = y * y
        y3 = y2 * y
        t1 = 1.5 - x + x * y
        t2 = 2.25 - x + x * y2
        t3 = 2.625 - x + x * y3
        f = t1 * t1 + t2 * t2 + t3 * t3
        gx = 2.0 * (t1 * (y - 1.0) + t2 * (y2 - 1.0) + t3 * (y3 - 1.0))
        gy = 2.0 * x * (t1 + 2.0 * y * t2 + 3.0 * y2 * t3)
    elif sid == 5:
        a = x * x + y - 11.0
        b = x + y * y - 7.0
        f, gx, gy = a * a + b * b, 4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b
    elif sid == 6:
        a = x + 2.0 * y - 7.0
        b = 2.0 * x + y - 5.0
        f, gx, gy = a * a + b * b, 2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b
    elif sid == 7:
        f = 0.26 * (x * x + y * y) - 0.48 * x * y
        gx, gy = 0.52 * x - 0.48 * y, 0.52 * y - 0.48 * x
    elif sid == 8:
        x2 = x * x
        y2 = y * y
        f = (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (-4.0 + 4.0 * y2) * y2
        gx = 8.0 * x - 8.4 * x2 * x + 2.0 * x2 * x2 * x + y
        gy = x - 8.0 * y + 16.0 * y2 * y
    elif sid == 9:
        f = (20.0 + x * x - 10.0 * np.cos(_TWO_PI * x)
             + y * y - 10.0 * np.cos(_TWO_PI * y))
        gx = 2.0 * x + 10.0 * _TWO_PI * np.sin(_TWO_PI * x)
        gy = 2.0 * y + 10.0 * _TWO_PI * np.sin(_TWO_PI * y)
    elif sid == 10:
        r = _SQRT_HALF * np.hypot(x, y)
        e1 = np.exp(-0.2 * r)
        e2 = np.exp(0.5 * (np.cos(_TWO_PI * x) + np.cos(_TWO_PI * y)))
        f = -20.0 * e1 - e2 + _E + 20.0
        pos = r > 0.0
        k = np.where(pos, 2.0 * e1 / np.where(pos, r, 1.0), 0.0)  # 0 at the cone's tip
        gx = k * x + _PI * np.sin(_TWO_PI * x) * e2
        gy = k * y + _PI * np.sin(_TWO_PI * y) * e2
    elif sid == 11:
        s = x + y + 1.0
        p = 19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y
        dp = -14.0 + 6.0 * x + 6.0 * y
        a = 1.0 + s * s * p
        da = 2.0 * s * p + s * s * dp
        u = 2.0 * x - 3.0 * y
        q = 18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y
        b = 30.0 + u * u * q
        dbx = 4.0 * u * q + u * u * (-32.0 + 24.0 * x - 36.0 * y)
        dby = -6.0 * u * q + u * u * (48.0 - 36.0 * x + 54.0 * y)
        f, gx, gy = a * b, da * b + a * dbx, da * b + a * dby
    else:
        nan = np.full(x.shape, np.nan)
        return nan, nan.copy(), nan.copy()
    return f, gx, gy


def eval_points_np(sid: int, xs, ys, f, gx, gy) -> None:
    """Numpy twin of :func:`eval_points` (same signature, writes f, gx, gy: float64 (n,))."""
    f[:], gx[:], gy[:] = surface_vg_np(sid, xs, ys)


def grid_axis(a0: float, a1: float, n: int) -> np.ndarray:
    """The grid kernels' node coordinates: float64 (n,), a0 + i*(a1-a0)/(n-1) (a0 if n == 1)."""
    i = np.arange(n, dtype=np.float64)
    return a0 + i * (a1 - a0 if n > 1 else 0.0) / max(n - 1, 1)


def grid_eval_np(sid: int, x0: float, x1: float, y0: float, y1: float, out) -> None:
    """Numpy twin of :func:`grid_eval` (same signature, writes out: float64 (ny, nx))."""
    x = grid_axis(x0, x1, out.shape[1])
    y = grid_axis(y0, y1, out.shape[0])
    out[...] = surface_f_np(sid, x[np.newaxis, :], y[:, np.newaxis])


# ---------------------------------------------------------------- registry


def _warmup_grid() -> None:
    grid_eval(0, -1.0, 1.0, -1.0, 1.0, np.empty((2, 2)))


def _warmup_points() -> None:
    z = np.zeros(2)
    eval_points(0, z, z.copy(), np.empty(2), np.empty(2), np.empty(2))


register("surface-grid", grid_eval, grid_eval_np, _warmup_grid)
register("surface-points", eval_points, eval_points_np, _warmup_points)
