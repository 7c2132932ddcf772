"""Learning-rate schedules: the formulas, validation, and kernel == numpy twin."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gdviz.core.schedules import SCHEDULES, Schedule, check_total, make_schedule
from gdviz.kernels import optim as K


def test_registry():
    assert list(SCHEDULES) == ["constant", "step", "exponential", "cosine", "one-cycle"]


def test_constant():
    assert_allclose(Schedule().lr_factor(np.arange(1, 11), 10), np.ones(10))


def test_step_like_steplr():
    s = Schedule("step", step_size=3, gamma=0.5)
    t = np.arange(1, 11)
    assert_allclose(s.lr_factor(t, 10), 0.5 ** ((t - 1) // 3), rtol=0, atol=0)
    assert Schedule("step").gamma == 0.1


def test_exponential():
    s = Schedule("exponential", gamma=0.9)
    t = np.arange(1, 6)
    assert_allclose(s.lr_factor(t, 5), 0.9 ** (t - 1.0), rtol=1e-15)
    assert Schedule("exponential").gamma == 0.99


def test_cosine_like_cosineannealing():
    total = 50
    t = np.arange(1, total + 10)
    f = Schedule("cosine").lr_factor(t, total)
    e = np.minimum(t - 1, total)
    assert_allclose(f, 0.5 * (1 + np.cos(np.pi * e / total)), rtol=1e-15)
    assert f[0] == 1.0 and f[-1] == 0.0 and np.all(np.diff(f) <= 0)


def test_one_cycle_like_fastai():
    s = Schedule("one-cycle")
    total = 100
    t = np.arange(1, total + 1)
    f = s.lr_factor(t, total)
    assert f[0] == pytest.approx(1 / 25)
    peak = int(np.argmax(f))
    assert peak == 25  # t = 26: pos = 0.25, the end of the warm-up
    assert f[peak] == pytest.approx(1.0)
    assert np.all(np.diff(f[:peak + 1]) > 0) and np.all(np.diff(f[peak:]) < 0)
    # fastai's SchedCos(start, end)(pos) = start + (1 + cos(pi (1 - pos))) (end - start) / 2
    pos = 0.6
    q = (pos - 0.25) / 0.75
    expect = 1 + (1 + math.cos(math.pi * (1 - q))) * (1e-5 - 1) / 2
    assert s.lr_factor([61], total)[0] == pytest.approx(expect, rel=1e-14)
    m = s.momentum_at(t, total, 0.9)
    assert m[0] == pytest.approx(0.95) and m[peak] == pytest.approx(0.85)
    assert m[-1] == pytest.approx(0.95, abs=1e-3)
    # momentum that is off stays off (plain SGD); other schedules leave momentum alone
    assert_allclose(s.momentum_at(t, total, 0.0), 0.0)
    assert_allclose(Schedule("cosine").momentum_at(t, total, 0.9), 0.9)


@pytest.mark.parametrize("kw, msg", [
    (dict(kind="cosin"), r"^unknown schedule 'cosin'; did you mean 'cosine'\?$"),
    (dict(kind="step", step_size=0), r"^Invalid step_size: 0 \(must be an integer >= 1\)$"),
    (dict(kind="step", step_size=2.5), r"Invalid step_size: 2\.5 \(must be an integer >= 1\)"),
    (dict(kind="step", gamma=0.0), r"^Invalid gamma: 0 \(must be in \(0, 1\]\)$"),
    (dict(kind="exponential", gamma=1.5), r"Invalid gamma: 1\.5 \(must be in \(0, 1\]\)"),
    (dict(kind="one-cycle", pct_start=1.0), r"^Invalid pct_start: 1 \(must be in \(0, 1\)\)$"),
    (dict(kind="one-cycle", div=0.5), r"^Invalid div: 0\.5 \(must be >= 1\)$"),
    (dict(kind="one-cycle", div_final=math.nan), r"Invalid div_final: nan \(must be >= 1\)"),
    (dict(kind="one-cycle", moms=(0.95, 1.2, 0.95)),
     r"^Invalid moms value at index 1: 1\.2 \(must be in \[0, 1\)\)$"),
    (dict(kind="one-cycle", moms=(0.9, 0.8)), r"Invalid moms: \(0\.9, 0\.8\) \(must be three numbers\)"),
])
def test_validation(kw, msg):
    with pytest.raises(ValueError, match=msg):
        Schedule(**kw)


def test_total_and_make_schedule():
    with pytest.raises(ValueError, match=r"Invalid total steps: 0 \(must be an integer >= 1\)"):
        check_total(0)
    with pytest.raises(ValueError, match="Invalid total steps"):
        Schedule("cosine").lr_factor([1], 0)
    with pytest.raises(ValueError, match="unknown schedule 'expo'; did you mean 'exponential'"):
        make_schedule("expo")
    assert make_schedule("step", step_size=5, gamma=None) == Schedule("step", step_size=5)
    assert Schedule("step", step_size=5).to_dict() == {"kind": "step", "step_size": 5,
                                                       "gamma": 0.1}


def _packed(schedules):
    kinds, params = zip(*(s.pack() for s in schedules))
    return np.array(kinds, dtype=np.int64), np.ascontiguousarray(np.array(params))


ALL = [Schedule(), Schedule("step", step_size=7, gamma=0.3), Schedule("exponential", gamma=0.97),
       Schedule("cosine"), Schedule("one-cycle"),
       Schedule("one-cycle", pct_start=0.4, div=10, div_final=1e3, moms=(0.9, 0.7, 0.8))]


@pytest.mark.parametrize("total", [1, 37, 200])
def test_kernel_helper_equals_numpy_twin(total):
    kinds, params = _packed(ALL)
    n = len(ALL)
    for t in [1, 2, 5, 10, 37, 38, 50, 199, 200, 250]:
        lrf, has, mom = np.empty(n), np.empty(n, dtype=np.bool_), np.empty(n)
        K.schedule_array(kinds, params, t, total, lrf, has, mom)
        lrf2, has2, mom2 = K.schedule_np(kinds, params, t, total)
        assert_allclose(lrf, lrf2, rtol=1e-14, atol=0)
        assert_allclose(mom[has], mom2[has2], rtol=1e-14)
        assert (has == has2).all()
        for i, s in enumerate(ALL):  # and the UI's vectorised curve agrees
            assert_allclose(s.lr_factor([t], total)[0], lrf[i], rtol=1e-14)
