"""The network picture on a classification (issue 12): shown for the classifier, its edges
the classifier's weights in torch order, its neurons the plane view's pictures, its click
ringing the plane's thumbnail, the L20/L21 lessons, the splitter's shares and the export."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from gdviz.core.classifier import ClassifyData
from gdviz.core.scene import apply_scene, load_scene, preset_paths
from gdviz.core.session import Session
from gdviz.ui.picture import FrameGrabber, Picture


@pytest.fixture
def sess() -> Session:
    s = Session()
    assert s.set_classify(ClassifyData("circles", points=120, layers=2, units=3, noise=0.1))
    return s


def _torch_weights(s: Session) -> list[np.ndarray]:
    """Each layer's W (out, in) read by the parameters' names (torch's order)."""
    m = s.problem.model
    p = s.positions()[s.reference_run()]
    names = m.param_names
    sizes = [int(v) for v in m.sizes]
    return [np.array([[p[names.index(f"W{k + 1}[{o + 1},{i + 1}]")] for i in range(sizes[k])]
                      for o in range(sizes[k + 1])]) for k in range(len(sizes) - 1)]


def test_network_picture_shows_the_classifier_and_follows_its_weights(qtbot, sess):
    s = sess
    pic = Picture(s, ("landscape", "fit", "network"))
    qtbot.addWidget(pic)
    pic.resize(1100, 450)
    pic.show()
    qtbot.waitExposed(pic)
    view = pic.network_view
    assert "network" in pic.shown()
    assert view.isVisibleTo(pic) and pic.plane_view.isVisibleTo(pic)
    assert not pic.fit_view.isVisibleTo(pic)
    cols, half = view.layout_neurons()
    assert [len(c) for c in cols] == [2, 3, 3, 1] and half > 5
    assert "2–3–3–1" in view.title_text()
    before = [w.copy() for w in view.weights]
    s.step(20)
    assert [w.shape for w in view.weights] == [(3, 2), (3, 3), (1, 3)]
    for got, want in zip(view.weights, _torch_weights(s)):
        np.testing.assert_array_equal(got, want)
    assert any(not np.array_equal(a, b) for a, b in zip(before, view.weights))  # it trained
    # the hidden neurons' pictures are the plane's thumbnails (the same arrays, not new ones)
    pv = pic.plane_view
    hidden, surface = pv.neuron_images()
    assert sorted(view.plane_images) == list(range(6))
    for k, rgba in view.plane_images.items():
        assert rgba is hidden[k]
    assert view.output_image is surface and surface is not None
    # and the thumbnails are those of the reference run's neurons at this step
    H = s.problem.grid_hidden(s.positions()[s.reference_run()], pv._data_box, 28, 28)
    from gdviz.ui.views.plane_view import _neuron_rgba, _prob_lut
    from gdviz.ui import theme

    want = _neuron_rgba(H, _prob_lut(theme.current()))
    for k in range(6):
        np.testing.assert_array_equal(view.plane_images[k], want[k])


def test_click_on_a_classifier_neuron_rings_its_thumbnail(qtbot, sess):
    s = sess
    pic = Picture(s, ("landscape", "fit", "network"))
    qtbot.addWidget(pic)
    pic.resize(1100, 450)
    pic.show()
    qtbot.waitExposed(pic)
    view, pv = pic.network_view, pic.plane_view
    cols, _ = view.layout_neurons()
    centre = cols[2][1]  # layer 2's neuron 2: hidden neuron 3 + 1
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(int(centre.x()), int(centre.y())))
    assert s.neuron == 4
    ringed = [k for k, lab in enumerate(pv.thumbs) if "border" in lab.styleSheet()]
    assert ringed == [pv._thumb_layout().index((1, 1))]
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(int(centre.x()), int(centre.y())))
    assert s.neuron == -1
    assert not any(lab.styleSheet() for lab in pv.thumbs)


def test_session_neuron_on_a_classifier(sess):
    s = sess
    assert s.set_neuron(5) and s.neuron == 5
    assert not s.set_neuron(6)  # 2 x 3 hidden neurons
    assert s.neuron == 5
    assert s.update_data(layers=1)  # the network shrank: no neuron 5 any more
    assert s.neuron == -1


