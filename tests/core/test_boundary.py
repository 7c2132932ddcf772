"""The Qt-free boundary: core and kernels never load Qt; ``import gdviz`` loads nothing heavy."""

import subprocess
import sys
from pathlib import Path

import gdviz

PACKAGE = Path(gdviz.__file__).resolve().parent
ROOT = PACKAGE.parent


def modules_of(subpackage):
    return sorted(f"gdviz.{subpackage}.{p.stem}" for p in (PACKAGE / subpackage).glob("*.py")
                  if p.stem != "__init__")


def loaded_after(imports):
    """Names of the top-level packages in sys.modules after importing ``imports`` afresh."""
    code = ("import importlib, sys\n"
            f"for m in {imports!r}: importlib.import_module(m)\n"
            "print(' '.join(sorted({k.split('.')[0] for k in sys.modules})))")
    # cwd=ROOT puts the source tree first on sys.path, as when the tests run
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


def test_core_and_kernels_load_no_qt():
    mods = ["gdviz.core", "gdviz.kernels"] + modules_of("core") + modules_of("kernels")
    assert "gdviz.core.surfaces" in mods and "gdviz.kernels.surfaces" in mods
    loaded = loaded_after(mods)
    assert "gdviz" in loaded and "numba" in loaded  # the subprocess really imported them
    assert not loaded & {"PySide6", "shiboken6", "pyqtgraph"}


def test_import_gdviz_loads_neither_numba_nor_qt():
    loaded = loaded_after(["gdviz"])
    assert "gdviz" in loaded
    assert not loaded & {"numba", "llvmlite", "PySide6", "shiboken6", "pyqtgraph"}
