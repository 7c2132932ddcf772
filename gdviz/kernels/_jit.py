"""The one place where numba's options are set.

Every kernel is compiled lazily on first call and cached on disk (``cache=True``).
``fastmath`` stays off: divergence detection needs NaN and inf to behave.
``error_model="numpy"`` makes 1/0 give inf instead of raising, as numpy does.
"""

import os

# numba's OpenMP workers spin after every parallel kernel by default, and on two cores that
# spinning takes the CPU from the UI thread and from ffmpeg (an in-app export of the
# Rosenbrock race: 2.4 s spinning, 1.7 s passive). libgomp reads this once, when numba
# first starts its threads, which is after this module is imported; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba  # noqa: E402

_OPTS = dict(cache=True, nogil=True, error_model="numpy")

#: below this much work (runs x parameters, runs x steps, grid cells...) a kernel runs its
#: serial twin: waking the parallel workers costs more than a small loop (a live race of
#: four runs is serial, a 65,536-run basin map or a 256x256 grid is parallel)
PARALLEL_WORK = 20_000

#: decorator for small scalar or serial kernels
jit = numba.njit(**_OPTS)

#: decorator for a sum whose terms may be added in any order, so that it vectorises:
#: fastmath's "reassoc" and "contract" only (no "nnan"/"ninf": NaN and inf still propagate)
rjit = numba.njit(fastmath={"reassoc", "contract"}, **_OPTS)


def pjit(fn):
    """Decorator for large kernels that use ``numba.prange``."""
    return numba.njit(parallel=True, **_OPTS)(fn)


def ijit(fn):
    """Decorator for scalar helpers that are inlined into other kernels."""
    return numba.njit(inline="always", **_OPTS)(fn)


prange = numba.prange
