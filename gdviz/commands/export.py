"""``gdviz export SCENE -o OUT.(gif|mp4|png|csv)``: headless, deterministic clips.

SCENE is a scene file or a lesson by name (``L04``). The frames are the app's own
picture (:mod:`gdviz.ui.picture`) painted off screen, in ``--lang`` and ``--theme``.
"""

from __future__ import annotations

import os
import re
import sys

from gdviz.cli import CliError, language_flag
from gdviz.commands.progress import TerminalProgress, load_kernels


def settings_from(scene, args):
    """Export settings: the scene's export defaults, overridden by the flags."""
    from gdviz.export.clip import ExportSettings, parse_panels, parse_size

    ex = scene.export
    lang = language_flag(args.lang)
    return ExportSettings(
        fps=args.fps if args.fps is not None else ex.fps,
        size=parse_size(args.size) if args.size else tuple(ex.size),
        steps=args.steps if args.steps is not None else ex.steps,
        steps_per_frame=args.steps_per_frame if args.steps_per_frame is not None else ex.steps_per_frame,
        panels=parse_panels(args.panels) if args.panels else tuple(ex.panels),
        theme=args.theme if args.theme is not None else "light",
        lang=lang,
    )


def load(name: str):
    """A scene file, or a shipped lesson by name ('L04', 'L4', 'default_rosenbrock_race')."""
    from gdviz.core.scene import load_preset, load_scene

    if not name.lower().endswith(".toml") and not os.path.exists(name) and re.fullmatch(r"[A-Za-z0-9_-]{1,60}", name):
        return load_preset(name)
    return load_scene(name)


class _Stop:
    """SIGTERM and Ctrl+C during an export. While frames are painted, the signal only sets
    ``requested`` and the export stops after the frame (an exception raised inside Qt's
    paint code would be swallowed there, and could leave a painter open); before and
    after that it raises KeyboardInterrupt at once."""

    def __init__(self):
        self.requested = False
        self.painting = False

    def __call__(self, signum, frame):
        self.requested = True
        if not self.painting:
            raise KeyboardInterrupt


def run(args) -> int:
    """Export with SIGTERM handled as Ctrl+C: the temp files go, and the exit is 2 with
    one line (a SIGKILL's leftovers are removed by the next export into that folder)."""
    import signal

    stop = _Stop()
    before = {}
    try:
        for sig in (signal.SIGTERM, signal.SIGINT):
            if sig == signal.SIGINT and signal.getsignal(sig) is not signal.default_int_handler:
                continue  # Ctrl+C ignored (a background job) stays ignored
            before[sig] = signal.signal(sig, stop)
    except ValueError:  # not the main thread: leave signals alone
        pass
    try:
        return _run(args, stop)
    except KeyboardInterrupt:
        raise CliError("export cancelled; nothing was written") from None
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _run(args, stop: _Stop) -> int:
    from gdviz.commands.progress import apply_scene_shown
    from gdviz.core.session import Session
    from gdviz.export.clip import ExportCancelled, export, output_kind

    kind = output_kind(args.output)  # an unsupported extension fails before any work
    scene = load(args.scene)
    settings = settings_from(scene, args)
    load_kernels()  # the session and the picture run numba, not the numpy twins
    session = Session()
    apply_scene_shown(scene, session)  # (its lr finder work with progress)
    caption = (scene.meta.title.get(settings.lang), scene.meta.caption.get(settings.lang))
    renderer = None
    if kind != "csv":
        from gdviz.ui.picture import clip_renderer

        def renderer():
            return clip_renderer(session, settings, caption)
    stop.painting = True
    try:
        path = export(session, args.output, settings, renderer=renderer,
                      progress=TerminalProgress(f"exporting {args.output}"),
                      cancelled=lambda: stop.requested)
    except (KeyboardInterrupt, ExportCancelled):
        raise CliError("export cancelled; nothing was written") from None
    finally:
        stop.painting = False
    print(path, file=sys.stderr)
    return 0
