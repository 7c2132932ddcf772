"""Scene files: schema, validation messages, the deterministic writer, atomic save,
the session bridge, and the UI-language helpers (gdviz.core.i18n)."""

from __future__ import annotations

import dataclasses

import os
import re

import pytest

from gdviz.core.scene import (FORMAT_VERSION, MAX_BYTES, Export, Fit, Meta, OptimizerSettings, Playback,
                              Problem, Regression, Run, Scene, SceneError, ScheduleSettings, Text,
                              View, apply_scene, dumps_scene, load_scene, loads_scene,
                              save_scene, scene_from_session, validate_scene)

MINIMAL = """\
version = 1
starts = [[-1.5, 2.0]]

[problem]
kind = "surface"
surface = "rosenbrock"

[runs.adam]
optimizer = "adam"
lr = 0.05
"""


def bad(text: str) -> str:
    """MINIMAL with ``text`` appended (TOML allows new tables at the end)."""
    return MINIMAL + "\n" + text


def run_table(body: str, rid: str = "x", optimizer: str = "adam") -> str:
    return bad(f'[runs.{rid}]\noptimizer = "{optimizer}"\n{body}\n')


def full_scene() -> Scene:
    """A scene with every field set to something other than its default."""
    return Scene(
        seed=7, noise=0.25, batch_size=4, starts=((-1.25, 2.5), (0.5, -0.75)),
        same_lr=True, shared_lr=0.003,
        meta=Meta(lesson="L99", title=Text("Title \"quoted\"", "標題", "标题"),
                  caption=Text("Line one\nline two\ttab \\ backslash", "說明", "说明")),
        problem=Problem(kind="surface", surface="himmelblau", expr="x^2 + 3*y^2",
                        regression=Regression(n=80, w=-1.5, b=0.25, noise=0.75, seed=3,
                                              loss="mae", batch_surface=True,
                                              data=((0.0, 1.0), (1.5, -2.25), (3.0, 4.0)))),
        view=View(box=(-6.0, 6.0, -5.5, 5.5), levels=33, scale="linear", heatmap=False),
        playback=Playback(speed=123.5, max_steps=4321, step_mode_run="b", autoplay=False),
        export=Export(fps=24, size=(1920, 1080), steps=111, steps_per_frame=3,
                      panels=("landscape", "fit", "loss", "caption")),
        fit=Fit(enabled=True, target="sine", target_expr="sin(3*x) + 0.5*x", model="relu",
                units=4, points=33, noise=0.2, seed=9, val_fraction=0.3, loss="mae",
                batch_size=8, weight_decay=0.001, show_units=True,
                init=tuple(float(i) / 4 for i in range(13)), linked=("w1", "c2"),
                data=((-1.0, 0.5), (0.0, 0.25), (1.0, 2.0)),
                run=OptimizerSettings(optimizer="rmsprop", lr=0.002, alpha=0.95, eps=1e-06,
                                      momentum=0.5, centered=True)),
        runs=(
            Run(id="a", label="SGD ×10", enabled=False, expect_diverge=True,
                opt=OptimizerSettings(optimizer="momentum", lr=0.15, momentum=0.5, dampening=0.25,
                                      weight_decay=0.0)),
            Run(id="b", label="Adam", opt=OptimizerSettings(
                optimizer="adam", lr=0.01, beta1=0.85, beta2=0.995, eps=1e-08,
                weight_decay=0.0001, amsgrad=True,
                schedule=ScheduleSettings("one-cycle", (("pct_start", 0.3),
                                                        ("moms", (0.9, 0.8, 0.9)))))),
            Run(id="c d", label="Adagrad (quoted id)", opt=OptimizerSettings(
                optimizer="adagrad", lr=0.5, lr_decay=0.001, initial_accumulator_value=0.1)),
        ),
    )


# ----------------------------------------------------------------------------- round trip

def test_minimal_scene_loads_with_defaults():
    s = loads_scene(MINIMAL)
    assert s.version == FORMAT_VERSION
    assert s.problem.surface == "rosenbrock"
    assert [r.id for r in s.runs] == ["adam"]
    assert s.runs[0].opt.lr == 0.05 and s.runs[0].opt.beta1 is None
    assert s.playback == Playback() and s.view == View() and s.fit == Fit()


def test_full_scene_is_valid_and_round_trips_byte_for_byte():
    s = validate_scene(full_scene())
    text = dumps_scene(s)
    again = loads_scene(text)
    assert again == s
    assert dumps_scene(again) == text


