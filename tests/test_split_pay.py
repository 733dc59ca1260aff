"""The map/merge split of art19.pay_opacity and art19.pay_rule_change.

Partials hold per-worker sums keyed by worker id; finish merges them in
canonical order (worker id, then cell).  Checked here: the sums of
hand-made pieces by hand, merged pieces equal the partial of their union
value for value, and finish over pieces of split workers equals the check
on the whole logs exactly.
"""
from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import audit
from audit.checks.art19_pay_opacity import (check_pay_opacity, finish_pay_opacity, group_design,
                                            partial_pay_opacity, COLUMNS)
from audit.checks.art19_pay_rule_change import (check_pay_rule_change, finish_pay_rule_change,
                                                partial_pay_rule_change)
from metrics.cluster_moments import (DUPLICATE_CLUSTERS, GroupMoments, block_take, canonical_order)
from metrics.structural_break import BreakCells, pay_break_test, pay_break_test_cells
from metrics.suffstats import grouped_ols_stats

START = pd.Timestamp("2025-09-22")  # a Monday; 10-01 … 10-08 is the National Day holiday


def _arrays_equal(a, b):
    for name in a.__dataclass_fields__:
        x, y = np.asarray(getattr(a, name)), np.asarray(getattr(b, name))
        assert x.shape == y.shape, name
        assert (x == y).all(), name  # exact


def _orders(seed, *, workers=25, days=30, per_day=40, change_day=18):
    """Orders of a pay rule (4 + 1.2/km, then 4.6 + 0.9/km) with hour effects and noise."""
    rng = np.random.default_rng(seed)
    n = days * per_day
    d = np.repeat(np.arange(days), per_day)
    hour = rng.integers(8, 22, n)
    km = np.round(rng.uniform(0.5, 6.0, n), 2)
    after = d >= change_day
    pay = (np.where(after, 4.6, 4.0) + np.where(after, 0.9, 1.2) * km + 0.5 * np.isin(hour, [11, 12, 18])
           ) * np.exp(rng.normal(0, 0.1, n))
    acc = START + pd.to_timedelta(d, unit="D") + pd.to_timedelta(hour * 3600 + rng.integers(0, 3600, n),
                                                                 unit="s")
    return pd.DataFrame({
        "order_id": [f"o{i}" for i in range(n)],
        "worker_id": [f"W{x}" for x in rng.integers(0, workers, n)],  # W10 sorts before W2
        "region": "shijiazhuang", "accepted_at": acc.strftime("%Y-%m-%d %H:%M:%S"),
        "delivered_at": (acc + pd.Timedelta(minutes=20)).strftime("%Y-%m-%d %H:%M:%S"),
        "pay": np.round(pay, 2), "distance_km": km})


def _weather():
    w = pd.DataFrame({"region": "shijiazhuang",
                      "date": pd.date_range(START, periods=30).strftime("%Y-%m-%d"),
                      "t_max_c": 30.0, "t_min_c": 15.0, "warning": ""})
    w.loc[w["date"].isin(["2025-09-27", "2025-10-12"]), "t_max_c"] = 37.0
    return w


def _split(df, ids):
    """Two pieces holding whole workers: the workers in ``ids`` and the others."""
    inside = df["worker_id"].isin(ids)
    return df[inside].reset_index(drop=True), df[~inside].reset_index(drop=True)


# -- metrics.cluster_moments ----------------------------------------------------------------
def test_block_take_and_canonical_order_by_hand():
    # blocks [0 1] [2] [3 4 5] taken as blocks 2, 0, 1
    assert block_take(np.array([2, 1, 3]), np.array([2, 0, 1])).tolist() == [3, 4, 5, 0, 1, 2]
    assert block_take(np.array([0, 2]), np.array([1, 0])).tolist() == [0, 1]
    assert canonical_order(np.array(["W2", "W10", "A"], dtype=object)).tolist() == [2, 1, 0]
    with pytest.raises(ValueError) as exc:
        canonical_order(np.array(["b", "a", "b"], dtype=object))
    assert str(exc.value) == DUPLICATE_CLUSTERS.format(label="b")


