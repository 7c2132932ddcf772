"""Turn a session into a clip: GIF, MP4, a PNG of one frame, or the trajectories as CSV.

Export drives the session's runs step by step (``steps_per_frame`` per frame) and
never looks at a clock, so the same scene and settings give the same frames on
any machine. It draws nothing itself: a *renderer* paints each frame, and the one
renderer is the app's own picture (:class:`gdviz.ui.picture.FrameGrabber`), so a clip
shows what the window shows. This module stays Qt-free.

A :class:`ClipJob` does one frame per :meth:`ClipJob.step`: the CLI runs it to the end
(:func:`export`), the window runs one frame per turn of its event loop, so the UI never
waits for a whole clip. A cancel or a failure leaves no file behind.
"""

from __future__ import annotations

import io
import math
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from gdviz.core.limits import (MAX_EXPORT_HEIGHT, MAX_EXPORT_WIDTH, MAX_FPS, MAX_STEPS,
                               MAX_STEPS_PER_FRAME, MIN_EXPORT_SIZE)
from gdviz.core.userinput import quote
from gdviz.core.panels import DEFAULT_PANELS, PANELS, check_panel
from gdviz.core.panels import parse_panels as parse_panels
from gdviz.export.video import (STABLE_FRAMES, VideoWriter, atomic_write_bytes, make_palette,
                                publish, temp_path_for)

OUTPUTS = (".gif", ".mp4", ".png", ".csv")
#: a step of an export runs the session, or writes a CSV's lines, this long at most (s):
#: the rest waits for the next step (in the window, one turn of the event loop each). An
#: in-app CSV of 10^6 steps ran and wrote them all in one turn, 13 s; a PNG of 10^5 steps
#: of L21 4 s; a frame of 100,000 steps a frame about as long
STEP_BUDGET_S = 0.02
#: a step waits this long at most for trajectory rows still being made (s), then returns
MEMORY_WAIT_S = 0.005
#: a CSV being written is synced to disk every this many bytes (its final sync of 342 MB
#: took 165 ms, in one step)
CSV_SYNC_BYTES = 16 << 20
THEMES = ("light", "dark")
LANGS = ("en", "zh-Hant", "zh-Hans")


class ExportCancelled(Exception):
    """The user cancelled; nothing was written."""


@dataclass(frozen=True)
class ExportSettings:
    """How to export. ``steps``/``steps_per_frame`` None mean: from the session / automatic."""

    fps: int = 30
    size: tuple[int, int] = (1280, 720)
    steps: int | None = None
    steps_per_frame: int | None = None
    panels: tuple[str, ...] = DEFAULT_PANELS
    theme: str = "light"
    #: the language of the picture's words (None: the UI's)
    lang: str | None = None

    def __post_init__(self):
        if not 1 <= int(self.fps) <= MAX_FPS:
            raise ValueError(f"invalid fps {self.fps} (must be 1..{MAX_FPS})")
        w, h = self.size
        if not (MIN_EXPORT_SIZE <= w <= MAX_EXPORT_WIDTH and MIN_EXPORT_SIZE <= h <= MAX_EXPORT_HEIGHT):
            raise ValueError(f"invalid size {w}x{h} (width {MIN_EXPORT_SIZE}..{MAX_EXPORT_WIDTH}, "
                             f"height {MIN_EXPORT_SIZE}..{MAX_EXPORT_HEIGHT})")
        if self.steps is not None and not 0 <= self.steps <= MAX_STEPS:
            raise ValueError(f"invalid steps {self.steps} (must be 0..{MAX_STEPS})")
        if self.steps_per_frame is not None and not 1 <= self.steps_per_frame <= MAX_STEPS_PER_FRAME:
            raise ValueError(f"invalid steps per frame {self.steps_per_frame} "
                             f"(must be 1..{MAX_STEPS_PER_FRAME})")
        for p in self.panels:
            check_panel(p)
        if not self.panels:
            raise ValueError(f"no panels to export (choose from {', '.join(PANELS)})")
        if self.theme not in THEMES:
            raise ValueError(f"invalid theme '{str(self.theme)[:40]}' (choose from {', '.join(THEMES)})")
        if self.lang is not None and self.lang not in LANGS:
            raise ValueError(f"invalid language '{str(self.lang)[:40]}' (choose from {', '.join(LANGS)})")


