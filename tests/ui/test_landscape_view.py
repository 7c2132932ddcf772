"""The landscape view follows the session; clicks and drags write to it; it really draws."""

from __future__ import annotations

import math
import os
import threading
import warnings

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage

from gdviz.core.optimizers import make_optimizer
from gdviz.core.session import RunSpec, Session
from gdviz.ui import theme
from gdviz.ui.views.landscape_view import LandscapeView

SHOTS = "/tmp/gdviz_shots"


@pytest.fixture
def sess() -> Session:
    return Session()


@pytest.fixture
def view(qtbot, sess) -> LandscapeView:
    v = LandscapeView(sess)
    qtbot.addWidget(v)
    v.resize(900, 700)
    v.show()
    qtbot.waitExposed(v)
    return v


class FakeClick:
    """What pyqtgraph's scene passes to sigMouseClicked, enough for the view's handler."""

    def __init__(self, scene_pos: QPointF, shift: bool = False):
        self._pos = scene_pos
        self._shift = shift
        self.accepted = False

    def button(self):
        return Qt.MouseButton.LeftButton

    def double(self):
        return False

    def isAccepted(self):
        return self.accepted

    def accept(self):
        self.accepted = True

    def scenePos(self):
        return self._pos

    def modifiers(self):
        return Qt.KeyboardModifier.ShiftModifier if self._shift else Qt.KeyboardModifier.NoModifier


def scene_point(view: LandscapeView, x: float, y: float) -> QPointF:
    return view.vb.mapViewToScene(QPointF(x, y))


# ------------------------------------------------------------------ model -> view
def test_builds_items_for_the_default_scene(view, sess):
    x, y = view.contour_data()
    assert x.size > 100 and x.size % 2 == 0  # pairs
    assert x.size == view.contours.getData()[1].size
    assert view._z.shape == (256, 256)
    img = view.image.image
    assert img.dtype == np.float32 and img.flags.c_contiguous and img.shape == (256, 256)
    assert len(view.trails) == 4 and len(view.start_items) == 1
    assert len(view.minima.data) == 1
    assert [it.opts["pen"].color().name().upper() for it in view.trails] == [c.upper() for c in sess.colors]
    assert view.trails[0].opts["pen"].widthF() >= 3
    labels = [lab.text for _, lab in view.legend.items]
    assert labels == [sess.spec_label(i) for i in range(4)]
    (x0, x1), (y0, y1) = view.vb.viewRange()
    assert (x0, x1, y0, y1) == pytest.approx(sess.landscape.view)


def test_a_heatmap_beyond_float32_on_both_sides_is_drawn_without_an_overflow(qapp):
    """x³ zoomed far out, linear levels: the heatmap's values span ±1e39. Clipped to
    float32's range, the image's rescale (value − low level, in float32) still overflowed:
    a RuntimeWarning from pyqtgraph in the 10k GUI fuzz. Clipped to half of it, the span
    fits, and the top and bottom colours are the extremes."""
    import warnings

    import pyqtgraph as pg

    from gdviz.ui.views.live_grid import grid_picture

    class Cubic:
        log_levels = False

        def grid(self, x0, x1, y0, y1, nx, ny):
            x = np.linspace(x0, x1, nx)
            return np.repeat((x ** 3 * 1e27)[None, :], ny, axis=0)

    pic = grid_picture(Cubic(), (-1e4, 1e4, -1.0, 1.0), 64, 10, False,
                       lambda *a: np.zeros((0, 2)), 100_000)
    assert np.isfinite(pic.img32).all() and pic.levels[0] < 0 < pic.levels[1]
    item = pg.ImageItem()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        item.setImage(pic.img32, autoLevels=False, levels=pic.levels)
        item.render()
    img = item.qimage
    corners = {img.pixelColor(x, y).name() for x in (0, img.width() - 1)
               for y in (0, img.height() - 1)}
    assert len(corners) == 2  # the two ends in two colours


@pytest.mark.parametrize("case", ["a deep pit", "a span of 1e-37", "flat at 1e30"])
def test_a_heatmap_with_a_pit_far_below_its_levels_or_a_subnormal_span_draws_without_an_overflow(
        qapp, case):
    """The heatmap's levels run from its 1st percentile up: a few cells far below (a pit
    of -1e36 beside a span of 1e-3) made pyqtgraph's float32 rescale, (value − low) × 256
    / span, overflow, as did a span too small for 256 / span in float32 (a flat stretch of
    a linear map zoomed in): "overflow encountered in multiply" from pyqtgraph, twice in a
    10k GUI fuzz run, on a scrub. The image is clipped to its levels (below
    them is the bottom colour either way), and such a span is one colour. The valley is
    looked for in the values themselves."""
    import warnings

    import pyqtgraph as pg

    from gdviz.ui.views.live_grid import grid_picture

    class Surface:
        log_levels = False

        def grid(self, x0, x1, y0, y1, nx, ny):
            if case == "flat at 1e30":  # (1 above it is no step in float32)
                return np.full((ny, nx), 1e30)
            x = np.linspace(0.0, 1.0, nx)
            z = np.repeat((x * (1e-3 if case == "a deep pit" else 1e-37))[None, :], ny, axis=0)
            if case == "a deep pit":
                z[3, 5] = z[40, 41] = -1e36
            return z

    seen = []

    def lowest(img, *box):
        seen.append(float(np.nanmin(img)))
        return np.zeros((0, 2))

    pic = grid_picture(Surface(), (0.0, 1.0, 0.0, 1.0), 64, 10, False, lowest, 100_000)
    lo, hi = pic.levels
    assert hi - lo > 1e-30 and lo <= pic.img32.min() and pic.img32.max() <= hi
    assert np.float32(hi) > np.float32(lo)
    if case == "a deep pit":
        assert seen == [pytest.approx(-1e36, rel=1e-6)] and lo == pytest.approx(0.0, abs=1e-4)
    item = pg.ImageItem()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        item.setImage(pic.img32, autoLevels=False, levels=pic.levels)
        item.render()


def test_step_updates_trails_and_heads(view, sess):
    sess.step(5)
    for trail in view.trails:
        xs, ys = trail.getData()
        assert len(xs) == 6
    assert len(view.heads.data) == 4
    np.testing.assert_allclose(view.heads.data["x"], sess.positions()[:, 0])
    sess.scrub(2)
    assert len(view.trails[0].getData()[0]) == 3


def test_problem_change_rebuilds(view, sess):
    before = view.contour_data()[0].copy()
    sess.set_surface("himmelblau")
    after = view.contour_data()[0]
    assert after.size > 0 and (after.size != before.size or not np.allclose(after, before))
    assert len(view.minima.data) == 4
    (x0, x1), (y0, y1) = view.vb.viewRange()
    assert (x0, x1, y0, y1) == pytest.approx((-6, 6, -6, 6))
    assert "himmelblau" in view.plot_item.titleLabel.text


