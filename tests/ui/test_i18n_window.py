"""The window's own words follow the language: its title, the theme entries, the
status-bar notes and the kernels' state, and come back in English exactly."""

from __future__ import annotations

import pytest

from gdviz.core import i18n


@pytest.fixture(autouse=True)
def _english_first(qapp):
    i18n.set_language("en")


def _words(window) -> tuple:
    return (window.windowTitle(), [a.text() for a in window.theme_actions.values()],
            window.kernel_status.text(), window._no_lessons.text(), window.panels_menu.title())


def test_the_window_title_theme_entries_and_kernels_follow_the_language(window):
    window.set_language("en")
    window._on_warmup_progress(3, 5, "contour")
    before = _words(window)
    assert before[1] == ["Dark theme", "Light theme"]
    assert before[2] == "Compiling kernels 3/5…"

    window.language_actions["zh-Hant"].trigger()
    title, themes, kernels, no_lessons, panels = _words(window)
    assert themes == ["深色主題", "淺色主題"]  # one word, not "深色 — 主題"
    assert kernels == "正在編譯運算核心 3/5…"  # the state is re-worded, not reset
    assert (title, no_lessons, panels) == ("gdviz — 即時觀看梯度下降", "（沒有安裝課程場景）", "面板")

    window.language_actions["zh-Hans"].trigger()
    assert _words(window)[1] == ["深色主题", "浅色主题"]
    window._on_warmup_finished(False)
    assert window.kernel_status.text() == "计算内核：numpy"

    window.language_actions["en"].trigger()
    assert window.kernel_status.text() == "kernels: numpy"
    window._on_warmup_progress(3, 5, "contour")
    assert _words(window) == before


def test_a_failed_compile_keeps_its_reason_across_a_switch(window):
    window.set_language("en")
    window._set_kernel_status("kernels_failed", error="no LLVM")
    window._on_warmup_finished(False)  # the reason is not overwritten by a plain "numpy"
    window.set_language("zh-Hant")
    assert window.kernel_status.text() == "運算核心：numpy（no LLVM）"


def test_status_notes_are_in_the_ui_language(window, tmp_path):
    window.set_language("zh-Hant")
    window.set_font_scale(1.5)
    assert window.message.text() == "字體大小 150%"
    window.set_font_scale(1.0, announce=False)
    bad = tmp_path / "bad.toml"
    bad.write_text("this is not toml [", encoding="utf-8")
    assert not window.open_scene(bad)
    assert window.notice.text().startswith("無法開啟 bad.toml：")
    assert window.save_scene(tmp_path / "ok.toml")
    assert window.message.text() == f"已儲存 {tmp_path / 'ok.toml'}"


def test_a_lessons_run_labels_follow_the_language(window):
    """L12's legend and run cards said "Momentum, constant lr" in Chinese."""
    from gdviz.core.scene import preset_paths

    assert window.open_scene(next(p for p in preset_paths() if p.stem.startswith("L12")))

    def shown():
        legend = [lab.text for _, lab in window.landscape_view.legend.items]
        cards = [c.title.text() for c in window.controls.runs.cards]
        return legend, cards

    assert shown()[0] == ["Momentum, constant lr", "Momentum, one-cycle"]
    window.set_language("zh-Hant")
    legend, cards = shown()
    assert legend == ["Momentum，固定學習率", "Momentum，one-cycle"]
    assert cards == legend
    window.set_language("en")
    assert shown()[0] == ["Momentum, constant lr", "Momentum, one-cycle"]


@pytest.mark.parametrize("lang, word", [("zh-Hans", "最多"), ("zh-Hant", "最多"), ("en", "at most")])
def test_a_refusal_a_click_meets_is_said_in_the_ui_language(window, lang, word):
    """A run past the limits (Add run, a card's copy, a shift-click start) is refused in the
    window's language; the session's own line stays English (the CLI's and the log's)."""
    import pickle

    from gdviz.core.i18n import Said

    s = window.session
    s.pause()
    while s.add_run(s.specs[0]) >= 0:
        pass
    heard = []
    s.error.connect(heard.append)
    window.set_language(lang)
    assert window.controls.runs.add_run("adam") == -1
    assert heard and isinstance(heard[-1], Said) and "at most" in heard[-1]
    assert pickle.loads(pickle.dumps(heard[-1])) == heard[-1]
    assert word in window.message.text() and "{" not in window.message.text()
    s.error.disconnect(heard.append)
    window.set_language("en")


def test_a_note_too_wide_beside_the_kernels_state_gets_their_room(window, qapp):
    """At 200 % text on 1280x720 a refusal was cut mid-word beside the kernels' state
    ("请先删除一…"): that state steps aside while the note shows, and comes back after."""
    window.resize(1280, 720)
    window.set_font_scale(2.0)
    qapp.processEvents()
    assert window.kernel_status.isVisible()
    window.flash("17 runs; a race has at most 16 optimizers: remove a run first", 6000)
    qapp.processEvents()
    assert not window.kernel_status.isVisible()
    assert window.message.width() >= window.message.sizeHint().width()  # whole
    window._message_timer.timeout.emit()  # (its time is up)
    qapp.processEvents()
    assert window.message.text() == "" and window.kernel_status.isVisible()
    window.flash("Saved", 6000)  # a short one leaves it be
    qapp.processEvents()
    assert window.kernel_status.isVisible() and window.counters.isVisible()
    # L21's long counters in Chinese and a refusal were drawn over each other: the
    # counters step aside while the note shows, and come back after
    window.counters.setText("第 40 次迭代（共 1500 次） · 第 40 代 · 批量大小 64")
    window.flash("17 個優化器：一場比賽最多 16 個，請先刪除一個", 6000)
    qapp.processEvents()
    assert not window.counters.isVisible()
    assert window.message.width() >= window.message.sizeHint().width()
    window._message_timer.timeout.emit()
    qapp.processEvents()
    assert window.counters.isVisible()
    window.set_font_scale(1.0)
