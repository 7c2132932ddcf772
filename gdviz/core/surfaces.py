"""Registry of analytic test surfaces, and ``Landscape``: the 2-D problem object.

``SURFACES`` maps a name to its :class:`Surface` (formula, default view box, known
minima). The CLI choices, the GUI's combo box and the parametrised tests iterate over
it; the value and gradient live in :mod:`gdviz.kernels.surfaces` under the same
``sid``. A :class:`Landscape` is what the engine, the contour view and export work
with: a built-in surface or a custom expression, evaluated by numba kernels once they
are compiled and by their numpy twins until then.
"""

from __future__ import annotations

import difflib
import importlib
import math
from dataclasses import dataclass

import numpy as np

import gdviz.kernels
from gdviz.kernels import surfaces as _ks
from gdviz.core.userinput import quote

Point = tuple[float, float]


@dataclass(frozen=True)
class Surface:
    """One analytic test function.

    ``minima`` are the global minimisers (value ``min_value``), ``local_minima`` other
    strict local minimisers, ``saddle_points`` known saddles; all as (x, y) tuples,
    checked by the tests to have a vanishing gradient. ``log_levels`` asks the contour
    view for logarithmic levels where the values span orders of magnitude.
    """

    name: str
    sid: int
    formula: str
    view: tuple[float, float, float, float]
    minima: tuple[Point, ...]
    log_levels: bool
    min_value: float | None = None
    local_minima: tuple[Point, ...] = ()
    saddle_points: tuple[Point, ...] = ()


def _entry(name, formula, view, minima, log_levels, min_value, **extra) -> Surface:
    return Surface(name, _ks.SURFACE_IDS[name], formula, tuple(map(float, view)),
                   tuple(minima), log_levels, min_value, **extra)


# Digits of the irrational minimisers come from Newton's method on the analytic gradient.
SURFACES: dict[str, Surface] = {s.name: s for s in (
    _entry("quadratic", "x² + y²", (-2, 2, -2, 2), [(0.0, 0.0)], False, 0.0),
    _entry("ellipse", "x² + 10y²", (-2, 2, -2, 2), [(0.0, 0.0)], False, 0.0),
    _entry("saddle", "x² − y²", (-2, 2, -2, 2), [], False, None,
           saddle_points=((0.0, 0.0),)),
    # values run from 0 to ~2500 along a thin curved valley: log levels show the valley
    _entry("rosenbrock", "(1−x)² + 100(y−x²)²", (-2, 2, -1, 3), [(1.0, 1.0)], True, 0.0),
    _entry("beale", "(1.5−x+xy)² + (2.25−x+xy²)² + (2.625−x+xy³)²", (-4.5, 4.5, -4.5, 4.5),
           [(3.0, 0.5)], True, 0.0),
    _entry("himmelblau", "(x²+y−11)² + (x+y²−7)²", (-6, 6, -6, 6),
           [(3.0, 2.0), (-2.805118086952745, 3.131312518250573),
            (-3.779310253377747, -3.2831859912861696), (3.5844283403304917, -1.8481265269644034)],
           True, 0.0,
           saddle_points=((3.385154183607021, 0.07385187983774928),
                          (-0.12796134673068005, -1.9537149802445766),
                          (-3.0730257507643897, -0.08135304428796751),
                          (0.08667750455539634, 2.884254701174776))),
    # a plain quadratic bowl (condition number 9) like ellipse: linear levels read best
    _entry("booth", "(x+2y−7)² + (2x+y−5)²", (-10, 10, -10, 10), [(1.0, 3.0)], False, 0.0),
    _entry("matyas", "0.26(x²+y²) − 0.48xy", (-10, 10, -10, 10), [(0.0, 0.0)], False, 0.0),
    # the six humps live between −1 and 2.1 while the corners reach ~160
    _entry("six-hump-camel", "(4−2.1x²+x⁴/3)x² + xy + (−4+4y²)y²", (-3, 3, -2, 2),
           [(0.08984201310031807, -0.7126564030207396),
            (-0.08984201310031807, 0.7126564030207396)],
           True, -1.0316284534898774,
           local_minima=((1.703606714969981, -0.7960835686726251),
                         (-1.703606714969981, 0.7960835686726251),
                         (1.607104752920197, 0.5686514548841315),
                         (-1.607104752920197, -0.5686514548841315))),
    _entry("rastrigin", "20 + x² − 10cos2πx + y² − 10cos2πy", (-5.12, 5.12, -5.12, 5.12),
           [(0.0, 0.0)], False, 0.0),
    _entry("ackley", "−20exp(−0.2√(½(x²+y²))) − exp(½(cos2πx + cos2πy)) + e + 20",
           (-5, 5, -5, 5), [(0.0, 0.0)], False, 0.0),
    _entry("goldstein-price",
           "[1+(x+y+1)²(19−14x+3x²−14y+6xy+3y²)]·[30+(2x−3y)²(18−32x+12x²+48y−36xy+27y²)]",
           (-2, 2, -2, 2), [(0.0, -1.0)], True, 3.0,
           local_minima=((-0.6, -0.4), (1.8, 0.2), (1.2, 0.8))),
)}


