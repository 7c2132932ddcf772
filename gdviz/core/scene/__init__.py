"""Scene files: everything needed to replay a demo exactly, as TOML.

A :class:`Scene` is a tree of frozen dataclasses (:mod:`.schema`, which also validates
and words the errors). Loading is pure: :func:`load_scene` / :func:`loads_scene`
(:mod:`.toml_io`) parse and validate a file and return a new ``Scene``, or raise
:class:`SceneError` with one line that names the file and the key, and never touch the
current session. :mod:`.build` turns a scene into what the engine runs (landscape or
data problem, runs, start points, a headless RunSet). :mod:`.bridge` pushes a scene into
a :class:`gdviz.core.session.Session` (:func:`apply_scene`) and reads one back
(:func:`scene_from_session`).

A scene file looks like this (all keys but ``version`` are optional)::

    version = 1
    seed = 0
    noise = 0.0                  # gradient noise std at batch size 1 (landscapes)
    batch_size = 1
    starts = [[-1.5, 2.0]]
    same_lr = false

    [meta]
    lesson = "L10"
    [meta.title]
    en = "..."
    zh-Hant = "..."
    zh-Hans = "..."
    [meta.caption]
    en = "..."

    [problem]
    kind = "surface"             # surface | expr | regression | fit
    surface = "rosenbrock"
    expr = ""                    # f(x, y) in the safe expression language

    [view]                       # box = [x0, x1, y0, y1]; omitted = the surface's own view
    levels = 20
    scale = "auto"               # auto | log | linear
    heatmap = true

    [playback]
    speed = 60.0
    max_steps = 500              # at most gdviz.core.limits.MAX_STEPS
    step_mode_run = ""           # a run id, or "" for none
    autoplay = true

    [export]
    fps = 30
    size = [1280, 720]
    steps = 300
    steps_per_frame = 1
    panels = ["landscape", "loss", "caption"]

    [runs.adam]
    label = "Adam"
    optimizer = "adam"
    lr = 0.01                    # torch.optim names; omitted = torch's default
    enabled = true
    expect_diverge = false       # true where the lesson means to show divergence
    [runs.adam.schedule]         # omitted = constant
    kind = "one-cycle"
    pct_start = 0.25
"""

from gdviz.core.scene.bridge import apply_scene, scene_from_session
from gdviz.core.scene.build import (
    build_dataset,
    build_fit_problem,
    build_landscape,
    build_problem,
    build_runset,
    fit_config,
    fit_data,
    regression_data,
    scene_runs,
    scene_starts,
)
from gdviz.core.scene.schema import (
    FORMAT_VERSION,
    HYPER_BOOLS,
    HYPER_FLOATS,
    HYPER_ORDER,
    LANGS,
    PANELS,
    Classify,
    Export,
    Fit,
    LrFind,
    Meta,
    OptimizerSettings,
    Playback,
    Problem,
    Regression,
    Run,
    Scene,
    SceneError,
    ScheduleSettings,
    Text,
    View,
    validate_scene,
)
from gdviz.core.scene.toml_io import (
    MAX_BYTES,
    dumps_scene,
    load_preset,
    load_scene,
    loads_scene,
    preset_path,
    preset_paths,
    save_scene,
)

__all__ = [
    "FORMAT_VERSION", "LANGS", "PANELS", "HYPER_FLOATS", "HYPER_BOOLS", "HYPER_ORDER",
    "MAX_BYTES", "SceneError", "Text", "Meta", "Regression", "Problem", "ScheduleSettings",
    "OptimizerSettings", "Run", "Fit", "View", "Playback", "Export", "Scene", "LrFind",
    "load_scene", "loads_scene", "dumps_scene", "save_scene", "validate_scene",
    "apply_scene", "scene_from_session", "build_landscape", "build_problem", "build_dataset",
    "build_fit_problem", "fit_config", "fit_data", "regression_data", "scene_runs",
    "scene_starts", "build_runset", "preset_path", "preset_paths", "load_preset",
    "Classify",
]
