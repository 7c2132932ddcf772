"""Screen-resolution decimation fed incrementally keeps what the full history shows."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz.ui.views.decimate import PathDecimator, SeriesDecimator


def _feed(dec, keys, *cols, seed=0):
    """Feed in random chunks (as frames would), like a view does."""
    rng = np.random.default_rng(seed)
    i = 0
    while i < len(keys):
        j = min(len(keys), i + int(rng.integers(1, 3000)))
        dec.extend(keys[i:j], *(c[i:j] for c in cols))
        i = j


def _check_series(dec, keys, y):
    """Every bucket's min and max are kept (the envelope), and only points of the history."""
    ks, ys = dec.keys, dec.y[: dec.n]
    px, py = dec.pending()
    ks = np.concatenate([ks, px.astype(np.int64)])
    ys = np.concatenate([ys, py])
    assert np.all(np.diff(ks) > 0)
    lookup = dict(zip(keys.tolist(), y.tolist()))
    assert all(lookup[k] == v for k, v in zip(ks.tolist(), ys.tolist()))
    w = dec.width
    ok = np.isfinite(y)
    for b in np.unique(keys[ok] // w):
        sel = ok & (keys // w == b)
        inb = (ks // w) == b
        assert ys[inb].min() == y[sel].min() and ys[inb].max() == y[sel].max()
    if ok.any():
        assert dec.lo == np.nanmin(y) and dec.hi == np.nanmax(y)
    else:
        assert np.isnan(dec.lo) and np.isnan(dec.hi) and len(ks) == 0


@pytest.mark.parametrize("stride", [1, 2, 16])
def test_series_envelope_after_incremental_feeding(stride):
    rng = np.random.default_rng(1)
    keys = np.arange(0, 60_000 * stride, stride, dtype=np.int64)
    y = np.cumsum(rng.normal(size=len(keys))) + 0.1 * rng.normal(size=len(keys))
    y[rng.integers(0, len(y), 50)] = np.nan  # skipped, never drawn
    dec = SeriesDecimator(max_buckets=256)
    _feed(dec, keys, y)
    assert dec.n + 2 <= 2 * 256 + 2 and dec.width >= len(keys) * stride // 256
    _check_series(dec, keys, y)


def test_series_is_exact_while_short():
    keys = np.arange(300, dtype=np.int64)
    y = np.sin(keys / 7.0)
    dec = SeriesDecimator(max_buckets=256)
    _feed(dec, keys, y)
    ks = np.concatenate([dec.keys, dec.pending()[0].astype(np.int64)])
    assert dec.width == 2 and np.array_equal(ks, keys)  # two points a bucket: all of them


def test_series_truncate_then_refeed_equals_feeding_once():
    rng = np.random.default_rng(2)
    keys = np.arange(40_000, dtype=np.int64)
    y = rng.normal(size=len(keys))
    dec = SeriesDecimator(max_buckets=128)
    _feed(dec, keys, y)
    for back in (31_111, 5_000, 39_999, 0):
        after = dec.truncate(back)
        assert after <= back
        _check_series(dec, keys[: after + 1], y[: after + 1])
        dec.extend(keys[after + 1: back + 1], y[after + 1: back + 1])
        _check_series(dec, keys[: back + 1], y[: back + 1])
        _feed(dec, keys[back + 1:], y[back + 1:])  # forward again
        _check_series(dec, keys, y)


def _check_path(dec, keys, x, y, exact):
    kept = dec.keys
    n = dec.n
    assert np.array_equal(kept[: min(exact, n)], keys[: min(exact, n)])
    # each point shares the cell of the kept point at or before it (the cell in force then)
    j = np.searchsorted(kept, keys, side="right") - 1
    for i in range(len(keys)):
        if j[i] + 1 < dec.exact:
            assert kept[j[i]] == keys[i]
            continue
        g = dec.cells(j[i] + 1, np.array([x[i], dec.x[j[i]]]), np.array([y[i], dec.y[j[i]]]))
        assert g[0][0] == g[0][1] and g[1][0] == g[1][1]


def test_path_keeps_every_point_that_leaves_its_cell():
    rng = np.random.default_rng(3)
    m = 30_000
    keys = np.arange(m, dtype=np.int64)
    # a descent that slows down, then jitters around the minimum
    x = np.cumsum(rng.normal(0.3, 1.0, m) / (1 + np.arange(m) / 500))
    y = np.cumsum(rng.normal(-0.2, 1.0, m) / (1 + np.arange(m) / 500))
    dec = PathDecimator(cell=(0.5, 0.5), exact=500, level=300)
    _feed(dec, keys, x, y)
    assert dec.n < m // 3
    _check_path(dec, keys, x, y, 500)
    back = dec.truncate(12_345)
    assert back == 12_345
    _check_path(dec, keys[:12_346], x[:12_346], y[:12_346], 500)
    _feed(dec, keys[12_346:], x[12_346:], y[12_346:])
    _check_path(dec, keys, x, y, 500)


def test_path_of_a_noisy_run_stays_bounded():
    rng = np.random.default_rng(4)
    m = 400_000
    keys = np.arange(m, dtype=np.int64)
    # jitter of ~20 cells forever, around a minimum at 0 (a cell border at every size
    # there would keep adding points)
    x, y = rng.normal(0, 20.0, m), rng.normal(0, 20.0, m)
    dec = PathDecimator(cell=(1.0, 1.0), exact=1000, level=1000)
    _feed(dec, keys, x, y)
    assert dec.n < 12_000  # the cell doubles every 1000 kept points
    _check_path(dec, keys[::97], x[::97], y[::97], 0)


def test_series_few_points_at_a_time_equals_all_at_once():
    rng = np.random.default_rng(5)
    keys = np.arange(0, 20_000, 3, dtype=np.int64)
    y = np.round(rng.normal(size=len(keys)), 1)  # ties: the earlier point is kept
    y[rng.integers(0, len(y), 30)] = np.nan
    few, once = SeriesDecimator(max_buckets=128), SeriesDecimator(max_buckets=128)
    for i in range(0, len(keys), 5):  # a frame's few points (the plain-Python path)
        few.extend(keys[i:i + 5], y[i:i + 5])
    once.extend(keys, y)
    assert few.width == once.width and few.n == once.n
    np.testing.assert_array_equal(few.keys, once.keys)
    np.testing.assert_array_equal(few.y[: few.n], once.y[: once.n])
    for a, b in zip(few.pending(), once.pending()):
        np.testing.assert_array_equal(a, b)
    assert (few.lo, few.hi) == (once.lo, once.hi) == (np.nanmin(y), np.nanmax(y))
    _check_series(few, keys, y)
