"""The contour rasteriser: numba kernel == numpy twin, and both == the definition."""

import math

import numpy as np
import pytest

from gdviz.kernels.raster import raster_segments, raster_segments_nb, raster_segments_np


def _definition(xs, ys, half_width, h, w):
    """Pixel by pixel: the largest clip(half_width + 0.5 - distance, 0, 1) over segments."""
    out = np.zeros((h, w))
    jj, ii = np.mgrid[0:h, 0:w]
    px, py = ii + 0.5, jj + 0.5
    for s in range(len(xs) // 2):
        ax, ay, bx, by = xs[2 * s], ys[2 * s], xs[2 * s + 1], ys[2 * s + 1]
        if not all(map(math.isfinite, (ax, ay, bx, by))):
            continue
        dx, dy = bx - ax, by - ay
        len2 = dx * dx + dy * dy
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / len2, 0, 1) if len2 > 0 else np.zeros_like(px)
        d = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
        out = np.maximum(out, np.clip(half_width + 0.5 - d, 0, 1))
    return out


def _random_segments(rng, n, h, w, long_frac=0.2):
    a = rng.uniform([-5, -5], [w + 5, h + 5], size=(n, 2))
    step = rng.normal(0, 2.5, size=(n, 2))
    long = rng.random(n) < long_frac
    step[long] = rng.normal(0, 40, size=(long.sum(), 2))
    b = a + step
    xs = np.empty(2 * n)
    ys = np.empty(2 * n)
    xs[0::2], xs[1::2] = a[:, 0], b[:, 0]
    ys[0::2], ys[1::2] = a[:, 1], b[:, 1]
    return xs, ys


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("half_width", [0.3, 0.8, 2.5])
def test_kernel_and_twin_match_the_definition(seed, half_width):
    rng = np.random.default_rng(seed)
    h, w = 37, 53
    xs, ys = _random_segments(rng, 60, h, w)
    if seed == 0:  # degenerate, vertical, horizontal, non-finite and far-away segments
        xs = np.r_[xs, 10.2, 10.2, 5.0, 5.0, 3.0, 30.0, np.nan, 1.0, -1e9, 1e9, 1e6, 1e6 + 1]
        ys = np.r_[ys, 7.7, 7.7, 1.0, 30.0, 20.5, 20.5, 2.0, np.inf, 18.3, 18.4, 5.0, 5.0]
    want = _definition(xs, ys, half_width, h, w)
    for impl in (raster_segments_nb, raster_segments_np):
        out = np.zeros((h, w), np.float32)
        impl(xs, ys, half_width, out)
        np.testing.assert_allclose(out, want, atol=2e-6, err_msg=impl.__name__)


def test_coverage_accumulates_by_maximum_and_keeps_what_was_there():
    out = np.full((8, 8), 0.25, np.float32)
    # the same line twice, through the centres of row 4: covered once, not twice as dark
    raster_segments(np.array([0.0, 8.0, 0.0, 8.0]), np.array([4.5, 4.5, 4.5, 4.5]), 0.5, out, fast=True)
    assert np.all(out[4] == 1.0) and np.all(out[3] == np.float32(0.25)) and np.all(out[5] == np.float32(0.25))
    assert out[0, 0] == np.float32(0.25)           # far pixels keep their value
    twice = out.copy()
    raster_segments(np.array([0.0, 8.0]), np.array([4.5, 4.5]), 0.5, twice, fast=True)
    np.testing.assert_array_equal(twice, out)      # drawing again changes nothing


