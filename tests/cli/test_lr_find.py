"""`gdviz lr-find` and `gdviz lr-find --tune`: output, files, and every error path."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from gdviz.cli import main
from gdviz.core import lrfind as L
from gdviz.core.optimizers import make_optimizer
from gdviz.core.surfaces import Landscape

FLAGS = ["--surface", "rosenbrock", "--optimizer", "adam", "--start=-1.5,2"]


def run(capsys, *args):
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_csv_equals_the_core_sweep(capsys):
    code, out, err = run(capsys, "lr-find", *FLAGS, "--num-it", "50")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "iteration,lr,loss,smoothed"
    rows = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    ref = L.LrSweep(Landscape.from_surface("rosenbrock"), make_optimizer("adam"), [-1.5, 2.0],
                    settings=L.SweepSettings(num_it=50)).run()
    assert rows.shape == (ref.n, 4)
    assert (rows[:, 1] == ref.lrs).all() and (rows[:, 2] == ref.losses).all()
    assert "steep" in err and err.count("\n") == 1


def test_json_to_a_file_on_a_lesson(capsys, tmp_path):
    path = tmp_path / "l10.json"
    code, out, err = run(capsys, "lr-find", "L10", "-o", str(path), "--at-step", "5")
    assert code == 0 and out == ""
    doc = json.loads(path.read_text())
    assert doc["from_step"] == 5 and doc["suggestions"]["steep"] > 0
    assert len(doc["lrs"]) == len(doc["losses"]) == len(doc["smoothed"])


def test_tune_csv_and_json(capsys, tmp_path):
    code, out, err = run(capsys, "lr-find", "L12", "--tune", "--lrs", "8", "--tune-steps", "50")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "run,label,optimizer,lr,loss,tuned_lr,tuned_loss"
    assert len(lines) == 3
    path = tmp_path / "t.json"
    assert main(["lr-find", *FLAGS, "--tune", "--lrs", "6", "-o", str(path)]) == 0
    doc = json.loads(path.read_text())
    assert len(doc["grid"]) == 6 and len(doc["runs"]) == 1 and doc["steps"] == 100


def test_a_diverging_sweep_ends_cleanly(capsys):
    code, out, err = run(capsys, "lr-find", "--expr", "x^2 + 10*y^2", "--optimizer", "sgd",
                         "--start", "1,1", "--no-stop-div", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["diverged"] and len(doc["lrs"]) < 100


@pytest.mark.parametrize("args, msg", [
    (["L10", "--surface", "himmelblau"], "not both"),
    ([], "give a scene"),
    (["--surface", "rosenbrock"], "--optimizer is required"),
    ([*FLAGS, "-o", "x.txt"], "must end in .csv or .json"),
    ([*FLAGS, "-o", "x.csv", "--format", "json"], "does not match"),
    ([*FLAGS, "--start-lr", "0"], "--start-lr"),
    ([*FLAGS, "--end-lr", "nan"], "--end-lr"),
    ([*FLAGS, "--start-lr", "1", "--end-lr", "0.1"], "lr range"),
    ([*FLAGS, "--num-it", "1"], "--num-it"),
    (["L10", "--at-step", "2000000"], "--at-step"),
    ([*FLAGS, "--at-step", "-1"], "--at-step"),
    ([*FLAGS, "--run", "2"], "--run"),
    ([*FLAGS, "--lrs", "5"], "needs --tune"),
    ([*FLAGS, "--tune-steps", "5"], "needs --tune"),
    ([*FLAGS, "--tune", "--start-lr", "1e-5"], "not --tune"),
    ([*FLAGS, "--tune", "--lrs", "1"], "--lrs"),
    ([*FLAGS, "--tune", "--tune-steps", "0"], "--tune-steps"),
    (["no_such_lesson_x"], "no_such_lesson_x"),
    (["--surface", "nope", "--optimizer", "sgd"], "unknown surface"),
    ([*FLAGS, "--noise", "-1"], "--noise"),
    ([*FLAGS, "--batch-size", "0"], "--batch-size"),
    ([*FLAGS, "--lr", "-3"], "learning rate"),
    (["--expr", "x^2 + y^2", "--optimizer", "sgd", "--lr", "5", "--start", "1,1",
      "--at-step", "50"], "diverged"),
    ([*FLAGS, "--optimizr", "sgd"], "unknown option"),
])
def test_every_error_is_one_line_exit_2(capsys, args, msg):
    code, out, err = run(capsys, "lr-find", *args)
    assert code == 2, err
    assert err.count("\n") == 1 and msg in err and "Traceback" not in err
    assert out == ""


def test_unwritable_output_is_one_line(capsys, tmp_path):
    code, out, err = run(capsys, "lr-find", *FLAGS, "-o", str(tmp_path / "no" / "x.csv"))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err


def test_through_python_m_gdviz():
    p = subprocess.run([sys.executable, "-m", "gdviz", "lr-find", "--surface", "himmelblau",
                        "--optimizer", "momentum", "--num-it", "30"], capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0 and p.stdout.startswith("iteration,lr,loss,smoothed\n")
    p = subprocess.run([sys.executable, "-m", "gdviz", "lr-find", "--num-it", "x"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and p.stderr.count("\n") == 1
