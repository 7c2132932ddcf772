"""File ▸ Export animation…: GIF, MP4, a PNG of the frame, or the trajectories as CSV.

The clip is the app's own picture (:mod:`gdviz.ui.picture`), painted off screen from a
*copy* of the session (rebuilt through its scene, so the live demo is not disturbed and
the clip is the one ``gdviz export`` makes from the saved scene), in the window's theme
and language. Qt widgets paint only on the UI thread, so the export runs there one
frame per turn of the event loop (a :class:`gdviz.export.clip.ClipJob` step), while a
thread feeds ffmpeg: the window keeps answering, the progress bar moves, and Cancel
stops it at the next frame, leaving no partial file.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from gdviz.core.i18n import tr
from gdviz.core.panels import PANELS

SIZES = {"480p (854×480)": (854, 480), "720p (1280×720)": (1280, 720), "1080p (1920×1080)": (1920, 1080)}
#: format key -> extension; the label is tr("fmt_<key>")
FORMATS = {"mp4": ".mp4", "gif": ".gif", "png": ".png", "csv": ".csv"}
#: while an export waits for the window's kernels, it asks whether they came this often (ms)
KERNEL_POLL_MS = 100


def default_panels(session, scene=None) -> tuple[str, ...]:
    """The panels ticked when the dialog opens: the scene's export table when there is a
    scene; without one, what the window shows (``session.panels``, less what has nothing
    to show: the fit panel on a surface, step-by-step with no run selected, the schedule
    when every run's lr is constant)."""
    if scene is not None:
        return tuple(scene.export.panels)
    from gdviz.core.panels import shown_panels

    has_schedule = any(sp.schedule.kind != "constant" for sp in session.specs)
    model = getattr(session.problem, "model", None) if session.kind == "fit" else None
    shown = shown_panels(session.panels, is_data=session.is_data, selected=session.selected,
                         has_schedule=has_schedule,
                         has_hyper=session.hyper_axis != "off" and not session.is_data,
                         has_lrfind=session.lrfind is not None,
                         has_tuned=session.tuned is not None,
                         has_network=getattr(model, "kind", "") == "network")
    from gdviz.ui.map3d_menu import window_panels  # the 3-D view as View ▸ Map shows it

    return window_panels(session, shown)


def clone_session(session, base_scene=None):
    """An independent Session replaying ``session`` (through its scene)."""
    from gdviz.core.scene import apply_scene, scene_from_session
    from gdviz.core.session import Session

    scene = scene_from_session(session, base_scene)
    copy = Session()
    if apply_scene(scene, copy, defer_lrfind=True) is not None:
        # the lr finder's results as the window shows them, not computed again in the
        # export's press (a tuning of 10⁵ steps: 0.4 s)
        with copy._changes():
            copy.set_lrfind(session.lrfind)
            copy.set_tuned(session.tuned)
    copy.pause()
    return copy


class ExportDialog(QtWidgets.QDialog):
    """Settings, a progress bar and Cancel. ``scene`` gives the defaults (its export table)."""

    def __init__(self, session, scene=None, caption=("", ""), parent=None, ghost=None,
                 kernels_due=None):
        super().__init__(parent)
        self.session, self.scene, self.caption = session, scene, caption
        #: a function, True while the window's kernels are still being compiled (the first
        #: start after an install): an export waits for them before its first step, as the
        #: maps do. Built and stepped with the numpy twins, a fit lesson's frames took
        #: 0.7 s of the window's thread each (the live slice at the full grid), and the
        #: export itself minutes; the compile takes ~100 s once.
        self._kernels_due = kernels_due
        self._waiting_kernels = False
        self._stepped = False
        #: the fit panel's ghost (lessons L8, L13), drawn in the clip as in the window
        self.ghost = ghost
        #: whether the scene wants the 3-D view in the clip, until OpenGL is probed (None
        #: after: see :meth:`_probe_gl`)
        self._wants_3d = None
        self._job = None
        self._cancel = False
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(0)  # one frame per turn of the event loop
        self._timer.timeout.connect(self._next_frame)
        ex = scene.export if scene is not None else None

        self.format = QtWidgets.QComboBox()
        for key in FORMATS:
            self.format.addItem(key, key)
        self.path = QtWidgets.QLineEdit(str(Path.home() / "gdviz-demo.mp4"))
        self.browse = QtWidgets.QPushButton()
        self.browse.clicked.connect(self._browse)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)

        self.fps = QtWidgets.QSpinBox()
        self.fps.setRange(1, 120)
        self.fps.setValue(ex.fps if ex else 30)
        self.size = QtWidgets.QComboBox()
        self.size.addItems(list(SIZES))
        self.size.setCurrentIndex(1)  # 720p by default
        if ex and tuple(ex.size) in SIZES.values():
            self.size.setCurrentIndex(list(SIZES.values()).index(tuple(ex.size)))
        from gdviz.core.limits import MAX_STEPS

        self.steps = QtWidgets.QSpinBox()
        self.steps.setRange(0, MAX_STEPS)
        self.steps.setValue(ex.steps if ex else session.max_steps)
        self.spf = QtWidgets.QSpinBox()
        self.spf.setRange(1, 100_000)
        self.spf.setValue(ex.steps_per_frame if ex else 1)
        self.panels: dict[str, QtWidgets.QCheckBox] = {}
        panel_box = QtWidgets.QGridLayout()
        chosen = default_panels(session, scene)
        for i, name in enumerate(PANELS):
            cb = QtWidgets.QCheckBox()
            cb.setObjectName(f"panel_{name}")
            cb.setChecked(name in chosen)
            if name == "surface3d":
                from gdviz.ui.gl_probe import gl_probed

                # whether OpenGL works: a probe of ~55 ms the first time (and the GL
                # libraries read from disk: the dialog's first opening took 120-180 ms),
                # made a turn after the dialog shows (or when the export starts)
                self._wants_3d = cb.isChecked()
                cb.setEnabled(False)
                cb.setChecked(False)
                if gl_probed():
                    self._probe_gl(cb, tell=False)  # (retranslated below)
                else:
                    QtCore.QTimer.singleShot(0, self._probe_gl)
            self.panels[name] = cb
            panel_box.addWidget(cb, i // 3, i % 3)
        self.look = QtWidgets.QLabel()
        self.look.setWordWrap(True)

        self.form = QtWidgets.QFormLayout()
        self._rows = [("export_format", self.format), ("export_file", row), ("export_fps", self.fps),
                      ("export_size", self.size), ("export_steps", self.steps),
                      ("export_spf", self.spf), ("export_panels", panel_box)]
        for key, w in self._rows:
            self.form.addRow(tr(key), w)

        self.bar = QtWidgets.QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.export_button = QtWidgets.QPushButton()
        self.export_button.setDefault(True)
        self.cancel_button = QtWidgets.QPushButton()
        self.export_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self._cancel_or_close)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)

        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(self.form)
        lay.addWidget(self.look)
        lay.addWidget(self.bar)
        lay.addWidget(self.message)
        lay.addLayout(buttons)
        self.format.currentIndexChanged.connect(self._on_format_changed)
        self.retranslate()
        self._on_format_changed()

    # ---- words ----------------------------------------------------------------------
    def retranslate(self) -> None:
        """Every word in the UI language."""
        self.setWindowTitle(tr("export_title"))
        for i in range(self.format.count()):
            self.format.setItemText(i, tr(f"fmt_{self.format.itemData(i)}"))
        self.browse.setText(tr("export_browse"))
        for i, (key, _w) in enumerate(self._rows):
            label = self.form.itemAt(i, QtWidgets.QFormLayout.ItemRole.LabelRole)
            if label is not None and label.widget() is not None:
                label.widget().setText(tr(key))
        for name, cb in self.panels.items():
            cb.setText(tr(f"panel_{name}"))
            if name == "surface3d" and self._wants_3d is None and not cb.isEnabled():
                from gdviz.ui.gl_probe import gl_reason

                cb.setToolTip(gl_reason())
        self.look.setText(tr("export_look"))
        self.export_button.setText(tr("export_button"))
        self.cancel_button.setText(tr("export_cancel") if self.running() else tr("export_close"))

    def changeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().changeEvent(ev)
        if ev.type() == QtCore.QEvent.Type.LanguageChange:
            self.retranslate()

    # ---- settings ---------------------------------------------------------------------
    def _ext(self) -> str:
        return FORMATS[self.format.currentData()]

    def _on_format_changed(self, *_) -> None:
        ext = self._ext()
        p = Path(self.path.text() or "gdviz-demo")
        self.path.setText(str(p.with_suffix(ext)))
        video = ext in (".mp4", ".gif")
        for w in (self.fps, self.spf):
            w.setEnabled(video)
        if ext == ".gif" and self.size.currentIndex() > 1:
            self.size.setCurrentIndex(0)  # GIFs at 1080p are huge

    def _browse(self) -> None:
        ext = self._ext()
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, tr("export_title"), self.path.text(), f"*{ext}")
        if path:
            self.path.setText(str(Path(path).with_suffix(ext)))

    def settings(self):
        """The dialog's choices as ExportSettings (ValueError if they are invalid); the
        theme and language are the window's."""
        from gdviz.core.i18n import current_language
        from gdviz.export.clip import ExportSettings
        from gdviz.ui import theme

        return ExportSettings(fps=self.fps.value(), size=SIZES[self.size.currentText()],
                              steps=self.steps.value(), steps_per_frame=self.spf.value(),
                              panels=tuple(n for n, cb in self.panels.items() if cb.isChecked()),
                              theme=theme.current(), lang=current_language())

    # ---- running --------------------------------------------------------------------------
    def running(self) -> bool:
        return self._job is not None

    def _probe_gl(self, cb=None, tell: bool = True) -> None:
        """The 3-D view's box enabled (and checked, if the scene shows the 3-D view) where
        OpenGL works, else disabled with the reason in its tooltip. Once."""
        if self._wants_3d is None:
            return
        from gdviz.ui.gl_probe import gl_available

        cb = cb if cb is not None else self.panels.get("surface3d")
        if cb is None:
            return
        wanted, self._wants_3d = self._wants_3d, None
        ok = gl_available()
        cb.setEnabled(ok)
        cb.setChecked(wanted and ok)
        if not ok and tell:
            self.retranslate()  # (its tooltip says why)

    def start(self) -> bool:
        """Start exporting; False (with a message) if the settings are bad."""
        if self.running():
            return False
        self._probe_gl()  # (not probed yet: pressed in the turn the dialog showed)
        from gdviz.export.clip import ClipJob, output_kind

        try:
            settings = self.settings()
            kind = output_kind(self.path.text())
            clone = clone_session(self.session, self.scene)
            renderer = None
            if kind != "csv":
                from gdviz.ui.picture import clip_renderer

                ghost = self.ghost

                def renderer():
                    # built over many turns of the event loop (ClipJob calls ``prepare``)
                    return clip_renderer(clone, settings, self.caption, staged=True,
                                         setup=lambda picture: picture.fit_view.set_ghost(ghost))
            job = ClipJob(clone, self.path.text(), settings, renderer)  # owns the renderer
        except (ValueError, OSError, MemoryError) as exc:
            self._show(_first_line(exc), error=True)
            return False
        self._job, self._cancel, self._stepped = job, False, False
        self._show(tr("export_preparing") if job.preparing else tr("export_running"))
        self.bar.setRange(0, job.total)
        self.bar.setValue(0)
        self.export_button.setEnabled(False)
        self.cancel_button.setText(tr("export_cancel"))
        self._timer.start()
        return True

    def _next_frame(self) -> None:
        job = self._job
        if job is None:
            self._timer.stop()
            return
        if self._cancel:
            # without waiting: while the encoder starts on its thread, again next turn
            if job.try_abort():
                self._end(tr("export_cancelled"), error=True)
            return
        if not self._stepped and self._kernels_due is not None and self._kernels_due():
            if not self._waiting_kernels:  # (asked again every KERNEL_POLL_MS, not spinning)
                self._waiting_kernels = True
                self._timer.setInterval(KERNEL_POLL_MS)
                self._show(tr("export_waiting_kernels"))
            return
        if self._waiting_kernels:
            self._waiting_kernels = False
            self._timer.setInterval(0)
            self._show(tr("export_preparing") if job.preparing else tr("export_running"))
        preparing = job.preparing
        self._stepped = True
        try:
            done = job.step()
        except (ValueError, OSError, MemoryError) as exc:
            self._end(_first_line(exc), error=True)
            return
        except Exception as exc:  # noqa: BLE001 - the app must survive any export bug
            self._end(tr("export_failed", error=f"{type(exc).__name__}: {_first_line(exc)}"), error=True)
            return
        self.bar.setValue(job.done)
        if preparing and not job.preparing:
            self._show(tr("export_running"))
        if done:
            self._end(tr("export_saved", path=str(job.out)[:120]))

    def _end(self, text: str, error: bool = False) -> None:
        self._timer.stop()
        self._timer.setInterval(0)
        self._waiting_kernels = False
        if self._job is not None and not self._job.finished:
            self._job.abort()
        self._job = None
        if error:
            self.bar.setRange(0, 1)
            self.bar.setValue(0)
        else:
            self.bar.setValue(self.bar.maximum())
        self.export_button.setEnabled(True)
        self.cancel_button.setText(tr("export_close"))
        self._show(text, error=error)

    def _cancel_or_close(self) -> None:
        if self.running():
            self._cancel = True
        else:
            self.accept()

    def wait(self, timeout_ms: int = 120_000) -> bool:
        """Run the event loop until the export ends (tests, scripts); True if it ended."""
        loop = QtCore.QEventLoop()
        timer = QtCore.QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        check = QtCore.QTimer()
        check.setInterval(5)
        check.timeout.connect(lambda: None if self.running() else loop.quit())
        check.start()
        timer.start(timeout_ms)
        if self.running():
            loop.exec()
        check.stop()
        return not self.running()

    def _show(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #d62728; font-weight: bold;" if error else "")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self.running():
            self._job.abort()
            self._end(tr("export_cancelled"), error=True)
        super().closeEvent(event)


def _first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
