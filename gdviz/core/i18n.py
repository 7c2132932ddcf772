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
    "new_data": ("New data", "重新抽樣", "重新采样"),
    "fit_panel": ("Curve fit", "曲線擬合", "曲线拟合"),
    "fit_by_hand": ("Fit by hand", "手動擬合", "手动拟合"),
    "show_units": ("Show each unit", "顯示每個單元", "显示每个单元"),
    "validation_fraction": ("Validation split", "驗證資料比例", "验证集比例"),
    "points": ("Points", "資料點數", "数据点数"),
    "cancel": ("Cancel", "取消", "取消"),
    "ok": ("OK", "確定", "确定"),
    "error": ("Error", "錯誤", "错误"),
    "compiling": ("Compiling kernels…", "正在編譯運算核心…", "正在编译计算内核…"),
    # --- shared by the controls (slider tooltips, "more")
    "tip_exact": ("{name}: exact value, {lo} … {hi}", "{name}：精確數值，{lo} … {hi}",
                  "{name}：精确数值，{lo} … {hi}"),
    "more": ("more", "更多", "更多"),
    "less": ("less", "收起", "收起"),
    # --- playback panel
    "playback": ("Playback", "播放控制", "播放控制"),
    "tip_play": ("play / pause (Space)", "播放／暫停（空白鍵）", "播放/暂停（空格键）"),
    "tip_step_back": ("step back (←)", "退回一步（←）", "后退一步（←）"),
    "tip_step": ("one step (→)", "前進一步（→）", "前进一步（→）"),
    "tip_reset": ("reset to the start (R)", "回到起點重來（R）", "回到起点重来（R）"),
    "tip_timeline": ("scrub through the recorded steps", "拖曳以回看已記錄的每一步",
                     "拖动以回看已记录的每一步"),
    "help_speed": ("playback speed", "播放速度", "播放速度"),
    "label_max_steps": ("max steps", "最大步數", "最大步数"),
    "counter_step": ("step {t} / {n}", "第 {t} / {n} 步", "第 {t} / {n} 步"),
    # --- problem panel
    "problem": ("Problem", "問題", "问题"),
    "custom": ("Custom…", "自訂…", "自定义…"),
    "regression_data": ("Linear regression (data)", "線性迴歸（資料）", "线性回归（数据）"),
    "fit_data": ("Curve fit (data, model)", "曲線擬合（資料、模型）", "曲线拟合（数据、模型）"),
    "tip_regression": ("y = b + w·x on noisy points: the map is the loss L(w, b)",
                       "在帶雜訊的資料點上擬合 y = b + w·x：等高線圖是損失 L(w, b)",
                       "在带噪声的数据点上拟合 y = b + w·x：等高线图是损失 L(w, b)"),
    "tip_fit": ("fit a model (sum of sigmoids, ReLUs, ...) to noisy points: the map is the "
                "loss over two of its parameters",
                "用模型（sigmoid、ReLU 等單元之和）擬合帶雜訊的資料點：等高線圖是損失隨其中兩個參數的變化",
                "用模型（sigmoid、ReLU 等单元之和）拟合带噪声的数据点：等高线图是损失随其中两个参数的变化"),
    "expr_placeholder": ("f(x, y), e.g. x^2 + 10*y^2  ⏎", "f(x, y)，例如 x^2 + 10*y^2  ⏎",
                         "f(x, y)，例如 x^2 + 10*y^2  ⏎"),
    "cannot_use": ("cannot use '{text}'", "無法使用「{text}」", "无法使用“{text}”"),
    # --- optimizers (run cards)
    "optimizers": ("Optimizers", "優化器", "优化器"),
    "add_run": ("Add run ▾", "加入優化器 ▾", "添加优化器 ▾"),
    "tip_add_run": ("race another optimizer from the same start", "從同一起點加入另一個優化器一起比賽",
                    "从同一起点添加另一个优化器一起比赛"),
    "lr_all": ("lr (all)", "lr（全部）", "lr（全部）"),
    "tip_run_enabled": ("show / hide this run", "顯示／隱藏這條路徑", "显示/隐藏这条路径"),
    "step_by_step_pick": ("step-by-step", "逐步", "逐步"),
    "tip_run_select": ("show this run's arrows and numbers (step-by-step mode)",
                       "顯示這條路徑的箭頭與數值（逐步模式）", "显示这条路径的箭头与数值（逐步模式）"),
    "tip_dup": ("add a copy of this run with lr × {factor} (lesson L4)",
                "加入這條路徑的副本，lr × {factor}（課程 L4）", "添加这条路径的副本，lr × {factor}（课程 L4）"),
    "tip_remove_run": ("remove this run", "移除這條路徑", "移除这条路径"),
    "tip_more_hp": ("the other hyperparameters", "其他超參數", "其他超参数"),
    "tip_lr_shared": ("set by 'same learning rate for all'", "由「所有優化器用同一學習率」設定",
                      "由“所有优化器使用同一学习率”设置"),
    "dampening": ("dampening", "阻尼", "阻尼"),
    "lr_decay": ("lr decay", "lr 衰減", "lr 衰减"),
    "init_acc": ("init acc", "初始累積", "初始累积"),
    "help_lr": ("learning rate η", "學習率 η", "学习率 η"),
    "help_momentum": ("momentum μ: the share of the last move that is kept",
                      "動量 μ：保留上一步移動的比例", "动量 μ：保留上一步移动的比例"),
    "help_dampening": ("dampening τ: the share of the gradient left out of the momentum",
                       "阻尼 τ：梯度不計入動量的比例", "阻尼 τ：梯度不计入动量的比例"),
    "help_alpha": ("α: decay rate of the running average of g²", "α：g² 移動平均的衰減率",
                   "α：g² 移动平均的衰减率"),
    "help_beta1": ("β₁: decay rate of the first moment (momentum)", "β₁：一階動差（動量）的衰減率",
                   "β₁：一阶矩（动量）的衰减率"),
    "help_beta2": ("β₂: decay rate of the second moment", "β₂：二階動差的衰減率", "β₂：二阶矩的衰减率"),
    "help_eps": ("ε: keeps the division by √v away from zero", "ε：避免除以 √v 時分母為零",
                 "ε：避免除以 √v 时分母为零"),
    "help_weight_decay": ("weight decay λ (L2 penalty)", "權重衰減 λ（L2 懲罰）", "权重衰减 λ（L2 惩罚）"),
    "help_lr_decay": ("learning-rate decay per step", "每一步的學習率衰減", "每一步的学习率衰减"),
    "help_initial_accumulator_value": ("initial value of the running sum of g²", "g² 累加和的初始值",
                                       "g² 累加和的初始值"),
    # --- noise, batch, schedule
    "noise_and_batch": ("Noise and batch", "雜訊與批次", "噪声与批量"),
    "label_seed": ("seed", "亂數種子", "随机种子"),
    "label_schedule": ("schedule", "排程", "调度"),
    "lr_schedule": ("Learning-rate schedule", "學習率排程", "学习率调度"),
    "tip_noise": ("gradient noise std at batch size 1 (std/√batch)",
                  "批量大小為 1 時的梯度雜訊標準差（std/√批量）", "批量大小为 1 时的梯度噪声标准差（std/√批量）"),
    "tip_noise_data": ("gradient noise of the analytic surfaces; data problems get their noise "
                       "from real mini-batches", "解析曲面的梯度雜訊；資料問題的雜訊來自真正的小批次",
                       "解析曲面的梯度噪声；数据问题的噪声来自真实的小批量"),
    "sched_constant": ("Constant", "固定", "恒定"),
    "sched_step": ("Step", "階梯式", "阶梯式"),
    "sched_exponential": ("Exponential", "指數衰減", "指数衰减"),
    "sched_cosine": ("Cosine", "餘弦", "余弦"),
    "sched_one-cycle": ("One-cycle", "One-cycle（先升後降）", "One-cycle（先升后降）"),
    # --- data panel
    "data": ("Data", "資料", "数据"),
    "data_regression": ("Data: y = b + w·x + noise", "資料：y = b + w·x + 雜訊", "数据：y = b + w·x + 噪声"),
    "target_placeholder": ("custom f(x), e.g. sin(3*x) + x/2  ⏎", "自訂 f(x)，例如 sin(3*x) + x/2  ⏎",
                           "自定义 f(x)，例如 sin(3*x) + x/2  ⏎"),
    "custom_target": ("Custom f(x)…", "自訂 f(x)…", "自定义 f(x)…"),
    "target_quadratic": ("Quadratic (fast.ai)", "二次函數（fast.ai）", "二次函数（fast.ai）"),
    "target_piecewise": ("Piecewise linear (red curve)", "分段線性（紅色曲線）", "分段线性（红色曲线）"),
    "target_sine": ("Sine", "正弦", "正弦"),
    "target_step": ("Step", "階梯函數", "阶跃函数"),
    "target_abs": ("Absolute value", "絕對值", "绝对值"),
    "load_csv": ("Load CSV…", "載入 CSV…", "加载 CSV…"),
    "tip_load_csv": ("read two columns x, y from a text file (comma, semicolon, tab or spaces; "
                     "# comments; a header is fine)",
                     "從文字檔讀取 x、y 兩欄（以逗號、分號、Tab 或空白分隔；# 後為註解；可有標題列）",
                     "从文本文件读取 x、y 两列（以逗号、分号、Tab 或空格分隔；# 后为注释；可有标题行）"),
    "use_generated": ("Use generated data", "改用產生的資料", "改用生成的数据"),
    "tip_use_generated": ("forget the loaded points and sample the data again",
                          "捨棄載入的資料點，重新抽樣", "舍弃加载的数据点，重新采样"),
    "source_loaded": ("loaded: {name} ({n} points)", "已載入：{name}（{n} 點）",
                      "已加载：{name}（{n} 个点）"),
    "source_generated": ("generated: {n} noisy points", "已產生 {n} 個帶雜訊的資料點",
                         "已生成 {n} 个带噪声的数据点"),
    "a_file": ("file", "檔案", "文件"),
    "tip_loaded_fixed": ("the loaded points are used as they are", "載入的資料點照原樣使用",
                         "加载的数据点按原样使用"),
    "points_n": ("points N", "資料點數 N", "数据点数 N"),
    "validation_pct": ("validation %", "驗證資料 %", "验证集 %"),
    "tip_val_split": ("held-out points the model never trains on (lesson L9): drawn as diamonds",
                      "保留下來、模型從不拿來訓練的資料點（課程 L9）：畫成菱形",
                      "留出来、模型从不用于训练的数据点（课程 L9）：画成菱形"),
    "data_seed": ("data seed", "資料種子", "数据种子"),
    "tip_data_seed": ("the seed of the data's noise (and of the split and the start)",
                      "資料雜訊的亂數種子（也決定資料分割與起點）", "数据噪声的随机种子（也决定数据划分与起点）"),
    "tip_new_data": ("draw new noisy points (next seed)", "重新抽取帶雜訊的資料點（下一個種子）",
                     "重新抽取带噪声的数据点（下一个种子）"),
    "loss_mse": ("MSE (mean squared error)", "MSE（均方誤差）", "MSE（均方误差）"),
    "loss_mae": ("MAE (mean absolute error)", "MAE（平均絕對誤差）", "MAE（平均绝对误差）"),
    "show_batch_surface": ("Show the mini-batch's own surface", "顯示這個小批次自己的誤差曲面",
                           "显示当前小批量自身的误差曲面"),
    "tip_batch_surface": ("draw the loss of just the current mini-batch on the map as well (lesson L6)",
                          "在等高線圖上同時畫出目前這個小批次的損失（課程 L6）",
                          "在等高线图上同时画出当前小批量的损失（课程 L6）"),
    "model_title": ("Model", "模型", "模型"),
    "model_linear": ("Linear", "線性", "线性"),
    "model_quadratic": ("Quadratic", "二次", "二次"),
    "model_sigmoid": ("Sigmoid units", "Sigmoid 單元", "Sigmoid 单元"),
    "model_hard-sigmoid": ("Hard-sigmoid units", "Hard sigmoid 單元", "Hard sigmoid 单元"),
    "model_relu": ("ReLU units", "ReLU 單元", "ReLU 单元"),
    "units_k": ("units K", "單元數 K", "单元数 K"),
    "tip_units": ("how many units the model sums: more units, a more flexible curve (lesson L8)",
                  "模型加總的單元數：單元越多，曲線越有彈性（課程 L8）", "模型求和的单元数：单元越多，曲线越灵活（课程 L8）"),
    "show_units_blue": ("Show each unit (blue functions)", "顯示每個單元（藍色函數）",
                        "显示每个单元（蓝色函数）"),
    "tip_show_units": ("draw each unit's own curve cᵢ·h(bᵢ + wᵢ·x) and the constant c0 (lesson L7)",
                       "畫出每個單元自己的曲線 cᵢ·h(bᵢ + wᵢ·x) 與常數 c0（課程 L7）",
                       "画出每个单元自己的曲线 cᵢ·h(bᵢ + wᵢ·x) 与常数 c0（课程 L7）"),
    "wd_title": ("Weight decay (L2), set on every run:", "權重衰減（L2），套用到所有優化器：",
                 "权重衰减（L2），应用到所有优化器："),
    "tip_wd": ("the L2 penalty of every run's optimizer; it pulls the weights toward 0 and tames "
               "overfitting (lesson L13)", "每個優化器的 L2 懲罰：把權重拉向 0，減輕過度擬合（課程 L13）",
               "每个优化器的 L2 惩罚：把权重拉向 0，减轻过拟合（课程 L13）"),
    "tip_wd_differ": (". Now the runs differ: {values}", "。目前各優化器不同：{values}",
                      "。目前各优化器不同：{values}"),
    "map_shows": ("map shows", "等高線圖", "等高线图"),
    "vs": ("vs", "對", "对"),
    "tip_map_x": ("the parameter along the map's horizontal axis", "等高線圖橫軸的參數",
                  "等高线图横轴的参数"),
    "tip_map_y": ("the parameter along the map's vertical axis", "等高線圖縱軸的參數",
                  "等高线图纵轴的参数"),
    "loss_now": ("Loss now", "目前的損失", "当前的损失"),
    "too_many_params": ("{n} parameters: too many to set by hand. Pick a model with at most {m} "
                        "(linear, quadratic, or K = 1).",
                        "{n} 個參數：太多了，無法手動設定。請選參數不超過 {m} 個的模型（線性、二次，或 K = 1）。",
                        "{n} 个参数：太多了，无法手动设置。请选择参数不超过 {m} 个的模型（线性、二次，或 K = 1）。"),
    "loss_caption": ("training loss ({loss})", "訓練損失（{loss}）", "训练损失（{loss}）"),
    "loss_caption_of": ("training loss ({loss}), {run}", "訓練損失（{loss}），{run}",
                        "训练损失（{loss}），{run}"),
    "val_loss_value": ("validation loss: {v}", "驗證損失：{v}", "验证损失：{v}"),
    "tip_hand": ("{help}. Drag: every run restarts from here (paused)",
                 "{help}。拖曳：所有優化器從這裡重新開始（暫停）", "{help}。拖动：所有优化器从这里重新开始（暂停）"),
    "param_help": ("{name}: {help}", "{name}：{help}", "{name}：{help}"),
    "param_slope": ("slope", "斜率", "斜率"),
    "param_intercept": ("intercept (height at x = 0)", "截距（x = 0 時的高度）", "截距（x = 0 时的高度）"),
    "param_x2": ("x² coefficient", "x² 的係數", "x² 的系数"),
    "param_constant": ("constant", "常數", "常数"),
    "param_c0": ("the constant the units are added to", "各單元相加時的常數項", "各单元相加时的常数项"),
    "param_unit_slope": ("unit {k}'s slope", "第 {k} 個單元的斜率", "第 {k} 个单元的斜率"),
    "param_unit_shift": ("unit {k}'s shift", "第 {k} 個單元的位移", "第 {k} 个单元的位移"),
    "param_unit_height": ("unit {k}'s height", "第 {k} 個單元的高度", "第 {k} 个单元的高度"),
    "pick_data_first": ("pick a data problem first (linear regression or curve fit)",
                        "請先選一個資料問題（線性迴歸或曲線擬合）", "请先选择一个数据问题（线性回归或曲线拟合）"),
    "csv_dialog_title": ("Load data points (x, y)", "載入資料點 (x, y)", "加载数据点 (x, y)"),
    "csv_filter": ("Data files (*.csv *.txt *.tsv *.dat);;All files (*)",
                   "資料檔 (*.csv *.txt *.tsv *.dat);;所有檔案 (*)",
                   "数据文件 (*.csv *.txt *.tsv *.dat);;所有文件 (*)"),
    # --- curve-fit panel
    "fit_hint": ("Pick a data problem to see the fit", "選一個資料問題來看擬合", "选择一个数据问题来查看拟合"),
    "legend_training": ("training ({n})", "訓練（{n}）", "训练（{n}）"),
    "legend_training_points": ("training points ({n})", "訓練資料點（{n}）", "训练数据点（{n}）"),
    "legend_data_points": ("data points ({n})", "資料點（{n}）", "数据点（{n}）"),
    "legend_validation": ("validation ({n})", "驗證（{n}）", "验证（{n}）"),
    "legend_validation_points": ("validation points ({n})", "驗證資料點（{n}）", "验证数据点（{n}）"),
    "legend_target_no_noise": ("target (no noise)", "目標函數（無雜訊）", "目标函数（无噪声）"),
    "legend_mini_batch": ("mini-batch ({b})", "小批次（{b}）", "小批量（{b}）"),
    "legend_diverged": ("✕ diverged", "✕ 發散", "✕ 发散"),
    "legend_each_unit": ("each unit", "每個單元", "每个单元"),
    "legend_units_of": ("units of {run}", "{run} 的各單元", "{run} 的各单元"),
    "legend_c0": ("constant c0", "常數 c0", "常数 c0"),
    "n_parameters": ("{n} parameters", "{n} 個參數", "{n} 个参数"),
    "data_source": ("data: {source}", "資料：{source}", "数据：{source}"),
    # --- loss plot
    "axis_step": ("step", "步數", "步数"),
    "axis_iteration": ("iteration", "迭代次數", "迭代次数"),
    "line_step": ("step {value:.0f}", "第 {value:.0f} 步", "第 {value:.0f} 步"),
    "line_iteration": ("iteration {value:.0f}", "第 {value:.0f} 次迭代", "第 {value:.0f} 次迭代"),
    # --- the map
    "arrow_gradient": ("−gradient", "−梯度", "−梯度"),
    "arrow_momentum": ("momentum / 1st moment", "動量／一階動差", "动量/一阶矩"),
    "arrow_update": ("update Δ", "更新量 Δ", "更新量 Δ"),
    "log_loss": ("log₁₀ loss", "log₁₀ 損失", "log₁₀ 损失"),
    "log_loss_above_min": ("log₁₀ (loss − min)", "log₁₀（損失 − 最小值）", "log₁₀（损失 − 最小值）"),
    "show_heatmap": ("Show heatmap", "顯示熱圖", "显示热图"),
    "view_whole_surface": ("View whole surface", "檢視整個曲面", "查看整个曲面"),
    "tip_start": ("start: drag to move", "起點：拖曳可移動", "起点：拖动可移动"),
    "map_title_slice": ("{loss} over ({a}, {b})", "({a}, {b}) 平面上的 {loss}", "({a}, {b}) 平面上的 {loss}"),
    "map_title_regression": ("L(w, b) = {loss} of y = b + w·x", "L(w, b) = y = b + w·x 的 {loss}",
                             "L(w, b) = y = b + w·x 的 {loss}"),
    # --- step-by-step
    "title_step_by_step": ("Step-by-step", "逐步模式", "逐步模式"),
    "title_step": ("step {t}", "第 {t} 步", "第 {t} 步"),
    "hint_pick_run": ("Pick a run for step-by-step mode.\n→ takes one step, ← goes back.",
                      "選一條路徑進入逐步模式。\n→ 前進一步，← 退回一步。",
                      "选一条路径进入逐步模式。\n→ 前进一步，← 后退一步。"),
    "hint_step0": ("Step 0: no update yet.\n→ takes one step, ← goes back.",
                   "第 0 步：還沒有更新。\n→ 前進一步，← 退回一步。",
                   "第 0 步：还没有更新。\n→ 前进一步，← 后退一步。"),
    "hint_run_diverged": ("This run diverged at step {step}.", "這條路徑在第 {step} 步發散。",
                          "这条路径在第 {step} 步发散。"),
    "rule_of_params": ("  ({a} and {b} of the {n} parameters)", "  （{n} 個參數中的 {a} 與 {b}）",
                       "  （{n} 个参数中的 {a} 与 {b}）"),
    "row_theta0": ("parameters before this step", "這一步之前的參數", "这一步之前的参数"),
    "row_g": ("gradient ∂L/∂θ used in this step (with its noise)", "這一步所用的梯度 ∂L/∂θ（含雜訊）",
              "这一步所用的梯度 ∂L/∂θ（含噪声）"),
    "row_m": ("momentum buffer / first moment (running average of g)",
              "動量緩衝／一階動差（g 的移動平均）", "动量缓冲/一阶矩（g 的移动平均）"),
    "row_v": ("second moment (running average of g²)", "二階動差（g² 的移動平均）", "二阶矩（g² 的移动平均）"),
    "row_step_size": ("effective step size per coordinate", "每個座標的實際步長", "每个坐标的实际步长"),
    "row_delta": ("the update actually applied: θ_new − θ", "實際套用的更新量：θ_new − θ",
                  "实际应用的更新量：θ_new − θ"),
    "row_theta1": ("parameters after this step", "這一步之後的參數", "这一步之后的参数"),
    # --- for the main window (not wired there yet: see its _retranslate)
    "dock_controls": ("Controls", "控制面板", "控制面板"),
    "dock_loss": ("Loss", "損失", "损失"),
    "dock_step": ("Step by step", "逐步模式", "逐步模式"),
    "zoom_reset": ("Normal text size", "標準字體大小", "标准字体大小"),
    "status_diverged": ("diverged: {names}", "發散：{names}", "发散：{names}"),
    "status_diverged_run": ("{run} ✕ step {step}", "{run} ✕ 第 {step} 步", "{run} ✕ 第 {step} 步"),
    "flash_max_steps": ("Reached max steps ({n}): R restarts, or raise max steps.",
                        "已到最大步數（{n}）：按 R 重來，或調高最大步數。",
                        "已到最大步数（{n}）：按 R 重来，或调高最大步数。"),
    "flash_all_diverged": ("Every run has diverged: R restarts.", "所有路徑都發散了：按 R 重來。",
                           "所有路径都发散了：按 R 重来。"),
    # --- nothing lost: the autosave's offer after a crash, and the unsaved-changes question
    "recover_offer": ("gdviz did not close normally. Restore the demo autosaved at {time}?",
                      "gdviz 上次沒有正常關閉。要還原 {time} 自動儲存的示範嗎？",
                      "gdviz 上次没有正常关闭。要还原 {time} 自动保存的演示吗？"),
    "recover_restore": ("Restore", "還原", "还原"),
    "recover_discard": ("Discard", "捨棄", "丢弃"),
    "autosave_failed": ("Autosave failed: {error}", "自動儲存失敗：{error}", "自动保存失败：{error}"),
    "unsaved_title": ("Unsaved changes", "尚未儲存的變更", "尚未保存的更改"),
    "unsaved_text": ("This demo has changes that are not saved in a scene file. Save them first?",
                     "這個示範有尚未存成場景檔的變更。要先儲存嗎？",
                     "这个演示有尚未存为场景文件的更改。要先保存吗？"),
    "unsaved_save": ("Save…", "儲存…", "保存…"),
    "unsaved_discard": ("Discard changes", "捨棄變更", "丢弃更改"),
    "unsaved_cancel": ("Cancel", "取消", "取消"),
    # --- caption strip
    "caption_more": ("more ▼", "展開 ▼", "展开 ▼"),
    "caption_less": ("less ▲", "收起 ▲", "收起 ▲"),
    "tip_caption_unfold": ("show the whole caption", "顯示完整說明", "显示完整说明"),
    "tip_caption_fold": ("fold the caption", "收起說明", "收起说明"),
    # --- the export dialog
    "export_title": ("Export animation", "匯出動畫", "导出动画"),
    "export_format": ("Format", "格式", "格式"),
    "export_file": ("File", "檔案", "文件"),
    "export_browse": ("Browse…", "瀏覽…", "浏览…"),
    "export_fps": ("Frames per second", "每秒影格數", "每秒帧数"),
    "export_size": ("Size", "尺寸", "尺寸"),
    "export_steps": ("Steps", "步數", "步数"),
    "export_spf": ("Steps per frame", "每格步數", "每帧步数"),
    "export_panels": ("Panels", "面板", "面板"),
    "export_button": ("Export", "匯出", "导出"),
    "export_close": ("Close", "關閉", "关闭"),
    "export_cancel": ("Cancel", "取消", "取消"),
    "export_running": ("Exporting…", "匯出中…", "导出中…"),
    "export_saved": ("Saved {path}", "已儲存 {path}", "已保存 {path}"),
    "export_cancelled": ("Export cancelled; nothing was written.", "已取消匯出，未寫入任何檔案。",
                         "已取消导出，未写入任何文件。"),
    "export_failed": ("Export failed: {error}", "匯出失敗：{error}", "导出失败：{error}"),
    "export_look": ("The clip is drawn as the window draws it, in its theme and language.",
                    "影片與視窗畫面相同，使用目前的主題與語言。", "视频与窗口画面相同，使用当前的主题与语言。"),
    "fmt_mp4": ("MP4 video (H.264)", "MP4 影片（H.264）", "MP4 视频（H.264）"),
    "fmt_gif": ("GIF animation", "GIF 動畫", "GIF 动画"),
    "fmt_png": ("PNG (one frame)", "PNG（單一畫面）", "PNG（单帧）"),
    "fmt_csv": ("Trajectories (CSV)", "軌跡（CSV）", "轨迹（CSV）"),
    "panel_caption": ("Caption", "說明文字", "说明文字"),
    "panel_landscape": ("Map", "地圖", "地图"),
    "panel_fit": ("Fit panel", "擬合面板", "拟合面板"),
    "panel_loss": ("Loss plot", "損失曲線", "损失曲线"),
    "panel_step": ("Step by step", "逐步說明", "逐步说明"),
    "panel_schedule": ("Schedule", "學習率排程", "学习率调度"),
    # --- keys: the keyboard, the shortcut sheet, the problem box, fit by hand
    "key_space": ("Space", "空白鍵", "空格键"),
    "key_play_pause": ("Play / pause", "播放／暫停", "播放/暂停"),
    "key_sheet": ("Keyboard shortcuts", "鍵盤快速鍵", "键盘快捷键"),
    "close": ("Close", "關閉", "关闭"),
    "caption_lesson_left": ("{title}  (left: the problem is your own now)",
                            "{title}（已離開本課：現在是你自己的問題）",
                            "{title}（已离开本课：现在是你自己的问题）"),
    "expr_placeholder_surface": ("now {formula}: type your own f(x, y) ⏎",
                                 "目前是 {formula}：輸入你自己的 f(x, y) ⏎",
                                 "当前是 {formula}：输入你自己的 f(x, y) ⏎"),
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


def tr(key: str, lang: str | None = None, *, default: str | None = None, **fmt: object) -> str:
    """The UI text for ``key`` in ``lang`` (default: :func:`current_language`).

    Unknown languages fall back to English; an unknown key is returned as is (or
    ``default``, as given, when one is passed: a registry's own English label for an
    entry the table does not know yet), so a missing translation shows up rather than
    crashing the UI. ``fmt`` fills ``{placeholders}`` (``tr("diverged_at", "en", step=12)``);
    without ``fmt`` the text comes back unformatted (e.g. a pattern for pyqtgraph).
    """
    if lang is None:
        lang = current_language()
    if default is not None and key not in TERMS["en"]:
        return default
    table = TERMS.get(lang) or TERMS.get(normalize_language(lang) or "", TERMS["en"])
    text = table.get(key, TERMS["en"].get(key, key))
    return text.format(**fmt) if fmt else text
