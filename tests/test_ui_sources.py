"""The Sources page: what was read, the cost basis and the reconciliation, from the data's provenance
record (the schema of etl_desk.core.data.provenance), and a plain statement when there is none."""
from __future__ import annotations

import copy

from etl_desk.ui.sources.provenance import read_provenance, status_text

#: A system-table export as the loader records it: four files, a retraction, one run still running.
PROVENANCE = {
    "schema": "etl-desk.provenance/1",
    "runs": 4,
    "cost_basis": {"code": "list_prices", "text": "billed usage x effective list price",
                   "sentence": "Cost = billed usage x effective list price from system.billing.list_prices.",
                   "unknown_why": None},
    "price_table": [{"sku_name": "PREMIUM_JOBS_COMPUTE", "price_start_time": "2024-01-01 00:00:00",
                     "price_end_time": None, "usd_per_dbu": 0.15, "price_column": "pricing.effective_list.default",
                     "pricing_default": 0.15}],
    "time_span": {"first_start": "2024-05-01 08:00:00", "last_end": "2024-05-01 14:10:00"},
    "files": [
        {"file": "job_run_timeline.csv", "kind": "system_table:job_run_timeline", "rows_read": 7, "rows_kept": 5,
         "left_out": [{"reason": "run still going (no result_state)", "count": 1, "examples": [6]},
                      {"reason": "hourly slice merged into its attempt", "count": 1, "examples": [3]}],
         "header_row": 1, "read_as": {}},
        {"file": "usage.csv", "kind": "system_table:billing.usage", "rows_read": 9, "rows_kept": 9,
         "left_out": [], "header_row": 1, "read_as": {"usage_quantity": "decimal point"}},
    ],
    "left_out_total": 2,
    "warnings": [],
    "notes": ["a run repaired twice is read as three attempts"],
    "reconciliation": {
        "period": {"start": "2024-05-01", "end": "2024-05-02"},
        "job_usage": {"rows": 9, "dbus": 16.3, "usd": 2.435},
        "other_products": {"rows": 1, "dbus": 2.0, "usd": 0.44, "products": ["SQL"]},
        "attributed_to_runs": {"rows": 8, "dbus": 15.3, "usd": 2.285},
        "unattributed_job_spend": {"dbus": 1.0, "usd": 0.15, "reasons": [
            {"reason": "usage for runs not in the timeline", "rows": 1, "dbus": 1.0, "usd": 0.15,
             "examples": [{"file": "usage.csv", "row": 4}]}]},
        "retractions": {"rows": 1, "dbus": -4.0, "usd": -0.6, "note": "a retraction is netted into its run"},
        "runs_without_usage": {"count": 1, "examples": ["503"], "note": None},
    },
}


def _with_provenance(win, prov):
    df = win.state.df.head(4).copy()
    df.attrs["provenance"] = prov
    win.set_data(df, "export")


def _frame(prov):
    import pandas as pd

    df = pd.DataFrame()
    df.attrs["provenance"] = prov
    return df


def test_adapter_reads_the_record_and_unknown_stays_unknown():
    p = read_provenance(_frame(PROVENANCE))
    assert p.recorded and p.runs == 4 and p.cost_basis == "billed usage x effective list price"
    assert [f.path for f in p.files] == ["job_run_timeline.csv", "usage.csv"]
    f = p.files[0]
    assert (f.rows_read, f.rows_kept, f.rows_left_out) == (7, 5, 2)
    assert f.left_out[0].reason.startswith("run still going") and f.left_out[0].examples == [6]
    rec = p.reconciliation
    assert rec.lines[0] == ("Job usage in billing.usage", 9, 16.3, 2.435)
    assert ("Unattributed job spend", None, 1.0, 0.15) in rec.lines
    assert rec.reasons == [("usage for runs not in the timeline", 1, 1.0, 0.15)]
    assert status_text(p) == "Sources: 2 files · billed usage x effective list price"
    # the brief's spelling (path, rows) reads the same; a missing amount is None, never 0
    other = copy.deepcopy(PROVENANCE)
    other["files"][0]["path"] = other["files"][0].pop("file")
    other["files"][0]["left_out"][0]["rows"] = other["files"][0]["left_out"][0].pop("count")
    other["reconciliation"]["job_usage"]["usd"] = None
    q = read_provenance(_frame(other))
    assert q.files[0].path == "job_run_timeline.csv" and q.files[0].left_out[0].rows == 1
    assert q.reconciliation.lines[0][3] is None


