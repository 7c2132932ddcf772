"""`gdviz map`: outputs, a row replayed by `gdviz trace`, and every error path (exit 2,
one line, no traceback)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gdviz.cli import main


def gdviz(*args):
    p = subprocess.run([sys.executable, "-m", "gdviz", *args], capture_output=True, text=True,
                       timeout=300)
    return p.returncode, p.stdout, p.stderr


def _csv(path):
    lines = path.read_text().strip().splitlines()
    return lines[0].split(","), [line.split(",") for line in lines[1:]]


def test_basin_csv_row_replays_with_trace_bit_for_bit(tmp_path):
    out = tmp_path / "m.csv"
    rc, so, se = gdviz("map", "--surface", "himmelblau", "--optimizer", "adam", "--lr", "0.1",
                       "--kind", "basins", "--grid", "8", "--steps", "150", "--noise", "0.5",
                       "--seed", "3", "-o", str(out))
    assert (rc, so, se) == (0, "", "")
    head, rows = _csv(out)
    assert head == ["x", "y", "final_x", "final_y", "final_loss", "steps", "basin",
                    "diverged_at"]
    assert len(rows) == 64
    assert {int(r[6]) for r in rows} <= {-2, -1, 0, 1, 2, 3}
    row = rows[27]
    rc, so, _ = gdviz("trace", "--surface", "himmelblau", "--optimizer", "adam", "--lr", "0.1",
                      "--start", f"{row[0]},{row[1]}", "--steps", "150", "--noise", "0.5",
                      "--seed", "3")
    last = so.strip().splitlines()[-1].split(",")
    assert last[1:] == row[2:5]  # repr-exact: the same float64s


def test_hyper_csv_png_npy_from_a_lesson(tmp_path):
    csv, png, npy = tmp_path / "h.csv", tmp_path / "h.png", tmp_path / "h.npy"
    for p in (csv, png, npy):
        assert main(["map", "L17", "--kind", "hyper", "--grid", "8", "-o", str(p)]) == 0
    head, rows = _csv(csv)
    assert head[:2] == ["lr", "momentum"] and len(rows) == 64
    assert any(int(r[7]) > 0 for r in rows) and any(int(r[7]) == -1 for r in rows)
    import imageio.v3 as iio

    img = iio.imread(png)
    assert img.shape[0] >= 512 and img.shape[1] >= 512
    a = np.load(npy)
    assert a.shape == (64, 8)
    assert sorted(q.name for q in tmp_path.iterdir()) == ["h.csv", "h.npy", "h.png"]


def test_steps_and_batch_axis(tmp_path):
    p = tmp_path / "s.csv"
    assert main(["map", "--expr", "x^2 + 3*y^2", "--optimizer", "sgd", "--lr", "0.1",
                 "--kind", "steps", "--grid", "4", "--steps", "300", "-o", str(p)]) == 0
    _, rows = _csv(p)
    assert all(int(r[5]) > 0 for r in rows)  # every start converged
    assert main(["map", "--surface", "ellipse", "--optimizer", "sgd", "--kind", "hyper",
                 "--y-axis", "batch_size", "--start", "1,1", "--noise", "1", "--grid", "4",
                 "-o", str(p)]) == 0
    head, rows = _csv(p)
    assert head[:2] == ["lr", "batch_size"] and rows[-1][1] == "256"


def test_regression_lesson_basin_map(tmp_path):
    p = tmp_path / "r.csv"
    assert main(["map", "L06", "--kind", "steps", "--grid", "4", "--steps", "30", "-o",
                 str(p)]) == 0
    head, rows = _csv(p)
    assert head[:2] == ["w", "b"] and len(rows) == 16


BAD = [
    (["map", "--surface", "himmelblau", "--optimizer", "sgd", "-o", "m.txt"], "must end in"),
    (["map", "--surface", "himmelblau", "--optimizer", "sgd", "-o", "/no/such/dir/m.csv"],
     "does not exist"),
    (["map", "--surface", "himmelblau", "--optimizer", "sgd", "--grid", "1", "-o", "m.csv"],
     "invalid --grid 1"),
    (["map", "--surface", "himmelblau", "--optimizer", "sgd", "--grid", "100000", "-o",
      "m.csv"], "invalid --grid 100000"),
    (["map", "--surface", "himmelblau", "--optimizer", "sgd", "--steps", "0", "-o", "m.csv"],
     "invalid --steps 0"),
    (["map", "--surface", "himmelblau", "--optimizer", "sgd", "--tol", "-1", "-o", "m.csv"],
     "invalid --tol"),
    (["map", "-o", "m.csv"], "give a scene"),
    (["map", "L16", "--surface", "ellipse", "-o", "m.csv"], "not both"),
    (["map", "--surface", "himmelblau", "-o", "m.csv"], "--optimizer is required"),
    (["map", "L16", "--lr", "0.1", "-o", "m.csv"], "--lr needs --surface"),
    (["map", "L16", "--optimizer", "adam", "-o", "m.csv"], "--optimizer needs --surface"),
    (["map", "L16", "--seed", "2", "-o", "m.csv"], "--seed needs --surface"),
    (["map", "L99", "-o", "m.csv"], "unknown preset"),
    (["map", "L06", "--kind", "hyper", "-o", "m.csv"], "needs a 2-D surface"),
    (["map", "--surface", "himmelblau", "--optimizer", "sgd", "--kind", "basins",
      "--y-axis", "beta1", "-o", "m.csv"], "--y-axis applies"),
    (["map", "--surface", "ellipse", "--optimizer", "sgd", "--kind", "hyper", "-o", "m.csv"],
     "needs --start"),
    (["map", "--surface", "ellipse", "--optimizer", "adam", "--kind", "hyper", "--start",
      "1,1", "-o", "m.csv"], "adam has no momentum"),
    (["map", "--surface", "ellipse", "--optimizer", "sgd", "--kind", "hyper", "--start",
      "1,1", "--view", "0,1,0,1", "-o", "m.csv"], "--view applies"),
    (["map", "--surface", "ellipse", "--optimizer", "sgd", "--view", "1,0,0,1", "-o",
      "m.csv"], "invalid --view"),
    (["map", "--surface", "ellipse", "--optimizer", "sgd", "--view", "a,b", "-o", "m.csv"],
     "invalid --view"),
    (["map", "--surface", "elipse", "--optimizer", "sgd", "-o", "m.csv"], "did you mean"),
    (["map", "--expr", "x^^2", "--optimizer", "sgd", "-o", "m.csv"], ""),
    (["map", "--surface", "ellipse", "--optimizer", "sgd", "--beta1", "0.5", "-o", "m.csv"],
     "--beta1 does not apply"),
    (["map", "--surface", "ellipse", "--optimizer", "sgd", "--noise", "-1", "-o", "m.csv"],
     "invalid --noise"),
    (["map", "--surface", "ellipse", "--optimizer", "sgd", "--kind", "hyper", "--start",
      "x", "-o", "m.csv"], "invalid --start"),
    (["map", "--surface", "ellipse", "--optimizer", "sgd", "--kind", "bassins", "-o",
      "m.csv"], "did you mean 'basins'"),
    (["map", "--surface", "ellipse", "--optimizer", "sgd"], "required"),
]


@pytest.mark.parametrize("argv,msg", BAD, ids=[" ".join(a[1:4]) + f"-{i}"
                                               for i, (a, _) in enumerate(BAD)])
def test_error_paths_exit_2_with_one_line(argv, msg, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse's own errors
        rc = exc.code
    assert rc == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert msg in err
    assert list(tmp_path.iterdir()) == []  # nothing written
