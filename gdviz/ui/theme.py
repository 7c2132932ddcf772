"""Dark and light themes, pyqtgraph configuration and font scaling.

The light theme is high contrast on purpose: projectors wash out dark themes and thin
pale lines. Views do not talk to each other about themes: :func:`apply` changes the
application palette and :func:`set_font_scale` the application font, Qt tells every
widget (``PaletteChange`` / ``FontChange`` events) and each view re-styles itself from
:func:`current` and :func:`font_scale`.
"""

from __future__ import annotations


import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle

from gdviz.core.session import OKABE_ITO

THEMES = ("dark", "light")

#: point sizes at font scale 1 (a projector in a classroom: nothing below 14 pt)
BASE_PT = 14.0
LABEL_PT = 16.0
TABLE_PT = 18.0

_PALETTES: dict[str, dict] = {
    "dark": {
        "name": "dark",
        "background": "#15171c",
        "panel": "#1f232b",
        "foreground": "#eceff4",
        "muted": "#a9b1bd",
        "grid": "#5a6270",
        "accent": "#56B4E9",
        # heatmap: a dark, low-saturation slate ramp, so that the light contour lines and
        # the saturated run colours stand out everywhere on it
        "colormap": "gdviz-dark",
        "colormap_stops": ["#0c0e12", "#1c222c", "#2d3746", "#46536a", "#66738a"],
        "contour": "#e6e9ef",
        "contour_alpha": 150,
        "halo": "#000000",
        "minima": "#ffffff",
        "start": "#ffffff",
        "diverged": "#ff4d4d",
        "arrow_gradient": "#ff6b6b",
        "arrow_momentum": "#b48cff",
        "arrow_update": "#ffffff",
        # the current mini-batch's own contours: a hue no run uses
        "batch_surface": "#c9a8ff",
        "runs": list(OKABE_ITO),
    },
    "light": {
        "name": "light",
        "background": "#ffffff",
        "panel": "#f2f2f2",
        "foreground": "#000000",
        "muted": "#333333",
        "grid": "#9a9a9a",
        "accent": "#0072B2",
        # heatmap: white valleys to a pale blue-grey; dark contours read over all of it
        "colormap": "gdviz-light",
        "colormap_stops": ["#ffffff", "#eef1f5", "#dce3ec", "#c6d0dd", "#aebccd"],
        "contour": "#1a1a1a",
        "contour_alpha": 170,
        "halo": "#000000",
        "minima": "#000000",
        "start": "#000000",
        "diverged": "#c00000",
        "arrow_gradient": "#c00000",
        "arrow_momentum": "#6a1b9a",
        "arrow_update": "#000000",
        "batch_surface": "#7b1fa2",
        "runs": list(OKABE_ITO),
    },
}

#: plots (tick labels, axis titles, legends, markers, lines) follow the text size up to this
#: factor: beyond it their labels eat the plot they label (at 200 % a 720p map had no room)
PLOT_SCALE_CAP = 1.5
#: projector mode: plots this much bigger than the text size says, up to PROJECTOR_CAP (the
#: docks are hidden, so the map has the room)
PROJECTOR_BOOST = 1.4
PROJECTOR_CAP = 2.0

