"""``gdviz lessons``: where the shipped lessons are, by the names other commands take."""

import subprocess
import sys
from pathlib import Path

import pytest

from gdviz.core.scene import load_preset, preset_paths


def _gdviz(*args):
    return subprocess.run([sys.executable, "-m", "gdviz", *args], capture_output=True, text=True)


def test_lists_every_lesson_with_its_file_and_title():
    r = _gdviz("lessons", "--lang", "en")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == len(preset_paths())
    for line, path in zip(lines, preset_paths()):
        name, rest = line.split(None, 1)
        title, file = rest.split("\t")
        # the installed copy's file (the tests may import the checkout's own copy)
        assert Path(file).name == path.name and Path(file).is_file()
        # the name is what `gdviz export NAME` takes
        assert load_preset(name).meta.title.get("en") == title.strip()


def test_titles_in_the_language_asked():
    r = _gdviz("lessons", "--lang", "zh_TW")
    assert r.returncode == 0, r.stderr
    assert "親手擬合" in r.stdout.splitlines()[0]


@pytest.mark.parametrize("lang", ["fr", "klingon", ""])
def test_unknown_language_is_one_line_exit_2(lang):
    r = _gdviz("lessons", "--lang", lang)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "invalid language" in lines[0] and "Traceback" not in r.stderr


def test_a_typo_in_the_flag_is_named():
    r = _gdviz("lessons", "--lnag", "en")
    assert r.returncode == 2 and "did you mean '--lang'" in r.stderr


@pytest.mark.parametrize("argv", [["L4"], ["L04"], ["gui", "L04"], ["L04_learning_rate"]])
def test_gdviz_lesson_opens_the_app_on_it(monkeypatch, argv):
    from gdviz import cli
    from gdviz.ui import app

    opened = []
    monkeypatch.setattr(app, "main", lambda scene_path=None: opened.append(scene_path) or 0)
    assert cli.main(argv) == 0
    assert [Path(p).name for p in opened] == ["L04_learning_rate.toml"]


def test_an_unknown_lesson_is_an_unknown_command():
    r = _gdviz("L99")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "unknown command 'L99'" in r.stderr
