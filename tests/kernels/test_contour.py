"""Marching squares: contourpy is the oracle for geometry; the kernel must equal its twin."""

from gdviz.kernels._jit import same_kernel
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import contourpy

from gdviz import kernels
from gdviz.kernels import contour as C
from gdviz.kernels.contour import contour_segments, nice_levels

ATOL = 1e-9


# --------------------------------------------------------------------------- helpers

def _cp_segments(z, x0, x1, y0, y1, level):
    """contourpy's lines at one level, cut into segments (m, 2, 2).

    corner_mask=False: a quad with any invalid (nan/inf) corner is skipped, as ours is.
    """
    ny, nx = z.shape
    gen = contourpy.contour_generator(np.linspace(x0, x1, nx), np.linspace(y0, y1, ny), z,
                                      name="serial", corner_mask=False,
                                      line_type=contourpy.LineType.Separate)
    segs = [np.stack([p[:-1], p[1:]], axis=1) for p in gen.lines(level)]
    return np.concatenate(segs) if segs else np.empty((0, 2, 2))


def _canon(segs):
    """Segments (m, 2, 2) with endpoints ordered and rows sorted, for set comparison.

    Sorting keys are rounded so that 1e-16 differences in computing the same
    point do not reorder rows.
    """
    s = np.array(segs, dtype=np.float64).reshape(-1, 2, 2)
    r = np.round(s, 7)
    swap = (r[:, 0, 0] > r[:, 1, 0]) | ((r[:, 0, 0] == r[:, 1, 0]) & (r[:, 0, 1] > r[:, 1, 1]))
    s[swap] = s[swap][:, ::-1]
    r[swap] = r[swap][:, ::-1]
    order = np.lexsort((r[:, 1, 1], r[:, 1, 0], r[:, 0, 1], r[:, 0, 0]))
    return s[order]


def _unique_points(segs):
    """The distinct endpoints (k, 2), sorted, each point shared by adjacent segments once."""
    p = np.asarray(segs, dtype=np.float64).reshape(-1, 2)
    _, first = np.unique(np.round(p, 7), axis=0, return_index=True)
    return p[first]


def _ours(z, bounds, level, fast=True):
    xy, li = contour_segments(z, *bounds, np.array([level]), fast=fast)
    assert_array_equal(li, 0)
    return xy.reshape(-1, 2, 2)


def _length(segs):
    d = segs[:, 1] - segs[:, 0]
    return float(np.hypot(d[:, 0], d[:, 1]).sum())


def _gaussians(seed, ny=61, nx=73, k=9):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:1:ny * 1j, 0:1:nx * 1j]
    z = np.zeros((ny, nx))
    for _ in range(k):
        cx, cy = rng.uniform(0, 1, 2)
        w = rng.uniform(0.05, 0.3)
        z += rng.normal() * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * w * w))
    return z


def _grid(f, bounds, ny, nx):
    x0, x1, y0, y1 = bounds
    x = np.linspace(x0, x1, nx)
    y = np.linspace(y0, y1, ny)
    X, Y = np.meshgrid(x, y)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.ascontiguousarray(f(X, Y))


def _rosenbrock(X, Y):
    return (1 - X) ** 2 + 100 * (Y - X ** 2) ** 2


