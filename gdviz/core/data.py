"""Noisy datasets, the train/validation split and the seeded mini-batch sampler.

Everything here returns new arrays and never half-updates an existing object, so a
bad CSV or a bad expression leaves the caller's current data untouched.
"""

from __future__ import annotations

import difflib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from gdviz.core.limits import MAX_COORD, MAX_CSV_BYTES, MAX_POINTS
from gdviz.core.userinput import decode_text, quote, read_user_file


def _split_rng(seed: int) -> np.random.Generator:
    # a stream of its own, so that changing the split never changes the noise
    return np.random.default_rng([int(seed), 1])


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The seeded train/validation split of ``n`` points: (train_idx, val_idx), sorted int64.
    ``round(val_fraction * n)`` points (half rounds up; 85/15 of 30 points is 25/5; the
    epsilon absorbs 0.15*n's binary error) are held out, and at least one is kept for training."""
    n_val = min(int(np.floor(val_fraction * n + 0.5 + 1e-9)), n - 1)
    perm = _split_rng(seed).permutation(n)
    return np.sort(perm[n_val:]).astype(np.int64), np.sort(perm[:n_val]).astype(np.int64)


@dataclass(frozen=True, eq=False)
class Dataset:
    """Points (x, y) and their train/validation split.

    ``x``, ``y``: float64 (N,). ``val_fraction`` in 0..0.5 of the points (rounded) go to
    the validation set, chosen by a permutation seeded with ``seed``. ``train_idx`` and
    ``val_idx`` are sorted int64 indices into x; ``x_train``... are copies (float64).
    """

    x: np.ndarray
    y: np.ndarray
    val_fraction: float = 0.15
    seed: int = 0
    name: str = ""
    train_idx: np.ndarray = field(init=False, repr=False)
    val_idx: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        # own copies: the caller's arrays are never frozen or aliased
        x = np.array(self.x, dtype=np.float64, order="C", copy=True)
        y = np.array(self.y, dtype=np.float64, order="C", copy=True)
        if x.ndim != 1 or x.shape != y.shape:
            raise ValueError(f"x and y must be 1-D and the same length, got {x.shape} and {y.shape}")
        if x.shape[0] < 2:
            raise ValueError(f"need at least 2 points, got {x.shape[0]}")
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise ValueError("data contains non-finite values")
        big = max(float(np.abs(x).max()), float(np.abs(y).max()))
        if big > MAX_COORD:
            raise ValueError(f"data has a value of size {big:.3g}: values must be between "
                             f"{-MAX_COORD:g} and {MAX_COORD:g}")
        vf = float(self.val_fraction)
        if not (0.0 <= vf <= 0.5):
            raise ValueError(f"Invalid validation fraction: {self.val_fraction} (must be in 0..0.5)")
        n = x.shape[0]
        train_idx, val_idx = split_indices(n, vf, self.seed)
        for a in (x, y, train_idx, val_idx):  # (a fit's Dataset is given again: never changed)
            a.flags.writeable = False
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "val_fraction", vf)
        object.__setattr__(self, "val_idx", val_idx)
        object.__setattr__(self, "train_idx", train_idx)

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_train(self) -> int:
        return int(self.train_idx.shape[0])

    @property
    def n_val(self) -> int:
        return int(self.val_idx.shape[0])

    @property
    def x_train(self) -> np.ndarray:
        return self.x[self.train_idx]

    @property
    def y_train(self) -> np.ndarray:
        return self.y[self.train_idx]

    @property
    def x_val(self) -> np.ndarray:
        return self.x[self.val_idx]

    @property
    def y_val(self) -> np.ndarray:
        return self.y[self.val_idx]

    @property
    def x_range(self) -> tuple[float, float]:
        return float(self.x.min()), float(self.x.max())

    @property
    def y_range(self) -> tuple[float, float]:
        return float(self.y.min()), float(self.y.max())

    def with_split(self, val_fraction: float, seed: int | None = None) -> "Dataset":
        """The same points with another split (a new Dataset)."""
        return Dataset(self.x, self.y, val_fraction, self.seed if seed is None else seed, self.name)