def test_every_field_of_the_full_scene_differs_from_its_default():
    # guards full_scene(): a new field must be added there too, or round trips miss it
    import dataclasses

    from gdviz.core.scene import HYPER_ORDER

    def walk(obj, default, path):
        for f in dataclasses.fields(obj):
            v, d = getattr(obj, f.name), getattr(default, f.name)
            if f.name in ("version", "id", "run", "opt", "kind"):
                continue
            if dataclasses.is_dataclass(v) and f.name != "schedule":
                walk(v, d, f"{path}.{f.name}")
            else:
                assert v != d, f"{path}.{f.name} is still the default"

    s = full_scene()
    walk(s, Scene(), "scene")
    from gdviz.core.optimizers import OPTIMIZERS

    opts = [r.opt for r in s.runs] + [s.fit.run]
    settable = {f for spec in OPTIMIZERS.values() for f in spec.fields}
    for name in (n for n in HYPER_ORDER if n in settable):
        assert any(getattr(o, name) is not None for o in opts), name
    assert any(o.schedule != ScheduleSettings() for o in opts)


def test_save_load_save_is_byte_identical(tmp_path):
    p = tmp_path / "scene.toml"
    save_scene(full_scene(), p)
    first = p.read_bytes()
    save_scene(load_scene(p), p)
    assert p.read_bytes() == first


def test_writer_is_deterministic_and_uses_repr_floats():
    s = full_scene()
    text = dumps_scene(s)
    assert text == dumps_scene(s)
    assert "eps = 1e-06" in text
    assert "noise = 0.25" in text
    assert '[runs."c d"]' in text
    assert "zh-Hant = " in text
    # keys appear in schema order: top-level values before any table
    assert text.index("version = 1") < text.index("seed = 7") < text.index("[meta]")


def test_floats_survive_exactly():
    vals = [0.1, 1 / 3, 1e-300, 123456789.123456789, -2.5e-8, 1e16]
    s = Scene(starts=tuple((v, -v) for v in vals), runs=full_scene().runs[1:2])
    assert loads_scene(dumps_scene(s)).starts == s.starts


def test_integers_are_accepted_for_floats_and_written_as_floats():
    s = loads_scene(MINIMAL.replace("lr = 0.05", "lr = 1").replace("[-1.5, 2.0]", "[-1, 2]"))
    assert s.runs[0].opt.lr == 1.0 and isinstance(s.runs[0].opt.lr, float)
    assert "lr = 1.0" in dumps_scene(s)
    text = dumps_scene(s)
    assert "        -1.0,\n        2.0,\n" in text  # tomli-w: one array item a line
    assert loads_scene(text).starts == ((-1.0, 2.0),)


def test_run_order_is_kept():
    text = MINIMAL + '\n[runs.zeta]\noptimizer = "sgd"\n\n[runs.alpha]\noptimizer = "sgd"\n'
    s = loads_scene(text)
    assert [r.id for r in s.runs] == ["adam", "zeta", "alpha"]
    assert [r.id for r in loads_scene(dumps_scene(s)).runs] == ["adam", "zeta", "alpha"]


def test_bom_and_crlf_are_tolerated(tmp_path):
    p = tmp_path / "win.toml"
    p.write_bytes(b"\xef\xbb\xbf" + MINIMAL.replace("\n", "\r\n").encode())
    assert load_scene(p).runs[0].id == "adam"


def test_caption_falls_back_to_english():
    t = Text(en="Hello", zh_Hant="你好")
    assert t.get("zh-Hant") == "你好"
    assert t.get("zh-Hans") == "Hello"
    assert t.get("fr") == "Hello"


# ----------------------------------------------------------------------------- messages

