"""Problem picker: the built-in surfaces, a custom expression with inline errors, and the
two data problems (linear regression's L(w, b), and the curve fit)."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QEvent, QSignalBlocker, Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from gdviz.core.i18n import tr
from gdviz.ui.keyboard import REJECTED
from gdviz.ui.widgets import section

#: what "Curve fit" opens on the first time: the lecture's red curve and three sigmoids
DEFAULT_FIT = dict(target="piecewise", model="sigmoid", units=3)


class ProblemPanel(QWidget):
    """A combo of ``SURFACES`` + "Custom…", an expression box, and a red error line.

    Enter in the expression box calls ``session.set_expression``; when the session
    rejects it the message (e.g. ``unknown name 'z' at column 5``) appears under the
    box and the old surface stays.
    """

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        #: around a change the user makes here: the window's MainWindow.two_turns (the
        #: views refresh in the next turn); alone, one turn
        self.two_turns = contextlib.nullcontext
        self.combo = QComboBox()
        self.combo.setObjectName("surfaceCombo")
        self.combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        from gdviz.core.surfaces import SURFACES

        for name, surf in SURFACES.items():
            self.combo.addItem(name, name)
            formula = getattr(surf, "formula", "")
            if formula:
                self.combo.setItemData(self.combo.count() - 1, formula, Qt.ItemDataRole.ToolTipRole)
        self.combo.addItem(tr("custom"), None)
        self.combo.insertSeparator(self.combo.count())
        self.combo.addItem(tr("regression_data"), "@regression")
        self.combo.addItem(tr("fit_data"), "@fit")
        self.combo.addItem(tr("classify_data"), "@classify")
        # the last data settings, so that going back to a data problem finds them again
        self._last_data: dict[str, object] = {}
        self.expr = QLineEdit()
        self.expr.setObjectName("exprEdit")
        self.expr.setClearButtonEnabled(True)
        self.error = QLabel()
        self.error.setObjectName("exprError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #e0523f; font-weight: bold;")
        self.error.hide()

        self.title = section(tr("problem"))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.combo)
        lay.addWidget(self.expr)
        lay.addWidget(self.error)

        self._captured: list[str] = []
        self._applying = False
        self.combo.activated.connect(self._on_combo_activated)
        self.expr.returnPressed.connect(self.apply_expression)
        session.problem_changed.connect(self._on_problem_changed)
        session.events.landscape.connect(self._on_landscape_changed)
        session.events.kind.connect(self._on_landscape_changed)
        session.error.connect(self._on_error)
        self.retranslate()
        self._on_landscape_changed()
        self._on_problem_changed()

    def retranslate(self) -> None:
        """Heading, the combo's own entries and the placeholder in the UI language."""
        self.title.setText(tr("problem"))
        from gdviz.core.surfaces import SURFACES

        for name in SURFACES:  # the names that are words; the others are people's names
            i = self.combo.findData(name)
            if i >= 0:
                self.combo.setItemText(i, tr(f"surface_{name}", default=name))
        for data, key, tip in ((None, "custom", None), ("@regression", "regression_data",
                               "tip_regression"), ("@fit", "fit_data", "tip_fit"),
                               ("@classify", "classify_data", "tip_classify")):
            i = self.combo.findData(data)
            if i >= 0:
                self.combo.setItemText(i, tr(key))
                if tip:
                    self.combo.setItemData(i, tr(tip), Qt.ItemDataRole.ToolTipRole)
        self._hint()

    def _hint(self) -> None:
        """The box's placeholder: on a built-in surface its formula ("now: x² − y²"), so
        the box never looks as if it still held another problem."""
        formula = getattr(self, "_formula", "")
        self.expr.setPlaceholderText(tr("expr_placeholder_surface", formula=formula) if formula
                                     else tr("expr_placeholder"))

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # -- widget -> session ------------------------------------------------------------
    def _on_combo_activated(self, index: int) -> None:
        # (in two turns: a switch of L21 with 15 networks to the regression took 137 ms in one)
        with self.two_turns():
            self._pick(index)

    def _pick(self, index: int) -> None:
        name = self.combo.itemData(index)
        if name is None:  # "Custom…": the teacher types next
            self.expr.setFocus()
            if self.expr.text():
                self.apply_expression()
            return
        if name == "@regression":
            self.set_data_problem("regression")
            return
        if name == "@fit":
            self.set_data_problem("fit")
            return
        if name == "@classify":
            self.set_data_problem("classify")
            return
        self.session.set_surface(name)

    def set_data_problem(self, kind: str) -> bool:
        """Switch to linear regression or the curve fit (with the settings last used)."""
        from gdviz.core.problems import FitData, RegressionData

        s = self.session
        if s.kind == kind:
            return True
        if kind == "regression":
            data = self._last_data.get("regression") or RegressionData()
            return bool(s.set_regression(data))
        if kind == "classify":
            from gdviz.core.classifier import ClassifyData

            return bool(s.set_classify(self._last_data.get("classify") or ClassifyData()))
        data = self._last_data.get("fit") or FitData(**DEFAULT_FIT)
        return bool(s.set_fit(data))

    def apply_expression(self) -> bool:
        """Send the box's text to the session; show the error inline when it fails."""
        text = self.expr.text().strip()
        if not text:
            return False
        self._captured.clear()
        self._applying = True
        try:
            with self.two_turns():
                ok = bool(self.session.set_expression(text))
        finally:
            self._applying = False
        if ok:
            self.show_error("")
        else:
            self.show_error(self._captured[-1] if self._captured else tr("cannot_use", text=text))
            # the old surface stays; the combo goes back to it, the typo stays to be fixed
            self._on_problem_changed(clear_error=False)
        return ok

    # -- session -> widget ----------------------------------------------------------
    def _on_error(self, msg: str) -> None:
        if self._applying:
            self._captured.append(str(msg))

    def show_error(self, msg: str) -> None:
        self.error.setText(msg)
        self.error.setVisible(bool(msg))
        self.expr.setProperty(REJECTED, bool(msg))  # Enter keeps the focus on a typo

    def _on_problem_changed(self, *_, clear_error: bool = True) -> None:
        s = self.session
        land = s.landscape
        kind = s.kind
        if kind in ("regression", "fit", "classify"):
            self._last_data[kind] = s.data
            data_key = "@" + kind
        else:
            data_key = land.name if kind == "surface" else None
        with QSignalBlocker(self.combo):
            idx = self.combo.findData(data_key)
            self.combo.setCurrentIndex(idx if idx >= 0 else self.combo.findData(None))
        self.expr.setVisible(kind in ("surface", "expr"))
        if clear_error:
            self.show_error("")

    def _on_landscape_changed(self, *_) -> None:
        """The box shows the current problem whenever the problem itself changes (a lesson,
        the combo; never the typing, nor a zoom), even with the focus in it: an
        expression's text, or empty with the built-in surface's formula as the hint."""
        s = self.session
        land, kind = s.landscape, s.kind
        self.expr.setText((land.label or land.name) if kind == "expr" else "")
        self._formula = (land.label or land.name) if kind == "surface" else ""
        self._hint()