def test_runs_changed_adds_items_and_hides_disabled(view, sess):
    sess.add_run(RunSpec(config=make_optimizer("adam", lr=0.01)))
    assert len(view.trails) == 5 and len(view.legend.items) == 5
    sess.update_run(1, enabled=False)
    assert not view.trails[1].isVisible()
    assert len(view.legend.items) == 4
    sess.add_start(0.0, 0.0)
    assert len(view.trails) == 10 and len(view.start_items) == 2


def test_diverged_run_is_marked(view, sess):
    sess.add_run(RunSpec(config=make_optimizer("sgd", lr=1.0)))
    sess.step(40)
    (r, k), = sess.diverged()
    assert len(view.diverged_marks.data) == 1
    label = view.diverged_labels[r]
    assert label.isVisible() and "diverged at step" in label.textItem.toPlainText()
    assert str(k) in label.textItem.toPlainText()
    # the mark stays on the visible map even when the run flew far away
    (x0, x1), (y0, y1) = view.vb.viewRange()
    mx, my = view.diverged_marks.data["x"][0], view.diverged_marks.data["y"][0]
    assert x0 <= mx <= x1 and y0 <= my <= y1
    assert len(view.heads.data) == 4  # the others still have their markers
    assert "✕" in [lab.text for _, lab in view.legend.items][-1]
    sess.scrub(0)
    assert not label.isVisible() and len(view.diverged_marks.data) == 0


def test_zoom_recomputes_grid_for_the_visible_box(qtbot, view, sess):
    view.vb.setRange(xRange=(0.5, 1.5), yRange=(0.5, 1.5), padding=0)
    qtbot.waitUntil(lambda: view._box == pytest.approx((0.5, 1.5, 0.5, 1.5)), timeout=2000)
    x, y = view.contour_data()
    assert x.size > 0 and x.min() >= 0.5 - 1e-9 and x.max() <= 1.5 + 1e-9
    view.view_all()
    qtbot.waitUntil(lambda: view._box == pytest.approx(sess.landscape.view), timeout=2000)


def test_heatmap_toggle(view):
    view.set_heatmap_visible(False)
    assert not view.image.isVisible() and not view.colorbar.isVisible()
    assert not view.heatmap_action.isChecked()
    view.heatmap_action.setChecked(True)
    assert view.image.isVisible()


def test_step_by_step_arrows(view, sess):
    sess.step(3)
    assert not view.arrow_legend.isVisible()
    sess.select(3)  # Adam: gradient, first moment and update
    assert view.arrow_legend.isVisible()
    for k in ("gradient", "momentum", "update"):
        x, _ = view.arrows[k].getData()
        assert x is not None and len(x) == 6, k  # shaft + two head strokes
    start = sess.positions(2)[3]
    x, y = view.arrows["update"].getData()
    assert (x[0], y[0]) == pytest.approx(tuple(start))
    sess.select(0)  # plain SGD has no momentum arrow
    x, _ = view.arrows["momentum"].getData()
    assert x is None or len(x) == 0
    sess.select(-1)
    assert not view.arrow_legend.isVisible()


# ------------------------------------------------------------------ view -> model
def test_click_sets_start_and_shift_click_adds(view, sess):
    view._on_scene_clicked(FakeClick(scene_point(view, 0.0, 0.5)))
    assert sess.starts == [pytest.approx((0.0, 0.5), abs=1e-6)]
    view._on_scene_clicked(FakeClick(scene_point(view, -1.0, 2.5), shift=True))
    assert len(sess.starts) == 2 and sess.starts[1] == pytest.approx((-1.0, 2.5), abs=1e-6)
    assert len(view.start_items) == 2


def test_real_mouse_click_on_the_viewport(qtbot, view, sess):
    p = view.mapFromScene(scene_point(view, 1.0, 0.0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=p)
    assert len(sess.starts) == 1
    assert sess.starts[0] == pytest.approx((1.0, 0.0), abs=0.03)
    # (a point clear of the legend, which is placed at the view's first paint: a click
    # on it is no new start)
    q = scene_point(view, 0.5, 2.5)
    assert not view.legend.sceneBoundingRect().contains(q)
    p = view.mapFromScene(q)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.ShiftModifier, pos=p)
    assert len(sess.starts) == 2


def test_click_on_the_legend_is_not_a_new_start(view, sess):
    x, y = view.legend.sceneBoundingRect().center().x(), view.legend.sceneBoundingRect().center().y()
    view._on_scene_clicked(FakeClick(QPointF(x, y)))
    assert sess.starts == [(-1.5, 2.0)]


def test_click_on_a_start_marker_is_not_a_new_start(view, sess):
    sess.add_start(0.0, 0.0)
    view._on_scene_clicked(FakeClick(scene_point(view, 0.0, 0.0)))
    assert len(sess.starts) == 2


def test_dragging_a_start_moves_it(view, sess):
    sess.add_start(0.0, 0.0)
    item = view.start_items[1]
    item.setPos(QPointF(0.5, 1.5))  # what TargetItem's drag handler does
    assert sess.starts[1] == pytest.approx((0.5, 1.5))
    assert view.start_items[1] is item  # the dragged item survives the session's update
    assert sess.starts[0] == (-1.5, 2.0)


# ------------------------------------------------------------------ theme and fonts
def test_theme_switch_restyles(qapp, view):
    theme.apply(qapp, "light")
    qapp.processEvents()
    assert view.backgroundBrush().color().name() == "#ffffff"
    theme.apply(qapp, "dark")
    qapp.processEvents()
    assert view.backgroundBrush().color().name() == theme.palette("dark")["background"]


def test_font_scale(qapp, view):
    small = view.plot_item.getAxis("bottom").style["tickFont"].pointSizeF()
    assert small >= 14
    font = qapp.font()
    try:
        theme.set_font_scale(qapp, 1.5)
        qapp.processEvents()
        big = view.plot_item.getAxis("bottom").style["tickFont"].pointSizeF()
        assert big == pytest.approx(1.5 * small)
    finally:
        theme._state["scale"] = 1.0
        qapp.setFont(font)