#: "scale" is the plots' factor (:func:`font_scale`), derived from the text size ("text")
#: and projector mode; the window owns both and sets them here
_state = {"theme": "dark", "scale": 1.0, "text": 1.0, "projector": False, "configured": False}


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options; call once before creating any view (idempotent)."""
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    pal = palette(_state["theme"])
    pg.setConfigOption("background", pal["background"])
    pg.setConfigOption("foreground", pal["foreground"])
    _state["configured"] = True


def palette(name: str) -> dict:
    """Colours of theme ``name`` ("dark" | "light"): background, foreground, grid, panel,
    muted, accent, colormap (name) + colormap_stops, contour (+ contour_alpha), halo,
    minima, start, diverged, arrow_* and runs (hex list). A copy: change it freely."""
    if name not in _PALETTES:
        raise ValueError(f"unknown theme '{name}' (choose from {', '.join(THEMES)})")
    pal = dict(_PALETTES[name])
    pal["runs"] = list(pal["runs"])
    pal["colormap_stops"] = list(pal["colormap_stops"])
    return pal


def current() -> str:
    """The name of the theme last applied ("dark" until :func:`apply` is called)."""
    return _state["theme"]


def colormap(name: str | None = None) -> pg.ColorMap:
    """The heatmap colormap of theme ``name`` (default: current)."""
    pal = palette(name or current())
    stops = pal["colormap_stops"]
    pos = [i / (len(stops) - 1) for i in range(len(stops))]
    return pg.ColorMap(pos, [QColor(c) for c in stops], name=pal["colormap"])


def qcolor(hex_color: str, alpha: int | None = None) -> QColor:
    c = QColor(hex_color)
    if alpha is not None:
        c.setAlpha(int(alpha))
    return c


def apply(app: QApplication, name: str) -> None:
    """Switch ``app`` to theme ``name``: Fusion style, QPalette, pyqtgraph colours.

    Existing views re-style on the resulting ``PaletteChange`` event.
    """
    pal = palette(name)
    _state["theme"] = name
    pg.setConfigOption("background", pal["background"])
    pg.setConfigOption("foreground", pal["foreground"])
    style = app.style()
    if style is None or style.name().lower() != "fusion":
        # once: setting a style again re-polishes and lays out every widget of the app
        app.setStyle("Fusion")
    qp = QPalette()
    bg, panel, fg = QColor(pal["background"]), QColor(pal["panel"]), QColor(pal["foreground"])
    muted, accent = QColor(pal["muted"]), QColor(pal["accent"])
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        qp.setColor(group, QPalette.ColorRole.Window, panel)
        qp.setColor(group, QPalette.ColorRole.WindowText, fg)
        qp.setColor(group, QPalette.ColorRole.Base, bg)
        qp.setColor(group, QPalette.ColorRole.AlternateBase, panel)
        qp.setColor(group, QPalette.ColorRole.Text, fg)
        qp.setColor(group, QPalette.ColorRole.Button, panel)
        qp.setColor(group, QPalette.ColorRole.ButtonText, fg)
        qp.setColor(group, QPalette.ColorRole.ToolTipBase, panel)
        qp.setColor(group, QPalette.ColorRole.ToolTipText, fg)
        qp.setColor(group, QPalette.ColorRole.PlaceholderText, muted)
        qp.setColor(group, QPalette.ColorRole.Highlight, accent)
        qp.setColor(group, QPalette.ColorRole.HighlightedText,
                    QColor("#000000" if name == "dark" else "#ffffff"))
        qp.setColor(group, QPalette.ColorRole.Link, accent)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        qp.setColor(QPalette.ColorGroup.Disabled, role, muted)
    app.setPalette(qp)


class ProjectorStyle(QProxyStyle):
    """Fusion, with check boxes and radio buttons a projector shows: a thick outline and
    a filled mark in the theme's own colours, as big as the text (Fusion draws a thin
    outline a shade off the window colour, which a dark theme on a projector loses).

    A style rather than a style sheet: a sheet set on a widget keeps that widget's
    palette from the theme it was set in, and an application sheet re-polishes every
    widget on each theme change. The style reads the theme when it paints. It is set on
    the check boxes and radio buttons only (:func:`projector`): as the application's
    style its Python overrides would run for every metric of every widget, every frame.
    """

    def pixelMetric(self, metric, option=None, widget=None):  # noqa: N802 - Qt API
        if metric in (QStyle.PixelMetric.PM_IndicatorWidth, QStyle.PixelMetric.PM_IndicatorHeight,
                      QStyle.PixelMetric.PM_ExclusiveIndicatorWidth,
                      QStyle.PixelMetric.PM_ExclusiveIndicatorHeight):
            return max(14, round(pt(BASE_PT) * 1.35))
        return super().pixelMetric(metric, option, widget)

    def drawPrimitive(self, element, option, painter, widget=None):  # noqa: N802 - Qt API
        radio = element == QStyle.PrimitiveElement.PE_IndicatorRadioButton
        if element != QStyle.PrimitiveElement.PE_IndicatorCheckBox and not radio:
            super().drawPrimitive(element, option, painter, widget)
            return
        pal = palette(_state["theme"])
        enabled = bool(option.state & QStyle.StateFlag.State_Enabled)
        on = bool(option.state & QStyle.StateFlag.State_On)
        rect = QRectF(option.rect).adjusted(1.5, 1.5, -1.5, -1.5)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        outline = QColor(pal["foreground"] if on else pal["muted"]) if enabled else QColor(pal["grid"])
        painter.setPen(QPen(outline, 2.0))
        painter.setBrush(QColor(pal["background"]))
        if radio:
            painter.drawEllipse(rect)
        else:
            painter.drawRoundedRect(rect, 3, 3)
        if on:
            inner = rect.adjusted(4, 4, -4, -4)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(pal["foreground"]) if enabled else QColor(pal["grid"]))
            if radio:
                painter.drawEllipse(inner)
            else:
                painter.drawRoundedRect(inner, 2, 2)
        painter.restore()


_projector_style: list = []


def projector(widget):
    """Give a check box or radio button the projector-visible indicator (returns it)."""
    if not _projector_style:
        _projector_style.append(ProjectorStyle("Fusion"))
    widget.setStyle(_projector_style[0])
    return widget


def style_legend(legend, alpha: int = 215) -> None:
    """A pyqtgraph legend in the current theme: translucent background, grid-coloured frame,
    text in the foreground colour (written anew: pyqtgraph re-colours a label only then)."""
    pal = palette(current())
    legend.setBrush(pg.mkBrush(qcolor(pal["background"], alpha)))
    legend.setPen(pg.mkPen(pal["grid"], width=1))
    legend.setLabelTextColor(pal["foreground"])
    for _, label in legend.items:
        label.setText(label.text)
    legend.updateSize()


def font_scale() -> float:
    """The factor the views scale their plot text, markers and lines by: the text size of
    :func:`set_font_scale` up to ``PLOT_SCALE_CAP``; in projector mode that times
    ``PROJECTOR_BOOST``, up to ``PROJECTOR_CAP``."""
    return _state["scale"]


def text_scale() -> float:
    """The factor last given to :func:`set_font_scale` (1.0 by default): the app font's."""
    return _state["text"]


