"""``gdviz fit``: fit a model to noisy data with one optimizer and print JSON.

Output keys: target, model, units, layers, activation (both null unless the model is
"network"), unit, loss, optimizer, hyperparameters, schedule,
batch_size, batches_per_epoch, steps, seed, param_names, params_init, params_final,
history [{step, train_loss, val_loss}], data {x_train, y_train, x_val, y_val},
diverged_at (null or the step). Non-finite numbers are written as null (JSON has no NaN).
The history lists every step up to MAX_FIT_HISTORY rows (1001: steps 0..1000); a longer
run lists that many evenly spaced steps, the first and the last included (each row names
its step). On a terminal, the kernels load first and a progress line shows on stderr.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

from gdviz.core.data import expr_target, get_target, make_dataset
from gdviz.cli import CliError
from gdviz.commands.progress import advance_with_progress, load_kernels
from gdviz.core.limits import (MAX_COORD, MAX_FIT_HISTORY, MAX_INIT_BYTES, MAX_LAYER_UNITS,
                               MAX_LAYERS, MAX_POINTS, MAX_STEPS, MAX_UNITS)
from gdviz.core.models import ACTIVATION_IDS, FitProblem, make_model
from gdviz.core.userinput import quote, read_user_file

_HYPER = ("lr", "momentum", "dampening", "alpha", "eps", "beta1", "beta2", "weight_decay",
          "lr_decay", "initial_accumulator_value", "amsgrad", "centered")


def optimizer_from_args(args):
    """OptimizerConfig from the shared hyperparameter flags (None means the optimizer's default)."""
    from gdviz.core.optimizers import make_optimizer

    overrides = {k: getattr(args, k, None) for k in _HYPER}
    return make_optimizer(args.optimizer, **{k: v for k, v in overrides.items() if v is not None})


def schedule_from_args(args):
    """Schedule from ``--schedule NAME`` (the schedule's own validation names bad input)."""
    from gdviz.core.schedules import Schedule

    return Schedule(kind=args.schedule)


def read_init(path: str, model) -> np.ndarray:
    """Start parameters from ``{"params": [...]}``: float64 (p,), checked against the model."""
    p = Path(path)
    name = quote(p.name)
    # regular files only, at most MAX_INIT_BYTES: a FIFO or /dev/zero is refused
    raw = read_user_file(p, MAX_INIT_BYTES, "JSON file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{name}: not UTF-8 text") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name} line {exc.lineno}: invalid JSON ({exc.msg})") from None
    except RecursionError:
        raise ValueError(f"{name}: nested too deeply") from None
    if not isinstance(doc, dict) or "params" not in doc:
        raise ValueError(f'{name}: expected an object like {{"params": [...]}}')
    values = doc["params"]
    if not isinstance(values, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise ValueError(f'{name}: "params" must be a list of numbers')
    try:
        return model.check_params(values)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def history_rows(n: int, most: int = MAX_FIT_HISTORY) -> np.ndarray:
    """Which of ``n`` trajectory rows (steps 0..n-1) the JSON history lists: every one up to
    ``most``, else ``most`` evenly spaced steps that include the first and the last
    (int64, sorted, unique). 10^6 steps would otherwise print about 88 MB."""
    if n <= most:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, most).round().astype(np.int64))