@pytest.mark.parametrize("text, message", [
    # unknown keys, with a suggestion
    (run_table("lr_rate = 0.1", rid="adam2"),
     r"^scene\.toml: unknown key 'lr_rate' in \[runs\.adam2\]; did you mean 'lr'\?$"),
    (run_table("learning_rate = 0.1"), r"unknown key 'learning_rate' in \[runs\.x\]; did you mean 'lr'\?"),
    (run_table("momentun = 0.9", optimizer="momentum"), r"did you mean 'momentum'\?"),
    (run_table("beta_1 = 0.9"), r"did you mean 'beta1'\?"),
    (MINIMAL.replace("version = 1", "version = 1\nsed = 3"),
     r"unknown key 'sed' at the top level; did you mean 'seed'\?"),
    (bad("[veiw]\nlevels = 3"), r"unknown key 'veiw' at the top level; did you mean 'view'\?"),
    (bad("[view]\nlevles = 3"), r"unknown key 'levles' in \[view\]; did you mean 'levels'\?"),
    (bad("[meta.title]\nzh_Hant = 'x'"), r"unknown key 'zh_Hant' in \[meta\.title\]; did you mean 'zh-Hant'\?"),
    # wrong types
    (run_table('lr = "fast"'), r"^scene\.toml: \[runs\.x\] lr must be a number, got 'fast'$"),
    (run_table("amsgrad = 1"), r"\[runs\.x\] amsgrad must be true or false, got 1"),
    (bad("[playback]\nmax_steps = 1.5"), r"\[playback\] max_steps must be an integer, got 1\.5"),
    (bad("[view]\nheatmap = 'yes'"), r"\[view\] heatmap must be true or false, got 'yes'"),
    (bad("[view]\nbox = [1, 2, 3]"), r"\[view\] box must be a list of 4 numbers, got 3 values"),
    (MINIMAL.replace("[[-1.5, 2.0]]", "[[1, 2], [3]]"), r"starts\[1\] must be a point \[x, y\], got \[3\]"),
    (MINIMAL.replace("[[-1.5, 2.0]]", "[[1, true]]"), r"starts\[0\] must be a number, got true"),
    (MINIMAL.replace("[[-1.5, 2.0]]", "[[1, nan]]"), r"starts\[0\] = nan is invalid: must be a finite number"),
    (bad("[meta]\ntitle = 'x'"), r"\[meta\.title\] must be a table, got 'x'"),
    (bad("[export]\npanels = ['landscape', 'los']"), r"\[export\] panels: unknown entry 'los'; did you mean 'loss'\?"),
    # ranges
    (run_table("lr = -1"), r"^scene\.toml: \[runs\.x\] lr = -1 is invalid: learning rate must be > 0"),
    (run_table("beta1 = 1.2"), r"\[runs\.x\] beta1 = 1\.2 is invalid: beta must be in \[0, 1\)$"),
    (run_table("momentum = -0.5", optimizer="momentum"), r"\[runs\.x\] momentum = -0\.5 is invalid: momentum must be in \[0, 1\)"),
    (bad("[view]\nlevels = 1"), r"\[view\] levels = 1 is invalid: levels must be between 2 and 200"),
    (bad("[playback]\nspeed = 0"), r"\[playback\] speed = 0 is invalid: speed must be > 0"),
    (MINIMAL.replace("version = 1", "version = 1\nnoise = -0.1"), r"noise = -0\.1 is invalid: noise must be >= 0"),
    (bad("[fit]\nenabled = true\nval_fraction = 0.9"), r"\[fit\] val_fraction = 0\.9 is invalid: val_fraction must be between 0 and 0\.5"),
    (bad("[view]\nbox = [1, 0, 0, 1]"), r"\[view\] box = \[1\.0, 0\.0, 0\.0, 1\.0\] is invalid: need x0 < x1 and y0 < y1"),
    (bad("[view]\nscale = 'lg'"), r"\[view\] scale = 'lg' is invalid; did you mean 'log'\? \(choose from auto, log, linear\)"),
    # hyperparameters that do not apply to the optimizer
    (run_table("beta1 = 0.9", optimizer="sgd"), r"\[runs\.x\] beta1 does not apply to sgd \(its hyperparameters: .*lr"),
    # unknown names, with suggestions
    (run_table("", optimizer="adamm"), r"\[runs\.x\] optimizer = 'adamm': unknown optimizer; did you mean 'adam'\?"),
    (MINIMAL.replace('"rosenbrock"', '"rosenbrok"'), r"\[problem\] surface = 'rosenbrok': unknown surface; did you mean 'rosenbrock'\?"),
    (bad("[fit]\nenabled = true\ntarget = 'sinus'"), r"\[fit\] target = 'sinus': unknown target; did you mean 'sine'\?"),
    (bad("[fit]\nenabled = true\nmodel = 'sigmoids'"), r"\[fit\] model = 'sigmoids': unknown model; did you mean 'sigmoid'\?"),
    (bad("[playback]\nstep_mode_run = 'adan'"), r"\[playback\] step_mode_run = 'adan' is not a run; did you mean 'adam'\?"),
    (bad("[runs.x]\noptimizer = 'sgd'\n[runs.x.schedule]\nkind = 'one-cycel'"),
     r"\[runs\.x\.schedule\] kind = 'one-cycel': unknown schedule; did you mean 'one-cycle'\?"),
    (bad("[runs.x]\noptimizer = 'sgd'\n[runs.x.schedule]\nkind = 'cosine'\ngamma = 0.5"),
     r"\[runs\.x\.schedule\] gamma does not apply to a cosine schedule \(it has none\)"),
    (bad("[runs.x]\noptimizer = 'sgd'\n[runs.x.schedule]\nkind = 'one-cycle'\npct_start = 1.5"),
     r"\[runs\.x\.schedule\] Invalid pct_start: 1\.5 \(must be in \(0, 1\)\)"),
    (bad("[runs.x]\noptimizer = 'sgd'\n[runs.x.schedule]\nkind = 'one-cycle'\nmoms = [0.9, 0.8]"),
     r"\[runs\.x\.schedule\] moms must be a list of 3 numbers, got \[0\.9, 0\.8\]"),
    # expressions go through the safe language only
    (MINIMAL.replace('kind = "surface"', 'kind = "expr"\nexpr = "__import__(\'os\')"'),
     r"^scene\.toml: \[problem\] expr = .*: .*"),
    (MINIMAL.replace('kind = "surface"', 'kind = "expr"\nexpr = "x^2 + z"'), r"\[problem\] expr = 'x\^2 \+ z': unknown name 'z'"),
    (bad("[fit]\nenabled = true\ntarget_expr = 'sin(x) + y'"), r"\[fit\] target_expr = 'sin\(x\) \+ y': .*'y'"),
    (MINIMAL.replace('kind = "surface"', 'kind = "expr"'), r"\[problem\] kind = 'expr' needs expr"),
    # structure
    (MINIMAL.split("[runs.adam]")[0], r"\[runs\] a surface problem needs at least one run"),
    (MINIMAL.replace("[[-1.5, 2.0]]", "[]"), r"starts is empty"),
    (bad("[fit]\nrun = {optimizer = 'adam', weight_decay = 0.1}"), r"\[fit\.run\] weight_decay: set it once, as \[fit\] weight_decay"),
    (bad("[fit]\nenabled = true\nmodel = 'quadratic'\ninit = [1.0, 2.0]"), r"\[fit\] init has 2 values; model 'quadratic' has 3 parameters \(a, b, c\)"),
    (bad("[fit]\nenabled = true\nmodel = 'linear'\nlinked = ['w', 'bb']"), r"\[fit\] linked = 'bb': unknown parameter; did you mean 'b'\?"),
])
def test_invalid_scene_messages(text, message):
    with pytest.raises(SceneError, match=message) as info:
        loads_scene(text, source="/some/dir/scene.toml")
    msg = str(info.value)
    assert msg.startswith("scene.toml"), msg
    assert "\n" not in msg


