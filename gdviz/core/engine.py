"""The run engine: many optimizer runs advanced together, trajectories recorded.

A :class:`RunSet` owns the per-run arrays (params, optimizer state, step counters) and
advances all runs with one kernel call per :meth:`RunSet.advance`. On a 2-D
:class:`~gdviz.core.surfaces.Landscape` it uses the fused kernel (k steps per call,
gradient, noise, update, divergence check and trajectory write inside the kernel); on a
data problem (any object with ``n_params``, ``loss_grad(params, iteration)`` and
``loss(params)``) it calls the problem for gradients and :func:`opt_step` once per step;
update number t (1-based) asks for mini-batch iteration t - 1. The problem may be
swapped between steps (``runset.problem = ...``, e.g. a new batch size from here on).
"""

from __future__ import annotations

import copy
import math
import threading
import time
from typing import Sequence

import numpy as np

import gdviz.kernels as kernels
from gdviz.core.optimizers import OptimizerConfig
from gdviz.core.schedules import Schedule, check_total
from gdviz.kernels import datastep as DS
from gdviz.kernels import optim as K

#: most rows a run's trajectory buffer holds; beyond it rows are decimated (every 2nd)
ROW_CAP = 1 << 20
#: all runs' trajectories together hold at most this many rows (memory: x 8 x (p+1) bytes)
TOTAL_ROW_CAP = 1 << 23
#: and at most this many bytes (float64 params + loss per row): a fit with many parameters
#: decimates sooner, so that 10^6 steps of any race fit in memory beside the app
TOTAL_BYTES_CAP = 128 << 20
#: data problems step in chunks of at most this many updates (the mini-batch indices of a
#: chunk are made at once)
DATA_CHUNK = 4096
#: a recording RunSet keeps the engine's whole state every this many steps (to start with),
#: so that going back to step s (a live change after scrubbing back, the step-by-step
#: numbers of a past step) re-plays at most that many steps instead of s
CHECKPOINT_EVERY = 256
#: at most this many checkpoints: beyond, every other one goes and the interval doubles
MAX_CHECKPOINTS = 512
#: the interval is halved (down to CHECKPOINT_MIN) while re-playing one would take longer
#: than this at the estimated cost of a step (:func:`step_seconds`): a live change after
#: scrubbing back re-plays from the checkpoint before it, in the change's own turn, and on
#: a wide network with a dozen runs 255 steps took 0.38 s (the GUI fuzz, issue 10)
CHECKPOINT_REPLAY_S = 0.025
CHECKPOINT_MIN = 16
#: a data problem's step, estimated per run: a fixed part plus a part per (point of the
#: batch x parameter) (numba, measured on L07-L21: 2.5-10 us and 0.5-3 ns)
STEP_FIXED_S = 3e-6
STEP_UNIT_S = 0.8e-9
#: the arrays a checkpoint copies (the engine's state; trajectories are kept as they are)
_STATE_ARRAYS = ("params", "state", "opt_t", "loss", "_gcur", "grad", "_last_step_size",
                 "_last_delta", "_last_lr", "_bad", "diverged_at", "kind", "hyper",
                 "sched_kind", "sched_params")
#: a RunSet refuses to take more steps per advance() than this in one call
MAX_ADVANCE = 10_000_000


def _is_landscape(problem) -> bool:
    return hasattr(problem, "sid") and hasattr(problem, "code") and hasattr(problem, "consts")


def _use_fast(fast: bool | None) -> bool:
    return kernels.is_ready() if fast is None else bool(fast)


#: the replaced histories a RunSet remembers the kept steps of (see unchanged_through)
KEPT_VERSIONS = 64
#: the rows moved at once when a full trajectory buffer is halved (bytes)
COMPACT_BYTES = 1 << 20
#: the next trajectory buffers are made ready in a thread once the rows in use pass this
#: share of the buffer (see :class:`_SpareRows`)
SPARE_AT = 0.5


