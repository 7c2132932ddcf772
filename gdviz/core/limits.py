"""Limits shared by the scene schema, the session, the UI and the CLI, defined once.

Qt-free and numba-free: every layer imports these names instead of repeating a literal,
so a value one layer accepts is never refused by another (a scene that validates also
loads into the session; a slider never offers an lr the optimizer refuses).
"""

from __future__ import annotations

#: most optimizer steps a session, a scene's playback or export, or ``gdviz trace`` runs
MAX_STEPS = 1_000_000
#: most rows of ``gdviz fit``'s JSON history (every step up to 1000 steps; beyond, evenly
#: spaced steps with the first and the last)
MAX_FIT_HISTORY = 1001

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

#: largest |value| of a view box corner, a start, a fit parameter or a data point: squares
#: and sums of 10^5 of them stay far from float64's overflow, and the map's axes can be drawn
MAX_COORD = 1e12
#: smallest side of a view box, relative to its largest |corner| (and at least this much
#: absolutely): a finer box has too few distinct float64 values for a grid and tick labels
MIN_VIEW_SPAN = 1e-9
#: most data points times fit units: the fit's work per step and its temporaries grow with
#: the product (10^6: 20,000 points of 50 units, or 100,000 points of 10)
MAX_POINTS_X_UNITS = 1_000_000
#: the fit's "network" model: most hidden layers, and units per hidden layer
MAX_LAYERS = 4
MAX_LAYER_UNITS = 32
#: most data points times a network's parameters (each step's work, and the linked slice's
#: per-cell work, grow with the product; 2*10^6: 600 points of 4x32, 80,000 points of 1x8)
MAX_POINTS_X_NET_PARAMS = 2_000_000
#: most multiply-adds of one live slice of a network's loss (the map recomputes it each
#: frame): past it the slice is computed on a coarser grid and resampled (about 5 ms)
NET_SLICE_WORK = 10_000_000


def check_coord(value: float, what: str) -> float:
    """``value`` as a float if finite and within +-MAX_COORD, else ValueError naming ``what``
    and the range."""
    v = float(value)
    if not (v == v and abs(v) <= MAX_COORD):
        raise ValueError(f"{what} = {v!r} is out of range (must be finite, between "
                         f"{-MAX_COORD:g} and {MAX_COORD:g})")
    return v


def check_view_box(box) -> tuple[float, float, float, float]:
    """A view box (x0, x1, y0, y1): finite, within +-MAX_COORD, x0 < x1 and y0 < y1 with
    each side at least MIN_VIEW_SPAN times its largest |corner| (and at least
    MIN_VIEW_SPAN). Returns floats or raises ValueError with one line that states the range."""
    x0, x1, y0, y1 = (float(v) for v in box)
    shown = [x0, x1, y0, y1]
    if not all(v == v and abs(v) <= MAX_COORD for v in shown):
        raise ValueError(f"view box {shown} is out of range (corners must be finite, between "
                         f"{-MAX_COORD:g} and {MAX_COORD:g})")
    for lo, hi, axis in ((x0, x1, "x"), (y0, y1, "y")):
        if not lo < hi:
            raise ValueError(f"view box {shown} is invalid: need x0 < x1 and y0 < y1")
        if hi - lo < MIN_VIEW_SPAN * max(1.0, abs(lo), abs(hi)):
            raise ValueError(f"view box {shown} is too narrow along {axis}: a side must be at "
                             f"least {MIN_VIEW_SPAN:g} times its largest |corner| (and "
                             f">= {MIN_VIEW_SPAN:g})")
    return (x0, x1, y0, y1)

#: most characters of the user's own text (an expression, a CSV line, a value) that a
#: message quotes; longer text is cut with an ellipsis
MAX_QUOTE = 80
#: largest scene file: two datasets of MAX_POINTS points as tomli-w writes them (one number
#: a line: at most 100 bytes a point) and the rest
MAX_SCENE_BYTES = 2 * MAX_POINTS * 100
#: largest CSV of data points (MAX_POINTS rows of up to 100 bytes)
MAX_CSV_BYTES = MAX_POINTS * 100
#: largest ``gdviz fit --init`` JSON (a parameter vector: 151 numbers at most)
MAX_INIT_BYTES = 1_000_000

#: the 3-D view's orbit camera: nearest and farthest distance from the middle of the
#: surface box (the box is 2 wide: nearer is inside the hill, farther is a speck)
MIN_CAMERA_DISTANCE = 1.0
MAX_CAMERA_DISTANCE = 40.0
#: the 3-D view's mesh: at most this many vertices a side (the map's grid)
MAX_MESH_3D = 512
#: most runs in one demo: its starts x its optimizers. The window draws each run live (its
#: trail, its curves, its card's dot); a scene with 4,096 starts (the old limit) froze the
#: window 1.45 s as it opened and then stepped at 5 frames a second. Past a few dozen trails
#: a map is no longer readable from the back row anyway.
MAX_RUNS = 64
#: most optimizers (run cards) in one race: the palette has eight colours, each used at
#: most twice; 64 cards made a language or theme switch block the window 140-210 ms
MAX_OPTIMIZERS = 16


def runs_limit_message(n_starts: int, n_optimizers: int) -> str | None:
    """Why a demo of ``n_starts`` starts and ``n_optimizers`` optimizers is refused (one
    line, a :class:`gdviz.core.i18n.Said`: the window says it in its language), or None
    when it is within the limits."""
    from gdviz.core.i18n import Said

    if n_optimizers > MAX_OPTIMIZERS:
        return Said("too_many_optimizers", n=n_optimizers, most=MAX_OPTIMIZERS)
    if n_starts * n_optimizers > MAX_RUNS:
        return Said("too_many_runs", starts=n_starts, runs=n_optimizers,
                    n=n_starts * n_optimizers, most=MAX_RUNS)
    return None


# --- maps ---
#: largest side of a basin or hyperparameter map (cells = side^2; 512^2 runs x 16 doubles
#: of results stay at 32 MiB)
MAP_MAX_GRID = 512
#: most cells of one map call
MAP_MAX_CELLS = MAP_MAX_GRID * MAP_MAX_GRID
#: most steps a map runs from each cell
MAP_MAX_STEPS = 100_000
#: the lr finder: most sweep steps (fast.ai's default is 100)
LRFIND_MAX_IT = 10_000
#: the fair race: learning rates tried per run by default, at most, and most engine runs
#: in the one tuning call (runs x (lrs + 1) x starts)
TUNE_DEFAULT_LRS = 24
TUNE_MAX_LRS = 200
TUNE_MAX_RUNS = 65_536
# --- classify ---
#: fewest points of a generated two-class set (TF Playground's slider starts at 10... we
#: need a few of each class in both the training and the validation set)
MIN_CLASSIFY_POINTS = 10
#: noise of a generated two-class set (TF Playground's slider: 0..50 %)
MAX_CLASSIFY_NOISE = 0.5
#: a classifier network has the fit's network limits (MAX_LAYERS hidden layers of at most
#: MAX_LAYER_UNITS units, points x parameters at most MAX_POINTS_X_NET_PARAMS)
MAX_NET_LAYERS = MAX_LAYERS
MAX_NET_UNITS = MAX_LAYER_UNITS
MAX_POINTS_X_PARAMS = MAX_POINTS_X_NET_PARAMS
