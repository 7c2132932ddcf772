"""A frame of a playing race lays nothing out: counters that change every frame must not
send a layout request up to the main window (it re-laid out the whole window, and repainted
its status bar twice, 60 times a second)."""

from PySide6.QtCore import QEvent, QObject

from gdviz.ui.widgets import SteadyLabel


class _Count(QObject):
    def __init__(self):
        super().__init__()
        self.layouts = 0
        self.window_paints = 0
        self.window = None

    def eventFilter(self, obj, event):  # noqa: N802
        if event.type() == QEvent.Type.LayoutRequest and obj.isWidgetType():
            self.layouts += 1
        elif event.type() == QEvent.Type.Paint and obj is self.window:
            self.window_paints += 1
        return False


def test_playing_frames_request_no_layout(window, qapp):
    s = window.session
    s.set_max_steps(100_000)
    s.set_speed(600.0)
    window.frame_timer.stop()
    s.play()
    window.frame_timer.stop()
    for _ in range(5):
        s.tick(1 / 60)
        qapp.processEvents()
    count = _Count()
    count.window = window
    qapp.installEventFilter(count)
    try:
        texts = set()
        for _ in range(30):
            s.tick(1 / 60)
            qapp.processEvents()
            texts.add(window.counters.text())
    finally:
        qapp.removeEventFilter(count)
    assert len(texts) == 30  # the counters did change every frame
    assert count.layouts == 0
    assert count.window_paints <= 30


def test_steady_label_grows_never_shrinks_and_refits_on_font(qtbot):
    lab = SteadyLabel()
    qtbot.addWidget(lab)
    lab.setText("Step 9 / 100")
    w0 = lab.width()
    lab.setText("Step 10 / 100")
    assert lab.width() == w0  # room for two more digits: no new size
    lab.setText("Step 100000 / 100000")
    w1 = lab.width()
    assert w1 > w0 and lab.minimumWidth() == lab.maximumWidth() == w1
    lab.setText("Step 1 / 1")
    assert lab.width() == w1
    f = lab.font()
    f.setPointSizeF(f.pointSizeF() * 2)
    lab.setFont(f)
    assert lab.width() > w1  # fitted again for the new font
