"""Mutation fuzz of scene files (issue 10): the shipped presets with values swapped for
extreme numbers, odd strings, wrong types and deep nesting. Loading a mutant and applying it
to a session either works (and the session then steps) or raises one line: a SceneError
(a ValueError) naming the file. Nothing else, ever. Seeded and bounded, so it is fast and
the same on every run; a few mutants also go through ``gdviz export`` in a subprocess
(exit 0 or 2, one stderr line)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import tomli_w
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from gdviz.core.scene import SceneError, apply_scene, loads_scene, preset_paths
from gdviz.core.session import Session

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PRESETS = [tomllib.loads(p.read_text(encoding="utf-8")) for p in preset_paths()]

NUMBERS = st.sampled_from([0, -1, 1, 2, 3, 50, 2**31, 2**63 - 1, -2**63, 10**6, 10**6 + 1,
                           100_000, 0.0, -0.0, 5e-324, -5e-324, 1e-300, 1e-9, 1e12, -1e12,
                           1.0000001e12, 1e13, 1e308, -1e308, math.inf, -math.inf, math.nan,
                           0.5, 1.5, 1e3, 1e6])
STRINGS = st.sampled_from(["", " ", "x", "adam", "relu", "L04", "rosenbrock", "x^2 + y^2",
                           "exp(exp(exp(x)))", "1/0", "log(0)", "__import__('os')",
                           "q" * 5000, "x*" * 999 + "x", "(" * 300 + "x" + ")" * 300,
                           "\x00\x1b[31m", "數據", "-cos(x)", "nan", "inf", "linked", "a"])
LEAVES = st.one_of(NUMBERS, STRINGS, st.booleans(),
                   st.lists(NUMBERS, max_size=6), st.builds(list), st.builds(dict),
                   st.lists(st.lists(NUMBERS, min_size=2, max_size=2), max_size=5),
                   st.integers(1, 60).map(lambda d: _nest(d)),
                   st.builds(lambda: [[1.0, 2.0] for _ in range(3000)]))


def _nest(depth: int):
    v: list = [1.0, 2.0]
    for _ in range(depth):
        v = [v]
    return v


def _like(value):
    """A strategy for values of ``value``'s type (lists keep their shape, an element or
    all of them extreme)."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, (int, float)):
        return NUMBERS
    if isinstance(value, str):
        return STRINGS
    if isinstance(value, list) and value:
        return st.integers(0, len(value) - 1).flatmap(
            lambda i: _like(value[i]).map(lambda v: value[:i] + [v] + value[i + 1:]))
    return LEAVES


def _paths(node, prefix=()):
    """Every key path in a TOML document (tables and leaves)."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append(prefix + (k,))
            out += _paths(v, prefix + (k,))
    return out


@st.composite
def mutants(draw):
    doc = draw(st.sampled_from(PRESETS))
    doc = tomllib.loads(tomli_w.dumps(doc))  # a deep copy
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(doc) if p != ("version",)]  # hand-made cases try it
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        action = draw(st.sampled_from(["typed", "typed", "typed", "typed", "set", "set",
                                       "delete", "add"]))
        old = parent[path[-1]]
        if action == "typed" and not isinstance(old, dict):
            # same type, extreme value: these get past the type checks to the numerics
            parent[path[-1]] = draw(_like(old))
        elif action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent.get(path[-1]), dict):
            parent[path[-1]][draw(st.sampled_from(["learnig_rate", "x", "box", "units",
                                                   "data", "q" * 300]))] = draw(LEAVES)
        else:
            parent[path[-1]] = draw(LEAVES)
    return tomli_w.dumps(doc)


def _check(text: str) -> None:
    try:
        scene = loads_scene(text, source="fuzz.toml")
        session = Session()
        apply_scene(scene, session)
        session.step(3)
    except SceneError as exc:
        msg = str(exc)
        assert msg.startswith(("fuzz.toml: ", "fuzz.toml line ", "cannot apply scene: ")), msg
        assert "\n" not in msg and len(msg) < 600, msg[:1000]


@seed(20261202)
@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutants())
def test_a_mutated_preset_loads_or_says_why_in_one_line(text):
    _check(text)


@pytest.mark.parametrize("text", [
    "version = 1\nstarts = " + "[" * 5000 + "]" * 5000 + "\n",
    "version = 1\n[view]\nbox = [0.0, 5e-324, 0.0, 5e-324]\n",
    "version = 1\n" + "a = 1\n" * 20000,
    "version = 1\n[" + "t." * 3000 + "x]\n",
    "version = 1\nx = '" + "q" * 100000 + "'\n",
    "\ufeffversion = 1\n",
    "",
])
def test_hand_made_extremes(text):
    _check(text)


CLI_CASES = [
    ("tiny-box", ("view", "box"), [0.0, 5e-324, 0.0, 5e-324]),
    ("huge-box", ("view", "box"), [-1e308, 1e308, -1e308, 1e308]),
    ("big-start", ("starts",), [[1e308, 0.0]]),
    ("deep", ("starts",), "deep"),
    ("ok", None, None),
    ("ok-edge-box", ("view", "box"), [-1e12, 1e12, 5.0, 5.00000001]),
    ("ok-far-start", ("starts",), [[1e12, -1e12]]),
]


@pytest.mark.slow
@pytest.mark.parametrize("name, path, value", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_export_of_a_mutant_exits_0_or_2_with_one_line(tmp_path, name, path, value):
    doc = tomllib.loads(next(p for p in preset_paths()
                             if p.stem == "default_rosenbrock_race").read_text(encoding="utf-8"))
    if path is not None and value != "deep":
        node = doc
        for k in path[:-1]:
            node = node.setdefault(k, {})
        node[path[-1]] = value
    text = tomli_w.dumps(doc)
    if value == "deep":
        text = "nested = " + "[" * 5000 + "]" * 5000 + "\n" + text
    scene = tmp_path / f"{name}.toml"
    scene.write_text(text, encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "gdviz", "export", str(scene), "-o",
                        str(tmp_path / f"{name}.png"), "--size", "160x90", "--steps", "5"],
                       capture_output=True, text=True, timeout=300)
    lines = r.stderr.strip().splitlines()
    assert r.returncode in (0, 2) and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    if name.startswith("ok"):  # valid, however extreme: drawn without a word on stderr
        assert r.returncode == 0 and (tmp_path / f"{name}.png").is_file()
        assert lines[0].endswith(f"{name}.png")
    else:
        assert r.returncode == 2 and lines[0].startswith(f"gdviz export: error: {name}.toml")
