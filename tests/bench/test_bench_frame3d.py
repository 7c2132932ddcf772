"""``gdviz bench frame-3d`` runs and returns a well-formed row (times are never checked)."""

from __future__ import annotations

import pytest

from gdviz import bench


def test_frame_3d_entry_runs_under_software_gl():
    assert bench.ENTRIES["frame-3d"] == ("gdviz.bench.frame3d", "bench_frame_3d")
    from gdviz.bench.frame3d import bench_frame_3d

    r = bench_frame_3d(frames=5, size=(320, 200), mesh=64)
    assert r["name"] == "frame-3d" and r["ours_ms"] > 0 and r["baseline_ms"] > 0
    assert r["ratio"] == pytest.approx(r["baseline_ms"] / r["ours_ms"])
    assert r["mesh"] == "64x64" and r["runs"] == 4
    assert r["mesh_uploads_in_frames"] == 0  # the runs move; the mesh stays on the GPU
    assert r["static_redraws_in_frames"] == 0  # and its drawing is reused
    assert "llvmpipe" in r["renderer"] or r["renderer"]
