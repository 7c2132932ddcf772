"""Side controls of the data problems: the data, the model, and fitting by hand.

Shown by the main window on data problems only. The panel builds the controls of the
session's current kind (linear regression or curve fit) and rebuilds them when the kind
changes; within a kind it only updates their values, so that a slider being dragged is
never destroyed under the mouse.

Every write goes through a session method (``update_data``, ``set_view_options``,
``update_runs``, ``set_linked``, ``set_param``). The session validates; a refused value
shows its one-line message inline in red while the session keeps its old state. Updates
from the session set the widgets with their signals blocked, so nothing echoes back.
"""

from __future__ import annotations

import contextlib

import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gdviz.core.i18n import tr
from gdviz.ui import theme
from gdviz.ui.keyboard import REJECTED
from gdviz.ui.views.items import connect_all, disconnect_all
from gdviz.ui.views.refresh import forget, later
from gdviz.ui.widgets import HyperSlider, fill_param_combo, section

#: the target combo's last entry, in English (shown translated: key custom_target)
CUSTOM_TARGET = "Custom f(x)…"
#: (loss, i18n key) of the loss combo
LOSSES = (("mse", "loss_mse"), ("mae", "loss_mae"))
#: fit by hand shows one slider per parameter up to this many (linear, quadratic, K = 1)
MAX_HAND_PARAMS = 4
#: a fit-by-hand slider spans ±HAND_RANGE when the lesson gives nothing better (see
#: :func:`hand_ranges`), wider when the parameter is outside
HAND_RANGE = 10.0
#: a fit-by-hand slider moves in steps of 1, 2 or 5 × 10^k, about this many over its range
#: (a slider some 250 px wide: one pixel is one or two steps, e.g. 0.02 on L1's a)
HAND_STEPS = 300
#: the entry of a fit-by-hand slider takes any value up to this size (the slider widens)
HAND_LIMIT = 1e9
#: the weight-decay slider is "log-ish": 0 at the left, then decades up to 1
WD_DECADES = 3.0
N_POINTS_RANGE = (2, 2000)
NOISE_RANGE = (0.0, 5.0)
#: pixels above each section heading after the first
SECTION_GAP = 10
#: what each parameter of the models does, for the map combos' tooltips (i18n keys)
PARAM_HELP = {"w": "param_slope", "b": "param_intercept", "a": "param_x2", "c": "param_constant"}
#: the units' parameters: w1 is unit 1's slope, b1 its shift, c1 its height (i18n keys)
UNIT_PARAM_HELP = {"w": "param_unit_slope", "b": "param_unit_shift", "c": "param_unit_height"}
#: the map combos give each parameter a tooltip up to this many parameters (a 4x32
#: network has 3,265: their tooltips took a second to build; W2[3,5] names itself)
MAX_TIPPED = 300
#: (activation, i18n key, English) of the network model's activation combo
ACTIVATIONS = (("relu", "act_relu", "ReLU"), ("sigmoid", "act_sigmoid", "Sigmoid"),
               ("tanh", "act_tanh", "Tanh"), ("hard-sigmoid", "act_hard_sigmoid", "Hard sigmoid"),
               ("linear", "act_linear", "Linear (none)"))


def _nice_ceil(v: float) -> float:
    """The smallest 1, 2 or 5 × 10^k that is >= v (v > 0)."""
    k = math.floor(math.log10(v))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * 10.0 ** k >= v * (1 - 1e-12):
            return m * 10.0 ** k
    return 10.0 ** (k + 1)  # pragma: no cover - the loop always returns


def _nice_step(span: float) -> float:
    """The 1, 2 or 5 × 10^k step that cuts ``span`` into about :data:`HAND_STEPS` steps."""
    return _nice_ceil(max(span, 1e-9) / HAND_STEPS)


def _outward(lo: float, hi: float) -> tuple[float, float]:
    """``lo``, ``hi`` rounded outwards to a round grid (a tenth of the span, 1-2-5)."""
    g = _nice_ceil((hi - lo) / 10.0)
    return float(f"{math.floor(lo / g) * g:.10g}"), float(f"{math.ceil(hi / g) * g:.10g}")


def hand_ranges(session) -> list[tuple[float, float]]:
    """Each parameter's fit-by-hand range ``(lo, hi)`` on the session's data problem.

    It holds the start (the current parameters) and the best fit, with as much headroom
    again as the distance between them (at least half the best value's size), so the class
    can overshoot and see the loss rise. The best fit is the least-squares one when the
    model is linear in its parameters (linear, quadratic); else the start stands in. The
    two parameters on the map also span the map's box, so slider and map agree."""
    p0 = np.asarray(session.params_now(), dtype=np.float64)
    if not np.isfinite(p0).all():
        p0 = np.asarray(session.starts[0], dtype=np.float64)
    best = _least_squares(session)
    ref = best if best is not None else p0
    out = []
    for k in range(p0.shape[0]):
        a, b = sorted((float(p0[k]), float(ref[k])))
        room = max(b - a, 0.5 * max(abs(a), abs(b)), 1.0)
        lo, hi = a - room, b + room
        out.append((lo, hi))
    box = session.view or getattr(session.landscape, "view", None)
    if box is not None:
        for axis, k in enumerate(session.linked):
            lo, hi = out[k]
            out[k] = (min(lo, float(box[2 * axis])), max(hi, float(box[2 * axis + 1])))
    return [_outward(lo, hi) for lo, hi in out]