class _SpareRows:
    """The next, doubled trajectory buffers, allocated and written once (zeros) in a
    thread: the memory's first touch is what a doubling cost (its pages faulted in while
    the old rows were copied: 1 s for 44 MB here, L13 with 31 runs at step 2048, then a
    frame of the window). numpy releases the GIL while it writes. :meth:`take` waits for
    the thread (done long before, usually) and hands the buffers over once."""

    def __init__(self, traj_shape: tuple, loss_shape: tuple):
        self.shapes = (tuple(traj_shape), tuple(loss_shape))
        self._out: tuple | None = None
        self._thread = threading.Thread(target=self._make, name="gdviz-spare-rows", daemon=True)
        self._thread.start()

    def _make(self) -> None:
        try:
            traj = np.empty(self.shapes[0])
            np.copyto(traj, 0.0)
            loss = np.empty(self.shapes[1])
            np.copyto(loss, 0.0)
            self._out = (traj, loss)
        except MemoryError:  # (the doubling then allocates its buffers itself)
            self._out = None

    def ready(self, wait: float = 0.0) -> bool:
        """True once the buffers are made (:meth:`take` does not wait), waiting up to
        ``wait`` seconds for them."""
        if wait > 0.0:
            self._thread.join(wait)
        return not self._thread.is_alive()

    def take(self) -> tuple | None:
        self._thread.join()
        out, self._out = self._out, None
        return out


def step_seconds(problem, n_runs: int) -> float:
    """A rough estimate of one step's time for ``n_runs`` runs on ``problem`` (numba): a
    landscape's is negligible (0); a data problem's grows with the batch and the model's
    parameters (STEP_FIXED_S + STEP_UNIT_S x batch x parameters a run)."""
    if _is_landscape(problem):
        return 0.0
    batch = int(getattr(problem, "batch_size", 1) or 1)
    params = int(getattr(problem, "n_params", 1) or 1)
    return int(n_runs) * (STEP_FIXED_S + STEP_UNIT_S * batch * params)


