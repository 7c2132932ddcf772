"""History: the engine, the log of live changes, exact replay, and reading the recorded runs.

Time. ``runset.t`` is how far the engine has computed; ``t`` is the step on display
(``t <= runset.t``).

Live settings. Hyperparameters, the shared lr and the gradient noise change from the
current step on, without a reset: the engine keeps its optimizer state. Each change is
logged with the step it took effect at, so that any step can be re-played exactly
(the gradient noise is counter-based, so a replay draws the same numbers). If ``t`` was
scrubbed back when a setting changes, the recorded future is dropped first (the engine
is rebuilt from the start and re-played to ``t``) and the change applies from ``t``:
what you see is always one consistent history. The log holds what the engine ran, not
settings: each run's lr is owned by its :class:`~gdviz.core.session.runs.RunSpec`.

Every engine is built by :meth:`HistoryMixin._make_runset` (tests count the builds by
patching ``gdviz.core.session.history.RunSet``).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import numpy as np

from gdviz.core.engine import RunSet
from gdviz.core.optimizers import OptimizerConfig


#: with ``Session.background_replay`` on, a re-play that takes longer than this (seconds)
#: stops there and goes on in :meth:`HistoryMixin.continue_replay` (the window calls it
#: every frame), so that adding a run at step 10^6 does not freeze the window (0.08 s
#: here, with the views' redraw after it, made adding a 31st run block 0.25-0.4 s)
REPLAY_BUDGET_S = 0.010
#: a re-play advances in pieces of at most about this long (s): each piece's steps are
#: sized from the measured cost of a step and the time left before the deadline, so that
#: a deadline is kept to within one step (30 runs of L21's network: 1-3 ms a step)
REPLAY_PIECE_S = 0.004
#: the step-by-step numbers of a past step are re-played from the engine's last checkpoint
#: (every 256 steps); that re-play keeps the engine's state every this many steps, so that
#: the steps before it (← held on L21's 30 networks: 75-255 steps, 0.1-0.2 s a press)
#: re-play at most this many
DETAIL_MARKS = 16

#: the clock a re-play's deadline is read on (tests put a counting clock here)
_clock = time.perf_counter


#: what :meth:`HistoryMixin.details` returns while its re-play goes on (a deadline)
DETAILS_PENDING = "details re-playing"


class ReplayJob:
    """A fresh engine advanced to step ``to`` with the logged changes re-applied, in pieces.

    Changes logged at step s took effect after step s; only those with ``s < events_before``
    (default: ``s <= to``) are applied. :meth:`run` goes until done, or until a deadline.
    Between calls every change logged at or before ``rs.t`` has been applied."""

    def __init__(self, session, to_step: int, events_before: int | None = None, start=None,
                 marks: int | None = None):
        self.session = session
        #: without a deadline, the engine keeps a checkpoint at every multiple of ``marks``
        #: it passes before ``to`` (before the changes logged at that step, as its own)
        self.marks = int(marks) if marks else None
        #: the engine: a new one at step 0, or ``start``, an engine put back at one of its
        #: checkpoints (changes logged at its step and later are applied from there)
        self.rs = session._make_runset() if start is None else start
        self.to = int(to_step)
        limit = self.to + 1 if events_before is None else int(events_before)
        first = self.rs.t
        self.events = [e for e in session._events if first <= e[0] < limit]
        self.i = 0
        #: the measured seconds a step takes (None: not measured yet, the first piece is
        #: one step) and the steps of the last piece (a piece at most doubles the last)
        self._step_s: float | None = None
        self._last_n = 1
        self._moved = False

    @property
    def done(self) -> bool:
        return self.i >= len(self.events) and self.rs.t >= self.to

    def _piece(self, left_steps: int, deadline: float) -> int:
        """How many steps the next piece takes: what the time left before ``deadline``
        covers at the measured cost of a step (at most :data:`REPLAY_PIECE_S` worth, at
        most twice the last piece); 0 when not even one step fits and this call has
        already moved (every call moves at least one step, so a re-play always ends)."""
        if self._step_s is None:
            n = 1
        else:
            left = deadline - _clock()
            n = int(min(left, REPLAY_PIECE_S) / max(self._step_s, 1e-9))
            n = min(n, 2 * self._last_n)
        if n < 1:
            n = 0 if self._moved else 1
        return min(n, left_steps)

    def _advance_to(self, step: int, deadline: float | None) -> bool:
        rs = self.rs
        while rs.t < step:
            if deadline is None:
                if self.marks is None:
                    rs.advance(step - rs.t)
                    break
                mark = (rs.t // self.marks + 1) * self.marks
                rs.advance(min(step, mark) - rs.t)
                if rs.t == mark and mark < self.to:
                    rs.keep_checkpoint()
                continue
            n = self._piece(step - rs.t, deadline)
            if n == 0:
                return False
            mark = None
            if self.marks is not None:  # (its marks kept, as without a deadline)
                mark = (rs.t // self.marks + 1) * self.marks
                n = min(n, mark - rs.t)
            t0 = _clock()
            rs.advance(n)
            self._step_s = max(_clock() - t0, 0.0) / n
            self._last_n = n
            self._moved = True
            if mark is not None and rs.t == mark and mark < self.to:
                rs.keep_checkpoint()
        return True

    def run(self, deadline: float | None = None) -> bool:
        """Advance; True when done, False when the next step would end past ``deadline``
        (a :data:`_clock` time; the call then stops, having moved at least one step)."""
        self._moved = False
        while self.i < len(self.events):
            step, kind, payload = self.events[self.i]
            if step > self.rs.t and not self._advance_to(step, deadline):
                return False
            self.session._apply_event(self.rs, kind, payload)
            self.i += 1
        return self._advance_to(self.to, deadline)


class HistoryMixin:
    """The engine and its history, for :class:`~gdviz.core.session.Session`."""

    runset: RunSet
    t: int
    #: set by a driver that calls :meth:`continue_replay` every frame (the window): a long
    #: re-play (adding or removing a run, a new step budget) then shows its progress instead
    #: of blocking; headless users (export, the CLI, tests) get the whole re-play at once
    background_replay: bool = False
    _catchup: ReplayJob | None = None
    #: (step, history key, job): a re-play for :meth:`details` stopped at its deadline
    _details_job: tuple | None = None
    #: True inside play/pause: they leave a background re-play going
    _keep_replay: bool = False

    # ------------------------------------------------------------------ engine plumbing
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
        job = ReplayJob(self, to_step, events_before)
        job.run()
        return job.rs

    def _replay_display(self, to: int, background: bool = False) -> None:
        """Replace the engine with a re-play of the history to ``to`` and show its last step.
        With ``background`` and :attr:`background_replay`, what does not fit in :data:`REPLAY_BUDGET_S` goes
        on in :meth:`continue_replay`, and the display follows it there."""
        job = ReplayJob(self, to)
        deadline = (_clock() + REPLAY_BUDGET_S
                    if background and self.background_replay else None)
        done = job.run(deadline)
        self.runset = job.rs
        self.t = job.rs.t
        self._catchup = None if done else job

    @property
    def replaying(self) -> tuple[int, int] | None:
        """(step reached, step to reach) while a re-play goes on in the background."""
        job = self._catchup
        return None if job is None else (int(job.rs.t), job.to)

    def continue_replay(self, budget_s: float = 0.03) -> bool:
        """Go on with a background re-play for about ``budget_s`` seconds (the display
        follows it); True while there is more to do."""
        job = self._catchup
        if job is None:
            return False
        self._catchup = None  # so that this change does not settle it (see _settle_replay)
        with self._changes():
            done = job.run(_clock() + max(float(budget_s), 0.001))
            self.t = job.rs.t
            self._catchup = None if done else job
            self._emit("stepped")
        return not done

    @contextlib.contextmanager
    def _keeping_replay(self):
        """Changes inside do not stop a background re-play (play, pause, the speed)."""
        keep, self._keep_replay = self._keep_replay, True
        try:
            yield
        finally:
            self._keep_replay = keep

    def _settle_replay(self) -> None:
        """Any other change during a background re-play stops it where it is: the display's
        step becomes the end of the history, and the changes logged after it (the sliders
        as they are now) apply from there, as a change made after scrubbing back does."""
        job, self._catchup = self._catchup, None
        if job is None:
            return
        rest = job.events[job.i:]
        for _, kind, payload in rest:
            self._apply_event(job.rs, kind, payload)
        self._events = job.events[:job.i] + [(job.rs.t, kind, payload) for _, kind, payload in rest]
        self.t = job.rs.t

    def _build(self, replay_to: int, background: bool = False) -> RunSet:
        """(Re)build the engine: from scratch if ``replay_to`` is 0, else re-played to it
        (``background``: see :meth:`_replay_display`)."""
        if replay_to <= 0:
            self._base_configs = [self.effective_config(i) for i in range(self.n_specs)]
            self._base_noise = (self.noise, self.batch_size)
            self._events = []
        self._details_cache = {}
        self.last_advance = (0, 0.0)  # (a new engine's speed is its own)
        self._replay_display(replay_to, background)
        return self.runset

    def _restart(self) -> None:
        self._acc = 0.0
        self._build(0)

    def _truncate_future(self) -> None:
        """Drop the recorded steps after the displayed one (called before a live change)."""
        if self.t < self.runset.t:
            self._events = [e for e in self._events if e[0] <= self.t]
            # from the engine's last checkpoint at or before t, not from step 0
            self.runset.restore_checkpoint(self.t)
            ReplayJob(self, self.t, start=self.runset).run()
            self._details_cache = {}

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
        self._replay_display(to, background=True)

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
        return self.kind in ("fit", "classify") and self.problem.x_val.shape[0] > 0

    def _rows_of(self, cache: dict, fn, t: int | None) -> list[np.ndarray]:
        """``fn`` (float64 (m, n_params) -> (m,)) of each run's recorded rows up to step
        ``t``, as :meth:`losses` lists them. Stored rows are computed once and kept in
        ``cache``; the live row that :meth:`RunSet.trajectory` may append between stored
        rows is computed afresh each time (it moves on with the next step)."""
        t = self._t(t)
        rs = self.runset
        if cache.get("runset") is not rs or cache.get("stride") != rs.stride \
                or cache.get("version") != rs.version:
            cache.clear()
            cache.update(runset=rs, stride=rs.stride, version=rs.version,
                         rows=[np.zeros(0)] * self.n_runs)
        out = []
        for r in range(self.n_runs):
            P, _ = rs.trajectory(r, t)
            stored = min(len(P), rs.last_step(r) // rs.stride + 1)
            have = cache["rows"][r]
            if len(have) < stored:
                have = np.concatenate([have, fn(P[len(have):stored])])
                cache["rows"][r] = have
            out.append(np.concatenate([have[:stored], fn(P[stored:])]) if stored < len(P)
                       else have[:stored])
        return out

    def val_losses(self, t: int | None = None) -> list[np.ndarray] | None:
        """Each run's validation loss history up to step ``t`` (list of float64 (m,)), or
        None without a validation set. Computed from the recorded parameters, once per row."""
        if not self.has_validation:
            return None
        return self._rows_of(self._val_cache, self.problem.val_loss, t)

    def weight_norms(self, t: int | None = None) -> list[np.ndarray]:
        """Each run's ‖θ‖₂, the Euclidean norm of all its parameters (what weight decay
        shrinks), up to step ``t``: list of float64 (m,), the rows of :meth:`losses`.
        Computed from the recorded parameters, once per row (lesson L13 draws it)."""
        return self._rows_of(self._norm_cache, param_norms, t)

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

    def details(self, r: int, t: int | None = None, deadline: float | None = None):
        """Step-by-step numbers of run ``r`` for the update that produced step ``t``
        (default: displayed): dict(step, g, m, v, step_size, delta, lr) as
        :meth:`RunSet.details` gives them; None at t = 0 (no update yet).

        Steps behind the engine's front are re-played (exactly: the noise is counter-based).
        ``deadline`` (a :data:`_clock` time): a re-play that would run past it stops there
        and :data:`DETAILS_PENDING` is returned; the next call for the same step and
        history goes on from where it stopped (the step-by-step panel after a jump back:
        L21 with 16 networks re-played up to 255 steps, 100-200 ms, in one turn).
        """
        t = self._t(t)
        if t <= 0 or not 0 <= r < self.n_runs:
            return None
        if t == self.runset.t:
            return self.runset.details(r)
        if t not in self._details_cache:
            key = self._history_key()
            kept = self._details_job
            if kept is not None and kept[0] == t and kept[1] == key:
                job = kept[2]
            else:
                job = ReplayJob(self, t, events_before=t, start=self._detail_start(t),
                                marks=DETAIL_MARKS)
            self._details_job = None
            if not job.run(deadline):
                self._details_job = (t, key, job)
                return DETAILS_PENDING
            if not getattr(job.rs, "_from_marks", False):
                # its marks serve the steps before t (a step back re-plays a few steps)
                self._detail_marks = (self._history_key(), job.rs)
            self._details_cache[t] = [job.rs.details(k) for k in range(self.n_runs)]
        return self._details_cache[t][r]

    def _history_key(self) -> tuple:
        """What a re-play's marks hold for: this engine, its version, the changes logged."""
        return (self.runset, self.runset.version, list(self._events))

    def _detail_start(self, t: int) -> RunSet:
        """The engine to re-play step ``t`` from: at the engine's last checkpoint before
        ``t``, or at a later mark of the last such re-play of this history."""
        start = self.runset.clone_at(t)
        kept = getattr(self, "_detail_marks", None)
        if kept is not None:
            key, rs = kept
            if key == self._history_key():
                mark = rs.latest_checkpoint(t)
                if mark is not None and mark > start.t:
                    start = rs.clone_at(t)
                    start._from_marks = True
            else:
                self._detail_marks = None
        return start


def param_norms(P: np.ndarray) -> np.ndarray:
    """‖θ‖₂ of each row of ``P`` (float64 (m, n_params)) -> float64 (m,): the size of all
    the parameters, which is what weight decay (an L2 penalty on every parameter) shrinks."""
    P = np.asarray(P, dtype=np.float64)
    return np.sqrt(np.einsum("ij,ij->i", P, P))
