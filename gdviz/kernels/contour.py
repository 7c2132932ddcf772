"""Marching squares: contour line segments for many levels in one pass.

The landscape view redraws its contours whenever the visible box changes, so
all levels are computed together and drawn as one ``PlotDataItem`` with
``connect="pairs"``. Segment ``s`` runs from ``xy[2s]`` to ``xy[2s + 1]``.

Conventions (shared by the numba kernel and its numpy twin, which give the
same segments in the same order):

* A grid point is *above* a level when ``z >= level``.
* A cell is the quad with corners ``a = z[j, i]``, ``b = z[j, i+1]``,
  ``c = z[j+1, i+1]``, ``d = z[j+1, i]``. A cell with any non-finite corner
  is skipped: surfaces may hold inf/nan after divergence or a log domain error.
* Saddle cells are split by the mean of the four corners, as contourpy and
  matplotlib do by default.
* Edge crossings are interpolated linearly, always from the edge's
  lower-index corner, so the two cells sharing an edge produce bit-identical
  points.
* A corner exactly on the level cut off by itself would give a zero-length
  segment; those are dropped.

Segments are ordered by cell row ``j``, then cell column ``i``, then level.
"""

from __future__ import annotations

import math

import numpy as np

from . import is_ready, register
from ._jit import ijit, pjit, prange

__all__ = ["contour_segments", "contour_segments_nb", "contour_segments_np", "nice_levels"]

# Edge numbering: 0 bottom (a-b), 1 right (b-c), 2 top (d-c), 3 left (a-d).
# Case bits: a=1, b=2, c=4, d=8 set when that corner is above the level.
# _TABLE[case + 16*centre_above] = (first edge pair, second edge pair); -1 = none.
# Non-saddle cases ignore the centre. Saddles (5, 10): the above corners are
# joined through the centre when the centre is above, so the lines cut off the
# below corners; otherwise they cut off the above corners.
_ROWS = {
    1: (0, 3), 2: (0, 1), 3: (3, 1), 4: (1, 2), 6: (0, 2), 7: (3, 2),
    8: (3, 2), 9: (0, 2), 11: (1, 2), 12: (3, 1), 13: (0, 1), 14: (0, 3),
}
_TABLE = np.full((32, 4), -1, dtype=np.int64)
for _case, _edges in _ROWS.items():
    _TABLE[_case, :2] = _edges
    _TABLE[_case + 16, :2] = _edges
_TABLE[5] = (0, 3, 1, 2)        # a, c above; centre below: cut off a and c
_TABLE[5 + 16] = (0, 1, 3, 2)   # centre above: cut off b and d
_TABLE[10] = (0, 1, 3, 2)       # b, d above; centre below: cut off b and d
_TABLE[10 + 16] = (0, 3, 1, 2)  # centre above: cut off a and c
del _case, _edges

# Which corner (0=a, 1=b, 2=c, 3=d) each segment of _TABLE cuts off, so that a
# cut-off corner sitting exactly on the level (a zero-length segment) can be
# dropped. Only an *above* corner can equal the level, so only cut-offs of
# above corners are listed; -1 = the cut-off corner is below (never degenerate).
_CUT = np.full((32, 2), -1, dtype=np.int64)
for _case, _corner in ((1, 0), (2, 1), (4, 2), (8, 3)):
    _CUT[_case, 0] = _corner
    _CUT[_case + 16, 0] = _corner
_CUT[5] = (0, 2)
_CUT[10] = (1, 3)
del _case, _corner


# --------------------------------------------------------------------------- numba kernel

@ijit
def _corner(q, za, zb, zc, zd):
    if q == 0:
        return za
    if q == 1:
        return zb
    if q == 2:
        return zc
    return zd


@ijit
def _cell_case(ka, kb, kc, kd, k, za, zb, zc, zd, lev):
    """Table row for level index ``k`` in a cell whose corner level counts are ka..kd."""
    case = 0
    if ka > k:
        case |= 1
    if kb > k:
        case |= 2
    if kc > k:
        case |= 4
    if kd > k:
        case |= 8
    if case == 5 or case == 10:
        if 0.25 * (za + zb + zc + zd) >= lev:
            case += 16
    return case


