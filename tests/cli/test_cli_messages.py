"""The front door's messages and exits (issue 10, items 5, 8, 9, 10): a closed pipe exits
quietly, negative values are values, typos suggest the subcommand's own flags, no numpy
warnings before an error, and no message quotes more than ~80 characters of user text."""

from __future__ import annotations

import subprocess
import sys

import pytest

TRACE = ["trace", "--surface", "quadratic", "--optimizer", "sgd", "--start", "1,1"]


def _gdviz(*args, **kw):
    return subprocess.run([sys.executable, "-m", "gdviz", *args], capture_output=True,
                          text=True, **kw)


def _one_line_error(r, text=None, limit=None):
    assert r.returncode == 2, (r.returncode, r.stderr[:500])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr[:2000]
    if text is not None:
        assert text in lines[0], lines[0]
    if limit is not None:
        assert len(lines[0]) <= limit, lines[0]
    return lines[0]


# ----------------------------------------------------------------------------- item 8

def test_a_closed_pipe_exits_quietly():
    proc = subprocess.Popen([sys.executable, "-m", "gdviz", *TRACE, "--steps", "1000000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline() == b"step,x,y,loss\n"  # `| head -1`
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0
    assert err == b""


def test_a_closed_pipe_exits_quietly_in_process(monkeypatch, capsys):
    """The BrokenPipeError branch is reached (OSError used to shadow it)."""
    from gdviz import cli
    from gdviz.commands import trace

    def broken(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(trace, "run", broken)
    monkeypatch.setattr(cli, "_quiet_stdout", lambda: None)
    assert cli.main(TRACE) == 0
    assert capsys.readouterr().err == ""


# ----------------------------------------------------------------------------- item 10

@pytest.mark.parametrize("args, text", [
    (["--lr", "-inf"], "Invalid learning rate: -inf (must be > 0)"),
    (["--lr", "-1e-3"], "Invalid learning rate: -0.001 (must be > 0)"),
    (["--lr", "-nan"], "Invalid learning rate: nan"),
    (["--seed", "-1"], "invalid --seed -1: must be between 0 and"),
    (["--steps", "-5"], "invalid --steps -5: must be between 0 and 1000000"),
])
def test_negative_values_are_values_and_the_flag_is_named(args, text):
    _one_line_error(_gdviz(*TRACE, *args), text)


def test_an_expression_may_start_with_a_minus():
    r = _gdviz("trace", "--expr", "-cos(x)", "--optimizer", "sgd", "--start", "-1.5,2",
               "--steps", "2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1].startswith("0,-1.5,2.0,")
    r = _gdviz("fit", "--target-expr", "-x^2", "--model", "quadratic", "--optimizer", "sgd",
               "--steps", "1")
    assert r.returncode == 0, r.stderr


def test_a_typo_suggests_only_the_subcommands_flags():
    line = _one_line_error(_gdviz(*TRACE, "--los", "mse"))
    assert "--loss" not in line  # only `fit` has --loss
    line = _one_line_error(_gdviz("fit", "--target", "quadratic", "--model", "linear",
                                  "--optimizer", "sgd", "--losss", "mse"))
    assert "did you mean '--loss'?" in line
    assert "--format" not in _one_line_error(_gdviz("export", "L04", "-o", "x.csv", "--formt", "x"))


def test_no_numpy_warnings_before_the_error_line():
    code = ("import numpy as np, sys\n"
            "from gdviz import cli\n"
            "from gdviz.commands import trace\n"
            "def run(args):\n"
            "    a = np.array([1e308, -1.0])\n"
            "    a * 10, np.sqrt(a), np.log(a - a)\n"
            "    raise ValueError('the one line')\n"
            "trace.run = run\n"
            f"sys.exit(cli.main({TRACE!r}))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stderr == "gdviz trace: error: the one line\n"
    assert r.returncode == 2


# ----------------------------------------------------------------------------- item 5

@pytest.mark.parametrize("args", [
    ["trace", "--expr", "x" * 20_000, "--optimizer", "sgd", "--start", "1,1"],
    ["trace", "--expr", "x + " + "q" * 1990, "--optimizer", "sgd", "--start", "1,1"],
    ["trace", "--expr", "x + " + "1" * 1990 + ".5.5", "--optimizer", "sgd", "--start", "1,1"],
    ["trace", "--surface", "q" * 20_000, "--optimizer", "sgd", "--start", "1,1"],
    ["trace", "--surface", "quadratic", "--optimizer", "q" * 20_000, "--start", "1,1"],
    [*TRACE, "--lr", "q" * 20_000],
    [*TRACE, "--start", "1," + "q" * 20_000],
    ["fit", "--target", "q" * 20_000, "--model", "linear", "--optimizer", "sgd"],
    ["fit", "--target", "quadratic", "--model", "q" * 20_000, "--optimizer", "sgd"],
    ["export", "q" * 200, "-o", "x.csv"],
    ["export", "L04", "-o", "x." + "q" * 20_000],
])
def test_messages_quote_little_of_the_users_text(args):
    _one_line_error(_gdviz(*args), limit=300)


def test_a_20kb_expression_in_process(capsys):
    from gdviz.cli import main

    assert main(["trace", "--expr", "x*" * 10_000, "--optimizer", "sgd", "--start", "1,1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and len(err) < 200


def test_ctrl_c_in_a_long_command_is_one_line(monkeypatch, capsys):
    from gdviz import cli
    from gdviz.commands import fit

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(fit, "run", interrupted)
    assert cli.main(["fit", "--target", "quadratic", "--model", "linear", "--optimizer", "sgd"]) == 130
    assert capsys.readouterr().err == "gdviz fit: interrupted\n"


def test_the_gui_command_refuses_a_fifo_before_opening_a_window(tmp_path):
    import os

    fifo = tmp_path / "f.toml"
    os.mkfifo(fifo)
    _one_line_error(_gdviz(str(fifo), timeout=60),
                    "f.toml: cannot read: it is a pipe (FIFO), not a scene file")
    _one_line_error(_gdviz(str(tmp_path / "missing.toml")), "no such scene file")