def parse_size(text: str) -> tuple[int, int]:
    """'1280x720' -> (1280, 720), with a clear error."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"invalid size '{quote(text)}': expected WxH, e.g. 1280x720") from None
    return w, h


def output_kind(path: str | os.PathLike) -> str:
    ext = Path(path).suffix.lower()
    if ext not in OUTPUTS:
        raise ValueError(f"unsupported output '{quote(Path(path).name)}' (use .gif, .mp4, .png or .csv)")
    return ext[1:]


def _shown_runs(session) -> list[int]:
    """Runs the clip shows: the enabled ones (all of them if none is)."""
    runs = [r for r in range(session.n_runs) if session.run_enabled(r)]
    return runs or list(range(session.n_runs))


def plan(session, settings: ExportSettings) -> tuple[int, int, int]:
    """(total steps, steps per frame, frame count) for a clip of this session."""
    steps = settings.steps if settings.steps is not None else int(session.max_steps)
    spf = settings.steps_per_frame or max(1, math.ceil(steps / (settings.fps * 12)))
    frames = math.ceil(steps / spf) + 1  # frame 0 shows the start
    return steps, spf, frames


# ---- the export itself -------------------------------------------------------------------
class ClipJob:
    """One export of ``session`` to ``out``, a frame per :meth:`step`.

    ``renderer`` paints the session as it is now: ``renderer.frame()`` returns uint8
    (h, w, 4) BGRA pixels, valid until the next call, or for ``renderer.stable_frames``
    calls if it has that attribute (then they go to the encoder uncopied),
    ``renderer.rgb(frame)`` converts
    them to RGB, and ``renderer.colors`` lists the colours that later frames may add
    (every run's, the data's), for a GIF's palette. Pass a zero-argument callable that
    makes one (e.g. ``lambda: clip_renderer(session, settings)``) and the job makes it
    at its first :meth:`step` (a step that writes nothing), after restarting the session,
    so that views start from step 0 as in the window (and starting a job builds no
    picture), and closes it when
    the job ends. A CSV needs no renderer. The session is paused and
    restarted from its starts.

    No step blocks for long: a renderer with a ``prepare()`` method (True once it is
    ready) is built a piece per step, and a GIF's palette pass (0.1-0.2 s of waiting on
    ffmpeg) runs on a thread while the steps return at once (:attr:`waiting`);
    :meth:`try_abort` cancels without waiting for it. (ffmpeg itself is started on the
    job's thread: a child started on a thread would be killed when that thread ends, as
    it is set to die with its parent.)
    """

    def __init__(self, session, out: str | os.PathLike, settings: ExportSettings = ExportSettings(),
                 renderer=None):
        self.out = Path(out)
        self.kind = output_kind(self.out)
        folder = self.out.parent if str(self.out.parent) else Path(".")
        if not folder.is_dir():  # before any work: one line, nothing built
            raise OSError(f"cannot write '{str(self.out)[:80]}': folder '{str(folder)[:80]}' does not exist")
        if self.kind != "csv" and renderer is None:
            raise ValueError(f"a {self.kind.upper()} export needs the app's picture to paint it")
        self.session, self.settings = session, settings
        session.pause()
        self.steps, self.spf, frames = plan(session, settings)
        if self.steps > session.max_steps:
            session.set_max_steps(self.steps)
        session.reset()
        self._owns_renderer = callable(renderer) and not hasattr(renderer, "frame")
        #: a renderer to make: at the first :meth:`step`, so that starting an export does
        #: not build its picture (a window's export starts at once; the build is part of
        #: the first frame, which the progress bar shows)
        self._make_renderer = renderer if self._owns_renderer and self.kind != "csv" else None
        self.renderer = None if self._owns_renderer else renderer
        #: progress: frames of a video; per cent of a CSV's or PNG's work (:attr:`unit`)
        self.total = frames if self.kind in ("gif", "mp4") else 100
        self.unit = "frames" if self.kind in ("gif", "mp4") else "%"
        self.done = 0
        self._stepped = 0
        #: steps to run before the next frame (or the CSV / PNG), a piece per step (see
        #: STEP_BUDGET_S), and the steps in the next piece (from the last piece's speed)
        self._owed = None
        self._piece = 64
        #: a CSV being written: its temp file, and its lines still to write
        self._csv = None
        self._csv_tmp: Path | None = None
        self._csv_lines = None
        self._csv_rows = 1
        self._csv_written = 0
        self._csv_unsynced = 0
        self._csv_records: dict | None = None
        self._csv_todo: list = []
        #: the validation losses being computed from the copied rows (see _val_piece)
        self._csv_val: dict | None = None
        self._val_done: dict = {}
        self._val_rows = 16
        self._writer: VideoWriter | None = None
        #: the thread making a GIF's palette, and the first frame, for the encoder
        self._opener: _Opener | None = None
        self._first = None
        self._prepared = False
        self.finished = False

    @property
    def preparing(self) -> bool:
        """True while the renderer is still being built (no frame painted yet)."""
        return not self.finished and not self._prepared and self.kind != "csv"

    @property
    def waiting(self) -> bool:
        """True while a step would only wait for the encoder to start (on its thread)."""
        return self._opener is not None and not self._opener.done.is_set()

    def step(self) -> bool:
        """Write the next frame (or the whole CSV / PNG); True once the file is in place."""
        if self.finished:
            return True
        try:
            if self._make_renderer is not None:
                make, self._make_renderer = self._make_renderer, None
                self.renderer = make()
                # the build is a step of its own, the first frame the next one: in a
                # window each step is one turn of the event loop, and the two together
                # blocked it for 0.3-0.9 s
                return False
            if not self._prepared and self.kind != "csv":
                prepare = getattr(self.renderer, "prepare", None)
                if prepare is not None and not prepare():
                    return False  # a piece of the picture's build per step
                self._prepared = True
            if self.kind in ("csv", "png"):
                if self._owed is None:
                    self._owed = self.steps
                if not self._advance_owed():
                    self.done = min(int(50 * (self.steps - self._owed) / max(self.steps, 1)), 50)
                    return False
                if self.kind == "png":
                    atomic_write_bytes(self.out, png_bytes(self.renderer.rgb(self.renderer.frame())))
                    return self._ended()
                return self._write_csv()
            if self._writer is None:
                if self._first is None:
                    self._first = first = self.renderer.frame()
                    if self.kind == "gif":
                        # the palette pass waits on ffmpeg: on a thread, and a later step
                        # starts the encoder with it and hands it this frame
                        sample = _palette_sample(self.renderer.rgb(first), list(self.renderer.colors))
                        out = self.out
                        self._opener = _Opener(lambda: make_palette(out, sample))
                        return False
                palette = None
                if self._opener is not None:
                    if not self._opener.done.is_set():
                        self._opener.done.wait(0.002)
                        return False
                    opener, self._opener = self._opener, None
                    palette = opener.result()
                self._writer = VideoWriter(self.out, self.settings.size, self.settings.fps,
                                           pix_fmt="bgra", palette=palette)
                first, self._first = self._first, None
                self._writer.write(first, copy=self._copy())
            else:
                if self._owed is None:
                    self._owed = k = min(self.spf, self.steps - self._stepped)
                    self._stepped += k
                if not self._advance_owed():
                    return False  # (many steps a frame: the frame at a later step)
                self._owed = None
                self._writer.write(self.renderer.frame(), copy=self._copy())
            self.done += 1
            if self.done >= self.total:
                self._writer.close()
                self._writer = None
                self._end()
            return self.finished
        except BaseException:
            self.abort()
            raise

    def _advance_owed(self) -> bool:
        """Run the session on by the steps owed, for at most STEP_BUDGET_S; True once none
        is owed. The pieces follow the session's speed (a classifier's step costs 40 µs, a
        surface's 0.7)."""
        t0 = time.perf_counter()
        rs = getattr(self.session, "runset", None)
        while self._owed:
            k = min(self._owed, self._piece)
            if rs is not None and self.session.t == rs.t:
                # (not into trajectory rows still being made: the next step, when they are)
                k = rs.steps_without_waiting(k, wait=MEMORY_WAIT_S)
                if k == 0:
                    break
            t = time.perf_counter()
            _advance(self.session, k)
            dt = time.perf_counter() - t
            self._owed -= k
            if dt > 0.0:  # the next piece: half the budget at this speed
                self._piece = int(min(max(k * 0.5 * STEP_BUDGET_S / dt, 1), MAX_STEPS))
            if time.perf_counter() - t0 >= STEP_BUDGET_S:
                break
        return not self._owed

    def _write_csv(self) -> bool:
        """The CSV's lines, for at most STEP_BUDGET_S a step, into a temp file beside the
        output, renamed over it at the end (True then)."""
        if self._csv is None:
            # the session's records, copied out a step each (30-60 MB apiece at 10^6 steps)
            if self._csv_records is None:
                self._csv_records = {}
                todo = trajectory_records(self.session)
                del todo["val"]  # computed here, a piece a step (_val_piece)
                self._csv_todo = list(todo.items())
                s = self.session
                self._csv_val = {} if s.is_data and s.has_validation else None
                self._csv_records["val"] = self._csv_val
            if self._csv_todo:
                key, get = self._csv_todo.pop(0)
                self._csv_records[key] = get()
                return False
            if self._csv_val is not None and not self._val_piece():
                return False
            self._csv_tmp = temp_path_for(self.out)
            self._csv = open(self._csv_tmp, "w", encoding="utf-8", newline="")
            self._csv_lines = trajectory_lines(self.session, self._csv_records)
            self._csv_rows = 1 + sum(len(self._csv_records[r][1]) for r in _shown_runs(self.session))
        t0 = time.perf_counter()
        fh, n, size = self._csv, 0, 0
        for line in self._csv_lines:
            size += fh.write(line)
            n += 1
            if n % 256 == 0 and time.perf_counter() - t0 >= STEP_BUDGET_S:
                self._csv_written += n
                self._csv_unsynced += size
                if self._csv_unsynced >= CSV_SYNC_BYTES:
                    fh.flush()
                    os.fsync(fh.fileno())
                    self._csv_unsynced = 0
                self.done = 50 + min(int(50 * self._csv_written / self._csv_rows), 49)
                return False
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        self._csv = None
        tmp, self._csv_tmp = self._csv_tmp, None
        publish(tmp, self.out)
        return self._ended()

    def _val_piece(self) -> bool:
        """The shown runs' validation losses, from their copied rows, for at most
        STEP_BUDGET_S (Session.val_losses computed them all in one step: 0.5 s for 100,000
        rows of L13, seconds at 10^6 steps); True once all are there. Each row's loss is
        the problem's val_loss of it, as Session.val_losses gives it."""
        t0 = time.perf_counter()
        fn = self.session.problem.val_loss
        for r in _shown_runs(self.session):
            if r in self._csv_val:
                continue
            P = self._csv_records[r][0]
            parts = self._val_done.setdefault(r, [])
            done = sum(len(p) for p in parts)
            while done < len(P):
                end = min(done + self._val_rows, len(P))
                t1 = time.perf_counter()
                parts.append(np.asarray(fn(P[done:end]), dtype=np.float64))
                dt = time.perf_counter() - t1  # (pieces of ~STEP_BUDGET_S / 4)
                if dt < STEP_BUDGET_S / 8:
                    self._val_rows = min(self._val_rows * 2, 1 << 20)
                elif dt > STEP_BUDGET_S / 2:
                    self._val_rows = max(self._val_rows // 2, 1)
                done = end
                if time.perf_counter() - t0 >= STEP_BUDGET_S and done < len(P):
                    return False
            self._csv_val[r] = np.concatenate(parts) if parts else np.zeros(0)
            del self._val_done[r]
        return True

    def _ended(self) -> bool:
        self.done = self.total
        self._end()
        return True

    def _copy(self) -> bool:
        """Whether frames go to the encoder copied: not when the renderer keeps each one
        intact for long enough (``stable_frames``)."""
        return getattr(self.renderer, "stable_frames", 1) < STABLE_FRAMES

    def try_abort(self) -> bool:
        """Abort without waiting: False (and nothing done yet) while the encoder is still
        starting on its thread; call again later. True once aborted."""
        if self.waiting:
            return False
        self.abort()
        return True

    def abort(self) -> None:
        """Stop and delete everything written so far (nothing is left behind)."""
        if self._opener is not None:  # the palette being made: wait for it, then delete it
            opener, self._opener = self._opener, None
            opener.done.wait()
            if opener.value is not None:
                opener.value.unlink(missing_ok=True)
        self._first = None
        if self._writer is not None:
            self._writer.abort()
            self._writer = None
        if self._csv is not None:
            self._csv.close()
            self._csv = None
        if self._csv_tmp is not None:
            self._csv_tmp.unlink(missing_ok=True)
            self._csv_tmp = None
        self._end()

    def _end(self) -> None:
        self.finished = True
        self._make_renderer = None
        if self._owns_renderer and self.renderer is not None:
            self.renderer.close()
            self.renderer = None


class _Opener:
    """Run ``make()`` (a GIF's palette) on a thread; :meth:`result` gives what it returned,
    or raises what it raised."""

    def __init__(self, make: Callable[[], Path]):
        self.value: Path | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(make,), name="gdviz-ffmpeg-open",
                                        daemon=True)
        self._thread.start()

    def _run(self, make) -> None:
        try:
            self.value = make()
        except BaseException as exc:  # noqa: BLE001 - raised again on the job's thread
            self.error = exc
        finally:
            self.done.set()

    def result(self) -> Path:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.value


