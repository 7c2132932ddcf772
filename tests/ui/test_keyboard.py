"""The keyboard (issue 9): playback keys answer whatever has the focus, except while a box
is being typed in; Enter and Esc leave a box; a lesson never leaves the focus in a box;
the shortcut sheet lists every key; the problem box, the caption and the status bar never
show a previous lesson's state."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QSpinBox

from gdviz.core.scene import preset_paths
from gdviz.ui.keyboard import box_kind


def lesson(lid: str):
    return next(p for p in preset_paths() if p.stem.startswith(lid + "_"))


def focus_on(qtbot, w) -> None:
    """Click into ``w`` as the teacher would (a click gives a box the focus)."""
    w.window().activateWindow()
    qtbot.mouseClick(w, Qt.MouseButton.LeftButton, pos=QPoint(w.width() // 2, w.height() // 2))
    qtbot.waitUntil(w.hasFocus)


def press(qtbot, k, mod=Qt.KeyboardModifier.NoModifier) -> None:
    """``k`` to whatever has the focus (the user's keyboard)."""
    qtbot.keyClick(QApplication.focusWidget(), k, mod)


def visible_entry(window, name: str) -> QLineEdit:
    return next(e for e in window.findChildren(QLineEdit, f"entry_{name}") if e.isVisible())


@pytest.fixture
def l08(window, qtbot):
    assert window.open_scene(lesson("L08"))
    window.session.pause()
    return window


# ------------------------------------------------------------------ number boxes
def test_space_plays_after_typing_in_the_k_box_and_enter_applies_and_leaves(l08, qtbot):
    s = l08.session
    k_box = visible_entry(l08, "units")
    assert box_kind(k_box) == "number"
    focus_on(qtbot, k_box)
    k_box.selectAll()
    qtbot.keyClicks(k_box, "20")
    press(qtbot, Qt.Key.Key_Space)
    assert s.playing  # Space is never part of a number: it plays
    press(qtbot, Qt.Key.Key_Space)
    assert not s.playing
    assert k_box.text() == "20" and k_box.hasFocus()  # the typing was not lost
    press(qtbot, Qt.Key.Key_Return)
    assert s.data.units == 20
    assert not k_box.hasFocus() and l08.picture.hasFocus()
    t = s.t
    press(qtbot, Qt.Key.Key_Right)
    assert s.t == t + 1


def test_arrows_step_until_the_user_types_then_edit_until_esc(l08, qtbot):
    s = l08.session
    lr = visible_entry(l08, "lr")
    focus_on(qtbot, lr)
    press(qtbot, Qt.Key.Key_Right)  # nothing typed yet: → steps
    press(qtbot, Qt.Key.Key_Right)
    press(qtbot, Qt.Key.Key_Left)
    assert s.t == 1
    press(qtbot, Qt.Key.Key_R)  # R resets too
    assert s.t == 0
    old = lr.text()
    lr.setCursorPosition(len(old))
    qtbot.keyClicks(lr, "5")
    press(qtbot, Qt.Key.Key_Left)  # now ← moves the cursor in the number
    press(qtbot, Qt.Key.Key_Left)
    assert s.t == 0 and lr.cursorPosition() == len(old) - 1
    press(qtbot, Qt.Key.Key_Escape)  # Esc: the committed value back, focus home
    assert lr.text() == old
    assert float(old) == pytest.approx(s.specs[0].config.lr)
    assert not lr.hasFocus() and l08.picture.hasFocus()
    press(qtbot, Qt.Key.Key_Right)
    assert s.t == 1


def test_spin_box_space_plays_esc_reverts(window, qtbot):
    s = window.session
    spin = window.controls.playback.max_steps
    assert box_kind(spin) == "number"
    before = spin.value()
    focus_on(qtbot, spin)
    spin.selectAll()
    qtbot.keyClicks(spin, "77")
    press(qtbot, Qt.Key.Key_Space)
    assert s.playing
    press(qtbot, Qt.Key.Key_Space)
    press(qtbot, Qt.Key.Key_Escape)
    assert spin.value() == before and s.max_steps == before
    assert not spin.hasFocus()
    focus_on(qtbot, spin)
    spin.selectAll()
    qtbot.keyClicks(spin, "123")
    press(qtbot, Qt.Key.Key_Enter)
    assert s.max_steps == 123 and not spin.hasFocus()


def test_a_focused_combo_box_leaves_the_arrows_to_playback(window, qtbot):
    s = window.session
    combo = window.controls.problem.combo
    window.activateWindow()
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus)
    before = combo.currentIndex()
    press(qtbot, Qt.Key.Key_Right)
    press(qtbot, Qt.Key.Key_Space)
    assert s.t == 1 and s.playing
    assert combo.currentIndex() == before and s.landscape.name == "rosenbrock"


