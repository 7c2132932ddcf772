"""User input at the edges: files read through one bounded reader, text decoded with a
clear error, and user text quoted briefly in messages.

Every file the user names (a scene, a CSV, a ``--init`` JSON) goes through
:func:`read_user_file`: only regular files are read (a FIFO, a device such as
``/dev/zero`` or a folder is refused with one line, and nothing blocks: the file is
checked with ``os.stat`` before it is opened, and opened non-blocking), and at most the
given number of bytes. :func:`quote` keeps a message short however long the user's text:
a message is laid out in the window and printed on a terminal, and a 1 MB line in it
freezes the one and floods the other.
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

from gdviz.core.limits import MAX_QUOTE

__all__ = ["quote", "check_user_file", "read_user_file", "decode_text", "TEXT_ENCODINGS"]

#: the encodings :func:`decode_text` reads (named in its error)
TEXT_ENCODINGS = ("UTF-8", "UTF-16 (with a BOM)", "GB18030/GBK")


def quote(text, limit: int = MAX_QUOTE) -> str:
    """``text`` (any object, as str) cut to ``limit`` characters with an ellipsis, and with
    control characters shown escaped, so a message stays one short line."""
    s = str(text)
    cut = len(s) > limit
    s = s[:limit]
    if not s.isprintable():
        s = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in s)[:limit]
    return s + "…" if cut else s


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_user_file(path: str | os.PathLike, what: str = "file") -> os.stat_result:
    """``path``'s stat; ValueError (one line, the file's name first) unless it is a regular
    file that exists; nothing is opened (a FIFO would block)."""
    p = Path(path)
    name = quote(p.name or str(p))
    try:
        st = os.stat(p)
    except OSError as exc:
        raise ValueError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{name}: cannot read: it is {_kind(st.st_mode)}, not a {what}")
    return st


def read_user_file(path: str | os.PathLike, max_bytes: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; ValueError (one line, the file's
    name first) for anything else: missing, unreadable, not a regular file, too big.

    Never blocks on a FIFO and never reads more than ``max_bytes + 1`` bytes (a device
    such as /dev/zero reports size 0 and never ends)."""
    p = Path(path)
    name = quote(p.name or str(p))
    st = check_user_file(p, what)
    if st.st_size > max_bytes:
        raise ValueError(f"{name}: {st.st_size} bytes is too big for a {what} "
                         f"(at most {max_bytes})")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) \
        | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        raise ValueError(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)  # the file opened may not be the one checked (a rename between)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{name}: cannot read: it is {_kind(st.st_mode)}, not a {what}")
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise ValueError(f"{name}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if total > max_bytes:
        raise ValueError(f"{name}: too big for a {what} (at most {max_bytes} bytes)")
    return b"".join(chunks)


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(raw: bytes, name: str) -> str:
    """Text from the bytes of a file a spreadsheet or editor may have written: a BOM says
    the encoding (UTF-8, UTF-16, UTF-32); else UTF-8, else GB18030 (which reads GBK, the
    Chinese Windows default). A file with NUL bytes and no BOM is binary. ValueError names
    the encodings read."""
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(enc)
            except UnicodeDecodeError:
                break
    else:
        if b"\x00" not in raw:
            for enc in ("utf-8", "gb18030"):
                try:
                    return raw.decode(enc)
                except UnicodeDecodeError:
                    pass
    raise ValueError(f"{quote(name)}: not a text file in a known encoding (gdviz reads "
                     f"{', '.join(TEXT_ENCODINGS)}; save it as CSV UTF-8)")