def export(session, out: str | os.PathLike, settings: ExportSettings = ExportSettings(),
           renderer=None, progress: Callable[[int, int], None] | None = None,
           cancelled: Callable[[], bool] | None = None) -> Path:
    """Write ``out`` (.gif, .mp4, .png or .csv) from ``session``, restarted from its starts
    (see :class:`ClipJob`). ``progress(done, total)`` is called after each frame; if
    ``cancelled()`` turns True, :class:`ExportCancelled` is raised and no file is left."""
    from gdviz.core.collect import PassesHere

    job = ClipJob(session, out, settings, renderer)
    if progress is not None and hasattr(progress, "unit"):
        progress.unit = job.unit  # (a terminal's bar: frames of a video, per cent of a CSV)
    # the collector's passes on this thread, between frames (never on the encoder's feed
    # thread, where the garbage of the frames' Qt objects would be freed: gdviz.core.collect)
    passes = PassesHere()
    try:
        while not job.step():
            passes.young()
            if progress:
                progress(job.done, job.total)
            if cancelled is not None and cancelled():
                raise ExportCancelled("export cancelled; nothing was written")
    except BaseException:
        job.abort()
        raise
    finally:
        passes.close()
    if progress:
        progress(job.done, job.total)
    return job.out


def _advance(session, k: int) -> None:
    if k > 0:
        session.step(int(k))


