"""The fit panel follows the session: points, target, every run's curve, units, mini-batch."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor

from gdviz.core.optimizers import make_optimizer
from gdviz.core.problems import FitData, RegressionData
from gdviz.core.session import RunSpec, Session
from gdviz.ui import theme
from gdviz.ui.views.fit_view import HINT, N_SAMPLES, FitView


@pytest.fixture
def sess() -> Session:
    s = Session()
    assert s.set_fit(FitData(target="piecewise", model="hard-sigmoid", units=2))
    return s


@pytest.fixture
def view(qtbot, sess) -> FitView:
    v = FitView(sess)
    qtbot.addWidget(v)
    v.resize(760, 560)
    v.show()
    qtbot.waitExposed(v)
    return v


def _xy(item) -> tuple[np.ndarray, np.ndarray]:
    """An item's data as float64 arrays (scatter or curve)."""
    x, y = item.getData()
    return (np.zeros(0) if x is None else np.asarray(x, dtype=np.float64),
            np.zeros(0) if y is None else np.asarray(y, dtype=np.float64))


def test_run_curves_are_the_model_at_the_displayed_params(view, sess):
    sess.step(25)
    model = sess.problem.model
    P = sess.positions()
    assert len(view.run_curves) == sess.n_runs == 4
    assert len(view.xs) == N_SAMPLES
    for r, curve in enumerate(view.run_curves):
        x, y = _xy(curve)
        np.testing.assert_array_equal(x, view.xs)
        np.testing.assert_allclose(y, model.predict(P[r], view.xs), rtol=1e-12, atol=1e-12)
        assert curve.isVisible()
        assert curve.opts["pen"].color().name().lower() == sess.run_color(r).lower()
    # scrubbing back shows the curve at that step, not the newest one
    sess.scrub(3)
    np.testing.assert_allclose(_xy(view.run_curves[0])[1],
                               model.predict(sess.positions(3)[0], view.xs), atol=1e-12)
    assert not np.allclose(_xy(view.run_curves[0])[1], model.predict(P[0], view.xs))


def test_validation_points_are_drawn_apart_from_the_training_points(view, sess):
    ds = sess.problem.dataset
    assert ds.n_val == 8 and ds.n_train == 42
    tx, ty = _xy(view.train_points)
    vx, vy = _xy(view.val_points)
    np.testing.assert_array_equal(tx, ds.x_train)
    np.testing.assert_array_equal(ty, ds.y_train)
    np.testing.assert_array_equal(vx, ds.x_val)
    np.testing.assert_array_equal(vy, ds.y_val)
    # colour-blind safe: another symbol AND another colour
    assert view.train_points.opts["symbol"] != view.val_points.opts["symbol"]
    assert view.train_points.opts["brush"].color() != view.val_points.opts["brush"].color()
    assert view.val_points.isVisible()
    texts = view.legend_texts()
    assert "training points (42)" in texts and "validation points (8)" in texts
    # no validation split: the validation item is hidden and leaves the legend
    assert sess.set_fit(FitData(target="piecewise", model="hard-sigmoid", units=2,
                                val_fraction=0.0))
    assert not view.val_points.isVisible() and len(_xy(view.val_points)[0]) == 0
    assert not any(t.startswith("validation") for t in view.legend_texts())


def test_target_curve_for_generated_data_only(view, sess, tmp_path):
    x, y = _xy(view.target_curve)
    np.testing.assert_allclose(y, sess.data.target_curve(view.xs))
    assert view.target_curve.isVisible() and "target (no noise)" in view.legend_texts()
    pts = tuple((float(a), float(2 * a + 1)) for a in np.linspace(-1, 1, 12))
    assert sess.set_fit(FitData(model="linear", points_data=pts, source="mine.csv"))
    assert not view.target_curve.isVisible()
    assert "target (no noise)" not in view.legend_texts()
    assert "mine.csv" in view.plot_item.titleLabel.text


