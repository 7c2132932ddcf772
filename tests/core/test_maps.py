"""Basin assignment, hyper-map axes and map setup validation (core/maps.py)."""

import numpy as np
import pytest

from gdviz.core import maps as CM
from gdviz.core.optimizers import make_optimizer
from gdviz.core.surfaces import Landscape


def test_himmelblau_basins_are_its_four_minima():
    land = Landscape.from_surface("himmelblau")
    setup = CM.MapSetup(make_optimizer("sgd", lr=0.01), steps=300)
    r = CM.basin_map(land, setup, nx=32)
    book = CM.BasinBook.for_landscape(land)
    lab = book.assign(r)
    assert book.known == 4 and len(book.centres) == 4  # no extra cluster
    counts = np.bincount(lab[lab >= 0], minlength=4)
    assert (counts > 32 * 32 // 10).all()
    # the pixel on each minimum ends in it
    starts = CM.pixel_centres(land.view, 32, 32)
    for k, m in enumerate(land.minima):
        i = ((starts - m) ** 2).sum(axis=1).argmin()
        assert lab[i] == k


def test_clustered_basins_keep_their_colour():
    land = Landscape.from_expr("(x^2-1)^2 + y^2", view=(-2, 2, -1, 1))  # no known minima
    setup = CM.MapSetup(make_optimizer("sgd", lr=0.05), steps=300)
    book = CM.BasinBook.for_landscape(land)
    lab = book.assign(CM.basin_map(land, setup, nx=16))
    assert len(book.centres) == 2
    left = book.centres[lab.reshape(16, 16)[8, 0]]
    assert left[0] == pytest.approx(-1.0, abs=1e-3)
    # a finer map (refinement) reuses the same indices
    lab2 = book.assign(CM.basin_map(land, setup, nx=32)).reshape(32, 32)
    assert len(book.centres) == 2
    assert lab2[16, 0] == lab.reshape(16, 16)[8, 0]
    assert lab2[16, -1] == lab.reshape(16, 16)[8, -1]


def _clusters(gen):
    return [(tuple(c), m.tolist()) for c, m in gen]


@pytest.mark.parametrize("fast", [True, False], ids=["kernel", "twin"])
@pytest.mark.parametrize("case", ["blobs", "flat_grid", "ties", "huge", "one", "none"])
def test_greedy_clusters_by_grid_cells_are_the_scans_clusters(case, fast):
    """The basins of unknown minima, clustered by looking only at the grid cells around
    each seed and centre: the same clusters, members and means (bit for bit) as the scan
    of every point left (a flat surface's 256x256 map: 2.3 s of the UI thread scanning)."""
    rng = np.random.default_rng(7)
    radius, min_members = 0.05, 3
    if case == "blobs":
        centres = rng.uniform(-2, 2, (12, 2))
        P = np.concatenate([c + rng.normal(0, 0.03, (rng.integers(1, 60), 2)) for c in centres])
        P = P[rng.permutation(len(P))]
    elif case == "flat_grid":  # every start settles where it is
        g = np.linspace(-1, 1, 64)
        P = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
        radius, min_members = 0.04, 2
    elif case == "ties":  # points exactly a radius apart, and repeated points
        radius = 0.25
        P = np.array([[0.0, 0.0], [0.25, 0.0], [0.5, 0.0], [0.0, 0.25], [0.0, 0.0],
                      [0.75, 0.0], [1.0, 0.0], [1.0, 0.0], [-0.25, -0.25]])
        min_members = 2
    elif case == "huge":  # beyond the grid's cell numbers: the scan itself
        P = np.array([[1e300, 0.0], [1e300, 1e-3], [0.0, 0.0], [1e-3, 0.0], [-5e299, 1.0]])
        min_members = 2
    elif case == "one":
        P = np.array([[0.3, 0.4]])
        min_members = 1
    else:
        P = np.zeros((0, 2))
    got = _clusters(CM.cluster_greedy(P, radius, min_members, fast=fast))
    want = _clusters(CM.cluster_greedy_plain(P, radius, min_members))
    assert got == want
    if case in ("blobs", "flat_grid"):
        assert len(got) > 5


@pytest.mark.parametrize("case", ["spread", "dense_centres", "ties", "huge", "empty"])
def test_nearest_centre_by_grid_cells_is_the_scans(case):
    """Each end point's basin among the known centres, measured only against the centres
    of the grid cells around it: the scan's index (ties to the first centre) or -1."""
    rng = np.random.default_rng(11)
    radius = 0.05
    if case == "spread":
        C = rng.uniform(-1, 1, (40, 2))
        E = np.concatenate([C[rng.integers(0, 40, 3000)] + rng.normal(0, 0.03, (3000, 2)),
                            rng.uniform(-1.2, 1.2, (500, 2))])
    elif case == "dense_centres":  # several centres to a cell
        C = rng.uniform(-0.1, 0.1, (300, 2))
        E = rng.uniform(-0.2, 0.2, (4000, 2))
    elif case == "ties":  # two centres equally near; points exactly a radius away
        radius = 0.5
        C = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
        E = np.array([[0.5, 0.0], [1.5, 0.0], [0.0, 0.5], [0.25, 0.0], [0.75, 0.0], [3.0, 3.0]])
    elif case == "huge":
        C = np.array([[1e300, 0.0], [0.0, 0.0]])
        E = np.array([[1e300, 1e-3], [1e-3, 0.0], [-1e300, 0.0], [0.5, 0.5]])
    else:
        C = np.zeros((0, 2))
        E = rng.uniform(-1, 1, (10, 2))
    got = CM.nearest_centre(E, C, radius)
    want = CM.nearest_centre_plain(E, C, radius)
    assert (got == want).all()
    if case == "ties":
        assert got.tolist() == [0, 1, 0, 0, 1, -1]


def test_a_flat_surfaces_basins_are_the_same_as_by_the_scan():
    """Every start of a flat surface settles where it started: hundreds of clusters. The
    book's labels and centres are those of the scan (the reference)."""
    land = Landscape.from_expr("0*x + 0*y", view=(-1, 1, -1, 1))
    setup = CM.MapSetup(make_optimizer("sgd", lr=0.05), steps=20)
    r = CM.basin_map(land, setup, nx=96)
    book = CM.BasinBook.for_landscape(land)
    lab = book.assign(r)
    alive = np.nonzero(~r.diverged)[0]
    ok = alive[r.conv_at[alive] >= 0]
    assert len(ok) == 96 * 96
    want = _clusters(CM.cluster_greedy_plain(r.end[ok], book.radius,
                                             max(2, alive.size // 2000)))
    assert [c for c, _ in want] == [tuple(c) for c in book.centres]
    ref = np.full(r.end.shape[0], -2)
    for k, (_, members) in enumerate(want):
        ref[ok[members]] = k
    assert (lab == ref).all() and len(book.centres) > 20


def test_diverged_and_unsettled_labels():
    land = Landscape.from_surface("quadratic")
    book = CM.BasinBook.for_landscape(land)
    r = CM.basin_map(land, CM.MapSetup(make_optimizer("sgd", lr=1.5), steps=200), nx=4)
    assert (book.assign(r) == -1).all()
    r = CM.basin_map(land, CM.MapSetup(make_optimizer("sgd", lr=1e-4), steps=3), nx=4)
    assert (book.assign(r) == -2).all()
    assert np.isnan(CM.steps_image(r, 3)).all()


def test_steps_image_is_log_of_convergence_step():
    land = Landscape.from_surface("quadratic")
    r = CM.basin_map(land, CM.MapSetup(make_optimizer("sgd", lr=0.1), steps=400, tol=1e-6),
                     nx=4)
    im = CM.steps_image(r, 400)
    assert np.isfinite(im).all()
    assert np.allclose(10 ** im, r.conv_at)


def test_axis_values_and_errors():
    v = CM.axis_values("lr", 5, 1e-3, 1e-1)
    assert v[0] == pytest.approx(1e-3) and v[2] == pytest.approx(1e-2)
    assert list(CM.axis_values("batch_size", 3, 1, 16)) == [1.0, 4.0, 16.0]
    for bad in (("lr", 5, -1, 1), ("momentum", 5, 0, 1.0), ("lr", 5, 1, 0.1),
                ("nope", 5, None, None)):
        with pytest.raises(ValueError):
            CM.axis_values(*bad)
    with pytest.raises(ValueError, match="adam has no momentum"):
        CM.hyper_map(Landscape.from_surface("ellipse"),
                     CM.MapSetup(make_optimizer("adam")), (1, 1), "momentum", nx=4)


@pytest.mark.parametrize("bad", [1, 10_000, 2.5, True])
def test_grid_is_checked(bad):
    with pytest.raises(ValueError, match="Invalid grid"):
        CM.check_grid(bad)


def test_setup_is_checked():
    with pytest.raises(ValueError, match="map steps"):
        CM.MapSetup(make_optimizer("sgd"), steps=0)
    with pytest.raises(ValueError, match="tolerance"):
        CM.MapSetup(make_optimizer("sgd"), tol=-1)


def test_progressive_grids_and_chunks():
    assert CM.progressive_grids(256) == [32, 64, 128, 256]
    assert CM.progressive_grids(256, 64) == [64, 128, 256]
    assert CM.progressive_grids(100, 64) == [64, 100]
    assert CM.progressive_grids(32) == [32]
    assert CM.progressive_grids(20) == [20]
    assert [(s.start, s.stop) for s in CM.chunks(10, 4)] == [(0, 4), (4, 8), (8, 10)]


def test_write_csv_atomic(tmp_path):
    p = tmp_path / "m.csv"
    CM.write_csv(p, ["a", "b"], [np.array([1, 2]), np.array([0.5, np.nan])])
    assert p.read_text() == "a,b\n1,0.5\n2,nan\n"
    assert [q.name for q in tmp_path.iterdir()] == ["m.csv"]


def test_map_settings_are_session_fields_and_scene_keys():
    from gdviz.core.scene import loads_scene
    from gdviz.core.scene.bridge import apply_scene, scene_from_session
    from gdviz.core.session import Session

    s = Session()
    seen = []
    s.events.map_layer.connect(seen.append)
    errors = []
    s.error.connect(errors.append)
    assert s.set_map_options(map_layer="basins", hyper_axis="beta1", hyper_color="steps")
    assert seen == ["basins"]
    assert not s.set_map_options(map_layer="nope", hyper_axis="momentum")
    assert errors == ["Invalid map layer: 'nope' (choose from off, basins, steps)"]
    assert s.hyper_axis == "beta1"  # one bad value changes nothing
    scene = scene_from_session(s)
    assert (scene.view.map_layer, scene.view.hyper, scene.view.hyper_color) == (
        "basins", "beta1", "steps")
    s2 = Session()
    apply_scene(scene, s2)
    assert (s2.map_layer, s2.hyper_axis, s2.hyper_color) == ("basins", "beta1", "steps")
    sc = loads_scene('version = 1\n[runs.a]\noptimizer = "sgd"\n[view]\nmap_layer = "steps"\n'
                     'hyper = "momentum"\n')
    assert sc.view.map_layer == "steps" and sc.view.hyper == "momentum"
    with pytest.raises(ValueError, match="map"):
        loads_scene('version = 1\n[runs.a]\noptimizer = "sgd"\n[view]\nmap_layer = "bassins"\n')


@pytest.mark.parametrize("fast", [True, False])
def test_regression_map_pixel_equals_the_session_run(fast):
    """On regression L(w, b) with mini-batches, a pixel is the race's run from that start."""
    from gdviz.core.session import RunSpec, Session

    s = Session(specs=[RunSpec(make_optimizer("momentum", lr=0.05))], max_steps=60, fast=fast)
    s.set_regression()
    s.set_batch_size(5)
    s.reset()
    setup = CM.MapSetup(s.effective_config(0), steps=60, total=60)
    r = CM.basin_map_problem(s.runset.problem, setup, s.starts[0], s.view_box, nx=6,
                             fast=fast)
    cells = CM.pixel_centres(s.view_box, 6, 6)
    for k in (0, 20, 35):
        s.set_start(*cells[k])
        s.step(60)
        np.testing.assert_array_equal(r.end[k], s.runset.params[0])
    lab = CM.BasinBook.for_landscape(s.landscape).assign(r)
    assert (lab >= -2).all()


def test_fit_slice_map_varies_the_linked_parameters():
    from gdviz.core.session import Session

    s = Session()
    s.set_fit()
    i, j = s.linked
    base = np.asarray(s.starts[0])
    setup = CM.MapSetup(s.effective_config(0), steps=5)
    r = CM.basin_map_problem(s.problem, setup, base, s.landscape.view, nx=3, dims=(i, j))
    assert r.end.shape == (9, 2) and np.isfinite(r.end_loss).all()


def _cells_stepped_from_python(problem, kind, hyper, sk, sp, starts, *, total, steps, dims,
                               tol, bound=1e6):
    """A data map by its definition, every cell stepped from Python one step at a time with
    the numpy optimizer twin and the problem's own loss and gradient (how the map was
    computed before it used the engine's fused kernels)."""
    from gdviz.kernels import optim as KO

    P = np.array(starts, dtype=np.float64)
    n, p = P.shape
    kind = np.broadcast_to(np.asarray(kind, dtype=np.int64), (n,)).copy()
    hyper = np.broadcast_to(hyper, (n, KO.N_HYPER)).copy()
    sk = np.broadcast_to(np.asarray(sk, dtype=np.int64), (n,)).copy()
    sp = np.broadcast_to(sp, (n, KO.N_SCHED)).copy()
    state = np.zeros((n, KO.N_SLOTS, p))
    ada = kind == KO.ADAGRAD
    state[ada, 0, :] = hyper[ada, KO.H_INITIAL_ACCUMULATOR_VALUE][:, None]
    opt_t = np.zeros(n, dtype=np.int64)
    F = np.asarray(problem.loss(P.copy(), fast=False), dtype=np.float64)
    div = np.where(np.isfinite(F), -1, 0).astype(np.int64)
    conv = np.full(n, -1, dtype=np.int64)
    new, g_out, ss, lr = np.empty((n, p)), np.zeros((n, p)), np.zeros((n, p)), np.zeros(n)
    for t in range(1, steps + 1):
        active = div < 0
        with np.errstate(all="ignore"):
            _, g = problem.loss_grad(P.copy(), t - 1, fast=False)
            st, ot = state.copy(), opt_t.copy()
            KO.opt_step_np(kind, hyper, sk, sp, total, t, P, g, st, ot, active, new, g_out, ss,
                           lr)
            f = np.asarray(problem.loss(new.copy(), fast=False), dtype=np.float64)
            ok = (np.isfinite(new).all(axis=1) & np.isfinite(g).all(axis=1) & np.isfinite(f)
                  & (np.abs(new) <= bound).all(axis=1))
            small = (np.linalg.norm(new - P, axis=1) <= tol) & (np.linalg.norm(g, axis=1) <= tol)
        div[active & ~ok] = t
        good = active & ok
        conv[good & small & (conv < 0)] = t
        P[good], F[good], state[good], opt_t[good] = new[good], f[good], st[good], ot[good]
    return P[:, list(dims)], F, conv, div


def _map_problems():
    from gdviz.core.classifier import ClassifyData
    from gdviz.core.data import make_dataset
    from gdviz.core.models import FitProblem, LinearRegressionProblem, make_model

    rng = np.random.default_rng(0)
    xr = rng.uniform(0, 3, 25)
    yield "linreg-exact", LinearRegressionProblem(xr, 2 * xr + 1), (0, 1)
    yield "linreg-b5", LinearRegressionProblem(xr, 2 * xr + 1 + rng.normal(0, .3, 25),
                                               batch_size=5, seed=1), (0, 1)
    ds_ = make_dataset("sine", n_points=30, noise=0.2, seed=1)
    yield "fit-relu-b8", FitProblem(make_model("relu", K=3), ds_, batch_size=8, seed=2), (1, 4)
    yield "fit-net", FitProblem(make_model("network", K=3, layers=2), ds_, seed=0), (0, 2)
    yield "classify-b16", ClassifyData(dataset="circles", points=60, layers=1,
                                       units=3).build(batch_size=16, seed=4), (0, 1)


@pytest.mark.parametrize("name,problem,dims", list(_map_problems()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_data_map_steps_in_the_fused_kernels_as_its_definition_says(name, problem, dims):
    """A data map runs in the engine's fused kernels (no Python step: the problem's own
    loss_grad is never called, so the map's thread leaves the GIL to the window), and gives
    what stepping every cell from Python gives: end points, losses, the converged and the
    diverged step. Before the kernels are compiled it steps as the engine does then
    (engine.data_stepper: the generic path, through loss_grad), with the same numbers."""
    from gdviz import kernels

    kernels.warmup()
    init = getattr(problem, "init_params", None) or problem.model.init_params
    base = init(0)
    starts = np.repeat(np.asarray(base, dtype=np.float64)[None], 12, 0)
    rng = np.random.default_rng(3)
    starts[:, dims[0]] += rng.normal(0, 2.0, 12)
    starts[:, dims[1]] += rng.normal(0, 2.0, 12)
    starts[5, dims[0]] = 1e5  # far out: diverges (|w| > bound) or its loss overflows
    from gdviz.core.schedules import Schedule
    from gdviz.kernels import optim as KO

    kind = np.empty(12, dtype=np.int64)
    hyper = np.empty((12, KO.N_HYPER))
    for r, cfg in enumerate([make_optimizer("sgd", lr=0.05), make_optimizer("sgd", lr=2.0),
                             make_optimizer("adam", lr=0.05),
                             make_optimizer("momentum", lr=0.02)] * 3):
        kind[r], hyper[r] = cfg.pack()
    sk, sp = Schedule("cosine").pack()
    kw = dict(total=300, steps=300, dims=dims, tol=5e-3)
    end, loss, conv, div = _cells_stepped_from_python(problem, kind, hyper, sk, sp, starts, **kw)
    calls = []
    real = problem.loss_grad
    problem.loss_grad = lambda *a, **k: (calls.append(1), real(*a, **k))[1]
    try:
        for fast in (True, False):
            r = CM.run_cells_problem(problem, kind, hyper, sk, sp, starts, fast=fast, **kw)
            np.testing.assert_array_equal(r.diverged_at, div, err_msg=f"fast={fast}")
            np.testing.assert_array_equal(r.conv_at, conv, err_msg=f"fast={fast}")
            np.testing.assert_allclose(r.end, end, rtol=1e-9, atol=1e-11)
            np.testing.assert_allclose(r.end_loss, loss, rtol=1e-9, atol=1e-11)
            if fast:
                assert calls == []
                unfused = len(calls)
    finally:
        problem.loss_grad = real
    assert len(calls) > unfused  # the generic path
    assert (div < 0).any()
    if name == "linreg-exact":  # no noise, full batch: runs converge, lr 2 diverges
        assert (conv > 0).any() and (div > 0).any()


def test_data_maps_compile_nothing_after_the_warm_up():
    """A data map calls the race's warmed kernels with the race's argument types: a
    read-only (broadcast) hyperparameter array was a new signature, compiled on the map's
    thread (holding the GIL for seconds: the window froze) the first time a map ran."""
    from gdviz import kernels
    from gdviz.core.scene import apply_scene, load_preset
    from gdviz.core.session import Session
    from gdviz.kernels import datastep as DS
    from gdviz.ui.views.map_layer import data_setup_for

    kernels.warmup()
    fns = [DS._advance_data_ser, DS._advance_data_par, DS._advance_net_ser,
           DS._advance_net_par]
    before = [set(f.signatures) for f in fns]
    for lesson in ("L06", "L08", "L19", "L20"):  # regression, fit, deeper net, classifier
        s = Session()
        apply_scene(load_preset(lesson), s)
        problem, setup, base, dims = data_setup_for(s)
        setup = CM.MapSetup(make_optimizer("momentum", lr=0.01), setup.schedule, steps=3,
                            total=3)
        CM.basin_map_problem(problem, setup, base, (-1, 1, -1, 1), nx=2, dims=dims, fast=True)
        CM.hyper_map_problem(s._problem_for, setup, base, "batch_size", nx=2,
                             n_train=problem.batch_indices(0, 1)[0].shape[0], fast=True)
        CM.hyper_map_problem(s._problem_for, setup, base, "momentum", nx=2, fast=True)
    for f, b in zip(fns, before):
        assert set(f.signatures) == b, [str(t) for t in set(f.signatures) - b]
