"""OpenGL's probe in a process of its own (issue 10, item 11: no action may block the UI
thread for more than 100 ms). Probed in the window, the first 3-D menu or export dialog of
a session took ~55 ms of the UI thread's CPU, 110-220 ms in all while the GL libraries were
read and the display server answered (the fuzz's longest turns). The app starts the probe
in a child once its window is up; the window takes the child's answer."""

from __future__ import annotations

import sys

import pytest

from gdviz.ui import gl_probe


@pytest.fixture
def cache(monkeypatch):
    fresh: dict = {}
    monkeypatch.setattr(gl_probe, "_cache", fresh)
    return fresh


def test_the_child_answers_as_the_window_would(qapp, cache):
    thread = gl_probe.probe_in_background(qapp.platformName())
    assert thread is not None
    assert gl_probe.probe_in_background(qapp.platformName()) is None  # (one at a time)
    thread.join(gl_probe.CHILD_TIMEOUT_S + 5)
    child = cache["child"]
    assert child is not None and child[2] == qapp.platformName()
    assert gl_probe.gl_probed()
    cache.clear()
    assert gl_probe.gl_probe() == child  # probed here, the same answer


def test_the_window_takes_the_child_s_answer_and_probes_nothing(cache, monkeypatch):
    cache["child"] = (True, "", "xcb")

    def no(*_a, **_k):
        raise AssertionError("probed in the window")

    monkeypatch.setattr(gl_probe.importlib.util, "find_spec", no)
    assert gl_probe.gl_probed()
    assert gl_probe.gl_probe() == (True, "", "xcb")
    assert gl_probe.gl_available() and gl_probe.gl_reason("en") == ""
    assert gl_probe.probe_in_background("xcb") is None  # (answered)


@pytest.mark.parametrize("child", ["print('GDVIZ_GL maybe xcb'); print('nonsense')",
                                   "import sys; sys.exit(3)",
                                   "import time; time.sleep(60)"])
def test_a_child_without_an_answer_leaves_the_probe_to_the_window(cache, monkeypatch, child):
    monkeypatch.setattr(gl_probe, "CHILD_TIMEOUT_S", 1.0)
    thread = gl_probe.probe_in_background("xcb", command=[sys.executable, "-c", child])
    thread.join(10)
    assert not thread.is_alive()
    assert cache["child"] is None and not gl_probe.gl_probed()


def test_the_app_starts_the_probe_once_its_window_is_up(qapp, monkeypatch):
    from gdviz.ui import app

    started = []
    monkeypatch.setattr(gl_probe, "probe_in_background", lambda platform: started.append(platform))
    app.after_first_paint(qapp)
    assert started == [qapp.platformName()]
