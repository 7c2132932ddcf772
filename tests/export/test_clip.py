"""Export from a session and from the CLI: real files read back, determinism, cancel,
permissions, errors. Frames are the app's own picture (gdviz.ui.picture)."""

import os
import stat
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest

from gdviz import resources_dir
from gdviz.core.session import Session
from gdviz.export.clip import ClipJob, ExportCancelled, ExportSettings, export, parse_panels, parse_size

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("qapp")]
SCENE = str(resources_dir() / "scenes" / "default_rosenbrock_race.toml")
SMALL = dict(size=(320, 180), fps=10)


def _gdviz(*args, cwd=None):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "gdviz", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300)


def _export(session, out, settings, caption=("", ""), **kw):
    from gdviz.ui.picture import clip_renderer

    return export(session, out, settings, renderer=lambda: clip_renderer(session, settings, caption), **kw)


@pytest.mark.parametrize("ext", ["gif", "mp4"])
def test_video_frames_read_back(tmp_path, ext):
    out = tmp_path / f"race.{ext}"
    _export(Session(), out, ExportSettings(steps=20, steps_per_frame=2, **SMALL), ("Title", "Caption."))
    frames = iio.imread(out, index=None)
    assert frames.shape[0] == 11  # the start plus 10 frames of 2 steps
    assert frames.shape[1:3] == (180, 320)
    assert frames[0].std() > 10  # not blank
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).max() > 60  # the runs moved
    assert os.listdir(tmp_path) == [out.name]


