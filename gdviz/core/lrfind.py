"""The learning-rate finder (fast.ai's ``lr_find``, Smith 2015) and the fair race.

Qt-free. Both drive the engine (:class:`gdviz.core.engine.RunSet`), so every optimizer
step is the engine's own (numba kernel, or its numpy twin until the kernels are ready):
no optimizer math is repeated here.

**The sweep** (:class:`LrSweep`). From one run's state at the displayed step (its
parameters, optimizer state and step counter copied; the run itself is untouched), the
run's optimizer takes ``num_it`` steps on the same problem, step ``i`` (0-based) with
``lr_i = start_lr * (end_lr / start_lr) ** (i / num_it)`` (fast.ai's ``SchedExp`` at
``pos = i / num_it``). On data problems update ``t`` uses mini-batch ``t - 1`` of the
problem's own seeded order, continuing the run's own batches. The loss recorded at
``lr_i`` is the engine's loss after that step (on data problems the training loss, as
the race's loss curve shows it), so that ``losses[i]`` equals a RunSet stepped with the
same lrs, bit for bit. (fast.ai records the mini-batch loss before the step; we record
the loss the step produced.)

The loss is smoothed as fast.ai's ``AvgSmoothLoss`` does: an EMA with ``beta = 0.98``
and debiasing, ``avg = beta * avg + (1 - beta) * loss``, ``smooth = avg / (1 - beta**n)``.
The sweep stops after ``num_it`` steps, or as soon as the smoothed loss exceeds
``div_factor`` (4) times the best smoothed loss so far (that point is kept, as in
fast.ai), or when the run diverges (non-finite or out of bounds: ``diverged`` is set and
that point is not recorded).

**Suggestions** (:func:`suggestions`), computed as fast.ai's ``steep`` and ``minimum`` on
the smoothed losses with the first ``num_it // 10`` and the last 5 points left out:
steepest descent is the lr where the slope of the smoothed loss against ``log(lr)``
(forward differences) is most negative; minimum/10 is the lr of the smallest smoothed
loss, divided by 10.

**The fair race** (:func:`tune`). For every run spec, ``n_lrs`` learning rates on a log
grid over [LR_MIN, LR_MAX] (:mod:`gdviz.core.limits`), and the spec's current lr, each
from every start, are run together in ONE RunSet (``record=False``), each with the
spec's own optimizer, hyperparameters and schedule, for ``steps`` steps. The score of a
setting is the mean loss after those steps over the starts (+inf if any run diverged);
each spec's best lr is the grid lr with the smallest score, or its own lr when that
scores as well (a tuning never makes a run worse). On noisy surfaces the noise
draws differ from the race's (the engine's noise is keyed by the run's index), so the
scores are of the same experiment, not the same draws; on data problems the mini-batches
are the race's own.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from gdviz.core.engine import RunSet
from gdviz.core.limits import (LR_MAX, LR_MIN, LRFIND_MAX_IT, TUNE_DEFAULT_LRS, TUNE_MAX_LRS,
                               TUNE_MAX_RUNS, MAX_STEPS)
from gdviz.core.optimizers import OptimizerConfig

#: fast.ai's lr_find defaults
START_LR = 1e-7
END_LR = 10.0
NUM_IT = 100
BETA = 0.98
DIV_FACTOR = 4.0
#: the suggestions' names, in the order they are drawn and listed
SUGGESTIONS = ("steep", "minimum")


def _num(what: str, v, lo: float | None = None, hi: float | None = None) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"Invalid {what}: {v!r} (must be a number)") from None
    if not math.isfinite(f) or (lo is not None and f < lo) or (hi is not None and f > hi):
        raise ValueError(f"Invalid {what}: {v!r} (must be a finite number in {lo:g}..{hi:g})")
    return f


def _int(what: str, v, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
        raise ValueError(f"Invalid {what}: {v!r} (must be an integer in {lo}..{hi})")
    return int(v)


@dataclass(frozen=True)
class SweepSettings:
    """The sweep's settings (fast.ai's defaults), validated."""

    start_lr: float = START_LR
    end_lr: float = END_LR
    num_it: int = NUM_IT
    stop_div: bool = True
    beta: float = BETA
    div_factor: float = DIV_FACTOR

    def __post_init__(self):
        s = _num("start lr", self.start_lr, 1e-12, LR_MAX)
        e = _num("end lr", self.end_lr, 1e-12, LR_MAX)
        if not s < e:
            raise ValueError(f"Invalid lr range: start lr {s:g} must be below end lr {e:g}")
        object.__setattr__(self, "start_lr", s)
        object.__setattr__(self, "end_lr", e)
        object.__setattr__(self, "num_it", _int("number of sweep steps", self.num_it, 2,
                                                LRFIND_MAX_IT))
        object.__setattr__(self, "stop_div", bool(self.stop_div))
        object.__setattr__(self, "beta", _num("smoothing beta", self.beta, 0.0, 0.999999))
        object.__setattr__(self, "div_factor", _num("divergence factor", self.div_factor,
                                                    1.0, 1e12))

    def lrs(self) -> np.ndarray:
        """The ``num_it`` learning rates, float64: start * (end/start) ** (i/num_it)."""
        i = np.arange(self.num_it, dtype=np.float64)
        return self.start_lr * (self.end_lr / self.start_lr) ** (i / self.num_it)


@dataclass(frozen=True, eq=False)
class LrFindResult:
    """A finished sweep: ``lrs``, raw ``losses`` and ``smoothed`` losses (float64, one
    per step taken), the suggestions (lr or None when there are too few points), and
    which run, optimizer and step it started from."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    steep: float | None
    minimum: float | None
    settings: SweepSettings = field(default_factory=SweepSettings)
    run: int = 0
    spec: int = 0
    t: int = 0
    optimizer: str = ""
    label: str = ""
    diverged: bool = False
    stopped_early: bool = False

    @property
    def n(self) -> int:
        return int(self.lrs.shape[0])

    def suggestion(self, name: str) -> float | None:
        if name not in SUGGESTIONS:
            raise ValueError(f"unknown suggestion '{name}' (choose from {', '.join(SUGGESTIONS)})")
        return self.steep if name == "steep" else self.minimum

    def rows(self) -> list[tuple[int, float, float, float]]:
        """(iteration, lr, loss, smoothed) per step taken."""
        return [(i, float(a), float(b), float(c))
                for i, (a, b, c) in enumerate(zip(self.lrs, self.losses, self.smoothed))]

    def to_dict(self) -> dict:
        def num(v):
            return float(v) if v is not None and math.isfinite(v) else None

        s = self.settings
        return {"run": self.run, "label": self.label, "optimizer": self.optimizer,
                "from_step": self.t,
                "settings": {"start_lr": s.start_lr, "end_lr": s.end_lr, "num_it": s.num_it,
                             "beta": s.beta, "div_factor": s.div_factor},
                "suggestions": {"steep": num(self.steep), "minimum": num(self.minimum)},
                "diverged": self.diverged, "stopped_early": self.stopped_early,
                "lrs": [float(v) for v in self.lrs],
                "losses": [num(float(v)) for v in self.losses],
                "smoothed": [num(float(v)) for v in self.smoothed]}