def _with_holes(z, seed):
    rng = np.random.default_rng(seed)
    z = z.copy()
    ny, nx = z.shape
    z[rng.random(z.shape) < 0.03] = np.nan
    yy, xx = np.mgrid[0:ny, 0:nx]
    z[(yy - ny // 3) ** 2 + (xx - nx // 2) ** 2 < 36] = np.nan
    z[rng.integers(0, ny, 4), rng.integers(0, nx, 4)] = np.inf
    z[rng.integers(0, ny, 4), rng.integers(0, nx, 4)] = -np.inf
    return z


def _fields():
    """(id, z, bounds, levels): no level equals a grid value or a saddle's centre."""
    out = []
    for seed in (0, 1, 2):
        z = _gaussians(seed)
        bounds = (-1.5, 2.25, 0.5, 3.0)
        out.append((f"gaussians{seed}", z, bounds, np.linspace(z.min(), z.max(), 9)[1:-1]))
    rb = (-2.0, 2.0, -1.0, 3.0)
    z = _grid(_rosenbrock, rb, 90, 80)
    out.append(("rosenbrock", z, rb, nice_levels(z, 12, log=True)))
    # asymmetric box, so that no grid point lies exactly on the diagonals |x| = |y|
    sb = (-1.0, 1.1, -1.05, 0.97)
    z = _grid(lambda X, Y: X ** 2 - Y ** 2, sb, 41, 37)
    out.append(("saddle", z, sb, np.array([-0.5, -0.1, 0.0, 0.2, 0.7])))
    for seed in (3, 4):
        z = _with_holes(_gaussians(seed), seed)
        fin = z[np.isfinite(z)]
        out.append((f"holes{seed}", z, (0.0, 1.0, 0.0, 1.0),
                    np.linspace(fin.min(), fin.max(), 8)[1:-1]))
    # rough fields: many saddle cells, resolved by the centre value
    z = np.random.default_rng(5).normal(size=(30, 35))
    out.append(("noise", z, (0.0, 3.4, -1.0, 2.0), np.array([-0.7, -0.05, 0.3, 1.1])))
    eb = (-7.1, 6.9, -6.8, 7.2)
    z = _grid(lambda X, Y: np.sin(X) * np.sin(Y) + 0.05 * X, eb, 44, 47)
    out.append(("egg-crate", z, eb, np.array([-0.3, -0.01, 0.02, 0.4])))
    z = _grid(lambda X, Y: np.log(X) + Y, (-0.5, 2.0, -1.0, 1.0), 50, 50)  # nan/-inf from log
    out.append(("log-domain", z, (-0.5, 2.0, -1.0, 1.0), np.array([-1.0, 0.0, 0.5, 1.2])))
    return out


FIELDS = _fields()
FIELD_IDS = [f[0] for f in FIELDS]


# --------------------------------------------------------------------------- vs contourpy

@pytest.mark.parametrize("fast", [True, False], ids=["numba", "numpy"])
@pytest.mark.parametrize("name,z,bounds,levels", FIELDS, ids=FIELD_IDS)
def test_segments_match_contourpy(name, z, bounds, levels, fast):
    """Same segments as contourpy, level by level (saddles resolved the same way)."""
    total = 0
    for level in levels:
        ours = _canon(_ours(z, bounds, level, fast))
        ref = _canon(_cp_segments(z, *bounds, level))
        assert ours.shape == ref.shape, f"level {level}"
        assert_allclose(ours, ref, rtol=0, atol=ATOL)
        assert_allclose(_length(ours), _length(ref), rtol=1e-9)
        total += len(ours)
    assert total > 0


@pytest.mark.parametrize("name,z,bounds,levels", FIELDS, ids=FIELD_IDS)
def test_endpoints_lie_on_contourpy_vertices(name, z, bounds, levels):
    """Every crossing point is shared both ways (independent of how saddles are paired)."""
    for level in levels:
        ours = _unique_points(_ours(z, bounds, level))
        ref = _unique_points(_cp_segments(z, *bounds, level))
        assert ours.shape == ref.shape
        assert_allclose(ours, ref, rtol=0, atol=ATOL)


def test_all_levels_in_one_call_match_level_by_level():
    name, z, bounds, levels = FIELDS[0]
    xy, li = contour_segments(z, *bounds, levels, fast=True)
    assert xy.shape == (2 * len(li), 2)
    for k, level in enumerate(levels):
        one = _ours(z, bounds, level)
        assert_allclose(_canon(xy.reshape(-1, 2, 2)[li == k]), _canon(one), rtol=0, atol=0)


def test_saddle_cell_uses_centre_value():
    # a and c (z[0,0], z[1,1]) above, b and d below; the centre value is 0.5
    z = np.array([[1.0, 0.0], [0.0, 1.0]])
    for level, expect in [
        # centre above: the above corners join, the lines cut off b=(1,0) and d=(0,1)
        (0.1, [[[0.9, 0.0], [1.0, 0.1]], [[0.0, 0.9], [0.1, 1.0]]]),
        # centre below: the lines cut off a=(0,0) and c=(1,1)
        (0.9, [[[0.1, 0.0], [0.0, 0.1]], [[0.9, 1.0], [1.0, 0.9]]]),
    ]:
        for fast in (True, False):
            ours = _canon(_ours(z, (0, 1, 0, 1), level, fast))
            assert_allclose(ours, _canon(expect), atol=1e-12)
            assert_allclose(ours, _canon(_cp_segments(z, 0, 1, 0, 1, level)), atol=1e-12)


def test_symmetric_saddle_with_ties_keeps_length():
    """x^2 - y^2 on a symmetric grid at level 0: corners and a centre lie exactly on
    the level, so the pairing is a convention; the drawn length must still match."""
    b = (-1.0, 1.0, -1.0, 1.0)
    z = _grid(lambda X, Y: X ** 2 - Y ** 2, b, 21, 21)
    for fast in (True, False):
        ours = _ours(z, b, 0.0, fast)
        assert np.all(np.isfinite(ours))
        assert np.all(np.hypot(*(ours[:, 1] - ours[:, 0]).T) > 0)
        assert_allclose(_length(ours), _length(_cp_segments(z, *b, 0.0)), rtol=1e-9)
        assert_allclose(_length(ours), 4 * np.sqrt(2), rtol=1e-9)


def test_ties_follow_ge_convention():
    """Corners exactly on a level count as above (z >= level). contourpy counts them as
    below (z > level), so its contours of -z at -level are the oracle here, minus the
    zero-length segments it emits where a lone corner touches the level."""
    rng = np.random.default_rng(7)
    z = rng.integers(0, 4, (25, 23)).astype(np.float64)
    z[5, 5] = np.nan
    z[10, 3] = np.inf
    b = (0.0, 2.0, -1.0, 1.0)
    n = 0
    for level in (0.0, 1.0, 2.0, 3.0, 1.5):
        for fast in (True, False):
            ours = _ours(z, b, level, fast)
            assert np.all(np.isfinite(ours))
            assert np.all(np.hypot(*(ours[:, 1] - ours[:, 0]).T) > 0), "degenerate segment"
            ref = _cp_segments(-z, *b, -level)
            ref = ref[np.hypot(*(ref[:, 1] - ref[:, 0]).T) > 0]
            assert_allclose(_canon(ours), _canon(ref), rtol=0, atol=ATOL)
            n += len(ours)
    assert n > 0


# --------------------------------------------------------------------------- kernel vs twin

def _tie_field():
    rng = np.random.default_rng(11)
    z = rng.integers(0, 5, (33, 29)).astype(np.float64)
    z[rng.random(z.shape) < 0.05] = np.nan
    return "ties", z, (0.0, 1.0, 0.0, 1.0), np.array([0.0, 1.0, 1.5, 2.0, 3.0, 4.0, 4.0])


@pytest.mark.parametrize("name,z,bounds,levels", FIELDS + [_tie_field()],
                         ids=FIELD_IDS + ["ties"])
def test_kernel_equals_twin(name, z, bounds, levels):
    xy_nb, li_nb = C.contour_segments_nb(z, *bounds, np.sort(levels))
    xy_np, li_np = C.contour_segments_np(z, *bounds, np.sort(levels))
    assert xy_nb.dtype == xy_np.dtype == np.float64
    assert li_nb.dtype == li_np.dtype == np.int64
    assert xy_nb.flags.c_contiguous and xy_np.flags.c_contiguous
    # same segments in the same order
    assert_array_equal(li_nb, li_np)
    assert_allclose(xy_nb, xy_np, rtol=1e-15, atol=0)
    assert_allclose(_canon(xy_nb), _canon(xy_np), rtol=1e-15, atol=0)


def test_kernel_equals_twin_random_seeds():
    for seed in range(5):
        rng = np.random.default_rng(100 + seed)
        z = rng.normal(size=(rng.integers(2, 40), rng.integers(2, 40)))
        levels = np.sort(rng.normal(size=rng.integers(1, 12)))
        a = C.contour_segments_nb(z, -1.0, 3.0, 2.0, -2.0, levels)
        b = C.contour_segments_np(z, -1.0, 3.0, 2.0, -2.0, levels)
        assert_array_equal(a[1], b[1])
        assert_allclose(a[0], b[0], rtol=1e-15, atol=0)


def test_duplicate_levels_give_duplicate_segments():
    z = _gaussians(5, 20, 20)
    lev = float(np.median(z)) + 1e-3
    xy, li = contour_segments(z, 0, 1, 0, 1, [lev, lev], fast=True)
    assert len(li) > 0 and np.sum(li == 0) == np.sum(li == 1)


# --------------------------------------------------------------------------- wrapper

def test_unsorted_levels_map_back_to_caller_order():
    name, z, bounds, levels = FIELDS[1]
    shuffled = levels[np.random.default_rng(0).permutation(len(levels))]
    for fast in (True, False):
        xy, li = contour_segments(z, *bounds, shuffled, fast=fast)
        for k, level in enumerate(shuffled):
            assert_allclose(_canon(xy.reshape(-1, 2, 2)[li == k]),
                            _canon(_ours(z, bounds, level, fast)), rtol=0, atol=0)


def test_fast_none_follows_ready_flag(monkeypatch):
    calls = []
    monkeypatch.setattr(C, "contour_segments_nb",
                        lambda *a: calls.append("nb") or (np.empty((0, 2)), np.empty(0, np.int64)))
    monkeypatch.setattr(C, "contour_segments_np",
                        lambda *a: calls.append("np") or (np.empty((0, 2)), np.empty(0, np.int64)))
    z = np.zeros((3, 3))
    was_ready = kernels.is_ready()
    try:
        kernels.mark_ready(False)
        contour_segments(z, 0, 1, 0, 1, [0.5])
        kernels.mark_ready(True)
        contour_segments(z, 0, 1, 0, 1, [0.5])
        contour_segments(z, 0, 1, 0, 1, [0.5], fast=False)
        kernels.mark_ready(False)
        contour_segments(z, 0, 1, 0, 1, [0.5], fast=True)
    finally:
        kernels.mark_ready(was_ready)
    assert calls == ["np", "nb", "np", "nb"]


@pytest.mark.parametrize("fast", [True, False], ids=["numba", "numpy"])
def test_constant_field_and_out_of_range_levels_give_nothing(fast):
    z = np.full((7, 9), 2.5)
    for levels in ([2.5], [1.0, 2.5, 4.0], [-1e300, 1e300]):
        xy, li = contour_segments(z, 0, 1, 0, 1, levels, fast=fast)
        assert xy.shape == (0, 2) and xy.dtype == np.float64
        assert li.shape == (0,) and li.dtype == np.int64
    z = _gaussians(1)
    xy, li = contour_segments(z, 0, 1, 0, 1, [z.min() - 1, z.max() + 1], fast=fast)
    assert xy.shape == (0, 2) and li.shape == (0,)
    xy, li = contour_segments(z, 0, 1, 0, 1, [], fast=fast)
    assert xy.shape == (0, 2) and li.shape == (0,)


@pytest.mark.parametrize("fast", [True, False], ids=["numba", "numpy"])
def test_tiny_grid(fast):
    z = np.array([[0.0, 1.0], [2.0, 3.0]])  # one cell on [10, 12] x [0, 1]
    xy, li = contour_segments(z, 10.0, 12.0, 0.0, 1.0, [0.5, 2.5], fast=fast)
    assert_array_equal(li, [0, 1])
    # level 0.5: bottom edge at x = 11, left edge at y = 0.25
    # level 2.5: right edge at y = 0.75, top edge at x = 11
    assert_allclose(_canon(xy), _canon([[[11.0, 0.0], [10.0, 0.25]],
                                        [[12.0, 0.75], [11.0, 1.0]]]), atol=1e-12)
    # integer input is converted
    xy2, _ = contour_segments(z.astype(np.int64), 10.0, 12.0, 0.0, 1.0, [0.5, 2.5], fast=fast)
    assert_allclose(xy2, xy)


@pytest.mark.parametrize("fast", [True, False], ids=["numba", "numpy"])
def test_nonfinite_corners_skip_their_cells(fast):
    for bad in (np.nan, np.inf, -np.inf):
        z = np.array([[0.0, 1.0], [2.0, bad]])
        xy, li = contour_segments(z, 0, 1, 0, 1, [0.5, 1.5], fast=fast)
        assert xy.shape == (0, 2) and li.shape == (0,)
    # a nan in the middle of a 3x3 grid kills all four cells around it
    z = np.arange(9.0).reshape(3, 3)
    z[1, 1] = np.nan
    xy, li = contour_segments(z, 0, 1, 0, 1, np.arange(0.5, 8, 1.0), fast=fast)
    assert len(li) == 0
    # ...but not a cell away from it
    z = np.arange(12.0).reshape(3, 4)
    z[0, 0] = np.nan
    # level 2.5 would cross cell (0, 0) (corners nan, 1, 5, 4) and crosses cell (0, 1)
    xy, li = contour_segments(z, 0, 3, 0, 2, [2.5], fast=fast)
    assert len(li) > 0 and np.all(np.isfinite(xy))
    assert np.all(xy[:, 0] >= 1.0)


@pytest.mark.parametrize("args,match", [
    ((np.zeros(5), 0, 1, 0, 1, [0.5]), "z must be 2-D"),
    ((np.zeros((2, 2, 2)), 0, 1, 0, 1, [0.5]), "z must be 2-D"),
    ((np.zeros((1, 5)), 0, 1, 0, 1, [0.5]), "at least 2 rows and 2 columns"),
    ((np.zeros((5, 1)), 0, 1, 0, 1, [0.5]), "at least 2 rows and 2 columns"),
    ((np.zeros((3, 3), dtype=complex), 0, 1, 0, 1, [0.5]), "z must be a real-valued array"),
    ((np.array([["a", "b"], ["c", "d"]]), 0, 1, 0, 1, [0.5]), "z must be a real-valued array"),
    ((np.zeros((3, 3)), 0, 1, 0, 1, [[0.5]]), "levels must be 1-D"),
    ((np.zeros((3, 3)), 0, 1, 0, 1, [0.5, np.nan]), "levels must be finite"),
    ((np.zeros((3, 3)), 0, 1, 0, 1, ["x"]), "levels must be a real-valued array"),
    ((np.zeros((3, 3)), np.nan, 1, 0, 1, [0.5]), "x0 must be finite"),
    ((np.zeros((3, 3)), 0, 1, 0, np.inf, [0.5]), "y1 must be finite"),
    ((np.zeros((3, 3)), 0, "one", 0, 1, [0.5]), "x1 must be a number"),
])
def test_bad_input_raises(args, match):
    with pytest.raises(ValueError, match=match):
        contour_segments(*args, fast=False)


# --------------------------------------------------------------------------- max_segments

def _rugged(seed=7, n=90):
    """Noise: nearly every cell crosses nearly every level (a rugged surface seen from far)."""
    return np.random.default_rng(seed).random((n, n))


def test_kernel_and_twin_count_past_max_segments_and_write_none(monkeypatch):
    z = _rugged()
    levels = np.linspace(0.05, 0.95, 12)
    n = len(C.contour_segments_nb(z, 0, 1, 0, 1, levels)[1])
    assert n > 10_000
    written = []
    real = C._fill_rows
    monkeypatch.setattr(C, "_fill_rows", lambda *a: written.append(len(a[-1])) or real(*a))
    for impl in (C.contour_segments_nb, C.contour_segments_np):
        assert impl(z, 0, 1, 0, 1, levels, n - 1) == (None, n)
        xy, li = impl(z, 0, 1, 0, 1, levels, n)  # (at the budget: all of them)
        assert len(li) == n and len(xy) == 2 * n
    assert written == [n]  # (only the call within its budget wrote segments)


@pytest.mark.parametrize("fast", [True, False], ids=["numba", "numpy"])
def test_max_segments_draws_every_kth_level(fast):
    z = _rugged()
    levels = np.linspace(0.05, 0.95, 12)
    shuffled = levels[np.random.default_rng(1).permutation(len(levels))]
    n = len(contour_segments(z, 0, 1, 0, 1, levels, fast=fast)[1])
    for budget in (n, n - 1, n // 3, n // 11, 1):
        xy, li = contour_segments(z, 0, 1, 0, 1, shuffled, fast=fast, max_segments=budget)
        k = -(-n // budget)
        want_xy, want_li = contour_segments(z, 0, 1, 0, 1, levels[::k], fast=fast)
        assert_array_equal(xy, want_xy)
        # the caller's indices, into the levels as given
        assert_array_equal(shuffled[li], levels[::k][want_li])
    # one level is drawn whole, whatever the budget
    one = contour_segments(z, 0, 1, 0, 1, [0.5], fast=fast)
    assert_array_equal(contour_segments(z, 0, 1, 0, 1, [0.5], fast=fast, max_segments=1)[0], one[0])


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10"])
def test_max_segments_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="max_segments must be a positive integer"):
        contour_segments(np.zeros((3, 3)), 0, 1, 0, 1, [0.5, 0.7], max_segments=bad)


# --------------------------------------------------------------------------- nice_levels

def test_nice_levels_linear():
    z = _gaussians(0)
    lv = nice_levels(z, 10)
    assert lv.shape == (10,) and lv.dtype == np.float64
    assert np.all(np.diff(lv) > 0)
    assert z.min() < lv[0] and lv[-1] < z.max()
    assert_allclose(np.diff(lv), (z.max() - z.min()) / 11)


def test_nice_levels_log_shows_the_rosenbrock_valley():
    rb = (-2.0, 2.0, -1.0, 3.0)
    z = _grid(_rosenbrock, rb, 256, 256)
    lv = nice_levels(z, 20, log=True)
    assert lv.shape == (20,) and np.all(np.diff(lv) > 0)
    assert z.min() < lv[0] and lv[-1] < z.max()
    # geometric above the minimum
    r = (lv[1:] - z.min()) / (lv[:-1] - z.min())
    assert_allclose(r, r[0], rtol=1e-9)
    # the lowest levels are in the valley: a level below 1 and most of them below 10% of the range
    assert lv[0] < 1.0
    assert np.sum(lv - z.min() < 0.1 * (z.max() - z.min())) >= 15
    # every level actually draws something
    xy, li = contour_segments(z, *rb, lv, fast=True)
    assert set(li.tolist()) == set(range(20))


@pytest.mark.parametrize("top", [1e-322, 3e-323, 1e-310])
def test_nice_levels_log_of_a_subnormal_span(top):
    """A loss of ~1e-310 everywhere in view (zoomed in on a minimum at 0): the log levels'
    fractions of the span underflow to 0, and numpy's geomspace raised "Geometric sequence
    cannot include zero" (a fuzz run, L12, at a theme change's redraw)."""
    z = np.linspace(0.0, top, 64).reshape(8, 8)
    lv = nice_levels(z, 12, log=True)
    assert lv.shape == (12,) and np.all(np.isfinite(lv)) and np.all(np.diff(lv) >= 0)
    assert z.min() <= lv[0] and lv[-1] <= z.max()
    contour_segments(z, 0.0, 1.0, 0.0, 1.0, lv, fast=False)  # (and the contours draw)


@pytest.mark.parametrize("log", [False, True])
def test_nice_levels_robust(log):
    z = _gaussians(2)
    z[3:9, 4:7] = np.nan
    z[0, 0], z[1, 1] = np.inf, -np.inf
    lv = nice_levels(z, 7, log=log)
    fin = z[np.isfinite(z)]
    assert lv.shape == (7,) and np.all(np.isfinite(lv)) and np.all(np.diff(lv) > 0)
    assert fin.min() < lv[0] and lv[-1] < fin.max()
    for z in (np.full((5, 5), 3.0), np.full((4, 4), np.nan), np.full((3, 3), -1e12),
              np.array([[0.0, np.inf]])):
        lv = nice_levels(z, 5, log=log)
        assert lv.shape == (5,) and np.all(np.isfinite(lv)) and np.all(np.diff(lv) > 0)
    assert nice_levels(np.arange(4.0), 1, log=log).shape == (1,)


def test_nice_levels_rejects_zero_levels():
    with pytest.raises(ValueError, match="number of contour levels must be >= 1"):
        nice_levels(np.arange(4.0), 0)


# --------------------------------------------------------------------------- registry

def test_registered_with_warmup():
    spec = kernels.REGISTRY["contour"]
    assert same_kernel(spec.fast, C.contour_segments_nb) and spec.twin is C.contour_segments_np
    spec.warmup()


@pytest.mark.parametrize("z", [
    np.array([[-1e308, 1e308], [0.0, 1.0]]),          # a span beyond float range
    np.array([[-np.finfo(float).max, np.finfo(float).max], [0.0, 1.0]]),
    np.full((3, 3), np.finfo(float).max),              # a constant at the float limit
    np.full((3, 3), -np.finfo(float).max),
])
@pytest.mark.parametrize("log", [False, True])
def test_nice_levels_are_finite_at_the_float_limits(z, log):
    # the GUI fuzz: an expression such as 1e308*x*y gave -inf levels, and contour_segments
    # refused them (an exception on every redraw of the map)
    lv = nice_levels(z, 12, log=log)
    assert lv.shape == (12,) and np.all(np.isfinite(lv))
    assert np.all(np.diff(lv) >= 0)
    contour_segments(z, 0.0, 1.0, 0.0, 1.0, lv)  # takes them
