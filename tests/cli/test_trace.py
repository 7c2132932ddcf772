"""`gdviz trace` end to end, through `python -m gdviz` in a subprocess."""

import json
import subprocess
import sys

import numpy as np
import pytest

from gdviz import __version__


def gdviz(*args):
    p = subprocess.run([sys.executable, "-m", "gdviz", *args], capture_output=True, text=True,
                       timeout=300)
    return p.returncode, p.stdout, p.stderr


def trace(*args):
    return gdviz("trace", *args)


def rows(csv_text):
    lines = csv_text.strip().splitlines()
    assert lines[0] == "step,x,y,loss"
    return [line.split(",") for line in lines[1:]]


def test_csv_header_row0_and_full_precision():
    rc, out, err = trace("--surface", "rosenbrock", "--optimizer", "adam", "--lr", "0.01",
                         "--start", "-1.5,2", "--steps", "20")
    assert rc == 0 and err == ""
    r = rows(out)
    assert len(r) == 21
    assert r[0] == ["0", "-1.5", "2.0", "12.5"]
    assert [int(x[0]) for x in r] == list(range(21))
    # repr round-trips: the printed numbers are the engine's exact float64s
    from gdviz.core.engine import RunSet
    from gdviz.core.optimizers import make_optimizer
    from gdviz.core.surfaces import Landscape
    rs = RunSet(Landscape.from_surface("rosenbrock"), [make_optimizer("adam", lr=0.01)],
                [[-1.5, 2.0]], fast=False, total_steps=20)
    rs.advance(20)
    P, L = rs.trajectory(0)
    got = np.array([[float(v) for v in x[1:]] for x in r])
    np.testing.assert_array_equal(got[:, :2], P)
    np.testing.assert_array_equal(got[:, 2], L)


@pytest.mark.parametrize("start", [["--start", "-1.5,2"], ["--start=-1.5,2"]])
def test_negative_start_both_spellings(start):
    rc, out, err = trace("--surface", "quadratic", "--optimizer", "sgd", *start, "--steps", "1")
    assert rc == 0, err
    r = rows(out)
    assert r[0][1:3] == ["-1.5", "2.0"] and len(r) == 2


def test_json_format_with_noise_and_schedule():
    rc, out, err = trace("--expr", "x^2 + 10*y^2", "--optimizer", "momentum", "--lr", "0.01",
                         "--dampening", "0.1", "--start", "1,1", "--steps", "5", "--format",
                         "json", "--noise", "0.5", "--batch-size", "4", "--seed", "3",
                         "--schedule", "cosine")
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["expr"] == "x^2 + 10*y^2" and doc["optimizer"] == "momentum"
    assert doc["hyperparameters"] == {"lr": 0.01, "momentum": 0.9, "dampening": 0.1,
                                      "weight_decay": 0.0}
    assert doc["schedule"] == {"kind": "cosine"} and doc["diverged_at"] is None
    assert [s["step"] for s in doc["steps"]] == list(range(6))
    assert doc["steps"][0] == {"step": 0, "x": 1.0, "y": 1.0, "loss": 11.0}
    rc2, out2, _ = trace("--expr", "x^2 + 10*y^2", "--optimizer", "momentum", "--lr", "0.01",
                         "--dampening", "0.1", "--start", "1,1", "--steps", "5", "--format",
                         "json", "--noise", "0.5", "--batch-size", "4", "--seed", "3",
                         "--schedule", "cosine")
    assert out2 == out  # seeded noise: the same trajectory every time


def test_divergence_exits_0_and_says_so():
    rc, out, err = trace("--surface", "quadratic", "--optimizer", "sgd", "--lr", "1.5",
                         "--start", "1,1", "--steps", "100")
    assert rc == 0
    assert err.strip() == "gdviz trace: diverged at step 12"
    r = rows(out)
    assert r[-1][0] == "12" and len(r) == 13  # ends at the diverged step
    assert float(r[-1][1]) == 4096.0