# ------------------------------------------------------------------ free-text boxes
def test_expression_box_keeps_its_keys_enter_applies_and_leaves(window, qtbot):
    s = window.session
    expr = window.controls.problem.expr
    assert box_kind(expr) == "text"
    focus_on(qtbot, expr)
    qtbot.keyClicks(expr, "x^2 + 3*y^2")
    press(qtbot, Qt.Key.Key_Left)
    press(qtbot, Qt.Key.Key_Space)
    assert not s.playing and s.t == 0
    assert expr.text() == "x^2 + 3*y^ 2"
    press(qtbot, Qt.Key.Key_Return)
    assert s.kind == "expr" and not expr.hasFocus()


def test_a_refused_expression_keeps_the_focus_esc_puts_the_text_back(window, qtbot):
    s = window.session
    expr = window.controls.problem.expr
    focus_on(qtbot, expr)
    qtbot.keyClicks(expr, "x^2 + z")
    press(qtbot, Qt.Key.Key_Return)
    assert s.kind == "surface"
    assert expr.hasFocus() and expr.text() == "x^2 + z"  # the typo stays to be fixed
    assert window.controls.problem.error.isVisible()
    press(qtbot, Qt.Key.Key_Escape)
    assert not expr.hasFocus() and expr.text() == ""


def test_target_box_enter_leaves_only_once_the_target_is_taken(l08, qtbot):
    s = l08.session
    box = l08.controls.data.controls["expr"]
    assert box_kind(box) == "text"
    focus_on(qtbot, box)
    qtbot.keyClicks(box, "sin(3*x")
    press(qtbot, Qt.Key.Key_Return)
    assert box.hasFocus() and not s.data.target_expr  # refused: fix it in place
    qtbot.keyClicks(box, ")")
    press(qtbot, Qt.Key.Key_Return)
    assert s.data.target_expr == "sin(3*x)" and not box.hasFocus()


def test_a_click_on_the_caption_leaves_a_box(l08, qtbot):
    lr = visible_entry(l08, "lr")
    focus_on(qtbot, lr)
    qtbot.mouseClick(l08.caption.title_label, Qt.MouseButton.LeftButton)
    assert not lr.hasFocus()
    press(qtbot, Qt.Key.Key_Space)
    assert l08.session.playing


# ------------------------------------------------------------------ lessons and focus
@pytest.mark.parametrize("path", preset_paths(), ids=lambda p: p.stem)
def test_opening_a_lesson_never_leaves_the_focus_in_a_box(window, qtbot, path):
    # the worst case: the focus sits in a box that the new lesson hides or rebuilds
    focus_on(qtbot, window.controls.playback.max_steps)
    assert window.open_scene(path)
    QApplication.processEvents()
    assert box_kind(QApplication.focusWidget()) is None
    was = window.session.playing
    press(qtbot, Qt.Key.Key_Space)
    assert window.session.playing != was


def test_dialog_keys_stay_the_dialogs(window, qtbot):
    s = window.session
    dlg = window.export_animation()
    qtbot.waitExposed(dlg)
    spin = dlg.findChildren(QSpinBox)[0]
    focus_on(qtbot, spin)
    before = spin.value()
    press(qtbot, Qt.Key.Key_Up)
    press(qtbot, Qt.Key.Key_Space)
    press(qtbot, Qt.Key.Key_Right)
    assert not s.playing and s.t == 0
    assert spin.value() == before + spin.singleStep()
    dlg.close()


def test_an_open_menu_keeps_its_keys(window, qtbot):
    s = window.session
    menu = window.view_menu
    menu.popup(window.mapToGlobal(QPoint(40, 40)))
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is menu)
    for k in (Qt.Key.Key_Down, Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_Space):
        qtbot.keyClick(menu, k)
    assert s.t == 0
    menu.close()


# ------------------------------------------------------------------ the shortcut sheet
def _keyed_actions(window):
    return [a for a in window.findChildren(QAction) if not a.shortcut().isEmpty() and a.isVisible()]


