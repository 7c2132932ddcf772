"""Files and values from the user (issue 10, items 1-5 and 10): every user file goes through
one bounded reader, extreme values are refused in validation with one line, and every
message quotes at most ~80 characters of the user's text."""

from __future__ import annotations

import json
import os
import threading

import numpy as np
import pytest
from scene_samples import MINIMAL, bad

from gdviz.core import limits
from gdviz.core.data import load_csv
from gdviz.core.problems import FitData, RegressionData
from gdviz.core.scene import SceneError, apply_scene, load_scene, loads_scene
from gdviz.core.session import Session
from gdviz.core.userinput import decode_text, quote, read_user_file

FIT = """\
version = 1

[problem]
kind = "fit"

[fit]
enabled = true
model = "quadratic"
linked = ["a", "b"]
"""


def one_line(exc) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


# ----------------------------------------------------------------------------- item 1: the view box

@pytest.mark.parametrize("box, why", [
    ("[0.0, 5e-324, 0.0, 5e-324]", "too narrow along x"),
    ("[-1e308, 1e308, -1e308, 1e308]", "out of range"),
    ("[1.0, 1.0000000000001, 0.0, 1.0]", "too narrow along x"),
    ("[0.0, 1.0, 1e11, 100000000000.001]", "too narrow along y"),
    ("[0.0, 1.0, 0.0, 2e12]", "out of range"),
])
def test_a_degenerate_or_huge_view_box_is_refused_with_its_range(box, why):
    with pytest.raises(SceneError) as info:
        loads_scene(bad(f"[view]\nbox = {box}"))
    msg = one_line(info)
    assert msg.startswith("<string>: [view] box = [") and why in msg
    assert "1e+12" in msg or "1e-09" in msg  # the allowed range is stated


def test_the_view_box_limits_themselves_are_accepted():
    m = limits.MAX_COORD
    s = loads_scene(bad(f"[view]\nbox = [{-m!r}, {m!r}, 1.0, {1 + 2 * limits.MIN_VIEW_SPAN!r}]"))
    session = Session(fast=False)
    apply_scene(s, session)
    assert session.view_box == (-m, m, 1.0, 1 + 2 * limits.MIN_VIEW_SPAN)


def test_the_session_refuses_the_same_boxes():
    session = Session(fast=False)
    for box in [(0.0, 5e-324, 0.0, 5e-324), (-1e308, 1e308, -1e308, 1e308)]:
        assert not session.set_view_options(box=box)
    assert session.view is None


# ----------------------------------------------------------------------------- item 4: valid-looking scenes

def test_fit_data_near_the_float_limit_is_refused():
    with pytest.raises(SceneError) as info:
        loads_scene(FIT + "data = [[1e308, 1.0], [-1e308, 2.0], [0.0, 1e308]]\n")
    assert "[fit] data[0] has 1e+308: values must be between -1e+12 and 1e+12" in one_line(info)
    with pytest.raises(ValueError, match="values must be between"):
        FitData(points_data=((1e308, 1.0), (0.0, 1.0)))
    with pytest.raises(ValueError, match="values must be between"):
        RegressionData(points=((1.0, 1e200), (0.0, 1.0)))


def test_regression_data_and_fit_init_at_1e308_are_refused():
    with pytest.raises(SceneError, match=r"\[fit\] init has 1e\+308"):
        loads_scene(FIT + "init = [1e308, -1e308, 1.1]\n")
    with pytest.raises(SceneError, match=r"\[problem.regression\] data\[1\] has -1e\+308"):
        loads_scene(MINIMAL.replace('kind = "surface"', 'kind = "regression"')
                    + "\n[problem.regression]\ndata = [[0.0, 1.0], [-1e308, 2.0]]\n")
    with pytest.raises(SceneError, match=r"starts\[0\] has 1e\+308"):
        loads_scene(MINIMAL.replace("[[-1.5, 2.0]]", "[[1e308, 2.0]]"))
    with pytest.raises(SceneError, match=r"w = 1e\+300 is invalid"):
        loads_scene(bad("[problem.regression]\nw = 1e300"))


def test_the_session_refuses_extreme_starts_and_params():
    session = Session(fast=False)
    assert not session.set_start(1e308, 0.0)
    assert not session.add_start(0.0, -1e300)
    apply_scene(loads_scene(FIT), session)
    assert not session.set_param(0, 1e308)
    assert session.set_param(0, 1e12)


