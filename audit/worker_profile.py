"""One worker's days and weeks with every working-time and minimum-wage verdict.

For an analyst who must explain one case: :func:`worker_profile` cuts the
logs down to one worker and runs the check functions themselves on that
subset (art14.daily_hours, art14.continuous_work, art14.weekly_rest,
art14.weekly_hours, art12.minimum_wage on online and on engaged time), so the
verdicts are the run's verdicts, never a second implementation of the rules.
Every one of these checks is per worker, so a one-worker subset gives the
same numbers as the full run.

Without a sessions table online time is unknown: ``online_h`` is NaN, the
statuses are those of the checks (measured on engaged time, as in a run) and
``note`` says so.
"""
from __future__ import annotations

import difflib
import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audit.checks import _worktime as wt
from audit.checks._common import NO_SESSIONS_NOTE, worker_index
from audit.checks.art12_minimum_wage import check_minimum_wage
from audit.checks.art14_continuous_work import check_continuous_work
from audit.checks.art14_daily_hours import check_daily_hours
from audit.checks.art14_weekly_hours import check_weekly_hours
from audit.checks.art14_weekly_rest import check_weekly_rest
from audit.exceptions import AuditError
from audit.logs import AuditLogs
from audit.time_base import time_base_table

ERR_UNKNOWN_WORKER = "unknown worker id {worker_id!r}; closest known ids: {close}"

DAY_COLUMNS = ["date", "online_h", "engaged_h", "longest_block_h", "orders", "earnings",
               "daily_hours_status", "continuous_work_status"]
WEEK_COLUMNS = ["week_start", "online_h", "engaged_h", "days_worked", "orders", "earnings",
                "earnings_per_online_h", "earnings_per_engaged_h", "hourly_minimum",
                "minimum_wage_status", "minimum_wage_engaged_status", "weekly_rest_status",
                "weekly_hours_status"]


class UnknownWorkerError(AuditError, LookupError):
    """The worker id is in none of the logs' tables."""


@dataclass
class WorkerProfile:
    """A worker's days and weeks.

    Attributes
    ----------
    worker_id : str
    days : DataFrame
        :data:`DAY_COLUMNS`, one row per day with online time, engaged time,
        a completed order or a work block starting; a status is missing
        where the check has no finding for the day.
    weeks : DataFrame
        :data:`WEEK_COLUMNS`, one row per ISO week (``week_start`` its Monday).
    note : str
        The no-sessions note, or "".
    """

    worker_id: str
    days: pd.DataFrame
    weeks: pd.DataFrame
    note: str = ""

    def __repr__(self) -> str:
        return (f"WorkerProfile({self.worker_id!r}, days={len(self.days)}, weeks={len(self.weeks)}"
                + (f", note={self.note!r}" if self.note else "") + ")")

    def _repr_html_(self) -> str:
        note = f"<p><em>{html.escape(self.note)}</em></p>" if self.note else ""
        return (f"<h4>Worker {html.escape(self.worker_id)}</h4>{note}"
                f"<h5>Weeks</h5>{self.weeks.to_html(index=False, na_rep='')}"
                f"<h5>Days</h5>{self.days.to_html(index=False, na_rep='')}")


def worker_profile(logs: AuditLogs, worker_id: str, *, thresholds: dict | None = None) -> WorkerProfile:
    """The days and weeks of one worker, with the verdict of each check beside.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs (:func:`audit.load_logs`).
    worker_id : str
        A worker id of the orders, sessions or workers table.
    thresholds : dict, optional
        Overrides of the rules table's thresholds, as for a run.

    Returns
    -------
    WorkerProfile

    Raises
    ------
    UnknownWorkerError
        The id is in no table (:data:`ERR_UNKNOWN_WORKER`, naming close ids).
    """
    wid = str(worker_id)
    ids = worker_index(logs).ids
    if wid not in set(ids.tolist()):
        close = difflib.get_close_matches(wid, [str(i) for i in ids], n=5, cutoff=0.5)
        raise UnknownWorkerError(ERR_UNKNOWN_WORKER.format(
            worker_id=wid, close=", ".join(close) if close else "none"))
    sub = _subset(logs, wid)
    has_sessions = sub.sessions is not None
    note = "" if has_sessions else NO_SESSIONS_NOTE
    return WorkerProfile(wid, _days(sub, has_sessions, thresholds), _weeks(sub, thresholds), note)


