"""The control panels drive the session, and follow it without feedback loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
from spy import Spy
from PySide6.QtCore import Qt

from gdviz.core.optimizers import OPTIMIZERS
from gdviz.ui.panels.controls import ControlsPanel
from gdviz.ui.widgets import HyperSlider
from gdviz.ui.panels.runs_panel import FIELD_FLAGS, FIELD_RANGES


@pytest.fixture
def panel(qtbot, session):
    p = ControlsPanel(session)
    qtbot.addWidget(p)
    p.resize(440, 900)
    p.show()
    # (the runs panel makes a few cards a turn: PACE_CARDS)
    qtbot.waitUntil(lambda: len(p.runs.cards) == session.n_specs
                    and all(c.isVisible() for c in p.runs.cards))
    return p




# ------------------------------------------------------------------------- HyperSlider
def test_hyper_slider_log_scale_and_exact_entry(qtbot):
    hs = HyperSlider("lr", "lr", 1e-5, 10.0, log=True)
    qtbot.addWidget(hs)
    got = []
    hs.valueChanged.connect(got.append)
    hs.setValue(1e-3)
    assert got == []  # model -> widget never echoes
    assert hs.slider.value() == pytest.approx(-3.0)
    assert hs.entry.text() == "0.001"
    # the middle of the slider is the geometric middle of 1e-5 … 10
    hs.slider.setValue(-2.0)
    assert got[-1] == pytest.approx(1e-2)
    # exact entry, scientific notation accepted
    hs.entry.setText("3e-4")
    hs.entry.editingFinished.emit()
    assert got[-1] == pytest.approx(3e-4)
    assert hs.slider.value() == pytest.approx(math.log10(3e-4))


def test_hyper_slider_integer_log(qtbot):
    hs = HyperSlider("batch_size", "batch", 1, 256, log=True, integer=True)
    qtbot.addWidget(hs)
    got = []
    hs.valueChanged.connect(got.append)
    hs.slider.setValue(math.log10(32.4))
    assert got == [32.0]
    assert hs.entry.text() == "32"


# ------------------------------------------------------------------------- runs panel
def test_cards_show_only_the_fields_of_each_optimizer(panel, session):
    cards = panel.runs.cards
    assert len(cards) == len(session.specs)
    for card, spec in zip(cards, session.specs):
        fields = OPTIMIZERS[spec.config.name].fields
        expect = {f for f in fields if f in FIELD_RANGES}
        assert set(card.sliders) == expect
        assert set(card.flags) == {f for f in fields if f in FIELD_FLAGS}
        assert "lr" in card.sliders
        assert card.sliders["lr"].value() == pytest.approx(spec.config.lr)


def test_lr_slider_updates_the_session_live(panel, session):
    session.step(20)
    card = panel.runs.cards[3]
    card.sliders["lr"].slider.setValue(math.log10(0.02))
    assert session.specs[3].config.lr == pytest.approx(0.02)
    assert session.t == 20  # live: no reset
    # exact entry
    card.sliders["lr"].entry.setText("0.0123")
    card.sliders["lr"].entry.editingFinished.emit()
    assert session.specs[3].config.lr == pytest.approx(0.0123)


def test_session_change_updates_widgets_without_feedback(panel, session, monkeypatch):
    spy = Spy(monkeypatch, session, "update_run")
    session.update_run(0, lr=0.005)
    assert len(spy.calls) == 1  # only ours: the slider did not write back
    card = panel.runs.cards[0]
    assert card.sliders["lr"].value() == pytest.approx(0.005)
    assert card.sliders["lr"].entry.text() == "0.005"
    assert card.sliders["lr"].slider.value() == pytest.approx(math.log10(0.005))
    momentum_card = panel.runs.cards[1]
    session.update_run(1, momentum=0.5)
    assert momentum_card.sliders["momentum"].value() == pytest.approx(0.5)
    assert len(spy.calls) == 2


def test_refused_value_reverts_the_widget(panel, session, qtbot):
    card = panel.runs.cards[0]
    old = session.specs[0].config.lr
    with qtbot.waitSignal(session.error) as blocker:
        card._on_value_edited("lr", -1.0)
    assert "learning rate" in blocker.args[0]
    assert session.specs[0].config.lr == old
    assert card.sliders["lr"].value() == pytest.approx(old)


def test_more_folds_the_secondary_hyperparameters(panel, session):
    adam = panel.runs.cards[3]
    assert session.specs[3].config.name == "adam"
    assert adam.sliders["beta1"].isVisibleTo(panel)
    assert not adam.sliders["eps"].isVisibleTo(panel)
    assert not adam.flags["amsgrad"].isVisibleTo(panel)
    adam.more.click()
    assert adam.sliders["eps"].isVisibleTo(panel)
    adam.sliders["eps"].entry.setText("1e-6")
    adam.sliders["eps"].entry.editingFinished.emit()
    assert session.specs[3].config.eps == pytest.approx(1e-6)
    adam.flags["amsgrad"].click()
    assert session.specs[3].config.amsgrad is True


def test_enable_checkbox_and_title(panel, session):
    card = panel.runs.cards[0]
    card.enabled.click()
    assert session.specs[0].enabled is False
    assert card.title.text() == session.spec_label(0)
    session.update_run(0, enabled=True)
    assert card.enabled.isChecked()


def test_duplicate_add_and_remove_runs(panel, session):
    base = session.specs[0].config
    panel.runs.cards[0].dup_small.click()
    panel.runs.cards[0].dup_big.click()
    assert len(session.specs) == 6
    assert [s.config.name for s in session.specs[-2:]] == [base.name, base.name]
    assert session.specs[-2].config.lr == pytest.approx(base.lr * 0.1)
    assert session.specs[-1].config.lr == pytest.approx(base.lr * 10)
    assert len(panel.runs.cards) == 6
    # every card has its own colour swatch
    assert len(set(session.colors)) == 6
    # "Add run" menu: one entry per optimizer in the registry
    names = [a.data() for a in panel.runs.add_menu.actions()]
    assert names == list(OPTIMIZERS)
    panel.runs.add_menu.actions()[names.index("adamw")].trigger()
    assert session.specs[-1].config.name == "adamw"
    assert len(panel.runs.cards) == 7
    gone = panel.runs.cards[6]
    panel.runs.cards[6].remove.click()
    assert len(session.specs) == 6 and len(panel.runs.cards) == 6
    # a card gone leaves the panel at once, not at its deletion a turn later: the
    # controls' fit, in the same turn, walks only the cards there are
    from gdviz.ui.panels.runs_panel import RunCard

    assert gone.parent() is None and not gone.isVisible()
    assert panel.findChildren(RunCard) == panel.runs.cards


def test_dragging_a_slider_keeps_its_card(panel, session):
    # a value edit must not rebuild the cards (that would drop the slider under the mouse)
    card = panel.runs.cards[2]
    card.sliders["lr"].slider.setValue(-2.5)
    assert panel.runs.cards[2] is card


def test_same_lr_toggle(panel, session):
    runs = panel.runs
    assert not runs.shared_lr.isVisible()
    runs.same_lr.click()
    assert session.same_lr
    assert runs.shared_lr.isVisible()
    assert all(not c.sliders["lr"].isEnabled() for c in runs.cards)
    runs.shared_lr.slider.setValue(-2.0)
    assert session.shared_lr == pytest.approx(0.01)
    assert all(session.effective_config(i).lr == pytest.approx(0.01)
               for i in range(len(session.specs)))
    runs.same_lr.click()
    assert not session.same_lr
    assert all(c.sliders["lr"].isEnabled() for c in runs.cards)


def test_select_for_step_by_step(panel, session):
    card = panel.runs.cards[1]
    card.select.click()
    assert session.selected == 1
    card.select.click()  # again: step-by-step off
    assert session.selected == -1
    session.select(2)
    assert panel.runs.cards[2].select.isChecked()
    assert not panel.runs.cards[1].select.isChecked()


# ------------------------------------------------------------------------- problem panel
def test_surface_combo_sets_surface(panel, session, qtbot):
    combo = panel.problem.combo
    idx = combo.findData("himmelblau")
    assert idx >= 0
    with qtbot.waitSignal(session.problem_changed):
        combo.activated.emit(idx)
    assert session.landscape.name == "himmelblau"
    session.set_surface("beale")
    assert combo.currentData() == "beale"


def test_bad_expression_shows_error_and_keeps_surface(panel, session, qtbot):
    prob = panel.problem
    before = session.landscape
    qtbot.keyClicks(prob.expr, "x^2 + z")
    qtbot.keyClick(prob.expr, Qt.Key.Key_Return)
    assert prob.error.isVisibleTo(panel)
    assert "unknown name 'z'" in prob.error.text()
    assert "column 7" in prob.error.text()
    assert session.landscape is before
    assert prob.combo.currentData() == before.name
    # a good one replaces the surface and clears the error
    prob.expr.clear()
    qtbot.keyClicks(prob.expr, "x^2 + 10*y^2")
    qtbot.keyClick(prob.expr, Qt.Key.Key_Return)
    assert not prob.error.isVisibleTo(panel)
    assert session.landscape is not before
    assert session.landscape.sid < 0
    assert prob.combo.currentText() == "Custom…"


# ------------------------------------------------------------------------- training panel
def test_noise_batch_seed_drive_session(panel, session):
    tr = panel.training
    tr.noise.entry.setText("0.5")
    tr.noise.entry.editingFinished.emit()
    assert session.noise == pytest.approx(0.5)
    tr.batch.slider.setValue(math.log10(64))
    assert session.batch_size == 64
    tr.seed.setValue(7)
    assert session.seed == 7
    session.set_batch_size(8)
    assert tr.batch.value() == 8
    assert tr.batch.entry.text() == "8"


def test_schedule_picker_applies_to_all_runs_and_draws_curve(panel, session):
    tr = panel.training
    idx = tr.schedule.findData("one-cycle")
    assert idx >= 0
    tr.schedule.activated.emit(idx)
    assert all(s.schedule.kind == "one-cycle" for s in session.specs)
    x, y = tr.curve.curves[0].getData()
    assert x is not None and len(x) > 10
    assert x[-1] == pytest.approx(session.max_steps)
    # one-cycle goes up then down
    peak = int(np.argmax(y))
    assert 0 < peak < len(y) - 1
    assert y[peak] > y[0] and y[peak] > y[-1]
    session.step(30)
    assert tr.curve.marker.value() == pytest.approx(30)


# ------------------------------------------------------------------------- playback panel
def test_playback_buttons_and_timeline(panel, session):
    pb = panel.playback
    pb.step.click()
    pb.step.click()
    assert session.t == 2
    session.step(40)
    assert pb.timeline.maximum() == 42 and pb.timeline.value() == 42
    pb.timeline.setValue(10)  # scrub
    assert session.t == 10
    assert session.runset.t == 42
    pb.back.click()
    assert session.t == 9
    pb.play.click()
    assert session.playing
    assert pb.play.isChecked() and "Pause" in pb.play.text()
    pb.play.click()
    assert not session.playing and "Play" in pb.play.text()
    pb.reset.click()
    assert session.t == 0 and pb.timeline.value() == 0


def test_speed_and_max_steps(panel, session):
    pb = panel.playback
    pb.speed.slider.setValue(math.log10(2000))
    assert session.speed == pytest.approx(2000)
    pb.speed.slider.setValue(0.0)
    assert session.speed == pytest.approx(1)
    pb.max_steps.setValue(250)
    assert session.max_steps == 250
    session.set_speed(120)
    assert pb.speed.value() == 120


def test_problem_combo_offers_the_data_problems(panel, session, qtbot):
    combo = panel.problem.combo
    with qtbot.waitSignal(session.problem_changed):
        combo.activated.emit(combo.findData("@regression"))
    assert session.kind == "regression" and combo.currentData() == "@regression"
    assert not panel.problem.expr.isVisibleTo(panel)
    # on data the batch size is real: the slider spans the data, the noise is off
    tr = panel.training
    assert tr.batch.hi == session.n_train and not tr.noise.isEnabled()
    assert session.batch_size == session.n_train
    tr.batch.entry.setText("5")
    tr.batch.entry.editingFinished.emit()
    assert session.batch_size == 5
    with qtbot.waitSignal(session.problem_changed):
        combo.activated.emit(combo.findData("@fit"))
    assert session.kind == "fit" and combo.currentData() == "@fit"
    assert session.data.model == "sigmoid"
    # back to a surface and to the fit again: the fit's settings come back
    session.set_fit(session.data.__class__(**{**session.data.__dict__, "units": 7}))
    combo.activated.emit(combo.findData("rosenbrock"))
    assert session.kind == "surface" and tr.noise.isEnabled() and tr.batch.hi == 256
    combo.activated.emit(combo.findData("@fit"))
    assert session.data.units == 7


# ------------------------------------------------------------------------- schedule per run
def test_each_run_card_picks_its_own_schedule(panel, session):
    cards = panel.runs.cards
    builds = session.runset
    cards[1].schedule.activated.emit(cards[1].schedule.findData("one-cycle"))
    assert [s.schedule.kind for s in session.specs] == ["constant", "one-cycle", "constant",
                                                      "constant"]
    assert session.runset is not builds and session.t == 0  # one restart
    # every card shows its own run's schedule; the training panel the first run's
    assert [c.schedule.currentData() for c in panel.runs.cards] == [
        "constant", "one-cycle", "constant", "constant"]
    assert panel.training.schedule.currentData() == "constant"
    # picking the kind a run already has keeps its settings (a scene's pct_start)
    from gdviz.core.schedules import Schedule

    session.set_schedule(1, Schedule(kind="one-cycle", pct_start=0.4))
    card = panel.runs.cards[1]
    card.schedule.activated.emit(card.schedule.findData("one-cycle"))
    assert session.specs[1].schedule.pct_start == 0.4


def test_training_schedule_picker_follows_the_selected_run(panel, session):
    tr = panel.training
    session.select(2)
    tr.schedule.activated.emit(tr.schedule.findData("cosine"))
    assert [s.schedule.kind for s in session.specs] == ["constant", "constant", "cosine",
                                                      "constant"]
    assert tr.schedule.currentData() == "cosine"
    session.select(0)
    assert tr.schedule.currentData() == "constant"


def test_l12_cards_show_constant_and_one_cycle_and_round_trip(panel, session):
    from gdviz.core.scene import (apply_scene, dumps_scene, load_preset, loads_scene,
                                  scene_from_session)

    apply_scene(load_preset("L12"), session)
    assert [c.schedule.currentData() for c in panel.runs.cards] == ["constant", "one-cycle"]
    card = panel.runs.cards[0]
    card.schedule.activated.emit(card.schedule.findData("cosine"))
    kinds = [r.opt.schedule.kind for r in loads_scene(dumps_scene(scene_from_session(session))).runs]
    assert kinds == ["cosine", "one-cycle"]


def test_playback_counter_says_iteration_on_data_problems(panel, session):
    from gdviz.core.scene import apply_scene, load_preset

    session.step(2)
    assert panel.playback.counter.text() == "step 2 / 1000"
    apply_scene(load_preset("L06"), session)
    session.step(3)
    assert panel.playback.counter.text() == "iteration 3 / 600"  # as the status bar says it
    session.set_surface("rosenbrock")
    assert panel.playback.counter.text().startswith("step 0")


def test_the_panel_fits_its_width_once_per_burst_of_font_and_layout_events(qtbot, session,
                                                                        monkeypatch):
    """A text-size press reaches the panel as ~20 font and layout events; each queued its
    own width fit (a minimum size hint of every row, and a new minimum width)."""
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    fits = []
    real = ControlsPanel._fit_width
    monkeypatch.setattr(ControlsPanel, "_fit_width", lambda self: (fits.append(self), real(self)))
    p = ControlsPanel(session)
    qtbot.addWidget(p)
    p.show()
    QApplication.processEvents()
    fits.clear()
    for t in (QEvent.Type.FontChange, QEvent.Type.LayoutRequest) * 10:
        QApplication.sendEvent(p, QEvent(t))
    QApplication.processEvents()
    assert fits.count(p) == 1  # (this panel's: one of an earlier test may still be open)
    # and the fit still follows: a wider row widens the panel
    p.problem.setMinimumWidth(p.needed_width() + 100)
    QApplication.processEvents()
    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    QApplication.processEvents()
    assert p.minimumWidth() >= p.problem.minimumWidth()


def test_measure_anew_reaches_every_nested_row_at_once(qtbot):
    """A row nested two layouts deep that grew (a new text size) is measured anew by the
    whole panel in the same turn (the reflow measures, narrows, measures again), not when
    each layout next runs, an event later."""
    from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

    from gdviz.ui.widgets import measure_anew

    root = QWidget()
    qtbot.addWidget(root)
    outer = QVBoxLayout(root)
    panel = QWidget()
    outer.addWidget(panel)
    inner = QVBoxLayout(panel)
    row = QHBoxLayout()
    inner.addLayout(row)
    label = QLabel("lr")
    row.addWidget(label)
    root.show()
    qtbot.waitExposed(root)
    before = root.minimumSizeHint().width()
    label.setMinimumWidth(before + 300)
    assert root.minimumSizeHint().width() == before  # (Qt's cached hints: stale)
    measure_anew(root)
    assert root.minimumSizeHint().width() >= before + 300


def test_a_slider_keeps_its_size_hints_until_its_style_or_font_changes(qtbot):
    """Qt asks every slider for its hints at each layout pass; superqt's initStyleOption
    (Python) ran twice per ask. The hints are kept, and follow a new style or font."""
    from PySide6.QtWidgets import QStyleFactory
    from superqt import QDoubleSlider

    hs = HyperSlider("lr", "lr", 1e-5, 10.0, log=True)
    qtbot.addWidget(hs)
    hs.show()
    qtbot.waitExposed(hs)
    s = hs.slider
    hint, least = s.sizeHint(), s.minimumSizeHint()
    assert s.sizeHint() is hint and s.minimumSizeHint() is least  # kept, not asked anew
    style = QStyleFactory.create("Windows")
    fresh = QDoubleSlider(Qt.Orientation.Horizontal)
    qtbot.addWidget(fresh)
    for w in (s, fresh):
        w.setStyle(style)
    assert (s.sizeHint(), s.minimumSizeHint()) == (fresh.sizeHint(), fresh.minimumSizeHint())
    assert (s.sizeHint(), s.minimumSizeHint()) != (hint, least)  # (Windows' are other sizes)
    hint, least = s.sizeHint(), s.minimumSizeHint()
    f = s.font()
    f.setPointSizeF(f.pointSizeF() * 3)
    hs.setFont(f)
    assert s.sizeHint() is not hint and s.minimumSizeHint() is not least  # asked anew


def test_a_card_of_a_run_gone_is_kept_for_the_next_run_of_its_optimizer(panel, session, qtbot):
    """A run removed keeps its card out of the panel (a lesson opened over leftover runs
    made every card anew); the next run of that optimizer takes it, folded, in the UI
    language and showing its own spec, and shows it as a new card would be shown."""
    from gdviz.core.i18n import set_language, tr
    from gdviz.core.optimizers import make_optimizer
    from gdviz.core.session import RunSpec
    from gdviz.ui.panels import runs_panel
    from gdviz.ui.panels.runs_panel import RunCard

    runs = panel.runs
    adam = runs.cards[3]
    assert adam.opt_name == "adam"
    adam.more.click()  # unfolded when it goes
    session.remove_run(3)
    assert adam.parent() is None and adam not in runs.cards
    assert panel.findChildren(RunCard) == runs.cards
    set_language("zh-Hant")  # (a kept card hears no LanguageChange: it is in no window)
    i = session.add_run(RunSpec(config=make_optimizer("adam", lr=0.02)))
    card = runs.cards[i]
    assert card is adam
    assert card.i == i and card.objectName() == f"runCard{i}"
    assert runs.select_group.id(card.select) == i
    assert card.title.text() == session.spec_label(i)
    assert card.sliders["lr"].value() == pytest.approx(0.02)
    assert card.select.text() == tr("step_by_step_pick")  # in Chinese now
    assert not card.more.isChecked() and not card.extra.isVisibleTo(panel)
    qtbot.waitUntil(card.isVisible)  # shown by its layout, as a new card is
    # its controls drive its new run
    card.sliders["lr"].setValue(0.005)
    card.sliders["lr"].valueChanged.emit(0.005)
    assert session.specs[i].config.lr == pytest.approx(0.005)
    card.select.click()
    assert session.selected == session.runs_of_spec(i)[0]
    # few are kept: the others go as before
    for _ in range(12):
        session.add_run(RunSpec(config=make_optimizer("sgd")))
    session.remove_run(0)
    for _ in range(12):
        session.remove_run(session.n_specs - 1)
    kept = runs._spares
    assert sum(map(len, kept.values())) <= runs_panel.SPARE_CARDS
    assert all(len(v) <= runs_panel.SPARE_CARDS_PER_OPTIMIZER for v in kept.values())


def test_a_run_cards_swatch_is_a_text_line_high_at_any_text_size(panel, session):
    card = panel.runs.cards[0]
    f = panel.font()
    f.setPointSizeF(f.pointSizeF() * 2.5)
    panel.setFont(f)
    size = card.fontMetrics().height()
    assert card.swatch.width() == size and card.swatch.height() == size


def test_a_kept_card_comes_back_measured_at_the_new_text_size(panel, session):
    """A card kept over a text-size change comes back with its schedule box measured at
    the new text, as a new card's is (Qt keeps a combo box's width through a font change:
    it came back side by side, its schedule cut to "Constan")."""
    from gdviz.core.optimizers import make_optimizer
    from gdviz.core.session import RunSpec

    runs = panel.runs
    kept = runs.cards[3]
    kept.schedule.minimumSizeHint()  # (measured at this text)
    session.remove_run(3)
    f = panel.font()
    f.setPointSizeF(f.pointSizeF() * 2.5)
    panel.setFont(f)
    i = session.add_run(RunSpec(config=make_optimizer("adam")))
    j = session.add_run(RunSpec(config=make_optimizer("adam")))
    back, new = runs.cards[i], runs.cards[j]
    assert back is kept and new is not kept
    assert back.schedule.minimumSizeHint().width() == new.schedule.minimumSizeHint().width()
