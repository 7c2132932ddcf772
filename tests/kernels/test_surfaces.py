"""Surface kernels against their numpy twins and against central differences."""

from gdviz.kernels._jit import same_kernel
import numpy as np
import pytest
from numpy.testing import assert_allclose

import gdviz.kernels
from gdviz.core.surfaces import SURFACES
from gdviz.kernels.surfaces import (SURFACE_IDS, eval_points, eval_points_np, grid_axis,
                                    grid_eval, grid_eval_np, surface_f_np, surface_vg,
                                    surface_vg_np)

NAMES = list(SURFACE_IDS)


def random_points(name, n=400, seed=0):
    x0, x1, y0, y1 = SURFACES[name].view
    rng = np.random.default_rng(seed)
    return rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)


def kernel_points(sid, xs, ys):
    f, gx, gy = np.empty_like(xs), np.empty_like(xs), np.empty_like(xs)
    eval_points(sid, xs, ys, f, gx, gy)
    return f, gx, gy


def close(actual, desired, rtol=1e-12):
    # an absolute floor at rtol × the largest magnitude: sums such as rastrigin's can cancel
    # to near zero, where the ulp-level differences of cos/exp between numba and numpy show
    assert_allclose(actual, desired, rtol=rtol, atol=rtol * np.max(np.abs(desired)))


def test_ids_are_the_contract():
    assert SURFACE_IDS == {
        "quadratic": 0, "ellipse": 1, "saddle": 2, "rosenbrock": 3, "beale": 4, "himmelblau": 5,
        "booth": 6, "matyas": 7, "six-hump-camel": 8, "rastrigin": 9, "ackley": 10,
        "goldstein-price": 11}


@pytest.mark.parametrize("name", NAMES)
def test_points_kernel_matches_twin(name):
    sid = SURFACE_IDS[name]
    xs, ys = random_points(name)
    fast = kernel_points(sid, xs, ys)
    twin = [np.empty_like(xs) for _ in range(3)]
    eval_points_np(sid, xs, ys, *twin)
    for a, b in zip(fast, twin):
        close(a, b)
    close(surface_f_np(sid, xs, ys), twin[0])


@pytest.mark.parametrize("name", NAMES)
def test_scalar_kernel_matches_points_kernel(name):
    sid = SURFACE_IDS[name]
    xs, ys = random_points(name, n=8, seed=1)
    fast = kernel_points(sid, xs, ys)
    scalar = np.array([surface_vg(sid, x, y) for x, y in zip(xs, ys)])
    for k in range(3):
        close(scalar[:, k], fast[k])


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_central_differences(name):
    sid = SURFACE_IDS[name]
    xs, ys = random_points(name, n=200, seed=2)
    f, gx, gy = kernel_points(sid, xs, ys)
    h = 1e-6 * np.maximum(1.0, np.abs(xs))
    k = 1e-6 * np.maximum(1.0, np.abs(ys))
    # divide by the step actually taken: x+h and x-h are rounded
    fd_x = ((surface_f_np(sid, xs + h, ys) - surface_f_np(sid, xs - h, ys))
            / ((xs + h) - (xs - h)))
    fd_y = ((surface_f_np(sid, xs, ys + k) - surface_f_np(sid, xs, ys - k))
            / ((ys + k) - (ys - k)))
    # truncation error ~h²·f''' (relative part) plus rounding ~eps·|f|/h (absolute part)
    for fd, g in ((fd_x, gx), (fd_y, gy)):
        err = np.abs(fd - g)
        tol = 1e-6 * np.abs(g) + 1e-8 * (1.0 + np.abs(f))
        assert np.all(err <= tol), f"{name}: worst error {np.max(err - tol):.3g} over tolerance"


@pytest.mark.parametrize("name", NAMES)
def test_grid_kernel_matches_twin_and_orientation(name):
    sid = SURFACE_IDS[name]
    x0, x1, y0, y1 = SURFACES[name].view
    nx, ny = 37, 23  # not square, so a transposed grid cannot pass
    fast = np.empty((ny, nx))
    twin = np.full((ny, nx), np.nan)
    grid_eval(sid, x0, x1, y0, y1, fast)
    grid_eval_np(sid, x0, x1, y0, y1, twin)
    close(fast, twin)
    xi = grid_axis(x0, x1, nx)
    yj = grid_axis(y0, y1, ny)
    assert (xi[0], xi[-1], yj[0], yj[-1]) == (x0, x1, y0, y1)
    close(fast, surface_vg_np(sid, xi[np.newaxis, :], yj[:, np.newaxis])[0])
    for j, i, x, y in [(0, 0, x0, y0), (-1, 0, x0, y1), (0, -1, x1, y0), (-1, -1, x1, y1)]:
        assert fast[j, i] == pytest.approx(surface_vg(sid, x, y)[0], rel=1e-12, abs=1e-12)


def test_grid_of_one_row_and_column_is_finite():
    for shape in [(1, 5), (5, 1), (1, 1)]:
        fast = np.empty(shape)
        twin = np.empty(shape)
        grid_eval(3, -2.0, 2.0, -1.0, 3.0, fast)
        grid_eval_np(3, -2.0, 2.0, -1.0, 3.0, twin)
        assert np.all(np.isfinite(fast))
        assert_allclose(fast, twin, rtol=1e-12)
        assert fast[0, 0] == surface_vg(3, -2.0, -1.0)[0]


def test_ackley_gradient_at_origin_is_zero_not_nan():
    sid = SURFACE_IDS["ackley"]
    f, gx, gy = surface_vg(sid, 0.0, 0.0)
    assert (gx, gy) == (0.0, 0.0)
    assert abs(f) < 1e-14
    tf, tgx, tgy = surface_vg_np(sid, np.zeros(3), np.zeros(3))
    assert np.all(tgx == 0.0) and np.all(tgy == 0.0)
    # points so close to the origin that x*x underflows still get a finite gradient
    f, gx, gy = surface_vg(sid, 1e-170, 0.0)
    assert np.isfinite(gx) and gx > 0


def test_unknown_sid_gives_nan():
    assert all(np.isnan(surface_vg(99, 1.0, 1.0)))
    assert all(np.all(np.isnan(a)) for a in surface_vg_np(99, np.ones(2), np.ones(2)))
    out = np.zeros((3, 3))
    grid_eval(99, 0.0, 1.0, 0.0, 1.0, out)
    assert np.all(np.isnan(out))


def test_non_finite_inputs_propagate():
    for sid in SURFACE_IDS.values():
        f, gx, gy = surface_vg(sid, np.nan, 0.5)
        assert np.isnan(f)


def test_registered_with_warmups():
    for name, fast, twin in [("surface-grid", grid_eval, grid_eval_np),
                             ("surface-points", eval_points, eval_points_np)]:
        spec = gdviz.kernels.REGISTRY[name]
        assert same_kernel(spec.fast, fast) and spec.twin is twin
        spec.warmup()


@pytest.mark.parametrize("given, expected", [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_openmp_workers_wait_passively_unless_told_otherwise(given, expected):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if given:
        env["OMP_WAIT_POLICY"] = given
    out = subprocess.run([sys.executable, "-c", "import os, gdviz.kernels._jit; "
                          "print(os.environ['OMP_WAIT_POLICY'])"],
                         capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == expected