def _subset(logs: AuditLogs, wid: str) -> AuditLogs:
    """The logs of one worker (a fresh cache: nothing of the full run is reused)."""
    def pick(t: pd.DataFrame | None) -> pd.DataFrame | None:
        if t is None:
            return None
        return t[t["worker_id"].astype(str).to_numpy() == wid].reset_index(drop=True)

    return AuditLogs(orders=pick(logs.orders), sessions=pick(logs.sessions), workers=pick(logs.workers),
                     payouts=pick(logs.payouts), weather=logs.weather, rejected=logs.rejected.iloc[:0],
                     sources=logs.sources, profile=logs.profile, holiday_overrides=logs.holiday_overrides)


def _by_date(findings: pd.DataFrame, cols: dict[str, str]) -> pd.DataFrame:
    """Findings keyed by their period start (a datetime64 date)."""
    out = findings[["period_start", *cols]].rename(columns={"period_start": "key", **cols})
    out["key"] = pd.to_datetime(out["key"]).astype("datetime64[s]")
    return out


def _days(sub: AuditLogs, has_sessions: bool, thresholds: dict | None) -> pd.DataFrame:
    daily = _by_date(check_daily_hours(sub, thresholds=thresholds),
                     {"hours": "online_h", "status": "daily_hours_status"})
    if not has_sessions:
        daily["online_h"] = np.nan
    blocks = _by_date(check_continuous_work(sub, thresholds=thresholds),
                      {"hours": "longest_block_h", "status": "continuous_work_status"})
    eng = wt.engaged_time(sub, "day")
    money = wt.order_money(sub, "day")
    base = pd.DataFrame({"key": wt.dates(eng["period_start"].to_numpy()).astype("datetime64[s]"),
                         "engaged_h": eng["seconds"].to_numpy() / wt.HOUR})
    paid = pd.DataFrame({"key": wt.dates(money["period_start"].to_numpy()).astype("datetime64[s]"),
                         "orders": money["orders"].to_numpy(), "earnings": money["earnings"].to_numpy()})
    out = daily.merge(blocks, on="key", how="outer").merge(base, on="key", how="outer")
    out = out.merge(paid, on="key", how="outer").sort_values("key").reset_index(drop=True)
    out["engaged_h"] = out["engaged_h"].fillna(0.0)
    if has_sessions:
        out["online_h"] = out["online_h"].fillna(0.0)
    out["orders"] = out["orders"].fillna(0).astype(np.int64)
    out["earnings"] = out["earnings"].fillna(0.0).round(2)
    out = out.rename(columns={"key": "date"})
    return out[DAY_COLUMNS]


def _weeks(sub: AuditLogs, thresholds: dict | None) -> pd.DataFrame:
    tb = time_base_table(sub).rename(columns={"week_start": "key"})
    rest = _by_date(check_weekly_rest(sub, thresholds=thresholds),
                    {"days_worked": "days_worked", "status": "weekly_rest_status"})
    hours = _by_date(check_weekly_hours(sub, thresholds=thresholds), {"status": "weekly_hours_status"})
    mw = _by_date(check_minimum_wage(sub, time_base="online", thresholds=thresholds),
                  {"hourly_minimum": "hourly_minimum", "status": "minimum_wage_status"})
    mwe = _by_date(check_minimum_wage(sub, time_base="engaged", thresholds=thresholds),
                   {"status": "minimum_wage_engaged_status"})
    out = tb
    for part in (rest, hours, mw, mwe):
        out = out.merge(part, on="key", how="outer")
    out["days_worked"] = out["days_worked"].fillna(0).astype(np.int64)
    out = out.sort_values("key").reset_index(drop=True).rename(columns={"key": "week_start"})
    return out[WEEK_COLUMNS]


__all__ = ["worker_profile", "WorkerProfile", "UnknownWorkerError", "ERR_UNKNOWN_WORKER",
           "DAY_COLUMNS", "WEEK_COLUMNS"]
