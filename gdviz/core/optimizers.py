"""Optimizer registry and validated hyperparameters (torch.optim's names and defaults).

``OPTIMIZERS`` maps each name to an :class:`OptimizerSpec`; the CLI choices, the GUI's
combo boxes and the parametrised tests iterate over it. An :class:`OptimizerConfig` is a
frozen, validated set of hyperparameters; :meth:`OptimizerConfig.pack` turns it into the
``(kind, hyper row)`` the kernels in :mod:`gdviz.kernels.optim` read.

The update rules are torch.optim's documented algorithms (SGD, RMSprop, Adagrad, Adam,
AdamW) in float64; ``momentum`` and ``nesterov`` are SGD presets.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from gdviz.kernels import optim as K

from gdviz.core.limits import LR_MAX
from gdviz.core.userinput import quote

#: every hyperparameter, in OptimizerConfig order (after ``name``)
HYPERPARAMETERS = ("lr", "momentum", "dampening", "nesterov", "alpha", "eps", "beta1", "beta2",
                   "weight_decay", "lr_decay", "initial_accumulator_value", "amsgrad",
                   "centered")

_BASE = dict(lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, alpha=0.99, eps=1e-8,
             beta1=0.9, beta2=0.999, weight_decay=0.0, lr_decay=0.0,
             initial_accumulator_value=0.0, amsgrad=False, centered=False)


@dataclass(frozen=True)
class OptimizerSpec:
    """One registry entry: ``kind`` is the kernel's optimizer kind, ``fields`` the
    hyperparameters a user may set, ``defaults`` every hyperparameter's default."""

    name: str
    label: str
    kind: int
    defaults: Mapping[str, Any]
    fields: tuple[str, ...]


def _spec(name, label, kind, fields, **defaults) -> OptimizerSpec:
    return OptimizerSpec(name, label, kind, MappingProxyType({**_BASE, **defaults}),
                         tuple(fields))


OPTIMIZERS: dict[str, OptimizerSpec] = {
    s.name: s for s in (
        _spec("sgd", "SGD", K.SGD, ("lr", "weight_decay")),
        _spec("momentum", "Momentum", K.SGD, ("lr", "momentum", "dampening", "weight_decay"),
              momentum=0.9),
        _spec("nesterov", "Nesterov", K.SGD, ("lr", "momentum", "weight_decay"),
              momentum=0.9, nesterov=True),
        _spec("rmsprop", "RMSprop", K.RMSPROP,
              ("lr", "alpha", "eps", "weight_decay", "momentum", "centered"), lr=1e-2),
        _spec("adagrad", "Adagrad", K.ADAGRAD,
              ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"),
              lr=1e-2, eps=1e-10),
        _spec("adam", "Adam", K.ADAM,
              ("lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad")),
        _spec("adamw", "AdamW", K.ADAMW,
              ("lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad"), weight_decay=1e-2),
    )
}


def _fmt(v) -> str:
    """A number as a user typed it: -1 not -1.0, 0.1 not 0.1000000000000000055."""
    if isinstance(v, bool):
        return str(v)
    try:
        return f"{float(v):.15g}"
    except (TypeError, ValueError):
        return repr(v)


def unknown_name(kind: str, name: str, choices) -> ValueError:
    """ValueError "unknown <kind> 'x'; did you mean 'y'?" (or the list of choices)."""
    choices = list(choices)
    close = difflib.get_close_matches(str(name), choices, n=1)
    if not close and name:  # abbreviations such as 'expo' are too short for difflib
        close = [c for c in choices if c.startswith(str(name).lower())][:1]
    hint = f"; did you mean '{close[0]}'?" if close else f"; choose from {', '.join(choices)}"
    return ValueError(f"unknown {kind} '{quote(name)}'{hint}")


def get_spec(name: str) -> OptimizerSpec:
    """The registry entry for ``name`` (ValueError with a suggestion if unknown)."""
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise unknown_name("optimizer", name, OPTIMIZERS) from None


def takers(field: str) -> list[str]:
    """Names of the optimizers that take hyperparameter ``field``."""
    return [s.name for s in OPTIMIZERS.values() if field in s.fields]


