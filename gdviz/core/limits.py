"""Limits shared by the scene schema, the session, the UI and the CLI, defined once.

Qt-free and numba-free: every layer imports these names instead of repeating a literal,
so a value one layer accepts is never refused by another (a scene that validates also
loads into the session; a slider never offers an lr the optimizer refuses).
"""

from __future__ import annotations

#: most optimizer steps a session, a scene's playback or export, or ``gdviz trace`` runs
MAX_STEPS = 1_000_000

#: smallest learning rate the lr sliders offer (the optimizer itself accepts any lr > 0)
LR_MIN = 1e-6
#: largest learning rate: anything larger is a typo, not an experiment
LR_MAX = 1e3

#: most data points in a dataset (generated or drawn by hand)
MAX_POINTS = 100_000
#: most units (K) in a sum-of-units fit model
MAX_UNITS = 50
#: largest mini-batch size a scene may ask for (surfaces: the noise scale, data: clamped to n)
MAX_BATCH_SIZE = 1_000_000
#: fastest playback a scene may ask for, in steps per second
MAX_SPEED = 100_000.0

#: contour levels on the map
MIN_LEVELS = 2
MAX_LEVELS = 200

#: export: frames per second, frame size in pixels, optimizer steps per frame
MAX_FPS = 120
MIN_EXPORT_SIZE = 64
MAX_EXPORT_WIDTH = 7680
MAX_EXPORT_HEIGHT = 4320
MAX_STEPS_PER_FRAME = 100_000
