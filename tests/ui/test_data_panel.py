"""The data panel drives the session on data problems, and follows it without echoes."""

from __future__ import annotations

import numpy as np
import pytest
from spy import Spy
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractSlider, QComboBox, QLineEdit, QSpinBox

from gdviz.core.optimizers import make_optimizer
from gdviz.core.problems import FitData, RegressionData
from gdviz.core.session import RunSpec, Session
from gdviz.ui.panels.data_panel import CUSTOM_TARGET, DataPanel, ParamSlider, WeightDecaySlider


@pytest.fixture
def sess() -> Session:
    s = Session()
    assert s.set_fit(FitData(target="piecewise", model="sigmoid", units=3))
    return s


@pytest.fixture
def panel(qtbot, sess) -> DataPanel:
    p = DataPanel(sess)
    qtbot.addWidget(p)
    p.resize(440, 900)
    p.show()
    return p




def _pick(combo: QComboBox, data) -> None:
    """Choose the entry with ``data`` as a user does (``activated`` fires)."""
    idx = combo.findData(data)
    assert idx >= 0, data
    combo.setCurrentIndex(idx)
    combo.activated.emit(idx)


def _drag(hs, value: float) -> None:
    """Move a HyperSlider's slider to ``value`` as a drag does (the slider emits)."""
    hs.slider.setValue(hs._to_slider(value))


def _type(hs, text: str) -> None:
    """Type ``text`` into a HyperSlider's entry and press Enter."""
    hs.entry.setText(text)
    hs.entry.editingFinished.emit()


