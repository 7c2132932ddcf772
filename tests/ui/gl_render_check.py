"""Run by tests/ui/test_surface3d.py in a process of its own, on a display where OpenGL
works (Xvfb + Mesa): render the 3-D view for real and report what it drew as JSON.

    python gl_render_check.py OUT.json PNG_DIR

Reports, per case: the image's colour spread (non-blank), each ball's projection through
the view's own camera matrices and the pixel colour there against the run's colour, and
the mesh uploads before and after stepping the race frame by frame.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
from PySide6.QtGui import QColor, QImage  # noqa: E402


def image_array(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    w, h = img.width(), img.height()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
    return buf.reshape(h, img.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()


def check_balls(view, session, arr) -> list[dict]:
    out = []
    pix = {r: view.project_to_pixels(p[None])[0] for r, p in view.ball_positions.items()}
    for r, (px, py) in pix.items():
        # a ball drawn later (a higher run) within a ball's size covers this one's centre
        covered = any(q > r and np.hypot(*(pix[q] - (px, py))) < 24 for q in pix)
        if covered:
            continue
        want = QColor(session.run_color(r))
        want = np.array([want.red(), want.green(), want.blue()], dtype=float)
        x, y = int(round(px)), int(round(py))
        inside = 0 <= x < arr.shape[1] and 0 <= y < arr.shape[0]
        got = arr[y, x].astype(float) if inside else np.full(3, -1.0)
        # the nearest pixel of the run's colour within 3 px (balls overlap: the last drawn wins)
        patch = arr[max(0, y - 3): y + 4, max(0, x - 3): x + 4].astype(float)
        near = float(np.min(np.abs(patch - want).sum(axis=-1))) if patch.size else 999.0
        out.append(dict(run=r, px=[float(px), float(py)], inside=inside, got=got.tolist(),
                        want=want.tolist(), distance=near))
    return out


def check_diverged(app, png_dir) -> dict:
    """L04: the lr x10 run diverges; its ✕ is drawn where the camera projects its last
    good position, in its colour."""
    from gdviz.core.scene import apply_scene, load_preset
    from gdviz.core.session import Session
    from gdviz.ui.views.surface3d_view import Surface3DView

    s = Session()
    apply_scene(load_preset("L04"), s)
    s.pause()
    v = Surface3DView(s)
    v.resize(640, 400)
    v.show()
    s.step(60)
    app.processEvents()
    img = v.grabFramebuffer()
    img.save(os.path.join(png_dir, "surface3d_diverged.png"))
    arr = image_array(img)
    out = dict(diverged=[list(d) for d in s.diverged()], crosses=[])
    for r, p in v.cross_positions.items():
        px, py = v.project_to_pixels(p[None])[0]
        want = QColor(s.run_color(r))
        got = arr[int(round(py)), int(round(px))].tolist()
        out["crosses"].append(dict(run=r, got=got, want=[want.red(), want.green(), want.blue()],
                                   is_ball=r in v.ball_positions))
    v.close()
    return out


def check_data_problems(app, png_dir) -> dict:
    """L03 (regression): the surface is L(w, b) over the map's box, the ball on it. L07
    (a fit): the surface is the live slice through the fit's parameters, and it morphs
    (a new mesh) as the fit moves."""
    import numpy as np

    from gdviz.core.scene import apply_scene, load_preset
    from gdviz.core.session import Session
    from gdviz.ui.views.surface3d_view import Surface3DView

    out = {}
    for lesson in ("L03", "L07"):
        s = Session()
        apply_scene(load_preset(lesson), s)
        s.pause()
        v = Surface3DView(s)
        v.resize(640, 400)
        v.show()
        app.processEvents()
        v.grabFramebuffer()
        H0, up0 = v.H.copy(), v.surface.uploads
        s.step(40)
        arr = image_array(v.grabFramebuffer())
        v.grabFramebuffer().save(os.path.join(png_dir, f"surface3d_{lesson}.png"))
        land = s.landscape
        x0, x1, y0, y1 = v.box
        z = land.grid(x0, x1, y0, y1, *v.H.shape[::-1])
        # the mesh's heights are the landscape's values, normalised (the same order)
        flat_h, flat_z = v.H.ravel(), z.ravel()
        order_ok = bool(np.corrcoef(flat_h, np.minimum(flat_z, np.percentile(flat_z, 99)))[0, 1] > 0.99) \
            if not s.log_height else True
        out[lesson] = dict(kind=s.kind, live=bool(getattr(land, "live", False)),
                           box_is_map=list(v.box) == [float(c) for c in s.view_box],
                           heights_follow_loss=order_ok,
                           uploads_before=up0, uploads_after=v.surface.uploads,
                           morphed=bool(np.abs(v.H - H0).max() > 1e-3) if v.H.shape == H0.shape else True,
                           balls=check_balls(v, s, arr))
        v.close()
    return out


def check_window(app, png_dir) -> dict:
    """The window with both maps: one session, one time, one selection; the camera is
    model state (a drag writes it, R resets it, a scene's restores it)."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    from gdviz.core.session import Session
    from gdviz.ui.main_window import MainWindow

    s = Session(starts=[(-1.5, 2.0), (1.2, -0.6)])
    win = MainWindow(s)
    win.resize(1280, 720)
    win.show()
    startup_probe = win.map_menu.gl_ok is not None
    win.map_menu.aboutToShow.emit()
    menu_ok = win.map_menu.gl_ok and win.map_menu.mode_actions["both"].isEnabled() \
        and not startup_probe
    win.map_menu.mode_actions["both"].trigger()
    app.processEvents()
    v = win.picture.surface3d_view
    out = dict(menu_ok=menu_ok, mode=s.map_mode, has_view=v is not None)
    out["both_visible"] = bool(v is not None and v.isVisibleTo(win)
                               and win.landscape_view.isVisibleTo(win))
    s.step(30)
    s.select(1)
    app.processEvents()
    now = s.project(s.positions())
    out["same_positions"] = bool(all(
        abs(v.to_box(now[r])[0] - p).max() < 1e-9 for r, p in v.ball_positions.items()))
    out["selected_width"] = float(v.trails[1].width)
    out["other_width"] = float(v.trails[0].width)
    win.grab().save(os.path.join(png_dir, "window_both.png"))
    # drag to orbit: the camera lands in the model
    c = v.rect().center()
    QTest.mousePress(v, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, c)
    ev_move = c + QPoint(80, 30)
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtCore import QEvent, QPointF

    move = QMouseEvent(QEvent.Type.MouseMove, QPointF(ev_move), QPointF(v.mapToGlobal(ev_move)),
                       Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    app.sendEvent(v, move)
    QTest.mouseRelease(v, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, ev_move)
    out["camera_after_drag"] = list(s.camera) if s.camera is not None else None
    t_before = s.t
    QTest.keyClick(v, Qt.Key.Key_Home)
    out["camera_after_r"] = s.camera
    out["race_kept"] = s.t == t_before and t_before > 0
    out["view_camera_after_r"] = list(v.camera())
    s.set_view3d(camera=(15.0, 50.0, 7.0))
    out["view_camera_set"] = list(v.camera())
    s.set_view3d(map_mode="3d")
    app.processEvents()
    out["three_only"] = bool(v.isVisibleTo(win) and not win.landscape_view.isVisibleTo(win))
    win.close()
    return out


def main() -> None:
    out_json, png_dir = sys.argv[1], sys.argv[2]
    from gdviz.ui.app import ensure_app

    app = ensure_app()
    from gdviz.ui import theme

    theme.configure_pyqtgraph()
    from gdviz.core.session import Session
    from gdviz.ui.gl_probe import gl_probe

    report = {"probe": list(gl_probe()), "cases": []}
    from gdviz.ui.views.surface3d_view import Surface3DView

    for name in ("light", "dark"):
        theme.apply(app, name)
        # two starts: the runs part ways, so the balls do not all cover each other
        s = Session(starts=[(-1.5, 2.0), (1.2, -0.6)])
        v = Surface3DView(s)
        v.resize(640, 400)
        v.show()
        s.step(40)
        app.processEvents()
        img = v.grabFramebuffer()
        img.save(os.path.join(png_dir, f"surface3d_{name}.png"))
        arr = image_array(img)
        uploads0, static0 = v.surface.uploads, v.static_renders
        # a race frame by frame: the runs move, the surface does not
        for _ in range(20):
            s.step(1)
            v.grabFramebuffer()
        arr2 = image_array(v.grabFramebuffer())
        report["cases"].append(dict(
            theme=name, size=[img.width(), img.height()],
            std=float(arr.std()), colours=int(len(np.unique(arr.reshape(-1, 3)[::7], axis=0))),
            balls=check_balls(v, s, arr2), uploads_first=uploads0,
            uploads_after=v.surface.uploads, static_redraws=v.static_renders - static0,
            trail_points=[int(len(t.pos)) if t.pos is not None else 0 for t in v.trails]))
        # a new surface is one upload more
        s.set_surface("himmelblau")
        v.grabFramebuffer()
        report["cases"][-1]["uploads_new_surface"] = v.surface.uploads
        v.close()
    report["diverged"] = check_diverged(app, png_dir)
    report["data"] = check_data_problems(app, png_dir)
    report["window"] = check_window(app, png_dir)
    with open(out_json, "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main()
