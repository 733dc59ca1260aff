"""art13 premiums: the map/merge split (partial_premium / finish_premium, PremiumStats.concat).

Checked here, independently of tests/test_mergeable.py (which partitions the
sample): the sums of a hand-made two-worker piece, that pieces of workers
merged in either order give the findings of their union bit for bit, the
reconciliation of a piece without any distance, and the canonical order of
:meth:`PremiumStats.concat`.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

import audit
from audit.checks.art13_premium import (NO_DISTANCE_NOTE, _allowance_lens, _breakdowns, check_premium,
                                        finish_premium, partial_premium)
from metrics.premium import ERR_CONCAT_EMPTY, PremiumStats

NORMAL, NATIONAL = (0, ""), (1, "National Day")
FAIR, HEAT = (0, ()), (1, ("heat",))


def _weather(days) -> pd.DataFrame:
    days = pd.DatetimeIndex(days)
    return pd.DataFrame({"region": "shijiazhuang", "date": days.strftime("%Y-%m-%d"),
                         "t_max_c": np.where(days.day % 5 == 0, 36.0, 28.0), "t_min_c": 15.0,
                         "warning": ""})


def _orders(n: int, n_workers: int, seed: int, prefix: str = "w") -> pd.DataFrame:
    """Orders around National Day 2025 with heat days (the 20th, 25th, 30th, 5th, …)."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2025-09-20", "2025-10-15")
    w = rng.integers(0, n_workers, n)
    acc = pd.DatetimeIndex(days[rng.integers(0, len(days), n)]) + pd.to_timedelta(
        rng.integers(7 * 60, 23 * 60, n), unit="min")
    dist = rng.uniform(0.5, 7, n)
    hol = (acc.normalize() >= "2025-10-01") & (acc.normalize() <= "2025-10-08")
    heat = acc.normalize().day % 5 == 0
    pay = 4 * dist ** 0.6 * np.exp(0.05 * hol + 0.1 * heat + rng.normal(0, 0.08, n))
    return pd.DataFrame({"order_id": [f"{prefix}o{i}" for i in range(n)],
                         "worker_id": [f"{prefix}{i:02d}" for i in w], "region": "shijiazhuang",
                         "accepted_at": acc, "delivered_at": acc + pd.Timedelta(minutes=25),
                         "pay": pay.round(4), "distance_km": dist.round(4),
                         "allowance": np.where(heat & (rng.random(n) < 0.5), 1.1, 0.0)})


def test_partial_of_a_two_worker_piece_has_the_sums_by_hand():
    t = pd.Timestamp
    rows = [  # worker, accepted, pay, distance, allowance
        ("a", t("2025-09-22 09:10"), 5.0, 2.0, 0.0),   # normal day, normal weather
        ("a", t("2025-09-22 09:40"), 6.0, 3.0, 0.0),   # same hour cell
        ("a", t("2025-10-02 12:00"), 7.0, 1.5, 0.0),   # National Day
        ("a", t("2025-09-25 18:00"), 8.0, 2.5, 2.0),   # heat day
        ("b", t("2025-09-23 10:05"), 4.0, 1.0, 0.0),
        ("b", t("2025-09-30 10:20"), 9.0, 4.0, 0.7),   # heat day, the day before the break
        ("b", t("2025-10-05 11:00"), 5.5, 2.0, 1.5),   # National Day and heat
    ]
    orders = pd.DataFrame(rows, columns=["worker_id", "accepted_at", "pay", "distance_km", "allowance"])
    orders["order_id"] = [f"o{i}" for i in range(len(orders))]
    orders["region"] = "shijiazhuang"
    orders["delivered_at"] = orders["accepted_at"] + pd.Timedelta(minutes=20)
    logs = audit.load_logs(orders=orders, weather=_weather(pd.date_range("2025-09-20", "2025-10-10")))
    part = partial_premium(logs, kind="weather")
    model = part["model"]
    assert model["x"] == ("holiday", "weather", "log_dist") and model["has_dist"]
    assert model["rows"] == {(NORMAL, FAIR): 3, (NATIONAL, FAIR): 1, (NORMAL, HEAT): 2, (NATIONAL, HEAT): 1}
    assert (model["first"], model["last"]) == (t("2025-09-22"), t("2025-10-05"))
    assert (model["bad_pay"], model["bad_dist"], model["uncovered"]) == (0, 0, 0)
    normal = model["groups"][(NORMAL, FAIR)]
    by_worker = dict(zip(normal.clusters, range(len(normal.clusters))))
    ia, ib = by_worker["a"], by_worker["b"]
    assert normal.cl_n[ia] == 2 and normal.cl_n[ib] == 1
    assert normal.cl_sy[ia] == pytest.approx(math.log(5) + math.log(6), rel=1e-15)
    assert normal.cl_syy[ia] == pytest.approx(math.log(5) ** 2 + math.log(6) ** 2, rel=1e-15)
    j = normal.x_names.index("log_dist")
    assert normal.cl_sxy[ia, j] == pytest.approx(math.log(2) * math.log(5) + math.log(3) * math.log(6),
                                                 rel=1e-15)
    assert normal.cl_sx[ia, normal.x_names.index("holiday")] == 0.0
    # worker a's two 09:xx orders share one (worker, hour) cell
    cell = (normal.cell_g == ia) & (normal.levels[normal.cell_a] == 9)
    assert normal.cell_n[cell].tolist() == [2.0]
    assert normal.cell_sy[cell][0] == pytest.approx(math.log(30), rel=1e-15)
    both = model["groups"][(NATIONAL, HEAT)]
    assert list(both.clusters) == ["b"] and both.cl_sx[0].tolist() == [1.0, 1.0, math.log(2.0)]
    # the allowance lens of the heat days: 3 orders, all with an allowance, per-worker sums
    allow = part["allowance"]
    assert (allow["n"], allow["n_finite"], allow["n_positive"]) == (3, 3, 3)
    assert sorted(allow["worker_sums"].tolist()) == [2.0, 0.7 + 1.5]
    f = finish_premium([part], logs, kind="weather")
    assert f.iloc[0]["allowance_mean_cny"] == pytest.approx((2.0 + 0.7 + 1.5) / 3, rel=1e-15)
    assert f.iloc[0]["n"] == 3 and f.iloc[0]["n_obs"] == 7 and f.iloc[0]["n_clusters"] == 2
    # 7 orders against 2 worker effects and the coefficients: no residual degree of freedom, no interval
    assert f.iloc[0]["status"] == "insufficient_data" and np.isnan(f.iloc[0]["std_error"])


