"""The shared filter, sort order and grouping controls (a toolbar). Writes to the state only."""
from __future__ import annotations

import pandas as pd
from PySide6.QtCore import QDate, QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QHBoxLayout, QLabel, QLineEdit, QToolButton,
                               QWidget)

from etl_desk.core.data.schema import FAILED, SOURCE_SYSTEMS, SUCCESS
from etl_desk.core.dashboard.view import GROUPINGS, SORT_KEYS, ViewFilter

ALL_SOURCES = "All sources"


class FilterBar(QWidget):
    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.setObjectName("filterBar")
        self.state = state
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        lay.setSpacing(6)

        self.success = QCheckBox(SUCCESS)
        self.failed = QCheckBox(FAILED)
        for cb, color in ((self.success, "#F28E2B"), (self.failed, "#4E79A7")):
            cb.setChecked(True)
            cb.setStyleSheet(f"QCheckBox::indicator:checked {{ background: {color}; border: 1px solid #555; }}")
            cb.setToolTip(f"Show {cb.text().lower()} runs")
            cb.toggled.connect(self._apply)
        self.source = QComboBox()
        self.source.setObjectName("sourceFilter")
        self.source.addItems([ALL_SOURCES, *SOURCE_SYSTEMS])
        self.source.setToolTip("Show runs of one source system")
        self.source.currentIndexChanged.connect(self._apply)
        self.use_dates = QCheckBox("From")
        self.use_dates.setToolTip("Limit to runs that started in this date range (inclusive)")
        self.date_from = QDateEdit()
        self.date_to = QDateEdit()
        for d in (self.date_from, self.date_to):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
            d.setEnabled(False)
            d.dateChanged.connect(self._apply)
        self.use_dates.toggled.connect(self.date_from.setEnabled)
        self.use_dates.toggled.connect(self.date_to.setEnabled)
        self.use_dates.toggled.connect(self._apply)
        self.text = QLineEdit()
        self.text.setObjectName("textFilter")
        self.text.setPlaceholderText("Pipeline or run ID contains…")
        self.text.setClearButtonEnabled(True)
        self.text.setToolTip("Case-insensitive text filter on pipeline name and run ID (Ctrl+F)")
        self.text.setMinimumWidth(170)
        self._text_timer = QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.setInterval(250)
        self._text_timer.timeout.connect(self._apply)
        self.text.textChanged.connect(self._text_timer.start)

        self.sort = QComboBox()
        self.sort.setObjectName("sortCombo")
        for key, label in SORT_KEYS.items():
            self.sort.addItem(label, key)
        self.sort.setToolTip("One sort order for the three charts and the table")
        self.sort.currentIndexChanged.connect(self._apply_sort)
        self.descending = QToolButton()
        self.descending.setObjectName("descendingButton")
        self.descending.setCheckable(True)
        self.descending.setText("↓")
        self.descending.setToolTip("Descending (largest first)")
        self.descending.toggled.connect(self._apply_sort)
        self.grouping = QComboBox()
        self.grouping.setObjectName("groupingCombo")
        for key, label in GROUPINGS.items():
            self.grouping.addItem(label, key)
        self.grouping.setToolTip("Draw one bar per run, or aggregate per pipeline / day / week / month\n"
                                 "(aggregated bars still show the failed share in blue)")
        self.grouping.currentIndexChanged.connect(self._apply_grouping)

        for w in (QLabel("Status:"), self.success, self.failed, QLabel("Source:"), self.source, self.use_dates,
                  self.date_from, QLabel("to"), self.date_to, self.text, QLabel("  Sort:"), self.sort,
                  self.descending, QLabel("  Show:"), self.grouping):
            lay.addWidget(w)
        lay.addStretch(1)
        state.datasetChanged.connect(self.sync_from_state)
        state.viewChanged.connect(self._sync_sort)
        self.sync_from_state()

    def current_filter(self) -> ViewFilter:
        statuses = None
        if not (self.success.isChecked() and self.failed.isChecked()):
            statuses = frozenset(s for s, cb in ((SUCCESS, self.success), (FAILED, self.failed)) if cb.isChecked())
        src = self.source.currentText()
        sources = None if src == ALL_SOURCES else frozenset({src})
        start = end = None
        if self.use_dates.isChecked():
            start = pd.Timestamp(self.date_from.date().toString("yyyy-MM-dd"))
            end = pd.Timestamp(self.date_to.date().toString("yyyy-MM-dd")) + pd.Timedelta(days=1)
        return ViewFilter(statuses=statuses, sources=sources, start=start, end=end, text=self.text.text())

    def _apply(self, *args) -> None:
        self.state.set_filter(self.current_filter())

    def _apply_sort(self, *args) -> None:
        self.state.set_sort(self.sort.currentData(), self.descending.isChecked())

    def _apply_grouping(self, *args) -> None:
        self.state.set_grouping(self.grouping.currentData())

    def sync_from_state(self) -> None:
        """New data: reset the filter widgets and fit the date range to the data."""
        blockers = [QSignalBlocker(w) for w in (self.success, self.failed, self.source, self.use_dates,
                                                  self.date_from, self.date_to, self.text)]
        self.success.setChecked(True)
        self.failed.setChecked(True)
        self.source.setCurrentIndex(0)
        ds = self.state.dataset
        self.source.setEnabled(bool(ds is not None and ds.has_sources))
        self.use_dates.setChecked(False)
        self.date_from.setEnabled(False)
        self.date_to.setEnabled(False)
        self.text.clear()
        if ds is not None and ds.n:
            lo = pd.Timestamp(int(ds.start_ns.min()))
            hi = pd.Timestamp(int(ds.start_ns.max()))
            self.date_from.setDate(QDate(lo.year, lo.month, lo.day))
            self.date_to.setDate(QDate(hi.year, hi.month, hi.day))
        del blockers
        self._sync_sort()

    def _sync_sort(self) -> None:
        spec = self.state.spec
        with QSignalBlocker(self.sort), QSignalBlocker(self.descending), QSignalBlocker(self.grouping):
            self.sort.setCurrentIndex(max(0, self.sort.findData(spec.sort_key)))
            self.descending.setChecked(spec.descending)
            self.grouping.setCurrentIndex(max(0, self.grouping.findData(spec.grouping)))

    def focus_text(self) -> None:
        self.text.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.text.selectAll()
