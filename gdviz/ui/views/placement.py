"""Where the views put what they write over their plots: legends in the corner that covers
the fewest data points, "diverged" labels stacked so that none hides another, and axes as
wide as the tick labels they show (the plots' text grows with the text size and in
projector mode; a fixed axis width cut a colour bar's ticks to "1", "C", "-")."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, QSizeF, Qt
from PySide6.QtGui import QFont, QFontMetrics, QTextDocument
from PySide6.QtWidgets import QGraphicsGridLayout

from gdviz.ui.views.items import delete_later

#: the legend's distance from the plot's edges, in pixels
MARGIN = 10
#: the corners in the order a legend prefers them when two cover as much: right first
#: (a run starts on the left of most maps; a loss curve falls from the top left)
CORNERS = ("top-right", "bottom-right", "top-left", "bottom-left")


def to_scene(vb, xy: np.ndarray) -> np.ndarray:
    """Points ``xy`` (float64 (k, 2), view coordinates) in ``vb``'s scene coordinates,
    (k, 2); log axes are the plot's business: pass the coordinates it plots."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    (x0, x1), (y0, y1) = vb.viewRange()
    box = vb.sceneBoundingRect()
    sx = box.width() / (x1 - x0) if x1 > x0 else 0.0
    sy = box.height() / (y1 - y0) if y1 > y0 else 0.0
    out = np.empty_like(xy)
    out[:, 0] = box.left() + (xy[:, 0] - x0) * sx
    out[:, 1] = box.bottom() - (xy[:, 1] - y0) * sy
    return out


def corner_rect(vb, size, corner: str) -> QRectF:
    """The scene rectangle a legend of ``size`` (QSizeF) takes in ``corner`` of ``vb``."""
    box = vb.sceneBoundingRect()
    w, h = size.width(), size.height()
    x = box.right() - MARGIN - w if corner.endswith("right") else box.left() + MARGIN
    y = box.top() + MARGIN if corner.startswith("top") else box.bottom() - MARGIN - h
    return QRectF(x, y, w, h)


def covered(rect: QRectF, pts: np.ndarray, weights: np.ndarray | None = None) -> float:
    """How many of ``pts`` (scene coordinates, (k, 2)) lie in ``rect`` (each counted
    ``weights[i]`` times, if given)."""
    if not len(pts):
        return 0.0
    x, y = pts[:, 0], pts[:, 1]
    inside = ((x >= rect.left()) & (x <= rect.right()) & (y >= rect.top())
              & (y <= rect.bottom()))
    return float(inside.sum() if weights is None else weights[inside].sum())


def emptiest_corner(vb, size, pts_scene: np.ndarray, corners=CORNERS) -> str:
    """The corner of ``vb`` where a box of ``size`` covers the fewest points (the first of
    ``corners`` among equals)."""
    counts = [covered(corner_rect(vb, size, c), pts_scene) for c in corners]
    return corners[int(np.argmin(counts))]


#: what a legend wider or taller than the map counts per pixel it sticks out (more than
#: any points it could cover: a smaller form that fits wins; among forms that all stick
#: out, the one that sticks out least)
OVERFLOW_WEIGHT = 1e6


def overflow(vb, size) -> float:
    """How far (px, width + height) a legend of ``size`` sticks out of ``vb`` with its margins."""
    box = vb.sceneBoundingRect()
    return (max(size.width() - (box.width() - 2 * MARGIN), 0.0)
            + max(size.height() - (box.height() - 2 * MARGIN), 0.0))


