"""The 3-D view's model state: Session fields, their events, scenes, bad input."""

from __future__ import annotations

import pytest

from gdviz.core.scene import apply_scene, dumps_scene, loads_scene, scene_from_session
from gdviz.core.scene.schema import SceneError
from gdviz.core.session import Session
from gdviz.core.view3d import DEFAULT_CAMERA, check_camera, check_map_mode


def test_set_view3d_fields_and_events():
    s = Session()
    got, coarse = [], []
    s.events.map_mode.connect(lambda v: got.append(("map_mode", v)))
    s.events.log_height.connect(lambda v: got.append(("log_height", v)))
    s.events.camera.connect(lambda v: got.append(("camera", v)))
    s.settings_changed.connect(lambda: coarse.append("settings"))
    assert s.map_mode == "2d" and s.log_height is False and s.camera is None
    assert s.set_view3d(map_mode="both", log_height=True)
    assert got == [("map_mode", "both"), ("log_height", True)] and coarse == ["settings"]
    got.clear()
    coarse.clear()
    # the camera moves with every drag: its own event, no coarse signal for the other views
    assert s.set_view3d(camera=(370.0, 20.0, 5.0))
    assert got == [("camera", (10.0, 20.0, 5.0))] and coarse == []
    assert "surface3d" not in s.panels  # a new session exports what the window shows


@pytest.mark.parametrize("kw, msg", [
    (dict(map_mode="4d"), "Invalid map mode: '4d' (choose from 2d, 3d, both)"),
    (dict(camera=(0, 91, 5)), "camera elevation 91 is out of range (must be -90 to 90 degrees)"),
    (dict(camera=(0, 10, 0.1)), "camera distance 0.1 is out of range (must be 1 to 40)"),
    (dict(camera=(0, 10)), "the camera must be three numbers: azimuth, elevation, distance"),
    (dict(camera=(float("nan"), 10, 5)), "camera [nan, 10.0, 5.0] is not finite"),
])
def test_bad_input_is_one_line_and_changes_nothing(kw, msg):
    s = Session()
    errors = []
    s.error.connect(errors.append)
    before = s.snapshot()
    assert s.set_view3d(log_height=True, **kw) is False
    assert errors == [msg]
    assert s.snapshot() == before


def test_snapshot_restore_carries_the_3d_state():
    s = Session()
    s.set_view3d(map_mode="3d", log_height=True, camera=(-30.0, 45.0, 6.0))
    t = Session()
    t.restore(s.snapshot())
    assert (t.map_mode, t.log_height, t.camera) == ("3d", True, (-30.0, 45.0, 6.0))


def test_scene_stores_the_camera_and_mode():
    s = Session()
    s.set_view3d(map_mode="both", log_height=True, camera=(-40.0, 25.0, 7.5))
    text = dumps_scene(scene_from_session(s))
    assert 'map = "both"' in text and "log_height = true" in text
    assert "camera = [" in text
    t = Session()
    apply_scene(loads_scene(text), t)
    assert (t.map_mode, t.log_height, t.camera) == ("both", True, (-40.0, 25.0, 7.5))


def test_scene_without_3d_keys_writes_none_of_them():
    text = dumps_scene(scene_from_session(Session()))
    assert "camera" not in text and "log_height" not in text and "\nmap =" not in text


@pytest.mark.parametrize("body, msg", [
    ("[view]\ncamera = [0, 95, 5]", "[view] camera elevation 95 is out of range"),
    ("[view]\ncamera = [0, 5]", "[view] camera must be a list of 3 numbers, got 2 values"),
    ("[view]\nmap = '4d'", "[view] map"),
])
def test_bad_scene_keys_say_where(body, msg):
    with pytest.raises(SceneError) as info:
        loads_scene("version = 1\n" + body, "x.toml")
    assert msg in str(info.value) and "\n" not in str(info.value)


def test_checks():
    assert check_map_mode("both") == "both"
    assert check_camera(None) is None
    assert check_camera(DEFAULT_CAMERA) == DEFAULT_CAMERA
    assert check_camera((-190, 0, 5))[0] == 170.0


def test_a_live_mesh_is_coarser_for_a_slice_of_much_data():
    # issue 10: the 3-D view computes a fit's live slice at each step on the UI thread: a
    # 96x96 mesh of 70,000 points took 266 ms a step
    from gdviz.core.view3d import LIVE_3D_WORK, LIVE_MESH_MIN, live_mesh

    assert live_mesh(96, 35) == 96  # a lesson's 35 points: the whole mesh
    n = live_mesh(96, 70_000)
    assert LIVE_MESH_MIN <= n < 96 and n * n * 70_000 <= LIVE_3D_WORK
    assert live_mesh(96, 10**9) == LIVE_MESH_MIN  # never below
    assert live_mesh(8, 10**9) == 8  # nor above what was asked
    from gdviz.core.problems import FitData
    from gdviz.core.session import Session

    s = Session()
    assert s.set_fit(FitData(target="sine", model="sigmoid", units=3, points=40))
    assert s.landscape.work_per_cell() == s.problem.x.shape[0]
