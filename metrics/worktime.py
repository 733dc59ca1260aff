"""Working-time measures per worker and day or week, in whole seconds.

Pure computation on interval arrays (times are int64 seconds on the local
clock, groups are integer codes; see :mod:`metrics.intervals`).  Nothing here
knows a rule: the checks in ``audit/checks`` compare these numbers with the
thresholds of the rules tables.

Seconds stay integers so that a comparison such as "over 12 h" is exact
(``seconds > 43_200``), never at the mercy of a float rounding of hours.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.intervals import Period, period_bound, period_index, split_intervals, union_intervals

__all__ = ["seconds_by_period", "work_blocks", "longest_block_by_day", "days_by_week"]


def seconds_by_period(group: np.ndarray, start: np.ndarray, end: np.ndarray, period: Period
                      ) -> pd.DataFrame:
    """Measure of each group's union of intervals per day or ISO week.

    Parameters
    ----------
    group : array of int
        Group (worker) code of each interval.
    start, end : array of int64
        Interval bounds in seconds, half-open ``[start, end)``.
    period : {"day", "week"}
        Where intervals are cut.

    Returns
    -------
    DataFrame
        ``group, period_start, seconds, intervals``: one row per group and
        period with positive time, sorted; ``seconds`` (int64) is the measure
        of the union (overlaps counted once), ``intervals`` the number of
        input intervals with positive time in the period (the evidence).
    """
    group = np.asarray(group, dtype=np.int64)
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    g, s, e = union_intervals(group, start, end)
    g, s, e, p = split_intervals(g, s, e, period)
    keep = e > s
    merged = (pd.DataFrame({"group": g[keep], "period_start": p[keep], "seconds": (e - s)[keep]})
              .groupby(["group", "period_start"], sort=True, as_index=False)["seconds"].sum())
    rg, rs, re_, rp = split_intervals(group, start, end, period)
    keep = re_ > rs
    counts = (pd.DataFrame({"group": rg[keep], "period_start": rp[keep]})
              .groupby(["group", "period_start"], sort=True).size().rename("intervals"))
    merged = merged.join(counts, on=["group", "period_start"])
    merged["intervals"] = merged["intervals"].fillna(0).astype(np.int64)
    merged["seconds"] = merged["seconds"].astype(np.int64)
    return merged


def work_blocks(group: np.ndarray, start: np.ndarray, end: np.ndarray, *, gap_seconds: float
                ) -> pd.DataFrame:
    """Work blocks: a group's intervals merged wherever the gap is under ``gap_seconds``.

    A gap of exactly ``gap_seconds`` breaks the block.  A block's length runs
    from its first start to its last end and is not cut at midnight.

    Returns
    -------
    DataFrame
        ``group, start, end, seconds, intervals, day_start``: one row per
        block sorted by group and start; ``intervals`` counts the input
        intervals in the block, ``day_start`` is the first second of the day
        on which the block starts.
    """
    group = np.asarray(group, dtype=np.int64)
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    bg, bs, be = union_intervals(group, start, end, join_gap=gap_seconds)
    bg = np.asarray(bg, dtype=np.int64)
    if bg.size:
        # each interval belongs to the last block of its group starting at or before it:
        # one searchsorted on a (group, start) key that sorts like the lexsort
        base = int(min(bs.min(), start.min()))
        span = int(max(bs.max(), start.max())) - base + 1
        key_b = bg * span + (bs - base)
        key_i = group * span + (start - base)
        member = np.searchsorted(key_b, key_i, side="right") - 1
        counts = np.bincount(member, minlength=bg.size).astype(np.int64)
    else:
        counts = np.zeros(0, dtype=np.int64)
    return pd.DataFrame({
        "group": bg, "start": bs, "end": be, "seconds": be - bs, "intervals": counts,
        "day_start": period_bound(period_index(bs, "day"), "day"),
    })


def longest_block_by_day(blocks: pd.DataFrame) -> pd.DataFrame:
    """The longest block of each group on each day it starts blocks.

    Parameters
    ----------
    blocks : DataFrame
        From :func:`work_blocks`.

    Returns
    -------
    DataFrame
        ``group, period_start, seconds, block_start, block_end, block_intervals,
        blocks, intervals``: per group and day, the longest block (the
        earliest on a tie) with its bounds and interval count, the number of
        blocks starting that day and the intervals in them.
    """
    b = blocks.sort_values(["group", "day_start", "seconds", "start"],
                           ascending=[True, True, False, True], kind="stable")
    top = b.drop_duplicates(["group", "day_start"], keep="first")
    agg = (blocks.groupby(["group", "day_start"], sort=True)
           .agg(blocks=("start", "size"), intervals=("intervals", "sum")))
    out = (top.rename(columns={"day_start": "period_start", "start": "block_start",
                               "end": "block_end", "intervals": "block_intervals"})
           .set_index(["group", "period_start"])
           [["seconds", "block_start", "block_end", "block_intervals"]]
           .join(agg.rename_axis(["group", "period_start"]))
           .sort_index().reset_index())
    return out


def days_by_week(day_table: pd.DataFrame) -> pd.DataFrame:
    """Days with positive time per group and ISO week.

    Parameters
    ----------
    day_table : DataFrame
        ``group, period_start`` (day starts, seconds) and ``seconds``, from
        :func:`seconds_by_period` with ``period="day"``.

    Returns
    -------
    DataFrame
        ``group, period_start`` (the week's Monday, seconds) and ``days``.
    """
    d = day_table[day_table["seconds"] > 0]
    week = period_bound(period_index(d["period_start"].to_numpy(), "week"), "week")
    return (pd.DataFrame({"group": d["group"].to_numpy(), "period_start": week})
            .groupby(["group", "period_start"], sort=True).size().rename("days").reset_index())
