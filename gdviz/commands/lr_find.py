"""``gdviz lr-find``: fast.ai's lr finder, and the fair race (``--tune``), headless.

The problem and runs come from a scene file or a lesson by name (``gdviz lr-find L18``),
or from the flags ``gdviz trace`` takes (``--surface``/``--expr``, ``--start``,
``--optimizer`` and its hyperparameters). The sweep starts from run ``--run`` (1-based;
default: the scene's step-mode run, else the first) after ``--at-step`` race steps.

Output (stdout, or ``-o FILE`` written atomically): CSV ``iteration,lr,loss,smoothed``
with the suggestions on stderr, or JSON with everything. ``--tune``: CSV
``run,label,optimizer,lr,loss,tuned_lr,tuned_loss`` (one row per run spec; an empty
loss is a divergence), or JSON. Floats are printed with ``repr`` (round-trip).
"""

from __future__ import annotations

import io
import json
import math
import sys

from gdviz.cli import CliError
from gdviz.commands.progress import load_kernels
from gdviz.core.limits import LRFIND_MAX_IT, MAX_BATCH_SIZE, MAX_STEPS, TUNE_MAX_LRS


def _int(flag: str, v: int, lo: int, hi: int) -> int:
    if not lo <= v <= hi:
        raise CliError(f"invalid {flag} {v}: must be between {lo} and {hi}")
    return v


def _float(flag: str, v: float) -> float:
    if not (math.isfinite(v) and v > 0):
        raise CliError(f"invalid {flag} {v}: must be a finite number > 0")
    return v


def _session(args):
    """The session the flags or the scene describe."""
    from gdviz.core.session import RunSpec, Session

    flags = [f for f, v in (("--surface", args.surface), ("--expr", args.expr),
                            ("--optimizer", args.optimizer), ("--start", args.start))
             if v is not None]
    if args.scene is not None:
        if flags:
            raise CliError(f"give a scene or {flags[0]}, not both")
        from gdviz.commands.export import load
        from gdviz.core.scene import apply_scene

        scene = load(args.scene)
        session = Session()
        # (the scene's own [lrfind] sweep and tuning are not run: this command makes its own)
        apply_scene(scene, session, defer_lrfind=True)
        return session
    if args.surface is None and args.expr is None:
        raise CliError("give a scene (or lesson name), or --surface NAME / --expr EXPR")
    if args.optimizer is None:
        raise CliError("--optimizer is required with --surface / --expr")
    from gdviz.commands.trace import optimizer_from_args, parse_start
    from gdviz.core.schedules import make_schedule
    from gdviz.core.surfaces import Landscape

    config = optimizer_from_args(args)
    schedule = make_schedule(args.schedule)
    land = Landscape.from_surface(args.surface) if args.surface is not None \
        else Landscape.from_expr(args.expr)
    starts = [parse_start(args.start)] if args.start is not None else None
    noise = args.noise
    if not (math.isfinite(noise) and noise >= 0):
        raise CliError(f"invalid --noise {noise}: must be a finite number >= 0")
    batch = _int("--batch-size", 1 if args.batch_size is None else args.batch_size, 1,
                 MAX_BATCH_SIZE)
    seed = _int("--seed", args.seed, 0, 2 ** 63 - 1)
    steps = max(args.steps, args.at_step or 0, 1)
    _int("--steps", args.steps, 1, MAX_STEPS)
    return Session(land, [RunSpec(config=config, schedule=schedule)], starts, noise=noise,
                   batch_size=batch, seed=seed, max_steps=steps)


def _write(args, text: str) -> None:
    if args.output is None or args.output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from gdviz.export.video import atomic_write_bytes

    atomic_write_bytes(args.output, text.encode("utf-8"))


def _fmt(v) -> str:
    return "" if v is None or not math.isfinite(v) else repr(float(v))


def run(args) -> int:
    from gdviz.core import lrfind as L

    fmt = args.format
    if args.output not in (None, "-"):
        ext = args.output.lower().rsplit(".", 1)[-1] if "." in args.output else ""
        if ext not in ("csv", "json"):
            raise CliError(f"invalid -o '{args.output[:80]}': the file must end in .csv or .json")
        fmt = fmt or ext
        if fmt != ext:
            raise CliError(f"--format {fmt} does not match the file '{args.output[:80]}'")
    fmt = fmt or "csv"
    if args.tune:
        for flag, v in (("--start-lr", args.start_lr), ("--end-lr", args.end_lr),
                        ("--num-it", args.num_it), ("--at-step", args.at_step),
                        ("--run", args.run)):
            if v is not None:
                raise CliError(f"{flag} is for the lr sweep, not --tune")
    elif args.lrs is not None or args.tune_steps is not None:
        raise CliError(f"{'--lrs' if args.lrs is not None else '--tune-steps'} needs --tune")
    if sys.stderr.isatty():
        load_kernels()
    session = _session(args)
    if args.tune:
        n_lrs = _int("--lrs", 24 if args.lrs is None else args.lrs, 2, TUNE_MAX_LRS)
        steps = None if args.tune_steps is None else _int("--tune-steps", args.tune_steps,
                                                          1, MAX_STEPS)
        res = L.session_tune(session, n_lrs=n_lrs, steps=steps)
        rows = res.rows()
        if fmt == "json":
            doc = {"steps": res.steps, "grid": [float(v) for v in res.grid], "runs": rows,
                   "scores": [[float(v) if math.isfinite(v) else None for v in row]
                              for row in res.scores]}
            _write(args, json.dumps(doc, allow_nan=False) + "\n")
        else:
            buf = io.StringIO()
            buf.write("run,label,optimizer,lr,loss,tuned_lr,tuned_loss\n")
            for r in rows:
                label = '"' + r["label"].replace('"', '""') + '"'
                buf.write(f"{r['run'] + 1},{label},{r['optimizer']},{_fmt(r['lr'])},"
                          f"{_fmt(r['loss'])},{_fmt(r['tuned_lr'])},{_fmt(r['tuned_loss'])}\n")
            _write(args, buf.getvalue())
        return 0

    settings = L.SweepSettings(
        start_lr=L.START_LR if args.start_lr is None else _float("--start-lr", args.start_lr),
        end_lr=L.END_LR if args.end_lr is None else _float("--end-lr", args.end_lr),
        num_it=L.NUM_IT if args.num_it is None else _int("--num-it", args.num_it, 2,
                                                           LRFIND_MAX_IT),
        stop_div=not args.no_stop_div)
    at = 0 if args.at_step is None else _int("--at-step", args.at_step, 0, MAX_STEPS)
    if at > session.max_steps:
        raise CliError(f"invalid --at-step {at}: the race has {session.max_steps} steps")
    session.step(at)
    if args.run is not None:
        _int("--run", args.run, 1, session.n_runs)
    r = None if args.run is None else args.run - 1
    res = L.session_sweep(session, r, settings).run()
    if fmt == "json":
        _write(args, json.dumps(res.to_dict(), allow_nan=False) + "\n")
    else:
        buf = io.StringIO()
        buf.write("iteration,lr,loss,smoothed\n")
        buf.write("".join(f"{i},{a!r},{b!r},{c!r}\n" for i, a, b, c in res.rows()))
        _write(args, buf.getvalue())
    what = "diverged" if res.diverged else "stopped: loss > 4x best" if res.stopped_early \
        else "done"
    print(f"gdviz lr-find: {res.label} from step {res.t}: {res.n} steps ({what}); "
          f"steep {_fmt(res.steep) or 'none'}, minimum/10 {_fmt(res.minimum) or 'none'}",
          file=sys.stderr)
    return 0