def test_f1_opens_a_sheet_of_every_key_and_f1_or_esc_closes_it(window, qtbot):
    from gdviz.ui.shortcut_sheet import ShortcutSheet

    extra = QAction("Projector mode", window)  # another part of the app adds a key later
    extra.setShortcut(QKeySequence("F5"))
    window.addAction(extra)
    window.activateWindow()
    press(qtbot, Qt.Key.Key_F1)
    sheet = window.findChild(ShortcutSheet)
    assert sheet is not None and sheet.isVisible()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is sheet)
    rows = sheet.texts()
    labels = [what for _, what in rows]
    for act in _keyed_actions(window):
        assert act.text().replace("&", "").rstrip("…") in labels, act.text()
    keys = " ".join(k for k, _ in rows)
    for k in ("Space", "→", "←", "R", "Ctrl+O", "Ctrl+S", "Ctrl+E", "Ctrl+Q", "Ctrl+=",
              "Ctrl+-", "Ctrl+0", "F11", "H", "F1", "?", "F5"):
        assert k in keys.split(", ") or k in keys, k
    assert ("F5", "Projector mode") in rows
    # readable from the back row: bigger than the app's text
    key_label = sheet.findChild(QLabel, "sheetKey")
    assert key_label.font().pointSizeF() > QApplication.font().pointSizeF()
    # Space still does nothing to playback while the sheet is up (it is modal)
    press(qtbot, Qt.Key.Key_Space)
    assert not window.session.playing
    press(qtbot, Qt.Key.Key_F1)
    assert not sheet.isVisible()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_Question)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window.shortcut_sheet)
    press(qtbot, Qt.Key.Key_Escape)
    assert not window.shortcut_sheet.isVisible()


def test_sheet_follows_the_language_and_text_size(window, qtbot):
    window.set_language("zh-Hant")
    small = window.show_shortcut_sheet()
    rows = small.texts()
    assert ("空白鍵", "播放／暫停") in rows
    assert window.help_menu.title() == "說明"
    small_pt = small.findChild(QLabel, "sheetKey").font().pointSizeF()
    small.close()
    window.set_font_scale(2.0, announce=False)
    big = window.show_shortcut_sheet()
    # bigger with the text, as far as the 1280×720 window leaves room for every key
    assert big.findChild(QLabel, "sheetKey").font().pointSizeF() > 1.15 * small_pt
    room = window.screen().availableGeometry().size().expandedTo(window.size())
    assert big.width() <= room.width() and big.height() <= room.height()
    big.close()


# ------------------------------------------------------------------ nothing stale
@pytest.mark.parametrize("first, then", [("L12", "L14"), ("L10", "L14"), ("L14", "L10"),
                                         ("L10", "L03"), ("L03", "L10")])
def test_problem_box_shows_the_current_problem_after_a_lesson_switch(window, qtbot, first, then):
    box = window.controls.problem.expr
    assert window.open_scene(lesson(first))
    focus_on(qtbot, box) if box.isVisible() else None
    if box.isVisible():
        qtbot.keyClicks(box, "junk")  # typed, never applied
    assert window.open_scene(lesson(then))
    s = window.session
    if s.kind == "expr":
        assert box.text() == s.landscape.label
    else:
        assert box.text() == ""
    if s.kind == "surface":
        assert s.landscape.label in box.placeholderText()


def test_caption_marks_the_lesson_left_once_the_function_is_the_users(window, qtbot):
    s = window.session
    assert window.open_scene(lesson("L14"))
    title = window._scene.title.get(window.language)
    assert window.caption.body.text()  # the paragraph
    s.update_runs(lr=0.02)
    assert window.caption.body.text()  # a lesson's own knobs keep it
    expr = window.controls.problem.expr
    focus_on(qtbot, expr)
    qtbot.keyClicks(expr, "x^2 + y^2")
    press(qtbot, Qt.Key.Key_Return)
    assert s.kind == "expr"
    assert title in window.caption.title_label.text()
    assert window.caption.title_label.text() != title  # marked as left
    assert not window.caption.body.text()  # the paragraph's claims are gone
    s.set_surface("saddle")  # back to the lesson's function: the caption comes back
    assert window.caption.title_label.text() == title and window.caption.body.text()


def test_an_old_expression_error_goes_when_a_lesson_loads(window, qtbot):
    expr = window.controls.problem.expr
    focus_on(qtbot, expr)
    qtbot.keyClicks(expr, "x^^2")
    press(qtbot, Qt.Key.Key_Return)
    assert window.message.text() and window.controls.problem.error.isVisible()
    assert window.open_scene(lesson("L04"))
    assert window.message.text() == ""
    assert not window.controls.problem.error.isVisible()
