"""Two-class data on the plane: TF Playground's four sets, the seeded split, the CSV."""

import os

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from gdviz.core import limits
from gdviz.core.classify import (DATASETS, ClassDataset, load_class_csv, make_class_dataset,
                                 make_points)


@pytest.mark.parametrize("name", DATASETS)
def test_sets_are_seeded_balanced_and_in_the_square(name):
    X, y = make_points(name, 200, 0.1, seed=4)
    assert X.shape == (200, 2) and y.shape == (200,) and X.dtype == np.float64
    assert set(np.unique(y)) == {0.0, 1.0}
    assert np.abs(X).max() <= 6.0 + 1e-12 or name == "gauss"
    X2, y2 = make_points(name, 200, 0.1, seed=4)
    assert_array_equal(X, X2)
    assert_array_equal(y, y2)
    X3, _ = make_points(name, 200, 0.1, seed=5)
    assert not np.array_equal(X, X3)
    # classes are about balanced (noise flips a few labels near the boundary)
    assert 0.3 < y.mean() < 0.7


def test_noise_free_sets_follow_their_rule():
    X, y = make_points("circles", 400, 0.0, 1)
    r = np.hypot(X[:, 0], X[:, 1])
    assert_array_equal(y, (r < 2.5).astype(float))
    assert ((r <= 2.5) | ((r >= 3.5) & (r <= 5.0))).all()
    X, y = make_points("xor", 400, 0.0, 1)
    assert_array_equal(y, (X[:, 0] * X[:, 1] >= 0).astype(float))
    assert (np.abs(X) >= 0.3).all() and (np.abs(X) <= 5.3).all()
    X, y = make_points("spiral", 400, 0.0, 1)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.max() < 5.0 and y[:200].all() and not y[200:].any()
    X, y = make_points("gauss", 4000, 0.0, 1)
    assert np.allclose(X[y == 1].mean(axis=0), 2.0, atol=0.1)
    assert np.allclose(X[y == 1].var(axis=0), 0.5, rtol=0.1)
    _, _ = make_points("gauss", 4000, 0.5, 1)
    Xn, yn = make_points("gauss", 4000, 0.5, 1)
    assert np.allclose(Xn[yn == 0].var(axis=0), 4.0, rtol=0.1)


def test_noise_mixes_labels_near_the_boundary():
    X, y = make_points("circles", 1000, 0.5, 2)
    r = np.hypot(X[:, 0], X[:, 1])
    assert ((r < 2.5) != (y == 1)).mean() > 0.05


def test_split_seeded_disjoint():
    ds = make_class_dataset("xor", 100, 0.1, seed=3, val_fraction=0.3)
    assert ds.n_val == 30 and ds.n_train == 70
    assert_array_equal(np.sort(np.concatenate([ds.train_idx, ds.val_idx])), np.arange(100))
    assert ds.X_train.shape == (70, 2) and ds.y_val.shape == (30,)
    again = make_class_dataset("xor", 100, 0.1, seed=3, val_fraction=0.3)
    assert_array_equal(again.val_idx, ds.val_idx)
    with pytest.raises(ValueError):
        ds.X[0, 0] = 1.0
    assert ds.bounds() == (-6.0, 6.0, -6.0, 6.0)


@pytest.mark.parametrize("kw,msg", [
    (dict(name="circle"), r"unknown dataset 'circle'; did you mean 'circles'\?"),
    (dict(name="moons"), r"unknown dataset 'moons'; choose from circles, xor, gauss, spiral"),
    (dict(n_points=5), r"Invalid number of points: 5 \(must be an integer in 10\.\.100000\)"),
    (dict(n_points=2.5), r"Invalid number of points"),
    (dict(n_points=True), r"Invalid number of points"),
    (dict(noise=0.6), r"Invalid noise: 0\.6 \(must be in 0\.\.0\.5\)"),
    (dict(noise=float("nan")), r"Invalid noise"),
    (dict(noise="x"), r"Invalid noise: x \(must be a number\)"),
    (dict(val_fraction=0.7), r"Invalid validation fraction: 0\.7 \(must be in 0\.\.0\.5\)"),
])
def test_bad_settings_one_line(kw, msg):
    args = dict(name="circles", n_points=50, noise=0.1, seed=0, val_fraction=0.3)
    args.update(kw)
    with pytest.raises(ValueError, match=msg) as e:
        make_class_dataset(**args)
    assert "\n" not in str(e.value)


