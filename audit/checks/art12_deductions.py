"""Article 12: no unlawful deductions (art12.deductions).

冀人社规〔2021〕5号 第十二条 (不得违法克扣) with 工资支付暂行规定 art. 16 (deductions at
most 20 % of the month's wage; what remains not below the monthly minimum).
Measured per worker-month (SPEC §5):

* payouts are grouped by worker and the calendar month of ``period_end``;
  gross, deductions and net are summed over the month; comparisons allow
  a micro-yuan of float noise, so sums of many payouts that make exactly
  20 % compare as exactly 20 %;
* violation when deductions > ``deduction_share_max`` (20 %) of gross —
  exactly 20 % is ok;
* for workers whose ``employment_form`` is ``labor_contract`` (workers
  table) also a violation when the month has deductions (> 0) and its net
  is below the monthly minimum wage (``monthly_minimum``) of the worker's
  region in force on the month's first day.

Decisions the SPEC leaves open, taken here:

* **Net.**  A payout without ``net`` counts ``gross − deductions``.
* **Region of a worker** (for the monthly minimum): the workers table's
  region, else the region where most of the worker's completed orders were
  accepted (ties: the first in sorted order of region code), else the
  profile's default region.  A labor_contract worker-month with deductions
  and no region at all is insufficient_data unless the 20 % rule already
  makes it a violation.
* **Months covered in part.**  The net of the payouts that end in the month
  is compared with the full monthly minimum as it stands; a month that the
  data cover only in part may therefore show a low net (``payouts`` and
  ``detail`` say how many payouts the month holds).
* **Without a workers table**, or for a worker missing from it, the
  employment form is unknown and only the 20 % rule applies (the detail
  says so).
* **Gross of 0** with deductions > 0 is over 20 % (``value`` is NaN).
* ``n`` is the number of payouts in the month.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks._worktime import fmt
from audit.findings import INSUFFICIENT, OK, VIOLATION, count_status, make_findings, overall_status
from audit.logs import AuditLogs
from audit.rules import minimum_wage, thresholds as rule_thresholds

CHECK = "art12.deductions"
LABOR_CONTRACT = "labor_contract"
_EPS = 1e-6  # yuan
EXTRA_COLUMNS = ["gross", "deductions", "net", "employment_form", "region_code", "monthly_minimum",
                 "share_over", "net_below_minimum"]


def check_deductions(logs: AuditLogs, *, thresholds: dict | None = None) -> pd.DataFrame:
    """Deductions of each worker-month against 20 % of gross and the monthly minimum.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs with a payouts table (a workers table for the
        labor-contract rule).
    thresholds : dict, optional
        Override of ``deduction_share_max``.

    Returns
    -------
    DataFrame
        The findings columns (one row per worker-month; ``value`` deductions
        ÷ gross, ``threshold`` the maximum share) plus ``gross``,
        ``deductions``, ``net``, ``employment_form``, ``region_code``,
        ``monthly_minimum``, ``share_over`` and ``net_below_minimum``.
    """
    limits = {**rule_thresholds(), **(thresholds or {})}
    share_max = float(limits["deduction_share_max"])
    p = logs.payouts
    gross = p["gross"].to_numpy(dtype=float)
    ded = p["deductions"].fillna(0.0).to_numpy(dtype=float)
    net = p["net"].to_numpy(dtype=float)
    net = np.where(np.isnan(net), gross - ded, net)
    month = p["period_end"].to_numpy(dtype="datetime64[s]").astype("datetime64[M]")
    m = (pd.DataFrame({"worker_id": p["worker_id"].astype(str).to_numpy(), "month": month,
                       "gross": gross, "deductions": ded, "net": net})
         .groupby(["worker_id", "month"], sort=True)
         .agg(gross=("gross", "sum"), deductions=("deductions", "sum"), net=("net", "sum"),
              payouts=("gross", "size"))
         .reset_index())
    g, d, nt = (m[c].to_numpy() for c in ("gross", "deductions", "net"))
    # a micro-yuan tolerance absorbs float noise of summed money: exactly 20 % is ok
    share_over = d - share_max * g > _EPS

    form = _employment_form(logs, m["worker_id"])
    labor = form == LABOR_CONTRACT
    need_min = labor & (d > 0)
    region = np.full(len(m), None, dtype=object)
    monthly = np.full(len(m), np.nan)
    if need_min.any():
        region[need_min] = _worker_regions(logs, m.loc[need_min, "worker_id"])
        has = need_min & pd.notna(region)
        if has.any():
            first_day = m.loc[has, "month"].to_numpy().astype("datetime64[M]").astype("datetime64[D]")
            monthly[has] = _monthly_minimum(region[has], first_day)
    known_min = ~np.isnan(monthly)
    net_below = need_min & known_min & (nt < np.nan_to_num(monthly) - _EPS)
    undetermined = need_min & ~known_min
    status = np.where(share_over | net_below, VIOLATION, np.where(undetermined, INSUFFICIENT, OK))

    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(g > 0, d / np.where(g > 0, g, 1), np.nan)
    gross, ded, netv = np.round(g, 2), np.round(d, 2), np.round(nt, 2)
    detail = ("deductions " + fmt(ded, "{:.2f}") + " of gross "
              + fmt(gross, "{:.2f}") + " (" + fmt(share * 100, "{:.2f}")
              + " %, max " + f"{share_max * 100:g} %); net " + fmt(netv, "{:.2f}")
              + "; " + m["payouts"].astype(str) + " payout(s) ending in the month")
    extra = np.where(need_min & known_min,
                     "; labor_contract: monthly minimum " + fmt(monthly, "{:.2f}")
                     + np.where(net_below, " not reached", " reached"),
                     np.where(undetermined, "; labor_contract: no region for the monthly minimum",
                              np.where(pd.isna(form), f"; employment form unknown: {share_max * 100:g} % rule only",
                                       "")))
    detail = detail + extra
    months = m["month"].to_numpy().astype("datetime64[M]")
    start = months.astype("datetime64[D]")
    end = (months + np.timedelta64(1, "M")).astype("datetime64[D]") - np.timedelta64(1, "D")
    return make_findings(
        check=CHECK, article=12, level="worker-month", subject=m["worker_id"].to_numpy(),
        period_start=start, period_end=end, metric="deduction_share", value=np.round(share, 6),
        threshold=share_max, unit="share of gross", status=status, n=m["payouts"].to_numpy(),
        detail=detail.to_numpy(), gross=gross, deductions=ded, net=netv,
        employment_form=form,
        region_code=region, monthly_minimum=monthly, share_over=share_over,
        net_below_minimum=net_below,
    )


def _employment_form(logs: AuditLogs, worker_ids: pd.Series) -> np.ndarray:
    """Employment form of each worker id (None when unknown)."""
    w = logs.workers
    if w is None or "employment_form" not in w.columns:
        return np.full(len(worker_ids), None, dtype=object)
    forms = pd.Series(w["employment_form"].to_numpy(dtype=object), index=w["worker_id"].astype(str))
    out = forms.reindex(worker_ids.to_numpy()).to_numpy(dtype=object)
    return np.where(pd.isna(out), None, out)


def _worker_regions(logs: AuditLogs, worker_ids: pd.Series) -> np.ndarray:
    """Region code of each worker (see the module docstring), None when unknown."""
    ids = pd.Index(pd.unique(worker_ids.to_numpy(dtype=object)))
    region = pd.Series(None, index=ids, dtype=object)
    w = logs.workers
    if w is not None and "region_code" in w.columns:
        wr = w[w["region_code"].notna()]
        given = pd.Series(wr["region_code"].to_numpy(dtype=object), index=wr["worker_id"].astype(str))
        region = given.reindex(ids).astype(object)
    missing = region.isna().to_numpy()
    o = logs.completed
    if missing.any() and len(o):
        # only the orders of workers still without a region: a labor_contract subset
        wid = o["worker_id"].astype(str)
        use = wid.isin(ids[missing]).to_numpy()
        counts = (pd.DataFrame({"worker_id": wid.to_numpy()[use],
                                "region_code": o["region_code"].to_numpy(dtype=object)[use]})
                  .dropna().value_counts().rename("k").reset_index()
                  .sort_values(["worker_id", "k", "region_code"], ascending=[True, False, True],
                               kind="stable").drop_duplicates("worker_id"))
        top = pd.Series(counts["region_code"].to_numpy(), index=counts["worker_id"].to_numpy())
        region = region.where(region.notna(), top.reindex(ids).astype(object))
    vals = region.to_numpy(dtype=object)
    if logs.profile.region:
        from audit.rules import resolve_region

        vals = np.where(pd.isna(vals), resolve_region(logs.profile.region), vals)
    vals = pd.Series(np.where(pd.isna(vals), None, vals), index=ids, dtype=object)
    return vals.reindex(worker_ids.to_numpy(dtype=object)).to_numpy(dtype=object)


def _monthly_minimum(region: np.ndarray, first_day: np.ndarray) -> np.ndarray:
    """Monthly minimum wage per (region, day), looked up once per distinct pair."""
    pairs = pd.DataFrame({"region": region, "day": first_day})
    uniq = pairs.drop_duplicates().reset_index(drop=True)
    uniq["monthly"] = minimum_wage(uniq["region"], uniq["day"])["monthly_minimum"].to_numpy(dtype=float)
    return pairs.merge(uniq, on=["region", "day"], how="left")["monthly"].to_numpy(dtype=float)


def summarize(findings: pd.DataFrame) -> dict:
    """Key figures: worker-months assessed and those in violation."""
    counts = count_status(findings["status"])
    return {"status": overall_status(findings["status"]), "n": int(len(findings)),
            "worker_months": int(len(findings)), "violations": counts[VIOLATION],
            "insufficient": counts[INSUFFICIENT]}
