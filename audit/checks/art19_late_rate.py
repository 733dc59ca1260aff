"""Article 19: share of orders delivered after the platform's deadline.

冀人社规〔2021〕5号 第十九条 asks platforms to set 准时率 (on-time rate) targets
"from the middle" (算法取中), not by the strictest algorithm.  A high late
share means the deadlines are ones that riders cannot meet.

Definition (SPEC §5, literally): among *completed* orders that have a
``promised_at``, the share with ``delivered_at > promised_at`` (strictly: an
order delivered at the deadline second is on time).  Cancelled orders and
orders without a deadline are outside numerator and denominator.

Findings:

* ``platform`` — the share over all orders, with a 95 % interval that
  accounts for clustering by worker: a Wilson score interval on the
  effective sample size n / deff, where deff is the cluster-robust (CR1)
  variance over the binomial one, floored at 1
  (:func:`metrics.proportions.clustered_share`; the CR1 standard error is in
  ``se`` and equals statsmodels' cluster-robust SE of a constant-only OLS).
  Under ``premium_min_orders`` (30) orders: insufficient_data.
* ``region`` — the same per region code, so a region with tight deadlines
  (the pattern riders describe) shows even when the platform share is below
  the threshold.
* ``worker`` — one row per worker with the worker's late share, its n and a
  plain Wilson interval (orders of one worker treated as independent).
  Workers with fewer than ``late_rate_min_orders`` orders (20, a toolkit
  choice) are insufficient_data.

Status: risk when the share is over ``late_rate_risk`` (10 %), else ok.
The check's status in ``summary.json`` is its most severe finding's;
``value`` there is the platform share.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks._art19 import PLATFORM, fmt, limits, period, platform_row
from audit.checks._common import text_values, worker_index
from audit.findings import INSUFFICIENT, OK, RISK, count_status, make_findings, overall_status
from audit.logs import AuditLogs
from metrics.proportions import clustered_share, wilson

CHECK = "art19.late_rate"
METRIC = "late_share"
UNIT = "share of completed orders with a deadline"
EXTRA = ["late_orders", "ci_low", "ci_high", "se", "deff"]
NO_DEADLINES = "no completed order has a promised_at"


def check_late_rate(logs: AuditLogs, *, thresholds: dict | None = None) -> pd.DataFrame:
    """Late-delivery share of the platform, of each region and of each worker.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs (:func:`audit.load_logs`).
    thresholds : dict, optional
        Overrides of ``late_rate_risk``, ``late_rate_min_orders``,
        ``premium_min_orders``, ``ci_level``.

    Returns
    -------
    DataFrame
        Findings (``level`` platform, region or worker; ``value`` the late
        share; ``n`` the completed orders with a deadline) plus
        ``late_orders, ci_low, ci_high, se, deff``.
    """
    lim = limits(thresholds)
    risk, level = float(lim["late_rate_risk"]), float(lim["ci_level"])
    min_platform, min_worker = int(lim["premium_min_orders"]), int(lim["late_rate_min_orders"])
    o = logs.completed
    o = o[o["promised_at"].notna()]
    late = (o["delivered_at"] > o["promised_at"]).to_numpy()
    w = worker_index(logs).codes(o["worker_id"])
    first, last = period(o["accepted_at"])
    if len(o) == 0:
        return platform_row(check=CHECK, metric=METRIC, value=np.nan, threshold=risk, unit=UNIT,
                            status=INSUFFICIENT, n=0, detail=NO_DEADLINES, first=None, last=None,
                            late_orders=0, ci_low=np.nan, ci_high=np.nan, se=np.nan, deff=np.nan)

    rows = [_share_row(late, w, np.ones(len(o), bool), subject=PLATFORM, level="platform",
                       risk=risk, min_n=min_platform, ci=level, first=first, last=last)]
    region, names = pd.factorize(text_values(o["region_code"]), sort=True)
    for code, name in enumerate(names):  # a handful of regions, not a loop over orders
        rows.append(_share_row(late, w, region == code, subject=str(name), level="region",
                               risk=risk, min_n=min_platform, ci=level, first=first, last=last))

    per = pd.DataFrame({"w": w, "late": late.astype(np.int64)}).groupby("w", sort=True)["late"]
    k, n = per.sum(), per.size()
    lo, hi = wilson(k.to_numpy(), n.to_numpy(), level=level)
    share = (k / n).to_numpy()
    enough = n.to_numpy() >= min_worker
    status = np.where(~enough, INSUFFICIENT, np.where(share > risk, RISK, OK))
    detail = np.where(enough, "", f"fewer than {min_worker} orders with a deadline; ")
    detail = (pd.Series(detail) + "late=" + k.astype(str).to_numpy() + " of " + n.astype(str).to_numpy()
              + "; 95% Wilson CI (orders independent) [" + pd.Series(lo).map(fmt) + ", "
              + pd.Series(hi).map(fmt) + "]")
    workers = make_findings(check=CHECK, article=19, level="worker",
                            subject=worker_index(logs).names(k.index.to_numpy()),
                            period_start=first, period_end=last, metric=METRIC,
                            value=np.round(share, 6), threshold=risk, unit=UNIT, status=status,
                            n=n.to_numpy(), detail=detail.to_numpy(), late_orders=k.to_numpy(),
                            ci_low=lo, ci_high=hi, se=np.nan, deff=np.nan)
    return pd.concat([*rows, workers], ignore_index=True)


def _share_row(late: np.ndarray, w: np.ndarray, sel: np.ndarray, *, subject: str, level: str,
               risk: float, min_n: int, ci: float, first, last) -> pd.DataFrame:
    """The clustered share of late orders among ``sel``, as one finding."""
    z = pd.DataFrame({"w": w[sel], "late": late[sel].astype(np.int64)}).groupby("w")["late"]
    s = clustered_share(z.sum().to_numpy(), z.size().to_numpy(), level=ci)
    enough = s["n"] >= min_n
    status = INSUFFICIENT if not enough else (RISK if s["share"] > risk else OK)
    detail = ("" if enough else f"fewer than {min_n} orders with a deadline; ") + (
        f"late={int(round(s['share'] * s['n']))} of {s['n']} completed orders with a deadline; "
        f"{s['clusters']} workers; 95% CI [{fmt(s['ci_low'])}, {fmt(s['ci_high'])}] "
        f"(Wilson on n/deff, deff={fmt(s['deff'], 2)} from worker-clustered CR1 SE "
        f"{fmt(s['se'], 5)})")
    return platform_row(check=CHECK, metric=METRIC, value=round(s["share"], 6), threshold=risk,
                        unit=UNIT, status=status, n=s["n"], detail=detail, first=first, last=last,
                        level=level, subject=subject, late_orders=int(round(s["share"] * s["n"])),
                        ci_low=s["ci_low"], ci_high=s["ci_high"], se=s["se"], deff=s["deff"])


def summarize(findings: pd.DataFrame) -> dict:
    """Key figures: the platform share under ``value``, its CI, and counts of risks."""
    plat = findings[findings["level"] == "platform"].iloc[0]
    wk = findings[findings["level"] == "worker"]
    reg = findings[findings["level"] == "region"]
    counts = count_status(wk["status"])
    return {
        "status": overall_status(findings["status"]),
        "n": int(plat["n"]),
        "value": None if pd.isna(plat["value"]) else round(float(plat["value"]), 6),
        "ci_low": None if pd.isna(plat["ci_low"]) else round(float(plat["ci_low"]), 6),
        "ci_high": None if pd.isna(plat["ci_high"]) else round(float(plat["ci_high"]), 6),
        "platform_status": str(plat["status"]),
        "regions_at_risk": sorted(reg.loc[reg["status"] == RISK, "subject"].astype(str).tolist()),
        "workers_assessed": counts[RISK] + counts[OK],
        "workers_at_risk": counts[RISK],
        "workers_insufficient": counts[INSUFFICIENT],
    }
