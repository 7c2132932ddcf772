"""Views follow the session's view state (one owner, napari-style): the two heatmap
switches, the map's contour levels and scale, the theme; and a run change redraws once."""

from __future__ import annotations

import time

import pytest
from PySide6.QtWidgets import QApplication

import gdviz.ui.views.live_grid as live_grid
from gdviz.core.scene import preset_paths
from gdviz.core.session import Session
from gdviz.ui.views.landscape_view import LandscapeView


def run_events_until(cond, ms: int = 2000) -> bool:
    """Process events until ``cond()`` or ``ms`` pass. Not qtbot.wait: after the gui
    command's test a stray Quit event makes every nested event loop return at once,
    so its timers would never run here."""
    end = time.perf_counter() + ms / 1e3
    while not cond() and time.perf_counter() < end:
        QApplication.processEvents()
    return bool(cond())


@pytest.fixture
def levels_seen(monkeypatch) -> list:
    """(n, log) of every contour-level computation of the map (its grid picture,
    gdviz.ui.views.live_grid)."""
    seen: list = []
    real = live_grid.nice_levels

    def spy(z, n, log):
        seen.append((n, bool(log)))
        return real(z, n, log)

    monkeypatch.setattr(live_grid, "nice_levels", spy)
    return seen


@pytest.fixture
def view(qtbot):
    s = Session(fast=False)
    v = LandscapeView(s)
    qtbot.addWidget(v)
    v.resize(700, 560)
    v.show()
    qtbot.waitExposed(v)
    return v


def test_the_map_draws_the_sessions_levels_and_scale(qtbot, view, levels_seen):
    s = view.session
    assert s.levels == 20
    levels_seen.clear()
    s.set_view_options(levels=7)
    assert run_events_until(lambda: bool(levels_seen))
    assert levels_seen[-1][0] == 7
    auto_log = levels_seen[-1][1]  # rosenbrock spans decades: "auto" is log
    assert auto_log
    s.set_view_options(scale="linear")
    assert run_events_until(lambda: levels_seen[-1] == (7, False))
    s.set_view_options(scale="log", levels=50)
    assert run_events_until(lambda: levels_seen[-1] == (50, True))


def test_the_map_heatmap_follows_the_session(view):
    s = view.session
    s.set_view_options(heatmap=False)
    assert not view.heatmap_visible and not view.image.isVisible()
    assert not view.heatmap_action.isChecked()
    view.heatmap_action.trigger()  # the context menu writes the model
    assert s.heatmap and view.image.isVisible() and view.heatmap_action.isChecked()


def test_a_run_change_redraws_the_trails_once(qtbot, monkeypatch):
    calls = []
    real = LandscapeView._on_stepped

    def counted(self, *a):
        calls.append(1)
        return real(self, *a)

    monkeypatch.setattr(LandscapeView, "_on_stepped", counted)
    s = Session(fast=False)
    v = LandscapeView(s)
    qtbot.addWidget(v)
    s.step(10)
    calls.clear()
    s.update_run(0, lr=0.002)
    assert len(calls) == 1
    calls.clear()
    s.update_run(1, label="mine")
    assert len(calls) == 1


# ------------------------------------------------------------------ the window's switches
def test_both_heatmap_switches_write_one_field_and_follow_it(window, session):
    lv = window.landscape_view
    window.heatmap_action.trigger()
    assert session.heatmap is False
    assert not lv.heatmap_action.isChecked() and not lv.image.isVisible()
    lv.heatmap_action.trigger()
    assert session.heatmap is True
    assert window.heatmap_action.isChecked() and lv.image.isVisible()
    session.set_view_options(heatmap=False)
    assert not window.heatmap_action.isChecked() and not lv.heatmap_action.isChecked()


