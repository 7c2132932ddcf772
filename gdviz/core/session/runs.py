"""Runs: what races (:class:`RunSpec`), their colours, labels and the run-level methods.

A :class:`RunSpec` is one optimizer with its settings; every spec races from every start,
so the engine holds ``len(starts) * len(specs)`` runs and run ``r`` is spec
``r % n_specs`` from start ``r // n_specs``. A disabled spec (``enabled=False``) keeps
computing (run indices stay stable) and views just hide it.

One lr in one place: a spec's ``config.lr`` is its learning rate. The engine's copies
(``RunSet.configs`` / ``hyper``) are derived from it (:meth:`RunsMixin.effective_config`)
and a label that spells the lr out ("SGD lr ×1 = 0.015") stores a slot instead of the
number (``"SGD lr ×1 = {lr}"``, see :func:`lr_template`), so that it follows the slider.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from gdviz.core.i18n import Said, tr, tr_label
from gdviz.core.limits import runs_limit_message
from gdviz.core.optimizers import OPTIMIZERS, OptimizerConfig, make_optimizer
from gdviz.core.schedules import Schedule
from gdviz.core.surfaces import Landscape

#: Okabe & Ito's colour-blind-safe palette, reordered so that the first runs get the
#: colours that read on both a dark and a light background (yellow and the dark blue last;
#: black replaced by a mid grey, which reads on both themes)
OKABE_ITO: tuple[str, ...] = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#D55E00",  # vermillion
    "#0072B2",  # blue
    "#F0E442",  # yellow
    "#999999",  # grey
)

#: where the default race starts on each built-in surface (outside the basin, so the path
#: is worth watching); other surfaces start at a point derived from their view box
DEFAULT_STARTS: dict[str, tuple[float, float]] = {
    "rosenbrock": (-1.5, 2.0),
    "quadratic": (-2.0, 1.5),
    "ellipse": (-2.5, 1.5),
    "saddle": (-1.5, 0.05),
    "beale": (1.0, 3.0),
    "himmelblau": (0.0, 0.0),
    "booth": (-6.0, -4.0),
    "matyas": (-8.0, 6.0),
    "six-hump-camel": (-1.5, 0.8),
    "rastrigin": (-4.0, 4.2),
    "ackley": (-3.5, 3.0),
    "goldstein-price": (-1.5, 1.5),
}

#: the default scene's race on Rosenbrock from (-1.5, 2): each optimizer's lr was chosen
#: so that all four visibly travel along the valley within ~300 steps (measured with RunSet)
DEFAULT_RUNS: tuple[tuple[str, float], ...] = (
    ("sgd", 1e-3),
    ("momentum", 2e-4),
    ("rmsprop", 1e-2),
    ("adam", 5e-2),
)

#: the slot a label holds where it spells out the run's learning rate
LR_SLOT = "{lr}"
# "= 0.015", "=0.05", "= 1e-3": a number after an equals sign
_LR_NUMBER = re.compile(r"(=\s*)([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")


def format_lr(lr: float) -> str:
    """The lr as legends write it: three significant digits (0.015, 0.0015, 1e-05)."""
    return f"{float(lr):.3g}"


def lr_template(label: str, lr: float) -> str:
    """``label`` with the number that equals ``lr`` after an ``=`` replaced by
    :data:`LR_SLOT` ("SGD lr ×1 = 0.015" at lr 0.015 -> "SGD lr ×1 = {lr}"); other
    numbers ("×10", "0.9·m") stay as written."""
    if not label or LR_SLOT in label:
        return label
    last = None
    for m in _LR_NUMBER.finditer(label):
        if math.isclose(float(m.group(2)), float(lr), rel_tol=1e-9, abs_tol=0.0):
            last = m
    if last is None:
        return label
    return label[: last.start(2)] + LR_SLOT + label[last.end(2):]


def render_label(label: str, lr: float) -> str:
    """A label template with its lr slot filled in (:func:`format_lr`)."""
    return label.replace(LR_SLOT, format_lr(lr)) if LR_SLOT in label else label


@dataclass(frozen=True)
class RunSpec:
    """One optimizer in the race: its config, lr schedule, legend label and visibility.

    An empty ``label`` means "derive it" (e.g. ``Adam lr=0.05``, see
    :meth:`RunsMixin.spec_label`). A label that spells out ``config.lr`` after an ``=``
    is kept as a template (:func:`lr_template`): its number follows the run's live lr.
    """

    config: OptimizerConfig
    schedule: Schedule = field(default_factory=Schedule)
    label: str = ""
    enabled: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.config, OptimizerConfig):
            raise ValueError(f"a run needs an OptimizerConfig, got {type(self.config).__name__}")
        if not isinstance(self.schedule, Schedule):
            raise ValueError(f"a run's schedule must be a Schedule, got {type(self.schedule).__name__}")
        object.__setattr__(self, "label", lr_template(str(self.label), self.config.lr))
        object.__setattr__(self, "enabled", bool(self.enabled))

    def text(self, lr: float | None = None) -> str:
        """The label as written in a scene: the slot filled with ``lr`` (default: its own)."""
        return render_label(self.label, self.config.lr if lr is None else lr)


def default_specs() -> list[RunSpec]:
    """The default scene's four runs (SGD, Momentum, RMSProp, Adam), tuned for Rosenbrock."""
    return [RunSpec(config=make_optimizer(name, lr=lr)) for name, lr in DEFAULT_RUNS]


