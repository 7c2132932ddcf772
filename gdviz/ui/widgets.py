"""Widgets that many panels share: the slider with an exact entry, section headings, rules,
and :func:`reflow`, which fits a column of them into a narrow width (big text).

Panels import these from here and never from the container that holds them.
"""

from __future__ import annotations

import math
import re

from PySide6.QtCore import QEvent, QLocale, QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QDoubleValidator, QPainter
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QBoxLayout,
    QComboBox,
    QFrame,
    QGridLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QSizePolicy,
    QWidget,
)
from superqt import QDoubleSlider

from gdviz.core.i18n import tr


def fmt_value(v: float, integer: bool = False) -> str:
    """A short exact-enough text for a hyperparameter: 0.001, 1e-08, 0.9, 128."""
    if integer:
        return str(int(round(v)))
    if v == 0:
        return "0"
    return f"{v:.4g}"


#: what changes a slider's size hints: its font, its style, its screen's pixels
_HINT_EVENTS = frozenset((QEvent.Type.FontChange, QEvent.Type.StyleChange, QEvent.Type.Polish,
                          QEvent.Type.ScreenChangeInternal, QEvent.Type.DevicePixelRatioChange))


class _Slider(QDoubleSlider):
    """superqt's slider, its size hints kept until its font, style or screen changes.

    Qt asks every slider for its hints at each layout pass, and each ask ran superqt's
    ``initStyleOption`` (Python) twice: a text-size press at 300 % with 20 runs asked the
    ~100 sliders of the controls at each reflow pass, ~5 ms. The hints depend on the
    style, the font, the screen and the orientation (which never changes here)."""

    _hint: QSize | None = None
    _min_hint: QSize | None = None

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        if self._hint is None:
            self._hint = QSize(super().sizeHint())
        return self._hint

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt name
        # (Qt's minimumSizeHint asks sizeHint: each kept on its own; computed as a pair,
        # the pair's second half asked for the first, unset yet, and recursed)
        if self._min_hint is None:
            self._min_hint = QSize(super().minimumSizeHint())
        return self._min_hint

    def event(self, event) -> bool:
        if event.type() in _HINT_EVENTS:
            self._hint = self._min_hint = None
        return super().event(event)


