"""View ▸ Map: the contour map, the 3-D view, or both side by side; log height; camera.

The menu writes the model (``session.set_view3d``) and follows it, so a scene, the menu
and the picture never disagree. Where no OpenGL context can be made (see
:mod:`gdviz.ui.gl_probe`) the 3-D choices are disabled and a line in the menu says why.
The probe (Qt's own context, no OpenGL import; ~170 ms on Mesa) is made when the menu
first opens or the 3-D view is first asked for, never at startup.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu

from gdviz.core.i18n import tr
from gdviz.core.view3d import MAP_MODES
from gdviz.ui.views.items import connect_all, disconnect_all


def window_panels(session, panels) -> tuple[str, ...]:
    """``panels`` (names, layout order) as the window shows them: with the 3-D view when
    ``session.map_mode`` shows it and OpenGL works, without the contour map in "3d"."""
    from gdviz.core.panels import PANELS
    from gdviz.ui.gl_probe import gl_available

    names = set(panels)
    if session.map_mode != "2d" and gl_available():
        names.add("surface3d")
        if session.map_mode == "3d":
            names.discard("landscape")
    return tuple(p for p in PANELS if p in names)


class MapMenu(QMenu):
    """View ▸ Map (2-D / 3-D / both, log height, reset camera) for ``session``."""

    def __init__(self, session, parent=None):
        super().__init__(tr("map_menu"), parent)
        self.setObjectName("mapMenu")
        self.session = session
        #: None until probed (the menu's first opening)
        self.gl_ok: bool | None = None
        group = QActionGroup(self)
        self.mode_actions: dict[str, QAction] = {}
        for mode in MAP_MODES:
            act = QAction(tr(f"map_mode_{mode}"), self, checkable=True)
            act.triggered.connect(lambda _=False, m=mode: self.session.set_view3d(map_mode=m))
            group.addAction(act)
            self.addAction(act)
            self.mode_actions[mode] = act
        #: the one line that says why there is no 3-D view (hidden where there is one)
        self.reason_action = QAction("", self)
        self.reason_action.setEnabled(False)
        self.reason_action.setVisible(False)
        self.addAction(self.reason_action)
        self.addSeparator()
        self.log_action = QAction(tr("log_height"), self, checkable=True)
        self.log_action.toggled.connect(lambda on: self.session.set_view3d(log_height=bool(on)))
        self.addAction(self.log_action)
        self.reset_action = QAction(tr("reset_camera"), self)
        self.reset_action.setShortcut(QKeySequence("Home"))
        self.reset_action.triggered.connect(lambda: self.session.set_view3d(camera=None))
        self.addAction(self.reset_action)
        s = session
        self._connections = connect_all([(s.events.map_mode, self._sync),
                                         (s.events.log_height, self._sync)])
        self.aboutToShow.connect(self.probe)
        self.retranslate()
        self._sync()

    def probe(self) -> bool:
        """Probe OpenGL (once) and enable the 3-D choices, or say why not."""
        if self.gl_ok is None:
            from gdviz.ui.gl_probe import gl_available

            self.gl_ok = gl_available()
            for mode, act in self.mode_actions.items():
                act.setEnabled(self.gl_ok or mode == "2d")
            self.reason_action.setVisible(not self.gl_ok)
            self.retranslate()
            self._sync()
        return self.gl_ok

    def _sync(self, *_) -> None:
        s = self.session
        for mode, act in self.mode_actions.items():
            with QSignalBlocker(act):
                act.setChecked(mode == s.map_mode)
        with QSignalBlocker(self.log_action):
            self.log_action.setChecked(bool(s.log_height))
        if s.map_mode != "2d" and self.gl_ok is None:
            self.probe()  # the 3-D view is asked for: the picture probes now anyway
            return
        three = bool(self.gl_ok) and s.map_mode != "2d"
        self.log_action.setEnabled(three)
        self.reset_action.setEnabled(three)

    def retranslate(self, lang: str | None = None) -> None:
        from gdviz.ui.gl_probe import gl_reason

        self.setTitle(tr("map_menu", lang))
        for mode, act in self.mode_actions.items():
            act.setText(tr(f"map_mode_{mode}", lang))
        reason = gl_reason(lang) if self.gl_ok is False else ""
        self.reason_action.setText(reason)
        for mode, act in self.mode_actions.items():
            act.setToolTip(reason if mode != "2d" else "")
            act.setStatusTip(reason if mode != "2d" else "")
        self.log_action.setText(tr("log_height", lang))
        self.reset_action.setText(tr("reset_camera", lang))

    def close(self) -> bool:
        disconnect_all(self._connections)
        self._connections = []
        return super().close()
