"""Side controls of a classification: the two-class data (set, points, noise, split, seed,
a CSV) and the network (hidden layers, units, activation), and the map's two parameters.

Shown by the controls panel on the "classify" kind only. Every write goes through
``session.update_data`` / ``session.set_linked``; a refused value shows its one-line
message inline in red while the session keeps its old state. Updates from the session
set the widgets with their signals blocked, so nothing echoes back.
"""

from __future__ import annotations

import contextlib

from pathlib import Path

from PySide6.QtCore import QEvent, QSignalBlocker, Qt
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from gdviz.core.classifier import ACTIVATIONS
from gdviz.core.classify import DATASETS
from gdviz.core.i18n import tr
from gdviz.core.limits import MAX_CLASSIFY_NOISE, MAX_NET_LAYERS, MAX_NET_UNITS
from gdviz.ui.views.items import connect_all, disconnect_all
from gdviz.ui.widgets import HyperSlider, fill_param_combo, section

#: the points slider's range (the data's own limit is higher: a CSV may bring more)
POINTS_RANGE = (10, 2000)


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


class ClassifyPanel(QWidget):
    """Controls of the "classify" kind. ``controls`` (name -> widget) for tests;
    :meth:`load_csv`, :meth:`use_generated_data`, :meth:`error_text`."""

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("classifyPanel")
        self.session = session
        #: around a change the user makes here: the window's MainWindow.two_turns (the
        #: views refresh in the next turn); alone, one turn
        self.two_turns = contextlib.nullcontext
        self.controls: dict[str, QWidget] = {}
        self._texts: list = []
        self._captured: list[str] = []
        self._applying = 0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.error = QLabel()
        self.error.setObjectName("classifyError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #e0523f; font-weight: bold;")
        self.error.hide()
        lay.addWidget(self.error)

        # --- the data ------------------------------------------------------------------
        lay.addWidget(self._section("classify_data_section"))
        ds = self._combo("dataset", [(n, f"dataset_{n}") for n in DATASETS],
                         lambda i: self._set(dataset=self.controls["dataset"].itemData(i)))
        lay.addLayout(self._row("classify_dataset", ds))
        source = QLabel()
        source.setWordWrap(True)
        self.controls["source"] = source
        lay.addWidget(source)
        load = self._button("load_csv", "load_csv", "tip_classify_csv", self.open_csv_dialog)
        gen = self._button("generated", "use_generated", "tip_use_generated",
                           self.use_generated_data)
        lay.addLayout(self._row("", load, gen))
        for hs in (
            self._slider("n_points", "points_n", *POINTS_RANGE,
                         lambda v: self._set(points=int(v)), log=True, integer=True),
            self._slider("noise", "noise", 0.0, MAX_CLASSIFY_NOISE,
                         lambda v: self._set(noise=float(v))),
            self._slider("val_split", "validation_pct", 0, 50,
                         lambda v: self._set(val_fraction=float(v) / 100.0), integer=True),
        ):
            lay.addWidget(hs)
        seed = QSpinBox()
        seed.setRange(0, 2**31 - 1)
        seed.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        seed.valueChanged.connect(lambda v: self._set(seed=int(v)))
        self.controls["seed"] = seed
        new = self._button("new_data", "new_data", "tip_new_data",
                           lambda: self._set(seed=int(self.session.data.seed) + 1))
        lay.addLayout(self._row("data_seed", seed, new))

        # --- the network -----------------------------------------------------------------
        lay.addWidget(self._section("classify_network"))
        layers = self._spin("layers", 0, MAX_NET_LAYERS, lambda v: self._set(layers=int(v)))
        units = self._spin("units", 1, MAX_NET_UNITS, lambda v: self._set(units=int(v)))
        lay.addLayout(self._row("classify_layers", layers))
        lay.addLayout(self._row("classify_units", units))
        act = self._combo("activation", [(a, f"cls_act_{a}") for a in ACTIVATIONS],
                          lambda i: self._set(activation=self.controls["activation"].itemData(i)))
        lay.addLayout(self._row("classify_activation", act))
        shape = QLabel()
        shape.setWordWrap(True)
        self.controls["shape"] = shape
        lay.addWidget(shape)
        mx = self._combo("map_x", [], lambda i: self._on_map_picked(0, i))
        my = self._combo("map_y", [], lambda i: self._on_map_picked(1, i))
        lay.addLayout(self._row("map_shows", mx, self._label("vs"), my))
        self._names: list[str] | None = None

        s = session
        self._connections = connect_all([
            (s.problem_changed, self._sync),
            (s.error, self._on_error),
        ])
        self._sync()

    # ------------------------------------------------------------------ building
    def _text(self, apply) -> None:
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

    def _row(self, key: str, *widgets) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        if key:
            row.addWidget(self._label(key))
        for w in widgets:
            row.addWidget(w, 1)
        return row

    def _slider(self, name, key, lo, hi, slot, **kw) -> HyperSlider:
        hs = HyperSlider(name, tr(key), lo, hi, **kw)
        hs.entry.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        hs.valueChanged.connect(slot)
        self.controls[name] = hs
        self._text(lambda: hs.set_text(tr(key)))
        return hs

    def _spin(self, name, lo, hi, slot) -> QSpinBox:
        sp = QSpinBox()
        sp.setObjectName(f"{name}Spin")
        sp.setRange(lo, hi)
        sp.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        sp.valueChanged.connect(slot)
        self.controls[name] = sp
        return sp

    def _combo(self, name, items, slot) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(f"{name}Combo")
        combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        items = list(items)
        for data, _key in items:
            combo.addItem(str(data), data)

        def apply() -> None:
            for k, (data, key) in enumerate(items):
                combo.setItemText(k, tr(key, default=str(data)))

        if items:
            self._text(apply)
        combo.activated.connect(slot)
        self.controls[name] = combo
        return combo

    def _button(self, name, key, tip, slot) -> QPushButton:
        b = QPushButton()
        b.setObjectName(f"{name}Button")
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        b.clicked.connect(lambda _=False: slot())
        self._text(lambda: (b.setText(tr(key)), b.setToolTip(tr(tip))))
        self.controls[name] = b
        return b

    def retranslate(self) -> None:
        for apply in self._texts:
            apply()
        self._names = None
        self._sync()

    # ------------------------------------------------------------------ widget -> session
    def _set(self, **changes) -> bool:
        s = self.session
        if s.kind != "classify":
            return False
        self._captured.clear()
        self._applying += 1
        try:
            with self.two_turns():
                ok = bool(s.update_data(**changes))
        finally:
            self._applying -= 1
        self.show_error("" if ok else (self._captured[-1] if self._captured else ""))
        if not ok:
            self._sync()  # the widgets go back to the session's values
        return ok

    def open_csv_dialog(self) -> bool:
        path, _ = QFileDialog.getOpenFileName(self, tr("classify_csv_title"), "", tr("csv_filter"))
        return self.load_csv(path) if path else False

    def load_csv(self, path) -> bool:
        """Install the points of a CSV of x1, x2, label (0/1). A bad file shows the reader's
        one-line message (``pts.csv line 4: label must be 0 or 1, got '2'``) and the
        current data stays."""
        from gdviz.core.classify import load_class_csv

        try:
            X, y = load_class_csv(path)
        except ValueError as exc:
            self.show_error(_first_line(exc))
            return False
        pts = tuple((float(a), float(b), float(c)) for (a, b), c in zip(X.tolist(), y.tolist()))
        return self._set(points_data=pts, source=Path(path).name)

    def use_generated_data(self) -> bool:
        return self._set(points_data=None, source="")

    def _on_map_picked(self, axis: int, index: int) -> None:
        s = self.session
        new = int(self.controls["map_x" if axis == 0 else "map_y"].itemData(index))
        i0, j0 = s.linked
        if axis == 0:
            i, j = new, (i0 if new == j0 else j0)  # picking the other axis's: swap
        else:
            i, j = (j0 if new == i0 else i0), new
        self._captured.clear()
        self._applying += 1
        try:
            with self.two_turns():
                ok = bool(s.set_linked(i, j))
        finally:
            self._applying -= 1
        self.show_error("" if ok else (self._captured[-1] if self._captured else ""))
        self._sync()

    # ------------------------------------------------------------------ session -> widget
    def _on_error(self, msg: str) -> None:
        if self._applying:
            self._captured.append(str(msg))

    def show_error(self, msg: str) -> None:
        self.error.setText(msg)
        self.error.setVisible(bool(msg))

    def error_text(self) -> str:
        return "" if self.error.isHidden() else self.error.text()

    def _sync(self, *_) -> None:
        s = self.session
        if s.kind != "classify":
            return
        d = s.data
        c = self.controls
        loaded = d.points_data is not None
        for key, value in (("dataset", d.dataset), ("activation", d.activation)):
            combo = c[key]
            with QSignalBlocker(combo):
                combo.setCurrentIndex(max(0, combo.findData(value)))
        c["dataset"].setEnabled(not loaded)
        c["n_points"].setValue(float(d.points))
        c["noise"].setValue(float(d.noise))
        for key in ("n_points", "noise"):
            c[key].setEnabled(not loaded)
        c["val_split"].setValue(round(100.0 * d.val_fraction))
        for key, value in (("seed", min(d.seed, 2**31 - 1)), ("layers", d.layers),
                           ("units", d.units)):
            with QSignalBlocker(c[key]):
                c[key].setValue(int(value))
        c["units"].setEnabled(d.layers > 0)
        n = len(d.points_data) if loaded else d.points
        c["source"].setText(tr("source_loaded", name=d.source or tr("a_file"), n=n) if loaded
                            else tr("classify_generated", n=n))
        c["generated"].setVisible(loaded)
        m = s.problem.model
        c["shape"].setText(tr("classify_shape", shape=m.label, p=m.n_params))
        names = list(s.all_param_names)
        if names != self._names:
            self._names = names
            for key in ("map_x", "map_y"):
                fill_param_combo(c[key], names)
        i, j = s.linked
        for key, v in (("map_x", i), ("map_y", j)):
            combo = c[key]
            with QSignalBlocker(combo):
                combo.setCurrentIndex(max(0, combo.findData(v)))

    def changeEvent(self, ev) -> None:  # noqa: N802 - Qt name
        if ev.type() == QEvent.Type.LanguageChange and getattr(self, "_connections", None):
            self.retranslate()
        super().changeEvent(ev)

    def close(self) -> bool:
        disconnect_all(self._connections)
        self._connections = []
        return super().close()
