"""The session as a typed model: one event per field, coarse signals once per change,
one engine build per restore, view state in the model, labels that follow the lr."""

from __future__ import annotations

import dataclasses

import pytest

import gdviz.core.session.history as history
from gdviz.core.engine import RunSet
from gdviz.core.optimizers import make_optimizer
from gdviz.core.scene import (SceneError, apply_scene, dumps_scene, load_scene, loads_scene,
                              preset_paths, scene_from_session)
from gdviz.core.schedules import Schedule
from gdviz.core.session import FIELDS, RunSpec, Session, lr_template

COARSE = ("problem_changed", "runs_changed", "stepped", "playing_changed",
          "settings_changed", "error", "selection_changed")
PATHS = preset_paths()
IDS = [p.stem for p in PATHS]


class Counts:
    """Every coarse signal and every field event of a session, counted."""

    def __init__(self, session: Session):
        self.coarse = {n: 0 for n in COARSE}
        self.fields: dict[str, list] = {n: [] for n in FIELDS}
        for n in COARSE:
            getattr(session, n).connect(lambda *a, n=n: self._bump(n))
        for n in FIELDS:
            getattr(session.events, n).connect(lambda v, n=n: self.fields[n].append(v))

    def _bump(self, n: str) -> None:
        self.coarse[n] += 1

    def fired(self) -> dict[str, int]:
        return {n: c for n, c in self.coarse.items() if c}

    def changed(self) -> dict[str, int]:
        return {n: len(v) for n, v in self.fields.items() if v}


@pytest.fixture
def builds(monkeypatch) -> list:
    """Each engine (RunSet) the session builds appends to this list."""
    made: list = []

    class CountingRunSet(RunSet):
        def __init__(self, *a, **k):
            made.append(1)
            super().__init__(*a, **k)

    monkeypatch.setattr(history, "RunSet", CountingRunSet)
    return made


@pytest.fixture
def session() -> Session:
    return Session(fast=False)


# ------------------------------------------------------------------ one event per field
def test_every_field_has_its_event(session):
    for name in FIELDS:
        assert hasattr(session, name), name
        assert hasattr(session.events, name), name


@pytest.mark.parametrize("call, field, value", [
    (lambda s: s.set_seed(3), "seed", 3),
    (lambda s: s.set_noise(0.5), "noise", 0.5),
    (lambda s: s.set_batch_size(4), "batch_size", 4),
    (lambda s: s.set_max_steps(77), "max_steps", 77),
    (lambda s: s.set_speed(12.0), "speed", 12.0),
    (lambda s: s.set_same_lr(True), "same_lr", True),
    (lambda s: s.select(2), "selected", 2),
    (lambda s: s.play(), "playing", True),
    (lambda s: s.step(3), "t", 3),
    (lambda s: s.set_view_options(box=(-1, 1, -2, 2)), "view", (-1.0, 1.0, -2.0, 2.0)),
    (lambda s: s.set_view_options(heatmap=False), "heatmap", False),
    (lambda s: s.set_view_options(levels=40), "levels", 40),
    (lambda s: s.set_view_options(scale="log"), "scale", "log"),
    (lambda s: s.set_view_options(theme="dark"), "theme", "dark"),
    (lambda s: s.set_view_options(panels=["loss", "landscape"]), "panels", ("landscape", "loss")),
    (lambda s: s.set_view_options(batch_surface=True), "batch_surface", True),
    (lambda s: s.set_view_options(show_units=True), "show_units", True),
    (lambda s: s.set_start(0.5, 0.5), "starts", [(0.5, 0.5)]),
])
def test_a_setter_emits_its_field_event_once_with_the_new_value(session, call, field, value):
    c = Counts(session)
    assert call(session) is not False
    assert c.fields[field] == [value]
    assert getattr(session, field) == value
    assert all(n <= 1 for n in c.fired().values()), c.fired()
    assert all(n == 1 for n in c.changed().values()), c.changed()


def test_shared_lr_event(session):
    c = Counts(session)
    session.set_same_lr(True, 0.02)
    assert c.fields["shared_lr"] == [0.02] and c.fields["same_lr"] == [True]
    assert c.coarse["settings_changed"] == 1 and c.coarse["runs_changed"] == 1


def test_view_options_validate_first_and_change_nothing_on_a_bad_value(session):
    c = Counts(session)
    errors = []
    session.error.connect(errors.append)
    for bad in (dict(levels=1), dict(levels=201), dict(scale="cubic"), dict(theme="blue"),
                dict(panels=["map"]), dict(box=(1, 0, 0, 1)), dict(heatmap=False, levels=0)):
        assert not session.set_view_options(**bad)
    assert len(errors) == 7
    assert "levels" in errors[0] and "2 to 200" in errors[0]
    assert "choose from auto, log, linear" in errors[2]
    assert session.heatmap is True and session.levels == 20 and session.scale == "auto"
    assert c.changed() == {} and c.fired() == {"error": 7}