def test_dataset_validation():
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        ClassDataset(np.zeros((3, 2)), np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        ClassDataset(np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="non-finite"):
        ClassDataset(np.array([[0.0, np.nan], [1, 1]]), np.array([0.0, 1.0]))
    ds = ClassDataset(np.array([[10.0, 0], [20, 4], [15, 2]]), np.array([0.0, 1, 1]), 0.0)
    x0, x1, y0, y1 = ds.bounds()
    assert x0 < 10 and x1 > 20 and y0 < 0 and y1 > 4 and x1 - x0 == pytest.approx(y1 - y0)


# ----------------------------------------------------------------------------- CSV
def write(tmp_path, text, name="pts.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return p


def test_csv_header_comments_separators(tmp_path):
    p = write(tmp_path, "# two classes\nx1,x2,label\n0.5, 1, 0\n-1;2;1\n3\t4\t1\n5 6 0 # last\n")
    X, y = load_class_csv(p)
    assert_array_equal(X, [[0.5, 1], [-1, 2], [3, 4], [5, 6]])
    assert_array_equal(y, [0, 1, 1, 0])


@pytest.mark.parametrize("enc", ["utf-16", "gb18030", "utf-8-sig"])
def test_csv_encodings(tmp_path, enc):
    p = write(tmp_path, "横,纵,类别\n0,1,0\n1,0,1\n", encoding=enc)
    X, y = load_class_csv(p)
    assert X.shape == (2, 2) and list(y) == [0, 1]


@pytest.mark.parametrize("text,msg", [
    ("", r"^pts\.csv: no data \(empty file\)$"),
    ("x1,x2,label\n", r"^pts\.csv: no data rows$"),
    ("1,2,1\n", r"^pts\.csv: need at least 2 points, got 1$"),
    ("1,2,1\n2,3\n", r"^pts\.csv line 2: expected 3 numbers \(x1, x2, label\), got '2,3'$"),
    ("1,2,1\nabc,3,1\n", r"^pts\.csv line 2: expected 3 numbers"),
    ("1,2,1\n2,3,2\n", r"^pts\.csv line 2: label must be 0 or 1, got '2'$"),
    ("1,2,1\n2,3,0.5\n", r"^pts\.csv line 2: label must be 0 or 1, got '0\.5'$"),
    ("1,2,1\nnan,3,0\n", r"^pts\.csv line 2: non-finite value"),
    ("1,2,1\n1e300,3,0\n", r"^pts\.csv line 2: '1e300,3,0' is out of range"),
    ("1,2,1\n2,3,1\n", r"^pts\.csv: every point has label 1; a classifier needs both"),
    ("1,2,1\n" + "9" * 500 + ",1,0\n", r"^pts\.csv line 2: non-finite value in .9{40}….$"),
    (b"\x00\x01\x02binary", r"^pts\.csv: not a text file in a known encoding"),
])
def test_csv_errors_one_line(tmp_path, text, msg):
    with pytest.raises(ValueError, match=msg) as e:
        load_class_csv(write(tmp_path, text))
    assert "\n" not in str(e.value) and len(str(e.value)) < 200


def test_csv_long_line_is_quoted_briefly(tmp_path):
    p = write(tmp_path, "1,2,1\n" + "a" * 5000 + ",b,c\n")
    with pytest.raises(ValueError) as e:
        load_class_csv(p)
    assert len(str(e.value)) < 150


def test_csv_not_a_regular_file(tmp_path):
    with pytest.raises(ValueError, match=r"cannot read: it is a folder"):
        load_class_csv(tmp_path)
    with pytest.raises(ValueError, match=r"^nope\.csv: cannot read"):
        load_class_csv(tmp_path / "nope.csv")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=r"^pipe\.csv: cannot read: it is a pipe"):
        load_class_csv(fifo)


def test_csv_too_big_refused_before_reading(tmp_path):
    p = tmp_path / "big.csv"
    with open(p, "wb") as fh:
        fh.truncate(limits.MAX_CSV_BYTES + 1)
    with pytest.raises(ValueError, match=r"^big\.csv: \d+ bytes is too big for a CSV file"):
        load_class_csv(p)
