"""Earnings and hours per worker and period, from sufficient statistics."""
from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.intervals import Period, hours_by_period, period_bound, period_index


def sum_by_period(group: np.ndarray, t: np.ndarray, values: dict[str, np.ndarray],
                  period: Period) -> pd.DataFrame:
    """Sum values per group and the day/week containing time ``t`` (seconds).

    Each (group, period) cell's values are added in their input order with
    Kahan compensation, NaN skipped: the arithmetic of pandas' Cython
    ``groupby().sum()``, whose result this equals whenever pandas takes
    that path.  It does not always: pandas ≥ 3.1 adds with
    ``numpy.add.reduceat`` (no compensation) when the rows happen to be
    sorted by group, a property of the whole frame, so a cell's sum there
    depends on the other groups' rows.  Here a cell gives the same bits
    whichever rows surround it (a worker's weeks are the same in a
    partition of the workers as in the whole platform).

    Returns
    -------
    DataFrame
        ``group``, ``period_start`` (seconds), one float column per value and
        ``n`` (rows counted), sorted by group and period.
    """
    group = np.asarray(group)
    p = period_bound(period_index(t, period), period)
    order = np.lexsort((p, group))  # stable: a cell's rows keep their input order
    g, ps = group[order], p[order]
    new = np.ones(g.size, dtype=bool)
    new[1:] = (g[1:] != g[:-1]) | (ps[1:] != ps[:-1])
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, g.size))
    # cells by size, largest first: the cells with a k-th row are a prefix
    by = np.argsort(-sizes, kind="stable")
    first, size = starts[by], sizes[by]
    out = {"group": g[starts], "period_start": ps[starts]}
    for name, v in values.items():
        v = np.asarray(v, dtype=np.float64)[order]
        total = np.zeros(size.size)
        comp = np.zeros(size.size)
        for k in range(int(size[0]) if size.size else 0):  # loops over ranks in a cell, not rows
            m = int(np.searchsorted(-size, -k, side="left"))  # cells with more than k rows
            x = v[first[:m] + k]
            ok = np.flatnonzero(x == x)
            x = x[ok]
            y = x - comp[ok]
            tot = total[ok] + y
            with np.errstate(invalid="ignore"):
                c = (tot - total[ok]) - y
            c[c != c] = 0.0  # an infinite value: keep the infinity, not NaN (as pandas)
            comp[ok] = c
            total[ok] = tot
        res = np.empty(size.size)
        res[by] = total
        out[name] = res
    out["n"] = sizes.astype(np.int64)
    return pd.DataFrame(out)


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
