"""Article 19: a change of the pay formula that nobody was told about.

冀人社规〔2021〕5号 第十九条 and 人社部发〔2021〕56号 ask platforms to consult
workers on piece rates (计件单价) and pay formulas (报酬构成) and to publish
them.  A silent change shows in the orders themselves: the pay of the same
order (same distance, same hour of day) shifts from one day on.  The Shipt
calculator (Calacci & Pentland) found such changes by hand; this check finds
them with a structural-break test (:mod:`metrics.structural_break`).

Method
------
``pay ~ distance_km + hour-of-day FE``, with a shift of the intercept and of
the per-km rate from a break day on, over completed orders with a distance.
Every day with orders is a candidate break date except the first and last
``break_trim`` (15 %) of them; the break date is the least-squares date (the
largest homoskedastic sup-F of Andrews 1993).  Its **p-value** is that of
the worker-clustered sup-LM statistic against Andrews' limiting distribution,
simulated on the actual grid of candidate dates (10 000 draws, fixed seed);
it is not a permutation of dates (days are not exchangeable when pay
trends).  Rates before and after come from the fit at the break date with
standard errors clustered by worker.

Findings
--------
* One **platform** row: ``value`` = change of the per-km rate, % of the
  rate before (CI by the delta method); ``threshold`` = the p-value cut-off
  ``pay_rule_change_p``.  Status **risk** when p < ``pay_rule_change_p`` and
  the new formula pays less (per km, or for the average order taken after
  the break); **ok** otherwise — a significant change that pays more is ok
  and says so (it still should have been consulted on);
  **insufficient_data** with fewer than ``premium_min_orders`` orders on a
  side of every candidate date.
* When the change is significant, one **worker** row per worker who earns
  less under the new formula: for the orders the worker took from the break
  day on, the predicted pay under the new formula minus under the old one
  (same orders, same hours), as % of the old (``value``), its 95 % CI per
  order, the CNY lost, and the observed pay per km before and after with
  the order counts.  A worker is listed when the CI of the change per order
  lies below 0.

The per-day sufficient statistics keep the date scan cheap at tens of
millions of orders (one pass for the moments, one for the clustered scores).

Partitions
----------
:func:`partial_pay_rule_change` reduces a piece holding whole workers to
:class:`metrics.structural_break.BreakCells`, keyed by worker id: per
(worker, day, hour) the orders, Σkm and Σpay, per (worker, day) Σkm²,
Σkm·pay and Σpay² (the hour is needed per worker-day: the fitted hour
effects enter each worker's clustered scores; about 18 bytes a cell and 27
a worker-day, 7 bytes an order on the generated logs).  No float is added
across workers in a partial.  :func:`finish_pay_rule_change` merges the
pieces in canonical order (worker id, day, hour) and runs the test on the
cells (:func:`metrics.structural_break.pay_break_test_cells`), so the
findings do not depend on the partitioning; the null simulation depends
only on the candidate grid (integer counts) and the seed.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks._common import worker_index
from audit.findings import INSUFFICIENT, OK, RISK, count_status, insufficient_finding, make_findings, \
    overall_status
from audit.logs import AuditLogs
from audit.rules import thresholds as rule_thresholds
from metrics.intervals import to_seconds
from metrics.structural_break import BreakCells, pay_break_test_cells, worker_change_cells

CHECK = "art19.pay_rule_change"
ARTICLE = 19
TOO_FEW = ("fewer than {min_n} orders with a distance on one side of every candidate break date "
           "({n} orders over {days} days)")
SINGULAR = ("the pay model cannot be fitted on one side of a candidate date "
            "(e.g. a single distance or hour there)")
EXTRA_COLUMNS = ["break_date", "p_value", "sup_lm", "sup_f", "crit_5", "ci_low", "ci_high",
                 "rate_before", "rate_before_ci_low", "rate_before_ci_high",
                 "rate_after", "rate_after_ci_low", "rate_after_ci_high",
                 "intercept_before", "intercept_after", "mean_pay_change",
                 "n_before", "n_after", "change_cny", "pay_per_km_before", "pay_per_km_after"]


def check_pay_rule_change(logs: AuditLogs, *, thresholds: dict | None = None, reps: int = 10_000,
                          seed: int = 20251001) -> pd.DataFrame:
    """Detect an unannounced change of the per-order pay formula.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs with ``orders.pay`` and ``orders.distance_km``.
    thresholds : dict, optional
        Overrides of ``pay_rule_change_p``, ``break_trim``,
        ``premium_min_orders``, ``ci_level``.
    reps, seed : int
        Draws and seed of the simulated null distribution of sup-LM.

    Returns
    -------
    DataFrame
        Findings (one platform row, plus one row per worker who loses) with
        the extra columns ``break_date, p_value, sup_lm, sup_f, crit_5,
        ci_low, ci_high, rate_before(_ci_low/_ci_high),
        rate_after(_ci_low/_ci_high), intercept_before, intercept_after,
        mean_pay_change, n_before, n_after, change_cny, pay_per_km_before,
        pay_per_km_after``.
    """
    return finish_pay_rule_change([partial_pay_rule_change(logs, thresholds=thresholds)], logs,
                                  thresholds=thresholds, reps=reps, seed=seed)


def partial_pay_rule_change(logs: AuditLogs, *, thresholds: dict | None = None,
                            **options) -> BreakCells:
    """The break test's sums of a piece of the logs holding whole workers.

    Per (worker, day, hour): orders, Σkm, Σpay; per (worker, day): Σkm²,
    Σkm·pay, Σpay² (:class:`metrics.structural_break.BreakCells`), keyed by
    worker id.  Each sum covers one worker's orders, so no float is added
    across workers here.
    """
    o = logs.completed
    keep = o["distance_km"].notna().to_numpy() & o["pay"].notna().to_numpy()
    sec = to_seconds(o["accepted_at"])[keep]
    day, hour = sec // 86_400, (sec % 86_400) // 3_600
    idx = worker_index(logs)
    g = idx.codes(o["worker_id"])[keep]
    return BreakCells.from_orders(day, hour, o["distance_km"].to_numpy(float)[keep],
                                  o["pay"].to_numpy(float)[keep], g, labels=idx.ids).narrow()


def finish_pay_rule_change(parts: list[BreakCells], logs: AuditLogs, *, thresholds: dict | None = None,
                           reps: int = 10_000, seed: int = 20251001) -> pd.DataFrame:
    """The findings from the partials of :func:`partial_pay_rule_change` (any order)."""
    limits = {**rule_thresholds(), **(thresholds or {})}
    p_cut = float(limits["pay_rule_change_p"])
    min_n = int(limits["premium_min_orders"])
    cells = BreakCells.merge(parts)  # canonical order: worker id, day, hour
    n_orders = cells.n_orders
    res, reason = None, TOO_FEW.format(min_n=min_n, n=n_orders, days=len(np.unique(cells.day)))
    if n_orders >= 2 * min_n:
        try:
            res = pay_break_test_cells(cells, trim=float(limits["break_trim"]), min_side=min_n,
                                       ci_level=float(limits["ci_level"]), reps=reps, seed=seed)
        except np.linalg.LinAlgError:
            reason = SINGULAR
    if res is None:
        f = insufficient_finding(check=CHECK, article=ARTICLE, level="platform", reason=reason,
                                 metric="per_km_rate_change_pct", unit="%")
        f["n"] = np.int64(n_orders)
        for c in EXTRA_COLUMNS:
            f[c] = np.nan
        return f

    est = res.estimates
    first = np.datetime64(int(cells.day.min()), "D")
    last = np.datetime64(int(cells.day.max()), "D")
    brk = np.datetime64(res.break_day, "D")
    significant = res.p_value < p_cut
    falls = est.loc["slope_change", "estimate"] < 0 or est.loc["mean_pay_change", "estimate"] < 0
    status = RISK if significant and falls else OK
    r = est.loc["rate_change_pct"]
    verdict = ("significant change of the pay formula" if significant
               else "no significant change of the pay formula")
    if significant and not falls:
        verdict += " (pays more; check it was consulted)"
    detail = (f"{verdict}: most likely break {brk} (least-squares date; sup-F {res.sup_f:.1f}); "
              f"worker-clustered sup-LM {res.sup_lm:.2f}, p={res.p_value:.4f} against Andrews' limit "
              f"simulated on the {len(res.scan)} candidate dates ({res.reps} draws; 5 % critical value "
              f"{res.crit_5:.2f}); per km {_ci(est, 'slope_before', 3)} → {_ci(est, 'slope_after', 3)} CNY; "
              f"0-km base {_ci(est, 'intercept_before', 2)} → {_ci(est, 'intercept_after', 2)} CNY; "
              f"average post-break order {_ci(est, 'mean_pay_change', 3)} CNY; "
              f"orders {res.n_before} before, {res.n_after} after, {res.n_clusters} workers")
    sw = est.loc
    platform = make_findings(
        check=CHECK, article=ARTICLE, level="platform", subject=["platform"],
        period_start=[first], period_end=[last], metric="per_km_rate_change_pct",
        value=[round(float(r["estimate"]), 4)], threshold=[p_cut], unit="%", status=[status],
        n=[res.n], detail=[detail],
        break_date=[str(brk)], p_value=[res.p_value], sup_lm=[res.sup_lm], sup_f=[res.sup_f],
        crit_5=[res.crit_5], ci_low=[float(r["ci_low"])], ci_high=[float(r["ci_high"])],
        rate_before=[sw["slope_before", "estimate"]], rate_before_ci_low=[sw["slope_before", "ci_low"]],
        rate_before_ci_high=[sw["slope_before", "ci_high"]],
        rate_after=[sw["slope_after", "estimate"]], rate_after_ci_low=[sw["slope_after", "ci_low"]],
        rate_after_ci_high=[sw["slope_after", "ci_high"]],
        intercept_before=[sw["intercept_before", "estimate"]],
        intercept_after=[sw["intercept_after", "estimate"]],
        mean_pay_change=[sw["mean_pay_change", "estimate"]],
        n_before=[res.n_before], n_after=[res.n_after], change_cny=[np.nan],
        pay_per_km_before=[np.nan], pay_per_km_after=[np.nan],
    )
    if not significant:
        return platform

    w = worker_change_cells(res, cells)
    w = w[w["ci_high"] < 0]
    if w.empty:
        return platform
    wdetail = ("new formula pays " + w["change_per_order"].map("{:+.3f}".format) + " CNY per order ["
               + w["ci_low"].map("{:.3f}".format) + ", " + w["ci_high"].map("{:.3f}".format)
               + "] on the worker's " + w["n_after"].astype(str) + " orders since " + str(brk)
               + " (mean " + w["km_mean_after"].map("{:.2f}".format) + " km): "
               + w["change_cny"].map("{:.2f}".format) + " CNY in all; observed pay per km "
               + w["pay_per_km_before"].map("{:.3f}".format) + " (" + w["n_before"].astype(str)
               + " orders) → " + w["pay_per_km_after"].map("{:.3f}".format))
    workers = make_findings(
        check=CHECK, article=ARTICLE, level="worker", subject=w["cluster"].to_numpy(dtype=object),
        period_start=np.full(len(w), brk), period_end=np.full(len(w), last),
        metric="pay_change_pct_same_orders", value=w["change_pct"].round(4).to_numpy(),
        threshold=np.nan, unit="%", status=RISK, n=w["n_after"].to_numpy(), detail=wdetail.to_numpy(),
        break_date=str(brk), p_value=res.p_value, sup_lm=np.nan, sup_f=np.nan, crit_5=np.nan,
        ci_low=w["ci_low"].to_numpy(), ci_high=w["ci_high"].to_numpy(),
        rate_before=np.nan, rate_before_ci_low=np.nan, rate_before_ci_high=np.nan,
        rate_after=np.nan, rate_after_ci_low=np.nan, rate_after_ci_high=np.nan,
        intercept_before=np.nan, intercept_after=np.nan,
        mean_pay_change=w["change_per_order"].to_numpy(),
        n_before=w["n_before"].to_numpy(), n_after=w["n_after"].to_numpy(),
        change_cny=w["change_cny"].to_numpy(), pay_per_km_before=w["pay_per_km_before"].to_numpy(),
        pay_per_km_after=w["pay_per_km_after"].to_numpy(),
    )
    return pd.concat([platform, workers], ignore_index=True)


def _ci(est: pd.DataFrame, name: str, digits: int) -> str:
    r = est.loc[name]
    return f"{r['estimate']:.{digits}f} [{r['ci_low']:.{digits}f}, {r['ci_high']:.{digits}f}]"


def summarize(findings: pd.DataFrame) -> dict:
    """Key figures: the per-km rate change % (``value``) and the break's evidence."""
    plat = findings[findings["level"] == "platform"]
    workers = findings[findings["level"] == "worker"]
    if plat.empty:
        return {"status": INSUFFICIENT, "n": 0, "value": None}
    p = plat.iloc[0]

    def num(x, digits=6):
        return None if pd.isna(x) else round(float(x), digits)

    return {
        "status": overall_status(plat["status"]),
        "n": int(p["n"]),
        "value": num(p["value"], 4),
        "ci_low": num(p.get("ci_low"), 4),
        "ci_high": num(p.get("ci_high"), 4),
        "threshold": num(p["threshold"]),
        "p_value": num(p.get("p_value")),
        "break_date": None if pd.isna(p.get("break_date")) else str(p["break_date"]),
        "rate_before": num(p.get("rate_before"), 4),
        "rate_after": num(p.get("rate_after"), 4),
        "workers_losing": int(count_status(workers["status"])[RISK]),
        "loss_cny": round(float(-workers["change_cny"].sum()), 2) if len(workers) else 0.0,
    }
