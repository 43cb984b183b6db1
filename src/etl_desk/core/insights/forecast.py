"""Where the bill is heading: a daily cost forecast with 80 % and 95 % prediction intervals, backtested.

Model (per series: all runs, and each pipeline)
    ``log(cost of the day + c)`` (c = 1 % of the mean day, so a day without runs is
    defined) as an autoregression with exogenous regressors, the model of statsmodels'
    :class:`statsmodels.tsa.ar_model.AutoReg` fitted as it fits it (OLS) on the last ``FIT_WINDOW_DAYS`` (120)
    days: one lag (yesterday's level, so a level that moves is followed), a constant and
    a linear trend (a drifting bill goes on drifting), day-of-week dummies (weekly seasonality)
    and dummies for the last three and first two calendar days of the month (monthly
    seasonality: the month-end close). Hyndman & Athanasopoulos, *Forecasting: Principles
    and Practice* (3rd ed.), ch. 7 (regressors, dummies) and 9 (autoregression).
    The design is checked before each fit: a dummy that never occurs in the fitted days is left
    out, and a history too short or too flat to identify the full model gets a simpler one (no
    dummies, then no trend; a flat history is its own level), said in ``Forecast.method``. So the
    fit never meets a rank-deficient design, and no warning filter is needed (``warnings.catch_warnings``
    swaps the process-wide filter list: not safe on the worker threads this runs on).

Intervals
    The model's own intervals assume its errors are all there is; on job-run costs (level
    shifts, drift, failure waves) they were too narrow (measured on the realistic
    generator: 57 % of days inside the "80 %" band). The intervals are therefore
    *empirical*: the 10/90 % and 2.5/97.5 % quantiles of the model's own out-of-sample
    errors at the same horizon (log scale), collected by refitting at rolling origins over
    the history before the backtest (split-conformal prediction for time series: Vovk,
    Gammerman & Shafer, *Algorithmic Learning in a Random World*, 2005; Stankeviciute et al.,
    "Conformal time-series forecasting", NeurIPS 2021). Horizons are pooled in weeks; a
    horizon longer than any error seen uses the longest seen, widened by sqrt(h / h_seen).

Backtest (what the report states)
    Origins every 7 days over the last ``backtest_weeks`` weeks; at each, the model is
    refitted on the data before it and forecasts the next 7 days with intervals calibrated
    only on errors from before the backtest period. ``coverage80`` / ``coverage95`` are
    the shares of those days whose actual cost fell inside the bands.

Unknown cost (NaN) is left out of the daily sums and said in the notes (the forecast then
undercounts); days with no known cost at all make no forecast.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from etl_desk.core.data.schema import has_values
from etl_desk.core.tasks import CancelFn, Cancelled, ProgressFn

__all__ = ["ForecastSettings", "Backtest", "Forecast", "ForecastResult", "forecast_costs", "forecast_series",
           "daily_costs", "error_quantile", "FORECAST_COLUMNS"]

FORECAST_COLUMNS = ("day", "mean", "lo80", "hi80", "lo95", "hi95")
METHOD = ("AutoReg(1) with trend on the last 120 days of log daily cost, day-of-week and month-end dummies "
          "(OLS as statsmodels' AutoReg fits it); "
          "intervals from the model's out-of-sample errors at rolling origins (split conformal)")
#: Fewer past k-day sums than this near k days: no band on a k-day total (its quantiles would be noise).
MIN_PERIOD_ERRORS = 10
#: Days of rolling-origin errors that calibrate the backtest's bands before it starts (4 origins a week apart).
CALIBRATION_DAYS = 28
#: The model sees the last this many days (older days describe a workload that has since changed) ...
FIT_WINDOW_DAYS = 120
#: ... with a constant and a linear trend in log cost (a drifting bill keeps drifting).
_TREND = "ct"
_Q = {"lo80": 0.10, "hi80": 0.90, "lo95": 0.025, "hi95": 0.975}


@dataclass(frozen=True)
class ForecastSettings:
    """Settings of :func:`forecast_costs`: ``horizon_days`` forecast (30-90 is what a budget needs),
    ``backtest_weeks`` of weekly backtest origins, ``calibration_step_days`` between the rolling origins
    whose errors calibrate the intervals, ``min_history_days`` of data below which no forecast is made.
    """
    horizon_days: int = 90          # 30-90 is what a budget needs
    backtest_weeks: int = 8
    calibration_step_days: int = 7  # rolling origins for the interval errors
    min_history_days: int = 56      # fewer: no forecast


@dataclass(frozen=True)
class Backtest:
    """Measured on the last ``weeks`` weeks: share of ``days`` inside each band (None when too short)."""

    weeks: int
    days: int
    coverage80: float | None
    coverage95: float | None
    mape: float | None              # mean absolute percentage error of the point forecast


@dataclass
class Forecast:
    """One series: ``history`` (day, cost_usd) and ``frame`` (:data:`FORECAST_COLUMNS`, USD a day).

    ``sum_errors`` (k days -> out-of-sample log errors of k-day sums) lets a budget add up days with
    their joint uncertainty; ``log_errors`` (horizon -> log errors) calibrates the daily bands.
    """

    scope: str
    history: pd.DataFrame
    frame: pd.DataFrame
    backtest: Backtest
    method: str = METHOD
    notes: list[str] = field(default_factory=list)
    log_errors: dict = field(default_factory=dict, repr=False)   # horizon -> out-of-sample log errors
    sum_errors: dict = field(default_factory=dict, repr=False)   # k days -> log errors of k-day sums

    def period_total(self, days: int) -> dict:
        """Forecast cost of the next *days* days together: ``mean`` and the 80/95 % band of the sum (USD).

        The band comes from the out-of-sample errors of sums over as many days (days that err
        together are not treated as independent), not from adding up the daily bands; with fewer than
        :data:`MIN_PERIOD_ERRORS` such sums the band is unknown (``lo80`` … ``hi95`` None).
        """
        k = min(int(days), len(self.frame))
        mean = float(self.frame["mean"].head(k).sum())
        out = {"days": k, "mean": mean}
        # too few past sums of about this length (a short history): the band is unknown, not a guess
        known = k > 0 and _pool_size(self.sum_errors, k) >= MIN_PERIOD_ERRORS
        for name, q in _Q.items():
            if not known:
                out[name] = None
                continue
            f = math.exp(error_quantile(self.sum_errors, k, q))
            out[name] = mean * (min(f, 1.0) if name.startswith("lo") else max(f, 1.0))
        return out

    def to_dict(self, days: int | None = None) -> dict:
        """JSON-ready: ``scope``, ``method``, ``backtest`` (coverage80/95 and MAPE as fractions, None when
        too short), ``totals`` (:meth:`period_total` over 30 / 60 / 90 days, those within the horizon;
        USD), ``forecast`` (one dict per day: ISO ``day``, ``mean``, ``lo80``, ``hi80``, ``lo95``, ``hi95`` in
        USD; the first *days* days, None: all) and ``notes``.
        """
        f = self.frame if days is None else self.frame.head(days)
        return {"scope": self.scope, "method": self.method, "backtest": asdict(self.backtest),
                "totals": [self.period_total(d) for d in (30, 60, 90) if d <= len(self.frame)],
                "forecast": [{"day": str(d.date()), **{c: float(getattr(r, c)) for c in FORECAST_COLUMNS[1:]}}
                             for d, r in zip(f["day"], f.itertuples(index=False))],
                "notes": list(self.notes)}


@dataclass
class ForecastResult:
    """What :func:`forecast_costs` returns: the forecast of all runs (``total``; None when the history is
    shorter than ``min_history_days``), one per pipeline name, notes, and the seconds it took.
    """
    total: Forecast | None
    pipelines: dict[str, Forecast] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self, days: int | None = 31) -> dict:
        """JSON-ready: ``total`` and each of ``pipelines`` as :meth:`Forecast.to_dict` over the first *days*
        days (default 31; None: the whole horizon), ``notes`` and ``seconds``.
        """
        return {"total": self.total.to_dict(days) if self.total is not None else None,
                "pipelines": {k: v.to_dict(days) for k, v in self.pipelines.items()},
                "notes": list(self.notes), "seconds": self.seconds}


def _exog(days: pd.DatetimeIndex) -> np.ndarray:
    dow = days.day_of_week.to_numpy()
    to_end = (days.days_in_month - days.day).to_numpy()
    dom = days.day.to_numpy()
    cols = [dow == i for i in range(1, 7)] + [to_end == i for i in range(3)] + [dom == i for i in (1, 2)]
    return np.column_stack(cols).astype(float)


def daily_costs(df: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """Known cost per calendar day (USD), every day from the first to the last; partial end days dropped."""
    notes = []
    cost = df["cost_usd"].to_numpy(dtype=float, na_value=np.nan)
    day = df["start_time"].dt.floor("D")
    known = np.isfinite(cost)
    if not known.all():
        notes.append(f"{int((~known).sum()):,} run(s) have no known cost and are not in the forecast: it counts "
                     "only the known cost.")
    if not known.any():
        return pd.Series(dtype=float), notes + ["No known cost: no forecast."]
    if known.all():  # the usual case: the columns as they are, not 1M-run copies (issue 15 item 8)
        s = pd.Series(cost).groupby(day.to_numpy()).sum()
    else:
        s = pd.Series(cost[known]).groupby(day.to_numpy()[known]).sum()
    idx = pd.date_range(s.index.min(), s.index.max(), freq="D")
    s = s.reindex(idx, fill_value=0.0)
    runs = day.value_counts().reindex(idx, fill_value=0)
    med = float(runs.median())
    # the export's first and last days are often cut part-way: drop an end day with under half the runs
    while len(s) > 2 and runs.iloc[-1] < 0.5 * med:
        s, runs = s.iloc[:-1], runs.iloc[:-1]
    while len(s) > 2 and runs.iloc[0] < 0.5 * med:
        s, runs = s.iloc[1:], runs.iloc[1:]
    return s, notes


#: What the fitted model was, when the history could not identify the full one (method texts).
_SIMPLER = {
    "no_dummies": "the calendar dummies that never occur in the fitted days were left out",
    "no_calendar": "without calendar dummies (too few days to tell them apart)",
    "no_trend": "without calendar dummies or trend (too few distinct days)",
    "flat": "a flat history: the forecast is its last level",
}


def _design(ly: np.ndarray, days: pd.DatetimeIndex) -> tuple[np.ndarray | None, bool, str | None]:
    """Which calendar dummies to fit (a mask over :func:`_exog`'s columns; None: none), whether to fit
    a trend, and what was simplified (a :data:`_SIMPLER` key; None: the full model).

    Checked before fitting, so the least-squares design is never rank-deficient (statsmodels'
    ``SingularMatrixWarning``, same test: ``numpy.linalg.matrix_rank``): a dummy that is 0 on every
    fitted day (a 28-day window without a month-end) is dropped; if the design is still short of
    full rank (a constant history makes the lag equal the constant), the calendar dummies go, then
    the trend; a flat history is its own level.
    """
    if np.ptp(ly) == 0:
        return None, False, "flat"
    ex = _exog(days)[1:]  # AutoReg(1) fits rows 1..n-1
    used = ex.any(axis=0)
    const, trend, lag = np.ones(len(ly) - 1), np.arange(1.0, len(ly)), ly[:-1]
    for mask, with_trend, why in ((used, True, None if used.all() else "no_dummies"),
                                  (None, True, "no_calendar"), (None, False, "no_trend")):
        cols = [const] + ([trend] if with_trend else []) + [lag]
        x = np.column_stack(cols + ([ex[:, mask]] if mask is not None and mask.any() else []))
        if x.shape[0] > x.shape[1] and np.linalg.matrix_rank(x) == x.shape[1]:
            return (mask if mask is not None and mask.any() else None), with_trend, why
    return None, False, "flat"


def _fit_predict(ly: np.ndarray, days: pd.DatetimeIndex, h: int) -> tuple[np.ndarray, str | None]:
    """Point forecast (log scale) of the next *h* days after ``ly`` (fitted on its last FIT_WINDOW_DAYS days),
    and what was simplified (None: the full model; see :func:`_design`).

    The model of statsmodels' ``AutoReg(ly, lags=1, trend="ct" (or "c"), exog=<the dummies _design
    keeps>)``, fitted as it fits it (OLS by the Moore-Penrose pseudo-inverse, :func:`numpy.linalg.pinv`)
    and forecast as its ``predict`` does out of sample (each day's forecast is the next day's lag).
    Written out with NumPy because importing statsmodels (and the SciPy modules it imports) added
    ~60 MB to the window's memory (issue 15 item 8); tests/test_window_memory.py checks it against
    statsmodels.
    """
    if len(ly) > FIT_WINDOW_DAYS:
        ly, days = ly[-FIT_WINDOW_DAYS:], days[-FIT_WINDOW_DAYS:]
    n = len(ly)
    future = pd.date_range(days[-1] + pd.Timedelta(days=1), periods=h, freq="D")
    mask, trend, why = _design(ly, days)
    if why == "flat":
        return np.full(h, ly[-1]), why
    # regressors of day t (1-based, days 2..n are fitted): constant, [trend t], yesterday's level, [dummies]
    cols = [np.ones(n - 1)] + ([np.arange(2, n + 1, dtype=np.float64)] if trend else []) + [ly[:-1]]
    if mask is not None:
        cols.append(_exog(days)[1:, mask])
    beta = np.linalg.pinv(np.column_stack(cols)) @ ly[1:]
    slope = beta[1] if trend else 0.0
    phi = beta[2] if trend else beta[1]
    calendar = _exog(future)[:, mask] @ beta[3 if trend else 2:] if mask is not None else np.zeros(h)
    out = np.empty(h)
    prev = float(ly[-1])
    for j in range(h):
        prev = beta[0] + slope * (n + 1 + j) + phi * prev + calendar[j]
        out[j] = prev
    return out, why


def _origin_errors(ly: np.ndarray, y: np.ndarray, days: pd.DatetimeIndex, c: float, h: int, step: int,
                   first: int, cancel: CancelFn | None) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Per rolling origin o (every *step* days from the end back to *first*): log errors of the days
    after it (up to *h*) and log errors of their running sums."""
    n = len(ly)
    out = []
    for o in range(n - step, first - 1, -step):
        if cancel is not None and cancel():
            raise Cancelled("forecast cancelled")
        hh = min(h, n - o)
        pred, _ = _fit_predict(ly[:o], days[:o], hh)
        fc = np.cumsum(np.maximum(np.exp(pred) - c, 0.0))
        act = np.cumsum(y[o:o + hh])
        with np.errstate(divide="ignore", invalid="ignore"):
            sums = np.where((fc > 0) & (act > 0), np.log(act / fc), np.nan)
        out.append((o, ly[o:o + hh] - pred, sums))
    return out