class HyperSlider(QWidget):
    """A labelled slider with an exact numeric entry beside it.

    The slider is superqt's ``QDoubleSlider``; on a log scale it moves over
    ``log10(value)`` so that 1e-5 … 10 gets equal room per decade. The entry takes
    any number in range, including scientific notation (``3e-4``); Enter or leaving
    the box applies it. ``valueChanged(float)`` fires only for user edits, never for
    :meth:`setValue`. The owner sets the label in the UI language with :meth:`set_text`
    (a symbol such as ``lr`` keeps its text and gets a translated help line in its
    tooltip).
    """

    valueChanged = Signal(float)
    labelWidthChanged = Signal()

    def __init__(self, name: str, text: str, lo: float, hi: float, *, log: bool = False,
                 integer: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.name = name
        self.lo, self.hi, self.log, self.integer = float(lo), float(hi), log, integer
        self._value = self.lo
        self._help = ""
        self.label = QLabel(text)
        self.label.setMinimumWidth(1)
        self.slider = _Slider(Qt.Orientation.Horizontal)
        self.slider.setObjectName(f"slider_{name}")
        # a slider keeps no keyboard focus, so that →, ← and Space always drive playback
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        if log:
            self.slider.setRange(math.log10(self.lo), math.log10(self.hi))
        else:
            self.slider.setRange(self.lo, self.hi)
        self.entry = QLineEdit()
        self.entry.setObjectName(f"entry_{name}")
        self.entry.setAlignment(Qt.AlignmentFlag.AlignRight)
        validator = QDoubleValidator(self.lo, self.hi, 12, self.entry)
        validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
        validator.setLocale(QLocale.c())  # "0.001", not "0,001", whatever the locale
        self.entry.setValidator(validator)
        self._size_parts()
        self._update_tips()

        # one row (label, slider, entry), or stacked where the column is narrow (big text,
        # :func:`reflow`): the label over the slider and its entry
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setVerticalSpacing(2)
        self.stacked = False
        self._place(False)
        self.label.setFixedWidth(self.label_width_hint())

        self.slider.valueChanged.connect(self._on_slider_moved)
        self.entry.editingFinished.connect(self._on_entry_edited)
        self.setValue(self.lo)

    def _size_parts(self) -> None:
        """The entry as wide as its longest number; the slider at least three lines of
        text long (a narrow column stacks the label over it rather than leave a 15 px
        slider: "steps/s" at 200 %)."""
        fm = self.fontMetrics()
        self.entry.setFixedWidth(fm.horizontalAdvance("0.00001e-0"))
        self.slider.setMinimumWidth(3 * fm.height())

    def _place(self, stacked: bool) -> None:
        g = self._grid
        for w in (self.label, self.slider, self.entry):
            g.removeWidget(w)
        if stacked:
            g.addWidget(self.label, 0, 0, 1, 2)
            g.addWidget(self.slider, 1, 0)
            g.addWidget(self.entry, 1, 1)
            g.setColumnStretch(0, 1)
            g.setColumnStretch(1, 0)
        else:
            g.addWidget(self.label, 0, 0)
            g.addWidget(self.slider, 0, 1)
            g.addWidget(self.entry, 0, 2)
            g.setColumnStretch(0, 0)
            g.setColumnStretch(1, 1)
        self.stacked = stacked

    def set_stacked(self, stacked: bool) -> None:
        """The label over the slider and the entry (True), or all three in one row."""
        if bool(stacked) != self.stacked:
            self._place(bool(stacked))

    def value(self) -> float:
        return self._value

    def set_range(self, lo: float, hi: float) -> None:
        """New bounds (e.g. the batch size's upper bound is the training set's size)."""
        lo, hi = float(lo), float(hi)
        if (lo, hi) == (self.lo, self.hi):
            return
        self.lo, self.hi = lo, hi
        with QSignalBlocker(self.slider):
            if self.log:
                self.slider.setRange(math.log10(lo), math.log10(hi))
            else:
                self.slider.setRange(lo, hi)
        validator = self.entry.validator()
        validator.setRange(lo, hi, validator.decimals())
        self._update_tips()
        self.setValue(min(max(self._value, lo), hi))

    def set_text(self, text: str, help_text: str | None = None) -> None:
        """The label ``text`` and, if given, a ``help_text`` line above the tooltips (the
        owner calls this with translated texts when the UI language changes)."""
        if help_text is not None:
            self._help = str(help_text)
        if text != self.label.text():
            self.label.setText(text)
            self.label.setFixedWidth(self.label_width_hint())
            self.labelWidthChanged.emit()  # the card re-aligns its label column
        self._update_tips()

    def _update_tips(self) -> None:
        tip = tr("tip_exact", name=self.label.text(), lo=fmt_value(self.lo), hi=fmt_value(self.hi))
        if self._help:
            tip = f"{self._help}\n{tip}"
        self.entry.setToolTip(tip)
        self.slider.setToolTip(tip)

    def label_width_hint(self) -> int:
        """Width that shows the whole label (cards align their labels on the widest)."""
        # our own font, not the label's: on a font change the parent hears first
        return self.fontMetrics().horizontalAdvance(self.label.text()) + 8

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # Ctrl+= / Ctrl+-: keep text whole
            self._size_parts()
            self.label.setFixedWidth(self.label_width_hint())
            self.labelWidthChanged.emit()
        elif event.type() == QEvent.Type.LanguageChange:  # "exact value" in the new language
            self._update_tips()

    def setValue(self, v: float) -> None:
        """Show ``v`` without emitting ``valueChanged`` (model -> widget)."""
        self._value = float(v)
        with QSignalBlocker(self.slider):
            self.slider.setValue(self._to_slider(self._value))
        if not self.entry.hasFocus():  # never rewrite what the user is typing
            self.entry.setText(fmt_value(self._value, self.integer))

    def _to_slider(self, v: float) -> float:
        v = min(max(v, self.lo), self.hi)
        return math.log10(v) if self.log else v

    def _from_slider(self, s: float) -> float:
        v = 10.0 ** s if self.log else s
        if self.integer:
            return float(round(v))
        # three significant digits: a dragged lr reads 0.0316, not 0.031622776601683
        return float(f"{v:.3g}") if v != 0 else 0.0

    def _emit(self, v: float) -> None:
        v = min(max(v, self.lo), self.hi)
        if v == self._value:
            return
        self._value = v
        self.entry.setText(fmt_value(v, self.integer))
        self.valueChanged.emit(v)

    def _on_slider_moved(self, s: float) -> None:
        self._emit(self._from_slider(float(s)))

    def _on_entry_edited(self) -> None:
        try:
            v = float(self.entry.text())
        except ValueError:
            self.entry.setText(fmt_value(self._value, self.integer))
            return
        if self.integer:
            v = float(round(v))
        with QSignalBlocker(self.slider):
            self.slider.setValue(self._to_slider(v))
        self._emit(v)


#: the most characters a parameter combo is sized for (see :func:`fill_param_combo`)
PARAM_COMBO_CHARS = 16


def fill_param_combo(combo: QComboBox, names, tips=None) -> None:
    """``combo`` lists the parameters ``names`` (each item's data: its index; ``tips``:
    each one's tooltip), sized for its longest name's length in characters (at most
    ``PARAM_COMBO_CHARS``), not measured item by item: a 4 x 32 classifier lists 3,297
    parameters, and each of the map's two combos measured every name at each text size
    and each fit of the controls (~35 ms of a Ctrl+= press at 227 %)."""
    names = list(names)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    # (Qt counts in "X"s, wider than the names' digits, brackets and small letters, and adds
    # an icon's room, about two more: as wide as the names, not wider)
    longest = max((len(n) for n in names), default=1)
    combo.setMinimumContentsLength(max(min(longest, PARAM_COMBO_CHARS) - 2, 1))
    with QSignalBlocker(combo):
        combo.clear()
        combo.addItems(names)  # (one call: item by item, ~2.5 us more each)
        for k in range(len(names)):
            combo.setItemData(k, k)
        for k, tip in enumerate(tips or ()):
            combo.setItemData(k, tip, Qt.ItemDataRole.ToolTipRole)


def section(title: str) -> QLabel:
    """A bold heading for a group of controls."""
    lab = QLabel(title)
    lab.setObjectName("sectionTitle")
    f = lab.font()
    f.setBold(True)
    lab.setFont(f)
    return lab


def hline() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line


class ElidedLabel(QLabel):
    """One line that ends in "…" when it does not fit, the whole text in its tooltip;
    ``text()`` stays the whole text. A wrapped label grew to three lines at 200 % text
    on a 720p screen and took the map's height."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt name
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(40, super().minimumSizeHint().height())

    def shown_text(self) -> str:
        """The text as painted, elided to the label's width."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                             self.contentsRect().width())

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.drawText(self.contentsRect(), int(self.alignment() | Qt.AlignmentFlag.AlignVCenter),
                   self.shown_text())
        p.end()



class SteadyLabel(QLabel):
    """A label for a number that changes every frame (the step counter, the status line's
    counters): its size only grows, so a new text that fits causes no relayout.

    A QLabel asks its parent to lay out again on every setText (updateGeometry), and the
    request climbs to the main window: at 60 frames a second, the whole window was laid
    out and its status bar and playback row repainted every frame. A widget whose minimum
    and maximum sizes are equal does not ask (QWidget::updateGeometry), so this label keeps
    a fixed size: the width of the widest text it has shown (plus room for two more digits),
    and it is fitted again, to its text now, when its font or style changes (text size,
    theme)."""

    def setText(self, text: str) -> None:  # noqa: N802 - Qt name
        super().setText(text)
        self._fit()

    def _fit(self, reset: bool = False) -> None:
        if reset:  # (a QLabel's hint is at least its minimum size: it never shrank)
            self.setMinimumSize(0, 0)
        hint = QLabel.sizeHint(self)
        w = hint.width() + self.fontMetrics().horizontalAdvance("00")
        if reset or hint.width() > self.maximumWidth() or hint.height() != self.maximumHeight():
            self.setFixedSize(w, hint.height())

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit(reset=True)


class SteadyWrapBox(QWidget):
    """A box for a word-wrapping label whose text changes every frame (the plane's
    accuracies): a new text of the same height causes no relayout.

    A QLabel's setText asks its parent's layout to lay out again, and a layout that has
    been activated asks its own parent (QLayout::activate ends in updateGeometry), up to
    the main window: while a classification played, the whole window was laid out on
    every frame of the plane's turn (42 window layouts in 100 frames of L21). The label
    here has a parent without a layout, which takes the request and does nothing; the
    box's own height is fixed to the label's height for its width, and is set again
    (one relayout) only when that changes: a line more or less, a new width or font."""

    def __init__(self, label: QLabel, parent=None):
        super().__init__(parent)
        self.label = label
        label.setParent(self)
        label.installEventFilter(self)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._h = -1
        self.fit()

    def set_text(self, text: str) -> None:
        if text != self.label.text():
            self.label.setText(text)
            self.fit()

    def text_height(self) -> int:
        """The label's height for the box's width (0 without text)."""
        if not self.label.text():
            return 0
        h = self.label.heightForWidth(max(self.width(), 1))
        return h if h >= 0 else self.label.sizeHint().height()

    def fit(self) -> None:
        h = self.text_height()
        if h != self._h:
            self._h = h
            self.setFixedHeight(h)
        self.label.setGeometry(0, 0, self.width(), h)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return QSize(1, max(self._h, 0))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return QSize(1, max(self._h, 0))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        self.fit()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt name
        # (getattr: a box being torn down still filters its label's last events, after its
        # Python attributes are gone; an exception here, in a Qt virtual, can crash PySide)
        if (obj is getattr(self, "label", None)
                and event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange)):
            # after the label has taken the change (its size hints are still the old ones)
            QTimer.singleShot(0, self, self.fit)
        return False