def smooth(losses, beta: float = BETA) -> np.ndarray:
    """fast.ai's debiased EMA of ``losses``: float64, same length."""
    out = np.empty(len(losses))
    avg = 0.0
    for n, v in enumerate(np.asarray(losses, dtype=np.float64)):
        avg = beta * avg + (1.0 - beta) * v
        out[n] = avg / (1.0 - beta ** (n + 1))
    return out


def suggestions(lrs, smoothed, num_it: int) -> tuple[float | None, float | None]:
    """(steep, minimum/10) as fast.ai computes them: on points ``num_it // 10`` to the
    fifth from the end (cut at the first non-finite loss), steep is the lr at the most
    negative forward difference of the smoothed loss per unit of log(lr), minimum the lr
    of the smallest smoothed loss / 10. None where there are too few points."""
    lrs = np.asarray(lrs, dtype=np.float64)
    s = np.asarray(smoothed, dtype=np.float64)
    lo, hi = int(num_it) // 10, len(lrs) - 5
    lrs, s = lrs[lo:hi], s[lo:hi]
    bad = np.flatnonzero(~np.isfinite(s))
    if bad.size:
        lrs, s = lrs[:bad[0]], s[:bad[0]]
    minimum = float(lrs[int(np.argmin(s))]) / 10.0 if s.size else None
    if s.size < 2:
        return None, minimum
    grads = np.diff(s) / np.diff(np.log(lrs))
    return float(lrs[int(np.argmin(grads))]), minimum