@pytest.mark.parametrize("fast", [True, False])
def test_a_trail_that_retraces_its_segments_draws_each_once_and_the_same_picture(fast, monkeypatch):
    """unique=True (a map trail): SGD at the edge of stability zig-zags between the same
    two points; each segment is rasterised once, either way round, and so are those within
    1/256 of a pixel of one, and the image is the one every copy draws (within one of its
    256 levels: exactly, for exact repeats)."""
    import gdviz.kernels.raster as raster

    rng = np.random.default_rng(5)
    h, w = 40, 60
    zig_x = np.tile([5.0, 50.0], 200)            # a - b - a - b ... : 399 segments
    zig_y = np.tile([3.0, 36.5], 200)
    near_x = np.r_[10.0, 40.0, 10.0 + 1e-3, 40.0 - 1e-3]    # and one within 1/256 px
    near_y = np.r_[30.0, 20.0, 30.0 + 1e-3, 20.0]
    free_x, free_y = _random_segments(rng, 50, h, w)       # distinct, some off the image
    pairs = lambda x: np.column_stack([x[:-1], x[1:]]).ravel()  # noqa: E731 - a polyline's
    xs = np.r_[pairs(zig_x), near_x, free_x, np.nan, 3.0]
    ys = np.r_[pairs(zig_y), near_y, free_y, 1.0, 2.0]
    drawn = []
    kernel = raster.raster_segments_nb if fast else raster.raster_segments_np
    monkeypatch.setattr(raster, "raster_segments_nb" if fast else "raster_segments_np",
                        lambda x, y, hw, out: (drawn.append(x.size // 2), kernel(x, y, hw, out)))
    every = raster_segments(xs, ys, 1.5, np.zeros((h, w), np.float32), fast=fast)
    once = raster_segments(xs, ys, 1.5, np.zeros((h, w), np.float32), fast=fast, unique=True)
    assert drawn[1] <= drawn[0] - 398 - 1  # the zig-zag: 2 of 399; the near pair: 1 of 2
    assert np.abs(once - every).max() < 1.0 / 255.0
    exact = lambda n, u: raster_segments(pairs(zig_x[:n]), pairs(zig_y[:n]), 1.5,  # noqa: E731
                                         np.zeros((h, w), np.float32), fast=fast, unique=u)
    np.testing.assert_array_equal(exact(400, True), exact(2, False))  # one segment's image
    np.testing.assert_array_equal(exact(400, True), exact(400, False))
    assert exact(2, False).any()


@pytest.mark.parametrize("args, message", [
    ((np.zeros(3), np.zeros(3), 1.0, np.zeros((2, 2), np.float32)), "even length"),
    ((np.zeros(2), np.zeros(4), 1.0, np.zeros((2, 2), np.float32)), "even length"),
    ((np.zeros(2), np.zeros(2), 0.0, np.zeros((2, 2), np.float32)), "half_width"),
    ((np.zeros(2), np.zeros(2), float("nan"), np.zeros((2, 2), np.float32)), "half_width"),
    ((np.zeros(2), np.zeros(2), 1.0, np.zeros((2, 2))), "float32"),
    ((np.zeros(2), np.zeros(2), 1.0, np.zeros(4, np.float32)), "float32"),
])
def test_bad_input_is_a_clear_error(args, message):
    with pytest.raises(ValueError, match=message):
        raster_segments(*args)


def test_segments_far_larger_than_the_image_cost_no_more_than_the_image():
    # a zoom far into the map: the old contours map to coordinates of +-1e7 pixels until
    # the map recomputes them; both paths clip them first (the twin once walked a
    # 1e7 x 1e7 bounding box)
    rng = np.random.default_rng(3)
    a = rng.uniform(-1e7, 1e7, size=(400, 2))
    b = a + rng.normal(0, 3e6, size=(400, 2))
    xs = np.ravel(np.column_stack([a[:, 0], b[:, 0]]))
    ys = np.ravel(np.column_stack([a[:, 1], b[:, 1]]))
    xs = np.r_[xs, -1e7, 1e7]  # one that crosses the image for sure
    ys = np.r_[ys, -1e7 + 5, 1e7 + 5]
    outs = [raster_segments(xs, ys, 0.8, np.zeros((60, 90), np.float32), fast=f) for f in (True, False)]
    np.testing.assert_allclose(outs[0], outs[1], atol=2e-6)
    assert outs[0].any()


@pytest.mark.parametrize("seed", range(3))
def test_the_clip_keeps_exactly_the_parts_inside(seed):
    from gdviz.kernels.raster import clip_pairs

    rng = np.random.default_rng(seed)
    xa, ya, xb, yb = (rng.uniform(-3, 3, 500) for _ in range(4))
    ax, ay, bx, by = clip_pairs(xa, ya, xb, yb, (-1.0, 1.0, -0.5, 0.5))
    for px, py in ((ax, ay), (bx, by)):
        assert np.all((px >= -1 - 1e-12) & (px <= 1 + 1e-12) & (py >= -0.5 - 1e-12) & (py <= 0.5 + 1e-12))
    # a segment is kept iff some of its points are inside (checked on a fine sample)
    t = np.linspace(0, 1, 2001)[:, None]
    px, py = xa + t * (xb - xa), ya + t * (yb - ya)
    crosses = ((np.abs(px) <= 1) & (np.abs(py) <= 0.5)).any(axis=0)
    assert len(ax) >= crosses.sum() and len(ax) <= crosses.sum() + 3  # grazing ones may differ


def test_the_twin_groups_short_segments_by_their_box_and_writes_a_strided_image_too():
    """The twin takes short segments together, a group per size of their box of pixels
    (1x1 up to 8x8, here all of them: dots, short flat and steep ones, and segments on the
    image's edges): the kernel's pixels, into a C-contiguous image and into a strided view
    of a wider one alike (the strided view written in place)."""
    rng = np.random.default_rng(11)
    h, w = 41, 67
    n = 3000
    a = rng.uniform([-3, -3], [w + 3, h + 3], size=(n, 2))
    b = a + rng.uniform(-5, 5, size=(n, 2)) * rng.random((n, 1))
    xs = np.stack([a[:, 0], b[:, 0]], 1).ravel()
    ys = np.stack([a[:, 1], b[:, 1]], 1).ravel()
    for hw in (0.3, 0.8, 1.6):
        want = np.zeros((h, w), np.float32)
        raster_segments_nb(xs, ys, hw, want)
        dense = np.zeros((h, w), np.float32)
        raster_segments_np(xs, ys, hw, dense)
        wide = np.full((h, w + 5), 0.25, np.float32)
        raster_segments_np(xs, ys, hw, wide[:, 2:2 + w])
        np.testing.assert_allclose(dense, want, atol=1e-6)
        np.testing.assert_allclose(wide[:, 2:2 + w], np.maximum(want, 0.25), atol=1e-6)
        assert (wide[:, :2] == 0.25).all() and (wide[:, 2 + w:] == 0.25).all()
        assert (want > 0.5).sum() > 500


def test_the_twin_rasterises_many_long_segments_in_chunks_as_the_kernel_does(monkeypatch):
    """The twin takes long segments' lines of pixels together, in chunks of LONG_LINES:
    chunked across segment boundaries, steep and flat, it gives the kernel's pixels."""
    from gdviz.kernels import raster

    monkeypatch.setattr(raster, "LONG_LINES", 50)  # many chunks
    rng = np.random.default_rng(7)
    n = 120
    x = rng.uniform(-10, 210, n)
    y = rng.uniform(-10, 160, n)
    xs = np.stack([x, x + rng.uniform(-80, 80, n)], 1).ravel()
    ys = np.stack([y, y + rng.uniform(-80, 80, n)], 1).ravel()
    for hw in (0.5, 1.5):
        a = np.zeros((150, 200), np.float32)
        b = np.zeros((150, 200), np.float32)
        raster_segments_nb(xs, ys, hw, a)
        raster_segments_np(xs, ys, hw, b)
        np.testing.assert_allclose(b, a, atol=1e-6)
        assert (b > 0).sum() > 1000


# ---------------------------------------------------------------------- coverage -> pixels
def test_coverage_pixels_kernel_and_twin_match():
    from gdviz.kernels.raster import coverage_pixels_nb, coverage_pixels_np

    rng = np.random.default_rng(3)
    cover = rng.random((23, 31)).astype(np.float32)
    cover[rng.random(cover.shape) < 0.4] = 0.0
    cover[0, :5] = [0.0, 1.0, 0.5 / 255, 1.5 / 255, 254.5 / 255]  # the ends and half steps
    lut = rng.integers(0, 2**32, 256, dtype=np.uint64).astype(np.uint32)
    want = lut[np.floor(cover.astype(np.float64) * 255.0 + 0.5).astype(int)]
    for impl in (coverage_pixels_nb, coverage_pixels_np):
        # into a strided view, as into a QImage whose rows are longer than the picture
        buf = np.full((23, 40), 7, np.uint32)
        impl(cover, lut, buf[:, :31])
        np.testing.assert_array_equal(buf[:, :31], want)
        assert (buf[:, 31:] == 7).all()  # nothing written past the picture


def test_coverage_pixels_refuses_bad_arrays():
    from gdviz.kernels.raster import coverage_pixels

    cover = np.zeros((2, 3), np.float32)
    lut = np.zeros(256, np.uint32)
    with pytest.raises(ValueError, match="cover"):
        coverage_pixels(cover.astype(np.float64), lut, np.zeros((2, 3), np.uint32))
    with pytest.raises(ValueError, match="256"):
        coverage_pixels(cover, lut[:255], np.zeros((2, 3), np.uint32))
    with pytest.raises(ValueError, match="shape"):
        coverage_pixels(cover, lut, np.zeros((3, 2), np.uint32))
    for fast in (True, False):
        out = np.ones((2, 3), np.uint32)
        assert coverage_pixels(cover, lut, out, fast=fast) is out and not out.any()
