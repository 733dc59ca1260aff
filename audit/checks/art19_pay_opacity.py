"""Article 19: can a rider predict the pay of an order from what they can see?

人社部发〔2021〕56号 and 冀人社规〔2021〕5号 第十九条 ask platforms to negotiate
and publish 计件单价 and 报酬构成.  If pay follows a published rule of distance,
time of day, holiday and weather, those explain most of its variation; if they
do not, pay is opaque to the rider (hidden factors, personalised prices).

Model (SPEC §5): R² of the OLS of log(pay) on log(distance_km), hour-of-day
dummies (hour of ``accepted_at``, 23 dummies), a holiday flag and an
extreme-weather flag (:func:`audit.checks._flags.order_flags`), over completed
orders with pay > 0 and distance_km > 0 (logs need positive values).
Without a weather table the weather flag is 0 everywhere and drops out (said
in ``detail``).  R² = 1 − SSR/SST, SST about the mean of log pay.

The fit is computed from sufficient statistics (X'X, X'y, y'y, Σy, n,
:class:`metrics.suffstats.OLSStats`), assembled from per-group moments of
the 96 groups hour × holiday × extreme weather (as
:func:`metrics.suffstats.grouped_ols_stats` does), so no N × 27 matrix is
ever built; rank-deficient
designs (a flag never set) use the least-norm solution, which leaves R²
unchanged.  The 95 % interval is the Olkin–Finn large-sample interval,
which treats orders as independent (it is narrow at platform scale; a
worker-cluster bootstrap would be wider).

Status: risk when R² < ``opacity_r2_risk`` (0.5), else ok; fewer than
``premium_min_orders`` (30) orders: insufficient_data.

Partitions
----------
:func:`partial_pay_opacity` keeps the moments per worker: per (worker,
group) Σlog distance and Σlog pay, per worker Σ(log distance)², Σlog
distance·log pay and Σ(log pay)², keyed by worker id
(:class:`metrics.cluster_moments.GroupMoments`), with the integer orders
per group summed; about 17 bytes a (worker, group) cell.  Float sums of
many workers' orders would depend on the partitioning, so
:func:`finish_pay_opacity` adds across workers only after putting the
cells in canonical order (worker id, group).  ``weather_known`` is an
``any`` and the period a min/max: both exact in any order.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks._art19 import fmt, limits, merged_period, platform_row, span
from audit.checks._common import worker_index
from audit.checks._flags import order_flags
from audit.findings import INSUFFICIENT, OK, RISK, overall_status
from audit.logs import AuditLogs
from metrics.cluster_moments import GroupMoments
from metrics.suffstats import r2_interval

CHECK = "art19.pay_opacity"
METRIC = "r2_log_pay"
UNIT = "R²"
NO_ORDERS = "no completed order with pay > 0 and distance_km > 0"
N_GROUPS = 96  # hour of day × holiday × extreme weather
COLUMNS = ("const", *(f"hour_{h}" for h in range(1, 24)), "holiday", "extreme_weather",
           "log_distance")


def group_design() -> np.ndarray:
    """Regressors constant within a group hour × holiday × extreme (code = 4 hour + 2 hol + ext).

    Columns: the intercept, 23 hour dummies (hour 0 is the base), holiday,
    extreme weather; log distance is the per-order column added after them.
    """
    code = np.arange(N_GROUPS)
    hour, hol, ext = code // 4, (code // 2) % 2, code % 2
    Z = np.zeros((N_GROUPS, 26))
    Z[:, 0] = 1.0
    Z[hour > 0, hour[hour > 0]] = 1.0
    Z[:, 24] = hol
    Z[:, 25] = ext
    return Z


def check_pay_opacity(logs: AuditLogs, *, thresholds: dict | None = None) -> pd.DataFrame:
    """R² of log pay on the factors a rider can see.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs (:func:`audit.load_logs`).
    thresholds : dict, optional
        Overrides of ``opacity_r2_risk``, ``premium_min_orders``,
        ``ci_level`` (and the weather thresholds of the flags).

    Returns
    -------
    DataFrame
        One platform finding (``value`` R², ``n`` orders) plus ``ci_low,
        ci_high, se, rank, coef_log_distance, coef_holiday,
        coef_extreme_weather``.
    """
    return finish_pay_opacity([partial_pay_opacity(logs, thresholds=thresholds)], logs,
                              thresholds=thresholds)


def partial_pay_opacity(logs: AuditLogs, *, thresholds: dict | None = None, **options) -> dict:
    """The model's sums of a piece of the logs holding whole workers.

    ``moments``: per (worker, group) Σlog distance and Σlog pay, per worker
    Σ(log distance)², Σlog distance·log pay, Σ(log pay)², and the orders of
    each group (:class:`metrics.cluster_moments.GroupMoments`, keyed by
    worker id); ``weather_known`` (any order used has a weather row),
    ``first`` and ``last`` acceptance of the orders used.
    """
    o = logs.completed
    flags = order_flags(logs, thresholds=thresholds)
    pay = o["pay"].to_numpy(dtype=float)
    dist = o["distance_km"].to_numpy(dtype=float)
    keep = (pay > 0) & (dist > 0)  # NaN compares False
    hour = o["accepted_at"].dt.hour.to_numpy()[keep].astype(np.int64)
    hol = flags["is_holiday"].to_numpy(dtype=bool)[keep]
    ext = flags["is_extreme"].to_numpy(dtype=bool)[keep]
    idx = worker_index(logs)
    moments = GroupMoments.from_rows(idx.codes(o["worker_id"])[keep], 4 * hour + 2 * hol + ext,
                                     np.log(dist[keep]), np.log(pay[keep]), n_groups=N_GROUPS,
                                     labels=idx.ids)
    accepted = o["accepted_at"][keep]
    return {"moments": moments.narrow(),
            "weather_known": bool(flags["weather_known"].to_numpy(dtype=bool)[keep].any()),
            **span(accepted)}


def finish_pay_opacity(parts: list[dict], logs: AuditLogs, *,
                       thresholds: dict | None = None) -> pd.DataFrame:
    """The finding from the partials of :func:`partial_pay_opacity` (any order)."""
    lim = limits(thresholds)
    cut, min_n, level = float(lim["opacity_r2_risk"]), int(lim["premium_min_orders"]), float(lim["ci_level"])
    nan = np.nan
    if sum(p["moments"].n for p in parts) == 0:
        return platform_row(check=CHECK, metric=METRIC, value=nan, threshold=cut, unit=UNIT,
                            status=INSUFFICIENT, n=0, detail=NO_ORDERS, first=None, last=None,
                            ci_low=nan, ci_high=nan, se=nan, rank=0, coef_log_distance=nan,
                            coef_holiday=nan, coef_extreme_weather=nan)
    # canonical order (worker id, group) before any float sum across workers
    st = GroupMoments.merge([p["moments"] for p in parts]).ols_stats(group_design(), COLUMNS)
    fit = st.fit()
    r2 = fit["r2"]
    se, lo, hi = r2_interval(r2, st.n, fit["rank"] - 1, level=level)
    if st.n < min_n or not np.isfinite(r2):
        status, why = INSUFFICIENT, f"fewer than {min_n} orders or no variation in pay; "
    else:
        status, why = (RISK if r2 < cut else OK), ""
    notes = []
    if not any(p["weather_known"] for p in parts):
        notes.append("no weather data: the weather flag is not used")
    coef = fit["coef"]
    first, last = merged_period(parts)
    detail = (f"{why}R²={fmt(r2)} of log pay on log distance, hour of day, holiday and extreme "
              f"weather; {st.n} orders; {fit['rank']} estimable coefficients; 95% CI "
              f"[{fmt(lo)}, {fmt(hi)}] (Olkin-Finn, orders independent); elasticity to distance "
              f"{fmt(coef['log_distance'], 3)}; risk below {cut:g}"
              + "".join(f"; {n}" for n in notes))
    return platform_row(check=CHECK, metric=METRIC, value=round(r2, 6) if np.isfinite(r2) else r2,
                        threshold=cut, unit=UNIT, status=status, n=st.n, detail=detail, first=first,
                        last=last, ci_low=lo, ci_high=hi, se=se, rank=fit["rank"],
                        coef_log_distance=float(coef["log_distance"]),
                        coef_holiday=float(coef["holiday"]),
                        coef_extreme_weather=float(coef["extreme_weather"]))


def summarize(findings: pd.DataFrame) -> dict:
    """Key figures: R² under ``value`` with its CI."""
    r = findings.iloc[0]

    def num(x, d=6):
        return None if pd.isna(x) else round(float(x), d)

    return {"status": overall_status(findings["status"]), "n": int(r["n"]), "value": num(r["value"]),
            "ci_low": num(r["ci_low"]), "ci_high": num(r["ci_high"])}