def test_json_divergence_nan_is_null():
    rc, out, err = trace("--expr", "log(x) + y^2", "--optimizer", "sgd", "--lr", "0.5",
                         "--start", "1,1", "--steps", "50", "--format", "json")
    assert rc == 0 and "diverged at step" in err
    doc = json.loads(out)
    k = doc["diverged_at"]
    assert k > 0 and doc["steps"][-1]["step"] == k and doc["steps"][-1]["loss"] is None


@pytest.mark.parametrize("args, msg", [
    (["--surface", "rosenbrok", "--optimizer", "adam", "--start", "0,0"],
     "unknown surface 'rosenbrok'; did you mean 'rosenbrock'?"),
    (["--surface", "quadratic", "--optimizer", "adma", "--start", "0,0"],
     "unknown optimizer 'adma'; did you mean 'adam'?"),
    (["--surface", "quadratic", "--optimizer", "adam", "--start", "0,0", "--schedule", "cosin"],
     "unknown schedule 'cosin'; did you mean 'cosine'?"),
    (["--expr", "x^2 + z", "--optimizer", "adam", "--start", "0,0"],
     "unknown name 'z' at column 7"),
    (["--surface", "quadratic", "--optimizer", "adam", "--start", "1,a"],
     "invalid --start '1,a': expected X,Y numbers, e.g. -1.5,2"),
    (["--surface", "quadratic", "--optimizer", "adam", "--start", "1"],
     "invalid --start '1': expected X,Y numbers"),
    (["--surface", "quadratic", "--optimizer", "adam", "--start", "inf,1"],
     "invalid --start 'inf,1': coordinates must be finite"),
    (["--surface", "quadratic", "--optimizer", "adam", "--start", "0,0", "--lr", "-0.1"],
     "Invalid learning rate: -0.1 (must be > 0)"),
    (["--surface", "quadratic", "--optimizer", "adam", "--start", "0,0", "--beta1", "1.2"],
     "Invalid beta parameter at index 0: 1.2 (must be in [0, 1))"),
    (["--surface", "quadratic", "--optimizer", "nesterov", "--start", "0,0", "--momentum", "0"],
     "Nesterov momentum requires a momentum and zero dampening"),
    (["--surface", "quadratic", "--optimizer", "sgd", "--start", "0,0", "--beta1", "0.5"],
     "--beta1 does not apply to sgd; it is taken by adam, adamw"),
    (["--surface", "quadratic", "--optimizer", "adam", "--start", "0,0", "--centered"],
     "--centered does not apply to adam; it is taken by rmsprop"),
    (["--surface", "quadratic", "--optimizer", "adam", "--start", "0,0", "--steps", "-1"],
     "invalid --steps -1: must be between 0 and 1000000"),
    (["--surface", "quadratic", "--optimizer", "adam", "--start", "0,0", "--steps", "1000001"],
     "invalid --steps 1000001: must be between 0 and 1000000"),
    (["--surface", "quadratic", "--optimizer", "adam", "--start", "0,0", "--batch-size", "0"],
     "invalid --batch-size 0: must be between 1 and 1000000"),
    (["--surface", "quadratic", "--optimizer", "adam", "--start", "0,0", "--noise", "-1"],
     "invalid --noise -1.0: must be a finite number >= 0"),
    (["--surface", "quadratic", "--optimizer", "adam", "--start", "0,0", "--seed", "-2"],
     "invalid --seed -2: must be between 0 and 9223372036854775807"),
    (["--surface", "quadratic", "--optimizer", "adam", "--start", "0,0", "--steps", "x"],
     "invalid int value: 'x'"),
])
def test_error_paths_exit_2_with_one_line(args, msg):
    rc, out, err = trace(*args)
    assert rc == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert msg in lines[0]


def test_steps_zero_prints_the_start_only():
    rc, out, err = trace("--surface", "himmelblau", "--optimizer", "adagrad", "--start", "1,2",
                         "--steps", "0")
    assert rc == 0 and rows(out) == [["0", "1.0", "2.0", "68.0"]]  # (1+2-11)^2 + (1+4-7)^2


def test_version():
    rc, out, err = gdviz("--version")
    assert rc == 0 and out.strip() == f"gdviz {__version__}"
