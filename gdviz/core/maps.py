"""Basin maps and hyperparameter maps (Qt-free).

A **basin map** runs the selected run's optimizer from every pixel of a view box and
colours each pixel by the minimum its run ends in (one colour per basin), or by the steps
it needed to converge. A **hyperparameter map** runs it from the selected run's start
over a grid of two hyperparameters (lr x momentum, lr x beta1, lr x beta2, lr x batch
size) and colours each cell by its final loss or its steps to a tolerance.

Both are one batched call of :func:`gdviz.kernels.maps.map_landscape` (numba once the
kernels are compiled, the numpy twin before). No (runs x steps) history is kept.

Noise: every pixel uses the noise stream of the selected run (``noise_run``, its index in
the race), so a pixel equals the selected run from that start or setting, bit for bit,
noise included (see :mod:`gdviz.kernels.maps`).

Basins: end points are matched to the surface's known minima (global and local) within a
radius; the remaining converged end points are clustered (greedy, radius-based). A
:class:`BasinBook` keeps every basin it has ever seen with a fixed colour index, so colours
stay put across refinements and slider moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

import gdviz.kernels as kernels
from gdviz.core.limits import MAP_MAX_CELLS, MAP_MAX_GRID, MAP_MAX_STEPS
from gdviz.core.optimizers import OptimizerConfig
from gdviz.core.schedules import Schedule, check_total
from gdviz.kernels import maps as KM
from gdviz.kernels import optim as KO

#: the map kinds: basin colours, steps to converge (basin maps); final loss, steps (hyper)
BASIN_KINDS = ("basins", "steps")
HYPER_KINDS = ("loss", "steps")
#: the hyperparameter pairs a hyper map sweeps (x axis is always lr)
HYPER_AXES = ("momentum", "beta1", "beta2", "batch_size")
#: which optimizers each y axis applies to
HYPER_TAKERS = {"momentum": ("momentum", "nesterov", "rmsprop"),
                "beta1": ("adam", "adamw"), "beta2": ("adam", "adamw"),
                "batch_size": None}  # None: every optimizer
#: default ranges of the axes: (lo, hi, log)
HYPER_RANGES = {"lr": (1e-4, 1.0, True), "momentum": (0.0, 0.99, False),
                "beta1": (0.0, 0.99, False), "beta2": (0.9, 0.9999, False),
                "batch_size": (1.0, 256.0, True)}
#: basin hues, one per basin index (cycling); the window blends them with its background
BASIN_HUES = ("#4C9BE8", "#F28E2B", "#59A14F", "#E15759", "#B07AA1", "#EDC948",
              "#76B7B2", "#FF9DA7", "#9C755F", "#8CD17D", "#499894", "#D37295")
#: diverged cells and cells still moving at the end of the budget
DIVERGED_HEX = "#c00000"
MOVING_HEX = "#9a9a9a"
#: default convergence tolerance (gradient norm and step length)
DEFAULT_TOL = 1e-6
#: first pass of a live map, then refined by doubling to the full grid. It is what "the
#: live coarse map fits in one frame beside the race" means: 32² starts x 300 Adam steps
#: is ~8 ms of one core (a quarter of 64²'s ~25 ms, which needs both cores of an idle
#: machine to fit a 16.7 ms frame, and the race has one of them); 64² follows it
COARSE_GRID = 32


@dataclass
class MapResult:
    """Per cell (row-major, ``ny`` rows of ``nx``): end float64 (n, 2), end_loss (n,),
    conv_at int64 (n,) (-1: not converged), diverged_at int64 (n,) (-1: alive)."""

    nx: int
    ny: int
    end: np.ndarray
    end_loss: np.ndarray
    conv_at: np.ndarray
    diverged_at: np.ndarray

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0

    def grid(self, a: np.ndarray) -> np.ndarray:
        """A per-cell array as (ny, nx) (row 0 = lowest y / first y value)."""
        return np.asarray(a).reshape(self.ny, self.nx)


def check_grid(n, what: str = "grid") -> int:
    """A map's side: an integer in 2..MAP_MAX_GRID."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= MAP_MAX_GRID:
        raise ValueError(f"Invalid {what}: {n!r} (must be an integer in 2..{MAP_MAX_GRID})")
    return int(n)


def check_steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) \
            or not 1 <= steps <= MAP_MAX_STEPS:
        raise ValueError(f"Invalid map steps: {steps!r} (must be an integer in "
                         f"1..{MAP_MAX_STEPS})")
    return int(steps)