@pytest.mark.parametrize("name", ["L20_circles", "L21_spiral"])
def test_lessons_show_the_network(qtbot, name):
    path = next(p for p in preset_paths() if p.stem == name)
    s = Session()
    apply_scene(load_scene(path), s)
    assert s.kind == "classify"
    pic = Picture(s, ("caption", "landscape", "fit", "hyper", "network"), follow=True)
    qtbot.addWidget(pic)
    pic.resize(840, 380)
    pic.show()
    qtbot.waitExposed(pic)
    assert "network" in pic.shown()
    net, plane, land = pic.network_view, pic.plane_view, pic.landscape_view
    assert net.isVisibleTo(pic) and plane.isVisibleTo(pic) and land.isVisibleTo(pic)
    # the splitter's shares: the map 3, the plane 4, the network a part per column of
    # neurons (2 to 4): L20's 2-1 is narrower than the map, L21's 2-8-8-8-1 wider
    cols = len(s.problem.model.sizes)
    assert plane.width() >= net.width() and plane.width() > land.width() > 120
    assert (net.width() > land.width()) if cols >= 4 else (net.width() < land.width())
    # the network draws the neurons' pictures: the plane's own thumbnails hide (made still,
    # for the network: L21's 24 hidden neurons; L20's 2-1 has none)
    assert not plane.thumb_box.isVisible()
    assert len(plane.thumbs) == sum(int(v) for v in s.problem.model.sizes[1:-1])
    s.step(5)
    cols, _ = net.layout_neurons()
    assert [len(c) for c in cols] == [int(v) for v in s.problem.model.sizes]
    for got, want in zip(net.weights, _torch_weights(s)):
        np.testing.assert_array_equal(got, want)


def test_export_frame_draws_the_classifier_network(qtbot, sess):
    s = sess
    g = FrameGrabber(s, (1100, 420), ("landscape", "fit", "network"), status=False)
    try:
        s.step(30)
        frame = g.rgb(g.frame())
        net = g.picture.network_view
        assert net.isVisibleTo(g.picture) and g.picture.plane_view.isVisibleTo(g.picture)
        assert net.width() > 200 and len(net.plane_images) == 6
        top_left = net.mapTo(g.picture, net.rect().topLeft())
        part = frame[top_left.y():top_left.y() + net.height(),
                     top_left.x():top_left.x() + net.width()]
        # edges of both signs are drawn: blue and vermillion pixels
        r, b = part[..., 0].astype(int), part[..., 2].astype(int)
        assert ((b - r) > 80).sum() > 50 and ((r - b) > 80).sum() > 50
    finally:
        g.close()


def _shown_network(qtbot, sess, w: int, h: int):
    """A network picture of ``sess`` shown at w x h, and a function that renders it to
    pixels (an array of bytes)."""
    from PySide6.QtGui import QImage, QPainter

    from gdviz.ui.views.network_view import NetworkView

    view = NetworkView(sess)
    qtbot.addWidget(view)
    view.resize(w, h)
    view.show()

    def render() -> np.ndarray:
        img = QImage(w, h, QImage.Format.Format_RGB32)
        p = QPainter(img)
        view.render(p, QPoint(0, 0))
        p.end()
        return np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).copy()

    return view, render


def test_edges_are_stroked_again_only_when_what_they_show_changes(qtbot, sess):
    """The edges' layer is reused while every edge keeps its ends, sign and width level
    (same pixels, copied), and drawn anew when a level changes."""
    view, render = _shown_network(qtbot, sess, 300, 360)

    def images() -> list:
        return [el.img for el in view._edge_layers]

    first = render()
    layers = images()
    assert layers and all(img is not None for img in layers)
    assert np.array_equal(render(), first)
    assert all(a is b for a, b in zip(images(), layers))  # reused
    view._edge_frame = None  # drawn anew: the same pixels
    assert np.array_equal(render(), first)
    assert all(a is not b for a, b in zip(images(), layers))
    layers = images()
    W = view.weights[0]
    W[np.unravel_index(np.argmax(np.abs(W)), W.shape)] *= 0.01  # the strongest edge thins
    view.update()
    render()
    assert view._edge_layers[0].img is not layers[0]


def test_playing_strokes_one_weight_layer_a_paint_and_catches_up(qtbot, sess):
    """While the race plays, a paint strokes at most one weight layer's edges (a frame
    affords one); the layers left are stroked at the next paints, and the picture is then
    the one a single full drawing makes."""
    view, render = _shown_network(qtbot, sess, 400, 360)

    n_layers = len(view.weights)
    assert n_layers >= 2
    sess.play()
    try:
        render()  # every layer drawn once
        view.weights = [-w for w in view.weights]  # every edge changes sign
        drawn = view.edge_draws
        render()
        assert view.edge_draws == drawn + 1
        assert view._edge_timer.isActive()  # the rest is not forgotten
        for _ in range(n_layers - 1):
            render()
        assert view.edge_draws == drawn + n_layers
        caught_up = render()
        assert view.edge_draws == drawn + n_layers
    finally:
        sess.pause()
    sess.play()
    try:
        view._edge_frame = None  # all at once: nothing was drawn before
        assert np.array_equal(render(), caught_up)
    finally:
        sess.pause()


