"""The map/merge split of art10.group_disparity: per-worker-week partials keyed by worker id."""
from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import audit
from audit.checks._common import NO_SESSIONS_NOTE
from audit.checks.art10_group_disparity import (check_group_disparity, finish_group_disparity,
                                               partial_group_disparity)
from audit.rules import thresholds
from metrics.disparity import group_gap
from metrics.earnings import sum_by_period
from metrics.intervals import period_bound, period_index
from metrics.intervals import to_seconds

MONDAY = np.datetime64("2025-03-03T00:00:00")  # a Monday


def _t(day: int, hour: float) -> str:
    return str(MONDAY + np.timedelta64(day, "D") + np.timedelta64(int(hour * 3600), "s"))


def _order(i, worker, day, hour, region, pay, bonus, penalty):
    return {"order_id": f"o{i}", "worker_id": worker, "region": region, "accepted_at": _t(day, hour),
            "delivered_at": _t(day, hour + 0.25), "pay": pay, "bonus": bonus, "penalty": penalty,
            "distance_km": 2.0}


def _two_workers(with_sessions: bool = True):
    orders = pd.DataFrame([
        # A, week 1: three orders, two in 正定县
        _order(1, "A", 0, 10.5, "正定县", 10.0, 2.0, 1.0),
        _order(2, "A", 1, 10.2, "正定县", 8.0, 0.0, 0.0),
        _order(3, "A", 1, 11.2, "shijiazhuang", 5.0, 1.0, 3.0),
        # A, week 2: one hour online only (under 2 h): left out
        _order(4, "A", 7, 10.1, "shijiazhuang", 9.0, 0.0, 0.0),
        # B, week 2: one order in each region (a tie)
        _order(5, "B", 7, 0.5, "shijiazhuang", 7.0, 0.0, 0.0),
        _order(6, "B", 9, 10.3, "正定县", 6.0, 0.5, 2.0),
    ])
    sessions = pd.DataFrame({
        "worker_id": ["A", "A", "A", "A", "B", "B"],
        # A week 1: Mon 10–14 (4 h); Tue 10–11:30 and 11–12 overlap (2 h, not 2.5)
        # A week 2: Mon 10–11 (1 h); B: Sun 23:00 → Mon 02:00 (1 h in week 1, 2 h in week 2), Wed 10–11
        "login_at": [_t(0, 10), _t(1, 10), _t(1, 11), _t(7, 10), _t(6, 23), _t(9, 10)],
        "logout_at": [_t(0, 14), _t(1, 11.5), _t(1, 12), _t(7, 11), _t(7, 2), _t(9, 11)],
    })
    workers = pd.DataFrame({"worker_id": ["A", "B"], "gender": ["F", "M"], "birth_year": [1990, 1980]})
    return audit.load_logs(orders=orders, sessions=sessions if with_sessions else None, workers=workers)


def test_partial_of_two_workers_by_hand():
    logs = _two_workers()
    part = partial_group_disparity(logs, thresholds=thresholds())
    code = dict(zip(logs.completed["region"], logs.completed["region_code"]))
    assert list(part["ids"]) == ["A", "B"] and part["note"] == ""
    w = part["weeks"].sort_values(["worker", "period_start"]).reset_index(drop=True)
    week1, week2 = int(to_seconds(MONDAY)), int(to_seconds(MONDAY)) + 7 * 86400
    assert w["worker"].tolist() == [0, 1]  # A week 1, B week 2: A week 2 and B week 1 under 2 h
    assert w["period_start"].tolist() == [week1, week2]
    assert w["hours"].tolist() == [6.0, 3.0]
    assert w["orders"].tolist() == [3, 2]
    # A: (10 + 2 − 1) + 8 + (5 + 1 − 3); B: 7 + (6 + 0.5 − 2)
    assert w["earnings"].tolist() == pytest.approx([22.0, 11.5], abs=1e-12)
    assert w["penalty"].tolist() == pytest.approx([4.0, 2.0], abs=1e-12)
    assert w["paid"].tolist() == pytest.approx([26.0, 13.5], abs=1e-12)
    # A: two of three orders in 正定县; B: a tie, the smaller code wins
    tie = min(code["正定县"], code["shijiazhuang"])
    assert w["region"].astype(str).tolist() == [code["正定县"], tie]
    # small and shippable: one row a worker-week, nothing per order
    assert pickle.loads(pickle.dumps(part))["weeks"].equals(part["weeks"])


