"""The package boundary, checked statically and at import time.

The static scan reads every module under gdviz/ with ``ast`` and collects each import it
could ever make: at module level, inside functions and ``if TYPE_CHECKING:`` blocks,
relative imports resolved against the module's package, and ``importlib.import_module`` /
``__import__`` calls whose argument is a string literal, an f-string or a ``"..." + x``
with a constant prefix. A subprocess import test alone sees only what loads at import
time, and misses the lazy imports where Qt and numba usually sneak in.

The rules:

* numba / llvmlite only in ``gdviz/kernels/``. ``gdviz/bench/`` gets no exception: it
  reaches numba through ``gdviz.kernels`` (``kernels.num_threads``), so the one place that
  configures numba stays the one place that imports it.
* Qt (PySide6, shiboken6, pyqtgraph, superqt, and any other binding) only in
  ``gdviz/ui/`` and ``gdviz/bench/ui.py``, plus the temporary allow-list below.
* ``gdviz/core/`` never imports ``gdviz.ui``, ``gdviz.export``, ``gdviz.commands``,
  ``gdviz.bench`` or ``gdviz.cli``.
* ``gdviz/kernels/`` imports nothing else of gdviz: not core, ui, export, commands, bench
  or cli.
* ``gdviz/__init__.py`` imports neither numba nor Qt (by the first two rules, and at
  import time by the subprocess test at the end).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import gdviz

PACKAGE = Path(gdviz.__file__).resolve().parent
ROOT = PACKAGE.parent

NUMBA = {"numba", "llvmlite"}
QT = {"PySide6", "shiboken6", "pyqtgraph", "superqt", "qtpy", "PyQt5", "PyQt6", "PySide2"}

#: Qt outside ui/ that is tolerated only while the file exists (module -> file)
#: (empty: the exports' second painter, gdviz/export/render.py, is gone; frames are the
#: app's own picture, drawn in gdviz/ui/picture.py)
TEMPORARY_QT: dict = {}

#: gdviz subpackages each layer must never import
FORBIDDEN = {
    "gdviz.core": ("gdviz.ui", "gdviz.export", "gdviz.commands", "gdviz.bench", "gdviz.cli"),
    "gdviz.kernels": ("gdviz.core", "gdviz.ui", "gdviz.export", "gdviz.commands",
                      "gdviz.bench", "gdviz.cli"),
}


# ----------------------------------------------------------------------------- scanner
def module_name(path: Path) -> str:
    """``gdviz/core/session/model.py`` -> ``gdviz.core.session.model`` (``__init__`` -> package)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve_relative(name: str, level: int, module: str, is_package: bool) -> str:
    package = module if is_package else module.rpartition(".")[0]
    base = package.split(".")
    if level - 1 > len(base) - 1:
        raise ValueError(f"{module}: relative import beyond the top-level package")
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _constant_prefix(node: ast.AST) -> str:
    """The constant text a string expression starts with ("" if none)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        return _constant_prefix(node.values[0])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _constant_prefix(node.left)
    return ""


def _named_module(node: ast.AST) -> str | None:
    """The module a string argument names: all of a literal, or the package its constant
    prefix names (f"gdviz.ui.{x}" -> gdviz.ui; f"numba{x}" still starts as numba)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    prefix = _constant_prefix(node)
    if not prefix.strip("."):
        return None
    if prefix.endswith(".") or "." not in prefix.lstrip("."):
        return prefix[:-1] if prefix.endswith(".") else prefix
    return prefix.rpartition(".")[0]


def _is_import_call(func: ast.AST) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"import_module", "__import__"}
    return isinstance(func, ast.Attribute) and func.attr in {"import_module", "__import__"}


