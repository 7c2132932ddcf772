"""Big data arrays in scene files (issue 10: a 100,000-point scene froze the window for
1.3 s on open and 0.7 s on save, in tomllib and tomli-w): rows_text reads and writes
them with numpy, and must agree with tomllib on every text, valid or not."""

from __future__ import annotations

import dataclasses
import math
import sys

import numpy as np
import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from gdviz.core.rows import Rows, as_array, rows_of
from gdviz.core.scene import SceneError, dumps_scene, load_preset, loads_scene, validate_scene
from gdviz.core.scene import toml_io
from gdviz.core.scene.rows_text import read_rows, rows_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _tomllib_rows(text: str):
    try:
        return tomllib.loads("v = " + text)["v"]
    except tomllib.TOMLDecodeError:
        return None


def _float(v) -> float:
    """A number as the scene takes it: float(), an integer too big for one as inf."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def _same(got: np.ndarray, ref) -> bool:
    want = np.array([[_float(v) for v in r] for r in ref]).reshape(-1, got.shape[1])
    return (got.shape == want.shape and bool((got == want).all())
            and bool((np.signbit(got) == np.signbit(want)).all()))


# numbers as people and programs write them, TOML's and not; mostly TOML's, so that many
# arrays are read (and must then be read right)
GOOD = ["0", "-0", "+0", "1", "-1", "+1", "12", "0.5", "-0.5", "1.5e3", "1E5", "1e-05", "1e+05",
        "-2.5E-3", "0e0", "0.0", "-0.0", "1e400", "-1e400", "1e-400", "0.1", "10.25",
        "123456789012345678901234567890", "1" + "0" * 400, "2.2250738585072011e-308"]
BAD = ["01", "-01", "00", "1.", ".5", "-.5", "1.e5", "1e", "1e+", "+-1", "--1", "1-2", "1+",
       "1.5.5", "1e5e5", "1e5.3", "1_0", "e5", "-", "+", ".", "inf", "nan", "0x10", "1 2",
       "1..5", "0.5e", "", "true", "'1'"]
TOKENS = st.sampled_from(GOOD * 8 + BAD)
SPACES = st.sampled_from(["", " ", "\t", "\n", "  \n    ", "\n\n"] * 4 + ["\r\n", "# note\n"])


@st.composite
def arrays(draw):
    """A text shaped like an array of rows (mostly of 2 or 3 numbers, and then it asks
    for those), with mistakes drawn in now and then; and how many numbers a row to ask."""
    k = draw(st.sampled_from([2, 3, 2, 3, 2, 1, 4]))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        nums = [draw(TOKENS) for _ in range(k)]
        sep = draw(st.sampled_from([",", ", ", " ,", ",\n", ",", ", ", ",,", " "]))
        trail = draw(st.sampled_from(["", "", "", ",", ", "]))
        rows.append("[" + draw(SPACES) + sep.join(nums) + trail + draw(SPACES) + "]")
    join = draw(st.sampled_from([",", ", ", ",\n    ", ",", ", ", " ", ",,"]))
    end = draw(st.sampled_from(["", "", ",", ",\n"]))
    text = "[" + draw(SPACES) + join.join(rows) + end + draw(SPACES) + "]"
    if draw(st.integers(0, 19)) == 0:  # a bracket more or less
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from(["[", "]", ""])) + text[i + 1:]
    return text, k if k in (2, 3) and draw(st.integers(0, 9)) else draw(st.sampled_from([2, 3]))


@seed(20261206)
@settings(max_examples=3000, deadline=None)
@given(arrays())
def test_read_rows_takes_only_what_tomllib_reads_as_rows_and_reads_the_same_numbers(drawn):
    text, k = drawn
    got = read_rows(text, k)
    ref = _tomllib_rows(text)
    if got is None:
        return
    assert ref is not None, text
    assert all(isinstance(r, list) and len(r) == k for r in ref), text
    assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for r in ref for v in r)
    assert _same(got.reshape(-1, k), ref), text


@seed(20261207)
@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=2,
                         max_size=2), max_size=20),
       st.sampled_from([repr, "{:.17g}".format, "{:e}".format, "{:.3f}".format]),
       st.sampled_from([", ", ",", " , ", ",\n  "]))
def test_read_rows_reads_every_plain_decimal_as_float_does(rows, fmt, sep):
    def num(v):  # a TOML decimal: no leading 0 on the integer part, digits around '.'
        t = fmt(v)
        return t if tomllib.loads(f"v = {t}")["v"] == float(t) else repr(v)

    texts = [[num(v) for v in r] for r in rows]
    text = "[\n" + ",\n".join("  [" + sep.join(r) + "]" for r in texts) + "\n]"
    got = read_rows(text, 2)
    assert got is not None, text
    # as the scene reads them: tomllib's value (an int for "-0": +0.0), then float()
    assert _same(got.reshape(-1, 2), [[float(tomllib.loads(f"v = {t}")["v"]) for t in r]
                                      for r in texts])


@pytest.mark.parametrize("text", [
    "[[1, 2], [3, 4]]", "[[1,2,],[3,4],]", "[ [ -0.0 , +1e-3 ] ,\n\t[ 0e0, 12 ] ]", "[]",
    "[\n    [0.8217701239287258, 0.4789040398466858],\n]"])
def test_read_rows_reads_toml_arrays_of_pairs(text):
    got = read_rows(text, 2)
    assert got is not None and _same(got.reshape(-1, 2), _tomllib_rows(text) or np.zeros((0, 2)))


@pytest.mark.parametrize("text", [
    "[[1, 2], [3, 4, 5]]", "[[1, 2] [3, 4]]", "[[1, 2],, [3, 4]]", "[[01, 2]]", "[[1., 2]]",
    "[[1, 2]] x", "[[1 2, 3]]", "[[1, 2], # c\n [3, 4]]", "[[1, 2],\r\n[3, 4]]", "[[1, 2]",
    "[[1, 2]]]", "[[1e5.3, 2]]", "[[-+1, 2]]", "[[1, 2.5.1]]", "[[1_000, 2]]", "[[inf, 1]]",
    "[[1, 2], [3, 4]], [5, 6]", "[[1,2]]\u00a0", ""])
def test_read_rows_leaves_anything_else_to_tomllib(text):
    assert read_rows(text, 2) is None


def test_rows_text_writes_a_row_a_line_that_reads_back_the_same():
    a = np.array([[0.1, -0.0], [1e300, 5e-324], [-2.5, 3.0]])
    text = rows_text(rows_of(a))
    assert text == ("[\n    [0.1, -0.0],\n    [1e+300, 5e-324],\n    [-2.5, 3.0],\n]")
    assert _same(read_rows(text, 2), tomllib.loads("v = " + text)["v"])
    assert _same(read_rows(text, 2), a)
    assert rows_text(((1, 2, 0), (3, 4, 1))) == "[\n    [1.0, 2.0, 0.0],\n    [3.0, 4.0, 1.0],\n]"
    assert rows_text(()) == "[]"
    with pytest.raises(ValueError, match="non-finite number inf"):
        rows_text(((1.0, math.inf),))
    with pytest.raises(ValueError, match="different lengths"):
        rows_text(((1.0, 2.0), (1.0,)))


def test_rows_hold_their_array_and_compare_as_tuples():
    r = rows_of([[1, 2], [3, 4.5]])
    assert r == ((1.0, 2.0), (3.0, 4.5)) and hash(r) == hash(((1.0, 2.0), (3.0, 4.5)))
    assert as_array(r) is r.array and not r.array.flags.writeable
    assert r.finite and r.max_abs == 4.5
    assert not rows_of([[1, math.nan]]).finite and rows_of([[1, math.nan]]).max_abs == math.inf
    import copy
    import pickle

    for again in (copy.deepcopy(r), pickle.loads(pickle.dumps(r))):
        assert type(again) is Rows and again == r and again.max_abs == 4.5


# ----------------------------------------------------------------------- in scene files
def _big_scene(n: int = 3000, seed: int = 1):
    s = load_preset("L13")
    rng = np.random.default_rng(seed)
    data = tuple(map(tuple, np.column_stack([rng.uniform(-3, 3, n),
                                             rng.normal(0, 1, n)]).tolist()))
    return dataclasses.replace(s, fit=dataclasses.replace(s.fit, data=data, units=10))


def test_a_big_scene_reads_back_equal_with_its_data_as_rows_read_fast(monkeypatch):
    scene = _big_scene()
    text = dumps_scene(scene)
    assert "\n    [" in text and text.count("\n") < 3200  # a row a line
    slow = []
    real = toml_io.tomllib.loads
    monkeypatch.setattr(toml_io.tomllib, "loads", lambda t, **k: slow.append(len(t)) or real(t))
    again = toml_io._loads_scene(text, "big.toml")
    assert again == scene and type(again.fit.data) is Rows
    assert max(slow) < 20_000  # tomllib read the rest, never the 3,000 rows
    assert dumps_scene(again) == text
    slow.clear()
    assert toml_io._loads_scene(text.replace("\n    [", "\n    # a note\n    [", 1),
                                "big.toml") == scene  # a comment: tomllib reads it all
    assert max(slow) > 100_000


def test_big_data_arrays_give_the_messages_tomllib_and_the_schema_give():
    text = dumps_scene(_big_scene())
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("data = ["))
    bad = lines.copy()
    bad[at + 2000] = "    [1..5, 2.0],"
    with pytest.raises(SceneError, match=rf"^big.toml line {at + 2001}: "):
        toml_io._loads_scene("\n".join(bad), "big.toml")
    far = lines.copy()
    far[at + 1235] = "    [1e13, 2.0],"
    with pytest.raises(SceneError, match=r"\[fit\] data\[1234\] has 10000000000000.0: values"):
        toml_io._loads_scene("\n".join(far), "big.toml")
    inf = lines.copy()
    inf[at + 7] = "    [1e400, 2.0],"
    with pytest.raises(SceneError, match=r"\[fit\] data\[6\] = inf is invalid: must be a finite"):
        toml_io._loads_scene("\n".join(inf), "big.toml")
    triples = [line.replace("],", ", 1],") if i > at and line.startswith("    [") else line
               for i, line in enumerate(lines)]
    with pytest.raises(SceneError, match=r"\[fit\] data\[0\] must be a point \[x, y\], got \["):
        toml_io._loads_scene("\n".join(triples), "big.toml")


def test_a_data_array_inside_a_string_stays_text():
    scene = _big_scene()
    rows = rows_text(scene.fit.data)
    text = dumps_scene(scene).replace('[meta]\n', f'[meta]\nnotes = """\ndata = {rows}\n"""\n', 1)
    with pytest.raises(SceneError, match=r"unknown key 'notes' in \[meta\]"):
        toml_io._loads_scene(text, "big.toml")
    assert toml_io._toml(text)["meta"]["notes"] == f"data = {rows}\n"


def test_rows_are_checked_again_as_a_built_scene_is():
    scene = _big_scene(200)
    a = np.array(scene.fit.data)
    a[7, 1] = 1e13
    bad = dataclasses.replace(scene, fit=dataclasses.replace(scene.fit, data=rows_of(a)))
    with pytest.raises(SceneError, match=r"\[fit\] data\[7\] has 10000000000000.0"):
        validate_scene(bad)
    good = dataclasses.replace(scene, fit=dataclasses.replace(scene.fit,
                                                              data=rows_of(scene.fit.data)))
    assert validate_scene(good) is good
    assert loads_scene(dumps_scene(good)) == scene


@pytest.mark.parametrize("digits, match", [
    (400, r"\[runs\.small\] lr = 1000000000.*… is invalid: must be a finite number"),
    (5000, r"^x.toml: a number in it is too long to read \(over \d+ digits\)$")])
def test_an_integer_too_big_for_a_float_is_one_line(digits, match):
    # float(10**400) raised OverflowError through loads_scene (a traceback); tomllib's
    # int() a ValueError that did not name the file
    text = dumps_scene(load_preset("L4"))
    lr = next(line for line in text.splitlines() if line.startswith("lr = "))
    with pytest.raises(SceneError, match=match):
        loads_scene(text.replace(lr, "lr = 1" + "0" * digits, 1), "x.toml")


def test_rows_keep_their_text_once_written():
    # the autosave writes the demo every few seconds: 100,000 points cost ~120 ms of repr
    # each time; a Rows is immutable, so its text is kept
    rows = rows_of(np.arange(6.0).reshape(3, 2) / 7)
    text = rows_text(rows)
    assert rows_text(rows) is text and text == rows_text(tuple(map(tuple, rows)))
    assert rows_text(rows, indent="  ") != text  # another layout: made, not kept
    scene = _big_scene(50)
    scene = dataclasses.replace(scene, fit=dataclasses.replace(scene.fit,
                                                               data=rows_of(scene.fit.data)))
    first = dumps_scene(scene)
    assert "text" in scene.fit.data.__dict__ and dumps_scene(scene) == first


BIG_TEXT = dumps_scene(_big_scene(300, seed=5))


def _plain_toml(value):
    """tomllib's value of a _toml result: each LiftedRows as the list tomllib reads from
    its text, after checking that its rows are those numbers, bit for bit."""
    from gdviz.core.scene.schema import LiftedRows

    if isinstance(value, dict):
        return {k: _plain_toml(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_toml(v) for v in value]
    if type(value) is LiftedRows:
        ref = value.as_list()
        assert _same(value.rows.array, ref)
        return ref
    return value


@seed(20261208)
@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(BIG_TEXT) - 1), st.sampled_from(["", "x", "1", "0", ".", "-", "e",
                                                           ",", "[", "]", " ", "\n", "#", '"',
                                                           "=", "01", "1_0", "\r\n"]),
       st.integers(0, 2))
def test_a_scene_with_a_big_array_reads_as_tomllib_reads_it_whatever_is_changed(at, new, cut):
    # the whole read (_lift, tomllib on the rest, _put_back) against tomllib on the whole
    # text, one change anywhere: the same data, or the same error (its line too)
    text = BIG_TEXT[:at] + new + BIG_TEXT[at + cut:]

    def outcome(read):
        try:
            return "ok", _plain_toml(read(text))
        except tomllib.TOMLDecodeError as exc:
            return "error", str(exc)
        except ValueError as exc:
            return "value", str(exc)

    assert outcome(toml_io._toml) == outcome(tomllib.loads)


def _big_init_scene(seed: int = 3):
    """L21 with a network of 4 layers of 32 units and its starting parameters (3,297)."""
    from gdviz.core.classifier import NetModel

    s = load_preset("L21")
    n = NetModel(4, 32, s.classify.activation).n_params
    init = tuple(np.random.default_rng(seed).normal(0, 0.3, n).tolist())
    return dataclasses.replace(s, classify=dataclasses.replace(s.classify, layers=4, units=32,
                                                               init=init))


def test_a_big_init_reads_back_equal_without_tomllib_reading_its_numbers(monkeypatch):
    """An 88 KB scene of 16 such networks took 46-107 ms to open in the window, most of its
    read tomllib's parse of these numbers, a line each."""
    scene = _big_init_scene()
    text = dumps_scene(scene)
    assert text.count("\n") > 3000  # (a number a line)
    read = []
    real = toml_io.tomllib.loads
    monkeypatch.setattr(toml_io.tomllib, "loads", lambda t, **k: read.append(len(t)) or real(t))
    again = toml_io._loads_scene(text, "big.toml")
    assert again == scene
    assert read and max(read) < len(text) // 4  # (tomllib read the rest, not the numbers)
    assert toml_io._toml(text) == real(text)


