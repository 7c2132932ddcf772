"""``gdviz bench``: each kernel beside its baseline, in one process, as ratios.

``ENTRIES`` is the registry: entry name -> (module, function). Each function returns one
row (or a list of rows) ``{name, ours_ms, baseline, baseline_ms, ratio, ...}`` where
``ratio = baseline_ms / ours_ms`` (bigger is better); extra keys are printed below the
row. Adding an entry is one line here. The modules are imported only when an entry
runs, so ``gdviz bench grid-eval`` never loads Qt:

* :mod:`gdviz.bench.kernels`: numba kernels against their numpy twins and libraries;
* :mod:`gdviz.bench.ui`: the real window offscreen and the app's startup (needs Qt);
* :mod:`gdviz.bench.export`: a clip written to MP4.

Tests never look at the times; they only check that each entry runs and returns
well-formed rows.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Callable

#: entry name -> (module, function); the order is the order printed
ENTRIES: dict[str, tuple[str, str]] = {
    "grid-eval": ("gdviz.bench.kernels", "bench_grid_eval"),
    "optimizer-step": ("gdviz.bench.kernels", "bench_optimizer_step"),
    "contour": ("gdviz.bench.kernels", "bench_contour"),
    "fit-step": ("gdviz.bench.kernels", "bench_fit_step"),
    "batch-surface": ("gdviz.bench.kernels", "bench_batch_surface"),
    "data-advance": ("gdviz.bench.kernels", "bench_data_advance"),
    "mlp-step": ("gdviz.bench.networks", "bench_mlp_step"),
    "net-step": ("gdviz.bench.networks", "bench_net_step"),
    "contour-paint": ("gdviz.bench.ui", "bench_contour_paint"),
    "curve-paint": ("gdviz.bench.ui", "bench_curve_paint"),
    "frame": ("gdviz.bench.ui", "bench_frame"),
    "frame-long": ("gdviz.bench.ui", "bench_frame_long"),
    "startup": ("gdviz.bench.ui", "bench_startup"),
    "export": ("gdviz.bench.export", "bench_export"),
    "frame-3d": ("gdviz.bench.frame3d", "bench_frame_3d"),
    "basin-map": ("gdviz.bench.maps", "bench_basin_map"),
    "hyper-map": ("gdviz.bench.maps", "bench_hyper_map"),
    "basin-clusters": ("gdviz.bench.maps", "bench_basin_clusters"),
    "data-map": ("gdviz.bench.maps", "bench_data_map"),
    "lr-find": ("gdviz.bench.lrfind", "bench_lr_find"),
    "tune": ("gdviz.bench.lrfind", "bench_tune"),
    "decision-surface": ("gdviz.bench.classify", "bench_decision_surface"),
    "frame-classify": ("gdviz.bench.ui", "bench_frame_classify"),
}


def resolve(name: str) -> Callable[[], dict | list[dict]]:
    """The bench function for ``name`` (ValueError for an unknown entry)."""
    if name not in ENTRIES:
        raise ValueError(f"unknown bench entry '{name}' (choose from {', '.join(ENTRIES)})")
    module, func = ENTRIES[name]
    return getattr(importlib.import_module(module), func)


def run(names: list[str] | None = None, progress: Callable[[str], None] | None = None) -> list[dict]:
    """Run the named entries (all by default) and return their rows."""
    rows: list[dict] = []
    for name in names or list(ENTRIES):
        fn = resolve(name)
        if progress:
            progress(name)
        out = fn()
        rows.extend(out if isinstance(out, list) else [out])
    return rows


def format_table(rows: list[dict]) -> str:
    """A fixed-width table of the rows, one per line."""
    head = f"{'entry':<15}{'ours':>12}  {'baseline':<28}{'baseline':>12}{'ratio':>9}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['name']:<15}{r['ours_ms']:>10.3f}ms  {r['baseline']:<28}"
                     f"{r['baseline_ms']:>10.3f}ms{r['ratio']:>8.1f}x")
        extra = {k: v for k, v in r.items()
                 if k not in {"name", "ours_ms", "baseline", "baseline_ms", "ratio"}}
        if extra:
            lines.append("               " + ", ".join(f"{k}={v}" for k, v in extra.items()))
    return "\n".join(lines)


def main(names: list[str], as_json: bool) -> int:
    for n in names:
        resolve(n)  # validate every name before spending time
    rows = run(names, progress=None if as_json else
               (lambda n: print(f"running {n}…", file=sys.stderr, flush=True)))
    print(json.dumps(rows, indent=2) if as_json else format_table(rows))
    return 0
