"""UI language: English, Traditional Chinese, Simplified Chinese.

The default follows the OS locale without Qt: ``GDVIZ_LANG`` if set, then the POSIX
variables (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``), then
:func:`locale.getlocale`. zh_TW / zh_HK / zh_MO (and any "Hant" tag) mean Traditional
Chinese, zh_CN / zh_SG (and "Hans", or a bare "zh") Simplified; anything else English.

:func:`tr` translates the course vocabulary of the lessons (loss, learning rate, batch
size, iteration, epoch, ...) and the common UI words. The Chinese terms follow the
course notes the lessons come from: Taiwanese usage for zh-Hant (損失函數, 學習率,
訓練資料, 過度擬合, 代 for an epoch), mainland usage for zh-Hans (损失函数, 学习率,
训练集, 过拟合).
"""

from __future__ import annotations

import locale
import os
import re
from collections.abc import Mapping

__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "DEFAULT_LANGUAGE", "TERMS", "normalize_language",
           "detect_language", "set_language", "current_language", "tr"]

#: the language the UI shows now (None: not chosen yet, :func:`detect_language` decides)
_current: dict[str, str | None] = {"lang": None}

#: UI languages, as BCP 47 tags (the keys of scene captions too)
LANGUAGES: tuple[str, ...] = ("en", "zh-Hant", "zh-Hans")
#: each language's name in itself, for the language menu
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "zh-Hant": "繁體中文", "zh-Hans": "简体中文"}
DEFAULT_LANGUAGE = "en"

_HANT_REGIONS = {"TW", "HK", "MO"}
_HANS_REGIONS = {"CN", "SG", "MY"}


def normalize_language(tag: str | None) -> str | None:
    """Map a locale name or language tag to one of :data:`LANGUAGES`, or None if unknown.

    Accepts POSIX names (``zh_TW.UTF-8``, ``zh_CN@pinyin``), BCP 47 tags (``zh-Hant-HK``,
    ``zh-TW``), Windows names (``Chinese (Traditional)_Taiwan``) and ``en_US``/``C``/``POSIX``.
    """
    if not tag:
        return None
    t = str(tag).strip()
    if not t:
        return None
    low = t.lower()
    if low in ("c", "posix") or low.startswith(("c.", "posix.")):
        return "en"
    # Windows locale names from locale.getlocale()
    if low.startswith("chinese"):
        if "traditional" in low or any(w in low for w in ("taiwan", "hong kong", "macao", "macau")):
            return "zh-Hant"
        return "zh-Hans"
    if low.startswith("english"):
        return "en"
    base = re.split(r"[.@]", t, maxsplit=1)[0]
    parts = [p for p in re.split(r"[-_]", base) if p]
    if not parts:
        return None
    lang = parts[0].lower()
    rest = parts[1:]
    if lang == "zh":
        scripts = {p.lower() for p in rest}
        if "hant" in scripts:
            return "zh-Hant"
        if "hans" in scripts:
            return "zh-Hans"
        regions = {p.upper() for p in rest}
        if regions & _HANT_REGIONS:
            return "zh-Hant"
        return "zh-Hans"  # zh_CN, zh_SG, bare zh
    if lang == "en" or re.fullmatch(r"[a-z]{2,3}", lang):
        return "en"  # a language we do not translate into: English
    return None


def detect_language(env: Mapping[str, str] | None = None, *, use_locale: bool = True) -> str:
    """The UI language the OS asks for (see the module docstring for the order).

    ``env`` defaults to ``os.environ``; tests pass a dict and ``use_locale=False``.
    """
    env = os.environ if env is None else env
    override = normalize_language(env.get("GDVIZ_LANG"))
    if override:
        return override
    # LANGUAGE is a colon-separated priority list (GNU gettext)
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        for item in value.split(":"):
            found = normalize_language(item)
            if found:
                return found
    if use_locale:
        try:
            loc = locale.getlocale()[0]
        except (ValueError, TypeError):  # unparsable locale settings
            loc = None
        found = normalize_language(loc)
        if found:
            return found
    return DEFAULT_LANGUAGE


