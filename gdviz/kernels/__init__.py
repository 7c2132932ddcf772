"""Numba kernels: the only package that imports numba.

Every kernel has a plain-numpy twin. ``REGISTRY`` maps a kernel's name to a
:class:`KernelSpec` (the jitted function, its numpy twin and a ``warmup`` that
compiles it on tiny inputs). Tests and the UI iterate over it.

Until :func:`warmup` has finished, :func:`is_ready` is False and callers that must
not wait (the GUI at startup) use the numpy twins.
"""

from __future__ import annotations

import importlib
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

#: kernel modules, imported by warmup() so that they register themselves
MODULES = ("surfaces", "expr", "optim", "contour", "models", "datastep", "raster", "maps",
           "mlp")


@dataclass(frozen=True)
class KernelSpec:
    name: str
    fast: Callable
    twin: Callable
    warmup: Callable[[], None]


REGISTRY: dict[str, KernelSpec] = {}
_ready = threading.Event()


def register(name: str, fast: Callable, twin: Callable, warmup: Callable[[], None]) -> None:
    """Add a kernel to the registry (called at import by each kernel module)."""
    REGISTRY[name] = KernelSpec(name, fast, twin, warmup)


def load_all() -> dict[str, KernelSpec]:
    """Import every kernel module that exists, so that the registry is complete."""
    for mod in MODULES:
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as exc:  # a module not written yet
            if exc.name != f"{__name__}.{mod}":
                raise
    return REGISTRY


def is_ready() -> bool:
    """True once every registered kernel has been compiled (or loaded from cache)."""
    return _ready.is_set()


def warmup(progress: Callable[[int, int, str], None] | None = None,
           cancelled: Callable[[], bool] | None = None) -> bool:
    """Compile every kernel; ``progress(i, n, name)`` after each. Returns False if cancelled."""
    specs = list(load_all().values())
    from ._jit import load_numba

    load_numba()
    for i, spec in enumerate(specs):
        if cancelled is not None and cancelled():
            return False
        spec.warmup()
        if progress is not None:
            progress(i + 1, len(specs), spec.name)
    _ready.set()
    return True


def mark_ready(ready: bool = True) -> None:
    """Force the ready flag (tests use it to exercise both paths)."""
    if ready:
        _ready.set()
    else:
        _ready.clear()


@contextmanager
def num_threads(n: int):
    """numba's worker count set to ``n`` inside the block; yields the count it restores.

    Here so that callers (the ``grid-eval`` bench's one-thread figure) need not import numba.
    """
    from ._jit import load_numba  # through _jit, which sets the OpenMP wait policy first

    numba = load_numba()

    before = numba.get_num_threads()
    numba.set_num_threads(int(n))
    try:
        yield before
    finally:
        numba.set_num_threads(before)


def spare_a_core() -> int:
    """Called on a background thread: the parallel kernels it calls from now on use every
    core but one, which stays the UI thread's (a basin map computed on all cores of a
    two-core machine starved the window: a lesson that opens on a map took three times its
    CPU time to settle). Returns the threads set (0: numba is not loaded yet; the numpy
    twins run on one core anyway). numba's thread count is per calling thread."""
    from . import _jit

    nb = _jit.numba
    if nb is None:
        return 0
    n = max(1, int(nb.config.NUMBA_NUM_THREADS) - 1)
    if nb.get_num_threads() != n:
        nb.set_num_threads(n)
    return n
