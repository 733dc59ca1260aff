"""The time-base table: one worker-week on every time base that minimum-wage
rules use.

Which hours count decides a minimum-wage verdict in every jurisdiction: New
York City's driver rule pays per trip time plus a utilisation factor for
on-call time, California's Prop 22 guarantees pay for engaged time only,
Fairwork scores pay per active hour including waiting.  The SPEC measures
art12.minimum_wage on online time and reports engaged time beside it; this
table puts both bases side by side per worker-week so an analyst sees how far
apart they are.

Columns (sorted by ``worker_id`` then ``week_start``):

``worker_id``
    The worker id as in the logs.
``week_start``, ``week_end``
    Monday and Sunday of the ISO week (datetime64, midnight).
``online_h``
    Union of the worker's sessions inside the week, hours; NaN without a
    sessions table (online time unknown, SPEC §4); 0 for a week with orders
    but no session.
``engaged_h``
    Union of the completed orders' ``[accepted_at, delivered_at]`` inside
    the week, hours.
``waiting_share``
    ``1 − engaged_h / online_h``: the share of online time spent waiting;
    NaN where online time is 0 or unknown.  Taken literally, so negative
    where orders run outside sessions (a sign of inconsistent logs).
``orders``
    Completed orders accepted in the week.
``earnings``
    Σ (pay + bonus − penalty) of those orders (SPEC §4), CNY, to the cent.
``earnings_per_online_h``, ``earnings_per_engaged_h``
    Earnings ÷ hours on each base (NaN at 0 or unknown hours), 4 decimals.

Rows: every worker-week with online time, engaged time or a completed order.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks import _worktime as wt
from audit.logs import AuditLogs

TIME_BASE_COLUMNS = ["worker_id", "week_start", "week_end", "online_h", "engaged_h", "waiting_share",
                     "orders", "earnings", "earnings_per_online_h", "earnings_per_engaged_h"]


def time_base_table(logs: AuditLogs) -> pd.DataFrame:
    """Online and engaged hours, waiting share and earnings per hour of each worker-week.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs (:func:`audit.load_logs`).

    Returns
    -------
    DataFrame
        The columns of :data:`TIME_BASE_COLUMNS` (described in the module
        docstring), one row per worker-week, sorted by worker id and week.
    """
    keys = ["group", "period_start"]
    engaged = wt.engaged_time(logs, "week")[keys + ["seconds"]].rename(columns={"seconds": "eng_s"})
    money = wt.order_money(logs, "week")[keys + ["orders", "earnings"]]
    has_sessions = logs.sessions is not None
    frame = engaged.merge(money, on=keys, how="outer")
    if has_sessions:
        online, _ = wt.online_time(logs, "week")
        frame = frame.merge(online[keys + ["seconds"]].rename(columns={"seconds": "onl_s"}),
                            on=keys, how="outer")
        online_h = frame["onl_s"].fillna(0).to_numpy(dtype=float) / wt.HOUR
    else:
        online_h = np.full(len(frame), np.nan)
    engaged_h = frame["eng_s"].fillna(0).to_numpy(dtype=float) / wt.HOUR
    earnings = np.round(frame["earnings"].fillna(0.0).to_numpy(dtype=float), 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        waiting = np.where(online_h > 0, 1.0 - engaged_h / online_h, np.nan)
        per_online = np.where(online_h > 0, earnings / online_h, np.nan)
        per_engaged = np.where(engaged_h > 0, earnings / engaged_h, np.nan)
    monday = wt.dates(frame["period_start"].to_numpy())
    out = pd.DataFrame({
        "worker_id": wt.subjects(logs, frame["group"].to_numpy(dtype=np.int64)),
        "week_start": monday.astype("datetime64[s]"),
        "week_end": (monday + np.timedelta64(6, "D")).astype("datetime64[s]"),
        "online_h": np.round(online_h, 6), "engaged_h": np.round(engaged_h, 6),
        "waiting_share": np.round(waiting, 6),
        "orders": frame["orders"].fillna(0).to_numpy().astype(np.int64), "earnings": earnings,
        "earnings_per_online_h": np.round(per_online, 4),
        "earnings_per_engaged_h": np.round(per_engaged, 4),
    })
    out["worker_id"] = out["worker_id"].astype(object)
    return out.sort_values(["worker_id", "week_start"], kind="stable").reset_index(drop=True)


__all__ = ["time_base_table", "TIME_BASE_COLUMNS"]