def check_tol(tol) -> float:
    try:
        v = float(tol)
    except (TypeError, ValueError):
        raise ValueError(f"Invalid tolerance: {tol!r} (must be a number > 0)") from None
    if not (v > 0 and math.isfinite(v)):
        raise ValueError(f"Invalid tolerance: {tol!r} (must be a finite number > 0)")
    return v


def pixel_centres(view, nx: int, ny: int) -> np.ndarray:
    """Starts at the centres of an nx x ny grid of pixels over ``view`` (x0, x1, y0, y1):
    float64 (nx*ny, 2), row-major from the bottom-left."""
    x0, x1, y0, y1 = (float(v) for v in view)
    xs = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    ys = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
    X, Y = np.meshgrid(xs, ys)
    return np.ascontiguousarray(np.column_stack([X.ravel(), Y.ravel()]))


def _bound(landscape) -> float:
    x0, x1, y0, y1 = landscape.view
    return 1e3 * max(x1 - x0, y1 - y0)  # as RunSet's default


#: steps per kernel call of a data map (its mini-batch indices are made per call)
STEPS_PER_CALL = 256


def _use_fast(fast) -> bool:
    return kernels.is_ready() if fast is None else bool(fast)


def run_cells(landscape, kind, hyper, sched_kind, sched_params, starts, *, total: int,
              steps: int, noise_std, noise_run: int = 0, seed: int = 0,
              tol: float = DEFAULT_TOL, bound: float | None = None,
              fast: bool | None = None) -> MapResult:
    """The batched call: one run per row of the packed arrays (broadcast to ``starts``)."""
    starts = np.ascontiguousarray(starts, dtype=np.float64)
    n = starts.shape[0]
    if n > MAP_MAX_CELLS:
        raise ValueError(f"map has {n} cells; at most {MAP_MAX_CELLS}")
    # owned, writable, contiguous copies whatever was passed (a full-size array broadcast
    # stays a read-only view, which numba types, and compiles, apart from the warmed one)
    kind = np.array(np.broadcast_to(np.asarray(kind, dtype=np.int64), (n,)), order="C")
    hyper = np.array(np.broadcast_to(hyper, (n, KM.N_HYPER)), dtype=np.float64, order="C")
    sk = np.array(np.broadcast_to(np.asarray(sched_kind, dtype=np.int64), (n,)), order="C")
    sp = np.array(np.broadcast_to(sched_params, (n, KM.N_SCHED)), dtype=np.float64, order="C")
    ns = np.array(np.broadcast_to(np.asarray(noise_std, dtype=np.float64), (n,)), order="C")
    end = np.empty((n, 2))
    loss = np.empty(n)
    conv = np.empty(n, dtype=np.int64)
    div = np.empty(n, dtype=np.int64)
    fn = KM.map_landscape if _use_fast(fast) else KM.map_landscape_np
    fn(landscape.sid, landscape.code, landscape.consts, kind, hyper, sk, sp, int(total),
       int(steps), ns, int(noise_run), int(seed), float(_bound(landscape) if bound is None
                                                         else bound),
       float(tol), starts, end, loss, conv, div)
    return MapResult(0, 0, end, loss, conv, div)


@dataclass(frozen=True)
class MapSetup:
    """What a map is computed for: the selected run's optimizer, schedule and budget."""

    config: OptimizerConfig
    schedule: Schedule = Schedule()
    steps: int = 200
    total: int | None = None  # the schedule's length (default: steps)
    noise: float = 0.0
    batch_size: int = 1
    seed: int = 0
    noise_run: int = 0
    tol: float = DEFAULT_TOL

    def __post_init__(self):
        check_steps(self.steps)
        check_tol(self.tol)
        if self.total is not None:
            check_total(self.total)

    @property
    def schedule_total(self) -> int:
        return int(self.total if self.total is not None else self.steps)

    @property
    def noise_std(self) -> float:
        return self.noise / math.sqrt(self.batch_size)


def basin_map(landscape, setup: MapSetup, view=None, nx: int = 64, ny: int | None = None,
              fast: bool | None = None) -> MapResult:
    """Every pixel centre of ``view`` (default: the landscape's) as a start."""
    nx = check_grid(nx)
    ny = check_grid(nx if ny is None else ny)
    starts = pixel_centres(landscape.view if view is None else view, nx, ny)
    kind, hyper = setup.config.pack()
    sk, sp = setup.schedule.pack()
    r = run_cells(landscape, kind, hyper, sk, sp, starts, total=setup.schedule_total,
                  steps=setup.steps, noise_std=setup.noise_std, noise_run=setup.noise_run,
                  seed=setup.seed, tol=setup.tol, fast=fast)
    r.nx, r.ny = nx, ny
    return r


