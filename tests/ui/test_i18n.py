"""Every widget shows the course vocabulary in the UI language: it re-labels itself on
LanguageChange, English comes back exactly, and a widget made in Chinese starts in Chinese."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QComboBox, QLabel, QLineEdit, QWidget

from gdviz.core import i18n
from gdviz.core.optimizers import make_optimizer
from gdviz.core.problems import FitData, RegressionData
from gdviz.core.session import RunSpec, Session


@pytest.fixture(autouse=True)
def _english_first(qapp):
    """Start in English whatever the OS says (tests/conftest.py puts the language back)."""
    i18n.set_language("en")


def switch(widget: QWidget, lang: str) -> None:
    """What the main window does: set the language, then send LanguageChange (Qt passes
    it on to the children)."""
    i18n.set_language(lang)
    QApplication.sendEvent(widget, QEvent(QEvent.Type.LanguageChange))


def texts(root: QWidget) -> list[tuple[str, ...]]:
    """Every text a user can see or hover in ``root``'s widget tree, in tree order."""
    out = []
    for w in [root, *root.findChildren(QWidget)]:
        parts = [type(w).__name__, w.toolTip()]
        if isinstance(w, (QLabel, QAbstractButton)):
            parts.append(w.text())
        if isinstance(w, QLineEdit):
            parts.append(w.placeholderText())
        if isinstance(w, QComboBox):
            for i in range(w.count()):
                parts += [w.itemText(i), str(w.itemData(i, Qt.ItemDataRole.ToolTipRole))]
        out.append(tuple(parts))
    return out


def fit_session() -> Session:
    s = Session()
    assert s.set_fit(FitData(target="piecewise", model="sigmoid", units=3))
    return s


# ------------------------------------------------------------------------- control panels
@pytest.fixture
def panel(qtbot):
    from gdviz.ui.panels.controls import ControlsPanel

    p = ControlsPanel(fit_session())
    qtbot.addWidget(p)
    p.resize(440, 900)
    p.show()
    _all_cards(qtbot, p)
    return p


def _all_cards(qtbot, p) -> None:
    """Wait for the runs panel's cards (a few are made a turn: PACE_CARDS)."""
    qtbot.waitUntil(lambda: len(p.runs.cards) == p.session.n_specs
                    and all(c.isVisible() for c in p.runs.cards))


def test_control_panels_follow_the_language_and_come_back(panel):
    pb, prob, runs, tr_, data = (panel.playback, panel.problem, panel.runs, panel.training,
                                 panel.data)
    momentum = runs.cards[1]
    before = texts(panel)
    assert pb.title.text() == "Playback" and pb.play.text() == "▶  Play"
    assert runs.add_button.text() == "Add run ▾" and momentum.select.text() == "step-by-step"
    assert momentum.sliders["momentum"].label.text() == "momentum"

    switch(panel, "zh-Hant")
    assert pb.title.text() == "播放控制" and pb.play.text() == "▶  播放"
    assert pb.speed.label.text() == "步／秒" and pb.max_steps_label.text() == "最大步數"
    assert "第 0 / 1000 次迭代" == pb.counter.text()  # a fit: one update is one iteration
    assert prob.title.text() == "問題"
    assert prob.combo.itemText(prob.combo.findData("@fit")) == "曲線擬合（資料、模型）"
    assert prob.combo.itemText(prob.combo.findData("rosenbrock")) == "rosenbrock"  # a name
    assert prob.expr.placeholderText().startswith("f(x, y)，例如")
    assert runs.title.text() == "優化器" and runs.add_button.text() == "加入優化器 ▾"
    assert runs.same_lr.text() == "所有優化器用同一學習率"
    assert momentum.select.text() == "逐步" and momentum.more.text() == "更多"
    # words are translated, symbols stay, with the word in the tooltip
    assert momentum.sliders["momentum"].label.text() == "動量"
    assert momentum.sliders["lr"].label.text() == "學習率 lr"  # the course's word, and the symbol
    assert runs.cards[2].sliders["alpha"].label.text() == "衰減率 α"
    assert runs.cards[2].flags["centered"].text() == "中心化"
    assert runs.shared_lr.label.text() == "學習率（全部）"
    assert tr_.curve.getPlotItem().getAxis("left").labelText == "學習率"  # each run's own lr
    assert "學習率" in momentum.sliders["lr"].entry.toolTip()
    assert "精確數值" in momentum.sliders["lr"].entry.toolTip()
    assert tr_.noise_title.text() == "雜訊與批次" and tr_.schedule_title.text() == "學習率排程"
    assert tr_.seed_label.text() == "亂數種子" and tr_.batch.label.text() == "批量大小"
    assert tr_.schedule.itemText(tr_.schedule.findData("constant")) == "固定"
    c = data.controls
    assert c["load_csv"].text() == "載入 CSV…" and c["new_data"].text() == "重新抽樣"
    assert c["n_points"].label.text() == "資料點數 N"
    assert c["show_units"].text() == "顯示每個單元（藍色函數）"
    assert c["target"].itemText(c["target"].findData("piecewise")) == "分段線性（紅色曲線）"
    assert c["loss_caption"].text().startswith("訓練損失（MSE）")
    assert c["hand_title"].text() == "目前的損失" and "個參數" in c["hand_note"].text()
    assert c["source"].text() == "已產生 50 個帶雜訊的資料點"

    switch(panel, "zh-Hans")
    assert runs.same_lr.text() == "所有优化器使用同一学习率"
    assert c["load_csv"].text() == "加载 CSV…" and tr_.schedule_title.text() == "学习率调度"
    assert momentum.sliders["momentum"].label.text() == "动量"

    switch(panel, "en")
    assert texts(panel) == before  # English exactly as it was