def default_start(landscape: Landscape) -> tuple[float, float]:
    """A sensible start for ``landscape``: the table above, else up-left in its view box."""
    if landscape.name in DEFAULT_STARTS:
        return DEFAULT_STARTS[landscape.name]
    x0, x1, y0, y1 = (float(v) for v in landscape.view)
    return (x0 + 0.2 * (x1 - x0), y0 + 0.8 * (y1 - y0))


def free_color(used: list[str]) -> str:
    """The first palette colour no run has yet (cycling once all are taken)."""
    taken = set(used)
    for c in OKABE_ITO:
        if c not in taken:
            return c
    return OKABE_ITO[len(used) % len(OKABE_ITO)]


def palette_colors(n: int) -> list[str]:
    """The colours of ``n`` runs in a fresh race: the palette in order."""
    return [OKABE_ITO[i % len(OKABE_ITO)] for i in range(n)]


class RunsMixin:
    """Run indexing, labels and the run-level methods of :class:`~gdviz.core.session.Session`."""

    specs: list[RunSpec]
    colors: list[str]
    starts: list[tuple[float, ...]]
    same_lr: bool
    shared_lr: float
    selected: int

    # ------------------------------------------------------------------ run indexing
    @property
    def n_specs(self) -> int:
        return len(self.specs)

    @property
    def n_runs(self) -> int:
        return len(self.starts) * len(self.specs)

    def spec_index(self, r: int) -> int:
        """The spec run ``r`` belongs to."""
        return r % self.n_specs

    def start_index(self, r: int) -> int:
        """The start run ``r`` races from."""
        return r // self.n_specs

    def runs_of_spec(self, i: int) -> list[int]:
        """The run indices of spec ``i`` (one per start)."""
        return [k * self.n_specs + i for k in range(len(self.starts))]

    def run_enabled(self, r: int) -> bool:
        return self.specs[self.spec_index(r)].enabled

    def run_color(self, r: int) -> str:
        """Hex colour of run ``r`` (its spec's colour)."""
        return self.colors[self.spec_index(r)]

    def spec_label(self, i: int) -> str:
        """Legend text of spec ``i``: its own label (its lr slot filled with the live lr),
        or e.g. ``Adam lr=0.05``."""
        spec = self.specs[i]
        cfg = self.effective_config(i)
        if spec.label:
            return render_label(tr_label(spec.label), cfg.lr)
        name = OPTIMIZERS[cfg.name].label if cfg.name in OPTIMIZERS else cfg.name
        text = f"{name} lr={format_lr(cfg.lr)}"
        if spec.schedule.kind != "constant":
            text += f" ({spec.schedule.kind})"
        return text

    def run_label(self, r: int) -> str:
        """Legend text of run ``r``; with several starts it says which start."""
        text = self.spec_label(self.spec_index(r))
        if len(self.starts) > 1:
            text += tr("run_start", n=self.start_index(r) + 1)
        return text

    def effective_config(self, i: int) -> OptimizerConfig:
        """Spec ``i``'s config as the engine runs it (the shared lr when same_lr is on)."""
        cfg = self.specs[i].config
        if self.same_lr and cfg.lr != self.shared_lr:
            cfg = cfg.replace(lr=self.shared_lr)
        return cfg

    def effective_lr(self, r: int) -> float:
        """The lr run ``r`` uses now (the shared lr when same_lr is on)."""
        return float(self.effective_config(self.spec_index(r)).lr)

    # ------------------------------------------------------------------ run methods
    def add_run(self, spec: RunSpec) -> int:
        """Append a run spec (it races from every start); returns its index, -1 if refused.

        The other runs keep their paths: every run is re-played to the displayed step.
        """
        if not isinstance(spec, RunSpec):
            self._fail("add_run needs a RunSpec")
            return -1
        too_many = runs_limit_message(len(self.starts), self.n_specs + 1)
        if too_many:
            self._fail(too_many)
            return -1
        with self._changes():
            old_base = list(self._base_configs)
            n_old = self.n_specs
            # run indices are start_i * n_specs + spec_i: remap logged changes (spec indices
            # are unaffected by appending) and the selection
            sel_spec, sel_start = (self.spec_index(self.selected), self.start_index(self.selected)) \
                if self.selected >= 0 else (None, None)
            self.specs = self.specs + [spec]
            self.colors = self.colors + [free_color(self.colors)]
            self._restructure(old_base + [self.effective_config(n_old)])
            if sel_spec is not None:
                self.selected = sel_start * self.n_specs + sel_spec
            self._emit("runs_changed", "stepped")
        return n_old

    def remove_run(self, i: int) -> bool:
        """Remove spec ``i`` (the last one cannot go)."""
        if not 0 <= i < self.n_specs:
            return self._fail(f"no run {i}")
        if self.n_specs == 1:
            return self._fail(Said("keep_one_optimizer"))
        with self._changes():
            sel = self.selected
            sel_spec = self.spec_index(sel) if sel >= 0 else None
            sel_start = self.start_index(sel) if sel >= 0 else None
            old_base = [c for k, c in enumerate(self._base_configs) if k != i]
            self.specs = [s for k, s in enumerate(self.specs) if k != i]
            self.colors = [c for k, c in enumerate(self.colors) if k != i]
            self._reindex_specs({k: (None if k == i else (k - 1 if k > i else k))
                                 for k in range(self.n_specs + 1)})
            self._restructure(old_base)
            if sel_spec is not None:
                new = None if sel_spec == i else (sel_spec - 1 if sel_spec > i else sel_spec)
                self.selected = -1 if new is None else sel_start * self.n_specs + new
            self._emit("runs_changed", "stepped")
        return True

    def _replace_spec(self, i: int, spec: RunSpec) -> None:
        specs = list(self.specs)
        specs[i] = spec
        self.specs = specs

    def update_run(self, i: int, **changes: Any) -> bool:
        """Change spec ``i`` live (no reset): hyperparameters by name (``lr=0.01``,
        ``beta1=0.8``...), plus ``enabled=`` and ``label=``. Validated by the config.

        The displayed history does not change (a new setting applies from the current
        step on), so this emits ``runs_changed`` only: views redraw once."""
        if not 0 <= i < self.n_specs:
            return self._fail(f"no run {i}")
        spec = self.specs[i]
        meta = {k: changes.pop(k) for k in ("enabled", "label") if k in changes}
        cfg = spec.config
        try:
            if changes:
                cfg = cfg.replace(**changes)
            new = RunSpec(config=cfg, schedule=spec.schedule,
                          label=str(meta.get("label", spec.label)),
                          enabled=bool(meta.get("enabled", spec.enabled)))
        except (ValueError, TypeError) as exc:
            return self._fail(exc)
        if new == spec:
            return True
        with self._changes():
            self._replace_spec(i, new)
            if cfg != spec.config:
                self._log("config", (i, self.effective_config(i)))
            self._emit("runs_changed")
        return True

    def update_runs(self, **changes: Any) -> bool:
        """Change a hyperparameter of every run at once, live (the fit panel's weight-decay
        slider): validated for all runs first, then one change and one signal."""
        try:
            configs = [spec.config.replace(**changes) for spec in self.specs]
        except (ValueError, TypeError) as exc:
            return self._fail(exc)
        changed = [i for i, cfg in enumerate(configs) if cfg != self.specs[i].config]
        if not changed:
            return True
        with self._changes():
            for i in changed:
                spec = self.specs[i]
                self._replace_spec(i, RunSpec(config=configs[i], schedule=spec.schedule,
                                              label=spec.label, enabled=spec.enabled))
                self._log("config", (i, self.effective_config(i)))
            self._emit("runs_changed")
        return True

    def set_schedule(self, i: int | None, schedule: Schedule) -> bool:
        """Give spec ``i`` (None: every spec) a learning-rate schedule; the race restarts
        once (a schedule shapes the whole run)."""
        if i is not None and not 0 <= i < self.n_specs:
            return self._fail(f"no run {i}")
        if not isinstance(schedule, Schedule):
            return self._fail("set_schedule needs a Schedule")
        which = range(self.n_specs) if i is None else [i]
        specs = list(self.specs)
        for k in which:
            s = specs[k]
            specs[k] = RunSpec(config=s.config, schedule=schedule, label=s.label, enabled=s.enabled)
        if specs == self.specs:
            return True
        with self._changes():
            self.specs = specs
            self._restart()
            self._emit("runs_changed", "settings_changed", "stepped")
        return True

    def select(self, r: int) -> bool:
        """Choose run ``r`` for step-by-step mode (-1: none)."""
        r = int(r)
        if not -1 <= r < self.n_runs:
            return self._fail(f"no run {r}")
        if r != self.selected:
            with self._changes():
                self.selected = r
        return True

    def set_same_lr(self, flag: bool, lr: float | None = None) -> bool:
        """Run every optimizer at one learning rate (live, from the current step)."""
        flag = bool(flag)
        try:
            new_lr = self.shared_lr if lr is None else check_lr(lr)
        except ValueError as exc:
            return self._fail(exc)
        if flag == self.same_lr and new_lr == self.shared_lr:
            return True
        with self._changes():
            before = [self.effective_config(i) for i in range(self.n_specs)]
            self.same_lr, self.shared_lr = flag, new_lr
            for i in range(self.n_specs):
                eff = self.effective_config(i)
                if eff != before[i]:
                    self._log("config", (i, eff))
            self._emit("settings_changed", "runs_changed")
        return True


def check_lr(lr: Any) -> float:
    """A learning rate: a finite number > 0 (the optimizer's own rule)."""
    try:
        v = float(lr)
    except (TypeError, ValueError):
        raise ValueError(f"Invalid learning rate: {lr!r} (must be > 0)") from None
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"Invalid learning rate: {v} (must be > 0)")
    return v
