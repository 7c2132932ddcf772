"""The app's one picture: the panels of views that the window shows and an export writes.

A :class:`Picture` lays out the same view classes for both: the lesson's caption, the
map (:class:`LandscapeView`), the fit panel, the loss curves, the step-by-step table, the
schedule curve and the status line. The window shows one (its caption, map and fit
panel, with the loss and step-by-step views docked beside it); an export builds another
at the export size, off screen, and :class:`FrameGrabber` paints it into an image per
frame. There is no second painter: colours, heatmap, levels, markers, legends, labels in
the UI language, arrows and counters are what the window draws, because they are drawn
by the window's own code.
"""

from __future__ import annotations

import numpy as np
import shiboken6
from PySide6.QtCore import QEvent, QPoint, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import (QApplication, QHBoxLayout, QLabel, QMenu, QSplitter,
                               QVBoxLayout, QWidget)

from gdviz.core.i18n import current_language, tr
from gdviz.core.panels import PANELS, shown_panels
from gdviz.ui.views.caption import CaptionStrip
from gdviz.ui.views.fit_view import FitView
from gdviz.ui.views.items import connect_all, delete_later, disconnect_all
from gdviz.ui.views.landscape_view import LandscapeView
from gdviz.ui.views.refresh import forget, later

#: an export lays the picture out at this height (the projector's 720p) and scales it
REFERENCE_HEIGHT = 720
#: the share of the picture's width the step-by-step / schedule column takes
SIDE_SHARE = 0.30
#: the panels the window's picture shows in its side column in projector mode (its docks,
#: where they live otherwise, hide there): see :meth:`Picture.set_side_inline`
INLINE_SIDE = ("step", "schedule")
#: the loss panel's share of the picture's height (below the map)
LOSS_SHARE = 0.24


def status_texts(session, lang: str | None = None) -> tuple[str, str]:
    """The status line: (counters, diverged) in ``lang`` (default: the UI language).

    Counters are the step (analytic surfaces, with the batch size when there is noise),
    or iteration, epoch (batch k of n) and batch size (data problems); ``diverged``
    names up to three runs that diverged by the displayed step.
    """
    s = session
    lang = lang or current_language()
    c = s.counters() if s.is_data else None
    replaying = s.replaying
    if replaying is not None:
        parts = [tr("status_replaying", lang, t=replaying[0], n=replaying[1])]
    elif c is None:
        parts = [tr("status_step", lang, t=s.t, n=s.max_steps)]
        if s.noise > 0:
            parts.append(f"{tr('batch_size', lang)} {s.batch_size}")
    else:
        epoch = tr("status_epoch", lang, e=c["epoch"])
        if c["epoch"] and c["batches_per_epoch"] > 1:
            of = tr("status_batch_of", lang, k=c["batch_in_epoch"], n=c["batches_per_epoch"])
            epoch += f" ({of})" if lang == "en" else f"（{of}）"
        parts = [tr("status_iteration", lang, i=c["iteration"], n=s.max_steps), epoch,
                 tr("status_batch_size", lang, b=s.batch_size, n=s.n_train)]
    counters = "   ·   ".join(parts)
    div = [(r, k) for r, k in s.diverged() if k <= s.t and s.run_enabled(r)]
    diverged = ""
    if div:
        names = ", ".join(tr("status_diverged_run", lang, run=s.run_label(r), step=k)
                          for r, k in div[:3])
        more = f" (+{len(div) - 3})" if len(div) > 3 else ""
        diverged = tr("status_diverged", lang, names=names + more)
    return counters, diverged


