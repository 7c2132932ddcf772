"""Data problems as the session hosts them: their settings, and what the map shows of them.

Two kinds of data problem sit beside the analytic surfaces:

* **regression**: the lecture's L(w, b) of y = b + w·x on N noisy points
  (:class:`RegressionData` -> :class:`gdviz.core.models.LinearRegressionProblem`); the map
  *is* the problem, two parameters, one contour map.
* **fit**: the curve-fit panel's model (linear, quadratic, or a sum of K units) on a target
  curve (:class:`FitData` -> :class:`gdviz.core.models.FitProblem`). The model has many
  parameters, so the map shows a :class:`FitSlice`: the loss over two chosen parameters
  with all the others held at a reference run's current values.

Settings are frozen dataclasses that validate in ``__post_init__`` with one-line messages
(``Invalid number of points: 1 (must be an integer in 2..100000)``), so a bad value from
the UI, a scene or the CLI is refused before anything changes.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Callable

import numpy as np

from gdviz.core import data as D
from gdviz.core import models as M
from gdviz.core.limits import MAX_COORD, MAX_POINTS_X_UNITS, NET_SLICE_WORK
from gdviz.core.rows import Rows, as_array, rows_of

#: the regression problem's x range (the lecture's data live on [0, 4])
REGRESSION_X_RANGE = (0.0, 4.0)


def _check_int(what: str, v, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
        raise ValueError(f"Invalid {what}: {v!r} (must be an integer in {lo}..{hi})")
    return int(v)


def _check_float(what: str, v, lo: float | None = None, hi: float | None = None) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"Invalid {what}: {v!r} (must be a number)") from None
    if not math.isfinite(f) or (lo is not None and f < lo) or (hi is not None and f > hi):
        rng = (f"in {lo:g}..{hi:g}" if lo is not None and hi is not None
               else f">= {lo:g}" if lo is not None else "finite")
        raise ValueError(f"Invalid {what}: {v!r} (must be {rng})")
    return f


def _check_loss(loss: str) -> str:
    if loss not in M.LOSS_IDS:
        raise ValueError(f"unknown loss '{loss}'; choose from {', '.join(M.LOSS_IDS)}")
    return loss


def _check_points(points) -> Rows | None:
    if points is None:
        return None
    a = as_array(points)
    if a.ndim != 2 or a.shape[1] != 2:
        raise ValueError("data points must be pairs (x, y)")
    if a.shape[0] < 2:
        raise ValueError(f"need at least 2 data points, got {a.shape[0]}")
    if a.shape[0] > D.MAX_POINTS:
        raise ValueError(f"too many data points: {a.shape[0]} (at most {D.MAX_POINTS})")
    if not np.isfinite(a).all():
        raise ValueError("data points must be finite numbers")
    big = float(np.abs(a).max())
    if big > MAX_COORD:
        raise ValueError(f"data has a value of size {big:.3g}: values must be between "
                         f"{-MAX_COORD:g} and {MAX_COORD:g}")
    return points if type(points) is Rows else rows_of(a)  # (row by row: 74 ms at 100,000)


@dataclass(frozen=True)
class RegressionData:
    """Linear-regression data y = b + w·x + N(0, noise²) on ``n`` points, x in [0, 4].

    ``points`` (pairs (x, y), e.g. loaded from a CSV) replaces the generated data when set;
    ``source`` names where they came from (shown in the UI).
    """

    n: int = 50
    w: float = 2.0
    b: float = 1.0
    noise: float = 0.5
    seed: int = 0
    loss: str = "mse"
    points: tuple[tuple[float, float], ...] | None = None
    source: str = ""

    def __post_init__(self):
        object.__setattr__(self, "n", _check_int("number of points", self.n, 2, D.MAX_POINTS))
        object.__setattr__(self, "w", _check_float("w", self.w, -MAX_COORD, MAX_COORD))
        object.__setattr__(self, "b", _check_float("b", self.b, -MAX_COORD, MAX_COORD))
        object.__setattr__(self, "noise", _check_float("noise", self.noise, 0.0, MAX_COORD))
        object.__setattr__(self, "seed", _check_int("seed", self.seed, 0, 2**63 - 1))
        _check_loss(self.loss)
        object.__setattr__(self, "points", _check_points(self.points))

    @property
    def n_points(self) -> int:
        return self.n if self.points is None else len(self.points)

    def xy(self) -> tuple[np.ndarray, np.ndarray]:
        """The points: x, y float64 (N,) (new arrays)."""
        if self.points is not None:
            a = as_array(self.points)
            return a[:, 0].copy(), a[:, 1].copy()
        return D.linear_regression_data(self.n, self.w, self.b, self.noise, self.seed,
                                        REGRESSION_X_RANGE)

    def build(self, batch_size: int | None = None, seed: int = 0,
              fast: bool | None = None) -> M.LinearRegressionProblem:
        """The engine problem; ``batch_size`` None = all points, clamped to the data size."""
        x, y = self.xy()
        bs = None if batch_size is None else max(1, min(int(batch_size), x.shape[0]))
        return M.LinearRegressionProblem(x, y, self.loss, bs, seed, fast=fast)


#: (a weak reference to the FitData, its Dataset) of the last fit asked (see FitData.dataset)
_last_dataset: tuple = (None, None)


@dataclass(frozen=True)
class FitData:
    """The curve-fit panel's data and model.

    ``target`` (a :data:`gdviz.core.data.TARGETS` name) or ``target_expr`` (f(x) in the safe
    expression language, used when not empty) sampled at ``points`` x in [-2, 2] with
    N(0, noise²); ``val_fraction`` of them held out for validation. ``points_data`` (pairs,
    e.g. from a CSV) replaces the sampled data when set. ``model`` is a
    :data:`gdviz.core.models.MODELS` name with ``units`` K for the sums of units; the
    ``network`` model has ``layers`` hidden layers of ``units`` each, with ``activation``.
    """

    target: str = "quadratic"
    target_expr: str = ""
    model: str = "quadratic"
    units: int = 3
    points: int = 50
    noise: float = 0.1
    seed: int = 0
    val_fraction: float = 0.15
    loss: str = "mse"
    points_data: tuple[tuple[float, float], ...] | None = None
    source: str = ""
    layers: int = 1
    activation: str = "relu"

    def __post_init__(self):
        if self.target_expr.strip():
            D.expr_target(self.target_expr)  # raises the expression's column error
        else:
            D.get_target(self.target)
        M.make_model(self.model, 1)  # the name (K is checked next)
        object.__setattr__(self, "units", _check_int("number of units", self.units, 1, M.MAX_UNITS))
        object.__setattr__(self, "points", _check_int("number of points", self.points, 2, D.MAX_POINTS))
        object.__setattr__(self, "noise", _check_float("noise", self.noise, 0.0, MAX_COORD))
        object.__setattr__(self, "seed", _check_int("seed", self.seed, 0, 2**63 - 1))
        object.__setattr__(self, "val_fraction",
                           _check_float("validation fraction", self.val_fraction, 0.0, 0.5))
        _check_loss(self.loss)
        object.__setattr__(self, "points_data", _check_points(self.points_data))
        n = self.points if self.points_data is None else len(self.points_data)
        if M.MODELS[self.model].kind == "units" and n * self.units > MAX_POINTS_X_UNITS:
            raise ValueError(f"Invalid fit size: {n} points x {self.units} units (points x "
                             f"units must be at most {MAX_POINTS_X_UNITS})")
        object.__setattr__(self, "layers", _check_int("number of layers", self.layers, 1,
                                                      M.MAX_LAYERS))
        if self.activation not in M.ACTIVATION_IDS:
            raise ValueError(f"unknown activation '{self.activation}'; choose from "
                             f"{', '.join(M.ACTIVATION_IDS)}")
        if M.MODELS[self.model].kind == "network":
            _check_int("number of units per layer", self.units, 1, M.MAX_LAYER_UNITS)
            M.check_network_size(self.fit_model(), n)

    def fit_model(self) -> M.FitModel:
        return M.make_model(self.model, self.units, self.layers, self.activation)

    def dataset(self) -> D.Dataset:
        """The points and their train/validation split. The last fit's is kept and given
        again (read-only, as the FitData) to it or to a FitData of the same data (the
        same points object, or the same sampling): a scene being opened asks for it three
        times, from two FitData, 5-10 ms each at 100,000 points."""
        global _last_dataset
        ref, ds = _last_dataset
        last = ref() if ref is not None else None
        if last is not None and (last is self or (last.points_data is self.points_data
                                                  and last._data_key() == self._data_key())):
            return ds
        ds = self._make_dataset()
        _last_dataset = (weakref.ref(self), ds)
        return ds

    def _data_key(self) -> tuple:
        """What the Dataset is made from besides ``points_data`` (compared by identity)."""
        return (self.target, self.target_expr, self.points, self.noise, self.seed,
                self.val_fraction, self.source)

    def _make_dataset(self) -> D.Dataset:
        if self.points_data is not None:
            a = np.array(as_array(self.points_data))  # (the Dataset's own copy)
            return D.Dataset(a[:, 0], a[:, 1], self.val_fraction, self.seed, self.source or "csv")
        target = D.expr_target(self.target_expr) if self.target_expr.strip() else self.target
        return D.make_dataset(target, self.points, self.noise, self.seed, self.val_fraction)

    def init_params(self) -> np.ndarray:
        """The model's seeded start over this data's x and y ranges: float64 (n_params,)."""
        ds = self.dataset()
        return self.fit_model().init_params(self.seed, ds.x_range, ds.y_range)

    def target_curve(self, x: np.ndarray) -> np.ndarray | None:
        """The noise-free target at x (float64 (N,)), or None for loaded data."""
        if self.points_data is not None:
            return None
        t = D.expr_target(self.target_expr) if self.target_expr.strip() else D.get_target(self.target)
        with np.errstate(all="ignore"):
            return np.asarray(t(x), dtype=np.float64)

    def build(self, batch_size: int | None = None, seed: int = 0,
              fast: bool | None = None) -> M.FitProblem:
        ds = self.dataset()
        bs = None if batch_size is None else max(1, min(int(batch_size), ds.n_train))
        return M.FitProblem(self.fit_model(), ds, self.loss, bs, seed, fast=fast)


def default_linked(model: M.FitModel) -> tuple[int, int]:
    """The two parameters a fit's map shows by default: (a, b), (w, b), or c1 and c2
    (c1 and w1 when K = 1): the output weights, whose slice is a clean bowl."""
    if model.kind == "network":
        # the output layer's first two weights (its weight and bias when K = 1)
        n = model.n_params
        return (n - 1 - model.K, n - model.K if model.K > 1 else n - 1)
    if model.kind != "units":
        return (0, 1)
    names = model.param_names
    return (names.index("c1"), names.index("c2") if model.K > 1 else names.index("w1"))


def _resample(z: np.ndarray, nx: int, ny: int) -> np.ndarray:
    """z (my, mx) over a box, bilinearly resampled to (ny, nx) over the same box."""
    my, mx = z.shape
    tx, ty = np.linspace(0.0, mx - 1.0, nx), np.linspace(0.0, my - 1.0, ny)
    rows = _interp_axis(np.asarray(z, dtype=np.float64), tx, 1)  # (my, nx)
    return _interp_axis(rows, ty, 0)


def _interp_axis(z: np.ndarray, t: np.ndarray, axis: int) -> np.ndarray:
    """``np.interp(t, arange(n), line)`` for every line of z along ``axis`` in one go (the
    same formula, and the nodes exactly: a NaN cell spreads no further than np.interp's)."""
    n = z.shape[axis]
    j = np.minimum(np.floor(t).astype(np.intp), max(n - 2, 0))
    k = np.minimum(j + 1, n - 1)
    w = t - j
    lo, hi = np.take(z, j, axis=axis), np.take(z, k, axis=axis)
    shape = (-1, 1) if axis == 0 else (1, -1)
    w = w.reshape(shape)
    with np.errstate(over="ignore", invalid="ignore"):
        out = (hi - lo) * w + lo
    out = np.where(w == 0.0, lo, out)
    return np.where(w == 1.0, hi, out)


class FitSlice:
    """What the map shows of a fit: the loss over parameters ``i`` and ``j`` of
    ``problem`` (training set, no weight decay), every other parameter held at
    ``reference()`` (float64 (p,): the reference run's parameters at the displayed step).

    Landscape-like: ``name``, ``label``, ``view``, ``minima``, ``log_levels``,
    ``param_names`` and :meth:`grid`. ``live`` tells views the surface moves as the fit
    runs: recompute when :meth:`key` changes. The cost of :meth:`grid` does not grow
    with the number of units (:func:`gdviz.core.models.slice_grid`).
    """

    name = "fit-slice"
    sid = -2
    live = True
    minima = np.zeros((0, 2))
    n_params = 2

    def __init__(self, problem: M.FitProblem, i: int, j: int,
                 reference: Callable[[], np.ndarray], view):
        self.problem = problem
        names = problem.model.param_names
        self.i, self.j = int(i), int(j)
        self.param_names = (names[self.i], names[self.j])
        self.reference = reference
        self.label = f"{problem.loss_kind.upper()} over ({names[self.i]}, {names[self.j]})"
        self.log_levels = True
        self.view = tuple(float(v) for v in view)

    @staticmethod
    def view_around(p, i: int, j: int) -> tuple[float, float, float, float]:
        """A view box centred on parameters i, j of ``p`` (float64 (n_params,)), wide enough
        to show the bowl around them."""
        p = np.asarray(p, dtype=np.float64)
        out = []
        for q in (int(i), int(j)):
            v = float(p[q]) if np.isfinite(p[q]) else 0.0
            half = max(2.0, 1.5 * abs(v))
            out += [v - half, v + half]
        return tuple(out)

    def key(self) -> bytes:
        """Changes exactly when the surface does (the reference parameters moved)."""
        return np.asarray(self.reference(), dtype=np.float64).tobytes()

    def work_per_cell(self) -> int:
        """Multiply-adds per grid cell of :meth:`grid` (:func:`gdviz.core.models.slice_work`)."""
        pr = self.problem
        return M.slice_work(pr.model, self.i, self.j, pr.x.shape[0])

    def grid(self, x0: float, x1: float, y0: float, y1: float, nx: int, ny: int,
             fast: bool | None = None) -> np.ndarray:
        """Loss float64 (ny, nx): out[r, c] = L(p_i = x_c, p_j = y_r, others = reference)."""
        p = np.asarray(self.reference(), dtype=np.float64)
        pr = self.problem
        nx, ny = int(nx), int(ny)
        # a network's slice through its first layers costs its whole depth per cell: past
        # NET_SLICE_WORK it is computed on a coarser grid (exact there) and resampled. So is
        # any slice the numpy twin computes (the kernels still compiling): a 128x128 slice of
        # 70,000 points took the twin minutes, and the map stayed empty until it ended
        fast = fast if fast is not None else pr.fast
        cells = max(4, NET_SLICE_WORK // max(1, self.work_per_cell()))
        mx, my = nx, ny
        if (pr.model.kind == "network" or not M._resolve_fast(fast)) and nx * ny > cells:
            f = math.sqrt(cells / (nx * ny))
            mx, my = max(2, int(nx * f)), max(2, int(ny * f))
        out = M.slice_grid(pr.model, p, self.i, self.j, (x0, x1), (y0, y1), mx, my,
                           pr.x, pr.y, pr.loss_kind, fast=fast)
        if (mx, my) != (nx, ny):
            out = _resample(out, nx, ny)
        finite = out[np.isfinite(out)]
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
            # log-spaced levels only where the range spans decades (big weights)
            self.log_levels = hi > 0 and hi / max(lo, 1e-300) > 30.0
        return out
