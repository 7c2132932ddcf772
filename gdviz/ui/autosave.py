"""Nothing lost: the current demo is autosaved every few seconds, and offered back after a crash.

The autosave is a scene file in the user's data folder (``<data>/autosave/current.toml``,
``<data>`` being ``QStandardPaths.AppDataLocation`` or ``$GDVIZ_DATA_DIR``), never the
user's own file. It is written only when the problem, the runs or the settings changed
since the last one (never for steps or playback), atomically (temp file + rename, by
:func:`gdviz.core.scene.save_scene`). The UI thread only copies the session's fields (a few
µs); the scene is built, compared, serialised and written on a worker thread, so a scene
of 100,000 CSV points (~1 s to serialise) never blocks a frame. A clean quit removes it.

At the next start, a ``current.toml`` still there means the last run did not quit
cleanly (a crash, a kill -9): it is moved aside to ``recovered.toml`` (so this run's own
autosaves cannot overwrite it) and the window offers it back in a :class:`RecoveryBar`
(Restore / Discard), which never blocks. A lock file (``current.lock``, QLockFile: a dead
owner's lock is taken over) keeps a second running instance from taking the first one's
autosave for a crash's; that second instance does not autosave.

``GDVIZ_AUTOSAVE_MS`` sets the interval (tests use a short one).
"""

from __future__ import annotations

import concurrent.futures
import os
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QToolBar, QWidget

from gdviz.core.i18n import tr
from gdviz.ui.widgets import ElidedLabel

DATA_DIR_ENV = "GDVIZ_DATA_DIR"
INTERVAL_ENV = "GDVIZ_AUTOSAVE_MS"
INTERVAL_MS = 5000
CURRENT = "current.toml"
RECOVERED = "recovered.toml"
LOCK = "current.lock"


