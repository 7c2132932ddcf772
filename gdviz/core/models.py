"""Fit models (linear, quadratic, sums of sigmoid / hard-sigmoid / ReLU units) and the
data problems the engine optimizes: :class:`FitProblem` (curve fit) and
:class:`LinearRegressionProblem` (the lecture's L(w, b) landscape).

Both problems follow the engine's data-problem protocol: ``n_params``,
``loss_grad(params (n, p), step) -> (loss (n,), grad (n, p))`` on the mini-batch of
that step, and ``loss(params) -> (n,)`` on the whole training set.
``fast=None`` means "numba if gdviz.kernels.is_ready() else the numpy twin".
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass

import numpy as np

from gdviz import kernels
from gdviz.core.data import Dataset, MiniBatchSampler
from gdviz.kernels import mlp
from gdviz.kernels import models as km

from gdviz.core.limits import MAX_COORD, MAX_POINTS_X_UNITS, MAX_UNITS
from gdviz.core.limits import MAX_LAYER_UNITS, MAX_LAYERS, MAX_POINTS_X_NET_PARAMS
from gdviz.core.userinput import quote
UNIT_IDS = {"sigmoid": km.SIGMOID, "hard-sigmoid": km.HARD_SIGMOID, "relu": km.RELU}
LOSS_IDS = {"mse": km.MSE, "mae": km.MAE}
_KIND_IDS = {"linear": km.LINEAR, "quadratic": km.QUADRATIC, "units": km.UNITS, "network": 3}
#: the network model's hidden-layer activations (gdviz.kernels.mlp's codes)
ACTIVATION_IDS = dict(mlp.ACT_IDS)
#: the fit losses as gdviz.kernels.mlp numbers them
_NET_LOSS = {km.MSE: mlp.LOSS_MSE, km.MAE: mlp.LOSS_MAE}


@dataclass(frozen=True)
class ModelSpec:
    """A registry entry: ``kind`` is linear, quadratic or units; ``unit`` for units."""

    name: str
    label: str
    formula: str
    kind: str
    unit: str | None = None


MODELS: dict[str, ModelSpec] = {m.name: m for m in (
    ModelSpec("linear", "Linear", "y = w·x + b", "linear"),
    ModelSpec("quadratic", "Quadratic", "y = a·x² + b·x + c", "quadratic"),
    ModelSpec("sigmoid", "Sigmoid units", "y = c0 + Σ cᵢ·sigmoid(bᵢ + wᵢ·x)", "units", "sigmoid"),
    ModelSpec("hard-sigmoid", "Hard-sigmoid units", "y = c0 + Σ cᵢ·clip(bᵢ + wᵢ·x, 0, 1)", "units",
              "hard-sigmoid"),
    ModelSpec("relu", "ReLU units", "y = c0 + Σ cᵢ·max(0, bᵢ + wᵢ·x)", "units", "relu"),
    ModelSpec("network", "Network", "y = W·h(… h(W₁·x + b₁) …) + b", "network"),
)}


def _resolve_fast(fast: bool | None) -> bool:
    return kernels.is_ready() if fast is None else bool(fast)


def _loss_id(loss: str) -> int:
    try:
        return LOSS_IDS[loss]
    except KeyError:
        raise ValueError(f"unknown loss '{loss}'; choose from {', '.join(LOSS_IDS)}") from None


@dataclass(frozen=True)
class FitModel:
    """A model family and its size.

    ``kind``: "linear" (params [w, b]), "quadratic" ([a, b, c]) or "units"
    (y = c0 + Σ cᵢ·h(bᵢ + wᵢ·x), params [c0, w1, b1, c1, w2, b2, c2, ...]) with
    ``unit`` in sigmoid, hard-sigmoid, relu and ``K`` units (1..50). K is 0 for the others.
    ``kind`` "network": ``layers`` (1..4) hidden layers of ``K`` units (1..32) with
    ``activation`` (relu, sigmoid, tanh, hard-sigmoid, linear) and a linear output, on
    ``d_in`` inputs (1 here; 2 for classification on the plane). Its parameters are in
    torch's order for ``nn.Sequential(nn.Linear(d_in, K), act, ..., nn.Linear(K, 1))``:
    each layer's W (out x in, row-major) then its b (:mod:`gdviz.kernels.mlp`).
    Build one from a registry name with :func:`make_model`.
    """

    kind: str
    unit: str = "sigmoid"
    K: int = 3
    layers: int = 1
    activation: str = "relu"
    d_in: int = 1

    def __post_init__(self):
        if self.kind not in _KIND_IDS:
            raise ValueError(f"unknown model kind '{self.kind}'; choose from {', '.join(_KIND_IDS)}")
        if self.kind == "network":
            object.__setattr__(self, "unit", "")
            if self.activation not in ACTIVATION_IDS:
                raise ValueError(f"unknown activation '{quote(str(self.activation))}'; choose from "
                                 f"{', '.join(ACTIVATION_IDS)}")
            for what, v, hi in (("number of layers", self.layers, MAX_LAYERS),
                                ("number of units per layer", self.K, MAX_LAYER_UNITS)):
                if isinstance(v, bool) or int(v) != v or not (1 <= v <= hi):
                    raise ValueError(f"Invalid {what}: {v} (must be in 1..{hi})")
            if self.d_in not in (1, 2):
                raise ValueError(f"Invalid number of inputs: {self.d_in} (must be 1 or 2)")
            object.__setattr__(self, "K", int(self.K))
            object.__setattr__(self, "layers", int(self.layers))
            object.__setattr__(self, "d_in", int(self.d_in))
            return
        object.__setattr__(self, "layers", 0)
        object.__setattr__(self, "activation", "")
        if self.kind != "units":
            object.__setattr__(self, "K", 0)
            object.__setattr__(self, "unit", "")
            return
        if self.unit not in UNIT_IDS:
            raise ValueError(f"unknown unit '{self.unit}'; choose from {', '.join(UNIT_IDS)}")
        K = self.K
        if isinstance(K, bool) or int(K) != K or not (1 <= K <= MAX_UNITS):
            raise ValueError(f"Invalid number of units: {K} (must be in 1..{MAX_UNITS})")
        object.__setattr__(self, "K", int(K))

    # ------------------------------------------------------------------ description
    @property
    def name(self) -> str:
        """Registry name: linear, quadratic, sigmoid, hard-sigmoid or relu."""
        return self.unit if self.kind == "units" else self.kind

    @property
    def sizes(self) -> np.ndarray:
        """A network's layer sizes, int64 [d_in, K, ..., K, 1] (empty for the other kinds)."""
        if self.kind != "network":
            return np.zeros(0, dtype=np.int64)
        return np.array([self.d_in] + [self.K] * self.layers + [1], dtype=np.int64)

    @property
    def act_id(self) -> int:
        return ACTIVATION_IDS.get(self.activation, 0)

    @property
    def kind_id(self) -> int:
        return _KIND_IDS[self.kind]

    @property
    def unit_id(self) -> int:
        return UNIT_IDS.get(self.unit, 0)

    @property
    def n_params(self) -> int:
        if self.kind == "network":
            return mlp.n_params(self.sizes)
        return {"linear": 2, "quadratic": 3}.get(self.kind, 1 + 3 * self.K)

    @property
    def param_names(self) -> list[str]:
        if self.kind == "linear":
            return ["w", "b"]
        if self.kind == "quadratic":
            return ["a", "b", "c"]
        if self.kind == "network":
            return net_param_names(self.sizes)
        return ["c0"] + [f"{s}{i}" for i in range(1, self.K + 1) for s in ("w", "b", "c")]

    @property
    def label(self) -> str:
        """Short description for messages: "linear", "sigmoid units K=3"."""
        if self.kind == "network":
            return f"network {'x'.join([str(self.K)] * self.layers)} {self.activation}"
        return f"{self.unit} units K={self.K}" if self.kind == "units" else self.kind

    @property
    def formula(self) -> str:
        return MODELS[self.name].formula

    def unit_of(self, q: int) -> int:
        """Unit (1..K) that parameter q belongs to; 0 for c0 (and for linear/quadratic).
        For a network: the hidden neuron (1-based, counted over all hidden layers) whose
        incoming weight or bias q is, 0 for the output layer's."""
        if self.kind == "network":
            s = [int(v) for v in self.sizes]
            first = 0
            for k, (wq, bq) in enumerate(mlp.param_offsets(s)):
                n_out = s[k + 1]
                if q < bq + n_out:
                    if k == len(s) - 2:
                        return 0
                    o = (q - wq) // s[k] if q < bq else q - bq
                    return first + o + 1
                first += n_out
            return 0
        return 0 if self.kind != "units" or q == 0 else (q - 1) // 3 + 1

    # ------------------------------------------------------------------ parameters
    def check_params(self, params, what: str = "params") -> np.ndarray:
        """params as float64 (p,) copy; ValueError "expected 10 params for sigmoid units K=3, got 4"."""
        try:
            p = np.array(params, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise ValueError(f"{what} must be a list of numbers") from None
        if p.shape[0] != self.n_params:
            raise ValueError(f"expected {self.n_params} {what} for {self.label}, got {p.shape[0]}")
        if not np.isfinite(p).all():
            raise ValueError(f"{what} must be finite numbers")
        if p.size and np.abs(p).max() > MAX_COORD:
            raise ValueError(f"{what} must be between {-MAX_COORD:g} and {MAX_COORD:g}, "
                             f"got {np.abs(p).max():.3g}")
        return p

    def init_params(self, seed: int = 0, x_range=(-2.0, 2.0), y_range=(-1.0, 1.0)) -> np.ndarray:
        """A sensible seeded start, float64 (p,).

        Linear / quadratic: near-flat line through the middle of y. Units: the unit's
        breakpoint b/w spread evenly over x_range (with jitter), slopes with random sign
        and a steepness that makes each unit's transition about one spacing wide, small
        output weights c, and c0 at the middle of y. Spreading the breakpoints is what
        lets a sum of units bend where the data bends."""
        if self.kind == "network":
            # torch's nn.Linear default, then the output bias at the middle of y so that
            # the start is not far from the data (a shift every optimizer would spend steps on)
            p = mlp.init_params(self.sizes, seed)
            p[-1] += 0.5 * (float(y_range[0]) + float(y_range[1]))
            return p
        rng = np.random.default_rng([int(seed), 4])
        x0, x1 = map(float, x_range)
        y0, y1 = map(float, y_range)
        xspan = max(x1 - x0, 1e-9)
        yspan = max(y1 - y0, 1e-9)
        ymid = 0.5 * (y0 + y1)
        if self.kind == "linear":
            return np.array([rng.normal(0.0, 0.1) * yspan / xspan, ymid])
        if self.kind == "quadratic":
            return np.array([rng.normal(0.0, 0.1) * yspan / xspan ** 2,
                             rng.normal(0.0, 0.1) * yspan / xspan, ymid])
        K = self.K
        p = np.empty(self.n_params)
        p[0] = ymid
        spacing = xspan / K
        t = x0 + (np.arange(K) + 0.5 + rng.uniform(-0.25, 0.25, K)) * spacing
        sign = rng.choice([-1.0, 1.0], K)
        if self.unit == "sigmoid":
            w = sign * 4.0 / spacing    # goes from 0.12 to 0.88 over one spacing around t
            b = -w * t
        elif self.unit == "hard-sigmoid":
            w = sign / spacing          # a ramp one spacing wide, centred (z = 0.5) on t
            b = -w * t + 0.5
        else:
            w = sign / xspan            # the kink at t; output stays O(1) over the range
            b = -w * t
        c = rng.normal(0.0, 0.5, K) * yspan / np.sqrt(K)
        p[1::3] = w
        p[2::3] = b
        p[3::3] = c
        return p

    # ------------------------------------------------------------------ evaluation
    def predict(self, params, x, fast: bool | None = None) -> np.ndarray:
        """Model output. params float64 (p,) or (n, p); x (N,) -> (N,) or (n, N) float64."""
        P, single = _as_runs(params, self.n_params)
        xa = _as_vec(x)
        out = np.empty((P.shape[0], xa.shape[0]))
        if self.kind == "network":
            f = mlp.forward_runs if _resolve_fast(fast) else mlp.forward_runs_np
            f(P, self.sizes, self.act_id, self.inputs(xa), out)
            return out[0] if single else out
        f = km.predict if _resolve_fast(fast) else km.predict_np
        f(self.kind_id, self.unit_id, self.K, P, xa, out)
        return out[0] if single else out

    def inputs(self, x) -> np.ndarray:
        """A network's input matrix float64 (N, d_in) from x (N,) or (N, d_in)."""
        a = np.ascontiguousarray(x, dtype=np.float64)
        return a.reshape(-1, 1) if a.ndim == 1 else a

    def hidden_outputs(self, params, x, fast: bool | None = None) -> np.ndarray:
        """A network's hidden neurons' outputs, float64 (total hidden units, N): layer 1's
        K rows, then layer 2's... (0, N) for the other kinds."""
        p = self.check_params(params)
        X = self.inputs(x)
        if self.kind != "network":
            return np.empty((0, X.shape[0]))
        out = np.empty((X.shape[0], self.K * self.layers))
        f = mlp.hidden_outputs if _resolve_fast(fast) else mlp.hidden_outputs_np
        f(p, self.sizes, self.act_id, X, out)
        return np.ascontiguousarray(out.T)

    def neuron_contribution(self, params, k: int, x, fast: bool | None = None) -> np.ndarray:
        """What hidden neuron ``k`` (0-based over all hidden layers) adds to a network's
        output: f(x) minus f(x) with that neuron's outgoing weights set to 0. For the last
        hidden layer this is w_out,k·h_k(x). float64 (N,)."""
        p = self.check_params(params)
        s = [int(v) for v in self.sizes]
        layer, o = divmod(int(k), self.K)
        if self.kind != "network" or not 0 <= layer < self.layers:
            raise ValueError(f"no hidden neuron {k} in {self.label}")
        wq, _ = mlp.param_offsets(s)[layer + 1]
        off = p.copy()
        n_in = s[layer + 1]
        off[wq + o:wq + s[layer + 2] * n_in:n_in] = 0.0  # column o of the next layer's W
        both = self.predict(np.stack([p, off]), x, fast)
        return both[0] - both[1]

    def loss_grad_runs(self, P, x, y, idx, loss_id: int, fast: bool | None = None):
        """(loss (n,), grad (n, p)) of every row of P on the rows ``idx`` of (x, y)."""
        out_l = np.empty(P.shape[0])
        out_g = np.empty_like(P)
        if self.kind == "network":
            f = mlp.loss_grad_runs if _resolve_fast(fast) else mlp.loss_grad_runs_np
            f(P, self.sizes, self.act_id, self.inputs(x), y, idx, _NET_LOSS.get(loss_id, loss_id),
              out_l, out_g)
        else:
            f = km.loss_grad if _resolve_fast(fast) else km.loss_grad_np
            f(self.kind_id, self.unit_id, self.K, loss_id, P, x, y, idx, out_l, out_g)
        return out_l, out_g

    def unit_contributions(self, params, x, fast: bool | None = None) -> np.ndarray:
        """Each unit's own term cᵢ·h(bᵢ + wᵢ·x) ("blue functions"): float64 (K, N).

        (0, N) for linear and quadratic models. c0 is not included. For a network: the last
        hidden layer's neurons times their output weights (their sum plus the output bias
        is the network's output)."""
        p = self.check_params(params)
        xa = _as_vec(x)
        if self.kind == "network":
            H = self.hidden_outputs(p, xa, fast)[-self.K:]
            return p[-1 - self.K:-1, None] * H
        out = np.empty((self.K, xa.shape[0]))
        if self.kind == "units":
            f = km.unit_contributions if _resolve_fast(fast) else km.unit_contributions_np
            f(self.unit_id, self.K, p, xa, out)
        return out

    def loss(self, params, x, y, loss: str = "mse", fast: bool | None = None) -> np.ndarray:
        """Mean loss on (x, y) for params (p,) -> float, or (n, p) -> (n,)."""
        P, single = _as_runs(params, self.n_params)
        xa, ya = _as_vec(x), _as_vec(y)
        out_l, _ = self.loss_grad_runs(P, xa, ya, np.arange(xa.shape[0], dtype=np.int64),
                                       _loss_id(loss), fast)
        return float(out_l[0]) if single else out_l


def net_param_names(sizes) -> list[str]:
    """Names of a network's parameters in their order: W1[o,i], b1[o], W2[o,i], ...
    (layers and neurons counted from 1, as on the network picture)."""
    s = [int(v) for v in sizes]
    names = []
    for k in range(len(s) - 1):
        names += [f"W{k + 1}[{o + 1},{i + 1}]" for o in range(s[k + 1]) for i in range(s[k])]
        names += [f"b{k + 1}[{o + 1}]" for o in range(s[k + 1])]
    return names


def make_model(name: str, K: int = 3, layers: int = 1, activation: str = "relu") -> FitModel:
    """FitModel from a MODELS name (linear, quadratic, sigmoid, hard-sigmoid, relu, network).

    ``units`` is accepted as sigmoid units. K is ignored for linear and quadratic; layers
    and activation are a network's only."""
    if name == "units":
        name = "sigmoid"
    spec = MODELS.get(name)
    if spec is None:
        close = difflib.get_close_matches(str(name), MODELS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"choose from {', '.join(MODELS)}"
        raise ValueError(f"unknown model '{quote(name)}'; {hint}")
    if spec.kind == "units":
        return FitModel("units", spec.unit, K)
    if spec.kind == "network":
        return FitModel("network", "", K, layers, activation)
    return FitModel(spec.kind)


def _as_runs(params, p: int) -> tuple[np.ndarray, bool]:
    P = np.ascontiguousarray(params, dtype=np.float64)
    single = P.ndim == 1
    if single:
        P = P.reshape(1, -1)
    if P.ndim != 2 or P.shape[1] != p:
        raise ValueError(f"params must have shape (n, {p}), got {np.shape(params)}")
    return P, single


def _as_vec(a) -> np.ndarray:
    v = np.ascontiguousarray(a, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"expected a 1-D array, got shape {v.shape}")
    return v


def slice_work(model: FitModel, i: int, j: int, n_points: int) -> int:
    """Multiply-adds per grid cell of :func:`slice_grid` over parameters i and j: the
    layers from the first one that owns i or j are evaluated per cell (the ones before
    once). For the other kinds: the points (a unit or two per cell)."""
    if model.kind != "network":
        return int(n_points)
    offs = mlp.param_offsets(model.sizes)
    first = min(int(i), int(j))
    k = max(n for n, (wq, _) in enumerate(offs) if wq <= first)
    return int(n_points) * (model.n_params - offs[k][0])


def check_network_size(model: FitModel, n_points: int) -> None:
    """ValueError when a network on ``n_points`` points is more work than
    MAX_POINTS_X_NET_PARAMS allows (nothing for the other kinds)."""
    if model.kind == "network" and n_points * model.n_params > MAX_POINTS_X_NET_PARAMS:
        raise ValueError(f"Invalid fit size: {n_points} points x {model.n_params} network "
                         f"parameters (points x parameters must be at most "
                         f"{MAX_POINTS_X_NET_PARAMS}); use fewer points, layers or units")


# ----------------------------------------------------------------------------- data problems
class _DataProblem:
    """Shared mini-batch machinery for FitProblem and LinearRegressionProblem."""

    model: FitModel

    def _setup(self, x, y, loss, batch_size, seed, fast):
        self.loss_kind = str(loss)
        self._loss_id = _loss_id(loss)
        self.x = _as_vec(x)
        self.y = _as_vec(y)
        self.sampler = MiniBatchSampler(self.x.shape[0], batch_size, seed)
        self.batch_size = self.sampler.batch_size
        #: (first update index, sampler, epochs before it): one per batch-size change
        self._segments = [(0, self.sampler, 0)]
        self.seed = int(seed)
        self.fast = fast
        self.n_params = self.model.n_params

    @property
    def batches_per_epoch(self) -> int:
        """Batches per epoch at the current (latest) batch size."""
        return self._segments[-1][1].batches_per_epoch

    def _segment(self, it: int):
        """The (first update, sampler, epochs before) in force at update index ``it``."""
        seg = self._segments[0]
        for s in self._segments[1:]:
            if s[0] > it:
                break
            seg = s
        return seg

    def rebatched(self, batch_size: int, from_step: int):
        """A copy that draws mini-batches of ``batch_size`` from update index ``from_step``
        on (the batch-size slider moved mid-run). Earlier updates keep their batches, so a
        replay is exact; the change starts a fresh epoch (a new seeded permutation)."""
        from_step = int(from_step)
        if from_step < self._segments[-1][0]:
            raise ValueError(f"cannot change the batch size before step {self._segments[-1][0]}")
        n = self.x.shape[0]
        sampler = MiniBatchSampler(n, batch_size, self.seed + 7919 * len(self._segments))
        c = self.counters(from_step)
        epochs_before = c["epoch"] if from_step > 0 else 0
        new = copy.copy(self)
        segs = [s for s in self._segments if s[0] < from_step]
        new._segments = segs + [(from_step, sampler, epochs_before)]
        new.sampler = sampler
        new.batch_size = sampler.batch_size
        return new

    def batch_at(self, step: int) -> np.ndarray:
        """Training-set indices (int64 (B,)) of the mini-batch used by update ``step`` (0-based:
        the first update is 0)."""
        start, sampler, _ = self._segment(int(step))
        return sampler.batch_at(int(step) - start)

    def iteration(self, step: int) -> int:
        """Updates done after ``step`` steps (an iteration is one mini-batch update)."""
        return int(step)

    def epoch(self, step: int) -> int:
        """Epoch (0-based) that update ``step`` (0-based) belongs to."""
        start, sampler, before = self._segment(int(step))
        return before + (int(step) - start) // sampler.batches_per_epoch

    def counters(self, step: int) -> dict:
        """What the counters show after ``step`` updates: ``iteration`` (= step), ``epoch``
        (1-based: the epoch the last update belonged to; 0 before any update),
        ``batch_in_epoch`` (1-based position of that update's batch in its epoch) and
        ``batches_per_epoch``."""
        step = int(step)
        if step <= 0:
            return dict(iteration=0, epoch=0, batch_in_epoch=0,
                        batches_per_epoch=self._segments[0][1].batches_per_epoch)
        start, sampler, before = self._segment(step - 1)
        e, k = divmod(step - 1 - start, sampler.batches_per_epoch)
        return dict(iteration=step, epoch=before + e + 1, batch_in_epoch=k + 1,
                    batches_per_epoch=sampler.batches_per_epoch)

    def fused_model(self) -> tuple | None:
        """What :func:`gdviz.kernels.datastep.advance_data` needs to take many steps in one
        call: (model kind, unit, K, loss id, x, y, training indices); None when the fused
        kernel cannot run this problem (it then steps through :meth:`loss_grad`)."""
        m = self.model
        if m.kind not in ("linear", "quadratic", "units"):
            return None
        return (m.kind_id, m.unit_id, m.K, self._loss_id, self.x, self.y, self.sampler._full)

    def fused_net(self) -> tuple | None:
        """What :func:`gdviz.kernels.datastep.advance_net` needs to take many steps of a
        network in one call: (layer sizes int64, activation id, mlp loss id, inputs float64
        (N, d), y, training indices); None for the other models."""
        m = self.model
        if m.kind != "network":
            return None
        return (np.ascontiguousarray(m.sizes, dtype=np.int64), int(m.act_id),
                int(_NET_LOSS.get(self._loss_id, self._loss_id)), m.inputs(self.x), self.y,
                self.sampler._full)

    def batch_indices(self, first: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The mini-batches of updates ``first`` .. ``first + k - 1`` (0-based) as one flat
        int64 array and k + 1 offsets; no offsets (an empty array) when every one of them
        is the whole training set."""
        first, k = int(first), int(k)
        n = self.x.shape[0]
        if all(s[1].batch_size == n for s in self._segments):
            return self.sampler._full, np.empty(0, dtype=np.int64)
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.zeros(1, dtype=np.int64)
        # each segment's batches at once (MiniBatchSampler.batches)
        flats, offs, base, it, end = [], [], 0, first, first + k
        while it < end:
            start, sampler, _ = self._segment(it)
            later = [s[0] for s in self._segments if s[0] > it]
            stop = min([end] + later)
            flat, off = sampler.batches(it - start, stop - it)
            flats.append(flat)
            offs.append(off[:-1] + base)
            base += int(off[-1])
            it = stop
        boff = np.empty(k + 1, dtype=np.int64)
        boff[:-1] = np.concatenate(offs)
        boff[-1] = base
        # (a writable copy: a slice of a cached, read-only permutation is typed apart by
        # numba, and would compile the kernel again)
        return np.concatenate(flats).astype(np.int64, copy=False), boff

    def _eval(self, params, x, y, idx, fast):
        P, single = _as_runs(params, self.n_params)
        return self.model.loss_grad_runs(P, x, y, idx, self._loss_id,
                                         self.fast if fast is None else fast)

    def loss_grad(self, params, step: int, fast: bool | None = None):
        """Loss and gradient on the mini-batch of ``step``.

        params float64 (n, p) -> (loss float64 (n,), grad float64 (n, p)). Deterministic in step."""
        return self._eval(params, self.x, self.y, self.batch_at(step), fast)

    def loss(self, params, fast: bool | None = None) -> np.ndarray:
        """Loss on the whole training set: params (n, p) -> float64 (n,)."""
        return self._eval(params, self.x, self.y, self.sampler._full, fast)[0]


class FitProblem(_DataProblem):
    """A curve fit: ``model`` on ``dataset``'s training points, mini-batches of
    ``batch_size`` (default: the whole training set) drawn by a sampler seeded with ``seed``.
    Validation loss on the held-out points via :meth:`val_loss`."""

    def __init__(self, model: FitModel, dataset: Dataset, loss: str = "mse",
                 batch_size: int | None = None, seed: int = 0, fast: bool | None = None):
        if model.kind == "units" and dataset.n * model.K > MAX_POINTS_X_UNITS:
            raise ValueError(f"Invalid fit size: {dataset.n} points x {model.K} units (points x "
                             f"units must be at most {MAX_POINTS_X_UNITS})")
        check_network_size(model, dataset.n)
        self.model = model
        self.dataset = dataset
        self._setup(dataset.x_train, dataset.y_train, loss, batch_size, seed, fast)
        self.x_val = np.ascontiguousarray(dataset.x_val)
        self.y_val = np.ascontiguousarray(dataset.y_val)

    def val_loss(self, params, fast: bool | None = None) -> np.ndarray:
        """Loss on the validation set: (n, p) -> float64 (n,); NaN when there is none."""
        if self.x_val.shape[0] == 0:
            return np.full(np.atleast_2d(params).shape[0], np.nan)
        idx = np.arange(self.x_val.shape[0], dtype=np.int64)
        return self._eval(params, self.x_val, self.y_val, idx, fast)[0]

    def init_params(self, seed: int = 0) -> np.ndarray:
        """model.init_params over this dataset's x and y ranges."""
        return self.model.init_params(seed, self.dataset.x_range, self.dataset.y_range)


class LinearRegressionProblem(_DataProblem):
    """The lecture's L(w, b) for y = b + w·x on points (x, y); params [w, b].

    Also what the contour view needs: ``grid`` (the loss surface over (w, b), on all the
    points or on one mini-batch), ``view``, ``minima``, ``log_levels``, ``label``."""

    log_levels = True
    param_names = ("w", "b")
    sid = -3  # not a built-in surface (views use sid >= 0 for those)

    def __init__(self, x, y, loss: str = "mse", batch_size: int | None = None, seed: int = 0,
                 fast: bool | None = None):
        self.model = FitModel("linear")
        self._setup(x, y, loss, batch_size, seed, fast)
        if self.x.shape[0] < 2:
            raise ValueError(f"need at least 2 points, got {self.x.shape[0]}")
        self.name = "linear-regression"
        self.label = f"L(w, b) = {self.loss_kind.upper()} of y = b + w·x"
        self.minima = self._minimum().reshape(-1, 2)
        if self.minima.size:
            w, b = self.minima[0]
        else:
            # (MAE on over 300 points: its minimum is not searched) the view around the
            # least-squares line, near which MAE's lies (centred on w = 0, 100,000 points of
            # y = 1 + 2x showed no valley floor: w = 2 was off the map)
            try:
                with np.errstate(all="ignore"):
                    w, b = self._least_squares()
            except np.linalg.LinAlgError:  # (values near 1e308: the default view)
                w = b = np.nan
            if not (np.isfinite(w) and np.isfinite(b)):
                w, b = 0.0, float(self.y.mean())
        half_w = max(abs(w), 1.0) * 1.5
        half_b = max(abs(b), float(np.ptp(self.y)), 1.0) * 1.5
        self.view = (w - half_w, w + half_w, b - half_b, b + half_b)

    def _least_squares(self) -> np.ndarray:
        """[w, b] of the least-squares line through the points."""
        A = np.stack([self.x, np.ones_like(self.x)], axis=1)
        return np.linalg.lstsq(A, self.y, rcond=None)[0]

    def _minimum(self) -> np.ndarray:
        x, y = self.x, self.y
        if self._loss_id == km.MSE:
            return self._least_squares()
        if x.shape[0] > 300:
            return np.empty(0)
        # an MAE minimum passes through two of the points: try every pair
        i, j = np.triu_indices(x.shape[0], 1)
        ok = x[i] != x[j]
        if not ok.any():
            return np.empty(0)
        i, j = i[ok], j[ok]
        w = (y[j] - y[i]) / (x[j] - x[i])
        b = y[i] - w * x[i]
        cost = np.abs(w[:, None] * x + b[:, None] - y).mean(axis=1)
        k = int(np.argmin(cost))
        return np.array([w[k], b[k]])

    def grid_work(self, nx: int, ny: int, batch: int | None = None) -> float:
        """About how many operations :meth:`grid` takes for an (ny, nx) grid on ``batch``
        points (None: all of them), in the units of
        :data:`gdviz.ui.views.landscape_view.SLOW_GRID_WORK`: MSE is O(1) a cell after one
        pass over the points; MAE sorts the points' offsets for each column."""
        B = max(int(self.x.shape[0] if batch is None else batch), 1)
        if self._loss_id == km.MSE:
            return float(B + nx * ny)
        lg = max(float(np.log2(B)), 1.0)
        return float(nx) * (B * lg + ny * lg)

    def grid(self, x0: float, x1: float, y0: float, y1: float, nx: int, ny: int,
             batch_idx=None, fast: bool | None = None) -> np.ndarray:
        """Loss surface float64 (ny, nx): out[j, i] = L(w_i, b_j), w along x, b along y.

        ``batch_idx`` (int64 indices into x) restricts the loss to one mini-batch
        (e.g. ``problem.batch_at(step)``); None uses all the points."""
        nx, ny = int(nx), int(ny)
        if nx < 2 or ny < 2:
            raise ValueError(f"Invalid grid size: {nx}x{ny} (must be at least 2x2)")
        idx = self.sampler._full if batch_idx is None else np.ascontiguousarray(batch_idx, dtype=np.int64)
        if idx.ndim != 1 or idx.shape[0] == 0 or idx.min() < 0 or idx.max() >= self.x.shape[0]:
            raise ValueError("batch_idx must be a non-empty 1-D array of indices into x")
        out = np.empty((ny, nx))
        f = km.linreg_grid if _resolve_fast(self.fast if fast is None else fast) else km.linreg_grid_np
        f(self._loss_id, self.x, self.y, idx, float(x0), float(x1), float(y0), float(y1), out)
        return out


# ----------------------------------------------------------------------------- linked-view slice
def slice_grid(model: FitModel, params, i: int, j: int, range_i, range_j, nx: int, ny: int,
               x, y, loss: str = "mse", fast: bool | None = None) -> np.ndarray:
    """Loss over two parameters, the others fixed at ``params`` (a slice for linked views).

    params float64 (p,); parameter i varies along columns over range_i = (lo, hi), j along
    rows over range_j; x, y float64 (N,) (usually the training set). Returns float64
    (ny, nx). The rest of the model is computed once, then only the unit(s) owning i and j
    are evaluated over the grid, so the cost does not grow with K."""
    p = model.check_params(params)
    n = model.n_params
    i, j = int(i), int(j)
    if not (0 <= i < n and 0 <= j < n):
        raise ValueError(f"parameter index out of range: ({i}, {j}) (model has {n} params)")
    if i == j:
        raise ValueError("choose two different parameters for the slice")
    nx, ny = int(nx), int(ny)
    if nx < 2 or ny < 2:
        raise ValueError(f"Invalid grid size: {nx}x{ny} (must be at least 2x2)")
    xa, ya = _as_vec(x), _as_vec(y)
    if xa.shape != ya.shape or xa.shape[0] == 0:
        raise ValueError("x and y must be non-empty and the same length")
    out = np.empty((ny, nx))
    if model.kind == "network":
        f = mlp.slice_grid if _resolve_fast(fast) else mlp.slice_grid_np
        f(p, model.sizes, model.act_id, model.inputs(xa), ya,
          np.arange(xa.shape[0], dtype=np.int64), _NET_LOSS[_loss_id(loss)], i, j,
          float(range_i[0]), float(range_i[1]), float(range_j[0]), float(range_j[1]), out)
        return out
    f = km.slice_grid if _resolve_fast(fast) else km.slice_grid_np
    f(model.kind_id, model.unit_id, model.K, _loss_id(loss), p, i, j,
      float(range_i[0]), float(range_i[1]), float(range_j[0]), float(range_j[1]), xa, ya, out)
    return out