def run_cells_problem(problem, kind, hyper, sched_kind, sched_params, starts, *, total: int,
                      steps: int, dims=(0, 1), tol: float = DEFAULT_TOL, bound: float = 1e6,
                      fast: bool | None = None, cancelled=None) -> MapResult:
    """The batched call on a data problem (regression L(w, b), a fit, a classifier): one
    run per row of ``starts`` float64 (n, n_params), stepped exactly as
    :class:`~gdviz.core.engine.RunSet` steps a data problem (the problem's gradient at
    mini-batch t - 1, then the optimizer update, then the full loss), without keeping
    history: by the engine's own stepper (:func:`gdviz.core.engine.data_stepper`): its fused
    kernels (:func:`gdviz.kernels.datastep.advance_data`, ``advance_net``) take all the
    steps without the GIL (a map stepped from Python held it most of the time, and the
    window waited for it at every call into Qt); ``fast`` False (the kernels not compiled
    yet): the generic numpy path, as the engine's. The result's ``end`` is the two parameters
    ``dims`` of each run's end point; converged at step t: the mini-batch gradient and the
    step are both <= tol in norm. ``cancelled()`` is asked every :data:`STEPS_PER_CALL`
    steps: when True the map stops there and its result is a part (a worker with a newer
    setting drops it; a 4,096-cell map of a 30-unit fit takes tens of seconds)."""
    from gdviz.core.engine import data_stepper

    P = np.array(starts, dtype=np.float64)
    n, p = P.shape
    if n > MAP_MAX_CELLS:
        raise ValueError(f"map has {n} cells; at most {MAP_MAX_CELLS}")
    # owned, writable copies, as the engine's (a broadcast view is read-only: numba types
    # it, and compiled it on a map's first run, apart from the warmed kernel)
    kind = np.array(np.broadcast_to(np.asarray(kind, dtype=np.int64), (n,)), order="C")
    hyper = np.array(np.broadcast_to(hyper, (n, KM.N_HYPER)), dtype=np.float64, order="C")
    sk = np.array(np.broadcast_to(np.asarray(sched_kind, dtype=np.int64), (n,)), order="C")
    sp = np.array(np.broadcast_to(sched_params, (n, KM.N_SCHED)), dtype=np.float64, order="C")
    state = np.zeros((n, KO.N_SLOTS, p))
    ada = kind == KO.ADAGRAD
    state[ada, 0, :] = hyper[ada, KO.H_INITIAL_ACCUMULATOR_VALUE][:, None]
    opt_t = np.zeros(n, dtype=np.int64)
    with np.errstate(all="ignore"):
        F = np.array(problem.loss(P.copy()), dtype=np.float64).reshape(n)
    div = np.where(np.isfinite(F), -1, 0).astype(np.int64)
    conv = np.full(n, -1, dtype=np.int64)
    step = data_stepper(problem, _use_fast(fast))
    tail = (np.zeros((n, p)), div, False, 1, np.empty((n, 0, p)), np.empty((n, 0)),
            np.zeros((n, p)), np.zeros((n, p)), np.zeros((n, p)), np.zeros(n),
            np.zeros((n, p + 1)))
    t0, steps = 0, int(steps)
    while t0 < steps:
        k = min(steps - t0, STEPS_PER_CALL)
        with np.errstate(all="ignore"):
            step((kind, hyper, sk, sp, int(total), t0, k, float(bound), P, state, opt_t, F,
                  *tail), conv_at=conv, tol=tol)
        t0 += k
        if (div >= 0).all() or (cancelled is not None and cancelled()):
            break
    i, j = dims
    return MapResult(0, 0, np.ascontiguousarray(P[:, [i, j]]), F, conv, div)


def basin_map_problem(problem, setup: MapSetup, base, view, nx: int = 64,
                      ny: int | None = None, dims=(0, 1), fast: bool | None = None
                      ) -> MapResult:
    """A basin map of a data problem: every pixel centre of ``view`` as the two parameters
    ``dims`` of a start, the others at ``base`` (a fit's start vector)."""
    nx = check_grid(nx)
    ny = check_grid(nx if ny is None else ny)
    cells = pixel_centres(view, nx, ny)
    starts = np.repeat(np.asarray(base, dtype=np.float64).reshape(1, -1), nx * ny, axis=0)
    starts[:, dims[0]] = cells[:, 0]
    starts[:, dims[1]] = cells[:, 1]
    kind, hyper = setup.config.pack()
    sk, sp = setup.schedule.pack()
    r = run_cells_problem(problem, kind, hyper, sk, sp, starts, total=setup.schedule_total,
                          steps=setup.steps, dims=dims, tol=setup.tol, fast=fast)
    r.nx, r.ny = nx, ny
    return r


