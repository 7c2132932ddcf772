"""One action, one update (issue 10): views and panels change what changed instead of
rebuilding. A run added makes one run card and one set of items (the others' stay the
same objects), a run removed drops one; a theme switch restyles the items there are; one
change of the session draws each view once, however many of its signals it sends."""

from __future__ import annotations

import numpy as np
import pytest
import shiboken6
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from gdviz.core.optimizers import make_optimizer
from gdviz.core.session import RunSpec
from gdviz.ui import theme
from gdviz.ui.panels.runs_panel import RunsPanel, selected_spec


@pytest.fixture
def runs(qtbot, session):
    p = RunsPanel(session)
    qtbot.addWidget(p)
    p.resize(440, 900)
    p.show()
    return p


def _adam() -> RunSpec:
    return RunSpec(config=make_optimizer("adam", lr=0.02))


# ------------------------------------------------------------------------- runs panel
def test_adding_a_run_keeps_every_other_card(runs, session):
    before = list(runs.cards)
    session.add_run(_adam())
    assert len(runs.cards) == len(before) + 1
    assert all(a is b for a, b in zip(runs.cards, before))  # the same widgets
    new = runs.cards[-1]
    assert new.opt_name == "adam" and new.i == len(before)
    assert runs.cards_box.indexOf(new) == len(before)


def test_removing_a_run_drops_its_card_and_renumbers_the_rest(runs, session):
    before = list(runs.cards)
    names = [s.config.name for s in session.specs]
    before[1].remove.click()
    assert [c.opt_name for c in runs.cards] == names[:1] + names[2:]
    assert runs.cards == [before[0], *before[2:]]  # the others are the same widgets
    assert [c.i for c in runs.cards] == list(range(len(runs.cards)))
    assert [runs.cards_box.indexOf(c) for c in runs.cards] == list(range(len(runs.cards)))
    # each card now speaks for its new index: picking, removing
    last = runs.cards[-1]
    assert runs.select_group.id(last.select) == last.i
    last.select.click()
    assert selected_spec(session) == last.i
    last.remove.click()
    assert [s.config.name for s in session.specs] == names[:1] + names[2:-1]
    assert runs.cards == [before[0], *before[2:-1]]


def test_a_lesson_with_other_optimizers_keeps_the_cards_that_still_match(runs, session):
    first = runs.cards[0]
    state = session.snapshot()
    specs = (state.specs[0], _adam(), _adam())
    import dataclasses

    session.restore(dataclasses.replace(state, specs=specs, colors=None, selected=-1))
    assert [c.opt_name for c in runs.cards] == [s.config.name for s in specs]
    assert runs.cards[0] is first
    assert [c.i for c in runs.cards] == [0, 1, 2]


# ------------------------------------------------------------------------- window views
@pytest.fixture
def views(window):
    w = window
    return w, w.landscape_view, w.loss_view, w.controls.training.curve


def test_adding_a_run_adds_one_set_of_items_and_builds_each_view_once(views, session):
    w, land, loss, sched = views
    session.step(30)
    trails, halos, curves = list(land.trails), list(land.halos), list(loss.curves)
    sched_curves = list(sched.curves)
    counts = (land.runs_builds, land.legend_builds, loss.runs_builds, sched.redraws)
    session.add_run(_adam())
    QApplication.processEvents()
    n = session.n_runs
    assert len(land.trails) == len(land.halos) == len(loss.curves) == n
    assert land.trails[:-1] == trails and land.halos[:-1] == halos
    assert loss.curves[:-1] == curves
    assert sched.curves[:-1] == sched_curves and len(sched.curves) == len(session.specs)
    # one change, one build of each view (runs_changed and stepped both arrived)
    assert (land.runs_builds, land.legend_builds, loss.runs_builds, sched.redraws) == tuple(
        c + 1 for c in counts)
    # and the new run is drawn: its trail from the start to where it is now
    x, y = land.trails[-1].get_data()
    assert len(x) > 2
    assert np.allclose([x[-1], y[-1]], session.project(session.positions())[-1])


