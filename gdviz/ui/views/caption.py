"""The lesson's caption strip above the map: its title, and its paragraph folded to a few
lines so that the map keeps the room (a click on "more" unfolds it)."""

from __future__ import annotations

import math
from html import escape

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QFontMetrics, QTextLayout, QTextOption
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QScrollArea, QSizePolicy,
                               QToolButton, QVBoxLayout, QWidget)

from gdviz.core.i18n import tr

#: lines of the paragraph shown while folded, and the share of the window it may take unfolded
FOLDED_LINES = 2
UNFOLDED_SHARE = 0.45
#: folded, the whole strip takes at most this share of the picture's height: with big text
#: the paragraph shows fewer lines and a long title one elided line (the map keeps its room)
FOLDED_SHARE = 0.2
#: the caption's text, relative to the app's font (the lesson is what the class reads first)
FONT_FACTOR = 1.15
#: background and text of the strip per theme (a warm note on light, a slate one on dark)
COLORS = {"light": ("#fff4d6", "#000000"), "dark": ("#26323f", "#f2f2f2")}


def _app_font_key() -> tuple:
    from PySide6.QtWidgets import QApplication

    f = QApplication.font()
    return (f.family(), f.pointSizeF())


class CaptionStrip(QFrame):
    """Title (bold) and paragraph of the open lesson. Folded, the paragraph shows
    ``FOLDED_LINES`` lines and scrolls; :meth:`set_expanded` unfolds it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("captionStrip")
        self._title = ""
        self._text = ""
        self.expanded = False
        #: False in an export: the paragraph shows whole, with no "more" button to click
        self.foldable = True
        self.title_label = QLabel()
        self.title_label.setObjectName("captionTitle")
        self.title_label.setWordWrap(True)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.body = QLabel()
        self.body.setObjectName("captionBody")
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.PlainText)
        self.body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.body)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.viewport().setAutoFillBackground(False)
        self.body.setAutoFillBackground(False)
        self.more = QToolButton()
        self.more.setObjectName("captionMore")
        self.more.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays with playback
        self.more.setAutoRaise(True)
        self.more.clicked.connect(lambda: self.set_expanded(not self.expanded))

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.title_label, 1)
        top.addWidget(self.more, 0, Qt.AlignmentFlag.AlignTop)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 4, 10, 4)
        lay.setSpacing(2)
        lay.addLayout(top)
        lay.addWidget(self.scroll)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.restyle()
        self._update_size()

    def base_font(self):
        """The caption's font at this app font and scale (before an export shrinks it): the
        text size up to the plots' cap (``theme.PLOT_SCALE_CAP``): at 200 % one Chinese
        title line and one line of the paragraph took a third of a 720p picture."""
        from PySide6.QtWidgets import QApplication

        from gdviz.ui import theme

        f = QApplication.font()
        pt = min(f.pointSizeF(), theme.BASE_PT * theme.PLOT_SCALE_CAP)
        f.setPointSizeF(pt * FONT_FACTOR)
        return f

    def restyle(self) -> None:
        """The strip's colours for the current theme and its font for the app's font: the
        window and an export style it the same, here."""
        from gdviz.ui import theme

        key = (theme.current(), _app_font_key())
        if getattr(self, "_style_key", None) == key:
            return  # our own style sheet sends a PaletteChange too: nothing new
        self._style_key = key
        bg, fg = COLORS.get(theme.current(), COLORS["light"])
        self.setStyleSheet(
            f"#captionStrip {{ background: {bg}; border-radius: 6px; }}"
            f" #captionStrip QLabel, #captionStrip QToolButton {{ color: {fg}; background: transparent; }}"
            f" #captionStrip QScrollArea, #captionStrip QScrollArea > QWidget > QWidget"
            f" {{ background: transparent; }}")
        self.setFont(self.base_font())

    # ------------------------------------------------------------------ public
    def set_caption(self, title: str = "", text: str = "") -> None:
        """Show ``title`` and ``text`` (both empty: hide the strip), folded."""
        self._title, self._text = str(title), str(text)
        self.title_label.setText(self._title)
        self.title_label.setVisible(bool(self._title))
        self.body.setText(self._text)
        self.scroll.setVisible(bool(self._text))
        self.expanded = False
        self.setVisible(bool(self._title or self._text))
        self._update_size()

    def text(self) -> str:
        """The title and the paragraph (as HTML-escaped plain text, for tests and export)."""
        return " — ".join(escape(t) for t in (self._title, self._text) if t)

    def set_expanded(self, flag: bool) -> None:
        self.expanded = bool(flag)
        self._update_size()

    # ------------------------------------------------------------------ layout
    def _update_size(self) -> None:
        width = max(self.scroll.viewport().width(), 200)
        tops = line_tops(self._text, self.body.font(), width) if self._text else [0.0]
        needed = int(tops[-1] + 0.999) + 2 if self._text else 0
        parent = self.parentWidget()
        room = parent.height() if parent is not None and parent.height() > 0 else 720
        limit = int(room * UNFOLDED_SHARE)
        budget = int(room * FOLDED_SHARE)
        title_h = self._fit_title(budget)
        # folded: whole lines only (a CJK line is taller than the Latin font's line
        # spacing: the lines are measured as laid out, fallback fonts and all)
        lines = FOLDED_LINES
        while lines > 1 and tops[min(lines, len(tops) - 1)] + title_h + 12 > budget:
            lines -= 1
        folded = int(tops[min(lines, len(tops) - 1)] + 0.999) + 2
        fits = needed <= folded
        if not self.foldable:
            self.expanded = True
        if fits or not self.expanded:
            height = min(needed, folded)
        else:
            cap = max(limit - title_h, folded)
            whole = [t for t in tops if t <= cap]  # unfolded, the bottom line is whole too
            height = min(needed, int(whole[-1] + 0.999) + 2 if whole else folded)
        self.scroll.setFixedHeight(max(height, 0) if self._text else 0)
        self.scroll.setVerticalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff if not self.foldable
            else Qt.ScrollBarPolicy.ScrollBarAsNeeded if self.expanded or fits
            else Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.more.setVisible(not fits and self.foldable)
        self.retranslate()

    def _fit_title(self, budget: int) -> int:
        """The title's height: whole, or (folded, and taller than half of ``budget``) one
        line elided, with the whole title in its tooltip. Returns the height."""
        lab = self.title_label
        if not self._title:
            return 0
        # the strip's width less its margins and the fold button beside the title (the
        # label's own width lags behind while the button comes and goes)
        m = self.layout().contentsMargins()
        room = max(self.width() - m.left() - m.right() - self.more.sizeHint().width() - 8, 120)
        lab.setWordWrap(True)
        lab.setText(self._title)
        full = lab.heightForWidth(room)
        # one line as laid out: a Chinese title's fallback font is taller than the Latin
        one = max(QFontMetrics(lab.font()).height(),
                  math.ceil(line_tops(self._title, lab.font(), 1e6)[1]))
        if self.expanded or not self.foldable or full <= max(budget // 2, one):
            lab.setToolTip("")
            lab.setFixedHeight(max(full, one))
            return max(full, one)
        short = QFontMetrics(lab.font()).elidedText(self._title, Qt.TextElideMode.ElideRight,
                                                    room - 4)
        lab.setWordWrap(False)  # one line, elided on purpose
        lab.setText(short)
        lab.setToolTip(self._title)
        lab.setFixedHeight(one)
        return one

    def retranslate(self) -> None:
        """The fold button ("more ▼" / "less ▲") in the UI language; the caption's own text
        comes from the window, in the scene's language."""
        self.more.setText(tr("caption_less") if self.expanded else tr("caption_more"))
        self.more.setToolTip(tr("tip_caption_fold") if self.expanded else tr("tip_caption_unfold"))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._update_size()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().changeEvent(event)
        if event.type() in (QEvent.Type.ApplicationFontChange, QEvent.Type.PaletteChange):
            self.restyle()  # a new theme or text size; the FontChange it causes lays out
        elif event.type() == QEvent.Type.FontChange:
            self.body.setFont(self.font())
            f = self.font()
            f.setBold(True)
            self.title_label.setFont(f)
            self._update_size()
        elif event.type() == QEvent.Type.LanguageChange:
            self.retranslate()


def line_tops(text: str, font, width: float) -> list[float]:
    """Where each line of ``text`` wrapped at ``width`` in ``font`` starts, and (last) where
    the text ends, in pixels: laid out as a label lays it out, so that the fallback fonts of
    Chinese text (taller lines than the Latin font's) are measured too."""
    layout = QTextLayout(text, font)
    opt = QTextOption()
    opt.setWrapMode(QTextOption.WrapMode.WordWrap)  # as QLabel wraps
    layout.setTextOption(opt)
    tops: list[float] = []
    y = 0.0
    layout.beginLayout()
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        line.setPosition(QPointF(0.0, y))
        tops.append(y)
        y += line.height()
    layout.endLayout()
    return tops + [y]
