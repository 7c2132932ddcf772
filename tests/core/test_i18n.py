"""The UI vocabulary table: complete in all three languages, each Chinese column in its
own script, the same placeholders everywhere, and every registry entry the UI lists."""

from __future__ import annotations

import re
import string

import pytest

from gdviz.core.i18n import LANGUAGES, TERMS, tr

#: key: (English, Traditional Chinese, Simplified Chinese), as tr() sees them
ROWS = {key: tuple(TERMS[lang][key] for lang in LANGUAGES) for key in TERMS["en"]}

# Characters that exist in one script only (their counterpart is in the other set), taken
# from the words the table uses; characters that are valid in both scripts with another
# meaning (后/後, 里/裡, 系/係, 回/迴, 注/註, 余/餘, 于/於, ...) are left out.
TRADITIONAL_ONLY = set(
    "亂來係個優儲內兩則劃動匯參問啟單圖學實對導帶幫彈後徑從恆應懲捨採損擇據擬數斂時暫條棄"
    "標樣機橫檔檢欄權歸決沒淺減準為無熱爲產畫當發確種積紅結絕線編緩練縮縱總罰義習聲與藍號"
    "螢衝裏裡規視訂計訊訓記設註語誤說課調請證譯讀變資賽躍軸載輕輪這進運過達選還釋錄錯鍵長"
    "開階際隨隱雜靈項頭題顯餘驗體點隨層們會寫網絡讓")
SIMPLIFIED_ONLY = set(
    "与两个为义习乱产从优体储决准减划则动单参发变号启图声头学实对导带帮应开弃弹归当录径总"
    "惩拟择损据敛数无时显暂机杂权条来标栏样档检横汇没浅灵点热画确种积红纵线练结绝缓编缩罚"
    "萤蓝规视计订训讯记设证译语误说请读课调资赛跃轮轴轻载达过运还这进选释错键长问阶际随隐"
    "项题验层们会写网络让")

HANT = LANGUAGES.index("zh-Hant")
HANS = LANGUAGES.index("zh-Hans")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_script_sets_do_not_overlap():
    assert not TRADITIONAL_ONLY & SIMPLIFIED_ONLY


@pytest.mark.parametrize("key", list(ROWS))
def test_every_key_has_three_texts_in_their_own_scripts(key):
    row = ROWS[key]
    assert len(row) == len(LANGUAGES) and all(isinstance(t, str) and t.strip() for t in row), key
    assert not set(row[HANT]) & SIMPLIFIED_ONLY, (key, sorted(set(row[HANT]) & SIMPLIFIED_ONLY))
    assert not set(row[HANS]) & TRADITIONAL_ONLY, (key, sorted(set(row[HANS]) & TRADITIONAL_ONLY))
    # the English column is English
    assert not re.search(r"[\u3400-\u9fff]", row[0]), key


@pytest.mark.parametrize("key", list(ROWS))
def test_every_translation_has_the_same_placeholders(key):
    en, hant, hans = ROWS[key]
    assert _fields(hant) == _fields(en) == _fields(hans), key


def test_the_checks_catch_the_wrong_script():
    # the sets do tell the scripts apart: the table's own words in the other script fail
    assert set(tr("learning_rate", "zh-Hans")) & SIMPLIFIED_ONLY
    assert set(tr("learning_rate", "zh-Hant")) & TRADITIONAL_ONLY
    assert set(tr("validation_set", "zh-Hant")) & TRADITIONAL_ONLY


def test_registry_entries_shown_in_combos_have_keys():
    from gdviz.core.data import TARGETS
    from gdviz.core.models import MODELS
    from gdviz.core.schedules import SCHEDULES

    for prefix, registry in (("target", TARGETS), ("model", MODELS), ("sched", SCHEDULES)):
        for name, spec in registry.items():
            key = f"{prefix}_{name}"
            assert key in TERMS["en"], key
            assert tr(key, "en") == spec.label  # English stays the registry's own label
            assert tr(key, "zh-Hant") != spec.label or not re.search("[a-z]{3}", spec.label)


def test_tr_default_is_for_unknown_keys_only():
    assert tr("model_linear", "zh-Hant", default="Linear") == "線性"
    assert tr("model_no_such", "zh-Hant", default="Mine") == "Mine"
    assert tr("line_step", "zh-Hans") == "第 {value:.0f} 步"  # no fmt: a pattern, unformatted


def test_lesson_run_labels_are_translated():
    """A legend in Chinese said "Gradient descent · start 2": the shipped lessons' run labels
    go through the translation table (their words; optimizer names and maths stay)."""
    import re

    from gdviz.core.i18n import TERMS, tr_label
    from gdviz.core.scene import apply_scene, load_scene, preset_paths
    from gdviz.core.session import Session

    names = r"\b(SGD|Adam|Momentum|RMSProp|lr|one-cycle)\b"
    for path in preset_paths():
        s = Session()
        apply_scene(load_scene(path), s)
        for spec in s.specs:
            if not re.search(r"[A-Za-z]{2,}", re.sub(names, "", spec.label)):
                continue  # names and maths only
            for lang in ("zh-Hant", "zh-Hans"):
                assert "run_label|" + spec.label in TERMS[lang], (path.stem, spec.label, lang)
                assert tr_label(spec.label, lang) != spec.label
    assert tr_label("my own run", "zh-Hant") == "my own run"  # the user's own, as typed


def test_several_starts_are_named_in_the_language():
    from gdviz.core import i18n
    from gdviz.core.scene import apply_scene, load_scene, preset_paths
    from gdviz.core.session import Session

    before = i18n.current_language()
    try:
        i18n.set_language("zh-Hans")
        s = Session()
        apply_scene(load_scene(next(p for p in preset_paths() if p.stem.startswith("L05"))), s)
        assert s.run_label(1) == "梯度下降 · 起点 2"
    finally:
        i18n.set_language(before)
