"""The classification panel, its controls, the problem picker entry and the picture."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QComboBox

from gdviz.core.classifier import ClassifyData
from gdviz.core.i18n import set_language
from gdviz.core.session import Session
from gdviz.ui.panels.classify_panel import ClassifyPanel
from gdviz.ui.panels.problem_panel import ProblemPanel
from gdviz.ui.picture import Picture
from gdviz.ui.views.plane_view import GRID, PlaneView


@pytest.fixture
def sess() -> Session:
    s = Session()
    assert s.set_classify(ClassifyData("circles", points=120, layers=2, units=3, noise=0.1))
    return s


def _pick(combo: QComboBox, data) -> None:
    idx = combo.findData(data)
    assert idx >= 0, data
    combo.setCurrentIndex(idx)
    combo.activated.emit(idx)


def test_plane_view_draws_surface_boundaries_points_and_neurons(qtbot, sess):
    v = PlaneView(sess)
    qtbot.addWidget(v)
    v.resize(600, 500)
    v.show()
    sess.step(60)
    img = v.surface.image
    assert img is not None and img.shape[:2] == (GRID, GRID)
    # the points: every training and validation point once, by class
    ds = sess.problem.dataset
    n = sum(len(item.data) for item in v.points.values())
    assert n == ds.n
    assert len(v.points[(1, "val")].data) == int((ds.y[ds.val_idx] == 1).sum())
    assert len(v.boundaries) == sess.n_runs
    # the accuracy shown is the problem's
    P = sess.positions()
    acc = sess.problem.accuracy(P)
    for r, (a_train, _) in v.last_accuracy.items():
        assert a_train == pytest.approx(acc[r])
    assert "%" in v.status.text()
    # one thumbnail per hidden neuron (2 layers x 3), each a pixmap
    assert len(v.thumbs) == 6
    assert all(not lab.pixmap().isNull() for lab in v.thumbs)


def test_each_thumbnail_is_its_own_neuron_in_its_own_range(qtbot):
    # 2 layers of 10 units: 8 thumbnails a layer, the second column starts at unit 11 of
    # the hidden outputs (layer after layer), not at the first layer's 9th
    from gdviz.core.classifier import THUMB_GRID
    from gdviz.ui import theme
    from gdviz.ui.views.plane_view import THUMBS_PER_ROW, _prob_lut

    s = Session()
    assert s.set_classify(ClassifyData("xor", points=80, layers=2, units=10))
    v = PlaneView(s)
    qtbot.addWidget(v)
    v.resize(900, 700)
    v.show()
    s.step(5)
    assert len(v.thumbs) == 2 * THUMBS_PER_ROW
    H = s.problem.grid_hidden(s.positions()[s.reference_run()], v._data_box, THUMB_GRID, THUMB_GRID)
    lut = _prob_lut(theme.current())
    for t, unit in ((0, 0), (THUMBS_PER_ROW - 1, THUMBS_PER_ROW - 1), (THUMBS_PER_ROW, 10),
                    (2 * THUMBS_PER_ROW - 1, 10 + THUMBS_PER_ROW - 1)):
        img = v.thumbs[t].pixmap().toImage()
        h = H[unit]
        lo, hi = h.min(), h.max()
        if hi - lo <= 1e-12 * max(1.0, abs(hi)):
            continue  # a dead ReLU: one flat colour, nothing to tell apart
        for r, c in ((0, 0), (THUMB_GRID - 1, 3), (THUMB_GRID // 2, THUMB_GRID - 1)):
            want = lut[int(np.clip((h[r, c] - lo) / (hi - lo) * 255.0, 0, 255))]
            got = img.pixelColor(c, THUMB_GRID - 1 - r)  # the image's top row is the plane's top
            assert (got.red(), got.green(), got.blue()) == tuple(int(v) for v in want[:3]), (t, r, c)


def test_boundary_is_the_zero_logit_line(qtbot, sess):
    v = PlaneView(sess)
    qtbot.addWidget(v)
    v.resize(600, 500)
    v.show()
    sess.step(200)
    r = sess.reference_run()
    x, y = v.boundaries[r].getData()
    assert x is not None and len(x) > 0
    z = sess.problem.logits(sess.positions()[r][None], np.stack([x, y], axis=1))[0]
    scale = np.abs(sess.problem.logits(sess.positions()[r][None], sess.problem.x)[0]).max()
    assert np.abs(z).max() < 0.05 * scale   # on the 0.5 line up to the grid's interpolation


def test_diverged_run_is_no_crash(qtbot, sess):
    v = PlaneView(sess)
    qtbot.addWidget(v)
    v.show()
    assert sess.update_run(0, lr=1e3)
    sess.step(30)
    assert v.isVisible()


def test_controls_drive_the_session_and_show_errors(qtbot, sess, tmp_path):
    p = ClassifyPanel(sess)
    qtbot.addWidget(p)
    p.show()
    _pick(p.controls["dataset"], "spiral")
    assert sess.data.dataset == "spiral"
    p.controls["layers"].setValue(3)
    assert sess.data.layers == 3
    p.controls["units"].setValue(5)
    assert sess.data.units == 5 and sess.n_params == 2 * 5 + 5 + 2 * 30 + 1 * 5 + 1
    _pick(p.controls["activation"], "tanh")
    assert sess.data.activation == "tanh"
    p.controls["noise"].valueChanged.emit(0.3)
    assert sess.data.noise == 0.3
    p.controls["val_split"].valueChanged.emit(20.0)
    assert sess.data.val_fraction == 0.2
    _pick(p.controls["map_x"], 3)
    assert sess.linked[0] == 3
    _pick(p.controls["map_y"], 3)  # the other axis's parameter: the two swap
    assert sess.linked[1] == 3 and sess.linked[0] != 3
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,0\n2,3,5\n")
    before = sess.data
    assert not p.load_csv(bad)
    assert p.error_text() == "bad.csv line 2: label must be 0 or 1, got '5'"
    assert sess.data is before
    good = tmp_path / "good.csv"
    good.write_text("x1,x2,label\n0,0,0\n1,1,1\n2,2,1\n3,0,0\n4,4,1\n")
    assert p.load_csv(good)
    assert p.error_text() == "" and sess.data.source == "good.csv"
    assert not p.controls["dataset"].isEnabled()
    assert p.use_generated_data() and sess.data.points_data is None


def test_problem_picker_entry(qtbot):
    s = Session()
    pp = ProblemPanel(s)
    qtbot.addWidget(pp)
    _pick(pp.combo, "@classify")
    assert s.kind == "classify"
    assert pp.combo.currentData() == "@classify"


def test_picture_shows_the_plane_in_place_of_the_fit_panel(qtbot, sess):
    pic = Picture(sess, ("caption", "landscape", "fit", "loss"), export=True)
    qtbot.addWidget(pic)
    pic.resize(1280, 720)
    pic.show()
    assert pic.plane_view in pic.parts() and pic.fit_view not in pic.parts()
    assert pic.plane_view.width() > 300
    sess.set_surface("rosenbrock")
    assert pic.plane_view not in pic.parts()


def test_chinese_texts(qtbot, sess):
    set_language("zh-Hant")
    try:
        v = PlaneView(sess)
        qtbot.addWidget(v)
        v.show()
        sess.step(5)
        assert "準確率" in v.status.text()
        p = ClassifyPanel(sess)
        qtbot.addWidget(p)
        assert p.controls["dataset"].itemText(p.controls["dataset"].findData("spiral")) == "螺旋"
    finally:
        set_language("en")


def test_lesson_caption_follows_the_data_set_not_the_network(qtbot):
    from gdviz.core.scene import preset_path
    from gdviz.ui.main_window import MainWindow

    w = MainWindow(Session())
    qtbot.addWidget(w)
    assert w.open_scene(preset_path("L20_circles"))
    s = w.session
    key = w._problem_key()
    assert s.update_data(layers=1, units=3)
    assert w._problem_key() == key  # the lesson asks for this: still the lesson
    assert s.update_data(dataset="xor")
    assert w._problem_key() != key


def test_a_surface_after_a_classifier_resizes_the_plane_without_error(window, qtbot):
    """L21, then a surface lesson, then a resize: the plane view (hidden, still alive) sized
    its neuron thumbnails from the classifier's model, which a surface does not have."""
    from PySide6.QtWidgets import QApplication

    from gdviz.core.scene import preset_paths

    lesson = {p.stem[:3]: p for p in preset_paths()}
    assert window.open_scene(lesson["L21"])
    window.session.step(5)
    QApplication.processEvents()
    assert window.picture.plane_view is not None and window.picture.plane_view.thumbs
    assert window.open_scene(lesson["L05"])
    window.resize(1100, 650)
    QApplication.processEvents()
    window.picture.plane_view.resize(300, 200)
    QApplication.processEvents()
    window.grab()  # paints everything: no exception from any view


