"""The shortcut sheet (F1, ?): every key of the window, read from its live actions.

Nothing here lists a key by hand: :func:`window_keys` walks the window's menus, its own
actions (the playback keys have no menu) and its QShortcuts, so an action another part of
the app registers with a shortcut appears on the sheet by itself, translated as the
action's text is.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from gdviz.core.i18n import tr
from gdviz.ui import theme

#: keys shown as a symbol (or a translated word) rather than Qt's English name
_KEY_NAMES = {Qt.Key.Key_Left: "←", Qt.Key.Key_Right: "→", Qt.Key.Key_Up: "↑",
              Qt.Key.Key_Down: "↓"}
_MODIFIERS = ((Qt.KeyboardModifier.ControlModifier, "Ctrl"), (Qt.KeyboardModifier.AltModifier, "Alt"),
              (Qt.KeyboardModifier.ShiftModifier, "Shift"), (Qt.KeyboardModifier.MetaModifier, "Meta"))
#: the sheet splits its groups into two columns past this many rows
ONE_COLUMN_ROWS = 9


def key_text(seq: QKeySequence, lang: str | None = None) -> str:
    """One shortcut as printed on the sheet: ``Ctrl+S``, ``→``, ``Space`` (translated)."""
    parts = []
    for combo in (seq[i] for i in range(seq.count())):
        key, mods = combo.key(), combo.keyboardModifiers()
        if key == Qt.Key.Key_Space:
            name = tr("key_space", lang)
        else:
            name = _KEY_NAMES.get(key) or QKeySequence(key).toString(
                QKeySequence.SequenceFormat.NativeText)
        prefix = "".join(f"{n}+" for m, n in _MODIFIERS if mods & m)
        parts.append(prefix + name)
    return ", ".join(parts)


def _label(obj) -> str:
    text = obj.text() if isinstance(obj, QAction) else obj.whatsThis()
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


def _shortcuts(obj) -> list[QKeySequence]:
    seqs = obj.shortcuts() if isinstance(obj, QAction) else [obj.key()]
    return [s for s in seqs if not s.isEmpty()]


def window_keys(window: QMainWindow, lang: str | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The window's keys as ``[(group, [(keys, what), ...]), ...]``: first the keys with no
    menu (playback), then one group per menu in menu-bar order (submenus join their menu).

    Each action with a shortcut appears once, with all its keys (``Ctrl+=, Ctrl++``); a
    QShortcut appears when it has a ``whatsThis`` text that names it."""
    seen: set[int] = set()
    groups: list[tuple[str, list[tuple[str, str]]]] = []

    def rows(actions) -> list[tuple[str, str]]:
        out = []
        for act in actions:
            if act.menu() is not None:
                out += rows(act.menu().actions())
                continue
            seqs = _shortcuts(act)
            if not seqs or id(act) in seen or not act.isVisible():
                continue
            seen.add(id(act))
            out.append((", ".join(key_text(s, lang) for s in seqs), _label(act)))
        return out

    menus = [(a.text(), a.menu()) for a in window.menuBar().actions() if a.menu() is not None]
    for title, menu in menus:  # claim the menus' actions first: they are grouped there
        groups.append((title.replace("&", ""), rows(menu.actions())))
    loose = rows(window.actions())
    loose += [(key_text(sc.key(), lang), _label(sc)) for sc in window.findChildren(QShortcut)
              if _shortcuts(sc) and sc.whatsThis()]
    groups.insert(0, (tr("playback", lang), loose))
    return [(g, r) for g, r in groups if r]


class ShortcutSheet(QDialog):
    """A modal sheet of :func:`window_keys`, big enough to read from the back row (it
    follows the text size), closed by Esc or by any of ``window``'s
    ``shortcut_sheet_action`` keys (F1, ?)."""

    def __init__(self, window: QMainWindow, lang: str | None = None):
        super().__init__(window)
        self.setObjectName("shortcutSheet")
        self.setModal(True)
        self.setWindowTitle(tr("key_sheet", lang))
        self.groups = window_keys(window, lang)

        body = QWidget()
        cols = QHBoxLayout(body)
        cols.setSpacing(int(theme.pt(28)))
        n_rows = sum(len(r) + 1 for _, r in self.groups)
        split = n_rows if n_rows <= ONE_COLUMN_ROWS else (n_rows + 1) // 2
        grid, used = None, split
        big = theme.font(theme.LABEL_PT * 1.2)
        head = theme.font(theme.LABEL_PT * 1.2, bold=True)
        keycap = theme.font(theme.LABEL_PT * 1.2, bold=True)
        for title, rows in self.groups:
            if used + len(rows) + 1 > split and (grid is None or used > 0):
                grid = QGridLayout()
                grid.setHorizontalSpacing(int(theme.pt(16)))
                grid.setVerticalSpacing(int(theme.pt(4)))
                col = QVBoxLayout()
                col.addLayout(grid)
                col.addStretch(1)
                cols.addLayout(col)
                used = 0
            r = grid.rowCount()
            h = QLabel(title)
            h.setFont(head)
            h.setObjectName("sheetGroup")
            grid.addWidget(h, r, 0, 1, 2)
            for k, (keys, what) in enumerate(rows, start=1):
                kl = QLabel(keys)
                kl.setObjectName("sheetKey")
                kl.setFont(keycap)
                kl.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                wl = QLabel(what)
                wl.setObjectName("sheetWhat")
                wl.setFont(big)
                grid.addWidget(kl, r + k, 0)
                grid.addWidget(wl, r + k, 1)
            used += len(rows) + 1

        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(tr("close", lang))
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(scroll, 1)
        lay.addWidget(buttons)

        toggle = getattr(window, "shortcut_sheet_action", None)
        for seq in (toggle.shortcuts() if toggle is not None else []):
            sc = QShortcut(seq, self)
            sc.activated.connect(self.reject)
        self._fit(body, scroll, window)

    def _fit(self, body: QWidget, scroll: QScrollArea, window: QWidget) -> None:
        """As big as the sheet needs, never bigger than the screen (it scrolls then)."""
        want = body.sizeHint()
        bar = scroll.verticalScrollBar().sizeHint().width()
        screen = (window.screen() or QApplication.primaryScreen()).availableGeometry()
        w = min(want.width() + bar + 40, int(screen.width() * 0.95))
        h = min(want.height() + 100, int(screen.height() * 0.9))
        self.resize(w, h)

    def texts(self) -> list[tuple[str, str]]:
        """Every (keys, what) row on the sheet (for tests)."""
        return [row for _, rows in self.groups for row in rows]
