"""Mapping profiles for real export layouts: Meituan waybills, NYC TLC HVFHV
trips and LaDe-D courier logs.

The fixtures in ``tests/fixtures/<layout>/`` are written by hand in each
layout (no row comes from real data); every expected value below is worked
out by hand in the comments.  The last tests run ``examples/lade_audit.py``
on the real LaDe sample in ``/work/shared/data`` (read in place, never
copied) and compare it with a plain-pandas computation.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import audit
from audit.checks import CHECKS
from audit.findings import INSUFFICIENT, NOT_RUN
from audit.profiles import NO_WORKER_ID, builtin_profiles, derive_column, load_profile

ROOT = Path(__file__).resolve().parent.parent
FIX = Path(__file__).resolve().parent / "fixtures"
MEITUAN = FIX / "meituan_waybills" / "waybills.csv"
NYC = FIX / "nyc_tlc_hvfhv" / "fhvhv_tripdata.csv"
LADE = FIX / "lade_d" / "delivery_sh.csv"
REAL_LADE = ROOT.parent / "shared" / "data" / "lade-d-shanghai-sample" / "lade_shanghai_sample.csv"

# 1° of arc on the IUGG mean sphere (R = 6371.0088 km): R·π/180 = 111.19508 km
KM_PER_DEG = 111.19508
T = pd.Timestamp


def _by_id(logs, column):
    return logs.orders.set_index("order_id")[column]


def _check_available(check_id: str) -> bool:
    return next(c for c in CHECKS if c.id == check_id).available


# --------------------------------------------------------------------------
# the profiles are shipped and listed
# --------------------------------------------------------------------------


def test_profiles_are_shipped_and_listed(capsys):
    from audit.cli import main

    shipped = builtin_profiles()
    for name in ("meituan_waybills", "nyc_tlc_hvfhv", "lade_d"):
        assert name in shipped
        assert load_profile(name).description
    assert main(["profiles"]) == 0
    out = capsys.readouterr().out
    assert "meituan_waybills" in out and "nyc_tlc_hvfhv" in out and "lade_d" in out
    assert "straight-line" in load_profile("meituan_waybills").description.lower()


# --------------------------------------------------------------------------
# profile features added for these layouts
# --------------------------------------------------------------------------


def test_haversine_e6_reads_micro_degrees():
    # 0.02° of latitude = 0.02 × 111.19508 = 2.22390 km, whatever the scale
    df = pd.DataFrame({"a": [30_000_000], "b": [120_000_000], "c": [30_020_000], "d": [120_000_000]})
    e6 = derive_column(df, "haversine_e6(a, b, c, d)", table="orders", column="distance_km")
    deg = derive_column(df / 1e6, "haversine(a, b, c, d)", table="orders", column="distance_km")
    assert e6.iloc[0] == pytest.approx(0.02 * KM_PER_DEG, abs=1e-5)
    assert e6.iloc[0] == pytest.approx(deg.iloc[0], rel=1e-12)


def test_value_map_matches_integer_cells_and_canonical_name_is_not_duplicated():
    # A Parquet export keeps is_courier_grabbed as integers; "1"/"0" must still match.
    # Meituan's own order_id column gives way to order_id = "waybill_id".
    raw = pd.read_csv(MEITUAN)  # numbers stay numbers
    raw.loc[raw["waybill_id"] == 8002, "is_courier_grabbed"] = 0  # a declined waybill with times
    logs = audit.load_logs(orders=raw, profile="meituan_waybills")
    status = _by_id(logs, "status")
    assert status["8002"] == "cancelled"
    assert status["8001"] == "completed"
    assert "8002" not in set(logs.completed["order_id"])
    assert list(logs.orders.columns).count("order_id") == 1


# --------------------------------------------------------------------------
# Meituan waybills
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def meituan():
    return audit.load_logs(orders=MEITUAN, profile="meituan_waybills")


def test_meituan_times_epoch_seconds_to_cst_and_zero_is_missing(meituan):
    # grab_time 1665977400 = 2022-10-17 03:30:00 UTC = 11:30:00 CST
    acc, pick = _by_id(meituan, "accepted_at"), _by_id(meituan, "picked_up_at")
    dlv, prom = _by_id(meituan, "delivered_at"), _by_id(meituan, "promised_at")
    assert acc["8001"] == T("2022-10-17 11:30:00")
    assert pick["8001"] == T("2022-10-17 11:42:00")
    assert dlv["8001"] == T("2022-10-17 11:58:00")
    assert prom["8001"] == T("2022-10-17 12:05:00")
    assert pd.isna(pick["8002"])            # fetch_time 0: missing, not 1970-01-01
    assert acc.min() > T("2022-01-01")      # no epoch 0 survives anywhere


def test_meituan_waybill_is_the_order_and_declined_waybill_is_set_apart(meituan):
    # order 7003 was declined on waybill 8003 (courier 502, all times 0) and
    # delivered on waybill 8004 by courier 503.  The declined waybill is kept as
    # a cancelled order (it counts for no check), not rejected.
    assert sorted(meituan.completed["order_id"]) == ["8001", "8002", "8004", "8005"]
    declined = meituan.orders[meituan.orders["order_id"] == "8003"].iloc[0]
    assert declined["status"] == "cancelled" and pd.isna(declined["accepted_at"])
    assert meituan.rejected.empty
    assert _by_id(meituan, "worker_id")["8004"] == "503"
    assert meituan.orders["platform"].eq("meituan").all()


def test_meituan_distance_is_haversine_on_micro_degrees(meituan):
    d = _by_id(meituan, "distance_km")
    # 8001: Δlat 0.01° → 0.01 × 111.19508 = 1.11195 km
    assert d["8001"] == pytest.approx(1.111951, abs=1e-5)
    # 8002: Δlng 0.01° at 30° N → 1.11195 × cos 30° = 1.11195 × 0.866025 = 0.962978 km
    assert d["8002"] == pytest.approx(0.962978, abs=1e-5)
    # 8004: Δlat 0.02° → 2.223902 km;  8005: Δlat 0.005° → 0.555975 km
    assert d["8004"] == pytest.approx(2.223902, abs=1e-5)
    assert d["8005"] == pytest.approx(0.555975, abs=1e-5)


def test_meituan_late_verdicts(meituan):
    # 8001 11:58 ≤ 12:05 on time; 8002 12:20 > 12:10 late; 8004 12:25 ≤ 12:30;
    # 8005 13:45 > 13:40 late → 2 of 4 completed orders late (50 %)
    c = meituan.completed.set_index("order_id")
    late = c["delivered_at"] > c["promised_at"]
    assert late.to_dict() == {"8001": False, "8002": True, "8004": False, "8005": True}
    if _check_available("art19.late_rate"):
        res = audit.run_audit(meituan, checks="art19.late_rate", progress=False)
        f = res.check("art19.late_rate")
        platform = f[f["level"] == "platform"]
        assert platform["value"].iloc[0] == pytest.approx(0.5)
        assert platform["n"].iloc[0] == 4


def test_meituan_deadline_checks_have_what_they_need_and_pay_checks_do_not(meituan):
    deadline = [c for c in CHECKS if any("promised_at" in n for n in c.needs)]
    assert {c.id for c in deadline} >= {"art19.late_rate", "art19.deadline_percentile"}
    for spec in deadline:
        assert [n for n in spec.needs if meituan.lacks(n)] == [], spec.id
    pay = [c for c in CHECKS if "orders.pay" in c.needs]
    res = audit.run_audit(meituan, checks=[c.id for c in pay], progress=False)
    for spec in pay:
        s = res.summary["checks"][spec.id]
        if s["status"] == NOT_RUN:  # module not written yet: the need is still unmet
            assert meituan.lacks("orders.pay") == "no orders.pay values"
            continue
        assert s["status"] == INSUFFICIENT, spec.id
        assert "orders.pay" in s["reason"], spec.id
        assert res.check(spec.id)["value"].isna().all()  # no zero, no guess


def test_meituan_daily_hours_on_engaged_time(meituan):
    # courier 501: [11:30, 11:58] ∪ [11:40, 12:20] = 11:30–12:20 = 50 min
    # courier 502: [13:00, 13:45] = 45 min (its declined waybill has no time)
    # courier 503: [11:50, 12:25] = 35 min
    res = audit.run_audit(meituan, checks="art14.daily_hours", progress=False)
    f = res.check("art14.daily_hours").set_index("subject")
    assert f.loc["501", "value"] == pytest.approx(50 / 60, abs=1e-4)
    assert f.loc["502", "value"] == pytest.approx(45 / 60, abs=1e-4)
    assert f.loc["503", "value"] == pytest.approx(35 / 60, abs=1e-4)
    assert set(f["period_start"]) == {"2022-10-17"}
    assert (f["status"] == "ok").all() and (f["metric"] == "engaged_hours").all()


# --------------------------------------------------------------------------
# NYC TLC high-volume for-hire trips
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nyc():
    return audit.load_logs(orders=NYC, profile="nyc_tlc_hvfhv")


def test_nyc_new_york_time_to_cst(nyc):
    acc, pick, dlv = (_by_id(nyc, c) for c in ("accepted_at", "picked_up_at", "delivered_at"))
    # trip 1, July (EDT, UTC−4 → CST +12 h): 08:02:10 → 20:02:10 the same day
    assert acc["1"] == T("2023-07-14 20:02:10")
    assert pick["1"] == T("2023-07-14 20:09:00")
    assert dlv["1"] == T("2023-07-14 20:31:00")
    # trip 2, January (EST, UTC−5 → +13 h): 23:50 Jan 10 → 12:50 Jan 11; the New York
    # trip crosses midnight (dropoff 00:20 Jan 11), in CST both ends fall on Jan 11
    assert acc["2"] == T("2023-01-11 12:50:00")
    assert dlv["2"] == T("2023-01-11 13:20:00")
    # trip 3, 12 March 2023, clocks spring forward at 02:00: request 01:50 EST = 06:50 UTC
    # = 14:50 CST; dropoff 03:20 EDT = 07:20 UTC = 15:20 CST: 30 min, not 1 h 30
    assert acc["3"] == T("2023-03-12 14:50:00")
    assert pick["3"] == T("2023-03-12 14:58:00")
    assert dlv["3"] == T("2023-03-12 15:20:00")
    # trip 5, 6 Nov 2023 (EST again): 17:00 → 06:00 CST on 7 Nov (the CST day starts
    # at 11:00 New York time in winter)
    assert acc["5"] == T("2023-11-07 06:00:00")
    assert dlv["5"] == T("2023-11-07 06:40:00")


def test_nyc_ambiguous_fall_back_hour_is_rejected_not_guessed(nyc):
    # trip 4 was requested at 01:30 on 5 Nov 2023, an hour that happened twice
    rej = nyc.rejected
    assert len(rej) == 1
    assert rej.loc[0, "line"] == 5 and rej.loc[0, "column"] == "accepted_at"
    assert sorted(nyc.orders["order_id"], key=int) == ["1", "2", "3", "5"]


def test_nyc_miles_money_platform_and_no_worker_ids(nyc):
    km = _by_id(nyc, "distance_km")
    # 1 mile = 1.609344 km: 5 → 8.04672; 3.1 → 4.9889664; 10 → 16.09344; 7.5 → 12.07008
    assert km.to_dict() == pytest.approx({"1": 8.04672, "2": 4.9889664, "3": 16.09344,
                                          "5": 12.07008})
    assert _by_id(nyc, "platform").to_dict() == {"1": "Uber", "2": "Lyft", "3": "Uber", "5": "Uber"}
    assert (nyc.orders["worker_id"] == NO_WORKER_ID).all()
    # USD as given, no conversion: driver_pay, tips, base_passenger_fare
    assert _by_id(nyc, "pay").to_dict() == {"1": 18.5, "2": 12.0, "3": 30.0, "5": 27.0}
    assert _by_id(nyc, "tip").to_dict() == {"1": 3.0, "2": 0.0, "3": 5.0, "5": 0.0}
    assert _by_id(nyc, "customer_price").to_dict() == {"1": 25.0, "2": 16.0, "3": 40.0, "5": 30.0}
    assert nyc.orders["region_code"].isna().all()  # NYC is not in the rules tables


def test_nyc_take_rate_and_pay_per_engaged_hour(nyc):
    c = nyc.completed.set_index("order_id")
    take = (c["customer_price"] - c["pay"] - c["bonus"]) / c["customer_price"]
    # (25 − 18.5)/25 = 0.26; (16 − 12)/16 = 0.25; (40 − 30)/40 = 0.25; (30 − 27)/30 = 0.10
    assert take.to_dict() == pytest.approx({"1": 0.26, "2": 0.25, "3": 0.25, "5": 0.10})
    assert take.median() == pytest.approx(0.25)
    # pay per engaged hour (request → dropoff): 18.5 / (1730 s) = 38.4971 USD/h;
    # 12 / 0.5 h = 24; 30 / 0.5 h (DST: 30 min, not 90) = 60; 27 / (40 min) = 40.5
    hours = (c["delivered_at"] - c["accepted_at"]).dt.total_seconds() / 3600
    rate = c["pay"] / hours
    assert rate.to_dict() == pytest.approx({"1": 38.4971, "2": 24.0, "3": 60.0, "5": 40.5}, abs=1e-4)
    if _check_available("art19.take_rate"):
        res = audit.run_audit(nyc, checks="art19.take_rate", progress=False)
        assert "cannot run" not in str(res.summary["checks"]["art19.take_rate"].get("reason", ""))


def test_nyc_parquet_datetimes_read_the_same(tmp_path, nyc):
    raw = pd.read_csv(NYC)
    for col in ("request_datetime", "on_scene_datetime", "pickup_datetime", "dropoff_datetime"):
        raw[col] = pd.to_datetime(raw[col])  # as the TLC's Parquet files store them
    path = tmp_path / "fhvhv_tripdata_2023.parquet"
    raw.to_parquet(path)
    logs = audit.load_logs(orders=path, profile="nyc_tlc_hvfhv")
    for col in ("accepted_at", "picked_up_at", "delivered_at"):
        assert _by_id(logs, col).to_dict() == _by_id(nyc, col).to_dict()
    assert len(logs.rejected) == 1 and logs.rejected.loc[0, "line"] == 4  # Parquet rows count from 1


def test_nyc_per_worker_checks_say_why_they_cannot_run(nyc):
    per_worker = [c.id for c in CHECKS if "worker_ids" in c.needs]
    assert "art12.minimum_wage" in per_worker and "art14.daily_hours" in per_worker
    res = audit.run_audit(nyc, checks=per_worker, progress=False)
    for cid in per_worker:
        s = res.summary["checks"][cid]
        if s["status"] == NOT_RUN:
            continue
        assert s["status"] == INSUFFICIENT, cid
        assert "no worker id" in s["reason"], cid


# --------------------------------------------------------------------------
# LaDe-D
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lade():
    return audit.load_logs(orders=LADE, profile="lade_d")


def test_lade_year_is_supplied_and_region_is_shanghai(lade):
    acc = _by_id(lade, "accepted_at")
    assert acc["90001"] == T("2022-06-04 08:00:00")
    assert acc["90008"] == T("2022-10-31 09:00:00")
    assert (lade.orders["region_code"] == "310000").all()
    assert lade.orders["pay"].isna().all() and "promised_at" not in lade.orders
    assert len(lade.rejected) == 0


# courier-day: (span first accept → last delivery, engaged hours, daily verdict, longest block)
#  901 06-04: A 08:00–09:30 ∪ B 09:00–11:00 = 3 h, C 13:00–14:00 = 1 h → 4 h ok;
#             blocks: A∪B 3 h, gap 2 h, C 1 h → longest 3 h ok
#  901 06-05: D 07:00–12:30 ∪ E 12:00–18:40 = 11 h 40 → 11.6667 h risk (> 10, ≤ 12);
#             one block of 11.6667 h → violation (> 4 h)
#  902 06-04: F 06:00–13:00 (7 h) + G 13:10–19:30 (6 h 20) = 13.3333 h violation;
#             gap 10 min < 20 → one block 06:00–19:30 = 13.5 h violation
#  902 10-31: H 09:00–10:00 = 1 h ok; block 1 h ok
LADE_DAYS = {
    ("901", "2022-06-04"): ("08:00", "14:00", 4.0, "ok", 3.0, "ok"),
    ("901", "2022-06-05"): ("07:00", "18:40", 35 / 3, "risk", 35 / 3, "violation"),
    ("902", "2022-06-04"): ("06:00", "19:30", 40 / 3, "violation", 13.5, "violation"),
    ("902", "2022-10-31"): ("09:00", "10:00", 1.0, "ok", 1.0, "ok"),
}


def test_lade_working_time_checks_on_engaged_time(lade):
    res = audit.run_audit(lade, checks=["art14.daily_hours", "art14.continuous_work"],
                          progress=False)
    daily = res.check("art14.daily_hours").set_index(["subject", "period_start"])
    blocks = res.check("art14.continuous_work").set_index(["subject", "period_start"])
    assert set(daily.index) == set(LADE_DAYS) == set(blocks.index)
    for key, (_, _, hours, verdict, block, block_verdict) in LADE_DAYS.items():
        assert daily.loc[key, "value"] == pytest.approx(hours, abs=1e-4), key
        assert daily.loc[key, "status"] == verdict, key
        assert blocks.loc[key, "value"] == pytest.approx(block, abs=1e-4), key
        assert blocks.loc[key, "status"] == block_verdict, key
    assert "no sessions table" in daily["detail"].iloc[0]
    assert res.summary["time_base"].startswith("engaged")


def _example():
    spec = importlib.util.spec_from_file_location("lade_audit", ROOT / "examples" / "lade_audit.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_lade_example_on_the_fixture():
    days, _ = _example().courier_days(LADE)
    assert list(zip(days["courier"], days["day"].dt.strftime("%Y-%m-%d"))) == sorted(LADE_DAYS)
    for row in days.itertuples():
        first, last, hours, verdict, _, _ = LADE_DAYS[(row.courier, row.day.strftime("%Y-%m-%d"))]
        assert row.first_accept.strftime("%H:%M") == first
        assert row.last_delivery.strftime("%H:%M") == last
        assert row.engaged_hours == pytest.approx(hours, abs=1e-9)
        assert row.daily_hours_status == verdict


def test_lade_example_reports_a_missing_file(tmp_path, capsys):
    assert _example().main([str(tmp_path / "absent.csv")]) == 1
    assert "not found" in capsys.readouterr().err


# --------------------------------------------------------------------------
# the real LaDe sample, against a plain-pandas computation
# --------------------------------------------------------------------------


def _independent_courier_days(path: Path, year: int) -> pd.DataFrame:
    """Spans and engaged hours per courier-day, the slow obvious way."""
    raw = pd.read_csv(path, dtype=str)
    acc = pd.to_datetime(f"{year}-" + raw["accept_time"], format="%Y-%m-%d %H:%M:%S")
    dlv = pd.to_datetime(f"{year}-" + raw["delivery_time"], format="%Y-%m-%d %H:%M:%S")
    t = pd.DataFrame({"courier": raw["courier_id"], "acc": acc, "dlv": dlv})
    spans = (t.assign(day=t["acc"].dt.normalize()).groupby(["courier", "day"])
             .agg(first_accept=("acc", "min"), last_delivery=("dlv", "max"), orders=("acc", "size")))
    hours = {}
    day_ns = 86_400 * 10**9
    for courier, g in t.groupby("courier"):
        a = g["acc"].to_numpy().astype("datetime64[ns]").astype(np.int64)
        b = g["dlv"].to_numpy().astype("datetime64[ns]").astype(np.int64)
        for d0 in range(a.min() // day_ns, b.max() // day_ns + 1):  # every day touched
            lo, hi = d0 * day_ns, (d0 + 1) * day_ns
            s, e = np.clip(a, lo, hi), np.clip(b, lo, hi)
            iv = sorted((x, y) for x, y in zip(s, e) if y > x)
            total, cur_s, cur_e = 0, None, None
            for x, y in iv:  # merge overlapping intervals
                if cur_e is None or x > cur_e:
                    if cur_e is not None:
                        total += cur_e - cur_s
                    cur_s, cur_e = x, y
                else:
                    cur_e = max(cur_e, y)
            if cur_e is not None:
                total += cur_e - cur_s
            if total > 0:
                hours[(courier, pd.Timestamp(lo))] = total / 1e9 / 3600
    out = spans.join(pd.Series(hours, name="engaged_hours").rename_axis(["courier", "day"]),
                     how="outer").reset_index()
    secs = out["engaged_hours"] * 3600
    out["verdict"] = np.where(secs > 12 * 3600, "violation", np.where(secs > 10 * 3600, "risk", "ok"))
    return out


@pytest.mark.skipif(not REAL_LADE.is_file(), reason="the real LaDe sample is not present")
def test_lade_example_on_the_real_sample_matches_plain_pandas():
    days, result = _example().courier_days(REAL_LADE)
    ref = _independent_courier_days(REAL_LADE, load_profile("lade_d").year)
    assert len(days) == len(ref) > 500
    m = days.merge(ref, on=["courier", "day"], how="outer", suffixes=("", "_ref"), indicator=True)
    assert (m["_merge"] == "both").all()
    assert (m["first_accept"] == m["first_accept_ref"]).all()
    assert (m["last_delivery"] == m["last_delivery_ref"]).all()
    assert (m["orders"] == m["orders_ref"]).all()
    assert np.allclose(m["engaged_hours"], m["engaged_hours_ref"], atol=1e-9)
    assert (m["daily_hours_status"] == m["verdict"]).all()
    assert result.logs.orders.shape[0] == 5000 and len(result.logs.rejected) == 0
    # the sample holds long days: the verdicts are not all "ok"
    assert (m["verdict"] != "ok").any()


# --------------------------------------------------------------------------
# a whole audit runs on each layout
# --------------------------------------------------------------------------


@pytest.mark.parametrize("path, profile", [(MEITUAN, "meituan_waybills"), (NYC, "nyc_tlc_hvfhv"),
                                           (LADE, "lade_d")])
def test_full_audit_runs_on_each_layout(tmp_path, path, profile):
    res = audit.run_audit(orders=path, profile=profile, progress=False, out=tmp_path)
    assert set(res.summary["checks"]) == {c.id for c in CHECKS}
    assert res.summary["profile"] == profile
    assert (tmp_path / "findings.csv").is_file()