def test_paused_the_windows_picture_strokes_the_changed_layers_within_its_budget(qtbot, sess):
    """Paused, a change of every weight (a restart, a scrub) stroked all the weight layers
    in one paint (a 4x32 network at 300 % text: ~55 ms). In the window's picture a paint
    strokes them while it has time by their last costs (one at least), and the rest in the
    next turns; the picture is then the one a single full drawing makes. Off (an export's
    picture, ``edge_budget_ms`` None), one paint strokes them all."""
    from gdviz.ui.picture import Picture

    pic = Picture(sess, ("landscape", "fit", "network"))
    view = pic.network_view
    assert view.edge_budget_ms is not None  # the window's picture
    qtbot.addWidget(view)
    view.setParent(None)
    view.resize(400, 360)
    view.show()

    def render() -> np.ndarray:
        from PySide6.QtGui import QImage, QPainter

        img = QImage(400, 360, QImage.Format.Format_RGB32)
        p = QPainter(img)
        view.render(p, QPoint(0, 0))
        p.end()
        return np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).copy()

    n_layers = len(view.weights)
    assert n_layers >= 2 and not sess.playing
    render()  # every layer drawn once
    for el in view._edge_layers:
        el.cost = 1.0  # (each over the budget by itself)
    view.weights = [-w for w in view.weights]  # every edge changes sign
    drawn = view.edge_draws
    render()
    assert view.edge_draws == drawn + 1
    assert view._edge_soon.isActive()  # the rest: in the next turn
    for _ in range(n_layers - 1):
        render()
    assert view.edge_draws == drawn + n_layers
    caught_up = render()
    assert view.edge_draws == drawn + n_layers
    view._edge_frame = None  # all at once: nothing was drawn before
    assert np.array_equal(render(), caught_up)
    # a new size alone: the pictures of before stand in, scaled, until stroked anew
    for el in view._edge_layers:
        el.cost = 1.0
    view.resize(360, 330)
    drawn = view.edge_draws
    render()
    assert view.edge_draws == drawn + 1
    assert sum(el.interim is not None for el in view._edge_layers) == n_layers - 1
    for _ in range(n_layers - 1):
        render()
    assert view.edge_draws == drawn + n_layers
    assert all(el.interim is None and el.img is not None for el in view._edge_layers)
    view.edge_budget_ms = None  # off: all in one paint
    view.weights = [-w for w in view.weights]
    drawn = view.edge_draws
    render()
    assert view.edge_draws == drawn + n_layers
    view.resize(400, 360)
    drawn = view.edge_draws
    render()
    assert view.edge_draws == drawn + n_layers


def test_edge_widths_hold_their_level_near_a_band_edge_while_playing(qtbot, sess):
    # playing, a weight wandering just across a width band's edge keeps the width it was
    # drawn with (the edges' layer is copied, not stroked again); paused, exact levels
    from gdviz.ui.views.network_view import EDGE_WIDTHS, LEVEL_HYSTERESIS, NetworkView

    s = sess
    view = NetworkView(s)
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    qtbot.waitExposed(view)
    nb = len(EDGE_WIDTHS)

    def w_at(level: float) -> float:  # |w| whose sqrt(|w| / max) * nb is ``level`` (max 1)
        return (level / nb) ** 2

    W = [np.full(w.shape, w_at(4.5)) for w in view.weights]
    W[0][0, 0] = 1.0  # the largest
    W[1][0, 0] = w_at(2.9)
    s.play()
    view.weights = [w.copy() for w in W]
    view.grab()
    drawn = view.edge_draws
    assert view._edge_layers[1].levels[1].tolist().count(2) == 1
    view.weights[1][0, 0] = w_at(3.0 + 0.5 * LEVEL_HYSTERESIS)  # across the band's edge
    view.grab()
    assert view.edge_draws == drawn  # the same layer
    assert view._edge_layers[1].levels[1].tolist().count(2) == 1
    view.weights[1][0, 0] = w_at(2.5)  # in the band again: still the same
    view.grab()
    assert view.edge_draws == drawn
    view.weights[1][0, 0] = w_at(3.0 + 0.5 * LEVEL_HYSTERESIS)
    s.pause()
    view.weights = [w.copy() for w in view.weights]
    view.grab()
    assert view.edge_draws == drawn + 1  # paused: the exact level, stroked
    assert view._edge_layers[1].levels[1].tolist().count(2) == 0
    s.play()
    view.weights[1][0, 0] = w_at(1.2)  # far from its band: redrawn while playing too
    view.grab()
    assert view.edge_draws == drawn + 2 and view._edge_layers[1].levels[1].tolist().count(1) == 1
    s.pause()


def test_the_still_parts_are_drawn_once_and_again_for_a_new_selection(qtbot, sess):
    """The title, the neurons' boxes and the layers' names stand still while the race
    plays: drawn once and copied; a click on a neuron (its ring) draws them again."""
    from gdviz.ui.views.network_view import NetworkView

    view = NetworkView(sess)
    qtbot.addWidget(view)
    view.resize(400, 360)
    view.show()
    view.grab()
    drawn = view.still_draws
    assert drawn >= 1
    for _ in range(3):
        sess.step(1)
        view.grab()
    assert view.still_draws == drawn
    before = view.grab().toImage()
    sess.set_neuron(0)
    after = view.grab().toImage()
    assert view.still_draws == drawn + 1 and after != before
    view.resize(420, 360)
    view.grab()
    assert view.still_draws == drawn + 2
