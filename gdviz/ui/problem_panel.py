"""Problem picker: the built-in surfaces plus a custom expression with inline errors."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from gdviz.ui.controls import section, session_signal

CUSTOM = "Custom…"


class ProblemPanel(QWidget):
    """A combo of ``SURFACES`` + "Custom…", an expression box, and a red error line.

    Enter in the expression box calls ``session.set_expression``; when the session
    rejects it the message (e.g. ``unknown name 'z' at column 5``) appears under the
    box and the old surface stays.
    """

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.combo = QComboBox()
        self.combo.setObjectName("surfaceCombo")
        self.combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        from gdviz.core.surfaces import SURFACES

        for name, surf in SURFACES.items():
            self.combo.addItem(name, name)
            formula = getattr(surf, "formula", "")
            if formula:
                self.combo.setItemData(self.combo.count() - 1, formula, Qt.ItemDataRole.ToolTipRole)
        self.combo.addItem(CUSTOM, None)
        self.expr = QLineEdit()
        self.expr.setObjectName("exprEdit")
        self.expr.setPlaceholderText("f(x, y), e.g. x^2 + 10*y^2  ⏎")
        self.expr.setClearButtonEnabled(True)
        self.error = QLabel()
        self.error.setObjectName("exprError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #e0523f; font-weight: bold;")
        self.error.hide()

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(section("Problem"))
        lay.addWidget(self.combo)
        lay.addWidget(self.expr)
        lay.addWidget(self.error)

        self._captured: list[str] = []
        self._applying = False
        self.combo.activated.connect(self._on_combo_activated)
        self.expr.returnPressed.connect(self.apply_expression)
        session_signal(session, "problem_changed").connect(self._on_problem_changed)
        session_signal(session, "error").connect(self._on_error)
        self._on_problem_changed()

    # -- widget -> session ------------------------------------------------------------
    def _on_combo_activated(self, index: int) -> None:
        name = self.combo.itemData(index)
        if name is None:  # "Custom…": the teacher types next
            self.expr.setFocus()
            if self.expr.text():
                self.apply_expression()
            return
        self.session.set_surface(name)

    def apply_expression(self) -> bool:
        """Send the box's text to the session; show the error inline when it fails."""
        text = self.expr.text().strip()
        if not text:
            return False
        self._captured.clear()
        self._applying = True
        try:
            ok = bool(self.session.set_expression(text))
        finally:
            self._applying = False
        if ok:
            self.show_error("")
        else:
            self.show_error(self._captured[-1] if self._captured else f"cannot use '{text}'")
            # the old surface stays; the combo goes back to it
            self._on_problem_changed(clear_error=False)
        return ok

    # -- session -> widget ----------------------------------------------------------
    def _on_error(self, msg: str) -> None:
        if self._applying:
            self._captured.append(str(msg))

    def show_error(self, msg: str) -> None:
        self.error.setText(msg)
        self.error.setVisible(bool(msg))

    def _on_problem_changed(self, *_, clear_error: bool = True) -> None:
        land = getattr(self.session, "landscape", None)
        if land is None:
            return
        with QSignalBlocker(self.combo):
            idx = self.combo.findData(land.name) if getattr(land, "sid", 0) >= 0 else -1
            self.combo.setCurrentIndex(idx if idx >= 0 else self.combo.count() - 1)
        if getattr(land, "sid", 0) < 0 and not self.expr.hasFocus():
            self.expr.setText(getattr(land, "label", "") or land.name)
        if clear_error:
            self.show_error("")
