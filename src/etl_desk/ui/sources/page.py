"""The Sources page: what was read, the cost basis and the reconciliation.

One line per file read (kind, rows read and kept, rows left out, cost basis, time
span); for the chosen file, the rows left out by reason with example row numbers;
the price table used; for Databricks system-table exports, the reconciliation of
billed job spend against what was attributed to the runs. All of it comes from the
data's provenance record through :func:`~etl_desk.ui.sources.provenance.read_provenance`;
data without one (generated, or from an older file) says so.
"""
from __future__ import annotations

import html
import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QGroupBox, QHeaderView, QLabel, QSplitter, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from etl_desk.core import fmt
from etl_desk.ui.sources.provenance import Provenance, read_provenance

FILE_COLUMNS = ["File", "Kind", "Rows read", "Rows kept", "Left out", "Cost basis", "First start", "Last end"]


def _table(name: str, headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(headers)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setAlternatingRowColors(True)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setStretchLastSection(True)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    t.setWordWrap(False)
    return t


def _fill(t: QTableWidget, rows: list[list], numeric: set[int] = frozenset()) -> None:
    t.setRowCount(len(rows))
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            it = QTableWidgetItem(v if isinstance(v, str) else fmt.by_unit(v, "count"))
            it.setToolTip(it.text())
            if j in numeric:
                it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            t.setItem(i, j, it)
    t.resizeColumnsToContents()
    hh = t.horizontalHeader()
    for c in range(t.columnCount()):
        hh.resizeSection(c, min(hh.sectionSize(c) + 12, 420))


def _price(v) -> str:
    """A list price per DBU: at least cents, up to four decimals ($0.20, $0.0725); unknown when absent."""
    if v is None:
        return "unknown"
    text = f"{float(v):,.4f}".rstrip("0")
    whole, _, dec = text.partition(".")
    return f"${whole}.{dec.ljust(2, '0')}"


def _usd(v) -> str:
    return fmt.usd(v, missing="unknown")


def _dbu(v) -> str:
    return "—" if v is None else f"{v:,.3f}"


class SourcesPage(QWidget):
    """Public: ``provenance`` (what is shown), ``summary``, ``files_table``, ``left_out_table``,
    ``prices_table``, ``reconciliation_table``, ``notes_label``; ``refresh()``."""

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.setObjectName("sourcesPage")
        self.state = state
        self.provenance: Provenance | None = None
        v = QVBoxLayout(self)
        v.setContentsMargins(6, 6, 6, 6)
        v.setSpacing(6)
        self.summary = QLabel()
        self.summary.setObjectName("sourcesSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setStyleSheet("QLabel#sourcesSummary { border: 1px solid palette(mid); border-radius: 4px; "
                                   "padding: 6px 10px; font-size: 10pt; }")
        v.addWidget(self.summary)
        self.skipped_label = QLabel()  # files of the opened folder that are not run data, and why
        self.skipped_label.setObjectName("sourcesSkipped")
        self.skipped_label.setWordWrap(True)
        self.skipped_label.setTextFormat(Qt.TextFormat.RichText)
        v.addWidget(self.skipped_label)

        self.files_table = _table("sourceFiles", FILE_COLUMNS)
        self.files_table.itemSelectionChanged.connect(self._show_left_out)
        files_box = self._boxed("What was read", self.files_table)

        self.left_out_table = _table("leftOutTable", ["Reason", "Rows", "Example rows"])
        self.prices_table = _table("priceTable", ["SKU", "$ per DBU", "Price column", "From", "To"])
        self.reconciliation_table = _table("reconciliationTable", ["", "Rows", "DBU", "USD"])
        self.reconciliation_table.horizontalHeader().setStretchLastSection(False)  # figures stay by their labels
        self.left_out_note = QLabel()
        self.left_out_note.setWordWrap(True)
        self.prices_note = QLabel()
        self.prices_note.setWordWrap(True)
        self.reconciliation_note = QLabel()
        self.reconciliation_note.setWordWrap(True)
        self.reconciliation_note.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        rec_host = QWidget()
        rv = QVBoxLayout(rec_host)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(self.reconciliation_table, 1)
        rv.addWidget(self.reconciliation_note)

        self.lower = lower = QSplitter(Qt.Orientation.Horizontal)
        lower.setObjectName("sourcesLower")
        lower.setChildrenCollapsible(False)
        lower.addWidget(self._boxed("Left out, by reason (chosen file)", self.left_out_table, self.left_out_note))
        right = QSplitter(Qt.Orientation.Vertical)
        right.setChildrenCollapsible(False)
        right.addWidget(self._boxed("Reconciliation of billed job spend", rec_host))
        right.addWidget(self._boxed("Price table used", self.prices_table, self.prices_note))
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        lower.addWidget(right)
        lower.setSizes([1, 1])  # half each, whatever a table or its note asks for
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("sourcesSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(files_box)
        self.splitter.addWidget(lower)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 2)
        v.addWidget(self.splitter, 1)
        self.notes_label = QLabel()
        self.notes_label.setObjectName("sourcesNotes")
        self.notes_label.setWordWrap(True)
        v.addWidget(self.notes_label)
        v.addStretch(0)
        state.datasetChanged.connect(self.refresh)
        self.refresh()

    @staticmethod
    def _boxed(title: str, w: QWidget, note: QLabel | None = None) -> QGroupBox:
        box = QGroupBox(title)
        lay = QVBoxLayout(box)
        lay.setContentsMargins(6, 4, 6, 6)
        lay.addWidget(w)
        if note is not None:  # says why the table above is empty, in its place
            note.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            lay.addWidget(note, 1)
        return box

    # --- rendering ------------------------------------------------------------------------------
    def refresh(self) -> None:
        ds = self.state.dataset
        p = self.provenance = read_provenance(ds.df if ds is not None else None)
        source = html.escape(ds.source) if ds is not None and ds.source else "this data"
        span = ""
        if p.time_span:
            span = f" Runs from <b>{html.escape(str(p.time_span[0])[:19])}</b> to " \
                   f"<b>{html.escape(str(p.time_span[1])[:19])}</b>."
        if not p.recorded:
            self.summary.setText(
                f"<b>No provenance recorded</b> for {source}: {fmt.count(p.runs)} runs. It was generated, or read "
                f"by a loader that does not record where its figures came from, so there is no list of files, "
                f"rows left out, cost basis or reconciliation to show.{span}")
        else:
            n = len(p.files)
            left = sum(f.rows_left_out or 0 for f in p.files)
            basis = html.escape(p.cost_sentence or (f"Cost basis: {p.cost_basis}." if p.cost_basis else
                                                    "Cost basis: not recorded."))
            skipped = (f" {len(p.skipped)} file{'s' if len(p.skipped) != 1 else ''} of the folder skipped "
                       f"(not run data, listed below)." if p.skipped else "")
            self.summary.setText(
                f"<b>{fmt.count(p.runs)} runs</b> read from <b>{n} file{'s' if n != 1 else ''}</b>"
                f"{f', {fmt.count(left)} rows left out (reasons below)' if left else ', no rows left out'}."
                f"{skipped} {basis}{span}")
        self.skipped_label.setText("<b>Skipped, not run data:</b> " + "; ".join(
            f"<b>{html.escape(os.path.basename(f) or f)}</b>: {html.escape(why)}" for f, why in p.skipped))
        self.skipped_label.setVisible(bool(p.skipped))
        _fill(self.files_table, [[os.path.basename(f.path) or f.path, f.kind, f.rows_read, f.rows_kept, f.rows_left_out,
                                  f.cost_basis or p.cost_basis or "—",
                                  *(str(x)[:19] if x else "—" for x in (f.time_span or p.time_span or (None, None)))]
                                 for f in p.files], numeric={2, 3, 4})
        _fill(self.prices_table, [[str(x.get("sku_name", "")), _price(x.get("usd_per_dbu")), str(x.get("price_column", "")),
                                   str(x.get("price_start_time") or "—"), str(x.get("price_end_time") or "open")]
                                  for x in p.price_table])
        self.prices_table.setVisible(bool(p.price_table))
        self.prices_note.setVisible(not p.price_table)
        self.prices_note.setText("No list prices were applied: "
                                 + (p.cost_sentence[0].lower() + p.cost_sentence[1:] if p.cost_sentence
                                    else "the cost comes from the data."))
        rec = p.reconciliation
        if rec is None:
            self.reconciliation_table.setRowCount(0)
            self.reconciliation_table.setVisible(False)
            self.reconciliation_note.setText("No billing usage in these files: nothing to reconcile." if p.recorded
                                             else "")
        else:
            rows = []
            for label, r, d, u in rec.lines:  # the reasons under the unattributed spend they explain
                rows.append([label, r, _dbu(d), _usd(u)])
                if label.startswith("Unattributed"):
                    rows += [[f"   – {reason}", r2, _dbu(d2), _usd(u2)] for reason, r2, d2, u2 in rec.reasons]
            _fill(self.reconciliation_table, rows, numeric={1, 2, 3})
            self.reconciliation_table.setVisible(True)
            period = f"Period {fmt.from_to(rec.period[0] or '?', rec.period[1] or '?')}. " if any(rec.period) else ""
            notes = [n[:1].upper() + n[1:] + ("" if n.endswith(".") else ".") for n in rec.notes]
            self.reconciliation_note.setText(period + " ".join(notes))
        self.splitter.setVisible(p.recorded)  # without a record there is nothing to tabulate
        notes = [*(f"Note: {n}" for n in p.notes), *(f"Warning: {w}" for w in p.warnings)]
        self.notes_label.setText("\n".join(notes))
        self.notes_label.setVisible(bool(notes))
        for i, f in enumerate(p.files):  # the full path where the column shows the name
            self.files_table.item(i, 0).setToolTip(f.path)
        if p.files:
            self.files_table.selectRow(0)
        self._fit_files_height()
        self._show_left_out()

    def _fit_files_height(self) -> None:
        """Every file on its line (up to ten), the rest of the height to the details below."""
        t = self.files_table
        rows = min(max(t.rowCount(), 1), 10)
        want = t.horizontalHeader().height() + rows * t.verticalHeader().defaultSectionSize() + 48
        total = sum(self.splitter.sizes()) or self.splitter.height()
        if total > 0:
            top = min(want, total // 2)
            self.splitter.setSizes([top, total - top])

    def _show_left_out(self) -> None:
        p = self.provenance
        rows = self.files_table.selectionModel().selectedRows() if p is not None else []
        f = p.files[rows[0].row()] if rows and rows[0].row() < len(p.files) else None
        items = [] if f is None else [[e.reason, e.rows, ", ".join(str(x) for x in e.examples[:5]) or "—"]
                                      for e in f.left_out]
        _fill(self.left_out_table, items, numeric={1})
        self.left_out_table.setVisible(bool(items))
        self.left_out_note.setVisible(not items)
        if f is None:
            note = ""
        elif f.rows_left_out is None:
            note = "Rows left out: not recorded."
        else:
            note = f"No row of {os.path.basename(f.path) or f.path} was left out."
        self.left_out_note.setText(note)

    def reset_layout(self) -> None:
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 2)
        self.lower.setSizes([1, 1])
