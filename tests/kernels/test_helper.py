"""The kernels compiled in a helper process when numba's cache is cold, so that the
window's process keeps its GIL (gdviz.kernels.helper, gdviz.kernels.warmup_aside)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from gdviz import kernels
from gdviz.kernels import helper

PY = sys.executable


def _python(code: str, cache, *args, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    return subprocess.run([PY, *(["-c", textwrap.dedent(code)] if code else []), *args],
                          env=env, capture_output=True, text=True, timeout=timeout)


PROBE = """
    from gdviz import kernels
    from gdviz.kernels import helper
    from gdviz.kernels._jit import load_numba

    kernels.load_all()
    load_numba()
    spec = kernels.REGISTRY["expr-1d"]
    print(helper.cache_is_cold([spec]))
    spec.warmup()
    st = spec.fast.stats
    print(sum(st.cache_hits.values()), sum(st.cache_misses.values()))
"""


def test_the_helper_fills_a_cold_cache_that_the_window_then_only_loads(tmp_path):
    cold = _python(PROBE, tmp_path / "cold")
    assert cold.returncode == 0, cold.stderr
    is_cold, counts = cold.stdout.split("\n")[:2]
    assert is_cold == "True"
    assert counts.split()[0] == "0"  # compiled: nothing came from the cache

    filled = tmp_path / "filled"
    run = _python("", filled, "-m", "gdviz.kernels.helper", "expr-1d")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[0] == "1 1 expr-1d"  # a line per kernel, for the window
    after = _python(PROBE, filled)
    assert after.returncode == 0, after.stderr
    is_cold, counts = after.stdout.split("\n")[:2]
    assert is_cold == "False"
    hits, misses = map(int, counts.split())
    assert hits > 0 and misses == 0  # every signature loaded, none compiled


def test_the_helper_refuses_an_unknown_kernel_in_one_line(tmp_path):
    run = _python("", tmp_path / "c", "-m", "gdviz.kernels.helper", "no-such-kernel")
    assert run.returncode == 1
    assert run.stderr.strip() == "error: no kernel named no-such-kernel"


def test_the_helper_ends_when_its_parent_closes_its_input(tmp_path):
    assert helper.helper_command()[3] == helper.WITH_PARENT  # (the window's helper does)
    code = ("from gdviz.kernels.helper import end_with_parent; end_with_parent(); "
            "print('up', flush=True); import threading; threading.Event().wait()")
    proc = subprocess.Popen([PY, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "up"
        proc.stdin.close()  # as when the window's process ends
        assert proc.wait(timeout=60) == 3
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def test_compile_in_helper_passes_each_line_on_as_progress():
    seen = []
    code = "print('1 2 surface-grid'); print('2 2 expr-vg'); print('noise')"
    got = helper.compile_in_helper(lambda *a: seen.append(a), command=[PY, "-c", code])
    assert got is True
    assert seen == [(1, 2, "surface-grid"), (2, 2, "expr-vg")]


@pytest.mark.parametrize("command", [[PY, "-c", "import sys; print('1 3 a'); sys.exit(1)"],
                                     ["/nonexistent/python3"]])
def test_compile_in_helper_says_none_when_the_helper_fails_or_cannot_start(command):
    assert helper.compile_in_helper(command=command) is None


def test_a_cancel_kills_the_helper_mid_kernel(tmp_path):
    pid_file = tmp_path / "pid"
    code = (f"import os, threading; open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
            "print('1 9 a', flush=True); threading.Event().wait()")
    seen = []
    got = helper.compile_in_helper(lambda *a: seen.append(a), cancelled=lambda: bool(seen),
                                   command=[PY, "-c", code])
    assert got is False and seen == [(1, 9, "a")]
    with pytest.raises(ProcessLookupError):  # killed, and reaped
        os.kill(int(pid_file.read_text()), 0)


def test_the_window_compiles_in_the_helper_only_when_the_cache_is_cold(monkeypatch):
    calls = []

    def fake_helper(progress, cancelled):
        calls.append("helper")
        progress(1, 1, "k")
        return result

    monkeypatch.setattr(helper, "compile_in_helper", fake_helper)
    monkeypatch.setattr(kernels, "warmup", lambda progress=None, cancelled=None:
                        calls.append(("here", progress is not None)) or True)
    monkeypatch.setattr(kernels, "_warm", lambda specs, progress, cancelled, compiled_s=None:
                        calls.append(("load", compiled_s)) or True)

    def prog(*a):
        calls.append(a)

    for cold, result, want in [
            (True, True, ["helper", (1, 1, "k"), ("here", False)]),  # loaded: no 2nd progress
            (True, None, ["helper", (1, 1, "k"), ("here", True)]),  # failed: compiled here
            (True, False, ["helper", (1, 1, "k")]),  # cancelled
            (False, True, [("load", kernels.COMPILED_S)])]:  # a warm cache: loaded here
        calls.clear()
        monkeypatch.setattr(helper, "cache_is_cold", lambda specs, c=cold: c)
        assert kernels.warmup_aside(prog, lambda: False) is (result is not False)
        assert calls == want



def test_a_kernel_that_compiles_in_the_window_hands_the_rest_to_the_helper(monkeypatch):
    """A cache that looked warm but was not (a helper stopped by a quit after the kernels
    cache_is_cold can read): the first kernel that compiles here (over COMPILED_S) stops
    the loading, the helper compiles the rest, and they are loaded from the cache."""
    import time

    from gdviz.kernels import KernelSpec

    clock = [0.0]
    monkeypatch.setattr(time, "perf_counter", lambda: clock[0])
    warmed = []

    def spec(name, takes):
        def warm():
            warmed.append(name)
            clock[0] += takes
        return KernelSpec(name, None, None, warm)

    specs = [spec("a", 0.05), spec("b", 3.0), spec("c", 0.05)]
    progress = []
    was = kernels.is_ready()
    try:
        assert kernels._warm(specs, lambda *a: progress.append(a), None, 0.5) is None
        assert warmed == ["a", "b"] and progress == [(1, 3, "a"), (2, 3, "b")]
        assert kernels._warm(specs[:2], None, None, 0.5) is True  # (the last: none left)
    finally:
        kernels.mark_ready(was)
    calls = []
    monkeypatch.setattr(helper, "cache_is_cold", lambda specs: False)
    monkeypatch.setattr(kernels, "_warm", lambda *a: calls.append("load") or None)
    monkeypatch.setattr(helper, "compile_in_helper",
                        lambda progress, cancelled: calls.append("helper") or True)
    monkeypatch.setattr(kernels, "warmup", lambda progress=None, cancelled=None:
                        calls.append(("here", progress is not None)) or True)
    assert kernels.warmup_aside(None, None) is True
    assert calls == ["load", "helper", ("here", False)]
