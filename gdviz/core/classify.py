"""Two-class data on the plane (TensorFlow Playground's four sets, or a CSV of x1, x2,
label) and their seeded train/validation split.

Qt-free and numba-free. Everything returns new arrays; a bad CSV or a bad setting raises
ValueError with one line and leaves the caller's current data untouched.

The generators follow TensorFlow Playground's ``dataset.ts`` (labels +1/-1 there are
1/0 here), on the square [-6, 6]², with ``noise`` in 0..0.5 (the Playground's slider
0..50 %):

* ``circles``: half the points inside radius 2.5 (class 1), half on the ring 3.5..5
  (class 0); each point's label is decided after a uniform jitter of ±5·noise, so noise
  mixes the classes near the boundary.
* ``xor``: x1, x2 uniform in ±(0.3..5.3); class 1 where x1·x2 >= 0 after a jitter of
  ±5·noise.
* ``gauss``: two Gaussian blobs centred at (2, 2) (class 1) and (-2, -2) (class 0) with
  variance 0.5 + 7·noise (0.5..4).
* ``spiral``: two interleaved arms (class 1 at angle 0, class 0 at angle pi), radius 0..5
  over 1.75 turns, with a uniform jitter of ±noise.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gdviz.core.data import split_indices
from gdviz.core.limits import (MAX_CLASSIFY_NOISE, MAX_COORD, MAX_CSV_BYTES, MAX_POINTS,
                               MIN_CLASSIFY_POINTS)
from gdviz.core.userinput import decode_text, quote, read_user_file

#: the generated sets, in the order the picker lists them
DATASETS = ("circles", "xor", "gauss", "spiral")
#: the square the generated sets live in (TF Playground's)
DOMAIN = (-6.0, 6.0)


def _check_name(name) -> str:
    if name in DATASETS:
        return str(name)
    close = difflib.get_close_matches(str(name), DATASETS, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"choose from {', '.join(DATASETS)}"
    raise ValueError(f"unknown dataset '{quote(name)}'; {hint}")


def check_points(n) -> int:
    if (isinstance(n, bool) or not isinstance(n, (int, np.integer))
            or not MIN_CLASSIFY_POINTS <= n <= MAX_POINTS):
        raise ValueError(f"Invalid number of points: {n!r} (must be an integer in "
                         f"{MIN_CLASSIFY_POINTS}..{MAX_POINTS})")
    return int(n)


def check_noise(noise) -> float:
    try:
        v = float(noise)
    except (TypeError, ValueError):
        raise ValueError(f"Invalid noise: {quote(noise)} (must be a number)") from None
    if not (math.isfinite(v) and 0.0 <= v <= MAX_CLASSIFY_NOISE):
        raise ValueError(f"Invalid noise: {v:g} (must be in 0..{MAX_CLASSIFY_NOISE:g})")
    return v


def check_val_fraction(vf) -> float:
    try:
        v = float(vf)
    except (TypeError, ValueError):
        raise ValueError(f"Invalid validation fraction: {quote(vf)} (must be a number)") from None
    if not (0.0 <= v <= 0.5):
        raise ValueError(f"Invalid validation fraction: {vf} (must be in 0..0.5)")
    return v


@dataclass(frozen=True, eq=False)
class ClassDataset:
    """Points ``X`` float64 (N, 2) with labels ``y`` float64 (N,) in {0, 1}, and a seeded
    split: ``val_fraction`` (0..0.5, rounded, at least one training point) of them held
    out, chosen by a permutation seeded with ``seed``. ``train_idx`` / ``val_idx`` are
    sorted int64 indices; the arrays are read-only copies."""

    X: np.ndarray
    y: np.ndarray
    val_fraction: float = 0.3
    seed: int = 0
    name: str = ""
    train_idx: np.ndarray = field(init=False, repr=False)
    val_idx: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        X = np.array(self.X, dtype=np.float64, order="C", copy=True)
        y = np.array(self.y, dtype=np.float64, order="C", copy=True)
        if X.ndim != 2 or X.shape[1] != 2 or y.shape != (X.shape[0],):
            raise ValueError(f"points must be (N, 2) with N labels, got {X.shape} and {y.shape}")
        if X.shape[0] < 2:
            raise ValueError(f"need at least 2 points, got {X.shape[0]}")
        if X.shape[0] > MAX_POINTS:
            raise ValueError(f"too many points: {X.shape[0]} (at most {MAX_POINTS})")
        if not np.isfinite(X).all():
            raise ValueError("points contain non-finite values")
        big = float(np.abs(X).max())
        if big > MAX_COORD:
            raise ValueError(f"data has a value of size {big:.3g}: values must be between "
                             f"{-MAX_COORD:g} and {MAX_COORD:g}")
        if not np.isin(y, (0.0, 1.0)).all():
            raise ValueError("labels must be 0 or 1")
        vf = check_val_fraction(self.val_fraction)
        train_idx, val_idx = split_indices(X.shape[0], vf, self.seed)  # as the curve fit's
        X.flags.writeable = False
        y.flags.writeable = False
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "val_fraction", vf)
        object.__setattr__(self, "val_idx", val_idx)
        object.__setattr__(self, "train_idx", train_idx)

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_train(self) -> int:
        return int(self.train_idx.shape[0])

    @property
    def n_val(self) -> int:
        return int(self.val_idx.shape[0])

    @property
    def X_train(self) -> np.ndarray:
        return self.X[self.train_idx]

    @property
    def y_train(self) -> np.ndarray:
        return self.y[self.train_idx]

    @property
    def X_val(self) -> np.ndarray:
        return self.X[self.val_idx]

    @property
    def y_val(self) -> np.ndarray:
        return self.y[self.val_idx]

    def bounds(self, margin: float = 0.1) -> tuple[float, float, float, float]:
        """The box (x0, x1, y0, y1) the plane view shows: the generated sets' square, or
        the points' range with ``margin`` of its size around it (square sides)."""
        lo, hi = self.X.min(axis=0), self.X.max(axis=0)
        if (lo >= DOMAIN[0]).all() and (hi <= DOMAIN[1]).all() and self.name in DATASETS:
            return (DOMAIN[0], DOMAIN[1], DOMAIN[0], DOMAIN[1])
        span = max(float((hi - lo).max()), 1e-6)
        half = span * (0.5 + margin)
        cx, cy = (lo + hi) / 2.0
        return (float(cx - half), float(cx + half), float(cy - half), float(cy + half))


