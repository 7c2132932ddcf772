"""Saving scene files: atomic (temp file, then rename), with the user's permissions."""

from __future__ import annotations

import os

import pytest
from scene_samples import MINIMAL, full_scene

from gdviz.core.scene import Scene, SceneError, load_scene, save_scene


# ----------------------------------------------------------------------------- atomic save

def test_save_into_missing_folder_leaves_nothing(tmp_path):
    target = tmp_path / "missing" / "scene.toml"
    with pytest.raises(SceneError, match=r"^cannot save scene\.toml: folder '.*missing' does not exist$"):
        save_scene(full_scene(), target)
    assert not (tmp_path / "missing").exists()
    assert list(tmp_path.iterdir()) == []


def test_save_into_read_only_folder_leaves_nothing(tmp_path, monkeypatch):
    # simulated: tests may run as root, for whom chmod does not stop a write
    import tempfile

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(SceneError, match=r"^cannot save scene\.toml: Permission denied$"):
        save_scene(full_scene(), tmp_path / "scene.toml")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_midway_removes_the_temp_file(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(SceneError, match=r"^cannot save scene\.toml: No space left on device$"):
        save_scene(full_scene(), tmp_path / "scene.toml")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    p = tmp_path / "scene.toml"
    save_scene(full_scene(), p)
    before = p.read_bytes()

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(SceneError, match=r"^cannot save scene\.toml: No space left on device$"):
        save_scene(Scene(runs=full_scene().runs[1:2]), p)
    assert p.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir()] == ["scene.toml"]


def test_save_replaces_an_existing_file(tmp_path):
    p = tmp_path / "scene.toml"
    p.write_text("old")
    save_scene(full_scene(), p)
    assert load_scene(p) == full_scene()
    assert [f.name for f in tmp_path.iterdir()] == ["scene.toml"]


def test_loading_is_pure(tmp_path):
    p = tmp_path / "scene.toml"
    p.write_text(MINIMAL)
    mtime = p.stat().st_mtime_ns
    a, b = load_scene(p), load_scene(p)
    assert a == b and p.read_text() == MINIMAL and p.stat().st_mtime_ns == mtime


# ----------------------------------------------------------------------------- permissions

@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_saved_file_has_the_users_permissions(tmp_path, umask, mode):
    # mkstemp makes the temp file 0600; the saved file is like any new file (umask)
    old = os.umask(umask)
    try:
        save_scene(full_scene(), tmp_path / "scene.toml")
    finally:
        os.umask(old)
    assert (tmp_path / "scene.toml").stat().st_mode & 0o777 == mode


def test_a_file_too_big_to_read_back_is_not_written(tmp_path, monkeypatch):
    from gdviz.core.scene import toml_io

    monkeypatch.setattr(toml_io, "MAX_BYTES", 100)
    with pytest.raises(SceneError, match=r"^cannot save scene\.toml: \d+ bytes is too big for a "
                                         r"scene file \(at most 100\)$"):
        save_scene(full_scene(), tmp_path / "scene.toml")
    assert list(tmp_path.iterdir()) == []


def test_non_finite_numbers_are_not_written(tmp_path):
    import dataclasses

    s = dataclasses.replace(full_scene(), noise=float("nan"))
    with pytest.raises(SceneError, match=r"^cannot write non-finite number nan$"):
        save_scene(s, tmp_path / "scene.toml")
    assert list(tmp_path.iterdir()) == []


def test_the_largest_datasets_fit_in_a_scene_file():
    # both datasets at MAX_POINTS points, written one number a line by tomli-w, stay under
    # MAX_BYTES (measured on 1000 points of the longest floats, then scaled)
    import dataclasses

    from gdviz.core.limits import MAX_POINTS
    from gdviz.core.scene import MAX_BYTES, Problem, Regression, dumps_scene, loads_scene

    def scene(n):
        pts = tuple((-1.2345678901234567e-100 * (i + 1), -9.876543210987654e-100 * (i + 1))
                    for i in range(n))
        return dataclasses.replace(
            full_scene(), problem=Problem(kind="regression", regression=Regression(data=pts)),
            fit=dataclasses.replace(full_scene().fit, data=pts))

    empty, text = len(dumps_scene(scene(0)).encode()), dumps_scene(scene(1000))
    per_point = (len(text.encode()) - empty) / 2000
    assert empty + 2 * MAX_POINTS * per_point < MAX_BYTES
    assert loads_scene(text) == scene(1000)


def test_umask_is_read_the_same_with_or_without_proc(monkeypatch):
    import builtins

    from gdviz.core.scene import toml_io

    old = os.umask(0o027)
    try:
        assert toml_io._umask() == 0o027
        real_open = builtins.open

        def no_proc(path, *args, **kwargs):
            if str(path).startswith("/proc/"):
                raise FileNotFoundError(path)
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", no_proc)
        assert toml_io._umask() == 0o027
        assert os.umask(0o027) == 0o027  # and it was put back
    finally:
        os.umask(old)