# ----------------------------------------------------------------------------- targets
@dataclass(frozen=True)
class Target:
    """A curve to sample: ``fn(x float64 (N,)) -> float64 (N,)`` on ``x_range``."""

    name: str
    label: str
    formula: str
    x_range: tuple[float, float]
    fn: Callable[[np.ndarray], np.ndarray] = field(repr=False, compare=False)

    def __call__(self, x) -> np.ndarray:
        return np.asarray(self.fn(np.asarray(x, dtype=np.float64)), dtype=np.float64)


#: The lecture's "red curve": flat, rising, falling, flat. It is exactly
#: 0.5 + 1.5*hard_sigmoid(x + 1) - 1.0*hard_sigmoid(x), i.e. a constant plus two
#: "blue" hard sigmoids, so K = 2 hard-sigmoid units can fit it exactly.
PIECEWISE_KNOTS = ((-2.0, 0.5), (-1.0, 0.5), (0.0, 2.0), (1.0, 1.0), (2.0, 1.0))


def _piecewise(x):
    kx, ky = zip(*PIECEWISE_KNOTS)
    return np.interp(x, kx, ky)


TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("quadratic", "Quadratic (fast.ai)", "3x² + 2x + 1", (-2.0, 2.0),
           lambda x: 3.0 * x * x + 2.0 * x + 1.0),
    Target("piecewise", "Piecewise linear (red curve)",
           "flat, up, down, flat: 0.5 + 1.5·hsig(x+1) − hsig(x)", (-2.0, 2.0), _piecewise),
    Target("sine", "Sine", "sin(πx)", (-2.0, 2.0), lambda x: np.sin(np.pi * x)),
    Target("step", "Step", "0 for x < 0, 1 for x ≥ 0", (-2.0, 2.0),
           lambda x: (x >= 0.0).astype(np.float64)),
    Target("abs", "Absolute value", "|x|", (-2.0, 2.0), np.abs),
)}


def get_target(name: str) -> Target:
    """The target called ``name`` (ValueError with a suggestion if unknown)."""
    try:
        return TARGETS[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), TARGETS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"choose from {', '.join(TARGETS)}"
        raise ValueError(f"unknown target '{quote(name)}'; {hint}") from None


def expr_target(text: str, x_range: tuple[float, float] = (-2.0, 2.0)) -> Target:
    """A target from a custom expression in x (the safe expression language).

    Raises the expression's ExprError (a ValueError naming the column) if it does not parse."""
    from gdviz.core.expr import compile_expr

    prog = compile_expr(text, ("x",))
    return Target("expr", text, text, tuple(map(float, x_range)), prog.eval1d)


def _check_count(name, value, lo, hi):
    if isinstance(value, bool) or int(value) != value or not (lo <= value <= hi):
        raise ValueError(f"Invalid {name}: {value} (must be an integer in {lo}..{hi})")
    return int(value)


def _check_noise(noise):
    noise = float(noise)
    if not (np.isfinite(noise) and noise >= 0.0):
        raise ValueError(f"Invalid noise: {noise} (must be >= 0)")
    return noise