def test_group_moments_of_a_two_worker_piece_by_hand():
    m = GroupMoments.from_rows(np.array(["w2", "w2", "w1", "w2"], dtype=object), np.array([5, 5, 5, 0]),
                               np.array([1.0, 3.0, 1.0, 2.0]), np.array([2.0, 1.0, 1.0, 2.0]),
                               n_groups=6)
    assert m.clusters.tolist() == ["w1", "w2"] and m.groups_per_cluster.tolist() == [1, 2]
    assert m.group.tolist() == [5, 0, 5]
    assert m.su[:, 0].tolist() == [1.0, 2.0, 4.0] and m.sy.tolist() == [1.0, 2.0, 3.0]
    # w2: u² 1 + 9 + 4, u·y 2 + 3 + 4, y² 4 + 1 + 4
    assert m.suu[:, 0, 0].tolist() == [1.0, 14.0] and m.suy[:, 0].tolist() == [1.0, 9.0]
    assert m.syy.tolist() == [1.0, 9.0] and m.n_group.tolist() == [1, 0, 0, 0, 0, 3]


def test_merged_group_moments_equal_the_union_and_the_dense_regression():
    rng = np.random.default_rng(3)
    n = 500
    w = rng.integers(0, 12, n)
    g = rng.integers(0, 8, n)
    u = rng.normal(size=n)
    y = 0.5 * u + 0.2 * g + rng.normal(size=n)
    labels = np.array([f"w{i:02d}" for i in range(12)], dtype=object)
    whole = GroupMoments.from_rows(w, g, u, y, n_groups=8, labels=labels)
    a, b = w % 3 == 0, w % 3 != 0
    pa = GroupMoments.from_rows(w[a], g[a], u[a], y[a], n_groups=8, labels=labels).narrow()
    pb = GroupMoments.from_rows(w[b], g[b], u[b], y[b], n_groups=8, labels=labels).narrow()
    pa, pb = pickle.loads(pickle.dumps(pa)), pickle.loads(pickle.dumps(pb))
    for parts in ([pa, pb], [pb, pa]):
        merged = GroupMoments.merge(parts)
        _arrays_equal(GroupMoments.merge([whole]), merged)
    Z = np.column_stack([np.ones(8), np.eye(8)[:, 1:]])
    names = [f"z{j}" for j in range(8)] + ["u"]
    st = GroupMoments.merge([pb, pa]).ols_stats(Z, names)
    ref = grouped_ols_stats(g, Z, u, y, names)
    np.testing.assert_allclose(st.xtx, ref.xtx, rtol=1e-12)
    np.testing.assert_allclose(st.xty, ref.xty, rtol=1e-12)
    assert st.n == n and st.yty == pytest.approx(ref.yty, rel=1e-13)
    fit = sm.OLS(y, np.column_stack([Z[g], u])).fit()
    assert st.fit()["r2"] == pytest.approx(fit.rsquared, rel=1e-10)


# -- metrics.structural_break.BreakCells ----------------------------------------------------
def test_break_cells_by_hand():
    c = BreakCells.from_orders(np.array([100, 100, 101, 101]), np.array([9, 9, 10, 9]),
                               np.array([1.0, 2.0, 1.5, 3.0]), np.array([3.0, 5.0, 4.0, 6.0]),
                               np.array(["b", "b", "b", "a"], dtype=object))
    assert c.clusters.tolist() == ["a", "b"] and c.days_per_cluster.tolist() == [1, 2]
    assert c.day.tolist() == [101, 100, 101] and c.hours_per_row.tolist() == [1, 1, 1]
    assert c.km2.tolist() == [9.0, 5.0, 2.25] and c.kmpay.tolist() == [18.0, 13.0, 6.0]
    assert c.pay2.tolist() == [36.0, 34.0, 16.0]
    assert c.hour.tolist() == [9, 9, 10] and c.n.tolist() == [1, 2, 1]
    assert c.km.tolist() == [3.0, 3.0, 1.5] and c.pay.tolist() == [6.0, 8.0, 4.0]
    assert c.n_orders == 4


