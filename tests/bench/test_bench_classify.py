"""The decision-surface bench entry runs and returns a well-formed row (times unchecked)."""

from gdviz import bench


def test_decision_surface_entry_row():
    assert bench.ENTRIES["decision-surface"] == ("gdviz.bench.classify", "bench_decision_surface")
    (row,) = bench.run(["decision-surface"])
    assert row["name"] == "decision-surface" and row["baseline"] == "numpy"
    assert row["ours_ms"] > 0 and row["baseline_ms"] > 0 and row["frame_ms"] > 0
    assert row["ratio"] == row["baseline_ms"] / row["ours_ms"]