def test_show_units_toggles_one_curve_per_unit(view, sess):
    sess.step(10)
    assert len(view.unit_curves) == 2
    assert not any(c.isVisible() for c in view.unit_curves) and not view.c0_line.isVisible()
    sess.set_view_options(show_units=True)
    p = sess.params_now()
    C = sess.problem.model.unit_contributions(p, view.xs)
    for k, c in enumerate(view.unit_curves):
        assert c.isVisible()
        np.testing.assert_allclose(_xy(c)[1], C[k], atol=1e-12)
    assert view.c0_line.isVisible()
    np.testing.assert_allclose(_xy(view.c0_line)[1], p[0])
    assert "constant c0" in view.legend_texts()
    # the units follow the reference run as it trains
    sess.step(5)
    np.testing.assert_allclose(_xy(view.unit_curves[0])[1],
                               sess.problem.model.unit_contributions(sess.params_now(),
                                                                     view.xs)[0], atol=1e-12)
    # K follows the model; off hides them all again
    assert sess.set_fit(FitData(target="piecewise", model="sigmoid", units=5))
    assert len(view.unit_curves) == 5 and all(c.isVisible() for c in view.unit_curves)
    sess.set_view_options(show_units=False)
    assert not any(c.isVisible() for c in view.unit_curves) and not view.c0_line.isVisible()


def test_units_are_not_drawn_for_models_without_units(view, sess):
    sess.set_view_options(show_units=True)
    assert sess.set_fit(FitData(target="quadratic", model="quadratic"))
    assert view.unit_curves == [] and not view.c0_line.isVisible()


def test_regression_lines_follow_the_runs(view, sess):
    assert sess.set_regression(RegressionData())
    sess.step(30)
    P = sess.positions()
    for r, curve in enumerate(view.run_curves):
        x, y = _xy(curve)
        w, b = P[r]
        np.testing.assert_allclose(y, b + w * x, rtol=1e-12, atol=1e-12)
    px, py = _xy(view.train_points)
    np.testing.assert_array_equal(px, sess.problem.x)
    np.testing.assert_array_equal(py, sess.problem.y)
    assert not view.val_points.isVisible() and not view.target_curve.isVisible()
    x0, x1, _, _ = view.data_box()
    assert x0 <= 0.0 <= x1  # b is the height at x = 0: in view
    assert view.plot_item.titleLabel.text.startswith("y = b + w·x")


def test_mini_batch_ring_only_when_the_batch_is_smaller(view, sess):
    assert not view.batch_ring.isVisible()
    assert sess.set_batch_size(5)
    sess.step(3)
    idx = sess.current_batch()
    assert len(idx) == 5
    rx, ry = _xy(view.batch_ring)
    np.testing.assert_array_equal(rx, sess.problem.x[idx])
    np.testing.assert_array_equal(ry, sess.problem.y[idx])
    assert view.batch_ring.isVisible() and "mini-batch (5)" in view.legend_texts()
    sess.step(1)  # the next batch
    assert not np.array_equal(_xy(view.batch_ring)[0], rx)
    assert sess.set_batch_size(sess.n_train)
    assert not view.batch_ring.isVisible()
    assert not any(t.startswith("mini-batch") for t in view.legend_texts())


def test_surfaces_show_only_the_hint(view, sess):
    assert view.showing_data and not view.hint.isVisible()
    sess.set_surface("rosenbrock")
    assert view.hint.isVisible() and view.hint.textItem.toPlainText() == HINT
    hidden = [view.train_points, view.val_points, view.target_curve, view.batch_ring,
              *view.run_curves, *view.unit_curves]
    assert not any(item.isVisible() for item in hidden)
    assert not view.legend.isVisible()
    assert not view.plot_item.getAxis("bottom").isVisible()
    sess.step(5)  # nothing to draw, nothing raised
    assert sess.set_fit(FitData(model="sigmoid", units=3))
    assert not view.hint.isVisible() and view.train_points.isVisible()
    assert all(c.isVisible() for c in view.run_curves)


def test_runs_added_on_a_surface_make_no_curves_until_data_come(view, sess):
    """A surface draws no run in the fit panel: runs added there (a start added on the
    map adds one per optimizer) make no curves; they come, one per run, with the data."""
    sess.set_surface("rosenbrock")
    before = len(view.run_curves)
    for _ in range(6):
        sess.add_run(RunSpec(config=make_optimizer("adam", lr=0.01)))
    assert len(view.run_curves) <= before < sess.n_runs
    sess.remove_run(0)
    assert len(view.run_curves) <= sess.n_runs
    assert sess.set_fit(FitData(model="sigmoid", units=3))
    assert len(view.run_curves) == sess.n_runs
    assert all(c.isVisible() for c in view.run_curves)