def test_removing_a_run_drops_one_set_and_the_rest_redraw_their_runs(views, session, qtbot):
    w, land, loss, sched = views
    session.step(40)
    trails, curves = list(land.trails), list(loss.curves)
    before = [tuple(session.project(session.positions())[r]) for r in range(session.n_runs)]
    counts = (land.runs_builds, loss.runs_builds, sched.redraws)
    session.remove_run(1)
    QApplication.processEvents()
    assert land.trails == trails[:-1] and loss.curves == curves[:-1]
    assert (land.runs_builds, loss.runs_builds, sched.redraws) == tuple(c + 1 for c in counts)
    # the runs left are played again to the step shown, in the background when that takes
    # more than its budget (the numpy twins: ~1 ms a step here), the trails following it;
    # once it is done, they end where the runs were
    qtbot.waitUntil(lambda: session.replaying is None, timeout=10_000)
    QApplication.processEvents()
    assert session.t == 40
    # run 1's trail now shows what was run 2: the kept items show the runs' new indices
    for r, trail in enumerate(land.trails):
        x, y = trail.get_data()
        assert (x[-1], y[-1]) == pytest.approx(before[r if r < 1 else r + 1])
        assert trail._phase == GrowingPhase(r)
        pen = trail.opts["pen"].color().name()
        assert pen == QColor(session.run_color(r)).name()


def GrowingPhase(r: int) -> int:  # noqa: N802 - what GrowingCurve(phase=r) keeps
    from gdviz.ui.views.items import GrowingCurve

    return GrowingCurve(phase=r)._phase


def test_a_theme_switch_restyles_the_items_it_has(views, session):
    w, land, loss, sched = views
    w.set_theme("light")
    QApplication.processEvents()
    trails, curves = list(land.trails), list(loss.curves)
    legend = [label for _, label in land.legend.items]
    counts = (land.runs_builds, land.legend_builds, loss.runs_builds, sched.redraws)
    style = shiboken6.getCppPointer(QApplication.instance().style())[0]
    w.set_theme("dark")
    QApplication.processEvents()
    assert land.trails == trails and loss.curves == curves
    assert [label for _, label in land.legend.items] == legend
    assert (land.runs_builds, land.legend_builds, loss.runs_builds, sched.redraws) == counts
    assert shiboken6.getCppPointer(QApplication.instance().style())[0] == style
    # restyled all the same: the halos, the legend's text and the loss key in dark colours
    dark = theme.palette("dark")
    halo = land.halos[0].opts["pen"].color()
    assert (halo.name(), halo.alpha()) == (QColor(dark["halo"]).name(), 170)
    assert QColor(legend[0].opts["color"]).name() == QColor(dark["foreground"]).name()
    assert loss._key_train.opts["pen"].color().name() == QColor(dark["foreground"]).name()
    assert sched.dots.opts["pen"].color().name() == QColor(dark["foreground"]).name()


def test_settings_the_schedule_does_not_show_do_not_redraw_it(views, session):
    w, land, loss, sched = views
    n = sched.redraws
    session.set_speed(55.0)
    session.set_noise(0.1)
    assert sched.redraws == n
    session.set_max_steps(700)
    assert sched.redraws == n + 1
    assert sched.curves[0].getData()[0][-1] == 700


# ------------------------------------------------------------------------- export
def test_starting_an_export_builds_no_picture(tmp_path, session):
    from gdviz.export.clip import ClipJob, ExportSettings

    made = []

    class Renderer:
        colors = ()

        def frame(self):
            return np.zeros((4, 4, 4), np.uint8)

        def rgb(self, f):
            return f[..., :3]

        def close(self):
            made.append("closed")

    def make():
        made.append("made")
        return Renderer()

    job = ClipJob(session, tmp_path / "x.png", ExportSettings(steps=3), make)
    assert made == [] and job.renderer is None
    assert not job.step() and made == ["made"]  # the build is a step (a turn) of its own
    assert job.step()
    assert made == ["made", "closed"]
    assert (tmp_path / "x.png").exists()
    job2 = ClipJob(session, tmp_path / "y.png", ExportSettings(steps=3), make)
    job2.abort()  # cancelled before its first frame: nothing was built
    assert made == ["made", "closed"] and not (tmp_path / "y.png").exists()


