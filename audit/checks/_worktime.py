"""Per-run working-time tables that the art14 checks, the time-base table and
the worker profile share, computed once and cached on the logs.

Every table is keyed by the integer worker code of
:func:`audit.checks._common.worker_index` and a ``period_start`` in seconds.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks._common import engaged_arrays, time_arrays, to_dates, worker_index
from audit.logs import AuditLogs
from metrics.earnings import sum_by_period
from metrics.worktime import days_by_week, longest_block_by_day, seconds_by_period, work_blocks

HOUR = 3600.0


def online_time(logs: AuditLogs, period: str) -> tuple[pd.DataFrame, str]:
    """Online seconds per worker and day/week, and the no-sessions note ("" with sessions)."""
    key = ("worktime_online", period)
    if key not in logs.cache:
        (g, s, e), note = time_arrays(logs, "online")
        logs.cache[key] = (seconds_by_period(g, s, e, period), note)
    return logs.cache[key]


def engaged_time(logs: AuditLogs, period: str) -> pd.DataFrame:
    """Engaged seconds per worker and day/week (union of completed orders)."""
    key = ("worktime_engaged", period)
    if key not in logs.cache:
        g, s, e = engaged_arrays(logs)
        logs.cache[key] = seconds_by_period(g, s, e, period)
    return logs.cache[key]


def days_worked(logs: AuditLogs) -> tuple[pd.DataFrame, str]:
    """Days with online time per worker-week, and the note."""
    key = "worktime_days_worked"
    if key not in logs.cache:
        days, note = online_time(logs, "day")
        logs.cache[key] = (days_by_week(days), note)
    return logs.cache[key]


def longest_blocks(logs: AuditLogs, gap_seconds: float) -> pd.DataFrame:
    """The longest work block per worker and day on which blocks start."""
    key = ("worktime_blocks", float(gap_seconds))
    if key not in logs.cache:
        g, s, e = engaged_arrays(logs)
        logs.cache[key] = longest_block_by_day(work_blocks(g, s, e, gap_seconds=gap_seconds))
    return logs.cache[key]


def order_money(logs: AuditLogs, period: str) -> pd.DataFrame:
    """Completed orders and minimum-wage earnings (pay + bonus − penalty) per worker and period,
    by the time the order was accepted (SPEC §4)."""
    key = ("worktime_money", period)
    if key not in logs.cache:
        o = logs.completed
        g, acc, _ = engaged_arrays(logs)
        money = (o["pay"] + o["bonus"] - o["penalty"]).to_numpy(dtype=float)
        out = sum_by_period(g, acc, {"earnings": money}, period).rename(columns={"n": "orders"})
        out["group"] = out["group"].astype(np.int64)
        logs.cache[key] = out
    return logs.cache[key]


def attach_orders(frame: pd.DataFrame, logs: AuditLogs, period: str) -> pd.DataFrame:
    """``frame`` (``group, period_start``) with the period's ``orders`` and ``earnings`` beside."""
    money = order_money(logs, period)
    out = frame.merge(money, on=["group", "period_start"], how="left")
    out["orders"] = out["orders"].fillna(0).astype(np.int64)
    out["earnings"] = out["earnings"].fillna(0.0)
    return out


def subjects(logs: AuditLogs, groups: np.ndarray) -> np.ndarray:
    """Worker ids of worker codes."""
    return worker_index(logs).names(groups)


def dates(seconds: np.ndarray) -> np.ndarray:
    """Period starts in seconds as ``datetime64[D]``."""
    return to_dates(np.asarray(seconds, dtype=np.int64))


def fmt(values, spec: str = "{:.4f}") -> pd.Series:
    """Numbers as text for ``detail`` (an object Series, so that it concatenates even when empty)."""
    return pd.Series(np.asarray(values, dtype=float), dtype=float).map(spec.format).astype(object)


def fmt_hours(seconds: pd.Series | np.ndarray) -> pd.Series:
    """Seconds as hours with 4 decimals, for ``detail`` texts."""
    return fmt(np.asarray(seconds, dtype=float) / HOUR)
