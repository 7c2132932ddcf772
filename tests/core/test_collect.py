"""The collector's passes on the thread that asks for them (gdviz.core.collect): never on
a worker's thread, where garbage holding Qt wrappers would be freed (issue 10)."""

from __future__ import annotations

import gc
import threading

from churn import churn

from gdviz.core.collect import PassesHere
from gdviz.core.session import Session
from gdviz.export.clip import ExportSettings, export


def _passes_by_thread():
    seen: list[str] = []

    def on_gc(phase, _info):
        if phase == "start":
            seen.append(threading.current_thread().name)

    gc.callbacks.append(on_gc)
    return seen, on_gc


def test_no_pass_on_a_worker_thread_the_owner_runs_them():
    seen, hook = _passes_by_thread()
    was = gc.isenabled()
    refs: list = []
    try:
        with PassesHere() as here:
            assert not gc.isenabled()
            t = threading.Thread(target=churn, args=(refs,), name="worker")
            t.start()
            t.join()
            assert seen == [] and refs[0]() is not None
            gens = [here.young() for _ in range(3)]
            assert gens[0] is not None and refs[0]() is None  # freed here, by the owner
        assert set(seen) == {threading.main_thread().name}
        assert gc.isenabled() == was  # CPython's passes back as they were
    finally:
        gc.callbacks.remove(hook)


def test_young_passes_follow_cpythons_thresholds(monkeypatch):
    count = [0, 0, 0]
    runs: list[int] = []
    with PassesHere() as here:
        monkeypatch.setattr(gc, "get_count", lambda: tuple(count))
        monkeypatch.setattr(gc, "collect", lambda generation=2: runs.append(generation) or 0)
        t0, t1, _ = here.thresholds
        count[0] = t0 - 1
        assert here.young() is None and runs == []
        count[0] = t0
        assert here.young() == 0
        count[1] = t1
        assert here.young() == 1 and runs == [0, 1]
        monkeypatch.undo()


def test_an_export_runs_the_passes_between_its_frames(tmp_path):
    """``gdviz export`` renders on its thread while the encoder's feed thread runs: the
    passes are the export's, after each frame, and CPython's come back after it."""
    states: list[bool] = []
    seen, hook = _passes_by_thread()
    try:
        export(Session(), tmp_path / "t.csv", ExportSettings(steps=10),
               progress=lambda done, total: states.append(gc.isenabled()))
    finally:
        gc.callbacks.remove(hook)
    assert states and not any(states[:-1])  # off during the frames
    assert gc.isenabled()
    assert set(seen) <= {threading.main_thread().name}