def axis_values(name: str, n: int, lo: float | None = None, hi: float | None = None
                ) -> np.ndarray:
    """``n`` values of hyperparameter ``name`` from lo to hi (log-spaced for lr and batch
    size; batch sizes rounded to distinct integers where the range allows)."""
    if name not in HYPER_RANGES:
        raise ValueError(f"unknown map axis '{name}' (choose from lr, {', '.join(HYPER_AXES)})")
    dlo, dhi, log = HYPER_RANGES[name]
    lo = dlo if lo is None else float(lo)
    hi = dhi if hi is None else float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"Invalid {name} range: {lo:g}..{hi:g} (need finite lo < hi)")
    if log and lo <= 0:
        raise ValueError(f"Invalid {name} range: {lo:g}..{hi:g} (a log axis needs lo > 0)")
    if name in ("momentum", "beta1", "beta2") and not (lo >= 0 and hi < 1):
        raise ValueError(f"Invalid {name} range: {lo:g}..{hi:g} (must lie in [0, 1))")
    if name == "batch_size" and lo < 1:
        raise ValueError(f"Invalid batch_size range: {lo:g}..{hi:g} (must be >= 1)")
    v = np.geomspace(lo, hi, n) if log else np.linspace(lo, hi, n)
    if name == "batch_size":
        v = np.round(v)
    return v


def hyper_map(landscape, setup: MapSetup, start, y_axis: str = "momentum", nx: int = 64,
              ny: int | None = None, lr_range=(None, None), y_range=(None, None),
              fast: bool | None = None) -> tuple[MapResult, np.ndarray, np.ndarray]:
    """The selected run from ``start`` over lr (x) x ``y_axis`` (y).

    Returns (result, lr values (nx,), y values (ny,)); cell (i, j) is row i (y value i),
    column j (lr value j). A momentum axis on plain SGD runs it as Momentum (torch's SGD
    with that momentum); on Adam it is refused (use beta1).
    """
    nx = check_grid(nx)
    ny = check_grid(nx if ny is None else ny)
    if y_axis not in HYPER_AXES:
        raise ValueError(f"unknown map axis '{y_axis}' (choose from {', '.join(HYPER_AXES)})")
    takers = HYPER_TAKERS[y_axis]
    cfg = setup.config
    if takers is not None and cfg.name not in takers and not (
            y_axis == "momentum" and cfg.name == "sgd"):
        raise ValueError(f"{cfg.name} has no {y_axis} (a {y_axis} axis needs one of "
                         f"{', '.join(takers)})")
    lrs = axis_values("lr", nx, *lr_range)
    ys = axis_values(y_axis, ny, *y_range)
    kind, base = cfg.pack()
    hyper = np.broadcast_to(base, (ny, nx, KM.N_HYPER)).copy()
    hyper[:, :, KO.H_LR] = lrs[None, :]
    noise_std = np.full((ny, nx), setup.noise_std)
    col = {"momentum": KO.H_MOMENTUM, "beta1": KO.H_BETA1, "beta2": KO.H_BETA2}
    if y_axis in col:
        hyper[:, :, col[y_axis]] = ys[:, None]
    else:
        noise_std[...] = setup.noise / np.sqrt(ys)[:, None]
    sk, sp = setup.schedule.pack()
    starts = np.broadcast_to(np.asarray(start, dtype=np.float64).reshape(1, 2), (nx * ny, 2))
    r = run_cells(landscape, kind, hyper.reshape(-1, KM.N_HYPER), sk, sp, starts,
                  total=setup.schedule_total, steps=setup.steps, noise_std=noise_std.ravel(),
                  noise_run=setup.noise_run, seed=setup.seed, tol=setup.tol, fast=fast)
    r.nx, r.ny = nx, ny
    return r, lrs, ys


