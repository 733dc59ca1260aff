"""Article 12: pay not below the local minimum wage for normal work.

冀人社规〔2021〕5号 第十二条: "对按照签订的书面协议提供正常劳动的劳动者支付报酬
不得低于当地最低工资标准。"  Measured per worker-week (SPEC §4–5):

* earnings = Σ (pay + bonus − penalty) of completed orders *accepted* in the
  week (tips and allowances excluded);
* hours = the union of the worker's sessions (``online``) or of the order
  intervals ``[accepted_at, delivered_at]`` (``engaged``) inside the week,
  overlapping intervals merged, intervals cut at Monday 00:00;
* the hourly (非全日制) minimum of the region where the work was done, in
  force on the week's Monday.

Decisions the SPEC leaves open, taken here:

* **Region of a worker-week.**  Sessions carry no region, so the week's
  region is where most of its completed orders were accepted; a tie goes to
  the region with the higher minimum (the protective reading).  A week with
  online time but no orders takes the worker's region from the workers
  table, else the worker's most frequent order region, else the profile's
  default region; with none of these it is insufficient_data.
* **Weeks counted.**  Every worker-week with online (or engaged) time or a
  completed order.  Under 2 hours (the rules table's ``min_online_hours_week``)
  is insufficient_data: a rate over a few minutes means little.
* **Shortfall** = minimum × hours − earnings, for violations only.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from audit.checks._common import engaged_arrays, time_arrays, to_dates, worker_index
from audit.findings import INSUFFICIENT, OK, VIOLATION, count_status, make_findings, overall_status
from audit.logs import AuditLogs
from audit.rules import minimum_wage, thresholds as rule_thresholds
from metrics.earnings import hourly_earnings, hours_by_period, sum_by_period

CHECK_ONLINE = "art12.minimum_wage"
CHECK_ENGAGED = "art12.minimum_wage_engaged"
EXTRA_COLUMNS = ["hours", "earnings", "hourly_minimum", "shortfall_cny", "region_code", "rule_id",
                 "rule_status", "time_base"]


def check_minimum_wage(logs: AuditLogs, *, time_base: Literal["online", "engaged"] = "online",
                       thresholds: dict | None = None) -> pd.DataFrame:
    """Earnings per hour of each worker-week against the hourly minimum wage.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs (:func:`audit.load_logs`).
    time_base : {"online", "engaged"}
        ``online`` is art12.minimum_wage (sessions; engaged time when there
        is no sessions table, said in ``detail``); ``engaged`` is
        art12.minimum_wage_engaged, the lenient bound.
    thresholds : dict, optional
        Overrides of the rules table's thresholds (``min_online_hours_week``).

    Returns
    -------
    DataFrame
        The findings columns (one row per worker-week; ``value`` is earnings
        per hour in CNY, ``threshold`` the hourly minimum, ``n`` the week's
        completed orders) plus ``hours, earnings, hourly_minimum,
        shortfall_cny, region_code, rule_id, rule_status, time_base``.
    """
    if time_base not in ("online", "engaged"):
        raise ValueError("The 'time_base' parameter of check_minimum_wage must be a str among "
                         f"{{'online', 'engaged'}}. Got {time_base!r} instead.")
    limits = {**rule_thresholds(), **(thresholds or {})}
    min_hours = float(limits["min_online_hours_week"])
    check = CHECK_ONLINE if time_base == "online" else CHECK_ENGAGED
    (tg, ts, te), note = time_arrays(logs, time_base)
    base = "engaged" if (time_base == "engaged" or note) else "online"

    o = logs.completed
    og, oacc, _ = engaged_arrays(logs)
    money = (o["pay"] + o["bonus"] - o["penalty"]).to_numpy(dtype=float)
    earn = sum_by_period(og, oacc, {"earnings": money}, "week")
    hours = hours_by_period(tg, ts, te, "week")
    wk = hourly_earnings(earn, hours)
    if wk.empty:
        return make_findings(check=check, article=12, level="worker-week", subject=[], period_start=[],
                             period_end=[], metric="", value=[], threshold=[], unit="CNY/h",
                             status=[], n=[], detail=[], **{c: [] for c in EXTRA_COLUMNS})

    wk["region_code"] = _week_regions(logs, og, oacc, o, wk)
    monday = to_dates(wk["period_start"].to_numpy())
    has_region = wk["region_code"].notna().to_numpy()
    mw = pd.DataFrame({"hourly_minimum": np.nan, "rule_id": None, "status": None}, index=wk.index)
    if has_region.any():
        found = minimum_wage(wk.loc[has_region, "region_code"], pd.Series(monday[has_region],
                                                                          index=wk.index[has_region]))
        mw.loc[has_region, ["hourly_minimum", "rule_id", "status"]] = \
            found[["hourly_minimum", "rule_id", "status"]].to_numpy()
    wk["hourly_minimum"] = mw["hourly_minimum"].astype(float)

    enough = (wk["hours"] >= min_hours).to_numpy() & has_region
    below = enough & (wk["per_hour"] < wk["hourly_minimum"]).to_numpy()
    status = np.where(~enough, INSUFFICIENT, np.where(below, VIOLATION, OK))
    shortfall = np.where(below, wk["hourly_minimum"] * wk["hours"] - wk["earnings"], 0.0)

    metric = "earnings_per_engaged_hour" if base == "engaged" else "earnings_per_online_hour"
    why = np.where(~has_region, "no region for this week; ",
                   np.where(wk["hours"] < min_hours, f"under {min_hours:g} h in the week; ", ""))
    detail = (pd.Series(why) + f"{base}_h=" + wk["hours"].map("{:.4f}".format)
              + "; earnings=" + wk["earnings"].map("{:.2f}".format)
              + "; shortfall=" + pd.Series(shortfall).map("{:.2f}".format)
              + "; region=" + wk["region_code"].fillna("").astype(str)
              + "; rule=" + mw["rule_id"].fillna("").astype(str)
              + np.where(mw["status"].fillna("").astype(str) == "U", " (unverified)", ""))
    if note:
        detail = detail + "; " + note
    idx = worker_index(logs)
    return make_findings(
        check=check, article=12, level="worker-week",
        subject=idx.names(wk["group"].to_numpy()),
        period_start=monday, period_end=monday + np.timedelta64(6, "D"),
        metric=metric, value=wk["per_hour"].round(4).to_numpy(),
        threshold=wk["hourly_minimum"].to_numpy(), unit="CNY/h", status=status,
        n=wk["n"].to_numpy(), detail=detail.to_numpy(),
        hours=wk["hours"].to_numpy(), earnings=wk["earnings"].to_numpy(),
        hourly_minimum=wk["hourly_minimum"].to_numpy(), shortfall_cny=shortfall,
        region_code=wk["region_code"].to_numpy(), rule_id=mw["rule_id"].to_numpy(),
        rule_status=mw["status"].to_numpy(), time_base=base,
    )


def _week_regions(logs: AuditLogs, og: np.ndarray, oacc: np.ndarray, o: pd.DataFrame,
                  wk: pd.DataFrame) -> np.ndarray:
    """Region code of each worker-week (see the module docstring)."""
    from metrics.intervals import period_bound, period_index

    week = period_bound(period_index(oacc, "week"), "week")
    region = pd.Series(o["region_code"].to_numpy(dtype=object), dtype=object)  # no str inference
    counts = (pd.DataFrame({"group": og, "period_start": week, "region_code": region})
              .groupby(["group", "period_start", "region_code"], sort=True).size()
              .rename("orders").reset_index())
    counts["hourly"] = minimum_wage(counts["region_code"], pd.Series(
        to_dates(counts["period_start"].to_numpy()), index=counts.index))["hourly_minimum"].to_numpy()
    top = (counts.sort_values(["group", "period_start", "orders", "hourly"],
                              ascending=[True, True, False, False], kind="stable")
           .drop_duplicates(["group", "period_start"]))
    out = wk[["group", "period_start"]].merge(top[["group", "period_start", "region_code"]],
                                              on=["group", "period_start"], how="left")["region_code"]
    missing = out.isna().to_numpy()
    if missing.any():
        fallback = pd.Series(None, index=np.arange(len(worker_index(logs).ids)), dtype=object)
        overall = (pd.DataFrame({"group": og, "region_code": o["region_code"].to_numpy()})
                   .value_counts().reset_index().sort_values(["group", "count"], ascending=[True, False],
                                                            kind="stable").drop_duplicates("group"))
        fallback[overall["group"].to_numpy()] = overall["region_code"].to_numpy()
        if logs.workers is not None and "region_code" in logs.workers:
            w = logs.workers[logs.workers["region_code"].notna()]
            fallback[worker_index(logs).codes(w["worker_id"])] = w["region_code"].to_numpy()
        vals = fallback.to_numpy()[wk["group"].to_numpy()[missing]]
        if logs.profile.region:
            from audit.rules import resolve_region

            default = resolve_region(logs.profile.region)
            vals = np.where(pd.isna(vals), default, vals)
        out = out.astype(object)
        out[missing] = vals
    return out.to_numpy()


def summarize(findings: pd.DataFrame) -> dict:
    """Key figures of SPEC §6 for art12.minimum_wage(_engaged)."""
    counts = count_status(findings["status"])
    assessed = counts[VIOLATION] + counts[OK]
    below = counts[VIOLATION]
    return {
        "status": overall_status(findings["status"]),
        "n": int(assessed),
        "worker_periods": int(assessed),
        "insufficient": int(counts[INSUFFICIENT]),
        "below_minimum": int(below),
        "share_below": round(below / assessed, 6) if assessed else None,
        "shortfall_cny": round(float(findings["shortfall_cny"].sum()), 2),
    }

