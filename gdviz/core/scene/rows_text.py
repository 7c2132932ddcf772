"""Big arrays of number rows in scene files, read and written without tomllib / tomli-w.

A scene's ``data`` holds up to MAX_POINTS rows. tomllib's pure-Python parser took ~0.7 s to
read 100,000 points and tomli-w ~0.4 s to write them (a number per line, 7 MB): a freeze
of the window on every open and save. Here such an array is checked and read with numpy,
whole: :func:`read_rows` accepts exactly what TOML accepts for an array of arrays of
decimal numbers (signs, fractions, exponents; no underscores, comments, hex, inf or nan,
which it leaves to tomllib by returning None), and reads each number as Python's float()
does. :func:`rows_text` writes the rows one per line, each number as ``repr``.
"""

from __future__ import annotations

import re

import numpy as np

from gdviz.core.rows import Rows, as_array

__all__ = ["ROW_CHARS", "read_rows", "rows_text"]

#: every character an array of decimal number rows can hold
ROW_CHARS = "0123456789eE+-.,[] \t\n"


# each byte's class, a bit each (0: a character no such array holds)
_DIGIT, _SIGN, _EXP, _DOT, _KEEP, _SPACE = 1, 2, 4, 8, 16, 32
_NUMBER = _DIGIT | _SIGN | _EXP | _DOT
_CLASS = np.zeros(256, np.uint8)
for _chars, _bit in (("0123456789", _DIGIT), ("+-", _SIGN), ("eE", _EXP), (".", _DOT),
                     ("[],", _KEEP), (" \t\n", _SPACE)):
    _CLASS[np.frombuffer(_chars.encode("ascii"), np.uint8)] = _bit
_N = ord("n")
#: the shape once every number is an ``n`` and the spaces are gone: rows of ``arity``
#: numbers, commas between (a trailing one allowed, in a row and in the array)
_SHAPES = {k: re.compile(r"\[(?:\[n" + ",n" * (k - 1) + r",?\],)*(?:\[n" + ",n" * (k - 1)
                         + r",?\],?)?\]") for k in (2, 3)}


def _shifted(a: np.ndarray, by: int) -> np.ndarray:
    """``a`` moved ``by`` places to the right (left if negative), zeros let in."""
    out = np.zeros_like(a)
    if by > 0:
        out[by:] = a[:-by]
    else:
        out[:by] = a[-by:]
    return out


