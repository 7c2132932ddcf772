"""The flags of ``gdviz map`` (kept apart from :mod:`gdviz.commands.map` so that building
the parser imports nothing heavy)."""

from __future__ import annotations

from gdviz.core.limits import MAP_MAX_GRID

KINDS = ("basins", "steps", "hyper")


def add_parser(sub) -> None:
    """The ``map`` subcommand's flags (called by :func:`gdviz.cli.build_parser`)."""
    m = sub.add_parser("map", help="basin or hyperparameter map as CSV, PNG or NPY")
    m.add_argument("scene", nargs="?", metavar="SCENE",
                   help="a scene .toml, or a lesson by name (L16)")
    src = m.add_mutually_exclusive_group()
    src.add_argument("--surface", metavar="NAME")
    src.add_argument("--expr", metavar="EXPR")
    m.add_argument("--kind", choices=list(KINDS), default="basins")
    m.add_argument("--grid", type=int, default=128, help=f"cells per side (2..{MAP_MAX_GRID})")
    m.add_argument("--y-axis", choices=["momentum", "beta1", "beta2", "batch_size"],
                   help="the hyper map's y axis (x is lr)")
    m.add_argument("--start", metavar="X,Y", help="the hyper map's start")
    m.add_argument("--view", metavar="X0,X1,Y0,Y1", help="the basin map's box")
    m.add_argument("--tol", type=float, default=1e-6, help="convergence tolerance")
    m.add_argument("--optimizer", metavar="NAME")
    m.add_argument("--lr", type=float)
    m.add_argument("--momentum", type=float)
    m.add_argument("--dampening", type=float)
    m.add_argument("--alpha", type=float)
    m.add_argument("--eps", type=float)
    m.add_argument("--beta1", type=float)
    m.add_argument("--beta2", type=float)
    m.add_argument("--weight-decay", type=float)
    m.add_argument("--lr-decay", type=float)
    m.add_argument("--initial-accumulator-value", type=float)
    m.add_argument("--amsgrad", action="store_true", default=None)
    m.add_argument("--centered", action="store_true", default=None)
    m.add_argument("--schedule", metavar="NAME")
    m.add_argument("--batch-size", type=int)
    m.add_argument("--seed", type=int)
    m.add_argument("--noise", type=float)
    m.add_argument("--steps", type=int)
    m.add_argument("-o", "--output", required=True, metavar="OUT.(csv|png|npy)")

