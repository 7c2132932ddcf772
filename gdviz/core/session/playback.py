"""Playback: play, pause, step, scrub and the frame clock's tick.

:meth:`PlaybackMixin.scrub` and :meth:`PlaybackMixin.step_back` move the displayed step
``t`` back; stepping forward first walks ``t`` through the recorded steps and only then
computes new ones. A frame advances k steps in one engine call and emits ``stepped`` once.
"""

from __future__ import annotations

import time

#: the longest frame tick() catches up on; a stalled UI must not snowball
MAX_TICK_DT = 0.1


class PlaybackMixin:
    """Playback for :class:`~gdviz.core.session.Session`."""

    playing: bool
    t: int
    speed: float
    max_steps: int
    last_advance: tuple[int, float] = (0, 0.0)

    def _set_playing(self, flag: bool) -> None:
        if flag != self.playing:
            with self._keeping_replay(), self._changes():  # a re-play goes on
                self.playing = flag
                self._acc = 0.0

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
        with self._changes():
            if moved:
                if target > self.runset.t:
                    n = target - self.runset.t
                    t0 = time.perf_counter()
                    self.runset.advance(n)
                    #: (steps, seconds) of the engine's last advance: the window's frame
                    #: clock keeps a frame's steps within its budget from it
                    self.last_advance = (n, time.perf_counter() - t0)
                    if self.selected >= 0:
                        self._cache_details()
                self.t = target
                self._emit("stepped")
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
        with self._changes():
            self.pause()
            if self.t <= 0:
                return 0
            self.t -= 1
            self._emit("stepped")
        return 1

    def scrub(self, t: int) -> None:
        """Display recorded step ``t`` (clamped to 0..runset.t)."""
        t = max(0, min(int(t), self.runset.t))
        if t != self.t:
            with self._changes():
                self.t = t
                self._emit("stepped")

    def reset(self) -> None:
        """Restart the race from the starts with the current settings (t = 0)."""
        with self._changes():
            self._restart()
            self._emit("stepped")

    def tick(self, dt_seconds: float) -> int:
        """Called by the UI's frame timer: advance ``speed * dt`` steps (fractional steps
        carry over) in one engine call and emit ``stepped`` once. Returns the steps moved."""
        if self.replaying is not None:  # a background re-play takes the frame
            self.continue_replay(min(max(float(dt_seconds), 0.0), MAX_TICK_DT) * 0.75)
            return 0
        if not self.playing:
            return 0
        dt = min(max(float(dt_seconds), 0.0), MAX_TICK_DT)
        self._acc += self.speed * dt
        k = int(self._acc)
        if k <= 0:
            return 0
        self._acc -= k
        return self._forward(k)
