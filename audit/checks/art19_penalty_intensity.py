"""Article 19: how much of a worker's week's pay is taken back as penalties.

冀人社规〔2021〕5号 第十九条 asks that 奖惩制度 (rewards and penalties) be set
reasonably and negotiated; fines for lateness are how the strictest algorithm
bites.  Measured per worker-week (ISO week of ``accepted_at``, SPEC §4):

    intensity = Σ penalty ÷ Σ (pay + bonus)

over the week's completed orders.  Risk over ``penalty_share_risk`` (10 %),
else ok.  A week whose pay + bonus is 0 has no ratio (``value`` NaN): it is a
risk when it has penalties and insufficient_data otherwise.

``summary.json``: ``value`` = the share of assessed worker-weeks at risk,
with a 95 % interval clustered by worker (Wilson on n / deff,
:func:`metrics.proportions.clustered_share`), and ``platform_ratio`` =
Σ penalty ÷ Σ (pay + bonus) over all completed orders.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks._art19 import limits
from audit.checks._common import engaged_arrays, to_dates, worker_index
from audit.findings import INSUFFICIENT, OK, RISK, count_status, make_findings, overall_status
from audit.logs import AuditLogs
from metrics.intervals import period_bound, period_index
from metrics.proportions import clustered_share

CHECK = "art19.penalty_intensity"
METRIC = "penalty_share_of_pay_bonus"
UNIT = "share of pay + bonus"
EXTRA = ["penalty_cny", "pay_bonus_cny"]


def check_penalty_intensity(logs: AuditLogs, *, thresholds: dict | None = None) -> pd.DataFrame:
    """Penalties as a share of pay + bonus, per worker-week.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs (:func:`audit.load_logs`).
    thresholds : dict, optional
        Overrides of ``penalty_share_risk``.

    Returns
    -------
    DataFrame
        Findings, one per worker-week with a completed order (``value`` the
        intensity, ``n`` the week's completed orders) plus ``penalty_cny,
        pay_bonus_cny``.
    """
    risk = float(limits(thresholds)["penalty_share_risk"])
    o = logs.completed
    g, acc, _ = engaged_arrays(logs)
    week = period_index(acc, "week")
    z = pd.DataFrame({"g": g, "week": week, "n": 1,
                      "pen": o["penalty"].fillna(0.0).to_numpy(dtype=float),
                      "pay": (o["pay"].fillna(0.0) + o["bonus"].fillna(0.0)).to_numpy(dtype=float)})
    wk = z.groupby(["g", "week"], sort=True)[["n", "pen", "pay"]].sum().reset_index()
    pen, pay = wk["pen"].to_numpy(), wk["pay"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(pay > 0, pen / np.where(pay > 0, pay, 1.0), np.nan)
    status = np.where(pay > 0, np.where(value > risk, RISK, OK),
                      np.where(pen > 0, RISK, INSUFFICIENT))
    why = np.where(pay > 0, "", np.where(pen > 0, "penalties in a week with no pay; ",
                                         "no pay or penalty in the week; "))
    detail = (pd.Series(why) + "penalty=" + pd.Series(pen).map("{:.2f}".format)
              + "; pay+bonus=" + pd.Series(pay).map("{:.2f}".format))
    monday = to_dates(period_bound(wk["week"].to_numpy(), "week"))
    return make_findings(check=CHECK, article=19, level="worker-week",
                         subject=worker_index(logs).names(wk["g"].to_numpy()),
                         period_start=monday, period_end=monday + np.timedelta64(6, "D"),
                         metric=METRIC, value=np.round(value, 6), threshold=risk, unit=UNIT,
                         status=status, n=wk["n"].to_numpy(), detail=detail.to_numpy(),
                         penalty_cny=pen, pay_bonus_cny=pay)


def summarize(findings: pd.DataFrame, *, level: float = 0.95) -> dict:
    """Key figures: share of worker-weeks at risk (``value``, clustered CI) and the platform ratio."""
    counts = count_status(findings["status"])
    assessed = findings[findings["status"].isin([RISK, OK])]
    per = (assessed.assign(r=(assessed["status"] == RISK).astype(np.int64))
           .groupby("subject", sort=True)["r"])
    s = clustered_share(per.sum().to_numpy(), per.size().to_numpy(), level=level)
    paid = float(findings["pay_bonus_cny"].sum())

    def num(x, d=6):
        return None if x is None or not np.isfinite(x) else round(float(x), d)

    return {
        "status": overall_status(findings["status"]),
        "n": int(len(assessed)),
        "value": num(s["share"]),
        "ci_low": num(s["ci_low"]),
        "ci_high": num(s["ci_high"]),
        "worker_weeks": int(len(assessed)),
        "risks": counts[RISK],
        "insufficient": counts[INSUFFICIENT],
        "platform_ratio": num(float(findings["penalty_cny"].sum()) / paid if paid > 0 else np.nan),
        "penalty_cny": round(float(findings["penalty_cny"].sum()), 2),
        "pay_bonus_cny": round(paid, 2),
    }