def _pool(origins, end: int) -> tuple[dict, dict]:
    """Errors by horizon and by k-day sum, using only actual days before *end*."""
    by_h: dict[int, list] = {}
    by_k: dict[int, list] = {}
    for o, err, sums in origins:
        m = min(len(err), end - o)
        for j in range(m):
            by_h.setdefault(j + 1, []).append(err[j])
            if np.isfinite(sums[j]):
                by_k.setdefault(j + 1, []).append(sums[j])
    return by_h, by_k


def _pool_size(errors: dict, h: int) -> int:
    """How many errors :func:`error_quantile` would pool at horizon *h* (its week of horizons)."""
    if not errors:
        return 0
    hh = min(h, max(errors))
    lo = ((hh - 1) // 7) * 7 + 1
    return sum(len(errors[j]) for j in range(lo, lo + 7) if j in errors)


def error_quantile(errors: dict, h: int, q: float) -> float:
    """Error quantile at horizon *h*, pooled over its week of horizons; beyond the data, widened by sqrt."""
    if not errors:
        return 0.0
    hmax = max(errors)
    hh = min(h, hmax)
    lo, hi = ((hh - 1) // 7) * 7 + 1, ((hh - 1) // 7) * 7 + 7
    pool = np.concatenate([np.asarray(errors[j]) for j in range(lo, hi + 1) if j in errors])
    if pool.size < 5:
        pool = np.concatenate([np.asarray(v) for v in errors.values()])
    v = float(np.quantile(pool, q))
    return v * math.sqrt(h / hh) if h > hmax else v


def forecast_series(y: pd.Series, scope: str, settings: ForecastSettings | None = None,
                    cancel: CancelFn | None = None, notes: list[str] | None = None) -> Forecast | None:
    """Forecast one daily cost series (USD a day, a complete daily index); None when too short.

    Raises:
        Cancelled: (:class:`etl_desk.core.tasks.Cancelled`) when ``cancel()`` returns True.
    """
    st = settings or ForecastSettings()
    notes = list(notes or [])
    n = len(y)
    if n < st.min_history_days:
        return None
    days = pd.DatetimeIndex(y.index)
    yv = y.to_numpy(dtype=float)
    c = max(0.01 * float(yv.mean()), 1e-6)
    ly = np.log(yv + c)
    h = int(st.horizon_days)
    # the first 28 days fit the model, the next CALIBRATION_DAYS calibrate the backtest's bands, the rest (up to
    # backtest_weeks) is the backtest; a shorter history has no backtest (coverage unknown, never 0 %)
    bt_days = min(7 * st.backtest_weeks, max(n - 28 - CALIBRATION_DAYS, 0))
    bt_start = n - bt_days
    # errors for the intervals: origins before the backtest (so the backtest stays out of sample) ...
    first = max(28, bt_start - 280)
    origins = _origin_errors(ly, yv, days, c, h, st.calibration_step_days, 28 if bt_days == 0 else first, cancel)
    cal_h, _ = _pool([x for x in origins if x[0] < bt_start], bt_start)
    # ... backtest: weekly origins in the last weeks, 7 days each
    inside80 = inside95 = total = 0
    ape = []
    for o in (range(bt_start, n - 6, 7) if bt_days and cal_h else ()):
        if cancel is not None and cancel():
            raise Cancelled("forecast cancelled")
        pred, _ = _fit_predict(ly[:o], days[:o], 7)
        for j in range(7):
            actual = ly[o + j]
            lo80, hi80 = pred[j] + error_quantile(cal_h, j + 1, 0.10), pred[j] + error_quantile(cal_h, j + 1, 0.90)
            lo95, hi95 = pred[j] + error_quantile(cal_h, j + 1, 0.025), pred[j] + error_quantile(cal_h, j + 1, 0.975)
            inside80 += lo80 <= actual <= hi80
            inside95 += lo95 <= actual <= hi95
            total += 1
            if yv[o + j] > 0:
                ape.append(abs(max(math.exp(pred[j]) - c, 0.0) - yv[o + j]) / yv[o + j])
    bt = Backtest(weeks=total // 7, days=total, coverage80=inside80 / total if total else None,
                  coverage95=inside95 / total if total else None, mape=float(np.mean(ape)) if ape else None)
    # the forecast itself: intervals from every error seen (the backtest period included)
    all_h, all_k = _pool(origins, n)
    pred, simpler = _fit_predict(ly, days, h)
    future = pd.date_range(days[-1] + pd.Timedelta(days=1), periods=h, freq="D")
    frame = pd.DataFrame({"day": future, "mean": np.maximum(np.exp(pred) - c, 0.0)})
    for col, q in _Q.items():
        frame[col] = np.maximum(np.exp(pred + np.array([error_quantile(all_h, j, q) for j in range(1, h + 1)])) - c, 0.0)
    # a band always holds its point and the 95 % band the 80 % one
    frame["lo80"] = np.minimum(frame["lo80"], frame["mean"])
    frame["hi80"] = np.maximum(frame["hi80"], frame["mean"])
    frame["lo95"] = np.minimum(frame["lo95"], frame["lo80"])
    frame["hi95"] = np.maximum(frame["hi95"], frame["hi80"])
    method = METHOD if simpler is None else f"{METHOD}; this history: {_SIMPLER[simpler]}"
    return Forecast(scope=scope, history=pd.DataFrame({"day": days, "cost_usd": yv}), frame=frame, backtest=bt,
                    method=method, notes=notes, log_errors=all_h, sum_errors=all_k)


def forecast_costs(df: pd.DataFrame, settings: ForecastSettings | None = None, *, by_pipeline: bool = True,
                   progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> ForecastResult:
    """Daily cost forecast of all runs and, with *by_pipeline*, of each pipeline (see the module docstring).

    Off the UI thread: ``progress(fraction)`` after each series; ``cancel()`` polled, raising
    :class:`~etl_desk.core.tasks.Cancelled`. Series with fewer than ``min_history_days``
    days get no forecast (a note says so).
    """
    st = settings or ForecastSettings()
    t0 = time.perf_counter()
    report = progress or (lambda _f: None)
    if not len(df):
        return ForecastResult(None, notes=["No runs."])
    y, notes = daily_costs(df)
    total = forecast_series(y, "All runs", st, cancel) if len(y) else None
    if total is None and len(y):
        notes.append(f"A forecast needs at least {st.min_history_days} days of history; this data covers {len(y)}.")
    report(0.2)
    pipes: dict[str, Forecast] = {}
    if by_pipeline and total is not None and has_values(df, "job_name"):
        names = df["job_name"].astype("string").fillna("(no name)")
        groups = list(df.groupby(names, sort=True, observed=True).indices.items())
        for i, (name, idx) in enumerate(groups):
            sub = df.iloc[idx]
            ys, _ = daily_costs(sub)
            if len(ys):
                ys = ys.reindex(pd.DatetimeIndex(total.history["day"]), fill_value=0.0)
                f = forecast_series(ys, str(name), st, cancel)
                if f is not None:
                    pipes[str(name)] = f
            report(0.2 + 0.8 * (i + 1) / len(groups))
    report(1.0)
    return ForecastResult(total, pipes, notes, seconds=time.perf_counter() - t0)
