"""Scene files: everything needed to replay a demo exactly, as TOML.

A :class:`Scene` is a tree of frozen dataclasses. Loading is pure: :func:`load_scene` /
:func:`loads_scene` parse and validate a file and return a new ``Scene`` (or raise
:class:`SceneError` with one line that names the file and the key), and never touch the
current session. Applying is separate: :func:`apply_scene` pushes a validated scene into a
:class:`gdviz.core.session.Session`, and :func:`scene_from_session` reads one back.

Writing uses our own small TOML writer (:func:`dumps_scene`): keys in a fixed order,
floats as ``repr``, so that save -> load -> save is byte-for-byte identical.

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
    max_steps = 500
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

Hyperparameters and expressions are validated by the modules that own them
(:mod:`gdviz.core.optimizers`, :mod:`gdviz.core.schedules`, :mod:`gdviz.core.expr`, ...);
those are imported lazily so that this module imports on its own.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import math
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (pyproject: tomli; python_version < "3.11")
    import tomli as tomllib

__all__ = [
    "FORMAT_VERSION", "LANGS", "SceneError", "Text", "Meta", "Regression", "Problem",
    "ScheduleSettings", "OptimizerSettings", "Run", "Fit", "View", "Playback", "Export", "Scene",
    "load_scene", "loads_scene", "dumps_scene", "save_scene", "validate_scene",
    "apply_scene", "scene_from_session", "build_landscape", "build_problem", "build_dataset",
    "build_fit_problem", "fit_config", "build_runset",
    "preset_paths", "load_preset",
]

#: the scene format this gdviz writes and the newest one it reads
FORMAT_VERSION = 1
#: caption languages, in the order they are written
LANGS = ("en", "zh-Hant", "zh-Hans")
#: a scene is a small text file; anything bigger is not one of ours
MAX_BYTES = 1_000_000

HYPER_FLOATS = ("lr", "momentum", "dampening", "alpha", "eps", "beta1", "beta2",
                "weight_decay", "lr_decay", "initial_accumulator_value")
HYPER_BOOLS = ("nesterov", "amsgrad", "centered")
#: OptimizerConfig's field order (torch.optim's names)
HYPER_ORDER = ("lr", "momentum", "dampening", "nesterov", "alpha", "eps", "beta1", "beta2",
               "weight_decay", "lr_decay", "initial_accumulator_value", "amsgrad", "centered")

PANELS = ("landscape", "fit", "loss", "caption")
#: fallbacks used only while the owning modules are missing
_FALLBACK_TARGETS = ("quadratic", "piecewise", "sine", "step", "abs")
_FALLBACK_MODELS = ("linear", "quadratic", "sigmoid", "hard-sigmoid", "relu")


class SceneError(ValueError):
    """A scene file that cannot be used: one line naming the file and the key."""


class _Invalid(Exception):
    """Raised inside the parser; turned into a SceneError with the file name in front."""


# ----------------------------------------------------------------------------- schema

def _k(kind: str, default: Any = None, *, key: str | None = None, optional: bool = False,
       choices: tuple | None = None, ge: float | None = None, gt: float | None = None,
       le: float | None = None, length: int | None = None, max_len: int | None = None,
       omit_default: bool = False):
    """A dataclass field with its TOML schema in ``metadata``.

    kinds: float, int, bool, str, choice, floats (fixed length), ints (fixed length),
    points (list of [x, y]), strs (list of choices), table (nested dataclass, its type is
    the default's type), flatten (nested dataclass whose keys live in this table).
    """
    md = dict(kind=kind, key=key, optional=optional, choices=choices, ge=ge, gt=gt, le=le,
              length=length, max_len=max_len, omit_default=omit_default)
    return field(default=None if optional else default, metadata=md)


@dataclass(frozen=True)
class Text:
    """A string in each UI language; ``get(lang)`` falls back to English."""

    en: str = _k("str", "")
    zh_Hant: str = _k("str", "", key="zh-Hant")
    zh_Hans: str = _k("str", "", key="zh-Hans")

    def get(self, lang: str = "en") -> str:
        text = {"en": self.en, "zh-Hant": self.zh_Hant, "zh-Hans": self.zh_Hans}.get(lang, "")
        return text or self.en


@dataclass(frozen=True)
class Meta:
    lesson: str = _k("str", "")
    title: Text = _k("table", Text())
    caption: Text = _k("table", Text())


@dataclass(frozen=True)
class Regression:
    """Linear-regression data y = w*x + b + noise (the landscape is L(w, b))."""

    n: int = _k("int", 50, ge=2, le=100_000)
    w: float = _k("float", 2.0)
    b: float = _k("float", 1.0)
    noise: float = _k("float", 0.5, ge=0)
    seed: int = _k("int", 0, ge=0)
    loss: str = _k("choice", "mse", choices=("mse", "mae"))
    #: draw the current mini-batch's own loss surface (lesson L6)
    batch_surface: bool = _k("bool", False)
    #: the points themselves, [[x, y], ...] (e.g. loaded from a CSV); replaces n, w, b,
    #: noise and seed when present
    data: tuple[tuple[float, float], ...] | None = _k("points", optional=True, max_len=100_000)


@dataclass(frozen=True)
class Problem:
    #: surface: a built-in surface; expr: f(x, y) typed in; regression: L(w, b) of linear
    #: regression data; fit: the fit panel's loss over the two parameters in [fit] linked
    kind: str = _k("choice", "surface", choices=("surface", "expr", "regression", "fit"))
    surface: str = _k("str", "rosenbrock")
    expr: str = _k("str", "")
    regression: Regression = _k("table", Regression(), omit_default=True)


@dataclass(frozen=True)
class ScheduleSettings:
    """A learning-rate schedule: ``kind`` plus its parameters as (name, value) pairs
    in :class:`gdviz.core.schedules.Schedule`'s field order."""

    kind: str = "constant"
    params: tuple[tuple[str, Any], ...] = ()

    def build(self):
        """The :class:`gdviz.core.schedules.Schedule` this describes."""
        from gdviz.core.schedules import Schedule

        return Schedule(kind=self.kind, **dict(self.params))


@dataclass(frozen=True)
class OptimizerSettings:
    """An optimizer by name with the hyperparameters the scene sets (None = torch default)."""

    optimizer: str = _k("str", "sgd")
    lr: float | None = _k("float", optional=True)
    momentum: float | None = _k("float", optional=True)
    dampening: float | None = _k("float", optional=True)
    nesterov: bool | None = _k("bool", optional=True)
    alpha: float | None = _k("float", optional=True)
    eps: float | None = _k("float", optional=True)
    beta1: float | None = _k("float", optional=True)
    beta2: float | None = _k("float", optional=True)
    weight_decay: float | None = _k("float", optional=True)
    lr_decay: float | None = _k("float", optional=True)
    initial_accumulator_value: float | None = _k("float", optional=True)
    amsgrad: bool | None = _k("bool", optional=True)
    centered: bool | None = _k("bool", optional=True)
    schedule: ScheduleSettings = _k("schedule", ScheduleSettings(), omit_default=True)

    def hyper(self) -> dict[str, Any]:
        """The hyperparameters set in the scene, by torch name (unset ones left out)."""
        return {n: getattr(self, n) for n in HYPER_ORDER if getattr(self, n) is not None}

    def config(self):
        """The validated :class:`gdviz.core.optimizers.OptimizerConfig`."""
        from gdviz.core.optimizers import make_optimizer

        return make_optimizer(self.optimizer, **self.hyper())


@dataclass(frozen=True)
class Run:
    """One racer on the landscape (``[runs.<id>]``); it starts from every start point."""

    id: str = "run"
    label: str = _k("str", "")
    opt: OptimizerSettings = _k("flatten", OptimizerSettings())
    enabled: bool = _k("bool", True)
    #: the lesson means this run to diverge (L4's lr x10); tests check no other run does
    expect_diverge: bool = _k("bool", False)

    def config(self):
        return self.opt.config()


@dataclass(frozen=True)
class Fit:
    """The curve-fit panel (issue 4)."""

    enabled: bool = _k("bool", False)
    target: str = _k("str", "quadratic")
    #: a custom target f(x) in the safe expression language; used when not empty
    target_expr: str = _k("str", "")
    #: a name from gdviz.core.models.MODELS: linear, quadratic, or a sum of units:
    #: sigmoid, hard-sigmoid, relu (K = ``units`` of them)
    model: str = _k("str", "quadratic")
    units: int = _k("int", 3, ge=1, le=50)
    points: int = _k("int", 50, ge=2, le=100_000)
    noise: float = _k("float", 0.1, ge=0)
    seed: int = _k("int", 0, ge=0)
    val_fraction: float = _k("float", 0.15, ge=0, le=0.5)
    loss: str = _k("choice", "mse", choices=("mse", "mae"))
    #: 0 = the whole training set
    batch_size: int = _k("int", 0, ge=0)
    #: the panel's weight-decay (L2 penalty) slider, given to the fit optimizer
    weight_decay: float = _k("float", 0.0, ge=0)
    #: draw each unit's own contribution c_i*h(b_i + w_i*x) faintly ("blue functions")
    show_units: bool = _k("bool", False)
    #: initial parameters (fit by hand); omitted = the model's default initialisation
    init: tuple[float, ...] | None = _k("floats", optional=True, max_len=1000)
    #: two parameter names whose loss slice the landscape shows (linked view); empty = off
    linked: tuple[str, ...] = _k("names", (), max_len=2)
    #: the points themselves, [[x, y], ...] (e.g. loaded from a CSV); replaces target,
    #: points, noise and the sampling when present
    data: tuple[tuple[float, float], ...] | None = _k("points", optional=True, max_len=100_000)
    run: OptimizerSettings = _k("table", OptimizerSettings(optimizer="adam", lr=None),
                                omit_default=True)


@dataclass(frozen=True)
class View:
    #: x0, x1, y0, y1; None = the problem's own view box
    box: tuple[float, float, float, float] | None = _k("floats", optional=True, length=4)
    levels: int = _k("int", 20, ge=2, le=200)
    scale: str = _k("choice", "auto", choices=("auto", "log", "linear"))
    heatmap: bool = _k("bool", True)


@dataclass(frozen=True)
class Playback:
    speed: float = _k("float", 60.0, gt=0, le=100_000)
    max_steps: int = _k("int", 500, ge=1, le=10_000_000)
    #: the run shown in step-by-step mode ("" = none)
    step_mode_run: str = _k("str", "")
    autoplay: bool = _k("bool", True)


@dataclass(frozen=True)
class Export:
    fps: int = _k("int", 30, ge=1, le=240)
    size: tuple[int, int] = _k("ints", (1280, 720), length=2, ge=16, le=7680)
    steps: int = _k("int", 300, ge=1, le=10_000_000)
    steps_per_frame: int = _k("int", 1, ge=1, le=100_000)
    panels: tuple[str, ...] = _k("strs", ("landscape", "loss", "caption"), choices=PANELS)


@dataclass(frozen=True)
class Scene:
    """Everything needed to replay a demo. Build with keywords; all fields have defaults."""

    version: int = _k("int", FORMAT_VERSION)
    seed: int = _k("int", 0, ge=0)
    #: gradient noise std at batch size 1 (landscapes: std = noise / sqrt(batch_size))
    noise: float = _k("float", 0.0, ge=0)
    batch_size: int = _k("int", 1, ge=1, le=1_000_000)
    starts: tuple[tuple[float, float], ...] = _k("points", ((-1.5, 2.0),), max_len=4096)
    same_lr: bool = _k("bool", False)
    shared_lr: float | None = _k("float", optional=True)
    meta: Meta = _k("table", Meta())
    problem: Problem = _k("table", Problem())
    view: View = _k("table", View())
    playback: Playback = _k("table", Playback())
    export: Export = _k("table", Export())
    fit: Fit = _k("table", Fit(), omit_default=True)
    runs: tuple[Run, ...] = _k("runs", ())

    def run(self, run_id: str) -> Run:
        for r in self.runs:
            if r.id == run_id:
                return r
        raise KeyError(run_id)

    @property
    def title(self) -> Text:
        return self.meta.title

    @property
    def caption(self) -> Text:
        return self.meta.caption


# ----------------------------------------------------------------------------- messages

def _where(path: str) -> str:
    return f"[{path}] " if path else ""


def _in(path: str) -> str:
    return f"in [{path}]" if path else "at the top level"


def _show(value: Any) -> str:
    """A value as the user wrote it (TOML-ish)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value) if isinstance(value, float) else str(value)


#: words people type for torch's short names
_ALIASES = {"learning_rate": "lr", "learningrate": "lr", "rate": "lr", "step_size": "lr",
            "wd": "weight_decay", "decay": "weight_decay", "l2": "weight_decay",
            "beta": "beta1", "betas": "beta1", "rho": "alpha", "epsilon": "eps",
            "mom": "momentum", "optim": "optimizer", "opt": "optimizer", "name": "label",
            "batch": "batch_size", "steps": "max_steps"}


def _closest(word: str, choices) -> str | None:
    """The choice the user most likely meant: difflib first, then case and word parts
    ('LR' -> 'lr', 'lr_rate' -> 'lr', 'beta_1' -> 'beta1')."""
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return close[0]
    alias = _ALIASES.get(re.sub(r"[-\s]", "_", word.lower()))
    if alias in choices:
        return alias
    lower = {c.lower(): c for c in choices}
    w = word.lower()
    if w in lower:
        return lower[w]
    squashed = {re.sub(r"[_\-\s]", "", c.lower()): c for c in choices}
    if re.sub(r"[_\-\s]", "", w) in squashed:
        return squashed[re.sub(r"[_\-\s]", "", w)]
    parts = [t for t in re.split(r"[_\-\s.]+", w) if t]
    hits = [c for c in choices if c.lower() in parts]
    if hits:
        return max(hits, key=len)
    close = difflib.get_close_matches(w, list(lower), n=1, cutoff=0.5)
    return lower[close[0]] if close else None


def _suggest(word: str, choices) -> str:
    choices = list(choices)
    close = _closest(word, choices)
    if close is not None:
        return f"; did you mean {close!r}?"
    if choices and len(choices) <= 16:
        return f" (choose from {', '.join(choices)})"
    return ""


def _unknown_name(path: str, what: str, key: str, name: str, choices) -> _Invalid:
    return _Invalid(f"{_where(path)}{key} = {name!r}: unknown {what}{_suggest(name, choices)}")


# ----------------------------------------------------------------------------- parsing

def _schema(cls) -> dict[str, dataclasses.Field]:
    """TOML key -> field, with flattened sub-tables' keys lifted into this table."""
    out: dict[str, dataclasses.Field] = {}
    for f in fields(cls):
        md = f.metadata
        if "kind" not in md:
            continue
        if md["kind"] == "flatten":
            for k2, f2 in _schema(type(f.default)).items():
                out[k2] = f2
            continue
        out[md["key"] or f.name] = f
    return out


def _range_check(path: str, key: str, raw: Any, value: float, md) -> None:
    bad = None
    if md["gt"] is not None and not value > md["gt"]:
        bad = f"must be > {md['gt']}"
    elif md["ge"] is not None and md["le"] is not None and not md["ge"] <= value <= md["le"]:
        bad = f"must be between {md['ge']} and {md['le']}"
    elif md["ge"] is not None and not value >= md["ge"]:
        bad = f"must be >= {md['ge']}"
    elif md["le"] is not None and not value <= md["le"]:
        bad = f"must be <= {md['le']}"
    if bad:
        raise _Invalid(f"{_where(path)}{key} = {_show(raw)} is invalid: {key} {bad}")


def _number(path: str, key: str, raw: Any, what: str = "a number") -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise _Invalid(f"{_where(path)}{key} must be {what}, got {_show(raw)}")
    value = float(raw)
    if not math.isfinite(value):
        raise _Invalid(f"{_where(path)}{key} = {_show(raw)} is invalid: must be a finite number")
    return value


def _integer(path: str, key: str, raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise _Invalid(f"{_where(path)}{key} must be an integer, got {_show(raw)}")
    return int(raw)


def _list(path: str, key: str, raw: Any, what: str, md) -> list:
    if not isinstance(raw, list):
        raise _Invalid(f"{_where(path)}{key} must be {what}, got {_show(raw)}")
    if md["length"] is not None and len(raw) != md["length"]:
        raise _Invalid(f"{_where(path)}{key} must be {what}, got {len(raw)} values")
    if md["max_len"] is not None and len(raw) > md["max_len"]:
        raise _Invalid(f"{_where(path)}{key} has {len(raw)} entries; at most {md['max_len']}")
    return raw


def _convert(f: dataclasses.Field, raw: Any, path: str, key: str) -> Any:
    md = f.metadata
    kind = md["kind"]
    sub = f"{path}.{key}" if path else key
    if kind == "float":
        value = _number(path, key, raw)
        _range_check(path, key, raw, value, md)
        return value
    if kind == "int":
        value = _integer(path, key, raw)
        _range_check(path, key, raw, value, md)
        return value
    if kind == "bool":
        if not isinstance(raw, bool):
            raise _Invalid(f"{_where(path)}{key} must be true or false, got {_show(raw)}")
        return raw
    if kind == "str":
        if not isinstance(raw, str):
            raise _Invalid(f"{_where(path)}{key} must be a string, got {_show(raw)}")
        return raw
    if kind == "choice":
        if not isinstance(raw, str):
            raise _Invalid(f"{_where(path)}{key} must be one of {', '.join(md['choices'])}, "
                           f"got {_show(raw)}")
        if raw not in md["choices"]:
            close = _closest(raw, md["choices"])
            hint = f"; did you mean {close!r}?" if close else ""
            raise _Invalid(f"{_where(path)}{key} = {raw!r} is invalid{hint} "
                           f"(choose from {', '.join(md['choices'])})")
        return raw
    if kind in ("floats", "ints"):
        n = md["length"]
        what = (f"a list of {n} {'integers' if kind == 'ints' else 'numbers'}" if n
                else "a list of numbers")
        items = _list(path, key, raw, what, md)
        conv = _integer if kind == "ints" else _number
        out = []
        for i, item in enumerate(items):
            v = conv(path, f"{key}[{i}]", item)
            _range_check(path, f"{key}[{i}]", item, v, md)
            out.append(v)
        return tuple(out)
    if kind == "points":
        items = _list(path, key, raw, "a list of [x, y] points", md)
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, list) or len(item) != 2:
                raise _Invalid(f"{_where(path)}{key}[{i}] must be a point [x, y], got {_show(item)}")
            out.append((_number(path, f"{key}[{i}]", item[0]), _number(path, f"{key}[{i}]", item[1])))
        return tuple(out)
    if kind in ("strs", "names"):
        items = _list(path, key, raw, "a list of strings", md)
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise _Invalid(f"{_where(path)}{key}[{i}] must be a string, got {_show(item)}")
            if md["choices"] is not None and item not in md["choices"]:
                raise _Invalid(f"{_where(path)}{key}: unknown entry {item!r}"
                               f"{_suggest(item, md['choices'])}")
            if item in out:
                raise _Invalid(f"{_where(path)}{key}: {item!r} is listed twice")
            out.append(item)
        return tuple(out)
    if kind == "table":
        return _parse_table(type(f.default), raw, sub)
    if kind == "schedule":
        return _parse_schedule(raw, sub)
    if kind == "runs":
        if not isinstance(raw, dict):
            raise _Invalid(f"{key} must be tables [{key}.<id>], got {_show(raw)}")
        runs = []
        for run_id, table in raw.items():
            runs.append(dataclasses.replace(_parse_table(Run, table, f"{sub}.{_key(run_id)}"),
                                            id=run_id))
        return tuple(runs)
    raise AssertionError(kind)  # pragma: no cover


def _parse_table(cls, data: Any, path: str):
    """Build ``cls`` from a TOML table, checking every key's name, type and range."""
    if not isinstance(data, dict):
        raise _Invalid(f"[{path}] must be a table, got {_show(data)}")
    schema = _schema(cls)
    for key in data:
        if key not in schema:
            raise _Invalid(f"unknown key {key!r} {_in(path)}{_suggest(key, schema)}")
    kwargs: dict[str, Any] = {}
    flat: dict[str, dict[str, Any]] = {}
    flat_owner = {f2.name: f.name for f in fields(cls) if f.metadata.get("kind") == "flatten"
                  for f2 in _schema(type(f.default)).values()}
    for key, raw in data.items():
        f = schema[key]
        value = _convert(f, raw, path, key)
        if f.name in flat_owner and not any(f is g for g in fields(cls)):
            flat.setdefault(flat_owner[f.name], {})[f.name] = value
        else:
            kwargs[f.name] = value
    for name, values in flat.items():
        default = next(f.default for f in fields(cls) if f.name == name)
        kwargs[name] = dataclasses.replace(default, **values)
    return cls(**kwargs)


def _parse_schedule(raw: Any, path: str) -> ScheduleSettings:
    if not isinstance(raw, dict):
        raise _Invalid(f"[{path}] must be a table, got {_show(raw)}")
    schedules = _optional_module("gdviz.core.schedules")
    kind = raw.get("kind", "constant")
    if not isinstance(kind, str):
        raise _Invalid(f"[{path}] kind must be a string, got {_show(kind)}")
    if schedules is None:  # pragma: no cover - until schedules.py exists
        params = tuple(sorted((k, v) for k, v in raw.items() if k != "kind"))
        return ScheduleSettings(kind, params)
    registry = schedules.SCHEDULES
    if kind not in registry:
        raise _unknown_name(path, "schedule", "kind", kind, registry)
    sfields = [f for f in fields(schedules.Schedule) if f.name != "kind" and f.init]
    allowed = {f.name: f for f in sfields}
    applicable = tuple(registry[kind].fields)
    for key in raw:
        if key == "kind":
            continue
        if key not in allowed:
            raise _Invalid(f"unknown key {key!r} in [{path}]"
                           f"{_suggest(key, ['kind', *allowed])}")
        if key not in applicable:
            takes = f"its parameters: {', '.join(applicable)}" if applicable else "it has none"
            raise _Invalid(f"[{path}] {key} does not apply to a {kind} schedule ({takes})")
    params = []
    for f in sfields:  # the Schedule's own field order, for a stable file
        if f.name not in raw:
            continue
        v = raw[f.name]
        default = f.default
        if isinstance(default, bool):
            if not isinstance(v, bool):
                raise _Invalid(f"[{path}] {f.name} must be true or false, got {_show(v)}")
        elif isinstance(default, int):
            v = _integer(path, f.name, v)
        elif isinstance(default, tuple):
            n = len(default)
            if not isinstance(v, list) or len(v) != n:
                raise _Invalid(f"[{path}] {f.name} must be a list of {n} numbers, got {_show(v)}")
            v = tuple(_number(path, f"{f.name}[{i}]", x) for i, x in enumerate(v))
        else:
            v = _number(path, f.name, v)
        params.append((f.name, v))
    spec = ScheduleSettings(kind, tuple(params))
    try:
        spec.build()
    except (ValueError, TypeError) as exc:
        raise _Invalid(f"[{path}] {_first_line(exc)}") from None
    return spec


# ----------------------------------------------------------------------------- validation

def _optional_module(name: str):
    """Import a sibling module, or None while it has not been written yet."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_INVALID_RE = re.compile(r"^Invalid (?P<what>.+?)(?: parameter| value)?(?: at index \d+)?: "
                         r"(?P<value>[^\s(]+)\s*\((?P<why>.+)\)\s*$")


def _reason(message: str) -> str:
    """'Invalid learning rate: -1 (must be > 0)' -> 'learning rate must be > 0'."""
    m = _INVALID_RE.match(message)
    if m:
        return f"{m.group('what')} {m.group('why')}"
    return message


def _check_optimizer(opt: OptimizerSettings, path: str) -> None:
    optimizers = _optional_module("gdviz.core.optimizers")
    if optimizers is None:  # pragma: no cover - until optimizers.py exists
        return
    specs = optimizers.OPTIMIZERS
    if opt.optimizer not in specs:
        raise _unknown_name(path, "optimizer", "optimizer", opt.optimizer, specs)
    applicable = tuple(getattr(specs[opt.optimizer], "fields", HYPER_ORDER))
    hyper = opt.hyper()
    for name in hyper:
        if name not in applicable:
            raise _Invalid(f"{_where(path)}{name} does not apply to {opt.optimizer} "
                           f"(its hyperparameters: {', '.join(applicable)})")
    try:
        optimizers.make_optimizer(opt.optimizer, **hyper)
    except ValueError as exc:
        # find the key to blame: the first that fails on its own
        for name, value in hyper.items():
            try:
                optimizers.make_optimizer(opt.optimizer, **{name: value})
            except ValueError as one:
                shown = (str(int(value)) if isinstance(value, float) and value.is_integer()
                         and abs(value) < 1e15 else _show(value))
                raise _Invalid(f"{_where(path)}{name} = {shown} is invalid: "
                               f"{_reason(_first_line(one))}") from None
        raise _Invalid(f"{_where(path)}{_reason(_first_line(exc))}") from None


def _check_expr(text: str, path: str, key: str, variables: tuple[str, ...]) -> None:
    expr = _optional_module("gdviz.core.expr")
    if expr is None:  # pragma: no cover - until expr.py exists
        return
    try:
        expr.compile_expr(text, variables=variables)
    except ValueError as exc:
        raise _Invalid(f"{_where(path)}{key} = {text!r}: {_first_line(exc)}") from None


def _registry_names(module_name: str, attrs: tuple[str, ...], fallback) -> list[str]:
    mod = _optional_module(module_name)
    if mod is not None:
        for attr in attrs:
            reg = getattr(mod, attr, None)
            if reg:
                return list(reg)
    return list(fallback)


def _fit_model_names(fit: Fit) -> tuple[str, ...] | None:
    """Parameter names of the fit model, when models.py can say."""
    models = _optional_module("gdviz.core.models")
    if models is None:  # pragma: no cover - until models.py exists
        return None
    return tuple(models.make_model(fit.model, fit.units).param_names)


def _validate(scene: Scene) -> None:
    if scene.version != FORMAT_VERSION:  # parsing checks this first; this is for built scenes
        raise _Invalid(f"version = {scene.version} is not supported (this gdviz reads "
                       f"version {FORMAT_VERSION})")
    p = scene.problem
    if p.kind == "surface":
        names = _registry_names("gdviz.core.surfaces", ("SURFACES",), ())
        if names and p.surface not in names:
            raise _unknown_name("problem", "surface", "surface", p.surface, names)
    if p.kind == "expr" and not p.expr.strip():
        raise _Invalid("[problem] kind = 'expr' needs expr = \"f(x, y)\"")
    if p.expr.strip():
        _check_expr(p.expr, "problem", "expr", ("x", "y"))
    if scene.view.box is not None:
        x0, x1, y0, y1 = scene.view.box
        if not (x0 < x1 and y0 < y1):
            raise _Invalid(f"[view] box = {list(scene.view.box)} is invalid: "
                           "need x0 < x1 and y0 < y1")
    if p.kind == "fit":
        if not scene.fit.enabled:
            raise _Invalid("[problem] kind = 'fit' needs [fit] enabled = true")
        if len(scene.fit.linked) != 2:
            raise _Invalid("[problem] kind = 'fit' needs [fit] linked = two parameter names, "
                           "e.g. [\"a\", \"b\"]")
        if scene.runs and scene.fit.run != Fit().run:
            raise _Invalid("[fit.run] and [runs.*] both set: a fit is optimized by [fit.run] "
                           "(one optimizer) or by the [runs.*] tables (a race), not both")
    elif not scene.runs:
        raise _Invalid(f"[runs] a {p.kind} problem needs at least one run "
                       "([runs.<id>] with optimizer = \"...\")")
    if not scene.starts and scene.runs and p.kind != "fit":
        raise _Invalid("starts is empty: the runs need at least one start point [x, y]")
    if scene.shared_lr is not None and not scene.shared_lr > 0:
        raise _Invalid(f"shared_lr = {scene.shared_lr!r} is invalid: learning rate must be > 0")
    for run in scene.runs:
        if not run.id:
            raise _Invalid("[runs] a run needs a non-empty id")
        _check_optimizer(run.opt, f"runs.{_key(run.id)}")
    ids = [r.id for r in scene.runs]
    if len(set(ids)) != len(ids):
        raise _Invalid("[runs] run ids must be unique")
    if p.kind == "fit" and scene.runs and scene.fit.weight_decay:
        raise _Invalid("[fit] weight_decay applies to [fit.run]; with [runs.*] set "
                       "weight_decay in each run")
    ids = [r.id for r in scene_runs(scene)]
    sm = scene.playback.step_mode_run
    if sm and sm not in ids:
        raise _Invalid(f"[playback] step_mode_run = {sm!r} is not a run"
                       f"{_suggest(sm, ids)}")
    fit = scene.fit
    if fit.enabled or fit != Fit():
        targets = _registry_names("gdviz.core.data", ("TARGETS",), _FALLBACK_TARGETS)
        if not fit.target_expr.strip() and fit.target not in targets:
            raise _unknown_name("fit", "target", "target", fit.target, targets)
        if fit.target_expr.strip():
            _check_expr(fit.target_expr, "fit", "target_expr", ("x",))
        models = _registry_names("gdviz.core.models", ("MODELS",), _FALLBACK_MODELS)
        if fit.model not in models:
            raise _unknown_name("fit", "model", "model", fit.model, models)
        if fit.run.weight_decay is not None:
            raise _Invalid("[fit.run] weight_decay: set it once, as [fit] weight_decay")
        _check_optimizer(fit.run, "fit.run")
        names = _fit_model_names(fit)
        if names is not None:
            for name in fit.linked:
                if name not in names:
                    raise _unknown_name("fit", "parameter", "linked", name, names)
            if fit.init is not None and len(fit.init) != len(names):
                raise _Invalid(f"[fit] init has {len(fit.init)} values; model {fit.model!r} "
                               f"has {len(names)} parameters ({', '.join(names[:8])}"
                               f"{', ...' if len(names) > 8 else ''})")
        if len(fit.linked) not in (0, 2):
            raise _Invalid(f"[fit] linked must name two parameters, got {len(fit.linked)}")


def validate_scene(scene: Scene, source: str = "<scene>") -> Scene:
    """Check a Scene built in code as a loaded file would be; returns it or raises SceneError."""
    try:
        _validate(scene)
    except _Invalid as exc:
        raise SceneError(f"{_name(source)}: {exc}") from None
    return scene


def _name(source: str | os.PathLike) -> str:
    s = str(source)
    return s if s.startswith("<") else Path(s).name


_LINE_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_LINE_ONLY_RE = re.compile(r"\s*\(at end of document\)\s*$")


def loads_scene(text: str, source: str = "<string>") -> Scene:
    """Parse and validate a scene from TOML text. Pure: raises SceneError, changes nothing."""
    name = _name(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = _first_line(exc)
        m = _LINE_RE.search(msg)
        if m:
            raise SceneError(f"{name} line {m.group(1)}: {msg[:m.start()]} "
                             f"(column {m.group(2)})") from None
        msg = _LINE_ONLY_RE.sub("", msg)
        line = text.count("\n") + 1
        raise SceneError(f"{name} line {line}: {msg} (at end of file)") from None
    try:
        if "version" not in data:
            raise _Invalid(f"missing 'version' (add version = {FORMAT_VERSION} at the top)")
        v = data["version"]
        if isinstance(v, bool) or not isinstance(v, int):
            raise _Invalid(f"version must be an integer, got {_show(v)}")
        if v > FORMAT_VERSION:
            raise _Invalid(f"version = {v} is newer than this gdviz understands "
                           f"(it reads version {FORMAT_VERSION}); update gdviz")
        if v < 1:
            raise _Invalid(f"version = {v} is invalid: versions start at 1")
        scene = _parse_table(Scene, data, "")
        _validate(scene)
    except _Invalid as exc:
        raise SceneError(f"{name}: {exc}") from None
    return scene


def load_scene(path: str | os.PathLike) -> Scene:
    """Read and validate a scene file. Raises SceneError (file name first) on any problem."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise SceneError(f"{p.name}: {size} bytes is too big for a scene file "
                             f"(at most {MAX_BYTES})")
        raw = p.read_bytes()
    except OSError as exc:
        raise SceneError(f"{p.name}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")  # tolerate the BOM some Windows editors add
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise SceneError(f"{p.name} line {line}: not UTF-8 text") from None
    return loads_scene(text, source=str(p))


