"""Article 19: where the platform's deadline sits among actual delivery times.

冀人社规〔2021〕5号 第十九条 and the 2021 SAMR guideline forbid the "strictest
algorithm" (最严算法) and ask for deadlines set "from the middle" (算法取中).
This check reads that literally: a deadline that most riders need more time
than is stricter than the middle.

Method (SPEC §5):

* Orders: completed, with ``promised_at``, ``delivered_at`` and
  ``distance_km``.  allowance = promised_at − accepted_at, actual =
  delivered_at − accepted_at, both in whole seconds (timestamps truncated to
  the second).
* Comparable orders: the cell region × distance band
  ``floor(distance_km / distance_band_km)`` × hour of day of accepted_at.
  Cells with fewer than ``deadline_cell_min_orders`` (20) orders are left
  out (their orders get no percentile).
* An order's percentile = 100 × (share of the cell's actual durations
  strictly below its allowance + 0.5 × share equal to it): the **mid-rank**
  convention, over the cell *including the order itself*.  E.g. a cell of
  20 orders with actual durations 1..20 min and an allowance of exactly
  10 min: (9 + 0.5) / 20 = 47.5.
* The cell distributions are integer-second histograms
  (:mod:`metrics.histograms`), which merge exactly across partitions of the
  data; the percentiles are read from them.
* Platform value: the median of the order percentiles (``numpy.median``:
  the mean of the two middle values for an even count).  95 % CI: a
  **cluster bootstrap by worker** (Poisson(1) weight per worker, 199
  replicates, fixed seed, percentile interval) of the median, holding the
  cell distributions fixed (the reference distributions' own sampling
  error is not propagated).
* Region rows: the same per region code, so a region with tight deadlines
  shows even when the platform median is fine.

Status: violation below ``deadline_pct_violation`` (50), risk below
``deadline_pct_risk`` (60), else ok; fewer than ``premium_min_orders`` (30)
orders in assessable cells: insufficient_data.

:func:`deadline_cells` gives the per-cell table (n, median actual and median
allowance in minutes) for the report chart "allowance against actual
duration by distance band, with the median line".
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks._art19 import PLATFORM, deadline_frame, fmt, limits, period, platform_row
from audit.findings import INSUFFICIENT, OK, RISK, VIOLATION, overall_status
from audit.logs import AuditLogs
from metrics.histograms import IntHistogram, cell_quantiles, int_histogram, percentile_of_values
from metrics.proportions import cluster_bootstrap_median

CHECK = "art19.deadline_percentile"
METRIC = "median_deadline_percentile"
UNIT = "percentile (0-100)"
EXTRA = ["ci_low", "ci_high", "cells", "orders_in_small_cells"]
KEYS = ("region_code", "band", "hour")
NO_ORDERS = "no completed order has promised_at, delivered_at and distance_km"
BOOT_REPS = 199
BOOT_SEED = 19


def duration_histograms(logs: AuditLogs, *, thresholds: dict | None = None
                        ) -> tuple[IntHistogram, IntHistogram]:
    """Histograms of actual durations and of allowances (whole seconds) per cell.

    Cells are region_code × distance band × hour of acceptance.  Both merge
    exactly across partitions of the data (:func:`metrics.histograms.merge`).
    """
    f = deadline_frame(logs, float(limits(thresholds)["distance_band_km"]))
    return (int_histogram(f, KEYS, "actual_s"), int_histogram(f, KEYS, "allowance_s"))


def order_percentiles(logs: AuditLogs, *, thresholds: dict | None = None) -> pd.DataFrame:
    """The deadline frame with each order's mid-rank ``percentile`` and ``cell_n``.

    ``percentile`` is NaN for orders in cells under ``deadline_cell_min_orders``.
    """
    lim = limits(thresholds)
    f = deadline_frame(logs, float(lim["distance_band_km"]))
    actual, _ = duration_histograms(logs, thresholds=thresholds)
    pct = percentile_of_values(actual, f, "allowance_s")
    n = actual.cells().set_index(list(KEYS))["n"]
    cell_n = n.reindex(pd.MultiIndex.from_frame(f[list(KEYS)])).to_numpy()
    small = cell_n < int(lim["deadline_cell_min_orders"])
    return f.assign(cell_n=cell_n, percentile=np.where(small, np.nan, pct))


def deadline_cells(logs: AuditLogs, *, thresholds: dict | None = None) -> pd.DataFrame:
    """Per cell: n, median actual and median allowance (minutes), for the report chart.

    Returns
    -------
    DataFrame
        ``region_code, band, hour, distance_from_km, distance_to_km, n,
        median_actual_min, median_allowance_min, included`` (``included``:
        the cell has at least ``deadline_cell_min_orders`` orders).
        Medians interpolate like ``numpy.median``.
    """
    lim = limits(thresholds)
    band = float(lim["distance_band_km"])
    actual, allowance = duration_histograms(logs, thresholds=thresholds)
    a = cell_quantiles(actual, 0.5)
    b = cell_quantiles(allowance, 0.5).rename(columns={"quantile": "allow"})
    out = a.merge(b[[*KEYS, "allow"]], on=list(KEYS), how="left")
    return pd.DataFrame({
        "region_code": out["region_code"].to_numpy(), "band": out["band"].to_numpy(),
        "hour": out["hour"].to_numpy(),
        "distance_from_km": out["band"].to_numpy() * band,
        "distance_to_km": (out["band"].to_numpy() + 1) * band,
        "n": out["n"].to_numpy(),
        "median_actual_min": out["quantile"].to_numpy() / 60.0,
        "median_allowance_min": out["allow"].to_numpy() / 60.0,
        "included": out["n"].to_numpy() >= int(lim["deadline_cell_min_orders"]),
    })


def check_deadline_percentile(logs: AuditLogs, *, thresholds: dict | None = None,
                              bootstrap_reps: int = BOOT_REPS, seed: int = BOOT_SEED
                              ) -> pd.DataFrame:
    """Median percentile of the deadline among comparable actual durations.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs (:func:`audit.load_logs`).
    thresholds : dict, optional
        Overrides of ``deadline_pct_violation``, ``deadline_pct_risk``,
        ``deadline_cell_min_orders``, ``distance_band_km``,
        ``premium_min_orders``, ``ci_level``.
    bootstrap_reps, seed : int
        Worker-cluster bootstrap replicates and seed of the CI.

    Returns
    -------
    DataFrame
        Findings: one platform row and one per region (``value`` the median
        percentile, ``n`` the orders in assessable cells) plus ``ci_low,
        ci_high, cells`` (assessable cells) and ``orders_in_small_cells``.
    """
    lim = limits(thresholds)
    viol, risk = float(lim["deadline_pct_violation"]), float(lim["deadline_pct_risk"])
    min_n, min_cell = int(lim["premium_min_orders"]), int(lim["deadline_cell_min_orders"])
    level = float(lim["ci_level"])
    f = order_percentiles(logs, thresholds=thresholds)
    if f.empty:
        return platform_row(check=CHECK, metric=METRIC, value=np.nan, threshold=viol, unit=UNIT,
                            status=INSUFFICIENT, n=0, detail=NO_ORDERS, first=None, last=None,
                            ci_low=np.nan, ci_high=np.nan, cells=0, orders_in_small_cells=0)
    first, last = period(pd.Series(f["accepted_at"]))
    rows = [_row(f, np.ones(len(f), bool), PLATFORM, "platform", viol, risk, min_n, min_cell, level,
                 bootstrap_reps, seed, first, last)]
    region, names = pd.factorize(f["region_code"], sort=True)
    for code, name in enumerate(names):  # a handful of regions
        rows.append(_row(f, region == code, str(name), "region", viol, risk, min_n, min_cell, level,
                         bootstrap_reps, seed, first, last))
    return pd.concat(rows, ignore_index=True)


def _row(f: pd.DataFrame, sel: np.ndarray, subject: str, level_name: str, viol: float, risk: float,
         min_n: int, min_cell: int, level: float, reps: int, seed: int, first, last) -> pd.DataFrame:
    sub = f[sel]
    pct = sub["percentile"].to_numpy()
    ok = ~np.isnan(pct)
    n, small = int(ok.sum()), int((~ok).sum())
    cells = int(sub.loc[ok, "cell"].nunique())
    if n >= min_n:
        value = float(np.median(pct[ok]))
        lo, hi = cluster_bootstrap_median(pct[ok], sub["worker"].to_numpy()[ok], reps=reps,
                                          seed=seed, level=level)
        status = VIOLATION if value < viol else RISK if value < risk else OK
        why = ""
    else:
        value, lo, hi, status = np.nan, np.nan, np.nan, INSUFFICIENT
        why = f"fewer than {min_n} orders in cells of at least {min_cell} orders; "
    below = float(np.mean(pct[ok] < 50)) if n else np.nan
    detail = (f"{why}{n} orders in {cells} cells (region x distance band x hour) of at least "
              f"{min_cell} orders, {small} orders in smaller cells left out; mid-rank percentile; "
              f"share of orders with a deadline below the cell median actual: {fmt(below)}; "
              f"95% CI [{fmt(lo, 2)}, {fmt(hi, 2)}] (worker-cluster bootstrap, {reps} replicates)")
    return platform_row(check=CHECK, metric=METRIC, value=round(value, 4) if n >= min_n else value,
                        threshold=viol, unit=UNIT, status=status, n=n, detail=detail, first=first,
                        last=last, level=level_name, subject=subject, ci_low=lo, ci_high=hi,
                        cells=cells, orders_in_small_cells=small)


def summarize(findings: pd.DataFrame) -> dict:
    """Key figures: the platform median percentile under ``value``, its CI, regions flagged."""
    plat = findings[findings["level"] == "platform"].iloc[0]
    reg = findings[findings["level"] == "region"]

    def num(x, d=4):
        return None if pd.isna(x) else round(float(x), d)

    return {
        "status": overall_status(findings["status"]),
        "n": int(plat["n"]),
        "value": num(plat["value"]),
        "ci_low": num(plat["ci_low"]),
        "ci_high": num(plat["ci_high"]),
        "platform_status": str(plat["status"]),
        "cells": int(plat["cells"]),
        "regions_violation": sorted(reg.loc[reg["status"] == VIOLATION, "subject"].astype(str)),
        "regions_risk": sorted(reg.loc[reg["status"] == RISK, "subject"].astype(str)),
    }
