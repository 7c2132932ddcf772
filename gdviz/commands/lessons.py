"""``gdviz lessons [--lang LANG]``: the shipped lessons, one per line.

Each line is the name that ``gdviz export`` and ``gdviz SCENE`` take, the title in the
language, and the file (inside the installed package), so a teacher can find, copy and
edit a lesson.
"""

from __future__ import annotations

from gdviz.cli import language_flag


def run(args) -> int:
    from gdviz.core.scene import load_scene, preset_paths

    lang = language_flag(args.lang)
    for path in preset_paths():
        meta = load_scene(path).meta
        name = meta.lesson or path.stem
        print(f"{name:<8} {meta.title.get(lang) or path.stem}\t{path}")
    return 0
