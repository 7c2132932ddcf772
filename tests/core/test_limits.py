"""Each limit in gdviz.core.limits is the one that the scene, the session, the optimizers and
the CLI use: a value one of them accepts, none of the others refuses."""

from __future__ import annotations

import pytest
from scene_samples import MINIMAL

from gdviz.core import data, limits, models, optimizers
from gdviz.core.scene import SceneError, apply_scene, loads_scene


def with_table(table: str, body: str) -> str:
    return MINIMAL + f"\n[{table}]\n{body}\n"


# ----------------------------------------------------------------------------- scene

@pytest.mark.parametrize("table, key, limit", [
    ("playback", "max_steps", limits.MAX_STEPS),
    ("export", "steps", limits.MAX_STEPS),
    ("playback", "speed", limits.MAX_SPEED),
    ("problem.regression", "n", limits.MAX_POINTS),
    ("fit", "points", limits.MAX_POINTS),
    ("fit", "units", limits.MAX_UNITS),
])
def test_scene_accepts_the_limit_and_refuses_beyond_it(table, key, limit):
    value = limit if isinstance(limit, int) else float(limit)
    loads_scene(with_table(table, f"{key} = {value!r}"))
    over = limit + 1
    with pytest.raises(SceneError, match=rf"\[{table}\] {key} = {over!r} is invalid: {key} must "
                                         rf"be (between \d+ and {limit!r}|<= {limit!r})$"):
        loads_scene(with_table(table, f"{key} = {over!r}"))


def test_scene_batch_size_limit():
    loads_scene(MINIMAL.replace("version = 1", f"version = 1\nbatch_size = {limits.MAX_BATCH_SIZE}"))
    with pytest.raises(SceneError, match=rf"batch_size must be between 1 and {limits.MAX_BATCH_SIZE}$"):
        loads_scene(MINIMAL.replace("version = 1",
                                    f"version = 1\nbatch_size = {limits.MAX_BATCH_SIZE + 1}"))


def test_a_scene_at_max_steps_loads_into_the_session():
    from gdviz.core.session import Session

    scene = loads_scene(with_table("playback", f"max_steps = {limits.MAX_STEPS}"))
    session = Session(fast=False)
    apply_scene(scene, session)
    assert session.max_steps == limits.MAX_STEPS


def test_scene_lr_limit_is_the_optimizers():
    loads_scene(MINIMAL.replace("lr = 0.05", f"lr = {limits.LR_MAX!r}"))
    with pytest.raises(SceneError, match=r"\[runs\.adam\] lr = 1001 is invalid: "
                                         r"learning rate must be <= 1000"):
        loads_scene(MINIMAL.replace("lr = 0.05", "lr = 1001.0"))


# ----------------------------------------------------------------------------- core modules

def test_core_modules_share_the_limits():
    assert optimizers.LR_MAX is limits.LR_MAX
    assert data.MAX_POINTS is limits.MAX_POINTS
    assert models.MAX_UNITS is limits.MAX_UNITS
    assert 0 < limits.LR_MIN < limits.LR_MAX
    optimizers.make_optimizer("sgd", lr=limits.LR_MIN)
    optimizers.make_optimizer("sgd", lr=limits.LR_MAX)
    with pytest.raises(ValueError, match=r"Invalid learning rate: .* \(must be <= 1000\)"):
        optimizers.make_optimizer("sgd", lr=limits.LR_MAX * 1.001)


def test_session_max_steps_limit():
    from gdviz.core.session import Session

    s = Session(fast=False)
    assert s.set_max_steps(limits.MAX_STEPS) is not False
    assert s.max_steps == limits.MAX_STEPS
    assert s.set_max_steps(limits.MAX_STEPS + 1) is False
    assert s.max_steps == limits.MAX_STEPS


@pytest.mark.parametrize("body, message", [
    (f"levels = {limits.MAX_LEVELS + 1}", rf"levels must be between {limits.MIN_LEVELS} and "
                                          rf"{limits.MAX_LEVELS}$"),
    (f"levels = {limits.MIN_LEVELS - 1}", r"levels must be between"),
])
def test_scene_levels_limits(body, message):
    loads_scene(with_table("view", f"levels = {limits.MAX_LEVELS}"))
    with pytest.raises(SceneError, match=message):
        loads_scene(with_table("view", body))


def test_session_levels_range_is_the_scenes():
    from gdviz.core.session import LEVELS_RANGE

    assert LEVELS_RANGE == (limits.MIN_LEVELS, limits.MAX_LEVELS)