def _write_csv(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------- building
def test_builds_the_controls_of_the_current_kind(panel, sess):
    assert panel.kind == "fit"
    for key in ("target", "expr", "n_points", "noise", "val_split", "seed", "loss", "model",
                "units", "show_units", "weight_decay", "map_x", "map_y", "load_csv"):
        assert key in panel.controls, key
    assert "batch_surface" not in panel.controls
    assert sess.set_regression(RegressionData())
    assert panel.kind == "regression"
    assert "batch_surface" in panel.controls and "model" not in panel.controls
    assert [hs.label.text() for hs in panel.param_sliders] == ["w", "b"]
    sess.set_surface("himmelblau")
    assert panel.kind is None and panel.controls == {}
    assert sess.set_fit(FitData(model="quadratic"))
    assert panel.kind == "fit" and [hs.k for hs in panel.param_sliders] == [0, 1, 2]


def test_widgets_show_the_sessions_data(panel, sess):
    c = panel.controls
    assert c["target"].currentData() == "piecewise"
    assert c["model"].currentData() == "sigmoid"
    assert c["units"].value() == 3
    assert c["val_split"].value() == 15  # the default 85/15 split
    assert c["n_points"].value() == 50
    assert c["loss"].currentData() == "mse"
    assert (c["map_x"].currentData(), c["map_y"].currentData()) == sess.linked
    assert c["source"].text() == "generated: 50 noisy points"


def test_rebuilding_within_a_kind_keeps_the_widgets(panel, sess):
    units = panel.controls["units"]
    _drag(units, 7)
    assert sess.data.units == 7
    assert panel.controls["units"] is units  # a dragged slider survives the change



def test_a_kind_met_again_gets_its_controls_back_in_step_with_the_session(panel, sess):
    """A lesson switch to a landscape and back to a fit puts the fit's controls away and
    shows them again (not built anew: ~35 ms of the switch), set to the new problem, in the
    language of the moment, and driving the session."""
    from gdviz.core.i18n import set_language

    page, units = panel._page, panel.controls["units"]
    sess.set_expression("x^2 + y^2")
    assert panel.kind is None and page.isHidden()
    set_language("zh-Hant")
    try:
        assert sess.set_fit(FitData(target="sine", model="relu", units=9, points=40))
        assert panel._page is page and panel.controls["units"] is units and not page.isHidden()
        assert units.value() == 9 and panel.controls["n_points"].value() == 40
        assert panel.controls["model"].currentData() == "relu"
        assert panel.controls["units"].label.text() != "units K"  # (its Chinese name)
        _drag(units, 5)
        assert sess.data.units == 5
    finally:
        set_language("en")
    # a regression's page is its own, and the fit's stays put away meanwhile
    assert sess.set_regression(RegressionData())
    assert panel._page is not page and "units" not in panel.controls
    assert sess.set_fit(FitData())
    assert panel._page is page

def test_a_page_built_ahead_is_the_one_its_kind_shows_in_step_with_the_session(qtbot):
    """An idle turn builds the fit's page ahead (~25 ms of the first fit lesson's click):
    the fit then shows that page, its texts in the language of the moment, its controls
    set to the problem and driving the session; the page of the moment is untouched."""
    from gdviz.core.i18n import set_language

    s = Session()
    s.set_expression("x^2 + y^2")
    p = DataPanel(s)
    qtbot.addWidget(p)
    p.show()
    assert p.kind is None and p.controls == {}
    assert p.build_ahead("fit") and not p.build_ahead("fit")  # once
    assert p.kind is None and p.controls == {} and p._page is not None
    page = p._pages["fit"][0]
    assert page.isHidden() and page.parent() is p
    set_language("zh-Hant")
    try:
        assert s.set_fit(FitData(target="sine", model="relu", units=9, points=40))
        assert p._page is page and not page.isHidden()
        units = p.controls["units"]
        assert units.value() == 9 and p.controls["n_points"].value() == 40
        assert p.controls["model"].currentData() == "relu"
        assert units.label.text() != "units K"  # (its Chinese name)
        _drag(units, 5)
        assert s.data.units == 5
    finally:
        set_language("en")
    assert not p.build_ahead("fit")  # showing


# ------------------------------------------------------------------------- fit controls
def test_units_slider_sets_K_and_shows_only_for_unit_models(panel, sess):
    _drag(panel.controls["units"], 12)
    assert sess.data.units == 12 and sess.problem.model.K == 12
    _type(panel.controls["units"], "1")
    assert sess.data.units == 1
    _pick(panel.controls["model"], "quadratic")
    assert sess.data.model == "quadratic" and sess.all_param_names == ["a", "b", "c"]
    assert panel.controls["units"].isHidden() and panel.controls["show_units"].isHidden()
    _pick(panel.controls["model"], "relu")
    assert sess.data.model == "relu" and not panel.controls["units"].isHidden()


def test_validation_split_and_loss_and_points(panel, sess):
    _type(panel.controls["val_split"], "30")
    assert sess.data.val_fraction == pytest.approx(0.30)
    assert sess.problem.dataset.n_val == 15
    _drag(panel.controls["val_split"], 0)
    assert sess.data.val_fraction == 0.0 and not sess.has_validation
    _pick(panel.controls["loss"], "mae")
    assert sess.data.loss == "mae" and sess.problem.loss_kind == "mae"
    _type(panel.controls["n_points"], "20")
    assert sess.data.points == 20
    _type(panel.controls["noise"], "0.3")
    assert sess.data.noise == pytest.approx(0.3)


def test_new_data_draws_the_next_seed(panel, sess):
    y_before = sess.problem.y.copy()
    panel.controls["new_data"].click()
    assert sess.data.seed == 1 and panel.controls["seed"].value() == 1
    assert not np.array_equal(sess.problem.y, y_before)
    panel.controls["seed"].setValue(5)
    assert sess.data.seed == 5


def test_show_units_checkbox(panel, sess):
    panel.controls["show_units"].setChecked(True)
    assert sess.show_units is True
    panel.controls["show_units"].setChecked(False)
    assert sess.show_units is False


def test_weight_decay_applies_to_every_run(panel, sess):
    assert sess.n_specs == 4
    wd = panel.controls["weight_decay"]
    assert isinstance(wd, WeightDecaySlider)
    _type(wd, "0.01")
    assert [spec.config.weight_decay for spec in sess.specs] == [0.01] * 4
    _drag(wd, 0.1)
    assert all(spec.config.weight_decay == pytest.approx(0.1) for spec in sess.specs)
    _drag(wd, 0.0)  # the left end is exactly 0
    assert [spec.config.weight_decay for spec in sess.specs] == [0.0] * 4
    # the slider is log-ish: 0.001 and 0.01 are far apart, not squeezed at the left end
    assert wd._to_slider(0.01) - wd._to_slider(0.001) > 0.15


def test_map_combos_set_the_linked_parameters(panel, sess):
    names = sess.all_param_names
    _pick(panel.controls["map_x"], names.index("w1"))
    assert sess.linked == (names.index("w1"), names.index("c2"))
    _pick(panel.controls["map_y"], names.index("b2"))
    assert sess.linked == (names.index("w1"), names.index("b2"))
    # picking the other axis' parameter swaps the two instead of failing
    _pick(panel.controls["map_y"], names.index("w1"))
    assert sess.linked == (names.index("b2"), names.index("w1"))
    assert panel.controls["map_x"].currentData() == names.index("b2")
    assert panel.error_text() == ""


def test_fit_by_hand_sliders_restart_from_the_value(panel, sess):
    assert sess.set_fit(FitData(target="quadratic", model="quadratic", points=20, loss="mae"))
    sess.step(10)
    sess.play()
    sliders = panel.param_sliders
    assert [hs.label.text() for hs in sliders] == ["a", "b", "c"]
    assert all(isinstance(hs, ParamSlider) for hs in sliders)
    _drag(sliders[0], 3.0)
    assert sess.starts[0][0] == pytest.approx(3.0)
    assert sess.t == 0 and not sess.playing
    _type(sliders[2], "1")
    assert sess.starts[0] == pytest.approx((3.0, sess.starts[0][1], 1.0))
    # the big label shows the training loss at those parameters, live
    loss = float(sess.problem.loss(np.asarray(sess.starts[0])[None, :])[0])
    assert panel.controls["loss_value"].text() == f"{loss:.4g}"
    assert "MAE" in panel.controls["loss_caption"].text()
    # a value outside ±10 widens the slider instead of being clipped
    _type(sliders[1], "25")
    assert sess.starts[0][1] == pytest.approx(25.0) and sliders[1].hi >= 25


def test_fit_by_hand_sliders_follow_training(panel, sess):
    assert sess.set_fit(FitData(target="quadratic", model="quadratic"))
    sess.step(30)
    p = sess.params_now()
    for hs in panel.param_sliders:
        assert hs.value() == pytest.approx(p[hs.k])
    loss = float(sess.problem.loss(p[None, :])[0])
    assert panel.controls["loss_value"].text() == f"{loss:.4g}"


def test_too_many_parameters_for_fit_by_hand(panel, sess):
    assert sess.n_params == 10
    assert panel.param_sliders == []
    assert not panel.controls["hand_note"].isHidden()
    assert panel.controls["hand_title"].text() == "Loss now"
    _drag(panel.controls["units"], 1)  # 4 parameters: c0, w1, b1, c1
    assert [hs.label.text() for hs in panel.param_sliders] == ["c0", "w1", "b1", "c1"]
    assert panel.controls["hand_note"].isHidden()
    assert panel.controls["hand_title"].text() == "Fit by hand"


# ------------------------------------------------------------------------- errors
def test_bad_expression_shows_the_column_and_keeps_the_target(panel, sess):
    before = sess.data
    assert not panel.apply_expression("sin(x) + z")
    assert "unknown name 'z' at column 10" in panel.error_text()
    assert sess.data is before and sess.data.target == "piecewise"
    assert panel.controls["target"].currentData() == "piecewise"
    assert panel.controls["expr"].text() == "sin(x) + z"  # left for the teacher to fix
    # a good expression replaces the target and clears the error
    assert panel.apply_expression("sin(3*x)")
    assert sess.data.target_expr == "sin(3*x)" and panel.error_text() == ""
    assert panel.controls["target"].currentText() == CUSTOM_TARGET


def test_error_from_the_session_shows_inline(panel, sess):
    # parses, but is not finite at the sampled x < 0: the session refuses it
    before = sess.data
    assert not panel.apply_expression("sqrt(x)")
    assert panel.error_text().startswith("target 'sqrt(x)' is not finite at x = ")
    assert sess.data is before
    assert not panel.error.isHidden()


def test_bad_csv_names_the_line_and_keeps_the_data(panel, sess, tmp_path):
    path = _write_csv(tmp_path, "data.csv", "x,y\n0,1\n1,3\n2,5\n3,7\n4,9\nabc,1\n")
    before = sess.data
    assert not panel.load_csv(path)
    assert panel.error_text() == "data.csv line 7: expected 2 numbers, got 'abc,1'"
    assert sess.data is before
    ok = _write_csv(tmp_path, "good.csv", "# x y\n0 1\n1 3\n2 5\n3 7\n")
    assert panel.load_csv(ok)
    assert sess.data.points_data == ((0.0, 1.0), (1.0, 3.0), (2.0, 5.0), (3.0, 7.0))
    assert sess.data.source == "good.csv" and panel.error_text() == ""
    assert panel.controls["source"].text() == "loaded: good.csv (4 points)"
    assert not panel.controls["n_points"].isEnabled()
    panel.controls["generated"].click()
    assert sess.data.points_data is None and panel.controls["n_points"].isEnabled()


def test_regression_csv_and_options(panel, sess, tmp_path):
    assert sess.set_regression(RegressionData())
    path = _write_csv(tmp_path, "pts.txt", "1;2\n2;4.5\n3;5.5\n")
    assert panel.load_csv(path)
    assert sess.kind == "regression" and sess.data.points == ((1.0, 2.0), (2.0, 4.5), (3.0, 5.5))
    assert sess.data.source == "pts.txt"
    panel.controls["batch_surface"].setChecked(True)
    assert sess.batch_surface is True
    _pick(panel.controls["loss"], "mae")
    assert sess.data.loss == "mae"
    _drag(panel.param_sliders[0], 2.0)  # w
    assert sess.starts[0][0] == pytest.approx(2.0)


def test_a_refused_value_puts_the_widget_back(panel, sess, monkeypatch):
    monkeypatch.setattr(sess, "set_fit", lambda *a, **k: sess._fail("no, not now"))
    _drag(panel.controls["units"], 9)
    assert panel.error_text() == "no, not now"
    assert panel.controls["units"].value() == 3 and sess.data.units == 3


# ------------------------------------------------------------------------- no echoes
def test_session_changes_update_widgets_without_feedback(panel, sess, monkeypatch):
    spies = [Spy(monkeypatch, sess, name) for name in
             ("set_fit", "set_regression", "set_view_options", "update_run", "set_linked",
              "set_param", "update_data", "update_runs")]
    set_fit, _, view_opts, update_run, set_linked, _, _, _ = (sp.orig for sp in spies)
    set_fit(FitData(target="sine", model="hard-sigmoid", units=6, points=30,
                    val_fraction=0.2, loss="mae", seed=4))
    c = panel.controls
    assert c["target"].currentData() == "sine" and c["model"].currentData() == "hard-sigmoid"
    assert c["units"].value() == 6 and c["n_points"].value() == 30
    assert c["val_split"].value() == 20 and c["loss"].currentData() == "mae"
    assert c["seed"].value() == 4
    view_opts(show_units=True)
    assert c["show_units"].isChecked()
    for i in range(sess.n_specs):
        update_run(i, weight_decay=0.05)
    assert c["weight_decay"].value() == pytest.approx(0.05)
    set_linked(0, 1)
    assert (c["map_x"].currentData(), c["map_y"].currentData()) == (0, 1)
    set_fit(FitData(model="linear"))
    sess.step(20)
    assert [hs.value() for hs in panel.param_sliders] == pytest.approx(list(sess.params_now()))
    assert all(sp.calls == [] for sp in spies), [(sp.orig.__name__, sp.calls) for sp in spies]
    assert panel.error_text() == ""


# ------------------------------------------------------------------------- keyboard
def test_sliders_never_take_the_keyboard_focus(panel, sess):
    for kind in ("fit", "regression"):
        if kind == "regression":
            assert sess.set_regression(RegressionData())
        else:
            assert sess.set_fit(FitData(model="quadratic"))
        sliders = panel.findChildren(QAbstractSlider)
        assert sliders and all(w.focusPolicy() == Qt.FocusPolicy.NoFocus for w in sliders)
        edits = [w for w in panel.findChildren(QLineEdit) if not isinstance(w.parent(), QSpinBox)
                 and not isinstance(w.parent(), QComboBox)]
        assert edits and all(w.focusPolicy() == Qt.FocusPolicy.ClickFocus for w in edits)
        for w in panel.findChildren(QComboBox) + panel.findChildren(QSpinBox):
            assert w.focusPolicy() == Qt.FocusPolicy.ClickFocus


def test_several_runs_name_the_one_the_loss_is_of(qtbot):
    s = Session(specs=[RunSpec(config=make_optimizer("adam", lr=0.01))])
    assert s.set_fit(FitData(model="linear"))
    p = DataPanel(s)
    qtbot.addWidget(p)
    assert p.controls["loss_caption"].text() == "training loss (MSE)"
    s.add_run(RunSpec(config=make_optimizer("sgd", lr=0.01)))
    assert p.controls["loss_caption"].text() == f"training loss (MSE), {s.run_label(0)}"


def test_close_stops_following_the_session(panel, sess):
    panel.close()
    sess.set_regression(RegressionData())
    assert panel.kind == "fit"  # not rebuilt: it no longer listens
