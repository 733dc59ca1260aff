"""art12 payment_timeliness and deductions, on payouts worked out by hand."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import audit
from audit.checks.art12_deductions import check_deductions
from audit.checks.art12_deductions import summarize as sum_ded
from audit.checks.art12_payment_timeliness import check_payment_timeliness
from audit.checks.art12_payment_timeliness import summarize as sum_pay

ORDERS = pd.DataFrame({
    "order_id": ["o1", "o2", "o3"], "worker_id": ["L", "F", "N"],
    "region": ["shijiazhuang", "shijiazhuang", "shijiazhuang"],
    "accepted_at": ["2025-09-15 10:00:00"] * 3, "delivered_at": ["2025-09-15 10:30:00"] * 3,
    "pay": [10.0, 10.0, 10.0],
})
WORKERS = pd.DataFrame({
    "worker_id": ["L", "F", "X", "Y", "I"],
    "employment_form": ["labor_contract", "labor_contract", "independent", "written_agreement",
                        "independent"],
    "region": ["shijiazhuang", None, None, None, None],
})
PAYOUTS = pd.DataFrame([
    # timeliness: period ends Sun 2025-09-28; day 30 after it is 2025-10-28
    ("T30", "2025-09-22", "2025-09-28", 100, 0, 100, "2025-10-28 23:59:59"),   # on time
    ("T31", "2025-09-22", "2025-09-28", 100, 0, 100, "2025-10-29 00:00:00"),   # late (day 31)
    ("T31", "2025-09-29", "2025-10-05", 100, 0, 100, "2025-10-06 09:00:00"),   # on time
    # X: exactly 20 % over three payouts whose float sums are not exact: in floats
    # 27.12 + 30.92 + 4.28 = 62.32000000000001 > 0.2 × (135.6 + 154.6 + 21.4 = 311.59999999999997)
    ("X", "2025-09-01", "2025-09-07", 135.60, 27.12, 108.48, "2025-09-10 10:00:00"),
    ("X", "2025-09-08", "2025-09-14", 154.60, 30.92, 123.68, "2025-09-17 10:00:00"),
    ("X", "2025-09-15", "2025-09-21", 21.40, 4.28, 17.12, "2025-09-24 10:00:00"),
    # Y: one cent over 20 %
    ("Y", "2025-09-01", "2025-09-30", 100.00, 20.01, 79.99, "2025-10-05 10:00:00"),
    # L (labor_contract, Shijiazhuang urban: monthly minimum 2200 CNY from 2023-05-01):
    # October (periods ending in October, one starting in September): 16 % deducted, net 2100 < 2200
    ("L", "2025-09-29", "2025-10-05", 1000, 160, 840, "2025-10-08 10:00:00"),
    ("L", "2025-10-06", "2025-10-31", 1500, 240, 1260, "2025-11-03 10:00:00"),
    # November: net 2500 with deductions → ok
    ("L", "2025-11-01", "2025-11-30", 2600, 100, 2500, "2025-12-03 10:00:00"),
    # F (labor_contract, region from its orders): September without deductions, net 1000 → ok
    ("F", "2025-09-01", "2025-09-30", 1000, 0, 1000, "2025-10-03 10:00:00"),
    # I (independent): low net with deductions → only the 20 % rule applies → ok
    ("I", "2025-09-01", "2025-09-30", 1000, 100, 900, "2025-10-03 10:00:00"),
    # N: no workers row → employment form unknown; net missing → gross − deductions
    ("N", "2025-09-01", "2025-09-30", 1000, 250, None, "2025-10-03 10:00:00"),
], columns=["worker_id", "period_start", "period_end", "gross", "deductions", "net", "paid_at"])


@pytest.fixture(scope="module")
def logs():
    return audit.load_logs(orders=ORDERS, workers=WORKERS, payouts=PAYOUTS)


def _row(f, worker, start):
    r = f[(f["subject"] == worker) & (f["period_start"] == start)]
    assert len(r) == 1, (worker, start)
    return r.iloc[0]


def test_payment_on_day_30_is_on_time_and_day_31_is_late(logs):
    f = check_payment_timeliness(logs)
    assert len(f) == len(PAYOUTS)
    ok = _row(f, "T30", "2025-09-22")
    assert ok["status"] == "ok" and ok["value"] == pytest.approx(30 - 1 / 86400)
    late = _row(f, "T31", "2025-09-22")
    assert late["status"] == "violation" and late["value"] == pytest.approx(30.0)
    assert late["deadline"] == pd.Timestamp("2025-10-29 00:00:00") and late["days_late"] == 0
    assert _row(f, "T31", "2025-09-29")["status"] == "ok"
    assert sum_pay(f) == {"status": "violation", "n": 13, "payouts": 13, "late": 1}


def test_deductions_share_boundary(logs):
    f = check_deductions(logs)
    x = _row(f, "X", "2025-09-01")
    assert x["status"] == "ok" and x["gross"] == pytest.approx(311.6) and x["n"] == 3
    assert x["value"] == pytest.approx(0.2) and x["period_end"] == "2025-09-30"
    y = _row(f, "Y", "2025-09-01")
    assert y["status"] == "violation" and bool(y["share_over"])


def test_labor_contract_net_below_monthly_minimum(logs):
    f = check_deductions(logs)
    octo = _row(f, "L", "2025-10-01")
    assert (octo["gross"], octo["deductions"], octo["net"]) == (2500.0, 400.0, 2100.0)
    assert octo["value"] == pytest.approx(0.16) and not octo["share_over"]
    assert octo["monthly_minimum"] == 2200.0 and bool(octo["net_below_minimum"])
    assert octo["status"] == "violation" and octo["region_code"] == "130100"
    assert _row(f, "L", "2025-11-01")["status"] == "ok"
    assert _row(f, "F", "2025-09-01")["status"] == "ok"            # no deductions that month
    i = _row(f, "I", "2025-09-01")
    assert i["status"] == "ok" and np.isnan(i["monthly_minimum"])  # not a labor contract
    n = _row(f, "N", "2025-09-01")
    assert n["net"] == 750.0 and n["status"] == "violation" and "unknown" in n["detail"]
    # worker-months: T30 Sep; T31 Sep, Oct; X, Y Sep; L Oct, Nov; F, I, N Sep = 10
    assert sum_ded(f) == {"status": "violation", "n": 10, "worker_months": 10, "violations": 3,
                          "insufficient": 0}


def test_labor_contract_region_from_orders_when_workers_table_has_none():
    p = pd.DataFrame([("F", "2025-09-01", "2025-09-30", 2000, 10, 1990, "2025-10-03 10:00:00")],
                     columns=PAYOUTS.columns)
    f = check_deductions(audit.load_logs(orders=ORDERS, workers=WORKERS, payouts=p))
    r = _row(f, "F", "2025-09-01")
    assert r["region_code"] == "130100" and r["status"] == "violation"


def test_labor_contract_without_any_region_is_insufficient():
    p = pd.DataFrame([("Z", "2025-09-01", "2025-09-30", 2000, 10, 1990, "2025-10-03 10:00:00")],
                     columns=PAYOUTS.columns)
    w = pd.DataFrame({"worker_id": ["Z"], "employment_form": ["labor_contract"]})
    f = check_deductions(audit.load_logs(orders=ORDERS, workers=w, payouts=p))
    assert f["status"].tolist() == ["insufficient_data"]


def test_independent_reference_on_random_payouts():
    rng = np.random.default_rng(3)
    n = 400
    gross = rng.integers(0, 300_00, n) / 100
    ded = np.where(rng.random(n) < 0.3, np.round(gross * 0.2, 2),
                   rng.integers(0, 80_00, n) / 100)
    end = pd.Timestamp("2025-08-01") + pd.to_timedelta(rng.integers(0, 120, n), unit="D")
    paid = end + pd.to_timedelta(rng.integers(28 * 1440, 33 * 1440, n), unit="min")
    workers = rng.choice(["a", "b", "c", "d"], n)
    p = pd.DataFrame({"worker_id": workers, "period_start": end - pd.Timedelta(days=6),
                      "period_end": end, "gross": gross, "deductions": ded, "net": gross - ded,
                      "paid_at": paid})
    logs = audit.load_logs(orders=ORDERS, payouts=p)
    got = check_payment_timeliness(logs)
    late_ref = (p["paid_at"] >= p["period_end"] + pd.Timedelta(days=31))
    assert got["status"].value_counts().get("violation", 0) == int(late_ref.sum())
    # by-month reference in Python decimals (cents)
    p["month"] = p["period_end"].dt.strftime("%Y-%m-01")
    p["g"] = (p["gross"] * 100).round().astype(int)
    p["d"] = (p["deductions"] * 100).round().astype(int)
    ref = p.groupby(["worker_id", "month"])[["g", "d"]].sum()
    ref_status = {k: ("violation" if 5 * r.d > r.g else "ok") for k, r in ref.iterrows()}
    f = check_deductions(logs)
    assert dict(zip(zip(f["subject"], f["period_start"]), f["status"])) == ref_status


def test_run_summary_figures(tmp_path):
    audit.run_audit(orders=ORDERS, workers=WORKERS, payouts=PAYOUTS, checks="art12.payment_timeliness,"
                    "art12.deductions", out=tmp_path)
    s = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["checks"]
    assert s["art12.payment_timeliness"]["late"] == 1 and s["art12.payment_timeliness"]["payouts"] == 13
    assert s["art12.deductions"]["worker_months"] == 10 and s["art12.deductions"]["violations"] == 3
