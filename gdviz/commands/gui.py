"""``gdviz [gui] [SCENE.toml | LESSON]``: open the app window (on a scene, or a lesson: L04)."""

from __future__ import annotations

from pathlib import Path


def run(args) -> int:
    """Show the main window at once (kernels compile behind it); return the exit code.

    A scene path that is not a file is a usage error (one line, exit 2) before any
    window opens; a scene file that does not load shows its error inside the window.
    """
    from gdviz.cli import CliError

    from gdviz.core.userinput import check_user_file, quote

    scene = getattr(args, "scene", None)
    if scene and not Path(scene).exists():
        from gdviz.core.scene import preset_path

        lesson = preset_path(scene) if not scene.lower().endswith(".toml") else None
        scene = str(lesson) if lesson is not None else scene
    if scene and not Path(scene).exists():
        raise CliError(f"no such scene file: {quote(scene)}")
    if scene:
        check_user_file(scene, "scene file")  # a FIFO, a device, a folder: one line
    from gdviz.ui.app import main

    return main(scene_path=scene)