def test_range_is_set_from_the_data_not_every_frame(view, sess):
    ds = sess.problem.dataset
    x0, x1, y0, y1 = view.data_box()
    assert x0 < ds.x.min() and x1 > ds.x.max() and y0 < ds.y.min() and y1 > ds.y.max()
    (vx0, vx1), (vy0, vy1) = view.vb.viewRange()
    assert vx0 == pytest.approx(x0) and vx1 == pytest.approx(x1) and vy0 == pytest.approx(y0)
    assert vy1 > y1  # room for the legend above the data
    before = view.vb.viewRange()
    sess.step(40)
    assert view.vb.viewRange() == before
    # new data: a new box
    assert sess.set_fit(FitData(target="quadratic", model="quadratic"))
    assert view.vb.viewRange()[1][1] > 10  # 3x² + 2x + 1 reaches 17 at x = 2


def test_legend_lists_the_shown_runs(view, sess):
    labels = [sess.spec_label(i) for i in range(sess.n_specs)]
    assert all(lab in view.legend_texts() for lab in labels)
    sess.update_run(0, enabled=False)
    assert labels[0] not in view.legend_texts()
    assert not view.run_curves[0].isVisible()


def test_added_run_gets_a_curve_and_a_diverged_run_stays_finite(view, sess):
    assert sess.add_run(RunSpec(config=make_optimizer("sgd", lr=500.0))) == 4
    assert len(view.run_curves) == 5
    sess.step(60)
    assert sess.diverged()
    for curve in view.run_curves:
        y = _xy(curve)[1]
        assert not np.isinf(y).any()  # only finite values (NaN = a gap) reach Qt


def test_theme_and_font_changes_restyle(view, sess, qapp):
    theme.apply(qapp, "light")
    qapp.processEvents()
    pal = theme.palette("light")
    assert view.backgroundBrush().color() == QColor(pal["background"])
    assert view.train_points.opts["brush"].color() == QColor(pal["foreground"])
    theme.apply(qapp, "dark")
    qapp.processEvents()
    assert view.train_points.opts["brush"].color() == QColor(theme.palette("dark")["foreground"])
    size = view.train_points.opts["size"]
    theme.set_font_scale(qapp, 1.5)  # (plots follow the text up to theme.PLOT_SCALE_CAP)
    qapp.processEvents()
    assert view.train_points.opts["size"] == pytest.approx(1.5 * size)
    assert view.run_curves[0].opts["pen"].widthF() >= 1.5 * 4.0


def test_close_stops_following_the_session(view, sess):
    sess.step(5)
    y = _xy(view.run_curves[0])[1].copy()
    view.close()
    sess.step(20)
    sess.set_regression(RegressionData())  # would rebuild everything if still connected
    np.testing.assert_array_equal(_xy(view.run_curves[0])[1], y)


def test_the_legend_never_hides_the_data(view, sess, qapp):
    sess.set_batch_size(8)
    sess.set_view_options(show_units=True)
    qapp.processEvents()
    legend_bottom = view.legend.mapRectToScene(view.legend.boundingRect()).bottom()
    _, _, _, y1 = view.data_box()
    data_top = view.vb.mapViewToScene(QPointF(0.0, y1)).y()
    assert legend_bottom < data_top  # scene y grows downwards
    assert view.legend.isVisible() and len(view.legend_texts()) >= 6


def test_a_narrow_panel_gets_a_shorter_title(view, sess, qtbot):
    formula = view.plot_item.titleLabel.text
    assert formula.startswith("y = c0 + Σ")
    view.resize(380, 400)
    qtbot.waitUntil(lambda: view.plot_item.titleLabel.text != formula)
    assert "K = 2" in view.plot_item.titleLabel.text
    assert view.plot_item.titleLabel.toolTip().startswith("y = c0 + Σ")


# ---- the ghost of the last result (lessons L8 and L13) --------------------------------------
@pytest.fixture
def one_run(qtbot) -> tuple[FitView, Session]:
    """L8's shape: a sum of sigmoids on a sine, one Adam run."""
    s = Session(specs=[RunSpec(make_optimizer("adam", lr=0.05))])
    assert s.set_fit(FitData(target="sine", model="sigmoid", units=3, points=60))
    v = FitView(s)
    qtbot.addWidget(v)
    v.resize(760, 560)
    v.show()
    qtbot.waitExposed(v)
    return v, s