class LrSweep:
    """A sweep in progress: :meth:`advance` takes up to k steps (the UI calls it in
    chunks), :attr:`done` says when it has stopped, :meth:`result` gives the result.

    ``problem`` and ``config`` as for :class:`RunSet`; ``params`` (n_params,) the start;
    ``state`` (N_SLOTS, n_params) and ``opt_t`` the optimizer's state (None: fresh); ``t0``
    the global step it starts after (data problems: the next update uses batch ``t0``).
    ``index`` is the run's index in its race: the engine's gradient noise is keyed by it,
    so a sweep from run r draws the noise run r would (rows before it are left frozen).
    """

    def __init__(self, problem, config: OptimizerConfig, params, *, state=None, opt_t: int = 0,
                 t0: int = 0, noise: float = 0.0, batch_size: int = 1, seed: int = 0,
                 settings: SweepSettings | None = None, fast: bool | None = None,
                 bound: float | None = None, meta: dict | None = None, index: int = 0):
        self.settings = settings or SweepSettings()
        s = self.settings
        self._lrs = s.lrs()
        self._config = config
        t0 = _int("start step", t0, 0, MAX_STEPS)
        self.index = k = _int("run index", index, 0, TUNE_MAX_RUNS - 1)
        self.rs = RunSet(problem, config.replace(lr=float(self._lrs[0])),
                         np.asarray(params, dtype=np.float64)[None, :],
                         total_steps=max(1, t0 + s.num_it), noise=noise,
                         batch_size=batch_size, seed=seed, fast=fast, record=False, bound=bound)
        if k:  # run k of k + 1 identical rows; the others are frozen (the engine skips them)
            self.rs = RunSet(problem, self.rs.configs[0], np.repeat(self.rs.params, k + 1, 0),
                             total_steps=self.rs.total_steps, noise=noise,
                             batch_size=batch_size, seed=seed, fast=fast, record=False,
                             bound=bound)
            self.rs.diverged_at[:k] = 0
        if state is not None:
            self.rs.state[k] = np.asarray(state, dtype=np.float64)
            self.rs.opt_t[k] = int(opt_t)
        self.rs.t = t0
        self.t0 = t0
        self.meta = dict(meta or {})
        self.losses: list[float] = []
        self.smoothed: list[float] = []
        self._avg = 0.0
        self._best = math.inf
        self.diverged = bool(self.rs.diverged_at[k] >= 0)
        self.stopped_early = self.diverged
        self.done = self.diverged

    @property
    def i(self) -> int:
        """Steps taken so far."""
        return len(self.losses)

    @property
    def fraction(self) -> float:
        return 1.0 if self.done else self.i / self.settings.num_it

    def advance(self, k: int = 10) -> bool:
        """Take up to ``k`` more steps; returns :attr:`done`."""
        s = self.settings
        rs = self.rs
        for _ in range(int(k)):
            if self.done:
                break
            i = self.i
            rs.set_config(self.index, self._config.replace(lr=float(self._lrs[i])))
            rs.advance(1)
            if rs.diverged_at[self.index] >= 0:
                self.diverged = self.stopped_early = self.done = True
                break
            loss = float(rs.loss[self.index])
            self._avg = s.beta * self._avg + (1.0 - s.beta) * loss
            sm = self._avg / (1.0 - s.beta ** (i + 1))
            self.losses.append(loss)
            self.smoothed.append(sm)
            if sm < self._best:
                self._best = sm
            if s.stop_div and sm > s.div_factor * self._best:
                self.stopped_early = self.done = True
            elif self.i >= s.num_it:
                self.done = True
        return self.done

    def run(self) -> LrFindResult:
        """Sweep to the end and return the result."""
        while not self.done:
            self.advance(self.settings.num_it)
        return self.result()

    def result(self) -> LrFindResult:
        n = self.i
        lrs = self._lrs[:n].copy()
        sm = np.asarray(self.smoothed, dtype=np.float64)
        steep, minimum = suggestions(lrs, sm, self.settings.num_it)
        return LrFindResult(lrs=lrs, losses=np.asarray(self.losses, dtype=np.float64),
                            smoothed=sm, steep=steep, minimum=minimum, settings=self.settings,
                            optimizer=self._config.name, diverged=self.diverged,
                            stopped_early=self.stopped_early, **self.meta)


