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
from gdviz.ui.views.items import delete_later

#: keys shown as a symbol (or a translated word) rather than Qt's English name
_KEY_NAMES = {Qt.Key.Key_Left: "←", Qt.Key.Key_Right: "→", Qt.Key.Key_Up: "↑",
              Qt.Key.Key_Down: "↓"}
_MODIFIERS = ((Qt.KeyboardModifier.ControlModifier, "Ctrl"), (Qt.KeyboardModifier.AltModifier, "Alt"),
              (Qt.KeyboardModifier.ShiftModifier, "Shift"), (Qt.KeyboardModifier.MetaModifier, "Meta"))
#: the sheet splits its groups into two columns past this many rows
ONE_COLUMN_ROWS = 9
#: the sheet's smallest text (points at 100 %) when its keys do not fit the screen
SMALLEST_PT = 0.8 * theme.BASE_PT


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

        screen = (window.screen() or QApplication.primaryScreen()).availableGeometry().size()
        room = screen.expandedTo(window.size())  # (a window bigger than an offscreen screen)
        # as big as the text size asks (1.2 × the labels'); when that cannot fit, three
        # columns, then smaller, down to SMALLEST (200 % text on a 720-pixel screen)
        size = theme.LABEL_PT * 1.2
        while True:
            for n_cols in (2, 3):
                body = self._body(size, n_cols)
                want = body.sizeHint()
                if want.width() <= room.width() * 0.9 \
                        and want.height() + 100 <= room.height() * 0.9:
                    break
                delete_later(body)
            else:
                if size > SMALLEST_PT:
                    size = max(size * 0.9, SMALLEST_PT)
                    continue
                body = self._body(size, 2)  # it scrolls
                want = body.sizeHint()
            break

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
        # as big as the sheet needs, never bigger than the screen (it scrolls then)
        bar = scroll.verticalScrollBar().sizeHint().width()
        self.resize(min(want.width() + bar + 40, int(room.width() * 0.95)),
                    min(want.height() + 100, int(room.height() * 0.9)))

    def _body(self, size_pt: float, n_cols: int) -> QWidget:
        """The groups in one column, or ``n_cols`` of about equal height, at ``size_pt``
        (points at text size 100 %, scaled by the text size)."""
        body = QWidget()
        cols = QHBoxLayout(body)
        cols.setSpacing(int(theme.pt(28)))
        n_rows = sum(len(r) + 1 for _, r in self.groups)
        split = n_rows if n_rows <= ONE_COLUMN_ROWS else n_rows / n_cols
        grid, used = None, 0
        text, bold = theme.font(size_pt), theme.font(size_pt, bold=True)
        for title, rows in self.groups:
            if grid is None or used >= split:
                grid = QGridLayout()
                grid.setHorizontalSpacing(int(theme.pt(16)))
                grid.setVerticalSpacing(int(theme.pt(4)))
                col = QVBoxLayout()
                col.addLayout(grid)
                col.addStretch(1)
                cols.addLayout(col)
                used = 0
            r = grid.rowCount()
            if r:
                grid.setRowMinimumHeight(r, int(theme.pt(10)))  # a gap between groups
                r += 1
            h = QLabel(title)
            h.setFont(bold)
            h.setObjectName("sheetGroup")
            grid.addWidget(h, r, 0, 1, 2)
            for k, (keys, what) in enumerate(rows, start=1):
                kl = QLabel(keys)
                kl.setObjectName("sheetKey")
                kl.setFont(bold)
                kl.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                wl = QLabel(what)
                wl.setObjectName("sheetWhat")
                wl.setFont(text)
                grid.addWidget(kl, r + k, 0)
                grid.addWidget(wl, r + k, 1)
            used += len(rows) + 1
        return body

    def texts(self) -> list[tuple[str, str]]:
        """Every (keys, what) row on the sheet (for tests)."""
        return [row for _, rows in self.groups for row in rows]