# ------------------------------------------------------------------ narrow columns
#: a run of CJK text breaks between any two characters, other text at its spaces; an
#: opening bracket stays with what follows it, closing punctuation with what precedes it
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_OPEN, _CLOSE = "（「『《〈【", "）」』》〉】，。、：；！？"
_WORDS = re.compile(rf"[{_OPEN}]*(?:[{_CJK}]|[^\s{_CJK}]+)[{_CLOSE}]*\s*|\s+")


def break_lines(text: str, fm, width: int) -> str:
    """``text`` with line breaks where its lines would be wider than ``width`` px in font
    metrics ``fm`` (at spaces; in Chinese between characters). A word wider than
    ``width`` keeps its own line."""
    lines, line = [], ""
    for word in _WORDS.findall(text):
        if line and fm.horizontalAdvance((line + word).rstrip()) > width:
            lines.append(line.rstrip())
            line = word.lstrip()
        else:
            line += word
    lines.append(line.rstrip())
    return "\n".join(s for s in lines if s)


def _leaf_extra(w: QWidget) -> int:
    """What a text widget needs beyond its text's width (indicator, frame, padding)."""
    return w.minimumSizeHint().width() - w.fontMetrics().horizontalAdvance(w.text())


def _narrow_leaf(w: QWidget, room: int, undo: list) -> bool:
    """A widget wider than ``room``: a label wraps, a button or check box breaks its text
    into lines, a combo box shows fewer characters (its list shows them all)."""
    if isinstance(w, QLabel):
        if w.wordWrap() or w.minimumWidth() == w.maximumWidth():  # fixed: its owner's
            return False
        w.setWordWrap(True)
        undo.append(lambda w=w: w.setWordWrap(False))
        return True
    if isinstance(w, QAbstractButton) and w.text():
        text = w.text()
        wrapped = break_lines(text, w.fontMetrics(), room - _leaf_extra(w))
        if wrapped == text:
            return False
        w.setText(wrapped)
        # (a text set since, in another language, is not put back)
        undo.append(lambda w=w, t=text, b=wrapped: w.text() == b and w.setText(t))
        return True
    if isinstance(w, QComboBox) and not w.minimumWidth():
        # (its minimum size hint is its longest item's, cached: a minimum width overrides it)
        w.setMinimumWidth(max(room, 1))
        undo.append(lambda w=w: w.setMinimumWidth(0))
        return True
    return False