# ------------------------------------------------------------------------- sessions
def session_sweep(session, run: int | None = None,
                  settings: SweepSettings | None = None, t: int | None = None) -> LrSweep:
    """A sweep from run ``run`` (default: the selected run, else the first shown one) of
    ``session`` at its displayed step (or step ``t``), with that run's optimizer and
    hyperparameters (lr swept), on its problem and mini-batches, the re-play to ``t`` done
    now (:class:`SweepJob`). The session is not changed."""
    return session_sweep_job(session, run, settings, t).start()


def session_sweep_job(session, run: int | None = None, settings: SweepSettings | None = None,
                      t: int | None = None) -> SweepJob:
    """:func:`session_sweep` as a :class:`SweepJob`: the re-play to the step, when there is
    one, is part of the job, not done here."""
    r = session.reference_run() if run is None else int(run)
    return SweepJob(session, r, settings, session.t if t is None else t)


def sweep_from(session, rs: RunSet, r: int, settings: SweepSettings | None) -> LrSweep:
    """A sweep from run ``r`` of ``session`` where it is in ``rs`` (the session's engine,
    or a re-play of it) (:func:`session_sweep`)."""
    i = session.spec_index(r)
    cfg = rs.configs[r]
    return LrSweep(rs.problem, cfg, rs.params[r].copy(), state=rs.state[r].copy(),
                   opt_t=int(rs.opt_t[r]), t0=int(rs.t), noise=rs.noise,
                   batch_size=rs.batch_size, seed=rs.seed, settings=settings,
                   fast=rs.fast, bound=rs.bound, index=r if rs.landscape and rs.noise else 0,
                   meta=dict(run=r, spec=i, t=int(rs.t), label=session.run_label(r)))


def apply_suggestion(session, result: LrFindResult, name: str = "steep") -> bool:
    """Set the swept run's spec to suggestion ``name`` through :meth:`Session.update_run`
    (live from the displayed step, as the sweep started there). False if there is none."""
    lr = result.suggestion(name)
    if lr is None or not 0 <= result.spec < session.n_specs:
        return session._fail(f"no {name} suggestion to apply")
    return session.update_run(result.spec, lr=min(max(lr, LR_MIN), LR_MAX))


# ------------------------------------------------------------------------- fair race
@dataclass(frozen=True, eq=False)
class TuneResult:
    """Per spec: ``best_lr`` (None when every grid lr diverged), ``best_score`` and
    ``current_score`` (its lr before tuning, ``current_lr``); ``grid`` the lrs tried and
    ``scores`` (n_specs, n_lrs) the mean final losses (+inf: diverged)."""

    grid: np.ndarray
    scores: np.ndarray
    best_lr: tuple[float | None, ...]
    best_score: tuple[float, ...]
    current_lr: tuple[float, ...]
    current_score: tuple[float, ...]
    labels: tuple[str, ...]
    optimizers: tuple[str, ...]
    steps: int

    def rows(self) -> list[dict]:
        def num(v):
            return float(v) if v is not None and math.isfinite(v) else None

        return [{"run": i, "label": self.labels[i], "optimizer": self.optimizers[i],
                 "lr": self.current_lr[i], "loss": num(self.current_score[i]),
                 "tuned_lr": self.best_lr[i], "tuned_loss": num(self.best_score[i])}
                for i in range(len(self.labels))]


