"""The session: the typed, evented model every view observes (napari's model/view split).

Qt-free (psygnal). Each settable field has its own event, ``session.events.<field>``
(emitted with the new value once per change), and the views' coarse class signals
(``problem_changed``, ``runs_changed``, ``settings_changed``, ``selection_changed``,
``playing_changed``, ``stepped``) fire once per change too: every method runs as one
change (:meth:`Session._changes`), and the signals go out at its end, after the whole
state is consistent. Views read the fields and write back only through the methods.

A snapshot of the model is a :class:`SessionState`; :meth:`Session.restore` puts one
back as a single change (one engine build, one of each coarse signal), or raises and
leaves the session untouched. A scene file is such a snapshot (``gdviz.core.scene``).

Problems. ``kind`` is "surface" or "expr" (an analytic :class:`Landscape`), "regression"
(L(w, b) of linear-regression data, :class:`RegressionData`) or "fit" (the curve-fit
model, :class:`FitData`). ``problem`` is what the engine optimizes; ``landscape`` is what
the map shows: the problem itself for two-parameter problems, and for a fit a
:class:`FitSlice` over the two ``linked`` parameters through the reference run's current
parameters. On data problems the batch size is real (seeded mini-batches drawn without
replacement, reshuffled every epoch; a new batch size applies from the current step) and
the gradient noise setting has no effect. Positions are ``n_params`` wide; trails are the
two shown parameters (:meth:`project`). A new start, seed or schedule restarts the race;
adding or removing a run re-plays every run to ``t`` (see :mod:`.history`).

View state (heatmap, contour levels, colour scale, theme, panels) is model state too, so
that a menu and a context menu cannot disagree.

Every method validates its input; bad input emits ``error(msg)`` (one line), keeps the
old state and returns False; good input returns True (or the new index).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
from psygnal import Signal, SignalGroup

from gdviz.core.limits import (MAX_BATCH_SIZE, MAX_COORD, MAX_LEVELS, MAX_SPEED,
                               MAX_STEPS, MIN_LEVELS, check_view_box, runs_limit_message)
from gdviz.core.i18n import Said
from gdviz.core.classifier import ClassifyData, ClassifySlice
from gdviz.core.panels import PANELS, check_panel
from gdviz.core.problems import FitData, FitSlice, RegressionData, default_linked
from gdviz.core.session.history import HistoryMixin
from gdviz.core.session.playback import PlaybackMixin
from gdviz.core.session.runs import (RunSpec, RunsMixin, check_lr, default_specs,
                                     default_start, free_color, palette_colors)
from gdviz.core.surfaces import Landscape
from gdviz.core.view3d import check_camera, check_map_mode

#: contour levels the map may draw (a scene's ``[view] levels`` has the same range)
LEVELS_RANGE = (MIN_LEVELS, MAX_LEVELS)
#: colour/level scales: "auto" follows the surface (log where it spans decades)
SCALES = ("auto", "log", "linear")
THEMES = ("light", "dark")
#: every panel the window can show, in layout order (named once, in gdviz.core.panels)
PANEL_NAMES = PANELS
#: the panels a new session shows (the 3-D view shows by ``map_mode``, see core.view3d)
DEFAULT_SESSION_PANELS = tuple(p for p in PANELS if p != "surface3d")


# ---------------------------------------------------------------------------- validation
def _integer(v: Any, what: str, lo: int, hi: int | None = None) -> int:
    rng = f"{lo} to {hi}" if hi is not None else f">= {lo}"
    msg = f"Invalid {what}: {v} (must be an integer {rng})"
    if isinstance(v, bool):
        raise ValueError(msg)
    try:
        n = int(v)
    except (TypeError, ValueError):
        raise ValueError(msg) from None
    if n != v or n < lo or (hi is not None and n > hi):
        raise ValueError(msg)
    return n


def check_seed(v: Any) -> int:
    return _integer(v, "seed", 0)


def check_max_steps(v: Any) -> int:
    try:
        n = _integer(v, "max steps", 1)
    except ValueError:
        raise ValueError(f"Invalid max steps: {v} (must be an integer >= 1)") from None
    if n > MAX_STEPS:
        raise ValueError(f"Invalid max steps: {v} (must be 1 to {MAX_STEPS})")
    return n


def check_batch_size(v: Any, hi: int | None = None) -> int:
    """A batch size: 1..``hi`` (a data problem's training points), else 1..MAX_BATCH_SIZE."""
    try:
        return _integer(v, "batch size", 1, hi or MAX_BATCH_SIZE)
    except ValueError:
        rng = f"in 1..{hi}" if hi else ">= 1"
        raise ValueError(f"Invalid batch size: {v} (must be an integer {rng})") from None


def _number(v: Any, what: str) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        raise ValueError(f"Invalid {what}: {v!r} (must be a number)") from None


def check_noise(v: Any) -> float:
    x = _number(v, "noise")
    if not (math.isfinite(x) and x >= 0):
        raise ValueError(f"Invalid noise: {x} (must be >= 0)")
    return x


def check_speed(v: Any) -> float:
    x = _number(v, "speed")
    if not (math.isfinite(x) and 0 < x <= MAX_SPEED):
        raise ValueError(f"Invalid speed: {x} (must be > 0 and <= {MAX_SPEED:g} steps/s)")
    return x


def check_box(box: Any) -> tuple[float, float, float, float] | None:
    """A view box (x0, x1, y0, y1) as :func:`gdviz.core.limits.check_view_box` allows it,
    or None (the problem's own)."""
    if box is None:
        return None
    try:
        x0, x1, y0, y1 = (float(v) for v in box)
    except (TypeError, ValueError):
        raise ValueError("the view box must be four numbers x0, x1, y0, y1") from None
    return check_view_box((x0, x1, y0, y1))


def check_levels(v: Any) -> int:
    return _integer(v, "contour levels", *LEVELS_RANGE)


def _choice(v: Any, what: str, choices: tuple[str, ...]) -> str:
    if v not in choices:
        raise ValueError(f"Invalid {what}: {v!r} (choose from {', '.join(choices)})")
    return str(v)


def check_scale(v: Any) -> str:
    return _choice(v, "scale", SCALES)


def check_theme(v: Any) -> str:
    return _choice(v, "theme", THEMES)


def check_panels(v: Any) -> tuple[str, ...]:
    if isinstance(v, str):
        v = (v,)
    try:
        names = tuple(v)
    except TypeError:
        raise ValueError(f"Invalid panels: {v!r} (a list of panel names)") from None
    for p in names:
        check_panel(p)
    return tuple(p for p in PANEL_NAMES if p in names)  # layout order, no repeats


#: maps: the landscape's map modes, the hyper panel's y axes ("off": hidden), its colours
MAP_LAYERS = ("off", "basins", "steps")
HYPER_AXES = ("off", "momentum", "beta1", "beta2", "batch_size")
HYPER_COLORS = ("loss", "steps")


def check_map_layer(v: Any) -> str:
    return _choice(v, "map layer", MAP_LAYERS)


def check_hyper_axis(v: Any) -> str:
    return _choice(v, "hyper map axis", HYPER_AXES)


def check_hyper_color(v: Any) -> str:
    return _choice(v, "hyper map colour", HYPER_COLORS)


# ---------------------------------------------------------------------------- events
class SessionEvents(SignalGroup):
    """One event per field of :class:`Session`, emitted with the field's new value."""

    kind = Signal(str)
    landscape = Signal(object)
    specs = Signal(object)
    colors = Signal(object)
    starts = Signal(object)
    seed = Signal(int)
    noise = Signal(float)
    batch_size = Signal(int)
    max_steps = Signal(int)
    speed = Signal(float)
    same_lr = Signal(bool)
    shared_lr = Signal(float)
    selected = Signal(int)
    playing = Signal(bool)
    t = Signal(int)
    view = Signal(object)
    batch_surface = Signal(bool)
    show_units = Signal(bool)
    linked = Signal(object)
    heatmap = Signal(bool)
    levels = Signal(int)
    scale = Signal(str)
    theme = Signal(str)
    panels = Signal(object)
    map_mode = Signal(str)
    log_height = Signal(bool)
    camera = Signal(object)
    map_layer = Signal(str)
    hyper_axis = Signal(str)
    hyper_color = Signal(str)
    lrfind = Signal(object)
    tuned = Signal(object)
    neuron = Signal(int)


#: the session's fields, each with its event in :class:`SessionEvents`
FIELDS: tuple[str, ...] = (
    "kind", "landscape", "specs", "colors", "starts", "seed", "noise", "batch_size",
    "max_steps", "speed", "same_lr", "shared_lr", "selected", "playing", "t", "view",
    "batch_surface", "show_units", "linked", "heatmap", "levels", "scale", "theme", "panels",
    "map_mode", "log_height", "camera", "map_layer", "hyper_axis", "hyper_color",
    "lrfind", "tuned", "neuron")
#: fields compared by identity (problems are rebuilt, never edited in place)
_IDENTITY_FIELDS = ("landscape", "lrfind", "tuned")
#: the coarse signal each field's change implies (besides those a method names itself)
_COARSE_OF: dict[str, tuple[str, ...]] = {
    "kind": ("problem_changed",),
    "landscape": ("problem_changed",),
    "linked": ("problem_changed",),
    "view": ("problem_changed", "settings_changed"),
    "specs": ("runs_changed",),
    "colors": ("runs_changed",),
    "starts": ("runs_changed",),
    "selected": ("selection_changed",),
    "playing": ("playing_changed",),
    "t": ("stepped",),
    # the 3-D camera moves with every drag: its own event only
    "camera": (),
    # the user's, not the demo's (a scene never carries it): its own event only; the views
    # restyle on the palette's change (a "settings" change fed every run's curves again,
    # re-read the panels and marked the demo edited)
    "theme": (),
    "neuron": ("settings_changed",),
}
#: the order the coarse signals go out in: the problem before the runs on it, the
#: settings and selection before the frame that shows them
_COARSE_ORDER = ("problem_changed", "runs_changed", "settings_changed", "selection_changed",
                 "playing_changed", "stepped")


@dataclass(frozen=True)
class SessionState:
    """A snapshot of the session's fields (what a scene file holds, and view state).

    ``landscape`` is the analytic surface (kinds "surface" and "expr"); ``data`` the data
    problem's settings (kinds "regression" and "fit"). ``colors`` None gives the runs the
    palette in order. On a fit ``starts`` is the one start parameter vector.
    """

    kind: str = "surface"
    landscape: Landscape | None = None
    data: RegressionData | FitData | ClassifyData | None = None
    specs: tuple[RunSpec, ...] = ()
    colors: tuple[str, ...] | None = None
    starts: tuple[tuple[float, ...], ...] = ()
    seed: int = 0
    noise: float = 0.0
    batch_size: int = 1
    max_steps: int = 1000
    speed: float = 30.0
    same_lr: bool = False
    shared_lr: float | None = None
    selected: int = -1
    view: tuple[float, float, float, float] | None = None
    batch_surface: bool = False
    show_units: bool = False
    linked: tuple[int, int] | None = None
    heatmap: bool = True
    levels: int = 20
    scale: str = "auto"
    theme: str = "light"
    panels: tuple[str, ...] = DEFAULT_SESSION_PANELS
    map_mode: str = "2d"
    log_height: bool = False
    camera: tuple[float, float, float] | None = None
    map_layer: str = "off"
    hyper_axis: str = "off"
    hyper_color: str = "loss"
    #: the network's highlighted hidden neuron (0-based over all hidden layers), -1 none
    neuron: int = -1


class Session(RunsMixin, HistoryMixin, PlaybackMixin):
    """The evented model of the app (see the module docstring for the semantics)."""

    # each emitted once per change / once per frame, never per optimizer step
    problem_changed = Signal()
    runs_changed = Signal()
    stepped = Signal()
    playing_changed = Signal(bool)
    settings_changed = Signal()
    error = Signal(str)
    selection_changed = Signal(int)
    #: after the last signal of a change went out (of the outermost, when a view's handler
    #: made a change of its own): a view that marked itself stale on several of a change's
    #: signals refreshes once, here (gdviz.ui.views.refresh)
    settled = Signal()

    #: the fields :attr:`events` covers (and :meth:`snapshot` / :meth:`restore` carry)
    FIELDS: tuple[str, ...] = FIELDS

    def __init__(self, landscape: Landscape | None = None, specs: list[RunSpec] | None = None,
                 starts: list[tuple[float, float]] | None = None, *, noise: float = 0.0,
                 batch_size: int = 1, seed: int = 0, max_steps: int = 1000,
                 speed: float = 30.0, fast: bool | None = None):
        self.events = SessionEvents()
        self._depth = 0
        self._pending: dict[str, None] = {}
        self._notifying = 0  # the signals of a change are going out (see :attr:`notifying`)
        self.landscape: Landscape = landscape or Landscape.from_surface("rosenbrock")
        #: what the engine optimizes (the landscape itself on analytic surfaces)
        self.problem = self.landscape
        #: "surface", "expr", "regression" or "fit"
        self.kind = "surface" if getattr(self.landscape, "sid", -1) >= 0 else "expr"
        #: the data problem's settings (RegressionData / FitData), None on surfaces
        self.data: RegressionData | FitData | None = None
        #: the two parameters a fit's map shows (indices into the model's parameters)
        self.linked: tuple[int, int] = (0, 1)
        self._problems: dict[int, Any] = {}  # data problem by batch size (step-0 builds)
        #: the scene's view box (None: the problem's own)
        self.view: tuple[float, float, float, float] | None = None
        #: the map also draws the mini-batch's own surface (regression)
        self.batch_surface = False
        #: the fit panel draws each unit's curve
        self.show_units = False
        #: view state: heatmap shown, contour levels, level/colour scale, theme, panels
        self.heatmap = True
        self.levels = 20
        self.scale = "auto"
        self.theme = "light"
        self.panels: tuple[str, ...] = DEFAULT_SESSION_PANELS
        #: the 3-D view (gdviz.core.view3d): 2-D / 3-D / both maps, log height, camera
        self.map_mode = "2d"
        self.log_height = False
        self.camera: tuple[float, float, float] | None = None
        #: maps (gdviz.core.maps): the landscape's map mode, the hyper panel's y axis
        #: ("off" hides it) and its colour
        self.map_layer = "off"
        self.hyper_axis = "off"
        self.hyper_color = "loss"
        #: the last lr-finder sweep (gdviz.core.lrfind.LrFindResult) and the last fair-race
        #: tuning (TuneResult), None when there is none; cleared by a new problem or scene
        self.lrfind = None
        self.tuned = None
        #: a network fit's highlighted hidden neuron (network picture click), -1 none
        self.neuron = -1
        self.specs: list[RunSpec] = list(default_specs() if specs is None else specs)
        if not self.specs:
            raise ValueError("a session needs at least one run")
        self.colors: list[str] = palette_colors(len(self.specs))
        self.starts: list[tuple[float, ...]] = (
            [tuple(map(float, s)) for s in starts] if starts else [default_start(self.landscape)])
        self.noise = check_noise(noise)
        self.batch_size = check_batch_size(batch_size)
        self.seed = check_seed(seed)
        self.max_steps = check_max_steps(max_steps)
        self.speed = check_speed(speed)
        self.same_lr = False
        #: the one lr every run uses while ``same_lr`` is on
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
        self._norm_cache: dict = {}
        self.runset = self._build(0)

    # ------------------------------------------------------------------ changes
    def _field_values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}

    @contextlib.contextmanager
    def _changes(self) -> Iterator[None]:
        """Run the body as one change: at its end, each changed field's event and each
        coarse signal go out once (nested changes join the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        if not self._keep_replay:
            self._settle_replay()  # a change stops a background re-play where it is
        before = self._field_values()
        self._depth = 1
        try:
            yield
        except BaseException:
            self._pending = {}
            raise
        finally:
            self._depth = 0
        pending, self._pending = self._pending, {}
        after = self._field_values()
        changed = []
        for name in self.FIELDS:
            a, b = before[name], after[name]
            same = a is b if name in _IDENTITY_FIELDS else _equal(a, b)
            if not same:
                changed.append(name)
                pending.update(dict.fromkeys(_COARSE_OF.get(name, ("settings_changed",))))
        if not (changed or pending):
            return
        self._notifying += 1
        try:
            for name in changed:
                getattr(self.events, name).emit(after[name])
            for name in _COARSE_ORDER:
                if name not in pending:
                    continue
                sig = getattr(self, name)
                if name == "selection_changed":
                    sig.emit(self.selected)
                elif name == "playing_changed":
                    sig.emit(self.playing)
                else:
                    sig.emit()
        finally:
            self._notifying -= 1
        if not self._notifying:
            self.settled.emit()

    @property
    def notifying(self) -> bool:
        """True while a change's signals go out (its handlers run): a view may leave its
        refresh to :attr:`settled`, once, instead of refreshing on each of them."""
        return self._notifying > 0

    def _emit(self, *names: str) -> None:
        """Ask for coarse signals at the end of the current change (each once)."""
        if not self._depth:
            with self._changes():
                self._emit(*names)
            return
        self._pending.update(dict.fromkeys(names))

    def _fail(self, msg: Any) -> bool:
        if isinstance(msg, Said):
            self.error.emit(msg)  # (one line; the window says it in its language)
        else:
            self.error.emit(str(msg).splitlines()[0] if str(msg) else "invalid input")
        return False

    # ------------------------------------------------------------------ problem
    @property
    def is_data(self) -> bool:
        """True on data problems (regression, fit): real mini-batches, counters, epochs."""
        return self.kind in ("regression", "fit", "classify")

    @property
    def sliced(self) -> bool:
        """True where the map is a slice through the reference run (fit, classify)."""
        return self.kind in ("fit", "classify")

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
        """Install an already built landscape."""
        self._set_landscape(landscape, starts or [default_start(landscape)])

    def _set_landscape(self, land: Landscape, starts: list[tuple[float, float]]) -> None:
        with self._changes():
            if self.is_data:
                self.batch_size = 1  # on a surface the batch size scales the gradient noise
            self.kind = "surface" if land.sid >= 0 else "expr"
            self.data = None
            self._problems = {}
            self.landscape = self.problem = land
            self._install(starts)

    def _install(self, starts) -> None:
        self.view = None
        self.lrfind = self.tuned = None
        self.starts = [tuple(float(v) for v in s) for s in starts]
        if self.selected >= self.n_runs:
            self.selected = -1
        self._restart()
        self._emit("problem_changed", "runs_changed", "settings_changed", "stepped")

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
        with self._changes():
            self.kind, self.data, self.batch_size = "regression", data, bs
            self._problems = {bs: problem}
            self.problem = self.landscape = problem
            if starts is None:
                starts = self.starts if was else [default_start(problem)]
            self._install(starts)
        return True

    def _fit_problem(self, data: FitData, batch_size: int | None, start, linked, seed: int,
                     keep: bool = True):
        """Build and check a fit (nothing is changed): (problem, batch, start, linked).
        ``keep``: what is not given follows the current fit when the model is the same."""
        was = keep and self.kind == "fit"
        ds_n = data.dataset().n_train
        bs = batch_size if batch_size is not None else (self.batch_size if was else ds_n)
        bs = max(1, min(int(bs), ds_n))
        problem = data.build(bs, seed, self._fast)
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
        return problem, bs, start, (i, j)

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
        try:
            problem, bs, start, linked = self._fit_problem(data, batch_size, start, linked,
                                                           self.seed)
        except ValueError as exc:
            return self._fail(exc)
        with self._changes():
            self.kind, self.data, self.batch_size = "fit", data, bs
            self._problems = {bs: problem}
            self.problem = problem
            self.linked = linked
            if self.neuron >= _hidden_units(data):
                self.neuron = -1
            self.landscape = self._make_slice(start)
            self._install([tuple(start)])
        return True

    def _classify_problem(self, data: ClassifyData, batch_size: int | None, start, linked,
                          seed: int, keep: bool = True):
        """Build and check a classification (nothing is changed): (problem, batch, start,
        linked). ``keep``: what is not given follows the current one when the network keeps
        its shape."""
        was = keep and self.kind == "classify"
        problem = data.build(None, seed, self._fast)
        n = problem.x.shape[0]
        bs = batch_size if batch_size is not None else (self.batch_size if was else n)
        bs = max(1, min(int(bs), n))
        if bs != n:
            problem = data.build(bs, seed, self._fast)
        p = problem.n_params
        same = was and self.data.model == data.model
        if start is not None:
            start = problem.model.check_params(start, "start parameters")
        elif same:
            start = np.asarray(self.starts[0], dtype=np.float64)
        else:
            start = data.init_params()
        if linked is None:
            linked = self.linked if same else problem.model.default_linked()
        i, j = (int(v) for v in linked)
        if not (0 <= i < p and 0 <= j < p) or i == j:
            raise ValueError(f"choose two different parameters of {p} to show")
        return problem, bs, start, (i, j)

    def set_classify(self, data: ClassifyData | None = None, *, batch_size: int | None = None,
                     start=None, linked: tuple[int, int] | None = None) -> bool:
        """Switch to (or update) classification on the plane: ``data`` says the points and
        the network. Starts, batch size and linked parameters as :meth:`set_fit`; the map
        is the loss over the two ``linked`` parameters (:class:`ClassifySlice`)."""
        data = ClassifyData() if data is None else data
        if not isinstance(data, ClassifyData):
            return self._fail("set_classify needs ClassifyData")
        try:
            problem, bs, start, linked = self._classify_problem(data, batch_size, start,
                                                                linked, self.seed)
        except ValueError as exc:
            return self._fail(exc)
        with self._changes():
            self.kind, self.data, self.batch_size = "classify", data, bs
            self._problems = {bs: problem}
            self.problem = problem
            self.linked = linked
            if self.neuron >= _hidden_units(data):
                self.neuron = -1
            self.landscape = self._make_slice(start)
            self._install([tuple(start)])
        return True

    def set_neuron(self, k: int) -> bool:
        """Highlight hidden neuron ``k`` of a network fit or classifier (0-based, layer
        after layer) in the network picture and the fit panel (a fit: its contribution) or
        the plane's thumbnails (a classifier); -1 clears it."""
        try:
            n = _hidden_units(self.data) if self.kind in ("fit", "classify") else 0
            k = _integer(k, "neuron", -1, n - 1)
        except ValueError as exc:
            return self._fail(exc)
        with self._changes():
            self.neuron = k
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
        if self.kind == "classify":
            return self.set_classify(data)
        return self.set_fit(data) if self.kind == "fit" else self.set_regression(data)

    def _make_slice(self, around) -> FitSlice:
        i, j = self.linked
        if self.kind == "classify":
            return ClassifySlice(self.problem, i, j, self._slice_reference,
                                 view=ClassifySlice.view_around(around, i, j))
        return FitSlice(self.problem, i, j, self._slice_reference,
                        view=FitSlice.view_around(around, i, j))

    def set_linked(self, i: int, j: int) -> bool:
        """Show the fit's loss over parameters ``i`` and ``j`` (indices or names) on the map."""
        if not self.sliced:
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
        with self._changes():
            self.linked = (i, j)
            self.landscape = self._make_slice(self._slice_reference())
            self._emit("problem_changed", "runs_changed", "stepped")
        return True

    # ------------------------------------------------------------------ lr finder
    def set_lrfind(self, result) -> bool:
        """The lr finder's last sweep (a gdviz.core.lrfind.LrFindResult, or None to clear)."""
        from gdviz.core.lrfind import LrFindResult

        if result is not None and not isinstance(result, LrFindResult):
            return self._fail("set_lrfind needs an LrFindResult")
        with self._changes():
            self.lrfind = result
        return True

    def set_tuned(self, result) -> bool:
        """The fair race's last tuning (a gdviz.core.lrfind.TuneResult, or None to clear)."""
        from gdviz.core.lrfind import TuneResult

        if result is not None and not isinstance(result, TuneResult):
            return self._fail("set_tuned needs a TuneResult")
        with self._changes():
            self.tuned = result
        return True

    # ------------------------------------------------------------------ view state
    def set_view_options(self, *, box: Any = ..., batch_surface: bool | None = None,
                         show_units: bool | None = None, heatmap: bool | None = None,
                         levels: int | None = None, scale: str | None = None,
                         theme: str | None = None, panels: Any = None) -> bool:
        """What the map and the panels show; every argument left out keeps its value.

        ``box`` (x0, x1, y0, y1; None = the problem's own view), ``batch_surface`` (the
        map also draws the current mini-batch's surface), ``show_units`` (the fit panel
        draws each unit), ``heatmap``, ``levels`` (contour lines, 2..200), ``scale``
        ("auto", "log", "linear"), ``theme`` ("light", "dark") and ``panels`` (names from
        :data:`PANEL_NAMES`). All are validated first: one bad value changes nothing.
        Emits each changed field's event and ``settings_changed`` once (``problem_changed``
        too for a new box).
        """
        new: dict[str, Any] = {}
        try:
            if box is not ...:
                new["view"] = check_box(box)
            for name, value in (("batch_surface", batch_surface), ("show_units", show_units),
                                ("heatmap", heatmap)):
                if value is not None:
                    new[name] = bool(value)
            if levels is not None:
                new["levels"] = check_levels(levels)
            if scale is not None:
                new["scale"] = check_scale(scale)
            if theme is not None:
                new["theme"] = check_theme(theme)
            if panels is not None:
                new["panels"] = check_panels(panels)
        except ValueError as exc:
            return self._fail(exc)
        with self._changes():
            for name, value in new.items():
                setattr(self, name, value)
        return True

    def set_view3d(self, *, map_mode: str | None = None, log_height: bool | None = None,
                   camera: Any = ...) -> bool:
        """The 3-D view's state (see :mod:`gdviz.core.view3d`): ``map_mode`` ("2d", "3d",
        "both"), ``log_height`` (the surface's height is log10 of the loss above its
        minimum) and ``camera`` ((azimuth, elevation, distance), None = the default).
        Every argument left out keeps its value; one bad value changes nothing."""
        new: dict[str, Any] = {}
        try:
            if map_mode is not None:
                new["map_mode"] = check_map_mode(map_mode)
            if log_height is not None:
                new["log_height"] = bool(log_height)
            if camera is not ...:
                new["camera"] = check_camera(camera)
        except ValueError as exc:
            return self._fail(exc)
        with self._changes():
            for name, value in new.items():
                setattr(self, name, value)
        return True

    def set_map_options(self, *, map_layer: str | None = None, hyper_axis: str | None = None,
                        hyper_color: str | None = None) -> bool:
        """The basin map mode ("off", "basins", "steps"), the hyper panel's y axis ("off",
        "momentum", "beta1", "beta2", "batch_size") and its colour ("loss", "steps").
        All are validated first: one bad value changes nothing."""
        new: dict[str, Any] = {}
        try:
            if map_layer is not None:
                new["map_layer"] = check_map_layer(map_layer)
            if hyper_axis is not None:
                new["hyper_axis"] = check_hyper_axis(hyper_axis)
            if hyper_color is not None:
                new["hyper_color"] = check_hyper_color(hyper_color)
        except ValueError as exc:
            return self._fail(exc)
        with self._changes():
            for name, value in new.items():
                setattr(self, name, value)
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
        if not abs(value) <= MAX_COORD:
            return self._fail(f"{names[int(k)]} must be finite, within +-{MAX_COORD:g}, "
                              f"got {value}")
        p = self.params_now()
        if not np.isfinite(p).all():
            p = np.asarray(self.starts[0], dtype=np.float64)
        p[int(k)] = value
        with self._changes():
            self.pause()
            if self.sliced:
                self._set_starts([tuple(p)])
            else:
                self._set_starts([tuple(p)] + self.starts[1:])
        return True

    # ------------------------------------------------------------------ starts
    def _check_point(self, x: float, y: float) -> bool:
        return abs(x) <= MAX_COORD and abs(y) <= MAX_COORD  # False for NaN too

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
            return self._fail(f"start must be finite, within +-{MAX_COORD:g}, got ({x}, {y})")
        self._set_starts([self._full_point(x, y)])
        return True

    def add_start(self, x: float, y: float) -> bool:
        """Add a start: every run also races from (x, y); the race restarts."""
        x, y = float(x), float(y)
        if not self._check_point(x, y):
            return self._fail(f"start must be finite, within +-{MAX_COORD:g}, got ({x}, {y})")
        if self.sliced:
            return self._fail(Said("fit_one_start"))
        too_many = runs_limit_message(len(self.starts) + 1, self.n_specs)
        if too_many:
            return self._fail(too_many)
        self._set_starts(self.starts + [(x, y)])
        return True

    def move_start(self, k: int, x: float, y: float) -> bool:
        """Move start ``k`` to (x, y) on the map (dragging a start marker); the race restarts."""
        x, y = float(x), float(y)
        if not 0 <= k < len(self.starts):
            return self._fail(f"no start {k}")
        if not self._check_point(x, y):
            return self._fail(f"start must be finite, within +-{MAX_COORD:g}, got ({x}, {y})")
        starts = list(self.starts)
        starts[k] = self._full_point(x, y, base=starts[k])
        self._set_starts(starts)
        return True

    def remove_start(self, k: int) -> bool:
        """Remove start ``k`` (the last one stays)."""
        if not 0 <= k < len(self.starts) or len(self.starts) == 1:
            return self._fail(Said("keep_one_start"))
        self._set_starts([s for j, s in enumerate(self.starts) if j != k])
        return True

    def _set_starts(self, starts: list[tuple[float, ...]]) -> None:
        with self._changes():
            self.starts = [tuple(float(v) for v in s) for s in starts]
            self._restart()
            if self.selected >= self.n_runs:
                self.selected = -1
            self._emit("runs_changed", "stepped")

    # ------------------------------------------------------------------ settings
    def set_noise(self, noise: float) -> bool:
        """Gradient noise std at batch size 1 (live, from the current step)."""
        try:
            noise = check_noise(noise)
        except ValueError as exc:
            return self._fail(exc)
        if noise != self.noise:
            with self._changes():
                self.noise = noise
                self._log("noise", (self.noise, self.batch_size))
        return True

    def set_batch_size(self, n: int) -> bool:
        """Mini-batch size (live, from the current step). On surfaces the gradient noise std
        is noise/sqrt(n); on data problems each update uses n real points (1..n_train)."""
        try:
            n_int = check_batch_size(n, self.n_train if self.is_data else None)
        except ValueError as exc:
            return self._fail(exc)
        if n_int != self.batch_size:
            with self._changes():
                self.batch_size = n_int
                self._log("noise", (self.noise, self.batch_size))
                self._emit("stepped")  # the counters (batches per epoch) change
        return True

    def set_seed(self, n: int) -> bool:
        """Seed of the gradient noise; a new seed is a new experiment, so the race restarts."""
        try:
            n_int = check_seed(n)
        except ValueError as exc:
            return self._fail(exc)
        if n_int != self.seed:
            with self._changes():
                self.seed = n_int
                if self.is_data:  # the mini-batch order is seeded too
                    self._problems = {}
                    self.problem = self._problem_for(self.batch_size)
                    if self.kind == "regression":
                        self.landscape = self.problem
                    else:
                        self.landscape = self._make_slice(self.starts[0])
                self._restart()
                self._emit("stepped")
        return True

    def set_speed(self, sps: float) -> bool:
        """Playback speed in steps per second (> 0)."""
        try:
            sps = check_speed(sps)
        except ValueError as exc:
            return self._fail(exc)
        if sps != self.speed:
            with self._keeping_replay(), self._changes():
                self.speed = sps
        return True

    def set_max_steps(self, n: int) -> bool:
        """Where playback stops. The engine is re-played to min(t, n) (schedules span n)."""
        try:
            n_int = check_max_steps(n)
        except ValueError as exc:
            return self._fail(exc)
        if n_int == self.max_steps:
            return True
        with self._changes():
            self.max_steps = n_int
            to = min(self.t, n_int)
            self._events = [e for e in self._events if e[0] <= to]
            self._build(to, background=True)
            if self.playing and self.t >= self.max_steps:
                self._set_playing(False)
            self._emit("settings_changed", "stepped")
        return True

    # ------------------------------------------------------------------ snapshot
    def snapshot(self) -> SessionState:
        """The session's fields as a :class:`SessionState` (what :meth:`restore` takes)."""
        return SessionState(
            kind=self.kind, landscape=None if self.is_data else self.landscape,
            data=self.data, specs=tuple(self.specs), colors=tuple(self.colors),
            starts=tuple(tuple(s) for s in self.starts), seed=self.seed, noise=self.noise,
            batch_size=self.batch_size, max_steps=self.max_steps, speed=self.speed,
            same_lr=self.same_lr, shared_lr=self.shared_lr, selected=self.selected,
            view=self.view, batch_surface=self.batch_surface, show_units=self.show_units,
            linked=self.linked, heatmap=self.heatmap, levels=self.levels, scale=self.scale,
            theme=self.theme, panels=self.panels, map_mode=self.map_mode,
            log_height=self.log_height, camera=self.camera, map_layer=self.map_layer,
            hyper_axis=self.hyper_axis, hyper_color=self.hyper_color, neuron=self.neuron)

    def restore(self, state: SessionState) -> None:
        """Put ``state`` in, as one change: the race restarts paused at step 0 with one
        engine build, and views get one of each coarse signal.

        Everything is checked (and the problem built) first; an invalid state raises
        ValueError and leaves the session as it was.
        """
        s = state
        kind = _choice(s.kind, "problem kind",
                       ("surface", "expr", "regression", "fit", "classify"))
        specs = list(s.specs)
        if not specs or not all(isinstance(x, RunSpec) for x in specs):
            raise ValueError("a session needs at least one run (RunSpec)")
        colors = list(s.colors) if s.colors is not None else palette_colors(len(specs))
        while len(colors) < len(specs):
            colors.append(free_color(colors))
        del colors[len(specs):]
        seed = check_seed(s.seed)
        fields = dict(
            seed=seed, noise=check_noise(s.noise), max_steps=check_max_steps(s.max_steps),
            speed=check_speed(s.speed), same_lr=bool(s.same_lr),
            shared_lr=check_lr(s.shared_lr if s.shared_lr is not None else specs[0].config.lr),
            view=check_box(s.view), batch_surface=bool(s.batch_surface),
            show_units=bool(s.show_units), heatmap=bool(s.heatmap),
            levels=check_levels(s.levels), scale=check_scale(s.scale),
            theme=check_theme(s.theme), panels=check_panels(s.panels),
            map_mode=check_map_mode(s.map_mode), log_height=bool(s.log_height),
            camera=check_camera(s.camera),
            map_layer=check_map_layer(s.map_layer), hyper_axis=check_hyper_axis(s.hyper_axis),
            hyper_color=check_hyper_color(s.hyper_color),
            specs=specs, colors=colors, kind=kind, playing=False, lrfind=None, tuned=None)
        starts = [tuple(float(v) for v in p) for p in s.starts]
        if not starts or not all(abs(v) <= MAX_COORD for p in starts for v in p):
            raise ValueError(f"starts must be finite points within +-{MAX_COORD:g} "
                             "(at least one)")
        problems: dict[int, Any] = {}
        if kind in ("surface", "expr"):
            if not isinstance(s.landscape, Landscape):
                raise ValueError(f"a {kind} problem needs a Landscape")
            if any(len(p) != 2 for p in starts):
                raise ValueError("starts on a surface are (x, y) points")
            fields.update(landscape=s.landscape, problem=s.landscape, data=None,
                          batch_size=check_batch_size(s.batch_size), linked=(0, 1))
        elif kind == "regression":
            if not isinstance(s.data, RegressionData):
                raise ValueError("a regression problem needs RegressionData")
            bs = max(1, min(check_batch_size(s.batch_size), s.data.n_points))
            problems[bs] = problem = s.data.build(bs, seed, self._fast)
            fields.update(landscape=problem, problem=problem, data=s.data, batch_size=bs,
                          linked=(0, 1))
        elif kind == "classify":
            if not isinstance(s.data, ClassifyData):
                raise ValueError("a classification needs ClassifyData")
            problem, bs, start, linked = self._classify_problem(
                s.data, check_batch_size(s.batch_size, 10**12), starts[0], s.linked, seed,
                keep=False)
            problems[bs] = problem
            starts = [tuple(float(v) for v in start)]
            fields.update(problem=problem, data=s.data, batch_size=bs, linked=linked)
        else:
            if not isinstance(s.data, FitData):
                raise ValueError("a fit needs FitData")
            problem, bs, start, linked = self._fit_problem(
                s.data, check_batch_size(s.batch_size, 10**12), starts[0], s.linked, seed,
                keep=False)
            problems[bs] = problem
            starts = [tuple(float(v) for v in start)]
            fields.update(problem=problem, data=s.data, batch_size=bs, linked=linked)
        n_runs = len(starts) * len(specs)
        too_many = runs_limit_message(len(starts), len(specs))
        if too_many:
            raise ValueError(too_many)
        selected = _integer(s.selected, "selected run", -1, n_runs - 1)
        fields.update(starts=starts, selected=selected)
        # a neuron the model does not have (a scene's, after its model changed) is none
        n_hidden = _hidden_units(s.data) if kind in ("fit", "classify") else 0
        neuron = _integer(s.neuron, "neuron", -1)
        fields.update(neuron=neuron if neuron < n_hidden else -1)

        old = dict(self.__dict__)
        with self._changes():
            try:
                self.__dict__.update(fields)
                self._problems = problems
                if kind in ("fit", "classify"):
                    self.landscape = self._make_slice(starts[0])
                self._restart()
            except BaseException:
                self.__dict__.clear()
                self.__dict__.update(old)
                raise
            self._emit(*_COARSE_ORDER[:-2], "stepped")


def _hidden_units(data) -> int:
    """Hidden neurons of a network fit's or a classifier's model (0 for the other models
    and problems)."""
    if isinstance(data, ClassifyData):
        return int(data.units) * int(data.layers)
    if not isinstance(data, FitData) or data.model != "network":
        return 0
    return int(data.units) * int(data.layers)


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (ValueError, TypeError):  # arrays and the like: compare by identity
        return a is b
