"""The session bridge: push a validated :class:`Scene` into a
:class:`gdviz.core.session.Session` (:func:`apply_scene`) and read one back
(:func:`scene_from_session`).

The session is imported inside the functions: the session may import the scene schema
(a scene is the session's snapshot), and a module-level import here would be a cycle.
"""

from __future__ import annotations

import dataclasses
from dataclasses import fields

from gdviz.core.rows import Rows
from gdviz.core.scene.build import (
    _classify_batch,
    _fit_batch,
    build_landscape,
    classify_data,
    fit_data,
    regression_data,
    scene_runs,
    scene_starts,
)
from gdviz.core.scene.schema import (
    FORMAT_VERSION,
    Classify,
    HYPER_BOOLS,
    HYPER_FLOATS,
    HYPER_ORDER,
    Fit,
    LrFind,
    OptimizerSettings,
    Regression,
    Run,
    Scene,
    SceneError,
    ScheduleSettings,
    _first_line,
    validate_scene,
)

__all__ = ["apply_scene", "scene_from_session", "scene_state"]


def _session_specs(runs) -> tuple:
    """RunSpecs for the session (validated as they are built); a label that spells out the
    run's lr becomes a template that follows the live lr (see ``RunSpec``)."""
    from gdviz.core.session import RunSpec

    return tuple(RunSpec(config=r.config(), schedule=r.opt.schedule.build(), label=r.label,
                         enabled=r.enabled) for r in runs)


def scene_state(scene: Scene, base=None):
    """The :class:`gdviz.core.session.SessionState` a scene describes. What a scene does
    not hold (theme, panels) comes from ``base`` (default: a fresh session's). Builds and
    checks the problem's settings, configs and schedules; raises ValueError."""
    from gdviz.core.session import SessionState

    kind = scene.problem.kind
    runs = scene_runs(scene)
    specs = _session_specs(runs)
    starts = tuple(tuple(float(v) for v in p) for p in scene_starts(scene))
    landscape = data = linked = None
    batch = scene.batch_size
    if kind in ("surface", "expr"):
        landscape = build_landscape(scene)
    elif kind == "regression":
        data = regression_data(scene)
    elif kind == "classify":
        data = classify_data(scene)
        names = data.model.param_names
        if scene.classify.linked:
            linked = tuple(names.index(n) for n in scene.classify.linked)
        batch = _classify_batch(scene) or 10**9  # 0: the whole training set (clamped)
    else:
        data = fit_data(scene)
        names = data.fit_model().param_names
        if scene.fit.linked:
            linked = tuple(names.index(n) for n in scene.fit.linked)
        batch = _fit_batch(scene) or 10**9  # 0: the whole training set (clamped)
    selected = -1
    if scene.playback.step_mode_run:
        selected = [r.id for r in runs].index(scene.playback.step_mode_run)  # first start
    base = base if base is not None else SessionState()
    return dataclasses.replace(
        base, kind=kind, landscape=landscape, data=data, specs=specs, colors=None,
        starts=starts, seed=scene.seed, noise=scene.noise, batch_size=batch,
        max_steps=scene.playback.max_steps, speed=scene.playback.speed,
        same_lr=scene.same_lr, shared_lr=scene.shared_lr, selected=selected,
        neuron=scene.fit.neuron if kind == "fit" else -1,
        view=scene.view.box,
        batch_surface=kind == "regression" and scene.problem.regression.batch_surface,
        show_units=scene.fit.show_units, linked=linked, heatmap=scene.view.heatmap,
        levels=scene.view.levels, scale=scene.view.scale, map_mode=scene.view.map,
        log_height=scene.view.log_height, camera=scene.view.camera,
        map_layer=scene.view.map_layer, hyper_axis=scene.view.hyper,
        hyper_color=scene.view.hyper_color)


