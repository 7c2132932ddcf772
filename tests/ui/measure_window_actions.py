"""Measure how long the window-wide actions block the UI thread (issue 10, item 11).

Each action is timed as tests/ui/fuzz.py times it: the action, then processEvents, the
deferred deletes, processEvents again. The real MainWindow, offscreen, at 1280x720.

    QT_QPA_PLATFORM=offscreen PYTHONPATH=$PWD python tests/ui/measure_window_actions.py [repeats] [filter]
    ... --profile LABEL   (a cProfile of the slowest instance of LABEL, top 40 by cumtime)

WARM=1 compiles the numba kernels first (the app after its first start; without it the numpy
twins run). RUNS=n adds n runs to each state before its window-wide actions (the fuzzer's
sessions often carry 20-40); the states are also saved and opened again ("open saved").
STATES=default,L19,L20 picks the states (default: default,L4,L21).
"""

from __future__ import annotations

import os
import pstats
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QAbstractSpinBox, QApplication  # noqa: E402

from measure_common import Timings, flush, open_window, parse_args  # noqa: E402


def main(argv):
    repeats, filt, prof_label = parse_args(argv)
    app, win, tmp = open_window()
    extra_runs = int(os.environ.get("RUNS", "0"))

    timings = Timings(prof_label)
    times, cpu, worst_prof = timings.times, timings.cpu, timings.worst_prof

    def timed(label, fn):
        timings.block(label, fn)
        win.session.pause()
        win.frame_timer.stop()
        # let a settle timer (text size, projector) fire untimed? No: wait for it, timed
        # apart, as a next action would meet it
        if not win.layout_settled():
            app = QApplication.instance()
            turns = hasattr(app, "arm")
            if turns:
                app.arm()
            t1 = time.perf_counter()
            while not win.layout_settled():
                QTest.qWait(5)
            flush()
            times.setdefault(label + " /settle", []).append(time.perf_counter() - t1)
            # the settle's turns are the action's too (its views refresh and its window
            # repaints there)
            if turns and timings.turns.get(label) and app.longest > timings.turns[label][-1]:
                timings.turns[label][-1] = app.longest
                timings.turn_what[label] = "settle: " + app.longest_what
            # the settle itself is a timer event; its cost is in the wait (minus the wait)
        flush()

    menu = win.lessons_menu
    menu.aboutToShow.emit()
    lessons = [a for a in menu.actions() if a.isEnabled() and not a.isSeparator()]
    default = [a for a in lessons if "default" in a.text().lower() or "rosenbrock" in a.text().lower()]

    def want(label):
        # "theme|language" measures either
        return any(f in label for f in filt.split("|"))

    # STATES=L19,L20 picks the lesson states (default: the default scene, L4 and L21)
    picked = [s.strip() for s in os.environ.get("STATES", "default,L4,L21").split(",") if s.strip()]
    states = [("default", None)] if "default" in picked else []
    for a in lessons:
        t = a.text()
        if t.split(" ")[0] in picked:
            states.append((t.split(" ")[0], a))

    for _ in range(repeats):
        for a in lessons:
            label = f"lesson {a.text()[:3]}"
            if not want(label):
                continue
            win.open_scene(win._lesson_paths[0].parent / "default_rosenbrock_race.toml")
            flush()
            timed(label, a.trigger)
        for sname, act in states:
            if act is not None:
                act.trigger()
            else:
                win.open_scene(win._lesson_paths[0].parent / "default_rosenbrock_race.toml")
            win.session.pause()
            flush()
            sess = win.session
            for _i in range(extra_runs):
                sess.add_run(sess.specs[_i % len(sess.specs)])
            sess.pause()
            flush()
            sfx = f" @{sname}"
            saved = os.path.join(tmp, f"saved_{sname}.toml")
            if want("open saved" + sfx) and win.save_scene(saved):
                for _i in range(2):
                    timed(f"open saved{sfx}", lambda: win.open_scene(saved))
                win.session.pause()
                flush()
            spins = [sp for n in ("layersSpin", "unitsSpin")
                     for sp in win.controls.findChildren(QAbstractSpinBox, n) if sp.isVisible()]
            for sp in spins:
                if want("spin" + sfx):
                    v = sp.value()
                    for nv in (v + 1, v):
                        timed(f"spin {sp.objectName()}{sfx}", lambda sp=sp, nv=nv: sp.setValue(nv))
            for lang in list(win.language_actions) + ["en"]:
                if want("language" + sfx):
                    timed(f"language {lang}{sfx}", win.language_actions[lang].trigger)
            for th in ("dark", "light"):
                if want("theme" + sfx):
                    timed(f"theme {th}{sfx}", win.theme_actions[th].trigger)
            for k, name in ((Qt.Key.Key_Equal, "Ctrl+="), (Qt.Key.Key_Minus, "Ctrl+-")):
                if want("text size" + sfx):
                    timed(f"text size {name}{sfx}",
                          lambda k=k: QTest.keyClick(win.landscape_view, k, Qt.KeyboardModifier.ControlModifier))
            for size in ((1920, 1080), (1024, 600), (800, 600), (1600, 900), (1280, 720)):
                if want("resize" + sfx):
                    timed(f"resize {size[0]}x{size[1]}{sfx}", lambda s=size: win.resize(*s))
            for _i in range(2):
                if want("full screen" + sfx):
                    timed(f"full screen{sfx}", win.fullscreen_action.trigger)
            for _i in range(2):
                if want("projector" + sfx):
                    timed(f"projector{sfx}", win.projector_action.trigger)
            for name in list(win.panel_actions):
                for _i in range(2):
                    if want("panel" + sfx):
                        timed(f"panel {name}{sfx}", win.panel_actions[name].trigger)
            for _i in range(2):
                if want("heatmap" + sfx):
                    timed(f"heatmap{sfx}", win.heatmap_action.trigger)
            for choice in ("loss", "controls", "controls"):
                if not want("dock" + sfx):
                    continue
                if choice == "controls":
                    timed(f"dock controls{sfx}", win.controls_dock.toggleViewAction().trigger)
                else:
                    timed(f"dock loss{sfx}", win.loss_dock.close)
                    timed(f"panel loss (back){sfx}", win.panel_actions["loss"].trigger)
            win.resize(1280, 720)
            flush()
    del default

    rows = sorted(times.items(), key=lambda kv: -max(kv[1]))
    turns = timings.turns
    # "action max": the slowest call alone (the handler's turn); "rest max": the slowest
    # events it left (paint, timers: one turn or more). Without TURNS=1 no turn is
    # instrumented, so these two bound the longest turn from above without its overhead.
    print(f"{'action':40s} {'n':>3s} {'median ms':>10s} {'max ms':>8s} {'cpu med':>8s} {'cpu max':>8s}"
          f" {'action med':>10s} {'action max':>10s} {'rest max':>8s}" + ("  longest turn ms (max, what)" if turns else ""))
    for label, ts in rows:
        c = cpu.get(label, [0.0])
        acts = timings.actions.get(label) or [0.0] * len(ts)  # (a settle: no action)
        rest = max(t - a for t, a in zip(ts, acts))
        tail = (f"  {max(turns[label]) * 1e3:8.1f} {timings.turn_what[label]}" if label in turns else "")
        print(f"{label:40s} {len(ts):3d} {statistics.median(ts) * 1e3:10.1f} {max(ts) * 1e3:8.1f}"
              f" {statistics.median(c) * 1e3:8.1f} {max(c) * 1e3:8.1f} {statistics.median(acts) * 1e3:10.1f}"
              f" {max(acts) * 1e3:10.1f}"
              f" {rest * 1e3:8.1f}" + tail)
    if worst_prof:
        profs = [p for _, p in worst_prof.values()]
        st = pstats.Stats(profs[0])
        for p in profs[1:]:
            st.add(p)
        st.dump_stats(os.environ.get("GDVIZ_MEASURE_PSTATS", "/tmp/measure.pstats"))
    for label, (dt, prof) in worst_prof.items():
        print(f"\n==== profile of {label}: {dt * 1e3:.1f} ms")
        pstats.Stats(prof).sort_stats("cumtime").print_stats(45)
    win.frame_timer.stop()
    win.session.pause()
    win.close()


if __name__ == "__main__":
    main(sys.argv[1:])
