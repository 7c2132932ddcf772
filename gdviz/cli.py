"""The command-line front door: ``gdviz [gui] | trace | fit | export | lessons | bench``.

Every command's bad input ends in one line on stderr and exit code 2, never a
traceback. Commands live in :mod:`gdviz.commands` and are imported lazily so that
``gdviz --version`` and ``gdviz trace`` never import Qt.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import re
import sys
import warnings

from gdviz import __version__

EXIT_USAGE = 2
#: a negative number (or list of them): -1.5,2  -.5  -1e-3  -inf  -nan
_NUMLIST = re.compile(r"^-([\d.]|inf|infinity|nan)", re.IGNORECASE)


class CliError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line and suggests close flag names."""

    #: the command line being parsed (set by :func:`main`), to blame a typo before a
    #: missing flag: ``--optimizr adam`` is reported as the typo, not "--optimizer missing"
    argv: list[str] = []

    def _all_flags(self) -> list[str]:
        """Option strings of the subcommand being run (argparse reports a subcommand's
        unknown flags from the top-level parser), so a typo in ``trace`` never suggests a
        flag only ``fit`` has; with no subcommand, this parser's and every subcommand's."""
        command = _Parser.argv[0] if _Parser.argv else None
        flags = []
        for a in self._actions:
            flags += a.option_strings
            if isinstance(a, argparse._SubParsersAction):
                subs = [a.choices[command]] if command in a.choices else a.choices.values()
                for sub in subs:
                    flags += [s for b in sub._actions for s in b.option_strings]
        return sorted(set(flags))

    def _unknown_in_argv(self) -> str | None:
        flags = set(self._all_flags())
        for a in _Parser.argv:
            name = a.split("=")[0]
            if name.startswith("--") and name not in flags:
                return name
        return None

    def error(self, message: str):  # noqa: D401 - argparse API
        if message.startswith("the following arguments are required"):
            typo = self._unknown_in_argv()
            if typo:
                message = f"unrecognized arguments: {typo}"
        m = re.match(r"unrecognized arguments: (\S+)", message)
        if m:
            bad = m.group(1).split("=")[0]
            flags = self._all_flags()
            close = difflib.get_close_matches(bad, flags, n=1, cutoff=0.6)
            message = f"unknown option '{bad}'" + (f"; did you mean '{close[0]}'?" if close else "")
        m = re.match(r"argument (\S+): invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:
            choices = [c.strip(" '") for c in m.group(3).split(",")]
            close = difflib.get_close_matches(m.group(2), choices, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f" (choose from {', '.join(choices)})"
            message = f"invalid choice for {m.group(1)}: '{m.group(2)}'{hint}"
        print(f"{self.prog}: error: {_short(message)}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def language_flag(value: str | None) -> str:
    """``--lang``: one of en, zh-Hant, zh-Hans (locale spellings such as zh_TW work too);
    without the flag, the system's language."""
    from gdviz.core.i18n import detect_language, normalize_language

    if value is None:
        return detect_language()
    lang = normalize_language(value)
    # the locale rule maps any other language to English; a flag that names one is a typo
    if lang is None or re.split(r"[-_.@]", str(value).strip(), maxsplit=1)[0].lower() not in ("en", "zh"):
        raise CliError(f"invalid language '{str(value)[:40]}' (choose from en, zh-Hant, zh-Hans)")
    return lang


def _float_list(text: str) -> list[float]:
    return [float(t) for t in text.split(",")]


def _add_hyper_flags(p: argparse.ArgumentParser) -> None:
    """The optimizer flags shared by ``trace`` and ``fit`` (torch.optim's names)."""
    p.add_argument("--optimizer", required=True, metavar="NAME",
                   help="sgd, momentum, nesterov, rmsprop, adagrad, adam, adamw")
    p.add_argument("--lr", type=float, help="learning rate (default: torch.optim's)")
    p.add_argument("--momentum", type=float)
    p.add_argument("--dampening", type=float)
    p.add_argument("--alpha", type=float, help="RMSprop smoothing constant")
    p.add_argument("--eps", type=float)
    p.add_argument("--beta1", type=float)
    p.add_argument("--beta2", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--lr-decay", type=float, help="Adagrad lr decay")
    p.add_argument("--initial-accumulator-value", type=float, help="Adagrad")
    p.add_argument("--amsgrad", action="store_true", default=None)
    p.add_argument("--centered", action="store_true", default=None)
    p.add_argument("--schedule", default="constant", metavar="NAME",
                   help="constant, step, exponential, cosine, one-cycle")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=100)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gdviz", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"gdviz {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    g = sub.add_parser("gui", help="open the app (the default)")
    g.add_argument("scene", nargs="?", help="a scene file (.toml) to open")

    t = sub.add_parser("trace", help="print an optimizer's trajectory on a surface")
    src = t.add_mutually_exclusive_group(required=True)
    src.add_argument("--surface", metavar="NAME")
    src.add_argument("--expr", metavar="EXPR", help="custom f(x, y), e.g. 'x^2 + 10*y^2'")
    t.add_argument("--start", required=True, metavar="X,Y")
    _add_hyper_flags(t)
    t.add_argument("--noise", type=float, default=0.0,
                   help="gradient noise std for batch size 1 (std = noise/sqrt(batch))")
    t.add_argument("--format", choices=["csv", "json"], default="csv")

    f = sub.add_parser("fit", help="fit a model to noisy data and print JSON")
    tgt = f.add_mutually_exclusive_group()  # required for --task regress (commands/fit.py)
    tgt.add_argument("--target", metavar="NAME")
    tgt.add_argument("--target-expr", metavar="EXPR")
    f.add_argument("--model", required=True, metavar="NAME")
    f.add_argument("--units", type=int, default=3)
    f.add_argument("--layers", type=int, default=None,
                   help="--model network: hidden layers (1-4, default 1)")
    f.add_argument("--activation", default=None, metavar="NAME",
                   help="--model network: relu, sigmoid, tanh, hard-sigmoid or linear (default relu)")
    f.add_argument("--points", type=int, default=50)
    f.add_argument("--noise", type=float, default=0.1)
    f.add_argument("--val-fraction", type=float, default=0.15)
    f.add_argument("--loss", choices=["mse", "mae"], default=None, help="default mse")
    f.add_argument("--task", choices=["regress", "classify"], default="regress",
                   help="classify: a network on two-class points of the plane (BCE)")
    f.add_argument("--dataset", metavar="NAME",
                   help="--task classify: circles, xor, gauss or spiral")
    f.add_argument("--csv", metavar="FILE.csv",
                   help="--task classify: points from a file of x1, x2, label (0/1)")
    f.add_argument("--init", metavar="FILE.json")
    _add_hyper_flags(f)
    f.add_argument("--format", choices=["json"], default="json")

    e = sub.add_parser("export", help="render a scene to GIF, MP4, PNG or CSV, headless")
    e.add_argument("scene", metavar="SCENE", help="a scene .toml, or a lesson by name (L04, default_rosenbrock_race)")
    e.add_argument("-o", "--output", required=True, metavar="OUT")
    e.add_argument("--fps", type=int)
    e.add_argument("--size", metavar="WxH")
    e.add_argument("--steps", type=int)
    e.add_argument("--steps-per-frame", type=int)
    e.add_argument("--panels", metavar="LIST",
                   help="comma list of caption,landscape,fit,loss,step,schedule,hyper,"
                        "lrfind,tuned,network")
    e.add_argument("--lang", metavar="LANG", help="en, zh-Hant or zh-Hans (default: the system's)")
    e.add_argument("--theme", metavar="NAME", help="light (default) or dark")

    ls = sub.add_parser("lessons", help="list the shipped lessons: name, title and file")
    ls.add_argument("--lang", metavar="LANG", help="en, zh-Hant or zh-Hans (default: the system's)")

    from gdviz.commands.map_args import add_parser as add_map_parser

    add_map_parser(sub)  # gdviz map: basin / hyperparameter maps (issue 11)
    lf = sub.add_parser("lr-find", help="fast.ai's lr finder (or --tune: the fair race), CSV/JSON")
    lf.add_argument("scene", nargs="?", metavar="SCENE",
                    help="a scene .toml, or a lesson by name (L18); or the trace flags")
    lsrc = lf.add_mutually_exclusive_group()
    lsrc.add_argument("--surface", metavar="NAME")
    lsrc.add_argument("--expr", metavar="EXPR", help="custom f(x, y), e.g. 'x^2 + 10*y^2'")
    lf.add_argument("--start", metavar="X,Y")
    _add_hyper_flags(lf)
    for a in lf._actions:
        if "--optimizer" in a.option_strings:
            a.required = False  # a scene names its own optimizers
    lf.add_argument("--noise", type=float, default=0.0)
    lf.add_argument("--run", type=int, help="the run to sweep from (1-based)")
    lf.add_argument("--at-step", type=int, help="race this many steps first (default 0)")
    lf.add_argument("--start-lr", type=float, help="default 1e-7")
    lf.add_argument("--end-lr", type=float, help="default 10")
    lf.add_argument("--num-it", type=int, help="sweep steps (default 100)")
    lf.add_argument("--no-stop-div", action="store_true",
                    help="sweep to the end even when the loss blows up")
    lf.add_argument("--tune", action="store_true",
                    help="the fair race: each run's best lr on a log grid")
    lf.add_argument("--lrs", type=int, help="--tune: learning rates per run (default 24)")
    lf.add_argument("--tune-steps", type=int,
                    help="--tune: score after this many steps (default: the race's)")
    lf.add_argument("--format", choices=["csv", "json"])
    lf.add_argument("-o", "--output", metavar="FILE", help=".csv or .json (default: stdout)")

    b = sub.add_parser("bench", help="time each kernel beside its baseline")
    b.add_argument("--json", action="store_true")
    b.add_argument("names", nargs="*", help="only these entries")
    return parser


def _short(message: str) -> str:
    """One line that quotes at most MAX_QUOTE characters of each piece of user text
    (argparse quotes values in full: ``invalid float value: '...'``)."""
    from gdviz.core.userinput import quote

    line = message.splitlines()[0] if message else message
    line = re.sub(r"'([^']{81,})'", lambda m: f"'{quote(m.group(1))}'", line)
    return quote(line, 6 * 80)


#: flags whose value is text that may start with '-' (``--expr "-cos(x)"``)
_TEXT_FLAGS = ("--expr", "--target-expr")


def _value_flags() -> set[str]:
    """Every ``--flag`` (of any subcommand) that takes a value."""
    flags: set[str] = set()
    parser = build_parser()
    parsers = [parser] + [p for a in parser._actions
                          if isinstance(a, argparse._SubParsersAction) for p in a.choices.values()]
    for p in parsers:
        for a in p._actions:
            if a.nargs != 0 and not isinstance(a, argparse._SubParsersAction):
                flags.update(o for o in a.option_strings if o.startswith("--"))
    return flags


def _join_negative_values(argv: list[str]) -> list[str]:
    """Let ``--start -1.5,2`` mean ``--start=-1.5,2`` (argparse would read an option):
    a value flag followed by a negative number (``--lr -inf``, ``--lr -1e-3``), or by any
    text not starting with ``--`` after ``--expr`` / ``--target-expr`` (``-cos(x)``)."""
    takes_value = _value_flags()
    out: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in takes_value and i + 1 < len(argv):
            nxt = argv[i + 1]
            if _NUMLIST.match(nxt) or (a in _TEXT_FLAGS and nxt.startswith("-")
                                       and not nxt.startswith("--")):
                out.append(f"{a}={nxt}")
                i += 2
                continue
        out.append(a)
        i += 1
    return out


def _is_lesson(name: str) -> bool:
    """`gdviz L04`: a shipped lesson's name (the file's stem, or L4 / L04)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,60}", name):
        return False
    from gdviz.core.scene import preset_path

    return preset_path(name) is not None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"gui", "trace", "fit", "export", "lessons", "bench", "map", "lr-find"}
    if argv and argv[0] not in commands and not argv[0].startswith("-"):
        if not (argv[0].lower().endswith(".toml") or os.path.exists(argv[0]) or _is_lesson(argv[0])):
            close = difflib.get_close_matches(argv[0], sorted(commands), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f" (choose from {', '.join(sorted(commands))}, or give a scene .toml)"
            print(f"gdviz: error: unknown command '{argv[0]}'{hint}", file=sys.stderr)
            return EXIT_USAGE
    if not argv or (argv[0] not in commands and not argv[0].startswith("-")):
        argv = ["gui", *argv]  # `gdviz` and `gdviz SCENE.toml` open the app
    argv = _join_negative_values(argv)
    _Parser.argv = argv
    args = build_parser().parse_args(argv)
    if args.command is None:
        args = build_parser().parse_args(["gui"])
    module = importlib.import_module(f"gdviz.commands.{args.command.replace('-', '_')}")
    try:
        with warnings.catch_warnings():
            # numpy's overflow/invalid-value warnings are not for the user: a diverged run
            # says so itself, and an error is one line (no warnings before it)
            if not os.environ.get("GDVIZ_DEBUG"):
                warnings.simplefilter("ignore", RuntimeWarning)
            code = int(module.run(args) or 0)
            sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:  # `gdviz trace ... | head`: the reader has all it wanted
        _quiet_stdout()
        return 0
    except KeyboardInterrupt:  # Ctrl+C in a long trace or fit: one line, not a traceback
        if os.environ.get("GDVIZ_DEBUG"):
            raise
        print(f"gdviz {args.command}: interrupted", file=sys.stderr)
        return 130
    except (CliError, ValueError, OSError, MemoryError, RecursionError) as exc:
        # core validation raises ValueError with a message meant for the user;
        # GDVIZ_DEBUG=1 shows the traceback instead
        if os.environ.get("GDVIZ_DEBUG"):
            raise
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, MemoryError):
            msg = "not enough memory for this; try fewer points, units or steps"
        elif isinstance(exc, RecursionError):
            msg = "input nested too deeply"
        print(f"gdviz {args.command}: error: {_short(msg)}", file=sys.stderr)
        return EXIT_USAGE


def _quiet_stdout() -> None:
    """Point stdout at devnull, so that Python's flush at exit does not report the closed
    pipe again (the Python docs' recipe for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
