"""Timing helpers shared by every ``gdviz bench`` entry."""

from __future__ import annotations

import math
import time
from typing import Callable, Iterable

import numpy as np


def best_ms(fn: Callable[[], object], repeats: int, number: int = 1) -> float:
    """Best of ``repeats`` timings of ``number`` back-to-back calls of ``fn``, in ms per call.

    The minimum, not the mean: on a shared machine the noise only ever adds time.
    """
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best * 1e3


def p95(xs: Iterable[float]) -> float:
    """The 95th percentile of ``xs`` (same unit as ``xs``; numpy's linear interpolation)."""
    return float(np.percentile(np.asarray(list(xs), dtype=np.float64), 95))