def test_partial_without_sessions_uses_engaged_time_and_says_so():
    part = partial_group_disparity(_two_workers(with_sessions=False),
                                   thresholds={"min_online_hours_week": 0.5})
    assert part["note"] == NO_SESSIONS_NOTE
    w = part["weeks"].sort_values(["worker", "period_start"])
    # engaged time: A's three week-1 orders, 15 min each and disjoint
    assert w["hours"].iloc[0] == 0.75 and w["orders"].iloc[0] == 3


def test_partial_without_workers_table_is_none():
    logs = _two_workers()
    logs.workers = None
    assert partial_group_disparity(logs) is None
    f = finish_group_disparity([None], logs)
    assert f["status"].tolist() == ["insufficient_data"]


def _platform(*, seed, sessions=True):
    """Workers with ids W0…W44 (text order W0, W1, W10, …), F with 10 % fewer orders per hour,
    and one worker (W45) with a single hour online: no kept week."""
    rng = np.random.default_rng(seed)
    n, weeks = 45, 3
    ids = np.array([f"W{i}" for i in range(n)])
    gender = np.where(np.arange(n) % 3 == 0, "F", "M")
    workers = pd.DataFrame({"worker_id": np.append(ids, "W45"), "gender": np.append(gender, "M"),
                            "birth_year": rng.choice([1980, 1990, 2000], n + 1),
                            "vehicle": rng.choice(["ebike", "car"], n + 1),
                            "joined_on": (np.datetime64("2024-01-01") + rng.integers(0, 400, n + 1)
                                          .astype("timedelta64[D]")).astype(str)})
    w = np.repeat(np.arange(n), weeks * 4)
    day = np.tile(np.concatenate([np.arange(4) + 7 * k for k in range(weeks)]), n)
    login = MONDAY + day.astype("timedelta64[D]") + np.timedelta64(9, "h")
    length = rng.integers(3 * 3600, 8 * 3600, len(w))
    rate = 2.0 * rng.normal(1.0, 0.1, n) * np.where(gender == "F", 0.9, 1.0)
    k = rng.poisson(rate[w] * (length - 900) / 3600)
    ow = np.repeat(w, k)
    start = np.repeat(login, k) + rng.integers(0, np.repeat(length - 900, k)).astype("timedelta64[s]")
    km = rng.uniform(0.5, 5.0, k.sum())
    orders = pd.DataFrame({
        "order_id": [f"o{i}" for i in range(k.sum())], "worker_id": ids[ow],
        "region": rng.choice(["shijiazhuang", "正定县"], k.sum()), "accepted_at": start.astype(str),
        "delivered_at": (start + np.timedelta64(900, "s")).astype(str),
        "pay": np.round(4 + 1.1 * km, 2), "bonus": np.where(rng.random(k.sum()) < 0.1, 1.5, 0.0),
        "distance_km": km, "penalty": np.where(rng.random(k.sum()) < 0.1, 2.0, 0.0)})
    orders.loc[len(orders)] = {"order_id": "o_last", "worker_id": "W45", "region": "正定县",
                               "accepted_at": _t(2, 9.5), "delivered_at": _t(2, 9.75), "pay": 5.0,
                               "bonus": 0.0, "distance_km": 1.0, "penalty": 0.0}
    sess = pd.DataFrame({"worker_id": np.append(ids[w], "W45"),
                         "login_at": np.append(login.astype(str), _t(2, 9)),
                         "logout_at": np.append((login + length.astype("timedelta64[s]")).astype(str),
                                                _t(2, 10))})
    tables = {"orders": orders, "sessions": sess if sessions else None, "workers": workers}

    def logs_of(keep_worker):
        return audit.load_logs(**{name: None if t is None else t[keep_worker(t["worker_id"])]
                                  .reset_index(drop=True) for name, t in tables.items()})

    return logs_of


