"""Scene files on disk: read and validate TOML (format version 1), write it with
tomli-w, save atomically, and find the shipped lesson presets.

Reading is pure: :func:`load_scene` / :func:`loads_scene` return a new validated
:class:`Scene` or raise :class:`SceneError` with one line that names the file (and the
line, or the key). Writing goes through tomli-w: keys in schema order, floats as
``repr``, so save -> load gives the same Scene and save -> load -> save the same bytes.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import secrets
import sys
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import tomli_w

from gdviz.core.userinput import quote, read_user_file

from gdviz.core.limits import MAX_SCENE_BYTES
from gdviz.core.rows import rows_of
from gdviz.core.scene.rows_text import ROW_CHARS, read_rows, rows_text
from gdviz.core.scene.schema import (
    FORMAT_VERSION,
    LiftedRows,
    Scene,
    SceneError,
    _first_line,
    _Invalid,
    _mark_checked,
    _name,
    _parse_table,
    _show,
    _suggest,
    _validate,
    as_table,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (pyproject: tomli; python_version < "3.11")
    import tomli as tomllib

__all__ = ["MAX_BYTES", "loads_scene", "load_scene", "dumps_scene", "save_scene",
           "preset_paths", "load_preset"]

#: a scene is a text file of at most this size (gdviz.core.limits.MAX_SCENE_BYTES)
MAX_BYTES = MAX_SCENE_BYTES


# ----------------------------------------------------------------------------- reading

_LINE_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_LINE_ONLY_RE = re.compile(r"\s*\(at end of document\)\s*$")


#: scenes parsed lately, by their text and source: a scene is immutable (frozen all the
#: way down) and its parse pure, so a lesson opened again is not parsed and checked again
#: (~3 ms of a lesson load at big text, of ~100). Texts up to PARSED_TEXT_MAX characters.
_parsed: "OrderedDict[tuple[str, str], Scene]" = OrderedDict()
PARSED_KEPT = 32
PARSED_TEXT_MAX = 64 * 1024


def loads_scene(text: str, source: str = "<string>") -> Scene:
    """Parse and validate a scene from TOML text. Pure: raises SceneError, changes nothing."""
    key = (text, str(source))
    scene = _parsed.get(key)
    if scene is not None:
        _parsed.move_to_end(key)
        return scene
    scene = _loads_scene(text, source)
    if len(text) <= PARSED_TEXT_MAX:
        _parsed[key] = scene
        while len(_parsed) > PARSED_KEPT:
            _parsed.popitem(last=False)
    return scene


# A scene's data arrays hold up to MAX_POINTS rows, and tomllib (pure Python) took ~0.7 s
# to read 100,000 points: a freeze on every open. A ``data = [...]`` array of decimal
# number rows is read by rows_text.read_rows instead and handed to tomllib as a string
# token; the token comes back as a LiftedRows. Anything read_rows does not take (a
# comment, a hex number, CRLF, inf) is left where it is, and tomllib reads it.
_DATA_KEY = re.compile(r"^(data|init)[ \t]*=[ \t]*(?=\[)", re.M)
_ROW_RUN = re.compile("[" + re.escape(ROW_CHARS) + "]*")
# An ``init = [...]`` array (a network's starting parameters: 3,297 numbers for 4 layers of
# 32 units, a line each) is a flat list of decimal numbers, read here to the same ints and
# floats as tomllib's: an 88 KB scene of 16 such networks took 15-23 ms to read, ~2/3 of
# it tomllib's, and 46-107 ms to open in the window
_FLAT_RUN = re.compile(r"[0-9eE.+\- \t\n,]*")
_FLAT_NUMBER = re.compile(r"[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
#: arrays shorter than this (characters) are left to tomllib: a lesson's 50 points are not
#: worth the detour
LIFT_MIN_CHARS = 4096


def _lift(text: str) -> tuple[str, dict[str, LiftedRows | list]]:
    """``text`` with its big ``data`` arrays of number rows and ``init`` arrays of numbers
    cut out, and those arrays by the token (a TOML string) that stands in their place."""
    lifted: dict[str, LiftedRows] = {}
    parts: list[str] = []
    pos = 0
    nonce = secrets.token_hex(8)
    for m in _DATA_KEY.finditer(text):
        start = m.end()
        if start < pos:
            continue
        if m.group(1) == "init":
            end = _FLAT_RUN.match(text, start + 1).end()
            if end - start < LIFT_MIN_CHARS or text[end:end + 1] != "]":
                continue
            value = _read_flat(text[start + 1:end])
            end += 1
            if value is None:
                continue
        else:
            run = _ROW_RUN.match(text, start)
            end = text.rfind("]", start, run.end()) + 1
            if end - start < LIFT_MIN_CHARS:
                continue
            array = text[start:end]
            for arity in (2, 3):
                got = read_rows(array, arity)
                if got is not None:
                    break
            else:
                continue
            value = LiftedRows.of(rows_of(got), array)
        token = f"gdviz-rows-{nonce}-{len(lifted)}"
        lifted[token] = value
        parts += [text[pos:start], f'"{token}"']
        pos = end
    if not lifted:
        return text, lifted
    parts.append(text[pos:])
    return "".join(parts), lifted


def _read_flat(body: str) -> list | None:
    """The numbers of a flat array's ``body`` (between its brackets) as tomllib reads them
    (ints, floats), or None where it has anything else: a comment, an underscore, inf, a
    leading zero, CR, an empty item, a number too long to be an ordinary one."""
    items = body.split(",")
    if items[-1].strip(" \t\n") == "":
        items.pop()  # (a trailing comma, or an empty array)
    out = []
    for item in items:
        tok = item.strip(" \t\n")
        if len(tok) > 40 or not _FLAT_NUMBER.fullmatch(tok):
            return None
        out.append(float(tok) if any(c in tok for c in ".eE") else int(tok))
    return out


def _put_back(value: Any, lifted: dict[str, LiftedRows], found: list[str]) -> Any:
    """``value`` (tomllib's) with each lifted token, where it is a whole value, replaced."""
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) or (isinstance(v, str) and v in lifted):
                value[k] = _put_back(v, lifted, found)
        return value
    if isinstance(value, list):
        return [_put_back(v, lifted, found) for v in value]
    if isinstance(value, str) and value in lifted:
        found.append(value)
        return lifted[value]
    return value


