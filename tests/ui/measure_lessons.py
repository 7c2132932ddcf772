"""Measure the lesson loads (Lessons menu) and the opening of saved scenes, as the fuzzer times them.

Each action: the menu's aboutToShow (the titles), the lesson's action, then processEvents, the
deferred deletes, processEvents again (tests/ui/fuzz.py). The real MainWindow, offscreen, 1280x720.

    QT_QPA_PLATFORM=offscreen WARM=1 PYTHONPATH=$PWD python tests/ui/measure_lessons.py [repeats] [filter]
    ... --profile LABEL   (a cProfile of the slowest instance of LABEL, top 45 by cumtime)

WARM=1 compiles the numba kernels first. RUNS=n (default 20) adds n runs to the state each lesson
is loaded from and to the saved scenes (the fuzzer's sessions often carry 20-40 runs). SCALE=2 sets the text size. LANGS=1
(default) changes the UI language between repeats, as the fuzzer does (a new language: new titles).
"""

from __future__ import annotations

import os
import pstats
import statistics
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtTest import QTest  # noqa: E402

from measure_common import Timings, flush, open_window, parse_args  # noqa: E402


def main(argv):
    repeats, filt, prof_label = parse_args(argv)
    app, win, tmp = open_window()
    if os.environ.get("SCALE"):  # SCALE=2.0: the text size (Ctrl+=) the lessons are loaded at
        win.set_font_scale(float(os.environ["SCALE"]), announce=False)
        flush()
    extra_runs = int(os.environ.get("RUNS", "20"))
    langs = os.environ.get("LANGS", "1") == "1"

    timings = Timings(prof_label)
    times, cpu, worst_prof = timings.times, timings.cpu, timings.worst_prof

    def timed(label, fn):
        timings.block(label, fn)
        win.session.pause()
        win.frame_timer.stop()
        while not win.layout_settled():
            QTest.qWait(5)
        flush()

    def add_runs():
        sess = win.session
        for i in range(extra_runs):
            sess.add_run(sess.specs[i % len(sess.specs)])
        sess.pause()
        flush()

    menu = win.lessons_menu
    n_lessons = len(win._lesson_paths)
    lang_cycle = list(win.language_actions) if langs else [win.language]

    def lesson(i):
        menu.aboutToShow.emit()  # the titles are read when the menu opens
        acts = [a for a in menu.actions() if a.isEnabled() and not a.isSeparator()]
        acts[i].trigger()

    for r in range(repeats):
        lang = lang_cycle[r % len(lang_cycle)]
        win.language_actions[lang].trigger()
        flush()
        for i in range(n_lessons):
            label = f"lesson {win._lesson_paths[i].stem[:24]}"
            if filt not in label:
                continue
            add_runs()  # the state left by the last lesson, with many runs
            timed(label, lambda i=i: lesson(i))
        for i in range(n_lessons):
            label = f"open saved {win._lesson_paths[i].stem[:20]}"
            if filt not in label:
                continue
            win.open_scene(win._lesson_paths[i])
            add_runs()
            saved = os.path.join(tmp, f"saved_{i}.toml")
            if win.save_scene(saved):
                timed(label, lambda: win.open_scene(saved))

    rows = sorted(times.items(), key=lambda kv: -max(kv[1]))
    print(f"{'action':40s} {'n':>3s} {'median ms':>10s} {'max ms':>8s} {'cpu med':>8s} {'cpu max':>8s}")
    for label, ts in rows:
        c = cpu.get(label, [0.0])
        turn = timings.turns.get(label)  # TURNS=1: the longest single turn, and what it was
        tail = f" turn {max(turn) * 1e3:6.1f} ({timings.turn_what[label][:40]})" if turn else ""
        print(f"{label:40s} {len(ts):3d} {statistics.median(ts) * 1e3:10.1f} {max(ts) * 1e3:8.1f}"
              f" {statistics.median(c) * 1e3:8.1f} {max(c) * 1e3:8.1f}{tail}")
    allm = [statistics.median(ts) for ts in times.values()]
    if allm:
        print(f"median of medians {statistics.median(allm) * 1e3:.1f} ms, worst max "
              f"{max(max(ts) for ts in times.values()) * 1e3:.1f} ms")
    if worst_prof:  # all the slowest instances together (pstats file)
        profs = [p for _, p in worst_prof.values()]
        st = pstats.Stats(profs[0])
        for p in profs[1:]:
            st.add(p)
        st.dump_stats(os.environ.get("GDVIZ_MEASURE_PSTATS", "/tmp/measure_lessons.pstats"))
    for label, (dt, prof) in worst_prof.items():
        print(f"\n==== profile of {label}: {dt * 1e3:.1f} ms")
        pstats.Stats(prof).sort_stats("cumtime").print_stats(45)
    win.frame_timer.stop()
    win.session.pause()
    win.close()


if __name__ == "__main__":
    main(sys.argv[1:])