def test_opening_a_scene_builds_each_view_once(window, session, tmp_path):
    """A scene's restore sends problem, runs, settings and stepped: each view builds for
    the new runs once (the map and loss views used to build on the problem's frame and
    again on the runs' signal)."""
    w = window
    land, loss, sched = w.landscape_view, w.loss_view, w.controls.training.curve
    from gdviz.core.scene import preset_path

    counts = (land.runs_builds, loss.runs_builds, sched.redraws)
    assert w.open_scene(preset_path("L12"))
    QApplication.processEvents()
    assert (land.runs_builds, loss.runs_builds, sched.redraws) == tuple(c + 1 for c in counts)
    assert len(land.trails) == len(loss.curves) == session.n_runs
    # and the views show the scene's runs in their colours
    for r in range(session.n_runs):
        assert land.trails[r].opts["pen"].color().name() == QColor(session.run_color(r)).name()
    # a change that leaves the runs as they are builds nothing
    session.set_speed(12.0)
    assert (land.runs_builds, loss.runs_builds, sched.redraws) == tuple(c + 1 for c in counts)


def test_a_run_added_or_removed_lays_the_map_legend_out_once(views, session, monkeypatch):
    """30 runs: the runs' legend takes a smaller form (no corner of the map is free). A run
    added, removed or duplicated sizes each form from its labels' sizes (each text measured
    once per text size) and lays the legend out once, in the form the scores pick: laid
    out in the full form first, then in each form to measure it, every label was written
    anew two to six times (40 runs: 60-160 ms a run)."""
    import pyqtgraph as pg

    from gdviz.ui.views import landscape_view as lv
    from gdviz.ui.views.placement import LegendSizes, legend_score

    w, land, loss, sched = views
    _many_runs(session, 30)
    session.step(50)
    QApplication.processEvents()
    land.place_legends()
    assert land._legend_form != lv.LEGEND_FORMS[0]
    land._legend_timer.setInterval(10 ** 6)  # placed below, once a change (however slow)
    writes = []  # labels written anew with the text they hold (a new text size)
    set_text = pg.LabelItem.setText

    def counting(self, text, **kw):
        if getattr(self, "text", None) == text:
            writes.append(self)
        return set_text(self, text, **kw)

    monkeypatch.setattr(pg.LabelItem, "setText", counting)
    changes = (lambda: session.add_run(_adam()), lambda: session.remove_run(3),
               lambda: session.add_run(session.specs[0]), lambda: session.remove_run(0))
    for change in changes:
        writes.clear()
        layouts, measured = land.legend_layouts, land._legend_label_sizes.measured
        change()
        QApplication.processEvents()
        land.place_legends()
        labels = {id(label) for _, label in land.legend.items}
        assert land.legend_layouts - layouts <= 1
        # every label once if the text size changed (a "✕" added is not counted)
        assert sum(id(x) in labels for x in writes) <= len(labels)
        assert land._legend_label_sizes.measured - measured <= len(lv.LEGEND_FORMS) // 2
        # the form the scores pick, drawn at the size it was scored at
        pts, weights = land.legend_points()
        scores = [(f, legend_score(land.vb, land._legend_sizes[f], pts, weights=weights))
                  for f in lv.LEGEND_FORMS if f in land._legend_sizes]
        free = [f for f, score in scores if score < lv.RUN_WEIGHT]
        assert land._legend_form == (free[0] if free else min(scores, key=lambda fs: fs[1])[0])
        assert land.legend.geometry().size() == land.legend.layout.preferredSize()
    # the sizes it scores by are the sizes its layout takes, in every form
    for form in lv.LEGEND_FORMS:
        land._set_legend_form(form)
        size = LegendSizes().form(land.legend, form[0], land._legend_text_size(form[1]))
        assert size == land.legend.layout.preferredSize() == land.legend.geometry().size(), form


def test_projector_mode_makes_its_schedule_panel_once(window, qtbot):
    """Projector mode's schedule panel is made the first time; off, it waits hidden and
    follows nothing (a run added then does not draw it); on again, it is the same panel,
    showing the runs as they are now."""
    from gdviz.core.schedules import make_schedule

    # (a race with schedules: without any the panel does not show, and draws nothing)
    window.session.set_schedule(None, make_schedule("one-cycle"))
    pic = window.picture
    window.set_projector(True)
    qtbot.waitUntil(window.layout_settled)
    first = pic.schedule_view
    assert first is not None
    window.set_projector(False)
    qtbot.waitUntil(window.layout_settled)
    assert pic.schedule_view is None and not first.isVisible()
    n = first.redraws
    window.session.add_run(_adam())
    window.set_theme("dark")
    assert first.redraws == n  # off: it followed nothing
    window.set_projector(True)
    qtbot.waitUntil(window.layout_settled)
    assert pic.schedule_view is first
    assert first.redraws == n + 1 and len(first.curves) == len(window.session.specs)
    assert first.dots.opts["pen"].color().name() == QColor(theme.palette("dark")["foreground"]).name()
    window.set_projector(False)
    qtbot.waitUntil(window.layout_settled)


