"""Killed exports (issue 10, item 7): SIGTERM is handled as Ctrl+C (stop, delete the temp
files, exit 2 with one line), temp files (the GIF palette too) live beside the target with a
recognisable prefix, a SIGKILL's leftovers are removed by the next export into that folder,
and ffmpeg dies with its parent. Real subprocesses, polled with bounded waits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from gdviz.export.video import TEMP_PREFIX, VideoWriter, remove_stale_temps

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"),
                                 reason="signals, /proc and PR_SET_PDEATHSIG are Linux's")]

LONG_EXPORT = ["--size", "160x90", "--steps", "100000", "--steps-per-frame", "1"]


def _start(tmp_path: Path, out: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "GDVIZ_DEBUG"}
    return subprocess.Popen([sys.executable, "-m", "gdviz", "export", "L04", "-o",
                             str(tmp_path / out), *LONG_EXPORT],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _until(cond, proc: subprocess.Popen | None = None, seconds: float = 90.0) -> bool:
    """Poll ``cond()`` every 50 ms for at most ``seconds`` (False if it never held, or if
    ``proc`` ended first)."""
    tick = threading.Event()
    for _ in range(int(seconds / 0.05)):
        if cond():
            return True
        if proc is not None and proc.poll() is not None:
            return bool(cond())
        tick.wait(0.05)
    return False


def _encoding(tmp_path: Path, proc: subprocess.Popen, part: str):
    """Wait until the export writes frames: its .part file exists and ffmpeg runs."""
    ok = _until(lambda: any(p.name.endswith(part) for p in tmp_path.iterdir())
                and any("ffmpeg" in Path(f"/proc/{c}/cmdline").read_bytes().decode("latin-1")
                        for c in _children(proc.pid) if _alive(c)), proc)
    if not ok:
        proc.kill()
        pytest.fail(f"the export never started encoding: {proc.communicate()[1][-2000:]}")
    return [c for c in _children(proc.pid)
            if "ffmpeg" in Path(f"/proc/{c}/cmdline").read_bytes().decode("latin-1")]


def test_sigterm_during_a_gif_export_cancels_and_cleans_up(tmp_path):
    proc = _start(tmp_path, "clip.gif")
    # the palette is made by a first, short ffmpeg after the .part file exists: wait for the
    # palette file, or that first ffmpeg passes for the encoder and the palette is not there yet
    assert _until(lambda: any("-palette." in p.name for p in tmp_path.iterdir()), proc)
    ffmpeg = _encoding(tmp_path, proc, ".part.gif")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 2 and all(n.startswith(f"{TEMP_PREFIX}{proc.pid}-") for n in names)
    assert any(n.endswith(".png") and "-palette." in n for n in names)  # beside the target
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 2
    assert err == "gdviz export: error: export cancelled; nothing was written\n"
    assert list(tmp_path.iterdir()) == []
    assert _until(lambda: not any(_alive(p) for p in ffmpeg), seconds=10)


def test_after_a_sigkill_ffmpeg_dies_and_the_next_export_removes_the_leftovers(tmp_path):
    proc = _start(tmp_path, "clip.mp4")
    ffmpeg = _encoding(tmp_path, proc, ".part.mp4")
    proc.kill()
    proc.communicate(timeout=30)
    assert _until(lambda: not any(_alive(p) for p in ffmpeg), seconds=10), "ffmpeg outlived gdviz"
    left = [p.name for p in tmp_path.iterdir()]
    assert left and all(n.startswith(f"{TEMP_PREFIX}{proc.pid}-") for n in left)
    r = subprocess.run([sys.executable, "-m", "gdviz", "export", "L04", "-o",
                        str(tmp_path / "next.csv"), "--steps", "5"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["next.csv"]


def test_stale_temps_are_only_those_of_dead_processes(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    live = os.getppid()
    for name in [f"{TEMP_PREFIX}{dead}-clip.abc.part.mp4", f"{TEMP_PREFIX}{dead}-palette.x.png",
                 f"{TEMP_PREFIX}{live}-clip.abc.part.mp4", f"{TEMP_PREFIX}{os.getpid()}-a.part.gif",
                 f"{TEMP_PREFIX}x-odd.png", ".clip.abc.part.mp4", "clip.mp4"]:
        (tmp_path / name).write_bytes(b"x")
    removed = remove_stale_temps(tmp_path)
    assert sorted(p.name for p in removed) == sorted([f"{TEMP_PREFIX}{dead}-clip.abc.part.mp4",
                                                      f"{TEMP_PREFIX}{dead}-palette.x.png"])
    assert len(list(tmp_path.iterdir())) == 5


def test_the_gif_palette_lives_beside_the_target(tmp_path):
    frame = np.zeros((64, 96, 3), np.uint8)
    with VideoWriter(tmp_path / "a.gif", (96, 64), 10, palette_sample=frame) as w:
        names = sorted(p.name for p in tmp_path.iterdir())
        assert [n.split(".")[1] for n in names] == [f"{TEMP_PREFIX[1:]}{os.getpid()}-a",
                                                    f"{TEMP_PREFIX[1:]}{os.getpid()}-palette"]
        assert names[0].endswith(".part.gif") and names[1].endswith(".png")
        w.write(frame)
    assert [p.name for p in tmp_path.iterdir()] == ["a.gif"]