def data_dir() -> Path | None:
    """The user's data folder: ``$GDVIZ_DATA_DIR`` if set, else Qt's AppDataLocation
    (``~/.local/share/gdviz/gdviz`` on Linux); None when the platform has none."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(loc) if loc else None


def autosave_dir() -> Path | None:
    """``<data>/autosave``, where :class:`Autosave` writes (None without a data folder)."""
    base = data_dir()
    return None if base is None else base / "autosave"


def interval_ms() -> int:
    """The autosave interval: ``$GDVIZ_AUTOSAVE_MS`` if it is a positive integer, else 5 s."""
    try:
        ms = int(os.environ.get(INTERVAL_ENV, INTERVAL_MS))
    except ValueError:
        return INTERVAL_MS
    return ms if ms > 0 else INTERVAL_MS


def reading_copy(session):
    """A copy of ``session`` that :func:`~gdviz.core.scene.scene_from_session` can read on
    another thread while the UI thread goes on changing the session.

    Shallow: the model's list and dict fields are copied (the session edits those in
    place), everything else is shared (problems, specs and configs are immutable, and are
    replaced, never edited). No method that changes state may be called on the copy.
    """
    copy = object.__new__(type(session))
    fields = set(getattr(session, "FIELDS", ()))
    copy.__dict__.update({
        k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
        if k in fields else v
        for k, v in vars(session).items()})
    return copy


class Autosave(QObject):
    """Writes ``session`` as a scene to ``folder/current.toml`` every ``interval`` ms while
    something changed (see the module docstring).

    ``base``: a callable giving the scene whose meta (title, caption, export) the autosave
    keeps, usually the scene last opened. ``written(path)`` and ``failed(message)`` are
    emitted from the worker thread (Qt queues them to the receiver's thread).
    """

    written = Signal(str)
    failed = Signal(str)

    def __init__(self, session, base=None, *, folder: Path | None = None,
                 interval: int | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self._base = base if base is not None else (lambda: None)
        self.folder = Path(folder) if folder is not None else autosave_dir()
        self.path = self.folder / CURRENT if self.folder is not None else None
        self.recovery_path = self.folder / RECOVERED if self.folder is not None else None
        self.error = ""  # why this instance does not autosave ("" when it does)
        self._dirty = False
        self._last = None  # the scene last written (read and written by the worker only)
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._pending: concurrent.futures.Future | None = None
        self._lock: QLockFile | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval if interval is not None else interval_ms())
        self.timer.timeout.connect(self.tick)
        self.active = self._take_lock()
        if self.active:
            s = session
            s.problem_changed.connect(self.mark_dirty)
            s.runs_changed.connect(self.mark_dirty)
            s.settings_changed.connect(self.mark_dirty)
            self.timer.start()

    def _take_lock(self) -> bool:
        if self.folder is None:
            self.error = "no data folder"
            return False
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.error = f"cannot create {self.folder}: {exc.strerror or exc}"
            return False
        lock = QLockFile(str(self.folder / LOCK))
        lock.setStaleLockTime(0)  # held for the app's lifetime: only a dead owner's is stale
        if not lock.tryLock(0):
            self.error = "another gdviz is running"
            return False
        self._lock = lock
        for stale in self.folder.glob(f".{CURRENT}.*.tmp"):  # a write cut short by a kill
            try:
                stale.unlink()
            except OSError:
                pass
        return True

    @property
    def dirty(self) -> bool:
        """Something changed since the last autosave was started."""
        return self._dirty

    def mark_dirty(self, *_) -> None:
        self._dirty = True

    def take_recovery(self) -> Path | None:
        """The demo a run that did not quit cleanly left behind, or None.

        Its ``current.toml`` is moved to ``recovered.toml`` first, so that this run's own
        autosaves do not overwrite it; a ``recovered.toml`` neither restored nor discarded
        last time is offered again (a newer crash's autosave replaces it)."""
        if not self.active:
            return None
        try:
            if self.path.is_file():
                os.replace(self.path, self.recovery_path)
        except OSError:
            return None
        return self.recovery_path if self.recovery_path.is_file() else None

    def adopt_recovery(self) -> None:
        """The recovered demo was restored: it is this run's autosave now (moved back to
        ``current.toml``, so a crash before the next autosave still leaves it behind)."""
        if not self.active:
            return
        try:
            os.replace(self.recovery_path, self.path)
        except OSError:
            pass
        self._dirty = True

    def discard_recovery(self) -> None:
        """Delete ``recovered.toml`` (the user chose Discard, or restored it)."""
        if self.recovery_path is not None:
            try:
                self.recovery_path.unlink()
            except OSError:
                pass

    def tick(self) -> None:
        """Start an autosave if something changed (the timer calls this)."""
        if not (self.active and self._dirty):
            return
        if self._pending is not None and not self._pending.done():
            return  # the last one is still being written: stay dirty, try next tick
        self._dirty = False
        copy, base = reading_copy(self.session), self._base()
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(1, "gdviz-autosave")
        self._pending = self._pool.submit(self._write, copy, base)

    def _write(self, copy, base) -> None:
        """On the worker thread: build the scene and write it if it differs from the last."""
        from gdviz.core.scene import save_scene, scene_from_session

        try:
            scene = scene_from_session(copy, base=base)
            if scene == self._last:
                return
            save_scene(scene, self.path)
        except Exception as exc:  # noqa: BLE001 - a worker must report, never die silently
            self.failed.emit((str(exc).splitlines() or [type(exc).__name__])[0][:200])
            return
        self._last = scene
        self.written.emit(str(self.path))

    def flush(self) -> None:
        """Autosave now if something changed, and wait until the write is done."""
        self.tick()
        if self._pending is not None:
            self._pending.result()

    def close(self, remove: bool = True) -> None:
        """Stop autosaving: wait for a write under way, then (a clean quit) remove the
        autosave and release the lock."""
        self.timer.stop()
        if self.active:
            s = self.session
            for sig in (s.problem_changed, s.runs_changed, s.settings_changed):
                sig.disconnect(self.mark_dirty)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._pending = None
        if self.active and remove:
            try:
                self.path.unlink()
            except OSError:
                pass
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None
        self.active = False


class RecoveryBar(QToolBar):
    """The inline offer above the map after a crash: "Restore" or "Discard" the autosave.

    Not a dialog: nothing waits on it, and the window works while it is shown. ``when``
    is the autosave's time, ``title`` its scene's title (a :class:`~gdviz.core.scene.Text`,
    or None). The window connects ``restore_button`` and ``discard_button``.
    """

    def __init__(self, when: str, title=None, lang: str | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("recoveryBar")
        self.setMovable(False)
        self.setFloatable(False)
        self.toggleViewAction().setVisible(False)  # not in the docks' context menu
        self.when, self.title = when, title
        box = QWidget()
        lay = QHBoxLayout(box)
        lay.setContentsMargins(8, 2, 8, 2)
        self.label = ElidedLabel()  # one line: at 200 % a wrapped offer took the map's room
        self.label.setObjectName("recoveryText")
        self.restore_button = QPushButton()
        self.restore_button.setObjectName("recoveryRestore")
        self.discard_button = QPushButton()
        self.discard_button.setObjectName("recoveryDiscard")
        lay.addWidget(self.label, 1)
        lay.addWidget(self.restore_button)
        lay.addWidget(self.discard_button)
        self.addWidget(box)
        self.retranslate(lang)

    def retranslate(self, lang: str | None = None) -> None:
        text = tr("recover_offer", lang, time=self.when)
        title = self.title.get(lang) if self.title is not None else ""
        if title:
            text = f"{text} ({title})"
        self.label.setText(text)
        self.restore_button.setText(tr("recover_restore", lang))
        self.discard_button.setText(tr("recover_discard", lang))