def test_a_language_relabels_the_plane_in_place(qtbot, sess, monkeypatch):
    """A new language made the plane's picture anew (the surface, every boundary, every
    neuron's picture: the model run over the grid) and its thumbnails too, for the texts
    alone. Now the status and the thumbnails' tips are written in place."""
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    from gdviz.ui.views import plane_view

    v = PlaneView(sess)
    qtbot.addWidget(v)
    v.resize(600, 500)
    v.show()
    sess.step(20)
    pictures = []
    orig = plane_view.plane_picture
    monkeypatch.setattr(plane_view, "plane_picture",
                        lambda *a, **k: pictures.append(1) or orig(*a, **k))
    thumbs, images = list(v.thumbs), [lab.pixmap().cacheKey() for lab in v.thumbs]
    box = v._box
    set_language("zh-Hant")
    try:
        QApplication.sendEvent(v, QEvent(QEvent.Type.LanguageChange))
        qtbot.waitUntil(lambda: "準確率" in v.status.text())
        QApplication.processEvents()
        # drawn again only where the new status's height gave the plane another box
        assert len(pictures) == (v._box != box)
        assert v.thumbs == thumbs
        if not pictures:
            assert [lab.pixmap().cacheKey() for lab in v.thumbs] == images
        assert v.thumbs[0].toolTip() == plane_view.tr("classify_neuron", layer=1, unit=1)
    finally:
        set_language("en")
    QApplication.sendEvent(v, QEvent(QEvent.Type.LanguageChange))
    assert "accuracy" in v.status.text().lower()
    sess.step(1)  # the next step draws as before
    qtbot.waitUntil(lambda: pictures != [])


