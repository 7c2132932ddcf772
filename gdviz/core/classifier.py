"""Classification on the plane: a network (x1, x2) -> one logit, trained with binary
cross-entropy on the logit (torch's ``BCEWithLogitsLoss``, mean) on real seeded
mini-batches.

* :class:`NetModel`: the network's shape (``sizes`` [2, K, ..., K, 1], activation) and its
  parameter names, in torch's ``nn.Sequential(...).parameters()`` order.
* :class:`ClassifyData`: the settings (dataset, points, noise, seed, split, layers,
  units, activation, or loaded points), frozen and validated with one-line messages.
* :class:`ClassifyProblem`: what the engine optimizes (``n_params``, ``loss_grad(params,
  iteration)``, ``loss(params)``, ``val_loss``), plus accuracies, the logit over a grid
  and every hidden neuron's output over a grid (the views' thumbnails).
* :class:`ClassifySlice`: what the map shows: the training loss over two linked
  parameters, every other parameter at the reference run's current values.

Gradients are exact backprop in :mod:`gdviz.kernels.mlp` (numba, with numpy twins).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from gdviz.core import classify as C
from gdviz.core.data import MiniBatchSampler
from gdviz.core.limits import (MAX_COORD, MAX_NET_LAYERS, MAX_NET_UNITS, MAX_POINTS,
                               MAX_POINTS_X_PARAMS, NET_SLICE_WORK)
from gdviz.core.models import _DataProblem, _resolve_fast
from gdviz.core.rows import Rows, as_array, rows_of
from gdviz.kernels import mlp as K

#: activation names, in the order the picker lists them
ACTIVATIONS = tuple(K.ACT_IDS)
#: grid nodes per side of the plane view's decision surface (each frame: PLANE_GRID²
#: forward passes a shown run), and of each hidden neuron's thumbnail
PLANE_GRID = 72
THUMB_GRID = 28


def _check_int(what: str, v, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
        raise ValueError(f"Invalid {what}: {v!r} (must be an integer in {lo}..{hi})")
    return int(v)


class NetModel:
    """A network with ``layers`` hidden layers of ``units`` units (``activation``), input
    (x1, x2) and one linear output (the logit). ``layers`` 0 is logistic regression."""

    kind = "network"

    def __init__(self, layers: int, units: int, activation: str = "relu"):
        self.layers = _check_int("number of hidden layers", layers, 0, MAX_NET_LAYERS)
        self.units = _check_int("number of units", units, 1, MAX_NET_UNITS)
        if activation not in K.ACT_IDS:
            raise ValueError(f"unknown activation '{activation}'; choose from "
                             f"{', '.join(ACTIVATIONS)}")
        self.activation = str(activation)
        self.act = K.ACT_IDS[activation]
        self.sizes = np.array([2] + [self.units] * self.layers + [1], dtype=np.int64)
        self.sizes.flags.writeable = False
        self.n_params = K.n_params(self.sizes)
        self.n_hidden = K.n_hidden(self.sizes)
        names: list[str] = []
        for k in range(len(self.sizes) - 1):
            n_in, n_out = int(self.sizes[k]), int(self.sizes[k + 1])
            lay = k + 1
            names += [f"W{lay}[{o + 1},{i + 1}]" for o in range(n_out) for i in range(n_in)]
            names += [f"b{lay}[{o + 1}]" for o in range(n_out)]
        self.param_names = tuple(names)

    def __eq__(self, other):
        return (isinstance(other, NetModel) and (self.layers, self.units, self.activation)
                == (other.layers, other.units, other.activation))

    def __hash__(self):
        return hash((self.layers, self.units, self.activation))

    def __repr__(self):
        return f"NetModel({self.layers}, {self.units}, {self.activation!r})"

    @property
    def label(self) -> str:
        return "-".join(str(int(v)) for v in self.sizes)

    def check_params(self, params, what: str = "parameters") -> np.ndarray:
        p = np.array(params, dtype=np.float64).reshape(-1)
        if p.shape[0] != self.n_params:
            raise ValueError(f"{what}: expected {self.n_params} numbers for a "
                             f"{self.label} network, got {p.shape[0]}")
        if not (np.isfinite(p).all() and np.abs(p).max(initial=0.0) <= MAX_COORD):
            raise ValueError(f"{what} must be finite, within +-{MAX_COORD:g}")
        return p

    def init_params(self, seed: int = 0) -> np.ndarray:
        """torch's nn.Linear start U(±1/sqrt(fan_in)), seeded: float64 (n_params,)."""
        return K.init_params(self.sizes, seed)

    def default_linked(self) -> tuple[int, int]:
        """Two output-layer weights (the last layer's first two parameters), whose slice
        moves the boundary most visibly; W[1,1] and W[1,2] for logistic regression."""
        L = len(self.sizes) - 1
        wq, _ = K.param_offsets(self.sizes)[L - 1]
        return (wq, wq + 1)


