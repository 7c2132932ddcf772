"""The 3-D view: the loss surface as a hill, the runs as balls rolling down it.

A thin view of the same :class:`~gdviz.core.session.Session` the contour map observes
(one time, one set of runs, one selection), drawn with pyqtgraph's own OpenGL items:

- the surface: one :class:`GLMeshItem` over the map's box, coloured with the map's own
  colour ramp and scale (the heatmap's colours), lit softly so the slopes read; its
  height is the loss, or log10 of the loss above the minimum (``session.log_height``);
- the contour lines on the floor, from the map's contour kernel and levels
  (:func:`gdviz.kernels.contour.contour_segments`, :func:`nice_levels`);
- each run as a ball on the surface with its trail, in the run's colour; a diverged run
  as a ✕ at its last good step; the minima as stars on the surface.

The mesh is uploaded to the GPU only when the surface changes (a new problem, box,
scale or height; a fit's slice as the fit moves), never per frame: ``mesh_uploads``
counts the uploads. The runs move as small buffers (balls, trails).

Drag orbits, the wheel zooms, Home resets the camera (View ▸ Map has it too); the camera is
``session.camera`` (scenes store it). This module imports ``pyqtgraph.opengl`` (and so
PyOpenGL): import it only where :func:`gdviz.ui.gl_probe.gl_available` says a context
can be made.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pyqtgraph.opengl as gl
from OpenGL import GL
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QMatrix4x4, QVector4D

from gdviz.core.i18n import tr
from gdviz.core.view3d import DEFAULT_CAMERA, LIVE_3D_WORK, LIVE_MESH_MIN, live_mesh
from gdviz.kernels.contour import contour_segments, nice_levels
from gdviz.ui import theme
from gdviz.ui.views.items import connect_all, disconnect_all
from gdviz.ui.views.live_grid import MAX_CONTOUR_SEGMENTS, grid_within
from gdviz.ui.views.ranges import finite_box

#: vertices a side of the surface mesh (the map's grid); a live surface (a fit's slice,
#: recomputed as the fit moves) uses LIVE_MESH
MESH = 256
LIVE_MESH = 96
#: the surface's height in the normalised box (x, y in -1..1)
HEIGHT = 1.0
#: the floor (contour lines) sits this far below the surface's lowest point
FLOOR = -0.35
#: a trail point kept per this many steps at most (a long race is thinned to ~this many)
MAX_TRAIL_POINTS = 4000
#: the camera's field of view across the panel's narrower side (degrees)
FOV = 40
#: a drawn cell of the surface is at least this many pixels across (see draw_stride)
MIN_CELL_PX = 6.0
BALL_PX = 22
START_PX = 13
#: a ✕'s half-diagonal, as a share of the camera's distance, and its stroke (px)
CROSS_SIZE = 0.018
CROSS_WIDTH = 5.0
MINIMUM_PX = 16
TRAIL_WIDTH = 3.0
#: balls and trails are lifted this much above the surface (normalised units)
LIFT = 0.012
#: the heights above this percentile of the surface are flattened (a steep wall would
#: squash the valley the runs race in to a sheet)
HEIGHT_CLIP_PERCENTILE = 99.0

#: GL state of what is drawn over the surface whatever is in front (balls, trails)
_ON_TOP = {GL.GL_DEPTH_TEST: False, GL.GL_BLEND: True, GL.GL_CULL_FACE: False,
           "glBlendFuncSeparate": (GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA,
                                   GL.GL_ONE, GL.GL_ONE_MINUS_SRC_ALPHA)}


class CountingMesh(gl.GLMeshItem):
    """A GLMeshItem that counts its uploads to the GPU (tests, the bench)."""

    uploads = 0

    def upload_vertex_buffers(self, dirty_bits):
        if dirty_bits:
            self.uploads += 1
        return super().upload_vertex_buffers(dirty_bits)


_FACES: dict[tuple[int, int, int], np.ndarray] = {}


def grid_faces(ny: int, nx: int, k: int = 1) -> np.ndarray:
    """Two triangles per cell of an ny × nx vertex grid, through every ``k``-th vertex
    (and the last) of each row and column: uint32 (2 (my-1)(mx-1), 3)."""
    key = (ny, nx, k)
    if key not in _FACES:
        rows = np.unique(np.r_[np.arange(0, ny, k), ny - 1])
        cols = np.unique(np.r_[np.arange(0, nx, k), nx - 1])
        idx = (rows[:, None] * nx + cols[None, :]).astype(np.uint32)
        a, b = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel()
        c, d = idx[1:, :-1].ravel(), idx[1:, 1:].ravel()
        _FACES[key] = np.concatenate([np.column_stack([a, b, d]), np.column_stack([a, d, c])])
    return _FACES[key]


def draw_stride(cell_px: float) -> int:
    """How many grid cells one drawn cell spans: the smallest of 1, 2, 4 that makes a
    drawn cell at least MIN_CELL_PX on screen (a software renderer pays per triangle,
    and triangles of a pixel or two add nothing the eye can see)."""
    for k in (1, 2, 4):
        if cell_px * k >= MIN_CELL_PX:
            return k
    return 4


def grid_normals(Z: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Unit normals of the height field Z (ny, nx) on a grid of spacing dx, dy: (ny*nx, 3)."""
    gy, gx = np.gradient(Z, dy, dx)
    n = np.stack([-gx, -gy, np.ones_like(Z)], axis=-1).reshape(-1, 3)
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    return n.astype(np.float32)


