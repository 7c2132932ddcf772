"""Stale state as a class of bugs: every lesson opened after every other lesson (and after
itself), paused and after a few steps of playing, shows the new lesson's values only: the
map's view and axis ranges, its title, the expression box, the caption, the run labels in
the runs panel and in the legend, and the status bar.

One window serves all 2 x 256 ordered pairs: the lessons are opened along an Eulerian
circuit of the complete directed graph (with loops), so each ordered pair (a, b) is one
switch from a to b and the whole class costs ~260 openings per mode.
"""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from gdviz.core.scene import apply_scene, load_scene, preset_paths
from gdviz.core.session import Session

PATHS = preset_paths()


def euler_circuit(n: int) -> list[int]:
    """Node indices of a closed walk that uses every ordered pair (i, j), i == j too, once:
    length n*n + 1 (Hierholzer's algorithm on the complete digraph with loops)."""
    out = {i: list(range(n)) for i in range(n)}
    stack, walk = [0], []
    while stack:
        v = stack[-1]
        if out[v]:
            stack.append(out[v].pop())
        else:
            walk.append(stack.pop())
    return walk[::-1]


def test_euler_circuit_covers_every_ordered_pair_once():
    walk = euler_circuit(5)
    pairs = list(zip(walk, walk[1:]))
    assert len(pairs) == 25 and set(pairs) == {(i, j) for i in range(5) for j in range(5)}


class Reference:
    """What a lesson must look like: a fresh session with only that scene applied."""

    def __init__(self, path):
        self.scene = load_scene(path)
        self.session = Session(fast=False)
        apply_scene(self.scene, self.session)
        s = self.session
        self.box = s.view_box
        self.labels = [s.spec_label(i) for i in range(s.n_specs)]
        self.legend = [s.spec_label(i) for i in range(s.n_specs) if s.specs[i].enabled]
        self.expr = s.landscape.label if s.kind == "expr" else ""


@pytest.fixture(scope="module")
def refs() -> list[Reference]:
    return [Reference(p) for p in PATHS]


@pytest.fixture(scope="module")
def lesson_window(qapp, tmp_path_factory):
    """One real window at 1280×720 (private settings), reused by every switch."""
    from gdviz.ui import theme
    from gdviz.ui.main_window import MainWindow

    theme.configure_pyqtgraph()
    ini = tmp_path_factory.mktemp("cfg") / "gdviz.ini"
    win = MainWindow(Session(fast=False), settings=QSettings(str(ini), QSettings.Format.IniFormat))
    win.resize(1280, 720)
    win.show()
    QApplication.processEvents()
    yield win
    win.frame_timer.stop()
    win.session.pause()
    win.close()
    win.deleteLater()
    QApplication.processEvents()


def _close(a, b) -> bool:
    return all(abs(float(x) - float(y)) <= 1e-9 * max(1.0, abs(float(y))) for x, y in zip(a, b))


