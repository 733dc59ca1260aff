"""Article 14: a rest day every week (art14.weekly_rest).

冀人社规〔2021〕5号 第十四条 (明确休息时间); 劳动法 art. 38 (at least one rest day a
week).  Measured per worker-week (SPEC §4–5):

* a working day is a calendar day (China Standard Time) with any online
  time, even one second: the union of the worker's sessions is cut at
  midnight and every day with a piece of positive length counts, so a
  session across midnight makes both days working days (a session that ends
  exactly at 00:00 does not touch the next day: intervals are half-open);
* violation when the worker was online on ``weekly_rest_days`` (7) days of
  the ISO week (Monday to Sunday), else ok.

Decisions the SPEC leaves open, taken here:

* **Rows.**  One finding per worker-week with positive online time.  Weeks
  that the data cover only in part are assessed on the days there are (a
  week cut by the end of the data can only be ok).
* **Without a sessions table** the working days are the days with engaged
  time (completed orders), ``metric`` reads ``days_engaged`` and every
  ``detail`` carries the note.
* ``n`` is the number of source intervals (session rows, or orders without
  sessions) with time in the week; ``orders`` the completed orders accepted
  in it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks import _worktime as wt
from audit.findings import OK, RISK, VIOLATION, count_status, make_findings, overall_status
from audit.logs import AuditLogs
from audit.rules import thresholds as rule_thresholds

CHECK = "art14.weekly_rest"
EXTRA_COLUMNS = ["days_worked", "hours", "orders", "time_base"]


def check_weekly_rest(logs: AuditLogs, *, thresholds: dict | None = None) -> pd.DataFrame:
    """Days with online time in each worker-week against the weekly rest day.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs (:func:`audit.load_logs`).
    thresholds : dict, optional
        Override of ``weekly_rest_days``.

    Returns
    -------
    DataFrame
        The findings columns (one row per worker-week with online time;
        ``value`` the days worked) plus ``days_worked``, ``hours``,
        ``orders`` and ``time_base``.
    """
    limits = {**rule_thresholds(), **(thresholds or {})}
    max_days = float(limits["weekly_rest_days"])
    weeks, note = wt.online_time(logs, "week")
    days, _ = wt.days_worked(logs)
    w = weeks.merge(days, on=["group", "period_start"], how="left")
    w["days"] = w["days"].fillna(0).astype(np.int64)
    w = wt.attach_orders(w, logs, "week")
    n_days = w["days"].to_numpy()
    status = np.where(n_days >= max_days, VIOLATION, OK)
    base = "engaged" if note else "online"
    detail = (f"{base} on " + w["days"].astype(str) + " of 7 days; "
              + f"{base}_h=" + wt.fmt_hours(w["seconds"].to_numpy())
              + f"; violation at {max_days:g} days (no rest day)")
    if note:
        detail = detail + "; " + note
    monday = wt.dates(w["period_start"].to_numpy())
    return make_findings(
        check=CHECK, article=14, level="worker-week", subject=wt.subjects(logs, w["group"].to_numpy()),
        period_start=monday, period_end=monday + np.timedelta64(6, "D"),
        metric="days_online" if base == "online" else "days_engaged", value=n_days,
        threshold=max_days, unit="days", status=status, n=w["intervals"].to_numpy(),
        detail=detail.to_numpy(), days_worked=n_days, hours=w["seconds"].to_numpy() / wt.HOUR,
        orders=w["orders"].to_numpy(), time_base=base,
    )


def summarize(findings: pd.DataFrame) -> dict:
    """Key figures of SPEC §6: worker-weeks assessed, violations and risks."""
    counts = count_status(findings["status"])
    return {"status": overall_status(findings["status"]), "n": int(len(findings)),
            "worker_weeks": int(len(findings)), "violations": counts[VIOLATION], "risks": counts[RISK]}
