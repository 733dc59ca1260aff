"""Article-19 strictest-algorithm indicators (part A) on logs worked out by hand."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

import audit
from audit.checks import art19_deadline_percentile as dp
from audit.checks import art19_required_speed as rs
from audit.checks.art19_deadline_ratchet import check_deadline_ratchet
from audit.checks.art19_late_rate import check_late_rate
from audit.checks.art19_pay_opacity import check_pay_opacity
from audit.checks.art19_penalty_intensity import check_penalty_intensity
from audit.checks.art19_penalty_intensity import summarize as penalty_summary
from audit.checks.art19_take_rate import check_take_rate

T0 = pd.Timestamp("2025-09-16 10:00:00")  # a Tuesday, no holiday
MIN = pd.Timedelta(minutes=1)
SEC = pd.Timedelta(seconds=1)


def _orders(rows: list[dict]) -> pd.DataFrame:
    """Orders with defaults for what a test does not care about."""
    base = {"region": "shijiazhuang", "pay": 6.0, "distance_km": 2.0, "status": "completed"}
    df = pd.DataFrame([{**base, **r} for r in rows])
    df.insert(0, "order_id", [f"o{i}" for i in range(len(df))])
    return df


def _platform(f):
    r = f[f["level"] == "platform"]
    assert len(r) == 1
    return r.iloc[0]


# -- art19.late_rate ------------------------------------------------------------------------
def _late_logs():
    rows = []
    # A: 20 orders with a deadline; 3 late by a second or more, one delivered exactly at the deadline
    for i in range(20):
        acc = T0 + i * pd.Timedelta(hours=1)
        late = i < 3
        rows.append({"worker_id": "A", "accepted_at": acc, "promised_at": acc + 30 * MIN,
                     "delivered_at": acc + 30 * MIN + (SEC if late else (0 * SEC if i == 3 else -MIN))})
    # A also: a cancelled late order and a completed order without a deadline (both outside)
    rows.append({"worker_id": "A", "accepted_at": T0, "promised_at": T0 + MIN,
                 "delivered_at": T0 + 9 * MIN, "status": "cancelled"})
    rows.append({"worker_id": "A", "accepted_at": T0, "promised_at": pd.NaT, "delivered_at": T0 + 99 * MIN})
    # B: 10 orders, 5 late
    for i in range(10):
        acc = T0 + pd.Timedelta(days=1) + i * pd.Timedelta(hours=1)
        rows.append({"worker_id": "B", "accepted_at": acc, "promised_at": acc + 20 * MIN,
                     "delivered_at": acc + (25 if i < 5 else 15) * MIN})
    return audit.load_logs(orders=_orders(rows))


def test_late_rate_by_hand():
    f = check_late_rate(_late_logs())
    p = _platform(f)
    # 3 + 5 late of 20 + 10 completed orders with a deadline (on-the-second delivery is on time)
    assert p["n"] == 30 and p["late_orders"] == 8 and p["value"] == pytest.approx(8 / 30, abs=1e-6)
    assert p["status"] == "risk"
    # the clustered SE is statsmodels' cluster-robust SE of a constant-only OLS
    y = np.r_[np.ones(3), np.zeros(17), np.ones(5), np.zeros(5)]
    g = np.r_[np.zeros(20), np.ones(10)]
    m = sm.OLS(y, np.ones(30)).fit(cov_type="cluster", cov_kwds={"groups": g})
    assert p["se"] == pytest.approx(m.bse[0], rel=1e-10)
    assert p["ci_low"] < 8 / 30 < p["ci_high"]
    w = f[f["level"] == "worker"].set_index("subject")
    assert (w.loc["A", "n"], w.loc["A", "value"], w.loc["A", "status"]) == (20, 0.15, "risk")
    # B has 10 < 20 orders: insufficient, though its share is shown
    assert (w.loc["B", "n"], w.loc["B", "value"], w.loc["B", "status"]) == (10, 0.5, "insufficient_data")
    lo, hi = w.loc["A", "ci_low"], w.loc["A", "ci_high"]
    z = stats.norm.ppf(0.975)
    centre = (0.15 + z * z / 40) / (1 + z * z / 20)
    assert (lo + hi) / 2 == pytest.approx(centre)
    summary = audit.checks.art19_late_rate.summarize(f)
    assert summary["value"] == pytest.approx(0.266667) and summary["workers_at_risk"] == 1
    assert summary["workers_insufficient"] == 1 and summary["regions_at_risk"] == ["130100"]


def test_late_rate_thresholds_are_overridable():
    f = check_late_rate(_late_logs(), thresholds={"late_rate_risk": 0.3, "late_rate_min_orders": 5})
    assert _platform(f)["status"] == "ok"
    w = f[f["level"] == "worker"].set_index("subject")
    assert w.loc["B", "status"] == "risk" and w.loc["A", "status"] == "ok"


# -- art19.deadline_percentile --------------------------------------------------------------
def _deadline_logs():
    rows = []
    # cell 1 (band 2, hour 10): actual durations 1..20 min, every allowance exactly 10 min
    for i in range(20):
        acc = T0 + pd.Timedelta(days=i)
        rows.append({"worker_id": f"w{i % 4}", "accepted_at": acc, "distance_km": 2.3,
                     "delivered_at": acc + (i + 1) * MIN, "promised_at": acc + 10 * MIN})
    # cell 2 (band 2, hour 11): actual 1..20 min, allowance 12.5 min → 12 strictly below: 60.0
    for i in range(20):
        acc = T0 + pd.Timedelta(hours=1) + pd.Timedelta(days=i)
        rows.append({"worker_id": f"w{i % 4}", "accepted_at": acc, "distance_km": 2.9,
                     "delivered_at": acc + (i + 1) * MIN, "promised_at": acc + 750 * SEC})
    # cell 3 (band 3, hour 10): 5 orders, too few: left out
    for i in range(5):
        acc = T0 + pd.Timedelta(days=i)
        rows.append({"worker_id": "w9", "accepted_at": acc, "distance_km": 3.0,
                     "delivered_at": acc + 30 * MIN, "promised_at": acc + MIN})
    return audit.load_logs(orders=_orders(rows))


def test_deadline_percentile_by_hand():
    logs = _deadline_logs()
    per = dp.order_percentiles(logs)
    # cell 1: (9 below + 0.5 × 1 equal) / 20 = 47.5 for each order; cell 2: 12/20 = 60
    assert sorted(per["percentile"].dropna().unique()) == [47.5, 60.0]
    assert per["percentile"].isna().sum() == 5
    f = dp.check_deadline_percentile(logs)
    p = _platform(f)
    # median of 20 × 47.5 and 20 × 60 (even count: mean of the two middle values)
    assert p["value"] == pytest.approx((47.5 + 60) / 2)
    assert p["status"] == "risk" and p["n"] == 40 and p["cells"] == 2
    assert p["orders_in_small_cells"] == 5
    assert 47.5 <= p["ci_low"] <= p["value"] <= p["ci_high"] <= 60
    s = dp.summarize(f)
    assert s["value"] == pytest.approx(53.75) and s["n"] == 40


def test_deadline_percentile_violation_and_cell_floor():
    logs = _deadline_logs()
    # with cells of 5 allowed the platform median moves: 5 orders at 0 percentile join
    f = dp.check_deadline_percentile(logs, thresholds={"deadline_cell_min_orders": 5})
    assert _platform(f)["n"] == 45 and _platform(f)["value"] == pytest.approx(47.5)
    assert _platform(f)["status"] == "violation"


def test_deadline_cells_table():
    c = dp.deadline_cells(_deadline_logs()).set_index(["band", "hour"])
    assert c.loc[(2, 10), "n"] == 20 and c.loc[(2, 10), "median_actual_min"] == pytest.approx(10.5)
    assert c.loc[(2, 10), "median_allowance_min"] == pytest.approx(10.0)
    assert c.loc[(2, 11), "median_allowance_min"] == pytest.approx(12.5)
    assert not c.loc[(3, 10), "included"] and c.loc[(3, 10), "distance_from_km"] == 3.0


# -- art19.required_speed -------------------------------------------------------------------
def _speed_rows():
    rows = []
    for i in range(36):  # 2 km in 20 min: 6 km/h
        acc = T0 + i * pd.Timedelta(hours=1)
        rows.append({"worker_id": f"e{i % 3}", "accepted_at": acc, "picked_up_at": acc + 5 * MIN,
                     "promised_at": acc + 25 * MIN, "delivered_at": acc + 20 * MIN})
    for sec in (360, 359, 0, -60):  # 2.5 km: exactly 25 km/h (allowed), just over, at pickup, before
        acc = T0 + pd.Timedelta(days=3, seconds=sec + 1000)
        rows.append({"worker_id": "e0", "accepted_at": acc, "picked_up_at": acc + 5 * MIN,
                     "promised_at": acc + 5 * MIN + sec * SEC, "delivered_at": acc + 20 * MIN,
                     "distance_km": 2.5})
    for i in range(10):  # a car driver's orders: 8 km in 6 min, not judged by the e-bike limit
        acc = T0 + i * pd.Timedelta(hours=1)
        rows.append({"worker_id": "car1", "accepted_at": acc, "picked_up_at": acc,
                     "promised_at": acc + 6 * MIN, "delivered_at": acc + 6 * MIN, "distance_km": 8.0})
    return _orders(rows)


WORKERS = pd.DataFrame({"worker_id": ["e0", "e1", "e2", "car1"],
                        "vehicle": ["ebike", "ebike", "ebike", "car"]})


def test_required_speed_boundary_by_hand():
    f = rs.check_required_speed(audit.load_logs(orders=_speed_rows(), workers=WORKERS))
    p = _platform(f)
    # 3 of 40 e-bike orders exceed (359 s, at pickup, before pickup); 360 s = 25.0 km/h is allowed
    assert p["n"] == 40 and p["exceeding_orders"] == 3 and p["at_or_before_pickup"] == 2
    assert p["value"] == pytest.approx(0.075) and p["status"] == "violation"
    y = np.zeros(40)
    y[[37, 38, 39]] = 1
    g = np.r_[np.arange(36) % 3, [0, 0, 0, 0]]
    m = sm.OLS(y, np.ones(40)).fit(cov_type="cluster", cov_kwds={"groups": g})
    assert p["se"] == pytest.approx(m.bse[0], rel=1e-10)


def test_required_speed_needs_a_vehicle_or_a_delivery_assumption():
    logs = audit.load_logs(orders=_speed_rows())
    f = rs.check_required_speed(logs)
    assert _platform(f)["status"] == "insufficient_data" and _platform(f)["detail"] == rs.NO_VEHICLE
    g = rs.check_required_speed(logs, assume_ebike=True)
    # every order counts now, the car's 10 (80 km/h) too: 13 of 50
    assert _platform(g)["n"] == 50 and _platform(g)["value"] == pytest.approx(13 / 50)


# -- art19.deadline_ratchet -----------------------------------------------------------------
def _ratchet_frame():
    rows = []
    # 3 cells × days 0, 30, 60 × 2 orders: allowances {60, 61}, {45, 46}, {38, 39} minutes
    allow = {0: (60, 61), 30: (45, 46), 60: (38, 39)}
    k = 0
    for cell, (dist, hour) in enumerate([(1.5, 10), (2.5, 10), (1.5, 12)]):
        for day, pair in allow.items():
            for a in pair:
                acc = pd.Timestamp("2025-09-01") + pd.Timedelta(days=day, hours=hour)
                rows.append({"worker_id": f"r{k % 5}", "accepted_at": acc, "distance_km": dist,
                             "promised_at": acc + a * MIN, "delivered_at": acc + 20 * MIN})
                k += 1
    return _orders(rows)


def test_deadline_ratchet_slope_by_hand_and_statsmodels():
    orders = _ratchet_frame()
    f = check_deadline_ratchet(audit.load_logs(orders=orders))
    p = _platform(f)
    # three equally spaced points per cell: OLS slope = (mean log y at t=2 − mean at t=0) / 2
    hand = ((np.log(38) + np.log(39)) / 2 - (np.log(60) + np.log(61)) / 2) / 2
    assert p["value"] == pytest.approx(hand, rel=1e-9)
    assert p["pct_per_30d"] == pytest.approx(100 * (np.exp(hand) - 1))
    assert p["n"] == 18 and p["status"] == "insufficient_data"  # under 30 orders
    g = check_deadline_ratchet(audit.load_logs(orders=orders), thresholds={"premium_min_orders": 10})
    q = _platform(g)
    assert q["status"] == "risk"
    allow_min = (orders["promised_at"] - orders["accepted_at"]).dt.total_seconds() / 60
    d = orders.assign(y=np.log(allow_min),
                      t=(orders["accepted_at"] - orders["accepted_at"].min()).dt.days / 30,
                      cell=orders["distance_km"].astype(str) + orders["accepted_at"].dt.hour.astype(str))
    m = smf.ols("y ~ t + C(cell)", d).fit(cov_type="cluster", cov_kwds={"groups": d["worker_id"]},
                                          use_t=True)
    assert q["value"] == pytest.approx(m.params["t"], rel=1e-9)
    assert q["se"] == pytest.approx(m.bse["t"], rel=1e-9)
    assert q["p_value"] == pytest.approx(m.pvalues["t"], rel=1e-6)


# -- art19.penalty_intensity ----------------------------------------------------------------
def test_penalty_intensity_by_hand():
    sun = pd.Timestamp("2025-09-21 23:59:00")  # Sunday of ISO week 38
    rows = [
        {"worker_id": "A", "accepted_at": sun - pd.Timedelta(days=2), "pay": 100.0, "bonus": 20.0,
         "penalty": 2.0},
        {"worker_id": "A", "accepted_at": sun, "pay": 0.0, "penalty": 10.0},  # 12 / 120 = 0.10: not over
        {"worker_id": "A", "accepted_at": sun + MIN, "pay": 50.0, "penalty": 6.0},  # Monday: 0.12
        {"worker_id": "B", "accepted_at": sun, "pay": 0.0, "penalty": 5.0},  # penalties, no pay
    ]
    orders = _orders(rows).assign(delivered_at=lambda d: d["accepted_at"] + 10 * MIN)
    f = check_penalty_intensity(audit.load_logs(orders=orders))
    got = f.set_index(["subject", "period_start"])
    a1 = got.loc[("A", "2025-09-15")]
    assert (a1["value"], a1["n"], a1["status"]) == (pytest.approx(0.1), 2, "ok")
    a2 = got.loc[("A", "2025-09-22")]
    assert (a2["value"], a2["status"], a2["period_end"]) == (pytest.approx(0.12), "risk", "2025-09-28")
    b = got.loc[("B", "2025-09-15")]
    assert np.isnan(b["value"]) and b["status"] == "risk"
    s = penalty_summary(f)
    assert s["value"] == pytest.approx(2 / 3, abs=1e-6) and s["worker_weeks"] == 3
    assert s["platform_ratio"] == pytest.approx(23 / 170, abs=1e-6)


# -- art19.pay_opacity ----------------------------------------------------------------------
def _opacity_data(rng, n=400, noise=0.1):
    acc = (pd.Timestamp("2025-09-25") + pd.to_timedelta(rng.integers(0, 14 * 24 * 60, n), unit="min"))
    dist = rng.uniform(0.5, 8, n)
    weather = pd.DataFrame({"region": "shijiazhuang",
                            "date": pd.date_range("2025-09-25", "2025-10-09").strftime("%Y-%m-%d"),
                            "t_max_c": 30.0, "t_min_c": 15.0, "warning": ""})
    weather.loc[weather["date"] == "2025-09-27", "t_max_c"] = 36.0
    hol = acc.normalize().isin(pd.date_range("2025-10-01", "2025-10-08"))
    ext = acc.normalize() == pd.Timestamp("2025-09-27")
    pay = np.exp(1.5 + 0.4 * np.log(dist) + 0.05 * (acc.hour % 5) + 0.1 * ext
                 + rng.normal(0, noise, n))
    orders = _orders([{"worker_id": f"w{i % 7}", "accepted_at": a, "delivered_at": a + 20 * MIN,
                       "distance_km": d, "pay": p} for i, (a, d, p) in enumerate(zip(acc, dist, pay))])
    ref = pd.DataFrame({"y": np.log(pay), "ld": np.log(dist), "hour": acc.hour,
                        "hol": hol.astype(float), "ext": ext.astype(float)})
    return orders, weather, ref


def test_pay_opacity_r2_equals_statsmodels():
    orders, weather, ref = _opacity_data(np.random.default_rng(11))
    f = check_pay_opacity(audit.load_logs(orders=orders, weather=weather))
    m = smf.ols("y ~ ld + C(hour) + hol + ext", ref).fit()
    p = _platform(f)
    assert p["value"] == pytest.approx(m.rsquared, abs=1e-6) and p["n"] == 400
    assert p["coef_extreme_weather"] == pytest.approx(m.params["ext"], rel=1e-6)
    assert p["status"] == "ok" and p["ci_low"] < p["value"] < p["ci_high"]


def test_pay_opacity_risk_when_pay_is_noise():
    orders, weather, _ = _opacity_data(np.random.default_rng(12), noise=2.0)
    p = _platform(check_pay_opacity(audit.load_logs(orders=orders, weather=weather)))
    assert p["value"] < 0.5 and p["status"] == "risk"


# -- art19.take_rate ------------------------------------------------------------------------
def test_take_rate_by_hand():
    rates = np.arange(1, 41) / 100  # 0.01 … 0.40
    rows = [{"worker_id": "A", "accepted_at": T0 + i * MIN, "delivered_at": T0 + (i + 9) * MIN,
             "customer_price": 10.0, "pay": 10 * (1 - r) - 0.5, "bonus": 0.5, "tip": 3.0}
            for i, r in enumerate(rates)]
    rows.append({"worker_id": "A", "accepted_at": T0, "delivered_at": T0 + MIN, "customer_price": 0.0,
                 "pay": 5.0})  # no price: no rate
    rows.append({"worker_id": "A", "accepted_at": T0, "delivered_at": T0 + MIN, "customer_price": 10.0,
                 "pay": 0.0, "status": "cancelled"})
    p = _platform(check_take_rate(audit.load_logs(orders=_orders(rows))))
    # P90 at position 0.9 × 39 = 35.1: 0.36 + 0.1 × 0.01
    assert p["n"] == 40 and p["value"] == pytest.approx(0.361)
    assert p["median"] == pytest.approx(0.205)
    assert p["status"] == "risk" and "交运发〔2021〕122号" in p["detail"]
    assert p["share_over_cap"] == pytest.approx(10 / 40)
    lo, hi = round(p["ci_low"] * 100), round(p["ci_high"] * 100)  # ranks, since rates are k/100
    assert stats.binom.cdf(hi - 1, 40, 0.9) - stats.binom.cdf(lo - 1, 40, 0.9) >= 0.95


# -- the sample and the run -----------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("art19")
    audit.run_audit("data_samples/shijiazhuang", checks=[
        "art19.late_rate", "art19.deadline_percentile", "art19.required_speed",
        "art19.deadline_ratchet", "art19.penalty_intensity", "art19.pay_opacity", "art19.take_rate"],
        out=out)
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))["checks"]


def test_sample_injections_are_found(sample_run):
    manifest = json.loads(open("data_samples/shijiazhuang/manifest.json", encoding="utf-8").read())
    inj = manifest["injected"]
    late = sample_run["art19.late_rate"]
    assert late["value"] == pytest.approx(inj["tight_deadlines"]["late_rate"]["platform"], abs=1e-3)
    assert late["regions_at_risk"] == ["130183"]  # 晋州市, the tight region
    dl = sample_run["art19.deadline_percentile"]
    assert dl["regions_violation"] == ["130183"] and dl["status"] == "violation"
    sp = sample_run["art19.required_speed"]
    assert sp["value"] == pytest.approx(inj["required_speed"]["share_over_25kmh"], abs=1e-3)
    assert sp["n"] == inj["required_speed"]["ebike_completed_orders"] and sp["status"] == "risk"
    for check in ("art19.deadline_ratchet", "art19.penalty_intensity", "art19.pay_opacity",
                  "art19.take_rate"):
        assert sample_run[check]["value"] is not None and sample_run[check]["n"] > 0