@pytest.mark.parametrize("body, message", [
    (f"fps = {limits.MAX_FPS + 1}", rf"fps must be between 1 and {limits.MAX_FPS}$"),
    (f"size = [{limits.MAX_EXPORT_WIDTH + 1}, 720]",
     rf"size\[0\] must be between {limits.MIN_EXPORT_SIZE} and {limits.MAX_EXPORT_WIDTH}$"),
    (f"size = [{limits.MIN_EXPORT_SIZE - 1}, 720]", r"size\[0\] must be between"),
    (f"size = [1280, {limits.MAX_EXPORT_HEIGHT + 1}]",
     rf"\[export\] size\[1\] = {limits.MAX_EXPORT_HEIGHT + 1} is invalid: the height must be "
     rf"between {limits.MIN_EXPORT_SIZE} and {limits.MAX_EXPORT_HEIGHT}$"),
    (f"steps_per_frame = {limits.MAX_STEPS_PER_FRAME + 1}",
     rf"steps_per_frame must be between 1 and {limits.MAX_STEPS_PER_FRAME}$"),
])
def test_scene_export_limits(body, message):
    at_limit = (f"fps = {limits.MAX_FPS}\nsteps_per_frame = {limits.MAX_STEPS_PER_FRAME}\n"
                f"size = [{limits.MAX_EXPORT_WIDTH}, {limits.MAX_EXPORT_HEIGHT}]")
    loads_scene(with_table("export", at_limit))
    with pytest.raises(SceneError, match=message):
        loads_scene(with_table("export", body))


# ----------------------------------------------------------------------------- runs

def _starts(n: int) -> str:
    return "starts = [" + ", ".join(f"[{-1.5 + 0.01 * k!r}, 2.0]" for k in range(n)) + "]"


def test_a_scene_of_max_runs_loads_and_one_more_is_refused_in_one_line():
    """Starts x runs: a scene of 4,096 starts (the old limit) froze the window 1.45 s as
    it opened, then stepped at 5 frames a second."""
    from gdviz.core.session import Session

    two = MINIMAL + '\n[runs.sgd]\noptimizer = "sgd"\nlr = 0.001\n'
    half = limits.MAX_RUNS // 2
    scene = loads_scene(two.replace("starts = [[-1.5, 2.0]]", _starts(half)))
    session = Session(fast=False)
    apply_scene(scene, session)
    assert session.n_runs == limits.MAX_RUNS
    with pytest.raises(SceneError, match=rf"^.*{half + 1} start\(s\) x 2 run\(s\) = "
                                         rf"{2 * half + 2} runs; a demo has at most "
                                         rf"{limits.MAX_RUNS}: remove a run or a start first$"):
        loads_scene(two.replace("starts = [[-1.5, 2.0]]", _starts(half + 1)))


def test_a_scene_of_more_optimizers_than_a_race_has_is_refused_in_one_line():
    """The palette has eight colours; 64 cards made a language or theme switch block the
    window 140-210 ms."""
    def runs(n):
        return "".join(f'\n[runs.r{k}]\noptimizer = "sgd"\nlr = 0.001\n' for k in range(n))

    loads_scene(MINIMAL + runs(limits.MAX_OPTIMIZERS - 1))  # (and MINIMAL's own)
    n = limits.MAX_OPTIMIZERS + 1
    with pytest.raises(SceneError, match=rf"^<string>: {n} runs; a race has at most "
                                         rf"{limits.MAX_OPTIMIZERS} optimizers: remove a run first$"):
        loads_scene(MINIMAL + runs(limits.MAX_OPTIMIZERS))


def test_the_session_adds_no_run_or_start_past_the_limits():
    from gdviz.core.session import Session

    s = Session(fast=False)
    said = []
    s.error.connect(said.append)
    while s.n_specs < limits.MAX_OPTIMIZERS:
        assert s.add_run(s.specs[0]) >= 0
    n = s.n_runs
    assert s.add_run(s.specs[0]) == -1 and s.n_runs == n
    assert said[-1] == (f"{limits.MAX_OPTIMIZERS + 1} runs; a race has at most "
                        f"{limits.MAX_OPTIMIZERS} optimizers: remove a run first")
    while (len(s.starts) + 1) * s.n_specs <= limits.MAX_RUNS:
        assert s.add_start(0.1 * len(s.starts), 0.0)
    n = s.n_runs
    assert n == limits.MAX_RUNS
    assert s.add_start(1.0, 1.0) is False and s.n_runs == n
    assert f"a demo has at most {limits.MAX_RUNS}" in said[-1] and "\n" not in said[-1]
    # and a state of more (a scene built in code) is refused whole, the demo kept
    import dataclasses

    state = s.snapshot()
    big = dataclasses.replace(state, starts=tuple(state.starts) * 2)
    with pytest.raises(ValueError, match=f"a demo has at most {limits.MAX_RUNS}"):
        s.restore(big)
    assert s.n_runs == n