def test_starts_nested_thousands_deep_are_one_line():
    text = MINIMAL.replace("[[-1.5, 2.0]]", "[" * 5000 + "]" * 5000)
    with pytest.raises(SceneError) as info:
        loads_scene(text)
    assert "nested too deeply" in one_line(info)


def test_points_times_units_is_limited():
    ok = limits.MAX_POINTS_X_UNITS // limits.MAX_UNITS
    text = FIT.replace('model = "quadratic"', f'model = "relu"\nunits = {limits.MAX_UNITS}') \
        .replace('linked = ["a", "b"]', 'linked = ["c1", "c2"]')
    loads_scene(text + f"points = {ok}\n")
    with pytest.raises(SceneError) as info:
        loads_scene(text + f"points = {limits.MAX_POINTS}\n")
    assert f"points x units must be at most {limits.MAX_POINTS_X_UNITS}" in one_line(info)
    with pytest.raises(ValueError, match="points x units must be at most"):
        FitData(model="relu", units=limits.MAX_UNITS, points=ok + 1)
    FitData(model="quadratic", points=limits.MAX_POINTS)  # 3 parameters: no product limit


# ----------------------------------------------------------------------------- items 2, 3: one bounded reader

def _in_thread(fn, *args):
    """fn(*args) in a thread; returns the exception it raised, or 'blocked' if it is still
    running after 10 s (a FIFO opened for reading blocks until a writer comes)."""
    out = {}

    def target():
        try:
            fn(*args)
            out["exc"] = None
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            out["exc"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(10)
    return out.get("exc", "blocked"), t


def _read_init(path):
    from gdviz.commands.fit import read_init
    from gdviz.core.models import make_model

    return read_init(str(path), make_model("linear"))


LOADERS = [(load_scene, "scene file"), (load_csv, "CSV file"), (_read_init, "JSON file")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
@pytest.mark.parametrize("loader, what", LOADERS)
def test_a_fifo_is_refused_without_blocking(tmp_path, loader, what):
    fifo = tmp_path / "f.toml"
    os.mkfifo(fifo)
    exc, thread = _in_thread(loader, fifo)
    if exc == "blocked":  # let the reader go, then fail
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        thread.join(10)
        pytest.fail(f"{loader.__name__} blocked on a FIFO")
    assert isinstance(exc, ValueError)
    assert str(exc) == f"f.toml: cannot read: it is a pipe (FIFO), not a {what}"


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("loader, what", LOADERS)
def test_dev_zero_and_folders_are_refused(tmp_path, loader, what):
    with pytest.raises(ValueError, match=rf"^zero: cannot read: it is a device, not a {what}$"):
        loader("/dev/zero")
    with pytest.raises(ValueError, match=rf"cannot read: it is a folder, not a {what}$"):
        loader(tmp_path)


def test_the_reader_reads_at_most_its_limit(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes(b"x" * 101)
    assert read_user_file(p, 101) == b"x" * 101
    with pytest.raises(ValueError, match=r"^a\.txt: 101 bytes is too big for a file \(at most 100\)$"):
        read_user_file(p, 100)


def test_a_huge_csv_is_refused_before_reading(tmp_path):
    p = tmp_path / "big.csv"
    with open(p, "wb") as fh:
        fh.truncate(limits.MAX_CSV_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(ValueError, match=r"^big\.csv: \d+ bytes is too big for a CSV file"):
        load_csv(p)


def test_init_json_nested_deeply_is_one_line(tmp_path):
    p = tmp_path / "deep.json"
    p.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match=r"^deep\.json: nested too deeply$"):
        _read_init(p)
    p.write_text(json.dumps({"params": [1e308, 0.0]}))
    with pytest.raises(ValueError, match=r"params must be between -1e\+12 and 1e\+12"):
        _read_init(p)


# ----------------------------------------------------------------------------- item 5: short messages

def test_quote_cuts_long_text_and_escapes_control_characters():
    assert quote("abc") == "abc"
    assert quote("x" * 1000) == "x" * limits.MAX_QUOTE + "…"
    assert quote("a\nb\x00") == "a\\nb\\x00"


def test_a_20kb_expression_in_a_scene_gives_a_short_message():
    expr = "x + " * 5000
    with pytest.raises(SceneError) as info:
        loads_scene(MINIMAL.replace('kind = "surface"', f'kind = "expr"\nexpr = "{expr}"'))
    assert len(one_line(info)) < 300


def test_long_names_keys_and_values_are_quoted_briefly():
    long = "q" * 20_000
    for text in [bad(f'{long} = 1'), bad(f'[runs.{long}]\noptimizer = "adam"\nlr = -1.0'),
                 MINIMAL.replace('"rosenbrock"', f'"{long}"'),
                 MINIMAL.replace('"adam"', f'"{long}"'),
                 bad(f'[view]\nscale = "{long}"'),
                 bad(f'[view]\nlevels = "{long}"'),
                 bad("[view]\nbox = [" + ", ".join(["1.0"] * 5000) + "]"),
                 bad(f'[export]\npanels = ["{long}"]')]:
        with pytest.raises(SceneError) as info:
            loads_scene(text)
        assert len(one_line(info)) < 400, str(info.value)[:500]


def test_a_1mb_csv_line_gives_a_short_message(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("x,y\n1,2\n" + "9" * 1_000_000 + "x,1\n")
    with pytest.raises(ValueError) as info:
        load_csv(p)
    assert one_line(info).startswith("d.csv line 3: expected 2 numbers, got '999")
    assert len(str(info.value)) < 120
    p.write_text("1,2\n" + "1" * 400 + ",inf\n")
    with pytest.raises(ValueError, match=r"^d\.csv line 2: non-finite value in '1+…'$"):
        load_csv(p)


# ----------------------------------------------------------------------------- item 10: CSV encodings

def test_utf16_and_gbk_csvs_are_read(tmp_path):
    text = "# 數據\tx\n時間\t值\n1\t2\n3\t4.5\n"
    for enc, name in [("utf-16", "u16.csv"), ("utf-16-be", "u16be.csv"), ("gbk", "gbk.csv"),
                      ("utf-8-sig", "u8.csv")]:
        raw = text.encode(enc)
        if enc == "utf-16-be":
            raw = b"\xfe\xff" + raw
        p = tmp_path / name
        p.write_bytes(raw)
        x, y = load_csv(p)
        np.testing.assert_array_equal(x, [1.0, 3.0])
        np.testing.assert_array_equal(y, [2.0, 4.5])


def test_a_binary_file_names_the_encodings_read(tmp_path):
    p = tmp_path / "img.csv"
    p.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ValueError) as info:
        load_csv(p)
    msg = one_line(info)
    assert msg.startswith("img.csv: not a text file in a known encoding")
    assert "UTF-8" in msg and "UTF-16" in msg and "GB18030" in msg
    with pytest.raises(ValueError, match="UTF-16"):
        decode_text(b"\xff\xfe\x00\xd8", "x")  # a lone surrogate after the BOM


def test_gui_loaders_are_the_core_ones():
    """File > Open and Load CSV call load_scene / load_csv (and apply_scene), which raise only
    ValueError subclasses: the window's ``except (ValueError, OSError)`` covers them."""
    import inspect

    from gdviz.ui import main_window
    from gdviz.ui.panels import data_panel

    assert "load_scene(path)" in inspect.getsource(main_window.MainWindow.open_scene)
    assert "load_csv(path)" in inspect.getsource(data_panel)
    assert issubclass(SceneError, ValueError)


@pytest.mark.parametrize("key, meant", [("learnig_rate", "lr"), ("lerning_rate", "lr"),
                                        ("epsilom", "eps"), ("learning_rate", "lr")])
def test_a_typo_of_a_word_for_a_short_key_suggests_it(key, meant):
    from scene_samples import run_table

    with pytest.raises(SceneError, match=rf"unknown key '{key}' in \[runs\.x\]; "
                                         rf"did you mean '{meant}'\?$"):
        loads_scene(run_table(f"{key} = 0.1"))


def test_the_fit_map_twin_stays_small_with_many_points():
    """The map of a 10^5-point fit before the kernels are compiled (the numpy twin) took
    16384 x 10^5 floats (13 GB) at once (32 x 32: 820 MB); it now works in chunks."""
    import tracemalloc

    from gdviz.core.models import make_model, slice_grid

    x = np.linspace(-1.0, 1.0, limits.MAX_POINTS)
    tracemalloc.start()
    try:
        out = slice_grid(make_model("quadratic"), np.ones(3), 0, 1, (-1.0, 1.0), (-1.0, 1.0),
                         32, 32, x, x * x, fast=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200e6, peak
    fast = slice_grid(make_model("quadratic"), np.ones(3), 0, 1, (-1.0, 1.0), (-1.0, 1.0),
                      32, 32, x, x * x, fast=True)
    np.testing.assert_allclose(out, fast, rtol=1e-9)