def _check_points3(points) -> Rows | None:
    if points is None:
        return None
    a = as_array(points)
    if a.ndim != 2 or a.shape[1] != 3:
        raise ValueError("classification points must be triples (x1, x2, label)")
    if not 2 <= a.shape[0] <= MAX_POINTS:
        raise ValueError(f"Invalid number of points: {a.shape[0]} (must be in 2..{MAX_POINTS})")
    if not np.isfinite(a).all() or float(np.abs(a[:, :2]).max()) > MAX_COORD:
        raise ValueError(f"points must be finite, within +-{MAX_COORD:g}")
    if not np.isin(a[:, 2], (0.0, 1.0)).all():
        raise ValueError("labels must be 0 or 1")
    return points if type(points) is Rows else rows_of(a)


@dataclass(frozen=True)
class ClassifyData:
    """A classification problem's settings.

    ``dataset`` (a :data:`gdviz.core.classify.DATASETS` name) with ``points``, ``noise``
    (0..0.5) and ``seed``; ``val_fraction`` (0..0.5) of the points held out for validation.
    ``points_data`` (triples (x1, x2, label), e.g. from a CSV) replaces the generated set
    when set; ``source`` names the file. The network: ``layers`` hidden layers (0..4) of
    ``units`` (1..32) with ``activation``.
    """

    dataset: str = "circles"
    points: int = 300
    noise: float = 0.0
    seed: int = 0
    val_fraction: float = 0.3
    layers: int = 1
    units: int = 4
    activation: str = "relu"
    points_data: tuple[tuple[float, float, float], ...] | None = None
    source: str = ""

    def __post_init__(self):
        C._check_name(self.dataset)
        object.__setattr__(self, "points", C.check_points(self.points))
        object.__setattr__(self, "noise", C.check_noise(self.noise))
        object.__setattr__(self, "seed", _check_int("seed", self.seed, 0, 2**63 - 1))
        object.__setattr__(self, "val_fraction", C.check_val_fraction(self.val_fraction))
        m = NetModel(self.layers, self.units, self.activation)
        object.__setattr__(self, "points_data", _check_points3(self.points_data))
        n = self.points if self.points_data is None else len(self.points_data)
        if n * m.n_params > MAX_POINTS_X_PARAMS:
            raise ValueError(f"Invalid network size: {n} points x {m.n_params} parameters "
                             f"(must be at most {MAX_POINTS_X_PARAMS})")

    @property
    def model(self) -> NetModel:
        return NetModel(self.layers, self.units, self.activation)

    fit_model = model

    def class_dataset(self) -> C.ClassDataset:
        if self.points_data is not None:
            a = as_array(self.points_data)  # (the ClassDataset copies X and y)
            return C.ClassDataset(a[:, :2], a[:, 2], self.val_fraction, self.seed,
                                  self.source or "csv")
        return C.make_class_dataset(self.dataset, self.points, self.noise, self.seed,
                                    self.val_fraction)


    def init_params(self) -> np.ndarray:
        return self.model.init_params(self.seed)

    def build(self, batch_size: int | None = None, seed: int = 0,
              fast: bool | None = None) -> "ClassifyProblem":
        ds = self.class_dataset()
        bs = None if batch_size is None else max(1, min(int(batch_size), ds.n_train))
        return ClassifyProblem(self.model, ds, bs, seed, fast=fast)