def test_scene_error_is_a_value_error():
    assert issubclass(SceneError, ValueError)


def test_toml_syntax_error_names_the_line():
    text = 'version = 1\nseed = 3\nnoise = \nbatch_size = 2\n'
    with pytest.raises(SceneError, match=r"^scene\.toml line 3: Invalid value \(column 9\)$"):
        loads_scene(text, source="scene.toml")


def test_toml_duplicate_table_names_the_line():
    with pytest.raises(SceneError, match=r"^scene\.toml line 12: Cannot declare \('runs', 'adam'\) twice \(column 11\)$"):
        loads_scene(MINIMAL + '\n[runs.adam]\n', source="scene.toml")


def test_missing_version():
    with pytest.raises(SceneError, match=r"^scene\.toml: missing 'version' \(add version = 1 at the top\)$"):
        loads_scene(MINIMAL.replace("version = 1\n", ""), source="scene.toml")


def test_newer_version():
    with pytest.raises(SceneError, match=r"^scene\.toml: version = 2 is newer than this gdviz understands "
                                         r"\(it reads version 1\); update gdviz$"):
        loads_scene(MINIMAL.replace("version = 1", "version = 2"), source="scene.toml")


@pytest.mark.parametrize("value, message", [
    ("0", r"version = 0 is invalid: versions start at 1"),
    ('"1"', r"version must be an integer, got '1'"),
])
def test_bad_version_values(value, message):
    with pytest.raises(SceneError, match=message):
        loads_scene(MINIMAL.replace("version = 1", f"version = {value}"))


def test_default_source_name():
    with pytest.raises(SceneError, match=r"^<string>: missing 'version'"):
        loads_scene("")


def test_missing_file_and_non_utf8(tmp_path):
    with pytest.raises(SceneError, match=r"^nope\.toml: cannot read: "):
        load_scene(tmp_path / "nope.toml")
    p = tmp_path / "latin1.toml"
    p.write_bytes(b"version = 1\ntitle = '\xe9'\n")
    with pytest.raises(SceneError, match=r"^latin1\.toml line 2: not UTF-8 text$"):
        load_scene(p)


