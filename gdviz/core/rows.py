"""Data points held two ways at once: the tuple of float tuples a Scene and the problems
keep (frozen, comparable, hashable), and the float64 array they were made from.

Up to MAX_POINTS rows go from a scene file to the problem and back to a file. Each
conversion between tuples and an array took ~30 ms at 100,000 points, and an open made
half a dozen. A :class:`Rows` keeps its read-only array, so each one after the first is
free (:func:`as_array`), and knows whether all its numbers are finite and its largest
magnitude, so the checks are not made again.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Rows", "rows_of", "as_array"]


class Rows(tuple):
    """A tuple of rows (tuples of floats) with ``array`` (float64 (n, k), read-only),
    ``finite`` and ``max_abs`` (inf unless finite). Equal to, and hashed as, the plain
    tuple of the same rows; made by :func:`rows_of`."""

    array: np.ndarray
    finite: bool
    max_abs: float

    def __reduce__(self):  # a copy or a pickle is made from the array, and is a Rows again
        return rows_of, (self.array,)


def rows_of(values) -> Rows:
    """``values`` (an (n, k) array, or rows of numbers) as :class:`Rows`: a float64 copy."""
    a = np.array(values, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"rows of numbers must be a 2-D table, got {a.ndim} dimension(s)")
    a.flags.writeable = False
    # column by column: half the time of row by row
    rows = Rows(zip(*a.T.tolist()) if a.shape[1] else map(tuple, a.tolist()))
    rows.array = a
    rows.finite = bool(np.isfinite(a).all())
    rows.max_abs = float(np.abs(a).max(initial=0.0)) if rows.finite else math.inf
    return rows


def as_array(rows) -> np.ndarray:
    """The rows as a float64 array: a Rows' own (read-only, not copied), else a new one."""
    if type(rows) is Rows:
        return rows.array
    return np.asarray(rows, dtype=np.float64)
