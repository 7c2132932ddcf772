"""The surface registry, its known minima, get_surface, and Landscape."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import gdviz.kernels
from gdviz.core.surfaces import SURFACES, Landscape, get_surface
from gdviz.kernels import surfaces as ks
from gdviz.kernels.surfaces import SURFACE_IDS, surface_vg

TABLE = ["quadratic", "ellipse", "saddle", "rosenbrock", "beale", "himmelblau", "booth",
         "matyas", "six-hump-camel", "rastrigin", "ackley", "goldstein-price"]


@pytest.fixture
def ready_state():
    """Restore gdviz.kernels' ready flag after a test flips it."""
    was = gdviz.kernels.is_ready()
    yield
    gdviz.kernels.mark_ready(was)


def hessian(sid, x, y, h=1e-5):
    H = np.empty((2, 2))
    for k, (dx, dy) in enumerate([(h, 0.0), (0.0, h)]):
        gp = np.array(surface_vg(sid, x + dx, y + dy)[1:])
        gm = np.array(surface_vg(sid, x - dx, y - dy)[1:])
        H[:, k] = (gp - gm) / (2 * h)
    return 0.5 * (H + H.T)


def test_registry_order_ids_and_fields():
    assert list(SURFACES) == TABLE
    for name, s in SURFACES.items():
        assert s.name == name and s.sid == SURFACE_IDS[name]
        x0, x1, y0, y1 = s.view
        assert x0 < x1 and y0 < y1
        assert s.formula and "**" not in s.formula
        for p in s.minima + s.local_minima + s.saddle_points:
            assert x0 <= p[0] <= x1 and y0 <= p[1] <= y1, (name, p)
    assert SURFACES["rosenbrock"].formula == "(1−x)² + 100(y−x²)²"
    assert SURFACES["rosenbrock"].view == (-2.0, 2.0, -1.0, 3.0)
    assert SURFACES["rastrigin"].view == (-5.12, 5.12, -5.12, 5.12)
    assert len(SURFACES["himmelblau"].minima) == 4
    assert SURFACES["saddle"].minima == () and SURFACES["saddle"].saddle_points == ((0.0, 0.0),)
    assert SURFACES["saddle"].min_value is None
    with pytest.raises(AttributeError):
        SURFACES["booth"].sid = 3  # frozen


@pytest.mark.parametrize("name,point,value", [
    ("quadratic", (0, 0), 0.0), ("ellipse", (0, 0), 0.0), ("rosenbrock", (1, 1), 0.0),
    ("beale", (3, 0.5), 0.0), ("himmelblau", (3, 2), 0.0), ("booth", (1, 3), 0.0),
    ("matyas", (0, 0), 0.0), ("six-hump-camel", (0.0898, -0.7126), -1.0316),
    ("six-hump-camel", (-0.0898, 0.7126), -1.0316), ("rastrigin", (0, 0), 0.0),
    ("ackley", (0, 0), 0.0), ("goldstein-price", (0, -1), 3.0)])
def test_textbook_minima_are_listed(name, point, value):
    s = SURFACES[name]
    assert s.min_value == pytest.approx(value, abs=1e-4)
    assert any(np.allclose(m, point, atol=1e-4) for m in s.minima)


@pytest.mark.parametrize("name", TABLE)
def test_minima_and_saddles_are_what_they_claim(name):
    s = SURFACES[name]
    for kind, points in (("global", s.minima), ("local", s.local_minima),
                         ("saddle", s.saddle_points)):
        for x, y in points:
            f, gx, gy = surface_vg(s.sid, x, y)
            H = hessian(s.sid, x, y)
            scale = np.max(np.abs(H))
            assert abs(gx) < 1e-9 * scale and abs(gy) < 1e-9 * scale, (name, kind, x, y)
            eig = np.linalg.eigvalsh(H)
            if kind == "saddle":
                assert eig[0] < 0 < eig[1], (name, x, y, eig)
            else:
                assert eig[0] > 0, (name, x, y, eig)
            if kind == "global":
                assert f == pytest.approx(s.min_value, abs=1e-12)
            elif kind == "local":
                assert f > s.min_value + 0.1


@pytest.mark.parametrize("name", [n for n in TABLE if SURFACES[n].min_value is not None])
def test_nothing_on_the_view_grid_beats_the_global_minimum(name):
    s = SURFACES[name]
    z = Landscape.from_surface(name).grid(*s.view, 301, 301, fast=True)
    assert z.min() >= s.min_value - 1e-12


@pytest.mark.parametrize("text,message", [
    ("rosenbrok", r"^unknown surface 'rosenbrok'; did you mean 'rosenbrock'\?$"),
    ("sixhump camel", r"did you mean 'six-hump-camel'\?"),
    ("foo", r"^unknown surface 'foo' \(choose from quadratic, ellipse, .*, goldstein-price\)$"),
])
def test_get_surface_messages(text, message):
    with pytest.raises(ValueError, match=message):
        get_surface(text)


def test_get_surface_forgives_case_and_underscores():
    assert get_surface("Six_Hump_Camel") is SURFACES["six-hump-camel"]
    assert get_surface(" rosenbrock ") is SURFACES["rosenbrock"]


def test_landscape_from_surface_attributes():
    land = Landscape.from_surface("himmelblau")
    assert (land.name, land.sid, land.view) == ("himmelblau", 5, (-6.0, 6.0, -6.0, 6.0))
    assert land.label == SURFACES["himmelblau"].formula
    assert land.log_levels is True and land.n_params == 2 and land.expr is None
    assert land.minima.shape == (4, 2) and land.minima.dtype == np.float64
    assert land.saddle_points.shape == (4, 2) and land.local_minima.shape == (0, 2)
    assert land.code.shape == (0,) and land.code.dtype == np.int64
    assert land.consts.shape == (0,) and land.consts.dtype == np.float64
    with pytest.raises(ValueError, match="did you mean 'ackley'"):
        Landscape.from_surface("ackly")


