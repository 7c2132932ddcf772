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


#: seconds past which a kernel "loaded" in :func:`warmup_aside` was compiled (from numba's
#: cache the slowest loads in ~0.13 s, the quickest compile takes ~0.12 s and most 1-10 s)
COMPILED_S = 0.5


def warmup(progress: Callable[[int, int, str], None] | None = None,
           cancelled: Callable[[], bool] | None = None) -> bool:
    """Compile every kernel; ``progress(i, n, name)`` after each. Returns False if cancelled."""
    specs = list(load_all().values())
    from ._jit import load_numba

    load_numba()
    return bool(_warm(specs, progress, cancelled))


def _warm(specs, progress, cancelled, compiled_s: float | None = None) -> bool | None:
    """Warm ``specs`` one by one (then ready: True); False if cancelled; None when one took
    over ``compiled_s`` seconds (it was compiled, not loaded) and more remain."""
    import time

    for i, spec in enumerate(specs):
        if cancelled is not None and cancelled():
            return False
        t0 = time.perf_counter()
        spec.warmup()
        if progress is not None:
            progress(i + 1, len(specs), spec.name)
        if compiled_s is not None and time.perf_counter() - t0 > compiled_s \
                and i + 1 < len(specs):
            return None
    _ready.set()
    return True


def warmup_aside(progress: Callable[[int, int, str], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> bool:
    """:func:`warmup` for the window, which must keep the GIL: when numba's cache is cold,
    the kernels are compiled in a helper process first (:mod:`gdviz.kernels.helper`,
    ``progress`` from its lines), and this process then loads them from the cache. A cache
    that looked warm but was not (a helper stopped mid-way by a quit: a kernel here took
    over :data:`COMPILED_S`) hands the rest to the helper too. Where the helper cannot run
    or fails, they are compiled here, as :func:`warmup` does. Returns False if cancelled."""
    from . import helper
    from ._jit import load_numba

    specs = list(load_all().values())
    load_numba()
    if not helper.cache_is_cold(specs):
        got = _warm(specs, progress, cancelled, COMPILED_S)
        if got is not None:
            return got
    got = helper.compile_in_helper(progress, cancelled)
    if got is False:
        return False
    # (loaded from the cache now, the helper's progress shown; compiled here if it failed)
    return warmup(None if got else progress, cancelled)


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


#: a background thread's nice value (Linux, where it is the thread's own): beside the UI
#: thread (nice 0) on a busy core, such a thread gets about a thirtieth of it
BACKGROUND_NICE = 15


def lower_thread_priority() -> bool:
    """Called on a background thread (a map's, a live surface's): the OS gives the CPU to
    the UI thread first when both want the same core. (On two cores, a map computing beside
    a change of the window's problem took the core from the window: the change's turn
    took 120 ms of wall time for 75 ms of its own CPU time, while the map used 63 ms.)
    The threads it starts (its kernels' OpenMP team) inherit the priority. Linux only,
    where a thread's nice value is its own (elsewhere it is the process's, and nothing
    changes). Returns whether the priority is lowered."""
    import os
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, tid) < BACKGROUND_NICE:
            os.setpriority(os.PRIO_PROCESS, tid, BACKGROUND_NICE)
        return True
    except (AttributeError, OSError):  # (a sandbox that refuses it: the thread runs as is)
        return False


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