def make_dataset(target: str | Target, n_points: int = 50, noise: float = 0.1, seed: int = 0,
                 val_fraction: float = 0.15, x_range: tuple[float, float] | None = None) -> Dataset:
    """Sample ``n_points`` x uniformly on the target's range (sorted), y = target(x) + N(0, noise²).

    ``target`` is a name from TARGETS or a :class:`Target` (see :func:`expr_target`).
    Returns a :class:`Dataset` (float64 arrays). The noise is absolute (same units as y)."""
    t = get_target(target) if isinstance(target, str) else target
    n = _check_count("number of points", n_points, 2, MAX_POINTS)
    noise = _check_noise(noise)
    x0, x1 = map(float, t.x_range if x_range is None else x_range)
    if not (np.isfinite(x0) and np.isfinite(x1) and x1 > x0):
        raise ValueError(f"Invalid x range: ({x0}, {x1}) (need x0 < x1)")
    rng = np.random.default_rng([int(seed), 0])
    x = np.sort(rng.uniform(x0, x1, n))
    y_clean = t(x)
    if y_clean.shape != x.shape:
        y_clean = np.broadcast_to(y_clean, x.shape).astype(np.float64)
    bad = ~np.isfinite(y_clean)
    if bad.any():
        raise ValueError(f"target '{t.formula}' is not finite at x = {x[bad][0]:.6g}")
    y = y_clean + noise * rng.standard_normal(n)
    return Dataset(x, y, val_fraction, seed, t.name)