def read_rows(text: str, arity: int) -> np.ndarray | None:
    """The numbers of ``text``, a TOML array of rows of ``arity`` decimal numbers, as an
    (n, arity) float64 array (each read as float() reads it); None if ``text`` is anything
    else, valid TOML or not (the caller then asks tomllib)."""
    try:
        b = np.frombuffer(text.encode("ascii"), np.uint8)
    except UnicodeEncodeError:
        return None
    if not b.size:
        return None
    c = _CLASS[b]
    if not c.all():
        return None
    num = (c & _NUMBER) != 0
    start = num & ~_shifted(num, 1)
    last = num & ~_shifted(num, -1)
    # the shape: each number one "n" (a space inside a number makes two: "nn")
    keep = ((c & _KEEP) != 0) | start
    shape = b[keep].copy()
    shape[start[keep]] = _N
    if _SHAPES[arity].fullmatch(shape.tobytes().decode("ascii")) is None:
        return None
    # each number: [+-]? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?, so
    # it starts with a sign or a digit and ends with a digit; a sign starts it or follows
    # the exponent's e and comes before a digit; an e and a '.' follow a digit, the '.'
    # comes before a digit, the e before a digit or a sign; no 0 leads a longer integer
    prev, after = _shifted(c, 1), _shifted(c, -1)
    if ((c[start] & (_DIGIT | _SIGN)) == 0).any() or ((c[last] & _DIGIT) == 0).any():
        return None
    signs = np.flatnonzero((c & _SIGN) != 0)
    if signs.size and (((~start[signs]) & ((prev[signs] & _EXP) == 0))
                       | ((after[signs] & _DIGIT) == 0)).any():
        return None
    exps = np.flatnonzero((c & _EXP) != 0)
    if exps.size and (((prev[exps] & _DIGIT) == 0)
                      | ((after[exps] & (_DIGIT | _SIGN)) == 0)).any():
        return None
    dots = np.flatnonzero((c & _DOT) != 0)
    if dots.size and (((prev[dots] & _DIGIT) == 0) | ((after[dots] & _DIGIT) == 0)).any():
        return None
    zeros = np.flatnonzero((b == ord("0")) & ((after & _DIGIT) != 0))
    if zeros.size:  # a 0 with a digit after it: no number's integer part starts so
        lead = start[zeros] | (((prev[zeros] & _SIGN) != 0) & start[np.maximum(zeros - 1, 0)])
        if lead.any():
            return None
    # at most one e and one '.' a number, the '.' before the e
    starts = np.flatnonzero(start)
    e_token = np.searchsorted(starts, exps, side="right") - 1
    d_token = np.searchsorted(starts, dots, side="right") - 1
    if (np.diff(e_token) == 0).any() or (np.diff(d_token) == 0).any():
        return None
    if exps.size and dots.size:
        e_at = np.full(starts.size, b.size)
        e_at[e_token] = exps
        if (e_at[d_token] < dots).any():
            return None
    if not starts.size:
        return np.zeros((0, arity))
    # read in pieces: a scene read on a worker thread (the window's big files) holds the
    # GIL for one piece at a time (~8 ms), not for the whole (~60 ms at 100,000 points)
    spaced = text.translate(_SPACES)
    cuts = [*starts[::FLOAT_PIECE].tolist(), len(spaced)]
    flat = np.concatenate([np.fromstring(spaced[a:b], sep=" ") for a, b in zip(cuts, cuts[1:])])
    if flat.size != starts.size:  # pragma: no cover - every number was checked above
        return None
    zero = flat == 0
    if zero.any():  # an integer -0 is the integer 0, and float(0) is +0.0
        integer = np.ones(starts.size, bool)
        integer[e_token] = integer[d_token] = False
        flat[zero & integer] = 0.0
    return flat.reshape(-1, arity)


_SPACES = str.maketrans("[],", "   ")
#: numbers read by one np.fromstring
FLOAT_PIECE = 16384


def rows_text(rows, indent: str = "    ") -> str:
    """``rows`` as a TOML array, a row per line, each number as repr(float): read back by
    :func:`read_rows` (and tomllib) as the same floats. ValueError on inf or nan.

    A Rows keeps its text (immutable, as it is): the autosave writes the demo every few
    seconds, and each writing of 100,000 points spent ~120 ms in repr."""
    if not rows:
        return "[]"
    kept = type(rows) is Rows and indent == "    "
    if kept and "text" in rows.__dict__:
        return rows.__dict__["text"]
    a = as_array(rows) if type(rows) is Rows else None
    if a is None:
        width = len(rows[0])
        if any(len(r) != width for r in rows):
            raise ValueError("rows of different lengths")
        a = np.array(rows, dtype=np.float64)
    if not np.isfinite(a).all():
        bad = a[~np.isfinite(a)][0]
        raise ValueError(f"cannot write non-finite number {float(bad)!r}")
    it = iter(map(float.__repr__, a.ravel().tolist()))
    sep = ", "
    if a.shape[1] == 2:
        lines = [f"{indent}[{x}{sep}{y}]," for x, y in zip(it, it)]
    else:
        line = f"{indent}[" + sep.join(["{}"] * a.shape[1]) + "],"
        lines = [line.format(*r) for r in zip(*(it,) * a.shape[1])]
    text = "[\n" + "\n".join(lines) + "\n]"
    if kept:
        rows.__dict__["text"] = text
    return text
