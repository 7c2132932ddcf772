"""Bench entries of classification on the plane (issue 12 part 2)."""

from __future__ import annotations

import numpy as np

from gdviz.bench.timing import best_ms


def bench_decision_surface() -> dict:
    """``decision-surface``: a 2-8-8-1 ReLU network's logit over a 128x128 grid of the plane,
    numba vs the numpy twin (the budget is 2 ms). Extra keys: ``frame_ms``, what the plane
    view computes per frame for one run (its 72x72 surface, the 0.5 contour and 16 neuron
    thumbnails of 28x28)."""
    from gdviz.core.classifier import PLANE_GRID as GRID
    from gdviz.core.classifier import THUMB_GRID, ClassifyData, plane_grid
    from gdviz.kernels.contour import contour_segments

    data = ClassifyData("spiral", points=500, layers=2, units=8)
    pr = data.build(fast=True)
    p = data.init_params()
    box = (-6.0, 6.0, -6.0, 6.0)
    pr.grid_logits(p, box, 128, 128, fast=True)  # compile
    pr.grid_hidden(p, box, 8, 8, fast=True)
    ours_ms = best_ms(lambda: pr.grid_logits(p, box, 128, 128, fast=True), 5, 20)
    base_ms = best_ms(lambda: pr.grid_logits(p, box, 128, 128, fast=False), 3, 5)
    grid = plane_grid(box, GRID, GRID)
    lev = np.array([0.0])

    def frame():
        z = pr.logits(p[None], grid, fast=True)[0].reshape(GRID, GRID)
        contour_segments(z, *box, lev, fast=True)
        pr.grid_hidden(p, box, THUMB_GRID, THUMB_GRID, fast=True)

    frame()
    return dict(name="decision-surface", ours_ms=ours_ms, baseline="numpy",
                baseline_ms=base_ms, ratio=base_ms / ours_ms,
                frame_ms=best_ms(frame, 5, 20), budget_ms=2.0)