# key: (English, Traditional Chinese, Simplified Chinese)
_TABLE: dict[str, tuple[str, str, str]] = {
    # --- the lessons' vocabulary
    "loss": ("loss", "損失", "损失"),
    "loss_function": ("loss function", "損失函數", "损失函数"),
    "learning_rate": ("learning rate", "學習率", "学习率"),
    "batch_size": ("batch size", "批量大小", "批量大小"),
    "batch": ("batch", "批次", "批次"),
    "mini_batch": ("mini-batch", "小批次", "小批量"),
    "iteration": ("iteration", "迭代（一次更新）", "迭代（一次更新）"),
    "update": ("update", "更新", "更新"),
    "epoch": ("epoch", "代（epoch）", "轮（epoch）"),
    "gradient": ("gradient", "梯度", "梯度"),
    "gradient_descent": ("gradient descent", "梯度下降法", "梯度下降法"),
    "momentum": ("momentum", "動量", "动量"),
    "parameter": ("parameter", "參數", "参数"),
    "parameters": ("parameters", "參數", "参数"),
    "hyperparameter": ("hyperparameter", "超參數", "超参数"),
    "weight": ("weight", "權重", "权重"),
    "bias": ("bias", "偏差", "偏置"),
    "training_set": ("training set", "訓練資料", "训练集"),
    "validation_set": ("validation set", "驗證資料", "验证集"),
    "train_loss": ("training loss", "訓練損失", "训练损失"),
    "val_loss": ("validation loss", "驗證損失", "验证损失"),
    "overfitting": ("overfitting", "過度擬合", "过拟合"),
    "underfitting": ("underfitting", "低度擬合", "欠拟合"),
    "weight_decay": ("weight decay", "權重衰減", "权重衰减"),
    "local_minimum": ("local minimum", "局部最小值", "局部最小值"),
    "global_minimum": ("global minimum", "全域最小值", "全局最小值"),
    "saddle_point": ("saddle point", "鞍點", "鞍点"),
    "error_surface": ("error surface", "誤差曲面", "误差曲面"),
    "model": ("model", "模型", "模型"),
    "model_bias": ("model bias", "模型偏差", "模型偏差"),
    "units": ("units", "單元數", "单元数"),
    "unit": ("unit", "單元", "单元"),
    "target": ("target", "目標函數", "目标函数"),
    "optimizer": ("optimizer", "優化器", "优化器"),
    "schedule": ("learning-rate schedule", "學習率排程", "学习率调度"),
    "one_cycle": ("one-cycle", "one-cycle（先升後降）", "one-cycle（先升后降）"),
    "noise": ("noise", "雜訊", "噪声"),
    "gradient_noise": ("gradient noise", "梯度雜訊", "梯度噪声"),
    "mse": ("mean squared error (MSE)", "均方誤差（MSE）", "均方误差（MSE）"),
    "mae": ("mean absolute error (MAE)", "平均絕對誤差（MAE）", "平均绝对误差（MAE）"),
    "update_rule": ("update rule", "更新規則", "更新规则"),
    "step_size": ("step size", "步長", "步长"),
    "diverged": ("diverged", "發散", "发散"),
    "diverged_at": ("diverged at step {step}", "第 {step} 步發散", "第 {step} 步发散"),
    "converged": ("converged", "收斂", "收敛"),
    # --- the status bar's counters
    "status_step": ("step {t} / {n}", "第 {t} 步（共 {n} 步）", "第 {t} 步（共 {n} 步）"),
    "status_iteration": ("iteration {i} / {n}", "第 {i} 次迭代（共 {n} 次）", "第 {i} 次迭代（共 {n} 次）"),
    "status_epoch": ("epoch {e}", "第 {e} 代", "第 {e} 轮"),
    "status_batch_of": ("batch {k} of {n}", "第 {k} 批，共 {n} 批", "第 {k} 批，共 {n} 批"),
    "status_batch_size": ("batch size {b} of {n} points", "批量大小 {b}（共 {n} 點）",
                          "批量大小 {b}（共 {n} 点）"),
    # --- common UI words
    "play": ("Play", "播放", "播放"),
    "pause": ("Pause", "暫停", "暂停"),
    "step": ("Step", "單步", "单步"),
    "step_back": ("Step back", "上一步", "上一步"),
    "reset": ("Reset", "重設", "重置"),
    "speed": ("Speed", "速度", "速度"),
    "steps_per_second": ("steps/s", "步／秒", "步/秒"),
    "max_steps": ("Max steps", "最大步數", "最大步数"),
    "steps": ("steps", "步數", "步数"),
    "start_point": ("start point", "起點", "起点"),
    "surface": ("Surface", "曲面", "曲面"),
    "expression": ("Expression", "算式", "表达式"),
    "seed": ("Seed", "亂數種子", "随机种子"),
    "same_lr": ("Same learning rate for all", "所有優化器用同一學習率", "所有优化器使用同一学习率"),
    "step_by_step": ("Step-by-step mode", "逐步模式", "逐步模式"),
    "contours": ("Contours", "等高線", "等高线"),
    "heatmap": ("Heatmap", "熱圖", "热图"),
    "lessons": ("Lessons", "課程", "课程"),
    "lesson": ("Lesson", "課", "课"),
    "file": ("File", "檔案", "文件"),
    "open": ("Open…", "開啟…", "打开…"),
    "save": ("Save", "儲存", "保存"),
    "save_as": ("Save As…", "另存新檔…", "另存为…"),
    "export": ("Export animation…", "匯出動畫…", "导出动画…"),
    "view": ("View", "檢視", "视图"),
    "language": ("Language", "語言", "语言"),
    "theme": ("Theme", "主題", "主题"),
    "dark": ("Dark", "深色", "深色"),
    "light": ("Light", "淺色", "浅色"),
    "full_screen": ("Full screen", "全螢幕", "全屏"),
    "zoom_in": ("Larger text", "放大字體", "放大字体"),
    "zoom_out": ("Smaller text", "縮小字體", "缩小字体"),
    "quit": ("Quit", "結束", "退出"),
    "help": ("Help", "說明", "帮助"),
    "caption": ("Caption", "說明文字", "说明文字"),
    "new_data": ("New data", "重新產生資料", "重新生成数据"),
    "fit_panel": ("Curve fit", "曲線擬合", "曲线拟合"),
    "fit_by_hand": ("Fit by hand", "手動擬合", "手动拟合"),
    "show_units": ("Show each unit", "顯示每個單元", "显示每个单元"),
    "validation_fraction": ("Validation split", "驗證資料比例", "验证集比例"),
    "points": ("Points", "資料點數", "数据点数"),
    "cancel": ("Cancel", "取消", "取消"),
    "ok": ("OK", "確定", "确定"),
    "error": ("Error", "錯誤", "错误"),
    "compiling": ("Compiling kernels…", "正在編譯運算核心…", "正在编译计算内核…"),
}

#: the vocabulary, per language: TERMS[lang][key]
TERMS: dict[str, dict[str, str]] = {
    lang: {key: row[i] for key, row in _TABLE.items()} for i, lang in enumerate(LANGUAGES)
}


def set_language(lang: str) -> None:
    """Make ``lang`` (one of :data:`LANGUAGES`) the UI language that :func:`tr` uses."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language '{lang}' (choose from {', '.join(LANGUAGES)})")
    _current["lang"] = lang


def current_language() -> str:
    """The UI language: the one last set, else the OS locale's."""
    return _current["lang"] or detect_language()


def tr(key: str, lang: str | None = None, **fmt: object) -> str:
    """The UI text for ``key`` in ``lang`` (default: :func:`current_language`).

    Unknown languages fall back to English; an unknown key is returned as is, so a
    missing translation shows up as the key rather than crashing the UI. ``fmt`` fills
    ``{placeholders}`` (``tr("diverged_at", "en", step=12)``).
    """
    if lang is None:
        lang = current_language()
    table = TERMS.get(lang) or TERMS.get(normalize_language(lang) or "", TERMS["en"])
    text = table.get(key, TERMS["en"].get(key, key))
    return text.format(**fmt) if fmt else text
