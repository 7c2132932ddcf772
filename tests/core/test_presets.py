"""The shipped lesson presets (resources/scenes/*.toml): they load, are in canonical form,
round-trip byte for byte, run without surprise divergence, and show their lesson."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gdviz.core.scene import (LANGS, build_runset, dumps_scene, load_scene, loads_scene,
                              preset_paths, save_scene)

PATHS = preset_paths()
IDS = [p.stem for p in PATHS]

#: characters that only appear in one of the two scripts (a typo guard for the captions)
TRADITIONAL_ONLY = set("學習參數驗擬過損訓點優隨層這個們會與權階調樣從讓寫圖網絡開")
SIMPLIFIED_ONLY = set("学习参数验拟过损训点优随层这个们会与权阶调样从让写图网络开")


def lesson_scene(lesson: str):
    for p in PATHS:
        if p.stem.startswith(lesson + "_"):
            return load_scene(p)
    raise AssertionError(f"no preset for {lesson}")


def race(scene, steps: int):
    """Run the scene headless (numpy twins) for ``steps`` steps."""
    rs, runs = build_runset(scene, fast=False)
    rs.advance(steps)
    return rs, runs


def test_every_lesson_has_one_preset():
    lessons = sorted(p.stem[:3] for p in PATHS if re.match(r"L\d\d_", p.stem))
    # L01..L15, then the lessons of the many-runs issue (L16.. as they land), one file each
    assert lessons[:15] == [f"L{i:02d}" for i in range(1, 16)]
    assert len(set(lessons)) == len(lessons) and all(int(x[1:]) <= 30 for x in lessons)
    assert {"L16", "L17", "L18", "L19"} <= set(lessons)  # maps, lr finder, networks
    assert {"L20", "L21"} <= set(lessons)  # classification (branch classify)
    assert "default_rosenbrock_race" in IDS
    assert len(PATHS) == len(lessons) + 1


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_preset_loads_and_has_captions(path):
    scene = load_scene(path)
    if path.stem.startswith("L"):
        assert scene.meta.lesson == path.stem[:3]
    for lang in LANGS:
        title, caption = scene.title.get(lang), scene.caption.get(lang)
        assert title and caption, (path.stem, lang)
        assert 150 <= len(caption) <= 900, (path.stem, lang, len(caption))
    assert scene.title.zh_Hant and scene.title.zh_Hans and scene.caption.zh_Hant and scene.caption.zh_Hans
    assert not set(scene.caption.zh_Hans + scene.title.zh_Hans) & TRADITIONAL_ONLY, path.stem
    assert not set(scene.caption.zh_Hant + scene.title.zh_Hant) & SIMPLIFIED_ONLY, path.stem


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_preset_round_trips_through_tomli_w(path, tmp_path):
    # the shipped files are hand-formatted (one-line arrays); gdviz writes them with
    # tomli-w, and what it writes reads back as the same scene, byte-stable on resave
    scene = load_scene(path)
    text = dumps_scene(scene)
    assert loads_scene(text) == scene
    out = tmp_path / path.name
    save_scene(scene, out)
    assert out.read_text(encoding="utf-8") == text
    assert load_scene(out) == scene
    first = out.read_bytes()
    save_scene(load_scene(out), out)
    assert out.read_bytes() == first


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_preset_runs_50_steps_without_surprise_divergence(path):
    scene = load_scene(path)
    rs, runs = race(scene, 50)
    assert rs.t == 50
    for r, run in enumerate(runs):
        if not run.expect_diverge:
            assert rs.diverged_at[r] < 0, f"{path.stem}: {run.id} diverged at {rs.diverged_at[r]}"
            assert np.isfinite(rs.loss[r])


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_no_surprise_divergence_over_the_whole_lesson(path):
    scene = load_scene(path)
    steps = min(scene.playback.max_steps, 1500)
    rs, runs = race(scene, steps)
    for r, run in enumerate(runs):
        if run.expect_diverge:
            assert rs.diverged_at[r] >= 0, f"{path.stem}: {run.id} was meant to diverge"
        else:
            assert rs.diverged_at[r] < 0, f"{path.stem}: {run.id} diverged at {rs.diverged_at[r]}"


# ----------------------------------------------------------------------------- each lesson shows its point

def test_l04_learning_rates_small_right_large():
    scene = lesson_scene("L04")
    lrs = [r.opt.lr for r in scene.runs]
    assert lrs[0] == pytest.approx(lrs[1] * 0.1) and lrs[2] == pytest.approx(lrs[1] * 10)
    assert [r.expect_diverge for r in scene.runs] == [False, False, True]
    rs, _ = race(scene, scene.playback.max_steps)
    small, right, _large = rs.loss
    assert right < 1e-3 < small  # about right reaches the bottom; too small is still far away
    assert 0 <= rs.diverged_at[2] <= 60  # too large blows up early, in view of the class


def test_l05_starts_end_in_different_minima():
    from gdviz.core.surfaces import SURFACES

    scene = lesson_scene("L05")
    rs, _ = race(scene, scene.playback.max_steps)
    minima = np.array(SURFACES["himmelblau"].minima)
    reached = [int(np.argmin(np.linalg.norm(minima - p, axis=1))) for p in rs.params]
    dist = [float(np.min(np.linalg.norm(minima - p, axis=1))) for p in rs.params]
    assert max(dist) < 1e-2
    assert sorted(reached) == [0, 1, 2, 3]


def test_l10_race_reaches_the_valley_minimum():
    scene = lesson_scene("L10")
    rs, runs = race(scene, scene.playback.max_steps)
    by_id = dict(zip([r.id for r in runs], rs.loss))
    assert max(by_id.values()) < 1e-2
    # per-coordinate scaling beats plain SGD along the gentle floor early on
    rs50, _ = race(scene, 50)
    early = dict(zip([r.id for r in runs], rs50.loss))
    assert early["rmsprop"] < early["sgd"] and early["adam"] < early["sgd"]


def test_l11_momentum_is_ninety_percent_last_move():
    scene = lesson_scene("L11")
    m = scene.run("momentum").opt
    assert (m.momentum, m.dampening) == (0.9, 0.9)  # m <- 0.9 m + 0.1 g
    assert scene.playback.step_mode_run == "momentum" and not scene.playback.autoplay
    assert scene.noise > 0  # noisy "daily news"
    rs, runs = race(scene, scene.playback.max_steps)
    ids = [r.id for r in runs]

    def path_length(r):
        p, _ = rs.trajectory(r)
        return float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum())

    # averaging the news makes a calmer, shorter path than following every gradient
    assert path_length(ids.index("momentum")) < 0.75 * path_length(ids.index("sgd"))


def test_l12_one_cycle_ends_lower_than_constant():
    scene = lesson_scene("L12")
    assert [r.opt.schedule.kind for r in scene.runs] == ["constant", "one-cycle"]
    rs, _ = race(scene, scene.playback.max_steps)
    assert rs.loss[1] < rs.loss[0]


def test_l14_momentum_escapes_the_saddle_before_sgd():
    scene = lesson_scene("L14")
    assert scene.starts[0][1] == pytest.approx(1e-3)
    rs, runs = race(scene, scene.playback.max_steps)

    def escape_step(r):
        p, _ = rs.trajectory(r)
        out = np.nonzero(np.abs(p[:, 1]) > 1.0)[0]
        return int(out[0]) if out.size else 10**9

    ids = [r.id for r in runs]
    sgd, mom = escape_step(ids.index("sgd")), escape_step(ids.index("momentum"))
    assert mom < scene.playback.max_steps < sgd
    # SGD really does stall next to the saddle meanwhile
    p, _ = rs.trajectory(ids.index("sgd"))
    assert np.abs(p[mom]).max() < 0.5


def _train_val(scene, steps):
    rs, _ = race(scene, 0)
    from gdviz.core.scene import build_fit_problem

    problem = build_fit_problem(scene, fast=False)
    train, val = [], []
    for _ in range(steps // 100):
        rs.advance(100)
        train.append(float(problem.loss(rs.params)[0]))
        val.append(float(problem.val_loss(rs.params)[0]))
    return np.array(train), np.array(val)


def test_l09_overfits_and_l13_weight_decay_helps():
    l9, l13 = lesson_scene("L09"), lesson_scene("L13")
    steps = l9.playback.max_steps
    train, val = _train_val(l9, steps)
    assert train[-1] < train[len(train) // 4]           # training loss keeps falling
    assert val[-1] > 1.5 * val.min()                    # validation loss turns and rises
    _, val_wd = _train_val(l13, steps)
    assert val_wd[-1] < val[-1]                         # weight decay: less overfitting


def test_l01_starts_paused_with_fast_ai_start():
    scene = lesson_scene("L01")
    assert not scene.playback.autoplay
    assert scene.fit.init == (1.1, 1.1, 1.1) and scene.fit.loss == "mae"
    assert scene.fit.points == 20 and scene.fit.target == "quadratic"
    l2 = lesson_scene("L02")
    assert l2.fit.loss == "mse" and l2.fit.seed == scene.fit.seed  # same data, other loss


def test_l06_minibatches_make_epochs():
    scene = lesson_scene("L06")
    rs, _ = race(scene, 0)
    from gdviz.core.scene import build_problem

    problem = build_problem(scene, fast=False)
    assert problem.batches_per_epoch == scene.problem.regression.n // scene.batch_size == 10
    assert scene.problem.regression.batch_surface


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_preset_applies_to_a_session(path):
    from gdviz.core.scene import apply_scene, scene_from_session, scene_runs
    from gdviz.core.session import Session

    scene = load_scene(path)
    session = Session(fast=False)
    apply_scene(scene, session)
    runs = scene_runs(scene)
    assert session.kind == scene.problem.kind
    assert len(session.specs) == len(runs)
    n_starts = 1 if scene.problem.kind in ("fit", "classify") else len(scene.starts)
    assert session.n_runs == len(runs) * n_starts
    # the session replays exactly what the headless engine does
    rs, _ = race(scene, 50)
    session.step(50)
    np.testing.assert_allclose(session.positions(), rs.params, rtol=1e-12, atol=1e-12)
    for r, run in enumerate(runs):
        if not run.expect_diverge:
            assert (r, 50) not in session.diverged()
    # it saves to a scene that replays the same race (every hyperparameter spelled out)
    back = scene_from_session(session, base=scene)
    assert [r.id for r in scene_runs(back)] == [r.id for r in runs]
    assert back.problem == scene.problem and back.meta == scene.meta
    text = dumps_scene(back)
    assert dumps_scene(loads_scene(text)) == text
    again = Session(fast=False)
    apply_scene(loads_scene(text), again)
    again.step(50)
    np.testing.assert_array_equal(again.positions(), session.positions())
    assert session.max_steps == scene.playback.max_steps and not session.playing
