"""The panels of the app's one picture, named once for the window, scenes, export and CLI.

Qt-free: the names and the rule for which of them a session can show. The widgets that
draw them live in :mod:`gdviz.ui.picture`.
"""

from __future__ import annotations

import difflib

#: every panel the window shows and an export can contain, in layout order
#: ("surface3d": the 3-D view of the map, gdviz.ui.views.surface3d_view; the window shows it
#: by ``session.map_mode``, an export when its panels name it)
#: ("hyper": the hyperparameter map, gdviz.ui.views.hyper_view)
#: ("lrfind", "tuned": the lr finder's plot and the fair race's table, gdviz.ui.views.lrfind_view)
#: ("network": the network picture, gdviz.ui.views.network_view)
PANELS: tuple[str, ...] = ("caption", "landscape", "fit", "loss", "step", "schedule", "surface3d",
                           "hyper", "lrfind", "tuned", "network")

#: an export's panels when neither the scene nor the user says otherwise
DEFAULT_PANELS: tuple[str, ...] = ("caption", "landscape", "fit", "loss")


def parse_panels(text: str) -> tuple[str, ...]:
    """``"landscape, loss"`` -> ("landscape", "loss"), with a one-line error for a typo."""
    names = tuple(p.strip() for p in str(text).split(",") if p.strip())
    if not names:
        raise ValueError(f"no panels given (choose from {', '.join(PANELS)})")
    for p in names:
        check_panel(p)
    return names


def check_panel(name: str) -> str:
    if name not in PANELS:
        close = difflib.get_close_matches(str(name)[:40], PANELS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f" (choose from {', '.join(PANELS)})"
        raise ValueError(f"unknown panel '{str(name)[:40]}'{hint}")
    return name


def shown_panels(panels, *, is_data: bool, selected: int, has_schedule: bool = True,
                 has_hyper: bool = False, has_lrfind: bool = True,
                 has_tuned: bool = True, has_network: bool = False) -> tuple[str, ...]:
    """The panels of ``panels`` that have something to show for a session: the fit panel
    only on data problems, the step-by-step panel only while a run is selected, the
    network picture only when the fit's model is a network."""
    out = []
    for p in panels:
        if p == "fit" and not is_data:
            continue
        if p == "step" and selected < 0:
            continue
        if p == "schedule" and not has_schedule:
            continue
        if p == "hyper" and not has_hyper:  # the hyper map: an axis chosen, a 2-D surface
            continue
        if (p == "lrfind" and not has_lrfind) or (p == "tuned" and not has_tuned):
            continue  # the lr finder's plot and the fair race's table: once there is one
        if p == "network" and not has_network:
            continue
        out.append(p)
    return tuple(out)
