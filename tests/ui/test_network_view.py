"""The network fit in the UI: the data panel's network controls, the network picture (and
its click), the fit panel's neuron highlight and depth ghost, and the exported frame."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QComboBox

from gdviz.core.problems import FitData
from gdviz.core.session import Session
from gdviz.ui.panels.data_panel import DataPanel
from gdviz.ui.picture import FrameGrabber, Picture


def _pick(combo: QComboBox, data) -> None:
    idx = combo.findData(data)
    assert idx >= 0, data
    combo.setCurrentIndex(idx)
    combo.activated.emit(idx)


@pytest.fixture
def net_session() -> Session:
    s = Session()
    assert s.set_fit(FitData(target="piecewise", model="network", units=4, layers=2,
                             points=30, noise=0.2, seed=1))
    return s


def test_data_panel_network_controls(qtbot):
    s = Session()
    assert s.set_fit(FitData(target="piecewise", model="sigmoid", units=40))
    p = DataPanel(s)
    qtbot.addWidget(p)
    p.resize(440, 900)
    p.show()
    c = p.controls
    assert c["layers"].isHidden() and c["activation"].isHidden()
    _pick(c["model"], "network")
    # K = 40 is more than a network's 32 per layer: the pick starts it at 8
    assert s.data.model == "network" and s.data.units == 8 and s.problem.model.kind == "network"
    assert not c["layers"].isHidden() and not c["activation"].isHidden()
    assert c["units"].slider.maximum() <= 32
    c["layers"].slider.setValue(c["layers"]._to_slider(3))
    assert s.data.layers == 3 and s.problem.model.layers == 3
    _pick(c["activation"], "tanh")
    assert s.data.activation == "tanh" and s.problem.model.activation == "tanh"
    assert p.error_text() == ""
    # the map combos list the network's parameters by name
    assert c["map_x"].count() == s.problem.model.n_params
    assert "W" in c["map_x"].itemText(0)
    _pick(c["model"], "relu")
    assert c["layers"].isHidden()


def test_network_picture_follows_the_run_and_click_selects(qtbot, net_session):
    s = net_session
    pic = Picture(s, ("landscape", "fit", "network"))
    qtbot.addWidget(pic)
    pic.resize(1100, 500)
    pic.show()
    qtbot.waitExposed(pic)
    view = pic.network_view
    assert view.isVisibleTo(pic)
    s.step(50)
    p = s.positions()[0]
    m = s.problem.model
    np.testing.assert_allclose(view.weights[0].ravel(), p[:4])
    np.testing.assert_allclose(view.curves, m.hidden_outputs(p, view.xs))
    cols, half = view.layout_neurons()
    assert [len(c) for c in cols] == [1, 4, 4, 1] and half > 5
    # a click on layer 2's neuron 3 (index 4 + 2) highlights it; a second click clears it
    centre = cols[2][2]
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(int(centre.x()), int(centre.y())))
    assert s.neuron == 6
    fv = pic.fit_view
    assert fv.neuron_curve.isVisible()
    x, y = fv.neuron_curve.getData()
    np.testing.assert_allclose(y, m.neuron_contribution(p, 6, fv.xs), atol=1e-12)
    assert view.neuron_at(cols[0][0]) == -1  # the input is no hidden neuron
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(int(centre.x()), int(centre.y())))
    assert s.neuron == -1 and not fv.neuron_curve.isVisible()
    # the title fits the width
    assert "1–4–4–1" in view.title_text()


def test_network_panel_hides_for_other_models(qtbot):
    s = Session()
    assert s.set_fit(FitData(target="sine", model="relu", units=3))
    pic = Picture(s, ("landscape", "fit", "network"))
    qtbot.addWidget(pic)
    pic.resize(900, 400)
    pic.show()
    assert not pic.network_view.isVisibleTo(pic)
    assert "network" not in pic.shown()
    assert s.update_data(model="network")
    assert pic.network_view.isVisibleTo(pic) and "network" in pic.shown()


def test_depth_ghost_keeps_the_losses(qtbot, net_session):
    s = net_session
    pic = Picture(s, ("fit",))
    qtbot.addWidget(pic)
    pic.resize(700, 400)
    pic.show()
    s.step(100)
    p = s.positions()[0][None, :]
    train, val = float(s.problem.loss(p)[0]), float(s.problem.val_loss(p)[0])
    assert s.update_data(layers=3)
    g = pic.fit_view.ghost
    assert g is not None and g.setting == "layers" and g.value == 2
    assert g.losses == pytest.approx((train, val))
    assert g.text("en").startswith("depth 2 (before)\ntrain ")
    assert "訓練" in g.text("zh-Hant") and "训练" in g.text("zh-Hans")


def test_export_frame_draws_the_network(qtbot, net_session):
    s = net_session
    g = FrameGrabber(s, (960, 400), ("fit", "network"), status=False)
    try:
        s.step(30)
        frame = g.rgb(g.frame())
        net = g.picture.network_view
        assert net.isVisibleTo(g.picture) and net.width() > 200
        top_left = net.mapTo(g.picture, net.rect().topLeft())
        part = frame[top_left.y():top_left.y() + net.height(), top_left.x():top_left.x() + net.width()]
        # edges of both signs are drawn: blue and vermillion pixels
        r, gr, b = (part[..., k].astype(int) for k in range(3))
        assert ((b - r) > 80).sum() > 50 and ((r - b) > 80).sum() > 50
    finally:
        g.close()


def test_depth_ghost_builds_the_lectures_table(qtbot, net_session):
    s = net_session
    pic = Picture(s, ("fit",))
    qtbot.addWidget(pic)
    pic.resize(700, 400)
    pic.show()
    seen = {}
    for layers in (2, 3, 1):
        s.step(60)
        p = s.positions()[0][None, :]
        seen[s.data.layers] = (float(s.problem.loss(p)[0]), float(s.problem.val_loss(p)[0]))
        assert s.update_data(layers=layers)
    g = pic.fit_view.ghost
    assert [r[0] for r in g.rows] == [2, 3]  # (the first pick, 2, changed nothing)
    for n, tl, vl in g.rows:
        assert (tl, vl) == pytest.approx(seen[n])
    text = g.text("en").splitlines()
    assert text[0] == "layers: train · val" and text[1].startswith("2: ")
    assert text[2] == f"3: {seen[3][0]:.2g} · {seen[3][1]:.2g}"
    # other data: the table starts again
    assert s.update_data(seed=5)
    assert pic.fit_view.ghost is None


def test_csv_export_of_a_network_fit_parses(net_session):
    import csv
    import io

    from gdviz.export.clip import trajectories_csv

    s = net_session
    s.step(3)
    rows = list(csv.reader(io.StringIO(trajectories_csv(s))))
    names = s.all_param_names
    assert rows[0][3:3 + len(names)] == list(names) and rows[0][3] == "W1[1,1]"
    assert all(len(r) == len(rows[0]) for r in rows) and len(rows) == 1 + 4 * s.n_runs