def test_the_fit_panel_measures_each_legend_form_once(window, qtbot):
    """The fit panel resizes several times while a lesson opens; a resize that keeps the
    legend's form (columns, text size) keeps the legend (each resize made up to nine)."""
    from gdviz.core.scene import preset_path

    w = window
    assert w.open_scene(preset_path("L13"))
    QApplication.processEvents()
    fv = w.fit_view
    texts = fv.legend_texts()
    assert texts and fv.legend.isVisible()
    n = fv.legend_builds
    for _ in range(3):
        fv._on_resized()  # what vb.sigResized calls
    assert fv.legend_builds == n and fv.legend_texts() == texts
    # a form that no longer fits is replaced by one that does (sizes measured already)
    form = fv._legend_form[1]
    sizes = fv.legend_form_sizes()
    fv.resize(int(sizes[form][0] * 0.6), fv.height())
    QApplication.processEvents()
    assert fv._legend_form[1] != form and fv.legend_texts() == texts
    # another lesson, then this one again: its forms are not measured again (each was a
    # legend of every entry: L9's load measured three, ~20 ms, each time it was opened)
    w.resize(1280, 720)
    assert w.open_scene(preset_path("L19"))
    QApplication.processEvents()
    made = fv.legend_builds
    assert w.open_scene(preset_path("L13"))
    QApplication.processEvents()
    assert fv.legend_texts() == texts
    assert fv.legend_builds == made, fv.legend_builds - made  # (none measured; its labels kept)


def test_a_fit_legend_too_wide_for_its_panel_measures_five_forms_not_nine(window, monkeypatch):
    """No form of the legend fits a narrow panel at big text (L9 at 300 %): each of the nine
    forms (three text sizes, three column counts) was measured, a new legend each, ~45 ms
    of a lesson load. When one column at a text size is too wide, the next text size tries
    one column first, and more columns (wider still) are not measured."""
    from gdviz.core.scene import preset_path

    assert window.open_scene(preset_path("L13"))
    QApplication.processEvents()
    fv = window.fit_view
    monkeypatch.setattr(fv.vb, "width", lambda: 60.0)  # (narrower than any form)
    fv._legend_sizes.clear()
    fv._legend_built = None
    n = fv.legend_builds
    fv._build_legend()
    assert fv._legend_form[1] == (0.65, 1)  # the smallest form, as before
    assert fv.legend_builds - n <= 5
    assert set(fv.legend_form_sizes()) == {(1.0, 3), (1.0, 2), (1.0, 1), (0.8, 1), (0.65, 1)}


def test_the_fit_legend_measures_its_forms_from_its_labels_and_makes_one_legend(window,
                                                                               monkeypatch):
    """Each form of the fit legend tried (text size, columns) was a legend made of every
    entry to measure it: 35 labels, ~25 ms of L9's first load at a text size. The forms'
    sizes are now summed from each text's measured size; one legend is made, the one
    shown, and its size is the one computed for its form."""
    from gdviz.core.scene import preset_path

    assert window.open_scene(preset_path("L9"))
    QApplication.processEvents()
    fv = window.fit_view
    for width in (900.0, 300.0, 60.0):  # three columns fit; one; none (the smallest form)
        fv._legend_sizes.clear()
        fv._legend_built = None
        fv._legend_form = None  # (made anew, not kept)
        n = fv.legend_builds
        monkeypatch.setattr(fv.vb, "width", lambda w=width: w)
        fv._build_legend()
        assert fv.legend_builds - n == 1
        form = fv._legend_form[1]
        w, h = fv.legend_form_sizes()[form]
        assert (w, h) == pytest.approx((fv.legend.width(), fv.legend.height()), abs=0.5), form
    assert form == (0.65, 1)