def test_control_panels_made_in_chinese_start_in_chinese(qtbot, panel):
    from gdviz.ui.panels.controls import ControlsPanel

    switch(panel, "zh-Hant")  # made in English, then switched
    switched = texts(panel)
    fresh = ControlsPanel(fit_session())  # made while the language is zh-Hant
    qtbot.addWidget(fresh)
    fresh.resize(440, 900)
    fresh.show()
    _all_cards(qtbot, fresh)
    assert fresh.playback.title.text() == "播放控制"
    assert fresh.data.controls["units"].label.text() == "單元數 K"
    assert texts(fresh) == switched


def test_more_and_less_follow_the_language(panel):
    adam = panel.runs.cards[3]
    adam.more.click()
    assert adam.more.text() == "less"
    switch(panel, "zh-Hans")
    assert adam.more.text() == "收起" and adam.sliders["eps"].isVisibleTo(panel)
    adam.more.click()
    assert adam.more.text() == "更多"


@pytest.mark.parametrize("problem", ["fit", "regression", "surface"])
def test_chinese_controls_are_no_wider_than_english(qtbot, problem):
    """The controls dock is as wide as its widest row: Chinese must not push the map."""
    from gdviz.ui.panels.controls import ControlsPanel

    widths = {}
    for lang in i18n.LANGUAGES:
        i18n.set_language(lang)
        s = Session()
        if problem == "fit":
            assert s.set_fit(FitData(target="piecewise", model="sigmoid", units=30))
        elif problem == "regression":
            assert s.set_regression(RegressionData())
        p = ControlsPanel(s)
        qtbot.addWidget(p)
        p.show()
        for card in p.runs.cards:
            card.more.click()  # every hyperparameter in view
        p._fit_width()
        widths[lang] = p.minimumWidth()
    assert widths["zh-Hant"] <= widths["en"] and widths["zh-Hans"] <= widths["en"], widths


def test_regression_data_panel_follows_the_language(qtbot):
    from gdviz.ui.panels.data_panel import DataPanel

    s = Session()
    assert s.set_regression(RegressionData())
    p = DataPanel(s)
    qtbot.addWidget(p)
    before = texts(p)
    assert p.controls["batch_surface"].text() == "Show the mini-batch's own surface"
    switch(p, "zh-Hans")
    assert p.controls["batch_surface"].text() == "显示当前小批量自身的误差曲面"
    assert p.controls["loss"].itemText(0) == "MSE（均方误差）"
    assert p.controls["hand_title"].text() == "手动拟合"
    assert p.param_sliders[0].toolTip().startswith("w：斜率")
    switch(p, "en")
    assert texts(p) == before