@pytest.fixture(scope="module")
def two_pieces():
    a, b = _orders(2500, 18, seed=1, prefix="a"), _orders(2000, 15, seed=2, prefix="b")
    a.loc[a.index[:4], "pay"] = 0.0  # left out
    weather = _weather(pd.date_range("2025-09-20", "2025-10-15"))
    whole = pd.concat([a, b], ignore_index=True).sample(frac=1.0, random_state=0)  # workers interleaved
    keep = whole["worker_id"].str.startswith("a")
    return (audit.load_logs(orders=whole[keep].reset_index(drop=True), weather=weather),
            audit.load_logs(orders=whole[~keep].reset_index(drop=True), weather=weather),
            audit.load_logs(orders=whole.reset_index(drop=True), weather=weather))


@pytest.mark.parametrize("kind", ["holiday", "weather"])
def test_pieces_merged_in_either_order_equal_their_union(two_pieces, kind):
    la, lb, whole = two_pieces
    expected = check_premium(whole, kind=kind)
    parts = [partial_premium(la, kind=kind), partial_premium(lb, kind=kind)]
    for order in (parts, parts[::-1]):
        got = finish_premium(order, whole, kind=kind)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert "left out: 4 orders with pay <= 0" in expected.iloc[0]["detail"]
    assert expected.iloc[0]["n_clusters"] == 33


def test_group_stats_of_pieces_concatenate_to_the_union_bit_for_bit(two_pieces):
    la, lb, whole = two_pieces
    ga = partial_premium(la, kind="holiday")["model"]["groups"]
    gb = partial_premium(lb, kind="holiday")["model"]["groups"]
    gw = partial_premium(whole, kind="holiday")["model"]["groups"]
    assert set(gw) == set(ga) | set(gb)
    for key, stats in gw.items():
        merged = PremiumStats.concat([g[key] for g in (gb, ga) if key in g])
        union = stats.canonical()
        assert list(merged.clusters) == sorted(stats.clusters)
        for name in ("cl_n", "cl_sy", "cl_syy", "cl_sx", "cl_sxx", "cl_sxy", "cell_g", "cell_a", "cell_n",
                     "cell_sy", "cell_sx"):
            np.testing.assert_array_equal(getattr(merged, name), getattr(union, name), err_msg=name)


def test_a_piece_without_distances_is_left_out_when_another_has_them():
    a, b = _orders(2500, 18, seed=3, prefix="a"), _orders(800, 6, seed=4, prefix="b")
    b["distance_km"] = np.nan
    weather = _weather(pd.date_range("2025-09-20", "2025-10-15"))
    la, lb = audit.load_logs(orders=a, weather=weather), audit.load_logs(orders=b, weather=weather)
    whole = audit.load_logs(orders=pd.concat([a, b], ignore_index=True), weather=weather)
    expected = check_premium(whole, kind="holiday")
    assert f"0 orders with pay <= 0 or missing, {len(b)} with distance <= 0 or missing" in \
        expected.iloc[0]["detail"]
    assert expected.iloc[0]["n_obs"] == len(a)
    pa, pb = partial_premium(la, kind="holiday"), partial_premium(lb, kind="holiday")
    assert pb["model"]["x"] == ("holiday", "weather")  # alone it fits without distance
    for order in ([pa, pb], [pb, pa]):
        pd.testing.assert_frame_equal(finish_premium(order, whole, kind="holiday"), expected,
                                      check_exact=True)
    alone = finish_premium([pb], lb, kind="holiday")
    assert NO_DISTANCE_NOTE in alone.iloc[0]["detail"] and alone.iloc[0]["n_obs"] == len(b)


