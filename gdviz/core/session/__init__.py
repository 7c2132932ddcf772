"""The evented model every view observes: problem, runs, trajectories, playback.

A package grouped by concept: :mod:`.model` (the :class:`Session`, its fields, events,
validation, snapshot and restore), :mod:`.runs` (run specs, colours, labels),
:mod:`.history` (the engine, the log of live changes, replay, reading) and
:mod:`.playback` (play, pause, step, scrub, tick). Import from here.
"""

from gdviz.core.session.model import (
    FIELDS,
    LEVELS_RANGE,
    PANEL_NAMES,
    SCALES,
    THEMES,
    Session,
    SessionEvents,
    SessionState,
)
from gdviz.core.session.playback import MAX_TICK_DT
from gdviz.core.session.runs import (
    DEFAULT_RUNS,
    DEFAULT_STARTS,
    LR_SLOT,
    OKABE_ITO,
    RunSpec,
    default_specs,
    default_start,
    format_lr,
    lr_template,
    render_label,
)

__all__ = [
    "DEFAULT_RUNS", "DEFAULT_STARTS", "FIELDS", "LEVELS_RANGE", "LR_SLOT", "MAX_TICK_DT",
    "OKABE_ITO", "PANEL_NAMES", "SCALES", "THEMES", "RunSpec", "Session", "SessionEvents",
    "SessionState", "default_specs", "default_start", "format_lr", "lr_template",
    "render_label",
]
