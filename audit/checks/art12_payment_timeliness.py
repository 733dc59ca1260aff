"""Article 12: pay on time (art12.payment_timeliness).

冀人社规〔2021〕5号 第十二条 (按时足额支付劳动报酬) with 工资支付暂行规定 art. 7
(pay at least monthly).  Measured per payout (SPEC §5):

* the deadline is the end of the ``payment_late_days``-th (30th) day after
  ``period_end``, i.e. ``period_end + 31 days`` at 00:00 (China Standard
  Time);
* a payout with ``paid_at`` at or after that instant is a violation (paid
  at 00:30 on day 31 is late; paid at 23:59:59 on day 30 is on time),
  else ok.

Decisions the SPEC leaves open, taken here:

* **Rows.**  One finding per payout row, in the order worker, period_end,
  paid_at.  ``value`` is the time from the end of the period (``period_end``
  24:00) to ``paid_at`` in days (fractional) and ``threshold`` the allowed
  days (30): a payout is late exactly when ``value >= threshold``;
  ``days_late`` is the time past the deadline for violations, else 0.
* ``period_end`` is a date; a time of day in it is ignored (the period ends
  with that whole day).
* ``n`` is 1: the payout itself is the evidence.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks._worktime import fmt
from audit.findings import OK, VIOLATION, count_status, make_findings, overall_status
from audit.logs import AuditLogs
from audit.rules import thresholds as rule_thresholds

CHECK = "art12.payment_timeliness"
EXTRA_COLUMNS = ["paid_at", "deadline", "days_late", "gross", "net"]
_DAY = np.timedelta64(1, "D")


def check_payment_timeliness(logs: AuditLogs, *, thresholds: dict | None = None) -> pd.DataFrame:
    """Each payout's payment date against the end of the 30th day after its period.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs with a payouts table.
    thresholds : dict, optional
        Override of ``payment_late_days``.

    Returns
    -------
    DataFrame
        The findings columns (one row per payout) plus ``paid_at``,
        ``deadline`` (the first late instant), ``days_late``, ``gross`` and
        ``net``.
    """
    limits = {**rule_thresholds(), **(thresholds or {})}
    late_days = float(limits["payment_late_days"])
    p = logs.payouts.sort_values(["worker_id", "period_end", "paid_at", "period_start"],
                                 kind="stable").reset_index(drop=True)
    end = p["period_end"].to_numpy(dtype="datetime64[s]").astype("datetime64[D]")
    paid = p["paid_at"].to_numpy(dtype="datetime64[s]")
    # deadline: 00:00 after the last allowed day; whole days (30 → period_end + 31 d)
    deadline = (end + np.timedelta64(int(np.floor(late_days)) + 1, "D")).astype("datetime64[s]")
    late = paid >= deadline
    # measured from the period's end (period_end 24:00), so late ⇔ value ≥ allowed days
    after = (paid - (end + _DAY).astype("datetime64[s]")) / _DAY
    days_late = np.where(late, (paid - deadline) / _DAY, 0.0)
    status = np.where(late, VIOLATION, OK)
    paid_txt = pd.Series(paid.astype(str)).str.replace("T", " ")
    detail = ("paid " + paid_txt + ", "
              + fmt(after, "{:.2f}") + " days after the period ended; due before "
              + pd.Series(deadline.astype("datetime64[D]").astype(str)) + " 00:00")
    return make_findings(
        check=CHECK, article=12, level="payout", subject=p["worker_id"].astype(str).to_numpy(),
        period_start=p["period_start"].to_numpy(), period_end=p["period_end"].to_numpy(),
        metric="days_to_payment", value=np.round(after, 6), threshold=late_days, unit="days",
        status=status, n=np.ones(len(p), dtype=np.int64), detail=detail.to_numpy(),
        paid_at=pd.to_datetime(paid), deadline=pd.to_datetime(deadline), days_late=np.round(days_late, 4),
        gross=p["gross"].to_numpy(dtype=float), net=p["net"].to_numpy(dtype=float),
    )


def summarize(findings: pd.DataFrame) -> dict:
    """Key figures: payouts assessed and late payouts."""
    counts = count_status(findings["status"])
    return {"status": overall_status(findings["status"]), "n": int(len(findings)),
            "payouts": int(len(findings)), "late": counts[VIOLATION]}