def apply_scene(scene: Scene, session, *, defer_lrfind: bool = False):
    """Put a validated scene into a :class:`gdviz.core.session.Session`: one restore.

    A scene is the session's snapshot (:func:`scene_state`): loading one is a single
    :meth:`~gdviz.core.session.Session.restore`, with one engine build and one of each
    coarse signal. Everything is built and checked first, so a scene that cannot be
    applied raises :class:`SceneError` and leaves the session as it was. The session ends
    paused at step 0; start playback if ``scene.playback.autoplay``. The view state the
    scene holds (box, levels, scale, heatmap) is applied; theme and panels are the user's.

    Meta (captions) and export settings are not session state: the window and the
    exporter read them from the scene.

    ``defer_lrfind``: the scene's lr finder sweep and tuning (``[lrfind]``) are made and
    checked but not run; returns them as a :class:`gdviz.core.lrfind.SceneJobs` (None when
    there is nothing to run) for the caller to run in chunks (the window: opened with a
    tuning of 10⁵ steps, the open froze it for 0.4 s, of 10⁶ for seconds).
    """
    validate_scene(scene)
    jobs = None
    try:
        if scene.lrfind == LrFind():
            session.restore(scene_state(scene, session.snapshot()))
        else:  # the lr finder's plot and the fair race's table, in the same one change
            from gdviz.core.lrfind import apply_scene_lrfind

            with session._changes():
                session.restore(scene_state(scene, session.snapshot()))
                jobs = apply_scene_lrfind(scene.lrfind, [r.id for r in scene_runs(scene)],
                                          session, run=not defer_lrfind)
    except ValueError as exc:
        raise SceneError(f"cannot apply scene: {_first_line(exc)}") from None
    except (MemoryError, RecursionError):  # the window catches SceneError (a ValueError)
        raise SceneError("cannot apply scene: it needs more memory than there is") from None
    return jobs


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
        runs.append(Run(id=rid, label=spec.text(), opt=opt, enabled=bool(spec.enabled),
                        expect_diverge=old.expect_diverge if old else False))
    return tuple(runs)


def _points(data) -> tuple[tuple[float, float], ...] | None:
    if data is None or type(data) is Rows:  # (Rows: floats already, 35 ms at 100,000)
        return data
    return tuple((float(x), float(y)) for x, y in data)


def scene_from_session(session, base: Scene | None = None, *, validate: bool = True) -> Scene:
    """The scene that replays the session's current state.

    Every applicable hyperparameter is written out (not left to defaults), so the file
    replays the same numbers even if a default changes later. What the session does not
    hold (meta, export, autoplay, run ids and expect_diverge when the runs still match)
    is taken from ``base``, usually the scene that was opened.

    ``validate=False``: not checked (a scene only compared, never written or applied: the
    window's "unsaved changes" test, made twice per lesson opened, ~2 ms each check).
    """
    base = base or Scene()
    kind = session.kind
    land = session.landscape
    prob = dataclasses.replace(base.problem, kind=kind)
    fit = base.fit
    classify = base.classify
    base_runs = scene_runs(base) if base.problem.kind == kind else ()
    runs = _runs_from_session(session, base_runs)
    starts = tuple(tuple(float(v) for v in s) for s in session.starts)
    batch = int(session.batch_size)
    if kind == "surface":
        prob = dataclasses.replace(prob, surface=str(land.name))
    elif kind == "expr":
        prob = dataclasses.replace(prob, expr=str(land.label))
    elif kind == "classify":
        d = session.data
        names = session.all_param_names
        classify = Classify(
            dataset=d.dataset, points=d.points, noise=d.noise, seed=d.seed,
            val_split=d.val_fraction, layers=d.layers, units=d.units, activation=d.activation,
            csv=d.source, data=d.points_data,
            batch_size=0 if batch >= session.n_train else batch,
            linked=tuple(names[i] for i in session.linked),
            init=tuple(float(v) for v in starts[0]))
        starts = ()
        batch = base.batch_size
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
            val_fraction=d.val_fraction, loss=d.loss, layers=d.layers, activation=d.activation,
            neuron=int(session.neuron),
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
                               if session.view is not None else None,
                               levels=int(session.levels), scale=str(session.scale),
                               heatmap=bool(session.heatmap), map=str(session.map_mode),
                               log_height=bool(session.log_height),
                               camera=tuple(float(v) for v in session.camera)
                               if session.camera is not None else None,
                               map_layer=str(session.map_layer),
                               hyper=str(session.hyper_axis),
                               hyper_color=str(session.hyper_color))
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
        classify=classify,
        view=view,
        playback=dataclasses.replace(base.playback, speed=float(session.speed),
                                     max_steps=int(session.max_steps), step_mode_run=step_mode),
        runs=tuple(runs),
    )
    if session.lrfind is not None or session.tuned is not None:
        from gdviz.core.lrfind import scene_lrfind

        ids = [r.id for r in runs] or ["fit"]
        scene = dataclasses.replace(scene, lrfind=scene_lrfind(session, ids, scene.lrfind))
    return validate_scene(scene) if validate else scene