def test_a_scenes_heatmap_wins_but_is_not_saved_as_the_users(window, session, settings, tmp_path):
    import dataclasses

    from gdviz.core.scene import load_scene, save_scene

    scene = load_scene(preset_paths()[0])
    off = tmp_path / "off.toml"
    save_scene(dataclasses.replace(scene, view=dataclasses.replace(scene.view, heatmap=False,
                                                                   levels=9)), off)
    assert window.heatmap_action.isChecked()
    assert window.open_scene(off)
    assert session.heatmap is False and session.levels == 9
    assert not window.heatmap_action.isChecked()
    assert not window.landscape_view.heatmap_action.isChecked()
    window.save_settings()
    assert settings.value("view/heatmap") in (True, "true")  # the user's choice stays
    window.heatmap_action.trigger()  # now the user chooses
    assert session.heatmap is True
    window.heatmap_action.trigger()
    window.save_settings()
    assert settings.value("view/heatmap") in (False, "false")


def test_the_theme_lives_in_the_session(window, session):
    window.set_theme("dark")
    assert session.theme == "dark" and window.theme_actions["dark"].isChecked()
    session.set_view_options(theme="light")
    QApplication.processEvents()
    assert window.theme_name == "light" and window.theme_actions["light"].isChecked()


def test_opening_a_lesson_draws_the_map_once(window, qtbot, monkeypatch):
    """One restore, one redraw: the map's grid (heatmap and contours) is computed once per
    lesson, also after the timers the switch starts have run."""
    calls = []
    real = LandscapeView._recompute_grid

    def counted(self, box, **kw):
        calls.append(box)
        return real(self, box, **kw)

    monkeypatch.setattr(window.landscape_view, "_recompute_grid",
                        counted.__get__(window.landscape_view))
    for path in preset_paths()[3:6]:
        calls.clear()
        assert window.open_scene(path)
        window.session.pause()
        run_events_until(lambda: False, 60)  # the grid timer's 16 ms, several times over
        assert len(calls) == 1, path.stem


def test_l4_labels_follow_the_lr_slider(window, session):
    """The number in "SGD lr ×1 = 0.015" is the run's live lr: dragging the slider changes
    the card's title and the map's legend, and the run's one lr is the spec's."""
    import math

    path = next(p for p in preset_paths() if p.stem.startswith("L04"))
    assert window.open_scene(path)
    session.pause()
    card = window.controls.runs.cards[1]
    assert card.title.text() == "SGD lr ×1 = 0.015"
    card.sliders["lr"].slider.setValue(math.log10(0.02))  # a user's drag
    assert session.specs[1].config.lr == pytest.approx(0.02)
    assert session.runset.configs[session.runs_of_spec(1)[0]].lr == session.specs[1].config.lr
    assert card.title.text() == "SGD lr ×1 = 0.02"
    legend = [lab.text for _, lab in window.landscape_view.legend.items]
    assert legend[1] == "SGD lr ×1 = 0.02" and legend[0] == "SGD lr ×0.1 = 0.0015"


def test_every_plot_view_closes_twice_harmlessly(qtbot):
    """A view closed by its owner and closed again (pytest-qt closes what a test added, the
    window closes its panels): the second close does nothing (pyqtgraph's own close has no
    plot item left to close the second time, an AttributeError)."""
    from gdviz.core.scene.bridge import apply_scene
    from gdviz.core.scene import load_preset
    from gdviz.ui.views.fit_view import FitView
    from gdviz.ui.views.hyper_view import HyperView
    from gdviz.ui.views.loss_view import LossView
    from gdviz.ui.views.lrfind_view import LrFindView
    from gdviz.ui.views.schedule_view import ScheduleView

    s = Session()
    apply_scene(load_preset("L09_overfitting"), s)
    for cls in (LandscapeView, FitView, LossView, ScheduleView, HyperView, LrFindView):
        v = cls(s)
        qtbot.addWidget(v)
        v.resize(300, 200)
        v.show()
        s.step(3)
        v.close()
        v.close()  # (raised AttributeError for the map, the loss and the hyperparameter map)
        s.step(2)  # (nothing follows the session any more)
