"""After :func:`gdviz.kernels.warmup`, opening any lesson compiles nothing more.

numba compiles a kernel once per argument types, and a read-only array is a type of its own:
a signature the warm-up misses is compiled (or loaded from the disk cache, ~12 ms a kernel)
in the UI thread when a lesson first uses it. The lessons below do what the window does on
opening one: the engine's first losses, a few steps, the validation losses, the loss grid of
the picture, and a map of the selected run."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz import kernels
from gdviz.core import maps as CM
from gdviz.core.scene import apply_scene, load_scene, preset_paths
from gdviz.core.session import Session
from gdviz.kernels import maps as KM


def _signatures() -> dict[str, int]:
    import sys

    from gdviz.kernels._jit import load_numba

    Dispatcher = load_numba().core.registry.CPUDispatcher
    out = {}
    for name, mod in list(sys.modules.items()):
        if not name.startswith("gdviz.kernels"):
            continue
        for attr, obj in vars(mod).items():
            if isinstance(obj, Dispatcher):
                out[f"{name}.{attr}"] = len(obj.signatures)
    return out


@pytest.fixture(scope="module")
def warm():
    kernels.load_all()
    assert kernels.warmup()
    yield
    kernels.mark_ready(True)


@pytest.mark.parametrize("path", preset_paths(), ids=lambda p: p.stem[:3])
def test_opening_a_lesson_compiles_nothing_after_warmup(warm, path):
    kernels.mark_ready(True)
    before = _signatures()
    assert before["gdviz.kernels.models._loss_grad_serial"] >= 1  # the dispatchers are seen
    s = Session()
    apply_scene(load_scene(path), s)
    s.step(3)
    s.val_losses()
    land = s.landscape
    x0, x1, y0, y1 = land.view
    land.grid(x0, x1, y0, y1, 9, 9)
    after = _signatures()
    grown = {k: (before.get(k, 0), v) for k, v in after.items() if v != before.get(k, 0)}
    assert grown == {}


@pytest.mark.parametrize("n", [1, 3, 40_000])  # the serial and the parallel kernel
def test_maps_compile_nothing_after_warmup_whatever_the_arrays(warm, n):
    from gdviz.core.optimizers import make_optimizer
    from gdviz.core.surfaces import Landscape

    land = Landscape.from_surface("himmelblau")
    kind, base = make_optimizer("momentum", lr=0.01).pack()
    full = np.broadcast_to(base, (n, KM.N_HYPER)).copy()  # full size: a read-only view once broadcast
    before = _signatures()
    for hyper, ns in ((base, 0.0), (full, np.zeros(n)), (full[:, :], np.full(n, 0.1))):
        CM.run_cells(land, kind, hyper, 0, np.ones(KM.N_SCHED), np.zeros((n, 2)), total=5,
                     steps=2, noise_std=ns, fast=True)
    assert _signatures() == before
