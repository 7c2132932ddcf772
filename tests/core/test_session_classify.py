"""The session's "classify" kind: set_classify, update_data, linked slice, snapshot/restore."""

import numpy as np
import pytest

from gdviz.core.classifier import ClassifyData, ClassifySlice
from gdviz.core.session import Session


def _session():
    s = Session(fast=False)
    assert s.set_classify(ClassifyData("circles", points=60, layers=1, units=3))
    return s


def test_set_classify_installs_problem_and_slice():
    s = _session()
    assert s.kind == "classify" and s.is_data and s.sliced
    assert isinstance(s.landscape, ClassifySlice)
    assert s.n_params == 13 and s.batch_size == s.n_train == 42
    assert s.all_param_names[s.linked[0]] == "W2[1,1]"
    assert s.has_validation
    s.step(5)
    assert s.t == 5
    assert np.isfinite(s.losses()[0]).all()


def test_update_data_and_errors_keep_state():
    s = _session()
    errors = []
    s.error.connect(errors.append)
    assert s.update_data(units=5)
    assert s.n_params == 21
    assert not s.update_data(layers=9)
    assert errors[-1].startswith("Invalid number of hidden layers: 9")
    assert s.n_params == 21
    assert not s.update_data(colour=3)
    assert s.set_linked(0, 1) and s.linked == (0, 1)
    assert not s.add_start(1.0, 2.0)


def test_snapshot_restore_round_trip():
    s = _session()
    s.update_data(noise=0.2, dataset="xor")
    s.set_linked(2, 3)
    snap = s.snapshot()
    t = Session(fast=False)
    t.restore(snap)
    assert t.kind == "classify" and t.data == s.data and t.linked == (2, 3)
    assert np.array_equal(t.starts[0], s.starts[0])
    with pytest.raises(ValueError, match="needs ClassifyData"):
        import dataclasses
        t.restore(dataclasses.replace(snap, data=None))


def test_mini_batches_seed_and_start_on_a_classification():
    s = _session()
    assert s.set_batch_size(8)
    assert s.batch_size == 8
    s.step(12)
    c = s.counters()
    assert c["epoch"] == 2 and c["batches_per_epoch"] == 6  # 42 training points
    before = s.losses()[0].copy()
    assert s.set_seed(5) and s.t == 0
    assert isinstance(s.landscape, ClassifySlice)
    s.step(12)
    assert not np.array_equal(s.losses()[0], before)  # other batches
    # a click on the map moves the two shown parameters of the start
    i, j = s.linked
    assert s.set_start(0.5, -0.25)
    assert s.starts[0][i] == 0.5 and s.starts[0][j] == -0.25
    assert s.set_param(0, 1.5) and s.starts[0][0] == 1.5
