"""Per-run rows for the big-history charts: what the charts draw for the bars in view, and the run view.

Mixed into :class:`~etl_desk.ui.big.state.BigState`. In run-ID order without a filter the
rows come from the index's own files (pyramid slices, run-ordered row groups: a few ms, no SQL)
on the UI thread; any other sort or filter asks the scan lane -- one query for the three
charts -- and ``rowsReady`` follows.
"""
from __future__ import annotations

from etl_desk.core.dashboard.view import METRICS, ViewSpec


class RunView:
    """The per-run view of a big history: *n_bars* runs in the spec's order; nothing per run is held.

    Labels of runs come from the rows last read for the charts (only drawn when rows are tall).
    """

    grouped = False
    positions = None
    group_labels = None

    def __init__(self, state, spec: ViewSpec, n_bars: int, waiting: str = ""):
        self.state, self.spec, self.n_bars, self.waiting = state, spec, n_bars, waiting

    def label(self, i: int) -> str:
        """The run ID at position *i* when its row was read (zoomed in), else its position ("#1,234")."""
        return self.state.run_label(i) or f"#{i + 1:,}"


class RunRowsMixin:
    def fast_runs(self) -> bool:
        """Per-run rows come from the index (run order, no filter): read on the UI thread."""
        idx = self.index
        return bool(idx is not None and idx.has_pyramid and self.spec.sort_key == "run_id" and self.rule.is_all)

    def run_rows(self, i0: int, i1: int, rows_px: float):
        """The rows the per-run charts draw for bars *i0*..*i1*-1 on *rows_px* pixel rows (a RunRows), or
        None while the scan lane computes them (``rowsReady`` follows). The three charts share one answer."""
        from etl_desk.core.engine.views import aligned_range, rows_per_draw

        v = self.view
        if not isinstance(v, RunView) or v.n_bars == 0:
            return None
        fast = self.fast_runs()
        lod = rows_per_draw(i1 - i0, rows_px, indexed=fast)
        lo, hi = aligned_range(i0, i1, lod, v.n_bars)
        key = (self._gen, lo, hi, lod)
        hit = self._rows.get(key)
        if hit is not None:
            return hit
        spec, rule = self.spec, self.rule
        if fast:
            rows = _index_rows(self.index, lo, hi, lod, spec.descending)
            self._keep(key, rows)
            return rows
        if key != self._rows_wanted:
            self._rows_wanted = key
            self.note.emit("Drawing the runs in view (scanning the runs: a sort or filter the index does not hold)…")

            def done(rows):
                self._keep(key, rows)
                self._rows_wanted = None
                self.note.emit("")
                self.rowsReady.emit()

            self.ask("rows", lambda eng, cancel: _rows_now(eng, lo, hi, lod, spec, rule, cancel), done, lane="scan")
        return None

    def _keep(self, key, rows) -> None:
        while len(self._rows) > 8:
            self._rows.pop(next(iter(self._rows)))
        self._rows[key] = rows

    def run_label(self, i: int) -> str | None:
        for rows in reversed(list(self._rows.values())):
            lab = rows.label(i)
            if lab is not None:
                return lab
        return None

    def rows_at(self, i: int):
        """The run at position *i* as last read for the charts (a pandas row), or None."""
        for rows in reversed(list(self._rows.values())):
            if rows.rows is not None and rows.lo <= i < rows.lo + len(rows.rows):
                return rows.rows.iloc[i - rows.lo]
        return None


#: What the charts read of each run when zoomed in to exact bars: the bar, its colour, the axis label and
#: the tooltip (a third of the run-ordered file's columns: a zoom step reads a row group of 32,768 runs)
CHART_COLUMNS = ["run_id", "job_name", "status", "start_time", *METRICS]


def index_page(index, at: int, n: int, descending: bool = False, columns: list[str] | None = None):
    """Runs at positions *at*..*at*+*n*-1 of the run-ID order (descending: from the last), read from the
    index's run-ordered file -- as :meth:`~etl_desk.core.engine.engine.Engine.page` reads them, without a query;
    only *columns* (default: all)."""
    pos = index.runs - at - n if descending else at
    rows = index.rows(max(pos, 0), max(pos, 0) + n + min(pos, 0), columns)
    return (rows.iloc[::-1] if descending else rows).reset_index(drop=True)


def _index_rows(index, lo: int, hi: int, lod: int, descending: bool):
    """RunRows for bars lo..hi-1 in run-ID order from the index's files (UI thread: ms, no query)."""
    from etl_desk.core.engine.views import rows_from_envelopes, rows_from_runs

    if lod == 1:
        return rows_from_runs(index_page(index, lo, hi - lo, descending, CHART_COLUMNS), lo)
    buckets = -(-(hi - lo) // lod)
    end = lo + buckets * lod  # may pass the last run: every row but the last holds exactly lod runs
    return rows_from_envelopes({m: index.envelope(lo, end, buckets, m, descending) for m in METRICS}, lo, hi, lod)


def _rows_now(eng, lo: int, hi: int, lod: int, spec: ViewSpec, rule, cancel=None):
    """RunRows for bars lo..hi-1 at lod runs a row (exact rows when lod = 1), from *eng* (one query)."""
    from etl_desk.core.engine.views import rows_from_envelopes, rows_from_runs

    if lod == 1:
        page = eng.page(spec.sort_key, n=hi - lo, rule=rule, descending=spec.descending, at=lo, cancel=cancel)
        return rows_from_runs(page.rows, lo)
    buckets = -(-(hi - lo) // lod)
    end = lo + buckets * lod  # may pass the last run: every row but the last holds exactly lod runs
    envs = eng.envelopes(lo, end, buckets, METRICS, spec.sort_key, spec.descending, rule, cancel)
    return rows_from_envelopes(envs, lo, hi, lod)