@pytest.mark.parametrize("sessions", [True, False], ids=["online", "engaged"])
def test_pieces_in_any_order_give_the_findings_of_the_whole(sessions):
    logs_of = _platform(seed=11, sessions=sessions)
    whole = logs_of(lambda s: np.ones(len(s), bool))
    limits = thresholds()
    expected = check_group_disparity(whole, thresholds=limits)
    assert (expected["status"] != "insufficient_data").any()  # comparisons were made
    assert (expected["time_base"] == ("online" if sessions else "engaged")).all()
    # three pieces of whole workers, interleaved in id order (W0, W3, W6, … in one piece)
    num = lambda s: s.str[1:].astype(int)  # noqa: E731
    pieces = [logs_of(lambda s, r=r: (num(s) % 3) == r) for r in range(3)]
    parts = [partial_group_disparity(p, thresholds=limits) for p in pieces]
    whole_part = partial_group_disparity(whole, thresholds=limits)
    assert sum(len(p["weeks"]) for p in parts) == len(whole_part["weeks"])
    assert "W45" not in np.concatenate([p["ids"] for p in parts])  # no kept week: no row, no id
    for order in (parts, parts[::-1], [parts[1], parts[2], parts[0]]):
        got = finish_group_disparity(list(order), whole, thresholds=limits)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_cluster_labels_count_only_as_a_partition():
    # the same clusters numbered densely, with gaps (workers of other groups, of other
    # partitions) or by text give the same bytes; statsmodels alone gives last-bit
    # differences for the gaps here (it sums cluster scores with a bincount over the labels)
    rng = np.random.default_rng(0)
    cluster = np.repeat(np.arange(200), 4)
    grp = cluster % 3 == 0
    y = 5 + 0.5 * grp + rng.normal(0, 1, len(cluster)) + rng.normal(0, 1, 200)[cluster]
    C = pd.DataFrame({"x": rng.normal(0, 1, len(cluster)), "z": rng.normal(0, 1, len(cluster))})
    dense = group_gap(y, grp, cluster, C)
    text = np.array([f"w{c:03d}" for c in cluster], dtype=object)
    for labels in (cluster * 2 + 1, cluster * 1000 + 7, text):
        other = group_gap(y, grp, labels, C)
        for key in ("raw_ci_low", "raw_ci_high", "adj_ci_low", "adj_ci_high", "adj_p", "adj_se"):
            assert other[key] == dense[key]


def test_compensated_sums_by_hand_and_whatever_the_other_rows():
    day = 86_400
    # cell (7, week 0): ten times 0.1, a NaN (skipped, counted in n); cell (7, week 1): 1e300 and inf
    g = np.array([7] * 11 + [7, 7])
    t = [day * min(i, 3) for i in range(11)] + [8 * day, 9 * day]  # 1970-01-01 .. 04: one ISO week
    v = np.array([0.1] * 10 + [np.nan, 1e300, np.inf])
    alone = sum_by_period(g, np.array(t), {"v": v}, "week")
    assert alone["v"].tolist() == [1.0, np.inf]  # Kahan: 1.0 exactly (plain adding: 0.9999999999999999)
    assert alone["n"].tolist() == [11, 2] and alone["group"].tolist() == [7, 7]
    # the same cells among other groups' rows, interleaved: the same bits
    rng = np.random.default_rng(0)
    other_g = rng.integers(0, 5, 200)
    other_t = rng.integers(0, 14 * day, 200)
    other_v = np.round(rng.uniform(0, 20, 200), 2)
    pos = np.sort(rng.choice(213, 13, replace=False))  # where the cells' rows go, in order
    rest = np.setdiff1d(np.arange(213), pos)
    G, T, V = np.empty(213, np.int64), np.empty(213, np.int64), np.empty(213)
    G[pos], T[pos], V[pos] = g, t, v
    G[rest], T[rest], V[rest] = other_g, other_t, other_v
    mixed = sum_by_period(G, T, {"v": V}, "week")
    assert mixed[mixed["group"] == 7].reset_index(drop=True).equals(alone)
    # on an interleaved frame it is pandas' own (Cython, compensated) groupby sum: the in-memory sums
    frame = pd.DataFrame({"group": G, "period_start": period_bound(period_index(T, "week"), "week"),
                          "v": V})
    pandas_sum = frame.groupby(["group", "period_start"], sort=True).agg(
        v=("v", "sum"), n=("period_start", "size")).reset_index()
    pd.testing.assert_frame_equal(mixed, pandas_sum, check_exact=True)
