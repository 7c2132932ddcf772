"""Tests do not leak windows into the tests after them: a window closed by pytest-qt is
deleted before the next test (alive and hidden, its timers ran in the next test: its status
note cleared itself during test_frame_layout's counted frames, one LayoutRequest on its
status bar, when that test ran after tests/ui/test_big_text_layout.py)."""

from __future__ import annotations

import weakref

_LEFT: list = []


def test_a_window_that_shows_a_note(window):
    window.set_font_scale(1.5)  # "Text size 150 %": a note that clears itself later
    window.set_font_scale(1.0)
    assert window._message_timer.isActive()
    _LEFT.append(weakref.ref(window))


def test_the_last_tests_window_is_gone(window, qapp):
    from gdviz.ui.main_window import MainWindow

    import shiboken6

    assert _LEFT, "runs after test_a_window_that_shows_a_note"
    left = _LEFT[0]()  # (its Python wrapper may outlive it: its own slots refer to it)
    assert left is None or not shiboken6.isValid(left)
    others = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow) and w is not window]
    assert others == []
