"""``gdviz fit --task classify``: train a network classifier on two-class points of the
plane with one optimizer and print JSON.

The network takes (x1, x2), has ``--layers`` hidden layers (0-4; 0 is logistic
regression) of ``--units`` units with ``--activation``, and ends in one logit trained with
binary cross-entropy on the logit (torch's ``BCEWithLogitsLoss``, mean). The points are a
generated set (``--dataset circles|xor|gauss|spiral`` with ``--points``, ``--noise`` in
0..0.5, ``--seed``) or a CSV of x1, x2, label (``--csv FILE``), split by
``--val-fraction``.

Output keys: task ("classify"), dataset, model ("network"), layers, units, activation, loss
("bce"), optimizer, hyperparameters, schedule, batch_size, batches_per_epoch, steps, seed,
points, noise, val_fraction, param_names, params_init, params_final (torch's order:
``nn.Sequential(nn.Linear(2, K), act, ..., nn.Linear(K, 1)).parameters()`` flattened),
history [{step, train_loss, val_loss, train_acc, val_acc}], data {x_train: [[x1, x2], ...],
y_train (0/1), x_val, y_val}, diverged_at. Non-finite numbers are written as null.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

from gdviz.cli import CliError
from gdviz.commands.progress import advance_with_progress, load_kernels
from gdviz.core.limits import MAX_CLASSIFY_NOISE, MAX_NET_LAYERS, MAX_NET_UNITS, MAX_POINTS, MAX_STEPS
from gdviz.core.userinput import quote


def _nums(a) -> list:
    return [v if math.isfinite(v) else None for v in np.asarray(a, dtype=np.float64).ravel().tolist()]


def _num(v):
    v = float(v)
    return v if math.isfinite(v) else None


def _pairs(X) -> list:
    return [[_num(a), _num(b)] for a, b in np.asarray(X, dtype=np.float64).tolist()]


def run(args) -> int:
    from gdviz.commands.fit import history_rows, optimizer_from_args, read_init, schedule_from_args
    from gdviz.commands.trace import _check_int
    from gdviz.core.classifier import ACTIVATIONS, ClassifyData
    from gdviz.core.classify import DATASETS, load_class_csv
    from gdviz.core.engine import RunSet

    for flag, value in (("--target", args.target), ("--target-expr", args.target_expr)):
        if value is not None:
            raise CliError(f"{flag} applies to --task regress (a classification has --dataset)")
    if getattr(args, "loss", None) is not None:
        raise CliError("--loss applies to --task regress (a classification uses binary "
                       "cross-entropy on the logit)")
    if args.model != "network":
        raise CliError(f"--task classify needs --model network, got '{quote(args.model, 40)}'")
    csv = getattr(args, "csv", None)
    if args.dataset is None and csv is None:
        raise CliError("--task classify needs --dataset (circles, xor, gauss, spiral) or --csv FILE")
    if args.dataset is not None and csv is not None:
        raise CliError("give --dataset or --csv, not both")
    if args.dataset is not None and args.dataset not in DATASETS:
        import difflib

        close = difflib.get_close_matches(str(args.dataset), DATASETS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f" (choose from {', '.join(DATASETS)})"
        raise CliError(f"unknown --dataset '{quote(args.dataset, 40)}'{hint}")
    steps = _check_int("--steps", args.steps, 0, MAX_STEPS)
    seed = _check_int("--seed", args.seed, 0, 2 ** 63 - 1)
    points = _check_int("--points", args.points, 10, MAX_POINTS)
    layers = _check_int("--layers", 1 if args.layers is None else args.layers, 0, MAX_NET_LAYERS)
    units = _check_int("--units", args.units, 1, MAX_NET_UNITS)
    activation = args.activation or "relu"
    if activation not in ACTIVATIONS:
        raise CliError(f"unknown --activation '{quote(activation, 40)}'; choose from "
                       f"{', '.join(ACTIVATIONS)}")
    noise = args.noise
    if not (math.isfinite(noise) and 0 <= noise <= MAX_CLASSIFY_NOISE):
        raise CliError(f"invalid --noise {noise}: must be between 0 and {MAX_CLASSIFY_NOISE:g}"
                       " for a classification")
    if not 0 <= args.val_fraction <= 0.5:
        raise CliError(f"invalid --val-fraction {args.val_fraction}: must be between 0 and 0.5")
    if args.batch_size is not None:
        _check_int("--batch-size", args.batch_size, 1, MAX_POINTS)
    points_data, source = None, ""
    if csv is not None:
        X, y = load_class_csv(csv)
        points_data = tuple((a, b, c) for (a, b), c in zip(X.tolist(), y.tolist()))
        source = Path(csv).name
    data = ClassifyData(args.dataset or "circles", points, noise, seed, args.val_fraction,
                        layers, units, activation, points_data=points_data, source=source)
    if sys.stderr.isatty():
        load_kernels()
    ds = data.class_dataset()
    if args.batch_size is not None and args.batch_size > ds.n_train:
        raise CliError(f"Invalid batch size: {args.batch_size} (must be in 1..{ds.n_train}, "
                       "the training set size)")
    problem = data.build(args.batch_size, seed, fast=True)
    model = problem.model
    start = read_init(args.init, model) if args.init is not None else data.init_params()
    config = optimizer_from_args(args)
    schedule = schedule_from_args(args)
    runs = RunSet(problem, [config], start[None, :], schedules=schedule,
                  total_steps=max(steps, 1), seed=seed, fast=True)
    if steps:
        advance_with_progress(runs, steps, "training")
    traj, _ = runs.trajectory(0)
    rows = history_rows(traj.shape[0])
    traj = np.ascontiguousarray(traj[rows], dtype=np.float64)
    with np.errstate(all="ignore"):
        train = problem.loss(traj)
        val = problem.val_loss(traj)
        acc_t = problem.accuracy(traj, "train")
        acc_v = problem.accuracy(traj, "val")
    diverged = int(runs.diverged_at[0])
    hyper = dict(config.to_dict())
    hyper.pop("name", None)
    out = {
        "task": "classify",
        "dataset": source if csv is not None else data.dataset,
        "model": "network",
        "layers": layers,
        "units": units,
        "activation": activation,
        "loss": "bce",
        "optimizer": config.name,
        "hyperparameters": hyper,
        "schedule": args.schedule,
        "batch_size": problem.batch_size,
        "batches_per_epoch": problem.batches_per_epoch,
        "steps": steps,
        "seed": seed,
        "points": ds.n,
        "noise": noise if csv is None else None,
        "val_fraction": ds.val_fraction,
        "param_names": list(model.param_names),
        "params_init": _nums(start),
        "params_final": _nums(runs.params[0]),
        "history": [{"step": int(k), "train_loss": _num(train[i]), "val_loss": _num(val[i]),
                     "train_acc": _num(acc_t[i]), "val_acc": _num(acc_v[i])}
                    for i, k in enumerate(rows)],
        "data": {"x_train": _pairs(ds.X_train), "y_train": _nums(ds.y_train),
                 "x_val": _pairs(ds.X_val), "y_val": _nums(ds.y_val)},
        "diverged_at": None if diverged < 0 else diverged,
    }
    json.dump(out, sys.stdout, allow_nan=False)
    sys.stdout.write("\n")
    return 0
