"""The evented model every view observes: problem, runs, trajectories, playback.

Qt-free (psygnal). Views connect to the class-level signals, read the state and write
back only through the methods; the session tells every view (napari's model/view split).

Runs. A :class:`RunSpec` is one optimizer with its settings; every spec races from every
start, so the engine holds ``len(starts) * len(specs)`` runs and run ``r`` is spec
``r % n_specs`` from start ``r // n_specs``. A disabled spec (``enabled=False``) keeps
computing (run indices stay stable) and views just hide it.

Time. ``runset.t`` is how far the engine has computed; ``t`` is the step on display
(``t <= runset.t``). :meth:`scrub` and :meth:`step_back` move ``t`` back; stepping
forward first walks ``t`` through the recorded steps and only then computes new ones.

Live settings. Hyperparameters, the shared lr and the gradient noise change from the
current step on, without a reset: the engine keeps its optimizer state. Each change is
logged with the step it took effect at, so that any step can be re-played exactly
(the gradient noise is counter-based, so a replay draws the same numbers). If ``t`` was
scrubbed back when a setting changes, the recorded future is dropped first (the engine
is rebuilt from the start and re-played to ``t``) and the change applies from ``t``:
what you see is always one consistent history. Adding or removing a run also re-plays
every run to ``t``. A new start, seed or schedule restarts the race (a schedule shapes
the whole run; a new start or seed is a new experiment).

Problems. ``kind`` is "surface" or "expr" (an analytic :class:`Landscape`), "regression"
(L(w, b) of linear-regression data, :class:`RegressionData`) or "fit" (the curve-fit
model, :class:`FitData`). ``problem`` is what the engine optimizes; ``landscape`` is what
the map shows: the problem itself for two-parameter problems, and for a fit a
:class:`FitSlice` over the two ``linked`` parameters through the reference run's current
parameters. On data problems the batch size is real (seeded mini-batches drawn without
replacement, reshuffled every epoch; a new batch size applies from the current step) and
the gradient noise setting has no effect. Positions are ``n_params`` wide; trails are the
two shown parameters (:meth:`project`).

Every method validates its input; bad input emits ``error(msg)`` (one line), keeps the
old state and returns False; good input returns True (or the new index).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from psygnal import Signal

from gdviz.core.engine import RunSet
from gdviz.core.optimizers import OPTIMIZERS, OptimizerConfig, make_optimizer
from gdviz.core.problems import FitData, FitSlice, RegressionData, default_linked
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

from gdviz.core.limits import MAX_STEPS as MAX_STEPS_LIMIT
#: the longest frame tick() catches up on; a stalled UI must not snowball
MAX_TICK_DT = 0.1


@dataclass(frozen=True)
class RunSpec:
    """One optimizer in the race: its config, lr schedule, legend label and visibility.

    An empty ``label`` means "derive it" (e.g. ``Adam lr=0.05``, see :meth:`Session.spec_label`).
    """

    config: OptimizerConfig
    schedule: Schedule = field(default_factory=Schedule)
    label: str = ""
    enabled: bool = True


def default_specs() -> list[RunSpec]:
    """The default scene's four runs (SGD, Momentum, RMSProp, Adam), tuned for Rosenbrock."""
    return [RunSpec(config=make_optimizer(name, lr=lr)) for name, lr in DEFAULT_RUNS]


def default_start(landscape: Landscape) -> tuple[float, float]:
    """A sensible start for ``landscape``: the table above, else up-left in its view box."""
    if landscape.name in DEFAULT_STARTS:
        return DEFAULT_STARTS[landscape.name]
    x0, x1, y0, y1 = (float(v) for v in landscape.view)
    return (x0 + 0.2 * (x1 - x0), y0 + 0.8 * (y1 - y0))


