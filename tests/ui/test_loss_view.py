"""The loss plot follows the session: one curve per run, the t line, log y when it helps."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtWidgets import QApplication
import pytest

from gdviz.core.optimizers import make_optimizer
from gdviz.core.session import RunSpec, Session
from gdviz.ui.views.loss_view import T_LABEL_ON_CURVES, LossView


@pytest.fixture
def sess() -> Session:
    return Session()


@pytest.fixture
def view(qtbot, sess) -> LossView:
    v = LossView(sess)
    qtbot.addWidget(v)
    v.resize(600, 300)
    return v


def test_one_curve_per_run_in_its_colour(view, sess):
    assert len(view.curves) == 4
    assert [c.opts["pen"].color().name().upper() for c in view.curves] == \
        [c.upper() for c in sess.colors]
    # the map's legend names the runs; here a key appears only for validation curves
    assert not view.legend.isVisible() and not any(v.isVisible() for v in view.val_curves)


def test_follows_steps_and_scrubbing(view, sess):
    sess.step(5)
    for r, c in enumerate(view.curves):
        x, y = c.getData()
        assert len(x) == 6
        np.testing.assert_allclose(y, sess.losses()[r])
    assert view.t_line.value() == 5
    sess.scrub(2)
    assert view.t_line.value() == 2 and len(view.curves[0].getData()[0]) == 3


def test_log_scale_when_losses_span_decades(view, sess):
    sess.set_surface("quadratic")
    sess.set_start(1.5, 1.5)
    sess.update_run(3, lr=0.1)
    assert not view.log_y
    sess.step(200)
    assert view.log_y  # 4.5 down to ~1e-6: log
    sess.set_surface("saddle")  # negative losses: linear
    sess.step(20)
    assert not view.log_y


def test_diverged_run_does_not_flatten_the_others(view, sess):
    sess.add_run(RunSpec(config=make_optimizer("sgd", lr=1.0)))
    sess.step(40)
    assert sess.diverged()
    (_, _), (y0, y1) = view.vb.viewRange()
    alive_max = max(np.nanmax(sess.losses()[r]) for r in range(4))
    top = np.log10(alive_max) if view.log_y else alive_max
    assert y1 < top + 2 * abs(top) + 1


def test_the_curves_cells_skip_a_runaway_loss_without_a_warning(view, sess):
    """A loss of 1e300 on a linear axis put inf through an int cast ("invalid value
    encountered in cast", seen in the GUI fuzz) when the step's label measured the curves'
    cells; such points are far outside the plot and are dropped."""
    import warnings

    sess.add_run(RunSpec(config=make_optimizer("sgd", lr=1.0)))
    sess.step(40)
    x, y = view.curves[0].get_data()
    view.curves[0].get_data = lambda: (x, np.where(np.arange(len(y)) == 3, 1e300, y))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        view.vb.setYRange(-1e-300, 1e-300, padding=0)  # (a range that overflows the scale)
        occ = view._curve_occupancy()
    assert occ is not None and occ[-1, -1] >= 0


def test_losses_near_the_float_limit_of_both_signs_keep_a_finite_range(view, sess):
    """Losses from -1.6e308 to 1.6e308 (an expression the GUI fuzz typed): the loss axis's
    room below the lowest overflowed to -inf and pyqtgraph raised "Cannot set range
    [-inf, ...]" at every step. The range is finite (within ranges.COORD_MAX)."""
    assert sess.set_expression("1.6e308*(x/(abs(x)+1))")
    sess.set_start(-50.0, 0.0)
    sess.add_start(50.0, 0.0)
    sess.pause()
    for _ in range(3):
        sess.step(1)
        (_, _), (y0, y1) = view.vb.viewRange()
        assert math.isfinite(y0) and math.isfinite(y1) and y0 < y1
    lows = [l[-1] for l in sess.losses()]
    assert min(lows) < -1e308 and max(lows) > 1e308  # (the case: both ends near the limit)


def test_disabled_run_hidden(view, sess):
    sess.update_run(0, enabled=False)
    assert not view.curves[0].isVisible() and view.curves[1].isVisible()


def test_linear_axis_never_goes_below_zero(view, sess):
    sess.step(30)
    (_, _), (y0, y1) = view.vb.viewRange()
    assert not view.log_y and y0 >= 0 and y1 > 0


def test_fit_with_validation_draws_dashed_validation_curves(view, sess):
    from gdviz.core.problems import FitData

    sess.set_fit(FitData(target="sine", model="sigmoid", units=3, points=40, val_fraction=0.25))
    sess.step(12)
    assert view.legend.isVisible()
    assert [lab.text for _, lab in view.legend.items] == ["training loss", "validation loss"]
    x, y = view.val_curves[0].getData()
    np.testing.assert_allclose(y, sess.val_losses()[0])
    from PySide6.QtCore import Qt

    assert view.val_curves[0].opts["pen"].style() == Qt.PenStyle.DashLine
    sess.set_surface("rosenbrock")
    assert not view.legend.isVisible() and not view.val_curves[0].isVisible()


# ---- L9: where to stop; L13: the size of the weights ------------------------------------------
def _overfit(sess: Session, **fit) -> None:
    """L9's shape: many units on few noisy points, with a validation set."""
    from gdviz.core.problems import FitData

    args = {"target": "sine", "model": "sigmoid", "units": 30, "points": 20, "noise": 0.3,
            "val_fraction": 0.25}
    args.update(fit)
    assert sess.set_fit(FitData(**args))


@pytest.fixture
def fit_view(qtbot) -> tuple[LossView, Session]:
    s = Session(specs=[RunSpec(make_optimizer("adam", lr=0.05))])
    _overfit(s)
    v = LossView(s)
    qtbot.addWidget(v)
    v.resize(900, 300)
    v.show()
    qtbot.waitExposed(v)
    return v, s


def _star_steps(view: LossView) -> list[float]:
    x, _ = view.stop_points.getData()
    return [float(v) for v in x]


def test_the_star_marks_the_argmin_of_the_validation_history_as_the_run_goes(fit_view):
    view, sess = fit_view
    assert not view.stop_points.isVisible()
    for _ in range(6):
        sess.step(70)
        val = sess.val_losses()[0]
        k = int(np.argmin(val))
        assert _star_steps(view) == [k]
        assert view.stops[0] == (k, pytest.approx(float(val[k])))
    assert k < sess.t  # the validation loss turned up: the star stays behind
    assert view.stop_line.isVisible() and view.stop_line.value() == k
    assert view.stop_label.isVisible()
    assert view.stop_label.textItem.toPlainText() == \
        f"lowest validation loss:\nstop here (iteration {k})"
    sess.scrub(k // 2)  # back before the lowest point: the star follows the display
    val = sess.val_losses()[0]
    assert _star_steps(view) == [int(np.argmin(val))]


def test_playing_the_star_moves_every_few_frames_and_is_exact_when_the_race_stops(fit_view):
    """Early in a run each step is a new low: while the race plays the star moves at most
    every STOP_EVERY of the view's frames (a move costs ~1.7 ms); paused, it is exact."""
    from gdviz.ui.views.loss_view import STOP_EVERY

    view, sess = fit_view
    assert sess.update_run(0, lr=0.001)  # a slow fall: a new low at every step
    sess.step(2)
    assert _star_steps(view) == [2]
    sess.play()
    try:
        moved = []
        for _ in range(4 * STOP_EVERY - 1):
            sess.step(1)  # a playing frame (the window's timer is not running here)
            assert int(np.argmin(sess.val_losses()[0])) == sess.t  # a new low
            moved.append(_star_steps(view) == [sess.t])
        assert moved == ([False] * (STOP_EVERY - 1) + [True]) * 3 + [False] * (STOP_EVERY - 1)
    finally:
        sess.pause()
    assert _star_steps(view) == [sess.t]  # the race stopped: where it is


def test_a_restore_that_stops_the_race_and_adds_runs_moves_the_star_after_them(fit_view):
    """A scene opened while the race plays, with the star waiting to move: the race stops
    in the same change that brings more runs, and the star moves once they are here (it
    moved first, and read the runs it did not have yet: an IndexError, found by the GUI
    fuzz)."""
    view, sess = fit_view
    other = Session(specs=[RunSpec(make_optimizer("adam", lr=0.001)),
                           RunSpec(make_optimizer("sgd", lr=0.01))])
    _overfit(other)
    snap = other.snapshot()
    assert sess.update_run(0, lr=0.001)
    sess.step(2)
    sess.play()
    sess.step(1)
    assert view._stop_behind
    sess.restore(snap)  # raised here
    assert not sess.playing and sess.n_runs == 2
    sess.step(3)
    assert len(_star_steps(view)) == 2


def test_the_star_is_drawn_on_the_log_axis_at_the_lowest_value(fit_view):
    view, sess = fit_view
    sess.step(300)
    _, v = view.stops[0]
    _, y = view.stop_points.getData()
    assert y[0] == pytest.approx(np.log10(v) if view.log_y else v)


def test_no_stop_label_while_the_validation_loss_still_falls(fit_view):
    view, sess = fit_view
    assert sess.update_run(0, lr=0.01)  # here the validation loss falls for 2 steps
    sess.step(2)
    assert view.stops[0][0] == int(np.argmin(sess.val_losses()[0])) == sess.t == 2
    assert view.stop_points.isVisible()
    assert not view.stop_label.isVisible() and not view.stop_line.isVisible()
    sess.step(10)
    assert view.stops[0][0] == 2 and view.stop_label.isVisible()


def test_no_star_without_a_validation_set(view, sess):
    sess.step(20)
    assert not view.stop_points.isVisible() and not view.stop_label.isVisible()


def test_param_norms_are_the_euclidean_size_of_each_row():
    from gdviz.core.session.history import param_norms

    P = np.array([[3.0, 4.0], [0.0, 0.0], [-1.0, 2.0]])
    np.testing.assert_allclose(param_norms(P), [5.0, 0.0, np.sqrt(5.0)])


def test_lowest_point_is_the_first_minimum_and_takes_the_head():
    from gdviz.ui.views.decimate import SeriesDecimator
    from gdviz.ui.views.loss_view import lowest_point

    rng = np.random.default_rng(3)
    y = rng.random(5000)
    y[1234] = y[4321] = -1.0  # a tie: the earlier
    dec = SeriesDecimator(max_buckets=64)
    dec.extend(np.arange(5000, dtype=np.int64), y)
    assert lowest_point(dec) == (1234, -1.0)
    assert lowest_point(dec, (5000, -2.0)) == (5000, -2.0)
    assert lowest_point(SeriesDecimator()) is None


def test_weight_norm_axis_only_where_weight_decay_is_in_play(fit_view):
    view, sess = fit_view
    sess.step(30)
    assert not view.norm_on and not view.plot_item.getAxis("right").isVisible()
    assert sess.update_runs(weight_decay=0.01)
    sess.step(30)
    assert view.norm_on and view.plot_item.getAxis("right").isVisible()
    assert "‖w‖₂ (right axis)" in [lab.text for _, lab in view.legend.items]
    assert sess.update_runs(weight_decay=0.0)  # pulled back to 0: stays for the comparison
    sess.step(5)
    assert view.norm_on
    sess.set_surface("rosenbrock")
    assert not view.norm_on and not view.plot_item.getAxis("right").isVisible()


def test_weight_norm_curves_follow_the_parameter_history(qtbot):
    from gdviz.core.problems import FitData
    from gdviz.core.session.history import param_norms

    s = Session(specs=[RunSpec(make_optimizer("adam", lr=0.05, weight_decay=0.01)),
                       RunSpec(make_optimizer("sgd", lr=0.1, weight_decay=0.01))])
    assert s.set_fit(FitData(target="sine", model="sigmoid", units=5, points=30))
    v = LossView(s)
    qtbot.addWidget(v)
    v.resize(800, 300)
    s.step(40)
    s.step(25)
    assert v.norm_on and len(v.norm_curves) == 2
    for r, c in enumerate(v.norm_curves):
        x, y = c.getData()
        np.testing.assert_allclose(y, param_norms(s.param_trails()[r]), rtol=1e-12)
        np.testing.assert_array_equal(x, np.arange(66))
        assert c.opts["pen"].color().name().lower() == s.run_color(r).lower()
    lo, hi = v.norm_vb.viewRange()[1]
    top = max(np.max(param_norms(P)) for P in s.param_trails())
    assert lo == 0.0 and top <= hi <= 2 * top


def test_the_labels_keep_off_the_weight_norm_curves_too(qtbot):
    """‖w‖₂ is drawn on the right axis's own box; the cells the labels keep off were the
    loss curves' alone, and L13's export wrote "iteration 1000" across the ‖w‖₂ curve.
    Its points count, at the height where they are drawn."""
    from gdviz.core.problems import FitData

    s = Session(specs=[RunSpec(make_optimizer("adam", lr=0.05, weight_decay=0.01))])
    assert s.set_fit(FitData(target="sine", model="sigmoid", units=5, points=30))
    v = LossView(s)
    qtbot.addWidget(v)
    v.resize(800, 300)
    v.show()
    qtbot.waitExposed(v)
    s.step(60)
    assert v.norm_on
    # the step's label was placed with the cells as drawn after the step (the norms were
    # fed after the labels were placed: they saw one point of ‖w‖₂)
    np.testing.assert_array_equal(v._occ, v._curve_occupancy())
    (_, _), (y0, y1) = v.vb.viewRange()
    pts = v._norm_points(y0, y1)
    x, w = v.norm_curves[0].get_data()
    assert len(pts) == len(x) > 0
    for i in (0, len(x) // 2, len(x) - 1):  # drawn where the norm box draws them
        want = v.norm_vb.mapViewToScene(QPointF(float(x[i]), float(w[i])))
        got = v.vb.mapViewToScene(QPointF(*map(float, pts[i])))
        assert abs(got.x() - want.x()) < 0.5 and abs(got.y() - want.y()) < 0.5
    with_norms = v._curve_occupancy()[-1, -1]  # (cells with a curve, in all)
    v.norm_on = False
    try:
        loss_only = v._curve_occupancy()[-1, -1]
    finally:
        v.norm_on = True
    assert with_norms > loss_only > 0


def test_the_stop_marker_follows_the_theme(fit_view, qapp):
    from PySide6.QtGui import QColor

    from gdviz.ui import theme

    view, sess = fit_view
    sess.step(200)
    theme.apply(qapp, "light")
    qapp.processEvents()
    fg = QColor(theme.palette("light")["foreground"])
    assert view.stop_label.color == fg and view.stop_line.pen.color() == fg
    theme.apply(qapp, "dark")
    qapp.processEvents()
    assert view.stop_label.color == QColor(theme.palette("dark")["foreground"])


def test_validation_curves_of_many_runs_in_one_call_per_frame(view, sess, monkeypatch):
    """Every run's new validation rows and its head are evaluated in one val_loss call per
    frame (it was two per run: 40 calls, 56 ms on a classifier with many runs), with the
    numbers the session's own history gives."""
    from gdviz.core.classifier import ClassifyData

    sess.set_classify(ClassifyData(dataset="circles", points=80, layers=1, units=4))
    for lr in (0.02, 0.05, 0.1):
        sess.add_run(RunSpec(config=make_optimizer("adam", lr=lr)))
    calls = []
    real = type(sess.problem).val_loss
    monkeypatch.setattr(type(sess.problem), "val_loss",
                        lambda self, P, fast=None: (calls.append(len(P)), real(self, P, fast))[1])
    for _ in range(3):
        calls.clear()
        sess.step(7)
        assert len(calls) == 1 and calls[0] == 7 * sess.n_runs + sess.n_runs
    ref = sess.val_losses()
    for r in range(sess.n_runs):
        x, y = view.val_curves[r].getData()
        np.testing.assert_array_equal(y, ref[r])
        assert view._val_heads[r] == (float(sess.t), float(ref[r][-1]))


def test_validation_rows_fed_again_are_not_computed_again(view, sess, monkeypatch):
    """Rows a curve is fed again (the display went back; a change there replaced the
    history after that step; the history fed anew) take the validation losses the view
    computed before: only rows new to the history, and the heads, are computed (fed again
    from the start, L13's curve computed every row's loss again: 1.1 s with the numpy
    twins). The curves and heads are the session's own numbers throughout."""
    from gdviz.core.classifier import ClassifyData
    from gdviz.ui.views.items import HistoryFeed

    sess.set_classify(ClassifyData(dataset="circles", points=80, layers=1, units=4))
    sess.add_run(RunSpec(config=make_optimizer("adam", lr=0.05)))
    rows = []
    real = type(sess.problem).val_loss
    monkeypatch.setattr(type(sess.problem), "val_loss",
                        lambda self, P, fast=None: (rows.append(len(P)), real(self, P, fast))[1])

    def check():
        ref = sess.val_losses()
        for r in range(sess.n_runs):
            x, y = view.val_curves[r].getData()
            np.testing.assert_array_equal(y, ref[r])
            assert view._val_heads[r] == (float(sess.t), float(ref[r][-1]))

    sess.step(300)
    check()
    n = sess.n_runs
    rows.clear()
    view._history = HistoryFeed()  # the history fed anew, every row from step 0
    sess.step(2)
    assert sum(rows) == 2 * n + n  # the two new rows and the heads, not 303 rows a run
    check()
    rows.clear()
    sess.scrub(120)  # back: the curves cut back, nothing new to compute
    assert sum(rows) == n
    check()
    rs = sess.runset
    version = rs.version
    rows.clear()
    assert sess.update_run(0, lr=0.01)  # a change at step 120: the history after it replaced
    assert rs.version > version and 0 <= rs.unchanged_through(version) <= 120
    sess.step(30)
    kept = rs.unchanged_through(version)
    assert sum(rows) <= (150 - kept) * n + 2 * n  # the replaced rows only, and heads
    check()
    assert rs.unchanged_through(rs.version) == rs.t
    sess.reset()  # a new history: nothing is taken from the last
    sess.step(5)
    check()
    rs = sess.runset
    version = rs.version
    rs.reset()
    assert rs.unchanged_through(version) == -1


def _scene_rect(item):
    return item.mapRectToScene(item.boundingRect())


@pytest.mark.parametrize("width, height", [(470, 150), (470, 190), (470, 300), (470, 500),
                                           (220, 190)])
def test_the_stop_label_and_the_step_label_never_run_together(qtbot, width, height):
    """In the short loss dock (1280x720: a plot ~100 px high, the key across its top) the
    stop label sat on the step line's label ("iteratio stop here (742)"). The step label
    moves up or across its line to make room (inside the plot), and hides only when nothing
    else is clear; in a tall plot it stays at its own place. In a plot narrower than the
    stop label (200 % text at 1280x720) the step label hides and the stop label is cut at an
    edge, never drawn over it."""
    s = Session(specs=[RunSpec(make_optimizer("adam", lr=0.05))])
    _overfit(s)
    v = LossView(s)
    qtbot.addWidget(v)
    v.resize(width, height)
    v.show()
    qtbot.waitExposed(v)
    seen_hidden = False
    for _ in range(8):
        s.step(60)
        v.place_legend()
        if not v.stop_label.isVisible():
            continue
        stop, label = _scene_rect(v.stop_label.textItem), v.t_line.label
        if label.isVisible():
            assert not stop.intersects(_scene_rect(label))
            assert v.vb.sceneBoundingRect().contains(_scene_rect(label))
        else:
            seen_hidden = True
            if width >= 470:  # hidden only to leave the stop label in the clear (of the
                # key and the plot's edges; of the curves too where it can be)
                v._place_stop_label()
                stop = _scene_rect(v.stop_label.textItem)
                assert v.vb.sceneBoundingRect().contains(stop)
                assert not (v.legend.isVisible() and stop.intersects(v.legend.sceneBoundingRect()))
    assert v.stop_label.isVisible()
    if height >= 300:
        assert v.t_line.label.isVisible() and not seen_hidden
    # the run goes back before its lowest point: the step label low by its line again, and
    # inside the plot: at step 1 right of the line (left of it, its own place, it was cut
    # at the plot's left edge: "eration 260" in L21 at 200 %)
    s.scrub(1)
    assert not v.stop_label.isVisible()
    label = v.t_line.label
    assert label.isVisible() and label.orthoPos == 0.04
    assert label.anchors[0] == (0, 1)
    assert v.vb.sceneBoundingRect().contains(_scene_rect(label))


def test_a_run_added_or_removed_keeps_the_key(fit_view):
    """The key (training / validation loss) names no run: a run added or removed kept
    rebuilding it (its labels made and its form fitted again, ~10 ms a run); now it is
    rebuilt only when what it shows changes (‖w‖₂ comes, the language, the text size)."""
    from gdviz.core.i18n import set_language

    view, s = fit_view
    s.step(30)
    labels = [label for _, label in view.legend.items]
    assert [label.text for label in labels] == ["training loss", "validation loss"]
    for change in (lambda: s.add_run(RunSpec(make_optimizer("sgd", lr=0.1))),
                   lambda: s.add_run(s.specs[0]), lambda: s.remove_run(1)):
        change()
        assert [label for _, label in view.legend.items] == labels
    s.update_runs(weight_decay=0.01)  # ‖w‖₂ comes: the key names it too
    s.step(1)
    assert [label.text for _, label in view.legend.items][2:] == [tr_("weight_norm_key")]
    # and keeps the labels it had (made anew, the key cost ~10 ms of a lesson that brings
    # or drops ‖w‖₂: L13 after L21), each in the key's form, the samples drawing its pens
    assert [label for _, label in view.legend.items][:2] == labels
    sizes = {label.opts.get("size") for _, label in view.legend.items}
    assert len(sizes) == 1
    assert [sample.item for sample, _ in view.legend.items] == [
        view._key_train, view._key_val, view._key_norm]
    set_language("zh-Hans")
    try:
        view.retranslate()
        assert view.legend.items[0][1].text == tr_("train_loss")
    finally:
        set_language("en")


def tr_(key: str) -> str:
    from gdviz.core.i18n import tr

    return tr(key)


def test_back_to_a_smaller_text_the_key_is_sized_for_it(fit_view, qapp):
    """Projector off (150 % -> 100 % text): the key kept its form, so its box kept the big
    text's size, and placed at the top right it stuck out of the plot's left ("ning loss"
    in L21). Its box is its layout's size again, and it lies within the plot."""
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    from gdviz.ui import theme

    view, s = fit_view
    s.step(30)
    view.place_legend()
    small = view.legend.boundingRect().width()
    try:
        for k in (1.5, 1.0):
            theme.set_font_scale(qapp, k)
            QApplication.sendEvent(view, QEvent(QEvent.Type.FontChange))
            view.place_legend()
    finally:
        theme.set_font_scale(qapp, 1.0)
    assert view.legend.boundingRect().width() == pytest.approx(small, abs=1)
    box = view.vb.sceneBoundingRect()
    key = view.legend.sceneBoundingRect()
    assert key.left() >= box.left() - 1 and key.right() <= box.right() + 1


def test_the_step_label_says_the_number_alone_where_its_words_do_not_fit(qtbot):
    """A plot too narrow for "iteration 240" on either side of the step line (200 % text in
    the loss dock): the label is the number alone, inside the plot; with room again, the
    words come back."""
    s = Session(specs=[RunSpec(make_optimizer("adam", lr=0.05))])
    _overfit(s, val_fraction=0.0)  # (no stop label: the step label alone)
    v = LossView(s)
    qtbot.addWidget(v)
    v.resize(190, 300)
    v.show()
    qtbot.waitExposed(v)
    label = v.t_line.label
    forms = set()
    for _ in range(10):
        s.step(40)
        v.place_legend()
        if label.isVisible():
            forms.add(label.format)
            if label.format == "{value:.0f}":
                assert v.vb.sceneBoundingRect().contains(_scene_rect(label))
                assert label.textItem.toPlainText() == str(s.t)
    assert "{value:.0f}" in forms
    v.resize(900, 300)
    qtbot.waitUntil(lambda: v.vb.sceneBoundingRect().width() > 600)
    s.step(1)
    v.place_legend()
    assert label.format != "{value:.0f}" and str(s.t) in label.textItem.toPlainText()


def test_l9s_loss_plot_shows_the_validation_loss_turn_upwards(qtbot):
    """L9 in its loss dock (470×190): the losses fall from ~2.5 to 0.05-0.4, which on a
    linear axis (with the key's band above) was the bottom 7 % of the plot, and the "stop
    here" label lay across the validation curve's turn upwards, the lesson's point. With
    validation curves the axis turns logarithmic past one decade (two without), and the
    stop label sits clear of the curves (and of the key and the edges)."""
    from gdviz.core.scene import apply_scene, load_preset

    s = Session()
    apply_scene(load_preset("L09_overfitting"), s)
    v = LossView(s)
    qtbot.addWidget(v)
    v.resize(470, 190)
    v.show()
    qtbot.waitExposed(v)
    s.pause()
    s.step(1500)
    v.place_legend()
    assert s.has_validation and v.log_y
    assert v.stop_label.isVisible()
    v._lay_stop_label(*v._stop_at)
    box = v.vb.sceneBoundingRect()
    stop = _scene_rect(v.stop_label.textItem)
    assert box.contains(stop) and not stop.intersects(v.legend.sceneBoundingRect())
    edges = (stop.left(), stop.top(), stop.right(), stop.bottom())
    assert v._curves_under(*(np.array([e]) for e in edges), box)[0] == 0
    # the validation loss has turned upwards since its low, and the plot shows it
    (_, low), last = v.stops[0], s.val_losses()[0][-1]
    assert last > 1.5 * low


@pytest.mark.parametrize("size", [(470, 190), (420, 120), (300, 110)])
def test_the_stop_labels_search_measures_each_place_once(qtbot, monkeypatch, size):
    """The stop label's search tries its forms against the step label's places: each place
    of the step label is measured (the label moved there) once per search, not once per
    form (130 moves with a 30-run plot: 0.6 s), and the place found is the one measured
    anew each time finds."""
    from gdviz.core.scene import apply_scene, load_preset
    from gdviz.ui.views.loss_view import STOP_FORMS, T_LABEL_PLACES

    s = Session()
    apply_scene(load_preset("L09_overfitting"), s)
    v = LossView(s)
    qtbot.addWidget(v)
    v.resize(*size)
    v.show()
    qtbot.waitExposed(v)
    s.pause()
    s.step(1500)
    v.place_legend()
    assert v.stop_label.isVisible()
    moves = []
    real = v._set_t_label
    monkeypatch.setattr(v, "_set_t_label", lambda place: moves.append(place) or real(place))

    def laid():
        label = v.t_line.label
        place = (label.format, label.orthoPos, label.anchors[0]) if label.isVisible() else None
        return v.stop_label.pos(), v.stop_label.textItem.toPlainText(), v._stop_hits, place

    v._lay_stop_label(*v._stop_at)
    # each (form, place) of the step label once, and its final place once per form tried
    assert len(moves) <= 2 * len(T_LABEL_PLACES) + 2 * len(STOP_FORMS) + 1
    memo_moves, memoized = len(moves), laid()
    # the same search with nothing kept between its steps
    real_at, real_cand = v._t_label_at, v._stop_candidates

    def fresh_at(*a):
        v._t_memo = None
        return real_at(*a)

    def fresh_cand():
        v._stop_memo = None
        return real_cand()

    monkeypatch.setattr(v, "_t_label_at", fresh_at)
    monkeypatch.setattr(v, "_stop_candidates", fresh_cand)
    moves.clear()
    v._lay_stop_label(*v._stop_at)
    assert laid() == memoized  # (where a hidden step label was left does not count)
    assert memo_moves < len(moves) or memo_moves <= 2 * len(T_LABEL_PLACES) + 1


@pytest.mark.parametrize("size", [(600, 320), (470, 220), (420, 170)])
def test_the_step_label_keeps_off_the_curves_where_a_place_is(qtbot, size):
    """The step's label ("iteration 1020") lay across the curves and the star in L13's loss
    dock while the plot had room above them: a place clear of the key and the edges that
    is off the curves comes first (its box's padding may touch one); in full words still."""

    s = Session(specs=[RunSpec(make_optimizer("adam", lr=0.05))])
    _overfit(s, val_fraction=0.0)  # (no stop label: the step label alone)
    v = LossView(s)
    qtbot.addWidget(v)
    v.resize(*size)
    v.show()
    qtbot.waitExposed(v)
    label = v.t_line.label
    checked = 0
    for _ in range(8):
        s.step(50)
        v.place_legend()
        assert label.isVisible()
        assert label.format != "{value:.0f}" or size[0] < 600, s.t  # (full words where they fit)
        rect = _scene_rect(label)
        box = v.vb.sceneBoundingRect()
        v._occ = v._curve_occupancy()
        assert v._curves_under_rect(rect, box) <= T_LABEL_ON_CURVES * rect.width() * rect.height(), s.t
        assert box.contains(rect)
        checked += 1
    assert checked == 8


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_the_step_label_stays_shown_beside_the_stop_label(window, qtbot, lang):
    """L13 in its loss dock (1280x720, the side column's half): the step's label was hidden
    to give the stop label room (in Chinese at 1000, 2000 and 3000 steps; in English at
    2000 and 3000), and where it showed, its words lay on the curves and the star. A smaller
    stop label comes before a hidden step label; the step's number alone comes before its
    words on the curves."""
    from PySide6.QtWidgets import QApplication

    from gdviz.core.scene import preset_path

    window.language_actions[lang].trigger()
    try:
        assert window.open_scene(preset_path("L13"))
        s = window.session
        s.pause()
        v = window.loss_view
        for t in (1000, 2000, 3000):
            s.step(t - s.t)
            qtbot.waitUntil(window.layout_settled)
            QApplication.processEvents()
            assert v.stop_label.isVisible(), t
            label = v.t_line.label
            assert label.isVisible(), t
            rect = _scene_rect(label)
            box = v.vb.sceneBoundingRect()
            assert box.adjusted(-1, -1, 1, 1).contains(rect), t
            assert not rect.intersects(_scene_rect(v.stop_label.textItem)), t
            if label.format == "{value:.0f}":  # (the words had no place off the curves)
                assert label.textItem.toPlainText() == str(t)
                v._occ = v._curve_occupancy()
                assert v._curves_under_rect(rect, box) <= T_LABEL_ON_CURVES * rect.width() * rect.height()
    finally:
        window.language_actions["en"].trigger()


@pytest.mark.parametrize("size", [(1270, 170), (900, 300), (1000, 220)])
def test_the_step_label_keeps_off_the_star(qtbot, size):
    """L9 at iteration 200, as its export draws it (a wide, short loss panel): the
    validation loss still falls, so the star sits on the step line, where the label's own
    place begins; the label ("iteration 200") went there, its "i" on the star's point. It
    keeps off the stars as off the key."""
    from gdviz.core.scene import load_preset
    from gdviz.core.scene.bridge import apply_scene

    s = Session()
    apply_scene(load_preset("L09"), s)
    s.pause()
    v = LossView(s)
    qtbot.addWidget(v)
    v.resize(*size)
    v.show()
    qtbot.waitExposed(v)
    s.step(200)
    v.place_legend()
    assert v.stop_points.isVisible()
    x, y = v.stop_points.getData()
    assert abs(float(x[0]) - s.t) <= 1  # the star on the step line
    half = 0.5 * float(v.stop_points.opts["size"])
    c = v.vb.mapViewToScene(QPointF(float(x[0]), float(y[0])))
    label = v.t_line.label
    assert label.isVisible()
    rect = _scene_rect(label)
    assert v._stars_under(rect) == 0
    assert not rect.intersects(QRectF(c.x() - half, c.y() - half, 2 * half, 2 * half))
    # (and a place on the star counts: the measure can tell)
    on = QRectF(c.x() - 5, c.y() - 5, 10, 10)
    assert v._stars_under(on) == pytest.approx(100.0)


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_the_keys_validation_sample_is_dashed(fit_view, qapp, scale):
    """The key's validation sample is drawn dashed, gaps and all, at 100 % and 200 % text:
    the pen's square or round ends closed its one-width gaps, and it looked like the
    training sample beside it."""
    from PySide6.QtGui import QColor, QImage, QPainter

    from gdviz.ui import theme

    v, s = fit_view
    theme.set_font_scale(qapp, scale)
    try:
        v._style_key()
        samples = {label.text: sample for sample, label in v.legend.items}
        from gdviz.core.i18n import tr

        bg = QColor(theme.palette(theme.current())["background"])
        rows = {}
        for key in ("train_loss", "val_loss"):
            sample = samples[tr(key)]
            im = QImage(40, 24, QImage.Format.Format_ARGB32)
            im.fill(bg)
            p = QPainter(im)
            sample.paint(p)
            p.end()
            rows[key] = "".join(
                "#" if abs(QColor(im.pixel(x, 11)).lightness() - bg.lightness()) > 60 else "."
                for x in range(1, 20))
        assert "." not in rows["train_loss"], rows
        assert "#." in rows["val_loss"] and ".#" in rows["val_loss"], rows  # gaps between dashes
    finally:
        theme.set_font_scale(qapp, 1.0)
        v._style_key()


def test_the_step_label_is_never_cut_at_the_plots_edge_in_the_window(window, qtbot):
    """L9 in the window at 200 % text (1280x720: the loss dock 422 px wide), iteration 200.
    The label was placed while the loss axis was narrow; then "10²" widened it, the plot's
    box lost 18 px with the panel's size the same, and the label stayed where it was: cut
    at the plot's right edge ("iteration 20"). The box's new size looks for the labels'
    places anew."""
    from PySide6.QtWidgets import QApplication

    from gdviz.core.scene import preset_path

    window.set_font_scale(2.0, announce=False)
    qtbot.waitUntil(window.layout_settled)
    assert window.open_scene(preset_path("L09"))
    s = window.session
    s.pause()
    s.step(200)
    qtbot.waitUntil(window.layout_settled)
    QApplication.processEvents()
    v = window.loss_view
    label = v.t_line.label
    assert label.isVisible()
    box = v.vb.sceneBoundingRect()
    rect = _scene_rect(label)
    assert box.adjusted(-0.5, -0.5, 0.5, 0.5).contains(rect), (box, rect)
    if label.format == "{value:.0f}":
        assert label.textItem.toPlainText() == "200"


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_every_legend_s_samples_sit_on_their_labels_line(window, scale):
    """A legend laid out on a new grid (sync_legend, set_legend_columns: the loss key, the
    map's runs, the fit panel's entries) centres each sample on its label's line, as
    pyqtgraph places it; at the row's top, the loss key's and the map's short samples sat
    above their words (seen at 200 % text)."""
    from gdviz.core.scene import preset_path

    win = window
    win.set_font_scale(scale)
    assert win.open_scene(preset_path("L13"))
    win.session.pause()
    win.session.step(40)
    QApplication.processEvents()
    legends = [win.loss_view.legend, win.landscape_view.legend, win.picture.fit_view.legend]
    checked = 0
    for legend in legends:
        for sample, label in legend.items:
            if not (sample.isVisible() and label.isVisible()):
                continue
            s, t = sample.sceneBoundingRect(), label.sceneBoundingRect()
            assert abs(s.center().y() - t.center().y()) <= 1.0, (label.text, s, t)
            checked += 1
    assert checked >= 5


def test_the_windows_view_computes_a_bounded_share_of_validation_rows_a_turn(view, sess, qtbot,
                                                                            monkeypatch):
    """A classifier of 4 x 32 units whose validation history is read anew: the window's view
    (its BuildPace on) computes the rows VAL_WORK affords in one refresh, and the rest in
    the turns after (1,356 rows in one turn took 200-260 ms in the GUI fuzz); the curves
    end as the session's own numbers. An export's view computes them all at once."""
    from gdviz.core.classifier import ClassifyData
    from gdviz.ui.views import loss_view
    from gdviz.ui.views.items import HistoryFeed

    sess.set_classify(ClassifyData(dataset="circles", points=300, layers=4, units=32))
    sess.add_run(RunSpec(config=make_optimizer("adam", lr=0.01)))
    sess.step(226)
    ref = sess.val_losses()
    rows = []
    real = type(sess.problem).val_loss
    monkeypatch.setattr(type(sess.problem), "val_loss",
                        lambda self, P, fast=None: (rows.append(len(P)), real(self, P, fast))[1])
    afford = int(loss_view.VAL_WORK // (len(sess.problem.x_val) * sess.problem.n_params))
    n = sess.n_runs
    assert 0 < afford < 226 * n

    def done():
        return all(np.array_equal(view.val_curves[r].getData()[1], ref[r]) for r in range(n))

    view.pace.enabled = True  # (the window's)
    view._history = HistoryFeed()  # the history fed anew
    view._val_rows = []  # nothing computed before
    view._on_stepped()
    assert rows == [afford + n]  # the rows afforded, and each run's head
    assert not done()
    qtbot.waitUntil(done)
    assert all(r <= afford + n for r in rows) and sum(rows) - n * len(rows) == 227 * n
    view.pace.enabled = False  # an export's: every row in the refresh
    view._history = HistoryFeed()
    view._val_rows = []
    rows.clear()
    view._on_stepped()
    assert rows == [227 * n + n] and done()