def _check(win, ref: Reference, where: str, *, fresh: bool) -> None:
    """The window shows ``ref``'s lesson and nothing of the one before (``where`` says
    which switch). ``fresh``: no frame has run since the switch (step 0 in the status)."""
    lv = win.landscape_view
    x0, x1, y0, y1 = ref.box
    (vx, vy) = lv.vb.viewRange()
    assert _close((*vx, *vy), (x0, x1, y0, y1)), f"{where}: map range {vx, vy} != {ref.box}"
    ax, ay = lv.plot_item.getAxis("bottom"), lv.plot_item.getAxis("left")
    assert _close((*ax.range, *ay.range), (x0, x1, y0, y1)), \
        f"{where}: axis numbers {ax.range, ay.range} != {ref.box}"
    # the title: the landscape's own, elided to the map's width
    land = win.session.landscape
    full = (f"{land.name}:  {land.label}" if getattr(land, "sid", -1) >= 0
            else lv._data_title(land))
    layer = getattr(lv, "map_layer", None)
    basins = win.session.map_layer != "off" and layer is not None and bool(layer.title)
    if basins:
        full = layer.title  # a basin map's title says what its colours mean (L16)
    shown = lv.plot_item.titleLabel.text
    assert shown == full or (shown.endswith("…") and full.startswith(shown[:-1])), \
        f"{where}: title {shown!r} is not {full!r}"
    if ref.session.kind in ("surface", "expr") and not basins:
        want = (f"{ref.scene.problem.surface}:" if ref.session.kind == "surface"
                else ref.expr[:10])
        assert want in full, f"{where}: title {full!r} lacks {want!r}"
    assert win.controls.problem.expr.text() == ref.expr, f"{where}: expression box"
    lang = win.language
    assert win.caption.title_label.text() == ref.scene.title.get(lang), f"{where}: caption"
    assert win.caption.body.text() == ref.scene.caption.get(lang), f"{where}: caption text"
    cards = [c.title.text() for c in win.controls.runs.cards]
    assert cards == ref.labels, f"{where}: runs panel {cards} != {ref.labels}"
    legend = [lab.text.removesuffix("  ✕") for _, lab in lv.legend.items]
    assert legend == ref.legend, f"{where}: legend {legend} != {ref.legend}"
    status = win.counters.text()
    numbers = [int(n) for n in re.findall(r"\d+", status)]
    assert ref.scene.playback.max_steps in numbers, f"{where}: status {status!r}"
    # the axis titles centred on their axes (placed for the lesson before's longer title,
    # L07's "c2" after L19 sat on the tick labels)
    for name in ("left", "bottom"):
        ax = lv.plot_item.getAxis(name)
        if ax.label.isVisibleTo(ax):
            br = ax.label.boundingRect()
            if name == "left":
                off = ax.label.pos().y() - br.width() / 2 - ax.size().height() / 2
            else:
                off = ax.label.pos().x() + br.width() / 2 - ax.size().width() / 2
            assert abs(off) <= 1, f"{where}: the {name} axis title is {off:.0f} px off centre"
    # a ghost compares two settings of one lesson: L9 after L13 (the same fit, another
    # weight decay) showed L13's fit as "weight decay = 0.001 (before)"
    fv = win.fit_view
    assert fv.ghost is None and not fv.ghost_curve.isVisible(), \
        f"{where}: the fit panel shows a ghost of the lesson before"
    if fresh:
        assert numbers[0] == 0, f"{where}: status {status!r} is not at step 0"
        assert win.diverged_label.text() == "", f"{where}: {win.diverged_label.text()!r}"


class TestLessonAfterLesson:
    """Each preset opened after each preset (256 ordered pairs), in one window."""

    def _switch(self, win, refs, walk, play_steps: int) -> int:
        checked = 0
        painted: set[int] = set()
        assert win.open_scene(PATHS[walk[0]])
        for a, b in zip(walk, walk[1:]):
            s = win.session
            if play_steps:
                s.play()
                s.step(play_steps)  # a few frames of lesson a, still playing
            else:
                s.pause()
            where = f"{PATHS[b].stem} after {PATHS[a].stem}" + (" (playing)" if play_steps else "")
            assert win.open_scene(PATHS[b]), where
            s.pause()
            _check(win, refs[b], where, fresh=True)
            if b not in painted:
                # what a paint and the timers do next (a full paint costs ~0.2 s, so once
                # per lesson: the view's state is checked before it at every switch)
                painted.add(b)
                QApplication.processEvents()
                _check(win, refs[b], where + " after a paint", fresh=False)
            checked += 1
        return checked

    def test_paused(self, lesson_window, refs):
        walk = euler_circuit(len(PATHS))
        assert self._switch(lesson_window, refs, walk, 0) == len(PATHS) ** 2

    def test_after_a_few_steps_of_playing(self, lesson_window, refs):
        walk = euler_circuit(len(PATHS))
        assert self._switch(lesson_window, refs, walk, 5) == len(PATHS) ** 2