class Session:
    """The evented model of the app (see the module docstring for the semantics)."""

    # each emitted once per change / once per frame, never per optimizer step
    problem_changed = Signal()
    runs_changed = Signal()
    stepped = Signal()
    playing_changed = Signal(bool)
    settings_changed = Signal()
    error = Signal(str)
    selection_changed = Signal(int)

    def __init__(self, landscape: Landscape | None = None, specs: list[RunSpec] | None = None,
                 starts: list[tuple[float, float]] | None = None, *, noise: float = 0.0,
                 batch_size: int = 1, seed: int = 0, max_steps: int = 1000,
                 speed: float = 30.0, fast: bool | None = None):
        self.landscape = landscape or Landscape.from_surface("rosenbrock")
        #: what the engine optimizes (the landscape itself on analytic surfaces)
        self.problem = self.landscape
        #: "surface", "expr", "regression" or "fit"
        self.kind = "surface" if getattr(self.landscape, "sid", -1) >= 0 else "expr"
        #: the data problem's settings (RegressionData / FitData), None on surfaces
        self.data: RegressionData | FitData | None = None
        #: the two parameters a fit's map shows (indices into the model's parameters)
        self.linked: tuple[int, int] = (0, 1)
        self._problems: dict[int, Any] = {}  # data problem by batch size (step-0 builds)
        #: view options that the window and export share: the scene's view box (None: the
        #: problem's own), the mini-batch's own surface (regression), each unit's curve (fit)
        self.view: tuple[float, float, float, float] | None = None
        self.batch_surface = False
        self.show_units = False
        self.specs: list[RunSpec] = list(default_specs() if specs is None else specs)
        if not self.specs:
            raise ValueError("a session needs at least one run")
        self.colors: list[str] = []
        for _ in self.specs:
            self.colors.append(self._free_color())
        self.starts: list[tuple[float, ...]] = (
            [tuple(map(float, s)) for s in starts] if starts else [default_start(self.landscape)])
        self.noise = float(noise)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.max_steps = int(max_steps)
        self.speed = float(speed)
        self.same_lr = False
        self.shared_lr = float(self.specs[0].config.lr)
        self.playing = False
        self.t = 0
        self.selected = -1
        self._fast = fast
        self._acc = 0.0  # fractional steps carried between ticks
        # settings in force at step 0 of the current history, and the changes since:
        # (step, kind, payload) with kind "config" (spec_i, config) or "noise" (noise, batch)
        self._base_noise = (self.noise, self.batch_size)
        self._events: list[tuple[int, str, Any]] = []
        self._details_cache: dict[int, list[dict]] = {}
        self._val_cache: dict = {}
        self.runset: RunSet = self._build(0)

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
        """Legend text of spec ``i``: its own label or e.g. ``Adam lr=0.05``."""
        spec = self.specs[i]
        if spec.label:
            return spec.label
        cfg = self.effective_config(i)
        name = OPTIMIZERS[cfg.name].label if cfg.name in OPTIMIZERS else cfg.name
        text = f"{name} lr={cfg.lr:.3g}"
        if spec.schedule.kind != "constant":
            text += f" ({spec.schedule.kind})"
        return text

    def run_label(self, r: int) -> str:
        """Legend text of run ``r``; with several starts it says which start."""
        text = self.spec_label(self.spec_index(r))
        if len(self.starts) > 1:
            text += f" · start {self.start_index(r) + 1}"
        return text

    def effective_config(self, i: int) -> OptimizerConfig:
        """Spec ``i``'s config as the engine runs it (the shared lr when same_lr is on)."""
        cfg = self.specs[i].config
        if self.same_lr and cfg.lr != self.shared_lr:
            cfg = cfg.replace(lr=self.shared_lr)
        return cfg

    # ------------------------------------------------------------------ engine plumbing
    def _free_color(self) -> str:
        used = set(self.colors)
        for c in OKABE_ITO:
            if c not in used:
                return c
        return OKABE_ITO[len(self.colors) % len(OKABE_ITO)]

    def _make_runset(self) -> RunSet:
        n_specs = self.n_specs
        configs = [self._base_configs[r % n_specs] for r in range(self.n_runs)]
        schedules = [self.specs[r % n_specs].schedule for r in range(self.n_runs)]
        starts = np.repeat(np.asarray(self.starts, dtype=np.float64), n_specs, axis=0)
        noise, batch = self._base_noise
        return RunSet(self._problem_for(batch), configs, np.ascontiguousarray(starts),
                      schedules=schedules, total_steps=self.max_steps, noise=noise,
                      batch_size=batch, seed=self.seed, fast=self._fast)

    def _apply_event(self, rs: RunSet, kind: str, payload: Any) -> None:
        if kind == "config":
            spec_i, cfg = payload
            for r in self.runs_of_spec(spec_i):
                rs.set_config(r, cfg)
        elif kind == "noise":
            rs.set_noise(*payload)
            if self.is_data and rs.problem.batch_size != self._clamp_batch(payload[1]):
                rs.problem = rs.problem.rebatched(self._clamp_batch(payload[1]), rs.t)

    def _replay(self, to_step: int, events_before: int | None = None) -> RunSet:
        """A fresh engine advanced to ``to_step`` with the logged changes re-applied.

        Changes logged at step s took effect after step s; only those with
        ``s < events_before`` (default: ``s <= to_step``) are applied.
        """
        rs = self._make_runset()
        limit = to_step + 1 if events_before is None else events_before
        for step, kind, payload in self._events:
            if step >= limit:
                break
            if step > rs.t:
                rs.advance(step - rs.t)
            self._apply_event(rs, kind, payload)
        if to_step > rs.t:
            rs.advance(to_step - rs.t)
        return rs

    def _build(self, replay_to: int) -> RunSet:
        """(Re)build the engine: from scratch if ``replay_to`` is 0, else re-played to it."""
        if replay_to <= 0:
            self._base_configs = [self.effective_config(i) for i in range(self.n_specs)]
            self._base_noise = (self.noise, self.batch_size)
            self._events = []
        self._details_cache = {}
        rs = self._replay(replay_to)
        self.runset = rs
        self.t = rs.t
        return rs

    def _restart(self) -> None:
        self._acc = 0.0
        self._build(0)

    def _truncate_future(self) -> None:
        """Drop the recorded steps after the displayed one (called before a live change)."""
        if self.t < self.runset.t:
            self._events = [e for e in self._events if e[0] <= self.t]
            self._build(self.t)

    def _log(self, kind: str, payload: Any) -> None:
        """Apply a live change to the engine from the current step on, and log it."""
        self._truncate_future()
        self._events.append((self.runset.t, kind, payload))
        self._apply_event(self.runset, kind, payload)
        self._details_cache = {k: v for k, v in self._details_cache.items() if k <= self.t}

    def _reindex_specs(self, mapping: dict[int, int | None]) -> None:
        """Rewrite logged spec indices after specs were added/removed (None = dropped)."""
        events = []
        for step, kind, payload in self._events:
            if kind == "config":
                new = mapping.get(payload[0], payload[0])
                if new is None:
                    continue
                payload = (new, payload[1])
            events.append((step, kind, payload))
        self._events = events

    def _restructure(self, old_base: list[OptimizerConfig]) -> None:
        """Rebuild after the set of specs changed, re-playing every run to ``t``."""
        self._base_configs = old_base
        to = self.t
        self._events = [e for e in self._events if e[0] <= to]
        self._details_cache = {}
        self.runset = self._replay(to)
        self.t = self.runset.t

    def _reselect(self, r: int) -> None:
        # the selected run keeps its identity (spec, start) when indices shift
        if r != self.selected:
            self.selected = r
            self.selection_changed.emit(r)

    def _fail(self, msg: str) -> bool:
        self.error.emit(str(msg).splitlines()[0] if str(msg) else "invalid input")
        return False

    # ------------------------------------------------------------------ problem
    @property
    def is_data(self) -> bool:
        """True on data problems (regression, fit): real mini-batches, counters, epochs."""
        return self.kind in ("regression", "fit")

    @property
    def n_params(self) -> int:
        return int(self.problem.n_params)

    @property
    def n_train(self) -> int:
        """Training points of a data problem (the batch size's upper bound); 0 on surfaces."""
        return int(self.problem.x.shape[0]) if self.is_data else 0

    @property
    def param_names(self) -> tuple[str, str]:
        """Names of the two parameters the map shows: x, y / w, b / the linked pair."""
        return tuple(getattr(self.landscape, "param_names", None) or ("x", "y"))

    @property
    def all_param_names(self) -> list[str]:
        """Every parameter's name (x, y on surfaces; the model's names on data problems)."""
        if self.is_data:
            return list(self.problem.model.param_names)
        return ["x", "y"]

    def project(self, a) -> np.ndarray:
        """The two shown parameters of ``a`` (..., n_params) -> (..., 2) (identity for two)."""
        a = np.asarray(a, dtype=np.float64)
        if self.n_params == 2:
            return a
        return a[..., list(self.linked)]

    def reference_run(self) -> int:
        """The run a fit's map slices through: the selected run, else the first shown one."""
        if 0 <= self.selected < self.n_runs:
            return self.selected
        for r in range(self.n_runs):
            if self.run_enabled(r):
                return r
        return 0

    def _clamp_batch(self, n: int) -> int:
        return max(1, min(int(n), self.n_train)) if self.is_data else int(n)

    def _problem_for(self, batch: int):
        """The engine problem at step 0 with mini-batches of ``batch`` (built once each)."""
        if not self.is_data:
            return self.problem
        bs = self._clamp_batch(batch)
        if bs not in self._problems:
            self._problems[bs] = self.data.build(bs, self.seed, self._fast)
        return self._problems[bs]

    def set_surface(self, name: str) -> bool:
        """Switch to built-in surface ``name``; the race restarts from its default start."""
        try:
            land = Landscape.from_surface(name)
        except ValueError as exc:
            return self._fail(exc)
        self._set_landscape(land, [default_start(land)])
        return True

    def set_expression(self, text: str) -> bool:
        """Switch to a custom f(x, y). A bad expression emits ``error`` and keeps the old one.

        The starts are kept if they lie inside the new view box.
        """
        try:
            land = Landscape.from_expr(text)
        except ValueError as exc:
            return self._fail(exc)
        x0, x1, y0, y1 = land.view
        keep = (not self.is_data
                and all(x0 <= x <= x1 and y0 <= y <= y1 for x, y in self.starts))
        self._set_landscape(land, self.starts if keep else [default_start(land)])
        return True

    def set_landscape(self, landscape: Landscape, starts: list[tuple[float, float]] | None = None) -> None:
        """Install an already built landscape (scene files use this)."""
        self._set_landscape(landscape, starts or [default_start(landscape)])

    def _set_landscape(self, land: Landscape, starts: list[tuple[float, float]]) -> None:
        if self.is_data:
            self.batch_size = 1  # on a surface the batch size scales the gradient noise
        self.kind = "surface" if land.sid >= 0 else "expr"
        self.data = None
        self._problems = {}
        self.landscape = self.problem = land
        self._install(starts)

    def _install(self, starts) -> None:
        self.view = None
        self.starts = [tuple(float(v) for v in s) for s in starts]
        if self.selected >= self.n_runs:
            self.selected = -1
            self.selection_changed.emit(-1)
        self._restart()
        self.problem_changed.emit()
        self.runs_changed.emit()
        self.settings_changed.emit()
        self.stepped.emit()

    def set_regression(self, data: RegressionData | None = None, *, batch_size: int | None = None,
                       starts: list[tuple[float, float]] | None = None) -> bool:
        """Switch to (or update) linear-regression data: the map is L(w, b).

        ``batch_size`` None keeps the current one on a regression problem, else all points.
        Starts are kept when this is already a regression problem (new data, same race).
        """
        data = RegressionData() if data is None else data
        if not isinstance(data, RegressionData):
            return self._fail("set_regression needs RegressionData")
        try:
            was = self.kind == "regression"
            n = data.n_points
            bs = batch_size if batch_size is not None else (self.batch_size if was else n)
            bs = max(1, min(int(bs), n))
            problem = data.build(bs, self.seed, self._fast)
        except ValueError as exc:
            return self._fail(exc)
        self.kind, self.data, self.batch_size = "regression", data, bs
        self._problems = {bs: problem}
        self.problem = self.landscape = problem
        if starts is None:
            starts = self.starts if was else [default_start(problem)]
        self._install(starts)
        return True

    def set_fit(self, data: FitData | None = None, *, batch_size: int | None = None,
                start=None, linked: tuple[int, int] | None = None) -> bool:
        """Switch to (or update) the curve fit: ``data`` says the target, points and model.

        The start (one parameter vector) is ``start``, else the current one when the model
        keeps its shape, else the model's seeded initialisation. ``batch_size`` None keeps
        the current one on a fit (clamped), else the whole training set.
        """
        data = FitData() if data is None else data
        if not isinstance(data, FitData):
            return self._fail("set_fit needs FitData")
        was = self.kind == "fit"
        try:
            ds_n = data.dataset().n_train
            bs = batch_size if batch_size is not None else (self.batch_size if was else ds_n)
            bs = max(1, min(int(bs), ds_n))
            problem = data.build(bs, self.seed, self._fast)
            p = problem.n_params
            same_model = was and self.n_params == p and self.data.model == data.model
            if start is not None:
                start = problem.model.check_params(start, "start parameters")
            elif same_model:
                start = np.asarray(self.starts[0], dtype=np.float64)
            else:
                start = problem.init_params(data.seed)
            if linked is None:
                linked = self.linked if same_model else default_linked(problem.model)
            i, j = (int(v) for v in linked)
            if not (0 <= i < p and 0 <= j < p) or i == j:
                raise ValueError(f"choose two different parameters of {p} to show")
        except ValueError as exc:
            return self._fail(exc)
        self.kind, self.data, self.batch_size = "fit", data, bs
        self._problems = {bs: problem}
        self.problem = problem
        self.linked = (i, j)
        self.landscape = self._make_slice(start)
        self._install([tuple(start)])
        return True

    def _slice_reference(self) -> np.ndarray:
        """The parameters a fit's map slices through: the reference run at the displayed step."""
        return self.positions()[self.reference_run()]

    def update_data(self, **changes: Any) -> bool:
        """Change the data problem's settings by name (``units=5``, ``seed=3``,
        ``target_expr="sin(3*x)"``...): validated; a bad value emits ``error`` and keeps
        the old data."""
        if not self.is_data:
            return self._fail("pick a data problem first (linear regression or curve fit)")
        try:
            data = dataclasses.replace(self.data, **changes)
        except TypeError:
            bad = ", ".join(k for k in changes if not hasattr(self.data, k))
            return self._fail(f"unknown data setting '{bad}'")
        except ValueError as exc:
            return self._fail(exc)
        return self.set_fit(data) if self.kind == "fit" else self.set_regression(data)

    def _make_slice(self, around) -> FitSlice:
        i, j = self.linked
        return FitSlice(self.problem, i, j, self._slice_reference,
                        view=FitSlice.view_around(around, i, j))

    def set_linked(self, i: int, j: int) -> bool:
        """Show the fit's loss over parameters ``i`` and ``j`` (indices or names) on the map."""
        if self.kind != "fit":
            return self._fail("linked parameters belong to a curve fit")
        names = self.all_param_names
        try:
            i = names.index(i) if isinstance(i, str) else int(i)
            j = names.index(j) if isinstance(j, str) else int(j)
        except ValueError:
            return self._fail(f"unknown parameter (choose from {', '.join(names[:10])}"
                              f"{', ...' if len(names) > 10 else ''})")
        if not (0 <= i < len(names) and 0 <= j < len(names)) or i == j:
            return self._fail(f"choose two different parameters of {len(names)} to show")
        if (i, j) == self.linked:
            return True
        self.linked = (i, j)
        self.landscape = self._make_slice(self._slice_reference())
        self.problem_changed.emit()
        self.runs_changed.emit()
        self.stepped.emit()
        return True

    def set_view_options(self, *, box=None, batch_surface: bool | None = None,
                         show_units: bool | None = None) -> bool:
        """The map's box (x0, x1, y0, y1; None = the problem's own view), whether the map
        also draws the current mini-batch's loss surface, and whether the fit panel draws
        each unit's own curve. Emits ``settings_changed`` (and ``problem_changed`` for a box)."""
        if box is not None:
            try:
                x0, x1, y0, y1 = (float(v) for v in box)
            except (TypeError, ValueError):
                return self._fail("the view box must be four numbers x0, x1, y0, y1")
            if not (all(map(math.isfinite, (x0, x1, y0, y1))) and x0 < x1 and y0 < y1):
                return self._fail(f"Invalid view box: {list(box)} (need x0 < x1 and y0 < y1)")
            box = (x0, x1, y0, y1)
        changed_box = box != self.view
        self.view = box
        if batch_surface is not None:
            self.batch_surface = bool(batch_surface)
        if show_units is not None:
            self.show_units = bool(show_units)
        if changed_box:
            self.problem_changed.emit()
        self.settings_changed.emit()
        return True

    @property
    def view_box(self) -> tuple[float, float, float, float]:
        """The box the map opens on: the scene's, else the problem's own view."""
        return tuple(self.view) if self.view is not None else tuple(self.landscape.view)

    def params_now(self, r: int | None = None) -> np.ndarray:
        """Run ``r``'s (default: the reference run's) parameters at the displayed step:
        float64 (n_params,)."""
        r = self.reference_run() if r is None else int(r)
        return self.positions()[r].copy()

    def set_param(self, k: int, value: float) -> bool:
        """Fit by hand: the race restarts from the reference run's parameters at the displayed
        step with parameter ``k`` set to ``value`` (playback pauses)."""
        names = self.all_param_names
        if not 0 <= int(k) < len(names):
            return self._fail(f"no parameter {k}")
        value = float(value)
        if not math.isfinite(value):
            return self._fail(f"{names[int(k)]} must be finite, got {value}")
        p = self.params_now()
        if not np.isfinite(p).all():
            p = np.asarray(self.starts[0], dtype=np.float64)
        p[int(k)] = value
        self.pause()
        if self.kind == "fit":
            self._set_starts([tuple(p)])
        else:
            self._set_starts([tuple(p)] + self.starts[1:])
        return True

    # ------------------------------------------------------------------ runs
    def add_run(self, spec: RunSpec) -> int:
        """Append a run spec (it races from every start); returns its index, -1 if refused.

        The other runs keep their paths: every run is re-played to the displayed step.
        """
        if not isinstance(spec, RunSpec):
            self._fail("add_run needs a RunSpec")
            return -1
        old_base = list(self._base_configs)
        n_old = self.n_specs
        # run indices are start_i * n_specs + spec_i: remap logged changes (spec indices
        # are unaffected by appending) and the selection
        sel_spec, sel_start = (self.spec_index(self.selected), self.start_index(self.selected)) \
            if self.selected >= 0 else (None, None)
        self.specs.append(spec)
        self.colors.append(self._free_color())
        self._restructure(old_base + [self.effective_config(n_old)])
        if sel_spec is not None:
            self._reselect(sel_start * self.n_specs + sel_spec)
        self.runs_changed.emit()
        self.stepped.emit()
        return n_old

    def remove_run(self, i: int) -> bool:
        """Remove spec ``i`` (the last one cannot go)."""
        if not 0 <= i < self.n_specs:
            return self._fail(f"no run {i}")
        if self.n_specs == 1:
            return self._fail("keep at least one optimizer (untick it to hide it)")
        sel = self.selected
        sel_spec = self.spec_index(sel) if sel >= 0 else None
        sel_start = self.start_index(sel) if sel >= 0 else None
        old_base = [c for k, c in enumerate(self._base_configs) if k != i]
        del self.specs[i]
        del self.colors[i]
        self._reindex_specs({k: (None if k == i else (k - 1 if k > i else k))
                             for k in range(self.n_specs + 1)})
        self._restructure(old_base)
        if sel_spec is not None:
            new = None if sel_spec == i else (sel_spec - 1 if sel_spec > i else sel_spec)
            self._reselect(-1 if new is None else sel_start * self.n_specs + new)
        self.runs_changed.emit()
        self.stepped.emit()
        return True

    def update_run(self, i: int, **changes: Any) -> bool:
        """Change spec ``i`` live (no reset): hyperparameters by name (``lr=0.01``,
        ``beta1=0.8``...), plus ``enabled=`` and ``label=``. Validated by the config."""
        if not 0 <= i < self.n_specs:
            return self._fail(f"no run {i}")
        spec = self.specs[i]
        meta = {k: changes.pop(k) for k in ("enabled", "label") if k in changes}
        cfg = spec.config
        if changes:
            try:
                cfg = cfg.replace(**changes)
            except (ValueError, TypeError) as exc:
                return self._fail(exc)
        new = RunSpec(config=cfg, schedule=spec.schedule,
                      label=str(meta.get("label", spec.label)),
                      enabled=bool(meta.get("enabled", spec.enabled)))
        if new == spec:
            return True
        self.specs[i] = new
        if cfg != spec.config:
            eff = self.effective_config(i)
            self._log("config", (i, eff))
            self.runs_changed.emit()
            self.stepped.emit()
        else:
            self.runs_changed.emit()
        return True

    def update_runs(self, **changes: Any) -> bool:
        """Change a hyperparameter of every run at once, live (the fit panel's weight-decay
        slider): validated for all runs first, then one change and one signal."""
        try:
            configs = [spec.config.replace(**changes) for spec in self.specs]
        except (ValueError, TypeError) as exc:
            return self._fail(exc)
        changed = [i for i, cfg in enumerate(configs) if cfg != self.specs[i].config]
        for i in changed:
            spec = self.specs[i]
            self.specs[i] = RunSpec(config=configs[i], schedule=spec.schedule, label=spec.label,
                                    enabled=spec.enabled)
            self._log("config", (i, self.effective_config(i)))
        if changed:
            self.runs_changed.emit()
            self.stepped.emit()
        return True

    def set_schedule(self, i: int, schedule: Schedule) -> bool:
        """Give spec ``i`` a learning-rate schedule; the race restarts (a schedule shapes
        the whole run)."""
        if not 0 <= i < self.n_specs:
            return self._fail(f"no run {i}")
        if not isinstance(schedule, Schedule):
            return self._fail("set_schedule needs a Schedule")
        spec = self.specs[i]
        self.specs[i] = RunSpec(config=spec.config, schedule=schedule, label=spec.label,
                                enabled=spec.enabled)
        self._restart()
        self.runs_changed.emit()
        self.settings_changed.emit()
        self.stepped.emit()
        return True

    def select(self, r: int) -> bool:
        """Choose run ``r`` for step-by-step mode (-1: none)."""
        r = int(r)
        if not -1 <= r < self.n_runs:
            return self._fail(f"no run {r}")
        if r != self.selected:
            self.selected = r
            self.selection_changed.emit(r)
        return True

    # ------------------------------------------------------------------ starts
    def _check_point(self, x: float, y: float) -> bool:
        return math.isfinite(x) and math.isfinite(y)

    def _full_point(self, x: float, y: float, base=None) -> tuple[float, ...]:
        """A start from a point on the map: (x, y) itself on two-parameter problems; on a
        fit, ``base`` (default: the reference run's parameters now) with the two shown
        parameters set to x and y (the point on the slice that was clicked)."""
        if self.n_params == 2:
            return (x, y)
        p = np.array(self.params_now() if base is None else base, dtype=np.float64)
        if not np.isfinite(p).all():
            p = np.asarray(self.starts[0], dtype=np.float64).copy()
        i, j = self.linked
        p[i], p[j] = x, y
        return tuple(float(v) for v in p)

    def set_start(self, x: float, y: float) -> bool:
        """Replace every start by (x, y) on the map; the race restarts."""
        x, y = float(x), float(y)
        if not self._check_point(x, y):
            return self._fail(f"start must be finite, got ({x}, {y})")
        self._set_starts([self._full_point(x, y)])
        return True

    def add_start(self, x: float, y: float) -> bool:
        """Add a start: every run also races from (x, y); the race restarts."""
        x, y = float(x), float(y)
        if not self._check_point(x, y):
            return self._fail(f"start must be finite, got ({x}, {y})")
        if self.kind == "fit":
            return self._fail("a curve fit starts from one point: click to move it")
        self._set_starts(self.starts + [(x, y)])
        return True

    def move_start(self, k: int, x: float, y: float) -> bool:
        """Move start ``k`` to (x, y) on the map (dragging a start marker); the race restarts."""
        x, y = float(x), float(y)
        if not 0 <= k < len(self.starts):
            return self._fail(f"no start {k}")
        if not self._check_point(x, y):
            return self._fail(f"start must be finite, got ({x}, {y})")
        starts = list(self.starts)
        starts[k] = self._full_point(x, y, base=starts[k])
        self._set_starts(starts)
        return True

    def remove_start(self, k: int) -> bool:
        """Remove start ``k`` (the last one stays)."""
        if not 0 <= k < len(self.starts) or len(self.starts) == 1:
            return self._fail("keep at least one start")
        self._set_starts([s for j, s in enumerate(self.starts) if j != k])
        return True

    def _set_starts(self, starts: list[tuple[float, ...]]) -> None:
        self.starts = [tuple(float(v) for v in s) for s in starts]
        self._restart()
        if self.selected >= self.n_runs:
            self._reselect(-1)
        self.runs_changed.emit()
        self.stepped.emit()

    # ------------------------------------------------------------------ settings
    def set_noise(self, noise: float) -> bool:
        """Gradient noise std at batch size 1 (live, from the current step)."""
        noise = float(noise)
        if not (math.isfinite(noise) and noise >= 0):
            return self._fail(f"Invalid noise: {noise} (must be >= 0)")
        if noise != self.noise:
            self.noise = noise
            self._log("noise", (self.noise, self.batch_size))
            self.settings_changed.emit()
        return True

    def set_batch_size(self, n: int) -> bool:
        """Mini-batch size (live, from the current step). On surfaces the gradient noise std
        is noise/sqrt(n); on data problems each update uses n real points (1..n_train)."""
        hi = self.n_train if self.is_data else None
        what = f"Invalid batch size: {n} (must be an integer in 1..{hi})" if hi else \
            f"Invalid batch size: {n} (must be an integer >= 1)"
        try:
            n_int = int(n)
        except (TypeError, ValueError):
            return self._fail(what)
        if n_int != n or n_int < 1 or (hi is not None and n_int > hi):
            return self._fail(what)
        if n_int != self.batch_size:
            self.batch_size = n_int
            self._log("noise", (self.noise, self.batch_size))
            self.settings_changed.emit()
            self.stepped.emit()  # the counters (batches per epoch) change
        return True

    def set_seed(self, n: int) -> bool:
        """Seed of the gradient noise; a new seed is a new experiment, so the race restarts."""
        try:
            n_int = int(n)
        except (TypeError, ValueError):
            return self._fail(f"Invalid seed: {n} (must be an integer >= 0)")
        if n_int != n or n_int < 0:
            return self._fail(f"Invalid seed: {n} (must be an integer >= 0)")
        if n_int != self.seed:
            self.seed = n_int
            if self.is_data:  # the mini-batch order is seeded too
                self._problems = {}
                self.problem = self._problem_for(self.batch_size)
                if self.kind == "regression":
                    self.landscape = self.problem
                else:
                    self.landscape = self._make_slice(self.starts[0])
            self._restart()
            self.settings_changed.emit()
            self.stepped.emit()
        return True

    def set_speed(self, sps: float) -> bool:
        """Playback speed in steps per second (> 0)."""
        sps = float(sps)
        if not (math.isfinite(sps) and sps > 0):
            return self._fail(f"Invalid speed: {sps} (must be > 0 steps/s)")
        if sps != self.speed:
            self.speed = sps
            self.settings_changed.emit()
        return True

    def set_max_steps(self, n: int) -> bool:
        """Where playback stops. The engine is re-played to min(t, n) (schedules span n)."""
        try:
            n_int = int(n)
        except (TypeError, ValueError):
            return self._fail(f"Invalid max steps: {n} (must be an integer >= 1)")
        if n_int != n or not 1 <= n_int <= MAX_STEPS_LIMIT:
            return self._fail(f"Invalid max steps: {n} (must be 1 to {MAX_STEPS_LIMIT})")
        if n_int == self.max_steps:
            return True
        self.max_steps = n_int
        to = min(self.t, n_int)
        self._events = [e for e in self._events if e[0] <= to]
        self._build(to)
        if self.playing and self.t >= self.max_steps:
            self._set_playing(False)
        self.settings_changed.emit()
        self.stepped.emit()
        return True

    def set_same_lr(self, flag: bool, lr: float | None = None) -> bool:
        """Run every optimizer at one learning rate (live, from the current step)."""
        flag = bool(flag)
        new_lr = self.shared_lr if lr is None else float(lr)
        if not (math.isfinite(new_lr) and new_lr > 0):
            return self._fail(f"Invalid learning rate: {new_lr} (must be > 0)")
        if flag == self.same_lr and new_lr == self.shared_lr:
            return True
        before = [self.effective_config(i) for i in range(self.n_specs)]
        self.same_lr, self.shared_lr = flag, new_lr
        for i in range(self.n_specs):
            eff = self.effective_config(i)
            if eff != before[i]:
                self._log("config", (i, eff))
        self.settings_changed.emit()
        self.runs_changed.emit()
        self.stepped.emit()
        return True

    # ------------------------------------------------------------------ playback
    def _set_playing(self, flag: bool) -> None:
        if flag != self.playing:
            self.playing = flag
            self._acc = 0.0
            self.playing_changed.emit(flag)

    def _finished(self) -> bool:
        if self.t >= self.max_steps:
            return True
        d = self.runset.diverged_at
        alive = [r for r in range(self.n_runs) if self.run_enabled(r)] or list(range(self.n_runs))
        return self.t >= self.runset.t and all(0 <= d[r] <= self.t for r in alive)

    def play(self) -> None:
        """Start playback (no-op at max_steps or when every run has diverged)."""
        if not self._finished():
            self._set_playing(True)

    def pause(self) -> None:
        self._set_playing(False)

    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def _forward(self, k: int) -> int:
        """Move the display k steps on (recorded first, then computed); one ``stepped``."""
        target = min(self.t + int(k), self.max_steps)
        moved = max(0, target - self.t)
        if moved:
            if target > self.runset.t:
                self.runset.advance(target - self.runset.t)
                if self.selected >= 0:
                    self._cache_details()
            self.t = target
            self.stepped.emit()
        if self.playing and self._finished():
            self._set_playing(False)
        return moved

    def step(self, k: int = 1) -> int:
        """Advance the display ``k`` steps; returns how many it moved."""
        if k < 1:
            return 0
        return self._forward(k)

    def step_back(self) -> int:
        """Show the previous step (pauses playback); returns how many it moved (0 or 1)."""
        self.pause()
        if self.t <= 0:
            return 0
        self.t -= 1
        self.stepped.emit()
        return 1

    def scrub(self, t: int) -> None:
        """Display recorded step ``t`` (clamped to 0..runset.t)."""
        t = max(0, min(int(t), self.runset.t))
        if t != self.t:
            self.t = t
            self.stepped.emit()

    def reset(self) -> None:
        """Restart the race from the starts with the current settings (t = 0)."""
        self._restart()
        self.stepped.emit()

    def tick(self, dt_seconds: float) -> int:
        """Called by the UI's frame timer: advance ``speed * dt`` steps (fractional steps
        carry over) in one engine call and emit ``stepped`` once. Returns the steps moved."""
        if not self.playing:
            return 0
        dt = min(max(float(dt_seconds), 0.0), MAX_TICK_DT)
        self._acc += self.speed * dt
        k = int(self._acc)
        if k <= 0:
            return 0
        self._acc -= k
        return self._forward(k)

    # ------------------------------------------------------------------ reading
    def _t(self, t: int | None) -> int:
        return self.t if t is None else max(0, min(int(t), self.runset.t))

    def positions(self, t: int | None = None) -> np.ndarray:
        """Each run's parameters at step ``t`` (default: displayed): float64 (n_runs, n_params).

        A diverged run stays where the engine froze it (its last good step).
        """
        return self.runset.positions(self._t(t))

    def trails(self, t: int | None = None) -> list[np.ndarray]:
        """Each run's path on the map up to step ``t``: list of float64 (m, 2), m <= t + 1
        (the two shown parameters, see :meth:`project`)."""
        t = self._t(t)
        return [self.project(self.runset.trajectory(r, t)[0]) for r in range(self.n_runs)]

    def param_trails(self, t: int | None = None) -> list[np.ndarray]:
        """Each run's parameters up to step ``t``: list of float64 (m, n_params)."""
        t = self._t(t)
        return [self.runset.trajectory(r, t)[0] for r in range(self.n_runs)]

    def losses(self, t: int | None = None) -> list[np.ndarray]:
        """Each run's (training) loss history up to step ``t``: list of float64 (m,)."""
        t = self._t(t)
        return [self.runset.trajectory(r, t)[1] for r in range(self.n_runs)]

    @property
    def has_validation(self) -> bool:
        """True when the problem holds out validation points (a fit with val_fraction > 0)."""
        return self.kind == "fit" and self.problem.x_val.shape[0] > 0

    def val_losses(self, t: int | None = None) -> list[np.ndarray] | None:
        """Each run's validation loss history up to step ``t`` (list of float64 (m,)), or
        None without a validation set. Computed from the recorded parameters, once per row."""
        if not self.has_validation:
            return None
        t = self._t(t)
        rs = self.runset
        cache = self._val_cache
        if cache.get("runset") is not rs or cache.get("stride") != rs.stride:
            cache.clear()
            cache.update(runset=rs, stride=rs.stride, rows=[np.zeros(0)] * self.n_runs)
        out = []
        for r in range(self.n_runs):
            P, _ = rs.trajectory(r, t)
            have = cache["rows"][r]
            if len(have) < len(P):
                more = self.problem.val_loss(P[len(have):])
                have = np.concatenate([have, more])
                cache["rows"][r] = have
            out.append(have[: len(P)])
        return out

    def counters(self, t: int | None = None) -> dict | None:
        """Iteration and epoch after ``t`` updates on a data problem (see
        :meth:`gdviz.core.models.LinearRegressionProblem.counters`), None on surfaces."""
        if not self.is_data:
            return None
        return self.runset.problem.counters(self._t(t))

    def epoch(self, t: int | None = None) -> int | None:
        """The epoch (1-based) of the last update on a data problem, None on surfaces."""
        c = self.counters(t)
        return None if c is None else int(c["epoch"])

    def current_batch(self, t: int | None = None) -> np.ndarray | None:
        """Training-set indices (int64 (B,)) of the mini-batch the update that produced step
        ``t`` used (batch 0 at t = 0); None on surfaces."""
        if not self.is_data:
            return None
        return self.runset.problem.batch_at(max(self._t(t) - 1, 0))

    def diverged(self, t: int | None = None) -> list[tuple[int, int]]:
        """(run, step) of every run that has diverged by step ``t`` (default: displayed)."""
        t = self._t(t)
        d = self.runset.diverged_at
        return [(r, int(d[r])) for r in range(self.n_runs) if 0 <= d[r] <= t]

    def _cache_details(self) -> None:
        t = self.runset.t
        self._details_cache[t] = [self.runset.details(r) for r in range(self.n_runs)]
        if len(self._details_cache) > 4096:  # a long step-by-step session: keep the newest
            for key in sorted(self._details_cache)[:2048]:
                del self._details_cache[key]

    def details(self, r: int, t: int | None = None) -> dict | None:
        """Step-by-step numbers of run ``r`` for the update that produced step ``t``
        (default: displayed): dict(step, g, m, v, step_size, delta, lr) as
        :meth:`RunSet.details` gives them; None at t = 0 (no update yet).

        Steps behind the engine's front are re-played (exactly: the noise is counter-based).
        """
        t = self._t(t)
        if t <= 0 or not 0 <= r < self.n_runs:
            return None
        if t == self.runset.t:
            return self.runset.details(r)
        if t not in self._details_cache:
            rs = self._replay(t, events_before=t)
            self._details_cache[t] = [rs.details(k) for k in range(self.n_runs)]
        return self._details_cache[t][r]

    def effective_lr(self, r: int) -> float:
        """The lr run ``r`` uses now (the shared lr when same_lr is on)."""
        return float(self.effective_config(self.spec_index(r)).lr)
