"""The 3-D view, rendered for real.

The test process runs Qt offscreen without OpenGL (tests/conftest.py), so the rendering
tests start their own X server (Xvfb, Mesa's llvmpipe behind GLX) and run
``gl_render_check.py`` on it in a process of their own. Xvfb and Mesa are test
requirements (CI installs them: see .ci/run); without them these tests fail, they do not
skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def _env(**extra) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def xvfb():
    """An X server of our own (Xvfb with GLX): its DISPLAY, e.g. ":5"."""
    exe = shutil.which("Xvfb")
    assert exe, "Xvfb is needed for the 3-D view's tests (apt-get install xvfb libgl1-mesa-dri)"
    r, w = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(w), "-screen", "0", "1920x1080x24",
                             "-nolisten", "tcp", "+extension", "GLX"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        num = f.readline().strip()
    assert num.isdigit(), "Xvfb did not start"
    yield f":{num}"
    proc.terminate()
    proc.wait(timeout=10)


def _run(args, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=_env(**env), capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def rendered(xvfb, tmp_path_factory):
    out = tmp_path_factory.mktemp("gl3d")
    res = _run([str(HERE / "gl_render_check.py"), str(out / "r.json"), str(out)],
               DISPLAY=xvfb, QT_QPA_PLATFORM="xcb", XDG_CONFIG_HOME=str(out / "cfg"))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Error while drawing" not in res.stderr, res.stderr[-2000:]
    return json.loads((out / "r.json").read_text()), out


def test_probe_finds_gl_under_xvfb(rendered):
    report, _ = rendered
    assert report["probe"][0] is True


def test_render_is_not_blank(rendered):
    report, out = rendered
    for case in report["cases"]:
        assert case["size"] == [640, 400]
        assert case["std"] > 10.0, case["theme"]
        assert case["colours"] > 100, case["theme"]  # a shaded surface, not a flat fill
        assert (out / f"surface3d_{case['theme']}.png").stat().st_size > 10_000


def test_balls_are_where_the_camera_projects_the_runs(rendered):
    report, _ = rendered
    for case in report["cases"]:
        balls = case["balls"]
        assert len(balls) >= 2, case
        for b in balls:
            assert b["inside"], b
            # the pixel at the projected centre is the run's own colour
            assert max(abs(g - w) for g, w in zip(b["got"], b["want"])) <= 12, b


def test_a_diverged_run_is_a_cross_where_it_stopped(rendered):
    d = rendered[0]["diverged"]
    assert d["diverged"] and len(d["crosses"]) == len(d["diverged"])
    for c in d["crosses"]:
        assert not c["is_ball"]
        assert max(abs(g - w) for g, w in zip(c["got"], c["want"])) <= 12, c


def test_regression_shows_L_of_w_and_b(rendered):
    d = rendered[0]["data"]["L03"]
    assert d["kind"] == "regression" and not d["live"]
    assert d["box_is_map"] and d["heights_follow_loss"]
    assert d["uploads_after"] == d["uploads_before"] == 1  # the race does not move L(w, b)
    assert d["balls"] and all(max(abs(g - w) for g, w in zip(b["got"], b["want"])) <= 12
                              for b in d["balls"])


def test_fit_shows_the_live_slice_which_morphs(rendered):
    d = rendered[0]["data"]["L07"]
    assert d["kind"] == "fit" and d["live"] and d["box_is_map"] and d["heights_follow_loss"]
    assert d["morphed"] and d["uploads_after"] > d["uploads_before"]
    assert d["balls"] and all(max(abs(g - w) for g, w in zip(b["got"], b["want"])) <= 12
                              for b in d["balls"])


def test_mesh_uploads_only_when_the_surface_changes(rendered):
    report, _ = rendered
    for case in report["cases"]:
        assert case["uploads_first"] == 1
        assert case["uploads_after"] == 1  # 20 frames of the race: no re-upload
        assert case["static_redraws"] == 0  # ... and the surface is not even drawn again
        assert case["uploads_new_surface"] == 2
        assert all(n == 2 * 61 for n in case["trail_points"])  # 61 segments: 60 steps + now


def test_window_shows_both_maps_of_one_session(rendered):
    w = rendered[0]["window"]
    assert w["menu_ok"] and w["mode"] == "both" and w["has_view"] and w["both_visible"]
    assert w["same_positions"]  # the balls are the session's runs at the session's step
    assert w["selected_width"] > w["other_width"]  # the selection is the window's one


def test_camera_is_model_state(rendered):
    from gdviz.core.view3d import DEFAULT_CAMERA

    w = rendered[0]["window"]
    assert w["camera_after_drag"] is not None
    assert w["camera_after_drag"][:2] != list(DEFAULT_CAMERA[:2])  # the drag orbited
    assert w["camera_after_r"] is None  # Home: back to the default
    assert w["race_kept"]  # (R is the window's race reset, not the camera's)
    assert w["view_camera_after_r"] == pytest.approx(list(DEFAULT_CAMERA))
    assert w["view_camera_set"] == pytest.approx([15.0, 50.0, 7.0])  # a scene's camera
    assert w["three_only"]


def test_main_window_import_does_not_import_opengl():
    code = ("import sys, gdviz.ui.main_window, gdviz.ui.picture; "
            "bad = [m for m in sys.modules if m == 'OpenGL' or m.startswith('OpenGL.') "
            "or m.startswith('pyqtgraph.opengl')]; print(bad); sys.exit(1 if bad else 0)")
    res = _run(["-c", code], QT_QPA_PLATFORM="offscreen")
    assert res.returncode == 0, res.stdout + res.stderr


def test_probe_without_a_display_says_why():
    code = ("from gdviz.ui.app import ensure_app; ensure_app(); "
            "from gdviz.ui.gl_probe import gl_probe, gl_reason; "
            "print(gl_probe()[0]); print(gl_reason('en'))")
    env = _env(QT_QPA_PLATFORM="offscreen")
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[0] == "False"
    assert "OpenGL" in lines[1] and "offscreen" in lines[1] and len(lines) == 2


def _export(tmp_path, env_drop=(), **env):
    e = _env(**env)
    for k in env_drop:
        e.pop(k, None)
    out = tmp_path / "clip.png"
    res = subprocess.run([sys.executable, "-m", "gdviz", "export", "L05", "-o", str(out),
                          "--panels", "caption,landscape,surface3d", "--steps", "20"],
                         env=e, capture_output=True, text=True, timeout=300)
    return res, out


def test_headless_export_of_the_3d_panel_without_gl_exits_2(tmp_path):
    res, out = _export(tmp_path, env_drop=("DISPLAY", "WAYLAND_DISPLAY"),
                       QT_QPA_PLATFORM="offscreen")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gdviz export: error: cannot export the "
                                                   "surface3d panel"), res.stderr
    assert not out.exists()


def test_offscreen_platform_on_a_display_is_probed_not_guessed(xvfb, tmp_path):
    # the offscreen platform makes a GL context on an X display, but not the QOpenGLWidget
    # the view draws in: the probe renders one and finds out
    res, out = _export(tmp_path, DISPLAY=xvfb, QT_QPA_PLATFORM="offscreen")
    assert res.returncode == 2 and "Qt platform 'offscreen'" in res.stderr, res.stderr
    assert not out.exists()


def test_headless_export_renders_the_3d_panel_on_a_display(xvfb, tmp_path):
    res, out = _export(tmp_path, env_drop=("QT_QPA_PLATFORM",), DISPLAY=xvfb)
    assert res.returncode == 0, res.stderr
    from PySide6.QtGui import QImage

    img = QImage(str(out))
    assert (img.width(), img.height()) == (1280, 720)
    # the right half of the map row is the 3-D panel: many colours, the runs' orange among them
    import numpy as np

    img = img.convertToFormat(QImage.Format.Format_RGB888)
    a = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
    a = a.reshape(720, img.bytesPerLine())[:, :3 * 1280].reshape(720, 1280, 3)
    panel = a[260:500, 700:1260].reshape(-1, 3)
    assert len(np.unique(panel[::5], axis=0)) > 200
    orange = np.array([230, 159, 0])
    assert (np.abs(panel.astype(int) - orange).sum(axis=1) < 30).sum() > 200
