"""Interval arithmetic on many workers at once, with sorted-array tricks.

Times are integer seconds on a local clock (naive timestamps read as if UTC),
so that a day is ``t // 86400`` and an ISO week (Monday 00:00 to Sunday
24:00) is ``(t + 3 * 86400) // 604800`` — 1970-01-01 was a Thursday.
Intervals are half-open ``[start, end)``.  Groups are integer codes (e.g.
from :func:`pandas.factorize`).

No function here loops over workers or intervals in Python: a union of all
workers' intervals is one lexsort, one running maximum and one reduce.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

DAY = 86_400
WEEK = 7 * DAY
_WEEK_SHIFT = 3 * DAY  # 1970-01-01 was a Thursday; shift so weeks start on Monday

Period = Literal["day", "week"]


def to_seconds(values) -> np.ndarray:
    """Naive datetimes to int64 seconds since 1970-01-01 on the same clock."""
    arr = np.asarray(values, dtype="datetime64[s]")
    return arr.astype(np.int64)


def from_seconds(sec: np.ndarray) -> np.ndarray:
    """int64 seconds back to ``datetime64[s]``."""
    return np.asarray(sec, dtype=np.int64).astype("datetime64[s]")


def period_index(t: np.ndarray, period: Period) -> np.ndarray:
    """Index of the day or ISO week that contains each second ``t``."""
    t = np.asarray(t, dtype=np.int64)
    if period == "day":
        return np.floor_divide(t, DAY)
    if period == "week":
        return np.floor_divide(t + _WEEK_SHIFT, WEEK)
    raise ValueError(f"The 'period' parameter must be 'day' or 'week'. Got {period!r} instead.")


def period_bound(p: np.ndarray, period: Period) -> np.ndarray:
    """First second of day/week number ``p``."""
    p = np.asarray(p, dtype=np.int64)
    return p * DAY if period == "day" else p * WEEK - _WEEK_SHIFT


def union_intervals(group: np.ndarray, start: np.ndarray, end: np.ndarray, *,
                    join_gap: float = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge each group's intervals into disjoint runs.

    Two intervals of a group join when the gap between them is below
    ``join_gap`` (``join_gap=0``: when they overlap or touch).  With
    ``join_gap=1200`` this builds the SPEC's work blocks: engaged intervals
    merged wherever the gap is under 20 minutes.

    Parameters
    ----------
    group : array of int
        Group code of each interval.
    start, end : array of int64
        Interval bounds in seconds; ``end >= start``.
    join_gap : float
        Gaps strictly smaller than this are bridged (0: only overlaps and
        touching intervals join).

    Returns
    -------
    group, start, end : arrays
        One row per run, sorted by group then start.  With ``join_gap=0`` the
        runs are disjoint and their lengths sum to the measure of the union.
    """
    group = np.asarray(group)
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    if start.size == 0:
        return group[:0], start[:0], end[:0]
    order = np.lexsort((start, group))
    g, s, e = group[order], start[order], end[order]
    new_group = np.empty(g.size, dtype=bool)
    new_group[0] = True
    new_group[1:] = g[1:] != g[:-1]
    # running maximum of end within each group, in one global accumulate:
    # lift each group above the previous one by a constant larger than any span
    rank = np.cumsum(new_group) - 1
    base = int(min(s.min(), e.min()))
    lift = int(max(e.max(), s.max())) - base + 1
    lifted = (e - base) + rank * lift
    run_end = np.maximum.accumulate(lifted) - rank * lift + base
    prev_end = np.empty_like(run_end)
    prev_end[0] = 0
    prev_end[1:] = run_end[:-1]
    gap = s - prev_end
    new_run = new_group | (gap >= join_gap if join_gap > 0 else gap > 0)
    starts = np.flatnonzero(new_run)
    return g[starts], s[starts], np.maximum.reduceat(e, starts)


def split_intervals(group: np.ndarray, start: np.ndarray, end: np.ndarray, period: Period
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut intervals at day or ISO-week boundaries.

    Returns
    -------
    group, start, end, period_start : arrays
        One row per piece; ``period_start`` is the first second of the day or
        week the piece lies in.  The pieces of an interval sum to its length.
    """
    group = np.asarray(group)
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    first = period_index(start, period)
    last = period_index(np.maximum(end - 1, start), period)
    k = (last - first + 1).astype(np.int64)
    rep = np.repeat(np.arange(start.size), k)
    offsets = np.arange(rep.size) - np.repeat(np.cumsum(k) - k, k)
    p = first[rep] + offsets
    lo = period_bound(p, period)
    hi = period_bound(p + 1, period)
    return group[rep], np.maximum(start[rep], lo), np.minimum(end[rep], hi), lo


def hours_by_period(group: np.ndarray, start: np.ndarray, end: np.ndarray, period: Period
                    ) -> pd.DataFrame:
    """Measure of each group's union of intervals in each day or week, in hours.

    Overlapping intervals of a group are merged first, so time is never
    counted twice; intervals crossing a boundary are split at it.

    Returns
    -------
    DataFrame
        Columns ``group``, ``period_start`` (seconds) and ``hours``; only
        periods with positive time.
    """
    g, s, e = union_intervals(group, start, end)
    g, s, e, p = split_intervals(g, s, e, period)
    dur = (e - s).astype(np.float64)
    keep = dur > 0
    frame = pd.DataFrame({"group": g[keep], "period_start": p[keep], "seconds": dur[keep]})
    out = frame.groupby(["group", "period_start"], sort=True, as_index=False)["seconds"].sum()
    out["hours"] = out.pop("seconds") / 3600.0
    return out


def count_days_by_week(group: np.ndarray, day_start: np.ndarray) -> pd.DataFrame:
    """Number of distinct days per group and ISO week, given day starts in seconds."""
    frame = pd.DataFrame({"group": group, "day": day_start}).drop_duplicates()
    frame["period_start"] = period_bound(period_index(frame["day"].to_numpy(), "week"), "week")
    return frame.groupby(["group", "period_start"], as_index=False).size().rename(
        columns={"size": "days"})
