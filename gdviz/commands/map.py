"""``gdviz map``: a basin map or a hyperparameter map, headless, as CSV, PNG or NPY.

Sources: a scene file or a lesson by name (its selected run, else its first; its step
budget, noise, seed and view box; on a regression or fit scene a basin / steps map whose
starts vary the two shown parameters, stepped on the race's own mini-batches), or ``--surface NAME`` / ``--expr EXPR`` with
``--optimizer`` and the same hyperparameter flags as ``gdviz trace``::

    gdviz map L16 --kind basins --grid 128 -o basins.png
    gdviz map --surface ellipse --optimizer momentum --lr 0.01 --kind hyper \\
        --y-axis momentum --start -1.5,1 --steps 200 -o rate.csv

A CSV has one row per cell: its start ``x,y`` (basins, steps) or its two
hyperparameters (``lr,momentum``...), then ``final_x,final_y,final_loss,steps,basin,
diverged_at`` (steps -1: not converged; basin -1: diverged, -2: still moving), so that
any row replays with ``gdviz trace``. Files are written atomically. Bad input: one line
on stderr, exit 2.
"""

from __future__ import annotations

import math
import os
import tempfile

import numpy as np

from gdviz.cli import CliError
from gdviz.commands.trace import HYPER_FLAGS, optimizer_from_args, parse_start
from gdviz.core.limits import MAP_MAX_GRID, MAP_MAX_STEPS, MAX_BATCH_SIZE
from gdviz.core.userinput import quote

from gdviz.commands.map_args import KINDS  # noqa: E402,F401
FORMATS = (".csv", ".png", ".npy")
#: a PNG is at least this many pixels wide (cells are repeated, never interpolated)
PNG_MIN_SIDE = 512


def _check_int(flag: str, v, lo: int, hi: int) -> int:
    if v is None or not lo <= v <= hi:
        raise CliError(f"invalid {flag} {v}: must be between {lo} and {hi}")
    return int(v)


def parse_view(text: str) -> tuple[float, float, float, float]:
    from gdviz.core.limits import check_view_box

    try:
        parts = [float(t) for t in text.split(",")]
        if len(parts) != 4:
            raise ValueError
    except ValueError:
        raise CliError(f"invalid --view '{quote(text)}': expected X0,X1,Y0,Y1 numbers") from None
    try:
        return check_view_box(parts)
    except ValueError as exc:
        raise CliError(f"invalid --view: {exc}") from None


def _from_scene(args):
    """(landscape, MapSetup, start, view) of a scene's selected run."""
    from gdviz.commands.export import load
    from gdviz.core import maps as CM
    from gdviz.core.scene.bridge import scene_state
    from gdviz.core.session import Session

    for dest, (_, flag) in HYPER_FLAGS.items():
        if getattr(args, dest, None) is not None:
            raise CliError(f"{flag} needs --surface or --expr (a scene sets its own runs)")
    for flag, v in (("--optimizer", args.optimizer), ("--schedule", args.schedule),
                    ("--batch-size", args.batch_size), ("--seed", args.seed),
                    ("--noise", args.noise)):
        if v is not None:
            raise CliError(f"{flag} needs --surface or --expr (a scene sets its own runs)")
    scene = load(args.scene)
    data = scene.problem.kind not in ("surface", "expr")
    if data and args.kind == "hyper":
        raise CliError(f"a hyper map needs a 2-D surface; this scene is a "
                       f"{scene.problem.kind} problem")
    s = Session()
    s.restore(scene_state(scene, s.snapshot()))
    r = s.reference_run()
    i = s.spec_index(r)
    steps = args.steps if args.steps is not None else min(s.max_steps, MAP_MAX_STEPS)
    steps = _check_int("--steps", steps, 1, MAP_MAX_STEPS)
    setup = CM.MapSetup(s.effective_config(i), s.specs[i].schedule, steps=steps,
                        total=max(s.max_steps, steps), noise=s.noise, batch_size=s.batch_size,
                        seed=s.seed, noise_run=r, tol=args.tol)
    start = tuple(float(v) for v in s.starts[s.start_index(r)])
    if data:  # the race's own problem (its mini-batches); starts vary the shown parameters
        dims = tuple(s.linked) if s.kind == "fit" else (0, 1)
        return (s.runset.problem, start, dims, s.landscape), setup, None, s.view_box
    if args.start is not None:
        start = parse_start(args.start)
    return s.landscape, setup, start, s.view_box