def test_deterministic(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    s = Session()
    _export(s, a, ExportSettings(steps=37, **SMALL))
    s.step(5)  # where the live session stands does not matter: export restarts it
    _export(s, b, ExportSettings(steps=37, **SMALL))
    assert np.array_equal(iio.imread(a), iio.imread(b))


def test_cancel_leaves_nothing(tmp_path):
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(ExportCancelled):
        _export(Session(), tmp_path / "c.mp4", ExportSettings(steps=50, **SMALL), cancelled=cancelled)
    assert os.listdir(tmp_path) == []


def test_a_failing_renderer_leaves_nothing(tmp_path):
    class Broken:
        colors = ["#000000"]

        def __init__(self):
            self.n = 0

        def frame(self):
            self.n += 1
            if self.n > 2:
                raise RuntimeError("paint failed")
            return np.zeros((180, 320, 4), np.uint8)

        @staticmethod
        def rgb(f):
            return np.ascontiguousarray(f[..., 2::-1])

    with pytest.raises(RuntimeError, match="paint failed"):
        export(Session(), tmp_path / "x.mp4", ExportSettings(steps=10, **SMALL), renderer=Broken())
    assert os.listdir(tmp_path) == []


def test_a_video_needs_a_renderer(tmp_path):
    with pytest.raises(ValueError, match="needs the app's picture"):
        ClipJob(Session(), tmp_path / "x.gif", ExportSettings(steps=3, **SMALL))


def test_files_get_the_users_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        for name in ("p.png", "t.csv", "v.mp4"):
            _export(Session(), tmp_path / name, ExportSettings(steps=3, **SMALL))
            mode = stat.S_IMODE(os.stat(tmp_path / name).st_mode)
            assert mode == 0o644, (name, oct(mode))
    finally:
        os.umask(old)


def test_csv_has_every_run_and_step(tmp_path):
    out = tmp_path / "t.csv"
    export(Session(), out, ExportSettings(steps=10))  # no renderer: no Qt needed
    lines = out.read_text().splitlines()
    assert lines[0] == "run,label,step,x,y,loss"
    assert len(lines) == 1 + 4 * 11
    assert lines[1].startswith('0,"SGD') and lines[1].split(",")[2:4] == ["0", "-1.5"]


def test_csv_lines_are_the_same_at_any_chunk_and_round_trip_exactly(monkeypatch):
    """The CSV's lines are made CSV_ROWS_AT_ONCE rows at a time; the text does not depend
    on where the chunks end (a chunk of 1, of 7 over 301 rows, of all), the validation
    column included, and every value reads back as the float64 it was (repr)."""
    import csv
    import io

    from gdviz.core.problems import FitData
    from gdviz.export import clip

    s = Session()
    assert s.set_fit(FitData(target="sine", model="sigmoid", units=2, points=30,
                             val_fraction=0.25))
    s.pause()
    s.step(300)
    texts = []
    for chunk in (1, 7, 10**6):
        monkeypatch.setattr(clip, "CSV_ROWS_AT_ONCE", chunk)
        texts.append(clip.trajectories_csv(s))
    assert texts[0] == texts[1] == texts[2]
    rows = list(csv.reader(io.StringIO(texts[0])))
    assert rows[0][-2:] == ["loss", "val_loss"]
    k = len(rows[0]) - 5  # run, label, step, the parameters, loss, val_loss
    P, losses = s.runset.trajectory(0, s.t)
    val = s.val_losses()[0]
    got = [r for r in rows[1:] if r[0] == "0"]
    assert [int(r[2]) for r in got] == list(range(len(losses)))
    assert np.array_equal(np.array([[float(v) for v in r[3:3 + k]] for r in got]), P[:, :k])
    assert np.array_equal(np.array([float(r[-2]) for r in got]), losses)
    assert np.array_equal(np.array([float(r[-1]) for r in got]), val)


def test_settings_validation():
    with pytest.raises(ValueError, match="invalid fps 0"):
        ExportSettings(fps=0)
    with pytest.raises(ValueError, match="invalid size 10x10"):
        ExportSettings(size=(10, 10))
    with pytest.raises(ValueError, match="unknown panel 'map'"):
        ExportSettings(panels=("map",))
    with pytest.raises(ValueError, match="invalid theme 'pink'"):
        ExportSettings(theme="pink")
    with pytest.raises(ValueError, match="invalid language 'fr'"):
        ExportSettings(lang="fr")
    with pytest.raises(ValueError, match="expected WxH"):
        parse_size("big")
    with pytest.raises(ValueError, match="did you mean 'landscape'"):
        parse_panels("landscap,loss")
    assert parse_panels("step, schedule") == ("step", "schedule")


def test_cli_export_gif(tmp_path):
    out = tmp_path / "x.gif"
    r = _gdviz("export", SCENE, "-o", out, "--steps", "8", "--steps-per-frame", "1", "--size", "256x144",
               "--fps", "8", "--panels", "landscape,loss")
    assert r.returncode == 0, r.stderr
    frames = iio.imread(out, index=None)
    assert frames.shape[:3] == (9, 144, 256)


def test_cli_export_a_lesson_by_name_in_chinese_and_dark(tmp_path):
    out = tmp_path / "l4.png"
    r = _gdviz("export", "L04", "-o", out, "--steps", "5", "--size", "320x180", "--lang", "zh-Hant",
               "--theme", "dark")
    assert r.returncode == 0, r.stderr
    img = iio.imread(out)[..., :3].astype(int)
    # the dark theme's panel colour fills the frame's border
    assert np.abs(img[-2, -2] - [0x1F, 0x23, 0x2B]).max() < 12


@pytest.mark.parametrize("args, message", [
    (["missing.toml", "-o", "x.gif"], "missing.toml"),
    (["L99", "-o", "x.gif"], "unknown preset 'L99'"),
    ([SCENE, "-o", "x.avi"], "unsupported output 'x.avi'"),
    ([SCENE, "-o", "x.gif", "--size", "huge"], "invalid size 'huge'"),
    ([SCENE, "-o", "x.gif", "--panels", "lost"], "unknown panel 'lost'"),
    ([SCENE, "-o", "x.gif", "--fps", "0"], "invalid fps 0"),
    ([SCENE, "-o", "x.gif", "--lang", "klingon"], "invalid language 'klingon'"),
    ([SCENE, "-o", "x.gif", "--lang", "fr"], "invalid language 'fr'"),
    ([SCENE, "-o", "x.gif", "--theme", "pink"], "invalid theme 'pink'"),
    ([SCENE, "-o", "nope/x.gif", "--steps", "2"], "does not exist"),
    ([SCENE, "-o", "x.mp4", "--size", "321x181", "--steps", "2"], "even width and height"),
    ([SCENE, "-o", "x.gif", "--stpes", "3"], "did you mean '--steps'"),
])
def test_cli_export_errors(tmp_path, args, message):
    r = _gdviz("export", *args, cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert os.listdir(tmp_path) == []


def test_cli_bad_scene_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("version = 1\n[runs.adam]\noptimizer = 'adam'\nlr_rate = 0.1\n")
    r = _gdviz("export", bad, "-o", tmp_path / "x.gif")
    assert r.returncode == 2
    assert "unknown key 'lr_rate'" in r.stderr and "did you mean 'lr'" in r.stderr
    assert sorted(os.listdir(tmp_path)) == ["bad.toml"]


def test_cli_csv_of_a_data_lesson_names_the_parameters(tmp_path):
    csv = tmp_path / "l6.csv"
    r = _gdviz("export", "L06", "-o", csv, "--steps", "3")
    assert r.returncode == 0, r.stderr
    assert csv.read_text().splitlines()[0] == "run,label,step,w,b,loss"


class _Recorder:
    """A renderer that remembers the step each frame shows."""

    colors = ["#000000"]

    def __init__(self, session):
        self.session, self.shown = session, []

    def frame(self):
        self.shown.append(self.session.t)
        return np.zeros((180, 320, 4), np.uint8)

    @staticmethod
    def rgb(f):
        return np.ascontiguousarray(f[..., 2::-1])

    def close(self):
        pass


def test_the_renderer_is_built_in_a_step_of_its_own(tmp_path):
    """A window runs a step per turn of its event loop: building the picture and painting
    its first frame in one step blocked it for up to 0.9 s. The first step builds it and
    writes nothing; every later step writes one frame."""
    made = []
    session = Session()
    rec = _Recorder(session)

    def make():
        made.append(1)
        return rec

    job = ClipJob(session, tmp_path / "x.mp4", ExportSettings(steps=4, steps_per_frame=2, **SMALL),
                  renderer=make)
    assert made == [] and job.total == 3
    assert job.step() is False
    assert made == [1] and rec.shown == [] and job.done == 0
    steps = 1
    while not job.step():
        steps += 1
        assert len(rec.shown) == job.done
    assert steps + 1 == job.total + 1 and len(rec.shown) == job.total == 3
    assert (tmp_path / "x.mp4").stat().st_size > 0


class _Staged:
    """A renderer built in pieces (``prepare``), as the window's export builds its picture."""

    colors = ["#000000"]

    def __init__(self, pieces: int):
        self.pieces, self.frames, self.closed = pieces, 0, False

    def prepare(self) -> bool:
        if self.pieces:
            self.pieces -= 1
            return False
        return True

    def frame(self):
        assert self.pieces == 0, "painted before the build was done"
        self.frames += 1
        return np.full((180, 320, 4), 40 * self.frames % 256, np.uint8)

    @staticmethod
    def rgb(f):
        return np.ascontiguousarray(f[..., 2::-1])

    def close(self):
        self.closed = True


@pytest.mark.parametrize("ext", ["gif", "mp4"])
def test_a_staged_renderer_is_built_a_piece_per_step(tmp_path, ext):
    """Each step does one piece of the renderer's build (the dialog says "preparing"
    meanwhile); a GIF's palette pass waits on ffmpeg on a thread, the steps returning at
    once (``waiting``) until it is done; the clip has every frame."""
    made = []
    job = ClipJob(Session(), tmp_path / f"x.{ext}", ExportSettings(steps=4, steps_per_frame=2, **SMALL),
                  renderer=lambda: made.append(_Staged(5)) or made[-1])
    assert job.preparing
    steps = 0
    while not job.step():
        steps += 1
        r = made[0]
        if r.pieces:
            assert job.preparing and r.frames == 0 and job.done == 0
        if r.frames:
            assert not job.preparing
    assert not job.preparing and made[0].closed
    assert steps >= 1 + 5 + job.total - 1  # the last step returns True
    frames = iio.imread(tmp_path / f"x.{ext}", index=None)
    assert frames.shape[0] == 3
    assert os.listdir(tmp_path) == [f"x.{ext}"]


def test_a_cancel_while_the_palette_is_made_leaves_nothing(tmp_path):
    job = ClipJob(Session(), tmp_path / "x.gif", ExportSettings(steps=40, **SMALL),
                  renderer=lambda: _Staged(1))
    while job._opener is None:  # the first frame painted, the palette pass started
        assert not job.step()
    aborted = job.try_abort()
    if not aborted:  # it waits for the palette pass, never blocking on it
        assert job.waiting
        while not job.try_abort():
            job._opener.done.wait(0.01)
    assert job.finished
    assert os.listdir(tmp_path) == []


def test_an_export_runs_and_writes_a_piece_per_step(tmp_path, monkeypatch):
    """Each step of an export runs the session, or writes a CSV's lines, for at most
    STEP_BUDGET_S (0 here: a piece a step), the rest at the next: in the window each step
    is one turn of the event loop (an in-app CSV of 10^6 steps ran and wrote all of it in
    one, 13 s). The files are those of one piece, progress only grows, and a CSV aborted
    while it is written leaves nothing."""
    from gdviz.export import clip

    monkeypatch.setattr(clip, "STEP_BUDGET_S", 0.0)
    ref = Session()
    ref.pause()
    ref.step(300)
    want = clip.trajectories_csv(ref)
    s = Session()
    job = ClipJob(s, tmp_path / "t.csv", ExportSettings(steps=300))
    assert job.unit == "%" and job.total == 100
    seen, steps = [], 0
    while not job.step():
        steps += 1
        seen.append(job.done)
        assert not (tmp_path / "t.csv").exists()
    assert steps > 200 and seen == sorted(seen) and job.done == 100
    assert (tmp_path / "t.csv").read_text(encoding="utf-8") == want
    assert os.listdir(tmp_path) == ["t.csv"]
    job = ClipJob(Session(), tmp_path / "u.csv", ExportSettings(steps=300))
    while job._csv is None:
        assert not job.step()
    assert len(os.listdir(tmp_path)) == 2  # its temp file, beside the first
    job.abort()
    assert os.listdir(tmp_path) == ["t.csv"]
    # a PNG: the picture at the last step, after the steps' pieces
    s = Session()
    rec = _Recorder(s)
    job = ClipJob(s, tmp_path / "p.png", ExportSettings(steps=150, **SMALL), renderer=rec)
    steps = 0
    while not job.step():
        steps += 1
        assert rec.shown == []
    assert steps > 80 and rec.shown == [150] and (tmp_path / "p.png").stat().st_size > 0
    # a video of many steps a frame: each frame at its own step, over several steps
    s = Session()
    rec = _Recorder(s)
    job = ClipJob(s, tmp_path / "v.mp4", ExportSettings(steps=200, steps_per_frame=50, **SMALL),
                  renderer=rec)
    steps = 0
    while not job.step():
        steps += 1
    assert rec.shown == [0, 50, 100, 150, 200] and steps > 100 and job.done == job.total == 5


def test_a_csvs_validation_losses_are_computed_a_piece_per_step(tmp_path, monkeypatch):
    """A fit's CSV has a val_loss column: Session.val_losses computed it for every row in
    one step of the export (0.5 s for 100,000 rows of L13, seconds at 10^6 steps, the
    window frozen); now the export computes it from the rows it copied, a piece a step,
    and the file is the same as trajectories_csv's."""
    from gdviz.core.problems import FitData
    from gdviz.export import clip

    def fit_session():
        s = Session()
        assert s.set_fit(FitData(target="sine", model="sigmoid", units=3, points=40,
                                 val_fraction=0.25))
        s.pause()
        return s

    ref = fit_session()
    ref.step(300)
    want = clip.trajectories_csv(ref)
    assert want.splitlines()[0].endswith(",loss,val_loss")
    monkeypatch.setattr(clip, "STEP_BUDGET_S", 0.0)
    s = fit_session()
    job = ClipJob(s, tmp_path / "t.csv", ExportSettings(steps=300))
    sizes = []
    real = type(s.problem).val_loss
    monkeypatch.setattr(type(s.problem), "val_loss",
                        lambda self, P: sizes.append(len(P)) or real(self, P))
    monkeypatch.setattr(type(s), "val_losses", lambda *a: pytest.fail("all in one step"))
    while not job.step():
        pass
    assert (tmp_path / "t.csv").read_text(encoding="utf-8") == want
    rows = sum(len(ref.losses()[r]) for r in range(ref.n_runs))
    assert sum(sizes) == rows and max(sizes) <= 16 and len(sizes) > ref.n_runs


def test_an_exports_map_computes_the_live_slice_for_its_frames_only(tmp_path, monkeypatch):
    """A fit's map is a live slice: the export's map computed it exactly after every piece
    of steps between frames (a 100-step PNG of a 100,000-point fit: 100 slices of 0.3 s,
    one drawn); now when a frame is painted. The frames are the same."""
    from gdviz.core.problems import FitData, FitSlice
    from gdviz.export import clip

    def fit_session():
        s = Session()
        assert s.set_fit(FitData(target="sine", model="sigmoid", units=3, points=40))
        return s

    calls = []
    real = FitSlice.grid
    monkeypatch.setattr(FitSlice, "grid",
                        lambda self, *a, **k: calls.append(a) or real(self, *a, **k))
    monkeypatch.setattr(clip, "STEP_BUDGET_S", 0.0)  # a piece a step
    out = _export(fit_session(), tmp_path / "f.png", ExportSettings(steps=60, **SMALL))
    assert out.exists() and len(calls) <= 3  # the build's, and the frame's
    calls.clear()
    _export(fit_session(), tmp_path / "v.gif",
            ExportSettings(steps=60, steps_per_frame=20, **SMALL))
    assert len(calls) <= 2 + 4  # and one a frame (0, 20, 40, 60)
    calls.clear()
    _export(fit_session(), tmp_path / "w.gif",
            ExportSettings(steps=60, steps_per_frame=20, panels=("fit", "loss"), **SMALL))
    assert len(calls) <= 2  # a map left out of the clip: none for its frames
