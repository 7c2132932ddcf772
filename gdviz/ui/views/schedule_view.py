"""Every run's learning rate (and momentum, where its schedule cycles it) over the run.

Each shown run's lr curve is drawn in the run's colour: its live lr times its schedule's
factor (:attr:`RunSpec.schedule`), so a race of constant lr against one-cycle shows both
(lesson L12). Where a schedule cycles the momentum (one-cycle on an optimizer with
momentum, or Adam's beta1) that run's momentum is drawn dashed on a right axis, and a
one-line key above the plot says which line is which. A cursor line and a dot on each curve mark the
displayed step. The curves are computed when the runs or the settings change, never per
frame: a frame moves the cursor and the dots.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF
from PySide6.QtWidgets import QWidget

from gdviz.core.i18n import tr
from gdviz.ui import theme
from gdviz.ui.views.items import (Curve, Points, Spares, cache_axes, closes_once, connect_all,
                                  disconnect_all, plain_plot, set_pen)
from gdviz.ui.views.refresh import forget, later

#: samples of each curve (plenty for a panel a few hundred pixels wide)
N_SAMPLES = 400


def schedule_choices() -> list[tuple[str, str]]:
    """(name, label) of every schedule in the registry."""
    from gdviz.core.schedules import SCHEDULES

    return [(name, getattr(spec, "label", name)) for name, spec in SCHEDULES.items()]


def retranslate_schedule_combo(combo) -> None:
    """A schedule picker's entries (item data: the schedule's name) in the UI language."""
    labels = dict(schedule_choices())
    for k in range(combo.count()):
        name = combo.itemData(k)
        combo.setItemText(k, tr(f"sched_{name}", default=labels.get(name, name)))


def make_schedule(name: str):
    """The default ``Schedule`` of kind ``name``."""
    from gdviz.core.schedules import make_schedule as make

    return make(name)


def momentum_base(config) -> float:
    """The momentum a schedule may cycle for ``config``: Adam's beta1, else ``momentum``
    (0 for optimizers without one)."""
    from gdviz.core.optimizers import OPTIMIZERS

    spec = OPTIMIZERS.get(config.name)
    fields = spec.fields if spec is not None else ()
    if "beta1" in fields:
        return float(config.beta1)
    if "momentum" in fields:
        return float(config.momentum or 0.0)
    return 0.0


def schedule_curves(session, n: int = N_SAMPLES, cache: dict | None = None) -> list[dict]:
    """Per run spec: ``steps`` int64 (m,), ``lr`` float64 (m,) (the spec's live lr times
    its schedule's factor over ``session.max_steps``), ``momentum`` float64 (m,) or None
    (when the schedule leaves it constant), and ``shown`` (the spec is enabled).

    ``cache`` (a dict the caller keeps) holds each curve by what it is computed from (the
    schedule, the live config, the steps): a run added or removed computes only the new
    run's curves (40 runs: ~6-14 ms of schedule evaluations per run change), and the
    cache keeps only the curves returned."""
    total = int(session.max_steps)
    m = min(total, n)
    steps = None
    out = []
    kept = {}
    for i, spec in enumerate(session.specs):
        cfg = session.effective_config(i)
        key = (spec.schedule, cfg, total, m)
        got = cache.get(key) if cache is not None else None
        if got is None:
            if steps is None:
                steps = np.unique(np.linspace(1, total, m).astype(np.int64))
            lr = float(cfg.lr) * np.asarray(spec.schedule.lr_factor(steps, total), dtype=np.float64)
            base = momentum_base(cfg)
            mom = np.asarray(spec.schedule.momentum_at(steps, total, base), dtype=np.float64)
            cycles = bool(mom.size) and float(np.ptp(mom)) > 0.0
            got = (steps, lr, mom if cycles else None)
        kept[key] = got
        out.append({"steps": got[0], "lr": got[1], "momentum": got[2],
                    "shown": bool(spec.enabled)})
    if cache is not None:
        cache.clear()
        cache.update(kept)
    return out


class ScheduleView(pg.PlotWidget):
    """lr over ``max_steps`` for each run in its colour, momentum on a right axis where it
    cycles, and a cursor at the displayed step.

    Items, for tests and export: ``curves`` and ``mom_curves`` (one per run spec),
    ``marker`` (the cursor line), ``dots`` (each shown curve at the cursor); :meth:`key_text`.
    ``follow=False`` leaves updating to the owner (:meth:`follow_session`, :meth:`set_step`).
    """

    _styled = False  # PlotWidget sends change events before its items exist

    def __init__(self, session, parent: QWidget | None = None, *, follow: bool = False):
        super().__init__(parent)
        self.session = session
        self.setObjectName("scheduleView")
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.plot_item: pg.PlotItem = self.getPlotItem()
        self.vb: pg.ViewBox = self.plot_item.getViewBox()
        cache_axes(self.plot_item)
        plain_plot(self.plot_item)
        self.plot_item.showGrid(x=True, y=True, alpha=0.25)
        for name in ("left", "right", "bottom"):
            self.plot_item.getAxis(name).enableAutoSIPrefix(False)  # no "(x0.001)"
        # the momentum's own box on the right axis, sharing the steps
        self.mom_vb = pg.ViewBox(enableMouse=False, enableMenu=False)
        self.mom_vb.setMouseEnabled(x=False, y=False)
        self.plot_item.scene().addItem(self.mom_vb)
        self.plot_item.getAxis("right").linkToView(self.mom_vb)
        self.mom_vb.setXLink(self.vb)
        self.mom_vb.setZValue(self.vb.zValue() - 1)
        self.mom_vb.disableAutoRange()
        self.vb.sigResized.connect(self._sync_mom_box)
        self.curves: list[pg.PlotDataItem] = []
        self.mom_curves: list[pg.PlotDataItem] = []
        self._spares = Spares(self._drop_curves, self)  # curves of runs gone
        self.marker = pg.InfiniteLine(0, angle=90, movable=False)
        self.marker.setZValue(20)
        self.addItem(self.marker)
        self.dots = Points(symbol="o", pxMode=True)
        self.dots.setZValue(21)
        self.addItem(self.dots)
        self._data: list[dict] = []
        #: the inputs last drawn (:meth:`_inputs`), and how many times the curves were drawn
        self._drawn = None
        self.redraws = 0
        #: what each curve shows (see :meth:`redraw`), and how many curves were drawn
        self._curve_keys: list[tuple] = []
        self.curve_draws = 0
        #: each run's computed curves by what they are computed from (see schedule_curves)
        self._curve_cache: dict = {}
        #: the dots' size and pen last set (setting them re-renders every dot)
        self._dots_style = None
        self._cursor_px = None  # the cursor's pixel column when it was last drawn
        self._key_on = None
        self._key_shown = ""
        self._connections = []
        self._following = False
        self._styled = True
        self._restyle()
        if follow:  # a picture panel of its own: follow the session itself
            self.set_following(True)

    def set_following(self, on: bool) -> None:
        """Follow the session's signals (a picture panel of its own), or stop (a panel put
        away hidden costs nothing per frame); following again draws what changed meanwhile."""
        on = bool(on)
        if on == self._following or getattr(self, "_closed", False):
            return
        self._following = on
        if not on:
            self._connections = disconnect_all(self._connections)
            return
        s = self.session
        # one draw per change (gdviz.ui.views.refresh): a lesson's restore reaches it
        # through the settings, the runs and the problem
        self._connections = connect_all([
            (s.settings_changed, self._follow_later), (s.runs_changed, self._follow_later),
            (s.problem_changed, self._follow_later), (s.stepped, self._on_stepped),
        ])
        self.follow_session()

    def _follow_later(self, *_) -> None:
        self._follow_due = True  # (a step meanwhile waits for it: the curves are old)
        later(self.session, self.follow_session)

    # ------------------------------------------------------------------ session -> view
    def _inputs(self) -> tuple:
        """What the curves are drawn from: the runs (with their live configs), their
        colours and the number of steps."""
        s = self.session
        return (tuple(s.specs), tuple(s.effective_config(i) for i in range(len(s.specs))),
                tuple(s.colors), int(s.max_steps))

    def follow_session(self, *_) -> None:
        """Draw every run's schedule (lr, and momentum where it cycles) and the cursor.

        One change of the session reaches this through several signals (runs, settings,
        problem): it draws once, when what the curves show changed."""
        self._follow_due = False
        if self._put_away():
            return  # (drawn when shown: see showEvent)
        key = self._inputs()
        if key == self._drawn:
            self._on_stepped()  # the cursor and dots, when they land on another pixel
            return
        self.redraw()

    def redraw(self) -> None:
        """Draw every run's schedule anew (see :meth:`follow_session`)."""
        s = self.session
        self.redraws += 1
        self._drawn = self._inputs()
        self._data = schedule_curves(s, cache=self._curve_cache)
        n = len(self._data)
        # what each curve shows (its run, live config, colour, the steps): a curve that
        # shows the same is not drawn again (40 runs: one added drew all 80 curves, ~50 ms)
        specs, configs, colors, total = self._drawn
        keys = [(specs[i], configs[i], colors[i] if i < len(colors) else None, total)
                for i in range(n)]
        old = self._curve_keys
        if len(old) == len(self.curves) == n + 1:
            # a run removed: its pair of curves goes, the later ones move up with their runs
            gone = next((i for i in range(n) if old[i] != keys[i]), n)
            if old[gone + 1:] == keys[gone:]:
                self.plot_item.removeItem(self.curves.pop(gone))
                self.mom_vb.removeItem(self.mom_curves.pop(gone))
                del old[gone]
        # one pair of curves per run: a run added adds one (a spare, or new), a run removed
        # hides one in the spares (many replaced: see Spares)
        while len(self.curves) > n:
            self._spares.put(self.curves.pop(), self.mom_curves.pop())
        while len(self.curves) < n:
            c, m = self._spares.take() or self._new_curves()
            self.curves.append(c)
            self.mom_curves.append(m)
        changed = [i for i in range(n) if i >= len(old) or old[i] != keys[i]]
        self._curve_keys = keys
        self.curve_draws += len(changed)
        top, mlo, mhi = 0.0, np.inf, -np.inf
        for i in changed:
            d = self._data[i]
            # the pen with the data: set after, each curve took its data a second time
            pen, mom_pen = self._pens(i)
            self.curves[i].setData(d["steps"], d["lr"], pen=pen)
            self.curves[i].setVisible(d["shown"])
            mom = d["momentum"]
            self.mom_curves[i].setData(d["steps"], mom if mom is not None else [], pen=mom_pen)
            self.mom_curves[i].setVisible(d["shown"] and mom is not None)
        for d in self._data:
            mom = d["momentum"]
            if d["shown"]:
                top = max(top, float(np.nanmax(d["lr"])))
                if mom is not None:
                    mlo, mhi = min(mlo, float(mom.min())), max(mhi, float(mom.max()))
        total = max(int(s.max_steps), 1)
        self.vb.setXRange(0, total, padding=0.02)
        # start, middle and end: pyqtgraph's own step ticks run together in a narrow column
        self.plot_item.getAxis("bottom").setTicks(
            [[(float(v), f"{v:g}") for v in (0, round(total / 2), total)]])
        top = max(top, 1e-12)
        # room below 0 and above the top: pyqtgraph drops a tick label that spills out
        self.vb.setYRange(-0.08 * top, top * 1.12, padding=0.0)
        # 0, half and the top lr: more ticks run together in a panel this short
        self.plot_item.getAxis("left").setTicks(
            [[(float(v), f"{v:.3g}") for v in (0.0, top / 2, top)]])
        has_mom = bool(np.isfinite(mlo))
        right = self.plot_item.getAxis("right")
        if has_mom:
            pad = max(0.25 * (mhi - mlo), 1e-3)
            self.mom_vb.setYRange(mlo - pad, mhi + pad, padding=0.0)
            # three ticks (low, middle, high) in two decimals: pyqtgraph's own ticks
            # for 0.85..0.95 need three decimals, more than a narrow axis holds
            ticks = np.linspace(mlo, mhi, 3) if mhi > mlo else np.array([mlo])
            right.setTicks([[(float(v), f"{v:.2f}") for v in ticks]])
        self.plot_item.showAxis("right", has_mom)
        self.mom_vb.setVisible(has_mom)
        self._style_dots()
        self._build_key(has_mom)
        self._sync_mom_box()
        self.set_step(s.t)

    def _new_curves(self) -> tuple[pg.PlotDataItem, pg.PlotDataItem]:
        """A run's lr and momentum curves, made (hidden, they do not follow the view)."""
        c = Curve()
        c.setZValue(10)
        self.plot_item.addItem(c)
        m = Curve()
        m.setZValue(9)
        self.mom_vb.addItem(m)
        return c, m

    def _drop_curves(self, c: pg.PlotDataItem, m: pg.PlotDataItem) -> None:
        self.plot_item.removeItem(c)
        self.mom_vb.removeItem(m)

    def _put_away(self) -> bool:
        """Hidden by its owner (a schedule panel that does not show: projector mode's
        side column on a lesson without schedules): it draws nothing until it shows (the
        first projector toggle with 30 runs drew 60 curves nobody saw, ~100 ms)."""
        return self.isHidden() and self.testAttribute(Qt.WidgetAttribute.WA_WState_ExplicitShowHide)

    def _on_stepped(self, *_) -> None:
        # a frame moves the cursor by a fraction of a pixel on a long run (10 steps of
        # 10^6): redraw only when it lands on another pixel
        if getattr(self, "_follow_due", False) or self._put_away():
            return  # the change's draw is on its way (the curves are the old runs')
        t = self.session.t
        (x0, x1), _ = self.vb.viewRange()
        px = round((t - x0) / (x1 - x0) * self.vb.width()) if x1 > x0 else t
        if px != self._cursor_px:
            self.set_step(t)

    def set_step(self, t: int) -> None:
        """Move the cursor to step ``t`` and each shown curve's dot to its lr there."""
        (x0, x1), _ = self.vb.viewRange()
        self._cursor_px = round((t - x0) / (x1 - x0) * self.vb.width()) if x1 > x0 else t
        self.marker.setValue(t)
        pts = [(float(t), float(np.interp(max(t, 1), d["steps"], d["lr"])), i)
               for i, d in enumerate(self._data) if d["shown"]]
        if not pts:
            self.dots.setData(x=[], y=[])
            return
        colors = self.session.colors
        self.dots.setData(x=[p[0] for p in pts], y=[p[1] for p in pts],
                          brush=[pg.mkBrush(colors[p[2]]) for p in pts])

    def _sync_mom_box(self, *_) -> None:
        self.mom_vb.setGeometry(self.vb.sceneBoundingRect())

    # ------------------------------------------------------------------ key, labels
    def key_text(self) -> str:
        """The key shown (solid: lr, dashed: momentum), "" without momentum curves."""
        return self._key_shown if self._key_on else ""

    def _key_variants(self) -> list[str]:
        """The key, longest first: the words, then "lr" for the learning rate."""
        gap = "\u2003\u2003"
        mom = tr("momentum")
        return [f"━━ {tr('sched_key_lr')}{gap}╍╍ {mom}", f"━━ {tr('sched_axis_lr')}{gap}╍╍ {mom}",
                f"━ {tr('sched_axis_lr')} ╍ {mom}"]

    def _build_key(self, has_mom: bool) -> None:
        """The key as the plot's title (a legend inside a panel this short would cover the
        one-cycle peak), the longest that fits over the plot: pyqtgraph gives a title
        label its text's width as its minimum, which would push the axes out of view."""
        self._key_on = has_mom
        if not has_mom:
            self._key_shown = ""
            self._hide_key()
            return
        font = self._small_font()
        metrics = QFontMetricsF(font)
        axes = sum(self.plot_item.getAxis(n).width() for n in ("left", "right"))
        room = max(float(self.width()) - axes - 12.0, 40.0)
        variants = self._key_variants()
        text = next((t for t in variants if metrics.horizontalAdvance(t) <= room), "")
        if text == self._key_shown and self.plot_item.titleLabel.isVisible() == bool(text):
            return
        self._key_shown = text
        if not text:  # not even the shortest fits: the axis labels name the curves
            self._hide_key()
            return
        fg = theme.palette(theme.current())["foreground"]
        self.plot_item.setTitle(text, color=fg, size=f"{font.pointSizeF():.0f}pt")
        height = int(metrics.height() * 1.3) + 2
        self.plot_item.titleLabel.setMaximumHeight(height)
        self.plot_item.layout.setRowFixedHeight(0, height)
        self.plot_item.setGeometry(self.range)  # laid out again with the new minimum

    def _hide_key(self) -> None:
        self.plot_item.setTitle(None)
        self.plot_item.titleLabel.setText("")  # a hidden title keeps its text's width
        self.plot_item.setGeometry(self.range)

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(ev)
        if self._styled and self._key_on:
            self._build_key(True)  # the longest key that fits the new width

    def retranslate(self) -> None:
        """Axis labels and the key in the UI language."""
        self._apply_labels()
        self._key_shown = ""
        self._build_key(self.mom_vb.isVisible())

    def _apply_labels(self) -> None:
        pal = theme.palette(theme.current())
        style = {"color": pal["foreground"], "font-size": f"{self._small_font().pointSizeF():.0f}pt"}
        self.plot_item.setLabel("left", tr("sched_axis_lr"), **style)
        right_on = self.mom_vb.isVisible()
        self.plot_item.setLabel("right", tr("momentum"), **style)
        self.plot_item.showAxis("right", right_on)  # setLabel shows it
        # fixed widths with room for the longest ticks beside the label lying on its side
        metrics = QFontMetricsF(self._small_font())
        for name, ticks in (("left", "0.0005"), ("right", "0.00")):
            axis = self.plot_item.getAxis(name)
            axis.setWidth(int(metrics.horizontalAdvance(ticks) + 10
                              + 0.8 * axis.label.boundingRect().height() + 4))

    # ------------------------------------------------------------------ theme & fonts
    @closes_once
    def close(self) -> bool:
        """Stop following the session, then close. Closing twice is harmless."""
        self._styled = False
        if hasattr(self, "_spares"):  # (a view closed while it was being built)
            self._spares.close()
        disconnect_all(self._connections)
        self._connections = []
        forget(self)
        try:
            self.vb.sigResized.disconnect(self._sync_mom_box)
        except (TypeError, RuntimeError):
            pass
        return super().close()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt name
        # the theme and the font scale reach every widget as Palette/FontChange events
        super().changeEvent(event)
        if not self._styled:
            return
        t = event.type()
        if t == QEvent.Type.PaletteChange:
            # a refresh of its own: a theme's restyles within the change's budget, the
            # rest in the turns after (as the map's: LandscapeView.changeEvent)
            later(self.session, self._restyle_shown)
        elif t in (QEvent.Type.FontChange, QEvent.Type.ApplicationFontChange):
            self._restyle_shown()
        elif t == QEvent.Type.LanguageChange:
            self.retranslate()

    def _restyle_shown(self) -> None:
        if self._styled and self.isVisible():  # hidden (its dock closed, the projector's
            self._restyle()  # kept one), it restyles when shown (~10 ms of each text size
            # or theme)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        if self._styled:
            # what it did not draw while put away first: the restyle places the cursor's
            # dots on the curves, which were still the runs of before (runs removed while
            # hidden: an IndexError in this virtual, which PySide 6.11 turned into a
            # segfault while reporting it)
            if self._following:
                self.follow_session()
            self._restyle()  # (what changed while hidden; nothing when nothing did)
        super().showEvent(event)

    def _small_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF() * 0.85, 9.0))
        return font

    def _pens(self, i: int) -> tuple:
        """Run ``i``'s pens: its lr curve's and its momentum curve's."""
        colors = self.session.colors
        scale = max(1.0, theme.font_scale())
        color = QColor(colors[i]) if i < len(colors) else QColor("#999999")
        return (pg.mkPen(color, width=3 * scale),
                pg.mkPen(color, width=2 * scale, style=Qt.PenStyle.DashLine))

    def _style_dots(self) -> None:
        # the dots' default size and outline, not drawn now: every caller places the dots
        # after (set_step sets their data, drawn then in this style; drawn here too, each
        # dot was rendered three times per restyle)
        scale = max(1.0, theme.font_scale())
        pal = theme.palette(theme.current())
        # the same size and pen are not set again (40 runs: ~5-15 ms at every run added
        # or removed)
        style = (11 * scale, pal["foreground"])
        if style != self._dots_style:
            self._dots_style = style
            self.dots.setSize(style[0], update=False)
            self.dots.setPen(pg.mkPen(pal["foreground"], width=1.5), update=False)

    def _style_curves(self) -> None:
        """Every curve's pens, and the cursor's dots."""
        for i in range(len(self.curves)):
            pen, mom_pen = self._pens(i)
            set_pen(self.curves[i], pen)
            set_pen(self.mom_curves[i], mom_pen)
        self._style_dots()

    def _restyle(self) -> None:
        # what the style follows: a font or palette event that changes none of it (the
        # plots' scale told to every view, a style sheet's palette event) restyles nothing
        key = (theme.current(), theme.font_scale(), self.font().key())
        if key == getattr(self, "_style_key", None):
            return
        self._style_key = key
        scale = max(1.0, theme.font_scale())  # taller with bigger text: the ticks need room
        self.setMinimumHeight(int(110 * scale))
        self.setMaximumHeight(int(160 * scale))
        pal = theme.palette(theme.current())
        self.setBackground(pal["background"])
        font = self._small_font()
        for name in ("left", "right", "bottom"):
            axis = self.plot_item.getAxis(name)
            axis.setPen(pg.mkPen(pal["foreground"]))
            axis.setTextPen(pg.mkPen(pal["foreground"]))
            axis.setStyle(tickFont=font)
            axis.label.setFont(font)
        self.marker.setPen(pg.mkPen(pal["muted"], width=2, style=Qt.PenStyle.DashLine))
        self._style_curves()
        self._apply_labels()
        self._key_shown = ""
        if self._following and self._drawn is not None:
            # the curves keep their data (the runs' colours are not the theme's): the key,
            # in the new colour and size, and the cursor's dots
            self._build_key(bool(self._key_on))
            self.set_step(self.session.t)
        elif self._following:
            self.redraw()
        else:
            self._drawn = None  # drawn anew in the new style when it follows again
