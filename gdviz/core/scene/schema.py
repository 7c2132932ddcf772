"""The scene schema: frozen dataclasses whose fields carry their TOML key, type and
range in ``metadata``, the parser that checks a TOML table against them, and the
cross-field validation. Every message is one line that names the key (and the file,
added by :mod:`gdviz.core.scene.toml_io`).

Hyperparameters, schedules, expressions, surfaces and models are validated by the
modules that own them, through their registries.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import weakref
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

import numpy as np

from gdviz.core import data as data_mod
from gdviz.core import expr as expr_mod
from gdviz.core import models as models_mod
from gdviz.core import optimizers as optimizers_mod
from gdviz.core import schedules as schedules_mod
from gdviz.core import surfaces as surfaces_mod
from gdviz.core.limits import (
    MAX_BATCH_SIZE,
    MAX_COORD,
    MAX_EXPORT_HEIGHT,
    MAX_EXPORT_WIDTH,
    MAX_FPS,
    MAX_LEVELS,
    MAX_POINTS,
    MAX_POINTS_X_PARAMS,
    MAX_POINTS_X_UNITS,
    MAX_SPEED,
    MAX_STEPS,
    MAX_STEPS_PER_FRAME,
    MAX_UNITS,
    MAX_LAYERS,
    MIN_EXPORT_SIZE,
    MAX_QUOTE,
    MIN_LEVELS,
    check_view_box,
)
from gdviz.core.limits import LR_MAX, LRFIND_MAX_IT, TUNE_MAX_LRS, runs_limit_message
from gdviz.core.panels import PANELS  # one list for scene, window, export and CLI
from gdviz.core.rows import Rows
from gdviz.core.userinput import quote

__all__ = [
    "FORMAT_VERSION", "LANGS", "PANELS", "HYPER_FLOATS", "HYPER_BOOLS", "HYPER_ORDER",
    "SceneError", "Text", "Meta", "Regression", "Problem", "ScheduleSettings",
    "OptimizerSettings", "Run", "Fit", "Classify", "View", "Playback", "Export", "LrFind", "Scene",
    "validate_scene",
    "as_table",
]

#: the scene format this gdviz writes and the newest one it reads
FORMAT_VERSION = 1
#: caption languages, in the order they are written
LANGS = ("en", "zh-Hant", "zh-Hans")

HYPER_FLOATS = ("lr", "momentum", "dampening", "alpha", "eps", "beta1", "beta2",
                "weight_decay", "lr_decay", "initial_accumulator_value")
HYPER_BOOLS = ("nesterov", "amsgrad", "centered")
#: OptimizerConfig's field order (torch.optim's names)
HYPER_ORDER = ("lr", "momentum", "dampening", "nesterov", "alpha", "eps", "beta1", "beta2",
               "weight_decay", "lr_decay", "initial_accumulator_value", "amsgrad", "centered")



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

    n: int = _k("int", 50, ge=2, le=MAX_POINTS)
    w: float = _k("float", 2.0, ge=-MAX_COORD, le=MAX_COORD)
    b: float = _k("float", 1.0, ge=-MAX_COORD, le=MAX_COORD)
    noise: float = _k("float", 0.5, ge=0, le=MAX_COORD)
    seed: int = _k("int", 0, ge=0)
    loss: str = _k("choice", "mse", choices=("mse", "mae"))
    #: draw the current mini-batch's own loss surface (lesson L6)
    batch_surface: bool = _k("bool", False)
    #: the points themselves, [[x, y], ...] (e.g. loaded from a CSV); replaces n, w, b,
    #: noise and seed when present
    data: tuple[tuple[float, float], ...] | None = _k("points", optional=True, max_len=MAX_POINTS)


@dataclass(frozen=True)
class Problem:
    #: surface: a built-in surface; expr: f(x, y) typed in; regression: L(w, b) of linear
    #: regression data; fit: the fit panel's loss over the two parameters in [fit] linked
    kind: str = _k("choice", "surface",
                   choices=("surface", "expr", "regression", "fit", "classify"))
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
    units: int = _k("int", 3, ge=1, le=MAX_UNITS)
    points: int = _k("int", 50, ge=2, le=MAX_POINTS)
    noise: float = _k("float", 0.1, ge=0, le=MAX_COORD)
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
    init: tuple[float, ...] | None = _k("floats", optional=True, max_len=4096)
    #: two parameter names whose loss slice the landscape shows (linked view); empty = off
    linked: tuple[str, ...] = _k("names", (), max_len=2)
    #: the points themselves, [[x, y], ...] (e.g. loaded from a CSV); replaces target,
    #: points, noise and the sampling when present
    data: tuple[tuple[float, float], ...] | None = _k("points", optional=True, max_len=MAX_POINTS)
    run: OptimizerSettings = _k("table", OptimizerSettings(optimizer="adam", lr=None),
                                omit_default=True)
    #: model = "network": hidden layers (of ``units`` each, at most 32) and their activation
    layers: int = _k("int", 1, ge=1, le=MAX_LAYERS, omit_default=True)
    activation: str = _k("choice", "relu", choices=("relu", "sigmoid", "tanh", "hard-sigmoid",
                                                    "linear"), omit_default=True)
    #: the network picture's highlighted hidden neuron (0-based over all hidden layers), -1 none
    neuron: int = _k("int", -1, ge=-1, le=MAX_LAYERS * 32, omit_default=True)


@dataclass(frozen=True)
class Classify:
    """Classification on the plane (issue 12): two-class points and the network.

    The runs are [runs.*] (a race); ``starts`` is not used (every run starts from the
    network's parameters: ``init``, else the seeded initialisation)."""

    #: circles, xor, gauss or spiral (TF Playground's sets)
    dataset: str = _k("choice", "circles", choices=("circles", "xor", "gauss", "spiral"))
    points: int = _k("int", 300, ge=10, le=MAX_POINTS)
    noise: float = _k("float", 0.0, ge=0, le=0.5)
    seed: int = _k("int", 0, ge=0)
    #: the fraction of the points held out for validation
    val_split: float = _k("float", 0.3, ge=0, le=0.5)
    layers: int = _k("int", 1, ge=0, le=4)
    units: int = _k("int", 4, ge=1, le=32)
    activation: str = _k("choice", "relu",
                         choices=("relu", "sigmoid", "tanh", "hard-sigmoid", "linear"))
    #: a CSV file of x1, x2, label (relative to the scene's folder) used instead of
    #: dataset when ``data`` is absent; with ``data`` it only names where they came from
    csv: str = _k("str", "")
    #: the points themselves, [[x1, x2, label], ...]; replaces dataset when present
    data: tuple[tuple[float, float, float], ...] | None = _k("triples", optional=True,
                                                            max_len=MAX_POINTS)
    #: 0 = the whole training set
    batch_size: int = _k("int", 0, ge=0)
    #: two parameter names whose loss slice the map shows; empty = two output weights
    linked: tuple[str, ...] = _k("names", (), max_len=2)
    #: the start parameters (torch's order); omitted = the seeded initialisation
    init: tuple[float, ...] | None = _k("floats", optional=True, max_len=100_000)


@dataclass(frozen=True)
class View:
    #: x0, x1, y0, y1; None = the problem's own view box
    box: tuple[float, float, float, float] | None = _k("floats", optional=True, length=4)
    levels: int = _k("int", 20, ge=MIN_LEVELS, le=MAX_LEVELS)
    scale: str = _k("choice", "auto", choices=("auto", "log", "linear"))
    heatmap: bool = _k("bool", True)
    #: the map: the contour map ("2d"), the 3-D surface ("3d") or both side by side
    map: str = _k("choice", "2d", choices=("2d", "3d", "both"), omit_default=True)
    #: the 3-D surface's height is log10 of the loss above its minimum
    log_height: bool = _k("bool", False, omit_default=True)
    #: the 3-D view's camera: azimuth, elevation (degrees), distance; omitted = the default
    camera: tuple[float, float, float] | None = _k("floats", optional=True, length=3)
    #: basin map mode of the landscape (off | basins | steps), the hyper-map panel's y axis
    #: (off | momentum | beta1 | beta2 | batch_size) and its colour (loss | steps)
    map_layer: str = _k("choice", "off", choices=("off", "basins", "steps"), omit_default=True)
    hyper: str = _k("choice", "off", choices=("off", "momentum", "beta1", "beta2",
                                              "batch_size"), omit_default=True)
    hyper_color: str = _k("choice", "loss", choices=("loss", "steps"), omit_default=True)


@dataclass(frozen=True)
class Playback:
    speed: float = _k("float", 60.0, gt=0, le=MAX_SPEED)
    max_steps: int = _k("int", 500, ge=1, le=MAX_STEPS)
    #: the run shown in step-by-step mode ("" = none)
    step_mode_run: str = _k("str", "")
    autoplay: bool = _k("bool", True)


@dataclass(frozen=True)
class Export:
    fps: int = _k("int", 30, ge=1, le=MAX_FPS)
    #: width, height in pixels (the height at most MAX_EXPORT_HEIGHT, checked in _validate)
    size: tuple[int, int] = _k("ints", (1280, 720), length=2, ge=MIN_EXPORT_SIZE,
                               le=MAX_EXPORT_WIDTH)
    steps: int = _k("int", 300, ge=1, le=MAX_STEPS)
    steps_per_frame: int = _k("int", 1, ge=1, le=MAX_STEPS_PER_FRAME)
    panels: tuple[str, ...] = _k("strs", ("landscape", "loss", "caption"), choices=PANELS)


@dataclass(frozen=True)
class LrFind:
    """The lr finder and the fair race, as a scene reopens them (gdviz.core.lrfind)."""

    #: sweep when the scene opens and show the plot
    show: bool = _k("bool", False)
    #: the run swept from ("" = the step-mode run, else the first)
    run: str = _k("str", "")
    #: the race step it sweeps from
    at_step: int = _k("int", 0, ge=0, le=MAX_STEPS)
    start_lr: float = _k("float", 1e-7, gt=0, le=LR_MAX)
    end_lr: float = _k("float", 10.0, gt=0, le=LR_MAX)
    num_it: int = _k("int", 100, ge=2, le=LRFIND_MAX_IT)
    #: tune each optimizer when the scene opens and show the table (the lrs are not changed)
    tune: bool = _k("bool", False)
    tune_lrs: int = _k("int", 24, ge=2, le=TUNE_MAX_LRS)
    #: steps a tuning scores after (0: the race's max_steps)
    tune_steps: int = _k("int", 0, ge=0, le=MAX_STEPS)


@dataclass(frozen=True)
class Scene:
    """Everything needed to replay a demo. Build with keywords; all fields have defaults."""

    version: int = _k("int", FORMAT_VERSION)
    seed: int = _k("int", 0, ge=0)
    #: gradient noise std at batch size 1 (landscapes: std = noise / sqrt(batch_size))
    noise: float = _k("float", 0.0, ge=0)
    batch_size: int = _k("int", 1, ge=1, le=MAX_BATCH_SIZE)
    starts: tuple[tuple[float, float], ...] = _k("points", ((-1.5, 2.0),), max_len=4096)
    same_lr: bool = _k("bool", False)
    shared_lr: float | None = _k("float", optional=True)
    meta: Meta = _k("table", Meta())
    problem: Problem = _k("table", Problem())
    view: View = _k("table", View())
    playback: Playback = _k("table", Playback())
    export: Export = _k("table", Export())
    fit: Fit = _k("table", Fit(), omit_default=True)
    lrfind: LrFind = _k("table", LrFind(), omit_default=True)
    classify: Classify = _k("table", Classify(), omit_default=True)
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

class LiftedRows:
    """A big ``data = [[x, y], ...]`` array that :mod:`toml_io` read without tomllib (its
    pure-Python array parser took ~0.7 s for 100,000 points): the text it was cut from,
    the rows (:class:`Rows`), how many numbers a row has, and whether every third number
    is a 0/1 label. :func:`_convert` takes the rows as they are where
    the key is a points (``arity`` 2) or triples (3) key and they pass its checks; anywhere
    else, or for any message, the array is the list tomllib reads from the same text."""

    __slots__ = ("text", "rows", "arity", "labels01")

    def __init__(self, text: str | None, rows: Rows, arity: int, labels01: bool):
        self.text, self.rows, self.arity, self.labels01 = text, rows, arity, labels01

    @classmethod
    def of(cls, rows: Rows, text: str | None = None) -> "LiftedRows":
        """``rows`` as read from ``text`` (toml_io), or as a Scene holds them when they go
        through its check again (validate_scene; ``text`` None)."""
        a = rows.array
        arity = a.shape[1] if a.ndim == 2 and a.shape[0] else 0
        return cls(text, rows, arity, arity == 3 and bool(np.isin(a[:, 2], (0.0, 1.0)).all()))

    def rows_for(self, kind: str, md) -> Rows | None:
        """The rows, if a ``kind`` key takes them unchanged; else None."""
        if not self.rows.finite or (md["max_len"] is not None and len(self.rows) > md["max_len"]):
            return None
        if (kind, self.arity) == ("points", 2) or ((kind, self.arity) == ("triples", 3)
                                                   and self.labels01):
            return self.rows
        return None

    def as_list(self) -> list:
        """The array as tomllib reads it (ints stay ints), for every other use."""
        if self.text is None:
            return [list(r) for r in self.rows]
        from gdviz.core.scene.toml_io import tomllib

        return tomllib.loads("v = " + self.text)["v"]


def _where(path: str) -> str:
    return f"[{path}] " if path else ""


def _in(path: str) -> str:
    return f"in [{path}]" if path else "at the top level"


def _q(value: Any) -> str:
    """User text quoted in a message: repr of at most MAX_QUOTE characters."""
    return repr(quote(value))


def _show(value: Any, depth: int = 0) -> str:
    """A value as the user wrote it (TOML-ish), at most about MAX_QUOTE characters."""
    if type(value) is LiftedRows:
        value = value.as_list()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _q(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        if depth > 3:
            return "[...]"
        return quote("[" + ", ".join(_show(v, depth + 1) for v in value[:8])
                     + (", ...]" if len(value) > 8 else "]"))
    return quote(repr(value) if isinstance(value, float) else str(value))


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
    norm = re.sub(r"[-\s]", "_", word.lower())
    alias = _ALIASES.get(norm)
    if alias in choices:
        return alias
    # a typo in a word people type for a short name: 'learnig_rate' -> 'lr'
    typed = difflib.get_close_matches(norm, [a for a, t in _ALIASES.items() if t in choices],
                                      n=1, cutoff=0.8)
    if typed:
        return _ALIASES[typed[0]]
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


_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    """A table key as TOML writes it in a path: bare when it can be, else quoted (at most
    MAX_QUOTE characters)."""
    k = quote(k)
    return k if _BARE.match(k) else '"' + k.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unknown_name(path: str, what: str, key: str, name: str, choices) -> _Invalid:
    return _Invalid(f"{_where(path)}{key} = {_q(name)}: unknown {what}{_suggest(name, choices)}")


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
    try:
        value = float(raw)
    except OverflowError:  # an integer of hundreds of digits
        value = math.inf
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
    if type(raw) is LiftedRows:
        rows = raw.rows_for(kind, md)
        if rows is not None:
            return rows
        raw = raw.as_list()
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
            raise _Invalid(f"{_where(path)}{key} = {_q(raw)} is invalid{hint} "
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
    if kind == "triples":
        items = _list(path, key, raw, "a list of [x1, x2, label] points", md)
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, list) or len(item) != 3:
                raise _Invalid(f"{_where(path)}{key}[{i}] must be a point [x1, x2, label], "
                               f"got {_show(item)}")
            row = tuple(_number(path, f"{key}[{i}]", v) for v in item)
            if row[2] not in (0.0, 1.0):
                raise _Invalid(f"{_where(path)}{key}[{i}]: label must be 0 or 1, "
                               f"got {_show(item[2])}")
            out.append(row)
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
                raise _Invalid(f"{_where(path)}{key}: unknown entry {_q(item)}"
                               f"{_suggest(item, md['choices'])}")
            if item in out:
                raise _Invalid(f"{_where(path)}{key}: {_q(item)} is listed twice")
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
            raise _Invalid(f"unknown key {_q(key)} {_in(path)}{_suggest(key, schema)}")
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
    kind = raw.get("kind", "constant")
    if not isinstance(kind, str):
        raise _Invalid(f"[{path}] kind must be a string, got {_show(kind)}")
    registry = schedules_mod.SCHEDULES
    if kind not in registry:
        raise _unknown_name(path, "schedule", "kind", kind, registry)
    sfields = [f for f in fields(schedules_mod.Schedule) if f.name != "kind" and f.init]
    allowed = {f.name: f for f in sfields}
    applicable = tuple(registry[kind].fields)
    for key in raw:
        if key == "kind":
            continue
        if key not in allowed:
            raise _Invalid(f"unknown key {_q(key)} in [{path}]"
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

def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return quote(text.splitlines()[0], 4 * MAX_QUOTE) if text else type(exc).__name__


_INVALID_RE = re.compile(r"^Invalid (?P<what>.+?)(?: parameter| value)?(?: at index \d+)?: "
                         r"(?P<value>[^\s(]+)\s*\((?P<why>.+)\)\s*$")


def _reason(message: str) -> str:
    """'Invalid learning rate: -1 (must be > 0)' -> 'learning rate must be > 0'."""
    m = _INVALID_RE.match(message)
    if m:
        return f"{m.group('what')} {m.group('why')}"
    return message


def _check_optimizer(opt: OptimizerSettings, path: str) -> None:
    specs = optimizers_mod.OPTIMIZERS
    if opt.optimizer not in specs:
        raise _unknown_name(path, "optimizer", "optimizer", opt.optimizer, specs)
    applicable = tuple(specs[opt.optimizer].fields)
    hyper = opt.hyper()
    for name in hyper:
        if name not in applicable:
            raise _Invalid(f"{_where(path)}{name} does not apply to {opt.optimizer} "
                           f"(its hyperparameters: {', '.join(applicable)})")
    try:
        optimizers_mod.make_optimizer(opt.optimizer, **hyper)
    except ValueError as exc:
        # find the key to blame: the first that fails on its own
        for name, value in hyper.items():
            try:
                optimizers_mod.make_optimizer(opt.optimizer, **{name: value})
            except ValueError as one:
                shown = (str(int(value)) if isinstance(value, float) and value.is_integer()
                         and abs(value) < 1e15 else _show(value))
                raise _Invalid(f"{_where(path)}{name} = {shown} is invalid: "
                               f"{_reason(_first_line(one))}") from None
        raise _Invalid(f"{_where(path)}{_reason(_first_line(exc))}") from None


def _check_expr(text: str, path: str, key: str, variables: tuple[str, ...]) -> None:
    try:
        expr_mod.compile_expr(text, variables=variables)
    except ValueError as exc:
        raise _Invalid(f"{_where(path)}{key} = {_q(text)}: {_first_line(exc)}") from None


def _fit_model_names(fit: Fit) -> tuple[str, ...]:
    """Parameter names of the fit model."""
    try:
        return tuple(models_mod.make_model(fit.model, fit.units, fit.layers,
                                           fit.activation).param_names)
    except ValueError as exc:
        raise _Invalid(f"[fit] {_first_line(exc)}") from None


def _check_coords(path: str, key: str, rows) -> None:
    """Every number in ``rows`` (points, or one parameter vector) within +-MAX_COORD."""
    if rows is None or (type(rows) is Rows and rows.max_abs <= MAX_COORD):
        return
    for i, row in enumerate(rows):
        for v in row:
            if not abs(v) <= MAX_COORD:
                at = f"{key}[{i}]" if len(rows) > 1 or key != "init" else key
                raise _Invalid(f"{_where(path)}{at} has {v!r}: values must be between "
                               f"{-MAX_COORD:g} and {MAX_COORD:g}")


def _validate(scene: Scene) -> None:
    if scene.version != FORMAT_VERSION:  # parsing checks this first; this is for built scenes
        raise _Invalid(f"version = {scene.version} is not supported (this gdviz reads "
                       f"version {FORMAT_VERSION})")
    p = scene.problem
    if p.kind == "surface":
        if p.surface not in surfaces_mod.SURFACES:
            raise _unknown_name("problem", "surface", "surface", p.surface, surfaces_mod.SURFACES)
    if p.kind == "expr" and not p.expr.strip():
        raise _Invalid("[problem] kind = 'expr' needs expr = \"f(x, y)\"")
    if p.expr.strip():
        _check_expr(p.expr, "problem", "expr", ("x", "y"))
    height = scene.export.size[1]
    if not MIN_EXPORT_SIZE <= height <= MAX_EXPORT_HEIGHT:
        raise _Invalid(f"[export] size[1] = {height} is invalid: the height must be between "
                       f"{MIN_EXPORT_SIZE} and {MAX_EXPORT_HEIGHT}")
    if scene.view.camera is not None:
        from gdviz.core.view3d import check_camera

        try:
            check_camera(scene.view.camera)
        except ValueError as exc:
            raise _Invalid(f"[view] {exc}") from None
    if scene.view.box is not None:
        try:
            check_view_box(scene.view.box)
        except ValueError as exc:
            raise _Invalid(str(exc).replace("view box", "[view] box =", 1)) from None
    _check_coords("", "starts", scene.starts)
    _check_coords("problem.regression", "data", scene.problem.regression.data)
    _check_coords("fit", "data", scene.fit.data)
    _check_coords("fit", "init", None if scene.fit.init is None else (scene.fit.init,))
    spec = models_mod.MODELS.get(scene.fit.model)
    if spec is not None and spec.kind == "units" and (scene.fit.enabled or p.kind == "fit"):
        n = len(scene.fit.data) if scene.fit.data is not None else scene.fit.points
        if n * scene.fit.units > MAX_POINTS_X_UNITS:
            raise _Invalid(f"[fit] {n} points x {scene.fit.units} units is too much work: "
                           f"points x units must be at most {MAX_POINTS_X_UNITS}")
    if spec is not None and spec.kind == "network" and (scene.fit.enabled or p.kind == "fit"):
        n = len(scene.fit.data) if scene.fit.data is not None else scene.fit.points
        try:
            models_mod.check_network_size(models_mod.make_model(
                "network", scene.fit.units, scene.fit.layers, scene.fit.activation), n)
        except ValueError as exc:
            raise _Invalid(f"[fit] {_first_line(exc)}") from None
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
    if p.kind == "classify" or scene.classify != Classify():
        _validate_classify(scene)
    if not scene.starts and scene.runs and p.kind not in ("fit", "classify"):
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
    # the racers' ids (build.scene_runs): a fit optimized by [fit.run] has the one run "fit"
    ids = [r.id for r in scene.runs] if scene.runs or p.kind != "fit" else ["fit"]
    n_starts = 1 if p.kind in ("fit", "classify") else len(scene.starts)
    too_many = runs_limit_message(n_starts, len(ids))
    if too_many:
        raise _Invalid(too_many)
    sm = scene.playback.step_mode_run
    if sm and sm not in ids:
        raise _Invalid(f"[playback] step_mode_run = {_q(sm)} is not a run"
                       f"{_suggest(sm, ids)}")
    lf = scene.lrfind
    if lf.run and lf.run not in ids:
        raise _Invalid(f"[lrfind] run = {_q(lf.run)} is not a run{_suggest(lf.run, ids)}")
    if not lf.start_lr < lf.end_lr:
        raise _Invalid(f"[lrfind] start_lr = {lf.start_lr!r} must be below end_lr = "
                       f"{lf.end_lr!r}")
    if lf.at_step > scene.playback.max_steps:
        raise _Invalid(f"[lrfind] at_step = {lf.at_step} is past [playback] max_steps = "
                       f"{scene.playback.max_steps}")
    fit = scene.fit
    if fit.enabled or fit != Fit():
        targets = data_mod.TARGETS
        if not fit.target_expr.strip() and fit.target not in targets:
            raise _unknown_name("fit", "target", "target", fit.target, targets)
        if fit.target_expr.strip():
            _check_expr(fit.target_expr, "fit", "target_expr", ("x",))
        if fit.model not in models_mod.MODELS:
            raise _unknown_name("fit", "model", "model", fit.model, models_mod.MODELS)
        if fit.run.weight_decay is not None:
            raise _Invalid("[fit.run] weight_decay: set it once, as [fit] weight_decay")
        _check_optimizer(fit.run, "fit.run")
        names = _fit_model_names(fit)
        for name in fit.linked:
            if name not in names:
                raise _unknown_name("fit", "parameter", "linked", name, names)
        if fit.init is not None and len(fit.init) != len(names):
            raise _Invalid(f"[fit] init has {len(fit.init)} values; model {fit.model!r} "
                           f"has {len(names)} parameters ({', '.join(names[:8])}"
                           f"{', ...' if len(names) > 8 else ''})")
        if len(fit.linked) not in (0, 2):
            raise _Invalid(f"[fit] linked must name two parameters, got {len(fit.linked)}")


def _validate_classify(scene: Scene) -> None:
    """[classify]: the network's parameter names for linked and init, the data's size."""
    from gdviz.core.classifier import NetModel

    c = scene.classify
    _check_coords("classify", "data", c.data if c.data is None or type(c.data) is Rows
                  else [r[:2] for r in c.data])  # (a Rows' labels, 0 and 1, are within)
    _check_coords("classify", "init", None if c.init is None else (c.init,))
    if c.data is not None and len(c.data) < 2:
        raise _Invalid(f"[classify] data has {len(c.data)} point; at least 2")
    names = NetModel(c.layers, c.units, c.activation).param_names
    for name in c.linked:
        if name not in names:
            raise _unknown_name("classify", "parameter", "linked", name, names)
    if len(c.linked) not in (0, 2):
        raise _Invalid(f"[classify] linked must name two parameters, got {len(c.linked)}")
    if c.init is not None and len(c.init) != len(names):
        raise _Invalid(f"[classify] init has {len(c.init)} values; a {c.layers}-layer "
                       f"network of {c.units} units has {len(names)} parameters")
    n = len(c.data) if c.data is not None else c.points
    if n * len(names) > MAX_POINTS_X_PARAMS:
        raise _Invalid(f"[classify] {n} points x {len(names)} parameters is too much work: "
                       f"at most {MAX_POINTS_X_PARAMS}")


def _plain(v: Any) -> Any:
    """A field value as TOML holds it: tuples as lists (Rows as a LiftedRows, which the
    check takes back as they are: 0.3 s at 100,000 points, number by number)."""
    if type(v) is Rows:
        return LiftedRows.of(v)
    return [_plain(x) for x in v] if isinstance(v, (tuple, list)) else v


def as_table(obj, put_rows: Callable[[Any], str] | None = None) -> dict[str, Any]:
    """``obj`` (a Scene or one of its parts) as its TOML table: keys in field order
    (flattened ones inline), unset optional keys left out, and sub-tables that are still
    their default left out where the schema says so. With ``put_rows``, a points or
    triples value (data, starts) is the string put_rows gives for it (the writer's
    placeholder for the rows it writes itself)."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        md = f.metadata
        if "kind" not in md:
            continue
        v = getattr(obj, f.name)
        key = md["key"] or f.name
        kind = md["kind"]
        if kind == "flatten":
            out.update(as_table(v, put_rows))
        elif md["omit_default"] and v == f.default:
            continue
        elif kind == "table":
            out[key] = as_table(v, put_rows)
        elif kind == "schedule":
            out[key] = {"kind": v.kind, **{k: _plain(x) for k, x in v.params}}
        elif kind == "runs":
            if v:
                out[key] = {run.id: as_table(run, put_rows) for run in v}
        elif v is not None:
            out[key] = (put_rows(v) if put_rows is not None and kind in ("points", "triples")
                        else _plain(v))
    return out


#: the Scene objects checked already (a loaded file's, one validate_scene passed): a Scene
#: is frozen through and through and the checks read nothing else, so a scene once valid
#: stays valid, and a lesson opened is not checked again as it is applied (6 ms for 30 runs)
_checked: weakref.WeakValueDictionary[int, Scene] = weakref.WeakValueDictionary()


def _mark_checked(scene: Scene) -> Scene:
    _checked[id(scene)] = scene
    return scene


def validate_scene(scene: Scene, source: str = "<scene>") -> Scene:
    """Check a Scene built in code as a loaded file would be (every key's type and range,
    then the cross-field rules); returns it or raises SceneError."""
    if _checked.get(id(scene)) is scene:
        return scene
    try:
        _parse_table(Scene, as_table(scene), "")
        _validate(scene)
    except _Invalid as exc:
        raise SceneError(f"{_name(source)}: {exc}") from None
    return _mark_checked(scene)


def _name(source: str | os.PathLike) -> str:
    s = str(source)
    return quote(s if s.startswith("<") else Path(s).name)


