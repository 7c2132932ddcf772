"""File ▸ Export animation…: GIF, MP4, a PNG of the frame, or the trajectories as CSV.

The export runs on a worker thread from a *copy* of the session (rebuilt through its
scene), so the live demo is not disturbed, the UI never blocks, and the clip is the
same one ``gdviz export`` makes from the saved scene. Progress shows in the dialog
and Cancel stops it, leaving no partial file.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

SIZES = {"480p (854×480)": (854, 480), "720p (1280×720)": (1280, 720), "1080p (1920×1080)": (1920, 1080)}
FORMATS = {"MP4 video (H.264)": ".mp4", "GIF animation": ".gif", "PNG (one frame)": ".png",
           "Trajectories (CSV)": ".csv"}


class ExportWorker(QtCore.QObject):
    """Runs :func:`gdviz.export.clip.export` off the UI thread."""

    progress = QtCore.Signal(int, int)
    finished = QtCore.Signal(str)   # the written path
    failed = QtCore.Signal(str)     # one-line message

    def __init__(self, session, path, settings, caption):
        super().__init__()
        self._session, self._path, self._settings, self._caption = session, path, settings, caption
        self._cancel = False

    def cancel(self) -> None:
        self._cancel = True

    @QtCore.Slot()
    def run(self) -> None:
        from gdviz.export.clip import ExportCancelled, export

        try:
            out = export(self._session, self._path, self._settings, caption=self._caption,
                         progress=lambda d, n: self.progress.emit(d, n), cancelled=lambda: self._cancel)
        except ExportCancelled:
            self.failed.emit("Export cancelled; nothing was written.")
        except (ValueError, OSError) as exc:
            self.failed.emit(str(exc).splitlines()[0])
        except Exception as exc:  # noqa: BLE001 - the app must survive any export bug
            self.failed.emit(f"Export failed: {type(exc).__name__}: {exc}")
        else:
            self.finished.emit(str(out))


def default_panels(session, scene=None) -> tuple[str, ...]:
    """The panels ticked when the dialog opens: the scene's export table when there is a
    scene; without one, the map and the loss, plus the fit panel on a data problem."""
    if scene is not None:
        return tuple(scene.export.panels)
    fit = ("fit",) if getattr(session, "is_data", False) else ()
    return fit + ("landscape", "loss", "caption")


def clone_session(session, base_scene=None):
    """An independent Session replaying ``session`` (through its scene)."""
    from gdviz.core.scene import apply_scene, scene_from_session
    from gdviz.core.session import Session

    scene = scene_from_session(session, base_scene)
    copy = Session()
    apply_scene(scene, copy)
    copy.pause()
    return copy


class ExportDialog(QtWidgets.QDialog):
    """Settings, a progress bar and Cancel. ``defaults`` is a scene's ``Export`` table."""

    def __init__(self, session, scene=None, caption=("", ""), parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export animation")
        self.session, self.scene, self.caption = session, scene, caption
        self._thread: QtCore.QThread | None = None
        self._worker: ExportWorker | None = None
        ex = scene.export if scene is not None else None

        self.format = QtWidgets.QComboBox()
        self.format.addItems(list(FORMATS))
        self.path = QtWidgets.QLineEdit(str(Path.home() / "gdviz-demo.mp4"))
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)

        self.fps = QtWidgets.QSpinBox()
        self.fps.setRange(1, 120)
        self.fps.setValue(ex.fps if ex else 30)
        self.size = QtWidgets.QComboBox()
        self.size.addItems(list(SIZES))
        self.size.setCurrentIndex(1)  # 720p by default
        if ex and tuple(ex.size) in SIZES.values():
            self.size.setCurrentIndex(list(SIZES.values()).index(tuple(ex.size)))
        self.steps = QtWidgets.QSpinBox()
        self.steps.setRange(0, 1_000_000)
        self.steps.setValue(ex.steps if ex else session.max_steps)
        self.spf = QtWidgets.QSpinBox()
        self.spf.setRange(1, 100_000)
        self.spf.setValue(ex.steps_per_frame if ex else 1)
        self.panels = {}
        panel_row = QtWidgets.QHBoxLayout()
        chosen = default_panels(session, scene)
        for name, label in (("landscape", "Landscape"), ("fit", "Fit panel"), ("loss", "Loss plot"),
                            ("caption", "Caption")):
            cb = QtWidgets.QCheckBox(label)
            cb.setChecked(name in chosen)
            self.panels[name] = cb
            panel_row.addWidget(cb)
        self.theme = QtWidgets.QComboBox()
        self.theme.addItems(["light", "dark"])

        form = QtWidgets.QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("File", row)
        form.addRow("Frames per second", self.fps)
        form.addRow("Size", self.size)
        form.addRow("Steps", self.steps)
        form.addRow("Steps per frame", self.spf)
        form.addRow("Panels", panel_row)
        form.addRow("Theme", self.theme)

        self.bar = QtWidgets.QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.export_button = QtWidgets.QPushButton("Export")
        self.export_button.setDefault(True)
        self.cancel_button = QtWidgets.QPushButton("Close")
        self.export_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self._cancel_or_close)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)

        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.bar)
        lay.addWidget(self.message)
        lay.addLayout(buttons)
        self.format.currentTextChanged.connect(self._on_format_changed)
        self._on_format_changed(self.format.currentText())

    # ---- settings ---------------------------------------------------------------------
    def _on_format_changed(self, text: str) -> None:
        ext = FORMATS[text]
        p = Path(self.path.text() or "gdviz-demo")
        self.path.setText(str(p.with_suffix(ext)))
        video = ext in (".mp4", ".gif")
        for w in (self.fps, self.spf):
            w.setEnabled(video)
        if ext == ".gif" and self.size.currentIndex() > 1:
            self.size.setCurrentIndex(0)  # GIFs at 1080p are huge

    def _browse(self) -> None:
        ext = FORMATS[self.format.currentText()]
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export to", self.path.text(), f"*{ext}")
        if path:
            self.path.setText(str(Path(path).with_suffix(ext)))

    def settings(self):
        """The dialog's choices as ExportSettings (ValueError if they are invalid)."""
        from gdviz.export.clip import ExportSettings

        return ExportSettings(fps=self.fps.value(), size=SIZES[self.size.currentText()],
                              steps=self.steps.value(), steps_per_frame=self.spf.value(),
                              panels=tuple(n for n, cb in self.panels.items() if cb.isChecked()),
                              theme=self.theme.currentText())

    # ---- running --------------------------------------------------------------------------
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> bool:
        """Start exporting on a worker thread; False (with a message) if settings are bad."""
        if self.running():
            return False
        try:
            settings = self.settings()
            from gdviz.export.clip import output_kind

            output_kind(self.path.text())
            clone = clone_session(self.session, self.scene)
        except (ValueError, OSError) as exc:
            self._show(str(exc).splitlines()[0], error=True)
            return False
        self._show("Exporting…")
        self.bar.setRange(0, 0)
        self.export_button.setEnabled(False)
        self.cancel_button.setText("Cancel")
        self._thread = QtCore.QThread(self)
        self._worker = ExportWorker(clone, self.path.text(), settings, self.caption)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progress.connect(self._on_progress)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        self._thread.start()
        return True

    def _on_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, total)
        self.bar.setValue(done)

    def _on_finished(self, path: str) -> None:
        self._stop_thread()
        self.bar.setValue(self.bar.maximum())
        self._show(f"Saved {path}")

    def _on_failed(self, message: str) -> None:
        self._stop_thread()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self._show(message, error=True)

    def _stop_thread(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread = None
            self._worker = None
        self.export_button.setEnabled(True)
        self.cancel_button.setText("Close")

    def _cancel_or_close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        else:
            self.accept()

    def _show(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #d62728; font-weight: bold;" if error else "")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self._worker is not None:
            self._worker.cancel()
            self._stop_thread()
        super().closeEvent(event)
