"""200 % text on a 1280×720 projector: the side column stays narrow (the map keeps its
half of the window), so the controls reflow instead of scrolling sideways."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QApplication,
                               QComboBox, QLineEdit, QScrollBar)

from gdviz.core.i18n import LANGUAGES

#: every kind of lesson: a surface race, fitting by hand, units (L9), weight decay's ‖w‖₂
#: axis (L13), the lr finder, a network, a classifier
LESSONS = ("default_rosenbrock_race", "L01", "L09", "L13", "L18", "L19", "L21")


def _settle(qtbot, win) -> None:
    QApplication.processEvents()  # (a lesson's run cards come in a later turn)
    qtbot.waitUntil(win.layout_settled)
    QApplication.processEvents()


def _open(window, stem: str) -> None:
    from gdviz.core.scene import preset_paths

    assert window.open_scene(next(p for p in preset_paths() if p.stem.startswith(stem)))
    window.session.pause()


def _cut_controls(window) -> list[str]:
    """Visible controls of the Controls dock not whole inside its viewport's width, or
    squeezed below their minimum width."""
    panel = window.controls
    inner, port = panel.widget(), panel.viewport()
    kinds = (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit)
    bad = []
    for kind in kinds:
        for w in inner.findChildren(kind):
            if isinstance(w, QScrollBar) or not w.isVisibleTo(inner):
                continue
            if isinstance(w.parentWidget(), kinds):  # (a line edit's own clear button)
                continue
            r = QRect(w.mapTo(port, QPoint(0, 0)), w.size())
            least = w.minimumWidth() or w.minimumSizeHint().width()
            if r.left() < 0 or r.right() >= port.width() or r.width() < least:
                bad.append(f"{type(w).__name__} {w.objectName()!r}: x {r.left()}..{r.right()} "
                           f"of {port.width()}, width {r.width()} < {least}?")
    return bad


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_controls_fit_their_column_at_200_percent(window, qtbot, lang):
    """Every control shows whole, with no horizontal scroll bar (the Controls dock
    scrolled sideways, the Play button cut off), in every kind of lesson."""
    window.set_language(lang)
    window.set_font_scale(2.0)
    _settle(qtbot, window)
    for stem in LESSONS:
        _open(window, stem)
        _settle(qtbot, window)
        assert window.size().toTuple() == (1280, 720)
        panel = window.controls
        assert panel.horizontalScrollBar().maximum() == 0, (stem, panel.needed_width())
        cut = _cut_controls(window)
        assert cut == [], (stem, cut)
    # back at 100 %: the rows side by side again, nothing narrowed, the window as it was
    window.set_font_scale(1.0)
    _settle(qtbot, window)
    assert window.size().toTuple() == (1280, 720)
    assert not window.controls.narrowed
    assert window.controls.horizontalScrollBar().maximum() == 0



def test_back_to_100_percent_the_window_keeps_its_size(window, qtbot):
    """From L9 at 200 % back to 100 %: the picture's minimum width at the old text (837 px)
    beside the controls' new one (468 px) grew the window to 1311 px."""
    window.set_font_scale(2.0)
    _settle(qtbot, window)
    for stem in ("L21", "L09"):
        _open(window, stem)
        _settle(qtbot, window)
    window.set_font_scale(1.0)
    _settle(qtbot, window)
    assert window.size().toTuple() == (1280, 720)
