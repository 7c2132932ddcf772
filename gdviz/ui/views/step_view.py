"""Step-by-step mode: the numbers of one update, and the update rule written out with them.

Follows ``session.selected`` (the run) and ``session.t`` (the step on display): the table
gives θ before the step, the gradient g, the first moment / momentum m, the second moment
v, the effective step size, the update Δ and θ after; below it the rule for the run's
optimizer is written with the current numbers (lessons L11 and L15)::

    θ ← θ − η·m̂/(√v̂+ε)
      = (−1.5, 2) − 0.05·(0.98, −1)
      = (−1.549, 2.05)
"""

from __future__ import annotations

import math

import numpy as np
import shiboken6
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from gdviz.core.i18n import tr
from gdviz.ui import theme
from gdviz.ui.views.items import connect_all, disconnect_all

#: (symbol, name, tooltip) of the table rows; the key is the details() field (the
#: tooltip is shown in the UI language: key row_<key>)
ROWS = (
    ("theta0", "θ", "parameters before this step"),
    ("g", "g", "gradient ∂L/∂θ used in this step (with its noise)"),
    ("m", "m", "momentum buffer / first moment (running average of g)"),
    ("v", "v", "second moment (running average of g²)"),
    ("step_size", "η_eff", "effective step size per coordinate"),
    ("delta", "Δ", "the update actually applied: θ_new − θ"),
    ("theta1", "θ_new", "parameters after this step"),
)

#: the update rule per optimizer (config name): state updates, then the parameter update
#: as "θ ← θ − η·<direction>"; which table rows apply
RULES: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "sgd": ((), "g", ("theta0", "g", "delta", "theta1")),
    # the lesson's m (L11: "m ← 0.9·m + 0.1·g"); torch's b and dampening τ are in the tooltip
    "momentum": (("m ← μ·m + (1−τ)·g",), "m", ("theta0", "g", "m", "delta", "theta1")),
    "nesterov": (("m ← μ·m + (1−τ)·g",), "(g + μ·m)", ("theta0", "g", "m", "delta", "theta1")),
    "rmsprop": (("v ← α·v + (1−α)·g²",), "g/(√v+ε)",
                ("theta0", "g", "v", "step_size", "delta", "theta1")),
    "adagrad": (("v ← v + g²",), "g/(√v+ε)", ("theta0", "g", "v", "step_size", "delta", "theta1")),
    "adam": (("m ← β₁·m + (1−β₁)·g", "v ← β₂·v + (1−β₂)·g²"), "m̂/(√v̂+ε)", tuple(k for k, *_ in ROWS)),
    "adamw": (("θ ← θ − η·λ·θ", "m ← β₁·m + (1−β₁)·g", "v ← β₂·v + (1−β₂)·g²"), "m̂/(√v̂+ε)",
              tuple(k for k, *_ in ROWS)),
}


def fmt(v: float, digits: int = 4) -> str:
    """A compact number with a real minus sign: −1.234, 0.05, 1.2e−05."""
    v = float(v)
    if not math.isfinite(v):
        return "nan" if math.isnan(v) else ("∞" if v > 0 else "−∞")
    text = f"{v:.{digits}g}"
    return text.replace("-", "−")


def fmt_vec(a) -> str:
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    return "(" + ", ".join(fmt(x) for x in a) + ")"


def _vec(details: dict, key: str, session) -> np.ndarray | None:
    """details[key] as the two parameters the map shows (float64 (2,)), or None."""
    val = details.get(key)
    if val is None:
        return None
    a = np.asarray(val, dtype=np.float64).reshape(-1)
    if a.size == 1:
        return np.repeat(a, 2)
    return session.project(a)