@ijit
def _keep(row, s, za, zb, zc, zd, lev):
    """False if segment ``s`` of table row ``row`` is absent or has zero length."""
    if _TABLE[row, 2 * s] < 0:
        return False
    q = _CUT[row, s]
    if q >= 0 and _corner(q, za, zb, zc, zd) == lev:
        return False
    return True


@ijit
def _edge_xy(e, i, j, za, zb, zc, zd, lev, x0, y0, dx, dy):
    if e == 0:
        t = (lev - za) / (zb - za)
        return x0 + (i + t) * dx, y0 + j * dy
    if e == 1:
        t = (lev - zb) / (zc - zb)
        return x0 + (i + 1) * dx, y0 + (j + t) * dy
    if e == 2:
        t = (lev - zd) / (zc - zd)
        return x0 + (i + t) * dx, y0 + (j + 1) * dy
    t = (lev - za) / (zd - za)
    return x0 + i * dx, y0 + (j + t) * dy


@pjit
def _classify(z, levels, kidx):
    """kidx[j, i] = number of levels <= z[j, i] (levels sorted), or -1 if z is not finite.

    Corner ``p`` is above level ``k`` exactly when ``kidx[p] > k``, so one search
    per grid point replaces a comparison per corner, cell and level.
    """
    ny, nx = z.shape
    n_levels = levels.shape[0]
    for j in prange(ny):
        c = 0
        for i in range(nx):
            v = z[j, i]
            if not np.isfinite(v):
                kidx[j, i] = -1
                continue
            # on a smooth surface the left neighbour's count is usually still right;
            # otherwise binary search, so rough data costs O(log L), not O(L)
            if (c == 0 or levels[c - 1] <= v) and (c == n_levels or v < levels[c]):
                kidx[j, i] = c
                continue
            lo = 0
            hi = n_levels
            while lo < hi:
                mid = (lo + hi) >> 1
                if levels[mid] <= v:
                    lo = mid + 1
                else:
                    hi = mid
            c = lo
            kidx[j, i] = c


@pjit
def _count_rows(z, levels, kidx, counts):
    """counts[j] = number of segments in cell row j (all levels)."""
    ny, nx = z.shape
    for j in prange(ny - 1):
        n = 0
        for i in range(nx - 1):
            ka = kidx[j, i]
            kb = kidx[j, i + 1]
            kc = kidx[j + 1, i + 1]
            kd = kidx[j + 1, i]
            kmin = min(min(ka, kb), min(kc, kd))
            kmax = max(max(ka, kb), max(kc, kd))
            # levels crossing the cell are those with kmin <= k < kmax
            if kmin == kmax or kmin < 0:
                continue
            za = z[j, i]
            zb = z[j, i + 1]
            zc = z[j + 1, i + 1]
            zd = z[j + 1, i]
            for k in range(kmin, kmax):
                lev = levels[k]
                row = _cell_case(ka, kb, kc, kd, k, za, zb, zc, zd, lev)
                for s in range(2):
                    if _keep(row, s, za, zb, zc, zd, lev):
                        n += 1
        counts[j] = n


@pjit
def _fill_rows(z, levels, kidx, offsets, x0, y0, dx, dy, xy, level_index):
    """Write the segments of cell row j from segment offsets[j] on."""
    ny, nx = z.shape
    for j in prange(ny - 1):
        o = offsets[j]
        if offsets[j + 1] == o:
            continue
        for i in range(nx - 1):
            ka = kidx[j, i]
            kb = kidx[j, i + 1]
            kc = kidx[j + 1, i + 1]
            kd = kidx[j + 1, i]
            kmin = min(min(ka, kb), min(kc, kd))
            kmax = max(max(ka, kb), max(kc, kd))
            if kmin == kmax or kmin < 0:
                continue
            za = z[j, i]
            zb = z[j, i + 1]
            zc = z[j + 1, i + 1]
            zd = z[j + 1, i]
            for k in range(kmin, kmax):
                lev = levels[k]
                row = _cell_case(ka, kb, kc, kd, k, za, zb, zc, zd, lev)
                for s in range(2):
                    if not _keep(row, s, za, zb, zc, zd, lev):
                        continue
                    px, py = _edge_xy(_TABLE[row, 2 * s], i, j, za, zb, zc, zd, lev,
                                      x0, y0, dx, dy)
                    qx, qy = _edge_xy(_TABLE[row, 2 * s + 1], i, j, za, zb, zc, zd, lev,
                                      x0, y0, dx, dy)
                    xy[2 * o, 0] = px
                    xy[2 * o, 1] = py
                    xy[2 * o + 1, 0] = qx
                    xy[2 * o + 1, 1] = qy
                    level_index[o] = k
                    o += 1