def test_changing_k_mid_run_keeps_the_fit_at_the_current_step_as_a_ghost(one_run):
    view, sess = one_run
    assert view.ghost is None and not view.ghost_curve.isVisible()
    sess.step(120)
    before = sess.problem.model.predict(sess.positions()[0], view.xs)
    assert sess.update_data(units=10)
    assert view.ghost is not None and view.ghost_curve.isVisible()
    x, y = _xy(view.ghost_curve)
    np.testing.assert_array_equal(x, view.xs)
    np.testing.assert_allclose(y, before, atol=1e-12)
    assert view.ghost_label.isVisible() and view.ghost_label.textItem.toPlainText() == "K = 3 (before)"
    assert view.ghost_curve.opts["pen"].color().alpha() < 255  # faint
    sess.step(50)  # the new run trains; the ghost stays as it was
    np.testing.assert_allclose(_xy(view.ghost_curve)[1], before, atol=1e-12)


def test_no_ghost_before_anything_was_trained(one_run):
    view, sess = one_run
    assert sess.update_data(units=5)
    assert view.ghost is None and not view.ghost_curve.isVisible()


def test_sliding_through_values_keeps_the_ghost_of_the_last_result(one_run):
    view, sess = one_run
    sess.step(80)
    for k in (4, 5, 6):  # a slider drag: no step between the values
        assert sess.update_data(units=k)
    assert view.ghost.text("en") == "K = 3 (before)"
    sess.step(30)
    assert sess.update_data(units=12)
    assert view.ghost.text("en") == "K = 6 (before)"


def test_a_weight_decay_change_leaves_a_ghost_labelled_with_the_old_value(one_run):
    view, sess = one_run
    sess.step(100)
    before = sess.problem.model.predict(sess.positions()[0], view.xs)
    assert sess.update_runs(weight_decay=0.01)
    assert view.ghost.text("en") == "weight decay = 0 (before)"
    np.testing.assert_allclose(_xy(view.ghost_curve)[1], before, atol=1e-12)
    sess.step(40)
    assert sess.update_runs(weight_decay=0.1)
    assert view.ghost.text("en") == "weight decay = 0.01 (before)"


def test_the_ghost_goes_with_a_data_change_or_another_problem(one_run):
    view, sess = one_run
    sess.step(60)
    assert sess.update_data(units=8)
    assert view.ghost is not None
    assert sess.update_data(points=40)  # other data: the old fit compares with nothing
    assert view.ghost is None and not view.ghost_curve.isVisible()
    sess.step(60)
    assert sess.update_data(units=3)
    assert view.ghost is not None
    sess.set_surface("rosenbrock")
    assert view.ghost is None and not view.ghost_curve.isVisible()


def test_the_ghost_survives_theme_and_language_switches(one_run, qapp):
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    from gdviz.core import i18n

    view, sess = one_run
    sess.step(60)
    assert sess.update_data(units=10)
    y = _xy(view.ghost_curve)[1].copy()
    theme.apply(qapp, "light")
    qapp.processEvents()
    try:
        i18n.set_language("zh-Hant")
        QApplication.sendEvent(view, QEvent(QEvent.Type.LanguageChange))
        assert view.ghost_label.textItem.toPlainText() == "K = 3（之前）"
    finally:
        i18n.set_language("en")
    assert view.ghost_curve.isVisible()
    np.testing.assert_array_equal(_xy(view.ghost_curve)[1], y)
    assert view.ghost_label.color == QColor(theme.palette("light")["foreground"])


def test_the_ghost_label_sits_on_the_ghost_inside_the_data_box(one_run, qapp):
    view, sess = one_run
    sess.step(120)
    assert sess.update_data(units=10)
    qapp.processEvents()
    pos = view.ghost_label.pos()
    x0, x1, y0, y1 = view.data_box()
    assert x0 < pos.x() < x1 and y0 <= pos.y() <= y1
    assert pos.y() == pytest.approx(np.interp(pos.x(), view.ghost.xs, view.ghost.y))


def test_opening_a_lesson_drops_the_ghost(window, qtbot):
    from gdviz.core.scene import preset_paths

    path = next(p for p in preset_paths() if p.name.startswith("L08"))
    assert window.open_scene(path)
    window.session.pause()
    window.session.step(50)
    assert window.session.update_data(units=10)
    assert window.fit_view.ghost is not None
    assert window.open_scene(path)
    assert window.fit_view.ghost is None and not window.fit_view.ghost_curve.isVisible()