def lr_grid(n: int = TUNE_DEFAULT_LRS, lo: float = LR_MIN, hi: float = LR_MAX) -> np.ndarray:
    """``n`` learning rates spaced evenly in log over [lo, hi] (float64)."""
    n = _int("number of learning rates", n, 2, TUNE_MAX_LRS)
    return np.geomspace(lo, hi, n)


class Tuning:
    """The fair race's runs in one RunSet (``record=False``): every config at ``n_lrs``
    grid lrs and at its own lr, from every start. :meth:`advance` takes up to k steps of
    all of them in one engine call (the UI calls it in chunks; :func:`tune` once);
    :meth:`result` scores them after ``steps`` steps."""

    def __init__(self, problem, configs, schedules, starts, *, steps: int,
                 total_steps: int | None = None, n_lrs: int = TUNE_DEFAULT_LRS,
                 noise: float = 0.0, batch_size: int = 1, seed: int = 0,
                 fast: bool | None = None, bound: float | None = None, labels=None):
        configs = list(configs)
        schedules = list(schedules)
        if len(schedules) != len(configs):
            raise ValueError("one schedule per config")
        starts = np.atleast_2d(np.asarray(starts, dtype=np.float64))
        self.steps = _int("number of tuning steps", steps, 1, MAX_STEPS)
        total = self.steps if total_steps is None else int(total_steps)
        self.grid = lr_grid(n_lrs)
        n_c, n_l, n_s = len(configs), len(self.grid) + 1, starts.shape[0]
        if n_c * n_l * n_s > TUNE_MAX_RUNS:
            raise ValueError(f"too many tuning runs: {n_c} runs x {n_l} lrs x {n_s} starts "
                             f"(at most {TUNE_MAX_RUNS})")
        self.shape = (n_c, n_l, n_s)
        self.configs = configs
        self.labels = tuple(labels or (c.describe() for c in configs))
        cfgs, scheds = [], []
        for c, sch in zip(configs, schedules):
            for lr in list(self.grid) + [c.lr]:
                cfg = c.replace(lr=float(lr))
                cfgs += [cfg] * n_s
                scheds += [sch] * n_s
        self.rs = RunSet(problem, cfgs, np.tile(starts, (n_c * n_l, 1)), schedules=scheds,
                         total_steps=max(total, 1), noise=noise, batch_size=batch_size,
                         seed=seed, fast=fast, record=False, bound=bound)

    @property
    def done(self) -> bool:
        return self.rs.t >= self.steps

    @property
    def fraction(self) -> float:
        return self.rs.t / self.steps

    def advance(self, k: int | None = None) -> bool:
        """Up to ``k`` more steps (default: all that are left) in one engine call."""
        left = self.steps - self.rs.t
        k = left if k is None else min(int(k), left)
        if k > 0:
            self.rs.advance(k)
        return self.done

    def result(self) -> TuneResult:
        if not self.done:
            raise ValueError("the tuning has not finished")
        rs = self.rs
        n_c, n_l, n_s = self.shape
        final = np.where((rs.diverged_at < 0) & np.isfinite(rs.loss), rs.loss, np.inf)
        score = final.reshape(n_c, n_l, n_s).mean(axis=2)
        score[~np.isfinite(score)] = np.inf
        scores = score[:, :-1]
        best_lr, best_score = [], []
        for i in range(n_c):
            j = int(np.argmin(scores[i]))
            lr, best = float(self.grid[j]), float(scores[i, j])
            if score[i, -1] <= best:  # the run's own lr is as good as any on the grid: kept
                lr, best = float(self.configs[i].lr), float(score[i, -1])
            best_lr.append(lr if math.isfinite(best) else None)
            best_score.append(best)
        return TuneResult(grid=self.grid, scores=scores, best_lr=tuple(best_lr),
                          best_score=tuple(best_score),
                          current_lr=tuple(float(c.lr) for c in self.configs),
                          current_score=tuple(float(v) for v in score[:, -1]),
                          labels=self.labels, optimizers=tuple(c.name for c in self.configs),
                          steps=self.steps)


