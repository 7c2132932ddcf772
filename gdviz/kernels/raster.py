"""Antialiased line segments rasterised into a coverage image: the map's contours.

Qt strokes an antialiased path at about 15 µs a segment, so a map of 10,000-30,000
contour segments took 150-450 ms to paint after every change of theme, text size,
lesson or zoom (issues 8, 9 and 10). Here each segment covers the pixels whose centre
lies within ``half_width + 0.5`` of it, with coverage ``clip(half_width + 0.5 - d, 0, 1)``
(``d``: the distance from the pixel's centre to the segment), and overlapping segments
take the larger coverage, so the joints of a contour do not darken. A few milliseconds
for a whole map.

Coordinates are pixels: x to the right, y down, pixel (i, j) spans [i, i+1) x [j, j+1)
and its centre is (i + 0.5, j + 0.5). Segments wholly or partly outside the image are
clipped to it; non-finite ones are skipped.
"""

from __future__ import annotations

import math

import numpy as np

from . import is_ready, register
from ._jit import jit


#: segments whose ends are this close (pixels) are the same segment (unique_segments)
UNIQUE_QUANTUM = 1.0 / 256.0


@jit
def _dist(px, py, ax, ay, dx, dy, inv_len2):
    """Distance from (px, py) to the segment a + t*(dx, dy), t in [0, 1]."""
    t = ((px - ax) * dx + (py - ay) * dy) * inv_len2
    if t < 0.0:
        t = 0.0
    elif t > 1.0:
        t = 1.0
    ex = px - (ax + t * dx)
    ey = py - (ay + t * dy)
    return math.sqrt(ex * ex + ey * ey)


