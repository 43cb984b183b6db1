"""The import step for foreign run histories: preview, column mapping, units, prices, policies.

Everything it decides is an :class:`etl_desk.core.data.importers.options.ImportOptions`;
the mapping is guessed by core from the headers, remembered per header set in
the window settings (etl_desk.ui.settings), and applied by core when the file is loaded (in the background).
The decimal mark (auto / "." / ",") and the date order (auto / month-first / day-first) are
``ImportOptions.decimal`` / ``dayfirst``, as ``--decimal-comma`` / ``--day-first`` on the command
line; "auto" lets core read each column's own evidence (core/data/importers/locale_stage.py). When
a load was refused as ambiguous, the dialog opens again with the options used and core's
message (which names the column) so the user can choose and retry; the data on screen stays.
"""
from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout,
                               QFrame, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QScrollArea, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from etl_desk.core.data.importers import preview
from etl_desk.core.data.importers.mapping import EXTRA_FIELDS, FIELDS, UNITS, Mapping, header_key
from etl_desk.core.data.importers.options import ImportOptions
from etl_desk.core.data.schema import BY_NAME, CANCELLED_POLICIES
from etl_desk.ui.settings import Settings

NONE = "(not in this file)"
DECIMAL_CHOICES = (("auto (read each column)", None), ('"." — 1,234.50', "."), ('"," — 1.234,50', ","))
DATE_CHOICES = (("auto (read each column)", None), ("month first — 04/03/2024 is 3 April", False),
                ("day first — 04/03/2024 is 4 March", True))
POLICY_TEXT = {"failed": "count as failed", "success": "count as successful", "exclude": "leave out"}
#: Preferred size; on a smaller screen the dialog takes what is left after the taskbar and its title
#: bar (about 80 px on a 1366x768 laptop) and the mapping form scrolls.
PREFERRED_SIZE = (980, 800)
WINDOW_FRAME_PX = 80


def field_label(name: str) -> str:
    if name in BY_NAME:
        c = BY_NAME[name]
        return c.label + (" *" if c.required and name not in ("end_time", "duration_min", "cost_usd") else "")
    return EXTRA_FIELDS.get(name, name)


def remembered_mapping(settings: Settings, headers) -> Mapping | None:
    text = settings.mapping_json(header_key(headers))
    if not text:
        return None
    try:
        return Mapping.from_json(text)
    except Exception:  # noqa: BLE001 - a damaged stored mapping is ignored, not fatal
        return None


def remember_mapping(settings: Settings, headers, mapping: Mapping) -> None:
    settings.set_mapping_json(header_key(headers), mapping.to_json())