def _toml(text: str) -> dict:
    """tomllib.loads, with big data arrays read fast (_lift); the same result as tomllib's.
    A token that did not come back as a whole value (say it was in a multi-line string),
    or any error, and tomllib reads the text as it is: its messages name the right line."""
    short, lifted = _lift(text) if len(text) > LIFT_MIN_CHARS else (text, {})
    if lifted:
        try:
            data = tomllib.loads(short)
        except (tomllib.TOMLDecodeError, RecursionError):
            pass
        else:
            found: list[str] = []
            data = _put_back(data, lifted, found)
            if sorted(found) == sorted(lifted):
                return data
    return tomllib.loads(text)


def _loads_scene(text: str, source: str) -> Scene:
    name = _name(source)
    try:
        data = _toml(text)
    except RecursionError:  # arrays or tables nested thousands deep
        raise SceneError(f"{name}: nested too deeply (lists or tables inside one another)") from None
    except MemoryError:
        raise SceneError(f"{name}: too big to read") from None
    except tomllib.TOMLDecodeError as exc:
        msg = _first_line(exc)
        m = _LINE_RE.search(msg)
        if m:
            raise SceneError(f"{name} line {m.group(1)}: {msg[:m.start()]} "
                             f"(column {m.group(2)})") from None
        msg = _LINE_ONLY_RE.sub("", msg)
        line = text.count("\n") + 1
        raise SceneError(f"{name} line {line}: {msg} (at end of file)") from None
    except ValueError:  # int() refuses an integer of over 4,300 digits
        most = getattr(sys, "get_int_max_str_digits", lambda: 4300)()
        raise SceneError(f"{name}: a number in it is too long to read (over {most} "
                         f"digits)") from None
    try:
        if "version" not in data:
            raise _Invalid(f"missing 'version' (add version = {FORMAT_VERSION} at the top)")
        v = data["version"]
        if isinstance(v, bool) or not isinstance(v, int):
            raise _Invalid(f"version must be an integer, got {_show(v)}")
        if v > FORMAT_VERSION:
            raise _Invalid(f"version = {v} is newer than this gdviz understands "
                           f"(it reads version {FORMAT_VERSION}); update gdviz")
        if v < 1:
            raise _Invalid(f"version = {v} is invalid: versions start at 1")
        scene = _parse_table(Scene, data, "")
        _validate(scene)
        _mark_checked(scene)
    except _Invalid as exc:
        raise SceneError(f"{name}: {exc}") from None
    except RecursionError:
        raise SceneError(f"{name}: nested too deeply (lists or tables inside one another)") from None
    return scene