def _from_flags(args):
    from gdviz.core import maps as CM
    from gdviz.core.schedules import make_schedule
    from gdviz.core.surfaces import Landscape

    if args.optimizer is None:
        raise CliError("--optimizer is required with --surface or --expr")
    config = optimizer_from_args(args)
    schedule = make_schedule(args.schedule or "constant")
    steps = _check_int("--steps", args.steps if args.steps is not None else 200, 1,
                       MAP_MAX_STEPS)
    batch = _check_int("--batch-size", 1 if args.batch_size is None else args.batch_size, 1,
                       MAX_BATCH_SIZE)
    seed = _check_int("--seed", 0 if args.seed is None else args.seed, 0, 2 ** 63 - 1)
    noise = 0.0 if args.noise is None else args.noise
    if not (math.isfinite(noise) and noise >= 0):
        raise CliError(f"invalid --noise {noise}: must be a finite number >= 0")
    land = Landscape.from_surface(args.surface) if args.surface is not None \
        else Landscape.from_expr(args.expr)
    setup = CM.MapSetup(config, schedule, steps=steps, noise=noise, batch_size=batch,
                        seed=seed, tol=args.tol)
    start = parse_start(args.start) if args.start is not None else None
    return land, setup, start, land.view


def run(args) -> int:
    from gdviz.core import maps as CM

    out = args.output
    ext = os.path.splitext(out)[1].lower()
    if ext not in FORMATS:
        raise CliError(f"invalid output '{quote(out)}': the name must end in "
                       f"{', '.join(FORMATS)}")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise CliError(f"invalid output '{quote(out)}': folder {quote(folder)} does not exist")
    grid = _check_int("--grid", args.grid, 2, MAP_MAX_GRID)
    if not (args.tol > 0 and math.isfinite(args.tol)):
        raise CliError(f"invalid --tol {args.tol}: must be a finite number > 0")
    has_source = args.surface is not None or args.expr is not None
    if args.scene is not None and has_source:
        raise CliError("give a scene or --surface/--expr, not both")
    if args.scene is None and not has_source:
        raise CliError("give a scene (a .toml or a lesson name) or --surface NAME or --expr EXPR")
    if args.kind != "hyper" and args.y_axis is not None:
        raise CliError("--y-axis applies to --kind hyper only")
    land, setup, start, view = _from_scene(args) if args.scene is not None else _from_flags(args)
    if args.view is not None:
        if args.kind == "hyper":
            raise CliError("--view applies to --kind basins or steps (a hyper map's axes are "
                           "hyperparameters)")
        view = parse_view(args.view)

    from gdviz.commands.progress import load_kernels

    load_kernels()
    data = land if isinstance(land, tuple) else None
    if data is not None:
        land = data[3]
    book = CM.BasinBook.for_landscape(land)
    if args.kind == "hyper":
        if start is None:
            raise CliError("--kind hyper needs --start X,Y (where every setting starts)")
        axis = args.y_axis or "momentum"
        r, lrs, ys = CM.hyper_map(land, setup, start, axis, nx=grid, fast=True)
        LR, Y = np.meshgrid(lrs, ys)
        head = ["lr", axis]
        cols = [LR.ravel(), Y.ravel().astype(np.int64) if axis == "batch_size" else Y.ravel()]
    elif data is not None:
        r = CM.basin_map_problem(data[0], setup, data[1], view, nx=grid, dims=data[2],
                                 fast=True)
        starts = CM.pixel_centres(view, grid, grid)
        head = list(getattr(land, "param_names", None) or ("w", "b"))
        cols = [starts[:, 0], starts[:, 1]]
    else:
        r = CM.basin_map(land, setup, view=view, nx=grid, fast=True)
        starts = CM.pixel_centres(view, grid, grid)
        head = ["x", "y"]
        cols = [starts[:, 0], starts[:, 1]]
    labels = book.assign(r)
    if ext == ".png":
        _write_png(out, r, labels, args.kind, setup.steps, land)
        return 0
    head += ["final_x", "final_y", "final_loss", "steps", "basin", "diverged_at"]
    cols += [r.end[:, 0], r.end[:, 1], r.end_loss, r.conv_at, labels, r.diverged_at]
    if ext == ".csv":
        CM.write_csv(out, head, cols)
    else:
        table = np.column_stack([np.asarray(c, dtype=np.float64) for c in cols])
        _atomic(out, lambda fh: np.save(fh, table))
    return 0


def _atomic(path: str, write) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".map-", suffix=os.path.splitext(path)[1])
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write_png(path, r, labels, kind, steps, land) -> None:
    from gdviz.core import maps as CM

    if kind == "basins":
        rgb = CM.colorize(labels, r.diverged, basins=True)
    elif kind == "steps":
        rgb = CM.colorize(CM.steps_image(r, steps), r.diverged, basins=False, lo=0.0,
                          hi=math.log10(max(steps, 2)))
    else:
        im = CM.loss_image(r, getattr(land, "min_value", None))
        ok = np.isfinite(im)
        lo, hi = (float(im[ok].min()), float(im[ok].max())) if ok.any() else (0.0, 1.0)
        rgb = CM.colorize(im, r.diverged, basins=False, lo=lo, hi=hi)
    img = rgb.reshape(r.ny, r.nx, 3)[::-1]  # row 0 at the top of the picture
    k = max(1, -(-PNG_MIN_SIDE // r.nx))
    img = np.ascontiguousarray(np.repeat(np.repeat(img, k, axis=0), k, axis=1))
    import imageio.v3 as iio

    _atomic(path, lambda fh: fh.write(iio.imwrite("<bytes>", img, extension=".png")))