def get_surface(name: str) -> Surface:
    """The surface called ``name`` (case, ``_`` and spaces forgiven).

    Raises ValueError ``unknown surface 'rosenbrok'; did you mean 'rosenbrock'?`` or
    ``unknown surface 'foo' (choose from quadratic, ellipse, ...)``.
    """
    key = str(name).strip().lower().replace("_", "-").replace(" ", "-")
    if key in SURFACES:
        return SURFACES[key]
    close = difflib.get_close_matches(key, list(SURFACES), n=1, cutoff=0.6)
    if close:
        raise ValueError(f"unknown surface '{quote(name)}'; did you mean '{close[0]}'?")
    raise ValueError(f"unknown surface '{quote(name)}' (choose from {', '.join(SURFACES)})")


def _check_view(view) -> tuple[float, float, float, float]:
    try:
        x0, x1, y0, y1 = (float(v) for v in view)
    except (TypeError, ValueError):
        raise ValueError(f"invalid view box {view!r}: need four numbers x0, x1, y0, y1") from None
    if not all(math.isfinite(v) for v in (x0, x1, y0, y1)) or not (x0 < x1 and y0 < y1):
        raise ValueError(f"invalid view box ({x0:g}, {x1:g}, {y0:g}, {y1:g}): "
                         "need finite x0 < x1 and y0 < y1")
    return x0, x1, y0, y1


def _points_array(pts) -> np.ndarray:
    a = np.array(pts, dtype=np.float64, ndmin=1)  # copied: the caller's array stays theirs
    if a.ndim == 1 and a.size == 0:  # np.array([]) is how "no points" often arrives
        a = a.reshape(0, 2)
    if a.ndim != 2 or a.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2), got {a.shape}")
    return a


def _readonly(a) -> np.ndarray:
    a = np.array(a, dtype=np.float64).reshape(-1, 2)
    a.setflags(write=False)
    return a


def _use_fast(fast: bool | None) -> bool:
    return gdviz.kernels.is_ready() if fast is None else bool(fast)


def _expr_kernels():
    # imported on first use: the built-in surfaces never need the expression interpreter
    return importlib.import_module("gdviz.kernels.expr")