def load_scene(path: str | os.PathLike) -> Scene:
    """Read and validate a scene file. Raises SceneError (file name first) on any problem."""
    p = Path(path)
    try:  # regular files only, never more than MAX_BYTES: a FIFO or /dev/zero is refused
        raw = read_user_file(p, MAX_BYTES, "scene file")
    except ValueError as exc:
        raise SceneError(str(exc)) from None
    try:
        text = raw.decode("utf-8-sig")  # tolerate the BOM some Windows editors add
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise SceneError(f"{quote(p.name)} line {line}: not UTF-8 text") from None
    scene = loads_scene(text, source=str(p))
    return _with_csv(scene, p)


def _with_csv(scene: Scene, p: Path) -> Scene:
    """A classification scene's ``[classify] csv`` (relative to the scene's folder) read in
    as its ``data``, so the scene no longer depends on where it is opened from."""
    c = scene.classify
    if scene.problem.kind != "classify" or c.data is not None or not c.csv:
        return scene
    from gdviz.core.scene.build import classify_data

    try:
        data = classify_data(scene, p.parent)
    except ValueError as exc:
        raise SceneError(f"{quote(p.name)}: [classify] csv: {_first_line(exc)}") from None
    return dataclasses.replace(scene, classify=dataclasses.replace(c, data=data.points_data))


# ----------------------------------------------------------------------------- writing

def _check_finite(v: Any) -> None:
    """TOML has inf and nan, but a scene never holds them: refuse to write one."""
    if isinstance(v, float) and not math.isfinite(v):
        raise SceneError(f"cannot write non-finite number {v!r}")
    for x in v.values() if isinstance(v, dict) else v if isinstance(v, list) else ():
        _check_finite(x)


def dumps_scene(scene: Scene) -> str:
    """The scene as TOML text (tomli-w), in the current format version.

    Keys follow the schema's order and floats are written as ``repr``; data and starts
    a row per line (tomli-w writes a number per line: 7 MB and 0.4 s for 100,000 points), so
    ``loads_scene(dumps_scene(s)) == s`` and a second dump gives the same text.
    """
    nonce = secrets.token_hex(8)
    arrays: dict[str, Any] = {}

    def put_rows(rows) -> str:  # data and starts: written a row per line (rows_text)
        token = f"gdviz-rows-{nonce}-{len(arrays)}"
        arrays[token] = rows
        return token

    doc = as_table(dataclasses.replace(scene, version=FORMAT_VERSION), put_rows)
    _check_finite(doc)
    text = tomli_w.dumps(doc)
    for token, rows in arrays.items():
        try:
            text = text.replace(f'"{token}"', rows_text(rows), 1)
        except ValueError as exc:
            raise SceneError(str(exc)) from None
    return f"# gdviz scene (format version {FORMAT_VERSION})\n" + text


def _umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    # os.umask can only be read by setting it: set a strict one meanwhile, so a file
    # another thread creates in that instant is private rather than open to all
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _file_mode() -> int:
    """The mode a new file gets from the user's umask (mkstemp's own is 0600)."""
    return 0o666 & ~_umask()


def save_scene(scene: Scene, path: str | os.PathLike) -> None:
    """Write a scene atomically: a temp file in the same folder, then os.replace.

    The file gets the user's normal permissions (umask), as any new file would. On any
    failure nothing is left behind and the old file (if any) is untouched.
    """
    p = Path(path)
    data = dumps_scene(scene).encode("utf-8")
    if len(data) > MAX_BYTES:  # never write a file that load_scene would refuse
        raise SceneError(f"cannot save {p.name}: {len(data)} bytes is too big for a scene "
                         f"file (at most {MAX_BYTES})")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise SceneError(f"cannot save {p.name}: folder '{folder}' does not exist")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode())
        os.replace(tmp, p)
        tmp = None
    except OSError as exc:
        raise SceneError(f"cannot save {p.name}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


# ----------------------------------------------------------------------------- presets

def preset_paths() -> list[Path]:
    """The shipped lesson presets (L01..L15) and the default race, sorted by file name."""
    from gdviz import resources_dir

    return sorted((Path(resources_dir()) / "scenes").glob("*.toml"))


def preset_path(name: str) -> Path | None:
    """The file of a preset named by file stem or lesson id ('default_rosenbrock_race',
    'L04', 'L4'), or None if no shipped preset has that name."""
    m = re.fullmatch(r"[Ll]0*(\d+)", name)
    for p in preset_paths():
        if p.stem == name or (m and p.stem.startswith(f"L{int(m.group(1)):02d}_")):
            return p
    return None


def load_preset(name: str) -> Scene:
    """A preset by file stem or lesson id: 'default_rosenbrock_race', 'L04', 'L4'."""
    path = preset_path(name)
    if path is not None:
        return load_scene(path)
    paths = preset_paths()
    raise SceneError(f"unknown preset {quote(name)!r}{_suggest(name, [p.stem for p in paths])}")
