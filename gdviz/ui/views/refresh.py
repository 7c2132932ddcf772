"""One refresh per view per change (issue 10, item 11).

One change of the session sends several signals (a scene's restore: problem, runs,
settings, selection, stepped), and a view that listens to several of them redrew on each:
a classifier's plane was computed four times for one lesson, the loss curves fed and
re-ranged three times. A window-wide change (a lesson, the language, the theme, a resize)
adds its own events (LanguageChange, FontChange, resizes) on top.

Here a view asks for its refresh with :func:`later` instead of running it: while the
session's signals go out (:attr:`Session.notifying`) or a window-wide change holds
refreshes (:func:`held`), the refresh waits, once however often it was asked for, and runs
when the change has settled (:attr:`Session.settled`, or the end of the outermost
:func:`held`), before the next paint. Otherwise it runs at once. Either way a view shows
the model when the call that changed it returns; but for a lesson or scene opened from
the menu (``held(run=False)``): its views refresh in the window's settle, the next event
the window gets, ahead of any paint, timer or input
(:meth:`gdviz.ui.main_window.MainWindow.open_scene_asking`).

Refreshes of the layout (which views show) run before the views' own (``layout=True``), so
that a view hidden by the change skips its work. What a view collects from a worker thread
(a live slice of the map, computed meanwhile) runs after every other refresh
(``last=True``): the change's other work overlaps the worker's, and the turn waits only
for what is left of it.

A change of the model outside a window-wide change (a scrub, a step back, an edit) may
spread its views' refreshes over turns of the event loop (:func:`set_budget`, the app's
:data:`TURN_BUDGET_S`): once the change and the refreshes run so far have taken the budget,
the rest wait for the next turn, after the user's input and the paint of what has
refreshed, and so on, a view at least a turn. (L21 with 16 networks at 300 % text: a
scrub's refreshes, the loss curves 30-45 ms, the map 13, the plane 15, the schedule, the
network, the step panel, were one turn of 35-90 ms and 100-230 ms beside the maps' workers.)
Until its turn a view shows the step before, for a turn or two.

A restyle of the whole window (a text size, the language, projector mode) changes no
model: its refreshes may wait for a later turn of the event loop, the window's settle
(:func:`hold`, :func:`release`), so that no single turn restyles, lays out and refreshes
everything. A change of the model meanwhile runs them when it settles, as above.
"""

from __future__ import annotations

import time
import weakref
from contextlib import contextmanager

#: refreshes waiting: the layout's first, then the views' (dicts: each once, in order)
_layout: dict = {}
_views: dict = {}
_last: dict = {}
_holds = 0
#: windows whose restyle's refreshes wait for a later turn (:func:`hold`), and whether the
#: model changed meanwhile (then nothing waits: a view must show the model when the call
#: that changed it returns)
_deferring = 0
_changed = False
_flushing = False
_watched: "weakref.WeakSet" = weakref.WeakSet()
#: time.monotonic() when the change under way began (its outermost :func:`held`, or its
#: session's first deferred refresh); None between changes
_began: list = [None]
#: seconds a change of each session may take in one turn for its refreshes
#: (:func:`set_budget`); a session not in it: all in one turn
_budgets: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
#: refreshes left for a later turn by a budget (:func:`_spread`), and whether its timer
#: is on its way
_spread_left = {"waiting": False, "queued": False}
#: called when a change's refreshes spread over turns (a window staggers its plots' paints)
_on_spread: list = []


def when_spread(hook) -> None:
    """Call ``hook()`` (a bound method; held weakly) each time a change's refreshes spread
    over turns (:func:`set_budget`): the change is a heavy one, and its paint may be too."""
    _on_spread.append(weakref.WeakMethod(hook))


#: the app's budget (:func:`set_budget`): a turn of the event loop that refreshes views
#: takes about this long, then the paint of what refreshed (issue 10, item 11: no turn
#: over 100 ms)
TURN_BUDGET_S = 0.03


def set_budget(session, seconds: float | None) -> None:
    """Spread a change of ``session``'s refreshes over turns of the event loop once they
    take ``seconds`` (the app's window: :data:`TURN_BUDGET_S`); None (as any session
    starts): all of them in the change's turn (an export's, which draws its frame when
    the step returns; tests, which look at a view then). At least one refresh runs in each
    turn."""
    if seconds is None:
        _budgets.pop(session, None)
    else:
        _budgets[session] = max(float(seconds), 0.0)


def now() -> float:
    """The clock the budgets count on (time.monotonic())."""
    return time.monotonic()


