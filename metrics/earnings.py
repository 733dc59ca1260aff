"""Earnings and hours per worker and period, from sufficient statistics."""
from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.intervals import Period, hours_by_period, period_bound, period_index


def sum_by_period(group: np.ndarray, t: np.ndarray, values: dict[str, np.ndarray],
                  period: Period) -> pd.DataFrame:
    """Sum values per group and the day/week containing time ``t`` (seconds).

    Returns
    -------
    DataFrame
        ``group``, ``period_start`` (seconds), one column per value and ``n``
        (rows counted).
    """
    p = period_bound(period_index(t, period), period)
    frame = pd.DataFrame({"group": group, "period_start": p, **values})
    out = frame.groupby(["group", "period_start"], sort=True).agg(
        **{k: (k, "sum") for k in values}, n=("period_start", "size")).reset_index()
    return out


def hourly_earnings(earnings: pd.DataFrame, hours: pd.DataFrame, *,
                    value: str = "earnings") -> pd.DataFrame:
    """Outer-join per-period earnings and hours and divide.

    Parameters
    ----------
    earnings : DataFrame
        ``group, period_start, <value>, n`` (from :func:`sum_by_period`).
    hours : DataFrame
        ``group, period_start, hours`` (from :func:`hours_by_period`).

    Returns
    -------
    DataFrame
        ``group, period_start, earnings, n, hours, per_hour``; periods with
        hours but no orders have earnings 0; ``per_hour`` is NaN at 0 hours.
    """
    m = earnings.merge(hours, on=["group", "period_start"], how="outer")
    m[value] = m[value].fillna(0.0)
    m["n"] = m["n"].fillna(0).astype(np.int64)
    m["hours"] = m["hours"].fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        m["per_hour"] = np.where(m["hours"] > 0, m[value] / m["hours"].where(m["hours"] > 0), np.nan)
    return m.sort_values(["group", "period_start"], kind="stable").reset_index(drop=True)


__all__ = ["sum_by_period", "hourly_earnings", "hours_by_period"]