class ClassifyProblem(_DataProblem):
    """``model`` (a :class:`NetModel`) on ``dataset``'s training points, BCE on the logit
    (mean), mini-batches of ``batch_size`` (default: the whole training set) seeded with
    ``seed`` and reshuffled every epoch (:class:`gdviz.core.data.MiniBatchSampler`).

    ``x`` float64 (N_train, 2) and ``y`` (N_train,) are the training points; ``x_val``,
    ``y_val`` the held-out ones. params are (n_runs, n_params) float64 throughout."""

    loss_kind = "bce"

    def __init__(self, model: NetModel, dataset: C.ClassDataset, batch_size: int | None = None,
                 seed: int = 0, fast: bool | None = None):
        self.model = model
        self.dataset = dataset
        self.x = np.ascontiguousarray(dataset.X_train)
        self.y = np.ascontiguousarray(dataset.y_train)
        if self.x.shape[0] < 1:
            raise ValueError("need at least one training point")
        self.x_val = np.ascontiguousarray(dataset.X_val)
        self.y_val = np.ascontiguousarray(dataset.y_val)
        self.sampler = MiniBatchSampler(self.x.shape[0], batch_size, seed)
        self.batch_size = self.sampler.batch_size
        self._segments = [(0, self.sampler, 0)]
        self.seed = int(seed)
        self.fast = fast
        self.n_params = model.n_params
        self._sizes = np.array(model.sizes)

    def _fast(self, fast) -> bool:
        return _resolve_fast(self.fast if fast is None else fast)

    def _runs(self, params) -> np.ndarray:
        P = np.ascontiguousarray(np.atleast_2d(np.asarray(params, dtype=np.float64)))
        if P.shape[1] != self.n_params:
            raise ValueError(f"params must have {self.n_params} columns, got {P.shape[1]}")
        return P

    def _eval(self, params, x, y, idx, fast):
        P = self._runs(params)
        out_l = np.empty(P.shape[0])
        out_g = np.empty_like(P)
        if idx.shape[0] == 0:
            out_l[:] = np.nan
            out_g[:] = np.nan
            return out_l, out_g
        f = K.loss_grad_runs if self._fast(fast) else K.loss_grad_runs_np
        f(P, self._sizes, self.model.act, x, y, np.ascontiguousarray(idx, dtype=np.int64),
          K.LOSS_BCE_LOGITS, out_l, out_g)
        return out_l, out_g

    def fused_net(self) -> tuple:
        """What :func:`gdviz.kernels.datastep.advance_net` needs (see
        :meth:`gdviz.core.models._DataProblem.fused_net`): the network, BCE on the logit."""
        return (np.ascontiguousarray(self._sizes, dtype=np.int64), int(self.model.act),
                int(K.LOSS_BCE_LOGITS), self.x, self.y, self.sampler._full)

    def val_loss(self, params, fast: bool | None = None) -> np.ndarray:
        """BCE on the validation set: (n, p) -> float64 (n,); NaN when there is none."""
        idx = np.arange(self.x_val.shape[0], dtype=np.int64)
        return self._eval(params, self.x_val, self.y_val, idx, fast)[0]

    def init_params(self, seed: int = 0) -> np.ndarray:
        return self.model.init_params(seed)

    def logits(self, params, X, fast: bool | None = None) -> np.ndarray:
        """The network's logit at the rows of X (m, 2) for each run: float64 (n, m)."""
        P = self._runs(params)
        X = np.ascontiguousarray(X, dtype=np.float64)
        out = np.empty((P.shape[0], X.shape[0]))
        f = K.forward_runs if self._fast(fast) else K.forward_runs_np
        f(P, self._sizes, self.model.act, X, out)
        return out

    def accuracy(self, params, which: str = "train", fast: bool | None = None) -> np.ndarray:
        """Fraction classified right (logit > 0 means class 1) on the training or the
        validation set: float64 (n,); NaN when that set is empty or a logit is NaN."""
        X, y = (self.x, self.y) if which == "train" else (self.x_val, self.y_val)
        P = self._runs(params)
        if X.shape[0] == 0:
            return np.full(P.shape[0], np.nan)
        z = self.logits(P, X, fast)
        acc = ((z > 0.0) == (y > 0.5)).mean(axis=1)
        acc[~np.isfinite(z).all(axis=1)] = np.nan
        return acc

    def grid_logits(self, params, box, nx: int, ny: int, fast: bool | None = None) -> np.ndarray:
        """The logit of one run over the plane: float64 (ny, nx) at the nodes of
        :func:`plane_grid` (out[r, c] at x1 = x0 + c*dx, x2 = y0 + r*dy)."""
        X = plane_grid(box, nx, ny)
        return self.logits(np.asarray(params, dtype=np.float64).reshape(1, -1), X,
                           fast)[0].reshape(ny, nx)

    def grid_hidden(self, params, box, nx: int, ny: int, fast: bool | None = None) -> np.ndarray:
        """Every hidden neuron's output over the plane: float64 (units, ny, nx)."""
        X = plane_grid(box, nx, ny)
        H = self.model.n_hidden
        out = np.empty((X.shape[0], H))
        p = self.model.check_params(np.asarray(params, dtype=np.float64).reshape(-1)) \
            if np.isfinite(params).all() else np.asarray(params, dtype=np.float64).reshape(-1)
        f = K.hidden_outputs if self._fast(fast) else K.hidden_outputs_np
        f(np.ascontiguousarray(p), self._sizes, self.model.act, X, out)
        return out.T.reshape(H, ny, nx).copy()