def budget_of(session) -> float | None:
    """``session``'s budget (:func:`set_budget`), None when it has none."""
    return _budgets.get(session)


def settle(budget: float, since: float) -> None:
    """The refreshes a window-wide change left waiting (``held(run=False)``), within
    ``budget`` counted from ``since`` (a :func:`now`: the change's start, its layout has
    taken part of it), unless a hold still keeps them. When an earlier flush has left
    views' refreshes for a later turn, they wait for it (its timer is on its way): only
    the layout's run now."""
    if _holds or _waiting():
        return
    if _spread_left["waiting"]:
        flush(views=False)
    else:
        flush(budget=budget, since=since)


def finish() -> None:
    """Run at once what a budget left for a later turn (a grab of the window)."""
    if _spread_left["waiting"] and not _holds and not _flushing:
        flush()


#: >0 while a block runs every refresh at once (:func:`at_once`)
_at_once = [0]


@contextmanager
def at_once():
    """What waits for a later turn runs now (:func:`finish`), and a resize's refresh asked
    for in the block runs at once, as without a budget (:func:`soon`): a grab of the
    window, which lays out what is pending and draws it now."""
    finish()
    _at_once[0] += 1
    try:
        yield
    finally:
        _at_once[0] -= 1


def deadline(budget: float) -> float:
    """time.monotonic() by which the change under way has taken ``budget`` seconds (from
    now, outside a change): what waits within a change (a worker's slice) waits no longer,
    so that the turn stays within its budget."""
    t0 = _began[0]
    return (time.monotonic() if t0 is None else t0) + budget


def later(session, fn, *, layout: bool = False, last: bool = False) -> None:
    """Run ``fn()`` when ``session``'s current change has settled, once however often it
    is asked for; at once when no change is going out and nothing holds refreshes.
    Asked for during a flush (a layout's refresh resized a view), it runs in that flush,
    once, after the refresh that asked. ``layout``: before the views' refreshes; ``last``:
    after them all (a worker's result collected)."""
    global _changed
    notifying = getattr(session, "notifying", False)
    if notifying and _deferring:
        _changed = True  # a change of the model: its refreshes run when it settles
    if (not _holds and not _flushing and not notifying and not _waiting()
            and not _spread_left["waiting"]):
        fn()
        return
    if _began[0] is None:
        _began[0] = time.monotonic()
    _watch(session)
    (_layout if layout else _last if last else _views)[fn] = None


def _watch(session) -> None:
    """``session``'s settle runs its waiting refreshes (connected once per session)."""
    if session is not None and session not in _watched:
        _watched.add(session)
        session.settled.connect(_settled_of(session))


def soon(session, fn, *, last: bool = False) -> None:
    """A view's refresh for a new size (a plot resized with the window, outside any
    change): as :func:`later`, but with a budget (the app's window, :func:`set_budget`),
    it waits for the next turn of the event loop, with the other views' (each within the
    budget, as a change's). Qt lays out a resized window's widgets in the resize's own
    turn, before the window hears of it: each plot refreshed there, in that turn (a
    full-screen resize of L21 with 16 networks at 300 % text: 57-96 ms). Without a budget
    (an export's frame, a test), and within a change, it is :func:`later`."""
    budget = _budgets.get(session)
    if (budget is None or _holds or _flushing or _waiting() or _at_once[0]
            or getattr(session, "notifying", False)):
        later(session, fn, last=last)
        return
    _watch(session)
    (_last if last else _views)[fn] = None
    if not _spread_left["waiting"]:
        _spread(budget)


def pending() -> bool:
    """True while refreshes wait (for tests)."""
    return bool(_layout or _views or _last)


def forget(owner) -> None:
    """Drop the waiting refreshes of ``owner`` (a view being closed)."""
    for d in (_layout, _views, _last):
        for fn in [f for f in d if getattr(f, "__self__", None) is owner]:
            del d[fn]


@contextmanager
def held(*, run: bool = True):
    """Hold refreshes until the block ends (a window-wide change: its session changes,
    its events and its layout passes); nested, the outermost runs them. Not ``run``: they
    stay waiting when the block ends, for the next :func:`flush` (a lesson opened from the
    menu: its views refresh in the window's settle, the next event it gets)."""
    global _holds
    mine = _began[0] is None
    if mine:
        _began[0] = time.monotonic()
    try:
        _holds += 1
        try:
            yield
        finally:
            _holds -= 1
        if run and not _holds and not _waiting():
            flush()
    finally:
        if mine:
            _began[0] = None