class StepView(QWidget):
    """The step-by-step table and update rule for ``session.selected`` at ``session.t``."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.table = QFrame()
        grid = QGridLayout(self.table)
        grid.setContentsMargins(0, 4, 0, 4)
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(2)
        self.cells: dict[str, tuple[QLabel, QLabel, QLabel]] = {}
        self.header = (QLabel(""), QLabel("x"), QLabel("y"))
        for c, lab in enumerate(self.header):
            lab.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(lab, 0, c)
        for row, (key, sym, tip) in enumerate(ROWS, start=1):
            name, x, y = QLabel(sym), QLabel("—"), QLabel("—")
            for lab in (name, x, y):
                lab.setToolTip(tip)
                lab.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(name, row, 0)
            grid.addWidget(x, row, 1)
            grid.addWidget(y, row, 2)
            self.cells[key] = (name, x, y)
        grid.setColumnStretch(3, 1)
        self.rule = QLabel()
        self.rule.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rule.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.addWidget(self.title)
        lay.addWidget(self.hint)
        lay.addWidget(self.table)
        lay.addWidget(self.rule)
        lay.addStretch(1)

        s = session
        self._connections = connect_all([
            (s.selection_changed, self._on_selection_changed),
            (s.stepped, self._refresh),
            (s.runs_changed, self._refresh),
            (s.problem_changed, self._refresh),
        ])

        self._apply_fonts()
        self.retranslate()
        self._ready = True

    def retranslate(self) -> None:
        """Hints, title, rule notes and the rows' tooltips in the UI language (the
        symbols θ, g, m, v, η_eff, Δ stay)."""
        for key, _sym, tip in ROWS:
            for lab in self.cells[key]:
                lab.setToolTip(tr(f"row_{key}", default=tip))
        self._refresh()

    # ------------------------------------------------------------------ session -> view
    def _on_selection_changed(self, _r: int = -1) -> None:
        self._refresh()

    def _refresh(self) -> None:
        if not shiboken6.isValid(self):  # the C++ widget is gone; psygnal still holds us
            self._disconnect()
            return
        s = self.session
        r = s.selected
        if not 0 <= r < s.n_runs:
            self.title.setText(f"<b>{tr('title_step_by_step')}</b>")
            self.hint.setText(tr("hint_pick_run"))
            self.hint.setVisible(True)
            self.table.setVisible(False)
            self.rule.setVisible(False)
            return
        color = s.run_color(r)
        t = s.t
        # one word per problem, as the status bar and the loss axis say it (L6)
        when = tr("title_iteration", t=t) if s.is_data else tr("title_step", t=t)
        self.title.setText(f"<b><span style='color:{color}'>●</span> {s.run_label(r)}</b>"
                           f" — {when}")
        details = s.details(r)
        diverged = dict(s.diverged())
        self.table.setVisible(True)
        self.rule.setVisible(True)
        if details is None:
            self.hint.setText(tr("hint_iteration0" if s.is_data else "hint_step0"))
            self.hint.setVisible(True)
            self._fill_table(None, r)
            self.rule.setText("\n".join(self._rule_lines(r, None)))
            return
        if r in diverged:
            self.hint.setText(tr("hint_run_diverged", step=diverged[r]))
            self.hint.setVisible(True)
        else:
            self.hint.setVisible(False)
        self._fill_table(details, r)
        self.rule.setText("\n".join(self._rule_lines(r, details)))

    def _config(self, r: int):
        return self.session.effective_config(self.session.spec_index(r))

    def _fill_table(self, details: dict | None, r: int) -> None:
        s = self.session
        name = self._config(r).name
        rows = RULES.get(name, RULES["sgd"])[2]
        values: dict[str, np.ndarray | None] = {}
        names = s.param_names
        for lab, text in zip(self.header[1:], names):
            lab.setText(text)
        values["theta1"] = s.project(s.positions(s.t)[r])
        values["theta0"] = s.project(s.positions(max(s.t - 1, 0))[r]) if details is not None else None
        for key in ("g", "m", "v", "step_size", "delta"):
            values[key] = _vec(details, key, s) if details is not None else None
        for key, (name_lab, x, y) in self.cells.items():
            shown = key in rows or (key == "step_size" and values.get(key) is not None)
            for lab in (name_lab, x, y):
                lab.setVisible(shown)
            val = values.get(key)
            if val is None:
                x.setText("—")
                y.setText("—")
            else:
                x.setText(fmt(val[0]))
                y.setText(fmt(val[1]))

    def _rule_lines(self, r: int, details: dict | None) -> list[str]:
        s = self.session
        cfg = self._config(r)
        name = cfg.name
        updates, direction, _ = RULES.get(name, RULES["sgd"])
        if name == "momentum" and not getattr(cfg, "momentum", 0):
            updates, direction = (), "g"
        lines = list(updates)
        if name in ("momentum", "nesterov") and updates:
            # the numbers in: "m ← 0.9·m + 0.1·g", as the lesson writes it
            lines[0] = f"m ← {fmt(cfg.momentum)}·m + {fmt(1.0 - cfg.dampening)}·g"
        self.rule.setToolTip(tr("tip_rule_torch_momentum") if name in ("momentum", "nesterov")
                             else "")
        wd = float(getattr(cfg, "weight_decay", 0.0) or 0.0)
        if wd > 0 and name != "adamw":
            lines.insert(0, "g ← g + λ·θ")
        lines.append(f"θ ← θ − η·{direction}")
        if s.n_params > 2:
            a, b = s.param_names
            lines.append(tr("rule_of_params", a=a, b=b, n=s.n_params))
        if details is None:
            return lines
        lr = float(details.get("lr", cfg.lr) or cfg.lr)
        theta0 = s.project(s.positions(max(s.t - 1, 0))[r])
        delta = _vec(details, "delta", s)
        theta1 = theta0 + delta if delta is not None else s.project(s.positions(s.t)[r])
        with np.errstate(all="ignore"):
            u = -delta / lr if (delta is not None and lr > 0) else np.full(2, np.nan)
        lines.append(f"  = {fmt_vec(theta0)}")
        lines.append(f"    − {fmt(lr)}·{fmt_vec(u)}")
        lines.append(f"  = {fmt_vec(theta1)}")
        return lines

    # ------------------------------------------------------------------ theme & fonts
    def _disconnect(self) -> None:
        """Stop observing the session (the widget is going away)."""
        self._connections = disconnect_all(getattr(self, "_connections", []))

    def changeEvent(self, ev) -> None:
        if not getattr(self, "_ready", False):  # Qt sends events while __init__ runs
            super().changeEvent(ev)
            return
        if ev.type() in (QEvent.Type.FontChange, QEvent.Type.ApplicationFontChange):
            self._apply_fonts()
        elif ev.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(ev)

    def _apply_fonts(self) -> None:
        mono = theme.font(theme.TABLE_PT, mono=True)
        self.title.setFont(theme.font(theme.LABEL_PT))
        self.hint.setFont(theme.font(theme.BASE_PT))
        for lab in self.header:
            lab.setFont(theme.font(theme.BASE_PT, bold=True))
        for name, x, y in self.cells.values():
            name.setFont(theme.font(theme.TABLE_PT, mono=True, bold=True))
            x.setFont(mono)
            y.setFont(mono)
        self.rule.setFont(mono)