class ImportDialog(QDialog):
    """Preview of the first rows and one row of controls per canonical field."""

    def __init__(self, path: str, settings: Settings, parent=None, options: ImportOptions | None = None,
                 error: str | None = None):
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.setWindowTitle(f"Import {path}")
        self.path = path
        self.settings = settings
        self.headers, rows, guessed = preview(path, 20)
        remembered = remembered_mapping(settings, self.headers)
        self.initial = (options.mapping if options is not None and options.mapping is not None
                        else remembered or guessed)
        self.from_memory = remembered is not None

        lay = QVBoxLayout(self)
        note = QLabel(("Using the mapping you chose last time for these columns. " if self.from_memory else
                       "ETL Desk guessed which column holds what from the headers. ") +
                      "Check it against the preview and fix what is wrong. Fields marked * are required.")
        note.setWordWrap(True)
        lay.addWidget(note)
        table = QTableWidget(len(rows), len(self.headers))
        table.setObjectName("previewTable")
        table.setHorizontalHeaderLabels(self.headers)
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                table.setItem(i, j, QTableWidgetItem(v[:200]))
        table.resizeColumnsToContents()
        # as tall as its header and up to five rows (and a scroll bar for wide files): the form gets the rest
        shown = sum(table.rowHeight(i) for i in range(min(len(rows), 5))) or table.verticalHeader().defaultSectionSize()
        table.setFixedHeight(table.horizontalHeader().sizeHint().height() + shown + 2 * table.frameWidth()
                             + table.horizontalScrollBar().sizeHint().height())
        lay.addWidget(table)

        box = QGroupBox("Columns")
        grid = QGridLayout(box)
        self.column_boxes: dict[str, QComboBox] = {}
        self.unit_boxes: dict[str, QComboBox] = {}
        for k, name in enumerate(FIELDS):
            r, c = divmod(k, 2)
            grid.addWidget(QLabel(field_label(name)), r, c * 3)
            cb = QComboBox()
            cb.setObjectName(f"map_{name}")
            cb.addItem(NONE)
            cb.addItems(self.headers)
            cb.setCurrentText(self.initial.columns.get(name, NONE))
            cb.currentTextChanged.connect(self._check)
            grid.addWidget(cb, r, c * 3 + 1)
            self.column_boxes[name] = cb
            if name in UNITS:
                ub = QComboBox()
                ub.setObjectName(f"unit_{name}")
                ub.addItems(list(UNITS[name]))
                ub.setCurrentText(self.initial.unit(name))
                ub.setToolTip("Unit of this column in the file; ETL Desk converts it")
                grid.addWidget(ub, r, c * 3 + 2)
                self.unit_boxes[name] = ub
        # the mapping and the options scroll when the screen is short (1366x768); the preview above and
        # the buttons below stay in view
        self.form_host = QWidget()
        form_lay = QVBoxLayout(self.form_host)
        form_lay.setContentsMargins(0, 0, 0, 0)
        form_lay.addWidget(box)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("importFormScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.form_host)
        lay.addWidget(self.scroll, 1)

        self.decimal = QComboBox()
        self.decimal.setObjectName("importDecimal")
        for text, v in DECIMAL_CHOICES:
            self.decimal.addItem(text, v)
        self.decimal.setToolTip("The decimal mark of number columns that read two ways (1,250 = 1.25 or 1250); "
                                "auto: each column's own values decide (as --decimal-comma / --decimal-point)")
        self.dayfirst = QComboBox()
        self.dayfirst.setObjectName("importDayFirst")
        for text, v in DATE_CHOICES:
            self.dayfirst.addItem(text, v)
        self.dayfirst.setToolTip("The order of dates like 04/03/2024 when no day in the column is above 12; auto: "
                                 "each column's own values decide (as --day-first / --month-first)")
        opts = QGroupBox("Numbers, dates, prices and policies")
        halves = QHBoxLayout(opts)  # two columns: half the height of one
        form, form2 = QFormLayout(), QFormLayout()
        halves.addLayout(form, 1)
        halves.addSpacing(12)
        halves.addLayout(form2, 1)
        form.addRow("Decimal mark", self.decimal)
        form.addRow("Date order", self.dayfirst)
        self.usd_per_dbu = self._money(0.0, 100.0, 0.01, "When the file has DBUs but no cost: price of one DBU "
                                       "(0 = use the file's cost or list prices)")
        self.discount = QDoubleSpinBox()
        self.discount.setRange(0.0, 0.95)
        self.discount.setSingleStep(0.05)
        self.discount.setToolTip("Contract discount taken off list prices and off the $/DBU (0.2 = 20 %)")
        self.usd_per_hour = self._money(0.0, 1000.0, 0.05, "For sources with no cost and no DBUs: cost = run "
                                        "hours x this rate (0 = cost 0, with a warning)")
        self.cancelled = QComboBox()
        self.skipped = QComboBox()
        for cb in (self.cancelled, self.skipped):
            for p in CANCELLED_POLICIES:
                cb.addItem(POLICY_TEXT[p], p)
        self.cancelled.setCurrentIndex(self.cancelled.findData("failed"))
        self.skipped.setCurrentIndex(self.skipped.findData("exclude"))
        self.cancelled.setToolTip("Default: cancelled runs count as failed spend — they used compute and "
                                  "produced nothing")
        self.skipped.setToolTip("Default: skipped runs are left out — they never ran and cost nothing")
        form.addRow("$ per DBU", self.usd_per_dbu)
        form.addRow("Contract discount", self.discount)
        form2.addRow("$ per run-hour (fallback)", self.usd_per_hour)
        form2.addRow("Cancelled runs", self.cancelled)
        form2.addRow("Skipped runs", self.skipped)
        form_lay.addWidget(opts)
        form_lay.addStretch(1)  # the boxes keep their height on a tall screen

        self.remember = QCheckBox("Remember this mapping for files with these columns")
        self.remember.setChecked(True)
        self.message = QLabel()
        self.message.setObjectName("mappingMessage")
        self.message.setStyleSheet("color: #b03a2e;")
        self.message.setWordWrap(True)
        lay.addWidget(self.remember)
        lay.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self._fit_screen()
        if options is not None:
            self._show_options(options)
        self.refused = QLabel()
        self.refused.setObjectName("refusedMessage")
        self.refused.setWordWrap(True)
        self.refused.setStyleSheet("color: #b03a2e; font-weight: 600;")
        self.refused.setText(f"Refused: {error.rstrip('.')}.\nChoose the decimal mark or the date order below "
                             "and Import again; the data on screen stays until this file loads." if error else "")
        self.refused.setVisible(bool(error))
        lay.insertWidget(0, self.refused)
        self._check()

    def _show_options(self, o: ImportOptions) -> None:
        self.decimal.setCurrentIndex(max(self.decimal.findData(o.decimal), 0))
        self.dayfirst.setCurrentIndex(max(self.dayfirst.findData(o.dayfirst), 0))
        self.usd_per_dbu.setValue(o.usd_per_dbu or 0.0)
        self.discount.setValue(o.contract_discount or 0.0)
        self.usd_per_hour.setValue(o.usd_per_hour or 0.0)
        self.cancelled.setCurrentIndex(max(self.cancelled.findData(o.cancelled), 0))
        self.skipped.setCurrentIndex(max(self.skipped.findData(o.skipped), 0))

    def _fit_screen(self) -> None:
        screen = (self.parentWidget().screen() if self.parentWidget() is not None else None) or self.screen()
        self.fit_to(screen.availableGeometry() if screen is not None else None)

    def fit_to(self, free) -> None:
        """Size to :data:`PREFERRED_SIZE`, or to *free* (the screen's free area, a QRect; None: no limit)
        less the window frame and taskbar when that is smaller (the mapping form then scrolls)."""
        w, h = PREFERRED_SIZE
        if free is not None:
            w, h = min(w, free.width() - 40), min(h, free.height() - WINDOW_FRAME_PX)
        self.resize(w, h)

    @staticmethod
    def _money(lo, hi, step, tip) -> QDoubleSpinBox:
        sb = QDoubleSpinBox()
        sb.setRange(lo, hi)
        sb.setDecimals(3)
        sb.setSingleStep(step)
        sb.setPrefix("$")
        sb.setToolTip(tip)
        return sb

    def mapping(self) -> Mapping:
        cols = {n: cb.currentText() for n, cb in self.column_boxes.items() if cb.currentText() != NONE}
        units = {n: ub.currentText() for n, ub in self.unit_boxes.items() if n in cols}
        return Mapping(cols, units)

    def options(self) -> ImportOptions:
        return ImportOptions(
            mapping=self.mapping(),
            usd_per_dbu=self.usd_per_dbu.value() or None,
            contract_discount=self.discount.value(),
            usd_per_hour=self.usd_per_hour.value() or None,
            cancelled=self.cancelled.currentData(),
            skipped=self.skipped.currentData(),
            decimal=self.decimal.currentData(),
            dayfirst=self.dayfirst.currentData(),
        ).validate()

    def _check(self, *args) -> None:
        m = self.mapping()
        missing = m.describe_missing()
        self.message.setText(f"Still needed: {missing}" if missing else "")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not missing)

    def accept(self) -> None:
        if self.remember.isChecked():
            remember_mapping(self.settings, self.headers, self.mapping())
        super().accept()


def needs_mapping(path: str, settings: Settings) -> tuple[bool, ImportOptions | None]:
    """(show the dialog?, options to use without it). Canonical files and Databricks exports need none."""
    from etl_desk.core.data.loaders import detect

    if detect(path) != "table":
        return False, None
    headers, _, guessed = preview(path, 5)
    remembered = remembered_mapping(settings, headers)
    if remembered is not None and not remembered.missing():
        return False, ImportOptions(mapping=remembered)
    if guessed.missing():
        return True, None
    return False, None

