"""The Data sheet writer: the canonical runs as one Excel table, streamed for speed."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from etl_desk.core.tasks import Cancelled


def write_data_xlsx(labelled: pd.DataFrame, path: str, sheet: str = "Data") -> None:
    """A plain workbook with one sheet holding *labelled* as an Excel table."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(path, dict(XLSX_OPTIONS))
    try:
        ws = wb.add_worksheet(sheet)
        write_data_sheet(wb, ws, labelled)
    finally:
        wb.close()


#: XlsxWriter options for every workbook ETL Desk writes: text is never turned
#: into a formula or a link, NaN/inf become Excel errors instead of failing.
#: ``constant_memory`` is *not* used: XlsxWriter refuses tables in that mode
#: ("add_table() isn't supported in 'constant_memory' mode"), and the Data
#: sheet below streams its rows at close anyway.
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "nan_inf_to_errors": True}
#: Number formats of the Data sheet by display label.
DATA_NUMBER_FORMATS = {
    "Cost (USD)": "$#,##0.00",
    "Data Processed (GB)": "#,##0.00",
    "Duration (min)": "#,##0.0",
    "Compute Hours Used": "#,##0.00",
    "Start Time": "yyyy-mm-dd hh:mm:ss",
    "End Time": "yyyy-mm-dd hh:mm:ss",
    "Attempt": "0",
}


#: Excel's longest cell text.
EXCEL_MAX_TEXT = 32_767
_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "ns")


_NS_PER_DAY = 86_400 * 10**9
_CHUNK_ROWS = 20_000


def excel_serial(values) -> np.ndarray:
    """Excel serial days (1900 date system) of datetime64 values; NaT -> NaN."""
    arr = np.asarray(values, dtype="datetime64[ns]")
    ns = (arr - _EXCEL_EPOCH).astype("timedelta64[ns]").astype(np.int64)
    out = ns / _NS_PER_DAY
    out[np.isnat(arr)] = np.nan
    return out


def _col_letter(j: int) -> str:
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


def write_data_sheet(wb, ws, labelled: pd.DataFrame, first_row: int = 0, *, table_name: str = "Runs",
                     progress: Callable[[float], None] | None = None,
                     cancel: Callable[[], bool] | None = None) -> None:
    """Write a labelled canonical frame into worksheet *ws* as a formatted Excel table.

    The table (named *table_name*) has an autofilter, a frozen header row, column
    widths that fit the values and number formats by column (USD, GB, minutes,
    dates and times). Strings are always written as text (a value like
    ``=HYPERLINK(...)``, ``+1`` or ``@SUM(A1)`` never becomes a formula).
    Floats are written with all their digits (``repr``), so they read back
    exactly; date-times are Excel serials (exact to the millisecond).

    The cells are not stored one by one in XlsxWriter: their XML is produced
    in chunks while the workbook is closed (several times faster than
    ``write_number`` per cell, and no per-cell memory), calling
    ``progress(fraction)`` per chunk and raising
    :class:`etl_desk.core.tasks.Cancelled` when ``cancel()`` returns True.

    Raises:
        ValueError: when *labelled* has no columns.
    """
    n = len(labelled)
    ncols = len(labelled.columns)
    if ncols == 0:
        raise ValueError("no columns to write")
    fmts = {label: wb.add_format({"num_format": f}) for label, f in DATA_NUMBER_FORMATS.items()
            if label in labelled.columns}
    # explicit header and text formats: LibreOffice ignores table styles when printing, and
    # indented text keeps a left-aligned status from touching the right-aligned number before it
    header_fmt = wb.add_format({"bold": True, "bg_color": "#1F3864", "font_color": "#FFFFFF", "text_wrap": True,
                                "valign": "top"})
    text_fmt = wb.add_format({"indent": 1})
    for label in labelled.columns:
        s = labelled[label]
        if label not in fmts and not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)
                                      or pd.api.types.is_datetime64_any_dtype(s.dtype)):
            fmts[label] = text_fmt
    columns, widths = _prepare_columns(labelled, fmts)
    for j, w in enumerate(widths):
        ws.set_column(j, j, w, fmts.get(labelled.columns[j]))
    last_row = first_row + max(n, 1)
    options = {
        "name": table_name,
        "columns": [{"header": str(c), "header_format": header_fmt} for c in labelled.columns],
        "style": "Table Style Medium 2",
        "autofilter": True,
    }
    fast = _fast_supported(wb, ws)
    if fast and n > 1:
        # XlsxWriter records every cell of a table range in a dict (15 M entries for
        # 1 M runs): declare a two-row table, then widen its ranges.
        ws.add_table(first_row, 0, first_row + 1, ncols - 1, options)
        table = ws.tables[-1]
        from xlsxwriter.utility import xl_range

        table["range"] = xl_range(first_row, 0, last_row, ncols - 1)
        table["a_range"] = xl_range(first_row, 0, last_row, ncols - 1)
        if table.get("autofilter"):
            table["autofilter"] = table["a_range"]
    else:
        ws.add_table(first_row, 0, last_row, ncols - 1, options)
    ws.freeze_panes(first_row + 1, 0)
    if not n:
        return
    if not fast:
        _write_cells_slowly(ws, first_row, 0, columns, progress, cancel)
        return
    _install_stream(wb, ws, first_row, 0, n, columns, progress, cancel)