def linear_regression_data(n: int = 50, w: float = 2.0, b: float = 1.0, noise: float = 0.5,
                           seed: int = 0, x_range: tuple[float, float] = (0.0, 4.0)
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Points for the lecture's y = b + w·x: x uniform on x_range, y = b + w*x + N(0, noise²).

    Returns (x, y), float64 (n,) each."""
    n = _check_count("number of points", n, 2, MAX_POINTS)
    noise = _check_noise(noise)
    rng = np.random.default_rng([int(seed), 2])
    x = np.sort(rng.uniform(float(x_range[0]), float(x_range[1]), n))
    y = float(b) + float(w) * x + noise * rng.standard_normal(n)
    return x, y


# ----------------------------------------------------------------------------- CSV
def _split_fields(line: str) -> list[str]:
    for sep in (",", ";", "\t"):
        if sep in line:
            return [f.strip() for f in line.split(sep)]
    return line.split()


def load_csv(path) -> tuple[np.ndarray, np.ndarray]:
    """Read two numeric columns (x, y) from a text file.

    Separators: comma, semicolon, tab or spaces. ``#`` starts a comment. The first
    non-comment line may be a header. Returns new float64 arrays (N,); raises ValueError
    naming the file and line (``data.csv line 7: expected 2 numbers, got 'abc,1'``)."""
    p = Path(path)
    name = quote(p.name)
    try:
        # regular files only, at most MAX_CSV_BYTES: a FIFO or /dev/zero is refused
        text = decode_text(read_user_file(p, MAX_CSV_BYTES, "CSV file"), p.name)
        return _parse_csv(text, name)
    except (MemoryError, RecursionError):
        raise ValueError(f"{name}: too big to read") from None


def _parse_csv(text: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    fast = _parse_plain_csv(text)
    return fast if fast is not None else _parse_csv_lines(text, name)


def _parse_csv_lines(text: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The file line by line: every form :func:`load_csv` reads, and its errors."""
    xs: list[float] = []
    ys: list[float] = []
    seen_content = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = _split_fields(line)
        try:
            if len(fields) != 2:
                raise ValueError
            xv, yv = float(fields[0]), float(fields[1])
        except ValueError:
            if not seen_content and len(fields) == 2 and not any(_is_number(f) for f in fields):
                seen_content = True  # a header line such as "x,y"
                continue
            raise ValueError(f"{name} line {lineno}: expected 2 numbers, "
                             f"got '{quote(raw.strip(), 40)}'") from None
        seen_content = True
        if not (np.isfinite(xv) and np.isfinite(yv)):
            raise ValueError(f"{name} line {lineno}: non-finite value in "
                             f"'{quote(raw.strip(), 40)}'")
        if not (abs(xv) <= MAX_COORD and abs(yv) <= MAX_COORD):
            raise ValueError(f"{name} line {lineno}: '{quote(raw.strip(), 40)}' is out of range "
                             f"(values must be finite, between {-MAX_COORD:g} and {MAX_COORD:g})")
        xs.append(xv)
        ys.append(yv)
    if not xs:
        raise ValueError(f"{name}: no data (empty file)" if not text.strip() else f"{name}: no data rows")
    if len(xs) < 2:
        raise ValueError(f"{name}: need at least 2 points, got {len(xs)}")
    return np.array(xs, dtype=np.float64), np.array(ys, dtype=np.float64)


def _parse_plain_csv(text: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The common file at once, not line by line: no comments, the same separator on
    every line (as :func:`_split_fields` picks it) and two fields on each, an optional
    header, every value a number in range, two rows at least. Returns the x and y
    :func:`_parse_csv` would, or None for any other file, which that parser then reads
    (and names the line of its error). (Line by line, a 100,000-row file took 390 ms of
    the window's thread; so, ~60 ms.)"""
    if "#" in text:
        return None
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        return None
    sep = next((c for c in (",", ";", "\t") if c in text), None)
    # each line holds the separator once (it is then the one the line parser picks: an
    # earlier one in its order is in no line) or, without one, two words
    if sep is None:
        if any(len(ln.split()) != 2 for ln in lines):
            return None
    elif any(ln.count(sep) != 1 for ln in lines):
        return None
    head = lines[0].split(sep)
    try:
        float(head[0]), float(head[1])
        first = 0
    except ValueError:
        if any(_is_number(f.strip()) for f in head):
            return None
        first = 1  # a header line such as "x,y"
    # x and y in turn, all the lines' fields at once (float() strips the spaces around
    # a field, as the line parser's strip() does)
    body = "\n".join(lines[first:])
    fields = body.split() if sep is None else body.replace(sep, "\n").split("\n")
    try:
        xy = np.array([float(f) for f in fields], dtype=np.float64)
    except ValueError:
        return None
    x, y = xy[0::2].copy(), xy[1::2].copy()
    if len(x) < 2 or not (np.isfinite(x).all() and np.isfinite(y).all()):
        return None
    if not (np.abs(x).max() <= MAX_COORD and np.abs(y).max() <= MAX_COORD):
        return None
    return x, y


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------------------- mini-batches
#: bytes of epoch permutations kept (:func:`epoch_permutation`), all samplers together
PERM_CACHE_BYTES = 32 * 2 ** 20
_perm_cache: dict[tuple[int, int, int], np.ndarray] = {}
_perm_cache_bytes = [0]
_perm_lock = threading.Lock()


def epoch_permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    """The seeded shuffle of ``n`` points for ``epoch`` (int64, read-only). It does not
    depend on the batch size: a hyperparameter map's rows of batch sizes, its refining
    passes and the race share them through a cache of at most :data:`PERM_CACHE_BYTES`
    (each drew every permutation anew; a map of a fit at batch size 1 makes one per
    epoch of each start)."""
    key = (int(n), int(seed), int(epoch))
    perm = _perm_cache.get(key)
    if perm is not None:
        return perm
    perm = np.random.default_rng([key[1], 3, key[2]]).permutation(key[0]).astype(np.int64)
    perm.flags.writeable = False
    with _perm_lock:
        if perm.nbytes <= PERM_CACHE_BYTES and key not in _perm_cache:
            while _perm_cache and _perm_cache_bytes[0] + perm.nbytes > PERM_CACHE_BYTES:
                old = _perm_cache.pop(next(iter(_perm_cache)))  # (the oldest first)
                _perm_cache_bytes[0] -= old.nbytes
            _perm_cache[key] = perm
            _perm_cache_bytes[0] += perm.nbytes
    return perm


class MiniBatchSampler:
    """Seeded mini-batches drawn without replacement, reshuffled every epoch.

    An epoch is ``batches_per_epoch = ceil(n / batch_size)`` iterations; each epoch uses
    its own permutation (seeded by (seed, epoch)), cut into consecutive batches. When
    batch_size does not divide n, **the last batch of an epoch is smaller** (n mod
    batch_size points), so that every point is used exactly once per epoch.
    ``batch_at(iteration)`` is a pure function of (n, batch_size, seed, iteration): replay,
    scrubbing and the numba/numpy paths all see the same batches.
    When batch_size == n the batch is ``arange(n)`` (full batch, no shuffling needed).
    """

    def __init__(self, n: int, batch_size: int | None = None, seed: int = 0):
        n = int(n)
        if n < 1:
            raise ValueError(f"Invalid number of points: {n} (must be >= 1)")
        bs = n if batch_size is None else batch_size
        if isinstance(bs, bool) or int(bs) != bs or not (1 <= bs <= n):
            raise ValueError(f"Invalid batch size: {batch_size} (must be in 1..{n}, the training set size)")
        self.n = n
        self.batch_size = int(bs)
        self.seed = int(seed)
        self.batches_per_epoch = -(-n // self.batch_size)
        self.iteration = 0
        self._full = np.arange(n, dtype=np.int64)
        self._full.flags.writeable = False
        self._perm_epoch = -1
        self._perm = self._full

    @property
    def epoch(self) -> int:
        """Epoch (0-based) of the next batch that next_batch() returns."""
        return self.iteration // self.batches_per_epoch

    def epoch_of(self, iteration: int) -> int:
        return int(iteration) // self.batches_per_epoch

    def _permutation(self, epoch: int) -> np.ndarray:
        if epoch != self._perm_epoch:
            self._perm, self._perm_epoch = epoch_permutation(self.n, self.seed, epoch), epoch
        return self._perm

    def batches(self, first: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The batches of iterations ``first`` .. ``first + k - 1`` at once: their indices
        as one flat int64 array and k + 1 offsets (batch i is ``flat[off[i]:off[i + 1]]``),
        each batch equal to :meth:`batch_at`'s. Consecutive batches tile consecutive
        epochs' permutations, so the flat array is one slice of them, made with one
        permutation per epoch instead of a call per batch (a map's worker drew a map's
        batches one by one, holding the GIL, and the window waited for it)."""
        first, k = int(first), int(k)
        if first < 0 or k < 0:
            raise ValueError(f"Invalid iterations: {first}, {k} (must be >= 0)")
        n, b, bpe = self.n, self.batch_size, self.batches_per_epoch
        if k == 0:
            return np.empty(0, dtype=np.int64), np.zeros(1, dtype=np.int64)
        if b == n:
            return np.tile(self._full, k), np.arange(k + 1, dtype=np.int64) * n
        its = np.arange(first, first + k, dtype=np.int64)
        epochs, j = np.divmod(its, bpe)
        starts = j * b
        lens = np.minimum(starts + b, n) - starts
        off = np.zeros(k + 1, dtype=np.int64)
        np.cumsum(lens, out=off[1:])
        e0, e1 = int(epochs[0]), int(epochs[-1])
        perms = [self._permutation(e) for e in range(e0, e1 + 1)]
        flat = perms[0] if len(perms) == 1 else np.concatenate(perms)
        lo = int(starts[0])
        return flat[lo:lo + int(off[-1])], off

    def batch_at(self, iteration: int) -> np.ndarray:
        """Indices (int64 (B,), read-only) of the batch used at ``iteration`` (0-based)."""
        if self.batch_size == self.n:
            return self._full
        it = int(iteration)
        if it < 0:
            raise ValueError(f"Invalid iteration: {it} (must be >= 0)")
        epoch, k = divmod(it, self.batches_per_epoch)
        return self._permutation(epoch)[k * self.batch_size:(k + 1) * self.batch_size]

    def next_batch(self) -> np.ndarray:
        """The batch for the current iteration; advances ``iteration``."""
        idx = self.batch_at(self.iteration)
        self.iteration += 1
        return idx

    def reset(self) -> None:
        self.iteration = 0
