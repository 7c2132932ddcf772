"""UI-language detection and the shared vocabulary (gdviz.core.i18n)."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize("tag, lang", [
    ("zh_TW.UTF-8", "zh-Hant"), ("zh_HK", "zh-Hant"), ("zh_MO.utf8", "zh-Hant"),
    ("zh-Hant-HK", "zh-Hant"), ("zh_CN.UTF-8", "zh-Hans"), ("zh_SG", "zh-Hans"),
    ("zh-Hans", "zh-Hans"), ("zh", "zh-Hans"), ("en_US.UTF-8", "en"), ("en_GB", "en"),
    ("fr_FR.UTF-8", "en"), ("C", "en"), ("POSIX", "en"), ("C.UTF-8", "en"),
    ("Chinese (Traditional)_Taiwan", "zh-Hant"), ("Chinese (Simplified)_China", "zh-Hans"),
    ("English_United States", "en"), ("", None), (None, None),
])
def test_normalize_language(tag, lang):
    from gdviz.core.i18n import normalize_language

    assert normalize_language(tag) == lang


@pytest.mark.parametrize("env, lang", [
    ({"LANG": "zh_TW.UTF-8"}, "zh-Hant"),
    ({"LANG": "zh_CN.UTF-8"}, "zh-Hans"),
    ({"LANG": "de_DE.UTF-8"}, "en"),
    ({"LC_ALL": "zh_HK.UTF-8", "LANG": "en_US.UTF-8"}, "zh-Hant"),
    ({"LANGUAGE": "zh_CN:en", "LANG": "zh_TW.UTF-8"}, "zh-Hans"),
    ({"GDVIZ_LANG": "zh-Hant", "LANG": "zh_CN.UTF-8"}, "zh-Hant"),
    ({}, "en"),
])
def test_detect_language_from_environment(env, lang):
    from gdviz.core.i18n import detect_language

    assert detect_language(env, use_locale=False) == lang


def test_detect_language_falls_back_to_locale(monkeypatch):
    import locale

    from gdviz.core import i18n

    monkeypatch.setattr(locale, "getlocale", lambda *a: ("zh_TW", "UTF-8"))
    assert i18n.detect_language({}) == "zh-Hant"
    monkeypatch.setattr(locale, "getlocale", lambda *a: (None, None))
    assert i18n.detect_language({}) == "en"


def test_tr_vocabulary():
    from gdviz.core.i18n import LANGUAGES, TERMS, tr

    vocab = ["loss", "learning_rate", "batch_size", "iteration", "epoch", "gradient",
             "momentum", "parameter", "training_set", "validation_set", "overfitting"]
    for key in vocab:
        for lang in LANGUAGES:
            assert tr(key, lang), (key, lang)
    assert tr("learning_rate", "zh-Hant") == "學習率"
    assert tr("learning_rate", "zh-Hans") == "学习率"
    assert tr("overfitting", "zh-Hant") == "過度擬合"
    assert tr("overfitting", "zh-Hans") == "过拟合"
    assert tr("gradient", "en") == "gradient"
    assert tr("loss", "zh_TW") == "損失"          # locale names are understood
    assert tr("loss", "fr") == "loss"            # unknown language: English
    assert tr("no_such_key", "zh-Hant") == "no_such_key"
    assert tr("diverged_at", "en", step=12) == "diverged at step 12"
    assert tr("diverged_at", "zh-Hans", step=12) == "第 12 步发散"
    assert set(TERMS["en"]) == set(TERMS["zh-Hant"]) == set(TERMS["zh-Hans"])
    # Simplified and Traditional differ where the scripts do
    assert re.search("[損學參驗]", "".join(TERMS["zh-Hans"].values())) is None
