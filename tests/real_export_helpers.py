"""Small writers of Databricks-shaped exports for the per-kind tests (values chosen by hand)."""
from __future__ import annotations

import json
from pathlib import Path

TL_HEAD = "workspace_id,job_id,run_id,period_start_time,period_end_time,run_name,result_state,termination_code\n"
US_HEAD = ("workspace_id,sku_name,cloud,usage_start_time,usage_end_time,usage_unit,usage_quantity,"
           "usage_metadata,billing_origin_product,record_type\n")
LP_HEAD = "price_start_time,price_end_time,sku_name,cloud,currency_code,usage_unit,pricing\n"


def timeline(path: Path, rows: list[tuple]) -> Path:
    """rows: (job_id, run_id, start 'YYYY-MM-DD HH:MM', end, result_state or '', code or '')."""
    lines = [f"1,{j},{r},{s}:00Z,{e}:00Z,job{j},{st},{c}" for j, r, s, e, st, c in rows]
    path.write_text(TL_HEAD + "\n".join(lines) + "\n")
    return path


def usage(path: Path, rows: list[tuple]) -> Path:
    """rows: (run_id or '', start 'YYYY-MM-DD HH:MM', end, dbus[, sku[, origin[, record_type]]])."""
    out = []
    for r in rows:
        run, s, e, q = r[:4]
        sku = r[4] if len(r) > 4 else "PREMIUM_JOBS_COMPUTE"
        origin = r[5] if len(r) > 5 else "JOBS"
        rtype = r[6] if len(r) > 6 else "ORIGINAL"
        meta = json.dumps({"job_run_id": str(run) if run != "" else None}).replace('"', '""')
        out.append(f'1,{sku},AWS,{s}:00Z,{e}:00Z,DBU,{q},"{meta}",{origin},{rtype}')
    path.write_text(US_HEAD + "\n".join(out) + "\n")
    return path


def list_prices(path: Path, rows: list[tuple]) -> Path:
    """rows: (sku, start 'YYYY-MM-DD', end or '', default, effective or None)."""
    out = []
    for sku, s, e, default, eff in rows:
        pricing = {"default": str(default)}
        if eff is not None:
            pricing["effective_list"] = {"default": str(eff)}
        end = f"{e}T00:00:00Z" if e else ""
        out.append(f'{s}T00:00:00Z,{end},{sku},AWS,USD,DBU,"{json.dumps(pricing).replace(chr(34), chr(34) * 2)}"')
    path.write_text(LP_HEAD + "\n".join(out) + "\n")
    return path


def api_run(run_id, start_min, minutes, *, state=None, life="TERMINATED", code=None, status_state=None,
            attempt=0) -> dict:
    """A Jobs API run object starting *start_min* minutes after 2024-06-01 00:00 UTC."""
    t0 = 1717200000000 + start_min * 60000
    r = {"run_id": run_id, "job_id": 1, "run_name": "etl", "start_time": t0,
         "end_time": t0 + minutes * 60000 if minutes is not None else 0,
         "run_duration": (minutes or 0) * 60000, "attempt_number": attempt}
    if state is not None or life != "TERMINATED":
        r["state"] = {"life_cycle_state": life, **({"result_state": state} if state else {})}
    if code is not None or status_state is not None:
        r["status"] = {"state": status_state or "TERMINATED",
                       **({"termination_details": {"code": code, "type": "CLIENT_ERROR"}} if code else {})}
    return r
