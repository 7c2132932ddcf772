"""gdviz turns off numpy's 2 MB pages (gdviz._small_pages): their first touch froze the
window ~0.3 s in an action (a 39 MB buffer of 16 networks, one row of it written)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_READ = ("from numpy import __version__ as v\n"
         "try:\n    from numpy._core import multiarray as m\n"
         "except ImportError:\n    from numpy.core import multiarray as m\n"
         "print(m._set_madvise_hugepage(False))\n")


@pytest.mark.parametrize("first, env, want", [
    ("import gdviz, numpy", None, "False"),  # gdviz first: numpy reads the variable
    ("import numpy, gdviz", None, "False"),  # numpy first: switched off as gdviz loads
    ("import gdviz, numpy", "1", "True"),  # the user's own setting wins
])
def test_numpy_takes_small_pages_once_gdviz_is_imported(first, env, want):
    environ = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if env is not None:
        environ["NUMPY_MADVISE_HUGEPAGE"] = env
    out = subprocess.run([sys.executable, "-c", first + "\n" + _READ], env=environ,
                         capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == want
