"""``gdviz trace``: print one optimizer's trajectory on a surface as CSV or JSON.

Floats are printed with ``repr`` (shortest round-trip form), so anyone can check our
math against another library digit for digit. Bad input raises ValueError/CliError
(one line on stderr, exit 2, from :func:`gdviz.cli.main`); a diverged run prints up to
the diverged step, says so on stderr and exits 0.
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np

from gdviz.cli import CliError
from gdviz.commands.progress import advance_with_progress, load_kernels
from gdviz.core.limits import MAX_BATCH_SIZE, MAX_COORD, MAX_STEPS
from gdviz.core.userinput import quote

#: optimizer flags: argparse dest -> (OptimizerConfig field, flag as typed)
HYPER_FLAGS = {
    "lr": ("lr", "--lr"),
    "momentum": ("momentum", "--momentum"),
    "dampening": ("dampening", "--dampening"),
    "alpha": ("alpha", "--alpha"),
    "eps": ("eps", "--eps"),
    "beta1": ("beta1", "--beta1"),
    "beta2": ("beta2", "--beta2"),
    "weight_decay": ("weight_decay", "--weight-decay"),
    "lr_decay": ("lr_decay", "--lr-decay"),
    "initial_accumulator_value": ("initial_accumulator_value", "--initial-accumulator-value"),
    "amsgrad": ("amsgrad", "--amsgrad"),
    "centered": ("centered", "--centered"),
}


def parse_start(text: str) -> tuple[float, float]:
    """``"X,Y"`` -> (x, y) finite floats (CliError otherwise)."""
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        x, y = (float(p) for p in parts)
    except ValueError:
        raise CliError(f"invalid --start '{quote(text)}': expected X,Y numbers, e.g. -1.5,2") from None
    if not (abs(x) <= MAX_COORD and abs(y) <= MAX_COORD):
        raise CliError(f"invalid --start '{quote(text)}': coordinates must be finite, between "
                       f"{-MAX_COORD:g} and {MAX_COORD:g}")
    return x, y


def optimizer_from_args(args):
    """The OptimizerConfig that ``--optimizer`` and the hyperparameter flags describe."""
    from gdviz.core.optimizers import get_spec, make_optimizer, takers

    spec = get_spec(args.optimizer)
    overrides = {}
    for dest, (field, flag) in HYPER_FLAGS.items():
        v = getattr(args, dest, None)
        if v is None:
            continue
        if field not in spec.fields:
            who = ", ".join(takers(field))
            raise CliError(f"{flag} does not apply to {spec.name}; it is taken by {who}")
        overrides[field] = v
    return make_optimizer(spec.name, **overrides)


def _check_int(flag: str, v: int, lo: int, hi: int | None = None) -> int:
    """``v`` if lo <= v <= hi, else CliError naming the flag and its range."""
    rng = f"must be between {lo} and {hi}" if hi is not None else f"must be >= {lo}"
    if v < lo or (hi is not None and v > hi):
        raise CliError(f"invalid {flag} {v}: {rng}")
    return v


def _num(v: float):
    """JSON has no NaN/inf: those become null."""
    return float(v) if math.isfinite(v) else None


def run(args) -> int:
    from gdviz.core.engine import RunSet
    from gdviz.core.schedules import make_schedule
    from gdviz.core.surfaces import Landscape

    config = optimizer_from_args(args)
    schedule = make_schedule(args.schedule)
    x, y = parse_start(args.start)
    steps = _check_int("--steps", args.steps, 0, MAX_STEPS)
    batch = _check_int("--batch-size", 1 if args.batch_size is None else args.batch_size, 1,
                       MAX_BATCH_SIZE)
    seed = _check_int("--seed", args.seed, 0, 2 ** 63 - 1)
    noise = args.noise
    if not (math.isfinite(noise) and noise >= 0):
        raise CliError(f"invalid --noise {noise}: must be a finite number >= 0")
    land = Landscape.from_surface(args.surface) if args.surface is not None \
        else Landscape.from_expr(args.expr)

    if sys.stderr.isatty():  # a first compile takes a while: say so (pipes load lazily)
        load_kernels()
    rs = RunSet(land, [config], np.array([[x, y]]), schedules=schedule,
                total_steps=max(steps, 1), noise=noise, batch_size=batch, seed=seed,
                fast=True, record=True)
    advance_with_progress(rs, steps, "tracing")
    P, L = rs.trajectory(0)
    S = rs.trajectory_steps(0)
    d = int(rs.diverged_at[0])
    rows = [(int(s), float(p[0]), float(p[1]), float(f)) for s, p, f in zip(S, P, L)]
    if d > 0:  # the offending step ends the output
        bp, bf = rs.diverged_point(0)
        rows.append((d, float(bp[0]), float(bp[1]), float(bf)))

    out = sys.stdout
    if args.format == "json":
        doc = {("surface" if args.surface is not None else "expr"):
               (land.name if args.surface is not None else args.expr),
               "optimizer": config.name,
               "hyperparameters": config.to_dict(),
               "schedule": schedule.to_dict(),
               "start": [x, y], "noise": noise, "batch_size": batch, "seed": seed,
               "steps": [{"step": s, "x": _num(a), "y": _num(b), "loss": _num(f)}
                         for s, a, b, f in rows],
               "diverged_at": d if d >= 0 else None}
        out.write(json.dumps(doc, allow_nan=False) + "\n")
    else:
        out.write("step,x,y,loss\n")
        out.write("".join(f"{s},{a!r},{b!r},{f!r}\n" for s, a, b, f in rows))
    out.flush()
    if d >= 0:
        print(f"gdviz trace: diverged at step {d}", file=sys.stderr)
    return 0