class Landscape:
    """A 2-D loss landscape: a built-in surface (``sid >= 0``) or an expression (``sid == -1``).

    Attributes: ``name``, ``label`` (display formula), ``view`` (x0, x1, y0, y1),
    ``minima`` float64 (k, 2) global minimisers, ``local_minima`` (m, 2),
    ``saddle_points`` (s, 2), ``min_value`` (float or None), ``log_levels``, ``sid``,
    ``code`` int64 (c,) and ``consts`` float64 (k,) (the expression program; empty for
    built-ins), ``expr`` (the expression text, or None), ``n_params`` = 2.

    Build one with :meth:`from_surface` or :meth:`from_expr`. Every evaluation takes
    ``fast``: True forces the numba kernels, False the numpy twins, None (default)
    means numba once :func:`gdviz.kernels.is_ready` and the twins before.
    """

    n_params = 2

    def __init__(self, *, name: str, label: str, view, sid: int, minima=(), local_minima=(),
                 saddle_points=(), min_value: float | None = None, log_levels: bool = False,
                 code=None, consts=None, expr: str | None = None):
        self.name = name
        self.label = label
        self.view = _check_view(view)
        self.sid = int(sid)
        self.minima = _readonly(minima)
        self.local_minima = _readonly(local_minima)
        self.saddle_points = _readonly(saddle_points)
        self.min_value = min_value
        self.log_levels = bool(log_levels)
        # left writable: numba types read-only arrays apart, so they would miss the warmed-up
        # (and cached) specialisations of the expression kernels and compile again
        self.code = np.ascontiguousarray(np.zeros(0) if code is None else code, dtype=np.int64)
        self.consts = np.ascontiguousarray(np.zeros(0) if consts is None else consts,
                                           dtype=np.float64)
        self.expr = expr

    @classmethod
    def from_surface(cls, name: str) -> Landscape:
        """The built-in surface ``name`` (ValueError for an unknown name, see get_surface)."""
        s = get_surface(name)
        return cls(name=s.name, label=s.formula, view=s.view, sid=s.sid, minima=s.minima,
                   local_minima=s.local_minima, saddle_points=s.saddle_points,
                   min_value=s.min_value, log_levels=s.log_levels)

    @classmethod
    def from_expr(cls, text: str, view=(-2.0, 2.0, -2.0, 2.0)) -> Landscape:
        """A custom function of x and y (ValueError naming the column for a bad expression).

        No minima are known; ``view`` defaults to [-2, 2]².
        """
        from gdviz.core.expr import compile_expr

        prog = compile_expr(text)
        return cls(name="custom", label=prog.text, view=view, sid=-1,
                   code=prog.code, consts=prog.consts, expr=prog.text)

    def __repr__(self) -> str:
        return f"Landscape({self.name!r}, label={self.label!r}, view={self.view})"

    # ------------------------------------------------------------ evaluation

    def value_grad(self, P, fast: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Loss and gradient at points ``P``: float64 (n, 2) -> (f (n,), g (n, 2)), float64."""
        P = _points_array(P)
        xs = np.ascontiguousarray(P[:, 0])
        ys = np.ascontiguousarray(P[:, 1])
        n = xs.shape[0]
        if self.sid >= 0 and _use_fast(fast):
            f, gx, gy = np.empty(n), np.empty(n), np.empty(n)
            _ks.eval_points(self.sid, xs, ys, f, gx, gy)
        elif self.sid >= 0:
            f, gx, gy = _ks.surface_vg_np(self.sid, xs, ys)
        else:
            kx = _expr_kernels()
            kernel = kx.program_eval_points if _use_fast(fast) else kx.program_eval_points_np
            f, gx, gy = np.empty(n), np.empty(n), np.empty(n)
            kernel(self.code, self.consts, xs, ys, f, gx, gy)
        g = np.empty((n, 2))
        g[:, 0] = gx
        g[:, 1] = gy
        return np.array(f, dtype=np.float64), g

    def value(self, P, fast: bool | None = None) -> np.ndarray:
        """Loss at points ``P``: float64 (n, 2) -> float64 (n,)."""
        if self.sid >= 0 and not _use_fast(fast):
            P = _points_array(P)
            return np.array(_ks.surface_f_np(self.sid, P[:, 0], P[:, 1]), dtype=np.float64)
        return self.value_grad(P, fast)[0]

    def grid(self, x0: float, x1: float, y0: float, y1: float, nx: int, ny: int,
             fast: bool | None = None) -> np.ndarray:
        """Values on an nx × ny grid: float64 (ny, nx), ``out[j, i] = f(x_i, y_j)``.

        x_i = x0 + i*(x1-x0)/(nx-1) (row j is y_j likewise); nx, ny >= 2.
        """
        x0, x1, y0, y1 = _check_view((x0, x1, y0, y1))
        for label, n in (("nx", nx), ("ny", ny)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
                raise ValueError(f"invalid grid size {label}={n!r} (must be an integer >= 2)")
        out = np.empty((int(ny), int(nx)))
        fast = _use_fast(fast)
        if self.sid >= 0:
            kernel = _ks.grid_eval if fast else _ks.grid_eval_np
            kernel(self.sid, x0, x1, y0, y1, out)
        else:
            kx = _expr_kernels()
            kernel = kx.program_eval_grid if fast else kx.program_eval_grid_np
            kernel(self.code, self.consts, x0, x1, y0, y1, out)
        return out
