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

The texts live in gettext files, one per language, in ``resources/translations/``
(``en.po``, ``zh_Hant.po``, ``zh_Hans.po``), read once at import by :func:`read_po`. Each
entry is::

    #, python-brace-format
    msgctxt "diverged_at"                 <- the key the code passes to tr()
    msgid "diverged at step {step}"       <- the English (en.po repeats it as msgstr)
    msgstr "第 {step} 步發散"              <- the translation

To review or change a translation, open the file in Poedit (or any text editor), edit
msgstr only, keep every ``{placeholder}`` as it is, and check the file with
``msgfmt --check -o /dev/null resources/translations/zh_Hant.po`` (it compares the
placeholders of python-brace-format entries with the English) and
``pytest tests/core/test_i18n_po.py``. An empty or ``#, fuzzy`` msgstr shows the English.
A new text gets a key: add its entry to all three files (the tests insist), then call
``tr("the_key")`` in the code. A file that does not parse stops gdviz at start with a
:class:`PoError` naming the file and the line.
"""

from __future__ import annotations

import locale
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "LANGUAGE_NAMES", "PO_FILES", "TERMS", "PoEntry",
           "PoError", "Said", "current_language", "detect_language", "normalize_language", "read_po",
           "set_language", "tr", "translations_dir"]

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


#: each language's file in resources/translations/
PO_FILES: dict[str, str] = {"en": "en.po", "zh-Hant": "zh_Hant.po", "zh-Hans": "zh_Hans.po"}

_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
_KEYWORD = re.compile(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(.*)")
_ORDER = ("msgctxt", "msgid", "msgstr")


class PoError(ValueError):
    """A translation file that cannot be read; the message starts with ``file:line:``."""


@dataclass(frozen=True)
class PoEntry:
    """One entry of a .po file: ``context`` is the :func:`tr` key (None in the header)."""

    context: str | None
    msgid: str
    msgstr: str
    flags: frozenset[str]
    line: int  # where it starts (its msgctxt, or its msgid)

    @property
    def fuzzy(self) -> bool:
        """A translation a tool guessed and nobody checked yet: gdviz shows the English."""
        return "fuzzy" in self.flags


def _unquote(text: str, where: str) -> str:
    m = _STRING.fullmatch(text.strip())
    if m is None:
        raise PoError(f'{where}: expected one "quoted string", got {text.strip()!r}')
    out, body, i = [], m.group(1), 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            esc = body[i + 1]
            if esc not in _ESCAPES:
                raise PoError(f"{where}: unknown escape \\{esc} (use \\\" \\\\ \\n or \\t)")
            out.append(_ESCAPES[esc])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def read_po(path: str | os.PathLike[str]) -> list[PoEntry]:
    """Every entry of the gettext file ``path``, header first, in file order.

    Strict, so that a translator's slip fails loudly with the file and line rather than
    showing English or a broken text: UTF-8 only (CRLF line ends and a BOM are fine); ``#``
    comments and obsolete ``#~`` entries are skipped; strings may continue on the following
    lines and know the escapes ``\\" \\\\ \\n \\t``; plural forms, a context given twice and
    an entry without msgid or msgstr are errors. ``#, fuzzy`` entries are returned with their
    flag (:func:`tr` skips them).
    """
    name = os.fspath(path)
    raw = Path(name).read_bytes()
    try:
        text = raw.decode("utf-8-sig")  # a BOM (Windows editors add one) is no text
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise PoError(f"{name}:{line}: not UTF-8 (save the file as UTF-8)") from None
    entries: list[PoEntry] = []
    seen: dict[str | None, int] = {}
    fields: dict[str, str] = {}
    flags: set[str] = set()
    last = ""  # the keyword a "continuation" line belongs to
    start = 0

    def finish() -> None:
        nonlocal last, start
        if not fields:
            flags.clear()  # comments without an entry
            return
        where = f"{name}:{start}"
        if "msgstr" not in fields:
            raise PoError(f"{where}: entry without msgstr")
        ctx = fields.get("msgctxt")
        if ctx in seen:
            raise PoError(f"{where}: msgctxt {ctx!r} again (first at line {seen[ctx]})")
        seen[ctx] = start
        entries.append(PoEntry(ctx, fields["msgid"], fields["msgstr"], frozenset(flags), start))
        fields.clear()
        flags.clear()
        last, start = "", 0

    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        where = f"{name}:{lineno}"
        if not s:
            finish()
        elif s.startswith("#"):
            if "msgstr" in fields:
                finish()  # a comment opens the next entry
            if s.startswith("#,"):
                flags.update(f.strip() for f in s[2:].split(",") if f.strip())
        elif s.startswith('"'):
            if not last:
                raise PoError(f"{where}: a string that belongs to no msgid or msgstr")
            fields[last] += _unquote(s, where)
        else:
            m = _KEYWORD.fullmatch(s)
            if m is None:
                raise PoError(f"{where}: expected msgctxt, msgid, msgstr, a \"string\" or a "
                              f"# comment, got {s[:40]!r}")
            kw, rest = m.groups()
            if kw.startswith(("msgid_plural", "msgstr[")):
                raise PoError(f"{where}: plural forms ({kw}) are not used by gdviz")
            if "msgstr" in fields:
                finish()
            later = _ORDER[_ORDER.index(kw):]
            if any(k in fields for k in later):
                raise PoError(f"{where}: {kw} out of place (an entry is msgctxt, msgid, msgstr)")
            if kw == "msgstr" and "msgid" not in fields:
                raise PoError(f"{where}: msgstr without msgid")
            start = start or lineno
            fields[kw] = _unquote(rest, where)
            last = kw
    finish()
    return entries


def _load(directory: Path) -> dict[str, dict[str, str]]:
    """TERMS from the .po files: English from en.po (its msgstr, or its msgid if empty),
    each other language's non-empty, non-fuzzy msgstr over it, key by key."""
    terms: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        path = directory / PO_FILES[lang]
        table: dict[str, str] = {}
        for e in read_po(path):
            if e.context is None:
                continue  # the header (and gettext's context-free entries: none here)
            if lang != "en" and e.context not in terms["en"]:
                raise PoError(f"{path}:{e.line}: key {e.context!r} is not in {PO_FILES['en']}")
            if lang == "en":
                table[e.context] = e.msgstr or e.msgid
            elif e.msgstr and not e.fuzzy:
                table[e.context] = e.msgstr
        terms[lang] = table if lang == "en" else {**terms["en"], **table}
    return terms


