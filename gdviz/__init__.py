"""gdviz: watch neural networks learn by gradient descent.

This module holds the version only; it imports neither Qt nor numba.
"""

__version__ = "0.1.0"


def _small_pages() -> None:
    """numpy asks the kernel for 2 MB pages (madvise) for every array of 4 MB or more. Each
    such page is zeroed whole at its first touch, and found by compacting memory there and
    then (Linux's default defrag=madvise). Measured on a 2-core VM: a 39 MB trajectory
    buffer of 16 networks, only its first row written (RunSet.reset), 292 ms of system time
    (0.5 ms on 4 KB pages), which froze the window in an action; a dense fill of 39 MB,
    273 ms against 21. The window's turns must stay within 100 ms: 4 KB pages. A
    ``NUMPY_MADVISE_HUGEPAGE`` the user set wins."""
    import os
    import sys

    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return
    if "numpy" not in sys.modules:  # (read as numpy is imported: gdviz imports nothing here)
        os.environ["NUMPY_MADVISE_HUGEPAGE"] = "0"
        return
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray
    setter = getattr(multiarray, "_set_madvise_hugepage", None)
    if setter is not None:
        setter(False)


_small_pages()


def resources_dir():
    """Path of the shipped ``resources/`` folder (``gdviz.resources`` when installed)."""
    from pathlib import Path

    try:
        from importlib.resources import files

        p = Path(str(files("gdviz.resources")))
        if (p / "scenes").is_dir():
            return p
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "resources"