def test_view_options_several_fields_one_settings_changed(session):
    c = Counts(session)
    assert session.set_view_options(heatmap=False, levels=30, scale="linear")
    assert c.changed() == {"heatmap": 1, "levels": 1, "scale": 1}
    assert c.fired() == {"settings_changed": 1}
    c2 = Counts(session)
    assert session.set_view_options(heatmap=False, levels=30)  # no change: no signal
    assert c2.fired() == {} and c2.changed() == {}


def test_view_options_keep_the_box_unless_given(session):
    session.set_view_options(box=(-1, 1, -1, 1))
    session.set_view_options(heatmap=False)
    assert session.view == (-1.0, 1.0, -1.0, 1.0)
    session.set_view_options(box=None)
    assert session.view is None


# ------------------------------------------------------------------ engine builds
def test_set_schedule_for_every_run_builds_the_engine_once(session, builds):
    c = Counts(session)
    assert session.set_schedule(None, Schedule(kind="cosine"))
    assert len(builds) == 1
    assert all(s.schedule.kind == "cosine" for s in session.specs)
    assert c.fired() == {"runs_changed": 1, "settings_changed": 1, "stepped": 1}
    assert c.changed() == {"specs": 1}


def test_set_schedule_of_one_run_builds_once(session, builds):
    session.step(5)
    c = Counts(session)
    assert session.set_schedule(1, Schedule(kind="cosine"))
    assert len(builds) == 1 and session.t == 0
    assert c.fired() == {"runs_changed": 1, "settings_changed": 1, "stepped": 1}


def test_update_run_builds_nothing_and_redraws_once(session, builds):
    session.step(5)
    c = Counts(session)
    assert session.update_run(0, lr=0.002)
    assert builds == []  # a live change: the engine keeps going
    assert c.fired() == {"runs_changed": 1}  # the displayed history is unchanged
    assert c.changed() == {"specs": 1}
    assert session.runset.configs[0].lr == 0.002 and session.effective_lr(0) == 0.002


def test_update_run_after_scrubbing_back_builds_nothing(session, builds):
    """It goes back to the engine's checkpoint (see tests/core/test_checkpoints.py)."""
    session.step(10)
    session.scrub(4)
    assert session.update_run(0, lr=0.002)
    assert builds == [] and session.t == 4 and session.runset.t == 4


def test_update_runs_one_signal(session, builds):
    c = Counts(session)
    assert session.update_runs(weight_decay=0.1)
    assert builds == [] and c.fired() == {"runs_changed": 1}


def test_add_and_remove_run_one_build_each(session, builds):
    session.step(3)
    c = Counts(session)
    assert session.add_run(RunSpec(config=make_optimizer("adam", lr=0.1))) == 4
    assert session.remove_run(0)
    assert len(builds) == 2
    assert c.coarse["runs_changed"] == 2 and c.coarse["stepped"] == 2


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_applying_a_preset_is_one_restore(path, builds):
    """One engine build and one of each coarse signal, from any previous state."""
    scene = load_scene(path)
    s = Session(fast=False)
    s.set_view_options(theme="dark")
    s.step(7)
    builds.clear()
    c = Counts(s)
    apply_scene(scene, s)
    assert len(builds) == 1, path.stem
    assert c.fired() == {"problem_changed": 1, "runs_changed": 1, "settings_changed": 1,
                         "selection_changed": 1, "stepped": 1}, path.stem
    assert all(n == 1 for n in c.changed().values()), c.changed()
    assert s.t == 0 and not s.playing and s.theme == "dark"
    assert (s.heatmap, s.levels, s.scale) == (scene.view.heatmap, scene.view.levels,
                                              scene.view.scale)
    assert s.view == (tuple(scene.view.box) if scene.view.box else None)
    # the same scene again over itself is still one build
    builds.clear()
    apply_scene(scene, s)
    assert len(builds) == 1


def test_applying_a_preset_while_playing_pauses_once(builds):
    s = Session(fast=False)
    s.play()
    builds.clear()
    c = Counts(s)
    apply_scene(load_scene(PATHS[0]), s)
    assert c.coarse["playing_changed"] == 1 and not s.playing
    assert len(builds) == 1


