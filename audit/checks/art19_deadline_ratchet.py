"""Article 19: are deadlines for comparable orders being tightened over time?

Riders describe the ratchet of the strictest algorithm: the time allowed for
a 3 km delivery cut from 60 to 45 to 38 minutes as riders got faster
(人物 2020, "外卖骑手，困在系统里").  冀人社规〔2021〕5号 第十九条 asks for
deadlines set from the middle (算法取中) and loosened where needed.

Model (SPEC §5): ordinary least squares of log(allowance) (allowance =
promised_at − accepted_at, whole seconds, orders with allowance > 0) on
t = days since the start of the audit period (00:00 of the first day with
an accepted order, ``logs.period``) ÷ 30, with fixed effects of the cell
region × distance band (``distance_band_km``) × hour of acceptance.
The cells are *interacted* (one effect per cell, the within estimator),
which nests the SPEC's additive distance-band and hour effects and also
holds the region mix fixed, so a shift of orders towards a tight region is
not read as a trend.  Standard errors are cluster-robust by worker (CR1,
small-sample factor G/(G−1) × (N−1)/(N−K)) with t(G−1) inference; the
estimator is computed from per (worker, cell) sums
(:func:`metrics.suffstats.trend_stats`), which merge across partitions,
and equals statsmodels' OLS with cell dummies (tested).

``value`` = the slope in log points per 30 days; ``pct_per_30d`` =
100 × (exp(slope) − 1).  Status: risk when the slope is negative with
p < ``ratchet_p`` (0.05); ok otherwise; fewer than ``premium_min_orders``
(30) orders, fewer than 2 workers, or no variation of time within cells:
insufficient_data.

Partitions (map/merge split, SPEC §8): :func:`partial_deadline_ratchet`
takes, in a piece of the logs holding whole workers, the sums n, Σt, Σy,
Σt², Σty per (worker id, region × band × hour) block
(:func:`metrics.suffstats.keyed_trend_stats`, 38 bytes a block: floats
summed within one worker only) and the first and last acceptance;
:func:`finish_deadline_ratchet` codes workers by sorted id and cells by
sorted key, puts the blocks in that canonical order
(:func:`metrics.suffstats.merge_keyed_trend_stats`) and only then fits, so
the sums across workers do not depend on the partitioning.  The origin of
t is the period's first day, which every partition knows, rather than the
first such order (known only from all the data, which the toolkit used
before): the within-cell slope and its SE do not depend on the origin,
only their last bits do.  The span in ``detail`` is still from the first
to the last such order.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks._art19 import deadline_frame, fmt, limits, period, platform_row, span
from audit.checks._common import worker_index
from audit.findings import INSUFFICIENT, OK, RISK, overall_status
from audit.logs import AuditLogs
from metrics.suffstats import fit_trend, keyed_trend_stats, merge_keyed_trend_stats

CHECK = "art19.deadline_ratchet"
METRIC = "log_allowance_trend_per_30d"
UNIT = "log points per 30 days"
NO_ORDERS = "no completed order with promised_at after accepted_at, delivered_at and distance_km"
DAYS = 30.0


def check_deadline_ratchet(logs: AuditLogs, *, thresholds: dict | None = None) -> pd.DataFrame:
    """Trend of log allowance per 30 days within region × distance band × hour cells.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs (:func:`audit.load_logs`).
    thresholds : dict, optional
        Overrides of ``ratchet_p``, ``distance_band_km``,
        ``premium_min_orders``, ``ci_level``.

    Returns
    -------
    DataFrame
        One platform finding (``value`` the slope, ``threshold`` the p-value
        cut-off) plus ``pct_per_30d, ci_low, ci_high, pct_ci_low,
        pct_ci_high, se, p_value, workers, cells``.
    """
    return finish_deadline_ratchet([partial_deadline_ratchet(logs, thresholds=thresholds)], logs,
                                   thresholds=thresholds)


def partial_deadline_ratchet(logs: AuditLogs, *, thresholds: dict | None = None) -> dict:
    """Per (worker id, cell) sums of t, y, t², ty of a piece of the logs.

    Returns
    -------
    dict
        ``stats`` (:func:`metrics.suffstats.keyed_trend_stats`: blocks keyed
        by worker id and region × band × hour, 38 bytes a block) and
        ``first``, ``last`` (``accepted_at`` of the orders, numpy
        datetime64; None without orders).
    """
    lim = limits(thresholds)
    f = deadline_frame(logs, float(lim["distance_band_km"]))
    f = f[f["allowance_s"].to_numpy() > 0]
    acc = f["accepted_at"].to_numpy()
    if len(acc) == 0:
        return {"stats": None, **span(acc)}
    # t from the first day of the audit period, which every piece knows (logs.period is
    # the platform's in a partition), not from the first order of the piece
    t = (acc - logs.period[0].to_datetime64()) / np.timedelta64(1, "s") / 86400.0 / DAYS
    stats = keyed_trend_stats(f["worker"].to_numpy(), f["cell"].to_numpy(), t,
                              np.log(f["allowance_s"].to_numpy() / 60.0),
                              cluster_keys=worker_index(logs).ids,  # frame codes are the piece's
                              cell_keys=[f["region_code"].to_numpy(), f["band"].to_numpy(),
                                         f["hour"].to_numpy()])
    return {"stats": stats, **span(acc)}


def finish_deadline_ratchet(parts: list[dict], logs: AuditLogs, *,
                            thresholds: dict | None = None) -> pd.DataFrame:
    """The finding from the partials of :func:`partial_deadline_ratchet` (any order)."""
    lim = limits(thresholds)
    p_cut, min_n, level = float(lim["ratchet_p"]), int(lim["premium_min_orders"]), float(lim["ci_level"])
    parts = [p for p in parts if p["stats"] is not None]
    nan = np.nan
    if not parts:
        return platform_row(check=CHECK, metric=METRIC, value=nan, threshold=p_cut, unit=UNIT,
                            status=INSUFFICIENT, n=0, detail=NO_ORDERS, first=None, last=None,
                            pct_per_30d=nan, ci_low=nan, ci_high=nan, pct_ci_low=nan,
                            pct_ci_high=nan, se=nan, p_value=nan, workers=0, cells=0)
    # blocks in canonical (worker id, cell) order before any float sum across workers
    fit = fit_trend(merge_keyed_trend_stats([p["stats"] for p in parts]), level=level)
    b = fit["slope"]
    if fit["n"] < min_n or not np.isfinite(b):
        status = INSUFFICIENT
        why = (f"fewer than {min_n} orders; " if fit["n"] < min_n
               else "no time variation within cells or fewer than 2 workers; ")
    else:
        status = RISK if (b < 0 and fit["p_value"] < p_cut) else OK
        why = ""

    def pct(x):
        return 100.0 * (np.exp(x) - 1.0)

    ends = np.array([min(p["first"] for p in parts), max(p["last"] for p in parts)])
    first, last = period(pd.Series(ends))
    span = float(((ends - ends[0]) / np.timedelta64(1, "s") / 86400.0 / DAYS).max() * DAYS)
    detail = (f"{why}slope {fmt(b, 5)} log points per 30 days ({fmt(pct(b), 2)} % per 30 days), "
              f"95% CI [{fmt(fit['ci_low'], 5)}, {fmt(fit['ci_high'], 5)}], p={fmt(fit['p_value'], 4)}; "
              f"OLS of log allowance on days/30 with region x distance band x hour effects "
              f"({fit['cells']} cells), SE clustered by worker ({fit['clusters']} workers, "
              f"t with {fit['df']} df); {fit['n']} orders over {span:.1f} days; "
              f"risk when negative with p < {p_cut:g}")
    return platform_row(check=CHECK, metric=METRIC, value=b, threshold=p_cut, unit=UNIT,
                        status=status, n=fit["n"], detail=detail, first=first, last=last,
                        pct_per_30d=pct(b), ci_low=fit["ci_low"], ci_high=fit["ci_high"],
                        pct_ci_low=pct(fit["ci_low"]), pct_ci_high=pct(fit["ci_high"]),
                        se=fit["se"], p_value=fit["p_value"], workers=fit["clusters"],
                        cells=fit["cells"])


def summarize(findings: pd.DataFrame) -> dict:
    """Key figures: the slope under ``value`` (log points per 30 days), % per 30 days, CI, p."""
    r = findings.iloc[0]

    def num(x, d=6):
        return None if pd.isna(x) else round(float(x), d)

    return {"status": overall_status(findings["status"]), "n": int(r["n"]), "value": num(r["value"]),
            "ci_low": num(r["ci_low"]), "ci_high": num(r["ci_high"]), "p_value": num(r["p_value"]),
            "pct_per_30d": num(r["pct_per_30d"], 4), "pct_ci_low": num(r["pct_ci_low"], 4),
            "pct_ci_high": num(r["pct_ci_high"], 4)}