def hyper_map_problem(problem_for, setup: MapSetup, base, y_axis: str = "momentum",
                      nx: int = 32, ny: int | None = None, lr_range=(None, None),
                      y_range=(None, None), n_train: int | None = None,
                      fast: bool | None = None, cancelled=None
                      ) -> tuple[MapResult, np.ndarray, np.ndarray]:
    """:func:`hyper_map` on a data problem: ``problem_for(batch_size)`` is the engine's
    problem with that mini-batch size (one call per batch-size row; lr, momentum and the
    betas vary within one call). ``base`` is the run's full start vector; batch sizes are
    clipped to ``n_train``. ``end`` holds the first two parameters. ``cancelled``: as
    :func:`run_cells_problem`'s."""
    nx = check_grid(nx)
    ny = check_grid(nx if ny is None else ny)
    if y_axis not in HYPER_AXES:
        raise ValueError(f"unknown map axis '{y_axis}' (choose from {', '.join(HYPER_AXES)})")
    cfg = setup.config
    takers = HYPER_TAKERS[y_axis]
    if takers is not None and cfg.name not in takers and not (
            y_axis == "momentum" and cfg.name == "sgd"):
        raise ValueError(f"{cfg.name} has no {y_axis} (a {y_axis} axis needs one of "
                         f"{', '.join(takers)})")
    lrs = axis_values("lr", nx, *lr_range)
    hi = y_range[1]
    if y_axis == "batch_size" and n_train is not None:
        hi = min(float(n_train), HYPER_RANGES["batch_size"][1] if hi is None else hi)
        if hi <= 1:
            raise ValueError("a batch-size axis needs at least 2 training points")
    ys = axis_values(y_axis, ny, y_range[0], hi)
    kind, base_h = cfg.pack()
    hyper = np.broadcast_to(base_h, (ny, nx, KM.N_HYPER)).copy()
    hyper[:, :, KO.H_LR] = lrs[None, :]
    col = {"momentum": KO.H_MOMENTUM, "beta1": KO.H_BETA1, "beta2": KO.H_BETA2}
    if y_axis in col:
        hyper[:, :, col[y_axis]] = ys[:, None]
    sk, sp = setup.schedule.pack()
    start = np.asarray(base, dtype=np.float64).reshape(1, -1)
    kw = dict(total=setup.schedule_total, steps=setup.steps, tol=setup.tol, fast=fast,
              cancelled=cancelled)
    if y_axis != "batch_size":
        r = run_cells_problem(problem_for(setup.batch_size), kind, hyper.reshape(-1, KM.N_HYPER),
                              sk, sp, np.repeat(start, nx * ny, 0), **kw)
    else:
        rows = [run_cells_problem(problem_for(int(y)), kind, hyper[i], sk, sp,
                                  np.repeat(start, nx, 0), **kw) for i, y in enumerate(ys)]
        r = MapResult(0, 0, np.concatenate([q.end for q in rows]),
                      np.concatenate([q.end_loss for q in rows]),
                      np.concatenate([q.conv_at for q in rows]),
                      np.concatenate([q.diverged_at for q in rows]))
    r.nx, r.ny = nx, ny
    return r, lrs, ys


def config_at(config: OptimizerConfig, y_axis: str, lr: float, y: float) -> tuple[
        OptimizerConfig, int | None]:
    """The config a hyper-map cell stands for, and its batch size (None: unchanged).
    SGD with a momentum > 0 becomes the Momentum preset."""
    if y_axis == "batch_size":
        return config.replace(lr=float(lr)), int(round(y))
    if y_axis == "momentum" and config.name == "sgd":
        if y > 0:
            return OptimizerConfig("momentum", lr=float(lr), momentum=float(y),
                                   weight_decay=config.weight_decay), None
        return config.replace(lr=float(lr)), None
    return config.replace(**{"lr": float(lr), y_axis: float(y)}), None


# =======================================================================================
# basins
# =======================================================================================

def _scale(view) -> float:
    x0, x1, y0, y1 = view
    return max(x1 - x0, y1 - y0)