def write_plain_block(wb, ws, frame: pd.DataFrame, first_row: int, first_col: int = 0) -> None:
    """Write *frame* (header + values, no table, no formats) below everything else on *ws*."""
    for j, c in enumerate(frame.columns):
        ws.write_string(first_row, first_col + j, str(c))
    columns, _ = _prepare_columns(frame, {})
    if not len(frame):
        return
    if _fast_supported(wb, ws):
        _install_stream(wb, ws, first_row, first_col, len(frame), columns, None, None)
    else:
        _write_cells_slowly(ws, first_row, first_col, columns, None, None)


def _fast_supported(wb, ws) -> bool:
    return (hasattr(wb, "str_table") and hasattr(ws, "_write_sheet_data") and hasattr(ws, "_write_rows")
            and hasattr(ws, "tables") and hasattr(ws, "_check_dimensions") and not getattr(ws, "constant_memory", 0))


def _prepare_columns(labelled: pd.DataFrame, fmts: dict) -> tuple[list, list[int]]:
    columns: list[tuple[str, object, int, object]] = []  # (kind, values, column index, format)
    widths = []
    for j, label in enumerate(labelled.columns):
        s = labelled[label]
        fmt = fmts.get(label)
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            vals = excel_serial(s.to_numpy(dtype="datetime64[ns]", na_value=np.datetime64("NaT")))
            columns.append(("num", vals, j, fmt))
            width = 19
        elif pd.api.types.is_bool_dtype(s.dtype):
            codes = s.astype("boolean").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            columns.append(("bool", codes, j, fmt))
            width = 6
        elif pd.api.types.is_numeric_dtype(s.dtype):
            vals = s.to_numpy(dtype=float, na_value=np.nan)
            columns.append(("num", vals, j, fmt))
            finite = vals[np.isfinite(vals)]
            width = len(f"{np.abs(finite).max():,.2f}") + 2 if len(finite) else 6
        else:
            texts = s.astype("object").where(s.notna(), None)
            codes, uniques = pd.factorize(texts, use_na_sentinel=True)
            uniq = [str(u)[:EXCEL_MAX_TEXT] for u in uniques]
            columns.append(("str", (codes, uniq), j, fmt))
            lens = pd.Series([len(u) for u in uniq], dtype="float64")
            width = int(lens.quantile(0.99)) if len(lens) else 6
        widths.append(min(max(width, len(str(label)) + 3, 8), 60) + 2)
    return columns, widths


_NEEDS_ESCAPE = r"[\x00-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_"


def _xml_text(s: str) -> str:
    from xlsxwriter.xmlwriter import XMLwriter

    s = XMLwriter._escape_control_characters(s)  # same _xHHHH_ escapes as XlsxWriter's shared strings
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    if s[:1].isspace() or s[-1:].isspace():
        return f'<t xml:space="preserve">{s}</t>'
    return f"<t>{s}</t>"


def _inline_strings(uniq: list[str]) -> list[str]:
    """``<is><t>…</t></is>`` for each text (vectorised; rare special texts one by one)."""
    if not uniq:
        return []
    ser = pd.Series(uniq, dtype="object")
    special = ser.str.contains(_NEEDS_ESCAPE, regex=True).to_numpy()
    esc = ser.str.replace("&", "&amp;", regex=False).str.replace("<", "&lt;", regex=False) \
        .str.replace(">", "&gt;", regex=False)
    ws = ser.str.match(r"^\s|.*\s$", na=False).to_numpy() if len(ser) else np.zeros(0, bool)
    out = ("<is><t>" + esc + "</t></is>").to_numpy(dtype=object)
    for i in np.flatnonzero(special | ws):
        out[i] = f"<is>{_xml_text(uniq[i])}</is>"
    return out.tolist()


