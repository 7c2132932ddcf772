"""Ranges a pyqtgraph view can take.

pyqtgraph raises ``Cannot set range [-inf, inf]`` for a non-finite range and warns
``Not setting range to [nan, nan]`` once a zoom has reached one; its own wheel and drag
zoom have no bounds, so a few hard turns of the wheel overflow. Every view sets its
ranges through :func:`finite_range` and bounds its zoom with :func:`zoom_limits`.
"""

from __future__ import annotations

import math

#: the largest coordinate a view shows; far inside float range, so spans and centres of
#: two such numbers stay finite
COORD_MAX = 1e150
#: the smallest span relative to the size of its ends (below it, float steps show)
REL_SPAN_MIN = 1e-9
#: how far the wheel and a right-drag may zoom out from a problem's own box
ZOOM_OUT = 1e4


def finite_range(lo, hi, default: tuple[float, float] = (0.0, 1.0)) -> tuple[float, float]:
    """``(lo, hi)`` made finite, ordered, within ±COORD_MAX and at least a few float
    steps wide; a NaN end falls back to ``default``'s."""
    lo, hi = float(lo), float(hi)
    if math.isnan(lo):
        lo = float(default[0])
    if math.isnan(hi):
        hi = float(default[1])
    lo = min(max(lo, -COORD_MAX), COORD_MAX)
    hi = min(max(hi, -COORD_MAX), COORD_MAX)
    if hi < lo:
        lo, hi = hi, lo
    mid = 0.5 * lo + 0.5 * hi
    need = max(abs(lo), abs(hi), 1e-300) * REL_SPAN_MIN
    if not hi - lo >= need:
        half = 0.5 * max(need, 1e-300)
        lo, hi = mid - half, mid + half
    return lo, hi


def finite_box(box) -> tuple[float, float, float, float]:
    """A view box ``(x0, x1, y0, y1)`` with both ranges through :func:`finite_range`."""
    x0, x1, y0, y1 = box
    return (*finite_range(x0, x1), *finite_range(y0, y1))


def zoom_limits(box) -> dict:
    """Keyword arguments for ``ViewBox.setLimits`` that keep the wheel and drags near
    ``box``: out to ZOOM_OUT times its size around it, in to REL_SPAN_MIN of its ends."""
    x0, x1, y0, y1 = finite_box(box)
    out = {}
    for axis, (a, b) in (("x", (x0, x1)), ("y", (y0, y1))):
        span = b - a
        reach = min(span * ZOOM_OUT, COORD_MAX)
        lo = max(a - reach, -COORD_MAX)
        hi = min(b + reach, COORD_MAX)
        out[f"{axis}Min"], out[f"{axis}Max"] = lo, hi
        out[f"min{axis.upper()}Range"] = max(abs(lo), abs(hi)) * REL_SPAN_MIN * 10
        out[f"max{axis.upper()}Range"] = hi - lo
    return out
