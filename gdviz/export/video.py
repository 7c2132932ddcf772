"""Stream frames into ffmpeg (the binary that imageio-ffmpeg's wheel carries).

Frames go straight down a pipe, so memory stays bounded however long the clip.
Output is written to a temp file beside the target and renamed at the end; a
cancel or a failure leaves nothing behind.

MP4 is H.264 (yuv420p, so every player and slide tool reads it). GIF uses one
palette made up front from a sample frame (``palettegen``), then ``paletteuse`` on
the stream: a single pass, no frames kept.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

FORMATS = {".mp4": "mp4", ".gif": "gif"}


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def temp_path_for(path: Path) -> Path:
    """A fresh, empty temp file in the target's folder (so the final rename is atomic).

    Raises OSError with a clear message if the folder can't be written.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OSError(f"cannot write '{path}': folder '{folder}' does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".part" + path.suffix, dir=folder)
    except OSError as exc:
        raise OSError(f"cannot write '{path}': {exc.strerror or exc}") from None
    os.close(fd)
    return Path(tmp)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, then rename it over ``path``."""
    path = Path(path)
    tmp = temp_path_for(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class VideoWriter:
    """Write uint8 (h, w, 3) frames to ``path`` (.mp4 or .gif) through an ffmpeg pipe.

    Use as a context manager: a clean exit finishes and renames the file; an
    exception (including a cancel) kills ffmpeg and deletes the temp file.
    """

    def __init__(self, path: str | os.PathLike, size: tuple[int, int], fps: int,
                 palette_sample: np.ndarray | None = None):
        self.path = Path(path)
        ext = self.path.suffix.lower()
        if ext not in FORMATS:
            raise ValueError(f"unsupported video format '{ext}' (use .mp4 or .gif)")
        self.fmt = FORMATS[ext]
        w, h = size
        if self.fmt == "mp4" and (w % 2 or h % 2):
            raise ValueError(f"invalid size {w}x{h}: MP4 (H.264) needs even width and height")
        if not 1 <= fps <= 120:
            raise ValueError(f"invalid fps {fps} (must be 1..120)")
        self.size, self.fps, self.frames = (int(w), int(h)), int(fps), 0
        self._tmp = temp_path_for(self.path)
        self._log = tempfile.TemporaryFile()
        self._palette: Path | None = None
        try:
            cmd = [ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                   "-s", f"{w}x{h}", "-r", str(fps), "-i", "-"]
            if self.fmt == "mp4":
                cmd += ["-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
                        "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4"]
            else:
                self._palette = self._make_palette(palette_sample)
                cmd += ["-i", str(self._palette), "-lavfi", "[0:v][1:v]paletteuse=dither=bayer:bayer_scale=4",
                        "-loop", "0", "-f", "gif"]
            cmd.append(str(self._tmp))
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                          stderr=self._log)
        except BaseException:
            self._cleanup()
            raise

    def _make_palette(self, sample: np.ndarray | None) -> Path:
        if sample is None:
            raise ValueError("a GIF needs a palette sample frame")
        sample = np.ascontiguousarray(sample, np.uint8)
        fd, pal = tempfile.mkstemp(suffix=".png")
        os.close(fd)
        h, w = sample.shape[:2]
        r = subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                            "-s", f"{w}x{h}", "-i", "-", "-vf", "palettegen=max_colors=256:stats_mode=full",
                            "-frames:v", "1", "-update", "1", pal],
                           input=sample.tobytes(), capture_output=True)
        if r.returncode != 0:
            Path(pal).unlink(missing_ok=True)
            raise OSError(f"ffmpeg could not make a GIF palette: {self._last_line(r.stderr)}")
        return Path(pal)

    @staticmethod
    def _last_line(data: bytes) -> str:
        lines = [l for l in data.decode("utf-8", "replace").splitlines() if l.strip()]
        return lines[-1] if lines else "unknown error"

    def write(self, frame: np.ndarray) -> None:
        """Send one uint8 (h, w, 3) frame."""
        h, w = self.size[1], self.size[0]
        if frame.shape != (h, w, 3) or frame.dtype != np.uint8:
            raise ValueError(f"frame must be uint8 ({h}, {w}, 3), got {frame.dtype} {frame.shape}")
        try:
            # the array's own buffer: no 2.7 MB bytes copy per frame
            self._proc.stdin.write(memoryview(np.ascontiguousarray(frame)).cast("B"))
        except (BrokenPipeError, OSError):
            raise OSError(f"ffmpeg stopped while writing '{self.path}': {self._stderr()}") from None
        self.frames += 1

    def _stderr(self) -> str:
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
        self._log.seek(0)
        return self._last_line(self._log.read())

    def close(self) -> Path:
        """Finish the file and rename it into place; returns the final path."""
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        rc = self._proc.wait()
        if rc != 0:
            msg = self._stderr()
            self._cleanup()
            raise OSError(f"ffmpeg failed writing '{self.path}': {msg}")
        try:
            os.replace(self._tmp, self.path)
        except OSError as exc:
            self._cleanup()
            raise OSError(f"cannot write '{self.path}': {exc.strerror or exc}") from None
        self._cleanup(keep_output=True)
        return self.path

    def abort(self) -> None:
        """Stop ffmpeg and delete everything written so far."""
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        self._cleanup()

    def _cleanup(self, keep_output: bool = False) -> None:
        if not keep_output:
            self._tmp.unlink(missing_ok=True)
        if self._palette is not None:
            self._palette.unlink(missing_ok=True)
        if self._log is not None:
            self._log.close()
            self._log = None
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.stdin is not None and not proc.stdin.closed:
            try:
                proc.stdin.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False
