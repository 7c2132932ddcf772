"""`gdviz fit` end to end, in a subprocess: JSON on success, one line and exit 2 on errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def fit(*argv, cwd=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.pop("GDVIZ_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "gdviz", "fit", *map(str, argv)],
                          capture_output=True, text=True, cwd=cwd or ROOT, env=env, timeout=300)


BASE = ["--target", "sine", "--model", "sigmoid", "--units", "3", "--points", "30",
        "--optimizer", "adam", "--lr", "0.05", "--steps", "40"]


def test_fit_json():
    r = fit(*BASE)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for key in ("param_names", "params_init", "params_final", "history", "data", "model",
                "optimizer", "hyperparameters", "diverged_at"):
        assert key in out
    assert out["model"] == "sigmoid" and out["units"] == 3 and out["optimizer"] == "adam"
    assert out["param_names"] == ["c0", "w1", "b1", "c1", "w2", "b2", "c2", "w3", "b3", "c3"]
    assert len(out["params_init"]) == len(out["params_final"]) == 10
    assert out["hyperparameters"]["lr"] == 0.05
    assert out["diverged_at"] is None
    hist = out["history"]
    assert [h["step"] for h in hist] == list(range(41))
    assert set(hist[0]) == {"step", "train_loss", "val_loss"}
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]
    d = out["data"]
    assert len(d["x_train"]) == len(d["y_train"]) == 25  # 85/15 split of 30
    assert len(d["x_val"]) == len(d["y_val"]) == 5
    # the batch size defaults to the whole training set
    assert out["batch_size"] == 25 and out["batches_per_epoch"] == 1


def test_fit_init_file_and_expr_target(tmp_path):
    init = tmp_path / "init.json"
    init.write_text(json.dumps({"params": [0.5, -0.25]}))
    r = fit("--target-expr", "2*x - 1", "--model", "linear", "--noise", "0", "--optimizer", "sgd",
            "--lr", "0.1", "--steps", "300", "--init", init, "--batch-size", "5", "--seed", "3")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["params_init"] == [0.5, -0.25]
    assert out["target"] == "2*x - 1" and out["batch_size"] == 5
    np.testing.assert_allclose(out["params_final"], [2.0, -1.0], atol=1e-3)


def _bad_json(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('{\n  "params": [1, 2,\n}\n')
    return p


def _short_init(tmp_path):
    p = tmp_path / "short.json"
    p.write_text(json.dumps({"params": [1, 2, 3, 4]}))
    return p


def _no_params(tmp_path):
    p = tmp_path / "np.json"
    p.write_text(json.dumps({"weights": [1]}))
    return p


ERRORS = [
    (["--units", "0"], r"invalid --units 0: must be between 1 and 50$"),
    (["--units", "51"], r"invalid --units 51: must be between 1 and 50$"),
    (["--points", "1"], r"invalid --points 1: must be between 2 and 100000$"),
    (["--val-fraction", "0.7"], r"invalid --val-fraction 0\.7: must be between 0 and 0\.5$"),
    (["--noise", "-1"], r"invalid --noise -1\.0: must be between 0 and 1e\+12$"),
    (["--seed", "-1"], r"invalid --seed -1: must be between 0 and 9223372036854775807$"),
    (["--batch-size", "26"], r"Invalid batch size: 26 \(must be in 1\.\.25"),
    (["--steps", "-3"], r"invalid --steps -3: must be between 0 and 1000000$"),
    (["--model", "sigmoidd"], r"unknown model 'sigmoidd'; did you mean 'sigmoid'"),
    (["--target", "sin"], r"unknown target 'sin'; did you mean 'sine'"),
    (["--init", "missing.json"], r"missing\.json: cannot read: No such file"),
    ("bad_json", r"bad\.json line 3: invalid JSON"),
    ("short_init", r"short\.json: expected 10 params for sigmoid units K=3, got 4"),
    ("no_params", r'np\.json: expected an object like \{"params": \[\.\.\.\]\}'),
]


@pytest.mark.parametrize("extra,msg", ERRORS, ids=[str(e[0]) for e in ERRORS])
def test_fit_errors(tmp_path, extra, msg):
    import re

    if isinstance(extra, str):
        extra = ["--init", {"bad_json": _bad_json, "short_init": _short_init,
                            "no_params": _no_params}[extra](tmp_path)]
    argv = list(BASE)
    # later flags win in argparse, so the bad value overrides BASE's
    r = fit(*argv, *extra, cwd=tmp_path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("gdviz fit: error: ")
    assert re.search(msg, lines[0]), lines[0]


def test_fit_bad_expression_names_column():
    r = fit("--target-expr", "x + z", "--model", "linear", "--optimizer", "sgd")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "column" in r.stderr


def test_fit_bad_optimizer_value():
    r = fit(*BASE, "--lr", "-0.1")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "learning rate" in r.stderr.lower()