def test_sources_page_shows_files_left_out_prices_and_reconciliation(window, qtbot):
    from etl_desk.core import fmt

    win = window()
    _with_provenance(win, PROVENANCE)
    win.sources_button.click()
    page = win.sources_page
    assert win.current_page() == "sources"
    assert "4 runs" in page.summary.text() and "2 files" in page.summary.text()
    assert "effective list price" in page.summary.text() and "2 rows left out" in page.summary.text()
    t = page.files_table
    assert t.rowCount() == 2 and t.item(0, 0).text() == "job_run_timeline.csv"
    assert [t.item(0, c).text() for c in (2, 3, 4)] == ["7", "5", "2"]
    lo = page.left_out_table  # the first file is chosen: its rows left out, by reason
    assert lo.rowCount() == 2 and lo.item(0, 1).text() == "1" and lo.item(0, 2).text() == "6"
    assert page.left_out_note.isHidden()
    t.selectRow(1)  # usage.csv left nothing out: the note says so in the table's place
    assert page.left_out_table.rowCount() == 0 and page.left_out_table.isHidden()
    assert page.left_out_note.text() == "No row of usage.csv was left out." and not page.left_out_note.isHidden()
    rec = page.reconciliation_table
    cells = {rec.item(r, 0).text().strip(): [rec.item(r, c).text() for c in (1, 2, 3)] for r in range(rec.rowCount())}
    assert cells["Job usage in billing.usage"] == ["9", "16.300", fmt.usd(2.435)]
    assert cells["Unattributed job spend"][2] == "$0.15"
    assert cells["– usage for runs not in the timeline"] == ["1", "1.000", "$0.15"]
    assert "1 run has no usage rows" in page.reconciliation_note.text()
    assert page.prices_table.item(0, 0).text() == "PREMIUM_JOBS_COMPUTE" and page.prices_table.item(0, 1).text() == "$0.15"
    assert page.prices_note.isHidden()
    assert "three attempts" in page.notes_label.text()
    qtbot.waitUntil(lambda: win.sources_button.text() == "Sources: 2 files · billed usage x effective list price",
                    timeout=2000)  # set right after the paint of the new data


def test_no_provenance_is_said_plainly(window, qtbot):
    win = window()
    win.show_page("sources")
    page = win.sources_page
    assert "No provenance recorded" in page.summary.text() and "1,000 runs" in page.summary.text()
    assert page.splitter.isHidden() and page.files_table.rowCount() == 0
    qtbot.waitUntil(lambda: win.sources_button.text() == "Sources: not recorded", timeout=2000)


def test_an_empty_price_table_says_why_in_its_place(window, qtbot):
    win = window()
    prov = copy.deepcopy(PROVENANCE)
    prov["price_table"] = []
    _with_provenance(win, prov)
    win.show_page("sources")
    page = win.sources_page
    assert page.prices_table.isHidden() and not page.prices_note.isHidden()
    assert page.prices_note.text().startswith("No list prices were applied")


def test_reconciliation_notes_only_say_what_happened():
    """No retraction and every run with usage: the page must not claim a netting or a $0 run (seen on a real
    timeline + usage export without list prices, where it said "No billing usage rows: cost $0 as billed")."""
    prov = copy.deepcopy(PROVENANCE)
    prov["reconciliation"]["retractions"] = {"rows": 0, "dbus": 0.0, "usd": 0.0,
                                             "note": "negative usage rows (RETRACTION) netted into their runs"}
    prov["reconciliation"]["runs_without_usage"] = {"count": 0, "examples": [],
                                                    "note": "no billing usage rows: cost $0 as billed"}
    assert read_provenance(_frame(prov)).reconciliation.notes == []
    prov["reconciliation"]["retractions"]["rows"] = 2
    prov["reconciliation"]["runs_without_usage"]["count"] = 3
    assert read_provenance(_frame(prov)).reconciliation.notes == [
        "3 runs have no usage rows (cost $0 as billed)", "negative usage rows (RETRACTION) netted into their runs"]


def test_unknown_cost_basis_is_named_as_unknown(tmp_path):
    """A timeline + usage export without list prices: the status bar says the cost is unknown, not "none"."""
    import os
    import shutil

    from etl_desk.core.data.loaders import load_path

    folder = os.path.join(os.path.dirname(__file__), "fixtures", "real_exports", "shared-timeline-repaired-run")
    for name in ("job_run_timeline.csv", "jobs.csv", "usage.csv"):
        shutil.copy(os.path.join(folder, name), tmp_path / name)
    df = load_path(str(tmp_path))
    assert status_text(read_provenance(df)) == "Sources: 3 files · none (cost unknown)"


def test_sources_page_lists_the_files_of_the_folder_that_were_skipped(window, qtbot):
    win = window()
    prov = copy.deepcopy(PROVENANCE)
    prov["skipped"] = [{"file": "/data/export/notes.txt", "why": "not a table of runs (no run id column)"},
                       {"file": "/data/export/.DS_Store", "why": "hidden or system file"}]
    _with_provenance(win, prov)
    win.sources_button.click()
    page = win.sources_page
    assert "2 files of the folder skipped" in page.summary.text()
    text = page.skipped_label.text()
    assert not page.skipped_label.isHidden()
    assert "notes.txt</b>: not a table of runs (no run id column)" in text and ".DS_Store" in text
    _with_provenance(win, PROVENANCE)  # nothing skipped: no line
    assert page.skipped_label.isHidden() and "skipped" not in page.summary.text()