def test_breakdowns_largest_first_ties_by_label_and_overlapping_weather_kinds():
    rain, heat_rain = (1, ("rainstorm warning",)), (1, ("heat", "rainstorm warning"))
    sizes = {(NORMAL, FAIR): 100, ((1, "Mid-autumn Festival"), FAIR): 7, (NATIONAL, FAIR): 7,
             (NORMAL, HEAT): 5, (NORMAL, rain): 2, (NATIONAL, heat_rain): 4}
    keys = sorted(sizes)
    hol = list(_breakdowns(keys, sizes, "holiday"))
    assert [(lab, n) for lab, _, n in hol] == [("National Day", 11), ("Mid-autumn Festival", 7)]
    assert [k for k in keys if hol[0][1](k)] == [k for k in keys if k[0] in (NORMAL, NATIONAL)]
    wea = list(_breakdowns(keys, sizes, "weather"))
    # heat: 5 + 4 (a day with both kinds counts in each); rainstorm warning: 2 + 4
    assert [(lab, n) for lab, _, n in wea] == [("heat", 9), ("rainstorm warning", 6)]
    assert {k for k in keys if wea[1][1](k)} == {(NORMAL, FAIR), ((1, "Mid-autumn Festival"), FAIR),
                                                  (NATIONAL, FAIR), (NORMAL, rain), (NATIONAL, heat_rain)}
    tie = {(NORMAL, FAIR): 10, ((1, "Qingming"), FAIR): 3, ((1, "Labour Day"), FAIR): 3}
    assert [lab for lab, _, _ in _breakdowns(sorted(tie), tie, "holiday")] == ["Labour Day", "Qingming"]


def test_allowance_mean_does_not_depend_on_the_order_of_the_pieces():
    rng = np.random.default_rng(0)
    sums = rng.uniform(0, 10, 50) / 3
    parts = [{"n": 30, "has_column": True, "n_finite": 25, "n_positive": 20, "worker_sums": sums[:20]},
             {"n": 40, "has_column": True, "n_finite": 40, "n_positive": 1, "worker_sums": sums[20:]}]
    got = _allowance_lens(parts)
    shuffled = [{**parts[1], "worker_sums": sums[20:][::-1]}, {**parts[0], "worker_sums": sums[:20][::-1]}]
    assert got == _allowance_lens(shuffled)
    exact = sum(Fraction(v) for v in sums.tolist())
    assert got["mean"] == pytest.approx(float(exact / 65), rel=1e-15)
    assert got["share"] == 21 / 65 and got["n"] == 65


def _panel(seed: int, n: int = 600, n_workers: int = 25) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"y": rng.normal(1, 0.3, n), "holiday": (rng.random(n) < 0.2).astype(float),
                         "log_dist": rng.normal(0, 1, n), "hour": rng.integers(8, 22, n),
                         "worker": [f"w{i:02d}" for i in rng.integers(0, n_workers, n)]})


def _stats(df: pd.DataFrame) -> PremiumStats:
    return PremiumStats.from_frame(df, y="y", x=["holiday", "log_dist"], category="hour", cluster="worker",
                                   levels=range(24))


def test_concat_is_canonical_and_adds_repeated_clusters_in_part_order():
    df = _panel(1)
    by_worker = [_stats(d) for _, d in df.groupby(df["worker"].str[-1].astype(int) % 3)]
    one = PremiumStats.concat(by_worker)
    other = PremiumStats.concat(by_worker[::-1])
    assert list(one.clusters) == sorted(df["worker"].unique())
    key = one.cell_g * 24 + one.cell_a
    assert (np.diff(key) > 0).all()  # cells by (cluster, level)
    for name in ("cl_sy", "cl_sxx", "cell_sy", "cell_sx", "cell_g"):
        np.testing.assert_array_equal(getattr(one, name), getattr(other, name))
    pd.testing.assert_frame_equal(one.solve(), other.solve(), check_exact=True)
    np.testing.assert_allclose(one.solve()["estimate"], _stats(df).solve()["estimate"], rtol=1e-9)
    # a split by rows: clusters repeat; concat adds them part after part, as merge does
    a, b = _stats(df.iloc[::2]), _stats(df.iloc[1::2])
    both, merged = PremiumStats.concat([a, b]), (a + b).canonical()
    for name in ("cl_n", "cl_sy", "cl_sxx", "cell_n", "cell_sx", "cell_a"):
        np.testing.assert_array_equal(getattr(both, name), getattr(merged, name))
    np.testing.assert_allclose(both.solve()["std_error"], _stats(df).solve()["std_error"], rtol=1e-9)
    with pytest.raises(ValueError) as e:
        PremiumStats.concat([])
    assert str(e.value) == ERR_CONCAT_EMPTY