# ------------------------------------------------------------------------- plots
def test_fit_view_legend_hint_and_title(qtbot):
    from gdviz.ui.views.fit_view import HINT, FitView

    s = fit_session()
    v = FitView(s)
    qtbot.addWidget(v)
    v.resize(760, 560)
    v.show()
    qtbot.waitExposed(v)
    s.set_view_options(show_units=True)
    s.step(3)
    before = (v.legend_texts(), v.plot_item.titleLabel.text, v.hint.textItem.toPlainText())
    assert "training points (42)" in before[0] and "constant c0" in before[0]
    switch(v, "zh-Hant")
    legend = v.legend_texts()
    assert "訓練資料點（42）" in legend and "驗證資料點（8）" in legend
    assert "目標函數（無雜訊）" in legend and "常數 c0" in legend
    assert "個參數" in v.plot_item.titleLabel.text
    assert v.hint.textItem.toPlainText() == "選一個資料問題來看擬合"
    switch(v, "en")
    assert (v.legend_texts(), v.plot_item.titleLabel.text,
            v.hint.textItem.toPlainText()) == before
    assert before[2] == HINT


def test_fit_view_made_in_chinese(qtbot):
    from gdviz.ui.views.fit_view import FitView

    i18n.set_language("zh-Hant")
    v = FitView(Session())  # a surface: only the hint
    qtbot.addWidget(v)
    assert v.hint.textItem.toPlainText() == "選一個資料問題來看擬合"
    assert v.session.set_fit(FitData(model="linear", val_fraction=0.0))
    assert v.legend_texts()[0] == "訓練資料點（50）"


def test_loss_view_axes_and_key(qtbot):
    from gdviz.ui.views.loss_view import LossView

    s = Session()
    v = LossView(s)
    qtbot.addWidget(v)
    v.resize(600, 300)
    bottom, left = v.plot_item.getAxis("bottom"), v.plot_item.getAxis("left")
    assert (bottom.labelText, left.labelText) == ("step", "loss")
    assert s.set_fit(FitData(target="sine", model="sigmoid", units=3, points=40,
                             val_fraction=0.25))
    s.step(5)
    # on data problems a step is one update on one mini-batch: an iteration
    before = (bottom.labelText, left.labelText, v.t_line.label.format,
              [lab.text for _, lab in v.legend.items])
    assert before == ("iteration", "loss", "iteration {value:.0f}",
                      ["training loss", "validation loss"])
    switch(v, "zh-Hant")
    assert (bottom.labelText, left.labelText) == ("迭代次數", "損失")
    assert [lab.text for _, lab in v.legend.items] == ["訓練損失", "驗證損失"]
    assert v.t_line.label.toPlainText() == "第 5 次迭代"
    s.set_surface("rosenbrock")
    assert bottom.labelText == "步數"
    switch(v, "en")
    assert bottom.labelText == "step" and v.t_line.label.format == "step {value:.0f}"
    assert s.set_fit(FitData(target="sine", model="sigmoid", units=3, points=40,
                             val_fraction=0.25))
    s.step(5)
    assert (bottom.labelText, left.labelText, v.t_line.label.format,
            [lab.text for _, lab in v.legend.items]) == before


def test_landscape_view_arrows_colour_bar_diverged_and_menu(qtbot):
    from gdviz.ui.views.landscape_view import LandscapeView

    s = Session()
    s.add_run(RunSpec(config=make_optimizer("sgd", lr=1.0)))
    v = LandscapeView(s)
    qtbot.addWidget(v)
    v.resize(900, 700)
    v.show()
    qtbot.waitExposed(v)
    s.step(40)
    r = next(r for r, _ in s.diverged())
    s.select(3)

    def seen():
        return ([lab.text.split("  ×")[0] for _, lab in v.arrow_legend.items], v.colorbar.axis.labelText,
                v.diverged_labels[r].textItem.toPlainText(), v.heatmap_action.text(),
                v.view_all_action.text(), v.start_items[0].toolTip())

    before = seen()
    assert before[0] == ["−gradient", "momentum / 1st moment", "update Δ"]
    assert before[1].startswith("log₁₀") and before[2].startswith("diverged at step")
    switch(v, "zh-Hant")
    arrows, bar, diverged, heatmap, view_all, start = seen()
    assert arrows == ["−梯度", "動量／一階動差", "更新量 Δ"]
    assert "  ×" in v.arrow_legend.items[0][1].text  # the scale stays
    assert bar in ("log₁₀ 損失", "log₁₀（損失 − 最小值）")
    assert diverged == f"第 {s.diverged()[0][1]} 步發散"
    assert (heatmap, view_all, start) == ("顯示熱圖", "檢視整個曲面", "起點：拖曳可移動")
    assert v.plot_item.titleLabel.text.startswith("rosenbrock")  # names stay
    switch(v, "en")
    assert seen() == before


