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

from gdviz.core.i18n import tr

_cache: dict[str, tuple[bool, str, str]] = {}


def gl_probe() -> tuple[bool, str, str]:
    """(ok, i18n key of the reason, platform name), probed once per process.

    ``ok`` is True when a QOpenGLContext could be created and made current on an
    offscreen surface of this Qt platform and PyOpenGL is installed. Needs a
    QGuiApplication (none yet: not ok, not cached).
    """
    if "probe" in _cache:
        return _cache["probe"]
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
    """True once :func:`gl_probe` has run (its answer is at hand, at no cost)."""
    return "probe" in _cache


def gl_available() -> bool:
    return gl_probe()[0]


def gl_reason(lang: str | None = None) -> str:
    """The one line that says why there is no 3-D view ("" when there is one)."""
    ok, key, platform = gl_probe()
    if ok:
        return ""
    return tr(key, lang, platform=platform or "?")
