"""Learning-rate schedules: constant, step, exponential, cosine and one-cycle.

``t`` is the 1-based step and ``total`` the schedule's length in steps. The kernels use
the same formulas (:func:`gdviz.kernels.optim.schedule_at` and its numpy twin
:func:`gdviz.kernels.optim.schedule_np`); :meth:`Schedule.lr_factor` and
:meth:`Schedule.momentum_at` are that twin, vectorised over ``t`` for the UI's lr curve.

* ``step``: torch's StepLR, lr x gamma^floor((t-1)/step_size).
* ``exponential``: torch's ExponentialLR, lr x gamma^(t-1).
* ``cosine``: torch's CosineAnnealingLR with T_max = total and eta_min = 0 (closed form),
  held at 0 after ``total`` steps.
* ``one-cycle``: fast.ai's fit_one_cycle. Over the first ``pct_start`` of ``total`` the lr
  goes (cosine) from lr/div up to lr, then down to lr/div_final; momentum (SGD's and
  RMSprop's momentum, Adam's beta1) goes 0.95 -> 0.85 -> 0.95 meanwhile. Optimizers
  without momentum (plain SGD, RMSprop with momentum 0, Adagrad) keep theirs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gdviz.core.optimizers import _fmt, unknown_name
from gdviz.kernels import optim as K


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    label: str
    kind: int
    fields: tuple[str, ...]


SCHEDULES: dict[str, ScheduleSpec] = {
    s.name: s for s in (
        ScheduleSpec("constant", "Constant", K.SCHED_CONSTANT, ()),
        ScheduleSpec("step", "Step", K.SCHED_STEP, ("step_size", "gamma")),
        ScheduleSpec("exponential", "Exponential", K.SCHED_EXPONENTIAL, ("gamma",)),
        ScheduleSpec("cosine", "Cosine", K.SCHED_COSINE, ()),
        ScheduleSpec("one-cycle", "One-cycle", K.SCHED_ONE_CYCLE,
                     ("pct_start", "div", "div_final", "moms")),
    )
}

_GAMMA_DEFAULT = {"step": 0.1, "exponential": 0.99}


@dataclass(frozen=True)
class Schedule:
    """A validated learning-rate schedule. ``gamma=None`` takes the kind's default
    (0.1 for step, 0.99 for exponential)."""

    kind: str = "constant"
    step_size: int = 100
    gamma: float | None = None
    pct_start: float = 0.25
    div: float = 25.0
    div_final: float = 1e5
    moms: tuple[float, float, float] = (0.95, 0.85, 0.95)

    def __post_init__(self):
        if self.kind not in SCHEDULES:
            raise unknown_name("schedule", self.kind, SCHEDULES)
        if self.gamma is None:
            object.__setattr__(self, "gamma", _GAMMA_DEFAULT.get(self.kind, 0.1))
        ss = self.step_size
        if isinstance(ss, bool) or not (float(ss) == int(ss) if _num(ss) else False) or ss < 1:
            raise ValueError(f"Invalid step_size: {_fmt(ss)} (must be an integer >= 1)")
        object.__setattr__(self, "step_size", int(ss))
        g = self.gamma
        if not (_num(g) and 0.0 < g <= 1.0):
            raise ValueError(f"Invalid gamma: {_fmt(g)} (must be in (0, 1])")
        p = self.pct_start
        if not (_num(p) and 0.0 < p < 1.0):
            raise ValueError(f"Invalid pct_start: {_fmt(p)} (must be in (0, 1))")
        for what, v in (("div", self.div), ("div_final", self.div_final)):
            if not (_num(v) and 1.0 <= v < math.inf):
                raise ValueError(f"Invalid {what}: {_fmt(v)} (must be >= 1)")
        moms = tuple(self.moms)
        if len(moms) != 3:
            raise ValueError(f"Invalid moms: {moms!r} (must be three numbers)")
        for i, m in enumerate(moms):
            if not (_num(m) and 0.0 <= m < 1.0):
                raise ValueError(f"Invalid moms value at index {i}: {_fmt(m)} (must be in [0, 1))")
        object.__setattr__(self, "moms", tuple(float(m) for m in moms))

    @property
    def spec(self) -> ScheduleSpec:
        return SCHEDULES[self.kind]

    def pack(self) -> tuple[int, np.ndarray]:
        """(sched kind, params float64 (N_SCHED,)) in the kernels' column layout."""
        sp = np.zeros(K.N_SCHED)
        sp[K.S_STEP_SIZE] = self.step_size
        sp[K.S_GAMMA] = self.gamma
        sp[K.S_PCT_START] = self.pct_start
        sp[K.S_DIV] = self.div
        sp[K.S_DIV_FINAL] = self.div_final
        sp[K.S_MOM_START], sp[K.S_MOM_MID], sp[K.S_MOM_END] = self.moms
        return self.spec.kind, sp

    def to_dict(self) -> dict:
        """The kind and the parameters that apply to it."""
        d = {"kind": self.kind}
        for f in self.spec.fields:
            v = getattr(self, f)
            d[f] = list(v) if isinstance(v, tuple) else v
        return d

    def _eval(self, t, total):
        total = check_total(total)
        kind, sp = self.pack()
        return K.schedule_np(kind, sp, np.asarray(t), total)

    def lr_factor(self, t, total: int) -> np.ndarray:
        """lr multiplier at 1-based steps ``t`` (int array-like) -> float64, same shape."""
        return self._eval(t, total)[0]

    def momentum_at(self, t, total: int, base) -> np.ndarray:
        """Momentum (or Adam's beta1) at steps ``t``: the schedule's value where it
        schedules momentum and ``base`` > 0, else ``base``. float64, shape of ``t``."""
        _, has, mom = self._eval(t, total)
        base = np.asarray(base, dtype=np.float64)
        return np.where(has & (base > 0.0), mom, base) * np.ones_like(mom)


def _num(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) \
        and math.isfinite(v)


def check_total(total) -> int:
    """Validate a schedule length (number of steps >= 1)."""
    if isinstance(total, bool) or not isinstance(total, (int, np.integer)) or total < 1:
        raise ValueError(f"Invalid total steps: {total!r} (must be an integer >= 1)")
    return int(total)


def make_schedule(name: str, **params) -> Schedule:
    """A validated :class:`Schedule` of kind ``name`` (None values take defaults)."""
    if name not in SCHEDULES:
        raise unknown_name("schedule", name, SCHEDULES)
    return Schedule(name, **{k: v for k, v in params.items() if v is not None})
