"""The one place where numba's options are set, and the one place that imports numba.

Every kernel is compiled lazily on first call and cached on disk (``cache=True``).
``fastmath`` stays off: divergence detection needs NaN and inf to behave.
``error_model="numpy"`` makes 1/0 give inf instead of raising, as numpy does.

numba itself is imported lazily too. Importing it takes about 0.3 s, a third of the app's
start, and the first window runs on the numpy twins anyway. So the decorators here return
:class:`LazyKernel` stand-ins until numba is needed: the first call of any kernel (or
:func:`load_numba`, which the background warm-up calls) imports numba, makes every kernel's
real dispatcher, and puts the dispatchers in place of the stand-ins in the globals of every
loaded ``gdviz`` module and in the kernel registry, so that kernels that call kernels are compiled against
real dispatchers. Once numba is loaded the decorators return dispatchers directly.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
import threading

# numba's OpenMP workers spin after every parallel kernel by default, and on two cores that
# spinning takes the CPU from the UI thread and from ffmpeg (an in-app export of the
# Rosenbrock race: 2.4 s spinning, 1.7 s passive). libgomp reads this once, when numba
# first starts its threads, which is after this module is imported; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

#: the numba module once :func:`load_numba` has run (None before)
numba = None

_OPTS = dict(cache=True, nogil=True, error_model="numpy")
_lock = threading.RLock()
_lazy: list[LazyKernel] = []

#: below this much work (runs x parameters, runs x steps, grid cells...) a kernel runs its
#: serial twin: waking the parallel workers costs more than a small loop (a live race of
#: four runs is serial, a 65,536-run basin map or a 256x256 grid is parallel)
PARALLEL_WORK = 20_000
#: elements of a numpy twin's temporaries per chunk of grid cells (2*10^6 float64: 16 MB),
#: so that a twin's memory stays bounded at any grid size
TWIN_CHUNK = 2_000_000


class LazyKernel:
    """A kernel before numba is loaded: calling it (or reading a dispatcher attribute)
    loads numba and forwards to the real dispatcher."""

    def __init__(self, fn, opts: dict):
        functools.update_wrapper(self, fn)
        self.py_func = fn
        self.opts = opts
        self.real = None

    def dispatcher(self):
        if self.real is None:
            load_numba()
        return self.real

    def __call__(self, *args, **kwargs):
        return self.dispatcher()(*args, **kwargs)

    def __getattr__(self, name):  # attributes of the dispatcher (signatures, ...)
        if name.startswith("__") or name in ("py_func", "opts", "real"):
            raise AttributeError(name)
        return getattr(self.dispatcher(), name)


class _PrangeStandIn:
    """``prange`` before numba is loaded (replaced with numba.prange with the kernels)."""

    def __call__(self, *args):
        return range(*args)


_PRANGE = _PrangeStandIn()
prange = _PRANGE


def _decorator(**opts):
    opts = {**_OPTS, **opts}

    def wrap(fn):
        with _lock:
            if numba is not None:
                return numba.njit(**opts)(fn)
            lazy = LazyKernel(fn, opts)
            _lazy.append(lazy)
            return lazy

    return wrap


#: decorator for small scalar or serial kernels
jit = _decorator()
#: decorator for large kernels that use ``prange``
pjit = _decorator(parallel=True)
#: decorator for scalar helpers that are inlined into other kernels
ijit = _decorator(inline="always")

#: decorator for a sum whose terms may be added in any order, so that it vectorises:
#: fastmath's "reassoc" and "contract" only (no "nnan"/"ninf": NaN and inf still propagate)
rjit = _decorator(fastmath={"reassoc", "contract"})


def load_numba():
    """Import numba and swap every kernel stand-in for its dispatcher (idempotent,
    thread-safe). Returns the numba module."""
    global numba
    with _lock:
        if numba is not None:
            return numba
        import numba as nb

        stand_in = _PRANGE  # the loop below rebinds the module's own names too
        for lazy in _lazy:
            lazy.real = nb.njit(**lazy.opts)(lazy.py_func)
        for name, mod in list(sys.modules.items()):
            if mod is None or not (name == "gdviz" or name.startswith("gdviz.")):
                continue
            d = mod.__dict__
            for key, value in list(d.items()):
                if isinstance(value, LazyKernel):
                    d[key] = value.real
                elif value is stand_in:
                    d[key] = nb.prange
        registry = getattr(sys.modules.get(__package__), "REGISTRY", {})
        for key, spec in list(registry.items()):
            fields = {f: getattr(spec, f).real for f in ("fast", "twin", "warmup")
                      if isinstance(getattr(spec, f), LazyKernel)}
            if fields:
                registry[key] = dataclasses.replace(spec, **fields)
        numba = nb
        return nb


def same_kernel(a, b) -> bool:
    """True if ``a`` and ``b`` are the same kernel (a stand-in and its dispatcher are)."""
    return getattr(a, "py_func", a) is getattr(b, "py_func", b)