def test_an_export_draws_the_windows_ghost(one_run, qtbot, tmp_path, monkeypatch):
    from gdviz.ui import picture
    from gdviz.ui.export_dialog import ExportDialog

    view, sess = one_run
    sess.step(60)
    assert sess.update_data(units=10)
    dlg = ExportDialog(sess, ghost=view.ghost)
    qtbot.addWidget(dlg)
    dlg.size.setCurrentIndex(0)
    dlg.path.setText(str(tmp_path / "ghost.png"))
    drawn = []
    real = picture.clip_renderer

    def spy(*args, **kwargs):
        grabber = real(*args, **kwargs)
        drawn.append(grabber)  # (built in pieces: its fit panel comes later)
        return grabber

    monkeypatch.setattr(picture, "clip_renderer", spy)
    assert dlg.start()
    qtbot.waitUntil(lambda: not dlg.running(), timeout=60_000)
    assert (tmp_path / "ghost.png").exists(), dlg.message.text()
    assert drawn and drawn[0].picture.fit_view.ghost is view.ghost


def test_a_run_added_or_removed_writes_only_its_legend_entry(view, sess, qapp):
    """The legend follows a run change: one label made for a run added, none for one
    removed, and the entries read (and draw) as a legend made anew would."""
    view.resize(1400, 1000)  # room for the legend in its full text size
    qapp.processEvents()
    for lr in (0.01, 0.02, 0.03):
        sess.add_run(RunSpec(config=make_optimizer("sgd", lr=lr)))
    assert view._legend_form[1][0] == 1.0
    made = view.legend_labels_made
    sess.add_run(RunSpec(config=make_optimizer("adam", lr=0.05)))
    assert view.legend_labels_made == made + 1
    sess.remove_run(2)
    assert view.legend_labels_made == made + 1
    texts = view.legend_texts()
    items = [sample.item for sample, _ in view.legend.items]
    size = (view.legend.width(), view.legend.height())
    assert [sess.spec_label(i) for i in range(sess.n_specs)] == [
        t for t in texts if t in {sess.spec_label(i) for i in range(sess.n_specs)}]
    view._legend_form = None  # made anew
    view._legend_sizes = {}
    view._legend_built = None
    view._build_legend()
    assert view.legend_texts() == texts
    assert [sample.item for sample, _ in view.legend.items] == items
    assert (view.legend.width(), view.legend.height()) == size


def test_the_data_points_are_blitted_from_a_cache_and_follow_new_data(view, sess, qapp):
    # issue 10: a 100,000-point fit drew every point again each frame (18 ms of a 88 ms
    # frame); the points stand still while the curves move, so they are cached pixmaps
    from PySide6.QtWidgets import QGraphicsItem

    for item in (view.train_points, view.val_points):
        assert item.cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache
    assert view.batch_ring.cacheMode() == QGraphicsItem.CacheMode.NoCache  # moves each step

    def picture():
        qapp.processEvents()
        return view.grab().toImage()

    before = picture()
    sess.step(3)  # the curves move; the cached points are drawn as before
    assert sess.set_fit(FitData(target="sine", model="hard-sigmoid", units=2, points=80, seed=9))
    after = picture()
    tx, _ = _xy(view.train_points)
    assert len(tx) == sess.problem.dataset.n_train and after != before


def test_many_data_points_are_drawn_without_their_outline(view, sess):
    """100,000 points drawn outlined in the background colour (which keeps a few
    overlapping points apart) showed their band's middle in the background colour: the
    data looked like two bands. Past DENSE_POINTS they are smaller and not outlined."""
    from gdviz.core.problems import RegressionData
    from gdviz.ui.views import fit_view

    assert sess.set_regression(RegressionData(n=200))
    few = view.train_points.opts["pen"]
    assert few.style() != Qt.PenStyle.NoPen
    size = view.train_points.opts["size"]
    assert sess.set_regression(RegressionData(n=fit_view.DENSE_POINTS + 1))
    assert view.train_points.opts["pen"].style() == Qt.PenStyle.NoPen
    assert view.train_points.opts["size"] < size
    assert sess.set_regression(RegressionData(n=200))  # and back
    assert view.train_points.opts["pen"].style() != Qt.PenStyle.NoPen