# ----------------------------------------------------------------------------- generators
def _circles(rng, n, noise):
    radius = 5.0
    n_in = n // 2
    X = np.empty((n, 2))
    y = np.empty(n)
    for k, (lo, hi) in enumerate(((0.0, radius * 0.5), (radius * 0.7, radius))):
        m = n_in if k == 0 else n - n_in
        r = rng.uniform(lo, hi, m)
        ang = rng.uniform(0.0, 2.0 * np.pi, m)
        p = np.stack([r * np.sin(ang), r * np.cos(ang)], axis=1)
        jitter = rng.uniform(-radius, radius, (m, 2)) * noise
        # the label is the circle's at the jittered point (TF Playground's getCircleLabel)
        lab = (np.hypot(*(p + jitter).T) < radius * 0.5).astype(np.float64)
        sl = slice(0, m) if k == 0 else slice(n_in, n)
        X[sl], y[sl] = p, lab
    return X, y


def _xor(rng, n, noise):
    pad = 0.3
    p = rng.uniform(-5.0, 5.0, (n, 2))
    p += np.where(p > 0, pad, -pad)
    jitter = rng.uniform(-5.0, 5.0, (n, 2)) * noise
    q = p + jitter
    return p, (q[:, 0] * q[:, 1] >= 0).astype(np.float64)


def _gauss(rng, n, noise):
    var = 0.5 + (4.0 - 0.5) * noise / 0.5  # d3 linear scale [0, .5] -> [0.5, 4]
    sd = math.sqrt(var)
    n1 = n // 2
    X = np.empty((n, 2))
    X[:n1] = rng.normal(2.0, sd, (n1, 2))
    X[n1:] = rng.normal(-2.0, sd, (n - n1, 2))
    y = np.zeros(n)
    y[:n1] = 1.0
    return X, y


