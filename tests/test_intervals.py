"""Interval arithmetic: hand-worked cases and properties (hypothesis)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.intervals import (DAY, WEEK, hours_by_period, period_bound, period_index,
                               split_intervals, to_seconds, union_intervals)


def sec(text: str) -> int:
    return int(to_seconds(np.array([np.datetime64(text)]))[0])


def test_week_starts_on_monday():
    # 2025-09-29 is a Monday; 2025-10-05 23:59:59 is the Sunday of that ISO week
    mon = sec("2025-09-29T00:00:00")
    assert period_bound(period_index(np.array([mon]), "week"), "week")[0] == mon
    assert period_index(np.array([sec("2025-10-05T23:59:59")]), "week")[0] == \
        period_index(np.array([mon]), "week")[0]
    assert period_index(np.array([sec("2025-10-06T00:00:00")]), "week")[0] == \
        period_index(np.array([mon]), "week")[0] + 1


def test_session_across_midnight_is_split_at_it():
    s, e = sec("2025-10-01T22:00:00"), sec("2025-10-02T03:30:00")
    g, ps, pe, p = split_intervals(np.array([0]), np.array([s]), np.array([e]), "day")
    assert list(pe - ps) == [2 * 3600, int(3.5 * 3600)]
    assert list(p) == [sec("2025-10-01T00:00:00"), sec("2025-10-02T00:00:00")]


def test_session_across_sunday_to_monday_is_split_into_two_weeks():
    s, e = sec("2025-10-05T23:00:00"), sec("2025-10-06T01:15:00")  # Sunday → Monday
    out = hours_by_period(np.array([7]), np.array([s]), np.array([e]), "week")
    assert out["hours"].tolist() == [1.0, 1.25]
    assert out["period_start"].tolist() == [sec("2025-09-29T00:00:00"), sec("2025-10-06T00:00:00")]


def test_overlapping_sessions_are_not_double_counted():
    # 08:00-12:00 and 11:00-13:00 and a duplicate 08:00-12:00 -> 5 h; 14:00-14:00 adds nothing
    base = sec("2025-10-01T00:00:00")
    s = base + 3600 * np.array([8, 11, 8, 14])
    e = base + 3600 * np.array([12, 13, 12, 14])
    out = hours_by_period(np.zeros(4, dtype=int), s, e, "day")
    assert out["hours"].tolist() == [5.0]


def test_touching_intervals_merge_and_gap_rule_for_blocks():
    base = 0
    s = np.array([0, 3600, 3600 + 1200 + 3600 - 1])  # second starts at first's end
    e = np.array([3600, 7200, 3600 * 3])
    g, us, ue = union_intervals(np.zeros(3, dtype=int), s, e)
    assert len(us) == 2  # touching joined; the third is separate (gap 1199 s)
    # a 19-minute gap joins a work block, a 20-minute gap does not
    s2 = np.array([0, 3600 + 19 * 60, 0 + 10 * 3600, 11 * 3600 + 20 * 60])
    e2 = np.array([3600, 7200, 11 * 3600, 12 * 3600])
    g2, bs, be = union_intervals(np.zeros(4, dtype=int), s2, e2, join_gap=1200)
    assert list(be - bs) == [7200, 3600, 2400]
    assert base == 0


def test_groups_do_not_mix():
    s = np.array([0, 100, 50])
    e = np.array([200, 300, 60])
    g, us, ue = union_intervals(np.array([1, 0, 1]), s, e)
    assert list(g) == [0, 1] and list(us) == [100, 0] and list(ue) == [300, 200]


intervals = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 30 * DAY), st.integers(0, 3 * DAY)),
    min_size=0, max_size=40)


def _arrays(items):
    g = np.array([i[0] for i in items], dtype=np.int64)
    s = np.array([i[1] for i in items], dtype=np.int64)
    e = s + np.array([i[2] for i in items], dtype=np.int64)
    return g, s, e


def _brute_measure(items, group):
    """Measure of a union by marking every second (small spans only)."""
    covered = set()
    for g, s, d in items:
        if g == group:
            covered.update(range(s, s + d, 60))  # minute resolution for speed
    return len(covered)


@settings(max_examples=60, deadline=None)
@given(intervals, st.sampled_from(["day", "week"]))
def test_split_parts_sum_to_the_whole(items, period):
    g, s, e = _arrays(items)
    pg, ps, pe, p = split_intervals(g, s, e, period)
    assert (pe - ps).sum() == (e - s).sum()
    size = DAY if period == "day" else WEEK
    assert np.all(pe - ps <= size)
    assert np.all((ps >= p) & (pe <= p + size))


@settings(max_examples=60, deadline=None)
@given(intervals)
def test_union_never_exceeds_sum_and_is_idempotent(items):
    g, s, e = _arrays(items)
    ug, us, ue = union_intervals(g, s, e)
    for grp in np.unique(g):
        assert (ue - us)[ug == grp].sum() <= (e - s)[g == grp].sum()
    ug2, us2, ue2 = union_intervals(ug, us, ue)
    assert np.array_equal(us, us2) and np.array_equal(ue, ue2) and np.array_equal(ug, ug2)
    # disjoint and sorted within a group
    same = ug[1:] == ug[:-1]
    assert np.all(us[1:][same] > ue[:-1][same])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.just(0), st.integers(0, 2000).map(lambda m: m * 60),
                          st.integers(0, 300).map(lambda m: m * 60)), max_size=15))
def test_union_measure_matches_brute_force(items):
    g, s, e = _arrays(items)
    ug, us, ue = union_intervals(g, s, e)
    assert (ue - us).sum() // 60 == _brute_measure(items, 0)


def test_hours_by_period_matches_minute_occupancy_on_random_data():
    rng = np.random.default_rng(1)
    n = 500
    g = rng.integers(0, 20, n)
    s = rng.integers(0, 14 * DAY // 60, n) * 60
    e = s + rng.integers(0, 6 * 60, n) * 60
    out = hours_by_period(g, s, e, "day")
    # independent: the set of occupied minutes per worker, counted per day
    rows = [(gi, m) for gi, si, ei in zip(g, s, e) for m in range(si // 60, ei // 60)]
    occ = pd.DataFrame(rows, columns=["g", "m"]).drop_duplicates()
    occ["day"] = occ["m"] * 60 // DAY * DAY
    ref = (occ.groupby(["g", "day"]).size() / 60.0).rename("ref")
    got = out.set_index(["group", "period_start"])["hours"]
    got.index.names = ["g", "day"]
    joined = pd.concat([got, ref], axis=1)
    assert joined.notna().all().all()
    assert np.allclose(joined["hours"], joined["ref"], rtol=0, atol=1e-12)
