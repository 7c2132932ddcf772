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
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from gdviz.core.limits import MAX_FPS

FORMATS = {".mp4": "mp4", ".gif": "gif"}


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


#: every temp file an export makes starts with this, then the pid of the process that made
#: it: ``.gdviz-tmp-<pid>-<name>.<random>.part.mp4``, ``.gdviz-tmp-<pid>-palette.<random>.png``
TEMP_PREFIX = ".gdviz-tmp-"


def _pid_alive(pid: int) -> bool:
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, say
        return True
    return True


#: where the pid cannot be checked, a temp file older than this is stale
STALE_AGE = 7 * 24 * 3600.0


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete the temp files that an export killed in ``folder`` left (SIGKILL, a power
    cut): those whose process is gone (POSIX), or older than STALE_AGE elsewhere. A temp
    file of a running export is never touched. Returns the paths deleted."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for e in entries:
        if not e.name.startswith(TEMP_PREFIX):
            continue
        pid = e.name[len(TEMP_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            stale = not _pid_alive(int(pid)) if os.name == "posix" else \
                now - e.stat(follow_symlinks=False).st_mtime > STALE_AGE
            if stale and e.is_file(follow_symlinks=False):
                os.unlink(e.path)
                removed.append(Path(e.path))
        except OSError:
            pass
    return removed


def _temp_file(folder: Path, name: str, suffix: str) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-{name[:60]}.", suffix=suffix,
                               dir=folder)
    os.close(fd)
    return Path(tmp)


def temp_path_for(path: Path) -> Path:
    """A fresh, empty temp file in the target's folder (so the final rename is atomic),
    named with TEMP_PREFIX and this process's pid; stale ones of killed runs in that
    folder are removed first.

    Raises OSError with a clear message if the folder can't be written.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OSError(f"cannot write '{path}': folder '{folder}' does not exist")
    remove_stale_temps(folder)
    try:
        return _temp_file(folder, path.stem, ".part" + path.suffix)
    except OSError as exc:
        raise OSError(f"cannot write '{path}': {exc.strerror or exc}") from None


def _die_with_parent():
    """A ``preexec_fn`` that makes the child (ffmpeg) get SIGKILL when this process dies,
    however it dies (Linux: prctl PR_SET_PDEATHSIG); None where that does not exist. The
    libc function is looked up here, before the fork: the child only calls it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig, sigkill = 1, int(signal.SIGKILL)

    def preexec():
        prctl(pr_set_pdeathsig, sigkill, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def user_file_mode() -> int:
    """The permissions a new file of this user gets (0o666 less the umask), which a temp
    file from ``mkstemp`` (0o600) does not have."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def publish(tmp: Path, path: Path) -> None:
    """Give ``tmp`` the user's normal permissions and rename it over ``path`` (atomic)."""
    os.chmod(tmp, user_file_mode())
    os.replace(tmp, path)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, then rename it over ``path``."""
    path = Path(path)
    tmp = temp_path_for(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        publish(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


#: x264's speed/size trade-off: "ultrafast" encodes a 1280x720 frame in about half the time
#: of "veryfast" (measured here: 300 frames 1.4 s against 2.9 s, files 3x larger, about
#: 2.5 MB for ten seconds), so the encoder keeps pace with the painter on two cores
ENCODER_PRESET = "ultrafast"
#: frames queued for the pipe while the next one is drawn
QUEUE_FRAMES = 3
#: how many distinct frame buffers a painter must cycle through so that a frame it hands
#: to :meth:`VideoWriter.write` with ``copy=False`` is not painted over while it waits
#: (the queued ones, the one the feeding thread writes, the one being painted)
STABLE_FRAMES = QUEUE_FRAMES + 2


def _last_line(data: bytes) -> str:
    lines = [l for l in data.decode("utf-8", "replace").splitlines() if l.strip()]
    return lines[-1] if lines else "unknown error"


def make_palette(path: str | os.PathLike, sample: np.ndarray | None) -> Path:
    """A GIF palette (ffmpeg ``palettegen``) of ``sample`` (h, w, 3) uint8 RGB, in a temp
    file beside ``path``; the caller deletes it (a :class:`VideoWriter` given it does).
    It waits on ffmpeg for 0.1-0.2 s, and may run on a thread."""
    if sample is None:
        raise ValueError("a GIF needs a palette sample frame")
    sample = np.ascontiguousarray(sample, np.uint8)
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    # beside the target (not /tmp), named like the other temp files: a killed run's
    # palette is found and removed by the next export into that folder
    pal = str(_temp_file(folder, "palette", ".png"))
    h, w = sample.shape[:2]
    try:
        r = subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                            "-s", f"{w}x{h}", "-i", "-", "-vf", "palettegen=max_colors=256:stats_mode=full",
                            "-frames:v", "1", "-update", "1", pal],
                           input=sample.tobytes(), capture_output=True, preexec_fn=_die_with_parent())
    except BaseException:
        Path(pal).unlink(missing_ok=True)
        raise
    if r.returncode != 0:
        Path(pal).unlink(missing_ok=True)
        raise OSError(f"ffmpeg could not make a GIF palette: {_last_line(r.stderr)}")
    return Path(pal)


class VideoWriter:
    """Write uint8 frames to ``path`` (.mp4 or .gif) through an ffmpeg pipe.

    Frames are (h, w, 3) RGB (``pix_fmt="rgb24"``) or (h, w, 4) BGRA as Qt paints
    them (``pix_fmt="bgra"``: no conversion in Python). A thread feeds the pipe, so the
    caller draws the next frame while ffmpeg encodes this one, and never waits on a
    full pipe for long. Use as a context manager: a clean exit finishes and renames the
    file; an exception (including a cancel) kills ffmpeg and deletes the temp file.
    """

    def __init__(self, path: str | os.PathLike, size: tuple[int, int], fps: int,
                 palette_sample: np.ndarray | None = None, pix_fmt: str = "rgb24",
                 palette: Path | None = None):
        self.path = Path(path)
        ext = self.path.suffix.lower()
        if ext not in FORMATS:
            raise ValueError(f"unsupported video format '{ext}' (use .mp4 or .gif)")
        self.fmt = FORMATS[ext]
        w, h = size
        if self.fmt == "mp4" and (w % 2 or h % 2):
            raise ValueError(f"invalid size {w}x{h}: MP4 (H.264) needs even width and height")
        if not 1 <= fps <= MAX_FPS:
            raise ValueError(f"invalid fps {fps} (must be 1..{MAX_FPS})")
        if pix_fmt not in ("rgb24", "bgra"):
            raise ValueError(f"unsupported pixel format '{pix_fmt}' (use rgb24 or bgra)")
        self.pix_fmt, self.channels = pix_fmt, 3 if pix_fmt == "rgb24" else 4
        self.size, self.fps, self.frames = (int(w), int(h)), int(fps), 0
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._tmp = temp_path_for(self.path)
        self._log = tempfile.TemporaryFile()
        self._palette: Path | None = None
        try:
            cmd = [ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", pix_fmt,
                   "-s", f"{w}x{h}", "-r", str(fps), "-i", "-"]
            if self.fmt == "mp4":
                cmd += ["-an", "-c:v", "libx264", "-preset", ENCODER_PRESET, "-crf", "20",
                        "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4"]
            else:
                # a palette made beforehand (:func:`make_palette`, e.g. on a thread) is
                # this writer's from now on: it deletes it when it ends
                self._palette = Path(palette) if palette is not None \
                    else self._make_palette(palette_sample)
                cmd += ["-i", str(self._palette), "-lavfi", "[0:v][1:v]paletteuse=dither=bayer:bayer_scale=4",
                        "-loop", "0", "-f", "gif"]
            cmd.append(str(self._tmp))
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                          stderr=self._log, preexec_fn=_die_with_parent())
        except BaseException:
            self._cleanup()
            raise

    def _make_palette(self, sample: np.ndarray | None) -> Path:
        self._palette = make_palette(self.path, sample)
        return self._palette

    def write(self, frame: np.ndarray, copy: bool = True) -> None:
        """Queue one uint8 (h, w, channels) frame. It is copied, so the caller may reuse its
        buffer, unless ``copy`` is False: then the caller promises not to write into it for
        its next ``STABLE_FRAMES - 1`` frames (a painter cycling through that many buffers
        saves a 3.7 MB copy per 720p frame)."""
        h, w, c = self.size[1], self.size[0], self.channels
        if frame.shape != (h, w, c) or frame.dtype != np.uint8:
            raise ValueError(f"frame must be uint8 ({h}, {w}, {c}), got {frame.dtype} {frame.shape}")
        self._raise_pipe_error()
        if self._thread is None:
            self._thread = threading.Thread(target=self._feed, name="gdviz-ffmpeg-feed", daemon=True)
            self._thread.start()
        frame = np.ascontiguousarray(frame)
        self._queue.put(frame.copy() if copy else frame)
        self.frames += 1

    def _feed(self) -> None:
        """The pipe's writer thread: frames from the queue into ffmpeg until None."""
        while True:
            frame = self._queue.get()
            if frame is None:
                return
            if self._error is not None:
                continue  # drain, so that the producer never blocks on a dead pipe
            try:
                self._proc.stdin.write(memoryview(frame).cast("B"))
            except (BrokenPipeError, OSError, ValueError) as exc:
                self._error = exc

    def _raise_pipe_error(self) -> None:
        if self._error is not None:
            raise OSError(f"ffmpeg stopped while writing '{self.path}': {self._stderr()}") from None

    def _join(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _stderr(self) -> str:
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
        self._log.seek(0)
        return _last_line(self._log.read())

    def close(self) -> Path:
        """Finish the file and rename it into place; returns the final path."""
        self._join()
        self._raise_pipe_error()
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
            publish(self._tmp, self.path)
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
        if self._thread is not None:
            self._error = self._error or OSError("aborted")
            self._join()
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
