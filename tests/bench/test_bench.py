"""``gdviz bench``: the registry, the timing helpers, and that every entry runs and returns
well-formed rows. The times themselves are never checked."""

import importlib
import json
import subprocess
import sys

import pytest

from gdviz import bench
from gdviz.bench import kernels as bk
from gdviz.bench import networks as bn
from gdviz.bench.timing import best_ms, p95

KEYS = ("name", "ours_ms", "baseline", "baseline_ms", "ratio")


def check_rows(out, name):
    rows = out if isinstance(out, list) else [out]
    assert rows
    for r in rows:
        assert all(k in r for k in KEYS), r
        assert r["name"] == name
        assert r["ours_ms"] > 0 and r["baseline_ms"] > 0
        assert r["ratio"] == pytest.approx(r["baseline_ms"] / r["ours_ms"])
    return rows


# ----------------------------------------------------------------------------- timing
def test_best_ms_is_the_fastest_repeat_per_call(monkeypatch):
    clock = iter([0.0, 3.0, 10.0, 11.0, 20.0, 22.0])  # repeats of 3 s, 1 s, 2 s
    monkeypatch.setattr(bench.timing.time, "perf_counter", lambda: next(clock))
    calls = []
    ms = best_ms(lambda: calls.append(1), 3, number=2)
    assert ms == pytest.approx(1.0 / 2 * 1e3) and len(calls) == 6


def test_p95():
    assert p95(range(101)) == pytest.approx(95.0)
    assert p95([4.0]) == 4.0


# ----------------------------------------------------------------------------- registry
def test_every_entry_is_a_function_in_the_bench_package():
    # a subset: adding an entry is one line in ENTRIES, not an edit here
    assert {"grid-eval", "optimizer-step", "contour", "fit-step", "batch-surface", "frame",
            "startup", "export"} <= set(bench.ENTRIES)
    for name, (module, func) in bench.ENTRIES.items():
        assert module.startswith("gdviz.bench."), name
        assert callable(getattr(importlib.import_module(module), func)), name


def test_unknown_entry():
    with pytest.raises(ValueError, match=r"^unknown bench entry 'gird-eval' \(choose from grid-eval, "):
        bench.resolve("gird-eval")


