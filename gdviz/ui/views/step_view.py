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
import time

import numpy as np
import shiboken6
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import (QFrame, QGridLayout, QLabel, QScrollArea, QSizePolicy, QVBoxLayout,
                               QWidget)

from gdviz.core.i18n import tr
from gdviz.core.session.history import DETAILS_PENDING
from gdviz.ui import theme
from gdviz.ui.views.items import connect_all, disconnect_all

#: the room between the table's columns (px)
TABLE_GAP = 18
#: seconds of a turn of the event loop that re-play the history for the step shown (after
#: a jump back, the re-play goes on in the turns after, the panel saying so)
DETAILS_TURN_S = 0.02

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
        self.grid = grid = QGridLayout(self.table)
        grid.setContentsMargins(0, 4, 0, 4)
        grid.setHorizontalSpacing(TABLE_GAP)
        grid.setVerticalSpacing(2)
        self.cells: dict[str, tuple[QLabel, QLabel, QLabel]] = {}
        #: each row's names of the two parameters, beside its numbers when they are stacked
        self.tags: dict[str, tuple[QLabel, QLabel]] = {}
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        self.header = (QLabel(""), QLabel("x"), QLabel("y"))
        for lab in self.header:
            lab.setAlignment(right)
        for key, sym, tip in ROWS:
            name, x, y = QLabel(sym), QLabel("—"), QLabel("—")
            # (the table's from the start: laid out only when stacked, a parentless tag
            # was Python's, left to the cyclic collector with a closed view)
            tags = (QLabel("x", self.table), QLabel("y", self.table))
            for lab in (name, x, y, *tags):
                lab.setToolTip(tip)
                lab.setAlignment(right)
                lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.cells[key] = (name, x, y)
            self.tags[key] = tags
        #: 0: x and y side by side; 1: one under the other, each after its parameter's name;
        #: 2: each name over its number (the table too wide for its room: see fit_width)
        self.stacked = 0
        self._room: int | None = None
        self._shown = set(self.cells)  # the rows the selected run's optimizer has
        self._rule: list[str] = []  # the rule's lines, as written when there is room
        self._rule_level = 0  # how narrow its worked lines are written (see _tall)
        self._place()
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

        #: goes on with a re-play for the step shown in the next turn (DETAILS_TURN_S)
        self._replay_more = QTimer(self)
        self._replay_more.setSingleShot(True)
        self._replay_more.setInterval(0)
        self._replay_more.timeout.connect(self._refresh)
        self._connections = []
        self._following = False
        self._apply_fonts()
        self.set_following(True)  # (draws the table: retranslate, then _refresh)
        self._ready = True

    def set_following(self, on: bool) -> None:
        """Follow the session's signals, or stop (projector mode's table, kept hidden
        between two uses, costs nothing per frame); following again draws what changed
        meanwhile, in the language of the moment."""
        on = bool(on)
        if on == self._following:
            return
        self._following = on
        if not on:
            self._connections = disconnect_all(self._connections)
            self._replay_more.stop()
            return
        s = self.session
        self._connections = connect_all([
            (s.selection_changed, self._on_selection_changed),
            (s.stepped, self._refresh),
            (s.runs_changed, self._refresh),
            (s.problem_changed, self._refresh),
        ])
        self.retranslate()

    # ------------------------------------------------------------------ room
    def fit_width(self, room: int) -> None:
        """The view is ``room`` px wide at the most (its scroll area's viewport): where the
        table's columns (x and y side by side) are wider, each row's y goes under its x, and
        the rule's worked vectors take two lines (:func:`_tall`; wrapped only where even
        that is too wide), so that nothing scrolls sideways (at 200 % text on 1280×720
        the table needed 472 px and the rule 586 of a 408 px column: their y numbers and
        the ends of the rule's lines were cut at the dock's edge)."""
        self._room = int(room)
        self._arrange()

    def _set_rule(self, lines: list[str]) -> None:
        self._rule = lines
        self.rule.setText("\n".join(_tall(lines, self._rule_level)))

    def _wide_widths(self) -> tuple[list[int], list[int]]:
        """The width of the view with its table at each level of :attr:`stacked` (x and y
        side by side; one under the other; each parameter's name over its number), and
        with its rule at each level of :func:`_tall` (0: as written)."""
        cols = [0, 0, 0]
        tag = 0
        for key, labs in (("", self.header), *self.cells.items()):
            if labs is self.header or not labs[0].isHidden():
                for c, lab in enumerate(labs):
                    cols[c] = max(cols[c], lab.sizeHint().width())
                if key:
                    tag = max([tag] + [t.sizeHint().width() for t in self.tags[key]])
        m = self.layout().contentsMargins()
        pad = m.left() + m.right()
        fm = self.rule.fontMetrics()
        rules = [max((fm.horizontalAdvance(line) for line in _tall(self._rule, level)), default=0)
                 + 2 * self.rule.margin() + 4 + pad for level in (0, 1, 2)]
        number = max(cols[1:])
        tables = [sum(cols) + 2 * TABLE_GAP + pad,
                  cols[0] + tag + number + 2 * TABLE_GAP + pad,
                  cols[0] + max(tag, number) + TABLE_GAP + pad]
        return tables, rules

    def _arrange(self) -> None:
        if self._room is None:
            return
        tables, rules = self._wide_widths()
        # (L21's parameter names, "W4[1,1]", beside 200 % numbers were still wider than
        # a 400 px column stacked: the numbers cut at the dock's edge behind a scroll bar)
        stacked = next((k for k, w in enumerate(tables) if w <= self._room), 2)
        if stacked != self.stacked:
            self.stacked = stacked
            self._place()
            self._show_rows()
        # the rule's worked lines as written where they fit, else narrower (its vectors on
        # two lines...), and wrapped where even the narrowest is too wide (a wrapped line
        # broke between "−" and the step it takes away)
        level = next((k for k, w in enumerate(rules) if w <= self._room), 2)
        if level != self._rule_level:
            self._rule_level = level
            self._set_rule(self._rule)
        wrap = rules[level] > self._room
        if self.rule.wordWrap() != wrap:
            self.rule.setWordWrap(wrap)

    def _place(self) -> None:
        """Put the table's labels in its grid: side by side, or stacked (name, then each
        parameter's name and number on a line of its own)."""
        grid = self.grid
        for lab in (*self.header, *(w for labs in self.cells.values() for w in labs),
                    *(w for tags in self.tags.values() for w in tags)):
            grid.removeWidget(lab)
        for c in range(4):
            grid.setColumnStretch(c, 0)
        if not self.stacked:
            for c, lab in enumerate(self.header):
                grid.addWidget(lab, 0, c)
                lab.show()
            for row, key in enumerate(self.cells, start=1):
                name, x, y = self.cells[key]
                grid.addWidget(name, row, 0)
                grid.addWidget(x, row, 1)
                grid.addWidget(y, row, 2)
                for tag in self.tags[key]:
                    tag.hide()
            grid.setColumnStretch(3, 1)
            return
        for lab in self.header:
            lab.hide()
        for k, key in enumerate(self.cells):
            name, x, y = self.cells[key]
            tx, ty = self.tags[key]
            if self.stacked == 1:  # "θ  x  1.25" over "   y  -0.5"
                grid.addWidget(name, 2 * k, 0)
                grid.addWidget(tx, 2 * k, 1)
                grid.addWidget(x, 2 * k, 2)
                grid.addWidget(ty, 2 * k + 1, 1)
                grid.addWidget(y, 2 * k + 1, 2)
            else:  # "θ  x" over "1.25", then "y" over "-0.5"
                grid.addWidget(name, 4 * k, 0)
                for j, lab in enumerate((tx, x, ty, y)):
                    grid.addWidget(lab, 4 * k + j, 1)
        grid.setColumnStretch(3, 1)

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
        if not self._following:  # (kept hidden: drawn when it follows again)
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
        details = s.details(r, deadline=time.perf_counter() + DETAILS_TURN_S)
        diverged = dict(s.diverged())
        self.table.setVisible(True)
        self.rule.setVisible(True)
        if details is DETAILS_PENDING:  # (its numbers in a later turn: θ_new is known)
            self.hint.setText(tr("hint_replaying_iteration" if s.is_data
                                 else "hint_replaying_step", t=t))
            self.hint.setVisible(True)
            self._fill_table(None, r)
            self._set_rule(self._rule_lines(r, None))
            self._arrange()
            self._replay_more.start()
            return
        if details is None:
            self.hint.setText(tr("hint_iteration0" if s.is_data else "hint_step0"))
            self.hint.setVisible(True)
            self._fill_table(None, r)
            self._set_rule(self._rule_lines(r, None))
            self._arrange()
            return
        if r in diverged:
            self.hint.setText(tr("hint_run_diverged", step=diverged[r]))
            self.hint.setVisible(True)
        else:
            self.hint.setVisible(False)
        self._fill_table(details, r)
        self._set_rule(self._rule_lines(r, details))
        self._arrange()

    def _config(self, r: int):
        return self.session.effective_config(self.session.spec_index(r))

    def _fill_table(self, details: dict | None, r: int) -> None:
        s = self.session
        name = self._config(r).name
        rows = RULES.get(name, RULES["sgd"])[2]
        values: dict[str, np.ndarray | None] = {}
        names = s.param_names
        for k, text in enumerate(names[:2]):
            self.header[k + 1].setText(text)
            for tags in self.tags.values():
                tags[k].setText(text)
        values["theta1"] = s.project(s.positions(s.t)[r])
        values["theta0"] = s.project(s.positions(max(s.t - 1, 0))[r]) if details is not None else None
        for key in ("g", "m", "v", "step_size", "delta"):
            values[key] = _vec(details, key, s) if details is not None else None
        self._shown = {key for key in self.cells
                       if key in rows or (key == "step_size" and values.get(key) is not None)}
        self._show_rows()
        for key, (name_lab, x, y) in self.cells.items():
            val = values.get(key)
            if val is None:
                x.setText("—")
                y.setText("—")
            else:
                x.setText(fmt(val[0]))
                y.setText(fmt(val[1]))

    def _show_rows(self) -> None:
        for key, labs in self.cells.items():
            on = key in self._shown
            for lab in labs:
                lab.setVisible(on)
            for tag in self.tags[key]:
                tag.setVisible(on and bool(self.stacked))

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
            self._arrange()
        elif ev.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(ev)

    def _apply_fonts(self) -> None:
        mono = theme.font(theme.TABLE_PT, mono=True)
        self.title.setFont(theme.font(theme.LABEL_PT))
        self.hint.setFont(theme.font(theme.BASE_PT))
        for lab in self.header:
            lab.setFont(theme.font(theme.BASE_PT, bold=True))
        for tags in self.tags.values():
            for tag in tags:
                tag.setFont(theme.font(theme.BASE_PT, bold=True))
        for name, x, y in self.cells.values():
            name.setFont(theme.font(theme.TABLE_PT, mono=True, bold=True))
            x.setFont(mono)
            y.setFont(mono)
        self.rule.setFont(mono)


