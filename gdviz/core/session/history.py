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

from typing import Any

import numpy as np

from gdviz.core.engine import RunSet
from gdviz.core.optimizers import OptimizerConfig


class HistoryMixin:
    """The engine and its history, for :class:`~gdviz.core.session.Session`."""

    runset: RunSet
    t: int

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
        if cache.get("runset") is not rs or cache.get("stride") != rs.stride:
            cache.clear()
            cache.update(runset=rs, stride=rs.stride, rows=[np.zeros(0)] * self.n_runs)
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


def param_norms(P: np.ndarray) -> np.ndarray:
    """‖θ‖₂ of each row of ``P`` (float64 (m, n_params)) -> float64 (m,): the size of all
    the parameters, which is what weight decay (an L2 penalty on every parameter) shrinks."""
    P = np.asarray(P, dtype=np.float64)
    return np.sqrt(np.einsum("ij,ij->i", P, P))
