"""The front door: version, unknown commands and flags, bench entries."""

import json
import subprocess
import sys

import pytest

from gdviz import __version__
from gdviz.bench import ENTRIES, format_table, resolve


def _gdviz(*args):
    return subprocess.run([sys.executable, "-m", "gdviz", *args], capture_output=True, text=True)


def _one_line_error(r, text):
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and text in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_version():
    r = _gdviz("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"gdviz {__version__}"


def test_unknown_command_suggests():
    _one_line_error(_gdviz("tarce", "--surface", "quadratic"), "unknown command 'tarce'; did you mean 'trace'?")


def test_unknown_flag_of_a_subcommand_suggests():
    _one_line_error(_gdviz("trace", "--surface", "quadratic", "--optimizer", "sgd", "--start", "1,1",
                           "--lrr", "0.1"), "unknown option '--lrr'; did you mean '--lr'?")


def test_a_typo_in_a_required_flag_is_blamed_as_the_typo():
    _one_line_error(_gdviz("trace", "--surface", "quadratic", "--optimizr", "adam", "--start", "1,1"),
                    "unknown option '--optimizr'; did you mean '--optimizer'?")
    _one_line_error(_gdviz("trace", "--surface", "quadratic", "--start", "1,1"),
                    "the following arguments are required: --optimizer")


def test_bad_choice_suggests():
    _one_line_error(_gdviz("trace", "--surface", "quadratic", "--optimizer", "sgd", "--start", "1,1",
                           "--format", "cvs"), "did you mean 'csv'?")


def test_missing_scene_file_for_gui():
    _one_line_error(_gdviz("missing-scene.toml"), "missing-scene.toml")


def test_bench_unknown_entry():
    _one_line_error(_gdviz("bench", "gird-eval"), "unknown bench entry 'gird-eval'")


def test_bench_json_row_shape():
    r = _gdviz("bench", "--json", "grid-eval")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [row["name"] for row in rows] == ["grid-eval"]
    for key in ("ours_ms", "baseline", "baseline_ms", "ratio"):
        assert key in rows[0]
    assert rows[0]["ratio"] == pytest.approx(rows[0]["baseline_ms"] / rows[0]["ours_ms"], rel=1e-6)


def test_every_entry_resolves_and_table_formats():
    for name in ENTRIES:
        assert callable(resolve(name))
    text = format_table([dict(name="x", ours_ms=1.0, baseline="numpy", baseline_ms=5.0, ratio=5.0, extra=1)])
    assert "5.0x" in text and "extra=1" in text