def _tall(lines: list[str], level: int = 1) -> list[str]:
    """The rule's worked lines (indented: "  = (−1.471, 0.02717)") narrower, for a narrow
    column: at level 1 two spaces less indented, each vector on two lines, its second number
    under its first ("= (−1.471," over "   0.02717)"); at level 2 also the step's "− η·" on a
    line of its own above its vector. Level 0: as they are."""
    out = []
    for line in lines:
        if not (level and line.startswith("  ")):
            out.append(line)
            continue
        line = line[2:]
        if level >= 2 and "·(" in line:
            head, vec = line.split("·(", 1)
            out.append(head + "·")
            line = " " * (len(head) - len(head.lstrip()) + 2) + "(" + vec
        while (i := line.find(", ")) > 0 and "(" in line[:i]:
            out.append(line[:i + 1])
            line = " " * (line.rfind("(", 0, i) + 1) + line[i + 2:]
        out.append(line)
    return out


class StepScroll(QScrollArea):
    """The step view in a scroll area (its dock, or beside the map in projector mode): it
    scrolls down, never sideways, and tells the view its width (:meth:`StepView.fit_width`)."""

    def __init__(self, view: StepView, name: str):
        super().__init__()
        self.setObjectName(name)
        self.setWidget(view)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)

    def viewportEvent(self, ev) -> bool:  # noqa: N802 - Qt name
        if ev.type() == QEvent.Type.Resize:
            view = self.widget()
            if isinstance(view, StepView):
                view.fit_width(self.viewport().width())
        return super().viewportEvent(ev)