def imports_of(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """Every module ``source`` may import, as (line, absolute dotted name).

    For ``from a.b import c`` both ``a.b`` and ``a.b.c`` are listed (``c`` may be a
    submodule); relative imports are resolved against ``module``.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = _resolve_relative(base, node.level, module, is_package)
            if base == "__future__":
                continue
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{a.name}") for a in node.names if a.name != "*"]
        elif isinstance(node, ast.Call) and _is_import_call(node.func) and node.args:
            name = _named_module(node.args[0])
            if name is None:
                continue
            if name.startswith("."):  # import_module(".x", package=__package__ / __name__)
                dots = len(name) - len(name.lstrip("."))
                name = _resolve_relative(name[dots:], dots, module, is_package)
            found.append((node.lineno, name))
    return found


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def violations(module: str, imports: list[tuple[int, str]],
               temporary_qt: dict[str, Path] = TEMPORARY_QT) -> list[str]:
    """The boundary rules broken by ``module``'s ``imports``, one message each."""
    qt_ok = (_within(module, "gdviz.ui") or module == "gdviz.bench.ui"
             or (module in temporary_qt and temporary_qt[module].exists()))
    out = []
    for line, name in imports:
        top = name.split(".")[0]
        if top in NUMBA and not _within(module, "gdviz.kernels"):
            out.append(f"{module}:{line} imports {name} (numba only in gdviz.kernels)")
        if top in QT and not qt_ok:
            out.append(f"{module}:{line} imports {name} (Qt only in gdviz.ui, gdviz.bench.ui)")
        for layer, banned in FORBIDDEN.items():
            if _within(module, layer):
                out += [f"{module}:{line} imports {name} ({layer} must not import {b})"
                        for b in banned if _within(name, b)]
    return out


def scan(module: str, source: str, is_package: bool = False) -> list[str]:
    return violations(module, imports_of(source, module, is_package))


# ----------------------------------------------------------------------------- the package
def test_every_module_keeps_the_boundary():
    mods = all_modules()
    # the scan is not vacuous: it sees every layer, and the imports that the rules allow
    assert {"gdviz", "gdviz.cli", "gdviz.kernels._jit", "gdviz.ui.app",
            "gdviz.bench.kernels", "gdviz.bench.ui"} <= set(mods)
    found = {m: imports_of(p.read_text(encoding="utf-8"), m, p.name == "__init__.py")
             for m, p in mods.items()}
    names = {m: {n for _, n in imps} for m, imps in found.items()}
    assert "numba" in names["gdviz.kernels._jit"]
    assert "gdviz.commands" in names["gdviz.cli"]  # import_module(f"gdviz.commands.{...}")
    assert "pyqtgraph.functions" in names["gdviz.bench.ui"]  # inside a function
    broken = [v for m, imps in found.items() for v in violations(m, imps)]
    assert broken == [], "\n".join(broken)


# ----------------------------------------------------------------------------- the scanner
@pytest.mark.parametrize("module, source, needle", [
    # an import inside a function
    ("gdviz.core.x", "def f():\n    import numba\n    return numba\n", "imports numba"),
    ("gdviz.core.x", "def f():\n    import pyqtgraph as pg\n", "imports pyqtgraph"),
    # importlib.import_module / __import__ with a string literal
    ("gdviz.core.x", "import importlib\nimportlib.import_module('PySide6.QtCore')\n",
     "imports PySide6.QtCore"),
    ("gdviz.core.x", "from importlib import import_module\nimport_module('gdviz.export.clip')\n",
     "gdviz.core must not import gdviz.export"),
    ("gdviz.export.x", "m = __import__('llvmlite')\n", "imports llvmlite"),
    # an f-string or a concatenation with a constant package prefix
    ("gdviz.core.x", "import importlib\nimportlib.import_module(f'gdviz.ui.{name}')\n",
     "gdviz.core must not import gdviz.ui"),
    ("gdviz.kernels.x", "import importlib\nimportlib.import_module('gdviz.core.' + name)\n",
     "gdviz.kernels must not import gdviz.core"),
    # a from-import, also under TYPE_CHECKING
    ("gdviz.core.x", "from gdviz.ui.theme import PALETTE\n", "gdviz.core must not import gdviz.ui"),
    ("gdviz.core.x", "from gdviz import commands\n", "gdviz.core must not import gdviz.commands"),
    ("gdviz.core.x", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                     "    from gdviz.export.clip import ExportSettings\n",
     "gdviz.core must not import gdviz.export"),
    ("gdviz.kernels.x", "from gdviz.core.surfaces import Landscape\n",
     "gdviz.kernels must not import gdviz.core"),
    ("gdviz.bench.kernels", "from superqt import QLabeledSlider\n", "imports superqt"),
    ("gdviz.bench.kernels", "import numba\n", "imports numba"),
    ("gdviz", "import numba\n", "imports numba"),
    # relative imports, resolved against the module (and against a package's __init__)
    ("gdviz.core.x", "from ..ui import theme\n", "gdviz.core must not import gdviz.ui"),
    ("gdviz.core.x", "from .. import export\n", "gdviz.core must not import gdviz.export"),
    ("gdviz.core.session.model", "from ...ui.views import items\n",
     "gdviz.core must not import gdviz.ui"),
    ("gdviz.kernels.x", "import importlib\nimportlib.import_module('..core', __package__)\n",
     "gdviz.kernels must not import gdviz.core"),
])
def test_scanner_catches(module, source, needle):
    found = scan(module, source)
    assert len(found) >= 1 and any(needle in v for v in found), found


@pytest.mark.parametrize("module, source", [
    ("gdviz.kernels.x", "import numba\nfrom ._jit import jit\n"),
    ("gdviz.ui.views.x", "def f():\n    from PySide6.QtCore import Qt\n"
                         "from gdviz.core.session import Session\nfrom gdviz.export import clip\n"),
    ("gdviz.bench.ui", "import pyqtgraph.functions\nfrom gdviz.ui.app import ensure_app\n"),
    ("gdviz.bench.kernels", "from gdviz import kernels\nfrom gdviz.core.engine import RunSet\n"),
    ("gdviz.core.x", "from gdviz.kernels import optim\nfrom . import data\n"
                     "import importlib\nimportlib.import_module(name)\n"),
    ("gdviz.cli", "import importlib\nimportlib.import_module(f'gdviz.commands.{c}')\n"),
])
def test_scanner_lets_allowed_imports_through(module, source):
    assert scan(module, source) == []


def test_relative_imports_resolve():
    assert imports_of("from .. import ui\n", "gdviz.core.x") == [(1, "gdviz"), (1, "gdviz.ui")]
    assert imports_of("from . import x\n", "gdviz.core", is_package=True)[1] == (1, "gdviz.core.x")
    assert imports_of("from .y import z\n", "gdviz.core.x")[0] == (1, "gdviz.core.y")
    # in a package's __init__ one dot is the package itself
    assert imports_of("from ..ui import a\n", "gdviz.core.session", is_package=True)[0] \
        == (1, "gdviz.core.ui")
    assert imports_of("from ...ui import a\n", "gdviz.core.session", is_package=True)[0] \
        == (1, "gdviz.ui")
    assert imports_of("import importlib\nimportlib.import_module(f'{__name__}.x')\n",
                      "gdviz.kernels", is_package=True) == [(1, "importlib")]


def test_temporary_qt_only_while_the_file_exists(tmp_path):
    src = "from PySide6.QtGui import QPainter\n"
    imports = imports_of(src, "gdviz.export.render")
    present = tmp_path / "render.py"
    present.write_text(src)
    assert violations("gdviz.export.render", imports, {"gdviz.export.render": present}) == []
    gone = {"gdviz.export.render": tmp_path / "deleted.py"}
    assert violations("gdviz.export.render", imports, gone)
    # the entry names one module, not its package
    assert violations("gdviz.export.clip", imports_of(src, "gdviz.export.clip"),
                      {"gdviz.export.render": present})


# ----------------------------------------------------------------------------- import time
def modules_of(subpackage):
    return sorted(m for m in all_modules() if m.startswith(f"gdviz.{subpackage}."))


def loaded_after(imports, then: str = ""):
    """Names of the top-level packages in sys.modules after importing ``imports`` afresh
    (and running the statement ``then``)."""
    code = ("import importlib, sys\n"
            f"for m in {imports!r}: importlib.import_module(m)\n"
            f"{then}\n"
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
    assert "gdviz" in loaded
    assert not loaded & (QT | NUMBA)  # numba waits for the first kernel call (kernels._jit)
    loaded = loaded_after(mods, "import gdviz.kernels._jit as j; j.load_numba()")
    assert "numba" in loaded  # the subprocess really loaded it
    assert not loaded & QT


def test_the_first_window_does_not_wait_for_numba():
    """Importing the window imports no numba (0.3 s of the start): the first window runs
    on the numpy twins, and the background warm-up loads numba."""
    loaded = loaded_after(["gdviz.ui.main_window", "gdviz.ui.app"])
    assert "PySide6" in loaded and "pyqtgraph" in loaded
    assert not loaded & NUMBA


def test_import_gdviz_loads_neither_numba_nor_qt():
    loaded = loaded_after(["gdviz"])
    assert "gdviz" in loaded
    assert not loaded & (NUMBA | QT)
