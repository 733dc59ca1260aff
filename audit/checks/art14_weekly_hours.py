"""Article 14: online hours in a week (art14.weekly_hours).

冀人社规〔2021〕5号 第十四条 (合理管控在线工作时长).  Measured per worker-week
(SPEC §4–5):

* hours = the union of the worker's sessions inside the ISO week (Monday
  00:00 to Sunday 24:00, China Standard Time), overlaps counted once,
  sessions across Sunday midnight split at it;
* risk over ``weekly_hours_risk`` (60 h, strictly over, compared in whole
  seconds), else ok.  The SPEC gives no violation level for this check.

Decisions the SPEC leaves open, taken here:

* **Rows.**  One finding per worker-week with positive online time.
* **Without a sessions table** engaged time is measured instead,
  ``metric`` reads ``engaged_hours`` and every ``detail`` carries the note.
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

CHECK = "art14.weekly_hours"
EXTRA_COLUMNS = ["hours", "orders", "time_base"]


def check_weekly_hours(logs: AuditLogs, *, thresholds: dict | None = None) -> pd.DataFrame:
    """Online hours of each worker-week against the weekly limit.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs (:func:`audit.load_logs`).
    thresholds : dict, optional
        Override of ``weekly_hours_risk`` (hours).

    Returns
    -------
    DataFrame
        The findings columns (one row per worker-week with online time;
        ``value`` hours) plus ``hours``, ``orders`` and ``time_base``.
    """
    limits = {**rule_thresholds(), **(thresholds or {})}
    risk = float(limits["weekly_hours_risk"]) * wt.HOUR
    weeks, note = wt.online_time(logs, "week")
    w = wt.attach_orders(weeks, logs, "week")
    sec = w["seconds"].to_numpy()
    status = np.where(sec > risk, RISK, OK)
    base = "engaged" if note else "online"
    detail = (f"{base}_h=" + wt.fmt_hours(sec)
              + f"; risk over {limits['weekly_hours_risk']:g} h")
    if note:
        detail = detail + "; " + note
    monday = wt.dates(w["period_start"].to_numpy())
    hours = sec / wt.HOUR
    return make_findings(
        check=CHECK, article=14, level="worker-week", subject=wt.subjects(logs, w["group"].to_numpy()),
        period_start=monday, period_end=monday + np.timedelta64(6, "D"), metric=f"{base}_hours",
        value=np.round(hours, 4), threshold=float(limits["weekly_hours_risk"]), unit="h",
        status=status, n=w["intervals"].to_numpy(), detail=detail.to_numpy(),
        hours=hours, orders=w["orders"].to_numpy(), time_base=base,
    )


def summarize(findings: pd.DataFrame) -> dict:
    """Key figures of SPEC §6: worker-weeks assessed, violations and risks."""
    counts = count_status(findings["status"])
    return {"status": overall_status(findings["status"]), "n": int(len(findings)),
            "worker_weeks": int(len(findings)), "violations": counts[VIOLATION], "risks": counts[RISK]}