def tune(problem, configs, schedules, starts, **kw) -> TuneResult:
    """Score ``n_lrs`` grid lrs and each config's own lr for every config, from every
    start, after ``steps`` steps, in one RunSet and one engine call (see :class:`Tuning`)."""
    t = Tuning(problem, configs, schedules, starts, **kw)
    t.advance()
    return t.result()


def session_tuning(session, n_lrs: int = TUNE_DEFAULT_LRS, steps: int | None = None,
                   fast: bool | None = None) -> Tuning:
    """:class:`Tuning` for every spec of ``session`` from its starts, on its problem at
    step 0 (base noise and batch size), scored after ``steps`` (default: the race's step
    budget ``max_steps``), each spec with its schedule over the race's budget."""
    n = session.n_specs
    configs = [session.effective_config(i) for i in range(n)]
    schedules = [session.specs[i].schedule for i in range(n)]
    noise, batch = session._base_noise
    steps = session.max_steps if steps is None else steps
    rs = session.runset
    return Tuning(session._problem_for(batch), configs, schedules, session.starts,
                  steps=steps, total_steps=session.max_steps, n_lrs=n_lrs, noise=noise,
                  batch_size=batch, seed=session.seed,
                  fast=session._fast if fast is None else fast, bound=rs.bound,
                  labels=[session.spec_label(i) for i in range(n)])


def session_tune(session, n_lrs: int = TUNE_DEFAULT_LRS, steps: int | None = None,
                 fast: bool | None = None) -> TuneResult:
    """:func:`session_tuning`, run in one engine call."""
    t = session_tuning(session, n_lrs, steps, fast)
    t.advance()
    return t.result()


def apply_tuned(session, result: TuneResult) -> bool:
    """Set each spec to its tuned lr (through :meth:`Session.update_run`, with
    ``same_lr`` off) and replay the race from step 0, as one change."""
    if len(result.best_lr) != session.n_specs:
        return session._fail("the tuning is for another set of runs: tune again")
    with session._changes():
        session.pause()
        if session.same_lr:
            session.set_same_lr(False)
        for i, lr in enumerate(result.best_lr):
            if lr is not None:
                session.update_run(i, lr=lr)
        session.reset()
    return True


# ------------------------------------------------------------------------- scenes
def apply_scene_lrfind(lf, run_ids, session, *, run: bool = True):
    """A scene's ``[lrfind]`` table (:class:`gdviz.core.scene.schema.LrFind`) into a
    session just restored from it: the sweep (``show``) from run ``lf.run`` at
    ``lf.at_step`` into ``session.lrfind``, the tuning (``tune``) into ``session.tuned``
    (the runs' lrs are not changed). A run that has diverged by ``at_step`` has no
    sweep to show: the plot stays empty. Raises ValueError for bad settings.

    ``run=False``: the work is made and checked (:class:`SceneJobs`) but not done, and
    returned for the caller to run in chunks and :meth:`~SceneJobs.finish` (the window,
    with progress: a saved scene's tuning of 10⁵ steps froze the open for 0.4 s); None
    when there is none left (the results are in the session then)."""
    jobs = SceneJobs(session, lf, run_ids)
    if run or jobs.done:
        jobs.advance(None)
        jobs.finish()
        return None
    return jobs


#: seconds of a re-play to a sweep's start per :meth:`SweepJob.advance` call in chunks
SCENE_REPLAY_CHUNK_S = 0.008


