"""``gdviz bench`` entries of the lr finder and the fair race: the engine's numba kernels
against their numpy twins, in one process (:mod:`gdviz.core.lrfind`)."""

from __future__ import annotations

from gdviz.bench.timing import best_ms


def bench_lr_find(repeats: int = 5) -> dict:
    """``lr-find``: fast.ai's 100-step sweep of Adam on Rosenbrock (with gradient noise,
    the stop rule off so that both take all 100 steps): numba kernels vs numpy twins."""
    from gdviz.core.lrfind import LrSweep, SweepSettings
    from gdviz.core.optimizers import make_optimizer
    from gdviz.core.surfaces import Landscape

    land = Landscape.from_surface("rosenbrock")
    cfg = make_optimizer("adam")
    st = SweepSettings(stop_div=False)

    def sweep(fast: bool):
        return LrSweep(land, cfg, [-1.5, 2.0], noise=0.3, settings=st, fast=fast).run()

    sweep(True)  # compile (or load from cache) before timing
    ours = best_ms(lambda: sweep(True), repeats)
    base = best_ms(lambda: sweep(False), repeats)
    return dict(name="lr-find", ours_ms=ours, baseline="numpy", baseline_ms=base,
                ratio=base / ours, steps=st.num_it)


def bench_tune(repeats: int = 3) -> dict:
    """``tune``: the fair race of the default four runs (SGD, Momentum, RMSprop, Adam) on
    Rosenbrock, 24 lrs (+ each run's own) x 1000 steps in one RunSet: numba vs numpy."""
    from gdviz.core.lrfind import session_tune
    from gdviz.core.session import Session

    s = Session()
    session_tune(s, steps=5, fast=True)  # compile
    ours = best_ms(lambda: session_tune(s, steps=1000, fast=True), repeats)
    base = best_ms(lambda: session_tune(s, steps=1000, fast=False), 1)
    return dict(name="tune", ours_ms=ours, baseline="numpy", baseline_ms=base,
                ratio=base / ours, runs=f"{s.n_specs}x25", steps=1000)
