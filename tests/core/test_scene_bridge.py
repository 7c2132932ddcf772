"""The scene <-> session bridge: apply_scene and scene_from_session."""

from __future__ import annotations

import dataclasses

import pytest
from scene_samples import MINIMAL

from gdviz.core.scene import (Fit, OptimizerSettings, Playback, Problem, Regression, Run, Scene,
                              SceneError, ScheduleSettings, apply_scene, dumps_scene, loads_scene,
                              scene_from_session, validate_scene)


# ----------------------------------------------------------------------------- session bridge

def _session():
    from gdviz.core.session import Session

    return Session(fast=False)


def test_apply_scene_installs_everything_the_session_holds():
    scene = loads_scene(MINIMAL + """
[runs.sgd]
optimizer = "sgd"
label = "plain"
lr = 0.001
enabled = false

[playback]
speed = 12.5
max_steps = 77
step_mode_run = "sgd"
""".replace("[playback]", "[playback]").replace("version = 1", "version = 1"))
    scene = validate_scene(scene)
    session = _session()
    session.step(5)
    events = []
    session.runs_changed.connect(lambda: events.append("runs"))
    session.problem_changed.connect(lambda: events.append("problem"))
    assert apply_scene(scene, session) is None
    assert events.count("runs") == 1 and events.count("problem") == 1  # one per view, not per setting
    assert session.landscape.name == "rosenbrock"
    assert [s.config.name for s in session.specs] == ["adam", "sgd"]
    assert session.specs[0].config.lr == 0.05
    assert session.specs[1].label == "plain" and session.specs[1].enabled is False
    assert session.starts == [(-1.5, 2.0)]
    assert session.speed == 12.5 and session.max_steps == 77
    assert session.t == 0 and not session.playing
    assert session.selected == 1
    from gdviz.core.session import OKABE_ITO
    assert session.colors == list(OKABE_ITO[:2])


def test_apply_then_read_back_replays_the_same_race():
    scene = validate_scene(Scene(
        seed=3, noise=0.1, batch_size=2, starts=((1.0, -1.0), (-2.0, 2.0)),
        problem=Problem(kind="expr", expr="x^2 + 3*y^2"),
        playback=Playback(max_steps=40, speed=10.0),
        runs=(Run(id="m", label="M", opt=OptimizerSettings(optimizer="momentum", lr=0.01)),
              Run(id="r", opt=OptimizerSettings(optimizer="rmsprop", lr=0.01,
                                                schedule=ScheduleSettings("cosine"))))))
    s1 = _session()
    apply_scene(scene, s1)
    back = scene_from_session(s1, base=scene)
    assert back.problem.kind == "expr" and back.problem.expr == "x^2 + 3*y^2"
    assert [r.id for r in back.runs] == ["m", "r"]
    assert back.runs[1].opt.schedule.kind == "cosine"
    assert back.seed == 3 and back.noise == 0.1 and back.batch_size == 2
    assert back.starts == scene.starts
    # the read-back scene writes every applicable hyperparameter and round-trips
    assert back.runs[0].opt.momentum is not None
    assert loads_scene(dumps_scene(back)) == back
    s2 = _session()
    apply_scene(back, s2)
    s1.step(40)
    s2.step(40)
    import numpy as np
    np.testing.assert_array_equal(s1.positions(), s2.positions())


def test_a_scene_that_cannot_be_applied_leaves_the_session_alone():
    session = _session()
    before = ([s.config for s in session.specs], session.landscape.name, list(session.starts))
    scene = Scene(problem=Problem(kind="surface", surface="nope"),
                  runs=(Run(id="a", opt=OptimizerSettings(optimizer="adam")),))
    with pytest.raises(SceneError, match=r"surface = 'nope': unknown surface"):
        apply_scene(scene, session)
    assert ([s.config for s in session.specs], session.landscape.name, list(session.starts)) == before


def test_data_scenes_go_into_the_session():
    scene = validate_scene(Scene(
        starts=(), problem=Problem(kind="fit"),
        fit=Fit(enabled=True, target="quadratic", model="quadratic", linked=("a", "c"),
                init=(0.5, -1.0, 2.0), weight_decay=0.01, batch_size=5,
                run=OptimizerSettings(optimizer="adam", lr=0.05))))
    session = _session()
    apply_scene(scene, session)
    assert session.kind == "fit" and session.landscape.name == "fit-slice"
    assert session.landscape.param_names == ("a", "c") and session.linked == (0, 2)
    assert session.starts == [(0.5, -1.0, 2.0)] and session.batch_size == 5
    cfg = session.specs[0].config
    assert (cfg.name, cfg.lr, cfg.weight_decay) == ("adam", 0.05, 0.01)
    back = scene_from_session(session, base=scene)
    assert back.problem.kind == "fit" and back.runs == ()
    # every hyperparameter is spelled out; the optimizer is the same one
    assert dataclasses.replace(back.fit, run=scene.fit.run) == scene.fit
    assert back.fit.run.config() == scene.fit.run.config()

    reg = validate_scene(Scene(
        starts=((-1.0, 4.0),), batch_size=8,
        problem=Problem(kind="regression", regression=Regression(n=40, batch_surface=True)),
        runs=(Run(id="sgd", opt=OptimizerSettings(optimizer="sgd", lr=0.02)),)))
    apply_scene(reg, session)
    assert session.kind == "regression" and session.landscape.param_names == ("w", "b")
    assert session.batch_size == 8 and session.batch_surface
    assert session.starts == [(-1.0, 4.0)]
    assert scene_from_session(session, base=reg).problem == reg.problem


def test_a_fit_may_race_several_optimizers():
    runs = (Run(id="plain", opt=OptimizerSettings(optimizer="adam", lr=0.05)),
            Run(id="decay", opt=OptimizerSettings(optimizer="adamw", lr=0.05, weight_decay=0.1)))
    scene = validate_scene(Scene(starts=(), problem=Problem(kind="fit"), runs=runs,
                                 fit=Fit(enabled=True, linked=("a", "b"))))
    session = _session()
    apply_scene(scene, session)
    assert session.n_specs == 2 and session.n_runs == 2
    back = scene_from_session(session, base=scene)
    assert [r.id for r in back.runs] == ["plain", "decay"] and back.fit.run == Fit().run
    with pytest.raises(SceneError, match=r"\[fit.run\] and \[runs.\*\] both set"):
        validate_scene(dataclasses.replace(scene, fit=dataclasses.replace(
            scene.fit, run=OptimizerSettings(optimizer="sgd"))))
    with pytest.raises(SceneError, match="set weight_decay in each run"):
        validate_scene(dataclasses.replace(scene, fit=dataclasses.replace(
            scene.fit, weight_decay=0.1)))