def place_legend(legend, vb, xy: np.ndarray, corners=CORNERS, taken: list | None = None,
                 weights: np.ndarray | None = None) -> tuple[str, float]:
    """Move ``legend`` (a pyqtgraph LegendItem parented to ``vb``) to the corner where it
    covers the fewest of the points ``xy`` (view coordinates, (k, 2); ``weights``: how
    much each counts); ``taken``: scene rectangles it must not cover either (another
    legend). Returns the corner and how much it covers there (plus ``OVERFLOW_WEIGHT``
    per pixel it sticks out of the map: a form too big for the map scores worse)."""
    size = legend.boundingRect().size()
    extra = OVERFLOW_WEIGHT * overflow(vb, size)
    pts = to_scene(vb, xy)
    good = np.isfinite(pts).all(axis=1)
    pts = pts[good]
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64)[good]
    best, best_n = corners[0], None
    for c in corners:
        rect = corner_rect(vb, size, c)
        n = covered(rect, pts, weights)
        if taken and any(rect.intersects(r) for r in taken):
            n += 10 ** 9
        if best_n is None or n < best_n:
            best, best_n = c, n
    offset = (-MARGIN if best.endswith("right") else MARGIN,
              MARGIN if best.startswith("top") else -MARGIN)
    if tuple(legend.opts["offset"]) != offset:
        legend.setOffset(offset)
    return best, float(best_n or 0.0) + extra


def legend_score(vb, size, xy: np.ndarray, corners=CORNERS,
                 weights: np.ndarray | None = None) -> float:
    """How much a legend of ``size`` (QSizeF) covers of the points ``xy`` (view
    coordinates) in the corner :func:`place_legend` would put it in: its score there,
    without moving or laying out anything."""
    pts = to_scene(vb, xy)
    good = np.isfinite(pts).all(axis=1)
    pts = pts[good]
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64)[good]
    return (float(min(covered(corner_rect(vb, size, c), pts, weights) for c in corners))
            + OVERFLOW_WEIGHT * overflow(vb, size))


#: dropped entries a legend keeps for its next ones (a race of 40 runs has 40 entries)
SPARE_ROWS = 48


def no_layout() -> None:
    """Stands in for a legend's ``updateSize`` while many entries are added at once."""


def sync_legend(legend, entries: list[tuple]) -> int:
    """Make ``legend`` (a pyqtgraph LegendItem) list ``entries`` ((plot item, text) pairs,
    top to bottom) with as few new labels as it takes: the entries it lists already (the
    same text, before and after those that changed) keep their labels, their samples
    drawing the entry's item; the changed ones are written in place, made or dropped. A
    run added makes one label, a run removed none (40 runs: writing the legend anew made
    40 labels, ~50 ms). A dropped entry is kept, hidden, for the next one made (up to
    :data:`SPARE_ROWS`): a scene of 15 runs opened over a lesson of one made 11 labels,
    ~1 ms each, in the open's turn. Returns how many labels were made."""
    from pyqtgraph import LabelItem

    rows = list(legend.items)
    n_old, n_new = len(rows), len(entries)
    head = 0
    while head < min(n_old, n_new) and rows[head][1].text == entries[head][1]:
        head += 1
    tail = 0
    while (tail < min(n_old, n_new) - head
           and rows[n_old - 1 - tail][1].text == entries[n_new - 1 - tail][1]):
        tail += 1
    old_mid, new_mid = rows[head:n_old - tail], entries[head:n_new - tail]
    spares = legend.__dict__.setdefault("_gdviz_spare_rows", [])
    made = max(len(new_mid) - len(old_mid), 0)
    mid = []
    for k, (item, text) in enumerate(new_mid):
        if k < len(old_mid):
            sample, label = old_mid[k]  # written in place
            label.setText(text)
        elif spares:
            sample, label = spares.pop()  # a dropped entry's, hidden: written in place
            label.setText(text, color=legend.opts["labelTextColor"],
                          size=legend.opts["labelTextSize"])
            sample.setVisible(True)  # (it draws its new item below)
            label.setVisible(True)
            made -= 1
        else:
            label = LabelItem(text, color=legend.opts["labelTextColor"], justify="left",
                              size=legend.opts["labelTextSize"])
            sample = legend.sampleType(item)
            sample.sigClicked.connect(legend.sigSampleClicked)
        mid.append((sample, label))
    rows = rows[:head] + mid + rows[n_old - tail:]
    for (sample, _), (item, _) in zip(rows, entries):
        if sample.item is not item:
            sample.item = item  # (a sample draws its item's pen and symbol)
            sample.update()
    if len(old_mid) != len(new_mid):
        for row in old_mid[len(new_mid):]:
            if len(spares) < SPARE_ROWS:
                for part in row:
                    legend.layout.removeItem(part)
                    part.setVisible(False)
                spares.append(row)
            else:
                legend._removeItemFromLayout(*row)  # (out of its scene: Python's)
                delete_later(*row)
        legend.items = rows
        _regrid(legend, legend.columnCount)
    elif new_mid:
        legend.updateSize()
    return made