class RunSet:
    """Runs of (config, schedule, start) on one problem, advanced together.

    ``configs`` and ``starts`` (float64 (n_runs, n_params)) have n_runs entries, or one
    that is shared by all runs; ``schedules`` likewise (one Schedule or a sequence).
    ``total_steps`` is the schedules' length. Gradient noise on landscapes is
    N(0, (noise/sqrt(batch_size))^2) per coordinate, seeded and counter-based. A run
    whose position, gradient or loss becomes non-finite, or whose |param| exceeds
    ``bound`` (default 1e3 x the landscape's view size, 1e6 for data problems), is
    diverged at that step and frozen at its last good position.
    ``fast=None`` uses numba once :func:`gdviz.kernels.is_ready`, else the numpy twins
    (decided at each advance); True forces numba, False numpy.
    ``record=False`` keeps no trajectories (basin maps of 65,536 runs).
    """

    def __init__(self, problem, configs: Sequence[OptimizerConfig] | OptimizerConfig, starts, *,
                 schedules: Schedule | Sequence[Schedule] = Schedule(), total_steps: int = 500,
                 noise: float = 0.0, batch_size: int = 1, seed: int = 0,
                 fast: bool | None = None, record: bool = True, bound: float | None = None):
        self.problem = problem
        self.landscape = _is_landscape(problem)
        self.n_params = 2 if self.landscape else int(problem.n_params)
        if isinstance(configs, OptimizerConfig):
            configs = [configs]
        configs = list(configs)
        if isinstance(schedules, Schedule):
            schedules = [schedules]
        schedules = list(schedules)
        starts = self._check_starts(starts)
        n = max(len(configs), len(schedules), starts.shape[0])
        for what, m in (("configs", len(configs)), ("schedules", len(schedules)),
                        ("starts", starts.shape[0])):
            if m not in (1, n):
                raise ValueError(f"{what} has {m} entries; expected 1 or {n} (one per run)")
        for c in configs:
            if not isinstance(c, OptimizerConfig):
                raise ValueError(f"configs must be OptimizerConfig objects, got {type(c).__name__}")
        for s in schedules:
            if not isinstance(s, Schedule):
                raise ValueError(f"schedules must be Schedule objects, got {type(s).__name__}")
        self.n_runs = n
        self.configs = configs * n if len(configs) == 1 else configs
        self.schedules = schedules * n if len(schedules) == 1 else schedules
        self.total_steps = check_total(total_steps)
        self.fast = fast
        self.record = bool(record)
        if bound is None:
            if self.landscape:
                x0, x1, y0, y1 = problem.view
                bound = 1e3 * max(x1 - x0, y1 - y0)
            else:
                bound = 1e6
        if not (bound > 0):
            raise ValueError(f"Invalid bound: {bound!r} (must be > 0)")
        self.bound = float(bound)
        self.set_noise(noise, batch_size)
        self.seed = _check_seed(seed)
        self._pack()
        self._starts = np.broadcast_to(starts, (n, self.n_params)).copy()
        self.reset()

    # ------------------------------------------------------------------ setup
    def _check_starts(self, starts) -> np.ndarray:
        s = np.asarray(starts, dtype=np.float64)
        if s.ndim == 1:
            s = s[None, :]
        if s.ndim != 2 or s.shape[1] != self.n_params or s.shape[0] < 1:
            raise ValueError(f"starts must have shape (n_runs, {self.n_params}), got {s.shape}")
        if not np.isfinite(s).all():
            raise ValueError("starts must be finite numbers")
        return np.ascontiguousarray(s)

    def _pack(self) -> None:
        n = self.n_runs
        self.kind = np.empty(n, dtype=np.int64)
        self.hyper = np.empty((n, K.N_HYPER))
        self.sched_kind = np.empty(n, dtype=np.int64)
        self.sched_params = np.empty((n, K.N_SCHED))
        packed = {}
        for r, c in enumerate(self.configs):
            if id(c) not in packed:
                packed[id(c)] = c.pack()
            self.kind[r], self.hyper[r] = packed[id(c)]
        packed = {}
        for r, s in enumerate(self.schedules):
            if id(s) not in packed:
                packed[id(s)] = s.pack()
            self.sched_kind[r], self.sched_params[r] = packed[id(s)]

    def _init_state(self, rows) -> None:
        self.state[rows] = 0.0
        ada = np.zeros(self.n_runs, dtype=bool)
        ada[rows] = True
        ada &= self.kind == K.ADAGRAD
        self.state[ada, 0, :] = self.hyper[ada, K.H_INITIAL_ACCUMULATOR_VALUE][:, None]
        self.opt_t[rows] = 0

    def reset(self, starts=None) -> None:
        """Back to step 0 (at ``starts`` if given: (n_runs, n_params) or one shared row).
        Optimizer state is cleared; configs, schedules, noise and seed are kept."""
        n, p = self.n_runs, self.n_params
        if starts is not None:
            s = self._check_starts(starts)
            if s.shape[0] not in (1, n):
                raise ValueError(f"starts has {s.shape[0]} rows; expected 1 or {n}")
            self._starts = np.broadcast_to(s, (n, p)).copy()
        self.t = 0
        #: bumped when the recorded history is replaced (a reset): readers that consume
        #: it incrementally (:meth:`recorded`) start again when it changes
        self.version = getattr(self, "version", -1) + 1
        #: {version: the last step whose row that version kept from the one before} (a
        #: history replaced after a step, :meth:`restore_checkpoint`); a new dict at each
        #: change, so that a clone never shares another's
        self._kept = {}
        self.params = self._starts.copy()
        self.state = np.zeros((n, K.N_SLOTS, p))
        self.opt_t = np.zeros(n, dtype=np.int64)
        self._init_state(slice(None))
        self.diverged_at = np.full(n, -1, dtype=np.int64)
        self.loss = np.empty(n)
        self._gcur = np.empty((n, p))  # exact gradient at params (landscapes)
        self.grad = np.zeros((n, p))  # gradient used in the last step
        self._last_step_size = np.zeros((n, p))
        self._last_delta = np.zeros((n, p))
        self._last_lr = np.zeros(n)
        self._bad = np.full((n, p + 1), np.nan)
        self._evaluate_start()
        self.grad[...] = self._gcur
        # trajectories
        self.stride = 1
        self._spare: _SpareRows | None = None  # the next buffers, made ready in a thread
        if self.record:
            # 64 rows to start with, grown by doubling as the engine advances: a buffer
            # sized for the whole step budget at once (90 MB for 31 runs of L21's network
            # and 1500 steps) took 0.2-0.3 s to allocate here, in every re-play (adding a
            # run) before its first step
            rows = min(self._row_cap(), 64)
            self._traj = np.empty((n, rows, p))
            self._traj_loss = np.empty((n, rows))
            self._traj[:, 0] = self.params
            self._traj_loss[:, 0] = self.loss
            self._checkpoint_every = self._checkpoint_interval()
            self._checkpoints = {}
            self._take_checkpoint()
        else:
            self._traj = np.empty((n, 0, p))
            self._traj_loss = np.empty((n, 0))
            self._checkpoint_every = self._checkpoint_interval()
            self._checkpoints = {}
        self._slow_pieces = 0  # (see _fit_checkpoints)

    def _checkpoint_interval(self) -> int:
        """Steps between checkpoints to start with: CHECKPOINT_EVERY, halved while re-playing
        that many would take longer than CHECKPOINT_REPLAY_S (:func:`step_seconds`)."""
        every = CHECKPOINT_EVERY
        step = step_seconds(self.problem, self.n_runs)
        while every > CHECKPOINT_MIN and every * step > CHECKPOINT_REPLAY_S:
            every //= 2
        return every

    def _row_cap(self) -> int:
        row_bytes = 8 * (self.n_params + 1) * self.n_runs
        cap = min(ROW_CAP, TOTAL_ROW_CAP // self.n_runs, TOTAL_BYTES_CAP // row_bytes)
        return max(64, 1 << int(math.floor(math.log2(max(cap, 2)))))

    def _evaluate_start(self) -> None:
        P = self.params
        if self.landscape:
            pr = self.problem
            fn = K.eval_landscape if _use_fast(self.fast) else K.eval_landscape_np
            fn(pr.sid, pr.code, pr.consts, P, self.loss, self._gcur)
            ok = np.isfinite(self.loss) & np.isfinite(self._gcur).all(axis=1)
        else:
            f, g = self.problem.loss_grad(P.copy(), 0)
            self._gcur[...] = g
            self.loss[...] = self.problem.loss(P.copy())
            ok = np.isfinite(self.loss)
        self.diverged_at[~ok] = 0  # a start where the loss is undefined goes nowhere

    # --------------------------------------------------------------- settings
    def set_noise(self, noise: float, batch_size: int = 1) -> None:
        """Gradient noise std for batch size 1, and the batch size (from the next step)."""
        if not (isinstance(noise, (int, float, np.integer, np.floating))
                and 0.0 <= noise < math.inf):
            raise ValueError(f"Invalid noise: {noise!r} (must be a finite number >= 0)")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"Invalid batch size: {batch_size!r} (must be an integer >= 1)")
        self.noise = float(noise)
        self.batch_size = int(batch_size)

    @property
    def noise_std(self) -> float:
        return self.noise / math.sqrt(self.batch_size)

    def set_config(self, r: int, config: OptimizerConfig) -> None:
        """Run ``r`` uses ``config`` from the next step on. Its state is kept unless the
        optimizer kind changes (then the new optimizer starts fresh at the current point)."""
        if not isinstance(config, OptimizerConfig):
            raise ValueError(f"config must be an OptimizerConfig, got {type(config).__name__}")
        r = self._run(r)
        kind, hyper = config.pack()
        changed = kind != self.kind[r]
        self.configs[r] = config
        self.kind[r] = kind
        self.hyper[r] = hyper
        if changed:
            self._init_state([r])

    def set_schedule(self, r: int, schedule: Schedule) -> None:
        """Run ``r`` follows ``schedule`` from the next step on (state kept)."""
        if not isinstance(schedule, Schedule):
            raise ValueError(f"schedule must be a Schedule, got {type(schedule).__name__}")
        r = self._run(r)
        self.schedules[r] = schedule
        self.sched_kind[r], self.sched_params[r] = schedule.pack()

    def _run(self, r) -> int:
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)) \
                or not -self.n_runs <= r < self.n_runs:
            raise ValueError(f"no run {r!r} (there are {self.n_runs})")
        return int(r) % self.n_runs

    # ---------------------------------------------------------------- stepping
    def advance(self, k: int = 1) -> None:
        """Take ``k`` steps with every live run (one kernel call on landscapes)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"Invalid number of steps: {k!r} (must be an integer >= 0)")
        if k > MAX_ADVANCE:
            raise ValueError(f"Invalid number of steps: {k} (must be <= {MAX_ADVANCE})")
        k = int(k)
        if k == 0:
            return
        if self.record:
            self._ensure_rows(self.t + k)
            while k > 0:  # pieces that end on the checkpoint marks
                piece = min(k, self._checkpoint_every - self.t % self._checkpoint_every)
                t0 = time.perf_counter()
                self._advance(piece)
                self._fit_checkpoints(piece, time.perf_counter() - t0)
                k -= piece
                if self.t % self._checkpoint_every == 0:
                    self._take_checkpoint()
        else:
            self._advance(k)

    def _advance(self, k: int) -> None:
        if self.landscape:
            self._advance_landscape(k)
            self.t += k
        else:
            step = data_stepper(self.problem, _use_fast(self.fast))
            while k > 0:
                chunk = min(k, DATA_CHUNK)
                step((self.kind, self.hyper, self.sched_kind, self.sched_params,
                      self.total_steps, self.t, chunk, self.bound, self.params, self.state,
                      self.opt_t, self.loss, self._gcur, self.diverged_at, self.record,
                      self.stride, self._traj, self._traj_loss, self.grad,
                      self._last_step_size, self._last_delta, self._last_lr, self._bad))
                self.t += chunk
                k -= chunk

    def _advance_landscape(self, k: int) -> None:
        pr = self.problem
        fn = K.advance_landscape if _use_fast(self.fast) else K.advance_landscape_np
        fn(pr.sid, pr.code, pr.consts, self.kind, self.hyper, self.sched_kind,
           self.sched_params, self.total_steps, self.t, k, self.noise_std, self.seed,
           self.bound, self.params, self.state, self.opt_t, self.loss, self._gcur,
           self.diverged_at, self.record, self.stride, self._traj, self._traj_loss,
           self.grad, self._last_step_size, self._last_delta, self._last_lr, self._bad)

    # ---------------------------------------------------------------- checkpoints
    def _fit_checkpoints(self, steps: int, seconds: float) -> None:
        """Halve the steps between checkpoints (down to CHECKPOINT_MIN) while re-playing
        that many, at the speed ``steps`` steps just took, would take more than twice
        CHECKPOINT_REPLAY_S: the estimate the interval starts from (:func:`step_seconds`)
        does not know the machine, nor a batch size set since (an edit after scrubbing
        back re-plays from the checkpoint before it in its own turn: on L21 with 16
        networks and a larger batch, 100-400 ms). Past checkpoints stay (each on a multiple
        of the new interval); not while they are over half of MAX_CHECKPOINTS (thinning
        would double it back). Only after two slow pieces in a row: a kernel's first call
        in the process (numba loading it from its cache) is one slow piece."""
        if self.landscape or steps < 4 or seconds <= 0.0:
            return
        per_step = seconds / steps
        slow = self._checkpoint_every * per_step > 2 * CHECKPOINT_REPLAY_S
        self._slow_pieces = self._slow_pieces + 1 if slow else 0
        if self._slow_pieces < 2:
            return
        while (self._checkpoint_every > CHECKPOINT_MIN
               and self._checkpoint_every * per_step > 2 * CHECKPOINT_REPLAY_S
               and len(self._checkpoints) < MAX_CHECKPOINTS // 2):
            self._checkpoint_every //= 2

    def _take_checkpoint(self) -> None:
        """Keep the engine's state at step t (after the step, before any change logged at
        t is applied: see :meth:`restore_checkpoint`)."""
        self._checkpoints[self.t] = (
            {name: getattr(self, name).copy() for name in _STATE_ARRAYS},
            list(self.configs), list(self.schedules), self.noise, self.batch_size,
            self.problem)
        if len(self._checkpoints) > MAX_CHECKPOINTS:
            self._checkpoint_every *= 2
            self._checkpoints = {t: c for t, c in self._checkpoints.items()
                                 if t % self._checkpoint_every == 0}

    def keep_checkpoint(self) -> None:
        """Keep the state at step t as a checkpoint, on any engine (a re-play marks the
        steps it passes, so that re-playing a step near one of them starts there)."""
        self._take_checkpoint()

    def latest_checkpoint(self, t: int) -> int | None:
        """The step of the latest checkpoint at or before ``t``, None when there is none."""
        t = int(t)
        return max((s for s in self._checkpoints if s <= t), default=None)

    def checkpoint_before(self, t: int) -> int:
        """The step of the latest checkpoint at or before ``t`` (0 at least)."""
        t = int(t)
        return max((s for s in self._checkpoints if s <= t), default=0)

    def _put(self, cp_step: int, target) -> None:
        arrays, configs, schedules, noise, batch, problem = self._checkpoints[cp_step]
        for name, a in arrays.items():
            setattr(target, name, a.copy())
        target.configs, target.schedules = list(configs), list(schedules)
        target.noise, target.batch_size, target.problem = noise, batch, problem
        target.t = cp_step

    def restore_checkpoint(self, t: int) -> int:
        """Go back to the latest checkpoint at or before step ``t``, dropping what came
        after it (trajectory rows after it are overwritten as the engine advances again).
        Changes logged at the checkpoint's step itself are not applied: re-apply them.
        Returns the checkpoint's step."""
        step = self.checkpoint_before(t)
        self._put(step, self)
        self._checkpoints = {s: c for s, c in self._checkpoints.items() if s <= step}
        self.version += 1  # the recorded history after `step` is replaced
        kept = {v: k for v, k in self._kept.items() if v > self.version - KEPT_VERSIONS}
        kept[self.version] = step
        self._kept = kept
        return step

    def unchanged_through(self, version: int) -> int:
        """The last step whose recorded row is the same now as it was in ``version`` (a
        reader's last one): every step when that is this version; up to the step a
        replaced history kept (:meth:`restore_checkpoint`, the least over the versions
        since); -1 when nothing is known to be the same (a reset, a version too old)."""
        if version == self.version:
            return self.t
        if not 0 <= self.version - version <= KEPT_VERSIONS:
            return -1
        step = self.t
        for v in range(version + 1, self.version + 1):
            if v not in self._kept:
                return -1
            step = min(step, self._kept[v])
        return step

    def clone_at(self, t: int) -> RunSet:
        """A new RunSet (no trajectories) at the latest checkpoint at or before ``t``: to
        re-play a past step without touching this one."""
        rs = copy.copy(self)
        rs._spare = None
        self._put(self.checkpoint_before(t), rs)
        rs.record = False
        rs._traj = np.empty((self.n_runs, 0, self.n_params))
        rs._traj_loss = np.empty((self.n_runs, 0))
        rs._checkpoints = {}
        return rs

    def _ensure_rows(self, last_step: int) -> None:
        """Make room for rows up to ``last_step``: grow by doubling, then decimate."""
        need = last_step // self.stride + 1
        rows = self._traj.shape[1]
        if need > rows:
            self._grow_rows(last_step, need, rows)
        # past SPARE_AT of the rows, the next buffers are made ready (in a thread)
        rows, cap = self._traj.shape[1], self._row_cap()
        if (self._spare is None and 0 < rows < cap
                and last_step // self.stride + 1 > rows * SPARE_AT):
            new_rows = min(rows * 2, cap)
            self._spare = _SpareRows((self.n_runs, new_rows, self.n_params),
                                     (self.n_runs, new_rows))

    def steps_without_waiting(self, k: int, wait: float = 0.0) -> int:
        """Of the next ``k`` steps, how many :meth:`advance` runs without waiting for
        memory: all while the trajectory's rows hold them (or at the rows' cap, where they
        are decimated in place); past the rows' end, none more until the next, doubled
        buffers are made on their thread (started here if they were not), then up to that
        buffer's end. A caller that runs many steps a piece at a time (an export) waits a
        turn instead of inside the advance (0.5 s for 96 MB here: 4 runs at 10^6 steps).
        ``wait``: seconds it may wait for them here."""
        k = int(k)
        if not self.record or k <= 0:
            return max(k, 0)
        rows, cap = self._traj.shape[1], self._row_cap()
        if (self.t + k) // self.stride + 1 <= rows or rows >= cap:
            return k
        held = rows * self.stride - 1 - self.t  # steps the rows still hold
        if held > 0:
            return held
        new_rows = min(rows * 2, cap)
        if self._spare is None or self._spare.shapes[0][1] != new_rows:
            self._spare = _SpareRows((self.n_runs, new_rows, self.n_params),
                                     (self.n_runs, new_rows))
        if not self._spare.ready(wait):
            return 0
        return min(k, new_rows * self.stride - 1 - self.t)

    def _grow_rows(self, last_step: int, need: int, rows: int) -> None:
        cap = self._row_cap()
        if rows < cap:
            new_rows = rows
            while new_rows < need and new_rows < cap:
                new_rows *= 2
            new_rows = min(new_rows, cap)
            used = self.t // self.stride + 1
            spare, self._spare = self._spare, None
            ready = spare.take() if spare is not None else None
            if ready is not None and ready[0].shape == (self.n_runs, new_rows, self.n_params):
                traj, tl = ready
            else:
                traj = np.empty((self.n_runs, new_rows, self.n_params))
                tl = np.empty((self.n_runs, new_rows))
            traj[:, :used] = self._traj[:, :used]
            tl[:, :used] = self._traj_loss[:, :used]
            self._traj, self._traj_loss = traj, tl
            rows = new_rows
        while last_step // self.stride + 1 > rows:
            used = self.t // self.stride + 1
            kept = (used + 1) // 2  # rows 0, 2, 4, ... hold steps 0, 2s, 4s, ...
            # in place, a block of rows at a time: row i takes row 2i, which no earlier
            # block wrote (a copy of all the kept rows first was 64 MB of new memory at
            # each halving of a full buffer, its pages' first touch ~1 s here)
            block = max(1, COMPACT_BYTES // (8 * (self.n_params + 1) * max(self.n_runs, 1)))
            for a in range(0, kept, block):
                b = min(a + block, kept)
                self._traj[:, a:b] = self._traj[:, 2 * a:2 * b:2]
                self._traj_loss[:, a:b] = self._traj_loss[:, 2 * a:2 * b:2]
            self.stride *= 2

    # ----------------------------------------------------------------- reading
    def last_step(self, r: int) -> int:
        """The last step run ``r`` completed (t, or the step before it diverged)."""
        r = self._run(r)
        d = self.diverged_at[r]
        return self.t if d < 0 else max(int(d) - 1, 0)

    def trajectory_steps(self, r: int) -> np.ndarray:
        """Step numbers of the rows :meth:`trajectory` returns: int64 (m,)."""
        last = self.last_step(r)
        steps = np.arange(0, last + 1, self.stride, dtype=np.int64)
        if steps[-1] != last:
            steps = np.append(steps, last)
        return steps

    def trajectory(self, r: int, upto: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(params float64 (m, n_params), loss float64 (m,)): rows for steps 0..t (or up
        to the last good step of a diverged run; or up to step ``upto``), every
        ``stride``-th step when decimated, ending with the current position when the
        rows reach it."""
        if not self.record:
            raise ValueError("this RunSet does not record trajectories (record=False)")
        r = self._run(r)
        full = self.last_step(r)
        last = full if upto is None else min(full, max(int(upto), 0))
        m = last // self.stride + 1
        P = self._traj[r, :m].copy()
        L = self._traj_loss[r, :m].copy()
        if last % self.stride and last == full:
            P = np.vstack([P, self.params[r][None]])
            L = np.append(L, self.loss[r])
        return P, L

    def recorded(self, r: int, after: int = -1, upto: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The stored rows of run ``r`` for steps in (``after``, ``upto``], without a copy.

        Returns (steps int64 (m,), params float64 (m, n_params), loss float64 (m,)): the
        params and loss are read-only views into the buffers, valid until the next
        :meth:`advance` or :meth:`reset`. ``upto`` defaults to (and is capped at) the run's
        last good step. Rows are every ``stride``-th step; unlike :meth:`trajectory` the
        current position is not appended when it falls between rows. Steps are step numbers,
        so a reader that remembers the last step it read stays right when the rows are
        decimated (the stride doubles) between two reads: O(m), never O(history).
        """
        if not self.record:
            raise ValueError("this RunSet does not record trajectories (record=False)")
        r = self._run(r)
        last = self.last_step(r)
        if upto is not None:
            last = min(last, int(upto))
        s = self.stride
        i0 = max(int(after), -1) // s + 1
        i1 = last // s + 1 if last >= 0 else 0
        i1 = max(i1, i0)
        P = self._traj[r, i0:i1]
        L = self._traj_loss[r, i0:i1]
        P.flags.writeable = False
        L.flags.writeable = False
        return np.arange(i0, i1, dtype=np.int64) * s, P, L

    def positions(self, t: int | None = None) -> np.ndarray:
        """Every run's position at step ``t`` (default: now; diverged runs at their last
        good step; decimated buffers give the nearest recorded step at or before t):
        float64 (n_runs, n_params)."""
        if t is None or t >= self.t:
            return self.params.copy()
        if not self.record:
            raise ValueError("this RunSet does not record trajectories (record=False)")
        last = np.where(self.diverged_at < 0, self.t, np.maximum(self.diverged_at - 1, 0))
        rows = np.minimum(max(int(t), 0), last) // self.stride
        out = self._traj[np.arange(self.n_runs), rows].copy()
        exact = np.minimum(max(int(t), 0), last) == last
        out[exact] = self.params[exact]
        return out

    def diverged_point(self, r: int):
        """(params (n_params,), loss) where run ``r`` went bad, or None if it is alive."""
        r = self._run(r)
        if self.diverged_at[r] <= 0:
            return None
        p = self.n_params
        return self._bad[r, :p].copy(), float(self._bad[r, p])

    def details(self, r: int) -> dict:
        """What step-by-step mode shows about run ``r``'s last step.

        Keys: ``step`` (int, 0 before any step), ``g`` (gradient used, with noise and L2;
        float64 (p,)), ``m`` (momentum buffer or Adam's first moment, or None), ``v``
        (RMSprop's square average, Adagrad's sum, Adam's second moment -- amsgrad: its
        running max -- or None), ``step_size`` (float64 (p,): what multiplies the update
        direction: lr for SGD, lr/(sqrt(v)+eps) for RMSprop, clr/(sqrt(s)+eps) for Adagrad,
        lr/(bias_correction1*(sqrt(v_hat)+eps)) for Adam (times m)), ``delta``
        (theta_new - theta_old, float64 (p,)), ``lr`` (scheduled lr of that step) and
        ``diverged_at`` (int or None).
        """
        r = self._run(r)
        step = self.last_step(r)
        c = self.configs[r]
        kind = int(self.kind[r])
        st = self.state[r]
        m = v = None
        if step > 0:
            if kind == K.SGD:
                m = st[0].copy() if st[1].any() else None
            elif kind == K.RMSPROP:
                v = st[0].copy()
                m = st[1].copy() if c.momentum > 0 else None
            elif kind == K.ADAGRAD:
                v = st[0].copy()
            else:
                m = st[0].copy()
                v = (st[2] if c.amsgrad else st[1]).copy()
        return dict(step=step,
                    g=(self.grad[r] if step > 0 else self._gcur[r]).copy(),
                    m=m, v=v,
                    step_size=self._last_step_size[r].copy(),
                    delta=self._last_delta[r].copy(),
                    lr=float(self._last_lr[r]) if step > 0 else float(c.lr),
                    diverged_at=None if self.diverged_at[r] < 0 else int(self.diverged_at[r]))


def data_stepper(problem, fast: bool):
    """How a data problem (a regression, a fit, a classifier) is stepped, by the engine and
    by the maps alike: ``step(args, conv_at=None, tol=-1.0)`` takes ``args[6]`` steps of
    every row from update ``args[5]``, ``args`` being the steppers' shared arguments
    (kind, hyper, sched_kind, sched_params, total, t0, k, bound, params, state, opt_t,
    loss, gcur, diverged_at, record, stride, traj, traj_loss, grad, last_step_size,
    last_delta, last_lr, bad). With ``fast``, a model the fused kernel knows goes through
    :func:`gdviz.kernels.datastep.advance_data`, a network through ``advance_net`` (the
    mini-batches of those steps drawn at once); anything else, and everything before the
    kernels are compiled, through ``advance_generic`` and the problem's own gradient.
    (The fused kernels' numpy twins are not used here: the generic path is the one whose
    numbers the kernels reproduce to the step a run diverges at, over thousands of steps;
    the twins' sums in another order drift from it by the last bits, which a diverging
    run amplifies. tests/kernels/test_datastep_kernel.py)"""
    fused = problem.fused_model() if fast and hasattr(problem, "fused_model") else None
    net = (problem.fused_net() if fast and fused is None and hasattr(problem, "fused_net")
           else None)
    if fused is not None or net is not None:
        fn, model = (DS.advance_data, fused) if fused is not None else (DS.advance_net, net)

        def step(args: tuple, conv_at=None, tol: float = -1.0) -> None:
            bidx, boff = problem.batch_indices(args[5], args[6])
            fn(*model, bidx, boff, *args, conv_at=conv_at, tol=tol)
        return step

    def grad(P, it):
        return problem.loss_grad(P, it)[1]

    def step(args: tuple, conv_at=None, tol: float = -1.0) -> None:
        DS.advance_generic(grad, problem.loss, *args, fast=fast, conv_at=conv_at, tol=tol)
    return step


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
            or not 0 <= seed < 2 ** 63:
        raise ValueError(f"Invalid seed: {seed!r} (must be an integer in [0, 2**63))")
    return int(seed)
