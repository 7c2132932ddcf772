"""Measure how long changing the set of runs blocks the UI thread (issue 10, item 11).

Each action is timed as tests/ui/fuzz.py times it: the action, then processEvents, the
deferred deletes, processEvents again. The real MainWindow, offscreen, at 1280x720, with
RUNS=n runs (default 26) on each lesson state: "add run", "dup_big", "dup_small",
"remove_run" (a card's remove button) and "open saved" (the state saved, then opened).

    QT_QPA_PLATFORM=offscreen WARM=1 PYTHONPATH=$PWD python tests/ui/measure_runs.py [repeats] [filter]
    ... --profile LABEL   (a cProfile of the slowest instance of LABEL, top 45 by cumtime)

STATES=L21,L4 picks the lessons (default: L21,L4,L10). TURNS=1 adds each label's longest
single turn of the event loop (see measure_common.TurnApp). PLAY=1 times with the race playing
(its frames inside the block count, as in the fuzzer).
"""

from __future__ import annotations

import os
import pstats
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from measure_common import Timings, flush, open_window, parse_args  # noqa: E402


def main(argv):
    repeats, filt, prof_label = parse_args(argv)
    app, win, tmp = open_window()
    n_runs = int(os.environ.get("RUNS", "26"))
    play = os.environ.get("PLAY") == "1"

    # the garbage collector's pauses inside the timed blocks, by generation
    gc_time = {0: 0.0, 1: 0.0, 2: 0.0}
    gc_n = {0: 0, 1: 0, 2: 0}
    gc_t0 = [0.0]

    def on_gc(phase, info):
        if phase == "start":
            gc_t0[0] = time.perf_counter()
        else:
            g = info["generation"]
            gc_time[g] += time.perf_counter() - gc_t0[0]
            gc_n[g] += 1

    import gc

    gc.callbacks.append(on_gc)
    gc_in: dict[str, list[float]] = {}
    timings = Timings(prof_label)
    times, cpu, worst_prof = timings.times, timings.cpu, timings.worst_prof

    def want(label):
        return any(f in label for f in filt.split("|"))

    def timed(label, fn):
        if not want(label):
            return
        if play:
            win.session.play()
            flush()
        g0 = sum(gc_time.values())
        timings.block(label, fn)
        gc_in.setdefault(label, []).append(sum(gc_time.values()) - g0)
        win.session.pause()
        flush()

    menu = win.lessons_menu
    menu.aboutToShow.emit()
    lessons = [a for a in menu.actions() if a.isEnabled() and not a.isSeparator()]
    picked = [s.strip() for s in os.environ.get("STATES", "L21,L4,L10").split(",") if s.strip()]
    states = [(a.text().split(" ")[0], a) for a in lessons if a.text().split(" ")[0] in picked]

    for _ in range(repeats):
        for sname, act in states:
            act.trigger()
            win.session.pause()
            flush()
            sess = win.session
            k = 0
            while sess.n_specs < n_runs:
                sess.add_run(sess.specs[k % sess.n_specs])
                k += 1
            sess.pause()
            flush()
            sfx = f" @{sname}"
            runs = win.controls.runs
            for name in ("sgd", "adam"):
                acts = [a for a in runs.add_menu.actions() if a.data() == name]
                timed(f"add run{sfx}", acts[0].trigger)
                timed(f"remove_run{sfx}", runs.cards[-1].remove.click)
            for i in (0, 3):
                timed(f"dup_big{sfx}", runs.cards[i].dup_big.click)
                timed(f"remove_run{sfx}", runs.cards[i].remove.click)
                timed(f"dup_small{sfx}", runs.cards[i].dup_small.click)
            saved = os.path.join(tmp, f"saved_{sname}.toml")
            if want("open saved" + sfx) and win.save_scene(saved):
                for _i in range(2):
                    timed(f"open saved{sfx}", lambda: win.open_scene(saved))
            flush()

    rows = sorted(times.items(), key=lambda kv: -max(kv[1]))
    print(f"{'action':40s} {'n':>3s} {'median ms':>10s} {'max ms':>8s} {'cpu med':>8s} {'cpu max':>8s}"
          f" {'gc max':>7s}" + ("  longest turn ms (max, what)" if timings.turns else ""))
    for label, ts in rows:
        c = cpu.get(label, [0.0])
        tail = (f"  {max(timings.turns[label]) * 1e3:8.1f} {timings.turn_what[label]}"
                if label in timings.turns else "")
        print(f"{label:40s} {len(ts):3d} {statistics.median(ts) * 1e3:10.1f} {max(ts) * 1e3:8.1f}"
              f" {statistics.median(c) * 1e3:8.1f} {max(c) * 1e3:8.1f} {max(gc_in[label]) * 1e3:7.1f}" + tail)
    print("gc pauses (n, total ms) by generation:",
          {g: (gc_n[g], round(gc_time[g] * 1e3, 1)) for g in gc_n})
    for label, (dt, prof) in worst_prof.items():
        print(f"===== {label} {dt * 1e3:.0f} ms")
        if os.environ.get("DUMP"):
            prof.dump_stats(os.path.join(os.environ["DUMP"], label.replace(" ", "_").replace("@", "") + ".prof"))
        pstats.Stats(prof).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main(sys.argv[1:])
