"""What the engine runs for a scene: its landscape or data problem, its runs and start
points, and a headless :class:`gdviz.core.engine.RunSet` that replays the race."""

from __future__ import annotations

import dataclasses

import numpy as np

from gdviz.core.engine import RunSet
from gdviz.core.problems import FitData, RegressionData
from gdviz.core.scene.schema import Run, Scene, SceneError
from gdviz.core.surfaces import Landscape

__all__ = ["build_landscape", "regression_data", "fit_data", "build_dataset", "build_problem",
           "build_fit_problem", "fit_config", "classify_data", "scene_runs", "scene_starts", "build_runset"]


def build_landscape(scene: Scene):
    """The :class:`gdviz.core.surfaces.Landscape` of a surface or expression scene
    (an expression gets the scene's view box when it sets one)."""
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
    r = scene.problem.regression
    return RegressionData(r.n, r.w, r.b, r.noise, r.seed, r.loss, points=r.data)


def fit_data(scene: Scene):
    """The :class:`gdviz.core.problems.FitData` of the scene's fit panel."""
    f = scene.fit
    return FitData(f.target, f.target_expr, f.model, f.units, f.points, f.noise, f.seed,
                   f.val_fraction, f.loss, points_data=f.data, layers=f.layers,
                   activation=f.activation)


def build_dataset(scene: Scene):
    """The fit panel's :class:`gdviz.core.data.Dataset` (target or target_expr sampled)."""
    return fit_data(scene).dataset()


def classify_data(scene: Scene, folder=None):
    """The :class:`gdviz.core.classifier.ClassifyData` of a classification scene. The points
    are [classify] data, else the CSV file ``csv`` (relative to ``folder``, the scene's
    folder), else the generated ``dataset``. Raises ValueError (one line)."""
    from pathlib import Path

    from gdviz.core.classifier import ClassifyData
    from gdviz.core.classify import load_class_csv

    c = scene.classify
    data = c.data
    if data is None and c.csv:
        p = Path(c.csv)
        if folder is not None and not p.is_absolute():
            p = Path(folder) / p
        X, y = load_class_csv(p)
        data = tuple((float(a), float(b), float(v)) for (a, b), v in zip(X, y))
    return ClassifyData(c.dataset, c.points, c.noise, c.seed, c.val_split, c.layers, c.units,
                        c.activation, points_data=data, source=Path(c.csv).name if c.csv else "")


def _classify_batch(scene: Scene) -> int | None:
    return None if scene.classify.batch_size <= 0 else scene.classify.batch_size


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
    if kind == "classify":
        return classify_data(scene).build(_classify_batch(scene), scene.seed, fast)
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
    if scene.problem.kind == "classify":
        if scene.classify.init is not None:
            return [tuple(scene.classify.init)]
        return [tuple(classify_data(scene).init_params())]
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
    batch = 1 if scene.problem.kind in ("regression", "fit", "classify") else scene.batch_size
    rs = RunSet(problem, configs, starts, schedules=schedules, total_steps=total, noise=noise,
                batch_size=batch, seed=scene.seed, fast=fast)
    return rs, per_index
