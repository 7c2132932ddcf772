"""Screen-resolution decimation of growing histories, fed only what is new (numpy only).

A view draws a run's history every frame. Copying all of it each frame makes a frame at
step 10^6 cost a hundred times one at step 10^3, so the views keep a decimated copy that
they extend with the rows added since the last frame (O(new points)) and cut back when the
display moves back (O(log) or O(one bucket)). Both decimators keep every point while the
history is short, so a short race is drawn exactly.

- :class:`PathDecimator`: a trail on the map, (x, y) in data units. Past ``exact`` points
  a point is kept only when it leaves the screen cell (about one pixel) of the point kept
  before it, so a run creeping towards a minimum adds nothing; every ``level`` kept points
  the cell doubles, so even a noisy run circling a minimum keeps a bounded number.
- :class:`SeriesDecimator`: a loss curve, y against the step. Steps fall into buckets of
  ``width`` steps; each bucket keeps its lowest and its highest point (in step order), so
  the drawn curve has the envelope of the full history. When there are more than
  ``max_buckets`` buckets the width doubles and neighbouring buckets merge.

Both hold their kept points in growable float64 buffers (``x[:n]``, ``y[:n]``) and say
which ones changed since the drawing code last looked (:meth:`take_dirty`), so that a
cached prefix is redrawn only when it really changed.
"""

from __future__ import annotations

import math

import numpy as np

#: a trail keeps every point up to this many, then decimates at screen resolution (a
#: thick antialiased path costs per point whenever its cache is redrawn: keep it short)
PATH_EXACT = 512
#: kept points per cell size; then the cell doubles
PATH_LEVEL = 1024
#: a loss curve keeps at most this many buckets (two points each) unless told otherwise:
#: its view asks for about one bucket per pixel of the plot's width
MAX_BUCKETS = 1024
#: points handled per numpy pass when a long history is fed at once
CHUNK = 1 << 16


class _Buffer:
    """Growable parallel arrays of kept points: keys (int64) and x, y (float64)."""

    def __init__(self, capacity: int = 256):
        self.k = np.empty(capacity, dtype=np.int64)
        self.x = np.empty(capacity)
        self.y = np.empty(capacity)
        self.n = 0
        self.dirty = 0  # smallest index changed since take_dirty()

    def reserve(self, m: int) -> None:
        need = self.n + m
        if need <= len(self.k):
            return
        cap = max(len(self.k), 1)
        while cap < need:
            cap *= 2
        for name in ("k", "x", "y"):
            old = getattr(self, name)
            new = np.empty(cap, dtype=old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)

    def append(self, k, x, y) -> None:
        m = len(k)
        if not m:
            return
        self.reserve(m)
        n = self.n
        self.k[n:n + m] = k
        self.x[n:n + m] = x
        self.y[n:n + m] = y
        self.n = n + m

    def cut(self, n: int) -> None:
        if n < self.n:
            self.n = n
            self.dirty = min(self.dirty, n)

    def take_dirty(self) -> int:
        """The smallest kept index that changed since the last call (``n`` if none)."""
        d, self.dirty = min(self.dirty, self.n), 1 << 62
        return d


class _Kept:
    """What both decimators show: their kept points (``buf``, a :class:`_Buffer`)."""

    buf: _Buffer

    @property
    def n(self) -> int:
        return self.buf.n

    @property
    def x(self) -> np.ndarray:
        return self.buf.x

    @property
    def y(self) -> np.ndarray:
        return self.buf.y

    @property
    def keys(self) -> np.ndarray:
        return self.buf.k[: self.buf.n]

    def take_dirty(self) -> int:
        return self.buf.take_dirty()


