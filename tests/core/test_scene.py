"""Scene files: the schema, reading and validation messages, and the tomli-w round trip."""

from __future__ import annotations

import dataclasses

import pytest
from scene_samples import MINIMAL, bad, full_scene, run_table

from gdviz.core.scene import (FORMAT_VERSION, MAX_BYTES, Fit, OptimizerSettings, Playback, Run,
                              Scene, SceneError, ScheduleSettings, Text, View, dumps_scene,
                              load_scene, loads_scene, save_scene, validate_scene)


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
    vals = [0.1, 1 / 3, 1e-300, 123456789.123456789, -2.5e-8, 9.876543210123e11]  # |v| <= limits.MAX_COORD
    s = Scene(starts=tuple((v, -v) for v in vals), runs=full_scene().runs[1:2])
    assert loads_scene(dumps_scene(s)).starts == s.starts


def test_integers_are_accepted_for_floats_and_written_as_floats():
    s = loads_scene(MINIMAL.replace("lr = 0.05", "lr = 1").replace("[-1.5, 2.0]", "[-1, 2]"))
    assert s.runs[0].opt.lr == 1.0 and isinstance(s.runs[0].opt.lr, float)
    assert "lr = 1.0" in dumps_scene(s)
    text = dumps_scene(s)
    assert "\n    [-1.0, 2.0],\n" in text  # points: a row a line (rows_text)
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


def test_a_scene_is_checked_once(monkeypatch):
    # a loaded (or validated) scene is not checked again when applied; a changed copy is
    import gdviz.core.scene.schema as schema

    s = loads_scene(MINIMAL)
    calls = []
    real = schema._validate
    monkeypatch.setattr(schema, "_validate", lambda sc: (calls.append(sc), real(sc))[1])
    assert validate_scene(s) is s and validate_scene(s) is s
    assert calls == []
    bad_copy = dataclasses.replace(s, playback=Playback(max_steps=1_000_001))
    for _ in range(2):  # an invalid scene stays invalid, every time it is asked
        with pytest.raises(SceneError, match="max_steps"):
            validate_scene(bad_copy)
    good = dataclasses.replace(s, seed=3)
    assert validate_scene(good) is good and validate_scene(good) is good
    assert calls == [good]


@pytest.mark.parametrize("change, message", [
    (dict(playback=Playback(max_steps=1_000_001)),
     r"^<scene>: \[playback\] max_steps = 1000001 is invalid: max_steps must be between 1 and "
     r"1000000$"),
    (dict(playback=Playback(max_steps=500.0)),
     r"^<scene>: \[playback\] max_steps must be an integer, got 500\.0$"),
    (dict(view=View(scale="log2")), r"^<scene>: \[view\] scale = 'log2' is invalid; did you mean"),
    (dict(starts=((0.0, float("nan")),)), r"^<scene>: starts\[0\] = nan is invalid: must be a finite"),
])
def test_validate_scene_checks_every_field_of_built_scenes(change, message):
    # as a file would be checked: a built scene that validates always saves and loads back
    s = dataclasses.replace(Scene(runs=full_scene().runs[1:2]), **change)
    with pytest.raises(SceneError, match=message):
        validate_scene(s)


def test_suggestion_not_given_when_nothing_is_close():
    with pytest.raises(SceneError, match=r"unknown key 'zzz' in \[runs\.x\]$"):
        loads_scene(run_table("zzz = 1"))


def test_a_scene_text_read_again_is_not_parsed_again(monkeypatch, tmp_path):
    """A lesson opened again (the same text from the same file) gives the scene parsed the
    first time (scenes are immutable), without parsing or checking it again; another text,
    or a text that fails, is parsed every time; the parsed scenes kept are bounded."""
    import gdviz.core.scene.toml_io as toml_io

    calls = []
    real = toml_io._parse_table
    monkeypatch.setattr(toml_io, "_parse_table", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(toml_io, "_parsed", type(toml_io._parsed)())
    path = tmp_path / "a.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    first = load_scene(path)
    assert load_scene(path) is first and len(calls) == 1
    path.write_text(MINIMAL.replace("version = 1", "version = 1\nseed = 7"), encoding="utf-8")
    changed = load_scene(path)
    assert changed is not first and changed.seed == 7 and len(calls) == 2
    for _ in range(2):  # an invalid text stays invalid, every time it is read
        with pytest.raises(SceneError):
            loads_scene(MINIMAL.replace("version = 1", "version = 1\nseed = -5"))
    assert len(calls) == 4
    for seed in range(toml_io.PARSED_KEPT + 5):
        loads_scene(MINIMAL.replace("version = 1", f"version = 1\nseed = {seed}"))
    assert len(toml_io._parsed) == toml_io.PARSED_KEPT
