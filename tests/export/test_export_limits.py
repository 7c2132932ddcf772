"""A scene's [export] settings that validate are ones the exporter accepts, and the
exporter refuses what the scene refuses: both use gdviz.core.limits."""

from __future__ import annotations

import pytest

from gdviz.core import limits
from gdviz.core.scene import Export, Scene, SceneError, validate_scene
from gdviz.export.clip import ExportSettings

AT_LIMIT = dict(fps=limits.MAX_FPS, size=(limits.MAX_EXPORT_WIDTH, limits.MAX_EXPORT_HEIGHT),
                steps=limits.MAX_STEPS, steps_per_frame=limits.MAX_STEPS_PER_FRAME)
BEYOND = [
    dict(fps=limits.MAX_FPS + 1),
    dict(size=(limits.MAX_EXPORT_WIDTH + 1, 720)),
    dict(size=(1280, limits.MAX_EXPORT_HEIGHT + 1)),
    dict(size=(limits.MIN_EXPORT_SIZE - 1, 720)),
    dict(size=(1280, limits.MIN_EXPORT_SIZE - 1)),
    dict(steps=limits.MAX_STEPS + 1),
    dict(steps_per_frame=limits.MAX_STEPS_PER_FRAME + 1),
]


def scene(**export) -> Scene:
    from scene_samples import full_scene

    return validate_scene(Scene(runs=full_scene().runs[1:2], export=Export(**export)))


def test_scene_and_exporter_accept_the_limits():
    ex = scene(**AT_LIMIT).export
    ExportSettings(fps=ex.fps, size=ex.size, steps=ex.steps, steps_per_frame=ex.steps_per_frame)


@pytest.mark.parametrize("export", BEYOND, ids=[str(b) for b in BEYOND])
def test_scene_and_exporter_refuse_beyond_the_limits(export):
    with pytest.raises(SceneError):
        scene(**export)
    with pytest.raises(ValueError):
        ExportSettings(**export)


@pytest.mark.parametrize("export, message", [
    (dict(fps=limits.MAX_FPS + 1), f"must be 1..{limits.MAX_FPS}"),
    (dict(size=(limits.MIN_EXPORT_SIZE - 1, 720)),
     f"width {limits.MIN_EXPORT_SIZE}..{limits.MAX_EXPORT_WIDTH}, "
     f"height {limits.MIN_EXPORT_SIZE}..{limits.MAX_EXPORT_HEIGHT}"),
    (dict(steps=limits.MAX_STEPS + 1), f"must be 0..{limits.MAX_STEPS}"),
    (dict(steps_per_frame=0), f"must be 1..{limits.MAX_STEPS_PER_FRAME}"),
])
def test_every_export_limit_message_states_the_range(export, message):
    with pytest.raises(ValueError) as info:
        ExportSettings(**export)
    assert message in str(info.value)


def test_the_session_says_its_max_steps_limit():
    from gdviz.core.session import Session

    s = Session(fast=False)
    errors = []
    s.error.connect(errors.append)
    assert s.set_max_steps(limits.MAX_STEPS + 1) is False
    assert errors == [f"Invalid max steps: {limits.MAX_STEPS + 1} (must be 1 to {limits.MAX_STEPS})"]


def test_the_video_writer_uses_the_fps_limit(tmp_path):
    from gdviz.export.video import VideoWriter

    with pytest.raises(ValueError, match=rf"must be 1\.\.{limits.MAX_FPS}\)$"):
        VideoWriter(tmp_path / "a.mp4", (64, 64), limits.MAX_FPS + 1)