@jit
def raster_segments_nb(xs, ys, half_width, out):
    h, w = out.shape
    reach = half_width + 0.5
    for s in range(xs.shape[0] // 2):
        ax, ay = xs[2 * s], ys[2 * s]
        bx, by = xs[2 * s + 1], ys[2 * s + 1]
        if not (math.isfinite(ax) and math.isfinite(ay) and math.isfinite(bx) and math.isfinite(by)):
            continue
        if max(ax, bx) < -reach or min(ax, bx) > w + reach or max(ay, by) < -reach or min(ay, by) > h + reach:
            continue
        dx, dy = bx - ax, by - ay
        len2 = dx * dx + dy * dy
        inv_len2 = 1.0 / len2 if len2 > 0.0 else 0.0
        if abs(dx) >= abs(dy):
            # walk the columns; at each, the rows within the band of the line
            i0 = max(int(math.floor(min(ax, bx) - reach)), 0)
            i1 = min(int(math.ceil(max(ax, bx) + reach)), w - 1)
            slope = dy / dx if dx != 0.0 else 0.0
            # the rows within the reach at a column: those within reach x sqrt(1 + slope^2)
            # of the line, measured along the column (a pixel nearest an end is nearer
            # the line than the end); the margin only guards the rounding
            band = reach * math.sqrt(1.0 + slope * slope) + 1e-6
            for i in range(i0, i1 + 1):
                cx = i + 0.5
                t = (cx - ax) / dx if dx != 0.0 else 0.0
                t = min(max(t, 0.0), 1.0)
                yl = ay + t * dy
                j0 = max(int(math.ceil(yl - band - 0.5)), 0)
                j1 = min(int(math.floor(yl + band - 0.5)), h - 1)
                for j in range(j0, j1 + 1):
                    c = reach - _dist(cx, j + 0.5, ax, ay, dx, dy, inv_len2)
                    if c > 0.0:
                        c = min(c, 1.0)
                        if c > out[j, i]:
                            out[j, i] = c
        else:
            j0 = max(int(math.floor(min(ay, by) - reach)), 0)
            j1 = min(int(math.ceil(max(ay, by) + reach)), h - 1)
            slope = dx / dy
            band = reach * math.sqrt(1.0 + slope * slope) + 1e-6
            for j in range(j0, j1 + 1):
                cy = j + 0.5
                t = min(max((cy - ay) / dy, 0.0), 1.0)
                xl = ax + t * dx
                i0 = max(int(math.ceil(xl - band - 0.5)), 0)
                i1 = min(int(math.floor(xl + band - 0.5)), w - 1)
                for i in range(i0, i1 + 1):
                    c = reach - _dist(i + 0.5, cy, ax, ay, dx, dy, inv_len2)
                    if c > 0.0:
                        c = min(c, 1.0)
                        if c > out[j, i]:
                            out[j, i] = c


def clip_pairs(xa, ya, xb, yb, box):
    """Segments a -> b (float64 (s,) each) clipped to ``box`` = (x0, x1, y0, y1) by
    Liang-Barsky, vectorised: the (ax, ay, bx, by) of those that cross it (non-finite ones
    dropped). Drawing never has to walk the part of a segment that is off the image."""
    ok = np.isfinite(xa) & np.isfinite(ya) & np.isfinite(xb) & np.isfinite(yb)
    xa, ya, xb, yb = xa[ok], ya[ok], xb[ok], yb[ok]
    x0, x1, y0, y1 = box
    with np.errstate(all="ignore"):
        dx, dy = xb - xa, yb - ya
        t0, t1 = np.zeros(len(xa)), np.ones(len(xa))
        keep = np.ones(len(xa), bool)
        for pk, qk in ((-dx, xa - x0), (dx, x1 - xa), (-dy, ya - y0), (dy, y1 - ya)):
            par = pk == 0
            keep &= ~(par & (qk < 0))
            r = np.where(par, 0.0, qk / np.where(par, 1.0, pk))
            t0 = np.where(~par & (pk < 0), np.maximum(t0, r), t0)
            t1 = np.where(~par & (pk > 0), np.minimum(t1, r), t1)
        keep &= t0 <= t1
        t0, t1, xa, ya, dx, dy = t0[keep], t1[keep], xa[keep], ya[keep], dx[keep], dy[keep]
        return xa + t0 * dx, ya + t0 * dy, xa + t1 * dx, ya + t1 * dy


def raster_segments_np(xs, ys, half_width, out):
    """The numpy twin: short segments vectorised together over their bounding boxes
    (grown by the reach); long ones along a band, as the kernel walks them (all their
    lines of pixels at once)."""
    h, w = out.shape
    reach = half_width + 0.5
    a = np.stack([xs[0::2], ys[0::2]], axis=1)
    b = np.stack([xs[1::2], ys[1::2]], axis=1)
    ok = np.all(np.isfinite(a), axis=1) & np.all(np.isfinite(b), axis=1)
    a, b = a[ok], b[ok]
    # the pixels whose centre is within the reach of the segment's bounding box: the
    # only ones it can cover (its coverage is 0 at a distance of ``reach`` or more)
    lo = np.ceil(np.minimum(a, b) - reach - 0.5)
    hi = np.floor(np.maximum(a, b) + reach - 0.5)
    lo = np.maximum(lo, 0).astype(np.int64)
    hi = np.minimum(hi, [w - 1, h - 1]).astype(np.int64)
    keep = np.all(hi >= lo, axis=1)
    a, b, lo, hi = a[keep], b[keep], lo[keep], hi[keep]
    size = hi - lo + 1
    small = np.all(size <= 8, axis=1)

    def cover(ax, ay, bx, by, px, py):
        dx, dy = bx - ax, by - ay
        len2 = dx * dx + dy * dy
        inv = np.where(len2 > 0.0, 1.0 / np.where(len2 > 0.0, len2, 1.0), 0.0)
        t = np.clip(((px - ax) * dx + (py - ay) * dy) * inv, 0.0, 1.0)
        d = np.sqrt((px - (ax + t * dx)) ** 2 + (py - (ay + t * dy)) ** 2)
        return np.clip(reach - d, 0.0, 1.0)

    if small.any():
        # short segments (a map's contours: most of them) together, grouped by the size
        # of their box of pixels, each group over exactly its boxes (a common 8x8 block
        # computed ~2.5 times the pixels, 100+ ms a map at 1920x1080 before the kernels
        # were compiled)
        sa, sb, slo, ssize = a[small], b[small], lo[small], size[small]
        key = ssize[:, 0] * 16 + ssize[:, 1]
        order = np.argsort(key, kind="stable")
        cuts = np.flatnonzero(np.diff(key[order])) + 1
        flat_out = out.reshape(-1) if out.flags.c_contiguous else None
        for g in np.split(order, cuts):
            bw, bh = int(ssize[g[0], 0]), int(ssize[g[0], 1])
            ga, gb = sa[g], sb[g]
            ii = slo[g, 0][:, None, None] + np.arange(bw)[None, None, :]   # (G, 1, bw)
            jj = slo[g, 1][:, None, None] + np.arange(bh)[None, :, None]   # (G, bh, 1)
            c = cover(ga[:, 0, None, None], ga[:, 1, None, None], gb[:, 0, None, None],
                      gb[:, 1, None, None], ii + 0.5, jj + 0.5)
            sel = c > 0.0
            if flat_out is not None:
                np.maximum.at(flat_out, (jj * w + ii)[sel], c[sel].astype(out.dtype))
            else:
                jb, ib = np.broadcast_arrays(jj, ii)
                np.maximum.at(out, (jb[sel], ib[sel]), c[sel].astype(out.dtype))
    band = reach * np.sqrt(2.0) + 1.0
    # long ones: along the major axis, on each line of pixels the few across the segment,
    # all segments' lines at once (one row per line of pixels, padded to the widest band;
    # elementwise the same arithmetic as one segment at a time, so the same pixels)
    la, lb, llo, lhi = a[~small], b[~small], lo[~small], hi[~small]
    if not len(la):
        return
    lines = np.max(lhi - llo + 1, axis=1)  # >= each segment's lines along its major axis
    ends = np.cumsum(lines)
    c0 = 0
    while c0 < len(la):
        start = ends[c0] - lines[c0]
        c1 = max(int(np.searchsorted(ends, start + LONG_LINES, side="right")), c0 + 1)
        _long_segments(la[c0:c1], lb[c0:c1], llo[c0:c1], lhi[c0:c1], band, cover, out)
        c0 = c1


#: lines of pixels the numpy twin rasterises together (bounds its temporary arrays)
LONG_LINES = 8192


def _long_segments(a, b, lo, hi, band, cover, out):
    h, w = out.shape
    ax, ay, bx, by = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
    dx, dy = bx - ax, by - ay
    xmaj = np.abs(dx) >= np.abs(dy)
    m0 = np.where(xmaj, lo[:, 0], lo[:, 1])
    m1 = np.where(xmaj, hi[:, 0], hi[:, 1])
    n = m1 - m0 + 1
    seg = np.repeat(np.arange(len(a)), n)
    major = (np.arange(seg.size) - np.repeat(np.cumsum(n) - n, n) + m0[seg]).astype(np.int64)
    xm, sdx, sdy, sax, say = xmaj[seg], dx[seg], dy[seg], ax[seg], ay[seg]
    with np.errstate(divide="ignore", invalid="ignore"):
        tx = np.where(sdx != 0.0, np.clip((major + 0.5 - sax) / sdx, 0.0, 1.0), 0.0)
        ty = np.clip((major + 0.5 - say) / sdy, 0.0, 1.0)
        slope = np.where(xmaj, np.abs(np.where(dx != 0.0, dy / dx, 0.0)), np.abs(dx / dy))
    t = np.where(xm, tx, ty)
    across = np.where(xm, say + t * sdy, sax + t * sdx)
    k = (np.ceil(band + slope)).astype(np.int64) + 1
    kmax = int(k.max()) if k.size else 0
    off = np.arange(-kmax, kmax + 1)[None, :]
    minor = np.floor(across)[:, None].astype(np.int64) + off
    use = np.abs(off) <= k[seg][:, None]
    mj = np.broadcast_to(major[:, None], minor.shape)
    xm2 = xm[:, None]
    ii = np.where(xm2, mj, minor)
    jj = np.where(xm2, minor, mj)
    inside = use & (ii >= 0) & (ii < w) & (jj >= 0) & (jj < h)
    sid = np.broadcast_to(seg[:, None], minor.shape)[inside]
    ii, jj = ii[inside], jj[inside]
    c = cover(ax[sid], ay[sid], bx[sid], by[sid], ii + 0.5, jj + 0.5)
    sel = c > 0.0
    np.maximum.at(out, (jj[sel], ii[sel]), c[sel].astype(out.dtype))


def unique_segments(xs, ys, quantum: float = UNIQUE_QUANTUM):
    """The segments (xs[2s], ys[2s]) -> (xs[2s+1], ys[2s+1]) (pixels, finite and of a
    moderate size: clipped to an image) less those that repeat one before them, either way
    round, to within ``quantum`` pixels: the same ``(xs, ys)`` layout, the first of each kept
    as it is.

    Coverage takes each pixel's largest, so a repeat adds nothing: SGD at the edge of
    stability (L15's x^2 + 10 y^2 at lr 0.1) zig-zags between the same two points for ever,
    and a step of 400 with ten runs rasterised 8,000 copies of the same 370-pixel segment:
    540 ms in one paint (the GUI fuzz, issue 10). Merging those within 1/256 of a pixel
    moves what is drawn by less than one step of the image's 256 coverage levels."""
    n = xs.size // 2
    if n < 2:
        return xs, ys
    q = np.round(np.stack([xs[0::2], ys[0::2], xs[1::2], ys[1::2]], axis=1) / quantum).astype(np.int64)
    # one direction for each: from the end that comes first (by x, then y)
    swap = (q[:, 0] > q[:, 2]) | ((q[:, 0] == q[:, 2]) & (q[:, 1] > q[:, 3]))
    q[swap] = q[swap][:, [2, 3, 0, 1]]
    # sorted (stably: the first of equal ones leads), each that differs from the one before
    # (a third of np.unique(axis=0)'s time: 40 us for 200 segments)
    order = np.lexsort((q[:, 3], q[:, 2], q[:, 1], q[:, 0]))
    qs = q[order]
    new = np.empty(n, bool)
    new[0] = True
    np.any(qs[1:] != qs[:-1], axis=1, out=new[1:])
    if new.all():
        return xs, ys
    first = np.sort(order[new])
    keep = np.repeat(first * 2, 2)
    keep[1::2] += 1
    return xs[keep], ys[keep]


def raster_segments(xs, ys, half_width, out, fast=None, unique: bool = False):
    """Add segments (xs[2s], ys[2s]) -> (xs[2s+1], ys[2s+1]), in pixel coordinates, to the
    coverage image ``out`` (float32 (H, W), values in [0, 1], updated in place, each pixel
    keeping its largest coverage). ``half_width`` > 0 is half the line's width in pixels.
    fast: None = numba once the kernels are compiled, else the numpy twin. unique: drop
    the segments that repeat others first (:func:`unique_segments`: a trail, whose runs may
    retrace their steps; a map's contours never do, and go as they are)."""
    xs = np.ascontiguousarray(xs, dtype=np.float64).ravel()
    ys = np.ascontiguousarray(ys, dtype=np.float64).ravel()
    if xs.shape != ys.shape or xs.size % 2:
        raise ValueError(f"xs and ys must be the same even length, got {xs.size} and {ys.size}")
    if not (isinstance(out, np.ndarray) and out.ndim == 2 and out.dtype == np.float32
            and out.flags.c_contiguous):
        raise ValueError("out must be a C-contiguous float32 (H, W) array")
    half_width = float(half_width)
    if not (math.isfinite(half_width) and half_width > 0.0):
        raise ValueError(f"half_width must be a positive number, got {half_width}")
    if xs.size == 0 or out.size == 0:
        return out
    # only what can touch the image: a zoom far in maps old segments to huge pixel
    # coordinates until the map recomputes them, and none of that may cost time
    h, w = out.shape
    m = half_width + 2.0
    # segments wholly on the image (a map's contours, nearly always all of them) go as they
    # are; only the others are clipped (0.5 ms a frame for a live slice's 3000 segments)
    with np.errstate(invalid="ignore"):
        inside = ((xs >= -m) & (xs <= w + m) & (ys >= -m) & (ys <= h + m)).reshape(-1, 2).all(axis=1)
    if not inside.all():
        ax, ay, bx, by = clip_pairs(xs[0::2][~inside], ys[0::2][~inside], xs[1::2][~inside],
                                    ys[1::2][~inside], (-m, w + m, -m, h + m))
        cut_x = np.empty(2 * len(ax))
        cut_y = np.empty(2 * len(ax))
        cut_x[0::2], cut_x[1::2], cut_y[0::2], cut_y[1::2] = ax, bx, ay, by
        keep = np.repeat(inside, 2)
        xs = np.concatenate([xs[keep], cut_x])
        ys = np.concatenate([ys[keep], cut_y])
    if unique:  # (every segment is finite and near the image here: the clip saw to it)
        xs, ys = unique_segments(xs, ys)
    use_numba = is_ready() if fast is None else bool(fast)
    (raster_segments_nb if use_numba else raster_segments_np)(xs, ys, half_width, out)
    return out


def _warmup():
    out = np.zeros((4, 4), np.float32)
    raster_segments_nb(np.array([0.0, 3.0, 0.0, 0.5]), np.array([0.0, 2.0, 3.0, 0.5]), 0.8, out)


# ---------------------------------------------------------------------- coverage -> pixels
@jit
def coverage_pixels_nb(cover, lut, out):
    h, w = cover.shape
    for j in range(h):
        for i in range(w):
            c = cover[j, i]
            out[j, i] = lut[int(c * 255.0 + 0.5)] if c > 0.0 else lut[0]


def coverage_pixels_np(cover, lut, out):
    """The numpy twin of :func:`coverage_pixels_nb` (in float64, as the kernel)."""
    out[...] = lut[(cover.astype(np.float64) * 255.0 + 0.5).astype(np.uint8)]


def coverage_pixels(cover, lut, out, fast=None):
    """Each pixel of the coverage image ``cover`` (float32 (H, W), values in [0, 1]) through
    the 256-entry table ``lut`` (uint32: the pixel at coverage k/255) into ``out`` (uint32
    (H, W), rows may be strided: a QImage's own pixels), at the coverage's nearest step.

    The image a :class:`~gdviz.ui.views.raster_item.RasterLines` draws. With numpy (a
    scaled copy, a cast, a gather, then a copy into the image) a view-sized image took
    ~4 ms (800x700 px); a fit panel's twelve run curves, drawn so, took longer than Qt's
    strokes. fast: None = numba once the kernels are compiled, else the numpy twin."""
    if not (isinstance(cover, np.ndarray) and cover.ndim == 2 and cover.dtype == np.float32):
        raise ValueError("cover must be a float32 (H, W) array")
    lut = np.ascontiguousarray(lut, dtype=np.uint32)
    if lut.shape != (256,):
        raise ValueError(f"lut must have 256 entries, got shape {lut.shape}")
    if not (isinstance(out, np.ndarray) and out.dtype == np.uint32 and out.shape == cover.shape):
        raise ValueError(f"out must be a uint32 array of shape {cover.shape}")
    use_numba = is_ready() if fast is None else bool(fast)
    (coverage_pixels_nb if use_numba else coverage_pixels_np)(cover, lut, out)
    return out


def _warmup_pixels():
    cover = np.array([[0.0, 0.5], [1.0, 0.25]], np.float32)
    coverage_pixels_nb(cover, np.arange(256, dtype=np.uint32), np.zeros((4, 4), np.uint32)[:2, :2])


register("raster", raster_segments_nb, raster_segments_np, _warmup)
register("raster-pixels", coverage_pixels_nb, coverage_pixels_np, _warmup_pixels)