def test_the_parameter_combos_are_sized_by_the_names_length_not_item_by_item(qtbot):
    """The map's parameter combos list every parameter (a 4 x 32 classifier: 3,297), each
    with its index as data, and are as wide as the longest name's characters, not measured
    item by item (sized to contents, each Ctrl+= measured every name in both combos,
    ~35 ms): a combo of 3,297 names is as wide as one of its longest name alone, and
    that name fits whole."""
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

    from gdviz.ui.widgets import fill_param_combo

    s = Session()
    assert s.set_classify(ClassifyData("spiral", points=300, layers=4, units=32))
    p = ClassifyPanel(s)
    qtbot.addWidget(p)
    p.show()
    names = list(s.all_param_names)
    assert len(names) == s.n_params == 3297
    longest = max(names, key=len)
    for key in ("map_x", "map_y"):
        combo = p.controls[key]
        assert combo.count() == len(names)
        assert [combo.itemText(k) for k in (0, 1000, 3296)] == [names[0], names[1000], names[3296]]
        assert [combo.itemData(k) for k in (0, 1000, 3296)] == [0, 1000, 3296]
        assert (combo.sizeAdjustPolicy()
                == QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        alone = QComboBox()
        qtbot.addWidget(alone)
        fill_param_combo(alone, [longest])
        assert combo.sizeHint().width() == alone.sizeHint().width()
        opt = QStyleOptionComboBox()
        combo.initStyleOption(opt)
        opt.rect = QRect(0, 0, combo.sizeHint().width(), combo.sizeHint().height())
        field = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, opt,
                                             QStyle.SubControl.SC_ComboBoxEditField, combo)
        assert combo.fontMetrics().horizontalAdvance(longest) <= field.width()
    _pick(p.controls["map_x"], 3000)
    assert s.linked[0] == 3000


