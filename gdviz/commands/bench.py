"""``gdviz bench [--json] [NAMES...]``."""

from gdviz import bench


def run(args) -> int:
    return bench.main(list(args.names), args.json)