def _least_squares(session) -> np.ndarray | None:
    """The least-squares parameters when the model is linear in them, else None."""
    prob = session.problem
    model, x, y = prob.model, np.asarray(prob.x), np.asarray(prob.y)
    n = int(prob.n_params)
    if x.shape[0] < n:
        return None
    with np.errstate(all="ignore"):
        zero = model.predict(np.zeros(n), x)
        # linear in its parameters: f(a + b) - f(0) = (f(a) - f(0)) + (f(b) - f(0)). Asked
        # with three predictions before the n columns are built: a fit with 50 units (151
        # parameters) on 2,000 points built them all to find out (~80 ms on the twins)
        a = np.linspace(-1.0, 1.0, n) + 0.37
        b = np.linspace(0.5, -0.8, n) - 0.21
        fa = model.predict(a, x)
        if not np.allclose(model.predict(a + b, x) - zero,
                           (fa - zero) + (model.predict(b, x) - zero), rtol=1e-9, atol=1e-9):
            return None
        cols = np.stack([model.predict(np.eye(n)[k], x) - zero for k in range(n)], axis=1)
        if not np.allclose(fa, zero + cols @ a, rtol=1e-9, atol=1e-9):
            return None  # not linear in the parameters (units)
        best, *_ = np.linalg.lstsq(cols, y - zero, rcond=None)
    return best if np.isfinite(best).all() else None


def _param_help(name: str) -> str:
    """The tooltip of parameter ``name`` ("w1: unit 1's slope") in the UI language."""
    if name == "c0":
        what = tr("param_c0")
    elif name[:1] in "Wb" and name.endswith("]") and "[" in name:
        # a network's W2[o,i] / b2[o] (gdviz.core.models.net_param_names)
        layer, idx = name[1:-1].split("[")
        if name[0] == "W":
            o, i = idx.split(",")
            what = tr("param_net_weight", layer=layer, o=o, i=i)
        else:
            what = tr("param_net_bias", layer=layer, o=idx)
    elif name[:1] in "wbc" and name[1:].isdigit():
        what = tr(UNIT_PARAM_HELP[name[0]], k=name[1:])
    else:
        what = tr(PARAM_HELP.get(name, "parameter"))
    return tr("param_help", name=name, help=what)


def _first_line(msg) -> str:
    text = str(msg).strip()
    return text.splitlines()[0] if text else tr("invalid_input")


class ParamSlider(HyperSlider):
    """A fit-by-hand slider for parameter ``k`` over ``lo`` … ``hi`` (default ±10, or more
    to hold its value), moving in round steps (:func:`_nice_step`: 0.02 over 0 … 6); it
    widens when the session's value, or one typed in the entry, lies outside."""

    def __init__(self, k: int, text: str, value: float, lo: float | None = None,
                 hi: float | None = None, parent: QWidget | None = None):
        if lo is None or hi is None:
            half = HAND_RANGE
            if math.isfinite(value) and abs(value) > half:
                half = _nice_ceil(abs(value) * 1.25)
            lo, hi = -half, half
        self.step = _nice_step(hi - lo)
        super().__init__(f"param_{k}", text, lo, hi, parent=parent)
        self.k = int(k)
        self._loosen_entry()

    def set_range(self, lo: float, hi: float) -> None:
        self.step = _nice_step(float(hi) - float(lo))
        super().set_range(lo, hi)

    def _from_slider(self, s: float) -> float:
        # a whole number of steps: a dragged a reads 2.94, never 2.9387
        v = round(float(s) / self.step) * self.step
        return float(f"{v:.10g}")

    def _loosen_entry(self) -> None:
        validator = self.entry.validator()
        validator.setRange(-HAND_LIMIT, HAND_LIMIT, validator.decimals())

    def widen_to(self, v: float) -> None:
        """Make the range hold ``v`` (it never shrinks)."""
        if not math.isfinite(v) or self.lo <= v <= self.hi:
            return
        half = _nice_ceil(min(abs(v) * 1.25, HAND_LIMIT))
        self.set_range(min(self.lo, -half), max(self.hi, half))
        self._loosen_entry()

    def show_value(self, v: float) -> None:
        """Show the session's value ``v`` (no signal), widening the range if needed."""
        self.widen_to(v)
        self.setValue(v)

    def _on_entry_edited(self) -> None:
        text = self.entry.text()
        try:
            v = float(text)
        except ValueError:
            v = math.nan
        self.widen_to(v)
        self.entry.setText(text)  # widening re-shows the old value; the typed one applies
        super()._on_entry_edited()