def _spiral(rng, n, noise):
    X = np.empty((n, 2))
    y = np.empty(n)
    half = n // 2
    for k, (dt, lab) in enumerate(((0.0, 1.0), (np.pi, 0.0))):
        m = half if k == 0 else n - half
        i = np.arange(m, dtype=np.float64)
        r = i / m * 5.0
        t = 1.75 * i / m * 2.0 * np.pi + dt
        p = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
        p += rng.uniform(-1.0, 1.0, (m, 2)) * noise
        sl = slice(0, m) if k == 0 else slice(half, n)
        X[sl], y[sl] = p, lab
    return X, y


_GENERATORS = {"circles": _circles, "xor": _xor, "gauss": _gauss, "spiral": _spiral}


def make_points(name: str, n_points: int = 300, noise: float = 0.0, seed: int = 0
                ) -> tuple[np.ndarray, np.ndarray]:
    """The ``name`` set (see :data:`DATASETS`): X float64 (n, 2) and labels float64 (n,)
    in {0, 1}, seeded (a stream of its own, apart from the split's)."""
    name = _check_name(name)
    n = check_points(n_points)
    noise = check_noise(noise)
    rng = np.random.default_rng([int(seed), 10])
    X, y = _GENERATORS[name](rng, n, noise)
    return np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64)


def make_class_dataset(name: str, n_points: int = 300, noise: float = 0.0, seed: int = 0,
                       val_fraction: float = 0.3) -> ClassDataset:
    """:func:`make_points` with its seeded train/validation split."""
    X, y = make_points(name, n_points, noise, seed)
    return ClassDataset(X, y, val_fraction, seed, name)


# ----------------------------------------------------------------------------- CSV
def _split_fields(line: str) -> list[str]:
    for sep in (",", ";", "\t"):
        if sep in line:
            return [f.strip() for f in line.split(sep)]
    return line.split()


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def load_class_csv(path) -> tuple[np.ndarray, np.ndarray]:
    """Read three columns x1, x2, label (0 or 1) from a text file.

    Separators: comma, semicolon, tab or spaces; ``#`` starts a comment; the first
    non-comment line may be a header. Read through the project's bounded reader (regular
    files only, at most MAX_CSV_BYTES; UTF-8, UTF-16 with a BOM or GB18030). Returns new
    arrays X float64 (N, 2) and y float64 (N,); raises ValueError naming the file and line
    (``pts.csv line 4: label must be 0 or 1, got '2'``)."""
    p = Path(path)
    name = quote(p.name)
    try:
        text = decode_text(read_user_file(p, MAX_CSV_BYTES, "CSV file"), p.name)
        return _parse(text, name)
    except (MemoryError, RecursionError):
        raise ValueError(f"{name}: too big to read") from None


def _parse(text: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    rows: list[tuple[float, float, float]] = []
    seen = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = _split_fields(line)
        shown = quote(raw.strip(), 40)
        try:
            if len(fields) != 3:
                raise ValueError
            a, b, c = (float(f) for f in fields)
        except ValueError:
            if not seen and len(fields) == 3 and not any(_is_number(f) for f in fields):
                seen = True  # a header such as "x1,x2,label"
                continue
            raise ValueError(f"{name} line {lineno}: expected 3 numbers (x1, x2, label), "
                             f"got '{shown}'") from None
        seen = True
        if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
            raise ValueError(f"{name} line {lineno}: non-finite value in '{shown}'")
        if not (abs(a) <= MAX_COORD and abs(b) <= MAX_COORD):
            raise ValueError(f"{name} line {lineno}: '{shown}' is out of range (values must be "
                             f"between {-MAX_COORD:g} and {MAX_COORD:g})")
        if c not in (0.0, 1.0):
            raise ValueError(f"{name} line {lineno}: label must be 0 or 1, "
                             f"got '{quote(fields[2], 20)}'")
        if len(rows) >= MAX_POINTS:
            raise ValueError(f"{name}: too many points (at most {MAX_POINTS})")
        rows.append((a, b, c))
    if not rows:
        raise ValueError(f"{name}: no data (empty file)" if not text.strip() else f"{name}: no data rows")
    if len(rows) < 2:
        raise ValueError(f"{name}: need at least 2 points, got {len(rows)}")
    arr = np.array(rows, dtype=np.float64)
    if arr[:, 2].min() == arr[:, 2].max():
        raise ValueError(f"{name}: every point has label {int(arr[0, 2])}; "
                         "a classifier needs both classes 0 and 1")
    return np.ascontiguousarray(arr[:, :2]), np.ascontiguousarray(arr[:, 2])