def _items(lay, memo: dict) -> tuple[list, list]:
    """The layouts and the shown widgets directly in ``lay``, in no set order.

    Found as QObject children, never through ``itemAt``: walked with ``itemAt``, PySide's
    wrappers of the layout items it handed out (the rows' spacers) outlived the items Qt
    deleted with a lesson's old panels; a new item at the same address came back as the
    old wrapper (the export dialog's form label as a QSpacerItem), and the GUI fuzz run
    after these tests crashed.

    Kept in ``memo`` for one :func:`reflow` (its passes change rows' directions, never
    which widget is in which layout, nor which shows): found anew at each pass, each row's
    widgets were its widget's children tried one by one, ~5 ms of a text-size press at
    300 % with 20 runs."""
    got = memo.get(lay)
    if got is not None:
        return got
    direct = Qt.FindChildOption.FindDirectChildrenOnly  # (a name "" finds only unnamed)
    layouts = lay.findChildren(QLayout, options=direct)
    owner = lay.parentWidget()
    widgets = []
    if owner is not None:
        kids = memo.get(owner)
        if kids is None:
            kids = memo[owner] = [w for w in owner.findChildren(QWidget, options=direct)
                                  if not w.isHidden()]
        widgets = [w for w in kids if lay.indexOf(w) >= 0]
    memo[lay] = (layouts, widgets)
    return layouts, widgets