@dataclass(frozen=True)
class OptimizerConfig:
    """Validated hyperparameters of one optimizer (torch.optim's names).

    Fields left as None take the named optimizer's default, so
    ``OptimizerConfig("adam", lr=0.01)`` is Adam with torch's other defaults.
    Hyperparameters that do not apply to ``name`` are kept but ignored by the kernels.
    """

    name: str = "sgd"
    lr: float | None = None
    momentum: float | None = None
    dampening: float | None = None
    nesterov: bool | None = None
    alpha: float | None = None
    eps: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    weight_decay: float | None = None
    lr_decay: float | None = None
    initial_accumulator_value: float | None = None
    amsgrad: bool | None = None
    centered: bool | None = None

    def __post_init__(self):
        spec = get_spec(self.name)
        for f in HYPERPARAMETERS:
            v = getattr(self, f)
            if v is None:
                v = spec.defaults[f]
            elif isinstance(spec.defaults[f], bool):
                v = bool(v)
            else:
                try:
                    v = float(v)
                except (TypeError, ValueError):
                    raise ValueError(f"Invalid {f} value: {v!r} (must be a number)") from None
            object.__setattr__(self, f, v)
        self._validate()

    def _validate(self) -> None:
        lr = self.lr
        if not lr > 0:
            raise ValueError(f"Invalid learning rate: {_fmt(lr)} (must be > 0)")
        if not lr <= LR_MAX:
            raise ValueError(f"Invalid learning rate: {_fmt(lr)} (must be <= {_fmt(LR_MAX)})")
        _in_range("momentum value", self.momentum, 0.0, 1.0)
        _in_range("dampening value", self.dampening, 0.0, 1.0, hi_closed=True)
        _in_range("alpha value", self.alpha, 0.0, 1.0)
        _at_least("epsilon value", self.eps)
        for i, b in enumerate((self.beta1, self.beta2)):
            _in_range(f"beta parameter at index {i}", b, 0.0, 1.0)
        _at_least("weight_decay value", self.weight_decay)
        _at_least("lr_decay value", self.lr_decay)
        _at_least("initial_accumulator_value", self.initial_accumulator_value)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening "
                             f"(got momentum={_fmt(self.momentum)}, "
                             f"dampening={_fmt(self.dampening)})")

    # -- conveniences ---------------------------------------------------------------------
    @property
    def spec(self) -> OptimizerSpec:
        return OPTIMIZERS[self.name]

    @property
    def kind(self) -> int:
        """The kernel's optimizer kind (gdviz.kernels.optim.SGD, ...)."""
        return self.spec.kind

    def replace(self, **changes) -> OptimizerConfig:
        """A copy with ``changes`` applied (validated). None leaves a field unchanged."""
        changes = {k: v for k, v in changes.items() if v is not None}
        for k in changes:
            if k != "name" and k not in HYPERPARAMETERS:
                raise unknown_name("hyperparameter", k, HYPERPARAMETERS)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The hyperparameters that apply to this optimizer, in registry order."""
        return {f: getattr(self, f) for f in self.spec.fields}

    def pack(self) -> tuple[int, np.ndarray]:
        """(kind, hyper float64 (N_HYPER,)) in the kernels' column layout."""
        h = np.zeros(K.N_HYPER)
        h[K.H_LR] = self.lr
        h[K.H_MOMENTUM] = self.momentum
        h[K.H_DAMPENING] = self.dampening
        h[K.H_NESTEROV] = float(self.nesterov)
        h[K.H_ALPHA] = self.alpha
        h[K.H_EPS] = self.eps
        h[K.H_BETA1] = self.beta1
        h[K.H_BETA2] = self.beta2
        h[K.H_WEIGHT_DECAY] = self.weight_decay
        h[K.H_LR_DECAY] = self.lr_decay
        h[K.H_INITIAL_ACCUMULATOR_VALUE] = self.initial_accumulator_value
        h[K.H_AMSGRAD] = float(self.amsgrad)
        h[K.H_CENTERED] = float(self.centered)
        return self.kind, h

    def describe(self) -> str:
        """Short label such as ``Adam lr=0.01``."""
        return f"{self.spec.label} lr={_fmt(self.lr)}"


def _in_range(what: str, v: float, lo: float, hi: float, hi_closed: bool = False) -> None:
    ok = lo <= v <= hi if hi_closed else lo <= v < hi
    if not ok:
        close = "]" if hi_closed else ")"
        raise ValueError(f"Invalid {what}: {_fmt(v)} (must be in [{_fmt(lo)}, {_fmt(hi)}{close})")


def _at_least(what: str, v: float, lo: float = 0.0) -> None:
    if not (lo <= v and math.isfinite(v)):
        extra = "finite and " if v == math.inf else ""
        raise ValueError(f"Invalid {what}: {_fmt(v)} (must be {extra}>= {_fmt(lo)})")


def make_optimizer(name: str, **overrides) -> OptimizerConfig:
    """A validated config with torch's defaults for ``name``; ``overrides`` set
    hyperparameters (None = default). Setting one that does not apply raises ValueError."""
    spec = get_spec(name)
    for k, v in overrides.items():
        if k not in HYPERPARAMETERS:
            raise unknown_name("hyperparameter", k, HYPERPARAMETERS)
        if v is not None and k not in spec.fields:
            who = takers(k)
            raise ValueError(f"{k} does not apply to {name}"
                             + (f" (it is a hyperparameter of {', '.join(who)})" if who else ""))
    return OptimizerConfig(name, **{k: v for k, v in overrides.items() if v is not None})