@dataclass
class BasinBook:
    """Every basin seen so far, each with a fixed colour index.

    ``centres`` float64 (k, 2); ``known`` how many of them are the surface's minima (they
    come first, in the surface's order, so a minimum keeps its colour on every map).
    ``radius`` (in coordinates) decides whether an end point belongs to a basin.
    """

    radius: float
    centres: list = field(default_factory=list)
    known: int = 0

    @classmethod
    def for_landscape(cls, landscape, rel_radius: float = 0.02) -> BasinBook:
        pts = []
        for arr in (getattr(landscape, "minima", np.zeros((0, 2))),
                    getattr(landscape, "local_minima", np.zeros((0, 2)))):
            pts.extend(tuple(map(float, p)) for p in np.asarray(arr).reshape(-1, 2))
        book = cls(radius=rel_radius * _scale(landscape.view), centres=pts, known=len(pts))
        return book

    def assign(self, result: MapResult) -> np.ndarray:
        """Basin index per cell (int64 (n,)): an index into :attr:`centres`, -1 diverged,
        -2 alive but not settled in any basin (still moving at the end of the budget)."""
        end = result.end
        n = end.shape[0]
        lab = np.full(n, -2, dtype=np.int64)
        lab[result.diverged] = -1
        alive = np.nonzero(~result.diverged)[0]
        if alive.size == 0:
            return lab
        E = end[alive]
        todo = np.ones(alive.size, dtype=bool)
        if self.centres:
            arg = nearest_centre(E, np.asarray(self.centres, dtype=np.float64), self.radius)
            hit = arg >= 0
            lab[alive[hit]] = arg[hit]
            todo = ~hit
        # cluster the rest greedily (only runs that converged: an end point still on
        # its way is no minimum): the first unassigned end point seeds a new basin
        idx = np.nonzero(todo & (result.conv_at[alive] >= 0))[0]
        for centre, members in cluster_greedy(E[idx], self.radius,
                                              max(2, alive.size // 2000)):
            self.centres.append((float(centre[0]), float(centre[1])))
            lab[alive[idx[members]]] = len(self.centres) - 1
        return lab


class _CellGrid:
    """The points ``P`` (k, 2) by grid cell, a cell a hair wider than ``radius``: a point
    within ``radius`` of a place is in one of the 3x3 cells around the place's, rounding
    and all. Cells are numbered over ``P`` and the places of ``frame`` (arrays of points
    queried later). ``ok`` is False when some of them are too far out for exact cell
    numbers (the callers scan every point then)."""

    def __init__(self, P: np.ndarray, radius: float, frame: tuple = ()):
        self.cell = radius * (1.0 + 1e-9)
        cells = [self._cells(A) for A in (P, *frame)]
        self.ok = all(k is not None for k in cells)
        if not self.ok:
            return
        allk = np.concatenate(cells)
        self.x0, self.y0 = allk[:, 0].min(), allk[:, 1].min()
        # (a neighbour's cell off either end of a column is no cell of a point)
        self.span = int(allk[:, 1].max() - self.y0) + 3
        if (allk[:, 0].max() - self.x0 + 3) * self.span > 2.0 ** 62:
            self.ok = False
            return
        key = self._key(cells[0])
        self.order = np.argsort(key, kind="stable")
        self.skey = key[self.order]
        #: the key steps to the 3x3 cells around a cell, its own among them
        self.around = np.array([dx * self.span + dy for dx in (-1, 0, 1) for dy in (-1, 0, 1)],
                               dtype=np.int64)

    def _cells(self, A: np.ndarray) -> np.ndarray | None:
        with np.errstate(all="ignore"):
            k = np.floor(A / self.cell) if self.cell > 0 else np.full_like(A, np.inf)
        if len(k) and (not np.isfinite(k).all() or np.abs(k).max() > 2.0 ** 40):
            return None
        return k

    def _key(self, k: np.ndarray) -> np.ndarray:
        return (k[:, 0] - self.x0).astype(np.int64) * self.span \
            + (k[:, 1] - self.y0).astype(np.int64)

    def keys(self, Q: np.ndarray) -> np.ndarray:
        """The cell numbers of the places ``Q`` (q, 2) (within the frame)."""
        return self._key(self._cells(np.asarray(Q, dtype=np.float64).reshape(-1, 2)))

    def ranges(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the points of cells ``keys`` are in :attr:`order`: [lo, hi) each."""
        return (np.searchsorted(self.skey, keys, "left"),
                np.searchsorted(self.skey, keys, "right"))


def nearest_centre(E: np.ndarray, C: np.ndarray, radius: float) -> np.ndarray:
    """For each point of ``E`` (n, 2), the index of its nearest centre in ``C`` (k, 2)
    when that is within ``radius`` (ties: the first centre), else -1.

    Only the centres of the 3x3 grid cells around each point are measured (the squared
    distances dx*dx + dy*dy, as :func:`nearest_centre_plain` measures every centre: a flat
    surface's map had ~1000 centres by its 256² pass, 0.3 s of the UI thread)."""
    E = np.asarray(E, dtype=np.float64).reshape(-1, 2)
    C = np.asarray(C, dtype=np.float64).reshape(-1, 2)
    n = len(E)
    if len(C) == 0 or n == 0:
        return np.full(n, -1, dtype=np.int64)
    grid = _CellGrid(C, radius, frame=(E,))
    if not grid.ok:
        return nearest_centre_plain(E, C, radius)
    kE = grid.keys(E)
    ex, ey = E[:, 0], E[:, 1]
    best = np.full(n, np.inf)
    arg = np.full(n, -1, dtype=np.int64)
    for step in grid.around:
        lo, hi = grid.ranges(kE + step)
        cnt = hi - lo
        for j in range(int(cnt.max(initial=0))):  # (the j-th centre of each point's cell)
            sel = np.nonzero(cnt > j)[0]
            k = grid.order[lo[sel] + j]
            ddx = ex[sel] - C[k, 0]
            ddy = ey[sel] - C[k, 1]
            dk = ddx * ddx + ddy * ddy
            better = (dk < best[sel]) | ((dk == best[sel]) & (k < arg[sel]))
            best[sel[better]] = dk[better]
            arg[sel[better]] = k[better]
    arg[~(best <= radius * radius)] = -1
    return arg


def nearest_centre_plain(E: np.ndarray, C: np.ndarray, radius: float) -> np.ndarray:
    """:func:`nearest_centre` by measuring every centre, one at a time, on contiguous
    columns (the (cells, centres, 2) cube and its sum took twice as long)."""
    E = np.asarray(E, dtype=np.float64).reshape(-1, 2)
    ex = np.ascontiguousarray(E[:, 0])
    ey = np.ascontiguousarray(E[:, 1])
    best = np.full(len(E), np.inf)
    arg = np.full(len(E), -1, dtype=np.int64)
    with np.errstate(over="ignore", invalid="ignore"):  # (far out: an inf distance)
        for k, (cx, cy) in enumerate(np.asarray(C, dtype=np.float64).reshape(-1, 2)):
            dx = ex - cx
            dy = ey - cy
            dk = dx * dx + dy * dy
            better = dk < best
            best[better] = dk[better]
            arg[better] = k
    arg[~(best <= radius * radius)] = -1
    return arg


def cluster_greedy(P: np.ndarray, radius: float, min_members: int, *,
                   fast: bool | None = None):
    """Greedy clusters of the points ``P`` (m, 2), in order: the first point left seeds
    one; the points left within ``radius`` of it are its members, unless fewer than
    ``min_members`` (stragglers: they are dropped); the cluster is then the points left
    within ``radius`` of the members' mean. Yields (centre, the cluster's positions in
    ``P``, ascending) per cluster.

    Each seed and centre looks only at the points of the 3x3 grid cells (a cell a radius
    wide) around it: the scan of every point left per seed took 2.3 s of the UI thread
    for a flat surface's 256² basin map (every start settles where it is: ~700 clusters
    and as many groups of stragglers). The same clusters, in the same order, with the same
    means (:func:`cluster_greedy_plain` is the scan, the tests' reference); points too
    far out for the grid's cell numbers fall back to it. The loop over the seeds is a
    kernel (:func:`gdviz.kernels.maps.cluster_cells`; ``fast`` as :func:`basin_map`): in
    Python, on the map's worker, it held the GIL for ~100 ms at a time beside the UI
    thread (a text-size press on L16's map waited ~100 ms for it)."""
    P = np.asarray(P, dtype=np.float64).reshape(-1, 2)
    if len(P) == 0:
        return
    grid = _CellGrid(P, radius)
    if not grid.ok:
        yield from cluster_greedy_plain(P, radius, min_members)
        return
    fn = KM.cluster_cells if _use_fast(fast) else KM.cluster_cells_np
    labels, centres = fn(P, grid.cell, grid.x0, grid.y0, grid.span, grid.order, grid.skey,
                         grid.around, radius * radius, min_members)
    if not len(centres):
        return
    inside = np.nonzero(labels >= 0)[0]
    by = inside[np.argsort(labels[inside], kind="stable")]  # (each cluster's ascending)
    ends = np.cumsum(np.bincount(labels[inside], minlength=len(centres)))
    for k, got in enumerate(np.split(by, ends[:-1])):
        yield centres[k], got


def cluster_greedy_plain(P: np.ndarray, radius: float, min_members: int):
    """:func:`cluster_greedy` by scanning every point left, per seed and per centre."""
    P = np.asarray(P, dtype=np.float64).reshape(-1, 2)
    r2 = radius * radius
    idx = np.arange(len(P))
    while idx.size:
        c = P[idx[0]]
        with np.errstate(over="ignore", invalid="ignore"):  # (far out: an inf distance)
            near = ((P[idx] - c) ** 2).sum(axis=1) <= r2
        members = idx[near]
        if members.size < min_members:
            idx = idx[~near]
            continue
        centre = P[members].mean(axis=0)
        with np.errstate(over="ignore", invalid="ignore"):
            near = ((P[idx] - centre) ** 2).sum(axis=1) <= r2
        yield centre, idx[near]
        idx = idx[~near]


def steps_image(result: MapResult, steps: int) -> np.ndarray:
    """log10 of steps to converge per cell (float64; NaN where it never converged)."""
    c = result.conv_at.astype(np.float64)
    out = np.full(c.shape, np.nan)
    ok = (result.conv_at > 0) & ~result.diverged
    out[ok] = np.log10(c[ok])
    return out


def loss_image(result: MapResult, floor: float | None = None) -> np.ndarray:
    """log10 of final loss above ``floor`` (the surface's min value, or the map's lowest
    loss), NaN where diverged."""
    L = result.end_loss.copy()
    ok = ~result.diverged & np.isfinite(L)
    if not ok.any():
        return np.full(L.shape, np.nan)
    fl = float(np.min(L[ok])) if floor is None else float(floor)
    out = np.full(L.shape, np.nan)
    out[ok] = np.log10(np.maximum(L[ok] - fl, 1e-16))
    return out


def progressive_grids(full: int, coarse: int = COARSE_GRID) -> list[int]:
    """Grid sides of a live map's passes: coarse, then doubling up to ``full``."""
    full = check_grid(full)
    out = [min(coarse, full)]
    while out[-1] < full:
        out.append(min(out[-1] * 2, full))
    return out


def chunks(n: int, size: int) -> list[slice]:
    """Row ranges of ``n`` cells in pieces of at most ``size`` (a worker computes a pass
    piece by piece, so that a newer setting cancels it between pieces)."""
    return [slice(i, min(i + size, n)) for i in range(0, n, max(1, size))]


def write_csv(path, header: list[str], columns: list[np.ndarray]) -> None:
    """One row per cell, written atomically (tmp file + replace)."""
    import os
    import tempfile

    path = os.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".map-", suffix=".csv")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(",".join(header) + "\n")
            cols = [np.asarray(c) for c in columns]
            for i in range(cols[0].shape[0]):
                fh.write(",".join(_fmt(c[i]) for c in cols) + "\n")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _fmt(v) -> str:
    if isinstance(v, (np.integer, int)):
        return str(int(v))
    f = float(v)
    return repr(f) if math.isfinite(f) else ("nan" if f != f else ("inf" if f > 0 else "-inf"))


def _rgb(hex_color: str) -> np.ndarray:
    h = hex_color.lstrip("#")
    return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.uint8)


#: viridis at 9 stops (matplotlib's), interpolated for the steps / loss colour scale
_VIRIDIS = np.array([[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142],
                     [33, 144, 141], [39, 173, 129], [92, 200, 99], [170, 220, 50],
                     [253, 231, 37]], dtype=np.float64)


def viridis(u: np.ndarray) -> np.ndarray:
    """RGB uint8 (..., 3) of values in [0, 1]."""
    u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0) * (len(_VIRIDIS) - 1)
    i = np.minimum(np.floor(u).astype(int), len(_VIRIDIS) - 2)
    f = (u - i)[..., None]
    return np.round(_VIRIDIS[i] * (1 - f) + _VIRIDIS[i + 1] * f).astype(np.uint8)


def colorize(labels_or_values: np.ndarray, diverged: np.ndarray, *, basins: bool,
             lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """RGB uint8 (n, 3) of a map's cells: basin indices (``basins``; -1 diverged, -2 still
    moving) or values on a [lo, hi] colour scale (NaN: grey); diverged cells red."""
    a = np.asarray(labels_or_values)
    out = np.empty((a.size, 3), dtype=np.uint8)
    out[:] = _rgb(MOVING_HEX)
    if basins:
        hues = np.array([_rgb(h) for h in BASIN_HUES])
        ok = a >= 0
        out[ok] = hues[a[ok] % len(hues)]
    else:
        ok = np.isfinite(a)
        out[ok] = viridis((a[ok] - lo) / (hi - lo if hi > lo else 1.0))
    out[np.asarray(diverged, dtype=bool)] = _rgb(DIVERGED_HEX)
    return out
