"""Headless work (issue 10, item 6): export loads the numba kernels first, trace and fit show
progress on a terminal only, and ``gdviz fit`` prints a bounded history."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from gdviz import kernels
from gdviz.commands.progress import TerminalProgress, advance_with_progress, load_kernels
from gdviz.core.limits import MAX_FIT_HISTORY


class _Tty(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def not_ready():
    """The kernels marked not ready (as in a fresh CLI process), put back afterwards."""
    before = kernels.is_ready()
    kernels.mark_ready(False)
    yield
    kernels.mark_ready(before)


def test_export_runs_the_kernels_not_the_twins(not_ready, tmp_path, monkeypatch):
    from gdviz.cli import main
    from gdviz.core import session as session_mod

    seen = []
    real = session_mod.Session

    def spy(*a, **kw):
        seen.append(kernels.is_ready())  # when the export builds its session
        return real(*a, **kw)

    monkeypatch.setattr(session_mod, "Session", spy)
    assert main(["export", "L04", "-o", str(tmp_path / "l4.csv"), "--steps", "20"]) == 0
    assert seen == [True]


def test_load_kernels_shows_progress_on_a_terminal_only(not_ready):
    tty = _Tty()
    assert load_kernels(tty) is True
    text = tty.getvalue()
    n = len(kernels.REGISTRY)
    assert text.startswith("\rloading kernels [") and f"] {n}/{n} kernels" in text
    assert text.count("\n") == 1 and text.endswith("s\n")
    kernels.mark_ready(False)
    pipe = io.StringIO()
    assert load_kernels(pipe) is True and pipe.getvalue() == ""


def test_progress_writes_one_updating_line(tmp_path):
    tty = _Tty()
    bar = TerminalProgress("exporting", tty)
    for i in range(1, 1001):
        bar(i, 1000)
    text = tty.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert 90 <= text.count("\r") <= 101  # about one update a percent
    quiet = io.StringIO()
    TerminalProgress("exporting", quiet)(1, 2)
    assert quiet.getvalue() == ""
    # a CSV's or PNG's export counts its work in per cent (the job's unit)
    tty = _Tty()
    bar = TerminalProgress("exporting t.csv", tty)
    from gdviz.core.session import Session
    from gdviz.export.clip import ClipJob, ExportSettings, export

    out = tmp_path / "t.csv"
    export(Session(), out, ExportSettings(steps=50), progress=bar)
    assert bar.unit == "%" and out.exists()
    assert tty.getvalue().rstrip().split("\r")[-1].startswith("exporting t.csv [" + "#" * 30 + "] 100%")
    assert ClipJob(Session(), out, ExportSettings(steps=5)).unit == "%"


def test_advancing_in_chunks_takes_the_same_steps(monkeypatch):
    from gdviz.core.engine import RunSet
    from gdviz.core.optimizers import make_optimizer
    from gdviz.core.surfaces import Landscape

    def runs():
        return RunSet(Landscape.from_surface("rosenbrock"), [make_optimizer("adam", lr=0.01)],
                      np.array([[-1.5, 2.0]]), total_steps=25_000, noise=0.1, seed=3,
                      fast=False, record=True)

    a, b = runs(), runs()
    a.advance(25_000)
    tty = _Tty()
    advance_with_progress(b, 25_000, "tracing", tty, chunk=10_000)
    assert tty.getvalue().count("\r") == 3
    np.testing.assert_array_equal(a.trajectory(0)[0], b.trajectory(0)[0])
    np.testing.assert_array_equal(a.params, b.params)


@pytest.mark.parametrize("steps, rows", [(1000, 1001), (5000, MAX_FIT_HISTORY)])
def test_fit_history_is_bounded_with_first_and_last(steps, rows, capsys):
    from gdviz.cli import main

    assert main(["fit", "--target", "quadratic", "--model", "linear", "--optimizer", "sgd",
                 "--lr", "0.01", "--steps", str(steps)]) == 0
    out = json.loads(capsys.readouterr().out)
    history = [h["step"] for h in out["history"]]
    assert len(history) == rows
    assert history[0] == 0 and history[-1] == steps
    assert history == sorted(set(history))
    assert out["steps"] == steps


def _tuned_l18(steps: int = 200):
    import dataclasses

    from gdviz.core.scene import load_preset

    scene = load_preset("L18")
    return dataclasses.replace(scene, lrfind=dataclasses.replace(
        scene.lrfind, tune=True, tune_steps=steps, tune_lrs=4, at_step=10))


def test_a_scenes_lr_finder_work_shows_progress_on_a_terminal():
    """A scene's [lrfind] tuning ran inside apply_scene before the export's first line (10⁶
    steps: seconds with nothing on the terminal). It runs in chunks with a progress line, on
    a terminal only, and gives the model what apply_scene at once gives."""
    from gdviz.commands.progress import apply_scene_shown
    from gdviz.core.scene import apply_scene
    from gdviz.core.session import Session

    scene = _tuned_l18()
    ref = Session()
    apply_scene(scene, ref)
    for stream in (_Tty(), io.StringIO()):
        s = Session()
        apply_scene_shown(scene, s, stream)
        np.testing.assert_array_equal(s.lrfind.losses, ref.lrfind.losses)
        np.testing.assert_array_equal(s.tuned.scores, ref.tuned.scores)
        text = stream.getvalue()
        if stream.isatty():
            assert text.startswith("\rlr finder [") and "] 100%" in text
            assert text.count("\n") == 1
        else:
            assert text == ""


def test_lr_find_on_a_scene_does_not_run_the_scenes_own_sweep(tmp_path, monkeypatch, capsys):
    """`gdviz lr-find SCENE` makes its own sweep: the scene's [lrfind] work is not run."""
    from gdviz.cli import main
    from gdviz.core import lrfind as L
    from gdviz.core.scene import save_scene

    path = tmp_path / "tuned.toml"
    save_scene(_tuned_l18(10**6), path)

    def no_work(self, k=10):
        raise AssertionError("the scene's own lr finder work ran")

    monkeypatch.setattr(L.SceneJobs, "advance", no_work)
    assert main(["lr-find", str(path), "--num-it", "30"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("iteration,lr,loss,smoothed")
