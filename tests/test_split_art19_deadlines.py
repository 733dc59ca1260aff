"""The map/merge split of art19.late_rate, art19.required_speed and art19.deadline_ratchet.

Partials of hand-made pieces holding whole workers are checked against sums
worked out by hand, and finishing the partials of the pieces, in either
order, against the check on the union (exactly).  The mergeable summaries
(:mod:`metrics.mergeable`, :func:`metrics.suffstats.merge_keyed_trend_stats`)
against ``numpy.median``, plain counting and statsmodels.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import audit
from audit.checks import art19_deadline_ratchet as dr
from audit.checks import art19_late_rate as lr
from audit.checks import art19_required_speed as rs
from audit.engine import PieceLogs
from metrics.mergeable import keyed_counts, merge_keyed_counts, merged_median, value_counts
from metrics.suffstats import fit_trend, keyed_trend_stats, merge_keyed_trend_stats

from test_art19_indicators import MIN, SEC, T0, _orders, _ratchet_frame  # the same hand-made orders

HOUR = pd.Timedelta(hours=1)


def _present(logs) -> dict:
    return {n: (None if (t := logs.table(n)) is None else {c for c in t.columns if t[c].notna().any()})
            for n in ("orders", "sessions", "workers", "payouts", "weather")}


def _pieces(logs, groups: list[list[str]]) -> list[PieceLogs]:
    """Pieces holding whole workers, as the chunked engine gives them: their own rows of
    orders and workers, and ``lacks``/``period`` answered for the whole platform."""
    out = []
    for ids in groups:
        tables = {n: None if (t := logs.table(n)) is None
                  else t[t["worker_id"].isin(ids)].reset_index(drop=True)
                  for n in ("orders", "workers")}
        out.append(PieceLogs(**tables, profile=logs.profile, present=_present(logs),
                             whole_period=logs.period))
    return out


def _meta(logs) -> PieceLogs:
    """Light logs as finish gets them: no order columns but the worker id."""
    return PieceLogs(orders=pd.DataFrame({"worker_id": pd.Series([], dtype=object)}),
                     workers=logs.workers, profile=logs.profile, present=_present(logs),
                     whole_period=logs.period)


def _same_in_any_order(mod, name: str, logs, groups, **options):
    whole = getattr(mod, f"check_{name}")(logs, **options)
    parts = [getattr(mod, f"partial_{name}")(p, **options) for p in _pieces(logs, groups)]
    for order in (parts, parts[::-1]):
        got = getattr(mod, f"finish_{name}")(list(order), _meta(logs), **options)
        pd.testing.assert_frame_equal(got, whole, check_exact=True)
    return whole


# -- metrics.mergeable ------------------------------------------------------------------------
def test_keyed_counts_by_hand():
    c = keyed_counts([np.array(["b", "a", "b", "b", "a"], dtype=object), np.array([1, 1, 2, 1, 1])],
                     np.array([True, False, False, True, True]))
    got = sorted(zip(c["keys"][0], c["keys"][1], c["k"], c["n"]))
    assert got == [("a", 1, 1, 2), ("b", 1, 2, 2), ("b", 2, 0, 1)]
    assert c["k"].dtype == np.int64 and c["n"].dtype == np.int64


def test_merge_keyed_counts_adds_and_sorts_in_any_order():
    def text(*v):
        return np.array(v, dtype=object)

    a = keyed_counts([text("w2", "w1", "w2"), text("x", "y", "x")], np.array([True, True, False]))
    b = keyed_counts([text("w0", "w2"), text("y", "x")], np.array([False, True]))
    for parts in ([a, b], [b, a]):
        m = merge_keyed_counts(parts, n_keys=2)
        (ids, regions), (wc, rc) = m["values"], m["codes"]
        rows = list(zip(ids[wc], regions[rc], m["k"], m["n"]))
        # sorted by worker then region; (w2, x) is in both pieces: 1 + 1 late of 2 + 1
        assert rows == [("w0", "y", 0, 1), ("w1", "y", 1, 1), ("w2", "x", 2, 3)]
    empty = merge_keyed_counts([], n_keys=2)
    assert len(empty["n"]) == 0 and len(empty["values"]) == 2


def test_merged_median_is_numpy_median():
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 10, 41, 400):
        x = np.round(rng.exponential(8, n), 1)  # ties
        x[rng.random(n) < 0.1] = np.inf  # deadlines at or before pickup
        cut = np.sort(rng.choice(n + 1, 2))
        pieces = [value_counts(x[:cut[0]]), value_counts(x[cut[0]:cut[1]]), value_counts(x[cut[1]:])]
        assert merged_median(pieces) == np.median(x)  # exactly
        assert merged_median(pieces[::-1]) == np.median(x)
    assert np.isnan(merged_median([value_counts(np.array([]))]))


def test_value_counts_compacts_only_when_smaller():
    many = value_counts(np.array([2.0, 1.0, 2.0, 2.0, 1.0]))
    assert many["values"].tolist() == [1.0, 2.0] and many["counts"].tolist() == [2, 3]
    few = value_counts(np.array([3.0, 1.0, 3.0]))  # 2 distinct of 3: not smaller
    assert few["values"].tolist() == [3.0, 1.0, 3.0] and few["counts"] is None


# -- metrics.suffstats: keyed trend sums --------------------------------------------------------
def _keyed(df: pd.DataFrame) -> dict:
    # piece-local codes, deliberately in an order of their own (first appearance)
    w, wkeys = pd.factorize(df["worker"].to_numpy(dtype=object))
    c, _ = pd.factorize((df["region"] + df["band"].astype(str)).to_numpy(dtype=object))
    return keyed_trend_stats(w, c, df["t"].to_numpy(), df["y"].to_numpy(), cluster_keys=wkeys,
                             cell_keys=[df["region"].to_numpy(dtype=object), df["band"].to_numpy()])


def test_keyed_trend_stats_merge_any_split_and_statsmodels():
    rng = np.random.default_rng(4)
    n = 600
    df = pd.DataFrame({"worker": rng.choice([f"w{i:02d}" for i in range(25)], n),
                       "region": rng.choice(["b", "a"], n), "band": rng.integers(0, 4, n),
                       "t": rng.uniform(0, 3, n)})
    df["y"] = 0.3 * df["band"] - 0.05 * df["t"] + rng.normal(0, 0.2, n)
    whole = merge_keyed_trend_stats([_keyed(df)])
    # canonical codes: worker ids and (region, band) cells by rank
    assert whole["cluster"].max() == 24 and whole["cell"].nunique() == 8
    assert (whole.groupby("cluster")["n"].sum().to_numpy()
            == df.groupby("worker")["t"].size().to_numpy()).all()
    cell_n = df.groupby(["region", "band"])["t"].size().to_numpy()  # sorted a0..a3, b0..b3
    assert (whole.groupby("cell")["n"].sum().to_numpy() == cell_n).all()
    groups = rng.integers(0, 3, 25)
    parts = [_keyed(df[df["worker"].isin([f"w{i:02d}" for i in np.flatnonzero(groups == g)])])
             for g in range(3)]
    for order in (parts, parts[::-1]):
        pd.testing.assert_frame_equal(merge_keyed_trend_stats(order), whole, check_exact=True)
    r = fit_trend(whole)
    d = df.assign(cell=df["region"] + df["band"].astype(str))
    m = smf.ols("y ~ t + C(cell)", d).fit(cov_type="cluster", cov_kwds={"groups": d["worker"]},
                                          use_t=True)
    assert r["slope"] == pytest.approx(m.params["t"], rel=1e-9)
    assert r["se"] == pytest.approx(m.bse["t"], rel=1e-9)


# -- art19.late_rate --------------------------------------------------------------------------
def _late_logs():
    rows = []
    for i in range(20):  # A: 20 orders, 3 late (one delivered on the deadline second: on time)
        acc = T0 + i * HOUR
        rows.append({"worker_id": "A", "accepted_at": acc, "promised_at": acc + 30 * MIN,
                     "delivered_at": acc + 30 * MIN + (SEC if i < 3 else 0 * SEC if i == 3 else -MIN)})
    rows.append({"worker_id": "A", "accepted_at": T0, "promised_at": pd.NaT,
                 "delivered_at": T0 + 99 * MIN})  # no deadline: outside
    for i in range(10):  # B: 6 orders in Shijiazhuang (3 late), 4 in Zhengding (2 late)
        acc = T0 + pd.Timedelta(days=1) + i * HOUR
        rows.append({"worker_id": "B", "accepted_at": acc, "promised_at": acc + 20 * MIN,
                     "delivered_at": acc + (25 if i in (0, 1, 2, 6, 7) else 15) * MIN,
                     "region": "shijiazhuang" if i < 6 else "正定县"})
    for i in range(25):  # C: 25 orders, none late
        acc = T0 + pd.Timedelta(days=2) + i * HOUR
        rows.append({"worker_id": "C", "accepted_at": acc, "promised_at": acc + 20 * MIN,
                     "delivered_at": acc + 10 * MIN})
    return audit.load_logs(orders=_orders(rows))


def test_late_rate_partial_by_hand():
    logs = _late_logs()
    code = dict(zip(logs.orders["region"], logs.orders["region_code"]))
    p = lr.partial_late_rate(_pieces(logs, [["B", "A"]])[0])
    got = sorted(zip(p["keys"][0], p["keys"][1], p["k"], p["n"]))
    assert got == sorted([("A", code["shijiazhuang"], 3, 20), ("B", code["shijiazhuang"], 3, 6),
                          ("B", code["正定县"], 2, 4)])
    assert (p["first"], p["last"]) == (T0, T0 + pd.Timedelta(days=1) + 9 * HOUR)


def test_late_rate_merged_pieces_equal_the_whole():
    logs = _late_logs()
    f = _same_in_any_order(lr, "late_rate", logs, [["C", "A"], ["B"]])
    # the platform share rests on the three workers' counts, the Zhengding row on B's alone
    assert f.loc[f["level"] == "platform", "late_orders"].item() == 8
    assert f.loc[f["level"] == "region", "n"].tolist() == [51, 4]
    assert f.loc[f["level"] == "worker", "subject"].tolist() == ["A", "B", "C"]
    _same_in_any_order(lr, "late_rate", logs, [["A"], ["B"], ["C"]])


def test_late_rate_pieces_without_deadlines():
    logs = _late_logs()
    empty = lr.partial_late_rate(_pieces(logs, [["nobody"]])[0])
    assert len(empty["n"]) == 0 and empty["first"] is None
    f = lr.finish_late_rate([empty], _meta(logs))
    assert f["status"].tolist() == ["insufficient_data"] and f["detail"].item() == lr.NO_DEADLINES


# -- art19.required_speed ---------------------------------------------------------------------
def _speed_logs(vehicles: dict[str, object]):
    rows = []
    for i in range(36):  # 2 km in 20 min after pickup: 6 km/h
        acc = T0 + i * HOUR
        rows.append({"worker_id": f"e{i % 3}", "accepted_at": acc, "picked_up_at": acc + 5 * MIN,
                     "promised_at": acc + 25 * MIN, "delivered_at": acc + 20 * MIN})
    for sec in (360, 359, 0, -60):  # 2.5 km: 25 km/h (allowed), just over, at pickup, before
        acc = T0 + pd.Timedelta(days=3, seconds=sec + 1000)
        rows.append({"worker_id": "e0", "accepted_at": acc, "picked_up_at": acc + 5 * MIN,
                     "promised_at": acc + 5 * MIN + sec * SEC, "delivered_at": acc + 20 * MIN,
                     "distance_km": 2.5})
    for i in range(10):  # u: 8 km in 6 min (80 km/h)
        acc = T0 + i * HOUR
        rows.append({"worker_id": "u", "accepted_at": acc, "picked_up_at": acc,
                     "promised_at": acc + 6 * MIN, "delivered_at": acc + 6 * MIN, "distance_km": 8.0})
    workers = pd.DataFrame({"worker_id": list(vehicles), "vehicle": list(vehicles.values())})
    return audit.load_logs(orders=_orders(rows), workers=workers)


def test_required_speed_partial_by_hand():
    logs = _speed_logs({"e0": "ebike", "e1": "ebike", "e2": "ebike", "u": "car"})
    p = rs.partial_required_speed(_pieces(logs, [["e0", "u"]])[0])
    # e0: 12 + 4 e-bike orders, 3 over 25 km/h (359 s, at and before pickup); u's car left out
    assert list(zip(p["keys"][0], p["k"], p["n"])) == [("e0", 3, 16)]
    assert (p["early"], p["unknown"]) == (2, 0)
    assert p["kmh"]["counts"] is not None  # 12 × 6 km/h: compact
    assert sorted(np.repeat(p["kmh"]["values"], p["kmh"]["counts"]))[-4:] == [
        25.0, 2.5 * 3600 / 359, np.inf, np.inf]
    f = _same_in_any_order(rs, "required_speed", logs, [["e0", "u"], ["e1", "e2"]])
    assert (f["n"].item(), f["exceeding_orders"].item()) == (40, 3)
    assert f["median_required_kmh"].item() == 6.0


def test_required_speed_vehicle_known_for_the_platform_not_the_piece():
    # u has a workers row without a vehicle: a piece holding only u sees no vehicle value
    # at all, but the platform has them, so u's orders are of a worker without one
    logs = _speed_logs({"e0": "ebike", "e1": "ebike", "e2": "ebike", "u": None})
    for assume in (False, True):
        f = _same_in_any_order(rs, "required_speed", logs, [["u"], ["e0", "e1", "e2"]],
                               assume_ebike=assume)
        assert "10 orders of workers without one" in f["detail"].item()
        assert f["n"].item() == (50 if assume else 40)
    p = rs.partial_required_speed(_pieces(logs, [["u"]])[0], assume_ebike=False)
    assert (p["unknown"], len(p["n"])) == (10, 0)


def test_required_speed_undecidable_says_so_in_finish():
    logs = _speed_logs({})  # a workers table without a vehicle value, no delivery profile
    f = _same_in_any_order(rs, "required_speed", logs, [["u"], ["e0", "e1", "e2"]])
    assert f["detail"].item() == rs.NO_VEHICLE


# -- art19.deadline_ratchet -------------------------------------------------------------------
def _ratchet_logs():
    return audit.load_logs(orders=_ratchet_frame())


def test_deadline_ratchet_partial_by_hand():
    logs = _ratchet_logs()
    p = dr.partial_deadline_ratchet(_pieces(logs, [["r0"]])[0])["stats"]
    # r0 has orders k = 0, 5, 10, 15: (1.5 km, 10 h) day 0 60 min, day 60 39 min;
    # (2.5 km, 10 h) day 60 38 min; (1.5 km, 12 h) day 30 46 min.  t from 2025-09-01 00:00
    assert p["clusters"].tolist() == ["r0"]
    cells = sorted(zip(*p["cells"]))
    assert [(b, h) for _, b, h in cells] == [(1, 10), (1, 12), (2, 10)]
    blocks = {(int(p["cells"][1][c]), int(p["cells"][2][c])): i for i, c in enumerate(p["c"])}
    t = np.array([10 / 24, 60 + 10 / 24]) / 30
    y = np.log([60.0, 39.0])
    i = blocks[(1, 10)]
    assert p["n"][i] == 2
    np.testing.assert_allclose([p["st"][i], p["sy"][i], p["stt"][i], p["sty"][i]],
                               [t.sum(), y.sum(), (t * t).sum(), (t * y).sum()], rtol=1e-14)
    j = blocks[(1, 12)]
    np.testing.assert_allclose([p["st"][j], p["sty"][j]], [(30 + 12 / 24) / 30,
                                                          (30 + 12 / 24) / 30 * np.log(46)], rtol=1e-14)


def test_deadline_ratchet_merged_pieces_equal_the_whole():
    logs = _ratchet_logs()
    limits = {"premium_min_orders": 10}
    f = _same_in_any_order(dr, "deadline_ratchet", logs, [["r3", "r0"], ["r1"], ["r2", "r4"]],
                           thresholds=limits)
    hand = ((np.log(38) + np.log(39)) / 2 - (np.log(60) + np.log(61)) / 2) / 2
    assert f["value"].item() == pytest.approx(hand, rel=1e-9) and f["status"].item() == "risk"
    assert "over 60.1 days" in f["detail"].item()  # from the first to the last order
    empty = dr.partial_deadline_ratchet(_pieces(logs, [["nobody"]])[0])
    g = dr.finish_deadline_ratchet([empty], _meta(logs))
    assert g["detail"].item() == dr.NO_ORDERS