def _palette_sample(first: np.ndarray, colors: list[str]) -> np.ndarray:
    """The first frame plus swatches of ``colors`` (every run's and the data's), so the
    GIF palette has them."""
    sample = first.copy()
    h = sample.shape[0]
    band = max(4, h // 30)
    for i, c in enumerate(colors[: max(1, h // band)]):
        c = c.lstrip("#")
        rgb = [int(c[j: j + 2], 16) for j in (0, 2, 4)]
        sample[i * band:(i + 1) * band, :band * 4] = rgb
    return sample


def png_bytes(frame: np.ndarray) -> bytes:
    import imageio.v3 as iio

    buf = io.BytesIO()
    iio.imwrite(buf, frame, extension=".png")
    return buf.getvalue()


def trajectories_csv(session) -> str:
    """All shown runs' trajectories, full-precision floats: ``run,label,step,x,y,loss`` on
    analytic surfaces; on data problems every parameter by name (``w,b`` / ``c0,w1,...``)
    and, with a validation set, ``val_loss`` after ``loss``."""
    return "".join(trajectory_lines(session))


def trajectory_records(session) -> dict:
    """What a trajectories CSV is written from, each a function that copies it out of the
    session: ``names``, ``val`` (validation losses, or None) and for each shown run ``r``
    its rows (parameters, or the map's two on a surface; loss). (At 10^6 steps a run's rows
    are 24-40 MB, 30-50 ms to copy here: an export takes one a step.)"""
    data = session.is_data
    t = session.t

    def rows(r):
        P, L = session.runset.trajectory(r, t)
        return (P if data else session.project(P)), L

    out = {"names": (lambda: list(session.all_param_names)) if data else (lambda: ["x", "y"]),
           "val": session.val_losses if data else (lambda: None)}
    for r in _shown_runs(session):  # (a hidden run's rows are not written)
        out[r] = lambda r=r: rows(r)
    return out


#: rows a CSV line maker turns into Python floats at once (a network's row is thousands)
CSV_ROWS_AT_ONCE = 1024


def trajectory_lines(session, records: dict | None = None):
    """The lines of :func:`trajectories_csv` one by one, each ending in a newline (an
    export writes them a piece at a time). ``records``: those of
    :func:`trajectory_records`, already copied (values, not functions), if they are."""
    if records is None:
        records = {k: get() for k, get in trajectory_records(session).items()}
    names, val = records["names"], records["val"]
    trails = {r: records[r][0] for r in _shown_runs(session)}
    losses = {r: records[r][1] for r in _shown_runs(session)}
    # a network's names hold a comma (W2[1,3]): quoted, as the labels are
    names_csv = [f'"{n}"' if "," in n else n for n in names]
    yield ("run,label,step," + ",".join(names_csv) + ",loss"
           + (",val_loss" if val is not None else "") + "\n")
    for r in _shown_runs(session):
        label = session.run_label(r).replace('"', "'")
        p, l = trails[r], losses[r]
        # Python floats from tolist(), CSV_ROWS_AT_ONCE rows at a time (4,000,000 rows of
        # two parameters: 9.6 s, against 12.8 s with a float() and a generator per value)
        for a in range(0, len(l), CSV_ROWS_AT_ONCE):
            b = min(a + CSV_ROWS_AT_ONCE, len(l))
            rows, ls = p[a:b, : len(names)].tolist(), l[a:b].tolist()
            vs = np.asarray(val[r][a:b]).tolist() if val is not None else None
            for s, (row, loss) in enumerate(zip(rows, ls), start=a):
                tail = f",{vs[s - a]!r}" if vs is not None else ""
                yield f'{r},"{label}",{s},{",".join(map(repr, row))},{loss!r}{tail}\n'
