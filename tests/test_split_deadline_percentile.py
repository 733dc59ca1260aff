"""art19.deadline_percentile's map/merge split, and the exact tools under it, by hand.

The partial of a hand-made piece holds the histograms worked out here; the
finish of pieces split by worker equals the check on their union (the
percentiles are ranked against the *merged* actual durations, not a
piece's); the bootstrap's shortcuts (counts, the window around the median,
shared Poisson draws) give the plain replicate-by-replicate computation.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import audit
from audit.checks import art19_deadline_percentile as dp
from metrics.histograms import coded_rank_counts, group_pairs, pair_counts
from metrics.proportions import (DRAWS_SEED, PoissonDraws, cluster_bootstrap_median,
                                 coded_bootstrap_median, weighted_median)

T0 = pd.Timestamp("2025-09-16 10:00:00")  # a Tuesday
SEC = pd.Timedelta(seconds=1)
SMALL = {"deadline_cell_min_orders": 3, "premium_min_orders": 3}


def _orders(rows: list[tuple]) -> pd.DataFrame:
    """(worker, region, distance_km, minutes after T0, allowance s, actual s) per order."""
    out = []
    for i, (w, region, km, minute, allow, actual) in enumerate(rows):
        acc = T0 + pd.Timedelta(minutes=minute)
        out.append({"order_id": f"o{i}", "worker_id": w, "region": region, "pay": 6.0,
                    "status": "completed", "distance_km": km, "accepted_at": acc,
                    "promised_at": acc + allow * SEC, "delivered_at": acc + actual * SEC})
    return pd.DataFrame(out)


# cell X: shijiazhuang, band 2, hour 10; cell Y: shijiazhuang, band 3, hour 10
PIECE = [("a", "shijiazhuang", 2.5, 0, 600, 500), ("a", "shijiazhuang", 2.5, 1, 600, 700),
         ("a", "shijiazhuang", 2.5, 2, 900, 900), ("b", "shijiazhuang", 2.5, 3, 600, 650),
         ("b", "shijiazhuang", 3.2, 4, 1200, 1300)]


def test_partial_of_a_two_worker_piece_by_hand():
    p = dp.partial_deadline_percentile(audit.load_logs(orders=_orders(PIECE)))
    assert list(p["ids"]) == ["a", "b"]
    assert p["cells"]["band"].tolist() == [2, 3] and p["cells"]["hour"].tolist() == [10, 10]
    assert p["cells"]["region_code"].tolist() == ["130100", "130100"]
    # actual durations: X {500, 650, 700, 900}, Y {1300}
    cell, value, count = (a.tolist() for a in p["actual"])
    assert list(zip(cell, value, count)) == [(0, 500, 1), (0, 650, 1), (0, 700, 1), (0, 900, 1),
                                             (1, 1300, 1)]
    # (cell, allowance) keys: (X, 600), (X, 900), (Y, 1200)
    assert list(zip(*(a.tolist() for a in p["keys"]))) == [(0, 600), (0, 900), (1, 1200)]
    # a: (X, 600) twice, (X, 900) once; b: (X, 600), (Y, 1200)
    assert p["indptr"].tolist() == [0, 2, 4]
    assert p["key"].tolist() == [0, 1, 0, 2] and p["count"].tolist() == [2, 1, 1, 1]
    assert p["count"].dtype == np.uint8 and p["key"].dtype == np.uint8  # narrow: shipped
    assert p["first"] == T0 and p["last"] == T0 + pd.Timedelta(minutes=4)


def _two_pieces():
    # piece 1 holds the fast deliveries, piece 2 the slow ones of the same cells
    fast = [(f"f{i % 3}", "shijiazhuang", 2.5, i, 900, 300 + 10 * i) for i in range(12)]
    fast += [(f"f{i % 3}", "长安区", 1.2, 60 + i, 700, 400 + 20 * i) for i in range(9)]
    slow = [(f"s{i % 2}", "shijiazhuang", 2.5, 30 + i, 900 + 60 * (i % 3), 1000 + 15 * i)
            for i in range(10)]
    slow += [(f"s{i % 2}", "长安区", 1.2, 90 + i, 650, 800 + 5 * i) for i in range(5)]
    return fast, slow


def test_finish_ranks_against_the_merged_histograms():
    fast, slow = _two_pieces()
    whole = audit.load_logs(orders=_orders(fast + slow))
    parts = [dp.partial_deadline_percentile(audit.load_logs(orders=_orders(rows)))
             for rows in (fast, slow)]
    got = dp.finish_deadline_percentile(parts, None, thresholds=SMALL)
    # by hand, region 130100 (one cell, band 2, hour 10: 22 orders): actual durations 300..410
    # (12, piece 1) and 1000..1135 (10, piece 2); allowances 900 (piece 1) and 900, 960, 1020
    # (piece 2): the mid-rank among all 22, e.g. 900 → 12 below → 54.55, 1020 → 14 below
    act = np.r_[300 + 10 * np.arange(12), 1000 + 15 * np.arange(10)]
    allow = np.r_[np.full(12, 900), 900 + 60 * (np.arange(10) % 3)]
    pct = [100 * ((act < a).sum() + 0.5 * (act == a).sum()) / 22 for a in allow]
    plat = got[got["level"] == "platform"].iloc[0]
    reg = got.set_index("subject")
    assert reg.loc["130100", "value"] == pytest.approx(np.median(pct))
    assert reg.loc["130100", "n"] == 22
    # 130102 (band 1, hour 11: 14 orders): actual 400..560 and 800..820, allowances 700, 650
    act2 = np.r_[400 + 20 * np.arange(9), 800 + 5 * np.arange(5)]
    pct2 = [100 * ((act2 < a).sum() + 0.5 * (act2 == a).sum()) / 14
            for a in np.r_[np.full(9, 700), np.full(5, 650)]]
    assert plat["value"] == pytest.approx(np.median(pct + pct2)) and plat["n"] == 36
    # a piece alone would rank its orders against its own durations only: not what we get
    alone = dp.check_deadline_percentile(audit.load_logs(orders=_orders(fast)), thresholds=SMALL)
    assert alone.iloc[0]["value"] == 100.0 != plat["value"]
    # and the split equals the check on the union, in either order, to the bit
    expected = dp.check_deadline_percentile(whole, thresholds=SMALL)
    for order in (parts, parts[::-1]):
        pd.testing.assert_frame_equal(dp.finish_deadline_percentile(order, whole, thresholds=SMALL),
                                      expected, check_exact=True)


def test_worker_codes_are_the_in_memory_codes_whatever_the_split():
    # worker "a0" has no order with a deadline but is in the workers table: it holds code 0
    # in memory, which shifts every other worker's Poisson draw; the split must keep it
    rng = np.random.default_rng(23)
    rows = [(f"w{k}", "shijiazhuang", 2.5, int(m), int(900 + 30 * k + rng.integers(-120, 120)),
             int(rng.integers(600, 1400))) for m, k in enumerate(rng.integers(0, 8, 80))]
    orders = _orders(rows)
    workers = pd.DataFrame({"worker_id": ["a0"] + [f"w{k}" for k in range(8)]})
    whole = audit.load_logs(orders=orders, workers=workers)
    expected = dp.check_deadline_percentile(whole, thresholds=SMALL, bootstrap_reps=59)
    odd = orders["worker_id"].isin(["w1", "w3", "w5", "w7"])
    in_odd = workers["worker_id"].isin(["w1", "w3", "w5", "w7"])
    pieces = [audit.load_logs(orders=orders[odd], workers=workers[in_odd]),
              audit.load_logs(orders=orders[~odd], workers=workers[~in_odd])]  # "a0" here
    parts = [dp.partial_deadline_percentile(p) for p in pieces]
    got = dp.finish_deadline_percentile(parts[::-1], None, thresholds=SMALL, bootstrap_reps=59)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    # without "a0" the codes, hence the draws, differ (so the test above can fail)
    bare = dp.check_deadline_percentile(audit.load_logs(orders=orders), thresholds=SMALL,
                                        bootstrap_reps=59)
    assert (bare["value"] == expected["value"]).all()
    assert not bare[["ci_low", "ci_high"]].equals(expected[["ci_low", "ci_high"]])


def test_no_order_with_a_deadline_gives_one_insufficient_row():
    o = _orders(PIECE).assign(promised_at=pd.NaT)
    part = dp.partial_deadline_percentile(audit.load_logs(orders=o))
    assert len(part["key"]) == 0 and part["first"] is None
    f = dp.finish_deadline_percentile([part, part], None)
    assert len(f) == 1 and f.iloc[0]["status"] == "insufficient_data"
    assert f.iloc[0]["detail"] == dp.NO_ORDERS


# -- metrics under the split ----------------------------------------------------------------
@pytest.mark.parametrize("scale", [1, 10_000, 2 ** 60])  # direct count, sort, pair sort
def test_pair_counts_and_groups_equal_pandas(scale):
    rng = np.random.default_rng(21)
    a = rng.integers(-3, 6, 500)
    b = rng.integers(0, 40, 500) * scale
    w = rng.integers(0, 3, 500)
    ref = pd.DataFrame({"a": a, "b": b, "w": w}).groupby(["a", "b"])["w"].sum()
    ref = ref[ref > 0]
    ua, ub, n = pair_counts(a, b, w)
    assert ua.tolist() == ref.index.get_level_values(0).tolist()
    assert ub.tolist() == ref.index.get_level_values(1).tolist() and n.tolist() == ref.tolist()
    size = pd.DataFrame({"a": a, "b": b}).groupby(["a", "b"]).size()
    assert pair_counts(a, b)[2].tolist() == size.tolist()
    ga, gb, inv = group_pairs(a, b)
    assert list(zip(ga, gb)) == list(size.index) and (ga[inv] == a).all() and (gb[inv] == b).all()


def test_coded_rank_counts_by_hand():
    # cell 0: 5, 5, 9; cell 2: 1 (cell 1 empty)
    n, below, equal = coded_rank_counts(np.array([0, 0, 2]), np.array([5, 9, 1]),
                                        np.array([2, 1, 1]), np.array([0, 0, 0, 2, 1, -1]),
                                        np.array([5, 6, 10, 0, 3, 3]))
    assert n.tolist() == [3, 3, 3, 1, 0, 0]
    assert below.tolist() == [0, 2, 3, 0, 0, 0] and equal.tolist() == [2, 0, 0, 0, 0, 0]


def _slow_bootstrap(v, c, reps, seed, level=0.95):
    """Replicate by replicate: draws (reps, G) row after row, weighted median of each."""
    g = int(c.max()) + 1
    W = np.random.default_rng(seed).poisson(1.0, size=(reps, g)).astype(float)
    order = np.argsort(v, kind="stable")
    meds = [weighted_median(v[order], W[r][c][order]) for r in range(reps)]
    return tuple(np.nanquantile(meds, [(1 - level) / 2, (1 + level) / 2]))


@pytest.mark.parametrize("window", [0.5, 0.05, 0.001])
def test_bootstrap_shortcuts_equal_the_slow_replicates(window):
    rng = np.random.default_rng(22)
    c = rng.integers(0, 15, 600)
    v = np.round(rng.normal(50 + c, 8, 600))  # ties, and clusters that differ
    ref = _slow_bootstrap(v, c, 37, 4)
    assert cluster_bootstrap_median(v, c, reps=37, seed=4, window=window, batch=6) == ref
    # one row per (cluster, value) with its count, as the partials give
    rows = pd.DataFrame({"c": c, "v": v}).groupby(["c", "v"]).size().reset_index()
    assert cluster_bootstrap_median(rows["v"], rows["c"], counts=rows[0], reps=37, seed=4,
                                    window=window) == ref
    shared = PoissonDraws(4)
    shared.first(37 * 40)  # drawn further by an earlier, larger bootstrap
    assert cluster_bootstrap_median(v, c, reps=37, seed=4, window=window, draws=shared) == ref
    # values as codes into a sorted table that also holds values no row has (e.g. other regions')
    table = np.union1d(v, [-5.0, 49.5, 500.0])
    assert coded_bootstrap_median(table, np.searchsorted(table, rows["v"]), rows["c"],
                                  counts=rows[0], reps=37, seed=4, window=window) == ref


def test_poisson_draws_are_one_stream():
    d = PoissonDraws(7)
    head = d.first(5).copy()
    whole = d.first(300)
    assert (whole[:5] == head).all()
    assert (whole == np.random.default_rng(7).poisson(1.0, 300)).all()
    with pytest.raises(ValueError) as err:
        cluster_bootstrap_median([1.0, 2.0], [0, 1], seed=8, draws=d)
    assert str(err.value) == DRAWS_SEED.format(draws=7, seed=8)
