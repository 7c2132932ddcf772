"""`gdviz export` on the data lessons, in a subprocess: the fit panel is really drawn,
and the CSV names the parameters."""

import os
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from gdviz.core.scene import apply_scene, load_preset
from gdviz.core.session import Session
from gdviz.export.clip import ExportSettings, scene_look
from gdviz.export.render import FrameRenderer

ROOT = Path(__file__).resolve().parents[2]
SCENES = ROOT / "resources" / "scenes"
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("qapp")]


def _gdviz(*args, cwd=None):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GDVIZ_LANG="en")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "gdviz", "export", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd or ROOT, env=env, timeout=300)


def test_cli_png_of_l09_draws_the_fit(tmp_path):
    out = tmp_path / "l9.png"
    r = _gdviz(SCENES / "L09_overfitting.toml", "-o", out, "--size", "640x360", "--steps", "30")
    assert r.returncode == 0, r.stderr
    img = iio.imread(out)[..., :3]
    assert img.shape == (360, 640, 3)
    # where the fit panel's plot is in that frame (the same layout, computed here)
    scene = load_preset("L09")
    s = Session()
    apply_scene(scene, s)
    settings = ExportSettings(size=(640, 360), steps=30, panels=tuple(scene.export.panels))
    look = scene_look(s, settings, (scene.meta.title.en, scene.meta.caption.en))
    q = FrameRenderer(look, settings.size, settings.panels).plot["fit"]
    region = img[int(q.top()) + 2:int(q.bottom()) - 2, int(q.left()) + 2:int(q.right()) - 2].astype(int)
    orange = np.array([0xE6, 0x9F, 0x00])
    assert s.run_color(0) == "#E69F00"
    assert (np.abs(region - orange).max(axis=2) < 25).sum() > 150
    assert "no fit panel" not in r.stderr


def test_cli_regression_with_fit_panel_and_csv(tmp_path):
    gif = tmp_path / "l6.gif"
    r = _gdviz(SCENES / "L06_minibatch_epoch.toml", "-o", gif, "--size", "320x180", "--steps", "4",
               "--steps-per-frame", "1", "--panels", "landscape,fit,loss")
    assert r.returncode == 0, r.stderr
    assert iio.imread(gif, index=None).shape[:3] == (5, 180, 320)
    csv = tmp_path / "l6.csv"
    r = _gdviz(SCENES / "L06_minibatch_epoch.toml", "-o", csv, "--steps", "3")
    assert r.returncode == 0, r.stderr
    lines = csv.read_text().splitlines()
    assert lines[0] == "run,label,step,w,b,loss"
    assert len(lines) == 1 + 4 and lines[1].split(",")[3:5] == ["-0.5", "4.5"]
    assert sorted(os.listdir(tmp_path)) == ["l6.csv", "l6.gif"]