def _narrow_layout(lay, room: int, undo: list, memo: dict) -> bool:
    """One pass over ``lay`` (``room`` px wide): the outermost rows wider than their room
    become columns (their items, one under another); within rows that fit nothing
    changes. Returns whether anything changed (the caller measures again)."""
    if lay.minimumSize().width() <= room:
        return False
    layouts, widgets = _items(lay, memo)
    if isinstance(lay, QBoxLayout) and lay.direction() in (QBoxLayout.Direction.LeftToRight,
                                                          QBoxLayout.Direction.RightToLeft):
        # its long labels wrap first (a run card's title beside its ✕ stays one row); a
        # short one is not broken mid-phrase ("max steps", "播放控制"): the row stacks
        wrapped = False
        for w in widgets:
            if isinstance(w, QLabel) and w.text() and w.sizeHint().width() > room // 2:
                wrapped |= _narrow_leaf(w, room, undo)
        if wrapped:
            return True
        d = lay.direction()
        lay.setDirection(QBoxLayout.Direction.TopToBottom)
        undo.append(lambda lay=lay, d=d: lay.setDirection(d))
        for w in widgets:  # a fixed-width widget (a counter) at the left edge
            if w.minimumWidth() == w.maximumWidth():
                lay.setAlignment(w, Qt.AlignmentFlag.AlignLeft)
                undo.append(lambda lay=lay, w=w: lay.setAlignment(w, Qt.AlignmentFlag(0)))
        return True
    m = lay.contentsMargins()
    inner = room - m.left() - m.right()
    changed = False
    for sub in layouts:
        changed |= _narrow_layout(sub, inner, undo, memo)
    for w in widgets:
        changed |= _narrow_widget(w, inner, undo, memo)
    return changed


