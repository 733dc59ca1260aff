"""Article 19: the platform's cut of what the customer paid.

冀人社规〔2021〕5号 第十九条 and 人社部发〔2021〕56号 put the 抽成比例 (commission)
among the rules to negotiate and publish; 交运发〔2021〕122号 asks platforms to
publish a cap, and the published caps are mostly 18–30 %.

Per order (SPEC §5): take rate = (customer_price − pay − bonus) ÷
customer_price, over completed orders with customer_price > 0 (a zero price
has no rate).  Tips and allowances are not in it (a tip is the customer's,
not the platform's, money).  Reported: the median and the 90th percentile
(``numpy.quantile``'s linear interpolation), each with a 95 %
distribution-free order-statistic interval (binomial ranks,
:func:`metrics.proportions.quantile_ci`; it treats orders as independent).

Status: risk when the 90th percentile exceeds ``take_rate_cap`` (0.30; its
source is quoted in ``detail``), else ok; fewer than ``premium_min_orders``
(30) orders: insufficient_data.  ``value`` is the 90th percentile (the figure
the status rests on); the median is in ``median`` and ``detail``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks._art19 import fmt, limits, merged_period, platform_row, span, threshold_source
from audit.findings import INSUFFICIENT, OK, RISK, overall_status
from audit.logs import AuditLogs
from metrics.proportions import quantile_ci

CHECK = "art19.take_rate"
METRIC = "take_rate_p90"
UNIT = "share of customer price"
NO_PRICES = "no completed order with customer_price > 0"


def check_take_rate(logs: AuditLogs, *, thresholds: dict | None = None) -> pd.DataFrame:
    """Median and 90th percentile of the per-order take rate against the cap.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs (:func:`audit.load_logs`).
    thresholds : dict, optional
        Overrides of ``take_rate_cap``, ``premium_min_orders``, ``ci_level``.

    Returns
    -------
    DataFrame
        One platform finding (``value`` the P90) plus ``ci_low, ci_high``
        (of the P90), ``median, median_ci_low, median_ci_high``,
        ``share_over_cap``.
    """
    return finish_take_rate([partial_take_rate(logs)], logs, thresholds=thresholds)


def partial_take_rate(logs: AuditLogs, *, thresholds: dict | None = None) -> dict:
    """The take rates of a piece of the logs and its first and last acceptance.

    Exact quantiles of a continuous value need the values themselves: 8 bytes
    an order with a price, against the 60–120 of a projection of the orders.
    """
    o = logs.completed
    price = o["customer_price"].to_numpy(dtype=float)
    keep = price > 0
    price = price[keep]
    pay = o["pay"].to_numpy(dtype=float)[keep]
    bonus = o["bonus"].fillna(0.0).to_numpy(dtype=float)[keep]
    accepted = o["accepted_at"][keep]
    return {"rate": (price - pay - bonus) / price, **span(accepted)}


def finish_take_rate(parts: list[dict], logs: AuditLogs, *,
                     thresholds: dict | None = None) -> pd.DataFrame:
    """The finding from the partials of :func:`partial_take_rate` (any order)."""
    lim = limits(thresholds)
    cap, min_n, level = float(lim["take_rate_cap"]), int(lim["premium_min_orders"]), float(lim["ci_level"])
    # quantiles, order statistics and counts do not depend on the order of the values
    rate = np.concatenate([p["rate"] for p in parts]) if parts else np.array([])
    nan = np.nan
    if len(rate) == 0:
        return platform_row(check=CHECK, metric=METRIC, value=nan, threshold=cap, unit=UNIT,
                            status=INSUFFICIENT, n=0, detail=NO_PRICES, first=None, last=None,
                            ci_low=nan, ci_high=nan, median=nan, median_ci_low=nan,
                            median_ci_high=nan, share_over_cap=nan)
    p90 = quantile_ci(rate, 0.9, level=level)
    med = quantile_ci(rate, 0.5, level=level)
    over = float(np.count_nonzero(rate > cap) / len(rate))
    if len(rate) < min_n:
        status, why = INSUFFICIENT, f"fewer than {min_n} orders with a price; "
    else:
        status, why = (RISK if p90["estimate"] > cap else OK), ""
    first, last = merged_period(parts)
    detail = (f"{why}P90 {fmt(p90['estimate'])} (95% CI [{fmt(p90['ci_low'])}, "
              f"{fmt(p90['ci_high'])}]), median {fmt(med['estimate'])} (95% CI "
              f"[{fmt(med['ci_low'])}, {fmt(med['ci_high'])}]), order-statistic intervals; "
              f"{over:.2%} of {len(rate)} orders over the cap {cap:g}; cap: "
              f"{threshold_source('take_rate_cap')}")
    return platform_row(check=CHECK, metric=METRIC, value=round(p90["estimate"], 6), threshold=cap,
                        unit=UNIT, status=status, n=len(rate), detail=detail, first=first,
                        last=last, ci_low=p90["ci_low"], ci_high=p90["ci_high"],
                        median=med["estimate"], median_ci_low=med["ci_low"],
                        median_ci_high=med["ci_high"], share_over_cap=over)


def summarize(findings: pd.DataFrame) -> dict:
    """Key figures: the P90 under ``value`` (with CI) and the median."""
    r = findings.iloc[0]

    def num(x, d=6):
        return None if pd.isna(x) else round(float(x), d)

    return {"status": overall_status(findings["status"]), "n": int(r["n"]), "value": num(r["value"]),
            "ci_low": num(r["ci_low"]), "ci_high": num(r["ci_high"]), "median": num(r["median"]),
            "median_ci_low": num(r["median_ci_low"]), "median_ci_high": num(r["median_ci_high"]),
            "share_over_cap": num(r["share_over_cap"])}