class WeightDecaySlider(HyperSlider):
    """Weight decay 0 … 1 on a "log-ish" slider: v = (10^(3s) − 1) / 999 for s in 0 … 1,
    so 0 is at the left end and 0.001, 0.01, 0.1 get room; the entry takes exact values."""

    def __init__(self, text: str, parent: QWidget | None = None):
        super().__init__("weight_decay", text, 0.0, 1.0, parent=parent)

    def _to_slider(self, v: float) -> float:
        v = min(max(v, 0.0), 1.0)
        return math.log10(1.0 + (10.0 ** WD_DECADES - 1.0) * v) / WD_DECADES

    def _from_slider(self, s: float) -> float:
        v = (10.0 ** (WD_DECADES * s) - 1.0) / (10.0 ** WD_DECADES - 1.0)
        return float(f"{v:.2g}") if v > 0 else 0.0


class DataPanel(QWidget):
    """Controls of the regression and curve-fit problems (see the module docstring).

    Public: :attr:`kind` (the kind the controls are built for, None on surfaces),
    :attr:`controls` (name -> widget, for tests), :attr:`param_sliders` (fit by hand),
    :meth:`load_csv`, :meth:`open_csv_dialog`, :meth:`apply_expression`,
    :meth:`new_data`, :meth:`set_weight_decay`, :meth:`error_text`, :meth:`close`.
    """

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("dataPanel")
        self.session = session
        #: around a change the user makes here: the window's MainWindow.two_turns (the
        #: views refresh in the next turn); alone, one turn
        self.two_turns = contextlib.nullcontext
        self.kind: str | None = None
        self.controls: dict[str, QWidget] = {}
        self.param_sliders: list[ParamSlider] = []
        self._names: list[str] | None = None
        self._shown_expr = ""
        self._captured: list[str] = []
        self._applying = 0
        self._page: QWidget | None = None
        #: the other kinds' pages, put away (kind -> page, controls, param sliders, texts,
        #: parameter names, hand ranges' key): see _rebuild
        self._pages: dict = {}
        #: how each text of the page is set in the UI language (rebuilt with the page)
        self._texts: list = []
        self._by_hand = True
        self._ranges_key = None  # the data the fit-by-hand ranges were made for

        self.error = QLabel()
        self.error.setObjectName("dataError")
        self.error.setWordWrap(True)
        self.error.hide()
        self._lay = QVBoxLayout(self)
        self._lay.setContentsMargins(0, 0, 0, 0)
        self._lay.addWidget(self.error)

        # --- connections: all in one block ------------------------------------------------
        s = session
        self._connections = connect_all([
            (s.problem_changed, self._on_problem_changed),
            (s.runs_changed, self._on_runs_changed),
            (s.settings_changed, self._on_settings_changed),
            (s.stepped, self._on_stepped),
            (s.selection_changed, self._on_stepped),
            (s.error, self._on_error),
        ])
        self._restyle()
        self._on_problem_changed()

    # ================================================================== building
    def _rebuild(self) -> None:
        """Put the old kind's controls away and show the current kind's: built the first
        time, kept after (a lesson switch between a landscape and a fit built the fit's
        ~30 controls anew each time, ~35 ms of the switch)."""
        if self._page is not None:
            self._lay.removeWidget(self._page)
            self._page.hide()
            self._pages[self.kind] = (self._page, self.controls, self.param_sliders,
                                      self._texts, self._names, self._ranges_key)
        self._page = None
        self._shown_expr = ""
        # a classification has its own panel (gdviz.ui.panels.classify_panel)
        self.kind = (self.session.kind if self.session.is_data
                     and self.session.kind != "classify" else None)
        kept = self._pages.pop(self.kind, None)
        if kept is not None:
            (page, self.controls, self.param_sliders, self._texts, self._names,
             self._ranges_key) = kept
            self._page = page
            self._lay.addWidget(page)
            page.show()
            for apply in self._texts:  # (the language or the text size may have changed)
                apply()
            if self._names is not None:
                self._retranslate_params()
            self._restyle()
            self._align()
            return
        page = self._new_page()
        self._page = page
        self._lay.addWidget(page)
        self._align()

    def _new_page(self) -> QWidget:
        """A new page of :attr:`kind`'s controls, their state (controls, texts...) in its
        place."""
        self.controls, self.param_sliders = {}, []
        self._texts = []
        self._names = None
        self._ranges_key = None
        page = QWidget()
        page.setObjectName("dataPage")
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        if self.kind == "regression":
            self._build_regression(lay)
        elif self.kind == "fit":
            self._build_fit(lay)
        for hs in self._sliders():
            # Space and the arrows keep driving playback: no slider takes the focus, and
            # an entry only when clicked
            hs.entry.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
            hs.labelWidthChanged.connect(self._align)
        return page

    def build_ahead(self, kind: str) -> bool:
        """Build ``kind``'s page ("fit" or "regression") now, put away as another kind's
        page is: :meth:`_rebuild` shows it when a problem of that kind comes. An idle
        turn's work instead of the first such lesson's (the fit's ~30 controls were ~25 ms
        of L1's first click). False when it is built or showing already."""
        if kind not in ("fit", "regression") or kind == self.kind or kind in self._pages:
            return False
        saved = (self.kind, self.controls, self.param_sliders, self._texts, self._names,
                 self._ranges_key)
        self.kind = kind
        try:
            page = self._new_page()
            page.hide()
            page.setParent(self)
            self._pages[kind] = (page, self.controls, self.param_sliders, self._texts,
                                 self._names, self._ranges_key)
        finally:
            (self.kind, self.controls, self.param_sliders, self._texts, self._names,
             self._ranges_key) = saved
        return True

    def _text(self, apply) -> None:
        """Register ``apply()``, which sets a text in the UI language, and apply it now."""
        self._texts.append(apply)
        apply()

    def _label(self, key: str) -> QLabel:
        lab = QLabel()
        self._text(lambda: lab.setText(tr(key)))
        return lab

    def _section(self, key: str) -> QLabel:
        lab = section("")
        self._text(lambda: lab.setText(tr(key)))
        return lab

    def _slider(self, name: str, key: str, lo: float, hi: float, slot, **kw) -> HyperSlider:
        hs = HyperSlider(name, tr(key), lo, hi, **kw)
        hs.valueChanged.connect(slot)
        self.controls[name] = hs
        self._text(lambda: hs.set_text(tr(key)))
        return hs

    def _combo(self, name: str, items, slot) -> QComboBox:
        """A combo of ``items`` (data, i18n key, English text when the key is unknown)."""
        combo = QComboBox()
        combo.setObjectName(f"{name}Combo")
        combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        items = list(items)
        for data, key, text in items:
            combo.addItem(text, data)

        def apply() -> None:
            for k, (_, key, text) in enumerate(items):
                combo.setItemText(k, tr(key, default=text))

        self._text(apply)
        combo.activated.connect(slot)
        self.controls[name] = combo
        return combo

    def _button(self, name: str, key: str, tip: str, slot) -> QPushButton:
        b = QPushButton()
        b.setObjectName(f"{name}Button")
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        b.clicked.connect(lambda _=False: slot())
        self._text(lambda: (b.setText(tr(key)), b.setToolTip(tr(tip))))
        self.controls[name] = b
        return b

    def _check(self, name: str, key: str, tip: str, slot) -> QCheckBox:
        cb = theme.projector(QCheckBox())
        cb.setObjectName(f"{name}Check")
        cb.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        cb.toggled.connect(slot)
        self._text(lambda: (cb.setText(tr(key)), cb.setToolTip(tr(tip))))
        self.controls[name] = cb
        return cb

    def _row(self, key: str, *widgets, stretch=None) -> QHBoxLayout:
        """A row: the label ``tr(key)`` (none for "") and ``widgets``."""
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        if key:
            row.addWidget(self._label(key))
        for k, w in enumerate(widgets):
            row.addWidget(w, (stretch or [1] * len(widgets))[k])
        return row

    def retranslate(self) -> None:
        """Every text of the page in the UI language (:func:`gdviz.core.i18n.tr`)."""
        for apply in self._texts:
            apply()
        if self._names is not None:
            self._retranslate_params()
        self._sync_all()

    def _sliders(self) -> list[HyperSlider]:
        return [w for w in self.controls.values() if isinstance(w, HyperSlider)] \
            + list(self.param_sliders)

    def _align(self) -> None:
        """One label column per group of sliders, as wide as its longest name (also after
        Ctrl+=), so that the sliders line up; the fit-by-hand group has its own, so its
        short names (a, b, c) leave its sliders the room (finer steps per pixel)."""
        hand = list(self.param_sliders)
        for group in ([hs for hs in self._sliders() if hs not in hand], hand):
            width = max((hs.label_width_hint() for hs in group), default=0)
            for hs in group:
                hs.label.setFixedWidth(width)

    def _build_source(self, lay: QVBoxLayout) -> None:
        """Where the points come from: generated, or loaded from a CSV file."""
        source = QLabel()
        source.setObjectName("dataSource")
        source.setWordWrap(True)
        self.controls["source"] = source
        load = self._button("load_csv", "load_csv", "tip_load_csv", self.open_csv_dialog)
        generated = self._button("generated", "use_generated", "tip_use_generated",
                                 self.use_generated_data)
        lay.addWidget(source)
        lay.addLayout(self._row("", load, generated))

    def _build_seed_row(self, lay: QVBoxLayout) -> None:
        seed = QSpinBox()
        seed.setObjectName("dataSeedSpin")
        seed.setRange(0, 2**31 - 1)
        seed.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self._text(lambda: seed.setToolTip(tr("tip_data_seed")))
        seed.valueChanged.connect(lambda v: self._set_data(seed=int(v)))
        self.controls["seed"] = seed
        new = self._button("new_data", "new_data", "tip_new_data", self.new_data)
        lay.addLayout(self._row("data_seed", seed, new, stretch=[1, 1]))

    def _build_hand(self, page: QVBoxLayout) -> None:
        """The fit-by-hand group: the live training loss, big, and a box for the sliders;
        one widget, which :meth:`_place_hand` moves to the top or the bottom of the page."""
        group = QWidget()
        group.setObjectName("handGroup")
        lay = QVBoxLayout(group)
        lay.setContentsMargins(0, 0, 0, SECTION_GAP)
        self.controls["hand_group"] = group
        page.addWidget(group)
        title = self._section("fit_by_hand")
        self.controls["hand_title"] = title
        lay.addWidget(title)
        caption = QLabel()
        caption.setObjectName("lossCaption")
        value = QLabel("–")
        value.setObjectName("lossValue")
        value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        val = QLabel()
        val.setObjectName("valLossValue")
        self.controls.update(loss_caption=caption, loss_value=value, val_loss_value=val)
        box = QWidget()
        box.setObjectName("handBox")
        box_lay = QVBoxLayout(box)
        box_lay.setContentsMargins(0, 0, 0, 0)
        box_lay.setSpacing(2)
        self.controls["hand_box"] = box
        note = QLabel()
        note.setObjectName("handNote")
        note.setWordWrap(True)
        self.controls["hand_note"] = note
        lay.addWidget(caption)
        lay.addWidget(value)
        lay.addWidget(val)
        lay.addWidget(box)
        lay.addWidget(note)
        self._style_loss_label()

    def _place_hand(self, first: bool) -> None:
        """Fit by hand first, above the data's knobs, when its sliders are the lesson (L1's
        a, b, c; L3's w, b: above the fold at 1280×720); last when the model has too many
        parameters for sliders, so that K and the weight decay keep their place (L8, L13)."""
        group = self.controls.get("hand_group")
        lay = self._page.layout() if self._page is not None else None
        if group is None or lay is None or (lay.indexOf(group) == 0) == first:
            return
        lay.removeWidget(group)
        lay.insertWidget(0 if first else lay.count(), group)
        group.layout().setContentsMargins(0, 0 if first else SECTION_GAP, 0,
                                          SECTION_GAP if first else 0)

    def _build_regression(self, lay: QVBoxLayout) -> None:
        self._build_hand(lay)
        lay.addWidget(self._section("data_regression"))
        self._build_source(lay)
        sliders = [
            self._slider("n_points", "points_n", *N_POINTS_RANGE,
                         lambda v: self._set_data(n=int(v)), log=True, integer=True),
            self._slider("noise", "noise", *NOISE_RANGE, lambda v: self._set_data(noise=v)),
        ]
        for hs in sliders:
            lay.addWidget(hs)
        self._build_seed_row(lay)
        loss = self._combo("loss", [(n, k, tr(k, "en")) for n, k in LOSSES], self._on_loss_picked)
        lay.addLayout(self._row("loss", loss))
        lay.addWidget(self._check(
            "batch_surface", "show_batch_surface", "tip_batch_surface",
            lambda on: self._call(self.session.set_view_options, batch_surface=bool(on))))

    def _build_fit(self, lay: QVBoxLayout) -> None:
        from gdviz.core.data import TARGETS
        from gdviz.core.models import MODELS

        # fit by hand first (L1's sliders; last on unit models: :meth:`_place_hand`)
        self._build_hand(lay)
        lay.addWidget(self._section("data"))
        target = self._combo("target", [(n, f"target_{n}", t.label) for n, t in TARGETS.items()]
                             + [(None, "custom_target", CUSTOM_TARGET)], self._on_target_picked)
        for k, t in enumerate(TARGETS.values()):
            target.setItemData(k, t.formula, Qt.ItemDataRole.ToolTipRole)
        lay.addLayout(self._row("target", target))
        expr = QLineEdit()
        expr.setObjectName("targetExprEdit")
        self._text(lambda: expr.setPlaceholderText(tr("target_placeholder")))
        expr.setClearButtonEnabled(True)
        expr.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        expr.returnPressed.connect(self.apply_expression)
        self.controls["expr"] = expr
        lay.addWidget(expr)
        self._build_source(lay)
        data_sliders = [
            self._slider("n_points", "points_n", *N_POINTS_RANGE,
                         lambda v: self._set_data(points=int(v)), log=True, integer=True),
            self._slider("noise", "noise", *NOISE_RANGE, lambda v: self._set_data(noise=v)),
            self._slider("val_split", "validation_pct", 0, 50,
                         lambda v: self._set_data(val_fraction=round(v) / 100.0), integer=True),
        ]
        val_split = self.controls["val_split"]
        self._text(lambda: val_split.setToolTip(tr("tip_val_split")))
        for hs in data_sliders:
            lay.addWidget(hs)
        self._build_seed_row(lay)
        loss = self._combo("loss", [(n, k, tr(k, "en")) for n, k in LOSSES], self._on_loss_picked)
        lay.addLayout(self._row("loss", loss))

        lay.addSpacing(SECTION_GAP)
        lay.addWidget(self._section("model_title"))
        model = self._combo("model", [(n, f"model_{n}", m.label) for n, m in MODELS.items()],
                            self._on_model_picked)
        for k, m in enumerate(MODELS.values()):
            model.setItemData(k, m.formula, Qt.ItemDataRole.ToolTipRole)
        lay.addLayout(self._row("model", model))
        units = self._slider("units", "units_k", 1, 50, lambda v: self._set_data(units=int(v)),
                             integer=True)
        self._text(lambda: units.setToolTip(tr("tip_units")))
        lay.addWidget(units)
        layers = self._slider("layers", "net_layers", 1, 4,
                              lambda v: self._set_data(layers=int(v)), integer=True)
        self._text(lambda: layers.setToolTip(tr("tip_net_layers")))
        lay.addWidget(layers)
        act = self._combo("activation", ACTIVATIONS, self._on_activation_picked)
        act_label = self._label("net_activation")
        self.controls["activation_label"] = act_label
        lay.addLayout(self._row("", act_label, act, stretch=[0, 1]))
        lay.addWidget(self._check(
            "show_units", "show_units_blue", "tip_show_units",
            lambda on: self._call(self.session.set_view_options, show_units=bool(on))))
        wd_title = self._label("wd_title")
        wd_title.setObjectName("weightDecayTitle")
        wd_title.setWordWrap(True)
        lay.addWidget(wd_title)
        wd = WeightDecaySlider(tr("weight_decay"))
        self._text(lambda: wd.set_text(tr("weight_decay"), tr("help_weight_decay")))
        wd.valueChanged.connect(self.set_weight_decay)
        self.controls["weight_decay"] = wd
        lay.addWidget(wd)
        map_x = self._combo("map_x", [], lambda i: self._on_map_picked(0, i))
        map_y = self._combo("map_y", [], lambda i: self._on_map_picked(1, i))
        self._text(lambda: (map_x.setToolTip(tr("tip_map_x")), map_y.setToolTip(tr("tip_map_y"))))
        lay.addLayout(self._row("map_shows", map_x, self._label("vs"), map_y, stretch=[1, 0, 1]))

    def _rebuild_params(self, names: list[str]) -> None:
        """The map combos and the fit-by-hand sliders for the model's parameters."""
        self._names = list(names)
        for key in ("map_x", "map_y"):
            combo = self.controls.get(key)
            if combo is None:
                continue
            fill_param_combo(combo, names, [_param_help(name) for name in names]
                             if len(names) <= MAX_TIPPED else None)
        box = self.controls["hand_box"]
        for hs in self.param_sliders:
            box.layout().removeWidget(hs)
            hs.hide()
            hs.deleteLater()
        self.param_sliders = []
        note = self.controls["hand_note"]
        by_hand = len(names) <= MAX_HAND_PARAMS
        self._by_hand = by_hand
        note.setVisible(not by_hand)
        if by_hand:
            p = self._params_now()
            ranges = self._hand_ranges()
            for k, name in enumerate(names):
                value = float(p[k]) if p is not None else 0.0
                hs = ParamSlider(k, name, value, *(ranges[k] if ranges else (None, None)))
                hs.entry.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
                hs.valueChanged.connect(lambda v, k=k: self._call(self.session.set_param, k, v))
                box.layout().addWidget(hs)
                hs.labelWidthChanged.connect(self._align)
                self.param_sliders.append(hs)
        self._retranslate_params()
        self._align()

    def _retranslate_params(self) -> None:
        """The texts that name the model's parameters, in the UI language."""
        names = self._names or []
        for key in ("map_x", "map_y"):
            combo = self.controls.get(key)
            if combo is not None and len(names) <= MAX_TIPPED:
                for k, name in enumerate(names[: combo.count()]):
                    combo.setItemData(k, _param_help(name), Qt.ItemDataRole.ToolTipRole)
        title = self.controls.get("hand_title")
        if title is not None:
            title.setText(tr("fit_by_hand") if self._by_hand else tr("loss_now"))
        note = self.controls.get("hand_note")
        if note is not None and not self._by_hand:
            note.setText(tr("too_many_params", n=len(names), m=MAX_HAND_PARAMS))
        for hs in self.param_sliders:
            hs.setToolTip(tr("tip_hand", help=_param_help(hs.label.text())))

    # ================================================================== widget -> session
    def _call(self, fn, *args, **kw) -> bool:
        """Call a session method; show its error inline (and re-show the session's state)
        when it refuses, clear the error line when it accepts."""
        self._captured = []
        self._applying += 1
        try:
            with self.two_turns():
                ok = bool(fn(*args, **kw))
        finally:
            self._applying -= 1
        if ok:
            self.show_error("")
        else:
            self.show_error(self._captured[-1] if self._captured else tr("session_refused"))
            self._sync_all()
        return ok

    def _set_data(self, **changes) -> bool:
        """The session's data with ``changes``: validated and installed by the session."""
        return self._call(self.session.update_data, **changes)

    def new_data(self) -> bool:
        """Draw new noisy points: the data's next seed."""
        data = self.session.data
        return self._set_data(seed=int(data.seed) + 1) if data is not None else False

    def use_generated_data(self) -> bool:
        """Forget loaded points and sample the data again."""
        if self.session.kind == "fit":
            return self._set_data(points_data=None, source="")
        return self._set_data(points=None, source="")

    def apply_expression(self, text: str | None = None) -> bool:
        """Use the custom target f(x) ``text`` (default: the box's text). A bad expression
        shows its one-line error (e.g. ``unknown name 'z' at column 5``); the old target stays."""
        expr = self.controls.get("expr")
        if text is None:
            text = expr.text() if expr is not None else ""
        elif expr is not None:
            expr.setText(text)
        text = text.strip()
        if not text or self.session.kind != "fit":
            return False
        ok = self._set_data(target_expr=text)
        if expr is not None:
            expr.setProperty(REJECTED, not ok)  # Enter keeps the focus on a typo
        return ok

    def open_csv_dialog(self) -> bool:
        """Ask for a file and load it (see :meth:`load_csv`)."""
        path, _ = QFileDialog.getOpenFileName(self, tr("csv_dialog_title"), "", tr("csv_filter"))
        return self.load_csv(path) if path else False

    def load_csv(self, path) -> bool:
        """Install the points of the text file ``path`` (two columns x, y) as the data.

        A bad file shows the reader's one-line message naming the line (``data.csv line 7:
        expected 2 numbers, got 'abc,1'``) and the current data stays."""
        from gdviz.core.data import load_csv

        s = self.session
        if not s.is_data:
            self.show_error(tr("pick_data_first"))
            return False
        try:
            x, y = load_csv(path)
        except ValueError as exc:
            self.show_error(_first_line(exc))
            return False
        points = tuple(zip(x.tolist(), y.tolist()))
        name = Path(path).name
        if s.kind == "fit":
            return self._set_data(points_data=points, source=name)
        return self._set_data(points=points, source=name)

    def set_weight_decay(self, value: float) -> bool:
        """Weight decay ``value`` on every run (live, from the current step: one change)."""
        return self._call(self.session.update_runs, weight_decay=float(value))

    def _on_target_picked(self, index: int) -> None:
        name = self.controls["target"].itemData(index)
        if name is None:  # "Custom f(x)…": the teacher types next
            expr = self.controls["expr"]
            expr.setFocus()
            if expr.text().strip():
                self.apply_expression()
            return
        self._set_data(target=name, target_expr="")

    def _on_loss_picked(self, index: int) -> None:
        self._set_data(loss=self.controls["loss"].itemData(index))

    def _on_model_picked(self, index: int) -> None:
        name = self.controls["model"].itemData(index)
        if name == "network" and self.session.data is not None and self.session.data.units > 32:
            # the units slider may stand above a network's 32 per layer: start it at 8
            self._set_data(model=name, units=8)
            return
        self._set_data(model=name)

    def _on_activation_picked(self, index: int) -> None:
        self._set_data(activation=self.controls["activation"].itemData(index))

    def _on_map_picked(self, axis: int, index: int) -> None:
        s = self.session
        new = int(self.controls["map_x" if axis == 0 else "map_y"].itemData(index))
        i, j = s.linked
        if axis == 0:
            i, j = new, (i if j == new else j)  # picking the other axis' parameter swaps them
        else:
            i, j = (j if i == new else i), new
        self._call(s.set_linked, i, j)

    # ================================================================== session -> widget
    def _on_error(self, msg: str) -> None:
        if self._applying:
            self._captured.append(_first_line(msg))

    def show_error(self, msg: str) -> None:
        """Show ``msg`` (one line) in red at the top of the panel; "" hides it."""
        msg = _first_line(msg) if msg else ""
        self.error.setText(msg)
        self.error.setVisible(bool(msg))

    def error_text(self) -> str:
        """The error line shown now ("" when none)."""
        return "" if self.error.isHidden() else self.error.text()

    def _on_problem_changed(self, *_) -> None:
        s = self.session
        kind = s.kind if s.is_data and s.kind != "classify" else None
        if kind != self.kind or self._page is None:
            self._rebuild()
        self._sync_all()

    def _on_runs_changed(self, *_) -> None:
        if self.kind is not None:
            self._sync_weight_decay()
            self._sync_params_later()

    def _on_settings_changed(self, *_) -> None:
        if self.kind is not None:
            self._sync_options()

    def _on_stepped(self, *_) -> None:
        if self.kind is not None:
            self._sync_params_later()

    def _sync_params_later(self) -> None:
        """:meth:`_sync_params` once the session's change has settled (a new problem sends
        problem, runs and stepped: each wrote the sliders and computed the loss)"""
        later(self.session, self._sync_params)

    def _sync_all(self) -> None:
        if self.kind is None or self.session.kind != self.kind:
            return
        self._sync_data()
        self._sync_options()
        self._sync_weight_decay()
        self._sync_params_later()

    def _set_combo(self, key: str, data) -> None:
        combo = self.controls.get(key)
        if combo is None:
            return
        with QSignalBlocker(combo):
            idx = combo.findData(data)
            if idx >= 0:
                combo.setCurrentIndex(idx)

    def _sync_data(self) -> None:
        s = self.session
        data = s.data
        c = self.controls
        fit = self.kind == "fit"
        loaded = (data.points_data if fit else data.points) is not None
        n = data.points if fit else data.n
        c["n_points"].setValue(float(n))
        c["noise"].setValue(float(data.noise))
        for key in ("n_points", "noise"):
            c[key].setEnabled(not loaded)
            c[key].setToolTip(tr("tip_loaded_fixed") if loaded else "")
        with QSignalBlocker(c["seed"]):
            c["seed"].setValue(int(min(data.seed, c["seed"].maximum())))
        self._set_combo("loss", data.loss)
        n_points = len(data.points_data if fit else data.points) if loaded else n
        c["source"].setText(tr("source_loaded", name=data.source or tr("a_file"), n=n_points)
                            if loaded else tr("source_generated", n=n_points))
        c["generated"].setVisible(loaded)
        names = list(s.all_param_names)
        if names != self._names:
            self._rebuild_params(names)
        elif self._ranges_key != self._hand_key():
            for hs, (lo, hi) in zip(self.param_sliders, self._hand_ranges() or [], strict=False):
                hs.set_range(lo, hi)
        if not fit:
            return
        c["val_split"].setValue(round(100.0 * data.val_fraction))
        custom = bool(data.target_expr.strip())
        self._set_combo("target", None if custom else data.target)
        c["target"].setEnabled(not loaded)
        c["expr"].setEnabled(not loaded)
        if data.target_expr != self._shown_expr:
            # only when the session's expression changed: a refused one stays in the box
            self._shown_expr = data.target_expr
            if not c["expr"].hasFocus() or custom:
                c["expr"].setText(data.target_expr)
        self._set_combo("model", data.model)
        units_model = s.problem.model.kind == "units"
        network = s.problem.model.kind == "network"
        self._place_hand(not (units_model or network))
        c["units"].set_range(1, 32 if network else 50)
        c["units"].setValue(float(data.units))
        c["units"].setVisible(units_model or network)
        c["show_units"].setVisible(units_model or network)
        c["layers"].setValue(float(data.layers))
        self._set_combo("activation", data.activation)
        for key in ("layers", "activation", "activation_label"):
            c[key].setVisible(network)
        i, j = s.linked
        self._set_combo("map_x", i)
        self._set_combo("map_y", j)

    def _sync_options(self) -> None:
        s = self.session
        for key, flag in (("batch_surface", s.batch_surface), ("show_units", s.show_units)):
            cb = self.controls.get(key)
            if cb is not None:
                with QSignalBlocker(cb):
                    cb.setChecked(bool(flag))

    def _sync_weight_decay(self) -> None:
        wd = self.controls.get("weight_decay")
        if wd is None:
            return
        values = [float(spec.config.weight_decay) for spec in self.session.specs]
        wd.setValue(values[0])
        tip = tr("tip_wd")
        if len(set(values)) > 1:
            tip += tr("tip_wd_differ", values=", ".join(f"{v:g}" for v in values))
        wd.setToolTip(tip)

    def _hand_key(self) -> tuple:
        s = self.session
        return (s.data, s.view, tuple(s.linked))

    def _hand_ranges(self) -> list[tuple[float, float]] | None:
        """:func:`hand_ranges` for the data now (None when it cannot be worked out)."""
        self._ranges_key = self._hand_key()
        try:
            return hand_ranges(self.session)
        except (ValueError, IndexError, np.linalg.LinAlgError):
            return None

    def _params_now(self) -> np.ndarray | None:
        s = self.session
        if not s.is_data:
            return None
        p = np.asarray(s.params_now(), dtype=np.float64)
        if not np.isfinite(p).all():
            p = np.asarray(s.starts[0], dtype=np.float64)
        return p

    def _sync_params(self) -> None:
        """Fit-by-hand sliders and the live loss (once per frame)."""
        s = self.session
        if self.kind is None or s.kind != self.kind:
            return
        p = self._params_now()
        if p is None:
            return
        for hs in self.param_sliders:
            if hs.k < len(p):
                hs.show_value(float(p[hs.k]))
        c = self.controls
        loss_name = s.problem.loss_kind.upper()
        c["loss_caption"].setText(tr("loss_caption", loss=loss_name) if s.n_runs == 1 else
                                  tr("loss_caption_of", loss=loss_name,
                                     run=s.run_label(s.reference_run())))
        with np.errstate(all="ignore"):
            loss = float(s.problem.loss(p[None, :])[0])
        c["loss_value"].setText(f"{loss:.4g}" if math.isfinite(loss) else tr("diverged"))
        if s.has_validation:
            with np.errstate(all="ignore"):
                val = float(s.problem.val_loss(p[None, :])[0])
            c["val_loss_value"].setText(tr("val_loss_value", v=f"{val:.4g}"))
            c["val_loss_value"].show()
        else:
            c["val_loss_value"].hide()

    # ================================================================== theme & teardown
    def changeEvent(self, ev) -> None:  # noqa: N802 - Qt name
        t = ev.type()
        if t in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange,
                 QEvent.Type.FontChange, QEvent.Type.ApplicationFontChange):
            self._restyle()
        elif t == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(ev)

    def _restyle(self) -> None:
        pal = theme.palette(theme.current())
        sheet = f"color: {pal['diverged']}; font-weight: bold;"
        if self.error.styleSheet() != sheet:  # a style sheet change is a palette change
            self.error.setStyleSheet(sheet)
        # check boxes get their projector outline from the controls panel's style sheet,
        # which reaches every widget inside it (a sheet of our own froze our text colour
        # when the theme changed)
        self._style_loss_label()

    def _style_loss_label(self) -> None:
        for key, size in (("loss_value", theme.TABLE_PT * 1.6), ("val_loss_value", theme.LABEL_PT)):
            label = self.controls.get(key)
            if label is not None:
                font = theme.font(size, bold=True)
                if label.font() != font:
                    label.setFont(font)

    def close(self) -> bool:
        """Stop observing the session, then close."""
        self.disconnect_session()
        return super().close()

    def disconnect_session(self) -> None:
        """Stop following the session (the panel keeps its widgets)."""
        self._connections = disconnect_all(getattr(self, "_connections", []))
        forget(self)