def test_cli_unknown_entry_is_one_line_and_runs_nothing():
    r = subprocess.run([sys.executable, "-m", "gdviz", "bench", "grid-eval", "nope"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        f"gdviz bench: error: unknown bench entry 'nope' (choose from {', '.join(bench.ENTRIES)})"]


def test_run_flattens_rows_in_order(monkeypatch):
    monkeypatch.setitem(bench.ENTRIES, "one", ("gdviz.bench.timing", "p95"))
    monkeypatch.setattr(bench.timing, "p95", lambda: dict(name="one"), raising=True)
    seen = []
    rows = bench.run(["one", "one"], progress=seen.append)
    assert rows == [dict(name="one")] * 2 and seen == ["one", "one"]


def test_kernel_entries_load_no_qt():
    code = ("import sys\nfrom gdviz import bench\n"
            "for n in ('grid-eval', 'optimizer-step', 'contour', 'fit-step', 'batch-surface'):\n"
            "    bench.resolve(n)\n"
            "print(sorted({m.split('.')[0] for m in sys.modules}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    for qt in ("PySide6", "shiboken6", "pyqtgraph"):
        assert f"'{qt}'" not in out.stdout


# ----------------------------------------------------------------------------- entries
def test_grid_eval():
    row = check_rows(bk.bench_grid_eval(n=32, repeats=2), "grid-eval")[0]
    assert row["baseline"] == "numpy" and row["size"] == "32x32" and row["threads"] >= 1


def test_optimizer_step():
    row = check_rows(bk.bench_optimizer_step(n_runs=512, steps=5, repeats=1), "optimizer-step")[0]
    assert row["baseline"] == "numpy"


def test_fit_step_and_batch_surface():
    fit = check_rows(bk.bench_fit_step(), "fit-step")[0]
    assert fit["runset_ms"] > 0
    surf = check_rows(bk.bench_batch_surface(), "batch-surface")[0]
    assert surf["mae_ms"] > 0 and surf["mae_baseline_ms"] > 0


def test_net_step():
    """Rows against numpy, and against torch where it is installed (it is not a dependency)."""
    rows = check_rows(bn.bench_net_step(points=40, repeats=1), "net-step")
    assert rows[-1]["baseline"] == "numpy" and rows[-1]["network"] == "2-8-8-1"
    assert {r["baseline"] for r in rows} <= {"torch", "numpy"}


def test_data_advance():
    row = check_rows(bk.bench_data_advance(steps=40), "data-advance")[0]
    assert row["baseline"] == "step-at-a-time" and row["numpy_ms"] > 0


@pytest.mark.slow
def test_contour_against_contourpy_and_pyqtgraph():
    rows = check_rows(bk.bench_contour(), "contour")
    assert [r["baseline"] for r in rows] == ["contourpy", "pyqtgraph-isocurve"]


def entry_in_subprocess(module, call):
    """The rows of ``module.call`` run in a fresh interpreter: the Qt entries set the app's
    names, QSettings' path and the kernels' ready flag, which must not leak into other tests."""
    code = f"import json; from {module} import *; print(json.dumps({call}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_contour_paint_rasterises_at_each_timed_paint():
    """The row times a real rasterisation at each paint (its first version timed an error
    report: the paint raised, and the ratio read 700-800x)."""
    row = check_rows(entry_in_subprocess(
        "gdviz.bench.ui", "bench_contour_paint(size=(160, 100), grid=24, levels=4)"),
        "contour-paint")[0]
    assert row["segments"] > 0 and row["renders"] >= 10  # (one per timed paint)


def test_curve_paint_rasterises_every_curve_at_each_timed_paint():
    row = check_rows(entry_in_subprocess(
        "gdviz.bench.ui", "bench_curve_paint(size=(160, 100), runs=3, points=40)"),
        "curve-paint")[0]
    assert row["curves"] == 3 and row["renders"] >= 30  # (each curve, each timed paint)


@pytest.mark.slow
def test_frame():
    check_rows(entry_in_subprocess("gdviz.bench.ui", "bench_frame(frames=3)"), "frame")


@pytest.mark.slow
def test_frame_long():
    row = check_rows(entry_in_subprocess("gdviz.bench.ui",
                                         "bench_frame_long(frames=3, steps=20_000)"), "frame-long")[0]
    assert 19_000 < row["from_step"] < 20_000 and row["rss_mb"] > 0


@pytest.mark.slow
def test_startup():
    check_rows(entry_in_subprocess("gdviz.bench.ui", "bench_startup(repeats=1)"), "startup")


@pytest.mark.slow
def test_export():
    row = check_rows(entry_in_subprocess("gdviz.bench.export", "bench_export()"), "export")[0]
    assert row["frames"] == 301 and row["mp4_mb"] > 0


def test_map_entries_return_rows():
    from gdviz.bench.maps import (bench_basin_clusters, bench_basin_map, bench_data_map,
                                  bench_hyper_map)

    a = bench_basin_map(side=8, steps=5, repeats=1)
    b = bench_hyper_map(side=4, steps=5, repeats=1)
    c = bench_data_map(side=4, steps=5, repeats=1)
    d = bench_basin_clusters(side=16, repeats=1)
    for row, name in ((a, "basin-map"), (b, "hyper-map"), (c, "data-map"),
                      (d, "basin-clusters")):
        assert row["name"] == name and row["ours_ms"] > 0 and row["baseline"] == "numpy"
        assert row["ratio"] == pytest.approx(row["baseline_ms"] / row["ours_ms"])