def projector_mode() -> bool:
    return bool(_state["projector"])


def _update_plot_scale() -> None:
    text = _state["text"]
    if _state["projector"]:
        _state["scale"] = min(max(text, 1.0) * PROJECTOR_BOOST, PROJECTOR_CAP)
    else:
        _state["scale"] = min(text, PLOT_SCALE_CAP)


def set_projector_mode(flag: bool) -> None:
    """Projector mode's bigger plots (:func:`font_scale`). The caller tells the views, with
    an ``ApplicationFontChange`` event as after :func:`set_font_scale`."""
    _state["projector"] = bool(flag)
    _update_plot_scale()


def pt(size: float) -> float:
    """Point size ``size`` (meant at scale 1) at the plots' scale (:func:`font_scale`)."""
    return size * _state["scale"]


def set_font_scale(app: QApplication, factor: float) -> None:
    """Scale the whole UI's text by ``factor`` (0.5 … 4): the app font becomes
    ``BASE_PT * factor`` points (a projector-sized base, whatever the platform's default).

    Views get a ``FontChange`` event and rescale their plot fonts too.
    """
    factor = float(factor)
    if not 0.5 <= factor <= 4.0:
        raise ValueError(f"Invalid font scale: {factor} (must be 0.5 to 4)")
    _state["text"] = factor
    _update_plot_scale()
    font = QFont(app.font())
    font.setPointSizeF(BASE_PT * factor)
    app.setFont(font)


def font(size_pt: float, *, mono: bool = False, bold: bool = False) -> QFont:
    """A font of ``size_pt`` points at scale 1, scaled by the plots' scale (:func:`pt`)."""
    f = QFont()
    if mono:
        f.setFamilies(["DejaVu Sans Mono", "Menlo", "Consolas", "Liberation Mono", "monospace"])
        f.setStyleHint(QFont.StyleHint.Monospace)
    f.setPointSizeF(pt(size_pt))
    f.setBold(bold)
    return f