@pytest.mark.parametrize("name", TABLE)
def test_landscape_fast_and_twin_agree(name):
    land = Landscape.from_surface(name)
    x0, x1, y0, y1 = land.view
    rng = np.random.default_rng(5)
    P = np.column_stack([rng.uniform(x0, x1, 50), rng.uniform(y0, y1, 50)])
    f1, g1 = land.value_grad(P, fast=True)
    f2, g2 = land.value_grad(P, fast=False)
    assert f1.shape == (50,) and g1.shape == (50, 2) and g1.dtype == np.float64
    assert_allclose(f1, f2, rtol=1e-12, atol=1e-12 * np.abs(f2).max())
    assert_allclose(g1, g2, rtol=1e-12, atol=1e-12 * np.abs(g2).max())
    assert_allclose(land.value(P, fast=True), f2, rtol=1e-12, atol=1e-12 * np.abs(f2).max())
    assert_allclose(land.value(P, fast=False), f2, rtol=1e-12, atol=1e-12 * np.abs(f2).max())
    assert_allclose(g1[:, 0], ks.surface_vg_np(land.sid, P[:, 0], P[:, 1])[1], rtol=1e-12,
                    atol=1e-12 * np.abs(g2).max())
    z1 = land.grid(x0, x1, y0, y1, 40, 30, fast=True)
    z2 = land.grid(x0, x1, y0, y1, 40, 30, fast=False)
    assert z1.shape == (30, 40) and z1.dtype == np.float64
    assert_allclose(z1, z2, rtol=1e-12, atol=1e-12 * np.abs(z2).max())


def test_landscape_accepts_lists_and_empty():
    land = Landscape.from_surface("rosenbrock")
    f, g = land.value_grad([[1.0, 1.0], [0.0, 0.0]])
    assert_allclose(f, [0.0, 1.0])
    assert_allclose(g, [[0.0, 0.0], [-2.0, 0.0]])
    f, g = land.value_grad(np.empty((0, 2)), fast=True)
    assert f.shape == (0,) and g.shape == (0, 2)


def test_fast_none_follows_kernels_ready(monkeypatch, ready_state):
    calls = []
    real = ks.eval_points

    def spy(*args):
        calls.append("points")
        real(*args)

    monkeypatch.setattr(ks, "eval_points", spy)
    land = Landscape.from_surface("booth")
    gdviz.kernels.mark_ready(False)
    land.value_grad([[0.0, 0.0]])
    assert calls == []
    gdviz.kernels.mark_ready(True)
    land.value_grad([[0.0, 0.0]])
    assert calls == ["points"]
    land.value_grad([[0.0, 0.0]], fast=False)
    assert calls == ["points"]


@pytest.mark.parametrize("P,message", [
    (np.zeros(3), r"^points must have shape \(n, 2\), got \(3,\)$"),
    (np.zeros((4, 3)), r"got \(4, 3\)"),
])
def test_value_grad_rejects_bad_shapes(P, message):
    with pytest.raises(ValueError, match=message):
        Landscape.from_surface("quadratic").value_grad(P)


@pytest.mark.parametrize("args,message", [
    ((-1, 1, -1, 1, 1, 10), r"^invalid grid size nx=1 \(must be an integer >= 2\)$"),
    ((-1, 1, -1, 1, 10, 2.5), r"invalid grid size ny=2.5"),
    ((1, -1, -1, 1, 10, 10),
     r"^invalid view box \(1, -1, -1, 1\): need finite x0 < x1 and y0 < y1$"),
    ((-1, 1, -1, np.inf, 10, 10), r"invalid view box"),
])
def test_grid_rejects_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        Landscape.from_surface("quadratic").grid(*args)


def test_landscape_view_is_validated():
    with pytest.raises(ValueError, match="need four numbers"):
        Landscape(name="x", label="x", view=(0, 1), sid=0)


# Expressions: gdviz.core.expr is written by another developer; these run once it is merged.

def test_from_expr_matches_the_ellipse(ready_state):
    land = Landscape.from_expr("x^2 + 10*y^2")
    ell = Landscape.from_surface("ellipse")
    assert land.sid == -1 and land.view == (-2.0, 2.0, -2.0, 2.0)
    assert land.minima.shape == (0, 2) and land.log_levels is False
    assert land.expr == land.label and land.code.dtype == np.int64 and land.code.size > 0
    rng = np.random.default_rng(7)
    P = rng.uniform(-2, 2, (40, 2))
    f0, g0 = ell.value_grad(P, fast=False)
    for fast in (True, False):
        f, g = land.value_grad(P, fast=fast)
        assert_allclose(f, f0, rtol=1e-12)
        assert_allclose(g, g0, rtol=1e-12, atol=1e-12)
        assert_allclose(land.value(P, fast=fast), f0, rtol=1e-12)
        assert_allclose(land.grid(-2, 2, -1, 3, 21, 17, fast=fast),
                        ell.grid(-2, 2, -1, 3, 21, 17, fast=False), rtol=1e-12, atol=1e-12)
    assert Landscape.from_expr("x + y", view=(0, 1, 0, 2)).view == (0.0, 1.0, 0.0, 2.0)


def test_from_expr_reports_bad_text():
    with pytest.raises(ValueError, match="unknown name 'z' at column 5"):
        Landscape.from_expr("x + z")