def test_the_boundary_of_a_run_gone_is_kept_for_the_next_run(qtbot, sess):
    """Runs removed keep their boundary lines hidden in the plot (a lesson opened over 20
    leftover runs freed 20 of them in its turn and made them again); a run added takes one
    back and draws its own line on it."""
    from gdviz.core.optimizers import make_optimizer
    from gdviz.core.session import RunSpec

    v = PlaneView(sess)
    qtbot.addWidget(v)
    v.resize(600, 500)
    v.show()
    n = sess.n_runs
    for _ in range(3):
        sess.add_run(RunSpec(config=make_optimizer("sgd", lr=0.5)))
    sess.step(120)
    extra = v.boundaries[n:]
    assert len(extra) == 3 and all(len(b.getData()[0]) for b in extra)
    for _ in range(3):
        sess.remove_run(sess.n_specs - 1)
    assert v.boundaries == v.boundaries[:n] and len(v.boundaries) == n
    items = v.plot_item.items
    assert all(b in items and not b.isVisible() for b in extra)  # kept, hidden
    sess.add_run(RunSpec(config=make_optimizer("adam", lr=0.05)))
    new = v.boundaries[-1]
    assert new is extra[0] and new.isVisible()  # (the last one put: runs go from the end)
    sess.step(200)
    x, y = new.getData()
    assert x is not None and len(x) > 0
    r = sess.n_runs - 1
    z = sess.problem.logits(sess.positions()[r][None], np.stack([x, y], axis=1))[0]
    scale = np.abs(sess.problem.logits(sess.positions()[r][None], sess.problem.x)[0]).max()
    assert np.abs(z).max() < 0.05 * scale  # the new run's own line


def test_many_runs_fold_the_accuracy_list_and_the_plane_keeps_its_room(qtbot, sess):
    """16 networks' lines squeezed the plane to a strip at 200 % text, and each run added
    shrank it again; past ACC_ROWS the list names the first runs, the shaded one among
    them, then how many more, and its tooltip lists all of them."""
    from gdviz.core.optimizers import make_optimizer
    from gdviz.core.session import RunSpec
    from gdviz.ui.views.plane_view import ACC_ROWS

    v = PlaneView(sess)
    qtbot.addWidget(v)
    v.resize(600, 500)
    v.show()
    sess.step(20)
    while sess.n_runs < ACC_ROWS:
        sess.add_run(RunSpec(config=make_optimizer("sgd", lr=0.01 * (sess.n_runs + 1))))
    while sess.n_runs > ACC_ROWS:
        sess.remove_run(sess.n_specs - 1)
    QApplication.processEvents()
    assert v.status.text().count("<br>") == ACC_ROWS and not v.status.toolTip()
    height = v.plot.height()
    for k in range(4):
        sess.add_run(RunSpec(config=make_optimizer("adam", lr=0.01 * (k + 1))))
        QApplication.processEvents()
        text = v.status.text()
        assert text.count("<br>") == ACC_ROWS  # (the head, ACC_ROWS - 1 runs, "+ N more")
        assert f"+ {sess.n_runs - (ACC_ROWS - 1)} more" in text
        assert v.status.toolTip().count("<br>") == sess.n_runs
        assert v.plot.height() == height
    sess.select(sess.n_runs - 1)  # the shaded run: named in the list too
    QApplication.processEvents()
    assert sess.reference_run() == sess.n_runs - 1
    assert sess.run_label(sess.n_runs - 1) in v.status.text().split("<br>")[ACC_ROWS - 1]
