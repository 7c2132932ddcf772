"""Datasets, targets, CSV loading and the mini-batch sampler."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gdviz.core.data import (TARGETS, Dataset, MiniBatchSampler, expr_target, get_target,
                             linear_regression_data, load_csv, make_dataset)


# ----------------------------------------------------------------------------- Dataset / split
def test_split_sizes_disjoint_and_seeded():
    ds = make_dataset("quadratic", 40, 0.1, seed=3)
    assert ds.n_val == 6 and ds.n_train == 34  # round(0.15 * 40)
    both = np.concatenate([ds.train_idx, ds.val_idx])
    assert_array_equal(np.sort(both), np.arange(40))
    assert_allclose(np.sort(np.concatenate([ds.x_train, ds.x_val])), np.sort(ds.x))
    again = make_dataset("quadratic", 40, 0.1, seed=3)
    assert_array_equal(again.val_idx, ds.val_idx)
    assert_array_equal(again.y, ds.y)
    other = make_dataset("quadratic", 40, 0.1, seed=4)
    assert not np.array_equal(other.y, ds.y)


@pytest.mark.parametrize("vf,n_val", [(0.0, 0), (0.5, 10), (0.25, 5)])
def test_val_fraction_range(vf, n_val):
    ds = make_dataset("sine", 20, 0.0, 0, val_fraction=vf)
    assert ds.n_val == n_val and ds.n_train == 20 - n_val


@pytest.mark.parametrize("vf", [-0.1, 0.51, 1.0])
def test_bad_val_fraction(vf):
    with pytest.raises(ValueError, match=r"Invalid validation fraction: .* \(must be in 0\.\.0\.5\)"):
        make_dataset("sine", 20, 0.1, 0, val_fraction=vf)


def test_with_split_keeps_points():
    ds = make_dataset("abs", 30, 0.1, 1)
    ds2 = ds.with_split(0.5)
    assert_array_equal(ds2.x, ds.x)
    assert ds2.n_val == 15


def test_dataset_arrays_are_read_only_copies():
    x = np.linspace(0, 1, 5)
    y = x.copy()
    ds = Dataset(x, y)
    x[0] = 99.0
    assert ds.x[0] == 0.0  # the dataset owns its float64 arrays
    with pytest.raises(ValueError):
        ds.x[1] = 5.0


def test_dataset_validation():
    with pytest.raises(ValueError, match="need at least 2 points"):
        Dataset(np.array([1.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="same length"):
        Dataset(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="non-finite"):
        Dataset(np.array([0.0, 1.0]), np.array([0.0, np.nan]))


# ----------------------------------------------------------------------------- targets
def test_targets_registry():
    assert set(TARGETS) == {"quadratic", "piecewise", "sine", "step", "abs"}
    x = np.array([-2.0, -0.5, 0.0, 1.5])
    assert_allclose(TARGETS["quadratic"](x), 3 * x**2 + 2 * x + 1)
    assert_allclose(TARGETS["abs"](x), np.abs(x))
    assert_allclose(TARGETS["step"](x), [0, 0, 1, 1])
    assert_allclose(TARGETS["sine"](x), np.sin(np.pi * x), atol=1e-15)


def test_piecewise_is_flat_up_down_flat():
    t = TARGETS["piecewise"]
    x = np.linspace(*t.x_range, 401)
    y = t(x)
    slope = np.diff(y) / np.diff(x)
    signs = [int(np.sign(round(s, 9))) for s in slope]
    runs = [signs[0]] + [b for a, b in zip(signs, signs[1:]) if b != a]
    assert runs == [0, 1, -1, 0]
    # a constant plus two hard sigmoids, as the lecture says
    hs = lambda z: np.clip(z, 0, 1)  # noqa: E731
    assert_allclose(y, 0.5 + 1.5 * hs(x + 1) - 1.0 * hs(x), atol=1e-12)


def test_make_dataset_noise_free_follows_target():
    ds = make_dataset("quadratic", 20, 0.0, 0)
    assert ds.x.min() >= -2 and ds.x.max() <= 2
    assert np.all(np.diff(ds.x) >= 0)
    assert_allclose(ds.y, 3 * ds.x**2 + 2 * ds.x + 1)


def test_make_dataset_noise_level():
    ds = make_dataset("abs", 20000, 0.3, 0, 0.0)
    assert abs(np.std(ds.y - np.abs(ds.x)) - 0.3) < 0.01


def test_make_dataset_custom_range_and_validation():
    ds = make_dataset("sine", 10, 0.0, 0, x_range=(0.0, 1.0))
    assert ds.x.min() >= 0 and ds.x.max() <= 1
    with pytest.raises(ValueError, match=r"Invalid number of points: 1 \(must be an integer in 2\.\."):
        make_dataset("sine", 1, 0.1, 0)
    with pytest.raises(ValueError, match=r"Invalid noise: -0.5 \(must be >= 0\)"):
        make_dataset("sine", 10, -0.5, 0)
    with pytest.raises(ValueError, match="unknown target 'sin'; did you mean 'sine'"):
        make_dataset("sin", 10, 0.1, 0)
    with pytest.raises(ValueError, match="choose from quadratic, piecewise"):
        get_target("zzzzzz")


def test_expression_target():
    t = expr_target("x^3 - x")
    ds = make_dataset(t, 15, 0.0, 2)
    assert_allclose(ds.y, ds.x**3 - ds.x, atol=1e-12)


def test_bad_expression_reports_column():
    with pytest.raises(ValueError, match="column") as exc:
        expr_target("x + z")
    assert "z" in str(exc.value)
    assert getattr(exc.value, "column", None) is not None


def test_non_finite_expression_target():
    with pytest.raises(ValueError, match="not finite at x"):
        make_dataset(expr_target("log(x)"), 10, 0.0, 0)


def test_linear_regression_data():
    x, y = linear_regression_data(200, w=2.0, b=1.0, noise=0.0, seed=1)
    assert x.dtype == np.float64 and x.shape == (200,)
    assert_allclose(y, 1.0 + 2.0 * x)
    x2, y2 = linear_regression_data(200, w=2.0, b=1.0, noise=0.5, seed=1)
    w, b = np.polyfit(x2, y2, 1)
    assert abs(w - 2) < 0.2 and abs(b - 1) < 0.3


# ----------------------------------------------------------------------------- CSV
def write(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_load_csv_header_comments_separators(tmp_path):
    p = write(tmp_path, "# my data\nx,y\n0, 1\n1,3  # a comment\n\n2;5\n3\t7\n4 9\n")
    x, y = load_csv(p)
    assert_allclose(x, [0, 1, 2, 3, 4])
    assert_allclose(y, [1, 3, 5, 7, 9])
    assert x.dtype == np.float64


def test_load_csv_bad_line_named(tmp_path):
    p = write(tmp_path, "x,y\n1,2\n2,3\n3,4\n4,5\n5,6\nabc,1\n")
    with pytest.raises(ValueError, match=r"^data\.csv line 7: expected 2 numbers, got 'abc,1'$"):
        load_csv(p)


def test_load_csv_three_columns(tmp_path):
    p = write(tmp_path, "1,2\n3,4,5\n")
    with pytest.raises(ValueError, match=r"data\.csv line 2: expected 2 numbers, got '3,4,5'"):
        load_csv(p)


def test_load_csv_header_only_allowed_first(tmp_path):
    p = write(tmp_path, "1,2\nx,y\n3,4\n")
    with pytest.raises(ValueError, match="line 2: expected 2 numbers"):
        load_csv(p)


@pytest.mark.parametrize("text,msg", [
    ("", r"data\.csv: no data \(empty file\)"),
    ("# only a comment\nx,y\n", r"data\.csv: no data rows"),
    ("1,2\n", r"data\.csv: need at least 2 points, got 1"),
    ("1,2\n2,nan\n", r"data\.csv line 2: non-finite value"),
    ("1,2\ninf,3\n", r"data\.csv line 2: non-finite value"),
])
def test_load_csv_errors(tmp_path, text, msg):
    with pytest.raises(ValueError, match=msg):
        load_csv(write(tmp_path, text))


def test_load_csv_missing_file(tmp_path):
    with pytest.raises(ValueError, match=r"^nope\.csv: cannot read: No such file"):
        load_csv(tmp_path / "nope.csv")


# ----------------------------------------------------------------------------- sampler
@pytest.mark.parametrize("n,bs", [(10, 3), (32, 8), (7, 7), (5, 1), (17, 16)])
def test_sampler_visits_every_point_once_per_epoch(n, bs):
    s = MiniBatchSampler(n, bs, seed=11)
    nb = -(-n // bs)
    assert s.batches_per_epoch == nb
    for epoch in range(4):
        seen = []
        for k in range(nb):
            assert s.epoch == epoch
            b = s.next_batch()
            assert b.dtype == np.int64
            expected = bs if k < nb - 1 else n - bs * (nb - 1)  # the last batch is smaller
            assert b.shape == (expected,)
            seen.append(b)
        assert_array_equal(np.sort(np.concatenate(seen)), np.arange(n))
    assert s.iteration == 4 * nb


def test_sampler_reshuffles_and_is_deterministic():
    s = MiniBatchSampler(50, 10, seed=1)
    e0 = np.concatenate([s.batch_at(k) for k in range(5)])
    e1 = np.concatenate([s.batch_at(k) for k in range(5, 10)])
    assert not np.array_equal(e0, e1)
    t = MiniBatchSampler(50, 10, seed=1)
    # random access (scrubbing back and forth) gives the same batches as drawing in order
    for k in [9, 3, 7, 0, 42, 6]:
        assert_array_equal(t.batch_at(k), np.concatenate([e0, e1])[10 * k:10 * k + 10]
                           if k < 10 else s.batch_at(k))
    assert not np.array_equal(MiniBatchSampler(50, 10, seed=2).batch_at(0), s.batch_at(0))


def test_sampler_full_batch_is_arange():
    s = MiniBatchSampler(12, None, seed=5)
    assert s.batch_size == 12 and s.batches_per_epoch == 1
    assert_array_equal(s.batch_at(3), np.arange(12))
    assert s.epoch_of(3) == 3


@pytest.mark.parametrize("bs", [0, 11, -1, 2.5])
def test_sampler_bad_batch_size(bs):
    with pytest.raises(ValueError, match=r"Invalid batch size: .* \(must be in 1\.\.10, the training set size\)"):
        MiniBatchSampler(10, bs)


def _csv_variants(rng, n_files=400):
    """Texts a CSV reader meets: separators, headers, spaces, blank lines, CRLF, numbers
    in every form float() reads, and the faults (a third field, a word, a second header,
    non-finite and out-of-range values, mixed separators, a comment, one row)."""
    seps = [",", ";", "\t", " ", "  ", ", ", " ; "]
    numbers = ["1", "-2.5", "3e2", "+4.", ".5", "1_000", "1E-3", "  7 ", "0", "-0.0", "1e400",
               "nan", "inf", "-inf", "abc", "", "0x1p3", "1,5", "2e300", "١٢"]
    for _ in range(n_files):
        sep = seps[rng.integers(len(seps))]
        rows = []
        if rng.random() < 0.4:
            rows.append(sep.join(["x", "y"] if rng.random() < 0.8 else ["x", "1"]))
        for _ in range(int(rng.integers(0, 12))):
            if rng.random() < 0.9:
                a, b = (f"{v:.17g}" for v in rng.normal(0, 10.0 ** rng.integers(-3, 4), 2))
            else:
                a, b = (numbers[rng.integers(len(numbers))] for _ in range(2))
            row = sep.join([a, b])
            roll = rng.random()
            if roll < 0.03:
                row += sep + "3"  # a third field
            elif roll < 0.05:
                row = "# " + row
            elif roll < 0.07:
                row = row + "  # note"
            elif roll < 0.09:
                row = row.replace(sep, seps[rng.integers(len(seps))], 1)
            elif roll < 0.11:
                row = "x" + sep + "y"  # a header after the data
            elif roll < 0.13:
                row = "   "
            rows.append(row)
        end = "\r\n" if rng.random() < 0.3 else "\n"
        yield end.join(rows) + (end if rng.random() < 0.5 else "")


def test_the_plain_csv_path_reads_what_the_line_parser_reads():
    """The common file is read at once (_parse_plain_csv); any file it does not take goes
    line by line. Wherever it answers, it gives the line parser's x and y to the bit, and
    it answers for the plain files (so that a 100,000-row file does not take the slow
    path); a file the line parser refuses, it never takes."""
    from gdviz.core.data import _parse_csv_lines, _parse_plain_csv

    rng = np.random.default_rng(5)
    taken = refused = 0
    for text in _csv_variants(rng):
        fast = _parse_plain_csv(text)
        try:
            want = _parse_csv_lines(text, "f.csv")
        except ValueError:
            assert fast is None, repr(text)
            refused += 1
            continue
        if fast is not None:
            taken += 1
            for got, exp in zip(fast, want):
                assert got.dtype == np.float64 and got.tobytes() == exp.tobytes(), repr(text)
    assert taken > 60 and refused > 50  # (mixed separators and comments: line by line)
    plain = "x,y\n" + "\n".join(f"{i * 0.5},{i * i}" for i in range(1000)) + "\n"
    x, y = _parse_plain_csv(plain)
    assert len(x) == 1000 and x[3] == 1.5 and y[3] == 9.0
    for text in ("1\t2\n3\t4\n", "1 2\n3 4\n", "1;2\r\n3;4\r\n", " 1 , 2 \n\n3,4\n"):
        assert _parse_plain_csv(text) is not None, repr(text)