class PathDecimator(_Kept):
    """A 2-D path kept at screen resolution. ``cell`` = (dx, dy): one screen cell (about a
    pixel) in data units; points are added in order with increasing integer keys (steps).

    Invariant (what tests check): the first ``exact`` points are all kept, and every later
    point lies in the same cell as the kept point at or before it, under the grid in force
    once that point was kept (:meth:`cells`).
    """

    def __init__(self, cell: tuple[float, float] = (1.0, 1.0), *, exact: int | None = None,
                 level: int | None = None):
        self.exact = int(PATH_EXACT if exact is None else exact)
        self.level = int(PATH_LEVEL if level is None else level)
        self.set_cell(cell)
        self.clear()

    def set_cell(self, cell: tuple[float, float]) -> None:
        """The base cell (use :meth:`clear` and feed again to apply it to old points)."""
        cx, cy = (float(abs(c)) for c in cell)
        self.base = (cx if cx > 0 and np.isfinite(cx) else 1.0,
                     cy if cy > 0 and np.isfinite(cy) else 1.0)

    def clear(self) -> None:
        self.buf = _Buffer()
        self.last_key = -1  # the last key fed (kept or not)

    def cell_at(self, n_kept: int) -> tuple[float, float] | None:
        """The cell size in force once ``n_kept`` points are kept (None: keep every point)."""
        if n_kept < self.exact:
            return None
        f = float(2 ** ((n_kept - self.exact) // self.level))
        return self.base[0] * f, self.base[1] * f

    def cells(self, n_kept: int, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The cells (float64 integers) of points x, y under the grid in force once
        ``n_kept`` (>= ``exact``) points are kept. Each grid is centred on the last point
        kept before it came into force: a grid anchored at 0 would keep a cell border
        through a minimum at 0 at every size, and a run jittering across it would add
        points forever."""
        cx, cy = self.cell_at(n_kept)
        a = self.exact + (n_kept - self.exact) // self.level * self.level - 1
        ox, oy = self.buf.x[a], self.buf.y[a]
        return np.floor((x - ox) / cx + 0.5), np.floor((y - oy) / cy + 0.5)

    def extend(self, keys: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
        """Feed the next points: int64 keys (increasing, after the last fed), float64 x, y (m,)."""
        m = len(keys)
        if not m:
            return
        buf = self.buf
        i = 0
        while i < m:
            n = buf.n
            if n < self.exact:  # exact: take as many as fit before the first grid
                j = min(m, i + self.exact - n)
                buf.append(keys[i:j], x[i:j], y[i:j])
                i = j
                continue
            j = min(m, i + CHUNK)  # bounded work and memory per pass (a rebuild)
            gx, gy = self.cells(n, x[i:j], y[i:j])
            px, py = self.cells(n, buf.x[n - 1:n], buf.y[n - 1:n])
            change = np.empty(j - i, dtype=bool)
            # the cell of the point before: the last kept one's (all points since share it)
            change[0] = gx[0] != px[0] or gy[0] != py[0]
            np.not_equal(gx[1:], gx[:-1], out=change[1:])
            change[1:] |= gy[1:] != gy[:-1]
            idx = np.flatnonzero(change)
            quota = self.level - (n - self.exact) % self.level
            if len(idx) > quota:  # a new grid after the quota-th: look again from there
                idx = idx[:quota]
                nxt = i + int(idx[-1]) + 1
            else:
                nxt = j
            sel = idx + i
            buf.append(keys[sel], x[sel], y[sel])
            i = nxt
        self.last_key = int(keys[-1])

    def truncate(self, key: int) -> int:
        """Forget the points after ``key``; returns the key to read on from (exclusive).

        Points skipped after the last kept one share its cell, so nothing needs re-reading.
        """
        n = int(np.searchsorted(self.keys, key, side="right"))
        self.buf.cut(n)
        self.last_key = min(self.last_key, int(key))
        return self.last_key

    def pending(self) -> tuple[np.ndarray, np.ndarray]:
        return _EMPTY, _EMPTY


class SeriesDecimator(_Kept):
    """y against an integer key (the step), min/max per bucket of ``width`` keys.

    Each finished bucket keeps its lowest and highest finite point, in key order (one point
    when they coincide); the open bucket (the newest) is :meth:`pending`. Non-finite values
    are skipped. ``lo`` and ``hi`` are the finite min and max of everything fed.
    """

    def __init__(self, max_buckets: int | None = None):
        self.max_buckets = int(MAX_BUCKETS if max_buckets is None else max_buckets)
        if self.max_buckets < 2:
            raise ValueError(f"max_buckets must be >= 2, got {self.max_buckets}")
        self.clear()

    def clear(self) -> None:
        self.width = 1
        nb = self.max_buckets + 2
        # per bucket: key and value of its min and max (nan: no point in it)
        self.bk_min = np.zeros(nb, dtype=np.int64)
        self.by_min = np.full(nb, np.nan)
        self.bk_max = np.zeros(nb, dtype=np.int64)
        self.by_max = np.full(nb, np.nan)
        self.b_end = np.zeros(nb, dtype=np.int64)  # kept points up to and including bucket b
        self.nb = 0  # finished buckets; bucket nb is the open one
        self.buf = _Buffer()
        self.last_key = -1
        self._lo = self._hi = math.nan

    @property
    def lo(self) -> float:
        return self._lo

    @property
    def hi(self) -> float:
        return self._hi

    def _recount(self) -> None:
        """The running min and max again, from the buckets (after a cut back)."""
        v0, v1 = self.by_min[: self.nb + 1], self.by_max[: self.nb + 1]
        ok = np.isfinite(v0)
        self._lo = float(v0[ok].min()) if ok.any() else math.nan
        self._hi = float(v1[ok].max()) if ok.any() else math.nan

    def _bucket_points(self, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Kept points of buckets ``b`` (increasing) in key order: keys, y, and per bucket
        how many (0, 1 or 2)."""
        k0, y0, k1, y1 = self.bk_min[b], self.by_min[b], self.bk_max[b], self.by_max[b]
        has = np.isfinite(y0)
        two = has & (k0 != k1)
        first_min = k0 <= k1
        ka = np.where(first_min, k0, k1)
        ya = np.where(first_min, y0, y1)
        kb = np.where(first_min, k1, k0)
        yb = np.where(first_min, y1, y0)
        count = has.astype(np.int64) + two
        ks = np.stack([ka, kb], axis=1)
        ys = np.stack([ya, yb], axis=1)
        mask = np.stack([has, two], axis=1)
        return ks[mask], ys[mask], count

    def _finish(self, upto: int) -> None:
        """Buckets nb..upto-1 are finished: append their points."""
        if upto <= self.nb:
            return
        b = np.arange(self.nb, upto)
        ks, ys, count = self._bucket_points(b)
        start = self.b_end[self.nb - 1] if self.nb else 0
        self.b_end[self.nb:upto] = start + np.cumsum(count)
        self.buf.append(ks, ks.astype(np.float64), ys)
        self.nb = upto

    def _coarsen(self) -> None:
        """Double the width: buckets 2j and 2j+1 merge (the open one with its partner)."""
        nb = self.nb
        top = nb + 1  # include the open bucket
        half = (top + 1) // 2
        for kk, yy, pick in ((self.bk_min, self.by_min, np.fmin), (self.bk_max, self.by_max, np.fmax)):
            a_k, a_y = kk[0:top:2].copy(), yy[0:top:2].copy()
            b_k = np.zeros(half, dtype=np.int64)
            b_y = np.full(half, np.nan)
            b_k[: top // 2], b_y[: top // 2] = kk[1:top:2], yy[1:top:2]
            best = pick(a_y, b_y)
            # the partner wins only where it holds the better value (ties: the earlier)
            take_b = np.isfinite(b_y) & ((best != a_y) | ~np.isfinite(a_y))
            kk[:half] = np.where(take_b, b_k, a_k)
            yy[:half] = best
            kk[half:top] = 0
            yy[half:top] = np.nan
        self.width *= 2
        # the open bucket is the one that holds the newest key
        self.nb = max(self.last_key, 0) // self.width
        self.buf.cut(0)
        nb, self.nb = self.nb, 0
        self._finish(nb)

    def extend(self, keys: np.ndarray, y: np.ndarray) -> None:
        """Feed the next points: int64 keys (increasing, after the last fed), float64 y (m,)."""
        if len(keys) > CHUNK:  # a long history read at once: bounded temporaries
            for i in range(0, len(keys), CHUNK):
                self._extend(keys[i:i + CHUNK], y[i:i + CHUNK])
        else:
            self._extend(keys, y)

    def _extend(self, keys: np.ndarray, y: np.ndarray) -> None:
        if not len(keys):
            return
        last = int(keys[-1])
        while last // self.width >= self.max_buckets:
            self.last_key = max(self.last_key, 0)
            self._coarsen()
        self.last_key = last
        if len(keys) <= 64:  # a frame's few points: plain Python beats a dozen numpy calls
            self._extend_few(keys.tolist(), y.tolist())
            self._finish(last // self.width)
            return
        ok = np.isfinite(y)
        if not ok.all():
            keys, y = keys[ok], y[ok]
            if not len(keys):
                self._finish(last // self.width)
                return
        bid = keys // self.width
        # group by bucket (keys increase, so buckets do): one min and one max each
        starts = np.flatnonzero(np.r_[True, bid[1:] != bid[:-1]])
        groups = bid[starts]
        gmin = np.minimum.reduceat(y, starts)
        gmax = np.maximum.reduceat(y, starts)
        sizes = np.diff(np.r_[starts, len(y)])
        first_at = np.repeat(starts, sizes)
        # first index of each group's min and max (np.unique on (group, index) keeps the first)
        imin = np.flatnonzero(y == np.repeat(gmin, sizes))
        imin = imin[np.r_[True, first_at[imin][1:] != first_at[imin][:-1]]]
        imax = np.flatnonzero(y == np.repeat(gmax, sizes))
        imax = imax[np.r_[True, first_at[imax][1:] != first_at[imax][:-1]]]
        kmin, kmax = keys[imin], keys[imax]
        # fold into what the buckets already hold (only the open one can hold anything)
        old_min, old_max = self.by_min[groups], self.by_max[groups]
        better_min = ~(old_min <= gmin)  # nan old: take the new
        better_max = ~(old_max >= gmax)
        self.by_min[groups] = np.where(better_min, gmin, old_min)
        self.bk_min[groups] = np.where(better_min, kmin, self.bk_min[groups])
        self.by_max[groups] = np.where(better_max, gmax, old_max)
        self.bk_max[groups] = np.where(better_max, kmax, self.bk_max[groups])
        lo, hi = float(gmin.min()), float(gmax.max())
        if not self._lo <= lo:
            self._lo = lo
        if not self._hi >= hi:
            self._hi = hi
        self._finish(last // self.width)

    def _extend_few(self, keys: list, ys: list) -> None:
        """:meth:`extend` for a few points (the same result, ties keep the earlier). The
        buckets they finish are appended by the caller, all in one :meth:`_finish` (one per
        point cost ~50 us each: 16 steps a frame on 36 curves was 30 ms after a restart,
        while the buckets are one step wide); buckets after the open one are empty, and
        keys increase, so a finished bucket gets nothing more meanwhile."""
        w = self.width
        bmin, bmax, kmin, kmax = self.by_min, self.by_max, self.bk_min, self.bk_max
        lo, hi = self._lo, self._hi
        for k, v in zip(keys, ys):
            if not math.isfinite(v):
                continue
            b = k // w
            if not bmin[b] <= v:  # nan (empty) or higher: v is the new min
                bmin[b], kmin[b] = v, k
            if not bmax[b] >= v:
                bmax[b], kmax[b] = v, k
            if not lo <= v:
                lo = v
            if not hi >= v:
                hi = v
        self._lo, self._hi = lo, hi

    def truncate(self, key: int) -> int:
        """Forget the points after ``key``. Returns the key to read on from (exclusive): the
        bucket that holds ``key`` is emptied and must be fed again from its start."""
        b = min(max(int(key), 0) // self.width, self.nb)
        if key < 0:
            b = 0
        self.by_min[b: self.nb + 1] = np.nan
        self.by_max[b: self.nb + 1] = np.nan
        self.nb = b
        self.buf.cut(int(self.b_end[b - 1]) if b else 0)
        self.last_key = b * self.width - 1
        self._recount()
        return self.last_key

    def value_at(self, key: int) -> float | None:
        """The value kept at ``key`` when the open bucket holds it (else None)."""
        b = self.nb
        if self.bk_max[b] == key and np.isfinite(self.by_max[b]):
            return float(self.by_max[b])
        if self.bk_min[b] == key and np.isfinite(self.by_min[b]):
            return float(self.by_min[b])
        return None

    def pending(self) -> tuple[np.ndarray, np.ndarray]:
        """The open bucket's points (x as float64 keys, y), in key order."""
        b = self.nb
        y0, y1 = float(self.by_min[b]), float(self.by_max[b])
        if not math.isfinite(y0):
            return _EMPTY, _EMPTY
        k0, k1 = float(self.bk_min[b]), float(self.bk_max[b])
        if k0 == k1:
            return np.array([k0]), np.array([y0])
        if k0 < k1:
            return np.array([k0, k1]), np.array([y0, y1])
        return np.array([k1, k0]), np.array([y1, y0])


_EMPTY = np.zeros(0)
_EMPTY.flags.writeable = False
