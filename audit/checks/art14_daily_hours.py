"""Article 14: online hours in a day (art14.daily_hours).

冀人社规〔2021〕5号 第十四条 asks platforms to 合理管控劳动者在线工作时长.  Measured
per worker-day (SPEC §4–5):

* hours = the union of the worker's sessions inside the calendar day (China
  Standard Time), overlapping sessions merged once, sessions across midnight
  split at it;
* violation over ``daily_hours_violation`` (12 h), risk over
  ``daily_hours_risk`` (10 h), else ok.  "Over" is strict: exactly 12 h is a
  risk, 12 h and one second a violation (compared in whole seconds).

Decisions the SPEC leaves open, taken here:

* **Rows.**  One finding per worker-day with positive online time; days
  without online time are not listed.  A worker whose orders have no
  session gets no row: online time is the union of *sessions* (SPEC §4).
* **Without a sessions table** online time is unknown: engaged time (the
  union of completed orders) is measured instead, ``metric`` reads
  ``engaged_hours`` and every ``detail`` carries the note.
* ``n`` is the number of source intervals (session rows, or orders without
  sessions) with time in the day: the evidence the hours rest on.
  ``orders`` counts the completed orders accepted that day.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks import _worktime as wt
from audit.findings import OK, RISK, VIOLATION, count_status, make_findings, overall_status
from audit.logs import AuditLogs
from audit.rules import thresholds as rule_thresholds

CHECK = "art14.daily_hours"
EXTRA_COLUMNS = ["hours", "orders", "time_base"]


def check_daily_hours(logs: AuditLogs, *, thresholds: dict | None = None) -> pd.DataFrame:
    """Online hours of each worker-day against the daily limits.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs (:func:`audit.load_logs`).
    thresholds : dict, optional
        Overrides of ``daily_hours_violation`` and ``daily_hours_risk`` (hours).

    Returns
    -------
    DataFrame
        The findings columns (one row per worker-day with online time;
        ``value`` hours, ``threshold`` the violation limit) plus ``hours``,
        ``orders`` and ``time_base`` (``online`` or ``engaged``).
    """
    limits = {**rule_thresholds(), **(thresholds or {})}
    viol = float(limits["daily_hours_violation"]) * wt.HOUR
    risk = float(limits["daily_hours_risk"]) * wt.HOUR
    days, note = wt.online_time(logs, "day")
    d = wt.attach_orders(days, logs, "day")
    sec = d["seconds"].to_numpy()
    status = np.where(sec > viol, VIOLATION, np.where(sec > risk, RISK, OK))
    base = "engaged" if note else "online"
    detail = (f"{base}_h=" + wt.fmt_hours(sec) + "; risk over "
              + f"{limits['daily_hours_risk']:g} h, violation over {limits['daily_hours_violation']:g} h")
    if note:
        detail = detail + "; " + note
    day = wt.dates(d["period_start"].to_numpy())
    hours = sec / wt.HOUR
    return make_findings(
        check=CHECK, article=14, level="worker-day", subject=wt.subjects(logs, d["group"].to_numpy()),
        period_start=day, period_end=day, metric=f"{base}_hours", value=np.round(hours, 4),
        threshold=float(limits["daily_hours_violation"]), unit="h", status=status,
        n=d["intervals"].to_numpy(), detail=detail.to_numpy(),
        hours=hours, orders=d["orders"].to_numpy(), time_base=base,
    )


def summarize(findings: pd.DataFrame) -> dict:
    """Key figures of SPEC §6: worker-days assessed, violations and risks."""
    counts = count_status(findings["status"])
    return {"status": overall_status(findings["status"]), "n": int(len(findings)),
            "worker_days": int(len(findings)), "violations": counts[VIOLATION], "risks": counts[RISK]}