def plane_grid(box, nx: int, ny: int) -> np.ndarray:
    """The nodes of an nx x ny grid over box (x0, x1, y0, y1), corners included (as the
    contour kernel reads a grid): row r, column c at (x0 + c*(x1-x0)/(nx-1),
    y0 + r*(y1-y0)/(ny-1)), row-major from the bottom row: float64 (ny*nx, 2)."""
    x0, x1, y0, y1 = (float(v) for v in box)
    nx, ny = int(nx), int(ny)
    if nx < 2 or ny < 2:
        raise ValueError(f"Invalid grid size: {nx}x{ny} (must be at least 2x2)")
    gx, gy = np.meshgrid(np.linspace(x0, x1, nx), np.linspace(y0, y1, ny))
    return np.ascontiguousarray(np.stack([gx.ravel(), gy.ravel()], axis=1))


#: a point's binary cross-entropy (an exp and a log1p) in multiply-adds, for the slice's
#: work budget (measured: about 40 multiply-adds' time)
BCE_COST = 40


class ClassifySlice:
    """The map of a classification: the training loss (BCE) over parameters ``i`` and
    ``j`` of ``problem``, every other parameter held at ``reference()`` (the reference
    run's parameters at the displayed step). Landscape-like, as
    :class:`gdviz.core.problems.FitSlice`; ``live``: recompute when :meth:`key` changes."""

    name = "classify-slice"
    sid = -4
    live = True
    minima = np.zeros((0, 2))
    n_params = 2
    log_levels = False
    #: the slice's rows on numba's threads (a background worker's copy sets False)
    parallel = True

    def __init__(self, problem: ClassifyProblem, i: int, j: int,
                 reference: Callable[[], np.ndarray], view):
        self.problem = problem
        names = problem.model.param_names
        self.i, self.j = int(i), int(j)
        self.param_names = (names[self.i], names[self.j])
        self.reference = reference
        self.label = f"BCE over ({names[self.i]}, {names[self.j]})"
        self.view = tuple(float(v) for v in view)

    @staticmethod
    def view_around(p, i: int, j: int) -> tuple[float, float, float, float]:
        p = np.asarray(p, dtype=np.float64)
        out = []
        for q in (int(i), int(j)):
            v = float(p[q]) if np.isfinite(p[q]) else 0.0
            half = max(3.0, 1.5 * abs(v))
            out += [v - half, v + half]
        return tuple(out)

    def key(self) -> bytes:
        return np.asarray(self.reference(), dtype=np.float64).tobytes()

    def grid(self, x0: float, x1: float, y0: float, y1: float, nx: int, ny: int,
             fast: bool | None = None) -> np.ndarray:
        """BCE float64 (ny, nx): out[r, c] = L(p_i = x_c, p_j = y_r, others = reference)."""
        nx, ny = int(nx), int(ny)
        if nx < 2 or ny < 2:
            raise ValueError(f"Invalid grid size: {nx}x{ny} (must be at least 2x2)")
        pr = self.problem
        p = np.ascontiguousarray(self.reference(), dtype=np.float64)
        # as the fit's network slice: past NET_SLICE_WORK multiply-adds, an exact coarser
        # grid resampled (a slice through the first layers costs the whole depth per cell)
        cells = max(4, NET_SLICE_WORK // max(1, self.work_per_cell()))
        mx, my = nx, ny
        if nx * ny > cells:
            f = math.sqrt(cells / (nx * ny))
            mx, my = max(2, int(nx * f)), max(2, int(ny * f))
        out = np.empty((my, mx))
        idx = pr.sampler._full
        fn = K.slice_grid if pr._fast(fast) else K.slice_grid_np
        fn(p, pr._sizes, pr.model.act, pr.x, pr.y, idx, K.LOSS_BCE_LOGITS, self.i, self.j,
           float(x0), float(x1), float(y0), float(y1), out, parallel=self.parallel)
        if (mx, my) != (nx, ny):
            from gdviz.core.problems import _resample

            out = _resample(out, nx, ny)
        return out

    def work_per_cell(self) -> int:
        """Multiply-adds per grid cell: the training points times the parameters from the
        first layer that owns i or j on (the layers before are computed once), plus
        BCE_COST per point for the loss's exp and log1p."""
        m = self.problem.model
        offs = K.param_offsets(m.sizes)
        first = min(self.i, self.j)
        k = max(n for n, (wq, _) in enumerate(offs) if wq <= first)
        return int(self.problem.x.shape[0]) * (m.n_params - offs[k][0] + BCE_COST)


def accuracy_text(acc: float) -> str:
    """An accuracy as the views print it: '93.3 %' (or '–' when undefined)."""
    return "–" if not math.isfinite(acc) else f"{100.0 * acc:.1f} %"


__all__ = ["ACTIVATIONS", "NetModel", "ClassifyData", "ClassifyProblem", "ClassifySlice",
           "plane_grid", "accuracy_text"]