def _num(v) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def _nums(a) -> list:
    return [_num(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def run(args) -> int:
    from gdviz.commands.trace import _check_int

    if getattr(args, "task", "regress") == "classify":
        from gdviz.commands.classify import run as run_classify

        return run_classify(args)
    for flag in ("dataset", "csv"):
        if getattr(args, flag, None) is not None:
            raise CliError(f"--{flag} applies to --task classify")
    if args.target is None and args.target_expr is None:
        raise CliError("one of the arguments --target --target-expr is required")
    if args.loss is None:
        args.loss = "mse"

    # each flag named in its own message, with its range
    steps = _check_int("--steps", args.steps, 0, MAX_STEPS)
    _check_int("--seed", args.seed, 0, 2 ** 63 - 1)
    _check_int("--points", args.points, 2, MAX_POINTS)
    network = args.model == "network"
    _check_int("--units", args.units, 1, MAX_LAYER_UNITS if network else MAX_UNITS)
    layers = getattr(args, "layers", None)
    activation = getattr(args, "activation", None)
    if not network and (layers is not None or activation is not None):
        flag = "--layers" if layers is not None else "--activation"
        raise CliError(f"{flag} applies to --model network only")
    if layers is not None:
        _check_int("--layers", layers, 1, MAX_LAYERS)
    if activation is not None and activation not in ACTIVATION_IDS:
        raise CliError(f"unknown --activation '{quote(activation)}'; choose from "
                       f"{', '.join(ACTIVATION_IDS)}")
    if args.batch_size is not None:
        _check_int("--batch-size", args.batch_size, 1, MAX_POINTS)
    if not (math.isfinite(args.noise) and 0 <= args.noise <= MAX_COORD):
        raise CliError(f"invalid --noise {args.noise}: must be between 0 and {MAX_COORD:g}")
    if not 0 <= args.val_fraction <= 0.5:
        raise CliError(f"invalid --val-fraction {args.val_fraction}: must be between 0 and 0.5")
    if sys.stderr.isatty():  # a first compile takes a while: say so (pipes load lazily)
        load_kernels()
    if args.target_expr is not None:
        target = expr_target(args.target_expr)
        target_name = args.target_expr
    else:
        target = get_target(args.target)
        target_name = target.name
    model = make_model(args.model, args.units, layers or 1, activation or "relu")
    data = make_dataset(target, args.points, args.noise, args.seed, args.val_fraction)
    problem = FitProblem(model, data, args.loss, args.batch_size, args.seed, fast=True)
    if args.init is not None:
        start = read_init(args.init, model)
    else:
        start = problem.init_params(args.seed)
    config = optimizer_from_args(args)
    schedule = schedule_from_args(args)

    from gdviz.core.engine import RunSet

    runs = RunSet(problem, [config], start[None, :], schedules=schedule, total_steps=max(steps, 1),
                  seed=args.seed, fast=True)
    if steps:
        advance_with_progress(runs, steps, "fitting")
    traj, _ = runs.trajectory(0)
    rows = history_rows(traj.shape[0])
    traj = np.ascontiguousarray(traj[rows], dtype=np.float64)
    # losses of the rows kept in two batched kernel calls (rows are "runs")
    with np.errstate(all="ignore"):
        train = problem.loss(traj)
        val = problem.val_loss(traj)
    diverged = int(runs.diverged_at[0])
    hyper = dict(config.to_dict())
    hyper.pop("name", None)
    out = {
        "target": target_name,
        "model": model.name,
        "units": model.K if model.kind in ("units", "network") else None,
        "layers": model.layers if network else None,
        "activation": model.activation if network else None,
        "loss": args.loss,
        "optimizer": config.name,
        "hyperparameters": hyper,
        "schedule": args.schedule,
        "batch_size": problem.batch_size,
        "batches_per_epoch": problem.batches_per_epoch,
        "steps": steps,
        "seed": args.seed,
        "points": args.points,
        "noise": args.noise,
        "val_fraction": data.val_fraction,
        "param_names": model.param_names,
        "params_init": _nums(start),
        "params_final": _nums(runs.params[0]),
        "history": [{"step": int(k), "train_loss": _num(train[i]), "val_loss": _num(val[i])}
                    for i, k in enumerate(rows)],
        "data": {"x_train": _nums(data.x_train), "y_train": _nums(data.y_train),
                 "x_val": _nums(data.x_val), "y_val": _nums(data.y_val)},
        "diverged_at": None if diverged < 0 else diverged,
    }
    json.dump(out, sys.stdout, allow_nan=False)
    sys.stdout.write("\n")
    return 0
