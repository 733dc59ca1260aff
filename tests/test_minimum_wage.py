"""art12.minimum_wage and its engaged-time twin, on logs worked out by hand."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import audit
from audit.checks.art12_minimum_wage import check_minimum_wage

ORDERS = """order_id,worker_id,region,accepted_at,delivered_at,pay,bonus,tip,allowance,penalty,status
a1,A,shijiazhuang,2025-09-29 08:10:00,2025-09-29 08:40:00,20,5,100,0,2,completed
a2,A,shijiazhuang,2025-09-30 09:00:00,2025-09-30 09:30:00,20,5,0,8,2,completed
a3,A,石家庄,2025-10-01 10:00:00,2025-10-01 10:30:00,20,5,0,0,2,completed
a4,A,shijiazhuang,2025-10-01 11:00:00,2025-10-01 11:30:00,1000,0,0,0,0,cancelled
b1,B,130123,2025-11-24 10:00:00,2025-11-24 11:00:00,115,0,0,0,0,completed
b2,B,正定县,2025-11-25 10:00:00,2025-11-25 11:00:00,115,0,0,0,0,completed
b3,B,130123,2025-12-01 10:00:00,2025-12-01 11:00:00,115,0,0,0,0,completed
b4,B,130123,2025-12-02 10:00:00,2025-12-02 11:00:00,115,0,0,0,0,completed
"""
SESSIONS = """worker_id,login_at,logout_at
A,2025-09-29 08:00:00,2025-09-29 12:00:00
A,2025-09-29 11:00:00,2025-09-29 13:00:00
A,2025-10-05 23:00:00,2025-10-06 01:00:00
B,2025-11-24 10:00:00,2025-11-24 15:00:00
B,2025-11-25 10:00:00,2025-11-25 15:00:00
B,2025-12-01 10:00:00,2025-12-01 15:00:00
B,2025-12-02 10:00:00,2025-12-02 15:00:00
"""


@pytest.fixture()
def folder(tmp_path):
    (tmp_path / "orders.csv").write_text(ORDERS, encoding="utf-8")
    (tmp_path / "sessions.csv").write_text(SESSIONS, encoding="utf-8")
    return tmp_path


def _row(findings, worker, monday):
    r = findings[(findings["subject"] == worker) & (findings["period_start"] == monday)]
    assert len(r) == 1
    return r.iloc[0]


def test_online_hours_earnings_and_verdicts_by_hand(folder):
    logs = audit.load_logs(folder)
    f = check_minimum_wage(logs, time_base="online")
    # A, week of 09-29: sessions 08-12 and 11-13 merge to 5 h, plus 23:00-24:00 on Sunday = 6 h.
    # Earnings: 3 × (20 + 5 − 2) = 69 (tip, allowance and the cancelled order excluded).
    a = _row(f, "A", "2025-09-29")
    assert a["hours"] == pytest.approx(6.0)
    assert a["earnings"] == pytest.approx(69.0)
    assert a["value"] == pytest.approx(11.5)
    assert a["threshold"] == 22.0 and a["status"] == "violation"
    assert a["shortfall_cny"] == pytest.approx(22 * 6 - 69)
    assert a["n"] == 3 and a["period_end"] == "2025-10-05"
    # A, week of 10-06: only the hour after midnight Sunday→Monday: under 2 h
    a2 = _row(f, "A", "2025-10-06")
    assert a2["hours"] == pytest.approx(1.0) and a2["status"] == "insufficient_data"
    # B in 正定县 (tier 1): 2 × 115 over 10 h = 23/h: above 22 before 2025-12-01 …
    b1 = _row(f, "B", "2025-11-24")
    assert (b1["value"], b1["threshold"], b1["status"]) == (23.0, 22.0, "ok")
    # … and below the new 24/h standard in force from Monday 2025-12-01
    b2 = _row(f, "B", "2025-12-01")
    assert (b2["value"], b2["threshold"], b2["status"]) == (23.0, 24.0, "violation")
    assert b2["shortfall_cny"] == pytest.approx(10.0)


def test_engaged_twin_is_the_lenient_bound(folder):
    f = check_minimum_wage(audit.load_logs(folder), time_base="engaged")
    a = _row(f, "A", "2025-09-29")
    # engaged: three 30-minute orders = 1.5 h → under 2 h → insufficient
    assert a["hours"] == pytest.approx(1.5) and a["status"] == "insufficient_data"
    b = _row(f, "B", "2025-11-24")
    assert b["hours"] == pytest.approx(2.0) and b["value"] == pytest.approx(115.0)
    assert b["metric"] == "earnings_per_engaged_hour"


def test_without_sessions_online_check_uses_engaged_time_and_says_so(tmp_path):
    (tmp_path / "orders.csv").write_text(ORDERS, encoding="utf-8")
    f = check_minimum_wage(audit.load_logs(tmp_path), time_base="online")
    assert f["detail"].str.contains("no sessions table").all()
    assert (f["metric"] == "earnings_per_engaged_hour").all()


def test_summary_figures_and_run_outputs(folder, tmp_path):
    out = tmp_path / "out"
    res = audit.run_audit(folder, checks="art12.minimum_wage", out=out, charts=False)
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))["checks"]["art12.minimum_wage"]
    # assessed: A week1 (violation), B two weeks (ok, violation); A week2 insufficient
    assert s == {"status": "violation", "n": 3, "worker_periods": 3, "insufficient": 1,
                 "below_minimum": 2, "share_below": round(2 / 3, 6), "shortfall_cny": 73.0}
    written = pd.read_csv(out / "findings.csv")
    assert list(written.columns) == audit.FINDINGS_COLUMNS
    assert len(written) == 4 and len(res.findings) == 4


def test_two_runs_give_identical_bytes(folder, tmp_path):
    for name in ("r1", "r2"):
        audit.run_audit(folder, out=tmp_path / name, charts=False)
    for f in ("findings.csv", "summary.json", "rejected_rows.csv"):
        assert (tmp_path / "r1" / f).read_bytes() == (tmp_path / "r2" / f).read_bytes()


def test_independent_pandas_reference_on_random_logs(tmp_path):
    """A slow, obvious implementation (minute occupancy) agrees with the vectorised one."""
    rng = np.random.default_rng(7)
    rows, sess = [], []
    start = np.datetime64("2025-09-15T00:00")
    for w in range(12):
        for d in range(21):
            if rng.random() < 0.3:
                continue
            t0 = start + np.timedelta64(d * 1440 + int(rng.integers(360, 900)), "m")
            length = int(rng.integers(30, 600))
            sess.append((f"w{w}", t0, t0 + np.timedelta64(length, "m")))
            for k in range(int(rng.integers(0, 8))):
                a = t0 + np.timedelta64(int(rng.integers(0, length)), "m")
                rows.append((f"o{w}-{d}-{k}", f"w{w}", "shijiazhuang", a,
                             a + np.timedelta64(int(rng.integers(10, 50)), "m"),
                             float(rng.integers(3, 12)), 0.0, 0.0))
    orders = pd.DataFrame(rows, columns=["order_id", "worker_id", "region", "accepted_at",
                                         "delivered_at", "pay", "bonus", "penalty"])
    sessions = pd.DataFrame(sess, columns=["worker_id", "login_at", "logout_at"])
    f = check_minimum_wage(audit.load_logs(orders=orders, sessions=sessions))
    # reference: occupied minutes per worker and ISO week
    occ = {(w, m) for w, a, b in sess for m in range(int((a - start) / np.timedelta64(1, "m")),
                                                         int((b - start) / np.timedelta64(1, "m")))}
    occ = pd.DataFrame(list(occ), columns=["w", "m"])
    occ["week"] = occ["m"] // (7 * 1440)
    hours = occ.groupby(["w", "week"]).size() / 60
    orders["week"] = ((orders["accepted_at"] - start) / pd.Timedelta(days=7)).astype(int)
    earn = orders.groupby(["worker_id", "week"])["pay"].sum()
    ref = pd.concat([hours.rename("h"), earn.rename_axis(["w", "week"]).rename("e")], axis=1).fillna(0)
    ref["status"] = np.where(ref["h"] < 2, "insufficient_data",
                             np.where(ref["e"] / ref["h"] < 22, "violation", "ok"))
    f["week"] = ((pd.to_datetime(f["period_start"]) - pd.Timestamp(start)) / pd.Timedelta(days=7)).astype(int)
    got = f.set_index(["subject", "week"])["status"].sort_index()
    ref.index.names = ["subject", "week"]
    assert got.to_dict() == ref["status"].sort_index().to_dict()
