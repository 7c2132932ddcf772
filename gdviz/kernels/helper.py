"""Compiling the kernels in a helper process, for the window.

numba compiles in Python, holding the GIL, for about a minute and a half on two cores when
its cache is cold (the first start after an install or an upgrade). Compiled on a thread
of the window's process, that minute and a half took the GIL from the UI thread: 13 ms
of the window's own work took 19 ms at the median and up to 218 ms.

So when the cache is cold, :func:`compile_in_helper` runs ``python -m
gdviz.kernels.helper``, which compiles every kernel (``cache=True`` writes each one to
numba's cache on disk) at a low priority and prints a line per kernel; the window's process
then only loads the kernels from that cache (:func:`gdviz.kernels.warmup`, ~0.7 s). With a
warm cache nothing is started: the window loads them at once.

The helper ends when the window's process ends, however that ends: started with
:data:`WITH_PARENT`, it reads its standard input, and the end of it (the pipe closed with
its parent) ends the helper.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from typing import Callable

from gdviz.kernels import BACKGROUND_NICE

#: the helper's flag: end when standard input ends (the window's pipe)
WITH_PARENT = "--end-with-input"
#: seconds between two looks at ``cancelled`` while the helper compiles a kernel
POLL_S = 0.1


def cache_is_cold(specs) -> bool:
    """True when some kernel of ``specs`` (KernelSpecs, numba loaded) has no fresh entry in
    numba's cache (none, or written for another version of its source). A kernel whose
    cache cannot be read (numba's cache is private API; a kernel that is a Python function
    calling kernels) is passed over: when none can be read, False, and the compiling stays
    in this process, as before."""
    for spec in specs:
        try:
            entries = spec.fast._cache._cache_file._load_index()
        except Exception:  # noqa: BLE001 - no cache, or another numba: unknown
            continue
        if not entries:
            return True
    return False


def helper_command(names: list[str] | None = None) -> list[str] | None:
    """The command that runs the helper (``names``: only these kernels, for tests); None
    where there is no Python to run it (a frozen app)."""
    if getattr(sys, "frozen", False) or not sys.executable:
        return None
    return [sys.executable, "-m", "gdviz.kernels.helper", WITH_PARENT, *(names or [])]


def compile_in_helper(progress: Callable[[int, int, str], None] | None = None,
                      cancelled: Callable[[], bool] | None = None,
                      command: list[str] | None = None) -> bool | None:
    """Run the helper (``command``: :func:`helper_command`'s by default) and pass each of
    its lines "i n name" to ``progress``. Returns True when it compiled every kernel, False
    when ``cancelled()`` turned True (the helper is killed), None when it could not start
    or failed (the caller compiles in this process then)."""
    command = command if command is not None else helper_command()
    if command is None:
        return None
    try:
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, bufsize=1)
    except OSError:
        return None
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, name="gdviz-kernel-helper-out", daemon=True).start()
    try:
        while True:
            if cancelled is not None and cancelled():
                return False
            try:
                line = lines.get(timeout=POLL_S)
            except queue.Empty:
                continue
            if line is None:
                break
            parts = line.split(maxsplit=2)
            if progress is not None and len(parts) == 3 and parts[0].isdigit() \
                    and parts[1].isdigit():
                progress(int(parts[0]), int(parts[1]), parts[2].strip())
        return True if proc.wait() == 0 else None
    finally:
        close_child(proc)


def close_child(proc: subprocess.Popen) -> None:
    """A child of the window's process, ended (killed if it still runs) and its pipes
    closed (the kernels' helper, OpenGL's probe)."""
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for f in (proc.stdin, proc.stdout):
        if f is None:
            continue
        try:
            f.close()
        except OSError:
            pass


def end_with_parent() -> None:
    """In a child: exit once standard input ends (the window's process closed its end, or
    died)."""
    def watch() -> None:
        try:
            sys.stdin.read()
        except (OSError, ValueError):
            pass
        os._exit(3)

    threading.Thread(target=watch, name="gdviz-helper-parent", daemon=True).start()


def main(argv: list[str]) -> int:
    """The helper: compile the kernels named in ``argv`` (all without), printing "i n
    name" after each; 0 when all compiled, 1 with the error on stderr otherwise.
    :data:`WITH_PARENT` first: end when standard input ends."""
    if argv[:1] == [WITH_PARENT]:
        argv = argv[1:]
        end_with_parent()
    try:
        os.nice(BACKGROUND_NICE)
    except (AttributeError, OSError):  # (no nice here: the OS schedules it as it is)
        pass
    from gdviz import kernels
    from gdviz.kernels._jit import load_numba

    specs = list(kernels.load_all().values())
    if argv:
        unknown = sorted(set(argv) - {s.name for s in specs})
        if unknown:
            print(f"error: no kernel named {', '.join(unknown)}", file=sys.stderr)
            return 1
        specs = [s for s in specs if s.name in argv]
    load_numba()
    try:  # (the window's warm-up loop, a line per kernel for its progress)
        kernels._warm(specs, lambda i, n, name: print(f"{i} {n} {name}", flush=True), None)
    except Exception as exc:  # noqa: BLE001 - the window compiles in its own process then
        print(f"error: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
