"""Garbage cycles for the collector's tests (tests/core/test_collect.py,
tests/ui/test_idle_collector.py)."""

from __future__ import annotations

import gc
import weakref


class _Node:
    pass


def churn(refs: list) -> None:
    """Garbage cycles by the thousand (CPython's count tipped again and again), and one
    cycle left for a pass to free: its weak reference is appended to ``refs``."""
    for _ in range(20 * gc.get_threshold()[0]):
        a, b = _Node(), _Node()
        a.other, b.other = b, a
    last = _Node()
    last.me = last
    refs.append(weakref.ref(last))
