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

Partitions (map/merge split, SPEC §8): :func:`partial_late_rate` counts, in
a piece of the logs holding whole workers, the late and all orders with a
deadline per (worker id, region) — integers, about 40 bytes a worker — and
the first and last acceptance.  :func:`finish_late_rate` adds the counts of
all pieces (exact in any order), sorts the pairs by worker id then region
(the in-memory order: worker codes are sorted ids) and only then computes
the clustered shares, whose float sums run across workers.  So the findings
are the same bytes however the workers are split.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks._art19 import PLATFORM, fmt, limits, merged_period, platform_row, span
from audit.checks._common import text_values
from audit.findings import INSUFFICIENT, OK, RISK, count_status, make_findings, overall_status
from audit.logs import AuditLogs
from metrics.mergeable import keyed_counts, merge_keyed_counts
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
    return finish_late_rate([partial_late_rate(logs, thresholds=thresholds)], logs,
                            thresholds=thresholds)


def partial_late_rate(logs: AuditLogs, *, thresholds: dict | None = None) -> dict:
    """Late and all orders with a deadline per (worker id, region) of a piece of the logs.

    Returns
    -------
    dict
        ``keys`` ([worker id text, region code text] per pair), ``k`` (late
        orders), ``n`` (orders), both int64 (:func:`metrics.mergeable.keyed_counts`),
        and ``first``, ``last`` (the first and last ``accepted_at``, None
        without orders).  About 40 bytes a worker.
    """
    o = logs.completed
    o = o[o["promised_at"].notna()]
    late = (o["delivered_at"] > o["promised_at"]).to_numpy()
    counts = keyed_counts([text_values(o["worker_id"]), text_values(o["region_code"])], late)
    acc = o["accepted_at"]
    return {**counts, **span(acc)}


def finish_late_rate(parts: list[dict], logs: AuditLogs, *,
                     thresholds: dict | None = None) -> pd.DataFrame:
    """The findings from the partials of :func:`partial_late_rate` (any order)."""
    lim = limits(thresholds)
    risk, level = float(lim["late_rate_risk"]), float(lim["ci_level"])
    min_platform, min_worker = int(lim["premium_min_orders"]), int(lim["late_rate_min_orders"])
    m = merge_keyed_counts(parts, n_keys=2)  # (worker id, region) pairs sorted by id, then region
    if int(m["n"].sum()) == 0:
        return platform_row(check=CHECK, metric=METRIC, value=np.nan, threshold=risk, unit=UNIT,
                            status=INSUFFICIENT, n=0, detail=NO_DEADLINES, first=None, last=None,
                            late_orders=0, ci_low=np.nan, ci_high=np.nan, se=np.nan, deff=np.nan)
    first, last = merged_period(parts)
    (ids, names), (wcode, rcode) = m["values"], m["codes"]
    # per worker, in worker id order (the in-memory worker code order): integer sums
    k = np.bincount(wcode, weights=m["k"], minlength=len(ids)).astype(np.int64)
    n = np.bincount(wcode, weights=m["n"], minlength=len(ids)).astype(np.int64)
    rows = [_share_row(k, n, subject=PLATFORM, level="platform", risk=risk, min_n=min_platform,
                       ci=level, first=first, last=last)]
    for code, name in enumerate(names):  # a handful of regions, not a loop over orders
        sel = rcode == code
        rows.append(_share_row(m["k"][sel], m["n"][sel], subject=str(name), level="region",
                               risk=risk, min_n=min_platform, ci=level, first=first, last=last))

    lo, hi = wilson(k, n, level=level)
    share = k / n
    enough = n >= min_worker
    status = np.where(~enough, INSUFFICIENT, np.where(share > risk, RISK, OK))
    detail = np.where(enough, "", f"fewer than {min_worker} orders with a deadline; ")
    detail = (pd.Series(detail) + "late=" + pd.Series(k).astype(str).to_numpy() + " of "
              + pd.Series(n).astype(str).to_numpy()
              + "; 95% Wilson CI (orders independent) [" + pd.Series(lo).map(fmt) + ", "
              + pd.Series(hi).map(fmt) + "]")
    workers = make_findings(check=CHECK, article=19, level="worker", subject=ids,
                            period_start=first, period_end=last, metric=METRIC,
                            value=np.round(share, 6), threshold=risk, unit=UNIT, status=status,
                            n=n, detail=detail.to_numpy(), late_orders=k,
                            ci_low=lo, ci_high=hi, se=np.nan, deff=np.nan)
    return pd.concat([*rows, workers], ignore_index=True)


def _share_row(k: np.ndarray, n: np.ndarray, *, subject: str, level: str, risk: float,
               min_n: int, ci: float, first, last) -> pd.DataFrame:
    """The clustered share of late orders from per-worker counts (worker id order), as one finding."""
    s = clustered_share(k, n, level=ci)
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