def test_landscape_title_of_a_data_map(qtbot):
    from gdviz.ui.views.landscape_view import LandscapeView

    s = Session()
    assert s.set_regression(RegressionData())
    v = LandscapeView(s)
    qtbot.addWidget(v)
    v.resize(900, 700)
    assert v.plot_item.titleLabel.text == s.landscape.label  # English: the problem's own
    switch(v, "zh-Hans")
    assert v.plot_item.titleLabel.text == "L(w, b) = y = b + w·x 的 MSE"
    assert v.colorbar.axis.labelText.startswith("log₁₀")
    assert s.set_fit(FitData(model="linear"))
    assert v.plot_item.titleLabel.text == "(w, b) 平面上的 MSE"
    switch(v, "en")
    assert v.plot_item.titleLabel.text == s.landscape.label == "MSE over (w, b)"


def test_step_view_hints_title_and_row_tips(qtbot):
    from gdviz.ui.views.step_view import StepView

    s = Session()
    v = StepView(s)
    qtbot.addWidget(v)
    v.show()
    tips = lambda: [v.cells[k][0].toolTip() for k in v.cells]  # noqa: E731
    before = (v.hint.text(), v.title.text(), tips())
    assert before[0].startswith("Pick a run for step-by-step mode.")
    switch(v, "zh-Hant")
    assert v.hint.text().startswith("選一條路徑進入逐步模式。")
    assert "逐步模式" in v.title.text()
    assert v.cells["g"][0].toolTip().startswith("這一步所用的梯度")
    assert v.cells["g"][0].text() == "g"  # the symbols stay
    s.select(3)
    assert "第 0 步：還沒有更新。" in v.hint.text()
    s.step(3)
    assert "第 3 步" in v.title.text() and "Adam" in v.title.text()
    s.select(-1)
    switch(v, "en")
    assert (v.hint.text(), v.title.text(), tips()) == before


def test_caption_more_less(qtbot):
    from gdviz.ui.views.caption import CaptionStrip

    cap = CaptionStrip()
    qtbot.addWidget(cap)
    cap.resize(400, 200)
    cap.set_caption("L1", "word " * 300)
    assert cap.more.text() == "more ▼"
    switch(cap, "zh-Hant")
    assert cap.more.text() == "展開 ▼"
    cap.set_expanded(True)
    assert cap.more.text() == "收起 ▲"
    switch(cap, "en")
    assert cap.more.text() == "less ▲"
    i18n.set_language("zh-Hans")
    fresh = CaptionStrip()
    qtbot.addWidget(fresh)
    assert fresh.more.text() == "展开 ▼"


# ------------------------------------------------------------------------- the window
def test_window_language_menu_reaches_every_widget(window, session):
    """The real broadcast, on a fit (its legend is rebuilt while the window walks its
    top-level widgets: nothing it walks may be freed under it)."""
    assert session.set_fit(FitData(target="sine", model="sigmoid", units=3, points=40,
                                   val_fraction=0.25))
    session.step(4)
    window.set_language("en")
    before = texts(window.controls)
    for lang, play, axis in (("zh-Hant", "▶  播放", "迭代次數"), ("zh-Hans", "▶  播放", "迭代次数")):
        window.language_actions[lang].trigger()
        assert window.controls.playback.play.text() == play
        assert window.loss_view.plot_item.getAxis("bottom").labelText == axis
        assert any("訓練" in t or "训练" in t for t in window.fit_view.legend_texts())
    window.language_actions["en"].trigger()
    assert texts(window.controls) == before
    assert window.step_view.hint.text().startswith("Pick a run")


def test_surface_names_that_are_words_are_translated(qtbot):
    """"ellipse" is a word (L4's map title in a Chinese class); "rosenbrock" is a name."""
    from gdviz.ui.panels.problem_panel import ProblemPanel
    from gdviz.ui.views.landscape_view import LandscapeView

    s = Session()
    s.set_surface("ellipse")
    v, p = LandscapeView(s), ProblemPanel(s)
    qtbot.addWidget(v)
    qtbot.addWidget(p)
    v.resize(900, 700)
    assert v.plot_item.titleLabel.text.startswith("ellipse:  x²")
    switch(v, "zh-Hant")
    switch(p, "zh-Hant")
    assert v.plot_item.titleLabel.text.startswith("橢圓曲面：x²")
    assert p.combo.itemText(p.combo.findData("saddle")) == "鞍形曲面"
    assert p.combo.itemText(p.combo.findData("rosenbrock")) == "rosenbrock"
    switch(p, "en")
    assert p.combo.itemText(p.combo.findData("saddle")) == "saddle"