class SweepJob:
    """A sweep from run ``r`` of ``session`` at step ``t`` (:func:`session_sweep`), with
    the re-play to ``t`` first where the session's engine is elsewhere (a step scrubbed
    back to, a scene's ``at_step``), from the engine's last checkpoint before ``t``; for a
    caller that runs it in chunks (``advance(k)``, ``done``, ``fraction``, ``phase``).
    Found at the end of the re-play, a run that has diverged raises ValueError (``strict``)
    or leaves no sweep (:attr:`sweep` None). (Find lr re-played at once: L21 with 16
    networks, 800 steps back, 0.2 s in the press.)"""

    def __init__(self, session, r: int, settings: SweepSettings | None, t: int, *,
                 strict: bool = True):
        if not 0 <= r < session.n_runs:
            raise ValueError(f"no run {r} (there are {session.n_runs})")
        self.session, self._run, self._settings, self.strict = session, r, settings, strict
        self.sweep: LrSweep | None = None
        self._replay = None
        t = _int("step", t, 0, session.max_steps)
        rs = session.runset
        if rs.t == t:
            self._make(rs)
        else:
            from gdviz.core.session.history import ReplayJob

            self._replay = ReplayJob(session, t, start=rs.clone_at(t))

    def _make(self, rs) -> None:
        if rs.diverged_at[self._run] >= 0:
            if self.strict:
                raise ValueError(f"run {self._run + 1} has diverged: the sweep needs a "
                                 "finite start")
            return
        self.sweep = sweep_from(self.session, rs, self._run, self._settings)

    @property
    def done(self) -> bool:
        return self._replay is None and (self.sweep is None or self.sweep.done)

    @property
    def phase(self) -> str:
        """"replay" or "sweep": what :meth:`advance` does next (a chunked caller starts its
        chunk size anew at each: their steps cost differently)."""
        return "replay" if self._replay is not None else "sweep"

    @property
    def fraction(self) -> float:
        """The share done, the re-play counted as the first half."""
        if self._replay is not None:
            return 0.5 * self._replay.rs.t / max(self._replay.to, 1)
        if self.sweep is None:
            return 1.0
        f = self.sweep.fraction
        return 0.5 + 0.5 * f if self._replayed else f

    _replayed = False  # (there was a re-play: the sweep is the second half)

    def advance(self, k: int | None = 10) -> bool:
        """Up to ``k`` sweep steps, or ~:data:`SCENE_REPLAY_CHUNK_S` of the re-play
        before them; ``k=None``: all of it. Returns :attr:`done`."""
        if self._replay is not None:
            if k is not None:
                if not self._replay.run(time.perf_counter() + SCENE_REPLAY_CHUNK_S):
                    return False
            self.start()
            if k is not None:
                return self.done
        if self.sweep is not None and not self.sweep.done:
            if k is None:
                self.sweep.run()
            else:
                self.sweep.advance(k)
        return self.done

    def start(self) -> LrSweep | None:
        """The sweep, its re-play run to the end now, not yet stepped (None: the run had
        diverged, not ``strict``)."""
        if self._replay is not None:
            job = self._replay
            job.run()
            self._replay, self._replayed = None, True
            self._make(job.rs)
        return self.sweep

    def result(self) -> LrFindResult | None:
        """The sweep's result (None: the run had diverged, not ``strict``)."""
        return self.sweep.result() if self.sweep is not None else None