BIG_INIT_TEXT = dumps_scene(_big_init_scene(5))


@seed(20261207)
@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(BIG_INIT_TEXT) - 1),
       st.sampled_from(["", "x", "1", "0", ".", "-", "+", "e", "E", ",", ",,", "[", "]", " ",
                        "\t", "\n", "#", '"', "=", "01", "1_0", "\r\n", "\r", "inf", "nan",
                        "0x1", "1.", ".5", "1e", "-0", "+0.0", "9" * 50]),
       st.integers(0, 2))
def test_a_scene_with_a_big_init_reads_as_tomllib_reads_it_whatever_is_changed(at, new, cut):
    # the whole read (_lift, tomllib on the rest, _put_back) against tomllib on the whole
    # text, one change anywhere: the same values (ints and floats alike), or the same error
    text = BIG_INIT_TEXT[:at] + new + BIG_INIT_TEXT[at + cut:]

    def outcome(read):
        try:
            data = read(text)
        except tomllib.TOMLDecodeError as exc:
            return "error", str(exc)
        except ValueError as exc:
            return "value", str(exc)
        init = data.get("classify", {}).get("init") if isinstance(data.get("classify"), dict) else None
        kinds = [type(v).__name__ for v in init] if isinstance(init, list) else None
        return "ok", _plain_toml(data), kinds

    assert outcome(toml_io._toml) == outcome(tomllib.loads)