def _min_width(w: QWidget) -> int:
    """The width a layout gives ``w`` at the least, as Qt reckons it (``qSmartMinSize``):
    its minimum width if set, else its minimum size hint, or its size hint where its
    policy does not let it shrink."""
    if w.minimumWidth():
        return w.minimumWidth()
    policy = w.sizePolicy().horizontalPolicy()
    if policy == QSizePolicy.Policy.Ignored:
        return 0
    least = w.minimumSizeHint().width()
    if not policy.value & QSizePolicy.PolicyFlag.ShrinkFlag.value:
        least = max(least, w.sizeHint().width())
    return least


def _set_horizontal_policy(w: QWidget, horizontal) -> None:
    policy = w.sizePolicy()
    policy.setHorizontalPolicy(horizontal)
    w.setSizePolicy(policy)


def _narrow_widget(w: QWidget, room: int, undo: list, memo: dict) -> bool:
    if _min_width(w) <= room:
        return False
    policy = w.sizePolicy()
    if not policy.horizontalPolicy().value & QSizePolicy.PolicyFlag.ShrinkFlag.value:
        # it would not shrink below its size hint (its rows side by side at their
        # preferred widths): it may, to its rows' minimum
        old = policy.horizontalPolicy()
        policy.setHorizontalPolicy(QSizePolicy.Policy.Preferred)
        w.setSizePolicy(policy)
        undo.append(lambda w=w, old=old: _set_horizontal_policy(w, old))
        return True
    if isinstance(w, HyperSlider):
        if w.stacked:
            return False
        w.set_stacked(True)
        undo.append(lambda w=w: w.set_stacked(False))
        return True
    lay = w.layout()
    if lay is None:
        return _narrow_leaf(w, room, undo)
    # the widget's own frame and padding around its layout
    pad = max(_min_width(w) - lay.minimumSize().width(), 0)
    return _narrow_layout(lay, room - pad, undo, memo)


def reflow(root: QWidget, width: int, undo: list, passes: int = 12) -> None:
    """Fit ``root``'s rows into ``width`` px without scrolling sideways (big text in a
    narrow column): rows too wide become columns, outermost first, sliders stack their
    label and entry over the slider, long labels wrap, long button and check-box texts
    break into lines. Whatever changes is appended to ``undo`` (callables that put it
    back: :func:`unflow`). Nothing changes where everything fits."""
    memo: dict = {}  # (see _items)
    for _ in range(passes):
        if root.minimumSizeHint().width() <= width:
            return
        if not _narrow_widget(root, width, undo, memo):
            return
        measure_anew(root)


def measure_anew(root: QWidget) -> None:
    """Each layout under ``root`` measures its widgets anew: a layout keeps a panel's size
    until that panel's own layout has run, an event later (the data panel kept a page's
    old width, the controls scrolled 18 px sideways)."""
    # every layout under it (nested rows are their layouts' QObject children: a nested row
    # is measured anew only when its widget's layout next runs, an event later), and each
    # widget that has one tells its parent's layout (one walk over the layouts: walked
    # widget by widget, ~1,000 widgets at 300 % text with 20 runs, it took twice as long)
    for lay in root.findChildren(QLayout):
        lay.invalidate()
        owner = lay.parent()
        if isinstance(owner, QWidget):  # (its widget's top layout)
            owner.updateGeometry()


def forget_combo_widths(root: QWidget) -> None:
    """A new text size: the combo boxes under ``root`` measure their minimum width anew.

    Qt keeps a combo box's minimum size hint through a font change (only a style change
    clears it): back at 100 % after 200 %, the data panel's combo boxes kept their 200 %
    width (538 px at 14 pt) and the controls scrolled sideways, or stacked their rows."""
    for combo in root.findChildren(QComboBox):
        QApplication.sendEvent(combo, QEvent(QEvent.Type.StyleChange))


def unflow(undo: list, root: QWidget | None = None) -> None:
    """Put back what :func:`reflow` changed (last change first); the layouts under
    ``root`` then measure anew."""
    changed = bool(undo)
    while undo:
        try:
            undo.pop()()
        except RuntimeError:  # (a widget gone since: a lesson's old run card)
            pass
    if changed and root is not None:
        measure_anew(root)