def test_merged_break_cells_equal_the_union_and_give_the_same_test():
    df = _orders(5)
    acc = pd.to_datetime(df["accepted_at"]).to_numpy().astype("datetime64[s]").astype(np.int64)
    day, hour = acc // 86_400, (acc % 86_400) // 3_600
    km, pay, w = df["distance_km"].to_numpy(), df["pay"].to_numpy(), df["worker_id"].to_numpy(object)
    whole = BreakCells.from_orders(day, hour, km, pay, w)
    pieces = [BreakCells.from_orders(day[s], hour[s], km[s], pay[s], w[s]).narrow()
              for s in (np.isin(w, ["W1", "W4"]), ~np.isin(w, ["W1", "W4"]))]
    for parts in (pieces, pieces[::-1]):
        _arrays_equal(BreakCells.merge(parts), BreakCells.merge([whole]))
    r1 = pay_break_test_cells(BreakCells.merge(pieces[::-1]), reps=200)
    r2 = pay_break_test(day, hour, km, pay, pd.factorize(w, sort=True)[0], reps=200)
    pd.testing.assert_frame_equal(r1.estimates, r2.estimates, check_exact=True)
    pd.testing.assert_frame_equal(r1.scan, r2.scan, check_exact=True)
    assert r1.n_clusters == 25 and r1.n == len(df)


# -- the checks, split by worker ------------------------------------------------------------
def test_pay_rule_change_finish_of_split_workers_equals_the_check():
    df = _orders(7)
    logs = audit.load_logs(orders=df)
    expected = check_pay_rule_change(logs, reps=500)
    assert (expected["level"] == "worker").any()  # worker rows are merged too
    a, b = _split(df, ["W10", "W3", "W5"])
    parts = [partial_pay_rule_change(audit.load_logs(orders=x)) for x in (a, b)]
    assert parts[0].clusters.tolist() == ["W10", "W3", "W5"]  # keyed by id, not by piece-local code
    # a piece without a usable order (no distance)
    empty = partial_pay_rule_change(audit.load_logs(orders=df.head(1).assign(worker_id="Z",
                                                                             distance_km=np.nan)))
    assert empty.n_orders == 0 and len(empty.clusters) == 0
    for order in (parts, parts[::-1], parts + [empty]):
        got = finish_pay_rule_change(order, logs, reps=500)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)


@pytest.mark.filterwarnings("ignore:The design matrix is rank-deficient")
def test_pay_opacity_finish_of_split_workers_equals_the_check():
    df = _orders(8)
    df.loc[df.index % 50 == 0, "distance_km"] = 0.0  # unused: log of 0
    logs = audit.load_logs(orders=df, weather=_weather())
    expected = check_pay_opacity(logs)
    a, b = _split(df, ["W0", "W8"])
    parts = [partial_pay_opacity(audit.load_logs(orders=x, weather=_weather())) for x in (a, b)]
    assert parts[0]["moments"].clusters.tolist() == ["W0", "W8"]
    for order in (parts, parts[::-1]):
        pd.testing.assert_frame_equal(finish_pay_opacity(order, logs), expected, check_exact=True)
    # the merged sums are the design's cross-products (independent dense computation)
    keep = df["distance_km"] > 0
    acc = pd.to_datetime(df.loc[keep, "accepted_at"])
    hol = acc.dt.normalize().between("2025-10-01", "2025-10-08")
    ext = acc.dt.strftime("%Y-%m-%d").isin(["2025-09-27", "2025-10-12"])
    X = np.column_stack([group_design()[4 * acc.dt.hour + 2 * hol + ext],
                         np.log(df.loc[keep, "distance_km"])])
    y = np.log(df.loc[keep, "pay"].to_numpy())
    st = GroupMoments.merge([p["moments"] for p in parts]).ols_stats(group_design(), COLUMNS)
    np.testing.assert_allclose(st.xtx, X.T @ X, rtol=1e-12)
    np.testing.assert_allclose(st.xty, X.T @ y, rtol=1e-12)
    assert expected["n"].iloc[0] == keep.sum() == st.n
    assert expected["value"].iloc[0] == pytest.approx(sm.OLS(y, X).fit().rsquared, abs=1e-6)


def test_pay_opacity_without_orders_in_any_piece():
    df = _orders(9, days=3, per_day=5)
    logs = audit.load_logs(orders=df.assign(pay=0.0))
    f = finish_pay_opacity([partial_pay_opacity(logs)], logs)
    assert f["status"].tolist() == ["insufficient_data"] and f["n"].tolist() == [0]
