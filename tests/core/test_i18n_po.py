"""The translation files: each parses, the three hold the same keys with the same
placeholders and the current English, the Chinese ones are complete; and the .po reader
is strict, naming the file and the line of a slip."""

from __future__ import annotations

import re
import string

import pytest

from gdviz.core import i18n
from gdviz.core.i18n import LANGUAGES, PO_FILES, PoError, read_po, translations_dir

HEADERS = {"en": "en", "zh-Hant": "zh_TW", "zh-Hans": "zh_CN"}


def _entries(lang: str) -> list[i18n.PoEntry]:
    return read_po(translations_dir() / PO_FILES[lang])


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_file_parses_with_its_header(lang):
    entries = _entries(lang)
    header = entries[0]
    assert header.context is None and header.msgid == ""
    fields = dict(line.split(": ", 1) for line in header.msgstr.splitlines())
    assert fields["Language"] == HEADERS[lang]
    assert fields["Content-Type"] == "text/plain; charset=UTF-8"
    assert all(e.context for e in entries[1:])  # every text has its key
    assert not [e.context for e in entries if e.fuzzy]  # nothing left to review


def test_the_same_keys_in_every_language_in_the_same_order():
    keys = {lang: [e.context for e in _entries(lang)[1:]] for lang in LANGUAGES}
    assert keys["en"] == keys["zh-Hant"] == keys["zh-Hans"]
    assert len(keys["en"]) == len(set(keys["en"])) > 250
    assert list(i18n.TERMS["en"]) == keys["en"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_key_twice_in_the_raw_file(lang):
    """Counted on the text, not through the reader that refuses them."""
    text = (translations_dir() / PO_FILES[lang]).read_text(encoding="utf-8")
    keys = re.findall(r'^msgctxt "(.*)"$', text, flags=re.MULTILINE)
    assert len(keys) == len(set(keys)) == len(i18n.TERMS["en"])


@pytest.mark.parametrize("lang", ["zh-Hant", "zh-Hans"])
def test_translations_are_complete_and_of_the_current_english(lang):
    english = {e.context: e.msgid for e in _entries("en")[1:]}
    for e in _entries(lang)[1:]:
        assert e.msgstr.strip(), f"{PO_FILES[lang]}:{e.line}: empty msgstr for {e.context!r}"
        assert e.msgid == english[e.context], f"{PO_FILES[lang]}:{e.line}: old English"


def test_english_msgstr_repeats_the_msgid():
    assert all(e.msgstr == e.msgid for e in _entries("en")[1:])


@pytest.mark.parametrize("lang", ["zh-Hant", "zh-Hans"])
def test_the_same_placeholders_as_english(lang):
    for e in _entries(lang)[1:]:
        assert _fields(e.msgstr) == _fields(e.msgid), f"{PO_FILES[lang]}:{e.line}: {e.context}"
        # msgfmt --check compares placeholders only where the flag says so
        assert ("python-brace-format" in e.flags) == bool(_fields(e.msgid)), e.context


# ------------------------------------------------------------------------- the reader
GOOD = r'''# a translator's comment
msgid ""
msgstr ""
"Language: zh_TW\n"
"Content-Type: text/plain; charset=UTF-8\n"

#. --- a section
#: gdviz/ui/somewhere.py:12
msgctxt "hint"
msgid ""
"Pick a run.\n"
"→ takes one step"
msgstr ""
"選一條路徑。\n"
"→ 前進一步"

#, fuzzy, python-brace-format
msgctxt "guess"
msgid "step {t}"
msgstr "第 {t} 步"

msgctxt "escapes"
msgid "say \"hi\"\tC:\\x"
msgstr "說「hi」\tC:\\x"
#~ msgctxt "obsolete"
#~ msgid "gone"
#~ msgstr "沒了"
'''


def test_the_reader_reads_comments_continuations_escapes_and_flags(tmp_path):
    p = tmp_path / "ok.po"
    p.write_text(GOOD, encoding="utf-8")
    header, hint, guess, esc = read_po(p)
    assert header.context is None and "Language: zh_TW\n" in header.msgstr
    assert (hint.context, hint.msgid, hint.msgstr) == (
        "hint", "Pick a run.\n→ takes one step", "選一條路徑。\n→ 前進一步")
    assert hint.line == 9 and not hint.fuzzy
    assert guess.fuzzy and "python-brace-format" in guess.flags
    assert (esc.msgid, esc.msgstr) == ('say "hi"\tC:\\x', "說「hi」\tC:\\x")


@pytest.mark.parametrize(("text", "line", "message"), [
    ('msgctxt "a"\nmsgid "x"\nmsgstr "y\n', 3, "quoted string"),
    ('msgctxt "a"\nmsgid "x"\nmsgstr "bad \\q"\n', 3, r"unknown escape \\q"),
    ('msgctxt "a"\nmsgid "x"\nmsgstr "y"\n\nmsgctxt "a"\nmsgid "z"\nmsgstr "w"\n', 5,
     "'a' again .first at line 1"),
    ('msgctxt "a"\nmsgid "x"\nmsgid_plural "xs"\nmsgstr[0] "y"\n', 3, "plural forms"),
    ('msgctxt "a"\nmsgstr "y"\n', 2, "msgstr without msgid"),
    ('msgctxt "a"\nmsgid "x"\n\n', 1, "entry without msgstr"),
    ('msgid "x"\nmsgctxt "a"\nmsgstr "y"\n', 2, "msgctxt out of place"),
    ('msgctxt "a"\nmsgid "x"\nmsgstr "y"\nhello\n', 4, "expected msgctxt"),
    ('\n"orphan"\n', 2, "belongs to no msgid"),
])
def test_a_malformed_file_names_its_file_and_line(tmp_path, text, line, message):
    p = tmp_path / "zh_Hant.po"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(PoError, match=rf"^{re.escape(str(p))}:{line}: .*{message}"):
        read_po(p)


def test_windows_line_ends_and_a_bom_are_read(tmp_path):
    p = tmp_path / "zh_Hant.po"
    p.write_bytes(GOOD.replace("\n", "\r\n").encode("utf-8-sig"))
    assert [e.context for e in read_po(p)] == [None, "hint", "guess", "escapes"]
    assert read_po(p)[1].msgstr == "選一條路徑。\n→ 前進一步"


def test_a_file_not_in_utf8_names_its_line(tmp_path):
    p = tmp_path / "zh_Hant.po"
    p.write_bytes('msgctxt "a"\nmsgid "x"\nmsgstr "學習率"\n'.encode("big5"))
    with pytest.raises(PoError, match=rf"^{re.escape(str(p))}:3: not UTF-8"):
        read_po(p)


def _write(directory, lang: str, body: str) -> None:
    head = 'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
    (directory / PO_FILES[lang]).write_text(head + body, encoding="utf-8")


def test_fuzzy_empty_and_missing_translations_show_the_english(tmp_path):
    en = "".join(f'msgctxt "{k}"\nmsgid "{k} en"\nmsgstr "{k} en"\n\n' for k in "abcd")
    _write(tmp_path, "en", en)
    _write(tmp_path, "zh-Hant", 'msgctxt "a"\nmsgid "a en"\nmsgstr "甲"\n\n'
                                '#, fuzzy\nmsgctxt "b"\nmsgid "b en"\nmsgstr "乙"\n\n'
                                'msgctxt "c"\nmsgid "c en"\nmsgstr ""\n')
    _write(tmp_path, "zh-Hans", "")
    terms = i18n._load(tmp_path)
    assert terms["zh-Hant"] == {"a": "甲", "b": "b en", "c": "c en", "d": "d en"}
    assert terms["zh-Hans"] == terms["en"]


def test_a_key_english_does_not_know_is_an_error(tmp_path):
    _write(tmp_path, "en", 'msgctxt "a"\nmsgid "x"\nmsgstr "x"\n')
    _write(tmp_path, "zh-Hant", 'msgctxt "a"\nmsgid "x"\nmsgstr "甲"\n\n'
                                'msgctxt "typo"\nmsgid "x"\nmsgstr "乙"\n')
    _write(tmp_path, "zh-Hans", "")
    with pytest.raises(PoError, match=r"zh_Hant.po:8: key 'typo' is not in en.po"):
        i18n._load(tmp_path)
