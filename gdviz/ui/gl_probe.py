"""Can this process draw the 3-D view? A real OpenGL context probe, made once.

The 3-D view (:mod:`gdviz.ui.views.surface3d_view`) needs PyOpenGL and an OpenGL context
on the Qt platform the app runs on. The offscreen platform without an X display, a
remote session without GLX, or a missing PyOpenGL make none: then the window's 3-D
toggle is disabled with the one-line reason this module gives, and the rest of the app
runs. Nothing here imports OpenGL or ``pyqtgraph.opengl`` (the app's startup stays
free of them while the 3-D view is hidden): the probe uses Qt's own QOpenGLContext.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading

from gdviz.core.i18n import tr

_cache: dict[str, tuple[bool, str, str] | None] = {}

#: the child's answer, one line on its stdout: "GDVIZ_GL ok PLATFORM" or "GDVIZ_GL KEY PLATFORM"
CHILD_TAG = "GDVIZ_GL"
#: the reasons a child may give (anything else is no answer: the window probes itself)
CHILD_KEYS = ("ok", "gl_no_pyopengl", "gl_no_context")
#: a child that has not answered by then is killed (a display or driver that hangs)
CHILD_TIMEOUT_S = 30.0


def gl_probe() -> tuple[bool, str, str]:
    """(ok, i18n key of the reason, platform name), probed once per process.

    ``ok`` is True when a QOpenGLContext could be created and made current on an
    offscreen surface of this Qt platform and PyOpenGL is installed. Needs a
    QGuiApplication (none yet: not ok, not cached).
    """
    if "probe" in _cache:
        return _cache["probe"]
    child = _cache.get("child")
    if child is not None:  # (answered by the probe's own process: see probe_in_background)
        _cache["probe"] = child
        return child
    from PySide6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext

    app = QGuiApplication.instance()
    if app is None:
        return False, "gl_no_app", ""
    platform = app.platformName()
    if importlib.util.find_spec("OpenGL") is None:
        out = (False, "gl_no_pyopengl", platform)
    else:
        ctx = QOpenGLContext()
        ok = ctx.create()
        if ok:
            surface = QOffscreenSurface()
            surface.setFormat(ctx.format())
            surface.create()
            ok = surface.isValid() and ctx.makeCurrent(surface)
            if ok:
                ctx.doneCurrent()
            surface.destroy()
        if ok:
            ok = _widget_renders()
        out = (True, "", platform) if ok else (False, "gl_no_context", platform)
    _cache["probe"] = out
    return out


def _widget_renders() -> bool:
    """A QOpenGLWidget (what pyqtgraph.opengl draws in) renders on this platform: some
    make a context but not the widget (the offscreen platform on an X display says
    "QOpenGLWidget is not supported on this platform" and its views crash later)."""
    from PySide6.QtCore import Qt, qInstallMessageHandler
    from PySide6.QtOpenGLWidgets import QOpenGLWidget
    from PySide6.QtWidgets import QApplication

    if not isinstance(QApplication.instance(), QApplication):
        return False
    said: list[str] = []
    previous = qInstallMessageHandler(lambda mode, ctx, msg: said.append(msg))
    try:
        w = QOpenGLWidget()
        w.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        w.resize(8, 8)
        w.show()
        img = w.grabFramebuffer()
        ok = w.isValid() and not img.isNull()
        w.close()
        w.deleteLater()
    finally:
        qInstallMessageHandler(previous)
    return ok and not any("not supported" in m or "Failed to create" in m for m in said)


def gl_probed() -> bool:
    """True once :func:`gl_probe` has run, or its child answered (its answer is at hand,
    at no cost)."""
    return "probe" in _cache or _cache.get("child") is not None


def probe_in_background(platform: str, command: list[str] | None = None):
    """Probe in a process of its own, on ``platform`` (the app's), at a low priority,
    waited for by a thread: :func:`gl_probe` then takes its answer and probes nothing in
    the window. (Probed in the window, the first 3-D menu or export dialog of a session
    blocked the UI thread: ~55 ms of CPU, and 110-220 ms in all while the GL libraries
    were read and the display server answered.) Returns the thread (None: probed or
    under way already, or no Python to run); no answer (a crash, a hang, a frozen app)
    leaves the probe to the window, as before."""
    if "probe" in _cache or "child" in _cache:
        return None
    if command is None:
        if getattr(sys, "frozen", False) or not sys.executable:
            return None
        command = [sys.executable, "-c", "from gdviz.ui.gl_probe import child_main; child_main()"]
    cache = _cache  # (this dict: a test that swaps the module's gets no late answer)
    cache["child"] = None  # (under way)
    env = dict(os.environ, QT_QPA_PLATFORM=platform)

    def run() -> None:
        from gdviz.kernels.helper import close_child

        try:
            # (its standard input stays open while this process lives: see child_main)
            proc = subprocess.Popen(command, env=env, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    text=True,
                                    creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
        except (OSError, ValueError):
            return
        killer = threading.Timer(CHILD_TIMEOUT_S, proc.kill)
        killer.daemon = True
        killer.start()
        try:
            for line in proc.stdout:
                parts = line.split()
                if len(parts) == 3 and parts[0] == CHILD_TAG and parts[1] in CHILD_KEYS:
                    ok = parts[1] == "ok"
                    cache["child"] = (ok, "" if ok else parts[1], parts[2])
        finally:
            killer.cancel()
            close_child(proc)

    thread = threading.Thread(target=run, name="gdviz-gl-probe", daemon=True)
    thread.start()
    return thread


def child_main() -> None:
    """The child of :func:`probe_in_background`: a QApplication on the platform it was
    given, :func:`gl_probe`, its answer on one line."""
    from gdviz.kernels import BACKGROUND_NICE
    from gdviz.kernels.helper import end_with_parent

    try:
        os.nice(BACKGROUND_NICE)  # (behind the window and its kernels)
    except (AttributeError, OSError):
        pass
    end_with_parent()  # (its input ends when the window's process ends)
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])  # noqa: F841 - the probe needs one
    ok, key, platform = gl_probe()
    print(f"{CHILD_TAG} {'ok' if ok else key} {platform or '?'}", flush=True)


def gl_available() -> bool:
    return gl_probe()[0]


def gl_reason(lang: str | None = None) -> str:
    """The one line that says why there is no 3-D view ("" when there is one)."""
    ok, key, platform = gl_probe()
    if ok:
        return ""
    return tr(key, lang, platform=platform or "?")