def hold() -> None:
    """The refreshes asked for from now on (a restyle's: new text, the language, projector
    mode) wait, across turns of the event loop, for the matching :func:`release` (the
    window's settle, when it repaints). A change of the model meanwhile (a lesson, a step)
    ends the wait: its refreshes, and those waiting, run when it settles, as always (a
    view met a font's event with the runs of a lesson it had not refreshed for yet)."""
    global _deferring
    _deferring += 1


def release(*, run: bool = True) -> None:
    """End one :func:`hold`; the last one runs the waiting refreshes (``run``, once no
    change holds them), or drops them (not ``run``: the window that held them closes)."""
    global _deferring, _changed
    _deferring = max(_deferring - 1, 0)
    if _deferring:
        return
    _changed = False
    if not run:
        _layout.clear()
        _views.clear()
        _last.clear()
        _spread_left["waiting"] = False
        _began[0] = None
    elif not _holds:
        flush()


def holding() -> bool:
    """True while refreshes wait for a :func:`release`."""
    return _waiting()


def _waiting() -> bool:
    return bool(_deferring) and not _changed


def flush(*, views: bool = True, budget: float | None = None, since: float | None = None) -> None:
    """Run every waiting refresh now (the layout's first, the ``last`` ones after all the
    others); a refresh that asks for another
    gets it in the same flush. ``views=False``: only the layout's (which views show), so
    that a window-wide change lays out the views that stay shown, and they refresh once at
    their final size. ``budget``: a model change's (:func:`set_budget`): once the change
    has taken that many seconds (since its start, or ``since``, a time.monotonic()), the
    views' refreshes left wait for the next turn."""
    global _flushing
    if _flushing:
        return  # (the flush under way runs them)
    error = None
    _flushing = True
    if _holds:
        budget = None
    t0 = since if since is not None else _began[0] if _began[0] is not None else time.monotonic()
    ran = False
    if views:
        _spread_left["waiting"] = False
    try:
        while _layout or (views and (_views or _last)):
            d = _layout if _layout else _views if _views else _last
            if (budget is not None and ran and d is not _layout
                    and time.monotonic() - t0 >= budget):
                _spread(budget)
                break
            fn = next(iter(d))
            del d[fn]
            if not _alive(fn):
                continue
            ran = ran or d is not _layout
            try:
                fn()
            except Exception as exc:  # the other views still refresh; the first error is raised
                if error is None:
                    error = exc
    finally:
        _flushing = False
        if not _holds:
            _began[0] = None  # (the change has settled: its refreshes ran)
    if error is not None:
        raise error


def _spread(budget: float) -> None:
    """The refreshes waiting run in the next turn of the event loop (a zero timer: after
    the input that came meanwhile and the paint of what refreshed), within ``budget``."""
    _spread_left["waiting"] = True
    _spread_left["budget"] = budget
    for ref in list(_on_spread):
        hook = ref()
        if hook is None or not _alive(hook):  # (a window closed and deleted)
            _on_spread.remove(ref)
        else:
            hook()
    if _spread_left["queued"]:
        return
    timer = _spread_left.get("timer")
    if timer is None or not _alive(timer.start):  # (a timer's event, not a posted call:
        # the input that came first is taken before it, as is the paint of what refreshed;
        # the application's, deleted with it)
        from PySide6.QtCore import QCoreApplication, QTimer

        timer = _spread_left["timer"] = QTimer(QCoreApplication.instance())
        timer.setSingleShot(True)
        timer.setInterval(0)
        timer.timeout.connect(_next_turn)
    _spread_left["queued"] = True
    timer.start()


def _next_turn() -> None:
    _spread_left["queued"] = False
    if not _spread_left["waiting"]:
        return  # (a later change's flush ran them)
    if _holds or _flushing or _waiting():
        _spread_left["waiting"] = False  # (that hold's end runs them)
        return
    _began[0] = None  # (the budget counts from this turn's start)
    flush(budget=_spread_left.get("budget"))


def _settled_of(session):
    """``session.settled``'s slot: its change's refreshes, within the session's budget."""
    ref = weakref.ref(session)

    def on_settled() -> None:
        s = ref()
        _on_settled(None if s is None else _budgets.get(s))

    return on_settled


def _on_settled(budget: float | None = None) -> None:
    if not _holds and not _waiting():
        flush(budget=budget)


def _alive(fn) -> bool:
    """False when ``fn`` is a method of a Qt object already deleted (a view closed while
    its refresh waited for a change to settle)."""
    owner = getattr(fn, "__self__", None)
    if owner is None:
        return True
    import shiboken6

    return shiboken6.isValid(owner)  # (True for an object that is not Qt's)
