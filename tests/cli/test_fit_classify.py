"""`gdviz fit --task classify` end to end, in a subprocess: JSON on success, one line and
exit 2 on every error."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gdviz.core.classifier import ClassifyData
from gdviz.core.engine import RunSet
from gdviz.core.optimizers import make_optimizer

ROOT = Path(__file__).resolve().parents[2]


def fit(*argv, cwd=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.pop("GDVIZ_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "gdviz", "fit", *map(str, argv)],
                          capture_output=True, text=True, cwd=cwd or ROOT, env=env, timeout=300)


BASE = ["--task", "classify", "--dataset", "circles", "--model", "network", "--layers", "1",
        "--units", "4", "--points", "60", "--noise", "0.1", "--val-fraction", "0.25",
        "--optimizer", "adam", "--lr", "0.03", "--steps", "50", "--seed", "2"]


def test_classify_json_matches_the_engine():
    r = fit(*BASE)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["task"] == "classify" and out["dataset"] == "circles" and out["loss"] == "bce"
    assert (out["layers"], out["units"], out["activation"]) == (1, 4, "relu")
    assert out["param_names"][:3] == ["W1[1,1]", "W1[1,2]", "W1[2,1]"]
    assert len(out["params_init"]) == len(out["params_final"]) == 17
    hist = out["history"]
    assert [h["step"] for h in hist] == list(range(51))
    assert set(hist[0]) == {"step", "train_loss", "val_loss", "train_acc", "val_acc"}
    d = out["data"]
    assert len(d["x_train"]) == len(d["y_train"]) == 45 and len(d["x_val"]) == 15
    assert all(len(p) == 2 for p in d["x_train"]) and set(d["y_train"]) <= {0.0, 1.0}
    # the same run in process: the same numbers
    data = ClassifyData("circles", 60, 0.1, 2, 0.25, 1, 4, "relu")
    pr = data.build(None, 2, fast=False)
    np.testing.assert_array_equal(out["params_init"], data.init_params())
    rs = RunSet(pr, [make_optimizer("adam", lr=0.03)], data.init_params()[None], total_steps=50,
                seed=2, fast=False)
    rs.advance(50)
    np.testing.assert_allclose(out["params_final"], rs.params[0], rtol=1e-9, atol=1e-12)
    assert hist[-1]["train_acc"] == pytest.approx(pr.accuracy(rs.params)[0])
    np.testing.assert_allclose(d["x_train"], pr.x)


def test_classify_csv_and_init(tmp_path):
    csv = tmp_path / "pts.csv"
    csv.write_text("x1,x2,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(12)))
    init = tmp_path / "init.json"
    init.write_text(json.dumps({"params": [0.5, -0.25, 0.0]}))
    r = fit("--task", "classify", "--csv", csv, "--model", "network", "--layers", "0",
            "--optimizer", "sgd", "--lr", "0.1", "--steps", "5", "--init", init,
            "--val-fraction", "0", "--batch-size", "4")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["dataset"] == "pts.csv" and out["points"] == 12 and out["noise"] is None
    assert out["params_init"] == [0.5, -0.25, 0.0] and out["batch_size"] == 4
    assert out["history"][0]["val_acc"] is None and out["data"]["x_val"] == []


def _bad_csv(tmp):
    (tmp / "bad.csv").write_text("1,2,0\n3,4,7\n")
    return ["--dataset", None, "--csv", "bad.csv"]


ERRORS = [
    (["--dataset", "circle"], r"unknown --dataset 'circle'; did you mean 'circles'\?$"),
    (["--dataset", "moons"], r"unknown --dataset 'moons' \(choose from circles, xor, gauss, spiral\)$"),
    (["--dataset", None], r"--task classify needs --dataset \(circles, xor, gauss, spiral\) or --csv FILE$"),
    (["--csv", "x.csv"], r"give --dataset or --csv, not both$"),
    (["--dataset", None, "--csv", "nope.csv"], r"nope\.csv: cannot read: No such file"),
    ("bad_csv", r"bad\.csv line 2: label must be 0 or 1, got '7'$"),
    (["--model", "sigmoid"], r"--task classify needs --model network, got 'sigmoid'$"),
    (["--target", "sine"], r"--target applies to --task regress"),
    (["--loss", "mae"], r"--loss applies to --task regress"),
    (["--layers", "5"], r"invalid --layers 5: must be between 0 and 4$"),
    (["--units", "33"], r"invalid --units 33: must be between 1 and 32$"),
    (["--activation", "gelu"], r"unknown --activation 'gelu'; choose from relu, sigmoid, tanh"),
    (["--points", "5"], r"invalid --points 5: must be between 10 and 100000$"),
    (["--noise", "0.8"], r"invalid --noise 0\.8: must be between 0 and 0\.5 for a classification$"),
    (["--noise", "nan"], r"invalid --noise nan"),
    (["--val-fraction", "0.9"], r"invalid --val-fraction 0\.9: must be between 0 and 0\.5$"),
    (["--seed", "-1"], r"invalid --seed -1"),
    (["--steps", "-1"], r"invalid --steps -1"),
    (["--batch-size", "0"], r"invalid --batch-size 0"),
    (["--batch-size", "46"], r"Invalid batch size: 46 \(must be in 1\.\.45"),
    (["--task", "cluster"], r"invalid choice for --task: 'cluster' \(choose from regress, classify\)$"),
    (["--lr", "-1"], r"Invalid learning rate: -1 \(must be > 0\)$"),
    (["--init", "missing.json"], r"missing\.json: cannot read: No such file"),
    ("short_init", r"short\.json: parameters: expected 17 numbers for a 2-4-1 network, got 2$"),
]


@pytest.mark.parametrize("extra,msg", ERRORS, ids=[str(e[0]) for e in ERRORS])
def test_classify_errors_one_line_exit_2(tmp_path, extra, msg):
    if extra == "bad_csv":
        extra = _bad_csv(tmp_path)
    elif extra == "short_init":
        (tmp_path / "short.json").write_text(json.dumps({"params": [1.0, 2.0]}))
        extra = ["--init", "short.json"]
    argv = list(BASE)
    if extra[:2] == ["--dataset", None]:
        i = argv.index("--dataset")
        del argv[i:i + 2]
        extra = extra[2:]
    r = fit(*argv, *extra, cwd=tmp_path)
    assert r.returncode == 2, r.stdout[:200]
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("gdviz fit: error: ")
    assert re.search(msg, lines[0]), lines[0]
    assert r.stdout == ""


@pytest.mark.parametrize("extra,msg", [
    (["--dataset", "xor"], r"--dataset applies to --task classify$"),
    (["--csv", "a.csv"], r"--csv applies to --task classify$"),
])
def test_regression_refuses_classify_flags(extra, msg):
    r = fit("--target", "sine", "--model", "linear", "--optimizer", "sgd", "--steps", "2", *extra)
    assert r.returncode == 2 and re.search(msg, r.stderr.strip())


def test_regression_still_needs_a_target():
    r = fit("--model", "linear", "--optimizer", "sgd")
    assert r.returncode == 2
    assert r.stderr.strip() == "gdviz fit: error: one of the arguments --target --target-expr is required"
