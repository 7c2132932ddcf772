"""The heavy views of the window take turns while a classification plays.

Issue 12's live view draws four heavy things every frame: the map (its loss slice, the
trails), the loss curves, the plane (decision surface, boundaries, thumbnails) and the
network picture. Together they did not fit a 60 Hz frame on a classroom laptop. While
the race plays in the window they take turns: the map and the network picture on one frame, the
plane and the loss curves on the next (the pairs that cost about the same on L21: 2-3 ms
less than the map with the loss curves against the plane with the network). Each still
refreshes 30 times a second at 60 frames a second, and a frame draws half the work. The
network picture shows the plane's thumbnails as they were at its own turn (a frame after
the plane drew them).

A race of many runs (more than :data:`MANY_RUNS`) on any problem takes turns too: the map
and the loss curves each stroke a curve or two per run every frame, and with 25 runs
the two of them were 35-40 ms of a frame; on alternate frames they share it (the fit
panel, one curve per run, draws every frame).

A turn is only skipped on a playing frame: a ``stepped`` while the race plays that moved
the displayed step forward. A step by hand, a scrub back (or any while paused), a reset, a
new run or selection, and every other change draw at once, and a view that sat out the
race's last frame draws the exact displayed step when the race stops (``playing_changed``).
An export's picture never takes turns.

Each view counts the playing frames it saw: the views of one picture are built together
and see every ``stepped``, so their counts agree and phases 0 and 1 alternate.
"""

from __future__ import annotations

#: frames in one round of turns (each view draws on one of them)
ROUND = 2
#: the problem kinds whose views take turns (a surface lesson's map and loss curves fit a
#: frame together: ``gdviz bench frame``)
KINDS = ("classify",)
#: above this many runs every problem's heavy views take turns while the race plays, and
#: their run curves are stroked aliased (gdviz.ui.views.items.PlayingStrokes); a
#: teacher's race (4-8 runs) draws everything every frame, antialiased
MANY_RUNS = 8


class Turn:
    """One view's turn among the heavy views: phase ``phase`` of every :data:`ROUND`
    playing frames. Off (:attr:`enabled` False, as made) it never skips. ``catch_up()``
    redraws the view at the displayed step."""

    def __init__(self, session, phase: int, catch_up):
        self.session = session
        self.phase = int(phase) % ROUND
        self.enabled = False
        self._catch_up = catch_up
        self._frames = 0
        self._t: int | None = None  # the displayed step at the last ``stepped``
        #: the view sat out the last playing frame (it shows an earlier step)
        self.behind = False

    @property
    def taking(self) -> bool:
        """Turns are being taken now (a playing classification, or a race of many runs,
        in the window)."""
        s = self.session
        return self.enabled and s.playing and (s.kind in KINDS or s.n_runs > MANY_RUNS)

    def skips(self) -> bool:
        """Called first on each ``stepped``: True when the view sits this frame out."""
        t = int(self.session.t)
        forward = self._t is None or t > self._t
        self._t = t
        if not (self.taking and forward):
            self.behind = False
            return False
        self._frames += 1
        self.behind = self._frames % ROUND != self.phase
        return self.behind

    def on_playing_changed(self, *_) -> None:
        """The race stopped: a view that sat out its last frame draws the displayed step,
        once the change has settled (gdviz.ui.views.refresh.later: a scene opened over a
        playing race redrew the map and the loss curves here, then again for the new
        runs, ~18 ms of the open's turn with 16 networks)."""
        if self.behind and not self.session.playing:
            from gdviz.ui.views.refresh import later

            self.behind = False
            later(self.session, self._catch_up)