def test_a_card_writes_its_widgets_only_when_its_run_changed(runs, session, monkeypatch):
    card = runs.cards[1]
    writes = []
    orig = card.title.setText
    monkeypatch.setattr(card.title, "setText", lambda t: (writes.append(t), orig(t)))
    session.set_speed(40.0)  # settings_changed: every card hears it, none has news
    session.set_noise(0.2)
    assert writes == []
    session.update_run(1, lr=0.003)
    assert len(writes) == 1 and "0.003" in card.title.text()
    # an edit the session refuses shows what is in force again, all the same
    lr = card.sliders["lr"]
    lr.setValue(0.5)
    card._on_value_edited("momentum", 5.0)  # refused: momentum must be < 1
    assert lr.value() == pytest.approx(session.specs[1].config.lr)


def _many_runs(session, n):
    for k in range(n - session.n_specs):
        session.add_run(RunSpec(config=make_optimizer(("sgd", "adam", "momentum")[k % 3],
                                                      lr=0.001 * (k + 1))))


def test_a_live_lr_rewrites_its_legend_label_in_place(views, session):
    """With many runs, an lr change (a slider) rewrote the map's whole legend (60 ms for
    30 runs): now only the label that changed is written, the entries stay."""
    w, land, loss, sched = views
    _many_runs(session, 12)
    session.step(20)
    QApplication.processEvents()
    labels = [label for _, label in land.legend.items]
    builds = land.legend_builds
    session.update_run(3, lr=0.0123)
    QApplication.processEvents()
    assert [label for _, label in land.legend.items] == labels
    assert land.legend_builds == builds
    texts = [label.text.replace("  ✕", "") for _, label in land.legend.items]  # diverged
    want = [session.spec_label(i) for i in range(session.n_specs) if session.specs[i].enabled]
    assert texts == want and "0.0123" in texts[3]
    # a run unticked drops its entry: written anew, in order
    session.update_run(5, enabled=False)
    QApplication.processEvents()
    assert land.legend_builds == builds + 1
    assert [label.text.replace("  ✕", "") for _, label in land.legend.items] == [
        session.spec_label(i) for i in range(session.n_specs) if i != 5]


def test_the_legend_form_search_measures_each_form_once(views, session):
    """The runs' legend scores its forms (columns, text size) from sizes measured once per
    set of entries (laying all five out on each placement cost ~60 ms with 30 runs): a
    second placement lays out nothing new, the form it keeps is the one the scores pick,
    and new entries are measured anew."""
    from gdviz.ui.views import landscape_view as lv
    from gdviz.ui.views.placement import legend_score

    w, land, loss, sched = views
    _many_runs(session, 14)
    session.step(50)
    QApplication.processEvents()
    land.place_legends()
    picked = land._legend_form
    sizes = dict(land._legend_sizes)
    assert picked in sizes
    pts, weights = land.legend_points()
    scores = {f: legend_score(land.vb, size, pts, weights=weights) for f, size in sizes.items()}
    free = [f for f in scores if scores[f] < lv.RUN_WEIGHT]
    assert (picked in free) if free else scores[picked] == min(scores.values())
    calls = []
    orig = land._set_legend_form
    land._set_legend_form = lambda form: (calls.append(form), orig(form))
    try:
        land.place_legends()
    finally:
        del land._set_legend_form
    assert set(calls) <= {land._legend_form} and land._legend_sizes == sizes
    session.add_run(RunSpec(config=make_optimizer("adam", lr=0.02)))
    QApplication.processEvents()
    assert land._legend_sizes == {} or land._legend_sizes != sizes


def test_legend_label_sizes_are_the_label_items_sizes(qapp):
    """A legend label's size, measured on a text document (LegendSizes.label), is a
    pyqtgraph LabelItem's at that text size and font, to the bit: Latin, Chinese, markup,
    entities."""
    from PySide6.QtGui import QFont
    from pyqtgraph import LabelItem

    from gdviz.ui.views.placement import LegendSizes

    sizes = LegendSizes()
    label = LabelItem(" ", justify="left")
    for family in ("DejaVu Sans", "Noto Sans CJK SC"):
        for pt in (7.5, 11.0, 20.0):
            font = QFont(family)
            font.setPointSizeF(pt)
            label.item.setFont(font)
            for size in ("7pt", "10.5pt", "23.4pt"):
                for text in ("Adam lr=0.001", "动量 β=0.9", "<b>SGD</b> x²", "a &amp; b"):
                    label.setText(text, size=size)
                    rect = label.item.boundingRect()
                    assert sizes.label(text, size, font) == (rect.width(), rect.height()), \
                        (family, pt, size, text)
    shiboken6.delete(label)  # (in no scene: nothing left for the collector)
