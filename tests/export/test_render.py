"""Frame layout: every caption fits its strip and every key fits its row, in every preset
and language; a caption too long for any strip is shortened visibly, never cut silently."""

import numpy as np
import pytest

from gdviz.core.i18n import LANGUAGES
from gdviz.core.scene import apply_scene, load_scene, preset_paths
from gdviz.core.session import Session
from gdviz.export.clip import ExportSettings, FrameSource, scene_look
from gdviz.export.render import (
    CAPTION_MAX_SHARE,
    FrameData,
    FrameRenderer,
    SceneLook,
    base_px,
    counters_text,
    layout_caption,
)

# pytest-qt's QApplication first: the renderer would otherwise make a bare QGuiApplication
pytestmark = pytest.mark.usefixtures("qapp")
PRESETS = preset_paths()
SIZE = (1280, 720)


def _look(title, caption, **kw):
    g = np.linspace(0.0, 1.0, 40)
    return SceneLook(grid=np.add.outer(g, g), view=(0, 1, 0, 1), segments=np.zeros((0, 2)),
                     minima=np.zeros((0, 2)), labels=["run"], colors=["#E69F00"], title=title,
                     caption=caption, **kw)


def _drawn_inside(renderer):
    strip = renderer.caption_rect
    return [strip.contains(r) for r in renderer.caption_drawn]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_preset_caption_fits_at_720p(path, lang):
    meta = load_scene(path).meta
    title, caption = meta.title.get(lang), meta.caption.get(lang)
    lay = layout_caption(title, caption, SIZE)
    assert not lay.shortened
    assert (lay.title, lay.body) == (title, caption)
    assert lay.body_px >= round(0.75 * base_px(720))  # legible from the back of a classroom
    assert lay.height <= 720 * CAPTION_MAX_SHARE
    r = FrameRenderer(_look(title, caption), SIZE, ("landscape", "loss", "caption"))
    # drawText's own bounding rects: the whole wrapped title and body lie in the strip
    assert _drawn_inside(r) == [True, True]
    assert r.caption_rect.bottom() <= SIZE[1]


def test_long_caption_grows_the_strip_before_shrinking_the_font():
    meta = load_scene(PRESETS[8]).meta  # L09: the longest English caption
    short = layout_caption(meta.title.en, "One line.", SIZE)
    long = layout_caption(meta.title.en, meta.caption.en, SIZE)
    assert long.body_px == short.body_px
    assert long.height > short.height == round(720 * 0.17)


@pytest.mark.parametrize("unit, words", [
    ("Gradient descent walks downhill, one small step at a time. ", True),
    ("梯度下降法就是讓電腦自動做這件事，並用梯度告訴它每個參數該往哪個方向調。", False),
])
def test_caption_too_long_for_any_strip_is_shortened_visibly(unit, words):
    text = unit * 80
    lay = layout_caption("Title", text, SIZE)
    assert lay.shortened
    assert lay.body.endswith("…") and len(lay.body) < len(text)
    kept = lay.body[:-1]
    assert text.startswith(kept)
    if words:  # whole words are kept: no word is cut in two
        assert kept[-1].isalnum() and not text[len(kept)].isalnum()
    assert lay.height == round(720 * CAPTION_MAX_SHARE)
    r = FrameRenderer(_look("Title", text), SIZE, ("landscape", "caption"))
    assert _drawn_inside(r) == [True, True]


def test_small_frame_caption_still_inside():
    meta = load_scene(PRESETS[8]).meta
    r = FrameRenderer(_look(meta.title.en, meta.caption.en), (320, 180), ("landscape", "loss", "caption"))
    assert _drawn_inside(r) == [True, True]


def test_counters_text():
    assert counters_text(None, 7) == "step 7"
    c = dict(iteration=23, epoch=3, batch_in_epoch=3, batches_per_epoch=10)
    assert counters_text(c, 23) == "iteration 23 · epoch 3 (batch 3/10)"
    c = dict(iteration=23, epoch=23, batch_in_epoch=1, batches_per_epoch=1)
    assert counters_text(c, 23) == "iteration 23 · epoch 23"


@pytest.mark.slow
@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_preset_keys_fit_without_eliding(path):
    """Each preset's frame keys (legend rows, counters) fit at 720p in both themes."""
    scene = load_scene(path)
    s = Session()
    apply_scene(scene, s)
    panels = tuple(dict.fromkeys(tuple(scene.export.panels) + (("fit",) if s.is_data else ())))
    for theme in ("light", "dark"):
        settings = ExportSettings(steps=scene.export.steps, panels=panels, theme=theme)
        s.reset()
        look = scene_look(s, settings, (scene.meta.title.en, scene.meta.caption.en))
        r = FrameRenderer(look, SIZE, panels, theme)
        source = FrameSource(s, look, panels)
        r.render(source())
        s.step(7)
        frame = source()
        frame.step = frame.step + scene.export.steps  # counters as wide as the clip's end
        r.render(frame)
        assert r.elided == set()


def test_key_with_many_runs_is_elided_not_overflowing():
    """More runs than fit the key row: texts end in "…" and are recorded, none overflow."""
    labels = [f"Optimizer number {i} with a rather long label" for i in range(12)]
    look = _look("", "", fit=None)
    look.labels, look.colors = labels, ["#E69F00"] * 12
    r = FrameRenderer(look, (640, 360), ("loss",))
    r.render(FrameData(step=3, trails=[np.zeros((4, 2))] * 12, losses=[np.ones(4)] * 12,
                       diverged_at=[-1] * 12, val_losses=[np.ones(4)] * 12))
    assert r.elided