def test_oversized_file_is_refused(tmp_path):
    p = tmp_path / "big.toml"
    p.write_bytes(b"#" * (MAX_BYTES + 1))
    with pytest.raises(SceneError, match=r"^big\.toml: .* too big"):
        load_scene(p)


def test_validate_scene_checks_built_scenes():
    s = Scene(runs=(Run(id="x", opt=OptimizerSettings(optimizer="adam", lr=-1.0)),))
    with pytest.raises(SceneError, match=r"^<scene>: \[runs\.x\] lr = -1 is invalid"):
        validate_scene(s)


def test_suggestion_not_given_when_nothing_is_close():
    with pytest.raises(SceneError, match=r"unknown key 'zzz' in \[runs\.x\]$"):
        loads_scene(run_table("zzz = 1"))


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


# ----------------------------------------------------------------------------- i18n

@pytest.mark.parametrize("tag, lang", [
    ("zh_TW.UTF-8", "zh-Hant"), ("zh_HK", "zh-Hant"), ("zh_MO.utf8", "zh-Hant"),
    ("zh-Hant-HK", "zh-Hant"), ("zh_CN.UTF-8", "zh-Hans"), ("zh_SG", "zh-Hans"),
    ("zh-Hans", "zh-Hans"), ("zh", "zh-Hans"), ("en_US.UTF-8", "en"), ("en_GB", "en"),
    ("fr_FR.UTF-8", "en"), ("C", "en"), ("POSIX", "en"), ("C.UTF-8", "en"),
    ("Chinese (Traditional)_Taiwan", "zh-Hant"), ("Chinese (Simplified)_China", "zh-Hans"),
    ("English_United States", "en"), ("", None), (None, None),
])
def test_normalize_language(tag, lang):
    from gdviz.core.i18n import normalize_language

    assert normalize_language(tag) == lang


@pytest.mark.parametrize("env, lang", [
    ({"LANG": "zh_TW.UTF-8"}, "zh-Hant"),
    ({"LANG": "zh_CN.UTF-8"}, "zh-Hans"),
    ({"LANG": "de_DE.UTF-8"}, "en"),
    ({"LC_ALL": "zh_HK.UTF-8", "LANG": "en_US.UTF-8"}, "zh-Hant"),
    ({"LANGUAGE": "zh_CN:en", "LANG": "zh_TW.UTF-8"}, "zh-Hans"),
    ({"GDVIZ_LANG": "zh-Hant", "LANG": "zh_CN.UTF-8"}, "zh-Hant"),
    ({}, "en"),
])
def test_detect_language_from_environment(env, lang):
    from gdviz.core.i18n import detect_language

    assert detect_language(env, use_locale=False) == lang


def test_detect_language_falls_back_to_locale(monkeypatch):
    import locale

    from gdviz.core import i18n

    monkeypatch.setattr(locale, "getlocale", lambda *a: ("zh_TW", "UTF-8"))
    assert i18n.detect_language({}) == "zh-Hant"
    monkeypatch.setattr(locale, "getlocale", lambda *a: (None, None))
    assert i18n.detect_language({}) == "en"


def test_tr_vocabulary():
    from gdviz.core.i18n import LANGUAGES, TERMS, tr

    vocab = ["loss", "learning_rate", "batch_size", "iteration", "epoch", "gradient",
             "momentum", "parameter", "training_set", "validation_set", "overfitting"]
    for key in vocab:
        for lang in LANGUAGES:
            assert tr(key, lang), (key, lang)
    assert tr("learning_rate", "zh-Hant") == "學習率"
    assert tr("learning_rate", "zh-Hans") == "学习率"
    assert tr("overfitting", "zh-Hant") == "過度擬合"
    assert tr("overfitting", "zh-Hans") == "过拟合"
    assert tr("gradient", "en") == "gradient"
    assert tr("loss", "zh_TW") == "損失"          # locale names are understood
    assert tr("loss", "fr") == "loss"            # unknown language: English
    assert tr("no_such_key", "zh-Hant") == "no_such_key"
    assert tr("diverged_at", "en", step=12) == "diverged at step 12"
    assert tr("diverged_at", "zh-Hans", step=12) == "第 12 步发散"
    assert set(TERMS["en"]) == set(TERMS["zh-Hant"]) == set(TERMS["zh-Hans"])
    # Simplified and Traditional differ where the scripts do
    assert re.search("[損學參驗]", "".join(TERMS["zh-Hans"].values())) is None
