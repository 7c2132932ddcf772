"""The GUI fuzz (tests/ui/fuzz.py) outside pytest, under a turn-timing application: each
action's longest single turn of the event loop, the time the UI thread was blocked at
once (issue 10, item 11: no action may block it for more than 100 ms). The fuzz's
"blocks" (an action and every event it left queued, paints and timers included) bound a
turn from above; a user's next click waits only for the turn under way.

    WARM=1 QT_QPA_PLATFORM=offscreen PYTHONPATH=$PWD/tests/ui python tests/ui/measure_fuzz.py [actions] [seed]

PROF=expression,theme prints a cProfile of the slowest block of the labels that start so.
WATCH=250 prints the UI thread's Python stack, sampled, in each turn that runs over 250 ms.
WARM=1 compiles the numba kernels first (the app after its first start). HEAVY=L21:16
starts from a heavy state: that lesson with 16 runs, stepped 800 times, no lesson switches
(see _heavy_state). The real window
at 1280x720 with its settings and data in a new temporary folder, its long-lived objects
frozen out of the collector as the app's are; not a test (the figures depend on the
machine).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["TURNS"] = "1"  # measure_common.open_window makes a TurnApp

from measure_common import open_window  # noqa: E402

from fuzz import GuiFuzzer  # noqa: E402


def _time_collections() -> list[tuple[float, int]]:
    """Each pass of the garbage collector from now on: (ms, generation), in a list."""
    import gc
    import time

    pauses: list[tuple[float, int]] = []
    start = [0.0]

    def on_gc(phase, info):
        if phase == "start":
            start[0] = time.perf_counter()
        else:
            pauses.append(((time.perf_counter() - start[0]) * 1e3, info["generation"]))

    gc.callbacks.append(on_gc)
    return pauses


def _watch_long_turns(app, ms: float, what=None):
    """WATCH=ms: a thread that, while a turn has run over ``ms``, keeps the UI thread's
    Python stack every 40 ms (5 a turn at most), the other threads' last frames and each
    thread's CPU ticks of the last 40 ms: where a long turn spent its time, in a plain run
    (a profiler changes the run). Returns an Event that stops it, with ``samples`` {turn
    start: [(ms into the turn, stack lines)]} and ``labels`` {turn start: ``what()`` as
    the turn ran long (the fuzz's action)}."""
    import threading
    import time
    import traceback

    stop = threading.Event()
    stop.samples = {}
    stop.labels = {}
    main = threading.main_thread().ident

    def threads_cpu() -> dict:
        """Each thread of this process (Linux): name -> CPU ticks so far (the other
        threads' CPU in a long turn: a kernel's OpenMP team, Qt's, Mesa's have no Python
        stack to show)."""
        out = {}
        try:
            for tid in os.listdir("/proc/self/task"):
                with open(f"/proc/self/task/{tid}/stat") as f:
                    stat = f.read()
                name = stat[stat.index("(") + 1:stat.rindex(")")]
                fields = stat[stat.rindex(")") + 2:].split()
                out[f"{name}[{tid}]"] = int(fields[11]) + int(fields[12])
        except OSError:
            pass
        return out

    last = {}

    def loop() -> None:
        nonlocal last
        while not stop.wait(0.04):
            t0 = app.turn_t0
            before, last = last, threads_cpu()
            if t0 is None:
                continue
            age = (time.perf_counter() - t0) * 1e3
            got = stop.samples.setdefault(t0, []) if age > ms else None
            if got is not None and len(got) < 5:
                if not got and what is not None:
                    stop.labels[t0] = what()  # (the action, as the turn began to run long)
                frames = sys._current_frames()
                frame = frames.get(main)
                other = None
                if frame is not None and app.turn_t0 == t0:
                    lines = traceback.format_stack(frame)
                    # and where the other threads are (a worker's Python holds the GIL)
                    names = {t.ident: t.name for t in threading.enumerate()}
                    for ident, other in frames.items():
                        if ident not in (main, threading.get_ident()):
                            tail = traceback.format_stack(other)[-3:]
                            lines.append(f"  -- thread {names.get(ident, ident)}:\n"
                                         + "".join("  " + x for x in tail))
                    busy = sorted(((v - before.get(k, 0), k) for k, v in last.items()),
                                  reverse=True)
                    lines.append("  -- CPU ticks of the last 40 ms: " + ", ".join(
                        f"{k} {d}" for d, k in busy[:6] if d > 0) + "\n")
                    got.append((age, lines))
                # the frames go now, on this thread: a frame kept past its function's
                # return keeps that function's locals, and a handler's event wrapper outlived
                # its QEvent. PySide then met a new object at the event's old address as that
                # stale wrapper ("notify(QEvent, QEvent)"), or segfaulted in releaseWrapper
                # (3 of ~10 cold runs with WATCH on; none without)
                del frames, frame, other

    threading.Thread(target=loop, name="watch-turns", daemon=True).start()
    return stop


def _heavy_state(win, fuzz):
    """HEAVY=L21:16: the fuzz from a heavy state, returned as a ``run(n)``. The lesson
    opened with its runs copied up to 16 (at most the limits allow), stepped HEAVY_STEPS
    (800) times and paused; lesson switches left out; every 200 actions the state is made
    again when the fuzz has changed the problem or removed half the runs."""
    from gdviz.core.scene import preset_path
    from measure_common import flush

    code, _, n_runs = os.environ["HEAVY"].partition(":")
    n_runs = int(n_runs or 16)
    steps = int(os.environ.get("HEAVY_STEPS", "800"))
    kind = []

    def setup() -> None:
        win.open_scene(preset_path(code))
        flush()
        s = win.session
        k = 0
        while s.n_runs < n_runs and s.add_run(s.specs[k % s.n_specs]) >= 0:
            k += 1
        flush()
        s.pause()
        s.step(steps)
        flush()
        kind[:] = [s.kind]

    setup()
    fuzz._names = [name for name in fuzz._names if name != "lesson"]
    fuzz._weights = [fuzz.WEIGHTS[name] for name in fuzz._names]

    def run(n: int):
        done = 0
        while done < n:
            k = min(200, n - done)
            fuzz.run(k)
            done += k
            if win.session.kind != kind[0] or win.session.n_runs < n_runs // 2:
                setup()
        return fuzz.report

    return run


def main(argv):
    n = int(argv[0]) if argv else 1000
    seed = int(argv[1]) if len(argv) > 1 else 20261202
    # the collector's passes on the UI thread, on their own timers, as the app runs them
    # (IdleCollector, installed before the window as the app's is)
    app, win, tmp = open_window(collector=True)
    from gdviz.ui import app as gdviz_app

    gdviz_app._FREEZE["on"] = True
    gdviz_app.freeze_long_lived()
    collector = win.idle_collector
    fuzz = GuiFuzzer(win, seed=seed, tmp=tmp)
    pauses = _time_collections()
    # PROF=label1,label2: a cProfile of the slowest block of each label that starts so
    fuzz.profile = bool(os.environ.get("PROF"))
    watch = _watch_long_turns(
        app, float(os.environ["WATCH"]),
        lambda: f"action {fuzz.report.actions} ({getattr(fuzz, '_label', 'setup')})") if os.environ.get("WATCH") else None
    report = (_heavy_state(win, fuzz) if os.environ.get("HEAVY") else fuzz.run)(n)
    print(report.summary())
    if watch is not None:
        watch.set()
        for t0, stacks in sorted(watch.samples.items()):
            print(f"\n==== a turn over {os.environ['WATCH']} ms, {watch.labels.get(t0, '')}, "
                  "the UI thread's stack at:")
            for ms, stack in stacks:
                main_lines = [x for x in stack if not x.startswith("  -- thread")]
                others = [x for x in stack if x.startswith("  -- thread")]
                print(f"  +{ms:.0f} ms:\n" + "".join("    " + line for line in main_lines[-int(os.environ.get("WATCH_DEPTH", "8")):])
                      + "".join(others))
    pauses.sort(reverse=True)
    print(f"  garbage collections: {len(pauses)}, longest "
          + ", ".join(f"{ms:.1f} ms (gen {g})" for ms, g in pauses[:5]))
    for g in (0, 1, 2):
        of = [ms for ms, gen in pauses if gen == g]
        if of:
            print(f"    gen {g}: {len(of)} passes, {sum(of):.0f} ms in all, "
                  f"{sum(ms > 20 for ms in of)} over 20 ms")
    if os.environ.get("SLOW"):  # SLOW=1: every turn over 100 ms
        for label, secs, what in report.slow:
            print(f"  slow {secs * 1e3:7.1f} ms  {label}: {what}")
    if fuzz.profile:
        import pstats

        for label, prof in fuzz.profiles.items():
            if any(label.startswith(p) for p in os.environ["PROF"].split(",")):
                print(f"\n==== {label}: block {report.blocks[label] * 1e3:.0f} ms,"
                      f" turn {report.turns.get(label, 0) * 1e3:.0f} ms")
                pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
                if os.environ.get("DUMP"):  # DUMP=folder: the profiles as pstats files
                    safe = "".join(c if c.isalnum() else "_" for c in label)[:40]
                    prof.dump_stats(os.path.join(os.environ["DUMP"], safe + ".prof"))
    collector.stop()
    win.frame_timer.stop()
    win.session.pause()
    win.close()
    return 1 if report.exceptions or report.warnings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
