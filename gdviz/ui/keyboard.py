"""Keys that always answer: the window's shortcuts reach it whatever has the focus.

Qt lets a focused QLineEdit or spin box claim a key through ``ShortcutOverride``, so
after a click in the lr box Space typed nothing and played nothing. :class:`WindowKeys`
is an application event filter that decides per key, by the kind of box that has the
focus (issue 9, "The keyboard"):

- a *free-text* box (the f(x, y) expression, a file name) keeps every key it types
  while it has the focus: Space, the arrows and letters are text there;
- a *number* box (spin boxes, the slider entries) never takes Space, which no number
  contains: it plays and pauses. The arrows and the window's other plain keys (R, H, ?)
  belong to the box only once the user has typed in it, until Enter or Esc;
- any other widget of the window (the map, a combo box) never keeps a window shortcut.

In every box Enter commits and leaves it, and Esc puts back the value the box had before
the typing (a number box's committed value) and leaves it; leaving gives the focus to
``home`` (the picture). A box whose owner refused the Enter (its ``REJECTED`` property is
true, e.g. a bad expression) keeps the focus, so the typo can be fixed in place.

Dialogs, menus and other windows are not touched: their keys stay theirs.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import (
    QAction,
    QDoubleValidator,
    QIntValidator,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QDockWidget,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

#: dynamic property a box's owner sets while its committed text was refused (keep focus)
REJECTED = "gdvizRejected"

_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_ERASE = (Qt.Key.Key_Backspace, Qt.Key.Key_Delete)
_EDIT_SEQUENCES = (QKeySequence.StandardKey.Paste, QKeySequence.StandardKey.Cut,
                   QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo)


def box_kind(w: QWidget | None) -> str | None:
    """``"number"``, ``"text"`` or None (not a box) for the focus widget ``w``."""
    if w is None:
        return None
    if isinstance(w, QAbstractSpinBox) or isinstance(w.parentWidget(), QAbstractSpinBox):
        return "number"
    if isinstance(w, QLineEdit):
        if w.isReadOnly():
            return None
        return "number" if isinstance(w.validator(), (QDoubleValidator, QIntValidator)) else "text"
    if isinstance(w, (QTextEdit, QPlainTextEdit)) and not w.isReadOnly():
        return "text"
    return None


def _spin(w: QWidget) -> QAbstractSpinBox | None:
    if isinstance(w, QAbstractSpinBox):
        return w
    parent = w.parentWidget()
    return parent if isinstance(parent, QAbstractSpinBox) else None


def _sequences(obj) -> list[QKeySequence]:
    return [s for s in obj.shortcuts() if not s.isEmpty()] if isinstance(obj, QAction) \
        else ([obj.key()] if not obj.key().isEmpty() else [])


class WindowKeys(QObject):
    """The event filter that keeps ``window``'s shortcuts answering.

    ``home`` is called to leave a box (it gives the focus to the picture). It filters
    only the widget that has the focus, following ``QApplication.focusChanged``: the
    keys it decides on all go to that widget first. (As an application-wide filter it
    was called for every event of every object, tens of thousands per lesson load, each
    a trip into Python.) It goes with its window (its parent).
    """

    def __init__(self, window: QWidget, home: Callable[[], None]):
        super().__init__(window)
        self.window = window
        self.home = home
        self._editing: QWidget | None = None  # the number box the user has typed in
        self._before = None  # its text (value, for a spin box) before the typing
        self._watched: QWidget | None = None
        # PySide drops the connection when this object (a QObject slot's owner) is deleted
        QApplication.instance().focusChanged.connect(self._follow_focus)
        self._follow_focus(None, QApplication.focusWidget())

    def _follow_focus(self, old, new) -> None:
        """Move the filter to the widget that has the focus now."""
        import shiboken6

        if not shiboken6.isValid(self):
            return
        w = self._watched
        if w is not None and shiboken6.isValid(w):
            w.removeEventFilter(self)
        self._watched = None
        if new is not None and shiboken6.isValid(new):
            new.installEventFilter(self)
            self._watched = new

    # ------------------------------------------------------------------ what is ours
    def _ours(self, w: QWidget | None) -> bool:
        """True when ``w`` is in the window (or one of its floating docks), no modal
        dialog is up and no menu is open."""
        if w is None or QApplication.activeModalWidget() is not None \
                or QApplication.activePopupWidget() is not None:
            return False
        top = w.window()
        if isinstance(top, QDockWidget):
            top = top.parentWidget().window() if top.parentWidget() is not None else top
        return top is self.window

    def _window_key(self, ev) -> bool:
        """True when the key event is one of the window's shortcuts (its actions', its
        QShortcuts'); "?" is matched with and without the Shift that types it."""
        combos = [QKeySequence(ev.keyCombination())]
        if ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            combos.append(QKeySequence(ev.key() | (ev.modifiers() & ~Qt.KeyboardModifier.ShiftModifier
                                                   & ~Qt.KeyboardModifier.KeypadModifier)))
        for obj in list(self.window.actions()) + self.window.findChildren(QShortcut):
            if not obj.isEnabled():
                continue
            for seq in _sequences(obj):
                if any(seq.matches(c) == QKeySequence.SequenceMatch.ExactMatch for c in combos):
                    return True
        return False

    @staticmethod
    def _types(ev) -> bool:
        """Does this key change a box's text (a character, Backspace, paste, …)?"""
        text = ev.text()
        if text and text.isprintable() and text != " " \
                and not ev.modifiers() & (Qt.KeyboardModifier.ControlModifier
                                          | Qt.KeyboardModifier.AltModifier):
            return True
        return ev.key() in _ERASE or any(ev.matches(k) for k in _EDIT_SEQUENCES)

    def is_editing(self, w: QWidget | None) -> bool:
        """True while the user has typed in the number box ``w`` (until Enter/Esc)."""
        return w is not None and w is self._editing

    # ------------------------------------------------------------------ the filter
    def eventFilter(self, obj, ev) -> bool:
        t = ev.type()
        if t not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress, QEvent.Type.FocusOut):
            return False
        focus = QApplication.focusWidget()
        if t == QEvent.Type.FocusOut:
            if obj is self._editing:
                self._editing = None
            return False
        if obj is not focus or not self._ours(focus):
            return False  # the focus widget hears it first; its parents are not asked again
        kind = box_kind(focus)
        if t == QEvent.Type.ShortcutOverride:
            return self._on_override(focus, kind, ev)
        return self._on_key(focus, kind, ev)

    def _on_override(self, focus: QWidget, kind: str | None, ev) -> bool:
        """Decide who gets a key that is a window shortcut: returning True with the event
        ignored makes the shortcut fire; False lets the widget claim it."""
        if kind == "text" or not self._window_key(ev):
            return False
        if kind == "number" and ev.key() != Qt.Key.Key_Space and self.is_editing(focus):
            return False  # ← → edit the typed number until Enter or Esc
        ev.ignore()
        return True

    def _on_key(self, focus: QWidget, kind: str | None, ev) -> bool:
        if kind is None:
            return False
        key = ev.key()
        if key in _ENTER and not ev.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            focus.event(ev)  # the box commits first (returnPressed, editingFinished)
            if not focus.property(REJECTED):
                self.leave()
            ev.accept()
            return True
        if key == Qt.Key.Key_Escape and not ev.modifiers():
            self.revert(focus)
            self.leave()
            ev.accept()
            return True
        if self._editing is not focus and self._types(ev):
            self._editing = focus
            spin = _spin(focus)
            self._before = spin.value() if spin is not None and hasattr(spin, "value") \
                else focus.text()
        return False

    # ------------------------------------------------------------------ leaving a box
    def revert(self, box: QWidget) -> None:
        """Put back what ``box`` showed before the user typed (nothing typed: no change)."""
        if self._editing is not box:
            return
        spin = _spin(box)
        if spin is not None and hasattr(spin, "setValue"):
            spin.setValue(self._before)
        elif isinstance(box, QLineEdit):
            box.setText(self._before)
        self._editing = None

    def leave(self) -> None:
        """The focus goes home (the picture); typing state ends."""
        self._editing = None
        self.home()


def leave_boxes(keys: WindowKeys) -> None:
    """After a scene opens: a box never keeps (or gets) the focus."""
    if box_kind(QApplication.focusWidget()) is not None or QApplication.focusWidget() is None:
        keys.leave()
