"""The collector's passes run on the UI thread, on timers of their own, not in the turn
(or the thread) of whatever tipped CPython's count (issue 10, item 11: a shift-click of
218 ms had 82 ms of the collector in it; a cold fuzz run had ~70 passes on the kernels'
warmup thread, where the garbage's Qt wrappers were freed): gdviz.ui.app.IdleCollector."""

from __future__ import annotations

import gc

import pytest

from gdviz.ui import app as gapp


@pytest.fixture
def collector(qtbot, monkeypatch):
    playing = [False]
    count = [0, 0, 0]
    runs: list[int] = []
    saved = gc.get_threshold()
    c = gapp.IdleCollector(lambda: playing[0])
    monkeypatch.setattr(gc, "get_count", lambda: tuple(count))
    monkeypatch.setattr(gc, "collect", lambda generation=2: runs.append(generation) or 0)
    yield c, playing, count, runs
    c.stop()
    assert gc.get_threshold() == saved and gc.isenabled()  # CPython's own passes back


def test_cpython_runs_no_pass_of_its_own_while_it_is_installed(collector):
    c, *_ = collector
    assert not gc.isenabled()
    assert c.timer.isActive() and c.timer.interval() == gapp.IDLE_CHECK_MS
    assert c.young_timer.isActive() and c.young_timer.interval() == gapp.YOUNG_CHECK_MS


def test_the_young_passes_run_at_cpythons_thresholds(collector):
    c, playing, count, runs = collector
    t0, t1, _ = c._saved
    count[0] = t0 - 1
    assert c.tick_young() is None and runs == []
    count[0] = t0
    assert c.tick_young() == 0 and runs == [0]
    count[1] = t1
    assert c.tick_young() == 1 and runs == [0, 1]
    playing[0] = True  # (a race plays: the young passes still run, as CPython's did)
    assert c.tick_young() == 1 and runs == [0, 1, 1]


def test_no_pass_runs_on_a_worker_thread(qtbot):
    """Real passes: a thread that makes garbage cycles by the thousand tips CPython's count
    again and again, and no pass runs on it; the UI thread's timer frees the cycles."""
    import threading

    from churn import churn

    threads: list[str] = []

    def seen(phase, _info):
        if phase == "start":
            threads.append(threading.current_thread().name)

    c = gapp.IdleCollector(lambda: False)
    gc.callbacks.append(seen)
    refs = []
    try:
        t = threading.Thread(target=churn, args=(refs,), name="worker")
        t.start()
        t.join()
        assert "worker" not in threads
        assert refs[0]() is not None  # (a cycle: only a pass frees it)
        qtbot.waitUntil(lambda: refs[0]() is None, timeout=5_000)
        assert set(threads) == {threading.main_thread().name}
    finally:
        gc.callbacks.remove(seen)
        c.stop()


def test_a_full_pass_runs_at_the_tick_once_due(collector):
    c, playing, count, runs = collector
    count[2] = gapp.FULL_PASS_AFTER - 1
    assert not c.tick() and runs == []
    count[2] = gapp.FULL_PASS_AFTER
    assert c.tick() and runs == [2] and c.passes == 1


def test_a_playing_race_defers_it_until_it_is_long_overdue(collector):
    c, playing, count, runs = collector
    playing[0] = True
    count[2] = gapp.FULL_PASS_FORCE - 1
    assert not c.tick() and runs == []
    count[2] = gapp.FULL_PASS_FORCE
    assert c.tick() and runs == [2]
    playing[0] = False
    count[2] = gapp.FULL_PASS_AFTER
    assert c.tick() and runs == [2, 2]


def test_a_window_gone_does_not_stop_the_passes(collector, qtbot):
    c, playing, count, runs = collector

    def gone():
        raise RuntimeError("Internal C++ object already deleted.")

    c._playing = gone
    count[2] = gapp.FULL_PASS_AFTER
    assert c.tick() and runs == [2]


def test_garbage_cycles_are_still_freed(qtbot):
    """Real passes, no mock: a cycle pushed into the oldest generation is freed by a
    tick, and only then."""
    import weakref

    class Node:
        pass

    saved = gc.get_threshold()
    c = gapp.IdleCollector(lambda: False)
    try:
        c.timer.stop()  # (ticks by hand)
        a, b = Node(), Node()
        a.other, b.other = b, a
        ref = weakref.ref(a)
        gc.collect(1)  # into the oldest generation
        del a, b
        for _ in range(3 * gapp.FULL_PASS_AFTER):  # middle passes: none frees it
            gc.collect(1)
        assert ref() is not None
        assert gc.get_count()[2] >= gapp.FULL_PASS_AFTER
        assert c.tick()
        assert ref() is None
    finally:
        c.stop()
    assert gc.get_threshold() == saved


def test_the_ui_glyphs_are_drawn_on_a_thread_of_their_own(qapp):
    """The app's first paint starts a thread that draws every Chinese character of the
    UI's text (both catalogs), regular and bold, into an image: their fonts are read from
    disk there, not in the window's first switch to Chinese."""
    from gdviz.core.i18n import TERMS
    from gdviz.ui import app

    text = app.ui_glyphs()
    for lang in ("zh-Hant", "zh-Hans"):
        assert set(TERMS[lang]["run_schedule"]) - set(" :") <= set(text), lang
    assert len(text) == len(set(text)) and not any(c.isascii() for c in text)
    thread = app.warm_fonts(qapp.font())
    assert thread.daemon and thread.name == "gdviz-fonts"
    thread.join(60)
    assert not thread.is_alive()
