"""The 3-D view's model state, Qt-free: which maps show, the log height, the camera.

``map_mode`` is "2d" (the contour map), "3d" (the surface in 3-D) or "both" (side by
side). ``camera`` is (azimuth°, elevation°, distance) of the 3-D view's orbit camera,
looking at the middle of the surface box, or None for the default view. The surface
is drawn in a normalised box (x and y in -1..1, the height in 0..1), so a camera suits
every problem.
"""

from __future__ import annotations

import math
from typing import Any

from gdviz.core.limits import MAX_CAMERA_DISTANCE, MIN_CAMERA_DISTANCE

MAP_MODES: tuple[str, ...] = ("2d", "3d", "both")
#: (azimuth, elevation, distance) the 3-D view opens with and a reset returns to
DEFAULT_CAMERA: tuple[float, float, float] = (-72.0, 30.0, 4.8)


def check_map_mode(v: Any) -> str:
    if v not in MAP_MODES:
        raise ValueError(f"Invalid map mode: {v!r} (choose from {', '.join(MAP_MODES)})")
    return str(v)


def check_camera(v: Any) -> tuple[float, float, float] | None:
    """(azimuth, elevation, distance): the azimuth any finite angle (kept in -180..180),
    the elevation -90..90 degrees, the distance MIN_CAMERA_DISTANCE..MAX_CAMERA_DISTANCE;
    or None (the default camera)."""
    if v is None:
        return None
    try:
        az, el, dist = (float(x) for x in v)
    except (TypeError, ValueError):
        raise ValueError("the camera must be three numbers: azimuth, elevation, distance") from None
    if not all(math.isfinite(x) for x in (az, el, dist)):
        raise ValueError(f"camera {[az, el, dist]} is not finite")
    if not -90.0 <= el <= 90.0:
        raise ValueError(f"camera elevation {el:g} is out of range (must be -90 to 90 degrees)")
    if not MIN_CAMERA_DISTANCE <= dist <= MAX_CAMERA_DISTANCE:
        raise ValueError(f"camera distance {dist:g} is out of range (must be "
                         f"{MIN_CAMERA_DISTANCE:g} to {MAX_CAMERA_DISTANCE:g})")
    az = (az + 180.0) % 360.0 - 180.0
    return (az, el, dist)


#: a live surface (a fit's slice) is recomputed on the UI thread at each step: its mesh is
#: made coarser, not below LIVE_MESH_MIN a side, to keep it within this many multiply-adds
#: (a 96x96 slice of 70,000 points took 266 ms a step; 16x16 takes ~20 ms)
LIVE_3D_WORK = 20_000_000
LIVE_MESH_MIN = 16


def live_mesh(n: int, work_per_cell: int) -> int:
    """The vertices a side of a live surface's mesh: ``n``, or fewer for a slice whose
    cells cost ``work_per_cell`` multiply-adds each (see LIVE_3D_WORK)."""
    fits = int(math.sqrt(LIVE_3D_WORK / max(1, int(work_per_cell))))
    return max(min(n, LIVE_MESH_MIN), min(n, fits))
