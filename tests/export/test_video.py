"""The streaming ffmpeg writer: real files read back with imageio, nothing left behind."""

import os

import imageio.v3 as iio
import numpy as np
import pytest

from gdviz.export.video import VideoWriter, atomic_write_bytes

pytestmark = pytest.mark.slow


def _frames(n, w=96, h=64):
    out = []
    for i in range(n):
        f = np.zeros((h, w, 3), np.uint8)
        f[:, :, 2] = 40
        f[10:30, (i * 5) % (w - 20):(i * 5) % (w - 20) + 20] = (230, 159, 0)  # a moving orange block
        out.append(f)
    return out


@pytest.mark.parametrize("ext", [".mp4", ".gif"])
def test_video_roundtrip(tmp_path, ext):
    frames = _frames(12)
    path = tmp_path / f"clip{ext}"
    with VideoWriter(path, (96, 64), 10, palette_sample=frames[0]) as w:
        for f in frames:
            w.write(f)
    assert sorted(os.listdir(tmp_path)) == [path.name]
    back = iio.imread(path, index=None)
    assert back.shape[0] == 12
    assert back.shape[1:3] == (64, 96)
    assert np.abs(back[0].astype(int) - back[6].astype(int)).max() > 50  # frames differ
    assert back[3][..., :3].std() > 5  # not blank


def test_abort_leaves_nothing(tmp_path):
    frames = _frames(3)
    with pytest.raises(RuntimeError):
        with VideoWriter(tmp_path / "x.mp4", (96, 64), 10) as w:
            w.write(frames[0])
            raise RuntimeError("cancel")
    assert os.listdir(tmp_path) == []


def test_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match="unsupported video format '.avi'"):
        VideoWriter(tmp_path / "x.avi", (96, 64), 10)
    with pytest.raises(ValueError, match="even width and height"):
        VideoWriter(tmp_path / "x.mp4", (95, 64), 10)
    with pytest.raises(ValueError, match="invalid fps 0"):
        VideoWriter(tmp_path / "x.mp4", (96, 64), 0)
    with pytest.raises(OSError, match="does not exist"):
        VideoWriter(tmp_path / "nope" / "x.mp4", (96, 64), 10)
    with VideoWriter(tmp_path / "x.mp4", (96, 64), 10) as w:
        with pytest.raises(ValueError, match="frame must be uint8"):
            w.write(np.zeros((64, 96, 3), np.float32))
        w.write(_frames(1)[0])
    assert os.listdir(tmp_path) == ["x.mp4"]


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "a.csv"
    target.write_text("old")
    atomic_write_bytes(target, b"new")
    assert target.read_text() == "new"
    with pytest.raises(OSError, match="cannot write"):
        atomic_write_bytes(tmp_path / "missing" / "b.csv", b"x")
    assert sorted(os.listdir(tmp_path)) == ["a.csv"]


def test_target_is_a_folder(tmp_path):
    """The final rename fails (as on a full or read-only disk): clear error, no partial file."""
    (tmp_path / "out.mp4").mkdir()
    w = VideoWriter(tmp_path / "out.mp4", (96, 64), 10)
    w.write(_frames(1)[0])
    with pytest.raises(OSError, match="cannot write"):
        w.close()
    assert sorted(os.listdir(tmp_path)) == ["out.mp4"]
    assert (tmp_path / "out.mp4").is_dir()


def test_ffmpeg_failure_is_reported(tmp_path, monkeypatch):
    """An encoder that dies (e.g. disk full) gives one clear message and no file."""
    fake = tmp_path / "fake-ffmpeg"
    fake.write_text("#!/bin/sh\ncat > /dev/null\necho 'No space left on device' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr("gdviz.export.video.ffmpeg_exe", lambda: str(fake))
    out = tmp_path / "o"
    out.mkdir()
    w = VideoWriter(out / "x.mp4", (96, 64), 10)
    w.write(_frames(1)[0])
    with pytest.raises(OSError, match="No space left on device"):
        w.close()
    assert os.listdir(out) == []


def test_uncopied_frames_are_encoded_as_given(tmp_path):
    """``write(copy=False)`` hands the buffer itself to the feeding thread: the video
    holds the frames as written when the caller cycles through STABLE_FRAMES buffers."""
    from gdviz.export.video import STABLE_FRAMES

    ring = [np.zeros((64, 64, 3), np.uint8) for _ in range(STABLE_FRAMES)]
    levels = [0, 200, 60, 250, 120, 30, 180, 90]
    sample = np.repeat(np.array(levels, np.uint8), 8)[:, None, None] * np.ones((1, 64, 3), np.uint8)
    with VideoWriter(tmp_path / "a.gif", (64, 64), 10, palette_sample=sample) as w:
        for k, v in enumerate(levels):
            buf = ring[k % STABLE_FRAMES]
            buf[:] = v
            w.write(buf, copy=False)
    frames = iio.imread(tmp_path / "a.gif", index=None)
    assert len(frames) == len(levels)
    got = [int(round(float(f[..., :3].mean()))) for f in frames]
    assert all(abs(g - v) <= 12 for g, v in zip(got, levels)), got