#: the light's direction (towards it), fixed to the surface box
LIGHT = np.array([-0.4, -0.5, 1.0]) / np.linalg.norm([-0.4, -0.5, 1.0])


def lighting(normals: np.ndarray) -> np.ndarray:
    """Brightness per vertex under a soft light from above: 0.65 (facing away) .. 1.0, so
    the ramp's colours stay recognisable and the slopes read."""
    return (0.65 + 0.35 * np.abs(normals @ LIGHT)).astype(np.float32)


def bilinear(H: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """H (ny, nx) sampled at fractional indices u (along x) and v (along y), clamped."""
    ny, nx = H.shape
    u = np.clip(u, 0.0, nx - 1.0)
    v = np.clip(v, 0.0, ny - 1.0)
    i0 = np.minimum(np.floor(u).astype(np.intp), nx - 2)
    j0 = np.minimum(np.floor(v).astype(np.intp), ny - 2)
    fu, fv = u - i0, v - j0
    h00, h10 = H[j0, i0], H[j0, i0 + 1]
    h01, h11 = H[j0 + 1, i0], H[j0 + 1, i0 + 1]
    return (h00 * (1 - fu) * (1 - fv) + h10 * fu * (1 - fv) + h01 * (1 - fu) * fv
            + h11 * fu * fv)


def _rgba(color, alpha: float = 1.0) -> tuple[float, float, float, float]:
    c = QColor(color)
    return (c.redF(), c.greenF(), c.blueF(), float(alpha))


class Surface3DView(gl.GLViewWidget):
    """The current surface in 3-D with the runs on it (see the module docstring)."""

    def __init__(self, session, parent=None, *, mesh: int = MESH):
        super().__init__(parent=parent)
        self._static_version = 0  # bumped whenever the surface, floor or minima change
        self.session = session
        from gdviz.core.limits import MAX_MESH_3D

        self.mesh_n = max(2, min(int(mesh), MAX_MESH_3D))
        self.setObjectName("surface3d")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(160, 120)
        #: the surface's box (x0, x1, y0, y1), its heights in the normalised box (ny, nx)
        self.box = (0.0, 1.0, 0.0, 1.0)
        self.H: np.ndarray | None = None
        self._surface_key = None

        # the light is fixed to the surface (from above), so it is baked into the vertex
        # colours at upload: the GPU draws plain colours (llvmpipe's cost is per pixel)
        self.surface = CountingMesh(smooth=True, computeNormals=False, shader=None,
                                    glOptions="opaque")
        self.addItem(self.surface)
        # (not antialiased: a smoothed line costs llvmpipe ~10x, and the floor has thousands)
        self.floor_lines = gl.GLLinePlotItem(mode="lines", width=1.0, antialias=False,
                                             glOptions="translucent")
        self.addItem(self.floor_lines)
        self.minima = gl.GLScatterPlotItem(size=MINIMUM_PX, pxMode=True, glOptions="translucent")
        self.minima.setGLOptions(_ON_TOP)
        self.minima.setDepthValue(15)
        self.addItem(self.minima)
        self.trails: list[gl.GLLinePlotItem] = []
        # balls and ✕ marks are drawn over everything (a ball behind a hill still shows)
        self.balls = gl.GLScatterPlotItem(size=BALL_PX, pxMode=True, glOptions="translucent")
        self.balls.setGLOptions(_ON_TOP)
        self.balls.setDepthValue(20)
        self.addItem(self.balls)
        # the starts, as on the map: a small mark in the theme's start colour, under the balls
        self.starts = gl.GLScatterPlotItem(size=START_PX, pxMode=True)
        self.starts.setGLOptions(_ON_TOP)
        self.starts.setDepthValue(8)
        self.addItem(self.starts)
        self.ball_rims = gl.GLScatterPlotItem(size=BALL_PX + 5, pxMode=True)
        self.ball_rims.setGLOptions(_ON_TOP)
        self.ball_rims.setDepthValue(19)
        self.addItem(self.ball_rims)
        # a diverged run's ✕: two strokes facing the camera, in the run's colour over a
        # dark rim (GL lines, so every way of drawing the view shows them)
        self.cross_rims = gl.GLLinePlotItem(mode="lines", width=CROSS_WIDTH + 4, antialias=True)
        self.cross_lines = gl.GLLinePlotItem(mode="lines", width=CROSS_WIDTH, antialias=True)
        for z, item in ((28, self.cross_rims), (29, self.cross_lines)):
            item.setGLOptions(_ON_TOP)
            item.setDepthValue(z)
            item.setVisible(False)
            self.addItem(item)
        self._crosses: list = []
        # the two parameters' names at the floor's edges (which way is w, which is b)
        self.axis_labels = [gl.GLTextItem(alignment=Qt.AlignmentFlag.AlignCenter) for _ in range(2)]
        for item in self.axis_labels:
            item.setDepthValue(25)
            self.addItem(item)
        #: what the balls show now: run index -> (x, y, z) in the normalised box
        self.ball_positions: dict[int, np.ndarray] = {}
        self.cross_positions: dict[int, np.ndarray] = {}

        s = session
        self._connections = connect_all([
            (s.problem_changed, self._on_problem_changed),
            (s.runs_changed, self._on_runs_changed),
            (s.stepped, self._on_stepped),
            (s.selection_changed, self._on_stepped),
            (s.events.levels, self._on_surface_settings),
            (s.events.scale, self._on_surface_settings),
            (s.events.log_height, self._on_surface_settings),
            (s.events.camera, self._on_camera_changed),
        ])
        self._apply_theme()
        self._crosses = []
        #: the static layer (surface, floor, minima): its framebuffer, what it shows, and
        #: how often it was drawn (tests, bench: not per frame)
        self._static_fbo = None
        self._static_key = None
        self.static_renders = 0
        self.setToolTip(tr("tip_surface3d"))
        self._on_camera_changed(s.camera)
        self._on_problem_changed()

    # ------------------------------------------------------------------ camera
    def camera(self) -> tuple[float, float, float]:
        o = self.opts
        return (float(o["azimuth"]), float(o["elevation"]), float(o["distance"]))

    def _on_camera_changed(self, cam=None) -> None:
        az, el, dist = cam if cam is not None else DEFAULT_CAMERA
        self.opts["center"] = pg.Vector(0.0, 0.0, 0.5 * (FLOOR + HEIGHT))
        self.setCameraPosition(distance=dist, elevation=el, azimuth=az)
        self.opts["fov"] = FOV
        if getattr(self, "_crosses", None):
            self._set_crosses(self._crosses)

    def reset_camera(self) -> None:
        """Home: back to the default camera (into the model)."""
        self.session.set_view3d(camera=None)
        self._on_camera_changed(None)

    def _store_camera(self) -> None:
        az, el, dist = self.camera()
        el = max(-90.0, min(90.0, el))
        from gdviz.core.limits import MAX_CAMERA_DISTANCE, MIN_CAMERA_DISTANCE

        dist = max(MIN_CAMERA_DISTANCE, min(MAX_CAMERA_DISTANCE, dist))
        self.session.set_view3d(camera=(az, el, dist))

    def mouseReleaseEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().mouseReleaseEvent(ev)
        self._store_camera()

    def wheelEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().wheelEvent(ev)
        self._store_camera()
        self._check_stride()

    def _stride(self, n: int) -> int:
        """The draw stride for an n × n mesh at this size and camera distance (the box
        spans about 0.7 of the panel's longer side at the default distance)."""
        side = max(self.width(), self.height(), 1) * self.devicePixelRatioF()
        zoom = DEFAULT_CAMERA[2] / max(float(self.opts["distance"]), 1e-9)
        return draw_stride(0.7 * side * zoom / max(n - 1, 1))

    def _check_stride(self) -> None:
        """A new size or zoom that wants another draw stride: the faces again (once)."""
        if self.H is not None and self._stride(self.H.shape[1]) != getattr(self, "stride", 1):
            self._surface_key = None
            self._update_surface()

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(ev)
        self._check_stride()

    def keyPressEvent(self, ev) -> None:  # noqa: N802 - Qt API
        if ev.key() == Qt.Key.Key_Home:  # (R is the window's: reset the race)
            self.reset_camera()
            ev.accept()
            return
        super().keyPressEvent(ev)

    def projectionMatrix(self, region, viewport):  # noqa: N802 - pyqtgraph API
        """pyqtgraph's frustum with ``fov`` across the panel's narrower side (its own is
        always across the width: a wide, short panel cut the hill's top and bottom off)."""
        x0, y0, w, h = viewport
        dist = self.opts["distance"]
        near, far = dist * 0.001, dist * 1000.0
        half = near * math.tan(0.5 * math.radians(self.opts["fov"]))
        if w >= h:
            t, r = half, half * w / max(h, 1)
        else:
            r, t = half, half * h / max(w, 1)
        left = r * ((region[0] - x0) * (2.0 / w) - 1)
        right = r * ((region[0] + region[2] - x0) * (2.0 / w) - 1)
        bottom = t * ((region[1] - y0) * (2.0 / h) - 1)
        top = t * ((region[1] + region[3] - y0) * (2.0 / h) - 1)
        m = QMatrix4x4()
        m.frustum(left, right, bottom, top, near, far)
        return m

    def mvp(self) -> QMatrix4x4:
        """The camera's projection × view matrix for this widget's size."""
        w, h = max(self.width(), 1), max(self.height(), 1)
        return self.projectionMatrix((0, 0, w, h), (0, 0, w, h)) * self.viewMatrix()

    def project_to_pixels(self, pts: np.ndarray) -> np.ndarray:
        """Points of the normalised box (k, 3) -> widget pixels (k, 2), y down."""
        m = self.mvp()
        w, h = self.width(), self.height()
        out = []
        for p in np.asarray(pts, dtype=np.float64).reshape(-1, 3):
            c = m.map(QVector4D(float(p[0]), float(p[1]), float(p[2]), 1.0))
            x, y = c.x() / c.w(), c.y() / c.w()
            out.append(((x + 1) * 0.5 * w, (1 - y) * 0.5 * h))
        return np.asarray(out).reshape(-1, 2)

    # ------------------------------------------------------------------ surface
    def _on_surface_settings(self, *_) -> None:
        self._surface_key = None
        self._update_surface()
        self._on_stepped()

    def _label_axes(self) -> None:
        pal = theme.palette(theme.current())
        font = theme.font(theme.LABEL_PT, bold=True)
        names = self.session.param_names
        at = ((1.22, -1.0, FLOOR), (1.0, 1.22, FLOOR))  # past the end of each axis
        for item, name, pos in zip(self.axis_labels, names, at):
            item.setData(text=f"{name}", pos=np.array(pos), color=QColor(pal["foreground"]),
                         font=font)

    def _on_problem_changed(self) -> None:
        self._label_axes()
        self._surface_key = None
        mins = np.asarray(getattr(self.session.landscape, "minima", ()), dtype=np.float64)
        self._minima_xy = mins.reshape(-1, 2)
        self._update_surface()
        self._on_runs_changed()

    def _update_surface(self) -> None:
        """Evaluate the surface on the map's box and upload the mesh, if it changed."""
        s = self.session
        land = s.landscape
        live = bool(getattr(land, "live", False))
        box = finite_box(s.view_box)
        key = (id(land), land.key() if live else None, box, s.scale, s.levels,
               bool(s.log_height), theme.current())
        if key == self._surface_key:
            return
        self._surface_key = key
        x0, x1, y0, y1 = self.box = tuple(float(v) for v in box)
        n = min(self.mesh_n, LIVE_MESH) if live else self.mesh_n
        per_cell = getattr(land, "work_per_cell", None) if live else None
        if per_cell is not None:  # (computed here at each step: within LIVE_3D_WORK)
            n = live_mesh(n, per_cell())
        elif not live:  # (MAE over 100,000 points: ~1.3 s at 256x256; within it too)
            n = grid_within(n, land, LIVE_3D_WORK, LIVE_MESH_MIN)
        with np.errstate(all="ignore"):
            z = np.ascontiguousarray(land.grid(x0, x1, y0, y1, n, n), dtype=np.float64)
        finite = z[np.isfinite(z)]
        if finite.size == 0:
            self.surface.setVisible(False)
            self.floor_lines.setVisible(False)
            self._static_version += 1
            self.H = None
            return
        self.surface.setVisible(True)
        from gdviz.ui.views.landscape_view import LOG_SCALE

        log_colours = LOG_SCALE.get(s.scale, bool(land.log_levels))
        zmin = float(finite.min())
        zfix = np.where(np.isfinite(z), z, float(finite.max()))
        min_value = getattr(land, "min_value", None)

        def log_of(a, log):
            base = float(min_value) if (log and min_value is not None and min_value <= zmin) else zmin
            if not log:
                return a
            span = max(float(finite.max()) - base, 1e-300)
            return np.log10(np.maximum(a - base, 0.0) + span * 1e-6)

        with np.errstate(all="ignore"):
            col = log_of(zfix, log_colours)  # the heatmap's value (the map's colours)
            hgt = log_of(zfix, bool(s.log_height))
        lo, hi = float(np.percentile(col, 1)), float(col.max())
        if not hi > lo:
            hi = lo + 1.0
        t = np.clip((col - lo) / (hi - lo), 0.0, 1.0)
        colors = theme.colormap().map(t.ravel(), mode="float").astype(np.float32)
        if colors.shape[1] == 3:
            colors = np.column_stack([colors, np.ones(len(colors), np.float32)])
        # a log height's lowest percent is its floor: log10 of a loss near 0 is a needle
        # many decades deep, which hides the valley (the map's colours clip it the same way)
        h_lo = float(np.percentile(hgt, 1)) if s.log_height else float(hgt.min())
        h_hi = float(np.percentile(hgt, HEIGHT_CLIP_PERCENTILE))
        if not h_hi > h_lo:
            h_hi = h_lo + 1.0
        self._h_range = (h_lo, h_hi, bool(s.log_height), log_of)
        H = HEIGHT * np.clip((hgt - h_lo) / (h_hi - h_lo), 0.0, 1.0)
        self.H = H
        xs = np.linspace(-1.0, 1.0, n)
        X, Y = np.meshgrid(xs, xs)
        verts = np.column_stack([X.ravel(), Y.ravel(), H.ravel()]).astype(np.float32)
        normals = grid_normals(H, 2.0 / (n - 1), 2.0 / (n - 1))
        colors[:, :3] *= lighting(normals)[:, None]
        self.stride = self._stride(n)
        md = gl.MeshData(vertexes=verts, faces=grid_faces(n, n, self.stride), vertexColors=colors)
        self.surface.setMeshData(meshdata=md)
        # the floor: the map's contour lines (same kernel, same levels)
        levels = nice_levels(z, s.levels, log_colours)
        # the floor is seen small and slanted: the map's levels through every stride-th
        # grid point (the drawn surface's), not a segment per 3-pixel cell
        k = self.stride
        zf = np.ascontiguousarray(z[::k, ::k])
        fx1 = x0 + (zf.shape[1] - 1) * k * (x1 - x0) / (n - 1)
        fy1 = y0 + (zf.shape[0] - 1) * k * (y1 - y0) / (n - 1)
        xy, _ = contour_segments(zf, x0, fx1, y0, fy1, levels, max_segments=MAX_CONTOUR_SEGMENTS)
        if len(xy):
            pos = np.column_stack([self._nx(xy[:, 0]), self._ny(xy[:, 1]),
                                   np.full(len(xy), FLOOR)]).astype(np.float32)
            self.floor_lines.setData(pos=pos)
            self.floor_lines.setVisible(True)
        else:
            self.floor_lines.setVisible(False)
        self._place_minima()
        self._place_starts()
        self._static_version += 1

    def _nx(self, x):
        x0, x1 = self.box[0], self.box[1]
        return 2.0 * (np.asarray(x, dtype=np.float64) - x0) / (x1 - x0) - 1.0

    def _ny(self, y):
        y0, y1 = self.box[2], self.box[3]
        return 2.0 * (np.asarray(y, dtype=np.float64) - y0) / (y1 - y0) - 1.0

    def to_box(self, xy: np.ndarray) -> np.ndarray:
        """Points of the map (k, 2) -> on the surface in the normalised box (k, 3); points
        off the map are pinned to its edge."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        X = np.clip(self._nx(xy[:, 0]), -1.0, 1.0)
        Y = np.clip(self._ny(xy[:, 1]), -1.0, 1.0)
        if self.H is None:
            Z = np.zeros(len(X))
        else:
            n = self.H.shape[1] - 1
            Z = bilinear(self.H, (X + 1) * 0.5 * n, (Y + 1) * 0.5 * (self.H.shape[0] - 1))
        return np.column_stack([X, Y, Z + LIFT])

    def trail_pairs(self, xy: np.ndarray) -> np.ndarray:
        """A path on the map (m, 2) as line segments on the surface, float32 (2k, 3): the
        segments with both ends inside the box (a run that leaves the map is cut at its
        edge, as on the contour map, not dragged along it)."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        if len(xy) < 2:
            return np.zeros((0, 3), np.float32)
        x0, x1, y0, y1 = self.box
        inside = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
        keep = inside[:-1] & inside[1:]
        if not keep.any():
            return np.zeros((0, 3), np.float32)
        pts = self.to_box(xy)
        a, b = pts[:-1][keep], pts[1:][keep]
        return np.stack([a, b], axis=1).reshape(-1, 3).astype(np.float32)

    def _place_minima(self) -> None:
        mins = self._minima_xy
        x0, x1, y0, y1 = self.box
        inside = mins[(mins[:, 0] >= x0) & (mins[:, 0] <= x1)
                      & (mins[:, 1] >= y0) & (mins[:, 1] <= y1)] if len(mins) else mins
        if len(inside) and self.H is not None:
            pal = theme.palette(theme.current())
            self.minima.setData(pos=self.to_box(inside).astype(np.float32),
                                color=_rgba(pal["minima"]), size=MINIMUM_PX)
            self.minima.setVisible(True)
        else:
            self.minima.setVisible(False)

    # ------------------------------------------------------------------ runs
    def _on_runs_changed(self) -> None:
        s = self.session
        n = s.n_runs
        while len(self.trails) < n:
            item = gl.GLLinePlotItem(mode="lines", width=TRAIL_WIDTH, antialias=True)
            item.setGLOptions(_ON_TOP)
            item.setDepthValue(10)
            self.addItem(item)
            self.trails.append(item)
        while len(self.trails) > n:
            self.removeItem(self.trails.pop())
        self._place_starts()
        self._on_stepped()

    def _place_starts(self) -> None:
        s = self.session
        if self.H is None or not s.starts:
            self.starts.setVisible(False)
            return
        pal = theme.palette(theme.current())
        xy = np.asarray([s.project(p) for p in s.starts], dtype=np.float64).reshape(-1, 2)
        self.starts.setData(pos=self.to_box(xy).astype(np.float32), color=_rgba(pal["start"]),
                            size=START_PX)
        self.starts.setVisible(True)

    def _on_stepped(self, *_) -> None:
        s = self.session
        if len(self.trails) != s.n_runs:
            self._on_runs_changed()
            return
        if getattr(s.landscape, "live", False):
            self._update_surface()  # a fit's slice moves with the fit (uploads if it did)
        pal = theme.palette(theme.current())
        t = s.t
        diverged = dict(s.diverged())
        now = np.asarray(s.project(s.positions()), dtype=np.float64).reshape(s.n_runs, 2)
        balls, ball_colors = [], []
        self.ball_positions, self.cross_positions = {}, {}
        crosses = []
        for r in range(s.n_runs):
            item = self.trails[r]
            if not s.run_enabled(r):
                item.setVisible(False)
                continue
            P, _ = s.runset.trajectory(r, t)
            xy = s.project(P)
            if len(xy) > MAX_TRAIL_POINTS:
                k = math.ceil(len(xy) / MAX_TRAIL_POINTS)
                xy = np.concatenate([xy[::k], xy[-1:]])
            ok = np.isfinite(xy).all(axis=1)
            xy = xy[ok]
            if np.isfinite(now[r]).all():
                xy = np.concatenate([xy, now[r][None]])
            color = _rgba(s.run_color(r))
            pairs = self.trail_pairs(xy)
            if len(pairs):
                item.setData(pos=pairs, color=color,
                             width=TRAIL_WIDTH * (1.6 if r == s.selected else 1.0))
                item.setVisible(True)
            else:
                item.setVisible(False)
            if not np.isfinite(now[r]).all():
                continue
            p = self.to_box(now[r])[0]
            if r in diverged:
                self.cross_positions[r] = p
                crosses.append((p, s.run_color(r)))
            else:
                self.ball_positions[r] = p
                balls.append(p)
                ball_colors.append(color)
        if balls:
            pos = np.asarray(balls, dtype=np.float32)
            self.balls.setData(pos=pos, color=np.asarray(ball_colors, dtype=np.float32),
                               size=BALL_PX)
            self.ball_rims.setData(pos=pos, color=_rgba(pal["halo"], 0.9), size=BALL_PX + 5)
            self.balls.setVisible(True)
            self.ball_rims.setVisible(True)
        else:
            self.balls.setVisible(False)
            self.ball_rims.setVisible(False)
        self._set_crosses(crosses)

    def _set_crosses(self, crosses) -> None:
        """✕ marks at ``crosses`` [(point (3,), colour)], drawn facing the camera now."""
        self._crosses = list(crosses)
        if not crosses:
            self.cross_lines.setVisible(False)
            self.cross_rims.setVisible(False)
            return
        inv, _ = self.viewMatrix().inverted()
        right = np.array([inv.column(0).x(), inv.column(0).y(), inv.column(0).z()])
        up = np.array([inv.column(1).x(), inv.column(1).y(), inv.column(1).z()])
        k = CROSS_SIZE * self.opts["distance"]
        pts, cols = [], []
        for p, color in crosses:
            p = np.asarray(p, dtype=np.float64)
            for d in (right + up, right - up):
                pts += [p - k * d, p + k * d]
                cols += [_rgba(color)] * 2
        pos = np.asarray(pts, dtype=np.float32)
        self.cross_lines.setData(pos=pos, color=np.asarray(cols, dtype=np.float32))
        pal = theme.palette(theme.current())
        self.cross_rims.setData(pos=pos, color=_rgba(pal["halo"], 0.9))
        self.cross_lines.setVisible(True)
        self.cross_rims.setVisible(True)

    def orbit(self, azim, elev):  # the ✕ marks turn to face the camera
        super().orbit(azim, elev)
        if self._crosses:
            self._set_crosses(self._crosses)

    # ------------------------------------------------------------------ theme
    # ------------------------------------------------------------------ drawing
    def _static_items(self) -> list:
        """What does not move during a race: the surface, the floor, the minima."""
        return [self.surface, self.floor_lines, self.minima]

    def _draw_items(self, items) -> None:
        for item in sorted(items, key=lambda i: i.depthValue()):
            if not item.visible():
                continue
            if self.default_vao.isCreated():
                self.default_vao.bind()
            self._modelViewStack.append(self.currentModelView() * item.transform())
            try:
                item.paint()
            finally:
                self._modelViewStack.pop()

    def paintGL(self) -> None:  # noqa: N802 - Qt API
        """Draw the surface, the floor and the minima into a framebuffer of their own only
        when they or the camera change; a frame of the race copies it and draws the runs
        (balls, trails and marks are drawn over everything, so they need no depth). A
        software renderer spends most of a frame on the surface's triangles."""
        from PySide6.QtOpenGL import QOpenGLFramebufferObject

        region = self.getViewport()
        w, h = max(self.deviceWidth(), 1), max(self.deviceHeight(), 1)
        default = self.defaultFramebufferObject()
        o = self.opts
        c = o["center"]
        key = (w, h, o["distance"], o["elevation"], o["azimuth"], o["fov"],
               (c.x(), c.y(), c.z()), tuple(o["bgcolor"]), self._static_version,
               tuple(i.visible() for i in self._static_items()))
        fbo = self._static_fbo
        if fbo is None or (fbo.width(), fbo.height()) != (w, h):
            fbo = self._static_fbo = QOpenGLFramebufferObject(
                w, h, QOpenGLFramebufferObject.Attachment.Depth)
            self._static_key = None
        self.setProjection(region, region)
        self.setModelview()
        if key != self._static_key:
            self._static_key = key
            self.static_renders += 1
            fbo.bind()
            GL.glViewport(0, 0, w, h)
            GL.glClearColor(*o["bgcolor"])
            GL.glClear(GL.GL_DEPTH_BUFFER_BIT | GL.GL_COLOR_BUFFER_BIT)
            self._draw_items(self._static_items())
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, default)
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, fbo.handle())
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, default)
        GL.glBlitFramebuffer(0, 0, w, h, 0, 0, w, h, GL.GL_COLOR_BUFFER_BIT, GL.GL_NEAREST)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, default)
        GL.glViewport(0, 0, w, h)
        static = set(map(id, self._static_items()))
        self._draw_items([i for i in self.items if id(i) not in static])

    def _apply_theme(self) -> None:
        pal = theme.palette(theme.current())
        self.setBackgroundColor(pal["background"])
        c = _rgba(pal["contour"], pal["contour_alpha"] / 255.0)
        self.floor_lines.setData(color=c)
        self._surface_key = None

    def changeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().changeEvent(ev)
        if ev.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._apply_theme()
            self._label_axes()
            self._update_surface()
            self._on_stepped()
        elif ev.type() == QEvent.Type.LanguageChange:
            self.setToolTip(tr("tip_surface3d"))

    def render_image(self, width: int, height: int):
        """The view drawn at ``width`` × ``height`` pixels (a QImage), for export and tests."""
        if (self.width(), self.height()) != (width, height):
            self.resize(width, height)
        return self.grabFramebuffer()

    def close(self) -> bool:
        disconnect_all(self._connections)
        self._connections = []
        return super().close()