def _steps(z, x0, x1, y0, y1):
    ny, nx = z.shape
    return (x1 - x0) / (nx - 1), (y1 - y0) / (ny - 1)


def contour_segments_nb(z, x0, x1, y0, y1, levels, max_segments=None):
    """Numba path of :func:`contour_segments` (inputs already validated, levels sorted).

    z: float64 (ny, nx) C-contiguous; levels: float64 (L,) sorted ascending, finite.
    Returns xy float64 (2*S, 2) and level_index int64 (S,) (indices into ``levels``);
    ``(None, S)`` when there are more than ``max_segments`` (counted, none written).
    """
    ny, nx = z.shape
    dx, dy = _steps(z, x0, x1, y0, y1)
    kidx = np.empty((ny, nx), dtype=np.int32)
    _classify(z, levels, kidx)
    counts = np.empty(ny - 1, dtype=np.int64)
    _count_rows(z, levels, kidx, counts)
    offsets = np.zeros(ny, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    n_seg = int(offsets[-1])
    if max_segments is not None and n_seg > max_segments:
        return None, n_seg
    xy = np.empty((2 * n_seg, 2), dtype=np.float64)
    level_index = np.empty(n_seg, dtype=np.int64)
    if n_seg:
        _fill_rows(z, levels, kidx, offsets, float(x0), float(y0), dx, dy, xy, level_index)
    return xy, level_index


# --------------------------------------------------------------------------- numpy twin

def contour_segments_np(z, x0, x1, y0, y1, levels, max_segments=None):
    """Numpy twin of :func:`contour_segments_nb`: same arguments, same segments, same order
    (and the same count, ``(None, S)``, past ``max_segments``).

    Vectorised per level: classify all cells, look the cases up in the table,
    interpolate the chosen edges (once past ``max_segments``, only counted).
    """
    ny, nx = z.shape
    dx, dy = _steps(z, x0, x1, y0, y1)
    levels = np.asarray(levels, dtype=np.float64)
    za, zb = z[:-1, :-1], z[:-1, 1:]
    zc, zd = z[1:, 1:], z[1:, :-1]
    finite = np.isfinite(z)
    valid = finite[:-1, :-1] & finite[:-1, 1:] & finite[1:, 1:] & finite[1:, :-1]
    centre = 0.25 * (za + zb + zc + zd)
    xy_parts, lev_parts, key_parts = [], [], []
    n_seg = 0
    over = False
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for k, lev in enumerate(levels):
            above = z >= lev
            case = (above[:-1, :-1] * 1 + above[:-1, 1:] * 2 + above[1:, 1:] * 4
                    + above[1:, :-1] * 8)
            cells = np.flatnonzero(valid & (case != 0) & (case != 15))
            if cells.size == 0:
                continue
            c4 = np.stack([za.ravel()[cells], zb.ravel()[cells], zc.ravel()[cells],
                           zd.ravel()[cells]])
            row = case.ravel()[cells]
            saddle = (row == 5) | (row == 10)
            row = row + 16 * (saddle & (centre.ravel()[cells] >= lev))
            cols = np.arange(cells.size)
            kept = []
            for s in range(2):
                cut = _CUT[row, s]
                keep = _TABLE[row, 2 * s] >= 0
                keep &= ~((cut >= 0) & (c4[np.maximum(cut, 0), cols] == lev))
                kept.append(np.flatnonzero(keep))
            n_seg += sum(sel.size for sel in kept)
            over = over or (max_segments is not None and n_seg > max_segments)
            if over:
                continue  # (counted only: the kernel writes none past max_segments)
            # every edge's crossing, computed exactly as the kernel does
            jj, ii = np.divmod(cells, nx - 1)
            a, b, c, d = c4
            ex = np.stack([x0 + (ii + (lev - a) / (b - a)) * dx, x0 + (ii + 1) * dx,
                           x0 + (ii + (lev - d) / (c - d)) * dx, x0 + ii * dx])
            ey = np.stack([y0 + jj * dy, y0 + (jj + (lev - b) / (c - b)) * dy,
                           y0 + (jj + 1) * dy, y0 + (jj + (lev - a) / (d - a)) * dy])
            for s, sel in enumerate(kept):
                if sel.size == 0:
                    continue
                e0 = _TABLE[row[sel], 2 * s]
                e1 = _TABLE[row[sel], 2 * s + 1]
                seg = np.empty((sel.size, 2, 2))
                seg[:, 0, 0] = ex[e0, sel]
                seg[:, 0, 1] = ey[e0, sel]
                seg[:, 1, 0] = ex[e1, sel]
                seg[:, 1, 1] = ey[e1, sel]
                xy_parts.append(seg.reshape(-1, 2))
                lev_parts.append(np.full(sel.size, k, dtype=np.int64))
                key_parts.append((cells[sel] * len(levels) + k) * 2 + s)
    if over:
        return None, n_seg
    if not xy_parts:
        return np.empty((0, 2)), np.empty(0, dtype=np.int64)
    # the kernel's order: by cell (row-major), then level, then first/second segment
    order = np.argsort(np.concatenate(key_parts), kind="stable")
    seg = np.concatenate(xy_parts).reshape(-1, 2, 2)[order]
    return np.ascontiguousarray(seg.reshape(-1, 2)), np.concatenate(lev_parts)[order]


# --------------------------------------------------------------------------- wrapper

def _as_real_array(name, a, ndim):
    arr = np.asarray(a)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be a real-valued array, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def contour_segments(z, x0, x1, y0, y1, levels, fast=None, max_segments=None):
    """Contour line segments of a gridded surface for every level at once.

    z: float64 (ny, nx), ny, nx >= 2, with z[j, i] at (x_i, y_j),
    x_i = x0 + i*(x1-x0)/(nx-1), y_j = y0 + j*(y1-y0)/(ny-1); other real dtypes
    are converted. Non-finite values are allowed: cells touching them are skipped.
    levels: float64 (L,) finite, any order (a scalar counts as one level).
    fast: None = numba if the kernels are compiled (gdviz.kernels.is_ready()),
    else the numpy twin; True forces numba; False forces the twin.

    max_segments: None, or a positive int: where all the levels would make more segments
    than that, every k-th level is drawn (in height order, the lowest first, k the count
    over ``max_segments`` rounded up). The count comes before any segment is written: a
    rugged surface seen from far crosses every level in every cell, and writing its
    ~900,000 segments (256 x 256 cells, 20 levels) took ~100 ms only to be thrown away.

    Returns ``xy`` float64 (2*S, 2) and ``level_index`` int64 (S,): segment s runs
    from xy[2s] to xy[2s+1] at level ``levels[level_index[s]]`` (ready for
    ``PlotDataItem(connect="pairs")``). Raises ValueError on bad input.
    """
    z = _as_real_array("z", z, 2)
    if z.shape[0] < 2 or z.shape[1] < 2:
        raise ValueError(f"z must have at least 2 rows and 2 columns, got shape {z.shape}")
    levels = _as_real_array("levels", np.atleast_1d(levels), 1)
    if not np.all(np.isfinite(levels)):
        raise ValueError("contour levels must be finite")
    bounds = []
    for name, v in (("x0", x0), ("x1", x1), ("y0", y0), ("y1", y1)):
        try:
            v = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, got {v!r}") from None
        if not np.isfinite(v):
            raise ValueError(f"{name} must be finite, got {v}")
        bounds.append(v)
    order = None
    if levels.size > 1 and np.any(levels[1:] < levels[:-1]):
        order = np.argsort(levels, kind="stable")
        levels = np.ascontiguousarray(levels[order])
    if max_segments is not None:
        if isinstance(max_segments, bool) or not isinstance(max_segments, (int, np.integer)) \
                or max_segments < 1:
            raise ValueError(f"max_segments must be a positive integer, got {max_segments!r}")
        max_segments = int(max_segments) if levels.size > 1 else None
    use_numba = is_ready() if fast is None else bool(fast)
    impl = contour_segments_nb if use_numba else contour_segments_np
    # (values near ±1e308 overflow in the twin's cell centres: skipped cells)
    with np.errstate(over="ignore", invalid="ignore"):
        xy, level_index = impl(z, *bounds, levels, max_segments)
        if xy is None:  # past max_segments (level_index is the count): every k-th level
            kept = np.arange(0, levels.size, math.ceil(level_index / max_segments))
            xy, level_index = impl(z, *bounds, np.ascontiguousarray(levels[kept]))
            level_index = kept[level_index]
    if order is not None:
        level_index = order[level_index]
    return xy, level_index


def nice_levels(z, n, log=False):
    """``n`` increasing contour levels inside the finite range of ``z``.

    z: array of any shape (non-finite values are ignored). Returns float64 (n,).
    Linear: evenly spaced strictly inside [min, max] (a level at the extremes
    would draw nothing). ``log=True``: ``min + geomspace(lo, max - min)`` with the
    top level dropped, where ``lo`` is about the 0.5% quantile of ``z - min``, so
    narrow valleys such as Rosenbrock's get several levels. A constant (or
    entirely non-finite) ``z`` gets levels spread around its value.
    """
    n = int(n)
    if n < 1:
        raise ValueError(f"number of contour levels must be >= 1, got {n}")
    z = np.asarray(z, dtype=np.float64).ravel()
    ok = np.isfinite(z)
    finite = z if ok.all() else z[ok]
    if finite.size == 0:
        return np.linspace(-1.0, 1.0, n + 2)[1:-1]
    zmin, zmax = float(finite.min()), float(finite.max())
    span = zmax - zmin
    if not np.isfinite(span) or span <= max(abs(zmin), abs(zmax)) * 1e-12:
        # a span beyond float range (values near ±1e308): weights, not a difference; a
        # constant: spread around it. Both clipped to finite floats (never ±inf levels)
        fmax = np.finfo(np.float64).max
        with np.errstate(over="ignore", invalid="ignore"):
            if not np.isfinite(span):
                t = np.linspace(0.0, 1.0, n + 2)[1:-1]
                lv = zmin * (1.0 - t) + zmax * t
            else:
                half = max(abs(zmin), 1.0) * 0.5
                lv = zmin + np.linspace(-half, half, n + 2)[1:-1]
        return np.clip(lv, -fmax, fmax)
    if not log:
        return np.linspace(zmin, zmax, n + 2)[1:-1]
    # a subsample is enough for a quantile and keeps this cheap for big grids
    sample = finite[:: max(1, finite.size // 16384)] - zmin
    lo = float(np.quantile(sample, 0.005))
    lo = min(max(lo, span * 1e-9), span * 1e-2)
    if not lo > 0.0:
        # a span so small that its fractions underflow to 0 (below ~2.5e-322: a loss
        # that small around a minimum, zoomed in: geomspace raised "cannot include zero"
        # at each redraw); linear, kept inside the range (linspace's steps round past it)
        return np.clip(np.linspace(zmin, zmax, n + 2)[1:-1], zmin, zmax)
    return zmin + np.geomspace(lo, span, n + 1)[:-1]


# --------------------------------------------------------------------------- registry

def _warmup():
    z = np.array([[0.0, 1.0, 2.0], [1.0, 3.0, 1.0], [2.0, 1.0, np.nan]])
    contour_segments_nb(z, 0.0, 1.0, 0.0, 1.0, np.array([0.5, 1.5, 2.5]))


register("contour", contour_segments_nb, contour_segments_np, _warmup)