class LegendSizes:
    """The size a legend's grid takes in a form (columns, label text size) without laying
    it out: each label's text measured once per text size and font, the grid summed as Qt
    lays :func:`_regrid`'s grid out (a sample and a label per entry, left to right, then
    down). Laying the legend out in each form to measure it wrote every label anew at
    each text size: 40 runs, a run added cost the map's legend 60-160 ms."""

    #: texts kept at most (a live lr writes a new one per value)
    MAX_TEXTS = 4096

    def __init__(self):
        self._labels: dict = {}
        self._probe = None
        self.measured = 0  # (labels measured, for tests)

    def label(self, text: str, size: str, font) -> tuple[float, float]:
        """The (width, height) of a legend label of ``text`` at text size ``size``
        (e.g. "16pt") in ``font`` (its text item's).

        Measured on a text document, not on a label item: a label is its text item's
        document laid out, with pyqtgraph's markup around the text (the same size to the
        bit). A probe ``LabelItem`` of its own, with nothing in Qt owning it, was freed by
        Python's cyclic collector with the view that kept it (the GUI fuzz, a lesson's
        fit panel gone)."""
        key = (text, size, font.key())
        got = self._labels.get(key)
        if got is None:
            if self._probe is None:
                self._probe = QTextDocument()
            if len(self._labels) >= self.MAX_TEXTS:
                self._labels.clear()
            self._probe.setDefaultFont(font)
            # (LabelItem.setText's markup, but the colour, which takes no room)
            self._probe.setHtml(f"<span style='font-size: {size}'>{text}</span>")
            rect = self._probe.size()
            got = self._labels[key] = (rect.width(), rect.height())
            self.measured += 1
        return got

    def form(self, legend, columns: int, size: str, texts: list[str] | None = None) -> QSizeF:
        """The preferred size of ``legend`` (a pyqtgraph LegendItem with entries) laid out
        in ``columns`` columns with its labels at text size ``size``: what its layout's
        ``preferredSize()`` is once :func:`set_legend_columns` and the new text size
        have laid it out. ``texts``: the size it would take listing these instead (its
        samples, font and spacing)."""
        rows = legend.items
        font = rows[0][1].item.font()
        texts = [label.text for _, label in rows] if texts is None else texts
        labels = [self.label(text, size, font) for text in texts]
        sample = rows[0][0].effectiveSizeHint(Qt.SizeHint.PreferredSize)
        grid = legend.layout
        left, top, right, bottom = grid.getContentsMargins()
        n = len(labels)
        c = max(1, min(columns, n))
        widths = [max(w for w, _ in labels[i::c]) + sample.width() for i in range(c)]
        heights = [max([sample.height()] + [h for _, h in labels[i:i + c]])
                   for i in range(0, n, c)]
        return QSizeF(left + right + sum(widths) + grid.horizontalSpacing() * (2 * c - 1),
                      top + bottom + sum(heights) + grid.verticalSpacing() * (len(heights) - 1))


def set_legend_columns(legend, n: int) -> None:
    """Lay ``legend``'s entries out in ``n`` columns on a fresh grid (pyqtgraph's own
    ``setColumnCount`` refills the old grid, which never shrinks: entries came out of
    order, one of them off the legend)."""
    if legend.columnCount == n:
        return
    _regrid(legend, n)


