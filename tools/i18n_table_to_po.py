"""Move the old `_TABLE` dict of gdviz/core/i18n.py into the gettext .po files.

Usage: python tools/i18n_table_to_po.py I18N_PY OUT_DIR [--append [--base BASE_I18N_PY]]

It wrote resources/translations/*.po once, from the table as it was. It stays until every
branch that still adds rows to `_TABLE` is merged (then delete it): with --append it adds
the rows whose key is not yet in OUT_DIR/en.po at the end of the three files, and lists the
keys whose text differs from the files (edit those by hand). With --base (the table both
branches started from) it lists only the rows the other branch changed, not the ones the
.po files changed since (lr_all, lr_decay and panel_landscape were re-worded there).
For example:
    git show other-branch:gdviz/core/i18n.py > /tmp/t.py
    git show d6af4e4:gdviz/core/i18n.py > /tmp/base.py
    python tools/i18n_table_to_po.py /tmp/t.py resources/translations --append --base /tmp/base.py
Section comments ("# --- ...") become extracted comments ("#. ...") of the next entry.
"""
from __future__ import annotations

import ast
import io
import string
import sys
import tokenize
from pathlib import Path

FILES = {"en": "en.po", "zh-Hant": "zh_Hant.po", "zh-Hans": "zh_Hans.po"}
HEADERS = {
    "en": ("English", "en"),
    "zh-Hant": ("Traditional Chinese, Taiwanese usage (學習率, 訓練資料, 過度擬合, 代 for an epoch)", "zh_TW"),
    "zh-Hans": ("Simplified Chinese, mainland usage (学习率, 训练集, 过拟合, 轮 for an epoch)", "zh_CN"),
}


def table_rows(src: str):
    """(key, (en, hant, hans), section comment or None, lineno) in table order."""
    tree = ast.parse(src)
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.AnnAssign)
                and getattr(n.target, "id", None) == "_TABLE")
    comments = {}
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type == tokenize.COMMENT and tok.start[0] > node.lineno:
            comments[tok.start[0]] = tok.string
    rows = []
    prev_end = node.value.lineno
    for k, v in zip(node.value.keys, node.value.values):
        section = [comments[n].lstrip("#").strip() for n in sorted(comments)
                   if prev_end <= n < k.lineno]
        rows.append((ast.literal_eval(k), ast.literal_eval(v), section, k.lineno))
        prev_end = v.end_lineno + 1
    return rows


def quote(text: str) -> str:
    """A .po string: escaped, split after each \\n into continuation lines."""
    esc = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    parts = esc.split("\n")
    pieces = [p + "\\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    if len(pieces) <= 1:
        return '"' + (pieces[0] if pieces else "") + '"'
    return '""\n' + "\n".join(f'"{p}"' for p in pieces)


def entry(key: str, en: str, text: str, section: list[str]) -> str:
    lines = [f"#. {c}" for c in section]
    if any(name is not None for _, name, _, _ in string.Formatter().parse(en)):
        lines.append("#, python-brace-format")
    lines += [f"msgctxt {quote(key)}", f"msgid {quote(en)}", f"msgstr {quote(text)}"]
    return "\n".join(lines) + "\n"


def header(lang: str) -> str:
    title, code = HEADERS[lang]
    return (f"# gdviz user-interface text: {title}.\n"
            "# msgctxt is the key the code passes to gdviz.core.i18n.tr(); msgid is the English.\n"
            "# Edit with Poedit (or any text editor), then check: msgfmt --check -o /dev/null FILE\n"
            'msgid ""\nmsgstr ""\n'
            '"Project-Id-Version: gdviz\\n"\n'
            '"PO-Revision-Date: 2026-12-02 03:45+0000\\n"\n'
            '"Last-Translator: gdviz authors\\n"\n'
            '"Language-Team: gdviz authors\\n"\n'
            f'"Language: {code}\\n"\n'
            '"MIME-Version: 1.0\\n"\n'
            '"Content-Type: text/plain; charset=UTF-8\\n"\n'
            '"Content-Transfer-Encoding: 8bit\\n"\n')


def main() -> None:
    src = Path(sys.argv[1]).read_text(encoding="utf-8")
    out = Path(sys.argv[2])
    append = "--append" in sys.argv
    rows = table_rows(src)
    if append:
        from gdviz.core.i18n import LANGUAGES, PO_FILES, read_po

        have = [{e.context: e.msgstr for e in read_po(out / PO_FILES[lang])} for lang in LANGUAGES]
        base = {}
        if "--base" in sys.argv:
            base_src = Path(sys.argv[sys.argv.index("--base") + 1]).read_text(encoding="utf-8")
            base = {key: row for key, row, _, _ in table_rows(base_src)}
        for key, row, _, lineno in rows:
            if base.get(key) == row:
                continue  # the other branch left it as it was
            if key in have[0] and tuple(h[key] for h in have) != row:
                print(f"{sys.argv[1]}:{lineno}: {key!r} differs from the .po files: {row}")
        rows = [r for r in rows if r[0] not in have[0]]
    for i, lang in enumerate(FILES):
        body = "".join("\n" + entry(key, row[0], row[i], section) for key, row, section, _ in rows)
        path = out / FILES[lang]
        if append:
            with path.open("a", encoding="utf-8") as f:
                f.write(body)
        else:
            path.write_text(header(lang) + body, encoding="utf-8")
    print(f"{len(rows)} rows written to {out}")


if __name__ == "__main__":
    main()