def _install_stream(wb, ws, first_row, first_col, n, columns, progress, cancel) -> None:
    sst = wb.str_table
    prepared = []
    for kind, payload, j, fmt in columns:
        if kind == "str":
            codes, uniq = payload
            if len(uniq) > 1000 and len(uniq) > n // 4:
                # mostly distinct (run IDs): in-line strings, no shared-string table entry each
                texts = _inline_strings(uniq) + [""]
                prepared.append(("istr", np.asarray(texts, dtype=object)[codes], first_col + j, fmt))
            else:
                idx = np.array([sst._get_shared_string_index(u) for u in uniq] + [-1], dtype=np.int64)
                sst.count += int((codes >= 0).sum()) - len(uniq)
                prepared.append(("str", idx[codes], first_col + j, fmt))  # code -1 picks the trailing -1
        else:
            prepared.append((kind, payload, first_col + j, fmt))
    ws._check_dimensions(first_row + n, first_col + len(columns) - 1)
    ws._check_dimensions(first_row, first_col)

    def write_sheet_data() -> None:
        # the rows XlsxWriter holds (headers, key/value pairs) first, then the streamed rows
        keep = ws.dim_rowmax
        ws.dim_rowmax = first_row
        try:
            ws._xml_start_tag("sheetData")
            ws._write_rows()
        finally:
            ws.dim_rowmax = keep
        _stream_rows(ws.fh, first_row + 1, n, prepared, progress, cancel)
        ws._xml_end_tag("sheetData")

    ws._write_sheet_data = write_sheet_data


def _stream_rows(fh, row0: int, n: int, columns, progress, cancel) -> None:
    for c0 in range(0, n, _CHUNK_ROWS):
        if cancel is not None and cancel():
            raise Cancelled("export cancelled")
        c1 = min(n, c0 + _CHUNK_ROWS)
        rnums = range(row0 + c0 + 1, row0 + c1 + 1)  # 1-based Excel rows
        cells = []
        for kind, payload, col, fmt in columns:
            letter = _col_letter(col)
            s_attr = f' s="{fmt._get_xf_index()}"' if fmt is not None else ""
            part = payload[c0:c1]
            if kind == "num":
                cells.append([f'<c r="{letter}{r}"{s_attr}><v>{v!r}</v></c>' if v == v and v not in _INF else ""
                              for r, v in zip(rnums, part.tolist())])
            elif kind == "bool":
                cells.append([f'<c r="{letter}{r}"{s_attr} t="b"><v>{int(v)}</v></c>' if v == v else ""
                              for r, v in zip(rnums, part.tolist())])
            elif kind == "istr":
                cells.append([f'<c r="{letter}{r}"{s_attr} t="inlineStr">{t}</c>' if t else ""
                              for r, t in zip(rnums, part.tolist())])
            else:
                cells.append([f'<c r="{letter}{r}"{s_attr} t="s"><v>{k}</v></c>' if k >= 0 else ""
                              for r, k in zip(rnums, part.tolist())])
        fh.write("".join([f'<row r="{r}">{"".join(row)}</row>' for r, *row in zip(rnums, *cells)]))
        if progress is not None:
            progress(c1 / n)


_INF = (float("inf"), float("-inf"))


def _write_cells_slowly(ws, first_row, first_col, columns, progress, cancel) -> None:
    """Cell-by-cell fallback (an XlsxWriter without the private hooks used above)."""
    for j, (kind, payload, col, fmt) in enumerate(columns):
        col += first_col
        if cancel is not None and cancel():
            raise Cancelled("export cancelled")
        if kind == "str":
            codes, uniq = payload
            for i, k in enumerate(codes.tolist()):
                if k >= 0:
                    ws.write_string(first_row + 1 + i, col, uniq[k], fmt)
        else:
            for i, v in enumerate(payload.tolist()):
                if v == v and v not in _INF:
                    if kind == "bool":
                        ws.write_boolean(first_row + 1 + i, col, bool(v), fmt)
                    else:
                        ws.write_number(first_row + 1 + i, col, v, fmt)
        if progress is not None:
            progress((j + 1) / len(columns))


#: Excel's row limit, header included.
EXCEL_MAX_ROWS = 1_048_576