class StatusLine(QWidget):
    """The counters and the "diverged" note, as the window's status bar shows them."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.counters = QLabel()
        self.counters.setObjectName("counters")
        self.diverged = QLabel()
        self.diverged.setObjectName("divergedStatus")
        from gdviz.ui import theme

        # the window's status bar colour (MainWindow._style_caption), from the theme
        self.diverged.setStyleSheet(f"color: {theme.palette(theme.current())['diverged']}; font-weight: bold;")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 2, 10, 2)
        lay.addWidget(self.counters)
        lay.addStretch(1)
        lay.addWidget(self.diverged)
        s = session
        self._connections = connect_all([
            (s.stepped, self.refresh), (s.runs_changed, self.refresh),
            (s.problem_changed, self.refresh), (s.settings_changed, self.refresh),
        ])
        self.refresh()

    def refresh(self, *_) -> None:
        counters, diverged = status_texts(self.session)
        self.counters.setText(counters)
        self.diverged.setText(diverged)

    def changeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().changeEvent(ev)
        if ev.type() == QEvent.Type.LanguageChange:
            self.refresh()

    def close(self) -> bool:
        disconnect_all(self._connections)
        self._connections = []
        return super().close()


def _scaled(font, k: float):
    from PySide6.QtGui import QFont

    f = QFont(font)
    f.setPointSizeF(max(font.pointSizeF() * k, 6.0))
    return f


class Picture(QWidget):
    """The panels ``panels`` (see :data:`gdviz.core.panels.PANELS`) of ``session``, laid
    out as one picture: the caption on top; the map and the fit panel side by side
    (their splitter); the step-by-step table and the schedule in a column on the right;
    the loss curves below; the status line at the bottom.

    A panel that has nothing to show for the session (the fit panel on an analytic
    surface, step-by-step with no run selected) hides and gives its room to the others.
    ``export=True`` unfolds the caption (a clip cannot click "more") and makes the views
    deterministic (no frame-time adaptation).
    """

    #: projector mode's side views, hidden between two uses (see :meth:`build_ahead`)
    _schedule_kept = None
    _step_kept = None

    def __init__(self, session, panels=("caption", "landscape", "fit"), *, export: bool = False,
                 status: bool = False, follow: bool = False, staged: bool = False, parent=None):
        super().__init__(parent)
        for p in panels:
            if p not in PANELS:
                raise ValueError(f"unknown panel '{p}'")
        self.session = session
        #: the panels this picture can hold; with ``follow`` (the window) those of them that
        #: ``session.panels`` names show, so the View menu and the model never disagree
        self.own_panels = tuple(panels)
        self.follow = bool(follow)
        self.panels = self._wanted()
        self.export = bool(export)
        #: True while the window's kernels are being compiled (:meth:`set_kernels_due`)
        self.kernels_due = False
        #: why the 3-D view asked for cannot show ("" when it can, or is not asked for)
        self.missing_3d = ""
        self.setObjectName("picture")
        #: ``staged`` (an export): the views are made by :meth:`build_steps`, one piece per
        #: call (a turn of the event loop each), not all here
        steps = self.build_steps(status)
        if not staged:
            for _ in steps:
                pass
        self._pending_build = steps if staged else None

    def build_steps(self, status: bool = False):
        """Make the views and lay them out, in pieces of a few tens of ms (a generator)."""
        session, panels, export = self.session, self.own_panels, self.export
        self.caption = CaptionStrip()
        self.caption.foldable = not export
        self.caption.hide()
        self.landscape_view = LandscapeView(session, adaptive=not export, staged=True,
                                            frames_only=export)
        yield
        yield from self.landscape_view._pending_build
        yield
        self.fit_view = FitView(session)
        yield
        from gdviz.ui.views.plane_view import PlaneView

        #: the classification panel: it takes the fit panel's place on the "classify" kind
        self.plane_view = PlaneView(session, live_async=not export)
        self.plane_view.hide()
        yield
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mapSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.landscape_view)
        self.splitter.addWidget(self.fit_view)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        #: the 3-D view (gdviz.ui.views.surface3d_view), made the first time it shows: its
        #: module imports OpenGL, which a picture without it never does
        self.surface3d_view = None
        self.hyper_view = None
        if "hyper" in panels:  # the hyperparameter map, beside the map (issue 11)
            from gdviz.ui.views.hyper_view import HyperView

            self.hyper_view = HyperView(session, sync=export)
            self.splitter.addWidget(self.hyper_view)
            self.splitter.setStretchFactor(self.splitter.indexOf(self.hyper_view), 1)
            yield
        self.network_view = None
        self._shared_w = 0
        if "network" in panels:  # beside the fit panel: the network that draws its curve
            from gdviz.ui.views.network_view import NetworkView

            self.network_view = NetworkView(session)
            self.splitter.addWidget(self.network_view)
            self.splitter.setStretchFactor(self.splitter.indexOf(self.network_view), 1)
            yield
        if self.network_view is not None:
            # a classifier's neurons in the network picture are the plane's thumbnails
            self.plane_view.drawn.connect(self.network_view.set_plane_images)
        # the classification panel, last: it shows beside the map (kind "classify"), with
        # the network picture when that is on
        self.splitter.addWidget(self.plane_view)
        self.splitter.setStretchFactor(self.splitter.indexOf(self.plane_view), 1)
        self.loss_view = self.step_view = self.schedule_view = self.status = None
        self._step_box = None  # the step view's scroll area, in projector mode
        if "loss" in panels:
            from gdviz.ui.views.loss_view import LossView

            self.loss_view = LossView(session)
            yield
        if "step" in panels:
            from gdviz.ui.views.step_view import StepView

            self.step_view = StepView(session)
            yield
        if "schedule" in panels:
            from gdviz.ui.views.schedule_view import ScheduleView

            self.schedule_view = ScheduleView(session, follow=True)
            yield
        self.lrfind_view = self.tuned_view = None
        if "lrfind" in panels:
            from gdviz.ui.views.lrfind_view import LrFindView

            self.lrfind_view = LrFindView(session)
            yield
        if "tuned" in panels:
            from gdviz.ui.views.lrfind_view import TunedTable

            self.tuned_view = TunedTable(session)
            yield
        if status:
            self.status = StatusLine(session)
        if not export:
            # the window: while a classification plays its heavy views take turns, two of
            # them a frame (gdviz.ui.views.turns); an export draws every view each frame
            for v in (self.landscape_view, self.plane_view, self.network_view, self.loss_view):
                if v is not None:
                    v.turn.enabled = True
            # and with many runs playing, the runs' curves are stroked aliased
            # (gdviz.ui.views.items.PlayingStrokes); an export's are always antialiased
            for v in (self.landscape_view, self.fit_view, self.loss_view):
                if v is not None:
                    v.strokes.enabled = True
            # and a paint of the map draws its trails anew for a bounded time, the rest
            # moved and scaled until the next paints (gdviz.ui.views.raster_item.RasterBudget)
            if self.landscape_view is not None:
                self.landscape_view.raster_budget.enabled = True
            # and paused, the network's weight layers that changed are stroked a few a
            # paint, the others kept a turn (gdviz.ui.views.network_view.EDGE_BUDGET_MS)
            if self.network_view is not None:
                from gdviz.ui.views.network_view import EDGE_BUDGET_MS

                self.network_view.edge_budget_ms = EDGE_BUDGET_MS
            # and many runs added at once get their items a few runs a turn
            # (gdviz.ui.views.items.BuildPace); an export's are all made before it draws
            for v in (self.landscape_view, self.loss_view):
                if v is not None:
                    v.pace.enabled = True

        self._caption = ("", "")
        self.notice = QLabel()  # inline messages (the window's, under the caption)
        self.notice.setObjectName("inlineNotice")
        self.notice.setWordWrap(True)
        self.notice.hide()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 0 if not export else 4)
        lay.setSpacing(4)
        lay.addWidget(self.caption)
        lay.addWidget(self.notice)
        # the map (and the fit panel) over the loss curves on the left; the step-by-step
        # table and the schedule in a column beside both, the height of the two
        row = QHBoxLayout()
        row.setSpacing(4)
        left = QVBoxLayout()
        left.setSpacing(4)
        left.addWidget(self.splitter, 1)
        if self.loss_view is not None:
            left.addWidget(self.loss_view)
        row.addLayout(left, 1)
        self.side = QWidget()
        self._side_layout = side = QVBoxLayout(self.side)
        side.setContentsMargins(0, 0, 0, 0)
        for w in (self.step_view, self.schedule_view, self.lrfind_view, self.tuned_view):
            if w is not None:
                side.addWidget(w, 1 if w in (self.step_view, self.lrfind_view) else 0)
        row.addWidget(self.side)
        self.side.setVisible(self.step_view is not None or self.schedule_view is not None)
        lay.addLayout(row, 1)
        if self.status is not None:
            lay.addWidget(self.status)
        self._side_w = 0

        s = session
        # which views show: once a change has settled, before the views refresh (a view
        # hidden by it then skips its work), however many of its signals asked
        self._connections = connect_all([
            (s.problem_changed, self._layout_later),
            (s.selection_changed, self._layout_later),
            (s.runs_changed, self._layout_later),
            (s.events.lrfind, self._layout_later), (s.events.tuned, self._layout_later),
        ])
        if self.follow:
            self._connections += connect_all([(s.events.panels, self._on_panels_changed),
                                              (s.events.map_mode, self._layout_later)])
        if self.hyper_view is not None:
            self._connections += connect_all([(s.events.hyper_axis, self._layout_later)])
        if export and self.step_view is not None:
            # the table's numbers grow wider as the run goes: widen the column, never narrow it
            self._connections += connect_all([(s.stepped, self._size_parts)])
        yield
        self._on_layout_changed()

    def _wanted(self) -> tuple[str, ...]:
        if not self.follow:
            return self.own_panels
        own = self.own_panels + (INLINE_SIDE if getattr(self, "_inline", False) else ())
        return tuple(p for p in own if p in self.session.panels)

    def build_ahead(self) -> bool:
        """Make projector mode's side views ahead, one a call, as the window waits between
        two uses (hidden, not following the session): its schedule plot, then its
        step-by-step table; True if one was made now. (Made at projector mode's first
        press, they took 34 and 20 ms of a 75-98 ms press on L11 at 200 % text.)"""
        if self.schedule_view is None and self._schedule_kept is None:
            from gdviz.ui.views.schedule_view import ScheduleView

            # made hidden: it draws when the layout shows it (a lesson without schedules
            # never does; see ScheduleView._put_away)
            kept = ScheduleView(self.session)
            kept.hide()
            kept.set_following(False)
            self._schedule_kept = kept
            return True
        if self.step_view is None and self._step_kept is None:
            from gdviz.ui.views.step_view import StepScroll, StepView

            view = StepView(self.session)
            view.set_following(False)
            # scrolled, as in its dock: at the projector's text the table and its formula
            # are taller than the screen's room beside the map, and unscrolled they made
            # the window taller than the screen, the loss curves crushed to their axis
            # (L11 at 1280x720)
            box = StepScroll(view, "stepInline")
            box.hide()
            self._step_kept = box
            return True
        return False

    def set_side_inline(self, on: bool) -> None:
        """The window's projector mode: the step-by-step table and the schedule, which the
        window otherwise shows in its side docks (hidden in projector mode), show in the
        picture's side column, as an export lays them out (lessons L11, L12, L15 are about
        them). The two views are made once (ahead, if idle turns came first: see
        :meth:`build_ahead`); off, they wait hidden, not following the session, so that the
        normal window pays nothing for them."""
        on = bool(on)
        if on == getattr(self, "_inline", False):
            return
        self._inline = on
        if on:
            if self.step_view is None:
                while self._step_kept is None and self.build_ahead():
                    pass
                box, self._step_kept = self._step_kept, None
                self._step_box = box
                self.step_view = box.widget()
                self.step_view.set_following(True)
                self._side_layout.insertWidget(0, box, 1)
                self._inline_made = getattr(self, "_inline_made", ()) + (self.step_view,)
            if self.schedule_view is None:
                self.build_ahead()
                kept, self._schedule_kept = self._schedule_kept, None
                kept.set_following(True)
                self.schedule_view = kept
                self._side_layout.insertWidget(1, self.schedule_view, 0)
                self._inline_made = getattr(self, "_inline_made", ()) + (self.schedule_view,)
        else:
            for w in getattr(self, "_inline_made", ()):
                if w is self.step_view and self._step_box is not None:
                    box, self._step_box = self._step_box, None
                    self._side_layout.removeWidget(box)
                    box.hide()  # (explicitly: a show queued for it never runs)
                    w.set_following(False)
                    self._step_kept = box
                    self.step_view = None
                    continue
                self._side_layout.removeWidget(w)
                if w is self.schedule_view:
                    w.set_following(False)
                    w.hide()
                    self._schedule_kept = w
                    self.schedule_view = None
                    continue
                w.close()
                w.setParent(None)
                delete_later(w)
            self._inline_made = ()
        self._on_panels_changed()

    def _on_panels_changed(self, *_) -> None:
        self.panels = self._wanted()
        self.set_caption(*self._caption)
        self._layout_later()

    def _layout_later(self, *_) -> None:
        later(self.session, self._on_layout_changed, layout=True)

    # ------------------------------------------------------------------ caption
    def set_kernels_due(self, due: bool) -> None:
        """``due``: the window's kernels are being compiled. The maps (the map's layer, the
        hyper map) wait for them, saying so, and are computed once this turns False; so
        does an export started meanwhile (:attr:`kernels_due`)."""
        self.kernels_due = bool(due)
        views = [self.landscape_view.map_layer]
        if self.hyper_view is not None:
            views.append(self.hyper_view)
        for view in views:
            if due:
                view.wait_for_kernels()
            else:
                view.kernels_came()
        if not due:  # a live slice the twin computed coarse: the exact one now
            self.landscape_view.live_kernels_came()

    def set_caption(self, title: str = "", text: str = "") -> None:
        self._caption = (title, text)
        show = "caption" in self.panels
        self.caption.set_caption(title if show else "", text if show else "")

    # ------------------------------------------------------------------ layout
    def shown(self) -> tuple[str, ...]:
        """The panels that show now (those of ``panels`` with something to show)."""
        s = self.session
        has_sched = any(sp.schedule.kind != "constant" for sp in s.specs)
        net = s.kind in ("fit", "classify") \
            and getattr(getattr(s.problem, "model", None), "kind", "") == "network"
        return shown_panels(self.panels, is_data=s.is_data, selected=s.selected,
                            has_schedule=has_sched,
                            has_hyper=s.hyper_axis != "off" and not s.is_data,
                            has_lrfind=s.lrfind is not None, has_tuned=s.tuned is not None,
                            has_network=net)

    def wants_3d(self) -> bool:
        """The 3-D view shows: the window's by ``session.map_mode``, an export's when its
        panels name "surface3d" (where OpenGL works; else ``missing_3d`` says why)."""
        if self.follow:
            return self.session.map_mode != "2d"
        return "surface3d" in self.panels

    def _sync_3d(self) -> bool:
        """Make (once) and show or hide the 3-D view; True when it shows."""
        want = self.wants_3d()
        if want and self.surface3d_view is None:
            from gdviz.ui.gl_probe import gl_available, gl_reason

            if not gl_available():
                self.missing_3d = gl_reason()
                return False
            from gdviz.ui.views.surface3d_view import Surface3DView

            self.surface3d_view = Surface3DView(self.session)
            self.splitter.insertWidget(1, self.surface3d_view)
            self.splitter.setStretchFactor(1, 1)
        if self.surface3d_view is not None:
            self.surface3d_view.setVisible(want)
        return want and self.surface3d_view is not None

    def _on_layout_changed(self, *_) -> None:
        shown = self.shown()
        three = self._sync_3d()
        two = "landscape" in shown and not (self.follow and three and self.session.map_mode == "3d")
        self.landscape_view.setVisible(two)
        fit_on = "fit" in shown
        plane_on = fit_on and self.session.kind == "classify"
        fit_on = fit_on and not plane_on
        hyper_on = self.hyper_view is not None and "hyper" in shown
        net_on = self.network_view is not None and "network" in shown
        self.fit_view.setVisible(fit_on)
        self.plane_view.setVisible(plane_on)
        for view, on in ((self.hyper_view, hyper_on), (self.network_view, net_on)):
            if view is not None:
                view.setVisible(on)
        # the views of the splitter (the map, the 3-D view, the fit panel or the plane, the
        # network picture, the hyper map) get their shares when the set that shows changes
        # (the user's drags stand until then)
        key = (two, three, fit_on, plane_on, hyper_on, net_on)
        if key != getattr(self, "_split_key", None):
            self._split_key = key
            self._shared_w = 0
        self._share_splitter()  # (and when the network's depth changed)
        self.splitter.setVisible(two or three or fit_on or plane_on or hyper_on or net_on)
        if self.step_view is not None:
            self.step_view.setVisible("step" in shown)
            if self._step_box is not None:
                self._step_box.setVisible("step" in shown)
        if self.schedule_view is not None:
            self.schedule_view.setVisible("schedule" in shown)
        for name, w in (("lrfind", self.lrfind_view), ("tuned", self.tuned_view)):
            if w is not None:
                w.setVisible(name in shown)
        self.side.setVisible(("step" in shown and self.step_view is not None)
                             or ("schedule" in shown and self.schedule_view is not None)
                             or ("lrfind" in shown and self.lrfind_view is not None)
                             or ("tuned" in shown and self.tuned_view is not None))
        self._size_parts()

    def _size_parts(self, *_) -> None:
        """Shares of the picture for the parts around the map, in an export (which has one
        size; in the window the docks and the splitter are the user's to drag). The map
        keeps at least half of the height; a long caption gets a smaller font before it
        would take more than a third; the step-by-step column is as wide as its numbers."""
        if not self.export:
            if getattr(self, "_inline", False):  # projector mode: the map keeps its room
                self.side.setMaximumWidth(max(260, int(self.width() * 0.40)))
            else:
                self.side.setMaximumWidth(16777215)
            return
        w, h = max(self.width(), 64), max(self.height(), 64)
        cap = self._fit_caption(w, h)
        if self.caption.isVisibleTo(self):
            self.caption.setFixedHeight(cap)
        status = self.status.sizeHint().height() if self.status is not None else 0
        room = h - cap - status - 16
        if self.loss_view is not None:
            self.loss_view.setFixedHeight(int(max(60, min(h * LOSS_SHARE, room * 0.4))))
        if self.side.isVisibleTo(self):
            step_on = self.step_view is not None and self.step_view.isVisibleTo(self)
            want = self.step_view.sizeHint().width() + 8 if step_on else 0
            lrf_on = self.lrfind_view is not None and self.lrfind_view.isVisibleTo(self)
            if self.tuned_view is not None and self.tuned_view.isVisibleTo(self):
                want = max(want, self.tuned_view.sizeHint().width() + 8)
            share = SIDE_SHARE if step_on or lrf_on else 0.26
            self._side_w = int(min(max(want, w * share, self._side_w), w * 0.42))
            self.side.setFixedWidth(self._side_w)
            if self.schedule_view is not None:
                self.schedule_view.setMaximumHeight(int(max(110, room * (1.0 if not step_on else 0.3))))

    def _fit_caption(self, w: int, h: int) -> int:
        """Shrink the caption's font (down to 60 %) until it takes at most a third of ``h``;
        returns the caption's height."""
        if not self.caption.isVisibleTo(self):
            return 0
        base = self.caption.base_font()
        need = 0
        for k in range(9):
            f = base if k == 0 else _scaled(base, 1.0 - 0.05 * k)
            self.caption.setFont(f)
            c = self.caption
            need = (c.title_label.heightForWidth(w - 120) if c.title_label.text() else 0) \
                + (c.body.heightForWidth(w - 40) if c.body.text() else 0) + 16
            if need <= h / 3:
                break
        return need

    def parts(self) -> list[QWidget]:
        """The panels that show now, each a widget of its own (what an export paints)."""
        ws = [self.caption, self.notice, self.landscape_view, self.surface3d_view, self.fit_view,
              self.hyper_view, self.loss_view, self.step_view, self.schedule_view, self.lrfind_view,
              self.tuned_view, self.network_view, self.plane_view, self.status]
        return [w for w in ws if w is not None and w.isVisibleTo(self)]

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(ev)
        self._share_splitter()
        self._size_parts()

    def _share_splitter(self) -> None:
        """The splitter's shares for the views that show: the hyper map takes 42 % of it;
        the others share the rest by weight: even (the map, the 3-D view, the fit panel or
        the classification plane), but with the network picture on, the map (a slice over
        two of many weights) 3, the fit panel 3, the plane 4 and the network a part per
        column of neurons, 2 to 4 (L20's 2-1 needs less room than L21's 2-8-8-8-1: the
        map kept 175 px of 800 beside it). With the network picture on, the plane's own
        neuron thumbnails hide: the network draws the same pictures in its neurons. Set
        again when the picture's width or the network's depth changes."""
        sp = self.splitter
        shown = [sp.widget(i).isVisibleTo(self) for i in range(sp.count())]
        w = sp.width() - sp.handleWidth() * max(sum(shown) - 1, 0)
        net = self.network_view is not None and self.network_view.isVisibleTo(self)
        hyper = self.hyper_view is not None and self.hyper_view.isVisibleTo(self)
        if getattr(self, "plane_view", None) is not None:
            self.plane_view.set_beside_network(net)
        model = self.network_view.model if net else None
        net_w = min(max(len(model.sizes), 2), 4) if model is not None else 3
        weights = []
        for i in range(sp.count()):
            wid = sp.widget(i)
            if not shown[i] or wid is self.hyper_view:
                weights.append(0)
            elif net and wid is self.plane_view:
                weights.append(4)
            elif net and wid is self.network_view:
                weights.append(net_w)
            elif net:
                weights.append(3)  # the map, the fit panel
            else:
                weights.append(1)
        if w <= 8 or self._shared_w == (w, weights):
            return
        self._shared_w = (w, weights)
        rest = w - (int(w * 0.42) if hyper else 0)
        total = max(sum(weights), 1)
        sizes = [rest * k // total for k in weights]
        if hyper:
            sizes[sp.indexOf(self.hyper_view)] = int(w * 0.42)
        sp.setSizes(sizes)

    def close(self) -> bool:
        if getattr(self, "_views_closed", False):
            return super().close()  # (closed once: pyqtgraph's views cannot close twice)
        self._views_closed = True
        disconnect_all(getattr(self, "_connections", []))
        self._connections = []
        forget(self)
        self._pending_build = None  # a staged build stopped half way: what was made closes
        menus = _plot_menus(self)
        for name in _VIEWS:
            w = getattr(self, name, None)
            if w is not None:
                w.close()
        # what a staged build stopped half way made before its layout (an export cancelled
        # while preparing): not yet the picture's children, so not deleted with it, and
        # kept alive by their own signals' lambdas (a cycle through Qt that Python's
        # collector cannot see): every cancelled export left a caption and a map behind
        for name in ("caption", "splitter", "notice", "side") + _VIEWS:
            w = self.__dict__.get(name)
            if isinstance(w, QWidget) and shiboken6.isValid(w) and w.parentWidget() is None:
                delete_later(w)
        # (pyqtgraph's teardown unparents them and lets them go: kept alive as above, two
        # menus and their submenus a plot)
        delete_later(*menus)
        return super().close()


#: a picture's views (each closed with it)
_VIEWS = ("landscape_view", "surface3d_view", "fit_view", "loss_view", "step_view",
          "schedule_view", "_schedule_kept", "_step_kept", "status", "hyper_view",
          "lrfind_view", "tuned_view", "network_view", "plane_view")


def _plot_menus(picture) -> list:
    """The context menus of the plots in ``picture``'s views (a PlotItem's "Plot Options",
    a ViewBox's menu): parentless QMenus pyqtgraph makes per plot."""
    import pyqtgraph as pg

    views = [w for w in picture.__dict__.values() if isinstance(w, QWidget) and shiboken6.isValid(w)]
    views.append(picture)
    seen, out = set(), []
    for v in views:
        for gv in [v] + v.findChildren(pg.GraphicsView):
            if not isinstance(gv, pg.GraphicsView) or id(gv) in seen:
                continue
            seen.add(id(gv))
            scene = gv.scene()
            if scene is None:
                continue
            for item in scene.items():
                for m in (getattr(item, "ctrlMenu", None), getattr(item, "menu", None)):
                    if isinstance(m, QMenu) and m.parentWidget() is None:
                        out.append(m)
    return out


class FrameGrabber:
    """Paint ``session`` as the window would, at ``size``, into numpy frames.

    Builds an off-screen :class:`Picture` of ``panels`` (never shown on a screen) and
    paints it per frame into one reused image. Call on the GUI thread (Qt widgets).
    ``frame()`` returns the image's pixels as (h, w, 4) uint8 BGRA, valid until the
    next call; :meth:`rgb` converts a frame to (h, w, 3) RGB.

    ``staged=True`` (the window's export) makes it ready over many calls of :meth:`prepare`,
    each a few tens of ms (the views one by one, the layout at the clip's size, a first
    paint of each part), so that the UI thread is never blocked for the whole build; a
    :meth:`frame` before it is ready finishes the build first. ``setup(picture)``, if
    given, is called once the picture is built and laid out (e.g. to give the fit panel
    the window's ghost).
    """

    def __init__(self, session, size: tuple[int, int], panels, caption: tuple[str, str] = ("", ""),
                 *, reference_height: int | None = REFERENCE_HEIGHT, status: bool = True,
                 staged: bool = False, setup=None):
        self.session = session
        self.size = (int(size[0]), int(size[1]))
        # the picture is laid out as a window ``reference_height`` pixels high and painted
        # scaled to the clip: a 480p or a 1080p clip shows the 720p window, text and all
        # (None: laid out at the clip's own size)
        self.scale = self.size[1] / reference_height if reference_height else 1.0
        self._logical = QSize(max(64, round(self.size[0] / self.scale)), round(self.size[1] / self.scale))
        self._caption = caption
        self._setup = setup
        # frames are painted into a ring of images, so that the encoder can take one
        # uncopied while the next ones are drawn (see ``stable_frames``)
        from gdviz.export.video import STABLE_FRAMES

        self.stable_frames = STABLE_FRAMES
        self._images = [QImage(self.size[0], self.size[1], QImage.Format.Format_RGB32)
                        for _ in range(self.stable_frames)]
        self._turn = 0
        #: the caption's pixels and what they show: it is painted once, not every frame
        self._caption_img: QImage | None = None
        self._caption_key = None
        self.picture = Picture(session, panels, export=True, status=status, staged=True)
        self._steps = self._prepare_steps(staged)
        if not staged:
            self.finish()

    def _prepare_steps(self, warm: bool):
        yield from self.picture._pending_build
        self.picture._pending_build = None
        self.picture.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        self.picture.setAutoFillBackground(True)
        self.picture.set_caption(*self._caption)
        yield
        self.picture.resize(self._logical)
        self.picture.show()
        yield
        # the layout, then what the map would do on its next turns (the map mode's map a
        # chunk per piece: 0.9 s whole on L16)
        QApplication.instance().sendPostedEvents(None, QEvent.Type.LayoutRequest)
        yield
        if self._map_shown():
            yield from self.picture.landscape_view.flush_steps()
        self.flush()
        if self._setup is not None:
            self._setup(self.picture)
        if warm:
            # the first paint of each part at the clip's size fills caches (the axes' text,
            # the contours' raster): part by part here, so the first frame is as quick as
            # the next ones; the caches are what any first frame would fill, the pixels
            # the same
            yield
            for w in self.picture.parts():
                self._paint(self._images[-1], [w])
                yield

    def prepare(self) -> bool:
        """Do the next piece of the build; True once the picture is ready to paint."""
        if self._steps is None:
            return True
        try:
            next(self._steps)
            return False
        except StopIteration:
            self._steps = None
            return True

    def finish(self) -> None:
        """The rest of the build, at once."""
        while not self.prepare():
            pass

    def flush(self) -> None:
        """Do now what the views would do on the next turns of the event loop (layout,
        a pending grid recompute), so that a frame shows the session as it is."""
        app = QApplication.instance()
        app.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        if self._map_shown():
            self.picture.landscape_view.flush()

    def _map_shown(self) -> bool:
        """The map is one of the clip's panels (a map left out is not computed for it: a
        fit's exact slice of 100,000 points, 0.3 s a frame, for no pixel)."""
        return self.picture.landscape_view.isVisibleTo(self.picture)

    def frame(self) -> np.ndarray:
        """The next frame, (h, w, 4) BGRA; it stays intact for ``stable_frames`` calls."""
        self.finish()
        self.flush()
        img = self._images[self._turn % len(self._images)]
        self._turn += 1
        self._paint(img, self.picture.parts())
        w, h = self.size
        buf = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
        return buf.reshape(h, img.bytesPerLine() // 4, 4)[:, :w]

    def _paint(self, img: QImage, parts) -> None:
        """Paint ``parts`` of the picture, each at its place, into ``img``."""
        img.fill(self.picture.palette().window().color())
        p = QPainter(img)
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.scale(self.scale, self.scale)
            # each panel at its place: rendering the picture whole costs twice as much
            # (here 7.6 ms against 3.2 ms at 720p), for the same pixels on its plain background
            for w in parts:
                if w is self.picture.surface3d_view:  # OpenGL: its framebuffer, as drawn
                    p.drawImage(w.mapTo(self.picture, QPoint(0, 0)), w.grabFramebuffer())
                    continue
                if w is self.picture.caption:
                    self._draw_caption(p, w)
                    continue
                QWidget.render(w, p, w.mapTo(self.picture, QPoint(0, 0)))
        finally:
            p.end()  # a painter is always ended, whatever the views raise

    def _draw_caption(self, p: QPainter, w: QWidget) -> None:
        """The caption, painted once at the clip's scale and copied into later frames
        (about 1 ms a frame at 720p): it changes only with its text, fold, size, font,
        theme or language, which are its cache key."""
        from gdviz.core import i18n
        from gdviz.ui import theme

        pos = w.mapTo(self.picture, QPoint(0, 0))
        corners = (pos.x() * self.scale, pos.y() * self.scale, w.width() * self.scale,
                   w.height() * self.scale)
        if any(abs(v - round(v)) > 1e-9 for v in corners):
            # off the pixel grid (e.g. a 480p clip of the 720p window) the text would be
            # laid out at another sub-pixel phase: paint it in place, as the other parts
            QWidget.render(w, p, pos)
            return
        key = (w._title, w._text, w.expanded, w.width(), w.height(), theme.current(),
               theme.font_scale(), i18n.current_language(), self.scale)
        if key != self._caption_key or self._caption_img is None:
            img = QImage(max(1, round(w.width() * self.scale)), max(1, round(w.height() * self.scale)),
                         QImage.Format.Format_RGB32)
            img.fill(self.picture.palette().window().color())
            q = QPainter(img)
            try:
                q.setRenderHints(p.renderHints())
                q.scale(self.scale, self.scale)
                QWidget.render(w, q, QPoint(0, 0))
            finally:
                q.end()
            self._caption_img, self._caption_key = img, key
        p.save()
        p.resetTransform()  # pixel for pixel, as if it were painted in place
        p.drawImage(QPoint(round(pos.x() * self.scale), round(pos.y() * self.scale)),
                    self._caption_img)
        p.restore()

    @property
    def colors(self) -> list[str]:
        """Colours later frames may add (every run's, then the theme's), for a GIF palette."""
        from gdviz.ui import theme

        s = self.session
        runs = [s.run_color(r) for r in range(s.n_runs)]
        pal = theme.palette(theme.current())
        extra = [v for k, v in pal.items() if isinstance(v, str) and v.startswith("#")
                 and k not in ("background", "panel")]
        return list(dict.fromkeys(runs + extra))

    @staticmethod
    def rgb(frame: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(frame[..., 2::-1])

    def close(self) -> None:
        self._steps = None
        self.picture.close()
        delete_later(self.picture)  # (a top-level widget: Python's)


def clip_renderer(session, settings, caption: tuple[str, str] = ("", ""), *,
                  staged: bool = False, setup=None) -> FrameGrabber:
    """The renderer of an export (:class:`gdviz.export.clip.ClipJob`): the app's picture of
    ``settings.panels`` at ``settings.size``, in ``settings.theme`` and ``settings.lang``.

    Without a running app (``gdviz export``) it starts a QApplication on the offscreen
    platform and applies the theme and language; inside the app the export keeps the
    window's theme and language, which is what the class saw.
    """
    if QApplication.instance() is None:
        import os

        if "surface3d" in settings.panels and os.environ.get("DISPLAY"):
            # the 3-D panel draws in a QOpenGLWidget, which the offscreen platform does not
            # support: on an X display (e.g. xvfb-run) the picture is made, never shown, there
            os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from gdviz.core import i18n
        from gdviz.ui import theme
        from gdviz.ui.app import ensure_app

        _quiet_offscreen_warnings()
        app = ensure_app()
        if settings.lang:
            i18n.set_language(settings.lang)
        theme.apply(app, settings.theme)
    if "surface3d" in settings.panels:
        from gdviz.ui.gl_probe import gl_available, gl_reason

        if not gl_available():
            raise ValueError(f"cannot export the surface3d panel: {gl_reason('en')}; run it "
                             "where OpenGL works (e.g. under xvfb-run) or leave surface3d out "
                             "of the panels")
    return FrameGrabber(session, settings.size, settings.panels, caption, staged=staged, setup=setup)


def _quiet_offscreen_warnings() -> None:
    """The offscreen platform warns that it "does not support propagateSizeHints()" for
    every window it lays out; a CLI prints one line per error and nothing else."""
    from PySide6.QtCore import qInstallMessageHandler

    previous = []

    def handler(mode, context, message):
        if "propagateSizeHints" in message:
            return
        if previous and previous[0] is not None:
            previous[0](mode, context, message)
        else:
            import sys

            print(message, file=sys.stderr)

    previous.append(qInstallMessageHandler(handler))