# ------------------------------------------------------------------ pixels
def _pixels(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return a[:, : img.width(), :3].astype(int)


def _scene_px(view, x, y) -> tuple[int, int]:
    p = view.mapFromScene(scene_point(view, x, y))
    dpr = view.devicePixelRatioF()
    return int(p.x() * dpr), int(p.y() * dpr)


@pytest.mark.parametrize("name", ["dark", "light"])
def test_render_draws_contours_and_trails(qapp, qtbot, name):
    theme.apply(qapp, name)
    s = Session()
    s.add_run(RunSpec(config=make_optimizer("sgd", lr=1.0)))  # one diverges: ✕ in the shot
    v = LandscapeView(s)
    qtbot.addWidget(v)
    v.resize(1000, 800)
    v.show()
    qtbot.waitExposed(v)
    bg = np.array(QColor(theme.palette(name)["background"]).getRgb()[:3])

    # contours alone (heatmap off): plenty of pixels differ from the background
    v.set_heatmap_visible(False)
    qapp.processEvents()
    bare = _pixels(v.grab().toImage())
    x0, y0 = _scene_px(v, -1.9, 2.9)
    x1, y1 = _scene_px(v, 1.9, -0.9)
    plot = bare[y0:y1, x0:x1]
    off_bg = (np.abs(plot - bg).sum(axis=2) > 60).mean()
    assert 0.03 < off_bg < 0.6, off_bg
    v.set_heatmap_visible(True)

    qapp.processEvents()
    before = _pixels(v.grab().toImage())
    s.step(150)
    s.select(3)
    qapp.processEvents()
    after_img = v.grab().toImage()
    after = _pixels(after_img)
    changed = np.abs(after - before).sum(axis=2) > 60
    # pixels change along each run's trail (sample its middle point)
    for r in range(4):
        path = s.trails()[r]
        mx, my = path[len(path) // 2]
        px, py = _scene_px(v, mx, my)
        assert changed[py - 3: py + 4, px - 3: px + 4].any(), s.run_label(r)
    # and in a corner far from every run nothing moved
    cx, cy = _scene_px(v, 0.0, -0.8)
    assert not changed[cy - 3: cy + 4, cx - 3: cx + 4].any()
    os.makedirs(SHOTS, exist_ok=True)
    after_img.save(os.path.join(SHOTS, f"landscape_{name}.png"))


# ------------------------------------------------------------------ data problems
def test_regression_map_with_the_minibatch_surface(view, sess):
    from gdviz.core.problems import RegressionData

    sess.set_regression(RegressionData(n=40), batch_size=8)
    assert view.plot_item.getAxis("bottom").labelText == "w"
    assert view.plot_item.getAxis("left").labelText == "b"
    assert len(view.minima.data) == 1  # the least-squares (w, b)
    assert not view.batch_contours.isVisible()
    sess.set_view_options(batch_surface=True)
    sess.step(1)
    assert view.batch_contours.isVisible()
    first = view.batch_contours.getData()[0].copy()
    sess.step(1)  # another mini-batch, another surface
    assert not np.array_equal(view.batch_contours.getData()[0], first)
    sess.set_batch_size(40)  # the full batch is the map itself: nothing extra to draw
    sess.step(1)
    assert not view.batch_contours.isVisible()


def test_fit_slice_follows_the_run(view, sess):
    from gdviz.core.problems import FitData

    sess.set_fit(FitData(target="sine", model="sigmoid", units=3))
    assert view.plot_item.getAxis("bottom").labelText == "c1"
    z0 = view._z.copy()
    trail0 = view.trails[0].getData()
    sess.step(30)
    assert not np.array_equal(view._z, z0)  # the slice moved with the parameters
    x, y = view.trails[0].getData()
    np.testing.assert_allclose(np.column_stack([x, y]), sess.trails()[0])
    assert len(x) == 31 and len(trail0[0]) == 1
    # clicking the slice sets c1 and c2 of the start, keeping the rest
    p = sess.params_now()
    x0, x1, y0, y1 = sess.view_box
    cx, cy = x0 + 0.25 * (x1 - x0), y1 - 0.25 * (y1 - y0)  # clear of the legend
    view._on_scene_clicked(FakeClick(scene_point(view, cx, cy)))
    assert sess.t == 0
    np.testing.assert_allclose([sess.starts[0][3], sess.starts[0][6]], [cx, cy], atol=1e-6)
    np.testing.assert_array_equal(np.delete(sess.starts[0], [3, 6]), np.delete(p, [3, 6]))


def test_fit_arrows_are_projected(view, sess):
    from gdviz.core.problems import FitData

    sess.set_fit(FitData(model="quadratic"))
    sess.select(0)
    sess.step(3)
    x, y = view.arrows["update"].getData()
    p0 = sess.project(sess.positions(2)[0])
    assert np.allclose([x[0], y[0]], p0)


def test_a_rugged_surface_draws_a_bounded_number_of_contour_segments(qtbot):
    # the GUI fuzz: a wheel turn over a surface that crosses every level in every cell
    # blocked for tens of seconds stroking the contours; past the budget, fewer levels
    from gdviz.core.session import Session
    from gdviz.ui.views import landscape_view as lv

    session = Session()
    assert session.set_expression("sin(60*x)*sin(60*y)")
    view = lv.LandscapeView(session)
    qtbot.addWidget(view)
    x, _ = view.contour_data()
    assert 0 < len(x) // 2 <= lv.MAX_CONTOUR_SEGMENTS


def test_a_rugged_surface_s_contours_are_counted_before_they_are_written(monkeypatch):
    """The GUI fuzz, a map zoomed far out over a rugged surface: its picture wrote all
    ~900,000 segments of 20 levels (~100 ms, in a turn of the UI thread) and then drew
    every 25th level. The count comes first; only the levels drawn are written."""
    import gdviz.kernels as kernels
    from gdviz.kernels import contour as C
    from gdviz.ui.views.live_grid import MAX_CONTOUR_SEGMENTS, grid_picture

    class Rugged:
        log_levels = False

        def grid(self, x0, x1, y0, y1, nx, ny):
            return 20.0 + 2.34 * np.random.default_rng(0).random((ny, nx))

    written = []
    real = C._fill_rows
    monkeypatch.setattr(C, "_fill_rows", lambda *a: written.append(len(a[-1])) or real(*a))
    box = (-1e5, 1e5, -1e5, 1e5)
    was_ready = kernels.is_ready()
    kernels.mark_ready(True)  # (the kernels' path, as once they are compiled)
    try:
        pic = grid_picture(Rugged(), box, 256, 20, False, lambda *a: np.zeros((0, 2)),
                           MAX_CONTOUR_SEGMENTS)
    finally:
        kernels.mark_ready(was_ready)
    assert len(written) == 1 and written[0] <= MAX_CONTOUR_SEGMENTS
    z = Rugged().grid(*box, 256, 256)
    levels = C.nice_levels(z, 20, False)
    n = len(C.contour_segments(z, *box, levels, fast=True)[1])
    assert n > 25 * MAX_CONTOUR_SEGMENTS  # (every 26th level or fewer is drawn)
    want, _ = C.contour_segments(z, *box, levels[::-(-n // MAX_CONTOUR_SEGMENTS)], fast=True)
    assert np.array_equal(pic.xy, want)


def test_step_arrows_share_one_scale_and_the_update_is_on_top(view, sess, qtbot):
    # issue 9 (L15): the SGD update is the −gradient times the lr; drawn on their own
    # scales they coincided and the update hid under the −gradient
    sess.step(3)
    sess.select(0)  # SGD
    view.resize(700, 500)
    qtbot.waitUntil(lambda: view.vb.width() > 300)
    view._update_arrows()
    px, py = view.vb.viewPixelSize()

    def pixels(k):
        x, y = view.arrows[k].getData()
        return math.hypot((x[1] - x[0]) / px, (y[1] - y[0]) / py)

    d = sess.details(0)
    g, delta = sess.project(d["g"]), sess.project(d["delta"])
    true_ratio = math.hypot(*delta) / math.hypot(*g)
    drawn = pixels("update") / pixels("gradient")
    assert drawn == pytest.approx(max(true_ratio, 16.0 / pixels("gradient")), rel=1e-6)
    assert drawn < 0.9  # visibly shorter than the −gradient it lies along
    assert view.arrows["update"].zValue() > view.arrows["gradient"].zValue()
    # the key states the scale; the table has the true values
    scale = pixels("gradient") / math.hypot(g[0] / px, g[1] / py)
    note = [lab.text for _, lab in view.arrow_legend.items]
    assert f"×{scale:.3g}" in note[0] and not any("×" in t for t in note[1:]), note

    # SGD draws no momentum arrow, and its key does not list one (it did, in L15)
    assert [lab.text.split("  ×")[0] for _, lab in view.arrow_legend.items] == ["−gradient", "update Δ"]


def test_the_arrows_key_lists_the_arrows_drawn(view, sess, qtbot):
    """The key follows the selected run: a momentum run's key has its momentum arrow,
    plain SGD's does not; the scale note stays on the first entry."""
    from gdviz.core.optimizers import make_optimizer
    from gdviz.core.session import RunSpec

    sess.add_run(RunSpec(config=make_optimizer("momentum", lr=0.01, momentum=0.9)))
    sess.step(3)
    view.resize(700, 500)
    qtbot.waitUntil(lambda: view.vb.width() > 300)

    def keys():
        view._update_arrows()
        return [lab.text.split("  ×")[0] for _, lab in view.arrow_legend.items]

    sess.select(sess.n_runs - 1)
    assert keys() == ["−gradient", "momentum / 1st moment", "update Δ"]
    assert "×" in view.arrow_legend.items[0][1].text
    sess.select(0)
    assert keys() == ["−gradient", "update Δ"]
    assert "×" in view.arrow_legend.items[0][1].text


def test_the_arrows_key_is_retranslated_in_place_and_lets_a_dropped_row_go_to_qt(
        view, sess, qtbot, monkeypatch):
    """A language change writes the key's labels in place (LegendItem.clear() left its rows
    to Python, and a row caught in a cycle waited for the collector: the GUI fuzz counted a
    LabelItem it freed); an arrow no longer drawn keeps its row hidden for the next, or
    goes to Qt's deferred deletion (delete_later), never to Python's collector."""
    from gdviz.core.i18n import set_language
    from gdviz.core.optimizers import make_optimizer
    from gdviz.core.session import RunSpec
    from gdviz.ui.views import placement

    sess.add_run(RunSpec(config=make_optimizer("momentum", lr=0.01, momentum=0.9)))
    sess.step(3)
    sess.select(sess.n_runs - 1)
    view._update_arrows()
    rows = list(view.arrow_legend.items)
    assert len(rows) == 3
    try:
        set_language("zh-Hans")
        view.retranslate()
        assert [r[1] for r in view.arrow_legend.items] == [r[1] for r in rows]
        assert view.arrow_legend.items[0][1].text.startswith("−梯度"), \
            view.arrow_legend.items[0][1].text
    finally:
        set_language("en")
        view.retranslate()
    let_go = []
    monkeypatch.setattr(placement, "SPARE_ROWS", 0)
    monkeypatch.setattr(placement, "delete_later", lambda *objs: let_go.extend(objs))
    sess.select(0)
    view._update_arrows()
    assert len(view.arrow_legend.items) == 2
    assert rows[1][1] in let_go and rows[1][0] in let_go  # the momentum row, to Qt


def test_a_step_with_no_arrow_drawn_hides_the_key(view, sess, qtbot, monkeypatch):
    """A step whose arrows are all too small or not finite draws none: its key was shown
    empty, and placing it asked for zero columns (a ZeroDivisionError from the GUI fuzz,
    on a run card's click and a run's removal)."""
    sess.step(3)
    view.resize(700, 500)
    qtbot.waitUntil(lambda: view.vb.width() > 300)
    sess.select(0)
    view._update_arrows()
    assert view.arrow_legend.isVisible() and view.arrow_legend.items
    monkeypatch.setattr(view, "_arrow_vectors",
                        lambda raw: ({k: None for k in view.arrow_names}, None))
    view._update_arrows()
    assert not view.arrow_legend.isVisible()
    view.place_legends()  # (raised)
    view.arrow_legend.setVisible(True)  # an empty key placed anyway: one column
    view.arrow_legend.clear()
    view._arrow_shown = ()
    view.place_legends()
    assert view.arrow_legend.columnCount == 1


@pytest.mark.usefixtures("earlier_windows_deleted")  # (the slices are timed)
def test_a_live_slice_comes_from_the_worker_while_playing_and_is_exact_when_paused(view, sess, qtbot):
    # the classifier's slice through the reference run is computed off the UI thread
    # while the race plays (shown a frame later, when it arrives); paused, the map shows
    # the exact slice at the displayed step at once
    from gdviz.core.classifier import ClassifyData

    assert sess.set_classify(ClassifyData("xor", points=80, layers=2, units=4))
    view.adaptive = False  # a fixed grid, whatever this machine's speed
    land = sess.landscape

    def exact():
        n = view._z.shape[0]
        return land.grid(*view._box, n, n)

    np.testing.assert_array_equal(view._z, exact())
    sess.set_speed(60.0)
    view.adaptive = True
    sess.play()
    for _ in range(3):
        shown = view._land_key[0]
        assert sess.tick(1 / 60) == 1
        # the step is taken; its slice is on its way, the map still shows the last one
        assert view._live_worker is not None and view._land_key[0] == shown != land.key()
        qtbot.waitUntil(lambda: view._land_key[0] == land.key(), timeout=10_000)
        np.testing.assert_array_equal(view._z, exact())
    sess.tick(1 / 60)
    assert view._land_key[0] != land.key()
    sess.pause()
    assert view._land_key[0] == land.key()
    np.testing.assert_array_equal(view._z, exact())
    # paused, the slice is on the full live grid, however coarse this machine's speed made
    # it while playing (a slow machine's coarse picture stood still, unlike its export's)
    from gdviz.ui.views.landscape_view import LIVE_GRID, LIVE_GRID_MIN

    full = min(view.grid_size, LIVE_GRID)
    assert full > LIVE_GRID_MIN
    sess.play()
    view.live_grid = LIVE_GRID_MIN
    assert sess.tick(1 / 60) == 1
    qtbot.waitUntil(lambda: view._land_key[0] == land.key(), timeout=10_000)
    assert view._z.shape == (LIVE_GRID_MIN, LIVE_GRID_MIN)
    sess.pause()
    assert view._z.shape == (full, full)
    np.testing.assert_array_equal(view._z, exact())


def _spy_grid_jobs(view, monkeypatch, gate=None) -> list:
    """The threads the map's grid pictures are computed on, in a list filled as they run;
    with ``gate``, a picture off the UI thread waits for it (a slow slice until the test
    sets it)."""
    ui = threading.get_ident()
    threads = []
    real = view._grid_job

    def job(*a):
        fn = real(*a)

        def picture():
            threads.append(threading.get_ident())
            if gate is not None and threading.get_ident() != ui:
                assert gate.wait(10)
            return fn()

        return picture

    monkeypatch.setattr(view, "_grid_job", job)
    return threads


@pytest.mark.live_defer
def test_a_slow_static_surface_goes_to_the_worker_and_a_cheap_one_is_drawn_here(
        view, sess, qtbot, monkeypatch):
    """A regression map of 100,000 points under MAE took ~1 s in the window's turn (2.8 s
    before its kernel sorted the offsets), at each change of the loss and each zoom. A
    surface that is not live whose grid passes SLOW_GRID_WORK now goes to the worker as a
    live slice does, and is drawn when it lands (exactly); MSE's is computed here. A
    mini-batch's own surface, computed at each step, gets a grid within the same work."""
    from gdviz.core.problems import RegressionData
    from gdviz.ui.views import landscape_view

    monkeypatch.setattr(landscape_view, "LIVE_SYNC_MS", 0.0)
    monkeypatch.setattr(landscape_view, "SLOW_GRID_WORK", 200_000)  # (2,000 points: MAE's)
    ui = threading.get_ident()
    gate = threading.Event()
    threads = _spy_grid_jobs(view, monkeypatch, gate)
    assert sess.set_regression(RegressionData(n=2000, loss="mse"))
    assert threads and set(threads) == {ui} and view._z is not None  # (cheap: here)
    threads.clear()
    assert sess.set_regression(RegressionData(n=2000, loss="mae"))
    land = sess.landscape
    assert view._live_sent is not None and view._live_sent[0] == ("static", land)
    assert ui not in threads  # the turn did not compute it
    gate.set()
    qtbot.waitUntil(lambda: view._live_sent is None, timeout=10_000)
    assert threads and ui not in threads
    n = view._z.shape[0]
    np.testing.assert_array_equal(view._z, land.grid(*view._box, n, n))
    # an export (flush) computes a picture still on its way
    gate.clear()
    view.vb.setRange(xRange=(0.0, 3.0), yRange=(-1.0, 2.0), padding=0)
    view._on_grid_timer()
    assert view._live_sent is not None
    gate.set()
    view.flush()
    assert view._live_sent is None and view._box[:2] == pytest.approx((0.0, 3.0), abs=0.5)
    # the mini-batch surface's grid: within the work, or the smallest
    assert view._batch_n(land, 2000) == landscape_view.BATCH_GRID_MIN
    big = land.grid_work(view._live_n(), view._live_n(), 2000)
    monkeypatch.setattr(landscape_view, "SLOW_GRID_WORK", big)
    assert view._batch_n(land, 2000) == view._live_n()


@pytest.mark.live_defer
def test_a_slow_paused_slice_goes_to_the_worker_and_the_window_stays_free(view, sess, qtbot, monkeypatch):
    # paused, a live slice is computed on the worker and the UI thread waits LIVE_SYNC_MS
    # for it: a slower one (a deep network's took 0.2-2 s) is drawn when it lands, the
    # last picture shown until then; flush() (an export) computes one still on its way
    from gdviz.core.classifier import ClassifyData
    from gdviz.ui.views import landscape_view

    monkeypatch.setattr(landscape_view, "LIVE_SYNC_MS", 5000.0)
    assert sess.set_classify(ClassifyData("xor", points=80, layers=2, units=4))
    land = sess.landscape
    sess.pause()
    ui = threading.get_ident()
    gate = threading.Event()  # the worker's slices wait for it: "slow" until the test says
    gate.set()
    threads = _spy_grid_jobs(view, monkeypatch, gate)
    from gdviz.ui.views import live_grid, refresh

    # the UI thread waits for the slice after the step's other refreshes (here one asked
    # for after the map's), which the worker's computing overlaps; not inside its signal
    others = []
    sess.stepped.connect(lambda *_: refresh.later(sess, lambda: others.append(1)))
    waited = []
    real_wait = live_grid.LiveGridWorker.wait
    monkeypatch.setattr(live_grid.LiveGridWorker, "wait", lambda w, *a: (
        waited.append((sess.notifying, len(others))), real_wait(w, *a))[1])
    sess.step(3)  # in time (LIVE_SYNC_MS): drawn at once, from the worker
    assert view._land_key[0] == land.key() and view._live_sent is None
    assert waited == [(False, 1)]
    assert threads and ui not in threads

    def exact():
        n = view._z.shape[0]
        return land.grid(*view._box, n, n)

    np.testing.assert_array_equal(view._z, exact())
    monkeypatch.setattr(landscape_view, "LIVE_SYNC_MS", 0.0)
    gate.clear()
    shown = view._land_key[0]
    sess.step_back()
    assert view._land_key[0] == shown != land.key()  # the last picture, until the new one lands
    assert view._live_sent is not None
    sess.step_back()  # a second press while the first is computed: the newest is sent
    gate.set()
    qtbot.waitUntil(lambda: view._land_key[0] == land.key(), timeout=10_000)
    assert view._live_sent is None
    np.testing.assert_array_equal(view._z, exact())
    assert ui not in threads  # none of them on the UI thread
    # a change that has taken its turn's budget (LIVE_TURN_MS) does not wait: the slice is
    # drawn when it lands
    monkeypatch.setattr(landscape_view, "LIVE_SYNC_MS", 5000.0)
    monkeypatch.setattr(landscape_view, "LIVE_TURN_MS", 0.0)
    asked = []
    monkeypatch.setattr(live_grid.LiveGridWorker, "wait", lambda w, gen, timeout: (
        asked.append(timeout), real_wait(w, gen, timeout))[1])
    gate.clear()
    with refresh.held():
        sess.step(1)
    assert asked == [0.0]
    assert view._live_sent is not None and view._land_key[0] != land.key()
    gate.set()
    qtbot.waitUntil(lambda: view._land_key[0] == land.key(), timeout=10_000)
    monkeypatch.setattr(landscape_view, "LIVE_SYNC_MS", 0.0)
    # a zoom: the old picture moved and scaled (interim) until the new box's slice lands
    gate.clear()
    (x0, x1), (y0, y1) = view.vb.viewRange()
    view._recompute_grid((x0, (x0 + x1) / 2, y0, (y0 + y1) / 2))
    assert view.contours.interim
    gate.set()
    qtbot.waitUntil(lambda: not view.contours.interim, timeout=10_000)
    assert view._box == (x0, (x0 + x1) / 2, y0, (y0 + y1) / 2)
    np.testing.assert_array_equal(view._z, exact())
    # flush (an export's frame) never leaves a slice on its way: computed there
    gate.clear()
    sess.step(1)
    assert view._live_sent is not None
    view.flush()
    assert view._live_sent is None and view._land_key[0] == land.key()
    np.testing.assert_array_equal(view._z, exact())
    gate.set()
    # a new problem's slow slice: the old problem's map is cleared, not shown meanwhile
    gate.clear()
    assert sess.set_classify(ClassifyData("circles", points=60, layers=1, units=3))
    assert view._z is None and len(view.contour_data()[0]) == 0
    gate.set()
    qtbot.waitUntil(lambda: view._z is not None, timeout=10_000)
    assert view._land_key[0] == sess.landscape.key()


@pytest.mark.live_defer
def test_playing_a_new_box_s_or_problem_s_slice_is_computed_on_the_worker(view, sess, qtbot, monkeypatch):
    # while the race plays, a zoom's or a new problem's live slice goes to the worker as
    # the steps' do (the UI thread waits LIVE_SYNC_MS for it, as paused): computed on the
    # UI thread, a fit's slice after a change of its data took 200-330 ms there before the
    # kernels were compiled
    from gdviz.core.classifier import ClassifyData
    from gdviz.ui.views import landscape_view

    monkeypatch.setattr(landscape_view, "LIVE_SYNC_MS", 5000.0)  # drawn in the same turn
    assert sess.set_classify(ClassifyData("xor", points=80, layers=2, units=4))
    ui = threading.get_ident()
    threads = _spy_grid_jobs(view, monkeypatch)
    sess.set_speed(60.0)
    sess.play()
    assert sess.tick(1 / 60) == 1
    qtbot.waitUntil(lambda: view._land_key[0] == sess.landscape.key(), timeout=10_000)
    (x0, x1), (y0, y1) = view.vb.viewRange()
    half = (x0, (x0 + x1) / 2, y0, (y0 + y1) / 2)
    view._recompute_grid(half)
    assert sess.playing and view._box == half
    assert view._land_key[0] == sess.landscape.key() and not view.contours.interim
    np.testing.assert_array_equal(view._z, sess.landscape.grid(*half, *view._z.shape))
    assert sess.set_classify(ClassifyData("circles", points=60, layers=1, units=3))
    sess.play()
    assert sess.tick(1 / 60) == 1
    qtbot.waitUntil(lambda: view._z is not None and view._land_key[0] == sess.landscape.key(),
                    timeout=10_000)
    assert len(threads) >= 3 and ui not in threads


def test_a_zoom_repaints_the_old_contours_and_recomputes_once_settled(qtbot, view, sess):
    """A wheel turn or a drag moves the view at once; the grid and contours of the new box
    are computed once the view stands still (one recompute for a burst of moves), and until
    then the contours repaint their kept image without a new raster."""
    from gdviz.ui.views import landscape_view as LV

    view.grab()
    box0 = view._box
    renders = view.contours.renders
    calls = []
    real = view._recompute_grid
    view._recompute_grid = lambda box, **kw: calls.append(box) or real(box, **kw)
    for k in range(5):  # a burst of zooms
        view.vb.scaleBy((0.8, 0.8))
        view.grab()
        assert view._box == box0 and view.contours.interim
    assert view.contours.renders == renders and calls == []
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=2000)
    qtbot.wait(2 * LV.SETTLE_MS)
    assert len(calls) == 1  # once for the whole burst
    (x0, x1), (y0, y1) = view.vb.viewRange()
    assert view._box == pytest.approx((x0, x1, y0, y1)) and not view.contours.interim
    view.grab()
    assert view.contours.renders > renders  # the exact contours of the new box


def test_a_zoom_moves_the_trails_pixels_then_draws_them_anew_a_bounded_share_a_paint(qtbot, view, sess):
    """The trails' sealed pieces (rasterised, as the contours): during a burst of zooms they
    draw their kept images moved and scaled, with no new raster; once the grid of the new
    box comes, each paint draws anew only what its RasterBudget allows (here one piece),
    the rest in the next paints, and the map ends as one paint drawing all of them would.
    (L12 with six zig-zagging runs at step 1,000: all ~80 pieces stroked in one paint, 270
    ms a zoom.)"""
    from gdviz.ui.views.raster_item import RasterCurve

    sess.step(700)
    for _ in range(10):  # (the chunks still to seal sealed, one a frame: no new data below)
        view._on_stepped()
    view.raster_budget.ms = 1e-9  # one piece a paint: the first
    view.grab()  # (every piece drawn: new data wait too, and this test is about zooms)
    view.raster_budget.enabled = True

    def pieces():
        return [c for g in (*view.trails, *view.halos) for c in (*g.chunks, g.middle)
                if c.xData.size >= 2]

    ps = pieces()
    assert len(ps) >= 4 and all(isinstance(c, RasterCurve) for c in ps)
    qtbot.waitUntil(lambda: not view.raster_budget._owed)
    before = [c.renders for c in ps]
    for _ in range(3):  # (0.9^3: not the 2x zoom that decimates the trails anew)
        view.vb.scaleBy((0.9, 0.9))
        view.grab()
        assert view.contours.interim and all(c.interim for c in ps)
    assert [c.renders for c in ps] == before  # moved and scaled, not drawn anew
    assert view._grid_timer.isActive()
    view._on_grid_timer()  # the view stood still: the new box's grid (no paint between)
    assert not view.contours.interim and not any(c.interim for c in ps)
    view.grab()
    assert sum(c.renders for c in ps) - sum(before) == 1  # the budget's one piece
    assert view.raster_budget._owed
    qtbot.waitUntil(lambda: all(c.renders == b + 1 for c, b in zip(ps, before))
                    and not view.raster_budget._owed, timeout=5000)
    view.raster_budget.enabled = False
    view.grab()
    assert all(c.renders == b + 1 for c, b in zip(ps, before))  # none was left stale


def test_step_arrows_of_wildly_different_sizes_are_drawn_without_error(view):
    """The arrows share one scale; one 600 orders of magnitude shorter than the longest
    scaled to exactly 0 and divided by it (ZeroDivisionError, found by the GUI fuzz). It is
    drawn ARROW_MIN_PX long in its own direction; a vector too long for floats in pixels
    is left out."""
    import math

    from gdviz.ui.views.landscape_view import ARROW_MIN_PX

    px, py = view.vb.viewPixelSize()
    raw = {"grad": np.array([1e300, 0.0]), "update": np.array([0.0, -1e-300]),
           "momentum": np.array([3.0, 4.0])}
    out, scale = view._arrow_vectors(raw)
    assert scale is not None and scale > 0
    up = out["update"]
    assert up is not None and up[0] == 0.0 and up[1] < 0
    assert math.hypot(up[0] / (px or 1.0), up[1] / (py or 1.0)) == pytest.approx(ARROW_MIN_PX)
    huge = {"grad": np.array([1e308, 1e308]), "update": np.array([1.0, 0.0])}
    out, _ = view._arrow_vectors(huge)
    assert out["update"] is not None
    # all of them tiny: a scale of inf, and 0 x inf a NaN (a RuntimeWarning in the GUI
    # fuzz); each is drawn ARROW_MIN_PX long in its direction, without a warning
    tiny = {"grad": np.array([0.0, 1e-320]), "update": np.array([-1e-321, 0.0])}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, scale = view._arrow_vectors(tiny)
    for k, v in tiny.items():
        w = out[k]
        assert w is not None and np.isfinite(w).all() and np.array_equal(np.sign(w), np.sign(v))
        assert math.hypot(w[0] / (px or 1.0), w[1] / (py or 1.0)) == pytest.approx(ARROW_MIN_PX)


def test_a_run_added_or_removed_writes_only_its_legend_entry(view, sess):
    """A run added makes one label of the runs' legend, a run removed none; each entry's
    sample draws its run's trail, in the runs' order."""
    sess.add_run(RunSpec(config=make_optimizer("adam", lr=0.01)))
    made = view.legend_labels_made
    sess.add_run(RunSpec(config=make_optimizer("sgd", lr=0.02)))
    assert view.legend_labels_made == made + 1
    sess.remove_run(1)
    assert view.legend_labels_made == made + 1
    texts = [lab.text for _, lab in view.legend.items]
    assert texts == [sess.spec_label(i) for i in range(sess.n_specs)]
    assert [sample.item for sample, _ in view.legend.items] == [
        view.trails[sess.runs_of_spec(i)[0]].prefix for i in range(sess.n_specs)]


def test_a_legend_entry_dropped_is_kept_hidden_and_taken_by_the_next_one(view, sess):
    """A run removed leaves its legend row hidden, kept; the next run added takes it (no
    label made): written with its own text, in the legend's colour, drawing its own trail."""
    sess.add_run(RunSpec(config=make_optimizer("adam", lr=0.01)))
    sess.add_run(RunSpec(config=make_optimizer("sgd", lr=0.02)))
    rows = list(view.legend.items)
    sess.remove_run(sess.n_runs - 1)
    dropped = rows[-1]
    assert dropped not in view.legend.items and not any(p.isVisible() for p in dropped)
    made = view.legend_labels_made
    sess.add_run(RunSpec(config=make_optimizer("rmsprop", lr=0.005)))
    assert view.legend_labels_made == made
    sample, label = view.legend.items[-1]
    assert (sample, label) == dropped and sample.isVisible() and label.isVisible()
    assert label.text == sess.spec_label(sess.n_specs - 1)
    assert label.opts["color"] == view.legend.opts["labelTextColor"]
    assert sample.item is view.trails[sess.runs_of_spec(sess.n_specs - 1)[0]].prefix
    texts = [lab.text for _, lab in view.legend.items]
    assert texts == [sess.spec_label(i) for i in range(sess.n_specs)]


def test_close_drops_a_held_live_picture(qtbot, sess):
    """A live surface's picture held for the next frame was drawn after the view closed,
    on items pyqtgraph had torn down ("already deleted", now and then in a teardown)."""
    view = LandscapeView(sess)  # (closed here: not the qtbot's to close again)
    view.show()
    qtbot.waitExposed(view)
    view._live_inbox.hold(0, None, None)
    view.close()
    assert not view._live_inbox.pending
    view.deleteLater()


@pytest.mark.parametrize("size,smaller", [((900, 360), False), ((700, 300), True)])
def test_the_arrows_key_takes_a_smaller_text_on_a_short_map(qtbot, size, smaller):
    """L11 after one step: on a roomy map the arrows' key keeps its text; on a short one,
    where each corner of its full-size column covered the run or its arrows, it takes a
    smaller text (not below LEGEND_MIN_K) in a corner clear of them and of the minimum."""
    from PySide6.QtCore import QPointF

    from gdviz.core.scene import apply_scene, load_preset
    from gdviz.ui.views import landscape_view as lv

    s = Session()
    apply_scene(load_preset("L11_momentum_explained"), s)
    s.pause()
    s.step(1)
    v = LandscapeView(s)
    qtbot.addWidget(v)
    v.resize(*size)
    v.show()
    qtbot.waitExposed(v)
    v._update_arrows()
    v.place_legends()
    assert v.arrow_legend.isVisible()
    assert (v._arrow_key_size < 1.0) == smaller
    assert v._arrow_key_size >= lv.LEGEND_MIN_K
    rect = v.arrow_legend.mapRectToScene(v.arrow_legend.boundingRect())
    assert not rect.contains(v.vb.mapViewToScene(QPointF(*s.landscape.minima[0])))


def test_the_live_workers_wait_returns_its_job_in_time_and_nothing_for_a_dropped_one(qtbot):
    """LiveGridWorker.wait: the job's result once done (in time); None past the timeout,
    for a job a newer one replaced before it started, and for one cancelled."""
    from PySide6.QtCore import QObject

    from gdviz.ui.views.live_grid import LiveGridWorker

    owner = QObject()  # (a worker is freed with its parent, on this thread)
    w = LiveGridWorker(owner)
    gate = threading.Event()
    started = threading.Event()

    def slow(v):
        def fn():
            started.set()
            assert gate.wait(10)
            return v
        return fn

    try:
        g1 = w.submit("a", lambda: 1)
        assert w.wait(g1, None) == 1
        g2 = w.submit("b", slow(2))
        assert started.wait(10)
        assert w.wait(g2, 0.0) is None  # not done in time
        g3 = w.submit("c", lambda: 3)  # waits behind b
        g4 = w.submit("d", lambda: 4)  # replaces c before it started
        assert w.wait(g3, None) is None
        gate.set()
        assert w.wait(g4, None) == 4
        gate.clear()
        started.clear()
        g5 = w.submit("e", slow(5))
        assert started.wait(10)
        g6 = w.submit("f", lambda: 6)
        w.cancel()  # f dropped before it started
        gate.set()
        assert w.wait(g6, None) is None
        assert w.wait(g5, None) == 5
        # a job cancelled before the idle worker woke for it: the wait ends (no timeout)
        g7 = w.submit("g", lambda: 7)
        w.cancel()
        assert w.wait(g7, None) in (None, 7)
    finally:
        gate.set()
        w.stop()


def test_a_long_expressions_picture_is_computed_on_a_coarser_grid_in_the_window(qtbot, sess):
    """A typed expression near its 2000 characters took ~110 ms on the 256 x 256 grid at
    every zoom, resize, projector or text size: it is computed on a grid whose work
    (instructions x cells) stays within STATIC_GRID_WORK, never under STATIC_GRID_MIN, in
    the window and in an export alike (one picture); a short one keeps the full grid."""
    from gdviz.ui.views import landscape_view as lv

    long_expr = "x^2 + " + "+".join(["y"] * 900)
    assert sess.set_expression(long_expr)
    views = {}
    for adaptive in (True, False):
        v = LandscapeView(sess, adaptive=adaptive)
        qtbot.addWidget(v)
        v.resize(900, 700)
        v.show()
        qtbot.waitExposed(v)
        v.flush()
        views[adaptive] = v
    work = len(sess.landscape.code)
    n = views[True]._z.shape[0]
    assert lv.STATIC_GRID_MIN <= n < 256 and work * n * n <= lv.STATIC_GRID_WORK
    assert views[False]._z.shape[0] == n  # an export's view: the same picture
    assert np.isfinite(views[True]._z).all()
    assert sess.set_expression("x^2 + y^2")
    views[True].flush()
    assert views[True]._z.shape[0] == 256  # a short one: the full grid


def test_the_exact_slice_is_computed_again_once_the_kernels_come(view, sess, qtbot, monkeypatch):
    # the twin's slice of much data is coarse (FitSlice.grid); when the kernels come, the
    # map computes the exact one without waiting for a step or a zoom
    from gdviz.core.problems import FitData

    assert sess.set_fit(FitData(target="sine", model="sigmoid", units=3, points=40))
    land = sess.landscape
    qtbot.waitUntil(lambda: view._land_key is not None and view._land_key[0] == land.key(),
                    timeout=10_000)
    boxes = []
    real = view._recompute_grid
    monkeypatch.setattr(view, "_recompute_grid",
                        lambda box, *a, **k: boxes.append(box) or real(box, *a, **k))
    view._update_live_surfaces()
    assert boxes == []  # nothing changed: nothing computed
    view.live_kernels_came()
    assert boxes == [view._box]
    qtbot.waitUntil(lambda: view._land_key is not None and view._land_key[0] == land.key(),
                    timeout=10_000)


def test_a_costly_surface_is_computed_in_the_turn_on_a_grid_within_the_work():
    """What a view computes in the window's turn (the 3-D mesh of a static surface, a
    mini-batch's surface): MAE over 100,000 points at the 3-D view's 256x256 took ~1.3 s;
    its grid is made coarser within the budget, not below the least; MSE's is not."""
    from gdviz.core.models import LinearRegressionProblem
    from gdviz.core.view3d import LIVE_3D_WORK, LIVE_MESH_MIN
    from gdviz.ui.views.live_grid import grid_within

    rng = np.random.default_rng(3)
    x = rng.uniform(0, 4, 100_000)
    y = 1 + 2 * x + rng.normal(0, 0.5, 100_000)
    mae = LinearRegressionProblem(x, y, loss="mae")
    mse = LinearRegressionProblem(x, y, loss="mse")
    assert grid_within(256, mse, LIVE_3D_WORK, LIVE_MESH_MIN) == 256
    assert grid_within(256, mae, LIVE_3D_WORK, LIVE_MESH_MIN) == LIVE_MESH_MIN
    n = grid_within(256, mae, LIVE_3D_WORK, LIVE_MESH_MIN, batch=20_000)
    assert LIVE_MESH_MIN < n < 256 and mae.grid_work(n, n, 20_000) <= LIVE_3D_WORK
    assert mae.grid_work(int(n / 0.8) + 1, int(n / 0.8) + 1, 20_000) > LIVE_3D_WORK
    assert grid_within(256, object(), LIVE_3D_WORK, LIVE_MESH_MIN) == 256  # (no estimate)


def test_the_arrows_of_a_past_step_wait_for_its_replay_in_the_window(view, sess, qapp,
                                                                       monkeypatch):
    """The window's map (its pace on) re-plays a past step's numbers within a share of the
    turn (here none: a step a turn): no arrows until they are ready, then exactly those of
    the step; an export's map (pace off) draws them in its frame."""
    from gdviz.ui.views import landscape_view

    monkeypatch.setattr(landscape_view, "ARROWS_TURN_S", 0.0)
    view.pace.enabled = True
    sess.select(3)
    sess.step(600)
    sess.scrub(500)  # (re-played from the engine's checkpoint at 256)
    x, _ = view.arrows["update"].getData()
    assert x is None or len(x) == 0
    turns = 0
    while not len(view.arrows["update"].getData()[0] if view.arrows["update"].getData()[0]
                  is not None else ()):
        qapp.processEvents()
        turns += 1
        assert turns < 2000
    assert turns > 10
    start = sess.positions(499)[3]
    x, y = view.arrows["update"].getData()
    assert (x[0], y[0]) == pytest.approx(tuple(start))
    view.pace.enabled = False
    sess.scrub(300)
    x, y = view.arrows["update"].getData()
    assert len(x) == 6 and (x[0], y[0]) == pytest.approx(tuple(sess.positions(299)[3]))
