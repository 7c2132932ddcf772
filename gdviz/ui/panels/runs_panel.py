"""One card per run: enable, colour, label, step-by-step pick, and its hyperparameters."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QEvent, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QRadioButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gdviz.core.i18n import current_language, tr
from gdviz.core.limits import LR_MAX, LR_MIN
from gdviz.ui import theme
from gdviz.ui.views.items import delete_later
from gdviz.ui.views.schedule_view import make_schedule, retranslate_schedule_combo, schedule_choices
from gdviz.ui.widgets import HyperSlider, forget_combo_widths, section

#: slider ranges for the hyperparameters a card can show: (label's i18n key, lo, hi, log);
#: the Chinese labels put the course's word before a symbol ("學習率 lr")
FIELD_RANGES: dict[str, tuple[str, float, float, bool]] = {
    "lr": ("label_lr", LR_MIN, LR_MAX, True),
    "momentum": ("momentum", 0.0, 0.999, False),
    "dampening": ("dampening", 0.0, 1.0, False),
    "alpha": ("label_alpha", 0.0, 0.999, False),
    "beta1": ("label_beta1", 0.0, 0.999, False),
    "beta2": ("label_beta2", 0.0, 0.9999, False),
    "eps": ("label_eps", 1e-10, 1.0, True),
    "weight_decay": ("weight_decay", 0.0, 1.0, False),  # L2 penalty (lesson L13)
    "lr_decay": ("lr_decay", 0.0, 1.0, False),
    "initial_accumulator_value": ("init_acc", 0.0, 1.0, False),
}
#: cards kept for runs to come, of each optimizer and in all (RunsPanel._keep_spare)
SPARE_CARDS_PER_OPTIMIZER = 2
SPARE_CARDS = 8
#: new cards made in one turn of the event loop; the rest on the turns after
#: (RunsPanel._reconcile: a card is ~4-7 ms at 200-300 % text, 5-12 ms at 60 %; four of
#: them were half of a 27-run scene's open, 55-95 ms, 124 ms in the GUI fuzz)
PACE_CARDS = 2
#: always shown; the others fold under "more"
MAIN_FIELDS = ("lr", "momentum", "alpha", "beta1", "beta2")
#: on/off hyperparameters, drawn as check boxes
FIELD_FLAGS = ("nesterov", "amsgrad", "centered")


def optimizer_fields(name: str) -> tuple[str, ...]:
    """The hyperparameter names that apply to optimizer ``name`` (``OPTIMIZERS[name].fields``)."""
    from gdviz.core.optimizers import OPTIMIZERS

    spec = OPTIMIZERS.get(name)
    return tuple(getattr(spec, "fields", ())) if spec is not None else ("lr",)


class RunCard(QFrame):
    """The controls of one run (spec index ``i``)."""

    def __init__(self, panel: "RunsPanel", i: int):
        super().__init__()
        self.panel, self.session, self.i = panel, panel.session, i
        spec = self.session.specs[i]
        self.opt_name = spec.config.name
        self.setObjectName(f"runCard{i}")
        self.setFrameShape(QFrame.Shape.StyledPanel)

        self.enabled = theme.projector(QCheckBox())
        self.enabled.setObjectName("runEnabled")
        self.enabled.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.swatch = QLabel()
        self.swatch.setObjectName("runSwatch")
        size = self.fontMetrics().height()
        self.swatch.setFixedSize(size, size)
        self.title = QLabel()
        self.title.setObjectName("runTitle")
        f = self.title.font()
        f.setBold(True)
        self.title.setFont(f)
        self.select = theme.projector(QRadioButton(tr("step_by_step_pick")))
        self.select.setObjectName("runSelect")
        self.select.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        panel.select_group.addButton(self.select, i)
        self.dup_small = self._tool("+ lr×0.1")
        self.dup_big = self._tool("+ lr×10")
        self.remove = self._tool("✕")
        self.remove.setObjectName("runRemove")
        self.more = self._tool(tr("more"))
        self.more.setCheckable(True)
        self.more.setObjectName("runMore")

        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.enabled)
        head.addWidget(self.swatch)
        head.addWidget(self.title, 1)
        head.addWidget(self.remove)
        # two groups: a narrow column (big text) puts the copies under the pick, each
        # group still side by side (:func:`gdviz.ui.widgets.reflow`)
        pick = QHBoxLayout()
        pick.addWidget(self.select)
        copies = QHBoxLayout()
        copies.addWidget(self.dup_small)
        copies.addWidget(self.dup_big)
        tools = QHBoxLayout()
        tools.setContentsMargins(0, 0, 0, 0)
        tools.addLayout(pick)
        tools.addStretch(1)
        tools.addLayout(copies)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(2)
        lay.addLayout(head)

        # the hyperparameters a lesson turns (lr, momentum, alpha, betas) stay in view;
        # the rest (eps, weight decay, ...) fold under "more" to keep the panel short
        self.sliders: dict[str, HyperSlider] = {}
        self.flags: dict[str, QCheckBox] = {}
        self.extra = QWidget()
        self.extra.setObjectName("runExtra")
        extra_lay = QVBoxLayout(self.extra)
        extra_lay.setContentsMargins(0, 0, 0, 0)
        extra_lay.setSpacing(2)
        flag_row = QHBoxLayout()
        for field in optimizer_fields(self.opt_name):
            if field in FIELD_RANGES:
                key, lo, hi, log = FIELD_RANGES[field]
                hs = HyperSlider(field, tr(key), lo, hi, log=log)
                hs.valueChanged.connect(lambda v, f=field: self._on_value_edited(f, v))
                self.sliders[field] = hs
                (lay if field in MAIN_FIELDS else extra_lay).addWidget(hs)
            elif field in FIELD_FLAGS:
                cb = theme.projector(QCheckBox(tr(f"flag_{field}")))
                cb.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                cb.toggled.connect(lambda on, f=field: self._on_value_edited(f, bool(on)))
                self.flags[field] = cb
                flag_row.addWidget(cb)
        if self.flags:
            flag_row.addStretch(1)
            extra_lay.addLayout(flag_row)
        self._align_labels()
        for hs in self.sliders.values():
            hs.labelWidthChanged.connect(self._align_labels)
        has_extra = bool(set(self.sliders) - set(MAIN_FIELDS) or self.flags)
        # each run its own schedule (L12 races constant lr against one-cycle)
        self.schedule_label = QLabel()
        self.schedule = QComboBox()
        self.schedule.setObjectName("runSchedule")
        self.schedule.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        for name, label in schedule_choices():
            self.schedule.addItem(label, name)
        sched_row = QHBoxLayout()
        sched_row.setContentsMargins(0, 0, 0, 0)
        sched_row.addWidget(self.schedule_label)
        sched_row.addWidget(self.schedule, 1)
        lay.addLayout(sched_row)
        self.schedule.activated.connect(self._on_schedule_picked)
        lay.addWidget(self.extra)
        self.extra.setVisible(False)
        if has_extra:
            pick.addWidget(self.more)
        else:
            self.more.hide()
        lay.addLayout(tools)
        self.more.toggled.connect(self._on_more_toggled)

        self.enabled.toggled.connect(self._on_enabled_toggled)
        self.dup_small.clicked.connect(lambda: self.panel.duplicate(self.i, 0.1))
        self.dup_big.clicked.connect(lambda: self.panel.duplicate(self.i, 10.0))
        self.remove.clicked.connect(self._remove)
        self._synced = None  # what sync() showed last
        self.retranslate()
        self.sync()

    def _remove(self) -> None:
        with self.panel.two_turns():
            self.session.remove_run(self.i)

    def retranslate(self) -> None:
        """Texts and tooltips in the UI language; hyperparameter symbols stay symbols."""
        #: the UI language of its texts (a card kept out of the window hears no change)
        self.lang = current_language()
        self.enabled.setToolTip(tr("tip_run_enabled"))
        self.select.setText(tr("step_by_step_pick"))
        self.select.setToolTip(tr("tip_run_select"))
        self.dup_small.setToolTip(tr("tip_dup", factor=0.1))
        self.dup_big.setToolTip(tr("tip_dup", factor=10))
        self.remove.setToolTip(tr("tip_remove_run"))
        self.more.setToolTip(tr("tip_more_hp"))
        self.schedule_label.setText(tr("run_schedule"))
        self.schedule.setToolTip(tr("tip_run_schedule"))
        retranslate_schedule_combo(self.schedule)
        self._on_more_toggled(self.more.isChecked())
        for field, hs in self.sliders.items():
            hs.set_text(tr(FIELD_RANGES[field][0]), tr(f"help_{field}", default=""))
        for field, cb in self.flags.items():
            cb.setText(tr(f"flag_{field}"))
        self._sync_lr_tip()
        if self.i < self.session.n_specs:  # a lesson's run label is translated too
            self.title.setText(self.session.spec_label(self.i))
            self.title.setToolTip(self.title.text())

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        elif event.type() == QEvent.Type.FontChange:
            # the colour swatch is a text line high at any text size (made at 100 %, it
            # stayed a small square beside a 300 % title)
            size = self.fontMetrics().height()
            if self.swatch.width() != size:
                self.swatch.setFixedSize(size, size)
        super().changeEvent(event)

    def _tool(self, text: str) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return b

    def _align_labels(self) -> None:
        """One label column per card, as wide as its longest name (also after Ctrl+=)."""
        width = max((hs.label_width_hint() for hs in self.sliders.values()), default=0)
        for hs in self.sliders.values():
            hs.label.setFixedWidth(width)

    def _on_more_toggled(self, on: bool) -> None:
        self.extra.setVisible(on)
        self.more.setText(tr("less") if on else tr("more"))

    # -- widget -> session -----------------------------------------------------------
    # (each in two turns, MainWindow.two_turns: scrubbed back, an edit replaces the history
    # from that step, and every view re-feeds its runs; L21 with 30 networks: 66-122 ms in
    # one turn)
    def _on_value_edited(self, field: str, value) -> None:
        with self.panel.two_turns():
            ok = self.session.update_run(self.i, **{field: value})
        if not ok:
            self.sync(force=True)  # refused (the session said why): show what is in force again

    def _on_schedule_picked(self, index: int) -> None:
        name = self.schedule.itemData(index)
        if name == self.session.specs[self.i].schedule.kind:
            return  # the same kind keeps its settings (e.g. a scene's pct_start)
        with self.panel.two_turns():
            ok = self.session.set_schedule(self.i, make_schedule(name))
        if not ok:
            self.sync(force=True)

    def _on_enabled_toggled(self, on: bool) -> None:
        with self.panel.two_turns():
            self.session.update_run(self.i, enabled=bool(on))

    # -- session -> widget -------------------------------------------------------------
    def sync(self, force: bool = False) -> None:
        """Show the session's spec ``i`` (signals blocked: no feedback loop). Nothing is
        written when the card shows it already (one change of the session reaches the
        cards through its runs' and its settings' signals), unless ``force`` (an edit
        the session refused: the widget shows the refused value)."""
        s = self.session
        spec = s.specs[self.i]
        cfg = spec.config
        color = s.colors[self.i] if self.i < len(s.colors) else "#888888"
        key = (self.i, spec, color, s.spec_label(self.i), selected_spec(s), s.same_lr,
               len(s.specs))
        if key == self._synced and not force:
            return
        self._synced = key
        sheet = f"background: {color}; border-radius: 3px;"
        if self.swatch.styleSheet() != sheet:  # (a sheet set again re-polishes the label)
            self.swatch.setStyleSheet(sheet)
        self.title.setText(s.spec_label(self.i))
        self.title.setToolTip(self.title.text())
        with QSignalBlocker(self.enabled):
            self.enabled.setChecked(spec.enabled)
        with QSignalBlocker(self.select):
            self.select.setChecked(selected_spec(s) == self.i)
        with QSignalBlocker(self.schedule):
            self.schedule.setCurrentIndex(max(self.schedule.findData(spec.schedule.kind), 0))
        same_lr = s.same_lr
        for field, hs in self.sliders.items():
            hs.setValue(float(getattr(cfg, field)))
            if field == "lr":
                hs.setEnabled(not same_lr)
        self._sync_lr_tip()
        for field, cb in self.flags.items():
            with QSignalBlocker(cb):
                cb.setChecked(bool(getattr(cfg, field)))
        self.remove.setEnabled(len(s.specs) > 1)

    def _sync_lr_tip(self) -> None:
        hs = self.sliders.get("lr")
        if hs is not None:
            same_lr = self.session.same_lr
            hs.setToolTip(tr("tip_lr_shared") if same_lr else "")


class RunsPanel(QWidget):
    """All run cards, the "same learning rate for all" switch, and "Add run"."""

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.cards: list[RunCard] = []
        #: around a click's or an edit's change of the runs: the window's
        #: MainWindow.two_turns (the views refresh in the next turn); alone, one turn
        self.two_turns = contextlib.nullcontext
        #: cards of runs gone, out of the panel, by optimizer (:meth:`_keep_spare`)
        self._spares: dict[str, list[RunCard]] = {}
        #: the cards that did not fit in one turn come on the next (see _reconcile)
        self._pace = QTimer(self)
        self._pace.setSingleShot(True)
        self._pace.timeout.connect(self._on_runs_changed)
        self.pace_cards = PACE_CARDS
        self.cards_deferred = 0  # (turns that left cards for a later one: for tests)
        self.select_group = QButtonGroup(self)
        self.select_group.setExclusive(False)  # so that a click can also clear the pick

        self.same_lr = theme.projector(QCheckBox(tr("same_lr")))
        self.same_lr.setObjectName("sameLr")
        self.same_lr.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.shared_lr = HyperSlider("shared_lr", tr("lr_all"), LR_MIN, LR_MAX, log=True)
        self.add_button = QPushButton(tr("add_run"))
        self.title = section(tr("optimizers"))
        self.add_button.setObjectName("addRun")
        self.add_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        menu = QMenu(self.add_button)
        from gdviz.core.optimizers import OPTIMIZERS

        for name, spec in OPTIMIZERS.items():
            act = QAction(getattr(spec, "label", name), menu)
            act.setData(name)
            act.triggered.connect(lambda _=False, n=name: self.add_run(n))
            menu.addAction(act)
        self.add_button.setMenu(menu)
        self.add_menu = menu

        self.cards_box = QVBoxLayout()
        self.cards_box.setSpacing(6)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.add_button)
        lay.addLayout(head)
        lay.addWidget(self.same_lr)
        lay.addWidget(self.shared_lr)
        lay.addLayout(self.cards_box)

        self.same_lr.toggled.connect(self._on_same_lr_toggled)
        self.shared_lr.valueChanged.connect(self._on_shared_lr_edited)
        self.select_group.idClicked.connect(self._on_select_clicked)
        session.runs_changed.connect(self._on_runs_changed)
        session.settings_changed.connect(self._on_settings_changed)
        session.selection_changed.connect(self._on_selection_changed)
        self.retranslate()
        self._on_runs_changed()
        self._on_settings_changed()

    def retranslate(self) -> None:
        """Heading, "Add run", "Same learning rate for all" in the UI language (each card
        retranslates itself)."""
        self.title.setText(tr("optimizers"))
        self.add_button.setText(tr("add_run"))
        self.add_button.setToolTip(tr("tip_add_run"))
        self.same_lr.setText(tr("same_lr"))
        self.shared_lr.set_text(tr("lr_all"), tr("help_lr"))

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # -- widget -> session ---------------------------------------------------------------
    def add_run(self, name: str) -> int:
        from gdviz.core.optimizers import make_optimizer
        from gdviz.core.session import RunSpec

        with self.two_turns():
            return self.session.add_run(RunSpec(config=make_optimizer(name)))

    def duplicate(self, i: int, factor: float) -> int:
        """Add a copy of run ``i`` with its lr times ``factor`` (lr ×0.1 / ×10, lesson L4)."""
        from gdviz.core.session import RunSpec

        spec = self.session.specs[i]
        lr = min(max(spec.config.lr * factor, LR_MIN), LR_MAX)
        new = RunSpec(config=spec.config.replace(lr=lr), schedule=spec.schedule)
        with self.two_turns():
            return self.session.add_run(new)

    def _on_same_lr_toggled(self, on: bool) -> None:
        with self.two_turns():
            self.session.set_same_lr(bool(on), self.shared_lr.value())

    def _on_shared_lr_edited(self, lr: float) -> None:
        with self.two_turns():
            self.session.set_same_lr(True, lr)

    def _on_select_clicked(self, i: int) -> None:
        # a card is a spec; step-by-step follows that spec's run from the first start
        if selected_spec(self.session) == i:
            self.session.select(-1)
        else:
            self.session.select(self.session.runs_of_spec(i)[0])

    # -- session -> widget ----------------------------------------------------------------
    def _on_runs_changed(self, *_) -> None:
        names = [s.config.name for s in self.session.specs]
        if names != [c.opt_name for c in self.cards]:
            self._reconcile(names)
        for c in self.cards:
            c.sync()

    def _reconcile(self, names: list[str]) -> None:
        """Cards for the optimizers ``names`` (one per spec, in order), keeping every card
        whose run is still there: a run added makes one card, a run removed drops one.
        (Cards only depend on their optimizer; :meth:`RunCard.sync` shows the rest.) A
        slider being dragged survives: cards change only when the set of runs does."""
        old = [c.opt_name for c in self.cards]
        # the common head and tail stay; the cards in between go, new ones come in their place
        head = 0
        while head < min(len(old), len(names)) and old[head] == names[head]:
            head += 1
        tail = 0
        while (tail < min(len(old), len(names)) - head
               and old[len(old) - 1 - tail] == names[len(names) - 1 - tail]):
            tail += 1
        for c in self.cards[head:len(old) - tail]:
            self._put_away(c)
        kept_tail = self.cards[len(old) - tail:]
        self.cards = self.cards[:head]
        # at most pace_cards new cards a turn (a scene of 19 runs opened over a lesson of
        # one made 11 cards in its turn, ~50 ms of it at 227 % text): the panel shows the
        # first runs' cards, and the others come on the next turns, in order
        room = self.pace_cards
        for i in range(head, len(names) - tail):
            card = self._spare_card(names[i], i)
            kept = card is not None
            if not kept:
                if room <= 0:
                    break
                room -= 1
                card = RunCard(self, i)
            self.cards_box.insertWidget(i, card)
            if kept:  # (put away hidden, see _put_away: shown on the next turn, as its
                # layout shows a new one; a kept card shown in the open's turn cost that
                # turn ~3 ms each, up to SPARE_CARDS of them)
                QTimer.singleShot(0, self, lambda c=card: self._show_card(c))
            self.cards.append(card)
        if len(self.cards) == len(names) - tail:
            self.cards += kept_tail
        else:  # the tail's cards would stand at the wrong runs' places: out, as gone ones
            for c in kept_tail:
                self._put_away(c)
            self.cards_deferred += 1
            self._pace.start(0)
        for i, c in enumerate(self.cards):  # the tail's spec indices moved
            if c.i != i:
                c.i = i
                c.setObjectName(f"runCard{i}")
                self.select_group.setId(c.select, i)

    def _show_card(self, c: "RunCard") -> None:
        """A kept card taken back, shown if it is still one of the panel's."""
        if any(card is c for card in self.cards):
            c.show()

    def _put_away(self, c: "RunCard") -> None:
        """Card ``c`` out of the panel: kept for a run to come, or freed."""
        self.select_group.removeButton(c.select)
        self.cards_box.removeWidget(c)
        # out of the panel now, not at its deletion a turn later: the controls' fit in
        # this turn walks every widget under the panel at each reflow pass (a lesson
        # opened over 20 leftover runs at 300 % text: 12 ms of reflow, 7 without them).
        # Hidden explicitly: a card that came in this turn has a show queued by its layout
        # for the next one, and that show made a card put away (a scene of 12 runs opened
        # over a lesson: the cards past the turn's pace) a window of its own, which took
        # the keyboard focus from the map (Space typed into its lr box). A card taken back
        # is shown on the turn after it comes in, if it is still the panel's (_reconcile)
        c.setParent(None)
        c.hide()
        if not self._keep_spare(c):
            delete_later(c)

    def _keep_spare(self, card: "RunCard") -> bool:
        """Keep ``card`` (out of the panel) for a run of its optimizer to come, up to
        ``SPARE_CARDS_PER_OPTIMIZER`` of each and ``SPARE_CARDS`` in all; False: it goes.
        (A lesson opened over leftover runs made its cards anew, ~7 ms each at 200 %
        text, while the leftovers' cards were freed.) Few: a kept card still hears the
        app's font and palette changes."""
        same = self._spares.setdefault(card.opt_name, [])
        if len(same) >= SPARE_CARDS_PER_OPTIMIZER or \
                sum(map(len, self._spares.values())) >= SPARE_CARDS:
            return False
        same.append(card)
        return True

    def _spare_card(self, name: str, i: int) -> "RunCard | None":
        """A kept card of optimizer ``name`` made the card of spec ``i`` (None: none
        kept): what a new card starts as (folded, in the UI language, showing spec ``i``
        at its next sync)."""
        same = self._spares.get(name)
        if not same:
            return None
        card = same.pop()
        card.i = i
        card.setObjectName(f"runCard{i}")
        self.select_group.addButton(card.select, i)
        card._synced = None
        if card.more.isChecked():
            card.more.setChecked(False)  # (folds its extra rows)
        if card.lang != current_language():
            card.retranslate()
        # its combo box measures its width anew: Qt keeps it through a font change, and
        # a card kept over a new text size, out of the panel's reach (the panel forgets its
        # own combos' widths), came back side by side with its schedule cut ("Constan")
        forget_combo_widths(card)
        return card  # (the panel syncs every card next)

    def _on_settings_changed(self, *_) -> None:
        same = self.session.same_lr
        with QSignalBlocker(self.same_lr):
            self.same_lr.setChecked(same)
        self.shared_lr.setVisible(same)
        self.shared_lr.setValue(self.session.shared_lr)
        for c in self.cards:
            c.sync()

    def _on_selection_changed(self, *_) -> None:
        for c in self.cards:
            with QSignalBlocker(c.select):
                c.select.setChecked(selected_spec(self.session) == c.i)


def selected_spec(session) -> int:
    """The spec whose run is in step-by-step mode (-1: none)."""
    r = session.selected
    return session.spec_index(r) if r >= 0 else -1