class SceneJobs:
    """A scene's ``[lrfind]`` work as one job for :func:`apply_scene_lrfind` and for a
    caller that runs it in chunks (``advance(k)``, ``done``, ``fraction``, ``phase``, as
    :class:`SweepJob` and :class:`Tuning`): the sweep (:class:`SweepJob`, its re-play
    first), then the tuning. :meth:`finish` puts the results into the session, as one
    change. Everything is checked when it is made (ValueError)."""

    def __init__(self, session, lf, run_ids):
        self.session = session
        self.show = bool(lf.show)
        self.sweep: SweepJob | None = None
        self.tuning: Tuning | None = None
        self._landed = False  # (the sweep's result is in the session)
        if lf.show:
            r = list(run_ids).index(lf.run) if lf.run else (0 if session.selected < 0 else None)
            settings = SweepSettings(start_lr=lf.start_lr, end_lr=lf.end_lr, num_it=lf.num_it)
            self.sweep = SweepJob(session, session.reference_run() if r is None else r,
                                  settings, lf.at_step, strict=False)
        if lf.tune:
            self.tuning = session_tuning(session, n_lrs=lf.tune_lrs, steps=lf.tune_steps or None)

    @property
    def done(self) -> bool:
        return not self.sweeping and (self.tuning is None or self.tuning.done)

    @property
    def sweeping(self) -> bool:
        """True while the sweep (or its re-play) goes on (then the tuning, if any)."""
        return self.sweep is not None and not self.sweep.done

    @property
    def phase(self) -> str:
        """"replay", "sweep" or "tune": what :meth:`advance` does next (a chunked caller
        starts its chunk size anew at each: a tuning step of L21's 16 networks x 25 lrs
        costs ~100 sweep steps)."""
        return self.sweep.phase if self.sweeping else "tune"

    @property
    def fraction(self) -> float:
        parts = [j.fraction for j in (self.sweep, self.tuning) if j is not None]
        return 1.0 if self.done or not parts else sum(parts) / len(parts)

    def advance(self, k: int | None = 10) -> bool:
        """Up to ``k`` steps of the sweep (or a piece of its re-play) or of the tuning;
        ``k=None``: all of it. Returns :attr:`done`."""
        if self.sweeping:
            if not self.sweep.advance(k) or k is not None:
                return self.done
        if self.tuning is not None:
            self.tuning.advance(k)
        return self.done

    def run_for(self, seconds: float, clock=time.perf_counter) -> bool:
        """Advance in chunks for about ``seconds`` (by ``clock``; at least one chunk), from
        one step, doubling while time is left, and from one step again at each phase (a
        tuning step of L21's networks costs ~100 sweep steps: a chunk of the sweep's size
        would overrun); returns :attr:`done`."""
        end = clock() + seconds
        k, phase = 1, self.phase
        while not self.advance(k):
            if clock() >= end:
                return False
            k, phase = (1, self.phase) if self.phase != phase else (2 * k, phase)
        return True

    def land_sweep(self) -> bool:
        """The sweep's result into the session once it has ended, while the tuning goes on
        (its plot need not wait for the tuning); True when it went in now."""
        if not self.show or self._landed or self.sweeping:
            return False
        self._landed = True
        self.session.set_lrfind(self.sweep.result())
        return True

    def finish(self) -> None:
        """The results into the session (those not in yet), as one change (the sweep's
        plot empty where the run had diverged)."""
        s = self.session
        with s._changes():
            self.land_sweep()
            if self.tuning is not None:
                s.set_tuned(self.tuning.result())


def scene_lrfind(session, run_ids, base):
    """The ``[lrfind]`` table that reopens ``session.lrfind`` and ``session.tuned``
    (``base``: the scene's table, for what the session does not hold)."""
    import dataclasses

    lf = base
    res = session.lrfind
    if res is not None:
        s = res.settings
        ids = list(run_ids)
        lf = dataclasses.replace(lf, show=True, run=ids[res.spec] if res.spec < len(ids) else "",
                                 at_step=min(int(res.t), int(session.max_steps)),
                                 start_lr=s.start_lr, end_lr=s.end_lr,
                                 num_it=s.num_it)
    else:
        lf = dataclasses.replace(lf, show=False)
    tuned = session.tuned
    if tuned is not None:
        steps = 0 if tuned.steps == session.max_steps else int(tuned.steps)
        lf = dataclasses.replace(lf, tune=True, tune_lrs=len(tuned.grid), tune_steps=steps)
    else:
        lf = dataclasses.replace(lf, tune=False)
    return lf