def translations_dir() -> Path:
    """Where the .po files are (``gdviz/resources/translations`` when installed)."""
    from gdviz import resources_dir

    return Path(resources_dir()) / "translations"


#: the UI text, per language: TERMS[lang][key] (a key missing in a translation is English)
TERMS: dict[str, dict[str, str]] = _load(translations_dir())


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


class Said(str):
    """A message in English (as the CLI, the scene files and the log say it) that the window
    says in its own language: ``key`` and ``fmt`` are :func:`tr`'s (the session's refusals
    a click can meet, e.g. a run past the limits: :func:`gdviz.core.limits.runs_limit_message`)."""

    def __new__(cls, key: str, **fmt: object):
        self = super().__new__(cls, tr(key, "en", **fmt))
        self.key, self.fmt = key, dict(fmt)
        return self

    def __reduce__(self):  # (pickled as its key and values, not as a bare str)
        return _said, (self.key, self.fmt)

    def in_language(self, lang: str | None = None) -> str:
        """The message in ``lang`` (default: :func:`current_language`)."""
        return tr(self.key, lang, **self.fmt)


def _said(key: str, fmt: dict) -> Said:
    return Said(key, **fmt)


def tr_label(label: str, lang: str | None = None) -> str:
    """A run's legend label in ``lang``: the shipped lessons' labels are in the translation
    table (key ``run_label|`` + the English label, its ``{lr}`` slot kept); a label the
    user typed comes back as typed."""
    return tr("run_label|" + label, lang, default=label)
