"""A frame of a playing race lays nothing out: counters that change every frame must not
send a layout request up to the main window (it re-laid out the whole window, and repainted
its status bar twice, 60 times a second)."""

from PySide6.QtCore import QEvent, QObject

from gdviz.ui.widgets import SteadyLabel, SteadyWrapBox


class _Count(QObject):
    def __init__(self):
        super().__init__()
        self.layouts = 0
        self.window_paints = 0
        self.window = None
        #: widgets whose own layout requests do not count (a SteadyWrapBox takes its
        #: label's request and lays nothing out)
        self.skip = ()

    def eventFilter(self, obj, event):  # noqa: N802
        # the window's own widgets only: an earlier test's window, closed but alive (the
        # suite deletes no widget: deleting them between tests destroyed pyqtgraph labels
        # mid-collection, a segfault), cleared its status note ("Text size 100 %", from
        # test_big_text_layout) during the counted frames
        if (event.type() == QEvent.Type.LayoutRequest and obj.isWidgetType()
                and not isinstance(obj, self.skip)
                and (self.window is None or obj.window() is self.window)):
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
    # fitted again for the new font: its text and two more digits
    fitted = lab.fontMetrics().horizontalAdvance("Step 1 / 1" + "00")
    assert abs(lab.width() - fitted) <= 4 and lab.width() > w0
    f.setPointSizeF(f.pointSizeF() / 2)
    lab.setFont(f)
    # and for a smaller one, smaller (a QLabel's size hint is at least its minimum size:
    # back at 100 % text after 200 %, the step counter kept its 200 % width)
    assert lab.width() < w0


def test_playing_classification_frames_request_no_layout(window, qapp):
    """L21 plays: the plane's accuracies change on its turns, and the window is not laid
    out again for them (it was, 42 times in 100 frames: its label's request climbed)."""
    from gdviz.core.scene import load_preset
    from gdviz.core.scene.bridge import apply_scene

    s = window.session
    apply_scene(load_preset("L21_spiral"), s)
    qapp.processEvents()
    plane = window.picture.plane_view
    window.frame_timer.stop()
    s.play()
    window.frame_timer.stop()
    for _ in range(10):
        s.tick(1 / 60)
        qapp.processEvents()
    count = _Count()
    count.window = window
    count.skip = (SteadyWrapBox,)
    qapp.installEventFilter(count)
    try:
        texts = set()
        for _ in range(40):
            s.tick(1 / 60)
            qapp.processEvents()
            texts.add(plane.status.text())
            # the worker's picture of this frame finished, and shown on the next one (on a
            # loaded machine it was still busy on most of the 40 frames, and the
            # accuracies shown changed only 5 times)
            w = plane._worker
            if w is not None:
                w.wait(w._gen, 10.0)
                qapp.processEvents()
    finally:
        qapp.removeEventFilter(count)
        s.pause()
    assert len(texts) > 5  # the accuracies did change
    assert count.layouts == 0


def test_steady_wrap_box_lays_out_only_for_a_new_height(qtbot, qapp):
    from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

    outer = QWidget()
    lay = QVBoxLayout(outer)
    label = QLabel()
    label.setWordWrap(True)
    box = SteadyWrapBox(label)
    lay.addWidget(box)
    lay.addWidget(QWidget(), 1)
    qtbot.addWidget(outer)
    outer.resize(300, 240)
    outer.show()
    qtbot.waitExposed(outer)
    box.set_text("Accuracy 50.0 %")
    qapp.processEvents()
    h1 = box.height()
    assert h1 == label.heightForWidth(box.width()) > 0
    count = _Count()
    count.skip = (SteadyWrapBox,)
    count.window = outer  # (an earlier test's window may settle meanwhile)
    qapp.installEventFilter(count)
    try:
        box.set_text("Accuracy 51.5 %")
        qapp.processEvents()
        assert count.layouts == 0 and label.text() == "Accuracy 51.5 %"
        box.set_text("Accuracy<br>train 51.5 %<br>validation 49.0 %")  # two lines more
        qapp.processEvents()
        assert count.layouts > 0
    finally:
        qapp.removeEventFilter(count)
    assert box.height() == label.heightForWidth(box.width()) > h1
    assert label.geometry() == box.rect()  # the label fills its box
    f = label.font()
    f.setPointSizeF(f.pointSizeF() * 2)
    label.setFont(f)
    qapp.processEvents()
    assert box.height() == label.heightForWidth(box.width())  # fitted again for the font


def test_a_wrap_box_being_torn_down_lets_its_label_events_pass(qtbot):
    """The GUI fuzz met "'SteadyWrapBox' object has no attribute 'label'" in an export:
    the box, torn down, still filtered its label's events after its Python attributes were
    gone. An exception in a Qt virtual can crash PySide; the filter lets them pass."""
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QLabel

    box = SteadyWrapBox(QLabel("a b c"))
    qtbot.addWidget(box)
    label = box.label
    del box.label  # as a torn-down wrapper's attributes are
    assert box.eventFilter(label, QEvent(QEvent.Type.FontChange)) is False