# ------------------------------------------------------------------ restore
def test_snapshot_restore_round_trip(session, builds):
    session.set_view_options(levels=33, heatmap=False, box=(-2, 2, -1, 3))
    session.add_run(RunSpec(config=make_optimizer("adam", lr=0.2), label="A = 0.2"))
    state = session.snapshot()
    other = Session(fast=False)
    builds.clear()
    other.restore(state)
    assert len(builds) == 1
    assert other.snapshot() == dataclasses.replace(state, selected=-1)
    assert other.spec_label(4) == "A = 0.2"


@pytest.mark.parametrize("bad", [
    dict(specs=()),
    dict(max_steps=0),
    dict(levels=500),
    dict(scale="nope"),
    dict(speed=-1.0),
    dict(starts=((float("nan"), 0.0),)),
    dict(selected=99),
    dict(kind="regression"),  # no data
])
def test_a_bad_state_leaves_the_session_untouched(session, builds, bad):
    session.step(4)
    before = session.snapshot()
    runset = session.runset
    builds.clear()
    c = Counts(session)
    with pytest.raises(ValueError):
        session.restore(dataclasses.replace(before, **bad))
    assert session.snapshot() == before and session.runset is runset and session.t == 4
    assert builds == [] and c.fired() == {} and c.changed() == {}


def test_a_scene_that_fails_leaves_the_session_untouched(session):
    scene = load_scene(PATHS[0])
    broken = dataclasses.replace(scene, playback=dataclasses.replace(scene.playback,
                                                                     step_mode_run="nobody"))
    session.step(3)
    before = session.snapshot()
    with pytest.raises(SceneError):
        apply_scene(broken, session)
    assert session.snapshot() == before


# ------------------------------------------------------------------ labels follow the lr
def test_lr_template():
    assert lr_template("SGD lr ×1 = 0.015", 0.015) == "SGD lr ×1 = {lr}"
    assert lr_template("SGD lr ×0.1 = 0.0015", 0.0015) == "SGD lr ×0.1 = {lr}"
    assert lr_template("SGD (η = 0.1)", 0.1) == "SGD (η = {lr})"
    assert lr_template("Momentum (m ← 0.9·m + 0.1·g)", 0.1) == "Momentum (m ← 0.9·m + 0.1·g)"
    assert lr_template("SGD lr ×10 = 0.15", 0.015) == "SGD lr ×10 = 0.15"  # not its lr
    assert lr_template("", 0.1) == ""


def test_l4_labels_follow_the_lr_slider_and_save_the_live_number():
    scene = next(load_scene(p) for p in PATHS if p.stem.startswith("L04"))
    s = Session(fast=False)
    apply_scene(scene, s)
    assert [s.spec_label(i) for i in range(3)] == [
        "SGD lr ×0.1 = 0.0015", "SGD lr ×1 = 0.015", "SGD lr ×10 = 0.15"]
    s.update_run(1, lr=0.02)
    assert s.spec_label(1) == "SGD lr ×1 = 0.02"
    s.set_same_lr(True, 0.005)
    assert [s.spec_label(i) for i in range(3)] == [
        "SGD lr ×0.1 = 0.005", "SGD lr ×1 = 0.005", "SGD lr ×10 = 0.005"]
    s.set_same_lr(False)
    back = scene_from_session(s, base=scene)
    assert [r.label for r in back.runs] == [
        "SGD lr ×0.1 = 0.0015", "SGD lr ×1 = 0.02", "SGD lr ×10 = 0.15"]
    again = Session(fast=False)
    apply_scene(loads_scene(dumps_scene(back)), again)
    assert again.spec_label(1) == "SGD lr ×1 = 0.02"


# ------------------------------------------------------------------ scene view state
def test_scene_view_state_is_applied_and_saved(session):
    scene = load_scene(PATHS[0])
    scene = dataclasses.replace(scene, view=dataclasses.replace(
        scene.view, levels=37, scale="log", heatmap=False))
    apply_scene(scene, session)
    assert (session.levels, session.scale, session.heatmap) == (37, "log", False)
    session.set_view_options(levels=12, heatmap=True, scale="linear")
    back = scene_from_session(session, base=scene)
    assert (back.view.levels, back.view.scale, back.view.heatmap) == (12, "linear", True)


def test_the_theme_sends_its_own_event_only(session):
    """The theme is the user's, not the demo's (a scene never carries it): it sent a
    settings change too, and every view fed its runs' curves again, the panels re-read
    the session and the demo counted as edited."""
    c = Counts(session)
    session.set_view_options(theme="dark")
    assert c.changed() == {"theme": 1}
    assert c.fired() == {}
    assert session.theme == "dark"