def _regrid(legend, n: int) -> None:
    """``legend``'s entries on a fresh grid of ``n`` columns (see :func:`set_legend_columns`)."""
    n = max(1, int(n))  # (an empty key asks for none)
    entries = list(legend.items)
    old = legend.layout
    for i in range(old.count() - 1, -1, -1):
        old.removeAt(i)  # (entries just made are in no grid yet)
    grid = QGraphicsGridLayout()
    grid.setVerticalSpacing(old.verticalSpacing())
    grid.setHorizontalSpacing(old.horizontalSpacing())
    legend.setLayout(grid)  # Qt deletes the old grid
    legend.layout = grid
    legend.columnCount = n
    for i, (sample, label) in enumerate(entries):
        # a label keeps the width of the column it was in: back to its own, or the new
        # grid (and the legend's box) would be as wide as the old column in every column
        label.resize(label.effectiveSizeHint(Qt.SizeHint.PreferredSize))
        row, col = divmod(i, n)
        # the sample centred on its label's line, as pyqtgraph places it (at the row's
        # top, the loss key's short samples sat above their words)
        grid.addItem(sample, row, 2 * col, alignment=Qt.AlignmentFlag.AlignVCenter)
        grid.addItem(label, row, 2 * col + 1)
    legend.rowCount = max(1, math.ceil(len(entries) / n))
    legend.updateSize()


def unstack(rects: list[QRectF], bounds: QRectF | None = None, gap: float = 2.0) -> list[float]:
    """Vertical shifts (scene pixels) that keep the rectangles ``rects`` from overlapping:
    each one that meets an earlier one moves down below it (up, when that leaves
    ``bounds``). Returns one shift per rectangle (0 for those that stay)."""
    placed: list[QRectF] = []
    shifts = []
    for r in rects:
        moved = QRectF(r)
        for _ in range(len(placed) + 1):
            hit = [p for p in placed if p.intersects(moved)]
            if not hit:
                break
            below = max(p.bottom() for p in hit) + gap - moved.top()
            trial = moved.translated(0, below)
            if bounds is not None and trial.bottom() > bounds.bottom():
                above = min(p.top() for p in hit) - gap - moved.bottom()
                trial = moved.translated(0, above)
            moved = trial
        placed.append(moved)
        shifts.append(moved.top() - r.top())
    return shifts


def tick_strings(axis, lo: float, hi: float) -> list[str]:
    """The tick labels ``axis`` (a pyqtgraph AxisItem) shows over ``lo``..``hi``."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or not hi > lo:
        return []
    length = max(float(axis.height() if axis.orientation in ("left", "right") else axis.width()),
                 100.0)
    out: list[str] = []
    for spacing, values in axis.tickValues(lo, hi, length):
        out += axis.tickStrings(values, axis.autoSIPrefixScale * axis.scale, spacing)
    return out


def fit_axis_width(axis, lo: float, hi: float, floor: int = 0) -> int:
    """Make a vertical ``axis`` as wide as its widest tick label over ``lo``..``hi`` plus its
    offset, tick length and title; returns the width."""
    fm = QFontMetrics(axis.style.get("tickFont") or QFont())
    strings = tick_strings(axis, lo, hi) or ["-0.00"]
    text = max(fm.horizontalAdvance(s) for s in strings)
    w = text + axis.style["tickTextOffset"][0] + max(0, axis.style["tickLength"]) + 6
    if axis.label.isVisibleTo(axis):  # shown with the axis (a hidden bar hides it too)
        w += axis.label.boundingRect().height()
    w = max(math.ceil(w), floor)
    if axis.fixedWidth != w:
        axis.setWidth(w)
    axis.resizeEvent(None)  # the title's place: a fixed-width axis keeps an old one
    return w


def fit_axis_height(axis, floor: int = 0) -> int:
    """Make a horizontal ``axis`` as tall as its tick labels and title need."""
    fm = QFontMetrics(axis.style.get("tickFont") or QFont())
    h = fm.height() + axis.style["tickTextOffset"][1] + max(0, axis.style["tickLength"]) + 6
    if axis.label.isVisibleTo(axis):  # shown with the axis (a hidden bar hides it too)
        h += axis.label.boundingRect().height()
    h = max(math.ceil(h), floor)
    if axis.fixedHeight != h:
        axis.setHeight(h)
    axis.resizeEvent(None)
    return h