# ----------------------------------------------------------------------------- writing

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")
_ESC = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
        "\r": "\\r"}


def _key(k: str) -> str:
    return k if _BARE.match(k) else _str(k)


def _str(s: str) -> str:
    out = []
    for ch in s:
        if ch in _ESC:
            out.append(_ESC[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise SceneError(f"cannot write non-finite number {v!r}")
        return repr(v)
    if isinstance(v, str):
        return _str(v)
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")  # pragma: no cover


def _dump_table(obj, path: str, out: list[str], header: bool) -> None:
    """Write ``obj``'s keys (with flattened ones inline), then its sub-tables."""
    if header:
        out.append(f"\n[{path}]")
    subtables: list[tuple[str, Any, dataclasses.Field]] = []

    def scalars(o) -> None:
        for f in fields(o):
            md = f.metadata
            if "kind" not in md:
                continue
            v = getattr(o, f.name)
            key = md["key"] or f.name
            if md["kind"] == "flatten":
                scalars(v)
            elif md["kind"] in ("table", "schedule", "runs"):
                subtables.append((key, v, f))
            elif v is not None:
                out.append(f"{_key(key)} = {_value(v)}")

    scalars(obj)
    for key, v, f in subtables:
        sub = f"{path}.{_key(key)}" if path else _key(key)
        if f.metadata["omit_default"] and v == f.default:
            continue
        if f.metadata["kind"] == "runs":
            for run in v:
                _dump_table(run, f"{sub}.{_key(run.id)}", out, True)
        elif f.metadata["kind"] == "schedule":
            out.append(f"\n[{sub}]")
            out.append(f"kind = {_str(v.kind)}")
            out.extend(f"{_key(k)} = {_value(x)}" for k, x in v.params)
        else:
            _dump_table(v, sub, out, True)


def dumps_scene(scene: Scene) -> str:
    """The scene as TOML text: fixed key order, floats as repr, so it round-trips exactly."""
    out = [f"# gdviz scene (format version {FORMAT_VERSION})"]
    _dump_table(scene, "", out, False)
    return "\n".join(out) + "\n"


def save_scene(scene: Scene, path: str | os.PathLike) -> None:
    """Write a scene atomically: a temp file in the same folder, then os.replace.

    On any failure nothing is left behind and the old file (if any) is untouched.
    """
    p = Path(path)
    data = dumps_scene(scene).encode("utf-8")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise SceneError(f"cannot save {p.name}: folder '{folder}' does not exist")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
        tmp = None
    except OSError as exc:
        raise SceneError(f"cannot save {p.name}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


# ----------------------------------------------------------------------------- presets

def preset_paths() -> list[Path]:
    """The shipped lesson presets (L01..L15) and the default race, sorted by file name."""
    from gdviz import resources_dir

    return sorted((Path(resources_dir()) / "scenes").glob("*.toml"))


def load_preset(name: str) -> Scene:
    """A preset by file stem or lesson id: 'default_rosenbrock_race', 'L04', 'L4'."""
    paths = preset_paths()
    m = re.fullmatch(r"[Ll]0*(\d+)", name)
    for p in paths:
        if p.stem == name or (m and p.stem.startswith(f"L{int(m.group(1)):02d}_")):
            return load_scene(p)
    raise SceneError(f"unknown preset {name!r}{_suggest(name, [p.stem for p in paths])}")


# ----------------------------------------------------------------------------- engine bridge

def build_landscape(scene: Scene):
    """The :class:`gdviz.core.surfaces.Landscape` of a surface or expression scene
    (an expression gets the scene's view box when it sets one)."""
    from gdviz.core.surfaces import Landscape

    p = scene.problem
    if p.kind == "surface":
        return Landscape.from_surface(p.surface)
    if p.kind == "expr":
        if scene.view.box is not None:
            return Landscape.from_expr(p.expr, view=scene.view.box)
        return Landscape.from_expr(p.expr)
    raise SceneError(f"a {p.kind} problem has no analytic landscape")


def regression_data(scene: Scene):
    """The :class:`gdviz.core.problems.RegressionData` of a regression scene."""
    from gdviz.core.problems import RegressionData

    r = scene.problem.regression
    return RegressionData(r.n, r.w, r.b, r.noise, r.seed, r.loss, points=r.data)


def fit_data(scene: Scene):
    """The :class:`gdviz.core.problems.FitData` of the scene's fit panel."""
    from gdviz.core.problems import FitData

    f = scene.fit
    return FitData(f.target, f.target_expr, f.model, f.units, f.points, f.noise, f.seed,
                   f.val_fraction, f.loss, points_data=f.data)


def build_dataset(scene: Scene):
    """The fit panel's :class:`gdviz.core.data.Dataset` (target or target_expr sampled)."""
    return fit_data(scene).dataset()


def _fit_batch(scene: Scene) -> int | None:
    return None if scene.fit.batch_size <= 0 else scene.fit.batch_size


def build_problem(scene: Scene, *, fast: bool | None = None):
    """What the engine optimizes for this scene: a Landscape (surface, expr), a
    :class:`gdviz.core.models.LinearRegressionProblem` (regression) or a
    :class:`gdviz.core.models.FitProblem` (fit). Mini-batches are seeded with the
    scene's ``seed``; the data with their own seeds."""
    kind = scene.problem.kind
    if kind in ("surface", "expr"):
        return build_landscape(scene)
    if kind == "regression":
        return regression_data(scene).build(scene.batch_size, scene.seed, fast)
    return build_fit_problem(scene, fast=fast)


def build_fit_problem(scene: Scene, *, fast: bool | None = None):
    """The fit panel's :class:`gdviz.core.models.FitProblem`."""
    return fit_data(scene).build(_fit_batch(scene), scene.seed, fast)


def fit_config(scene: Scene):
    """The fit run's OptimizerConfig, with the panel's weight decay."""
    return _fit_run(scene).config()


def _fit_run(scene: Scene) -> Run:
    """[fit.run] as a Run, with [fit] weight_decay folded in."""
    opt = scene.fit.run
    if scene.fit.weight_decay:
        opt = dataclasses.replace(opt, weight_decay=scene.fit.weight_decay)
    return Run(id="fit", label="", opt=opt)


def scene_runs(scene: Scene) -> tuple[Run, ...]:
    """The racers: [runs.*], or for a fit optimized by [fit.run] that one run."""
    if scene.problem.kind == "fit" and not scene.runs:
        return (_fit_run(scene),)
    return scene.runs


def scene_starts(scene: Scene, problem=None) -> list[tuple[float, ...]]:
    """Start points: [x, y] pairs, or for a fit the one parameter vector ([fit] init, else
    the model's seeded initialisation)."""
    if scene.problem.kind != "fit":
        return [tuple(s) for s in scene.starts]
    if scene.fit.init is not None:
        return [tuple(scene.fit.init)]
    return [tuple(fit_data(scene).init_params())]


def build_runset(scene: Scene, *, fast: bool | None = None, total_steps: int | None = None,
                 include_disabled: bool = True):
    """A :class:`gdviz.core.engine.RunSet` that replays the scene's race headless.

    Every run from every start, run index r = start_i * n_runs + run_i (the session's
    order); a fit starts from ``[fit] init`` (or the model's seeded initialisation).
    Returns (runset, runs) where ``runs[r]`` is the :class:`Run` of run index r (a fit
    optimized by [fit.run] has one Run with id "fit").
    """
    import numpy as np

    from gdviz.core.engine import RunSet

    total = total_steps or scene.playback.max_steps
    problem = build_problem(scene, fast=fast)
    runs = [r for r in scene_runs(scene) if r.enabled or include_disabled]
    starts_list = scene_starts(scene)
    configs, schedules, per_index = [], [], []
    for _start in starts_list:
        for r in runs:
            configs.append(r.config())
            schedules.append(r.opt.schedule.build())
            per_index.append(r)
    p = len(starts_list[0])
    starts = np.array([s for s in starts_list for _ in runs], dtype=np.float64).reshape(-1, p)
    noise = scene.noise if scene.problem.kind in ("surface", "expr") else 0.0
    batch = 1 if scene.problem.kind in ("regression", "fit") else scene.batch_size
    rs = RunSet(problem, configs, starts, schedules=schedules, total_steps=total, noise=noise,
                batch_size=batch, seed=scene.seed, fast=fast)
    return rs, per_index


# ----------------------------------------------------------------------------- session bridge

def _session_specs(runs) -> list:
    """RunSpecs for the session, built (and so validated) before anything is touched."""
    from gdviz.core.session import RunSpec

    return [RunSpec(config=r.config(), schedule=r.opt.schedule.build(), label=r.label,
                    enabled=r.enabled) for r in runs]


def _blocked(session):
    """Hold the session's view signals while a scene goes in; the caller emits once after."""
    import contextlib

    stack = contextlib.ExitStack()
    for name in ("problem_changed", "runs_changed", "stepped", "settings_changed",
                 "selection_changed"):
        sig = getattr(session, name, None)
        if sig is not None and hasattr(sig, "blocked"):
            stack.enter_context(sig.blocked())
    return stack


def apply_scene(scene: Scene, session) -> list[str]:
    """Push a validated scene into a :class:`gdviz.core.session.Session`.

    Everything is built and checked first (problem, optimizer configs, schedules), so a
    scene that cannot be applied raises :class:`SceneError` and leaves the session as it
    was. The session ends paused at step 0; start playback if ``scene.playback.autoplay``.
    Views get one of each signal at the end, not one per setting.

    Returns the parts of the scene this session cannot show, for a one-line notice (none
    today). Meta (captions) and export settings are not session state: the window and
    the exporter read them from the scene.
    """
    validate_scene(scene)
    kind = scene.problem.kind
    landscape = data = None
    linked = None
    try:
        runs = scene_runs(scene)
        specs = _session_specs(runs)
        starts = scene_starts(scene)
        if kind in ("surface", "expr"):
            landscape = build_landscape(scene)
        elif kind == "regression":
            data = regression_data(scene)
        else:
            data = fit_data(scene)
            names = data.fit_model().param_names
            linked = tuple(names.index(n) for n in scene.fit.linked)
    except ValueError as exc:
        raise SceneError(f"cannot apply scene: {_first_line(exc)}") from None

    def check(ok, what: str) -> None:
        if ok is False:
            raise SceneError(f"cannot apply scene: the session refused {what}")

    session.pause()
    with _blocked(session):
        check(session.set_seed(scene.seed), "seed")
        if landscape is not None:
            session.set_landscape(landscape, starts)
        elif kind == "regression":
            check(session.set_regression(data, batch_size=scene.batch_size, starts=starts),
                  "the regression data")
        else:
            check(session.set_fit(data, batch_size=_fit_batch(scene) or 10**9,
                                  start=starts[0], linked=linked), "the fit")
        check(session.set_max_steps(scene.playback.max_steps), "max_steps")
        check(session.set_speed(scene.playback.speed), "speed")
        if landscape is not None:
            check(session.set_noise(scene.noise), "noise")
            check(session.set_batch_size(scene.batch_size), "batch_size")
        n_old = session.n_specs
        for spec in specs:
            if session.add_run(spec) < 0:
                raise SceneError("cannot apply scene: the session refused a run")
        for _ in range(n_old):
            check(session.remove_run(0), "to remove a run")
        _palette_colors(session)
        shared = scene.shared_lr if scene.shared_lr is not None else None
        check(session.set_same_lr(scene.same_lr, shared), "same_lr")
        session.set_view_options(
            box=scene.view.box,
            batch_surface=kind == "regression" and scene.problem.regression.batch_surface,
            show_units=scene.fit.show_units)
        session.reset()
        sel = -1
        if scene.playback.step_mode_run:
            ids = [r.id for r in runs]
            sel = ids.index(scene.playback.step_mode_run)  # the run from the first start
        session.select(sel)
    session.problem_changed.emit()
    session.runs_changed.emit()
    session.settings_changed.emit()
    session.selection_changed.emit(session.selected)
    session.stepped.emit()
    return []


def _palette_colors(session) -> None:
    """Give the scene's runs the palette in order (run 1 orange, run 2 sky blue, ...),
    as a fresh session would, whatever colours the replaced runs had held."""
    palette = getattr(importlib.import_module("gdviz.core.session"), "OKABE_ITO", None)
    colors = getattr(session, "colors", None)
    if palette and isinstance(colors, list):
        colors[:] = [palette[i % len(palette)] for i in range(len(colors))]


def _schedule_spec(schedule) -> ScheduleSettings:
    """A Schedule as kind + the applicable parameters that differ from the kind's defaults."""
    from gdviz.core.schedules import Schedule

    default = Schedule(kind=schedule.kind)
    params = []
    for f in fields(schedule):
        if f.name == "kind" or not f.init or f.name not in schedule.spec.fields:
            continue
        v = getattr(schedule, f.name)
        if v == getattr(default, f.name):
            continue
        if isinstance(v, tuple):
            v = tuple(float(x) for x in v)
        elif isinstance(v, float) or (isinstance(f.default, float) and not isinstance(v, bool)):
            v = float(v)
        params.append((f.name, v))
    return ScheduleSettings(str(schedule.kind), tuple(params))


def _unique_id(base: str, taken: set[str]) -> str:
    rid, k = base, 2
    while rid in taken:
        rid, k = f"{base}_{k}", k + 1
    taken.add(rid)
    return rid


def _runs_from_session(session, base_runs) -> tuple[Run, ...]:
    """The session's specs as scene runs; ids and expect_diverge come from ``base_runs``
    while the runs still match them one for one."""
    specs = list(session.specs)
    same = (len(base_runs) == len(specs)
            and all(r.opt.optimizer == s.config.name for r, s in zip(base_runs, specs)))
    taken: set[str] = set()
    runs = []
    for i, spec in enumerate(specs):
        cfg = spec.config
        hyper = {k: v for k, v in cfg.to_dict().items() if k in HYPER_ORDER}
        for k in HYPER_FLOATS:
            if k in hyper:
                hyper[k] = float(hyper[k])
        for k in HYPER_BOOLS:
            if k in hyper:
                hyper[k] = bool(hyper[k])
        opt = OptimizerSettings(optimizer=cfg.name, schedule=_schedule_spec(spec.schedule),
                                **hyper)
        old = base_runs[i] if same else None
        rid = _unique_id(old.id if old else cfg.name, taken)
        runs.append(Run(id=rid, label=spec.label, opt=opt, enabled=bool(spec.enabled),
                        expect_diverge=old.expect_diverge if old else False))
    return tuple(runs)


def _points(data) -> tuple[tuple[float, float], ...] | None:
    return None if data is None else tuple((float(x), float(y)) for x, y in data)


def scene_from_session(session, base: Scene | None = None) -> Scene:
    """The scene that replays the session's current state.

    Every applicable hyperparameter is written out (not left to defaults), so the file
    replays the same numbers even if a default changes later. What the session does not
    hold (meta, export, autoplay, run ids and expect_diverge when the runs still match)
    is taken from ``base``, usually the scene that was opened.
    """
    base = base or Scene()
    kind = session.kind
    land = session.landscape
    prob = dataclasses.replace(base.problem, kind=kind)
    fit = base.fit
    base_runs = scene_runs(base) if base.problem.kind == kind else ()
    runs = _runs_from_session(session, base_runs)
    starts = tuple(tuple(float(v) for v in s) for s in session.starts)
    batch = int(session.batch_size)
    if kind == "surface":
        prob = dataclasses.replace(prob, surface=str(land.name))
    elif kind == "expr":
        prob = dataclasses.replace(prob, expr=str(land.label))
    elif kind == "regression":
        d = session.data
        prob = dataclasses.replace(prob, regression=Regression(
            n=d.n, w=d.w, b=d.b, noise=d.noise, seed=d.seed, loss=d.loss,
            batch_surface=bool(session.batch_surface), data=_points(d.points)))
    else:
        d = session.data
        names = session.all_param_names
        fit = dataclasses.replace(
            fit, enabled=True, target=d.target, target_expr=d.target_expr, model=d.model,
            units=d.units, points=d.points, noise=d.noise, seed=d.seed,
            val_fraction=d.val_fraction, loss=d.loss,
            batch_size=0 if batch >= session.n_train else batch,
            show_units=bool(session.show_units), init=tuple(float(v) for v in starts[0]),
            linked=tuple(names[i] for i in session.linked), data=_points(d.points_data))
        if len(runs) == 1 and not base.runs:
            # one optimizer: [fit.run], with its weight decay as the panel's slider
            one = runs[0].opt
            fit = dataclasses.replace(fit, weight_decay=float(one.weight_decay or 0.0),
                                      run=dataclasses.replace(one, weight_decay=None))
            runs = ()
        else:
            fit = dataclasses.replace(fit, weight_decay=0.0, run=Fit().run)
        starts = ()
        batch = base.batch_size
    step_mode = ""
    if 0 <= session.selected < session.n_runs:
        ids = [r.id for r in runs] or ["fit"]
        step_mode = ids[session.spec_index(session.selected)]
    specs = list(session.specs)
    shared = float(session.shared_lr)
    keep_shared = session.same_lr or (specs and shared != float(specs[0].config.lr))
    view = dataclasses.replace(base.view, box=tuple(float(v) for v in session.view)
                               if session.view is not None else None)
    scene = dataclasses.replace(
        base,
        version=FORMAT_VERSION,
        seed=int(session.seed),
        noise=float(session.noise) if kind in ("surface", "expr") else base.noise,
        batch_size=batch,
        starts=starts,
        same_lr=bool(session.same_lr),
        shared_lr=shared if keep_shared else None,
        problem=prob,
        fit=fit,
        view=view,
        playback=dataclasses.replace(base.playback, speed=float(session.speed),
                                     max_steps=int(session.max_steps), step_mode_run=step_mode),
        runs=tuple(runs),
    )
    return validate_scene(scene)
